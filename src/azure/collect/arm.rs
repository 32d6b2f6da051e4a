//! Azure Resource Manager reads: management groups, subscriptions, role assignments, custom
//! role definitions, deny assignments, user-assigned managed identities and their federated
//! identity credentials. Every call is a read (`*/read` permissions only; `Reader` covers
//! them).
//!
//! API versions and the doc page of each call:
//! - management groups 2023-04-01: <https://learn.microsoft.com/rest/api/managementgroups/management-groups/get>,
//!   `…/descendants`: <https://learn.microsoft.com/rest/api/managementgroups/management-groups/get-descendants>
//! - subscriptions 2022-12-01: <https://learn.microsoft.com/rest/api/resources/subscriptions/get>
//! - role assignments, role definitions, deny assignments 2022-04-01:
//!   <https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope>
//!   (without a filter: assignments at, above and below the scope; `$filter=atScope()`: at
//!   and above it, which is what a management group needs),
//!   <https://learn.microsoft.com/rest/api/authorization/role-definitions/list>,
//!   <https://learn.microsoft.com/rest/api/authorization/deny-assignments/list-for-scope>
//! - managed identities 2023-01-31:
//!   <https://learn.microsoft.com/rest/api/managedidentity/user-assigned-identities/list-by-subscription>,
//!   <https://learn.microsoft.com/rest/api/managedidentity/federated-identity-credentials/list>

use super::client::{ApiClient, CallError};
use crate::azure::inventory::{
    ArmFederatedIdentityCredential, DenyAssignment, ManagementGroup, RoleAssignment,
    RoleDefinition, Subscription, UserAssignedIdentity,
};
use serde::de::DeserializeOwned;

pub const MANAGEMENT_GROUPS_API: &str = "2023-04-01";
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
pub const AUTHORIZATION_API: &str = "2022-04-01";
pub const MANAGED_IDENTITY_API: &str = "2023-01-31";

/// The ARM id of a management group.
pub fn management_group_id(name: &str) -> String {
    format!("/providers/Microsoft.Management/managementGroups/{name}")
}

/// The ARM id of a subscription.
pub fn subscription_scope(id: &str) -> String {
    format!("/subscriptions/{id}")
}

fn parse_items<T: DeserializeOwned>(
    items: Vec<serde_json::Value>,
    what: &str,
) -> Result<Vec<T>, CallError> {
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value(item)
                .map_err(|error| CallError::Other(format!("a `{what}` item is malformed: {error}")))
        })
        .collect()
}

fn text(value: &serde_json::Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// `GET /providers/Microsoft.Management/managementGroups/{name}`.
pub async fn management_group(arm: &ApiClient, name: &str) -> Result<ManagementGroup, CallError> {
    let url = arm.url(&format!(
        "{}?api-version={MANAGEMENT_GROUPS_API}",
        management_group_id(name)
    ))?;
    let body = arm.get_json(&url).await?;
    Ok(ManagementGroup {
        id: text(&body, "/id").unwrap_or_else(|| management_group_id(name)),
        name: text(&body, "/name").unwrap_or_else(|| name.to_owned()),
        display_name: text(&body, "/properties/displayName"),
        tenant_id: text(&body, "/properties/tenantId"),
        parent_id: text(&body, "/properties/details/parent/id"),
    })
}

/// Every management group and subscription under a management group
/// (`…/descendants`, paged).
pub async fn descendants(
    arm: &ApiClient,
    name: &str,
    tenant_id: Option<&str>,
) -> Result<(Vec<ManagementGroup>, Vec<Subscription>), CallError> {
    let url = arm.url(&format!(
        "{}/descendants?api-version={MANAGEMENT_GROUPS_API}",
        management_group_id(name)
    ))?;
    let mut groups = Vec::new();
    let mut subscriptions = Vec::new();
    for item in arm.get_all(url, "nextLink").await? {
        let kind = text(&item, "/type").unwrap_or_default();
        let (Some(id), Some(item_name)) = (text(&item, "/id"), text(&item, "/name")) else {
            continue;
        };
        let parent = text(&item, "/properties/parent/id");
        let display_name = text(&item, "/properties/displayName");
        if kind.eq_ignore_ascii_case("Microsoft.Management/managementGroups/subscriptions")
            || kind.eq_ignore_ascii_case("/subscriptions")
        {
            subscriptions.push(Subscription {
                id,
                subscription_id: item_name,
                display_name,
                tenant_id: tenant_id.map(str::to_owned),
                state: None,
                management_group_id: parent,
            });
        } else {
            groups.push(ManagementGroup {
                id,
                name: item_name,
                display_name,
                tenant_id: tenant_id.map(str::to_owned),
                parent_id: parent,
            });
        }
    }
    Ok((groups, subscriptions))
}

/// `GET /subscriptions/{id}`.
pub async fn subscription(arm: &ApiClient, id: &str) -> Result<Subscription, CallError> {
    let url = arm.url(&format!(
        "{}?api-version={SUBSCRIPTIONS_API}",
        subscription_scope(id)
    ))?;
    let body = arm.get_json(&url).await?;
    Ok(Subscription {
        id: text(&body, "/id").unwrap_or_else(|| subscription_scope(id)),
        subscription_id: text(&body, "/subscriptionId").unwrap_or_else(|| id.to_owned()),
        display_name: text(&body, "/displayName"),
        tenant_id: text(&body, "/tenantId"),
        state: text(&body, "/state"),
        management_group_id: None,
    })
}

/// Role assignments of `scope`: with `at_scope_only`, those at and above it
/// (`$filter=atScope()`); otherwise also those below it.
pub async fn role_assignments(
    arm: &ApiClient,
    scope: &str,
    at_scope_only: bool,
) -> Result<Vec<RoleAssignment>, CallError> {
    let filter = if at_scope_only {
        "&$filter=atScope()"
    } else {
        ""
    };
    let url = arm.url(&format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments?api-version={AUTHORIZATION_API}{filter}"
    ))?;
    parse_items(arm.get_all(url, "nextLink").await?, "roleAssignments")
}

/// Custom role definitions assignable at `scope` (`$filter=type eq 'CustomRole'`).
pub async fn custom_role_definitions(
    arm: &ApiClient,
    scope: &str,
) -> Result<Vec<RoleDefinition>, CallError> {
    let url = arm.url(&format!(
        "{scope}/providers/Microsoft.Authorization/roleDefinitions?api-version={AUTHORIZATION_API}&$filter=type%20eq%20%27CustomRole%27"
    ))?;
    parse_items(arm.get_all(url, "nextLink").await?, "roleDefinitions")
}

/// Deny assignments of `scope`, like [`role_assignments`].
pub async fn deny_assignments(
    arm: &ApiClient,
    scope: &str,
    at_scope_only: bool,
) -> Result<Vec<DenyAssignment>, CallError> {
    let filter = if at_scope_only {
        "&$filter=atScope()"
    } else {
        ""
    };
    let url = arm.url(&format!(
        "{scope}/providers/Microsoft.Authorization/denyAssignments?api-version={AUTHORIZATION_API}{filter}"
    ))?;
    parse_items(arm.get_all(url, "nextLink").await?, "denyAssignments")
}

/// The user-assigned managed identities of a subscription, without their credentials.
pub async fn user_assigned_identities(
    arm: &ApiClient,
    subscription_id: &str,
) -> Result<Vec<UserAssignedIdentity>, CallError> {
    let url = arm.url(&format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version={MANAGED_IDENTITY_API}",
        subscription_scope(subscription_id)
    ))?;
    parse_items(
        arm.get_all(url, "nextLink").await?,
        "userAssignedIdentities",
    )
}

/// The federated identity credentials of one user-assigned managed identity.
pub async fn identity_federated_credentials(
    arm: &ApiClient,
    identity_id: &str,
) -> Result<Vec<ArmFederatedIdentityCredential>, CallError> {
    let url = arm.url(&format!(
        "{identity_id}/federatedIdentityCredentials?api-version={MANAGED_IDENTITY_API}"
    ))?;
    parse_items(
        arm.get_all(url, "nextLink").await?,
        "federatedIdentityCredentials",
    )
}
