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

use super::CloudTrailUsage;
use super::accumulate::{Accumulator, StoredAccumulator, Tables};
use super::record::Record;
use super::time::{TimeWindow, parse_event_time};
use super::walk;
use crate::incremental::{
    DateKey, LogLayout, StoredDatePart, date_folder_opened, day_in_window, day_of_seconds,
};
pub use crate::incremental::{ReadStateError, whole_days};
use crate::model::SkippedSource;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The version of the stored read state. Bump on any incompatible change.
pub const READ_STATE_FORMAT_VERSION: u32 = 1;

/// CloudTrail's layout for a [`ReadState`]: records counted by the file's date folder
/// (`…/YYYY/MM/DD/` is one day) and their UTC event day (`None` for a record whose time is
/// missing or not a time).
#[derive(Debug, Clone, Copy)]
pub struct CloudTrailLogs;

/// What the reads of one CloudTrail source so far have left.
pub type ReadState = crate::incremental::ReadState<CloudTrailLogs>;

impl LogLayout for CloudTrailLogs {
    const PATH: &'static str = "usage/aws-read-state.json.gz";
    const KIND: &'static str = "cloudtrail-read-state";
    const PROVIDER: &'static str = "aws";
    const FORMAT_VERSION: u32 = READ_STATE_FORMAT_VERSION;
    type Key = DateKey;
    type Part = Accumulator;
    type StoredPart = StoredDatePart<StoredAccumulator>;

    fn folder_opened(folder: &str, window: &TimeWindow) -> bool {
        opened(walk::folder_span(folder), window)
    }

    fn key_opened(key: &DateKey, window: &TimeWindow) -> bool {
        opened(key.span, window)
    }

    fn merge(mine: &mut Accumulator, theirs: Accumulator) {
        mine.merge(theirs);
    }

    fn store(key: &DateKey, part: &Accumulator) -> Self::StoredPart {
        StoredDatePart::new(key, part.to_stored())
    }

    fn load(stored: Self::StoredPart) -> Result<(DateKey, Accumulator), ReadStateError> {
        let (key, records) = stored.into_parts()?;
        let part = Accumulator::from_stored(records).map_err(ReadStateError::Damaged)?;
        Ok((key, part))
    }
}

/// The days a date folder can hold, or `None` for a folder outside the date layout, which
/// every window includes.
type Span = Option<(NaiveDate, NaiveDate)>;

/// Records counted by date folder and event day, during one read.
#[derive(Debug, Default, Clone)]
pub(super) struct Parts(pub BTreeMap<DateKey, Accumulator>);

impl Parts {
    /// Counts one record of a file in a folder spanning `span`, whatever its time: the window
    /// is applied when the parts are assembled.
    pub(super) fn add(&mut self, span: Span, record: &Record<'_>, tables: Tables<'_>) {
        let day = record
            .event_time
            .get()
            .and_then(parse_event_time)
            .map(day_of_seconds);
        self.0.entry(DateKey { span, day }).or_default().add(
            record,
            tables,
            &TimeWindow::default(),
        );
    }

    pub(super) fn merge(&mut self, other: Parts) {
        crate::incremental::merge_parts::<CloudTrailLogs>(&mut self.0, other.0);
    }
}

/// The usage of `window` (whole UTC days) from every part of `state`, with `skipped` the
/// files this read could not read.
pub(super) fn usage(
    state: &ReadState,
    window: &TimeWindow,
    skipped: Vec<SkippedSource>,
) -> CloudTrailUsage {
    let mut merged = Accumulator::default();
    let mut events_read = 0;
    for (key, part) in state.opened_parts(window) {
        events_read += part.events_read();
        if key.day.is_none_or(|day| day_in_window(day, window)) {
            merged.merge(part.clone());
        }
    }
    merged.set_events_read(events_read);
    merged.finish(*window, state.files_read_in(window), skipped)
}

/// Whether a read of `window` opens a folder spanning `span` (the rule of
/// [`walk::folder_may_hold_events`]).
fn opened(span: Span, window: &TimeWindow) -> bool {
    date_folder_opened(span, window)
}

#[cfg(test)]
mod tests;
