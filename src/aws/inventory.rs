//! The raw-but-typed record of one AWS account as the collector saw it.
//!
//! This is a frozen file format (`inventory/aws-<account>.json` in a snapshot), not the
//! neutral model: it keeps the provider's own names and the decoded policy JSON text so that
//! normalization can be redone from a stored snapshot when the model changes. Bump
//! [`INVENTORY_FORMAT_VERSION`] on any incompatible change. Vectors are sorted by ARN or id
//! before writing so that two collections of an unchanged account are byte-identical
//! (apart from `collected_at`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the [`AwsAccountInventory`] file format.
pub const INVENTORY_FORMAT_VERSION: u32 = 1;

/// Everything collected from one AWS account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAccountInventory {
    pub format_version: u32,
    pub account_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`, taken from the caller's ARN.
    pub partition: String,
    /// The principal the collector ran as (an assumed-role session or a user), for audit.
    pub collected_by: String,
    /// RFC 3339, UTC.
    pub collected_at: String,
    #[serde(default)]
    pub roles: Vec<AwsRole>,
    #[serde(default)]
    pub users: Vec<AwsUser>,
    #[serde(default)]
    pub groups: Vec<AwsGroup>,
    /// Customer-managed policies, and the AWS-managed policies attached to something here.
    #[serde(default)]
    pub policies: Vec<AwsManagedPolicy>,
    /// Managed policies attached to an identity whose documents the API did not return.
    #[serde(default)]
    pub unresolved_policies: Vec<UnresolvedPolicy>,
    #[serde(default)]
    pub oidc_providers: Vec<AwsOidcProvider>,
    #[serde(default)]
    pub access_keys: Vec<AwsAccessKey>,
    /// The organization the account belongs to, when the collector could read it.
    #[serde(default)]
    pub organization: Option<AwsOrganization>,
    #[serde(default)]
    pub service_control_policies: Vec<AwsServiceControlPolicy>,
    /// Calls that failed: the inventory is incomplete where they would have answered.
    #[serde(default)]
    pub errors: Vec<CollectIssue>,
    /// Parts deliberately not collected, with the reason (no organization, no access).
    #[serde(default)]
    pub skipped: Vec<CollectIssue>,
}

/// One API call that failed or was skipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CollectIssue {
    /// `iam:GetAccountAuthorizationDetails`, `organizations:ListPolicies`, …
    pub call: String,
    pub account: String,
    /// What it was about, when the call was for one thing (a user name, a policy id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The service's error code when it gave one (`AccessDenied`, `Throttling`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsRole {
    pub arn: String,
    pub name: String,
    pub role_id: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    /// The trust policy (`AssumeRolePolicyDocument`), decoded JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<String>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    /// ARN of the permissions boundary, when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<RoleLastUsed>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// ARNs of the instance profiles that hold the role (`InstanceProfileList` of
    /// `GetAccountAuthorizationDetails`), sorted: passing one of them to EC2 passes this role.
    /// Empty in inventories collected before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_profiles: Vec<String>,
}

/// When and where a role was last used, as IAM tracks it (about 400 days back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleLastUsed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsUser {
    pub arn: String,
    pub name: String,
    pub user_id: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsGroup {
    pub arn: String,
    pub name: String,
    pub group_id: String,
    pub path: String,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
}

/// A policy embedded in one role, user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    /// Decoded JSON text.
    pub document: String,
}

/// A managed policy attached to an identity (the document lives in `policies`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
}

/// A managed policy with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsManagedPolicy {
    pub arn: String,
    pub name: String,
    /// Absent when the endpoint leaves it out (moto does in this call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    pub path: String,
    /// Whether AWS owns it (`arn:<partition>:iam::aws:policy/…`).
    pub aws_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    pub attachment_count: i32,
    pub permissions_boundary_usage_count: i32,
    /// Every version the API returned; the default one has `is_default`.
    #[serde(default)]
    pub versions: Vec<PolicyVersion>,
}

impl AwsManagedPolicy {
    /// The document of the default version, the one in force.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|version| version.is_default)
            .map(|version| version.document.as_str())
    }
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    /// Decoded JSON text.
    pub document: String,
}

/// A managed policy attached somewhere whose document was not returned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnresolvedPolicy {
    pub arn: String,
    /// ARNs of the roles, users and groups it is attached to.
    pub attached_to: Vec<String>,
    pub reason: String,
}

/// An IAM OpenID Connect identity provider (GitHub Actions, GitLab, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsOidcProvider {
    pub arn: String,
    /// The issuer without scheme, as IAM stores it (`token.actions.githubusercontent.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub thumbprints: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A long-lived access key of an IAM user. Only the key id is ever kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsAccessKey {
    pub user_name: String,
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<AccessKeyLastUsed>,
}

/// When, where and for which service an access key was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyLastUsed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The organization an account belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsOrganization {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_account_id: Option<String>,
    /// The chain from the account up to the root, nearest first: `[ou-…, …, r-…]`.
    #[serde(default)]
    pub parents: Vec<String>,
}

/// A service control policy and where it is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsServiceControlPolicy {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub aws_managed: bool,
    /// Decoded JSON text.
    pub document: String,
    /// Every target (root, OU or account id) the policy is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
    /// The targets among the account and its parents: the policy applies to this account
    /// exactly when this is not empty.
    #[serde(default)]
    pub applies_through: Vec<String>,
}

impl AwsAccountInventory {
    /// An empty inventory for `account_id`, to be filled by the collector.
    pub fn new(
        account_id: String,
        partition: String,
        collected_by: String,
        collected_at: String,
    ) -> Self {
        Self {
            format_version: INVENTORY_FORMAT_VERSION,
            account_id,
            partition,
            collected_by,
            collected_at,
            roles: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            policies: Vec::new(),
            unresolved_policies: Vec::new(),
            oidc_providers: Vec::new(),
            access_keys: Vec::new(),
            organization: None,
            service_control_policies: Vec::new(),
            errors: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// The roles each instance profile of these accounts holds, by (account, profile name):
    /// what a call that passes an instance profile passes. Profile names are unique in an
    /// account whatever their path, which the key leaves out.
    pub fn instance_profile_roles(
        inventories: &[AwsAccountInventory],
    ) -> BTreeMap<(String, String), Vec<String>> {
        let mut roles: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for inventory in inventories {
            for role in &inventory.roles {
                for profile in &role.instance_profiles {
                    let Some(name) = profile.rsplit('/').next().filter(|name| !name.is_empty())
                    else {
                        continue;
                    };
                    let account = profile
                        .split(':')
                        .nth(4)
                        .filter(|account| !account.is_empty())
                        .unwrap_or(&inventory.account_id);
                    let entry = roles
                        .entry((account.to_owned(), name.to_owned()))
                        .or_default();
                    if !entry.contains(&role.arn) {
                        entry.push(role.arn.clone());
                        entry.sort();
                    }
                }
            }
        }
        roles
    }

    /// Sorts every list so that the serialized form does not depend on API order.
    pub fn sort(&mut self) {
        self.roles.sort_by(|a, b| a.arn.cmp(&b.arn));
        for role in &mut self.roles {
            role.inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
            role.attached_policies.sort();
            role.instance_profiles.sort();
            role.instance_profiles.dedup();
        }
        self.users.sort_by(|a, b| a.arn.cmp(&b.arn));
        for user in &mut self.users {
            user.groups.sort();
            user.inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
            user.attached_policies.sort();
        }
        self.groups.sort_by(|a, b| a.arn.cmp(&b.arn));
        for group in &mut self.groups {
            group.inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
            group.attached_policies.sort();
        }
        self.policies.sort_by(|a, b| a.arn.cmp(&b.arn));
        for policy in &mut self.policies {
            // `v10` after `v9`: IAM version ids are `v` and a number.
            policy.versions.sort_by(|a, b| {
                (a.version_id.len(), &a.version_id).cmp(&(b.version_id.len(), &b.version_id))
            });
        }
        self.unresolved_policies.sort();
        self.oidc_providers.sort_by(|a, b| a.arn.cmp(&b.arn));
        for provider in &mut self.oidc_providers {
            provider.client_ids.sort();
            provider.thumbprints.sort();
        }
        self.access_keys.sort_by(|a, b| {
            (&a.user_name, &a.access_key_id).cmp(&(&b.user_name, &b.access_key_id))
        });
        self.service_control_policies
            .sort_by(|a, b| a.id.cmp(&b.id));
        for policy in &mut self.service_control_policies {
            policy.targets.sort();
            policy.applies_through.sort();
        }
        self.errors.sort();
        self.skipped.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: &str) -> PolicyVersion {
        PolicyVersion {
            version_id: id.to_owned(),
            is_default: id == "v10",
            create_date: None,
            document: "{}".to_owned(),
        }
    }

    #[test]
    fn policy_versions_sort_by_number_not_text() {
        let mut inventory = AwsAccountInventory::new(
            "123456789012".to_owned(),
            "aws".to_owned(),
            "arn:aws:iam::123456789012:user/audit".to_owned(),
            "2026-11-22T00:00:00Z".to_owned(),
        );
        inventory.policies.push(AwsManagedPolicy {
            arn: "arn:aws:iam::123456789012:policy/p".to_owned(),
            name: "p".to_owned(),
            policy_id: None,
            path: "/".to_owned(),
            aws_managed: false,
            default_version_id: Some("v10".to_owned()),
            attachment_count: 1,
            permissions_boundary_usage_count: 0,
            versions: vec![version("v10"), version("v9"), version("v1")],
        });
        inventory.sort();
        let ids: Vec<&str> = inventory.policies[0]
            .versions
            .iter()
            .map(|v| v.version_id.as_str())
            .collect();
        assert_eq!(ids, ["v1", "v9", "v10"]);
        assert_eq!(inventory.policies[0].default_document(), Some("{}"));
    }

    #[test]
    fn inventory_round_trips_and_tolerates_missing_lists() {
        let minimal = r#"{"format_version":1,"account_id":"1","partition":"aws",
            "collected_by":"x","collected_at":"t","future_field":true}"#;
        let inventory: AwsAccountInventory = serde_json::from_str(minimal).expect("parse");
        assert!(inventory.roles.is_empty() && inventory.errors.is_empty());
        let text = serde_json::to_string(&inventory).expect("serialize");
        let again: AwsAccountInventory = serde_json::from_str(&text).expect("reparse");
        assert_eq!(again, inventory);
    }
}
