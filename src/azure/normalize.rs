//! Azure inventory (the collector's raw record, [`AzureInventory`]) → the neutral model's
//! [`Inventory`]: service principals and managed identities as identities, their federated
//! identity credentials and secrets as trusts, role assignments and deny assignments as
//! grants, management groups and subscriptions as containers and as the hierarchy role
//! assignments are inherited through, custom role definitions by GUID.
//!
//! Rules:
//! - An identity's id is `azure:<object id>` in lower case: the `principalId` of its role
//!   assignments and the `oid` claim of its tokens, which the Activity Log reader
//!   ([`crate::azure::activity_log`]) lower-cases the same way (object ids are GUIDs, compared
//!   case-insensitively).
//! - User-assigned managed identities (ARM) become [`IdentityKind::AzureManagedIdentity`],
//!   living in their subscription; their Graph service principal (type `ManagedIdentity`) is
//!   the same principal and is not added twice. A system-assigned managed identity becomes
//!   one when it holds a role assignment.
//! - Service principals of applications become [`IdentityKind::AzureServicePrincipal`] when
//!   the application is registered in the collected tenant (`appOwnerOrganizationId`), or
//!   when they hold a role assignment or a credential; Microsoft's and other publishers'
//!   first-party service principals without any are not pipeline identities and are left
//!   out. A role assignment to a `ServicePrincipal` that Graph did not return (`--no-graph`)
//!   still gives an identity, named by its object id, so no grant is lost.
//! - Role assignments to users and groups are not grants of an identity (group membership is
//!   not collected); the minimizer reports what such a grant gives as granted elsewhere.
//! - A deny assignment applies to each identity it names, or to every identity when it names
//!   `Everyone` (the all-zero object id, type `SystemDefined`), minus its
//!   `excludePrincipals`. Source:
//!   <https://learn.microsoft.com/en-us/azure/role-based-access-control/deny-assignments#deny-assignment-properties>.
//! - Trusts: each federated identity credential (of the identity's application, or of the
//!   managed identity) is a [`Trust::Federated`] with its issuer and audiences; its `subject`
//!   is a `sub` condition compared exactly ([`ClaimOperator::Equals`], as Entra matches it:
//!   <https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation#how-it-works>),
//!   and a flexible credential's `claimsMatchingExpression` is kept verbatim as a
//!   [`ClaimOperator::Expression`] on the claim it looks up
//!   (<https://learn.microsoft.com/en-us/entra/workload-id/workload-identities-flexible-federated-identity-credentials>).
//!   Each client secret and certificate (of the application or of the service principal) is
//!   a [`Trust::LongLivedKey`] with its key id and start date.

use super::inventory::{
    AzureInventory, ClaimsMatchingExpression, KeyCredential, PasswordCredential, PermissionBlock,
};
use super::{
    AzureAssignment, AzureDenyAssignment, AzurePermissionBlock, AzureRoleDefinition, AzureScope,
    RoleType, role_definition_key,
};
use crate::model::{
    ClaimCondition, ClaimOperator, Container, FederatedTrust, Grant, GrantBody, GrantId, Identity,
    IdentityId, IdentityKind, Inventory, InventoryError, Provider, Trust,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// The object id Azure uses for `Everyone` in deny assignments.
pub const EVERYONE: &str = "00000000-0000-0000-0000-000000000000";

/// The id of the Azure identity with object id `object_id` (lower-cased).
pub fn identity_id(object_id: &str) -> IdentityId {
    IdentityId::new(Provider::Azure, &object_id.trim().to_ascii_lowercase())
}

/// Normalize one Azure inventory (one tenant) into `inventory`, in the order the identities
/// must be known: containers and custom roles, then identities (user-assigned managed
/// identities, service principals from Graph, service principals only role assignments name)
/// with their trusts, then the role and deny assignments of those identities.
///
/// Errors: [`InventoryError::DuplicateGrant`] when the same role or deny assignment is
/// already in `inventory` (the same tenant normalized twice).
pub fn normalize_into(
    inventory: &mut Inventory,
    raw: &AzureInventory,
) -> Result<(), InventoryError> {
    let tenant = raw
        .tenant_id
        .clone()
        .unwrap_or_default()
        .to_ascii_lowercase();
    add_containers(inventory, raw);
    add_role_definitions(inventory, raw);
    let mut known: BTreeSet<IdentityId> = BTreeSet::new();
    add_managed_identities(inventory, raw, &tenant, &mut known);
    add_service_principals(inventory, raw, &tenant, &mut known);
    add_unlisted_service_principals(inventory, raw, &tenant, &mut known);
    for trusts in inventory.trusts.values_mut() {
        trusts.sort();
        trusts.dedup();
    }
    add_role_assignments(inventory, raw, &known)?;
    add_deny_assignments(inventory, raw, &known)
}

/// Custom role definitions (built-in ones come from the catalog).
fn add_role_definitions(inventory: &mut Inventory, raw: &AzureInventory) {
    for definition in &raw.role_definitions {
        let converted = AzureRoleDefinition {
            id: role_definition_key(&definition.name),
            role_name: definition.properties.role_name.clone(),
            role_type: if definition.properties.role_type == "BuiltInRole" {
                RoleType::BuiltIn
            } else {
                RoleType::Custom
            },
            permissions: definition
                .properties
                .permissions
                .iter()
                .map(block)
                .collect(),
            assignable_scopes: definition.properties.assignable_scopes.clone(),
        };
        inventory
            .azure_role_definitions
            .insert(converted.id.clone(), converted);
    }
}

/// User-assigned managed identities, with their federated identity credentials.
fn add_managed_identities(
    inventory: &mut Inventory,
    raw: &AzureInventory,
    tenant: &str,
    known: &mut BTreeSet<IdentityId>,
) {
    for managed in &raw.user_assigned_identities {
        let Some(principal) = managed.properties.principal_id.as_deref() else {
            continue;
        };
        let id = identity_id(principal);
        inventory.add_identity(Identity {
            id: id.clone(),
            kind: IdentityKind::AzureManagedIdentity,
            display_name: managed.name.clone(),
            container: AzureScope::new(&managed.id)
                .subscription()
                .map(|scope| scope.to_string())
                .unwrap_or_else(|| tenant.to_owned()),
            tags: BTreeMap::new(),
            owner: None,
        });
        for credential in &managed.federated_identity_credentials {
            let properties = &credential.properties;
            inventory.add_trust(
                id.clone(),
                federated(
                    &properties.issuer,
                    &properties.audiences,
                    properties.subject.as_deref(),
                    properties.claims_matching_expression.as_ref(),
                    &credential.id,
                ),
            );
        }
        known.insert(id);
    }
}

/// Service principals from Microsoft Graph (not those of managed identities already added)
/// that hold a role assignment, or belong to this tenant's applications, or hold credentials;
/// with their application's federated identity credentials, client secrets and
/// certificates as trusts.
fn add_service_principals(
    inventory: &mut Inventory,
    raw: &AzureInventory,
    tenant: &str,
    known: &mut BTreeSet<IdentityId>,
) {
    let assigned: BTreeSet<String> = raw
        .role_assignments
        .iter()
        .map(|assignment| assignment.properties.principal_id.to_ascii_lowercase())
        .collect();
    let applications: BTreeMap<String, &super::inventory::Application> = raw
        .applications
        .iter()
        .map(|application| (application.app_id.to_ascii_lowercase(), application))
        .collect();
    for principal in &raw.service_principals {
        let id = identity_id(&principal.id);
        if known.contains(&id) {
            continue;
        }
        let object_id = principal.id.to_ascii_lowercase();
        let application = principal
            .app_id
            .as_deref()
            .and_then(|app_id| applications.get(&app_id.to_ascii_lowercase()))
            .copied();
        let managed = principal.service_principal_type.as_deref() == Some("ManagedIdentity");
        let has_credentials = !principal.password_credentials.is_empty()
            || !principal.key_credentials.is_empty()
            || application.is_some_and(|application| {
                !application.password_credentials.is_empty()
                    || !application.key_credentials.is_empty()
                    || !application.federated_identity_credentials.is_empty()
            });
        let ours = principal
            .app_owner_organization_id
            .as_deref()
            .is_some_and(|owner| !tenant.is_empty() && owner.eq_ignore_ascii_case(tenant));
        let keep = assigned.contains(&object_id) || (!managed && (ours || has_credentials));
        if !keep {
            continue;
        }
        let container = if managed {
            principal
                .alternative_names
                .iter()
                .find_map(|name| AzureScope::new(name).subscription())
                .map(|scope| scope.to_string())
                .unwrap_or_else(|| tenant.to_owned())
        } else {
            tenant.to_owned()
        };
        inventory.add_identity(Identity {
            id: id.clone(),
            kind: if managed {
                IdentityKind::AzureManagedIdentity
            } else {
                IdentityKind::AzureServicePrincipal
            },
            display_name: principal
                .display_name
                .clone()
                .or_else(|| application.and_then(|a| a.display_name.clone()))
                .unwrap_or_else(|| object_id.clone()),
            container,
            tags: BTreeMap::new(),
            owner: None,
        });
        if let Some(application) = application {
            for credential in &application.federated_identity_credentials {
                inventory.add_trust(
                    id.clone(),
                    federated(
                        &credential.issuer,
                        &credential.audiences,
                        credential.subject.as_deref(),
                        credential.claims_matching_expression.as_ref(),
                        &format!(
                            "applications/{}/federatedIdentityCredentials/{}",
                            application.id, credential.id
                        ),
                    ),
                );
            }
        }
        let passwords = application
            .map(|a| a.password_credentials.as_slice())
            .unwrap_or_default()
            .iter()
            .chain(&principal.password_credentials);
        for credential in passwords {
            inventory.add_trust(id.clone(), password_key(credential));
        }
        let certificates = application
            .map(|a| a.key_credentials.as_slice())
            .unwrap_or_default()
            .iter()
            .chain(&principal.key_credentials);
        for credential in certificates {
            inventory.add_trust(id.clone(), certificate_key(credential));
        }
        known.insert(id);
    }
}

/// Service principals named by role assignments but not returned by Graph (`--no-graph`, or
/// Graph refused): known by object id only.
fn add_unlisted_service_principals(
    inventory: &mut Inventory,
    raw: &AzureInventory,
    tenant: &str,
    known: &mut BTreeSet<IdentityId>,
) {
    for assignment in &raw.role_assignments {
        let properties = &assignment.properties;
        let id = identity_id(&properties.principal_id);
        if known.contains(&id) || properties.principal_type.as_deref() != Some("ServicePrincipal") {
            continue;
        }
        inventory.add_identity(Identity {
            id: id.clone(),
            kind: IdentityKind::AzureServicePrincipal,
            display_name: properties.principal_id.to_ascii_lowercase(),
            container: tenant.to_owned(),
            tags: BTreeMap::new(),
            owner: None,
        });
        known.insert(id);
    }
}

/// The role assignments of the known identities.
fn add_role_assignments(
    inventory: &mut Inventory,
    raw: &AzureInventory,
    known: &BTreeSet<IdentityId>,
) -> Result<(), InventoryError> {
    for assignment in &raw.role_assignments {
        let properties = &assignment.properties;
        let id = identity_id(&properties.principal_id);
        if !known.contains(&id) {
            continue;
        }
        inventory.add_grant(Grant {
            id: GrantId::new(assignment.id.clone()),
            identity: id,
            body: GrantBody::Azure(AzureAssignment {
                name: assignment.id.clone(),
                scope: AzureScope::new(&properties.scope),
                role_definition_id: properties.role_definition_id.clone(),
                condition: properties.condition.clone(),
            }),
        })?;
    }
    Ok(())
}

/// Deny assignments, as a grant on each known identity they name (or on all, for
/// `Everyone`) and do not exclude.
fn add_deny_assignments(
    inventory: &mut Inventory,
    raw: &AzureInventory,
    known: &BTreeSet<IdentityId>,
) -> Result<(), InventoryError> {
    for deny in &raw.deny_assignments {
        let properties = &deny.properties;
        let lower = |principals: &[super::inventory::DenyPrincipal]| -> BTreeSet<String> {
            principals
                .iter()
                .map(|principal| principal.id.to_ascii_lowercase())
                .collect()
        };
        let named = lower(&properties.principals);
        let excluded = lower(&properties.exclude_principals);
        let everyone = named.contains(EVERYONE);
        for id in known {
            let object_id = id.native();
            if excluded.contains(object_id) || !(everyone || named.contains(object_id)) {
                continue;
            }
            inventory.add_grant(Grant {
                id: GrantId::new(format!("{}#{object_id}", deny.id)),
                identity: id.clone(),
                body: GrantBody::AzureDeny(AzureDenyAssignment {
                    name: deny.id.clone(),
                    scope: AzureScope::new(&properties.scope),
                    permissions: properties.permissions.iter().map(block).collect(),
                    does_not_apply_to_child_scopes: properties.do_not_apply_to_child_scopes,
                }),
            })?;
        }
    }
    Ok(())
}

/// Management groups and subscriptions as containers and as the hierarchy; resource groups
/// named by role assignment scopes as containers.
fn add_containers(inventory: &mut Inventory, raw: &AzureInventory) {
    let mut add = |id: String, display_name: Option<String>| {
        inventory.containers.insert(
            (Provider::Azure, id.clone()),
            Container {
                provider: Provider::Azure,
                id,
                display_name,
            },
        );
    };
    for group in &raw.management_groups {
        add(
            AzureScope::new(&group.id).to_string(),
            group.display_name.clone(),
        );
    }
    for subscription in &raw.subscriptions {
        add(
            AzureScope::new(&subscription.id).to_string(),
            subscription.display_name.clone(),
        );
    }
    for assignment in &raw.role_assignments {
        let scope = AzureScope::new(&assignment.properties.scope);
        let segments: Vec<&str> = scope
            .as_str()
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        if segments.len() >= 4
            && segments[0].eq_ignore_ascii_case("subscriptions")
            && segments[2].eq_ignore_ascii_case("resourceGroups")
        {
            add(format!("/{}", segments[..4].join("/")), None);
        }
    }
    for group in &raw.management_groups {
        if let Some(parent) = &group.parent_id {
            inventory
                .azure_hierarchy
                .set_parent(&AzureScope::new(&group.id), AzureScope::new(parent));
        }
    }
    for subscription in &raw.subscriptions {
        if let Some(parent) = &subscription.management_group_id {
            inventory
                .azure_hierarchy
                .set_parent(&AzureScope::new(&subscription.id), AzureScope::new(parent));
        }
    }
}

fn block(raw: &PermissionBlock) -> AzurePermissionBlock {
    AzurePermissionBlock {
        actions: raw.actions.clone(),
        not_actions: raw.not_actions.clone(),
        data_actions: raw.data_actions.clone(),
        not_data_actions: raw.not_data_actions.clone(),
        condition: raw.condition.clone(),
        condition_version: raw.condition_version.clone(),
    }
}

/// The claim a flexible credential's expression looks up (`claims['sub']` → `sub`), when it
/// looks up exactly one; `claimsMatchingExpression` otherwise.
fn expression_claim(expression: &str) -> String {
    let mut claims = BTreeSet::new();
    let mut rest = expression;
    while let Some(start) = rest.find("claims[") {
        let after = &rest[start + "claims[".len()..];
        let quote = after.chars().next();
        let name = quote
            .filter(|c| *c == '\'' || *c == '"')
            .and_then(|q| after[1..].find(q).map(|end| &after[1..1 + end]));
        if let Some(name) = name {
            claims.insert(name.to_string());
        }
        rest = after;
    }
    match (claims.len(), claims.into_iter().next()) {
        (1, Some(claim)) => claim,
        _ => "claimsMatchingExpression".to_string(),
    }
}

fn federated(
    issuer: &str,
    audiences: &[String],
    subject: Option<&str>,
    expression: Option<&ClaimsMatchingExpression>,
    source: &str,
) -> Trust {
    let mut conditions = Vec::new();
    if let Some(subject) = subject.filter(|s| !s.is_empty()) {
        conditions.push(ClaimCondition::new(
            "sub",
            ClaimOperator::Equals,
            vec![subject.to_string()],
        ));
    }
    if let Some(expression) = expression {
        conditions.push(ClaimCondition::new(
            &expression_claim(&expression.value),
            ClaimOperator::Expression,
            vec![expression.value.clone()],
        ));
    }
    let mut audiences = audiences.to_vec();
    audiences.sort();
    audiences.dedup();
    Trust::Federated(FederatedTrust {
        issuer: issuer.to_string(),
        audiences,
        conditions,
        source: source.to_string(),
    })
}

fn date(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.with_timezone(&Utc))
}

fn password_key(credential: &PasswordCredential) -> Trust {
    Trust::LongLivedKey {
        key_id: credential.key_id.clone(),
        created: date(credential.start_date_time.as_deref()),
        last_used: None,
    }
}

fn certificate_key(credential: &KeyCredential) -> Trust {
    Trust::LongLivedKey {
        key_id: credential.key_id.clone(),
        created: date(credential.start_date_time.as_deref()),
        last_used: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessDecision;
    use crate::azure::{Plane, evaluate};

    const SUB: &str = "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000001";
    const SP: &str = "0a1b2c3d-0000-4000-8000-000000000001";
    const MI: &str = "0a1b2c3d-0000-4000-8000-000000000002";
    const OTHER: &str = "0a1b2c3d-0000-4000-8000-000000000003";

    fn raw() -> AzureInventory {
        let text = format!(
            r#"{{
          "format_version": 1, "tenant_id": "7c1d2e3f-0000-4000-8000-00000000a1b2",
          "collected_at": "2026-11-21T00:00:00Z", "targets": ["{SUB}"],
          "management_groups": [
            {{"id": "/providers/Microsoft.Management/managementGroups/acme", "name": "acme"}}],
          "subscriptions": [{{"id": "{SUB}", "subscriptionId": "11111111-aaaa-4bbb-8ccc-000000000001",
            "displayName": "acme-prod",
            "managementGroupId": "/providers/Microsoft.Management/managementGroups/acme"}}],
          "role_assignments": [
            {{"id": "{SUB}/providers/Microsoft.Authorization/roleAssignments/r1", "name": "r1",
              "type": "Microsoft.Authorization/roleAssignments",
              "properties": {{"scope": "{SUB}/resourceGroups/rg-web",
                "roleDefinitionId": "{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
                "principalId": "{SP_UPPER}", "principalType": "ServicePrincipal"}}}},
            {{"id": "/providers/Microsoft.Management/managementGroups/acme/providers/Microsoft.Authorization/roleAssignments/r2",
              "name": "r2", "type": "Microsoft.Authorization/roleAssignments",
              "properties": {{"scope": "/providers/Microsoft.Management/managementGroups/acme",
                "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000001",
                "principalId": "{MI}", "principalType": "ServicePrincipal",
                "condition": "@Resource[Microsoft.Web/sites:name] StringEquals 'web'",
                "conditionVersion": "2.0"}}}},
            {{"id": "{SUB}/providers/Microsoft.Authorization/roleAssignments/r3", "name": "r3",
              "type": "Microsoft.Authorization/roleAssignments",
              "properties": {{"scope": "{SUB}",
                "roleDefinitionId": "{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
                "principalId": "9999aaaa-0000-4000-8000-000000000009", "principalType": "User"}}}}],
          "role_definitions": [{{"id": "/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000001",
            "name": "c0ffee00-0000-4000-8000-000000000001", "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {{"roleName": "site deployer", "type": "CustomRole",
              "permissions": [{{"actions": ["Microsoft.Web/sites/*"], "notActions": ["Microsoft.Web/sites/delete"]}}],
              "assignableScopes": ["/providers/Microsoft.Management/managementGroups/acme"]}}}}],
          "deny_assignments": [{{"id": "{SUB}/providers/Microsoft.Authorization/denyAssignments/d1", "name": "d1",
            "properties": {{"scope": "{SUB}/resourceGroups/rg-web", "permissions": [{{"actions": ["*/delete"]}}],
              "principals": [{{"id": "{EVERYONE}", "type": "SystemDefined"}}],
              "excludePrincipals": [{{"id": "{MI}", "type": "ServicePrincipal"}}]}}}}],
          "user_assigned_identities": [{{"id": "{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-deploy",
            "name": "id-deploy", "properties": {{"principalId": "{MI}", "clientId": "c1"}},
            "federatedIdentityCredentials": [{{"id": "{SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-deploy/federatedIdentityCredentials/main",
              "name": "main", "properties": {{"issuer": "https://token.actions.githubusercontent.com",
                "subject": "repo:acme/web:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}}}}]}}],
          "service_principals": [
            {{"id": "{SP}", "appId": "app-1", "displayName": "gha-web", "servicePrincipalType": "Application",
              "appOwnerOrganizationId": "7c1d2e3f-0000-4000-8000-00000000a1b2"}},
            {{"id": "{MI}", "appId": "app-mi", "displayName": "id-deploy", "servicePrincipalType": "ManagedIdentity"}},
            {{"id": "{OTHER}", "appId": "app-ms", "displayName": "Microsoft Graph", "servicePrincipalType": "Application",
              "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}}],
          "applications": [{{"id": "obj-app-1", "appId": "APP-1", "displayName": "gha-web",
            "passwordCredentials": [{{"keyId": "k1", "startDateTime": "2025-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}}],
            "federatedIdentityCredentials": [
              {{"id": "f1", "name": "pr", "issuer": "https://token.actions.githubusercontent.com",
                "subject": "repo:acme/web:pull_request", "audiences": ["api://AzureADTokenExchange"]}},
              {{"id": "f2", "name": "any", "issuer": "https://token.actions.githubusercontent.com",
                "audiences": ["api://AzureADTokenExchange"],
                "claimsMatchingExpression": {{"value": "claims['sub'] matches 'repo:acme/*'", "languageVersion": 1}}}}]}}]
        }}"#,
            SP_UPPER = SP.to_ascii_uppercase()
        );
        serde_json::from_str(&text).unwrap()
    }

    fn normalized() -> Inventory {
        let mut inventory = Inventory::new();
        normalize_into(&mut inventory, &raw()).unwrap();
        inventory
    }

    #[test]
    fn service_principals_and_managed_identities_are_identities_by_lower_case_object_id() {
        let inventory = normalized();
        let ids: Vec<&str> = inventory
            .identities
            .keys()
            .map(IdentityId::as_str)
            .collect();
        assert_eq!(
            ids,
            [format!("azure:{SP}"), format!("azure:{MI}")],
            "first-party service principals and users are not identities"
        );
        assert_eq!(
            inventory.identities[&identity_id(SP)].kind,
            IdentityKind::AzureServicePrincipal
        );
        let managed = &inventory.identities[&identity_id(MI)];
        assert_eq!(managed.kind, IdentityKind::AzureManagedIdentity);
        assert_eq!(managed.display_name, "id-deploy");
        assert_eq!(managed.container, SUB);
        // The same id the Activity Log reader gives a caller with this `oid`.
        let mut ingestion = crate::azure::activity_log::Ingestion::new(Default::default());
        let record = format!(
            r#"{{"time":"2026-11-20T10:00:00Z","resultType":"Success","correlationId":"c","identity":{{"authorization":{{"action":"Microsoft.Web/sites/write","scope":"{SUB}"}},"claims":{{"oid":"{}"}}}}}}"#,
            SP.to_ascii_uppercase()
        );
        ingestion.add_bytes("x.json", record.as_bytes());
        let usage = ingestion.finish();
        assert!(usage.principals.contains_key(&identity_id(SP)));
    }

    #[test]
    fn role_assignments_become_grants_through_the_management_group_with_conditions_kept() {
        let inventory = normalized();
        assert_eq!(
            inventory
                .grants()
                .filter(|g| matches!(g.body, GrantBody::Azure(_)))
                .count(),
            2,
            "the user's assignment is not a grant"
        );
        let site = format!("{SUB}/resourceGroups/rg-web/providers/Microsoft.Web/sites/web");
        let decide = |id: &str, action: &str, at: &str| {
            evaluate(&inventory, &identity_id(id), action, Plane::Control, at)
                .unwrap()
                .decision
        };
        assert_eq!(
            decide(SP, "Microsoft.Web/sites/write", &site),
            AccessDecision::Granted
        );
        // Inherited from the management group above the subscription, with its condition.
        assert!(matches!(
            decide(MI, "Microsoft.Web/sites/write", &site),
            AccessDecision::Conditional { .. }
        ));
        assert_eq!(
            decide(MI, "Microsoft.Web/sites/delete", &site),
            AccessDecision::NotGranted,
            "the custom role's notActions are kept"
        );
        assert!(
            inventory
                .containers
                .contains_key(&(Provider::Azure, format!("{SUB}/resourceGroups/rg-web")))
        );
    }

    #[test]
    fn a_deny_assignment_for_everyone_applies_to_every_identity_but_the_excluded() {
        let inventory = normalized();
        let denies: Vec<&Grant> = inventory
            .grants()
            .filter(|g| matches!(g.body, GrantBody::AzureDeny(_)))
            .collect();
        assert_eq!(denies.len(), 1);
        assert_eq!(denies[0].identity, identity_id(SP));
        let decision = evaluate(
            &inventory,
            &identity_id(SP),
            "Microsoft.Web/sites/delete",
            Plane::Control,
            &format!("{SUB}/resourceGroups/rg-web/providers/Microsoft.Web/sites/web"),
        )
        .unwrap()
        .decision;
        assert_eq!(decision, AccessDecision::Denied);
    }

    #[test]
    fn federated_credentials_and_secrets_become_trusts() {
        let inventory = normalized();
        let trusts = &inventory.trusts[&identity_id(SP)];
        let federated: Vec<&FederatedTrust> = trusts
            .iter()
            .filter_map(|t| match t {
                Trust::Federated(f) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(federated.len(), 2);
        let exact = federated
            .iter()
            .find(|f| f.conditions[0].operator == ClaimOperator::Equals)
            .unwrap();
        assert_eq!(exact.conditions[0].claim, "sub");
        assert_eq!(exact.conditions[0].values, ["repo:acme/web:pull_request"]);
        assert_eq!(exact.audiences, ["api://AzureADTokenExchange"]);
        let flexible = federated
            .iter()
            .find(|f| f.conditions[0].operator == ClaimOperator::Expression)
            .unwrap();
        assert_eq!(flexible.conditions[0].claim, "sub");
        assert_eq!(
            flexible.conditions[0].values,
            ["claims['sub'] matches 'repo:acme/*'"]
        );
        assert!(trusts.iter().any(|t| matches!(
            t,
            Trust::LongLivedKey { key_id, created: Some(_), .. } if key_id == "k1"
        )));
        let managed = &inventory.trusts[&identity_id(MI)];
        assert!(matches!(
            &managed[0],
            Trust::Federated(f) if f.conditions[0].values == ["repo:acme/web:ref:refs/heads/main"]
        ));
    }

    #[test]
    fn expressions_name_the_claim_they_look_up() {
        assert_eq!(
            expression_claim("claims['sub'] matches 'repo:acme/*'"),
            "sub"
        );
        assert_eq!(
            expression_claim(
                "claims['sub'] matches 'repo:a/*' and claims['job_workflow_ref'] matches 'x'"
            ),
            "claimsMatchingExpression"
        );
        assert_eq!(expression_claim("nonsense"), "claimsMatchingExpression");
    }

    #[test]
    fn normalizing_the_same_tenant_twice_is_a_duplicate_grant() {
        let mut inventory = normalized();
        assert!(matches!(
            normalize_into(&mut inventory, &raw()),
            Err(InventoryError::DuplicateGrant(_))
        ));
    }
}
