//! **What it finds:** trusts of a shared SaaS issuer (GitHub's
//! `token.actions.githubusercontent.com`, `gitlab.com`, Terraform Cloud's `app.terraform.io`)
//! whose subject names a repository, project or workspace but leaves its owner open:
//! `repo:*/infra:*`, `project_path:*/docs:…`, `organization:*:…`.
//!
//! **Why it matters:** these issuers sign tokens for every customer. The owner (GitHub
//! organisation, GitLab group, Terraform organisation) is the only part of the subject that
//! only you control; anyone can create a repository called `infra` in their own account and
//! present a token the trust accepts.
//!
//! **Example:**
//!
//! ```json
//! "Condition": { "StringLike": { "token.actions.githubusercontent.com:sub": "repo:*/infra:ref:refs/heads/main" } }
//! ```
//!
//! **Remediation:** pin the owner literally (`repo:acme/infra:…`), or use GitHub's immutable
//! subject form with the owner id (`repo:acme@123/infra@456:…`).

use super::{TrustUnderCheck, scope_of, subject_values};
use crate::graph::subject::shared_issuer;
use crate::model::{CiIssuer, Confidence, Evidence, Finding, IdentityId, Severity};

pub const ID: &str = "shared-issuer-without-tenant";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let issuer = CiIssuer::from_issuer_url(&trust.issuer);
        if !shared_issuer(&issuer, &trust.issuer) {
            continue;
        }
        // `repo:*` and a missing `sub` are reported by their own checks.
        let open: Vec<&str> = subject_values(trust)
            .into_iter()
            .filter(|(value, like)| scope_of(trust, value, *like).tenant_open)
            .map(|(value, _)| value)
            .collect();
        if open.is_empty() {
            continue;
        }
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: Severity::Critical,
                confidence: Confidence::High,
                subject: check.subject(id),
                message: format!(
                    "trust of the shared issuer `{}` does not pin the owner: {}",
                    trust.issuer,
                    open.iter()
                        .map(|value| format!("`{value}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                evidence: open
                    .iter()
                    .map(|value| Evidence {
                        source: trust.source.clone(),
                        detail: format!("`{value}` admits the same name under any owner"),
                    })
                    .collect(),
                remediation:
                    "pin the organisation, group or Terraform organisation literally in the subject"
                        .into(),
            },
        ));
    }
}
