//! **What it finds:** roles federated with an OIDC issuer (GitHub Actions, GitLab, Terraform
//! Cloud, any OIDC provider) whose trust policy puts no condition on the token's `sub` claim.
//!
//! **Why it matters:** the subject is what names the pipeline: repository and branch,
//! project and ref, workspace and run phase. Without it, every token the issuer signs with the
//! right audience is accepted. For a shared SaaS issuer such as `gitlab.com` that is every
//! project of every customer.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Principal": { "Federated": "arn:aws:iam::210987654321:oidc-provider/gitlab.com" },
//!   "Action": "sts:AssumeRoleWithWebIdentity",
//!   "Condition": { "StringEquals": { "gitlab.com:aud": "https://gitlab.com" } } }
//! ```
//!
//! **Remediation:** add a `StringEquals` condition on `<issuer>:sub` listing the exact
//! subjects that deploy, e.g. `project_path:acme/docs:ref_type:branch:ref:main`. Severity is
//! critical for shared SaaS issuers, high for an issuer that only the organisation uses.

use super::{TrustUnderCheck, has_subject_condition, is_oidc};
use crate::graph::subject::shared_issuer;
use crate::model::{CiIssuer, Confidence, Evidence, Finding, IdentityId, Severity};

pub const ID: &str = "oidc-trust-without-subject";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        if !is_oidc(trust) || has_subject_condition(trust) {
            continue;
        }
        let issuer = CiIssuer::from_issuer_url(&trust.issuer);
        let shared = shared_issuer(&issuer, &trust.issuer);
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: if shared {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence: Confidence::High,
                subject: check.subject(id),
                message: format!(
                    "trusts every token from `{}` ({}): no condition on `sub`{}",
                    trust.issuer,
                    issuer,
                    if shared {
                        ", and the issuer is shared by every customer of the service"
                    } else {
                        ""
                    }
                ),
                evidence: vec![Evidence {
                    source: trust.source.clone(),
                    detail: conditions_detail(trust),
                }],
                remediation: "add a `StringEquals` condition on the issuer's `sub` claim listing the exact pipelines that deploy".into(),
            },
        ));
    }
}

/// The trust's conditions, or a note that it has none.
pub fn conditions_detail(trust: &crate::model::FederatedTrust) -> String {
    if trust.conditions.is_empty() {
        return "no condition at all".to_string();
    }
    trust
        .conditions
        .iter()
        .map(crate::graph::build::render_condition)
        .collect::<Vec<_>>()
        .join("; ")
}
