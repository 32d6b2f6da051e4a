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

fn with_deny(mut inventory: GcpInventory, rule: Value) -> GcpInventory {
    inventory.deny_policies = vec![
        serde_json::from_value(json!({
            "attachment_point": "projects/4151",
            "name": "policies/cloudresourcemanager.googleapis.com%2Fprojects%2F4151/denypolicies/d",
            "rules": [rule]
        }))
        .unwrap(),
    ];
    inventory
}

/// Deny is checked before allow (<https://cloud.google.com/iam/docs/deny-overview>): a
/// `setIamPolicy` the account is denied for certain on the project is no escalation; a
/// conditional or group-scoped deny leaves the finding, naming the rule.
#[test]
fn a_set_iam_policy_denied_for_certain_is_not_reachable_and_a_possible_deny_is_named() {
    let base = || {
        inventory(
            vec![provider(
                GITHUB,
                Some("assertion.repository_owner == 'acme'"),
            )],
            repo_grant(),
            project_admin_for_ci(),
        )
    };
    let denied = gcp_findings(&with_deny(
        base(),
        json!({"denied_principals": ["principal://iam.googleapis.com/projects/-/serviceAccounts/ci@app.iam.gserviceaccount.com"],
               "denied_permissions": ["cloudresourcemanager.googleapis.com/projects.setIamPolicy"]}),
    ));
    assert!(ids(&denied, "gcp-pull-request-reaches-set-iam-policy").is_empty());
    let possible = gcp_findings(&with_deny(
        base(),
        json!({"denied_principals": ["principalSet://goog/group/ci@acme.example"],
               "denied_permissions": ["cloudresourcemanager.googleapis.com/projects.setIamPolicy"]}),
    ));
    let found: Vec<&Finding> = possible
        .iter()
        .filter(|f| f.id == "gcp-pull-request-reaches-set-iam-policy")
        .collect();
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .evidence
            .iter()
            .any(|e| e.source.contains("deny policy") && e.detail.starts_with("may deny")),
        "{:?}",
        found[0].evidence
    );
    // A deny on another permission changes nothing.
    let other = gcp_findings(&with_deny(
        base(),
        json!({"denied_principals": ["principalSet://goog/public:all"],
               "denied_permissions": ["storage.googleapis.com/buckets.delete"]}),
    ));
    assert_eq!(
        ids(&other, "gcp-pull-request-reaches-set-iam-policy").len(),
        1
    );
}

mod key_use {
    use super::*;
    use crate::gcp::audit_log::{AuditLogUsage, KeyUse, LogType};
    use crate::gcp::checks::user_managed_key::{self, KeyUseEvidence, KeyUseVerdict, annotate};
    use crate::model::ObservationWindow;
    use chrono::TimeZone;
    use std::collections::BTreeSet;

    const K1: &str = "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k1";

    fn window() -> ObservationWindow {
        ObservationWindow {
            since: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            until: chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
        }
    }

    fn logs(used: bool, data_access: bool) -> AuditLogUsage {
        let mut usage = AuditLogUsage::default();
        usage.coverage.entries_in_window = 10;
        usage.coverage.log_types.insert(LogType::Activity, 5);
        if data_access {
            usage.coverage.log_types.insert(LogType::DataAccess, 5);
        }
        if used {
            usage.key_use.insert(
                "//iam.googleapis.com/projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com/keys/k1"
                    .to_string(),
                KeyUse {
                    calls: 3,
                    first: chrono::Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap(),
                    last: chrono::Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap(),
                },
            );
        }
        usage
    }

    /// The `gcp-user-managed-key` finding of `k1` after annotation.
    fn finding(usage: Option<&AuditLogUsage>, covered: &[&str]) -> Finding {
        let raw = inventory(vec![], json!([]), json!([]));
        let covered: BTreeSet<String> = covered.iter().map(|c| c.to_string()).collect();
        let evidence = usage.map(|usage| KeyUseEvidence {
            usage,
            covered_projects: &covered,
            window: window(),
        });
        let mut findings = gcp_identity_findings(&raw);
        annotate(&raw, &mut findings, evidence.as_ref());
        findings
            .into_iter()
            .map(|(_, finding)| finding)
            .find(|f| f.id == "gcp-user-managed-key" && f.evidence[0].source == K1)
            .expect("finding of k1")
    }

    #[test]
    fn a_key_used_in_the_window_says_when_it_was_last_used() {
        let usage = logs(true, true);
        let found = finding(Some(&usage), &["projects/app"]);
        assert!(
            found.message.ends_with(", last used 2026-11-20T09:30:00Z"),
            "{}",
            found.message
        );
        assert!(
            found
                .evidence
                .iter()
                .any(|e| e.detail.starts_with("3 call(s)"))
        );
    }

    #[test]
    fn a_key_no_entry_names_is_unused_in_the_window_when_the_logs_cover_its_project() {
        let usage = logs(false, true);
        let found = finding(Some(&usage), &["projects/app"]);
        assert!(
            found.message.ends_with(", unused in the window (30 days)"),
            "{}",
            found.message
        );
        assert!(found.remediation.starts_with("unused in the window"));
    }

    #[test]
    fn without_logs_or_coverage_the_use_is_unknown_never_unused() {
        let without_logs = finding(None, &[]);
        assert!(without_logs.message.ends_with(", use unknown"));
        assert!(!without_logs.message.contains("unused"));
        assert!(
            without_logs
                .evidence
                .iter()
                .any(|e| e.detail.contains("no audit logs were read"))
        );
        // Logs that hold no call in the key's project.
        let usage = logs(false, true);
        let uncovered = finding(Some(&usage), &["projects/other"]);
        assert!(uncovered.message.ends_with(", use unknown"));
        // No Data Access logs: read-only calls with the key would not show.
        let usage = logs(false, false);
        let no_data_access = finding(Some(&usage), &["projects/app"]);
        assert!(no_data_access.message.ends_with(", use unknown"));
    }

    #[test]
    fn a_log_file_that_could_not_be_read_makes_an_unnamed_key_use_unknown_not_unused() {
        let mut usage = logs(false, true);
        usage
            .coverage
            .files_skipped
            .push(crate::model::SkippedSource::new(
                "sink/activity/2026/11/17/10:00:00_10:59:59_S0.json",
                "line 3 is not JSON",
            ));
        let found = finding(Some(&usage), &["projects/app"]);
        assert!(
            found.message.ends_with(", use unknown"),
            "{}",
            found.message
        );
        assert!(!found.remediation.starts_with("unused"));
        assert!(found.evidence.iter().any(|e| {
            e.detail
                .contains("1 log file(s) of the window could not be read")
        }));
        // A use that was read still counts, skipped files or not.
        let mut used = logs(true, true);
        used.coverage
            .files_skipped
            .push(crate::model::SkippedSource::new("x", "unreadable"));
        let found = finding(Some(&used), &["projects/app"]);
        assert!(found.message.contains(", last used "), "{}", found.message);
    }

    #[test]
    fn a_key_created_after_the_window_has_unknown_use() {
        let raw = inventory(vec![], json!([]), json!([]));
        let mut key = raw.service_accounts[0].keys.clone().unwrap()[0].clone();
        key.valid_after_time = Some("2026-12-15T00:00:00Z".to_string());
        let usage = logs(false, true);
        let covered: BTreeSet<String> = ["projects/app".to_string()].into();
        let evidence = KeyUseEvidence {
            usage: &usage,
            covered_projects: &covered,
            window: window(),
        };
        assert!(matches!(
            user_managed_key::key_use_verdict(&key, "projects/app", Some(&evidence)),
            KeyUseVerdict::Unknown(why) if why.contains("after the window")
        ));
    }
}
