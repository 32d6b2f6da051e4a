//! `pipeleash policy check` and `policy simulate`, run as a user would: the built binary on
//! fixture files, checking exit codes and output.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policies")
        .join(name)
        .display()
        .to_string()
}

fn pipeleash(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipeleash")
}

fn check_json(file: &str) -> (i32, Value) {
    let output = pipeleash(&["policy", "check", "--format", "json", &fixture(file)]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("json on stdout");
    (output.status.code().expect("exit code"), report)
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["policies"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn passrole_with_run_instances_is_an_escalation_path() {
    let (code, report) = check_json("escalation-passrole-ec2.json");
    assert_eq!(report["version"], 1);
    let findings = report["policies"][0]["findings"].as_array().unwrap();
    let escalation = findings
        .iter()
        .find(|finding| finding["id"] == "privilege-escalation")
        .expect("privilege-escalation finding");
    assert!(
        escalation["message"]
            .as_str()
            .unwrap()
            .contains("iam-passrole-ec2")
    );
    assert_eq!(escalation["confidence"], "high");
    assert!(finding_ids(&report).contains(&"write-on-any-resource".to_string()));
    // Medium escalation (a passed role) is below the default `--fail-on high`, but the
    // `iam:PassRole` on `*` is a write on any resource: medium too. Nothing is high.
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_deny_in_the_same_policy_breaks_the_escalation_path() {
    let (_, report) = check_json("escalation-denied.json");
    assert!(!finding_ids(&report).contains(&"privilege-escalation".to_string()));
}

#[test]
fn scoped_read_only_policy_is_clean() {
    let (code, report) = check_json("scoped-read.json");
    assert_eq!(finding_ids(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(code, 0);
}

#[test]
fn actions_that_only_take_star_are_not_reported_as_write_on_any_resource() {
    let (_, report) = check_json("describe-on-star.json");
    assert_eq!(finding_ids(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn misspelled_action_in_a_deny_is_reported_as_medium() {
    let (_, report) = check_json("typo-in-deny.json");
    let findings = report["policies"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["id"], "unknown-action");
    assert_eq!(findings[0]["severity"], "medium");
    assert!(
        findings[0]["subject"]
            .as_str()
            .unwrap()
            .ends_with("statement 2")
    );
}

#[test]
fn allow_with_not_resource_is_reported() {
    let (_, report) = check_json("not-resource.json");
    assert!(finding_ids(&report).contains(&"allow-with-not-resource".to_string()));
}

#[test]
fn url_encoded_documents_are_checked_like_raw_ones() {
    let (_, report) = check_json("url-encoded-s3-star.json");
    assert_eq!(report["policies"][0]["statements"], 1);
    assert!(finding_ids(&report).contains(&"wildcard-action".to_string()));
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    let file = fixture("escalation-passrole-ec2.json");
    let strict = pipeleash(&["policy", "check", "--fail-on", "medium", &file]);
    assert_eq!(strict.status.code(), Some(1));
    let lax = pipeleash(&["policy", "check", "--fail-on", "critical", &file]);
    assert_eq!(lax.status.code(), Some(0));
}

#[test]
fn malformed_policy_names_file_statement_and_field_and_the_rest_is_still_checked() {
    let bad = fixture("malformed-effect.json");
    let good = fixture("escalation-passrole-ec2.json");
    let output = pipeleash(&["policy", "check", "--format", "json", &bad, &good]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("malformed-effect.json"), "{stderr}");
    assert!(stderr.contains("statement 3"), "{stderr}");
    assert!(stderr.contains("`Effect`"), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json on stdout");
    assert_eq!(report["policies"].as_array().unwrap().len(), 1);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn missing_file_is_an_input_error() {
    let output = pipeleash(&["policy", "check", "/nonexistent/policy.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read policy"));
}

#[test]
fn demo_policies_table() {
    // A relative path, so that the table (which wraps long cells) is the same in any clone.
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["policy", "check", "recorded-fixtures/demo/aws/policies"])
        .output()
        .expect("run pipeleash");
    assert_eq!(output.status.code(), Some(1), "the demo has high findings");
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

/// Only files that fail to parse: the summary says that nothing was checked, never "no
/// findings in 0 policy file(s)".
#[test]
fn only_unparseable_files_say_what_failed() {
    let bad = fixture("malformed-effect.json");
    let output = pipeleash(&["policy", "check", &bad]);
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("no findings"), "{stdout}");
    assert!(
        stdout.contains("no policy file was checked: all 1 failed to read or parse"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("malformed-effect.json"), "{stderr}");

    // With a good file too, the summary counts the failed one apart.
    let good = fixture("scoped-read.json");
    let output = pipeleash(&["policy", "check", &bad, &good]);
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("in 1 policy file(s); 1 could not be checked"),
        "{stdout}"
    );
}

/// A role trust policy that trusts every GitHub repository is judged by the trust checks
/// that need only the document, not reported as clean.
#[test]
fn trust_policy_with_any_repository_is_judged_by_the_trust_checks() {
    let (code, report) = check_json("trust-github-any-repository.json");
    let findings = report["policies"][0]["findings"].as_array().unwrap();
    let wildcard = findings
        .iter()
        .find(|finding| finding["id"] == "oidc-subject-wildcard")
        .unwrap_or_else(|| panic!("oidc-subject-wildcard finding: {report:#}"));
    assert_eq!(wildcard["severity"], "critical");
    assert!(
        wildcard["subject"]
            .as_str()
            .unwrap()
            .ends_with("trust-github-any-repository.json`")
    );
    assert_eq!(code, 1, "{report:#}");
    let table = pipeleash(&[
        "policy",
        "check",
        &fixture("trust-github-any-repository.json"),
    ]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(!text.contains("no findings"), "{text}");
    assert!(text.contains("oidc-subject-wildcard"), "{text}");
}

#[test]
fn trust_policy_pinned_to_a_branch_is_clean() {
    let (code, report) = check_json("trust-github-pinned-branch.json");
    assert!(finding_ids(&report).is_empty(), "{report:#}");
    assert_eq!(code, 0);
}

/// Trusts of everyone and of another account are judged from the document too; without an
/// identity provider ARN the role's own account is unknown, so a whole-account trust is not
/// called external.
#[test]
fn trust_policy_assumable_by_anyone_is_reported() {
    let (code, report) = check_json("trust-external-account.json");
    let ids = finding_ids(&report);
    assert!(
        ids.contains(&"role-assumable-by-anyone".to_string()),
        "{report:#}"
    );
    assert!(
        !ids.contains(&"external-account-without-external-id".to_string()),
        "{report:#}"
    );
    assert_eq!(code, 1);
}
