//! Who can become an identity, compared between two snapshots.
//!
//! Federated (OIDC) trusts are compared by the `sub` values they admit, read as the trust
//! checks read them ([`judge_trust`]: every string operator that can hold `sub`, lists of
//! values, `ForAnyValue:`/`ForAllValues:`) and judged against the issuer's subject grammar.
//! A later `sub` value is **new** unless the earlier trusts of the same issuer admit it
//! already: an exact value admitted by an earlier pattern, or a pattern an earlier pattern
//! provably covers. A federated trust with no `sub` condition at all admits every subject.
//! Other trusts (another principal, an account, a service, anyone, a long-lived key) are
//! compared as values.

use crate::matching::{Case, pattern_covers};
use crate::model::{PrincipalRef, Severity, SubjectScope, Trust, judge_trust};
use std::collections::BTreeSet;

/// One trusted subject or principal that appeared or disappeared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrustChange {
    pub severity: Severity,
    /// `subject` (an OIDC `sub` value), `principal`, `account`, `service`, `anyone`,
    /// `access-key`.
    pub kind: &'static str,
    /// The issuer URL of a subject; empty otherwise.
    pub issuer: String,
    /// The `sub` value, principal, account id, service or key id.
    pub value: String,
    /// The subject has a wildcard (or the trust has no `sub` condition at all).
    pub wildcard: bool,
    /// What the subject admits, in words, from the subject judge.
    pub admits: String,
}

/// The `sub` values of one issuer's trusts, with how they compare.
struct Subject<'a> {
    issuer: &'a str,
    value: String,
    wildcards: bool,
    ignore_case: bool,
    scope: SubjectScope,
    /// The trust has no `sub` condition: every subject.
    unconstrained: bool,
}

fn subjects(trusts: &[Trust]) -> Vec<Subject<'_>> {
    let mut out = Vec::new();
    for trust in trusts {
        let Trust::Federated(federated) = trust else {
            continue;
        };
        let judgment = judge_trust(federated);
        if judgment.constraint.positive.is_empty() {
            out.push(Subject {
                issuer: &federated.issuer,
                value: "*".to_string(),
                wildcards: true,
                ignore_case: false,
                scope: SubjectScope {
                    every_subject: true,
                    ..SubjectScope::default()
                },
                unconstrained: true,
            });
            continue;
        }
        for subject in &judgment.subjects {
            out.push(Subject {
                issuer: &federated.issuer,
                value: subject.pattern.value.to_string(),
                wildcards: subject.pattern.wildcards,
                ignore_case: subject.pattern.ignore_case,
                scope: subject.scope,
                unconstrained: false,
            });
        }
    }
    out
}

/// Whether an earlier subject of the same issuer admits everything `later` admits.
fn covered(later: &Subject<'_>, earlier: &[Subject<'_>]) -> bool {
    earlier
        .iter()
        .filter(|old| old.issuer == later.issuer)
        .any(|old| {
            if old.unconstrained {
                return true;
            }
            if later.unconstrained {
                return false;
            }
            let case = if old.ignore_case {
                Case::Insensitive
            } else {
                Case::Sensitive
            };
            let later_has_wildcard = later.wildcards && later.value.contains(['*', '?']);
            match (old.wildcards, later_has_wildcard) {
                (false, false) => {
                    old.value == later.value
                        || (old.ignore_case && old.value.eq_ignore_ascii_case(&later.value))
                }
                (true, false) => crate::matching::glob_match(&old.value, &later.value, case),
                (true, true) => pattern_covers(&old.value, &later.value, case),
                (false, true) => false,
            }
        })
}

/// What a judged subject admits, most serious first, as the trust checks rank scopes.
fn admits(scope: &SubjectScope) -> &'static str {
    if scope.every_subject {
        "every subject the issuer signs"
    } else if scope.any_repository {
        "any repository of any owner"
    } else if scope.named_under_any_owner {
        "a named repository under any owner"
    } else if scope.workflow_callers {
        "any repository that may call the pinned workflow"
    } else if scope.tenant_open {
        "any owner"
    } else if scope.any_in_owner {
        "any repository of one owner"
    } else if scope.any_context {
        "every job of the repository (pull requests, any branch, any environment)"
    } else if scope.no_context {
        "every job of the repository"
    } else if scope.any_branch {
        "any branch"
    } else if scope.pull_request {
        "pull-request jobs"
    } else if scope.any_tag {
        "any tag"
    } else if scope.other_branch {
        "a branch other than main"
    } else if scope.any_environment {
        "any environment"
    } else if scope.unknown_wildcard {
        "a wildcard in a subject of unknown format"
    } else if scope.any_run_phase {
        "any run phase"
    } else {
        "one pinned subject"
    }
}

/// The severity of a newly trusted subject: what it opens, not what the role can do (the
/// trust checks, whose findings drift also compares, weigh that).
fn subject_severity(scope: &SubjectScope) -> Severity {
    if scope.every_subject
        || scope.any_repository
        || scope.tenant_open
        || scope.named_under_any_owner
    {
        Severity::Critical
    } else if scope.any_in_owner
        || scope.any_context
        || scope.no_context
        || scope.any_branch
        || scope.pull_request
        || scope.workflow_callers
        || scope.unknown_wildcard
    {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// A non-federated trust as (kind, value, severity when added).
fn other(trust: &Trust) -> Option<(&'static str, String, Severity)> {
    Some(match trust {
        Trust::Federated(_) => return None,
        Trust::Identity { from, conditions } => {
            let name = match from {
                PrincipalRef::Identity(id) => id.native().to_string(),
                PrincipalRef::Pattern(pattern) => pattern.clone(),
            };
            let value = if conditions.is_empty() {
                name
            } else {
                format!("{name} (with {} condition(s))", conditions.len())
            };
            let severity = if value.contains('*') {
                Severity::High
            } else {
                Severity::Medium
            };
            ("principal", value, severity)
        }
        Trust::Account {
            id,
            external_id_required,
        } => (
            "account",
            if *external_id_required {
                format!("{id} (external id required)")
            } else {
                id.clone()
            },
            if *external_id_required {
                Severity::Medium
            } else {
                Severity::High
            },
        ),
        Trust::Service { name } => ("service", name.clone(), Severity::Low),
        Trust::Anyone => ("anyone", "*".to_string(), Severity::Critical),
        Trust::LongLivedKey { key_id, .. } => ("access-key", key_id.clone(), Severity::Medium),
    })
}

/// The trusts `later` has and `earlier` has not: (added, removed). Removals are `info`.
pub fn trust_changes(earlier: &[Trust], later: &[Trust]) -> (Vec<TrustChange>, Vec<TrustChange>) {
    let before = subjects(earlier);
    let after = subjects(later);
    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    for subject in &after {
        if !covered(subject, &before) {
            added.insert(subject_change(subject, subject_severity(&subject.scope)));
        }
    }
    for subject in &before {
        if !covered(subject, &after) {
            removed.insert(subject_change(subject, Severity::Info));
        }
    }
    let others = |trusts: &[Trust]| -> BTreeSet<(&'static str, String, Severity)> {
        trusts.iter().filter_map(other).collect()
    };
    let (before_others, after_others) = (others(earlier), others(later));
    for (kind, value, severity) in after_others.difference(&before_others) {
        added.insert(TrustChange {
            severity: *severity,
            kind,
            issuer: String::new(),
            value: value.clone(),
            wildcard: value.contains('*'),
            admits: String::new(),
        });
    }
    for (kind, value, _) in before_others.difference(&after_others) {
        removed.insert(TrustChange {
            severity: Severity::Info,
            kind,
            issuer: String::new(),
            value: value.clone(),
            wildcard: value.contains('*'),
            admits: String::new(),
        });
    }
    (added.into_iter().collect(), removed.into_iter().collect())
}

fn subject_change(subject: &Subject<'_>, severity: Severity) -> TrustChange {
    TrustChange {
        severity,
        kind: "subject",
        issuer: subject.issuer.to_string(),
        value: if subject.unconstrained {
            "(no `sub` condition)".to_string()
        } else {
            subject.value.clone()
        },
        wildcard: subject.unconstrained
            || (subject.wildcards && subject.value.contains(['*', '?'])),
        admits: admits(&subject.scope).to_string(),
    }
}
