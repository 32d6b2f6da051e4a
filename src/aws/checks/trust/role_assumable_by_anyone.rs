//! **What it finds:** roles whose trust policy admits any principal: `"Principal": "*"` or
//! `"Principal": { "AWS": "*" }`.
//!
//! **Why it matters:** any AWS account in the world can call `sts:AssumeRole` on the role.
//! Conditions such as `aws:PrincipalOrgID` can narrow it, and are easy to lose in an edit; with
//! no condition the role is public.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "sts:AssumeRole" }
//! ```
//!
//! **Remediation:** name the exact principals (role ARNs) that need the role. Severity is
//! critical without any condition, high (medium confidence) when a condition narrows it.

use super::TrustUnderCheck;
use crate::aws::normalize::allows_assume;
use crate::aws::{Principal, PrincipalClause};
use crate::model::{Confidence, Effect, Evidence, Finding, IdentityId, Severity, Trust};

pub const ID: &str = "role-assumable-by-anyone";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trusts) in &check.normalized.inventory.trusts {
        if !trusts.iter().any(|trust| matches!(trust, Trust::Anyone)) {
            continue;
        }
        let statements: Vec<&crate::aws::Statement> = check
            .normalized
            .trust_policies
            .get(id)
            .map(|document| {
                document
                    .statements
                    .iter()
                    .filter(|statement| {
                        statement.effect == Effect::Allow
                            && allows_assume(statement)
                            && match &statement.principal {
                                Some(PrincipalClause::Principal(Principal::Everyone)) => true,
                                Some(PrincipalClause::Principal(Principal::Listed(map))) => {
                                    map.aws.iter().any(|aws| aws == "*")
                                }
                                _ => false,
                            }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let narrowed = !statements.is_empty()
            && statements
                .iter()
                .all(|statement| !statement.conditions.is_empty());
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: if narrowed {
                    Severity::High
                } else {
                    Severity::Critical
                },
                confidence: if narrowed {
                    Confidence::Medium
                } else {
                    Confidence::High
                },
                subject: check.subject(id),
                message: if narrowed {
                    "any principal may assume the role, narrowed only by conditions".into()
                } else {
                    "any principal in any AWS account may assume the role".into()
                },
                evidence: statements
                    .iter()
                    .map(|statement| Evidence {
                        source: format!("trust policy statement {}", statement.number()),
                        detail: format!(
                            "principal `*` with {} condition(s)",
                            statement.conditions.len()
                        ),
                    })
                    .collect(),
                remediation: "name the exact role ARNs that may assume the role".into(),
            },
        ));
    }
}
