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

impl Outcome {
    /// Both outcomes, in output order.
    pub const ALL: [Outcome; 2] = [Outcome::Allowed, Outcome::Denied];

    /// The lowercase name outputs and stored files use: `allowed`, `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }

    /// The outcome [`Outcome::as_str`] names, if `text` names one.
    pub fn from_name(text: &str) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
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

impl UsageKey {
    /// The key of `provider`'s identity `identity` (its native name: an ARN, an email, an
    /// object id), `action` in the provider's spelling, on `resource`.
    pub fn new(provider: Provider, identity: &str, action: &str, resource: &str) -> UsageKey {
        UsageKey {
            identity: IdentityId::new(provider, identity),
            permission: Permission::new(provider, action),
            resource: resource.to_owned(),
        }
    }
}

/// Everything known about one key: counts, first and last time seen, which workloads and which
/// sources — the evidence for keeping or dropping a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// Calls the provider allowed, including those that needed the permission without
    /// logging it (see `inferred`).
    pub count: u64,
    /// Of `count`, calls that needed the permission without a log record of their own (AWS
    /// `iam:PassRole` when a role is handed to a service, a copy's source object): the log
    /// reader inferred them from the request. Zero for events added one by one.
    pub inferred: u64,
    /// Calls the provider denied; these show intent, not use, and are kept apart.
    pub denied_count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub workloads: BTreeSet<CiWorkload>,
    /// Of the calls (allowed and denied), those made in a session the log reader could not
    /// link to the CI workload that started it (AWS temporary credentials whose
    /// `AssumeRoleWithWebIdentity` is outside the logs read). Zero for events added one by
    /// one: their workload is known or absent, never pending on another record.
    pub unlinked_calls: u64,
    pub sources: BTreeSet<String>,
    /// How the calls reached the provider or why the permission was needed, when not simply
    /// logged as the identity's own call (`via cloudformation.amazonaws.com`, `implied by
    /// PutObject x-amz-acl`). Sorted; empty for events added one by one.
    pub evidence: BTreeSet<String>,
}

impl UsageRecord {
    /// Calls logged as such: `count` without the inferred ones.
    pub fn logged(&self) -> u64 {
        self.count.saturating_sub(self.inferred)
    }

    /// A record whose `count` counts refused calls (a log reader that keeps each outcome in
    /// its own aggregate, as the CloudTrail reader does) as a record of mixed outcomes: those
    /// calls move to `denied_count`; `count` and `inferred` become 0 (an inferred permission
    /// of a refused call is still only intent).
    pub fn into_refused(self) -> UsageRecord {
        UsageRecord {
            count: 0,
            inferred: 0,
            denied_count: self.denied_count + self.count,
            ..self
        }
    }

    /// Adds the calls of another record of the same key: counts add up, first/last seen are
    /// min/max, sets are united.
    pub fn absorb(&mut self, other: UsageRecord) {
        self.count += other.count;
        self.inferred += other.inferred;
        self.denied_count += other.denied_count;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.workloads.extend(other.workloads);
        self.unlinked_calls += other.unlinked_calls;
        self.sources.extend(other.sources);
        self.evidence.extend(other.evidence);
    }
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
            inferred: 0,
            denied_count: 0,
            first_seen: event.time,
            last_seen: event.time,
            workloads: BTreeSet::new(),
            unlinked_calls: 0,
            sources: BTreeSet::new(),
            evidence: BTreeSet::new(),
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
            self.add_record(key, theirs);
        }
    }

    /// Fold in a record a log reader aggregated itself (for readers that count in their own
    /// structures, as the CloudTrail reader does): merged with [`UsageRecord::absorb`] when the
    /// key is already present.
    pub fn add_record(&mut self, key: UsageKey, record: UsageRecord) {
        match self.records.get_mut(&key) {
            Some(ours) => ours.absorb(record),
            None => {
                self.records.insert(key, record);
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

impl FromIterator<(UsageKey, UsageRecord)> for Usage {
    /// Collects records, merging those of one key with [`UsageRecord::absorb`].
    fn from_iter<I: IntoIterator<Item = (UsageKey, UsageRecord)>>(records: I) -> Self {
        let mut usage = Usage::new();
        for (key, record) in records {
            usage.add_record(key, record);
        }
        usage
    }
}

impl IntoIterator for Usage {
    type Item = (UsageKey, UsageRecord);
    type IntoIter = std::collections::btree_map::IntoIter<UsageKey, UsageRecord>;

    /// The records, sorted by identity, then permission, then resource.
    fn into_iter(self) -> Self::IntoIter {
        self.records.into_iter()
    }
}

/// The observation window `[since, until)`: usage is claimed for this span and no other.
/// Findings about unused permissions and identities are only as good as the window; it is
/// printed with every analysis. Both sides are closed instants, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservationWindow {
    /// The first instant observed (inclusive).
    pub since: DateTime<Utc>,
    /// The instant just after the last one observed (exclusive).
    pub until: DateTime<Utc>,
}

impl ObservationWindow {
    /// Whether `time` falls inside the window.
    pub fn contains(&self, time: DateTime<Utc>) -> bool {
        self.since <= time && time < self.until
    }

    /// The first and the last UTC day the window covers, `YYYY-MM-DD`, for "between A and
    /// B" in messages: the last day is the day of the last instant inside (`until` itself is
    /// outside), so a window up to midnight ends on the day before.
    pub fn days(&self) -> (String, String) {
        let last = (self.until - chrono::Duration::nanoseconds(1)).max(self.since);
        (
            self.since.format("%Y-%m-%d").to_string(),
            last.format("%Y-%m-%d").to_string(),
        )
    }
}

/// The span a log reader reads for: half-open `[since, until)`, either side open (`usage`
/// without `--since` reads everything found). An analysis turns it into an
/// [`ObservationWindow`] once both sides are known. One type for every cloud's reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl TimeWindow {
    /// Whether a record at `seconds` (Unix time) is inside the window.
    pub fn contains_seconds(&self, seconds: i64) -> bool {
        self.since.is_none_or(|since| seconds >= since.timestamp())
            && self.until.is_none_or(|until| seconds < until.timestamp())
    }

    /// Whether a record at `micros` (Unix microseconds) is inside the window.
    pub fn contains_micros(&self, micros: i64) -> bool {
        self.since
            .is_none_or(|since| micros >= since.timestamp_micros())
            && self
                .until
                .is_none_or(|until| micros < until.timestamp_micros())
    }

    /// Whether a folder of records stamped `[start, end)`, widened by `slack` on each side
    /// (records land in a later folder than their time), can hold a record in the window.
    pub fn may_overlap(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        slack: chrono::Duration,
    ) -> bool {
        let (start, end) = (start - slack, end + slack);
        self.since.is_none_or(|since| since < end) && self.until.is_none_or(|until| until > start)
    }

    /// Whether any record of the date folders `[first, last]` can be inside the window, with
    /// one day of slack on each side: a folder's date is its delivery date, not every record's.
    pub fn may_overlap_days(&self, first: chrono::NaiveDate, last: chrono::NaiveDate) -> bool {
        let midnight = |date: chrono::NaiveDate| date.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = last.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, midnight);
        self.may_overlap(midnight(first), end, chrono::Duration::days(1))
    }
}

/// A log source (a file, a folder, an object URI, a query) that could not be read, or whose
/// records could not all be read, and why: evidence is missing there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkippedSource {
    /// The path, URI or query name, as the user can find it again.
    pub source: String,
    /// What went wrong, lowercase, naming the thing in backticks where there is one.
    pub reason: String,
}

impl SkippedSource {
    pub fn new(source: impl Into<String>, reason: impl Into<String>) -> Self {
        SkippedSource {
            source: source.into(),
            reason: reason.into(),
        }
    }
}

/// What the logs could and could not show: the sources read and skipped, the records found
/// and those in the window, and how many came from each container (AWS account, GCP project,
/// Azure subscription). A container absent from `containers` had no logs read, so no call by
/// its identities is no evidence of idleness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Sources read whole (log files, objects, query results).
    pub sources_read: u64,
    /// Sources not read, or not read whole, with the reason: evidence is missing there.
    pub sources_skipped: Vec<SkippedSource>,
    /// Records found in the sources read.
    pub events_read: u64,
    /// Records whose time falls inside the window.
    pub events_in_window: u64,
    /// Earliest and latest record time inside the window.
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    /// Records in the window by the container whose log held them. Empty when the records
    /// name no container (then nothing is known per container).
    pub containers: BTreeMap<String, u64>,
}

impl Coverage {
    /// Whether logs of `container` were read (records of it in the window), so that no call
    /// by its identities means no use. False for every container when no record at all fell
    /// in the window (logs of other dates are no evidence of idleness); true for every
    /// container when records in the window named no container at all.
    pub fn covers_container(&self, container: &str) -> bool {
        if self.events_in_window == 0 {
            return false;
        }
        self.containers.is_empty() || self.containers.contains_key(container)
    }

    /// Whether some evidence is known to be missing: a source was skipped.
    pub fn is_incomplete(&self) -> bool {
        !self.sources_skipped.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_window_up_to_midnight_ends_on_the_day_before() {
        // `--until 2026-11-20` is the window up to 2026-11-21T00:00:00Z: messages said
        // "between 2026-11-14 and 2026-11-21", one day more than was observed.
        let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        let window = |since, until| ObservationWindow { since, until };
        let days = |since, until| window(since, until).days();
        assert_eq!(
            days(at(14, 0), at(21, 0)),
            ("2026-11-14".into(), "2026-11-20".into())
        );
        assert_eq!(
            days(at(14, 6), at(21, 13)),
            ("2026-11-14".into(), "2026-11-21".into())
        );
        assert_eq!(
            days(at(14, 0), at(14, 0)),
            ("2026-11-14".into(), "2026-11-14".into())
        );
    }

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
    fn collecting_records_merges_those_of_one_key() {
        let mut one = Usage::new();
        one.add(&event(3, Outcome::Allowed, Some("repo:a/b:pull_request")));
        let mut other = Usage::new();
        other.add(&event(9, Outcome::Denied, None));
        let collected: Usage = one.clone().into_iter().chain(other.clone()).collect();
        one.merge(other);
        assert_eq!(collected, one);
        let (_, record) = collected.iter().next().unwrap();
        assert_eq!((record.count, record.denied_count), (1, 1));
    }

    #[test]
    fn coverage_covers_a_container_only_when_its_logs_had_records_in_the_window() {
        let mut coverage = Coverage::default();
        assert!(!coverage.covers_container("111111111111"));
        coverage.events_in_window = 3;
        assert!(coverage.covers_container("111111111111"));
        coverage.containers = [("222222222222".to_owned(), 3)].into();
        assert!(!coverage.covers_container("111111111111"));
        assert!(coverage.covers_container("222222222222"));
        assert!(!coverage.is_incomplete());
        coverage
            .sources_skipped
            .push(SkippedSource::new("a.json.gz", "not gzip"));
        assert!(coverage.is_incomplete());
    }

    #[test]
    fn observation_window_is_half_open() {
        let window = ObservationWindow {
            since: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            until: Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
        };
        assert!(window.contains(window.since));
        assert!(!window.contains(window.until));
    }

    #[test]
    fn permission_patterns_are_recognised() {
        assert!(Permission::new(Provider::Azure, "Microsoft.Storage/*").is_pattern());
        assert!(!Permission::new(Provider::Aws, "s3:GetObject").is_pattern());
    }
}
