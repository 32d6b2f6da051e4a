//! **What it finds:** a Workload Identity Federation provider that trusts a shared SaaS issuer
//! (GitHub Actions' `https://token.actions.githubusercontent.com`, `https://gitlab.com`,
//! HCP Terraform's `https://app.terraform.io`, Buildkite's `https://agent.buildkite.com`)
//! without an `attributeCondition`.
//!
//! **Why it matters:** those issuers sign tokens for every one of their customers. Without a
//! condition the pool accepts a token from any repository, project or workspace on the
//! service, and every `principalSet://` grant of the pool (`…/attribute.repository/acme/web`
//! aside) is open to strangers; Google requires a condition for new GitHub providers for this
//! reason (<https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions>).
//! Critical when a service account is open to the pool, high otherwise.
//!
//! **Example:**
//!
//! ```json
//! {"name": "projects/415104041262/locations/global/workloadIdentityPools/github/providers/actions",
//!  "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
//!  "attributeMapping": {"google.subject": "assertion.sub"}}
//! ```
//!
//! **Remediation:** add an attribute condition that pins your organisation:
//! `assertion.repository_owner_id == '123456'` (GitHub; the id cannot be re-registered) or
//! `assertion.namespace_path == 'acme'` (GitLab), then grant service accounts only to
//! `principalSet://…/attribute.repository/acme/<repo>` members.

use super::{accounts_open_to_pool, active_providers, pool_of, shared_oidc_issuer};
use crate::gcp::inventory::GcpInventory;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-wif-provider-without-condition";

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    for provider in active_providers(inventory) {
        let Some((issuer, _)) = shared_oidc_issuer(provider) else {
            continue;
        };
        let condition = provider.attribute_condition.as_deref().unwrap_or("").trim();
        if !condition.is_empty() {
            continue;
        }
        let open: Vec<(&str, &str, &str)> =
            accounts_open_to_pool(inventory, pool_of(&provider.name)).collect();
        let mut evidence = vec![Evidence {
            source: provider.name.clone(),
            detail: format!("issuer `{issuer}`, no `attributeCondition`"),
        }];
        evidence.extend(open.iter().map(|(account, member, role)| Evidence {
            source: format!("service account `{account}` IAM policy"),
            detail: format!("`{role}` to `{member}`"),
        }));
        findings.push(Finding {
            id: ID,
            severity: if open.is_empty() {
                Severity::High
            } else {
                Severity::Critical
            },
            confidence: Confidence::High,
            subject: format!("WIF provider `{}`", provider.name),
            message: format!(
                "the provider accepts a token from any tenant of `{issuer}`: it has no attribute \
                 condition{}",
                if open.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", and {} service account grant(s) are open to its pool",
                        open.len()
                    )
                }
            ),
            evidence,
            remediation: "add an `attributeCondition` pinning your organisation (GitHub: \
                          `assertion.repository_owner_id == '<id>'`)"
                .to_string(),
        });
    }
}
