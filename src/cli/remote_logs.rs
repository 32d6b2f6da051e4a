//! Reading GCP and Azure logs for the commands: a local copy (a folder or a file), or an
//! export in object storage (`--gcp-audit-logs gs://BUCKET/PREFIX`, `--azure-activity-logs
//! https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX` or `az://CONTAINER/PREFIX`) listed
//! and downloaded in batches by [`crate::remote_logs`]; whole or incremental; with progress
//! on stderr. One [`LogReader`] implementation per cloud's reader, so each way of reading is
//! written once.

use super::progress::{Counts, Reading, while_reading};
use super::{GlobalArgs, InputError};
use crate::azure::activity_log::{self, ActivityLogUsage};
use crate::gcp::audit_log::{self, AuditLogUsage};
use crate::incremental::{IncrementalRead, ReadState};
use crate::model::{LogFile, TimeWindow};
use crate::remote_logs::{self, Layout, Listed};
use std::path::Path;
use std::sync::atomic::Ordering;

/// Lists the export at `url` for `window`, leaving out what `read_before` holds, and hands
/// the rest to `read`, batch by batch as they download, saying on stderr what the listing
/// found and how the reading goes.
fn read_batches<R: LogReader>(
    url: &str,
    window: &TimeWindow,
    read_before: impl Fn(&str) -> bool,
    global: &GlobalArgs,
    mut read: impl FnMut(&[LogFile], &R::Progress),
) -> anyhow::Result<Listed> {
    if !global.quiet {
        eprintln!(
            "listing {} files under `{}`…",
            <R::Export as Layout>::LOGS,
            remote_logs::redacted(url)
        );
    }
    let downloads = std::sync::Arc::new(remote_logs::Progress::default());
    let progress = R::Progress::default();
    let announce = |listed: &Listed| {
        if global.quiet {
            return;
        }
        let already = if listed.already_read > 0 {
            format!(" ({} read before)", listed.already_read)
        } else {
            String::new()
        };
        eprintln!(
            "{} log file(s) in the window{already} among {} object(s) in {} folder(s) listed \
             ({} folder(s) outside the window not listed); downloading and reading them {} at \
             a time through a temporary directory",
            listed.files_listed,
            listed.objects_listed,
            listed.folders_listed,
            listed.folders_pruned,
            remote_logs::BATCH_FILES
        );
    };
    // The files to download are the total; the reader counts the files and records read.
    let counts = || Counts {
        files_total: downloads.files_total.load(Ordering::Relaxed),
        ..R::counts(&progress)
    };
    let listed = while_reading(R::READING, global.quiet, counts, || {
        remote_logs::read::<R::Export>(
            url,
            window,
            read_before,
            announce,
            Some(downloads.clone()),
            remote_logs::BATCH_FILES,
            |files| read(files, &progress),
        )
    })
    .map_err(|error| {
        if error.is_input() {
            InputError::wrap(error)
        } else {
            anyhow::Error::new(error)
        }
    })?;
    if !global.quiet && !listed.skipped.is_empty() {
        eprintln!(
            "warning: {} object(s) or folder(s) under `{}` could not be listed or downloaded; \
             their records are missing from the result (listed as skipped)",
            listed.skipped.len(),
            remote_logs::redacted(url)
        );
    }
    Ok(listed)
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A cloud's log reader as the commands drive it: the steps both readers share under their
/// own names, so that each way of reading (local or remote, whole or incremental, for an
/// analysis) is written once.
/// An incremental read's usage and what it leaves for the next read.
type Continued<R> = (
    <R as LogReader>::Usage,
    IncrementalRead<<R as LogReader>::Logs>,
);

pub(super) trait LogReader: Sized {
    /// The export's folder layout in object storage.
    type Export: Layout;
    /// The layout of the read state an incremental read keeps.
    type Logs: crate::incremental::LogLayout;
    type Usage;
    type Progress: Default + Sync;
    type Error: std::fmt::Display;
    /// The progress line's words.
    const READING: Reading;
    /// One record of this reader's kind, for messages: `a Cloud Audit Logs entry`.
    const A_RECORD: &'static str;

    fn new(window: TimeWindow) -> Self;
    fn resume(
        days: TimeWindow,
        source: &str,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Self, Self::Error>;
    fn already_read(&self, key: &str) -> bool;
    /// Takes the listing's account: its skipped objects and folders, what it left unlisted.
    fn note_listing(&mut self, listed: &Listed);
    fn read_named_files(&mut self, files: &[LogFile], progress: &Self::Progress);
    fn read_log_files(&mut self, files: &[LogFile], progress: &Self::Progress);
    fn counts(progress: &Self::Progress) -> Counts;
    fn finish(self) -> Self::Usage;
    fn finish_with_state(self) -> (Self::Usage, Option<ReadState<Self::Logs>>);

    /// A local copy (a folder or a file) read whole within `window`.
    fn read_path(
        path: &Path,
        window: TimeWindow,
        progress: &Self::Progress,
    ) -> Result<Self::Usage, Self::Error>;
    /// A local folder read incrementally (see [`crate::incremental`]).
    fn read_path_incremental(
        path: &Path,
        source: &str,
        days: TimeWindow,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Continued<Self>, Self::Error>;
    /// The records in the window that count towards use (entries, operations): none means
    /// nothing could be seen.
    fn records_in_window(usage: &Self::Usage) -> u64;
    /// The input error for logs given that hold nothing usable in the window.
    fn nothing_in_window(path: &Path, usage: &Self::Usage) -> String;
    /// The records read, and how many of them were set aside as not of this reader's kind.
    fn records_and_foreign(usage: &Self::Usage) -> (u64, u64);
    /// The warning for logs a collector stored in the snapshot that hold nothing in the
    /// window (use stays unknown).
    fn stored_hold_nothing(path: &Path) -> String;
}

fn skipped_sources(listed: &Listed) -> impl Iterator<Item = crate::model::SkippedSource> + '_ {
    listed
        .skipped
        .iter()
        .map(|(url, reason)| crate::model::SkippedSource::new(url.clone(), reason.clone()))
}

impl LogReader for audit_log::Ingestion {
    type Export = audit_log::walk::SinkBucket;
    type Logs = audit_log::incremental::AuditLogs;
    type Usage = AuditLogUsage;
    type Progress = audit_log::Progress;
    type Error = audit_log::IngestError;
    const READING: Reading = Reading {
        what: "reading audit logs",
        records: "entries",
    };
    const A_RECORD: &'static str = "a Cloud Audit Logs entry";

    fn new(window: TimeWindow) -> Self {
        audit_log::Ingestion::new(window)
    }
    fn resume(
        days: TimeWindow,
        source: &str,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Self, Self::Error> {
        audit_log::Ingestion::resume(days, source, previous)
    }
    fn already_read(&self, key: &str) -> bool {
        audit_log::Ingestion::already_read(self, key)
    }
    fn note_listing(&mut self, listed: &Listed) {
        skipped_sources(listed).for_each(|skipped| self.skip(skipped));
    }
    fn read_named_files(&mut self, files: &[LogFile], progress: &Self::Progress) {
        audit_log::Ingestion::read_named_files(self, files, Some(progress));
    }
    fn read_log_files(&mut self, files: &[LogFile], progress: &Self::Progress) {
        audit_log::Ingestion::read_log_files(self, files, Some(progress));
    }
    fn counts(progress: &Self::Progress) -> Counts {
        Counts {
            files_done: progress.files_done.load(Ordering::Relaxed),
            files_total: progress.files_total.load(Ordering::Relaxed),
            records: progress.entries_done.load(Ordering::Relaxed),
        }
    }
    fn finish(self) -> Self::Usage {
        audit_log::Ingestion::finish(self)
    }
    fn finish_with_state(self) -> (Self::Usage, Option<ReadState<Self::Logs>>) {
        audit_log::Ingestion::finish_with_state(self)
    }
    fn read_path(
        path: &Path,
        window: TimeWindow,
        progress: &Self::Progress,
    ) -> Result<Self::Usage, Self::Error> {
        audit_log::ingest_path_with_progress(path, window, Some(progress))
    }
    fn read_path_incremental(
        path: &Path,
        source: &str,
        days: TimeWindow,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Continued<Self>, Self::Error> {
        audit_log::ingest_path_incremental(path, source, days, previous, None)
    }
    fn records_in_window(usage: &Self::Usage) -> u64 {
        usage.coverage.entries_in_window
    }
    fn records_and_foreign(usage: &Self::Usage) -> (u64, u64) {
        let coverage = &usage.coverage;
        let foreign = coverage
            .set_aside
            .get(&audit_log::SetAsideReason::NotAnAuditLog);
        (coverage.entries_read, foreign.copied().unwrap_or(0))
    }
    fn nothing_in_window(path: &Path, usage: &Self::Usage) -> String {
        format!(
            "the GCP audit logs at `{}` hold no usable entry in the window ({} entries read, \
             {} file(s) unreadable): check the path (a sink's `cloudaudit.googleapis.com/…` \
             copy or `gcloud logging read --format=json` output) and `--since`/`--until`",
            path.display(),
            usage.coverage.entries_read,
            usage.coverage.files_skipped.len()
        )
    }
    fn stored_hold_nothing(path: &Path) -> String {
        format!(
            "the audit log entries stored in the snapshot (`{}`) hold none in the window: GCP \
             use is unknown",
            path.display()
        )
    }
}

impl LogReader for activity_log::Ingestion {
    type Export = activity_log::walk::ExportContainer;
    type Logs = activity_log::incremental::ActivityLogs;
    type Usage = ActivityLogUsage;
    type Progress = activity_log::Progress;
    type Error = activity_log::ActivityLogError;
    const READING: Reading = Reading {
        what: "reading Activity Log",
        records: "records",
    };
    const A_RECORD: &'static str = "an Azure Activity Log record";

    fn new(window: TimeWindow) -> Self {
        activity_log::Ingestion::new(window)
    }
    fn resume(
        days: TimeWindow,
        source: &str,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Self, Self::Error> {
        activity_log::Ingestion::resume(days, source, previous)
    }
    fn already_read(&self, key: &str) -> bool {
        activity_log::Ingestion::already_read(self, key)
    }
    fn note_listing(&mut self, listed: &Listed) {
        self.note_folders_pruned(listed.folders_pruned);
        skipped_sources(listed).for_each(|skipped| self.skip(skipped));
    }
    fn read_named_files(&mut self, files: &[LogFile], progress: &Self::Progress) {
        activity_log::Ingestion::read_named_files(self, files, Some(progress));
    }
    fn read_log_files(&mut self, files: &[LogFile], progress: &Self::Progress) {
        activity_log::Ingestion::read_log_files(self, files, Some(progress));
    }
    fn counts(progress: &Self::Progress) -> Counts {
        Counts {
            files_done: progress.files_done.load(Ordering::Relaxed),
            files_total: progress.files_total.load(Ordering::Relaxed),
            records: progress.records_done.load(Ordering::Relaxed),
        }
    }
    fn finish(self) -> Self::Usage {
        activity_log::Ingestion::finish(self)
    }
    fn finish_with_state(self) -> (Self::Usage, Option<ReadState<Self::Logs>>) {
        activity_log::Ingestion::finish_with_state(self)
    }
    fn read_path(
        path: &Path,
        window: TimeWindow,
        progress: &Self::Progress,
    ) -> Result<Self::Usage, Self::Error> {
        activity_log::read_path(path, window, Some(progress))
    }
    fn read_path_incremental(
        path: &Path,
        source: &str,
        days: TimeWindow,
        previous: Option<ReadState<Self::Logs>>,
    ) -> Result<Continued<Self>, Self::Error> {
        activity_log::read_path_incremental(path, source, days, previous, None)
    }
    fn records_in_window(usage: &Self::Usage) -> u64 {
        usage.coverage.operations
    }
    fn records_and_foreign(usage: &Self::Usage) -> (u64, u64) {
        let coverage = &usage.coverage;
        let foreign = coverage
            .set_aside
            .get(&activity_log::SetAsideReason::NotActivityLog);
        (coverage.records_read, foreign.copied().unwrap_or(0))
    }
    fn nothing_in_window(path: &Path, usage: &Self::Usage) -> String {
        format!(
            "the Azure Activity Log at `{}` holds no operation of an identity in the window \
             ({} record(s) read, {} file(s) unreadable): check the path (a storage export's \
             `insights-activity-logs/…` copy or `az monitor activity-log list` output) and \
             `--since`/`--until`",
            path.display(),
            usage.coverage.records_read,
            usage.coverage.files_skipped.len()
        )
    }
    fn stored_hold_nothing(path: &Path) -> String {
        format!(
            "the Activity Log events stored in the snapshot (`{}`) hold no operation of an \
             identity in the window: Azure use is unknown",
            path.display()
        )
    }
}

/// The export at `url` read whole within `window`.
fn read_remote<R: LogReader>(
    url: &str,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<R::Usage> {
    let mut ingestion = R::new(window);
    let listed = read_batches::<R>(
        url,
        &window,
        |_| false,
        global,
        |files, progress| ingestion.read_named_files(files, progress),
    )?;
    ingestion.note_listing(&listed);
    Ok(ingestion.finish())
}

/// The export at `url` read for an incremental read of `source` (whole UTC `days`),
/// continuing `previous`: objects the state holds are not downloaded again.
fn read_remote_incremental<R: LogReader>(
    url: &str,
    source: &str,
    days: TimeWindow,
    previous: Option<ReadState<R::Logs>>,
    global: &GlobalArgs,
) -> anyhow::Result<(R::Usage, IncrementalRead<R::Logs>)> {
    // The state is keyed, and the source stored, without the URL's query (a secret).
    let source = &remote_logs::redacted(source);
    let ingestion = R::resume(days, source, previous).map_err(InputError::wrap)?;
    // The listing asks which keys were read before, then the batches add to the ingestion:
    // one after the other, never both at once.
    let ingestion = std::cell::RefCell::new(ingestion);
    let listed = read_batches::<R>(
        url,
        &days,
        |key| ingestion.borrow().already_read(key),
        global,
        |files, progress| ingestion.borrow_mut().read_log_files(files, progress),
    )?;
    let mut ingestion = ingestion.into_inner();
    ingestion.note_listing(&listed);
    let (usage, state) = ingestion.finish_with_state();
    let read = IncrementalRead::new(
        state,
        source,
        listed.files_listed,
        listed.files_listed - listed.already_read,
    );
    Ok((usage, read))
}

/// Reads the logs at `path` (a local copy, a file, or an object-storage URL) within
/// `window`, with progress on stderr.
pub(super) fn read<R: LogReader>(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<R::Usage> {
    if remote_logs::is_url(path) {
        return read_remote::<R>(&text(path), window, global);
    }
    let progress = R::Progress::default();
    while_reading(
        R::READING,
        global.quiet,
        || R::counts(&progress),
        || R::read_path(path, window, &progress),
    )
    .map_err(InputError::wrap)
}

/// Reads the Cloud Audit Logs at `path` (a local copy, a file, or `gs://…`) within `window`.
pub(super) fn read_gcp(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<AuditLogUsage> {
    read::<audit_log::Ingestion>(path, window, global)
}

/// Reads the Activity Log at `path` (a local copy, a file, or a container URL) within
/// `window`.
pub(super) fn read_azure(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<ActivityLogUsage> {
    read::<activity_log::Ingestion>(path, window, global)
}

/// The logs an analysis reads for `window`: `path` as given, or, with `incremental`,
/// continuing the last read stored in `snapshot` (and storing the new state there). Logs a
/// collector stored in the snapshot (`from_snapshot`) that hold nothing in the window leave
/// use unknown (`None`, with a warning); logs given that hold nothing are an input error: a
/// window in which nothing could be seen is no evidence of anything unused.
pub(super) fn read_for_analysis<R: LogReader>(
    path: &Path,
    window: TimeWindow,
    incremental: bool,
    from_snapshot: bool,
    snapshot: &crate::snapshot::Snapshot,
    global: &GlobalArgs,
) -> anyhow::Result<Option<R::Usage>> {
    let usage = if incremental && !from_snapshot {
        super::incremental::read_and_store_state(
            path,
            window,
            snapshot,
            global,
            |source, days, previous| {
                if remote_logs::is_url(path) {
                    return read_remote_incremental::<R>(
                        &text(path),
                        source,
                        days,
                        previous,
                        global,
                    );
                }
                R::read_path_incremental(path, source, days, previous).map_err(InputError::wrap)
            },
        )?
    } else {
        read::<R>(path, window, global)?
    };
    if R::records_in_window(&usage) > 0 {
        return Ok(Some(usage));
    }
    if from_snapshot {
        eprintln!("warning: {}", R::stored_hold_nothing(path));
        return Ok(None);
    }
    // Logs of another kind hold nothing in any window; say which they are instead.
    let message =
        not_this_kind::<R>(path, &usage).unwrap_or_else(|| R::nothing_in_window(path, &usage));
    Err(InputError::wrap(message))
}

/// The message for logs whose every record was set aside as not of `R`'s kind, naming the
/// option that reads each kind of log; `None` when some record was of its kind.
fn not_this_kind<R: LogReader>(path: &Path, usage: &R::Usage) -> Option<String> {
    let (records, foreign) = R::records_and_foreign(usage);
    if records == 0 || foreign < records {
        return None;
    }
    Some(format!(
        "none of the {records} record(s) read from `{}` is {}: are these another kind of \
         logs? CloudTrail logs are read with `--cloudtrail`, Cloud Audit Logs with \
         `--gcp-audit-logs`, the Azure Activity Log with `--azure-activity-logs`",
        crate::remote_logs::redacted(&path.display().to_string()),
        R::A_RECORD
    ))
}

/// Logs were given whose every record is of another kind: an input error (exit 2) naming the
/// option for each kind, not a report of "nothing in the window". Used by `usage` and
/// `minimize` of both clouds.
pub(super) fn of_this_kind<R: LogReader>(path: &Path, usage: &R::Usage) -> anyhow::Result<()> {
    match not_this_kind::<R>(path, usage) {
        Some(message) => Err(super::InputError::wrap(message)),
        None => Ok(()),
    }
}

/// Files were given and not one could be read: an input error (exit 2) naming the first
/// reason, not an empty report. Used by `usage` of the three clouds.
pub(super) fn nothing_readable(
    path: &Path,
    files_read: u64,
    skipped: &[crate::model::SkippedSource],
) -> anyhow::Result<()> {
    match skipped.first() {
        Some(first) if files_read == 0 => Err(super::InputError::wrap(format!(
            "none of the {} log file(s) under `{}` could be read (first: `{}`: {}); check \
             that the path holds the export's files, and that they are of the kind the option \
             reads: CloudTrail logs with `--cloudtrail`, Cloud Audit Logs with \
             `--gcp-audit-logs`, the Azure Activity Log with `--azure-activity-logs`",
            skipped.len(),
            crate::remote_logs::redacted(&path.display().to_string()),
            first.source,
            first.reason
        ))),
        _ => Ok(()),
    }
}
