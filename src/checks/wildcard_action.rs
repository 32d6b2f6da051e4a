//! **What it finds:** `Allow` statements whose `Action` is a wildcard: `*` (every action of
//! every service), `service:*` (every action of one service), or a partial pattern such as
//! `s3:Put*`.
//!
//! **Why it matters:** a wildcard grants every action that matches it today *and* every action
//! AWS adds later. A pipeline rarely needs more than a few dozen actions; `*` on `*` is full
//! administrator access for anyone who can run the pipeline.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::artifacts/*" }
//! ```
//!
//! **Remediation:** list the actions the pipeline uses (`pipeleash minimize` derives them from
//! CloudTrail), or at least narrow the pattern to the access level needed (`s3:Get*`).
//! Severity: `*` on `*` is critical, `*` high, `service:*` medium, partial patterns low.

use super::PolicyUnderCheck;
use super::statements::applies_to_any_resource;
use crate::aws::policy::ActionClause;
use crate::matching::has_wildcard;
use crate::model::{Confidence, Effect, Evidence, Finding, Severity};

pub const ID: &str = "wildcard-action";

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let ActionClause::Action(patterns) = &statement.action else {
            continue;
        };
        if statement.effect != Effect::Allow {
            continue;
        }
        for pattern in patterns.iter().filter(|pattern| has_wildcard(pattern)) {
            let service_wide = pattern
                .split_once(':')
                .is_some_and(|(_, action)| action == "*");
            let (severity, what) = if pattern == "*" && applies_to_any_resource(statement) {
                (
                    Severity::Critical,
                    "allows every action on every resource (full administrator)".to_string(),
                )
            } else if pattern == "*" {
                (
                    Severity::High,
                    "allows every action of every service".to_string(),
                )
            } else if service_wide {
                (
                    Severity::Medium,
                    format!(
                        "allows every action of `{}`",
                        pattern.trim_end_matches(":*")
                    ),
                )
            } else {
                let matched = policy.catalog.expand(pattern).len();
                (Severity::Low, format!("matches {matched} known actions"))
            };
            let confidence = if statement.conditions.is_empty() {
                Confidence::High
            } else {
                Confidence::Medium
            };
            findings.push(Finding {
                id: ID,
                severity,
                confidence,
                subject: policy.statement_subject(statement),
                message: format!("`Action: \"{pattern}\"` {what}"),
                evidence: vec![Evidence {
                    source: policy.statement_subject(statement),
                    detail: format!("`Action` contains `{pattern}`"),
                }],
                remediation: "list the actions the pipeline uses instead of a wildcard".into(),
            });
        }
    }
}
