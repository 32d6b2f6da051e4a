use super::*;
use serde_json::{Value, json};

const POOL: &str = "projects/4151/locations/global/workloadIdentityPools/github";

fn provider(issuer: &str, condition: Option<&str>) -> Value {
    json!({
        "name": format!("{POOL}/providers/actions"),
        "state": "ACTIVE",
        "attribute_mapping": {"google.subject": "assertion.sub"},
        "attribute_condition": condition,
        "oidc": {"issuer_uri": issuer},
        "protocol": "oidc"
    })
}

fn inventory(
    providers: Vec<Value>,
    account_policy: Value,
    project_bindings: Value,
) -> GcpInventory {
    serde_json::from_value(json!({
        "format_version": 1, "scope": ["projects/app"], "collected_at": "2026-11-29T00:00:00Z",
        "projects": [{"name": "projects/4151", "project_id": "app",
            "iam_policy": {"bindings": project_bindings}}],
        "service_accounts": [{"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com",
            "project_id": "app", "email": "ci@app.iam.gserviceaccount.com",
            "iam_policy": {"bindings": account_policy},
            "keys": [
              {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k1",
               "key_type": "USER_MANAGED", "valid_before_time": "9999-12-31T23:59:59Z"},
              {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k2",
               "key_type": "SYSTEM_MANAGED"},
              {"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k3",
               "key_type": "USER_MANAGED", "disabled": true}
            ]}],
        "workload_identity_pools": [{"name": POOL, "state": "ACTIVE", "providers": providers}]
    }))
    .unwrap()
}

fn ids(findings: &[Finding], id: &str) -> Vec<(Severity, String)> {
    findings
        .iter()
        .filter(|f| f.id == id)
        .map(|f| (f.severity, f.subject.clone()))
        .collect()
}

const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn repo_grant() -> Value {
    json!([{"role": "roles/iam.workloadIdentityUser",
            "members": [format!("principalSet://iam.googleapis.com/{POOL}/attribute.repository/acme/web")]}])
}

#[test]
fn a_github_provider_without_condition_is_critical_when_an_account_is_open_to_its_pool() {
    let unsafe_ = gcp_findings(&inventory(
        vec![provider(GITHUB, None)],
        repo_grant(),
        json!([]),
    ));
    assert_eq!(
        ids(&unsafe_, "gcp-wif-provider-without-condition"),
        vec![(
            Severity::Critical,
            format!("WIF provider `{POOL}/providers/actions`")
        )]
    );
    let unused = gcp_findings(&inventory(
        vec![provider(GITHUB, Some(""))],
        json!([]),
        json!([]),
    ));
    assert_eq!(
        ids(&unused, "gcp-wif-provider-without-condition")[0].0,
        Severity::High
    );
    let safe = gcp_findings(&inventory(
        vec![provider(
            GITHUB,
            Some("assertion.repository_owner_id == '123'"),
        )],
        repo_grant(),
        json!([]),
    ));
    assert!(ids(&safe, "gcp-wif-provider-without-condition").is_empty());
    // A company's own issuer is not shared: no condition is not the same risk.
    let own = gcp_findings(&inventory(
        vec![provider("https://gitlab.acme.internal", None)],
        repo_grant(),
        json!([]),
    ));
    assert!(ids(&own, "gcp-wif-provider-without-condition").is_empty());
}

#[test]
fn conditions_must_pin_the_owner_positively() {
    for (condition, unsafe_) in [
        ("assertion.ref == 'refs/heads/main'", true),
        ("assertion.repository_visibility != 'public'", true),
        ("assertion.repository_owner != 'evil'", true),
        ("!(assertion.repository_owner == 'acme')", true),
        ("assertion.repository_owner == 'acme'", false),
        (
            "assertion.repository_owner_id=='123' && assertion.ref == 'refs/heads/main'",
            false,
        ),
        ("assertion.repository.startsWith('acme/')", false),
        ("assertion.repository in ['acme/web', 'acme/api']", false),
        ("attribute.repository_owner == 'acme'", false),
        (
            "assertion.sub == 'repo:acme/web:ref:refs/heads/main'",
            false,
        ),
    ] {
        let findings = gcp_findings(&inventory(
            vec![provider(GITHUB, Some(condition))],
            repo_grant(),
            json!([]),
        ));
        assert_eq!(
            !ids(&findings, "gcp-wif-condition-without-owner").is_empty(),
            unsafe_,
            "{condition}"
        );
    }
    // GitLab's claim names.
    let gitlab = gcp_findings(&inventory(
        vec![provider(
            "https://gitlab.com",
            Some("assertion.namespace_path == 'acme'"),
        )],
        repo_grant(),
        json!([]),
    ));
    assert!(ids(&gitlab, "gcp-wif-condition-without-owner").is_empty());
    let gitlab = gcp_findings(&inventory(
        vec![provider(
            "https://gitlab.com",
            Some("assertion.ref == 'main'"),
        )],
        repo_grant(),
        json!([]),
    ));
    assert_eq!(ids(&gitlab, "gcp-wif-condition-without-owner").len(), 1);
}

#[test]
fn pool_wide_and_owner_wide_principal_sets_are_found_and_one_repository_is_not() {
    let pool = gcp_findings(&inventory(
        vec![],
        json!([{"role": "roles/iam.workloadIdentityUser",
                "members": [format!("principalSet://iam.googleapis.com/{POOL}/*")]}]),
        json!([]),
    ));
    assert_eq!(
        ids(&pool, "gcp-wif-pool-wide-principal-set")[0].0,
        Severity::High
    );
    let owner = gcp_findings(&inventory(
        vec![],
        json!([{"role": "roles/iam.serviceAccountTokenCreator",
                "members": [format!("principalSet://iam.googleapis.com/{POOL}/attribute.repository_owner/acme")]}]),
        json!([]),
    ));
    assert_eq!(
        ids(&owner, "gcp-wif-pool-wide-principal-set")[0].0,
        Severity::Medium
    );
    let one = gcp_findings(&inventory(vec![], repo_grant(), json!([])));
    assert!(ids(&one, "gcp-wif-pool-wide-principal-set").is_empty());
    // Viewing the account's policy is not acting as it.
    let viewer = gcp_findings(&inventory(
        vec![],
        json!([{"role": "roles/iam.serviceAccountViewer",
                "members": [format!("principalSet://iam.googleapis.com/{POOL}/*")]}]),
        json!([]),
    ));
    assert!(ids(&viewer, "gcp-wif-pool-wide-principal-set").is_empty());
}

#[test]
fn only_enabled_user_managed_keys_are_reported() {
    let findings = gcp_findings(&inventory(vec![], json!([]), json!([])));
    let keys: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.id == "gcp-user-managed-key")
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].message.contains("`k1`") && keys[0].message.contains("never expires"));
}

#[test]
fn impersonation_roles_on_a_project_are_found_and_on_one_account_are_not() {
    let project = gcp_findings(&inventory(
        vec![],
        json!([]),
        json!([{"role": "roles/iam.serviceAccountTokenCreator",
                "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]},
               {"role": "roles/iam.serviceAccountUser",
                "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"],
                "condition": {"title": "t", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}}]),
    ));
    let found = ids(&project, "gcp-impersonation-at-container-level");
    assert_eq!(found.len(), 2);
    assert!(found.contains(&(
        Severity::High,
        "service account `ci@app.iam.gserviceaccount.com`".to_string()
    )));
    assert!(
        found
            .iter()
            .any(|(severity, _)| *severity == Severity::Medium)
    );
    let account_level = gcp_findings(&inventory(
        vec![],
        json!([{"role": "roles/iam.serviceAccountTokenCreator",
                "members": ["serviceAccount:other@app.iam.gserviceaccount.com"]}]),
        json!([]),
    ));
    assert!(ids(&account_level, "gcp-impersonation-at-container-level").is_empty());
}

#[test]
fn basic_roles_on_service_accounts_are_found_and_on_people_are_not() {
    let findings = gcp_findings(&inventory(
        vec![],
        json!([]),
        json!([{"role": "roles/owner", "members": ["serviceAccount:ci@app.iam.gserviceaccount.com", "user:alice@acme.com"]},
               {"role": "roles/editor", "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]},
               {"role": "roles/viewer", "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]}]),
    ));
    let found = ids(&findings, "gcp-basic-role-on-service-account");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].0.max(found[1].0), Severity::High);
}

#[test]
fn every_check_documents_itself() {
    for check in CHECKS {
        for heading in [
            "**What it finds:**",
            "**Why it matters:**",
            "**Example:**",
            "**Remediation:**",
        ] {
            assert!(
                check.source.contains(heading),
                "{} lacks {heading}",
                check.id
            );
        }
        assert!(
            check
                .source
                .contains(&format!("pub const ID: &str = \"{}\";", check.id))
        );
        assert!(
            check.source.contains("https://"),
            "{} cites no documentation",
            check.id
        );
    }
}

fn project_admin_for_ci() -> Value {
    json!([{"role": "roles/resourcemanager.projectIamAdmin",
            "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]}])
}

#[test]
fn a_repository_principal_set_without_an_event_or_ref_pin_lets_pull_requests_set_iam_policy() {
    let owner_only = gcp_findings(&inventory(
        vec![provider(
            GITHUB,
            Some("assertion.repository_owner == 'acme'"),
        )],
        repo_grant(),
        project_admin_for_ci(),
    ));
    assert_eq!(
        ids(&owner_only, "gcp-pull-request-reaches-set-iam-policy"),
        vec![(
            Severity::Critical,
            "service account `ci@app.iam.gserviceaccount.com`".to_string()
        )]
    );
    // A pull-request subject named outright is the same kind.
    let subject = gcp_findings(&inventory(
        vec![provider(
            GITHUB,
            Some("assertion.repository_owner == 'acme'"),
        )],
        json!([{"role": "roles/iam.workloadIdentityUser",
                "members": [format!("principal://iam.googleapis.com/{POOL}/subject/repo:acme/web:pull_request")]}]),
        project_admin_for_ci(),
    ));
    assert_eq!(
        ids(&subject, "gcp-pull-request-reaches-set-iam-policy").len(),
        1
    );
}

#[test]
fn pinning_the_ref_or_holding_no_set_iam_policy_is_not_flagged() {
    let pinned = gcp_findings(&inventory(
        vec![provider(
            GITHUB,
            Some("assertion.repository_owner == 'acme' && assertion.ref == 'refs/heads/main'"),
        )],
        repo_grant(),
        project_admin_for_ci(),
    ));
    assert!(ids(&pinned, "gcp-pull-request-reaches-set-iam-policy").is_empty());
    let viewer = gcp_findings(&inventory(
        vec![provider(
            GITHUB,
            Some("assertion.repository_owner == 'acme'"),
        )],
        repo_grant(),
        json!([{"role": "roles/viewer",
                "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]}]),
    ));
    assert!(ids(&viewer, "gcp-pull-request-reaches-set-iam-policy").is_empty());
}
