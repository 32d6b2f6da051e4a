//! Incremental CloudTrail reading, the nightly audit's case: 30 days of logs in the layout a
//! trail writes (one file per account, region and 5 minutes), read once for days 1–29 (the
//! first audit, which stores its read state), then, after day 30's files arrive, read again
//! continuing that state with the window moved by a day, against a full read of the same
//! window (the baseline). The state goes through its stored bytes between the two, as it does
//! between two audits. Each incremental result is checked equal to the full read's.
//!
//! `cargo bench --no-default-features --bench incremental`; `EVENTS=…` (default 1,000,000),
//! `RUNS=…` (default 5) pairs of (incremental, full) taken in turn; `DIR=…` keeps the
//! generated set there instead of a temporary directory.

use chrono::{Duration, NaiveDate};
use pipeleash::aws::cloudtrail::{
    IngestOptions, ReadState, TimeWindow, folder_span, ingest_directory,
    ingest_directory_incremental,
};
use pipeleash::generate::cloudtrail::{GenerateOptions, Layout, generate};
use std::path::{Path, PathBuf};
use std::time::Instant;

const DAYS: u32 = 30;

fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("entry").path();
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

/// Hard-links the files of `from` whose date folder is before (`before = true`) or on/after
/// `day` into `to`; returns how many.
fn link(from: &Path, to: &Path, day: NaiveDate, before: bool) -> usize {
    let mut linked = 0;
    for path in files(from) {
        let relative = path.strip_prefix(from).expect("under from");
        let folder = relative
            .parent()
            .map(|parent| parent.to_string_lossy().into_owned());
        let on_or_after =
            folder_span(&folder.unwrap_or_default()).is_some_and(|(first, _)| first >= day);
        if on_or_after != before {
            let target = to.join(relative);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::hard_link(&path, &target).expect("link");
            linked += 1;
        }
    }
    linked
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let events: u64 = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let temp = tempfile::tempdir().expect("tempdir");
    let base = std::env::var("DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| temp.path().to_path_buf());
    let start = NaiveDate::from_ymd_opt(2026, 10, 1).expect("date");
    let all = base.join("all");
    if !all.join("AWSLogs").is_dir() {
        let began = Instant::now();
        generate(
            &all,
            &GenerateOptions {
                events,
                seed: 1,
                start,
                days: DAYS,
                layout: Layout::Delivery,
                ..GenerateOptions::default()
            },
        )
        .expect("generate");
        eprintln!(
            "generated {events} events in {:.1} s",
            began.elapsed().as_secs_f64()
        );
    }
    let last_day = start + Duration::days(i64::from(DAYS) - 1);
    let view = base.join("view");
    let _ = std::fs::remove_dir_all(&view);
    let first = link(&all.join("AWSLogs"), &view.join("AWSLogs"), last_day, true);
    let root = view.join("AWSLogs");
    let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let day_one = TimeWindow {
        since: Some(midnight(start)),
        until: Some(midnight(last_day)),
    };
    let day_two = TimeWindow {
        since: Some(midnight(start + Duration::days(1))),
        until: Some(midnight(last_day + Duration::days(1))),
    };

    let began = Instant::now();
    let (_, read) = ingest_directory_incremental(
        &root,
        "logs",
        &IngestOptions {
            window: day_one,
            progress: None,
        },
        None,
    )
    .expect("day one");
    let first_read = began.elapsed().as_secs_f64();
    let stored = read.state.to_bytes();
    let added = link(&all.join("AWSLogs"), &root, last_day, false);
    println!(
        "day 1: {first} files read in {first_read:.2} s; read state {:.1} MiB stored; day 2 adds {added} files",
        stored.len() as f64 / 1_048_576.0
    );

    let (mut incremental, mut full) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let began = Instant::now();
        let state = ReadState::from_bytes(&stored).expect("state");
        let loaded = began.elapsed().as_secs_f64();
        let (usage, read) = ingest_directory_incremental(
            &root,
            "logs",
            &IngestOptions {
                window: day_two,
                progress: None,
            },
            Some(state),
        )
        .expect("day two");
        let read_at = began.elapsed().as_secs_f64();
        let _next = read.state.to_bytes();
        let inc = began.elapsed().as_secs_f64();
        println!(
            "  state load {loaded:.3} s, listing + reading + assembly {:.3} s, state store {:.3} s",
            read_at - loaded,
            inc - read_at
        );
        let began = Instant::now();
        let expected = ingest_directory(
            &root,
            &IngestOptions {
                window: day_two,
                progress: None,
            },
        )
        .expect("full");
        let whole = began.elapsed().as_secs_f64();
        assert_eq!(
            usage, expected,
            "the incremental read differs from the full read"
        );
        assert_eq!(read.files_new as usize, added);
        println!(
            "run {run}: day 2 incremental {inc:.3} s ({} new files, state load and store included), full re-read {whole:.3} s: {:.3}x",
            read.files_new,
            inc / whole
        );
        incremental.push(inc);
        full.push(whole);
    }
    let ratios: Vec<f64> = incremental.iter().zip(&full).map(|(a, b)| a / b).collect();
    println!(
        "median: incremental {:.3} s, full {:.3} s, ratio {:.3} (the day-2 audit takes that fraction of a full re-read)",
        median(incremental),
        median(full),
        median(ratios)
    );
}
