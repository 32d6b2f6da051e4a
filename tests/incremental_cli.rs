//! `--incremental` end to end: two nightly audits of a store (`audit --config`), the second
//! reading only the log files delivered since the first, store usage byte-identical to a full
//! read of the same window; damaged state costs a longer read, never a wrong result.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo")
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

fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> usize {
    let mut copied = 0;
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copied += copy_tree(&path, &target, keep);
        } else if keep(&path) && !target.exists() {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, &target).unwrap();
            copied += 1;
        }
    }
    copied
}

/// The demo's CloudTrail files delivered up to 2026-11-19 (`day_one`) or all of them.
fn deliver(dir: &Path, day_one: bool) -> usize {
    copy_tree(
        &demo().join("cloudtrail"),
        &dir.join("logs"),
        &|path: &Path| {
            let text = path.to_string_lossy();
            !day_one || !text.contains("/2026/11/2")
        },
    )
}

fn usage_files(snapshot: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "usage/aws-allowed.parquet",
        "usage/aws-denied.parquet",
        "usage/aws-usage.json",
    ]
    .iter()
    .map(|name| {
        (
            name.to_string(),
            std::fs::read(snapshot.join(name)).unwrap(),
        )
    })
    .collect()
}

fn audit(dir: &Path, now: &str) -> Output {
    let output = run(
        dir,
        &[
            "audit",
            "--config",
            "pipeleash.toml",
            "--now",
            now,
            "--format",
            "json",
        ],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    output
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeleash.toml"),
        "[store]\npath = \"store\"\n[window]\nsince = \"30d\"\n[aws]\ncloudtrail = \"logs\"\n",
    )
    .unwrap();
    dir
}

fn collect_into(dir: &Path, name: &str) -> PathBuf {
    let snapshot = dir.join("store").join(name);
    copy_tree(&demo().join("snapshot"), &snapshot, &|_: &Path| true);
    snapshot
}

#[test]
fn the_second_nightly_audit_reads_only_new_files_and_stores_what_a_full_read_gives() {
    let dir = setup();
    let first_files = deliver(dir.path(), true);
    let first = collect_into(dir.path(), "20261120T030000Z");
    let output = audit(dir.path(), "2026-11-20T04:00:00Z");
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "read {first_files} new log file(s) of {first_files}"
        )),
        "{text}"
    );
    assert!(first.join("usage/aws-read-state.json.gz").is_file());

    let added = deliver(dir.path(), false);
    assert!(added > 0);
    let second = collect_into(dir.path(), "20261121T030000Z");
    let output = audit(dir.path(), "2026-11-21T04:00:00Z");
    let text = stderr(&output);
    // The corrupt file of the demo is tried again each time: it was never read whole.
    assert!(
        text.contains(&format!(
            "read {} new log file(s) of {}",
            added + 1,
            first_files + added
        )),
        "{text}"
    );
    assert!(text.contains("continuing the read of `logs`"), "{text}");

    // The same window read in full into a third snapshot stores the same bytes.
    let full = collect_into(dir.path(), "20261121T030001Z");
    let output = run(
        dir.path(),
        &[
            "usage",
            "--cloudtrail",
            "logs",
            "--since",
            "2026-10-22T00:00:00Z",
            "--until",
            "2026-11-22T00:00:00Z",
            "--snapshot",
            full.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(usage_files(&second), usage_files(&full));
}

#[test]
fn a_damaged_read_state_costs_a_full_read_with_a_warning_not_a_wrong_result() {
    let dir = setup();
    deliver(dir.path(), true);
    let first = collect_into(dir.path(), "20261120T030000Z");
    audit(dir.path(), "2026-11-20T04:00:00Z");
    std::fs::write(first.join("usage/aws-read-state.json.gz"), b"not gzip").unwrap();
    deliver(dir.path(), false);
    let second = collect_into(dir.path(), "20261121T030000Z");
    let output = audit(dir.path(), "2026-11-21T04:00:00Z");
    let text = stderr(&output);
    assert!(text.contains("cannot be used"), "{text}");
    assert!(text.contains("no earlier read of `logs`"), "{text}");
    assert!(second.join("usage/aws-read-state.json.gz").is_file());
}

#[test]
fn incremental_needs_a_snapshot_and_files() {
    let dir = setup();
    deliver(dir.path(), true);
    let output = run(
        dir.path(),
        &["usage", "--cloudtrail", "logs", "--incremental"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--snapshot"),
        "{}",
        stderr(&output)
    );
    let snapshot = collect_into(dir.path(), "20261120T030000Z");
    let output = run(
        dir.path(),
        &[
            "analyze",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--incremental",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--cloudtrail"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn files_deleted_since_the_last_read_are_said_to_still_count() {
    let dir = setup();
    deliver(dir.path(), true);
    collect_into(dir.path(), "20261120T030000Z");
    audit(dir.path(), "2026-11-20T04:00:00Z");
    // A lifecycle rule removes two files that the first read counted.
    let mut removed = 0;
    for day in ["14", "15"] {
        let folder = dir
            .path()
            .join("logs/AWSLogs/210987654321/CloudTrail/eu-west-1/2026/11")
            .join(day);
        // Not the demo's truncated file: it was never read whole, so it never counted.
        let read_whole = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .find(|entry| !entry.file_name().to_string_lossy().contains("truncated"));
        if let Some(entry) = read_whole {
            std::fs::remove_file(entry.path()).unwrap();
            removed += 1;
        }
    }
    assert_eq!(removed, 2);
    collect_into(dir.path(), "20261121T030000Z");
    let output = audit(dir.path(), "2026-11-21T04:00:00Z");
    let text = stderr(&output);
    // A lower bound: the demo's truncated file is listed and fails again, which hides one.
    assert!(
        text.contains("at least 1 log file(s) read before are no longer in the source"),
        "{text}"
    );
}

#[test]
fn incremental_naming_a_source_not_given_is_an_input_error() {
    let dir = setup();
    deliver(dir.path(), true);
    let snapshot = collect_into(dir.path(), "20261120T030000Z");
    let snapshot = snapshot.to_str().unwrap();
    let output = run(
        dir.path(),
        &[
            "analyze",
            "--snapshot",
            snapshot,
            "--cloudtrail",
            "logs",
            "--incremental=gcp",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--gcp-audit-logs"),
        "{}",
        stderr(&output)
    );
    let output = run(
        dir.path(),
        &["usage", "--snapshot", snapshot, "--incremental"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--cloudtrail"),
        "{}",
        stderr(&output)
    );
}
