use super::*;
use crate::incremental::{day_name, day_number, split_key};
use chrono::NaiveTime;
use std::io::Write as _;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn window(since: &str, until: &str) -> TimeWindow {
    let at = |text: &str| Some(day(text).and_time(NaiveTime::MIN).and_utc());
    TimeWindow {
        since: at(since),
        until: at(until),
    }
}

#[test]
fn folders_are_opened_as_a_full_read_opens_them_with_a_day_of_slack() {
    let window = window("2026-11-10", "2026-11-20");
    // The day before the window can hold records of its first day (late delivery rules are
    // the walk's: one day of slack on each side).
    assert!(opened(
        Some((day("2026-11-09"), day("2026-11-09"))),
        &window
    ));
    assert!(!opened(
        Some((day("2026-11-08"), day("2026-11-08"))),
        &window
    ));
    assert!(opened(
        Some((day("2026-11-20"), day("2026-11-20"))),
        &window
    ));
    assert!(!opened(
        Some((day("2026-11-21"), day("2026-11-21"))),
        &window
    ));
    // Outside the date layout: always opened.
    assert!(opened(None, &window));
}

#[test]
fn keys_split_into_folder_and_file_name() {
    assert_eq!(split_key("a/b/c.json.gz"), ("a/b", "c.json.gz"));
    assert_eq!(split_key("c.json"), ("", "c.json"));
    let mut state = ReadState::new("logs");
    state.add(
        Parts::default().0,
        vec!["AWSLogs/1/CloudTrail/r/2026/11/05/x.json.gz".into()],
    );
    assert!(state.holds("AWSLogs/1/CloudTrail/r/2026/11/05/x.json.gz"));
    assert!(!state.holds("AWSLogs/1/CloudTrail/r/2026/11/06/x.json.gz"));
    assert_eq!(state.files_read(), 1);
    // The folder leaves the window with its files.
    state.retain_window(&window("2026-11-10", "2026-11-20"));
    assert_eq!(state.files_read(), 0);
}

#[test]
fn day_numbers_and_names_agree() {
    for text in ["1970-01-01", "2026-11-30", "1969-12-31"] {
        assert_eq!(day_name(day_number(day(text))), text);
    }
}

#[test]
fn a_state_of_a_newer_format_is_refused_by_version() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(br#"{"format_version": 99, "source": "logs", "files": {}, "parts": []}"#)
        .unwrap();
    let error = ReadState::from_bytes(&encoder.finish().unwrap()).unwrap_err();
    assert!(
        matches!(error, ReadStateError::Version { found: 99, .. }),
        "{error}"
    );
    let empty = ReadState::new("s3://bucket/AWSLogs");
    let back = ReadState::from_bytes(&empty.to_bytes()).unwrap();
    assert_eq!(back.source(), "s3://bucket/AWSLogs");
    assert_eq!(back.to_bytes(), empty.to_bytes());
}
