//! `--format sarif` of `analyze` and `audit`: the findings as SARIF 2.1.0, for code-scanning
//! dashboards, and the one-line summary both print on stderr.
//!
//! SARIF reference: <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>. A
//! finding is about a cloud identity, not a line of code: each result names the identity as
//! a logical location (its ARN) and, as the physical location code scanning requires, the
//! snapshot file the identity was read from (`<snapshot>/inventory/aws-<account>.json`,
//! `…/inventory/gcp-<scope>.json`, `…/inventory/azure-<tenant>.json`).

use crate::checks::all_check_docs;
use crate::model::{Finding, Severity};
use clap::ValueEnum;
use serde_sarif::sarif;
use std::collections::BTreeMap;

/// How `analyze` and `audit` print their report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalysisFormat {
    /// A human-readable table.
    Table,
    /// Machine-readable JSON (a stable, versioned shape).
    Json,
    /// SARIF 2.1.0: the findings only, one result per finding.
    Sarif,
}

/// One finding with the identity it is about.
pub struct Located<'a> {
    /// The identity's native id (an ARN, a service account's email, an object id), or for a
    /// finding about no single identity, what it is about.
    pub identity: &'a str,
    /// The snapshot file the identity was read from, e.g.
    /// `snap/inventory/aws-111122223333.json`.
    pub artifact: String,
    pub finding: &'a Finding,
}

/// The SARIF level of a severity: `error` for high and critical, `warning` for medium,
/// `note` below.
fn level(severity: Severity) -> sarif::ResultLevel {
    match severity {
        Severity::Critical | Severity::High => sarif::ResultLevel::Error,
        Severity::Medium => sarif::ResultLevel::Warning,
        Severity::Low | Severity::Info => sarif::ResultLevel::Note,
    }
}

/// The first sentence of a check's "What it finds".
fn summary(markdown: &str) -> String {
    let text = markdown
        .split("**Why it matters:**")
        .next()
        .unwrap_or_default()
        .replace("**What it finds:**", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_string(),
        None => text,
    }
}

/// The findings as a SARIF log with one run. Rules are the checks that found something,
/// sorted by id; results keep the given order.
pub fn sarif_log(findings: &[Located<'_>]) -> sarif::Sarif {
    let docs: BTreeMap<&str, String> = all_check_docs()
        .into_iter()
        .map(|doc| (doc.id, summary(&doc.markdown)))
        .collect();
    let mut rule_ids: Vec<&str> = findings.iter().map(|located| located.finding.id).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let index: BTreeMap<&str, i64> = rule_ids
        .iter()
        .enumerate()
        .map(|(position, id)| (*id, position as i64))
        .collect();
    let rules: Vec<sarif::ReportingDescriptor> = rule_ids
        .iter()
        .map(|id| {
            let description = docs.get(id).cloned().unwrap_or_else(|| (*id).to_string());
            sarif::ReportingDescriptor::builder()
                .id(*id)
                .name(*id)
                .short_description(&description)
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = findings
        .iter()
        .map(|located| {
            let finding = located.finding;
            let uri = located.artifact.replace('\\', "/");
            let location = sarif::Location::builder()
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(sarif::ArtifactLocation::builder().uri(uri).build())
                        .build(),
                )
                .logical_locations(vec![
                    sarif::LogicalLocation::builder()
                        .fully_qualified_name(located.identity)
                        .kind("resource")
                        .build(),
                ])
                .build();
            let mut properties = BTreeMap::new();
            properties.insert(
                "severity".to_string(),
                serde_json::Value::from(finding.severity.to_string()),
            );
            properties.insert(
                "confidence".to_string(),
                serde_json::Value::from(finding.confidence.to_string()),
            );
            properties.insert(
                "identity".to_string(),
                serde_json::Value::from(located.identity),
            );
            properties.insert(
                "remediation".to_string(),
                serde_json::Value::from(finding.remediation.as_str()),
            );
            let mut fingerprints = BTreeMap::new();
            fingerprints.insert(
                "pipeleash/v1".to_string(),
                format!("{}|{}|{}", finding.id, located.identity, finding.subject),
            );
            sarif::Result::builder()
                .rule_id(finding.id)
                .rule_index(index.get(finding.id).copied().unwrap_or(-1))
                .level(level(finding.severity))
                .message(&format!("{}: {}", finding.subject, finding.message))
                .locations(vec![location])
                .partial_fingerprints(fingerprints)
                .properties(
                    sarif::PropertyBag::builder()
                        .additional_properties(properties)
                        .build(),
                )
                .build()
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("pipeleash")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    sarif::Sarif::builder()
        .version(sarif::Version::V2_1_0.to_string())
        .schema(sarif::SCHEMA_URL)
        .runs(vec![run])
        .build()
}

/// `pipeleash audit: 12 identities, 31 findings (critical 2, high 9, medium 14, low 6); exit 1`.
pub fn summary_line(
    command: &str,
    identities: usize,
    severities: impl Iterator<Item = Severity>,
    failing: bool,
) -> String {
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for severity in severities {
        *counts.entry(std::cmp::Reverse(severity)).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let by_severity = counts
        .iter()
        .map(|(severity, count)| format!("{} {count}", severity.0))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "pipeleash {command}: {identities} identities, {total} finding(s){}; exit {}",
        if total == 0 {
            String::new()
        } else {
            format!(" ({by_severity})")
        },
        if failing { 1 } else { 0 }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Confidence;

    fn finding(id: &'static str, severity: Severity) -> Finding {
        Finding {
            id,
            severity,
            confidence: Confidence::High,
            subject: "role `ci`".to_string(),
            message: "m".to_string(),
            evidence: Vec::new(),
            remediation: "r".to_string(),
        }
    }

    #[test]
    fn sarif_names_rule_level_identity_and_snapshot_file() {
        let high = finding("wildcard-action", Severity::High);
        let low = finding("unused-permissions", Severity::Low);
        let located = [
            Located {
                identity: "arn:aws:iam::1:role/ci",
                artifact: "snap/inventory/aws-111122223333.json".into(),
                finding: &high,
            },
            Located {
                identity: "arn:aws:iam::1:role/ci",
                artifact: "snap/inventory/aws-111122223333.json".into(),
                finding: &low,
            },
        ];
        let log = serde_json::to_value(sarif_log(&located)).expect("json");
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "pipeleash");
        assert_eq!(
            run["tool"]["driver"]["rules"][0]["id"],
            "unused-permissions"
        );
        assert_eq!(run["results"][0]["ruleId"], "wildcard-action");
        assert_eq!(run["results"][0]["ruleIndex"], 1);
        assert_eq!(run["results"][0]["level"], "error");
        assert_eq!(run["results"][1]["level"], "note");
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "snap/inventory/aws-111122223333.json"
        );
        assert_eq!(
            run["results"][0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "arn:aws:iam::1:role/ci"
        );
    }

    #[test]
    fn summary_counts_findings_by_severity_worst_first() {
        let line = summary_line(
            "audit",
            3,
            [Severity::Low, Severity::Critical, Severity::Low].into_iter(),
            true,
        );
        assert_eq!(
            line,
            "pipeleash audit: 3 identities, 3 finding(s) (critical 1, low 2); exit 1"
        );
        assert_eq!(
            summary_line("analyze", 2, std::iter::empty(), false),
            "pipeleash analyze: 2 identities, 0 finding(s); exit 0"
        );
    }
}
