//! Incremental reading of Cloud Audit Logs: a read that continues an earlier read's state gives
//! exactly the usage of reading every file of the window at once, and opens only the files
//! that are new. Generated data in a sink's layout (one file per log, day and hour), plus
//! hand-written files for what the generator does not make: an entry of one day delivered in
//! the next day's folder, an entry without a timestamp, and a corrupt file.

use chrono::{DateTime, NaiveDate, Utc};
use pipeleash::gcp::audit_log::{
    AuditLogUsage, IncrementalRead, ReadState, ingest_path, ingest_path_incremental,
};
use pipeleash::generate::gcp_audit_log::{GenerateOptions, generate};
use pipeleash::model::TimeWindow;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const AUDIT: &str = "cloudaudit.googleapis.com";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn window(since: &str, until: Option<&str>) -> TimeWindow {
    TimeWindow {
        since: Some(at(since)),
        until: until.map(at),
    }
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Every file under `root`, relative.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// The date folder of a path `cloudaudit.googleapis.com/<log>/YYYY/MM/DD/<file>`.
fn folder_day(path: &Path) -> Option<NaiveDate> {
    let parts: Vec<String> = path
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if parts.len() != 6 || parts[0] != AUDIT {
        return None;
    }
    NaiveDate::from_ymd_opt(
        parts[2].parse().ok()?,
        parts[3].parse().ok()?,
        parts[4].parse().ok()?,
    )
}

/// Copies the files of `from` whose date folder `days` accepts into `to`.
fn copy_days(from: &Path, to: &Path, days: impl Fn(NaiveDate) -> bool) -> usize {
    let mut copied = 0;
    for relative in files(from) {
        if folder_day(&relative).is_some_and(&days) {
            let target = to.join(&relative);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(from.join(&relative), target).unwrap();
            copied += 1;
        }
    }
    copied
}

/// An Admin Activity entry by a CI service account at `time` (absent: no timestamp).
fn entry(time: Option<&str>, permission: &str) -> Value {
    let mut entry = json!({
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "status": {},
            "authenticationInfo": {"principalEmail": "late@acme-prod.iam.gserviceaccount.com"},
            "serviceName": "run.googleapis.com",
            "methodName": "google.cloud.run.v2.Services.UpdateService",
            "resourceName": "projects/acme-prod/locations/europe-west1/services/web",
            "authorizationInfo": [
                {"resource": "projects/acme-prod/locations/europe-west1/services/web",
                 "permission": permission, "granted": true}
            ]
        },
        "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
    });
    if let Some(time) = time {
        entry["timestamp"] = json!(time);
    }
    entry
}

fn write_entries(root: &Path, relative: &str, entries: &[Value]) {
    let path = root.join(AUDIT).join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = Vec::new();
    for entry in entries {
        bytes.extend(serde_json::to_vec(entry).unwrap());
        bytes.push(b'\n');
    }
    std::fs::write(path, bytes).unwrap();
}

/// Generated files of 2026-11-01 .. 2026-11-06, and the hand-written edge cases.
fn all_logs() -> tempfile::TempDir {
    let all = tempfile::tempdir().unwrap();
    generate(
        all.path(),
        &GenerateOptions {
            entries: 6_000,
            seed: 5,
            start: day("2026-11-01"),
            days: 6,
            gzip: true,
        },
    )
    .unwrap();
    // An entry of 11-03 delivered in the folder of 11-04, beside one without a timestamp.
    write_entries(
        all.path(),
        "activity/2026/11/04/00:00:00_00:59:59_S1.json",
        &[
            entry(Some("2026-11-03T23:59:30Z"), "run.services.get"),
            entry(None, "run.services.delete"),
            entry(Some("2026-11-04T00:00:10Z"), "run.services.update"),
        ],
    );
    let corrupt = all
        .path()
        .join(AUDIT)
        .join("activity/2026/11/05/01:00:00_01:59:59_S1.json.gz");
    std::fs::write(corrupt, b"\x1f\x8bnot gzip").unwrap();
    all
}

fn full(root: &Path, window: TimeWindow) -> AuditLogUsage {
    ingest_path(root, window).unwrap()
}

fn incremental(
    root: &Path,
    window: TimeWindow,
    previous: Option<ReadState>,
) -> (AuditLogUsage, IncrementalRead) {
    ingest_path_incremental(root, "logs", window, previous, None).unwrap()
}

#[test]
fn a_gcp_read_continuing_the_last_one_equals_a_full_read_and_opens_only_new_files() {
    let all = all_logs();
    let source = tempfile::tempdir().unwrap();
    let root = source.path();
    // Day 1: the folders up to 11-03.
    let first_files = copy_days(all.path(), root, |date| date <= day("2026-11-03"));
    let day_one = window("2026-11-01T00:00:00Z", Some("2026-11-04T00:00:00Z"));
    let (usage, read) = incremental(root, day_one, None);
    assert_eq!(usage, full(root, day_one));
    assert!(usage.coverage.entries_in_window > 1000);
    assert_eq!(read.files_new as usize, first_files);
    assert_eq!(read.files_listed as usize, first_files);

    // The state goes through its stored form between the two runs.
    let stored = read.state.to_bytes();
    let state = ReadState::from_bytes(&stored).unwrap();
    assert_eq!(
        state.to_bytes(),
        stored,
        "the stored form reads back to the same bytes"
    );

    // Day 2: the folders of 11-04 and 11-05 delivered (11-06 too, outside the window); the
    // window moved by a day.
    let added = copy_days(all.path(), root, |date| {
        date > day("2026-11-03") && date <= day("2026-11-05")
    });
    copy_days(all.path(), root, |date| date > day("2026-11-05"));
    let day_two = window("2026-11-02T00:00:00Z", Some("2026-11-05T00:00:00Z"));
    let (usage, read) = incremental(root, day_two, Some(state));
    let expected = full(root, day_two);
    assert_eq!(usage, expected);
    // Service-account key use is in the state too: first, last and calls per key match the
    // full read (the equality above), and there is some to compare.
    assert!(!expected.key_use.is_empty());
    // Every new file of the window's folders was opened (the corrupt one too, reported), no
    // old one was.
    assert_eq!(read.files_new as usize, added);
    assert!(
        expected
            .coverage
            .files_skipped
            .iter()
            .any(|skipped| skipped.source.ends_with("01:00:00_01:59:59_S1.json.gz"))
    );
    // The entry of 11-03 delivered on 11-04 counts, the entry without a time is set aside.
    assert_eq!(
        usage
            .usage
            .iter()
            .filter(|(key, _)| key.permission.action == "run.services.get"
                && key.identity.as_str().contains("late@"))
            .count(),
        1
    );
    // A run with nothing new changes nothing; only the corrupt file is tried again.
    let (again, read_again) = incremental(root, day_two, Some(read.state.clone()));
    assert_eq!(again, expected);
    assert_eq!(
        read_again.files_new, 1,
        "only the corrupt file is tried again"
    );
}

#[test]
fn a_gcp_window_moving_past_folders_drops_them_from_the_state() {
    let all = all_logs();
    let root = all.path();
    let (_, read) = incremental(root, window("2026-11-01T00:00:00Z", None), None);
    let before = read.state.files_read();
    let later = window("2026-11-05T00:00:00Z", None);
    let (usage, read) = incremental(root, later, Some(read.state));
    assert_eq!(usage, full(root, later));
    assert_eq!(read.files_new, 1, "only the corrupt file is read again");
    assert!(
        read.state.files_read() < before,
        "folders before 11-04 are dropped"
    );
    // A wider window again: the dropped folders are read anew, and the result is still exact.
    let wide = window("2026-11-01T00:00:00Z", None);
    let (usage, read) = incremental(root, wide, Some(read.state));
    assert_eq!(usage, full(root, wide));
    assert!(read.files_new > 1);
}

#[test]
fn incremental_gcp_reads_refuse_part_days_other_sources_and_single_files() {
    let all = all_logs();
    let root = all.path();
    let part_day = window("2026-11-01T06:00:00Z", None);
    let error = ingest_path_incremental(root, "logs", part_day, None, None).unwrap_err();
    assert!(error.to_string().contains("whole UTC days"), "{error}");
    let whole = window("2026-11-01T00:00:00Z", None);
    let error =
        ingest_path_incremental(root, "elsewhere", whole, Some(ReadState::new("logs")), None)
            .unwrap_err();
    assert!(
        error.to_string().contains("`logs`, not `elsewhere`"),
        "{error}"
    );
    // `gcloud logging read --format=json` output: one file, nothing to remember.
    let file = root.join("export.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&[entry(Some("2026-11-02T10:00:00Z"), "run.services.get")]).unwrap(),
    )
    .unwrap();
    let error = ingest_path_incremental(&file, "export.json", whole, None, None).unwrap_err();
    assert!(error.to_string().contains("is one file"), "{error}");
}

#[test]
fn a_damaged_gcp_read_state_is_an_error_not_a_different_count() {
    let all = all_logs();
    let root = all.path();
    let (_, read) = incremental(root, window("2026-11-01T00:00:00Z", None), None);
    let bytes = read.state.to_bytes();
    assert!(ReadState::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(ReadState::from_bytes(b"{}").is_err());
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
        .unwrap();
    let value: Value = serde_json::from_str(&json).unwrap();
    let encode = |value: &Value| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, value.to_string().as_bytes()).unwrap();
        encoder.finish().unwrap()
    };
    // Counts of set-aside entries missing a reason.
    let mut short = value.clone();
    short["parts"][0]["records"]["set_aside"] = json!([1, 2]);
    let error = ReadState::from_bytes(&encode(&short)).unwrap_err();
    assert!(error.to_string().contains("set-aside counts"), "{error}");
    // A day that is not a date.
    let mut bad_day = value.clone();
    bad_day["parts"][0]["folder_days"] = json!(["2026-13-01", "2026-13-01"]);
    let error = ReadState::from_bytes(&encode(&bad_day)).unwrap_err();
    assert!(error.to_string().contains("not a date"), "{error}");
    // A newer format is refused by version.
    let mut newer = value;
    newer["format_version"] = json!(99);
    let error = ReadState::from_bytes(&encode(&newer)).unwrap_err();
    assert!(error.to_string().contains("format version 99"), "{error}");
}
