//! Acceptance for the neutral access question: "is permission P on resource R granted to
//! identity I, and by which grant?" on a GCP folder tree and an Azure subscription.

use pipeleash::access::{AccessAnswer, AccessDecision, AccessError, access};
use pipeleash::aws::grant::{AwsAttachment, AwsPolicyGrant};
use pipeleash::aws::parse_policy;
use pipeleash::azure::{AzureAssignment, AzureDenyAssignment, AzurePermissionBlock, AzureScope};
use pipeleash::gcp::{GcpBinding, GcpCondition, GcpDenyRule};
use pipeleash::model::{
    Grant, GrantBody, GrantId, Identity, IdentityId, IdentityKind, Inventory, Provider,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const BUCKET: &str = "//storage.googleapis.com/projects/_/buckets/app-artifacts";
const SUBSCRIPTION: &str = "/subscriptions/11111111-2222-3333-4444-555555555555";
const RG: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/app";
const CONTRIBUTOR: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c";

fn identity(
    inventory: &mut Inventory,
    provider: Provider,
    native: &str,
    kind: IdentityKind,
) -> IdentityId {
    let id = IdentityId::new(provider, native);
    inventory.add_identity(Identity {
        id: id.clone(),
        kind,
        display_name: native.to_string(),
        container: String::new(),
        tags: BTreeMap::new(),
        owner: Some("platform-team".to_string()),
    });
    id
}

fn grant(inventory: &mut Inventory, id: &str, identity: &IdentityId, body: GrantBody) {
    inventory
        .add_grant(Grant {
            id: GrantId::new(id),
            identity: identity.clone(),
            body,
        })
        .unwrap();
}

fn binding(resource: &str, role: &str, condition: Option<GcpCondition>) -> GrantBody {
    GrantBody::Gcp(GcpBinding {
        resource: resource.to_string(),
        role: role.to_string(),
        member: "serviceAccount:deployer@app.iam.gserviceaccount.com".to_string(),
        condition,
    })
}

/// organizations/1 → folders/100 (prod) → projects/app → the artifacts bucket;
/// organizations/1 → folders/200 (sandbox) → projects/sandbox.
fn gcp_inventory() -> (Inventory, IdentityId) {
    let mut inventory = Inventory::new();
    let deployer = identity(
        &mut inventory,
        Provider::Gcp,
        "deployer@app.iam.gserviceaccount.com",
        IdentityKind::GcpServiceAccount,
    );
    let h = &mut inventory.gcp_hierarchy;
    h.set_parent("folders/100", "organizations/1");
    h.set_parent("folders/200", "organizations/1");
    h.set_parent("projects/app", "folders/100");
    h.set_parent("projects/sandbox", "folders/200");
    h.set_parent(BUCKET, "projects/app");
    grant(
        &mut inventory,
        "gcp:folders/100#roles/storage.objectViewer",
        &deployer,
        binding("folders/100", "roles/storage.objectViewer", None),
    );
    grant(
        &mut inventory,
        "gcp:projects/app#roles/run.developer#office-hours",
        &deployer,
        binding(
            "projects/app",
            "roles/run.developer",
            Some(GcpCondition {
                title: "office-hours".to_string(),
                expression: "request.time.getHours('Europe/Berlin') < 18".to_string(),
                description: None,
            }),
        ),
    );
    (inventory, deployer)
}

fn ask(
    inventory: &Inventory,
    identity: &IdentityId,
    permission: &str,
    resource: &str,
) -> AccessAnswer {
    access(inventory, identity, permission, resource).unwrap()
}

fn grants(names: &[&str]) -> Vec<GrantId> {
    names.iter().map(|name| GrantId::new(*name)).collect()
}

#[test]
fn gcp_folder_binding_is_inherited_by_the_project_and_its_bucket() {
    let (inventory, deployer) = gcp_inventory();
    let object = format!("{BUCKET}/objects/build.tar");
    for resource in ["projects/app", BUCKET, object.as_str()] {
        let answer = ask(&inventory, &deployer, "storage.objects.get", resource);
        assert_eq!(answer.decision, AccessDecision::Granted, "{resource}");
        assert_eq!(
            answer.grants,
            grants(&["gcp:folders/100#roles/storage.objectViewer"])
        );
    }
}

#[test]
fn gcp_project_in_another_folder_is_not_granted() {
    let (inventory, deployer) = gcp_inventory();
    let answer = ask(
        &inventory,
        &deployer,
        "storage.objects.get",
        "projects/sandbox",
    );
    assert_eq!(answer.decision, AccessDecision::NotGranted);
    assert!(answer.grants.is_empty());
}

#[test]
fn gcp_conditional_binding_names_its_expression() {
    let (inventory, deployer) = gcp_inventory();
    let answer = ask(
        &inventory,
        &deployer,
        "run.services.update",
        "//run.googleapis.com/projects/app/locations/europe-west3/services/web",
    );
    match &answer.decision {
        AccessDecision::Conditional { reason } => {
            assert!(
                reason.contains("request.time.getHours('Europe/Berlin') < 18"),
                "{reason}"
            );
            assert!(reason.contains("office-hours"), "{reason}");
        }
        other => panic!("expected conditional, got {other:?}"),
    }
    assert_eq!(
        answer.grants,
        grants(&["gcp:projects/app#roles/run.developer#office-hours"])
    );
}

#[test]
fn gcp_deny_rule_on_the_organization_overrides_the_folder_binding() {
    let (mut inventory, deployer) = gcp_inventory();
    grant(
        &mut inventory,
        "gcp:organizations/1#deny/no-reads",
        &deployer,
        GrantBody::GcpDeny(GcpDenyRule {
            attachment_point: "organizations/1".to_string(),
            policy: "no-reads".to_string(),
            denied_permissions: vec!["storage.googleapis.com/objects.get".to_string()],
            exception_permissions: vec![],
            condition: None,
            possible: None,
        }),
    );
    let answer = ask(&inventory, &deployer, "storage.objects.get", BUCKET);
    assert_eq!(answer.decision, AccessDecision::Denied);
    assert_eq!(
        answer.grants,
        grants(&["gcp:organizations/1#deny/no-reads"])
    );
    // Other permissions of the same role are untouched.
    let answer = ask(&inventory, &deployer, "storage.objects.list", BUCKET);
    assert_eq!(answer.decision, AccessDecision::Granted);
}

fn azure_inventory() -> (Inventory, IdentityId) {
    let mut inventory = Inventory::new();
    let pipeline = identity(
        &mut inventory,
        Provider::Azure,
        "8f0c5a8e-0000-4000-8000-000000000001",
        IdentityKind::AzureServicePrincipal,
    );
    grant(
        &mut inventory,
        "rg-app-contributor",
        &pipeline,
        GrantBody::Azure(AzureAssignment {
            name: format!("{RG}/providers/Microsoft.Authorization/roleAssignments/a1"),
            scope: AzureScope::new(RG),
            role_definition_id: CONTRIBUTOR.to_string(),
            condition: None,
        }),
    );
    (inventory, pipeline)
}

#[test]
fn azure_resource_group_assignment_covers_resources_inside_only() {
    let (inventory, pipeline) = azure_inventory();
    let inside = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/appstore",
        RG.to_uppercase()
    );
    let write = "Microsoft.Storage/storageAccounts/write";
    let answer = ask(&inventory, &pipeline, write, &inside);
    assert_eq!(answer.decision, AccessDecision::Granted);
    assert_eq!(answer.grants, grants(&["rg-app-contributor"]));

    let sibling = format!("{RG}2/providers/Microsoft.Storage/storageAccounts/other");
    let answer = ask(&inventory, &pipeline, write, &sibling);
    assert_eq!(answer.decision, AccessDecision::NotGranted);

    let parent = ask(&inventory, &pipeline, write, SUBSCRIPTION);
    assert_eq!(parent.decision, AccessDecision::NotGranted);
}

#[test]
fn azure_not_actions_remove_what_actions_cover() {
    let (inventory, pipeline) = azure_inventory();
    // Contributor: `actions: ["*"]`, `notActions: ["Microsoft.Authorization/*/Write", …]`.
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Authorization/roleAssignments/write",
        RG,
    );
    assert_eq!(answer.decision, AccessDecision::NotGranted);
    assert!(answer.grants.is_empty());
}

#[test]
fn azure_data_actions_are_not_granted_by_control_plane_wildcards() {
    let (inventory, pipeline) = azure_inventory();
    let container = format!(
        "{RG}/providers/Microsoft.Storage/storageAccounts/appstore/blobServices/default/containers/c"
    );
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
        &container,
    );
    assert_eq!(answer.decision, AccessDecision::NotGranted);
}

#[test]
fn azure_deny_assignment_overrides_the_role_assignment() {
    let (mut inventory, pipeline) = azure_inventory();
    grant(
        &mut inventory,
        "deny-delete",
        &pipeline,
        GrantBody::AzureDeny(AzureDenyAssignment {
            name: "protect-app".to_string(),
            scope: AzureScope::new(RG),
            permissions: vec![AzurePermissionBlock {
                actions: vec!["*/delete".to_string()],
                ..AzurePermissionBlock::default()
            }],
            does_not_apply_to_child_scopes: false,
        }),
    );
    let resource = format!("{RG}/providers/Microsoft.Web/sites/web");
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Web/sites/delete",
        &resource,
    );
    assert_eq!(answer.decision, AccessDecision::Denied);
    assert_eq!(answer.grants, grants(&["deny-delete"]));
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Web/sites/write",
        &resource,
    );
    assert_eq!(answer.decision, AccessDecision::Granted);
}

#[test]
fn azure_assignment_condition_makes_the_answer_conditional() {
    let mut inventory = Inventory::new();
    let pipeline = identity(
        &mut inventory,
        Provider::Azure,
        "8f0c5a8e-0000-4000-8000-000000000002",
        IdentityKind::AzureManagedIdentity,
    );
    let condition = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'releases'";
    grant(
        &mut inventory,
        "blob-writer",
        &pipeline,
        GrantBody::Azure(AzureAssignment {
            name: "a2".to_string(),
            scope: AzureScope::new(RG),
            role_definition_id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe".to_string(),
            condition: Some(condition.to_string()),
        }),
    );
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        &format!("{RG}/providers/Microsoft.Storage/storageAccounts/s"),
    );
    match answer.decision {
        AccessDecision::Conditional { reason } => assert!(reason.contains(condition), "{reason}"),
        other => panic!("expected conditional, got {other:?}"),
    }
    assert_eq!(answer.grants, grants(&["blob-writer"]));
}

#[test]
fn azure_management_group_assignment_reaches_its_subscriptions() {
    let (mut inventory, pipeline) = azure_inventory();
    let group = AzureScope::new("/providers/Microsoft.Management/managementGroups/platform");
    inventory
        .azure_hierarchy
        .set_parent(&AzureScope::new(SUBSCRIPTION), group.clone());
    grant(
        &mut inventory,
        "mg-reader",
        &pipeline,
        GrantBody::Azure(AzureAssignment {
            name: "a3".to_string(),
            scope: group,
            role_definition_id: "acdd72a7-3385-48ef-bd42-f606fba81ae7".to_string(),
            condition: None,
        }),
    );
    let resource = format!("{SUBSCRIPTION}/resourceGroups/other/providers/Microsoft.Web/sites/x");
    let answer = ask(&inventory, &pipeline, "Microsoft.Web/sites/read", &resource);
    assert_eq!(answer.decision, AccessDecision::Granted);
    assert_eq!(answer.grants, grants(&["mg-reader"]));
}

#[test]
fn azure_unknown_role_definition_is_unknown() {
    let (mut inventory, pipeline) = azure_inventory();
    grant(
        &mut inventory,
        "custom",
        &pipeline,
        GrantBody::Azure(AzureAssignment {
            name: "a4".to_string(),
            scope: AzureScope::new(SUBSCRIPTION),
            role_definition_id: "00000000-dead-beef-0000-000000000000".to_string(),
            condition: None,
        }),
    );
    let answer = ask(
        &inventory,
        &pipeline,
        "Microsoft.Web/sites/write",
        SUBSCRIPTION,
    );
    assert!(
        matches!(&answer.decision, AccessDecision::Unknown { reason } if reason.contains("00000000-dead-beef")),
        "{answer:?}"
    );
}

fn aws_policy(
    inventory: &mut Inventory,
    role: &IdentityId,
    id: &str,
    attachment: AwsAttachment,
    document: &str,
) {
    inventory
        .add_grant(Grant {
            id: GrantId::new(id),
            identity: role.clone(),
            body: GrantBody::Aws(AwsPolicyGrant {
                policy: id.to_string(),
                attachment,
                document: parse_policy(document).unwrap(),
            }),
        })
        .unwrap();
}

/// An AWS CI role with an identity policy, a permissions boundary and two SCP levels.
fn aws_role_with_boundary() -> (Inventory, IdentityId) {
    let mut inventory = Inventory::new();
    let role = identity(
        &mut inventory,
        Provider::Aws,
        "arn:aws:iam::123456789012:role/ci-deploy",
        IdentityKind::AwsRole,
    );
    aws_policy(
        &mut inventory,
        &role,
        "deploy-inline",
        AwsAttachment::Identity,
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Artifacts","Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::artifacts/*"},
            {"Sid":"FromOffice","Effect":"Allow","Action":"ssm:GetParameter","Resource":"*",
             "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}},
            {"Sid":"Iam","Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}]}"#,
    );
    aws_policy(
        &mut inventory,
        &role,
        "ci-boundary",
        AwsAttachment::PermissionsBoundary,
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:Get*","s3:Put*","ssm:GetParameter"],"Resource":"*"}]}"#,
    );
    aws_policy(
        &mut inventory,
        &role,
        "scp-root-full-access",
        AwsAttachment::ServiceControl { level: 0 },
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    aws_policy(
        &mut inventory,
        &role,
        "scp-prod-no-deletes",
        AwsAttachment::ServiceControl { level: 1 },
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::artifacts/locked/*"}]}"#,
    );
    (inventory, role)
}

#[test]
fn aws_role_with_boundary_is_granted_by_identity_policy_within_the_boundary() {
    let (inventory, role) = aws_role_with_boundary();
    let answer = access(
        &inventory,
        &role,
        "s3:GetObject",
        "arn:aws:s3:::artifacts/web.zip",
    )
    .unwrap();
    assert_eq!(answer.decision, AccessDecision::Granted);
    // Both the allowing identity policy and the boundary that lets it through are named.
    assert!(
        answer.grants.contains(&GrantId::new("deploy-inline")),
        "{answer:?}"
    );
}

#[test]
fn aws_boundary_caps_what_the_identity_policy_grants() {
    let (inventory, role) = aws_role_with_boundary();
    let answer = access(
        &inventory,
        &role,
        "s3:DeleteObject",
        "arn:aws:s3:::artifacts/web.zip",
    )
    .unwrap();
    assert_eq!(answer.decision, AccessDecision::NotGranted);
    let answer = access(&inventory, &role, "iam:CreateUser", "*").unwrap();
    assert_eq!(answer.decision, AccessDecision::NotGranted);
}

#[test]
fn aws_scp_deny_is_reported_as_denied_by_that_grant() {
    let (inventory, role) = aws_role_with_boundary();
    let answer = access(
        &inventory,
        &role,
        "s3:PutObject",
        "arn:aws:s3:::artifacts/locked/release.zip",
    )
    .unwrap();
    assert_eq!(answer.decision, AccessDecision::Denied);
    assert_eq!(answer.grants, vec![GrantId::new("scp-prod-no-deletes")]);
}

#[test]
fn aws_condition_on_unknown_context_is_conditional_not_a_guess() {
    let (inventory, role) = aws_role_with_boundary();
    let answer = access(
        &inventory,
        &role,
        "ssm:GetParameter",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/x",
    )
    .unwrap();
    match &answer.decision {
        AccessDecision::Conditional { reason } => {
            assert!(reason.contains("aws:SourceIp"), "{reason}")
        }
        other => panic!("expected conditional, got {other:?}"),
    }
}

#[test]
fn unknown_identities_are_an_error_not_a_silent_no() {
    let inventory = Inventory::new();
    let ghost = IdentityId::new(Provider::Gcp, "ghost@p.iam.gserviceaccount.com");
    assert_eq!(
        access(&inventory, &ghost, "storage.objects.get", "projects/p"),
        Err(AccessError::UnknownIdentity(ghost))
    );
}

proptest! {
    /// An Azure assignment never grants outside its scope: for any resource in another
    /// subscription or resource group, the answer is `NotGranted`, whatever the action.
    #[test]
    fn azure_assignment_never_grants_outside_its_scope(
        subscription in "[0-9a-f]{4}",
        group in "[a-z]{1,6}",
        same_subscription in any::<bool>(),
        tail in "(/providers/Microsoft\\.[A-Z][a-z]{2,6}/[a-z]{2,6}/[a-z0-9]{1,5})?",
        action in "Microsoft\\.[A-Z][a-z]{2,6}/[a-z]{2,6}/(read|write|delete)",
    ) {
        prop_assume!(group != "app");
        let (inventory, pipeline) = azure_inventory();
        let base = if same_subscription { SUBSCRIPTION.to_string() } else { format!("/subscriptions/{subscription}") };
        let resource = format!("{base}/resourceGroups/{group}{tail}");
        let answer = access(&inventory, &pipeline, &action, &resource).unwrap();
        prop_assert_eq!(answer.decision, AccessDecision::NotGranted);
    }

    /// A GCP binding on one folder never reaches a project placed under another folder.
    #[test]
    fn gcp_binding_never_crosses_folders(
        project in "[a-z]{3,8}",
        permission in "storage\\.objects\\.(get|list)",
    ) {
        let (mut inventory, deployer) = gcp_inventory();
        let name = format!("projects/{project}-x");
        inventory.gcp_hierarchy.set_parent(name.clone(), "folders/200");
        let answer = access(&inventory, &deployer, &permission, &name).unwrap();
        prop_assert_eq!(answer.decision, AccessDecision::NotGranted);
    }
}
