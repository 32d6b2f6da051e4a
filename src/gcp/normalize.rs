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
//! - Custom roles marked deleted grant nothing
//!   (<https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role>) and are
//!   left out, so a binding to one is an unknown role, not a grant.

use super::inventory::{GcpIamPolicy, GcpInventory};
use super::{GcpBinding, GcpCondition, GcpRole, RoleStage};
use crate::model::{
    Container, Grant, GrantBody, GrantId, Identity, IdentityId, IdentityKind, Inventory,
    InventoryError, Provider,
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
}
