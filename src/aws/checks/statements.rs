//! Statement-level questions the policy checks share: which actions a statement names, whether
//! it applies to every resource, whether a deny in the same document cancels an allow.
//!
//! These look at one document's structure, not at a request: the checks ask "could this
//! policy ever allow X?", which the request evaluator answers only for a concrete resource.

use crate::aws::policy::{ActionClause, PolicyDocument, ResourceClause, Statement};
use crate::matching::{Case, glob_match};
use crate::model::Effect;

/// Does the statement's `Action`/`NotAction` cover `action` (ignoring resource and condition)?
pub fn covers_action(statement: &Statement, action: &str) -> bool {
    match &statement.action {
        ActionClause::Action(patterns) => patterns
            .iter()
            .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
        ActionClause::NotAction(patterns) => !patterns
            .iter()
            .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
    }
}

/// Does the statement apply to every resource (`Resource: "*"`)?
pub fn applies_to_any_resource(statement: &Statement) -> bool {
    match &statement.resource {
        Some(ResourceClause::Resource(patterns)) => patterns.iter().any(|pattern| pattern == "*"),
        // `NotResource` with anything but `*` applies to all but a few resources.
        Some(ResourceClause::NotResource(patterns)) => {
            !patterns.iter().any(|pattern| pattern == "*")
        }
        None => false,
    }
}

/// The `Allow` statements of `document` that could allow `action` on some resource, unless a
/// `Deny` in the same document denies it on every resource without a condition.
pub fn allowing_statements<'d>(document: &'d PolicyDocument, action: &str) -> Vec<&'d Statement> {
    let denied_everywhere = document.statements.iter().any(|statement| {
        statement.effect == Effect::Deny
            && statement.conditions.is_empty()
            && matches!(&statement.resource, Some(ResourceClause::Resource(patterns)) if patterns.iter().any(|pattern| pattern == "*"))
            && covers_action(statement, action)
    });
    if denied_everywhere {
        return Vec::new();
    }
    document
        .statements
        .iter()
        .filter(|statement| statement.effect == Effect::Allow && covers_action(statement, action))
        .collect()
}
