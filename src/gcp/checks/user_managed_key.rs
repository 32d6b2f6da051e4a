//! **What it finds:** enabled user-managed keys of a service account (`keyType:
//! USER_MANAGED`): long-lived private keys downloaded at creation, valid until they are
//! deleted or, by default, until year 9999.
//!
//! **Why it matters:** a key in a CI secret store is a standing credential anyone who can read
//! the store (or a build log) can use from anywhere; Workload Identity Federation gives
//! pipelines short-lived tokens instead
//! (<https://cloud.google.com/iam/docs/best-practices-for-managing-service-account-keys>).
//! High when the key does not expire, medium otherwise.
//!
//! With Cloud Audit Logs, the analysis says whether the key was used: entries of calls made
//! with a user-managed key name it in `authenticationInfo.serviceAccountKeyName`
//! (<https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog#AuthenticationInfo>,
//! <https://cloud.google.com/iam/docs/service-account-keys#key-usage>). A key used says when it
//! was last used; a key no entry names, when the logs cover its project and hold Data Access
//! entries (read-only calls are logged only there,
//! <https://cloud.google.com/logging/docs/audit#data-access>), is unused in the window: the
//! strongest case to delete it. Otherwise (no logs, the project not covered, no Data Access
//! logs, the key created after the window) its use is unknown, never "unused".
//!
//! **Example:** `{"keyType": "USER_MANAGED", "validBeforeTime": "9999-12-31T23:59:59Z"}`.
//!
//! **Remediation:** move the pipeline to Workload Identity Federation, then disable and delete
//! the key (`gcloud iam service-accounts keys disable KEY_ID --iam-account=SA`); enforce
//! `iam.disableServiceAccountKeyCreation` for the organization.

use crate::gcp::audit_log::{AuditLogUsage, KeyUse};
use crate::gcp::inventory::{GcpInventory, GcpKeyType, GcpServiceAccountKey};
use crate::model::{Confidence, Evidence, Finding, IdentityId, ObservationWindow, Severity};
use std::collections::BTreeSet;

pub const ID: &str = "gcp-user-managed-key";

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for account in &inventory.service_accounts {
        if account.disabled {
            continue;
        }
        for key in account.keys.iter().flatten() {
            if key.key_type != GcpKeyType::UserManaged || key.disabled {
                continue;
            }
            let never_expires = key
                .valid_before_time
                .as_deref()
                .is_none_or(|time| time.starts_with("9999-"));
            let key_id = key.name.rsplit('/').next().unwrap_or(&key.name);
            findings.push(Finding {
                id: ID,
                severity: if never_expires {
                    Severity::High
                } else {
                    Severity::Medium
                },
                confidence: Confidence::High,
                subject: format!("service account `{}`", account.email),
                message: format!(
                    "user-managed key `{key_id}` is enabled{}",
                    if never_expires {
                        " and never expires"
                    } else {
                        ""
                    }
                ),
                evidence: vec![Evidence {
                    source: key.name.clone(),
                    detail: format!(
                        "created {}, valid until {}",
                        key.valid_after_time.as_deref().unwrap_or("(unknown)"),
                        key.valid_before_time.as_deref().unwrap_or("(not stated)")
                    ),
                }],
                remediation: "use Workload Identity Federation, then disable and delete the key"
                    .to_string(),
            });
        }
    }
}

/// The audit logs an analysis read, for [`annotate`].
#[derive(Debug, Clone, Copy)]
pub struct KeyUseEvidence<'a> {
    pub usage: &'a AuditLogUsage,
    /// `projects/<id>` of the projects the logs cover (a call in the window names one of
    /// their resources).
    pub covered_projects: &'a BTreeSet<String>,
    pub window: ObservationWindow,
}

/// What the logs say about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUseVerdict {
    Used(KeyUse),
    /// No entry of the window names the key, and the logs could have shown one.
    Unused {
        days: i64,
    },
    /// The logs cannot tell (why).
    Unknown(String),
}

/// The use of `key` of an account in `project` (`projects/<id>`).
pub fn key_use_verdict(
    key: &GcpServiceAccountKey,
    project: &str,
    evidence: Option<&KeyUseEvidence<'_>>,
) -> KeyUseVerdict {
    let Some(evidence) = evidence else {
        return KeyUseVerdict::Unknown("no audit logs were read".to_string());
    };
    if let Some(used) = evidence.usage.key_use_of(&key.name) {
        return KeyUseVerdict::Used(used);
    }
    if !evidence.covered_projects.contains(project) {
        return KeyUseVerdict::Unknown(format!("the audit logs read hold no call in `{project}`"));
    }
    // A file that could not be read may hold a call with the key: when unsure, not unused.
    let skipped = evidence.usage.coverage.files_skipped.len();
    if skipped > 0 {
        return KeyUseVerdict::Unknown(format!(
            "no entry read names it, but {skipped} log file(s) of the window could not be read \
             and may hold a call with it"
        ));
    }
    let created = key
        .valid_after_time
        .as_deref()
        .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok());
    if created.is_some_and(|created| created >= evidence.window.until) {
        return KeyUseVerdict::Unknown("the key was created after the window".to_string());
    }
    if !evidence.usage.coverage.data_access_present() {
        return KeyUseVerdict::Unknown(
            "no Admin Activity entry names it, but no Data Access logs were read, where \
             read-only calls would show"
                .to_string(),
        );
    }
    KeyUseVerdict::Unused {
        days: (evidence.window.until - evidence.window.since).num_days(),
    }
}

/// Adds what the logs say about each key to the `gcp-user-managed-key` findings of `raw`
/// (other findings are left as they are). `evidence` is `None` when no logs were read.
pub fn annotate(
    raw: &GcpInventory,
    findings: &mut [(Option<IdentityId>, Finding)],
    evidence: Option<&KeyUseEvidence<'_>>,
) {
    for (_, finding) in findings.iter_mut().filter(|(_, f)| f.id == ID) {
        let Some(source) = finding.evidence.first().map(|e| e.source.clone()) else {
            continue;
        };
        let Some((account, key)) = raw.service_accounts.iter().find_map(|account| {
            account
                .keys
                .iter()
                .flatten()
                .find(|key| key.name == source)
                .map(|key| (account, key))
        }) else {
            continue;
        };
        let project = format!("projects/{}", account.project_id);
        match key_use_verdict(key, &project, evidence) {
            KeyUseVerdict::Used(used) => {
                let last = used.last.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                finding.message.push_str(&format!(", last used {last}"));
                finding.evidence.push(Evidence {
                    source: "Cloud Audit Logs (`serviceAccountKeyName`)".to_string(),
                    detail: format!(
                        "{} call(s) in the window authenticated with it, first {}, last {last}",
                        used.calls,
                        used.first
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                });
            }
            KeyUseVerdict::Unused { days } => {
                finding
                    .message
                    .push_str(&format!(", unused in the window ({days} days)"));
                finding.evidence.push(Evidence {
                    source: "Cloud Audit Logs (`serviceAccountKeyName`)".to_string(),
                    detail: format!(
                        "no entry of the {days}-day window authenticated with it; the logs \
                         cover `{project}` and hold Data Access entries"
                    ),
                });
                finding.remediation =
                    "unused in the window: disable the key, then delete it".to_string();
            }
            KeyUseVerdict::Unknown(why) => {
                finding.message.push_str(", use unknown");
                finding.evidence.push(Evidence {
                    source: "Cloud Audit Logs (`serviceAccountKeyName`)".to_string(),
                    detail: format!("use unknown: {why}"),
                });
            }
        }
    }
}
