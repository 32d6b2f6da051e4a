//! `pipeleash usage --gcp-audit-logs … --format json`: what each GCP principal used and was
//! denied, the delegations and service-account keys seen, and the coverage of the logs.

use super::super::common::{ReadWindowView, SkippedView};
use crate::gcp::audit_log::{AuditLogUsage, LogType, rule_for};
use crate::output::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `--format json` shape of `pipeleash usage --gcp-audit-logs` (`format_version: 1`).
#[derive(Debug, Serialize)]
pub struct UsageView {
    pub format_version: u32,
    pub source: &'static str,
    pub window: ReadWindowView,
    pub coverage: CoverageView,
    pub identities: Vec<IdentityView>,
    pub delegations: Vec<DelegationView>,
    /// Service-account keys that calls in the window authenticated with
    /// (`authenticationInfo.serviceAccountKeyName`); left out when none did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_account_keys: Vec<KeyUseView>,
}

#[derive(Debug, Serialize)]
pub struct KeyUseView {
    /// As logged: `//iam.googleapis.com/projects/P/serviceAccounts/SA/keys/KEY_ID`.
    pub key: String,
    pub calls: u64,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct CoverageView {
    pub files_read: u64,
    pub files_skipped: Vec<SkippedView>,
    pub entries_read: u64,
    pub entries_in_window: u64,
    pub first_entry: Option<String>,
    pub last_entry: Option<String>,
    /// Entries in the window per audit log.
    pub log_types: BTreeMap<&'static str, u64>,
    pub data_access_present: bool,
    pub data_access_services: Vec<String>,
    pub set_aside: BTreeMap<&'static str, u64>,
    pub granted_unstated: u64,
    pub granted_in_refused_calls: u64,
}

#[derive(Debug, Serialize)]
pub struct IdentityView {
    pub identity: String,
    pub used: Vec<PermissionView>,
    pub denied: Vec<PermissionView>,
}

#[derive(Debug, Serialize)]
pub struct PermissionView {
    pub permission: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub resources: Vec<ResourceView>,
    pub workloads: Vec<WorkloadView>,
    /// Distinct files the calls were read from.
    pub source_files: usize,
    #[serde(skip)]
    files: std::collections::BTreeSet<String>,
    /// For used permissions: whether calls that need it are written to Data Access logs
    /// (`providers/gcp/audit-log-types.tsv`), so that without them its use is unobservable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_data_access_logs: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct ResourceView {
    pub resource: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WorkloadView {
    /// The Workload Identity pool the subject was federated through.
    pub pool: String,
    pub subject: String,
}

#[derive(Debug, Serialize)]
pub struct DelegationView {
    pub identity: String,
    pub chain: Vec<String>,
    pub entries: u64,
}

impl UsageView {
    /// The view of the usage read from Cloud Audit Logs.
    pub fn new(usage: &AuditLogUsage) -> Self {
        let coverage = &usage.coverage;
        let mut identities: Vec<IdentityView> = Vec::new();
        for (key, record) in usage.usage.iter() {
            if identities
                .last()
                .is_none_or(|last| last.identity != key.identity.as_str())
            {
                identities.push(IdentityView {
                    identity: key.identity.to_string(),
                    used: Vec::new(),
                    denied: Vec::new(),
                });
            }
            let Some(identity) = identities.last_mut() else {
                continue;
            };
            for (denied, count) in [(false, record.count), (true, record.denied_count)] {
                if count == 0 {
                    continue;
                }
                let list = if denied {
                    &mut identity.denied
                } else {
                    &mut identity.used
                };
                let permission = &key.permission.action;
                if list
                    .last()
                    .is_none_or(|last: &PermissionView| &last.permission != permission)
                {
                    list.push(PermissionView {
                        permission: permission.clone(),
                        count: 0,
                        first_seen: rfc3339(record.first_seen),
                        last_seen: rfc3339(record.last_seen),
                        resources: Vec::new(),
                        workloads: Vec::new(),
                        source_files: 0,
                        files: std::collections::BTreeSet::new(),
                        needs_data_access_logs: (!denied).then(|| {
                            rule_for(permission)
                                .ok()
                                .is_none_or(|rule| rule.log == LogType::DataAccess)
                        }),
                    });
                }
                let Some(view) = list.last_mut() else {
                    continue;
                };
                view.count += count;
                view.first_seen = view.first_seen.clone().min(rfc3339(record.first_seen));
                view.last_seen = view.last_seen.clone().max(rfc3339(record.last_seen));
                view.resources.push(ResourceView {
                    resource: key.resource.clone(),
                    count,
                });
                view.files.extend(record.sources.iter().cloned());
                view.source_files = view.files.len();
                for workload in &record.workloads {
                    let workload = WorkloadView {
                        pool: workload.issuer_url.clone(),
                        subject: workload.subject.clone(),
                    };
                    if let Err(position) = view.workloads.binary_search(&workload) {
                        view.workloads.insert(position, workload);
                    }
                }
            }
        }
        UsageView {
            format_version: 1,
            source: "gcp-audit-logs",
            window: ReadWindowView {
                since: coverage.window.since.map(rfc3339),
                until: coverage.window.until.map(rfc3339),
            },
            coverage: CoverageView {
                files_read: coverage.files_read,
                files_skipped: coverage
                    .files_skipped
                    .iter()
                    .map(|file| SkippedView {
                        file: file.source.clone(),
                        reason: file.reason.clone(),
                    })
                    .collect(),
                entries_read: coverage.entries_read,
                entries_in_window: coverage.entries_in_window,
                first_entry: coverage.first_entry.map(rfc3339),
                last_entry: coverage.last_entry.map(rfc3339),
                log_types: coverage
                    .log_types
                    .iter()
                    .map(|(kind, count)| (kind.as_str(), *count))
                    .collect(),
                data_access_present: coverage.data_access_present(),
                data_access_services: coverage.data_access_services.iter().cloned().collect(),
                set_aside: coverage
                    .set_aside
                    .iter()
                    .map(|(reason, count)| (reason.as_str(), *count))
                    .collect(),
                granted_unstated: coverage.granted_unstated,
                granted_in_refused_calls: coverage.granted_in_refused_calls,
            },
            identities,
            delegations: usage
                .delegations
                .iter()
                .map(|delegation| DelegationView {
                    identity: delegation.identity.clone(),
                    chain: delegation.chain.clone(),
                    entries: delegation.entries,
                })
                .collect(),
            service_account_keys: usage
                .key_use
                .iter()
                .map(|(key, used)| KeyUseView {
                    key: key.clone(),
                    calls: used.calls,
                    first_seen: rfc3339(used.first),
                    last_seen: rfc3339(used.last),
                })
                .collect(),
        }
    }
}
