//! **What it finds:** `Allow` statements that use `NotResource`.
//!
//! **Why it matters:** `Allow` + `NotResource` grants the actions on every resource except the
//! ones listed, in every account the identity can reach, including resources created later.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::audit-logs/*" }
//! ```
//!
//! **Remediation:** name the resources the pipeline writes to in `Resource`. Use `NotResource`
//! with `Deny` only.

use super::PolicyUnderCheck;
use crate::aws::policy::ResourceClause;
use crate::model::{Confidence, Effect, Evidence, Finding, Severity};

pub const ID: &str = "allow-with-not-resource";

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let Some(ResourceClause::NotResource(excluded)) = &statement.resource else {
            continue;
        };
        if statement.effect != Effect::Allow {
            continue;
        }
        findings.push(Finding {
            id: ID,
            severity: Severity::Medium,
            confidence: if statement.conditions.is_empty() {
                Confidence::High
            } else {
                Confidence::Medium
            },
            subject: policy.statement_subject(statement),
            message: format!(
                "`Allow` with `NotResource` applies to every resource except {}",
                excluded
                    .iter()
                    .map(|resource| format!("`{resource}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence: vec![Evidence {
                source: policy.statement_subject(statement),
                detail: format!("`NotResource` lists {} pattern(s)", excluded.len()),
            }],
            remediation: "name the resources in `Resource`; keep `NotResource` for `Deny`".into(),
        });
    }
}
