//! `pipeleash policy check --format json`.

use super::finding::FindingView;
use crate::model::Finding;
use serde::Serialize;

/// The `--format json` shape of `policy check`: every policy file checked, with its findings,
/// and the files that could not be read or parsed.
#[derive(Serialize)]
pub struct CheckReportView {
    version: u32,
    policies: Vec<CheckedPolicyView>,
    errors: Vec<String>,
}

/// One policy file that was checked.
#[derive(Serialize)]
pub struct CheckedPolicyView {
    path: String,
    statements: usize,
    findings: Vec<FindingView>,
}

impl CheckReportView {
    /// An empty report of version 1.
    pub fn new() -> Self {
        CheckReportView {
            version: 1,
            policies: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds a checked file: its path as given, its number of statements, its findings.
    pub fn push_policy(&mut self, path: String, statements: usize, findings: &[Finding]) {
        self.policies.push(CheckedPolicyView {
            path,
            statements,
            findings: findings.iter().map(FindingView::from).collect(),
        });
    }

    /// Adds the error of a file that could not be checked.
    pub fn push_error(&mut self, error: String) {
        self.errors.push(error);
    }

    /// How many files were checked.
    pub fn checked(&self) -> usize {
        self.policies.len()
    }

    /// The errors of the files that could not be checked.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }
}

impl Default for CheckReportView {
    fn default() -> Self {
        Self::new()
    }
}
