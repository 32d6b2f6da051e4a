//! **What it finds:** calls the identity made that were denied (`AccessDenied`,
//! `UnauthorizedOperation`, …) in the observation window.
//!
//! **Why it matters:** a denied call is not use, and pipeleash never adds it to a minimized
//! policy. But it is evidence: either a pipeline step is broken (and someone may soon "fix" it
//! with a wildcard), or something is probing what the identity can do.
//!
//! **Example:** `gha-lambda-deploy` was denied `ssm:GetParameter` 14 times, from
//! `repo:acme/functions:ref:refs/heads/main`.
//!
//! **Remediation:** if the pipeline needs the action, grant exactly that action on exactly
//! that resource; if not, fix or remove the step that calls it. Investigate denied calls from
//! workloads you do not recognise.

use super::IdentityUnderCheck;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "missing-permissions";

pub fn run(identity: &IdentityUnderCheck<'_>, findings: &mut Vec<Finding>) {
    let Some(Ok(minimized)) = &identity.audit.minimized else {
        return;
    };
    if minimized.missing_permissions.is_empty() {
        return;
    }
    let calls: u64 = minimized
        .missing_permissions
        .iter()
        .map(|missing| missing.denied_count)
        .sum();
    let mut actions: Vec<&str> = minimized
        .missing_permissions
        .iter()
        .map(|missing| missing.action.as_str())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    findings.push(Finding {
        id: ID,
        severity: Severity::Low,
        confidence: Confidence::High,
        subject: identity.subject(),
        message: format!(
            "{calls} call(s) were denied: {}",
            actions
                .iter()
                .map(|action| format!("`{action}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        evidence: minimized
            .missing_permissions
            .iter()
            .map(|missing| Evidence {
                source: if missing.workloads.is_empty() {
                    "audit logs".to_string()
                } else {
                    missing.workloads.join(", ")
                },
                detail: format!(
                    "`{}` on `{}` denied {}× ({} to {})",
                    missing.action,
                    missing.resource,
                    missing.denied_count,
                    missing.first_seen.format("%Y-%m-%d"),
                    missing.last_seen.format("%Y-%m-%d")
                ),
            })
            .collect(),
        remediation:
            "grant exactly what a needed step calls, or fix the step; investigate unknown callers"
                .into(),
    });
}
