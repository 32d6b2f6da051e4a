//! `collect gcp`: reads an organization, a folder or a list of projects (read-only) into a
//! [`GcpInventory`].
//!
//! The official google-cloud-rust clients do the Resource Manager v3 calls (organizations,
//! folders at any depth, projects, and `getIamPolicy` at each level) and the IAM Admin v1
//! calls (service accounts, their keys and their own IAM policy, custom roles); the
//! Workload Identity pools and providers come from the IAM REST API with the same credentials
//! (`rest`), and so do the IAM v2 deny policies of every organization, folder and project.
//! Every list is followed to its last page. A call that fails (403
//! `PERMISSION_DENIED`, 404, …) is recorded in the inventory's `errors` and the run goes on;
//! 429 and 503 are retried with exponential backoff first (the clients' retry policy:
//! `Aip194Strict` plus `TooManyRequests`, see
//! <https://cloud.google.com/apis/design/errors#error_retries>). Only missing credentials stop
//! the run.
//!
//! IAM policies are requested at version 3 so that conditional bindings come back with their
//! conditions (<https://cloud.google.com/iam/docs/policies#versions>).

mod auth;
mod rest;

use crate::gcp::inventory::{
    GcpCollectIssue, GcpConditionExpr, GcpCustomRole, GcpFolder, GcpIamPolicy, GcpInventory,
    GcpKeyType, GcpOrganization, GcpPolicyBinding, GcpProject, GcpServiceAccount,
    GcpServiceAccountKey,
};
use base64::Engine as _;
use google_cloud_gax::error::Error as ApiError;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::options::RequestOptionsBuilder as _;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt as _, TooManyRequests};
use google_cloud_iam_admin_v1::client::Iam;
use google_cloud_iam_admin_v1::model::RoleView;
use google_cloud_iam_admin_v1::model::list_service_account_keys_request::KeyType;
use google_cloud_iam_v1::model::{GetPolicyOptions, Policy};
use google_cloud_resourcemanager_v3::client::{Folders, Organizations, Projects};
use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

pub use auth::{AdcSource, adc_source, no_credentials_message};

/// Reads and checks a credentials file given with `--credentials` without asking for a token:
/// before collecting, so that an unreadable or malformed file is an input error, told apart
/// from a token the provider refuses. Call it inside a tokio runtime: the auth library starts
/// its token cache on the current one.
///
/// Errors: the file cannot be read, is not JSON, has an unknown `type`, or its fields do
/// not make credentials of that type; the message names the file and the expected types.
pub fn check_credentials_file(path: &std::path::Path) -> Result<(), String> {
    auth::load(Some(path)).map(|_| ())
}

/// The Resource Manager endpoint.
pub const RESOURCE_MANAGER_ENDPOINT: &str = "https://cloudresourcemanager.googleapis.com";
/// The IAM endpoint (IAM Admin v1 and the Workload Identity REST calls).
pub const IAM_ENDPOINT: &str = "https://iam.googleapis.com";
/// Attempts per call, the first included, when the answer is 429 or 503.
const MAX_ATTEMPTS: u32 = 5;
/// The deepest ancestor chain followed upwards from a folder or project (GCP allows ten
/// levels of folders: <https://cloud.google.com/resource-manager/docs/creating-managing-folders>).
const MAX_ANCESTORS: usize = 16;
/// The IAM policy version that returns conditional bindings whole.
const POLICY_VERSION: i32 = 3;

/// What to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `123456789012`: the organization, every folder at any depth, every project.
    Organization(String),
    /// `456`: the folder, its subfolders and projects, and its ancestors' IAM policies.
    Folder(String),
    /// Project ids or numbers, with their ancestors' IAM policies.
    Projects(Vec<String>),
}

impl Scope {
    /// The scope as resource names: `organizations/1`, `folders/2`, `projects/p`.
    pub fn resource_names(&self) -> Vec<String> {
        match self {
            Scope::Organization(id) => vec![format!("organizations/{id}")],
            Scope::Folder(id) => vec![format!("folders/{id}")],
            Scope::Projects(ids) => ids.iter().map(|id| format!("projects/{id}")).collect(),
        }
    }

    /// A short name for files: `organization-1`, `folder-2`, `projects-a-b`.
    pub fn label(&self) -> String {
        let raw = match self {
            Scope::Organization(id) => format!("organization-{id}"),
            Scope::Folder(id) => format!("folder-{id}"),
            Scope::Projects(ids) => format!("projects-{}", ids.join("-")),
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
}

/// How to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    pub scope: Scope,
    /// Send every call to this base URL (a replay server, a proxy) instead of the Google
    /// endpoints.
    pub endpoint: Option<String>,
    /// A credentials file; Application Default Credentials otherwise.
    pub credentials_file: Option<PathBuf>,
    /// Items per page of list calls (the services' maximum, 1000, otherwise; the APIs may
    /// return fewer).
    pub page_size: Option<i32>,
    /// The first retry delay after a 429 or 503 (doubled on each further attempt).
    pub initial_backoff: Duration,
}

/// A failure that stops the whole collection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GcpCollectError {
    /// No credentials could be loaded, or they give no token.
    #[error("{0}")]
    Credentials(String),
    /// A client could not be built (a bad endpoint URL).
    #[error("cannot build the GCP `{client}` client: {reason}")]
    Client {
        client: &'static str,
        reason: String,
    },
}

/// Collects `options.scope`. `progress` receives one line per step, for stderr.
///
/// Errors: only [`GcpCollectError`] (no credentials, no client); every failed API call is
/// recorded in the returned inventory's `errors` instead.
pub async fn collect(
    options: &CollectOptions,
    collected_at: String,
    progress: &(dyn Fn(String) + Sync),
) -> Result<GcpInventory, GcpCollectError> {
    // The Google crates are built without their default (aws-lc) provider; ring, which the
    // AWS clients use too, signs service-account JWTs and runs TLS. Installing twice is
    // harmless (the first one stays).
    let _ = rustls::crypto::ring::default_provider().install_default();

    let loaded =
        auth::load(options.credentials_file.as_deref()).map_err(GcpCollectError::Credentials)?;
    progress(format!("credentials: {}", loaded.source));
    // Ask for a token once up front: without one every call would fail the same way.
    if let Err(error) = loaded.credentials.headers(http::Extensions::new()).await {
        let message = match &options.credentials_file {
            Some(path) => format!(
                "the credentials in `{}` give no access token: {error}",
                path.display()
            ),
            None => format!("{}: {error}", no_credentials_message(&adc_source())),
        };
        return Err(GcpCollectError::Credentials(message));
    }

    let clients = Clients::new(options, &loaded.credentials).await?;
    let mut inventory = GcpInventory::new(
        options.scope.resource_names(),
        collected_at,
        loaded.source.clone(),
    );
    let run = Run { clients, progress };
    run.collect(&options.scope, &mut inventory).await;
    inventory.sort();
    Ok(inventory)
}

/// Cloud Logging in the public cloud.
pub const LOGGING_ENDPOINT: &str = "https://logging.googleapis.com";

/// The Cloud Audit Log entries of `projects` (ids) from `since` to `until` through Cloud
/// Logging's `entries.list`, for projects whose logs are not exported to a sink: the entries
/// of every project that could be read, and an issue for each that could not (its entries
/// are then missing, and said so). Needs `logging.logEntries.list` (in
/// `roles/logging.viewer`; Data Access entries need `logging.privateLogEntries.list`, in
/// `roles/logging.privateLogViewer`).
///
/// Errors: only [`GcpCollectError`] (no credentials, no client).
pub async fn audit_log_entries(
    options: &CollectOptions,
    projects: &[String],
    since: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    progress: &(dyn Fn(String) + Sync),
) -> Result<(Vec<serde_json::Value>, Vec<GcpCollectIssue>), GcpCollectError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let loaded =
        auth::load(options.credentials_file.as_deref()).map_err(GcpCollectError::Credentials)?;
    let endpoint = options
        .endpoint
        .clone()
        .unwrap_or_else(|| LOGGING_ENDPOINT.to_owned());
    let client = rest::RestClient::new(&endpoint, loaded.credentials, options.initial_backoff)
        .map_err(|reason| GcpCollectError::Client {
            client: "logging",
            reason,
        })?;
    let mut entries = Vec::new();
    let mut issues = Vec::new();
    for project in projects {
        progress(format!("audit log entries of `projects/{project}`"));
        match client
            .audit_log_entries(project, since, until, options.page_size.unwrap_or(1000))
            .await
        {
            Ok(found) => entries.extend(found),
            Err(error) => issues.push(rest_issue(
                "logging.entries.list",
                &format!("projects/{project}"),
                error,
            )),
        }
    }
    Ok((entries, issues))
}

struct Clients {
    organizations: Organizations,
    folders: Folders,
    projects: Projects,
    iam: Iam,
    rest: rest::RestClient,
    page_size: i32,
}

impl Clients {
    async fn new(
        options: &CollectOptions,
        credentials: &google_cloud_auth::credentials::Credentials,
    ) -> Result<Self, GcpCollectError> {
        let resource_manager = options
            .endpoint
            .clone()
            .unwrap_or_else(|| RESOURCE_MANAGER_ENDPOINT.to_owned());
        let iam_endpoint = options
            .endpoint
            .clone()
            .unwrap_or_else(|| IAM_ENDPOINT.to_owned());
        let backoff = || {
            ExponentialBackoffBuilder::new()
                .with_initial_delay(options.initial_backoff)
                .with_maximum_delay(Duration::from_secs(60))
                .clamp()
        };
        let retry = || TooManyRequests::new(Aip194Strict).with_attempt_limit(MAX_ATTEMPTS);
        let client_error = |client: &'static str| {
            move |error: google_cloud_gax::client_builder::Error| GcpCollectError::Client {
                client,
                reason: error.to_string(),
            }
        };
        macro_rules! build {
            ($client:ty, $endpoint:expr, $name:literal) => {
                <$client>::builder()
                    .with_endpoint($endpoint.clone())
                    .with_credentials(credentials.clone())
                    .with_retry_policy(retry())
                    .with_backoff_policy(backoff())
                    .build()
                    .await
                    .map_err(client_error($name))?
            };
        }
        Ok(Self {
            organizations: build!(Organizations, resource_manager, "organizations"),
            folders: build!(Folders, resource_manager, "folders"),
            projects: build!(Projects, resource_manager, "projects"),
            iam: build!(Iam, iam_endpoint, "iam"),
            rest: rest::RestClient::new(
                &iam_endpoint,
                credentials.clone(),
                options.initial_backoff,
            )
            .map_err(|reason| GcpCollectError::Client {
                client: "iam-rest",
                reason,
            })?,
            page_size: options.page_size.unwrap_or(1000),
        })
    }
}

/// Follows `nextPageToken`s, refusing a token seen before (a server loop would otherwise
/// never end).
#[derive(Debug, Default)]
struct PageTokens {
    seen: BTreeSet<String>,
}

impl PageTokens {
    /// `Ok(Some(token))` to fetch the next page, `Ok(None)` after the last page.
    fn next(&mut self, token: String) -> Result<Option<String>, String> {
        if token.is_empty() {
            return Ok(None);
        }
        if !self.seen.insert(token.clone()) {
            return Err(format!(
                "the server returned the page token `{token}` twice; the list stops there"
            ));
        }
        Ok(Some(token))
    }
}

struct Run<'a> {
    clients: Clients,
    progress: &'a (dyn Fn(String) + Sync),
}

fn issue(call: &str, target: &str, error: &ApiError) -> GcpCollectIssue {
    let status = error.status();
    GcpCollectIssue {
        call: call.to_owned(),
        target: target.to_owned(),
        http_status: error.http_status_code(),
        status: status.map(|status| status.code.name().to_owned()),
        reason: status
            .map(|status| status.message.clone())
            .filter(|message| !message.is_empty())
            .unwrap_or_else(|| error.to_string()),
    }
}

fn rest_issue(call: &str, target: &str, error: rest::RestError) -> GcpCollectIssue {
    GcpCollectIssue {
        call: call.to_owned(),
        target: target.to_owned(),
        http_status: error.http_status,
        status: error.status,
        reason: error.reason,
    }
}

fn policy_options() -> GetPolicyOptions {
    GetPolicyOptions::new().set_requested_policy_version(POLICY_VERSION)
}

fn policy_from(policy: Policy) -> GcpIamPolicy {
    GcpIamPolicy {
        version: policy.version,
        etag: base64::engine::general_purpose::STANDARD.encode(&policy.etag),
        bindings: policy
            .bindings
            .into_iter()
            .map(|binding| GcpPolicyBinding {
                role: binding.role,
                members: binding.members,
                condition: binding.condition.map(|expr| GcpConditionExpr {
                    title: expr.title,
                    expression: expr.expression,
                    description: expr.description,
                }),
            })
            .collect(),
    }
}

/// RFC 3339 text of a protobuf timestamp, as on the wire.
fn timestamp(value: Option<google_cloud_wkt::Timestamp>) -> Option<String> {
    value
        .and_then(|ts| serde_json::to_value(ts).ok())
        .and_then(|json| json.as_str().map(str::to_owned))
}

macro_rules! enum_name {
    ($value:expr) => {
        $value
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| $value.to_string())
    };
}

impl Run<'_> {
    async fn collect(&self, scope: &Scope, inventory: &mut GcpInventory) {
        match scope {
            Scope::Organization(id) => {
                let name = format!("organizations/{id}");
                self.organization(&name, inventory).await;
                self.descendants(&name, inventory).await;
            }
            Scope::Folder(id) => {
                let name = format!("folders/{id}");
                if let Some(parent) = self.folder(&name, false, inventory).await {
                    self.ancestors(parent, inventory).await;
                }
                self.descendants(&name, inventory).await;
            }
            Scope::Projects(ids) => {
                let mut parents = BTreeSet::new();
                for id in ids {
                    let name = format!("projects/{id}");
                    match self
                        .clients
                        .projects
                        .get_project()
                        .set_name(&name)
                        .send()
                        .await
                    {
                        Ok(project) => {
                            if !project.parent.is_empty() {
                                parents.insert(project.parent.clone());
                            }
                            inventory.projects.push(project_from(project));
                        }
                        Err(error) => inventory.errors.push(issue(
                            "cloudresourcemanager.projects.get",
                            &name,
                            &error,
                        )),
                    }
                }
                for parent in parents {
                    self.ancestors(parent, inventory).await;
                }
            }
        }
        self.policies(inventory).await;
        self.deny_policies(inventory).await;
        let organizations: Vec<String> = inventory
            .organizations
            .iter()
            .map(|o| o.name.clone())
            .collect();
        for organization in organizations {
            self.custom_roles(&organization, inventory).await;
        }
        let projects: Vec<String> = inventory
            .projects
            .iter()
            .map(|p| p.project_id.clone())
            .collect();
        for (index, project) in projects.iter().enumerate() {
            (self.progress)(format!(
                "project {}/{}: `{project}`: service accounts, keys, custom roles, workload \
                 identity pools",
                index + 1,
                projects.len()
            ));
            self.service_accounts(project, inventory).await;
            self.custom_roles(&format!("projects/{project}"), inventory)
                .await;
            self.workload_identity_pools(project, inventory).await;
        }
    }

    async fn organization(&self, name: &str, inventory: &mut GcpInventory) {
        if inventory.organizations.iter().any(|o| o.name == name) {
            return;
        }
        (self.progress)(format!("organization `{name}`"));
        match self
            .clients
            .organizations
            .get_organization()
            .set_name(name)
            .send()
            .await
        {
            Ok(organization) => inventory.organizations.push(GcpOrganization {
                name: organization.name,
                display_name: organization.display_name,
                state: enum_name!(organization.state),
                iam_policy: None,
            }),
            Err(error) => {
                inventory.errors.push(issue(
                    "cloudresourcemanager.organizations.get",
                    name,
                    &error,
                ));
                // Still listed, so that its IAM policy and custom roles are tried.
                inventory.organizations.push(GcpOrganization {
                    name: name.to_owned(),
                    display_name: String::new(),
                    state: String::new(),
                    iam_policy: None,
                });
            }
        }
    }

    /// Reads one folder; returns its parent.
    async fn folder(
        &self,
        name: &str,
        outside_scope: bool,
        inventory: &mut GcpInventory,
    ) -> Option<String> {
        if inventory.folders.iter().any(|f| f.name == name) {
            return None;
        }
        match self
            .clients
            .folders
            .get_folder()
            .set_name(name)
            .send()
            .await
        {
            Ok(folder) => {
                let parent = folder.parent.clone();
                let mut record = folder_from(folder);
                record.outside_scope = outside_scope;
                inventory.folders.push(record);
                Some(parent)
            }
            Err(error) => {
                inventory
                    .errors
                    .push(issue("cloudresourcemanager.folders.get", name, &error));
                None
            }
        }
    }

    /// Reads the folders and organization above `parent`, whose IAM policies the scope
    /// inherits.
    async fn ancestors(&self, mut parent: String, inventory: &mut GcpInventory) {
        for _ in 0..MAX_ANCESTORS {
            if parent.starts_with("organizations/") {
                self.organization(&parent, inventory).await;
                return;
            }
            if !parent.starts_with("folders/") {
                return;
            }
            (self.progress)(format!("ancestor `{parent}`"));
            match self.folder(&parent, true, inventory).await {
                Some(next) => parent = next,
                None => return,
            }
        }
    }

    /// Every folder (any depth) and project under `root`, breadth first.
    async fn descendants(&self, root: &str, inventory: &mut GcpInventory) {
        let mut queue = VecDeque::from([root.to_owned()]);
        let mut visited = BTreeSet::new();
        let mut known: BTreeSet<String> = inventory
            .folders
            .iter()
            .map(|f| f.name.clone())
            .chain(inventory.projects.iter().map(|p| p.name.clone()))
            .collect();
        while let Some(parent) = queue.pop_front() {
            if !visited.insert(parent.clone()) {
                continue;
            }
            (self.progress)(format!("listing folders and projects under `{parent}`"));
            for folder in self.list_folders(&parent, inventory).await {
                queue.push_back(folder.name.clone());
                if known.insert(folder.name.clone()) {
                    inventory.folders.push(folder);
                }
            }
            for project in self.list_projects(&parent, inventory).await {
                if known.insert(project.name.clone()) {
                    inventory.projects.push(project);
                }
            }
        }
    }

    async fn list_folders(&self, parent: &str, inventory: &mut GcpInventory) -> Vec<GcpFolder> {
        let mut out = Vec::new();
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .folders
                .list_folders()
                .set_parent(parent)
                .set_page_size(self.clients.page_size.min(1000))
                .set_page_token(&token)
                .send()
                .await;
            match page {
                Ok(page) => {
                    out.extend(page.folders.into_iter().map(folder_from));
                    match tokens.next(page.next_page_token) {
                        Ok(Some(next)) => token = next,
                        Ok(None) => return out,
                        Err(reason) => {
                            inventory.errors.push(GcpCollectIssue {
                                call: "cloudresourcemanager.folders.list".to_owned(),
                                target: parent.to_owned(),
                                http_status: None,
                                status: None,
                                reason,
                            });
                            return out;
                        }
                    }
                }
                Err(error) => {
                    inventory.errors.push(issue(
                        "cloudresourcemanager.folders.list",
                        parent,
                        &error,
                    ));
                    return out;
                }
            }
        }
    }

    async fn list_projects(&self, parent: &str, inventory: &mut GcpInventory) -> Vec<GcpProject> {
        let mut out = Vec::new();
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .projects
                .list_projects()
                .set_parent(parent)
                .set_page_size(self.clients.page_size.min(1000))
                .set_page_token(&token)
                .send()
                .await;
            match page {
                Ok(page) => {
                    out.extend(page.projects.into_iter().map(project_from));
                    match tokens.next(page.next_page_token) {
                        Ok(Some(next)) => token = next,
                        Ok(None) => return out,
                        Err(reason) => {
                            inventory.errors.push(GcpCollectIssue {
                                call: "cloudresourcemanager.projects.list".to_owned(),
                                target: parent.to_owned(),
                                http_status: None,
                                status: None,
                                reason,
                            });
                            return out;
                        }
                    }
                }
                Err(error) => {
                    inventory.errors.push(issue(
                        "cloudresourcemanager.projects.list",
                        parent,
                        &error,
                    ));
                    return out;
                }
            }
        }
    }

    /// `getIamPolicy` of every organization, folder and project collected so far.
    async fn policies(&self, inventory: &mut GcpInventory) {
        let total =
            inventory.organizations.len() + inventory.folders.len() + inventory.projects.len();
        (self.progress)(format!("reading {total} IAM policies"));
        let mut errors = Vec::new();
        for organization in &mut inventory.organizations {
            let result = self
                .clients
                .organizations
                .get_iam_policy()
                .set_resource(&organization.name)
                .set_options(policy_options())
                .with_idempotency(true)
                .send()
                .await;
            match result {
                Ok(policy) => organization.iam_policy = Some(policy_from(policy)),
                Err(error) => errors.push(issue(
                    "cloudresourcemanager.organizations.getIamPolicy",
                    &organization.name,
                    &error,
                )),
            }
        }
        for folder in &mut inventory.folders {
            let result = self
                .clients
                .folders
                .get_iam_policy()
                .set_resource(&folder.name)
                .set_options(policy_options())
                .with_idempotency(true)
                .send()
                .await;
            match result {
                Ok(policy) => folder.iam_policy = Some(policy_from(policy)),
                Err(error) => errors.push(issue(
                    "cloudresourcemanager.folders.getIamPolicy",
                    &folder.name,
                    &error,
                )),
            }
        }
        for project in &mut inventory.projects {
            let result = self
                .clients
                .projects
                .get_iam_policy()
                .set_resource(&project.name)
                .set_options(policy_options())
                .with_idempotency(true)
                .send()
                .await;
            match result {
                Ok(policy) => project.iam_policy = Some(policy_from(policy)),
                Err(error) => errors.push(issue(
                    "cloudresourcemanager.projects.getIamPolicy",
                    &project.name,
                    &error,
                )),
            }
        }
        inventory.errors.extend(errors);
    }

    /// The IAM deny policies attached to every organization, folder and project collected so
    /// far (IAM v2; needs `iam.denypolicies.list` and `iam.denypolicies.get`, in
    /// `roles/iam.denyReviewer`). Deny policies are inherited by every descendant of their
    /// attachment point (<https://cloud.google.com/iam/docs/deny-overview#inheritance>), so the
    /// ancestors read for a folder or project scope are read too.
    async fn deny_policies(&self, inventory: &mut GcpInventory) {
        let resources: Vec<String> = inventory
            .organizations
            .iter()
            .map(|o| o.name.clone())
            .chain(inventory.folders.iter().map(|f| f.name.clone()))
            .chain(inventory.projects.iter().map(|p| p.name.clone()))
            .collect();
        (self.progress)(format!(
            "reading the IAM deny policies of {} resources",
            resources.len()
        ));
        for resource in resources {
            let (policies, failures) = self
                .clients
                .rest
                .deny_policies(&resource, self.clients.page_size.min(1000))
                .await;
            match policies {
                Ok(policies) => inventory.deny_policies.extend(policies),
                Err(error) => {
                    inventory
                        .errors
                        .push(rest_issue("iam.policies.listPolicies", &resource, error))
                }
            }
            // Recorded against the attachment point, so that the identities below it are
            // marked incomplete; the policy is named in the reason.
            for (policy, mut error) in failures {
                error.reason = format!("deny policy `{policy}`: {}", error.reason);
                inventory
                    .errors
                    .push(rest_issue("iam.policies.get", &resource, error));
            }
        }
    }

    /// Service accounts of `project` with their keys and their own IAM policy.
    async fn service_accounts(&self, project: &str, inventory: &mut GcpInventory) {
        let parent = format!("projects/{project}");
        let mut accounts = Vec::new();
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .iam
                .list_service_accounts()
                .set_name(&parent)
                .set_page_size(self.clients.page_size.min(100))
                .set_page_token(&token)
                .send()
                .await;
            match page {
                Ok(page) => {
                    accounts.extend(page.accounts);
                    match tokens.next(page.next_page_token) {
                        Ok(Some(next)) => token = next,
                        Ok(None) => break,
                        Err(reason) => {
                            inventory.errors.push(GcpCollectIssue {
                                call: "iam.serviceAccounts.list".to_owned(),
                                target: parent.clone(),
                                http_status: None,
                                status: None,
                                reason,
                            });
                            break;
                        }
                    }
                }
                Err(error) => {
                    inventory
                        .errors
                        .push(issue("iam.serviceAccounts.list", &parent, &error));
                    break;
                }
            }
        }
        for account in accounts {
            let keys = match self
                .clients
                .iam
                .list_service_account_keys()
                .set_name(&account.name)
                .send()
                .await
            {
                Ok(response) => Some(response.keys.into_iter().map(key_from).collect()),
                Err(error) => {
                    inventory.errors.push(issue(
                        "iam.serviceAccounts.keys.list",
                        &account.name,
                        &error,
                    ));
                    None
                }
            };
            let iam_policy = match self
                .clients
                .iam
                .get_iam_policy()
                .set_resource(&account.name)
                .set_options(policy_options())
                .with_idempotency(true)
                .send()
                .await
            {
                Ok(policy) => Some(policy_from(policy)),
                Err(error) => {
                    inventory.errors.push(issue(
                        "iam.serviceAccounts.getIamPolicy",
                        &account.name,
                        &error,
                    ));
                    None
                }
            };
            inventory.service_accounts.push(GcpServiceAccount {
                name: account.name,
                project_id: account.project_id,
                email: account.email,
                unique_id: account.unique_id,
                display_name: account.display_name,
                description: account.description,
                disabled: account.disabled,
                keys,
                iam_policy,
            });
        }
    }

    /// Custom roles defined on `parent` (`organizations/1` or `projects/p`).
    async fn custom_roles(&self, parent: &str, inventory: &mut GcpInventory) {
        let call = if parent.starts_with("organizations/") {
            "iam.organizations.roles.list"
        } else {
            "iam.projects.roles.list"
        };
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .iam
                .list_roles()
                .set_parent(parent)
                .set_view(RoleView::Full)
                .set_page_size(self.clients.page_size.min(1000))
                .set_page_token(&token)
                .send()
                .await;
            match page {
                Ok(page) => {
                    inventory
                        .custom_roles
                        .extend(page.roles.into_iter().map(|role| GcpCustomRole {
                            stage: enum_name!(role.stage),
                            name: role.name,
                            title: role.title,
                            description: role.description,
                            included_permissions: role.included_permissions,
                            deleted: role.deleted,
                        }));
                    match tokens.next(page.next_page_token) {
                        Ok(Some(next)) => token = next,
                        Ok(None) => return,
                        Err(reason) => {
                            inventory.errors.push(GcpCollectIssue {
                                call: call.to_owned(),
                                target: parent.to_owned(),
                                http_status: None,
                                status: None,
                                reason,
                            });
                            return;
                        }
                    }
                }
                Err(error) => {
                    inventory.errors.push(issue(call, parent, &error));
                    return;
                }
            }
        }
    }

    async fn workload_identity_pools(&self, project: &str, inventory: &mut GcpInventory) {
        let (pools, failures) = self
            .clients
            .rest
            .workload_identity_pools(project, self.clients.page_size.min(1000))
            .await;
        match pools {
            Ok(pools) => inventory.workload_identity_pools.extend(pools),
            Err(error) => inventory.errors.push(rest_issue(
                "iam.workloadIdentityPools.list",
                &format!("projects/{project}"),
                error,
            )),
        }
        for (pool, error) in failures {
            inventory.errors.push(rest_issue(
                "iam.workloadIdentityPools.providers.list",
                &pool,
                error,
            ));
        }
    }
}

fn folder_from(folder: google_cloud_resourcemanager_v3::model::Folder) -> GcpFolder {
    GcpFolder {
        state: enum_name!(folder.state),
        name: folder.name,
        parent: folder.parent,
        display_name: folder.display_name,
        outside_scope: false,
        iam_policy: None,
    }
}

fn project_from(project: google_cloud_resourcemanager_v3::model::Project) -> GcpProject {
    GcpProject {
        state: enum_name!(project.state),
        name: project.name,
        project_id: project.project_id,
        parent: project.parent,
        display_name: project.display_name,
        iam_policy: None,
    }
}

fn key_from(key: google_cloud_iam_admin_v1::model::ServiceAccountKey) -> GcpServiceAccountKey {
    GcpServiceAccountKey {
        key_type: match key.key_type {
            KeyType::UserManaged => GcpKeyType::UserManaged,
            KeyType::SystemManaged => GcpKeyType::SystemManaged,
            _ => GcpKeyType::Unspecified,
        },
        key_origin: enum_name!(key.key_origin),
        key_algorithm: enum_name!(key.key_algorithm),
        valid_after_time: timestamp(key.valid_after_time),
        valid_before_time: timestamp(key.valid_before_time),
        disabled: key.disabled,
        name: key.name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_stop_on_empty_and_on_a_repeated_token() {
        let mut tokens = PageTokens::default();
        assert_eq!(tokens.next("a".into()), Ok(Some("a".into())));
        assert_eq!(tokens.next("b".into()), Ok(Some("b".into())));
        assert!(tokens.next("a".into()).is_err());
        assert_eq!(tokens.next(String::new()), Ok(None));
    }

    #[test]
    fn scope_names_and_labels() {
        let scope = Scope::Projects(vec!["web-prod".into(), "a/b".into()]);
        assert_eq!(
            scope.resource_names(),
            ["projects/web-prod", "projects/a/b"]
        );
        assert_eq!(scope.label(), "projects-web-prod-a-b");
        assert_eq!(Scope::Organization("1".into()).label(), "organization-1");
        assert_eq!(Scope::Folder("2".into()).resource_names(), ["folders/2"]);
    }
}
