//! Finding Activity Log files under a local copy of a diagnostic setting's storage export
//! (`insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`),
//! never listing a `y=`, `m=`, `d=` or `h=` folder that cannot hold records inside the window.
//!
//! The layout is described in "Diagnostic settings in Azure Monitor", destinations
//! (<https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/diagnostic-settings>):
//! blobs are named by resource id and by the hour the records fall in.

use super::TimeWindow;
use chrono::{NaiveDate, NaiveDateTime};
use std::path::{Path, PathBuf};

/// The files found, the folders left unlisted because of the window, and the folders that
/// could not be listed.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub folders_pruned: u64,
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Lists `.json` and `.json.gz` files under `root` (any depth), sorted by the bytes of their
/// paths. A `root` that is a file is listed as itself.
pub fn list_log_files(root: &Path, window: &TimeWindow) -> std::io::Result<Listing> {
    let mut listing = Listing::default();
    if std::fs::metadata(root)?.is_file() {
        listing.files.push(root.to_path_buf());
        return Ok(listing);
    }
    let entries = std::fs::read_dir(root)?;
    let mut pending = vec![(root.to_path_buf(), Partition::default(), entries)];
    while let Some((dir, partition, entries)) = pending.pop() {
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
                let child = partition.descend(&name);
                if let Some((start, end)) = child.span()
                    && !window.may_overlap(start.and_utc(), end.and_utc(), SLACK)
                {
                    listing.folders_pruned += 1;
                    continue;
                }
                match std::fs::read_dir(&path) {
                    Ok(entries) => pending.push((path, child, entries)),
                    Err(error) => listing.unreadable.push((path, error.to_string())),
                }
            } else if name.ends_with(".json") || name.ends_with(".json.gz") {
                listing.files.push(path);
            }
        }
    }
    listing.files.sort_unstable_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    listing.unreadable.sort();
    Ok(listing)
}

/// The time span `[start, end)` the records of a folder (a path under the listed root, without
/// the file name) can fall in, from its partition folders: `None` outside the layout. The walk
/// opens the folder when the window may overlap it with an hour of slack.
pub fn folder_span(folder: &str) -> Option<(NaiveDateTime, NaiveDateTime)> {
    folder
        .split('/')
        .filter(|segment| !segment.is_empty())
        .fold(Partition::default(), Partition::descend)
        .span()
}

/// The slack the walk widens a folder's span by: a record written at the end of an hour can
/// land in the next hour's blob.
pub const SLACK: chrono::Duration = chrono::Duration::hours(1);

/// A diagnostic setting's export container in Blob Storage
/// (`https://account.blob.core.windows.net/insights-activity-logs/prefix`, `az://container/prefix`),
/// listed by [`crate::remote_logs`] with the rule of [`list_log_files`]: a partition folder is
/// listed when the window may overlap its [`folder_span`] with [`SLACK`].
#[derive(Debug, Clone, Copy)]
pub struct ExportContainer;

impl crate::remote_logs::Layout for ExportContainer {
    const LOGS: &'static str = "Azure Activity Log";
    /// <https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-reader>
    const PERMISSIONS: &'static str = "list and read its blobs (the role `Storage Blob Data \
         Reader` on the container or account: \
         `Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read`)";

    fn accepts(scheme: &str, host: &str) -> bool {
        match scheme {
            "az" | "azure" | "adl" | "abfs" | "abfss" => true,
            "https" => {
                host.ends_with(".blob.core.windows.net") || host.ends_with(".dfs.core.windows.net")
            }
            _ => false,
        }
    }

    fn choose(
        folder: &str,
        children: Vec<String>,
        window: &TimeWindow,
    ) -> crate::remote_logs::Choice {
        let (open, pruned): (Vec<String>, Vec<String>) = children.into_iter().partition(|name| {
            let path = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            folder_span(&path).is_none_or(|(start, end)| {
                window.may_overlap(start.and_utc(), end.and_utc(), SLACK)
            })
        });
        crate::remote_logs::Choice {
            open,
            pruned: pruned.len() as u64,
            read_files: true,
        }
    }
}

/// How much of `y=/m=/d=/h=` a folder path has fixed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Partition {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
}

impl Partition {
    /// The partition of a child folder named `name` (`y=2026`, `m=10`, `d=01`, `h=13`); a
    /// folder of another name keeps its parent's partition. The `m=00` under `h=` is the
    /// minute and fixes nothing more.
    fn descend(self, name: &str) -> Partition {
        let Some((key, value)) = name.split_once('=') else {
            return self;
        };
        let Ok(number) = value.parse::<u32>() else {
            return self;
        };
        let mut child = self;
        match key {
            "y" => {
                child = Partition {
                    year: i32::try_from(number).ok(),
                    ..Partition::default()
                }
            }
            "m" if self.year.is_some() && self.month.is_none() => child.month = Some(number),
            "d" if self.month.is_some() => child.day = Some(number),
            "h" if self.day.is_some() => child.hour = Some(number),
            _ => {}
        }
        child
    }

    /// The time span `[start, end)` the folder's records can fall in, when it is fixed.
    fn span(self) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let year = self.year?;
        let at = |y: i32, m: u32, d: u32, h: u32| {
            NaiveDate::from_ymd_opt(y, m, d).and_then(|date| date.and_hms_opt(h, 0, 0))
        };
        match (self.month, self.day, self.hour) {
            (None, _, _) => Some((at(year, 1, 1, 0)?, at(year + 1, 1, 1, 0)?)),
            (Some(month), None, _) => {
                let start = at(year, month, 1, 0)?;
                let end = if month == 12 {
                    at(year + 1, 1, 1, 0)?
                } else {
                    at(year, month + 1, 1, 0)?
                };
                Some((start, end))
            }
            (Some(month), Some(day), None) => {
                let start = at(year, month, day, 0)?;
                Some((start, start + chrono::Duration::days(1)))
            }
            (Some(month), Some(day), Some(hour)) => {
                let start = at(year, month, day, hour)?;
                Some((start, start + chrono::Duration::hours(1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn window(since: &str, until: &str) -> TimeWindow {
        let at = |text: &str| {
            Some(
                DateTime::parse_from_rfc3339(text)
                    .unwrap()
                    .with_timezone(&Utc),
            )
        };
        TimeWindow {
            since: at(since),
            until: at(until),
        }
    }

    #[test]
    fn a_container_listing_opens_the_partitions_of_the_window_only() {
        use crate::remote_logs::Layout as _;
        let window = window("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z");
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect();
        let base = "resourceId=/SUBSCRIPTIONS/S1";
        let days = ExportContainer::choose(
            &format!("{base}/y=2026/m=09"),
            names(&["d=29", "d=30"]),
            &window,
        );
        assert_eq!((days.open, days.pruned), (vec!["d=30".to_owned()], 1));
        let hours = ExportContainer::choose(
            &format!("{base}/y=2026/m=09/d=30"),
            names(&["h=22", "h=23"]),
            &window,
        );
        // One hour of slack: 23:00 is kept.
        assert_eq!((hours.open, hours.pruned), (vec!["h=23".to_owned()], 1));
        let top = ExportContainer::choose("", names(&["resourceId="]), &window);
        assert_eq!(top.open, ["resourceId="]);
        assert!(ExportContainer::accepts(
            "https",
            "acct.blob.core.windows.net"
        ));
        assert!(!ExportContainer::accepts("https", "example.com"));
        assert!(!ExportContainer::accepts("gs", "bucket"));
    }

    #[test]
    fn partitions_outside_the_window_are_never_listed() {
        let root = tempfile::tempdir().unwrap();
        let base = root
            .path()
            .join("insights-activity-logs/resourceId=/SUBSCRIPTIONS/S1");
        for folder in [
            "y=2026/m=09/d=30/h=23/m=00",
            "y=2026/m=10/d=01/h=00/m=00",
            "y=2026/m=10/d=02/h=05/m=00",
            "y=2026/m=10/d=03/h=00/m=00",
            "y=2025/m=10/d=01/h=00/m=00",
        ] {
            let dir = base.join(folder);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("PT1H.json"), b"").unwrap();
        }
        let listing = list_log_files(
            root.path(),
            &window("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z"),
        )
        .unwrap();
        let found: Vec<String> = listing
            .files
            .iter()
            .map(|path| path.strip_prefix(&base).unwrap().display().to_string())
            .collect();
        // One hour of slack each side: 2026-09-30 23:00 and 2026-10-03 00:00 are kept.
        assert_eq!(
            found,
            vec![
                "y=2026/m=09/d=30/h=23/m=00/PT1H.json",
                "y=2026/m=10/d=01/h=00/m=00/PT1H.json",
                "y=2026/m=10/d=02/h=05/m=00/PT1H.json",
                "y=2026/m=10/d=03/h=00/m=00/PT1H.json",
            ]
        );
        assert_eq!(listing.folders_pruned, 1);
        let narrow = list_log_files(
            root.path(),
            &window("2026-10-02T00:00:00Z", "2026-10-02T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(narrow.files.len(), 1);
    }
}
