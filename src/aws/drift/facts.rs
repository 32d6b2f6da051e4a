//! What one snapshot says about each identity, in the shape drift compares: its policies, its
//! trusts, the actions it used (when the snapshot holds usage) and its findings.
//!
//! Pure: built from a normalized inventory, the optional usage and the catalog; the findings
//! are those `pipeleash audit` reports for the same inputs (identity checks, the policy checks
//! of the identity's own policies, the trust checks).

use crate::aws::audit::{audit, usage_of};
use crate::aws::checks::{IdentityUnderCheck, PolicyUnderCheck, check_identity, check_policy};
use crate::aws::cloudtrail::CloudTrailUsage;
use crate::aws::escalation::EscalationPath;
use crate::aws::grant::{AwsAttachment, AwsPolicyGrant};
use crate::aws::minimize::MinimizeOptions;
use crate::aws::normalize::NormalizedAws;
use crate::aws::policy::PolicyDocument;
use crate::catalog::Catalog;
use crate::checks::sort_findings;
use crate::model::ObservationWindow as Window;
use crate::model::{Finding, GrantBody, Severity, Trust};
use std::collections::{BTreeMap, BTreeSet};

/// One snapshot, reduced to what drift compares.
#[derive(Debug, Clone, Default)]
pub struct SnapshotFacts {
    /// Identities by ARN.
    pub identities: BTreeMap<String, IdentityFacts>,
    /// `Some`: the snapshot holds usage, and these accounts' logs were read (an identity of
    /// another account has unknown use). `None`: no usage at all.
    pub usage_accounts: Option<BTreeSet<String>>,
}

/// One AWS identity (role or user) of a snapshot.
#[derive(Debug, Clone)]
pub struct IdentityFacts {
    pub arn: String,
    /// `role` or `user`.
    pub kind: &'static str,
    pub account: String,
    /// Every policy that applies: identity policies, boundary, SCPs.
    pub policies: Vec<PolicyFact>,
    pub trusts: Vec<Trust>,
    /// Actions with allowed calls in the window, lowercase (CloudTrail's case varies); empty
    /// when the snapshot holds no usage.
    pub used: BTreeSet<String>,
    pub findings: Vec<Finding>,
}

/// One policy that applies to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFact {
    /// The policy's name or ARN, as evidence names it.
    pub name: String,
    pub attachment: AwsAttachment,
    pub document: PolicyDocument,
}

/// The words for an attachment in reports.
pub fn attachment_name(attachment: AwsAttachment) -> String {
    match attachment {
        AwsAttachment::Identity => "identity policy".to_string(),
        AwsAttachment::PermissionsBoundary => "permissions boundary".to_string(),
        AwsAttachment::ServiceControl { level } => {
            format!("service control policy (level {level})")
        }
    }
}

impl SnapshotFacts {
    /// Reduces a normalized snapshot (and its usage over `window`) to facts, running the same
    /// checks as `pipeleash audit`. Without usage nothing is minimized and only inventory
    /// checks speak. `paths` is the privilege-escalation table the caller loaded (a table that
    /// cannot be loaded is the caller's error, never an empty table).
    pub fn build(
        normalized: &NormalizedAws,
        usage: Option<&CloudTrailUsage>,
        window: Window,
        catalog: &Catalog,
        paths: &[EscalationPath],
    ) -> SnapshotFacts {
        let report = audit(
            normalized,
            usage,
            window,
            catalog,
            &MinimizeOptions::default(),
        );
        let mut trust_findings: BTreeMap<_, Vec<Finding>> = BTreeMap::new();
        for (identity, finding) in
            crate::aws::checks::trust::trust_findings(normalized, usage, catalog, paths)
        {
            trust_findings.entry(identity).or_default().push(finding);
        }
        let mut identities = BTreeMap::new();
        for identity_audit in &report.identities {
            let id = &identity_audit.identity.id;
            let mut findings = check_identity(&IdentityUnderCheck {
                audit: identity_audit,
                window: report.window,
            });
            let mut policies = Vec::new();
            for grant in normalized.inventory.grants_for(id) {
                let GrantBody::Aws(AwsPolicyGrant {
                    policy,
                    attachment,
                    document,
                }) = &grant.body
                else {
                    continue;
                };
                if *attachment == AwsAttachment::Identity {
                    findings.extend(check_policy(&PolicyUnderCheck {
                        name: policy,
                        document,
                        catalog,
                        escalation_paths: paths,
                    }));
                }
                policies.push(PolicyFact {
                    name: policy.clone(),
                    attachment: *attachment,
                    document: document.clone(),
                });
            }
            findings.extend(trust_findings.remove(id).unwrap_or_default());
            sort_findings(&mut findings);
            let used = usage
                .map(|usage| {
                    usage_of(usage, id)
                        .iter()
                        .filter(|(_, record)| record.count > 0)
                        .map(|(key, _)| key.permission.action.to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            let arn = id.native().to_string();
            identities.insert(
                arn.clone(),
                IdentityFacts {
                    arn,
                    kind: identity_audit.identity.kind.label(),
                    account: identity_audit.identity.container.clone(),
                    policies,
                    trusts: identity_audit.trusts.clone(),
                    used,
                    findings,
                },
            );
        }
        let usage_accounts = usage.map(|usage| {
            identities
                .values()
                .map(|identity| identity.account.clone())
                .filter(|account| usage.covers_account(account))
                .collect()
        });
        SnapshotFacts {
            identities,
            usage_accounts,
        }
    }
}

/// The worst severity of a list of findings.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|finding| finding.severity).max()
}
