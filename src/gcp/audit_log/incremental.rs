//! Incremental reading of Cloud Audit Logs: what a read of a sink's copy leaves for the next
//! one, so that a nightly audit of a 90-day window reads the hourly files delivered since the
//! last audit, not ninety days of them. The shape is CloudTrail's
//! ([`crate::aws::cloudtrail::incremental`]; shared parts in [`crate::incremental`]).
//!
//! A [`ReadState`] holds, for one log folder (as the user gives it):
//! - the keys (paths under the folder) of the files read whole, by folder;
//! - every entry of those files, counted (not only those in the window of that read), in
//!   parts keyed by the file's date folder (`…/YYYY/MM/DD/`) and the entry's UTC day.
//!
//! The usage of a window is assembled from the parts: the parts of every date folder a full
//! read lists ([`walk::list_log_files`]: the window's days with a day of slack) count their
//! entries as read, and the parts whose day lies in the window count everything else. Entries
//! set aside whatever the window (not an audit log, no readable timestamp) are kept in a part
//! of no day, counted whenever their folder is read. That is exactly what reading all those
//! files at once gives, which is why the window must be whole UTC days
//! ([`crate::incremental::whole_days`]). Date folders that leave the window are dropped.
//!
//! A file that could not be read is not remembered, so the next read tries it again.

use super::accumulate::{Partial, StoredPartial};
use super::report::AuditLogUsage;
use super::walk;
use crate::incremental::{
    DateKey, LogLayout, ReadStateError, StoredDatePart, date_folder_opened, day_in_window,
};
use crate::model::SkippedSource;
use crate::model::TimeWindow;
use std::collections::BTreeMap;

/// The version of the stored read state. Bump on any incompatible change.
pub const READ_STATE_FORMAT_VERSION: u32 = 1;

/// A Cloud Logging sink's layout for a [`ReadState`]: entries counted by the file's date
/// folder and the UTC day of their `timestamp` (`None` for an entry set aside whatever the
/// window).
#[derive(Debug, Clone, Copy)]
pub struct AuditLogs;

/// What the reads of one log folder so far have left.
pub type ReadState = crate::incremental::ReadState<AuditLogs>;

impl LogLayout for AuditLogs {
    const PATH: &'static str = "usage/gcp-read-state.json.gz";
    const KIND: &'static str = "gcp-audit-log-read-state";
    const PROVIDER: &'static str = "gcp";
    const FORMAT_VERSION: u32 = READ_STATE_FORMAT_VERSION;
    type Key = DateKey;
    type Part = Partial;
    type StoredPart = StoredDatePart<StoredPartial>;

    /// The rule of [`walk::list_log_files`].
    fn folder_opened(folder: &str, window: &TimeWindow) -> bool {
        date_folder_opened(walk::folder_span(folder), window)
    }

    fn key_opened(key: &DateKey, window: &TimeWindow) -> bool {
        date_folder_opened(key.span, window)
    }

    fn merge(mine: &mut Partial, theirs: Partial) {
        *mine = std::mem::take(mine).merge(theirs);
    }

    fn store(key: &DateKey, part: &Partial) -> Self::StoredPart {
        StoredDatePart::new(key, part.to_stored())
    }

    fn load(stored: Self::StoredPart) -> Result<(DateKey, Partial), ReadStateError> {
        let (key, entries) = stored.into_parts()?;
        let part = Partial::from_stored(entries).map_err(ReadStateError::Damaged)?;
        Ok((key, part))
    }
}

/// Entries counted by date folder and day, during one read.
pub(super) type Parts = BTreeMap<DateKey, Partial>;

/// The usage of `window` (whole UTC days) from every part of `state`, with `skipped` the files
/// this read could not read.
pub(super) fn usage(
    state: &ReadState,
    window: &TimeWindow,
    skipped: Vec<SkippedSource>,
) -> AuditLogUsage {
    let mut merged = Partial::default();
    let mut entries_read = 0;
    for (key, part) in state.opened_parts(window) {
        entries_read += part.entries_read();
        if key.day.is_none_or(|day| day_in_window(day, window)) {
            merged = merged.merge(part.clone());
        }
    }
    merged.set_read(entries_read, state.files_read_in(window), skipped);
    merged.finish(*window)
}
