//! **What it finds:** actions that the catalog does not know: misspelled names
//! (`s3:GetObjects`), unknown service prefixes, and patterns that match no action at all.
//!
//! **Why it matters:** IAM accepts unknown actions silently, so a typo in an `Allow` leaves the
//! pipeline without the permission it needs, and a typo in a `Deny` leaves open what it was
//! meant to close. A pattern that matches nothing today may also match an action AWS adds
//! tomorrow.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Deny", "Action": "iam:DeleteRolePolicies", "Resource": "*" }
//! ```
//!
//! **Remediation:** correct the name (`pipeleash catalog expand 'iam:DeleteRole*'` lists the
//! real ones). If the action is newer than the embedded catalog, refresh it with
//! `pipeleash catalog import`. Unknown actions in a `Deny` are reported as medium.

use super::PolicyUnderCheck;
use crate::aws::policy::ActionClause;
use crate::matching::has_wildcard;
use crate::model::{Confidence, Effect, Evidence, Finding, Severity};

pub const ID: &str = "unknown-action";

/// How many unknown names a finding's message lists.
const LISTED: usize = 5;

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let patterns = match &statement.action {
            ActionClause::Action(patterns) | ActionClause::NotAction(patterns) => patterns,
        };
        let unknown: Vec<&String> = patterns
            .iter()
            .filter(|pattern| pattern.as_str() != "*")
            .filter(|pattern| {
                if has_wildcard(pattern) {
                    policy.catalog.expand(pattern).is_empty()
                } else {
                    policy.catalog.action(pattern).is_none()
                }
            })
            .collect();
        if unknown.is_empty() {
            continue;
        }
        let mut listed = unknown
            .iter()
            .take(LISTED)
            .map(|pattern| format!("`{pattern}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if unknown.len() > LISTED {
            listed.push_str(&format!(" and {} more", unknown.len() - LISTED));
        }
        findings.push(Finding {
            id: ID,
            severity: if statement.effect == Effect::Deny {
                Severity::Medium
            } else {
                Severity::Low
            },
            // The catalog may simply be older than the action.
            confidence: Confidence::Medium,
            subject: policy.statement_subject(statement),
            message: format!(
                "{} action name(s) or pattern(s) match no known action: {listed}",
                unknown.len()
            ),
            evidence: unknown
                .iter()
                .map(|pattern| Evidence {
                    source: "embedded AWS catalog".into(),
                    detail: format!("no catalog entry matches `{pattern}`"),
                })
                .collect(),
            remediation:
                "correct the action name, or refresh the catalog with `pipeleash catalog import`"
                    .into(),
        });
    }
}
