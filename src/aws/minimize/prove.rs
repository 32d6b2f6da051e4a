//! Step 7: the proof run before any minimized policy leaves [`super::minimize`].
//!
//! **Never drop what was used.** Every allowed usage record the current policies allow is
//! replayed through the evaluator against the new identity policies with the original
//! boundary and SCPs. The outcome must equal the original one: `Allowed` stays `Allowed`, and a
//! `Conditional` is accepted only as the same `Conditional` (same missing keys): the call
//! happened, so its real context met the original condition, and the new statement carries
//! that condition unchanged.
//!
//! **Never broaden.** Structurally: every (action, resource) pair of every new `Allow`
//! statement must lie inside one original identity `Allow` statement — the action matched by
//! its `Action` (or not excluded by its `NotAction`), the resource covered by its resource
//! element (`clause_covers`: glob-pattern subsumption, literal-only under `NotResource`,
//! identical text for policy variables), and every one of its conditions present on the new
//! statement (more conditions only narrow). Since a statement allows the union of its pairs
//! under its conditions, and the boundary and SCPs are unchanged, the new set allows nothing
//! the old one did not. Every new `Deny` must equal an original one. Then, as a cross-check
//! with independent code, the evaluator decides a representative request of each new
//! (action, resource pattern) against the original `Allow` statements: it must be `Allowed`
//! or `Conditional`.

use super::build::clause_covers;
use super::granted::representative;
use super::{
    MinimizeError, MinimizedPolicy, Origin, Originals, Proof, policy_set, statement_matches_action,
    variables_enabled,
};
use crate::aws::eval::{CompiledPolicySet, DecisionKind, NamedPolicy, PolicyKind};
use crate::aws::policy::{ActionClause, ResourceClause, Statement};
use crate::model::Effect;

fn describe(outcome: &DecisionKind) -> String {
    match outcome {
        DecisionKind::Allowed => "allowed".to_string(),
        DecisionKind::ExplicitDeny => "explicitly denied".to_string(),
        DecisionKind::ImplicitDeny => "implicitly denied".to_string(),
        DecisionKind::Conditional { missing_keys } => {
            format!("conditional on `{}`", missing_keys.join("`, `"))
        }
    }
}

fn same_outcome(expected: &DecisionKind, found: &DecisionKind) -> bool {
    match (expected, found) {
        (
            DecisionKind::Conditional { missing_keys: a },
            DecisionKind::Conditional { missing_keys: b },
        ) => {
            let mut a = a.clone();
            let mut b = b.clone();
            a.sort();
            b.sort();
            a == b
        }
        _ => expected == found,
    }
}

/// Runs both halves of the proof; an error names the first violation.
pub(crate) fn prove(
    originals: &Originals<'_>,
    policies: &[MinimizedPolicy],
    replay: &[(String, String, DecisionKind)],
) -> Result<Proof, MinimizeError> {
    let mut proof = Proof::default();
    let input = originals.input;
    let identity: Vec<NamedPolicy<'_>> = policies
        .iter()
        .map(|policy| NamedPolicy::new(&policy.name, PolicyKind::Identity, &policy.document))
        .collect();
    let new_set = CompiledPolicySet::new(&policy_set(input, identity));

    // Never drop what was used.
    for (action, resource, expected) in replay {
        let found = new_set
            .evaluate(&originals.request(action, resource))
            .outcome;
        if !same_outcome(expected, &found) {
            return Err(MinimizeError::DropsUsed {
                action: action.clone(),
                resource: resource.clone(),
                expected: describe(expected),
                found: describe(&found),
            });
        }
        proof.usage_rows_replayed += 1;
    }

    // Never broaden.
    let partition = input.principal_arn.split(':').nth(1).unwrap_or("aws");
    for policy in policies {
        for statement in &policy.document.statements {
            let sid = statement.sid.clone().unwrap_or_default();
            if statement.effect == Effect::Deny {
                if !deny_is_original(originals, statement) {
                    return Err(MinimizeError::Broadens {
                        sid,
                        action: "(deny)".to_string(),
                        resource: "(deny)".to_string(),
                        why: "is not an unchanged original deny statement".to_string(),
                    });
                }
                continue;
            }
            let ActionClause::Action(actions) = &statement.action else {
                return Err(MinimizeError::Broadens {
                    sid,
                    action: "NotAction".to_string(),
                    resource: String::new(),
                    why: "uses `NotAction`, which minimization never writes".to_string(),
                });
            };
            for action in actions {
                match &statement.resource {
                    Some(ResourceClause::Resource(resources)) => {
                        for resource in resources {
                            if !pair_subsumed(originals, statement, action, Some(resource)) {
                                return Err(MinimizeError::Broadens {
                                    sid,
                                    action: action.clone(),
                                    resource: resource.clone(),
                                    why: "no original allow statement covers".to_string(),
                                });
                            }
                            proof.pairs_subsumed += 1;
                            if resource.contains("${") {
                                // A variable resolves per request; the structural proof
                                // (identical text) is the whole argument.
                                continue;
                            }
                            let concrete =
                                representative(resource, partition, &originals.principal_account);
                            let outcome = originals
                                .allows_only
                                .evaluate(&originals.request(action, &concrete))
                                .outcome;
                            if !matches!(
                                outcome,
                                DecisionKind::Allowed | DecisionKind::Conditional { .. }
                            ) {
                                return Err(MinimizeError::Broadens {
                                    sid,
                                    action: action.clone(),
                                    resource: resource.clone(),
                                    why: format!(
                                        "the evaluator finds {} under the original policies \
                                         (representative `{concrete}`)",
                                        describe(&outcome)
                                    ),
                                });
                            }
                            proof.representatives_checked += 1;
                        }
                    }
                    // Copied `NotResource` (or absent) elements: the structural proof
                    // requires the identical element on an original statement.
                    _ => {
                        if !pair_subsumed(originals, statement, action, None) {
                            return Err(MinimizeError::Broadens {
                                sid,
                                action: action.clone(),
                                resource: "(NotResource)".to_string(),
                                why: "no original allow statement has this resource element"
                                    .to_string(),
                            });
                        }
                        proof.pairs_subsumed += 1;
                    }
                }
            }
        }
    }
    Ok(proof)
}

/// Is (action, resource) of `new` inside some original identity `Allow` statement? With
/// `resource` `None`, the new statement's whole resource element must equal the original's.
fn pair_subsumed(
    originals: &Originals<'_>,
    new: &Statement,
    action: &str,
    resource: Option<&str>,
) -> bool {
    originals.statements.keys().any(|&origin: &Origin| {
        let Some((_, original)) = originals.statement(origin) else {
            return false;
        };
        let variables = variables_enabled(originals, origin);
        let resources_inside = match resource {
            Some(resource) => clause_covers(original.resource.as_ref(), resource, variables),
            None => {
                original.resource == new.resource
                    && (variables || !format!("{:?}", new.resource).contains("${"))
            }
        };
        statement_matches_action(original, action)
            && resources_inside
            && original
                .conditions
                .iter()
                .all(|condition| new.conditions.contains(condition))
            && (variables
                || !original
                    .conditions
                    .iter()
                    .any(|condition| condition.values.iter().any(|value| value.contains("${"))))
    })
}

/// Is `deny` an unchanged deny statement of the original identity policies (whose variables
/// mean the same in the 2012-10-17 output)?
fn deny_is_original(originals: &Originals<'_>, deny: &Statement) -> bool {
    originals.input.identity_policies.iter().any(|policy| {
        let variables = policy.document.variables_enabled();
        policy.document.statements.iter().any(|original| {
            let mut original = original.clone();
            original.index = deny.index;
            original == *deny && (variables || !format!("{:?}", original).contains("${"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::{MinimizeInput, PolicyInput};
    use super::*;
    use crate::aws::coverage::CoverageFacts;
    use crate::aws::parse_policy;
    use crate::model::ObservationWindow;
    use chrono::{TimeZone, Utc};

    fn input(original: &str) -> MinimizeInput {
        let since = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        MinimizeInput {
            principal_arn: "arn:aws:iam::111122223333:role/ci".into(),
            identity_policies: vec![PolicyInput::new(
                "original",
                parse_policy(original).unwrap(),
            )],
            boundary: None,
            scps: Vec::new(),
            usage: crate::model::Usage::new(),
            coverage: CoverageFacts::management_only(since, until),
            window: ObservationWindow { since, until },
        }
    }

    fn minimized(json: &str) -> Vec<MinimizedPolicy> {
        let document = parse_policy(json).unwrap();
        vec![MinimizedPolicy {
            name: "new".into(),
            size: 0,
            document,
        }]
    }

    const ORIGINAL: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*",
         "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}},
        {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::a/secret/*"}]}"#;

    #[test]
    fn proof_refuses_a_wider_resource() {
        let input = input(ORIGINAL);
        let originals = Originals::new(&input);
        let wider = minimized(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
        );
        assert!(matches!(
            prove(&originals, &wider, &[]),
            Err(MinimizeError::Broadens { .. })
        ));
    }

    #[test]
    fn proof_refuses_a_dropped_condition_and_a_changed_deny() {
        let input = input(ORIGINAL);
        let originals = Originals::new(&input);
        let unconditioned = minimized(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/x"}]}"#,
        );
        assert!(matches!(
            prove(&originals, &unconditioned, &[]),
            Err(MinimizeError::Broadens { .. })
        ));
        let changed_deny = minimized(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::a/secret/x"}]}"#,
        );
        assert!(matches!(
            prove(&originals, &changed_deny, &[]),
            Err(MinimizeError::Broadens { .. })
        ));
    }

    #[test]
    fn proof_refuses_to_drop_a_used_call() {
        let input = input(ORIGINAL);
        let originals = Originals::new(&input);
        let narrower = minimized(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/x",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
        );
        let used = "arn:aws:s3:::a/y".to_string();
        let expected = originals
            .full
            .evaluate(&originals.request("s3:GetObject", &used))
            .outcome;
        let replay = vec![("s3:GetObject".to_string(), used, expected)];
        assert!(matches!(
            prove(&originals, &narrower, &replay),
            Err(MinimizeError::DropsUsed { .. })
        ));
        // The same policy passes when only the covered object was used.
        let replay = vec![(
            "s3:GetObject".to_string(),
            "arn:aws:s3:::a/x".to_string(),
            replay[0].2.clone(),
        )];
        let proof = prove(&originals, &narrower, &replay).unwrap();
        assert_eq!(proof.usage_rows_replayed, 1);
        assert_eq!(proof.pairs_subsumed, 1);
    }
}
