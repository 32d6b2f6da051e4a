//! `pipeleash usage --azure-activity-logs` and `pipeleash generate azure-activity-logs`, end
//! to end through the binary.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .unwrap()
}

fn generate(out: &Path, events: &str, days: &str) {
    let output = pipeleash(&[
        "generate",
        "azure-activity-logs",
        "--events",
        events,
        "--seed",
        "3",
        "--days",
        days,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(output.status.success(), "{output:?}");
}

fn json_usage(path: &Path, extra: &[&str]) -> (Value, Vec<u8>) {
    let mut args = vec![
        "usage",
        "--azure-activity-logs",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let output = pipeleash(&args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        output.stdout,
    )
}

#[test]
fn generate_then_usage_round_trips_with_the_ground_truth() {
    let out = tempfile::tempdir().unwrap();
    generate(out.path(), "6000", "2");
    let truth: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("ground-truth.json")).unwrap())
            .unwrap();
    let (view, bytes) = json_usage(&out.path().join("insights-activity-logs"), &[]);
    assert_eq!(view["format_version"], 1);
    assert_eq!(view["source"], "azure-activity-log");
    assert_eq!(view["coverage"]["records_read"], truth["records"]);
    assert_eq!(view["coverage"]["operations"], truth["operations"]);
    assert_eq!(
        view["coverage"]["duplicates_merged"],
        truth["duplicate_records"]
    );
    assert_eq!(view["coverage"]["set_aside"], truth["set_aside"]);
    assert_eq!(view["coverage"]["missing_evidence"], false);
    let used: BTreeMap<String, BTreeSet<String>> = view["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|principal| {
            let id = principal["identity"].as_str().unwrap();
            let actions = principal["used"]
                .as_array()
                .unwrap()
                .iter()
                .map(|action| action["action"].as_str().unwrap().to_owned())
                .collect();
            (id.trim_start_matches("azure:").to_owned(), actions)
        })
        .collect();
    let expected: BTreeMap<String, BTreeSet<String>> = truth["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|principal| {
            let actions = principal["used"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            (principal["object_id"].as_str().unwrap().to_owned(), actions)
        })
        .collect();
    assert_eq!(used, expected);
    // The unobservable operations are listed with their doc pages.
    let unobservable = view["unobservable"].as_array().unwrap();
    assert!(unobservable.iter().any(|row| row["operations"] == "*/read"));
    assert!(unobservable.iter().all(|row| {
        row["doc"]
            .as_str()
            .unwrap()
            .starts_with("https://learn.microsoft.com/")
    }));
    // Byte-identical across runs, despite the parallel reading.
    let (_, again) = json_usage(&out.path().join("insights-activity-logs"), &[]);
    assert_eq!(bytes, again);
}

#[test]
fn since_and_until_narrow_the_window_and_prune_folders() {
    let out = tempfile::tempdir().unwrap();
    generate(out.path(), "3000", "3");
    let (view, _) = json_usage(
        out.path(),
        &["--since", "2026-10-02", "--until", "2026-10-02"],
    );
    assert_eq!(view["window"]["since"], "2026-10-02T00:00:00Z");
    assert_eq!(view["window"]["until"], "2026-10-03T00:00:00Z");
    assert!(view["coverage"]["folders_pruned"].as_u64().unwrap() >= 2);
    let first = view["coverage"]["first_record"].as_str().unwrap();
    let last = view["coverage"]["last_record"].as_str().unwrap();
    assert!(first.starts_with("2026-10-02"), "{first}");
    assert!(last.starts_with("2026-10-02"), "{last}");
}

#[test]
fn a_path_with_no_log_files_is_an_input_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let output = pipeleash(&[
        "usage",
        "--azure-activity-logs",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("`{}`", dir.path().display())),
        "{stderr}"
    );
    let missing = dir.path().join("missing");
    let output = pipeleash(&["usage", "--azure-activity-logs", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn azure_activity_logs_and_cloudtrail_cannot_be_combined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let output = pipeleash(&["usage", "--azure-activity-logs", path, "--cloudtrail", path]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn table_output_names_principals_denials_and_skipped_files() {
    let out = tempfile::tempdir().unwrap();
    generate(out.path(), "1500", "1");
    let corrupt = out
        .path()
        .join("insights-activity-logs/resourceId=/SUBSCRIPTIONS/X/y=2026/m=10/d=01/h=05/m=00");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("PT1H.json"), b"{\"time\": \"2026-10-01T05:").unwrap();
    let output = pipeleash(&[
        "usage",
        "--azure-activity-logs",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Azure Activity Log: "), "{stdout}");
    assert!(stdout.contains("(managed-identity"), "{stdout}");
    assert!(stdout.contains("DENIED"), "{stdout}");
    assert!(stdout.contains("skipped files"), "{stdout}");
    assert!(stdout.contains("h=05/m=00/PT1H.json"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("could not be read"), "{stderr}");
    let (view, _) = json_usage(out.path(), &[]);
    assert_eq!(view["coverage"]["missing_evidence"], true);
}
