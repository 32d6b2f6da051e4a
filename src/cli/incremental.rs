//! `--incremental`: a CloudTrail read that continues where the last one stopped.
//!
//! The snapshot that takes the usage (`--snapshot`) sits in a store; the newest snapshot of
//! that store, up to this one, holding a read state of the same `--cloudtrail` source (as
//! written) gives the files already read and their aggregated records
//! ([`crate::aws::cloudtrail::incremental`]). Only the other files of the window are read;
//! the usage and the new state are stored in `--snapshot` (unless it holds usage already,
//! which is never replaced). A state that cannot be read costs a longer read, never a result:
//! an older state, or none, is used instead, and a warning says so.

use super::GlobalArgs;
use super::analyze::{AwsSourceArgs, ingest_from};
use super::usage::snapshot_error;
use crate::aws::cloudtrail::{CloudTrailUsage, ReadState, TimeWindow, whole_days};
use crate::snapshot::{Snapshot, SnapshotWriter, Store};
use std::path::Path;

/// Reads `cloudtrail` within `window` (widened to whole UTC days) continuing the store's
/// latest read state of it, and stores the usage and the new state in `snapshot` when it
/// holds no usage yet. Returns the usage of the whole window.
pub(super) fn read_and_store(
    cloudtrail: &Path,
    aws: &AwsSourceArgs,
    window: TimeWindow,
    snapshot: &Snapshot,
    global: &GlobalArgs,
) -> anyhow::Result<CloudTrailUsage> {
    let source = cloudtrail.to_string_lossy().into_owned();
    let days = whole_days(window);
    if days != window && !global.quiet {
        eprintln!(
            "note: an incremental read counts whole UTC days: reading {} .. {}",
            show(days.since),
            show(days.until)
        );
    }
    let previous = previous_state(snapshot, &source, global);
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
    let (usage, continued) = ingest_from(
        cloudtrail,
        aws,
        days,
        global,
        Some(previous.map(|(_, state)| state)),
    )?;
    let Some(continued) = continued else {
        return Err(anyhow::anyhow!(
            "an incremental read of `{source}` returned no read state; please report this as a bug"
        ));
    };
    if !global.quiet {
        eprintln!(
            "read {} new log file(s) of {} in the window",
            continued.files_new, continued.files_listed
        );
    }
    if snapshot.manifest().lists_usage() {
        if !global.quiet {
            eprintln!(
                "note: snapshot `{}` already holds usage, which is never replaced: this read's \
                 state is not stored (collect a new snapshot for the next run)",
                snapshot.dir().display()
            );
        }
    } else {
        let mut writer = SnapshotWriter::amend(snapshot).map_err(snapshot_error)?;
        crate::snapshot::write_usage_parquet(&mut writer, &usage).map_err(snapshot_error)?;
        crate::snapshot::write_read_state(&mut writer, &source, &continued.state)
            .map_err(snapshot_error)?;
        writer.commit().map_err(snapshot_error)?;
        if !global.quiet {
            eprintln!(
                "usage and read state stored in snapshot `{}`",
                snapshot.dir().display()
            );
        }
    }
    Ok(usage)
}

fn show(time: Option<chrono::DateTime<chrono::Utc>>) -> String {
    time.map_or_else(|| "…".to_owned(), super::time::rfc3339)
}

/// The newest read state of `source` in `snapshot`'s store, among the snapshots up to this
/// one (by name: creation time), with the name of the snapshot that holds it.
fn previous_state(
    snapshot: &Snapshot,
    source: &str,
    global: &GlobalArgs,
) -> Option<(String, ReadState)> {
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
            .and_then(|opened| crate::snapshot::read_read_state(&opened, source));
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
