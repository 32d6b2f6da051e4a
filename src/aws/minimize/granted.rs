//! Step 1: the actions the current policies grant, each with the identity statements that
//! grant it.
//!
//! An `Allow` statement's `Action` patterns (or the complement of its `NotAction` patterns)
//! are expanded with the catalog. A listed action is only *granted* if the whole policy set
//! (identity + boundary + SCPs, with every deny) can allow it on some resource. Deciding
//! "some resource" exactly would mean intersecting pattern languages across layers; instead
//! the evaluator decides a few **representative requests**: concrete resources built from
//! the statement's own resource patterns, from the boundary's and SCPs' resource patterns that
//! fall inside them, and from the catalog's ARN formats for the action, with every wildcard
//! and `${…}` placeholder replaced by a fixed filler. If any is `Allowed` or `Conditional`
//! (the context is partial, so conditions stay unknown), the action is granted.
//!
//! The approximation errs towards "granted": a representative that slips through is at worst
//! an action kept as unobservable or reported as unused, never a permission added, because
//! minimization only ever copies or narrows original statements (and step 7 proves it).

use super::{Origin, Originals, takes_resources};
use crate::aws::eval::Outcome;
use crate::aws::policy::{ActionClause, ResourceClause, Statement};
use crate::catalog::Catalog;
use crate::matching::{Case, glob_match, has_wildcard, pattern_covers};
use crate::model::Effect;
use std::collections::{BTreeMap, BTreeSet};

/// Stands for any run of characters in a representative resource.
const FILLER: &str = "pipeleash-representative";

/// A granted action with the statements granting it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Grant {
    pub origins: BTreeSet<Origin>,
}

/// Every granted action, by canonical name.
pub(crate) fn granted_actions(
    originals: &Originals<'_>,
    catalog: &Catalog,
) -> BTreeMap<String, Grant> {
    let guard_patterns = guard_resource_patterns(originals);
    let mut granted: BTreeMap<String, Grant> = BTreeMap::new();
    for &origin in originals.statements.keys() {
        let Some((_, statement)) = originals.statement(origin) else {
            continue;
        };
        for action in listed_actions(statement, catalog) {
            let candidates =
                representatives(statement, &action, catalog, &guard_patterns, originals);
            let allowed = candidates.iter().any(|resource| {
                matches!(
                    originals
                        .full
                        .evaluate(&originals.request(&action, resource))
                        .outcome,
                    Outcome::Allowed | Outcome::Conditional { .. }
                )
            });
            if allowed {
                granted.entry(action).or_default().origins.insert(origin);
            }
        }
    }
    granted
}

/// The actions an `Allow` statement lists, by canonical catalog name; literal actions the
/// catalog does not know are kept as written (they may be new; they are never guessed away).
fn listed_actions(statement: &Statement, catalog: &Catalog) -> BTreeSet<String> {
    match &statement.action {
        ActionClause::Action(patterns) => patterns
            .iter()
            .flat_map(|pattern| {
                let expanded: Vec<String> = catalog
                    .expand(pattern)
                    .into_iter()
                    .map(|action| action.name.clone())
                    .collect();
                if expanded.is_empty() && !has_wildcard(pattern) && pattern.contains(':') {
                    vec![pattern.clone()]
                } else {
                    expanded
                }
            })
            .collect(),
        ActionClause::NotAction(patterns) => catalog
            .actions()
            .filter(|action| {
                !patterns
                    .iter()
                    .any(|pattern| glob_match(pattern, &action.name, Case::Insensitive))
            })
            .map(|action| action.name.clone())
            .collect(),
    }
}

/// Resource patterns of the boundary's and SCPs' `Allow` statements: where the guards let
/// requests through, so good places to look for an allowed representative.
fn guard_resource_patterns(originals: &Originals<'_>) -> Vec<String> {
    let input = originals.input;
    let guards = input
        .boundary
        .iter()
        .chain(input.scps.iter().flatten())
        .flat_map(|policy| policy.document.statements.iter())
        .filter(|statement| statement.effect == Effect::Allow);
    let mut patterns: BTreeSet<String> = BTreeSet::new();
    for statement in guards {
        if let Some(ResourceClause::Resource(list)) = &statement.resource {
            patterns.extend(list.iter().cloned());
        }
    }
    patterns.into_iter().collect()
}

/// Replaces wildcards and `${…}` placeholders with fixed text, giving one concrete string the
/// pattern matches (when it has no placeholders).
pub(crate) fn representative(pattern: &str, partition: &str, account: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + FILLER.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some(end) = after.find('}') {
                let name = &after[..end];
                out.push_str(match name {
                    "Partition" => partition,
                    "Account" => account,
                    _ => FILLER,
                });
                rest = &after[end + 1..];
                continue;
            }
        }
        match c {
            '*' => out.push_str(FILLER),
            '?' => out.push('x'),
            other => out.push(other),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Candidate resources for deciding whether `statement` grants `action` anywhere.
fn representatives(
    statement: &Statement,
    action: &str,
    catalog: &Catalog,
    guard_patterns: &[String],
    originals: &Originals<'_>,
) -> BTreeSet<String> {
    let partition = originals
        .input
        .principal_arn
        .split(':')
        .nth(1)
        .unwrap_or("aws");
    let account = originals.principal_account.as_str();
    let mut candidates = BTreeSet::new();
    if !takes_resources(catalog, action) {
        candidates.insert("*".to_string());
        return candidates;
    }
    let formats: Vec<String> = catalog
        .action(action)
        .into_iter()
        .flat_map(|known| {
            known
                .resource_types
                .iter()
                .filter_map(|resource_type| catalog.resource_type(known, &resource_type.name))
        })
        .flat_map(|resource_type| resource_type.arn_formats.iter())
        .map(|format| representative(format, partition, account))
        .collect();
    let guards = guard_patterns
        .iter()
        .map(|pattern| (pattern, representative(pattern, partition, account)));
    match &statement.resource {
        Some(ResourceClause::Resource(patterns)) => {
            for pattern in patterns {
                candidates.insert(representative(pattern, partition, account));
                for (guard, concrete) in guards.clone() {
                    if pattern_covers(pattern, guard, Case::Sensitive) {
                        candidates.insert(concrete);
                    }
                }
                for concrete in &formats {
                    if glob_match(pattern, concrete, Case::Sensitive) {
                        candidates.insert(concrete.clone());
                    }
                }
            }
        }
        Some(ResourceClause::NotResource(_)) | None => {
            candidates.insert("*".to_string());
            candidates.extend(formats.iter().cloned());
            candidates.extend(guards.map(|(_, concrete)| concrete));
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representative_fills_wildcards_and_placeholders() {
        assert_eq!(
            representative("arn:aws:s3:::b/*", "aws", "1"),
            "arn:aws:s3:::b/pipeleash-representative"
        );
        assert_eq!(
            representative(
                "arn:${Partition}:lambda:${Region}:${Account}:function:f?",
                "aws",
                "123"
            ),
            "arn:aws:lambda:pipeleash-representative:123:function:fx"
        );
        assert_eq!(representative("*", "aws", "1"), FILLER);
        assert_eq!(representative("a${b", "aws", "1"), "a${b");
    }
}
