//! **What it finds:** CI identities — a user-assigned managed identity or an application with a
//! federated identity credential, or an application or service principal with a client secret
//! — holding a role that can grant roles: `Owner`, `User Access Administrator`, `Role Based
//! Access Control Administrator`, or any role whose `actions` reach
//! `Microsoft.Authorization/roleAssignments/write` (`*`, `Microsoft.Authorization/*`, …) or
//! `Microsoft.Authorization/roleDefinitions/write` (editing a custom role it holds) without
//! the block's `notActions` removing it
//! (<https://learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions>,
//! <https://learn.microsoft.com/azure/role-based-access-control/built-in-roles>). A deny
//! assignment naming the identity (or everyone) at the assignment's scope that denies role
//! assignment writes clears it. The finding names the scope of each such assignment.
//!
//! **Why it matters:** whoever can create role assignments at a scope can give themselves any
//! role there: it is administrator access in all but name. A pipeline holding it turns every
//! weakness of the pipeline — a compromised dependency, an unpinned action, a loose federated
//! credential — into a takeover of the scope.
//!
//! **Example:** a managed identity trusted by `repo:acme/infra:pull_request` with `Owner` on
//! `/subscriptions/…` (critical), or an application with a client secret and `User Access
//! Administrator` on a resource group (high).
//!
//! **Remediation:** grant the pipeline the roles it needs to deploy (`pipeleash minimize`), not
//! the right to grant roles; where a pipeline must assign roles, use `Role Based Access Control
//! Administrator` with a condition that limits the roles and principals it may assign. Severity
//! is critical when a federated credential admits pull requests, any branch or environment, or
//! other repositories (or cannot be judged), high otherwise; medium confidence when the
//! assignment carries a condition; low when the role's definition is unknown (neither
//! collected nor built in): it may reach role assignment writes, so it is never left out.

use super::{Admitted, AzureFindings, AzureUnderCheck, RoleReach, identity_id};
use crate::model::{Confidence, Evidence, Finding, Severity};
use std::collections::BTreeMap;

pub const ID: &str = "azure-ci-escalation";

/// Why a principal is a CI identity, and whether a loose subject reaches it.
#[derive(Default)]
struct CiIdentity {
    label: String,
    evidence: Vec<Evidence>,
    loose: bool,
}

pub fn run(check: &AzureUnderCheck<'_>, findings: &mut AzureFindings) {
    let mut identities: BTreeMap<String, CiIdentity> = BTreeMap::new();
    for credential in check.federated_credentials() {
        let Some(principal_id) = credential.principal_id else {
            continue;
        };
        let entry = identities
            .entry(principal_id.to_ascii_lowercase())
            .or_default();
        entry.label = credential.owner.clone();
        match credential.admits() {
            Admitted::Unreadable { expression, .. } => {
                entry.loose = true;
                entry.evidence.push(Evidence {
                    source: credential.source.clone(),
                    detail: format!(
                        "federated credential `{}`: expression `{expression}` cannot be judged",
                        credential.name
                    ),
                });
            }
            Admitted::Judged(alternatives) => {
                for alternative in alternatives {
                    let loose = alternative.admits_unreviewed();
                    entry.loose |= loose;
                    entry.evidence.push(Evidence {
                        source: credential.source.clone(),
                        detail: format!(
                            "federated credential `{}` from `{}`: {}{}",
                            credential.name,
                            credential.issuer,
                            alternative.text,
                            if loose {
                                " (admits pull requests, any branch or environment, or other repositories)"
                            } else {
                                ""
                            }
                        ),
                    });
                }
            }
        }
    }
    for application in &check.inventory.applications {
        if application.password_credentials.is_empty() {
            continue;
        }
        let Some(principal) = check.service_principal_of_app(&application.app_id) else {
            continue;
        };
        let entry = identities
            .entry(principal.id.to_ascii_lowercase())
            .or_default();
        if entry.label.is_empty() {
            entry.label = format!(
                "application `{}` (`{}`)",
                application
                    .display_name
                    .as_deref()
                    .unwrap_or(&application.app_id),
                application.app_id
            );
        }
        entry.evidence.push(Evidence {
            source: format!("applications/{}", application.id),
            detail: format!(
                "{} client secret(s)",
                application.password_credentials.len()
            ),
        });
    }
    for principal in &check.inventory.service_principals {
        if principal.password_credentials.is_empty() {
            continue;
        }
        let entry = identities
            .entry(principal.id.to_ascii_lowercase())
            .or_default();
        if entry.label.is_empty() {
            entry.label = format!(
                "service principal `{}` (`{}`)",
                principal.display_name.as_deref().unwrap_or(&principal.id),
                principal.id
            );
        }
        entry.evidence.push(Evidence {
            source: format!("servicePrincipals/{}", principal.id),
            detail: format!("{} client secret(s)", principal.password_credentials.len()),
        });
    }
    for (principal_id, identity) in identities {
        let grants = check.write_grants(&principal_id);
        let known: Vec<_> = grants
            .iter()
            .filter(|grant| grant.reach == RoleReach::Escalation)
            .collect();
        // A role whose definition was not collected may grant anything, role assignments
        // included: reported as a possible escalation, never dropped.
        let unknown: Vec<_> = grants
            .iter()
            .filter(|grant| grant.reach == RoleReach::Unknown)
            .collect();
        let possible = known.is_empty();
        let escalating = if possible { unknown } else { known };
        if escalating.is_empty() {
            continue;
        }
        let scopes: Vec<String> = escalating
            .iter()
            .map(|grant| format!("`{}`", grant.assignment.properties.scope))
            .collect();
        let conditional = escalating
            .iter()
            .all(|grant| grant.assignment.properties.condition.is_some());
        let mut evidence = identity.evidence;
        evidence.extend(escalating.iter().map(|grant| Evidence {
            source: grant.assignment.id.clone(),
            detail: grant.describe(),
        }));
        findings.push((
            Some(identity_id(&principal_id)),
            Finding {
                id: ID,
                severity: if identity.loose {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence: if possible {
                    Confidence::Low
                } else if conditional {
                    Confidence::Medium
                } else {
                    Confidence::High
                },
                subject: identity.label,
                message: format!(
                    "a CI identity {} role assignments{} at {}: it {} grant itself any role there",
                    if possible {
                        "holds a role pipeleash does not know (its definition was not collected), so it may create"
                    } else {
                        "can create"
                    },
                    if identity.loose {
                        ", and unreviewed or foreign workloads can sign in as it,"
                    } else {
                        ""
                    },
                    scopes.join(", "),
                    if possible { "may" } else { "can" }
                ),
                evidence,
                remediation: "grant the pipeline only the roles it deploys with; if it must assign roles, use `Role Based Access Control Administrator` with a condition on the roles and principals it may assign".into(),
            },
        ));
    }
}
