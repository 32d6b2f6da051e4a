use super::*;
use crate::model::Confidence;
use serde_json::{Value, json};

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const SUB: &str = "/subscriptions/00000000-0000-0000-0000-0000000000aa";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
/// The managed identity's `principalId`, written in upper case to check the lower-casing.
const MI_PRINCIPAL: &str = "AAAAAAAA-0000-0000-0000-000000000001";
const APP_ID: &str = "bbbbbbbb-0000-0000-0000-000000000002";
const SP_ID: &str = "cccccccc-0000-0000-0000-000000000003";

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn inventory(body: Value) -> AzureInventory {
    let mut value = json!({"format_version": 1, "collected_at": "2026-11-30T00:00:00Z"});
    for (key, item) in body.as_object().unwrap() {
        value[key] = item.clone();
    }
    serde_json::from_value(value).unwrap()
}

/// A user-assigned managed identity `ci` with the given federated credentials (ARM shape).
fn managed_identity(credentials: Vec<Value>) -> Value {
    let id = format!(
        "{SUB}/resourceGroups/ci/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ci"
    );
    let credentials: Vec<Value> = credentials
        .into_iter()
        .enumerate()
        .map(|(index, properties)| {
            json!({"id": format!("{id}/federatedIdentityCredentials/fic{index}"),
                   "name": format!("fic{index}"), "properties": properties})
        })
        .collect();
    json!({"id": id, "name": "ci",
           "properties": {"principalId": MI_PRINCIPAL, "clientId": "dddddddd-0000-0000-0000-000000000004"},
           "federatedIdentityCredentials": credentials})
}

fn github_subject(subject: &str) -> Value {
    json!({"issuer": GITHUB, "subject": subject, "audiences": ["api://AzureADTokenExchange"]})
}

fn github_expression(expression: &str) -> Value {
    json!({"issuer": GITHUB, "audiences": ["api://AzureADTokenExchange"],
           "claimsMatchingExpression": {"value": expression, "languageVersion": 1}})
}

fn assignment(principal: &str, role: &str, scope: &str) -> Value {
    json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{principal}-{role}"),
           "name": format!("{principal}-{role}"),
           "properties": {"scope": scope,
               "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
               "principalId": principal.to_ascii_lowercase(), "principalType": "ServicePrincipal"}})
}

fn custom_role(guid: &str, name: &str, actions: &[&str], not_actions: &[&str]) -> Value {
    json!({"id": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
           "name": guid,
           "properties": {"roleName": name, "type": "CustomRole",
               "permissions": [{"actions": actions, "notActions": not_actions}],
               "assignableScopes": [SUB]}})
}

/// The managed identity with `credentials` and one role assignment on the subscription.
fn identity_with_role(credentials: Vec<Value>, role: &str) -> AzureInventory {
    inventory(json!({
        "user_assigned_identities": [managed_identity(credentials)],
        "role_assignments": [assignment(MI_PRINCIPAL, role, SUB)],
    }))
}

fn found(inventory: &AzureInventory, id: &str) -> Vec<(Option<IdentityId>, Finding)> {
    azure_findings(inventory, now())
        .into_iter()
        .filter(|(_, finding)| finding.id == id)
        .collect()
}

fn severities(inventory: &AzureInventory, id: &str) -> Vec<Severity> {
    found(inventory, id)
        .into_iter()
        .map(|(_, finding)| finding.severity)
        .collect()
}

fn mi_identity() -> Option<IdentityId> {
    Some(IdentityId::new(
        Provider::Azure,
        &MI_PRINCIPAL.to_ascii_lowercase(),
    ))
}

// ------------------------------------------------------------ azure-federated-pull-request-write

const PR_WRITE: &str = "azure-federated-pull-request-write";

#[test]
fn pull_request_subject_on_a_writing_role_is_high_and_on_owner_critical() {
    let contributor = identity_with_role(
        vec![github_subject("repo:acme/web:pull_request")],
        CONTRIBUTOR,
    );
    let findings = found(&contributor, PR_WRITE);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, mi_identity());
    assert_eq!(findings[0].1.severity, Severity::High);
    assert_eq!(findings[0].1.confidence, Confidence::High);
    assert_eq!(
        findings[0].1.subject,
        "federated credential `fic0` of managed identity `ci`"
    );
    let owner = identity_with_role(vec![github_subject("repo:acme/web:pull_request")], OWNER);
    assert_eq!(severities(&owner, PR_WRITE), vec![Severity::Critical]);
    let uaa = identity_with_role(
        vec![github_subject("repo:acme/web:pull_request")],
        USER_ACCESS_ADMINISTRATOR,
    );
    assert_eq!(severities(&uaa, PR_WRITE), vec![Severity::Critical]);
}

#[test]
fn any_environment_and_open_context_expressions_reach_write() {
    let environment = identity_with_role(
        vec![github_expression(
            "claims['sub'] matches 'repo:acme/web:environment:*'",
        )],
        CONTRIBUTOR,
    );
    let findings = found(&environment, PR_WRITE);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].1.severity, Severity::High);
    // Environment protection rules, invisible here, may still stop pull-request jobs.
    assert_eq!(findings[0].1.confidence, Confidence::Medium);
    for open in [
        "claims['sub'] matches 'repo:acme/web:*'",
        "claims['sub'] matches 'repo:acme/*:pull_request'",
        "claims['sub'] eq 'repo:acme/web:ref:refs/heads/main' or claims['sub'] eq 'repo:acme/web:pull_request'",
    ] {
        let inventory = identity_with_role(vec![github_expression(open)], CONTRIBUTOR);
        assert_eq!(
            severities(&inventory, PR_WRITE),
            vec![Severity::High],
            "{open}"
        );
    }
}

#[test]
fn pull_request_subjects_on_roles_that_only_read_are_not_reported() {
    for role in [READER, "99999999-0000-0000-0000-00000000000a"] {
        let mut inventory =
            identity_with_role(vec![github_subject("repo:acme/web:pull_request")], role);
        // A custom role that allows everything but removes every write, delete and action.
        inventory.role_definitions = serde_json::from_value(json!([custom_role(
            "99999999-0000-0000-0000-00000000000a",
            "all but write",
            &["*"],
            &["*/write", "*/delete", "*/action"],
        )]))
        .unwrap();
        assert!(severities(&inventory, PR_WRITE).is_empty(), "{role}");
    }
}

#[test]
fn protected_subjects_on_owner_are_not_pull_request_findings() {
    for subject in [
        "repo:acme/web:ref:refs/heads/main",
        "repo:acme/web:environment:production",
        "repo:acme/web:ref:refs/tags/v1",
    ] {
        let inventory = identity_with_role(vec![github_subject(subject)], OWNER);
        assert!(severities(&inventory, PR_WRITE).is_empty(), "{subject}");
    }
}

#[test]
fn an_unknown_role_definition_counts_as_writing_with_low_confidence() {
    let inventory = identity_with_role(
        vec![github_subject("repo:acme/web:pull_request")],
        "12345678-0000-0000-0000-0000000000ff",
    );
    let findings = found(&inventory, PR_WRITE);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].1.confidence, Confidence::Low);
}

#[test]
fn an_unknown_role_definition_is_a_possible_escalation_with_low_confidence() {
    // Before: a custom role whose definition was not collected dropped the escalation finding
    // of the identity holding it (the demo's `id-rbac-bootstrap` lost its critical finding).
    let inventory = identity_with_role(
        vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
        "12345678-0000-0000-0000-0000000000ff",
    );
    let findings = found(&inventory, "azure-ci-escalation");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].1.confidence, Confidence::Low);
    assert!(
        findings[0]
            .1
            .message
            .contains("may create role assignments"),
        "{}",
        findings[0].1.message
    );
    // A known role that only reads is no escalation.
    let reader = identity_with_role(
        vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    );
    assert!(found(&reader, "azure-ci-escalation").is_empty());
}

#[test]
fn application_credentials_are_filed_under_the_service_principal_of_the_app() {
    let app = json!({"id": "eeeeeeee-0000-0000-0000-000000000005", "appId": APP_ID,
        "displayName": "deploy",
        "federatedIdentityCredentials": [{"id": "f1", "name": "pr", "issuer": GITHUB,
            "subject": "repo:acme/web:pull_request", "audiences": ["api://AzureADTokenExchange"]}]});
    let with_principal = inventory(json!({
        "applications": [app],
        "service_principals": [{"id": SP_ID.to_ascii_uppercase(), "appId": APP_ID}],
        "role_assignments": [assignment(SP_ID, CONTRIBUTOR, SUB)],
    }));
    let findings = found(&with_principal, PR_WRITE);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].0, Some(IdentityId::new(Provider::Azure, SP_ID)));
    // Without its service principal the app has no role assignments to judge; the other
    // checks file what they find under no identity.
    let alone = inventory(json!({"applications": [json!({"id": "e", "appId": APP_ID,
        "federatedIdentityCredentials": [{"id": "f1", "name": "any", "issuer": GITHUB,
            "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:*'", "languageVersion": 1}}]})]}));
    assert!(found(&alone, PR_WRITE).is_empty());
    let wildcard = found(&alone, "azure-flexible-credential-wildcard");
    assert_eq!(wildcard.len(), 1);
    assert_eq!(wildcard[0].0, None);
    // `repo:*` has GitHub's form: the issuer fits it.
    assert!(found(&alone, "azure-unexpected-issuer").is_empty());
}

// ------------------------------------------------------------ azure-flexible-credential-wildcard

const WILDCARD: &str = "azure-flexible-credential-wildcard";

#[test]
fn flexible_expressions_open_on_repository_owner_or_branch_are_reported() {
    for (expression, expected) in [
        ("claims['sub'] matches 'repo:*'", Severity::Critical),
        (
            "claims['sub'] matches 'repo:*/infra:ref:refs/heads/main'",
            Severity::Critical,
        ),
        (
            "claims['sub'] matches 'repo:acme/*:ref:refs/heads/main'",
            Severity::High,
        ),
        (
            "claims['sub'] matches 'repo:acme/web:ref:refs/heads/*'",
            Severity::Medium,
        ),
        (
            "claims['sub'] matches 'repo:acme/web:environment:*'",
            Severity::Medium,
        ),
        (
            "claims['job_workflow_ref'] matches 'acme/workflows/.github/workflows/deploy.yml@*'",
            Severity::High,
        ),
        // No condition on `sub` at all.
        ("claims['environment'] eq 'production'", Severity::Critical),
        // One open alternative opens the whole credential.
        (
            "claims['sub'] eq 'repo:acme/web:ref:refs/heads/main' or claims['sub'] matches 'repo:*'",
            Severity::Critical,
        ),
        (
            "CLAIMS['sub'] MATCHES 'repo:acme/*:ref:refs/heads/main' AND claims['job_workflow_ref'] eq 'x'",
            Severity::High,
        ),
    ] {
        let inventory = identity_with_role(vec![github_expression(expression)], READER);
        assert_eq!(
            severities(&inventory, WILDCARD),
            vec![expected],
            "{expression}"
        );
    }
}

#[test]
fn exact_flexible_expressions_and_plain_subjects_are_not_reported() {
    for expression in [
        "claims['sub'] eq 'repo:acme/web:ref:refs/heads/main'",
        "claims['sub'] matches 'repo:acme/web:ref:refs/heads/main'",
        "claims['sub'] matches 'repo:acme/web:environment:production' and claims['job_workflow_ref'] eq 'acme/wf/.github/workflows/d.yml@refs/heads/main'",
        // The second clause narrows the first to one repository and branch.
        "claims['sub'] matches 'repo:acme/*:ref:refs/heads/main' and claims['sub'] eq 'repo:acme/web:ref:refs/heads/main'",
    ] {
        let inventory = identity_with_role(vec![github_expression(expression)], READER);
        assert!(
            severities(&inventory, WILDCARD).is_empty(),
            "{expression}: {:?}",
            found(&inventory, WILDCARD)
        );
    }
    let plain = identity_with_role(vec![github_subject("repo:acme/web:pull_request")], READER);
    assert!(severities(&plain, WILDCARD).is_empty());
}

#[test]
fn unreadable_flexible_expressions_are_reported_as_not_judged() {
    for expression in [
        "claims['sub'] contains 'repo:acme/web'",
        "(claims['sub'] matches 'repo:acme/web:*')",
        "claims['sub'] matches 'repo:acme/web:ref:refs/heads/main",
        "claims['sub'] matches 'repo:acme/web:ref:refs/heads/main' xor claims['sub'] eq 'x'",
        "",
    ] {
        let inventory = identity_with_role(vec![github_expression(expression)], OWNER);
        let findings = found(&inventory, WILDCARD);
        assert_eq!(findings.len(), 1, "{expression}");
        assert_eq!(findings[0].1.severity, Severity::Medium);
        assert_eq!(findings[0].1.confidence, Confidence::Low);
        assert!(findings[0].1.message.contains("cannot be judged"));
        // Not judged is never safe: the escalation check counts it as loose.
        assert_eq!(
            severities(&inventory, "azure-ci-escalation"),
            vec![Severity::Critical],
            "{expression}"
        );
    }
}

#[test]
fn expression_parser_reads_clauses_and_alternatives() {
    let parsed = expression::parse(
        "claims['sub'] matches 'a*' and claims['job_workflow_ref'] eq 'b' or claims['sub'] eq 'c'",
    )
    .unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].len(), 2);
    assert_eq!(parsed[0][1].claim, "job_workflow_ref");
    assert_eq!(parsed[0][1].operator, expression::Operator::Eq);
    assert_eq!(parsed[1][0].comparand, "c");
    assert!(expression::parse("claims[sub] eq 'c'").is_err());
    assert!(expression::parse("claims['sub'] eq 'c' and").is_err());
}

// ------------------------------------------------------------ azure-unexpected-issuer

const ISSUER: &str = "azure-unexpected-issuer";

fn credential(issuer: &str, subject: &str, audience: &str) -> Value {
    json!({"issuer": issuer, "subject": subject, "audiences": [audience]})
}

#[test]
fn subjects_trusted_from_an_issuer_of_another_form_are_high() {
    for (issuer, subject) in [
        ("https://gitlab.com", "repo:acme/web:ref:refs/heads/main"),
        (
            "https://gitlab.example.net",
            "repo:acme/web:ref:refs/heads/main",
        ),
        (GITHUB, "project_path:acme/web:ref_type:branch:ref:main"),
        (
            "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/",
            "repo:acme/web:environment:production",
        ),
        (
            GITHUB,
            "organization:acme:project:infra:workspace:prod:run_phase:apply",
        ),
    ] {
        let inventory = identity_with_role(
            vec![credential(issuer, subject, "api://AzureADTokenExchange")],
            READER,
        );
        let findings = found(&inventory, ISSUER);
        assert!(
            findings
                .iter()
                .any(|(_, finding)| finding.severity == Severity::High),
            "{issuer} {subject}: {findings:?}"
        );
        assert!(
            findings
                .iter()
                .all(|(identity, _)| *identity == mi_identity())
        );
    }
}

#[test]
fn an_issuer_nobody_knows_is_named_in_a_medium_finding() {
    let inventory = identity_with_role(
        vec![credential(
            "https://oidc.example.net/cluster",
            "system:serviceaccount:deploy:ci",
            "api://AzureADTokenExchange",
        )],
        READER,
    );
    let findings = found(&inventory, ISSUER);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].1.severity, Severity::Medium);
    assert!(
        findings[0]
            .1
            .message
            .contains("`https://oidc.example.net/cluster`")
    );
}

#[test]
fn matching_issuers_and_cluster_issuers_are_not_reported() {
    for (issuer, subject) in [
        (GITHUB, "repo:acme/web:ref:refs/heads/main"),
        (GITHUB, "repo:acme/web:pull_request"),
        (
            "https://gitlab.com",
            "project_path:acme/web:ref_type:branch:ref:main",
        ),
        (
            "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/",
            "system:serviceaccount:deploy:ci",
        ),
        (
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            "system:serviceaccount:deploy:ci",
        ),
        (
            "https://vstoken.dev.azure.com/0f1e2d3c-0000-0000-0000-000000000000",
            "sc://acme/infra/azure-prod",
        ),
        (
            "https://login.microsoftonline.com/0f1e2d3c-0000-0000-0000-000000000000/v2.0",
            "/eid1/c/pub/t/abc/a/def/sc/acme/conn",
        ),
    ] {
        let inventory = identity_with_role(
            vec![credential(issuer, subject, "api://AzureADTokenExchange")],
            READER,
        );
        assert!(
            found(&inventory, ISSUER).is_empty(),
            "{issuer} {subject}: {:?}",
            found(&inventory, ISSUER)
        );
    }
}

#[test]
fn a_ci_issuer_with_another_audience_or_a_foreign_subject_form_is_low() {
    let audience = identity_with_role(
        vec![credential(
            GITHUB,
            "repo:acme/web:ref:refs/heads/main",
            "api://custom-audience",
        )],
        READER,
    );
    assert_eq!(severities(&audience, ISSUER), vec![Severity::Low]);
    let national = identity_with_role(
        vec![credential(
            GITHUB,
            "repo:acme/web:ref:refs/heads/main",
            "api://AzureADTokenExchangeUSGov",
        )],
        READER,
    );
    assert!(severities(&national, ISSUER).is_empty());
    let gitlab_audience = identity_with_role(
        vec![credential(
            "https://gitlab.com",
            "project_path:acme/web:ref_type:branch:ref:main",
            "https://gitlab.com",
        )],
        READER,
    );
    assert_eq!(severities(&gitlab_audience, ISSUER), vec![Severity::Low]);
    let dead = identity_with_role(
        vec![credential(
            GITHUB,
            "system:serviceaccount:deploy:ci",
            "api://AzureADTokenExchange",
        )],
        READER,
    );
    assert_eq!(severities(&dead, ISSUER), vec![Severity::Low]);
}

// ------------------------------------------------------------ azure-client-secret

const SECRET: &str = "azure-client-secret";

fn app_with_credentials(passwords: Value, keys: Value) -> AzureInventory {
    inventory(json!({
        "applications": [{"id": "eeeeeeee-0000-0000-0000-000000000005", "appId": APP_ID,
            "displayName": "deploy", "passwordCredentials": passwords, "keyCredentials": keys}],
        "service_principals": [{"id": SP_ID, "appId": APP_ID}],
    }))
}

fn dated(key_id: &str, start: &str, end: &str) -> Value {
    json!({"keyId": key_id, "startDateTime": start, "endDateTime": end})
}

#[test]
fn client_secrets_expired_expiring_or_long_lived_are_reported() {
    for (start, end, expected) in [
        // Expired: clean-up.
        (
            "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Severity::Low,
        ),
        // Expires in ten days.
        (
            "2026-06-01T00:00:00Z",
            "2026-12-10T00:00:00Z",
            Severity::Medium,
        ),
        // Two years.
        (
            "2026-01-01T00:00:00Z",
            "2028-01-01T00:00:00Z",
            Severity::Medium,
        ),
        // No readable end.
        ("2026-01-01T00:00:00Z", "not a date", Severity::Medium),
    ] {
        let inventory = app_with_credentials(json!([dated("k1", start, end)]), json!([]));
        let findings = found(&inventory, SECRET);
        assert_eq!(findings.len(), 1, "{start} {end}");
        assert_eq!(findings[0].1.severity, expected, "{start} {end}");
        assert_eq!(findings[0].0, Some(IdentityId::new(Provider::Azure, SP_ID)));
    }
}

#[test]
fn certificates_rank_lower_than_secrets() {
    for (start, end, expected) in [
        (
            "2025-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            Severity::Info,
        ),
        (
            "2026-06-01T00:00:00Z",
            "2026-12-10T00:00:00Z",
            Severity::Low,
        ),
        (
            "2026-01-01T00:00:00Z",
            "2029-01-01T00:00:00Z",
            Severity::Low,
        ),
    ] {
        let inventory = app_with_credentials(json!([]), json!([dated("c1", start, end)]));
        assert_eq!(severities(&inventory, SECRET), vec![expected], "{end}");
    }
}

#[test]
fn short_lived_secrets_with_time_left_are_not_reported() {
    let inventory = app_with_credentials(
        json!([dated("k1", "2026-09-01T00:00:00Z", "2027-03-01T00:00:00Z")]),
        json!([dated("c1", "2026-09-01T00:00:00Z", "2027-06-01T00:00:00Z")]),
    );
    assert!(severities(&inventory, SECRET).is_empty());
}

#[test]
fn service_principal_secrets_are_reported_and_apps_without_one_have_no_identity() {
    let principal = inventory(json!({"service_principals": [{"id": SP_ID,
        "passwordCredentials": [dated("k9", "2024-01-01T00:00:00Z", "2099-01-01T00:00:00Z")]}]}));
    let findings = found(&principal, SECRET);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].0, Some(IdentityId::new(Provider::Azure, SP_ID)));
    let orphan = inventory(json!({"applications": [{"id": "e", "appId": APP_ID,
        "passwordCredentials": [dated("k1", "2024-01-01T00:00:00Z", "2099-01-01T00:00:00Z")]}]}));
    let findings = found(&orphan, SECRET);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].0, None);
}

// ------------------------------------------------------------ azure-ci-escalation

const ESCALATION: &str = "azure-ci-escalation";

#[test]
fn ci_identities_that_can_grant_roles_are_reported_with_the_scope() {
    for role in [OWNER, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR] {
        let inventory = identity_with_role(
            vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
            role,
        );
        let findings = found(&inventory, ESCALATION);
        assert_eq!(findings.len(), 1, "{role}");
        assert_eq!(findings[0].0, mi_identity());
        assert_eq!(findings[0].1.severity, Severity::High, "{role}");
        assert!(
            findings[0].1.message.contains(SUB),
            "{}",
            findings[0].1.message
        );
    }
    for loose in [
        github_subject("repo:acme/infra:pull_request"),
        github_expression("claims['sub'] matches 'repo:acme/*:ref:refs/heads/main'"),
        github_expression("claims['sub'] matches 'repo:acme/infra:environment:*'"),
    ] {
        let inventory = identity_with_role(vec![loose.clone()], OWNER);
        assert_eq!(
            severities(&inventory, ESCALATION),
            vec![Severity::Critical],
            "{loose}"
        );
    }
}

#[test]
fn custom_roles_reaching_role_assignment_writes_escalate_unless_not_actions_remove_them() {
    for (actions, not_actions, escalates) in [
        (vec!["Microsoft.Authorization/*"], vec![], true),
        (
            vec!["Microsoft.Authorization/roleAssignments/*"],
            vec![],
            true,
        ),
        (vec!["*/write"], vec![], true),
        (
            vec!["Microsoft.Authorization/roleDefinitions/write"],
            vec![],
            true,
        ),
        (
            vec!["*"],
            vec![
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/*/Delete",
            ],
            false,
        ),
        (
            vec!["Microsoft.Authorization/*"],
            vec![
                "Microsoft.Authorization/roleAssignments/write",
                "Microsoft.Authorization/roleDefinitions/write",
            ],
            false,
        ),
        (vec!["Microsoft.Web/sites/*"], vec![], false),
    ] {
        let mut inventory = identity_with_role(
            vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
            "77777777-0000-0000-0000-000000000007",
        );
        inventory.role_definitions = serde_json::from_value(json!([custom_role(
            "77777777-0000-0000-0000-000000000007",
            "custom",
            &actions,
            &not_actions,
        )]))
        .unwrap();
        assert_eq!(
            !severities(&inventory, ESCALATION).is_empty(),
            escalates,
            "{actions:?} minus {not_actions:?}"
        );
    }
}

#[test]
fn contributor_and_identities_without_ci_credentials_do_not_escalate() {
    let contributor = identity_with_role(
        vec![github_subject("repo:acme/infra:pull_request")],
        CONTRIBUTOR,
    );
    assert!(severities(&contributor, ESCALATION).is_empty());
    // An owner with neither a federated credential nor a secret is no CI identity.
    let human = inventory(json!({
        "service_principals": [{"id": SP_ID, "appId": APP_ID}],
        "role_assignments": [assignment(SP_ID, OWNER, SUB)],
    }));
    assert!(severities(&human, ESCALATION).is_empty());
}

#[test]
fn a_secret_holding_application_with_user_access_administrator_is_high() {
    let rg = format!("{SUB}/resourceGroups/app");
    let inventory = inventory(json!({
        "applications": [{"id": "e", "appId": APP_ID, "displayName": "legacy",
            "passwordCredentials": [dated("k1", "2026-09-01T00:00:00Z", "2027-03-01T00:00:00Z")]}],
        "service_principals": [{"id": SP_ID, "appId": APP_ID}],
        "role_assignments": [assignment(SP_ID, USER_ACCESS_ADMINISTRATOR, &rg)],
    }));
    let findings = found(&inventory, ESCALATION);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].1.severity, Severity::High);
    assert!(findings[0].1.message.contains(&rg));
    assert_eq!(
        findings[0].1.subject,
        format!("application `legacy` (`{APP_ID}`)")
    );
}

#[test]
fn conditions_lower_confidence_and_deny_assignments_clear_escalation() {
    let mut conditional = identity_with_role(
        vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
        RBAC_ADMINISTRATOR,
    );
    conditional.role_assignments[0].properties.condition = Some(
        "@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}".into(),
    );
    let findings = found(&conditional, ESCALATION);
    assert_eq!(findings[0].1.confidence, Confidence::Medium);
    let mut denied = identity_with_role(
        vec![github_subject("repo:acme/infra:ref:refs/heads/main")],
        OWNER,
    );
    denied.deny_assignments = serde_json::from_value(json!([{"id": "d1", "name": "d1",
        "properties": {"scope": SUB, "principals": [{"id": MI_PRINCIPAL.to_ascii_lowercase()}],
            "permissions": [{"actions": ["Microsoft.Authorization/roleAssignments/write"]}]}}]))
    .unwrap();
    assert!(severities(&denied, ESCALATION).is_empty());
    // A deny that excludes the identity does not apply to it.
    denied.deny_assignments[0].properties.principals[0].id =
        "00000000-0000-0000-0000-000000000000".into();
    denied.deny_assignments[0].properties.exclude_principals =
        serde_json::from_value(json!([{"id": MI_PRINCIPAL}])).unwrap();
    assert_eq!(severities(&denied, ESCALATION), vec![Severity::High]);
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let inventory = identity_with_role(
        vec![
            github_subject("repo:acme/web:pull_request"),
            github_expression("claims['sub'] matches 'repo:*'"),
        ],
        OWNER,
    );
    let first = azure_findings(&inventory, now());
    let mut sorted = first.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(first, sorted);
    assert_eq!(first, azure_findings(&inventory, now()));
    assert!(first.len() >= 3);
}

/// The app's secret `k1`, valid nine months (neither long-lived nor expiring at [`now`]), with
/// the given credential sign-in report (`None`: not collected).
fn secret_with_report(report: Option<Value>, certificate: bool) -> AzureInventory {
    let credential = dated("k1", "2026-06-01T00:00:00Z", "2027-03-01T00:00:00Z");
    let mut inventory = if certificate {
        app_with_credentials(json!([]), json!([credential]))
    } else {
        app_with_credentials(json!([credential]), json!([]))
    };
    inventory.credential_sign_ins = report.map(|report| serde_json::from_value(report).unwrap());
    inventory
}

fn sign_in(key_id: &str, last: Option<&str>) -> Value {
    let mut row = json!({"keyId": key_id, "appId": APP_ID, "keyType": "clientSecret",
        "credentialOrigin": "application", "servicePrincipalObjectId": SP_ID});
    if let Some(last) = last {
        row["signInActivity"] = json!({"lastSignInDateTime": last, "lastSignInRequestId": "r"});
    }
    row
}

#[test]
fn credential_use_unknown_without_the_sign_in_report_is_never_called_unused() {
    let inventory = secret_with_report(None, false);
    assert!(found(&inventory, SECRET).is_empty());
}

#[test]
fn credentials_used_recently_are_not_reported_and_their_last_sign_in_is_evidence() {
    // Two rows (two resources), the later one decides; the key id's case does not matter.
    let report = json!([
        sign_in("K1", Some("2026-05-01T00:00:00Z")),
        sign_in("k1", Some("2026-11-20T08:00:00-08:00")),
    ]);
    let inventory = secret_with_report(Some(report), false);
    assert!(found(&inventory, SECRET).is_empty());
    // A long-lived one used recently is reported for its lifetime, with the sign-in as evidence.
    let mut long_lived = app_with_credentials(
        json!([dated("k1", "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z")]),
        json!([]),
    );
    long_lived.credential_sign_ins =
        Some(serde_json::from_value(json!([sign_in("k1", Some("2026-11-20T16:00:00Z"))])).unwrap());
    let findings = found(&long_lived, SECRET);
    assert_eq!(findings.len(), 1);
    assert!(
        !findings[0].1.message.contains("signed in"),
        "{}",
        findings[0].1.message
    );
    assert!(
        findings[0].1.evidence[0]
            .detail
            .ends_with("last sign-in 2026-11-20T16:00:00Z"),
        "{}",
        findings[0].1.evidence[0].detail
    );
}

/// Idleness is measured up to when the sign-in report was read, not up to now: a report
/// collected 16 days after the last sign-in says nothing of the months since, whatever the
/// clock says when the snapshot is analysed.
#[test]
fn an_old_sign_in_report_never_makes_a_credential_look_unused() {
    let report = json!([sign_in("k1", Some("2026-06-15T00:00:00Z"))]);
    let mut inventory = secret_with_report(Some(report), false);
    inventory.collected_at = "2026-07-01T00:00:00Z".to_owned();
    let findings = found(&inventory, SECRET);
    assert!(
        findings
            .iter()
            .all(|(_, finding)| !finding.message.contains("not signed in")),
        "{findings:?}"
    );
}

#[test]
fn credentials_without_a_sign_in_for_ninety_days_are_reported_unused() {
    let report = json!([sign_in("k1", Some("2026-06-15T00:00:00Z"))]);
    let findings = found(&secret_with_report(Some(report.clone()), false), SECRET);
    assert_eq!(findings.len(), 1);
    let finding = &findings[0].1;
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.confidence, Confidence::High);
    assert!(
        finding.message.contains(
            "has not signed in since 2026-06-15 (168 days before the sign-in report of 2026-11-30)"
        ),
        "{}",
        finding.message
    );
    // A certificate ranks one step lower.
    let findings = found(&secret_with_report(Some(report), true), SECRET);
    assert_eq!(findings[0].1.severity, Severity::Low);
    // Exactly ninety days ago is still in use.
    let report = json!([sign_in("k1", Some("2026-09-01T00:00:00Z"))]);
    assert!(found(&secret_with_report(Some(report), false), SECRET).is_empty());
}

#[test]
fn credentials_missing_from_the_sign_in_report_are_reported_with_medium_confidence() {
    for report in [
        json!([]),
        json!([sign_in("some-other-key", Some("2026-11-29T00:00:00Z"))]),
        json!([sign_in("k1", None)]),
    ] {
        let findings = found(&secret_with_report(Some(report.clone()), false), SECRET);
        assert_eq!(findings.len(), 1, "{report}");
        let finding = &findings[0].1;
        assert_eq!(finding.confidence, Confidence::Medium, "{report}");
        assert!(
            finding
                .message
                .contains("no sign-in in Microsoft Entra's credential activity report"),
            "{}",
            finding.message
        );
    }
    // With a certain reason beside it (a two-year secret), the finding is certain.
    let mut long_lived = app_with_credentials(
        json!([dated("k1", "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z")]),
        json!([]),
    );
    long_lived.credential_sign_ins = Some(Vec::new());
    let findings = found(&long_lived, SECRET);
    assert_eq!(findings[0].1.confidence, Confidence::High);
    assert!(findings[0].1.message.contains("no sign-in"));
}
