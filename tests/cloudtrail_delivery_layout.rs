//! The generator's delivery layout: one log file per account, region and 5-minute window, as a
//! trail delivers them — the layout ingestion meets at organisation scale.

use chrono::{NaiveDateTime, TimeZone, Utc};
use flate2::read::GzDecoder;
use pipeleash::aws::cloudtrail::{IngestOptions, ingest_directory};
use pipeleash::generate::cloudtrail::{GenerateOptions, Layout, generate};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn delivery(events: u64, days: u32, accounts: usize) -> GenerateOptions {
    GenerateOptions {
        events,
        seed: 5,
        days,
        accounts,
        layout: Layout::Delivery,
        ..GenerateOptions::default()
    }
}

fn log_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(".json.gz") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The records' `eventTime`s of one log file, in seconds.
fn event_times(path: &Path) -> Vec<i64> {
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let time = record["eventTime"].as_str().unwrap();
            NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M:%SZ")
                .unwrap()
                .and_utc()
                .timestamp()
        })
        .collect()
}

/// The delivery time in a file name: `<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>`.
fn stamp(path: &Path) -> i64 {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let stamp = name.split('_').nth(3).unwrap();
    let time = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ").unwrap();
    Utc.from_utc_datetime(&time).timestamp()
}

#[test]
fn delivery_layout_writes_one_file_per_account_region_and_five_minutes() {
    let out = tempfile::tempdir().unwrap();
    // One account, three regions, one day: 864 windows for 2,600 events.
    let truth = generate(out.path(), &delivery(2_600, 1, 1)).unwrap();
    assert_eq!(truth.files, 3 * 288);
    let files = log_files(&out.path().join("AWSLogs"));
    assert_eq!(files.len(), 3 * 288);
    let mut windows: BTreeMap<(String, i64), usize> = BTreeMap::new();
    let mut records = 0;
    for path in &files {
        let start = stamp(path);
        assert_eq!(start % 300, 0, "{}", path.display());
        let region = path.parent().unwrap().parent().unwrap().parent().unwrap();
        let region = region.parent().unwrap().file_name().unwrap();
        *windows
            .entry((region.to_string_lossy().to_string(), start))
            .or_default() += 1;
        let times = event_times(path);
        // The events are spread evenly: 2,600 over 864 files is 3 or 4 each (3.01 on average).
        assert!((3..=4).contains(&times.len()), "{}", path.display());
        assert!(
            times[0] >= start && times[0] < start + 300,
            "{}: first event outside its window",
            path.display()
        );
        records += times.len();
    }
    assert_eq!(records, 2_600);
    assert!(windows.values().all(|files| *files == 1), "{windows:?}");

    let usage = ingest_directory(&out.path().join("AWSLogs"), &IngestOptions::default()).unwrap();
    assert_eq!(usage.coverage.events_read, 2_600);
    assert_eq!(usage.coverage.sources_read, 3 * 288);
}

#[test]
fn delivery_layout_with_fewer_events_than_windows_writes_no_empty_file() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &delivery(10, 1, 1)).unwrap();
    assert_eq!(truth.files, 10);
    let files = log_files(&out.path().join("AWSLogs"));
    assert_eq!(files.len(), 10);
    assert!(files.iter().all(|path| event_times(path).len() == 1));
}

#[test]
fn delivery_layout_is_byte_identical_for_a_seed() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), &delivery(3_000, 1, 2)).unwrap();
    generate(b.path(), &delivery(3_000, 1, 2)).unwrap();
    let read = |root: &Path| -> Vec<Vec<u8>> {
        log_files(root)
            .iter()
            .map(|path| std::fs::read(path).unwrap())
            .collect()
    };
    assert_eq!(read(a.path()), read(b.path()));
}
