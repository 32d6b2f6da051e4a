//! `pipeleash collect gcp` against a replay server on 127.0.0.1: the real google-cloud-rust
//! clients (Resource Manager v3, IAM Admin v1), the real google-cloud-auth external-account
//! (Workload Identity Federation) token exchange, and the Workload Identity REST calls, all
//! answered from `recorded-fixtures/gcp/replay/` in the APIs' public wire format.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/recorded-fixtures/gcp/replay");
const ACCESS_TOKEN: &str = "ya29.replay-token";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJyZXBvc2l0b3J5IjoiYWNtZS93ZWIifQ.c2ln";
const ORG: &str = "123456789012";

/// Matches the `parent` query parameter (when the route names one) and the page token
/// (absent or empty for the first page), in the query or in a JSON body.
struct Query {
    parent: Option<String>,
    page_token: Option<String>,
}

impl Match for Query {
    fn matches(&self, request: &Request) -> bool {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        // Cloud Logging's `entries:list` takes both in its JSON body instead
        // (`resourceNames[0]`, `pageToken`).
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let parent = get("parent").or_else(|| body["resourceNames"][0].as_str());
        let token = get("pageToken").or_else(|| body["pageToken"].as_str());
        let parent_ok = self.parent.as_deref().is_none_or(|p| parent == Some(p));
        let token_ok = match &self.page_token {
            None => token.is_none_or(str::is_empty),
            Some(wanted) => token == Some(wanted.as_str()),
        };
        parent_ok && token_ok
    }
}

/// Every API call must carry the access token that the STS exchange returned.
struct Bearer;

impl Match for Bearer {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            == Some(&format!("Bearer {ACCESS_TOKEN}"))
    }
}

async fn replay_server() -> MockServer {
    let server = MockServer::start().await;
    let routes = std::fs::read_to_string(Path::new(FIXTURES).join("routes.tsv")).expect("routes");
    for line in routes
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [verb, target, token, status, times, file] = fields[..] else {
            panic!("bad route line `{line}`");
        };
        let (route_path, parent) = match target.split_once("?parent=") {
            Some((route_path, parent)) => (route_path, Some(parent.to_owned())),
            None => (target, None),
        };
        let body = std::fs::read(Path::new(FIXTURES).join(file)).expect("fixture body");
        let status: u16 = status.parse().expect("status");
        let mut mock = Mock::given(method(verb)).and(path(route_path)).and(Query {
            parent,
            page_token: (token != "-").then(|| token.to_owned()),
        });
        if route_path != "/v1/token" {
            mock = mock.and(Bearer);
        }
        let mut mock = mock.respond_with(
            ResponseTemplate::new(status).set_body_raw(body, "application/json; charset=UTF-8"),
        );
        if times != "-" {
            mock = mock.up_to_n_times(times.parse().expect("times"));
        }
        server.register(mock).await;
    }
    server
}

/// Writes the OIDC token file and the external-account credentials pointing at `server`.
fn credentials(server: &MockServer, dir: &Path) -> PathBuf {
    let token_file = dir.join("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).expect("token file");
    let template =
        std::fs::read_to_string(Path::new(FIXTURES).join("credentials-external-account.json"))
            .expect("template");
    let json = template
        .replace("${BASE}", &server.uri())
        .replace("${TOKEN_FILE}", &token_file.display().to_string());
    let path = dir.join("external-account.json");
    std::fs::write(&path, json).expect("credentials file");
    path
}

/// Runs the binary with a clean environment: no ambient credentials, no metadata server.
async fn pipeleash(args: Vec<String>, envs: Vec<(String, String)>, home: &Path) -> Output {
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pipeleash"));
        command
            .args(&args)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("HOME", &home)
            .env("APPDATA", &home)
            // A closed port on loopback: the metadata server is never looked for elsewhere.
            .env("GCE_METADATA_HOST", "127.0.0.1:9")
            .env("GCE_METADATA_IP", "127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY");
        for (key, value) in envs {
            command.env(key, value);
        }
        command.output().expect("run pipeleash")
    })
    .await
    .expect("join")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("parse json")
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .expect("array")
        .iter()
        .find(|item| item[key] == value)
        .unwrap_or_else(|| panic!("no item with {key} = {value} in {list}"))
}

async fn requests_to(server: &MockServer, verb: &str, route_path: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route_path)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_scope_collects_every_level_through_pages_retries_and_denials() {
    let server = replay_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let credentials = credentials(&server, dir.path());
    let out = dir.path().join("snapshot");
    let output = pipeleash(
        vec![
            "collect".into(),
            "gcp".into(),
            "--organization".into(),
            ORG.into(),
            "--credentials".into(),
            credentials.display().to_string(),
            "--endpoint".into(),
            server.uri(),
            "--out".into(),
            out.display().to_string(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
        dir.path(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");

    // The summary on stdout.
    // Pinned byte for byte: the summary is a frozen JSON output (`output::json::v1::collect`).
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            r#"{{
  "snapshot": {},
  "scope": [
    "organizations/{ORG}"
  ],
  "organizations": 1,
  "folders": 4,
  "projects": 3,
  "service_accounts": 3,
  "user_managed_keys": 2,
  "custom_roles": 2,
  "workload_identity_pools": 1,
  "workload_identity_providers": 2,
  "errors": 5
}}
"#,
            serde_json::to_string(&out.display().to_string()).expect("a JSON string")
        )
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("summary json");
    assert_eq!(summary["folders"], 4);
    assert_eq!(summary["projects"], 3);
    assert_eq!(summary["service_accounts"], 3);
    assert_eq!(summary["user_managed_keys"], 2);
    assert_eq!(summary["workload_identity_providers"], 2);

    // The manifest lists the inventory and every failed call.
    let manifest = read_json(&out.join("manifest.json"));
    let source = find(&manifest["sources"], "kind", "gcp-inventory");
    assert_eq!(source["provider"], "gcp");
    assert_eq!(source["id"], format!("organizations/{ORG}"));
    assert_eq!(
        source["path"],
        format!("inventory/gcp-organization-{ORG}.json")
    );
    let manifest_errors = manifest["errors"].as_array().expect("errors");
    assert!(manifest_errors.iter().any(|e| {
        e["provider"] == "gcp"
            && e["target"] == "projects/555000000002"
            && e["reason"]
                .as_str()
                .is_some_and(|r| r.contains("PERMISSION_DENIED"))
    }));

    let inventory = read_json(&out.join(source["path"].as_str().expect("path")));
    assert_eq!(inventory["format_version"], 1);
    assert_eq!(
        inventory["scope"],
        serde_json::json!([format!("organizations/{ORG}")])
    );
    assert!(
        inventory["credentials"]
            .as_str()
            .is_some_and(|c| c.contains("external_account"))
    );

    // Folders three deep, the second organization-level folder from page two.
    let folders = &inventory["folders"];
    assert_eq!(
        find(folders, "name", "folders/300")["parent"],
        "folders/200"
    );
    assert_eq!(
        find(folders, "name", "folders/200")["parent"],
        "folders/100"
    );
    assert_eq!(
        find(folders, "name", "folders/100")["parent"],
        format!("organizations/{ORG}")
    );
    assert_eq!(
        find(folders, "name", "folders/101")["display_name"],
        "sandbox"
    );
    // Projects from both pages of `folders/300`.
    let projects = &inventory["projects"];
    assert_eq!(
        find(projects, "project_id", "data-prod")["parent"],
        "folders/300"
    );
    assert_eq!(
        find(projects, "project_id", "web-prod")["name"],
        "projects/555000000001"
    );

    // The 429 on `folders/200:getIamPolicy` was retried by the client's policy.
    assert_eq!(
        requests_to(&server, "POST", "/v3/folders/200:getIamPolicy").await,
        2
    );
    let folder_policy = &find(folders, "name", "folders/200")["iam_policy"];
    assert_eq!(
        folder_policy["bindings"][0]["role"],
        "roles/iam.serviceAccountUser"
    );
    // The 503 on the Workload Identity pools was retried by the REST client.
    let pools_path = "/v1/projects/web-prod/locations/global/workloadIdentityPools";
    assert_eq!(requests_to(&server, "GET", pools_path).await, 2);

    // The 403s on `data-prod` are recorded; the run went on to the next project.
    let project = find(projects, "project_id", "data-prod");
    assert!(project["iam_policy"].is_null());
    let errors = &inventory["errors"];
    let denied = find(errors, "call", "cloudresourcemanager.projects.getIamPolicy");
    assert_eq!(denied["target"], "projects/555000000002");
    assert_eq!(denied["http_status"], 403);
    assert_eq!(denied["status"], "PERMISSION_DENIED");
    assert_eq!(denied["reason"], "The caller does not have permission");
    let denied = find(errors, "call", "iam.serviceAccounts.list");
    assert_eq!(denied["target"], "projects/data-prod");
    let denied = find(errors, "call", "iam.workloadIdentityPools.list");
    assert_eq!(denied["status"], "PERMISSION_DENIED");
    let denied = find(errors, "call", "iam.policies.listPolicies");
    assert_eq!(denied["target"], "projects/555000000002");
    assert_eq!(denied["http_status"], 403);
    assert_eq!(errors.as_array().map(Vec::len), Some(5), "errors: {errors}");

    // IAM conditions on bindings, verbatim.
    let organization = find(
        &inventory["organizations"],
        "name",
        &format!("organizations/{ORG}"),
    );
    assert_eq!(organization["display_name"], "acme.example");
    let conditional = find(
        &organization["iam_policy"]["bindings"],
        "role",
        "roles/storage.admin",
    );
    assert_eq!(
        conditional["condition"]["expression"],
        "request.time < timestamp(\"2027-01-01T00:00:00Z\")"
    );
    assert_eq!(conditional["condition"]["title"], "until 2027");
    let web = &find(projects, "project_id", "web-prod")["iam_policy"];
    assert_eq!(web["version"], 3);
    let bucket = find(&web["bindings"], "role", "roles/storage.objectAdmin");
    assert_eq!(bucket["condition"]["title"], "artifacts bucket only");
    let folder_300 = &find(folders, "name", "folders/300")["iam_policy"]["bindings"];
    let token_creator = find(folder_300, "role", "roles/iam.serviceAccountTokenCreator");
    assert!(
        token_creator["condition"]["expression"]
            .as_str()
            .is_some_and(|e| e.contains("getHours"))
    );

    // Service accounts from both pages, keys, and each one's own IAM policy.
    let accounts = &inventory["service_accounts"];
    let deployer = find(
        accounts,
        "email",
        "deployer@web-prod.iam.gserviceaccount.com",
    );
    let builder = find(
        accounts,
        "email",
        "builder@web-prod.iam.gserviceaccount.com",
    );
    assert_eq!(builder["disabled"], true);
    let keys = deployer["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 3);
    let user_managed: Vec<&Value> = keys
        .iter()
        .filter(|k| k["key_type"] == "USER_MANAGED")
        .collect();
    assert_eq!(user_managed.len(), 2);
    assert!(
        user_managed
            .iter()
            .any(|k| k["disabled"] == true && k["key_origin"] == "USER_PROVIDED")
    );
    let system = keys
        .iter()
        .find(|k| k["key_type"] == "SYSTEM_MANAGED")
        .expect("system key");
    assert_eq!(system["valid_before_time"], "2026-12-07T00:00:00Z");
    assert!(
        user_managed
            .iter()
            .any(|k| k["valid_before_time"] == "9999-12-31T23:59:59Z")
    );
    let wif_user = find(
        &deployer["iam_policy"]["bindings"],
        "role",
        "roles/iam.workloadIdentityUser",
    );
    assert_eq!(
        wif_user["members"][0],
        "principalSet://iam.googleapis.com/projects/555000000001/locations/global/workloadIdentityPools/github/attribute.repository/acme/web"
    );
    let sa_user = find(
        &builder["iam_policy"]["bindings"],
        "role",
        "roles/iam.serviceAccountUser",
    );
    assert!(
        sa_user["members"][0]
            .as_str()
            .is_some_and(|m| m.starts_with("principal://"))
    );
    let playground = find(
        accounts,
        "email",
        "playground@sandbox-play.iam.gserviceaccount.com",
    );
    assert_eq!(playground["keys"], serde_json::json!([]));
    assert_eq!(playground["iam_policy"]["bindings"], serde_json::json!([]));

    // Custom roles at both levels.
    let roles = &inventory["custom_roles"];
    let org_role = find(
        roles,
        "name",
        &format!("organizations/{ORG}/roles/ciDeployer"),
    );
    assert_eq!(org_role["stage"], "GA");
    assert_eq!(
        org_role["included_permissions"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        find(roles, "name", "projects/web-prod/roles/artifactPusher")["stage"],
        "BETA"
    );

    // Workload Identity pool with providers from two pages.
    let pool = &inventory["workload_identity_pools"][0];
    assert_eq!(
        pool["name"],
        "projects/555000000001/locations/global/workloadIdentityPools/github"
    );
    let providers = &pool["providers"];
    let actions = find(providers, "display_name", "actions");
    assert_eq!(
        actions["attribute_condition"],
        "assertion.repository_owner == 'acme'"
    );
    assert_eq!(
        actions["oidc"]["issuer_uri"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(
        actions["attribute_mapping"]["attribute.repository"],
        "assertion.repository"
    );
    assert_eq!(
        actions["oidc"]["allowed_audiences"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let open = find(providers, "display_name", "open");
    assert!(open["attribute_condition"].is_null());
    assert_eq!(open["protocol"], "oidc");

    // IAM deny policies of every level: the organization's over two pages (after a 429), each
    // read whole with `policies.get` because the list gives metadata only; a 403 on
    // `data-prod` above.
    let org_list = "/v2/policies/cloudresourcemanager.googleapis.com%2Forganizations%2F123456789012/denypolicies";
    assert_eq!(requests_to(&server, "GET", org_list).await, 3);
    assert_eq!(
        requests_to(&server, "GET", &format!("{org_list}/no-iam-admin")).await,
        1
    );
    let deny = inventory["deny_policies"]
        .as_array()
        .expect("deny policies");
    assert_eq!(deny.len(), 3, "{deny:?}");
    let attached: Vec<&str> = deny
        .iter()
        .filter_map(|p| p["attachment_point"].as_str())
        .collect();
    assert_eq!(
        attached,
        [
            "organizations/123456789012",
            "organizations/123456789012",
            "projects/555000000001"
        ]
    );
    let no_iam_admin = find(
        &inventory["deny_policies"],
        "name",
        "policies/cloudresourcemanager.googleapis.com%2Forganizations%2F123456789012/denypolicies/no-iam-admin",
    );
    assert_eq!(
        no_iam_admin["display_name"],
        "No IAM policy changes outside the IAM admins"
    );
    let rule = &no_iam_admin["rules"][0];
    assert_eq!(
        rule["denied_principals"],
        serde_json::json!(["principalSet://goog/public:all"])
    );
    assert_eq!(
        rule["exception_principals"],
        serde_json::json!(["principalSet://goog/group/iam-admins@acme.example"])
    );
    let prod_buckets = find(
        &inventory["deny_policies"],
        "name",
        "policies/cloudresourcemanager.googleapis.com%2Forganizations%2F123456789012/denypolicies/prod-buckets",
    );
    assert_eq!(
        prod_buckets["rules"][0]["denial_condition"]["expression"],
        "resource.matchTag('123456789012/env', 'prod')"
    );
    let no_delete = find(
        &inventory["deny_policies"],
        "attachment_point",
        "projects/555000000001",
    );
    assert_eq!(
        no_delete["rules"][0]["exception_permissions"],
        serde_json::json!(["storage.googleapis.com/objects.get"])
    );

    // The external-account flow exchanged the CI's OIDC token at the STS endpoint.
    let exchanges: Vec<String> = server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.url.path() == "/v1/token")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(!exchanges.is_empty());
    assert!(
        exchanges
            .iter()
            .all(|body| body.contains(&format!("subject_token={OIDC_TOKEN}")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_scope_reads_ancestors_with_google_application_credentials() {
    let server = replay_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let credentials = credentials(&server, dir.path());
    let out = dir.path().join("snapshot");
    let output = pipeleash(
        vec![
            "collect".into(),
            "gcp".into(),
            "--project".into(),
            "web-prod".into(),
            "--endpoint".into(),
            server.uri(),
            "--out".into(),
            out.display().to_string(),
        ],
        vec![(
            "GOOGLE_APPLICATION_CREDENTIALS".into(),
            credentials.display().to_string(),
        )],
        dir.path(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains("GOOGLE_APPLICATION_CREDENTIALS"),
        "stderr: {stderr}"
    );

    let inventory = read_json(&out.join("inventory/gcp-projects-web-prod.json"));
    assert_eq!(inventory["errors"], serde_json::json!([]));
    assert_eq!(inventory["projects"].as_array().map(Vec::len), Some(1));
    // The folders above the project, read for the policies it inherits, up to the organization.
    for folder in ["folders/100", "folders/200", "folders/300"] {
        let record = find(&inventory["folders"], "name", folder);
        assert_eq!(record["outside_scope"], true);
        assert!(record["iam_policy"]["bindings"].is_array());
    }
    let organization = &inventory["organizations"][0];
    assert_eq!(organization["name"], format!("organizations/{ORG}"));
    assert!(organization["iam_policy"]["bindings"].is_array());
    // Only this project's accounts; its listing was not repeated for other projects.
    let emails: Vec<&str> = inventory["service_accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["email"].as_str())
        .collect();
    assert_eq!(
        emails,
        [
            "builder@web-prod.iam.gserviceaccount.com",
            "deployer@web-prod.iam.gserviceaccount.com"
        ]
    );
    assert_eq!(requests_to(&server, "GET", "/v3/folders").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_say_what_was_tried_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = pipeleash(
        vec![
            "collect".into(),
            "gcp".into(),
            "--project".into(),
            "web-prod".into(),
            "--endpoint".into(),
            "http://127.0.0.1:9".into(),
            "--out".into(),
            dir.path().join("snapshot").display().to_string(),
        ],
        vec![],
        dir.path(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr: {stderr}");
    for needle in [
        "no usable GCP credentials",
        "`GOOGLE_APPLICATION_CREDENTIALS` (unset)",
        "metadata server",
        "gcloud auth application-default login",
        "--credentials FILE",
    ] {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
    assert!(!dir.path().join("snapshot").exists());
}

/// A `--credentials` file that is not JSON, has an unknown `type` or lacks the fields of its
/// type is the user's input to fix: exit 2 naming the file, before any call and with no
/// snapshot written (before: exit 3, as if the provider had refused a token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_credentials_files_are_input_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text, needle) in [
        ("garbage.json", "not json at all", "is not JSON"),
        (
            "unknown.json",
            r#"{"type": "api_key"}"#,
            "expected `service_account`",
        ),
        (
            "fields.json",
            r#"{"type": "service_account"}"#,
            "cannot use credentials file",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let out = dir.path().join(format!("snapshot-{name}"));
        let output = pipeleash(
            vec![
                "collect".into(),
                "gcp".into(),
                "--project".into(),
                "web-prod".into(),
                "--credentials".into(),
                path.display().to_string(),
                "--endpoint".into(),
                "http://127.0.0.1:9".into(),
                "--out".into(),
                out.display().to_string(),
            ],
            vec![],
            dir.path(),
        )
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains(name),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scope_ids_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["collect", "gcp", "--organization", "acme.example"],
        vec!["collect", "gcp", "--project", "Not_A_Project"],
        vec!["collect", "gcp"],
        vec!["collect", "gcp", "--organization", "1", "--folder", "2"],
    ] {
        let output = pipeleash(
            args.iter().map(|a| a.to_string()).collect(),
            vec![],
            dir.path(),
        )
        .await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

/// `--audit-log-days`: every collected project's Cloud Audit Logs through `entries.list`
/// (the page token in the POST body followed, a 429 retried, a 403 on one project recorded
/// while the others are read), stored in the snapshot and read by `analyze` when no
/// `--gcp-audit-logs` is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_entries_are_read_through_entries_list_into_the_snapshot() {
    let server = replay_server().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let credentials = credentials(&server, dir.path());
    let out = dir.path().join("snapshot");
    let output = pipeleash(
        vec![
            "collect".into(),
            "gcp".into(),
            "--organization".into(),
            ORG.into(),
            "--credentials".into(),
            credentials.display().to_string(),
            "--endpoint".into(),
            server.uri(),
            "--audit-log-days".into(),
            "30".into(),
            "--out".into(),
            out.display().to_string(),
        ],
        vec![],
        dir.path(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.contains("3 audit log entr(ies) stored"), "{stderr}");
    // web-prod: the 429, then both pages; data-prod: the 403; sandbox-play: one empty page.
    assert_eq!(requests_to(&server, "POST", "/v2/entries:list").await, 5);
    let manifest = read_json(&out.join("manifest.json"));
    let source = find(&manifest["sources"], "kind", "gcp-audit-log-entries");
    let entries = read_json(&out.join(source["path"].as_str().expect("path")));
    assert_eq!(entries.as_array().expect("array").len(), 3);
    let denied = manifest["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .any(|issue| {
            issue["target"] == "projects/data-prod"
                && issue["reason"]
                    .as_str()
                    .is_some_and(|reason| reason.contains("logging.entries.list"))
        });
    assert!(denied, "{manifest:#}");

    // `analyze` reads the stored entries: the deployer used run.services.update and
    // run.services.get; the refused setIamPolicy is denied, never used.
    let output = pipeleash(
        vec![
            "usage".into(),
            "--gcp-audit-logs".into(),
            out.join(source["path"].as_str().expect("path"))
                .display()
                .to_string(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
        dir.path(),
    )
    .await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("run.services.update"), "{text}");
}
