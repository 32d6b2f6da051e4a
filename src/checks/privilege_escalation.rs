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

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for path in policy.escalation_paths {
        let mut evidence = Vec::new();
        let mut narrowed = false;
        let mut complete = true;
        for action in &path.actions {
            let statements = allowing_statements(policy.document, action);
            if statements.is_empty() {
                complete = false;
                break;
            }
            narrowed |= statements
                .iter()
                .all(|statement| !statement.conditions.is_empty() || !applies_to_any_resource(statement));
            let subjects: Vec<String> = statements
                .iter()
                .map(|statement| policy.statement_subject(statement))
                .collect();
            evidence.push(Evidence {
                source: subjects.join("; "),
                detail: format!("allows `{action}`"),
            });
        }
        if !complete {
            continue;
        }
        findings.push(Finding {
            id: ID,
            severity: match path.reaches {
                Reach::Admin | Reach::Credentials => Severity::High,
                Reach::Role => Severity::Medium,
            },
            confidence: if narrowed {
                Confidence::Medium
            } else {
                Confidence::High
            },
            subject: format!("policy `{}`", policy.name),
            message: format!(
                "allows the `{}` escalation path ({}): {}",
                path.id,
                path.actions
                    .iter()
                    .map(|action| format!("`{action}`"))
                    .collect::<Vec<_>>()
                    .join(" + "),
                path.description
            ),
            evidence,
            remediation: "drop the unused actions of the path and scope the rest to named resources".into(),
        });
    }
}
