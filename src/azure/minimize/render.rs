//! Output of an Azure minimization: the JSON view (`format_version` 1, built by
//! [`AzureMinimizationView`] in `output::json::v1::minimize::azure`) as a JSON value, and
//! Terraform (`azurerm_role_definition` and
//! `azurerm_role_assignment`:
//! <https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/role_definition>),
//! written with the `hcl-rs` crate.

use super::AzureMinimization;
use crate::output::json::v1::minimize::azure::AzureMinimizationView;
use hcl::expr::{Traversal, Variable};
use hcl::{Block, Body, Expression};

/// The version of the JSON view ([`AzureMinimizationView`]); bumped on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The JSON view of a minimization ([`AzureMinimizationView`]) as a JSON value, for the
/// proposals of `analyze` and `audit`.
pub fn render_json(minimization: &AzureMinimization) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(AzureMinimizationView::new(minimization))
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
