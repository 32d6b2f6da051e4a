//! Usage from Cloud Audit Logs: reads `LogEntry` records as Cloud Logging writes them and
//! aggregates the permissions IAM checked into the neutral [`crate::model::Usage`], with an
//! account of what the logs read cannot show ([`report::Coverage`]).
//!
//! Sources:
//! - a Cloud Logging sink's export to Cloud Storage, copied to local disk
//!   (`cloudaudit.googleapis.com/{activity,data_access,…}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json`,
//!   newline-delimited `LogEntry` JSON, <https://cloud.google.com/logging/docs/export/storage>),
//!   date folders outside the window never listed ([`walk`]);
//! - the JSON array `gcloud logging read --format=json` prints.
//!
//! Either may be gzip-compressed (`.json.gz`; sniffed from the content). Parsing and counting
//! take bytes ([`Ingestion::read_bytes`]), so other transports (a bucket download, the
//! Logging API) feed the same code. Files are read in parallel; each worker counts into its
//! own map of distinct keys, and a file is counted only once it has been read whole, so a
//! corrupt or truncated file contributes nothing and is listed as skipped.
//!
//! The attribution rules are documented in [`accumulate`]; which permissions need Data Access
//! logs to be seen is in [`coverage`]; [`generate`] writes synthetic sets with ground truth.

mod accumulate;
pub mod coverage;
pub mod incremental;

pub mod record;
pub mod report;
pub mod source;
pub mod walk;

pub use coverage::{AccessType, LogRule, Observability, observability, rule_for};
pub use incremental::ReadState;
pub use record::LogType;
pub use report::{AuditLogUsage, Coverage, Delegation, KeyUse, SetAsideReason, key_id};

use crate::incremental::DateKey;
use crate::incremental::{ResumeError, day_of_seconds};
pub use crate::model::LogFile;
use crate::model::SkippedSource;
use crate::model::TimeWindow;
use accumulate::{Accumulator, Partial, Staging};
use incremental::{AuditLogs, Parts};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// What stops ingestion as a whole (a single bad file never does).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path does not exist or cannot be listed.
    #[error(
        "cannot read the audit logs at `{path}`: {source}; pass a local copy of the sink's bucket (`gcloud storage cp -r gs://BUCKET/cloudaudit.googleapis.com .`) or a file written by `gcloud logging read --format=json`"
    )]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path holds no `.json` or `.json.gz` file at all.
    #[error(
        "no audit log files (`.json`, `.json.gz`) under `{path}`; pass the folder that holds `cloudaudit.googleapis.com/` (a copy of the sink's bucket) or a file written by `gcloud logging read --format=json`"
    )]
    NoLogFiles { path: PathBuf },
    /// An incremental read cannot continue (another source, a window not of whole days, a
    /// single file).
    #[error(transparent)]
    Resume(#[from] ResumeError),
}

/// Where `collect gcp --audit-log-days` stores the entries it read through Cloud Logging's
/// `entries.list` inside a snapshot: a JSON array of `LogEntry`, as `gcloud logging read
/// --format=json` prints.
pub const SNAPSHOT_ENTRIES_PATH: &str = "audit-logs/entries.json";
/// The manifest kind of that file.
pub const SNAPSHOT_ENTRIES_KIND: &str = "gcp-audit-log-entries";

/// Reads every audit log file under `path` (a folder in the sink layout, any folder of log
/// files, or one file) whose date folder can hold entries in `window`.
///
/// Errors: [`IngestError::Root`] when `path` cannot be read, [`IngestError::NoLogFiles`] when
/// it holds no log file at all (whatever the window). Files that cannot be read are listed in
/// the result's coverage, never an error.
pub fn ingest_path(path: &Path, window: TimeWindow) -> Result<AuditLogUsage, IngestError> {
    ingest_path_with_progress(path, window, None)
}

/// Counters a caller can watch from another thread while [`ingest_path_with_progress`] reads
/// (a progress bar); they never change the result.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files listed in the window, set once listing is done.
    pub files_total: AtomicU64,
    /// Files finished (read or skipped).
    pub files_done: AtomicU64,
    /// Entries parsed so far, counted when their file is finished.
    pub entries_done: AtomicU64,
}

/// [`ingest_path`], updating `progress` as files are read.
pub fn ingest_path_with_progress(
    path: &Path,
    window: TimeWindow,
    progress: Option<&Progress>,
) -> Result<AuditLogUsage, IngestError> {
    let listing = list_window(path, &window)?;
    let mut ingestion = Ingestion::new(window);
    for (folder, reason) in listing.unreadable {
        ingestion.skip(SkippedSource {
            source: folder.display().to_string(),
            reason: format!("cannot list the folder: {reason}"),
        });
    }
    if let Some(progress) = progress {
        progress
            .files_total
            .store(listing.files.len() as u64, Ordering::Relaxed);
    }
    ingestion.read_files_with_progress(&listing.files, progress);
    Ok(ingestion.finish())
}

/// The log files under `path` for `window`; a path holding no log file at all (whatever the
/// window) is an error.
fn list_window(path: &Path, window: &TimeWindow) -> Result<walk::Listing, IngestError> {
    let root_error = |source| IngestError::Root {
        path: path.to_path_buf(),
        source,
    };
    let listing = walk::list_log_files(path, window).map_err(root_error)?;
    if listing.files.is_empty() && listing.unreadable.is_empty() {
        let everything = walk::list_log_files(path, &TimeWindow::default()).map_err(root_error)?;
        if everything.files.is_empty() && everything.unreadable.is_empty() {
            return Err(IngestError::NoLogFiles {
                path: path.to_path_buf(),
            });
        }
    }
    Ok(listing)
}

/// What an incremental read leaves besides the usage.
pub type IncrementalRead = crate::incremental::IncrementalRead<AuditLogs>;

/// [`ingest_path_with_progress`] continuing `previous` (the state an earlier read of `source`,
/// the folder as the user names it, left; `None` for the first read): only files not read
/// before are opened, and the result equals [`ingest_path`]'s over the same window (which
/// must be whole UTC days), as long as the files read before are still there. A single file
/// is refused ([`ResumeError::SingleFile`]): it has no files to remember.
pub fn ingest_path_incremental(
    path: &Path,
    source: &str,
    window: TimeWindow,
    previous: Option<ReadState>,
    progress: Option<&Progress>,
) -> Result<(AuditLogUsage, IncrementalRead), IngestError> {
    crate::incremental::check_folder(path)?;
    let mut ingestion = Ingestion::resume(window, source, previous)?;
    let listing = list_window(path, &window)?;
    for (folder, reason) in listing.unreadable {
        ingestion.skip(SkippedSource {
            source: folder.display().to_string(),
            reason: format!("cannot list the folder: {reason}"),
        });
    }
    let files_listed = listing.files.len() as u64;
    let new = crate::incremental::new_files(path, listing.files, ingestion.state.as_ref());
    if let Some(progress) = progress {
        progress
            .files_total
            .store(new.len() as u64, Ordering::Relaxed);
    }
    ingestion.read_log_files(&new, progress);
    let (usage, state) = ingestion.finish_with_state();
    let files_new = new.len() as u64;
    Ok((
        usage,
        IncrementalRead::new(state, source, files_listed, files_new),
    ))
}

/// An ingestion fed with files or bytes, in any number of batches; the result does not depend
/// on the order.
///
/// An ingestion made by [`Ingestion::resume`] reads incrementally: it starts from the
/// [`ReadState`] an earlier read left, keeps every entry of every file it reads (by date
/// folder and day) through [`Ingestion::read_log_files`], and
/// [`Ingestion::finish_with_state`] gives both the usage of the window and the state for the
/// next read.
pub struct Ingestion {
    window: TimeWindow,
    /// What [`Ingestion::read_bytes`] counted.
    local: Accumulator,
    staging: Staging,
    /// What parallel batches counted.
    merged: Partial,
    /// `Some` for an incremental read: what earlier reads left.
    state: Option<ReadState>,
    /// What this incremental read counted, and the keys of the files it read whole.
    parts: Parts,
    read_keys: Vec<String>,
}

impl Ingestion {
    pub fn new(window: TimeWindow) -> Self {
        Ingestion {
            window,
            local: Accumulator::default(),
            staging: Staging::default(),
            merged: Partial::default(),
            state: None,
            parts: Parts::default(),
            read_keys: Vec::new(),
        }
    }

    /// An incremental read of `source` (the folder as the user gives it) continuing `previous`
    /// (`None`: the first read). The window must start and end at midnight UTC
    /// ([`crate::incremental::whole_days`] rounds one): entries are kept per UTC day, so a
    /// day is either in the window or not. A `previous` state of another source is refused.
    ///
    /// Feed it with [`Ingestion::read_log_files`]: what other readers count is not kept in the
    /// state.
    pub fn resume(
        window: TimeWindow,
        source: &str,
        previous: Option<ReadState>,
    ) -> Result<Ingestion, IngestError> {
        let state = crate::incremental::resume(&window, source, previous)?;
        let mut ingestion = Ingestion::new(window);
        ingestion.state = Some(state);
        Ok(ingestion)
    }

    /// Whether an incremental read already holds the file with this key (an earlier read read
    /// it whole): listings leave such files out.
    pub fn already_read(&self, key: &str) -> bool {
        self.state.as_ref().is_some_and(|state| state.holds(key))
    }

    /// Reads log files in parallel for an incremental read: every entry is counted in the part
    /// of its file's date folder (from the file's key) and its UTC day, whatever the window.
    /// A file that cannot be read whole counts nothing, is listed as skipped under its
    /// `display` name and is not remembered.
    pub fn read_log_files(&mut self, files: &[LogFile], progress: Option<&Progress>) {
        let next = AtomicUsize::new(0);
        let workers = rayon::broadcast(|_| {
            let mut accumulators: BTreeMap<DateKey, Accumulator> = BTreeMap::new();
            let mut stagings: BTreeMap<DateKey, Staging> = BTreeMap::new();
            let mut read_keys = Vec::new();
            let mut skipped = Vec::new();
            let mut line = Vec::new();
            let unbounded = TimeWindow::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(index) else {
                    break;
                };
                let span = walk::folder_span(crate::incremental::split_key(&file.key).0);
                let mut entries = 0u64;
                let result = std::fs::File::open(&file.local)
                    .map_err(|error| format!("cannot open the file: {error}"))
                    .and_then(|opened| {
                        read_source(
                            BufReader::with_capacity(1 << 18, opened),
                            &mut |entry| {
                                entries += 1;
                                let day = accumulate::windowed_time(entry).map(day_of_seconds);
                                let key = DateKey { span, day };
                                let accumulator = accumulators.entry(key).or_default();
                                let staging = stagings.entry(key).or_default();
                                accumulator.add(staging, entry, &unbounded);
                            },
                            &mut line,
                        )
                    });
                if let Some(progress) = progress {
                    progress.entries_done.fetch_add(entries, Ordering::Relaxed);
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
                match result {
                    Ok(()) => {
                        for (key, mut staging) in std::mem::take(&mut stagings) {
                            if let Some(accumulator) = accumulators.get_mut(&key) {
                                accumulator.commit(&mut staging, &file.display);
                            }
                        }
                        read_keys.push(file.key.clone());
                    }
                    Err(reason) => {
                        stagings.clear();
                        skipped.push(SkippedSource {
                            source: file.display.clone(),
                            reason,
                        });
                    }
                }
            }
            let parts: Parts = accumulators
                .into_iter()
                .map(|(key, accumulator)| (key, accumulator.into_partial()))
                .collect();
            (parts, read_keys, skipped)
        });
        for (parts, mut read_keys, skipped) in workers {
            crate::incremental::merge_parts::<AuditLogs>(&mut self.parts, parts);
            self.read_keys.append(&mut read_keys);
            self.local.skipped.extend(skipped);
        }
    }

    /// Reads one log file's content, named `name` in the evidence: newline-delimited
    /// `LogEntry` JSON or a JSON array of them, gzip-compressed or not. A file that cannot be
    /// read whole is listed as skipped and counts nothing.
    pub fn read_bytes(&mut self, name: &str, bytes: &[u8]) {
        let mut line = Vec::new();
        let (local, staging, window) = (&mut self.local, &mut self.staging, self.window);
        match read_source(
            bytes,
            &mut |entry| local.add(staging, entry, &window),
            &mut line,
        ) {
            Ok(()) => self.local.commit(&mut self.staging, name),
            Err(reason) => {
                Accumulator::discard(&mut self.staging);
                self.local.skipped.push(SkippedSource {
                    source: name.to_string(),
                    reason,
                });
            }
        }
    }

    /// Reads log files in parallel (one worker per thread of the rayon pool).
    pub fn read_files(&mut self, files: &[PathBuf]) {
        self.read_files_with_progress(files, None);
    }

    /// [`Ingestion::read_files`], counting finished files and their entries in `progress`.
    pub fn read_files_with_progress(&mut self, files: &[PathBuf], progress: Option<&Progress>) {
        self.read_named(
            |index| files.get(index).map(|path| (path.as_path(), None)),
            progress,
        );
    }

    /// [`Ingestion::read_files_with_progress`] of files named in the evidence and in the list
    /// of skipped files by their `display` name (an object's URL for a downloaded copy), not
    /// their local path. The key is not used: this is a full read.
    pub fn read_named_files(&mut self, files: &[LogFile], progress: Option<&Progress>) {
        self.read_named(
            |index| {
                files
                    .get(index)
                    .map(|file| (file.local.as_path(), Some(file.display.as_str())))
            },
            progress,
        );
    }

    fn read_named<'f>(
        &mut self,
        file: impl Fn(usize) -> Option<(&'f Path, Option<&'f str>)> + Sync,
        progress: Option<&Progress>,
    ) {
        let window = self.window;
        let next = AtomicUsize::new(0);
        let partials = rayon::broadcast(|_| {
            let mut accumulator = Accumulator::default();
            let mut staging = Staging::default();
            let mut line = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, name)) = file(index) else {
                    break;
                };
                let name = name.map_or_else(|| path.display().to_string(), str::to_owned);
                let result = std::fs::File::open(path)
                    .map_err(|error| format!("cannot open the file: {error}"))
                    .and_then(|file| {
                        read_source(
                            BufReader::with_capacity(1 << 18, file),
                            &mut |entry| accumulator.add(&mut staging, entry, &window),
                            &mut line,
                        )
                    });
                if let Some(progress) = progress {
                    progress
                        .entries_done
                        .fetch_add(staging.entries_read(), Ordering::Relaxed);
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
                match result {
                    Ok(()) => accumulator.commit(&mut staging, &name),
                    Err(reason) => {
                        Accumulator::discard(&mut staging);
                        accumulator.skipped.push(SkippedSource {
                            source: name,
                            reason,
                        });
                    }
                }
            }
            accumulator.into_partial()
        });
        let batch = partials
            .into_iter()
            .fold(Partial::default(), Partial::merge);
        self.merged = std::mem::take(&mut self.merged).merge(batch);
    }

    /// Lists a file that could not be read at all (a failed download, an unlistable folder).
    pub fn skip(&mut self, file: SkippedSource) {
        self.local.skipped.push(file);
    }

    /// The sorted result.
    pub fn finish(self) -> AuditLogUsage {
        self.finish_with_state().0
    }

    /// The usage, and for an incremental read the state to continue from next time: the
    /// earlier state plus the files read now, without the date folders that left the window.
    /// The usage equals that of reading every file of the window's folders at once.
    pub fn finish_with_state(self) -> (AuditLogUsage, Option<ReadState>) {
        match self.state {
            Some(mut state) => {
                state.add(self.parts, self.read_keys);
                state.retain_window(&self.window);
                let usage = incremental::usage(&state, &self.window, self.local.skipped);
                (usage, Some(state))
            }
            None => {
                let usage = self
                    .merged
                    .merge(self.local.into_partial())
                    .finish(self.window);
                (usage, None)
            }
        }
    }
}

/// Reads a (possibly gzip-compressed) source into `staging`.
fn read_source<R: BufRead>(
    mut reader: R,
    count: &mut dyn FnMut(&record::LogEntry<'_>),
    line: &mut Vec<u8>,
) -> Result<(), String> {
    let head = reader
        .fill_buf()
        .map_err(|error| format!("cannot read the file: {error}"))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        read_entries(BufReader::with_capacity(1 << 18, decoder), count, line)
            .map_err(|reason| format!("{reason} (gzip-compressed file)"))
    } else {
        read_entries(reader, count, line)
    }
}

/// Reads newline-delimited `LogEntry` JSON, or a JSON array of entries (the first
/// non-blank byte is `[`).
fn read_entries<R: BufRead>(
    mut reader: R,
    count: &mut dyn FnMut(&record::LogEntry<'_>),
    line: &mut Vec<u8>,
) -> Result<(), String> {
    let io = |error: std::io::Error| format!("cannot read the file: {error}");
    // Skip leading blanks to see which form this is.
    loop {
        let head = reader.fill_buf().map_err(io)?;
        if head.is_empty() {
            return Ok(());
        }
        let blanks = head
            .iter()
            .take_while(|byte| byte.is_ascii_whitespace())
            .count();
        if blanks == 0 {
            break;
        }
        reader.consume(blanks);
    }
    if reader.fill_buf().map_err(io)?.first() == Some(&b'[') {
        line.clear();
        reader.read_to_end(line).map_err(io)?;
        let entries: Vec<record::LogEntry<'_>> = serde_json::from_slice(line).map_err(|error| {
            format!(
                "invalid JSON array of log entries (`gcloud logging read --format=json`): {error}"
            )
        })?;
        for entry in &entries {
            count(entry);
        }
        return Ok(());
    }
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', line).map_err(io)?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry: record::LogEntry<'_> = serde_json::from_slice(line)
            .map_err(|error| format!("line {number}: invalid LogEntry JSON: {error}"))?;
        count(&entry);
    }
}
