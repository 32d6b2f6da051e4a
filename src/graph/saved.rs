//! Saved graph queries: small declarative files in `queries/` (`*.query`) that a security
//! reviewer can read and change without reading Rust.
//!
//! The format is one `key = value` per line; `#` starts a comment line, and the leading
//! comment block is the query's description. Each key at most once (a repeated key is an
//! error, not an override). Keys:
//!
//! - `find`: `workloads` (CI workloads named by trusts or seen in logs) or `identities`;
//! - `subject`: for workloads, `pull-request`, `any-branch`, `unreviewed` (either of those),
//!   `any-repository` or `any` (default);
//! - `reaches`: `write`, `permissions-management`, `administrator`, or `action:<permission>` in
//!   any cloud's form: `iam:PutRolePolicy`, `resourcemanager.projects.setIamPolicy`,
//!   `Microsoft.Authorization/roleAssignments/write` (each identity's own cloud decides it);
//! - `environment`: `production` (identities tagged as production, and accounts holding them)
//!   or `any` (default).

use super::query::{GraphQuery, Hop};
use super::subject::classify;
use super::{AccessGraph, Node, is_write_or_above};
use crate::catalog::AccessLevel;
use crate::model::Inventory;

/// Whether `text` is written as a permission of some cloud: AWS `service:Action`, GCP
/// `service.resource.verb`, Azure `Microsoft.Provider/type/action`.
pub(crate) fn is_permission(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(char::is_whitespace)
        && (text.contains(':') || text.contains('/') || text.matches('.').count() >= 2)
}

/// A saved query that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SavedQueryError {
    #[error("saved query line {line}: expected `key = value`, found `{text}`")]
    Shape { line: usize, text: String },
    #[error(
        "saved query line {line}: unknown key `{key}`; known keys are `find`, `subject`, `reaches`, `environment`"
    )]
    UnknownKey { line: usize, key: String },
    #[error("saved query line {line}: `{key}` cannot be `{value}`; expected {expected}")]
    Value {
        line: usize,
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "saved query line {line}: `{key}` is given again (first on line {first}); keep one of them"
    )]
    DuplicateKey {
        line: usize,
        key: String,
        first: usize,
    },
    #[error("saved query has no `reaches` line; say what the matches must reach")]
    MissingReaches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    Workloads,
    Identities,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectFilter {
    Any,
    PullRequest,
    AnyBranch,
    Unreviewed,
    AnyRepository,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachFilter {
    Write,
    PermissionsManagement,
    Administrator,
    Action(String),
}

/// A parsed saved query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub description: String,
    pub find: Find,
    pub subject: SubjectFilter,
    pub reaches: ReachFilter,
    pub production_only: bool,
}

/// Parses the saved-query format.
pub fn parse_saved_query(text: &str) -> Result<SavedQuery, SavedQueryError> {
    let mut description = Vec::new();
    let mut in_header = true;
    let mut find = Find::Workloads;
    let mut subject = SubjectFilter::Any;
    let mut reaches = None;
    let mut production_only = false;
    // Where each key was first given: a second one would silently win over the first.
    let mut given: Vec<(String, usize)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if in_header {
                description.push(comment.trim().to_string());
            }
            continue;
        }
        if trimmed.is_empty() {
            in_header &= description.is_empty();
            continue;
        }
        in_header = false;
        let (key, value) = trimmed
            .split_once('=')
            .map(|(key, value)| (key.trim(), value.trim().trim_matches('"')))
            .ok_or_else(|| SavedQueryError::Shape {
                line,
                text: trimmed.to_string(),
            })?;
        if let Some((_, first)) = given.iter().find(|(seen, _)| seen == key) {
            return Err(SavedQueryError::DuplicateKey {
                line,
                key: key.to_string(),
                first: *first,
            });
        }
        given.push((key.to_string(), line));
        let bad = |key: &'static str, expected: &'static str| SavedQueryError::Value {
            line,
            key,
            value: value.to_string(),
            expected,
        };
        match key {
            "find" => {
                find = match value {
                    "workloads" => Find::Workloads,
                    "identities" => Find::Identities,
                    _ => return Err(bad("find", "`workloads` or `identities`")),
                }
            }
            "subject" => {
                subject = match value {
                    "any" => SubjectFilter::Any,
                    "pull-request" => SubjectFilter::PullRequest,
                    "any-branch" => SubjectFilter::AnyBranch,
                    "unreviewed" => SubjectFilter::Unreviewed,
                    "any-repository" => SubjectFilter::AnyRepository,
                    _ => {
                        return Err(bad(
                            "subject",
                            "`any`, `pull-request`, `any-branch`, `unreviewed` or `any-repository`",
                        ));
                    }
                }
            }
            "reaches" => {
                reaches = Some(match value {
                    "write" => ReachFilter::Write,
                    "permissions-management" => ReachFilter::PermissionsManagement,
                    "administrator" => ReachFilter::Administrator,
                    other => match other.strip_prefix("action:") {
                        Some(action) if is_permission(action) => {
                            ReachFilter::Action(action.to_string())
                        }
                        _ => {
                            return Err(bad(
                                "reaches",
                                "`write`, `permissions-management`, `administrator` or `action:<permission>` (`iam:PutRolePolicy`, `resourcemanager.projects.setIamPolicy`, `Microsoft.Authorization/roleAssignments/write`)",
                            ));
                        }
                    },
                })
            }
            "environment" => {
                production_only = match value {
                    "production" => true,
                    "any" => false,
                    _ => return Err(bad("environment", "`production` or `any`")),
                }
            }
            other => {
                return Err(SavedQueryError::UnknownKey {
                    line,
                    key: other.to_string(),
                });
            }
        }
    }
    Ok(SavedQuery {
        description: description.join(" ").trim().to_string(),
        find,
        subject,
        reaches: reaches.ok_or(SavedQueryError::MissingReaches)?,
        production_only,
    })
}

/// One match of a saved query: where it starts, and the path to what it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMatch {
    pub start: String,
    pub path: Vec<Hop>,
}

impl SavedQuery {
    /// Runs the query; matches are sorted by start, then by the reached node.
    pub fn run(&self, graph: &AccessGraph, inventory: &Inventory) -> Vec<SavedMatch> {
        let query = GraphQuery::new(graph, inventory);
        let mut matches = Vec::new();
        for (_, node) in graph.nodes() {
            let selected = match (self.find, node) {
                (Find::Workloads, Node::Workload(workload)) => {
                    let scope = classify(&workload.issuer, &workload.subject, true);
                    match self.subject {
                        SubjectFilter::Any => true,
                        SubjectFilter::PullRequest => scope.pull_request,
                        SubjectFilter::AnyBranch => scope.any_branch,
                        SubjectFilter::Unreviewed => scope.pull_request || scope.any_branch,
                        SubjectFilter::AnyRepository => scope.any_repository,
                    }
                }
                (Find::Identities, Node::Identity(_)) => true,
                _ => false,
            };
            if !selected {
                continue;
            }
            let key = node.key();
            let Ok(start) = query.resolve(&key) else {
                continue;
            };
            for reached in query.reach(&start) {
                if let Some(hop) = self.satisfied(graph, inventory, reached.node) {
                    let mut path = reached.path;
                    path.push(hop);
                    matches.push(SavedMatch {
                        start: key.clone(),
                        path,
                    });
                }
            }
        }
        matches
    }

    /// Whether a reached node meets `reaches` and `environment`, as the final hop saying so.
    fn satisfied(
        &self,
        graph: &AccessGraph,
        inventory: &Inventory,
        node: petgraph::graph::NodeIndex,
    ) -> Option<Hop> {
        let key = graph.node(node).key();
        let hop = |what: String| Hop {
            from: key.clone(),
            to: what.clone(),
            kind: super::EdgeKind::Granted,
            explanation: what,
        };
        match graph.node(node) {
            Node::Identity(identity) => {
                if self.production_only && !identity.production {
                    return None;
                }
                match &self.reaches {
                    ReachFilter::Write | ReachFilter::PermissionsManagement => {
                        let strongest = identity.strongest.as_ref()?;
                        let enough = match self.reaches {
                            ReachFilter::Write => is_write_or_above(strongest.level),
                            _ => strongest.level == AccessLevel::PermissionsManagement,
                        };
                        enough.then(|| {
                            hop(format!(
                                "{} `{}` on `{}` ({})",
                                strongest.level,
                                strongest.action,
                                strongest.resource,
                                strongest.allowance.as_str()
                            ))
                        })
                    }
                    ReachFilter::Administrator => None,
                    ReachFilter::Action(action) => {
                        let (allowance, resource) =
                            super::decide(inventory, &identity.id, action, None)?;
                        Some(hop(format!(
                            "`{action}` on `{resource}` ({})",
                            allowance.as_str()
                        )))
                    }
                }
            }
            Node::PermissionSet { name, container } => {
                // Administrator access in a container performs only its own cloud's actions.
                if let ReachFilter::Action(action) = &self.reaches
                    && super::cloud::container_provider(container)
                        != super::cloud::permission_provider(action)
                {
                    return None;
                }
                let production = graph
                    .identities()
                    .any(|(_, identity)| identity.container == *container && identity.production);
                if self.production_only && !production {
                    return None;
                }
                Some(hop(format!("{name} access in `{container}`")))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_format_and_names_bad_lines() {
        let query = parse_saved_query(
            "# Pull requests that write.\n# Second line.\n\nfind = workloads\nsubject = pull-request\nreaches = write\nenvironment = production\n",
        )
        .unwrap();
        assert_eq!(query.description, "Pull requests that write. Second line.");
        assert_eq!(query.subject, SubjectFilter::PullRequest);
        assert_eq!(query.reaches, ReachFilter::Write);
        assert!(query.production_only);
        assert_eq!(
            parse_saved_query("reaches = action:s3:PutObject")
                .unwrap()
                .reaches,
            ReachFilter::Action("s3:PutObject".into())
        );
        for permission in [
            "resourcemanager.projects.setIamPolicy",
            "Microsoft.Authorization/roleAssignments/write",
        ] {
            assert_eq!(
                parse_saved_query(&format!("reaches = action:{permission}"))
                    .unwrap()
                    .reaches,
                ReachFilter::Action(permission.into())
            );
        }
        for bad in ["action:", "action:storage", "action:s3 Put"] {
            assert!(
                matches!(
                    parse_saved_query(&format!("reaches = {bad}")),
                    Err(SavedQueryError::Value { key: "reaches", .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_saved_query("find workloads"),
            Err(SavedQueryError::Shape { line: 1, .. })
        ));
        assert!(matches!(
            parse_saved_query("colour = red"),
            Err(SavedQueryError::UnknownKey { .. })
        ));
        assert!(matches!(
            parse_saved_query("reaches = everything"),
            Err(SavedQueryError::Value { key: "reaches", .. })
        ));
        assert_eq!(
            parse_saved_query("find = workloads"),
            Err(SavedQueryError::MissingReaches)
        );
    }

    /// A key given twice would let the later line silently override the first (a query
    /// meant for `pull-request` subjects running over `any`): every key, not only one, is an
    /// error when repeated, naming both lines.
    #[test]
    fn a_repeated_key_is_an_error_naming_both_lines() {
        for key_value in [
            "find = identities",
            "subject = any",
            "reaches = write",
            "environment = any",
        ] {
            let text = format!("# q\n{key_value}\nreaches = administrator\n{key_value}\n");
            let text = if key_value.starts_with("reaches") {
                "reaches = write\nreaches = administrator\n".to_string()
            } else {
                text
            };
            let error = parse_saved_query(&text).unwrap_err();
            assert!(
                matches!(error, SavedQueryError::DuplicateKey { .. }),
                "{key_value}: {error}"
            );
            let message = error.to_string();
            assert!(message.contains("is given again"), "{message}");
        }
        let error = parse_saved_query("reaches = write\nfind = workloads\nreaches = administrator")
            .unwrap_err();
        assert_eq!(
            error,
            SavedQueryError::DuplicateKey {
                line: 3,
                key: "reaches".into(),
                first: 1
            }
        );
    }
}
