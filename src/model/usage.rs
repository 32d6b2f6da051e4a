//! Usage: what identities actually did. `UsageEvent`s come one by one from audit logs;
//! `Usage` aggregates them per identity × permission × resource, so memory grows with distinct
//! keys, not with events.

use super::workload::CiWorkload;
use super::{IdentityId, Provider};
use crate::matching::has_wildcard;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A provider permission in the provider's own spelling: `s3:GetObject`,
/// `storage.objects.get`, `Microsoft.Storage/storageAccounts/read`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub provider: Provider,
    pub action: String,
}

impl Permission {
    pub fn new(provider: Provider, action: impl Into<String>) -> Self {
        Permission {
            provider,
            action: action.into(),
        }
    }

    /// Does the action contain a wildcard? Patterns appear in grants (AWS, Azure), never in
    /// events.
    pub fn is_pattern(&self) -> bool {
        has_wildcard(&self.action)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.action)
    }
}

/// Whether the provider let the call through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Allowed,
    Denied,
}

/// One observed call, from one audit log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub identity: IdentityId,
    pub permission: Permission,
    /// The resource the call touched, in the provider's naming (ARN, full resource name, ARM
    /// id); `*` when the log does not say.
    pub resource: String,
    pub time: DateTime<Utc>,
    pub outcome: Outcome,
    /// The pipeline run that made the call, when the log lets pipeleash recover it.
    pub workload: Option<CiWorkload>,
    /// Where the event came from (a log file, a query), for evidence.
    pub source: String,
}

/// What `Usage` aggregates over.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsageKey {
    pub identity: IdentityId,
    pub permission: Permission,
    pub resource: String,
}

/// Everything known about one key: counts, first and last time seen, which workloads and which
/// sources — the evidence for keeping or dropping a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// Calls the provider allowed.
    pub count: u64,
    /// Calls the provider denied; these show intent, not use, and are kept apart.
    pub denied_count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub workloads: BTreeSet<CiWorkload>,
    pub sources: BTreeSet<String>,
}

/// Aggregated usage, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    records: BTreeMap<UsageKey, UsageRecord>,
}

impl Usage {
    pub fn new() -> Self {
        Usage::default()
    }

    /// Fold one event in. Order of events does not matter: first/last seen are min/max.
    pub fn add(&mut self, event: &UsageEvent) {
        let key = UsageKey {
            identity: event.identity.clone(),
            permission: event.permission.clone(),
            resource: event.resource.clone(),
        };
        let record = self.records.entry(key).or_insert_with(|| UsageRecord {
            count: 0,
            denied_count: 0,
            first_seen: event.time,
            last_seen: event.time,
            workloads: BTreeSet::new(),
            sources: BTreeSet::new(),
        });
        match event.outcome {
            Outcome::Allowed => record.count += 1,
            Outcome::Denied => record.denied_count += 1,
        }
        record.first_seen = record.first_seen.min(event.time);
        record.last_seen = record.last_seen.max(event.time);
        if let Some(workload) = &event.workload {
            record.workloads.insert(workload.clone());
        }
        // Sources repeat for every event of a file; the set keeps one copy.
        if !record.sources.contains(&event.source) {
            record.sources.insert(event.source.clone());
        }
    }

    /// Fold another aggregate in (for per-file or per-thread partial aggregates).
    pub fn merge(&mut self, other: Usage) {
        for (key, theirs) in other.records {
            match self.records.get_mut(&key) {
                Some(ours) => {
                    ours.count += theirs.count;
                    ours.denied_count += theirs.denied_count;
                    ours.first_seen = ours.first_seen.min(theirs.first_seen);
                    ours.last_seen = ours.last_seen.max(theirs.last_seen);
                    ours.workloads.extend(theirs.workloads);
                    ours.sources.extend(theirs.sources);
                }
                None => {
                    self.records.insert(key, theirs);
                }
            }
        }
    }

    pub fn get(&self, key: &UsageKey) -> Option<&UsageRecord> {
        self.records.get(key)
    }

    /// All records, sorted by identity, then permission, then resource.
    pub fn iter(&self) -> impl Iterator<Item = (&UsageKey, &UsageRecord)> {
        self.records.iter()
    }

    /// The records of one identity.
    pub fn for_identity<'a>(
        &'a self,
        identity: &'a IdentityId,
    ) -> impl Iterator<Item = (&'a UsageKey, &'a UsageRecord)> {
        self.records
            .iter()
            .filter(move |(key, _)| &key.identity == identity)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(hour: u32, outcome: Outcome, subject: Option<&str>) -> UsageEvent {
        UsageEvent {
            identity: IdentityId::new(Provider::Gcp, "ci@p.iam.gserviceaccount.com"),
            permission: Permission::new(Provider::Gcp, "storage.objects.get"),
            resource: "//storage.googleapis.com/projects/_/buckets/b".to_string(),
            time: Utc.with_ymd_and_hms(2026, 1, 2, hour, 0, 0).unwrap(),
            outcome,
            workload: subject
                .map(|s| CiWorkload::new("https://token.actions.githubusercontent.com", s)),
            source: format!("log-{hour}.json"),
        }
    }

    #[test]
    fn add_aggregates_counts_times_and_workloads_in_any_order() {
        let mut usage = Usage::new();
        usage.add(&event(
            10,
            Outcome::Allowed,
            Some("repo:a/b:ref:refs/heads/main"),
        ));
        usage.add(&event(3, Outcome::Allowed, None));
        usage.add(&event(20, Outcome::Denied, Some("repo:a/b:pull_request")));
        usage.add(&event(
            11,
            Outcome::Allowed,
            Some("repo:a/b:ref:refs/heads/main"),
        ));
        assert_eq!(usage.len(), 1);
        let (_, record) = usage.iter().next().unwrap();
        assert_eq!(record.count, 3);
        assert_eq!(record.denied_count, 1);
        assert_eq!(
            record.first_seen,
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 0, 0).unwrap()
        );
        assert_eq!(
            record.last_seen,
            Utc.with_ymd_and_hms(2026, 1, 2, 20, 0, 0).unwrap()
        );
        assert_eq!(record.workloads.len(), 2);
        assert_eq!(record.sources.len(), 4);
    }

    #[test]
    fn merge_equals_adding_everything_to_one_aggregate() {
        let events: Vec<UsageEvent> = (0..6)
            .map(|h| event(h, Outcome::Allowed, Some("repo:a/b:pull_request")))
            .collect();
        let mut whole = Usage::new();
        events.iter().for_each(|e| whole.add(e));
        let (mut left, mut right) = (Usage::new(), Usage::new());
        events[..2].iter().for_each(|e| left.add(e));
        events[2..].iter().for_each(|e| right.add(e));
        left.merge(right);
        assert_eq!(left, whole);
    }

    #[test]
    fn permission_patterns_are_recognised() {
        assert!(Permission::new(Provider::Azure, "Microsoft.Storage/*").is_pattern());
        assert!(!Permission::new(Provider::Aws, "s3:GetObject").is_pattern());
    }
}
