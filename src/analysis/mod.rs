//! The analysis of one cloud's identities in provider-neutral terms: per identity, who can
//! become it, how many permissions it is granted, used, did not use, could not be observed,
//! and was denied, its findings, and the proven smallest grant — the shape `analyze` and
//! `audit` print for every cloud.
//!
//! Each cloud fills an [`Analysis`] from its own inventory and usage (`aws::analysis`,
//! `gcp::analysis`, `azure::analysis`), reached through one dispatch ([`analyze`] over
//! [`Evidence`]), so the command line holds no per-cloud analysis. AWS reads its counts off
//! the proven minimization of each identity ([`crate::aws::audit`]).
//!
//! Pure: inputs are arguments, the window and `now` are given, output is sorted.

use crate::model::{Finding, Identity, IdentityId, ObservationWindow, Provider, Trust};
use chrono::{DateTime, Utc};

/// An identity's permissions by what the evidence says about them. Units are distinct
/// permissions (AWS actions, GCP permissions, Azure operations).
/// Printed through `output::json::v1::analysis::CountsView`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Permissions the current grants give (on some resource).
    pub granted: usize,
    /// Granted permissions with allowed calls in the window.
    pub used: usize,
    /// Granted, observable, never called in the window.
    pub unused: usize,
    /// Granted, but the logs read could not have shown a call.
    pub unobservable: usize,
    /// Distinct permissions whose calls were denied.
    pub denied: usize,
}

/// The smallest grant proposed for one identity, already proven (never broaden, never drop)
/// and rendered in the provider's own apply format.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The provider's JSON rendering (custom roles and bindings, role definitions and
    /// assignments), as `minimize --format json` prints it.
    pub json: serde_json::Value,
    /// One line per new role or grant, for the table.
    pub summary: Vec<String>,
    /// What the proofs checked: (permission, scope) pairs shown granted today, and
    /// (permission, resource) pairs used and still allowed.
    pub proof_never_broaden: usize,
    pub proof_never_drop: usize,
}

/// What one identity's analysis found.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityAnalysis {
    pub identity: Identity,
    /// Who can become the identity (federated workloads, impersonators, keys).
    pub trusts: Vec<Trust>,
    /// A grant of the identity could not be read (a denied call while collecting): what it
    /// is granted is a lower bound.
    pub incomplete: bool,
    /// When the provider last saw the identity used, from the inventory, if it records it.
    pub last_used: Option<DateTime<Utc>>,
    /// `None`: the use of this identity is unknown (no logs were read for its container),
    /// so nothing is called unused and nothing is minimized.
    pub counts: Option<Counts>,
    /// Findings about this identity, sorted most severe first.
    pub findings: Vec<Finding>,
    /// The proven smallest grant (`audit` only, identities with unused permissions), or why
    /// there is none (the error's message).
    pub proposal: Option<Result<Proposal, String>>,
}

/// The analysis of every identity of one cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub provider: Provider,
    pub window: ObservationWindow,
    /// Where the usage came from (`GCP audit logs `./sink``), `None` without logs.
    pub usage: Option<String>,
    /// One line on what was read: sources read and skipped, records in the window.
    pub usage_summary: Option<String>,
    /// Sorted by identity id.
    pub identities: Vec<IdentityAnalysis>,
    /// Findings about no single identity (a Workload Identity provider, a federated credential
    /// of an application with no service principal collected), sorted.
    pub findings: Vec<Finding>,
    /// What the logs read could and could not show, one sentence each; empty without logs.
    pub coverage: Vec<String>,
    /// Principals with usage that are not in the inventory, sorted.
    pub usage_of_unknown_identities: Vec<String>,
}

impl Analysis {
    /// Every finding, with the identity it concerns (`None` for provider-level findings).
    pub fn all_findings(&self) -> impl Iterator<Item = (Option<&IdentityAnalysis>, &Finding)> {
        self.identities
            .iter()
            .flat_map(|identity| {
                identity
                    .findings
                    .iter()
                    .map(move |finding| (Some(identity), finding))
            })
            .chain(self.findings.iter().map(|finding| (None, finding)))
    }

    /// Files each finding under the identity it names (or with the provider-level findings
    /// when it names none, or one this analysis does not hold), then sorts every list most
    /// severe first and drops exact duplicates.
    pub fn attach_findings(
        &mut self,
        findings: impl IntoIterator<Item = (Option<IdentityId>, Finding)>,
    ) {
        for (identity, finding) in findings {
            let slot = identity.and_then(|id| {
                self.identities
                    .iter_mut()
                    .find(|analysis| analysis.identity.id == id)
            });
            match slot {
                Some(analysis) => analysis.findings.push(finding),
                None => self.findings.push(finding),
            }
        }
        for list in self
            .identities
            .iter_mut()
            .map(|analysis| &mut analysis.findings)
            .chain(std::iter::once(&mut self.findings))
        {
            crate::checks::sort_findings(list);
            list.dedup();
        }
    }
}

/// What `analyze` and `audit` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Propose (and prove) the smallest grant of identities with unused permissions.
    pub propose: bool,
    pub now: DateTime<Utc>,
}

/// The evidence of one cloud, as the command line loaded it.
pub enum Evidence<'a> {
    Aws(crate::aws::analysis::AwsEvidence<'a>),
    Gcp(crate::gcp::analysis::GcpEvidence<'a>),
    Azure(crate::azure::analysis::AzureEvidence<'a>),
}

/// Analyzes one cloud's evidence over `window`. Errors are failures to analyze at all (an
/// embedded table that does not load); what stops one identity's proposal is reported on
/// that identity.
pub fn analyze(
    evidence: &Evidence<'_>,
    window: ObservationWindow,
    options: Options,
) -> anyhow::Result<Analysis> {
    match evidence {
        Evidence::Aws(evidence) => crate::aws::analysis::analyze(evidence, window, options),
        Evidence::Gcp(evidence) => crate::gcp::analysis::analyze(evidence, window, options),
        Evidence::Azure(evidence) => crate::azure::analysis::analyze(evidence, window, options),
    }
}
