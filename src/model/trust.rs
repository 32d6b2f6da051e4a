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
    /// Does this condition hold for `claims` (claim name → value)? A missing claim fails
    /// positive operators and satisfies negative ones, as AWS does for single-valued keys.
    pub fn check(&self, claims: &BTreeMap<String, String>) -> ClaimMatch {
        if self.operator == ClaimOperator::Expression {
            return ClaimMatch::Unknown(format!(
                "condition on `{}` is an expression pipeleash does not evaluate: `{}`",
                self.claim,
                self.values.join(" ")
            ));
        }
        let value = claims.get(&self.claim);
        let any = |case_glob: bool| match value {
            Some(value) => self.values.iter().any(|expected| {
                if case_glob {
                    glob_match(expected, value, Case::Sensitive)
                } else {
                    expected == value
                }
            }),
            None => false,
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
            match condition.check(&claims) {
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
            conditions: vec![ClaimCondition {
                claim: "sub".to_string(),
                operator,
                values: vec![value.to_string()],
            }],
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
        let condition = ClaimCondition {
            claim: "environment".to_string(),
            operator: ClaimOperator::NotEquals,
            values: vec!["prod".to_string()],
        };
        assert_eq!(condition.check(&BTreeMap::new()), ClaimMatch::Matches);
    }
}
