//! Infrastructure as code against live: the IAM roles a Terraform configuration declares
//! (`terraform show -json` of a state or a saved plan) compared with the roles a snapshot
//! collected. It finds roles that exist live but not in code (made by hand, or by another
//! configuration), roles in code that are not live (not applied yet, or deleted by hand), and
//! roles whose trust policy, inline policies or attached managed policies differ from the
//! code (a console edit).
//!
//! The JSON shape is Terraform's documented one
//! (<https://developer.hashicorp.com/terraform/internals/json-format>): a state's
//! `values.root_module`, a plan's `planned_values.root_module`, each with `resources[]`
//! (`address`, `mode`, `type`, `values`) and `child_modules[]`. The resources read are those
//! of the AWS provider's IAM role family
//! (<https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_role>):
//! `aws_iam_role` (with its `inline_policy` blocks and `managed_policy_arns`),
//! `aws_iam_role_policy`, `aws_iam_role_policy_attachment` and `aws_iam_policy` (to resolve
//! attachments to policies the same configuration creates).
//!
//! Policy documents are compared as IAM reads them, not as text: statements parsed, their
//! value lists sorted, `Sid`s and statement order ignored. Pure: inputs are arguments.

use crate::aws::inventory::AwsAccountInventory;
use crate::aws::policy::{PolicyDocument, parse_policy};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A Terraform JSON document that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IacError {
    #[error(
        "is not JSON: {0}; give the output of `terraform show -json` (a state or a saved plan)"
    )]
    NotJson(String),
    #[error(
        "holds neither `values` (a state) nor `planned_values` (a plan); give the output of \
         `terraform show -json` or `terraform show -json PLANFILE`"
    )]
    NotTerraform,
    #[error("resource `{address}`: {message}")]
    Resource { address: String, message: String },
}

/// One IAM role as the code declares it, with everything attached to it in the code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeRole {
    /// The `aws_iam_role` resource's address (`module.ci.aws_iam_role.deploy`).
    pub address: String,
    pub name: String,
    /// Known after apply: present in a state, often absent in a plan.
    pub arn: Option<String>,
    pub trust_policy: Option<String>,
    /// Inline policy name → document.
    pub inline: BTreeMap<String, String>,
    /// Managed policy ARNs, or `aws_iam_policy` addresses when the ARN is not known yet.
    pub attached: BTreeSet<String>,
}

/// How the code and the live account differ for one role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum IacDifference {
    /// Live, in an account the code manages, but declared nowhere in the code.
    NotInCode {
        arn: String,
    },
    /// Declared, but no live role has its name (or ARN).
    NotLive {
        address: String,
        name: String,
    },
    TrustPolicyDiffers {
        arn: String,
        address: String,
    },
    InlinePolicyOnlyLive {
        arn: String,
        policy: String,
    },
    InlinePolicyOnlyInCode {
        arn: String,
        policy: String,
    },
    InlinePolicyDiffers {
        arn: String,
        policy: String,
    },
    AttachedOnlyLive {
        arn: String,
        policy: String,
    },
    AttachedOnlyInCode {
        arn: String,
        policy: String,
    },
}

impl IacDifference {
    /// A stable kebab-case name of the kind of difference.
    pub fn kind(&self) -> &'static str {
        match self {
            IacDifference::NotInCode { .. } => "not-in-code",
            IacDifference::NotLive { .. } => "not-live",
            IacDifference::TrustPolicyDiffers { .. } => "trust-policy-differs",
            IacDifference::InlinePolicyOnlyLive { .. } => "inline-policy-only-live",
            IacDifference::InlinePolicyOnlyInCode { .. } => "inline-policy-only-in-code",
            IacDifference::InlinePolicyDiffers { .. } => "inline-policy-differs",
            IacDifference::AttachedOnlyLive { .. } => "attached-policy-only-live",
            IacDifference::AttachedOnlyInCode { .. } => "attached-policy-only-in-code",
        }
    }

    /// The role it is about: its ARN when live, else the code's address.
    pub fn role(&self) -> &str {
        match self {
            IacDifference::NotLive { address, .. } => address,
            IacDifference::NotInCode { arn }
            | IacDifference::TrustPolicyDiffers { arn, .. }
            | IacDifference::InlinePolicyOnlyLive { arn, .. }
            | IacDifference::InlinePolicyOnlyInCode { arn, .. }
            | IacDifference::InlinePolicyDiffers { arn, .. }
            | IacDifference::AttachedOnlyLive { arn, .. }
            | IacDifference::AttachedOnlyInCode { arn, .. } => arn,
        }
    }

    /// One sentence for a reviewer.
    pub fn detail(&self) -> String {
        match self {
            IacDifference::NotInCode { .. } => "live in an account the code manages, but no \
                `aws_iam_role` declares it (made by hand, or by another configuration)"
                .to_string(),
            IacDifference::NotLive { name, .. } => format!(
                "declares role `{name}`, which is not live (not applied, or deleted outside \
                 Terraform)"
            ),
            IacDifference::TrustPolicyDiffers { address, .. } => format!(
                "the live trust policy differs from `{address}`'s `assume_role_policy` (edited outside Terraform)"
            ),
            IacDifference::InlinePolicyOnlyLive { policy, .. } => {
                format!("inline policy `{policy}` is live but not in the code")
            }
            IacDifference::InlinePolicyOnlyInCode { policy, .. } => {
                format!("inline policy `{policy}` is in the code but not live")
            }
            IacDifference::InlinePolicyDiffers { policy, .. } => {
                format!("inline policy `{policy}` differs from the code (edited outside Terraform)")
            }
            IacDifference::AttachedOnlyLive { policy, .. } => {
                format!("managed policy `{policy}` is attached live but not in the code")
            }
            IacDifference::AttachedOnlyInCode { policy, .. } => {
                format!("managed policy `{policy}` is attached in the code but not live")
            }
        }
    }
}

/// Every IAM role of a `terraform show -json` document, sorted by address.
///
/// # Errors
/// The text is not JSON or not Terraform's shape, or a role resource lacks its `name`.
pub fn parse_terraform(text: &str) -> Result<Vec<CodeRole>, IacError> {
    let document: Value =
        serde_json::from_str(text).map_err(|error| IacError::NotJson(error.to_string()))?;
    let root = document
        .get("values")
        .or_else(|| document.get("planned_values"))
        .and_then(|values| values.get("root_module"))
        .ok_or(IacError::NotTerraform)?;
    let mut resources = Vec::new();
    collect_resources(root, &mut resources);
    let policy_arns: BTreeMap<&str, &str> = resources
        .iter()
        .filter(|(kind, _, _)| *kind == "aws_iam_policy")
        .filter_map(|(_, address, values)| Some((address.as_str(), values.get("arn")?.as_str()?)))
        .collect();
    let mut roles: BTreeMap<String, CodeRole> = BTreeMap::new();
    for (kind, address, values) in &resources {
        if *kind != "aws_iam_role" {
            continue;
        }
        let name = string(values, "name").ok_or_else(|| IacError::Resource {
            address: address.clone(),
            message: "has no `name`; a role whose name Terraform generates is known only \
                      after apply: give a state (`terraform show -json`) instead of a plan"
                .to_string(),
        })?;
        let mut role = CodeRole {
            address: address.clone(),
            name: name.clone(),
            arn: string(values, "arn"),
            trust_policy: string(values, "assume_role_policy"),
            ..CodeRole::default()
        };
        for block in values
            .get("inline_policy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(name), Some(policy)) = (string(block, "name"), string(block, "policy"))
                && !name.is_empty()
            {
                role.inline.insert(name, policy);
            }
        }
        for arn in values
            .get("managed_policy_arns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            role.attached.insert(arn.to_string());
        }
        roles.insert(name, role);
    }
    for (kind, address, values) in &resources {
        let Some(role_name) = string(values, "role") else {
            continue;
        };
        let Some(role) = roles.get_mut(&role_name) else {
            continue;
        };
        match *kind {
            "aws_iam_role_policy" => {
                if let (Some(name), Some(policy)) =
                    (string(values, "name"), string(values, "policy"))
                {
                    role.inline.insert(name, policy);
                }
            }
            "aws_iam_role_policy_attachment" => {
                let arn = string(values, "policy_arn").or_else(|| {
                    // In a plan, an ARN of a policy created by the same apply is unknown.
                    policy_arns
                        .get(address.as_str())
                        .map(|arn| (*arn).to_string())
                });
                if let Some(arn) = arn {
                    role.attached.insert(arn);
                }
            }
            _ => {}
        }
    }
    let mut roles: Vec<CodeRole> = roles.into_values().collect();
    roles.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(roles)
}

fn string(values: &Value, key: &str) -> Option<String> {
    values.get(key)?.as_str().map(str::to_string)
}

/// The managed resources of a module and its children: (type, address, values).
fn collect_resources<'a>(module: &'a Value, out: &mut Vec<(&'a str, String, &'a Value)>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if resource.get("mode").and_then(Value::as_str) != Some("managed") {
            continue;
        }
        let (Some(kind), Some(address), Some(values)) = (
            resource.get("type").and_then(Value::as_str),
            resource.get("address").and_then(Value::as_str),
            resource.get("values"),
        ) else {
            continue;
        };
        out.push((kind, address.to_string(), values));
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_resources(child, out);
    }
}

/// A document as IAM reads it: each statement without its `Sid`, value lists sorted (actions
/// in lower case: IAM matches them case-insensitively), statements sorted. `None` when the
/// text does not parse; two unparseable texts are then compared as text.
fn canonical(text: &str) -> Result<Vec<String>, String> {
    let document: PolicyDocument = match parse_policy(text) {
        Ok(document) => document,
        Err(_) => return Err(text.trim().to_string()),
    };
    let mut statements: Vec<String> = document
        .statements
        .iter()
        .map(|statement| {
            let mut json = statement.to_json();
            if let Some(object) = json.as_object_mut() {
                object.remove("Sid");
                for (key, value) in object.iter_mut() {
                    sort_lists(value, key == "Action" || key == "NotAction");
                }
                object.sort_keys();
            }
            json.to_string()
        })
        .collect();
    statements.sort();
    Ok(statements)
}

fn sort_lists(value: &mut Value, lower: bool) {
    match value {
        Value::Array(items) => {
            for item in items.iter_mut() {
                sort_lists(item, lower);
            }
            if lower {
                for item in items.iter_mut() {
                    if let Value::String(text) = item {
                        *text = text.to_ascii_lowercase();
                    }
                }
            }
            items.sort_by_key(|item| item.to_string());
            items.dedup();
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                sort_lists(item, false);
            }
            map.sort_keys();
        }
        Value::String(text) if lower => *text = text.to_ascii_lowercase(),
        _ => {}
    }
}

fn same_document(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// The differences between the roles the code declares and the live accounts, sorted.
/// Live roles are matched by ARN when the code knows it, else by name (a name held by roles
/// of several accounts matches none: the code is then compared by ARN only, from a state).
/// Roles not in code are reported only in the accounts the code's matched roles live in, and
/// never for service-linked roles (path `/aws-service-role/`), which AWS manages.
pub fn compare(code: &[CodeRole], live: &[AwsAccountInventory]) -> Vec<IacDifference> {
    let live_roles: Vec<(&str, &crate::aws::inventory::AwsRole)> = live
        .iter()
        .flat_map(|account| {
            account
                .roles
                .iter()
                .map(move |role| (account.account_id.as_str(), role))
        })
        .collect();
    let mut differences = Vec::new();
    let mut matched: BTreeSet<&str> = BTreeSet::new();
    let mut accounts: BTreeSet<&str> = BTreeSet::new();
    for role in code {
        let candidates: Vec<&(&str, &crate::aws::inventory::AwsRole)> = match &role.arn {
            Some(arn) => live_roles
                .iter()
                .filter(|(_, live)| live.arn == *arn)
                .collect(),
            None => live_roles
                .iter()
                .filter(|(_, live)| live.name == role.name)
                .collect(),
        };
        let [(account, live)] = candidates.as_slice() else {
            differences.push(IacDifference::NotLive {
                address: role.address.clone(),
                name: role.name.clone(),
            });
            continue;
        };
        matched.insert(live.arn.as_str());
        accounts.insert(account);
        let arn = live.arn.clone();
        if let (Some(code_trust), Some(live_trust)) = (&role.trust_policy, &live.trust_policy)
            && !same_document(code_trust, live_trust)
        {
            differences.push(IacDifference::TrustPolicyDiffers {
                arn: arn.clone(),
                address: role.address.clone(),
            });
        }
        let live_inline: BTreeMap<&str, &str> = live
            .inline_policies
            .iter()
            .map(|policy| (policy.name.as_str(), policy.document.as_str()))
            .collect();
        for (name, document) in &live_inline {
            match role.inline.get(*name) {
                None => differences.push(IacDifference::InlinePolicyOnlyLive {
                    arn: arn.clone(),
                    policy: (*name).to_string(),
                }),
                Some(code_document) if !same_document(code_document, document) => {
                    differences.push(IacDifference::InlinePolicyDiffers {
                        arn: arn.clone(),
                        policy: (*name).to_string(),
                    });
                }
                Some(_) => {}
            }
        }
        for name in role.inline.keys() {
            if !live_inline.contains_key(name.as_str()) {
                differences.push(IacDifference::InlinePolicyOnlyInCode {
                    arn: arn.clone(),
                    policy: name.clone(),
                });
            }
        }
        let live_attached: BTreeSet<&str> = live
            .attached_policies
            .iter()
            .map(|policy| policy.arn.as_str())
            .collect();
        for policy in &live_attached {
            if !role.attached.contains(*policy) {
                differences.push(IacDifference::AttachedOnlyLive {
                    arn: arn.clone(),
                    policy: (*policy).to_string(),
                });
            }
        }
        for policy in &role.attached {
            if !live_attached.contains(policy.as_str()) {
                differences.push(IacDifference::AttachedOnlyInCode {
                    arn: arn.clone(),
                    policy: policy.clone(),
                });
            }
        }
    }
    for (account, live) in &live_roles {
        if accounts.contains(account)
            && !matched.contains(live.arn.as_str())
            && !live.path.starts_with("/aws-service-role/")
        {
            differences.push(IacDifference::NotInCode {
                arn: live.arn.clone(),
            });
        }
    }
    differences.sort();
    differences.dedup();
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_compare_as_iam_reads_them() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","S3:PutObject"],"Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Resource":["*"],"Action":["s3:putobject","s3:GetObject"]}],"Version":"2012-10-17"}"#;
        assert!(same_document(a, b));
        let wider = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(!same_document(a, wider));
    }

    #[test]
    fn a_plan_without_values_or_a_role_without_name_is_an_error() {
        assert_eq!(parse_terraform("{}"), Err(IacError::NotTerraform));
        assert!(matches!(
            parse_terraform("not json"),
            Err(IacError::NotJson(_))
        ));
        let unnamed = r#"{"planned_values":{"root_module":{"resources":[
            {"address":"aws_iam_role.x","mode":"managed","type":"aws_iam_role","values":{}}]}}}"#;
        assert!(matches!(
            parse_terraform(unnamed),
            Err(IacError::Resource { .. })
        ));
    }
}
