//! Finding log files under a local copy of a Cloud Logging sink's Cloud Storage bucket,
//! pruning date folders outside the observation window before anything in them is listed.
//!
//! Layout (<https://cloud.google.com/logging/docs/export/storage>): one folder per log id,
//! then `YYYY/MM/DD/`, then hourly shards named for the hour they cover, in UTC:
//! `cloudaudit.googleapis.com/activity/2026/11/01/08:00:00_08:59:59_S0.json`. A bucket may
//! hold other logs (`syslog/…`) too: when a folder holds a `cloudaudit.googleapis.com`
//! folder, only that one is walked.

use crate::model::TimeWindow;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// The folder of the audit logs inside a sink's bucket.
pub const AUDIT_LOG_FOLDER: &str = "cloudaudit.googleapis.com";

/// The files found and the folders that could not be listed.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Whether a file name is one of a log file (`.json`, `.json.gz`).
pub fn is_log_file_name(name: &str) -> bool {
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// Lists the log files under `root` (or `root` itself when it is a file), sorted by path.
/// An unreadable `root` is an error; an unreadable folder below it is listed as such.
pub fn list_log_files(root: &Path, window: &TimeWindow) -> std::io::Result<Listing> {
    let mut listing = Listing::default();
    if std::fs::metadata(root)?.is_file() {
        listing.files.push(root.to_path_buf());
        return Ok(listing);
    }
    let mut pending = vec![(root.to_path_buf(), DateLevel::None)];
    let mut first = true;
    while let Some((dir, level)) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if first => return Err(error),
            Err(error) => {
                listing.unreadable.push((dir, error.to_string()));
                continue;
            }
        };
        first = false;
        let mut folders = Vec::new();
        let mut files = Vec::new();
        let mut audit_folder = None;
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
                    .push((path, "cannot read the file type".into()));
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if file_type.is_dir() {
                if name == AUDIT_LOG_FOLDER {
                    audit_folder = Some(path.clone());
                }
                folders.push((path, level.descend(&name)));
            } else if is_log_file_name(&name) {
                files.push(path);
            }
        }
        if let Some(audit) = audit_folder {
            // Other logs and files beside the audit logs are not read.
            pending.push((audit, DateLevel::None));
            continue;
        }
        listing.files.append(&mut files);
        for (path, child) in folders {
            if let Some((first_day, last_day)) = child.days()
                && !window.may_overlap_days(first_day, last_day)
            {
                continue;
            }
            pending.push((path, child));
        }
    }
    listing
        .files
        .sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    listing.unreadable.sort();
    Ok(listing)
}

/// The days a folder (a path under the listed root, without the file name) can hold files of,
/// from its innermost date level: `None` outside the date layout. The walk opens a folder when
/// the window may overlap these days ([`TimeWindow::may_overlap_days`]).
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

/// A sink's bucket in Cloud Storage (`gs://bucket/prefix`), listed by
/// [`crate::remote_logs`] with the rule of [`list_log_files`]: a folder holding
/// `cloudaudit.googleapis.com` is read there only, and a date folder is listed when
/// [`crate::incremental::date_folder_opened`] opens its [`folder_span`].
#[derive(Debug, Clone, Copy)]
pub struct SinkBucket;

impl crate::remote_logs::Layout for SinkBucket {
    const LOGS: &'static str = "Cloud Audit Logs";
    /// <https://cloud.google.com/storage/docs/access-control/iam-permissions>
    const PERMISSIONS: &'static str = "list and read its objects (`storage.objects.list` and \
         `storage.objects.get` on the bucket, e.g. the role `roles/storage.objectViewer`)";

    fn accepts(scheme: &str, _: &str) -> bool {
        scheme == "gs"
    }

    fn choose(
        folder: &str,
        children: Vec<String>,
        window: &TimeWindow,
    ) -> crate::remote_logs::Choice {
        if children.iter().any(|name| name == AUDIT_LOG_FOLDER) {
            // Other logs and files beside the audit logs are not read.
            return crate::remote_logs::Choice {
                open: vec![AUDIT_LOG_FOLDER.to_owned()],
                pruned: 0,
                read_files: false,
            };
        }
        let (open, pruned): (Vec<String>, Vec<String>) = children.into_iter().partition(|name| {
            let path = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            crate::incremental::date_folder_opened(folder_span(&path), window)
        });
        crate::remote_logs::Choice {
            open,
            pruned: pruned.len() as u64,
            read_files: true,
        }
    }

    fn is_log_file(name: &str) -> bool {
        is_log_file_name(name)
    }
}

/// Where in the `YYYY/MM/DD` part of the layout a folder is.
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
            DateLevel::None if digits(4) => {
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

    /// The first and last day a folder at this level can hold.
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
    use chrono::{TimeZone, Utc};

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    #[test]
    fn date_folders_outside_the_window_are_not_listed_and_other_logs_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join(AUDIT_LOG_FOLDER);
        for day in ["2026/10/01", "2026/11/02", "2026/11/03", "2026/12/25"] {
            touch(&audit.join(format!("activity/{day}/00:00:00_00:59:59_S0.json")));
            touch(&audit.join(format!("data_access/{day}/00:00:00_00:59:59_S0.json")));
        }
        touch(
            &dir.path()
                .join("syslog/2026/11/02/00:00:00_00:59:59_S0.json"),
        );
        touch(&dir.path().join("ground-truth.json"));
        let window = TimeWindow {
            since: Some(Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()),
            until: Some(Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap()),
        };
        let listing = list_log_files(dir.path(), &window).unwrap();
        let names: Vec<String> = listing
            .files
            .iter()
            .map(|file| {
                file.strip_prefix(&audit)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "activity/2026/11/02/00:00:00_00:59:59_S0.json",
                "activity/2026/11/03/00:00:00_00:59:59_S0.json",
                "data_access/2026/11/02/00:00:00_00:59:59_S0.json",
                "data_access/2026/11/03/00:00:00_00:59:59_S0.json",
            ]
        );
    }

    #[test]
    fn a_bucket_listing_opens_the_audit_folder_only_and_day_folders_of_the_window() {
        use crate::remote_logs::Layout as _;
        let window = TimeWindow {
            since: Some(Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()),
            until: Some(Utc.with_ymd_and_hms(2026, 11, 4, 0, 0, 0).unwrap()),
        };
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect();
        let top = SinkBucket::choose("", names(&["syslog", AUDIT_LOG_FOLDER]), &window);
        assert_eq!(top.open, [AUDIT_LOG_FOLDER]);
        assert!(!top.read_files);
        let days = SinkBucket::choose(
            "cloudaudit.googleapis.com/activity/2026/11",
            names(&["01", "02", "03", "04", "05", "30"]),
            &window,
        );
        // A day of slack each side, as the local walk.
        assert_eq!(days.open, ["01", "02", "03", "04"]);
        assert_eq!(days.pruned, 2);
        assert!(days.read_files);
        let years = SinkBucket::choose("x/activity", names(&["2025", "2026", "other"]), &window);
        assert_eq!(years.open, ["2026", "other"]);
    }

    #[test]
    fn a_single_file_is_its_own_listing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("entries.json");
        touch(&file);
        let listing = list_log_files(&file, &TimeWindow::default()).unwrap();
        assert_eq!(listing.files, [file]);
    }
}
