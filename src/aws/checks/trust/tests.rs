//! Trust-check tests: each rule with safe and unsafe trusts, including GitHub's subject forms
//! (branch, tag, environment, pull request, and the immutable `owner@id/repo@id` form), every
//! condition operator that can hold `sub`, and every issuer with a subject grammar.

use super::trust_findings;
use crate::aws::cloudtrail::{CloudTrailUsage, WebIdentitySession, workload_of_host};
use crate::aws::escalation::escalation_paths;
use crate::aws::inventory::AwsAccountInventory;
use crate::aws::normalize::normalize;
use crate::catalog::Catalog;
use crate::model::Outcome;
use crate::model::{Confidence, Finding, IdentityId, Severity};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const GITHUB: &str = "token.actions.githubusercontent.com";
const BUILDKITE: &str = "agent.buildkite.com";
const CIRCLECI: &str = "oidc.circleci.com/org/0f1e2d3c-aaaa-bbbb-cccc-111122223333";
const BITBUCKET: &str = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
const AZURE_DEVOPS: &str = "vstoken.dev.azure.com/7c3f1a2b-0000-4000-8000-000000000000";
const GHES: &str = "ghes.example.com/_services/token";

fn account(roles: Vec<Value>, users: Vec<Value>, keys: Vec<Value>) -> AwsAccountInventory {
    let provider = |host: &str| {
        json!({ "arn": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"), "url": host,
                "client_ids": ["sts.amazonaws.com"], "thumbprints": [], "tags": {} })
    };
    serde_json::from_value(json!({
        "format_version": 1, "account_id": ACCOUNT, "partition": "aws",
        "collected_by": "test", "collected_at": "2026-11-22T00:00:00Z",
        "roles": roles, "users": users, "access_keys": keys,
        "oidc_providers": [provider(GITHUB), provider("gitlab.com"), provider("app.terraform.io"),
            provider(BUILDKITE), provider(CIRCLECI), provider(BITBUCKET), provider(AZURE_DEVOPS),
            provider(GHES), provider("ci.example.com")],
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
    trust_findings(
        &normalized,
        usage,
        Catalog::aws().unwrap(),
        escalation_paths().unwrap(),
    )
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
    usage.coverage.sources_read = 1;
    usage.coverage.events_read = 3;
    usage.coverage.events_in_window = 3;
    usage.coverage.containers = [(ACCOUNT.to_string(), 3)].into();
    let key = crate::model::UsageKey::new(crate::model::Provider::Aws, arn, "s3:GetObject", "*");
    let record = crate::model::UsageRecord {
        count: 3,
        inferred: 0,
        denied_count: 0,
        first_seen: time,
        last_seen: time,
        workloads: Default::default(),
        unlinked_calls: 0,
        sources: Default::default(),
        evidence: Default::default(),
    };
    usage.allowed.add_record(key, record);
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
    // A key never used, and no call by it in logs that hold the account's events: unused
    // with high confidence.
    let empty = CloudTrailUsage {
        coverage: crate::model::Coverage {
            sources_read: 1,
            events_read: 1,
            events_in_window: 1,
            containers: [(ACCOUNT.to_string(), 1)].into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let findings = run(&one_key(), Some(&empty));
    assert_eq!(
        ids(&findings),
        vec![("unused-access-key", Confidence::High)]
    );
    // Logs that hold no event of the account in the window (a window before or after them):
    // use in the window is unknown, so IAM's record alone gives low confidence, and the
    // evidence says so (before: medium, as if no logs had been given).
    let silent = CloudTrailUsage {
        coverage: crate::model::Coverage {
            sources_read: 3,
            events_read: 40,
            events_in_window: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let findings = run(&one_key(), Some(&silent));
    assert_eq!(ids(&findings), vec![("unused-access-key", Confidence::Low)]);
    assert!(
        findings
            .iter()
            .flat_map(|(_, finding)| &finding.evidence)
            .any(|evidence| evidence.detail.contains("use in the window is unknown"))
    );
    // The same logs with a file that could not be read: it may hold a call signed with the
    // key, so the key is unused with low confidence only, and the evidence says why.
    let mut with_skipped = empty.clone();
    with_skipped
        .coverage
        .sources_skipped
        .push(crate::model::SkippedSource::new(
            format!("AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/14/x.json.gz"),
            "not gzip",
        ));
    let findings = run(&one_key(), Some(&with_skipped));
    assert_eq!(ids(&findings), vec![("unused-access-key", Confidence::Low)]);
    assert!(
        findings
            .iter()
            .flat_map(|(_, finding)| &finding.evidence)
            .any(|evidence| evidence.detail.contains("1 log file(s) could not be read"))
    );
    // The same under an organization trail's prefix (`AWSLogs/<org id>/<account>/…`): before,
    // only `AWSLogs/<account>/` was matched, so this file counted as another account's and
    // the key was unused with high confidence.
    let mut org_trail = empty.clone();
    org_trail
        .coverage
        .sources_skipped
        .push(crate::model::SkippedSource::new(
            format!("AWSLogs/o-abc123/{ACCOUNT}/CloudTrail/eu-west-1/2026/11/14/x.json.gz"),
            "not gzip",
        ));
    let findings = run(&one_key(), Some(&org_trail));
    assert_eq!(ids(&findings), vec![("unused-access-key", Confidence::Low)]);
    // A file of another account's logs does not touch this user's keys.
    let mut other_account = empty.clone();
    other_account
        .coverage
        .sources_skipped
        .push(crate::model::SkippedSource::new(
            "AWSLogs/999999999999/CloudTrail/eu-west-1/2026/11/14/x.json.gz",
            "not gzip",
        ));
    let findings = run(&one_key(), Some(&other_account));
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
        let (_, record) = usage.allowed.iter().next().expect("a record");
        let (first_seen, last_seen) = (record.first_seen, record.last_seen);
        for (position, key) in keys.iter().enumerate() {
            usage
                .access_keys
                .push(crate::aws::cloudtrail::AccessKeyUse {
                    user_arn: format!("arn:aws:iam::{ACCOUNT}:user/ci"),
                    access_key_id: (*key).into(),
                    calls: 2 + position as u64,
                    first_seen,
                    last_seen,
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
        workload: workload_of_host(GITHUB, subject),
        outcome: Outcome::Allowed,
        count: 2,
        first_seen: time,
        last_seen: time,
    };
    let mut usage = CloudTrailUsage::default();
    usage.coverage.sources_read = 1;
    usage.coverage.events_read = 1;
    usage.coverage.events_in_window = 1;
    usage.coverage.containers = [(ACCOUNT.to_string(), 1)].into();
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

/// The first example of issue 8 part 4: a set operator on `sub` is read like the plain
/// operator (a token always carries one `sub`), not skipped by one check and counted as a
/// narrowing `sub` condition by the other.
#[test]
fn for_all_values_string_like_on_sub_is_an_organisation_wildcard() {
    let trust = github("ForAllValues:StringLike", &["repo:acme/*"]);
    let wildcard = findings_of("oidc-subject-wildcard", trust.clone(), write_policy(), true);
    let plain = findings_of(
        "oidc-subject-wildcard",
        github("StringLike", &["repo:acme/*"]),
        write_policy(),
        true,
    );
    assert_eq!(plain.len(), 1, "{plain:#?}");
    assert_eq!(wildcard.len(), 1, "{wildcard:#?}");
    assert_eq!(wildcard[0].severity, plain[0].severity);
    assert_eq!(wildcard[0].severity, Severity::High);
    assert!(
        wildcard[0]
            .message
            .contains("any repository of the organisation"),
        "{:#?}",
        wildcard[0]
    );
    assert!(findings_of("oidc-trust-without-subject", trust, write_policy(), true).is_empty());
}

/// The second example of issue 8 part 4: a GitLab project wildcard is *any project of the
/// group*, at the severity of GitHub's `repo:acme/*:ref:refs/heads/main`.
#[test]
fn gitlab_project_wildcard_is_any_project_of_the_group() {
    let gitlab = federated(
        "gitlab.com",
        json!({ "StringEquals": { "gitlab.com:aud": "sts.amazonaws.com" },
                "StringLike": { "gitlab.com:sub": "project_path:acme/*:ref_type:branch:ref:main" } }),
    );
    let found = findings_of("oidc-subject-wildcard", gitlab, write_policy(), true);
    let github_found = findings_of(
        "oidc-subject-wildcard",
        github("StringLike", &["repo:acme/*:ref:refs/heads/main"]),
        write_policy(),
        true,
    );
    assert_eq!(github_found[0].severity, Severity::High);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, github_found[0].severity);
    assert_eq!(found[0].confidence, Confidence::High);
    assert!(
        found[0].message.contains("any project of the group"),
        "{:#?}",
        found[0]
    );
}

/// A trust of `host` whose `sub` is compared by `operator`, with the audience pinned.
fn trust_of(host: &str, operator: &str, subjects: &[&str]) -> Value {
    let mut conditions = json!({ "StringEquals": { format!("{host}:aud"): "sts.amazonaws.com" } });
    conditions
        .as_object_mut()
        .unwrap()
        .entry(operator)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap()
        .insert(format!("{host}:sub"), json!(subjects));
    federated(host, conditions)
}

/// The severity of each subject check: wildcard, no subject, pull request, shared issuer
/// without tenant.
type SubjectSeverities = [Option<Severity>; 4];

/// The [`SubjectSeverities`] of a trust on a production role that writes.
fn subject_findings(trust: Value) -> SubjectSeverities {
    [
        "oidc-subject-wildcard",
        "oidc-trust-without-subject",
        "pull-request-reaches-write",
        "shared-issuer-without-tenant",
    ]
    .map(|id| {
        findings_of(id, trust.clone(), write_policy(), true)
            .first()
            .map(|finding| finding.severity)
    })
}

/// Every operator that can hold `sub`, on the same values: set operators and `IfExists`
/// compare a one-valued claim like the plain operator; negated operators narrow nothing.
#[test]
fn every_operator_that_can_hold_sub() {
    use Severity::{Critical, High};
    const ORG: SubjectSeverities = [Some(High), None, Some(High), None];
    const EXACT: SubjectSeverities = [None, None, None, None];
    const OPEN: SubjectSeverities = [None, Some(Critical), None, None];
    let table: &[(&str, &[&str], SubjectSeverities)] = &[
        ("StringLike", &["repo:acme/*"], ORG),
        ("ForAnyValue:StringLike", &["repo:acme/*"], ORG),
        ("ForAllValues:StringLike", &["repo:acme/*"], ORG),
        ("StringLikeIfExists", &["repo:acme/*"], ORG),
        ("ForAllValues:StringLikeIfExists", &["repo:acme/*"], ORG),
        // A list of values is ORed: one wildcard among exact values opens the trust.
        (
            "StringLike",
            &["repo:acme/web:ref:refs/heads/main", "repo:acme/*"],
            ORG,
        ),
        (
            "StringEquals",
            &["repo:acme/web:ref:refs/heads/main"],
            EXACT,
        ),
        (
            "ForAnyValue:StringEquals",
            &["repo:acme/web:ref:refs/heads/main"],
            EXACT,
        ),
        (
            "ForAllValues:StringEquals",
            &["repo:acme/web:ref:refs/heads/main"],
            EXACT,
        ),
        (
            "StringEqualsIfExists",
            &["repo:acme/web:ref:refs/heads/main"],
            EXACT,
        ),
        (
            "StringEqualsIgnoreCase",
            &["repo:acme/web:ref:refs/heads/main"],
            EXACT,
        ),
        ("StringLike", &["repo:acme/web:ref:refs/heads/main"], EXACT),
        // `StringEquals` does not glob: `*` is a literal character no subject has.
        ("StringEquals", &["repo:acme/*"], EXACT),
        // Exact, but a pull request reaching write.
        (
            "ForAllValues:StringEquals",
            &["repo:acme/web:pull_request"],
            [None, None, Some(High), None],
        ),
        // Negated operators admit every other subject: no narrowing condition on `sub`.
        ("StringNotLike", &["repo:evil/*"], OPEN),
        ("StringNotEquals", &["repo:acme/web:pull_request"], OPEN),
        ("ForAnyValue:StringNotLike", &["repo:evil/*"], OPEN),
        (
            "ForAllValues:StringNotEquals",
            &["repo:evil/web:ref:refs/heads/main"],
            OPEN,
        ),
        // Owner open on the shared issuer.
        (
            "ForAnyValue:StringLike",
            &["repo:*/infra:ref:refs/heads/main"],
            [Some(Critical), None, None, Some(Critical)],
        ),
        (
            "ForAllValues:StringLike",
            &["repo:*"],
            [Some(Critical), None, Some(High), None],
        ),
    ];
    for (operator, values, expected) in table {
        let trust = github(operator, values);
        assert_eq!(
            subject_findings(trust),
            *expected,
            "`{operator}` {values:?}"
        );
    }
}

/// `ForAllValues:` and `…IfExists` also hold for a token without `sub`: the finding says so.
#[test]
fn conditions_that_hold_without_sub_are_noted() {
    for operator in ["ForAllValues:StringLike", "StringLikeIfExists"] {
        let found = findings_of(
            "oidc-subject-wildcard",
            github(operator, &["repo:acme/*"]),
            write_policy(),
            true,
        );
        assert!(
            found[0]
                .message
                .contains("also admits a token without a `sub` claim"),
            "{operator}: {:#?}",
            found[0]
        );
        assert!(
            found[0]
                .evidence
                .iter()
                .any(|evidence| evidence.detail.contains("true when the claim is absent")),
            "{operator}: {:#?}",
            found[0]
        );
    }
    let plain = findings_of(
        "oidc-subject-wildcard",
        github("ForAnyValue:StringLike", &["repo:acme/*"]),
        write_policy(),
        true,
    );
    assert!(!plain[0].message.contains("without a `sub` claim"));
}

/// A positive condition narrows; a negated one next to it is shown but not relied on, and
/// two positive conditions are both required.
#[test]
fn several_conditions_on_sub() {
    let narrowed = federated(
        GITHUB,
        json!({ "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com",
                                  format!("{GITHUB}:sub"): "repo:acme/web:ref:refs/heads/main" },
                "StringLike": { format!("{GITHUB}:sub"): "repo:acme/*" } }),
    );
    assert_eq!(subject_findings(narrowed), [None, None, None, None]);
    let negated = federated(
        GITHUB,
        json!({ "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" },
                "StringLike": { format!("{GITHUB}:sub"): "repo:acme/web:*" },
                "StringNotLike": { format!("{GITHUB}:sub"): "repo:acme/web:pull_request" } }),
    );
    let found = findings_of("pull-request-reaches-write", negated, write_policy(), true);
    assert_eq!(found[0].severity, Severity::High);
    assert!(
        found[0]
            .evidence
            .iter()
            .any(|evidence| evidence.detail.contains("not read as narrowing")),
        "{:#?}",
        found[0]
    );
}

/// Safe and unsafe subjects of every issuer with a documented grammar, on a production role
/// that writes: `[wildcard, no subject, pull request, shared issuer without tenant]`.
#[test]
fn subjects_of_every_issuer() {
    use Severity::{Critical, High};
    let table: &[(&str, &str, &[&str], SubjectSeverities)] = &[
        // GitHub Enterprise Server: one company's issuer, so an open owner is reported by the
        // wildcard check rather than as a cross-customer hole.
        (
            GHES,
            "StringLike",
            &["repo:ac?e/web:ref:refs/heads/main"],
            [Some(High), None, None, None],
        ),
        (
            GHES,
            "StringEquals",
            &["repo:acme/web:ref:refs/heads/main"],
            [None, None, None, None],
        ),
        // An issuer without a known grammar: a wildcard is reported with low confidence, `*`
        // as every subject.
        (
            "ci.example.com",
            "StringLike",
            &["team-a:*"],
            [Some(Severity::Medium), None, None, None],
        ),
        (
            "ci.example.com",
            "StringLike",
            &["*"],
            [Some(Critical), None, None, None],
        ),
        (
            "ci.example.com",
            "StringEquals",
            &["team-a:deploy"],
            [None, None, None, None],
        ),
        // GitLab: group, project (subgroups allowed), branch; merge requests run on branches.
        (
            "gitlab.com",
            "StringLike",
            &["project_path:*/docs:ref_type:branch:ref:main"],
            [Some(Critical), None, None, Some(Critical)],
        ),
        (
            "gitlab.com",
            "StringLike",
            &["project_path:acme/platform/*:ref_type:branch:ref:main"],
            [Some(High), None, None, None],
        ),
        (
            "gitlab.com",
            "StringLike",
            &["project_path:acme/docs:*"],
            [Some(High), None, Some(High), None],
        ),
        (
            "gitlab.com",
            "StringLike",
            &["project_path:acme/docs:ref_type:branch:ref:*"],
            [Some(High), None, Some(High), None],
        ),
        (
            "gitlab.com",
            "StringEquals",
            &["project_path:acme/docs:ref_type:branch:ref:main"],
            [None, None, None, None],
        ),
        (
            "gitlab.com",
            "StringLike",
            &["project_path:acme/docs:ref_type:tag:ref:v*"],
            [None, None, None, None],
        ),
        // HCP Terraform: organization, project, workspace, run phase.
        (
            "app.terraform.io",
            "StringLike",
            &["organization:acme:project:*:workspace:*:run_phase:apply"],
            [Some(High), None, None, None],
        ),
        (
            "app.terraform.io",
            "StringLike",
            &["organization:acme:workspace:prod:run_phase:*"],
            [None, None, None, None],
        ),
        (
            "app.terraform.io",
            "StringLike",
            &["*"],
            [Some(Critical), None, None, None],
        ),
        // Buildkite: one issuer for every organisation.
        (
            BUILDKITE,
            "StringLike",
            &["organization:*:pipeline:deploy:ref:refs/heads/main:commit:*:step:*"],
            [None, None, None, Some(Critical)],
        ),
        (
            BUILDKITE,
            "StringLike",
            &["organization:acme:pipeline:deploy:*"],
            [Some(High), None, Some(High), None],
        ),
        (
            BUILDKITE,
            "StringLike",
            &["organization:acme:pipeline:deploy:ref:refs/heads/main:commit:*:step:*"],
            [None, None, None, None],
        ),
        // CircleCI, Bitbucket, Azure DevOps: the issuer URL names the customer.
        (
            CIRCLECI,
            "StringLike",
            &["org/0f1e2d3c-aaaa-bbbb-cccc-111122223333/project/*"],
            [Some(High), None, Some(High), None],
        ),
        (
            CIRCLECI,
            "StringEquals",
            &["org/o/project/p/user/u/vcs-origin/github.com/acme/web/vcs-ref/refs/heads/main"],
            [None, None, None, None],
        ),
        (
            BITBUCKET,
            "StringLike",
            &["*"],
            [Some(High), None, None, None],
        ),
        (
            BITBUCKET,
            "StringLike",
            &["{repo-uuid}:{env-uuid}:*"],
            [None, None, None, None],
        ),
        (
            AZURE_DEVOPS,
            "StringLike",
            &["sc://acme/web/*"],
            [Some(High), None, None, None],
        ),
        (
            AZURE_DEVOPS,
            "StringEquals",
            &["sc://acme/web/deploy-prod"],
            [None, None, None, None],
        ),
    ];
    for (host, operator, values, expected) in table {
        let trust = trust_of(host, operator, values);
        assert_eq!(
            subject_findings(trust),
            *expected,
            "{host} `{operator}` {values:?}"
        );
    }
}

/// The trust checks and the graph read `sub` the same way: a set operator is not `*`.
#[test]
fn graph_workloads_use_the_same_reading_of_sub() {
    let normalized = normalize(&[account(
        vec![role(
            "r",
            github("ForAllValues:StringLike", &["repo:acme/*"]),
            write_policy(),
            true,
        )],
        vec![],
        vec![],
    )]);
    let [crate::model::Trust::Federated(trust)] = normalized
        .inventory
        .trusts
        .values()
        .next()
        .unwrap()
        .as_slice()
    else {
        panic!("one federated trust");
    };
    assert_eq!(
        crate::graph::subject_patterns(trust),
        vec!["repo:acme/*".to_string()]
    );
    let open = normalize(&[account(
        vec![role(
            "r",
            github("StringNotLike", &["repo:evil/*"]),
            write_policy(),
            true,
        )],
        vec![],
        vec![],
    )]);
    let [crate::model::Trust::Federated(trust)] =
        open.inventory.trusts.values().next().unwrap().as_slice()
    else {
        panic!("one federated trust");
    };
    assert_eq!(crate::graph::subject_patterns(trust), vec!["*".to_string()]);
}

/// `repo:acme/infra:environment:*`: on GitHub a job that names an environment gets the
/// environment subject whatever triggered it, pull requests included, and naming a missing
/// environment creates it; only protection rules (invisible here) limit it.
#[test]
fn open_environment_is_reported_as_wildcard_and_pull_request_reach() {
    let trust = || github("StringLike", &["repo:acme/infra:environment:*"]);
    let wildcard = findings_of("oidc-subject-wildcard", trust(), write_policy(), true);
    assert_eq!(wildcard.len(), 1, "{wildcard:#?}");
    assert_eq!(wildcard[0].severity, Severity::Medium);
    assert_eq!(wildcard[0].confidence, Confidence::Medium);
    assert!(
        wildcard[0].message.contains("any environment"),
        "{wildcard:#?}"
    );
    assert!(
        wildcard[0].message.contains("protection rules"),
        "{wildcard:#?}"
    );
    assert!(wildcard[0].remediation.contains("required reviewers"));
    let read = findings_of("oidc-subject-wildcard", trust(), read_policy(), true);
    assert_eq!(read[0].severity, Severity::Low);
    let reach = findings_of("pull-request-reaches-write", trust(), write_policy(), true);
    assert_eq!(reach.len(), 1, "{reach:#?}");
    assert_eq!(reach[0].severity, Severity::High);
    assert_eq!(reach[0].confidence, Confidence::Medium);
    assert!(findings_of("pull-request-reaches-write", trust(), read_policy(), true).is_empty());
    // A prefix is named as such.
    let prefix = findings_of(
        "oidc-subject-wildcard",
        github("StringLike", &["repo:acme/infra:environment:prod*"]),
        write_policy(),
        true,
    );
    assert!(
        prefix[0].message.contains("environments matching `prod*`"),
        "{prefix:#?}"
    );
    // Bitbucket puts the environment in the subject too; its pull requests run as branch jobs.
    let bitbucket = trust_of(
        BITBUCKET,
        "StringLike",
        &["{7c3f1a2b-0000-4000-8000-000000000001}:*:{7c3f1a2b-0000-4000-8000-000000000002}"],
    );
    let found = findings_of(
        "oidc-subject-wildcard",
        bitbucket.clone(),
        write_policy(),
        true,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Medium);
    assert!(found[0].message.contains("any environment"), "{found:#?}");
    // … and is not a pull-request finding: Bitbucket pull requests run as branch jobs, and
    // the branch is not part of its subject.
    assert!(
        findings_of(
            "pull-request-reaches-write",
            bitbucket,
            write_policy(),
            true
        )
        .is_empty()
    );
    // HCP Terraform's open run phase stays unreported.
    let terraform = trust_of(
        "app.terraform.io",
        "StringLike",
        &["organization:acme:project:infra:workspace:prod:run_phase:*"],
    );
    assert!(
        findings_of(
            "oidc-subject-wildcard",
            terraform.clone(),
            write_policy(),
            true
        )
        .is_empty()
    );
    assert!(
        findings_of(
            "pull-request-reaches-write",
            terraform,
            write_policy(),
            true
        )
        .is_empty()
    );
}

/// A trust with several wildcard patterns names them all in the message.
#[test]
fn wildcard_message_names_every_wildcard_pattern() {
    let found = findings_of(
        "oidc-subject-wildcard",
        github("StringLike", &["repo:acme/web:*", "repo:acme/docs:*"]),
        write_policy(),
        true,
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("`repo:acme/web:*`"), "{found:#?}");
    assert!(
        found[0].message.contains("`repo:acme/docs:*`"),
        "{found:#?}"
    );
    let many = findings_of(
        "oidc-subject-wildcard",
        github(
            "StringLike",
            &[
                "repo:acme/a:*",
                "repo:acme/b:*",
                "repo:acme/c:*",
                "repo:acme/d:*",
                "repo:acme/e:*",
            ],
        ),
        write_policy(),
        true,
    );
    assert!(many[0].message.contains("and 1 more"), "{many:#?}");
    assert!(!many[0].message.contains("`repo:acme/e:*`"), "{many:#?}");
}

/// `repo:acme/web*` and `repo:acme/infr?` admit the repositories of `acme` matching the
/// pattern, not every repository of the organisation; the severity stays that of an
/// owner-wide wildcard.
#[test]
fn partial_repository_wildcard_is_described_precisely() {
    for (pattern, name) in [("repo:acme/web*", "web*"), ("repo:acme/infr?", "infr?")] {
        let found = findings_of(
            "oidc-subject-wildcard",
            github("StringLike", &[pattern]),
            write_policy(),
            true,
        );
        assert_eq!(found[0].severity, Severity::High, "{found:#?}");
        assert!(
            found[0]
                .message
                .contains(&format!("repositories of `acme` matching `{name}`")),
            "{found:#?}"
        );
        assert!(!found[0].message.contains("any repository"), "{found:#?}");
    }
    let gitlab = trust_of(
        "gitlab.com",
        "StringLike",
        &["project_path:acme/web-*:ref_type:branch:ref:main"],
    );
    let found = findings_of("oidc-subject-wildcard", gitlab, write_policy(), true);
    assert!(
        found[0]
            .message
            .contains("projects of `acme` matching `web-*`"),
        "{found:#?}"
    );
}
