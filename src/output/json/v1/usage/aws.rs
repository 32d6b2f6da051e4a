//! `pipeleash usage --cloudtrail … --format json` (and `usage --snapshot` of a snapshot that
//! holds CloudTrail usage): what each AWS identity used and was denied, the web identity
//! sessions, access keys and instance profiles seen, and what could not be read.

use super::super::common::{ReadWindowView, SkippedView};
use crate::aws::cloudtrail::{CloudTrailUsage, PrincipalKind, federated_provider};
use crate::model::Usage;
use crate::output::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `--format json` shape of `pipeleash usage --cloudtrail` (`version: 1`).
#[derive(Debug, Serialize)]
pub struct UsageView {
    pub version: u32,
    pub window: ReadWindowView,
    pub coverage: CoverageView,
    pub identities: Vec<IdentityView>,
    pub web_identity_sessions: Vec<SessionView>,
    pub instance_profile_passes: Vec<ProfilePassView>,
    pub access_keys: Vec<AccessKeyView>,
    pub unknown_events: Vec<UnknownView>,
    pub set_aside: BTreeMap<&'static str, u64>,
    pub no_action_events: u64,
}

#[derive(Debug, Serialize)]
pub struct CoverageView {
    pub files_read: u64,
    pub files_skipped: Vec<SkippedView>,
    pub events_read: u64,
    pub events_in_window: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Events in the window by the account whose trail logged them.
    pub accounts: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct IdentityView {
    pub identity: String,
    pub kind: &'static str,
    pub used: Vec<ActionView>,
    pub denied: Vec<ActionView>,
}

#[derive(Debug, Serialize)]
pub struct ActionView {
    pub action: String,
    pub count: u64,
    pub inferred: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub resources: Vec<ResourceView>,
    pub workloads: Vec<WorkloadView>,
    pub unlinked_session_calls: u64,
    /// How the calls reached AWS or why the permission was needed, when not simply logged as
    /// the identity's own calls (`via cloudformation.amazonaws.com`, `implied by PutObject
    /// x-amz-acl`), sorted.
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ResourceView {
    pub resource: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadView {
    pub issuer: String,
    pub subject: String,
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub role: String,
    pub issuer: String,
    pub subject: String,
    pub outcome: &'static str,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// Calls an IAM user signed with one access key.
#[derive(Debug, Serialize)]
pub struct AccessKeyView {
    pub user: String,
    pub access_key_id: String,
    pub calls: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct ProfilePassView {
    pub identity: String,
    pub instance_profile: String,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct UnknownView {
    pub event_source: String,
    pub event_name: String,
    pub count: u64,
}

impl UsageView {
    /// Builds the view; rows arrive sorted, and grouping keeps that order.
    pub fn new(usage: &CloudTrailUsage) -> UsageView {
        let mut identities: BTreeMap<&str, IdentityView> = BTreeMap::new();
        for (rows, denied) in [(&usage.allowed, false), (&usage.denied, true)] {
            for (identity, actions) in group(rows) {
                let entry = identities
                    .entry(identity.0)
                    .or_insert_with(|| IdentityView {
                        identity: identity.0.to_owned(),
                        kind: identity.1,
                        used: Vec::new(),
                        denied: Vec::new(),
                    });
                if denied {
                    entry.denied = actions;
                } else {
                    entry.used = actions;
                }
            }
        }
        UsageView {
            version: 1,
            window: ReadWindowView {
                since: usage.window.since.map(rfc3339),
                until: usage.window.until.map(rfc3339),
            },
            coverage: CoverageView {
                files_read: usage.coverage.sources_read,
                files_skipped: usage
                    .coverage
                    .sources_skipped
                    .iter()
                    .map(|file| SkippedView {
                        file: file.source.clone(),
                        reason: file.reason.clone(),
                    })
                    .collect(),
                events_read: usage.coverage.events_read,
                events_in_window: usage.coverage.events_in_window,
                first_event: usage.coverage.first_event.map(rfc3339),
                last_event: usage.coverage.last_event.map(rfc3339),
                accounts: usage.coverage.containers.clone(),
            },
            identities: identities.into_values().collect(),
            web_identity_sessions: usage
                .web_identity_sessions
                .iter()
                .map(|session| SessionView {
                    role: session.role.clone(),
                    issuer: federated_provider(&session.workload).to_owned(),
                    subject: session.workload.subject.clone(),
                    outcome: session.outcome.as_str(),
                    count: session.count,
                    first_seen: rfc3339(session.first_seen),
                    last_seen: rfc3339(session.last_seen),
                })
                .collect(),
            instance_profile_passes: usage
                .instance_profile_passes
                .iter()
                .map(|pass| ProfilePassView {
                    identity: pass.identity.clone(),
                    instance_profile: pass.instance_profile.clone(),
                    count: pass.count,
                })
                .collect(),
            access_keys: usage
                .access_keys
                .iter()
                .map(|key| AccessKeyView {
                    user: key.user_arn.clone(),
                    access_key_id: key.access_key_id.clone(),
                    calls: key.calls,
                    first_seen: rfc3339(key.first_seen),
                    last_seen: rfc3339(key.last_seen),
                })
                .collect(),
            unknown_events: usage
                .unknown_events
                .iter()
                .map(|event| UnknownView {
                    event_source: event.event_source.clone(),
                    event_name: event.event_name.clone(),
                    count: event.count,
                })
                .collect(),
            set_aside: usage
                .set_aside
                .iter()
                .map(|(reason, count)| (reason.as_str(), *count))
                .collect(),
            no_action_events: usage.no_action_events,
        }
    }
}

/// Groups the records (sorted by identity, action, resource) by identity, then by action,
/// collecting resources and workloads.
fn group(usage: &Usage) -> Vec<((&str, &'static str), Vec<ActionView>)> {
    let mut grouped: Vec<((&str, &'static str), Vec<ActionView>)> = Vec::new();
    for (key, row) in usage.iter() {
        let arn = key.identity.native();
        let identity = (arn, PrincipalKind::of_arn(arn).as_str());
        if grouped.last().is_none_or(|(last, _)| last.0 != identity.0) {
            grouped.push((identity, Vec::new()));
        }
        let Some((_, actions)) = grouped.last_mut() else {
            continue;
        };
        let name = &key.permission.action;
        if actions.last().is_none_or(|last| &last.action != name) {
            actions.push(ActionView {
                action: name.clone(),
                count: 0,
                inferred: 0,
                first_seen: rfc3339(row.first_seen),
                last_seen: rfc3339(row.last_seen),
                resources: Vec::new(),
                workloads: Vec::new(),
                unlinked_session_calls: 0,
                evidence: Vec::new(),
            });
        }
        let Some(action) = actions.last_mut() else {
            continue;
        };
        action.count += row.count;
        action.inferred += row.inferred;
        action.unlinked_session_calls += row.unlinked_calls;
        // RFC 3339 UTC strings of one format compare like the times they spell.
        action.first_seen = action.first_seen.clone().min(rfc3339(row.first_seen));
        action.last_seen = action.last_seen.clone().max(rfc3339(row.last_seen));
        action.resources.push(ResourceView {
            resource: key.resource.clone(),
            count: row.count,
        });
        for workload in &row.workloads {
            let view = WorkloadView {
                issuer: federated_provider(workload).to_owned(),
                subject: workload.subject.clone(),
            };
            if let Err(position) = action.workloads.binary_search(&view) {
                action.workloads.insert(position, view);
            }
        }
        for evidence in &row.evidence {
            if let Err(position) = action.evidence.binary_search(evidence) {
                action.evidence.insert(position, evidence.clone());
            }
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::cloudtrail::workload_of_host;
    use crate::model::{Provider, UsageKey, UsageRecord};
    use chrono::DateTime;
    use std::collections::BTreeSet;

    #[test]
    fn workloads_print_by_issuer_host_not_by_ci_system() {
        // The model's workload set puts GitHub before GitLab (its CI system order); this view
        // has always listed workloads by issuer host, where `gitlab.com` comes first.
        let time = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let github = workload_of_host("token.actions.githubusercontent.com", "repo:a/b:ref:x");
        let gitlab = workload_of_host("gitlab.com", "project_path:a/b:ref_type:branch:ref:x");
        let record = UsageRecord {
            count: 2,
            inferred: 0,
            denied_count: 0,
            first_seen: time,
            last_seen: time,
            workloads: BTreeSet::from([github.clone(), gitlab]),
            unlinked_calls: 0,
            sources: BTreeSet::new(),
            evidence: BTreeSet::new(),
        };
        assert_eq!(record.workloads.iter().next(), Some(&github));
        let key = UsageKey::new(Provider::Aws, "arn:aws:iam::1:role/ci", "s3:GetObject", "*");
        let usage = CloudTrailUsage {
            allowed: Usage::from_iter([(key, record)]),
            ..CloudTrailUsage::default()
        };
        let view = UsageView::new(&usage);
        let issuers: Vec<&str> = view.identities[0].used[0]
            .workloads
            .iter()
            .map(|workload| workload.issuer.as_str())
            .collect();
        assert_eq!(
            issuers,
            ["gitlab.com", "token.actions.githubusercontent.com"]
        );
        assert_eq!(view.identities[0].kind, "role");
    }
}
