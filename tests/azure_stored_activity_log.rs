//! The Activity Log events `collect azure --activity-log-days` stores in a snapshot are the
//! Azure usage evidence of `analyze`/`audit` when no `--azure-activity-logs` is given: the
//! same analysis as reading the same events from the export.

use std::path::{Path, PathBuf};
use std::process::Command;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/azure-demo")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn records(dir: &Path, found: &mut Vec<serde_json::Value>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            records(&path, found);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            // A blob that is not whole JSON lines (the demo's corrupt one) is left out, as the
            // reader of the export leaves it out.
            let parsed: Result<Vec<serde_json::Value>, _> = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(serde_json::from_str)
                .collect();
            if let Ok(parsed) = parsed {
                found.extend(parsed);
            }
        }
    }
}

fn analyze(snapshot: &Path, logs: Option<&Path>) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipeleash"));
    command.args([
        "analyze",
        "--format",
        "json",
        "--since",
        "2026-11-14",
        "--until",
        "2026-11-21",
    ]);
    command.arg("--snapshot").arg(snapshot);
    if let Some(logs) = logs {
        command.arg("--azure-activity-logs").arg(logs);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn counts(report: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    report["clouds"][0]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| (identity["identity"].to_string(), identity["counts"].clone()))
        .collect()
}

#[test]
fn stored_management_events_are_read_when_no_activity_log_is_given() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snapshot");
    copy_tree(&demo().join("snapshot"), &snapshot);
    let without = counts(&analyze(&snapshot, None));
    assert!(
        without.iter().all(|(_, counts)| counts.is_null()),
        "{without:?}"
    );

    let mut events = Vec::new();
    records(&demo().join("activity-log"), &mut events);
    assert!(!events.is_empty());
    std::fs::create_dir_all(snapshot.join("activity-log")).unwrap();
    std::fs::write(
        snapshot.join("activity-log/management-events.json"),
        serde_json::to_vec(&events).unwrap(),
    )
    .unwrap();
    let manifest_path = snapshot.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["sources"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "provider": "azure",
            "kind": "azure-activity-log-events",
            "id": "management-events",
            "path": "activity-log/management-events.json",
            "format_version": 1
        }));
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();

    let stored = counts(&analyze(&snapshot, None));
    let exported = counts(&analyze(
        &demo().join("snapshot"),
        Some(&demo().join("activity-log")),
    ));
    assert!(
        stored.iter().any(|(_, counts)| !counts.is_null()),
        "{stored:?}"
    );
    assert_eq!(stored, exported);
}
