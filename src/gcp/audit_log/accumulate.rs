//! Counting entries: each worker interns strings and counts per (identity, permission,
//! resource, workload, outcome) key, so memory grows with distinct keys, not with entries.
//! Workers' maps are turned into strings and merged at the end, and the merged map is
//! replayed into the neutral [`Usage`].
//!
//! The rules, each with its source:
//! - The identity charged is `authenticationInfo.principalEmail`, "the email address of the
//!   authenticated user (or service account on behalf of third party principal) making the
//!   request"; with impersonation that is the service account whose credentials made the
//!   call, and `serviceAccountDelegationInfo[]` lists "the real authorities that try to access
//!   GCP resources by delegating on a service account"
//!   (<https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog#AuthenticationInfo>).
//!   The chain is kept as evidence ([`Delegation`]). A federated caller without a service
//!   account has `principalSubject` "instead of" `principalEmail`; it is charged to that
//!   principal identifier.
//! - "If there are multiple resources or permissions involved, then there is one
//!   AuthorizationInfo element for each {resource, permission} tuple"
//!   (same page, `authorizationInfo[]`): every element counts.
//! - `granted: true` is used; `granted: false` is denied. Without `granted` (false in proto3
//!   JSON) the call's status decides: 7 (`PERMISSION_DENIED`) is denied, any other status
//!   means the call was not refused and the element counts as used
//!   ([`Coverage::granted_unstated`]): when unsure, a permission is kept.

use super::record::{AuditLog, LogEntry, LogType, federated_subject, parse_timestamp};
use super::report::{AuditLogUsage, Coverage, Delegation, KeyUse, SetAsideReason};
use crate::intern::{FxHashMap, Interner};
use crate::model::SkippedSource;
use crate::model::TimeWindow;
use crate::model::time::to_datetime;
use crate::model::{CiWorkload, IdentityId, Outcome, Permission, Provider, Usage, UsageEvent};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const PERMISSION_DENIED: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    identity: u32,
    permission: u32,
    resource: u32,
    /// Interned pool name and subject, or 0 and 0.
    pool: u32,
    subject: u32,
    denied: bool,
}

#[derive(Debug, Clone)]
struct Stats {
    count: u64,
    first: i64,
    last: i64,
    /// Interned source names, in the order first seen (consecutive duplicates dropped).
    sources: Vec<u32>,
}

/// Everything one worker (or one file being staged) has counted.
#[derive(Debug, Default)]
pub struct Accumulator {
    strings: Interner,
    usage: FxHashMap<Key, Stats>,
    delegations: FxHashMap<(u32, Vec<u32>), u64>,
    /// Key name → (entries, first, last).
    key_use: FxHashMap<u32, (u64, i64, i64)>,
    set_aside: [u64; SetAsideReason::ALL.len()],
    log_types: [u64; LogType::ALL.len()],
    data_access_services: FxHashMap<u32, ()>,
    granted_unstated: u64,
    granted_in_refused_calls: u64,
    entries_read: u64,
    entries_in_window: u64,
    first: Option<i64>,
    last: Option<i64>,
    pub files_read: u64,
    pub skipped: Vec<SkippedSource>,
    chain: Vec<u32>,
}

/// The counts of one file, kept apart until the whole file has been read, so that a
/// truncated file contributes nothing.
#[derive(Debug, Default)]
pub struct Staging {
    usage: FxHashMap<Key, (u64, i64, i64)>,
    delegations: FxHashMap<(u32, Vec<u32>), u64>,
    key_use: FxHashMap<u32, (u64, i64, i64)>,
    set_aside: [u64; SetAsideReason::ALL.len()],
    log_types: [u64; LogType::ALL.len()],
    data_access_services: Vec<u32>,
    granted_unstated: u64,
    granted_in_refused_calls: u64,
    entries_read: u64,
    entries_in_window: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Staging {
    /// Entries staged so far (of the file being read).
    pub fn entries_read(&self) -> u64 {
        self.entries_read
    }

    fn set_aside(&mut self, reason: SetAsideReason) {
        self.set_aside[reason.index()] += 1;
    }
}

impl Accumulator {
    /// Counts one entry into `staging`, interning its strings here.
    pub fn add(&mut self, staging: &mut Staging, entry: &LogEntry<'_>, window: &TimeWindow) {
        staging.entries_read += 1;
        let (payload, time) = match checked(entry) {
            Ok(found) => found,
            Err(reason) => {
                staging.set_aside(reason);
                return;
            }
        };
        if !window.contains_seconds(time) {
            return;
        }
        staging.entries_in_window += 1;
        staging.first = Some(staging.first.map_or(time, |first| first.min(time)));
        staging.last = Some(staging.last.map_or(time, |last| last.max(time)));
        let log_type = entry
            .log_name
            .as_deref()
            .map_or(LogType::Other, LogType::from_log_name);
        staging.log_types[log_type as usize] += 1;
        if log_type == LogType::DataAccess
            && let Some(service) = payload.service_name.as_deref()
        {
            let id = self.strings.intern(service);
            if !staging.data_access_services.contains(&id) {
                staging.data_access_services.push(id);
            }
        }

        let authentication = payload.authentication_info.as_ref();
        // A call made with a user-managed key names the key, whatever else the entry says:
        // its use is counted before any reason to set the entry aside.
        if let Some(key) = authentication
            .and_then(|info| info.service_account_key_name.as_deref())
            .filter(|key| !key.is_empty())
        {
            let id = self.strings.intern(key);
            let used = staging.key_use.entry(id).or_insert((0, time, time));
            used.0 += 1;
            used.1 = used.1.min(time);
            used.2 = used.2.max(time);
        }
        let email = authentication
            .and_then(|info| info.principal_email.as_deref())
            .filter(|email| !email.is_empty());
        let subject = authentication
            .and_then(|info| info.principal_subject.as_deref())
            .filter(|subject| !subject.is_empty());
        let Some(principal) = email.or(subject) else {
            staging.set_aside(SetAsideReason::NoPrincipal);
            return;
        };
        let Some(elements) = payload
            .authorization_info
            .as_ref()
            .filter(|elements| !elements.is_empty())
        else {
            staging.set_aside(SetAsideReason::NoAuthorizationInfo);
            return;
        };

        // The CI workload: the caller's own federated subject, or the first one in the
        // delegation chain.
        let delegation =
            authentication.and_then(|info| info.service_account_delegation_info.as_ref());
        let mut workload = subject.and_then(federated_subject);
        self.chain.clear();
        for link in delegation.into_iter().flatten() {
            let name = match (
                link.first_party_principal
                    .as_ref()
                    .and_then(|first| first.principal_email.as_deref()),
                link.principal_subject.as_deref(),
            ) {
                (Some(email), _) => email,
                (None, Some(subject)) => {
                    if workload.is_none() {
                        workload = federated_subject(subject);
                    }
                    subject
                }
                (None, None) if link.third_party_principal.is_some() => "third-party principal",
                (None, None) => "unnamed principal",
            };
            let id = self.strings.intern(name);
            self.chain.push(id);
        }
        let identity = self.strings.intern(principal);
        if !self.chain.is_empty() {
            *staging
                .delegations
                .entry((identity, self.chain.clone()))
                .or_insert(0) += 1;
        }
        let (pool, workload_subject) = match &workload {
            Some(found) => (
                self.strings.intern(&found.pool),
                self.strings.intern(found.subject),
            ),
            None => (0, 0),
        };
        let status = payload.status.as_ref().map_or(0, |status| status.code);
        let target = payload.resource_name.as_deref().unwrap_or("*");
        for element in elements {
            let Some(permission) = element.permission.as_deref().filter(|p| !p.is_empty()) else {
                staging.set_aside(SetAsideReason::NoPermission);
                continue;
            };
            let denied = match element.granted {
                Some(true) => {
                    if status == PERMISSION_DENIED {
                        staging.granted_in_refused_calls += 1;
                    }
                    false
                }
                Some(false) => true,
                None if status == PERMISSION_DENIED => true,
                None => {
                    staging.granted_unstated += 1;
                    false
                }
            };
            let resource = element
                .resource
                .as_deref()
                .filter(|resource| !resource.is_empty())
                .unwrap_or(target);
            let key = Key {
                identity,
                permission: self.strings.intern(permission),
                resource: self.strings.intern(resource),
                pool,
                subject: workload_subject,
                denied,
            };
            let stats = staging.usage.entry(key).or_insert((0, time, time));
            stats.0 += 1;
            stats.1 = stats.1.min(time);
            stats.2 = stats.2.max(time);
        }
    }

    /// Folds a fully read file's counts in, naming `source` as their evidence.
    pub fn commit(&mut self, staging: &mut Staging, source: &str) {
        let source = self.strings.intern(source);
        for (key, (count, first, last)) in staging.usage.drain() {
            let stats = self.usage.entry(key).or_insert_with(|| Stats {
                count: 0,
                first,
                last,
                sources: Vec::new(),
            });
            stats.count += count;
            stats.first = stats.first.min(first);
            stats.last = stats.last.max(last);
            if stats.sources.last() != Some(&source) {
                stats.sources.push(source);
            }
        }
        for (key, count) in staging.delegations.drain() {
            *self.delegations.entry(key).or_insert(0) += count;
        }
        for (key, (count, first, last)) in staging.key_use.drain() {
            let used = self.key_use.entry(key).or_insert((0, first, last));
            used.0 += count;
            used.1 = used.1.min(first);
            used.2 = used.2.max(last);
        }
        for (ours, theirs) in self.set_aside.iter_mut().zip(&mut staging.set_aside) {
            *ours += std::mem::take(theirs);
        }
        for (ours, theirs) in self.log_types.iter_mut().zip(&mut staging.log_types) {
            *ours += std::mem::take(theirs);
        }
        for service in staging.data_access_services.drain(..) {
            self.data_access_services.insert(service, ());
        }
        self.granted_unstated += std::mem::take(&mut staging.granted_unstated);
        self.granted_in_refused_calls += std::mem::take(&mut staging.granted_in_refused_calls);
        self.entries_read += std::mem::take(&mut staging.entries_read);
        self.entries_in_window += std::mem::take(&mut staging.entries_in_window);
        for (ours, theirs, pick) in [
            (
                &mut self.first,
                staging.first.take(),
                i64::min as fn(i64, i64) -> i64,
            ),
            (&mut self.last, staging.last.take(), i64::max),
        ] {
            if let Some(theirs) = theirs {
                *ours = Some(ours.map_or(theirs, |ours| pick(ours, theirs)));
            }
        }
        self.files_read += 1;
    }

    /// Forgets a file's counts (it turned out to be unreadable).
    pub fn discard(staging: &mut Staging) {
        *staging = Staging::default();
    }

    /// The counts with strings in place of ids, ready to merge with other workers'.
    pub fn into_partial(self) -> Partial {
        let strings = &self.strings;
        let text = |id: u32| strings.get(id).to_string();
        let mut partial = Partial::default();
        for (key, stats) in self.usage {
            let workload = (key.pool != 0).then(|| (text(key.pool), text(key.subject)));
            partial.usage.insert(
                (
                    text(key.identity),
                    text(key.permission),
                    text(key.resource),
                    workload,
                    key.denied,
                ),
                PartialStats {
                    count: stats.count,
                    first: stats.first,
                    last: stats.last,
                    sources: stats.sources.into_iter().map(text).collect(),
                },
            );
        }
        for ((identity, chain), count) in self.delegations {
            partial.delegations.insert(
                (text(identity), chain.into_iter().map(text).collect()),
                count,
            );
        }
        for (key, used) in self.key_use {
            partial.key_use.insert(text(key), used);
        }
        partial.set_aside = self.set_aside;
        partial.log_types = self.log_types;
        partial.data_access_services = self.data_access_services.into_keys().map(text).collect();
        partial.granted_unstated = self.granted_unstated;
        partial.granted_in_refused_calls = self.granted_in_refused_calls;
        partial.entries_read = self.entries_read;
        partial.entries_in_window = self.entries_in_window;
        partial.first = self.first;
        partial.last = self.last;
        partial.files_read = self.files_read;
        partial.skipped = self.skipped;
        partial
    }
}

/// The audit payload and the time (Unix seconds) of an entry, which [`Accumulator::add`]
/// compares with the window, or why the entry is set aside whatever the window.
fn checked<'e, 'a>(entry: &'e LogEntry<'a>) -> Result<(&'e AuditLog<'a>, i64), SetAsideReason> {
    let payload = entry
        .proto_payload
        .as_ref()
        .filter(|payload| {
            payload
                .type_url
                .as_deref()
                .is_none_or(|url| url == super::record::AUDIT_LOG_TYPE)
        })
        .ok_or(SetAsideReason::NotAnAuditLog)?;
    let timestamp = entry
        .timestamp
        .as_deref()
        .ok_or(SetAsideReason::MissingTimestamp)?;
    let time = parse_timestamp(timestamp).ok_or(SetAsideReason::MalformedTimestamp)?;
    Ok((payload, time))
}

/// The time (Unix seconds) [`Accumulator::add`] compares with the window, `None` for an entry
/// it sets aside whatever the window.
pub fn windowed_time(entry: &LogEntry<'_>) -> Option<i64> {
    checked(entry).ok().map(|(_, time)| time)
}

type PartialKey = (String, String, String, Option<(String, String)>, bool);

#[derive(Debug, Clone)]
pub struct PartialStats {
    count: u64,
    first: i64,
    last: i64,
    sources: BTreeSet<String>,
}

/// A worker's counts with strings, mergeable with any other.
#[derive(Debug, Default, Clone)]
pub struct Partial {
    usage: BTreeMap<PartialKey, PartialStats>,
    delegations: BTreeMap<(String, Vec<String>), u64>,
    /// Key name → (entries, first, last), times in Unix seconds.
    key_use: BTreeMap<String, (u64, i64, i64)>,
    set_aside: [u64; SetAsideReason::ALL.len()],
    log_types: [u64; LogType::ALL.len()],
    data_access_services: BTreeSet<String>,
    granted_unstated: u64,
    granted_in_refused_calls: u64,
    entries_read: u64,
    entries_in_window: u64,
    first: Option<i64>,
    last: Option<i64>,
    files_read: u64,
    skipped: Vec<SkippedSource>,
}

impl Partial {
    pub fn merge(mut self, other: Partial) -> Partial {
        for (key, theirs) in other.usage {
            match self.usage.get_mut(&key) {
                Some(ours) => {
                    ours.count += theirs.count;
                    ours.first = ours.first.min(theirs.first);
                    ours.last = ours.last.max(theirs.last);
                    ours.sources.extend(theirs.sources);
                }
                None => {
                    self.usage.insert(key, theirs);
                }
            }
        }
        for (key, count) in other.delegations {
            *self.delegations.entry(key).or_insert(0) += count;
        }
        for (key, (count, first, last)) in other.key_use {
            let used = self.key_use.entry(key).or_insert((0, first, last));
            used.0 += count;
            used.1 = used.1.min(first);
            used.2 = used.2.max(last);
        }
        for (ours, theirs) in self.set_aside.iter_mut().zip(other.set_aside) {
            *ours += theirs;
        }
        for (ours, theirs) in self.log_types.iter_mut().zip(other.log_types) {
            *ours += theirs;
        }
        self.data_access_services.extend(other.data_access_services);
        self.granted_unstated += other.granted_unstated;
        self.granted_in_refused_calls += other.granted_in_refused_calls;
        self.entries_read += other.entries_read;
        self.entries_in_window += other.entries_in_window;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.files_read += other.files_read;
        self.skipped.extend(other.skipped);
        self
    }

    /// The sorted result. Each key is replayed into [`Usage`] as many times as it was counted
    /// (the neutral model counts one event per `add`), keys in parallel.
    pub fn finish(self, window: TimeWindow) -> AuditLogUsage {
        let keys: Vec<(PartialKey, PartialStats)> = self.usage.into_iter().collect();
        let usage = keys
            .par_chunks(64)
            .map(|chunk| {
                let mut usage = Usage::new();
                for ((identity, permission, resource, workload, denied), stats) in chunk {
                    replay(
                        &mut usage, identity, permission, resource, workload, *denied, stats,
                    );
                }
                usage
            })
            .reduce(Usage::new, |mut left, right| {
                left.merge(right);
                left
            });
        let mut skipped = self.skipped;
        skipped.sort();
        let coverage = Coverage {
            window,
            files_read: self.files_read,
            files_skipped: skipped,
            entries_read: self.entries_read,
            entries_in_window: self.entries_in_window,
            first_entry: self.first.map(to_datetime),
            last_entry: self.last.map(to_datetime),
            log_types: LogType::ALL
                .iter()
                .zip(self.log_types)
                .filter(|(_, count)| *count > 0)
                .map(|(kind, count)| (*kind, count))
                .collect(),
            data_access_services: self.data_access_services,
            set_aside: SetAsideReason::ALL
                .iter()
                .zip(self.set_aside)
                .filter(|(_, count)| *count > 0)
                .map(|(reason, count)| (*reason, count))
                .collect(),
            granted_unstated: self.granted_unstated,
            granted_in_refused_calls: self.granted_in_refused_calls,
        };
        let delegations = self
            .delegations
            .into_iter()
            .map(|((identity, chain), entries)| Delegation {
                identity: IdentityId::new(Provider::Gcp, &identity).to_string(),
                chain,
                entries,
            })
            .collect();
        let key_use = self
            .key_use
            .into_iter()
            .map(|(name, (calls, first, last))| {
                (
                    name,
                    KeyUse {
                        calls,
                        first: to_datetime(first),
                        last: to_datetime(last),
                    },
                )
            })
            .collect();
        AuditLogUsage {
            usage,
            coverage,
            delegations,
            key_use,
        }
    }
}

fn replay(
    usage: &mut Usage,
    identity: &str,
    permission: &str,
    resource: &str,
    workload: &Option<(String, String)>,
    denied: bool,
    stats: &PartialStats,
) {
    let sources: Vec<&String> = stats.sources.iter().collect();
    let mut event = UsageEvent {
        identity: IdentityId::new(Provider::Gcp, identity),
        permission: Permission::new(Provider::Gcp, permission),
        resource: resource.to_string(),
        time: to_datetime(stats.first),
        outcome: if denied {
            Outcome::Denied
        } else {
            Outcome::Allowed
        },
        workload: workload
            .as_ref()
            .map(|(pool, subject)| CiWorkload::new(pool, subject)),
        source: sources.first().map(|s| s.to_string()).unwrap_or_default(),
    };
    for index in 0..stats.count {
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        if index == 1 {
            event.time = to_datetime(stats.last);
        } else if index == 2 {
            event.time = to_datetime(stats.first);
        }
        if let Some(source) = sources.get(index)
            && index > 0
        {
            event.source = source.to_string();
        }
        usage.add(&event);
    }
}

/// One counted key as stored: (identity, permission, resource, workload `[pool, subject]`,
/// denied, count, first, last, sources); times in Unix seconds.
type StoredKey = (
    String,
    String,
    String,
    Option<(String, String)>,
    bool,
    u64,
    i64,
    i64,
    Vec<String>,
);

/// A [`Partial`] as stored between incremental reads (`usage/gcp-read-state.json.gz`), every
/// list sorted so that equal partials store equal bytes. The files read and skipped are the
/// read state's business, not kept here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredPartial {
    usage: Vec<StoredKey>,
    /// (identity, delegation chain, entries).
    delegations: Vec<(String, Vec<String>, u64)>,
    /// (key name, entries, first, last). Absent in states stored before key use was
    /// counted: such a state cannot give what a full read gives, so it is refused (the
    /// caller warns and reads the window again).
    #[serde(default)]
    key_use: Option<Vec<(String, u64, i64, i64)>>,
    /// Counts in the order of [`SetAsideReason::ALL`].
    set_aside: Vec<u64>,
    /// Counts in the order of [`LogType::ALL`].
    log_types: Vec<u64>,
    data_access_services: Vec<String>,
    granted_unstated: u64,
    granted_in_refused_calls: u64,
    entries_read: u64,
    entries_in_window: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Partial {
    /// Entries read (in the window or not).
    pub fn entries_read(&self) -> u64 {
        self.entries_read
    }

    /// Sets what an assembly of stored parts counts itself: the entries of every part read,
    /// the files read whole and those this read skipped.
    pub fn set_read(&mut self, entries_read: u64, files_read: u64, skipped: Vec<SkippedSource>) {
        self.entries_read = entries_read;
        self.files_read = files_read;
        self.skipped = skipped;
    }

    pub fn to_stored(&self) -> StoredPartial {
        StoredPartial {
            usage: self
                .usage
                .iter()
                .map(
                    |((identity, permission, resource, workload, denied), stats)| {
                        (
                            identity.clone(),
                            permission.clone(),
                            resource.clone(),
                            workload.clone(),
                            *denied,
                            stats.count,
                            stats.first,
                            stats.last,
                            stats.sources.iter().cloned().collect(),
                        )
                    },
                )
                .collect(),
            delegations: self
                .delegations
                .iter()
                .map(|((identity, chain), count)| (identity.clone(), chain.clone(), *count))
                .collect(),
            key_use: Some(
                self.key_use
                    .iter()
                    .map(|(name, (count, first, last))| (name.clone(), *count, *first, *last))
                    .collect(),
            ),
            set_aside: self.set_aside.to_vec(),
            log_types: self.log_types.to_vec(),
            data_access_services: self.data_access_services.iter().cloned().collect(),
            granted_unstated: self.granted_unstated,
            granted_in_refused_calls: self.granted_in_refused_calls,
            entries_read: self.entries_read,
            entries_in_window: self.entries_in_window,
            first: self.first,
            last: self.last,
        }
    }

    /// Rebuilds a partial from its stored form; counts of the wrong length are an error (the
    /// file is damaged), never a silently different count.
    pub fn from_stored(stored: StoredPartial) -> Result<Partial, String> {
        let Some(key_use) = stored.key_use else {
            return Err(
                "it was stored before service-account key use was counted; the window is read \
                 again"
                    .to_owned(),
            );
        };
        let set_aside = fixed(stored.set_aside, "set-aside counts")?;
        let log_types = fixed(stored.log_types, "log type counts")?;
        let mut partial = Partial {
            set_aside,
            log_types,
            data_access_services: stored.data_access_services.into_iter().collect(),
            granted_unstated: stored.granted_unstated,
            granted_in_refused_calls: stored.granted_in_refused_calls,
            entries_read: stored.entries_read,
            entries_in_window: stored.entries_in_window,
            first: stored.first,
            last: stored.last,
            ..Partial::default()
        };
        for (identity, permission, resource, workload, denied, count, first, last, sources) in
            stored.usage
        {
            let stats = PartialStats {
                count,
                first,
                last,
                sources: sources.into_iter().collect(),
            };
            let key = (identity, permission, resource, workload, denied);
            if partial.usage.insert(key, stats).is_some() {
                return Err("a counted key is stored twice".to_owned());
            }
        }
        for (identity, chain, count) in stored.delegations {
            partial.delegations.insert((identity, chain), count);
        }
        for (name, count, first, last) in key_use {
            if partial.key_use.insert(name, (count, first, last)).is_some() {
                return Err("a key is stored twice".to_owned());
            }
        }
        Ok(partial)
    }
}

/// `counts` as an array of `N`, or why not.
fn fixed<const N: usize>(counts: Vec<u64>, what: &str) -> Result<[u64; N], String> {
    counts
        .try_into()
        .map_err(|counts: Vec<u64>| format!("{} {what}, not {N}", counts.len()))
}

#[cfg(test)]
mod key_use_tests {
    use super::*;

    #[test]
    fn a_stored_part_from_before_key_use_was_counted_is_refused_not_read_as_no_use() {
        let mut partial = Partial::default();
        partial.key_use.insert(
            "//iam.googleapis.com/projects/p/serviceAccounts/a/keys/k".into(),
            (2, 10, 20),
        );
        let stored = partial.to_stored();
        let again = Partial::from_stored(stored.clone()).expect("round trip");
        assert_eq!(again.key_use, partial.key_use);
        let mut old = serde_json::to_value(&stored).expect("serialize");
        old.as_object_mut().expect("object").remove("key_use");
        let old: StoredPartial = serde_json::from_value(old).expect("old form reads");
        let error = Partial::from_stored(old).expect_err("refused");
        assert!(error.contains("key use"), "{error}");
    }
}
