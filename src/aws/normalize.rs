//! Normalization: the collector's raw account records (`AwsAccountInventory`) into the
//! neutral model — identities, the trusts that let someone become them, and their grants.
//!
//! Every policy document is parsed here, once. What cannot be used is not dropped silently:
//! a policy that does not parse, an attached policy the collector could not read, a trust
//! statement pipeleash does not understand — each becomes a [`NormalizeIssue`] naming the
//! identity, and the identity is marked incomplete so that later analyses say so.

use super::grant::{AwsAttachment, AwsPolicyGrant};
use super::inventory::{AwsAccountInventory, AwsManagedPolicy, AwsServiceControlPolicy};
use super::policy::{ActionClause, PolicyDocument, Principal, PrincipalClause, parse_policy};
use super::{OperatorBase, Statement};
use crate::model::{
    ClaimCondition, ClaimOperator, Effect, FederatedTrust, Grant, GrantBody, GrantId, Identity,
    IdentityId, IdentityKind, Inventory, PrincipalRef, Provider, Trust,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Something normalization could not use, and what it means for the analysis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NormalizeIssue {
    pub account: String,
    /// The identity or policy concerned.
    pub subject: String,
    pub message: String,
}

/// The neutral inventory of a set of AWS accounts, with what could not be normalized.
#[derive(Debug, Default)]
pub struct NormalizedAws {
    pub inventory: Inventory,
    /// Each identity's trust policy, kept whole for trust analysis.
    pub trust_policies: BTreeMap<IdentityId, PolicyDocument>,
    /// Identities whose grants are known to be incomplete (a policy could not be read).
    pub incomplete: BTreeSet<IdentityId>,
    /// When IAM last saw each identity used (`RoleLastUsed`, the newest access-key use).
    pub last_used: BTreeMap<IdentityId, DateTime<Utc>>,
    pub issues: Vec<NormalizeIssue>,
}

/// Normalizes every account; the result is sorted and deterministic.
pub fn normalize(accounts: &[AwsAccountInventory]) -> NormalizedAws {
    let mut normalized = NormalizedAws::default();
    for account in accounts {
        normalize_account(account, &mut normalized);
    }
    normalized.issues.sort();
    normalized
}

struct AccountContext<'a> {
    account: &'a AwsAccountInventory,
    managed: BTreeMap<&'a str, &'a AwsManagedPolicy>,
    /// SCP levels from the root down to the account; empty when SCPs do not apply.
    scp_levels: Vec<Vec<&'a AwsServiceControlPolicy>>,
}

fn normalize_account(account: &AwsAccountInventory, out: &mut NormalizedAws) {
    let context = AccountContext {
        account,
        managed: account
            .policies
            .iter()
            .map(|policy| (policy.arn.as_str(), policy))
            .collect(),
        scp_levels: scp_levels(account, out),
    };
    for role in &account.roles {
        let id = IdentityId::new(Provider::Aws, &role.arn);
        out.inventory.add_identity(Identity {
            id: id.clone(),
            kind: IdentityKind::AwsRole,
            display_name: role.name.clone(),
            container: account.account_id.clone(),
            owner: role.tags.get("owner").cloned(),
            tags: role.tags.clone(),
        });
        if let Some(time) = role
            .last_used
            .as_ref()
            .and_then(|used| used.date.as_deref())
            .and_then(parse_time)
        {
            out.last_used.insert(id.clone(), time);
        }
        for inline in &role.inline_policies {
            let name = format!("inline:{}", inline.name);
            add_policy(
                out,
                &context,
                &id,
                &name,
                AwsAttachment::Identity,
                &inline.document,
            );
        }
        for attached in &role.attached_policies {
            add_managed(out, &context, &id, &attached.arn, AwsAttachment::Identity);
        }
        if let Some(boundary) = &role.permissions_boundary {
            add_managed(
                out,
                &context,
                &id,
                boundary,
                AwsAttachment::PermissionsBoundary,
            );
        }
        add_scps(out, &context, &id);
        match &role.trust_policy {
            Some(text) => match parse_policy(text) {
                Ok(document) => {
                    for trust in trusts_of(&document, &oidc_issuers(account)) {
                        out.inventory.add_trust(id.clone(), trust);
                    }
                    out.trust_policies.insert(id.clone(), document);
                }
                Err(error) => out.issues.push(NormalizeIssue {
                    account: account.account_id.clone(),
                    subject: role.arn.clone(),
                    message: format!("cannot parse the trust policy: {error}"),
                }),
            },
            None => out.issues.push(NormalizeIssue {
                account: account.account_id.clone(),
                subject: role.arn.clone(),
                message: "the trust policy was not collected: who can assume the role is unknown"
                    .into(),
            }),
        }
    }
    let groups: BTreeMap<&str, _> = account
        .groups
        .iter()
        .map(|group| (group.name.as_str(), group))
        .collect();
    for user in &account.users {
        let id = IdentityId::new(Provider::Aws, &user.arn);
        out.inventory.add_identity(Identity {
            id: id.clone(),
            kind: IdentityKind::AwsUser,
            display_name: user.name.clone(),
            container: account.account_id.clone(),
            owner: user.tags.get("owner").cloned(),
            tags: user.tags.clone(),
        });
        for inline in &user.inline_policies {
            let name = format!("inline:{}", inline.name);
            add_policy(
                out,
                &context,
                &id,
                &name,
                AwsAttachment::Identity,
                &inline.document,
            );
        }
        for attached in &user.attached_policies {
            add_managed(out, &context, &id, &attached.arn, AwsAttachment::Identity);
        }
        for group_name in &user.groups {
            let Some(group) = groups.get(group_name.as_str()) else {
                out.incomplete.insert(id.clone());
                out.issues.push(NormalizeIssue {
                    account: account.account_id.clone(),
                    subject: user.arn.clone(),
                    message: format!(
                        "group `{group_name}` was not collected: its policies are missing"
                    ),
                });
                continue;
            };
            for inline in &group.inline_policies {
                let name = format!("group:{}/inline:{}", group.name, inline.name);
                add_policy(
                    out,
                    &context,
                    &id,
                    &name,
                    AwsAttachment::Identity,
                    &inline.document,
                );
            }
            for attached in &group.attached_policies {
                let name = format!("group:{}/{}", group.name, attached.arn);
                match managed_document(&context, &attached.arn) {
                    Some(document) => {
                        add_policy(out, &context, &id, &name, AwsAttachment::Identity, document)
                    }
                    None => unresolved(out, &context, &id, &attached.arn),
                }
            }
        }
        if let Some(boundary) = &user.permissions_boundary {
            add_managed(
                out,
                &context,
                &id,
                boundary,
                AwsAttachment::PermissionsBoundary,
            );
        }
        add_scps(out, &context, &id);
        for key in account
            .access_keys
            .iter()
            .filter(|key| key.user_name == user.name)
        {
            let key_last_used = key
                .last_used
                .as_ref()
                .and_then(|used| used.date.as_deref())
                .and_then(parse_time);
            if let Some(time) = key_last_used {
                let newest = out.last_used.entry(id.clone()).or_insert(time);
                *newest = (*newest).max(time);
            }
            out.inventory.add_trust(
                id.clone(),
                Trust::LongLivedKey {
                    key_id: key.access_key_id.clone(),
                    created: key.create_date.as_deref().and_then(parse_time),
                    last_used: key_last_used,
                },
            );
        }
    }
}

/// SCP levels that apply to the account, root first; reports why none apply when so.
fn scp_levels<'a>(
    account: &'a AwsAccountInventory,
    out: &mut NormalizedAws,
) -> Vec<Vec<&'a AwsServiceControlPolicy>> {
    let Some(organization) = &account.organization else {
        return Vec::new();
    };
    if organization.master_account_id.as_deref() == Some(account.account_id.as_str()) {
        // SCPs never restrict the management account.
        return Vec::new();
    }
    let mut chain: Vec<&str> = organization
        .parents
        .iter()
        .rev()
        .map(String::as_str)
        .collect();
    chain.push(&account.account_id);
    let levels: Vec<Vec<&AwsServiceControlPolicy>> = chain
        .iter()
        .map(|target| {
            account
                .service_control_policies
                .iter()
                .filter(|policy| policy.targets.iter().any(|attached| attached == target))
                .collect()
        })
        .collect();
    if levels.iter().any(Vec::is_empty) {
        // Every level has at least one SCP in a real organization (FullAWSAccess by
        // default); an empty level means the collector could not see them all.
        out.issues.push(NormalizeIssue {
            account: account.account_id.clone(),
            subject: format!("organization `{}`", organization.id),
            message: "some organization levels show no service control policy: SCPs are left out of the analysis rather than read as denying everything".into(),
        });
        return Vec::new();
    }
    levels
}

fn add_scps(out: &mut NormalizedAws, context: &AccountContext<'_>, identity: &IdentityId) {
    for (level, policies) in context.scp_levels.iter().enumerate() {
        for policy in policies {
            let name = format!("scp:{} ({})", policy.id, policy.name);
            add_policy(
                out,
                context,
                identity,
                &name,
                AwsAttachment::ServiceControl { level },
                &policy.document,
            );
        }
    }
}

fn managed_document<'a>(context: &AccountContext<'a>, arn: &str) -> Option<&'a str> {
    let policy = context.managed.get(arn)?;
    let default = policy
        .versions
        .iter()
        .find(|version| version.is_default)
        .or_else(|| {
            policy.versions.iter().find(|version| {
                Some(version.version_id.as_str()) == policy.default_version_id.as_deref()
            })
        })?;
    Some(default.document.as_str())
}

fn add_managed(
    out: &mut NormalizedAws,
    context: &AccountContext<'_>,
    identity: &IdentityId,
    arn: &str,
    attachment: AwsAttachment,
) {
    match managed_document(context, arn) {
        Some(document) => add_policy(out, context, identity, arn, attachment, document),
        None => unresolved(out, context, identity, arn),
    }
}

fn unresolved(
    out: &mut NormalizedAws,
    context: &AccountContext<'_>,
    identity: &IdentityId,
    arn: &str,
) {
    out.incomplete.insert(identity.clone());
    out.issues.push(NormalizeIssue {
        account: context.account.account_id.clone(),
        subject: identity.native().to_string(),
        message: format!(
            "attached policy `{arn}` was not collected: what the identity is granted is incomplete"
        ),
    });
}

fn add_policy(
    out: &mut NormalizedAws,
    context: &AccountContext<'_>,
    identity: &IdentityId,
    name: &str,
    attachment: AwsAttachment,
    text: &str,
) {
    let document = match parse_policy(text) {
        Ok(document) => document,
        Err(error) => {
            out.incomplete.insert(identity.clone());
            out.issues.push(NormalizeIssue {
                account: context.account.account_id.clone(),
                subject: identity.native().to_string(),
                message: format!("cannot parse policy `{name}`: {error}"),
            });
            return;
        }
    };
    let id = GrantId::new(format!("{}#{name}", identity.native()));
    let grant = Grant {
        id,
        identity: identity.clone(),
        body: GrantBody::Aws(AwsPolicyGrant {
            policy: name.to_string(),
            attachment,
            document,
        }),
    };
    if let Err(error) = out.inventory.add_grant(grant) {
        out.issues.push(NormalizeIssue {
            account: context.account.account_id.clone(),
            subject: identity.native().to_string(),
            message: error.to_string(),
        });
    }
}

/// OIDC provider ARN → issuer URL, as the provider records it (IAM stores it without scheme).
fn oidc_issuers(account: &AwsAccountInventory) -> BTreeMap<String, String> {
    account
        .oidc_providers
        .iter()
        .filter_map(|provider| {
            let url = provider.url.as_deref()?;
            let issuer = if url.starts_with("https://") {
                url.to_string()
            } else {
                format!("https://{url}")
            };
            Some((provider.arn.clone(), issuer))
        })
        .collect()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// The trusts a role's trust policy expresses, one per principal of each `Allow` statement.
pub fn trusts_of(document: &PolicyDocument, oidc_issuers: &BTreeMap<String, String>) -> Vec<Trust> {
    let mut trusts = Vec::new();
    for statement in &document.statements {
        if statement.effect != Effect::Allow || !allows_assume(statement) {
            continue;
        }
        let Some(PrincipalClause::Principal(principal)) = &statement.principal else {
            continue;
        };
        let principals = match principal {
            Principal::Everyone => {
                trusts.push(Trust::Anyone);
                continue;
            }
            Principal::Listed(principals) => principals,
        };
        for provider in &principals.federated {
            let issuer = oidc_issuers
                .get(provider)
                .cloned()
                .unwrap_or_else(|| issuer_from_provider_arn(provider));
            trusts.push(Trust::Federated(federated_trust(
                statement, &issuer, provider,
            )));
        }
        for aws in &principals.aws {
            trusts.push(aws_principal_trust(statement, aws));
        }
        for service in &principals.service {
            trusts.push(Trust::Service {
                name: service.clone(),
            });
        }
    }
    trusts.sort();
    trusts.dedup();
    trusts
}

/// `arn:aws:iam::123:oidc-provider/token.actions.githubusercontent.com` →
/// `https://token.actions.githubusercontent.com`; SAML providers keep their ARN.
fn issuer_from_provider_arn(arn: &str) -> String {
    match arn.split_once(":oidc-provider/") {
        Some((_, host)) => format!("https://{host}"),
        None => arn.to_string(),
    }
}

fn federated_trust(statement: &Statement, issuer: &str, provider: &str) -> FederatedTrust {
    // Condition keys of an OIDC provider are `<host and path>:<claim>`.
    let prefix = format!(
        "{}:",
        issuer.trim_start_matches("https://").trim_end_matches('/')
    )
    .to_ascii_lowercase();
    let mut audiences = Vec::new();
    let mut conditions = Vec::new();
    for condition in &statement.conditions {
        let key = condition.key.to_ascii_lowercase();
        let claim = match key.strip_prefix(&prefix) {
            Some(claim) => claim.to_string(),
            None => key.clone(),
        };
        let plain = condition.operator.quantifier.is_none();
        let operator = match condition.operator.base {
            OperatorBase::StringEquals | OperatorBase::StringEqualsIgnoreCase if plain => {
                ClaimOperator::Equals
            }
            OperatorBase::StringNotEquals | OperatorBase::StringNotEqualsIgnoreCase if plain => {
                ClaimOperator::NotEquals
            }
            OperatorBase::StringLike if plain => ClaimOperator::Like,
            OperatorBase::StringNotLike if plain => ClaimOperator::NotLike,
            _ => ClaimOperator::Expression,
        };
        if claim == "aud" && operator == ClaimOperator::Equals {
            audiences.extend(condition.values.iter().cloned());
        }
        conditions.push(ClaimCondition {
            claim,
            operator,
            values: condition.values.clone(),
        });
    }
    audiences.sort();
    audiences.dedup();
    FederatedTrust {
        issuer: issuer.to_string(),
        audiences,
        conditions,
        source: format!(
            "trust policy statement {} (`{provider}`)",
            statement.number()
        ),
    }
}

fn aws_principal_trust(statement: &Statement, principal: &str) -> Trust {
    if principal == "*" {
        return Trust::Anyone;
    }
    let external_id_required = statement
        .conditions
        .iter()
        .any(|condition| condition.key.eq_ignore_ascii_case("sts:ExternalId"));
    let account = if principal.len() == 12 && principal.bytes().all(|byte| byte.is_ascii_digit()) {
        Some(principal.to_string())
    } else {
        principal
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
            .map(str::to_string)
    };
    match account {
        Some(id) => Trust::Account {
            id,
            external_id_required,
        },
        None => Trust::Identity {
            from: if principal.contains(['*', '?']) {
                PrincipalRef::Pattern(principal.to_string())
            } else {
                PrincipalRef::Identity(IdentityId::new(Provider::Aws, principal))
            },
            conditions: Vec::new(),
        },
    }
}

/// Whether a statement lets its principals assume the role (any `sts:AssumeRole*` action).
pub fn allows_assume(statement: &Statement) -> bool {
    match &statement.action {
        ActionClause::Action(actions) => actions.iter().any(|action| {
            action.to_ascii_lowercase().starts_with("sts:assumerole") || action == "*"
        }),
        ActionClause::NotAction(_) => true,
    }
}
