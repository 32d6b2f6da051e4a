//! `pipeleash usage --azure-activity-logs … --format json`: what each Azure principal used
//! and was denied, what could not be read, and the operations the Activity Log never records.

use super::super::common::{ReadWindowView, SkippedView};
use crate::azure::activity_log::{ActivityLogCoverage, ActivityLogUsage};
use crate::model::{IdentityId, UsageKey, UsageRecord};
use crate::output::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `--format json` shape of `pipeleash usage --azure-activity-logs` (`format_version: 1`).
#[derive(Debug, Serialize)]
pub struct UsageView {
    pub format_version: u32,
    pub source: &'static str,
    pub window: ReadWindowView,
    pub coverage: CoverageView,
    pub principals: Vec<PrincipalView>,
    /// Operations the Activity Log never records: unobservable, never unused.
    pub unobservable: Vec<UnobservableView>,
}

#[derive(Debug, Serialize)]
pub struct CoverageView {
    pub files_read: u64,
    pub files_skipped: Vec<SkippedView>,
    pub folders_pruned: u64,
    pub records_read: u64,
    pub records_outside_window: u64,
    pub operations: u64,
    pub duplicates_merged: u64,
    pub set_aside: BTreeMap<String, u64>,
    pub first_record: Option<String>,
    pub last_record: Option<String>,
    /// True when files could not be read: records in the window may be missing.
    pub missing_evidence: bool,
}

#[derive(Debug, Serialize)]
pub struct PrincipalView {
    pub identity: String,
    pub kind: &'static str,
    pub callers: Vec<String>,
    pub app_ids: Vec<String>,
    pub used: Vec<ActionView>,
    pub denied: Vec<ActionView>,
}

#[derive(Debug, Serialize)]
pub struct ActionView {
    pub action: String,
    pub operations: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub scopes: Vec<ScopeView>,
    /// Why the action counts as used without a plain success, sorted.
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ScopeView {
    pub scope: String,
    pub operations: u64,
}

#[derive(Debug, Serialize)]
pub struct UnobservableView {
    pub operations: String,
    pub plane: &'static str,
    pub reason: String,
    pub doc: String,
}

impl UsageView {
    /// The view of the usage read from the Activity Log, with what `coverage` says the log
    /// never records.
    pub fn new(usage: &ActivityLogUsage, coverage: &ActivityLogCoverage) -> UsageView {
        let mut principals: BTreeMap<&IdentityId, PrincipalView> = BTreeMap::new();
        for (key, record) in usage.usage.iter() {
            let view = principals.entry(&key.identity).or_insert_with(|| {
                let evidence = usage.principals.get(&key.identity);
                PrincipalView {
                    identity: key.identity.to_string(),
                    kind: evidence.map_or("unknown", |evidence| evidence.kind.as_str()),
                    callers: evidence
                        .map(|evidence| evidence.callers.iter().cloned().collect())
                        .unwrap_or_default(),
                    app_ids: evidence
                        .map(|evidence| evidence.app_ids.iter().cloned().collect())
                        .unwrap_or_default(),
                    used: Vec::new(),
                    denied: Vec::new(),
                }
            });
            let notes = usage.notes.get(key);
            if record.count > 0 {
                push_action(&mut view.used, key, record, record.count, notes);
            }
            if record.denied_count > 0 {
                push_action(&mut view.denied, key, record, record.denied_count, None);
            }
        }
        let c = &usage.coverage;
        UsageView {
            format_version: 1,
            source: "azure-activity-log",
            window: ReadWindowView {
                since: usage.window.since.map(rfc3339),
                until: usage.window.until.map(rfc3339),
            },
            coverage: CoverageView {
                files_read: c.files_read,
                files_skipped: c
                    .files_skipped
                    .iter()
                    .map(|file| SkippedView {
                        file: file.source.clone(),
                        reason: file.reason.clone(),
                    })
                    .collect(),
                folders_pruned: c.folders_pruned,
                records_read: c.records_read,
                records_outside_window: c.records_outside_window,
                operations: c.operations,
                duplicates_merged: c.duplicates_merged,
                set_aside: c
                    .set_aside
                    .iter()
                    .map(|(reason, count)| (reason.as_string(), *count))
                    .collect(),
                first_record: c.first_record.map(rfc3339),
                last_record: c.last_record.map(rfc3339),
                missing_evidence: !c.files_skipped.is_empty(),
            },
            principals: principals.into_values().collect(),
            unobservable: coverage
                .unobservable()
                .map(|(operations, plane, reason, doc)| UnobservableView {
                    operations: operations.to_owned(),
                    plane: plane.as_str(),
                    reason: reason.to_owned(),
                    doc: doc.to_owned(),
                })
                .collect(),
        }
    }
}

/// Adds one key to the action list (keys arrive sorted by permission, then scope).
fn push_action(
    actions: &mut Vec<ActionView>,
    key: &UsageKey,
    record: &UsageRecord,
    count: u64,
    notes: Option<&std::collections::BTreeSet<String>>,
) {
    if actions
        .last()
        .is_none_or(|last| last.action != key.permission.action)
    {
        actions.push(ActionView {
            action: key.permission.action.clone(),
            operations: 0,
            first_seen: rfc3339(record.first_seen),
            last_seen: rfc3339(record.last_seen),
            scopes: Vec::new(),
            evidence: Vec::new(),
        });
    }
    let Some(action) = actions.last_mut() else {
        return;
    };
    action.operations += count;
    action.first_seen = action.first_seen.clone().min(rfc3339(record.first_seen));
    action.last_seen = action.last_seen.clone().max(rfc3339(record.last_seen));
    action.scopes.push(ScopeView {
        scope: key.resource.clone(),
        operations: count,
    });
    for note in notes.into_iter().flatten() {
        if let Err(position) = action.evidence.binary_search(note) {
            action.evidence.insert(position, note.clone());
        }
    }
}
