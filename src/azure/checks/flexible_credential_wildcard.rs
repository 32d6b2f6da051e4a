//! **What it finds:** flexible federated identity credentials whose `claimsMatchingExpression`
//! admits any repository (`claims['sub'] matches 'repo:*'`), any owner
//! (`'repo:*/infra:ref:refs/heads/main'`), any repository of one owner
//! (`'repo:acme/*:ref:refs/heads/main'`), any branch (`'repo:acme/web:ref:refs/heads/*'`),
//! pull requests, any environment or tag, or puts no condition on `sub` at all. The expression
//! language (`claims['<claim>']`, `matches` with `*`, `eq`, clauses joined by `and`) is parsed
//! as documented in
//! <https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>
//! (Graph resource:
//! <https://learn.microsoft.com/graph/api/resources/federatedidentityexpression?view=graph-rest-beta>),
//! and each `sub` comparand is judged against the issuer's subject grammar
//! (`providers/ci/subjects.tsv`). An expression pipeleash cannot parse is reported as not
//! judged (medium, low confidence), never taken as safe.
//!
//! **Why it matters:** a wildcard over the owner lets any account of the CI service (anyone
//! can create a GitHub organisation) sign in as the identity; over the repository, any
//! repository of the organisation, including ones every member can create; over the branch
//! or environment, code nobody has reviewed.
//!
//! **Example:** `"claimsMatchingExpression": {"value": "claims['sub'] matches
//! 'repo:acme/*:ref:refs/heads/main'", "languageVersion": 1}`: the `main` branch of every
//! repository of `acme`.
//!
//! **Remediation:** name the repository and the branch or environment exactly
//! (`claims['sub'] matches 'repo:acme/web:environment:prod*'` only where every matching
//! environment is protected), or use one plain federated credential per subject. Severity is
//! critical when any owner can present a token, high for any repository of one owner, medium
//! for any branch, environment, tag or pull request of a named repository.

use super::{Admitted, AzureFindings, AzureUnderCheck};
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "azure-flexible-credential-wildcard";

pub fn run(check: &AzureUnderCheck<'_>, findings: &mut AzureFindings) {
    for credential in check.federated_credentials() {
        if credential.expression.is_none() {
            continue;
        }
        match credential.admits() {
            Admitted::Unreadable { expression, reason } => findings.push((
                credential.identity(),
                Finding {
                    id: ID,
                    severity: Severity::Medium,
                    confidence: Confidence::Low,
                    subject: credential.subject_label(),
                    message: "the claims matching expression cannot be read, so what it admits cannot be judged".into(),
                    evidence: vec![Evidence {
                        source: credential.source.clone(),
                        detail: format!("`claimsMatchingExpression`: `{expression}`: {reason}"),
                    }],
                    remediation: "rewrite the expression as `claims['sub'] matches '<exact subject>'` clauses joined by `and`, and check what it admits".into(),
                },
            )),
            Admitted::Judged(alternatives) => {
                let mut worst: Option<(Severity, Confidence)> = None;
                let mut evidence = Vec::new();
                for alternative in &alternatives {
                    let Some((severity, confidence, what)) = grade(alternative) else {
                        continue;
                    };
                    evidence.push(Evidence {
                        source: credential.source.clone(),
                        detail: format!("{} admits {what}", alternative.text),
                    });
                    worst = worst.max(Some((severity, confidence)));
                }
                let Some((severity, confidence)) = worst else {
                    continue;
                };
                findings.push((
                    credential.identity(),
                    Finding {
                        id: ID,
                        severity,
                        confidence,
                        subject: credential.subject_label(),
                        message: format!(
                            "the claims matching expression admits more than one workload of `{}`",
                            credential.issuer
                        ),
                        evidence,
                        remediation: "name the repository and the branch or environment exactly in the expression".into(),
                    },
                ));
            }
        }
    }
}

/// How wide one alternative is: severity, confidence and the words for it; `None` when it
/// names one repository and one branch, tag or environment.
fn grade(alternative: &super::JudgedAlternative) -> Option<(Severity, Confidence, &'static str)> {
    let scope = &alternative.scope;
    if !alternative.sub_pinned {
        return Some((
            Severity::Critical,
            Confidence::High,
            "any subject: it puts no condition on `sub`",
        ));
    }
    if scope.any_repository || scope.every_subject {
        return Some((
            Severity::Critical,
            Confidence::High,
            "any repository of any owner",
        ));
    }
    if scope.tenant_open || scope.named_under_any_owner {
        return Some((Severity::Critical, Confidence::High, "any owner"));
    }
    if scope.workflow_callers {
        return Some((
            Severity::High,
            Confidence::Medium,
            "any repository that can call the workflow",
        ));
    }
    if scope.any_in_owner {
        return Some((
            Severity::High,
            Confidence::High,
            "any repository of the owner",
        ));
    }
    if scope.pull_request || scope.any_context || scope.no_context {
        return Some((Severity::Medium, Confidence::High, "pull requests"));
    }
    if scope.any_branch {
        return Some((Severity::Medium, Confidence::High, "any branch"));
    }
    if scope.any_environment {
        return Some((Severity::Medium, Confidence::Medium, "any environment"));
    }
    if scope.any_tag {
        return Some((Severity::Medium, Confidence::Medium, "any tag"));
    }
    if scope.any_run_phase {
        return Some((Severity::Low, Confidence::Medium, "any run phase"));
    }
    if scope.unknown_wildcard {
        return Some((
            Severity::Medium,
            Confidence::Low,
            "a wildcard in a subject whose form pipeleash does not know",
        ));
    }
    None
}
