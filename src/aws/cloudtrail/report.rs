//! What CloudTrail ingestion returns: aggregated, sorted usage with its evidence and an honest
//! account of what was not read. These are internal result types; the CLI renders them
//! through its own versioned view, and the neutral model maps them at merge time.

use super::time::TimeWindow;
use crate::model::{
    Coverage, IdentityId, Outcome, Permission, Provider, Usage, UsageKey, UsageRecord,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

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
    /// Calls that passed an instance profile: `iam:PassRole` is needed on the profile's role,
    /// which the log does not name. Each is also an `iam:PassRole` row on the profile's ARN,
    /// which [`CloudTrailUsage::resolve_instance_profiles`] turns into a row on its role.
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
    /// its identities means no use. False for every account when no event at all fell in the
    /// window (logs of other dates are no evidence of idleness); true for every account when
    /// events in the window named no account at all.
    pub fn covers_account(&self, account: &str) -> bool {
        self.coverage.covers_container(account)
    }

    /// Puts the roles of passed instance profiles in place of the profiles: every
    /// `iam:PassRole` row on an instance profile ARN becomes one row per role the profile holds,
    /// as `roles_of` gives them by (account, profile name) — the inventory's view. A profile it
    /// does not list becomes `*`: its role is unknown, and a permission that was used must not
    /// be dropped. Rows that become equal are merged, and both lists stay sorted.
    pub fn resolve_instance_profiles(
        &mut self,
        roles_of: &BTreeMap<(String, String), Vec<String>>,
    ) {
        for rows in [&mut self.allowed, &mut self.denied] {
            if !rows.iter().any(is_instance_profile_pass) {
                continue;
            }
            let mut merged: BTreeMap<(String, String, String), UsageRow> = BTreeMap::new();
            for row in std::mem::take(rows) {
                let resolved = if is_instance_profile_pass(&row) {
                    let roles = profile_key(&row.resource)
                        .and_then(|key| roles_of.get(&key))
                        .filter(|roles| !roles.is_empty());
                    match roles {
                        Some(roles) => roles
                            .iter()
                            .map(|role| {
                                let mut resolved = row.clone();
                                resolved.resource = role.clone();
                                resolved
                                    .evidence
                                    .insert(format!("role of instance profile {}", row.resource));
                                resolved
                            })
                            .collect(),
                        None => {
                            let mut resolved = row.clone();
                            resolved.resource = "*".to_owned();
                            resolved.evidence.insert(format!(
                                "instance profile {} is not in the inventory: its role is unknown",
                                row.resource
                            ));
                            vec![resolved]
                        }
                    }
                } else {
                    vec![row]
                };
                for row in resolved {
                    let key = (
                        row.identity.arn.clone(),
                        row.action.clone(),
                        row.resource.clone(),
                    );
                    match merged.get_mut(&key) {
                        Some(existing) => existing.absorb(row),
                        None => {
                            merged.insert(key, row);
                        }
                    }
                }
            }
            *rows = merged.into_values().collect();
        }
    }
}

impl CloudTrailUsage {
    /// The rows as provider-neutral usage: one record per (identity, action, resource), with
    /// allowed calls (logged and inferred) in `count` and refused ones in `denied_count`.
    /// Identities are `aws:<arn>`, permissions `aws:<service>:<Action>`, workloads the CI
    /// workloads linked to the calls (issuer `https://<host>`). Records keep no sources: the
    /// CloudTrail reader counts per key, not per file.
    pub fn to_usage(&self) -> Usage {
        let mut usage = Usage::new();
        for (rows, denied) in [(&self.allowed, false), (&self.denied, true)] {
            for row in rows {
                let key = UsageKey {
                    identity: IdentityId::new(Provider::Aws, &row.identity.arn),
                    permission: Permission::new(Provider::Aws, row.action.clone()),
                    resource: row.resource.clone(),
                };
                let record = row.to_record(denied, neutral_workload);
                usage.add_record(key, record);
            }
        }
        usage
    }
}

/// The model's form of a CloudTrail workload: the issuer host becomes the issuer URL
/// `https://<host>`.
pub(crate) fn neutral_workload(workload: &CiWorkload) -> crate::model::CiWorkload {
    crate::model::CiWorkload::new(&format!("https://{}", workload.issuer), &workload.subject)
}

fn is_instance_profile_pass(row: &UsageRow) -> bool {
    row.action == "iam:PassRole" && row.resource.contains(":instance-profile/")
}

/// `arn:aws:iam::<account>:instance-profile/<path/><name>` → (account, name).
fn profile_key(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource
        .strip_prefix("instance-profile/")?
        .rsplit('/')
        .next()?;
    (service == "iam" && !name.is_empty()).then(|| (account.to_owned(), name.to_owned()))
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
    /// How the calls reached AWS or why the permission was needed, when not simply logged as
    /// the identity's own call: `via cloudformation.amazonaws.com` (a service used the
    /// identity's credentials), `implied by PutObject x-amz-acl` (a permission the request
    /// needed without an event of its own). Sorted.
    pub evidence: BTreeSet<String>,
}

impl UsageRow {
    /// All calls that support this row.
    pub fn count(&self) -> u64 {
        self.logged + self.inferred
    }

    /// The row as a neutral record (see [`CloudTrailUsage::to_usage`]): its calls in `count`
    /// (with `inferred`) or, for a `denied` row, in `denied_count`; no sources. `workload`
    /// gives the model's form of each workload ([`neutral_workload`], or a cached copy of it).
    pub(crate) fn to_record<'r>(
        &'r self,
        denied: bool,
        workload: impl FnMut(&'r CiWorkload) -> crate::model::CiWorkload,
    ) -> UsageRecord {
        let (count, inferred, denied_count) = if denied {
            (0, 0, self.count())
        } else {
            (self.count(), self.inferred, 0)
        };
        UsageRecord {
            count,
            inferred,
            denied_count,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            workloads: self.workloads.iter().map(workload).collect(),
            sources: BTreeSet::new(),
            evidence: self.evidence.clone(),
        }
    }

    /// Adds the calls of another row of the same identity, action and resource.
    fn absorb(&mut self, other: UsageRow) {
        self.logged += other.logged;
        self.inferred += other.inferred;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.workloads.extend(other.workloads);
        self.unlinked_session_calls += other.unlinked_session_calls;
        self.evidence.extend(other.evidence);
    }
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

/// Why an event was not charged to any identity. Each reason is a case in which AWS did not
/// evaluate the policies of an identity pipeleash analyzes, or in which the record cannot say
/// which identity it was (CloudTrail User Guide, "CloudTrail userIdentity element",
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetAsideReason {
    /// `eventType: AwsServiceEvent`: AWS acting on its own.
    AwsServiceEvent,
    /// `userIdentity.type: AWSService`: a service principal calling as itself.
    AwsService,
    /// A session of a service-linked role (`role/aws-service-role/…`), whose permissions AWS
    /// owns and no one can minimize.
    ServiceLinkedRole,
    /// `invokedBy` set on an identity that names no IAM principal (no `type`, or no ARN): a
    /// service calling as itself. A service using a principal's credentials (a service role's
    /// session, a forward access session) is charged to that principal instead.
    InvokedByService,
    /// A principal of another account (`AWSAccount`).
    OtherAccount,
    /// An identity type that is not an IAM principal (`IdentityCenterUser`, `Unknown`, …).
    OtherIdentityType,
    /// The request failed authentication (expired token, bad signature) before any
    /// authorization happened.
    Unauthenticated,
    /// `eventTime` is present but not a time: the record cannot be placed in or out of the
    /// window, so it is malformed rather than outside it.
    MalformedEventTime,
    /// The record lacks `eventTime`, `eventSource`, `eventName` or `userIdentity`.
    MissingFields,
}

impl SetAsideReason {
    /// Every reason, in output order.
    pub const ALL: [SetAsideReason; 9] = [
        SetAsideReason::AwsServiceEvent,
        SetAsideReason::AwsService,
        SetAsideReason::ServiceLinkedRole,
        SetAsideReason::InvokedByService,
        SetAsideReason::OtherAccount,
        SetAsideReason::OtherIdentityType,
        SetAsideReason::Unauthenticated,
        SetAsideReason::MalformedEventTime,
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
            SetAsideReason::MalformedEventTime => "malformed-event-time",
            SetAsideReason::MissingFields => "missing-fields",
        }
    }

    /// Whether the record may have been a call by an analyzed identity in the window: its
    /// evidence is missing rather than irrelevant, and reports must say so.
    pub fn is_missing_evidence(self) -> bool {
        matches!(
            self,
            SetAsideReason::MalformedEventTime | SetAsideReason::MissingFields
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(identity: &str, resource: &str, inferred: u64, evidence: &str) -> UsageRow {
        let time = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        UsageRow {
            identity: Identity {
                arn: identity.to_owned(),
                kind: IdentityKind::of_arn(identity),
            },
            action: "iam:PassRole".to_owned(),
            resource: resource.to_owned(),
            logged: 0,
            inferred,
            first_seen: time,
            last_seen: time,
            workloads: BTreeSet::new(),
            unlinked_session_calls: 0,
            evidence: [evidence.to_owned()].into(),
        }
    }

    #[test]
    fn instance_profile_passes_resolve_to_their_roles_or_stay_broad() {
        let deploy = "arn:aws:iam::111122223333:role/gha-deploy";
        let runner = "arn:aws:iam::111122223333:role/runners/web-runner-role";
        let mut usage = CloudTrailUsage {
            allowed: vec![
                pass(
                    deploy,
                    "arn:aws:iam::111122223333:instance-profile/ci/web-runner",
                    2,
                    "implied by RunInstances iamInstanceProfile.arn",
                ),
                pass(
                    deploy,
                    "arn:aws:iam::111122223333:instance-profile/gone",
                    1,
                    "implied by RunInstances iamInstanceProfile.name",
                ),
                pass(deploy, runner, 1, "implied by CreateStack roleARN"),
            ],
            ..CloudTrailUsage::default()
        };
        let roles: BTreeMap<(String, String), Vec<String>> = [(
            ("111122223333".to_owned(), "web-runner".to_owned()),
            vec![runner.to_owned()],
        )]
        .into();
        usage.resolve_instance_profiles(&roles);
        let rows: Vec<(&str, u64)> = usage
            .allowed
            .iter()
            .map(|row| (row.resource.as_str(), row.inferred))
            .collect();
        // The resolved pass merges with the direct one; the unknown profile stays broad.
        assert_eq!(rows, vec![("*", 1), (runner, 3)]);
        assert!(usage.allowed[1].evidence.contains(
            "role of instance profile arn:aws:iam::111122223333:instance-profile/ci/web-runner"
        ));
        assert!(
            usage.allowed[1]
                .evidence
                .contains("implied by CreateStack roleARN")
        );
        assert!(
            usage.allowed[0]
                .evidence
                .iter()
                .any(|evidence| evidence.contains("is not in the inventory"))
        );
    }

    #[test]
    fn cloudtrail_rows_become_neutral_usage_records() {
        let deploy = "arn:aws:iam::111122223333:role/gha-deploy";
        let mut allowed = pass(deploy, "arn:aws:iam::111122223333:role/app", 2, "implied");
        allowed.logged = 3;
        allowed.workloads.insert(CiWorkload {
            issuer: "token.actions.githubusercontent.com".to_owned(),
            subject: "repo:acme/web:ref:refs/heads/main".to_owned(),
        });
        let mut denied = pass(deploy, "arn:aws:iam::111122223333:role/app", 0, "denied");
        denied.logged = 1;
        let usage = CloudTrailUsage {
            allowed: vec![allowed],
            denied: vec![denied],
            ..CloudTrailUsage::default()
        }
        .to_usage();
        assert_eq!(usage.len(), 1);
        let (key, record) = usage.iter().next().unwrap();
        assert_eq!(key.identity.as_str(), format!("aws:{deploy}"));
        assert_eq!(key.permission.to_string(), "aws:iam:PassRole");
        assert_eq!(
            (record.count, record.inferred, record.denied_count),
            (5, 2, 1)
        );
        let workload = record.workloads.iter().next().unwrap();
        assert_eq!(workload.subject, "repo:acme/web:ref:refs/heads/main");
        assert_eq!(record.evidence.len(), 2);
    }

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
