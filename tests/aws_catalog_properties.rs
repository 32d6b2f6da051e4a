//! Properties that tie the evaluator to the catalog: what `catalog expand` says a pattern
//! covers is exactly what the evaluator lets a policy with that pattern do.

use pipeleash::aws::{
    CompiledPolicySet, Context, NamedPolicy, PolicyKind, PolicySet, Request, Verdict, parse_policy,
};
use pipeleash::catalog::Catalog;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn request(action: &str) -> Request {
    Request {
        principal_arn: "arn:aws:iam::111122223333:role/ci".into(),
        principal_account: "111122223333".into(),
        action: action.into(),
        resource: "arn:aws:s3:::bucket/key".into(),
        resource_account: None,
        context: Context::complete(),
    }
}

fn compiled(action_pattern: &str) -> CompiledPolicySet {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action_pattern}","Resource":"*"}}]}}"#
    );
    let document = parse_policy(&text).unwrap();
    CompiledPolicySet::new(&PolicySet {
        identity: vec![NamedPolicy::new("p", PolicyKind::Identity, &document)],
        ..PolicySet::default()
    })
}

#[test]
fn star_on_star_allows_every_action_the_catalog_knows() {
    let catalog = Catalog::aws().unwrap();
    let policy = compiled("*");
    let mut checked = 0;
    for action in catalog.actions() {
        assert_eq!(
            policy.decide(&request(&action.name)),
            Verdict::Allowed,
            "`*` must allow `{}`",
            action.name
        );
        checked += 1;
    }
    assert!(checked > 20_000, "only {checked} actions checked");
}

#[test]
fn service_wildcard_allows_exactly_that_service() {
    let catalog = Catalog::aws().unwrap();
    let policy = compiled("s3:*");
    for action in catalog.actions() {
        let expected = if action.service() == "s3" {
            Verdict::Allowed
        } else {
            Verdict::ImplicitDeny
        };
        assert_eq!(
            policy.decide(&request(&action.name)),
            expected,
            "{}",
            action.name
        );
    }
}

/// Catalog action names with part of the name replaced by `*` or one letter by `?`.
fn wildcard_pattern() -> impl Strategy<Value = String> {
    let names: Vec<String> = Catalog::aws()
        .unwrap()
        .actions()
        .map(|action| action.name.clone())
        .collect();
    (
        proptest::sample::select(names),
        0usize..64,
        0usize..64,
        prop::bool::ANY,
    )
        .prop_map(|(name, start, length, star)| {
            let (service, action) = name.split_once(':').unwrap();
            let chars: Vec<char> = action.chars().collect();
            let start = start % chars.len();
            let end = (start + 1 + length % chars.len()).min(chars.len());
            let middle = if star {
                "*".to_string()
            } else {
                "?".repeat(end - start)
            };
            let prefix: String = chars[..start].iter().collect();
            let suffix: String = chars[end..].iter().collect();
            format!("{service}:{prefix}{middle}{suffix}").to_lowercase()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn catalog_expand_agrees_with_the_evaluator(pattern in wildcard_pattern()) {
        let catalog = Catalog::aws().unwrap();
        let expanded: BTreeSet<&str> =
            catalog.expand(&pattern).iter().map(|action| action.name.as_str()).collect();
        prop_assert!(!expanded.is_empty(), "`{}` was made from a real action", pattern);
        let policy = compiled(&pattern);
        let service = pattern.split(':').next().unwrap();
        let service = catalog.service(service).unwrap();
        for action in &service.actions {
            let allowed = policy.decide(&request(&action.name)) == Verdict::Allowed;
            prop_assert_eq!(allowed, expanded.contains(action.name.as_str()), "{} vs `{}`", action.name, pattern);
        }
    }
}
