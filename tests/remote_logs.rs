//! `--gcp-audit-logs gs://…` and `--azure-activity-logs https://….blob.core.windows.net/…`
//! against a local server on 127.0.0.1 speaking the wire format `object_store` speaks: the
//! Cloud Storage XML API (`GET /BUCKET?list-type=2&prefix=…&delimiter=/&continuation-token=…`
//! answering `ListBucketResult`, <https://cloud.google.com/storage/docs/xml-api/get-bucket-list>;
//! `GET /BUCKET/OBJECT`, <https://cloud.google.com/storage/docs/xml-api/get-object-download>)
//! and the Blob Storage REST API (`GET /CONTAINER?restype=container&comp=list&prefix=…&delimiter=/&marker=…`
//! answering `EnumerationResults`, <https://learn.microsoft.com/en-us/rest/api/storageservices/list-blobs>;
//! `GET /CONTAINER/BLOB`, <https://learn.microsoft.com/en-us/rest/api/storageservices/get-blob>),
//! through Azurite's addressing (`/ACCOUNT/CONTAINER/…`). Listings are served two entries a
//! page, so every listing of more than two entries pages.
//!
//! The demo exports of `recorded-fixtures/` are served and read locally for comparison.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const BUCKET: &str = "sink-bucket";
const ACCOUNT: &str = "logsaccount";
const CONTAINER: &str = "insights-activity-logs";
/// Entries (objects and folders) per listing page.
const PAGE: usize = 2;
const LAST_MODIFIED: &str = "Mon, 30 Nov 2026 06:00:00 GMT";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures")
}

fn gcp_logs() -> PathBuf {
    fixtures().join("gcp-demo/audit-logs")
}

fn azure_logs() -> PathBuf {
    fixtures().join("azure-demo/activity-log/insights-activity-logs")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Gcs,
    Azure,
}

/// What the server holds and how it misbehaves.
#[derive(Debug, Default)]
struct Store {
    objects: BTreeMap<String, Vec<u8>>,
    /// Keys whose download is refused (403).
    refused: BTreeSet<String>,
    /// Every listing is refused (403).
    deny_listing: bool,
}

#[derive(Clone)]
struct Server {
    api: Api,
    store: Arc<Mutex<Store>>,
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Server {
    /// The listing of `prefix` with `/` as delimiter: (key or folder, is a folder), sorted.
    fn entries(&self, prefix: &str) -> Vec<(String, bool)> {
        let store = self.store.lock().unwrap();
        let mut found = BTreeSet::new();
        for key in store.objects.keys() {
            let Some(rest) = key.strip_prefix(prefix) else {
                continue;
            };
            match rest.find('/') {
                Some(end) => found.insert((format!("{prefix}{}", &rest[..=end]), true)),
                None => found.insert((key.clone(), false)),
            };
        }
        found.into_iter().collect()
    }

    fn list(&self, request: &Request) -> ResponseTemplate {
        if self.store.lock().unwrap().deny_listing {
            return ResponseTemplate::new(403).set_body_string(
                "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>\
                 <Message>Access denied.</Message></Error>",
            );
        }
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let prefix = query.get("prefix").cloned().unwrap_or_default();
        let token = match self.api {
            Api::Gcs => query.get("continuation-token"),
            Api::Azure => query.get("marker"),
        };
        let start: usize = token.map_or(0, |token| token.parse().unwrap());
        let entries = self.entries(&prefix);
        let page = &entries[start.min(entries.len())..(start + PAGE).min(entries.len())];
        let next = (start + PAGE < entries.len()).then(|| (start + PAGE).to_string());
        let sizes: BTreeMap<String, usize> = {
            let store = self.store.lock().unwrap();
            page.iter()
                .filter(|(_, folder)| !folder)
                .map(|(key, _)| (key.clone(), store.objects[key].len()))
                .collect()
        };
        let body = match self.api {
            Api::Gcs => {
                let mut xml = format!(
                    "<?xml version='1.0' encoding='UTF-8'?><ListBucketResult \
                     xmlns='http://doc.s3.amazonaws.com/2006-03-01'><Name>{BUCKET}</Name>\
                     <Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{PAGE}</MaxKeys>\
                     <Delimiter>/</Delimiter><IsTruncated>{}</IsTruncated>",
                    escape(&prefix),
                    page.len(),
                    next.is_some()
                );
                for (key, size) in &sizes {
                    xml += &format!(
                        "<Contents><Key>{}</Key><Generation>1</Generation>\
                         <LastModified>2026-11-30T06:00:00.000Z</LastModified>\
                         <ETag>\"e{size}\"</ETag><Size>{size}</Size></Contents>",
                        escape(key)
                    );
                }
                for (folder, _) in page.iter().filter(|(_, folder)| *folder) {
                    xml += &format!(
                        "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                        escape(folder)
                    );
                }
                if let Some(next) = &next {
                    xml += &format!("<NextContinuationToken>{next}</NextContinuationToken>");
                }
                xml + "</ListBucketResult>"
            }
            Api::Azure => {
                let mut xml = format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults \
                     ServiceEndpoint=\"http://127.0.0.1/{ACCOUNT}\" ContainerName=\"{CONTAINER}\">\
                     <Prefix>{}</Prefix><MaxResults>{PAGE}</MaxResults><Delimiter>/</Delimiter><Blobs>",
                    escape(&prefix)
                );
                for (key, size) in &sizes {
                    xml += &format!(
                        "<Blob><Name>{}</Name><Properties><Last-Modified>{LAST_MODIFIED}</Last-Modified>\
                         <Etag>0x8DE{size}</Etag><Content-Length>{size}</Content-Length>\
                         <Content-Type>application/json</Content-Type><BlobType>BlockBlob</BlobType>\
                         </Properties></Blob>",
                        escape(key)
                    );
                }
                for (folder, _) in page.iter().filter(|(_, folder)| *folder) {
                    xml += &format!("<BlobPrefix><Name>{}</Name></BlobPrefix>", escape(folder));
                }
                xml += "</Blobs>";
                if let Some(next) = &next {
                    xml += &format!("<NextMarker>{next}</NextMarker>");
                } else {
                    xml += "<NextMarker />";
                }
                xml + "</EnumerationResults>"
            }
        };
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/xml")
            .set_body_string(body)
    }

    fn get(&self, key: &str) -> ResponseTemplate {
        let store = self.store.lock().unwrap();
        if store.refused.contains(key) {
            return ResponseTemplate::new(403)
                .set_body_string("<Error><Code>AccessDenied</Code></Error>");
        }
        match store.objects.get(key) {
            Some(bytes) => ResponseTemplate::new(200)
                .insert_header("etag", format!("\"e{}\"", bytes.len()).as_str())
                .insert_header("last-modified", LAST_MODIFIED)
                .insert_header("content-type", "application/json")
                .set_body_bytes(bytes.clone()),
            None => {
                ResponseTemplate::new(404).set_body_string("<Error><Code>NoSuchKey</Code></Error>")
            }
        }
    }
}

impl Respond for Server {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let (listing, key) = match self.api {
            Api::Gcs => {
                // `/BUCKET/OBJECT`, each percent-encoded whole (`/` of the name as `%2F`).
                let raw = path.trim_start_matches('/');
                let (bucket, object) = raw.split_once('/').unwrap_or((raw, ""));
                assert_eq!(decode(bucket), BUCKET);
                (object.is_empty(), decode(object))
            }
            Api::Azure => {
                let rest = path
                    .strip_prefix(&format!("/{ACCOUNT}/{CONTAINER}"))
                    .unwrap_or_default();
                let listing = request
                    .url
                    .query_pairs()
                    .any(|(name, value)| name == "comp" && value == "list");
                (listing, decode(rest.trim_start_matches('/')))
            }
        };
        if listing {
            self.list(request)
        } else {
            self.get(&key)
        }
    }
}

/// Every file under `root` (relative path, bytes), keyed under `prefix`.
fn objects(root: &Path, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                found.insert(format!("{prefix}{relative}"), std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

async fn serve(api: Api, objects: BTreeMap<String, Vec<u8>>) -> (MockServer, Arc<Mutex<Store>>) {
    let server = MockServer::start().await;
    let store = Arc::new(Mutex::new(Store {
        objects,
        ..Store::default()
    }));
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(Server {
            api,
            store: store.clone(),
        })
        .mount(&server)
        .await;
    (server, store)
}

/// The environment that points the clients at `server` (and nothing else of this machine's).
fn env(api: Api, server: &MockServer) -> Vec<(&'static str, String)> {
    match api {
        Api::Gcs => vec![(
            "GOOGLE_SERVICE_ACCOUNT_KEY",
            serde_json::json!({
                "private_key": "unused", "private_key_id": "unused",
                "client_email": "reader@example.iam.gserviceaccount.com",
                "disable_oauth": true, "gcs_base_url": server.uri(),
            })
            .to_string(),
        )],
        Api::Azure => vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".to_owned()),
            ("AZURITE_BLOB_STORAGE_URL", server.uri()),
        ],
    }
}

async fn run(dir: &Path, args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(BIN);
        command.current_dir(dir).args(args);
        for name in [
            "GOOGLE_APPLICATION_CREDENTIALS",
            "GOOGLE_SERVICE_ACCOUNT",
            "GOOGLE_SERVICE_ACCOUNT_PATH",
            "SERVICE_ACCOUNT",
            "AZURE_STORAGE_ACCOUNT_NAME",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_TENANT_ID",
        ] {
            command.env_remove(name);
        }
        command.envs(env).output().unwrap()
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| (*arg).to_owned()).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

const GCS_URL: &str = "gs://sink-bucket/exports/org";
const AZURE_URL: &str = "https://logsaccount.blob.core.windows.net/insights-activity-logs";

/// `usage --format json` of `logs` (`--gcp-audit-logs` or `--azure-activity-logs`).
async fn usage(
    flag: &str,
    logs: &str,
    window: (&str, &str),
    env: Vec<(&'static str, String)>,
) -> Output {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        args(&[
            "usage", flag, logs, "--since", window.0, "--until", window.1, "--format", "json",
        ]),
        env,
    )
    .await
}

/// The local read's JSON with the local root written as the URL it was served under: the
/// only difference a remote read may make is that sources are named by their object URL.
fn as_served(local: &Value, root: &Path, url: &str) -> Value {
    let text = local.to_string().replace(&root.display().to_string(), url);
    serde_json::from_str(&text).unwrap()
}

/// (listing prefix, GET key) of every request the server received.
async fn requests(server: &MockServer, api: Api) -> (Vec<String>, Vec<String>) {
    let mut listed = Vec::new();
    let mut fetched = Vec::new();
    for request in server.received_requests().await.unwrap() {
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let is_list = match api {
            Api::Gcs => query.contains_key("list-type"),
            Api::Azure => query.get("comp").is_some_and(|comp| comp == "list"),
        };
        if is_list {
            listed.push(query.get("prefix").cloned().unwrap_or_default());
        } else {
            fetched.push(decode(request.url.path()));
        }
    }
    (listed, fetched)
}

/// Whether a listing or download touched the day `day` of November 2026 (`/2026/11/DD/` of a
/// sink, `/y=2026/m=11/d=DD/` of an export).
fn touches_day(text: &str, day: u32) -> bool {
    text.contains(&format!("/2026/11/{day:02}/")) || text.contains(&format!("/m=11/d={day:02}/"))
}

const WINDOW: (&str, &str) = ("2026-11-17T00:00:00Z", "2026-11-19T00:00:00Z");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_bucket_read_gives_the_local_copys_usage_without_listing_days_outside_the_window() {
    let (server, _) = serve(Api::Gcs, objects(&gcp_logs(), "exports/org/")).await;
    let remote = usage("--gcp-audit-logs", GCS_URL, WINDOW, env(Api::Gcs, &server)).await;
    let local = usage(
        "--gcp-audit-logs",
        gcp_logs().to_str().unwrap(),
        WINDOW,
        vec![],
    )
    .await;
    let (remote, local) = (json(&remote), json(&local));
    assert!(
        local["coverage"]["entries_in_window"].as_u64().unwrap() > 0,
        "{local}"
    );
    assert_eq!(remote, as_served(&local, &gcp_logs(), GCS_URL));

    let (listed, fetched) = requests(&server, Api::Gcs).await;
    // The window's days with a day of slack each side: 16 .. 19; never 14, 15 or 20.
    for day in [14, 15, 20] {
        assert!(
            !listed
                .iter()
                .chain(&fetched)
                .any(|text| touches_day(text, day)),
            "day {day} touched: {listed:?} {fetched:?}"
        );
    }
    assert!(
        listed.iter().any(|prefix| touches_day(prefix, 17)),
        "{listed:?}"
    );
    assert!(
        fetched.iter().any(|key| touches_day(key, 18)),
        "{fetched:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_container_read_gives_the_local_copys_usage_without_listing_hours_outside_the_window()
 {
    let (server, _) = serve(Api::Azure, objects(&azure_logs(), "")).await;
    let remote = usage(
        "--azure-activity-logs",
        AZURE_URL,
        WINDOW,
        env(Api::Azure, &server),
    )
    .await;
    let local = usage(
        "--azure-activity-logs",
        azure_logs().to_str().unwrap(),
        WINDOW,
        vec![],
    )
    .await;
    let (remote, local) = (json(&remote), json(&local));
    assert!(
        local["coverage"]["operations"].as_u64().unwrap() > 0,
        "{local}"
    );
    assert_eq!(remote, as_served(&local, &azure_logs(), AZURE_URL));

    let (listed, fetched) = requests(&server, Api::Azure).await;
    // An hour of slack each side: 11-16 23:00 and 11-19 00:00 may be read, no other hour.
    for day in [14, 15, 20] {
        assert!(
            !listed
                .iter()
                .chain(&fetched)
                .any(|text| touches_day(text, day)),
            "day {day} touched: {listed:?} {fetched:?}"
        );
    }
    // Day 16 is listed for its last hour, but its hours (06 .. 20) all end before 23:00.
    assert!(
        listed.iter().any(|prefix| prefix.ends_with("/m=11/d=16/")),
        "{listed:?}"
    );
    assert!(
        !listed
            .iter()
            .chain(&fetched)
            .any(|text| text.contains("/d=16/h=")),
        "{listed:?} {fetched:?}"
    );
    assert!(
        fetched.iter().any(|key| touches_day(key, 18)),
        "{fetched:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_of_many_pages_are_followed_to_the_last_page() {
    for (api, flag, url, root, prefix) in [
        (
            Api::Gcs,
            "--gcp-audit-logs",
            GCS_URL,
            gcp_logs(),
            "exports/org/",
        ),
        (
            Api::Azure,
            "--azure-activity-logs",
            AZURE_URL,
            azure_logs(),
            "",
        ),
    ] {
        let (server, _) = serve(api, objects(&root, prefix)).await;
        // Every file of the export: the hour folders hold one file, the day folders 24.
        let all = ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        let remote = json(&usage(flag, url, all, env(api, &server)).await);
        let local = json(&usage(flag, root.to_str().unwrap(), all, vec![]).await);
        assert_eq!(remote, as_served(&local, &root, url), "{api:?}");
        let token = match api {
            Api::Gcs => "continuation-token",
            Api::Azure => "marker",
        };
        let paged = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|request| request.url.query_pairs().any(|(name, _)| name == token))
            .count();
        assert!(paged > 10, "{api:?}: {paged} page request(s)");
    }
}

/// A listing the store refuses is the provider's failure (exit 3, as for `s3://` and the
/// README's table), naming the URL and the permission it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_listing_is_a_provider_failure_naming_the_url_and_the_permission() {
    for (api, flag, url, permission) in [
        (
            Api::Gcs,
            "--gcp-audit-logs",
            GCS_URL,
            "storage.objects.list",
        ),
        (
            Api::Azure,
            "--azure-activity-logs",
            AZURE_URL,
            "Storage Blob Data Reader",
        ),
    ] {
        let (server, store) = serve(api, BTreeMap::new()).await;
        store.lock().unwrap().deny_listing = true;
        let output = usage(flag, url, WINDOW, env(api, &server)).await;
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{text}");
        assert!(text.contains(&format!("cannot list `{url}`")), "{text}");
        assert!(text.contains(permission), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_cannot_be_downloaded_is_a_skipped_source_and_the_rest_is_read() {
    let refused = "cloudaudit.googleapis.com/activity/2026/11/17/12:00:00_12:59:59_S0.json";
    let (server, store) = serve(Api::Gcs, objects(&gcp_logs(), "exports/org/")).await;
    store
        .lock()
        .unwrap()
        .refused
        .insert(format!("exports/org/{refused}"));
    let remote = json(&usage("--gcp-audit-logs", GCS_URL, WINDOW, env(Api::Gcs, &server)).await);
    let local = json(
        &usage(
            "--gcp-audit-logs",
            gcp_logs().to_str().unwrap(),
            WINDOW,
            vec![],
        )
        .await,
    );
    let coverage = &remote["coverage"];
    assert_eq!(
        coverage["files_read"].as_u64().unwrap() + 1,
        local["coverage"]["files_read"].as_u64().unwrap(),
        "{coverage}"
    );
    let skipped = coverage["files_skipped"].to_string();
    assert!(
        skipped.contains(&format!("{GCS_URL}/{refused}")),
        "{skipped}"
    );
    assert!(skipped.contains("cannot download"), "{skipped}");
    assert!(coverage["entries_read"].as_u64().unwrap() > 0, "{coverage}");

    let refused = "resourceId=/SUBSCRIPTIONS/3F2E1D0C-1111-4A2B-9C3D-5E6F7A8B9C01/y=2026/m=11/d=17/h=12/m=00/PT1H.json";
    let (server, store) = serve(Api::Azure, objects(&azure_logs(), "")).await;
    store.lock().unwrap().refused.insert(refused.to_owned());
    let remote = json(
        &usage(
            "--azure-activity-logs",
            AZURE_URL,
            WINDOW,
            env(Api::Azure, &server),
        )
        .await,
    );
    let skipped = remote["coverage"].to_string();
    assert!(
        skipped.contains(&format!("{AZURE_URL}/{refused}")),
        "{skipped}"
    );
    assert!(
        remote["coverage"]["operations"].as_u64().unwrap() > 0,
        "{skipped}"
    );
}

/// Whether every line of a log file is JSON.
fn parses(bytes: &[u8]) -> bool {
    bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .all(|line| serde_json::from_slice::<Value>(line).is_ok())
}

/// Copies every file under `from` into `to`.
fn copy_tree(from: &Path, to: &Path) {
    for (relative, bytes) in objects(from, "") {
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_read_downloads_only_new_objects_and_equals_a_full_read() {
    for (api, flag, url, root, prefix, snapshot) in [
        (
            Api::Gcs,
            "--gcp-audit-logs",
            GCS_URL,
            gcp_logs(),
            "exports/org/",
            "gcp-demo/snapshot",
        ),
        (
            Api::Azure,
            "--azure-activity-logs",
            AZURE_URL,
            azure_logs(),
            "",
            "azure-demo/snapshot",
        ),
    ] {
        let all = objects(&root, prefix);
        let early = |key: &str| !(touches_day(key, 19) || touches_day(key, 20));
        let first: BTreeMap<String, Vec<u8>> = all
            .iter()
            .filter(|(key, _)| early(key))
            .map(|(key, bytes)| (key.clone(), bytes.clone()))
            .collect();
        let late = all.len() - first.len();
        assert!(late > 0 && !first.is_empty());
        let (server, store) = serve(api, first).await;
        let dir = tempfile::tempdir().unwrap();
        for stamp in ["20261119T030000Z", "20261121T030000Z"] {
            copy_tree(
                &fixtures().join(snapshot),
                &dir.path().join("store").join(stamp),
            );
        }
        let analyze = |stamp: &str, until: &str, incremental: bool| {
            let mut list = vec![
                "analyze",
                "--snapshot",
                stamp,
                flag,
                url,
                "--since",
                "2026-11-14T00:00:00Z",
                "--until",
                until,
                "--format",
                "json",
            ];
            if incremental {
                list.push("--incremental");
            }
            args(&list)
        };
        let night_one = run(
            dir.path(),
            analyze("store/20261119T030000Z", "2026-11-19T00:00:00Z", true),
            env(api, &server),
        )
        .await;
        assert!(
            night_one.status.code().is_some_and(|code| code < 2),
            "{}",
            stderr(&night_one)
        );
        // Night two: the last days are delivered; only they are downloaded.
        server.reset().await;
        Mock::given(wiremock::matchers::method("GET"))
            .respond_with(Server {
                api,
                store: store.clone(),
            })
            .mount(&server)
            .await;
        store.lock().unwrap().objects = all.clone();
        let night_two = run(
            dir.path(),
            analyze("store/20261121T030000Z", "2026-11-21T00:00:00Z", true),
            env(api, &server),
        )
        .await;
        let text = stderr(&night_two);
        assert!(
            night_two.status.code().is_some_and(|code| code < 2),
            "{text}"
        );
        let (_, fetched) = requests(&server, api).await;
        // Downloaded again: only the new objects, and the demo's corrupt file, which a read
        // does not remember (it is tried again, as a local incremental read does).
        let again: Vec<&String> = fetched.iter().filter(|key| early(key)).collect();
        assert!(
            again.iter().all(|key| {
                let key = key
                    .split_once(&format!(
                        "/{}/",
                        match api {
                            Api::Gcs => BUCKET,
                            Api::Azure => CONTAINER,
                        }
                    ))
                    .unwrap()
                    .1;
                !parses(&all[key])
            }),
            "{api:?}: an object read before was downloaded again: {again:?}"
        );
        assert_eq!(fetched.len(), late + again.len(), "{api:?}: {fetched:?}");
        assert!(
            text.contains(&format!("read {} new log file(s) of", late + again.len())),
            "{text}"
        );
        let full = run(
            dir.path(),
            analyze("store/20261121T030000Z", "2026-11-21T00:00:00Z", false),
            env(api, &server),
        )
        .await;
        assert_eq!(
            String::from_utf8_lossy(&night_two.stdout),
            String::from_utf8_lossy(&full.stdout),
            "{api:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nightly_audit_of_a_bucket_named_in_the_configuration_reads_it_incrementally() {
    let (server, _) = serve(Api::Gcs, objects(&gcp_logs(), "exports/org/")).await;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &fixtures().join("gcp-demo/snapshot"),
        &dir.path().join("store/20261121T030000Z"),
    );
    std::fs::write(
        dir.path().join("pipeleash.toml"),
        format!(
            "[store]\npath = \"store\"\n[window]\nsince = \"7d\"\n[gcp]\naudit_logs = \"{GCS_URL}\"\n"
        ),
    )
    .unwrap();
    let output = run(
        dir.path(),
        args(&[
            "audit",
            "--config",
            "pipeleash.toml",
            "--now",
            "2026-11-21T00:00:00Z",
            "--format",
            "json",
        ]),
        env(Api::Gcs, &server),
    )
    .await;
    let text = stderr(&output);
    assert!(output.status.code().is_some_and(|code| code < 2), "{text}");
    assert!(
        text.contains(&format!("no earlier read of `{GCS_URL}`")),
        "{text}"
    );
    assert!(
        dir.path()
            .join("store/20261121T030000Z/usage/gcp-read-state.json.gz")
            .is_file(),
        "{text}"
    );
}

/// A container URL with a shared access signature (`?sv=…&sp=rl&sig=…`, as the portal writes
/// it) is read with that signature on every request, and the signature is never shown: not in
/// progress lines, errors or the JSON (sources are named by the URL without its query).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_url_with_a_shared_access_signature_is_read_with_it_and_never_shown() {
    const SECRET: &str = "c2VjcmV0LXNpZ25hdHVyZQ";
    let sas_url = format!("{AZURE_URL}?sv=2022-11-02&sr=c&sp=rl&sig={SECRET}%3D");
    let (server, _) = serve(Api::Azure, objects(&azure_logs(), "")).await;
    let with_sas = usage(
        "--azure-activity-logs",
        &sas_url,
        WINDOW,
        env(Api::Azure, &server),
    )
    .await;
    assert!(!stderr(&with_sas).contains(SECRET), "{}", stderr(&with_sas));
    let stdout = String::from_utf8_lossy(&with_sas.stdout).into_owned();
    assert!(!stdout.contains(SECRET));
    let with_sas = json(&with_sas);
    let received = server.received_requests().await.unwrap();
    assert!(!received.is_empty());
    for request in &received {
        let query: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        assert_eq!(
            query.get("sig").map(String::as_str),
            Some(format!("{SECRET}=").as_str()),
            "{}",
            request.url
        );
    }
    let (server, _) = serve(Api::Azure, objects(&azure_logs(), "")).await;
    let without = json(
        &usage(
            "--azure-activity-logs",
            AZURE_URL,
            WINDOW,
            env(Api::Azure, &server),
        )
        .await,
    );
    assert_eq!(with_sas, without);

    let (server, store) = serve(Api::Azure, BTreeMap::new()).await;
    store.lock().unwrap().deny_listing = true;
    let refused = usage(
        "--azure-activity-logs",
        &sas_url,
        WINDOW,
        env(Api::Azure, &server),
    )
    .await;
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(3), "{text}");
    assert!(text.contains("cannot list"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

/// The library's remote read hands the window's files to the reader in batches: never more
/// than a batch at once on disk (a batch's files are gone once the next one is handed over),
/// every file of the window in exactly one batch, and the usage read batch by batch equal to a
/// local read of the same files (sources aside: they are named by URL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_read_reads_batch_by_batch_and_deletes_each_batch_once_read() {
    use pipeleash::gcp::audit_log::{self, walk::SinkBucket};
    use pipeleash::model::TimeWindow;
    let (server, _) = serve(Api::Gcs, objects(&gcp_logs(), "exports/org/")).await;
    for (name, value) in env(Api::Gcs, &server) {
        // SAFETY: std's environment functions take one lock; the clients of this process read
        // the variable through them, and no other thread of this test writes the environment.
        unsafe { std::env::set_var(name, value) };
    }
    let parse = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let window = TimeWindow {
        since: Some(parse(WINDOW.0)),
        until: Some(parse(WINDOW.1)),
    };
    let (remote, batches, listed) = tokio::task::spawn_blocking(move || {
        let mut ingestion = audit_log::Ingestion::new(window);
        let mut batches: Vec<Vec<PathBuf>> = Vec::new();
        let listed = pipeleash::remote_logs::read::<SinkBucket>(
            GCS_URL,
            &window,
            |_| false,
            |_| {},
            None,
            7,
            |files| {
                if let Some(previous) = batches.last() {
                    assert!(
                        previous.iter().all(|file| !file.exists()),
                        "a batch is deleted once read"
                    );
                }
                assert!(files.iter().all(|file| file.local.exists()));
                batches.push(files.iter().map(|file| file.local.clone()).collect());
                ingestion.read_named_files(files, None);
            },
        )
        .unwrap();
        (ingestion.finish(), batches, listed)
    })
    .await
    .unwrap();
    let local = audit_log::ingest_path(&gcp_logs(), window).unwrap();
    let files: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(files as u64, listed.files_listed);
    assert_eq!(
        files as u64,
        local.coverage.files_read + local.coverage.files_skipped.len() as u64
    );
    assert!(batches.len() > 3, "{} batch(es)", batches.len());
    assert!(batches.iter().all(|batch| batch.len() <= 7));
    let rows = |usage: &audit_log::AuditLogUsage| {
        usage
            .usage
            .iter()
            .map(|(key, record)| {
                let mut record = record.clone();
                record.sources.clear();
                (key.clone(), record)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&remote), rows(&local));
    assert_eq!(remote.key_use, local.key_use);
    assert_eq!(remote.coverage.entries_read, local.coverage.entries_read);
}

/// An incremental read of a container URL with a shared access signature never shows the
/// signature (not in "no earlier read of …" or "continuing the read of …") and never stores
/// it: the read state in the snapshot names the URL without its query, so a later run with
/// another signature continues it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_read_with_a_signature_neither_shows_nor_stores_it() {
    const SECRET: &str = "c2VjcmV0LWluY3JlbWVudGFs";
    let dir = tempfile::tempdir().unwrap();
    for stamp in ["20261119T030000Z", "20261121T030000Z"] {
        copy_tree(
            &fixtures().join("azure-demo/snapshot"),
            &dir.path().join("store").join(stamp),
        );
    }
    let (server, _) = serve(Api::Azure, objects(&azure_logs(), "")).await;
    let mut stderr_all = String::new();
    for (stamp, signature) in [
        ("20261119T030000Z", SECRET),
        ("20261121T030000Z", "b3RoZXI"),
    ] {
        let url = format!("{AZURE_URL}?sv=2022-11-02&sr=c&sp=rl&sig={signature}");
        let output = run(
            dir.path(),
            args(&[
                "analyze",
                "--snapshot",
                &format!("store/{stamp}"),
                "--azure-activity-logs",
                &url,
                "--since",
                "2026-11-14T00:00:00Z",
                "--until",
                "2026-11-21T00:00:00Z",
                "--incremental",
                "--format",
                "json",
            ]),
            env(Api::Azure, &server),
        )
        .await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        stderr_all += &stderr(&output);
    }
    assert!(!stderr_all.contains(SECRET), "{stderr_all}");
    assert!(
        stderr_all.contains("continuing the read of"),
        "the second run continues the first whatever its signature: {stderr_all}"
    );
    let mut stack = vec![dir.path().join("store")];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET),
                    "`{}` holds the signature",
                    path.display()
                );
            }
        }
    }
}
