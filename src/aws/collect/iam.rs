//! The IAM half of an account's inventory: identities, policies, OIDC providers, access keys.
//!
//! `GetAccountAuthorizationDetails` is the backbone: one paginated call returns every role,
//! user and group with their inline policies, attachments, boundaries and trust policies, and
//! every managed policy with all its versions. The other calls fill what it leaves out.

use super::CollectError;
use super::document::decode_policy_document;
use super::inventory::*;
use super::sdk_error::describe;
use aws_sdk_iam::Client;
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use aws_sdk_iam::types::{AttachedPermissionsBoundary, PolicyDetail, Tag};
use std::collections::{BTreeMap, BTreeSet};

/// Formats an AWS timestamp as RFC 3339; `None` when absent or out of range.
pub(super) fn timestamp(time: Option<&DateTime>) -> Option<String> {
    time.and_then(|time| time.fmt(DateTimeFormat::DateTime).ok())
}

fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect()
}

fn boundary(boundary: Option<&AttachedPermissionsBoundary>) -> Option<String> {
    boundary
        .and_then(|boundary| boundary.permissions_boundary_arn())
        .map(str::to_owned)
}

fn attached(policies: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<AttachedPolicy> {
    policies
        .iter()
        .filter_map(|policy| {
            Some(AttachedPolicy {
                arn: policy.policy_arn()?.to_owned(),
                name: policy.policy_name().unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Decodes a document, recording the failure when it cannot be read.
fn document(
    raw: Option<&str>,
    what: impl FnOnce() -> String,
    inventory: &mut AwsAccountInventory,
) -> Option<String> {
    let raw = raw?;
    match decode_policy_document(raw) {
        Ok(text) => Some(text),
        Err(error) => {
            inventory.errors.push(CollectIssue {
                call: "iam:GetAccountAuthorizationDetails".to_owned(),
                account: inventory.account_id.clone(),
                target: Some(what()),
                code: None,
                reason: error.to_string(),
            });
            None
        }
    }
}

fn inline(
    owner: &str,
    policies: &[PolicyDetail],
    inventory: &mut AwsAccountInventory,
) -> Vec<InlinePolicy> {
    policies
        .iter()
        .filter_map(|policy| {
            let name = policy.policy_name().unwrap_or_default().to_owned();
            let document = document(
                policy.policy_document(),
                || format!("{owner} inline policy {name}"),
                inventory,
            )?;
            Some(InlinePolicy { name, document })
        })
        .collect()
}

/// Reads `GetAccountAuthorizationDetails` to the last page.
///
/// A failure on the first page fails the account (there is nothing to analyze without it);
/// a failure on a later page keeps what was read and records the truncation as an error.
pub(super) async fn collect_authorization_details(
    client: &Client,
    page_size: Option<i32>,
    inventory: &mut AwsAccountInventory,
) -> Result<(), CollectError> {
    let mut pages = client
        .get_account_authorization_details()
        .set_max_items(page_size)
        .into_paginator()
        .send();
    let mut managed = Vec::new();
    let mut page_count = 0usize;
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                let described = describe(&error);
                if page_count == 0 {
                    return Err(CollectError::AuthorizationDetails {
                        account: inventory.account_id.clone(),
                        reason: described.reason,
                    });
                }
                inventory.errors.push(CollectIssue {
                    call: "iam:GetAccountAuthorizationDetails".to_owned(),
                    account: inventory.account_id.clone(),
                    target: Some(format!("page {}", page_count + 1)),
                    code: described.code,
                    reason: format!(
                        "{}; the inventory stops after page {page_count}",
                        described.reason
                    ),
                });
                break;
            }
        };
        page_count += 1;
        for role in page.role_detail_list() {
            let arn = role.arn().unwrap_or_default().to_owned();
            let trust_policy = document(
                role.assume_role_policy_document(),
                || format!("{arn} trust policy"),
                inventory,
            );
            let inline_policies = inline(&arn, role.role_policy_list(), inventory);
            inventory.roles.push(AwsRole {
                name: role.role_name().unwrap_or_default().to_owned(),
                role_id: role.role_id().unwrap_or_default().to_owned(),
                path: role.path().unwrap_or("/").to_owned(),
                create_date: timestamp(role.create_date()),
                trust_policy,
                inline_policies,
                attached_policies: attached(role.attached_managed_policies()),
                permissions_boundary: boundary(role.permissions_boundary()),
                last_used: role.role_last_used().and_then(|used| {
                    let last_used = RoleLastUsed {
                        date: timestamp(used.last_used_date()),
                        region: used.region().map(str::to_owned),
                    };
                    (last_used.date.is_some() || last_used.region.is_some()).then_some(last_used)
                }),
                tags: tags(role.tags()),
                instance_profiles: role
                    .instance_profile_list()
                    .iter()
                    .map(|profile| profile.arn())
                    .filter(|arn| !arn.is_empty())
                    .map(str::to_owned)
                    .collect(),
                arn,
            });
        }
        for user in page.user_detail_list() {
            let arn = user.arn().unwrap_or_default().to_owned();
            let inline_policies = inline(&arn, user.user_policy_list(), inventory);
            inventory.users.push(AwsUser {
                name: user.user_name().unwrap_or_default().to_owned(),
                user_id: user.user_id().unwrap_or_default().to_owned(),
                path: user.path().unwrap_or("/").to_owned(),
                create_date: timestamp(user.create_date()),
                groups: user.group_list().to_vec(),
                inline_policies,
                attached_policies: attached(user.attached_managed_policies()),
                permissions_boundary: boundary(user.permissions_boundary()),
                tags: tags(user.tags()),
                arn,
            });
        }
        for group in page.group_detail_list() {
            let arn = group.arn().unwrap_or_default().to_owned();
            let inline_policies = inline(&arn, group.group_policy_list(), inventory);
            inventory.groups.push(AwsGroup {
                name: group.group_name().unwrap_or_default().to_owned(),
                group_id: group.group_id().unwrap_or_default().to_owned(),
                path: group.path().unwrap_or("/").to_owned(),
                inline_policies,
                attached_policies: attached(group.attached_managed_policies()),
                arn,
            });
        }
        managed.extend(page.policies().iter().cloned());
    }

    let referenced = referenced_policies(inventory);
    for policy in managed {
        let arn = policy.arn().unwrap_or_default().to_owned();
        let aws_managed = is_aws_managed(&arn);
        // Some endpoints (moto) return every AWS-managed policy; only those in use here matter.
        if aws_managed && !referenced.contains_key(&arn) {
            continue;
        }
        let mut versions = Vec::new();
        for version in policy.policy_version_list() {
            let version_id = version.version_id().unwrap_or_default().to_owned();
            if let Some(document) = document(
                version.document(),
                || format!("{arn} version {version_id}"),
                inventory,
            ) {
                versions.push(PolicyVersion {
                    version_id,
                    is_default: version.is_default_version(),
                    create_date: timestamp(version.create_date()),
                    document,
                });
            }
        }
        inventory.policies.push(AwsManagedPolicy {
            name: policy
                .policy_name()
                .map_or_else(|| name_from_arn(&arn), str::to_owned),
            policy_id: policy.policy_id().map(str::to_owned),
            path: policy.path().unwrap_or("/").to_owned(),
            aws_managed,
            default_version_id: policy.default_version_id().map(str::to_owned),
            attachment_count: policy.attachment_count().unwrap_or_default(),
            permissions_boundary_usage_count: policy
                .permissions_boundary_usage_count()
                .unwrap_or_default(),
            versions,
            arn,
        });
    }
    Ok(())
}

/// The name of a managed policy from its ARN (`…:policy/path/name` → `name`), for endpoints
/// that leave `PolicyName` out.
fn name_from_arn(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// Whether `arn` names a policy owned by AWS (`arn:<partition>:iam::aws:policy/…`).
fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// Every managed policy ARN attached to an identity or used as a boundary, with its users.
fn referenced_policies(inventory: &AwsAccountInventory) -> BTreeMap<String, BTreeSet<String>> {
    let mut referenced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |policy: &str, identity: &str| {
        referenced
            .entry(policy.to_owned())
            .or_default()
            .insert(identity.to_owned());
    };
    for role in &inventory.roles {
        for policy in &role.attached_policies {
            add(&policy.arn, &role.arn);
        }
        if let Some(boundary) = &role.permissions_boundary {
            add(boundary, &role.arn);
        }
    }
    for user in &inventory.users {
        for policy in &user.attached_policies {
            add(&policy.arn, &user.arn);
        }
        if let Some(boundary) = &user.permissions_boundary {
            add(boundary, &user.arn);
        }
    }
    for group in &inventory.groups {
        for policy in &group.attached_policies {
            add(&policy.arn, &group.arn);
        }
    }
    referenced
}

/// Fetches the default version of every attached policy the details did not include, and
/// names the ones that still cannot be read.
pub(super) async fn resolve_unresolved_policies(
    client: &Client,
    inventory: &mut AwsAccountInventory,
) {
    let known: BTreeSet<String> = inventory.policies.iter().map(|p| p.arn.clone()).collect();
    let missing: Vec<(String, BTreeSet<String>)> = referenced_policies(inventory)
        .into_iter()
        .filter(|(arn, _)| !known.contains(arn))
        .collect();
    for (arn, attached_to) in missing {
        match fetch_policy(client, &arn).await {
            Ok(policy) => inventory.policies.push(policy),
            Err(reason) => inventory.unresolved_policies.push(UnresolvedPolicy {
                arn,
                attached_to: attached_to.into_iter().collect(),
                reason,
            }),
        }
    }
}

async fn fetch_policy(client: &Client, arn: &str) -> Result<AwsManagedPolicy, String> {
    let not_returned = "attached but not returned by `iam:GetAccountAuthorizationDetails`";
    let policy = client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|error| {
            format!(
                "{not_returned}; `iam:GetPolicy` failed: {}",
                describe(&error).reason
            )
        })?;
    let policy = policy
        .policy()
        .ok_or_else(|| format!("{not_returned}; `iam:GetPolicy` returned no policy"))?;
    let version_id = policy
        .default_version_id()
        .ok_or_else(|| format!("{not_returned}; `iam:GetPolicy` named no default version"))?;
    let version = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version_id)
        .send()
        .await
        .map_err(|error| {
            format!(
                "{not_returned}; `iam:GetPolicyVersion` failed: {}",
                describe(&error).reason
            )
        })?;
    let version = version
        .policy_version()
        .ok_or_else(|| format!("{not_returned}; `iam:GetPolicyVersion` returned no version"))?;
    let document = decode_policy_document(version.document().unwrap_or_default())
        .map_err(|error| error.to_string())?;
    Ok(AwsManagedPolicy {
        arn: arn.to_owned(),
        name: policy
            .policy_name()
            .map_or_else(|| name_from_arn(arn), str::to_owned),
        policy_id: policy.policy_id().map(str::to_owned),
        path: policy.path().unwrap_or("/").to_owned(),
        aws_managed: is_aws_managed(arn),
        default_version_id: Some(version_id.to_owned()),
        attachment_count: policy.attachment_count().unwrap_or_default(),
        permissions_boundary_usage_count: policy
            .permissions_boundary_usage_count()
            .unwrap_or_default(),
        versions: vec![PolicyVersion {
            version_id: version_id.to_owned(),
            is_default: true,
            create_date: timestamp(version.create_date()),
            document,
        }],
    })
}

/// Reads every OIDC identity provider with its audiences and thumbprints.
pub(super) async fn collect_oidc_providers(client: &Client, inventory: &mut AwsAccountInventory) {
    let list = match client.list_open_id_connect_providers().send().await {
        Ok(list) => list,
        Err(error) => {
            push_error(inventory, "iam:ListOpenIDConnectProviders", None, &error);
            return;
        }
    };
    for entry in list.open_id_connect_provider_list() {
        let Some(arn) = entry.arn() else { continue };
        match client
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
        {
            Ok(provider) => inventory.oidc_providers.push(AwsOidcProvider {
                arn: arn.to_owned(),
                url: provider.url().map(str::to_owned),
                client_ids: provider.client_id_list().to_vec(),
                thumbprints: provider.thumbprint_list().to_vec(),
                create_date: timestamp(provider.create_date()),
                tags: tags(provider.tags()),
            }),
            Err(error) => {
                push_error(inventory, "iam:GetOpenIDConnectProvider", Some(arn), &error);
            }
        }
    }
}

/// Reads the access keys of every IAM user and when each was last used.
pub(super) async fn collect_access_keys(
    client: &Client,
    page_size: Option<i32>,
    inventory: &mut AwsAccountInventory,
) {
    let users: Vec<String> = inventory
        .users
        .iter()
        .map(|user| user.name.clone())
        .collect();
    for user in users {
        let mut pages = client
            .list_access_keys()
            .user_name(&user)
            .set_max_items(page_size)
            .into_paginator()
            .items()
            .send();
        while let Some(key) = pages.next().await {
            let key = match key {
                Ok(key) => key,
                Err(error) => {
                    push_error(inventory, "iam:ListAccessKeys", Some(&user), &error);
                    break;
                }
            };
            let Some(access_key_id) = key.access_key_id() else {
                continue;
            };
            let last_used = match client
                .get_access_key_last_used()
                .access_key_id(access_key_id)
                .send()
                .await
            {
                Ok(output) => output.access_key_last_used().map(|used| AccessKeyLastUsed {
                    date: timestamp(used.last_used_date()),
                    // IAM says `N/A` for a key that was never used.
                    region: Some(used.region())
                        .filter(|r| *r != "N/A")
                        .map(str::to_owned),
                    service: Some(used.service_name())
                        .filter(|s| *s != "N/A")
                        .map(str::to_owned),
                }),
                Err(error) => {
                    push_error(
                        inventory,
                        "iam:GetAccessKeyLastUsed",
                        Some(access_key_id),
                        &error,
                    );
                    None
                }
            };
            inventory.access_keys.push(AwsAccessKey {
                user_name: user.clone(),
                access_key_id: access_key_id.to_owned(),
                status: key
                    .status()
                    .map(|status| status.as_str().to_owned())
                    .unwrap_or_default(),
                create_date: timestamp(key.create_date()),
                last_used,
            });
        }
    }
}

fn push_error<E, R>(
    inventory: &mut AwsAccountInventory,
    call: &str,
    target: Option<&str>,
    error: &aws_sdk_iam::error::SdkError<E, R>,
) where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let described = describe(error);
    inventory.errors.push(CollectIssue {
        call: call.to_owned(),
        account: inventory.account_id.clone(),
        target: target.map(str::to_owned),
        code: described.code,
        reason: described.reason,
    });
}
