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
    let partition = originals
        .input
        .principal_arn
        .split(':')
        .nth(1)
        .unwrap_or("aws");
    let account = originals.principal_account.as_str();
    let guards: Vec<(String, String)> = guard_resource_patterns(originals)
        .into_iter()
        .map(|pattern| {
            let concrete = representative(&pattern, partition, account);
            (pattern, concrete)
        })
        .collect();
    let mut granted: BTreeMap<String, Grant> = BTreeMap::new();
    for &origin in originals.statements.keys() {
        let Some((_, statement)) = originals.statement(origin) else {
            continue;
        };
        let candidates = StatementCandidates::new(statement, &guards, partition, account);
        for action in listed_actions(statement, catalog) {
            if candidates.any_allowed(&action, catalog, originals) {
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

/// The candidate resources for deciding whether a statement grants an action anywhere: the
/// representatives of its own resource patterns, the guards' representatives its patterns
/// cover, and the representatives of the catalog's ARN formats for the action that its
/// patterns match (for `NotResource` or no `Resource`: `*`, every guard and every format).
/// The parts that do not depend on the action are built once per statement, and candidates
/// are tried cheapest first, stopping at the first that is allowed: the answer is the same as
/// trying the whole set, which matters for statements that grant thousands of actions.
struct StatementCandidates<'s> {
    /// `Resource` patterns with their representative; `None` for `NotResource` or none.
    own: Option<Vec<(&'s str, String)>>,
    /// Guard representatives that the statement's patterns cover (all, without patterns).
    guards: Vec<&'s str>,
    partition: &'s str,
    account: &'s str,
}

impl<'s> StatementCandidates<'s> {
    fn new(
        statement: &'s Statement,
        guards: &'s [(String, String)],
        partition: &'s str,
        account: &'s str,
    ) -> Self {
        match &statement.resource {
            Some(ResourceClause::Resource(patterns)) => StatementCandidates {
                own: Some(
                    patterns
                        .iter()
                        .map(|pattern| {
                            (
                                pattern.as_str(),
                                representative(pattern, partition, account),
                            )
                        })
                        .collect(),
                ),
                guards: guards
                    .iter()
                    .filter(|(guard, _)| {
                        patterns
                            .iter()
                            .any(|pattern| pattern_covers(pattern, guard, Case::Sensitive))
                    })
                    .map(|(_, concrete)| concrete.as_str())
                    .collect(),
                partition,
                account,
            },
            Some(ResourceClause::NotResource(_)) | None => StatementCandidates {
                own: None,
                guards: guards
                    .iter()
                    .map(|(_, concrete)| concrete.as_str())
                    .collect(),
                partition,
                account,
            },
        }
    }

    fn any_allowed(&self, action: &str, catalog: &Catalog, originals: &Originals<'_>) -> bool {
        let allowed = |resource: &str| {
            matches!(
                originals
                    .full
                    .evaluate(&originals.request(action, resource))
                    .outcome,
                Outcome::Allowed | Outcome::Conditional { .. }
            )
        };
        if !takes_resources(catalog, action) {
            return allowed("*");
        }
        let first_tried = match &self.own {
            Some(own) => own.iter().any(|(_, concrete)| allowed(concrete)),
            None => allowed("*"),
        };
        if first_tried || self.guards.iter().any(|concrete| allowed(concrete)) {
            return true;
        }
        let formats = catalog
            .action(action)
            .into_iter()
            .flat_map(|known| {
                known
                    .resource_types
                    .iter()
                    .filter_map(|resource_type| catalog.resource_type(known, &resource_type.name))
            })
            .flat_map(|resource_type| resource_type.arn_formats.iter())
            .map(|format| representative(format, self.partition, self.account));
        let mut tried = BTreeSet::new();
        for concrete in formats {
            let in_statement = match &self.own {
                Some(own) => own
                    .iter()
                    .any(|(pattern, _)| glob_match(pattern, &concrete, Case::Sensitive)),
                None => true,
            };
            if in_statement && tried.insert(concrete.clone()) && allowed(&concrete) {
                return true;
            }
        }
        false
    }
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
