//! **What it finds:** OIDC trusts with no condition on the token's `aud` (audience) claim.
//!
//! **Why it matters:** the audience says which cloud the token was minted for. IAM still
//! checks it against the OIDC provider's client id list, but a trust that pins it itself
//! keeps working safely when that list grows (a second audience for another tool) and states
//! the intent where reviewers read it.
//!
//! **Example:**
//!
//! ```json
//! "Condition": { "StringEquals": { "token.actions.githubusercontent.com:sub": "repo:acme/web:ref:refs/heads/main" } }
//! ```
//!
//! **Remediation:** add `"StringEquals": { "<issuer>:aud": "sts.amazonaws.com" }` (the
//! audience your pipelines request).

use super::{TrustUnderCheck, is_oidc, oidc_trust_without_subject::conditions_detail};
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity};

pub const ID: &str = "oidc-missing-audience";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let has_audience = trust
            .conditions
            .iter()
            .any(|condition| condition.claim == "aud" || condition.claim == "azp");
        if !is_oidc(trust) || has_audience {
            continue;
        }
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: Severity::Low,
                confidence: Confidence::High,
                subject: check.subject(id),
                message: format!(
                    "trust of `{}` does not check the token's audience (`aud`)",
                    trust.issuer
                ),
                evidence: vec![Evidence {
                    source: trust.source.clone(),
                    detail: conditions_detail(trust),
                }],
                remediation: "add a `StringEquals` condition on `<issuer>:aud` with the audience the pipelines request".into(),
            },
        ));
    }
}
