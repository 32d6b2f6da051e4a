//! Minimization of an Azure service principal's or managed identity's role assignments: a
//! custom role definition with the control-plane operations it used, assigned at the
//! narrowest scope that covers them, plus, unless dropped, what the Activity Log cannot show,
//! kept exactly as granted today; both proven before anything is printed.
//!
//! Steps:
//! 1. [`assignments`]: the identity's role assignments with their definitions (custom ones
//!    from the inventory, built-in ones from the embedded catalog). An unknown definition is
//!    an error: what it grants cannot be known.
//! 2. Used operations (allowed calls in the usage) go into one role per scope: the longest
//!    common ARM prefix of the scopes they were used at (resource, resource group or
//!    subscription), when the identity is granted each of them unconditionally there today;
//!    otherwise they stay at the scope of the assignment that grants them, with its
//!    condition.
//! 3. What the Activity Log cannot show (data-plane operations, which it never records, and
//!    control-plane reads, which it does not record either: <https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log>)
//!    is kept per original permissions block: its `actions` narrowed to the unobservable
//!    rules (`Microsoft.Storage/*` and the rule `*/read` give `Microsoft.Storage/*/read`),
//!    its `notActions`, `dataActions` and `notDataActions` as they are, at the original
//!    assignment's scope and condition. `--drop-unobservable` leaves these out.
//! 4. [`prove`]: *never broaden*: every used operation is granted today at its new scope, and
//!    every kept pattern is covered by the block it came from (structural glob subsumption,
//!    same exclusions, same scope); *never drop*: every allowed call is decided at least as
//!    permissively after the change as before, by the grant engine
//!    ([`crate::azure::evaluate`]).
//!
//! Custom role limits (<https://learn.microsoft.com/en-us/azure/role-based-access-control/custom-roles#custom-role-limits>):
//! one `assignableScopes` entry is used per role, never `/`.

mod render;

pub use render::{FORMAT_VERSION, render_json, render_terraform};

use super::{
    AzureAssignment, AzureError, AzurePermissionBlock, AzureRoleDefinition, AzureScope, Plane,
    RoleType, evaluate, operation_matches, role_definition,
};
use crate::access::AccessDecision;
use crate::matching::{Case, pattern_covers};
use crate::model::{
    Grant, GrantBody, GrantId, IdentityId, IdentityKind, Inventory, InventoryError, Provider, Usage,
};
use std::collections::BTreeMap;

/// An operation pattern the logs read cannot show, with why (a line of the Activity Log
/// coverage table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnobservableRule {
    pub pattern: String,
    pub plane: Plane,
    pub reason: String,
}

/// How to minimize.
#[derive(Debug, Clone, Default)]
pub struct AzureMinimizeOptions {
    /// Leave out what the logs cannot show instead of keeping it as granted.
    pub drop_unobservable: bool,
    /// The custom role's name; derived from the identity's display name when absent.
    pub role_name: Option<String>,
}

/// One custom role definition to create, in the shape `az role definition create
/// --role-definition` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRoleDefinition {
    pub name: String,
    pub description: String,
    pub permissions: AzurePermissionBlock,
    /// One scope: where it is assigned.
    pub assignable_scope: String,
    /// Why the role exists: `used` or `unobservable`.
    pub kind: RoleKind,
}

/// What a minimized role holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// Operations used in the window.
    Used,
    /// What the logs cannot show, kept as granted.
    Unobservable,
}

/// A role assignment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedAssignment {
    pub scope: String,
    /// Index into [`AzureMinimization::roles`].
    pub role: usize,
    /// The principal's object id.
    pub principal_id: String,
    pub condition: Option<String>,
}

/// The result for one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureMinimization {
    pub identity: IdentityId,
    pub roles: Vec<CustomRoleDefinition>,
    pub assignments: Vec<ProposedAssignment>,
    /// The assignments this replaces: (grant id, scope, role definition id, condition).
    pub replaced: Vec<(GrantId, String, String, Option<String>)>,
    /// Used operations no replaced assignment grants (granted elsewhere), sorted.
    pub granted_elsewhere: Vec<String>,
    /// The allowed calls the proof replays: operation → scope → calls.
    pub used_calls: BTreeMap<String, BTreeMap<String, u64>>,
    /// Unobservable kept patterns with their reasons, for the evidence: (pattern, reason).
    pub unobservable_kept: Vec<(String, String)>,
    pub proof: ProofCounts,
}

/// How much each proof checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProofCounts {
    pub never_broaden: usize,
    pub never_drop: usize,
}

/// Why an identity cannot be minimized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AzureMinimizeError {
    #[error("identity `{0}` is not in the inventory; check its object id against the snapshot")]
    UnknownIdentity(IdentityId),
    #[error("`{0}` is not an Azure service principal or managed identity")]
    NotAnAzureIdentity(IdentityId),
    #[error(
        "`{identity}` is assigned role definition `{definition}`, which is neither a collected \
         custom role nor a built-in role of the catalog; collect the role definitions of its \
         scope or update the catalog (`pipeleash catalog import azure`)"
    )]
    UnknownDefinition {
        identity: IdentityId,
        definition: String,
    },
    #[error(
        "the minimized role of `{identity}` failed its proof ({proof}): `{operation}` at \
         `{scope}`: {detail}; nothing is printed — please report this with the snapshot"
    )]
    ProofFailed {
        identity: IdentityId,
        proof: &'static str,
        operation: String,
        scope: String,
        detail: String,
    },
    #[error(transparent)]
    Engine(#[from] AzureError),
    #[error("cannot build the inventory after the change: {0}")]
    Inventory(#[from] InventoryError),
}

/// Minimize the Azure role assignments of `identity` to what `usage` shows it used.
///
/// `unobservable` lists the operation patterns the logs read cannot show; usage rows are
/// control-plane operations (`authorization.action`) at ARM scopes.
pub fn minimize(
    inventory: &Inventory,
    identity: &IdentityId,
    usage: &Usage,
    unobservable: &[UnobservableRule],
    options: &AzureMinimizeOptions,
) -> Result<AzureMinimization, AzureMinimizeError> {
    let subject = inventory
        .identities
        .get(identity)
        .ok_or_else(|| AzureMinimizeError::UnknownIdentity(identity.clone()))?;
    if !matches!(
        subject.kind,
        IdentityKind::AzureServicePrincipal | IdentityKind::AzureManagedIdentity
    ) {
        return Err(AzureMinimizeError::NotAnAzureIdentity(identity.clone()));
    }
    let base_name = options
        .role_name
        .clone()
        .unwrap_or_else(|| format!("{} (minimized)", subject.display_name));
    let current = assignments(inventory, identity)?;
    let used = used_operations(usage, identity);
    let mut result = AzureMinimization {
        identity: identity.clone(),
        roles: Vec::new(),
        assignments: Vec::new(),
        replaced: current
            .iter()
            .map(|(grant, assignment, _)| {
                (
                    grant.clone(),
                    assignment.scope.to_string(),
                    assignment.role_definition_id.clone(),
                    assignment.condition.clone(),
                )
            })
            .collect(),
        granted_elsewhere: Vec::new(),
        used_calls: used.clone(),
        unobservable_kept: Vec::new(),
        proof: ProofCounts::default(),
    };
    place_used(
        inventory,
        identity,
        &current,
        &used,
        &base_name,
        &mut result,
    )?;
    if !options.drop_unobservable {
        keep_unobservable(&current, unobservable, &base_name, &mut result);
    }
    result.proof = prove(inventory, &result, &current)?;
    Ok(result)
}

type Current = Vec<(GrantId, AzureAssignment, AzureRoleDefinition)>;

/// Step 1: the identity's assignments with their definitions.
fn assignments(
    inventory: &Inventory,
    identity: &IdentityId,
) -> Result<Current, AzureMinimizeError> {
    let mut current = Vec::new();
    for grant in inventory.grants_for(identity) {
        let GrantBody::Azure(assignment) = &grant.body else {
            continue;
        };
        let definition =
            role_definition(inventory, &assignment.role_definition_id)?.ok_or_else(|| {
                AzureMinimizeError::UnknownDefinition {
                    identity: identity.clone(),
                    definition: assignment.role_definition_id.clone(),
                }
            })?;
        current.push((grant.id.clone(), assignment.clone(), definition.clone()));
    }
    Ok(current)
}

/// Allowed calls of the identity: operation → scope → calls.
fn used_operations(
    usage: &Usage,
    identity: &IdentityId,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut used: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (key, record) in usage.for_identity(identity) {
        if record.count == 0 || key.permission.provider != Provider::Azure {
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

/// The longest common prefix of ARM scopes, cut to a whole `type/name` pair (a subscription,
/// resource group or resource); `None` when they share no subscription.
fn common_scope<'a>(scopes: impl Iterator<Item = &'a String>) -> Option<AzureScope> {
    let mut common: Option<Vec<String>> = None;
    for scope in scopes {
        let segments: Vec<String> = AzureScope::new(scope)
            .as_str()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        common = Some(match common {
            None => segments,
            Some(previous) => previous
                .into_iter()
                .zip(segments)
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let mut segments = common?;
    // `/subscriptions/S/resourceGroups/rg/providers/Microsoft.Web/sites/app`: pairs after the
    // resource group are `providers/<namespace>` then `type/name`; an odd cut falls back.
    while !segments.is_empty() && !is_scope(&segments) {
        segments.pop();
    }
    (segments.len() >= 2).then(|| AzureScope::new(&segments.join("/")))
}

/// Whether the segments end at a scope: a subscription, a resource group, or a resource.
fn is_scope(segments: &[String]) -> bool {
    match segments.len() {
        2 => segments[0].eq_ignore_ascii_case("subscriptions"),
        4 => segments[2].eq_ignore_ascii_case("resourceGroups"),
        n if n >= 8 => n % 2 == 0 && segments[4].eq_ignore_ascii_case("providers"),
        _ => false,
    }
}

/// Step 2: used operations into one role per (scope, condition).
fn place_used(
    inventory: &Inventory,
    identity: &IdentityId,
    current: &Current,
    used: &BTreeMap<String, BTreeMap<String, u64>>,
    base_name: &str,
    result: &mut AzureMinimization,
) -> Result<(), AzureMinimizeError> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
    let narrow = common_scope(used.values().flat_map(|scopes| scopes.keys()));
    for operation in used.keys() {
        let granting: Vec<&(GrantId, AzureAssignment, AzureRoleDefinition)> = current
            .iter()
            .filter(|(_, _, definition)| definition.allows_action(operation))
            .collect();
        if granting.is_empty() {
            result.granted_elsewhere.push(operation.clone());
            continue;
        }
        let at_narrow = match &narrow {
            Some(scope) => {
                evaluate(
                    inventory,
                    identity,
                    operation,
                    Plane::Control,
                    scope.as_str(),
                )?
                .decision
                    == AccessDecision::Granted
            }
            None => false,
        };
        if let (true, Some(scope)) = (at_narrow, &narrow) {
            groups
                .entry((scope.to_string(), None))
                .or_default()
                .push(operation.clone());
        } else {
            for (_, assignment, _) in granting {
                groups
                    .entry((assignment.scope.to_string(), assignment.condition.clone()))
                    .or_default()
                    .push(operation.clone());
            }
        }
    }
    for ((scope, condition), mut operations) in groups {
        operations.sort();
        operations.dedup();
        let name = numbered(base_name, result.roles.len());
        result.roles.push(CustomRoleDefinition {
            description: format!("The control-plane operations used, assigned at {scope}."),
            name,
            permissions: AzurePermissionBlock {
                actions: operations,
                ..AzurePermissionBlock::default()
            },
            assignable_scope: scope.clone(),
            kind: RoleKind::Used,
        });
        result.assignments.push(ProposedAssignment {
            scope,
            role: result.roles.len() - 1,
            principal_id: result.identity.native().to_string(),
            condition,
        });
    }
    Ok(())
}

fn numbered(base: &str, position: usize) -> String {
    if position == 0 {
        base.to_string()
    } else {
        format!("{base} {}", position + 1)
    }
}

/// The part of a granted pattern a rule covers, as patterns whose union contains it; empty
/// when they cannot overlap. Exact when the granted pattern ends in `*` and the rule starts
/// with one: `A*` ∩ `*B` is `A*B` plus each operation where `B` overlaps the end of `A`
/// (`Microsoft.Resources/deployments/*` ∩ `*/read` holds
/// `Microsoft.Resources/deployments/read`, which `…/deployments/*/read` does not match);
/// otherwise the granted pattern itself (a superset: keeping more is safe).
fn narrowed(granted: &str, rule: &str) -> Vec<String> {
    if !granted.contains('*') {
        return if operation_matches(rule, granted) {
            vec![granted.to_string()]
        } else {
            Vec::new()
        };
    }
    if !rule.contains('*') {
        return if operation_matches(granted, rule) {
            vec![rule.to_string()]
        } else {
            Vec::new()
        };
    }
    if pattern_covers(rule, granted, Case::Insensitive) {
        return vec![granted.to_string()];
    }
    if pattern_covers(granted, rule, Case::Insensitive) {
        return vec![rule.to_string()];
    }
    if let (Some(prefix), Some(suffix)) = (granted.strip_suffix('*'), rule.strip_prefix('*'))
        && !prefix.contains('*')
        && !suffix.contains('*')
    {
        let mut patterns = vec![format!("{prefix}*{suffix}")];
        let (lower_prefix, lower_suffix) =
            (prefix.to_ascii_lowercase(), suffix.to_ascii_lowercase());
        for overlap in 1..=prefix.len().min(suffix.len()) {
            if suffix.is_char_boundary(overlap) && lower_prefix.ends_with(&lower_suffix[..overlap])
            {
                patterns.push(format!("{prefix}{}", &suffix[overlap..]));
            }
        }
        return patterns;
    }
    vec![granted.to_string()]
}

/// Step 3: what the logs cannot show, per original permissions block.
fn keep_unobservable(
    current: &Current,
    unobservable: &[UnobservableRule],
    base_name: &str,
    result: &mut AzureMinimization,
) {
    for (_, assignment, definition) in current {
        for block in &definition.permissions {
            let mut actions = Vec::new();
            for granted in &block.actions {
                for rule in unobservable.iter().filter(|r| r.plane == Plane::Control) {
                    for kept in narrowed(granted, &rule.pattern) {
                        result
                            .unobservable_kept
                            .push((kept.clone(), rule.reason.clone()));
                        actions.push(kept);
                    }
                }
            }
            actions.sort_by_key(|a| a.to_ascii_lowercase());
            actions.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
            let data = !block.data_actions.is_empty();
            if data {
                for pattern in &block.data_actions {
                    result.unobservable_kept.push((
                        pattern.clone(),
                        "data-plane operations are not written to the Activity Log".to_string(),
                    ));
                }
            }
            if actions.is_empty() && !data {
                continue;
            }
            let kept = AzurePermissionBlock {
                not_actions: if actions.is_empty() {
                    Vec::new()
                } else {
                    block.not_actions.clone()
                },
                actions,
                data_actions: block.data_actions.clone(),
                not_data_actions: block.not_data_actions.clone(),
                condition: block.condition.clone(),
                condition_version: block.condition_version.clone(),
            };
            let name = numbered(base_name, result.roles.len());
            result.roles.push(CustomRoleDefinition {
                description: format!(
                    "What the Activity Log cannot show of `{}`, kept as granted at {}.",
                    definition.role_name, assignment.scope
                ),
                name,
                permissions: kept,
                assignable_scope: assignment.scope.to_string(),
                kind: RoleKind::Unobservable,
            });
            result.assignments.push(ProposedAssignment {
                scope: assignment.scope.to_string(),
                role: result.roles.len() - 1,
                principal_id: result.identity.native().to_string(),
                condition: assignment.condition.clone(),
            });
        }
    }
    result.unobservable_kept.sort();
    result.unobservable_kept.dedup();
}

/// The inventory with the identity's assignments replaced by the proposed ones.
pub fn replaced_inventory(
    inventory: &Inventory,
    minimization: &AzureMinimization,
) -> Result<Inventory, AzureMinimizeError> {
    let mut after = inventory.clone();
    after.retain_grants(|grant| {
        grant.identity != minimization.identity || !matches!(grant.body, GrantBody::Azure(_))
    });
    for (position, role) in minimization.roles.iter().enumerate() {
        let id = format!("00000000-0000-4000-8000-{position:012}");
        after.azure_role_definitions.insert(
            id.clone(),
            AzureRoleDefinition {
                id: id.clone(),
                role_name: role.name.clone(),
                role_type: RoleType::Custom,
                permissions: vec![role.permissions.clone()],
                assignable_scopes: vec![role.assignable_scope.clone()],
            },
        );
    }
    for (position, assignment) in minimization.assignments.iter().enumerate() {
        after.add_grant(Grant {
            id: GrantId::new(format!("minimized/{position}")),
            identity: minimization.identity.clone(),
            body: GrantBody::Azure(AzureAssignment {
                name: format!("minimized/{position}"),
                scope: AzureScope::new(&assignment.scope),
                role_definition_id: format!("00000000-0000-4000-8000-{:012}", assignment.role),
                condition: assignment.condition.clone(),
            }),
        })?;
    }
    Ok(after)
}

/// Step 4: both proofs.
///
/// Errors: [`AzureMinimizeError::ProofFailed`] naming the first operation and scope that fails.
fn prove(
    inventory: &Inventory,
    minimization: &AzureMinimization,
    current: &Current,
) -> Result<ProofCounts, AzureMinimizeError> {
    let identity = &minimization.identity;
    let failed =
        |proof, operation: &str, scope: &str, detail: String| AzureMinimizeError::ProofFailed {
            identity: identity.clone(),
            proof,
            operation: operation.to_string(),
            scope: scope.to_string(),
            detail,
        };
    let mut counts = ProofCounts::default();
    for assignment in &minimization.assignments {
        let role = &minimization.roles[assignment.role];
        match role.kind {
            RoleKind::Used => {
                for operation in &role.permissions.actions {
                    let before = evaluate(
                        inventory,
                        identity,
                        operation,
                        Plane::Control,
                        &assignment.scope,
                    )?
                    .decision;
                    let required = if assignment.condition.is_some() { 2 } else { 3 };
                    if before.permissiveness() < required {
                        return Err(failed(
                            "never broaden",
                            operation,
                            &assignment.scope,
                            format!("not granted there today ({before:?})"),
                        ));
                    }
                    counts.never_broaden += 1;
                }
            }
            RoleKind::Unobservable => {
                // Every kept pattern lies inside an `actions`/`dataActions` entry of a block
                // assigned at the same scope with the same condition, and keeps its exclusions.
                let origin = current.iter().find(|(_, original, definition)| {
                    original.scope.key() == AzureScope::new(&assignment.scope).key()
                        && original.condition == assignment.condition
                        && definition.permissions.iter().any(|block| {
                            covered(&block.actions, &role.permissions.actions)
                                && covered(&block.data_actions, &role.permissions.data_actions)
                                && block.not_data_actions == role.permissions.not_data_actions
                                && (role.permissions.actions.is_empty()
                                    || block.not_actions == role.permissions.not_actions)
                        })
                });
                if origin.is_none() {
                    return Err(failed(
                        "never broaden",
                        role.permissions.actions.first().map_or("", String::as_str),
                        &assignment.scope,
                        "a kept pattern is not inside the block it was taken from".to_string(),
                    ));
                }
                counts.never_broaden +=
                    role.permissions.actions.len() + role.permissions.data_actions.len();
            }
        }
    }
    let after = replaced_inventory(inventory, minimization)?;
    for (operation, scopes) in &minimization.used_calls {
        for scope in scopes.keys() {
            let before = evaluate(inventory, identity, operation, Plane::Control, scope)?.decision;
            let now = evaluate(&after, identity, operation, Plane::Control, scope)?.decision;
            if now.permissiveness() < before.permissiveness() {
                return Err(failed(
                    "never drop",
                    operation,
                    scope,
                    format!("{before:?} before, {now:?} after"),
                ));
            }
            counts.never_drop += 1;
        }
    }
    Ok(counts)
}

/// Whether every pattern of `kept` lies inside some pattern of `granted`.
fn covered(granted: &[String], kept: &[String]) -> bool {
    kept.iter().all(|pattern| {
        granted
            .iter()
            .any(|general| pattern_covers(general, pattern, Case::Insensitive))
    })
}

#[cfg(test)]
mod tests;
