//! `pipeleash minimize` through the binary, on the fixtures in `tests/fixtures/minimize/`;
//! its output is fed back through `pipeleash policy check` and `pipeleash policy simulate`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const NOW: &str = "2026-04-01T00:00:00Z";

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/minimize")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run pipeleash")
}

fn minimize(extra: &[&str]) -> Output {
    let policy = fixture("deploy.json");
    let boundary = fixture("boundary.json");
    let usage = fixture("usage.json");
    let mut args = vec![
        "minimize",
        "--policy",
        &policy,
        "--boundary",
        &boundary,
        "--usage",
        &usage,
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Writes each minimized document to its own file and returns the paths.
fn write_documents(report: &Value, directory: &Path) -> Vec<PathBuf> {
    report["policies"]
        .as_array()
        .expect("policies array")
        .iter()
        .map(|policy| {
            let path = directory.join(format!("{}.json", policy["name"].as_str().unwrap()));
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&policy["document"]).unwrap(),
            )
            .unwrap();
            path
        })
        .collect()
}

fn simulate(documents: &[PathBuf], boundary: &str, action: &str, resource: &str) -> (i32, Value) {
    let mut command = Command::new(BIN);
    command.args(["policy", "simulate", "--format", "json"]);
    for document in documents {
        command.arg("--policy").arg(document);
    }
    command.args([
        "--boundary",
        boundary,
        "--principal",
        "arn:aws:iam::111122223333:role/ci-deploy",
        "--action",
        action,
        "--resource",
        resource,
        "--context",
        "aws:RequestedRegion=eu-west-1",
    ]);
    let output = command.output().expect("run pipeleash");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

#[test]
fn minimized_policy_round_trips_through_check_and_simulate() {
    let output = minimize(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["format"], "pipeleash-minimize/v1");
    assert!(report.get("explanation").is_none());
    assert_eq!(
        report["missing_permissions"][0]["action"],
        "ecs:CreateService"
    );

    let directory = tempfile::tempdir().unwrap();
    let documents = write_documents(&report, directory.path());
    assert!(!documents.is_empty());

    // `policy check` parses them (exit 0 or 1 by findings, never 2 for bad input).
    let mut check = Command::new(BIN);
    check
        .args(["policy", "check", "--format", "json"])
        .args(&documents);
    let checked = check.output().unwrap();
    assert!(
        matches!(checked.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let boundary = fixture("boundary.json");
    // Used: allowed, and its siblings under the generalized prefix too.
    for resource in [
        "arn:aws:s3:::acme-artifacts/web/1.1.0/app.tgz",
        "arn:aws:s3:::acme-artifacts/web/2.0.0/app.tgz",
    ] {
        let (code, decision) = simulate(&documents, &boundary, "s3:GetObject", resource);
        assert_eq!(code, 0, "{decision}");
        assert_eq!(decision["decision"], "allowed", "{decision}");
    }
    // Unused: implicitly denied.
    let (code, decision) = simulate(
        &documents,
        &boundary,
        "s3:DeleteObject",
        "arn:aws:s3:::acme-artifacts/web/1.1.0/app.tgz",
    );
    assert_eq!(code, 1, "{decision}");
    assert_eq!(decision["decision"], "implicitly-denied", "{decision}");
    // Outside the generalized prefix: denied.
    let (code, _) = simulate(
        &documents,
        &boundary,
        "s3:GetObject",
        "arn:aws:s3:::acme-artifacts/secrets/key",
    );
    assert_eq!(code, 1);
}

#[test]
fn explain_lists_every_decision_in_json() {
    let output = minimize(&["--explain"]);
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let explanation = report["explanation"].as_array().unwrap();
    let find = |action: &str| {
        explanation
            .iter()
            .find(|entry| entry["action"] == action)
            .unwrap_or_else(|| panic!("{action} missing"))
    };
    assert_eq!(find("s3:DeleteObject")["decision"], "dropped");
    assert_eq!(find("iam:PassRole")["decision"], "kept");
    assert!(
        find("iam:PassRole")["reasons"][0]
            .as_str()
            .unwrap()
            .contains("unobservable")
    );
    assert!(
        find("s3:GetObject")["reasons"][0]
            .as_str()
            .unwrap()
            .contains("used 7 time(s)")
    );
}

#[test]
fn terraform_output_is_deterministic_with_evidence_on_stderr() {
    let first = minimize(&["--format", "terraform", "--explain"]);
    let second = minimize(&["--format", "terraform", "--explain"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout);
    let text = String::from_utf8(first.stdout).unwrap();
    assert!(text.starts_with("data \"aws_iam_policy_document\" \"minimized\" {"));
    assert!(
        text.contains("      variable = \"aws:RequestedRegion\""),
        "{text}"
    );
    assert!(
        text.contains("resources = [\"arn:aws:s3:::acme-artifacts/web/*\"]"),
        "{text}"
    );
    let stderr = String::from_utf8(first.stderr).unwrap();
    assert!(stderr.contains("s3:DeleteObject"), "{stderr}");
}

#[test]
fn drop_unobservable_drops_pass_role() {
    let output = minimize(&["--drop-unobservable"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains("iam:PassRole"), "{text}");
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let directory = tempfile::tempdir().unwrap();
    let usage = directory.path().join("usage.json");
    std::fs::write(
        &usage,
        r#"{"coverage":{"since":"2026-01-01T00:00:00Z","until":"2026-04-01T00:00:00Z",
            "data_events_services":["s3"]},"usage":[]}"#,
    )
    .unwrap();
    let policy = fixture("deploy.json");
    let output = run(&[
        "minimize",
        "--policy",
        &policy,
        "--usage",
        usage.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("data_events_services"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = minimize(&["--since", "ninety days"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`--since`: cannot read the date `ninety days`"),
        "{stderr}"
    );
}

#[test]
fn usage_file_workload_without_an_issuer_is_refused_by_name() {
    let directory = tempfile::tempdir().unwrap();
    let usage = directory.path().join("usage.json");
    std::fs::write(
        &usage,
        r#"{"coverage":{"since":"2026-01-01T00:00:00Z","until":"2026-04-01T00:00:00Z"},
            "usage":[{"action":"s3:GetObject","resource":"*","allowed_count":1,
              "first_seen":"2026-02-01T00:00:00Z","last_seen":"2026-02-01T00:00:00Z",
              "workloads":["github:repo:acme/web:ref:refs/heads/main","deploy-job"]}]}"#,
    )
    .unwrap();
    let policy = fixture("deploy.json");
    let output = run(&[
        "minimize",
        "--policy",
        &policy,
        "--usage",
        usage.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`usage[0].workloads[1]` `deploy-job` must be `<issuer host>:<subject>`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn incomplete_window_is_warned_even_when_quiet() {
    let directory = tempfile::tempdir().unwrap();
    let usage = directory.path().join("usage.json");
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("usage.json")).unwrap()).unwrap();
    file["coverage"]["skipped_files"] = serde_json::json!([
        {"path": "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/02/11/bad.json.gz",
         "reason": "unexpected end of gzip stream"}
    ]);
    std::fs::write(&usage, file.to_string()).unwrap();
    let policy = fixture("deploy.json");
    let output = run(&[
        "--quiet",
        "minimize",
        "--policy",
        &policy,
        "--usage",
        usage.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INCOMPLETE WINDOW"), "{stderr}");
    assert!(stderr.contains("bad.json.gz"), "{stderr}");
}

/// `minimize` takes the same window flags as `audit` and `usage` (issue: it refused
/// `--until`): the window ends at `--until`, and an empty window is an input error.
#[test]
fn minimize_takes_the_window_flags_audit_and_usage_take() {
    let output = minimize(&["--since", "2026-01-01", "--until", "2026-03-31"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["window"]["since"], "2026-01-01T00:00:00+00:00");
    assert_eq!(report["window"]["until"], "2026-04-01T00:00:00+00:00");

    let output = minimize(&["--since", "2026-03-01", "--until", "2026-02-01"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the window is empty"), "{stderr}");
    assert!(stderr.contains("`--until 2026-02-01`"), "{stderr}");

    // The three commands that read a window accept the same flags.
    for command in [
        &["minimize"][..],
        &["audit"][..],
        &["usage"][..],
        &["analyze"][..],
    ] {
        let output = run(&[command, &["--help"]].concat());
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in ["--since", "--until", "--now"] {
            assert!(help.contains(flag), "`{}` lacks {flag}", command[0]);
        }
    }
}
