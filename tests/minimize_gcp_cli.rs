//! `pipeleash minimize SA --snapshot DIR --gcp-audit-logs PATH` end to end: a snapshot holding
//! a GCP inventory (as `collect gcp` writes it), audit logs in the `gcloud logging read
//! --format=json` shape, and the binary.

use chrono::{TimeZone, Utc};
use pipeleash::snapshot::{SnapshotWriter, Source};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SA: &str = "deployer@app.iam.gserviceaccount.com";

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// organizations/9 → folders/1 → projects/app; the deployer holds Editor on the project.
fn snapshot(store: &Path) -> PathBuf {
    let inventory = json!({
        "format_version": 1, "scope": ["organizations/9"], "collected_at": "2026-11-29T00:00:00Z",
        "organizations": [{"name": "organizations/9"}],
        "folders": [{"name": "folders/1", "parent": "organizations/9"}],
        "projects": [{"name": "projects/4151", "project_id": "app", "parent": "folders/1",
            "iam_policy": {"version": 1, "etag": "BwY=", "bindings": [
                {"role": "roles/editor", "members": [format!("serviceAccount:{SA}")]}]}}],
        "service_accounts": [{"name": format!("projects/app/serviceAccounts/{SA}"),
            "project_id": "app", "email": SA}],
        "custom_roles": [], "workload_identity_pools": [], "errors": []
    });
    let created = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
    let dir = store.join("20261129T000000Z");
    let mut writer = SnapshotWriter::create(&dir, created).unwrap();
    let relative = Path::new("inventory/gcp-organizations-9.json");
    writer.write_json(relative, &inventory).unwrap();
    writer.manifest_mut().sources.push(Source {
        provider: "gcp".to_string(),
        kind: "gcp-inventory".to_string(),
        id: "organizations/9".to_string(),
        path: "inventory/gcp-organizations-9.json".to_string(),
        format_version: 1,
    });
    writer.commit().unwrap();
    dir
}

fn entry(permission: &str, resource: &str, granted: bool, log: &str) -> Value {
    json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": if granted { json!({}) } else { json!({"code": 7}) },
            "authenticationInfo": {"principalEmail": SA},
            "serviceName": format!("{}.googleapis.com", permission.split('.').next().unwrap()),
            "methodName": "m",
            "resourceName": resource,
            "authorizationInfo": [{"resource": resource, "permission": permission, "granted": granted}]
        },
        "insertId": format!("{permission}{granted}"),
        "resource": {"type": "x", "labels": {"project_id": "app"}},
        "timestamp": "2026-11-20T10:11:12Z",
        "logName": format!("projects/app/logs/cloudaudit.googleapis.com%2F{log}")
    })
}

fn logs(dir: &Path) -> PathBuf {
    let path = dir.join("logs.json");
    let entries = json!([
        entry(
            "run.services.update",
            "projects/app/locations/eu/services/web",
            true,
            "activity"
        ),
        entry(
            "artifactregistry.repositories.uploadArtifacts",
            "projects/app/locations/eu/repositories/images",
            true,
            "activity"
        ),
        // Denied: never use.
        entry(
            "run.services.delete",
            "projects/app/locations/eu/services/web",
            false,
            "activity"
        ),
    ]);
    std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).unwrap();
    path
}

fn args<'a>(snapshot: &'a str, logs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "minimize",
        SA,
        "--snapshot",
        snapshot,
        "--gcp-audit-logs",
        logs,
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-29",
    ];
    args.extend(extra);
    args
}

#[test]
fn editor_is_minimized_to_a_custom_role_of_the_used_permissions() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = snapshot(temp.path());
    let logs = logs(temp.path());
    let (snapshot, logs) = (snapshot.to_str().unwrap(), logs.to_str().unwrap());
    let output = pipeleash(&args(snapshot, logs, &["--format", "json"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["format_version"], 1);
    let roles = result["roles"].as_array().unwrap();
    let permissions: Vec<&str> = roles
        .iter()
        .flat_map(|role| role["file"]["includedPermissions"].as_array().unwrap())
        .map(|p| p.as_str().unwrap())
        .collect();
    // Used, plus Editor's permissions that only Data Access logs would show (none were read).
    assert!(permissions.contains(&"run.services.update"));
    assert!(permissions.contains(&"artifactregistry.repositories.uploadArtifacts"));
    assert!(
        !permissions.contains(&"run.services.delete"),
        "denied is never used"
    );
    assert_eq!(result["bindings"][0]["scope"], "projects/app");
    assert!(result["proof"]["never_drop"].as_u64().unwrap() >= 2);
    let removed: Vec<&str> = result["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(removed.contains(&"run.services.delete"));

    // `--drop-unobservable` keeps exactly what was used.
    let output = pipeleash(&args(snapshot, logs, &["--drop-unobservable"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["roles"][0]["file"]["includedPermissions"],
        json!([
            "artifactregistry.repositories.uploadArtifacts",
            "run.services.update"
        ])
    );

    // Terraform, proven again as written.
    let output = pipeleash(&args(
        snapshot,
        logs,
        &["--drop-unobservable", "--format", "terraform"],
    ));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("resource \"google_project_iam_custom_role\""));
    assert!(text.contains("resource \"google_project_iam_member\""));
    assert!(text.contains("role = google_project_iam_custom_role."));
}

#[test]
fn bad_inputs_are_input_errors_naming_what_to_do() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = snapshot(temp.path());
    let logs = logs(temp.path());
    let (snapshot_str, logs_str) = (snapshot.to_str().unwrap(), logs.to_str().unwrap());

    // An account the snapshot does not hold.
    let output = pipeleash(&[
        "minimize",
        "other@app.iam.gserviceaccount.com",
        "--snapshot",
        snapshot_str,
        "--gcp-audit-logs",
        logs_str,
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-29",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not in the inventory"));

    // A window with no entry: nothing is minimized.
    let output = pipeleash(&[
        "minimize",
        SA,
        "--snapshot",
        snapshot_str,
        "--gcp-audit-logs",
        logs_str,
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-31",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no entry in the window"));

    // No audit logs given.
    let output = pipeleash(&["minimize", SA, "--snapshot", snapshot_str]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--gcp-audit-logs"));

    // A snapshot without a GCP inventory.
    let empty = temp.path().join("empty");
    let writer = SnapshotWriter::create(&empty, Utc::now()).unwrap();
    writer.commit().unwrap();
    let output = pipeleash(&[
        "minimize",
        SA,
        "--snapshot",
        empty.to_str().unwrap(),
        "--gcp-audit-logs",
        logs_str,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("collect gcp"));
}

/// An account whose project no logged call names has unknown use: minimizing it would remove
/// everything it holds (the demo's `sandbox-ci`, and `web-deployer` given only another
/// project's logs).
#[test]
fn an_account_whose_project_the_logs_do_not_cover_is_refused() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/gcp-demo");
    let snapshot = demo.join("snapshot");
    let logs = demo.join("audit-logs");
    for account in [
        "sandbox-ci@acme-sandbox.iam.gserviceaccount.com",
        "web-deployer@acme-web.iam.gserviceaccount.com",
    ] {
        let only_data = tempfile::tempdir().unwrap();
        // The data project's entries only, as `gcloud logging read` would print them.
        let mut entries = Vec::new();
        for file in walk(&logs.join("cloudaudit.googleapis.com")) {
            for line in std::fs::read_to_string(&file).unwrap_or_default().lines() {
                if line.contains("projects/acme-data")
                    && serde_json::from_str::<Value>(line).is_ok()
                {
                    entries.push(serde_json::from_str::<Value>(line).unwrap());
                }
            }
        }
        let only = only_data.path().join("entries.json");
        std::fs::write(&only, serde_json::to_vec(&entries).unwrap()).unwrap();
        let source = if account.starts_with("sandbox") {
            logs.clone()
        } else {
            only
        };
        let output = pipeleash(&[
            "minimize",
            account,
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--gcp-audit-logs",
            source.to_str().unwrap(),
            "--since",
            "2026-11-14",
            "--until",
            "2026-11-20",
        ]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{account}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(output.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("its use is unknown"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}
