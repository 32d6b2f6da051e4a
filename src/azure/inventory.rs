//! The raw-but-typed record of one Azure collection (`inventory/azure-<tenant>.json` in a
//! snapshot): management groups, subscriptions, role assignments, custom role definitions, deny
//! assignments and user-assigned managed identities from Azure Resource Manager, and service
//! principals and applications from Microsoft Graph.
//!
//! This is a frozen file format, not the neutral model: ARM records keep ARM's own shape
//! (`id`, `name`, `type`, fields under `properties`, camelCase) so that the engine's readers
//! ([`crate::azure::parse_definition_page`]) take them as they take a live response, and Graph
//! records keep Graph's property names. Bump [`INVENTORY_FORMAT_VERSION`] on any incompatible
//! change. Every list is sorted (by id) and de-duplicated before writing, so two collections of
//! an unchanged tenant are byte-identical apart from `collected_at`.
//!
//! The inventory never holds a secret: Graph does not return the value of a password
//! credential (`secretText` is only returned when one is created), and the `hint` (the first
//! characters of the secret) and a key credential's `key` are not kept either. Only ids,
//! names and validity dates are.
//!
//! Sources of the shapes: the Azure REST API reference
//! (<https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope>,
//! <https://learn.microsoft.com/rest/api/authorization/deny-assignments/list-for-scope>,
//! <https://learn.microsoft.com/rest/api/managedidentity/federated-identity-credentials/list>,
//! <https://learn.microsoft.com/rest/api/managementgroups/management-groups/get-descendants>)
//! and Microsoft Graph
//! (<https://learn.microsoft.com/graph/api/resources/serviceprincipal>,
//! <https://learn.microsoft.com/graph/api/resources/federatedidentitycredential?view=graph-rest-beta>,
//! <https://learn.microsoft.com/graph/api/resources/passwordcredential>,
//! <https://learn.microsoft.com/graph/api/resources/keycredential>).

use serde::{Deserialize, Serialize};

/// The version of the [`AzureInventory`] file format.
pub const INVENTORY_FORMAT_VERSION: u32 = 1;

/// The manifest `kind` of an Azure inventory source.
pub const INVENTORY_KIND: &str = "azure-inventory";

/// Everything collected in one run of `collect azure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AzureInventory {
    pub format_version: u32,
    /// The Microsoft Entra tenant, from the subscriptions' or management groups' `tenantId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// RFC 3339, UTC.
    pub collected_at: String,
    /// What was asked for: `/subscriptions/<id>` or
    /// `/providers/Microsoft.Management/managementGroups/<id>`, in the order given.
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub management_groups: Vec<ManagementGroup>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    /// Role assignments at, above (inherited) and below each collected scope.
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignment>,
    /// Custom role definitions (built-in ones come from the embedded catalog).
    #[serde(default)]
    pub role_definitions: Vec<RoleDefinition>,
    #[serde(default)]
    pub deny_assignments: Vec<DenyAssignment>,
    #[serde(default)]
    pub user_assigned_identities: Vec<UserAssignedIdentity>,
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipal>,
    #[serde(default)]
    pub applications: Vec<Application>,
    /// When each application credential last signed in (Microsoft Graph
    /// `reports/appCredentialSignInActivities`); `None` when not collected (`--no-graph`, an
    /// older inventory, or the call failed: see `errors`), which leaves credential use unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sign_ins: Option<Vec<CredentialSignInActivity>>,
    /// Calls that failed: the inventory is incomplete where they would have answered.
    #[serde(default)]
    pub errors: Vec<CollectIssue>,
}

impl AzureInventory {
    /// An empty inventory of this format version.
    pub fn new(collected_at: impl Into<String>, targets: Vec<String>) -> Self {
        Self {
            format_version: INVENTORY_FORMAT_VERSION,
            collected_at: collected_at.into(),
            targets,
            ..Self::default()
        }
    }

    /// Sorts every list by id (case-insensitively, as ARM ids are) and drops duplicates (an
    /// assignment listed at a management group and again, inherited, at its subscription).
    pub fn normalize(&mut self) {
        fn by_id<T: Clone, F: Fn(&T) -> String>(items: &mut Vec<T>, key: F) {
            items.sort_by_cached_key(|item| key(item));
            items.dedup_by(|a, b| key(a) == key(b));
        }
        by_id(&mut self.management_groups, |group| {
            group.id.to_ascii_lowercase()
        });
        by_id(&mut self.subscriptions, |sub| sub.id.to_ascii_lowercase());
        by_id(&mut self.role_assignments, |item| {
            item.id.to_ascii_lowercase()
        });
        by_id(&mut self.role_definitions, |item| {
            item.id.to_ascii_lowercase()
        });
        by_id(&mut self.deny_assignments, |item| {
            item.id.to_ascii_lowercase()
        });
        by_id(&mut self.user_assigned_identities, |item| {
            item.id.to_ascii_lowercase()
        });
        for identity in &mut self.user_assigned_identities {
            by_id(&mut identity.federated_identity_credentials, |item| {
                item.id.to_ascii_lowercase()
            });
        }
        by_id(&mut self.service_principals, |item| item.id.clone());
        by_id(&mut self.applications, |item| item.id.clone());
        for application in &mut self.applications {
            by_id(&mut application.federated_identity_credentials, |item| {
                item.id.clone()
            });
            application
                .password_credentials
                .sort_by(|a, b| a.key_id.cmp(&b.key_id));
            application
                .key_credentials
                .sort_by(|a, b| a.key_id.cmp(&b.key_id));
        }
        for principal in &mut self.service_principals {
            principal
                .password_credentials
                .sort_by(|a, b| a.key_id.cmp(&b.key_id));
            principal
                .key_credentials
                .sort_by(|a, b| a.key_id.cmp(&b.key_id));
        }
        if let Some(activities) = &mut self.credential_sign_ins {
            // One row per credential and accessed resource: all are kept, in a stable order.
            activities.sort_by_cached_key(|activity| {
                (
                    activity.key_id.to_ascii_lowercase(),
                    activity
                        .sign_in_activity
                        .as_ref()
                        .and_then(|sign_in| sign_in.last_sign_in_date_time.clone()),
                )
            });
        }
        self.errors.sort();
        self.errors.dedup();
    }
}

/// One call that failed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CollectIssue {
    /// What was asked: `Microsoft.Authorization/roleAssignments/read`,
    /// `graph:servicePrincipals:list`, …
    pub call: String,
    /// The scope or object it was about (`/subscriptions/<id>`, an application id).
    pub target: String,
    /// The HTTP status, when the service answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The service's error code (`AuthorizationFailed`, `Authorization_RequestDenied`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
}

/// A management group (`Microsoft.Management/managementGroups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementGroup {
    /// `/providers/Microsoft.Management/managementGroups/<name>`.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The parent management group's id; none for the tenant root group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

/// A subscription (`GET /subscriptions/<id>`, or a descendant of a management group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `/subscriptions/<id>`.
    pub id: String,
    pub subscription_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `Enabled`, `Disabled`, `Warned`, `PastDue`, `Deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The management group that holds it, when it was found through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_group_id: Option<String>,
}

/// A role assignment (`Microsoft.Authorization/roleAssignments`, API version 2022-04-01).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub properties: RoleAssignmentProperties,
}

/// The `properties` of a role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// Where it is assigned: `/`, a management group, a subscription, a resource group or a
    /// resource.
    pub scope: String,
    pub role_definition_id: String,
    /// The object id of the principal.
    pub principal_id: String,
    /// `User`, `Group`, `ServicePrincipal`, `ForeignGroup`, `Device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// An ABAC condition, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegated_managed_identity_resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
}

/// A role definition (`Microsoft.Authorization/roleDefinitions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub properties: RoleDefinitionProperties,
}

/// The `properties` of a role definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    pub role_name: String,
    /// `BuiltInRole` or `CustomRole`.
    #[serde(rename = "type")]
    pub role_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<PermissionBlock>,
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
}

/// One `permissions` entry of a role definition or deny assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionBlock {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_version: Option<String>,
}

/// A deny assignment (`Microsoft.Authorization/denyAssignments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenyAssignment {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub properties: DenyAssignmentProperties,
}

/// The `properties` of a deny assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DenyAssignmentProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deny_assignment_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<PermissionBlock>,
    pub scope: String,
    #[serde(default)]
    pub do_not_apply_to_child_scopes: bool,
    #[serde(default)]
    pub principals: Vec<DenyPrincipal>,
    #[serde(default)]
    pub exclude_principals: Vec<DenyPrincipal>,
    #[serde(default)]
    pub is_system_protected: bool,
}

/// A principal a deny assignment names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenyPrincipal {
    pub id: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A user-assigned managed identity (`Microsoft.ManagedIdentity/userAssignedIdentities`) and
/// its federated identity credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentity {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub properties: UserAssignedIdentityProperties,
    #[serde(default)]
    pub federated_identity_credentials: Vec<ArmFederatedIdentityCredential>,
}

/// The `properties` of a user-assigned managed identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentityProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The object id of its service principal: what role assignments name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A federated identity credential of a user-assigned managed identity (ARM shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmFederatedIdentityCredential {
    pub id: String,
    pub name: String,
    pub properties: ArmFederatedIdentityCredentialProperties,
}

/// The `properties` of an ARM federated identity credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmFederatedIdentityCredentialProperties {
    pub issuer: String,
    /// Absent when `claimsMatchingExpression` is set instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_matching_expression: Option<ClaimsMatchingExpression>,
}

/// A flexible federated identity credential's expression
/// (`claims['sub'] matches 'repo:org/repo:ref:refs/heads/*'`), verbatim. See
/// <https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsMatchingExpression {
    pub value: String,
    #[serde(default)]
    pub language_version: i64,
}

/// A Microsoft Graph service principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// The object id: what role assignments name as `principalId`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `Application`, `ManagedIdentity`, `Legacy`, `SocialIdp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_owner_organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// For a managed identity, its ARM resource id (`isExplicit=…`, `/subscriptions/…`).
    #[serde(default)]
    pub alternative_names: Vec<String>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
}

/// A Microsoft Graph application (app registration) and its federated identity credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    pub app_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_audience: Option<String>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub federated_identity_credentials: Vec<GraphFederatedIdentityCredential>,
}

/// The recent sign-in activity of one application credential, as Microsoft Graph reports it
/// (`appCredentialSignInActivity`, beta:
/// <https://learn.microsoft.com/graph/api/resources/appcredentialsigninactivity?view=graph-rest-beta>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSignInActivity {
    /// The credential's `keyId` (a password or key credential of the application or of its
    /// service principal).
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// `clientSecret` or `certificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// `application` or `servicePrincipal`: which object holds the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal_object_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_activity: Option<SignInActivity>,
}

/// When a credential last signed in (`signInActivity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInActivity {
    /// RFC 3339 (Graph may write an offset other than `Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_date_time: Option<String>,
}

/// A client secret's metadata: never its value (`secretText`) nor its `hint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    /// RFC 3339: when the secret stops working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
}

/// A certificate credential's metadata: never the `key` itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `AsymmetricX509Cert`, `X509CertAndPassword`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `Verify` or `Sign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    /// The certificate thumbprint (base64), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
}

/// A federated identity credential of an application (Graph shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphFederatedIdentityCredential {
    pub id: String,
    pub name: String,
    pub issuer: String,
    /// Absent when `claimsMatchingExpression` is set instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_matching_expression: Option<ClaimsMatchingExpression>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_password_credential_drops_secret_text_and_hint() {
        let credential: PasswordCredential = serde_json::from_str(
            r#"{"customKeyIdentifier":null,"displayName":"deploy","endDateTime":"2026-01-01T00:00:00Z",
                "hint":"abc","keyId":"k1","secretText":"s3cr3t","startDateTime":"2025-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let text = serde_json::to_string(&credential).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("hint"), "{text}");
        assert!(
            text.contains("\"endDateTime\":\"2026-01-01T00:00:00Z\""),
            "{text}"
        );
    }

    #[test]
    fn normalize_sorts_and_drops_duplicate_assignments() {
        let assignment = |id: &str| RoleAssignment {
            id: id.to_owned(),
            name: "n".to_owned(),
            kind: "Microsoft.Authorization/roleAssignments".to_owned(),
            properties: RoleAssignmentProperties {
                scope: "/".to_owned(),
                role_definition_id: "r".to_owned(),
                principal_id: "p".to_owned(),
                principal_type: None,
                condition: None,
                condition_version: None,
                delegated_managed_identity_resource_id: None,
                description: None,
                created_on: None,
            },
        };
        let mut inventory = AzureInventory::new("2026-01-01T00:00:00Z", Vec::new());
        inventory.role_assignments = vec![assignment("/b"), assignment("/a"), assignment("/B")];
        inventory.normalize();
        let ids: Vec<_> = inventory
            .role_assignments
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(ids, ["/a", "/b"]);
    }

    #[test]
    fn role_definitions_stay_readable_by_the_engine() {
        let definition = RoleDefinition {
            id: "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/11111111-1111-1111-1111-111111111111".to_owned(),
            name: "11111111-1111-1111-1111-111111111111".to_owned(),
            kind: "Microsoft.Authorization/roleDefinitions".to_owned(),
            properties: RoleDefinitionProperties {
                role_name: "ci deployer".to_owned(),
                role_type: "CustomRole".to_owned(),
                description: None,
                permissions: vec![PermissionBlock {
                    actions: vec!["Microsoft.Web/sites/write".to_owned()],
                    ..PermissionBlock::default()
                }],
                assignable_scopes: vec!["/subscriptions/s".to_owned()],
            },
        };
        let page = serde_json::json!({ "value": [definition] });
        let parsed = crate::azure::parse_definition_page(&page).unwrap();
        assert_eq!(parsed.definitions.len(), 1);
    }
}
