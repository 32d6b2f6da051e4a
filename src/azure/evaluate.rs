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

/// The definition of role definition id `id` (any form whose last segment is the GUID): the
/// inventory's custom role, else the built-in role; `None` when neither defines it (what it
/// grants is then unknown, never nothing).
pub fn role_definition<'i>(
    inventory: &'i Inventory,
    id: &str,
) -> Result<Option<&'i AzureRoleDefinition>, AzureError> {
    let builtin = builtin_role_definitions()?;
    let key = super::role_definition_key(id);
    Ok(inventory
        .azure_role_definitions
        .get(&key)
        .or_else(|| builtin.get(&key)))
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
    let target = AzureScope::new(resource);
    let hierarchy = &inventory.azure_hierarchy;
    let mut verdicts = Verdicts::default();
    for grant in inventory.grants_for(identity) {
        match &grant.body {
            GrantBody::Azure(assignment) => {
                if !hierarchy.covers(&assignment.scope, &target) {
                    continue;
                }
                let Some(definition) = role_definition(inventory, &assignment.role_definition_id)?
                else {
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

    fn assigned(role_definition_id: &str, condition: Option<&str>) -> (Inventory, IdentityId) {
        use crate::azure::AzureAssignment;
        use crate::model::{Grant, GrantId, Identity, IdentityKind, Provider};
        let identity = IdentityId::new(Provider::Azure, "8f0c5a8e-0000-4000-8000-000000000009");
        let mut inventory = Inventory::new();
        inventory.add_identity(Identity {
            id: identity.clone(),
            kind: IdentityKind::AzureServicePrincipal,
            display_name: "pipeline".to_string(),
            container: String::new(),
            tags: std::collections::BTreeMap::new(),
            owner: None,
        });
        inventory
            .add_grant(Grant {
                id: GrantId::new("a1"),
                identity: identity.clone(),
                body: GrantBody::Azure(AzureAssignment {
                    name: "a1".to_string(),
                    scope: AzureScope::new("/subscriptions/s"),
                    role_definition_id: role_definition_id.to_string(),
                    condition: condition.map(str::to_string),
                }),
            })
            .unwrap();
        (inventory, identity)
    }

    #[test]
    fn a_built_in_role_with_a_condition_allows_only_conditionally() {
        // Key Vault Data Access Administrator: its permissions block carries a condition that
        // limits which roles it may assign.
        let (inventory, identity) = assigned("8b54135c-b56d-4d72-a534-26097cfdc8d8", None);
        let answer = evaluate(
            &inventory,
            &identity,
            "Microsoft.Authorization/roleAssignments/write",
            Plane::Control,
            "/subscriptions/s/resourceGroups/rg",
        )
        .unwrap();
        match answer.decision {
            crate::access::AccessDecision::Conditional { reason } => {
                assert!(
                    reason.contains("Key Vault Data Access Administrator"),
                    "{reason}"
                );
                assert!(reason.contains("ActionMatches"), "{reason}");
            }
            other => panic!("expected conditional, got {other:?}"),
        }
    }

    #[test]
    fn assignment_and_definition_conditions_are_both_named() {
        let (inventory, identity) = assigned(
            "8b54135c-b56d-4d72-a534-26097cfdc8d8",
            Some("@Resource[Microsoft.KeyVault/vaults:name] StringEquals 'ci'"),
        );
        let answer = evaluate(
            &inventory,
            &identity,
            "Microsoft.Authorization/roleAssignments/write",
            Plane::Control,
            "/subscriptions/s",
        )
        .unwrap();
        let crate::access::AccessDecision::Conditional { reason } = answer.decision else {
            panic!("expected conditional");
        };
        assert!(
            reason.contains("StringEquals 'ci'") && reason.contains("ActionMatches"),
            "{reason}"
        );
    }

    #[test]
    fn built_in_roles_come_from_the_full_catalog() {
        // AcrPull was not in the former six-role seed.
        let (inventory, identity) = assigned("7f951dda-4ed3-4680-a7ca-43fe172d538d", None);
        let decide = |action: &str| {
            evaluate(
                &inventory,
                &identity,
                action,
                Plane::Control,
                "/subscriptions/s",
            )
            .unwrap()
            .decision
        };
        assert_eq!(
            decide("Microsoft.ContainerRegistry/registries/pull/read"),
            crate::access::AccessDecision::Granted
        );
        assert_eq!(
            decide("Microsoft.ContainerRegistry/registries/push/write"),
            crate::access::AccessDecision::NotGranted
        );
    }
}
