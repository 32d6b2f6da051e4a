//! **What it finds:** a service account whose own IAM policy lets every identity of a
//! Workload Identity pool act as it (`principalSet://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/*`),
//! or every repository of an owner (`…/attribute.repository_owner/acme`), through
//! `roles/iam.workloadIdentityUser` or another role that yields its credentials.
//!
//! **Why it matters:** the grant is as wide as the pool's attribute condition: every
//! repository, branch and pull request the providers accept can deploy as the account. Pin
//! the grant to the repository that needs it
//! (<https://cloud.google.com/iam/docs/principal-identifiers>). High for the whole pool, medium
//! for a whole owner.
//!
//! **Example:** `roles/iam.workloadIdentityUser` → `principalSet://iam.googleapis.com/projects/415104041262/locations/global/workloadIdentityPools/github/*`.
//!
//! **Remediation:** grant `principalSet://…/attribute.repository/acme/web` (map
//! `attribute.repository = assertion.repository`) or, narrower, a `principal://…/subject/…`
//! for one branch or environment.

use super::IMPERSONATION_ROLES;
use crate::gcp::inventory::GcpInventory;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-wif-pool-wide-principal-set";

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for account in &inventory.service_accounts {
        let Some(policy) = &account.iam_policy else {
            continue;
        };
        for binding in &policy.bindings {
            if !IMPERSONATION_ROLES.contains(&binding.role.as_str()) {
                continue;
            }
            for member in &binding.members {
                let Some(rest) = member.strip_prefix("principalSet://iam.googleapis.com/") else {
                    continue;
                };
                let (severity, what) = if rest.ends_with("/*") {
                    (Severity::High, "every identity of the pool")
                } else if rest.contains("/attribute.repository_owner/")
                    || rest.contains("/attribute.repository_owner_id/")
                    || rest.contains("/attribute.namespace_path/")
                {
                    (Severity::Medium, "every repository of an owner")
                } else {
                    continue;
                };
                findings.push(Finding {
                    id: ID,
                    severity: if binding.condition.is_some() {
                        Severity::Medium.min(severity)
                    } else {
                        severity
                    },
                    confidence: Confidence::High,
                    subject: format!("service account `{}`", account.email),
                    message: format!(
                        "{what} can act as the service account through `{}`",
                        binding.role
                    ),
                    evidence: vec![Evidence {
                        source: format!("service account `{}` IAM policy", account.email),
                        detail: format!("`{}` to `{member}`", binding.role),
                    }],
                    remediation: "grant the role to the one repository (or subject) that needs it"
                        .to_string(),
                });
            }
        }
    }
}
