//! `collect aws`: reads the IAM inventory of one or more AWS accounts with the official SDK.
//!
//! This is an edge of the crate: it talks to the network and produces
//! [`AwsAccountInventory`] values, the raw-but-typed file format that a snapshot stores.
//! Nothing here interprets policies.
//!
//! Credentials and endpoints come from the SDK's standard chain (environment, profiles, SSO,
//! web identity as GitHub Actions OIDC provides it, IMDS); `AWS_ENDPOINT_URL` is honoured by the
//! SDK itself. Several accounts are collected in one run by assuming one role per account;
//! each account is collected on its own, so one unreachable account does not stop the others.
//! Partial failures inside an account (a denied call, an organization that does not exist) are
//! recorded in the inventory's `errors` and `skipped` lists, never dropped.

mod document;
mod iam;
use super::inventory;
pub mod lookup_events;
mod organizations;
pub mod s3_logs;
mod sdk_error;

pub use document::{DocumentError, decode_policy_document};
pub use inventory::*;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::fmt;

/// The region used for signing when none is configured: IAM and Organizations are global
/// services served from `us-east-1` in the `aws` partition.
pub const FALLBACK_REGION: &str = "us-east-1";

/// How to reach AWS and what to collect.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// A named profile from `~/.aws/config`; the chain's default otherwise.
    pub profile: Option<String>,
    /// The region to sign requests for; the chain's, else [`FALLBACK_REGION`].
    pub region: Option<String>,
    /// Sends every call to this endpoint (moto, a proxy). `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// Role ARNs to assume, one per account. Empty: collect the caller's own account.
    pub assume_roles: Vec<String>,
    /// Page size for the paginated calls; the service's default when `None`.
    pub page_size: Option<i32>,
}

/// Whose credentials an account is collected with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CollectTarget {
    /// The credentials the standard chain resolves.
    Caller,
    /// A role assumed with those credentials.
    AssumeRole(String),
}

impl fmt::Display for CollectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectTarget::Caller => f.write_str("the configured credentials"),
            CollectTarget::AssumeRole(arn) => write!(f, "role `{arn}`"),
        }
    }
}

/// Why a whole account could not be collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error(
        "cannot identify the account behind {target}: `sts:GetCallerIdentity` failed: {reason}; \
         check the credentials (profile, environment, SSO login) and, for `--assume-role`, that \
         the role exists and trusts the caller"
    )]
    CallerIdentity {
        target: CollectTarget,
        reason: String,
    },
    #[error(
        "cannot read the IAM inventory of account `{account}`: \
         `iam:GetAccountAuthorizationDetails` failed: {reason}; grant the collector \
         `iam:GetAccountAuthorizationDetails` (the AWS-managed `SecurityAudit` policy has it)"
    )]
    AuthorizationDetails { account: String, reason: String },
}

/// The result of collecting one target.
#[derive(Debug)]
pub struct AccountOutcome {
    pub target: CollectTarget,
    pub result: Result<AwsAccountInventory, CollectError>,
}

/// Loads the shared SDK configuration from the standard chain, with adaptive retries.
///
/// No HTTP client is chosen by the SDK's default features (they would pull a second TLS
/// stack); a rustls client on the `ring` provider is set here instead.
pub async fn load_sdk_config(options: &CollectOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::adaptive());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = match &options.region {
        Some(region) => loader.region(Region::new(region.clone())).load().await,
        None => loader.load().await,
    };
    with_fallback_region(config)
}

/// Whether the profile `name` is defined in the AWS shared config or credentials file, found as
/// the SDK finds them (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config`
/// and `~/.aws/credentials`; <https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html>).
/// A profile that is not there makes the SDK fall through to a chain error that never names
/// it.
///
/// Errors: a file that exists but cannot be read or parsed (the SDK's message).
pub async fn profile_defined(name: &str) -> Result<bool, String> {
    use aws_types::os_shim_internal::{Env, Fs};
    // The default file locations, as the SDK's own loader uses.
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|error| error.to_string())?;
    Ok(profiles.get_profile(name).is_some())
}

/// The HTTPS client every AWS call goes through.
pub fn https_client() -> aws_sdk_sts::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

fn with_fallback_region(config: SdkConfig) -> SdkConfig {
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::from_static(FALLBACK_REGION))
        .build()
}

/// Collects every target of `options` with `base` credentials, one account after the other.
///
/// `collected_at` is stamped on every inventory (RFC 3339) rather than read from the clock
/// here, so that a run's accounts share one time and tests can fix it.
pub async fn collect_all(
    base: &SdkConfig,
    options: &CollectOptions,
    collected_at: &str,
) -> Vec<AccountOutcome> {
    collect_all_reporting(base, options, collected_at, &|_, _, _| {}).await
}

/// [`collect_all`], calling `starting(target, index, count)` before each account (0-based
/// `index` of `count`), for a progress display.
pub async fn collect_all_reporting(
    base: &SdkConfig,
    options: &CollectOptions,
    collected_at: &str,
    starting: &(dyn Fn(&CollectTarget, usize, usize) + Sync),
) -> Vec<AccountOutcome> {
    let targets: Vec<CollectTarget> = if options.assume_roles.is_empty() {
        vec![CollectTarget::Caller]
    } else {
        options
            .assume_roles
            .iter()
            .cloned()
            .map(CollectTarget::AssumeRole)
            .collect()
    };
    let count = targets.len();
    let mut outcomes = Vec::with_capacity(count);
    for (index, target) in targets.into_iter().enumerate() {
        starting(&target, index, count);
        let config = config_for(base, &target).await;
        let result = collect_account(&config, &target, options, collected_at).await;
        outcomes.push(AccountOutcome { target, result });
    }
    outcomes
}

/// The AWS collector as a [`crate::model::Collector`]: [`collect_all`] on its own runtime,
/// with a loaded SDK configuration.
pub struct AwsCollector {
    pub config: SdkConfig,
    pub options: CollectOptions,
    pub runtime: tokio::runtime::Runtime,
}

impl crate::model::Collector for AwsCollector {
    type Outcome = AccountOutcome;

    fn provider(&self) -> crate::model::Provider {
        crate::model::Provider::Aws
    }

    fn collect(&self, collected_at: &str) -> Vec<AccountOutcome> {
        self.runtime
            .block_on(collect_all(&self.config, &self.options, collected_at))
    }
}

/// The SDK configuration whose credentials act as `target`.
pub async fn config_for(base: &SdkConfig, target: &CollectTarget) -> SdkConfig {
    match target {
        CollectTarget::Caller => base.clone(),
        CollectTarget::AssumeRole(arn) => {
            let provider = AssumeRoleProvider::builder(arn.clone())
                .session_name("pipeleash-collect")
                .configure(base)
                .build()
                .await;
            base.to_builder()
                .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                    provider,
                ))
                .build()
        }
    }
}

/// Collects one account with `config`'s credentials.
///
/// Fails only when the account cannot be identified or its IAM inventory cannot be read at
/// all; everything else is recorded in the inventory and collection goes on.
pub async fn collect_account(
    config: &SdkConfig,
    target: &CollectTarget,
    options: &CollectOptions,
    collected_at: &str,
) -> Result<AwsAccountInventory, CollectError> {
    let sts = aws_sdk_sts::Client::new(config);
    let identity =
        sts.get_caller_identity()
            .send()
            .await
            .map_err(|error| CollectError::CallerIdentity {
                target: target.clone(),
                reason: sdk_error::describe(&error).reason,
            })?;
    let caller_arn = identity.arn().unwrap_or_default().to_owned();
    let account_id = match identity.account() {
        Some(account) => account.to_owned(),
        None => {
            return Err(CollectError::CallerIdentity {
                target: target.clone(),
                reason: "the answer named no account".to_owned(),
            });
        }
    };
    let partition = caller_arn
        .split(':')
        .nth(1)
        .filter(|partition| !partition.is_empty())
        .unwrap_or("aws")
        .to_owned();
    let mut inventory =
        AwsAccountInventory::new(account_id, partition, caller_arn, collected_at.to_owned());

    let iam = aws_sdk_iam::Client::new(config);
    iam::collect_authorization_details(&iam, options.page_size, &mut inventory).await?;
    iam::resolve_unresolved_policies(&iam, &mut inventory).await;
    iam::collect_oidc_providers(&iam, &mut inventory).await;
    iam::collect_access_keys(&iam, options.page_size, &mut inventory).await;

    let organizations = aws_sdk_organizations::Client::new(config);
    organizations::collect_service_control_policies(
        &organizations,
        options.page_size,
        &mut inventory,
    )
    .await;

    inventory.sort();
    Ok(inventory)
}
