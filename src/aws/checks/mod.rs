//! The AWS checks: each finding type in its own file, whose `//!` comment says *What it
//! finds*, *Why it matters*, *Example* and *Remediation* (the checks page is generated from
//! them, see [`crate::checks`]).
//!
//! Three kinds, by what they look at ([`LooksAt`]): policy checks judge one policy document
//! ([`PolicyUnderCheck`]), identity checks one audited identity with its grants and usage
//! ([`IdentityUnderCheck`]), trust checks who can become an identity ([`trust`]). A check is a
//! plain function; it pushes findings and never fails: what it cannot decide it reports with
//! lower confidence, or not at all.

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
use crate::checks::{Check, LooksAt, sort_findings};
use crate::model::{Evidence, Finding, ObservationWindow, Provider, Severity};

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

/// The function of a policy or identity check.
#[derive(Clone, Copy)]
pub enum Runner {
    /// One policy document at a time.
    Policy(fn(&PolicyUnderCheck<'_>, &mut Vec<Finding>)),
    /// One audited identity (its grants, usage and trust) at a time.
    Identity(fn(&IdentityUnderCheck<'_>, &mut Vec<Finding>)),
}

/// One registry entry: the check's module, its highest severity, and what it looks at.
macro_rules! check {
    ($module:ident, $severity:ident, $runner:ident, $looks_at:ident) => {
        Check {
            id: $module::ID,
            provider: Provider::Aws,
            looks_at: LooksAt::$looks_at,
            max_severity: Severity::$severity,
            run: Runner::$runner($module::run),
            source: include_str!(concat!(stringify!($module), ".rs")),
        }
    };
}

/// Every AWS policy and identity check, in id order (the trust checks are
/// [`trust::TRUST_CHECKS`]).
pub const CHECKS: &[Check<Runner>] = &[
    check!(allow_with_not_action, High, Policy, PolicyDocument),
    check!(allow_with_not_resource, Medium, Policy, PolicyDocument),
    check!(missing_permissions, Low, Identity, Identity),
    check!(never_used_identity, Medium, Identity, Identity),
    check!(privilege_escalation, High, Policy, PolicyDocument),
    check!(unknown_action, Low, Policy, PolicyDocument),
    check!(unused_permissions, Medium, Identity, Identity),
    check!(wildcard_action, Critical, Policy, PolicyDocument),
    check!(write_on_any_resource, High, Policy, PolicyDocument),
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

/// The evidence of a minimization whose window misses log files that could not be read: how
/// many, and the first, since their calls may be uses the counts lack. `None` when none was
/// skipped.
fn skipped_evidence(warnings: &[crate::aws::minimize::Warning]) -> Option<Evidence> {
    warnings.iter().find_map(|warning| match warning {
        crate::aws::minimize::Warning::IncompleteWindow { skipped } => {
            let first = skipped.first()?;
            Some(Evidence {
                source: "audit logs".into(),
                detail: format!(
                    "{} log file(s) could not be read (first: `{}`: {}): calls they hold are \
                     missing, so an action may look unused when it is not",
                    skipped.len(),
                    first.source,
                    first.reason
                ),
            })
        }
        _ => None,
    })
}
