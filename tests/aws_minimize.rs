//! Regression tests of `minimize`, one per guarantee, each named for what it guards.

use chrono::{DateTime, TimeZone, Utc};
use pipeleash::aws::coverage::CoverageFacts;
use pipeleash::aws::minimize::risk_rank;
use pipeleash::aws::minimize::{
    MANAGED_POLICY_LIMIT, MinimizeError, MinimizeInput, MinimizeOptions, Minimized, PolicyInput,
    Reason, UnusedActions, Warning, minimize, parse_workload_label, policy_size, render_terraform,
    workload_label,
};
use pipeleash::aws::{
    Context, NamedPolicy, PolicyKind, PolicySet, Request, Verdict, evaluate, parse_policy,
};
use pipeleash::catalog::{AccessLevel, Catalog};
use pipeleash::model::ObservationWindow;
use pipeleash::model::SkippedSource;
use pipeleash::model::{CiWorkload, IdentityId, Permission, Provider, UsageKey, UsageRecord};
use std::collections::BTreeSet;

const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/ci-deploy";

fn time(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0).unwrap()
}

fn policy(name: &str, json: &str) -> PolicyInput {
    PolicyInput::new(name, parse_policy(json).unwrap())
}

/// One usage record of the identity.
type Row = (UsageKey, UsageRecord);

fn row(action: &str, resource: &str, allowed: u64, denied: u64) -> Row {
    let key = UsageKey {
        identity: IdentityId::new(Provider::Aws, PRINCIPAL),
        permission: Permission::new(Provider::Aws, action),
        resource: resource.into(),
    };
    let record = UsageRecord {
        count: allowed,
        inferred: 0,
        denied_count: denied,
        first_seen: time(2),
        last_seen: time(20),
        workloads: [parse_workload_label("github:repo:acme/web:ref:refs/heads/main").unwrap()]
            .into(),
        unlinked_calls: 0,
        sources: ["AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/a.json.gz".into()].into(),
        evidence: BTreeSet::new(),
    };
    (key, record)
}

/// Facts for logs that cover March 2026 with management and S3 data events.
fn facts_with_s3_data() -> CoverageFacts {
    let mut facts = CoverageFacts::management_only(time(1), time(31));
    facts.data_event_services.insert("s3".into());
    facts
}

fn input(policies: Vec<PolicyInput>, usage: Vec<Row>, facts: CoverageFacts) -> MinimizeInput {
    MinimizeInput {
        principal_arn: PRINCIPAL.into(),
        identity_policies: policies,
        boundary: None,
        scps: Vec::new(),
        usage: usage.into_iter().collect(),
        coverage: facts,
        window: ObservationWindow {
            since: time(1),
            until: time(31),
        },
    }
}

fn run(input: &MinimizeInput) -> Minimized {
    run_with(input, &MinimizeOptions::default())
}

fn run_with(input: &MinimizeInput, options: &MinimizeOptions) -> Minimized {
    minimize(input, Catalog::aws().unwrap(), options).unwrap()
}

/// The verdict of the minimized policies (with the input's boundary and SCPs) on a request.
fn decide(result: &Minimized, input: &MinimizeInput, action: &str, resource: &str) -> Verdict {
    let documents: Vec<_> = result
        .policies
        .iter()
        .map(|policy| NamedPolicy::new(&policy.name, PolicyKind::Identity, &policy.document))
        .collect();
    let set = PolicySet {
        identity: documents,
        boundary: input
            .boundary
            .as_ref()
            .map(|b| NamedPolicy::new(&b.name, PolicyKind::PermissionsBoundary, &b.document)),
        ..PolicySet::default()
    };
    let request = Request {
        principal_arn: PRINCIPAL.into(),
        principal_account: "111122223333".into(),
        action: action.into(),
        resource: resource.into(),
        resource_account: None,
        context: Context::partial(),
    };
    evaluate(&request, &set).verdict()
}

fn decision<'r>(
    result: &'r Minimized,
    action: &str,
) -> &'r pipeleash::aws::minimize::ActionDecision {
    result
        .decisions
        .iter()
        .find(|decision| decision.action == action)
        .unwrap_or_else(|| panic!("no decision for {action}: {:#?}", result.decisions))
}

/// The group of unused actions holding `action`, if any.
fn unused_group<'r>(result: &'r Minimized, action: &str) -> Option<&'r UnusedActions> {
    let catalog = Catalog::aws().unwrap();
    result.unused.iter().find(|group| {
        group
            .actions(catalog)
            .unwrap()
            .iter()
            .any(|entry| entry.name == action)
    })
}

/// Is `action` dropped: by a decision of its own, or as one of a group of unused actions?
fn dropped(result: &Minimized, action: &str) -> bool {
    match result
        .decisions
        .iter()
        .find(|decision| decision.action == action)
    {
        Some(decision) => !decision.kept,
        None => unused_group(result, action).is_some(),
    }
}

const ARTIFACTS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Artifacts", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
     "Resource": "arn:aws:s3:::artifacts/*"},
    {"Sid": "Describe", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
  ]
}"#;

#[test]
fn unused_write_is_dropped() {
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row("s3:GetObject", "arn:aws:s3:::artifacts/app.tgz", 4, 0)],
        facts_with_s3_data(),
    );
    let result = run(&input);
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::artifacts/app.tgz"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:PutObject",
            "arn:aws:s3:::artifacts/app.tgz"
        ),
        Verdict::ImplicitDeny
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::artifacts/other"
        ),
        Verdict::ImplicitDeny,
        "an exact ARN was used, so only that ARN is kept"
    );
    // Unused: no decision of its own, dropped with its statement's other unused actions.
    assert!(
        result
            .decisions
            .iter()
            .all(|decision| decision.action != "s3:PutObject")
    );
    let put = unused_group(&result, "s3:PutObject").unwrap();
    assert_eq!(put.granted_by.len(), 1);
    assert_eq!(put.granted_by[0].sid.as_deref(), Some("Artifacts"));
    let get = decision(&result, "s3:GetObject");
    assert!(get.kept);
    let Reason::Used(evidence) = &get.reasons[0] else {
        panic!("{get:?}")
    };
    assert_eq!(evidence.allowed_count, 4);
    assert_eq!(evidence.first_seen, time(2));
    assert!(
        evidence
            .workloads
            .contains("github:repo:acme/web:ref:refs/heads/main")
    );
    assert!(result.proof.usage_rows_replayed == 1 && result.proof.pairs_subsumed >= 1);
}

#[test]
fn unobservable_s3_data_action_is_kept_and_labelled() {
    let facts = CoverageFacts::management_only(time(1), time(31));
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row("ec2:DescribeInstances", "*", 9, 0)],
        facts,
    );
    let result = run(&input);
    let put = decision(&result, "s3:PutObject");
    assert!(put.kept);
    assert!(
        matches!(&put.reasons[..], [Reason::Unobservable { reason }] if reason.contains("data event")),
        "{put:?}"
    );
    // Kept on the original statement's resources.
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:PutObject",
            "arn:aws:s3:::artifacts/any/key"
        ),
        Verdict::Allowed
    );
    // Observable and unused: dropped.
    assert!(dropped(&result, "ec2:DescribeVpcs"));
    assert!(decision(&result, "ec2:DescribeInstances").kept);

    let dropped = run_with(
        &input,
        &MinimizeOptions {
            drop_unobservable: true,
            ..MinimizeOptions::default()
        },
    );
    let put = decision(&dropped, "s3:PutObject");
    assert!(!put.kept);
    assert!(matches!(
        &put.reasons[..],
        [Reason::UnobservableDropped { .. }]
    ));
    assert_eq!(
        decide(&dropped, &input, "s3:PutObject", "arn:aws:s3:::artifacts/x"),
        Verdict::ImplicitDeny
    );
}

#[test]
fn pass_role_is_unobservable_unless_inferred() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*"},
            {"Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}"#,
    )];
    let usage = vec![row("ecs:RunTask", "*", 1, 0)];
    let result = run(&input(
        policies.clone(),
        usage.clone(),
        facts_with_s3_data(),
    ));
    assert!(decision(&result, "iam:PassRole").kept);

    let mut facts = facts_with_s3_data();
    facts.inferred_actions.insert("iam:passrole".into());
    let result = run(&input(policies, usage, facts));
    assert!(dropped(&result, "iam:PassRole"));
}

#[test]
fn condition_of_original_statement_is_kept() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"RegionLocked","Effect":"Allow",
             "Action":["ec2:RunInstances","ec2:TerminateInstances"],
             "Resource":"*",
             "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},
                          "Bool":{"aws:SecureTransport":"true"}}}]}"#,
    )];
    let input = input(
        policies.clone(),
        vec![row(
            "ec2:RunInstances",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
            2,
            0,
        )],
        facts_with_s3_data(),
    );
    let result = run(&input);
    let statements: Vec<_> = result
        .policies
        .iter()
        .flat_map(|policy| &policy.document.statements)
        .collect();
    assert_eq!(statements.len(), 1);
    let mut expected = policies[0].document.statements[0].conditions.clone();
    let mut found = statements[0].conditions.clone();
    expected.sort_by(|a, b| a.key.cmp(&b.key));
    found.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(found, expected);
    assert_eq!(
        decide(
            &result,
            &input,
            "ec2:RunInstances",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"
        ),
        Verdict::Conditional
    );
    assert!(dropped(&result, "ec2:TerminateInstances"));
}

#[test]
fn denied_call_is_not_use() {
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![
            row("s3:GetObject", "arn:aws:s3:::artifacts/a", 1, 0),
            row("s3:DeleteObject", "arn:aws:s3:::artifacts/a", 0, 7),
            row("iam:CreateRole", "arn:aws:iam::111122223333:role/x", 0, 3),
        ],
        facts_with_s3_data(),
    );
    let result = run(&input);
    assert!(dropped(&result, "s3:DeleteObject"));
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:DeleteObject",
            "arn:aws:s3:::artifacts/a"
        ),
        Verdict::ImplicitDeny
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "iam:CreateRole",
            "arn:aws:iam::111122223333:role/x"
        ),
        Verdict::ImplicitDeny
    );
    let missing: Vec<(&str, u64)> = result
        .missing_permissions
        .iter()
        .map(|missing| (missing.action.as_str(), missing.denied_count))
        .collect();
    assert_eq!(missing, [("iam:CreateRole", 3), ("s3:DeleteObject", 7)]);
}

#[test]
fn generalization_never_crosses_buckets() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}]}"#,
    )];
    let usage = vec![
        row("s3:GetObject", "arn:aws:s3:::web-prod/build/1/a.js", 1, 0),
        row("s3:GetObject", "arn:aws:s3:::web-prod/build/2/b.js", 1, 0),
        row("s3:GetObject", "arn:aws:s3:::web-prod/build/3/c.js", 1, 0),
        row("s3:GetObject", "arn:aws:s3:::web-prodx/build/9/z.js", 1, 0),
    ];
    let input = input(policies, usage, facts_with_s3_data());
    let result = run(&input);
    let json = result.policies[0].document.to_json().to_string();
    assert!(json.contains("arn:aws:s3:::web-prod/build/*"), "{json}");
    assert!(
        json.contains("arn:aws:s3:::web-prodx/build/9/z.js"),
        "{json}"
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::web-prod/build/4/d.js"
        ),
        Verdict::Allowed
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::web-prodx/build/4/d.js"
        ),
        Verdict::ImplicitDeny
    );
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::web-prod-2/build/1/a.js"
        ),
        Verdict::ImplicitDeny
    );
}

#[test]
fn generalization_never_exceeds_the_original_grant() {
    // The grant names three exact keys; generalizing them to `build/*` would broaden.
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":[
              "arn:aws:s3:::web/build/a","arn:aws:s3:::web/build/b","arn:aws:s3:::web/build/c"]}]}"#,
    )];
    let usage = ["a", "b", "c"]
        .iter()
        .map(|key| {
            row(
                "s3:GetObject",
                &format!("arn:aws:s3:::web/build/{key}"),
                1,
                0,
            )
        })
        .collect();
    let input = input(policies, usage, facts_with_s3_data());
    let result = run(&input);
    let json = result.policies[0].document.to_json().to_string();
    assert!(!json.contains("build/*"), "{json}");
    assert_eq!(
        decide(&result, &input, "s3:GetObject", "arn:aws:s3:::web/build/d"),
        Verdict::ImplicitDeny
    );
}

#[test]
fn original_deny_touching_a_kept_action_is_carried_over() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secrets/*"},
            {"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
    )];
    let input = input(
        policies,
        vec![row("s3:GetObject", "arn:aws:s3:::artifacts/a", 1, 0)],
        facts_with_s3_data(),
    );
    let result = run(&input);
    let sids: Vec<Option<&str>> = result.policies[0]
        .document
        .statements
        .iter()
        .map(|statement| statement.sid.as_deref())
        .collect();
    assert!(sids.contains(&Some("NoSecrets")), "{sids:?}");
    assert!(!sids.contains(&Some("NoIam")), "{sids:?}");
}

#[test]
fn boundary_limits_what_counts_as_granted() {
    let mut input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row("ec2:DescribeInstances", "*", 1, 0)],
        CoverageFacts::management_only(time(1), time(31)),
    );
    input.boundary = Some(policy(
        "boundary",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["ec2:Describe*","s3:GetObject"],"Resource":"*"}]}"#,
    ));
    let result = run(&input);
    // s3:PutObject is unobservable but the boundary never lets it through: not granted.
    assert!(
        result
            .decisions
            .iter()
            .all(|decision| decision.action != "s3:PutObject")
    );
    assert!(unused_group(&result, "s3:PutObject").is_none());
    assert!(decision(&result, "s3:GetObject").kept);
}

#[test]
fn used_call_the_policies_no_longer_allow_is_reported_not_added() {
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row(
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:eu-west-1:111122223333:function:f",
            2,
            0,
        )],
        facts_with_s3_data(),
    );
    let result = run(&input);
    assert!(result.warnings.iter().any(|warning| matches!(
        warning,
        Warning::UsedButNotGranted { action, .. } if action == "lambda:UpdateFunctionCode"
    )));
    assert!(dropped(&result, "lambda:UpdateFunctionCode"));
}

#[test]
fn skipped_log_files_make_an_incomplete_window_warning() {
    let mut facts = facts_with_s3_data();
    facts.skipped_files.push(SkippedSource::new(
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/05/x.json.gz",
        "truncated gzip stream",
    ));
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row("s3:GetObject", "arn:aws:s3:::artifacts/a", 1, 0)],
        facts,
    );
    let result = run(&input);
    let text: Vec<String> = result.warnings.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(
            |warning| warning.starts_with("INCOMPLETE WINDOW") && warning.contains("x.json.gz")
        ),
        "{text:?}"
    );
}

#[test]
fn usage_outside_the_window_is_not_use() {
    let mut old = row("s3:PutObject", "arn:aws:s3:::artifacts/a", 5, 0);
    old.1.first_seen = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    old.1.last_seen = Utc.with_ymd_and_hms(2025, 1, 2, 0, 0, 0).unwrap();
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![old, row("s3:GetObject", "arn:aws:s3:::artifacts/a", 1, 0)],
        facts_with_s3_data(),
    );
    let result = run(&input);
    assert!(dropped(&result, "s3:PutObject"));
    assert!(
        result
            .warnings
            .contains(&Warning::OutsideWindow { rows: 1 })
    );
}

#[test]
fn split_when_over_size_limit() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#,
    )];
    let usage: Vec<Row> = (0..400)
        .flat_map(|n| {
            [
                row(
                    "s3:GetObject",
                    &format!("arn:aws:s3:::bucket-{n:04}/state.tfstate"),
                    1,
                    0,
                ),
                row(
                    "s3:PutObject",
                    &format!("arn:aws:s3:::other-{n:04}/lock"),
                    1,
                    0,
                ),
            ]
        })
        .collect();
    let input = input(policies, usage, facts_with_s3_data());
    let result = run(&input);
    assert!(result.policies.len() > 2, "{}", result.policies.len());
    for policy in &result.policies {
        assert!(
            policy.size <= MANAGED_POLICY_LIMIT,
            "{} is {}",
            policy.name,
            policy.size
        );
        assert_eq!(policy.size, policy_size(&policy.document));
        // Every document is valid IAM JSON that the parser accepts.
        let text = serde_json::to_string_pretty(&policy.document.to_json()).unwrap();
        assert_eq!(
            parse_policy(&text).unwrap().statements.len(),
            policy.document.statements.len()
        );
    }
    let names: Vec<&str> = result.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names[..2], ["minimized", "minimized-2"]);
    assert_eq!(
        decide(
            &result,
            &input,
            "s3:GetObject",
            "arn:aws:s3:::bucket-0399/state.tfstate"
        ),
        Verdict::Allowed
    );
}

#[test]
fn inline_target_refuses_what_does_not_fit_in_the_aggregate() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    )];
    let usage: Vec<Row> = (0..400)
        .map(|n| {
            row(
                "s3:GetObject",
                &format!("arn:aws:s3:::bucket-{n:04}/state"),
                1,
                0,
            )
        })
        .collect();
    let error = minimize(
        &input(policies, usage, facts_with_s3_data()),
        Catalog::aws().unwrap(),
        &MinimizeOptions {
            size_target: pipeleash::aws::minimize::SizeTarget::Inline,
            ..MinimizeOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(error, MinimizeError::InlineAggregateTooLarge { .. }),
        "{error}"
    );
}

#[test]
fn output_is_deterministic_and_renders_terraform() {
    let rows = vec![
        row("s3:GetObject", "arn:aws:s3:::artifacts/a", 1, 0),
        row("ec2:DescribeInstances", "*", 1, 0),
    ];
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        rows.clone(),
        facts_with_s3_data(),
    );
    let first = run(&input);
    let mut reversed = input.clone();
    reversed.usage = rows.into_iter().rev().collect();
    let second = run(&reversed);
    assert_eq!(first, second);
    let terraform = render_terraform(&first.policies);
    assert_eq!(terraform, render_terraform(&second.policies));
    assert!(terraform.starts_with("data \"aws_iam_policy_document\" \"minimized\" {"));
    assert!(
        terraform.contains("actions   = [\"ec2:DescribeInstances\"]"),
        "{terraform}"
    );
    assert!(
        terraform.contains("resources = [\"arn:aws:s3:::artifacts/a\"]"),
        "{terraform}"
    );
}

#[test]
fn policy_variables_survive_as_variables() {
    let policies = vec![policy(
        "deploy",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#,
    )];
    let input = input(
        policies,
        Vec::new(),
        CoverageFacts::management_only(time(1), time(31)),
    );
    let result = run(&input);
    let json = result.policies[0].document.to_json().to_string();
    assert!(
        json.contains("arn:aws:s3:::home/${aws:username}/*"),
        "{json}"
    );
    assert!(render_terraform(&result.policies).contains("$${aws:username}"));
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut empty = input(Vec::new(), Vec::new(), facts_with_s3_data());
    let catalog = Catalog::aws().unwrap();
    assert_eq!(
        minimize(&empty, catalog, &MinimizeOptions::default()).unwrap_err(),
        MinimizeError::NoIdentityPolicy
    );
    empty.identity_policies.push(policy("deploy", ARTIFACTS));
    empty.window.until = empty.window.since;
    assert!(matches!(
        minimize(&empty, catalog, &MinimizeOptions::default()).unwrap_err(),
        MinimizeError::EmptyWindow { .. }
    ));
}

#[test]
fn unused_actions_are_one_decision_per_granting_statement() {
    let input = input(
        vec![policy("deploy", ARTIFACTS)],
        vec![row("s3:GetObject", "arn:aws:s3:::artifacts/app.tgz", 4, 0)],
        facts_with_s3_data(),
    );
    let result = run(&input);
    let catalog = Catalog::aws().unwrap();
    assert_eq!(result.unused.len(), 2, "{:#?}", result.unused);
    let artifacts = &result.unused[0];
    assert_eq!(artifacts.granted_by[0].sid.as_deref(), Some("Artifacts"));
    let names: Vec<String> = artifacts
        .actions(catalog)
        .unwrap()
        .iter()
        .map(|action| action.name.clone())
        .collect();
    assert_eq!(names, ["s3:DeleteObject", "s3:PutObject"]);
    assert_eq!((artifacts.count, artifacts.risky()), (2, 2));
    assert_eq!(
        artifacts.riskiest,
        [
            ("s3:DeleteObject".to_string(), AccessLevel::Write),
            ("s3:PutObject".to_string(), AccessLevel::Write)
        ]
    );
    // The other statement's unused actions: every `ec2:Describe*` action, none decided alone.
    let describe = &result.unused[1];
    assert_eq!(describe.granted_by[0].sid.as_deref(), Some("Describe"));
    assert_eq!(describe.count, catalog.expand("ec2:Describe*").len());
    assert_eq!(
        describe.actions(catalog).unwrap().len(),
        describe.count,
        "the runs hold exactly the counted actions"
    );
    assert!(
        result
            .decisions
            .iter()
            .all(|decision| !decision.action.starts_with("ec2:"))
    );
    // An action is in one group at most, and a group never holds a decided action.
    let decided: BTreeSet<&str> = result
        .decisions
        .iter()
        .map(|decision| decision.action.as_str())
        .collect();
    let mut grouped = BTreeSet::new();
    for group in &result.unused {
        for action in group.actions(catalog).unwrap() {
            assert!(grouped.insert(action.name.clone()), "{}", action.name);
            assert!(!decided.contains(action.name.as_str()), "{}", action.name);
        }
    }
}

#[test]
fn administrator_grant_is_a_few_groups_not_a_decision_per_action() {
    let input = input(
        vec![
            policy(
                "AdministratorAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
            policy("deploy", ARTIFACTS),
        ],
        vec![row("s3:GetObject", "arn:aws:s3:::artifacts/app.tgz", 4, 0)],
        CoverageFacts::management_only(time(1), time(31)),
    );
    let result = run(&input);
    let catalog = Catalog::aws().unwrap();
    // Used and unobservable actions (data events without a data trail, never-logged actions)
    // keep a decision each; the ~22,000 others are two groups: granted by the administrator
    // statement alone, or with the `ec2:Describe*` statement (the S3 statement's other actions
    // are data events, so unobservable here).
    assert!(
        result.decisions.len() < 200,
        "{} decisions",
        result.decisions.len()
    );
    assert_eq!(result.unused.len(), 2, "{:#?}", result.unused);
    let grouped: usize = result.unused.iter().map(|group| group.count).sum();
    let granted = result
        .decisions
        .iter()
        .filter(|decision| !decision.granted_by.is_empty())
        .count();
    assert_eq!(
        grouped + granted,
        catalog.len(),
        "every action is granted once"
    );
    let alone = &result.unused[0];
    assert_eq!(alone.granted_by.len(), 1);
    assert_eq!(&*alone.granted_by[0].policy, "AdministratorAccess");
    // Its riskiest actions are the first permissions-management ones by name.
    let mut expected: Vec<(u8, String)> = alone
        .actions(catalog)
        .unwrap()
        .iter()
        .map(|action| (risk_rank(Some(action.access_level)), action.name.clone()))
        .collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().take(5).map(|(_, name)| name).collect();
    let riskiest: Vec<String> = alone
        .riskiest
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(riskiest, expected);
    assert!(
        alone
            .riskiest
            .iter()
            .all(|(_, level)| *level == AccessLevel::PermissionsManagement)
    );
    let both = unused_group(&result, "ec2:DescribeVpcs").unwrap();
    assert_eq!(both.granted_by.len(), 2);
    assert!(dropped(&result, "iam:CreateUser"));
    assert!(!dropped(&result, "s3:GetObject"));
}

/// Deciding each granted action on its own, as a reference for the shared decisions that
/// statements granting thousands of actions use.
#[test]
fn shared_decisions_grant_exactly_what_the_evaluator_allows() {
    let mut input = input(
        vec![policy(
            "broad",
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Allow","NotAction":["s3:*","iam:Get*"],"Resource":"*"},
                {"Effect":"Deny","Action":["iam:*","ec2:Terminate*"],"Resource":"*"},
                {"Effect":"Allow","Action":"lambda:*","Resource":"*",
                 "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
        )],
        Vec::new(),
        CoverageFacts::management_only(time(1), time(31)),
    );
    input.boundary = Some(policy(
        "boundary",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:*","ec2:*","iam:*","lambda:Get*","sqs:Send*"],"Resource":"*"}]}"#,
    ));
    input.scps = vec![vec![policy(
        "scp",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"sqs:*","Resource":"*"}]}"#,
    )]];
    let result = run(&input);
    let catalog = Catalog::aws().unwrap();
    let mut granted: BTreeSet<String> = result
        .decisions
        .iter()
        .filter(|decision| !decision.granted_by.is_empty())
        .map(|decision| decision.action.clone())
        .collect();
    for group in &result.unused {
        granted.extend(
            group
                .actions(catalog)
                .unwrap()
                .iter()
                .map(|action| action.name.clone()),
        );
    }
    // Every statement has `"Resource": "*"`, so any resource stands for all of them.
    let compiled_policies = [
        &input.identity_policies[0],
        input.boundary.as_ref().unwrap(),
        &input.scps[0][0],
    ];
    let set = PolicySet {
        identity: vec![NamedPolicy::new(
            &compiled_policies[0].name,
            PolicyKind::Identity,
            &compiled_policies[0].document,
        )],
        boundary: Some(NamedPolicy::new(
            &compiled_policies[1].name,
            PolicyKind::PermissionsBoundary,
            &compiled_policies[1].document,
        )),
        scps: vec![vec![NamedPolicy::new(
            &compiled_policies[2].name,
            PolicyKind::ServiceControl,
            &compiled_policies[2].document,
        )]],
        ..PolicySet::default()
    };
    let expected: BTreeSet<String> = catalog
        .actions()
        .filter(|action| {
            let request = Request {
                principal_arn: PRINCIPAL.into(),
                principal_account: "111122223333".into(),
                action: action.name.clone(),
                resource: "arn:aws:s3:::any/thing".into(),
                resource_account: None,
                context: Context::partial(),
            };
            matches!(
                evaluate(&request, &set).verdict(),
                Verdict::Allowed | Verdict::Conditional
            )
        })
        .map(|action| action.name.clone())
        .collect();
    assert!(expected.contains("s3:GetObject") && expected.contains("lambda:GetFunction"));
    assert!(!expected.contains("iam:GetRole") && !expected.contains("sqs:SendMessage"));
    assert_eq!(granted, expected);
    // s3 actions are granted by the first statement only, ec2 ones by the first two.
    assert_eq!(
        unused_group(&result, "s3:CreateBucket")
            .unwrap()
            .granted_by
            .len(),
        1
    );
    assert_eq!(
        unused_group(&result, "ec2:DescribeVpcs")
            .unwrap()
            .granted_by
            .len(),
        2
    );
}

#[test]
fn workload_labels_round_trip_as_issuer_host_and_subject() {
    for label in [
        "github:repo:acme/web:ref:refs/heads/main",
        "token.actions.githubusercontent.com:repo:acme/web:environment:prod",
        "gitlab.example.com:8443:project_path:acme/web:ref_type:branch:ref:main",
        "https://odd:subject",
        "app.terraform.io:",
    ] {
        let workload = parse_workload_label(label).unwrap();
        assert_eq!(workload_label(&workload), label);
    }
    let github =
        parse_workload_label("token.actions.githubusercontent.com:repo:a/b:pull_request").unwrap();
    assert_eq!(
        github.issuer_url,
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(github.subject, "repo:a/b:pull_request");
    assert_eq!(parse_workload_label("no-issuer"), None);
}

#[test]
fn missing_permissions_and_used_evidence_name_workloads_as_issuer_host_and_subject() {
    let mut get = row("s3:GetObject", "arn:aws:s3:::artifacts/a", 2, 0);
    let mut delete = row("s3:DeleteObject", "arn:aws:s3:::artifacts/a", 0, 3);
    for (row, subject) in [
        (&mut get, "repo:acme/web:ref:refs/heads/main"),
        (&mut delete, "repo:acme/api:pull_request"),
    ] {
        row.1.workloads = [
            CiWorkload::new("https://token.actions.githubusercontent.com", subject),
            CiWorkload::new(
                "https://gitlab.com",
                "project_path:acme/web:ref_type:branch:ref:main",
            ),
        ]
        .into();
    }
    let result = run(&input(
        vec![policy("deploy", ARTIFACTS)],
        vec![get, delete],
        facts_with_s3_data(),
    ));
    let Reason::Used(evidence) = &decision(&result, "s3:GetObject").reasons[0] else {
        panic!("{result:?}")
    };
    assert_eq!(
        evidence
            .workloads
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "gitlab.com:project_path:acme/web:ref_type:branch:ref:main",
            "token.actions.githubusercontent.com:repo:acme/web:ref:refs/heads/main",
        ]
    );
    assert_eq!(result.missing_permissions.len(), 1);
    assert_eq!(
        result.missing_permissions[0].workloads,
        [
            "gitlab.com:project_path:acme/web:ref_type:branch:ref:main",
            "token.actions.githubusercontent.com:repo:acme/api:pull_request",
        ]
    );
}
