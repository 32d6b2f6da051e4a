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
//! **Example:** `{"keyType": "USER_MANAGED", "validBeforeTime": "9999-12-31T23:59:59Z"}`.
//!
//! **Remediation:** move the pipeline to Workload Identity Federation, then disable and delete
//! the key (`gcloud iam service-accounts keys disable KEY_ID --iam-account=SA`); enforce
//! `iam.disableServiceAccountKeyCreation` for the organization.

use crate::gcp::inventory::{GcpInventory, GcpKeyType};
use crate::model::{Confidence, Evidence, Finding, Severity};

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
