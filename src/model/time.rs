//! Event times of the log readers (CloudTrail `eventTime`, Cloud Audit Logs `timestamp`,
//! Activity Log `time`). Times are kept as Unix seconds inside the hot loops and become
//! `chrono` values only in the results.

use chrono::{DateTime, Utc};

pub use crate::model::TimeWindow;

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_days(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses an RFC 3339 time (`2026-11-01T12:34:56Z`) into Unix seconds. The fixed form
/// CloudTrail writes is read by hand because this runs once per event; anything else goes
/// through RFC 3339.
pub fn parse_event_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() == 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[19] == b'Z'
    {
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            bytes[range].iter().try_fold(0i64, |acc, b| {
                b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
            })
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = civil_days(year, month as u32, day as u32);
        return Some(days * 86_400 + hour * 3_600 + minute * 60 + second);
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp())
}

/// Unix seconds back to a UTC time (clamped to the epoch for nonsense values).
pub fn to_datetime(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono() {
        for text in [
            "2026-11-01T12:34:56Z",
            "2024-02-29T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2000-03-01T00:00:01Z",
        ] {
            let expected = DateTime::parse_from_rfc3339(text).unwrap().timestamp();
            assert_eq!(parse_event_time(text), Some(expected), "{text}");
        }
        assert_eq!(
            parse_event_time("2026-11-01T12:34:56.123+00:00"),
            Some(
                DateTime::parse_from_rfc3339("2026-11-01T12:34:56Z")
                    .unwrap()
                    .timestamp()
            )
        );
        assert_eq!(parse_event_time("2026-13-01T12:34:56Z"), None);
        assert_eq!(parse_event_time("yesterday"), None);
    }

    #[test]
    fn window_is_half_open_and_prunes_days_with_slack() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let window = TimeWindow {
            since: Some(at("2026-11-02T00:00:00Z")),
            until: Some(at("2026-11-04T00:00:00Z")),
        };
        assert!(window.contains_seconds(at("2026-11-02T00:00:00Z").timestamp()));
        assert!(!window.contains_seconds(at("2026-11-04T00:00:00Z").timestamp()));
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        assert!(window.may_overlap_days(day(1), day(1)));
        assert!(!window.may_overlap_days(day(1).pred_opt().unwrap(), day(1).pred_opt().unwrap()));
        assert!(window.may_overlap_days(day(4), day(4)));
        assert!(!window.may_overlap_days(day(6), day(6)));
    }
}
