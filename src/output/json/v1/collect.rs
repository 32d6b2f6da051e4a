//! `pipeleash collect aws|gcp|azure --format json`: what one collection wrote, counted. Each
//! cloud has its own summary; the tables of `collect` print the same counts
//! ([`GcpCollectView::counts`], [`AzureCollectView::counts`]).

use crate::aws::inventory::AwsAccountInventory;
use crate::azure::inventory::AzureInventory;
use crate::gcp::inventory::{GcpInventory, GcpKeyType};
use serde::Serialize;
use std::path::Path;

/// The snapshot directory as printed: its path as given, `null` when nothing was written.
fn snapshot_path(snapshot: Option<&Path>) -> Option<String> {
    snapshot.map(|path| path.display().to_string())
}

/// The `--format json` summary of `pipeleash collect aws`: the snapshot written and one entry
/// per account, in the order the accounts were given.
#[derive(Debug, Serialize)]
pub struct AwsCollectView {
    snapshot: Option<String>,
    accounts: Vec<AwsAccountCollectView>,
}

/// One account of [`AwsCollectView`]: what was collected, or why it failed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AwsAccountCollectView {
    Collected {
        target: String,
        account_id: String,
        roles: usize,
        users: usize,
        groups: usize,
        policies: usize,
        unresolved_policies: usize,
        oidc_providers: usize,
        access_keys: usize,
        service_control_policies: usize,
        errors: usize,
        skipped: usize,
    },
    Failed {
        target: String,
        failed: String,
    },
}

impl AwsAccountCollectView {
    /// `target`: the account as the command named it (`role `arn:…``, `the current
    /// credentials`).
    pub fn collected(target: String, inventory: &AwsAccountInventory) -> AwsAccountCollectView {
        AwsAccountCollectView::Collected {
            target,
            account_id: inventory.account_id.clone(),
            roles: inventory.roles.len(),
            users: inventory.users.len(),
            groups: inventory.groups.len(),
            policies: inventory.policies.len(),
            unresolved_policies: inventory.unresolved_policies.len(),
            oidc_providers: inventory.oidc_providers.len(),
            access_keys: inventory.access_keys.len(),
            service_control_policies: inventory.service_control_policies.len(),
            errors: inventory.errors.len(),
            skipped: inventory.skipped.len(),
        }
    }

    /// `failed`: the error's message.
    pub fn failed(target: String, failed: String) -> AwsAccountCollectView {
        AwsAccountCollectView::Failed { target, failed }
    }
}

impl AwsCollectView {
    pub fn new(snapshot: Option<&Path>, accounts: Vec<AwsAccountCollectView>) -> AwsCollectView {
        AwsCollectView {
            snapshot: snapshot_path(snapshot),
            accounts,
        }
    }
}

/// The `--format json` summary of `pipeleash collect gcp`: the snapshot written, the scope
/// collected and how many of each thing the inventory holds.
#[derive(Debug, Serialize)]
pub struct GcpCollectView {
    snapshot: Option<String>,
    scope: Vec<String>,
    organizations: usize,
    folders: usize,
    projects: usize,
    service_accounts: usize,
    /// Keys of type `USER_MANAGED` over every service account.
    user_managed_keys: usize,
    custom_roles: usize,
    workload_identity_pools: usize,
    /// Providers over every pool.
    workload_identity_providers: usize,
    errors: usize,
}

impl GcpCollectView {
    pub fn new(snapshot: Option<&Path>, inventory: &GcpInventory) -> GcpCollectView {
        GcpCollectView {
            snapshot: snapshot_path(snapshot),
            scope: inventory.scope.clone(),
            organizations: inventory.organizations.len(),
            folders: inventory.folders.len(),
            projects: inventory.projects.len(),
            service_accounts: inventory.service_accounts.len(),
            user_managed_keys: inventory
                .service_accounts
                .iter()
                .flat_map(|account| account.keys.iter().flatten())
                .filter(|key| key.key_type == GcpKeyType::UserManaged)
                .count(),
            custom_roles: inventory.custom_roles.len(),
            workload_identity_pools: inventory.workload_identity_pools.len(),
            workload_identity_providers: inventory
                .workload_identity_pools
                .iter()
                .map(|pool| pool.providers.as_ref().map_or(0, Vec::len))
                .sum(),
            errors: inventory.errors.len(),
        }
    }

    /// The scope, as collected (`organizations/123`, `projects/web-prod`).
    pub fn scope(&self) -> &[String] {
        &self.scope
    }

    /// The counts, named as in the JSON, in its order.
    pub fn counts(&self) -> [(&'static str, usize); 9] {
        [
            ("organizations", self.organizations),
            ("folders", self.folders),
            ("projects", self.projects),
            ("service_accounts", self.service_accounts),
            ("user_managed_keys", self.user_managed_keys),
            ("custom_roles", self.custom_roles),
            ("workload_identity_pools", self.workload_identity_pools),
            (
                "workload_identity_providers",
                self.workload_identity_providers,
            ),
            ("errors", self.errors),
        ]
    }
}

/// The `--format json` summary of `pipeleash collect azure`: the snapshot written, the tenant
/// (`null` when no subscription or management group named it) and how many of each thing the
/// inventory holds.
#[derive(Debug, Serialize)]
pub struct AzureCollectView {
    snapshot: Option<String>,
    tenant_id: Option<String>,
    management_groups: usize,
    subscriptions: usize,
    role_assignments: usize,
    custom_role_definitions: usize,
    deny_assignments: usize,
    user_assigned_identities: usize,
    service_principals: usize,
    applications: usize,
    errors: usize,
}

impl AzureCollectView {
    pub fn new(snapshot: Option<&Path>, inventory: &AzureInventory) -> AzureCollectView {
        AzureCollectView {
            snapshot: snapshot_path(snapshot),
            tenant_id: inventory.tenant_id.clone(),
            management_groups: inventory.management_groups.len(),
            subscriptions: inventory.subscriptions.len(),
            role_assignments: inventory.role_assignments.len(),
            custom_role_definitions: inventory.role_definitions.len(),
            deny_assignments: inventory.deny_assignments.len(),
            user_assigned_identities: inventory.user_assigned_identities.len(),
            service_principals: inventory.service_principals.len(),
            applications: inventory.applications.len(),
            errors: inventory.errors.len(),
        }
    }

    /// The counts, named as in the JSON, in its order.
    pub fn counts(&self) -> [(&'static str, usize); 9] {
        [
            ("management_groups", self.management_groups),
            ("subscriptions", self.subscriptions),
            ("role_assignments", self.role_assignments),
            ("custom_role_definitions", self.custom_role_definitions),
            ("deny_assignments", self.deny_assignments),
            ("user_assigned_identities", self.user_assigned_identities),
            ("service_principals", self.service_principals),
            ("applications", self.applications),
            ("errors", self.errors),
        ]
    }
}
