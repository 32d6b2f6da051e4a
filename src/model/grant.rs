//! Grants: permissions attached to an identity at a scope. Each provider's grant keeps its
//! native shape (a GCP binding, an Azure role assignment) because matching follows each
//! provider's own rules; the engines in `crate::gcp` and `crate::azure` evaluate them.

use super::IdentityId;
use crate::aws::grant::AwsPolicyGrant;
use crate::azure::{AzureAssignment, AzureDenyAssignment};
use crate::gcp::{GcpBinding, GcpDenyRule};
use std::fmt;

/// A stable id for a grant, unique in an inventory, chosen by the normalizer so that it names
/// the grant in evidence: `gcp:folders/123#roles/storage.objectViewer#serviceAccount:ci@…`,
/// an Azure role assignment's resource id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantId(String);

impl GrantId {
    pub fn new(id: impl Into<String>) -> Self {
        GrantId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Permissions given to (or taken from) one identity.
///
/// A provider grant that names several principals (a GCP binding with many members, an Azure
/// deny assignment for "everyone except …") is split by the normalizer into one `Grant` per
/// identity it applies to, so the engines only ever ask "is this grant for this identity?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub identity: IdentityId,
    pub body: GrantBody,
}

/// The provider-native content of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantBody {
    /// An AWS policy (identity policy, permissions boundary or SCP) that applies to this
    /// identity.
    Aws(AwsPolicyGrant),
    /// A GCP IAM policy binding of one role to this identity on one resource.
    Gcp(GcpBinding),
    /// A GCP IAM deny rule that names this identity.
    GcpDeny(GcpDenyRule),
    /// An Azure role assignment to this identity.
    Azure(AzureAssignment),
    /// An Azure deny assignment that applies to this identity.
    AzureDeny(AzureDenyAssignment),
}
