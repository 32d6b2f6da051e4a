//! `pipeleash analyze --format json` and `pipeleash audit --format json`: the AWS identities
//! at the top level (the first cloud of version 1), GCP and Azure in `clouds`, each identity
//! in the same shape, and the drift since the previous snapshot (`audit --config`).

use super::common::WindowView;
use super::drift::DriftView;
use super::finding::FindingView;
use crate::analysis::{Analysis, Counts, IdentityAnalysis};
use crate::model::Provider;
use crate::output::{rfc3339, trust_summary};
use serde::Serialize;

/// The `--format json` shape of `analyze`/`audit`.
#[derive(Serialize)]
pub struct AnalysisView<'a> {
    version: u32,
    window: WindowView,
    /// Where the usage came from; `null` when there was none.
    usage: Option<String>,
    coverage: Vec<String>,
    /// AWS identities (the first cloud of version 1).
    identities: Vec<IdentityView>,
    /// GCP and Azure, each with the same per-identity shape; left out when neither is given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    clouds: Vec<CloudView>,
    /// What changed since the store's previous snapshot (`audit --config` with a store of two
    /// or more); left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<DriftView<'a>>,
}

/// One AWS identity.
#[derive(Serialize)]
pub struct IdentityView {
    identity: String,
    kind: &'static str,
    account: String,
    owner: Option<String>,
    trusted_by: String,
    incomplete: bool,
    last_used: Option<String>,
    /// `null` when no usage was ingested.
    counts: Option<CountsView>,
    minimize_error: Option<String>,
    findings: Vec<FindingView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimized_policies: Option<Vec<serde_json::Value>>,
}

/// An identity's permissions by what the evidence says about them (distinct permissions).
#[derive(Serialize)]
pub struct CountsView {
    granted: usize,
    used: usize,
    unused: usize,
    unobservable: usize,
    denied: usize,
}

impl From<Counts> for CountsView {
    fn from(counts: Counts) -> Self {
        CountsView {
            granted: counts.granted,
            used: counts.used,
            unused: counts.unused,
            unobservable: counts.unobservable,
            denied: counts.denied,
        }
    }
}

impl<'a> AnalysisView<'a> {
    /// The view of the AWS analysis `aws` (its coverage only when AWS evidence was given,
    /// `has_aws`), the other clouds' analyses `clouds`, and the drift if one was computed.
    /// `with_policies` (`audit`): each identity's proven minimized grant too.
    pub fn new(
        aws: &Analysis,
        has_aws: bool,
        clouds: &[Analysis],
        drift: Option<DriftView<'a>>,
        with_policies: bool,
    ) -> Self {
        AnalysisView {
            version: 1,
            window: WindowView {
                since: rfc3339(aws.window.since),
                until: rfc3339(aws.window.until),
            },
            usage: aws.usage.clone(),
            coverage: if has_aws {
                aws.coverage.clone()
            } else {
                Vec::new()
            },
            identities: aws
                .identities
                .iter()
                .map(|identity| IdentityView::new(identity, with_policies))
                .collect(),
            clouds: clouds
                .iter()
                .map(|cloud| CloudView::new(cloud, with_policies))
                .collect(),
            drift,
        }
    }
}

impl IdentityView {
    fn new(identity: &IdentityAnalysis, with_policies: bool) -> Self {
        IdentityView {
            identity: identity.identity.id.native().to_string(),
            kind: identity.identity.kind.label(),
            account: identity.identity.container.clone(),
            owner: identity.identity.owner.clone(),
            trusted_by: trust_summary(&identity.trusts),
            incomplete: identity.incomplete,
            last_used: identity.last_used.map(rfc3339),
            counts: identity.counts.map(CountsView::from),
            minimize_error: minimize_error(identity),
            findings: identity.findings.iter().map(Into::into).collect(),
            minimized_policies: match &identity.proposal {
                Some(Ok(proposal)) if with_policies => proposal.json.as_array().cloned(),
                _ => None,
            },
        }
    }
}

fn minimize_error(identity: &IdentityAnalysis) -> Option<String> {
    match &identity.proposal {
        Some(Err(error)) => Some(error.clone()),
        _ => None,
    }
}

/// One cloud inside `clouds`.
#[derive(Serialize)]
pub struct CloudView {
    provider: Provider,
    /// Where the usage came from; `null` without logs.
    usage: Option<String>,
    usage_summary: Option<String>,
    coverage: Vec<String>,
    identities: Vec<CloudIdentityView>,
    /// Findings about no single identity.
    findings: Vec<FindingView>,
    usage_of_unknown_identities: Vec<String>,
}

/// One GCP or Azure identity.
#[derive(Serialize)]
pub struct CloudIdentityView {
    identity: String,
    kind: &'static str,
    display_name: String,
    container: String,
    owner: Option<String>,
    trusted_by: String,
    incomplete: bool,
    last_used: Option<String>,
    /// `null` when the identity's use is unknown.
    counts: Option<CountsView>,
    minimize_error: Option<String>,
    findings: Vec<FindingView>,
    /// The proven smallest grant in the provider's own shape (`audit` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    minimized: Option<serde_json::Value>,
}

impl CloudView {
    /// The view of one cloud's analysis; `with_proposals` (`audit`): each identity's proven
    /// smallest grant too.
    pub fn new(analysis: &Analysis, with_proposals: bool) -> CloudView {
        CloudView {
            provider: analysis.provider,
            usage: analysis.usage.clone(),
            usage_summary: analysis.usage_summary.clone(),
            coverage: analysis.coverage.clone(),
            identities: analysis
                .identities
                .iter()
                .map(|identity| CloudIdentityView {
                    identity: identity.identity.id.native().to_string(),
                    kind: identity.identity.kind.label(),
                    display_name: identity.identity.display_name.clone(),
                    container: identity.identity.container.clone(),
                    owner: identity.identity.owner.clone(),
                    trusted_by: trust_summary(&identity.trusts),
                    incomplete: identity.incomplete,
                    last_used: identity.last_used.map(rfc3339),
                    counts: identity.counts.map(CountsView::from),
                    minimize_error: minimize_error(identity),
                    findings: identity.findings.iter().map(Into::into).collect(),
                    minimized: match &identity.proposal {
                        Some(Ok(proposal)) if with_proposals => Some(proposal.json.clone()),
                        _ => None,
                    },
                })
                .collect(),
            findings: analysis.findings.iter().map(Into::into).collect(),
            usage_of_unknown_identities: analysis.usage_of_unknown_identities.clone(),
        }
    }
}
