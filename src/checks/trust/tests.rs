//! Trust-check tests: each rule with safe and unsafe trusts, including GitHub's subject forms
//! (branch, tag, environment, pull request, and the immutable `owner@id/repo@id` form).

use super::trust_findings;
use crate::aws::cloudtrail::{CiWorkload, CloudTrailUsage, Outcome, WebIdentitySession};
use crate::aws::inventory::AwsAccountInventory;
use crate::aws::normalize::normalize;
use crate::catalog::Catalog;
use crate::model::{Confidence, Finding, IdentityId, Severity};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const GITHUB: &str = "token.actions.githubusercontent.com";

fn account(roles: Vec<Value>, users: Vec<Value>, keys: Vec<Value>) -> AwsAccountInventory {
    let provider = |host: &str| {
        json!({ "arn": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"), "url": host,
                "client_ids": ["sts.amazonaws.com"], "thumbprints": [], "tags": {} })
    };
    serde_json::from_value(json!({
        "format_version": 1, "account_id": ACCOUNT, "partition": "aws",
        "collected_by": "test", "collected_at": "2026-11-22T00:00:00Z",
        "roles": roles, "users": users, "access_keys": keys,
        "oidc_providers": [provider(GITHUB), provider("gitlab.com"), provider("app.terraform.io")],
    }))
    .unwrap()
}

fn role(name: &str, trust: Value, policy: Value, production: bool) -> Value {
    let environment = if production { "production" } else { "staging" };
    json!({
        "arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"), "name": name,
        "role_id": format!("AROA{name}"), "path": "/",
        "trust_policy": trust.to_string(),
        "inline_policies": [{ "name": "p", "document": policy.to_string() }],
        "tags": { "environment": environment },
    })
}

fn federated(host: &str, conditions: Value) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": { "Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}") },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": conditions,
    }]})
}

/// A GitHub trust with the audience pinned and `sub` compared by `operator`.
fn github(operator: &str, subjects: &[&str]) -> Value {
    let mut conditions =
        json!({ "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" } });
    conditions
        .as_object_mut()
        .unwrap()
        .entry(operator)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap()
        .insert(format!("{GITHUB}:sub"), json!(subjects));
    federated(GITHUB, conditions)
}

fn allow(actions: &[&str], resource: &str) -> Value {
    json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": resource }]})
}

fn write_policy() -> Value {
    allow(&["s3:PutObject"], "arn:aws:s3:::bucket/*")
}

fn read_policy() -> Value {
    allow(&["s3:GetObject"], "arn:aws:s3:::bucket/*")
}

fn run(
    accounts: &[AwsAccountInventory],
    usage: Option<&CloudTrailUsage>,
) -> Vec<(IdentityId, Finding)> {
    let normalized = normalize(accounts);
    assert!(normalized.issues.is_empty(), "{:?}", normalized.issues);
    trust_findings(&normalized, usage, Catalog::aws().unwrap())
}

/// The findings with `id` for the single role of a one-role account.
fn findings_of(check: &str, trust: Value, policy: Value, production: bool) -> Vec<Finding> {
    run(
        &[account(
            vec![role("r", trust, policy, production)],
            vec![],
            vec![],
        )],
        None,
    )
    .into_iter()
    .filter(|(_, finding)| finding.id == check)
    .map(|(_, finding)| finding)
    .collect()
}

fn check(check: &str, trust: Value, policy: Value, expected: Option<Severity>) {
    let found = findings_of(check, trust.clone(), policy, true);
    assert_eq!(
        found.first().map(|finding| finding.severity),
        expected,
        "`{check}` on {trust}: {found:#?}"
    );
}

#[test]
fn trust_without_subject() {
    let id = "oidc-trust-without-subject";
    let gitlab_aud_only = federated(
        "gitlab.com",
        json!({ "StringEquals": { "gitlab.com:aud": "sts.amazonaws.com" } }),
    );
    check(id, gitlab_aud_only, read_policy(), Some(Severity::Critical));
    check(
        id,
        federated(GITHUB, json!({})),
        read_policy(),
        Some(Severity::Critical),
    );
    let gitlab_pinned = federated(
        "gitlab.com",
        json!({ "StringEquals": {
        "gitlab.com:aud": "sts.amazonaws.com",
        "gitlab.com:sub": "project_path:acme/docs:ref_type:branch:ref:main" } }),
    );
    check(id, gitlab_pinned, read_policy(), None);
    check(
        id,
        github("StringEquals", &["repo:acme/web:ref:refs/heads/main"]),
        read_policy(),
        None,
    );
}

#[test]
fn missing_audience() {
    let id = "oidc-missing-audience";
    let no_aud = federated(
        GITHUB,
        json!({ "StringEquals": { format!("{GITHUB}:sub"): "repo:acme/web:ref:refs/heads/main" } }),
    );
    check(id, no_aud, read_policy(), Some(Severity::Low));
    check(
        id,
        github("StringEquals", &["repo:acme/web:ref:refs/heads/main"]),
        read_policy(),
        None,
    );
}

#[test]
fn subject_wildcards() {
    let id = "oidc-subject-wildcard";
    check(
        id,
        github("StringLike", &["repo:*"]),
        read_policy(),
        Some(Severity::Critical),
    );
    check(
        id,
        github("StringLike", &["*"]),
        read_policy(),
        Some(Severity::Critical),
    );
    // An organisation-wide pattern on a production role that writes is high, medium otherwise.
    check(
        id,
        github("StringLike", &["repo:acme/*"]),
        write_policy(),
        Some(Severity::High),
    );
    let staging = findings_of(
        id,
        github("StringLike", &["repo:acme/*"]),
        write_policy(),
        false,
    );
    assert_eq!(staging[0].severity, Severity::Medium);
    check(
        id,
        github("StringLike", &["repo:acme/*"]),
        read_policy(),
        Some(Severity::Medium),
    );
    // Any branch, tag, environment and pull request of one repository.
    check(
        id,
        github("StringLike", &["repo:acme/infra:*"]),
        write_policy(),
        Some(Severity::High),
    );
    check(
        id,
        github("StringLike", &["repo:acme@12/infra@34:*"]),
        write_policy(),
        Some(Severity::High),
    );
    // A wildcard inside the pattern spans `:` and `/`.
    let spans = findings_of(
        id,
        github("StringLike", &["repo:acme/*-site:ref:refs/heads/main"]),
        read_policy(),
        true,
    );
    assert!(spans.iter().any(
        |finding| finding.confidence == Confidence::Low || finding.severity >= Severity::Medium
    ));
    // Safe: exact branch, environment, tag wildcard, immutable form.
    for safe in [
        github("StringEquals", &["repo:acme/web:ref:refs/heads/main"]),
        github("StringEquals", &["repo:acme/web:environment:production"]),
        github("StringLike", &["repo:acme/web:ref:refs/tags/v*"]),
        github("StringEquals", &["repo:acme@12/web@34:ref:refs/heads/main"]),
    ] {
        check(id, safe, write_policy(), None);
    }
}

#[test]
fn shared_issuer_tenant() {
    let id = "shared-issuer-without-tenant";
    check(
        id,
        github("StringLike", &["repo:*/infra:ref:refs/heads/main"]),
        read_policy(),
        Some(Severity::Critical),
    );
    check(
        id,
        github("StringEquals", &["repo:acme/infra:ref:refs/heads/main"]),
        read_policy(),
        None,
    );
    let tfc = federated(
        "app.terraform.io",
        json!({ "StringEquals": { "app.terraform.io:aud": "aws.workload.identity" },
        "StringLike": { "app.terraform.io:sub": "organization:*:project:p:workspace:w:run_phase:apply" } }),
    );
    check(id, tfc, read_policy(), Some(Severity::Critical));
    let tfc_pinned = federated(
        "app.terraform.io",
        json!({ "StringEquals": { "app.terraform.io:aud": "aws.workload.identity",
        "app.terraform.io:sub": "organization:acme:project:p:workspace:w:run_phase:apply" } }),
    );
    check(id, tfc_pinned, read_policy(), None);
}

#[test]
fn pull_requests_and_branches_that_write() {
    let id = "pull-request-reaches-write";
    check(
        id,
        github("StringEquals", &["repo:acme/web:pull_request"]),
        write_policy(),
        Some(Severity::High),
    );
    check(
        id,
        github("StringEquals", &["repo:acme@12/web@34:pull_request"]),
        write_policy(),
        Some(Severity::High),
    );
    check(
        id,
        github("StringLike", &["repo:acme/web:*"]),
        write_policy(),
        Some(Severity::High),
    );
    check(
        id,
        github("StringLike", &["repo:acme/web:ref:refs/heads/*"]),
        write_policy(),
        Some(Severity::High),
    );
    // Permissions management reached from a pull request is critical.
    check(
        id,
        github("StringEquals", &["repo:acme/web:pull_request"]),
        allow(&["iam:PutRolePolicy"], "*"),
        Some(Severity::Critical),
    );
    // A named non-default branch is low: it may be protected.
    check(
        id,
        github("StringEquals", &["repo:acme/web:ref:refs/heads/develop"]),
        write_policy(),
        Some(Severity::Low),
    );
    // Safe: read-only role for pull requests, and reviewed subjects on a writing role.
    check(
        id,
        github("StringEquals", &["repo:acme/web:pull_request"]),
        read_policy(),
        None,
    );
    for safe in [
        "repo:acme/web:ref:refs/heads/main",
        "repo:acme/web:environment:production",
        "repo:acme/web:ref:refs/tags/v1.0.0",
    ] {
        check(id, github("StringEquals", &[safe]), write_policy(), None);
    }
}

#[test]
fn assumable_by_anyone() {
    let id = "role-assumable-by-anyone";
    let anyone = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "sts:AssumeRole" }]});
    check(id, anyone, read_policy(), Some(Severity::Critical));
    let narrowed = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
        "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-123" } } }]});
    check(id, narrowed, read_policy(), Some(Severity::High));
    check(
        id,
        github("StringEquals", &["repo:acme/web:ref:refs/heads/main"]),
        read_policy(),
        None,
    );
}

#[test]
fn external_account_without_external_id() {
    let id = "external-account-without-external-id";
    let trust = |principal: &str, condition: Value| {
        json!({ "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": { "AWS": principal }, "Action": "sts:AssumeRole", "Condition": condition }]})
    };
    check(
        id,
        trust("arn:aws:iam::999988887777:root", json!({})),
        read_policy(),
        Some(Severity::High),
    );
    check(
        id,
        trust("999988887777", json!({})),
        read_policy(),
        Some(Severity::High),
    );
    check(
        id,
        trust(
            "arn:aws:iam::999988887777:root",
            json!({ "StringEquals": { "sts:ExternalId": "x" } }),
        ),
        read_policy(),
        None,
    );
    check(
        id,
        trust(&format!("arn:aws:iam::{ACCOUNT}:root"), json!({})),
        read_policy(),
        None,
    );
}

#[test]
fn escalation_from_ci_to_admin() {
    let id = "ci-escalation-to-admin";
    let ci = || github("StringEquals", &["repo:acme/infra:environment:production"]);
    check(id, ci(), allow(&["*"], "*"), Some(Severity::Critical));
    check(
        id,
        ci(),
        allow(&["iam:CreatePolicyVersion"], "*"),
        Some(Severity::Critical),
    );
    check(
        id,
        ci(),
        allow(
            &["iam:PutRolePolicy"],
            &format!("arn:aws:iam::{ACCOUNT}:role/*"),
        ),
        Some(Severity::Critical),
    );
    check(id, ci(), write_policy(), None);
    // Through role chaining: the CI role may assume a role that can escalate.
    let chained = role(
        "escalator",
        json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:role/ci") }, "Action": "sts:AssumeRole" }]}),
        allow(&["iam:AttachRolePolicy"], "*"),
        true,
    );
    let ci_role = role(
        "ci",
        ci(),
        allow(
            &["sts:AssumeRole"],
            &format!("arn:aws:iam::{ACCOUNT}:role/escalator"),
        ),
        true,
    );
    let findings = run(&[account(vec![ci_role, chained], vec![], vec![])], None);
    let ci_id = IdentityId::new(
        crate::model::Provider::Aws,
        &format!("arn:aws:iam::{ACCOUNT}:role/ci"),
    );
    let found: Vec<&Finding> = findings
        .iter()
        .filter(|(who, f)| *who == ci_id && f.id == id)
        .map(|(_, f)| f)
        .collect();
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert!(
        found[0]
            .evidence
            .iter()
            .any(|e| e.source.starts_with("can-chain")),
        "{:#?}",
        found[0]
    );
    // Without `sts:AssumeRole` in the CI role's policy the chain is closed (same account, but
    // the trust names the role, which is enough in one account: so use another account).
}

fn user(name: &str) -> Value {
    json!({ "arn": format!("arn:aws:iam::{ACCOUNT}:user/{name}"), "name": name, "user_id": "AIDA", "path": "/",
            "inline_policies": [{ "name": "p", "document": read_policy().to_string() }] })
}

fn key(user: &str, id: &str, last_used: Option<&str>) -> Value {
    let used = last_used
        .map(|date| json!({ "date": date }))
        .unwrap_or(json!({}));
    json!({ "user_name": user, "access_key_id": id, "status": "Active", "create_date": "2026-01-01T00:00:00Z", "last_used": used })
}

fn usage_rows(arn: &str) -> CloudTrailUsage {
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-15T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut usage = CloudTrailUsage::default();
    usage.coverage.files_read = 1;
    usage.allowed.push(crate::aws::cloudtrail::UsageRow {
        identity: crate::aws::cloudtrail::Identity {
            arn: arn.to_string(),
            kind: crate::aws::cloudtrail::IdentityKind::User,
        },
        action: "s3:GetObject".into(),
        resource: "*".into(),
        logged: 3,
        inferred: 0,
        first_seen: time,
        last_seen: time,
        workloads: Default::default(),
        unlinked_session_calls: 0,
        evidence: Default::default(),
    });
    usage
}

#[test]
fn long_lived_keys_used_and_unused() {
    let ids = |findings: &[(IdentityId, Finding)]| {
        findings
            .iter()
            .map(|(_, f)| (f.id, f.confidence))
            .collect::<Vec<_>>()
    };
    let one_key = || {
        [account(
            vec![],
            vec![user("ci")],
            vec![key("ci", "AKIA1", None)],
        )]
    };
    // A key IAM saw used: a long-lived key in use, no unused key.
    let findings = run(
        &[account(
            vec![],
            vec![user("ci")],
            vec![key("ci", "AKIA1", Some("2026-11-20T00:00:00Z"))],
        )],
        None,
    );
    assert_eq!(
        ids(&findings),
        vec![("long-lived-access-key", Confidence::High)]
    );
    // A key never used, and no calls in the logs: unused with high confidence.
    let empty = CloudTrailUsage {
        coverage: crate::aws::cloudtrail::Coverage {
            files_read: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    let findings = run(&one_key(), Some(&empty));
    assert_eq!(
        ids(&findings),
        vec![("unused-access-key", Confidence::High)]
    );
    // One key and calls in the logs: the key is used.
    let usage = usage_rows(&format!("arn:aws:iam::{ACCOUNT}:user/ci"));
    let findings = run(&one_key(), Some(&usage));
    assert_eq!(
        ids(&findings),
        vec![("long-lived-access-key", Confidence::High)]
    );
    // Two keys and calls: which key signed is unknown, so each is unused with low confidence.
    let findings = run(
        &[account(
            vec![],
            vec![user("ci")],
            vec![key("ci", "AKIA1", None), key("ci", "AKIA2", None)],
        )],
        Some(&usage),
    );
    assert_eq!(
        ids(&findings),
        vec![
            ("long-lived-access-key", Confidence::High),
            ("unused-access-key", Confidence::Low),
            ("unused-access-key", Confidence::Low)
        ]
    );
    // The logs name the key that signed each call: the other key is unused, with high
    // confidence, and the signing key is not reported.
    let signed_with = |keys: &[&str]| {
        let mut usage = usage.clone();
        for (position, key) in keys.iter().enumerate() {
            usage
                .access_keys
                .push(crate::aws::cloudtrail::AccessKeyUse {
                    user_arn: format!("arn:aws:iam::{ACCOUNT}:user/ci"),
                    access_key_id: (*key).into(),
                    calls: 2 + position as u64,
                    first_seen: usage.allowed[0].first_seen,
                    last_seen: usage.allowed[0].last_seen,
                });
        }
        usage
    };
    let two_keys = || {
        [account(
            vec![],
            vec![user("ci")],
            vec![key("ci", "AKIA1", None), key("ci", "AKIA2", None)],
        )]
    };
    let usage = signed_with(&["AKIA1"]);
    let findings = run(&two_keys(), Some(&usage));
    assert_eq!(
        ids(&findings),
        vec![
            ("long-lived-access-key", Confidence::High),
            ("unused-access-key", Confidence::High)
        ]
    );
    assert!(
        findings[1].1.subject.contains("AKIA2"),
        "{:?}",
        findings[1].1
    );
    assert!(
        findings[1].1.evidence[1]
            .detail
            .contains("`AKIA1` 2 call(s)"),
        "{:?}",
        findings[1].1.evidence
    );
    // Both keys signed calls: nothing unused.
    let usage = signed_with(&["AKIA1", "AKIA2"]);
    assert_eq!(
        ids(&run(&two_keys(), Some(&usage))),
        vec![("long-lived-access-key", Confidence::High)]
    );
    // A temporary key (GetSessionToken) may stand for either: low confidence for both.
    let usage = signed_with(&["ASIATEMPORARY1"]);
    assert_eq!(
        ids(&run(&two_keys(), Some(&usage))),
        vec![
            ("long-lived-access-key", Confidence::High),
            ("unused-access-key", Confidence::Low),
            ("unused-access-key", Confidence::Low)
        ]
    );
    // One key, but the logs show another key (deleted since) signing: the one key is unused.
    let usage = signed_with(&["AKIAGONE"]);
    let findings = run(&one_key(), Some(&usage));
    assert_eq!(
        ids(&findings),
        vec![
            ("long-lived-access-key", Confidence::High),
            ("unused-access-key", Confidence::High)
        ]
    );
    // No keys: nothing.
    assert!(run(&[account(vec![], vec![user("ci")], vec![])], Some(&usage)).is_empty());
}

#[test]
fn unused_trusted_subjects_get_a_tightened_policy() {
    let id = "unused-trusted-subject";
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/r");
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-15T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let session = |subject: &str| WebIdentitySession {
        role: arn.clone(),
        workload: CiWorkload {
            issuer: GITHUB.into(),
            subject: subject.into(),
        },
        outcome: Outcome::Allowed,
        count: 2,
        first_seen: time,
        last_seen: time,
    };
    let mut usage = CloudTrailUsage::default();
    usage.coverage.files_read = 1;
    usage
        .web_identity_sessions
        .push(session("repo:acme/web:ref:refs/heads/main"));
    let trust = github("StringLike", &["repo:acme/web:*", "repo:acme/docs:*"]);
    let findings: Vec<Finding> = run(
        &[account(
            vec![role("r", trust, read_policy(), true)],
            vec![],
            vec![],
        )],
        Some(&usage),
    )
    .into_iter()
    .filter(|(_, f)| f.id == id)
    .map(|(_, f)| f)
    .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Medium);
    let proposal = findings[0]
        .evidence
        .iter()
        .find(|e| e.source == "proposed trust policy")
        .unwrap();
    let policy: Value = serde_json::from_str(&proposal.detail).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"][format!("{GITHUB}:sub")],
        json!(["repo:acme/web:ref:refs/heads/main"])
    );
    assert!(
        findings[0]
            .evidence
            .iter()
            .any(|e| e.detail.contains("`repo:acme/docs:*` matched no"))
    );
    // Every exact subject used: nothing to tighten.
    let exact = github("StringEquals", &["repo:acme/web:ref:refs/heads/main"]);
    let none: Vec<_> = run(
        &[account(
            vec![role("r", exact, read_policy(), true)],
            vec![],
            vec![],
        )],
        Some(&usage),
    )
    .into_iter()
    .filter(|(_, f)| f.id == id)
    .collect();
    assert!(none.is_empty(), "{none:#?}");
    // Without usage the check says nothing.
    let without = findings_of(
        id,
        github("StringLike", &["repo:acme/web:*"]),
        read_policy(),
        true,
    );
    assert!(without.is_empty());
}
