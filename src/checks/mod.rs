//! Checks: each finding type lives in its own file, whose `//!` comment says *What it finds*,
//! *Why it matters*, *Example* and *Remediation*. The checks page (`docs/checks.md`, and
//! `pipeleash checks`) is generated from those comments, so the code and its documentation
//! cannot drift apart.
//!
//! A check is a plain function over a [`PolicyUnderCheck`]; it pushes findings and never
//! fails: what it cannot decide it reports with lower confidence, or not at all.

mod allow_with_not_action;
mod allow_with_not_resource;
pub(crate) mod missing_permissions;
pub(crate) mod never_used_identity;
mod privilege_escalation;
mod statements;
pub mod trust;
mod unknown_action;
pub(crate) mod unused_permissions;
mod wildcard_action;
mod write_on_any_resource;

use crate::aws::audit::IdentityAudit;
use crate::aws::escalation::EscalationPath;
use crate::aws::policy::{PolicyDocument, Statement};
use crate::catalog::Catalog;
use crate::model::ObservationWindow;
use crate::model::{Finding, Severity};

/// One policy document handed to the checks, with what they need to judge it.
pub struct PolicyUnderCheck<'a> {
    /// How the user knows the policy: a file name, a policy name or ARN.
    pub name: &'a str,
    pub document: &'a PolicyDocument,
    pub catalog: &'a Catalog,
    pub escalation_paths: &'a [EscalationPath],
}

impl PolicyUnderCheck<'_> {
    /// ``policy `name` statement 3 (`Sid`)``: how findings name a statement.
    pub fn statement_subject(&self, statement: &Statement) -> String {
        match &statement.sid {
            Some(sid) if !sid.is_empty() => format!(
                "policy `{}` statement {} (`{sid}`)",
                self.name,
                statement.index + 1
            ),
            _ => format!("policy `{}` statement {}", self.name, statement.index + 1),
        }
    }
}

/// One audited identity handed to the identity checks.
pub struct IdentityUnderCheck<'a> {
    pub audit: &'a IdentityAudit,
    pub window: ObservationWindow,
}

impl IdentityUnderCheck<'_> {
    /// How findings name the identity: ``role `arn…` ``.
    pub fn subject(&self) -> String {
        let kind = self.audit.identity.kind.label();
        format!("{kind} `{}`", self.audit.identity.id.native())
    }
}

/// What a check looks at.
#[derive(Clone, Copy)]
pub enum Runner {
    /// One policy document at a time.
    Policy(fn(&PolicyUnderCheck<'_>, &mut Vec<Finding>)),
    /// One audited identity (its grants, usage and trust) at a time.
    Identity(fn(&IdentityUnderCheck<'_>, &mut Vec<Finding>)),
}

/// A registered check: its stable id, the highest severity it reports, the function, and its
/// own source file (from which the documentation is generated).
pub struct Check {
    pub id: &'static str,
    pub max_severity: Severity,
    pub run: Runner,
    source: &'static str,
}

/// One registry entry: the check's module, its highest severity, and what it looks at.
macro_rules! check {
    ($module:ident, $severity:ident, $runner:ident) => {
        Check {
            id: $module::ID,
            max_severity: Severity::$severity,
            run: Runner::$runner($module::run),
            source: include_str!(concat!(stringify!($module), ".rs")),
        }
    };
}

/// Every check, in id order.
pub const CHECKS: &[Check] = &[
    check!(allow_with_not_action, High, Policy),
    check!(allow_with_not_resource, Medium, Policy),
    check!(missing_permissions, Low, Identity),
    check!(never_used_identity, Medium, Identity),
    check!(privilege_escalation, High, Policy),
    check!(unknown_action, Low, Policy),
    check!(unused_permissions, Medium, Identity),
    check!(wildcard_action, Critical, Policy),
    check!(write_on_any_resource, High, Policy),
];

/// Runs every policy check on one document; findings come back sorted (most severe first,
/// then by id and subject) so output is deterministic.
pub fn check_policy(policy: &PolicyUnderCheck<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for check in CHECKS {
        if let Runner::Policy(run) = check.run {
            run(policy, &mut findings);
        }
    }
    sort_findings(&mut findings);
    findings
}

/// Runs every identity check on one audited identity; sorted like [`check_policy`].
pub fn check_identity(identity: &IdentityUnderCheck<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for check in CHECKS {
        if let Runner::Identity(run) = check.run {
            run(identity, &mut findings);
        }
    }
    sort_findings(&mut findings);
    findings
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
    pub max_severity: Severity,
    /// The comment's Markdown, with the `//!` markers removed.
    pub markdown: String,
}

impl Check {
    pub fn doc(&self) -> CheckDoc {
        doc_of(self.id, self.max_severity, self.source)
    }
}

impl trust::TrustCheck {
    pub fn doc(&self) -> CheckDoc {
        doc_of(self.id, self.max_severity, self.source)
    }
}

/// The documentation of every check, policy and trust, in id order.
pub fn all_check_docs() -> Vec<CheckDoc> {
    let mut docs: Vec<CheckDoc> = CHECKS
        .iter()
        .map(Check::doc)
        .chain(trust::TRUST_CHECKS.iter().map(trust::TrustCheck::doc))
        .chain(
            crate::gcp::checks::CHECKS
                .iter()
                .map(|check| doc_of(check.id, check.max_severity, check.source)),
        )
        .chain(
            crate::azure::checks::CHECKS
                .iter()
                .map(|check| doc_of(check.id, check.max_severity, check.source)),
        )
        .collect();
    docs.sort_by(|a, b| a.id.cmp(b.id));
    docs
}

fn doc_of(id: &'static str, max_severity: Severity, source: &'static str) -> CheckDoc {
    let markdown = source
        .lines()
        .take_while(|line| line.starts_with("//!"))
        .map(|line| {
            let text = line.trim_start_matches("//!");
            text.strip_prefix(' ').unwrap_or(text)
        })
        .collect::<Vec<_>>()
        .join("\n");
    CheckDoc {
        id,
        max_severity,
        markdown,
    }
}

/// The whole checks page, as committed in `docs/checks.md`.
pub fn checks_markdown() -> String {
    let mut page = String::from(
        "# pipeleash checks\n\n\
         Generated from the doc comment of each check's source file (`src/checks/`, `src/gcp/checks/`, `src/azure/checks/`); \
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
            CHECKS.iter().map(|check| check.id).collect::<Vec<_>>(),
            trust::TRUST_CHECKS.iter().map(|check| check.id).collect(),
        ] {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(ids, sorted);
        }
        let all: Vec<&str> = all_check_docs().iter().map(|doc| doc.id).collect();
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(all, unique, "a trust check reuses a policy check id");
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
