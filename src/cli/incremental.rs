//! `--incremental`: a log read that continues where the last one stopped, for CloudTrail
//! (`--cloudtrail`), Cloud Audit Logs (`--gcp-audit-logs`) and the Activity Log
//! (`--azure-activity-logs`).
//!
//! The snapshot that takes the read (`--snapshot`; for GCP and Azure the snapshot holding that
//! cloud's inventory) sits in a store; the newest snapshot of that store, up to this one,
//! holding a read state of the same source (as written) gives the files already read and their
//! aggregated records ([`crate::incremental`]). Only the other files of the window are read;
//! the new state is stored in the snapshot (for CloudTrail with the usage), unless it holds
//! one already: a snapshot is never changed. A state that cannot be read costs a longer read,
//! never a result: an older state, or none, is used instead, and a warning says so.

use super::GlobalArgs;
use super::usage::snapshot_error;
#[cfg(feature = "parquet")]
use crate::aws::cloudtrail::{CloudTrailLogs, CloudTrailUsage};
use crate::incremental::{IncrementalRead, LogLayout, ReadState, whole_days};
use crate::model::TimeWindow;
use crate::snapshot::{Snapshot, SnapshotWriter, Store};
use std::path::Path;

/// Reads `cloudtrail` within `window` (widened to whole UTC days) continuing the store's
/// latest read state of it, and stores the usage and the new state in `snapshot` when it
/// holds no usage yet. Returns the usage of the whole window.
#[cfg(feature = "parquet")]
pub(super) fn read_and_store(
    cloudtrail: &Path,
    aws: &super::analyze::AwsSourceArgs,
    window: TimeWindow,
    snapshot: &Snapshot,
    global: &GlobalArgs,
) -> anyhow::Result<CloudTrailUsage> {
    use super::analyze::ingest_from;
    let source = cloudtrail.to_string_lossy().into_owned();
    let days = announce_whole_days(window, global);
    let previous = continue_from::<CloudTrailLogs>(snapshot, &source, global);
    let (usage, continued) = ingest_from(cloudtrail, aws, days, global, Some(previous))?;
    let Some(continued) = continued else {
        return Err(anyhow::anyhow!(
            "an incremental read of `{source}` returned no read state; please report this as a bug"
        ));
    };
    report_files(
        continued.files_new,
        continued.files_listed,
        continued.state.files_read_in(&days),
        global,
    );
    if snapshot.manifest().lists_usage() {
        if !global.quiet {
            eprintln!(
                "note: snapshot `{}` already holds usage, which is never replaced: this read's \
                 state is not stored (collect a new snapshot for the next run)",
                snapshot.dir().display()
            );
        }
    } else {
        let stored = SnapshotWriter::amend(snapshot).and_then(|mut writer| {
            crate::snapshot::write_usage_parquet(&mut writer, &usage)?;
            crate::snapshot::write_read_state(&mut writer, &source, &continued.state)?;
            writer.commit()
        });
        match stored {
            Ok(_) if !global.quiet => eprintln!(
                "usage and read state stored in snapshot `{}`",
                snapshot.dir().display()
            ),
            Ok(_) => {}
            Err(error) => not_stored(snapshot, error, global)?,
        }
    }
    Ok(usage)
}

/// An incremental read of the log folder `path` within `window` (widened to whole UTC days)
/// by `read`, continuing the store's latest state of it up to `snapshot`, the new state stored
/// in `snapshot` unless it holds one already. Returns the usage of the whole window.
pub(super) fn read_and_store_state<L: LogLayout, U>(
    path: &Path,
    window: TimeWindow,
    snapshot: &Snapshot,
    global: &GlobalArgs,
    read: impl FnOnce(&str, TimeWindow, Option<ReadState<L>>) -> anyhow::Result<(U, IncrementalRead<L>)>,
) -> anyhow::Result<U> {
    // Shown, looked up and stored without a URL's query string (a shared access signature
    // is a secret): the same source whatever signature a later run is given.
    let source = crate::remote_logs::redacted(&path.to_string_lossy());
    let days = announce_whole_days(window, global);
    let previous = continue_from::<L>(snapshot, &source, global);
    let (usage, read) = read(&source, days, previous)?;
    report_files(
        read.files_new,
        read.files_listed,
        read.state.files_read_in(&days),
        global,
    );
    store_state(snapshot, &source, &read.state, global)?;
    Ok(usage)
}

/// `window` widened to whole UTC days, saying so on stderr when it changes.
fn announce_whole_days(window: TimeWindow, global: &GlobalArgs) -> TimeWindow {
    let days = whole_days(window);
    if days != window && !global.quiet {
        eprintln!(
            "note: an incremental read counts whole UTC days: reading {} .. {}",
            show(days.since),
            show(days.until)
        );
    }
    days
}

/// The store's latest read state of `source` up to `snapshot` (see [`previous_state`]),
/// saying on stderr which one is continued.
fn continue_from<L: LogLayout>(
    snapshot: &Snapshot,
    source: &str,
    global: &GlobalArgs,
) -> Option<ReadState<L>> {
    let previous = previous_state::<L>(snapshot, source, global);
    if !global.quiet {
        match &previous {
            Some((dir, state)) => eprintln!(
                "continuing the read of `{source}` stored in snapshot `{}` ({} file(s) read before)",
                dir,
                state.files_read()
            ),
            None => eprintln!(
                "no earlier read of `{source}` is stored beside snapshot `{}`: reading every file \
                 of the window (the next `--incremental` read continues from here)",
                snapshot.dir().display()
            ),
        }
    }
    previous.map(|(_, state)| state)
}

/// The stderr line of how much was read, and a warning when the state holds more files of
/// the window than the listing found: files read before were deleted from the source (a
/// lifecycle rule, a re-sync). A lower bound: a listed file that failed to read again hides
/// one gone file from the count. Their records stay counted until their date folder leaves the
/// window, so the result may differ from a full read of what is left; said, never silent.
fn report_files(files_new: u64, files_listed: u64, files_in_state: u64, global: &GlobalArgs) {
    if global.quiet {
        return;
    }
    eprintln!("read {files_new} new log file(s) of {files_listed} in the window");
    if files_in_state > files_listed {
        eprintln!(
            "warning: at least {} log file(s) read before are no longer in the source; their \
             records stay \
             counted until their date folder leaves the window (read without `--incremental`, \
             or set `incremental = false`, to count only what is there now)",
            files_in_state - files_listed
        );
    }
}

/// Stores `state` in `snapshot` for the next read, unless the snapshot holds a read state of
/// that kind already (a snapshot is never changed).
fn store_state<L: LogLayout>(
    snapshot: &Snapshot,
    source: &str,
    state: &ReadState<L>,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    if crate::snapshot::lists_read_state::<L>(snapshot) {
        if !global.quiet {
            eprintln!(
                "note: snapshot `{}` already holds a read state (`{}`), which is never replaced: \
                 this read's state is not stored (collect a new snapshot for the next run)",
                snapshot.dir().display(),
                L::PATH
            );
        }
        return Ok(());
    }
    let stored = SnapshotWriter::amend(snapshot).and_then(|mut writer| {
        crate::snapshot::write_read_state(&mut writer, source, state)?;
        writer.commit()
    });
    match stored {
        Ok(_) if !global.quiet => eprintln!(
            "read state stored in snapshot `{}`",
            snapshot.dir().display()
        ),
        Ok(_) => {}
        Err(error) => not_stored(snapshot, error, global)?,
    }
    Ok(())
}

/// A read whose state could not be stored (a read-only store, a full disk, an unreachable
/// remote store) still gives its result: the audit goes on with a warning, and the next
/// incremental read reads these files again. A damaged snapshot stays an error.
fn not_stored(
    snapshot: &Snapshot,
    error: crate::snapshot::SnapshotError,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    use crate::snapshot::SnapshotError;
    match &error {
        SnapshotError::Io { .. } | SnapshotError::ChangedMeanwhile { .. } => {
            if !global.quiet {
                eprintln!(
                    "warning: this read could not be stored in snapshot `{}` ({error}); the \
                     result below is complete, and the next incremental read reads these files \
                     again (a read-only store wants `incremental = false`)",
                    snapshot.dir().display()
                );
            }
            Ok(())
        }
        #[cfg(feature = "object-store")]
        SnapshotError::NotPublished { .. } | SnapshotError::Remote { .. } => {
            if !global.quiet {
                eprintln!("warning: {error}");
            }
            Ok(())
        }
        _ => Err(snapshot_error(error)),
    }
}

fn show(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map_or_else(|| "…".to_owned(), super::time::rfc3339)
}

/// The newest read state of `source` in `snapshot`'s store, among the snapshots up to this
/// one (by name: creation time), with the name of the snapshot that holds it.
fn previous_state<L: LogLayout>(
    snapshot: &Snapshot,
    source: &str,
    global: &GlobalArgs,
) -> Option<(String, ReadState<L>)> {
    let dir = snapshot.dir();
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let store = match Store::containing(dir) {
        Ok(store) => store,
        Err(error) => {
            warn(
                global,
                &format!("cannot open the store of `{}` ({error})", dir.display()),
            );
            return None;
        }
    };
    let listed = match store.list() {
        Ok(listed) => listed,
        Err(error) => {
            warn(
                global,
                &format!("cannot list the store `{}` ({error})", store.location()),
            );
            return None;
        }
    };
    let mut candidates: Vec<_> = listed
        .into_iter()
        .filter(|candidate| {
            candidate
                .file_name()
                .is_some_and(|candidate| *candidate.to_string_lossy() <= *name)
        })
        .collect();
    // The snapshot itself may not be a store member (a `--snapshot` outside any store).
    if !candidates.iter().any(|candidate| candidate == dir) {
        candidates.push(dir.to_path_buf());
    }
    candidates.sort();
    for candidate in candidates.iter().rev() {
        // A remote store's snapshot is downloaded into its cache only when opened.
        let found = store
            .open(candidate)
            .and_then(|opened| crate::snapshot::read_read_state::<L>(&opened, source));
        match found {
            Ok(Some(state)) => {
                return Some((candidate.display().to_string(), state));
            }
            Ok(None) => {}
            Err(error) => warn(
                global,
                &format!(
                    "the read state in snapshot `{}` cannot be used ({error}); continuing from an \
                     earlier one",
                    candidate.display()
                ),
            ),
        }
    }
    None
}

fn warn(global: &GlobalArgs, message: &str) {
    if !global.quiet {
        eprintln!("warning: {message}");
    }
}
