//! A finding as every version-1 output prints it (`policy check`, `analyze`, `audit`).

use crate::model::{Confidence, Finding, Severity};
use serde::Serialize;

/// One finding: the check's id, how bad and how sure, what it is about, why, and the fix.
#[derive(Serialize)]
pub struct FindingView {
    id: &'static str,
    severity: Severity,
    confidence: Confidence,
    subject: String,
    message: String,
    evidence: Vec<EvidenceView>,
    remediation: String,
}

/// One piece of a finding's evidence: where it was read and what it says.
#[derive(Serialize)]
pub struct EvidenceView {
    source: String,
    detail: String,
}

impl From<&Finding> for FindingView {
    fn from(finding: &Finding) -> Self {
        FindingView {
            id: finding.id,
            severity: finding.severity,
            confidence: finding.confidence,
            subject: finding.subject.clone(),
            message: finding.message.clone(),
            evidence: finding
                .evidence
                .iter()
                .map(|evidence| EvidenceView {
                    source: evidence.source.clone(),
                    detail: evidence.detail.clone(),
                })
                .collect(),
            remediation: finding.remediation.clone(),
        }
    }
}
