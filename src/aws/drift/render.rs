//! A drift report as JSON (versioned), Markdown, or the rows of a table.

use super::{
    DRIFT_FORMAT_VERSION, Drift, FindingChange, IdentityDrift, PermissionDelta, TrustChange,
};
use crate::model::Severity;
use serde::Serialize;

/// Where the compared snapshots came from, for the report's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRef {
    /// The snapshot directory as given.
    pub path: String,
    /// Its manifest's `created_at` (RFC 3339, UTC).
    pub created_at: String,
}

/// The `--format json` shape of `pipeleash drift`, version 1.
#[derive(Debug, Serialize)]
pub struct DriftV1<'a> {
    pub format_version: u32,
    pub from: &'a SnapshotRef,
    pub to: &'a SnapshotRef,
    /// The worst severity of any change; `null` when nothing changed.
    pub severity: Option<Severity>,
    pub usage_compared: bool,
    pub summary: SummaryV1,
    pub identities: Vec<IdentityV1<'a>>,
}

/// How many identities show each kind of change.
#[derive(Debug, Default, Serialize)]
pub struct SummaryV1 {
    pub identities_added: usize,
    pub identities_removed: usize,
    pub identities_changed: usize,
    pub grants_widened: usize,
    pub grants_narrowed: usize,
    pub trust_widened: usize,
    pub findings_new: usize,
    pub findings_resolved: usize,
}

#[derive(Debug, Serialize)]
pub struct IdentityV1<'a> {
    pub identity: &'a str,
    pub kind: &'a str,
    pub account: &'a str,
    pub change: &'a str,
    pub severity: Severity,
    pub policies_attached: Vec<PolicyV1<'a>>,
    pub policies_detached: Vec<PolicyV1<'a>>,
    pub widened: DeltaV1<'a>,
    pub narrowed: DeltaV1<'a>,
    pub trust_added: Vec<TrustV1<'a>>,
    pub trust_removed: Vec<TrustV1<'a>>,
    pub newly_used: &'a [String],
    pub newly_unused: &'a [String],
    pub findings_new: Vec<FindingV1<'a>>,
    pub findings_resolved: Vec<FindingV1<'a>>,
}

#[derive(Debug, Serialize)]
pub struct PolicyV1<'a> {
    pub policy: &'a str,
    pub attachment: &'a str,
}

#[derive(Debug, Serialize)]
pub struct DeltaV1<'a> {
    pub newly_granted: &'a [String],
    pub on_more_resources: Vec<ResourcesV1<'a>>,
    pub conditions_dropped: Vec<ResourcesV1<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ResourcesV1<'a> {
    pub action: &'a str,
    pub resources: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct TrustV1<'a> {
    pub severity: Severity,
    pub kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub issuer: &'a str,
    pub value: &'a str,
    pub wildcard: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub admits: &'a str,
}

#[derive(Debug, Serialize)]
pub struct FindingV1<'a> {
    pub severity: Severity,
    pub check: &'a str,
    pub subject: &'a str,
    pub message: &'a str,
}

fn delta(delta: &PermissionDelta) -> DeltaV1<'_> {
    DeltaV1 {
        newly_granted: &delta.newly_granted,
        on_more_resources: delta
            .on_more_resources
            .iter()
            .map(|(action, resources)| ResourcesV1 { action, resources })
            .collect(),
        conditions_dropped: delta
            .conditions_dropped
            .iter()
            .map(|(action, resources)| ResourcesV1 { action, resources })
            .collect(),
    }
}

fn trust(changes: &[TrustChange]) -> Vec<TrustV1<'_>> {
    changes
        .iter()
        .map(|change| TrustV1 {
            severity: change.severity,
            kind: change.kind,
            issuer: &change.issuer,
            value: &change.value,
            wildcard: change.wildcard,
            admits: &change.admits,
        })
        .collect()
}

fn findings(changes: &[FindingChange]) -> Vec<FindingV1<'_>> {
    changes
        .iter()
        .map(|change| FindingV1 {
            severity: change.severity,
            check: &change.check,
            subject: &change.subject,
            message: &change.message,
        })
        .collect()
}

impl<'a> DriftV1<'a> {
    pub fn new(drift: &'a Drift, from: &'a SnapshotRef, to: &'a SnapshotRef) -> Self {
        let mut summary = SummaryV1::default();
        for identity in &drift.identities {
            match identity.change {
                super::Change::Added => summary.identities_added += 1,
                super::Change::Removed => summary.identities_removed += 1,
                super::Change::Changed => summary.identities_changed += 1,
            }
            summary.grants_widened += usize::from(!identity.widened.is_empty());
            summary.grants_narrowed += usize::from(!identity.narrowed.is_empty());
            summary.trust_widened += usize::from(!identity.trust_added.is_empty());
            summary.findings_new += identity.findings_new.len();
            summary.findings_resolved += identity.findings_resolved.len();
        }
        DriftV1 {
            format_version: DRIFT_FORMAT_VERSION,
            from,
            to,
            severity: drift.severity(),
            usage_compared: drift.usage_compared,
            summary,
            identities: drift
                .identities
                .iter()
                .map(|identity| IdentityV1 {
                    identity: &identity.identity,
                    kind: identity.kind,
                    account: &identity.account,
                    change: identity.change.as_str(),
                    severity: identity.severity,
                    policies_attached: policies(&identity.policies_attached),
                    policies_detached: policies(&identity.policies_detached),
                    widened: delta(&identity.widened),
                    narrowed: delta(&identity.narrowed),
                    trust_added: trust(&identity.trust_added),
                    trust_removed: trust(&identity.trust_removed),
                    newly_used: &identity.newly_used,
                    newly_unused: &identity.newly_unused,
                    findings_new: findings(&identity.findings_new),
                    findings_resolved: findings(&identity.findings_resolved),
                })
                .collect(),
        }
    }
}

fn policies(changes: &[super::PolicyChange]) -> Vec<PolicyV1<'_>> {
    changes
        .iter()
        .map(|change| PolicyV1 {
            policy: &change.policy,
            attachment: &change.attachment,
        })
        .collect()
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
