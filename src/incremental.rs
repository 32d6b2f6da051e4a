//! What the incremental log readers share (CloudTrail [`crate::aws::cloudtrail::incremental`],
//! Cloud Audit Logs [`crate::gcp::audit_log::incremental`], the Activity Log
//! [`crate::azure::activity_log::incremental`]): the [`ReadState`] (the files read whole and
//! the records counted, in parts a [`LogLayout`] defines), day arithmetic on whole UTC days,
//! and the stored form a snapshot holds (gzip-compressed JSON with a format version).
//!
//! Each reader keeps every record of the files it read, aggregated per date folder and UTC
//! event day, so that the usage of any window of whole UTC days can be assembled from the
//! parts exactly as a full read of that window gives it.

use crate::model::TimeWindow;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};

pub const SECONDS_PER_DAY: i64 = 86_400;
const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * 1_000_000;

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

/// The files read whole, by folder (the key up to its last `/`): a later listing leaves them
/// out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSet(BTreeMap<String, BTreeSet<String>>);

impl FileSet {
    /// Whether the file with this key (path under the source root, or object key) was read.
    pub fn holds(&self, key: &str) -> bool {
        let (folder, name) = split_key(key);
        self.0.get(folder).is_some_and(|names| names.contains(name))
    }

    pub fn insert(&mut self, key: &str) {
        let (folder, name) = split_key(key);
        self.0
            .entry(folder.to_owned())
            .or_default()
            .insert(name.to_owned());
    }

    /// Keeps the folders `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|folder, _| keep(folder));
    }

    /// How many files the folders `counted` accepts hold.
    pub fn count(&self, mut counted: impl FnMut(&str) -> bool) -> u64 {
        self.0
            .iter()
            .filter(|(folder, _)| counted(folder))
            .map(|(_, names)| names.len() as u64)
            .sum()
    }

    /// Folder → names, sorted.
    pub fn to_stored(&self) -> BTreeMap<String, Vec<String>> {
        self.0
            .iter()
            .map(|(folder, names)| (folder.clone(), names.iter().cloned().collect()))
            .collect()
    }

    pub fn from_stored(stored: BTreeMap<String, Vec<String>>) -> FileSet {
        FileSet(
            stored
                .into_iter()
                .map(|(folder, names)| (folder, names.into_iter().collect()))
                .collect(),
        )
    }
}

/// `(folder, file name)` of a key.
pub fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// The UTC day (days since 1970-01-01) of a Unix time in seconds.
pub fn day_of_seconds(seconds: i64) -> i64 {
    seconds.div_euclid(SECONDS_PER_DAY)
}

/// The UTC day of a Unix time in microseconds.
pub fn day_of_micros(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// Whether the UTC day `day` lies in `window` (whole UTC days: then a day is wholly in or
/// wholly out).
pub fn day_in_window(day: i64, window: &TimeWindow) -> bool {
    window.contains_seconds(day * SECONDS_PER_DAY)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_name(day: i64) -> String {
    DateTime::<Utc>::from_timestamp(day * SECONDS_PER_DAY, 0)
        .map(|time| time.date_naive().to_string())
        .unwrap_or_default()
}

pub fn day_number(date: NaiveDate) -> i64 {
    day_of_seconds(date.and_time(NaiveTime::MIN).and_utc().timestamp())
}

/// A date (`YYYY-MM-DD`) of a stored state.
pub fn parse_day(text: &str) -> Result<NaiveDate, ReadStateError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ReadStateError::Damaged(format!("`{text}` is not a date (YYYY-MM-DD)")))
}

/// A day number of a stored state (`YYYY-MM-DD`).
pub fn parse_day_number(text: &str) -> Result<i64, ReadStateError> {
    parse_day(text).map(day_number)
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

/// Whether `window` starts and ends at midnight UTC (or is open).
pub fn is_whole_days(window: &TimeWindow) -> bool {
    whole_days(*window) == *window
}

/// The stored form of a state: JSON, gzip-compressed.
pub fn encode<T: Serialize>(stored: &T) -> Vec<u8> {
    // Serializing plain data into memory cannot fail.
    let json = serde_json::to_vec(stored).unwrap_or_default();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(&json);
    encoder.finish().unwrap_or_default()
}

/// Reads a stored state of at most format version `supported` (a `format_version` field at
/// the top level).
pub fn decode<T: DeserializeOwned>(bytes: &[u8], supported: u32) -> Result<T, ReadStateError> {
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        format_version: u32,
    }
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|error| ReadStateError::Decode(error.to_string()))?;
    let version: VersionOnly =
        serde_json::from_slice(&json).map_err(|error| ReadStateError::Decode(error.to_string()))?;
    if version.format_version > supported {
        return Err(ReadStateError::Version {
            found: version.format_version,
            supported,
        });
    }
    serde_json::from_slice(&json).map_err(|error| ReadStateError::Damaged(error.to_string()))
}

/// Where records of a layout with date folders (CloudTrail's `…/YYYY/MM/DD/`, a Cloud Logging
/// sink's) are counted: the days of the file's date folder (`None` outside the date layout)
/// and the UTC day of the records' time (days since 1970-01-01; `None` for records counted
/// whatever the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateKey {
    pub span: Option<(NaiveDate, NaiveDate)>,
    pub day: Option<i64>,
}

/// A part under a [`DateKey`] as stored: the date folder's first and last day and the event
/// day (`YYYY-MM-DD`, absent when `None`), and the records.
#[derive(Serialize, Deserialize)]
pub struct StoredDatePart<T> {
    folder_days: Option<[String; 2]>,
    event_day: Option<String>,
    records: T,
}

impl<T> StoredDatePart<T> {
    pub fn new(key: &DateKey, records: T) -> StoredDatePart<T> {
        StoredDatePart {
            folder_days: key
                .span
                .map(|(first, last)| [first.to_string(), last.to_string()]),
            event_day: key.day.map(day_name),
            records,
        }
    }

    /// The key and records back; a day that is not a date is an error.
    pub fn into_parts(self) -> Result<(DateKey, T), ReadStateError> {
        let span = match &self.folder_days {
            Some([first, last]) => Some((parse_day(first)?, parse_day(last)?)),
            None => None,
        };
        let day = self
            .event_day
            .as_deref()
            .map(parse_day_number)
            .transpose()?;
        Ok((DateKey { span, day }, self.records))
    }
}

/// Why an incremental read cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// An incremental read was asked to continue the state of another log source.
    #[error(
        "the stored read state is of `{stored}`, not `{given}`; read `{given}` in full (no \
         earlier state) or give the same source as before"
    )]
    OtherSource { stored: String, given: String },
    /// An incremental read was given a window that does not start and end at midnight UTC.
    #[error(
        "an incremental read counts whole UTC days: the window must start and end at midnight \
         UTC (`whole_days` rounds one)"
    )]
    NotWholeDays,
    /// The source is one file (an export printed by a command), not a folder of log files.
    #[error(
        "`{path}` is one file, not a folder of log files: an incremental read remembers the \
         files of a folder it has read; drop `--incremental` to read the file in full"
    )]
    SingleFile { path: std::path::PathBuf },
}

/// Checks that a read of `source` within `window` can continue a state of `stored` (the
/// source of the previous state, if any).
fn check_resume(
    window: &TimeWindow,
    source: &str,
    stored: Option<&str>,
) -> Result<(), ResumeError> {
    if !is_whole_days(window) {
        return Err(ResumeError::NotWholeDays);
    }
    match stored {
        Some(stored) if stored != source => Err(ResumeError::OtherSource {
            stored: stored.to_owned(),
            given: source.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Refuses a root that is a single file (see [`ResumeError::SingleFile`]).
pub fn check_folder(root: &std::path::Path) -> Result<(), ResumeError> {
    if root.is_file() {
        Err(ResumeError::SingleFile {
            path: root.to_path_buf(),
        })
    } else {
        Ok(())
    }
}

/// Whether a read of `window` lists the files of a date folder spanning `span` (`None`: a
/// folder outside the date layout, always listed): the window's days with a day of slack
/// ([`TimeWindow::may_overlap_days`]), the rule the CloudTrail and Cloud Audit Logs walks
/// prune folders by.
pub fn date_folder_opened(span: Option<(NaiveDate, NaiveDate)>, window: &TimeWindow) -> bool {
    span.is_none_or(|(first, last)| window.may_overlap_days(first, last))
}

/// How one cloud's logs are laid out and counted, for its [`ReadState`].
pub trait LogLayout {
    /// Where the state lives in a snapshot (`usage/<cloud>-read-state.json.gz`).
    const PATH: &'static str;
    /// Its manifest kind.
    const KIND: &'static str;
    /// Its manifest provider (`aws`, `gcp`, `azure`).
    const PROVIDER: &'static str;
    /// The newest stored format this build reads; bump on any incompatible change.
    const FORMAT_VERSION: u32;
    /// Where records are counted: the folder's place in the layout and the records' day.
    type Key: Ord + Copy;
    /// The records counted under one key.
    type Part: Clone;
    /// A part as stored, with its key.
    type StoredPart: Serialize + DeserializeOwned;
    /// Whether a read of `window` lists the files of `folder` (a key without its file name):
    /// the rule the cloud's walk prunes folders by.
    fn folder_opened(folder: &str, window: &TimeWindow) -> bool;
    /// Whether a read of `window` lists the folder the records under `key` came from.
    fn key_opened(key: &Self::Key, window: &TimeWindow) -> bool;
    /// Adds `theirs` to `mine` (records under the same key).
    fn merge(mine: &mut Self::Part, theirs: Self::Part);
    fn store(key: &Self::Key, part: &Self::Part) -> Self::StoredPart;
    /// A stored part back; anything damaged is an error.
    fn load(stored: Self::StoredPart) -> Result<(Self::Key, Self::Part), ReadStateError>;
}

/// What the reads of one log source (a folder or an `s3://` prefix, as the user gives it)
/// so far have left: the keys of the files read whole, and every record of them (not only
/// those in the window of that read), counted in parts keyed by [`LogLayout::Key`].
pub struct ReadState<L: LogLayout> {
    source: String,
    files: FileSet,
    parts: BTreeMap<L::Key, L::Part>,
}

impl<L: LogLayout> Clone for ReadState<L> {
    fn clone(&self) -> Self {
        ReadState {
            source: self.source.clone(),
            files: self.files.clone(),
            parts: self.parts.clone(),
        }
    }
}

impl<L: LogLayout> std::fmt::Debug for ReadState<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadState")
            .field("source", &self.source)
            .field("files", &self.files_read())
            .field("parts", &self.parts.len())
            .finish()
    }
}

impl<L: LogLayout> ReadState<L> {
    /// An empty state for `source`: nothing read yet.
    pub fn new(source: &str) -> Self {
        ReadState {
            source: source.to_owned(),
            files: FileSet::default(),
            parts: BTreeMap::new(),
        }
    }

    /// The log source (path or URI as given) this state continues.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many files it holds as read.
    pub fn files_read(&self) -> u64 {
        self.files.count(|_| true)
    }

    /// Whether the file with this key (path under the source root, or object key) was read.
    pub fn holds(&self, key: &str) -> bool {
        self.files.holds(key)
    }

    /// Adds what a read counted and the keys of the files it read whole.
    pub fn add(&mut self, parts: BTreeMap<L::Key, L::Part>, keys: Vec<String>) {
        merge_parts::<L>(&mut self.parts, parts);
        for key in keys {
            self.files.insert(&key);
        }
    }

    /// Drops the folders (files and records) that a read of `window` would not list, so that
    /// the state is bounded by the window, not by history.
    pub fn retain_window(&mut self, window: &TimeWindow) {
        self.files.retain(|folder| L::folder_opened(folder, window));
        self.parts.retain(|key, _| L::key_opened(key, window));
    }

    /// The parts of the folders a read of `window` lists, whose records such a read reads.
    pub fn opened_parts<'s>(
        &'s self,
        window: &'s TimeWindow,
    ) -> impl Iterator<Item = (&'s L::Key, &'s L::Part)> + 's {
        self.parts
            .iter()
            .filter(move |(key, _)| L::key_opened(key, window))
    }

    /// The files of the folders a read of `window` lists.
    pub fn files_read_in(&self, window: &TimeWindow) -> u64 {
        self.files.count(|folder| L::folder_opened(folder, window))
    }

    /// The stored form: JSON, gzip-compressed; equal states give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(&Stored {
            format_version: L::FORMAT_VERSION,
            source: self.source.clone(),
            files: self.files.to_stored(),
            parts: self
                .parts
                .iter()
                .map(|(key, part)| L::store(key, part))
                .collect::<Vec<_>>(),
        })
    }

    /// Reads the stored form back; anything damaged is an error, never a partial state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReadStateError> {
        let stored: Stored<Vec<L::StoredPart>> = decode(bytes, L::FORMAT_VERSION)?;
        let mut parts = BTreeMap::new();
        for part in stored.parts {
            let (key, part) = L::load(part)?;
            if parts.insert(key, part).is_some() {
                return Err(ReadStateError::Damaged(
                    "one folder and day is stored twice".to_owned(),
                ));
            }
        }
        Ok(ReadState {
            source: stored.source,
            files: FileSet::from_stored(stored.files),
            parts,
        })
    }
}

/// Adds the parts of `from` to those of `into`, key by key.
pub fn merge_parts<L: LogLayout>(
    into: &mut BTreeMap<L::Key, L::Part>,
    from: BTreeMap<L::Key, L::Part>,
) {
    for (key, part) in from {
        match into.get_mut(&key) {
            Some(mine) => L::merge(mine, part),
            None => {
                into.insert(key, part);
            }
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored<P> {
    format_version: u32,
    source: String,
    /// Folder → names of the files read whole, sorted.
    files: BTreeMap<String, Vec<String>>,
    parts: P,
}

/// What an incremental read leaves besides the usage.
#[derive(Debug)]
pub struct IncrementalRead<L: LogLayout> {
    /// The state to continue from next time.
    pub state: ReadState<L>,
    /// Log files of the window's folders found by the listing.
    pub files_listed: u64,
    /// Of those, the files read now (the others were read before).
    pub files_new: u64,
}

impl<L: LogLayout> IncrementalRead<L> {
    /// What a read of `source` that listed `files_listed` files and read `files_new` leaves,
    /// with `state` the state it ended with (`None`: an empty one).
    pub fn new(
        state: Option<ReadState<L>>,
        source: &str,
        files_listed: u64,
        files_new: u64,
    ) -> Self {
        IncrementalRead {
            state: state.unwrap_or_else(|| ReadState::new(source)),
            files_listed,
            files_new,
        }
    }
}

/// The state an incremental read of `source` within `window` starts from: `previous`, or an
/// empty one. The window must start and end at midnight UTC ([`whole_days`] rounds one):
/// records are kept per UTC day, so a day is either in the window or not; a `previous`
/// state of another source is refused.
pub fn resume<L: LogLayout>(
    window: &TimeWindow,
    source: &str,
    previous: Option<ReadState<L>>,
) -> Result<ReadState<L>, ResumeError> {
    check_resume(window, source, previous.as_ref().map(ReadState::source))?;
    Ok(previous.unwrap_or_else(|| ReadState::new(source)))
}

/// The files of a local listing under `root` that `state` has not read, as [`LogFile`](crate::model::LogFile)s keyed
/// by their path under `root`.
pub fn new_files<L: LogLayout>(
    root: &std::path::Path,
    listed: Vec<std::path::PathBuf>,
    state: Option<&ReadState<L>>,
) -> Vec<crate::model::LogFile> {
    listed
        .into_iter()
        .map(|path| crate::model::LogFile::under(root, path))
        .filter(|file| state.is_none_or(|state| !state.holds(&file.key)))
        .collect()
}
