//! The GCP trust and grant checks: each finding type in its own file, whose `//!` comment
//! says *What it finds*, *Why it matters*, *Example* and *Remediation*. They read the
//! collector's record ([`GcpInventory`]) directly: Workload Identity Federation providers,
//! each service account's own IAM policy (who may act as it), keys and the bindings of the
//! hierarchy.
//!
//! Entry points: [`gcp_findings`], sorted and deterministic, and [`gcp_identity_findings`],
//! each finding with the service account it concerns.

mod basic_role_on_service_account;
mod impersonation_at_container_level;
mod pull_request_reaches_set_iam_policy;
pub mod user_managed_key;
mod wif_condition_without_owner;
mod wif_pool_wide_principal_set;
mod wif_provider_without_condition;

use super::inventory::{GcpInventory, GcpWorkloadIdentityProvider};
use crate::checks::{Check, LooksAt};
use crate::graph::subject::shared_issuer;
use crate::model::{CiIssuer, Finding, IdentityId, Provider, Severity};

/// A GCP check (the one [`Check`] shape): its function reads the whole inventory.
pub type GcpCheck = Check<fn(&GcpInventory, &mut Vec<Finding>)>;

/// Every GCP check, by id.
pub const CHECKS: &[GcpCheck] = &[
    Check {
        id: basic_role_on_service_account::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::High,
        run: basic_role_on_service_account::run,
        source: include_str!("basic_role_on_service_account.rs"),
    },
    Check {
        id: impersonation_at_container_level::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::High,
        run: impersonation_at_container_level::run,
        source: include_str!("impersonation_at_container_level.rs"),
    },
    Check {
        id: pull_request_reaches_set_iam_policy::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: pull_request_reaches_set_iam_policy::run,
        source: include_str!("pull_request_reaches_set_iam_policy.rs"),
    },
    Check {
        id: user_managed_key::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Medium,
        run: user_managed_key::run,
        source: include_str!("user_managed_key.rs"),
    },
    Check {
        id: wif_condition_without_owner::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: wif_condition_without_owner::run,
        source: include_str!("wif_condition_without_owner.rs"),
    },
    Check {
        id: wif_pool_wide_principal_set::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::High,
        run: wif_pool_wide_principal_set::run,
        source: include_str!("wif_pool_wide_principal_set.rs"),
    },
    Check {
        id: wif_provider_without_condition::ID,
        provider: Provider::Gcp,
        looks_at: LooksAt::Trust,
        max_severity: Severity::Critical,
        run: wif_provider_without_condition::run,
        source: include_str!("wif_provider_without_condition.rs"),
    },
];

/// Every finding of every GCP check on `inventory`, sorted.
pub fn gcp_findings(inventory: &GcpInventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    for check in CHECKS {
        (check.run)(inventory, &mut findings);
    }
    findings.sort();
    findings.dedup();
    findings
}

/// Every finding of every GCP check on `inventory`, with the service account it concerns:
/// the account a finding's subject names (`service account `<email>``); for a Workload
/// Identity provider's finding, one copy per service account whose own IAM policy opens it
/// to the provider's pool, or `None` when no account is open to it. Sorted.
pub fn gcp_identity_findings(inventory: &GcpInventory) -> Vec<(Option<IdentityId>, Finding)> {
    let mut attributed = Vec::new();
    for finding in gcp_findings(inventory) {
        if let Some(email) = finding
            .subject
            .strip_prefix("service account `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            let id = IdentityId::new(Provider::Gcp, &email.to_ascii_lowercase());
            attributed.push((Some(id), finding));
            continue;
        }
        let provider = finding
            .subject
            .strip_prefix("WIF provider `")
            .and_then(|rest| rest.strip_suffix('`'));
        let mut accounts: Vec<IdentityId> = provider
            .map(|provider| {
                accounts_open_to_pool(inventory, pool_of(provider))
                    .map(|(email, _, _)| {
                        IdentityId::new(Provider::Gcp, &email.to_ascii_lowercase())
                    })
                    .collect()
            })
            .unwrap_or_default();
        accounts.sort();
        accounts.dedup();
        if accounts.is_empty() {
            attributed.push((None, finding));
        } else {
            attributed.extend(accounts.into_iter().map(|id| (Some(id), finding.clone())));
        }
    }
    attributed.sort();
    attributed
}

/// The pool a provider belongs to: `projects/N/locations/global/workloadIdentityPools/P`.
fn pool_of(provider: &str) -> &str {
    provider
        .split_once("/providers/")
        .map_or(provider, |(pool, _)| pool)
}

/// The OIDC issuer of a provider and whether it is a multi-tenant SaaS issuer whose tokens
/// anyone with an account can obtain.
fn shared_oidc_issuer(provider: &GcpWorkloadIdentityProvider) -> Option<(&str, CiIssuer)> {
    let oidc = provider.oidc.as_ref()?;
    let issuer = CiIssuer::from_issuer_url(&oidc.issuer_uri);
    shared_issuer(&issuer, &oidc.issuer_uri).then_some((oidc.issuer_uri.as_str(), issuer))
}

/// Every active provider with its pool's name.
fn active_providers(
    inventory: &GcpInventory,
) -> impl Iterator<Item = &GcpWorkloadIdentityProvider> {
    inventory
        .workload_identity_pools
        .iter()
        .filter(|pool| !pool.disabled && pool.state != "DELETED")
        .flat_map(|pool| pool.providers.iter().flatten())
        .filter(|provider| !provider.disabled && provider.state != "DELETED")
}

/// The service accounts whose own IAM policy lets members of `pool` act as them, with the
/// member and role: `principalSet://iam.googleapis.com/<pool>/…` or `principal://…`.
fn accounts_open_to_pool<'a>(
    inventory: &'a GcpInventory,
    pool: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
    inventory.service_accounts.iter().flat_map(move |account| {
        account
            .iam_policy
            .iter()
            .flat_map(|policy| policy.bindings.iter())
            .filter(|binding| IMPERSONATION_ROLES.contains(&binding.role.as_str()))
            .flat_map(move |binding| {
                binding
                    .members
                    .iter()
                    .filter(move |member| member_pool(member) == Some(pool))
                    .map(move |member| {
                        (
                            account.email.as_str(),
                            member.as_str(),
                            binding.role.as_str(),
                        )
                    })
            })
    })
}

/// The pool a `principal://` or `principalSet://` member names.
fn member_pool(member: &str) -> Option<&str> {
    let rest = member
        .strip_prefix("principalSet://iam.googleapis.com/")
        .or_else(|| member.strip_prefix("principal://iam.googleapis.com/"))?;
    let end = rest
        .find("/subject/")
        .or_else(|| rest.find("/attribute."))
        .or_else(|| rest.find("/group/"))
        .or_else(|| rest.strip_suffix("/*").map(str::len))?;
    Some(&rest[..end])
}

/// Roles that let a member obtain a service account's credentials or act as it
/// (<https://cloud.google.com/iam/docs/service-account-permissions>,
/// <https://cloud.google.com/iam/docs/workload-identity-federation#impersonation>).
const IMPERSONATION_ROLES: &[&str] = &[
    "roles/iam.workloadIdentityUser",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountOpenIdTokenCreator",
    "roles/iam.serviceAccountKeyAdmin",
];

#[cfg(test)]
mod tests;
