//! `pipeleash drift` on two snapshots of the demo organisation: the recorded snapshot, and a
//! copy with a grant widened, a trust wildcard added and a role deleted.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/files.rs"]
mod files;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const ACCOUNT_FILE: &str = "inventory/aws-210987654321.json";
const LAMBDA: &str = "arn:aws:iam::210987654321:role/ci/gha-lambda-deploy";
const WEB: &str = "arn:aws:iam::210987654321:role/ci/gha-deploy-web";
const DEPLOYER: &str = "arn:aws:iam::210987654321:role/ci/cross-account-deployer";

fn demo_snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/snapshot")
}

/// A copy of the demo snapshot at `dir`, with `edit` applied to account 210987654321.
fn snapshot_with(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    files::copy_dir(&demo_snapshot(), dir);
    let path = dir.join(ACCOUNT_FILE);
    let mut inventory: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut inventory);
    std::fs::write(&path, serde_json::to_vec_pretty(&inventory).unwrap()).unwrap();
    dir.to_path_buf()
}

fn role<'a>(inventory: &'a mut Value, arn: &str) -> &'a mut Value {
    inventory["roles"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|role| role["arn"] == arn)
        .unwrap()
}

/// Parses a policy stored as a JSON string, edits it, stores it back as a string.
fn edit_document(holder: &mut Value, key: &str, edit: impl FnOnce(&mut Value)) {
    let mut document: Value = serde_json::from_str(holder[key].as_str().unwrap()).unwrap();
    edit(&mut document);
    holder[key] = Value::String(document.to_string());
}

/// The three edits of the done-when scenario.
fn changed(inventory: &mut Value) {
    // A grant widened: the artifact-bucket statement of `functions` goes from four object
    // actions to `s3:*` on the same bucket.
    let lambda = role(inventory, LAMBDA);
    edit_document(&mut lambda["inline_policies"][0], "document", |document| {
        let statement = document["Statement"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|statement| statement["Action"][0] == "s3:GetObject")
            .unwrap();
        statement["Action"] = Value::from(vec!["s3:*"]);
    });
    // A trust wildcard added: any repository of `acme` may now deploy the web site.
    let web = role(inventory, WEB);
    edit_document(web, "trust_policy", |document| {
        document["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
            .as_array_mut()
            .unwrap()
            .push(Value::from("repo:acme/*"));
    });
    // A role deleted.
    inventory["roles"]
        .as_array_mut()
        .unwrap()
        .retain(|role| role["arn"] != DEPLOYER);
}

fn drift(from: &Path, to: &Path, format: &str) -> (Option<i32>, String) {
    let output = Command::new(BIN)
        .args(["drift", "--from"])
        .arg(from)
        .arg("--to")
        .arg(to)
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn identity<'a>(report: &'a Value, arn: &str) -> &'a Value {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|identity| identity["identity"] == arn)
        .unwrap_or_else(|| panic!("{arn} not in the drift report"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn widened_grant_trust_wildcard_and_deleted_role_are_exactly_the_drift() {
    let temp = tempfile::tempdir().unwrap();
    let before = snapshot_with(&temp.path().join("before"), |_| {});
    let after = snapshot_with(&temp.path().join("after"), changed);
    let (code, text) = drift(&before, &after, "json");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["format_version"], 1);
    let arns: Vec<&str> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| identity["identity"].as_str().unwrap())
        .collect();
    assert_eq!(arns, vec![DEPLOYER, WEB, LAMBDA], "{text}");

    // The widened grant: write actions of S3 newly granted, on the same bucket; nothing else.
    let lambda = identity(&report, LAMBDA);
    assert_eq!(lambda["change"], "changed");
    let newly = strings(&lambda["widened"]["newly_granted"]);
    assert!(newly.contains(&"s3:DeleteBucket".to_string()), "{newly:?}");
    assert!(
        newly.iter().all(|action| action.starts_with("s3:")),
        "{newly:?}"
    );
    assert!(!newly.contains(&"s3:GetObject".to_string()));
    assert_eq!(lambda["trust_added"], Value::Array(Vec::new()));
    assert_eq!(lambda["policies_attached"], Value::Array(Vec::new()));
    assert_eq!(lambda["severity"], "high");

    // The trust wildcard: one new subject, judged, and no grant change.
    let web = identity(&report, WEB);
    assert_eq!(web["change"], "changed");
    let added = web["trust_added"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0]["value"], "repo:acme/*");
    assert_eq!(added[0]["wildcard"], true);
    assert_eq!(added[0]["admits"], "any repository of one owner");
    assert_eq!(web["widened"]["newly_granted"], Value::Array(Vec::new()));
    assert_eq!(
        web["widened"]["on_more_resources"],
        Value::Array(Vec::new())
    );
    assert_eq!(web["trust_removed"], Value::Array(Vec::new()));

    // The deleted role.
    let deployer = identity(&report, DEPLOYER);
    assert_eq!(deployer["change"], "removed");
    assert_eq!(deployer["severity"], "info");

    assert_eq!(report["summary"]["identities_removed"], 1);
    assert_eq!(report["summary"]["identities_added"], 0);
    assert_eq!(report["summary"]["grants_widened"], 1);
    assert_eq!(report["summary"]["trust_widened"], 1);
    assert!(
        matches!(report["severity"].as_str(), Some("high" | "critical")),
        "{text}"
    );
    assert_eq!(code, Some(1), "high drift exits 1 by default");
    if report["severity"] == "high" {
        let output = Command::new(BIN)
            .args(["drift", "--fail-on", "critical", "--from"])
            .arg(&before)
            .arg("--to")
            .arg(&after)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "below `--fail-on`: exit 0");
    }
}

#[test]
fn identical_snapshots_have_no_drift() {
    let temp = tempfile::tempdir().unwrap();
    let before = snapshot_with(&temp.path().join("before"), |_| {});
    let after = snapshot_with(&temp.path().join("after"), |_| {});
    let (code, text) = drift(&before, &after, "json");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["identities"], Value::Array(Vec::new()), "{text}");
    assert_eq!(report["severity"], Value::Null);
    assert_eq!(code, Some(0));
    let (code, table) = drift(&before, &after, "table");
    assert_eq!(code, Some(0));
    assert!(table.contains("no drift"), "{table}");
}

#[test]
fn drift_output_is_deterministic_in_every_format() {
    let temp = tempfile::tempdir().unwrap();
    let before = snapshot_with(&temp.path().join("before"), |_| {});
    let after = snapshot_with(&temp.path().join("after"), changed);
    for format in ["json", "markdown", "table"] {
        let (_, first) = drift(&before, &after, format);
        let (_, second) = drift(&before, &after, format);
        assert_eq!(first, second, "{format}");
        assert!(first.contains("gha-deploy-web"), "{format}: {first}");
    }
    let (_, markdown) = drift(&before, &after, "markdown");
    assert!(markdown.starts_with("# Drift from"), "{markdown}");
    assert!(markdown.contains("| high | grant widened |"), "{markdown}");
}

#[test]
fn a_role_added_back_is_an_added_identity() {
    let temp = tempfile::tempdir().unwrap();
    let without = snapshot_with(&temp.path().join("without"), changed);
    let with = snapshot_with(&temp.path().join("with"), |_| {});
    let (_, text) = drift(&without, &with, "json");
    let report: Value = serde_json::from_str(&text).unwrap();
    let deployer = identity(&report, DEPLOYER);
    assert_eq!(deployer["change"], "added");
    // Going back narrows the lambda role's grant and its trust: info only.
    let lambda = identity(&report, LAMBDA);
    assert!(!strings(&lambda["narrowed"]["newly_granted"]).is_empty());
    assert_eq!(lambda["widened"]["newly_granted"], Value::Array(Vec::new()));
}

#[test]
fn drift_without_snapshots_is_a_usage_error() {
    let output = Command::new(BIN).arg("drift").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let temp = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["drift", "--from"])
        .arg(temp.path())
        .arg("--to")
        .arg(demo_snapshot())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("manifest.json"));
}
