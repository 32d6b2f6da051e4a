//! The AWS analysis behind `analyze` and `audit`, in the neutral shape every cloud fills
//! ([`crate::analysis::Analysis`]): per identity, who can become it, what it is granted,
//! used, did not use, could not be observed and was denied (read off its proven
//! minimization, [`crate::aws::audit`]), its findings (identity checks, the policy checks of
//! its own policies and the trust checks, [`crate::aws::checks`]), and the minimized policies
//! as its proposal.
//!
//! Pure: the inventory, usage, catalog and window are arguments; identities come out in the
//! order [`audit`] gives them, findings most severe first.

use crate::analysis::{Analysis, IdentityAnalysis, Options, Proposal};
use crate::aws::audit::{Audit, IdentityAudit, audit};
use crate::aws::checks::{IdentityUnderCheck, PolicyUnderCheck, check_identity, check_policy};
use crate::aws::cloudtrail::CloudTrailUsage;
use crate::aws::escalation::escalation_paths;
use crate::aws::grant::{AwsAttachment, AwsPolicyGrant};
use crate::aws::minimize::MinimizeOptions;
use crate::aws::normalize::NormalizedAws;
use crate::catalog::Catalog;
use crate::checks::sort_findings;
use crate::model::{Finding, GrantBody, ObservationWindow, Provider};
use anyhow::Context as _;
use std::collections::BTreeMap;

/// What the AWS analysis reads: the normalized inventories, the CloudTrail usage when any was
/// read or stored, and where it came from (for the report's header).
pub struct AwsEvidence<'a> {
    pub normalized: &'a NormalizedAws,
    pub usage: Option<&'a CloudTrailUsage>,
    /// `CloudTrail `./logs``, `usage stored in the snapshot`; `None` without usage.
    pub usage_origin: Option<String>,
    pub catalog: &'a Catalog,
}

/// Analyzes every AWS identity of `evidence` over `window`. Every identity with usage is
/// minimized (its counts are read off the minimization), whatever `options.propose` says:
/// printing the policies is the caller's choice. Errors: an embedded table that does not
/// load (the privilege-escalation paths).
pub fn analyze(
    evidence: &AwsEvidence<'_>,
    window: ObservationWindow,
    _options: Options,
) -> anyhow::Result<Analysis> {
    let report = audit(
        evidence.normalized,
        evidence.usage,
        window,
        evidence.catalog,
        &MinimizeOptions::default(),
    );
    let findings = findings_per_identity(&report, evidence)?;
    let coverage = coverage_warnings(&report, evidence.usage);
    let usage_summary = match (evidence.usage, &evidence.usage_origin) {
        (Some(usage), Some(origin)) => Some(format!(
            "{origin}: {} file(s) read, {} skipped, {} event(s) in the window",
            usage.coverage.sources_read,
            usage.coverage.sources_skipped.len(),
            usage.coverage.events_in_window
        )),
        _ => None,
    };
    let Audit {
        window,
        identities,
        usage_of_unknown_identities,
        ..
    } = report;
    Ok(Analysis {
        provider: Provider::Aws,
        window,
        usage: evidence.usage_origin.clone(),
        usage_summary,
        identities: identities
            .into_iter()
            .zip(findings)
            .map(|(audit, findings)| identity_analysis(audit, findings))
            .collect(),
        findings: Vec::new(),
        coverage,
        usage_of_unknown_identities,
    })
}

/// One identity's audit in the neutral shape: counts when it was minimized, the minimized
/// policies (a JSON array of policy documents) as its proposal, or the reason there is none.
fn identity_analysis(audit: IdentityAudit, findings: Vec<Finding>) -> IdentityAnalysis {
    let (counts, proposal) = match audit.minimized {
        Some(Ok(minimized)) => (
            Some(audit.counts),
            Some(Ok(Proposal {
                json: serde_json::Value::Array(
                    minimized
                        .policies
                        .iter()
                        .map(|policy| policy.document.to_json())
                        .collect(),
                ),
                summary: minimized
                    .policies
                    .iter()
                    .map(|policy| policy.name.clone())
                    .collect(),
                proof_never_broaden: minimized.proof.pairs_subsumed,
                proof_never_drop: minimized.proof.usage_rows_replayed,
            })),
        ),
        Some(Err(error)) => (None, Some(Err(error.to_string()))),
        None => (None, None),
    };
    IdentityAnalysis {
        identity: audit.identity,
        trusts: audit.trusts,
        incomplete: audit.incomplete,
        last_used: audit.last_used,
        counts,
        findings,
        proposal,
    }
}

/// The findings of each identity of `report`, in its order: the identity checks, the policy
/// checks of the identity's own policies, and the trust checks, sorted most severe first.
fn findings_per_identity(
    report: &Audit,
    evidence: &AwsEvidence<'_>,
) -> anyhow::Result<Vec<Vec<Finding>>> {
    let paths = escalation_paths().context("cannot load the privilege-escalation table")?;
    let mut trust: BTreeMap<_, Vec<Finding>> = BTreeMap::new();
    for (identity, finding) in crate::aws::checks::trust::trust_findings(
        evidence.normalized,
        evidence.usage,
        evidence.catalog,
        paths,
    ) {
        trust.entry(identity).or_default().push(finding);
    }
    let mut all = Vec::with_capacity(report.identities.len());
    for identity in &report.identities {
        let mut findings = check_identity(&IdentityUnderCheck {
            audit: identity,
            window: report.window,
        });
        for grant in evidence
            .normalized
            .inventory
            .grants_for(&identity.identity.id)
        {
            if let GrantBody::Aws(AwsPolicyGrant {
                policy,
                attachment: AwsAttachment::Identity,
                document,
            }) = &grant.body
            {
                findings.extend(check_policy(&PolicyUnderCheck {
                    name: policy,
                    document,
                    catalog: evidence.catalog,
                    escalation_paths: paths,
                }));
            }
        }
        findings.extend(trust.remove(&identity.identity.id).unwrap_or_default());
        sort_findings(&mut findings);
        all.push(findings);
    }
    Ok(all)
}

/// What the reader must know about the evidence before trusting "unused", one sentence each.
fn coverage_warnings(report: &Audit, usage: Option<&CloudTrailUsage>) -> Vec<String> {
    let mut warnings = Vec::new();
    match usage {
        None => warnings.push(
            "no audit logs were given (`--cloudtrail`) and the snapshot holds no usage: used and unused permissions are unknown, nothing was minimized".to_string(),
        ),
        Some(usage) => {
            if usage.coverage.events_in_window == 0 {
                warnings.push(format!(
                    "the CloudTrail logs read hold no event in the window ({} event(s) outside \
                     it): nothing is known of use, so every permission shows as unused; check \
                     `--since`/`--until` against the logs' dates",
                    usage.coverage.events_read
                ));
            }
            for skipped in &usage.coverage.sources_skipped {
                warnings.push(format!(
                    "log file `{}` was skipped ({}): usage in the window may be missing",
                    skipped.source, skipped.reason
                ));
            }
            if !usage.unknown_events.is_empty() {
                warnings.push(format!(
                    "{} kind(s) of CloudTrail event could not be mapped to an IAM action (see `pipeleash usage`)",
                    usage.unknown_events.len()
                ));
            }
        }
    }
    for account in &report.accounts_without_logs {
        warnings.push(format!(
            "no CloudTrail event of account {account} was read: the use of its identities is \
             unknown, so they were not minimized; add that account's logs (`AWSLogs/{account}/…`)"
        ));
    }
    if !report.usage_of_unknown_identities.is_empty() {
        warnings.push(format!(
            "the logs show usage by {} identities that are not in the snapshot: {}",
            report.usage_of_unknown_identities.len(),
            report.usage_of_unknown_identities.join(", ")
        ));
    }
    for issue in &report.normalize_issues {
        warnings.push(format!(
            "`{}` ({}): {}",
            issue.subject, issue.account, issue.message
        ));
    }
    warnings
}
