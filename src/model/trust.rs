//! Trusts: who can become an identity. Built from AWS role trust policies, GCP workload
//! identity pools/providers plus `roles/iam.workloadIdentityUser` and
//! `roles/iam.serviceAccountTokenCreator` bindings, and Azure federated identity credentials;
//! long-lived keys are trusts too, because whoever holds the key becomes the identity.

use super::IdentityId;
use super::workload::CiWorkload;
use crate::matching::{Case, glob_match};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One way to become an identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trust {
    /// An OIDC / workload identity federation: tokens from `issuer` whose claims satisfy every
    /// condition.
    Federated(FederatedTrust),
    /// Another principal can become this identity: AWS role chaining (`sts:AssumeRole`), GCP
    /// service account impersonation (`iam.serviceAccounts.getAccessToken`), an Azure managed
    /// identity attached to a resource another principal controls.
    Identity {
        from: PrincipalRef,
        /// Extra conditions on the request (AWS `Condition` keys, GCP IAM conditions).
        conditions: Vec<ClaimCondition>,
    },
    /// Whoever holds a long-lived secret (AWS access key, GCP service account key, Azure client
    /// secret or certificate). The secret itself is never part of the model.
    LongLivedKey {
        key_id: String,
        created: Option<DateTime<Utc>>,
        last_used: Option<DateTime<Utc>>,
    },
    /// A cloud service acting on its own behalf (`codebuild.amazonaws.com`,
    /// `cloudbuild.gserviceaccount.com`).
    Service { name: String },
    /// Any principal of another account or project (AWS `"AWS": "arn:aws:iam::<id>:root"`).
    /// `external_id_required` records an `sts:ExternalId` condition (the confused-deputy guard).
    Account {
        id: String,
        external_id_required: bool,
    },
    /// Anyone at all (AWS `"Principal": "*"` with no narrowing condition, GCP `allUsers`).
    Anyone,
}

/// Who is trusted when the trust names another principal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalRef {
    /// A principal pipeleash knows as an identity.
    Identity(IdentityId),
    /// A principal outside the inventory or named by pattern, as the provider wrote it
    /// (`arn:aws:iam::123456789012:role/*`, `group:ci@example.com`).
    Pattern(String),
}

/// An OIDC federation: which issuer, which audiences, which claims.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FederatedTrust {
    /// The issuer URL, as configured on the cloud side.
    pub issuer: String,
    /// Audiences the cloud accepts; empty means the cloud does not check the audience.
    pub audiences: Vec<String>,
    /// Conditions on the token's claims, all of which must hold. Claim names are the token's
    /// own (`sub`, `repository`, `job_workflow_ref`): builders translate provider spellings
    /// (`token.actions.githubusercontent.com:sub`, `assertion.sub`, FIC `subject`) into them.
    pub conditions: Vec<ClaimCondition>,
    /// Where the trust was configured, for evidence: a role ARN and statement, a workload
    /// identity provider name, a federated credential id.
    pub source: String,
}

/// A condition on one claim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClaimCondition {
    pub claim: String,
    pub operator: ClaimOperator,
    /// Any one value satisfies the condition (OR), as in AWS and Azure.
    pub values: Vec<String>,
    /// A set operator in front of the operator (AWS `ForAnyValue:` / `ForAllValues:`). On a
    /// claim with one value (`sub`, a string `aud`) it compares like the plain operator; it
    /// changes only what happens when the claim is absent.
    pub set_operator: Option<SetOperator>,
    /// AWS `…IfExists`: the condition also holds when the claim is absent.
    pub if_exists: bool,
    /// Letter case is ignored (AWS `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`).
    pub ignore_case: bool,
}

/// An AWS condition set operator, for claims that may hold several values.
///
/// Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>
/// (`ForAllValues` "also returns true if there are no context keys in the request").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

/// How a claim is compared with the condition's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClaimOperator {
    /// Exact, case-sensitive (AWS `StringEquals`, Azure FIC `subject`).
    Equals,
    NotEquals,
    /// Glob with `*` and `?` (AWS `StringLike`).
    Like,
    NotLike,
    /// A provider expression pipeleash does not evaluate (a GCP attribute condition in CEL, an
    /// Azure flexible FIC `claimsMatchingExpression`): `values` holds the expression.
    Expression,
}

/// Whether a token's claims satisfy a trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimMatch {
    Matches,
    DoesNotMatch,
    /// The answer depends on something pipeleash does not evaluate; the reason names it.
    Unknown(String),
}

impl ClaimCondition {
    /// A plain condition: no set operator, no `IfExists`, case-sensitive.
    pub fn new(claim: &str, operator: ClaimOperator, values: Vec<String>) -> ClaimCondition {
        ClaimCondition {
            claim: claim.to_string(),
            operator,
            values,
            set_operator: None,
            if_exists: false,
            ignore_case: false,
        }
    }

    /// Whether the condition holds for a token without the claim: `…IfExists` and
    /// `ForAllValues:` hold, `ForAnyValue:` fails, and a plain operator holds only when
    /// negated. Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists>.
    pub fn holds_when_absent(&self) -> bool {
        if self.if_exists {
            return true;
        }
        match self.set_operator {
            Some(SetOperator::ForAllValues) => true,
            Some(SetOperator::ForAnyValue) => false,
            None => matches!(
                self.operator,
                ClaimOperator::NotEquals | ClaimOperator::NotLike
            ),
        }
    }

    /// The operator as AWS spells it (`ForAllValues:StringLikeIfExists`).
    pub fn operator_name(&self) -> String {
        let base = match (self.operator, self.ignore_case) {
            (ClaimOperator::Equals, false) => "StringEquals",
            (ClaimOperator::Equals, true) => "StringEqualsIgnoreCase",
            (ClaimOperator::NotEquals, false) => "StringNotEquals",
            (ClaimOperator::NotEquals, true) => "StringNotEqualsIgnoreCase",
            (ClaimOperator::Like, _) => "StringLike",
            (ClaimOperator::NotLike, _) => "StringNotLike",
            (ClaimOperator::Expression, _) => return "expression".to_string(),
        };
        let set = match self.set_operator {
            Some(SetOperator::ForAnyValue) => "ForAnyValue:",
            Some(SetOperator::ForAllValues) => "ForAllValues:",
            None => "",
        };
        let if_exists = if self.if_exists { "IfExists" } else { "" };
        format!("{set}{base}{if_exists}")
    }

    /// Does this condition hold for `claims` (claim name → value)? Each claim has one value
    /// here, so a set operator compares like the plain operator; a missing claim is decided by
    /// [`ClaimCondition::holds_when_absent`], as AWS does.
    pub fn check(&self, claims: &BTreeMap<String, String>) -> ClaimMatch {
        if self.operator == ClaimOperator::Expression {
            return ClaimMatch::Unknown(format!(
                "condition on `{}` is an expression pipeleash does not evaluate: `{}`",
                self.claim,
                self.values.join(" ")
            ));
        }
        let Some(value) = claims.get(&self.claim) else {
            return if self.holds_when_absent() {
                ClaimMatch::Matches
            } else {
                ClaimMatch::DoesNotMatch
            };
        };
        let case = if self.ignore_case {
            Case::Insensitive
        } else {
            Case::Sensitive
        };
        let any = |glob: bool| {
            self.values.iter().any(|expected| {
                if glob {
                    glob_match(expected, value, case)
                } else if self.ignore_case {
                    expected.to_lowercase() == value.to_lowercase()
                } else {
                    expected == value
                }
            })
        };
        let holds = match self.operator {
            ClaimOperator::Equals => any(false),
            ClaimOperator::NotEquals => !any(false),
            ClaimOperator::Like => any(true),
            ClaimOperator::NotLike => !any(true),
            ClaimOperator::Expression => false,
        };
        if holds {
            ClaimMatch::Matches
        } else {
            ClaimMatch::DoesNotMatch
        }
    }
}

impl std::fmt::Display for ClaimCondition {
    /// `ForAllValues:StringLike `sub` `repo:acme/*``: a condition as a reviewer reads it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} `{}` {}",
            self.operator_name(),
            self.claim,
            self.values
                .iter()
                .map(|value| format!("`{value}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

impl FederatedTrust {
    /// Would a token from `workload` (with `audience`, and `extra_claims` beyond `iss` and
    /// `sub`) be accepted? Issuers compare without a trailing `/`, case-insensitively on the
    /// whole URL because the host part is case-insensitive and providers normalise it.
    pub fn admits(
        &self,
        workload: &CiWorkload,
        audience: Option<&str>,
        extra_claims: &BTreeMap<String, String>,
    ) -> ClaimMatch {
        self.admits_with(workload, audience, extra_claims, |condition, claims| {
            condition.check(claims)
        })
    }

    /// Would some token from `workload` be accepted, when `known_claims` (beyond `iss` and
    /// `sub`) are all that is known of it, as for a workload named only by its subject? A
    /// condition on a claim that is not known may hold or not, so it makes the answer
    /// [`ClaimMatch::Unknown`] (naming the claim) instead of failing for lack of the claim: a
    /// missed path is the dangerous error. `expression` judges [`ClaimOperator::Expression`]
    /// conditions over the known claims.
    pub fn admits_partially_known(
        &self,
        workload: &CiWorkload,
        audience: Option<&str>,
        known_claims: &BTreeMap<String, String>,
        expression: impl Fn(&ClaimCondition, &BTreeMap<String, String>) -> ClaimMatch,
    ) -> ClaimMatch {
        self.admits_with(workload, audience, known_claims, |condition, claims| {
            if condition.operator == ClaimOperator::Expression {
                expression(condition, claims)
            } else if claims.contains_key(&condition.claim) {
                condition.check(claims)
            } else {
                ClaimMatch::Unknown(format!(
                    "the subject does not tell the `{}` claim this trust tests",
                    condition.claim
                ))
            }
        })
    }

    fn admits_with(
        &self,
        workload: &CiWorkload,
        audience: Option<&str>,
        extra_claims: &BTreeMap<String, String>,
        check: impl Fn(&ClaimCondition, &BTreeMap<String, String>) -> ClaimMatch,
    ) -> ClaimMatch {
        let trim = |url: &str| url.trim_end_matches('/').to_ascii_lowercase();
        if trim(&self.issuer) != trim(&workload.issuer_url) {
            return ClaimMatch::DoesNotMatch;
        }
        if !self.audiences.is_empty() {
            match audience {
                Some(audience) if self.audiences.iter().any(|a| a == audience) => {}
                Some(_) => return ClaimMatch::DoesNotMatch,
                None => {
                    return ClaimMatch::Unknown(
                        "the token's audience is not known and the trust checks it".to_string(),
                    );
                }
            }
        }
        let mut claims = extra_claims.clone();
        claims.insert("iss".to_string(), workload.issuer_url.clone());
        claims.insert("sub".to_string(), workload.subject.clone());
        let mut unknown = None;
        for condition in &self.conditions {
            match check(condition, &claims) {
                ClaimMatch::Matches => {}
                ClaimMatch::DoesNotMatch => return ClaimMatch::DoesNotMatch,
                ClaimMatch::Unknown(reason) => {
                    unknown.get_or_insert(reason);
                }
            }
        }
        match unknown {
            Some(reason) => ClaimMatch::Unknown(reason),
            None => ClaimMatch::Matches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_trust(operator: ClaimOperator, value: &str) -> FederatedTrust {
        FederatedTrust {
            issuer: "https://token.actions.githubusercontent.com".to_string(),
            audiences: vec!["sts.amazonaws.com".to_string()],
            conditions: vec![ClaimCondition::new(
                "sub",
                operator,
                vec![value.to_string()],
            )],
            source: "test".to_string(),
        }
    }

    fn check(trust: &FederatedTrust, subject: &str, audience: Option<&str>, expected: ClaimMatch) {
        let workload = CiWorkload::new("https://token.actions.githubusercontent.com/", subject);
        assert_eq!(
            trust.admits(&workload, audience, &BTreeMap::new()),
            expected,
            "{subject} against {trust:?}"
        );
    }

    #[test]
    fn federated_trust_table() {
        let exact = github_trust(ClaimOperator::Equals, "repo:acme/web:ref:refs/heads/main");
        let like = github_trust(ClaimOperator::Like, "repo:acme/*");
        let aud = Some("sts.amazonaws.com");
        check(
            &exact,
            "repo:acme/web:ref:refs/heads/main",
            aud,
            ClaimMatch::Matches,
        );
        check(
            &exact,
            "repo:acme/web:pull_request",
            aud,
            ClaimMatch::DoesNotMatch,
        );
        check(
            &like,
            "repo:acme/web:pull_request",
            aud,
            ClaimMatch::Matches,
        );
        check(
            &like,
            "repo:evil/web:pull_request",
            aud,
            ClaimMatch::DoesNotMatch,
        );
        check(
            &like,
            "repo:acme/web:pull_request",
            Some("other"),
            ClaimMatch::DoesNotMatch,
        );
        assert!(matches!(
            like.admits(
                &CiWorkload::new("https://token.actions.githubusercontent.com", "repo:acme/x"),
                None,
                &BTreeMap::new()
            ),
            ClaimMatch::Unknown(_)
        ));
        let expression = github_trust(ClaimOperator::Expression, "assertion.ref == 'main'");
        assert!(matches!(
            expression.admits(
                &CiWorkload::new("https://token.actions.githubusercontent.com", "repo:acme/x"),
                aud,
                &BTreeMap::new()
            ),
            ClaimMatch::Unknown(reason) if reason.contains("assertion.ref")
        ));
    }

    #[test]
    fn a_different_issuer_is_never_admitted() {
        let trust = github_trust(ClaimOperator::Like, "*");
        let workload = CiWorkload::new("https://gitlab.com", "repo:acme/web:pull_request");
        assert_eq!(
            trust.admits(&workload, Some("sts.amazonaws.com"), &BTreeMap::new()),
            ClaimMatch::DoesNotMatch
        );
    }

    #[test]
    fn negative_operators_hold_when_the_claim_is_missing() {
        let condition =
            ClaimCondition::new("environment", ClaimOperator::NotEquals, vec!["prod".into()]);
        assert_eq!(condition.check(&BTreeMap::new()), ClaimMatch::Matches);
    }

    /// Every string operator that can hold a claim, present and absent: a set operator compares
    /// a one-valued claim like the plain operator and only decides the absent case.
    #[test]
    fn set_operators_and_if_exists_on_a_one_valued_claim() {
        let present: BTreeMap<String, String> =
            [("sub".to_string(), "repo:acme/web:pull_request".to_string())].into();
        let absent = BTreeMap::new();
        let condition = |operator, set_operator, if_exists, value: &str| ClaimCondition {
            set_operator,
            if_exists,
            ..ClaimCondition::new("sub", operator, vec![value.to_string()])
        };
        use ClaimOperator::{Equals, Like, NotEquals, NotLike};
        use SetOperator::{ForAllValues, ForAnyValue};
        let table = [
            // operator, set operator, IfExists, value, present matches, absent matches
            (Like, None, false, "repo:acme/*", true, false),
            (Like, Some(ForAnyValue), false, "repo:acme/*", true, false),
            (Like, Some(ForAllValues), false, "repo:acme/*", true, true),
            (Like, None, true, "repo:acme/*", true, true),
            (Like, Some(ForAnyValue), true, "repo:acme/*", true, true),
            (Like, None, false, "repo:evil/*", false, false),
            (Like, Some(ForAllValues), false, "repo:evil/*", false, true),
            (
                Equals,
                None,
                false,
                "repo:acme/web:pull_request",
                true,
                false,
            ),
            (
                Equals,
                Some(ForAllValues),
                false,
                "repo:acme/web:pull_request",
                true,
                true,
            ),
            (
                NotEquals,
                None,
                false,
                "repo:acme/web:pull_request",
                false,
                true,
            ),
            (
                NotLike,
                Some(ForAnyValue),
                false,
                "repo:acme/*",
                false,
                false,
            ),
            (
                NotLike,
                Some(ForAllValues),
                false,
                "repo:evil/*",
                true,
                true,
            ),
        ];
        for (operator, set_operator, if_exists, value, on_present, on_absent) in table {
            let condition = condition(operator, set_operator, if_exists, value);
            let expected = |holds| {
                if holds {
                    ClaimMatch::Matches
                } else {
                    ClaimMatch::DoesNotMatch
                }
            };
            assert_eq!(
                condition.check(&present),
                expected(on_present),
                "{condition}"
            );
            assert_eq!(
                condition.check(&absent),
                expected(on_absent),
                "{condition} absent"
            );
        }
        let ignore_case = ClaimCondition {
            ignore_case: true,
            ..ClaimCondition::new("sub", Equals, vec!["REPO:ACME/WEB:PULL_REQUEST".into()])
        };
        assert_eq!(ignore_case.check(&present), ClaimMatch::Matches);
        assert_eq!(ignore_case.operator_name(), "StringEqualsIgnoreCase");
        assert_eq!(
            condition(Like, Some(ForAllValues), true, "x").operator_name(),
            "ForAllValues:StringLikeIfExists"
        );
    }
}
