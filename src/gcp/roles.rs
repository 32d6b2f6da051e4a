//! GCP roles → permissions, in the IAM API's `Role` shape.
//!
//! Predefined roles (`roles/…`) come from the embedded catalog
//! ([`crate::catalog::gcp::GcpRoleCatalog`], rebuilt with `pipeleash catalog import gcp`);
//! custom roles (`projects/p/roles/x`, `organizations/1/roles/x`) from the inventory, as
//! [`GcpRole`]. Both are read from the same wire shape, a page of
//! `GET https://iam.googleapis.com/v1/roles?view=FULL`
//! (<https://cloud.google.com/iam/docs/reference/rest/v1/roles/list>), by [`parse_role_page`].
//!
//! `includedPermissions` are exact permission names: IAM roles hold no wildcards
//! (<https://cloud.google.com/iam/docs/roles-overview>).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// A role's launch stage, `Role.stage` in the IAM API
/// (<https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles#rolelaunchstage>).
///
/// The API leaves the field out for `ALPHA` (the enum's zero value), so an absent stage reads
/// as [`RoleStage::Alpha`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleStage {
    Alpha,
    Beta,
    Ga,
    Deprecated,
    /// The role "will not contribute permissions to any principals it is granted to in
    /// policies": a binding to it grants nothing.
    Disabled,
    Eap,
}

impl RoleStage {
    /// Every stage, in a stable order.
    pub const ALL: [RoleStage; 6] = [
        RoleStage::Ga,
        RoleStage::Beta,
        RoleStage::Alpha,
        RoleStage::Eap,
        RoleStage::Deprecated,
        RoleStage::Disabled,
    ];

    /// The name the API writes, e.g. `GA`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleStage::Alpha => "ALPHA",
            RoleStage::Beta => "BETA",
            RoleStage::Ga => "GA",
            RoleStage::Deprecated => "DEPRECATED",
            RoleStage::Disabled => "DISABLED",
            RoleStage::Eap => "EAP",
        }
    }

    /// Whether a binding to a role in this stage grants its permissions.
    pub fn grants(self) -> bool {
        self != RoleStage::Disabled
    }
}

impl fmt::Display for RoleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoleStage {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RoleStage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown stage `{text}`; expected `GA`, `BETA`, `ALPHA`, `EAP`, `DEPRECATED` or `DISABLED`"
                )
            })
    }
}

/// A role and the permissions it contains: a custom role of the inventory, or a role as read
/// from the IAM API. Its permission list is complete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GcpRole {
    /// `roles/run.developer`, `projects/p/roles/deployer`, `organizations/1/roles/x`.
    pub name: String,
    pub title: String,
    pub stage: RoleStage,
    /// Exact permission names, e.g. `run.services.update`.
    pub permissions: BTreeSet<String>,
}

impl GcpRole {
    /// Whether a binding to this role grants `permission` (exact match; a disabled role grants
    /// nothing).
    pub fn grants(&self, permission: &str) -> bool {
        self.stage.grants() && self.permissions.contains(permission)
    }

    /// Whether the name is a predefined role's (`roles/…`) rather than a custom role's.
    pub fn is_predefined(&self) -> bool {
        is_predefined(&self.name)
    }
}

/// Whether a role name is a predefined role's: `roles/…`, where custom roles are
/// `projects/P/roles/…` or `organizations/O/roles/…`.
pub fn is_predefined(name: &str) -> bool {
    name.starts_with("roles/")
}

/// Is `name` a role name: `roles/R` (predefined), `projects/P/roles/R` or
/// `organizations/O/roles/R` (custom)?
pub fn is_role_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let well_formed = match parts.as_slice() {
        ["roles", role] => !role.is_empty(),
        ["projects" | "organizations", parent, "roles", role] => {
            !parent.is_empty() && !role.is_empty()
        }
        _ => false,
    };
    well_formed && !name.contains(char::is_whitespace)
}

/// Is `permission` shaped like a GCP permission: at least three dot-separated, non-empty
/// parts (`service.resource.verb`), no whitespace, tab or comma?
pub fn is_permission_name(permission: &str) -> bool {
    permission.split('.').count() >= 3
        && permission.split('.').all(|part| !part.is_empty())
        && !permission.contains(|c: char| c.is_whitespace() || c == ',')
}

/// A role list that cannot be read. Positions are 0-based indexes into the `roles` array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleParseError {
    #[error("cannot parse GCP roles as JSON: {0}")]
    Json(String),
    #[error(
        "this is not a GCP role list: expected a `roles.list` page (`{{\"roles\": [Role, …], \"nextPageToken\": …}}`), an array of `Role` objects or one `Role`, found {0}"
    )]
    NotARoleList(String),
    #[error("role {index} has no `name`; every `Role` of the IAM API has one")]
    MissingName { index: usize },
    #[error(
        "role {index} is named `{name}`, which is not a GCP role name (`roles/R`, `projects/P/roles/R` or `organizations/O/roles/R`)"
    )]
    BadName { index: usize, name: String },
    #[error("role `{role}`: `{field}` must be {expected}")]
    BadField {
        role: String,
        field: &'static str,
        expected: &'static str,
    },
    #[error("role `{role}`: {message}")]
    Stage { role: String, message: String },
    #[error("role `{role}` lists permission `{permission}`, which is not `service.resource.verb`")]
    BadPermission { role: String, permission: String },
    #[error("role `{0}` appears twice with different contents")]
    Duplicate(String),
}

/// One page of `roles.list` (or any list of `Role` objects), parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RolePage {
    /// The roles in the order of the page, deleted ones left out.
    pub roles: Vec<GcpRole>,
    /// How many roles were marked `deleted: true` (they grant nothing and are left out).
    pub deleted: usize,
    /// The page's `nextPageToken`, when more pages follow.
    pub next_page_token: Option<String>,
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

/// Reads a page of `roles.list` (`{"roles": [...], "nextPageToken": "..."}`; an empty page is
/// `{}`), a JSON array of `Role` objects (`gcloud iam roles list --format=json`), or a single
/// `Role` (`roles.get`). Unknown fields (`etag`, `description`) are ignored; a missing `stage`
/// is `ALPHA` and a missing `includedPermissions` an empty list, as the API writes them.
pub fn parse_role_page(value: &serde_json::Value) -> Result<RolePage, RoleParseError> {
    let (items, next_page_token): (&[serde_json::Value], Option<String>) = match value {
        serde_json::Value::Array(items) => (items, None),
        serde_json::Value::Object(object) => {
            let token = match object.get("nextPageToken") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(token)) if token.is_empty() => None,
                Some(serde_json::Value::String(token)) => Some(token.clone()),
                Some(other) => {
                    return Err(RoleParseError::NotARoleList(format!(
                        "a `nextPageToken` that is {}",
                        describe(other)
                    )));
                }
            };
            match object.get("roles") {
                Some(serde_json::Value::Array(items)) => (items.as_slice(), token),
                Some(other) => {
                    return Err(RoleParseError::NotARoleList(format!(
                        "`roles` as {}",
                        describe(other)
                    )));
                }
                // A single role (`roles.get`).
                None if object.contains_key("name") => (std::slice::from_ref(value), None),
                // The API writes an empty last page as `{}`.
                None if object.keys().all(|key| key == "nextPageToken") => (&[][..], token),
                None => return Err(RoleParseError::NotARoleList(describe(value))),
            }
        }
        other => return Err(RoleParseError::NotARoleList(describe(other))),
    };
    let mut page = RolePage {
        next_page_token,
        ..RolePage::default()
    };
    for (index, item) in items.iter().enumerate() {
        if let Some(role) = parse_role(index, item)? {
            page.roles.push(role);
        } else {
            page.deleted += 1;
        }
    }
    Ok(page)
}

/// One `Role`; `None` when it is marked deleted.
fn parse_role(index: usize, item: &serde_json::Value) -> Result<Option<GcpRole>, RoleParseError> {
    let Some(object) = item.as_object() else {
        return Err(RoleParseError::NotARoleList(format!(
            "role {index} as {}",
            describe(item)
        )));
    };
    let name = match object.get("name") {
        Some(serde_json::Value::String(name)) if !name.trim().is_empty() => name.trim().to_string(),
        _ => return Err(RoleParseError::MissingName { index }),
    };
    if !is_role_name(&name) {
        return Err(RoleParseError::BadName { index, name });
    }
    let bad = |field: &'static str, expected: &'static str| RoleParseError::BadField {
        role: name.clone(),
        field,
        expected,
    };
    let text = |field: &'static str| match object.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text.as_str())),
        Some(_) => Err(bad(field, "a string")),
    };
    let title = text("title")?.unwrap_or_default().trim().to_string();
    let stage = match text("stage")? {
        None => RoleStage::Alpha,
        Some(stage) => stage.parse().map_err(|message| RoleParseError::Stage {
            role: name.clone(),
            message,
        })?,
    };
    match object.get("deleted") {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {}
        Some(serde_json::Value::Bool(true)) => return Ok(None),
        Some(_) => return Err(bad("deleted", "a boolean")),
    }
    let mut permissions = BTreeSet::new();
    match object.get("includedPermissions") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(list)) => {
            for permission in list {
                let Some(permission) = permission.as_str() else {
                    return Err(bad("includedPermissions", "a list of strings"));
                };
                if !is_permission_name(permission) {
                    return Err(RoleParseError::BadPermission {
                        role: name.clone(),
                        permission: permission.to_string(),
                    });
                }
                permissions.insert(permission.to_string());
            }
        }
        Some(_) => return Err(bad("includedPermissions", "a list of strings")),
    }
    Ok(Some(GcpRole {
        name,
        title,
        stage,
        permissions,
    }))
}

/// Adds `role` to `roles`, refusing a second, different role of the same name (the same role
/// twice, as when a page is passed twice, is kept once).
pub fn insert_role(
    roles: &mut BTreeMap<String, GcpRole>,
    role: GcpRole,
) -> Result<(), RoleParseError> {
    match roles.get(&role.name) {
        Some(existing) if *existing == role => Ok(()),
        Some(_) => Err(RoleParseError::Duplicate(role.name)),
        None => {
            roles.insert(role.name.clone(), role);
            Ok(())
        }
    }
}

/// Parses a role list (see [`parse_role_page`]) into roles by name, e.g. the custom roles of an
/// organization or project for the inventory.
pub fn parse_roles(text: &str) -> Result<BTreeMap<String, GcpRole>, RoleParseError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| RoleParseError::Json(error.to_string()))?;
    let mut roles = BTreeMap::new();
    for role in parse_role_page(&value)?.roles {
        insert_role(&mut roles, role)?;
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_output_parses_with_stage_and_exact_permissions() {
        let roles = parse_roles(
            r#"{"roles":[{"name":"projects/p/roles/deployer","title":"D","stage":"GA","includedPermissions":["run.services.update"],"etag":"x"}]}"#,
        )
        .unwrap();
        let role = &roles["projects/p/roles/deployer"];
        assert_eq!(role.stage, RoleStage::Ga);
        assert!(role.grants("run.services.update"));
        assert!(!role.grants("run.services.*"));
        assert!(!role.is_predefined());
    }

    #[test]
    fn a_missing_stage_is_alpha_as_the_api_omits_it() {
        let roles =
            parse_roles(r#"[{"name":"roles/x.y","includedPermissions":["a.b.c"]}]"#).unwrap();
        assert_eq!(roles["roles/x.y"].stage, RoleStage::Alpha);
    }

    #[test]
    fn a_disabled_role_grants_nothing() {
        let roles = parse_roles(
            r#"{"roles":[{"name":"projects/p/roles/off","stage":"DISABLED","includedPermissions":["run.services.update"]}]}"#,
        )
        .unwrap();
        assert!(!roles["projects/p/roles/off"].grants("run.services.update"));
    }

    #[test]
    fn pages_keep_their_token_and_skip_deleted_roles() {
        let value = serde_json::json!({
            "roles": [
                {"name": "roles/a.b", "title": "A", "stage": "GA", "includedPermissions": ["a.b.c"]},
                {"name": "roles/gone", "deleted": true}
            ],
            "nextPageToken": "CgR0b2tlbg"
        });
        let page = parse_role_page(&value).unwrap();
        assert_eq!(page.roles.len(), 1);
        assert_eq!(page.deleted, 1);
        assert_eq!(page.next_page_token.as_deref(), Some("CgR0b2tlbg"));
        assert_eq!(
            parse_role_page(&serde_json::json!({})).unwrap(),
            RolePage::default()
        );
    }

    #[test]
    fn bad_lists_are_named() {
        assert!(matches!(parse_roles("{"), Err(RoleParseError::Json(_))));
        assert!(matches!(
            parse_roles(r#"{"value":[]}"#),
            Err(RoleParseError::NotARoleList(found)) if found.contains("`value`")
        ));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"title":"x"}]}"#),
            Err(RoleParseError::MissingName { index: 0 })
        ));
        assert!(matches!(
            parse_roles(r#"[{"name":"acdd72a7-3385-48ef-bd42-f606fba81ae7","roleName":"Reader"}]"#),
            Err(RoleParseError::BadName { index: 0, .. })
        ));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"name":"roles/r","includedPermissions":["storage"]}]}"#),
            Err(RoleParseError::BadPermission { .. })
        ));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"name":"roles/r","includedPermissions":"a.b.c"}]}"#),
            Err(RoleParseError::BadField {
                field: "includedPermissions",
                ..
            })
        ));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"name":"roles/r","stage":"LIVE"}]}"#),
            Err(RoleParseError::Stage { .. })
        ));
        assert!(matches!(
            parse_roles(
                r#"{"roles":[{"name":"roles/r","title":"a"},{"name":"roles/r","title":"b"}]}"#
            ),
            Err(RoleParseError::Duplicate(_))
        ));
        // The same role twice (a page passed twice) is one role.
        assert_eq!(
            parse_roles(r#"{"roles":[{"name":"roles/r"},{"name":"roles/r"}]}"#)
                .unwrap()
                .len(),
            1
        );
    }
}
