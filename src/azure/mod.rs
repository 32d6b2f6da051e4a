//! The Azure engine: role definitions (`actions`, `notActions`, `dataActions`,
//! `notDataActions`), role assignments at management group / subscription / resource group /
//! resource scope inherited down the ARM tree, deny assignments, and assignment conditions
//! (ABAC), which make an answer conditional rather than guessed.
//!
//! Built-in role definitions come from the embedded catalog `providers/azure/catalog/`
//! (every built-in role, see `crate::catalog::azure`); custom ones from the inventory.

pub mod activity_log;
pub mod analysis;
pub mod checks;
#[cfg(feature = "azure")]
pub mod collect;
mod evaluate;
pub mod inventory;
pub mod minimize;
pub mod normalize;
mod roles;
mod scope;

pub use evaluate::{builtin_role_definitions, evaluate, plane_of, role_definition};
pub use roles::{
    AzurePermissionBlock, AzureRoleDefinition, DefinitionPage, Plane, RoleDefinitionError,
    RoleType, insert_definition, operation_matches, parse_definition_page, parse_role_definitions,
};
pub use scope::{AzureScope, ManagementGroupHierarchy};

/// A role assignment to one principal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AzureAssignment {
    /// The assignment's ARM id or name, for evidence.
    pub name: String,
    pub scope: AzureScope,
    /// The role definition, as ARM writes it
    /// (`/subscriptions/S/providers/Microsoft.Authorization/roleDefinitions/<guid>`) or the bare
    /// GUID; only the GUID is used to look it up.
    pub role_definition_id: String,
    /// An ABAC condition (`@Resource[...] StringEquals '...'`), verbatim.
    pub condition: Option<String>,
}

impl AzureAssignment {
    /// The role definition GUID in lower case: the last path segment of the id.
    pub fn role_definition_key(&self) -> String {
        role_definition_key(&self.role_definition_id)
    }
}

/// The lookup key of a role definition id: its last path segment, in lower case.
pub fn role_definition_key(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_ascii_lowercase()
}

/// A deny assignment that applies to one principal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AzureDenyAssignment {
    pub name: String,
    pub scope: AzureScope,
    /// What is denied, with the same pattern rules as role definitions.
    pub permissions: Vec<AzurePermissionBlock>,
    /// When true the deny covers the scope itself only, not its children.
    pub does_not_apply_to_child_scopes: bool,
}

/// An error of the Azure engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AzureError {
    /// The embedded catalog of built-in role definitions cannot be read (a build defect).
    #[error("{0}")]
    Catalog(String),
}
