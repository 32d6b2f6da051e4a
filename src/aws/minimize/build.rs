//! Steps 3 to 6: kept permissions become statements and statements become documents.
//!
//! - Each kept (action, original statement) gets its resources (generalized used ARNs, or the
//!   original statement's resource element) and exactly the original statement's conditions.
//! - Resources are only ever taken from usage when an original resource pattern covers them
//!   (`pattern_covers`); otherwise the original statement's element is copied, which is never
//!   wider than itself.
//! - Permissions are grouped by (conditions, resources) into statements with sorted actions.
//! - Original `Deny` statements that touch a kept action are carried over unchanged.
//! - Documents are packed under the size quota: IAM counts the characters of a policy without
//!   whitespace; a customer managed policy may hold [`MANAGED_POLICY_LIMIT`] of them and all
//!   inline policies of a role together [`INLINE_ROLE_AGGREGATE_LIMIT`] (IAM User Guide, "IAM
//!   and AWS STS quotas", character limits). The size is measured on compact JSON, counting
//!   bytes, which is never less than what IAM counts.

use super::generalize::generalize;
use super::{
    Kept, KeptResources, MinimizeError, MinimizeOptions, MinimizedPolicy, Originals, SizeTarget,
    statement_matches_action, variables_enabled,
};
use crate::aws::PolicyVersion;
use crate::aws::policy::{ActionClause, Condition, PolicyDocument, ResourceClause, Statement};
use crate::matching::{Case, glob_match, has_wildcard, pattern_covers};
use crate::model::Effect;
use std::collections::{BTreeMap, BTreeSet};

/// Characters (without whitespace) a customer managed policy may hold.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;
/// Characters (without whitespace) all inline policies of one role may hold together.
pub const INLINE_ROLE_AGGREGATE_LIMIT: usize = 10_240;
/// Managed policies IAM attaches to one role by default (adjustable quota).
pub(crate) const MANAGED_PER_ROLE: usize = 10;

/// The size IAM counts for a document: its compact JSON in bytes (an upper bound of the
/// non-whitespace characters IAM counts).
pub fn policy_size(document: &PolicyDocument) -> usize {
    document.to_json().to_string().len()
}

/// A stable text key for a statement's conditions, for grouping.
fn conditions_key(conditions: &[Condition]) -> String {
    let mut parts: Vec<String> = conditions
        .iter()
        .map(|condition| {
            format!(
                "{}\u{1}{}\u{1}{}",
                condition.operator,
                condition.key,
                condition.values.join("\u{2}")
            )
        })
        .collect();
    parts.sort();
    parts.join("\u{0}")
}

fn sorted_conditions(conditions: &[Condition]) -> Vec<Condition> {
    let mut sorted = conditions.to_vec();
    sorted.sort_by_key(|condition| conditions_key(std::slice::from_ref(condition)));
    sorted
}

/// Is `pattern` inside the original statement's resource element, structurally?
///
/// A `Resource` entry covers it by glob-pattern subsumption; an entry with a policy variable
/// (in a document where variables are live) only covers the identical text. A `NotResource`
/// element covers only literal ARNs that none of its entries match. No resource element
/// covers nothing (such statements are copied, never narrowed).
pub(crate) fn clause_covers(
    clause: Option<&ResourceClause>,
    pattern: &str,
    variables: bool,
) -> bool {
    // A `${` in new text would be read as a variable in the 2012-10-17 output.
    if pattern.contains("${") && !variables {
        return false;
    }
    match clause {
        Some(ResourceClause::Resource(entries)) => entries.iter().any(|entry| {
            if variables && (entry.contains("${") || pattern.contains("${")) {
                entry == pattern
            } else {
                pattern_covers(entry, pattern, Case::Sensitive)
            }
        }),
        Some(ResourceClause::NotResource(entries)) => {
            !has_wildcard(pattern)
                && !pattern.contains("${")
                && !entries.iter().any(|entry| {
                    entry.contains("${") || glob_match(entry, pattern, Case::Sensitive)
                })
        }
        None => false,
    }
}

/// A resource element copied from an original statement, with its text key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Copied {
    clause: Option<ResourceClause>,
}

fn clause_key(clause: Option<&ResourceClause>) -> String {
    match clause {
        None => "none".to_string(),
        Some(ResourceClause::Resource(list)) => format!("r\u{0}{}", list.join("\u{0}")),
        Some(ResourceClause::NotResource(list)) => format!("n\u{0}{}", list.join("\u{0}")),
    }
}

/// Builds the new `Allow` statements (without `Sid`s; [`pack`] numbers them).
pub(crate) fn allow_statements(
    originals: &Originals<'_>,
    kept: &[Kept],
    threshold: usize,
) -> Vec<Statement> {
    // (conditions key, action) → resource patterns; conditions by key.
    let mut patterns: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut copied: BTreeMap<(String, String, String), Copied> = BTreeMap::new();
    let mut conditions_by_key: BTreeMap<String, Vec<Condition>> = BTreeMap::new();
    for entry in kept {
        let Some((_, statement)) = originals.statement(entry.origin) else {
            continue;
        };
        let variables = variables_enabled(originals, entry.origin);
        let key = conditions_key(&statement.conditions);
        conditions_by_key
            .entry(key.clone())
            .or_insert_with(|| sorted_conditions(&statement.conditions));
        let clause = statement.resource.as_ref();
        let mut copy_clause = false;
        let target = patterns
            .entry((key.clone(), entry.action.clone()))
            .or_default();
        match &entry.resources {
            KeptResources::Used(used) => {
                for pattern in generalize(used, threshold) {
                    if clause_covers(clause, &pattern, variables) {
                        target.insert(pattern);
                        continue;
                    }
                    // The generalized pattern is not provably inside the grant: fall back to
                    // the exact ARNs it stood for, then to the original element.
                    for resource in used.iter().filter(|resource| {
                        **resource == pattern || glob_match(&pattern, resource, Case::Sensitive)
                    }) {
                        if clause_covers(clause, resource, variables) {
                            target.insert(resource.clone());
                        } else {
                            copy_clause = true;
                        }
                    }
                }
            }
            KeptResources::Original => copy_clause = true,
        }
        if copy_clause {
            match clause {
                Some(ResourceClause::Resource(list)) => target.extend(list.iter().cloned()),
                other => {
                    copied.insert(
                        (key.clone(), clause_key(other), entry.action.clone()),
                        Copied {
                            clause: other.cloned(),
                        },
                    );
                }
            }
        }
    }

    // Group actions that share (conditions, resources).
    let mut groups: BTreeMap<(String, String), (Option<ResourceClause>, BTreeSet<String>)> =
        BTreeMap::new();
    for ((key, action), set) in patterns {
        if set.is_empty() {
            continue;
        }
        let resources = prune_covered(set);
        let clause = ResourceClause::Resource(resources);
        groups
            .entry((key, clause_key(Some(&clause))))
            .or_insert_with(|| (Some(clause), BTreeSet::new()))
            .1
            .insert(action);
    }
    for ((key, clause_text, action), copy) in copied {
        groups
            .entry((key, clause_text))
            .or_insert_with(|| (copy.clause, BTreeSet::new()))
            .1
            .insert(action);
    }
    let mut statements: Vec<Statement> = groups
        .into_iter()
        .map(|((key, _), (clause, actions))| {
            let mut actions: Vec<String> = actions.into_iter().collect();
            actions.sort_by_key(|action| action.to_ascii_lowercase());
            Statement {
                index: 0,
                sid: None,
                effect: Effect::Allow,
                action: ActionClause::Action(actions),
                resource: clause,
                principal: None,
                conditions: conditions_by_key.get(&key).cloned().unwrap_or_default(),
            }
        })
        .collect();
    statements.sort_by_cached_key(|statement| statement.to_json().to_string());
    statements
}

/// Removes patterns another pattern of the same set already covers. Patterns with policy
/// variables are left alone: their meaning depends on the request.
fn prune_covered(set: BTreeSet<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for pattern in set {
        let plain = |text: &str| !text.contains("${");
        if plain(&pattern)
            && kept
                .iter()
                .any(|other| plain(other) && pattern_covers(other, &pattern, Case::Sensitive))
        {
            continue;
        }
        if plain(&pattern) {
            kept.retain(|other| {
                !(plain(other) && pattern_covers(&pattern, other, Case::Sensitive))
            });
        }
        kept.push(pattern);
    }
    kept.sort();
    kept
}

/// Original `Deny` statements that apply to some kept action, unchanged, without duplicates.
pub(crate) fn carried_denies(
    originals: &Originals<'_>,
    kept_actions: &BTreeSet<&str>,
) -> Vec<Statement> {
    let mut denies: Vec<Statement> = Vec::new();
    for policy in &originals.input.identity_policies {
        for statement in &policy.document.statements {
            if statement.effect != Effect::Deny {
                continue;
            }
            if !kept_actions
                .iter()
                .any(|action| statement_matches_action(statement, action))
            {
                continue;
            }
            let mut copy = statement.clone();
            copy.index = 0;
            if !denies.contains(&copy) {
                denies.push(copy);
            }
        }
    }
    denies
}

fn document(statements: Vec<Statement>) -> PolicyDocument {
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(index, mut statement)| {
            statement.index = index;
            statement
        })
        .collect();
    PolicyDocument {
        version: Some(PolicyVersion::V2012_10_17),
        id: None,
        statements,
    }
}

fn first_action(statement: &Statement) -> String {
    match &statement.action {
        ActionClause::Action(list) | ActionClause::NotAction(list) => {
            list.first().cloned().unwrap_or_default()
        }
    }
}

/// Halves a statement that is too large alone: its resources first, then its actions.
fn halve(statement: &Statement) -> Option<(Statement, Statement)> {
    if let Some(ResourceClause::Resource(list)) = &statement.resource
        && list.len() > 1
    {
        let (left, right) = list.split_at(list.len() / 2);
        let mut a = statement.clone();
        let mut b = statement.clone();
        a.resource = Some(ResourceClause::Resource(left.to_vec()));
        b.resource = Some(ResourceClause::Resource(right.to_vec()));
        return Some((a, b));
    }
    if let ActionClause::Action(list) = &statement.action
        && list.len() > 1
    {
        let (left, right) = list.split_at(list.len() / 2);
        let mut a = statement.clone();
        let mut b = statement.clone();
        a.action = ActionClause::Action(left.to_vec());
        b.action = ActionClause::Action(right.to_vec());
        return Some((a, b));
    }
    None
}

/// Packs statements into documents under the size quota, denies first, in order.
pub(crate) fn pack(
    statements: Vec<Statement>,
    denies: Vec<Statement>,
    options: &MinimizeOptions,
) -> Result<Vec<MinimizedPolicy>, MinimizeError> {
    let limit = match options.size_target {
        SizeTarget::Managed => MANAGED_POLICY_LIMIT,
        SizeTarget::Inline => INLINE_ROLE_AGGREGATE_LIMIT,
    };
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    let deny_size = policy_size(&document(denies.clone()));
    if !denies.is_empty() && deny_size > limit {
        return Err(MinimizeError::StatementTooLarge {
            action: denies.first().map(first_action).unwrap_or_default(),
            size: deny_size,
            limit,
        });
    }
    // Split statements too large for a document of their own. A placeholder `Sid` as long
    // as any real one keeps the measurement an upper bound.
    let sid_width = "Allow".len() + 10;
    let measure = |statement: &Statement| {
        let mut probe = statement.clone();
        probe.sid = Some("x".repeat(sid_width));
        policy_size(&document(vec![probe]))
    };
    let mut fitting: Vec<Statement> = Vec::new();
    let mut work: Vec<Statement> = statements.into_iter().rev().collect();
    while let Some(statement) = work.pop() {
        let size = measure(&statement);
        if size <= limit {
            fitting.push(statement);
            continue;
        }
        match halve(&statement) {
            Some((left, right)) => {
                work.push(right);
                work.push(left);
            }
            None => {
                return Err(MinimizeError::StatementTooLarge {
                    action: first_action(&statement),
                    size,
                    limit,
                });
            }
        }
    }
    for (number, statement) in fitting.iter_mut().enumerate() {
        statement.sid = Some(format!("Allow{}", number + 1));
    }

    let mut documents: Vec<Vec<Statement>> = vec![denies];
    for statement in fitting {
        let current = documents.len() - 1;
        let mut candidate = documents[current].clone();
        candidate.push(statement.clone());
        if policy_size(&document(candidate.clone())) <= limit {
            documents[current] = candidate;
        } else {
            documents.push(vec![statement]);
        }
    }
    let policies: Vec<MinimizedPolicy> = documents
        .into_iter()
        .filter(|statements| !statements.is_empty())
        .enumerate()
        .map(|(position, statements)| {
            let document = document(statements);
            MinimizedPolicy {
                name: if position == 0 {
                    options.policy_name.clone()
                } else {
                    format!("{}-{}", options.policy_name, position + 1)
                },
                size: policy_size(&document),
                document,
            }
        })
        .collect();
    if options.size_target == SizeTarget::Inline {
        let total: usize = policies.iter().map(|policy| policy.size).sum();
        if total > INLINE_ROLE_AGGREGATE_LIMIT {
            return Err(MinimizeError::InlineAggregateTooLarge {
                size: total,
                limit: INLINE_ROLE_AGGREGATE_LIMIT,
            });
        }
    }
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_covers_table() {
        let resource = |list: &[&str]| {
            Some(ResourceClause::Resource(
                list.iter().map(|s| s.to_string()).collect(),
            ))
        };
        let not_resource = |list: &[&str]| {
            Some(ResourceClause::NotResource(
                list.iter().map(|s| s.to_string()).collect(),
            ))
        };
        let cases: Vec<(Option<ResourceClause>, &str, bool)> = vec![
            (resource(&["arn:aws:s3:::b/*"]), "arn:aws:s3:::b/x/*", true),
            (resource(&["arn:aws:s3:::b/*"]), "arn:aws:s3:::c/x", false),
            (resource(&["*"]), "arn:aws:s3:::c/x", true),
            (
                resource(&["arn:aws:s3:::b/${aws:username}/*"]),
                "arn:aws:s3:::b/${aws:username}/*",
                true,
            ),
            (
                resource(&["arn:aws:s3:::b/${aws:username}/*"]),
                "arn:aws:s3:::b/alice/x",
                false,
            ),
            (
                not_resource(&["arn:aws:s3:::secret/*"]),
                "arn:aws:s3:::b/x",
                true,
            ),
            (
                not_resource(&["arn:aws:s3:::secret/*"]),
                "arn:aws:s3:::secret/x",
                false,
            ),
            (
                not_resource(&["arn:aws:s3:::secret/*"]),
                "arn:aws:s3:::b/*",
                false,
            ),
            (None, "arn:aws:s3:::b/x", false),
        ];
        for (clause, pattern, expected) in cases {
            assert_eq!(
                clause_covers(clause.as_ref(), pattern, true),
                expected,
                "{clause:?} {pattern}"
            );
        }
    }

    #[test]
    fn prune_keeps_the_wider_pattern() {
        let set: BTreeSet<String> = ["arn:aws:s3:::b/*", "arn:aws:s3:::b/x", "arn:aws:s3:::c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(prune_covered(set), ["arn:aws:s3:::b/*", "arn:aws:s3:::c"]);
    }
}
