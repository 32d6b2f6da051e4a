//! **What it finds:** OIDC trusts whose `sub` pattern admits far more pipelines than the ones
//! that deploy: any repository (`repo:*`), any repository of an organisation (`repo:acme/*`),
//! any branch, tag, environment or pull request of a repository (`repo:acme/infra:*`), or a
//! `StringLike` wildcard in the middle of a pattern, which also matches `:` and `/` and so
//! admits subjects of another shape.
//!
//! **Why it matters:** whoever can run a workflow in an admitted repository or on an admitted
//! branch gets the role's credentials: a contributor's pull request, a feature branch nobody
//! reviewed, a new repository in the organisation. Severity rises with what the role can do:
//! write or permissions-management access, in production, is where a wildcard hurts.
//!
//! **Example:**
//!
//! ```json
//! "Condition": { "StringLike": { "token.actions.githubusercontent.com:sub": "repo:acme/infra:*" } }
//! ```
//!
//! **Remediation:** list exact subjects with `StringEquals`: the protected branch
//! (`repo:acme/infra:ref:refs/heads/main`) or, better, a deployment environment with required
//! reviewers (`repo:acme/infra:environment:production`). Use the immutable form
//! (`repo:acme@123/infra@456:…`) where your provider supports it.

use super::{TrustUnderCheck, scope_of, subject_values};
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity};

pub const ID: &str = "oidc-subject-wildcard";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let mut worst: Option<(Severity, Confidence, String)> = None;
        let mut evidence = Vec::new();
        let reach = check.write_reach(id);
        let writes = reach.is_some();
        let writes_in_production = reach.as_ref().is_some_and(|reach| reach.production);
        for (value, like) in subject_values(trust) {
            let scope = scope_of(trust, value, like);
            let (severity, confidence, what) = if scope.any_repository {
                (
                    Severity::Critical,
                    Confidence::High,
                    "any repository of any owner",
                )
            } else if scope.any_in_owner {
                let severity = if writes_in_production {
                    Severity::High
                } else {
                    Severity::Medium
                };
                (
                    severity,
                    Confidence::High,
                    "any repository of the organisation",
                )
            } else if scope.any_context {
                let severity = if writes {
                    Severity::High
                } else {
                    Severity::Medium
                };
                (
                    severity,
                    Confidence::High,
                    "any branch, tag, environment and pull request of the repository",
                )
            } else if scope.spans_segments && !scope.pull_request && !scope.any_branch {
                (
                    Severity::Medium,
                    Confidence::Low,
                    "a wildcard inside the pattern, which also matches `:` and `/`",
                )
            } else if scope.any_branch {
                let severity = if writes {
                    Severity::High
                } else {
                    Severity::Medium
                };
                (severity, Confidence::High, "any branch of the repository")
            } else {
                continue;
            };
            evidence.push(Evidence {
                source: trust.source.clone(),
                detail: format!("`{value}` admits {what}"),
            });
            if worst.as_ref().is_none_or(|(worst, _, _)| severity > *worst) {
                worst = Some((severity, confidence, format!("`{value}` admits {what}")));
            }
        }
        let Some((severity, confidence, message)) = worst else {
            continue;
        };
        if let Some(reach) = &reach {
            evidence.push(Evidence {
                source: "access graph".into(),
                detail: format!("the role reaches {}", reach.description),
            });
        }
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity,
                confidence,
                subject: check.subject(id),
                message: format!("trust of `{}`: {message}", trust.issuer),
                evidence,
                remediation: "replace the wildcard with the exact subjects that deploy (a protected branch or a deployment environment), with `StringEquals`".into(),
            },
        ));
    }
}
