//! Azure evaluation: which role assignments and deny assignments of an identity reach a scope,
//! and what they say about one operation on the control plane or the data plane.

use super::roles::{AzureRoleDefinition, Plane};
use super::{AzureError, AzureScope};
use crate::access::{AccessAnswer, Verdicts};
use crate::catalog::azure::AzureRoleCatalog;
use crate::model::{GrantBody, IdentityId, Inventory};
use std::collections::BTreeMap;

/// Every built-in role definition, from the embedded catalog, keyed by lower-case GUID; parsed
/// on first use.
pub fn builtin_role_definitions()
-> Result<&'static BTreeMap<String, AzureRoleDefinition>, AzureError> {
    AzureRoleCatalog::embedded()
        .map(AzureRoleCatalog::definitions)
        .map_err(|error| AzureError::Catalog(error.to_string()))
}

/// Which plane `action` belongs to, judged by [`Plane::classify`] over the built-in
/// definitions and the inventory's own.
pub fn plane_of(inventory: &Inventory, action: &str) -> Result<Plane, AzureError> {
    let builtin = builtin_role_definitions()?;
    Ok(Plane::classify(
        builtin
            .values()
            .chain(inventory.azure_role_definitions.values()),
        action,
    ))
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
                if let Some(block) = definition.allowing_block(action, plane) {
                    // Both the assignment's condition and the definition's must hold.
                    let conditions: Vec<String> = assignment
                        .condition
                        .iter()
                        .map(|condition| format!("assignment condition `{condition}` holds"))
                        .chain(block.condition.iter().map(|condition| {
                            format!(
                                "the condition of role definition `{}` holds: `{condition}`",
                                definition.role_name
                            )
                        }))
                        .collect();
                    let condition = (!conditions.is_empty()).then(|| conditions.join(" and "));
                    verdicts.allow.push((grant.id.clone(), condition));
                }
            }
            GrantBody::AzureDeny(deny) => {
                let reaches = if deny.does_not_apply_to_child_scopes {
                    deny.scope.key() == target.key()
                } else {
                    hierarchy.covers(&deny.scope, &target)
                };
                let denied = deny
                    .permissions
                    .iter()
                    .any(|block| block.allows(action, plane));
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
            assert_eq!(plane_of(&inventory, action).unwrap(), expected, "{action}");
        }
    }
}
