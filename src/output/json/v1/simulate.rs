//! `pipeleash policy simulate --format json`: one request decided against a set of AWS
//! policies, with the statements and layers behind the decision.

use crate::aws::eval::LayerResult;
use crate::aws::{Decision, DecisionKind, LayerSummary, Request, RequiredResourcePolicy};
use serde::Serialize;

/// The `--format json` shape of `policy simulate`.
#[derive(Serialize)]
pub struct SimulationView {
    version: u32,
    /// `allowed`, `explicitly-denied`, `implicitly-denied` or `conditional`.
    decision: &'static str,
    request: RequestView,
    statements: Vec<StatementView>,
    layers: Vec<LayerView>,
    missing_context_keys: Vec<String>,
    cross_account: bool,
    /// `key policy` or `trust policy` when that resource policy must allow the principal
    /// itself; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy_required: Option<&'static str>,
    /// What the decision assumed for lack of input (a default key policy, an unknown key).
    notes: Vec<String>,
}

/// The request as decided.
#[derive(Serialize)]
pub struct RequestView {
    principal: String,
    action: String,
    resource: String,
    resource_account: Option<String>,
}

/// A statement behind the decision.
#[derive(Serialize)]
pub struct StatementView {
    effect: String,
    policy: String,
    kind: String,
    statement: usize,
    sid: Option<String>,
}

/// What one policy layer said.
#[derive(Serialize)]
pub struct LayerView {
    layer: String,
    result: &'static str,
}

impl SimulationView {
    /// The view of `decision` on `request`, with the `notes` on what it assumed;
    /// `trust_policy_missing` as in [`layer_rows`].
    pub fn new(
        request: &Request,
        decision: &Decision,
        notes: &[String],
        trust_policy_missing: bool,
    ) -> Self {
        SimulationView {
            version: 1,
            decision: match decision.outcome {
                DecisionKind::Allowed => "allowed",
                DecisionKind::ExplicitDeny => "explicitly-denied",
                DecisionKind::ImplicitDeny => "implicitly-denied",
                DecisionKind::Conditional { .. } => "conditional",
            },
            request: RequestView {
                principal: request.principal_arn.clone(),
                action: request.action.clone(),
                resource: request.resource.clone(),
                resource_account: request.resource_account.clone(),
            },
            statements: decision
                .reasons
                .iter()
                .map(|reason| StatementView {
                    effect: reason.effect.to_string(),
                    policy: reason.policy.clone(),
                    kind: reason.kind.to_string(),
                    statement: reason.statement,
                    sid: reason.sid.clone(),
                })
                .collect(),
            layers: layer_rows(&decision.layers, trust_policy_missing)
                .into_iter()
                .map(|(layer, result)| LayerView { layer, result })
                .collect(),
            missing_context_keys: match &decision.outcome {
                DecisionKind::Conditional { missing_keys } => missing_keys.clone(),
                _ => Vec::new(),
            },
            cross_account: decision.layers.cross_account,
            resource_policy_required: decision
                .layers
                .resource_policy_required
                .map(RequiredResourcePolicy::as_str),
            notes: notes.to_vec(),
        }
    }
}

fn layer_name(result: LayerResult) -> &'static str {
    match result {
        LayerResult::Allows => "allows",
        LayerResult::DoesNotAllow => "does not allow",
        LayerResult::Unknown => "unknown",
    }
}

/// Which layers said what, in evaluation order (`("identity policies", "allows")`); explains
/// an implicit deny. The table of `policy simulate` prints the same rows.
/// `trust_policy_missing`: no trust policy was given for a request that needs one, so the
/// resource layer reads "trust policy not given" rather than a verdict on a policy.
pub fn layer_rows(
    layers: &LayerSummary,
    trust_policy_missing: bool,
) -> Vec<(String, &'static str)> {
    let mut rows = vec![("identity policies".to_string(), layer_name(layers.identity))];
    if let Some(result) = layers.boundary {
        rows.push(("permissions boundary".into(), layer_name(result)));
    }
    for (level, result) in layers.service_control.iter().enumerate() {
        rows.push((format!("SCP level {}", level + 1), layer_name(*result)));
    }
    if let Some(result) = layers.session {
        rows.push(("session policies".into(), layer_name(result)));
    }
    if let Some(result) = layers.resource {
        let text = if trust_policy_missing {
            "trust policy not given"
        } else {
            layer_name(result)
        };
        rows.push(("resource policy".into(), text));
    }
    rows
}
