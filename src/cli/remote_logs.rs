//! `--gcp-audit-logs gs://BUCKET/PREFIX` and `--azure-activity-logs
//! https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX` (or `az://CONTAINER/PREFIX`): the
//! window's log files listed and downloaded by [`crate::remote_logs`], then read by the cloud's
//! reader, with progress on stderr. A local path is read as before.

use super::progress::{Counts, Reading, while_reading};
use super::{GlobalArgs, InputError};
use crate::azure::activity_log::{self, ActivityLogUsage};
use crate::gcp::audit_log::{self, AuditLogUsage};
use crate::model::TimeWindow;
use crate::remote_logs::{self, Layout, Listed};
use std::path::Path;
use std::sync::atomic::Ordering;

/// Lists and downloads the export at `url` for `window`, leaving out what `read_before` holds,
/// saying on stderr what it found and how the download goes.
fn fetch<L: Layout>(
    url: &str,
    window: &TimeWindow,
    read_before: impl Fn(&str) -> bool,
    global: &GlobalArgs,
) -> anyhow::Result<Listed> {
    if !global.quiet {
        eprintln!(
            "listing {} files under `{}`…",
            L::LOGS,
            remote_logs::redacted(url)
        );
    }
    let progress = remote_logs::Progress::default();
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
             ({} folder(s) outside the window not listed); downloading them to a temporary \
             directory",
            listed.files_listed,
            listed.objects_listed,
            listed.folders_listed,
            listed.folders_pruned
        );
    };
    let listed = while_reading(
        Reading {
            what: "downloading log files",
            records: "bytes",
        },
        global.quiet,
        || Counts {
            files_done: progress.files_done.load(Ordering::Relaxed),
            files_total: progress.files_total.load(Ordering::Relaxed),
            records: progress.bytes.load(Ordering::Relaxed),
        },
        || remote_logs::fetch::<L>(url, window, read_before, announce, Some(&progress)),
    )
    .map_err(InputError::wrap)?;
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

/// Reads the Cloud Audit Logs at `path` (a local copy, a file, or `gs://…`) within `window`.
pub(super) fn read_gcp(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<AuditLogUsage> {
    if !remote_logs::is_url(path) {
        let progress = audit_log::Progress::default();
        return while_reading(
            Reading {
                what: "reading audit logs",
                records: "entries",
            },
            global.quiet,
            || Counts {
                files_done: progress.files_done.load(Ordering::Relaxed),
                files_total: progress.files_total.load(Ordering::Relaxed),
                records: progress.entries_done.load(Ordering::Relaxed),
            },
            || audit_log::ingest_path_with_progress(path, window, Some(&progress)),
        )
        .map_err(InputError::wrap);
    }
    let listed = fetch::<audit_log::walk::SinkBucket>(&text(path), &window, |_| false, global)?;
    let mut ingestion = audit_log::Ingestion::new(window);
    skip_gcp(&mut ingestion, &listed);
    read_gcp_files(global, listed.files.len(), |progress| {
        ingestion.read_named_files(&listed.files, Some(progress))
    });
    Ok(ingestion.finish())
}

/// [`read_gcp`] of `gs://…` continuing `previous` for an incremental read of `source` (whole
/// UTC days): objects the state holds are not downloaded again.
pub(super) fn read_gcp_remote_incremental(
    path: &Path,
    source: &str,
    days: TimeWindow,
    previous: Option<audit_log::ReadState>,
    global: &GlobalArgs,
) -> anyhow::Result<(AuditLogUsage, audit_log::IncrementalRead)> {
    // The state is keyed, and the source stored, without the URL's query (a secret).
    let source = &remote_logs::redacted(source);
    let mut ingestion =
        audit_log::Ingestion::resume(days, source, previous).map_err(InputError::wrap)?;
    let listed = fetch::<audit_log::walk::SinkBucket>(
        &text(path),
        &days,
        |key| ingestion.already_read(key),
        global,
    )?;
    skip_gcp(&mut ingestion, &listed);
    read_gcp_files(global, listed.files.len(), |progress| {
        ingestion.read_log_files(&listed.files, Some(progress))
    });
    let (usage, state) = ingestion.finish_with_state();
    let read = audit_log::IncrementalRead::new(
        state,
        source,
        listed.files_listed,
        listed.files_listed - listed.already_read,
    );
    Ok((usage, read))
}

fn skip_gcp(ingestion: &mut audit_log::Ingestion, listed: &Listed) {
    for (url, reason) in &listed.skipped {
        ingestion.skip(crate::model::SkippedSource {
            source: url.clone(),
            reason: reason.clone(),
        });
    }
}

fn read_gcp_files(global: &GlobalArgs, files: usize, read: impl FnOnce(&audit_log::Progress)) {
    let progress = audit_log::Progress::default();
    progress.files_total.store(files as u64, Ordering::Relaxed);
    while_reading(
        Reading {
            what: "reading audit logs",
            records: "entries",
        },
        global.quiet,
        || Counts {
            files_done: progress.files_done.load(Ordering::Relaxed),
            files_total: progress.files_total.load(Ordering::Relaxed),
            records: progress.entries_done.load(Ordering::Relaxed),
        },
        || read(&progress),
    );
}

/// Reads the Activity Log at `path` (a local copy, a file, or a container URL) within
/// `window`.
pub(super) fn read_azure(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<ActivityLogUsage> {
    if !remote_logs::is_url(path) {
        let progress = activity_log::Progress::default();
        return while_reading(
            Reading {
                what: "reading Activity Log",
                records: "records",
            },
            global.quiet,
            || azure_counts(&progress),
            || activity_log::read_path(path, window, Some(&progress)),
        )
        .map_err(InputError::wrap);
    }
    let listed =
        fetch::<activity_log::walk::ExportContainer>(&text(path), &window, |_| false, global)?;
    let mut ingestion = activity_log::Ingestion::new(window);
    skip_azure(&mut ingestion, &listed);
    read_azure_files(global, |progress| {
        ingestion.read_named_files(&listed.files, Some(progress))
    });
    Ok(ingestion.finish())
}

/// [`read_azure`] of a container URL continuing `previous` for an incremental read of
/// `source` (whole UTC days): blobs the state holds are not downloaded again.
pub(super) fn read_azure_remote_incremental(
    path: &Path,
    source: &str,
    days: TimeWindow,
    previous: Option<activity_log::ReadState>,
    global: &GlobalArgs,
) -> anyhow::Result<(ActivityLogUsage, activity_log::IncrementalRead)> {
    // The state is keyed, and the source stored, without the URL's query (a secret).
    let source = &remote_logs::redacted(source);
    let mut ingestion =
        activity_log::Ingestion::resume(days, source, previous).map_err(InputError::wrap)?;
    let listed = fetch::<activity_log::walk::ExportContainer>(
        &text(path),
        &days,
        |key| ingestion.already_read(key),
        global,
    )?;
    skip_azure(&mut ingestion, &listed);
    read_azure_files(global, |progress| {
        ingestion.read_log_files(&listed.files, Some(progress))
    });
    let (usage, state) = ingestion.finish_with_state();
    let read = activity_log::IncrementalRead::new(
        state,
        source,
        listed.files_listed,
        listed.files_listed - listed.already_read,
    );
    Ok((usage, read))
}

fn skip_azure(ingestion: &mut activity_log::Ingestion, listed: &Listed) {
    ingestion.note_folders_pruned(listed.folders_pruned);
    for (url, reason) in &listed.skipped {
        ingestion.skip(crate::model::SkippedSource {
            source: url.clone(),
            reason: reason.clone(),
        });
    }
}

fn azure_counts(progress: &activity_log::Progress) -> Counts {
    Counts {
        files_done: progress.files_done.load(Ordering::Relaxed),
        files_total: progress.files_total.load(Ordering::Relaxed),
        records: progress.records_done.load(Ordering::Relaxed),
    }
}

fn read_azure_files(global: &GlobalArgs, read: impl FnOnce(&activity_log::Progress)) {
    let progress = activity_log::Progress::default();
    while_reading(
        Reading {
            what: "reading Activity Log",
            records: "records",
        },
        global.quiet,
        || azure_counts(&progress),
        || read(&progress),
    );
}

/// Files were given and not one could be read: an input error (exit 2) naming the first
/// reason, not an empty report. Used by `usage` of both clouds.
pub(super) fn nothing_readable(
    path: &Path,
    files_read: u64,
    skipped: &[crate::model::SkippedSource],
) -> anyhow::Result<()> {
    match skipped.first() {
        Some(first) if files_read == 0 => Err(super::InputError::wrap(format!(
            "none of the {} log file(s) under `{}` could be read (first: `{}`: {}); check \
             that the path holds the export's files",
            skipped.len(),
            crate::remote_logs::redacted(&path.display().to_string()),
            first.source,
            first.reason
        ))),
        _ => Ok(()),
    }
}
