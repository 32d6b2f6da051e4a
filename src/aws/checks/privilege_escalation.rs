//! **What it finds:** policies that allow every action of a known privilege-escalation path,
//! such as `iam:PassRole` together with `ec2:RunInstances` (launch an instance with a stronger
//! role), or `iam:CreatePolicyVersion` alone (rewrite one's own policy). The paths are data in
//! `providers/aws/privilege-escalation.tsv`.
//!
//! **Why it matters:** an identity that can escalate has, in effect, the permissions it can
//! escalate to. For a CI role, everyone who can push a workflow file gets them too.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*" }
//! ```
//!
//! **Remediation:** remove the actions the pipeline does not use, and scope the ones it does:
//! `iam:PassRole` to the exact role ARNs, with an `iam:PassedToService` condition; IAM write
//! actions to the pipeline's own resources. Severity is high for paths to administrator access
//! or other identities' credentials, medium for paths to a passed role. Confidence is lower
//! when the allowing statements carry conditions or name specific resources.

use super::PolicyUnderCheck;
use super::statements::{allowing_statements, applies_to_any_resource};
use crate::aws::escalation::Reach;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "privilege-escalation";

/// How many path ids a finding's message lists before summarising.
const LISTED: usize = 4;

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    let mut open_paths = Vec::new();
    let mut evidence = Vec::new();
    let mut narrowed_everywhere = true;
    for path in policy.escalation_paths {
        let mut narrowed = false;
        let mut allowing = Vec::new();
        for action in &path.actions {
            let statements = allowing_statements(policy.document, action);
            if statements.is_empty() {
                allowing.clear();
                break;
            }
            narrowed |= statements.iter().all(|statement| {
                !statement.conditions.is_empty() || !applies_to_any_resource(statement)
            });
            let numbers: Vec<String> = statements
                .iter()
                .map(|statement| statement.number().to_string())
                .collect();
            allowing.push(format!("`{action}` (statement {})", numbers.join(", ")));
        }
        if allowing.is_empty() {
            continue;
        }
        narrowed_everywhere &= narrowed;
        evidence.push(Evidence {
            source: format!("path `{}` ({})", path.id, path.reaches.as_str()),
            detail: format!("{} {}", path.description, allowing.join(" + ")),
        });
        open_paths.push(path);
    }
    let Some(worst) = open_paths
        .iter()
        .map(|path| path.reaches)
        .min_by_key(|reach| match reach {
            Reach::Admin | Reach::Credentials => 0,
            Reach::Role => 1,
        })
    else {
        return;
    };
    let mut listed = open_paths
        .iter()
        .take(LISTED)
        .map(|path| format!("`{}`", path.id))
        .collect::<Vec<_>>()
        .join(", ");
    if open_paths.len() > LISTED {
        listed.push_str(&format!(" and {} more", open_paths.len() - LISTED));
    }
    findings.push(Finding {
        id: ID,
        severity: match worst {
            Reach::Admin | Reach::Credentials => Severity::High,
            Reach::Role => Severity::Medium,
        },
        confidence: if narrowed_everywhere {
            Confidence::Medium
        } else {
            Confidence::High
        },
        subject: format!("policy `{}`", policy.name),
        message: format!(
            "allows {} privilege-escalation path(s): {listed}",
            open_paths.len()
        ),
        evidence,
        remediation: "drop the unused actions of each path and scope the rest to named resources"
            .into(),
    });
}
