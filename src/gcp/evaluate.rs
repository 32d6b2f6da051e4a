//! GCP evaluation: which bindings and deny rules of an identity apply to a resource (attached
//! to it or to any ancestor) and what they say about one permission.

use super::roles::{GcpRole, seed_roles};
use super::{GcpCondition, GcpDenyRule, GcpError};
use crate::access::{AccessAnswer, Verdicts};
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
    let seed = seed_roles()?;
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
                let role: Option<&GcpRole> = inventory
                    .gcp_roles
                    .get(&binding.role)
                    .or_else(|| seed.get(&binding.role));
                let Some(role) = role else {
                    verdicts.unknown.push((
                        grant.id.clone(),
                        format!("role `{}` is not in the role catalog", binding.role),
                    ));
                    continue;
                };
                if role.permissions.contains(permission) {
                    verdicts
                        .allow
                        .push((grant.id.clone(), binding.condition.as_ref().map(describe)));
                } else if role.may_hold_unlisted(permission) {
                    verdicts.unknown.push((
                        grant.id.clone(),
                        format!(
                            "the permission list of role `{}` is incomplete and does not show `{permission}`",
                            role.name
                        ),
                    ));
                }
            }
            GrantBody::GcpDeny(rule) => {
                if ancestry.contains(&rule.attachment_point) && denies(rule, permission) {
                    verdicts
                        .deny
                        .push((grant.id.clone(), rule.condition.as_ref().map(describe)));
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

/// Does the rule deny `permission` (and not except it)?
fn denies(rule: &GcpDenyRule, permission: &str) -> bool {
    let matches = |patterns: &[String]| {
        patterns
            .iter()
            .any(|pattern| glob_match(&iam_form(pattern), permission, Case::Sensitive))
    };
    matches(&rule.denied_permissions) && !matches(&rule.exception_permissions)
}

/// Deny policies name permissions as `<service>.googleapis.com/<resource>.<verb>`; IAM
/// permissions are `<service>.<resource>.<verb>`. Convert the former to the latter (wildcards
/// included: `storage.googleapis.com/*` → `storage.*`).
fn iam_form(pattern: &str) -> String {
    match pattern.split_once(".googleapis.com/") {
        Some((service, rest)) => format!("{service}.{rest}"),
        None => pattern.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessDecision;
    use crate::gcp::GcpBinding;
    use crate::gcp::RoleCoverage;
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
        ] {
            let rule = GcpDenyRule {
                attachment_point: "projects/p".to_string(),
                policy: "d".to_string(),
                denied_permissions: vec![pattern.to_string()],
                exception_permissions: vec![],
                condition: None,
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
    fn seed_roles_are_partial_so_missing_permissions_are_unknown() {
        let (inventory, identity) = inventory_with("roles/storage.objectViewer");
        assert_eq!(
            decision(&inventory, &identity, "storage.objects.get"),
            AccessDecision::Granted
        );
        assert!(matches!(
            decision(&inventory, &identity, "storage.objects.delete"),
            AccessDecision::Unknown { reason } if reason.contains("roles/storage.objectViewer")
        ));
    }

    #[test]
    fn complete_custom_roles_answer_not_granted() {
        let (mut inventory, identity) = inventory_with("projects/p/roles/deployer");
        inventory.gcp_roles.insert(
            "projects/p/roles/deployer".to_string(),
            GcpRole {
                name: "projects/p/roles/deployer".to_string(),
                title: "Deployer".to_string(),
                permissions: BTreeSet::from(["run.services.update".to_string()]),
                coverage: RoleCoverage::Complete,
            },
        );
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
    fn unknown_roles_are_unknown_not_denied() {
        let (inventory, identity) = inventory_with("roles/editor");
        assert!(matches!(
            decision(&inventory, &identity, "storage.objects.get"),
            AccessDecision::Unknown { reason } if reason.contains("roles/editor")
        ));
    }
}
