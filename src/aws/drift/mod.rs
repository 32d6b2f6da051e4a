//! Drift: what changed between two snapshots, per AWS identity (GCP and Azure inventories
//! are not compared yet: README, "Drift").
//!
//! Compared: identities added and removed; policies attached and detached; permissions
//! widened or narrowed, decided by the AWS evaluator over the whole policy set (identity
//! policies, boundary, SCPs — see [`grants`]), never by comparing policy text; trusted
//! subjects and principals added or removed, read by the subject judge (see [`trust`]);
//! actions newly used or newly unused, when both snapshots hold usage for the identity's
//! account; findings new and resolved.
//!
//! Every change has a **severity**, and the report's severity is the worst of them; the CLI
//! maps it to the exit code (`docs/drift.md`). Pure: the snapshots come in as
//! [`SnapshotFacts`], the output is sorted and depends on nothing else.

pub mod facts;
pub mod grants;
pub mod iac;
pub mod render;
pub mod trust;

pub use facts::{IdentityFacts, PolicyFact, SnapshotFacts, attachment_name};
pub use grants::{PermissionDelta, widening};
pub use trust::{TrustChange, trust_changes};

use crate::catalog::{AccessLevel, Catalog};
use crate::model::{Finding, Severity};
use std::collections::BTreeSet;

/// The version of the JSON shape of a drift report. Bump on any incompatible change.
pub const DRIFT_FORMAT_VERSION: u32 = 1;

/// How an identity changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// A policy attached to or detached from an identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyChange {
    pub policy: String,
    /// `identity policy`, `permissions boundary`, `service control policy (level N)`.
    pub attachment: String,
}

/// A finding that appeared or went away, keyed by check, subject and severity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FindingChange {
    pub severity: Severity,
    pub check: String,
    pub subject: String,
    pub message: String,
}

/// Everything that changed for one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDrift {
    pub identity: String,
    /// `role` or `user`.
    pub kind: &'static str,
    pub account: String,
    pub change: Change,
    /// The worst severity of the changes below (an added identity: at least `low`; a removed
    /// one: `info`).
    pub severity: Severity,
    pub policies_attached: Vec<PolicyChange>,
    pub policies_detached: Vec<PolicyChange>,
    pub widened: PermissionDelta,
    pub narrowed: PermissionDelta,
    pub trust_added: Vec<TrustChange>,
    pub trust_removed: Vec<TrustChange>,
    /// Actions (lowercase) with allowed calls in the later window and none in the earlier.
    pub newly_used: Vec<String>,
    /// Actions (lowercase) used in the earlier window, not in the later, still granted.
    pub newly_unused: Vec<String>,
    pub findings_new: Vec<FindingChange>,
    pub findings_resolved: Vec<FindingChange>,
}

impl IdentityDrift {
    fn new(identity: &IdentityFacts, change: Change) -> Self {
        IdentityDrift {
            identity: identity.arn.clone(),
            kind: identity.kind,
            account: identity.account.clone(),
            change,
            severity: Severity::Info,
            policies_attached: Vec::new(),
            policies_detached: Vec::new(),
            widened: PermissionDelta::default(),
            narrowed: PermissionDelta::default(),
            trust_added: Vec::new(),
            trust_removed: Vec::new(),
            newly_used: Vec::new(),
            newly_unused: Vec::new(),
            findings_new: Vec::new(),
            findings_resolved: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.change == Change::Changed
            && self.policies_attached.is_empty()
            && self.policies_detached.is_empty()
            && self.widened.is_empty()
            && self.narrowed.is_empty()
            && self.trust_added.is_empty()
            && self.trust_removed.is_empty()
            && self.newly_used.is_empty()
            && self.newly_unused.is_empty()
            && self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
    }
}

/// The drift between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Identities with any change, sorted by ARN.
    pub identities: Vec<IdentityDrift>,
    /// Whether usage was compared (both snapshots hold usage).
    pub usage_compared: bool,
}

impl Drift {
    /// The worst severity of any change; `None` when nothing changed.
    pub fn severity(&self) -> Option<Severity> {
        self.identities
            .iter()
            .map(|identity| identity.severity)
            .max()
    }
}

/// The severity of a widening: permissions management or write access is `high`, anything
/// else `medium`.
fn widening_severity(delta: &PermissionDelta) -> Severity {
    match delta.access_level {
        Some(AccessLevel::PermissionsManagement | AccessLevel::Write) | None => Severity::High,
        Some(_) => Severity::Medium,
    }
}

fn finding_changes(findings: &[Finding]) -> BTreeSet<FindingChange> {
    findings
        .iter()
        .map(|finding| FindingChange {
            severity: finding.severity,
            check: finding.id.to_string(),
            subject: finding.subject.clone(),
            message: finding.message.clone(),
        })
        .collect()
}

/// Findings of `later` whose (check, subject, severity) `earlier` does not have. The message
/// is not compared: it carries counts that move without the finding changing.
fn new_findings(earlier: &[Finding], later: &[Finding]) -> Vec<FindingChange> {
    let before: BTreeSet<(Severity, &str, &str)> = earlier
        .iter()
        .map(|finding| (finding.severity, finding.id, finding.subject.as_str()))
        .collect();
    finding_changes(later)
        .into_iter()
        .filter(|change| !before.contains(&(change.severity, &change.check, &change.subject)))
        .collect()
}

fn policy_changes(from: &IdentityFacts, to: &IdentityFacts) -> Vec<PolicyChange> {
    let names: BTreeSet<(&str, _)> = from
        .policies
        .iter()
        .map(|policy| (policy.name.as_str(), policy.attachment))
        .collect();
    let mut out: Vec<PolicyChange> = to
        .policies
        .iter()
        .filter(|policy| !names.contains(&(policy.name.as_str(), policy.attachment)))
        .map(|policy| PolicyChange {
            policy: policy.name.clone(),
            attachment: attachment_name(policy.attachment),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The checks whose findings come from usage: compared only when both snapshots hold usage
/// of the identity's account.
const USAGE_CHECKS: [&str; 3] = [
    crate::aws::checks::unused_permissions::ID,
    crate::aws::checks::never_used_identity::ID,
    crate::aws::checks::missing_permissions::ID,
];

/// Compares two snapshots. `catalog` is the AWS catalog the evaluator expands actions with.
pub fn compare(earlier: &SnapshotFacts, later: &SnapshotFacts, catalog: &Catalog) -> Drift {
    let mut identities = Vec::new();
    for (arn, before) in &earlier.identities {
        if !later.identities.contains_key(arn) {
            let mut drift = IdentityDrift::new(before, Change::Removed);
            drift.findings_resolved = finding_changes(&before.findings).into_iter().collect();
            identities.push(drift);
        }
    }
    for (arn, after) in &later.identities {
        let Some(before) = earlier.identities.get(arn) else {
            let mut drift = IdentityDrift::new(after, Change::Added);
            drift.findings_new = finding_changes(&after.findings).into_iter().collect();
            drift.severity = drift
                .findings_new
                .iter()
                .map(|finding| finding.severity)
                .max()
                .unwrap_or(Severity::Low)
                .max(Severity::Low);
            identities.push(drift);
            continue;
        };
        let mut drift = IdentityDrift::new(after, Change::Changed);
        drift.policies_attached = policy_changes(before, after);
        drift.policies_detached = policy_changes(after, before);
        drift.widened = widening(
            arn,
            &after.account,
            &before.policies,
            &after.policies,
            catalog,
        );
        drift.narrowed = widening(
            arn,
            &after.account,
            &after.policies,
            &before.policies,
            catalog,
        );
        (drift.trust_added, drift.trust_removed) = trust_changes(&before.trusts, &after.trusts);
        let usage_known = |facts: &SnapshotFacts| {
            facts
                .usage_accounts
                .as_ref()
                .is_some_and(|accounts| accounts.contains(&after.account))
        };
        if usage_known(earlier) && usage_known(later) {
            drift.newly_used = after.used.difference(&before.used).cloned().collect();
            drift.newly_unused = before
                .used
                .difference(&after.used)
                .filter(|action| still_granted(after, action, catalog))
                .cloned()
                .collect();
        }
        drift.findings_new = new_findings(&before.findings, &after.findings);
        drift.findings_resolved = new_findings(&after.findings, &before.findings);
        if !(usage_known(earlier) && usage_known(later)) {
            // Findings about use say nothing new when one side has no usage: "resolved"
            // would only mean "not evaluated there".
            for changes in [&mut drift.findings_new, &mut drift.findings_resolved] {
                changes.retain(|change| !USAGE_CHECKS.contains(&change.check.as_str()));
            }
        }
        let mut severity = Severity::Info;
        if !drift.policies_attached.is_empty() {
            severity = severity.max(Severity::Low);
        }
        if !drift.widened.is_empty() {
            severity = severity.max(widening_severity(&drift.widened));
        }
        if !drift.newly_unused.is_empty() {
            severity = severity.max(Severity::Low);
        }
        for change in &drift.trust_added {
            severity = severity.max(change.severity);
        }
        for finding in &drift.findings_new {
            severity = severity.max(finding.severity);
        }
        drift.severity = severity;
        if !drift.is_empty() {
            identities.push(drift);
        }
    }
    identities.sort_by(|a, b| a.identity.cmp(&b.identity));
    Drift {
        identities,
        usage_compared: earlier.usage_accounts.is_some() && later.usage_accounts.is_some(),
    }
}

/// Whether `identity`'s policies still grant `action` (lowercase, as used) on some resource:
/// only then is "no longer used" news about a permission.
fn still_granted(identity: &IdentityFacts, action: &str, catalog: &Catalog) -> bool {
    let name = catalog
        .action(action)
        .map_or_else(|| action.to_string(), |entry| entry.name.clone());
    grants::grants_somewhere(
        &identity.arn,
        &identity.account,
        &identity.policies,
        &name,
        catalog,
    )
}

#[cfg(test)]
mod tests;
