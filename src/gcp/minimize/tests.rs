use super::*;
use crate::gcp::GcpBinding;
use crate::model::{Identity, IdentityKind};
use crate::model::{Outcome, Permission, UsageEvent};
use chrono::{TimeZone, Utc};

const SA: &str = "deployer@app-prod.iam.gserviceaccount.com";

fn identity() -> IdentityId {
    IdentityId::new(Provider::Gcp, SA)
}

/// organizations/9 → folders/1 → projects/app-prod, projects/app-stage; folders/2 → projects/data.
fn inventory() -> Inventory {
    let mut inventory = Inventory::new();
    inventory.add_identity(Identity {
        id: identity(),
        kind: IdentityKind::GcpServiceAccount,
        display_name: "deployer".to_string(),
        container: "projects/app-prod".to_string(),
        tags: BTreeMap::new(),
        owner: None,
    });
    let h = &mut inventory.gcp_hierarchy;
    h.set_parent("projects/app-prod", "folders/1");
    h.set_parent("projects/app-stage", "folders/1");
    h.set_parent("projects/data", "folders/2");
    h.set_parent("folders/1", "organizations/9");
    h.set_parent("folders/2", "organizations/9");
    h.set_parent(
        "//storage.googleapis.com/projects/_/buckets/artifacts",
        "projects/app-prod",
    );
    inventory
}

fn bind(inventory: &mut Inventory, id: &str, resource: &str, role: &str) {
    bind_if(inventory, id, resource, role, None);
}

fn bind_if(
    inventory: &mut Inventory,
    id: &str,
    resource: &str,
    role: &str,
    condition: Option<GcpCondition>,
) {
    inventory
        .add_grant(Grant {
            id: GrantId::new(id),
            identity: identity(),
            body: GrantBody::Gcp(GcpBinding {
                resource: resource.to_string(),
                role: role.to_string(),
                member: format!("serviceAccount:{SA}"),
                condition,
            }),
        })
        .unwrap();
}

fn usage(calls: &[(&str, &str)]) -> Usage {
    let mut usage = Usage::new();
    for (hour, (permission, resource)) in calls.iter().enumerate() {
        usage.add(&UsageEvent {
            identity: identity(),
            permission: Permission::new(Provider::Gcp, *permission),
            resource: resource.to_string(),
            time: Utc
                .with_ymd_and_hms(2026, 11, 20, hour as u32 % 24, 0, 0)
                .unwrap(),
            outcome: Outcome::Allowed,
            workload: None,
            source: "test".to_string(),
        });
    }
    usage
}

fn observable(_: &str) -> Observability {
    Observability::Observable
}

fn run(inventory: &Inventory, usage: &Usage) -> GcpMinimization {
    minimize(
        inventory,
        &identity(),
        usage,
        &observable,
        &GcpMinimizeOptions::default(),
    )
    .unwrap()
}

fn role_permissions(minimization: &GcpMinimization) -> Vec<(String, Vec<String>)> {
    minimization
        .bindings
        .iter()
        .map(|binding| {
            (
                binding.scope.clone(),
                minimization.roles[binding.role].permissions.clone(),
            )
        })
        .collect()
}

const RUN_SERVICE: &str = "projects/app-prod/locations/europe-west1/services/web";

#[test]
fn editor_on_a_project_becomes_a_custom_role_with_only_the_used_permissions() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "projects/app-prod", "roles/editor");
    let usage = usage(&[
        ("run.services.update", RUN_SERVICE),
        ("run.services.update", RUN_SERVICE),
        (
            "artifactregistry.repositories.uploadArtifacts",
            "projects/app-prod/locations/europe/repositories/images",
        ),
        // Basic roles hold no Cloud Storage object permissions (buckets grant those to
        // project editors through their own policies), so no replaced binding holds it.
        (
            "storage.objects.create",
            "//storage.googleapis.com/projects/_/buckets/artifacts/objects/a.tgz",
        ),
    ]);
    let result = run(&inventory, &usage);
    assert_eq!(
        role_permissions(&result),
        vec![(
            "projects/app-prod".to_string(),
            vec![
                "artifactregistry.repositories.uploadArtifacts".to_string(),
                "run.services.update".to_string(),
            ]
        )]
    );
    assert_eq!(result.granted_elsewhere, vec!["storage.objects.create"]);
    assert_eq!(result.roles[0].parent, "projects/app-prod");
    assert_eq!(result.roles[0].role_id, "deployer_minimized");
    assert!(result.removed.len() > 1000, "editor grants thousands");
    assert!(result.removed.contains(&"run.services.delete".to_string()));
    assert_eq!(result.replaced.len(), 1);
    assert_eq!(result.proof.never_drop, 3);
    assert_eq!(result.proof.never_broaden, 2);
}

#[test]
fn use_in_two_projects_of_a_folder_binds_at_the_folder_with_an_organization_role() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "folders/1", "roles/run.developer");
    let usage = usage(&[
        ("run.services.update", RUN_SERVICE),
        (
            "run.services.update",
            "projects/app-stage/locations/europe-west1/services/web",
        ),
    ]);
    let result = run(&inventory, &usage);
    assert_eq!(result.bindings.len(), 1);
    assert_eq!(result.bindings[0].scope, "folders/1");
    assert_eq!(result.roles[0].parent, "organizations/9");
}

#[test]
fn a_narrower_scope_that_is_not_granted_today_is_never_used() {
    // Granted on each project separately: their folder is the common ancestor, but binding
    // there would grant the permission on every other project of the folder.
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
    );
    bind(
        &mut inventory,
        "b2",
        "projects/app-stage",
        "roles/run.developer",
    );
    let usage = usage(&[
        ("run.services.update", RUN_SERVICE),
        (
            "run.services.update",
            "projects/app-stage/locations/europe-west1/services/web",
        ),
    ]);
    let result = run(&inventory, &usage);
    let scopes: Vec<&str> = result.bindings.iter().map(|b| b.scope.as_str()).collect();
    assert_eq!(scopes, vec!["projects/app-prod", "projects/app-stage"]);
    assert!(result.kept.iter().all(|kept| kept.at_current_scope));
}

#[test]
fn a_permission_granted_under_an_iam_condition_keeps_that_condition() {
    let mut inventory = inventory();
    let condition = GcpCondition {
        title: "prod only".to_string(),
        expression: "resource.name.startsWith(\"projects/app-prod/\")".to_string(),
        description: None,
    };
    bind_if(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
        Some(condition.clone()),
    );
    let result = run(&inventory, &usage(&[("run.services.update", RUN_SERVICE)]));
    assert_eq!(result.bindings.len(), 1);
    assert_eq!(result.bindings[0].condition, Some(condition));
}

#[test]
fn unobservable_permissions_are_kept_and_labelled_unless_dropped() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/storage.objectViewer",
    );
    let unobservable = |permission: &str| {
        if permission == "storage.objects.get" {
            Observability::Unobservable {
                reason: "Data Access audit logs were not read".to_string(),
            }
        } else {
            Observability::Observable
        }
    };
    let usage = usage(&[(
        "storage.objects.list",
        "//storage.googleapis.com/projects/_/buckets/artifacts",
    )]);
    let kept = minimize(
        &inventory,
        &identity(),
        &usage,
        &unobservable,
        &GcpMinimizeOptions::default(),
    )
    .unwrap();
    let get = kept
        .kept
        .iter()
        .find(|k| k.permission == "storage.objects.get")
        .expect("kept");
    assert!(
        matches!(&get.because, KeptBecause::Unobservable { reason } if reason.contains("Data Access"))
    );
    let dropped = minimize(
        &inventory,
        &identity(),
        &usage,
        &unobservable,
        &GcpMinimizeOptions {
            drop_unobservable: true,
            role_id: None,
        },
    )
    .unwrap();
    assert!(dropped.removed.contains(&"storage.objects.get".to_string()));
    assert!(
        dropped
            .kept
            .iter()
            .all(|k| k.permission != "storage.objects.get")
    );
}

#[test]
fn a_used_permission_no_replaced_binding_holds_is_reported_as_granted_elsewhere() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
    );
    let result = run(
        &inventory,
        &usage(&[
            ("run.services.update", RUN_SERVICE),
            ("bigquery.jobs.create", "projects/app-prod"),
        ]),
    );
    assert_eq!(result.granted_elsewhere, vec!["bigquery.jobs.create"]);
}

#[test]
fn denied_calls_are_never_use() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
    );
    let mut usage = usage(&[("run.services.update", RUN_SERVICE)]);
    usage.add(&UsageEvent {
        identity: identity(),
        permission: Permission::new(Provider::Gcp, "run.services.delete"),
        resource: RUN_SERVICE.to_string(),
        time: Utc.with_ymd_and_hms(2026, 11, 20, 5, 0, 0).unwrap(),
        outcome: Outcome::Denied,
        workload: None,
        source: "test".to_string(),
    });
    let result = run(&inventory, &usage);
    assert!(result.removed.contains(&"run.services.delete".to_string()));
}

#[test]
fn roles_that_cannot_be_expanded_are_an_error_not_a_guess() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "projects/app-prod/roles/missing",
    );
    let error = minimize(
        &inventory,
        &identity(),
        &Usage::new(),
        &observable,
        &GcpMinimizeOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, GcpMinimizeError::UnknownRole { role, .. } if role.ends_with("missing"))
    );
}

#[test]
fn a_custom_role_holds_at_most_3000_permissions() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "projects/app-prod", "roles/owner");
    let everything = |_: &str| Observability::Unobservable {
        reason: "no logs".to_string(),
    };
    let result = minimize(
        &inventory,
        &identity(),
        &Usage::new(),
        &everything,
        &GcpMinimizeOptions::default(),
    )
    .unwrap();
    assert!(result.roles.len() >= 2);
    assert!(
        result
            .roles
            .iter()
            .all(|role| role.permissions.len() <= CUSTOM_ROLE_PERMISSION_LIMIT)
    );
    let ids: BTreeSet<&str> = result.roles.iter().map(|r| r.role_id.as_str()).collect();
    assert_eq!(ids.len(), result.roles.len(), "role ids are distinct");
    assert_eq!(result.roles[1].role_id, "deployer_minimized_2");
}

#[test]
fn role_ids_are_validated() {
    for bad in ["ab", "has space", "dash-ed", &"x".repeat(65)] {
        assert!(valid_role_id(bad).is_err(), "{bad}");
    }
    assert_eq!(valid_role_id("ci.deploy_1").unwrap(), "ci.deploy_1");
    assert_eq!(
        derived_role_id("gha-deploy@p.iam.gserviceaccount.com"),
        "gha_deploy_minimized"
    );
}

#[test]
fn a_binding_on_one_bucket_stays_on_that_bucket() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "//storage.googleapis.com/projects/_/buckets/artifacts",
        "roles/storage.objectAdmin",
    );
    let result = run(
        &inventory,
        &usage(&[(
            "storage.objects.create",
            "//storage.googleapis.com/projects/_/buckets/artifacts/objects/a.tgz",
        )]),
    );
    assert_eq!(
        result.bindings[0].scope,
        "//storage.googleapis.com/projects/_/buckets/artifacts"
    );
    assert_eq!(result.roles[0].parent, "projects/app-prod");
    assert!(matches!(
        render_terraform(&result),
        Err(TerraformError::ResourceBinding(_))
    ));
    let json = render_json(&result).unwrap();
    assert!(json["bindings"][0]["command"].is_null());
}

#[test]
fn terraform_round_trips_through_the_proofs() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "folders/1", "roles/run.developer");
    let condition = GcpCondition {
        title: "business hours".to_string(),
        expression: "request.time.getHours(\"Europe/Berlin\") < 18 && \"${x}\" != \"\"".to_string(),
        description: Some("a \"quoted\" description".to_string()),
    };
    bind_if(
        &mut inventory,
        "b2",
        "projects/data",
        "roles/bigquery.jobUser",
        Some(condition.clone()),
    );
    let result = run(
        &inventory,
        &usage(&[
            ("run.services.update", RUN_SERVICE),
            (
                "run.services.update",
                "projects/app-stage/locations/europe-west1/services/web",
            ),
            ("bigquery.jobs.create", "projects/data"),
        ]),
    );
    let terraform = render_terraform(&result).unwrap();
    assert!(terraform.contains("google_folder_iam_member"));
    assert!(terraform.contains("google_organization_iam_custom_role"));
    assert!(terraform.contains("google_project_iam_member"));
    let parsed = parse_terraform(&terraform).unwrap();
    assert_eq!(parsed.len(), result.bindings.len());
    for (read, binding) in parsed.iter().zip(&result.bindings) {
        assert_eq!(read.scope, binding.scope);
        assert_eq!(read.condition, binding.condition);
        assert_eq!(read.role, result.roles[binding.role]);
    }
    let counts = prove_terraform(&inventory, &result, &terraform).unwrap();
    assert_eq!(counts, result.proof);
}

#[test]
fn terraform_that_grants_more_than_today_fails_the_proof() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
    );
    let result = run(&inventory, &usage(&[("run.services.update", RUN_SERVICE)]));
    let terraform = render_terraform(&result).unwrap();
    // A reviewer's edit: a permission run.developer does not hold.
    let widened = terraform.replace(
        "\"run.services.update\"",
        "\"run.services.update\", \"run.services.setIamPolicy\"",
    );
    assert_ne!(widened, terraform);
    let error = prove_terraform(&inventory, &result, &widened).unwrap_err();
    assert!(matches!(
        error,
        GcpMinimizeError::ProofFailed { proof: "never broaden", ref permission, .. }
            if permission == "run.services.setIamPolicy"
    ));
    // …and one that drops the used permission.
    let dropped = terraform.replace("\"run.services.update\"", "\"run.services.get\"");
    let error = prove_terraform(&inventory, &result, &dropped).unwrap_err();
    assert!(matches!(
        error,
        GcpMinimizeError::ProofFailed {
            proof: "never drop",
            ..
        }
    ));
}

#[test]
fn json_view_holds_the_gcloud_role_file_and_commands() {
    let mut inventory = inventory();
    bind(
        &mut inventory,
        "b1",
        "projects/app-prod",
        "roles/run.developer",
    );
    let result = run(&inventory, &usage(&[("run.services.update", RUN_SERVICE)]));
    let json = render_json(&result).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(
        json["roles"][0]["file"]["includedPermissions"],
        serde_json::json!(["run.services.update"])
    );
    assert_eq!(
        json["roles"][0]["command"],
        "gcloud iam roles create deployer_minimized --project=app-prod --file=deployer_minimized.json"
    );
    assert_eq!(
        json["bindings"][0]["command"],
        "gcloud projects add-iam-policy-binding app-prod \
         --member=serviceAccount:deployer@app-prod.iam.gserviceaccount.com \
         --role=projects/app-prod/roles/deployer_minimized --condition=None"
    );
    assert_eq!(json["kept"][0]["because"], "used");
}

fn deny(inventory: &mut Inventory, id: &str, attachment_point: &str, denied: &[&str]) {
    deny_with(inventory, id, attachment_point, denied, None, None);
}

fn deny_with(
    inventory: &mut Inventory,
    id: &str,
    attachment_point: &str,
    denied: &[&str],
    condition: Option<GcpCondition>,
    possible: Option<&str>,
) {
    inventory
        .add_grant(Grant {
            id: GrantId::new(id),
            identity: identity(),
            body: GrantBody::GcpDeny(crate::gcp::GcpDenyRule {
                attachment_point: attachment_point.to_string(),
                policy: format!("policies/x/denypolicies/{id}"),
                denied_permissions: denied.iter().map(|p| p.to_string()).collect(),
                exception_permissions: vec![],
                condition,
                possible: possible.map(str::to_string),
            }),
        })
        .unwrap();
}

/// A permission a role grants but a deny policy at or above the binding denies (in the
/// deny-policy form) is not granted, so it is never in the minimized role, even when the
/// logs cannot show it; the proofs hold.
#[test]
fn a_permission_denied_above_the_binding_is_never_in_the_minimized_role() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "projects/app-prod", "roles/run.admin");
    deny(
        &mut inventory,
        "d1",
        "folders/1",
        &["run.googleapis.com/services.delete"],
    );
    let usage = usage(&[("run.services.update", RUN_SERVICE)]);
    let unobservable = |_: &str| Observability::Unobservable {
        reason: "Data Access logs off".to_string(),
    };
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &unobservable,
        &GcpMinimizeOptions::default(),
    )
    .unwrap();
    let kept: Vec<&str> = result.kept.iter().map(|k| k.permission.as_str()).collect();
    assert!(kept.contains(&"run.services.update"));
    assert!(!kept.contains(&"run.services.delete"), "{kept:?}");
    assert!(
        !result
            .roles
            .iter()
            .any(|role| role.permissions.iter().any(|p| p == "run.services.delete"))
    );
    assert_eq!(result.denied, vec!["run.services.delete"]);
    assert!(!result.removed.contains(&"run.services.delete".to_string()));
    assert!(result.proof.never_broaden > 0);
    let json = render_json(&result).unwrap();
    assert_eq!(
        json["denied_by_deny_policy"],
        serde_json::json!(["run.services.delete"])
    );
}

/// A deny rule below the binding (on one project of a folder-wide binding) leaves the
/// permission granted on the rest of the folder.
#[test]
fn a_deny_below_the_binding_does_not_take_the_permission_away() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "folders/1", "roles/run.admin");
    deny(
        &mut inventory,
        "d1",
        "projects/app-stage",
        &["run.googleapis.com/services.delete"],
    );
    let usage = usage(&[("run.services.update", RUN_SERVICE)]);
    let unobservable = |_: &str| Observability::Unobservable {
        reason: "Data Access logs off".to_string(),
    };
    let result = minimize(
        &inventory,
        &identity(),
        &usage,
        &unobservable,
        &GcpMinimizeOptions::default(),
    )
    .unwrap();
    assert!(result.denied.is_empty());
    assert!(
        result
            .kept
            .iter()
            .any(|k| k.permission == "run.services.delete" && k.scope == "folders/1")
    );
}

/// A conditional or possible deny never removes a used permission, and the proofs still
/// hold (the deny rules are the same before and after).
#[test]
fn conditional_and_possible_denies_keep_used_permissions_and_the_proofs_hold() {
    for (condition, possible) in [
        (
            Some(GcpCondition {
                title: "prod".to_string(),
                expression: "resource.matchTag('9/env', 'prod')".to_string(),
                description: None,
            }),
            None,
        ),
        (
            None,
            Some(
                "the account is a member of `principalSet://goog/group/ci@x` (group membership is not collected)",
            ),
        ),
    ] {
        let mut inventory = inventory();
        bind(&mut inventory, "b1", "projects/app-prod", "roles/editor");
        deny_with(
            &mut inventory,
            "d1",
            "organizations/9",
            &["run.googleapis.com/services.update"],
            condition,
            possible,
        );
        let usage = usage(&[("run.services.update", RUN_SERVICE)]);
        let result = run(&inventory, &usage);
        assert!(result.denied.is_empty());
        assert!(
            result
                .kept
                .iter()
                .any(|k| k.permission == "run.services.update")
        );
        assert!(result.proof.never_drop > 0);
    }
}

/// The JSON view pinned byte for byte where the demo does not reach: bindings under an IAM
/// condition (with and without a description), a binding on a single resource (its
/// `command` is `null`) and a folder binding.
#[test]
fn json_view_of_conditional_and_resource_bindings_is_pinned() {
    let mut inventory = inventory();
    bind(&mut inventory, "b1", "folders/1", "roles/run.developer");
    bind_if(
        &mut inventory,
        "b2",
        "projects/data",
        "roles/bigquery.jobUser",
        Some(GcpCondition {
            title: "business hours".to_string(),
            expression: "request.time.getHours(\"Europe/Berlin\") < 18".to_string(),
            description: Some("a \"quoted\" description".to_string()),
        }),
    );
    bind_if(
        &mut inventory,
        "b3",
        "projects/app-prod",
        "roles/storage.objectViewer",
        Some(GcpCondition {
            title: "artifacts".to_string(),
            expression: "resource.name.startsWith('projects/_/buckets/artifacts')".to_string(),
            description: None,
        }),
    );
    bind(
        &mut inventory,
        "b4",
        "//storage.googleapis.com/projects/_/buckets/artifacts",
        "roles/storage.objectAdmin",
    );
    let result = run(
        &inventory,
        &usage(&[
            ("run.services.update", RUN_SERVICE),
            ("bigquery.jobs.create", "projects/data"),
            (
                "storage.objects.get",
                "//storage.googleapis.com/projects/_/buckets/artifacts/objects/b.tgz",
            ),
            (
                "storage.objects.create",
                "//storage.googleapis.com/projects/_/buckets/artifacts/objects/a.tgz",
            ),
        ]),
    );
    let json = render_json(&result).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).unwrap());
}
