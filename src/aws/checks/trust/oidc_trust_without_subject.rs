//! **What it finds:** roles federated with an OIDC issuer (GitHub Actions, GitLab, Terraform
//! Cloud, any OIDC provider) whose trust policy puts no condition on the token's `sub` claim
//! that narrows it: none at all, or only a negated one (`StringNotLike`,
//! `StringNotEquals`, which admit every other subject) or an expression pipeleash does not
//! evaluate. A positive string condition in any form (`StringEquals`, `StringLike`,
//! `ForAnyValue:`/`ForAllValues:`, `…IfExists`, `IgnoreCase`) counts as narrowing here; what
//! it admits is judged by `oidc-subject-wildcard`.
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

use super::{TrustUnderCheck, is_oidc, subject_notes};
use crate::graph::subject::shared_issuer;
use crate::model::{
    ClaimOperator, Confidence, Evidence, Finding, IdentityId, Severity, judge_trust,
};

pub const ID: &str = "oidc-trust-without-subject";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let judgment = judge_trust(trust);
        if !is_oidc(trust) || !judgment.constraint.is_open() {
            continue;
        }
        let issuer = &judgment.issuer;
        let shared = shared_issuer(issuer, &trust.issuer);
        let mut evidence = vec![Evidence {
            source: trust.source.clone(),
            detail: conditions_detail(trust),
        }];
        evidence.extend(subject_notes(&judgment, &trust.source));
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: if shared {
                    Severity::Critical
                } else {
                    Severity::High
                },
                // A condition pipeleash does not evaluate might narrow the subject after all.
                confidence: if judgment
                    .constraint
                    .other
                    .iter()
                    .any(|condition| condition.operator == ClaimOperator::Expression)
                {
                    Confidence::Medium
                } else {
                    Confidence::High
                },
                subject: check.subject(id),
                message: format!(
                    "trusts every token from `{}` ({}): {}{}",
                    trust.issuer,
                    issuer,
                    if judgment.constraint.other.is_empty() {
                        "no condition on `sub`"
                    } else {
                        "no condition on `sub` narrows it"
                    },
                    if shared {
                        ", and the issuer is shared by every customer of the service"
                    } else {
                        ""
                    }
                ),
                evidence,
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
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
