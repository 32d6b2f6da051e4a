//! **What it finds:** `Allow` statements that grant *Write* or *Permissions management*
//! actions on `Resource: "*"`, for actions that can be scoped to specific resources.
//!
//! **Why it matters:** a deploy role that may `s3:PutObject` on `*` can overwrite any bucket in
//! the account, not just its artifacts bucket; `iam:PutRolePolicy` on `*` can rewrite any
//! role. Actions that AWS only authorizes on `*` (such as `ec2:DescribeInstances` or
//! `s3:ListAllMyBuckets`) are not reported: they cannot be narrowed.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Action": ["s3:PutObject", "iam:PassRole"], "Resource": "*" }
//! ```
//!
//! **Remediation:** name the resources (ARNs, or an ARN pattern within one bucket, repository
//! or function family). `pipeleash minimize` proposes them from the resources seen in
//! CloudTrail. Severity is high when permissions-management actions are included.

use super::PolicyUnderCheck;
use super::statements::applies_to_any_resource;
use crate::aws::policy::ActionClause;
use crate::catalog::AccessLevel;
use crate::model::{Confidence, Effect, Evidence, Finding, Severity};
use std::collections::BTreeSet;

pub const ID: &str = "write-on-any-resource";

/// How many action names a finding's message lists before summarising.
const LISTED: usize = 5;

pub fn run(policy: &PolicyUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for statement in &policy.document.statements {
        let ActionClause::Action(patterns) = &statement.action else {
            continue;
        };
        if statement.effect != Effect::Allow || !applies_to_any_resource(statement) {
            continue;
        }
        let mut write = BTreeSet::new();
        let mut permissions_management = BTreeSet::new();
        // `*` alone is reported by `wildcard-action`; repeating every write action here adds
        // nothing a reader could act on.
        for pattern in patterns.iter().filter(|pattern| pattern.as_str() != "*") {
            for action in policy.catalog.expand(pattern) {
                if action.resource_types.is_empty() {
                    continue;
                }
                match action.access_level {
                    AccessLevel::PermissionsManagement => {
                        permissions_management.insert(action.name.as_str());
                    }
                    AccessLevel::Write => {
                        write.insert(action.name.as_str());
                    }
                    _ => {}
                }
            }
        }
        if write.is_empty() && permissions_management.is_empty() {
            continue;
        }
        let severity = if permissions_management.is_empty() {
            Severity::Medium
        } else {
            Severity::High
        };
        let all: Vec<&str> = permissions_management
            .iter()
            .chain(write.iter())
            .copied()
            .collect();
        let mut listed = all
            .iter()
            .take(LISTED)
            .map(|action| format!("`{action}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if all.len() > LISTED {
            listed.push_str(&format!(" and {} more", all.len() - LISTED));
        }
        findings.push(Finding {
            id: ID,
            severity,
            confidence: if statement.conditions.is_empty() {
                Confidence::High
            } else {
                Confidence::Medium
            },
            subject: policy.statement_subject(statement),
            message: format!(
                "{} write and {} permissions-management action(s) are allowed on `*`: {listed}",
                write.len(),
                permissions_management.len()
            ),
            evidence: vec![Evidence {
                source: policy.statement_subject(statement),
                detail: "`Resource: \"*\"`".into(),
            }],
            remediation: "name the resources the pipeline changes instead of `*`".into(),
        });
    }
}
