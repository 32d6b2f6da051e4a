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

/// How many patterns a finding's message lists.
const LISTED: usize = 5;

fn listed(patterns: &[&String]) -> String {
    let mut text = patterns
        .iter()
        .take(LISTED)
        .map(|pattern| format!("`{pattern}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if patterns.len() > LISTED {
        text.push_str(&format!(" and {} more", patterns.len() - LISTED));
    }
    text
}

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let ActionClause::Action(patterns) = &statement.action else {
            continue;
        };
        if statement.effect != Effect::Allow {
            continue;
        }
        let wildcards: Vec<&String> = patterns
            .iter()
            .filter(|pattern| has_wildcard(pattern))
            .collect();
        let everything = wildcards.iter().any(|pattern| pattern.as_str() == "*");
        let service_wide: Vec<&String> = wildcards
            .iter()
            .copied()
            .filter(|pattern| {
                pattern
                    .split_once(':')
                    .is_some_and(|(_, action)| action == "*")
            })
            .collect();
        let partial: Vec<&String> = wildcards
            .iter()
            .copied()
            .filter(|pattern| pattern.as_str() != "*" && !service_wide.contains(pattern))
            .collect();
        let confidence = if statement.conditions.is_empty() {
            Confidence::High
        } else {
            Confidence::Medium
        };
        let mut report = |severity: Severity, message: String, patterns: &[&String]| {
            findings.push(Finding {
                id: ID,
                severity,
                confidence,
                subject: policy.statement_subject(statement),
                message,
                evidence: patterns
                    .iter()
                    .map(|pattern| Evidence {
                        source: policy.statement_subject(statement),
                        detail: format!("`Action` contains `{pattern}`"),
                    })
                    .collect(),
                remediation: "list the actions the pipeline uses instead of a wildcard".into(),
            });
        };
        if everything {
            let star = wildcards
                .iter()
                .copied()
                .filter(|pattern| pattern.as_str() == "*")
                .collect::<Vec<_>>();
            if applies_to_any_resource(statement) {
                report(
                    Severity::Critical,
                    "`Action: \"*\"` allows every action on every resource (full administrator)"
                        .into(),
                    &star,
                );
            } else {
                report(
                    Severity::High,
                    "`Action: \"*\"` allows every action of every service".into(),
                    &star,
                );
            }
        }
        if !service_wide.is_empty() {
            report(
                Severity::Medium,
                format!(
                    "allows every action of {} service(s): {}",
                    service_wide.len(),
                    listed(&service_wide)
                ),
                &service_wide,
            );
        }
        if !partial.is_empty() {
            let matched: usize = partial
                .iter()
                .map(|pattern| policy.catalog.expand(pattern).len())
                .sum();
            report(
                Severity::Low,
                format!(
                    "{} partial wildcard(s) match {matched} known actions: {}",
                    partial.len(),
                    listed(&partial)
                ),
                &partial,
            );
        }
    }
}
