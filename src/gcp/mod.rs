//! The GCP engine: role bindings on the resource hierarchy (organization → folders → project →
//! resource), roles resolved to permissions (predefined roles from the embedded catalog
//! `providers/gcp/catalog/`, see `crate::catalog::gcp`; custom roles from the inventory), IAM
//! conditions and IAM deny policies.
//!
//! IAM conditions are CEL expressions over the request (time, resource name, tags).
//! pipeleash does not evaluate them: a binding with a condition makes the answer
//! `Conditional`, naming the expression, so nothing is ever guessed.

pub mod analysis;
pub mod audit_log;
pub mod checks;
#[cfg(feature = "gcp")]
pub mod collect;
mod evaluate;
mod hierarchy;
pub mod inventory;
pub mod minimize;
pub mod normalize;
mod roles;

pub use evaluate::evaluate;
pub use hierarchy::ResourceHierarchy;
pub use roles::{
    GcpRole, RolePage, RoleParseError, RoleStage, insert_role, is_permission_name, is_predefined,
    is_role_name, parse_role_page, parse_roles,
};

/// A GCP IAM condition attached to a binding or deny rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GcpCondition {
    pub title: String,
    /// The CEL expression, verbatim.
    pub expression: String,
    pub description: Option<String>,
}

/// One role bound to one member on one resource, as in an IAM policy's `bindings[]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GcpBinding {
    /// Where the policy is attached: `organizations/1`, `folders/2`, `projects/my-proj`, or a
    /// full resource name such as `//storage.googleapis.com/projects/_/buckets/artifacts`.
    pub resource: String,
    /// `roles/storage.objectViewer`, `projects/p/roles/deployer`, `organizations/1/roles/x`.
    pub role: String,
    /// The member as written in the policy (`serviceAccount:ci@p.iam.gserviceaccount.com`,
    /// `principalSet://…`), kept for evidence.
    pub member: String,
    pub condition: Option<GcpCondition>,
}

/// One rule of an IAM deny policy that names the identity (or may name it: see `possible`).
/// A deny policy is inherited by every descendant of its attachment point
/// (<https://cloud.google.com/iam/docs/deny-overview#inheritance>) and is checked before any
/// allow policy (<https://cloud.google.com/iam/docs/deny-overview#policy-eval>).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GcpDenyRule {
    /// Where the deny policy is attached (same naming as `GcpBinding::resource`).
    pub attachment_point: String,
    /// The deny policy's name, for evidence.
    pub policy: String,
    /// In the deny-policy form (`storage.googleapis.com/buckets.delete`,
    /// `storage.googleapis.com/*`) or the IAM form (`storage.buckets.delete`).
    pub denied_permissions: Vec<String>,
    pub exception_permissions: Vec<String>,
    /// The rule's `denialCondition`; evaluated like an allow binding's condition: never
    /// guessed, the answer is `Conditional`.
    pub condition: Option<GcpCondition>,
    /// Why the rule may, or may not, reach the identity when pipeleash cannot tell (a group
    /// or domain principal set whose members are not collected); `None` when the rule names
    /// the identity for certain. A possible deny is treated like a conditional one: the
    /// permission stays granted "unless denied", never removed on its account.
    pub possible: Option<String>,
}

/// An error of the GCP engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GcpError {
    /// The embedded catalog of predefined roles cannot be read (a build defect).
    #[error("{0}")]
    Catalog(String),
}
