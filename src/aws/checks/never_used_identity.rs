//! **What it finds:** CI identities that made no allowed call in the observation window and
//! that IAM has not seen used since before the window began (`RoleLastUsed`, access-key last
//! use).
//!
//! **Why it matters:** an identity nobody uses is standing access with no owner watching it:
//! its trust policy still admits its pipelines, its keys still work. Unused CI roles are a
//! favourite persistence spot.
//!
//! **Example:** `gha-readonly-audit` holds `ReadOnlyAccess`, trusts `repo:*`, and has not been
//! assumed in 90 days.
//!
//! **Remediation:** confirm with the owner, then delete the identity (or remove its trust and
//! policies). Confidence is lower when the ingested logs do not cover the whole window.

use super::IdentityUnderCheck;
use crate::aws::minimize::Warning;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "never-used-identity";

pub fn run(identity: &IdentityUnderCheck<'_>, findings: &mut Vec<Finding>) {
    let Some(Ok(minimized)) = &identity.audit.minimized else {
        return;
    };
    let used_in_logs = minimized.decisions.iter().any(|decision| {
        decision
            .reasons
            .iter()
            .any(|reason| matches!(reason, crate::aws::minimize::Reason::Used(_)))
    });
    if used_in_logs {
        return;
    }
    if identity
        .audit
        .last_used
        .is_some_and(|last| last >= identity.window.since)
    {
        // IAM saw it used in the window, outside the ingested logs: not "never used".
        return;
    }
    let partial = minimized.warnings.iter().any(|warning| {
        matches!(
            warning,
            Warning::IncompleteWindow { .. } | Warning::WindowNotCovered { .. }
        )
    });
    let (first_day, last_day) = identity.window.days();
    let last = match identity.audit.last_used {
        Some(time) => format!("IAM last saw it used on {}", time.format("%Y-%m-%d")),
        None => "IAM has no record of it being used".to_string(),
    };
    findings.push(Finding {
        id: ID,
        severity: Severity::Medium,
        confidence: if partial {
            Confidence::Medium
        } else {
            Confidence::High
        },
        subject: identity.subject(),
        message: format!("no allowed call between {first_day} and {last_day}; {last}"),
        evidence: std::iter::once(Evidence {
            source: "audit logs and IAM last-used data".into(),
            detail: format!(
                "{} granted actions, none used",
                identity.audit.counts.granted
            ),
        })
        .chain(super::skipped_evidence(&minimized.warnings))
        .collect(),
        remediation: "confirm with the owner, then delete the identity or remove its trust".into(),
    });
}
