//! `pipeleash init` and `audit --config pipeleash.toml` on the demo snapshot.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const DEPLOYER: &str = "arn:aws:iam::210987654321:role/ci/cross-account-deployer";

fn demo_snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/snapshot")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn findings_of<'a>(report: &'a Value, arn: &str) -> Vec<&'a str> {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|identity| identity["identity"] == arn)
        .unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["id"].as_str().unwrap())
        .collect()
}

fn audit_json(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let snapshot = demo_snapshot();
    let mut args = vec![
        "audit",
        "--config",
        "pipeleash.toml",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--now",
        "2026-11-22",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = run(dir, &args);
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    let report = serde_json::from_slice(&output.stdout).unwrap();
    (output, report)
}

#[test]
fn the_example_init_writes_passes_validation_and_runs() {
    let temp = tempfile::tempdir().unwrap();
    let output = run(temp.path(), &["init"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(temp.path().join("pipeleash.toml").is_file());
    // Not overwritten by accident.
    let again = run(temp.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    // The example's suppression holds on 2026-11-22: the deployer's wildcard is not reported.
    let (_, report) = audit_json(temp.path(), &[]);
    let findings = findings_of(&report, DEPLOYER);
    assert!(!findings.contains(&"wildcard-action"), "{findings:?}");
    assert!(!findings.contains(&"expired-suppression"), "{findings:?}");
    assert!(findings.contains(&"write-on-any-resource"), "{findings:?}");
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("pipeleash.toml"), text).unwrap();
}

#[test]
fn an_expired_suppression_is_reported_and_suppresses_nothing() {
    let temp = tempfile::tempdir().unwrap();
    write_config(
        temp.path(),
        &format!(
            "[[suppress]]\ncheck = \"wildcard-action\"\nidentity = \"{DEPLOYER}\"\nreason = \"legacy\"\nexpires = 2026-11-01\n"
        ),
    );
    let (_, report) = audit_json(temp.path(), &[]);
    let findings = findings_of(&report, DEPLOYER);
    assert!(findings.contains(&"wildcard-action"), "{findings:?}");
    assert!(findings.contains(&"expired-suppression"), "{findings:?}");
}

#[test]
fn flags_override_the_file() {
    let temp = tempfile::tempdir().unwrap();
    write_config(
        temp.path(),
        "[report]\nformat = \"table\"\nfail_on = \"info\"\n",
    );
    // `--format json` on the command line wins over `format = "table"`.
    let (output, _) = audit_json(temp.path(), &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "fail_on = info: any finding fails"
    );
    let (output, _) = audit_json(temp.path(), &["--fail-on", "critical"]);
    let worst_is_critical = String::from_utf8_lossy(&output.stdout).contains("\"critical\"");
    assert_eq!(
        output.status.code(),
        Some(if worst_is_critical { 1 } else { 0 })
    );
}

#[test]
fn the_store_gives_the_latest_snapshot_and_the_report_goes_to_its_path() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let target = store.join("20261122T040851Z");
    std::fs::create_dir_all(target.join("inventory")).unwrap();
    for file in [
        "manifest.json",
        "inventory/aws-210987654321.json",
        "inventory/aws-345678901234.json",
    ] {
        std::fs::copy(demo_snapshot().join(file), target.join(file)).unwrap();
    }
    write_config(
        temp.path(),
        "[store]\npath = \"store\"\n[report]\nformat = \"json\"\npath = \"reports/audit.json\"\n[aws]\naccounts = [\"210987654321\", \"345678901234\"]\n",
    );
    let output = run(
        temp.path(),
        &["audit", "--config", "pipeleash.toml", "--now", "2026-11-22"],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
    let report: Value =
        serde_json::from_slice(&std::fs::read(temp.path().join("reports/audit.json")).unwrap())
            .unwrap();
    assert!(!report["identities"].as_array().unwrap().is_empty());
}

#[test]
fn config_errors_name_the_key_and_line_and_exit_2() {
    let temp = tempfile::tempdir().unwrap();
    write_config(temp.path(), "[window]\nsince = \"30d\"\nuntill = \"1d\"\n");
    let output = run(
        temp.path(),
        &["audit", "--config", "pipeleash.toml", "--snapshot", "x"],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("untill") && message.contains("line 3"),
        "{message}"
    );

    write_config(temp.path(), "[aws]\naccounts = [\"111122223333\"]\n");
    let snapshot = demo_snapshot();
    let output = run(
        temp.path(),
        &[
            "audit",
            "--config",
            "pipeleash.toml",
            "--snapshot",
            snapshot.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("111122223333"),
        "{}",
        stderr(&output)
    );

    let output = run(temp.path(), &["audit", "--config", "missing.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );

    write_config(temp.path(), "[store]\npath = \"empty-store\"\n");
    let output = run(temp.path(), &["audit", "--config", "pipeleash.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("holds no snapshot"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sarif_from_the_configuration_and_a_summary_line_on_stderr() {
    let temp = tempfile::tempdir().unwrap();
    write_config(temp.path(), "[report]\nformat = \"sarif\"\n");
    let snapshot = demo_snapshot();
    let output = run(
        temp.path(),
        &[
            "audit",
            "--config",
            "pipeleash.toml",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--now",
            "2026-11-22",
        ],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(
            ["error", "warning", "note"].contains(&result["level"].as_str().unwrap()),
            "{result}"
        );
    }
    let message = stderr(&output);
    let summary = message
        .lines()
        .find(|line| line.starts_with("pipeleash audit: "))
        .unwrap_or_else(|| panic!("no summary line: {message}"));
    assert!(
        summary.contains(&format!("{} finding(s)", results.len())),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!("exit {}", output.status.code().unwrap())),
        "{summary}"
    );
    // `--quiet` drops the summary.
    let quiet = run(
        temp.path(),
        &[
            "--quiet",
            "audit",
            "--config",
            "pipeleash.toml",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--now",
            "2026-11-22",
        ],
    );
    assert!(!stderr(&quiet).contains("pipeleash audit: "));
}

/// A store holding the demo snapshot twice, the later one changed by `change` (applied to
/// the inventory of account 210987654321).
fn store_of_two(root: &Path, change: impl Fn(&mut Value)) {
    for (name, changed) in [("20261121T040851Z", false), ("20261122T040851Z", true)] {
        let target = root.join("store").join(name);
        std::fs::create_dir_all(target.join("inventory")).unwrap();
        for file in [
            "manifest.json",
            "inventory/aws-210987654321.json",
            "inventory/aws-345678901234.json",
        ] {
            std::fs::copy(demo_snapshot().join(file), target.join(file)).unwrap();
        }
        if changed {
            let path = target.join("inventory/aws-210987654321.json");
            let mut inventory: Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            change(&mut inventory);
            std::fs::write(&path, serde_json::to_vec(&inventory).unwrap()).unwrap();
        }
    }
    write_config(
        root,
        "[store]\npath = \"store\"\n[report]\nformat = \"json\"\n",
    );
}

#[test]
fn every_audit_of_a_store_reports_drift_since_the_previous_snapshot() {
    let unchanged = tempfile::tempdir().unwrap();
    store_of_two(unchanged.path(), |_| {});
    let output = run(
        unchanged.path(),
        &["audit", "--config", "pipeleash.toml", "--now", "2026-11-22"],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["drift"]["identities"], serde_json::json!([]));
    assert!(
        stderr(&output).contains("drift: 0 identities changed"),
        "{}",
        stderr(&output)
    );

    let deleted = tempfile::tempdir().unwrap();
    let mut removed = String::new();
    store_of_two(deleted.path(), |inventory| {
        inventory["roles"].as_array_mut().unwrap().remove(0);
    });
    {
        let inventory: Value = serde_json::from_slice(
            &std::fs::read(demo_snapshot().join("inventory/aws-210987654321.json")).unwrap(),
        )
        .unwrap();
        removed.push_str(inventory["roles"][0]["arn"].as_str().unwrap());
    }
    let output = run(
        deleted.path(),
        &["audit", "--config", "pipeleash.toml", "--now", "2026-11-22"],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let changed: Vec<(&str, &str)> = report["drift"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| {
            (
                identity["identity"].as_str().unwrap(),
                identity["change"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(changed, vec![(removed.as_str(), "removed")], "{report:#}");
}

#[test]
fn a_damaged_previous_snapshot_costs_the_drift_not_the_audit() {
    let temp = tempfile::tempdir().unwrap();
    store_of_two(temp.path(), |_| {});
    std::fs::write(
        temp.path()
            .join("store/20261121T040851Z/inventory/aws-210987654321.json"),
        "{ not json",
    )
    .unwrap();
    let output = run(
        temp.path(),
        &["audit", "--config", "pipeleash.toml", "--now", "2026-11-22"],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!report["identities"].as_array().unwrap().is_empty());
    assert!(report.get("drift").is_none());
    assert!(
        stderr(&output).contains("cannot compare with the previous snapshot"),
        "{}",
        stderr(&output)
    );
}

/// A `[window]` that is not an age, a date or a time, or that is empty, is an input error
/// naming the key and the file, whether or not the file names logs to read (before: with no
/// logs it was ignored and the audit ran over the default window; with logs the error named
/// `--since`, a flag the user never typed).
#[test]
fn a_bad_window_in_the_config_is_named_even_when_no_logs_are_read() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = demo_snapshot();
    for (window, says) in [
        ("since = \"yesterday\"", "`[window] since = \"yesterday\"`"),
        (
            "until = \"2026-13-40\"",
            "`[window] until = \"2026-13-40\"`",
        ),
        (
            "since = \"2026-11-20\"\nuntil = \"2026-11-14\"",
            "is empty: `since = \"2026-11-20\"` must be before `until = \"2026-11-14\"`",
        ),
    ] {
        write_config(temp.path(), &format!("[window]\n{window}\n"));
        let output = run(
            temp.path(),
            &[
                "audit",
                "--config",
                "pipeleash.toml",
                "--snapshot",
                snapshot.to_str().unwrap(),
            ],
        );
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{window}: {message}");
        assert!(message.contains(says), "{message}");
        assert!(message.contains("pipeleash.toml"), "{message}");
        assert!(output.stdout.is_empty());
    }
}
