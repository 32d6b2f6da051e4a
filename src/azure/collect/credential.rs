//! Which Microsoft Entra credential `collect azure` signs in with, and the chain tried when
//! none is named.
//!
//! The chain, in order (the first whose settings are complete is used; the last two are tried
//! in turn when no earlier one is configured):
//!
//! 1. **Client secret**: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`
//!    (`ClientSecretCredential`).
//! 2. **Client certificate**: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//!    `AZURE_CLIENT_CERTIFICATE_PATH` (a PKCS #12 file) and optionally
//!    `AZURE_CLIENT_CERTIFICATE_PASSWORD` (`ClientCertificateCredential`; needs a build with
//!    the `azure-certificate` feature, which links OpenSSL).
//! 3. **GitHub Actions workload identity federation**: `ACTIONS_ID_TOKEN_REQUEST_URL` and
//!    `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (set by GitHub when the job has
//!    `permissions: id-token: write`) with `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`: the job's
//!    OIDC token for the audience `api://AzureADTokenExchange` is the client assertion
//!    (`ClientAssertionCredential`). See
//!    <https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-azure>.
//! 4. **Workload identity from a token file** (AKS, or any platform that writes one):
//!    `AZURE_FEDERATED_TOKEN_FILE` with `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`
//!    (`WorkloadIdentityCredential`).
//! 5. **Azure CLI**: the account of `az login` (`AzureCliCredential`).
//! 6. **Managed identity**: the identity of the VM, App Service or container the command runs
//!    on; `AZURE_CLIENT_ID` picks a user-assigned one (`ManagedIdentityCredential`).
//!
//! `--credential` names one of them instead, and then only that one is tried.

use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::headers::HeaderName;
use azure_core::http::{
    ClientMethodOptions, ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request,
    RetryOptions, Transport, Url,
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The audience of a GitHub Actions OIDC token exchanged with Microsoft Entra ID.
pub const GITHUB_AUDIENCE: &str = "api://AzureADTokenExchange";

/// A credential `--credential` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CredentialKind {
    ClientSecret,
    ClientCertificate,
    GithubActions,
    WorkloadIdentity,
    AzureCli,
    ManagedIdentity,
}

impl CredentialKind {
    /// Every kind, in the order of the default chain.
    pub const CHAIN: [CredentialKind; 6] = [
        CredentialKind::ClientSecret,
        CredentialKind::ClientCertificate,
        CredentialKind::GithubActions,
        CredentialKind::WorkloadIdentity,
        CredentialKind::AzureCli,
        CredentialKind::ManagedIdentity,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::ClientSecret => "client-secret",
            CredentialKind::ClientCertificate => "client-certificate",
            CredentialKind::GithubActions => "github-actions",
            CredentialKind::WorkloadIdentity => "workload-identity",
            CredentialKind::AzureCli => "azure-cli",
            CredentialKind::ManagedIdentity => "managed-identity",
        }
    }

    /// What it needs, for messages.
    fn needs(self) -> &'static str {
        match self {
            CredentialKind::ClientSecret => {
                "`AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`"
            }
            CredentialKind::ClientCertificate => {
                "`AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_CERTIFICATE_PATH`"
            }
            CredentialKind::GithubActions => {
                "a GitHub Actions job with `permissions: id-token: write` \
                 (`ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`), \
                 `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`"
            }
            CredentialKind::WorkloadIdentity => {
                "`AZURE_FEDERATED_TOKEN_FILE`, `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`"
            }
            CredentialKind::AzureCli => "`az login` done, with `az` on the `PATH`",
            CredentialKind::ManagedIdentity => {
                "running on Azure with a managed identity (VM, App Service, container)"
            }
        }
    }
}

/// A credential could not be built or could not get a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// `--credential` named one whose settings are missing.
    #[error("the `{kind}` credential needs {needs}")]
    Missing {
        kind: &'static str,
        needs: &'static str,
    },
    /// azure_identity refused the settings (a malformed tenant id, say).
    #[error("the `{kind}` credential cannot be set up: {reason}")]
    Invalid { kind: &'static str, reason: String },
    /// The build has no support for it.
    #[error("the `{kind}` credential {reason}")]
    Unsupported { kind: &'static str, reason: String },
}

/// Where the settings of a credential come from, and how its token requests are sent.
pub struct CredentialSettings<'a> {
    /// Reads an environment variable (the process environment, or a map in tests).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Overrides `AZURE_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// The Microsoft Entra authority (`https://login.microsoftonline.com` by default;
    /// `AZURE_AUTHORITY_HOST` otherwise).
    pub authority_host: Option<String>,
    /// The HTTP transport for token requests (a custom trust root, say).
    pub transport: Option<Transport>,
}

impl CredentialSettings<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|value| !value.trim().is_empty())
    }

    fn tenant(&self) -> Option<String> {
        self.tenant_id
            .clone()
            .or_else(|| self.var("AZURE_TENANT_ID"))
    }

    fn client_options(&self) -> ClientOptions {
        let mut options = ClientOptions {
            transport: super::transport_or_default(self.transport.clone()),
            ..ClientOptions::default()
        };
        let host = self
            .authority_host
            .clone()
            .or_else(|| self.var("AZURE_AUTHORITY_HOST"));
        if let Some(host) = host {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = host;
            options.cloud = Some(Arc::new(azure_core::cloud::CloudConfiguration::Custom(
                custom,
            )));
        }
        options
    }

    /// Whether the settings `kind` needs are all present (the last two need none that can be
    /// seen beforehand).
    pub fn configured(&self, kind: CredentialKind) -> bool {
        let app = self.tenant().is_some() && self.var("AZURE_CLIENT_ID").is_some();
        match kind {
            CredentialKind::ClientSecret => app && self.var("AZURE_CLIENT_SECRET").is_some(),
            CredentialKind::ClientCertificate => {
                app && self.var("AZURE_CLIENT_CERTIFICATE_PATH").is_some()
            }
            CredentialKind::GithubActions => {
                app && self.var("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
                    && self.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some()
            }
            CredentialKind::WorkloadIdentity => {
                app && self.var("AZURE_FEDERATED_TOKEN_FILE").is_some()
            }
            CredentialKind::AzureCli | CredentialKind::ManagedIdentity => true,
        }
    }

    /// Builds the credential `kind` from the settings.
    pub fn build(&self, kind: CredentialKind) -> Result<Arc<dyn TokenCredential>, CredentialError> {
        if !self.configured(kind) {
            return Err(CredentialError::Missing {
                kind: kind.name(),
                needs: kind.needs(),
            });
        }
        let invalid = |error: azure_core::Error| CredentialError::Invalid {
            kind: kind.name(),
            reason: error.to_string(),
        };
        let tenant = self.tenant().unwrap_or_default();
        let client_id = self.var("AZURE_CLIENT_ID").unwrap_or_default();
        let credential: Arc<dyn TokenCredential> = match kind {
            CredentialKind::ClientSecret => ClientSecretCredential::new(
                &tenant,
                client_id,
                Secret::new(self.var("AZURE_CLIENT_SECRET").unwrap_or_default()),
                Some(ClientSecretCredentialOptions {
                    client_options: self.client_options(),
                }),
            )
            .map_err(invalid)?,
            CredentialKind::ClientCertificate => self.certificate(tenant, client_id)?,
            CredentialKind::GithubActions => {
                let assertion = GithubActionsAssertion::new(
                    self.var("ACTIONS_ID_TOKEN_REQUEST_URL").unwrap_or_default(),
                    self.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
                        .unwrap_or_default(),
                    super::transport_or_default(self.transport.clone()),
                )
                .map_err(|reason| CredentialError::Invalid {
                    kind: kind.name(),
                    reason,
                })?;
                ClientAssertionCredential::new(
                    tenant,
                    client_id,
                    assertion,
                    Some(ClientAssertionCredentialOptions {
                        client_options: self.client_options(),
                    }),
                )
                .map_err(invalid)?
            }
            CredentialKind::WorkloadIdentity => {
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: self.client_options(),
                    },
                    client_id: Some(client_id),
                    tenant_id: Some(tenant),
                    token_file_path: self.var("AZURE_FEDERATED_TOKEN_FILE").map(Into::into),
                }))
                .map_err(invalid)?
            }
            CredentialKind::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
                tenant_id: self.tenant(),
                ..AzureCliCredentialOptions::default()
            }))
            .map_err(invalid)?,
            CredentialKind::ManagedIdentity => {
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: self.var("AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                    client_options: self.client_options(),
                }))
                .map_err(invalid)?
            }
        };
        Ok(credential)
    }

    #[cfg(feature = "azure-certificate")]
    fn certificate(
        &self,
        tenant: String,
        client_id: String,
    ) -> Result<Arc<dyn TokenCredential>, CredentialError> {
        let kind = CredentialKind::ClientCertificate.name();
        let path = self
            .var("AZURE_CLIENT_CERTIFICATE_PATH")
            .unwrap_or_default();
        let bytes = std::fs::read(&path).map_err(|error| CredentialError::Invalid {
            kind,
            reason: format!("cannot read `{path}`: {error}"),
        })?;
        let credential = azure_identity::ClientCertificateCredential::new(
            tenant,
            client_id,
            azure_core::credentials::SecretBytes::new(bytes),
            Some(azure_identity::ClientCertificateCredentialOptions {
                client_options: self.client_options(),
                password: self
                    .var("AZURE_CLIENT_CERTIFICATE_PASSWORD")
                    .map(Secret::new),
            }),
        )
        .map_err(|error| CredentialError::Invalid {
            kind,
            reason: error.to_string(),
        })?;
        Ok(credential)
    }

    #[cfg(not(feature = "azure-certificate"))]
    fn certificate(
        &self,
        _tenant: String,
        _client_id: String,
    ) -> Result<Arc<dyn TokenCredential>, CredentialError> {
        Err(CredentialError::Unsupported {
            kind: CredentialKind::ClientCertificate.name(),
            reason: "needs a build with the `azure-certificate` feature \
                     (`cargo install pipeleash --features azure-certificate`); \
                     use a client secret or workload identity federation otherwise"
                .to_owned(),
        })
    }

    /// The default chain: every configured credential, in [`CredentialKind::CHAIN`] order.
    /// Settings that are present but refused (a malformed tenant id) are errors, not skipped.
    pub fn chain(&self) -> Result<ChainCredential, CredentialError> {
        let mut members = Vec::new();
        for kind in CredentialKind::CHAIN {
            if !self.configured(kind) {
                continue;
            }
            members.push((kind, self.build(kind)?));
        }
        Ok(ChainCredential::new(members))
    }

    /// The credential named by `kind`, as a chain of one (for the same messages).
    pub fn single(&self, kind: CredentialKind) -> Result<ChainCredential, CredentialError> {
        Ok(ChainCredential::new(vec![(kind, self.build(kind)?)]))
    }
}

/// Tries credentials in order; the first that gets a token is used from then on. When none
/// does, the error names each one tried, why it failed, and what to set up.
pub struct ChainCredential {
    members: Vec<(CredentialKind, Arc<dyn TokenCredential>)>,
    chosen: AtomicUsize,
}

impl std::fmt::Debug for ChainCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.members.iter().map(|(kind, _)| kind.name()).collect();
        f.debug_struct("ChainCredential")
            .field("members", &names)
            .finish_non_exhaustive()
    }
}

impl ChainCredential {
    fn new(members: Vec<(CredentialKind, Arc<dyn TokenCredential>)>) -> Self {
        Self {
            members,
            chosen: AtomicUsize::new(usize::MAX),
        }
    }

    /// The kinds in the chain, in order.
    pub fn kinds(&self) -> Vec<CredentialKind> {
        self.members.iter().map(|(kind, _)| *kind).collect()
    }

    /// The credential that got the last token, if any did.
    pub fn chosen(&self) -> Option<CredentialKind> {
        let index = self.chosen.load(Ordering::Relaxed);
        self.members.get(index).map(|(kind, _)| *kind)
    }
}

#[async_trait::async_trait]
impl TokenCredential for ChainCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let chosen = self.chosen.load(Ordering::Relaxed);
        if let Some((_, credential)) = self.members.get(chosen) {
            return credential.get_token(scopes, options).await;
        }
        let mut failures = Vec::new();
        for (index, (kind, credential)) in self.members.iter().enumerate() {
            match credential.get_token(scopes, options.clone()).await {
                Ok(token) => {
                    self.chosen.store(index, Ordering::Relaxed);
                    return Ok(token);
                }
                Err(error) => failures.push(format!("  {}: {}", kind.name(), one_line(&error))),
            }
        }
        let tried = if failures.is_empty() {
            "  (none was configured)".to_owned()
        } else {
            failures.join("\n")
        };
        let setup: Vec<String> = CredentialKind::CHAIN
            .iter()
            .map(|kind| format!("  {}: {}", kind.name(), kind.needs()))
            .collect();
        Err(azure_core::Error::with_message(
            ErrorKind::Credential,
            format!(
                "no Azure credential could get a token for `{}`; tried:\n{tried}\n\
                 set up one of (in the order they are tried):\n{}",
                scopes.join(" "),
                setup.join("\n")
            ),
        ))
    }
}

fn one_line(error: &azure_core::Error) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The client assertion of a GitHub Actions job: its OIDC token for the audience
/// `api://AzureADTokenExchange`, asked from `ACTIONS_ID_TOKEN_REQUEST_URL` with the bearer
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (the response is `{"value": "<jwt>"}`). See
/// <https://docs.github.com/actions/reference/security/oidc>.
pub struct GithubActionsAssertion {
    url: Url,
    request_token: Secret,
    pipeline: Pipeline,
}

impl std::fmt::Debug for GithubActionsAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubActionsAssertion")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl GithubActionsAssertion {
    /// An assertion source for the request URL and token GitHub gives the job.
    pub fn new(
        request_url: String,
        request_token: String,
        transport: Option<Transport>,
    ) -> Result<Self, String> {
        let mut url = Url::parse(&request_url)
            .map_err(|error| format!("`ACTIONS_ID_TOKEN_REQUEST_URL` is not a URL: {error}"))?;
        url.query_pairs_mut()
            .append_pair("audience", GITHUB_AUDIENCE);
        let pipeline = Pipeline::new(
            Some("pipeleash"),
            Some(env!("CARGO_PKG_VERSION")),
            ClientOptions {
                retry: RetryOptions::none(),
                transport,
                ..ClientOptions::default()
            },
            Vec::new(),
            Vec::new(),
            None,
        );
        Ok(Self {
            url,
            request_token: Secret::new(request_token),
            pipeline,
        })
    }
}

#[async_trait::async_trait]
impl ClientAssertion for GithubActionsAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let mut request = Request::new(self.url.clone(), Method::Get);
        request.insert_header(
            HeaderName::from_static("authorization"),
            format!("bearer {}", self.request_token.secret()),
        );
        request.insert_header("accept", "application/json");
        let response = self
            .pipeline
            .send(
                &Context::new(),
                &mut request,
                Some(PipelineSendOptions {
                    skip_checks: true,
                    ..PipelineSendOptions::default()
                }),
            )
            .await?;
        let status = u16::from(response.status());
        let fail =
            |message: String| azure_core::Error::with_message(ErrorKind::Credential, message);
        if !(200..300).contains(&status) {
            return Err(fail(format!(
                "the GitHub Actions OIDC token request answered HTTP {status}; \
                 does the job have `permissions: id-token: write`?"
            )));
        }
        let body: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).map_err(|error| {
                fail(format!(
                    "the GitHub Actions OIDC token response is not JSON: {error}"
                ))
            })?;
        match body.get("value").and_then(serde_json::Value::as_str) {
            Some(token) if !token.is_empty() => Ok(token.to_owned()),
            _ => Err(fail(
                "the GitHub Actions OIDC token response has no `value`".to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(vars: &BTreeMap<&str, &str>) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn chain_order_puts_configured_environment_credentials_before_cli_and_managed_identity() {
        let vars = BTreeMap::from([
            ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_CLIENT_SECRET", "not-a-real-secret"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://token.actions.example/x?api-version=2.0",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
        ]);
        let env = settings(&vars);
        let settings = CredentialSettings {
            env: &env,
            tenant_id: None,
            authority_host: None,
            transport: None,
        };
        let chain = settings.chain().unwrap();
        assert_eq!(
            chain.kinds(),
            [
                CredentialKind::ClientSecret,
                CredentialKind::GithubActions,
                CredentialKind::AzureCli,
                CredentialKind::ManagedIdentity
            ]
        );
    }

    #[test]
    fn a_named_credential_without_its_settings_says_what_it_needs() {
        let vars = BTreeMap::from([("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001")]);
        let env = settings(&vars);
        let settings = CredentialSettings {
            env: &env,
            tenant_id: None,
            authority_host: None,
            transport: None,
        };
        let error = settings.single(CredentialKind::ClientSecret).unwrap_err();
        assert!(error.to_string().contains("AZURE_CLIENT_SECRET"), "{error}");
        let error = settings.single(CredentialKind::GithubActions).unwrap_err();
        assert!(error.to_string().contains("id-token: write"), "{error}");
    }

    #[test]
    fn an_http_authority_host_is_refused() {
        let vars = BTreeMap::from([
            ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_CLIENT_SECRET", "not-a-real-secret"),
        ]);
        let env = settings(&vars);
        let settings = CredentialSettings {
            env: &env,
            tenant_id: None,
            authority_host: Some("http://127.0.0.1:1".to_owned()),
            transport: None,
        };
        let error = settings.single(CredentialKind::ClientSecret).unwrap_err();
        assert!(error.to_string().contains("HTTPS"), "{error}");
    }
}
