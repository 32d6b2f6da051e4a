//! The Azure trust and grant checks: each finding type in its own file, whose `//!` comment
//! says *What it finds*, *Why it matters*, *Example* and *Remediation*. They read the
//! collector's record ([`AzureInventory`]) directly: the federated identity credentials of
//! user-assigned managed identities (ARM) and of applications (Microsoft Graph), the password
//! and key credentials of applications and service principals, and the role assignments of
//! their principals, judged with the built-in role definitions of the embedded catalog and the
//! inventory's custom ones.
//!
//! Entry point: [`azure_findings`], sorted and deterministic. Each finding is filed under the
//! identity it concerns: `azure:<principal object id>` (the service principal's object id, or
//! a user-assigned managed identity's `principalId`), or `None` when the inventory holds no
//! service principal for an application.
//!
//! Sources: workload identity federation
//! (<https://learn.microsoft.com/entra/workload-id/workload-identity-federation>), flexible
//! federated identity credentials
//! (<https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>),
//! role definitions (<https://learn.microsoft.com/azure/role-based-access-control/role-definitions>)
//! and built-in roles (<https://learn.microsoft.com/azure/role-based-access-control/built-in-roles>).

mod ci_escalation;
mod client_secret;
pub mod expression;
mod federated_pull_request_write;
mod flexible_credential_wildcard;
mod unexpected_issuer;

use super::inventory::{
    AzureInventory, ClaimsMatchingExpression, PermissionBlock, RoleAssignment, ServicePrincipal,
};
use super::{AzurePermissionBlock, AzureRoleDefinition, AzureScope, role_definition_key};
use crate::checks::{Check, LooksAt};
use crate::model::{
    CiIssuer, Finding, IdentityId, Provider, Severity, SubjectPattern, SubjectScope, judge,
};
use std::collections::BTreeMap;

/// The findings of one check, each with the identity it is filed under.
pub type AzureFindings = Vec<(Option<IdentityId>, Finding)>;

/// An Azure check (the one [`Check`] shape): its function reads the inventory with its role
/// definitions.
pub type AzureCheck = Check<fn(&AzureUnderCheck<'_>, &mut AzureFindings)>;

/// Every Azure check, by id.
pub const CHECKS: &[AzureCheck] = &[
    Check {
        id: ci_escalation::ID,
        provider: Provider::Azure,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: ci_escalation::run,
        source: include_str!("ci_escalation.rs"),
    },
    Check {
        id: client_secret::ID,
        provider: Provider::Azure,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Medium,
        run: client_secret::run,
        source: include_str!("client_secret.rs"),
    },
    Check {
        id: federated_pull_request_write::ID,
        provider: Provider::Azure,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: federated_pull_request_write::run,
        source: include_str!("federated_pull_request_write.rs"),
    },
    Check {
        id: flexible_credential_wildcard::ID,
        provider: Provider::Azure,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: flexible_credential_wildcard::run,
        source: include_str!("flexible_credential_wildcard.rs"),
    },
    Check {
        id: unexpected_issuer::ID,
        provider: Provider::Azure,
        looks_at: LooksAt::Trust,
        max_severity: Severity::High,
        run: unexpected_issuer::run,
        source: include_str!("unexpected_issuer.rs"),
    },
];

/// Every finding of every Azure check on `inventory`, judged at `now` (credential expiry),
/// sorted and without duplicates. The identity is `azure:<principal object id>` in lower case.
pub fn azure_findings(
    inventory: &AzureInventory,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(Option<IdentityId>, Finding)> {
    let under_check = AzureUnderCheck::new(inventory, now);
    let mut findings = Vec::new();
    for check in CHECKS {
        (check.run)(&under_check, &mut findings);
    }
    findings.sort();
    findings.dedup();
    findings
}

/// The inventory handed to the checks, with the role definitions they judge assignments by.
pub struct AzureUnderCheck<'a> {
    pub inventory: &'a AzureInventory,
    pub now: chrono::DateTime<chrono::Utc>,
    /// Custom definitions of the inventory, by lower-case GUID.
    custom: BTreeMap<String, AzureRoleDefinition>,
    /// Built-in definitions of the embedded catalog; `None` when it cannot be read (a build
    /// defect), in which case every built-in role counts as not known.
    builtin: Option<&'static BTreeMap<String, AzureRoleDefinition>>,
}

impl<'a> AzureUnderCheck<'a> {
    pub fn new(inventory: &'a AzureInventory, now: chrono::DateTime<chrono::Utc>) -> Self {
        let custom = inventory
            .role_definitions
            .iter()
            .map(|definition| {
                let id = role_definition_key(&definition.name);
                (
                    id.clone(),
                    AzureRoleDefinition {
                        id,
                        role_name: definition.properties.role_name.clone(),
                        role_type: if definition
                            .properties
                            .role_type
                            .eq_ignore_ascii_case("BuiltInRole")
                        {
                            super::RoleType::BuiltIn
                        } else {
                            super::RoleType::Custom
                        },
                        permissions: definition
                            .properties
                            .permissions
                            .iter()
                            .map(engine_block)
                            .collect(),
                        assignable_scopes: definition.properties.assignable_scopes.clone(),
                    },
                )
            })
            .collect();
        Self {
            inventory,
            now,
            custom,
            builtin: super::builtin_role_definitions().ok(),
        }
    }

    /// The role definition an assignment names: the inventory's own first, then the catalog.
    pub fn definition(&self, role_definition_id: &str) -> Option<&AzureRoleDefinition> {
        let key = role_definition_key(role_definition_id);
        self.custom
            .get(&key)
            .or_else(|| self.builtin.and_then(|builtin| builtin.get(&key)))
    }

    /// The role assignments naming `principal_id` (an object id; compared case-insensitively).
    pub fn assignments_of(&self, principal_id: &str) -> Vec<&'a RoleAssignment> {
        self.inventory
            .role_assignments
            .iter()
            .filter(|assignment| {
                assignment
                    .properties
                    .principal_id
                    .eq_ignore_ascii_case(principal_id)
            })
            .collect()
    }

    /// What each assignment of `principal_id` lets it do, for the assignments that write.
    pub fn write_grants(&self, principal_id: &str) -> Vec<WriteGrant<'a>> {
        self.assignments_of(principal_id)
            .into_iter()
            .filter_map(|assignment| {
                let definition = self.definition(&assignment.properties.role_definition_id);
                let reach = match definition {
                    None => RoleReach::Unknown,
                    Some(definition) => role_reach(definition),
                };
                if reach == RoleReach::ReadOnly {
                    return None;
                }
                let escalates = reach == RoleReach::Escalation
                    && !self.denied(principal_id, assignment, ROLE_ASSIGNMENT_WRITE);
                Some(WriteGrant {
                    assignment,
                    role_name: definition.map_or_else(
                        || assignment.properties.role_definition_id.clone(),
                        |definition| definition.role_name.clone(),
                    ),
                    reach: if reach == RoleReach::Escalation && !escalates {
                        RoleReach::Write
                    } else {
                        reach
                    },
                })
            })
            .collect()
    }

    /// Does a deny assignment of the inventory stop `principal_id` from `action` at the
    /// assignment's scope? Only deny assignments whose scope covers the assignment's by path
    /// are taken (a deny at a management group above a subscription is not seen): missing
    /// one reports a grant that a deny blocks, never the reverse.
    fn denied(&self, principal_id: &str, assignment: &RoleAssignment, action: &str) -> bool {
        let target = AzureScope::new(&assignment.properties.scope);
        self.inventory.deny_assignments.iter().any(|deny| {
            let properties = &deny.properties;
            let names = |principals: &[super::inventory::DenyPrincipal]| {
                principals.iter().any(|principal| {
                    principal.id.eq_ignore_ascii_case(principal_id) || principal.id == EVERYONE
                })
            };
            let scope = AzureScope::new(&properties.scope);
            let reaches = if properties.do_not_apply_to_child_scopes {
                scope.key() == target.key()
            } else {
                scope.covers_path(&target)
            };
            reaches
                && names(&properties.principals)
                && !properties
                    .exclude_principals
                    .iter()
                    .any(|principal| principal.id.eq_ignore_ascii_case(principal_id))
                && properties
                    .permissions
                    .iter()
                    .any(|block| engine_block(block).allows_action(action))
        })
    }

    /// The service principal of an application, by `appId`.
    pub fn service_principal_of_app(&self, app_id: &str) -> Option<&'a ServicePrincipal> {
        self.inventory.service_principals.iter().find(|principal| {
            principal
                .app_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(app_id))
        })
    }

    /// Every federated identity credential of the inventory, of managed identities and of
    /// applications, with the principal it signs in as.
    pub fn federated_credentials(&self) -> Vec<FederatedCredential<'a>> {
        let mut credentials = Vec::new();
        for identity in &self.inventory.user_assigned_identities {
            for credential in &identity.federated_identity_credentials {
                credentials.push(FederatedCredential {
                    owner: format!("managed identity `{}`", identity.name),
                    source: credential.id.clone(),
                    name: &credential.name,
                    principal_id: identity.properties.principal_id.as_deref(),
                    issuer: &credential.properties.issuer,
                    subject: credential.properties.subject.as_deref(),
                    audiences: &credential.properties.audiences,
                    expression: credential.properties.claims_matching_expression.as_ref(),
                });
            }
        }
        for application in &self.inventory.applications {
            let principal = self.service_principal_of_app(&application.app_id);
            let label = application
                .display_name
                .as_deref()
                .unwrap_or(&application.app_id);
            for credential in &application.federated_identity_credentials {
                credentials.push(FederatedCredential {
                    owner: format!("application `{label}` (`{}`)", application.app_id),
                    source: format!(
                        "applications/{}/federatedIdentityCredentials/{}",
                        application.id, credential.id
                    ),
                    name: &credential.name,
                    principal_id: principal.map(|principal| principal.id.as_str()),
                    issuer: &credential.issuer,
                    subject: credential.subject.as_deref(),
                    audiences: &credential.audiences,
                    expression: credential.claims_matching_expression.as_ref(),
                });
            }
        }
        credentials
    }
}

/// The built-in `Everyone` principal of deny assignments.
const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

/// The operation that creates role assignments: whoever may run it can grant itself any role
/// (<https://learn.microsoft.com/azure/role-based-access-control/role-assignments-steps>).
pub const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// The operation that edits role definitions: a principal holding a custom role it may edit
/// can add any action to it.
pub const ROLE_DEFINITION_WRITE: &str = "Microsoft.Authorization/roleDefinitions/write";

/// The engine's shape of an inventory permission block.
fn engine_block(block: &PermissionBlock) -> AzurePermissionBlock {
    AzurePermissionBlock {
        actions: block.actions.clone(),
        not_actions: block.not_actions.clone(),
        data_actions: block.data_actions.clone(),
        not_data_actions: block.not_data_actions.clone(),
        condition: block.condition.clone(),
        condition_version: block.condition_version.clone(),
    }
}

/// How far a role definition reaches on the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleReach {
    /// Only reads (`*/read`, `Microsoft.Web/sites/read`).
    ReadOnly,
    /// The definition is not known (neither in the inventory nor in the catalog): counted as
    /// writing, since an unknown role may.
    Unknown,
    /// Some `write`, `delete` or `action` operation.
    Write,
    /// Creates role assignments or edits role definitions: any access at its scope.
    Escalation,
}

/// One role assignment that writes, with its role's name.
pub struct WriteGrant<'a> {
    pub assignment: &'a RoleAssignment,
    pub role_name: String,
    pub reach: RoleReach,
}

impl WriteGrant<'_> {
    /// ``role `Owner` at `/subscriptions/…` `` and the assignment's condition.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "role `{}` at `{}`",
            self.role_name, self.assignment.properties.scope
        );
        if let Some(condition) = &self.assignment.properties.condition {
            text.push_str(&format!(" with condition `{condition}`"));
        }
        if self.reach == RoleReach::Unknown {
            text.push_str(" (role definition not known: counted as writing)");
        }
        text
    }
}

/// Judges a role definition's `actions`, `notActions` taken into account
/// (<https://learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions>).
/// Escalation: it allows [`ROLE_ASSIGNMENT_WRITE`] or [`ROLE_DEFINITION_WRITE`] (`*`,
/// `Microsoft.Authorization/*` and every other pattern that matches them). Write: some entry of
/// `actions` can match a `…/write`, `…/delete` or `…/action` operation that the block's
/// `notActions` do not remove. Wildcards are tried with the operations they can stand for in
/// a form no `notActions` entry names by accident (a provider or resource type no real
/// `notActions` lists), so that only an exclusion that really covers the entry removes it:
/// when unsure, the role counts as writing.
pub fn role_reach(definition: &AzureRoleDefinition) -> RoleReach {
    if definition.allows_action(ROLE_ASSIGNMENT_WRITE)
        || definition.allows_action(ROLE_DEFINITION_WRITE)
    {
        return RoleReach::Escalation;
    }
    let writes = definition.permissions.iter().any(|block| {
        block
            .actions
            .iter()
            .flat_map(|entry| write_probes(entry))
            .any(|probe| block.allows_action(&probe))
    });
    if writes {
        RoleReach::Write
    } else {
        RoleReach::ReadOnly
    }
}

/// The write operations an `actions` entry can stand for, as concrete names: each `*` becomes
/// a segment name no real operation has (`Pipeleash.Probe/probes`), and an entry that ends in
/// `*` is tried with `/write`, `/delete` and `/action` after it.
fn write_probes(entry: &str) -> Vec<String> {
    const VERBS: [&str; 3] = ["write", "delete", "action"];
    let entry = entry.trim();
    let filled = entry.replace('*', "Pipeleash.Probe/probes");
    let last = entry.rsplit('/').next().unwrap_or(entry);
    if last.contains('*') {
        let mut probes: Vec<String> = VERBS
            .iter()
            .map(|verb| format!("{filled}/{verb}"))
            .collect();
        // `Microsoft.Web/sites/*` stands for `Microsoft.Web/sites/write` itself too.
        let stem = entry.trim_end_matches('*').trim_end_matches('/');
        probes.extend(
            VERBS
                .iter()
                .map(|verb| format!("{}/{verb}", stem.replace('*', "Pipeleash.Probe/probes"))),
        );
        probes
    } else if VERBS
        .iter()
        .any(|verb| last.to_ascii_lowercase().ends_with(verb))
    {
        vec![filled]
    } else {
        Vec::new()
    }
}

/// A federated identity credential of a managed identity or an application.
pub struct FederatedCredential<'a> {
    /// ``managed identity `ci` `` or ``application `deploy` (`<appId>`) ``.
    pub owner: String,
    /// Its ARM id, or `applications/<object id>/federatedIdentityCredentials/<id>`.
    pub source: String,
    pub name: &'a str,
    /// The object id of the principal it signs in as, when known.
    pub principal_id: Option<&'a str>,
    pub issuer: &'a str,
    pub subject: Option<&'a str>,
    pub audiences: &'a [String],
    pub expression: Option<&'a ClaimsMatchingExpression>,
}

impl FederatedCredential<'_> {
    /// ``federated credential `gh-main` of managed identity `ci` ``.
    pub fn subject_label(&self) -> String {
        format!("federated credential `{}` of {}", self.name, self.owner)
    }

    /// The identity findings about this credential are filed under.
    pub fn identity(&self) -> Option<IdentityId> {
        self.principal_id.map(identity_id)
    }

    /// What the credential admits: one entry per alternative of its subject or expression.
    pub fn admits(&self) -> Admitted {
        let issuer = CiIssuer::from_issuer_url(self.issuer);
        if let Some(expression) = self.expression {
            return match expression::parse(&expression.value) {
                Ok(alternatives) => Admitted::Judged(
                    alternatives
                        .iter()
                        .map(|clauses| judge_alternative(&issuer, clauses))
                        .collect(),
                ),
                Err(error) => Admitted::Unreadable {
                    expression: expression.value.clone(),
                    reason: error.to_string(),
                },
            };
        }
        match self.subject {
            Some(subject) => Admitted::Judged(vec![JudgedAlternative {
                text: format!("subject `{subject}`"),
                scope: judge(
                    &issuer,
                    SubjectPattern {
                        value: subject,
                        wildcards: false,
                        ignore_case: false,
                    },
                    &[],
                ),
                sub_pinned: true,
            }]),
            // Neither a subject nor an expression: Entra refuses to create one, so the record
            // is incomplete; judge it as admitting every subject.
            None => Admitted::Judged(vec![JudgedAlternative {
                text: "no subject and no expression".into(),
                scope: unconstrained(),
                sub_pinned: false,
            }]),
        }
    }
}

/// `azure:<object id>`, lower case.
pub fn identity_id(object_id: &str) -> IdentityId {
    IdentityId::new(Provider::Azure, &object_id.to_ascii_lowercase())
}

/// What a credential admits.
pub enum Admitted {
    Judged(Vec<JudgedAlternative>),
    /// A flexible expression pipeleash cannot read.
    Unreadable {
        expression: String,
        reason: String,
    },
}

/// One alternative of a credential, judged against its issuer's subject grammar.
pub struct JudgedAlternative {
    /// How a finding quotes it: ``subject `repo:…` `` or the clauses of the expression.
    pub text: String,
    pub scope: SubjectScope,
    /// Some condition says which workload may sign in: a plain subject, a clause on `sub`, or
    /// one on GitHub's `job_workflow_ref`.
    pub sub_pinned: bool,
}

impl JudgedAlternative {
    /// Jobs nobody reviewed: pull requests, any branch, any environment, or any repository.
    pub fn admits_unreviewed(&self) -> bool {
        let scope = &self.scope;
        scope.pull_request
            || scope.any_branch
            || scope.any_environment
            || scope.any_context
            || scope.no_context
            || self.admits_other_repositories()
            || scope.unknown_wildcard
    }

    /// Repositories beyond one named repository: any repository, any owner, any repository of
    /// one owner, or every subject.
    pub fn admits_other_repositories(&self) -> bool {
        let scope = &self.scope;
        scope.any_repository
            || scope.tenant_open
            || scope.named_under_any_owner
            || scope.workflow_callers
            || scope.any_in_owner
            || scope.every_subject
            || !self.sub_pinned
    }
}

/// A scope that admits every subject of the issuer.
fn unconstrained() -> SubjectScope {
    SubjectScope {
        any_repository: true,
        tenant_open: true,
        every_subject: true,
        pull_request: true,
        any_branch: true,
        any_environment: true,
        any_context: true,
        ..SubjectScope::default()
    }
}

/// Judges one alternative of an expression: its `sub` clauses against the issuer's grammar
/// (the first one, with the others as further conditions); without a `sub` clause the `sub`
/// claim is open, whatever else is tested.
fn judge_alternative(issuer: &CiIssuer, clauses: &[expression::Clause]) -> JudgedAlternative {
    let text = clauses
        .iter()
        .map(|clause| {
            format!(
                "claims['{}'] {} '{}'",
                clause.claim,
                match clause.operator {
                    expression::Operator::Matches => "matches",
                    expression::Operator::Eq => "eq",
                },
                clause.comparand
            )
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let patterns: Vec<SubjectPattern<'_>> = clauses
        .iter()
        .filter(|clause| clause.claim == "sub")
        .map(|clause| SubjectPattern {
            value: &clause.comparand,
            wildcards: clause.operator == expression::Operator::Matches,
            ignore_case: false,
        })
        .collect();
    let Some((first, rest)) = patterns.split_first() else {
        // GitHub's `job_workflow_ref` names a reusable workflow: any repository that may call
        // it, on any branch, can present the token.
        let workflow = clauses
            .iter()
            .any(|clause| clause.claim == "job_workflow_ref");
        return JudgedAlternative {
            text: format!("`{text}`"),
            scope: if workflow {
                SubjectScope {
                    workflow_callers: true,
                    pull_request: true,
                    any_branch: true,
                    any_environment: true,
                    ..SubjectScope::default()
                }
            } else {
                unconstrained()
            },
            sub_pinned: workflow,
        };
    };
    let also: Vec<Vec<SubjectPattern<'_>>> = rest.iter().map(|pattern| vec![*pattern]).collect();
    JudgedAlternative {
        text: format!("`{text}`"),
        scope: judge(issuer, *first, &also),
        sub_pinned: true,
    }
}

#[cfg(test)]
mod tests;
