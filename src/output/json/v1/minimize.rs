//! `pipeleash minimize --format json` for AWS: the proven smallest policies, what they leave
//! out, and with `--explain` the evidence per action.

pub mod azure;
pub mod gcp;

use super::common::WindowView;
use crate::aws::minimize::{ActionDecision, Minimized, Reason};
use crate::catalog::Catalog;
use serde::Serialize;

/// The `--format json` shape of `pipeleash minimize` (`format: pipeleash-minimize/v1`).
#[derive(Debug, Serialize)]
pub struct MinimizeView {
    format: &'static str,
    window: WindowView,
    policies: Vec<PolicyView>,
    warnings: Vec<String>,
    missing_permissions: Vec<MissingView>,
    proof: ProofView,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Vec<DecisionView>>,
}

#[derive(Debug, Serialize)]
pub struct PolicyView {
    name: String,
    size: usize,
    document: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct MissingView {
    action: String,
    resource: String,
    denied_count: u64,
    first_seen: String,
    last_seen: String,
    workloads: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ProofView {
    usage_rows_replayed: usize,
    pairs_subsumed: usize,
    representatives_checked: usize,
}

#[derive(Debug, Serialize)]
pub struct DecisionView {
    action: String,
    access_level: String,
    decision: &'static str,
    reasons: Vec<String>,
    granted_by: Vec<String>,
}

impl MinimizeView {
    /// With `catalog` (the one `minimize` ran with), the explanation: one entry per action,
    /// the grouped unused actions listed one by one, sorted by action.
    pub fn new(result: &Minimized, catalog: Option<&Catalog>) -> anyhow::Result<MinimizeView> {
        let explanation = match catalog {
            Some(catalog) => Some(explanation(result, catalog)?),
            None => None,
        };
        Ok(MinimizeView {
            format: "pipeleash-minimize/v1",
            window: WindowView {
                since: result.window.since.to_rfc3339(),
                until: result.window.until.to_rfc3339(),
            },
            policies: result
                .policies
                .iter()
                .map(|policy| PolicyView {
                    name: policy.name.clone(),
                    size: policy.size,
                    document: policy.document.to_json(),
                })
                .collect(),
            warnings: result.warnings.iter().map(ToString::to_string).collect(),
            missing_permissions: result
                .missing_permissions
                .iter()
                .map(|missing| MissingView {
                    action: missing.action.clone(),
                    resource: missing.resource.clone(),
                    denied_count: missing.denied_count,
                    first_seen: missing.first_seen.to_rfc3339(),
                    last_seen: missing.last_seen.to_rfc3339(),
                    workloads: missing.workloads.clone(),
                })
                .collect(),
            proof: ProofView {
                usage_rows_replayed: result.proof.usage_rows_replayed,
                pairs_subsumed: result.proof.pairs_subsumed,
                representatives_checked: result.proof.representatives_checked,
            },
            explanation,
        })
    }
}

fn explanation(result: &Minimized, catalog: &Catalog) -> anyhow::Result<Vec<DecisionView>> {
    let mut entries: Vec<DecisionView> = result
        .decisions
        .iter()
        .map(|decision| DecisionView {
            action: decision.action.clone(),
            access_level: level(decision),
            decision: if decision.kept { "kept" } else { "dropped" },
            reasons: decision.reasons.iter().map(reason_text).collect(),
            granted_by: decision
                .granted_by
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
        .collect();
    for group in &result.unused {
        let actions = group.actions(catalog).ok_or_else(|| {
            anyhow::anyhow!(
                "the unused actions were grouped against another catalog; please report this"
            )
        })?;
        let granted_by: Vec<String> = group.granted_by.iter().map(ToString::to_string).collect();
        entries.extend(actions.into_iter().map(|action| DecisionView {
            action: action.name.clone(),
            access_level: action.access_level.to_string(),
            decision: "dropped",
            reasons: vec![NOT_USED.to_string()],
            granted_by: granted_by.clone(),
        }));
    }
    entries.sort_by(|a, b| a.action.cmp(&b.action));
    Ok(entries)
}

/// The access level of an action as printed (`Write`), `unknown` when the catalog has none.
pub fn level(decision: &ActionDecision) -> String {
    decision
        .access_level
        .map_or_else(|| "unknown".to_string(), |level| level.to_string())
}

/// Why an action was kept or dropped, in one sentence (the JSON explanation and the
/// evidence table say the same).
pub fn reason_text(reason: &Reason) -> String {
    match reason {
        Reason::Used(evidence) => format!(
            "used {} time(s), {} .. {}, by {}; on {}",
            evidence.allowed_count,
            evidence.first_seen.to_rfc3339(),
            evidence.last_seen.to_rfc3339(),
            if evidence.workloads.is_empty() {
                "unknown workloads".to_string()
            } else {
                evidence
                    .workloads
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            evidence
                .resources
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Reason::Unobservable { reason } => format!("kept, unobservable: {reason}"),
        Reason::ResourceNotRecorded => {
            "kept on the original resources: the logs do not name the resource".to_string()
        }
        Reason::UnobservableDropped { reason } => {
            format!("dropped on request though unobservable: {reason}")
        }
        Reason::Unused => NOT_USED.to_string(),
        Reason::UsedButNotGranted { resources } => format!(
            "used but not allowed by the current policies on {}",
            resources.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
        Reason::NotInCatalog => "not in the catalog; kept".to_string(),
    }
}

/// The evidence of an unused action.
pub const NOT_USED: &str = "not used in the window";
