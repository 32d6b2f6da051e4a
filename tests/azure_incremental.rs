//! Incremental reading of the Activity Log: a read that continues an earlier read's state gives
//! exactly the usage of reading every file of the window at once, and opens only the files
//! that are new. Generated data in a storage export's layout (one blob per subscription and
//! hour, operations cut across blobs), plus hand-written blobs for what must hold whatever the
//! generator draws: an operation whose `Start` is in a blob read by one run and whose
//! `Success` is in a blob read by the next counts once, a record without a time, and a corrupt
//! blob.

use chrono::{DateTime, NaiveDate, Utc};
use pipeleash::azure::activity_log::{
    ActivityLogUsage, IncrementalRead, ReadState, read_path, read_path_incremental,
};
use pipeleash::generate::azure_activity_log::{GenerateOptions, generate};
use pipeleash::model::{IdentityId, Permission, Provider, TimeWindow, UsageKey};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const SUB: &str = "00000000-0000-4000-8000-0000000000ff";
const OID: &str = "22222222-2222-4222-8222-222222222222";
const SCOPE: &str = "/subscriptions/00000000-0000-4000-8000-0000000000ff/resourceGroups/rg/providers/Microsoft.Web/sites/late";
const ACTION: &str = "Microsoft.Web/sites/write";
const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";

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

/// The day of a blob path `…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`.
fn folder_day(path: &Path) -> Option<NaiveDate> {
    let mut year = None;
    let mut month = None;
    let mut date = None;
    for part in path.iter() {
        let part = part.to_string_lossy();
        if let Some(value) = part.strip_prefix("y=") {
            year = value.parse().ok();
        } else if let Some(value) = part.strip_prefix("m=")
            && month.is_none()
        {
            month = value.parse().ok();
        } else if let Some(value) = part.strip_prefix("d=") {
            date = value.parse().ok();
        }
    }
    NaiveDate::from_ymd_opt(year?, month?, date?)
}

/// Copies the blobs of `from` whose day `days` accepts into `to`.
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

/// One record of an operation on the late site (`time` absent: no time).
fn record(time: Option<&str>, result_type: &str, correlation: &str) -> Value {
    let mut record = json!({
        "resourceId": SCOPE.to_ascii_uppercase(),
        "operationName": ACTION.to_ascii_uppercase(),
        "category": "Administrative",
        "resultType": result_type,
        "correlationId": correlation,
        "identity": {
            "authorization": {"action": ACTION, "scope": SCOPE},
            "claims": {OBJECT_ID_CLAIM: OID, "appid": "app-late", "idtyp": "app"},
        },
        "caller": OID,
        "properties": {"statusCode": if result_type == "Start" { "Accepted" } else { "OK" }, "eventCategory": "Administrative"},
    });
    if let Some(time) = time {
        record["time"] = json!(time);
    }
    record
}

/// Writes the blob of `hour` (`2026-10-01T10`) of the hand-written subscription.
fn write_blob(root: &Path, hour: &str, records: &[Value], name: &str) {
    let (date, hour) = hour.split_once('T').unwrap();
    let parts: Vec<&str> = date.split('-').collect();
    let dir = root.join(format!(
        "insights-activity-logs/resourceId=/SUBSCRIPTIONS/{}/y={}/m={}/d={}/h={hour}/m=00",
        SUB.to_ascii_uppercase(),
        parts[0],
        parts[1],
        parts[2]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::new();
    for record in records {
        text.push_str(&record.to_string());
        text.push('\n');
    }
    std::fs::write(dir.join(name), text).unwrap();
}

/// Generated blobs of 2026-10-01 .. 2026-10-06, and the hand-written cases.
fn all_logs() -> tempfile::TempDir {
    let all = tempfile::tempdir().unwrap();
    generate(
        all.path(),
        &GenerateOptions {
            records: 6_000,
            seed: 3,
            start: day("2026-10-01"),
            days: 6,
            gzip: true,
        },
    )
    .unwrap();
    // An operation started at the end of 10-02 and ended at the start of 10-03: its records
    // are in the last blob of one day and the first of the next.
    write_blob(
        all.path(),
        "2026-10-02T23",
        &[record(Some("2026-10-02T23:59:50Z"), "Start", "op-late")],
        "PT1H.json",
    );
    write_blob(
        all.path(),
        "2026-10-03T00",
        &[
            record(Some("2026-10-03T00:00:20Z"), "Success", "op-late"),
            record(None, "Success", "op-no-time"),
        ],
        "PT1H.json",
    );
    write_blob(all.path(), "2026-10-05T01", &[], "PT1H.json");
    std::fs::write(
        all.path().join(format!(
            "insights-activity-logs/resourceId=/SUBSCRIPTIONS/{}/y=2026/m=10/d=05/h=01/m=00/PT1H.json",
            SUB.to_ascii_uppercase()
        )),
        b"\x1f\x8bnot gzip",
    )
    .unwrap();
    all
}

fn full(root: &Path, window: TimeWindow) -> ActivityLogUsage {
    read_path(root, window, None).unwrap()
}

fn incremental(
    root: &Path,
    window: TimeWindow,
    previous: Option<ReadState>,
) -> (ActivityLogUsage, IncrementalRead) {
    read_path_incremental(root, "logs", window, previous, None).unwrap()
}

fn late_key() -> UsageKey {
    UsageKey {
        identity: IdentityId::new(Provider::Azure, OID),
        permission: Permission::new(Provider::Azure, ACTION),
        resource: SCOPE.to_owned(),
    }
}

#[test]
fn an_azure_read_continuing_the_last_one_equals_a_full_read_and_opens_only_new_files() {
    let all = all_logs();
    let source = tempfile::tempdir().unwrap();
    let root = source.path();
    // Day 1: the blobs up to 10-02 (the operation's Start among them).
    let first_files = copy_days(all.path(), root, |date| date <= day("2026-10-02"));
    let day_one = window("2026-10-01T00:00:00Z", Some("2026-10-03T00:00:00Z"));
    let (usage, read) = incremental(root, day_one, None);
    assert_eq!(usage, full(root, day_one));
    assert!(usage.coverage.operations > 500);
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

    // Day 2: the blobs of 10-03 and 10-04 delivered (the operation's Success among them), and
    // later ones; the window moved by a day.
    let added = copy_days(all.path(), root, |date| {
        date > day("2026-10-02") && date <= day("2026-10-03")
    });
    let first_hour_of_next_day = copy_days(all.path(), root, |date| date > day("2026-10-03"));
    assert!(first_hour_of_next_day > 0);
    let day_two = window("2026-10-02T00:00:00Z", Some("2026-10-04T00:00:00Z"));
    let (usage, read) = incremental(root, day_two, Some(state));
    let expected = full(root, day_two);
    assert_eq!(usage, expected);
    // The blobs of 10-03 and the first hour of 10-04 (the walk's hour of slack) are new.
    let next_midnight = files(root)
        .iter()
        .filter(|path| path.to_string_lossy().contains("/d=04/h=00/"))
        .count();
    assert_eq!(read.files_new as usize, added + next_midnight);
    // Start read by run 1, Success by run 2: one operation, both records merged into it.
    let late = usage
        .usage
        .get(&late_key())
        .expect("the operation is counted");
    assert_eq!(late.count, 1, "{late:?}");
    assert_eq!(late.first_seen, at("2026-10-02T23:59:50Z"));
    assert_eq!(late.denied_count, 0);
    // A run with nothing new changes nothing.
    let (again, read_again) = incremental(root, day_two, Some(read.state.clone()));
    assert_eq!(again, expected);
    assert_eq!(read_again.files_new, 0);
}

#[test]
fn an_azure_window_moving_past_folders_drops_them_from_the_state() {
    let all = all_logs();
    let root = all.path();
    let (_, read) = incremental(root, window("2026-10-01T00:00:00Z", None), None);
    let before = read.state.files_read();
    let later = window("2026-10-03T00:00:00Z", None);
    let (usage, read) = incremental(root, later, Some(read.state));
    let expected = full(root, later);
    assert_eq!(usage, expected);
    // Only the files that could not be read (the corrupt blob, the generator's ground truth
    // beside the export) are read again.
    assert_eq!(
        read.files_new as usize,
        expected.coverage.files_skipped.len()
    );
    assert_eq!(read.files_new, 2);
    assert!(
        read.state.files_read() < before,
        "folders before 10-02 23:00 are dropped"
    );
    // The Success alone is in the window now: one operation, as a full read counts it.
    assert_eq!(usage.usage.get(&late_key()).unwrap().count, 1);
    // A wider window again: the dropped folders are read anew, and the result is still exact.
    let wide = window("2026-10-01T00:00:00Z", None);
    let (usage, read) = incremental(root, wide, Some(read.state));
    assert_eq!(usage, full(root, wide));
    assert!(read.files_new > 1);
}

#[test]
fn incremental_azure_reads_refuse_part_days_other_sources_and_single_files() {
    let all = all_logs();
    let root = all.path();
    let part_day = window("2026-10-01T06:00:00Z", None);
    let error = read_path_incremental(root, "logs", part_day, None, None).unwrap_err();
    assert!(error.to_string().contains("whole UTC days"), "{error}");
    let whole = window("2026-10-01T00:00:00Z", None);
    let error = read_path_incremental(root, "elsewhere", whole, Some(ReadState::new("logs")), None)
        .unwrap_err();
    assert!(
        error.to_string().contains("`logs`, not `elsewhere`"),
        "{error}"
    );
    // `az monitor activity-log list` output: one file, nothing to remember.
    let file = root.join("list.json");
    std::fs::write(&file, b"[]").unwrap();
    let error = read_path_incremental(&file, "list.json", whole, None, None).unwrap_err();
    assert!(error.to_string().contains("is one file"), "{error}");
}

#[test]
fn a_damaged_azure_read_state_is_an_error_not_a_different_count() {
    let all = all_logs();
    let root = all.path();
    let (_, read) = incremental(root, window("2026-10-01T00:00:00Z", None), None);
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
    let part = value["parts"]
        .as_array()
        .unwrap()
        .iter()
        .position(|part| !part["records"]["principals"].as_array().unwrap().is_empty())
        .unwrap();
    // A principal of a kind no reader writes.
    let mut kind = value.clone();
    kind["parts"][part]["records"]["principals"][0][1] = json!("robot");
    let error = ReadState::from_bytes(&encode(&kind)).unwrap_err();
    assert!(
        error.to_string().contains("not a kind of principal"),
        "{error}"
    );
    // An identity without its provider.
    let mut identity = value.clone();
    identity["parts"][part]["records"]["usage"][0][0] = json!("no-provider");
    let error = ReadState::from_bytes(&encode(&identity)).unwrap_err();
    assert!(error.to_string().contains("not an identity id"), "{error}");
    // A newer format is refused by version.
    let mut newer = value;
    newer["format_version"] = json!(99);
    let error = ReadState::from_bytes(&encode(&newer)).unwrap_err();
    assert!(error.to_string().contains("format version 99"), "{error}");
}
