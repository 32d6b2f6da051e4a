use super::*;
use crate::model::{Identity, Outcome, Permission, UsageEvent};
use chrono::{TimeZone, Utc};

const SP: &str = "8f0c5a8e-1111-2222-3333-444455556666";
const SUB: &str = "/subscriptions/00000000-aaaa-bbbb-cccc-000000000001";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

fn identity() -> IdentityId {
    IdentityId::new(Provider::Azure, SP)
}

fn inventory(assignments: &[(&str, &str)]) -> Inventory {
    let mut inventory = Inventory::new();
    inventory.add_identity(Identity {
        id: identity(),
        kind: IdentityKind::AzureServicePrincipal,
        display_name: "gha-deploy".to_string(),
        container: "tenant".to_string(),
        tags: Default::default(),
        owner: None,
    });
    for (position, (scope, definition)) in assignments.iter().enumerate() {
        inventory
            .add_grant(Grant {
                id: GrantId::new(format!("a{position}")),
                identity: identity(),
                body: GrantBody::Azure(AzureAssignment {
                    name: format!("a{position}"),
                    scope: AzureScope::new(scope),
                    role_definition_id: format!(
                        "{SUB}/providers/Microsoft.Authorization/roleDefinitions/{definition}"
                    ),
                    condition: None,
                }),
            })
            .unwrap();
    }
    inventory
}

fn usage(calls: &[(&str, &str)]) -> Usage {
    let mut usage = Usage::new();
    for (operation, scope) in calls {
        usage.add(&UsageEvent {
            identity: identity(),
            permission: Permission::new(Provider::Azure, *operation),
            resource: scope.to_string(),
            time: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            outcome: Outcome::Allowed,
            workload: None,
            source: "test".to_string(),
        });
    }
    usage
}

fn reads() -> Vec<UnobservableRule> {
    vec![UnobservableRule {
        pattern: "*/read".to_string(),
        plane: Plane::Control,
        reason: "read operations (GET) are not written to the Activity Log".to_string(),
    }]
}

fn rg(name: &str) -> String {
    format!("{SUB}/resourceGroups/{name}")
}

fn site(group: &str) -> String {
    format!("{}/providers/Microsoft.Web/sites/app", rg(group))
}

#[test]
fn contributor_becomes_the_used_operations_at_the_resource_group_plus_reads_kept() {
    let inventory = inventory(&[(SUB, CONTRIBUTOR)]);
    let usage = usage(&[
        ("Microsoft.Web/sites/write", &site("web")),
        (
            "Microsoft.Resources/deployments/write",
            &format!("{}/providers/Microsoft.Resources/deployments/d1", rg("web")),
        ),
    ]);
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &reads(),
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    assert_eq!(result.roles.len(), 2);
    assert_eq!(
        result.roles[0].permissions.actions,
        vec![
            "Microsoft.Resources/deployments/write",
            "Microsoft.Web/sites/write"
        ]
    );
    assert_eq!(result.assignments[0].scope, rg("web"));
    assert_eq!(result.roles[0].name, "gha-deploy (minimized)");
    // Reads are unobservable: kept as Contributor grants them, with its exclusions.
    assert_eq!(result.roles[1].kind, RoleKind::Unobservable);
    assert_eq!(result.roles[1].permissions.actions, vec!["*/read"]);
    assert!(!result.roles[1].permissions.not_actions.is_empty());
    assert_eq!(result.assignments[1].scope, SUB);
    assert_eq!(result.proof.never_drop, 2);
    assert!(result.proof.never_broaden >= 3);

    let dropped = minimize(
        &inventory,
        &identity(),
        &usage,
        &reads(),
        &AzureMinimizeOptions {
            drop_unobservable: true,
            role_name: Some("deployer".to_string()),
        },
    )
    .unwrap();
    assert_eq!(dropped.roles.len(), 1);
    assert_eq!(dropped.roles[0].name, "deployer");
}

#[test]
fn a_common_scope_not_granted_today_is_never_used() {
    let inventory = inventory(&[(&rg("web"), CONTRIBUTOR), (&rg("api"), CONTRIBUTOR)]);
    let usage = usage(&[
        ("Microsoft.Web/sites/write", &site("web")),
        ("Microsoft.Web/sites/write", &site("api")),
    ]);
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &[],
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    let scopes: Vec<&str> = result
        .assignments
        .iter()
        .map(|a| a.scope.as_str())
        .collect();
    assert_eq!(scopes, vec![rg("api"), rg("web")]);
}

#[test]
fn operations_no_replaced_assignment_grants_are_granted_elsewhere() {
    let inventory = inventory(&[(SUB, CONTRIBUTOR)]);
    // Contributor's notActions exclude role assignment writes.
    let usage = usage(&[
        ("Microsoft.Web/sites/write", &site("web")),
        ("Microsoft.Authorization/roleAssignments/write", SUB),
    ]);
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &[],
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    assert_eq!(
        result.granted_elsewhere,
        vec!["Microsoft.Authorization/roleAssignments/write"]
    );
}

#[test]
fn data_plane_grants_are_kept_whole_unless_dropped() {
    let inventory = inventory(&[(SUB, BLOB_DATA_CONTRIBUTOR)]);
    let result = minimize(
        &inventory,
        &identity(),
        &Usage::new(),
        &[],
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    assert_eq!(result.roles.len(), 1);
    assert!(
        result.roles[0]
            .permissions
            .data_actions
            .iter()
            .any(|a| a.contains("blobs"))
    );
    let dropped = minimize(
        &inventory,
        &identity(),
        &Usage::new(),
        &[],
        &AzureMinimizeOptions {
            drop_unobservable: true,
            role_name: None,
        },
    )
    .unwrap();
    assert!(dropped.roles.is_empty());
}

#[test]
fn unknown_role_definitions_are_an_error() {
    let inventory = inventory(&[(SUB, "99999999-0000-0000-0000-000000000000")]);
    let error = minimize(
        &inventory,
        &identity(),
        &Usage::new(),
        &[],
        &AzureMinimizeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(
        error,
        AzureMinimizeError::UnknownDefinition { .. }
    ));
}

#[test]
fn a_role_that_grants_more_than_today_fails_the_proof() {
    let inventory = inventory(&[(SUB, CONTRIBUTOR)]);
    let usage = usage(&[("Microsoft.Web/sites/write", &site("web"))]);
    let mut result = minimize(
        &inventory,
        &identity(),
        &usage,
        &[],
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    let current = assignments(&inventory, &identity()).unwrap();
    result.roles[0]
        .permissions
        .actions
        .push("Microsoft.Authorization/roleAssignments/write".to_string());
    assert!(matches!(
        prove(&inventory, &result, &current),
        Err(AzureMinimizeError::ProofFailed {
            proof: "never broaden",
            ..
        })
    ));
    result.roles[0].permissions.actions = vec!["Microsoft.Web/sites/read".to_string()];
    assert!(matches!(
        prove(&inventory, &result, &current),
        Err(AzureMinimizeError::ProofFailed {
            proof: "never drop",
            ..
        })
    ));
}

#[test]
fn narrowing_a_granted_pattern_to_a_rule() {
    for (granted, rule, expected) in [
        ("*", "*/read", vec!["*/read"]),
        (
            "Microsoft.Storage/*",
            "*/read",
            vec!["Microsoft.Storage/*/read", "Microsoft.Storage/read"],
        ),
        (
            "Microsoft.Web/sites/read",
            "*/read",
            vec!["Microsoft.Web/sites/read"],
        ),
        ("Microsoft.Web/sites/write", "*/read", vec![]),
        (
            "Microsoft.Web/*/config/*",
            "*/read",
            vec!["Microsoft.Web/*/config/*"],
        ),
    ] {
        assert_eq!(narrowed(granted, rule), expected, "{granted} ∩ {rule}");
    }
}

/// A read directly under the granted prefix (`…/deployments/read`) is in the intersection of
/// `…/deployments/*` and `*/read` but not in `…/deployments/*/read`: it must be kept, or the
/// minimized role would drop a read the Activity Log could never have shown.
#[test]
fn narrowing_keeps_the_operations_where_the_rule_overlaps_the_granted_prefix() {
    for (granted, rule, operation) in [
        (
            "Microsoft.Resources/deployments/*",
            "*/read",
            "Microsoft.Resources/deployments/read",
        ),
        (
            "Microsoft.Web/sites/*",
            "*/read",
            "Microsoft.Web/sites/read",
        ),
        (
            "Microsoft.KeyVault/vaults/*",
            "*/action",
            "Microsoft.KeyVault/vaults/action",
        ),
    ] {
        let kept = narrowed(granted, rule);
        assert!(
            kept.iter()
                .any(|pattern| operation_matches(pattern, operation)),
            "{granted} ∩ {rule} = {kept:?} must keep {operation}"
        );
        for pattern in &kept {
            assert!(
                pattern_covers(granted, pattern, Case::Insensitive)
                    || operation_matches(granted, pattern),
                "{pattern} must stay inside {granted}"
            );
        }
    }
}

#[test]
fn common_scopes_stop_at_a_whole_scope() {
    let scope = common_scope(
        [
            site("web"),
            format!("{}/providers/Microsoft.Web/sites/app2", rg("web")),
        ]
        .iter(),
    );
    assert_eq!(scope.unwrap().to_string(), rg("web"));
    let scope = common_scope([site("web"), site("web")].iter());
    assert_eq!(scope.unwrap().to_string(), site("web"));
    let scope = common_scope([site("web"), site("api")].iter());
    assert_eq!(scope.unwrap().to_string(), SUB);
    assert!(
        common_scope(
            [
                "/subscriptions/a".to_string(),
                "/subscriptions/b".to_string()
            ]
            .iter()
        )
        .is_none()
    );
}

#[test]
fn json_and_terraform_hold_the_role_and_its_assignment() {
    let inventory = inventory(&[(SUB, CONTRIBUTOR)]);
    let usage = usage(&[("Microsoft.Web/sites/write", &site("web"))]);
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &reads(),
        &AzureMinimizeOptions::default(),
    )
    .unwrap();
    let json = render_json(&result).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(
        json["roles"][0]["definition"]["Actions"],
        serde_json::json!(["Microsoft.Web/sites/write"])
    );
    // One resource used: the narrowest scope is that resource.
    assert_eq!(
        json["roles"][0]["definition"]["AssignableScopes"][0],
        site("web")
    );
    let terraform = render_terraform(&result).unwrap();
    let body = hcl::parse(&terraform).unwrap();
    let kinds: Vec<String> = body
        .blocks()
        .map(|block| block.labels()[0].as_str().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "azurerm_role_definition",
            "azurerm_role_definition",
            "azurerm_role_assignment",
            "azurerm_role_assignment"
        ]
    );
    assert!(
        terraform.contains(
            "azurerm_role_definition.gha_deploy__minimized__0.role_definition_resource_id"
        )
    );
}
