//! **What it finds:** a service account granted a basic role (`roles/owner`, `roles/editor`)
//! on a project, folder or organization.
//!
//! **Why it matters:** basic roles hold thousands of permissions across every service
//! (Editor about 12,000, Owner also every `setIamPolicy`); Google advises against them in
//! production (<https://cloud.google.com/iam/docs/roles-overview#basic>). For a pipeline's
//! service account, Owner is an administrator's grant: critical is reserved for trust, so it
//! is high; Editor medium. `pipeleash minimize` gives the custom role that replaces it.
//!
//! **Example:** `projects/app`: `roles/editor` → `serviceAccount:deployer@app.iam.gserviceaccount.com`.
//!
//! IAM deny policies that reach the account at or above the binding
//! (<https://cloud.google.com/iam/docs/deny-overview>) are named in the evidence: they take
//! some permissions away, never the role's breadth, so the finding stands.
//!
//! **Remediation:** replace the basic role by the custom role `pipeleash minimize
//! SA --snapshot … --gcp-audit-logs …` prints, or by the smallest predefined roles
//! (`pipeleash catalog roles --provider gcp --permission …`).

use crate::gcp::inventory::GcpInventory;
use crate::gcp::normalize::{container_ancestry, container_policies, deny_rules_for};
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-basic-role-on-service-account";

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for (resource, policy) in container_policies(inventory) {
        for binding in &policy.bindings {
            let severity = match binding.role.as_str() {
                "roles/owner" => Severity::High,
                "roles/editor" => Severity::Medium,
                _ => continue,
            };
            for member in &binding.members {
                let Some(email) = member.strip_prefix("serviceAccount:") else {
                    continue;
                };
                let mut evidence = vec![Evidence {
                    source: format!("`{resource}` IAM policy"),
                    detail: format!("`{}` to `{member}`", binding.role),
                }];
                if let Some(account) = inventory
                    .service_accounts
                    .iter()
                    .find(|account| account.email.eq_ignore_ascii_case(email))
                {
                    let ancestry = container_ancestry(inventory, &resource);
                    for (_, rule) in deny_rules_for(inventory, account) {
                        if !ancestry.contains(&rule.attachment_point) {
                            continue;
                        }
                        let qualifier = if rule.condition.is_some() || rule.possible.is_some() {
                            "may deny"
                        } else {
                            "denies"
                        };
                        evidence.push(Evidence {
                            source: format!("deny policy `{}`", rule.policy),
                            detail: format!(
                                "{qualifier} {} on `{}`",
                                rule.denied_permissions
                                    .iter()
                                    .map(|p| format!("`{p}`"))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                rule.attachment_point
                            ),
                        });
                    }
                }
                findings.push(Finding {
                    id: ID,
                    severity,
                    confidence: Confidence::High,
                    subject: format!("service account `{email}`"),
                    message: format!("holds the basic role `{}` on `{resource}`", binding.role),
                    evidence,
                    remediation: "replace it by the custom role `pipeleash minimize` prints"
                        .to_string(),
                });
            }
        }
    }
}
