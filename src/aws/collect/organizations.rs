//! Service control policies that apply to an account, read through AWS Organizations.
//!
//! Only the management account (or a delegated administrator) may list policies, and many
//! accounts are in no organization at all: both are normal, so they are recorded as
//! `skipped` with the reason, not as errors. The account's parents are walked up to the root
//! so that each SCP says through which level (account, OU, root) it applies.

use super::inventory::*;
use super::sdk_error::{Described, describe, is_access_denied};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Organization, ParentType, PolicySummary, PolicyType};
use std::collections::BTreeSet;

/// How deep an organization can nest: the root plus five levels of OUs, plus slack. Bounds
/// the parent walk so that a misbehaving endpoint cannot loop it forever.
const MAX_DEPTH: usize = 10;

/// Reads the service control policies that apply to the inventory's account, in steps: the
/// organization ([`describe_organization`]), the account's parents up to the root, the
/// SCP summaries ([`list_scp_summaries`]), then each policy's document and targets
/// ([`policy_targets`]). What cannot be read is recorded in the inventory (skipped when the
/// account is not allowed or in no organization, an error otherwise).
pub(super) async fn collect_service_control_policies(
    client: &Client,
    page_size: Option<i32>,
    inventory: &mut AwsAccountInventory,
) {
    let Some(organization) = describe_organization(client, inventory).await else {
        return;
    };

    let parents = match parents(client, &inventory.account_id).await {
        Ok(parents) => parents,
        Err(described) => {
            record_denied_as_skipped(inventory, "organizations:ListParents", None, described);
            Vec::new()
        }
    };
    inventory.organization = Some(AwsOrganization {
        id: organization.id().unwrap_or_default().to_owned(),
        arn: organization.arn().map(str::to_owned),
        master_account_id: organization.master_account_id().map(str::to_owned),
        parents: parents.clone(),
    });

    let Some(summaries) = list_scp_summaries(client, page_size, inventory).await else {
        return;
    };

    let mut levels: BTreeSet<String> = parents.into_iter().collect();
    levels.insert(inventory.account_id.clone());
    for summary in summaries {
        let Some(id) = summary.id().map(String::from) else {
            continue;
        };
        let content = match client.describe_policy().policy_id(&id).send().await {
            Ok(output) => output
                .policy()
                .and_then(|policy| policy.content())
                .map(str::to_owned),
            Err(error) => {
                record_denied_as_skipped(
                    inventory,
                    "organizations:DescribePolicy",
                    Some(&id),
                    describe(&error),
                );
                continue;
            }
        };
        let document = match super::decode_policy_document(content.as_deref().unwrap_or_default()) {
            Ok(document) => document,
            Err(error) => {
                record(
                    inventory,
                    false,
                    "organizations:DescribePolicy",
                    Some(&id),
                    Described {
                        code: None,
                        reason: error.to_string(),
                    },
                );
                continue;
            }
        };
        let targets = policy_targets(client, &id, page_size, inventory).await;
        let applies_through = targets
            .iter()
            .filter(|target| levels.contains(*target))
            .cloned()
            .collect();
        inventory
            .service_control_policies
            .push(AwsServiceControlPolicy {
                arn: summary.arn().unwrap_or_default().to_owned(),
                name: summary.name().unwrap_or_default().to_owned(),
                aws_managed: summary.aws_managed(),
                document,
                targets,
                applies_through,
                id,
            });
    }
}

/// The account's organization; `None` when there is none or it cannot be read (recorded as
/// skipped for "no organization" and access denied, as an error otherwise).
async fn describe_organization(
    client: &Client,
    inventory: &mut AwsAccountInventory,
) -> Option<Organization> {
    match client.describe_organization().send().await {
        Ok(output) => output.organization().cloned(),
        Err(error) => {
            let described = describe(&error);
            let reason = match described.code.as_deref() {
                Some("AWSOrganizationsNotInUseException") => format!(
                    "the account is in no organization, so no service control policy applies ({})",
                    described.reason
                ),
                code if is_access_denied(code) => format!(
                    "cannot read the organization, service control policies are unknown: {}; \
                     grant `organizations:DescribeOrganization`",
                    described.reason
                ),
                _ => {
                    record(
                        inventory,
                        false,
                        "organizations:DescribeOrganization",
                        None,
                        described,
                    );
                    return None;
                }
            };
            record(
                inventory,
                true,
                "organizations:DescribeOrganization",
                None,
                Described {
                    reason,
                    ..described
                },
            );
            None
        }
    }
}

/// The summaries of every SCP of the organization; `None` (recorded) when they cannot all be
/// listed.
async fn list_scp_summaries(
    client: &Client,
    page_size: Option<i32>,
    inventory: &mut AwsAccountInventory,
) -> Option<Vec<PolicySummary>> {
    let mut summaries = Vec::new();
    let mut pages = client
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .set_max_results(page_size)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => summaries.extend(page.policies().iter().cloned()),
            Err(error) => {
                record_denied_as_skipped(
                    inventory,
                    "organizations:ListPolicies",
                    None,
                    describe(&error),
                );
                return None;
            }
        }
    }

    Some(summaries)
}

/// The targets (root, OU and account ids) an SCP is attached to; a page that cannot be
/// read is recorded and ends the list.
async fn policy_targets(
    client: &Client,
    id: &str,
    page_size: Option<i32>,
    inventory: &mut AwsAccountInventory,
) -> Vec<String> {
    let mut targets = Vec::new();
    let mut pages = client
        .list_targets_for_policy()
        .policy_id(id)
        .set_max_results(page_size)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => targets.extend(
                page.targets()
                    .iter()
                    .filter_map(|target| target.target_id().map(str::to_owned)),
            ),
            Err(error) => {
                record_denied_as_skipped(
                    inventory,
                    "organizations:ListTargetsForPolicy",
                    Some(id),
                    describe(&error),
                );
                break;
            }
        }
    }
    targets
}

/// The account's parents, nearest first, up to and including the root.
async fn parents(client: &Client, account_id: &str) -> Result<Vec<String>, Described> {
    let mut chain = Vec::new();
    let mut child = account_id.to_owned();
    for _ in 0..MAX_DEPTH {
        let output = client
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|error| describe(&error))?;
        let Some(parent) = output.parents().first() else {
            break;
        };
        let Some(id) = parent.id() else { break };
        chain.push(id.to_owned());
        if parent.r#type() == Some(&ParentType::Root) {
            break;
        }
        child = id.to_owned();
    }
    Ok(chain)
}

fn record_denied_as_skipped(
    inventory: &mut AwsAccountInventory,
    call: &str,
    target: Option<&str>,
    described: Described,
) {
    let skipped = is_access_denied(described.code.as_deref());
    let described = if skipped {
        Described {
            reason: format!(
                "{}; only the management account or a delegated administrator can read \
                 service control policies: collect with a role there to include them",
                described.reason
            ),
            ..described
        }
    } else {
        described
    };
    record(inventory, skipped, call, target, described);
}

fn record(
    inventory: &mut AwsAccountInventory,
    skipped: bool,
    call: &str,
    target: Option<&str>,
    described: Described,
) {
    let issue = CollectIssue {
        call: call.to_owned(),
        account: inventory.account_id.clone(),
        target: target.map(str::to_owned),
        code: described.code,
        reason: described.reason,
    };
    if skipped {
        inventory.skipped.push(issue);
    } else {
        inventory.errors.push(issue);
    }
}
