//! Normalization: the collector's raw account records (`AwsAccountInventory`) into the
//! neutral model — identities, the trusts that let someone become them, and their grants.
//!
//! Every policy document is parsed here, once. What cannot be used is not dropped silently:
//! a policy that does not parse, an attached policy the collector could not read, a trust
//! statement pipeleash does not understand — each becomes a [`NormalizeIssue`] naming the
//! identity, and the identity is marked incomplete so that later analyses say so.

use super::grant::{AwsAttachment, AwsPolicyGrant};
use super::inventory::{
    AttachedPolicy, AwsAccountInventory, AwsManagedPolicy, AwsServiceControlPolicy, InlinePolicy,
};
use super::policy::{ActionClause, PolicyDocument, Principal, PrincipalClause, parse_policy};
use super::{OperatorBase, SetQuantifier, Statement};
use crate::model::{
    ClaimCondition, ClaimOperator, Effect, FederatedTrust, Grant, GrantBody, GrantId, Identity,
    IdentityId, IdentityKind, Inventory, PrincipalRef, Provider, SetOperator, Trust,
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
        add_own_policies(
            out,
            &context,
            &id,
            &role.inline_policies,
            &role.attached_policies,
            role.permissions_boundary.as_deref(),
        );
        match &role.trust_policy {
            Some(text) => match parse_policy(text) {
                Ok(document) => {
                    for trust in trusts_of(&document, &oidc_issuers(account)) {
                        out.inventory.add_trust(id.clone(), trust);
                    }
                    out.trust_policies.insert(id.clone(), document);
                }
                Err(error) => {
                    // Who can assume the role is unknown: the trust checks have nothing to
                    // judge, so the identity is marked incomplete rather than looking clean.
                    out.incomplete.insert(id.clone());
                    out.issues.push(NormalizeIssue {
                        account: account.account_id.clone(),
                        subject: role.arn.clone(),
                        message: format!("cannot parse the trust policy: {error}"),
                    });
                }
            },
            None => {
                out.incomplete.insert(id.clone());
                out.issues.push(NormalizeIssue {
                    account: account.account_id.clone(),
                    subject: role.arn.clone(),
                    message:
                        "the trust policy was not collected: who can assume the role is unknown"
                            .into(),
                });
            }
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
        add_own_policies(
            out,
            &context,
            &id,
            &user.inline_policies,
            &user.attached_policies,
            user.permissions_boundary.as_deref(),
        );
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

/// An identity's inline and attached policies, its boundary, and the account's SCPs.
fn add_own_policies(
    out: &mut NormalizedAws,
    context: &AccountContext<'_>,
    id: &IdentityId,
    inline_policies: &[InlinePolicy],
    attached_policies: &[AttachedPolicy],
    boundary: Option<&str>,
) {
    for inline in inline_policies {
        let name = format!("inline:{}", inline.name);
        add_policy(
            out,
            context,
            id,
            &name,
            AwsAttachment::Identity,
            &inline.document,
        );
    }
    for attached in attached_policies {
        add_managed(out, context, id, &attached.arn, AwsAttachment::Identity);
    }
    if let Some(boundary) = boundary {
        add_managed(
            out,
            context,
            id,
            boundary,
            AwsAttachment::PermissionsBoundary,
        );
    }
    add_scps(out, context, id);
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
    // The attachment is part of the id: one managed policy can be both attached and the
    // permissions boundary of the same identity.
    let attached_as = match attachment {
        AwsAttachment::Identity => "policy".to_string(),
        AwsAttachment::PermissionsBoundary => "boundary".to_string(),
        AwsAttachment::ServiceControl { level } => format!("scp-level-{level}"),
    };
    let id = GrantId::new(format!("{}#{attached_as}:{name}", identity.native()));
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
        out.incomplete.insert(identity.clone());
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
        // Every string operator is read with its set operator and `IfExists` suffix: on a
        // one-valued claim they compare like the plain operator and decide only the absent
        // case (`ClaimCondition::holds_when_absent`).
        let (operator, ignore_case) = match condition.operator.base {
            OperatorBase::StringEquals => (ClaimOperator::Equals, false),
            OperatorBase::StringEqualsIgnoreCase => (ClaimOperator::Equals, true),
            OperatorBase::StringNotEquals => (ClaimOperator::NotEquals, false),
            OperatorBase::StringNotEqualsIgnoreCase => (ClaimOperator::NotEquals, true),
            OperatorBase::StringLike => (ClaimOperator::Like, false),
            OperatorBase::StringNotLike => (ClaimOperator::NotLike, false),
            _ => (ClaimOperator::Expression, false),
        };
        let set_operator = condition
            .operator
            .quantifier
            .map(|quantifier| match quantifier {
                SetQuantifier::ForAnyValue => SetOperator::ForAnyValue,
                SetQuantifier::ForAllValues => SetOperator::ForAllValues,
            });
        // `aud` may hold several values in a token, so a set operator is at home on it.
        if claim == "aud" && operator == ClaimOperator::Equals {
            audiences.extend(condition.values.iter().cloned());
        }
        conditions.push(ClaimCondition {
            claim,
            operator,
            values: condition.values.clone(),
            set_operator,
            if_exists: condition.operator.if_exists,
            ignore_case,
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
    let account = if super::arn::is_account_id(principal) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GITHUB_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
                     "StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/web:*"}}}]}"#;

    fn account() -> AwsAccountInventory {
        serde_json::from_value(json!({
            "format_version": 1,
            "account_id": "111122223333",
            "partition": "aws",
            "collected_by": "arn:aws:sts::111122223333:assumed-role/audit/x",
            "collected_at": "2026-11-22T00:00:00Z",
            "roles": [{
                "arn": "arn:aws:iam::111122223333:role/ci/deploy", "name": "deploy",
                "role_id": "AROAEXAMPLE", "path": "/ci/",
                "trust_policy": GITHUB_TRUST,
                "inline_policies": [{"name": "inline-s3", "document":
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#}],
                "attached_policies": [
                    {"arn": "arn:aws:iam::111122223333:policy/managed", "name": "managed"},
                    {"arn": "arn:aws:iam::aws:policy/NotCollected", "name": "NotCollected"}],
                "permissions_boundary": "arn:aws:iam::111122223333:policy/managed",
                "last_used": {"date": "2026-11-20T10:00:00Z"},
                "tags": {"owner": "platform"}
            }, {
                "arn": "arn:aws:iam::111122223333:role/chained", "name": "chained",
                "role_id": "AROAEXAMPLE2", "path": "/",
                "trust_policy": r#"{"Version":"2012-10-17","Statement":[
                    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},
                    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci/deploy","Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"},
                    {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}},
                    {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#
            }],
            "users": [{
                "arn": "arn:aws:iam::111122223333:user/legacy", "name": "legacy", "user_id": "AIDAEXAMPLE",
                "path": "/", "groups": ["ci", "missing-group"]
            }],
            "groups": [{
                "arn": "arn:aws:iam::111122223333:group/ci", "name": "ci", "group_id": "AGPAEXAMPLE", "path": "/",
                "inline_policies": [{"name": "group-inline", "document":
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*"}]}"#}]
            }],
            "policies": [{
                "arn": "arn:aws:iam::111122223333:policy/managed", "name": "managed", "policy_id": "ANPAEXAMPLE",
                "path": "/", "aws_managed": false, "default_version_id": "v2",
                "attachment_count": 1, "permissions_boundary_usage_count": 1,
                "versions": [
                    {"version_id": "v1", "is_default": false, "document": "not json at all"},
                    {"version_id": "v2", "is_default": true, "document":
                        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#}]
            }],
            "oidc_providers": [{
                "arn": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
                "url": "token.actions.githubusercontent.com", "client_ids": ["sts.amazonaws.com"]
            }],
            "access_keys": [{"user_name": "legacy", "access_key_id": "AKIAIOSFODNN7EXAMPLE", "status": "Active",
                             "last_used": {"date": "2026-10-01T00:00:00Z"}}]
        }))
        .unwrap()
    }

    fn id(arn: &str) -> IdentityId {
        IdentityId::new(Provider::Aws, arn)
    }

    #[test]
    fn role_grants_come_from_inline_attached_default_version_and_boundary() {
        let normalized = normalize(&[account()]);
        let role = id("arn:aws:iam::111122223333:role/ci/deploy");
        let grants: Vec<(String, AwsAttachment)> = normalized
            .inventory
            .grants_for(&role)
            .filter_map(|grant| match &grant.body {
                GrantBody::Aws(policy) => Some((policy.policy.clone(), policy.attachment)),
                _ => None,
            })
            .collect();
        assert!(grants.contains(&("inline:inline-s3".into(), AwsAttachment::Identity)));
        assert!(grants.contains(&(
            "arn:aws:iam::111122223333:policy/managed".into(),
            AwsAttachment::Identity
        )));
        assert!(grants.contains(&(
            "arn:aws:iam::111122223333:policy/managed".into(),
            AwsAttachment::PermissionsBoundary
        )));
        assert_eq!(grants.len(), 3, "{grants:?}");
        assert_eq!(
            normalized.last_used.get(&role),
            Some(&"2026-11-20T10:00:00Z".parse().unwrap())
        );
        assert_eq!(
            normalized.inventory.identities[&role].owner.as_deref(),
            Some("platform")
        );
    }

    #[test]
    fn an_attached_policy_that_was_not_collected_marks_the_identity_incomplete() {
        let normalized = normalize(&[account()]);
        let role = id("arn:aws:iam::111122223333:role/ci/deploy");
        assert!(normalized.incomplete.contains(&role));
        assert!(normalized.issues.iter().any(|issue| {
            issue
                .message
                .contains("`arn:aws:iam::aws:policy/NotCollected` was not collected")
        }));
    }

    #[test]
    fn github_trust_becomes_a_federated_trust_with_claims() {
        let normalized = normalize(&[account()]);
        let trusts = &normalized.inventory.trusts[&id("arn:aws:iam::111122223333:role/ci/deploy")];
        let [Trust::Federated(trust)] = trusts.as_slice() else {
            panic!("{trusts:?}");
        };
        assert_eq!(trust.issuer, "https://token.actions.githubusercontent.com");
        assert_eq!(trust.audiences, vec!["sts.amazonaws.com".to_string()]);
        assert!(
            trust
                .conditions
                .iter()
                .any(|condition| condition.claim == "sub"
                    && condition.operator == ClaimOperator::Like
                    && condition.values == vec!["repo:acme/web:*".to_string()])
        );
    }

    #[test]
    fn aws_principals_become_account_identity_service_and_anyone_trusts() {
        let normalized = normalize(&[account()]);
        let trusts = &normalized.inventory.trusts[&id("arn:aws:iam::111122223333:role/chained")];
        assert!(trusts.contains(&Trust::Account {
            id: "444455556666".into(),
            external_id_required: false
        }));
        assert!(trusts.contains(&Trust::Identity {
            from: PrincipalRef::Identity(id("arn:aws:iam::111122223333:role/ci/deploy")),
            conditions: Vec::new()
        }));
        assert!(trusts.contains(&Trust::Service {
            name: "lambda.amazonaws.com".into()
        }));
        assert!(trusts.contains(&Trust::Anyone));
        // A `Deny` statement admits nobody.
        assert!(
            !trusts
                .iter()
                .any(|trust| matches!(trust, Trust::Account { id, .. } if id == "999999999999"))
        );
    }

    #[test]
    fn user_gets_group_policies_keys_and_a_named_gap_for_a_missing_group() {
        let normalized = normalize(&[account()]);
        let user = id("arn:aws:iam::111122223333:user/legacy");
        assert!(normalized.inventory.grants_for(&user).any(|grant| matches!(
            &grant.body,
            GrantBody::Aws(policy) if policy.policy == "group:ci/inline:group-inline"
        )));
        assert!(normalized.incomplete.contains(&user));
        assert!(
            normalized
                .issues
                .iter()
                .any(|issue| issue.message.contains("`missing-group`"))
        );
        assert!(normalized.inventory.trusts[&user].iter().any(|trust| matches!(
            trust,
            Trust::LongLivedKey { key_id, last_used: Some(_), .. } if key_id == "AKIAIOSFODNN7EXAMPLE"
        )));
    }

    #[test]
    fn scp_levels_run_from_the_root_to_the_account() {
        let mut account = account();
        account.organization = Some(serde_json::from_value(json!({
            "id": "o-example", "master_account_id": "999999999999", "parents": ["ou-a", "r-root"]
        })).unwrap());
        let scp = |id: &str, target: &str| -> AwsServiceControlPolicy {
            serde_json::from_value(json!({
                "id": id, "arn": format!("arn:aws:organizations::999999999999:policy/{id}"), "name": id,
                "aws_managed": false, "targets": [target], "applies_through": [target],
                "document": r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
            }))
            .unwrap()
        };
        account.service_control_policies = vec![
            scp("p-account", "111122223333"),
            scp("p-root", "r-root"),
            scp("p-ou", "ou-a"),
        ];
        let normalized = normalize(&[account.clone()]);
        let role = id("arn:aws:iam::111122223333:role/chained");
        let mut levels: Vec<(usize, String)> = normalized
            .inventory
            .grants_for(&role)
            .filter_map(|grant| match &grant.body {
                GrantBody::Aws(AwsPolicyGrant {
                    attachment: AwsAttachment::ServiceControl { level },
                    policy,
                    ..
                }) => Some((*level, policy.clone())),
                _ => None,
            })
            .collect();
        levels.sort();
        assert_eq!(
            levels,
            vec![
                (0, "scp:p-root (p-root)".to_string()),
                (1, "scp:p-ou (p-ou)".to_string()),
                (2, "scp:p-account (p-account)".to_string())
            ]
        );
        // A level with no visible SCP: left out with an issue, not read as "deny all".
        account
            .service_control_policies
            .retain(|policy| policy.id != "p-ou");
        let normalized = normalize(&[account]);
        assert!(
            !normalized.inventory.grants_for(&role).any(|grant| matches!(
                &grant.body,
                GrantBody::Aws(AwsPolicyGrant {
                    attachment: AwsAttachment::ServiceControl { .. },
                    ..
                })
            ))
        );
        assert!(
            normalized
                .issues
                .iter()
                .any(|issue| issue.message.contains("SCPs are left out"))
        );
    }
}
