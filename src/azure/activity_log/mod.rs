//! Usage from the Azure Activity Log: which principal (the `oid` claim of its token) was
//! allowed or refused which permission (`authorization.action`) on which scope
//! (`authorization.scope`), aggregated into the neutral [`Usage`].
//!
//! Sources, both read from bytes (so that where the bytes come from is the caller's business):
//! - a diagnostic setting's export to a storage account, copied to disk
//!   (`insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`,
//!   one record per line, gzip'd or not), listed by [`walk`] without ever opening a partition
//!   folder outside the window;
//! - the JSON array `az monitor activity-log list` prints (REST shape), or a REST page
//!   `{"value": [...]}`.
//!
//! Rules (sources in [`record`]): an operation is logged as `Started` (maybe `Accepted`) and
//! then `Succeeded` or `Failed`, all with the same operation id; its records are merged and
//! the operation counts once. A failure with `AuthorizationFailed` (or 403 Forbidden with no
//! error code) is a denial, never a use; any other failure happened after the permission
//! check and counts as used, with the failure as evidence. Records of other categories, and
//! records with no caller claims, no authorization block or no time, are counted by reason.
//! A file that cannot be decoded whole is skipped, named and reported as missing evidence.
//!
//! What the Activity Log cannot show (reads, data actions) is in [`coverage`]: unobservable,
//! never unused.
//!
//! Memory: per worker, the aggregate (one entry per identity × permission × scope) plus the
//! operations of the file being read; an operation whose records fall in two files (an hour
//! boundary) is kept until its other half arrives or the read ends.

pub mod coverage;
pub mod incremental;
pub mod record;
pub mod source;
pub mod walk;

pub use crate::model::LogFile;
pub use coverage::{ActivityLogCoverage, Observability};
pub use incremental::ReadState;
pub use record::{PrincipalKind, SetAsideReason};

use crate::incremental::{ResumeError, day_of_micros};
use crate::model::SkippedSource;
use incremental::{ActivityLogs, PartKey, Parts};

use crate::model::{
    IdentityId, Outcome, Permission, Provider, TimeWindow, Usage, UsageEvent, UsageKey,
};
use chrono::{DateTime, TimeZone, Utc};
use record::{Classified, Phase, RawRecord, RawWrapper, Verdict};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What stops a read as a whole (a single bad file never does).
/// Where `collect azure --activity-log-days` stores the management events it read through
/// the REST API inside a snapshot: a JSON array of `EventData` in the REST shape.
pub const SNAPSHOT_EVENTS_PATH: &str = "activity-log/management-events.json";
/// The manifest kind of that file.
pub const SNAPSHOT_EVENTS_KIND: &str = "azure-activity-log-events";

#[derive(Debug, thiserror::Error)]
pub enum ActivityLogError {
    /// The path does not exist or cannot be listed.
    #[error(
        "cannot read the Activity Log path `{path}`: {source}; pass a local copy of the \
         `insights-activity-logs` container or the JSON file `az monitor activity-log list` printed"
    )]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path holds no `.json` or `.json.gz` file at all.
    #[error(
        "no Activity Log files (`.json`, `.json.gz`) under `{path}`; pass a local copy of the \
         `insights-activity-logs` container (`az storage blob download-batch`) or the JSON file \
         `az monitor activity-log list` printed"
    )]
    NoLogFiles { path: PathBuf },
    /// An incremental read cannot continue (another source, a window not of whole days, a
    /// single file).
    #[error(transparent)]
    Resume(#[from] ResumeError),
}

/// What was read and what was not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub files_read: u64,
    pub files_skipped: Vec<SkippedSource>,
    /// Partition folders (`y=`, `m=`, `d=`, `h=`) not listed because they lie outside the
    /// window.
    pub folders_pruned: u64,
    /// Records parsed, in and out of the window, set aside or not.
    pub records_read: u64,
    /// Attributable records whose time is outside the window.
    pub records_outside_window: u64,
    /// Records set aside, by reason.
    pub set_aside: BTreeMap<SetAsideReason, u64>,
    /// Operations counted (allowed or denied).
    pub operations: u64,
    /// Records merged into an operation already counted (a `Succeeded` after its `Started`).
    pub duplicates_merged: u64,
    pub first_record: Option<DateTime<Utc>>,
    pub last_record: Option<DateTime<Utc>>,
}

/// What the records say about one principal besides its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEvidence {
    pub kind: PrincipalKind,
    /// The `caller` values (UPN, object id or application id, as Azure fills it).
    pub callers: BTreeSet<String>,
    /// The `appid` claims (the application's client id).
    pub app_ids: BTreeSet<String>,
}

/// The result of reading Activity Logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityLogUsage {
    /// Per principal × permission × scope: operations allowed and denied.
    pub usage: Usage,
    pub window: TimeWindow,
    pub coverage: Coverage,
    pub principals: BTreeMap<IdentityId, PrincipalEvidence>,
    /// Why a key is counted as used when the log does not show a plain success (a failure
    /// after the permission check, a policy refusal…).
    pub notes: BTreeMap<UsageKey, BTreeSet<String>>,
}

/// Counters a caller can watch from another thread while files are read.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub records_done: AtomicU64,
}

/// Reads every Activity Log file under `path` (a directory at any depth of the storage
/// layout, or one file) within `window`, in parallel.
pub fn read_path(
    path: &Path,
    window: TimeWindow,
    progress: Option<&Progress>,
) -> Result<ActivityLogUsage, ActivityLogError> {
    let listing = list_window(path, &window)?;
    let mut ingestion = Ingestion::new(window);
    ingestion.take_listing(listing.folders_pruned, listing.unreadable);
    ingestion.read_files(&listing.files, progress);
    Ok(ingestion.finish())
}

/// The log files under `path` for `window`; a path holding nothing to read is an error.
fn list_window(path: &Path, window: &TimeWindow) -> Result<walk::Listing, ActivityLogError> {
    let listing = walk::list_log_files(path, window).map_err(|source| ActivityLogError::Root {
        path: path.to_path_buf(),
        source,
    })?;
    if listing.files.is_empty() && listing.folders_pruned == 0 && listing.unreadable.is_empty() {
        return Err(ActivityLogError::NoLogFiles {
            path: path.to_path_buf(),
        });
    }
    Ok(listing)
}

/// What an incremental read leaves besides the usage.
pub type IncrementalRead = crate::incremental::IncrementalRead<ActivityLogs>;

/// [`read_path`] continuing `previous` (the state an earlier read of `source`, the folder as
/// the user names it, left; `None` for the first read): only files not read before are
/// opened, and the result equals [`read_path`]'s over the same window (which must be whole
/// UTC days), as long as the files read before are still there. An operation whose `Started`
/// record was read by an earlier run and whose end is read now counts once, as in one read.
/// A single file is refused ([`ResumeError::SingleFile`]): it has no files to remember.
pub fn read_path_incremental(
    path: &Path,
    source: &str,
    window: TimeWindow,
    previous: Option<ReadState>,
    progress: Option<&Progress>,
) -> Result<(ActivityLogUsage, IncrementalRead), ActivityLogError> {
    crate::incremental::check_folder(path)?;
    let mut ingestion = Ingestion::resume(window, source, previous)?;
    let listing = list_window(path, &window)?;
    ingestion.take_listing(listing.folders_pruned, listing.unreadable);
    let files_listed = listing.files.len() as u64;
    let state = ingestion
        .incremental
        .as_ref()
        .map(|continuation| &continuation.state);
    let new = crate::incremental::new_files(path, listing.files, state);
    ingestion.read_log_files(&new, progress);
    let (usage, state) = ingestion.finish_with_state();
    let files_new = new.len() as u64;
    Ok((
        usage,
        IncrementalRead::new(state, source, files_listed, files_new),
    ))
}

/// What an incremental ingestion carries: the earlier state, and what this read counted.
struct Continuation {
    state: ReadState,
    parts: Parts,
    /// Keys of the files read whole now.
    read_keys: Vec<String>,
}

/// An ingestion fed with files or bytes; [`Ingestion::finish`] pairs the operations whose
/// records came in different inputs and gives the sorted result.
///
/// An ingestion made by [`Ingestion::resume`] reads incrementally: it starts from the
/// [`ReadState`] an earlier read left, keeps every record of every file it reads (by folder
/// and day) through [`Ingestion::read_log_files`], and [`Ingestion::finish_with_state`] gives
/// both the usage of the window and the state for the next read.
pub struct Ingestion {
    window: TimeWindow,
    accumulator: Accumulator,
    incremental: Option<Continuation>,
}

impl Ingestion {
    pub fn new(window: TimeWindow) -> Ingestion {
        Ingestion {
            window,
            accumulator: Accumulator::default(),
            incremental: None,
        }
    }

    /// An incremental read of `source` (the folder as the user gives it) continuing `previous`
    /// (`None`: the first read). The window must start and end at midnight UTC
    /// ([`crate::incremental::whole_days`] rounds one). A `previous` state of another source
    /// is refused.
    ///
    /// Feed it with [`Ingestion::read_log_files`]: what other readers count is not kept in the
    /// state.
    pub fn resume(
        window: TimeWindow,
        source: &str,
        previous: Option<ReadState>,
    ) -> Result<Ingestion, ActivityLogError> {
        let state = crate::incremental::resume(&window, source, previous)?;
        let mut ingestion = Ingestion::new(window);
        ingestion.incremental = Some(Continuation {
            state,
            parts: Parts::default(),
            read_keys: Vec::new(),
        });
        Ok(ingestion)
    }

    /// Whether an incremental read already holds the file with this key (an earlier read read
    /// it whole): listings leave such files out.
    pub fn already_read(&self, key: &str) -> bool {
        self.incremental
            .as_ref()
            .is_some_and(|continuation| continuation.state.holds(key))
    }

    /// Notes what the listing left out: folders outside the window, folders it could not list.
    fn take_listing(&mut self, folders_pruned: u64, unreadable: Vec<(PathBuf, String)>) {
        self.accumulator.coverage.folders_pruned = folders_pruned;
        for (folder, reason) in unreadable {
            self.skip(SkippedSource {
                source: folder.display().to_string(),
                reason: format!("cannot list the folder: {reason}"),
            });
        }
    }

    /// Reads log files in parallel for an incremental read: every record is counted in the
    /// part of its file's folder (from the file's key) and its UTC day, whatever the window.
    /// A file that cannot be read whole counts nothing, is listed as skipped under its
    /// `display` name and is not remembered.
    pub fn read_log_files(&mut self, files: &[LogFile], progress: Option<&Progress>) {
        if let Some(progress) = progress {
            progress
                .files_total
                .store(files.len() as u64, Ordering::Relaxed);
        }
        let next = AtomicU64::new(0);
        let workers = rayon::broadcast(|_| {
            let (mut raw, mut decoded) = (Vec::new(), Vec::new());
            let mut parts = Parts::default();
            let mut read_keys = Vec::new();
            let mut skipped = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(file) = files.get(index) else {
                    break;
                };
                let folder = crate::incremental::split_key(&file.key).0;
                let result = std::fs::File::open(&file.local)
                    .and_then(|mut opened| {
                        raw.clear();
                        opened.read_to_end(&mut raw)
                    })
                    .map_err(|error| format!("cannot read the file: {error}"))
                    .and_then(|_| parse_records(decode(&raw, &mut decoded)?));
                match result {
                    Ok(records) => {
                        if let Some(progress) = progress {
                            progress
                                .records_done
                                .fetch_add(records.len() as u64, Ordering::Relaxed);
                        }
                        let mut by_day: BTreeMap<Option<i64>, Vec<_>> = BTreeMap::new();
                        for record in records.into_iter().map(record::classify) {
                            let day = record
                                .as_ref()
                                .ok()
                                .map(|record| day_of_micros(record.time_micros));
                            by_day.entry(day).or_default().push(record);
                        }
                        let source = source_of(&file.display);
                        for (day, records) in by_day {
                            let part = parts.entry(PartKey::new(folder, day)).or_default();
                            part.coverage.records_read += records.len() as u64;
                            part.add_classified(records, &source, &TimeWindow::default());
                        }
                        read_keys.push(file.key.clone());
                    }
                    Err(reason) => skipped.push(SkippedSource {
                        source: file.display.clone(),
                        reason,
                    }),
                }
                if let Some(progress) = progress {
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
            }
            (parts, read_keys, skipped)
        });
        for (parts, mut read_keys, skipped) in workers {
            if let Some(continuation) = &mut self.incremental {
                crate::incremental::merge_parts::<ActivityLogs>(&mut continuation.parts, parts);
                continuation.read_keys.append(&mut read_keys);
            }
            self.accumulator.coverage.files_skipped.extend(skipped);
        }
    }

    /// Reads one input's bytes (`.json` lines, a JSON array, a `{"records"|"value": [...]}`
    /// object; gzip'd or not, sniffed from the content). `name` names it in the evidence and
    /// in the list of skipped files.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) {
        let mut decoded = Vec::new();
        let source = source_of(name);
        match self
            .accumulator
            .add_file(bytes, &mut decoded, &source, &self.window)
        {
            Ok(_) => self.accumulator.coverage.files_read += 1,
            Err(reason) => self.skip(SkippedSource {
                source: name.to_owned(),
                reason,
            }),
        }
    }

    /// Reads local files in parallel, one worker per rayon thread.
    pub fn read_files(&mut self, files: &[PathBuf], progress: Option<&Progress>) {
        self.read_named(
            files.len(),
            |index| files.get(index).map(|path| (path.as_path(), None)),
            progress,
        );
    }

    /// [`Ingestion::read_files`] of files named in the evidence and in the list of skipped
    /// files by their `display` name (an object's URL for a downloaded copy), not their local
    /// path. The key is not used: this is a full read.
    pub fn read_named_files(&mut self, files: &[LogFile], progress: Option<&Progress>) {
        self.read_named(
            files.len(),
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
        count: usize,
        file: impl Fn(usize) -> Option<(&'f Path, Option<&'f str>)> + Sync,
        progress: Option<&Progress>,
    ) {
        if let Some(progress) = progress {
            progress.files_total.store(count as u64, Ordering::Relaxed);
        }
        let window = self.window;
        let next = AtomicU64::new(0);
        let workers = rayon::broadcast(|_| {
            let mut worker = Worker::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((path, name)) = file(index) else {
                    break;
                };
                worker.read(path, name, &window, progress);
            }
            worker.accumulator
        });
        for accumulator in workers {
            self.accumulator.merge(accumulator);
        }
    }

    /// Counts partition folders a listing made elsewhere (a storage container's) left unlisted
    /// because they lie outside the window, as a local listing counts them.
    pub fn note_folders_pruned(&mut self, folders: u64) {
        self.accumulator.coverage.folders_pruned += folders;
    }

    /// Lists an input that could not be read at all.
    pub fn skip(&mut self, file: SkippedSource) {
        self.accumulator.coverage.files_skipped.push(file);
    }

    /// Counts the operations still waiting for their other half and gives the result.
    pub fn finish(self) -> ActivityLogUsage {
        self.finish_with_state().0
    }

    /// The usage, and for an incremental read the state to continue from next time: the
    /// earlier state plus the files read now, without the folders that left the window. The
    /// usage equals that of reading every file of the window's folders at once.
    pub fn finish_with_state(self) -> (ActivityLogUsage, Option<ReadState>) {
        let Some(continuation) = self.incremental else {
            return (finish(self.window, self.accumulator), None);
        };
        let mut state = continuation.state;
        state.add(continuation.parts, continuation.read_keys);
        state.retain_window(&self.window);
        let coverage = self.accumulator.coverage;
        let usage = incremental::usage(
            &state,
            &self.window,
            coverage.files_skipped,
            coverage.folders_pruned,
        );
        (usage, Some(state))
    }
}

/// Counts the operations still waiting for their other half and gives the result.
fn finish(window: TimeWindow, mut accumulator: Accumulator) -> ActivityLogUsage {
    let mut pending: Vec<Operation> = accumulator.pending.drain().map(|(_, op)| op).collect();
    pending.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    for operation in pending {
        accumulator.fold(operation);
    }
    let mut coverage = accumulator.coverage;
    coverage.files_skipped.sort();
    let to_time = |micros: Option<i64>| micros.and_then(|m| Utc.timestamp_micros(m).single());
    coverage.first_record = to_time(accumulator.first_micros);
    coverage.last_record = to_time(accumulator.last_micros);
    ActivityLogUsage {
        usage: accumulator.usage,
        window,
        coverage,
        principals: accumulator.principals,
        notes: accumulator.notes,
    }
}

/// The evidence name of an input: the subscription folder of a storage export
/// (`…/resourceId=/SUBSCRIPTIONS/<ID>`), so that evidence grows with subscriptions rather than
/// with hourly blobs; the input's own name otherwise.
fn source_of(name: &str) -> String {
    match name.find("/y=") {
        Some(end) => name[..end].to_owned(),
        None => name.to_owned(),
    }
}

/// One worker: its aggregate plus buffers reused from file to file.
#[derive(Default)]
struct Worker {
    accumulator: Accumulator,
    raw: Vec<u8>,
    decoded: Vec<u8>,
}

impl Worker {
    fn read(
        &mut self,
        path: &Path,
        name: Option<&str>,
        window: &TimeWindow,
        progress: Option<&Progress>,
    ) {
        let name = name.map_or_else(|| path.display().to_string(), str::to_owned);
        let result = std::fs::File::open(path)
            .and_then(|mut file| {
                self.raw.clear();
                file.read_to_end(&mut self.raw)
            })
            .map_err(|error| format!("cannot read the file: {error}"))
            .and_then(|_| {
                self.accumulator
                    .add_file(&self.raw, &mut self.decoded, &source_of(&name), window)
            });
        match result {
            Ok(records) => {
                self.accumulator.coverage.files_read += 1;
                if let Some(progress) = progress {
                    progress.records_done.fetch_add(records, Ordering::Relaxed);
                }
            }
            Err(reason) => self.accumulator.coverage.files_skipped.push(SkippedSource {
                source: name,
                reason,
            }),
        }
        if let Some(progress) = progress {
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Phases seen for one operation.
const STARTED: u8 = 1;
const ACCEPTED: u8 = 2;
const ENDED: u8 = 4;

/// One operation: its records merged.
#[derive(Debug, Clone)]
struct Operation {
    object_id: String,
    kind: PrincipalKind,
    app_id: Option<String>,
    caller: Option<String>,
    action: String,
    scope: String,
    /// The earliest record's time, Unix microseconds.
    time_micros: i64,
    phases: u8,
    /// Whether any record shows the permission check passed.
    allowed: bool,
    notes: BTreeSet<String>,
    records: u64,
    source: String,
    /// False when the records carry no operation or correlation id: nothing to pair.
    pairable: bool,
}

impl Operation {
    fn from_record(record: &Classified<'_>, source: &str) -> Operation {
        let mut operation = Operation {
            object_id: record.object_id.to_string(),
            kind: record.kind,
            app_id: record.app_id.as_deref().map(str::to_owned),
            caller: record.caller.as_deref().map(str::to_owned),
            action: record.action.to_string(),
            scope: record.scope.to_string(),
            time_micros: record.time_micros,
            phases: 0,
            allowed: false,
            notes: BTreeSet::new(),
            records: 0,
            source: source.to_owned(),
            pairable: record.operation.is_some(),
        };
        operation.absorb(record);
        operation
    }

    fn absorb(&mut self, record: &Classified<'_>) {
        self.records += 1;
        self.phases |= match record.phase {
            Phase::Started => STARTED,
            Phase::Accepted => ACCEPTED,
            phase if phase.is_end() => ENDED,
            _ => 0,
        };
        match &record.verdict {
            Verdict::Allowed => self.allowed = true,
            Verdict::AllowedWithNote(note) => {
                self.allowed = true;
                self.notes.insert(note.clone());
            }
            Verdict::Denied => {}
        }
        if record.time_micros < self.time_micros {
            self.time_micros = record.time_micros;
        }
    }

    /// Merges the part of the same operation read from another input.
    fn merge(&mut self, other: Operation) {
        if other.order_key() < self.order_key() {
            let earlier = other;
            let later = std::mem::replace(self, earlier);
            self.absorb_operation(later);
        } else {
            self.absorb_operation(other);
        }
    }

    fn absorb_operation(&mut self, other: Operation) {
        self.records += other.records;
        self.phases |= other.phases;
        self.allowed |= other.allowed;
        self.notes.extend(other.notes);
        self.time_micros = self.time_micros.min(other.time_micros);
        if self.caller.is_none() {
            self.caller = other.caller;
        }
        if self.app_id.is_none() {
            self.app_id = other.app_id;
        }
    }

    /// Whether every record this operation logs has been seen: its start and its end, or a
    /// lone denial (a refused call is logged once, as a failure). An accept is not a start:
    /// an operation whose start is in one blob and whose accept and end are in the next is
    /// complete only once both parts are merged, whichever is read first. (An operation cut
    /// in three blobs read by different workers, its accept alone in the middle one, would
    /// count twice; both parts show the same permission allowed, so only the count is off.)
    fn is_complete(&self) -> bool {
        !self.pairable
            || (self.phases & ENDED != 0 && self.phases & STARTED != 0)
            || (!self.allowed && self.phases & ENDED != 0)
    }

    /// A total order, so that merging parts read in any order gives the same spelling.
    fn order_key(&self) -> (i64, &str, &str, &str) {
        (self.time_micros, &self.action, &self.scope, &self.source)
    }
}

/// The key that ties the records of one operation: operation id, principal, action and scope,
/// compared case-insensitively (storage exports upper-case some fields).
fn operation_key(record: &Classified<'_>) -> Option<String> {
    let operation = record.operation.as_deref()?;
    let mut key = String::with_capacity(
        operation.len() + record.object_id.len() + record.action.len() + record.scope.len() + 3,
    );
    for (index, part) in [
        operation,
        record.object_id.as_ref(),
        record.action.as_ref(),
        record.scope.as_ref(),
    ]
    .into_iter()
    .enumerate()
    {
        if index > 0 {
            key.push('\n');
        }
        key.push_str(part);
    }
    key.make_ascii_lowercase();
    Some(key)
}

/// A worker's aggregate (and a part of a [`ReadState`]); opaque outside the reader.
#[derive(Default, Clone)]
pub struct Accumulator {
    usage: Usage,
    principals: BTreeMap<IdentityId, PrincipalEvidence>,
    notes: BTreeMap<UsageKey, BTreeSet<String>>,
    /// Operations seen in part, waiting for their other half from another input.
    pending: HashMap<String, Operation>,
    coverage: Coverage,
    first_micros: Option<i64>,
    last_micros: Option<i64>,
}

impl Accumulator {
    /// Decodes and parses the whole input before counting anything, so that a truncated file
    /// contributes nothing rather than part of its records. Returns the records read.
    fn add_file(
        &mut self,
        raw: &[u8],
        decoded: &mut Vec<u8>,
        source: &str,
        window: &TimeWindow,
    ) -> Result<u64, String> {
        let records = parse_records(decode(raw, decoded)?)?;
        let count = records.len() as u64;
        self.coverage.records_read += count;
        self.add_classified(records.into_iter().map(record::classify), source, window);
        Ok(count)
    }

    /// Counts the records of one input (classified, or the reason each is set aside).
    fn add_classified<'r>(
        &mut self,
        records: impl IntoIterator<Item = Result<Classified<'r>, SetAsideReason>>,
        source: &str,
        window: &TimeWindow,
    ) {
        let mut operations: HashMap<String, Operation> = HashMap::new();
        let mut unpaired: Vec<Operation> = Vec::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(reason) => {
                    *self.coverage.set_aside.entry(reason).or_insert(0) += 1;
                    continue;
                }
            };
            if !window.contains_micros(record.time_micros) {
                self.coverage.records_outside_window += 1;
                continue;
            }
            self.first_micros = Some(
                self.first_micros
                    .map_or(record.time_micros, |first| first.min(record.time_micros)),
            );
            self.last_micros = Some(
                self.last_micros
                    .map_or(record.time_micros, |last| last.max(record.time_micros)),
            );
            match operation_key(&record) {
                Some(key) => match operations.get_mut(&key) {
                    Some(operation) => operation.absorb(&record),
                    None => {
                        operations.insert(key, Operation::from_record(&record, source));
                    }
                },
                None => unpaired.push(Operation::from_record(&record, source)),
            }
        }
        for operation in unpaired {
            self.fold(operation);
        }
        for (key, operation) in operations {
            self.settle(key, operation);
        }
    }

    /// Counts a complete operation, or keeps it (merged with its other parts) until the rest
    /// arrives.
    fn settle(&mut self, key: String, operation: Operation) {
        let operation = match self.pending.remove(&key) {
            Some(mut earlier) => {
                earlier.merge(operation);
                earlier
            }
            None => operation,
        };
        if operation.is_complete() {
            self.fold(operation);
        } else {
            self.pending.insert(key, operation);
        }
    }

    /// Counts one operation.
    fn fold(&mut self, operation: Operation) {
        self.coverage.operations += 1;
        self.coverage.duplicates_merged += operation.records.saturating_sub(1);
        // Object ids are GUIDs, which Azure compares case-insensitively; Graph and ARM write
        // them in lower case.
        let identity = IdentityId::new(Provider::Azure, &operation.object_id.to_ascii_lowercase());
        let event = UsageEvent {
            identity: identity.clone(),
            permission: Permission::new(Provider::Azure, operation.action),
            resource: operation.scope,
            time: Utc
                .timestamp_micros(operation.time_micros)
                .single()
                .unwrap_or_default(),
            outcome: if operation.allowed {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            workload: None,
            source: operation.source,
        };
        self.usage.add(&event);
        if !operation.notes.is_empty() {
            let key = UsageKey {
                identity: event.identity.clone(),
                permission: event.permission,
                resource: event.resource,
            };
            self.notes.entry(key).or_default().extend(operation.notes);
        }
        let evidence = self
            .principals
            .entry(identity)
            .or_insert_with(|| PrincipalEvidence {
                kind: operation.kind,
                callers: BTreeSet::new(),
                app_ids: BTreeSet::new(),
            });
        evidence.kind = evidence.kind.min(operation.kind);
        if let Some(caller) = operation.caller
            && !evidence.callers.contains(&caller)
        {
            evidence.callers.insert(caller);
        }
        if let Some(app_id) = operation.app_id
            && !evidence.app_ids.contains(&app_id)
        {
            evidence.app_ids.insert(app_id);
        }
    }

    fn merge(&mut self, other: Accumulator) {
        self.usage.merge(other.usage);
        for (identity, theirs) in other.principals {
            match self.principals.get_mut(&identity) {
                Some(ours) => {
                    ours.kind = ours.kind.min(theirs.kind);
                    ours.callers.extend(theirs.callers);
                    ours.app_ids.extend(theirs.app_ids);
                }
                None => {
                    self.principals.insert(identity, theirs);
                }
            }
        }
        for (key, notes) in other.notes {
            self.notes.entry(key).or_default().extend(notes);
        }
        for (key, operation) in other.pending {
            self.settle(key, operation);
        }
        let theirs = other.coverage;
        let ours = &mut self.coverage;
        ours.files_read += theirs.files_read;
        ours.files_skipped.extend(theirs.files_skipped);
        ours.folders_pruned += theirs.folders_pruned;
        ours.records_read += theirs.records_read;
        ours.records_outside_window += theirs.records_outside_window;
        for (reason, count) in theirs.set_aside {
            *ours.set_aside.entry(reason).or_insert(0) += count;
        }
        ours.operations += theirs.operations;
        ours.duplicates_merged += theirs.duplicates_merged;
        self.first_micros = match (self.first_micros, other.first_micros) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_micros = match (self.last_micros, other.last_micros) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The text of one input, gunzipped into `decoded` when it is gzip-compressed.
fn decode<'b>(raw: &'b [u8], decoded: &'b mut Vec<u8>) -> Result<&'b str, String> {
    let bytes: &[u8] = if raw.starts_with(&[0x1f, 0x8b]) {
        decoded.clear();
        flate2::read::MultiGzDecoder::new(raw)
            .read_to_end(decoded)
            .map_err(|error| format!("invalid gzip data: {error}"))?;
        decoded
    } else {
        raw
    };
    std::str::from_utf8(bytes)
        .map_err(|error| format!("invalid Activity Log JSON: not UTF-8 ({error})"))
}

/// Parses the records of one input: one JSON record per line (the storage export), a JSON
/// array (`az monitor activity-log list`), or an object with a `records` or `value` array.
/// Any line or document that is not valid JSON fails the whole input.
fn parse_records(text: &str) -> Result<Vec<RawRecord<'_>>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .map_err(|error| format!("invalid Activity Log JSON array: {error}"));
    }
    let mut records = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<RawRecord<'_>>(line) {
            Ok(record) => records.push(record),
            Err(error) => {
                // A whole document on several lines (`{"records": [...]}` pretty-printed).
                if number == 0
                    && let Ok(wrapper) = serde_json::from_str::<RawWrapper<'_>>(trimmed)
                {
                    return wrapper.records.ok_or_else(|| {
                        "a JSON document without a `records` or `value` array: not an Activity \
                         Log file"
                            .to_owned()
                    });
                }
                return Err(format!(
                    "invalid Activity Log JSON at line {}: {error}",
                    number + 1
                ));
            }
        }
    }
    // A one-line wrapper parses as a record with no fields; read it as what it is.
    if records.len() == 1
        && (trimmed.contains("\"records\"") || trimmed.contains("\"value\""))
        && let Ok(wrapper) = serde_json::from_str::<RawWrapper<'_>>(trimmed.trim_end())
        && let Some(records) = wrapper.records
    {
        return Ok(records);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"time":"2026-10-01T10:00:00Z","resultType":"Success","correlationId":"c","identity":{"authorization":{"action":"Microsoft.Web/sites/write","scope":"/s"},"claims":{"oid":"o"}}}"#;

    #[test]
    fn record_wrappers_pretty_or_on_one_line_are_read() {
        let one_line = format!(r#"{{"records": [{RECORD}, {RECORD}]}}"#);
        assert_eq!(parse_records(&one_line).unwrap().len(), 2);
        let pretty = format!("{{\n  \"records\": [\n    {RECORD}\n  ]\n}}\n");
        assert_eq!(parse_records(&pretty).unwrap().len(), 1);
        let page = format!("{{\"value\": [{RECORD}], \"nextLink\": null}}");
        assert_eq!(parse_records(&page).unwrap().len(), 1);
        let lines = format!("{RECORD}\n\n{RECORD}\n");
        assert_eq!(parse_records(&lines).unwrap().len(), 2);
    }

    #[test]
    fn a_json_document_without_records_is_not_an_activity_log_file() {
        let error = parse_records("{\n  \"format_version\": 1\n}\n").unwrap_err();
        assert!(error.contains("not an Activity Log file"), "{error}");
        let error = parse_records(&format!("{RECORD}\n{{\"time\": ")).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }
}
