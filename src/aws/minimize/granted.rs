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
//!
//! Every question here is asked once per (statement, granted action), which for a statement
//! granting `*` is the whole catalog. Two facts keep that cheap: actions are handled by their
//! catalog position ([`super::actions`]), and the evaluator's answer for a request depends on
//! the action only through *which statements' action elements match it* (conditions read the
//! request context, never the action). Actions with the same matching statements (the same
//! **signature**) and a resource in common get the same answer, so a statement granting all
//! ~22,000 actions needs one evaluation per distinct signature, not one per action.

use super::actions::ActionIndex;
use super::{Origin, Originals, takes_resources};
use crate::aws::eval::{Request, Verdict};
use crate::aws::pattern::Pattern;
use crate::aws::policy::{ActionClause, ResourceClause, Statement};
use crate::catalog::{Action, Catalog};
use crate::matching::{Case, glob_match, has_wildcard, pattern_covers};
use crate::model::Effect;
use std::collections::{BTreeMap, BTreeSet};

/// Stands for any run of characters in a representative resource.
const FILLER: &str = "pipeleash-representative";

/// A statement listing more actions than this shares decisions between actions of the same
/// signature; for fewer, computing the signatures of the whole catalog costs more than it saves.
const SHARED_DECISIONS_FROM: usize = 256;

/// The granted actions, each with the identity statements that grant it.
#[derive(Debug, Default)]
pub(crate) struct Granted {
    /// By catalog position: the index in `origin_sets` of the statements that grant it
    /// (0, the empty set: not granted).
    by_position: Vec<u32>,
    /// Actions the catalog does not know, listed literally by a statement, as written.
    literal: BTreeMap<String, u32>,
    /// Distinct sets of granting statements, each sorted; entry 0 is the empty set.
    origin_sets: Vec<Vec<Origin>>,
    /// (set, origin added) → set, so that a set is stored once however many actions share it.
    extended: BTreeMap<(u32, Origin), u32>,
    /// The last entry of `extended` used: consecutive actions mostly share their set.
    last: Option<((u32, Origin), u32)>,
}

impl Granted {
    fn new(positions: usize) -> Granted {
        Granted {
            by_position: vec![0; positions],
            literal: BTreeMap::new(),
            origin_sets: vec![Vec::new()],
            extended: BTreeMap::new(),
            last: None,
        }
    }

    /// The set `set` with `origin` added (origins arrive in increasing order).
    fn extend(&mut self, set: u32, origin: Origin) -> u32 {
        if let Some((key, next)) = self.last
            && key == (set, origin)
        {
            return next;
        }
        if let Some(&next) = self.extended.get(&(set, origin)) {
            self.last = Some(((set, origin), next));
            return next;
        }
        let mut origins = self.origin_sets[set as usize].clone();
        origins.push(origin);
        let next = self.origin_sets.len() as u32;
        self.origin_sets.push(origins);
        self.extended.insert((set, origin), next);
        self.last = Some(((set, origin), next));
        next
    }

    fn grant_position(&mut self, position: u32, origin: Origin) {
        let set = self.by_position[position as usize];
        self.by_position[position as usize] = self.extend(set, origin);
    }

    fn grant_literal(&mut self, name: &str, origin: Origin) {
        let set = self.literal.get(name).copied().unwrap_or(0);
        let next = self.extend(set, origin);
        self.literal.insert(name.to_string(), next);
    }

    /// Granted catalog actions: (position, index of the set of granting statements).
    pub fn positions(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.by_position
            .iter()
            .enumerate()
            .filter(|(_, set)| **set != 0)
            .map(|(position, set)| (position as u32, *set))
    }

    /// Granted actions the catalog does not know, with their set of granting statements.
    pub fn literals(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.literal.iter().map(|(name, set)| (name.as_str(), *set))
    }

    /// The statements of a set, sorted.
    pub fn origins(&self, set: u32) -> &[Origin] {
        self.origin_sets
            .get(set as usize)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The statements granting an action (canonical catalog name, or a literal as written);
    /// `None` when it is not granted.
    pub fn origins_of(
        &self,
        action: &str,
        catalog: &Catalog,
        index: &ActionIndex<'_>,
    ) -> Option<&[Origin]> {
        let set = match catalog
            .action(action)
            .and_then(|entry| index.position(entry))
        {
            Some(position) => self.by_position.get(position as usize).copied()?,
            None => self.literal.get(action).copied()?,
        };
        (set != 0).then(|| self.origins(set))
    }
}

/// Every granted action.
pub(crate) fn granted_actions(
    originals: &Originals<'_>,
    catalog: &Catalog,
    index: &ActionIndex<'_>,
) -> Granted {
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
    // Built on first need: a statement listing few actions decides each on its own.
    let mut signatures: Option<Option<Vec<u64>>> = None;
    let mut request = originals.request("", "");
    let mut granted = Granted::new(index.len());
    for &origin in originals.statements.keys() {
        let Some((_, statement)) = originals.statement(origin) else {
            continue;
        };
        let candidates = StatementCandidates::new(statement, &guards, partition, account);
        let listed = listed_actions(statement, catalog, index);
        let signatures = if listed.positions.len() > SHARED_DECISIONS_FROM {
            signatures
                .get_or_insert_with(|| compute_signatures(originals, catalog, index))
                .as_ref()
        } else {
            None
        };
        // (signature, takes resources) → allowed on one of the statement's own candidates.
        let mut decided: BTreeMap<(u64, bool), bool> = BTreeMap::new();
        for position in listed.positions {
            let Some(action) = index.get(position) else {
                continue;
            };
            let takes = !action.resource_types.is_empty();
            let first = |request: &mut Request| {
                candidates.first_allowed(&action.name, takes, originals, request)
            };
            let allowed = match signatures {
                Some(signatures) => match decided.get(&(signatures[position as usize], takes)) {
                    Some(&allowed) => allowed,
                    None => {
                        let allowed = first(&mut request);
                        decided.insert((signatures[position as usize], takes), allowed);
                        allowed
                    }
                },
                None => first(&mut request),
            };
            if allowed
                || (takes && candidates.format_allowed(action, catalog, originals, &mut request))
            {
                granted.grant_position(position, origin);
            }
        }
        for name in listed.literals {
            let takes = takes_resources(catalog, &name);
            if candidates.first_allowed(&name, takes, originals, &mut request) {
                granted.grant_literal(&name, origin);
            }
        }
    }
    granted
}

/// The actions an `Allow` statement lists: catalog positions, and literal actions the catalog
/// does not know, kept as written (they may be new; they are never guessed away).
struct Listed {
    positions: Vec<u32>,
    literals: BTreeSet<String>,
}

/// `Action` patterns are expanded as [`Catalog::expand`] does (`*` is everything, a pattern
/// without `:` matches nothing, a literal service part looks at that service only);
/// `NotAction` lists every catalog action none of its patterns matches.
fn listed_actions(statement: &Statement, catalog: &Catalog, index: &ActionIndex<'_>) -> Listed {
    let mut listed = Listed {
        positions: Vec::new(),
        literals: BTreeSet::new(),
    };
    match &statement.action {
        ActionClause::Action(patterns) => {
            for pattern in patterns {
                let before = listed.positions.len();
                if pattern == "*" {
                    listed.positions.extend(0..index.len() as u32);
                    continue;
                }
                let Some((service, _)) = pattern.split_once(':') else {
                    continue;
                };
                if !has_wildcard(pattern) {
                    if let Some(position) = catalog
                        .action(pattern)
                        .and_then(|action| index.position(action))
                    {
                        listed.positions.push(position);
                    }
                } else {
                    let compiled = Pattern::new(pattern, Case::Insensitive);
                    let matching = |(_, action): &(u32, &Action)| compiled.matches(&action.name);
                    if has_wildcard(service) {
                        listed
                            .positions
                            .extend(index.iter().filter(matching).map(|(position, _)| position));
                    } else if let Some(range) = catalog
                        .service(service)
                        .and_then(|found| index.service_range(found))
                    {
                        listed.positions.extend(
                            range
                                .filter_map(|position| Some((position, index.get(position)?)))
                                .filter(matching)
                                .map(|(position, _)| position),
                        );
                    }
                }
                if listed.positions.len() == before && !has_wildcard(pattern) {
                    listed.literals.insert(pattern.clone());
                }
            }
            listed.positions.sort_unstable();
            listed.positions.dedup();
        }
        ActionClause::NotAction(patterns) => {
            let compiled: Vec<Pattern> = patterns
                .iter()
                .map(|pattern| Pattern::new(pattern, Case::Insensitive))
                .collect();
            listed.positions = index
                .iter()
                .filter(|(_, action)| !compiled.iter().any(|pattern| pattern.matches(&action.name)))
                .map(|(position, _)| position)
                .collect();
        }
    }
    listed
}

/// For every catalog position, which statements of the whole policy set (identity, boundary
/// and SCPs; `Allow` and `Deny`) have an action element matching the action, one bit each, as
/// the evaluator matches them. `None` with more than 64 statements: then every action is
/// evaluated on its own.
fn compute_signatures(
    originals: &Originals<'_>,
    catalog: &Catalog,
    index: &ActionIndex<'_>,
) -> Option<Vec<u64>> {
    let input = originals.input;
    let statements: Vec<&Statement> = input
        .identity_policies
        .iter()
        .chain(input.boundary.iter())
        .chain(input.scps.iter().flatten())
        .flat_map(|policy| policy.document.statements.iter())
        .collect();
    if statements.len() > 64 {
        return None;
    }
    let mut signatures = vec![0u64; index.len()];
    for (bit, statement) in statements.iter().enumerate() {
        let bit = 1u64 << bit;
        let (negated, patterns) = match &statement.action {
            ActionClause::Action(patterns) => (false, patterns),
            ActionClause::NotAction(patterns) => (true, patterns),
        };
        if negated {
            for signature in &mut signatures {
                *signature |= bit;
            }
        }
        for text in patterns {
            let pattern = Pattern::new(text, Case::Insensitive);
            if pattern.is_everything() {
                for signature in &mut signatures {
                    if negated {
                        *signature &= !bit;
                    } else {
                        *signature |= bit;
                    }
                }
                continue;
            }
            // A literal service part can only match that service's actions (names are
            // `service:Action`), as the evaluator's own quick rejection assumes.
            let range = match text.split_once(':') {
                Some((service, _)) if !has_wildcard(service) => catalog
                    .service(service)
                    .and_then(|found| index.service_range(found))
                    .unwrap_or(0..0),
                _ => 0..index.len() as u32,
            };
            for position in range {
                let Some(action) = index.get(position) else {
                    continue;
                };
                if pattern.matches(&action.name) {
                    let signature = &mut signatures[position as usize];
                    if negated {
                        *signature &= !bit;
                    } else {
                        *signature |= bit;
                    }
                }
            }
        }
    }
    Some(signatures)
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
        if let Some(after) = rest.strip_prefix("${")
            && let Some(end) = after.find('}')
        {
            let name = &after[..end];
            out.push_str(match name {
                "Partition" => partition,
                "Account" => account,
                _ => FILLER,
            });
            rest = &after[end + 1..];
            continue;
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

    /// Is the action allowed on one of the candidates that do not depend on the action (the
    /// statement's own representatives, or `*`, then the guards')? For an action without
    /// resource types, `*` is the only candidate and the answer is final.
    fn first_allowed(
        &self,
        action: &str,
        takes_resources: bool,
        originals: &Originals<'_>,
        request: &mut Request,
    ) -> bool {
        let mut allowed = |resource: &str| allowed(originals, request, action, resource);
        if !takes_resources {
            return allowed("*");
        }
        let first_tried = match &self.own {
            Some(own) => own.iter().any(|(_, concrete)| allowed(concrete)),
            None => allowed("*"),
        };
        first_tried || self.guards.iter().any(|concrete| allowed(concrete))
    }

    /// Is the action allowed on a representative of one of the catalog's ARN formats for it
    /// that the statement's resource patterns match?
    fn format_allowed(
        &self,
        action: &Action,
        catalog: &Catalog,
        originals: &Originals<'_>,
        request: &mut Request,
    ) -> bool {
        let formats = action
            .resource_types
            .iter()
            .filter_map(|resource_type| catalog.resource_type(action, &resource_type.name))
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
            if in_statement
                && tried.insert(concrete.clone())
                && allowed(originals, request, &action.name, &concrete)
            {
                return true;
            }
        }
        false
    }
}

/// Does the whole current policy set allow (or conditionally allow) the action on the
/// resource? `request` is reused from call to call, so deciding allocates nothing.
fn allowed(originals: &Originals<'_>, request: &mut Request, action: &str, resource: &str) -> bool {
    request.action.clear();
    request.action.push_str(action);
    request.resource.clear();
    request.resource.push_str(resource);
    matches!(
        originals.full.decide(request),
        Verdict::Allowed | Verdict::Conditional
    )
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
