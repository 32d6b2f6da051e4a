//! `pipeleash snapshots list|show|prune` on a local store of demo snapshots.

use chrono::{TimeZone, Utc};
use pipeleash::snapshot::{Snapshot, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");
const NAMES: [&str; 3] = ["20261120T031500Z", "20261121T031500Z", "20261122T031500Z"];

fn demo_snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/snapshot")
}

/// A store of three snapshots written through the store's own writer, plus an unfinished
/// `.tmp-…` directory and a foreign file, which every command must leave alone.
fn store() -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let demo = Snapshot::open(&demo_snapshot()).unwrap();
    let store = Store::new(temp.path());
    for day in 20..23 {
        let created = Utc.with_ymd_and_hms(2026, 11, day, 3, 15, 0).unwrap();
        let mut writer = store.writer(created).unwrap();
        for inventory in demo.aws_inventories().unwrap() {
            writer.write_aws_inventory(&inventory).unwrap();
        }
        writer.commit().unwrap();
    }
    std::fs::create_dir(temp.path().join(".tmp-20261123T031500Z-1")).unwrap();
    std::fs::write(temp.path().join("notes.txt"), "not a snapshot").unwrap();
    temp
}

fn run(args: &[&str], store: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap()
}

fn names(store: &Path) -> Vec<String> {
    Store::new(store)
        .list()
        .unwrap()
        .iter()
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn list_shows_committed_snapshots_oldest_first() {
    let store = store();
    let output = run(&["snapshots", "list", "--format", "json"], store.path());
    assert_eq!(output.status.code(), Some(0));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<&str> = listed["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    assert_eq!(found, NAMES);
    assert_eq!(listed["snapshots"][0]["inventories"], 2);
    assert_eq!(listed["snapshots"][0]["usage"], false);
    let table = run(&["snapshots", "list"], store.path());
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("3 snapshot(s)"), "{text}");
}

#[test]
fn show_prints_a_snapshot_by_name() {
    let store = store();
    let output = run(&["snapshots", "show", NAMES[1]], store.path());
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("210987654321"), "{text}");
    assert!(text.contains("2026-11-21T03:15:00Z"), "{text}");
    let missing = run(&["snapshots", "show", "20200101T000000Z"], store.path());
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn prune_keeps_the_newest_and_nothing_else_is_touched() {
    let store = store();
    let dry = run(
        &["snapshots", "prune", "--keep", "1", "--dry-run"],
        store.path(),
    );
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(names(store.path()), NAMES, "a dry run deletes nothing");
    let output = run(&["snapshots", "prune", "--keep", "2"], store.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(names(store.path()), &NAMES[1..]);
    assert!(store.path().join(".tmp-20261123T031500Z-1").is_dir());
    assert!(store.path().join("notes.txt").is_file());
    // No `.tmp-prune-…` left behind.
    let leftovers: Vec<_> = std::fs::read_dir(store.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp-prune")
        })
        .collect();
    assert!(leftovers.is_empty());
    // Keeping more than there are deletes nothing.
    let output = run(&["snapshots", "prune", "--keep", "90"], store.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(names(store.path()), &NAMES[1..]);
}

#[test]
fn prune_refuses_keep_zero_and_a_missing_keep() {
    let store = store();
    let output = run(&["snapshots", "prune", "--keep", "0"], store.path());
    assert_eq!(output.status.code(), Some(2));
    let output = run(&["snapshots", "prune"], store.path());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(names(store.path()), NAMES);
}

#[test]
fn prune_takes_keep_from_the_configuration() {
    let store = store();
    let config = store.path().join("pipeleash.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = {:?}\nkeep = 1\n",
            store.path().to_str().unwrap()
        ),
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["snapshots", "prune", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(names(store.path()), &NAMES[2..]);
}

#[test]
fn drift_takes_the_latest_two_snapshots_of_a_store() {
    let store = store();
    let output = run(&["drift", "--format", "json"], store.path());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["from"]["path"].as_str().unwrap().ends_with(NAMES[1]));
    assert!(report["to"]["path"].as_str().unwrap().ends_with(NAMES[2]));
    assert_eq!(report["identities"], Value::Array(Vec::new()));
}

#[test]
fn prune_deletes_nothing_while_a_snapshot_is_damaged() {
    // Before: the damaged newest snapshot was kept and the two good ones deleted.
    for damage in ["truncated", "not json"] {
        let store = store();
        let manifest = store.path().join(NAMES[2]).join("manifest.json");
        let text = std::fs::read(&manifest).unwrap();
        match damage {
            "truncated" => std::fs::write(&manifest, &text[..text.len() / 2]).unwrap(),
            _ => std::fs::write(&manifest, "garbage").unwrap(),
        }
        for dry_run in [false, true] {
            let mut args = vec!["snapshots", "prune", "--keep", "1"];
            if dry_run {
                args.push("--dry-run");
            }
            let output = run(&args, store.path());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{damage}: {stderr}");
            assert!(stderr.contains("nothing deleted"), "{stderr}");
            assert!(stderr.contains(NAMES[2]), "{stderr}");
            assert_eq!(names(store.path()), NAMES, "{damage}: nothing deleted");
        }
    }
}
