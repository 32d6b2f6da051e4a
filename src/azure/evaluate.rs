//! Azure evaluation: which role assignments and deny assignments of an identity reach a scope,
//! and what they say about one operation on the control plane or the data plane.

use super::roles::{AzureRoleDefinition, builtin_role_definitions};
use super::{AzureError, AzureScope};
use crate::access::{AccessAnswer, Verdicts};
use crate::matching::{Case, glob_match};
use crate::model::{GrantBody, IdentityId, Inventory};

/// Azure keeps control-plane operations (ARM: `actions`) apart from data-plane operations
/// (blob reads, key vault secret gets: `dataActions`); a role's `*` in `actions` never grants
/// a data action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Plane {
    Control,
    Data,
}

impl Plane {
    /// Tell which plane an operation belongs to when the caller does not know, from the role
    /// definitions pipeleash has (embedded built-ins and the inventory's): an operation is a
    /// data action when some definition names it in `dataActions` or `notDataActions` with a
    /// pattern narrower than a bare `*`. Azure's operation catalog (`isDataAction`) is the
    /// authority; callers that have it should call `evaluate` with the plane directly.
    pub fn classify(inventory: &Inventory, action: &str) -> Result<Plane, AzureError> {
        let builtin = builtin_role_definitions()?;
        let names_it = |definition: &AzureRoleDefinition| {
            definition.permissions.iter().any(|block| {
                block
                    .data_actions
                    .iter()
                    .chain(&block.not_data_actions)
                    .any(|pattern| {
                        pattern.trim() != "*" && glob_match(pattern, action, Case::Insensitive)
                    })
            })
        };
        let is_data = builtin
            .values()
            .chain(inventory.azure_role_definitions.values())
            .any(names_it);
        Ok(if is_data { Plane::Data } else { Plane::Control })
    }
}

/// Is `action` (on `plane`) at `resource` (an ARM id) granted to `identity` by its Azure
/// grants?
pub fn evaluate(
    inventory: &Inventory,
    identity: &IdentityId,
    action: &str,
    plane: Plane,
    resource: &str,
) -> Result<AccessAnswer, AzureError> {
    let builtin = builtin_role_definitions()?;
    let target = AzureScope::new(resource);
    let hierarchy = &inventory.azure_hierarchy;
    let mut verdicts = Verdicts::default();
    for grant in inventory.grants_for(identity) {
        match &grant.body {
            GrantBody::Azure(assignment) => {
                if !hierarchy.covers(&assignment.scope, &target) {
                    continue;
                }
                let key = assignment.role_definition_key();
                let definition = inventory
                    .azure_role_definitions
                    .get(&key)
                    .or_else(|| builtin.get(&key));
                let Some(definition) = definition else {
                    verdicts.unknown.push((
                        grant.id.clone(),
                        format!(
                            "role definition `{}` is not known",
                            assignment.role_definition_id
                        ),
                    ));
                    continue;
                };
                let allowed = match plane {
                    Plane::Control => definition.allows_action(action),
                    Plane::Data => definition.allows_data_action(action),
                };
                if allowed {
                    let condition = assignment
                        .condition
                        .as_ref()
                        .map(|condition| format!("assignment condition `{condition}` holds"));
                    verdicts.allow.push((grant.id.clone(), condition));
                }
            }
            GrantBody::AzureDeny(deny) => {
                let reaches = if deny.does_not_apply_to_child_scopes {
                    deny.scope.key() == target.key()
                } else {
                    hierarchy.covers(&deny.scope, &target)
                };
                let denied = deny.permissions.iter().any(|block| match plane {
                    Plane::Control => block.allows_action(action),
                    Plane::Data => block.allows_data_action(action),
                });
                if reaches && denied {
                    verdicts.deny.push((grant.id.clone(), None));
                }
            }
            // Grants of other providers never apply to an Azure identity.
            GrantBody::Aws(_) | GrantBody::Gcp(_) | GrantBody::GcpDeny(_) => {}
        }
    }
    Ok(verdicts.decide())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_classification_table() {
        let inventory = Inventory::new();
        for (action, expected) in [
            (
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                Plane::Data,
            ),
            (
                "microsoft.storage/storageaccounts/blobservices/containers/blobs/write",
                Plane::Data,
            ),
            (
                "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                Plane::Control,
            ),
            ("Microsoft.Storage/storageAccounts/read", Plane::Control),
            ("Microsoft.Web/sites/write", Plane::Control),
        ] {
            assert_eq!(
                Plane::classify(&inventory, action).unwrap(),
                expected,
                "{action}"
            );
        }
    }
}
