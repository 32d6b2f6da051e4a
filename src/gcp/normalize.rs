//! GCP inventory (the collector's raw record, [`GcpInventory`]) → the neutral model's
//! [`Inventory`]: service accounts as identities, the IAM bindings that name them as grants,
//! the folder and project tree as the resource hierarchy, custom roles by name.
//!
//! Rules:
//! - A binding is attached to the resource whose policy holds it; projects are named by id
//!   (`projects/my-proj`), as audit logs name them, and the number form
//!   (`projects/415104041262`) is recorded as a child of the id form so that a resource named
//!   either way inherits the project's bindings.
//! - Only `serviceAccount:<email>` members of a collected service account become grants.
//!   Group, domain and `principalSet://` members are not expanded (group membership is not
//!   collected); the minimizer reports permissions such a member gives as granted elsewhere.
//! - Trusts (who can become each service account, [`service_account_trusts`]): members of
//!   its own IAM policy, or of the policy of its project, folders or organization, holding a
//!   role that yields its credentials or lets them act as it ([`BECOME_ROLES`]). A
//!   `principal://` or `principalSet://` member of a Workload Identity pool is a federated
//!   trust per active provider of that pool, its issuer and audiences from the provider, the
//!   member's attribute as a claim condition and the provider's `attributeCondition` as an
//!   expression; any other member is an identity trust. An enabled user-managed key is a
//!   long-lived key trust
//!   (<https://cloud.google.com/iam/docs/service-account-permissions>,
//!   <https://cloud.google.com/iam/docs/principal-identifiers>,
//!   <https://cloud.google.com/iam/docs/workload-identity-federation#impersonation>).
//! - IAM deny policies: each rule whose denied principals include a collected service account
//!   (`principal://iam.googleapis.com/projects/-/serviceAccounts/EMAIL`, every principal
//!   `principalSet://goog/public:all`, or the service accounts of a project, folder or
//!   organization above it) and whose exception principals do not, becomes a deny rule of
//!   that account at the policy's attachment point ([`deny_rules_for`],
//!   <https://cloud.google.com/iam/docs/deny-overview>,
//!   <https://cloud.google.com/iam/docs/principal-identifiers#v2>). A group or Cloud Identity
//!   principal set, whose members are not collected, makes the rule only *possible*: it is
//!   evaluated like a conditional rule, so it never removes a permission on its own.
//! - Custom roles marked deleted grant nothing
//!   (<https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role>) and are
//!   left out, so a binding to one is an unknown role, not a grant.

use super::inventory::{
    GcpIamPolicy, GcpInventory, GcpKeyType, GcpPolicyBinding, GcpServiceAccount,
    GcpWorkloadIdentityProvider,
};
use super::{GcpBinding, GcpCondition, GcpDenyRule, GcpRole, RoleStage};
use crate::model::{
    ClaimCondition, ClaimOperator, Container, FederatedTrust, Grant, GrantBody, GrantId, Identity,
    IdentityId, IdentityKind, Inventory, InventoryError, PrincipalRef, Provider, Trust,
};
use std::collections::{BTreeMap, BTreeSet};

/// Normalize one or more GCP inventories (one per collected scope) into `inventory`.
///
/// Errors: [`InventoryError::DuplicateGrant`] when two inventories hold the same binding of
/// the same resource (the same scope collected twice).
pub fn normalize_into(inventory: &mut Inventory, raw: &GcpInventory) -> Result<(), InventoryError> {
    let mut project_ids: BTreeMap<&str, &str> = BTreeMap::new();
    for project in &raw.projects {
        project_ids.insert(project.name.as_str(), project.project_id.as_str());
    }
    // A parent named by project number (rare: folders name projects by number) reads as the id.
    let by_id = |name: &str| -> String {
        match project_ids.get(name) {
            Some(id) => format!("projects/{id}"),
            None => name.to_string(),
        }
    };
    for folder in &raw.folders {
        inventory
            .gcp_hierarchy
            .set_parent(folder.name.clone(), by_id(&folder.parent));
    }
    for project in &raw.projects {
        let id_name = format!("projects/{}", project.project_id);
        if !project.parent.is_empty() {
            inventory
                .gcp_hierarchy
                .set_parent(id_name.clone(), project.parent.clone());
        }
        if project.name != id_name {
            inventory
                .gcp_hierarchy
                .set_parent(project.name.clone(), id_name.clone());
        }
        inventory.containers.insert(
            (Provider::Gcp, id_name.clone()),
            Container {
                provider: Provider::Gcp,
                id: id_name,
                display_name: Some(project.display_name.clone()).filter(|n| !n.is_empty()),
            },
        );
    }
    let mut emails: BTreeSet<String> = BTreeSet::new();
    for account in &raw.service_accounts {
        emails.insert(account.email.to_ascii_lowercase());
        inventory.add_identity(Identity {
            id: IdentityId::new(Provider::Gcp, &account.email.to_ascii_lowercase()),
            kind: IdentityKind::GcpServiceAccount,
            display_name: if account.display_name.is_empty() {
                account.email.clone()
            } else {
                account.display_name.clone()
            },
            container: format!("projects/{}", account.project_id),
            tags: BTreeMap::new(),
            owner: None,
        });
    }
    for account in &raw.service_accounts {
        let id = IdentityId::new(Provider::Gcp, &account.email.to_ascii_lowercase());
        for trust in service_account_trusts(raw, account) {
            inventory.add_trust(id.clone(), trust);
        }
    }
    for account in &raw.service_accounts {
        let id = IdentityId::new(Provider::Gcp, &account.email.to_ascii_lowercase());
        for (grant_id, rule) in deny_rules_for(raw, account) {
            inventory.add_grant(Grant {
                id: GrantId::new(grant_id),
                identity: id.clone(),
                body: GrantBody::GcpDeny(rule),
            })?;
        }
    }
    for role in &raw.custom_roles {
        if role.deleted {
            continue;
        }
        inventory.gcp_roles.insert(
            role.name.clone(),
            GcpRole {
                name: role.name.clone(),
                title: role.title.clone(),
                // The API leaves `stage` out for ALPHA, the enum's zero value.
                stage: role.stage.parse().unwrap_or(RoleStage::Alpha),
                permissions: role.included_permissions.iter().cloned().collect(),
            },
        );
    }
    for (resource, policy) in container_policies(raw) {
        for (position, binding) in policy.bindings.iter().enumerate() {
            for member in &binding.members {
                let Some(email) = member.strip_prefix("serviceAccount:") else {
                    continue;
                };
                let email = email.to_ascii_lowercase();
                if !emails.contains(&email) {
                    continue;
                }
                inventory.add_grant(Grant {
                    id: GrantId::new(format!("{resource}#{position}#{member}")),
                    identity: IdentityId::new(Provider::Gcp, &email),
                    body: GrantBody::Gcp(GcpBinding {
                        resource: resource.clone(),
                        role: binding.role.clone(),
                        member: member.clone(),
                        condition: binding.condition.as_ref().map(|c| GcpCondition {
                            title: c.title.clone(),
                            expression: c.expression.clone(),
                            description: Some(c.description.clone()).filter(|d| !d.is_empty()),
                        }),
                    }),
                })?;
            }
        }
    }
    Ok(())
}

/// Roles whose holders can become a service account: obtain its access or ID tokens, create
/// its keys, or attach it to a resource they run code on
/// (<https://cloud.google.com/iam/docs/service-account-permissions>,
/// <https://cloud.google.com/iam/docs/workload-identity-federation#impersonation>).
pub const BECOME_ROLES: &[&str] = &[
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountOpenIdTokenCreator",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.workloadIdentityUser",
];

/// Who can become `account`, sorted: federated workloads and other principals named by its
/// own IAM policy or inherited from its project, folders and organization, and its enabled
/// user-managed keys.
pub fn service_account_trusts(raw: &GcpInventory, account: &GcpServiceAccount) -> Vec<Trust> {
    let mut trusts = Vec::new();
    let own = account
        .iam_policy
        .iter()
        .map(|policy| (format!("service account `{}`", account.email), policy));
    let inherited = ancestry(raw, &account.project_id)
        .into_iter()
        .filter_map(|name| {
            raw.policy_of(&name)
                .map(|policy| (format!("`{name}`"), policy))
        });
    for (place, policy) in own.chain(inherited) {
        for binding in &policy.bindings {
            if !BECOME_ROLES.contains(&binding.role.as_str()) {
                continue;
            }
            for member in &binding.members {
                member_trusts(raw, &place, binding, member, &mut trusts);
            }
        }
    }
    for key in account.keys.iter().flatten() {
        if key.key_type != GcpKeyType::UserManaged || key.disabled {
            continue;
        }
        trusts.push(Trust::LongLivedKey {
            key_id: key.name.rsplit('/').next().unwrap_or(&key.name).to_string(),
            created: key
                .valid_after_time
                .as_deref()
                .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok())
                .map(|time| time.with_timezone(&chrono::Utc)),
            last_used: None,
        });
    }
    trusts.sort();
    trusts.dedup();
    trusts
}

/// The project (by id), then each folder and organization above it, nearest first.
fn ancestry(raw: &GcpInventory, project_id: &str) -> Vec<String> {
    let mut chain = vec![format!("projects/{project_id}")];
    let mut parent = raw
        .projects
        .iter()
        .find(|project| project.project_id == project_id)
        .map(|project| project.parent.clone())
        .unwrap_or_default();
    while !parent.is_empty() && !chain.contains(&parent) && chain.len() < 64 {
        chain.push(parent.clone());
        parent = raw
            .folders
            .iter()
            .find(|folder| folder.name == parent)
            .map(|folder| folder.parent.clone())
            .unwrap_or_default();
    }
    chain
}

/// The trusts one member of a become-role binding gives.
fn member_trusts(
    raw: &GcpInventory,
    place: &str,
    binding: &GcpPolicyBinding,
    member: &str,
    trusts: &mut Vec<Trust>,
) {
    let iam_condition = binding.condition.as_ref().map(|condition| {
        ClaimCondition::new(
            "iam.condition",
            ClaimOperator::Expression,
            vec![condition.expression.clone()],
        )
    });
    let Some(federated) = FederatedMember::parse(member) else {
        let from = match member.strip_prefix("serviceAccount:") {
            Some(email)
                if raw
                    .service_accounts
                    .iter()
                    .any(|account| account.email.eq_ignore_ascii_case(email)) =>
            {
                PrincipalRef::Identity(IdentityId::new(Provider::Gcp, &email.to_ascii_lowercase()))
            }
            _ => PrincipalRef::Pattern(member.to_string()),
        };
        trusts.push(Trust::Identity {
            from,
            conditions: iam_condition.into_iter().collect(),
        });
        return;
    };
    let providers: Vec<&GcpWorkloadIdentityProvider> = raw
        .workload_identity_pools
        .iter()
        .filter(|pool| pool.name == federated.pool && !pool.disabled && pool.state != "DELETED")
        .flat_map(|pool| pool.providers.iter().flatten())
        .filter(|provider| !provider.disabled && provider.state != "DELETED")
        .collect();
    let mut issued = false;
    for provider in providers {
        let Some(oidc) = &provider.oidc else {
            continue;
        };
        let mut conditions: Vec<ClaimCondition> =
            federated.claim_condition(provider).into_iter().collect();
        if let Some(expression) = provider
            .attribute_condition
            .as_deref()
            .map(str::trim)
            .filter(|expression| !expression.is_empty())
        {
            conditions.push(ClaimCondition::new(
                "attributeCondition",
                ClaimOperator::Expression,
                vec![expression.to_string()],
            ));
        }
        conditions.extend(iam_condition.clone());
        // An empty list means the provider's own resource name, with or without `https:`
        // (<https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools.providers#oidc>).
        let audiences = if oidc.allowed_audiences.is_empty() {
            vec![
                format!("//iam.googleapis.com/{}", provider.name),
                format!("https://iam.googleapis.com/{}", provider.name),
            ]
        } else {
            oidc.allowed_audiences.clone()
        };
        trusts.push(Trust::Federated(FederatedTrust {
            issuer: oidc.issuer_uri.clone(),
            audiences,
            conditions,
            source: format!(
                "WIF provider `{}`; `{}` to `{member}` on {place}",
                provider.name, binding.role
            ),
        }));
        issued = true;
    }
    if !issued {
        // The pool, or an OIDC provider of it, is not in the inventory: who it admits is
        // unknown, so the member is kept as written.
        trusts.push(Trust::Identity {
            from: PrincipalRef::Pattern(member.to_string()),
            conditions: iam_condition.into_iter().collect(),
        });
    }
}

/// A `principal://` or `principalSet://` member of a Workload Identity pool
/// (<https://cloud.google.com/iam/docs/principal-identifiers>).
struct FederatedMember<'a> {
    /// `projects/N/locations/global/workloadIdentityPools/P`.
    pool: &'a str,
    selector: Selector<'a>,
}

enum Selector<'a> {
    /// `principal://…/subject/S`: `google.subject == S`.
    Subject(&'a str),
    /// `principalSet://…/group/G`: `G in google.groups`.
    Group(&'a str),
    /// `principalSet://…/attribute.A/V`: `attribute.A == V`.
    Attribute(&'a str, &'a str),
    /// `principalSet://…/*`: every identity of the pool.
    All,
}

impl<'a> FederatedMember<'a> {
    fn parse(member: &'a str) -> Option<FederatedMember<'a>> {
        if let Some(rest) = member.strip_prefix("principal://iam.googleapis.com/") {
            let (pool, subject) = rest.split_once("/subject/")?;
            return Some(FederatedMember {
                pool,
                selector: Selector::Subject(subject),
            });
        }
        let rest = member.strip_prefix("principalSet://iam.googleapis.com/")?;
        if let Some(pool) = rest.strip_suffix("/*") {
            return Some(FederatedMember {
                pool,
                selector: Selector::All,
            });
        }
        if let Some((pool, group)) = rest.split_once("/group/") {
            return Some(FederatedMember {
                pool,
                selector: Selector::Group(group),
            });
        }
        let (pool, attribute) = rest.split_once("/attribute.")?;
        let (name, value) = attribute.split_once('/')?;
        Some(FederatedMember {
            pool,
            selector: Selector::Attribute(name, value),
        })
    }

    /// The condition the member puts on a token of `provider`: on the token's own claim when
    /// the provider maps the attribute from one claim (`assertion.repository`), otherwise on
    /// the mapping's expression.
    fn claim_condition(&self, provider: &GcpWorkloadIdentityProvider) -> Option<ClaimCondition> {
        let (attribute, value) = match self.selector {
            Selector::All => return None,
            Selector::Subject(subject) => ("google.subject".to_string(), subject),
            Selector::Group(group) => ("google.groups".to_string(), group),
            Selector::Attribute(name, value) => (format!("attribute.{name}"), value),
        };
        let mapping = provider.attribute_mapping.get(&attribute).map(|m| m.trim());
        let claim = mapping
            .and_then(|m| m.strip_prefix("assertion."))
            .filter(|claim| claim.chars().all(|c| c.is_alphanumeric() || c == '_'));
        Some(match (claim, &self.selector) {
            (Some(claim), Selector::Group(_)) => ClaimCondition::new(
                claim,
                ClaimOperator::Expression,
                vec![format!("'{value}' in assertion.{claim}")],
            ),
            (Some(claim), _) => {
                ClaimCondition::new(claim, ClaimOperator::Equals, vec![value.to_string()])
            }
            (None, _) => ClaimCondition::new(
                &attribute,
                ClaimOperator::Expression,
                vec![format!(
                    "{} == '{value}'",
                    mapping.unwrap_or("(attribute not mapped by the provider)")
                )],
            ),
        })
    }
}

/// How a principal of a deny rule relates to one service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalMatch {
    /// The principal is the account, or a set that holds it for certain.
    Yes,
    /// The principal is not the account and no set that could hold it.
    No,
    /// A set whose members are not collected: it may hold the account (why).
    Possible(String),
}

/// Where a service account sits, for matching deny principals: its email and the projects
/// (by number and id), folders and organization above it.
pub(crate) struct AccountPlace {
    email: String,
    places: BTreeSet<String>,
    /// Whether the chain reaches an organization (or a project without a parent): a
    /// `…/type/ServiceAccount` set of a folder or organization not in `places` then
    /// cannot hold the account.
    complete: bool,
}

impl AccountPlace {
    pub(crate) fn of(raw: &GcpInventory, account: &GcpServiceAccount) -> AccountPlace {
        let mut places: BTreeSet<String> = ancestry(raw, &account.project_id).into_iter().collect();
        let project = raw
            .projects
            .iter()
            .find(|project| project.project_id == account.project_id);
        if let Some(project) = project {
            places.insert(project.name.clone());
        }
        let top = ancestry(raw, &account.project_id).pop().unwrap_or_default();
        let complete = project.is_some()
            && (top.starts_with("organizations/")
                || project.is_some_and(|project| project.parent.is_empty()));
        AccountPlace {
            email: account.email.to_ascii_lowercase(),
            places,
            complete,
        }
    }
}

/// Does the deny-policy principal `principal` name the account `place`?
///
/// Identifiers from <https://cloud.google.com/iam/docs/principal-identifiers#v2>:
/// - `principal://iam.googleapis.com/projects/-/serviceAccounts/EMAIL`: the account when the
///   email is its own (case-insensitive).
/// - `principalSet://goog/public:all`: every principal, the account included.
/// - `principalSet://cloudresourcemanager.googleapis.com/{projects,folders,organizations}/N/type/ServiceAccount`:
///   every service account in that project, folder or organization.
/// - `principalSet://goog/group/…`, `principalSet://goog/cloudIdentityCustomerId/…`: members
///   are not collected, so possible.
/// - Users (`principal://goog/subject/…`), Workload and Workforce Identity pool principals
///   (other principals than the service account they may act as) and `deleted:` principals
///   (<https://cloud.google.com/iam/docs/principal-identifiers#deleted>) are not the account.
/// - Anything else is unknown to this version, so possible.
pub(crate) fn deny_principal_matches(principal: &str, place: &AccountPlace) -> PrincipalMatch {
    let principal = principal.trim();
    if principal.starts_with("deleted:") || principal.starts_with("principal://goog/subject/") {
        return PrincipalMatch::No;
    }
    if principal == "principalSet://goog/public:all" {
        return PrincipalMatch::Yes;
    }
    if let Some(rest) = principal.strip_prefix("principal://iam.googleapis.com/projects/")
        && let Some((_, email)) = rest.split_once("/serviceAccounts/")
    {
        return if email.eq_ignore_ascii_case(&place.email) {
            PrincipalMatch::Yes
        } else {
            PrincipalMatch::No
        };
    }
    if (principal.starts_with("principal://iam.googleapis.com/")
        || principal.starts_with("principalSet://iam.googleapis.com/"))
        && (principal.contains("/workloadIdentityPools/") || principal.contains("/workforcePools/"))
    {
        return PrincipalMatch::No;
    }
    if let Some(container) = principal
        .strip_prefix("principalSet://cloudresourcemanager.googleapis.com/")
        .and_then(|rest| rest.strip_suffix("/type/ServiceAccount"))
    {
        if place.places.contains(container) {
            return PrincipalMatch::Yes;
        }
        if place.complete {
            return PrincipalMatch::No;
        }
        return PrincipalMatch::Possible(format!(
            "the account is among the service accounts of `{container}` (its ancestry was not \
             fully collected)"
        ));
    }
    if principal.starts_with("principalSet://goog/group/") {
        return PrincipalMatch::Possible(format!(
            "the account is a member of `{principal}` (group membership is not collected)"
        ));
    }
    PrincipalMatch::Possible(format!(
        "`{principal}` includes the account (its members are not collected)"
    ))
}

/// The deny rules that reach `account`, each with a grant id
/// (`deny/<policy name>#<rule index>#<email>`), attached at the policy's attachment point
/// (projects by id, as bindings are). A rule applies when a denied principal matches and no
/// exception principal does; an exception principal that may match makes the rule possible,
/// as does a denied principal that may match
/// (<https://cloud.google.com/iam/docs/deny-overview#deny-policies>).
pub(crate) fn deny_rules_for(
    raw: &GcpInventory,
    account: &GcpServiceAccount,
) -> Vec<(String, GcpDenyRule)> {
    let place = AccountPlace::of(raw, account);
    let mut out = Vec::new();
    for policy in &raw.deny_policies {
        let attachment_point = match raw
            .projects
            .iter()
            .find(|project| project.name == policy.attachment_point)
        {
            Some(project) => format!("projects/{}", project.project_id),
            None => policy.attachment_point.clone(),
        };
        for (index, rule) in policy.rules.iter().enumerate() {
            let mut possible: Vec<String> = Vec::new();
            let mut denied = false;
            for principal in &rule.denied_principals {
                match deny_principal_matches(principal, &place) {
                    PrincipalMatch::Yes => denied = true,
                    PrincipalMatch::No => {}
                    PrincipalMatch::Possible(why) => possible.push(why),
                }
            }
            if !denied && possible.is_empty() {
                continue;
            }
            let mut unless = Vec::new();
            let mut excepted = false;
            for principal in &rule.exception_principals {
                match deny_principal_matches(principal, &place) {
                    PrincipalMatch::Yes => excepted = true,
                    PrincipalMatch::No => {}
                    PrincipalMatch::Possible(_) => unless.push(format!("`{principal}`")),
                }
            }
            if excepted {
                continue;
            }
            let mut reasons = Vec::new();
            if !denied {
                reasons.push(possible.join(" or "));
            }
            if !unless.is_empty() {
                reasons.push(format!(
                    "the account is not in the exception {} (membership is not collected)",
                    unless.join(", ")
                ));
            }
            let name = if policy.display_name.is_empty() {
                policy.name.clone()
            } else {
                format!("{} ({})", policy.name, policy.display_name)
            };
            out.push((
                format!("deny/{}#{index}#{}", policy.name, place.email),
                GcpDenyRule {
                    attachment_point: attachment_point.clone(),
                    policy: name,
                    denied_permissions: rule.denied_permissions.clone(),
                    exception_permissions: rule.exception_permissions.clone(),
                    condition: rule.denial_condition.as_ref().map(|c| GcpCondition {
                        title: c.title.clone(),
                        expression: c.expression.clone(),
                        description: Some(c.description.clone()).filter(|d| !d.is_empty()),
                    }),
                    possible: (!reasons.is_empty()).then(|| reasons.join("; ")),
                },
            ));
        }
    }
    out
}

/// The resource names above `name` (itself included) in a raw inventory: a project by id
/// (`projects/p`, with its number form), a folder or an organization.
pub(crate) fn container_ancestry(raw: &GcpInventory, name: &str) -> BTreeSet<String> {
    let mut chain: BTreeSet<String> = BTreeSet::new();
    if let Some(project_id) = name.strip_prefix("projects/") {
        chain.extend(ancestry(raw, project_id));
        if let Some(project) = raw
            .projects
            .iter()
            .find(|project| project.project_id == project_id || project.name == name)
        {
            chain.extend(ancestry(raw, &project.project_id));
        }
        chain.insert(name.to_string());
        return chain;
    }
    let mut current = name.to_string();
    while !current.is_empty() && chain.insert(current.clone()) && chain.len() < 64 {
        current = raw
            .folders
            .iter()
            .find(|folder| folder.name == current)
            .map(|folder| folder.parent.clone())
            .unwrap_or_default();
    }
    chain
}

/// The IAM policy of each organization, folder and project, with the resource it is
/// attached to (projects by id: `projects/my-proj`).
pub(crate) fn container_policies(raw: &GcpInventory) -> Vec<(String, &GcpIamPolicy)> {
    let mut policies: Vec<(String, &GcpIamPolicy)> = Vec::new();
    for organization in &raw.organizations {
        policies.extend(
            organization
                .iam_policy
                .iter()
                .map(|p| (organization.name.clone(), p)),
        );
    }
    for folder in &raw.folders {
        policies.extend(folder.iam_policy.iter().map(|p| (folder.name.clone(), p)));
    }
    for project in &raw.projects {
        let name = format!("projects/{}", project.project_id);
        policies.extend(project.iam_policy.iter().map(|p| (name.clone(), p)));
    }
    policies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessDecision;
    use crate::gcp::evaluate;

    const RAW: &str = r#"{
      "format_version": 1, "scope": ["organizations/9"], "collected_at": "2026-11-29T00:00:00Z",
      "organizations": [{"name": "organizations/9", "iam_policy": {"bindings": [
        {"role": "roles/viewer", "members": ["group:devs@example.com"]}]}}],
      "folders": [{"name": "folders/1", "parent": "organizations/9", "iam_policy": {"bindings": [
        {"role": "roles/run.developer", "members": ["serviceAccount:Deployer@app.iam.gserviceaccount.com"]}]}}],
      "projects": [{"name": "projects/4151", "project_id": "app", "parent": "folders/1",
        "iam_policy": {"bindings": [
          {"role": "projects/app/roles/pusher", "members": ["serviceAccount:deployer@app.iam.gserviceaccount.com"],
           "condition": {"title": "t", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}},
          {"role": "roles/editor", "members": ["serviceAccount:other@elsewhere.iam.gserviceaccount.com"]}]}}],
      "service_accounts": [{"name": "projects/app/serviceAccounts/deployer@app.iam.gserviceaccount.com",
        "project_id": "app", "email": "deployer@app.iam.gserviceaccount.com"}],
      "custom_roles": [
        {"name": "projects/app/roles/pusher", "title": "Pusher", "stage": "GA",
         "included_permissions": ["artifactregistry.repositories.uploadArtifacts"]},
        {"name": "projects/app/roles/gone", "stage": "GA", "included_permissions": ["x.y.z"], "deleted": true}]
    }"#;

    fn normalized() -> Inventory {
        let raw: GcpInventory = serde_json::from_str(RAW).unwrap();
        let mut inventory = Inventory::new();
        normalize_into(&mut inventory, &raw).unwrap();
        inventory
    }

    #[test]
    fn bindings_of_collected_service_accounts_become_grants_at_their_resource() {
        let inventory = normalized();
        let id = IdentityId::new(Provider::Gcp, "deployer@app.iam.gserviceaccount.com");
        let grants: Vec<&Grant> = inventory.grants_for(&id).collect();
        assert_eq!(grants.len(), 2);
        assert_eq!(
            inventory.grants().count(),
            2,
            "other members are not grants"
        );
        // Inherited from the folder, on a resource named relative to the project.
        let answer = evaluate(
            &inventory,
            &id,
            "run.services.update",
            "projects/app/locations/eu/services/web",
        )
        .unwrap();
        assert_eq!(answer.decision, AccessDecision::Granted);
        // The project's number names the same project.
        let answer = evaluate(&inventory, &id, "run.services.update", "projects/4151").unwrap();
        assert_eq!(answer.decision, AccessDecision::Granted);
        // The custom role's binding is conditional.
        let answer = evaluate(
            &inventory,
            &id,
            "artifactregistry.repositories.uploadArtifacts",
            "projects/app",
        )
        .unwrap();
        assert!(matches!(
            answer.decision,
            AccessDecision::Conditional { .. }
        ));
    }

    #[test]
    fn deleted_custom_roles_are_left_out_and_the_hierarchy_reaches_the_organization() {
        let inventory = normalized();
        assert!(
            inventory
                .gcp_roles
                .contains_key("projects/app/roles/pusher")
        );
        assert!(!inventory.gcp_roles.contains_key("projects/app/roles/gone"));
        assert_eq!(
            inventory.gcp_hierarchy.ancestry("projects/app"),
            vec!["projects/app", "folders/1", "organizations/9"]
        );
    }

    const TRUSTS: &str = r#"{
      "format_version": 1, "scope": ["organizations/9"], "collected_at": "2026-11-29T00:00:00Z",
      "organizations": [{"name": "organizations/9", "iam_policy": {"bindings": [
        {"role": "roles/iam.serviceAccountUser", "members": ["group:ops@example.com"]}]}}],
      "folders": [{"name": "folders/1", "parent": "organizations/9", "iam_policy": {"bindings": [
        {"role": "roles/iam.serviceAccountTokenCreator", "members": ["serviceAccount:other@app.iam.gserviceaccount.com"],
         "condition": {"title": "t", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}}]}}],
      "projects": [{"name": "projects/4151", "project_id": "app", "parent": "folders/1",
        "iam_policy": {"bindings": [{"role": "roles/viewer", "members": ["user:a@example.com"]}]}}],
      "service_accounts": [
        {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com", "project_id": "app",
         "email": "ci@app.iam.gserviceaccount.com",
         "keys": [
           {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k1", "key_type": "USER_MANAGED",
            "valid_after_time": "2025-01-02T03:04:05Z"},
           {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k2", "key_type": "USER_MANAGED", "disabled": true},
           {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k3", "key_type": "SYSTEM_MANAGED"}],
         "iam_policy": {"bindings": [
           {"role": "roles/iam.workloadIdentityUser", "members": [
             "principalSet://iam.googleapis.com/projects/4151/locations/global/workloadIdentityPools/gh/attribute.repository/acme/web",
             "principalSet://iam.googleapis.com/projects/4151/locations/global/workloadIdentityPools/gh/attribute.env/prod",
             "principal://iam.googleapis.com/projects/4151/locations/global/workloadIdentityPools/gh/subject/repo:acme/web:ref:refs/heads/main",
             "principalSet://iam.googleapis.com/projects/999/locations/global/workloadIdentityPools/elsewhere/*"]},
           {"role": "roles/storage.admin", "members": ["user:b@example.com"]}]}},
        {"name": "projects/app/serviceAccounts/other@app.iam.gserviceaccount.com", "project_id": "app",
         "email": "other@app.iam.gserviceaccount.com"}],
      "workload_identity_pools": [{"name": "projects/4151/locations/global/workloadIdentityPools/gh", "state": "ACTIVE",
        "providers": [{"name": "projects/4151/locations/global/workloadIdentityPools/gh/providers/actions",
          "state": "ACTIVE", "protocol": "oidc",
          "attribute_mapping": {"google.subject": "assertion.sub", "attribute.repository": "assertion.repository",
                                "attribute.env": "assertion.environment == 'prod' ? 'prod' : 'other'"},
          "attribute_condition": "assertion.repository_owner == 'acme'",
          "oidc": {"issuer_uri": "https://token.actions.githubusercontent.com"}}]}]
    }"#;

    fn trusts_of_ci() -> Vec<Trust> {
        let raw: GcpInventory = serde_json::from_str(TRUSTS).unwrap();
        let mut inventory = Inventory::new();
        normalize_into(&mut inventory, &raw).unwrap();
        inventory.trusts[&IdentityId::new(Provider::Gcp, "ci@app.iam.gserviceaccount.com")].clone()
    }

    fn federated(trusts: &[Trust]) -> Vec<&FederatedTrust> {
        trusts
            .iter()
            .filter_map(|trust| match trust {
                Trust::Federated(federated) => Some(federated),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn workload_identity_members_become_federated_trusts_with_the_providers_issuer_and_condition() {
        let trusts = trusts_of_ci();
        let federated = federated(&trusts);
        assert_eq!(federated.len(), 3, "{federated:#?}");
        let owner = ClaimCondition::new(
            "attributeCondition",
            ClaimOperator::Expression,
            vec!["assertion.repository_owner == 'acme'".to_string()],
        );
        for trust in &federated {
            assert_eq!(trust.issuer, "https://token.actions.githubusercontent.com");
            assert!(trust.conditions.contains(&owner), "{trust:#?}");
            // The default audience: the provider's own resource name.
            assert!(trust.audiences[1].starts_with("https://iam.googleapis.com/projects/4151/"));
        }
        let has =
            |condition: ClaimCondition| federated.iter().any(|t| t.conditions.contains(&condition));
        assert!(has(ClaimCondition::new(
            "repository",
            ClaimOperator::Equals,
            vec!["acme/web".into()]
        )));
        assert!(has(ClaimCondition::new(
            "sub",
            ClaimOperator::Equals,
            vec!["repo:acme/web:ref:refs/heads/main".into()]
        )));
        // An attribute mapped by an expression is compared through that expression.
        assert!(has(ClaimCondition::new(
            "attribute.env",
            ClaimOperator::Expression,
            vec!["assertion.environment == 'prod' ? 'prod' : 'other' == 'prod'".into()]
        )));
    }

    #[test]
    fn a_member_of_a_pool_not_collected_is_kept_as_written() {
        let trusts = trusts_of_ci();
        assert!(trusts.contains(&Trust::Identity {
            from: PrincipalRef::Pattern(
                "principalSet://iam.googleapis.com/projects/999/locations/global/workloadIdentityPools/elsewhere/*"
                    .into()
            ),
            conditions: vec![],
        }));
    }

    #[test]
    fn impersonators_are_inherited_from_folders_and_the_organization_with_their_condition() {
        let trusts = trusts_of_ci();
        assert!(trusts.contains(&Trust::Identity {
            from: PrincipalRef::Identity(IdentityId::new(
                Provider::Gcp,
                "other@app.iam.gserviceaccount.com"
            )),
            conditions: vec![ClaimCondition::new(
                "iam.condition",
                ClaimOperator::Expression,
                vec!["request.time < timestamp('2027-01-01T00:00:00Z')".into()]
            )],
        }));
        assert!(trusts.contains(&Trust::Identity {
            from: PrincipalRef::Pattern("group:ops@example.com".into()),
            conditions: vec![],
        }));
        // Roles that do not let anyone become the account are not trusts.
        assert!(!trusts.iter().any(|trust| matches!(trust,
            Trust::Identity { from: PrincipalRef::Pattern(p), .. } if p.starts_with("user:"))));
    }

    #[test]
    fn only_enabled_user_managed_keys_are_long_lived_key_trusts() {
        let trusts = trusts_of_ci();
        let keys: Vec<&Trust> = trusts
            .iter()
            .filter(|trust| matches!(trust, Trust::LongLivedKey { .. }))
            .collect();
        assert_eq!(keys.len(), 1);
        let Trust::LongLivedKey {
            key_id, created, ..
        } = keys[0]
        else {
            unreachable!()
        };
        assert_eq!(key_id, "k1");
        assert_eq!(created.unwrap().to_rfc3339(), "2025-01-02T03:04:05+00:00");
    }

    /// organizations/9 → folders/1 → projects/app (number 4151); `ci` in `app`.
    fn deny_inventory(rules: &str) -> GcpInventory {
        let text = format!(
            r#"{{
          "format_version": 1, "scope": ["organizations/9"], "collected_at": "2026-11-29T00:00:00Z",
          "organizations": [{{"name": "organizations/9"}}],
          "folders": [{{"name": "folders/1", "parent": "organizations/9"}}],
          "projects": [{{"name": "projects/4151", "project_id": "app", "parent": "folders/1",
            "iam_policy": {{"bindings": [
              {{"role": "roles/run.admin", "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]}}]}}}}],
          "service_accounts": [{{"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com",
            "project_id": "app", "email": "ci@app.iam.gserviceaccount.com"}}],
          "deny_policies": [{{"attachment_point": "projects/4151",
            "name": "policies/cloudresourcemanager.googleapis.com%2Fprojects%2F4151/denypolicies/d",
            "rules": [{rules}]}}]
        }}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn decide(rules: &str, permission: &str) -> AccessDecision {
        let raw = deny_inventory(rules);
        let mut inventory = Inventory::new();
        normalize_into(&mut inventory, &raw).unwrap();
        let id = IdentityId::new(Provider::Gcp, "ci@app.iam.gserviceaccount.com");
        evaluate(
            &inventory,
            &id,
            permission,
            "projects/app/locations/eu/services/web",
        )
        .unwrap()
        .decision
    }

    const SA_PRINCIPAL: &str =
        "principal://iam.googleapis.com/projects/-/serviceAccounts/CI@app.iam.gserviceaccount.com";

    #[test]
    fn a_deny_rule_naming_the_service_account_denies_below_its_attachment_point() {
        let rule = format!(
            r#"{{"denied_principals": ["{SA_PRINCIPAL}"],
                "denied_permissions": ["run.googleapis.com/services.delete"]}}"#
        );
        assert_eq!(decide(&rule, "run.services.delete"), AccessDecision::Denied);
        assert_eq!(
            decide(&rule, "run.services.update"),
            AccessDecision::Granted
        );
    }

    #[test]
    fn public_all_and_the_service_accounts_of_an_ancestor_include_the_account() {
        for principal in [
            "principalSet://goog/public:all",
            "principalSet://cloudresourcemanager.googleapis.com/projects/4151/type/ServiceAccount",
            "principalSet://cloudresourcemanager.googleapis.com/folders/1/type/ServiceAccount",
            "principalSet://cloudresourcemanager.googleapis.com/organizations/9/type/ServiceAccount",
        ] {
            let rule = format!(
                r#"{{"denied_principals": ["{principal}"],
                    "denied_permissions": ["run.googleapis.com/services.delete"]}}"#
            );
            assert_eq!(
                decide(&rule, "run.services.delete"),
                AccessDecision::Denied,
                "{principal}"
            );
        }
    }

    #[test]
    fn other_principals_do_not_deny_the_account() {
        for principal in [
            "principal://iam.googleapis.com/projects/-/serviceAccounts/other@app.iam.gserviceaccount.com",
            "principal://goog/subject/alice@example.com",
            "deleted:principal://iam.googleapis.com/projects/-/serviceAccounts/ci@app.iam.gserviceaccount.com?uid=1",
            "principalSet://cloudresourcemanager.googleapis.com/projects/999/type/ServiceAccount",
            "principalSet://iam.googleapis.com/projects/4151/locations/global/workloadIdentityPools/gh/*",
        ] {
            let rule = format!(
                r#"{{"denied_principals": ["{principal}"],
                    "denied_permissions": ["run.googleapis.com/services.delete"]}}"#
            );
            assert_eq!(
                decide(&rule, "run.services.delete"),
                AccessDecision::Granted,
                "{principal}"
            );
        }
    }

    #[test]
    fn an_excepted_principal_or_permission_is_not_denied() {
        let excepted_principal = format!(
            r#"{{"denied_principals": ["principalSet://goog/public:all"],
                "exception_principals": ["{SA_PRINCIPAL}"],
                "denied_permissions": ["run.googleapis.com/services.delete"]}}"#
        );
        assert_eq!(
            decide(&excepted_principal, "run.services.delete"),
            AccessDecision::Granted
        );
        let excepted_permission = format!(
            r#"{{"denied_principals": ["{SA_PRINCIPAL}"],
                "denied_permissions": ["run.googleapis.com/*"],
                "exception_permissions": ["run.googleapis.com/services.delete"]}}"#
        );
        assert_eq!(
            decide(&excepted_permission, "run.services.delete"),
            AccessDecision::Granted
        );
        assert_eq!(
            decide(&excepted_permission, "run.services.update"),
            AccessDecision::Denied
        );
    }

    #[test]
    fn a_denial_condition_makes_the_answer_conditional() {
        let rule = format!(
            r#"{{"denied_principals": ["{SA_PRINCIPAL}"],
                "denied_permissions": ["run.googleapis.com/services.delete"],
                "denial_condition": {{"title": "prod", "expression": "resource.matchTag('9/env', 'prod')"}}}}"#
        );
        assert!(matches!(
            decide(&rule, "run.services.delete"),
            AccessDecision::Conditional { reason } if reason.contains("matchTag")
        ));
    }

    #[test]
    fn a_group_principal_set_or_a_group_exception_makes_the_deny_possible_not_certain() {
        let group = r#"{"denied_principals": ["principalSet://goog/group/ci@example.com"],
            "denied_permissions": ["run.googleapis.com/services.delete"]}"#;
        assert!(matches!(
            decide(group, "run.services.delete"),
            AccessDecision::Conditional { reason } if reason.contains("group membership is not collected")
        ));
        let group_exception = r#"{"denied_principals": ["principalSet://goog/public:all"],
            "exception_principals": ["principalSet://goog/group/admins@example.com"],
            "denied_permissions": ["run.googleapis.com/services.delete"]}"#;
        assert!(matches!(
            decide(group_exception, "run.services.delete"),
            AccessDecision::Conditional { reason } if reason.contains("admins@example.com")
        ));
    }

    #[test]
    fn deny_rules_attach_at_the_project_id_and_reach_only_what_is_below() {
        let raw = deny_inventory(&format!(
            r#"{{"denied_principals": ["{SA_PRINCIPAL}"],
                "denied_permissions": ["run.googleapis.com/services.delete"]}}"#
        ));
        let account = &raw.service_accounts[0];
        let rules = deny_rules_for(&raw, account);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].1.attachment_point, "projects/app");
        assert!(container_ancestry(&raw, "projects/app").contains("organizations/9"));
        assert!(!container_ancestry(&raw, "folders/1").contains("projects/app"));
    }
}
