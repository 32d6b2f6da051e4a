//! `collect azure`: reads the role assignments, role definitions, deny assignments and
//! federated credentials of a tenant (read-only) into an [`AzureInventory`].
//!
//! The edge of the Azure engine: tokens come from azure_identity (see [`credential`] for the
//! chain), calls go through azure_core's HTTP pipeline (reqwest over rustls). A call that
//! fails (403 `AuthorizationFailed`, Graph `Authorization_RequestDenied`, a 404, a broken
//! connection) is recorded in the inventory's `errors` and the run goes on; a 429 is retried
//! after its `Retry-After` (see [`client`]). Only a credential that cannot get a token stops
//! the run.

pub mod activity_log;
pub mod arm;
pub mod client;
pub mod credential;
pub mod graph;

use crate::azure::inventory::{AzureInventory, CollectIssue};
use azure_core::credentials::TokenCredential;
use azure_core::http::{Transport, Url};
use client::{ApiClient, CallError, RetryPolicy};
use std::sync::Arc;

/// The token scope of Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The token scope of Microsoft Graph.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Azure Resource Manager in the public cloud.
pub const ARM_ENDPOINT: &str = "https://management.azure.com";
/// Microsoft Graph in the public cloud.
pub const GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// These subscriptions (ids).
    Subscriptions(Vec<String>),
    /// A management group, every management group and subscription under it.
    ManagementGroup(String),
}

/// How to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub target: Target,
    /// ARM's base URL.
    pub arm_endpoint: Url,
    /// Microsoft Graph's base URL.
    pub graph_endpoint: Url,
    /// Whether to read Microsoft Graph (service principals, applications).
    pub graph: bool,
    pub retry: RetryPolicy,
}

/// The run could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// No token: every call would fail the same way.
    #[error("{0}")]
    Credential(String),
    /// The transport could not be set up.
    #[error("{0}")]
    Transport(String),
}

/// Builds the HTTP transport: reqwest over rustls (ring), trusting the system's roots plus
/// `extra_root_pem` (one or more PEM certificates: a TLS-inspecting proxy's, or a test
/// server's). Redirects are not followed (ARM and Graph do not redirect reads).
pub fn http_transport(extra_root_pem: Option<&[u8]>) -> Result<Transport, CollectError> {
    // Another part of the program may have installed the same provider already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(30))
        .read_timeout(std::time::Duration::from_secs(120));
    if let Some(pem) = extra_root_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| {
            CollectError::Transport(format!("the extra CA certificate is not PEM: {error}"))
        })?;
        if certificates.is_empty() {
            return Err(CollectError::Transport(
                "the extra CA certificate file holds no PEM certificate".to_owned(),
            ));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    let client = builder.build().map_err(|error| {
        CollectError::Transport(format!("cannot build the HTTP client: {error}"))
    })?;
    Ok(Transport::new(Arc::new(client)))
}

/// `transport`, else the default one of [`http_transport`]: azure_core's own default would
/// build a reqwest client before any rustls crypto provider is installed, which panics.
pub(crate) fn transport_or_default(transport: Option<Transport>) -> Option<Transport> {
    transport.or_else(|| http_transport(None).ok())
}

/// Reads ARM and Graph with one credential.
#[derive(Debug)]
pub struct Collector {
    arm: ApiClient,
    graph: ApiClient,
}

impl Collector {
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        transport: Option<Transport>,
        options: &CollectOptions,
    ) -> Self {
        let transport = transport_or_default(transport);
        Self {
            arm: ApiClient::new(
                options.arm_endpoint.clone(),
                ARM_SCOPE,
                credential.clone(),
                transport.clone(),
                options.retry,
            ),
            graph: ApiClient::new(
                options.graph_endpoint.clone(),
                GRAPH_SCOPE,
                credential,
                transport,
                options.retry,
            ),
        }
    }

    /// Collects `options.target`. `progress` gets one line per step (for stderr).
    pub async fn collect(
        &self,
        options: &CollectOptions,
        collected_at: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<AzureInventory, CollectError> {
        let targets = match &options.target {
            Target::Subscriptions(ids) => {
                ids.iter().map(|id| arm::subscription_scope(id)).collect()
            }
            Target::ManagementGroup(name) => vec![arm::management_group_id(name)],
        };
        let mut run = Run {
            inventory: AzureInventory::new(collected_at, targets),
        };
        let arm = &self.arm;

        // The scopes: management groups (assignments at and above them) and subscriptions
        // (assignments at, above and below them).
        let mut group_scopes = Vec::new();
        let mut subscription_ids = Vec::new();
        match &options.target {
            Target::Subscriptions(ids) => subscription_ids.extend(ids.iter().cloned()),
            Target::ManagementGroup(name) => {
                progress(&format!("management group `{name}`"));
                let id = arm::management_group_id(name);
                let tenant = match run.record(
                    "Microsoft.Management/managementGroups/read",
                    &id,
                    arm::management_group(arm, name).await,
                )? {
                    Some(group) => {
                        let tenant = group.tenant_id.clone();
                        run.inventory.management_groups.push(group);
                        tenant
                    }
                    None => None,
                };
                group_scopes.push(id.clone());
                if let Some((groups, subscriptions)) = run.record(
                    "Microsoft.Management/managementGroups/descendants/read",
                    &id,
                    arm::descendants(arm, name, tenant.as_deref()).await,
                )? {
                    group_scopes.extend(groups.iter().map(|group| group.id.clone()));
                    subscription_ids
                        .extend(subscriptions.iter().map(|sub| sub.subscription_id.clone()));
                    run.inventory.management_groups.extend(groups);
                    run.inventory.subscriptions.extend(subscriptions);
                }
            }
        }

        for scope in &group_scopes {
            progress(&format!("role and deny assignments at `{scope}`"));
            self.scope_reads(&mut run, scope, true).await?;
        }
        for id in &subscription_ids {
            let scope = arm::subscription_scope(id);
            progress(&format!("subscription `{id}`"));
            if let Some(subscription) = run.record(
                "Microsoft.Resources/subscriptions/read",
                &scope,
                arm::subscription(arm, id).await,
            )? {
                // Keep the management group found by the descendants call.
                let parent = run
                    .inventory
                    .subscriptions
                    .iter()
                    .find(|known| known.subscription_id.eq_ignore_ascii_case(id))
                    .and_then(|known| known.management_group_id.clone());
                run.inventory
                    .subscriptions
                    .retain(|known| !known.subscription_id.eq_ignore_ascii_case(id));
                run.inventory
                    .subscriptions
                    .push(crate::azure::inventory::Subscription {
                        management_group_id: parent,
                        ..subscription
                    });
            }
            self.scope_reads(&mut run, &scope, false).await?;
            if let Some(identities) = run.record(
                "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                &scope,
                arm::user_assigned_identities(arm, id).await,
            )? {
                for mut identity in identities {
                    if let Some(credentials) = run.record(
                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
                        &identity.id,
                        arm::identity_federated_credentials(arm, &identity.id).await,
                    )? {
                        identity.federated_identity_credentials = credentials;
                    }
                    run.inventory.user_assigned_identities.push(identity);
                }
            }
        }

        if options.graph {
            self.graph_reads(&mut run, progress).await?;
        }

        let inventory = &mut run.inventory;
        inventory.tenant_id = inventory
            .subscriptions
            .iter()
            .filter_map(|sub| sub.tenant_id.clone())
            .chain(
                inventory
                    .management_groups
                    .iter()
                    .filter_map(|group| group.tenant_id.clone()),
            )
            .min();
        inventory.normalize();
        Ok(run.inventory)
    }

    /// The Activity Log's management events of `subscriptions` between `since` and `until`
    /// through the REST API ([`activity_log`]), with a failed subscription recorded as an
    /// issue (its events are then missing, and said so) while the others are read. Only a
    /// credential that cannot get a token stops it.
    pub async fn activity_log(
        &self,
        subscriptions: &[String],
        since: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<(Vec<serde_json::Value>, Vec<CollectIssue>), CollectError> {
        let mut run = Run {
            inventory: AzureInventory::new("", Vec::new()),
        };
        let mut events = Vec::new();
        for id in subscriptions {
            progress(&format!("Activity Log of subscription `{id}`"));
            if let Some(found) = run.record(
                activity_log::CALL,
                &arm::subscription_scope(id),
                activity_log::management_events(&self.arm, id, since, until).await,
            )? {
                events.extend(found);
            }
        }
        Ok((events, run.inventory.errors))
    }

    async fn scope_reads(
        &self,
        run: &mut Run,
        scope: &str,
        at_scope_only: bool,
    ) -> Result<(), CollectError> {
        let arm = &self.arm;
        if let Some(items) = run.record(
            "Microsoft.Authorization/roleAssignments/read",
            scope,
            arm::role_assignments(arm, scope, at_scope_only).await,
        )? {
            run.inventory.role_assignments.extend(items);
        }
        if let Some(items) = run.record(
            "Microsoft.Authorization/roleDefinitions/read",
            scope,
            arm::custom_role_definitions(arm, scope).await,
        )? {
            run.inventory.role_definitions.extend(items);
        }
        if let Some(items) = run.record(
            "Microsoft.Authorization/denyAssignments/read",
            scope,
            arm::deny_assignments(arm, scope, at_scope_only).await,
        )? {
            run.inventory.deny_assignments.extend(items);
        }
        Ok(())
    }

    async fn graph_reads(
        &self,
        run: &mut Run,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<(), CollectError> {
        let graph = &self.graph;
        progress("Microsoft Graph service principals");
        if let Some(items) = run.record(
            "graph:servicePrincipals:list",
            "/v1.0/servicePrincipals",
            graph::service_principals(graph).await,
        )? {
            run.inventory.service_principals.extend(items);
        }
        progress("Microsoft Graph applications and their federated credentials");
        if let Some(applications) = run.record(
            "graph:applications:list",
            "/v1.0/applications",
            graph::applications(graph).await,
        )? {
            for mut application in applications {
                if let Some(credentials) = run.record(
                    "graph:applications:federatedIdentityCredentials:list",
                    &format!("/applications/{}", application.id),
                    graph::application_federated_credentials(graph, &application.id).await,
                )? {
                    application.federated_identity_credentials = credentials;
                }
                run.inventory.applications.push(application);
            }
        }
        progress("Microsoft Graph credential sign-in activity");
        run.inventory.credential_sign_ins = run.record(
            "graph:reports:appCredentialSignInActivities:list",
            "/beta/reports/appCredentialSignInActivities",
            graph::credential_sign_in_activities(graph).await,
        )?;
        Ok(())
    }
}

struct Run {
    inventory: AzureInventory,
}

impl Run {
    /// The value of a call that succeeded; a failed call is recorded in `errors` (None); a
    /// credential failure stops the run.
    fn record<T>(
        &mut self,
        call: &str,
        target: &str,
        result: Result<T, CallError>,
    ) -> Result<Option<T>, CollectError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(CallError::Credential(message)) => Err(CollectError::Credential(message)),
            Err(error) => {
                let (status, code) = match &error {
                    CallError::Status { status, code, .. } => (Some(*status), code.clone()),
                    _ => (None, None),
                };
                let reason = match &error {
                    CallError::Status { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                self.inventory.errors.push(CollectIssue {
                    call: call.to_owned(),
                    target: target.to_owned(),
                    status,
                    code,
                    reason,
                });
                Ok(None)
            }
        }
    }
}

/// The manifest entry's id and the file name part of an inventory: its tenant, else
/// `unknown-tenant`.
pub fn inventory_id(inventory: &AzureInventory) -> String {
    inventory
        .tenant_id
        .clone()
        .unwrap_or_else(|| "unknown-tenant".to_owned())
}
