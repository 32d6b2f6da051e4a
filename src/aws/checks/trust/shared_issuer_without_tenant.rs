//! **What it finds:** trusts of a shared SaaS issuer (GitHub's
//! `token.actions.githubusercontent.com`, `gitlab.com`, Terraform Cloud's `app.terraform.io`,
//! Buildkite's `agent.buildkite.com`) whose subject names a repository, project or workspace
//! but leaves its owner open: `repo:*/infra:*`, `project_path:*/docs:…`, `organization:*:…`;
//! or names only a reusable workflow (`job_workflow_ref:…`), which any repository allowed to
//! call it can run (every repository on GitHub when the workflow's repository is public).
//! The owner is judged from the issuer's subject grammar (`providers/ci/subjects.tsv`), with
//! every string operator that can hold `sub`.
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

use super::{TrustUnderCheck, absent_claim_note, subject_notes};
use crate::graph::subject::shared_issuer;
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity, judge_trust};

pub const ID: &str = "shared-issuer-without-tenant";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let judgment = judge_trust(trust);
        if !shared_issuer(&judgment.issuer, &trust.issuer) {
            continue;
        }
        let tenant = judgment.tenant_noun();
        // `repo:*` and a missing `sub` are reported by their own checks.
        let mut open: Vec<&str> = Vec::new();
        let mut evidence = Vec::new();
        let mut named = false;
        for subject in &judgment.subjects {
            let (scope, value) = (&subject.scope, subject.pattern.value);
            let detail = if scope.named_under_any_owner {
                named = true;
                format!("`{value}` admits the same name under any {tenant}")
            } else if scope.workflow_callers {
                format!(
                    "`{value}` names no {tenant}, only a reusable workflow: any repository allowed to call it can present the subject"
                )
            } else {
                continue;
            };
            open.push(value);
            evidence.push(Evidence {
                source: trust.source.clone(),
                detail,
            });
        }
        if open.is_empty() {
            continue;
        }
        evidence.extend(subject_notes(&judgment, &trust.source));
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                // A workflow-only subject is open only as far as the workflow may be called,
                // which depends on its repository's visibility, not shown in the trust.
                severity: if named {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence: if named {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                subject: check.subject(id),
                message: format!(
                    "trust of the shared issuer `{}` does not pin the {tenant}: {}{}",
                    trust.issuer,
                    open.iter()
                        .map(|value| format!("`{value}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    absent_claim_note(&judgment)
                ),
                evidence,
                remediation:
                    "pin the organisation, group or Terraform organisation literally in the subject"
                        .into(),
            },
        ));
    }
}
