//! Incremental reading of the Activity Log: what a read of a storage export's copy leaves for
//! the next one, so that a nightly audit of a 90-day window reads the hourly blobs written
//! since the last audit. The shape is CloudTrail's ([`crate::aws::cloudtrail::incremental`];
//! shared parts in [`crate::incremental`]).
//!
//! A [`ReadState`] holds, for one export folder (as the user gives it):
//! - the keys (paths under the folder) of the files read whole, by folder;
//! - every record of those files, counted (not only those in the window of that read), in
//!   parts keyed by when a read opens the file's partition folder and by the record's UTC day.
//!   Records set aside whatever the window (no time, another category…) are kept in a part
//!   of no day.
//!
//! An operation is logged as a `Started` and a `Succeeded` (or `Failed`) record that may fall
//! in two blobs, read in two runs: a part keeps the operations it saw in part (pending) apart
//! from those it counted. Assembling a window merges the parts whose day is in the window,
//! which pairs the pending halves exactly as one read of all their files does, and counts
//! what stays unpaired, as [`super::Ingestion::finish`] does. The window must be whole UTC
//! days ([`crate::incremental::whole_days`]), so that a day is wholly in it or out of it.
//!
//! The walk opens an hourly folder `[start, end)` when the window may overlap it widened by
//! [`walk::SLACK`]. For a window of whole days `[since, until)` that is: `since` no later than
//! the day of `end + slack` (minus an instant), and `until` no earlier than the day after
//! `start - slack`. A part is keyed by those two days: the 22 middle hours of a
//! day share one key, so the state grows with days, not with hours or subscriptions.
//!
//! A file that could not be read is not remembered, so the next read tries it again.

use super::record::{PrincipalKind, SetAsideReason};
use super::walk;
use super::{Accumulator, ActivityLogUsage, Operation, PrincipalEvidence};
use crate::incremental::{
    LogLayout, ReadStateError, day_in_window, day_name, parse_day, parse_day_number,
};
use crate::model::SkippedSource;
use crate::model::{
    CiWorkload, IdentityId, Permission, Provider, TimeWindow, UsageKey, UsageRecord,
};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the stored read state. Bump on any incompatible change.
pub const READ_STATE_FORMAT_VERSION: u32 = 1;

/// When a read of a window of whole days opens a folder: `since` on or before `.0` and
/// `until` on or after `.1` (`None`: a folder outside the partition layout, always opened).
pub(super) type Opens = Option<(NaiveDate, NaiveDate)>;

/// Where a record is counted: when its file's folder is opened, and its UTC day (days since
/// 1970-01-01), `None` for a record set aside whatever the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartKey {
    opens: Opens,
    day: Option<i64>,
}

impl PartKey {
    pub(super) fn new(folder: &str, day: Option<i64>) -> PartKey {
        PartKey {
            opens: opens_of(folder),
            day,
        }
    }
}

/// The [`Opens`] of a folder (a key's folder part).
fn opens_of(folder: &str) -> Opens {
    let (start, end) = walk::folder_span(folder)?;
    let instant = chrono::Duration::microseconds(1);
    let last_since = (end + walk::SLACK - instant).date();
    let first_until = (start - walk::SLACK).date().succ_opt()?;
    Some((last_since, first_until))
}

/// Whether a read of `window` (whole UTC days) opens a folder of these [`Opens`]: the rule of
/// [`walk::list_log_files`] for such windows.
fn opened(opens: Opens, window: &TimeWindow) -> bool {
    opens.is_none_or(|(last_since, first_until)| {
        window
            .since
            .is_none_or(|since| since.date_naive() <= last_since)
            && window
                .until
                .is_none_or(|until| until.date_naive() >= first_until)
    })
}

/// A storage export's layout for a [`ReadState`].
#[derive(Debug, Clone, Copy)]
pub struct ActivityLogs;

/// What the reads of one export folder so far have left.
pub type ReadState = crate::incremental::ReadState<ActivityLogs>;

/// Records counted by folder and day, during one read.
pub(super) type Parts = BTreeMap<PartKey, Accumulator>;

impl LogLayout for ActivityLogs {
    const PATH: &'static str = "usage/azure-read-state.json.gz";
    const KIND: &'static str = "azure-activity-log-read-state";
    const PROVIDER: &'static str = "azure";
    const FORMAT_VERSION: u32 = READ_STATE_FORMAT_VERSION;
    type Key = PartKey;
    type Part = Accumulator;
    type StoredPart = StoredPart;

    fn folder_opened(folder: &str, window: &TimeWindow) -> bool {
        opened(opens_of(folder), window)
    }

    fn key_opened(key: &PartKey, window: &TimeWindow) -> bool {
        opened(key.opens, window)
    }

    /// Pairs the pending halves of operations as one read of both parts' files does.
    fn merge(mine: &mut Accumulator, theirs: Accumulator) {
        mine.merge(theirs);
    }

    fn store(key: &PartKey, part: &Accumulator) -> StoredPart {
        StoredPart {
            opens: key
                .opens
                .map(|(since, until)| [since.to_string(), until.to_string()]),
            event_day: key.day.map(day_name),
            records: StoredAccumulator::from(part),
        }
    }

    fn load(stored: StoredPart) -> Result<(PartKey, Accumulator), ReadStateError> {
        let opens = match stored.opens {
            Some([since, until]) => Some((parse_day(&since)?, parse_day(&until)?)),
            None => None,
        };
        let day = stored
            .event_day
            .as_deref()
            .map(parse_day_number)
            .transpose()?;
        let part = stored.records.rebuild().map_err(ReadStateError::Damaged)?;
        Ok((PartKey { opens, day }, part))
    }
}

/// The usage of `window` (whole UTC days) from every part of `state`, with `skipped` the files
/// this read could not read and `folders_pruned` the folders its listing left out.
pub(super) fn usage(
    state: &ReadState,
    window: &TimeWindow,
    skipped: Vec<SkippedSource>,
    folders_pruned: u64,
) -> ActivityLogUsage {
    let mut merged = Accumulator::default();
    let (mut records_read, mut outside) = (0, 0);
    for (key, part) in state.opened_parts(window) {
        records_read += part.coverage.records_read;
        if key.day.is_none_or(|day| day_in_window(day, window)) {
            merged.merge(part.clone());
        } else {
            outside += part.coverage.records_read;
        }
    }
    merged.coverage.records_read = records_read;
    merged.coverage.records_outside_window = outside;
    merged.coverage.files_read = state.files_read_in(window);
    merged.coverage.files_skipped = skipped;
    merged.coverage.folders_pruned = folders_pruned;
    super::finish(*window, merged)
}

/// A part as stored.
#[derive(Serialize, Deserialize)]
pub struct StoredPart {
    /// The last `since` day and the first `until` day of the windows that open the folder
    /// (`YYYY-MM-DD`); absent outside the partition layout.
    opens: Option<[String; 2]>,
    /// UTC day of the records' time, absent for records set aside whatever the window.
    event_day: Option<String>,
    records: StoredAccumulator,
}

/// One usage key as stored: (identity id, action, scope, allowed count, inferred, denied
/// count, first seen, last seen (Unix microseconds), workloads `[issuer, subject]`, sources,
/// evidence).
type StoredUsage = (
    String,
    String,
    String,
    u64,
    u64,
    u64,
    i64,
    i64,
    Vec<(String, String)>,
    Vec<String>,
    Vec<String>,
);

/// An operation seen in part, as stored: every field of [`Operation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredOperation {
    key: String,
    object_id: String,
    kind: String,
    app_id: Option<String>,
    caller: Option<String>,
    action: String,
    scope: String,
    time_micros: i64,
    phases: u8,
    allowed: bool,
    notes: Vec<String>,
    records: u64,
    source: String,
    pairable: bool,
}

/// A part's [`Accumulator`] as stored, every list sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredAccumulator {
    usage: Vec<StoredUsage>,
    /// (identity id, kind, callers, application ids).
    principals: Vec<(String, String, Vec<String>, Vec<String>)>,
    /// (identity id, action, scope, notes).
    notes: Vec<(String, String, String, Vec<String>)>,
    pending: Vec<StoredOperation>,
    records_read: u64,
    /// (reason as reported, count).
    set_aside: Vec<(String, u64)>,
    operations: u64,
    duplicates_merged: u64,
    first_micros: Option<i64>,
    last_micros: Option<i64>,
}

fn micros(time: chrono::DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

impl From<&Accumulator> for StoredAccumulator {
    fn from(part: &Accumulator) -> StoredAccumulator {
        let strings = |set: &std::collections::BTreeSet<String>| set.iter().cloned().collect();
        let mut pending: Vec<StoredOperation> = part
            .pending
            .iter()
            .map(|(key, operation)| StoredOperation {
                key: key.clone(),
                object_id: operation.object_id.clone(),
                kind: operation.kind.as_str().to_owned(),
                app_id: operation.app_id.clone(),
                caller: operation.caller.clone(),
                action: operation.action.clone(),
                scope: operation.scope.clone(),
                time_micros: operation.time_micros,
                phases: operation.phases,
                allowed: operation.allowed,
                notes: strings(&operation.notes),
                records: operation.records,
                source: operation.source.clone(),
                pairable: operation.pairable,
            })
            .collect();
        pending.sort_by(|a, b| a.key.cmp(&b.key));
        StoredAccumulator {
            usage: part
                .usage
                .iter()
                .map(|(key, record)| {
                    (
                        key.identity.as_str().to_owned(),
                        key.permission.action.clone(),
                        key.resource.clone(),
                        record.count,
                        record.inferred,
                        record.denied_count,
                        micros(record.first_seen),
                        micros(record.last_seen),
                        record
                            .workloads
                            .iter()
                            .map(|workload| (workload.issuer_url.clone(), workload.subject.clone()))
                            .collect(),
                        strings(&record.sources),
                        strings(&record.evidence),
                    )
                })
                .collect(),
            principals: part
                .principals
                .iter()
                .map(|(identity, evidence)| {
                    (
                        identity.as_str().to_owned(),
                        evidence.kind.as_str().to_owned(),
                        strings(&evidence.callers),
                        strings(&evidence.app_ids),
                    )
                })
                .collect(),
            notes: part
                .notes
                .iter()
                .map(|(key, notes)| {
                    (
                        key.identity.as_str().to_owned(),
                        key.permission.action.clone(),
                        key.resource.clone(),
                        strings(notes),
                    )
                })
                .collect(),
            pending,
            records_read: part.coverage.records_read,
            set_aside: part
                .coverage
                .set_aside
                .iter()
                .map(|(reason, count)| (reason.as_string(), *count))
                .collect(),
            operations: part.coverage.operations,
            duplicates_merged: part.coverage.duplicates_merged,
            first_micros: part.first_micros,
            last_micros: part.last_micros,
        }
    }
}

impl StoredAccumulator {
    /// The accumulator back; a malformed identity, kind, reason or time is an error (the file
    /// is damaged), never a silently different count.
    fn rebuild(self) -> Result<Accumulator, String> {
        let identity = |text: &str| {
            text.parse::<IdentityId>()
                .map_err(|error| format!("`{text}` is not an identity id: {error}"))
        };
        let time = |micros: i64| {
            Utc.timestamp_micros(micros)
                .single()
                .ok_or_else(|| format!("{micros} is not a time in microseconds"))
        };
        let mut part = Accumulator::default();
        for (
            id,
            action,
            scope,
            count,
            inferred,
            denied,
            first,
            last,
            workloads,
            sources,
            evidence,
        ) in self.usage
        {
            let key = UsageKey {
                identity: identity(&id)?,
                permission: Permission::new(Provider::Azure, action),
                resource: scope,
            };
            let record = UsageRecord {
                count,
                inferred,
                denied_count: denied,
                first_seen: time(first)?,
                last_seen: time(last)?,
                workloads: workloads
                    .iter()
                    .map(|(issuer, subject)| CiWorkload::new(issuer, subject))
                    .collect(),
                unlinked_calls: 0,
                sources: sources.into_iter().collect(),
                evidence: evidence.into_iter().collect(),
            };
            if part.usage.get(&key).is_some() {
                return Err("a usage key is stored twice".to_owned());
            }
            part.usage.add_record(key, record);
        }
        for (id, kind, callers, app_ids) in self.principals {
            part.principals.insert(
                identity(&id)?,
                PrincipalEvidence {
                    kind: principal_kind(&kind)?,
                    callers: callers.into_iter().collect(),
                    app_ids: app_ids.into_iter().collect(),
                },
            );
        }
        for (id, action, scope, notes) in self.notes {
            let key = UsageKey {
                identity: identity(&id)?,
                permission: Permission::new(Provider::Azure, action),
                resource: scope,
            };
            part.notes.insert(key, notes.into_iter().collect());
        }
        for stored in self.pending {
            let operation = Operation {
                object_id: stored.object_id,
                kind: principal_kind(&stored.kind)?,
                app_id: stored.app_id,
                caller: stored.caller,
                action: stored.action,
                scope: stored.scope,
                time_micros: stored.time_micros,
                phases: stored.phases,
                allowed: stored.allowed,
                notes: stored.notes.into_iter().collect(),
                records: stored.records,
                source: stored.source,
                pairable: stored.pairable,
            };
            part.pending.insert(stored.key, operation);
        }
        part.coverage.records_read = self.records_read;
        for (reason, count) in self.set_aside {
            part.coverage
                .set_aside
                .insert(set_aside_reason(&reason)?, count);
        }
        part.coverage.operations = self.operations;
        part.coverage.duplicates_merged = self.duplicates_merged;
        part.first_micros = self.first_micros;
        part.last_micros = self.last_micros;
        Ok(part)
    }
}

fn principal_kind(text: &str) -> Result<PrincipalKind, String> {
    [
        PrincipalKind::ManagedIdentity,
        PrincipalKind::ServicePrincipal,
        PrincipalKind::User,
        PrincipalKind::Unknown,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == text)
    .ok_or_else(|| format!("`{text}` is not a kind of principal"))
}

fn set_aside_reason(text: &str) -> Result<SetAsideReason, String> {
    if let Some(category) = text.strip_prefix("category:") {
        return Ok(SetAsideReason::Category(category.to_owned()));
    }
    [
        SetAsideReason::NoCallerClaims,
        SetAsideReason::NoAuthorization,
        SetAsideReason::NoTime,
        SetAsideReason::NotActivityLog,
    ]
    .into_iter()
    .find(|reason| reason.as_string() == text)
    .ok_or_else(|| format!("`{text}` is not a reason to set a record aside"))
}
