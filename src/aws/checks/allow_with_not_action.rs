//! **What it finds:** `Allow` statements that use `NotAction`.
//!
//! **Why it matters:** `Allow` + `NotAction` grants every action *except* the ones listed,
//! including every action of every service AWS will ever add. It reads like a restriction but
//! is one of the broadest grants there is.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "NotAction": "iam:*", "Resource": "*" }
//! ```
//!
//! **Remediation:** turn it into an `Allow` of the actions needed. `NotAction` belongs with
//! `Deny` ("deny everything but …"), where it narrows instead of widening.

use super::PolicyUnderCheck;
use super::statements::applies_to_any_resource;
use crate::aws::policy::ActionClause;
use crate::model::{Confidence, Effect, Evidence, Finding, Severity};

pub const ID: &str = "allow-with-not-action";

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let ActionClause::NotAction(excluded) = &statement.action else {
            continue;
        };
        if statement.effect != Effect::Allow {
            continue;
        }
        let everywhere = applies_to_any_resource(statement);
        findings.push(Finding {
            id: ID,
            severity: if everywhere {
                Severity::High
            } else {
                Severity::Medium
            },
            confidence: if statement.conditions.is_empty() {
                Confidence::High
            } else {
                Confidence::Medium
            },
            subject: policy.statement_subject(statement),
            message: format!(
                "`Allow` with `NotAction` grants every action except {}",
                excluded
                    .iter()
                    .map(|action| format!("`{action}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence: vec![Evidence {
                source: policy.statement_subject(statement),
                detail: format!("`NotAction` lists {} pattern(s)", excluded.len()),
            }],
            remediation: "allow the needed actions explicitly; keep `NotAction` for `Deny`".into(),
        });
    }
}
