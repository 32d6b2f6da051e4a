//! `pipeleash minimize SERVICE_ACCOUNT --format json` for GCP (`format_version` 1), also the
//! `minimized` proposal of a GCP identity in `audit --format json`: each custom role in the
//! shape `gcloud iam roles create --file` reads (the IAM API's `Role`:
//! <https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles#Role>), its
//! bindings with the `gcloud … add-iam-policy-binding` commands that apply them
//! (<https://cloud.google.com/sdk/gcloud/reference/projects/add-iam-policy-binding>), the
//! bindings it replaces, and why each permission is kept.

use crate::gcp::GcpCondition;
use crate::gcp::minimize::{
    CustomRole, FORMAT_VERSION, GcpMinimization, KeptBecause, ProposedBinding,
};
use crate::output::shell_word;
use serde::Serialize;

/// The JSON of a GCP minimization.
#[derive(Debug, Serialize)]
pub struct GcpMinimizationView {
    format_version: u32,
    /// Always `gcp`.
    provider: &'static str,
    /// The service account's email.
    identity: String,
    /// The IAM member the bindings name (`serviceAccount:…`).
    member: String,
    roles: Vec<GcpCustomRoleView>,
    bindings: Vec<GcpBindingView>,
    replaces: Vec<GcpReplacedBindingView>,
    kept: Vec<GcpKeptView>,
    removed: Vec<String>,
    granted_elsewhere: Vec<String>,
    proof: GcpProofView,
    /// Only when an IAM deny policy took permissions away, so that outputs without deny
    /// policies keep their shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    denied_by_deny_policy: Vec<String>,
}

/// One custom role: its full name, where it is created and the file and command that create it.
#[derive(Debug, Serialize)]
pub struct GcpCustomRoleView {
    /// `projects/p/roles/id` or `organizations/o/roles/id`.
    name: String,
    parent: String,
    role_id: String,
    file: GcpRoleFileView,
    /// `gcloud iam roles create …`.
    command: String,
}

/// The file `gcloud iam roles create --file` reads.
#[derive(Debug, Serialize)]
pub struct GcpRoleFileView {
    title: String,
    description: String,
    /// Always `GA`.
    stage: &'static str,
    #[serde(rename = "includedPermissions")]
    included_permissions: Vec<String>,
}

/// An IAM condition: `null` in the JSON when a binding has none.
#[derive(Debug, Serialize)]
pub struct GcpConditionView {
    title: String,
    expression: String,
    description: Option<String>,
}

/// One proposed binding.
#[derive(Debug, Serialize)]
pub struct GcpBindingView {
    scope: String,
    /// The custom role's full name.
    role: String,
    member: String,
    condition: Option<GcpConditionView>,
    /// `gcloud … add-iam-policy-binding …` at a project, folder or organization; `null` for a
    /// binding on a single resource (each service has its own command).
    command: Option<String>,
}

/// One binding the proposal replaces.
#[derive(Debug, Serialize)]
pub struct GcpReplacedBindingView {
    grant: String,
    resource: String,
    role: String,
    condition: Option<GcpConditionView>,
}

/// One kept permission and why: `because` is `used` (with `calls` and `resources`) or
/// `unobservable` (with `reason`).
#[derive(Debug, Serialize)]
pub struct GcpKeptView {
    permission: String,
    scope: String,
    condition: Option<GcpConditionView>,
    at_current_scope: bool,
    because: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// What the proofs checked.
#[derive(Debug, Serialize)]
pub struct GcpProofView {
    never_broaden: usize,
    never_drop: usize,
}

impl GcpMinimizationView {
    pub fn new(minimization: &GcpMinimization) -> GcpMinimizationView {
        GcpMinimizationView {
            format_version: FORMAT_VERSION,
            provider: "gcp",
            identity: minimization.identity.native().to_string(),
            member: minimization.member.clone(),
            roles: minimization
                .roles
                .iter()
                .map(GcpCustomRoleView::new)
                .collect(),
            bindings: minimization
                .bindings
                .iter()
                .map(|binding| {
                    let role = &minimization.roles[binding.role];
                    GcpBindingView {
                        scope: binding.scope.clone(),
                        role: role.name(),
                        member: binding.member.clone(),
                        condition: binding.condition.as_ref().map(GcpConditionView::new),
                        command: binding_command(binding, role),
                    }
                })
                .collect(),
            replaces: minimization
                .replaced
                .iter()
                .map(|binding| GcpReplacedBindingView {
                    grant: binding.grant.as_str().to_string(),
                    resource: binding.resource.clone(),
                    role: binding.role.clone(),
                    condition: binding.condition.as_ref().map(GcpConditionView::new),
                })
                .collect(),
            kept: minimization
                .kept
                .iter()
                .map(|entry| {
                    let (because, calls, resources, reason) = match &entry.because {
                        KeptBecause::Used { calls, resources } => {
                            ("used", Some(*calls), Some(resources.clone()), None)
                        }
                        KeptBecause::Unobservable { reason } => {
                            ("unobservable", None, None, Some(reason.clone()))
                        }
                    };
                    GcpKeptView {
                        permission: entry.permission.clone(),
                        scope: entry.scope.clone(),
                        condition: entry.condition.as_ref().map(GcpConditionView::new),
                        at_current_scope: entry.at_current_scope,
                        because,
                        calls,
                        resources,
                        reason,
                    }
                })
                .collect(),
            removed: minimization.removed.clone(),
            granted_elsewhere: minimization.granted_elsewhere.clone(),
            proof: GcpProofView {
                never_broaden: minimization.proof.never_broaden,
                never_drop: minimization.proof.never_drop,
            },
            denied_by_deny_policy: minimization.denied.clone(),
        }
    }
}

impl GcpCustomRoleView {
    fn new(role: &CustomRole) -> GcpCustomRoleView {
        GcpCustomRoleView {
            name: role.name(),
            parent: role.parent.clone(),
            role_id: role.role_id.clone(),
            file: GcpRoleFileView {
                title: role.title.clone(),
                description: role.description.clone(),
                stage: "GA",
                included_permissions: role.permissions.clone(),
            },
            command: create_command(role),
        }
    }
}

impl GcpConditionView {
    fn new(condition: &GcpCondition) -> GcpConditionView {
        GcpConditionView {
            title: condition.title.clone(),
            expression: condition.expression.clone(),
            description: condition.description.clone(),
        }
    }
}

/// `projects/p` → (`projects`, `p`).
fn split_container(name: &str) -> Option<(&str, &str)> {
    let (kind, id) = name.split_once('/')?;
    (!id.contains('/')).then_some((kind, id))
}

/// `gcloud iam roles create ID --project=P|--organization=O --file=ID.json`.
fn create_command(role: &CustomRole) -> String {
    let location = match split_container(&role.parent) {
        Some(("organizations", id)) => format!("--organization={}", shell_word(id)),
        Some((_, id)) => format!("--project={}", shell_word(id)),
        None => format!("--project={}", shell_word(&role.parent)),
    };
    format!(
        "gcloud iam roles create {} {location} --file={}.json",
        shell_word(&role.role_id),
        shell_word(&role.role_id)
    )
}

/// The `gcloud … add-iam-policy-binding` command of a binding at a project, folder or
/// organization; `None` for a binding on a single resource (each service has its own command).
fn binding_command(binding: &ProposedBinding, role: &CustomRole) -> Option<String> {
    let (kind, id) = split_container(&binding.scope)?;
    let group = match kind {
        "projects" => "projects",
        "folders" => "resource-manager folders",
        "organizations" => "organizations",
        _ => return None,
    };
    let mut command = format!(
        "gcloud {group} add-iam-policy-binding {} --member={} --role={}",
        shell_word(id),
        shell_word(&binding.member),
        shell_word(&role.name())
    );
    match &binding.condition {
        Some(condition) => command.push_str(&format!(
            " --condition={}",
            shell_word(&format!(
                "expression={},title={}",
                condition.expression, condition.title
            ))
        )),
        None => command.push_str(" --condition=None"),
    }
    Some(command)
}
