//! Property tests of minimization's two invariants over generated policies and usage,
//! checked from outside with the evaluator on a small universe of concrete requests:
//!
//! - never broaden: whatever the minimized policies allow (in any sampled context), the
//!   original ones allow too;
//! - never drop used: every used (action, resource) the original policies allow in a context
//!   is still allowed in that context.

use chrono::{DateTime, TimeZone, Utc};
use pipeleash::aws::coverage::CoverageFacts;
use pipeleash::aws::minimize::{MinimizeInput, MinimizeOptions, Minimized, PolicyInput, minimize};
use pipeleash::aws::{
    Context, NamedPolicy, PolicyKind, PolicySet, Request, Verdict, evaluate, parse_policy,
};
use pipeleash::catalog::Catalog;
use pipeleash::model::ObservationWindow;
use pipeleash::model::{IdentityId, Permission, Provider, Usage, UsageKey, UsageRecord};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/ci";

const ACTION_PATTERNS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:ListBucket",
    "ec2:DescribeInstances",
    "ec2:Describe*",
    "iam:PassRole",
    "lambda:InvokeFunction",
];

const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::a",
    "arn:aws:s3:::a/*",
    "arn:aws:s3:::a/x/*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::a/x/1",
    "arn:aws:iam::111122223333:role/app-*",
    "arn:aws:lambda:eu-west-1:111122223333:function:f:*",
];

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:GetObjectTagging",
    "s3:ListBucket",
    "ec2:DescribeInstances",
    "ec2:DescribeVpcs",
    "iam:PassRole",
    "lambda:InvokeFunction",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::a",
    "arn:aws:s3:::b",
    "arn:aws:s3:::a/x/1",
    "arn:aws:s3:::a/x/2",
    "arn:aws:s3:::a/x/3",
    "arn:aws:s3:::a/x/4",
    "arn:aws:s3:::a/y",
    "arn:aws:s3:::b/x/1",
    "arn:aws:s3:::ab/x/1",
    "arn:aws:iam::111122223333:role/app-web",
    "arn:aws:iam::111122223333:role/admin",
    "arn:aws:lambda:eu-west-1:111122223333:function:f:1",
    "arn:aws:lambda:eu-west-1:111122223333:function:f:2",
    "arn:aws:lambda:eu-west-1:111122223333:function:f:3",
    "arn:aws:lambda:eu-west-1:111122223333:function:g:1",
];

fn time(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap()
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.8),
        prop::sample::subsequence(ACTION_PATTERNS, 1..3),
        prop::sample::subsequence(RESOURCE_PATTERNS, 1..3),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.3, prop::sample::select(vec!["eu-west-1", "us-east-1"])),
    )
        .prop_map(|(allow, actions, resources, not_resource, region)| {
            let mut statement = json!({
                "Effect": if allow { "Allow" } else { "Deny" },
                "Action": actions,
            });
            let key = if not_resource && allow {
                "NotResource"
            } else {
                "Resource"
            };
            statement[key] = json!(resources);
            if let Some(region) = region {
                statement["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": region}});
            }
            statement
        })
}

fn document(statements: Vec<Value>) -> PolicyInput {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    PolicyInput::new("generated", parse_policy(&text).unwrap())
}

fn usage() -> impl Strategy<Value = Usage> {
    prop::collection::vec(
        (
            prop::sample::select(ACTIONS),
            prop::sample::select(RESOURCES),
            0u64..3,
            0u64..2,
        ),
        0..10,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .map(|(action, resource, allowed, denied)| {
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
                    last_seen: time(3),
                    workloads: BTreeSet::new(),
                    unlinked_calls: 0,
                    sources: BTreeSet::new(),
                    evidence: BTreeSet::new(),
                };
                (key, record)
            })
            .collect()
    })
}

fn input() -> impl Strategy<Value = MinimizeInput> {
    (
        prop::collection::vec(statement(), 1..4),
        prop::option::weighted(0.3, prop::collection::vec(statement(), 1..3)),
        usage(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(statements, boundary, usage, s3_data, reads)| {
            let mut coverage = CoverageFacts::management_only(time(1), time(28));
            if s3_data {
                coverage.data_event_services.insert("s3".into());
            }
            coverage.read_events_included = reads;
            MinimizeInput {
                principal_arn: PRINCIPAL.into(),
                identity_policies: vec![document(statements)],
                boundary: boundary.map(|statements| {
                    let mut boundary = document(statements);
                    boundary.name = "boundary".into();
                    boundary
                }),
                scps: Vec::new(),
                usage,
                coverage,
                window: ObservationWindow {
                    since: time(1),
                    until: time(28),
                },
            }
        })
}

/// The contexts requests are sampled in: unknown, and three complete ones.
fn contexts() -> Vec<Context> {
    vec![
        Context::partial(),
        Context::complete(),
        Context::complete().with("aws:RequestedRegion", "eu-west-1"),
        Context::complete().with("aws:RequestedRegion", "us-east-1"),
    ]
}

fn verdict(
    identity: &[PolicyInput],
    boundary: Option<&PolicyInput>,
    action: &str,
    resource: &str,
    context: &Context,
) -> Verdict {
    let set = PolicySet {
        identity: identity
            .iter()
            .map(|policy| NamedPolicy::new(&policy.name, PolicyKind::Identity, &policy.document))
            .collect(),
        boundary: boundary.map(|policy| {
            NamedPolicy::new(
                &policy.name,
                PolicyKind::PermissionsBoundary,
                &policy.document,
            )
        }),
        ..PolicySet::default()
    };
    let request = Request {
        principal_arn: PRINCIPAL.into(),
        principal_account: "111122223333".into(),
        action: action.into(),
        resource: resource.into(),
        resource_account: None,
        context: context.clone(),
    };
    evaluate(&request, &set).verdict()
}

fn minimized_policies(result: &Minimized) -> Vec<PolicyInput> {
    result
        .policies
        .iter()
        .map(|policy| PolicyInput::new(policy.name.clone(), policy.document.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn never_broaden_never_drop_used(input in input()) {
        let result = minimize(&input, Catalog::aws().unwrap(), &MinimizeOptions::default());
        let result = match result {
            Ok(result) => result,
            Err(error) => return Err(TestCaseError::fail(format!("minimize refused: {error}"))),
        };
        let new = minimized_policies(&result);
        let boundary = input.boundary.as_ref();
        for context in contexts() {
            for action in ACTIONS {
                for resource in RESOURCES {
                    let after = verdict(&new, boundary, action, resource, &context);
                    let before = verdict(&input.identity_policies, boundary, action, resource, &context);
                    match after {
                        Verdict::Allowed => prop_assert_eq!(
                            before, Verdict::Allowed,
                            "broadened: {} on {} in {:?}", action, resource, context
                        ),
                        Verdict::Conditional => prop_assert!(
                            matches!(before, Verdict::Allowed | Verdict::Conditional),
                            "broadened: {} on {} in {:?}", action, resource, context
                        ),
                        Verdict::ExplicitDeny | Verdict::ImplicitDeny => {}
                    }
                }
            }
            for (key, _) in input.usage.iter().filter(|(_, record)| record.count > 0) {
                let (action, resource) = (&key.permission.action, &key.resource);
                let before = verdict(&input.identity_policies, boundary, action, resource, &context);
                if before == Verdict::Allowed {
                    let after = verdict(&new, boundary, action, resource, &context);
                    prop_assert_eq!(
                        after, Verdict::Allowed,
                        "dropped used {} on {} in {:?}", action, resource, context
                    );
                }
            }
        }
        // Every output document is valid IAM JSON.
        for policy in &result.policies {
            let text = policy.document.to_json().to_string();
            prop_assert!(parse_policy(&text).is_ok(), "{}", text);
        }
    }
}
