//! The audit of AWS identities: for each identity of a normalized inventory, what it is
//! granted, what it used in the observation window, what it did not use, what the logs could
//! not show, which calls were denied — and the proven minimized policy.
//!
//! The granted/used/unused split is not computed here: it is read off the decisions of
//! [`minimize`], so the table a reviewer reads and the policy they apply come from one engine
//! and cannot disagree. Pure: the window is an argument, output is sorted.

use super::cloudtrail::CloudTrailUsage;
use super::coverage::{CoverageFacts, CoverageTable, EventClass};
use super::grant::{AwsAttachment, AwsPolicyGrant};
use super::minimize::{
    MinimizeError, MinimizeInput, MinimizeOptions, Minimized, PolicyInput, Reason, minimize,
};
use super::normalize::{NormalizeIssue, NormalizedAws};
use crate::catalog::Catalog;
use crate::model::{GrantBody, Identity, IdentityId, IdentityKind, Trust};
use crate::model::{ObservationWindow, Usage, UsageKey, UsageRecord};
use chrono::{DateTime, Utc};
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use std::collections::{BTreeMap, BTreeSet};

/// What the audit found for one identity.
#[derive(Debug)]
pub struct IdentityAudit {
    pub identity: Identity,
    pub trusts: Vec<Trust>,
    /// When IAM last saw the identity used, from the inventory.
    pub last_used: Option<DateTime<Utc>>,
    /// A policy of the identity could not be read: grants are a lower bound.
    pub incomplete: bool,
    /// The minimization, or why there is none (`None`: no usage was ingested).
    pub minimized: Option<Result<Minimized, MinimizeError>>,
    pub counts: Counts,
}

/// The identity's actions by what the evidence says about them (the neutral counts).
pub use crate::analysis::Counts;

/// The audit of every AWS identity in an inventory.
#[derive(Debug)]
pub struct Audit {
    pub window: ObservationWindow,
    pub identities: Vec<IdentityAudit>,
    /// What the ingested logs could show, shared by every identity.
    pub coverage: Option<CoverageFacts>,
    /// Usage by principals that are not in the inventory (another account, a deleted role).
    pub usage_of_unknown_identities: Vec<String>,
    /// Accounts of the inventory whose logs were not among those read: the use of their
    /// identities is unknown, so they are not minimized.
    pub accounts_without_logs: Vec<String>,
    pub normalize_issues: Vec<NormalizeIssue>,
}

/// (account, `role`/`user`, name): how CloudTrail and the inventory agree on an identity.
/// CloudTrail may write a role ARN with or without its path; names are unique per account.
type IdentityKey = (String, &'static str, String);

fn identity_key(arn: &str) -> Option<IdentityKey> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "iam" {
        return None;
    }
    let (kind, path_and_name) = if let Some(rest) = resource.strip_prefix("role/") {
        ("role", rest)
    } else if let Some(rest) = resource.strip_prefix("user/") {
        ("user", rest)
    } else {
        return None;
    };
    let name = path_and_name.rsplit('/').next()?;
    Some((account.to_string(), kind, name.to_string()))
}

/// What the ingested logs could show. Data events count as ingested for a service when any
/// data-event call of that service is in the logs (a trail's data-event selectors may still
/// cover only some of its resources; the coverage note says so).
pub fn coverage_facts(usage: &CloudTrailUsage, window: ObservationWindow) -> CoverageFacts {
    let table = CoverageTable::aws().ok();
    let mut data_event_services = BTreeSet::new();
    let mut read_events_included = false;
    let catalog = Catalog::aws().ok();
    for (key, _, _) in usage.records() {
        let action = key.permission.action.to_ascii_lowercase();
        if let Some(table) = table
            && table.class(&action) == EventClass::Data
            && let Some((service, _)) = action.split_once(':')
        {
            data_event_services.insert(service.to_string());
        }
        if let Some(entry) = catalog.and_then(|catalog| catalog.action(&key.permission.action))
            && matches!(
                entry.access_level,
                crate::catalog::AccessLevel::Read | crate::catalog::AccessLevel::List
            )
            && table.is_some_and(|table| table.class(&action) == EventClass::Management)
        {
            read_events_included = true;
        }
    }
    // CloudTrail delivers logs in day folders, so the logs cover whole days: from the start of
    // the first event's day to the end of the last event's day (clipped to the window).
    let day_start = |time: DateTime<Utc>| {
        time.date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|midnight| midnight.and_utc())
            .unwrap_or(time)
    };
    let since = usage
        .coverage
        .first_event
        .map(|first| day_start(first).max(window.since))
        .unwrap_or(window.since);
    let until = usage
        .coverage
        .last_event
        .map(|last| (day_start(last) + chrono::Duration::days(1)).min(window.until))
        .unwrap_or(window.since);
    CoverageFacts {
        since,
        until,
        data_event_services,
        read_events_included,
        // The CloudTrail reader infers these from the requests that need them.
        inferred_actions: ["iam:passrole".to_string()].into_iter().collect(),
        skipped_files: usage.coverage.sources_skipped.clone(),
    }
}

/// The CloudTrail records of every identity, keyed as [`identity_key`] does, each with whether
/// its calls were denied. Borrowed: a record is copied only when its identity is minimized
/// ([`identity_usage`]).
type RecordsByIdentity<'u> = BTreeMap<IdentityKey, IdentityRecords<'u>>;

/// CloudTrail records of one identity, each with whether its calls were denied.
type IdentityRecords<'u> = Vec<(&'u UsageKey, &'u UsageRecord, bool)>;

fn records_by_identity(usage: &CloudTrailUsage) -> RecordsByIdentity<'_> {
    let mut records: RecordsByIdentity<'_> = BTreeMap::new();
    for (key, record, denied) in usage.records() {
        if let Some(identity) = identity_key(key.identity.native()) {
            records
                .entry(identity)
                .or_default()
                .push((key, record, denied));
        }
    }
    records
}

/// The neutral usage of `identity` from its CloudTrail records, keyed by `identity` whatever
/// role path CloudTrail wrote: one record per (action, resource), allowed calls (logged and
/// inferred) in `count`, refused ones in `denied_count`, as [`CloudTrailUsage::to_usage`]
/// merges them.
fn identity_usage(identity: &IdentityId, records: &[(&UsageKey, &UsageRecord, bool)]) -> Usage {
    let mut usage = Usage::new();
    for &(key, record, denied) in records {
        let record = if denied {
            record.clone().into_refused()
        } else {
            record.clone()
        };
        let key = UsageKey {
            identity: identity.clone(),
            permission: key.permission.clone(),
            resource: key.resource.clone(),
        };
        usage.add_record(key, record);
    }
    usage
}

/// The usage of one identity (matched by account and name, whatever the role path), keyed by
/// `identity`.
pub fn usage_of(usage: &CloudTrailUsage, identity: &IdentityId) -> Usage {
    let Some(wanted) = identity_key(identity.native()) else {
        return Usage::new();
    };
    let records: IdentityRecords<'_> = usage
        .records()
        .filter(|(key, _, _)| identity_key(key.identity.native()).as_ref() == Some(&wanted))
        .collect();
    identity_usage(identity, &records)
}

/// The minimization input of one identity: its policies from the inventory, its usage (the
/// identity's records only, as [`usage_of`] gives them).
pub fn minimize_input(
    normalized: &NormalizedAws,
    identity: &IdentityId,
    usage: Usage,
    coverage: CoverageFacts,
    window: ObservationWindow,
) -> MinimizeInput {
    let mut identity_policies = Vec::new();
    let mut boundary = None;
    let mut scps: Vec<Vec<PolicyInput>> = Vec::new();
    for grant in normalized.inventory.grants_for(identity) {
        let GrantBody::Aws(AwsPolicyGrant {
            policy,
            attachment,
            document,
        }) = &grant.body
        else {
            continue;
        };
        let input = PolicyInput::new(policy.clone(), document.clone());
        match attachment {
            AwsAttachment::Identity => identity_policies.push(input),
            AwsAttachment::PermissionsBoundary => boundary = Some(input),
            AwsAttachment::ServiceControl { level } => {
                if scps.len() <= *level {
                    scps.resize_with(level + 1, Vec::new);
                }
                scps[*level].push(input);
            }
        }
    }
    MinimizeInput {
        principal_arn: identity.native().to_string(),
        identity_policies,
        boundary,
        scps,
        usage,
        coverage,
        window,
    }
}

fn counts(minimized: &Minimized) -> Counts {
    let mut counts = Counts {
        denied: minimized
            .missing_permissions
            .iter()
            .map(|missing| missing.action.to_ascii_lowercase())
            .collect::<BTreeSet<_>>()
            .len(),
        ..Counts::default()
    };
    for decision in &minimized.decisions {
        if decision.granted_by.is_empty() {
            continue;
        }
        counts.granted += 1;
        if decision
            .reasons
            .iter()
            .any(|reason| matches!(reason, Reason::Used(_) | Reason::ResourceNotRecorded))
        {
            counts.used += 1;
        } else if decision.reasons.iter().any(|reason| {
            matches!(
                reason,
                Reason::Unobservable { .. }
                    | Reason::UnobservableDropped { .. }
                    | Reason::NotInCatalog
            )
        }) {
            counts.unobservable += 1;
        } else if decision.reasons.contains(&Reason::Unused) {
            counts.unused += 1;
        }
    }
    for group in &minimized.unused {
        counts.granted += group.count;
        counts.unused += group.count;
    }
    counts
}

/// Audits every AWS identity. Without `usage`, nothing is known about use: only the
/// inventory is reported, and nothing is minimized.
pub fn audit(
    normalized: &NormalizedAws,
    usage: Option<&CloudTrailUsage>,
    window: ObservationWindow,
    catalog: &Catalog,
    options: &MinimizeOptions,
) -> Audit {
    let coverage = usage.map(|usage| coverage_facts(usage, window));
    let mut records = usage.map(records_by_identity).unwrap_or_default();
    // Records are handed out first, so that what is left over is the usage of identities the
    // inventory does not hold; then identities are minimized in parallel, each on its own.
    let work: Vec<(&IdentityId, &Identity, IdentityRecords<'_>)> = normalized
        .inventory
        .identities
        .iter()
        .filter(|(_, identity)| {
            identity.kind == IdentityKind::AwsRole || identity.kind == IdentityKind::AwsUser
        })
        .map(|(id, identity)| {
            let identity_records = identity_key(id.native())
                .and_then(|key| records.remove(&key))
                .unwrap_or_default();
            (id, identity, identity_records)
        })
        .collect();
    let identities: Vec<IdentityAudit> = work
        .into_par_iter()
        .map(|(id, identity, identity_records)| {
            // No call by an identity means no use only if its account's logs were read.
            let logged = usage.is_some_and(|usage| usage.covers_account(&identity.container));
            let minimized = coverage.as_ref().filter(|_| logged).map(|coverage| {
                let input = minimize_input(
                    normalized,
                    id,
                    identity_usage(id, &identity_records),
                    coverage.clone(),
                    window,
                );
                minimize(&input, catalog, options)
            });
            let counts = match &minimized {
                Some(Ok(result)) => counts(result),
                _ => Counts::default(),
            };
            IdentityAudit {
                identity: identity.clone(),
                trusts: normalized
                    .inventory
                    .trusts
                    .get(id)
                    .cloned()
                    .unwrap_or_default(),
                last_used: normalized.last_used.get(id).copied(),
                incomplete: normalized.incomplete.contains(id),
                minimized,
                counts,
            }
        })
        .collect();
    let usage_of_unknown_identities = records
        .into_keys()
        .map(|(account, kind, name)| format!("arn:aws:iam::{account}:{kind}/{name}"))
        .collect();
    let accounts_without_logs = usage
        .map(|usage| {
            identities
                .iter()
                .map(|audit| audit.identity.container.as_str())
                .filter(|account| !usage.covers_account(account))
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default();
    Audit {
        window,
        accounts_without_logs,
        identities,
        coverage,
        usage_of_unknown_identities,
        normalize_issues: normalized.issues.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::cloudtrail::workload_of_host;
    use crate::aws::minimize::workload_label;
    use crate::model::Provider;

    fn row(
        arn: &str,
        action: &str,
        logged: u64,
        inferred: u64,
        hour: i64,
    ) -> (UsageKey, UsageRecord) {
        let time = DateTime::from_timestamp(1_790_000_000 + hour * 3600, 0).unwrap();
        let key = UsageKey::new(Provider::Aws, arn, action, "arn:aws:s3:::artifacts/app.tgz");
        let record = UsageRecord {
            count: logged + inferred,
            inferred,
            denied_count: 0,
            first_seen: time,
            last_seen: time,
            workloads: [workload_of_host(
                "token.actions.githubusercontent.com",
                &format!("repo:acme/web:ref:refs/heads/h{hour}"),
            )]
            .into(),
            unlinked_calls: 0,
            sources: BTreeSet::new(),
            evidence: BTreeSet::new(),
        };
        (key, record)
    }

    #[test]
    fn usage_of_a_role_is_keyed_by_its_inventory_arn_whatever_path_cloudtrail_wrote() {
        let inventory_arn = "arn:aws:iam::210987654321:role/ci/gha-deploy-web";
        let usage = CloudTrailUsage {
            allowed: Usage::from_iter([
                row(
                    "arn:aws:iam::210987654321:role/gha-deploy-web",
                    "s3:GetObject",
                    3,
                    1,
                    1,
                ),
                row(inventory_arn, "s3:GetObject", 2, 0, 5),
                row(
                    "arn:aws:iam::210987654321:role/other",
                    "s3:GetObject",
                    9,
                    0,
                    2,
                ),
            ]),
            denied: Usage::from_iter([row(inventory_arn, "s3:GetObject", 4, 0, 7)]),
            ..CloudTrailUsage::default()
        };
        let identity = IdentityId::new(Provider::Aws, inventory_arn);
        let records: Vec<_> = usage_of(&usage, &identity).into_iter().collect();
        assert_eq!(records.len(), 1);
        let (key, record) = &records[0];
        assert_eq!(key.identity, identity);
        assert_eq!(key.permission.to_string(), "aws:s3:GetObject");
        assert_eq!(
            (record.count, record.inferred, record.denied_count),
            (6, 1, 4)
        );
        assert_eq!(
            record.last_seen - record.first_seen,
            chrono::Duration::hours(6)
        );
        // Workloads print as they did before the neutral records: `<issuer host>:<subject>`.
        let labels: Vec<String> = record.workloads.iter().map(workload_label).collect();
        assert_eq!(
            labels,
            [1, 5, 7].map(|hour| format!(
                "token.actions.githubusercontent.com:repo:acme/web:ref:refs/heads/h{hour}"
            ))
        );
        assert!(
            usage_of(
                &usage,
                &IdentityId::new(Provider::Aws, "arn:aws:iam::210987654321:role/absent")
            )
            .is_empty()
        );
    }

    #[test]
    fn identity_key_ignores_the_role_path() {
        assert_eq!(
            identity_key("arn:aws:iam::210987654321:role/ci/gha-deploy-web"),
            identity_key("arn:aws:iam::210987654321:role/gha-deploy-web")
        );
        assert_eq!(
            identity_key("arn:aws:iam::1:user/ci/legacy"),
            Some(("1".to_string(), "user", "legacy".to_string()))
        );
        assert_eq!(identity_key("arn:aws:s3:::bucket"), None);
        assert_ne!(
            identity_key("arn:aws:iam::1:role/a"),
            identity_key("arn:aws:iam::2:role/a")
        );
    }
}
