//! Azure role definitions: the wire shapes (ARM `properties.roleName`, `properties.permissions[]`,
//! or the flat shape `az role definition list` prints) parsed once into the model.
//!
//! Built-in definitions come from the embedded catalog
//! ([`crate::catalog::azure::AzureRoleCatalog`], rebuilt with `pipeleash catalog import azure`);
//! custom ones from the inventory.
//!
//! Semantics (<https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions>):
//! a definition allows an operation when one of its `permissions` blocks lists it in `actions`
//! (control plane) or `dataActions` (data plane) and the *same* block does not remove it with
//! `notActions` / `notDataActions`. Entries may hold `*` anywhere (`Microsoft.Storage/*/read`,
//! `*/read`, `*`); operation names compare case-insensitively. The two planes never mix: a `*`
//! in `actions` grants no data action.

use super::role_definition_key;
use crate::matching::{Case, glob_match};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Which of Azure's two planes an operation belongs to.
///
/// Control-plane operations (ARM: create a storage account, read a web app's configuration)
/// are granted by `actions`; data-plane operations (read a blob, get a key vault secret) by
/// `dataActions`. A role's `*` in `actions` never grants a data action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plane {
    Control,
    Data,
}

impl Plane {
    /// `control` or `data`.
    pub fn as_str(self) -> &'static str {
        match self {
            Plane::Control => "control",
            Plane::Data => "data",
        }
    }

    /// Tell which plane an operation belongs to from a set of role definitions: a data action
    /// when some definition names it in `dataActions` or `notDataActions` with an entry
    /// narrower than a bare `*`, a control action otherwise. Azure's operation catalog
    /// (`isDataAction` of `Microsoft.Authorization/providerOperations`) is the authority;
    /// callers that know the plane should use it directly.
    pub fn classify<'a>(
        definitions: impl IntoIterator<Item = &'a AzureRoleDefinition>,
        action: &str,
    ) -> Plane {
        let names_it = |definition: &AzureRoleDefinition| {
            definition.permissions.iter().any(|block| {
                block
                    .data_actions
                    .iter()
                    .chain(&block.not_data_actions)
                    .any(|pattern| pattern.trim() != "*" && operation_matches(pattern, action))
            })
        };
        if definitions.into_iter().any(names_it) {
            Plane::Data
        } else {
            Plane::Control
        }
    }
}

impl std::fmt::Display for Plane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Does a role definition entry (`Microsoft.Storage/*/read`) match an operation name? `*`
/// stands for any run of characters, anywhere in the entry; letter case does not matter.
pub fn operation_matches(pattern: &str, operation: &str) -> bool {
    // Azure knows only `*`; operation names never hold `?`, so the shared matcher's `?` never
    // changes an answer.
    glob_match(pattern, operation, Case::Insensitive)
}

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
    /// An ABAC condition on the block's operations, verbatim; when present, what the block
    /// allows is allowed only if it holds.
    pub condition: Option<String>,
    /// The condition language version (`2.0`), verbatim.
    pub condition_version: Option<String>,
}

impl AzurePermissionBlock {
    /// Does this block allow the control-plane `action`?
    pub fn allows_action(&self, action: &str) -> bool {
        any_match(&self.actions, action) && !any_match(&self.not_actions, action)
    }

    /// Does this block allow the data-plane `action`?
    pub fn allows_data_action(&self, action: &str) -> bool {
        any_match(&self.data_actions, action) && !any_match(&self.not_data_actions, action)
    }

    /// Does this block allow `action` on `plane`?
    pub fn allows(&self, action: &str, plane: Plane) -> bool {
        match plane {
            Plane::Control => self.allows_action(action),
            Plane::Data => self.allows_data_action(action),
        }
    }
}

fn any_match(patterns: &[String], action: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| operation_matches(pattern, action))
}

/// Built-in or custom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleType {
    BuiltIn,
    Custom,
}

impl RoleType {
    /// The name ARM writes: `BuiltInRole` or `CustomRole`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleType::BuiltIn => "BuiltInRole",
            RoleType::Custom => "CustomRole",
        }
    }
}

/// A role definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AzureRoleDefinition {
    /// The definition's GUID (its `name` in ARM), in lower case.
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

    /// The block that allows `action` on `plane`, preferring one without a condition; `None`
    /// when no block allows it.
    pub fn allowing_block(&self, action: &str, plane: Plane) -> Option<&AzurePermissionBlock> {
        let mut allowing = self
            .permissions
            .iter()
            .filter(|block| block.allows(action, plane));
        let first = allowing.next()?;
        if first.condition.is_none() {
            return Some(first);
        }
        Some(
            allowing
                .find(|block| block.condition.is_none())
                .unwrap_or(first),
        )
    }
}

/// Role definitions that cannot be read. Positions are 0-based indexes into the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleDefinitionError {
    #[error("cannot parse Azure role definitions as JSON: {0}")]
    Json(String),
    #[error(
        "this is not a list of Azure role definitions: expected an ARM `roleDefinitions` response (`{{\"value\": [{{\"id\", \"name\", \"properties\": {{\"roleName\", \"type\", \"permissions\", …}}}}], \"nextLink\": …}}`), the array `az role definition list` prints, or one definition; found {0}"
    )]
    NotADefinitionList(String),
    #[error("Azure role definition {index} (`{role_name}`) has no `name` or `id`")]
    MissingId { index: usize, role_name: String },
    #[error("Azure role definition {index} (`{id}`) has no `roleName`")]
    MissingRoleName { index: usize, id: String },
    #[error("Azure role definition `{role}`: `{field}` must be {expected}")]
    BadField {
        role: String,
        field: &'static str,
        expected: &'static str,
    },
    #[error(
        "Azure role definition `{role}`: unknown role type `{found}`; expected `BuiltInRole` or `CustomRole`"
    )]
    RoleType { role: String, found: String },
    #[error("Azure role definition `{0}` appears twice with different contents")]
    Duplicate(String),
}

/// One page of role definitions, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DefinitionPage {
    pub definitions: Vec<AzureRoleDefinition>,
    /// The response's `nextLink`, when more pages follow.
    pub next_link: Option<String>,
}

fn describe(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "`null`".to_string(),
        serde_json::Value::Bool(_) => "a boolean".to_string(),
        serde_json::Value::Number(_) => "a number".to_string(),
        serde_json::Value::String(_) => "a string".to_string(),
        serde_json::Value::Array(_) => "an array".to_string(),
        serde_json::Value::Object(object) => {
            let keys: Vec<String> = object.keys().take(5).map(|k| format!("`{k}`")).collect();
            if keys.is_empty() {
                "an empty object".to_string()
            } else {
                format!("an object with {}", keys.join(", "))
            }
        }
    }
}

/// Reads an ARM `roleDefinitions` list response
/// (`GET …/providers/Microsoft.Authorization/roleDefinitions`: `{"value": [...], "nextLink"}`,
/// fields under `properties`), the flat array `az role definition list` prints (`roleName`,
/// `roleType`, `permissions` at the top), or a single definition of either shape. Unknown
/// fields (`description`, `createdOn`) are ignored.
pub fn parse_definition_page(
    value: &serde_json::Value,
) -> Result<DefinitionPage, RoleDefinitionError> {
    let (items, next_link): (&[serde_json::Value], Option<String>) = match value {
        serde_json::Value::Array(items) => (items, None),
        serde_json::Value::Object(object) => {
            let next_link = match object.get("nextLink") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(link)) if link.is_empty() => None,
                Some(serde_json::Value::String(link)) => Some(link.clone()),
                Some(other) => {
                    return Err(RoleDefinitionError::NotADefinitionList(format!(
                        "a `nextLink` that is {}",
                        describe(other)
                    )));
                }
            };
            match object.get("value") {
                Some(serde_json::Value::Array(items)) => (items.as_slice(), next_link),
                Some(other) => {
                    return Err(RoleDefinitionError::NotADefinitionList(format!(
                        "`value` as {}",
                        describe(other)
                    )));
                }
                None if object.contains_key("properties") || object.contains_key("roleName") => {
                    (std::slice::from_ref(value), None)
                }
                None => return Err(RoleDefinitionError::NotADefinitionList(describe(value))),
            }
        }
        other => return Err(RoleDefinitionError::NotADefinitionList(describe(other))),
    };
    let definitions = items
        .iter()
        .enumerate()
        .map(|(index, item)| parse_definition(index, item))
        .collect::<Result<_, _>>()?;
    Ok(DefinitionPage {
        definitions,
        next_link,
    })
}

fn parse_definition(
    index: usize,
    item: &serde_json::Value,
) -> Result<AzureRoleDefinition, RoleDefinitionError> {
    let Some(object) = item.as_object() else {
        return Err(RoleDefinitionError::NotADefinitionList(format!(
            "definition {index} as {}",
            describe(item)
        )));
    };
    // ARM nests the definition under `properties`; the CLI flattens it.
    let properties = match object.get("properties") {
        Some(serde_json::Value::Object(properties)) => properties,
        Some(other) => {
            return Err(RoleDefinitionError::NotADefinitionList(format!(
                "definition {index} with `properties` as {}",
                describe(other)
            )));
        }
        None => object,
    };
    fn string<'a>(
        map: &'a serde_json::Map<String, serde_json::Value>,
        field: &str,
    ) -> Option<&'a str> {
        map.get(field)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
    }
    let role_name = string(properties, "roleName");
    let raw_id = string(object, "name").or_else(|| string(object, "id"));
    let Some(raw_id) = raw_id else {
        return Err(RoleDefinitionError::MissingId {
            index,
            role_name: role_name.unwrap_or_default().to_string(),
        });
    };
    let id = role_definition_key(raw_id);
    let Some(role_name) = role_name else {
        return Err(RoleDefinitionError::MissingRoleName { index, id });
    };
    let role = || format!("{role_name}` (`{id}");
    // ARM writes the type as `properties.type`; the CLI as `roleType` (its `type` is the ARM
    // resource type, `Microsoft.Authorization/roleDefinitions`).
    let type_text = string(properties, "roleType")
        .or_else(|| string(properties, "type").filter(|text| !text.contains('/')));
    let role_type = match type_text {
        Some(text) if text.eq_ignore_ascii_case("BuiltInRole") => RoleType::BuiltIn,
        Some(text) if text.eq_ignore_ascii_case("CustomRole") => RoleType::Custom,
        Some(text) => {
            return Err(RoleDefinitionError::RoleType {
                role: role(),
                found: text.to_string(),
            });
        }
        None => {
            return Err(RoleDefinitionError::BadField {
                role: role(),
                field: "type",
                expected: "`BuiltInRole` or `CustomRole` (ARM `properties.type`, CLI `roleType`)",
            });
        }
    };
    let permissions = match properties.get("permissions") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(blocks)) => blocks
            .iter()
            .map(|block| parse_block(&role(), block))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(RoleDefinitionError::BadField {
                role: role(),
                field: "permissions",
                expected: "a list of permission blocks",
            });
        }
    };
    let assignable_scopes = string_list(&role(), properties, "assignableScopes")?;
    Ok(AzureRoleDefinition {
        id,
        role_name: role_name.to_string(),
        role_type,
        permissions,
        assignable_scopes,
    })
}

/// A list of strings, each trimmed (two entries of the built-in roles carry a trailing space;
/// no operation name has one), empty entries dropped.
fn string_list(
    role: &str,
    map: &serde_json::Map<String, serde_json::Value>,
    field: &'static str,
) -> Result<Vec<String>, RoleDefinitionError> {
    let bad = || RoleDefinitionError::BadField {
        role: role.to_string(),
        field,
        expected: "a list of strings",
    };
    match map.get(field) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item.as_str() {
                Some(text) if text.trim().is_empty() => None,
                Some(text) => Some(Ok(text.trim().to_string())),
                None => Some(Err(bad())),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

fn parse_block(
    role: &str,
    block: &serde_json::Value,
) -> Result<AzurePermissionBlock, RoleDefinitionError> {
    let Some(map) = block.as_object() else {
        return Err(RoleDefinitionError::BadField {
            role: role.to_string(),
            field: "permissions",
            expected: "a list of objects with `actions`, `notActions`, `dataActions` and `notDataActions`",
        });
    };
    let optional_text = |field: &'static str| match map.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text.trim().to_string())),
        Some(_) => Err(RoleDefinitionError::BadField {
            role: role.to_string(),
            field,
            expected: "a string",
        }),
    };
    Ok(AzurePermissionBlock {
        actions: string_list(role, map, "actions")?,
        not_actions: string_list(role, map, "notActions")?,
        data_actions: string_list(role, map, "dataActions")?,
        not_data_actions: string_list(role, map, "notDataActions")?,
        condition: optional_text("condition")?,
        condition_version: optional_text("conditionVersion")?,
    })
}

/// Adds `definition` to `definitions` (keyed by GUID), refusing a second, different definition
/// with the same GUID; the same definition twice is kept once.
pub fn insert_definition(
    definitions: &mut BTreeMap<String, AzureRoleDefinition>,
    definition: AzureRoleDefinition,
) -> Result<(), RoleDefinitionError> {
    match definitions.get(&definition.id) {
        Some(existing) if *existing == definition => Ok(()),
        Some(_) => Err(RoleDefinitionError::Duplicate(definition.id)),
        None => {
            definitions.insert(definition.id.clone(), definition);
            Ok(())
        }
    }
}

/// Parses role definitions (see [`parse_definition_page`]) into definitions keyed by lower-case
/// GUID, e.g. the custom definitions of a subscription for the inventory.
pub fn parse_role_definitions(
    text: &str,
) -> Result<BTreeMap<String, AzureRoleDefinition>, RoleDefinitionError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| RoleDefinitionError::Json(error.to_string()))?;
    let mut definitions = BTreeMap::new();
    for definition in parse_definition_page(&value)?.definitions {
        insert_definition(&mut definitions, definition)?;
    }
    Ok(definitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(actions: &[&str], not_actions: &[&str]) -> AzurePermissionBlock {
        AzurePermissionBlock {
            actions: actions.iter().map(|a| a.to_string()).collect(),
            not_actions: not_actions.iter().map(|a| a.to_string()).collect(),
            ..AzurePermissionBlock::default()
        }
    }

    #[test]
    fn wildcards_match_anywhere_and_ignore_case() {
        // https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions
        for (pattern, operation, expected) in [
            (
                "Microsoft.Storage/*/read",
                "Microsoft.Storage/storageAccounts/read",
                true,
            ),
            (
                "Microsoft.Storage/*/read",
                "microsoft.storage/storageaccounts/blobservices/READ",
                true,
            ),
            (
                "Microsoft.Storage/*/read",
                "Microsoft.Storage/storageAccounts/write",
                false,
            ),
            ("*/read", "Microsoft.Web/sites/read", true),
            ("*", "Microsoft.Web/sites/delete", true),
            (
                "Microsoft.Compute/*",
                "Microsoft.Network/virtualNetworks/read",
                false,
            ),
            (
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/roleAssignments/write",
                true,
            ),
        ] {
            assert_eq!(
                operation_matches(pattern, operation),
                expected,
                "{pattern} vs {operation}"
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
                block(&["Microsoft.Web/*"], &["Microsoft.Web/sites/delete"]),
                block(&["Microsoft.Web/sites/delete"], &[]),
            ],
            assignable_scopes: vec![],
        };
        assert!(definition.allows_action("Microsoft.Web/sites/delete"));
        let single = AzureRoleDefinition {
            permissions: vec![block(&["Microsoft.Web/*"], &["Microsoft.Web/sites/delete"])],
            ..definition
        };
        assert!(!single.allows_action("Microsoft.Web/sites/delete"));
    }

    #[test]
    fn an_unconditional_block_is_preferred() {
        let conditional = AzurePermissionBlock {
            condition: Some("@Resource[x] StringEquals 'y'".to_string()),
            ..block(&["Microsoft.Web/*"], &[])
        };
        let definition = AzureRoleDefinition {
            id: "x".to_string(),
            role_name: "x".to_string(),
            role_type: RoleType::Custom,
            permissions: vec![
                conditional.clone(),
                block(&["Microsoft.Web/sites/read"], &[]),
            ],
            assignable_scopes: vec![],
        };
        let read = definition.allowing_block("Microsoft.Web/sites/read", Plane::Control);
        assert_eq!(read.and_then(|b| b.condition.as_ref()), None);
        let write = definition.allowing_block("Microsoft.Web/sites/write", Plane::Control);
        assert_eq!(write, Some(&conditional));
        assert_eq!(
            definition.allowing_block("Microsoft.Web/sites/write", Plane::Data),
            None
        );
    }

    #[test]
    fn arm_and_cli_shapes_give_the_same_definition() {
        let arm = r#"{"value":[{"id":"/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7","name":"acdd72a7-3385-48ef-bd42-f606fba81ae7","type":"Microsoft.Authorization/roleDefinitions","properties":{"roleName":"Reader","type":"BuiltInRole","assignableScopes":["/"],"permissions":[{"actions":["*/read"],"notActions":[],"dataActions":[],"notDataActions":[]}]}}],"nextLink":null}"#;
        let cli = r#"[{"assignableScopes":["/"],"description":"View all resources","name":"acdd72a7-3385-48ef-bd42-f606fba81ae7","permissions":[{"actions":["*/read "],"condition":null,"conditionVersion":null,"dataActions":[],"notActions":[],"notDataActions":[]}],"roleName":"Reader","roleType":"BuiltInRole","type":"Microsoft.Authorization/roleDefinitions"}]"#;
        let from_arm = parse_role_definitions(arm).unwrap();
        assert_eq!(from_arm, parse_role_definitions(cli).unwrap());
        let reader = &from_arm["acdd72a7-3385-48ef-bd42-f606fba81ae7"];
        assert_eq!(reader.role_type, RoleType::BuiltIn);
        assert_eq!(reader.permissions[0].actions, ["*/read"]);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(matches!(
            parse_role_definitions(r#"{"value": 3}"#),
            Err(RoleDefinitionError::NotADefinitionList(found)) if found.contains("`value`")
        ));
        assert!(matches!(
            parse_role_definitions(r#"{"roles": []}"#),
            Err(RoleDefinitionError::NotADefinitionList(found)) if found.contains("`roles`")
        ));
        assert!(matches!(
            parse_role_definitions(r#"{"value":[{"properties":{"roleName":"x"}}]}"#),
            Err(RoleDefinitionError::MissingId { index: 0, role_name }) if role_name == "x"
        ));
        assert!(matches!(
            parse_role_definitions(
                r#"{"value":[{"name":"g","properties":{"type":"BuiltInRole"}}]}"#
            ),
            Err(RoleDefinitionError::MissingRoleName { index: 0, .. })
        ));
        assert!(matches!(
            parse_role_definitions(r#"{"value":[{"name":"g","properties":{"roleName":"x"}}]}"#),
            Err(RoleDefinitionError::BadField { field: "type", .. })
        ));
        assert!(matches!(
            parse_role_definitions(
                r#"{"value":[{"name":"g","properties":{"roleName":"x","type":"BuiltInRole","permissions":[{"actions":"*"}]}}]}"#
            ),
            Err(RoleDefinitionError::BadField {
                field: "actions",
                ..
            })
        ));
    }
}
