//! **What it finds:** federated identity credentials (of a user-assigned managed identity or an
//! application) that admit pull-request jobs — a pull-request subject
//! (`repo:acme/web:pull_request`), or a flexible expression or subject open on the context part
//! (`repo:acme/web:*`), on the branch, or on the environment (`repo:acme/web:environment:*`) —
//! when the identity's role assignments allow writing. Subjects are judged against the
//! issuer's documented subject grammar (`providers/ci/subjects.tsv`); for CI systems that run
//! merge requests as jobs of their source branch (GitLab), a subject open on the branch admits
//! them. On GitHub a job that names an environment gets the environment subject whatever
//! triggered it, so an open environment admits pull-request jobs too unless environment
//! protection rules stop them (medium confidence). Roles are judged from their definitions:
//! built-in ones from the embedded catalog
//! (<https://learn.microsoft.com/azure/role-based-access-control/built-in-roles>), custom ones
//! from the inventory; a role writes when some `actions` entry (`*`, `*/write`,
//! `Microsoft.Web/sites/*`, `…/action`, `…/delete`) is not removed by the block's `notActions`
//! (<https://learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions>).
//! A role definition pipeleash does not know counts as writing (low confidence).
//!
//! **Why it matters:** pull requests run code nobody has reviewed yet. Workload identity
//! federation (<https://learn.microsoft.com/entra/workload-id/workload-identity-federation>)
//! turns a matching token into the identity's access token: if pull-request jobs can present
//! one, every contributor who can open a pull request can deploy, change infrastructure or,
//! with `Microsoft.Authorization/roleAssignments/write`, grant themselves any role.
//!
//! **Example:** a managed identity with `Contributor` on `/subscriptions/…` and the federated
//! credential `{"issuer": "https://token.actions.githubusercontent.com", "subject":
//! "repo:acme/web:pull_request"}`, or an application with `claims['sub'] matches
//! 'repo:acme/web:environment:*'`.
//!
//! **Remediation:** give pull-request jobs a separate identity with read access only (plan,
//! lint, diff) and admit only the protected branch or a deployment environment with required
//! reviewers to the identity that writes. Severity is critical when the identity can create
//! role assignments or edit role definitions, high for other write access.

use super::{Admitted, AzureFindings, AzureUnderCheck, RoleReach};
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "azure-federated-pull-request-write";

pub fn run(check: &AzureUnderCheck<'_>, findings: &mut AzureFindings) {
    for credential in check.federated_credentials() {
        let Admitted::Judged(alternatives) = credential.admits() else {
            // An unreadable expression is `azure-flexible-credential-wildcard`'s finding.
            continue;
        };
        let mut admitted = Vec::new();
        let mut through_environment_only = true;
        for alternative in &alternatives {
            let scope = &alternative.scope;
            if scope.pull_request || scope.any_context || scope.no_context {
                admitted.push(format!("{} admits pull-request jobs", alternative.text));
                through_environment_only = false;
            } else if scope.any_environment {
                admitted.push(format!(
                    "{} admits any environment, so pull-request jobs that name one (unless environment protection rules stop them)",
                    alternative.text
                ));
            }
        }
        if admitted.is_empty() {
            continue;
        }
        let Some(principal_id) = credential.principal_id else {
            continue;
        };
        let grants = check.write_grants(principal_id);
        if grants.is_empty() {
            continue;
        }
        let escalates = grants
            .iter()
            .any(|grant| grant.reach == RoleReach::Escalation);
        let known = grants.iter().any(|grant| grant.reach != RoleReach::Unknown);
        let confidence = if !known {
            Confidence::Low
        } else if through_environment_only {
            Confidence::Medium
        } else {
            Confidence::High
        };
        let mut evidence: Vec<Evidence> = admitted
            .into_iter()
            .map(|detail| Evidence {
                source: credential.source.clone(),
                detail,
            })
            .collect();
        evidence.extend(grants.iter().map(|grant| Evidence {
            source: grant.assignment.id.clone(),
            detail: grant.describe(),
        }));
        findings.push((
            credential.identity(),
            Finding {
                id: ID,
                severity: if escalates {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence,
                subject: credential.subject_label(),
                message: if escalates {
                    format!(
                        "pull-request jobs of `{}` can sign in as an identity that can grant any role",
                        credential.issuer
                    )
                } else {
                    format!(
                        "pull-request jobs of `{}` can sign in as an identity that can write",
                        credential.issuer
                    )
                },
                evidence,
                remediation: "admit only the protected branch or a reviewed deployment environment to this identity; give pull-request jobs a separate read-only identity".into(),
            },
        ));
    }
}
