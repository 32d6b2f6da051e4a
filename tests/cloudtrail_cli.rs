//! `pipeleash usage --cloudtrail` and `pipeleash generate cloudtrail`, end to end through the
//! binary.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

#[path = "support/files.rs"]
mod files;

fn trail() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail/trail")
}

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .unwrap()
}

/// `usage` of the fixture trail with `extra` flags, expected to fail as an input error
/// (exit code 2) with nothing on stdout; gives stderr.
fn usage_input_error(extra: &[&str]) -> String {
    let trail = trail();
    let mut args = vec!["usage", "--cloudtrail", trail.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = pipeleash(&args);
    assert_eq!(output.status.code(), Some(2), "usage {extra:?}");
    assert!(output.stdout.is_empty());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_usage(extra: &[&str]) -> Value {
    let trail = trail();
    let mut args = vec![
        "usage",
        "--cloudtrail",
        trail.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let output = pipeleash(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "--quiet prints nothing: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn identity<'v>(view: &'v Value, suffix: &str) -> &'v Value {
    view["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|identity| identity["identity"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no identity {suffix}"))
}

#[test]
fn json_output_is_versioned_and_carries_the_evidence() {
    let view = json_usage(&[]);
    assert_eq!(view["version"], 1);
    let deploy = identity(&view, ":role/gha-deploy");
    assert_eq!(deploy["kind"], "role");
    let get = deploy["used"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "s3:GetObject")
        .unwrap();
    assert_eq!(get["count"], 3);
    assert_eq!(get["inferred"], 1);
    assert_eq!(
        get["workloads"][0]["subject"],
        "repo:acme/web:ref:refs/heads/main"
    );
    assert_eq!(
        get["workloads"][0]["issuer"],
        "token.actions.githubusercontent.com"
    );
    assert_eq!(deploy["denied"][0]["action"], "ssm:GetParameter");
    assert_eq!(
        view["unknown_events"][0]["event_name"],
        "Frobnicate2025_01_01"
    );
    let skipped = view["coverage"]["files_skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert!(
        skipped[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("Corrupt000000000.json.gz")
    );
    assert!(skipped[0]["reason"].as_str().unwrap().contains("gzip"));
    assert_eq!(view["set_aside"]["aws-service"], 1);
}

#[test]
fn json_output_is_byte_identical_across_runs() {
    let trail = trail();
    let args = [
        "usage",
        "--cloudtrail",
        trail.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ];
    assert_eq!(pipeleash(&args).stdout, pipeleash(&args).stdout);
}

#[test]
fn since_and_until_accept_dates() {
    let view = json_usage(&["--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(view["window"]["since"], "2026-11-02T00:00:00Z");
    assert_eq!(view["window"]["until"], "2026-11-03T00:00:00Z");
    assert_eq!(view["coverage"]["first_event"], "2026-11-02T08:00:00Z");
    assert_eq!(view["coverage"]["last_event"], "2026-11-02T09:01:00Z");
    // A relative age is measured from now: every fixture file is far older than a day, so
    // none is left to read, which is said rather than reported as an idle window.
    let stderr = usage_input_error(&["--since", "1d"]);
    assert!(
        stderr.contains("no CloudTrail log file found under"),
        "{stderr}"
    );
}

#[test]
fn table_output_names_identities_and_skipped_files() {
    let trail = trail();
    let output = pipeleash(&["usage", "--cloudtrail", trail.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("arn:aws:iam::111122223333:role/gha-deploy (role)"));
    assert!(stdout.contains("DENIED"));
    assert!(stdout.contains("Truncated0000000.json.gz: invalid gzip data"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("2 CloudTrail file(s) could not be read"),
        "{stderr}"
    );
}

#[test]
fn bad_input_exits_with_code_2_and_says_why() {
    let trail = trail();
    let output = pipeleash(&[
        "usage",
        "--cloudtrail",
        trail.to_str().unwrap(),
        "--since",
        "soon",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the date `soon`"));
    let output = pipeleash(&["usage", "--cloudtrail", "/definitely/not/here"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("cannot read the CloudTrail directory `/definitely/not/here`")
    );
    let output = pipeleash(&[
        "usage",
        "--cloudtrail",
        trail.to_str().unwrap(),
        "--since",
        "2026-11-05",
        "--until",
        "2026-11-01",
    ]);
    assert_eq!(output.status.code(), Some(2));
}

/// A folder or window with no log file at all is a mistake to report, never a result in which
/// every permission looks unused.
#[test]
fn no_log_file_is_an_input_error_not_an_empty_result() {
    let empty = tempfile::tempdir().unwrap();
    let output = pipeleash(&["usage", "--cloudtrail", empty.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no CloudTrail log file found under"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    // Date folders outside the window are never opened: none is left to read.
    let stderr = usage_input_error(&["--since", "2025-01-01", "--until", "2025-01-31"]);
    assert!(
        stderr.contains("for 2025-01-01T00:00:00Z .. 2025-02-01T00:00:00Z"),
        "{stderr}"
    );
}

#[test]
fn generate_then_usage_round_trips() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let output = pipeleash(&[
        "generate",
        "cloudtrail",
        "--events",
        "2000",
        "--seed",
        "5",
        "--out",
        dir,
        "--quiet",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("wrote 2000 events in 2 files"));
    assert!(out.path().join("ground-truth.json").is_file());
    let logs = out.path().join("AWSLogs");
    let output = pipeleash(&[
        "usage",
        "--cloudtrail",
        logs.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    let view: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["coverage"]["events_read"], 2000);
    // The set's own folder reads the same: its ground truth is not taken for a damaged log
    // (before: "1 file could not be read" on every such read).
    let output = pipeleash(&["usage", "--cloudtrail", dir, "--format", "json"]);
    let root: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(root["coverage"]["events_read"], 2000);
    assert_eq!(root["coverage"]["files_skipped"], serde_json::json!([]));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("could not be read"));
    // A second set into the same folder, or into a file, is refused before anything is written.
    let file = out.path().join("ground-truth.json");
    for (target, says) in [(dir, "is not empty"), (file.to_str().unwrap(), "is a file")] {
        for generator in [
            vec!["generate", "cloudtrail", "--events", "10"],
            vec!["generate", "gcp-audit-logs", "--entries", "10"],
            vec!["generate", "azure-activity-logs", "--events", "10"],
        ] {
            let mut args = generator.clone();
            args.extend(["--out", target]);
            let output = pipeleash(&args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(says) && stderr.contains(target), "{stderr}");
        }
    }
    let written = files::count_files(out.path());
    assert_eq!(
        written, 3,
        "nothing was added: AWSLogs' 2 files and the ground truth"
    );
}

// ---------------------------------------------------------------------------------------------
// `minimize` on calls whose permissions the logs only imply (`tests/fixtures/cloudtrail/implied`)

fn implied_fixture(part: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail/implied")
        .join(part)
        .to_string_lossy()
        .into_owned()
}

/// (action, `kept` or `dropped`) for each granted action.
type Decisions = Vec<(String, String)>;
/// (action, resources) for each action of the minimized policy.
type Granted = Vec<(String, Vec<String>)>;

/// `minimize --explain` of one identity of the fixture snapshot against its trail.
fn minimize_implied(identity: &str) -> (Decisions, Granted) {
    let (snapshot, trail) = (implied_fixture("snapshot"), implied_fixture("trail"));
    let output = pipeleash(&[
        "minimize",
        identity,
        "--snapshot",
        &snapshot,
        "--cloudtrail",
        &trail,
        "--since",
        "2026-11-01",
        "--now",
        "2026-11-12T00:00:00Z",
        "--explain",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let decisions = report["explanation"]
        .as_array()
        .unwrap_or_else(|| panic!("no explanation in {report:#}"))
        .iter()
        .map(|decision| {
            (
                decision["action"].as_str().unwrap().to_owned(),
                decision["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut granted = Vec::new();
    for policy in report["policies"].as_array().unwrap() {
        for statement in policy["document"]["Statement"].as_array().unwrap() {
            let list = |value: &Value| -> Vec<String> {
                match value {
                    Value::String(one) => vec![one.clone()],
                    Value::Array(many) => many
                        .iter()
                        .map(|one| one.as_str().unwrap().to_owned())
                        .collect(),
                    _ => Vec::new(),
                }
            };
            for action in list(&statement["Action"]) {
                granted.push((action, list(&statement["Resource"])));
            }
        }
    }
    (decisions, granted)
}

fn decision<'d>(decisions: &'d [(String, String)], action: &str) -> &'d str {
    decisions
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .map(|(_, decision)| decision.as_str())
        .unwrap_or_else(|| panic!("no decision for {action} in {decisions:?}"))
}

fn resources_of<'g>(granted: &'g [(String, Vec<String>)], action: &str) -> &'g [String] {
    granted
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .map(|(_, resources)| resources.as_slice())
        .unwrap_or_else(|| panic!("{action} is not in the minimized policy: {granted:?}"))
}

#[test]
fn minimize_keeps_put_object_acl_that_an_acl_header_needed() {
    // `PutObject` with `x-amz-acl: public-read`: S3 authorizes `s3:PutObjectAcl` as well, and
    // the trail holds S3 data events, so dropping it would be a confident mistake.
    let (decisions, granted) = minimize_implied("arn:aws:iam::111122223333:role/gha-deploy");
    assert_eq!(decision(&decisions, "s3:PutObjectAcl"), "kept");
    assert_eq!(decision(&decisions, "s3:PutObject"), "kept");
    assert_eq!(
        resources_of(&granted, "s3:PutObjectAcl"),
        ["arn:aws:s3:::acme-site/index.html"]
    );
    // Minimization still happens: the unused delete goes.
    assert_eq!(decision(&decisions, "s3:DeleteObject"), "dropped");
}

#[test]
fn minimize_keeps_pass_role_on_the_role_of_a_passed_instance_profile() {
    // `RunInstances` names the instance profile `web-runner`; the snapshot says it holds
    // `role/runners/web-runner-role`, which is what `iam:PassRole` was checked against.
    let (decisions, granted) = minimize_implied("arn:aws:iam::111122223333:role/gha-deploy");
    assert_eq!(decision(&decisions, "iam:PassRole"), "kept");
    assert_eq!(
        resources_of(&granted, "iam:PassRole"),
        ["arn:aws:iam::111122223333:role/runners/web-runner-role"]
    );
}

#[test]
fn minimize_keeps_what_cloudformation_did_as_its_service_role() {
    // `cdk deploy`: CloudFormation calls Lambda as the CDK execution role
    // (`invokedBy: cloudformation.amazonaws.com`); the role is used, not idle.
    let (decisions, granted) = minimize_implied(
        "arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1",
    );
    assert_eq!(decision(&decisions, "lambda:UpdateFunctionCode"), "kept");
    assert_eq!(
        resources_of(&granted, "lambda:UpdateFunctionCode"),
        ["arn:aws:lambda:us-east-1:111122223333:function:web-edge"]
    );
    assert_eq!(decision(&decisions, "lambda:DeleteFunction"), "dropped");
}

#[test]
fn usage_shows_how_each_call_reached_aws() {
    let trail = implied_fixture("trail");
    let output = pipeleash(&[
        "usage",
        "--cloudtrail",
        &trail,
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let view: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploy = identity(&view, ":role/gha-deploy");
    let acl = deploy["used"]
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["action"] == "s3:PutObjectAcl")
        .unwrap();
    assert_eq!(acl["inferred"], 1);
    assert_eq!(acl["evidence"][0], "implied by PutObject x-amz-acl");
    let cfn = identity(
        &view,
        ":role/cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1",
    );
    assert_eq!(
        cfn["used"][0]["evidence"][0],
        "via cloudformation.amazonaws.com"
    );
}

/// An event whose action the catalog does not know is counted as used (a permission kept),
/// and `usage` says so on stderr, for a fresh read and for the same usage read back from a
/// snapshot (before: silently, and a snapshot read back warned of nothing at all).
#[test]
fn actions_the_catalog_does_not_know_and_skipped_files_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let record = serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/ci/run-1",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLE000000001",
            "sessionContext": {"sessionIssuer": {
                "type": "Role",
                "arn": "arn:aws:iam::111122223333:role/ci",
                "accountId": "111122223333",
                "userName": "ci"
            }}
        },
        "eventTime": "2026-11-10T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "FrobnicateWidget",
        "awsRegion": "us-east-1",
        "requestParameters": null,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    });
    std::fs::write(
        logs.join("111122223333_CloudTrail_us-east-1_20261110T1000Z_a.json"),
        serde_json::json!({ "Records": [record] }).to_string(),
    )
    .unwrap();
    std::fs::write(
        logs.join("111122223333_CloudTrail_us-east-1_20261110T1005Z_b.json"),
        "{",
    )
    .unwrap();
    let snapshot = dir.path().join("snapshot");
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/snapshot");
    files::copy_dir(&demo, &snapshot);
    let logs = logs.to_str().unwrap();
    let fresh = pipeleash(&[
        "usage",
        "--cloudtrail",
        logs,
        "--snapshot",
        snapshot.to_str().unwrap(),
    ]);
    let stored = pipeleash(&["usage", "--snapshot", snapshot.to_str().unwrap()]);
    for output in [fresh, stored] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr
                .contains("1 action(s) the logs name are not in the catalog (s3:FrobnicateWidget)"),
            "{stderr}"
        );
        assert!(
            stderr.contains("1 CloudTrail file(s) could not be read"),
            "{stderr}"
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("s3:FrobnicateWidget"));
    }
}

/// The same account and region under an organization trail's prefix and an account trail's:
/// `usage` warns that calls both delivered are counted twice, naming both prefixes (before:
/// every count silently doubled). One trail alone gives no such warning.
#[test]
fn an_account_and_region_under_two_trails_is_warned_about() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/cloudtrail");
    let file = std::fs::read_dir(demo.join("AWSLogs/210987654321/CloudTrail/eu-west-1/2026/11/15"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".json.gz"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trails = [
        "AWSLogs/210987654321/CloudTrail/eu-west-1/2026/11/15",
        "AWSLogs/o-abc123/210987654321/CloudTrail/eu-west-1/2026/11/15",
    ];
    for trail in trails {
        let folder = dir.path().join(trail);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(&file, folder.join(file.file_name().unwrap())).unwrap();
    }
    let output = pipeleash(&["usage", "--cloudtrail", dir.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "account 210987654321 region eu-west-1 has log files under 2 trails' prefixes"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("AWSLogs/o-abc123/`"), "{stderr}");
    let one = dir.path().join("AWSLogs/o-abc123");
    let output = pipeleash(&["usage", "--cloudtrail", one.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("trails' prefixes"));
}
