//! Azure role definitions: the ARM wire shape (`properties.roleName`,
//! `properties.permissions[]`) parsed once into the model, and the embedded built-in seed.

use super::role_definition_key;
use crate::matching::{Case, glob_match};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One entry of a role definition's `permissions` array. A role allows an operation when some
/// block matches it in `actions` (or `dataActions`) and the same block does not remove it with
/// `notActions` (or `notDataActions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AzurePermissionBlock {
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
}

impl AzurePermissionBlock {
    /// Does this block allow the control-plane `action`? Patterns use `*`, case-insensitively.
    pub fn allows_action(&self, action: &str) -> bool {
        any_match(&self.actions, action) && !any_match(&self.not_actions, action)
    }

    /// Does this block allow the data-plane `action`?
    pub fn allows_data_action(&self, action: &str) -> bool {
        any_match(&self.data_actions, action) && !any_match(&self.not_data_actions, action)
    }
}

fn any_match(patterns: &[String], action: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| glob_match(pattern, action, Case::Insensitive))
}

/// Built-in or custom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleType {
    BuiltIn,
    Custom,
}

/// A role definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AzureRoleDefinition {
    /// The definition's GUID (its `name` in ARM).
    pub id: String,
    pub role_name: String,
    pub role_type: RoleType,
    pub permissions: Vec<AzurePermissionBlock>,
    pub assignable_scopes: Vec<String>,
}

impl AzureRoleDefinition {
    pub fn allows_action(&self, action: &str) -> bool {
        self.permissions
            .iter()
            .any(|block| block.allows_action(action))
    }

    pub fn allows_data_action(&self, action: &str) -> bool {
        self.permissions
            .iter()
            .any(|block| block.allows_data_action(action))
    }
}

/// Role definitions that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleDefinitionError {
    #[error("cannot parse Azure role definitions: {0}")]
    Json(String),
    #[error("Azure role definition `{0}` has no `name` or `id`")]
    MissingId(String),
}

#[derive(Deserialize)]
struct ListWire {
    #[serde(default)]
    value: Vec<DefinitionWire>,
}

#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
struct DefinitionWire {
    id: String,
    name: String,
    properties: PropertiesWire,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PropertiesWire {
    role_name: String,
    #[serde(rename = "type")]
    role_type: String,
    permissions: Vec<AzurePermissionBlock>,
    assignable_scopes: Vec<String>,
}

/// Parse an ARM role definition list (`{"value": [roleDefinition, …]}`), as returned by
/// `GET …/providers/Microsoft.Authorization/roleDefinitions`. Keyed by lower-case GUID.
pub fn parse_role_definitions(
    text: &str,
) -> Result<BTreeMap<String, AzureRoleDefinition>, RoleDefinitionError> {
    let list: ListWire =
        serde_json::from_str(text).map_err(|error| RoleDefinitionError::Json(error.to_string()))?;
    let mut definitions = BTreeMap::new();
    for wire in list.value {
        let raw_id = if wire.name.is_empty() {
            wire.id.clone()
        } else {
            wire.name.clone()
        };
        if raw_id.is_empty() {
            return Err(RoleDefinitionError::MissingId(wire.properties.role_name));
        }
        let key = role_definition_key(&raw_id);
        let role_type = if wire.properties.role_type.eq_ignore_ascii_case("CustomRole") {
            RoleType::Custom
        } else {
            RoleType::BuiltIn
        };
        definitions.insert(
            key.clone(),
            AzureRoleDefinition {
                id: key,
                role_name: wire.properties.role_name,
                role_type,
                permissions: wire.properties.permissions,
                assignable_scopes: wire.properties.assignable_scopes,
            },
        );
    }
    Ok(definitions)
}

/// The role definitions embedded from `providers/azure/roles.json`.
pub const ROLES_JSON: &str = include_str!("../../providers/azure/roles.json");

/// The embedded built-in role definitions, parsed once.
pub fn builtin_role_definitions()
-> Result<&'static BTreeMap<String, AzureRoleDefinition>, RoleDefinitionError> {
    static BUILTIN: OnceLock<Result<BTreeMap<String, AzureRoleDefinition>, RoleDefinitionError>> =
        OnceLock::new();
    BUILTIN
        .get_or_init(|| parse_role_definitions(ROLES_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> &'static AzureRoleDefinition {
        builtin_role_definitions()
            .unwrap()
            .values()
            .find(|definition| definition.role_name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn seed_holds_the_six_roles() {
        let all = builtin_role_definitions().unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(builtin("Reader").id, "acdd72a7-3385-48ef-bd42-f606fba81ae7");
    }

    #[test]
    fn action_table() {
        // (role, action, control plane allowed, data plane allowed)
        for (role, action, control, data) in [
            (
                "Reader",
                "Microsoft.Storage/storageAccounts/read",
                true,
                false,
            ),
            (
                "Reader",
                "microsoft.storage/storageaccounts/READ",
                true,
                false,
            ),
            (
                "Reader",
                "Microsoft.Storage/storageAccounts/write",
                false,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Storage/storageAccounts/write",
                true,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Authorization/roleAssignments/write",
                false,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Authorization/roleAssignments/read",
                true,
                false,
            ),
            // `*` in `actions` matches any string, but data actions are checked against
            // `dataActions` only, where Contributor has nothing.
            (
                "Contributor",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                true,
                false,
            ),
            (
                "Owner",
                "Microsoft.Authorization/roleAssignments/write",
                true,
                false,
            ),
            (
                "Storage Blob Data Contributor",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                false,
                true,
            ),
            (
                "Storage Blob Data Contributor",
                "Microsoft.Storage/storageAccounts/blobServices/containers/read",
                true,
                false,
            ),
            (
                "Storage Blob Data Contributor",
                "Microsoft.Storage/storageAccounts/listKeys/action",
                false,
                false,
            ),
            (
                "AcrPush",
                "Microsoft.ContainerRegistry/registries/push/write",
                true,
                false,
            ),
            (
                "AcrPush",
                "Microsoft.ContainerRegistry/registries/delete",
                false,
                false,
            ),
            (
                "Website Contributor",
                "Microsoft.Web/sites/config/write",
                true,
                false,
            ),
            (
                "Website Contributor",
                "Microsoft.Web/serverFarms/write",
                false,
                false,
            ),
        ] {
            let definition = builtin(role);
            assert_eq!(
                definition.allows_action(action),
                control,
                "{role} control {action}"
            );
            assert_eq!(
                definition.allows_data_action(action),
                data,
                "{role} data {action}"
            );
        }
    }

    #[test]
    fn not_actions_apply_within_their_own_block() {
        let definition = AzureRoleDefinition {
            id: "x".to_string(),
            role_name: "two blocks".to_string(),
            role_type: RoleType::Custom,
            permissions: vec![
                AzurePermissionBlock {
                    actions: vec!["Microsoft.Web/*".to_string()],
                    not_actions: vec!["Microsoft.Web/sites/delete".to_string()],
                    ..AzurePermissionBlock::default()
                },
                AzurePermissionBlock {
                    actions: vec!["Microsoft.Web/sites/delete".to_string()],
                    ..AzurePermissionBlock::default()
                },
            ],
            assignable_scopes: vec![],
        };
        assert!(definition.allows_action("Microsoft.Web/sites/delete"));
    }

    #[test]
    fn bad_input_is_named() {
        assert!(matches!(
            parse_role_definitions(r#"{"value": 3}"#),
            Err(RoleDefinitionError::Json(_))
        ));
        assert!(matches!(
            parse_role_definitions(r#"{"value":[{"properties":{"roleName":"x"}}]}"#),
            Err(RoleDefinitionError::MissingId(name)) if name == "x"
        ));
    }
}
