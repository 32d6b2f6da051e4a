//! Incremental CloudTrail reading: what a read leaves for the next one, so that a nightly
//! audit of a 90-day window reads the files delivered since the last audit, not ninety days.
//!
//! A [`ReadState`] holds, for one log source (a directory or an `s3://` prefix):
//! - the keys of the files read whole, by folder: a later listing leaves them out;
//! - every record of those files, aggregated (not only those in the window of that read),
//!   in parts keyed by the file's date folder and the record's UTC event day.
//!
//! The usage of a window is assembled from the parts: the parts of every date folder a full
//! read would open ([`walk::folder_may_hold_events`]: the window's days with a day of slack)
//! count their records as read, and the parts whose event day lies in the window count their
//! calls. That is exactly what reading all those files at once gives, which is why the window
//! of an incremental read must be whole UTC days ([`whole_days`]): a day is then either wholly
//! in the window or wholly out of it. Date folders that leave the window are dropped from the
//! state with their files, so the state is bounded by the window, not by history.
//!
//! A file that could not be read is not remembered, so the next read tries it again; files
//! deleted from the source after they were read stay counted until their folder leaves the
//! window.

use super::accumulate::{Accumulator, StoredAccumulator, Tables};
use super::record::Record;
use super::time::{TimeWindow, parse_event_time};
use super::walk;
use super::{CloudTrailUsage, IngestError};
use crate::model::SkippedSource;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};

/// The version of the stored read state. Bump on any incompatible change.
pub const READ_STATE_FORMAT_VERSION: u32 = 1;

const SECONDS_PER_DAY: i64 = 86_400;

/// The days a date folder can hold (`…/YYYY/MM/DD/` is one day), or `None` for a folder
/// outside the date layout, which every window includes.
type Span = Option<(NaiveDate, NaiveDate)>;

/// Where a record is counted: its file's date folder, and its UTC event day (days since
/// 1970-01-01), `None` for a record whose time is missing or not a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct PartKey {
    span: Span,
    day: Option<i64>,
}

/// Records counted by date folder and event day, during one read.
#[derive(Debug, Default, Clone)]
pub(super) struct Parts(BTreeMap<PartKey, Accumulator>);

impl Parts {
    /// Counts one record of a file in a folder spanning `span`, whatever its time: the window
    /// is applied when the parts are assembled.
    pub(super) fn add(&mut self, span: Span, record: &Record<'_>, tables: Tables<'_>) {
        let day = record
            .event_time
            .get()
            .and_then(parse_event_time)
            .map(|seconds| seconds.div_euclid(SECONDS_PER_DAY));
        self.0.entry(PartKey { span, day }).or_default().add(
            record,
            tables,
            &TimeWindow::default(),
        );
    }

    pub(super) fn merge(&mut self, other: Parts) {
        for (key, part) in other.0 {
            match self.0.get_mut(&key) {
                Some(mine) => mine.merge(part),
                None => {
                    self.0.insert(key, part);
                }
            }
        }
    }
}

/// What the reads of one log source so far have left: the files read and their records.
#[derive(Debug, Clone)]
pub struct ReadState {
    source: String,
    /// Folder (the key up to its last `/`) → names of the files in it that were read whole.
    files: BTreeMap<String, BTreeSet<String>>,
    parts: Parts,
}

/// Why a stored read state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadStateError {
    #[error("the read state is not gzip-compressed JSON: {0}")]
    Decode(String),
    #[error("the read state has format version {found}, this pipeleash reads up to {supported}")]
    Version { found: u32, supported: u32 },
    #[error("the read state is damaged: {0}")]
    Damaged(String),
}

impl ReadState {
    /// An empty state for `source`: nothing read yet.
    pub fn new(source: &str) -> ReadState {
        ReadState {
            source: source.to_owned(),
            files: BTreeMap::new(),
            parts: Parts::default(),
        }
    }

    /// The log source (path or URI as given) this state continues.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many files it holds as read.
    pub fn files_read(&self) -> u64 {
        self.files.values().map(|names| names.len() as u64).sum()
    }

    /// Whether the file with this key (path under the source root, or object key) was read.
    pub fn holds(&self, key: &str) -> bool {
        let (folder, name) = split_key(key);
        self.files
            .get(folder)
            .is_some_and(|names| names.contains(name))
    }

    /// Adds what a read counted and the keys of the files it read whole.
    pub(super) fn add(&mut self, parts: Parts, keys: Vec<String>) {
        self.parts.merge(parts);
        for key in keys {
            let (folder, name) = split_key(&key);
            self.files
                .entry(folder.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
    }

    /// Drops the folders (files and records) that a read of `window` would not open.
    pub(super) fn retain_window(&mut self, window: &TimeWindow) {
        self.files
            .retain(|folder, _| opened(walk::folder_span(folder), window));
        self.parts.0.retain(|key, _| opened(key.span, window));
    }

    /// The usage of `window` (whole UTC days) from every part, with `skipped` the files this
    /// read could not read.
    pub(super) fn usage(
        &self,
        window: &TimeWindow,
        skipped: Vec<SkippedSource>,
    ) -> CloudTrailUsage {
        let mut merged = Accumulator::default();
        let mut events_read = 0;
        for (key, part) in &self.parts.0 {
            if !opened(key.span, window) {
                continue;
            }
            events_read += part.events_read();
            let counted = key
                .day
                .is_none_or(|day| window.contains_seconds(day * SECONDS_PER_DAY));
            if counted {
                merged.merge(part.clone());
            }
        }
        merged.set_events_read(events_read);
        let files_read = self
            .files
            .iter()
            .filter(|(folder, _)| opened(walk::folder_span(folder), window))
            .map(|(_, names)| names.len() as u64)
            .sum();
        merged.finish(*window, files_read, skipped)
    }

    /// The stored form: JSON, gzip-compressed; equal states give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = StoredReadState {
            format_version: READ_STATE_FORMAT_VERSION,
            source: self.source.clone(),
            files: self
                .files
                .iter()
                .map(|(folder, names)| (folder.clone(), names.iter().cloned().collect()))
                .collect(),
            parts: self
                .parts
                .0
                .iter()
                .map(|(key, part)| StoredPart {
                    folder_days: key
                        .span
                        .map(|(first, last)| [first.to_string(), last.to_string()]),
                    event_day: key.day.map(day_name),
                    records: part.to_stored(),
                })
                .collect(),
        };
        // Serializing plain data into memory cannot fail.
        let json = serde_json::to_vec(&stored).unwrap_or_default();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(&json);
        encoder.finish().unwrap_or_default()
    }

    /// Reads the stored form back; anything damaged is an error, never a partial state.
    pub fn from_bytes(bytes: &[u8]) -> Result<ReadState, ReadStateError> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut json)
            .map_err(|error| ReadStateError::Decode(error.to_string()))?;
        let version: VersionOnly = serde_json::from_slice(&json)
            .map_err(|error| ReadStateError::Decode(error.to_string()))?;
        if version.format_version > READ_STATE_FORMAT_VERSION {
            return Err(ReadStateError::Version {
                found: version.format_version,
                supported: READ_STATE_FORMAT_VERSION,
            });
        }
        let stored: StoredReadState = serde_json::from_slice(&json)
            .map_err(|error| ReadStateError::Damaged(error.to_string()))?;
        let mut parts = Parts::default();
        for part in stored.parts {
            let span = match part.folder_days {
                Some([first, last]) => Some((parse_day(&first)?, parse_day(&last)?)),
                None => None,
            };
            let day = match part.event_day {
                Some(day) => Some(day_number(parse_day(&day)?)),
                None => None,
            };
            let records =
                Accumulator::from_stored(part.records).map_err(ReadStateError::Damaged)?;
            if parts.0.insert(PartKey { span, day }, records).is_some() {
                return Err(ReadStateError::Damaged(
                    "one date folder and event day is stored twice".to_owned(),
                ));
            }
        }
        Ok(ReadState {
            source: stored.source,
            files: stored
                .files
                .into_iter()
                .map(|(folder, names)| (folder, names.into_iter().collect()))
                .collect(),
            parts,
        })
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    format_version: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredReadState {
    format_version: u32,
    source: String,
    /// Folder → names of the files read whole, sorted.
    files: BTreeMap<String, Vec<String>>,
    parts: Vec<StoredPart>,
}

#[derive(Serialize, Deserialize)]
struct StoredPart {
    /// First and last day of the date folder (`YYYY-MM-DD`), absent outside the date layout.
    folder_days: Option<[String; 2]>,
    /// UTC day of the records' `eventTime`, absent for records without a valid time.
    event_day: Option<String>,
    records: StoredAccumulator,
}

/// `(folder, file name)` of a key.
fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// Whether a read of `window` opens a folder spanning `span` (the rule of
/// [`walk::folder_may_hold_events`]).
fn opened(span: Span, window: &TimeWindow) -> bool {
    span.is_none_or(|(first, last)| window.may_overlap_days(first, last))
}

fn day_name(day: i64) -> String {
    DateTime::<Utc>::from_timestamp(day * SECONDS_PER_DAY, 0)
        .map(|time| time.date_naive().to_string())
        .unwrap_or_default()
}

fn day_number(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp()
        .div_euclid(SECONDS_PER_DAY)
}

fn parse_day(text: &str) -> Result<NaiveDate, ReadStateError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ReadStateError::Damaged(format!("`{text}` is not a date (YYYY-MM-DD)")))
}

/// `window` widened to whole UTC days: `since` down to its midnight, `until` up to the next
/// (unchanged when already at midnight). An incremental read needs whole days.
pub fn whole_days(window: TimeWindow) -> TimeWindow {
    let down = |time: DateTime<Utc>| time.date_naive().and_time(NaiveTime::MIN).and_utc();
    TimeWindow {
        since: window.since.map(down),
        until: window.until.map(|until| {
            let midnight = down(until);
            if midnight == until {
                until
            } else {
                midnight + chrono::Duration::days(1)
            }
        }),
    }
}

/// Refuses a window that does not start and end at midnight UTC.
pub(super) fn check_whole_days(window: &TimeWindow) -> Result<(), IngestError> {
    if whole_days(*window) == *window {
        Ok(())
    } else {
        Err(IngestError::NotWholeDays)
    }
}

#[cfg(test)]
mod tests;
