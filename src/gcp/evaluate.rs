//! GCP evaluation: which bindings and deny rules of an identity apply to a resource (attached
//! to it or to any ancestor) and what they say about one permission.

use super::{GcpCondition, GcpDenyRule, GcpError};
use crate::access::{AccessAnswer, Verdicts};
use crate::catalog::gcp::GcpRoleCatalog;
use crate::matching::{Case, glob_match};
use crate::model::{GrantBody, IdentityId, Inventory};
use std::collections::BTreeSet;

/// Is `permission` on `resource` granted to `identity` by its GCP grants?
pub fn evaluate(
    inventory: &Inventory,
    identity: &IdentityId,
    permission: &str,
    resource: &str,
) -> Result<AccessAnswer, GcpError> {
    let catalog =
        GcpRoleCatalog::embedded().map_err(|error| GcpError::Catalog(error.to_string()))?;
    let ancestry: BTreeSet<String> = inventory
        .gcp_hierarchy
        .ancestry(resource)
        .into_iter()
        .collect();
    let mut verdicts = Verdicts::default();
    for grant in inventory.grants_for(identity) {
        match &grant.body {
            GrantBody::Gcp(binding) => {
                if !ancestry.contains(&binding.resource) {
                    continue;
                }
                // A role of the inventory (custom, or predefined as collected) wins over the
                // embedded catalog.
                let granted = match inventory.gcp_roles.get(&binding.role) {
                    Some(role) => role.grants(permission),
                    None => match catalog.role(&binding.role) {
                        Some(role) => catalog.grants(role, permission),
                        None => {
                            verdicts.unknown.push((
                                grant.id.clone(),
                                format!("role `{}` is not in the role catalog", binding.role),
                            ));
                            continue;
                        }
                    },
                };
                if granted {
                    verdicts
                        .allow
                        .push((grant.id.clone(), binding.condition.as_ref().map(describe)));
                }
            }
            GrantBody::GcpDeny(rule) => {
                if ancestry.contains(&rule.attachment_point) && denies(rule, permission) {
                    verdicts.deny.push((grant.id.clone(), describe_deny(rule)));
                }
            }
            // Grants of other providers never apply to a GCP identity.
            GrantBody::Aws(_) | GrantBody::Azure(_) | GrantBody::AzureDeny(_) => {}
        }
    }
    Ok(verdicts.decide())
}

fn describe(condition: &GcpCondition) -> String {
    format!(
        "IAM condition `{}` holds: `{}`",
        condition.title, condition.expression
    )
}

/// When a deny rule applies: always (`None`), under its denial condition, or if the identity
/// is among principals pipeleash cannot list.
fn describe_deny(rule: &GcpDenyRule) -> Option<String> {
    match (&rule.condition, &rule.possible) {
        (None, None) => None,
        (Some(condition), None) => Some(describe(condition)),
        (None, Some(possible)) => Some(possible.clone()),
        (Some(condition), Some(possible)) => {
            Some(format!("{} and {possible}", describe(condition)))
        }
    }
}

/// The identity's deny rules that apply for certain and without a condition: a permission
/// they deny at a resource is denied there whatever the allow policies say.
pub(crate) fn hard_deny_rules<'a>(
    inventory: &'a Inventory,
    identity: &IdentityId,
) -> Vec<&'a GcpDenyRule> {
    inventory
        .grants_for(identity)
        .filter_map(|grant| match &grant.body {
            GrantBody::GcpDeny(rule) if rule.condition.is_none() && rule.possible.is_none() => {
                Some(rule)
            }
            _ => None,
        })
        .collect()
}

/// Is `permission` denied by one of `rules` at a resource whose ancestry (itself included) is
/// `ancestry`?
pub(crate) fn hard_denied(
    rules: &[&GcpDenyRule],
    ancestry: &BTreeSet<String>,
    permission: &str,
) -> bool {
    rules
        .iter()
        .any(|rule| ancestry.contains(&rule.attachment_point) && denies(rule, permission))
}

/// Does the rule deny `permission` (and not except it)?
pub(crate) fn denies(rule: &GcpDenyRule, permission: &str) -> bool {
    let matches = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| glob_match(&iam_form(pattern), permission, Case::Sensitive))
    };
    matches(&rule.denied_permissions) && !matches(&rule.exception_permissions)
}

/// Deny policies name permissions as `<service FQDN>/<resource>.<verb>`; IAM permissions are
/// `<service id>.<resource>.<verb>`. The FQDN is usually the id followed by `.googleapis.com`;
/// Resource Manager is the exception (`cloudresourcemanager.googleapis.com/projects.update`
/// is `resourcemanager.projects.update`)
/// (<https://cloud.google.com/iam/docs/deny-permissions-support>). Convert the former to the
/// latter (wildcards included: `storage.googleapis.com/*` → `storage.*`). A service whose
/// FQDN differs otherwise matches nothing, which leaves the permission granted: a deny is
/// never assumed.
fn iam_form(pattern: &str) -> String {
    match pattern.split_once(".googleapis.com/") {
        Some(("cloudresourcemanager", rest)) => format!("resourcemanager.{rest}"),
        Some((service, rest)) => format!("{service}.{rest}"),
        None => pattern.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessDecision;
    use crate::gcp::{GcpBinding, GcpRole, RoleStage};
    use crate::model::{Grant, GrantId, Identity, IdentityKind, Provider};
    use std::collections::BTreeMap;

    #[test]
    fn deny_permission_forms_table() {
        for (pattern, permission, expected) in [
            (
                "storage.googleapis.com/buckets.delete",
                "storage.buckets.delete",
                true,
            ),
            ("storage.googleapis.com/*", "storage.objects.get", true),
            (
                "storage.googleapis.com/buckets.*",
                "storage.objects.get",
                false,
            ),
            ("storage.buckets.delete", "storage.buckets.delete", true),
            (
                "run.googleapis.com/services.setIamPolicy",
                "run.services.setIamPolicy",
                true,
            ),
            (
                "run.googleapis.com/services.setIamPolicy",
                "run.services.getIamPolicy",
                false,
            ),
            (
                "cloudresourcemanager.googleapis.com/projects.setIamPolicy",
                "resourcemanager.projects.setIamPolicy",
                true,
            ),
            (
                "cloudresourcemanager.googleapis.com/*",
                "resourcemanager.folders.setIamPolicy",
                true,
            ),
            ("iam.googleapis.com/*.*", "iam.roles.delete", true),
        ] {
            let rule = GcpDenyRule {
                attachment_point: "projects/p".to_string(),
                policy: "d".to_string(),
                denied_permissions: vec![pattern.to_string()],
                exception_permissions: vec![],
                condition: None,
                possible: None,
            };
            assert_eq!(
                denies(&rule, permission),
                expected,
                "{pattern} vs {permission}"
            );
        }
    }

    fn inventory_with(role: &str) -> (Inventory, IdentityId) {
        let identity = IdentityId::new(Provider::Gcp, "ci@p.iam.gserviceaccount.com");
        let mut inventory = Inventory::new();
        inventory.add_identity(Identity {
            id: identity.clone(),
            kind: IdentityKind::GcpServiceAccount,
            display_name: "ci".to_string(),
            container: "projects/p".to_string(),
            tags: BTreeMap::new(),
            owner: None,
        });
        inventory
            .add_grant(Grant {
                id: GrantId::new("b1"),
                identity: identity.clone(),
                body: GrantBody::Gcp(GcpBinding {
                    resource: "projects/p".to_string(),
                    role: role.to_string(),
                    member: "serviceAccount:ci@p.iam.gserviceaccount.com".to_string(),
                    condition: None,
                }),
            })
            .unwrap();
        (inventory, identity)
    }

    fn decision(inventory: &Inventory, identity: &IdentityId, permission: &str) -> AccessDecision {
        evaluate(inventory, identity, permission, "projects/p")
            .unwrap()
            .decision
    }

    #[test]
    fn predefined_roles_are_complete_so_unlisted_permissions_are_not_granted() {
        let (inventory, identity) = inventory_with("roles/storage.objectViewer");
        assert_eq!(
            decision(&inventory, &identity, "storage.objects.get"),
            AccessDecision::Granted
        );
        assert_eq!(
            decision(&inventory, &identity, "storage.objects.delete"),
            AccessDecision::NotGranted
        );
    }

    #[test]
    fn basic_roles_come_from_the_catalog_too() {
        let (inventory, identity) = inventory_with("roles/editor");
        assert_eq!(
            decision(&inventory, &identity, "run.services.update"),
            AccessDecision::Granted
        );
        // Editor cannot change IAM policies.
        assert_eq!(
            decision(
                &inventory,
                &identity,
                "resourcemanager.projects.setIamPolicy"
            ),
            AccessDecision::NotGranted
        );
    }

    fn custom(name: &str, stage: RoleStage, permissions: &[&str]) -> GcpRole {
        GcpRole {
            name: name.to_string(),
            title: "Deployer".to_string(),
            stage,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn complete_custom_roles_answer_not_granted() {
        let (mut inventory, identity) = inventory_with("projects/p/roles/deployer");
        let role = custom(
            "projects/p/roles/deployer",
            RoleStage::Ga,
            &["run.services.update"],
        );
        inventory.gcp_roles.insert(role.name.clone(), role);
        assert_eq!(
            decision(&inventory, &identity, "run.services.update"),
            AccessDecision::Granted
        );
        assert_eq!(
            decision(&inventory, &identity, "run.services.delete"),
            AccessDecision::NotGranted
        );
    }

    #[test]
    fn a_disabled_custom_role_grants_nothing() {
        let (mut inventory, identity) = inventory_with("projects/p/roles/deployer");
        let role = custom(
            "projects/p/roles/deployer",
            RoleStage::Disabled,
            &["run.services.update"],
        );
        inventory.gcp_roles.insert(role.name.clone(), role);
        assert_eq!(
            decision(&inventory, &identity, "run.services.update"),
            AccessDecision::NotGranted
        );
    }

    #[test]
    fn a_predefined_role_collected_into_the_inventory_wins_over_the_catalog() {
        let (mut inventory, identity) = inventory_with("roles/storage.objectViewer");
        let role = custom(
            "roles/storage.objectViewer",
            RoleStage::Ga,
            &["storage.objects.list"],
        );
        inventory.gcp_roles.insert(role.name.clone(), role);
        assert_eq!(
            decision(&inventory, &identity, "storage.objects.get"),
            AccessDecision::NotGranted
        );
    }

    #[test]
    fn unknown_roles_are_unknown_not_denied() {
        let (inventory, identity) = inventory_with("roles/no.suchRole");
        assert!(matches!(
            decision(&inventory, &identity, "storage.objects.get"),
            AccessDecision::Unknown { reason } if reason.contains("roles/no.suchRole")
        ));
    }
}
