//! **What it finds:** identities granted actions they did not use in the observation window,
//! counted against the audit logs pipeleash ingested. Actions the logs could not have shown
//! (S3 object reads without a data-event trail, `iam:PassRole`, …) are *not* counted as
//! unused: they are reported as unobservable.
//!
//! **Why it matters:** every unused grant is access an attacker inherits from the pipeline
//! for free. A deploy role that used 12 actions but holds `AdministratorAccess` turns a
//! compromised workflow into a compromised account.
//!
//! **Example:** `gha-terraform` used 16 of 22,091 granted actions in the last 90 days; 21,900
//! unused actions include `iam:CreateUser` and `organizations:LeaveOrganization`.
//!
//! **Remediation:** apply the policy `pipeleash minimize <identity>` prints: it keeps every
//! action that was used (on the resources used) and every unobservable one, and it is proven
//! against the logs before it is printed. Severity is medium when unused write or
//! permissions-management actions are granted, low otherwise; confidence drops when log
//! files were skipped.

use super::IdentityUnderCheck;
use crate::aws::minimize::Reason;
use crate::catalog::AccessLevel;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "unused-permissions";

/// How many unused action names the message lists.
const LISTED: usize = 5;

pub fn run(identity: &IdentityUnderCheck<'_>, findings: &mut Vec<Finding>) {
    let Some(Ok(minimized)) = &identity.audit.minimized else {
        return;
    };
    let unused: Vec<_> = minimized
        .decisions
        .iter()
        .filter(|decision| {
            !decision.granted_by.is_empty() && decision.reasons.contains(&Reason::Unused)
        })
        .collect();
    if unused.is_empty() {
        return;
    }
    let risky: Vec<&str> = unused
        .iter()
        .filter(|decision| {
            matches!(
                decision.access_level,
                Some(AccessLevel::Write | AccessLevel::PermissionsManagement)
            )
        })
        .map(|decision| decision.action.as_str())
        .collect();
    // The riskiest first, so the message names what matters.
    let mut named: Vec<&str> = unused
        .iter()
        .filter(|decision| decision.access_level == Some(AccessLevel::PermissionsManagement))
        .chain(
            unused
                .iter()
                .filter(|decision| decision.access_level == Some(AccessLevel::Write)),
        )
        .chain(unused.iter())
        .map(|decision| decision.action.as_str())
        .collect();
    named.dedup();
    let mut seen = std::collections::BTreeSet::new();
    named.retain(|action| seen.insert(*action));
    let mut listed = named
        .iter()
        .take(LISTED)
        .map(|action| format!("`{action}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if unused.len() > LISTED {
        listed.push_str(&format!(" and {} more", unused.len() - LISTED));
    }
    let counts = identity.audit.counts;
    let incomplete = minimized.warnings.iter().any(|warning| {
        matches!(
            warning,
            crate::aws::minimize::Warning::IncompleteWindow { .. }
        )
    });
    findings.push(Finding {
        id: ID,
        severity: if risky.is_empty() {
            Severity::Low
        } else {
            Severity::Medium
        },
        confidence: if incomplete {
            Confidence::Medium
        } else {
            Confidence::High
        },
        subject: identity.subject(),
        message: format!(
            "{} of {} granted actions were not used between {} and {} ({} write or permissions-management): {listed}",
            counts.unused,
            counts.granted,
            identity.window.since.format("%Y-%m-%d"),
            identity.window.until.format("%Y-%m-%d"),
            risky.len(),
        ),
        evidence: vec![Evidence {
            source: "audit logs".into(),
            detail: format!(
                "{} used, {} unobservable (kept), {} unused",
                counts.used, counts.unobservable, counts.unused
            ),
        }],
        remediation: format!(
            "apply the proven policy from `pipeleash minimize {}`",
            identity.audit.identity.id.native()
        ),
    });
}
