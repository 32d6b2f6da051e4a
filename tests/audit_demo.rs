//! The whole AWS job on the demo organisation: a snapshot recorded with `collect aws`, a week
//! of generated CloudTrail with a corrupt file, and the generator's ground truth.

use pipeleash::aws::audit::audit;
use pipeleash::aws::cloudtrail::{IngestOptions, TimeWindow, ingest_directory};
use pipeleash::aws::minimize::{MinimizeOptions, Reason};
use pipeleash::aws::normalize::normalize;
use pipeleash::catalog::Catalog;
use pipeleash::model::ObservationWindow;
use pipeleash::snapshot::Snapshot;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn demo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("recorded-fixtures/demo")
        .join(path)
}

fn time(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

fn window() -> ObservationWindow {
    ObservationWindow {
        since: time("2026-11-14T00:00:00Z"),
        until: time("2026-11-21T00:00:00Z"),
    }
}

/// Role name → actions the generator made it use (allowed), per account.
fn ground_truth() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(demo("cloudtrail-ground-truth.json")).unwrap();
    let truth: Value = serde_json::from_str(&text).unwrap();
    truth["allowed"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(arn, actions)| {
            let actions = actions
                .as_array()
                .unwrap()
                .iter()
                .map(|action| action.as_str().unwrap().to_ascii_lowercase())
                .collect();
            (arn.clone(), actions)
        })
        .collect()
}

/// `arn:aws:iam::1:role/ci/name` and `arn:aws:iam::1:role/name` are the same role.
fn without_path(arn: &str) -> String {
    let (head, name) = arn.rsplit_once('/').unwrap();
    let (prefix, _) = head.split_once('/').unwrap_or((head, ""));
    format!("{prefix}/{name}")
}

#[test]
fn every_used_action_is_kept_and_nothing_unused_unless_unobservable() {
    let inventories = Snapshot::open(&demo("snapshot"))
        .unwrap()
        .aws_inventories()
        .unwrap();
    let normalized = normalize(&inventories);
    let usage = ingest_directory(
        &demo("cloudtrail"),
        &IngestOptions {
            window: TimeWindow {
                since: Some(window().since),
                until: Some(window().until),
            },
            progress: None,
        },
    )
    .unwrap();
    assert_eq!(
        usage.coverage.sources_skipped.len(),
        1,
        "the planted corrupt file"
    );
    let catalog = Catalog::aws().unwrap();
    let report = audit(
        &normalized,
        Some(&usage),
        window(),
        catalog,
        &MinimizeOptions::default(),
    );
    let truth = ground_truth();
    let mut roles_checked = 0;
    for identity in &report.identities {
        let minimized = match &identity.minimized {
            Some(Ok(minimized)) => minimized,
            other => panic!("{}: {other:?}", identity.identity.id),
        };
        let arn = without_path(identity.identity.id.native());
        let used = truth.get(&arn).cloned().unwrap_or_default();
        let kept: BTreeSet<String> = minimized
            .decisions
            .iter()
            .filter(|decision| decision.kept)
            .map(|decision| decision.action.to_ascii_lowercase())
            .collect();
        // Recall: every action the generator used is kept…
        let missing: Vec<_> = used.difference(&kept).collect();
        assert!(missing.is_empty(), "{arn}: used but dropped: {missing:?}");
        // …and appears in the printed documents.
        let documents: Vec<String> = minimized
            .policies
            .iter()
            .map(|policy| policy.document.to_json().to_string().to_ascii_lowercase())
            .collect();
        for action in &used {
            assert!(
                documents
                    .iter()
                    .any(|document| document.contains(&format!("\"{action}\""))),
                "{arn}: `{action}` not in the minimized documents"
            );
        }
        // Precision: anything kept but not used is labelled unobservable.
        for decision in minimized.decisions.iter().filter(|decision| decision.kept) {
            if used.contains(&decision.action.to_ascii_lowercase()) {
                continue;
            }
            assert!(
                decision.reasons.iter().any(|reason| matches!(
                    reason,
                    Reason::Unobservable { .. } | Reason::NotInCatalog
                )),
                "{arn}: `{}` kept without use or label: {:?}",
                decision.action,
                decision.reasons
            );
        }
        if !used.is_empty() {
            roles_checked += 1;
        }
    }
    assert_eq!(
        roles_checked, 9,
        "8 CI roles and the legacy user have usage"
    );
}

fn pipeleash(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

const EVIDENCE: [&str; 10] = [
    "--snapshot",
    "recorded-fixtures/demo/snapshot",
    "--cloudtrail",
    "recorded-fixtures/demo/cloudtrail",
    "--since",
    "2026-11-14",
    "--until",
    "2026-11-20",
    "--now",
    "2026-11-22T00:00:00Z",
];

#[test]
fn analyze_reports_counts_findings_and_the_corrupt_file() {
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(EVIDENCE);
    let output = pipeleash(&args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "critical findings in the demo"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["version"], 1);
    let identities = report["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 13);
    let coverage = report["coverage"].as_array().unwrap();
    assert!(
        coverage
            .iter()
            .any(|line| line.as_str().unwrap().contains("truncated.json.gz")),
        "{coverage:?}"
    );
    let find = |suffix: &str| {
        identities
            .iter()
            .find(|identity| identity["identity"].as_str().unwrap().ends_with(suffix))
            .unwrap()
    };
    let ids = |identity: &Value| -> Vec<String> {
        identity["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["id"].as_str().unwrap().to_string())
            .collect()
    };
    let unused_role = find("210987654321:role/ci/gha-readonly-audit");
    assert_eq!(unused_role["counts"]["used"], 0);
    assert!(ids(unused_role).contains(&"never-used-identity".to_string()));
    let terraform = find("210987654321:role/ci/gha-terraform");
    assert!(terraform["counts"]["granted"].as_u64().unwrap() > 20_000);
    assert_eq!(terraform["counts"]["used"], 16);
    assert!(ids(terraform).contains(&"unused-permissions".to_string()));
    assert!(ids(terraform).contains(&"missing-permissions".to_string()));
    // The pipeline signs with one key; the logs name it, so only the forgotten one is
    // reported, with high confidence.
    let legacy = find("user/ci/ci-legacy");
    let unused_keys: Vec<&Value> = legacy["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["id"] == "unused-access-key")
        .collect();
    assert_eq!(unused_keys.len(), 1, "{unused_keys:#?}");
    assert!(
        unused_keys[0]["subject"]
            .as_str()
            .unwrap()
            .contains("AKIAI44QH8DHBEXAMPLE"),
        "{unused_keys:#?}"
    );
    // The demo's truncated log file is of the same account: it may hold a call signed with the
    // key, so "no use" is said with low confidence only.
    assert_eq!(unused_keys[0]["confidence"], "low", "{unused_keys:#?}");
    // Trust findings from the access graph appear with the identity they concern.
    assert!(
        ids(find("role/ci/gitlab-docs-publish"))
            .contains(&"oidc-trust-without-subject".to_string())
    );
    assert!(ids(terraform).contains(&"ci-escalation-to-admin".to_string()));
    let deploy = find("210987654321:role/ci/gha-release-api");
    assert!(!ids(deploy).contains(&"never-used-identity".to_string()));
}

#[test]
fn audit_prints_minimized_policies_that_policy_check_accepts() {
    let mut args = vec!["audit", "--format", "json"];
    args.extend(EVIDENCE);
    let output = pipeleash(&args);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    for identity in report["identities"].as_array().unwrap() {
        for (index, policy) in identity["minimized_policies"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let path = dir.path().join(format!("{written}-{index}.json"));
            std::fs::write(&path, policy.to_string()).unwrap();
            written += 1;
        }
    }
    assert!(written >= 9, "{written} policies");
    let check = pipeleash(&[
        "policy",
        "check",
        "--format",
        "json",
        "--fail-on",
        "critical",
        dir.path().to_str().unwrap(),
    ]);
    let checked: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(
        checked["errors"].as_array().unwrap().len(),
        0,
        "{checked:#}"
    );
    assert_eq!(checked["policies"].as_array().unwrap().len(), written);
}

#[test]
fn minimize_from_snapshot_allows_used_calls_and_not_unused_ones() {
    let output = pipeleash(&[
        "minimize",
        "arn:aws:iam::210987654321:role/ci/gha-deploy-web",
        "--snapshot",
        "recorded-fixtures/demo/snapshot",
        "--cloudtrail",
        "recorded-fixtures/demo/cloudtrail",
        "--since",
        "2026-11-14T00:00:00Z",
        "--now",
        "2026-11-21T00:00:00Z",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INCOMPLETE WINDOW"), "{stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let document = &result["policies"][0]["document"];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minimized.json");
    std::fs::write(&path, document.to_string()).unwrap();
    let simulate = |action: &str, resource: &str| {
        pipeleash(&[
            "policy",
            "simulate",
            "--policy",
            path.to_str().unwrap(),
            "--action",
            action,
            "--resource",
            resource,
        ])
        .status
        .code()
    };
    assert_eq!(
        simulate(
            "s3:PutObject",
            "arn:aws:s3:::web-assets-210987654321/builds/002/app-0.tar.gz"
        ),
        Some(0)
    );
    assert_eq!(simulate("cloudfront:CreateInvalidation", "*"), Some(0));
    // Granted by `cloudfront:*` / `s3:*` today, never used: gone.
    assert_eq!(simulate("cloudfront:DeleteDistribution", "*"), Some(1));
    assert_eq!(
        simulate("s3:PutBucketPolicy", "arn:aws:s3:::web-assets-210987654321"),
        Some(1)
    );
}

#[test]
fn ambiguous_identity_name_is_an_input_error_naming_the_candidates() {
    let output = pipeleash(&[
        "minimize",
        "gha-deploy-web",
        "--snapshot",
        "recorded-fixtures/demo/snapshot",
        "--cloudtrail",
        "recorded-fixtures/demo/cloudtrail",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("names 2 identities"), "{stderr}");
    assert!(
        stderr.contains("arn:aws:iam::345678901234:role/ci/gha-deploy-web"),
        "{stderr}"
    );
}

/// Logs that hold no event in the window say so: every permission would otherwise look unused.
#[test]
fn a_window_without_events_is_warned_about() {
    let (report, stderr) = analyze_json(
        "recorded-fixtures/demo/cloudtrail",
        ["2026-11-21", "2026-11-22"],
    );
    assert_coverage_says(&report, "hold no event in the window");
    assert!(stderr.contains("hold no event in the window"), "{stderr}");
}

/// `analyze --format json` of the demo snapshot with `cloudtrail` over `[since, until]`:
/// the report and stderr.
fn analyze_json(cloudtrail: &str, [since, until]: [&str; 2]) -> (Value, String) {
    let output = pipeleash(&[
        "analyze",
        "--format",
        "json",
        "--snapshot",
        "recorded-fixtures/demo/snapshot",
        "--cloudtrail",
        cloudtrail,
        "--since",
        since,
        "--until",
        until,
    ]);
    let report = serde_json::from_slice(&output.stdout).unwrap();
    (report, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn assert_coverage_says(report: &Value, text: &str) {
    let coverage = report["coverage"].as_array().unwrap();
    assert!(
        coverage
            .iter()
            .any(|line| line.as_str().unwrap().contains(text)),
        "{coverage:#?}"
    );
}

/// With one account's logs only, the other account's identities are not "unused": their use
/// is unknown, they are not minimized, and the report says which account's logs are missing.
#[test]
fn identities_of_an_account_without_logs_are_not_called_unused() {
    let logs = "recorded-fixtures/demo/cloudtrail/AWSLogs/210987654321";
    let (report, _) = analyze_json(logs, ["2026-11-14", "2026-11-20"]);
    assert_coverage_says(
        &report,
        "no CloudTrail event of account 345678901234 was read",
    );
    for identity in report["identities"].as_array().unwrap() {
        let ids: Vec<&str> = identity["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["id"].as_str().unwrap())
            .collect();
        if identity["account"] == "345678901234" {
            assert!(identity["counts"].is_null(), "{identity:#?}");
            for id in [
                "never-used-identity",
                "unused-permissions",
                "unused-trusted-subject",
            ] {
                assert!(!ids.contains(&id), "{id} for {}", identity["identity"]);
            }
        } else {
            assert!(!identity["counts"].is_null(), "{identity:#?}");
        }
    }
    let output = pipeleash(&[
        "minimize",
        "arn:aws:iam::345678901234:role/ci/gha-sandbox",
        "--snapshot",
        "recorded-fixtures/demo/snapshot",
        "--cloudtrail",
        logs,
        "--since",
        "2026-11-14",
        "--now",
        "2026-11-21T00:00:00Z",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hold no event of account 345678901234"),
        "{stderr}"
    );
}

/// A window that holds no event (logs of other dates only) is no evidence of idleness: no
/// identity is called unused, none is minimized, `minimize` refuses with exit code 2 and
/// `usage` warns. Before, an empty window printed a "proven" policy without the role's
/// deploy actions.
#[test]
fn a_window_without_events_minimizes_nothing() {
    let (report, _) = analyze_json(
        "recorded-fixtures/demo/cloudtrail",
        ["2026-11-21", "2026-11-22"],
    );
    for identity in report["identities"].as_array().unwrap() {
        assert!(identity["counts"].is_null(), "{identity:#?}");
        for finding in identity["findings"].as_array().unwrap() {
            let id = finding["id"].as_str().unwrap();
            assert!(
                ![
                    "never-used-identity",
                    "unused-permissions",
                    "unused-trusted-subject"
                ]
                .contains(&id),
                "{id} for {}",
                identity["identity"]
            );
        }
    }
    let minimize = pipeleash(&[
        "minimize",
        "arn:aws:iam::210987654321:role/ci/gha-lambda-deploy",
        "--snapshot",
        "recorded-fixtures/demo/snapshot",
        "--cloudtrail",
        "recorded-fixtures/demo/cloudtrail",
        "--since",
        "2026-11-21T00:00:00Z",
        "--until",
        "2026-11-21T06:00:00Z",
    ]);
    assert_eq!(minimize.status.code(), Some(2));
    assert!(minimize.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&minimize.stderr);
    assert!(stderr.contains("hold no event in the window"), "{stderr}");
    let usage = pipeleash(&[
        "usage",
        "--cloudtrail",
        "recorded-fixtures/demo/cloudtrail",
        "--since",
        "2026-11-21T00:00:00Z",
        "--until",
        "2026-11-21T06:00:00Z",
    ]);
    assert_eq!(usage.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&usage.stderr);
    assert!(stderr.contains("hold no event in the window"), "{stderr}");
}
