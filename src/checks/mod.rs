//! Checks, neutral part: the one shape every check of every cloud is registered in
//! ([`Check`]), the order findings are printed in, and the checks page. Each finding type
//! lives in its own file in its cloud's folder (`src/aws/checks/`, `src/gcp/checks/`,
//! `src/azure/checks/`), whose `//!` comment says *What it finds*, *Why it matters*,
//! *Example* and *Remediation*. The checks page (`docs/checks.md`, and `pipeleash checks`)
//! is generated from those comments, so the code and its documentation cannot drift apart.
//!
//! A new check: a file in its cloud's `checks/` folder with `ID` and `run`, and one entry in
//! that folder's registry (`CHECKS`, or the AWS `trust::TRUST_CHECKS`); the page then lists it.

use crate::model::{Finding, Provider, Severity};

/// What a check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LooksAt {
    /// One policy document at a time (AWS identity and trust policies, `policy check`).
    PolicyDocument,
    /// One audited identity: its grants, its usage in the observation window, its trust.
    Identity,
    /// Who can become the identities: trust policies, federated credentials, Workload
    /// Identity Federation providers, keys and secrets, with what the identities can reach.
    Trust,
}

/// A registered check of any cloud: its stable id, the highest severity it reports, what it
/// looks at, its function (`R`: each cloud's own signature over its own inputs), and its own
/// source file, from which its documentation is generated.
pub struct Check<R: 'static> {
    pub id: &'static str,
    pub provider: Provider,
    pub looks_at: LooksAt,
    pub max_severity: Severity,
    pub run: R,
    /// The text of the file the check and its documentation live in (`include_str!`).
    pub source: &'static str,
}

/// Most severe first, then by check id, then by subject and message.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(b.id))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// The documentation of one check, taken from the `//!` comment of its file.
pub struct CheckDoc {
    pub id: &'static str,
    pub provider: Provider,
    pub looks_at: LooksAt,
    pub max_severity: Severity,
    /// The comment's Markdown, with the `//!` markers removed.
    pub markdown: String,
}

impl<R> Check<R> {
    /// The check's documentation: the `//!` comment at the top of its source file.
    pub fn doc(&self) -> CheckDoc {
        let markdown = self
            .source
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .map(|line| {
                let text = line.trim_start_matches("//!");
                text.strip_prefix(' ').unwrap_or(text)
            })
            .collect::<Vec<_>>()
            .join("\n");
        CheckDoc {
            id: self.id,
            provider: self.provider,
            looks_at: self.looks_at,
            max_severity: self.max_severity,
            markdown,
        }
    }
}

/// The documentation of every check of every cloud, in id order.
pub fn all_check_docs() -> Vec<CheckDoc> {
    let mut docs: Vec<CheckDoc> = crate::aws::checks::CHECKS
        .iter()
        .map(Check::doc)
        .chain(
            crate::aws::checks::trust::TRUST_CHECKS
                .iter()
                .map(Check::doc),
        )
        .chain(crate::gcp::checks::CHECKS.iter().map(Check::doc))
        .chain(crate::azure::checks::CHECKS.iter().map(Check::doc))
        .collect();
    docs.sort_by(|a, b| a.id.cmp(b.id));
    docs
}

/// The whole checks page, as committed in `docs/checks.md`.
pub fn checks_markdown() -> String {
    let mut page = String::from(
        "# pipeleash checks\n\n\
         Generated from the doc comment of each check's source file (`src/aws/checks/`, `src/gcp/checks/`, `src/azure/checks/`); \
         regenerate with `pipeleash checks --format markdown > docs/checks.md`.\n",
    );
    for doc in all_check_docs() {
        page.push_str(&format!(
            "\n## `{}`\n\nHighest severity: {}.\n\n{}\n",
            doc.id, doc.max_severity, doc.markdown
        ));
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_in_id_order_with_unique_ids() {
        for ids in [
            crate::aws::checks::CHECKS
                .iter()
                .map(|check| check.id)
                .collect::<Vec<_>>(),
            crate::aws::checks::trust::TRUST_CHECKS
                .iter()
                .map(|check| check.id)
                .collect(),
            crate::gcp::checks::CHECKS
                .iter()
                .map(|check| check.id)
                .collect(),
            crate::azure::checks::CHECKS
                .iter()
                .map(|check| check.id)
                .collect(),
        ] {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(ids, sorted);
        }
        let all: Vec<&str> = all_check_docs().iter().map(|doc| doc.id).collect();
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(all, unique, "two checks share an id");
    }

    #[test]
    fn every_check_documents_the_four_sections() {
        for doc in all_check_docs() {
            for section in ["What it finds", "Why it matters", "Example", "Remediation"] {
                assert!(
                    doc.markdown.contains(section),
                    "check `{}` lacks a `{section}` section",
                    doc.id
                );
            }
        }
    }

    #[test]
    fn committed_checks_page_is_up_to_date() {
        let committed = include_str!("../../docs/checks.md");
        assert_eq!(
            committed,
            checks_markdown(),
            "docs/checks.md is stale: run `cargo run -- checks --format markdown > docs/checks.md`"
        );
    }
}
