//! Microsoft Graph reads: service principals, applications, and the applications' federated
//! identity credentials. Needs the application permission `Application.Read.All`
//! (<https://learn.microsoft.com/graph/permissions-reference#applicationreadall>).
//!
//! - <https://learn.microsoft.com/graph/api/serviceprincipal-list> (v1.0)
//! - <https://learn.microsoft.com/graph/api/application-list> (v1.0)
//! - <https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials?view=graph-rest-beta>:
//!   the beta endpoint, because only it returns `claimsMatchingExpression` (flexible
//!   federated identity credentials,
//!   <https://learn.microsoft.com/graph/api/resources/federatedidentityexpression?view=graph-rest-beta>).
//! - <https://learn.microsoft.com/graph/api/reportroot-list-appcredentialsigninactivities?view=graph-rest-beta>:
//!   when each application credential last signed in. Needs `AuditLog.Read.All` (and a
//!   Microsoft Entra ID P1 or P2 licence); without it the call fails, is recorded, and
//!   credential use stays unknown.
//!
//! `$select` names the properties kept: no call asks for a secret, and Graph never returns a
//! password credential's value after it is created.

use super::client::{ApiClient, CallError};
use crate::azure::inventory::{
    Application, CredentialSignInActivity, GraphFederatedIdentityCredential, ServicePrincipal,
};
use serde::de::DeserializeOwned;

/// The properties read of each service principal.
pub const SERVICE_PRINCIPAL_SELECT: &str = "id,appId,displayName,servicePrincipalType,appOwnerOrganizationId,accountEnabled,alternativeNames,passwordCredentials,keyCredentials";
/// The properties read of each application.
pub const APPLICATION_SELECT: &str =
    "id,appId,displayName,signInAudience,passwordCredentials,keyCredentials";

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

/// Every service principal of the tenant (paged by `@odata.nextLink`).
pub async fn service_principals(graph: &ApiClient) -> Result<Vec<ServicePrincipal>, CallError> {
    let url = graph.url(&format!(
        "/v1.0/servicePrincipals?$select={SERVICE_PRINCIPAL_SELECT}&$top=999"
    ))?;
    parse_items(
        graph.get_all(url, "@odata.nextLink").await?,
        "servicePrincipals",
    )
}

/// Every application of the tenant, without their federated credentials.
pub async fn applications(graph: &ApiClient) -> Result<Vec<Application>, CallError> {
    let url = graph.url(&format!(
        "/v1.0/applications?$select={APPLICATION_SELECT}&$top=999"
    ))?;
    parse_items(graph.get_all(url, "@odata.nextLink").await?, "applications")
}

/// The federated identity credentials of one application (by object id).
pub async fn application_federated_credentials(
    graph: &ApiClient,
    application_object_id: &str,
) -> Result<Vec<GraphFederatedIdentityCredential>, CallError> {
    let url = graph.url(&format!(
        "/beta/applications/{application_object_id}/federatedIdentityCredentials"
    ))?;
    parse_items(
        graph.get_all(url, "@odata.nextLink").await?,
        "federatedIdentityCredentials",
    )
}

/// The sign-in activity of every application credential of the tenant (paged by
/// `@odata.nextLink`).
pub async fn credential_sign_in_activities(
    graph: &ApiClient,
) -> Result<Vec<CredentialSignInActivity>, CallError> {
    let url = graph.url("/beta/reports/appCredentialSignInActivities")?;
    parse_items(
        graph.get_all(url, "@odata.nextLink").await?,
        "appCredentialSignInActivities",
    )
}
