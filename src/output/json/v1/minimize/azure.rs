//! `pipeleash minimize IDENTITY --format json` for Azure (`format_version` 1), also the
//! `minimized` proposal of an Azure identity in `audit --format json`: each custom role in the
//! shape `az role definition create --role-definition` reads
//! (<https://learn.microsoft.com/en-us/azure/role-based-access-control/custom-roles-cli>),
//! its assignments with the `az role assignment create` commands that apply them
//! (<https://learn.microsoft.com/en-us/cli/azure/role/assignment#az-role-assignment-create>),
//! the assignments it replaces, the operations used and what is kept unobservable.

use crate::azure::minimize::{AzureMinimization, CustomRoleDefinition, FORMAT_VERSION, RoleKind};
use crate::output::shell_word;
use serde::Serialize;

/// The JSON of an Azure minimization.
#[derive(Debug, Serialize)]
pub struct AzureMinimizationView {
    format_version: u32,
    /// Always `azure`.
    provider: &'static str,
    /// The principal's object id.
    identity: String,
    roles: Vec<AzureCustomRoleView>,
    assignments: Vec<AzureAssignmentView>,
    replaces: Vec<AzureReplacedAssignmentView>,
    used: Vec<AzureUsedOperationView>,
    unobservable_kept: Vec<AzureUnobservableView>,
    granted_elsewhere: Vec<String>,
    proof: AzureProofView,
}

/// One custom role: why it exists, its definition file and the command that creates it.
#[derive(Debug, Serialize)]
pub struct AzureCustomRoleView {
    name: String,
    /// `used` or `unobservable`.
    holds: &'static str,
    definition: AzureRoleDefinitionFileView,
    /// The permissions block's condition (kept from the original grant), `null` without one.
    condition: Option<String>,
    /// `az role definition create --role-definition @ROLE.json`.
    command: &'static str,
}

/// The file `az role definition create --role-definition` reads.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AzureRoleDefinitionFileView {
    name: String,
    /// Always `true`.
    is_custom: bool,
    description: String,
    actions: Vec<String>,
    not_actions: Vec<String>,
    data_actions: Vec<String>,
    not_data_actions: Vec<String>,
    /// One scope: where the role is assigned.
    assignable_scopes: Vec<String>,
}

/// One proposed role assignment.
#[derive(Debug, Serialize)]
pub struct AzureAssignmentView {
    scope: String,
    /// The custom role's name.
    role: String,
    principal_id: String,
    condition: Option<String>,
    /// `az role assignment create …`.
    command: String,
}

/// One role assignment the proposal replaces.
#[derive(Debug, Serialize)]
pub struct AzureReplacedAssignmentView {
    grant: String,
    scope: String,
    role_definition_id: String,
    condition: Option<String>,
}

/// One operation used in the window: its allowed calls over every scope, and the scopes.
#[derive(Debug, Serialize)]
pub struct AzureUsedOperationView {
    operation: String,
    calls: u64,
    scopes: Vec<String>,
}

/// One permission pattern kept because the Activity Log cannot show its use.
#[derive(Debug, Serialize)]
pub struct AzureUnobservableView {
    pattern: String,
    reason: String,
}

/// What the proofs checked.
#[derive(Debug, Serialize)]
pub struct AzureProofView {
    never_broaden: usize,
    never_drop: usize,
}

impl AzureMinimizationView {
    pub fn new(minimization: &AzureMinimization) -> AzureMinimizationView {
        AzureMinimizationView {
            format_version: FORMAT_VERSION,
            provider: "azure",
            identity: minimization.identity.native().to_string(),
            roles: minimization
                .roles
                .iter()
                .map(AzureCustomRoleView::new)
                .collect(),
            assignments: minimization
                .assignments
                .iter()
                .map(|assignment| {
                    let role = &minimization.roles[assignment.role];
                    let mut command = format!(
                        "az role assignment create --assignee-object-id {} \
                         --assignee-principal-type ServicePrincipal --role {} --scope {}",
                        shell_word(&assignment.principal_id),
                        shell_word(&role.name),
                        shell_word(&assignment.scope)
                    );
                    if let Some(condition) = &assignment.condition {
                        command.push_str(&format!(
                            " --condition {} --condition-version 2.0",
                            shell_word(condition)
                        ));
                    }
                    AzureAssignmentView {
                        scope: assignment.scope.clone(),
                        role: role.name.clone(),
                        principal_id: assignment.principal_id.clone(),
                        condition: assignment.condition.clone(),
                        command,
                    }
                })
                .collect(),
            replaces: minimization
                .replaced
                .iter()
                .map(
                    |(grant, scope, definition, condition)| AzureReplacedAssignmentView {
                        grant: grant.as_str().to_string(),
                        scope: scope.clone(),
                        role_definition_id: definition.clone(),
                        condition: condition.clone(),
                    },
                )
                .collect(),
            used: minimization
                .used_calls
                .iter()
                .map(|(operation, scopes)| AzureUsedOperationView {
                    operation: operation.clone(),
                    calls: scopes.values().sum(),
                    scopes: scopes.keys().cloned().collect(),
                })
                .collect(),
            unobservable_kept: minimization
                .unobservable_kept
                .iter()
                .map(|(pattern, reason)| AzureUnobservableView {
                    pattern: pattern.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            granted_elsewhere: minimization.granted_elsewhere.clone(),
            proof: AzureProofView {
                never_broaden: minimization.proof.never_broaden,
                never_drop: minimization.proof.never_drop,
            },
        }
    }
}

impl AzureCustomRoleView {
    fn new(role: &CustomRoleDefinition) -> AzureCustomRoleView {
        AzureCustomRoleView {
            name: role.name.clone(),
            holds: match role.kind {
                RoleKind::Used => "used",
                RoleKind::Unobservable => "unobservable",
            },
            definition: AzureRoleDefinitionFileView {
                name: role.name.clone(),
                is_custom: true,
                description: role.description.clone(),
                actions: role.permissions.actions.clone(),
                not_actions: role.permissions.not_actions.clone(),
                data_actions: role.permissions.data_actions.clone(),
                not_data_actions: role.permissions.not_data_actions.clone(),
                assignable_scopes: vec![role.assignable_scope.clone()],
            },
            condition: role.permissions.condition.clone(),
            command: "az role definition create --role-definition @ROLE.json",
        }
    }
}
