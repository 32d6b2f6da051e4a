//! The one reading of the time flags (`--since`, `--until`, `--now`) every command shares.

use super::InputError;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The observation window's start when `--since` is not given.
pub const DEFAULT_SINCE: &str = "90d";

/// The longest age an age flag takes: a hundred years.
const MAX_AGE_DAYS: i64 = 36_500;

/// Which end of a window a time names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Since,
    Until,
}

/// The observation-window flags every command that reads a window takes (`analyze`,
/// `audit`, `usage`, `minimize`), declared once and flattened into each.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WindowArgs {
    /// Start of the observation window: an age before now (`90d`, `12w`, `36h`), a date
    /// (`2026-11-01`) or an RFC 3339 time. Default: `90d` (`usage`: every event found; usage
    /// stored in a snapshot: the window it was read for).
    #[arg(long, value_name = "AGE|DATE")]
    pub since: Option<String>,
    /// End of the observation window, exclusive: an age, a date (`2026-11-30` includes all
    /// of that day) or an RFC 3339 time. Default: now.
    #[arg(long, value_name = "AGE|DATE")]
    pub until: Option<String>,
    /// The time to take as now, for reproducible reports; ages count back from it: a date
    /// (`2026-11-21` means the end of that day, as for `--until`) or an RFC 3339 time.
    /// Default: the clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

impl WindowArgs {
    /// `--since`, read against `now`; `None` when not given.
    pub fn since_at(&self, now: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        read_bound(self.since.as_deref(), now, Bound::Since, "--since")
    }

    /// `--until`, read against `now`; `None` when not given.
    pub fn until_at(&self, now: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        read_bound(self.until.as_deref(), now, Bound::Until, "--until")
    }

    /// The window `[since, until)`: `--since` (default [`DEFAULT_SINCE`]) to `--until`
    /// (default `now`), checked not to be empty.
    pub fn window_at(&self, now: DateTime<Utc>) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
        let since = read_bound(
            Some(self.since.as_deref().unwrap_or(DEFAULT_SINCE)),
            now,
            Bound::Since,
            "--since",
        )?
        .unwrap_or(now);
        let until = self.until_at(now)?.unwrap_or(now);
        self.check_not_empty(since, until)?;
        Ok((since, until))
    }
}

impl WindowArgs {
    /// An input error unless `since` is before `until`, naming the flags' values as given
    /// (`--until 2026-11-14`) and as read (`2026-11-15T00:00:00Z`).
    pub fn check_not_empty(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        if since < until {
            return Ok(());
        }
        let given = |flag: &str, text: Option<&str>, time| match text {
            Some(text) => format!("`{flag} {}` ({})", text.trim(), rfc3339(time)),
            None => format!("`{flag}` ({})", rfc3339(time)),
        };
        Err(InputError::wrap(format!(
            "the window is empty: {} must be before {}",
            given(
                "--since",
                Some(self.since.as_deref().unwrap_or(DEFAULT_SINCE)),
                since
            ),
            given("--until", self.until.as_deref(), until)
        )))
    }
}

fn read_bound(
    text: Option<&str>,
    now: DateTime<Utc>,
    bound: Bound,
    flag: &str,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    text.map(|text| parse_time_bound(text, now, bound))
        .transpose()
        .map_err(|error| InputError::wrap(format!("`{flag}`: {error}")))
}

/// Parses a bound of the observation window: an age before `now` (`90d`, `12w`, `36h`), a
/// date (`2026-11-01`), or an RFC 3339 time. A bare date as the `Until` bound means the end
/// of that day, so `--since D --until D` is the whole day D.
pub fn parse_time_bound(
    text: &str,
    now: DateTime<Utc>,
    bound: Bound,
) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Some(age) = parse_age(text)? {
        return now
            .checked_sub_signed(age)
            .ok_or_else(|| format!("`{text}` is too far back"));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = match bound {
            Bound::Since => Some(date),
            Bound::Until => date.succ_opt(),
        };
        return day
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|midnight| midnight.and_utc())
            .ok_or_else(|| format!("the date `{text}` is out of range"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "cannot read the date `{text}`: use a date (`2026-11-01`), an RFC 3339 time, \
                 or an age such as `90d`, `12w` or `36h`"
            )
        })
}

/// `90d`, `12w`, `36h` as a duration; `None` when the text is not an age at all.
fn parse_age(text: &str) -> Result<Option<Duration>, String> {
    let Some(unit) = text.chars().last() else {
        return Ok(None);
    };
    let hours_per_unit = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        _ => return Ok(None),
    };
    let number = &text[..text.len() - 1];
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return Ok(None);
    }
    let out_of_range = || format!("`{text}` is out of range; use at most {MAX_AGE_DAYS} days");
    let count: i64 = number.parse().map_err(|_| out_of_range())?;
    let hours = count
        .checked_mul(hours_per_unit)
        .filter(|hours| *hours <= MAX_AGE_DAYS * 24)
        .ok_or_else(out_of_range)?;
    Ok(Some(Duration::hours(hours)))
}

/// `--now`: the time to take as now, or the clock. A date (`2026-11-21`) means the end of
/// that day (the next midnight, UTC), as a date does for `--until`, so that `--now D`
/// covers all of day D; an RFC 3339 time is taken as is. An age is refused: it has nothing
/// to count back from.
pub fn parse_now(text: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    let Some(text) = text else {
        return Ok(Utc::now());
    };
    let trimmed = text.trim();
    let unreadable = || {
        InputError::wrap(format!(
            "`--now`: cannot read the date `{trimmed}`: use a date (`2026-11-01`) or an RFC 3339 \
             time (`2026-11-01T12:00:00Z`)"
        ))
    };
    if matches!(parse_age(trimmed), Ok(Some(_)) | Err(_)) {
        return Err(unreadable());
    }
    // An age is excluded above, so `now` is never read here.
    parse_time_bound(trimmed, DateTime::<Utc>::UNIX_EPOCH, Bound::Until).map_err(|error| {
        if error.contains("out of range") {
            InputError::wrap(format!("`--now`: {error}"))
        } else {
            unreadable()
        }
    })
}

pub use crate::output::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn dates_times_and_ages_parse_against_the_given_now() {
        let check = |text: &str, bound, expected: &str| {
            assert_eq!(
                rfc3339(parse_time_bound(text, now(), bound).unwrap()),
                expected,
                "{text}"
            );
        };
        check("2026-11-01", Bound::Since, "2026-11-01T00:00:00Z");
        check("2026-11-30", Bound::Until, "2026-12-01T00:00:00Z");
        check("90d", Bound::Since, "2026-09-02T12:00:00Z");
        check(" 90d ", Bound::Since, "2026-09-02T12:00:00Z");
        check("12w", Bound::Since, "2026-09-08T12:00:00Z");
        check("36h", Bound::Since, "2026-11-30T00:00:00Z");
        check("0d", Bound::Until, "2026-12-01T12:00:00Z");
        check("36500d", Bound::Since, "1926-12-26T12:00:00Z");
        check(
            "2026-11-01T08:00:00+02:00",
            Bound::Since,
            "2026-11-01T06:00:00Z",
        );
    }

    #[test]
    fn unreadable_and_out_of_range_times_say_what_to_write() {
        for text in ["last tuesday", "d", "-5d", "5x", "2026-13-01", ""] {
            let error = parse_time_bound(text, now(), Bound::Since).unwrap_err();
            assert!(error.starts_with("cannot read the date"), "{text}: {error}");
        }
        for text in [
            "36501d",
            "5215w",
            "99999999999999999999d",
            "9223372036854775807h",
        ] {
            let error = parse_time_bound(text, now(), Bound::Since).unwrap_err();
            assert!(error.contains("out of range"), "{text}: {error}");
        }
        for text in ["yesterday", "90d", "2026-11-21 00:00", ""] {
            let error = parse_now(Some(text)).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("`--now`: cannot read the date `{text}`")),
                "{error}"
            );
        }
    }

    /// `--now` takes the forms `--until` takes, a date meaning the end of that day.
    #[test]
    fn now_takes_a_date_as_the_end_of_that_day_and_an_rfc3339_time() {
        let read = |text| rfc3339(parse_now(Some(text)).unwrap());
        assert_eq!(read("2026-11-21"), "2026-11-22T00:00:00Z");
        assert_eq!(read(" 2026-11-21 "), "2026-11-22T00:00:00Z");
        assert_eq!(read("2026-11-21T08:00:00+02:00"), "2026-11-21T06:00:00Z");
    }

    /// An empty window names the flags' values as given, not only as normalized.
    #[test]
    fn empty_window_error_prints_the_values_as_given() {
        let window = WindowArgs {
            since: Some("2026-11-20".into()),
            until: Some("2026-11-14".into()),
            now: None,
        };
        let error = window.window_at(now()).unwrap_err().to_string();
        assert!(error.contains("`--since 2026-11-20`"), "{error}");
        assert!(error.contains("`--until 2026-11-14`"), "{error}");
    }
}
