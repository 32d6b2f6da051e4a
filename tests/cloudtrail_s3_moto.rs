//! CloudTrail read from an S3 bucket (`--cloudtrail s3://bucket/prefix`) with the real S3
//! client against moto: the same analysis as from the local copy, date folders outside the
//! window never downloaded, and a corrupt object named by its S3 URI.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::moto::MotoServer;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const BUCKET: &str = "acme-org-trail";
const PREFIX: &str = "org-trail";

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo")
}

fn files_under(root: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// Uploads the demo's `AWSLogs/…` under `PREFIX/`, plus an object outside the window.
async fn upload(endpoint: &str) -> usize {
    let config = support::sdk_config(endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let root = demo().join("cloudtrail");
    let mut files = Vec::new();
    files_under(&root, &mut files);
    for file in &files {
        let key = format!(
            "{PREFIX}/{}",
            file.strip_prefix(&root).unwrap().to_string_lossy()
        );
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(std::fs::read(file).unwrap().into())
            .send()
            .await
            .unwrap();
    }
    // A day long before the window: must be pruned by its date folders, so its garbage
    // content never shows up as a skipped file.
    s3.put_object()
        .bucket(BUCKET)
        .key(format!(
            "{PREFIX}/AWSLogs/210987654321/CloudTrail/eu-west-1/2025/01/01/old.json.gz"
        ))
        .body(b"not a gzip stream".to_vec().into())
        .send()
        .await
        .unwrap();
    files.len()
}

fn analyze(cloudtrail: &str, env: &[(&'static str, String)]) -> Value {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .args([
            "analyze",
            "--format",
            "json",
            "--snapshot",
            "recorded-fixtures/demo/snapshot",
            "--cloudtrail",
            cloudtrail,
            "--since",
            "2026-11-14",
            "--until",
            "2026-11-20",
            "--now",
            "2026-11-22T00:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn counts(report: &Value) -> Vec<(String, Value)> {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| {
            (
                identity["identity"].as_str().unwrap().to_string(),
                identity["counts"].clone(),
            )
        })
        .collect()
}

#[test]
fn s3_trail_gives_the_same_analysis_as_the_local_copy() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let uploaded = runtime.block_on(upload(&moto.endpoint));
    assert!(uploaded > 20);
    let env = support::binary_env(&moto.endpoint);

    let from_s3 = analyze(&format!("s3://{BUCKET}/{PREFIX}"), &env);
    let local = analyze("recorded-fixtures/demo/cloudtrail", &env);
    assert_eq!(counts(&from_s3), counts(&local));

    let coverage: Vec<&str> = from_s3["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    assert!(
        coverage.iter().any(|line| line
            .contains(&format!("s3://{BUCKET}/{PREFIX}/AWSLogs/210987654321/"))
            && line.contains("truncated")),
        "{coverage:#?}"
    );
    assert!(
        !coverage.iter().any(|line| line.contains("old.json.gz")),
        "the object outside the window must not be read: {coverage:#?}"
    );
}

#[test]
fn a_missing_bucket_is_an_error_naming_it() {
    let moto = MotoServer::start();
    let env = support::binary_env(&moto.endpoint);
    let output = Command::new(BIN)
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .args(["usage", "--cloudtrail", "s3://no-such-bucket/logs"])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot list `s3://no-such-bucket/logs`"),
        "{stderr}"
    );
}

#[test]
fn lookup_events_pages_are_read_through_the_usage_command() {
    let replay = support::replay::ReplayServer::start(
        &demo()
            .parent()
            .unwrap()
            .join("aws-lookup-events/small-account"),
    );
    let env = support::binary_env(&replay.endpoint);
    let output = Command::new(BIN)
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .args([
            "usage",
            "--cloudtrail",
            "lookup-events",
            "--format",
            "json",
            "--since",
            "2026-01-01",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let usage: Value = serde_json::from_slice(&output.stdout).unwrap();
    let identity = &usage["identities"][0];
    assert_eq!(
        identity["identity"],
        "arn:aws:iam::444455556666:role/ci/web-deploy"
    );
    let actions: Vec<&str> = identity["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|used| used["action"].as_str().unwrap())
        .collect();
    // Every page was read; `GetCallerIdentity` needs no permission.
    assert_eq!(
        actions,
        [
            "cloudformation:DescribeStacks",
            "cloudfront:CreateInvalidation",
            "s3:ListAllMyBuckets",
            "ssm:PutParameter"
        ]
    );
    assert_eq!(
        usage["coverage"]["files_skipped"].as_array().unwrap().len(),
        0
    );
}

/// Read in batches of two files, with the listing going folder by folder: the same usage as
/// reading the local copy in one go, sessions linked across batches, and the date folder
/// outside the window never listed.
#[test]
fn batches_and_folder_listing_give_the_local_result() {
    use pipeleash::aws::cloudtrail::{IngestOptions, TimeWindow, ingest_directory};
    use pipeleash::aws::collect::s3_logs::{S3Location, ingest_s3, list_logs, s3_client};

    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let uploaded = runtime.block_on(upload(&moto.endpoint));
    let config = runtime.block_on(support::sdk_config(&moto.endpoint));
    let client = s3_client(&config);
    let at = |text: &str| {
        Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&chrono::Utc),
        )
    };
    let window = TimeWindow {
        since: at("2026-11-14T00:00:00Z"),
        until: at("2026-11-21T00:00:00Z"),
    };
    let location = S3Location::parse(&format!("s3://{BUCKET}/{PREFIX}/")).unwrap();

    let listing = runtime
        .block_on(list_logs(&client, &location, &window))
        .unwrap();
    assert_eq!(listing.keys.len(), uploaded);
    // The 2025 folder was pruned before listing: its object was never seen.
    assert_eq!(listing.objects_listed, uploaded);
    assert!(listing.keys.iter().all(|key| !key.contains("/2025/")));
    assert!(listing.unlisted.is_empty());

    let options = IngestOptions {
        window,
        progress: None,
    };
    let mut heard = None;
    let from_s3 = ingest_s3(&runtime, &client, &location, options, 2, |listing| {
        heard = Some(listing.keys.len());
    })
    .unwrap();
    assert_eq!(heard, Some(uploaded));
    let local = ingest_directory(&demo().join("cloudtrail"), &options).unwrap();
    assert_eq!(from_s3.allowed, local.allowed);
    assert_eq!(from_s3.denied, local.denied);
    assert_eq!(from_s3.web_identity_sessions, local.web_identity_sessions);
    assert_eq!(from_s3.access_keys, local.access_keys);
    assert_eq!(from_s3.coverage.events_read, local.coverage.events_read);
    assert_eq!(from_s3.coverage.sources_read, local.coverage.sources_read);
    assert!(
        from_s3
            .allowed
            .iter()
            .any(|(_, row)| !row.workloads.is_empty()),
        "sessions are linked to their workloads across batches"
    );
    let skipped: Vec<String> = from_s3
        .coverage
        .sources_skipped
        .iter()
        .map(|file| file.source.clone())
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].starts_with(&format!("s3://{BUCKET}/{PREFIX}/AWSLogs/"))
            && skipped[0].ends_with("truncated.json.gz"),
        "{skipped:?}"
    );
}

/// `--profile` and `--region` choose the credentials and region of the trail bucket: with no
/// credentials in the environment, only the named profile can sign the calls.
#[test]
fn the_trail_bucket_is_read_with_the_named_profile() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(upload(&moto.endpoint));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let credentials = home.path().join("credentials");
    std::fs::write(&config, "[profile log-archive]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[log-archive]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            support::TEST_ACCESS_KEY_ID,
            support::TEST_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let env: Vec<(&str, String)> = support::binary_env(&moto.endpoint)
        .into_iter()
        .filter(|(key, _)| !key.starts_with("AWS_ACCESS_KEY") && !key.starts_with("AWS_SECRET"))
        .filter(|(key, _)| *key != "AWS_REGION")
        .map(|(key, value)| match key {
            "AWS_CONFIG_FILE" => (key, config.display().to_string()),
            "AWS_SHARED_CREDENTIALS_FILE" => (key, credentials.display().to_string()),
            _ => (key, value),
        })
        .collect();
    let usage = |extra: &[&str]| {
        Command::new(BIN)
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .args(["usage", "--quiet", "--format", "json", "--cloudtrail"])
            .arg(format!("s3://{BUCKET}/{PREFIX}"))
            .args(["--since", "2026-11-14", "--until", "2026-11-20"])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = usage(&["--profile", "log-archive", "--region", "eu-west-1"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["coverage"]["events_in_window"], 6000);
    // Without the profile there are no credentials: a clear error, not an empty result.
    let output = usage(&[]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot list"), "{stderr}");
}

#[test]
fn an_incremental_read_of_the_bucket_downloads_only_new_objects_and_equals_a_full_read() {
    use pipeleash::aws::cloudtrail::{IngestOptions, Ingestion, ReadState, TimeWindow};
    use pipeleash::aws::collect::s3_logs::{S3Location, ingest_s3, read_s3, s3_client};

    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(upload(&moto.endpoint));
    let config = runtime.block_on(support::sdk_config(&moto.endpoint));
    let client = s3_client(&config);
    // Day 1 sees the bucket without the files of 2026-11-20: take them out for now.
    let root = demo().join("cloudtrail");
    let mut late = Vec::new();
    files_under(&root, &mut late);
    late.retain(|file| file.to_string_lossy().contains("/2026/11/20/"));
    assert!(!late.is_empty());
    let key_of = |file: &Path| {
        format!(
            "{PREFIX}/{}",
            file.strip_prefix(&root).unwrap().to_string_lossy()
        )
    };
    for file in &late {
        runtime
            .block_on(
                client
                    .delete_object()
                    .bucket(BUCKET)
                    .key(key_of(file))
                    .send(),
            )
            .unwrap();
    }
    let at = |text: &str| {
        Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&chrono::Utc),
        )
    };
    let window = TimeWindow {
        since: at("2026-11-14T00:00:00Z"),
        until: at("2026-11-22T00:00:00Z"),
    };
    let options = IngestOptions {
        window,
        progress: None,
    };
    let uri = format!("s3://{BUCKET}/{PREFIX}/");
    let location = S3Location::parse(&uri).unwrap();
    let first = Ingestion::resume(options, &uri, None).unwrap();
    let mut first_listed = 0;
    let first = read_s3(&runtime, &client, &location, first, 3, |listing| {
        first_listed = listing.keys.len();
    })
    .unwrap();
    let (_, state) = first.finish_with_state();
    let stored = state.unwrap().to_bytes();

    for file in &late {
        runtime
            .block_on(
                client
                    .put_object()
                    .bucket(BUCKET)
                    .key(key_of(file))
                    .body(std::fs::read(file).unwrap().into())
                    .send(),
            )
            .unwrap();
    }
    let second =
        Ingestion::resume(options, &uri, Some(ReadState::from_bytes(&stored).unwrap())).unwrap();
    let (mut to_read, mut already) = (0, 0);
    let second = read_s3(&runtime, &client, &location, second, 3, |listing| {
        to_read = listing.keys.len();
        already = listing.already_read;
    })
    .unwrap();
    let (usage, _) = second.finish_with_state();
    // The new objects, and the corrupt one again (it was never read whole).
    assert_eq!(to_read, late.len() + 1);
    assert_eq!(already + to_read, first_listed + late.len());
    let full = ingest_s3(&runtime, &client, &location, options, 3, |_| {}).unwrap();
    assert_eq!(usage, full);
}
