//! **What it finds:** trusts that admit pull-request jobs (`repo:acme/web:pull_request`, or a
//! pattern such as `repo:acme/web:*` that admits them), jobs on any branch, or a named branch
//! other than `main`/`master`, on a role that can write — directly, or through the roles it
//! can chain to or escalate to. Subjects are judged against the issuer's documented grammar,
//! with every string operator that can hold `sub` (see `oidc-subject-wildcard`); for CI
//! systems that run merge/pull requests as jobs of their source branch (GitLab, Buildkite),
//! a pattern open on the branch admits them. On GitHub a job that names an environment gets
//! the environment subject whatever triggered it, and naming a missing environment creates
//! it, so an open environment part (`repo:acme/web:environment:*`) admits pull-request jobs
//! too, unless environment protection rules stop them (reported with medium confidence).
//!
//! **Why it matters:** pull requests and feature branches run code nobody has reviewed yet.
//! If such a job can write to an account (deploy, change infrastructure, edit IAM), every
//! contributor who can open a pull request can do it too, before review.
//!
//! **Example:**
//!
//! ```json
//! "Condition": { "StringLike": { "token.actions.githubusercontent.com:sub": ["repo:acme/web:*", "repo:acme/web:pull_request"] } }
//! ```
//!
//! **Remediation:** give pull-request jobs a separate read-only role (plan, lint, diff) and
//! admit only the protected branch or a deployment environment with required reviewers to the
//! role that writes. Severity is critical when the reachable access includes permissions
//! management or administrator access, high for other write access, low for a named
//! non-default branch (it may be protected; pipeleash cannot see branch protection).

use super::{TrustUnderCheck, absent_claim_note, subject_notes};
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity, judge_trust};

pub const ID: &str = "pull-request-reaches-write";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let judgment = judge_trust(trust);
        let mut admitted: Vec<(String, bool)> = Vec::new();
        // Whether every unreviewed job is admitted only through an open environment part,
        // which environment protection rules (invisible to pipeleash) may still close.
        let mut through_environment_only = true;
        for subject in &judgment.subjects {
            let (scope, value) = (&subject.scope, subject.pattern.value);
            if scope.pull_request {
                admitted.push((format!("`{value}` admits pull-request jobs"), true));
                through_environment_only = false;
            } else if scope.any_branch {
                admitted.push((format!("`{value}` admits jobs on any branch"), true));
                through_environment_only = false;
            } else if scope.any_environment && judgment.pull_requests_have_context() {
                admitted.push((
                    format!(
                        "`{value}` admits {}, so pull-request and any-branch jobs that name one (unless environment protection rules stop them)",
                        super::oidc_subject_wildcard::environments(value)
                    ),
                    true,
                ));
            } else if scope.other_branch {
                admitted.push((
                    format!("`{value}` admits a branch other than `main`/`master`"),
                    false,
                ));
            }
        }
        if admitted.is_empty() {
            continue;
        }
        let Some(reach) = check.write_reach(id) else {
            continue;
        };
        let unreviewed = admitted.iter().any(|(_, unreviewed)| *unreviewed);
        let (severity, confidence) = match (unreviewed, reach.sensitive) {
            (true, true) => (Severity::Critical, Confidence::High),
            (true, false) => (Severity::High, Confidence::High),
            (false, _) => (Severity::Low, Confidence::Low),
        };
        let confidence = if unreviewed && through_environment_only {
            Confidence::Medium
        } else {
            confidence
        };
        let mut evidence: Vec<Evidence> = admitted
            .iter()
            .map(|(detail, _)| Evidence {
                source: trust.source.clone(),
                detail: detail.clone(),
            })
            .collect();
        evidence.extend(subject_notes(&judgment, &trust.source));
        evidence.push(Evidence {
            source: "access graph".into(),
            detail: format!("the role reaches {}", reach.description),
        });
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity,
                confidence,
                subject: check.subject(id),
                message: format!(
                    "{} can reach {}{}",
                    if unreviewed {
                        "unreviewed code (pull requests or any branch)"
                    } else {
                        "a non-default branch"
                    },
                    reach.description,
                    absent_claim_note(&judgment)
                ),
                evidence,
                remediation: "admit only the protected branch or a named deployment environment protected by required reviewers and deployment branch rules to this role; give pull requests a read-only role".into(),
            },
        ));
    }
}
