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
//! files were skipped, and the evidence says how many and names the first.

use super::IdentityUnderCheck;
use crate::aws::minimize::{Reason, risk_rank};
use crate::catalog::AccessLevel;
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "unused-permissions";

/// How many unused action names the message lists.
const LISTED: usize = 5;

pub fn run(identity: &IdentityUnderCheck<'_>, findings: &mut Vec<Finding>) {
    let Some(Ok(minimized)) = &identity.audit.minimized else {
        return;
    };
    // Unused actions with evidence of their own, then the groups of the others.
    let unused: Vec<_> = minimized
        .decisions
        .iter()
        .filter(|decision| {
            !decision.granted_by.is_empty() && decision.reasons.contains(&Reason::Unused)
        })
        .collect();
    let total = unused.len()
        + minimized
            .unused
            .iter()
            .map(|group| group.count)
            .sum::<usize>();
    if total == 0 {
        return;
    }
    let risky = unused
        .iter()
        .filter(|decision| {
            matches!(
                decision.access_level,
                Some(AccessLevel::Write | AccessLevel::PermissionsManagement)
            )
        })
        .count()
        + minimized
            .unused
            .iter()
            .map(|group| group.risky())
            .sum::<usize>();
    // The riskiest first, so the message names what matters: permissions management, then
    // write, then the rest, each in name order. A group names its own first few, so the first
    // few overall are among them.
    let mut named: Vec<(u8, &str)> = unused
        .iter()
        .map(|decision| (risk_rank(decision.access_level), decision.action.as_str()))
        .chain(minimized.unused.iter().flat_map(|group| {
            group
                .riskiest
                .iter()
                .map(|(action, level)| (risk_rank(Some(*level)), action.as_str()))
        }))
        .collect();
    named.sort();
    named.dedup_by(|a, b| a.1 == b.1);
    let mut listed = named
        .iter()
        .take(LISTED)
        .map(|(_, action)| format!("`{action}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if total > LISTED {
        listed.push_str(&format!(" and {} more", total - LISTED));
    }
    let counts = identity.audit.counts;
    let skipped = super::skipped_evidence(&minimized.warnings);
    let incomplete = skipped.is_some();
    let (first_day, last_day) = identity.window.days();
    findings.push(Finding {
        id: ID,
        severity: if risky == 0 {
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
            "{} of {} granted actions were not used between {first_day} and {last_day} ({} write or permissions-management): {listed}",
            counts.unused,
            counts.granted,
            risky,
        ),
        evidence: std::iter::once(Evidence {
            source: "audit logs".into(),
            detail: format!(
                "{} used, {} unobservable (kept), {} unused",
                counts.used, counts.unobservable, counts.unused
            ),
        })
        .chain(skipped)
        .collect(),
        remediation: format!(
            "apply the proven policy from `pipeleash minimize {}`",
            identity.audit.identity.id.native()
        ),
    });
}
