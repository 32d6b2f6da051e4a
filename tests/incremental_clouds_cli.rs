//! `--incremental` for Cloud Audit Logs and the Activity Log end to end: two nightly audits of
//! a store (`audit --config`) holding the GCP and Azure demo snapshots, the second reading
//! only the log files delivered since the first and printing the analysis a full read of the
//! same window prints, byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures")
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

/// Copies the files under `from` that `keep` accepts (by their path relative to `from`).
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) -> usize {
    fn walk(root: &Path, dir: &Path, to: &Path, keep: &dyn Fn(&str) -> bool) -> usize {
        let mut copied = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap();
            if path.is_dir() {
                copied += walk(root, &path, to, keep);
            } else if keep(&relative.to_string_lossy()) {
                let target = to.join(relative);
                if !target.exists() {
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    std::fs::copy(&path, &target).unwrap();
                    copied += 1;
                }
            }
        }
        copied
    }
    walk(from, from, to, keep)
}

/// The day of the month of a demo log file: `…/2026/11/DD/…` (GCP) or `…/d=DD/…` (Azure).
fn day_of(relative: &str) -> u32 {
    if let Some((_, rest)) = relative.split_once("/d=") {
        return rest[..2].parse().unwrap();
    }
    let (_, rest) = relative.split_once("/2026/11/").unwrap();
    rest[..2].parse().unwrap()
}

/// Delivers the demo logs of days up to `last` (GCP into `gcp-logs`, Azure into
/// `azure-logs`): (GCP files, Azure files) copied.
fn deliver(dir: &Path, last: u32) -> (usize, usize) {
    let keep = |relative: &str| relative.ends_with(".json") && day_of(relative) <= last;
    (
        copy_tree(
            &fixtures().join("gcp-demo/audit-logs"),
            &dir.join("gcp-logs"),
            &keep,
        ),
        copy_tree(
            &fixtures().join("azure-demo/activity-log"),
            &dir.join("azure-logs"),
            &keep,
        ),
    )
}

/// `collect gcp` and `collect azure` at `stamp` (two snapshots of the store).
fn collect(dir: &Path, stamp: &str) -> (PathBuf, PathBuf) {
    let gcp = dir.join("store").join(format!("{stamp}0Z"));
    let azure = dir.join("store").join(format!("{stamp}1Z"));
    copy_tree(&fixtures().join("gcp-demo/snapshot"), &gcp, &|_| true);
    copy_tree(&fixtures().join("azure-demo/snapshot"), &azure, &|_| true);
    (gcp, azure)
}

fn audit(dir: &Path, config: &str, now: &str) -> Output {
    let output = run(
        dir,
        &[
            "audit", "--config", config, "--now", now, "--format", "json",
        ],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        stderr(&output)
    );
    output
}

const CONFIG: &str = "[store]\npath = \"store\"\n[window]\nsince = \"7d\"\n\
                      [gcp]\naudit_logs = \"gcp-logs\"\n[azure]\nactivity_logs = \"azure-logs\"\n";

/// Files of the demo logs of `cloud` (`gcp-demo/audit-logs`, `azure-demo/activity-log`)
/// whose path `keep` accepts.
fn count(cloud: &str, keep: &dyn Fn(&str) -> bool) -> usize {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join(cloud), dir.path(), &|relative| {
        relative.ends_with(".json") && keep(relative)
    })
}

#[test]
fn the_second_nightly_audit_of_gcp_and_azure_logs_reads_only_new_files_and_prints_a_full_reads_analysis()
 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeleash.toml"), CONFIG).unwrap();
    std::fs::write(
        dir.path().join("full.toml"),
        CONFIG.replace(
            "audit_logs = \"gcp-logs\"\n",
            "audit_logs = \"gcp-logs\"\nincremental = false\n",
        ) + "incremental = false\n",
    )
    .unwrap();
    // Night 1: the logs up to 11-18, the window 11-12 .. 11-19.
    let (gcp_first, azure_first) = deliver(dir.path(), 18);
    let (gcp_snapshot, azure_snapshot) = collect(dir.path(), "20261119T03000");
    let output = audit(dir.path(), "pipeleash.toml", "2026-11-19T00:00:00Z");
    let text = stderr(&output);
    for files in [gcp_first, azure_first] {
        assert!(
            text.contains(&format!(
                "read {files} new log file(s) of {files} in the window"
            )),
            "{text}"
        );
    }
    assert!(gcp_snapshot.join("usage/gcp-read-state.json.gz").is_file());
    assert!(
        azure_snapshot
            .join("usage/azure-read-state.json.gz")
            .is_file()
    );
    let manifest = std::fs::read_to_string(gcp_snapshot.join("manifest.json")).unwrap();
    assert!(manifest.contains("gcp-audit-log-read-state"), "{manifest}");
    let manifest = std::fs::read_to_string(azure_snapshot.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("azure-activity-log-read-state"),
        "{manifest}"
    );

    // Night 2: the logs of 11-19 and 11-20 delivered, new snapshots, the window moved by a day
    // (11-13 .. 11-20).
    deliver(dir.path(), 31);
    let (gcp_second, azure_second) = collect(dir.path(), "20261120T03000");
    let output = audit(dir.path(), "pipeleash.toml", "2026-11-20T00:00:00Z");
    let text = stderr(&output);
    // GCP: the date folders of 11-19 and 11-20 (a day of slack after the window) are new, and
    // the demo's truncated file of 11-17 is tried again.
    let gcp = "gcp-demo/audit-logs";
    let gcp_new = count(gcp, &|path| (19..=20).contains(&day_of(path))) + 1;
    let gcp_listed = count(gcp, &|path| (12..=20).contains(&day_of(path)));
    // Azure: the blobs of 11-19 and the first hour of 11-20 (an hour of slack) are new, and
    // the demo's corrupt blob of 11-18 is tried again.
    let azure = "azure-demo/activity-log";
    let in_window = |path: &str| {
        (13..=19).contains(&day_of(path)) || (day_of(path) == 20 && path.contains("/h=00/"))
    };
    let azure_new = count(azure, &|path| in_window(path) && day_of(path) >= 19) + 1;
    let azure_listed = count(azure, &in_window);
    for (new, listed) in [(gcp_new, gcp_listed), (azure_new, azure_listed)] {
        assert!(
            text.contains(&format!(
                "read {new} new log file(s) of {listed} in the window"
            )),
            "{text}"
        );
    }
    assert!(text.contains("continuing the read of `gcp-logs`"), "{text}");
    assert!(
        text.contains("continuing the read of `azure-logs`"),
        "{text}"
    );
    assert!(gcp_second.join("usage/gcp-read-state.json.gz").is_file());
    assert!(
        azure_second
            .join("usage/azure-read-state.json.gz")
            .is_file()
    );
    let incremental = output.stdout;

    // The same audit reading every file prints the same analysis.
    let output = audit(dir.path(), "full.toml", "2026-11-20T00:00:00Z");
    let text = stderr(&output);
    assert!(!text.contains("continuing the read"), "{text}");
    assert!(!incremental.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&incremental),
        String::from_utf8_lossy(&output.stdout)
    );

    // A snapshot already holding a read state is never changed.
    let before = std::fs::read(gcp_second.join("usage/gcp-read-state.json.gz")).unwrap();
    let output = audit(dir.path(), "pipeleash.toml", "2026-11-20T00:00:00Z");
    let text = stderr(&output);
    assert!(text.contains("already holds a read state"), "{text}");
    assert!(text.contains("read 1 new log file(s)"), "{text}");
    assert_eq!(
        std::fs::read(gcp_second.join("usage/gcp-read-state.json.gz")).unwrap(),
        before
    );
}

#[test]
fn a_damaged_gcp_read_state_costs_a_full_read_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeleash.toml"), CONFIG).unwrap();
    deliver(dir.path(), 18);
    let (gcp_snapshot, _) = collect(dir.path(), "20261119T03000");
    audit(dir.path(), "pipeleash.toml", "2026-11-19T00:00:00Z");
    std::fs::write(
        gcp_snapshot.join("usage/gcp-read-state.json.gz"),
        b"not gzip",
    )
    .unwrap();
    deliver(dir.path(), 31);
    collect(dir.path(), "20261120T03000");
    let output = audit(dir.path(), "pipeleash.toml", "2026-11-20T00:00:00Z");
    let text = stderr(&output);
    assert!(text.contains("cannot be used"), "{text}");
    assert!(text.contains("no earlier read of `gcp-logs`"), "{text}");
    assert!(
        text.contains("continuing the read of `azure-logs`"),
        "{text}"
    );
}

#[test]
fn incremental_refuses_a_single_exported_file() {
    let dir = tempfile::tempdir().unwrap();
    let (gcp, _) = collect(dir.path(), "20261119T03000");
    std::fs::write(dir.path().join("export.json"), b"[]").unwrap();
    let output = run(
        dir.path(),
        &[
            "analyze",
            "--snapshot",
            gcp.to_str().unwrap(),
            "--gcp-audit-logs",
            "export.json",
            "--incremental",
            "--now",
            "2026-11-19T00:00:00Z",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is one file"),
        "{}",
        stderr(&output)
    );
}
