//! AWS policy evaluation, one test per documented rule, plus property tests of the
//! invariants the minimizer relies on (deny never grants, boundaries never grant).

use pipeleash::aws::{
    CompiledPolicySet, Context, Decision, DecisionKind, KnownPrincipal, NamedPolicy,
    PolicyDocument, PolicyKind, PolicySet, Request, Verdict, add_principal_keys, parse_policy,
};
use proptest::prelude::*;

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/ci/deploy";
const SESSION_ARN: &str = "arn:aws:sts::111122223333:assumed-role/deploy/gh-run-42";

fn policy(json: &str) -> PolicyDocument {
    parse_policy(json).unwrap_or_else(|error| panic!("test policy does not parse: {error}\n{json}"))
}

/// Shorthand for a one-statement 2012-10-17 policy.
fn statement(effect: &str, body: &str) -> PolicyDocument {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}",{body}}}}}"#
    ))
}

fn allow(body: &str) -> PolicyDocument {
    statement("Allow", body)
}

fn deny(body: &str) -> PolicyDocument {
    statement("Deny", body)
}

/// The policies of one test, owned; `set()` lends them as a `PolicySet`.
#[derive(Default, Clone)]
struct Policies {
    identity: Vec<PolicyDocument>,
    boundary: Option<PolicyDocument>,
    scps: Vec<Vec<PolicyDocument>>,
    resource: Option<PolicyDocument>,
    session: Vec<PolicyDocument>,
}

impl Policies {
    fn identity(documents: impl IntoIterator<Item = PolicyDocument>) -> Policies {
        Policies {
            identity: documents.into_iter().collect(),
            ..Policies::default()
        }
    }

    fn set(&self) -> PolicySet<'_> {
        let named = |kind: PolicyKind| move |document| named(kind, document);
        PolicySet {
            identity: self
                .identity
                .iter()
                .map(named(PolicyKind::Identity))
                .collect(),
            boundary: self
                .boundary
                .as_ref()
                .map(named(PolicyKind::PermissionsBoundary)),
            scps: self
                .scps
                .iter()
                .map(|level| {
                    level
                        .iter()
                        .map(named(PolicyKind::ServiceControl))
                        .collect()
                })
                .collect(),
            resource: self.resource.as_ref().map(named(PolicyKind::Resource)),
            session: self
                .session
                .iter()
                .map(named(PolicyKind::Session))
                .collect(),
        }
    }
}

fn named(kind: PolicyKind, document: &PolicyDocument) -> NamedPolicy<'_> {
    NamedPolicy::new(kind_name(kind), kind, document)
}

fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "identity",
        PolicyKind::PermissionsBoundary => "boundary",
        PolicyKind::ServiceControl => "scp",
        PolicyKind::Resource => "resource",
        PolicyKind::Session => "session",
    }
}

fn request(action: &str, resource: &str) -> Request {
    Request {
        principal_arn: SESSION_ARN.into(),
        principal_account: ACCOUNT.into(),
        action: action.into(),
        resource: resource.into(),
        resource_account: None,
        context: Context::complete(),
    }
}

fn with_context(mut request: Request, context: Context) -> Request {
    request.context = context;
    request
}

/// Evaluates through both entry points and checks they agree with `expected`.
fn check(request: &Request, policies: &Policies, expected: DecisionKind) -> Decision {
    let set = policies.set();
    let decision = pipeleash::aws::evaluate(request, &set);
    assert_eq!(
        decision.outcome, expected,
        "request {request:#?}\ndecision {decision:#?}"
    );
    assert_eq!(
        CompiledPolicySet::new(&set).decide(request),
        decision.verdict(),
        "decide() disagrees"
    );
    decision
}

const BUCKET_OBJECT: &str = "arn:aws:s3:::artifacts/builds/1.zip";

#[test]
fn implicit_deny_without_any_allow() {
    let decision = check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &Policies::default(),
        DecisionKind::ImplicitDeny,
    );
    assert!(decision.reasons.is_empty());
}

#[test]
fn identity_allow_grants_and_names_the_statement() {
    let policies = Policies::identity([policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Action":"ec2:*","Resource":"*"},
           {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*"}]}"#,
    )]);
    let decision = check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    assert_eq!(decision.reasons.len(), 1);
    assert_eq!(decision.reasons[0].statement, 2);
    assert_eq!(decision.reasons[0].sid.as_deref(), Some("Read"));
    assert_eq!(decision.reasons[0].kind, PolicyKind::Identity);
}

#[test]
fn explicit_deny_wins_over_allow() {
    let policies = Policies::identity([
        allow(r#""Action":"s3:*","Resource":"*""#),
        deny(r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*""#),
    ]);
    let decision = check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ExplicitDeny,
    );
    assert!(
        decision
            .reasons
            .iter()
            .all(|reason| reason.effect == pipeleash::model::Effect::Deny)
    );
    assert_eq!(decision.reasons.len(), 1);
}

#[test]
fn deny_in_boundary_scp_or_session_wins() {
    let base = Policies::identity([allow(r#""Action":"*","Resource":"*""#)]);
    let everything = || allow(r#""Action":"*","Resource":"*""#);
    let no_s3 = || deny(r#""Action":"s3:*","Resource":"*""#);
    let boundary = Policies {
        boundary: Some(policy(&format!(
            r#"{{"Statement":[{},{}]}}"#,
            r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#,
            r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#
        ))),
        ..base.clone()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &boundary,
        DecisionKind::ExplicitDeny,
    );
    let scp = Policies {
        scps: vec![vec![everything(), no_s3()]],
        ..base.clone()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &scp,
        DecisionKind::ExplicitDeny,
    );
    let session = Policies {
        session: vec![everything(), no_s3()],
        ..base
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &session,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn boundary_intersects_with_identity_policies() {
    let policies = Policies {
        identity: vec![allow(r#""Action":["s3:*","iam:*"],"Resource":"*""#)],
        boundary: Some(allow(r#""Action":["s3:*","ec2:*"],"Resource":"*""#)),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    let decision = check(
        &request("iam:CreateUser", "*"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    assert_eq!(
        decision.layers.boundary,
        Some(pipeleash::aws::eval::LayerResult::DoesNotAllow)
    );
}

#[test]
fn boundary_does_not_grant_by_itself() {
    let policies = Policies {
        boundary: Some(allow(r#""Action":"*","Resource":"*""#)),
        ..Policies::default()
    };
    check(
        &request("ec2:RunInstances", "*"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn scp_intersects_at_every_level() {
    let full = || allow(r#""Action":"*","Resource":"*""#);
    let policies = Policies {
        identity: vec![full()],
        scps: vec![
            vec![full()],
            vec![allow(r#""Action":["s3:*","ec2:*"],"Resource":"*""#)],
            vec![allow(r#""Action":["s3:*","iam:*"],"Resource":"*""#)],
        ],
        ..Policies::default()
    };
    check(
        &request("s3:PutObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("ec2:RunInstances", "*"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    check(
        &request("iam:PassRole", ROLE_ARN),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn scp_level_without_policies_allows_nothing() {
    let policies = Policies {
        identity: vec![allow(r#""Action":"*","Resource":"*""#)],
        scps: vec![vec![]],
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn scp_deny_with_condition() {
    let policies = Policies {
        identity: vec![allow(r#""Action":"*","Resource":"*""#)],
        scps: vec![vec![
            allow(r#""Action":"*","Resource":"*""#),
            deny(
                r#""Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}"#,
            ),
        ]],
        ..Policies::default()
    };
    let in_region = Context::complete().with("aws:RequestedRegion", "eu-west-1");
    check(
        &with_context(request("ec2:RunInstances", "*"), in_region),
        &policies,
        DecisionKind::Allowed,
    );
    let elsewhere = Context::complete().with("aws:RequestedRegion", "us-east-1");
    check(
        &with_context(request("ec2:RunInstances", "*"), elsewhere),
        &policies,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn not_action_with_allow_grants_everything_else() {
    let policies = Policies::identity([allow(
        r#""NotAction":["iam:*","organizations:*"],"Resource":"*""#,
    )]);
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("IAM:CreateUser", "*"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn not_action_with_deny_denies_everything_else() {
    let policies = Policies::identity([
        allow(r#""Action":"*","Resource":"*""#),
        deny(r#""NotAction":["s3:GetObject","sts:GetCallerIdentity"],"Resource":"*""#),
    ]);
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("s3:PutObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn not_resource_applies_to_other_resources() {
    let policies = Policies::identity([
        allow(r#""Action":"s3:*","Resource":"*""#),
        deny(
            r#""Action":"s3:*","NotResource":["arn:aws:s3:::artifacts","arn:aws:s3:::artifacts/*"]"#,
        ),
    ]);
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("s3:GetObject", "arn:aws:s3:::secrets/key"),
        &policies,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn resource_wildcard_spans_arn_segments() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*""#,
    )]);
    check(
        &request("s3:GetObject", "arn:aws:s3:::artifacts/a/b/c"),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("s3:GetObject", "arn:aws:s3:::artifacts"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    let any_region = Policies::identity([allow(
        r#""Action":"logs:*","Resource":"arn:aws:logs:*:log-group:/ci""#,
    )]);
    check(
        &request(
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:111122223333:log-group:/ci",
        ),
        &any_region,
        DecisionKind::Allowed,
    );
}

#[test]
fn resource_match_is_case_sensitive() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*""#,
    )]);
    check(
        &request("s3:GetObject", "arn:aws:s3:::Artifacts/x"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn question_mark_matches_one_character() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:GetObjec?","Resource":"arn:aws:s3:::bucket-?""#,
    )]);
    check(
        &request("s3:GetObject", "arn:aws:s3:::bucket-a"),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("s3:GetObject", "arn:aws:s3:::bucket-ab"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    check(
        &request("s3:GetObjectAcl", "arn:aws:s3:::bucket-a"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn actions_match_case_insensitively() {
    let policies = Policies::identity([allow(r#""Action":"S3:getobject*","Resource":"*""#)]);
    check(
        &request("s3:GetObjectTagging", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("S3:GETOBJECT", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
}

fn conditional_allow(condition: &str) -> Policies {
    Policies::identity([allow(&format!(
        r#""Action":"s3:GetObject","Resource":"*","Condition":{{{condition}}}"#
    ))])
}

fn check_condition(condition: &str, context: Context, expected: DecisionKind) {
    check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), context),
        &conditional_allow(condition),
        expected,
    );
}

#[test]
fn normal_operator_is_false_on_absent_key() {
    check_condition(
        r#""StringEquals":{"aws:PrincipalTag/team":"ci"}"#,
        Context::complete(),
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn negated_operator_is_true_on_absent_key() {
    check_condition(
        r#""StringNotEquals":{"aws:PrincipalTag/team":"ci"}"#,
        Context::complete(),
        DecisionKind::Allowed,
    );
}

#[test]
fn if_exists_is_true_on_absent_key() {
    let condition = r#""StringEqualsIfExists":{"aws:PrincipalTag/team":"ci"}"#;
    check_condition(condition, Context::complete(), DecisionKind::Allowed);
    check_condition(
        condition,
        Context::complete().with("aws:PrincipalTag/team", "web"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        condition,
        Context::complete().with("aws:principaltag/TEAM", "ci"),
        DecisionKind::Allowed,
    );
}

#[test]
fn for_all_values_is_true_on_empty_or_absent_set() {
    let condition = r#""ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}"#;
    check_condition(condition, Context::complete(), DecisionKind::Allowed);
    check_condition(
        condition,
        Context::complete().with_values("aws:TagKeys", Vec::<String>::new()),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        Context::complete().with_values("aws:TagKeys", ["team", "env"]),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        Context::complete().with_values("aws:TagKeys", ["team", "owner"]),
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn for_any_value_is_false_on_empty_or_absent_set() {
    let condition = r#""ForAnyValue:StringLike":{"aws:TagKeys":"ci-*"}"#;
    check_condition(condition, Context::complete(), DecisionKind::ImplicitDeny);
    check_condition(
        condition,
        Context::complete().with_values("aws:TagKeys", Vec::<String>::new()),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        condition,
        Context::complete().with_values("aws:TagKeys", ["team", "ci-repo"]),
        DecisionKind::Allowed,
    );
}

#[test]
fn null_operator_tests_presence() {
    let must_be_absent = r#""Null":{"aws:TokenIssueTime":"true"}"#;
    check_condition(must_be_absent, Context::complete(), DecisionKind::Allowed);
    check_condition(
        must_be_absent,
        Context::complete().with("aws:TokenIssueTime", "2024-01-01T00:00:00Z"),
        DecisionKind::ImplicitDeny,
    );
    let must_be_present = r#""Null":{"aws:TokenIssueTime":false}"#;
    check_condition(
        must_be_present,
        Context::complete(),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        must_be_present,
        Context::complete().with("aws:TokenIssueTime", "x"),
        DecisionKind::Allowed,
    );
}

#[test]
fn string_like_is_case_sensitive_with_wildcards() {
    let condition = r#""StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*:ref:refs/heads/main"}"#;
    let subject =
        |value: &str| Context::complete().with("token.actions.githubusercontent.com:sub", value);
    check_condition(
        condition,
        subject("repo:acme/web:ref:refs/heads/main"),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        subject("repo:ACME/web:ref:refs/heads/main"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        condition,
        subject("repo:acme/web:ref:refs/heads/feature"),
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn string_equals_ignore_case() {
    let condition = r#""StringEqualsIgnoreCase":{"aws:PrincipalTag/env":"Prod"}"#;
    check_condition(
        condition,
        Context::complete().with("aws:PrincipalTag/env", "PROD"),
        DecisionKind::Allowed,
    );
    let exact = r#""StringEquals":{"aws:PrincipalTag/env":"Prod"}"#;
    check_condition(
        exact,
        Context::complete().with("aws:PrincipalTag/env", "PROD"),
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn ip_address_matches_cidr_blocks() {
    let condition = r#""IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}"#;
    let from = |ip: &str| Context::complete().with("aws:SourceIp", ip);
    check_condition(condition, from("203.0.113.77"), DecisionKind::Allowed);
    check_condition(condition, from("2001:db8::1"), DecisionKind::Allowed);
    check_condition(condition, from("198.51.100.1"), DecisionKind::ImplicitDeny);
    check_condition(
        r#""NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}"#,
        from("198.51.100.1"),
        DecisionKind::Allowed,
    );
}

#[test]
fn date_less_than() {
    let condition = r#""DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}"#;
    let at = |time: &str| Context::complete().with("aws:CurrentTime", time);
    check_condition(condition, at("2024-12-31T23:59:59Z"), DecisionKind::Allowed);
    check_condition(
        condition,
        at("2025-01-01T00:00:00Z"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(condition, at("1700000000"), DecisionKind::Allowed);
}

#[test]
fn numeric_comparisons() {
    let condition = r#""NumericLessThanEquals":{"s3:max-keys":"10"}"#;
    let keys = |count: &str| Context::complete().with("s3:max-keys", count);
    check_condition(condition, keys("10"), DecisionKind::Allowed);
    check_condition(condition, keys("9.5"), DecisionKind::Allowed);
    check_condition(condition, keys("11"), DecisionKind::ImplicitDeny);
    check_condition(condition, keys("many"), DecisionKind::ImplicitDeny);
    check_condition(
        r#""NumericGreaterThan":{"aws:MultiFactorAuthAge":3600}"#,
        Context::complete().with("aws:MultiFactorAuthAge", "7200"),
        DecisionKind::Allowed,
    );
}

#[test]
fn bool_operator() {
    let condition = r#""Bool":{"aws:SecureTransport":"true"}"#;
    check_condition(
        condition,
        Context::complete().with("aws:SecureTransport", "true"),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        Context::complete().with("aws:SecureTransport", "false"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(condition, Context::complete(), DecisionKind::ImplicitDeny);
}

#[test]
fn arn_like_matches_component_wise() {
    let condition = r#""ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:ci-*"}"#;
    let source = |arn: &str| Context::complete().with("aws:SourceArn", arn);
    check_condition(
        condition,
        source("arn:aws:sns:eu-west-1:111122223333:ci-topic"),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        source("arn:aws:sns:eu-west-1:444455556666:ci-topic"),
        DecisionKind::ImplicitDeny,
    );
    // `*` in the region part cannot absorb the account part.
    let short = r#""ArnLike":{"aws:SourceArn":"arn:aws:sns:*:ci-topic"}"#;
    check_condition(
        short,
        source("arn:aws:sns:eu-west-1:111122223333:ci-topic"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        r#""ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:other"}"#,
        source("arn:aws:sns:eu-west-1:1:ci"),
        DecisionKind::Allowed,
    );
}

#[test]
fn multiple_keys_and_operators_are_anded_values_ored() {
    let condition = r#""StringEquals":{"aws:PrincipalTag/team":["ci","platform"],"aws:RequestedRegion":"eu-west-1"},"Bool":{"aws:SecureTransport":"true"}"#;
    let context = |team: &str, region: &str| {
        Context::complete()
            .with("aws:PrincipalTag/team", team)
            .with("aws:RequestedRegion", region)
            .with("aws:SecureTransport", "true")
    };
    check_condition(
        condition,
        context("platform", "eu-west-1"),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        context("web", "eu-west-1"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        condition,
        context("ci", "us-east-1"),
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn policy_variables_resolve_from_context() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*""#,
    )]);
    let as_user = |name: &str| Context::complete().with("aws:username", name);
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::home/alice/notes"),
            as_user("alice"),
        ),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::home/bob/notes"),
            as_user("alice"),
        ),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    // A missing variable makes the statement not match.
    check(
        &request("s3:GetObject", "arn:aws:s3:::home/alice/notes"),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn policy_variable_default_value() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","Resource":"arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*""#,
    )]);
    check(
        &request("s3:GetObject", "arn:aws:s3:::teams/shared/x"),
        &policies,
        DecisionKind::Allowed,
    );
    let tagged = Context::complete().with("aws:PrincipalTag/team", "ci");
    check(
        &with_context(request("s3:GetObject", "arn:aws:s3:::teams/ci/x"), tagged),
        &policies,
        DecisionKind::Allowed,
    );
}

#[test]
fn escapes_are_literal_and_substituted_values_are_not_wildcards() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","Resource":"arn:aws:s3:::b/${*}/${aws:username}""#,
    )]);
    let user = |name: &str| Context::complete().with("aws:username", name);
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::b/*/alice"),
            user("alice"),
        ),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::b/x/alice"),
            user("alice"),
        ),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    check(
        &with_context(request("s3:GetObject", "arn:aws:s3:::b/*/bob"), user("*")),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn variables_are_literal_in_version_2008() {
    let policies = Policies::identity([policy(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}"}}"#,
    )]);
    let alice = Context::complete().with("aws:username", "alice");
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::home/alice"),
            alice.clone(),
        ),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::home/${aws:username}"),
            alice,
        ),
        &policies,
        DecisionKind::Allowed,
    );
}

#[test]
fn variables_in_condition_values() {
    let condition = r#""StringEquals":{"s3:prefix":"home/${aws:username}/"}"#;
    let context = Context::complete()
        .with("aws:username", "alice")
        .with("s3:prefix", "home/alice/");
    check_condition(condition, context, DecisionKind::Allowed);
    // Missing variable: a normal operator does not match…
    check_condition(
        condition,
        Context::complete().with("s3:prefix", "home/alice/"),
        DecisionKind::ImplicitDeny,
    );
    // …and an inverted one does: the value is not equal to the missing one.
    let negated = r#""StringNotEquals":{"s3:prefix":"home/${aws:username}/"}"#;
    check_condition(
        negated,
        Context::complete().with("s3:prefix", "x"),
        DecisionKind::Allowed,
    );
}

fn bucket_policy(principal: &str) -> PolicyDocument {
    allow(&format!(
        r#""Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*""#
    ))
}

#[test]
fn same_account_resource_policy_grants_without_identity_policy() {
    let policies = Policies {
        resource: Some(bucket_policy(&format!(r#"{{"AWS":"{SESSION_ARN}"}}"#))),
        ..Policies::default()
    };
    let decision = check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    assert_eq!(decision.reasons[0].kind, PolicyKind::Resource);
    check(
        &request("s3:PutObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn resource_policy_for_other_principal_does_not_grant() {
    let policies = Policies {
        resource: Some(bucket_policy(
            r#"{"AWS":"arn:aws:iam::111122223333:role/other"}"#,
        )),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn resource_policy_naming_the_account_delegates_to_identity_policies() {
    let resource = Some(bucket_policy(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#));
    let alone = Policies {
        resource: resource.clone(),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &alone,
        DecisionKind::ImplicitDeny,
    );
    let bare_account = Policies {
        resource: Some(bucket_policy(r#"{"AWS":"111122223333"}"#)),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &bare_account,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn boundary_limits_resource_grant_to_role_arn_but_not_to_session_arn() {
    let boundary = Some(allow(r#""Action":"ec2:*","Resource":"*""#));
    let to_role = Policies {
        resource: Some(bucket_policy(&format!(r#"{{"AWS":"{ROLE_ARN}"}}"#))),
        boundary: boundary.clone(),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &to_role,
        DecisionKind::ImplicitDeny,
    );
    let without_boundary = Policies {
        boundary: None,
        ..to_role.clone()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &without_boundary,
        DecisionKind::Allowed,
    );
    let to_session = Policies {
        resource: Some(bucket_policy(&format!(r#"{{"AWS":"{SESSION_ARN}"}}"#))),
        boundary,
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &to_session,
        DecisionKind::Allowed,
    );
}

#[test]
fn session_policy_limits_resource_grant_to_role_arn_but_not_to_session_arn() {
    let session = vec![allow(r#""Action":"ec2:*","Resource":"*""#)];
    let to_role = Policies {
        resource: Some(bucket_policy(&format!(r#"{{"AWS":"{ROLE_ARN}"}}"#))),
        session: session.clone(),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &to_role,
        DecisionKind::ImplicitDeny,
    );
    let to_session = Policies {
        resource: Some(bucket_policy(&format!(r#"{{"AWS":"{SESSION_ARN}"}}"#))),
        session,
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &to_session,
        DecisionKind::Allowed,
    );
}

#[test]
fn scp_limits_resource_policy_grants_too() {
    let policies = Policies {
        resource: Some(bucket_policy(r#""*""#)),
        scps: vec![vec![allow(r#""Action":"ec2:*","Resource":"*""#)]],
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn resource_policy_deny_for_principal_wins() {
    let resource = policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Principal":{{"AWS":"{ROLE_ARN}"}},"Action":"s3:*","Resource":"*"}}}}"#
    ));
    let policies = Policies {
        identity: vec![allow(r#""Action":"s3:*","Resource":"*""#)],
        resource: Some(resource),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn not_principal_deny_applies_to_principals_not_listed() {
    let resource = policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"s3:*","Resource":"*"}}"#,
    );
    let policies = Policies {
        identity: vec![allow(r#""Action":"s3:*","Resource":"*""#)],
        resource: Some(resource),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ExplicitDeny,
    );
}

fn cross_account(action: &str) -> Request {
    Request {
        resource_account: Some(OTHER_ACCOUNT.into()),
        ..request(action, "arn:aws:s3:::partner-bucket/x")
    }
}

#[test]
fn cross_account_needs_both_identity_and_resource_policy() {
    let identity = allow(r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::partner-bucket/*""#);
    let resource = allow(
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::partner-bucket/*""#,
    );
    let both = Policies {
        identity: vec![identity.clone()],
        resource: Some(resource.clone()),
        ..Policies::default()
    };
    check(&cross_account("s3:GetObject"), &both, DecisionKind::Allowed);
    let only_identity = Policies {
        identity: vec![identity],
        ..Policies::default()
    };
    let decision = check(
        &cross_account("s3:GetObject"),
        &only_identity,
        DecisionKind::ImplicitDeny,
    );
    assert!(decision.layers.cross_account);
    let only_resource = Policies {
        resource: Some(resource),
        ..Policies::default()
    };
    check(
        &cross_account("s3:GetObject"),
        &only_resource,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn session_policy_intersects_with_identity_policies() {
    let policies = Policies {
        identity: vec![allow(r#""Action":["s3:*","ec2:*"],"Resource":"*""#)],
        session: vec![
            allow(r#""Action":"s3:GetObject","Resource":"*""#),
            allow(r#""Action":"ec2:Describe*","Resource":"*""#),
        ],
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("ec2:DescribeInstances", "*"),
        &policies,
        DecisionKind::Allowed,
    );
    check(
        &request("s3:PutObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

#[test]
fn partial_context_gives_conditional_naming_the_key() {
    let condition = r#""StringEquals":{"aws:PrincipalTag/team":"ci"}"#;
    let decision = check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), Context::partial()),
        &conditional_allow(condition),
        DecisionKind::Conditional {
            missing_keys: vec!["aws:PrincipalTag/team".into()],
        },
    );
    assert_eq!(
        decision.reasons.len(),
        1,
        "the statement that might apply is named"
    );
    // IfExists, ForAllValues and Null also depend on whether the key is there.
    for condition in [
        r#""StringEqualsIfExists":{"k:a":"x"}"#,
        r#""ForAllValues:StringEquals":{"k:a":"x"}"#,
        r#""Null":{"k:a":"true"}"#,
    ] {
        check_condition(
            condition,
            Context::partial(),
            DecisionKind::Conditional {
                missing_keys: vec!["k:a".into()],
            },
        );
    }
}

#[test]
fn partial_context_unknown_deny_makes_an_allow_conditional() {
    let policies = Policies::identity([
        allow(r#""Action":"s3:*","Resource":"*""#),
        deny(
            r#""Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}"#,
        ),
    ]);
    check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), Context::partial()),
        &policies,
        DecisionKind::Conditional {
            missing_keys: vec!["aws:MultiFactorAuthPresent".into()],
        },
    );
}

#[test]
fn partial_context_stays_definite_when_the_key_cannot_matter() {
    // The action is not allowed anywhere, so the unknown key does not matter.
    let unrelated = conditional_allow(r#""StringEquals":{"aws:PrincipalTag/team":"ci"}"#);
    check(
        &with_context(request("ec2:RunInstances", "*"), Context::partial()),
        &unrelated,
        DecisionKind::ImplicitDeny,
    );
    // Another statement allows unconditionally.
    let mut policies = unrelated.clone();
    policies
        .identity
        .push(allow(r#""Action":"s3:GetObject","Resource":"*""#));
    check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), Context::partial()),
        &policies,
        DecisionKind::Allowed,
    );
    // Keys that are present are used even in a partial context.
    let known = Context::partial().with("aws:PrincipalTag/team", "ci");
    check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), known),
        &unrelated,
        DecisionKind::Allowed,
    );
    // A definite explicit deny wins over unknown allows.
    let mut denied = unrelated;
    denied
        .identity
        .push(deny(r#""Action":"s3:*","Resource":"*""#));
    check(
        &with_context(request("s3:GetObject", BUCKET_OBJECT), Context::partial()),
        &denied,
        DecisionKind::ExplicitDeny,
    );
}

#[test]
fn partial_context_missing_variable_is_conditional() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*""#,
    )]);
    check(
        &with_context(
            request("s3:GetObject", "arn:aws:s3:::home/alice/x"),
            Context::partial(),
        ),
        &policies,
        DecisionKind::Conditional {
            missing_keys: vec!["aws:username".into()],
        },
    );
}

#[test]
fn complete_context_is_definite() {
    let condition = r#""StringEquals":{"aws:PrincipalTag/team":"ci"}"#;
    check_condition(condition, Context::complete(), DecisionKind::ImplicitDeny);
}

// ---------------------------------------------------------------------------------------
// Property tests

fn arbitrary_statement(effect: &'static str) -> impl Strategy<Value = String> {
    let action = prop::sample::select(vec![
        "*",
        "s3:*",
        "s3:GetObject",
        "s3:Put*",
        "ec2:*",
        "iam:PassRole",
        "s3:Get?bject",
    ]);
    let resource = prop::sample::select(vec![
        "*",
        "arn:aws:s3:::artifacts/*",
        "arn:aws:s3:::other/*",
        "arn:aws:iam::*:role/*",
    ]);
    let condition = prop::sample::select(vec![
        "",
        r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"ci"}}"#,
        r#","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"ci"}}"#,
        r#","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"ci-*"}}"#,
        r#","Condition":{"Null":{"aws:TokenIssueTime":"true"}}"#,
    ]);
    let negate_action = any::<bool>();
    let negate_resource = any::<bool>();
    (action, resource, condition, negate_action, negate_resource).prop_map(move |(action, resource, condition, not_action, not_resource)| {
        let action_key = if not_action { "NotAction" } else { "Action" };
        let resource_key = if not_resource { "NotResource" } else { "Resource" };
        format!(r#"{{"Effect":"{effect}","{action_key}":"{action}","{resource_key}":"{resource}"{condition}}}"#)
    })
}

fn document(statements: &[String]) -> PolicyDocument {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
}

fn arbitrary_request() -> impl Strategy<Value = Request> {
    let action = prop::sample::select(vec![
        "s3:GetObject",
        "s3:PutObject",
        "ec2:RunInstances",
        "iam:PassRole",
    ]);
    let resource = prop::sample::select(vec![BUCKET_OBJECT, "arn:aws:s3:::other/x", ROLE_ARN]);
    let team = prop::option::of(prop::sample::select(vec!["ci", "web"]));
    let partial = any::<bool>();
    (action, resource, team, partial).prop_map(|(action, resource, team, partial)| {
        let mut context = if partial {
            Context::partial()
        } else {
            Context::complete()
        };
        if let Some(team) = team {
            context.insert("aws:PrincipalTag/team", team);
        }
        context.set("aws:TagKeys", ["ci-repo"]);
        with_context(request(action, resource), context)
    })
}

fn decide(request: &Request, policies: &Policies) -> Verdict {
    CompiledPolicySet::new(&policies.set()).decide(request)
}

proptest! {
    #[test]
    fn adding_a_deny_never_grants(
        allows in prop::collection::vec(arbitrary_statement("Allow"), 1..4),
        denies in prop::collection::vec(arbitrary_statement("Deny"), 1..3),
        request in arbitrary_request(),
    ) {
        let before = decide(&request, &Policies::identity([document(&allows)]));
        let after = decide(&request, &Policies::identity([document(&allows), document(&denies)]));
        if before != Verdict::Allowed {
            prop_assert_ne!(after, Verdict::Allowed);
        }
        if before == Verdict::ExplicitDeny {
            prop_assert_eq!(after, Verdict::ExplicitDeny);
        }
    }

    #[test]
    fn adding_an_allow_never_turns_allowed_into_deny(
        statements in prop::collection::vec(prop_oneof![arbitrary_statement("Allow"), arbitrary_statement("Deny")], 1..4),
        extra in arbitrary_statement("Allow"),
        request in arbitrary_request(),
    ) {
        let before = decide(&request, &Policies::identity([document(&statements)]));
        let after = decide(&request, &Policies::identity([document(&statements), document(&[extra])]));
        if before == Verdict::Allowed {
            prop_assert_eq!(after, Verdict::Allowed);
        }
    }

    #[test]
    fn adding_a_boundary_never_grants(
        allows in prop::collection::vec(arbitrary_statement("Allow"), 1..4),
        boundary in prop::collection::vec(arbitrary_statement("Allow"), 1..3),
        request in arbitrary_request(),
    ) {
        let without = Policies::identity([document(&allows)]);
        let with = Policies { boundary: Some(document(&boundary)), ..without.clone() };
        let before = decide(&request, &without);
        let after = decide(&request, &with);
        if before == Verdict::ImplicitDeny {
            prop_assert_eq!(after, Verdict::ImplicitDeny);
        }
    }

    #[test]
    fn complete_context_is_never_conditional(
        statements in prop::collection::vec(prop_oneof![arbitrary_statement("Allow"), arbitrary_statement("Deny")], 1..5),
        request in arbitrary_request(),
    ) {
        let mut request = request;
        request.context.completeness = pipeleash::aws::Completeness::Complete;
        prop_assert_ne!(decide(&request, &Policies::identity([document(&statements)])), Verdict::Conditional);
    }

    #[test]
    fn resource_glob_agrees_with_shared_matcher(pattern in "[ab*?/:]{0,10}", text in "[ab/:]{0,12}") {
        let resource = format!("arn:{pattern}");
        let target = format!("arn:{text}");
        let policies = Policies::identity([allow(&format!(r#""Action":"s3:GetObject","Resource":"{resource}""#))]);
        let allowed = decide(&request("s3:GetObject", &target), &policies) == Verdict::Allowed;
        prop_assert_eq!(allowed, pipeleash::matching::glob_match(&resource, &target, pipeleash::matching::Case::Sensitive));
    }
}

/// Rough throughput of `decide` for a role with 20 statements, a boundary and one SCP.
/// Run with `cargo test --test aws_evaluate -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_decide_throughput() {
    let mut statements: Vec<String> = (0..19)
        .map(|index| {
            format!(r#"{{"Sid":"S{index}","Effect":"Allow","Action":["svc{index}:Get*","svc{index}:List*"],"Resource":"arn:aws:svc{index}:::thing-{index}/*"}}"#)
        })
        .collect();
    statements.push(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"ci"}}}"#.into(),
    );
    let policies = Policies {
        identity: vec![document(&statements)],
        boundary: Some(allow(r#""Action":["s3:*","svc1:*"],"Resource":"*""#)),
        scps: vec![vec![
            allow(r#""Action":"*","Resource":"*""#),
            deny(
                r#""Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}"#,
            ),
        ]],
        ..Policies::default()
    };
    let compiled = CompiledPolicySet::new(&policies.set());
    let context = Context::complete()
        .with("aws:PrincipalTag/team", "ci")
        .with("aws:RequestedRegion", "eu-west-1");
    let request = with_context(request("s3:GetObject", BUCKET_OBJECT), context);
    assert_eq!(compiled.decide(&request), Verdict::Allowed);
    let iterations = 200_000;
    let start = std::time::Instant::now();
    let mut allowed = 0usize;
    for _ in 0..iterations {
        allowed += usize::from(compiled.decide(std::hint::black_box(&request)) == Verdict::Allowed);
    }
    let elapsed = start.elapsed();
    assert_eq!(allowed, iterations);
    println!(
        "decide: {:.0} decisions/s ({:?} per decision; depends on the build profile)",
        iterations as f64 / elapsed.as_secs_f64(),
        elapsed / iterations as u32
    );
}

// ---- Resource policies that must themselves allow (key policies, trust policies) ----
// "IAM role trust policies and KMS key policies are exceptions to this logic, because they
// must explicitly allow access for principals"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html).

const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const TARGET_ROLE: &str = "arn:aws:iam::111122223333:role/deployer";
const CI_DEPLOY_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/ci-deploy/run-7";

fn resource_policy(principal: &str, action: &str) -> PolicyDocument {
    allow(&format!(
        r#""Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*""#
    ))
}

fn by(principal: &str, action: &str, resource: &str) -> Request {
    let mut request = request(action, resource);
    request.principal_arn = principal.into();
    request
}

/// The example of the issue: identity allows `kms:Decrypt`, the key policy allows only
/// `role/admin`; `role/ci-deploy` is implicitly denied in its own account.
#[test]
fn key_policy_naming_another_role_denies_despite_an_identity_allow() {
    let policies = Policies {
        identity: vec![allow(r#""Action":"kms:Decrypt","Resource":"*""#)],
        resource: Some(resource_policy(
            "arn:aws:iam::111122223333:role/admin",
            "kms:*",
        )),
        ..Policies::default()
    };
    let decision = check(
        &by(CI_DEPLOY_SESSION, "kms:Decrypt", KEY_ARN),
        &policies,
        DecisionKind::ImplicitDeny,
    );
    assert_eq!(
        decision.layers.resource_policy_required,
        Some(pipeleash::aws::RequiredResourcePolicy::KmsKeyPolicy)
    );
}

/// The same rule for a role's trust policy and `sts:AssumeRole`.
#[test]
fn trust_policy_naming_another_role_denies_despite_an_identity_allow() {
    let policies = Policies {
        identity: vec![allow(r#""Action":"sts:AssumeRole","Resource":"*""#)],
        resource: Some(resource_policy(
            "arn:aws:iam::111122223333:role/admin",
            "sts:AssumeRole",
        )),
        ..Policies::default()
    };
    check(
        &by(CI_DEPLOY_SESSION, "sts:AssumeRole", TARGET_ROLE),
        &policies,
        DecisionKind::ImplicitDeny,
    );
}

/// Every way a key or trust policy can decide, against the same identity allow: naming the
/// account delegates to IAM (the default key policy), naming the role or the session grants,
/// naming someone else or nobody grants nothing, and a deny wins.
#[test]
fn required_resource_policies_allow_only_by_naming_the_principal_or_its_account() {
    for (action, resource) in [
        ("kms:Decrypt", KEY_ARN),
        ("sts:AssumeRole", TARGET_ROLE),
        ("sts:TagSession", TARGET_ROLE),
    ] {
        let identity = allow(&format!(r#""Action":"{action}","Resource":"*""#));
        let request = by(CI_DEPLOY_SESSION, action, resource);
        let with = |resource_policy: PolicyDocument, identity_too: bool| Policies {
            identity: if identity_too {
                vec![identity.clone()]
            } else {
                Vec::new()
            },
            resource: Some(resource_policy),
            ..Policies::default()
        };
        let root = "arn:aws:iam::111122223333:root";
        let role = "arn:aws:iam::111122223333:role/ci-deploy";
        let cases = [
            (resource_policy(root, action), true, DecisionKind::Allowed),
            (
                resource_policy(root, action),
                false,
                DecisionKind::ImplicitDeny,
            ),
            (resource_policy(role, action), false, DecisionKind::Allowed),
            (
                resource_policy(CI_DEPLOY_SESSION, action),
                false,
                DecisionKind::Allowed,
            ),
            (
                resource_policy("arn:aws:iam::111122223333:role/admin", action),
                true,
                DecisionKind::ImplicitDeny,
            ),
            (
                resource_policy(root, "s3:GetObject"),
                true,
                DecisionKind::ImplicitDeny,
            ),
            (
                deny(&format!(
                    r#""Principal":{{"AWS":"{role}"}},"Action":"{action}","Resource":"*""#
                )),
                true,
                DecisionKind::ExplicitDeny,
            ),
        ];
        for (resource_policy, identity_too, expected) in cases {
            check(&request, &with(resource_policy, identity_too), expected);
        }
    }
}

/// Other resource policies keep the general rule: within one account an identity allow is
/// enough whatever a bucket policy says (it grants nothing to this principal here).
#[test]
fn other_resource_policies_do_not_need_to_name_the_principal() {
    let policies = Policies {
        identity: vec![allow(r#""Action":"s3:GetObject","Resource":"*""#)],
        resource: Some(bucket_policy(
            r#"{"AWS":"arn:aws:iam::111122223333:role/admin"}"#,
        )),
        ..Policies::default()
    };
    check(
        &request("s3:GetObject", BUCKET_OBJECT),
        &policies,
        DecisionKind::Allowed,
    );
    // A `kms:` action on something other than a key, and an `sts:` action on no role, are
    // not decided by a key or trust policy.
    assert_eq!(
        pipeleash::aws::RequiredResourcePolicy::of("kms:ListKeys", "*"),
        None
    );
    assert_eq!(
        pipeleash::aws::RequiredResourcePolicy::of("sts:GetCallerIdentity", "*"),
        None
    );
    assert_eq!(
        pipeleash::aws::RequiredResourcePolicy::of("KMS:decrypt", KEY_ARN),
        Some(pipeleash::aws::RequiredResourcePolicy::KmsKeyPolicy)
    );
}

// ---- The request context of a principal ----

fn principal_context(principal: &str, known: &KnownPrincipal) -> Context {
    let mut context = Context::complete();
    add_principal_keys(&mut context, principal, known);
    context
}

/// `aws:PrincipalArn` of a role session is the role's ARN with its path
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn),
/// so an SCP carve-out `Deny iam:* unless ArnNotLike aws:PrincipalArn role/platform-*`
/// allows a session of `platform-admin`.
#[test]
fn scp_carve_out_on_principal_arn_allows_a_session_of_the_role() {
    let session = "arn:aws:sts::111122223333:assumed-role/platform-admin/ci-session";
    let policies = Policies {
        identity: vec![allow(r#""Action":"iam:*","Resource":"*""#)],
        scps: vec![vec![
            allow(r#""Action":"*","Resource":"*""#),
            deny(
                r#""Action":"iam:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/platform-*"}}"#,
            ),
        ]],
        ..Policies::default()
    };
    let known = KnownPrincipal {
        role_arn: Some("arn:aws:iam::111122223333:role/platform-admin".into()),
        unique_id: None,
    };
    let mut create = by(session, "iam:CreateRole", "*");
    create.context = principal_context(session, &known);
    check(&create, &policies, DecisionKind::Allowed);
    // With a path the pattern does not cover, the session is denied.
    let known = KnownPrincipal {
        role_arn: Some("arn:aws:iam::111122223333:role/team/platform-admin".into()),
        unique_id: None,
    };
    create.context = principal_context(session, &known);
    check(&create, &policies, DecisionKind::ExplicitDeny);
    // Without the path the key is unknown, not the session ARN: conditional.
    create.context = principal_context(session, &KnownPrincipal::default());
    check(
        &create,
        &policies,
        DecisionKind::Conditional {
            missing_keys: vec!["aws:PrincipalArn".into()],
        },
    );
    // An inventory role of another name is not this session's role.
    let known = KnownPrincipal {
        role_arn: Some("arn:aws:iam::111122223333:role/platform-other".into()),
        unique_id: None,
    };
    create.context = principal_context(session, &known);
    assert_eq!(
        create.context.lookup("aws:PrincipalArn"),
        pipeleash::aws::KeyState::Unknown
    );
}

/// The keys derived from every principal type, from the principal key table of
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html and
/// the global condition keys page.
#[test]
fn principal_keys_for_every_principal_type() {
    use pipeleash::aws::KeyState;
    let text = |context: &Context, key: &str| match context.lookup(key) {
        KeyState::Present(present) => present.values[0].text().to_string(),
        KeyState::Absent => "<absent>".to_string(),
        KeyState::Unknown => "<unknown>".to_string(),
    };
    let role_known = KnownPrincipal {
        role_arn: Some("arn:aws:iam::111122223333:role/ci/deploy".into()),
        unique_id: Some("AROAEXAMPLE".into()),
    };
    let user_known = KnownPrincipal {
        role_arn: None,
        unique_id: Some("AIDAEXAMPLE".into()),
    };
    // principal, known, PrincipalArn, PrincipalType, userid, username
    let table = [
        (
            "arn:aws:sts::111122223333:assumed-role/deploy/gh-42",
            &role_known,
            "arn:aws:iam::111122223333:role/ci/deploy",
            "AssumedRole",
            "AROAEXAMPLE:gh-42",
            "<absent>",
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/deploy/gh-42",
            &KnownPrincipal::default(),
            "<unknown>",
            "AssumedRole",
            "<unknown>",
            "<absent>",
        ),
        (
            "arn:aws:iam::111122223333:role/ci/deploy",
            &KnownPrincipal::default(),
            "arn:aws:iam::111122223333:role/ci/deploy",
            "AssumedRole",
            "<unknown>",
            "<absent>",
        ),
        (
            "arn:aws:iam::111122223333:user/ci/bot",
            &user_known,
            "arn:aws:iam::111122223333:user/ci/bot",
            "User",
            "AIDAEXAMPLE",
            "bot",
        ),
        (
            "arn:aws:iam::111122223333:user/ci/bot",
            &KnownPrincipal::default(),
            "arn:aws:iam::111122223333:user/ci/bot",
            "User",
            "<unknown>",
            "bot",
        ),
        (
            "arn:aws:iam::111122223333:root",
            &KnownPrincipal::default(),
            "arn:aws:iam::111122223333:root",
            "Account",
            "111122223333",
            "<absent>",
        ),
        (
            "arn:aws:sts::111122223333:federated-user/alice",
            &KnownPrincipal::default(),
            "arn:aws:sts::111122223333:federated-user/alice",
            "FederatedUser",
            "111122223333:alice",
            "<absent>",
        ),
    ];
    for (principal, known, arn, kind, userid, username) in table {
        let context = principal_context(principal, known);
        assert_eq!(text(&context, "aws:PrincipalArn"), arn, "{principal}");
        assert_eq!(text(&context, "aws:PrincipalType"), kind, "{principal}");
        assert_eq!(text(&context, "aws:userid"), userid, "{principal}");
        assert_eq!(text(&context, "aws:username"), username, "{principal}");
        assert_eq!(
            text(&context, "aws:PrincipalAccount"),
            ACCOUNT,
            "{principal}"
        );
        assert_eq!(text(&context, "aws:PrincipalIsAWSService"), "false");
    }
    // Keys the caller gives (or marks) are kept.
    let mut context = Context::complete().with("aws:PrincipalArn", "given");
    add_principal_keys(&mut context, SESSION_ARN, &KnownPrincipal::default());
    assert_eq!(text(&context, "aws:PrincipalArn"), "given");
    // In a partial context, `aws:username` of a role is known to be absent, so a policy
    // variable on it settles instead of staying conditional.
    let mut context = Context::partial();
    add_principal_keys(&mut context, ROLE_ARN, &KnownPrincipal::default());
    assert_eq!(context.lookup("aws:username"), KeyState::Absent);
    assert_eq!(context.lookup("aws:SourceIp"), KeyState::Unknown);
}

// ---- Multivalued context keys ----
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html

/// A multivalued key needs a set operator: without one the condition does not match, with
/// any operator, negated or `IfExists`, however many values the request has.
#[test]
fn unqualified_operator_on_a_multivalued_key_does_not_match() {
    for operator in [
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "StringNotLike",
        "StringEqualsIfExists",
        "StringNotEqualsIfExists",
        "StringEqualsIgnoreCase",
    ] {
        let condition = format!(r#""{operator}":{{"aws:TagKeys":["team","env"]}}"#);
        for values in [vec!["team"], vec!["team", "env"], vec!["owner"]] {
            check_condition(
                &condition,
                Context::complete().with_values("aws:TagKeys", values.clone()),
                DecisionKind::ImplicitDeny,
            );
        }
    }
    // A key the table does not list is multivalued when the request gives it several values.
    check_condition(
        r#""StringEquals":{"custom:Labels":"a"}"#,
        Context::complete().with_values("custom:Labels", ["a", "b"]),
        DecisionKind::ImplicitDeny,
    );
    check_condition(
        r#""StringEquals":{"custom:Label":"a"}"#,
        Context::complete().with("custom:Label", "a"),
        DecisionKind::Allowed,
    );
    assert!(pipeleash::aws::context::is_multivalued_key("AWS:TAGKEYS"));
    assert!(pipeleash::aws::context::is_multivalued_key(
        "aws:PrincipalServiceNamesList"
    ));
    assert!(!pipeleash::aws::context::is_multivalued_key("aws:SourceIp"));
}

/// With a set operator, `IfExists` applies to each value, not to the missing set:
/// `ForAnyValue:…IfExists` is false and `ForAllValues:…IfExists` true on a missing key, like
/// the set operators without `IfExists`.
#[test]
fn if_exists_with_a_set_operator_follows_the_set_operator_on_a_missing_key() {
    for base in ["StringEquals", "StringNotEquals", "StringLike", "ArnLike"] {
        for (quantifier, expected) in [
            ("ForAnyValue", DecisionKind::ImplicitDeny),
            ("ForAllValues", DecisionKind::Allowed),
        ] {
            for suffix in ["", "IfExists"] {
                let condition =
                    format!(r#""{quantifier}:{base}{suffix}":{{"aws:TagKeys":["team"]}}"#);
                check_condition(&condition, Context::complete(), expected.clone());
                check_condition(
                    &condition,
                    Context::complete().with_values("aws:TagKeys", Vec::<String>::new()),
                    expected.clone(),
                );
            }
        }
    }
}

/// Every operator, quantifier and `IfExists` on a missing key, against the documented rules
/// (condition operators page; single- vs multivalued keys page): the whole kind, not samples.
#[test]
fn every_operator_on_a_missing_key_follows_the_documented_rules() {
    use pipeleash::aws::condition::CompiledCondition;
    use pipeleash::aws::{ConditionOperator, OperatorBase, Truth};
    let value_for = |base: OperatorBase| match base.family() {
        pipeleash::aws::condition::OperatorFamily::Numeric => "1",
        pipeleash::aws::condition::OperatorFamily::Date => "2026-01-01T00:00:00Z",
        pipeleash::aws::condition::OperatorFamily::Bool
        | pipeleash::aws::condition::OperatorFamily::Null => "true",
        pipeleash::aws::condition::OperatorFamily::Binary => "QmluYXJ5",
        pipeleash::aws::condition::OperatorFamily::IpAddress => "10.0.0.0/8",
        _ => "x",
    };
    let mut checked = 0;
    for quantifier in ["", "ForAnyValue:", "ForAllValues:"] {
        for suffix in ["", "IfExists"] {
            for name in [
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
                "StringLike",
                "StringNotLike",
                "NumericEquals",
                "NumericNotEquals",
                "NumericLessThan",
                "NumericLessThanEquals",
                "NumericGreaterThan",
                "NumericGreaterThanEquals",
                "DateEquals",
                "DateNotEquals",
                "DateLessThan",
                "DateLessThanEquals",
                "DateGreaterThan",
                "DateGreaterThanEquals",
                "Bool",
                "BinaryEquals",
                "IpAddress",
                "NotIpAddress",
                "ArnEquals",
                "ArnLike",
                "ArnNotEquals",
                "ArnNotLike",
                "Null",
            ] {
                let Ok(operator) = ConditionOperator::parse(&format!("{quantifier}{name}{suffix}"))
                else {
                    assert_eq!((name, suffix), ("Null", "IfExists"));
                    continue;
                };
                let condition = CompiledCondition::new(
                    operator,
                    "k",
                    &[value_for(operator.base).to_string()],
                    true,
                );
                // `Null: true` holds on a missing key; `ForAllValues` holds on a missing set.
                let expected =
                    if operator.base == OperatorBase::Null || quantifier == "ForAllValues:" {
                        true
                    } else if quantifier == "ForAnyValue:" {
                        false
                    } else if suffix == "IfExists" {
                        true
                    } else {
                        operator.base.is_negated()
                    };
                assert_eq!(
                    condition.evaluate(&Context::complete()),
                    Truth::from(expected),
                    "{operator}"
                );
                // Unknown in a partial context, whatever the operator.
                assert!(
                    matches!(condition.evaluate(&Context::partial()), Truth::Unknown(_)),
                    "{operator}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 27 - 3);
}

/// "You cannot use a multivalued key as a policy variable": `${aws:TagKeys}` is not
/// substituted, in `Resource` or in a condition value.
#[test]
fn multivalued_key_is_not_a_policy_variable() {
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","Resource":"arn:aws:s3:::tags/${aws:TagKeys}/*""#,
    )]);
    for values in [vec!["team"], vec!["team", "env"]] {
        check(
            &with_context(
                request("s3:GetObject", "arn:aws:s3:::tags/team/x"),
                Context::complete().with_values("aws:TagKeys", values),
            ),
            &policies,
            DecisionKind::ImplicitDeny,
        );
    }
    check_condition(
        r#""StringEquals":{"s3:prefix":"${aws:TagKeys}"}"#,
        Context::complete()
            .with("s3:prefix", "team")
            .with_values("aws:TagKeys", ["team"]),
        DecisionKind::ImplicitDeny,
    );
    // A default value stands in, as for an absent key.
    check_condition(
        r#""StringEquals":{"s3:prefix":"${aws:TagKeys, 'none'}"}"#,
        Context::complete()
            .with("s3:prefix", "none")
            .with_values("aws:TagKeys", ["team"]),
        DecisionKind::Allowed,
    );
}

// ---- Unresolved policy variables ----

/// Inverted operators match against a variable with no value ("Policy variables with no
/// value",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value):
/// every inverted operator family, and `NotResource`.
#[test]
fn inverted_operators_match_an_unresolved_variable() {
    let no_user = || {
        Context::complete()
            .with("s3:prefix", "home/alice/")
            .with("aws:SourceArn", "arn:aws:s3:::home")
    };
    for (condition, expected) in [
        (
            r#""StringNotEquals":{"s3:prefix":"${aws:username}"}"#,
            DecisionKind::Allowed,
        ),
        (
            r#""StringNotEqualsIgnoreCase":{"s3:prefix":"${aws:username}"}"#,
            DecisionKind::Allowed,
        ),
        (
            r#""StringNotLike":{"s3:prefix":"home/${aws:username}/*"}"#,
            DecisionKind::Allowed,
        ),
        (
            r#""ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::${aws:username}"}"#,
            DecisionKind::Allowed,
        ),
        (
            r#""ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::${aws:username}*"}"#,
            DecisionKind::Allowed,
        ),
        (
            r#""StringEquals":{"s3:prefix":"${aws:username}"}"#,
            DecisionKind::ImplicitDeny,
        ),
        (
            r#""StringLike":{"s3:prefix":"home/${aws:username}/*"}"#,
            DecisionKind::ImplicitDeny,
        ),
        (
            r#""ArnLike":{"aws:SourceArn":"arn:aws:s3:::${aws:username}*"}"#,
            DecisionKind::ImplicitDeny,
        ),
        // NOR over the values: another value that matches still makes it false.
        (
            r#""StringNotEquals":{"s3:prefix":["${aws:username}","home/alice/"]}"#,
            DecisionKind::ImplicitDeny,
        ),
        (
            r#""ForAnyValue:StringNotEquals":{"s3:prefix":"${aws:username}"}"#,
            DecisionKind::Allowed,
        ),
    ] {
        check_condition(condition, no_user(), expected);
    }
    // In a partial context the variable's key is unknown, so the result is conditional.
    check_condition(
        r#""StringNotEquals":{"s3:prefix":"${aws:username}"}"#,
        Context::partial().with("s3:prefix", "x"),
        DecisionKind::Conditional {
            missing_keys: vec!["aws:username".into()],
        },
    );
    // `NotResource` with an unresolved variable: that entry matches no resource, so the
    // statement applies to every resource the other entries do not list.
    let policies = Policies::identity([allow(
        r#""Action":"s3:*","NotResource":"arn:aws:s3:::home/${aws:username}/*""#,
    )]);
    check(
        &request("s3:GetObject", "arn:aws:s3:::home/alice/x"),
        &policies,
        DecisionKind::Allowed,
    );
}

// ---- Dates ----

/// Fractional seconds are kept: `…12:00:00.500Z` is after `…12:00:00.250Z`
/// (date condition operators, reference_policies_elements_condition_operators.html#Conditions_Date).
#[test]
fn fractional_seconds_in_dates_are_kept() {
    let condition = r#""DateLessThan":{"aws:CurrentTime":"2026-11-01T12:00:00.500Z"}"#;
    let at = |time: &str| Context::complete().with("aws:CurrentTime", time);
    check_condition(
        condition,
        at("2026-11-01T12:00:00.250Z"),
        DecisionKind::Allowed,
    );
    check_condition(
        condition,
        at("2026-11-01T12:00:00.750Z"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(condition, at("2026-11-01T12:00:00Z"), DecisionKind::Allowed);
    let equals = r#""DateEquals":{"aws:CurrentTime":"2026-11-01T12:00:00.500Z"}"#;
    check_condition(
        equals,
        at("2026-11-01T12:00:00Z"),
        DecisionKind::ImplicitDeny,
    );
    check_condition(equals, at("2026-11-01T12:00:00.5Z"), DecisionKind::Allowed);
}

proptest! {
    /// For every operator, a multivalued key's verdict with a set operator only depends on
    /// the set: `ForAllValues` holds iff each value satisfies the operator alone,
    /// `ForAnyValue` iff one does; without a set operator it never matches.
    #[test]
    fn set_operators_agree_with_per_value_evaluation(
        values in proptest::collection::vec("[ab]{1,2}", 2..4),
        policy_values in proptest::collection::vec("[ab]{1,2}\\*?", 1..3),
        negated in any::<bool>(),
        like in any::<bool>(),
    ) {
        use pipeleash::aws::condition::CompiledCondition;
        use pipeleash::aws::{ConditionOperator, Truth};
        let base = match (negated, like) {
            (false, false) => "StringEquals",
            (true, false) => "StringNotEquals",
            (false, true) => "StringLike",
            (true, true) => "StringNotLike",
        };
        let compile = |name: String| {
            CompiledCondition::new(ConditionOperator::parse(&name).unwrap(), "custom:Set", &policy_values, true)
        };
        let context = Context::complete().with_values("custom:Set", values.clone());
        let single = compile(base.to_string());
        let each: Vec<bool> = values
            .iter()
            .map(|value| single.evaluate(&Context::complete().with("custom:Set", value.as_str())) == Truth::True)
            .collect();
        let for_all = compile(format!("ForAllValues:{base}"));
        let for_any = compile(format!("ForAnyValue:{base}"));
        prop_assert_eq!(
            for_all.evaluate(&context),
            Truth::from(each.iter().all(|holds| *holds))
        );
        prop_assert_eq!(
            for_any.evaluate(&context),
            Truth::from(each.iter().any(|holds| *holds))
        );
        prop_assert_eq!(single.evaluate(&context), Truth::False);
    }
}
