//! What the Activity Log can show: the embedded, reviewable table
//! `providers/azure/activity-log-coverage.tsv`. An operation the Activity Log never records
//! (a read, a data action, an image push to a registry) is *unobservable*: its absence from
//! the log says nothing, and it is never reported unused.
//!
//! Sources: "Azure Activity Log event schema", Administrative category ("If the operation
//! type is Write, Delete, or Action, the records of both the start and success or failure of
//! that operation are recorded",
//! <https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema>);
//! "Azure Monitor platform logs" (resource logs hold the data plane,
//! <https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/platform-logs-overview>).

use crate::azure::{Plane, operation_matches};

/// The embedded table.
pub const COVERAGE_TSV: &str = include_str!("../../../providers/azure/activity-log-coverage.tsv");

/// Whether the Activity Log records an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observability {
    Observed,
    /// Never in the Activity Log: neither used nor unused can be told from it.
    Unobservable {
        reason: String,
        doc: String,
    },
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    operation: String,
    plane: Plane,
    observed: bool,
    reason: String,
    doc: String,
}

/// The table, in file order (the first matching line wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLogCoverage {
    rules: Vec<Rule>,
}

/// A malformed line of the coverage table (a build defect when it is the embedded one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("activity log coverage table, line {line}: {message}")]
pub struct CoverageTableError {
    pub line: usize,
    pub message: String,
}

impl ActivityLogCoverage {
    /// The embedded table.
    pub fn embedded() -> Result<ActivityLogCoverage, CoverageTableError> {
        ActivityLogCoverage::parse(COVERAGE_TSV)
    }

    /// Parses a table: a `#format=` line, a header line, then
    /// `operation<TAB>plane<TAB>observed|unobservable<TAB>reason<TAB>doc URL`.
    pub fn parse(text: &str) -> Result<ActivityLogCoverage, CoverageTableError> {
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            if line.starts_with('#') || line.starts_with("operation\t") || line.trim().is_empty() {
                continue;
            }
            let error = |message: &str| CoverageTableError {
                line: number,
                message: message.to_owned(),
            };
            let fields: Vec<&str> = line.split('\t').collect();
            let [operation, plane, observed, reason, doc] = fields.as_slice() else {
                return Err(error("expected 5 tab-separated fields"));
            };
            let plane = match *plane {
                "control" => Plane::Control,
                "data" => Plane::Data,
                _ => return Err(error("plane must be `control` or `data`")),
            };
            let observed = match *observed {
                "observed" => true,
                "unobservable" => false,
                _ => return Err(error("activity_log must be `observed` or `unobservable`")),
            };
            if !doc.starts_with("https://") {
                return Err(error("every line cites its documentation page (https://…)"));
            }
            rules.push(Rule {
                operation: (*operation).to_owned(),
                plane,
                observed,
                reason: (*reason).to_owned(),
                doc: (*doc).to_owned(),
            });
        }
        Ok(ActivityLogCoverage { rules })
    }

    /// The lines that make operations unobservable, in file order: `(operation pattern,
    /// plane, reason, doc URL)`.
    pub fn unobservable(&self) -> impl Iterator<Item = (&str, Plane, &str, &str)> {
        self.rules.iter().filter(|rule| !rule.observed).map(|rule| {
            (
                rule.operation.as_str(),
                rule.plane,
                rule.reason.as_str(),
                rule.doc.as_str(),
            )
        })
    }

    /// Whether the Activity Log records `operation` on `plane`. An operation no line matches
    /// is unobservable: absence of evidence is never taken as evidence of absence.
    pub fn of(&self, operation: &str, plane: Plane) -> Observability {
        match self
            .rules
            .iter()
            .find(|rule| rule.plane == plane && operation_matches(&rule.operation, operation))
        {
            Some(rule) if rule.observed => Observability::Observed,
            Some(rule) => Observability::Unobservable {
                reason: rule.reason.clone(),
                doc: rule.doc.clone(),
            },
            None => Observability::Unobservable {
                reason: "no line of the coverage table matches it".into(),
                doc: "https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema"
                    .into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_deletes_and_actions_are_observed_reads_and_data_actions_are_not() {
        let coverage = ActivityLogCoverage::embedded().unwrap();
        let observed =
            |operation: &str, plane| coverage.of(operation, plane) == Observability::Observed;
        assert!(observed("Microsoft.Web/sites/write", Plane::Control));
        assert!(observed(
            "Microsoft.Resources/deployments/delete",
            Plane::Control
        ));
        assert!(observed(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            Plane::Control
        ));
        assert!(!observed("Microsoft.Web/sites/read", Plane::Control));
        assert!(!observed(
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            Plane::Data
        ));
        assert!(!observed(
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            Plane::Data
        ));
        // In `actions`, yet served by the registry's login server: never in the Activity Log.
        assert!(!observed(
            "Microsoft.ContainerRegistry/registries/push/write",
            Plane::Control
        ));
        assert!(!observed(
            "microsoft.containerregistry/registries/PULL/read",
            Plane::Control
        ));
    }

    #[test]
    fn every_line_cites_a_doc_page() {
        let bad =
            "operation\tplane\tactivity_log\treason\tdoc\n*/write\tcontrol\tobserved\tr\tnone\n";
        assert_eq!(ActivityLogCoverage::parse(bad).unwrap_err().line, 2);
    }
}
