//! `pipeleash usage --snapshot`: usage of the demo organisation stored in a copy of its
//! snapshot, read back, and compared with a direct ingestion, through the binary.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo")
}

fn logs() -> String {
    demo()
        .join("cloudtrail/AWSLogs")
        .to_string_lossy()
        .into_owned()
}

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .expect("run pipeleash")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create");
    for entry in fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A copy of the demo snapshot (which holds only the inventory) in a temporary directory.
fn demo_snapshot() -> (tempfile::TempDir, String) {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("20261122T040851Z");
    copy_tree(&demo().join("snapshot"), &dir);
    let dir = dir.to_string_lossy().into_owned();
    (temp, dir)
}

fn success(output: &Output) -> &[u8] {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    &output.stdout
}

fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(2), "exit code 2: input error");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn stored_usage_reads_back_identical_to_the_direct_ingestion() {
    let direct = pipeleash(&[
        "usage",
        "--cloudtrail",
        &logs(),
        "--format",
        "json",
        "--quiet",
    ]);
    let direct = success(&direct).to_vec();
    let (_temp, snapshot) = demo_snapshot();

    let stored = pipeleash(&[
        "usage",
        "--cloudtrail",
        &logs(),
        "--snapshot",
        &snapshot,
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(
        success(&stored),
        direct.as_slice(),
        "storing prints the same"
    );
    let read = pipeleash(&[
        "usage",
        "--snapshot",
        &snapshot,
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(
        String::from_utf8_lossy(success(&read)),
        String::from_utf8_lossy(&direct),
        "the stored usage prints like the direct ingestion"
    );
    // The demo set has a truncated log file; its reason survives the round trip.
    let view: Value = serde_json::from_slice(&direct).expect("json");
    assert_eq!(
        view["coverage"]["files_skipped"].as_array().map(Vec::len),
        Some(1)
    );

    let table = pipeleash(&["usage", "--cloudtrail", &logs(), "--quiet"]);
    let stored_table = pipeleash(&["usage", "--snapshot", &snapshot, "--quiet"]);
    assert_eq!(success(&stored_table), success(&table));

    let manifest: Value = serde_json::from_slice(
        &fs::read(Path::new(&snapshot).join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    let kinds: Vec<&str> = manifest["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|source| source["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "account-inventory",
            "account-inventory",
            "cloudtrail-usage",
            "cloudtrail-usage-allowed",
            "cloudtrail-usage-denied"
        ]
    );
    let coverage = manifest["coverage"].to_string();
    assert!(coverage.contains("aws cloudtrail usage: "), "{coverage}");
    assert!(
        coverage.contains("1 log file(s) could not be read"),
        "{coverage}"
    );
}

#[test]
fn stored_parquet_is_byte_identical_across_runs() {
    let (_first_temp, first) = demo_snapshot();
    let (_second_temp, second) = demo_snapshot();
    for snapshot in [&first, &second] {
        let output = pipeleash(&[
            "usage",
            "--cloudtrail",
            &logs(),
            "--snapshot",
            snapshot,
            "--quiet",
        ]);
        success(&output);
    }
    for file in [
        "usage/aws-allowed.parquet",
        "usage/aws-denied.parquet",
        "usage/aws-usage.json",
    ] {
        let a = fs::read(Path::new(&first).join(file)).expect("first");
        let b = fs::read(Path::new(&second).join(file)).expect("second");
        assert!(a == b, "`{file}` differs between two runs");
    }
}

#[test]
fn a_snapshot_is_given_usage_only_once() {
    let (_temp, snapshot) = demo_snapshot();
    let args = [
        "usage",
        "--cloudtrail",
        &logs(),
        "--snapshot",
        &snapshot,
        "--quiet",
    ];
    success(&pipeleash(&args));
    let before = fs::read(Path::new(&snapshot).join("usage/aws-allowed.parquet")).expect("read");
    let stderr = failure(&pipeleash(&args));
    assert!(stderr.contains("already holds usage"), "{stderr}");
    assert!(stderr.contains("collect a new snapshot"), "{stderr}");
    let after = fs::read(Path::new(&snapshot).join("usage/aws-allowed.parquet")).expect("read");
    assert!(before == after, "the stored usage is untouched");
}

#[test]
fn snapshot_errors_name_the_file_and_what_to_do() {
    let (_temp, snapshot) = demo_snapshot();
    let stderr = failure(&pipeleash(&["usage", "--snapshot", &snapshot]));
    assert!(stderr.contains("holds no usage"), "{stderr}");
    assert!(stderr.contains("--cloudtrail DIR --snapshot"), "{stderr}");

    success(&pipeleash(&[
        "usage",
        "--cloudtrail",
        &logs(),
        "--snapshot",
        &snapshot,
        "--quiet",
    ]));
    let denied = Path::new(&snapshot).join("usage/aws-denied.parquet");
    fs::write(&denied, b"PAR1 garbage").expect("damage");
    let stderr = failure(&pipeleash(&["usage", "--snapshot", &snapshot]));
    assert!(stderr.contains("aws-denied.parquet"), "{stderr}");
    assert!(stderr.contains("add the usage again"), "{stderr}");

    fs::remove_file(&denied).expect("remove");
    let stderr = failure(&pipeleash(&["usage", "--snapshot", &snapshot]));
    assert!(
        stderr.contains("aws-denied.parquet` is missing"),
        "{stderr}"
    );

    let stderr = failure(&pipeleash(&[
        "usage",
        "--snapshot",
        &snapshot,
        "--since",
        "2026-11-15",
    ]));
    assert!(stderr.contains("`--since` and `--until`"), "{stderr}");

    let stderr = failure(&pipeleash(&[
        "usage",
        "--snapshot",
        "/nonexistent/snapshot",
    ]));
    assert!(stderr.contains("does not exist"), "{stderr}");
}

/// `analyze`, `audit`, `minimize` and `graph` without `--cloudtrail` take the usage the
/// snapshot holds, over the window it was read for, and agree with reading the logs again.
#[test]
fn analyses_use_the_usage_the_snapshot_holds() {
    let (_temp, snapshot) = demo_snapshot();
    let window = ["--since", "2026-11-14", "--until", "2026-11-20"];
    let logs = demo().join("cloudtrail").to_string_lossy().into_owned();
    let mut store = vec![
        "usage",
        "--quiet",
        "--cloudtrail",
        &logs,
        "--snapshot",
        &snapshot,
    ];
    store.extend(window);
    success(&pipeleash(&store));

    // The demo holds critical findings: `analyze` and `audit` exit with code 1.
    let with_findings = |output: &Output| {
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout.clone()
    };
    let without_origin = |output: &Output| {
        let mut value: Value = serde_json::from_slice(&with_findings(output)).expect("json");
        let origin = value["usage"].take();
        (value, origin)
    };
    for command in ["analyze", "audit"] {
        let mut direct = vec![
            command,
            "--quiet",
            "--snapshot",
            &snapshot,
            "--cloudtrail",
            &logs,
            "--format",
            "json",
        ];
        direct.extend(window);
        let (direct, direct_origin) = without_origin(&pipeleash(&direct));
        let (stored, stored_origin) = without_origin(&pipeleash(&[
            command,
            "--quiet",
            "--snapshot",
            &snapshot,
            "--format",
            "json",
        ]));
        assert_eq!(stored_origin, "usage stored in the snapshot");
        assert!(direct_origin.as_str().unwrap().starts_with("CloudTrail `"));
        assert_eq!(stored["window"]["since"], "2026-11-14T00:00:00Z");
        assert_eq!(stored["window"]["until"], "2026-11-21T00:00:00Z");
        assert!(
            stored["identities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|identity| identity["counts"]["used"].as_u64() > Some(0)),
            "{stored:#}"
        );
        assert_eq!(
            direct, stored,
            "{command}: stored usage gives the same analysis"
        );
    }

    let table = pipeleash(&["analyze", "--quiet", "--snapshot", &snapshot]);
    let table = String::from_utf8_lossy(&with_findings(&table)).into_owned();
    assert!(table.contains("usage stored in the snapshot: "), "{table}");

    let role = "arn:aws:iam::210987654321:role/ci/gha-terraform";
    let direct = [
        "minimize",
        role,
        "--snapshot",
        &snapshot,
        "--cloudtrail",
        &logs,
        "--since",
        "2026-11-14",
        "--now",
        "2026-11-21T00:00:00Z",
        "--quiet",
    ];
    let direct = pipeleash(&direct);
    let stored = pipeleash(&["minimize", role, "--snapshot", &snapshot, "--quiet"]);
    assert_eq!(
        String::from_utf8_lossy(success(&stored)),
        String::from_utf8_lossy(success(&direct))
    );

    // The window of stored usage is fixed: `--since`/`--until` are refused, not ignored.
    let error = failure(&pipeleash(&[
        "analyze",
        "--snapshot",
        &snapshot,
        "--since",
        "7d",
    ]));
    assert!(error.contains("holds usage already aggregated"), "{error}");
    assert!(error.contains("--cloudtrail DIR"), "{error}");

    // Without usage anywhere, minimize says where to get it.
    let (_bare_temp, bare) = demo_snapshot();
    let error = failure(&pipeleash(&["minimize", role, "--snapshot", &bare]));
    assert!(error.contains("holds no usage"), "{error}");
    assert!(
        error.contains("pipeleash usage --cloudtrail DIR --snapshot"),
        "{error}"
    );
}
