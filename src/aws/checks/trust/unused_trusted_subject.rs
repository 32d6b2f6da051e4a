//! **What it finds:** trusted CI subjects that never assumed the role in the observation
//! window, from the `AssumeRoleWithWebIdentity` events in CloudTrail, with a proposed trust
//! policy that admits only the subjects seen.
//!
//! **Why it matters:** every admitted subject is a way in. A pattern admitting all branches
//! when only `main` deploys, or a repository that moved away, widens the trust for nothing.
//! The proposal is evidence-based: it lists exactly the subjects that used the role.
//!
//! **Example:** `gha-deploy-web` trusts `repo:acme/web:*`, `repo:acme/docs:*` and
//! `repo:acme/web:pull_request`; in a week only `repo:acme/web:ref:refs/heads/main` and
//! `repo:acme/docs:ref:refs/heads/main` assumed it.
//!
//! **Remediation:** review the proposed trust policy (in the evidence) and apply it; if the
//! role was not assumed at all, confirm it is unused and delete it. Make sure the window covers
//! a full release cycle first: a quarterly job does not show up in a week. Severity is medium
//! when an unused subject is a wildcard, low otherwise.

use super::{TrustUnderCheck, is_oidc};
use crate::graph::{issuer_host, principal_key};
use crate::model::Outcome;
use crate::model::{
    Confidence, Evidence, Finding, IdentityId, Severity, SubjectConstraint, SubjectPattern,
};
use std::collections::{BTreeMap, BTreeSet};

pub const ID: &str = "unused-trusted-subject";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    let Some(usage) = check.usage else {
        return;
    };
    if usage.coverage.sources_read == 0 {
        return;
    }
    // Subjects seen per role and issuer host.
    let mut seen: BTreeMap<(String, String), BTreeSet<&str>> = BTreeMap::new();
    for session in &usage.web_identity_sessions {
        if session.outcome == Outcome::Allowed {
            seen.entry((
                principal_key(&session.role),
                issuer_host(&session.workload.issuer_url),
            ))
            .or_default()
            .insert(session.workload.subject.as_str());
        }
    }
    for (id, trust) in check.federated() {
        // Unseen subjects say nothing when the role's account had no logs read.
        let account = check
            .normalized
            .inventory
            .identities
            .get(id)
            .map_or("", |identity| identity.container.as_str());
        if !is_oidc(trust) || !usage.covers_account(account) {
            continue;
        }
        let host = issuer_host(&trust.issuer);
        let observed = seen
            .get(&(principal_key(id.native()), host.clone()))
            .cloned()
            .unwrap_or_default();
        // The same reading of `sub` as every trust check: positive string conditions, in any
        // operator form; none means every subject.
        let constraint = SubjectConstraint::of(trust);
        let values: Vec<SubjectPattern<'_>> = if constraint.is_open() {
            vec![SubjectPattern {
                value: "*",
                wildcards: true,
                ignore_case: false,
            }]
        } else {
            constraint
                .values()
                .into_iter()
                .map(|(_, pattern)| pattern)
                .collect()
        };
        let unused: Vec<SubjectPattern<'_>> = values
            .iter()
            .copied()
            .filter(|pattern| !observed.iter().any(|subject| pattern.admits(subject)))
            .collect();
        // With every value used, a wildcard may still admit more than what was seen.
        let wildcards = values.iter().any(SubjectPattern::has_wildcard);
        if unused.is_empty() && (!wildcards || observed.is_empty()) {
            continue;
        }
        let wildcard_unused = unused
            .iter()
            .any(|pattern| pattern.wildcards && pattern.value.contains('*'));
        let mut evidence: Vec<Evidence> = unused
            .iter()
            .map(|pattern| Evidence {
                source: trust.source.clone(),
                detail: format!(
                    "`{}` matched no `AssumeRoleWithWebIdentity` in the window",
                    pattern.value
                ),
            })
            .collect();
        let message = if observed.is_empty() {
            format!(
                "no CI subject of `{}` assumed the role in the window",
                trust.issuer
            )
        } else {
            evidence.push(Evidence {
                source: "CloudTrail".into(),
                detail: format!(
                    "subjects seen: {}",
                    observed
                        .iter()
                        .map(|subject| format!("`{subject}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            evidence.push(Evidence {
                source: "proposed trust policy".into(),
                detail: proposed_policy(id, trust, &host, &observed),
            });
            if unused.is_empty() {
                format!(
                    "the trusted wildcard subjects of `{}` admit more than the {} subject(s) seen in the window",
                    trust.issuer,
                    observed.len()
                )
            } else {
                format!(
                    "{} trusted subject pattern(s) of `{}` were never used in the window; {} subject(s) were",
                    unused.len(),
                    trust.issuer,
                    observed.len()
                )
            }
        };
        let window = match (usage.window.since, usage.window.until) {
            (Some(since), Some(until)) => format!(
                " from {} to {}",
                since.format("%Y-%m-%d"),
                until.format("%Y-%m-%d")
            ),
            _ => String::new(),
        };
        evidence.push(Evidence {
            source: "CloudTrail".into(),
            detail: format!(
                "{} log file(s) read{window}, {} skipped",
                usage.coverage.sources_read,
                usage.coverage.sources_skipped.len()
            ),
        });
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: if wildcard_unused {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                confidence: Confidence::Medium,
                subject: check.subject(id),
                message,
                evidence,
                remediation: if observed.is_empty() {
                    "confirm the role is unused over a full release cycle, then remove the trust or the role".into()
                } else {
                    "apply the proposed trust policy, which admits only the subjects seen".into()
                },
            },
        ));
    }
}

/// A trust policy admitting only the subjects seen, as IAM JSON on one line.
fn proposed_policy(
    id: &IdentityId,
    trust: &crate::model::FederatedTrust,
    host: &str,
    observed: &BTreeSet<&str>,
) -> String {
    let account = crate::aws::Arn::parse(id.native())
        .map(|arn| arn.account.to_string())
        .unwrap_or_default();
    let mut equals = serde_json::Map::new();
    if !trust.audiences.is_empty() {
        equals.insert(
            format!("{host}:aud"),
            serde_json::Value::from(trust.audiences.clone()),
        );
    }
    equals.insert(
        format!("{host}:sub"),
        serde_json::Value::from(observed.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:aws:iam::{account}:oidc-provider/{host}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": equals },
        }],
    });
    policy.to_string()
}
