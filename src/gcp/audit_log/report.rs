//! What reading Cloud Audit Logs gives: the neutral [`Usage`] plus an honest account of what
//! the logs read could and could not show.

use super::record::LogType;
use crate::model::SkippedSource;
use crate::model::TimeWindow;
use crate::model::Usage;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Why an entry (or one `authorizationInfo[]` element of it) was not counted as usage. Each
/// reason is one where no identity's permissions can be read from the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetAsideReason {
    /// The entry has no `protoPayload` of type `google.cloud.audit.AuditLog`: not an audit
    /// log entry (another log routed to the same bucket).
    NotAnAuditLog,
    /// `authenticationInfo` names no principal (neither `principalEmail` nor
    /// `principalSubject`): the call was made by Google systems (System Event entries) or
    /// the caller is withheld, so no identity of the organization can be charged.
    NoPrincipal,
    /// The entry has no `authorizationInfo[]`: the service logged no permission check for the
    /// call, so no permission can be named.
    NoAuthorizationInfo,
    /// An `authorizationInfo[]` element names no permission.
    NoPermission,
    /// The entry has no `timestamp`: it cannot be placed in the window.
    MissingTimestamp,
    /// The `timestamp` is not an RFC 3339 time.
    MalformedTimestamp,
}

impl SetAsideReason {
    pub const ALL: [SetAsideReason; 6] = [
        SetAsideReason::NotAnAuditLog,
        SetAsideReason::NoPrincipal,
        SetAsideReason::NoAuthorizationInfo,
        SetAsideReason::NoPermission,
        SetAsideReason::MissingTimestamp,
        SetAsideReason::MalformedTimestamp,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SetAsideReason::NotAnAuditLog => "not-an-audit-log",
            SetAsideReason::NoPrincipal => "no-principal",
            SetAsideReason::NoAuthorizationInfo => "no-authorization-info",
            SetAsideReason::NoPermission => "no-permission",
            SetAsideReason::MissingTimestamp => "missing-timestamp",
            SetAsideReason::MalformedTimestamp => "malformed-timestamp",
        }
    }

    /// Whether entries set aside for this reason may be calls of an identity in the window
    /// whose evidence is lost (a timestamp that cannot be read).
    pub fn is_missing_evidence(self) -> bool {
        matches!(
            self,
            SetAsideReason::MissingTimestamp | SetAsideReason::MalformedTimestamp
        )
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// How a call reached the identity it is charged to: the service-account delegation chain of
/// the entries (`authenticationInfo.serviceAccountDelegationInfo[]`), in the log's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delegation {
    /// `gcp:<email>` of the identity charged (the authenticated service account).
    pub identity: String,
    /// The real authorities, first to last: emails of first-party principals,
    /// `principal://…` subjects, or `third-party principal`.
    pub chain: Vec<String>,
    /// Entries with this chain.
    pub entries: u64,
}

/// The use of one service-account key in the window: entries whose
/// `authenticationInfo.serviceAccountKeyName` names it
/// (<https://cloud.google.com/iam/docs/service-account-keys#key-usage>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// Entries that authenticated with the key.
    pub calls: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// The key id of a key name, whatever its prefix: the last segment of
/// `//iam.googleapis.com/projects/P/serviceAccounts/SA/keys/KEY_ID` (audit logs) or
/// `projects/P/serviceAccounts/SA/keys/KEY_ID` (`keys.list`).
pub fn key_id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// What the logs read cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub window: TimeWindow,
    pub files_read: u64,
    /// Files that could not be read (unreadable, not gzip, corrupt or truncated JSON), sorted.
    pub files_skipped: Vec<SkippedSource>,
    pub entries_read: u64,
    pub entries_in_window: u64,
    pub first_entry: Option<DateTime<Utc>>,
    pub last_entry: Option<DateTime<Utc>>,
    /// Entries in the window per audit log.
    pub log_types: BTreeMap<LogType, u64>,
    /// Services (`serviceName`) with at least one Data Access entry in the window.
    pub data_access_services: BTreeSet<String>,
    /// Entries (or elements) set aside, by reason.
    pub set_aside: BTreeMap<SetAsideReason, u64>,
    /// `authorizationInfo[]` elements without `granted` in calls that were not refused
    /// (status other than 7): counted as used, since the call went through.
    pub granted_unstated: u64,
    /// `authorizationInfo[]` elements with `granted: true` in calls refused with status 7
    /// because of another permission: counted as used (IAM granted them and the call needs
    /// them).
    pub granted_in_refused_calls: u64,
}

impl Coverage {
    /// Whether any Data Access entry was read in the window. Without them, data-plane and
    /// metadata-read permissions are unobservable, not unused
    /// (<https://cloud.google.com/logging/docs/audit#data-access>).
    pub fn data_access_present(&self) -> bool {
        self.log_types
            .get(&LogType::DataAccess)
            .is_some_and(|count| *count > 0)
    }
}

/// Usage read from Cloud Audit Logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditLogUsage {
    /// Per identity × permission × resource: allowed and denied counts, times, CI workloads
    /// and source files.
    pub usage: Usage,
    pub coverage: Coverage,
    /// Impersonation chains seen, sorted.
    pub delegations: Vec<Delegation>,
    /// Per service-account key name as logged: the entries in the window that authenticated
    /// with it.
    pub key_use: BTreeMap<String, KeyUse>,
}

impl AuditLogUsage {
    /// The use of the key `key_id` (or of a full key name), summed over the names it was
    /// logged under (the project may be written as an id, a number or `-`); `None` when no
    /// entry in the window used it.
    pub fn key_use_of(&self, key: &str) -> Option<KeyUse> {
        let wanted = key_id(key);
        self.key_use
            .iter()
            .filter(|(name, _)| key_id(name) == wanted)
            .map(|(_, found)| *found)
            .reduce(|a, b| KeyUse {
                calls: a.calls + b.calls,
                first: a.first.min(b.first),
                last: a.last.max(b.last),
            })
    }
}
