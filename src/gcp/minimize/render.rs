//! Output of a GCP minimization: the JSON view (`format_version` 1, built by
//! [`GcpMinimizationView`] in `output::json::v1::minimize::gcp`) as a JSON value, and Terraform (`google_project_iam_custom_role` /
//! `google_organization_iam_custom_role` and `google_project_iam_member` /
//! `google_folder_iam_member` / `google_organization_iam_member`, with the IAM condition as a
//! `condition` block: <https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/google_project_iam>),
//! written with the `hcl-rs` crate and read back by [`parse_terraform`] for the proofs.

use super::{CustomRole, GcpMinimization};
use crate::gcp::GcpCondition;
use crate::output::json::v1::minimize::gcp::GcpMinimizationView;
use hcl::expr::{Traversal, Variable};
use hcl::{Block, Body, Expression};

/// The version of the JSON view ([`GcpMinimizationView`]); bumped on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// `projects/p` → (`projects`, `p`).
fn split_container(name: &str) -> Option<(&str, &str)> {
    let (kind, id) = name.split_once('/')?;
    (!id.contains('/')).then_some((kind, id))
}

/// The JSON view of a minimization ([`GcpMinimizationView`]) as a JSON value, for the
/// proposals of `analyze` and `audit`.
pub fn render_json(minimization: &GcpMinimization) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(GcpMinimizationView::new(minimization))
}

/// A Terraform output that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerraformError {
    #[error(
        "the binding on `{0}` is on a single resource, which has no generic Terraform resource; \
         use `--format json`, whose binding names the resource to set it on"
    )]
    ResourceBinding(String),
    #[error("cannot write Terraform: {0}")]
    Hcl(String),
    #[error("cannot read the Terraform back: {0}")]
    Parse(String),
}

/// A Terraform identifier: lowercase letters, digits and `_`, not starting with a digit.
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

fn reference(kind: &str, name: &str) -> Result<Expression, TerraformError> {
    let variable = Variable::new(kind).map_err(|error| TerraformError::Hcl(error.to_string()))?;
    Ok(Traversal::builder(variable)
        .attr(name)
        .attr("name")
        .build()
        .into())
}

/// The Terraform of a minimization: a custom role resource per role and a member resource
/// per binding (the role referenced, not repeated).
pub fn render_terraform(minimization: &GcpMinimization) -> Result<String, TerraformError> {
    let mut body = Body::builder();
    let mut role_refs = Vec::new();
    for role in &minimization.roles {
        let name = identifier(&format!("{}_{}", role.role_id, role.parent));
        let permissions: Vec<Expression> = role
            .permissions
            .iter()
            .map(|p| Expression::String(p.clone()))
            .collect();
        let (kind, block) = match split_container(&role.parent) {
            Some(("organizations", id)) => (
                "google_organization_iam_custom_role",
                Block::builder("resource")
                    .add_label("google_organization_iam_custom_role")
                    .add_label(name.as_str())
                    .add_attribute(("org_id", id)),
            ),
            Some((_, id)) => (
                "google_project_iam_custom_role",
                Block::builder("resource")
                    .add_label("google_project_iam_custom_role")
                    .add_label(name.as_str())
                    .add_attribute(("project", id)),
            ),
            None => return Err(TerraformError::ResourceBinding(role.parent.clone())),
        };
        body = body.add_block(
            block
                .add_attribute(("role_id", role.role_id.as_str()))
                .add_attribute(("title", role.title.as_str()))
                .add_attribute(("description", role.description.as_str()))
                .add_attribute(("stage", "GA"))
                .add_attribute(("permissions", Expression::Array(permissions)))
                .build(),
        );
        role_refs.push(reference(kind, &name)?);
    }
    for (position, binding) in minimization.bindings.iter().enumerate() {
        let role = &minimization.roles[binding.role];
        let name = identifier(&format!("{}_{position}", role.role_id));
        let (resource, key, value) = match split_container(&binding.scope) {
            Some(("projects", id)) => ("google_project_iam_member", "project", id.to_string()),
            Some(("folders", _)) => (
                "google_folder_iam_member",
                "folder",
                binding.scope.to_string(),
            ),
            Some(("organizations", id)) => {
                ("google_organization_iam_member", "org_id", id.to_string())
            }
            _ => return Err(TerraformError::ResourceBinding(binding.scope.clone())),
        };
        let mut block = Block::builder("resource")
            .add_label(resource)
            .add_label(name.as_str())
            .add_attribute((key, value))
            .add_attribute(("role", role_refs[binding.role].clone()))
            .add_attribute(("member", binding.member.as_str()));
        if let Some(condition) = &binding.condition {
            let mut inner = Block::builder("condition")
                .add_attribute(("title", condition.title.as_str()))
                .add_attribute(("expression", condition.expression.as_str()));
            if let Some(description) = &condition.description {
                inner = inner.add_attribute(("description", description.as_str()));
            }
            block = block.add_block(inner.build());
        }
        body = body.add_block(block.build());
    }
    hcl::to_string(&body.build()).map_err(|error| TerraformError::Hcl(error.to_string()))
}

/// A binding as read back from Terraform: scope, member, condition and the role's parent,
/// id and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformBinding {
    pub scope: String,
    pub member: String,
    pub condition: Option<GcpCondition>,
    pub role: CustomRole,
}

fn string_attribute(body: &Body, key: &str) -> Option<String> {
    body.attributes()
        .find(|attribute| attribute.key() == key)
        .and_then(|attribute| match attribute.expr() {
            Expression::String(text) => Some(text.clone()),
            _ => None,
        })
}

/// Read the Terraform [`render_terraform`] wrote back into bindings, so the proofs can be
/// run on what a user would apply.
pub fn parse_terraform(text: &str) -> Result<Vec<TerraformBinding>, TerraformError> {
    let body = hcl::parse(text).map_err(|error| TerraformError::Parse(error.to_string()))?;
    let missing = |what: &str| TerraformError::Parse(format!("missing `{what}`"));
    let mut roles: Vec<(String, String, CustomRole)> = Vec::new();
    let mut members = Vec::new();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|label| label.as_str()).collect();
        let [kind, name] = labels.as_slice() else {
            return Err(TerraformError::Parse(format!(
                "a `{}` block without two labels",
                block.identifier()
            )));
        };
        let inner = block.body();
        match *kind {
            "google_project_iam_custom_role" | "google_organization_iam_custom_role" => {
                let parent = if *kind == "google_project_iam_custom_role" {
                    format!(
                        "projects/{}",
                        string_attribute(inner, "project").ok_or_else(|| missing("project"))?
                    )
                } else {
                    format!(
                        "organizations/{}",
                        string_attribute(inner, "org_id").ok_or_else(|| missing("org_id"))?
                    )
                };
                let permissions = inner
                    .attributes()
                    .find(|attribute| attribute.key() == "permissions")
                    .and_then(|attribute| match attribute.expr() {
                        Expression::Array(items) => items
                            .iter()
                            .map(|item| match item {
                                Expression::String(text) => Some(text.clone()),
                                _ => None,
                            })
                            .collect::<Option<Vec<String>>>(),
                        _ => None,
                    })
                    .ok_or_else(|| missing("permissions"))?;
                roles.push((
                    kind.to_string(),
                    name.to_string(),
                    CustomRole {
                        parent,
                        role_id: string_attribute(inner, "role_id")
                            .ok_or_else(|| missing("role_id"))?,
                        title: string_attribute(inner, "title").unwrap_or_default(),
                        description: string_attribute(inner, "description").unwrap_or_default(),
                        permissions,
                    },
                ));
            }
            "google_project_iam_member"
            | "google_folder_iam_member"
            | "google_organization_iam_member" => {
                let scope = match *kind {
                    "google_project_iam_member" => format!(
                        "projects/{}",
                        string_attribute(inner, "project").ok_or_else(|| missing("project"))?
                    ),
                    "google_folder_iam_member" => {
                        string_attribute(inner, "folder").ok_or_else(|| missing("folder"))?
                    }
                    _ => format!(
                        "organizations/{}",
                        string_attribute(inner, "org_id").ok_or_else(|| missing("org_id"))?
                    ),
                };
                let role = inner
                    .attributes()
                    .find(|attribute| attribute.key() == "role")
                    .map(|attribute| attribute.expr().to_string())
                    .ok_or_else(|| missing("role"))?;
                let condition = inner
                    .blocks()
                    .find(|block| block.identifier() == "condition")
                    .map(|block| -> Result<GcpCondition, TerraformError> {
                        Ok(GcpCondition {
                            title: string_attribute(block.body(), "title")
                                .ok_or_else(|| missing("condition.title"))?,
                            expression: string_attribute(block.body(), "expression")
                                .ok_or_else(|| missing("condition.expression"))?,
                            description: string_attribute(block.body(), "description"),
                        })
                    })
                    .transpose()?;
                members.push((
                    scope,
                    string_attribute(inner, "member").ok_or_else(|| missing("member"))?,
                    condition,
                    role,
                ));
            }
            other => {
                return Err(TerraformError::Parse(format!(
                    "unexpected resource type `{other}`"
                )));
            }
        }
    }
    members
        .into_iter()
        .map(|(scope, member, condition, role)| {
            let found = roles
                .iter()
                .find(|(kind, name, _)| role == format!("{kind}.{name}.name"))
                .ok_or_else(|| {
                    TerraformError::Parse(format!("`role = {role}` names no custom role above"))
                })?;
            Ok(TerraformBinding {
                scope,
                member,
                condition,
                role: found.2.clone(),
            })
        })
        .collect()
}
