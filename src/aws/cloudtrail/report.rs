//! What CloudTrail ingestion returns: aggregated, sorted usage with its evidence and an honest
//! account of what was not read. These are internal result types; the CLI renders them
//! through its own versioned view, and the neutral model maps them at merge time.

use super::time::TimeWindow;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Everything learnt from a set of CloudTrail log files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudTrailUsage {
    /// The window that was asked for.
    pub window: TimeWindow,
    /// Calls that were allowed (including calls that failed for reasons other than
    /// authorization, which still prove the permission was used), plus inferred permissions.
    pub allowed: Vec<UsageRow>,
    /// Calls refused for lack of permission: evidence of a missing grant, not of use.
    pub denied: Vec<UsageRow>,
    /// `AssumeRoleWithWebIdentity` calls: which CI workload became which role.
    pub web_identity_sessions: Vec<WebIdentitySession>,
    /// `RunInstances` calls that passed an instance profile: `iam:PassRole` is needed on the
    /// profile's role, which the log does not name (resolve it with the inventory).
    pub instance_profile_passes: Vec<InstanceProfilePass>,
    /// The access keys that signed IAM users' calls, per user: which of a user's keys is in
    /// use, and which the logs never show.
    pub access_keys: Vec<AccessKeyUse>,
    /// Events that neither the table nor the default rule could map, by source and name.
    pub unknown_events: Vec<UnknownEvent>,
    /// Events deliberately not attributed to an identity, by reason.
    pub set_aside: BTreeMap<SetAsideReason, u64>,
    /// Attributed events that need no IAM action (`sts:GetCallerIdentity`, sign-in).
    pub no_action_events: u64,
    /// What was read and what is missing.
    pub coverage: Coverage,
}

impl CloudTrailUsage {
    /// Whether logs of `account` were read (events of it in the window), so that no call by
    /// its identities means no use. True when the records named no account at all.
    pub fn covers_account(&self, account: &str) -> bool {
        self.coverage.accounts.is_empty() || self.coverage.accounts.contains_key(account)
    }
}

/// What the result is based on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub files_read: u64,
    /// Files (or folders) that could not be read, with the reason: evidence is missing there.
    pub files_skipped: Vec<SkippedFile>,
    /// Records found in the files read.
    pub events_read: u64,
    /// Records whose `eventTime` falls inside the window.
    pub events_in_window: u64,
    /// Earliest and latest `eventTime` inside the window.
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    /// Events in the window by the account whose trail logged them (`recipientAccountId`).
    /// An account missing here had no logs read: the use of its identities is unknown.
    /// Empty when the records name no account (then nothing is known per account).
    pub accounts: BTreeMap<String, u64>,
}

/// A log file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// The principal a call is charged to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// `arn:aws:iam::<account>:role/<path><name>`, `…:user/…`, `…:root`, or a federated user.
    pub arn: String,
    pub kind: IdentityKind,
}

/// The kind of principal, read from its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKind {
    Role,
    User,
    Root,
    FederatedUser,
}

impl IdentityKind {
    /// Reads the kind from an ARN produced by attribution.
    pub fn of_arn(arn: &str) -> IdentityKind {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
        if resource == "root" {
            IdentityKind::Root
        } else if resource.starts_with("user/") {
            IdentityKind::User
        } else if resource.starts_with("federated-user/") {
            IdentityKind::FederatedUser
        } else {
            IdentityKind::Role
        }
    }

    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Role => "role",
            IdentityKind::User => "user",
            IdentityKind::Root => "root",
            IdentityKind::FederatedUser => "federated-user",
        }
    }
}

/// A CI workload: the OIDC issuer and the token subject it presented.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CiWorkload {
    /// The issuer host and path, e.g. `token.actions.githubusercontent.com`.
    pub issuer: String,
    /// The `sub` claim, e.g. `repo:acme/web:ref:refs/heads/main`.
    pub subject: String,
}

/// One (identity, action, resource) with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    pub identity: Identity,
    /// The IAM action, e.g. `s3:GetObject`.
    pub action: String,
    /// The resource ARN, or `*` when the record does not name one.
    pub resource: String,
    /// Calls logged with this action.
    pub logged: u64,
    /// Calls that needed this action without logging it (`iam:PassRole`, a copy source).
    pub inferred: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The CI workloads whose sessions made these calls (empty when none could be linked).
    pub workloads: BTreeSet<CiWorkload>,
    /// Calls made with temporary credentials that could not be linked to a workload.
    pub unlinked_session_calls: u64,
}

impl UsageRow {
    /// All calls that support this row.
    pub fn count(&self) -> u64 {
        self.logged + self.inferred
    }
}

/// Whether a call got through authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Allowed,
    Denied,
}

/// A CI workload assuming a role through web identity federation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentitySession {
    pub role: String,
    pub workload: CiWorkload,
    pub outcome: Outcome,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// An instance profile passed by an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfilePass {
    pub identity: Identity,
    /// The profile ARN or name as written in the request.
    pub instance_profile: String,
    pub count: u64,
}

/// Calls an IAM user signed with one access key (`userIdentity.accessKeyId`), allowed or
/// denied: either way the key is live. A key id starting `ASIA` is a temporary key from
/// `GetSessionToken`, which does not say which long-term key asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyUse {
    pub user_arn: String,
    pub access_key_id: String,
    pub calls: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl AccessKeyUse {
    /// Whether the key is a temporary one (`GetSessionToken`), not one of the user's own.
    pub fn is_temporary(&self) -> bool {
        self.access_key_id.starts_with("ASIA")
    }
}

/// An event nobody knows how to map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnknownEvent {
    pub event_source: String,
    pub event_name: String,
    pub count: u64,
}

/// Why an event was not charged to any identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetAsideReason {
    /// `eventType: AwsServiceEvent`: AWS acting on its own.
    AwsServiceEvent,
    /// `userIdentity.type: AWSService`.
    AwsService,
    /// A session of a service-linked role (`role/aws-service-role/…`).
    ServiceLinkedRole,
    /// A service called on the principal's behalf (`invokedBy`), other than KMS.
    InvokedByService,
    /// A principal of another account (`AWSAccount`).
    OtherAccount,
    /// An identity type that is not an IAM principal (`IdentityCenterUser`, `Unknown`, …).
    OtherIdentityType,
    /// The request failed authentication (expired token, bad signature) before any
    /// authorization happened.
    Unauthenticated,
    /// The record lacks `eventTime`, `eventSource`, `eventName` or `userIdentity`.
    MissingFields,
}

impl SetAsideReason {
    /// Every reason, in output order.
    pub const ALL: [SetAsideReason; 8] = [
        SetAsideReason::AwsServiceEvent,
        SetAsideReason::AwsService,
        SetAsideReason::ServiceLinkedRole,
        SetAsideReason::InvokedByService,
        SetAsideReason::OtherAccount,
        SetAsideReason::OtherIdentityType,
        SetAsideReason::Unauthenticated,
        SetAsideReason::MissingFields,
    ];

    /// The kebab-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            SetAsideReason::AwsServiceEvent => "aws-service-event",
            SetAsideReason::AwsService => "aws-service",
            SetAsideReason::ServiceLinkedRole => "service-linked-role",
            SetAsideReason::InvokedByService => "invoked-by-service",
            SetAsideReason::OtherAccount => "other-account",
            SetAsideReason::OtherIdentityType => "other-identity-type",
            SetAsideReason::Unauthenticated => "unauthenticated",
            SetAsideReason::MissingFields => "missing-fields",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_kind_reads_the_arn() {
        assert_eq!(
            IdentityKind::of_arn("arn:aws:iam::1:role/path/ci"),
            IdentityKind::Role
        );
        assert_eq!(
            IdentityKind::of_arn("arn:aws:iam::1:user/alice"),
            IdentityKind::User
        );
        assert_eq!(
            IdentityKind::of_arn("arn:aws:iam::1:root"),
            IdentityKind::Root
        );
        assert_eq!(
            IdentityKind::of_arn("arn:aws:sts::1:federated-user/bob"),
            IdentityKind::FederatedUser
        );
    }
}
