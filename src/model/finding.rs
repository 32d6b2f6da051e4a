//! Findings: what a check reports, with the evidence behind it.

use super::{Confidence, Severity};

/// One thing a check found. `id` is the check's stable kebab-case id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// What the finding is about, e.g. ``policy `deploy.json` statement 2``.
    pub subject: String,
    /// One sentence saying what is wrong.
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// What to do about it.
    pub remediation: String,
}

/// A fact a finding rests on, pointing at where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    /// Where the fact lives: a policy and statement, a log file, an API response.
    pub source: String,
    /// The fact itself.
    pub detail: String,
}
