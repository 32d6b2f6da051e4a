//! Output of an Azure minimization: the JSON view (`format_version` 1) holding each custom
//! role in the shape `az role definition create --role-definition` reads
//! (<https://learn.microsoft.com/en-us/azure/role-based-access-control/custom-roles-cli>)
//! with the commands that apply it, and Terraform (`azurerm_role_definition` and
//! `azurerm_role_assignment`:
//! <https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/role_definition>),
//! written with the `hcl-rs` crate.

use super::{AzureMinimization, RoleKind};
use crate::gcp::minimize::render::shell;
use hcl::expr::{Traversal, Variable};
use hcl::{Block, Body, Expression};
use serde_json::{Value, json};

/// The version of the JSON view; bumped on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON view of a minimization.
pub fn render_json(minimization: &AzureMinimization) -> Value {
    let roles: Vec<Value> = minimization
        .roles
        .iter()
        .map(|role| {
            let file = json!({
                "Name": role.name,
                "IsCustom": true,
                "Description": role.description,
                "Actions": role.permissions.actions,
                "NotActions": role.permissions.not_actions,
                "DataActions": role.permissions.data_actions,
                "NotDataActions": role.permissions.not_data_actions,
                "AssignableScopes": [role.assignable_scope],
            });
            json!({
                "name": role.name,
                "holds": match role.kind { RoleKind::Used => "used", RoleKind::Unobservable => "unobservable" },
                "definition": file,
                "condition": role.permissions.condition,
                "command": "az role definition create --role-definition @ROLE.json",
            })
        })
        .collect();
    let assignments: Vec<Value> = minimization
        .assignments
        .iter()
        .map(|assignment| {
            let role = &minimization.roles[assignment.role];
            let mut command = format!(
                "az role assignment create --assignee-object-id {} --assignee-principal-type ServicePrincipal --role {} --scope {}",
                shell(&assignment.principal_id),
                shell(&role.name),
                shell(&assignment.scope)
            );
            if let Some(condition) = &assignment.condition {
                command.push_str(&format!(
                    " --condition {} --condition-version 2.0",
                    shell(condition)
                ));
            }
            json!({
                "scope": assignment.scope,
                "role": role.name,
                "principal_id": assignment.principal_id,
                "condition": assignment.condition,
                "command": command,
            })
        })
        .collect();
    let replaces: Vec<Value> = minimization
        .replaced
        .iter()
        .map(|(grant, scope, definition, condition)| {
            json!({"grant": grant.as_str(), "scope": scope, "role_definition_id": definition, "condition": condition})
        })
        .collect();
    let used: Vec<Value> = minimization
        .used_calls
        .iter()
        .map(|(operation, scopes)| {
            json!({"operation": operation, "calls": scopes.values().sum::<u64>(), "scopes": scopes.keys().collect::<Vec<_>>()})
        })
        .collect();
    let unobservable: Vec<Value> = minimization
        .unobservable_kept
        .iter()
        .map(|(pattern, reason)| json!({"pattern": pattern, "reason": reason}))
        .collect();
    json!({
        "format_version": FORMAT_VERSION,
        "provider": "azure",
        "identity": minimization.identity.native(),
        "roles": roles,
        "assignments": assignments,
        "replaces": replaces,
        "used": used,
        "unobservable_kept": unobservable,
        "granted_elsewhere": minimization.granted_elsewhere,
        "proof": {
            "never_broaden": minimization.proof.never_broaden,
            "never_drop": minimization.proof.never_drop,
        },
    })
}

/// Terraform cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write Terraform: {0}")]
pub struct TerraformError(String);

fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

fn strings(items: &[String]) -> Expression {
    Expression::Array(
        items
            .iter()
            .map(|i| Expression::String(i.clone()))
            .collect(),
    )
}

/// The Terraform of a minimization: an `azurerm_role_definition` per role and an
/// `azurerm_role_assignment` per assignment, referencing the definition.
pub fn render_terraform(minimization: &AzureMinimization) -> Result<String, TerraformError> {
    let mut body = Body::builder();
    let names: Vec<String> = minimization
        .roles
        .iter()
        .enumerate()
        .map(|(position, role)| identifier(&format!("{}_{position}", role.name)))
        .collect();
    for (role, name) in minimization.roles.iter().zip(&names) {
        let permissions = Block::builder("permissions")
            .add_attribute(("actions", strings(&role.permissions.actions)))
            .add_attribute(("not_actions", strings(&role.permissions.not_actions)))
            .add_attribute(("data_actions", strings(&role.permissions.data_actions)))
            .add_attribute((
                "not_data_actions",
                strings(&role.permissions.not_data_actions),
            ));
        if let Some(condition) = &role.permissions.condition {
            // azurerm has no block-level condition: refuse rather than widen.
            return Err(TerraformError(format!(
                "role `{}` keeps a permissions-block condition (`{condition}`), which \
                 `azurerm_role_definition` cannot express; use `--format json`",
                role.name
            )));
        }
        body = body.add_block(
            Block::builder("resource")
                .add_label("azurerm_role_definition")
                .add_label(name.as_str())
                .add_attribute(("name", role.name.as_str()))
                .add_attribute(("scope", role.assignable_scope.as_str()))
                .add_attribute(("description", role.description.as_str()))
                .add_block(permissions.build())
                .add_attribute((
                    "assignable_scopes",
                    strings(std::slice::from_ref(&role.assignable_scope)),
                ))
                .build(),
        );
    }
    for (position, assignment) in minimization.assignments.iter().enumerate() {
        let variable = Variable::new("azurerm_role_definition")
            .map_err(|error| TerraformError(error.to_string()))?;
        let reference: Expression = Traversal::builder(variable)
            .attr(names[assignment.role].as_str())
            .attr("role_definition_resource_id")
            .build()
            .into();
        let mut block = Block::builder("resource")
            .add_label("azurerm_role_assignment")
            .add_label(format!("{}_{position}", names[assignment.role]))
            .add_attribute(("scope", assignment.scope.as_str()))
            .add_attribute(("role_definition_id", reference))
            .add_attribute(("principal_id", assignment.principal_id.as_str()));
        if let Some(condition) = &assignment.condition {
            block = block
                .add_attribute(("condition", condition.as_str()))
                .add_attribute(("condition_version", "2.0"));
        }
        body = body.add_block(block.build());
    }
    hcl::to_string(&body.build()).map_err(|error| TerraformError(error.to_string()))
}
