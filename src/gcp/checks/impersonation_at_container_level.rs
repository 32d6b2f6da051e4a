//! **What it finds:** a service account granted `roles/iam.serviceAccountTokenCreator`,
//! `roles/iam.serviceAccountUser`, `roles/iam.workloadIdentityUser`,
//! `roles/iam.serviceAccountOpenIdTokenCreator` or `roles/iam.serviceAccountKeyAdmin` on a
//! project, folder or organization rather than on one service account.
//!
//! **Why it matters:** granted at that level, the role applies to every service account
//! beneath it, present and future: the grantee can act as any of them, including the most
//! privileged, an escalation path
//! (<https://cloud.google.com/iam/docs/service-account-permissions#user-role>). Unconditional
//! grants are high; conditional ones medium.
//!
//! **Example:** `projects/app`: `roles/iam.serviceAccountTokenCreator` →
//! `serviceAccount:ci@app.iam.gserviceaccount.com`.
//!
//! **Remediation:** grant the role on the one service account that must be impersonated
//! (`gcloud iam service-accounts add-iam-policy-binding TARGET --member=… --role=…`) and
//! remove it from the project.

use super::IMPERSONATION_ROLES;
use crate::gcp::inventory::GcpInventory;
use crate::gcp::normalize::container_policies;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-impersonation-at-container-level";

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for (resource, policy) in container_policies(inventory) {
        for binding in &policy.bindings {
            if !IMPERSONATION_ROLES.contains(&binding.role.as_str()) {
                continue;
            }
            for member in &binding.members {
                let Some(email) = member.strip_prefix("serviceAccount:") else {
                    continue;
                };
                findings.push(Finding {
                    id: ID,
                    severity: if binding.condition.is_some() {
                        Severity::Medium
                    } else {
                        Severity::High
                    },
                    confidence: Confidence::High,
                    subject: format!("service account `{email}`"),
                    message: format!(
                        "`{}` on `{resource}` lets it act as every service account there",
                        binding.role
                    ),
                    evidence: vec![Evidence {
                        source: format!("`{resource}` IAM policy"),
                        detail: format!("`{}` to `{member}`", binding.role),
                    }],
                    remediation: "grant the role on the one service account to impersonate, not \
                                  on the project, folder or organization"
                        .to_string(),
                });
            }
        }
    }
}
