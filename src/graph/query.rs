//! Questions over the access graph: who can perform an action, what a workload or identity can
//! reach, and the shortest paths that explain how.
//!
//! Traversal follows only the edges that make one principal another or give it more power
//! (`can-assume`, `can-chain`, `can-escalate`, an observed `AssumeRole*`, and an administrator
//! grant); `granted` and `used` edges describe what a principal does, not whom it becomes.
//! Breadth-first search over neighbours sorted by key gives the same shortest path every run.

use super::Allowance;
use super::{AccessGraph, Edge, EdgeKind, Node};
use crate::matching::{Case, glob_match};
use crate::model::{CiWorkload, ClaimMatch, IdentityId, Inventory, Provider};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A question that cannot be answered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "`{0}` names no identity, workload or account in the graph; give a role ARN, `aws:<arn>`, a role name, or a CI subject such as `repo:acme/web:pull_request`"
    )]
    UnknownStart(String),
    #[error("`{name}` names {count} identities; give the full ARN instead")]
    Ambiguous { name: String, count: usize },
    #[error(
        "`{0}` is neither an identity nor a permission; give an identity (role ARN or name, service account email, object id) or a permission as its cloud writes it: `s3:PutObject`, `resourcemanager.projects.setIamPolicy`, `Microsoft.Authorization/roleAssignments/write`"
    )]
    UnknownTarget(String),
}

/// One hop of a path, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub explanation: String,
}

/// Where a traversal starts: a node of the graph, or a concrete CI subject admitted by trusts
/// that only name it by pattern.
#[derive(Debug, Clone)]
pub struct Start {
    pub label: String,
    /// Seed nodes, each with the hop that led to it from the start (none for the start node).
    seeds: Vec<(NodeIndex, Option<Hop>)>,
}

impl Start {
    /// Whether the start reaches nothing at all.
    pub fn is_empty(&self) -> bool {
        self.seeds.is_empty()
    }
}

/// A node reached from a start, with the shortest path to it.
#[derive(Debug, Clone)]
pub struct Reached {
    pub node: NodeIndex,
    pub path: Vec<Hop>,
}

/// One identity that can perform an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoCan {
    pub identity: IdentityId,
    pub allowance: Allowance,
    /// How: the granting statements, or the escalation that yields administrator access.
    pub how: Vec<String>,
    /// Everything that can become the identity (workloads, accounts, other identities), by key.
    pub reachable_from: Vec<String>,
}

/// What a `paths` query looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Node(NodeIndex),
    /// Any identity allowed the action (on the resource, when given), or administrator access.
    Action {
        action: String,
        resource: Option<String>,
    },
}

/// Queries over a graph and the inventory it was built from.
pub struct GraphQuery<'a> {
    pub graph: &'a AccessGraph,
    pub inventory: &'a Inventory,
}

impl<'a> GraphQuery<'a> {
    pub fn new(graph: &'a AccessGraph, inventory: &'a Inventory) -> Self {
        GraphQuery { graph, inventory }
    }

    /// Resolves a user's name for a start: a node key, an identity id or ARN, a unique
    /// identity name, or a CI subject (`repo:…`, optionally `<issuer host>|<subject>`).
    pub fn resolve(&self, spec: &str) -> Result<Start, QueryError> {
        if let Some(index) = self.identity_index(spec)? {
            return Ok(Start {
                label: self.graph.node(index).key(),
                seeds: vec![(index, None)],
            });
        }
        if let Some(index) = self.graph.node_index(spec) {
            return Ok(Start {
                label: spec.to_string(),
                seeds: vec![(index, None)],
            });
        }
        let (issuer, subject) = match spec.split_once('|') {
            Some((issuer, subject)) => (Some(super::issuer_host(issuer)), subject),
            None => (None, spec),
        };
        let mut seeds: Vec<(NodeIndex, Option<Hop>)> = Vec::new();
        // Workload nodes named exactly (a trust pattern or an observed subject).
        for (index, node) in self.graph.nodes() {
            let Node::Workload(workload) = node else {
                continue;
            };
            let same_issuer = issuer
                .as_ref()
                .is_none_or(|issuer| *issuer == super::issuer_host(&workload.issuer_url));
            if workload.subject == subject && same_issuer {
                seeds.push((index, None));
            }
        }
        // Trusts that admit the subject through a pattern.
        let label = match &issuer {
            Some(issuer) => format!("workload {issuer}|{subject}"),
            None => format!("workload {subject}"),
        };
        for (identity, trust) in self.graph.federated() {
            let host = super::issuer_host(&trust.issuer);
            if issuer.as_ref().is_some_and(|issuer| *issuer != host) {
                continue;
            }
            let workload = CiWorkload::new(&format!("https://{host}"), subject);
            let audience = trust.audiences.first().map(String::as_str);
            let mut claims = derived_claims(&workload);
            // The workflow chooses the audience it requests, so assume the one the trust wants.
            if let Some(audience) = audience {
                claims.insert("aud".to_string(), audience.to_string());
            }
            // A condition on a claim the subject does not tell (`repository_owner_id`, an
            // unreadable expression) may hold: the trust admits the workload conditionally.
            let verdict =
                trust.admits_partially_known(&workload, audience, &claims, |condition, claims| {
                    condition
                        .values
                        .first()
                        .map_or(ClaimMatch::Unknown(String::new()), |text| {
                            crate::azure::checks::expression::evaluate(text, claims)
                        })
                });
            let undecided = match verdict {
                ClaimMatch::Matches => None,
                ClaimMatch::Unknown(reason) => Some(reason),
                ClaimMatch::DoesNotMatch => continue,
            };
            {
                let mut conditions: Vec<String> = trust
                    .conditions
                    .iter()
                    .map(super::render_condition)
                    .collect();
                if let Some(reason) = undecided.filter(|reason| !reason.is_empty()) {
                    conditions.push(format!("(possible: {reason})"));
                }
                seeds.push((
                    *identity,
                    Some(Hop {
                        from: label.clone(),
                        to: self.graph.node(*identity).key(),
                        kind: EdgeKind::CanAssume,
                        explanation: Edge::CanAssume {
                            trust: trust.source.clone(),
                            conditions,
                        }
                        .explain(),
                    }),
                ));
            }
        }
        if seeds.is_empty() {
            return Err(QueryError::UnknownStart(spec.to_string()));
        }
        seeds.sort_by_key(|(index, hop)| (hop.is_some(), self.graph.node(*index).key()));
        seeds.dedup_by_key(|(index, _)| *index);
        Ok(Start { label, seeds })
    }

    /// An identity named by id, ARN or unique display name.
    fn identity_index(&self, spec: &str) -> Result<Option<NodeIndex>, QueryError> {
        let prefixed = ["aws:", "gcp:", "azure:"]
            .iter()
            .any(|prefix| spec.starts_with(prefix));
        let candidates = if prefixed {
            vec![spec.to_string()]
        } else {
            // A GCP service account's email is its id (lower case); an Azure identity's id is
            // its object id.
            vec![
                format!("aws:{spec}"),
                format!("gcp:{}", spec.to_ascii_lowercase()),
                format!("azure:{}", spec.to_ascii_lowercase()),
            ]
        };
        if let Some(index) = candidates.iter().find_map(|id| self.graph.node_index(id)) {
            return Ok(Some(index));
        }
        let named: Vec<NodeIndex> = self
            .graph
            .identities()
            .filter(|(_, identity)| identity.name == spec)
            .map(|(index, _)| index)
            .collect();
        match named.len() {
            0 => Ok(None),
            1 => Ok(Some(named[0])),
            count => Err(QueryError::Ambiguous {
                name: spec.to_string(),
                count,
            }),
        }
    }

    /// Breadth-first search from the start over the edges that change who one is; every
    /// reached node with the first (shortest) path found to it, in order of distance.
    pub fn reach(&self, start: &Start) -> Vec<Reached> {
        let mut paths: BTreeMap<NodeIndex, Vec<Hop>> = BTreeMap::new();
        let mut order = Vec::new();
        let mut queue = VecDeque::new();
        for (seed, hop) in &start.seeds {
            if paths.contains_key(seed) {
                continue;
            }
            paths.insert(*seed, hop.iter().cloned().collect());
            order.push(*seed);
            queue.push_back(*seed);
        }
        while let Some(current) = queue.pop_front() {
            for (next, edge) in self.graph.out_edges(current) {
                if paths.contains_key(&next) || !self.traversable(edge, next) {
                    continue;
                }
                let mut path = paths.get(&current).cloned().unwrap_or_default();
                path.push(Hop {
                    from: self.graph.node(current).key(),
                    to: self.graph.node(next).key(),
                    kind: edge.kind(),
                    explanation: edge.explain(),
                });
                paths.insert(next, path);
                order.push(next);
                queue.push_back(next);
            }
        }
        order
            .into_iter()
            .map(|node| Reached {
                node,
                path: paths.remove(&node).unwrap_or_default(),
            })
            .collect()
    }

    fn traversable(&self, edge: &Edge, target: NodeIndex) -> bool {
        edge.is_step()
            || matches!(
                (edge, self.graph.node(target)),
                (Edge::Granted { .. }, Node::PermissionSet { .. })
            )
    }

    /// Resolves a `paths` target: an identity, or else a permission of any cloud (AWS
    /// `service:Action`, GCP `service.resource.verb`, Azure `Microsoft.Provider/type/action`);
    /// each reached identity's own cloud decides whether it holds it.
    pub fn target(&self, spec: &str, resource: Option<&str>) -> Result<Target, QueryError> {
        if let Some(index) = self.identity_index(spec)? {
            return Ok(Target::Node(index));
        }
        if let Some(index) = self.graph.node_index(spec) {
            return Ok(Target::Node(index));
        }
        if super::saved::is_permission(spec) {
            return Ok(Target::Action {
                action: spec.to_string(),
                resource: resource.map(str::to_string),
            });
        }
        Err(QueryError::UnknownTarget(spec.to_string()))
    }

    /// The shortest explanatory path from the start to each node meeting the target, shortest
    /// first; for an action target the final hop says which grant allows it.
    pub fn paths(&self, start: &Start, target: &Target) -> Vec<Vec<Hop>> {
        let mut found = Vec::new();
        for reached in self.reach(start) {
            match target {
                Target::Node(index) => {
                    if reached.node == *index {
                        found.push(reached.path);
                    }
                }
                Target::Action { action, resource } => {
                    if let Some(hop) = self.performs(reached.node, action, resource.as_deref()) {
                        let mut path = reached.path;
                        path.push(hop);
                        found.push(path);
                    }
                }
            }
        }
        found.sort_by_key(Vec::len);
        found
    }

    /// Whether a reached node can perform the action: an identity whose policies allow it, or
    /// administrator access in the resource's account.
    fn performs(&self, node: NodeIndex, action: &str, resource: Option<&str>) -> Option<Hop> {
        match self.graph.node(node) {
            Node::Identity(identity) if identity.id.provider() != Provider::Aws => {
                let (allowance, on, _) =
                    super::cloud::decide(self.inventory, &identity.id, action, resource)?;
                Some(Hop {
                    from: identity.id.to_string(),
                    to: format!("action:{action}"),
                    kind: EdgeKind::Granted,
                    explanation: format!("`{action}` on `{on}` {}", allowance.as_str()),
                })
            }
            Node::Identity(identity) => {
                let (allowance, on) =
                    super::decide(self.inventory, &identity.id, action, resource)?;
                Some(Hop {
                    from: identity.id.to_string(),
                    to: format!("action:{action}"),
                    kind: EdgeKind::Granted,
                    explanation: format!("`{action}` on `{on}` {}", allowance.as_str()),
                })
            }
            Node::PermissionSet { name, container } => {
                let in_account = in_container(self.inventory, container, action, resource);
                in_account.then(|| Hop {
                    from: format!("{name}@{container}"),
                    to: format!("action:{action}"),
                    kind: EdgeKind::Granted,
                    explanation: format!("{name} access in `{container}` allows `{action}`"),
                })
            }
            _ => None,
        }
    }

    /// Every identity allowed `action` (on `resource` when given), directly or through an
    /// escalation to administrator access, with everything that can become it.
    pub fn who_can(&self, action: &str, resource: Option<&str>) -> Vec<WhoCan> {
        let mut rows: BTreeMap<IdentityId, WhoCan> = BTreeMap::new();
        for (index, identity) in self.graph.identities() {
            if identity.id.provider() != Provider::Aws {
                if let Some((allowance, _, how)) =
                    super::cloud::decide(self.inventory, &identity.id, action, resource)
                {
                    rows.insert(
                        identity.id.clone(),
                        WhoCan {
                            identity: identity.id.clone(),
                            allowance,
                            how,
                            reachable_from: Vec::new(),
                        },
                    );
                }
                continue;
            }
            // Structural pre-filter over the granted edges: only identities with a statement
            // naming the action (and resource) are handed to the evaluator.
            let mut how = Vec::new();
            // Unsorted on purpose: `how` is sorted below, and sorting every identity's edges
            // by key would dominate the query.
            for edge in self.graph.graph.edges(index) {
                let (target, edge) = (edge.target(), edge.weight());
                let Edge::Granted { actions, .. } = edge else {
                    continue;
                };
                let Node::Resource { name } = self.graph.node(target) else {
                    continue;
                };
                let covers = actions.iter().any(|pattern| {
                    pattern.starts_with("everything but ")
                        || glob_match(pattern, action, Case::Insensitive)
                });
                let on = resource.is_none_or(|resource| {
                    glob_match(name, resource, Case::Sensitive) || name == "*"
                });
                if covers && on {
                    how.push(format!("{} on `{name}`", edge.explain()));
                }
            }
            if how.is_empty() {
                continue;
            }
            how.sort();
            let decision = super::decide(self.inventory, &identity.id, action, resource)
                .map(|(allowance, _)| allowance);
            if let Some(allowance) = decision {
                rows.insert(
                    identity.id.clone(),
                    WhoCan {
                        identity: identity.id.clone(),
                        allowance,
                        how,
                        reachable_from: Vec::new(),
                    },
                );
            }
        }
        // Escalation to administrator access gives every action in the account.
        for (index, node) in self.graph.nodes() {
            let Node::PermissionSet { container, .. } = node else {
                continue;
            };
            if !in_container(self.inventory, container, action, resource) {
                continue;
            }
            for (source, edge) in self.graph.in_edges(index) {
                let Edge::CanEscalate { allowance, .. } = edge else {
                    continue;
                };
                let Some(identity) = self.graph.node(source).as_identity() else {
                    continue;
                };
                rows.entry(identity.id.clone())
                    .or_insert_with(|| WhoCan {
                        identity: identity.id.clone(),
                        allowance: *allowance,
                        how: Vec::new(),
                        reachable_from: Vec::new(),
                    })
                    .how
                    .push(format!(
                        "administrator access in `{container}`: {}",
                        edge.explain()
                    ));
            }
        }
        let mut rows: Vec<WhoCan> = rows.into_values().collect();
        for row in &mut rows {
            if let Some(index) = self.graph.node_index(row.identity.as_str()) {
                row.reachable_from = self.sources_of(index);
            }
        }
        rows
    }

    /// Every node from which `target` can be reached over traversable edges, by key.
    pub fn sources_of(&self, target: NodeIndex) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([target]);
        while let Some(current) = queue.pop_front() {
            let incoming = self
                .graph
                .graph
                .edges_directed(current, petgraph::Direction::Incoming);
            for edge in incoming {
                let source = edge.source();
                if self.traversable(edge.weight(), current)
                    && source != target
                    && seen.insert(source)
                {
                    queue.push_back(source);
                }
            }
        }
        let mut keys: Vec<String> = seen
            .into_iter()
            .map(|index| self.graph.node(index).key())
            .collect();
        keys.sort();
        keys
    }
}

/// Claims a trust may test besides `sub`, derived from a GitHub subject so that conditions on
/// `repository` or `repository_owner` are judged instead of failing for lack of the claim.
///
/// Every claim the subject tells is derived: `repository`, `repository_owner` and, in the
/// immutable form, `repository_owner_id` and `repository_id`; `ref` and `ref_type` for a
/// branch or tag subject; `environment`; and each `key:value` pair of a customised subject
/// (<https://docs.github.com/en/actions/reference/openid-connect-reference#example-subject-claims>).
/// A claim the subject does not tell (a pull request's `ref`, `repository_owner_id` in the
/// default form) is left out, and [`crate::model::FederatedTrust::admits_partially_known`]
/// then treats a condition on it as possibly holding.
pub fn derived_claims(workload: &CiWorkload) -> BTreeMap<String, String> {
    use crate::model::GitHubContext;
    let mut claims = BTreeMap::new();
    let Ok(crate::model::SubjectDetails::GitHub(subject)) = workload.subject_details() else {
        return claims;
    };
    for (key, value) in &subject.claims {
        if !matches!(key.as_str(), "repo" | "pull_request" | "sub") {
            claims.insert(key.clone(), value.clone());
        }
    }
    if let Some(repository) = &subject.repository {
        claims.insert("repository".to_string(), repository.full_name());
        claims.insert("repository_owner".to_string(), repository.owner.clone());
        if let Some(owner_id) = repository.owner_id {
            claims.insert("repository_owner_id".to_string(), owner_id.to_string());
        }
        if let Some(id) = repository.id {
            claims.insert("repository_id".to_string(), id.to_string());
        }
    }
    match &subject.context {
        Some(GitHubContext::Branch(branch)) => {
            claims.insert("ref".to_string(), format!("refs/heads/{branch}"));
            claims.insert("ref_type".to_string(), "branch".to_string());
        }
        Some(GitHubContext::Tag(tag)) => {
            claims.insert("ref".to_string(), format!("refs/tags/{tag}"));
            claims.insert("ref_type".to_string(), "tag".to_string());
        }
        Some(GitHubContext::Ref(reference)) => {
            claims.insert("ref".to_string(), reference.clone());
        }
        Some(GitHubContext::Environment(environment)) => {
            claims.insert("environment".to_string(), environment.clone());
        }
        Some(GitHubContext::PullRequest) | None => {}
    }
    claims
}

/// Whether administrator access in `container` gives `action` (on `resource`): the action is
/// of the container's cloud, and the resource, when given, is inside it (an AWS ARN of that
/// account; a GCP or Azure resource name under that scope).
fn in_container(
    inventory: &Inventory,
    container: &str,
    action: &str,
    resource: Option<&str>,
) -> bool {
    let provider = super::cloud::container_provider(container);
    if super::cloud::permission_provider(action) != provider {
        return false;
    }
    resource.is_none_or(|resource| match provider {
        Provider::Aws => crate::aws::Arn::parse(resource)
            .is_none_or(|arn| arn.account.is_empty() || arn.account == container),
        Provider::Gcp => inventory
            .gcp_hierarchy
            .ancestry(resource)
            .iter()
            .any(|ancestor| ancestor == container),
        Provider::Azure => {
            let (scope, target) = (
                crate::azure::AzureScope::new(container),
                crate::azure::AzureScope::new(resource),
            );
            inventory.azure_hierarchy.covers(&scope, &target)
        }
    })
}
