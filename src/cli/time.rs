//! The one reading of the time flags (`--since`, `--until`, `--now`) every command shares.

use super::InputError;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

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
    /// The time to take as now (RFC 3339), for reproducible reports; ages count back from
    /// it. Default: the clock.
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
        check_not_empty(since, until)?;
        Ok((since, until))
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

/// An input error unless `since` is before `until`.
pub fn check_not_empty(since: DateTime<Utc>, until: DateTime<Utc>) -> anyhow::Result<()> {
    if since >= until {
        return Err(InputError::wrap(format!(
            "the window is empty: `--since` ({}) must be before `--until` ({})",
            rfc3339(since),
            rfc3339(until)
        )));
    }
    Ok(())
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

/// `--now`: the time to take as now (RFC 3339), or the clock.
pub fn parse_now(text: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    match text {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|error| {
                InputError::wrap(format!(
                    "`--now {text}` is not an RFC 3339 time (e.g. `2026-03-31T00:00:00Z`): {error}"
                ))
            }),
        None => Ok(Utc::now()),
    }
}

/// A time as the reports print it: RFC 3339 to the second, UTC.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

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
        let error = parse_now(Some("yesterday")).unwrap_err();
        assert!(error.to_string().contains("`--now yesterday`"), "{error}");
    }
}
