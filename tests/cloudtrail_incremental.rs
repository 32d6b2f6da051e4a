//! Incremental CloudTrail reading: a read that continues an earlier read's state gives exactly
//! the usage of reading every file of the window at once, and opens only the files that are
//! new. Generated data in CloudTrail's delivery layout (one file per account, region and five
//! minutes), plus hand-written files for the cases a generator does not make: a record
//! delivered the day after it happened, a record without a time, a corrupt file, and a CI
//! session issued in a file read by one run and used in a file read by the next.

use chrono::{DateTime, NaiveDate, Utc};
use pipeleash::aws::cloudtrail::{
    IngestOptions, ReadState, TimeWindow, ingest_directory, ingest_directory_incremental,
    whole_days,
};
use pipeleash::generate::cloudtrail::{GenerateOptions, Layout, generate};
use std::path::{Path, PathBuf};

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

/// The date folder (`YYYY/MM/DD`) of a CloudTrail file path; `None` outside `AWSLogs/`.
fn folder_day(path: &Path) -> Option<NaiveDate> {
    let parts: Vec<String> = path
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let n = parts.len();
    if n < 4 || parts[0] != "AWSLogs" {
        return None;
    }
    NaiveDate::from_ymd_opt(
        parts[n - 4].parse().ok()?,
        parts[n - 3].parse().ok()?,
        parts[n - 2].parse().ok()?,
    )
}

/// Copies the files of `from` whose date folder is in `days` into `to`.
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

const ACCOUNT: &str = "111122223333";

fn folder(root: &Path, day: &str) -> PathBuf {
    let dir = root
        .join("AWSLogs")
        .join(ACCOUNT)
        .join("CloudTrail/eu-west-1")
        .join(day.replace('-', "/"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_records(path: &Path, records: &[serde_json::Value]) {
    std::fs::write(path, serde_json::json!({ "Records": records }).to_string()).unwrap();
}

/// A CI job's `AssumeRoleWithWebIdentity` issuing `key`.
fn assume(time: &str, key: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "WebIdentityUser",
            "userName": "repo:acme/late:ref:refs/heads/main",
            "identityProvider": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"),
        },
        "eventTime": time,
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRoleWithWebIdentity",
        "awsRegion": "eu-west-1",
        "requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/late-deploy"), "roleSessionName": "gha"},
        "responseElements": {"credentials": {"accessKeyId": key}},
        "recipientAccountId": ACCOUNT,
    })
}

/// A call by the `late-deploy` role's session signed with `key`; `time` may be absent.
fn call(time: Option<&str>, key: &str, name: &str) -> serde_json::Value {
    let mut record = serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/late-deploy/gha"),
            "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/late-deploy")}},
        },
        "eventSource": "lambda.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "requestParameters": {"functionName": "web"},
        "recipientAccountId": ACCOUNT,
    });
    if let Some(time) = time {
        record["eventTime"] = serde_json::json!(time);
    }
    record
}

/// Generated files of 2026-10-01 .. 2026-10-06, and the hand-written edge cases.
fn all_logs() -> tempfile::TempDir {
    let all = tempfile::tempdir().unwrap();
    generate(
        all.path(),
        &GenerateOptions {
            events: 8_000,
            seed: 11,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            days: 6,
            accounts: 2,
            layout: Layout::Delivery,
            ..GenerateOptions::default()
        },
    )
    .unwrap();
    // 10-03: a session issued late in the day ...
    write_records(
        &folder(all.path(), "2026-10-03").join("late_session.json"),
        &[assume("2026-10-03T23:50:00Z", "ASIAIOSFODNN7EXAMPLE")],
    );
    // ... delivered with a call of 10-03 in the next day's folder, and used on 10-05.
    write_records(
        &folder(all.path(), "2026-10-04").join("late_delivery.json"),
        &[call(
            Some("2026-10-03T23:58:00Z"),
            "ASIAIOSFODNN7EXAMPLE",
            "GetFunction",
        )],
    );
    write_records(
        &folder(all.path(), "2026-10-05").join("next_day_use.json"),
        &[
            call(
                Some("2026-10-05T00:10:00Z"),
                "ASIAIOSFODNN7EXAMPLE",
                "UpdateFunctionCode20150331v2",
            ),
            call(None, "ASIAIOSFODNN7EXAMPLE", "GetFunction"),
        ],
    );
    std::fs::write(
        folder(all.path(), "2026-10-05").join("corrupt.json.gz"),
        b"\x1f\x8bnot gzip",
    )
    .unwrap();
    all
}

fn full(root: &Path, window: TimeWindow) -> pipeleash::aws::cloudtrail::CloudTrailUsage {
    ingest_directory(
        root,
        &IngestOptions {
            window,
            progress: None,
        },
    )
    .unwrap()
}

fn incremental(
    root: &Path,
    window: TimeWindow,
    previous: Option<ReadState>,
) -> (
    pipeleash::aws::cloudtrail::CloudTrailUsage,
    pipeleash::aws::cloudtrail::IncrementalRead,
) {
    ingest_directory_incremental(
        root,
        "logs",
        &IngestOptions {
            window,
            progress: None,
        },
        previous,
    )
    .unwrap()
}

#[test]
fn a_read_continuing_the_last_one_equals_a_full_read_and_opens_only_new_files() {
    let all = all_logs();
    let source = tempfile::tempdir().unwrap();
    let root = source.path().join("AWSLogs");
    // Day 1: the files delivered up to 10-04.
    let first_files = copy_days(all.path(), source.path(), |day| {
        day <= NaiveDate::from_ymd_opt(2026, 10, 4).unwrap()
    });
    let day_one = window("2026-10-01T00:00:00Z", Some("2026-10-05T00:00:00Z"));
    let (usage, read) = incremental(&root, day_one, None);
    assert_eq!(usage, full(&root, day_one));
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

    // Day 2: two more days delivered; the window moved by a day.
    let added = copy_days(all.path(), source.path(), |day| {
        day > NaiveDate::from_ymd_opt(2026, 10, 4).unwrap()
    });
    let day_two = window("2026-10-02T00:00:00Z", None);
    let (usage, read) = incremental(&root, day_two, Some(state));
    let expected = full(&root, day_two);
    assert_eq!(usage, expected);
    // Every new file was opened (the corrupt one too, and it is reported), no old one was.
    assert_eq!(read.files_new as usize, added);
    assert!(
        expected
            .coverage
            .sources_skipped
            .iter()
            .any(|s| s.source.ends_with("corrupt.json.gz"))
    );
    // The CI session issued in a file of day 1 links the call of day 2 to its workload.
    let linked = usage
        .allowed
        .iter()
        .find(|(key, _)| key.permission.action == "lambda:UpdateFunctionCode")
        .map(|(_, record)| record)
        .expect("the next day's call is counted");
    assert!(
        linked
            .workloads
            .iter()
            .any(|workload| workload.subject == "repo:acme/late:ref:refs/heads/main"),
        "{linked:?}"
    );
    // The folder of 10-01 left the window (with its day of slack ending at 10-02... kept while
    // a full read opens it): the state keeps only what a full read of the window opens.
    let (again, read_again) = incremental(&root, day_two, Some(read.state.clone()));
    assert_eq!(again, expected, "a run with nothing new changes nothing");
    assert_eq!(
        read_again.files_new, 1,
        "only the corrupt file is tried again"
    );
}

#[test]
fn a_window_moving_past_folders_drops_them_from_the_state() {
    let all = all_logs();
    let root = all.path().join("AWSLogs");
    let (_, read) = incremental(&root, window("2026-10-01T00:00:00Z", None), None);
    let before = read.state.files_read();
    let later = window("2026-10-05T00:00:00Z", None);
    let (usage, read) = incremental(&root, later, Some(read.state));
    assert_eq!(usage, full(&root, later));
    assert_eq!(read.files_new, 1, "only the corrupt file is read again");
    assert!(
        read.state.files_read() < before,
        "folders before 10-04 are dropped"
    );
    // A wider window again: the dropped folders are read anew, and the result is still exact.
    let wide = window("2026-10-01T00:00:00Z", None);
    let (usage, read) = incremental(&root, wide, Some(read.state));
    assert_eq!(usage, full(&root, wide));
    assert!(read.files_new > 1);
}

#[test]
fn incremental_reads_refuse_part_days_and_other_sources() {
    let all = all_logs();
    let root = all.path().join("AWSLogs");
    let part_day = window("2026-10-01T06:00:00Z", None);
    let error = ingest_directory_incremental(
        &root,
        "logs",
        &IngestOptions {
            window: part_day,
            progress: None,
        },
        None,
    )
    .unwrap_err();
    assert!(error.to_string().contains("whole UTC days"), "{error}");
    assert_eq!(whole_days(part_day), window("2026-10-01T00:00:00Z", None));
    assert_eq!(
        whole_days(window("2026-10-01T06:00:00Z", Some("2026-10-03T00:00:01Z"))),
        window("2026-10-01T00:00:00Z", Some("2026-10-04T00:00:00Z"))
    );
    let error = ingest_directory_incremental(
        &root,
        "elsewhere",
        &IngestOptions {
            window: whole_days(part_day),
            progress: None,
        },
        Some(ReadState::new("logs")),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("`logs`, not `elsewhere`"),
        "{error}"
    );
}

#[test]
fn a_damaged_read_state_is_an_error_not_a_different_count() {
    let all = all_logs();
    let root = all.path().join("AWSLogs");
    let (_, read) = incremental(&root, window("2026-10-01T00:00:00Z", None), None);
    let bytes = read.state.to_bytes();
    assert!(ReadState::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(ReadState::from_bytes(b"{}").is_err());
    // A string id pointing past the strings.
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut json)
        .unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["parts"][0]["records"]["usage"][0][0] = serde_json::json!(4_000_000_000u32);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, value.to_string().as_bytes()).unwrap();
    let error = ReadState::from_bytes(&encoder.finish().unwrap()).unwrap_err();
    assert!(error.to_string().contains("out of range"), "{error}");
}
