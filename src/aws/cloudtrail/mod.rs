//! CloudTrail usage ingestion: reads CloudTrail log files as CloudTrail writes them, in
//! parallel and streaming, and aggregates them into per-identity usage with evidence.
//!
//! The flow is: [`walk`] lists the files (pruning date folders outside the window),
//! each worker decodes a file, parses its records with borrowed strings ([`record`]), maps
//! each event to IAM actions ([`event_map`]), adds the permissions its request implies without
//! logging them ([`implied`]) and counts it in its own map ([`accumulate`]);
//! the maps are merged and session keys are resolved to CI workloads at the end.
//! Memory grows with the number of distinct (identity, action, resource, session) keys, not
//! with the number of events. A file that cannot be decoded is skipped and listed in the
//! result, never silently dropped.
//!
//! [`generate`] writes synthetic CloudTrail sets with their ground truth, for tests and
//! benchmarks.

mod accumulate;
pub mod event_map;
pub mod generate;
pub mod implied;

pub mod lookup;
pub mod record;
pub mod report;
pub mod time;
pub mod walk;

pub use event_map::{EventMap, EventMapError, Mapping};
pub use implied::{ImpliedPermissions, ImpliedPermissionsError};
pub use report::{
    AccessKeyUse, CiWorkload, CloudTrailUsage, Identity, IdentityKind, InstanceProfilePass,
    SetAsideReason, UnknownEvent, UsageRow, WebIdentitySession,
};
pub use time::TimeWindow;
pub use walk::{folder_may_hold_events, key_may_hold_events};

use crate::model::SkippedSource;
use accumulate::{Accumulator, Tables};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What stops ingestion as a whole (a single bad file never does).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The directory to read does not exist or cannot be listed.
    #[error(
        "cannot read the CloudTrail directory `{path}`: {source}; pass a local copy of the trail bucket (`aws s3 sync s3://<bucket>/AWSLogs ./AWSLogs`)"
    )]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The embedded event map is broken (a build problem, not an input problem).
    #[error(transparent)]
    EventMap(#[from] EventMapError),
    /// The embedded implied-permission table is broken (a build problem, not an input problem).
    #[error(transparent)]
    ImpliedPermissions(#[from] ImpliedPermissionsError),
}

/// Counters a caller can watch from another thread while ingestion runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files found, set once listing is done.
    pub files_total: AtomicU64,
    /// Files finished (read or skipped).
    pub files_done: AtomicU64,
    /// Records parsed so far.
    pub events_done: AtomicU64,
}

/// How to ingest.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions<'a> {
    /// Events outside the window are not counted; date folders outside it are not opened.
    pub window: TimeWindow,
    /// Optional counters for a progress display.
    pub progress: Option<&'a Progress>,
}

/// Reads every CloudTrail log file under `root` (any depth; `AWSLogs/…` or a folder inside it).
pub fn ingest_directory(
    root: &Path,
    options: &IngestOptions<'_>,
) -> Result<CloudTrailUsage, IngestError> {
    let listing =
        walk::list_log_files(root, &options.window).map_err(|source| IngestError::Root {
            path: root.to_path_buf(),
            source,
        })?;
    let unreadable = listing
        .unreadable
        .into_iter()
        .map(|(path, reason)| {
            SkippedSource::new(
                path.display().to_string(),
                format!("cannot list the folder: {reason}"),
            )
        })
        .collect();
    ingest_files_with(&listing.files, options, unreadable)
}

/// A folder of CloudTrail log files as a [`crate::model::UsageSource`]: every file under it
/// at any depth, read as [`ingest_directory`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailDirectory {
    pub root: PathBuf,
}

impl crate::model::UsageSource for CloudTrailDirectory {
    type Error = IngestError;

    fn provider(&self) -> crate::model::Provider {
        crate::model::Provider::Aws
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn read(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::model::ObservedUsage, IngestError> {
        let options = IngestOptions {
            window: TimeWindow { since, until },
            progress: None,
        };
        let usage = ingest_directory(&self.root, &options)?;
        Ok(crate::model::ObservedUsage {
            usage: usage.to_usage(),
            coverage: usage.coverage,
        })
    }
}

/// Reads the given log files (`.json.gz` or `.json`; the format is sniffed from the content).
pub fn ingest_files(
    files: &[PathBuf],
    options: &IngestOptions<'_>,
) -> Result<CloudTrailUsage, IngestError> {
    ingest_files_with(files, options, Vec::new())
}

fn ingest_files_with(
    files: &[PathBuf],
    options: &IngestOptions<'_>,
    skipped: Vec<SkippedSource>,
) -> Result<CloudTrailUsage, IngestError> {
    let mut ingestion = Ingestion::new(*options)?;
    for file in skipped {
        ingestion.skip(file);
    }
    if let Some(progress) = options.progress {
        progress
            .files_total
            .store(files.len() as u64, Ordering::Relaxed);
    }
    ingestion.read(files);
    Ok(ingestion.finish())
}

/// An ingestion fed in batches, for logs that arrive in parts (downloads from S3): every batch
/// is read in parallel and folded into one aggregation, and sessions are resolved to CI
/// workloads only at [`Ingestion::finish`], so a session issued in one batch and used in
/// another is still linked. Reading every file in one batch gives the same result.
pub struct Ingestion<'a> {
    tables: Tables<'static>,
    options: IngestOptions<'a>,
    worker: Worker,
}

impl<'a> Ingestion<'a> {
    pub fn new(options: IngestOptions<'a>) -> Result<Self, IngestError> {
        Ok(Ingestion {
            tables: Tables {
                events: EventMap::embedded()?,
                implied: ImpliedPermissions::embedded()?,
            },
            options,
            worker: Worker::default(),
        })
    }

    /// Reads a batch of log files (`.json.gz` or `.json`, sniffed from the content) in
    /// parallel. A file that cannot be read is listed as skipped under its path.
    pub fn read(&mut self, files: &[PathBuf]) {
        self.read_named(files, |_| None);
    }

    /// [`Ingestion::read`] for local copies of files that live elsewhere: a file of this batch
    /// that cannot be read is listed under `name_of(path)` (its `s3://` URI, say) when given.
    pub fn read_named(&mut self, files: &[PathBuf], name_of: impl Fn(&Path) -> Option<String>) {
        let (tables, window, progress) = (self.tables, self.options.window, self.options.progress);
        // One worker per pool thread pulling file indexes from a shared counter: each thread
        // keeps a single map and a single set of buffers, and big and small files balance
        // themselves.
        let next = AtomicU64::new(0);
        let workers = rayon::broadcast(|_| {
            let mut worker = Worker::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(path) = files.get(index) else {
                    break;
                };
                worker.read(path, tables, &window, progress);
            }
            worker
        });
        let mut batch = workers.into_iter().fold(Worker::default(), Worker::merge);
        for skipped in &mut batch.skipped {
            if let Some(name) = name_of(Path::new(&skipped.source)) {
                skipped.source = name;
            }
        }
        self.worker = std::mem::take(&mut self.worker).merge(batch);
    }

    /// Lists a file that could not be read at all (a failed download, an unlistable folder).
    pub fn skip(&mut self, file: SkippedSource) {
        self.worker.skipped.push(file);
    }

    /// Resolves sessions to CI workloads and gives the sorted result.
    pub fn finish(self) -> CloudTrailUsage {
        let worker = self.worker;
        worker
            .accumulator
            .finish(self.options.window, worker.files_read, worker.skipped)
    }
}

/// Reads a whole file into `buffer` (which keeps its zeroed length from file to file, like the
/// decoding buffer) and returns how many bytes it holds. Reading into room that is already
/// there, rather than asking the file's size first as `read_to_end` does, is two system calls
/// fewer per file, which counts at one file per account, region and 5 minutes.
fn read_whole(path: &Path, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            let grown = (buffer.len() * 2).max(1 << 16);
            buffer.resize(grown, 0);
        }
        match file.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(filled),
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
}

/// One rayon fold state: its aggregation plus buffers reused from file to file.
#[derive(Default)]
struct Worker {
    accumulator: Accumulator,
    files_read: u64,
    skipped: Vec<SkippedSource>,
    raw: Vec<u8>,
    decoded: Vec<u8>,
}

impl Worker {
    fn read(
        &mut self,
        path: &Path,
        tables: Tables<'_>,
        window: &TimeWindow,
        progress: Option<&Progress>,
    ) {
        match self.read_file(path, tables, window) {
            Ok(events) => {
                self.files_read += 1;
                if let Some(progress) = progress {
                    progress.events_done.fetch_add(events, Ordering::Relaxed);
                }
            }
            Err(reason) => self
                .skipped
                .push(SkippedSource::new(path.display().to_string(), reason)),
        }
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Decodes and parses the whole file before counting any record, so that a file that
    /// turns out to be truncated contributes nothing rather than half its events.
    fn read_file(
        &mut self,
        path: &Path,
        tables: Tables<'_>,
        window: &TimeWindow,
    ) -> Result<u64, String> {
        let raw_len = read_whole(path, &mut self.raw)
            .map_err(|error| format!("cannot read the file: {error}"))?;
        let raw = &self.raw[..raw_len];
        let bytes: &[u8] = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut decoder = flate2::bufread::MultiGzDecoder::new(raw);
            // The output buffer keeps its (zeroed once) length across files, so decoding writes
            // into initialised memory instead of zeroing fresh capacity for every file.
            let mut filled = 0;
            loop {
                if filled == self.decoded.len() {
                    let grown = (self.decoded.len() * 2).max(1 << 20);
                    self.decoded.resize(grown, 0);
                }
                match decoder.read(&mut self.decoded[filled..]) {
                    Ok(0) => break,
                    Ok(read) => filled += read,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(format!("invalid gzip data: {error}")),
                }
            }
            &self.decoded[..filled]
        } else {
            raw
        };
        // One UTF-8 check for the whole file is cheaper than one per string.
        let text = std::str::from_utf8(bytes)
            .map_err(|error| format!("invalid CloudTrail JSON: not UTF-8 ({error})"))?;
        let file: record::LogFile<'_> = serde_json::from_str(text)
            .map_err(|error| format!("invalid CloudTrail JSON: {error}"))?;
        let Some(records) = file.records else {
            return Err("no `Records` array: not a CloudTrail log file".into());
        };
        for record in &records {
            self.accumulator.add(record, tables, window);
        }
        Ok(records.len() as u64)
    }

    fn merge(mut self, mut other: Worker) -> Worker {
        if self.files_read == 0 {
            // Nothing counted here yet (a file adds its records only once it is read whole):
            // take the other's maps as they are instead of re-interning every string.
            other.skipped.append(&mut self.skipped);
            return other;
        }
        self.accumulator.merge(other.accumulator);
        self.files_read += other.files_read;
        self.skipped.extend(other.skipped);
        self
    }
}
