//! What CloudTrail ingestion returns: aggregated, sorted usage with its evidence and an honest
//! account of what was not read. These are internal result types; the CLI renders them
//! through its own versioned view, and the neutral model maps them at merge time.

use super::time::TimeWindow;
use crate::model::{CiWorkload, Coverage, Outcome, Usage, UsageKey, UsageRecord};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Everything learnt from a set of CloudTrail log files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudTrailUsage {
    /// The window that was asked for.
    pub window: TimeWindow,
    /// Calls that were allowed (including calls that failed for reasons other than
    /// authorization, which still prove the permission was used), plus inferred permissions:
    /// one record per (identity `aws:<arn>`, permission `aws:<service>:<Action>`, resource ARN
    /// or `*`), its calls in `count` (with the inferred ones in `inferred`), no sources (the
    /// reader counts per key, not per file).
    pub allowed: Usage,
    /// Calls refused for lack of permission: evidence of a missing grant, not of use. Kept
    /// apart from `allowed` because each outcome has its own first/last seen and workloads:
    /// in these records `count` (and its `inferred` part) counts *refused* calls and
    /// `denied_count` is 0; [`CloudTrailUsage::to_usage`] moves them to `denied_count` when it
    /// merges the two.
    pub denied: Usage,
    /// `AssumeRoleWithWebIdentity` calls: which CI workload became which role.
    pub web_identity_sessions: Vec<WebIdentitySession>,
    /// Calls that passed an instance profile: `iam:PassRole` is needed on the profile's role,
    /// which the log does not name. Each is also an `iam:PassRole` record on the profile's ARN,
    /// which [`CloudTrailUsage::resolve_instance_profiles`] turns into a record on its role.
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
    /// Accounts and regions whose files lie under more than one trail's prefix: calls both
    /// trails delivered are counted twice (counts and first/last seen, not what was used).
    /// Found from the listing of a folder or an S3 prefix; not stored in snapshots.
    pub trail_overlaps: Vec<super::walk::TrailOverlap>,
}

impl CloudTrailUsage {
    /// Whether logs of `account` were read (events of it in the window), so that no call by
    /// its identities means no use. False for every account when no event at all fell in the
    /// window (logs of other dates are no evidence of idleness); true for every account when
    /// events in the window named no account at all.
    pub fn covers_account(&self, account: &str) -> bool {
        self.coverage.covers_container(account)
    }

    /// The allowed records, then the denied ones, each with whether it is denied.
    pub fn records(&self) -> impl Iterator<Item = (&UsageKey, &UsageRecord, bool)> {
        let allowed = self
            .allowed
            .iter()
            .map(|(key, record)| (key, record, false));
        let denied = self.denied.iter().map(|(key, record)| (key, record, true));
        allowed.chain(denied)
    }

    /// Puts the roles of passed instance profiles in place of the profiles: every
    /// `iam:PassRole` record on an instance profile ARN becomes one record per role the
    /// profile holds, as `roles_of` gives them by (account, profile name) — the inventory's
    /// view. A profile it does not list becomes `*`: its role is unknown, and a permission
    /// that was used must not be dropped. Records that land on one key are merged.
    pub fn resolve_instance_profiles(
        &mut self,
        roles_of: &BTreeMap<(String, String), Vec<String>>,
    ) {
        for usage in [&mut self.allowed, &mut self.denied] {
            if !usage.iter().any(|(key, _)| is_instance_profile_pass(key)) {
                continue;
            }
            let mut resolved = Usage::new();
            for (key, record) in std::mem::take(usage) {
                if !is_instance_profile_pass(&key) {
                    resolved.add_record(key, record);
                    continue;
                }
                let roles = profile_key(&key.resource)
                    .and_then(|profile| roles_of.get(&profile))
                    .filter(|roles| !roles.is_empty());
                match roles {
                    Some(roles) => {
                        for role in roles {
                            let mut record = record.clone();
                            record
                                .evidence
                                .insert(format!("role of instance profile {}", key.resource));
                            let key = UsageKey {
                                resource: role.clone(),
                                ..key.clone()
                            };
                            resolved.add_record(key, record);
                        }
                    }
                    None => {
                        let mut record = record;
                        record.evidence.insert(format!(
                            "instance profile {} is not in the inventory: its role is unknown",
                            key.resource
                        ));
                        let key = UsageKey {
                            resource: "*".to_owned(),
                            ..key
                        };
                        resolved.add_record(key, record);
                    }
                }
            }
            *usage = resolved;
        }
    }

    /// Allowed and refused calls as one provider-neutral usage: one record per (identity,
    /// action, resource), allowed calls (logged and inferred) in `count`, refused ones in
    /// `denied_count` (see [`UsageRecord::into_refused`]); first/last seen, workloads and
    /// evidence of both outcomes united.
    pub fn to_usage(&self) -> Usage {
        let mut usage = self.allowed.clone();
        for (key, record) in self.denied.iter() {
            usage.add_record(key.clone(), record.clone().into_refused());
        }
        usage
    }
}

/// The model's form of a CloudTrail workload: the issuer host CloudTrail names
/// (`webIdFederationData.federatedProvider`) becomes the issuer URL `https://<host>`.
pub fn workload_of_host(host: &str, subject: &str) -> CiWorkload {
    CiWorkload::new(&format!("https://{host}"), subject)
}

/// The issuer host of a workload, as CloudTrail names it and AWS outputs print it: the issuer
/// URL without its `https://` (the inverse of [`workload_of_host`]).
pub fn federated_provider(workload: &CiWorkload) -> &str {
    let url = &workload.issuer_url;
    url.strip_prefix("https://").unwrap_or(url)
}

fn is_instance_profile_pass(key: &UsageKey) -> bool {
    key.permission.action == "iam:PassRole" && key.resource.contains(":instance-profile/")
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

/// The kind of principal a call is charged to, read from its ARN (CloudTrail charges calls to
/// roles, users, the account root and federated users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalKind {
    Role,
    User,
    Root,
    FederatedUser,
}

impl PrincipalKind {
    /// Reads the kind from an ARN produced by attribution.
    pub fn of_arn(arn: &str) -> PrincipalKind {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
        if resource == "root" {
            PrincipalKind::Root
        } else if resource.starts_with("user/") {
            PrincipalKind::User
        } else if resource.starts_with("federated-user/") {
            PrincipalKind::FederatedUser
        } else {
            PrincipalKind::Role
        }
    }

    /// The lowercase name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Role => "role",
            PrincipalKind::User => "user",
            PrincipalKind::Root => "root",
            PrincipalKind::FederatedUser => "federated-user",
        }
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
    /// The ARN of the principal that passed the profile.
    pub identity: String,
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
    use crate::model::Provider;
    use std::collections::BTreeSet;

    fn pass(
        identity: &str,
        resource: &str,
        inferred: u64,
        evidence: &str,
    ) -> (UsageKey, UsageRecord) {
        let time = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let key = UsageKey::new(Provider::Aws, identity, "iam:PassRole", resource);
        let record = UsageRecord {
            count: inferred,
            inferred,
            denied_count: 0,
            first_seen: time,
            last_seen: time,
            workloads: BTreeSet::new(),
            unlinked_calls: 0,
            sources: BTreeSet::new(),
            evidence: [evidence.to_owned()].into(),
        };
        (key, record)
    }

    #[test]
    fn instance_profile_passes_resolve_to_their_roles_or_stay_broad() {
        let deploy = "arn:aws:iam::111122223333:role/gha-deploy";
        let runner = "arn:aws:iam::111122223333:role/runners/web-runner-role";
        let mut usage = CloudTrailUsage {
            allowed: Usage::from_iter([
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
            ]),
            ..CloudTrailUsage::default()
        };
        let roles: BTreeMap<(String, String), Vec<String>> = [(
            ("111122223333".to_owned(), "web-runner".to_owned()),
            vec![runner.to_owned()],
        )]
        .into();
        usage.resolve_instance_profiles(&roles);
        let records: Vec<(&UsageKey, &UsageRecord)> = usage.allowed.iter().collect();
        let rows: Vec<(&str, u64)> = records
            .iter()
            .map(|(key, record)| (key.resource.as_str(), record.inferred))
            .collect();
        // The resolved pass merges with the direct one; the unknown profile stays broad.
        assert_eq!(rows, vec![("*", 1), (runner, 3)]);
        assert!(records[1].1.evidence.contains(
            "role of instance profile arn:aws:iam::111122223333:instance-profile/ci/web-runner"
        ));
        assert!(
            records[1]
                .1
                .evidence
                .contains("implied by CreateStack roleARN")
        );
        assert!(
            records[0]
                .1
                .evidence
                .iter()
                .any(|evidence| evidence.contains("is not in the inventory"))
        );
    }

    #[test]
    fn allowed_and_refused_calls_merge_into_one_neutral_record() {
        let deploy = "arn:aws:iam::111122223333:role/gha-deploy";
        let (key, mut allowed) = pass(deploy, "arn:aws:iam::111122223333:role/app", 2, "implied");
        allowed.count += 3;
        allowed.workloads.insert(workload_of_host(
            "token.actions.githubusercontent.com",
            "repo:acme/web:ref:refs/heads/main",
        ));
        let (_, mut denied) = pass(deploy, "arn:aws:iam::111122223333:role/app", 0, "denied");
        denied.count = 1;
        let usage = CloudTrailUsage {
            allowed: Usage::from_iter([(key.clone(), allowed)]),
            denied: Usage::from_iter([(key, denied)]),
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
        assert_eq!(
            workload.issuer_url,
            "https://token.actions.githubusercontent.com"
        );
        assert_eq!(
            federated_provider(workload),
            "token.actions.githubusercontent.com"
        );
        assert_eq!(record.evidence.len(), 2);
    }

    #[test]
    fn principal_kind_reads_the_arn() {
        assert_eq!(
            PrincipalKind::of_arn("arn:aws:iam::1:role/path/ci"),
            PrincipalKind::Role
        );
        assert_eq!(
            PrincipalKind::of_arn("arn:aws:iam::1:user/alice"),
            PrincipalKind::User
        );
        assert_eq!(
            PrincipalKind::of_arn("arn:aws:iam::1:root"),
            PrincipalKind::Root
        );
        assert_eq!(
            PrincipalKind::of_arn("arn:aws:sts::1:federated-user/bob"),
            PrincipalKind::FederatedUser
        );
    }
}
