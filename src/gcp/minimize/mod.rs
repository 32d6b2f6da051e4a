//! Minimization of a GCP service account's grant: the bindings it holds today → one custom
//! role per scope with only the permissions it used (and those the logs cannot show), bound at
//! the narrowest scope that covers what it used, proven before anything is printed.
//!
//! Steps, each a function below:
//! 1. [`granted`]: every permission the identity's bindings grant, by binding (roles from the
//!    inventory's custom roles, else the embedded predefined-role catalog; basic roles
//!    `roles/owner|editor|viewer` are in that catalog). A role that is in neither is an error:
//!    what it grants cannot be known, so nothing can be proven about it.
//!    A permission an IAM deny policy denies the identity, unconditionally and for certain, at
//!    or above a binding's resource is not granted by that binding
//!    (<https://cloud.google.com/iam/docs/deny-overview#policy-eval>): it is listed as
//!    denied and never proposed. Conditional or possible deny rules leave the permission
//!    granted (it may be allowed), so they never remove it.
//! 2. [`place`]: where each kept permission goes. A used permission goes to the lowest common
//!    ancestor of the projects, folders and organizations holding the resources it was used
//!    on, when the identity is granted it unconditionally there today; otherwise it stays
//!    exactly where its current bindings grant it (same resource, same IAM condition). A
//!    permission the logs cannot show (Data Access audit logs off, see
//!    <https://cloud.google.com/logging/docs/audit#data-access>) is kept where it is granted
//!    today, labelled, unless the caller drops it. A granted permission the logs could show
//!    and no call used is removed.
//! 3. [`build`]: one custom role per (scope, condition), split at IAM's limit of 3,000
//!    permissions per custom role (<https://cloud.google.com/iam/quotas>), defined in the
//!    project that holds the scope or, for folder and organization scopes, in the
//!    organization (custom roles exist only at those two levels,
//!    <https://cloud.google.com/iam/docs/understanding-custom-roles>).
//! 4. [`prove`]: both proofs with the grant engine ([`crate::gcp::evaluate`]) on the old and
//!    the new inventory: *never broaden* (every permission of every new binding is granted to
//!    the identity today at the binding's scope by its allow bindings, so inheritance below it
//!    grants nothing new; the deny rules are the same before and after, so they are left out
//!    of this comparison)
//!    and *never drop* (every call the identity made that its current bindings allow, the new
//!    bindings allow as well). A failed proof is an error, never output.
//!
//! Used permissions that none of the identity's bindings contain (granted through a group,
//! or by a resource policy that was not collected) are not in any replaced binding, so they
//! are listed as granted elsewhere and left alone.

// A failed proof carries its evidence (identity, permission, resource, both decisions); it
// happens at most once per run, so the error's size costs nothing.
#![allow(clippy::result_large_err)]

pub(crate) mod render;

pub use render::{
    FORMAT_VERSION, TerraformBinding, TerraformError, parse_terraform, render_json,
    render_terraform,
};

pub use super::audit_log::Observability;
use super::evaluate::{hard_denied, hard_deny_rules};
use super::{GcpCondition, GcpError, GcpRole, RoleStage, evaluate};
use crate::access::AccessDecision;
use crate::catalog::gcp::GcpRoleCatalog;
use crate::model::Usage;
use crate::model::{
    Grant, GrantBody, GrantId, IdentityId, IdentityKind, Inventory, InventoryError, Provider,
};
use std::collections::{BTreeMap, BTreeSet};

/// IAM's limit on the permissions of one custom role
/// (<https://cloud.google.com/iam/quotas#limits>).
pub const CUSTOM_ROLE_PERMISSION_LIMIT: usize = 3000;

/// How to minimize.
#[derive(Debug, Clone, Default)]
pub struct GcpMinimizeOptions {
    /// Leave out permissions the logs cannot show instead of keeping them labelled.
    pub drop_unobservable: bool,
    /// The custom role id to use (`[a-zA-Z0-9_.]`, 3–64 characters); derived from the
    /// service account's name when absent.
    pub role_id: Option<String>,
}

/// Why one permission is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptBecause {
    /// Used in the window: allowed calls, and the resources they touched.
    Used { calls: u64, resources: Vec<String> },
    /// Granted today and invisible to the logs read.
    Unobservable { reason: String },
}

/// One permission of the minimized grant and where it is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPermission {
    pub permission: String,
    pub scope: String,
    pub condition: Option<GcpCondition>,
    pub because: KeptBecause,
    /// True when the permission stays where its current binding puts it because a narrower
    /// scope could not be shown to cover the resources it was used on.
    pub at_current_scope: bool,
}

/// A custom role to create, in the IAM API's `Role` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    /// `projects/<id>` or `organizations/<number>`.
    pub parent: String,
    /// `[a-zA-Z0-9_.]`, 3–64 characters.
    pub role_id: String,
    pub title: String,
    pub description: String,
    /// Sorted, at most [`CUSTOM_ROLE_PERMISSION_LIMIT`].
    pub permissions: Vec<String>,
}

impl CustomRole {
    /// The role's full name: `projects/p/roles/id` or `organizations/o/roles/id`.
    pub fn name(&self) -> String {
        format!("{}/roles/{}", self.parent, self.role_id)
    }
}

/// A binding of a new custom role to the service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedBinding {
    /// `projects/p`, `folders/f`, `organizations/o`, or a full resource name.
    pub scope: String,
    /// Index into [`GcpMinimization::roles`].
    pub role: usize,
    /// `serviceAccount:<email>`.
    pub member: String,
    pub condition: Option<GcpCondition>,
}

/// A binding the minimized grant replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacedBinding {
    pub grant: GrantId,
    pub resource: String,
    pub role: String,
    pub condition: Option<GcpCondition>,
}

/// How much each proof checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProofCounts {
    /// (permission, scope) pairs shown granted today: nothing broadens.
    pub never_broaden: usize,
    /// (permission, resource) pairs used and still allowed: nothing used is dropped.
    pub never_drop: usize,
}

/// The result for one service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpMinimization {
    pub identity: IdentityId,
    pub member: String,
    pub roles: Vec<CustomRole>,
    pub bindings: Vec<ProposedBinding>,
    /// Sorted by permission, then scope.
    pub kept: Vec<KeptPermission>,
    /// Granted, observable, never used: not in the new roles. Sorted.
    pub removed: Vec<String>,
    /// Used, but granted by none of the replaced bindings (a group, an uncollected resource
    /// policy): untouched by this change. Sorted.
    pub granted_elsewhere: Vec<String>,
    /// In a role bound today but denied to the identity, unconditionally and for certain, by
    /// an IAM deny policy at or above every binding that holds it: not granted, so not in
    /// the new roles. Sorted.
    pub denied: Vec<String>,
    pub replaced: Vec<ReplacedBinding>,
    /// The allowed calls the never-drop proof replays: permission → resource → calls.
    pub used_calls: BTreeMap<String, BTreeMap<String, u64>>,
    pub proof: ProofCounts,
}

/// Why a service account cannot be minimized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GcpMinimizeError {
    #[error("identity `{0}` is not in the inventory; check the name against `analyze --snapshot`")]
    UnknownIdentity(IdentityId),
    #[error(
        "`{0}` is not a GCP service account; minimize AWS and Azure identities with their own providers"
    )]
    NotAServiceAccount(IdentityId),
    #[error(
        "`{identity}` is bound to role `{role}`, which is neither a collected custom role nor a \
         predefined role of the catalog; collect the custom roles of its project or organization, \
         or update the catalog (`pipeleash catalog import gcp`)"
    )]
    UnknownRole { identity: IdentityId, role: String },
    #[error(
        "no custom role can be defined for scope `{scope}`: it is above a project and no \
         organization is recorded above it; collect with `--organization` so the hierarchy is known"
    )]
    NoOrganization { scope: String },
    #[error("custom role id `{0}` is not valid: use 3 to 64 letters, digits, `_` or `.`")]
    InvalidRoleId(String),
    #[error(
        "the minimized grant of `{identity}` failed its proof ({proof}): `{permission}` on \
         `{resource}` was {before} before and is {after} after; nothing is printed — please \
         report this with the snapshot"
    )]
    ProofFailed {
        identity: IdentityId,
        proof: &'static str,
        permission: String,
        resource: String,
        before: String,
        after: String,
    },
    #[error(transparent)]
    Engine(#[from] GcpError),
    #[error(transparent)]
    Terraform(#[from] TerraformError),
    #[error("cannot build the inventory after the change: {0}")]
    Inventory(#[from] InventoryError),
}

/// Minimize the GCP grant of `identity` to what `usage` shows it used.
///
/// `observability` says, per permission, whether the logs read could have shown a call that
/// needed it. Usage rows of other identities are ignored; denied calls never count as use.
pub fn minimize(
    inventory: &Inventory,
    identity: &IdentityId,
    usage: &Usage,
    observability: &dyn Fn(&str) -> Observability,
    options: &GcpMinimizeOptions,
) -> Result<GcpMinimization, GcpMinimizeError> {
    let subject = inventory
        .identities
        .get(identity)
        .ok_or_else(|| GcpMinimizeError::UnknownIdentity(identity.clone()))?;
    if identity.provider() != Provider::Gcp || subject.kind != IdentityKind::GcpServiceAccount {
        return Err(GcpMinimizeError::NotAServiceAccount(identity.clone()));
    }
    let member = format!("serviceAccount:{}", identity.native());
    let role_id = match &options.role_id {
        Some(id) => valid_role_id(id)?,
        None => derived_role_id(identity.native()),
    };
    let current = granted(inventory, identity)?;
    let used = used_permissions(usage, identity);
    let placement = place(inventory, identity, &current, &used, observability, options)?;
    let (roles, bindings) = build(inventory, &placement.kept, &member, &role_id, identity)?;
    let mut minimization = GcpMinimization {
        identity: identity.clone(),
        member,
        roles,
        bindings,
        kept: placement.kept,
        removed: placement.removed,
        granted_elsewhere: placement.granted_elsewhere,
        denied: current
            .denied
            .iter()
            .filter(|permission| !current.by_permission.contains_key(*permission))
            .cloned()
            .collect(),
        replaced: current.bindings,
        used_calls: used,
        proof: ProofCounts::default(),
    };
    minimization.proof = prove(inventory, &minimization)?;
    Ok(minimization)
}

/// The identity's current bindings and, per permission, the bindings that grant it.
#[derive(Debug, Default)]
struct Granted {
    bindings: Vec<ReplacedBinding>,
    /// permission → indexes into `bindings` (those that grant it where no deny rule takes it
    /// away).
    by_permission: BTreeMap<String, Vec<usize>>,
    /// Permissions of a bound role denied at that binding's resource.
    denied: BTreeSet<String>,
}

/// Step 1: what the identity's bindings grant.
fn granted(inventory: &Inventory, identity: &IdentityId) -> Result<Granted, GcpMinimizeError> {
    let catalog =
        GcpRoleCatalog::embedded().map_err(|error| GcpError::Catalog(error.to_string()))?;
    let mut result = Granted::default();
    let denies = hard_deny_rules(inventory, identity);
    for grant in inventory.grants_for(identity) {
        let GrantBody::Gcp(binding) = &grant.body else {
            continue;
        };
        let ancestry: BTreeSet<String> = inventory
            .gcp_hierarchy
            .ancestry(&binding.resource)
            .into_iter()
            .collect();
        let index = result.bindings.len();
        result.bindings.push(ReplacedBinding {
            grant: grant.id.clone(),
            resource: binding.resource.clone(),
            role: binding.role.clone(),
            condition: binding.condition.clone(),
        });
        let permissions: Vec<String> = match inventory.gcp_roles.get(&binding.role) {
            Some(role) if role.stage.grants() => role.permissions.iter().cloned().collect(),
            Some(_) => Vec::new(),
            None => match catalog.role(&binding.role) {
                Some(role) if role.stage.grants() => {
                    catalog.permissions_of(role).map(str::to_string).collect()
                }
                Some(_) => Vec::new(),
                None => {
                    return Err(GcpMinimizeError::UnknownRole {
                        identity: identity.clone(),
                        role: binding.role.clone(),
                    });
                }
            },
        };
        for permission in permissions {
            if !denies.is_empty() && hard_denied(&denies, &ancestry, &permission) {
                result.denied.insert(permission);
                continue;
            }
            result
                .by_permission
                .entry(permission)
                .or_default()
                .push(index);
        }
    }
    Ok(result)
}

/// Allowed calls of the identity: permission → resource → calls.
fn used_permissions(
    usage: &Usage,
    identity: &IdentityId,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut used: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (key, record) in usage.for_identity(identity) {
        if record.count == 0 || key.permission.provider != Provider::Gcp {
            continue;
        }
        *used
            .entry(key.permission.action.clone())
            .or_default()
            .entry(key.resource.clone())
            .or_default() += record.count;
    }
    used
}

#[derive(Debug, Default)]
struct Placement {
    kept: Vec<KeptPermission>,
    removed: Vec<String>,
    granted_elsewhere: Vec<String>,
}

/// Step 2: where each kept permission is bound.
fn place(
    inventory: &Inventory,
    identity: &IdentityId,
    current: &Granted,
    used: &BTreeMap<String, BTreeMap<String, u64>>,
    observability: &dyn Fn(&str) -> Observability,
    options: &GcpMinimizeOptions,
) -> Result<Placement, GcpMinimizeError> {
    let mut placement = Placement::default();
    // Deny rules stay as they are after the change, so where a used permission can move is
    // decided by the allow bindings alone.
    let allow_only = without_deny_rules(inventory, identity);
    for permission in used.keys() {
        if !current.by_permission.contains_key(permission) && !current.denied.contains(permission) {
            placement.granted_elsewhere.push(permission.clone());
        }
    }
    for (permission, binding_indexes) in &current.by_permission {
        let at_current = |because: &KeptBecause, narrowed: bool| -> Vec<KeptPermission> {
            binding_indexes
                .iter()
                .map(|&index| {
                    let binding = &current.bindings[index];
                    KeptPermission {
                        permission: permission.clone(),
                        scope: binding.resource.clone(),
                        condition: binding.condition.clone(),
                        because: because.clone(),
                        at_current_scope: !narrowed,
                    }
                })
                .collect()
        };
        if let Some(resources) = used.get(permission) {
            let because = KeptBecause::Used {
                calls: resources.values().sum(),
                resources: resources.keys().cloned().collect(),
            };
            match narrowest_scope(inventory, resources.keys()) {
                Some(scope)
                    if evaluate(&allow_only, identity, permission, &scope)?.decision
                        == AccessDecision::Granted =>
                {
                    placement.kept.push(KeptPermission {
                        permission: permission.clone(),
                        scope,
                        condition: None,
                        because,
                        at_current_scope: false,
                    });
                }
                _ => placement.kept.extend(dedup(at_current(&because, false))),
            }
            continue;
        }
        match observability(permission) {
            Observability::Unobservable { reason } if !options.drop_unobservable => {
                placement.kept.extend(dedup(at_current(
                    &KeptBecause::Unobservable { reason },
                    false,
                )))
            }
            _ => placement.removed.push(permission.clone()),
        }
    }
    placement.kept.sort_by(|a, b| {
        (&a.permission, &a.scope, &a.condition).cmp(&(&b.permission, &b.scope, &b.condition))
    });
    placement.removed.sort();
    placement.granted_elsewhere.sort();
    Ok(placement)
}

/// One entry per (scope, condition): two bindings of different roles on the same resource
/// both granting a permission keep it once.
fn dedup(mut kept: Vec<KeptPermission>) -> Vec<KeptPermission> {
    kept.sort_by(|a, b| (&a.scope, &a.condition).cmp(&(&b.scope, &b.condition)));
    kept.dedup_by(|a, b| a.scope == b.scope && a.condition == b.condition);
    kept
}

/// Is this a Resource Manager node (where bindings inherit from): a project, folder or
/// organization?
fn is_container(name: &str) -> bool {
    let mut parts = name.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("projects" | "folders" | "organizations"), Some(id), None) if !id.is_empty() && id != "_"
    )
}

/// The nearest project, folder or organization holding `resource` (itself if it is one).
fn home(inventory: &Inventory, resource: &str) -> Option<String> {
    inventory
        .gcp_hierarchy
        .ancestry(resource)
        .into_iter()
        .find(|name| is_container(name))
}

/// The lowest common ancestor of the homes of `resources`; `None` when one has no known home
/// or they share no ancestor.
fn narrowest_scope<'a>(
    inventory: &Inventory,
    resources: impl Iterator<Item = &'a String>,
) -> Option<String> {
    let mut common: Option<Vec<String>> = None;
    for resource in resources {
        let home = home(inventory, resource)?;
        let chain = inventory.gcp_hierarchy.ancestry(&home);
        common = Some(match common {
            None => chain,
            Some(previous) => previous
                .into_iter()
                .filter(|name| chain.contains(name))
                .collect(),
        });
    }
    common?.into_iter().next()
}

/// The parent a custom role bound at `scope` is defined in.
fn role_parent(inventory: &Inventory, scope: &str) -> Option<String> {
    let ancestry = inventory.gcp_hierarchy.ancestry(scope);
    let first_container = ancestry.iter().find(|name| is_container(name))?;
    if first_container.starts_with("projects/") {
        return Some(first_container.clone());
    }
    ancestry
        .iter()
        .find(|name| name.starts_with("organizations/"))
        .cloned()
}

/// Step 3: the custom roles and bindings.
fn build(
    inventory: &Inventory,
    kept: &[KeptPermission],
    member: &str,
    role_id: &str,
    identity: &IdentityId,
) -> Result<(Vec<CustomRole>, Vec<ProposedBinding>), GcpMinimizeError> {
    let mut groups: BTreeMap<(String, Option<GcpCondition>), BTreeSet<String>> = BTreeMap::new();
    for entry in kept {
        groups
            .entry((entry.scope.clone(), entry.condition.clone()))
            .or_default()
            .insert(entry.permission.clone());
    }
    let mut roles: Vec<CustomRole> = Vec::new();
    let mut bindings = Vec::new();
    for ((scope, condition), permissions) in groups {
        let parent = match role_parent(inventory, &scope) {
            Some(parent) => parent,
            // A resource outside any known project: define the role in the identity's own
            // project, where the service account lives.
            None if !is_container(&scope) => inventory
                .identities
                .get(identity)
                .map(|subject| subject.container.clone())
                .filter(|container| is_container(container))
                .ok_or_else(|| GcpMinimizeError::NoOrganization {
                    scope: scope.clone(),
                })?,
            None => return Err(GcpMinimizeError::NoOrganization { scope }),
        };
        let permissions: Vec<String> = permissions.into_iter().collect();
        for chunk in permissions.chunks(CUSTOM_ROLE_PERMISSION_LIMIT) {
            let same_parent = roles.iter().filter(|r| r.parent == parent).count();
            let id = if same_parent == 0 {
                role_id.to_string()
            } else {
                suffixed(role_id, same_parent + 1)
            };
            roles.push(CustomRole {
                parent: parent.clone(),
                role_id: id,
                title: truncate(&format!("Minimized {}", identity.native()), 100),
                description: truncate(
                    &format!(
                        "The permissions {} used or that audit logs cannot show, bound at {scope}.",
                        identity.native()
                    ),
                    300,
                ),
                permissions: chunk.to_vec(),
            });
            bindings.push(ProposedBinding {
                scope: scope.clone(),
                role: roles.len() - 1,
                member: member.to_string(),
                condition: condition.clone(),
            });
        }
    }
    Ok((roles, bindings))
}

fn truncate(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

fn suffixed(role_id: &str, number: usize) -> String {
    let suffix = format!("_{number}");
    let keep = 64usize.saturating_sub(suffix.len());
    format!("{}{suffix}", truncate(role_id, keep))
}

/// Role ids take letters, digits, `_` and `.`, 3 to 64 characters
/// (<https://cloud.google.com/iam/docs/reference/rest/v1/projects.roles/create>).
fn valid_role_id(id: &str) -> Result<String, GcpMinimizeError> {
    let valid = (3..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if valid {
        Ok(id.to_string())
    } else {
        Err(GcpMinimizeError::InvalidRoleId(id.to_string()))
    }
}

/// `deployer@p.iam.gserviceaccount.com` → `deployer_minimized`.
fn derived_role_id(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email);
    let cleaned: String = local
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let id = format!("{}_minimized", truncate(&cleaned, 54));
    if id.len() < 3 {
        "ci_minimized".to_string()
    } else {
        id
    }
}

/// The inventory without the identity's deny rules: what its allow bindings alone grant.
fn without_deny_rules(inventory: &Inventory, identity: &IdentityId) -> Inventory {
    let mut allow_only = inventory.clone();
    allow_only.retain_grants(|grant| {
        &grant.identity != identity || !matches!(grant.body, GrantBody::GcpDeny(_))
    });
    allow_only
}

/// The inventory with the identity's bindings replaced by the proposed ones (deny rules and
/// everything else kept).
fn replaced_inventory(
    inventory: &Inventory,
    minimization: &GcpMinimization,
) -> Result<Inventory, GcpMinimizeError> {
    let mut after = inventory.clone();
    after.retain_grants(|grant| {
        grant.identity != minimization.identity || !matches!(grant.body, GrantBody::Gcp(_))
    });
    for role in &minimization.roles {
        after.gcp_roles.insert(
            role.name(),
            GcpRole {
                name: role.name(),
                title: role.title.clone(),
                stage: RoleStage::Ga,
                permissions: role.permissions.iter().cloned().collect(),
            },
        );
    }
    for (position, binding) in minimization.bindings.iter().enumerate() {
        after.add_grant(Grant {
            id: GrantId::new(format!("minimized/{position}")),
            identity: minimization.identity.clone(),
            body: GrantBody::Gcp(super::GcpBinding {
                resource: binding.scope.clone(),
                role: minimization.roles[binding.role].name(),
                member: binding.member.clone(),
                condition: binding.condition.clone(),
            }),
        })?;
    }
    Ok(after)
}

fn describe(decision: &AccessDecision) -> String {
    match decision {
        AccessDecision::Granted => "granted".to_string(),
        AccessDecision::Denied => "denied".to_string(),
        AccessDecision::NotGranted => "not granted".to_string(),
        AccessDecision::Conditional { reason } => format!("conditional ({reason})"),
        AccessDecision::Unknown { reason } => format!("unknown ({reason})"),
    }
}

/// Step 4: both proofs, by the grant engine on the inventory before and after.
///
/// *Never broaden*: each permission of each proposed binding is granted to the identity today
/// at the binding's scope by its allow bindings (unconditionally, or conditionally when the
/// binding keeps a condition); the deny rules, unchanged by the proposal, apply alike before
/// and after. *Never drop*: each allowed call in `minimization.used_calls` is decided at
/// least as permissively after the change as before (granted stays granted).
///
/// Errors: [`GcpMinimizeError::ProofFailed`] naming the first permission and resource that
/// fails.
pub fn prove(
    inventory: &Inventory,
    minimization: &GcpMinimization,
) -> Result<ProofCounts, GcpMinimizeError> {
    let used = &minimization.used_calls;
    let after = replaced_inventory(inventory, minimization)?;
    let identity = &minimization.identity;
    let failed =
        |proof, permission: &str, resource: &str, before, after| GcpMinimizeError::ProofFailed {
            identity: identity.clone(),
            proof,
            permission: permission.to_string(),
            resource: resource.to_string(),
            before,
            after,
        };
    let mut counts = ProofCounts::default();
    let allow_only = without_deny_rules(inventory, identity);
    for binding in &minimization.bindings {
        for permission in &minimization.roles[binding.role].permissions {
            let before = evaluate(&allow_only, identity, permission, &binding.scope)?.decision;
            let required = if binding.condition.is_some() { 2 } else { 3 };
            if before.permissiveness() < required {
                let granted_as = if required == 3 {
                    "granted"
                } else {
                    "granted or conditional"
                };
                return Err(failed(
                    "never broaden",
                    permission,
                    &binding.scope,
                    describe(&before),
                    format!("bound there (needed: {granted_as} before)"),
                ));
            }
            counts.never_broaden += 1;
        }
    }
    for (permission, resources) in used {
        for resource in resources.keys() {
            let before = evaluate(inventory, identity, permission, resource)?.decision;
            let now = evaluate(&after, identity, permission, resource)?.decision;
            if now.permissiveness() < before.permissiveness() {
                return Err(failed(
                    "never drop",
                    permission,
                    resource,
                    describe(&before),
                    describe(&now),
                ));
            }
            counts.never_drop += 1;
        }
    }
    Ok(counts)
}

/// The proofs run again on Terraform as a user would apply it: the text is read back
/// ([`parse_terraform`]) and its roles and bindings replace the minimization's.
pub fn prove_terraform(
    inventory: &Inventory,
    minimization: &GcpMinimization,
    terraform: &str,
) -> Result<ProofCounts, GcpMinimizeError> {
    let parsed = parse_terraform(terraform)?;
    let mut applied = minimization.clone();
    applied.roles.clear();
    applied.bindings.clear();
    for binding in parsed {
        applied.roles.push(binding.role);
        applied.bindings.push(ProposedBinding {
            scope: binding.scope,
            role: applied.roles.len() - 1,
            member: binding.member,
            condition: binding.condition,
        });
    }
    prove(inventory, &applied)
}

#[cfg(test)]
mod tests;
