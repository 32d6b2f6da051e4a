//! The inventory: every identity, trust and grant a collection found, plus the provider
//! structure grants are evaluated against (the GCP resource hierarchy, GCP custom roles, Azure
//! role definitions and management groups). Everything is kept sorted.

use super::Provider;
use super::grant::{Grant, GrantId};
use super::identity::{Identity, IdentityId};
use super::trust::Trust;
use crate::azure::{AzureRoleDefinition, ManagementGroupHierarchy};
use crate::gcp::{GcpRole, ResourceHierarchy};
use std::collections::{BTreeMap, BTreeSet};

/// Where identities and grants live: an AWS account, a GCP organization/folder/project, an
/// Azure management group/subscription.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Container {
    pub provider: Provider,
    /// The provider's id: `123456789012`, `projects/my-proj`, `/subscriptions/<id>`.
    pub id: String,
    pub display_name: Option<String>,
}

/// A grant that cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("grant `{0}` is already in the inventory; grant ids must be unique")]
    DuplicateGrant(GrantId),
}

/// The normalized state of the clouds at one point in time.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub identities: BTreeMap<IdentityId, Identity>,
    pub trusts: BTreeMap<IdentityId, Vec<Trust>>,
    /// Keyed by provider, then the provider's container id.
    pub containers: BTreeMap<(Provider, String), Container>,
    /// Parents of GCP resources, projects and folders (`child → parent`).
    pub gcp_hierarchy: ResourceHierarchy,
    /// Custom roles by full name (`projects/p/roles/deployer`, `organizations/1/roles/x`), and
    /// any predefined role collected with its full permission list, which then takes precedence
    /// over the embedded catalog.
    pub gcp_roles: BTreeMap<String, GcpRole>,
    /// Role definitions by their GUID in lower case (built-in and custom); the embedded
    /// built-ins are used for any id not present here.
    pub azure_role_definitions: BTreeMap<String, AzureRoleDefinition>,
    /// Parents of Azure subscriptions and management groups.
    pub azure_hierarchy: ManagementGroupHierarchy,
    grants: BTreeMap<GrantId, Grant>,
    grants_by_identity: BTreeMap<IdentityId, BTreeSet<GrantId>>,
}

impl Inventory {
    pub fn new() -> Self {
        Inventory::default()
    }

    /// Add or replace an identity.
    pub fn add_identity(&mut self, identity: Identity) {
        self.identities.insert(identity.id.clone(), identity);
    }

    pub fn add_trust(&mut self, identity: IdentityId, trust: Trust) {
        self.trusts.entry(identity).or_default().push(trust);
    }

    /// Add a grant; its id must be new.
    pub fn add_grant(&mut self, grant: Grant) -> Result<(), InventoryError> {
        if self.grants.contains_key(&grant.id) {
            return Err(InventoryError::DuplicateGrant(grant.id));
        }
        self.grants_by_identity
            .entry(grant.identity.clone())
            .or_default()
            .insert(grant.id.clone());
        self.grants.insert(grant.id.clone(), grant);
        Ok(())
    }

    /// Keep only the grants for which `keep` is true (how a proposed change is tried on a copy
    /// of the inventory: the grants it replaces are removed, its own added).
    pub fn retain_grants(&mut self, keep: impl Fn(&Grant) -> bool) {
        self.grants.retain(|_, grant| keep(grant));
        let grants = &self.grants;
        for ids in self.grants_by_identity.values_mut() {
            ids.retain(|id| grants.contains_key(id));
        }
        self.grants_by_identity.retain(|_, ids| !ids.is_empty());
    }

    pub fn grant(&self, id: &GrantId) -> Option<&Grant> {
        self.grants.get(id)
    }

    /// All grants, sorted by id.
    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grants.values()
    }

    /// The grants of one identity, sorted by id.
    pub fn grants_for<'a>(&'a self, identity: &IdentityId) -> impl Iterator<Item = &'a Grant> {
        self.grants_by_identity
            .get(identity)
            .into_iter()
            .flatten()
            .filter_map(|id| self.grants.get(id))
    }
}
