//! Finding CloudTrail log files under a directory laid out as CloudTrail writes them
//! (`AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`), pruning
//! date folders outside the observation window before any file in them is opened.

use super::time::TimeWindow;
use crate::aws::arn::is_account_id;
// The file `generate cloudtrail` writes beside `AWSLogs/`: the ground truth of a synthetic
// set, not a log. Skipped when it lies directly in the folder read.
use crate::generate::cloudtrail::GROUND_TRUTH_FILE;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// The files found and the directories that could not be listed.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Lists `.json.gz` and `.json` log files under `root`, sorted by the bytes of their paths,
/// skipping digest and insight folders, date folders that cannot hold events inside
/// `window`, and a generated set's [`GROUND_TRUTH_FILE`] at the top. A `root` that is a file
/// is its own listing (one log file given by name is read, whatever its name and date).
pub fn list_log_files(root: &Path, window: &TimeWindow) -> std::io::Result<Listing> {
    let mut listing = Listing::default();
    if std::fs::metadata(root)?.is_file() {
        listing.files.push(root.to_path_buf());
        return Ok(listing);
    }
    // The root itself must be readable: that is a usage error, not a partial failure.
    let entries = std::fs::read_dir(root)?;
    let mut pending = vec![(root.to_path_buf(), DateLevel::None, entries)];
    while let Some((dir, level, entries)) = pending.pop() {
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    listing.unreadable.push((dir.clone(), error.to_string()));
                    continue;
                }
            };
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                listing
                    .unreadable
                    .push((path, "cannot read file type".into()));
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if file_type.is_dir() {
                // Digest files prove integrity and Insight files describe anomalies: neither
                // holds API calls.
                if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
                    continue;
                }
                let child = level.descend(&name);
                if let Some((first, last)) = child.days()
                    && !window.may_overlap_days(first, last)
                {
                    continue;
                }
                match std::fs::read_dir(&path) {
                    Ok(entries) => pending.push((path, child, entries)),
                    Err(error) => listing.unreadable.push((path, error.to_string())),
                }
            } else if name.ends_with(".json.gz") || name.ends_with(".json") {
                if name == GROUND_TRUTH_FILE && dir == root {
                    continue;
                }
                listing.files.push(path);
            }
        }
    }
    // By bytes, not `Path`'s component-wise order: the order only needs to be fixed, and at one
    // file per account, region and 5 minutes (100,000 files a week for a small organisation)
    // comparing components took most of the listing's time.
    listing.files.sort_unstable_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    listing.unreadable.sort();
    Ok(listing)
}

/// An account and region whose log files lie under more than one trail's prefix (an
/// organization trail's `AWSLogs/<org id>/<account>/…` beside an account trail's
/// `AWSLogs/<account>/…`, or two buckets' copies): events both trails delivered are in two
/// files each, so their calls are counted twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailOverlap {
    pub account: String,
    pub region: String,
    /// The trails' prefixes, up to and including the organization id when there is one.
    pub prefixes: Vec<String>,
}

/// The overlaps among log file keys (object keys or paths) in CloudTrail's layout
/// (`…AWSLogs/[<org id>/]<account>/CloudTrail/<region>/…`, CloudTrail User Guide, "Finding
/// your CloudTrail log files",
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html>),
/// sorted by account and region. Keys in no such layout are left out.
pub fn trail_overlaps<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<TrailOverlap> {
    let mut trails: std::collections::BTreeMap<(&str, &str), std::collections::BTreeSet<&str>> =
        std::collections::BTreeMap::new();
    for key in keys {
        let Some(start) = key.find("AWSLogs/") else {
            continue;
        };
        let after = start + "AWSLogs/".len();
        let mut segments = key[after..].split('/');
        let (prefix_end, account) = match segments.next() {
            Some(first) if is_account_id(first) => (after, first),
            Some(org) if org.starts_with("o-") => match segments.next() {
                Some(account) if is_account_id(account) => (after + org.len() + 1, account),
                _ => continue,
            },
            _ => continue,
        };
        if segments.next() != Some("CloudTrail") {
            continue;
        }
        let Some(region) = segments.next() else {
            continue;
        };
        trails
            .entry((account, region))
            .or_default()
            .insert(&key[..prefix_end]);
    }
    trails
        .into_iter()
        .filter(|(_, prefixes)| prefixes.len() > 1)
        .map(|((account, region), prefixes)| TrailOverlap {
            account: account.to_owned(),
            region: region.to_owned(),
            prefixes: prefixes.into_iter().map(str::to_owned).collect(),
        })
        .collect()
}

/// Whether an object key (or relative path) of a CloudTrail log file can hold events in the
/// window, judged by its date folders (`…/YYYY/MM/DD/file`), and is a log file at all (not a
/// digest or insight file). Used where there is no directory to walk, such as an S3 listing.
pub fn key_may_hold_events(key: &str, window: &TimeWindow) -> bool {
    let (folder, name) = key.rsplit_once('/').unwrap_or(("", key));
    (name.ends_with(".json.gz") || name.ends_with(".json"))
        && folder_may_hold_events(folder, window)
}

/// Whether a folder (`AWSLogs/…/2026/11/`, with or without the trailing `/`) can hold log
/// files with events in the window: not a digest or insight folder, and not a date folder
/// outside the window. A listing that walks folder by folder skips the rest on `false`.
pub fn folder_may_hold_events(folder: &str, window: &TimeWindow) -> bool {
    let mut level = DateLevel::None;
    for segment in folder.split('/').filter(|segment| !segment.is_empty()) {
        if segment == "CloudTrail-Digest" || segment == "CloudTrail-Insight" {
            return false;
        }
        level = level.descend(segment);
        if let Some((first, last)) = level.days()
            && !window.may_overlap_days(first, last)
        {
            return false;
        }
    }
    true
}

/// The days a folder (`AWSLogs/…/2026/11/05`, a path or key without the file name) can hold
/// files of, from its innermost date level: `None` outside the date layout.
pub fn folder_span(folder: &str) -> Option<(NaiveDate, NaiveDate)> {
    let mut level = DateLevel::None;
    let mut span = None;
    for segment in folder.split('/').filter(|segment| !segment.is_empty()) {
        level = level.descend(segment);
        if let Some(days) = level.days() {
            span = Some(days);
        }
    }
    span
}

/// Where in the `YYYY/MM/DD` part of the layout a directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateLevel {
    None,
    Year(i32),
    Month(i32, u32),
    Day(NaiveDate),
}

impl DateLevel {
    fn descend(self, name: &str) -> DateLevel {
        let digits = |len: usize| name.len() == len && name.bytes().all(|b| b.is_ascii_digit());
        match self {
            DateLevel::None | DateLevel::Day(_) if digits(4) => {
                name.parse().map(DateLevel::Year).unwrap_or(DateLevel::None)
            }
            DateLevel::Year(year) if digits(2) => match name.parse::<u32>() {
                Ok(month @ 1..=12) => DateLevel::Month(year, month),
                _ => DateLevel::None,
            },
            DateLevel::Month(year, month) if digits(2) => name
                .parse::<u32>()
                .ok()
                .and_then(|day| NaiveDate::from_ymd_opt(year, month, day))
                .map(DateLevel::Day)
                .unwrap_or(DateLevel::None),
            _ => DateLevel::None,
        }
    }

    /// The first and last day this folder can hold.
    fn days(self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            DateLevel::None => None,
            DateLevel::Year(year) => Some((
                NaiveDate::from_ymd_opt(year, 1, 1)?,
                NaiveDate::from_ymd_opt(year, 12, 31)?,
            )),
            DateLevel::Month(year, month) => {
                let first = NaiveDate::from_ymd_opt(year, month, 1)?;
                let next = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)?
                };
                Some((first, next.pred_opt()?))
            }
            DateLevel::Day(day) => Some((day, day)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    /// 2026-11-01 up to (not including) 2026-11-10.
    fn november_1_to_10() -> TimeWindow {
        let at = |text: &str| {
            Some(
                DateTime::parse_from_rfc3339(text)
                    .unwrap()
                    .with_timezone(&Utc),
            )
        };
        TimeWindow {
            since: at("2026-11-01T00:00:00Z"),
            until: at("2026-11-10T00:00:00Z"),
        }
    }

    #[test]
    fn an_account_and_region_under_two_trails_is_an_overlap() {
        let keys = [
            "b/AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/11/14/a.json.gz",
            "b/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/14/b.json.gz",
            "b/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/14/c.json.gz",
            "b/AWSLogs/o-abc123/444455556666/CloudTrail/us-east-1/2026/11/14/d.json.gz",
            "other/AWSLogs/444455556666/CloudTrail/us-east-1/2026/11/15/e.json.gz",
            "b/AWSLogs/o-abc123/444455556666/CloudTrail-Digest/us-east-1/x.json.gz",
            "loose/file.json",
        ];
        let overlaps = trail_overlaps(keys);
        assert_eq!(
            overlaps,
            vec![
                TrailOverlap {
                    account: "111122223333".into(),
                    region: "us-east-1".into(),
                    prefixes: vec!["b/AWSLogs/".into(), "b/AWSLogs/o-abc123/".into()],
                },
                TrailOverlap {
                    account: "444455556666".into(),
                    region: "us-east-1".into(),
                    prefixes: vec!["b/AWSLogs/o-abc123/".into(), "other/AWSLogs/".into()],
                },
            ]
        );
        // One trail per account and region: no overlap.
        assert!(trail_overlaps(keys[1..3].iter().copied()).is_empty());
    }

    #[test]
    fn a_single_file_is_its_own_listing_whatever_its_date() {
        // Before: "Not a directory" and advice to sync the bucket.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("2019-export.json.gz");
        std::fs::write(&file, b"").unwrap();
        let window = TimeWindow {
            since: DateTime::from_timestamp(1_790_000_000, 0),
            until: None,
        };
        let listing = list_log_files(&file, &window).unwrap();
        assert_eq!(listing.files, [file]);
        assert!(list_log_files(&dir.path().join("absent.json"), &window).is_err());
    }

    #[test]
    fn prunes_date_folders_outside_the_window() {
        let root = tempfile::tempdir().unwrap();
        let base = root
            .path()
            .join("AWSLogs/111122223333/CloudTrail/eu-west-1");
        for day in ["2026/10/15", "2026/11/01", "2026/11/20", "2025/11/01"] {
            let dir = base.join(day);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("a.json.gz"), b"").unwrap();
        }
        let digest = root
            .path()
            .join("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/01");
        std::fs::create_dir_all(&digest).unwrap();
        std::fs::write(digest.join("d.json.gz"), b"").unwrap();
        let window = november_1_to_10();
        let listing = list_log_files(root.path(), &window).unwrap();
        let found: Vec<String> = listing
            .files
            .iter()
            .map(|p| p.strip_prefix(&base).unwrap().display().to_string())
            .collect();
        assert_eq!(found, vec!["2026/11/01/a.json.gz"]);
        let everything = list_log_files(root.path(), &TimeWindow::default()).unwrap();
        assert_eq!(everything.files.len(), 4);
    }

    #[test]
    fn folders_and_keys_are_pruned_by_their_date_segments() {
        let window = november_1_to_10();
        let base = "trail/AWSLogs/o-exampleorg1/111122223333/CloudTrail/eu-west-1";
        for (folder, expected) in [
            ("", true),
            ("trail/", true),
            (base, true),
            (&format!("{base}/2026/"), true),
            (&format!("{base}/2025/"), false),
            // A day of slack each side: a file can sit in the folder of the day before or
            // after its events' (delivery delay, the end of a UTC day).
            (&format!("{base}/2026/10"), true),
            (&format!("{base}/2026/09"), false),
            (&format!("{base}/2026/11/"), true),
            (&format!("{base}/2026/11/09/"), true),
            (&format!("{base}/2026/11/10/"), true),
            (&format!("{base}/2026/11/12/"), false),
            ("trail/AWSLogs/111122223333/CloudTrail-Digest/", false),
        ] {
            assert_eq!(
                folder_may_hold_events(folder, &window),
                expected,
                "{folder}"
            );
        }
        assert!(key_may_hold_events(
            &format!("{base}/2026/11/02/a.json.gz"),
            &window
        ));
        assert!(key_may_hold_events("plain.json", &window));
        assert!(!key_may_hold_events(
            &format!("{base}/2026/11/02/a.txt"),
            &window
        ));
        assert!(!key_may_hold_events(
            &format!("{base}/2026/12/02/a.json"),
            &window
        ));
    }
}
