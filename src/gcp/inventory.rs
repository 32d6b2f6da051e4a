//! The raw-but-typed record of what `collect gcp` saw: the resource hierarchy (organization →
//! folders → projects) with the IAM policy of each level, service accounts with their keys and
//! their own IAM policy (who may impersonate them), custom roles, and Workload Identity
//! Federation pools and providers.
//!
//! This is a frozen file format (`inventory/gcp-<scope>.json` in a snapshot, manifest kind
//! [`GCP_INVENTORY_KIND`]), not the neutral model: it keeps the APIs' own names and
//! spellings (`organizations/123`, `ACTIVE`, `USER_MANAGED`) so that normalization can be
//! redone from a stored snapshot. Bump [`GCP_INVENTORY_FORMAT_VERSION`] on any incompatible
//! change. [`GcpInventory::sort`] orders every list by resource name, so two collections of an
//! unchanged scope are byte-identical apart from `collected_at`.
//!
//! Wire formats: Resource Manager v3
//! (<https://cloud.google.com/resource-manager/reference/rest>), IAM v1
//! (<https://cloud.google.com/iam/docs/reference/rest>), the IAM policy
//! (<https://cloud.google.com/iam/docs/reference/rest/v1/Policy>).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the [`GcpInventory`] file format.
pub const GCP_INVENTORY_FORMAT_VERSION: u32 = 1;

/// The manifest `kind` of a GCP inventory file.
pub const GCP_INVENTORY_KIND: &str = "gcp-inventory";

/// Everything collected from one scope (an organization, a folder, or a list of projects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpInventory {
    pub format_version: u32,
    /// What was asked for, as resource names: `organizations/123`, `folders/456`, or one
    /// `projects/<id>` per `--project`.
    pub scope: Vec<String>,
    /// RFC 3339, UTC.
    pub collected_at: String,
    /// Where the credentials came from (`GOOGLE_APPLICATION_CREDENTIALS`
    /// (`external_account`), the metadata server, …), for audit.
    #[serde(default)]
    pub credentials: String,
    #[serde(default)]
    pub organizations: Vec<GcpOrganization>,
    /// Every folder under the scope, at any depth.
    #[serde(default)]
    pub folders: Vec<GcpFolder>,
    #[serde(default)]
    pub projects: Vec<GcpProject>,
    #[serde(default)]
    pub service_accounts: Vec<GcpServiceAccount>,
    /// Custom roles defined on the organization and on each project (predefined roles come
    /// from the embedded catalog).
    #[serde(default)]
    pub custom_roles: Vec<GcpCustomRole>,
    #[serde(default)]
    pub workload_identity_pools: Vec<GcpWorkloadIdentityPool>,
    /// IAM deny policies attached to each organization, folder and project collected
    /// (IAM v2 `policies.listPolicies` / `policies.get`,
    /// <https://cloud.google.com/iam/docs/reference/rest/v2/policies>). Absent in inventories
    /// collected before deny policies were read: those read as "none collected".
    #[serde(default)]
    pub deny_policies: Vec<GcpDenyPolicy>,
    /// Calls that failed: the inventory is incomplete where they would have answered.
    #[serde(default)]
    pub errors: Vec<GcpCollectIssue>,
}

/// An organization resource (`organizations.get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpOrganization {
    /// `organizations/123`.
    pub name: String,
    /// The primary domain, e.g. `example.com`.
    #[serde(default)]
    pub display_name: String,
    /// `ACTIVE`, `DELETE_REQUESTED`.
    #[serde(default)]
    pub state: String,
    /// `None` when `getIamPolicy` failed (see `errors`).
    #[serde(default)]
    pub iam_policy: Option<GcpIamPolicy>,
}

/// A folder (`folders.list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpFolder {
    /// `folders/456`.
    pub name: String,
    /// `organizations/123` or `folders/789`.
    pub parent: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: String,
    /// An ancestor of a folder or project scope, read for the IAM policy the scope inherits;
    /// its other descendants were not collected.
    #[serde(default)]
    pub outside_scope: bool,
    #[serde(default)]
    pub iam_policy: Option<GcpIamPolicy>,
}

/// A project (`projects.list`, `projects.get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpProject {
    /// `projects/415104041262` (the project number).
    pub name: String,
    /// The project id, `my-project`.
    pub project_id: String,
    /// `organizations/123`, `folders/456`, or empty for a project without a parent.
    #[serde(default)]
    pub parent: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub iam_policy: Option<GcpIamPolicy>,
}

/// An IAM allow policy as `getIamPolicy` returns it, requested at version 3 so that
/// conditional bindings come back whole
/// (<https://cloud.google.com/iam/docs/policies#versions>).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpIamPolicy {
    /// 1 or 3 (3 when a binding has a condition).
    #[serde(default)]
    pub version: i32,
    /// Base64, as on the wire.
    #[serde(default)]
    pub etag: String,
    #[serde(default)]
    pub bindings: Vec<GcpPolicyBinding>,
}

/// One `bindings[]` entry: a role, its members, and an optional IAM condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GcpPolicyBinding {
    /// `roles/viewer`, `organizations/1/roles/deployer`, `projects/p/roles/x`.
    pub role: String,
    /// As written: `user:…`, `serviceAccount:…`, `group:…`, `domain:…`,
    /// `principal://…`, `principalSet://…`, `deleted:serviceAccount:…?uid=…`.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub condition: Option<GcpConditionExpr>,
}

/// A CEL condition (`google.type.Expr`), verbatim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GcpConditionExpr {
    #[serde(default)]
    pub title: String,
    pub expression: String,
    #[serde(default)]
    pub description: String,
}

/// A service account with its keys and its own IAM policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpServiceAccount {
    /// `projects/my-project/serviceAccounts/ci@my-project.iam.gserviceaccount.com`.
    pub name: String,
    pub project_id: String,
    pub email: String,
    #[serde(default)]
    pub unique_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub disabled: bool,
    /// `None` when `keys.list` failed (see `errors`).
    #[serde(default)]
    pub keys: Option<Vec<GcpServiceAccountKey>>,
    /// Who may act as this account (`roles/iam.serviceAccountTokenCreator`,
    /// `roles/iam.serviceAccountUser`, `roles/iam.workloadIdentityUser`, …). `None` when
    /// `getIamPolicy` failed (see `errors`).
    #[serde(default)]
    pub iam_policy: Option<GcpIamPolicy>,
}

/// Who manages a service-account key
/// (<https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys#KeyType>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GcpKeyType {
    /// Created by a user (long-lived, downloadable): the kind the key checks look at.
    UserManaged,
    /// Managed and rotated by Google.
    SystemManaged,
    /// Not stated, or a value this version does not know.
    #[serde(rename = "KEY_TYPE_UNSPECIFIED", other)]
    Unspecified,
}

/// One service-account key (`keys.list`; the private key is never returned by that call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpServiceAccountKey {
    /// `projects/p/serviceAccounts/ci@p.iam.gserviceaccount.com/keys/<key id>`.
    pub name: String,
    pub key_type: GcpKeyType,
    /// `GOOGLE_PROVIDED`, `USER_PROVIDED`.
    #[serde(default)]
    pub key_origin: String,
    /// `KEY_ALG_RSA_2048`, …
    #[serde(default)]
    pub key_algorithm: String,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub valid_after_time: Option<String>,
    /// RFC 3339, UTC; `9999-12-31T23:59:59Z` for a key that never expires.
    #[serde(default)]
    pub valid_before_time: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

/// A custom role (`organizations.roles.list`, `projects.roles.list` with `view=FULL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpCustomRole {
    /// `organizations/123/roles/deployer`, `projects/p/roles/deployer`.
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub included_permissions: Vec<String>,
    /// `ALPHA`, `BETA`, `GA`, `DEPRECATED`, `DISABLED`, `EAP`
    /// (<https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles#rolelaunchstage>).
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub deleted: bool,
}

/// A Workload Identity pool of a project, with its providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpWorkloadIdentityPool {
    /// `projects/415104041262/locations/global/workloadIdentityPools/github`.
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    /// `ACTIVE`, `DELETED`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub disabled: bool,
    /// `None` when `providers.list` failed (see `errors`).
    #[serde(default)]
    pub providers: Option<Vec<GcpWorkloadIdentityProvider>>,
}

/// A Workload Identity pool provider
/// (<https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools.providers>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpWorkloadIdentityProvider {
    /// `projects/N/locations/global/workloadIdentityPools/github/providers/actions`.
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub disabled: bool,
    /// Google attribute → CEL over the external token (`google.subject` →
    /// `assertion.sub`, `attribute.repository` → `assertion.repository`).
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    /// The CEL expression every token must satisfy; `None` when the provider has none.
    #[serde(default)]
    pub attribute_condition: Option<String>,
    #[serde(default)]
    pub oidc: Option<GcpOidcProvider>,
    /// The AWS account id of an AWS provider.
    #[serde(default)]
    pub aws_account_id: Option<String>,
    /// `oidc`, `aws`, `saml`, `x509`, or `unknown`.
    pub protocol: String,
}

/// The OIDC part of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpOidcProvider {
    /// `https://token.actions.githubusercontent.com`.
    pub issuer_uri: String,
    /// Empty means the default audience, the provider's full resource name
    /// (`https://iam.googleapis.com/projects/…/providers/…`).
    #[serde(default)]
    pub allowed_audiences: Vec<String>,
    /// Whether the provider carries its own JWKS instead of fetching the issuer's.
    #[serde(default)]
    pub jwks_json_set: bool,
}

/// One IAM deny policy and where it is attached
/// (<https://cloud.google.com/iam/docs/reference/rest/v2/policies#Policy>,
/// <https://cloud.google.com/iam/docs/deny-overview>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpDenyPolicy {
    /// The resource the policy is attached to, as the rest of the inventory names it:
    /// `organizations/123`, `folders/456`, `projects/415104041262` (the API answers with the
    /// project number).
    pub attachment_point: String,
    /// `policies/cloudresourcemanager.googleapis.com%2Fprojects%2F415104041262/denypolicies/my-policy`,
    /// as on the wire.
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub rules: Vec<GcpDenyPolicyRule>,
}

/// One `rules[].denyRule` of a deny policy, verbatim
/// (<https://cloud.google.com/iam/docs/reference/rest/v2/policies#DenyRule>).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GcpDenyPolicyRule {
    #[serde(default)]
    pub description: String,
    /// `principal://iam.googleapis.com/projects/-/serviceAccounts/EMAIL`,
    /// `principalSet://goog/public:all`, `principalSet://goog/group/G`, …
    #[serde(default)]
    pub denied_principals: Vec<String>,
    #[serde(default)]
    pub exception_principals: Vec<String>,
    /// `<service>.googleapis.com/<resource>.<verb>`, wildcards allowed.
    #[serde(default)]
    pub denied_permissions: Vec<String>,
    #[serde(default)]
    pub exception_permissions: Vec<String>,
    /// A CEL expression over resource tags; the rule applies only when it holds.
    #[serde(default)]
    pub denial_condition: Option<GcpConditionExpr>,
}

/// One call that failed; the run went on without its answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GcpCollectIssue {
    /// `cloudresourcemanager.projects.getIamPolicy`, `iam.serviceAccounts.list`, …
    pub call: String,
    /// The resource the call was about (`projects/p`, `folders/2`).
    pub target: String,
    /// The HTTP status, when there was a response.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// The error's `status` (`PERMISSION_DENIED`, `NOT_FOUND`, …), when there was one.
    #[serde(default)]
    pub status: Option<String>,
    pub reason: String,
}

impl GcpInventory {
    /// An empty inventory of `scope`, stamped with `collected_at`.
    pub fn new(scope: Vec<String>, collected_at: String, credentials: String) -> Self {
        Self {
            format_version: GCP_INVENTORY_FORMAT_VERSION,
            scope,
            collected_at,
            credentials,
            organizations: Vec::new(),
            folders: Vec::new(),
            projects: Vec::new(),
            service_accounts: Vec::new(),
            custom_roles: Vec::new(),
            workload_identity_pools: Vec::new(),
            deny_policies: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Orders every list (and every policy's bindings and members) so the file does not
    /// depend on the order of the API's answers.
    pub fn sort(&mut self) {
        self.organizations.sort_by(|a, b| a.name.cmp(&b.name));
        self.folders.sort_by(|a, b| a.name.cmp(&b.name));
        self.projects.sort_by(|a, b| a.name.cmp(&b.name));
        self.service_accounts.sort_by(|a, b| a.name.cmp(&b.name));
        self.custom_roles.sort_by(|a, b| a.name.cmp(&b.name));
        self.workload_identity_pools
            .sort_by(|a, b| a.name.cmp(&b.name));
        self.deny_policies
            .sort_by(|a, b| (&a.attachment_point, &a.name).cmp(&(&b.attachment_point, &b.name)));
        self.deny_policies
            .dedup_by(|a, b| a.attachment_point == b.attachment_point && a.name == b.name);
        self.errors.sort();
        self.errors.dedup();
        let policies = self
            .organizations
            .iter_mut()
            .filter_map(|o| o.iam_policy.as_mut())
            .chain(
                self.folders
                    .iter_mut()
                    .filter_map(|f| f.iam_policy.as_mut()),
            )
            .chain(
                self.projects
                    .iter_mut()
                    .filter_map(|p| p.iam_policy.as_mut()),
            )
            .chain(
                self.service_accounts
                    .iter_mut()
                    .filter_map(|s| s.iam_policy.as_mut()),
            );
        for policy in policies {
            policy.sort();
        }
        for account in &mut self.service_accounts {
            if let Some(keys) = &mut account.keys {
                keys.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        for role in &mut self.custom_roles {
            role.included_permissions.sort();
            role.included_permissions.dedup();
        }
        for pool in &mut self.workload_identity_pools {
            if let Some(providers) = &mut pool.providers {
                providers.sort_by(|a, b| a.name.cmp(&b.name));
                for provider in providers {
                    if let Some(oidc) = &mut provider.oidc {
                        oidc.allowed_audiences.sort();
                    }
                }
            }
        }
    }

    /// The folder, project or organization named `name`, with its IAM policy.
    pub fn policy_of(&self, name: &str) -> Option<&GcpIamPolicy> {
        self.organizations
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.iam_policy.as_ref())
            .or_else(|| {
                self.folders
                    .iter()
                    .find(|f| f.name == name)
                    .and_then(|f| f.iam_policy.as_ref())
            })
            .or_else(|| {
                self.projects
                    .iter()
                    .find(|p| p.name == name || format!("projects/{}", p.project_id) == name)
                    .and_then(|p| p.iam_policy.as_ref())
            })
    }
}

impl GcpIamPolicy {
    /// Sorts bindings by role, then condition, and the members of each binding.
    pub fn sort(&mut self) {
        for binding in &mut self.bindings {
            binding.members.sort();
            binding.members.dedup();
        }
        self.bindings.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_inventory_reads_with_defaults_and_round_trips() {
        let minimal = r#"{"format_version":1,"scope":["organizations/1"],
            "collected_at":"2026-01-01T00:00:00Z","future_field":true}"#;
        let inventory: GcpInventory = serde_json::from_str(minimal).expect("parse");
        assert!(inventory.projects.is_empty() && inventory.errors.is_empty());
        let text = serde_json::to_string(&inventory).expect("serialize");
        let again: GcpInventory = serde_json::from_str(&text).expect("reparse");
        assert_eq!(again, inventory);
    }

    #[test]
    fn unknown_key_type_reads_as_unspecified() {
        let key: GcpServiceAccountKey =
            serde_json::from_str(r#"{"name":"k","key_type":"SOMETHING_NEW"}"#).expect("parse");
        assert_eq!(key.key_type, GcpKeyType::Unspecified);
        let key: GcpServiceAccountKey =
            serde_json::from_str(r#"{"name":"k","key_type":"USER_MANAGED"}"#).expect("parse");
        assert_eq!(key.key_type, GcpKeyType::UserManaged);
    }

    #[test]
    fn sort_orders_bindings_members_and_lists() {
        let mut inventory = GcpInventory::new(vec![], "t".into(), String::new());
        inventory.projects = vec![
            GcpProject {
                name: "projects/2".into(),
                project_id: "b".into(),
                parent: String::new(),
                display_name: String::new(),
                state: String::new(),
                iam_policy: Some(GcpIamPolicy {
                    version: 1,
                    etag: String::new(),
                    bindings: vec![
                        GcpPolicyBinding {
                            role: "roles/viewer".into(),
                            members: vec!["user:b@x".into(), "user:a@x".into()],
                            condition: None,
                        },
                        GcpPolicyBinding {
                            role: "roles/editor".into(),
                            members: vec![],
                            condition: None,
                        },
                    ],
                }),
            },
            GcpProject {
                name: "projects/1".into(),
                project_id: "a".into(),
                parent: String::new(),
                display_name: String::new(),
                state: String::new(),
                iam_policy: None,
            },
        ];
        inventory.sort();
        assert_eq!(inventory.projects[0].name, "projects/1");
        let policy = inventory
            .policy_of("projects/b")
            .expect("policy by project id");
        assert_eq!(policy.bindings[0].role, "roles/editor");
        assert_eq!(policy.bindings[1].members, ["user:a@x", "user:b@x"]);
    }
}
