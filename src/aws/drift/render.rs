//! A drift report as Markdown or the rows of a table (its JSON view is
//! `crate::output::json::v1::drift`).

use super::{Drift, IdentityDrift, TrustChange};
use crate::model::Severity;

/// Where the compared snapshots came from, for the report's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRef {
    /// The snapshot directory as given.
    pub path: String,
    /// Its manifest's `created_at` (RFC 3339, UTC).
    pub created_at: String,
}

/// How many items a line shows before `… and N more`.
const SHOWN: usize = 5;

fn some(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(", … and {} more", items.len() - SHOWN));
    }
    text
}

/// One line per change of an identity: (severity, what, detail). Shared by the table and
/// Markdown renderings.
pub fn lines(identity: &IdentityDrift) -> Vec<(Severity, &'static str, String)> {
    let mut lines = Vec::new();
    match identity.change {
        super::Change::Added => lines.push((
            identity.severity,
            "identity added",
            format!("{} {}", identity.kind, identity.identity),
        )),
        super::Change::Removed => lines.push((
            Severity::Info,
            "identity removed",
            format!("{} {}", identity.kind, identity.identity),
        )),
        super::Change::Changed => {}
    }
    for policy in &identity.policies_attached {
        lines.push((
            Severity::Low,
            "policy attached",
            format!("{} `{}`", policy.attachment, policy.policy),
        ));
    }
    for policy in &identity.policies_detached {
        lines.push((
            Severity::Info,
            "policy detached",
            format!("{} `{}`", policy.attachment, policy.policy),
        ));
    }
    let widened = &identity.widened;
    if !widened.newly_granted.is_empty() {
        lines.push((
            super::widening_severity(widened),
            "grant widened",
            format!(
                "{} action(s) newly granted: {}",
                widened.newly_granted.len(),
                some(&widened.newly_granted)
            ),
        ));
    }
    for (action, resources) in &widened.on_more_resources {
        lines.push((
            super::widening_severity(widened),
            "grant widened",
            format!("`{action}` now on {}", some(resources)),
        ));
    }
    for (action, resources) in &widened.conditions_dropped {
        lines.push((
            super::widening_severity(widened),
            "grant widened",
            format!(
                "`{action}` now without its conditions on {}",
                some(resources)
            ),
        ));
    }
    let narrowed = &identity.narrowed;
    if !narrowed.newly_granted.is_empty() {
        lines.push((
            Severity::Info,
            "grant narrowed",
            format!(
                "{} action(s) no longer granted: {}",
                narrowed.newly_granted.len(),
                some(&narrowed.newly_granted)
            ),
        ));
    }
    for (action, resources) in &narrowed.on_more_resources {
        lines.push((
            Severity::Info,
            "grant narrowed",
            format!("`{action}` no longer on {}", some(resources)),
        ));
    }
    for (action, resources) in &narrowed.conditions_dropped {
        lines.push((
            Severity::Info,
            "grant narrowed",
            format!(
                "`{action}` now only under conditions on {}",
                some(resources)
            ),
        ));
    }
    for change in &identity.trust_added {
        lines.push((change.severity, "trust added", trust_text(change)));
    }
    for change in &identity.trust_removed {
        lines.push((change.severity, "trust removed", trust_text(change)));
    }
    if !identity.newly_used.is_empty() {
        lines.push((Severity::Info, "newly used", some(&identity.newly_used)));
    }
    if !identity.newly_unused.is_empty() {
        lines.push((Severity::Low, "newly unused", some(&identity.newly_unused)));
    }
    for finding in &identity.findings_new {
        lines.push((
            finding.severity,
            "finding new",
            format!("{}: {}", finding.check, finding.message),
        ));
    }
    for finding in &identity.findings_resolved {
        lines.push((
            Severity::Info,
            "finding resolved",
            format!("{}: {}", finding.check, finding.message),
        ));
    }
    lines
}

fn trust_text(change: &TrustChange) -> String {
    if change.kind == "subject" {
        let wildcard = if change.wildcard { "wildcard " } else { "" };
        format!(
            "{wildcard}subject `{}` of `{}`: admits {}",
            change.value, change.issuer, change.admits
        )
    } else {
        format!("{} `{}`", change.kind, change.value)
    }
}

/// The report as Markdown: a heading, a summary line, one section per identity.
pub fn markdown(drift: &Drift, from: &SnapshotRef, to: &SnapshotRef) -> String {
    let mut out = format!(
        "# Drift from `{}` ({}) to `{}` ({})\n\n",
        from.path, from.created_at, to.path, to.created_at
    );
    match drift.severity() {
        None => out.push_str("No drift.\n"),
        Some(severity) => out.push_str(&format!(
            "{} identit{} changed; worst severity: **{severity}**.{}\n",
            drift.identities.len(),
            if drift.identities.len() == 1 {
                "y"
            } else {
                "ies"
            },
            if drift.usage_compared {
                ""
            } else {
                " Usage was not compared (a snapshot holds none)."
            }
        )),
    }
    for identity in &drift.identities {
        out.push_str(&format!(
            "\n## {} `{}` ({}, account {})\n\n| severity | change | detail |\n|---|---|---|\n",
            identity.kind,
            identity.identity,
            identity.change.as_str(),
            identity.account
        ));
        for (severity, what, detail) in lines(identity) {
            out.push_str(&format!(
                "| {severity} | {what} | {} |\n",
                detail.replace('|', "\\|")
            ));
        }
    }
    out
}
