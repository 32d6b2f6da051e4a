//! `pipeleash drift --format json` (and the `drift` section of `audit --format json`): what
//! changed between two snapshots; and `pipeleash drift --iac … --format json`: the roles of
//! Terraform code against a live snapshot. Both are AWS-only.

use crate::aws::drift::iac::IacDifference;
use crate::aws::drift::render::SnapshotRef;
use crate::aws::drift::{
    Change, DRIFT_FORMAT_VERSION, Drift, FindingChange, PermissionDelta, PolicyChange, TrustChange,
};
use crate::model::Severity;
use serde::Serialize;

/// The `--format json` shape of `pipeleash drift`.
#[derive(Debug, Serialize)]
pub struct DriftView<'a> {
    format_version: u32,
    from: SnapshotRefView<'a>,
    to: SnapshotRefView<'a>,
    /// The worst severity of any change; `null` when nothing changed.
    severity: Option<Severity>,
    usage_compared: bool,
    summary: SummaryView,
    identities: Vec<IdentityView<'a>>,
}

/// Where a compared snapshot came from: its directory as given and its manifest's
/// `created_at` (RFC 3339, UTC).
#[derive(Debug, Serialize)]
pub struct SnapshotRefView<'a> {
    path: &'a str,
    created_at: &'a str,
}

/// How many identities show each kind of change.
#[derive(Debug, Default, Serialize)]
pub struct SummaryView {
    identities_added: usize,
    identities_removed: usize,
    identities_changed: usize,
    grants_widened: usize,
    grants_narrowed: usize,
    trust_widened: usize,
    findings_new: usize,
    findings_resolved: usize,
}

/// One identity that was added, removed or changed.
#[derive(Debug, Serialize)]
pub struct IdentityView<'a> {
    identity: &'a str,
    kind: &'a str,
    account: &'a str,
    change: &'a str,
    severity: Severity,
    policies_attached: Vec<PolicyView<'a>>,
    policies_detached: Vec<PolicyView<'a>>,
    widened: DeltaView<'a>,
    narrowed: DeltaView<'a>,
    trust_added: Vec<TrustView<'a>>,
    trust_removed: Vec<TrustView<'a>>,
    newly_used: &'a [String],
    newly_unused: &'a [String],
    findings_new: Vec<FindingView<'a>>,
    findings_resolved: Vec<FindingView<'a>>,
}

/// A policy attached or detached.
#[derive(Debug, Serialize)]
pub struct PolicyView<'a> {
    policy: &'a str,
    attachment: &'a str,
}

/// Permissions granted anew, on more resources, or without a condition they had.
#[derive(Debug, Serialize)]
pub struct DeltaView<'a> {
    newly_granted: &'a [String],
    on_more_resources: Vec<ResourcesView<'a>>,
    conditions_dropped: Vec<ResourcesView<'a>>,
}

/// An action and the resources a change concerns.
#[derive(Debug, Serialize)]
pub struct ResourcesView<'a> {
    action: &'a str,
    resources: &'a [String],
}

/// A trust added or removed.
#[derive(Debug, Serialize)]
pub struct TrustView<'a> {
    severity: Severity,
    kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    issuer: &'a str,
    value: &'a str,
    wildcard: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    admits: &'a str,
}

/// A finding new or resolved since the earlier snapshot.
#[derive(Debug, Serialize)]
pub struct FindingView<'a> {
    severity: Severity,
    check: &'a str,
    subject: &'a str,
    message: &'a str,
}

impl<'a> DriftView<'a> {
    /// The view of `drift` from the snapshot `from` to the snapshot `to`.
    pub fn new(drift: &'a Drift, from: &'a SnapshotRef, to: &'a SnapshotRef) -> Self {
        let mut summary = SummaryView::default();
        for identity in &drift.identities {
            match identity.change {
                Change::Added => summary.identities_added += 1,
                Change::Removed => summary.identities_removed += 1,
                Change::Changed => summary.identities_changed += 1,
            }
            summary.grants_widened += usize::from(!identity.widened.is_empty());
            summary.grants_narrowed += usize::from(!identity.narrowed.is_empty());
            summary.trust_widened += usize::from(!identity.trust_added.is_empty());
            summary.findings_new += identity.findings_new.len();
            summary.findings_resolved += identity.findings_resolved.len();
        }
        DriftView {
            format_version: DRIFT_FORMAT_VERSION,
            from: snapshot_ref(from),
            to: snapshot_ref(to),
            severity: drift.severity(),
            usage_compared: drift.usage_compared,
            summary,
            identities: drift
                .identities
                .iter()
                .map(|identity| IdentityView {
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

fn snapshot_ref(snapshot: &SnapshotRef) -> SnapshotRefView<'_> {
    SnapshotRefView {
        path: &snapshot.path,
        created_at: &snapshot.created_at,
    }
}

fn delta(delta: &PermissionDelta) -> DeltaView<'_> {
    DeltaView {
        newly_granted: &delta.newly_granted,
        on_more_resources: delta
            .on_more_resources
            .iter()
            .map(|(action, resources)| ResourcesView { action, resources })
            .collect(),
        conditions_dropped: delta
            .conditions_dropped
            .iter()
            .map(|(action, resources)| ResourcesView { action, resources })
            .collect(),
    }
}

fn trust(changes: &[TrustChange]) -> Vec<TrustView<'_>> {
    changes
        .iter()
        .map(|change| TrustView {
            severity: change.severity,
            kind: change.kind,
            issuer: &change.issuer,
            value: &change.value,
            wildcard: change.wildcard,
            admits: &change.admits,
        })
        .collect()
}

fn findings(changes: &[FindingChange]) -> Vec<FindingView<'_>> {
    changes
        .iter()
        .map(|change| FindingView {
            severity: change.severity,
            check: &change.check,
            subject: &change.subject,
            message: &change.message,
        })
        .collect()
}

fn policies(changes: &[PolicyChange]) -> Vec<PolicyView<'_>> {
    changes
        .iter()
        .map(|change| PolicyView {
            policy: &change.policy,
            attachment: &change.attachment,
        })
        .collect()
}

/// The `--format json` shape of `pipeleash drift --iac`: the Terraform code against the live
/// snapshot, one entry per difference.
#[derive(Debug, Serialize)]
pub struct IacDriftView<'a> {
    format_version: u32,
    kind: &'static str,
    code: String,
    live: String,
    roles_in_code: usize,
    differences: Vec<IacDifferenceView<'a>>,
}

/// One difference between the code and the live account.
#[derive(Debug, Serialize)]
pub struct IacDifferenceView<'a> {
    kind: &'static str,
    severity: Severity,
    role: &'a str,
    detail: String,
}

impl<'a> IacDriftView<'a> {
    /// The view of the differences `rows` (with their severities, in the order to print)
    /// between the code at `code` (`roles_in_code` roles) and the snapshot at `live`.
    pub fn new(
        code: String,
        live: String,
        roles_in_code: usize,
        rows: &[(Severity, &'a IacDifference)],
    ) -> Self {
        IacDriftView {
            format_version: 1,
            kind: "iac-drift",
            code,
            live,
            roles_in_code,
            differences: rows
                .iter()
                .map(|(severity, difference)| IacDifferenceView {
                    kind: difference.kind(),
                    severity: *severity,
                    role: difference.role(),
                    detail: difference.detail(),
                })
                .collect(),
        }
    }
}
