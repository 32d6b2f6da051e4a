//! The access graph of CI identities: which pipeline can become which identity, what each
//! identity can chain to or escalate to, what it is granted and what it used.
//!
//! Nodes and edges are provider-neutral ([`Node`], [`Edge`]); the AWS builder
//! ([`crate::aws::graph`]) fills them from a normalized inventory, optional CloudTrail usage
//! and the catalog; [`cloud`] adds GCP and Azure identities to the same graph (Workload
//! Identity Federation and federated credentials as `can-assume`, impersonation as
//! `can-assume`, IAM-policy rights as `can-escalate`), so queries cross clouds; [`decide`]
//! asks each identity's own cloud whether it may perform an action. Building is pure and
//! deterministic: nodes are added in sorted order, so node indexes, traversal order and output
//! are the same on every run.
//!
//! [`query`] answers `who-can`, `reach` and `paths`; [`saved`] reads the declarative saved
//! queries of `queries/`; [`render`] prints results as tables, JSON, DOT or Mermaid.

pub mod cloud;
pub mod query;
pub mod render;
pub mod saved;
pub mod subject;

use crate::catalog::AccessLevel;
use crate::model::{
    CiIssuer, ClaimCondition, FederatedTrust, Identity, IdentityId, IdentityKind, Provider,
};
use chrono::{DateTime, Utc};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::BTreeMap;
use std::fmt;

/// A CI workload as the graph knows it: an issuer and a subject, which is a pattern when it
/// comes from a trust (`repo:acme/infra:*`) and a concrete subject when it was seen in logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadNode {
    pub issuer: CiIssuer,
    /// The issuer URL with scheme, without a trailing `/`.
    pub issuer_url: String,
    pub subject: String,
    /// Seen assuming a role in the logs (as opposed to only named by a trust).
    pub observed: bool,
}

/// An identity node: enough to print and filter without going back to the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityNode {
    pub id: IdentityId,
    pub kind: IdentityKind,
    pub name: String,
    pub container: String,
    /// Tagged or named as production (see [`production_identity`]).
    pub production: bool,
    /// The most sensitive access level it is allowed, when `Write` or above.
    pub strongest: Option<Strongest>,
    /// Administrator-equivalent: `*` on `*` including IAM policy editing.
    pub administrator: Option<Allowance>,
}

/// A node of the access graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Workload(WorkloadNode),
    Identity(Box<IdentityNode>),
    /// A whole account (project, subscription) trusted as a principal.
    Account {
        provider: Provider,
        id: String,
    },
    /// Any principal at all (`"Principal": "*"`).
    Anyone,
    /// A resource named in a grant (a pattern) or seen in usage (a concrete ARN).
    Resource {
        name: String,
    },
    /// A named set of permissions, e.g. administrator access in one account.
    PermissionSet {
        name: String,
        container: String,
    },
}

impl Node {
    /// The stable key the graph indexes nodes by, and users name them with.
    pub fn key(&self) -> String {
        match self {
            Node::Workload(workload) => workload_key(&workload.issuer_url, &workload.subject),
            Node::Identity(identity) => identity.id.to_string(),
            Node::Account { provider, id } => format!("account:{provider}:{id}"),
            Node::Anyone => "anyone".to_string(),
            Node::Resource { name } => format!("resource:{name}"),
            Node::PermissionSet { name, container } => format!("{name}@{container}"),
        }
    }

    /// A short human label.
    pub fn label(&self) -> String {
        match self {
            Node::Workload(workload) => {
                format!("{} {}", workload.issuer.kind(), workload.subject)
            }
            Node::Identity(identity) => format!(
                "{} {} ({})",
                identity.kind, identity.name, identity.container
            ),
            Node::Account { provider, id } => format!("{provider} account {id}"),
            Node::Anyone => "anyone".to_string(),
            Node::Resource { name } => name.clone(),
            Node::PermissionSet { name, container } => format!("{name} in {container}"),
        }
    }

    /// The kind name used in output: `workload`, `identity`, `account`, `anyone`,
    /// `resource`, `permission-set`.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Workload(_) => "workload",
            Node::Identity(_) => "identity",
            Node::Account { .. } => "account",
            Node::Anyone => "anyone",
            Node::Resource { .. } => "resource",
            Node::PermissionSet { .. } => "permission-set",
        }
    }

    pub fn as_identity(&self) -> Option<&IdentityNode> {
        match self {
            Node::Identity(identity) => Some(identity),
            _ => None,
        }
    }
}

/// `workload:<issuer host and path>|<subject>`.
pub fn workload_key(issuer_url: &str, subject: &str) -> String {
    format!("workload:{}|{subject}", issuer_host(issuer_url))
}

/// An issuer URL without scheme and trailing `/`, lower case (hosts are case-insensitive).
pub fn issuer_host(issuer_url: &str) -> String {
    issuer_url
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_ascii_lowercase()
}

/// An IAM principal ARN without its path: `<account>:role/<name>` for
/// `arn:aws:iam::<account>:role/ci/<name>`. CloudTrail names roles by their session
/// (`assumed-role/<name>/…`, no path), so usage is matched to identities on this key.
pub fn principal_key(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let account = parts.nth(4).unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    match resource.split_once('/') {
        Some((kind, rest)) => {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            format!("{account}:{kind}/{name}")
        }
        None => format!("{account}:{resource}"),
    }
}

/// How an edge lets one node reach another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edge {
    /// The target's trust admits the source, under these conditions (rendered).
    CanAssume {
        trust: String,
        conditions: Vec<String>,
    },
    /// Role chaining: the source's policies allow `sts:AssumeRole` on the target and the
    /// target's trust admits the source.
    CanChain { trust: String, allowance: Allowance },
    /// The source can run privilege-escalation paths that yield the target. Each path is
    /// written as the "why" shows it: an AWS path id in backticks (`` `iam-put-role-policy` ``),
    /// or a sentence with its names in backticks (GCP, Azure).
    CanEscalate {
        paths: Vec<String>,
        allowance: Allowance,
    },
    /// A statement of the source's policies allows these actions on the target.
    Granted {
        grant: String,
        statement: usize,
        actions: Vec<String>,
        conditional: bool,
    },
    /// Seen in usage: calls with this action, how many, when last.
    Used {
        action: String,
        count: u64,
        last_seen: DateTime<Utc>,
    },
}

/// The kind of an edge, for filtering and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    CanAssume,
    CanChain,
    CanEscalate,
    Granted,
    Used,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::CanAssume => "can-assume",
            EdgeKind::CanChain => "can-chain",
            EdgeKind::CanEscalate => "can-escalate",
            EdgeKind::Granted => "granted",
            EdgeKind::Used => "used",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Edge {
    pub fn kind(&self) -> EdgeKind {
        match self {
            Edge::CanAssume { .. } => EdgeKind::CanAssume,
            Edge::CanChain { .. } => EdgeKind::CanChain,
            Edge::CanEscalate { .. } => EdgeKind::CanEscalate,
            Edge::Granted { .. } => EdgeKind::Granted,
            Edge::Used { .. } => EdgeKind::Used,
        }
    }

    /// Whether following the edge means becoming (or gaining the power of) the target, as
    /// opposed to acting on it.
    pub fn is_step(&self) -> bool {
        matches!(
            self.kind(),
            EdgeKind::CanAssume | EdgeKind::CanChain | EdgeKind::CanEscalate
        ) || matches!(self, Edge::Used { action, .. } if action.starts_with("sts:AssumeRole"))
    }

    /// One line saying why the edge exists.
    pub fn explain(&self) -> String {
        match self {
            Edge::CanAssume { trust, conditions } if conditions.is_empty() => {
                format!("{trust}, no condition")
            }
            Edge::CanAssume { trust, conditions } => {
                format!("{trust} when {}", conditions.join(" and "))
            }
            Edge::CanChain { trust, allowance } => format!(
                "`sts:AssumeRole` {} by its policies; {trust}",
                allowance.as_str()
            ),
            Edge::CanEscalate { paths, allowance } => {
                format!("escalation {} via {}", allowance.as_str(), paths.join(", "))
            }
            Edge::Granted {
                grant,
                statement,
                actions,
                conditional,
            } => format!(
                "`{grant}` statement {statement} allows {}{}",
                actions.join(", "),
                if *conditional {
                    " (with conditions)"
                } else {
                    ""
                }
            ),
            Edge::Used {
                action,
                count,
                last_seen,
            } => format!(
                "{action} used {count} time(s), last {}",
                last_seen.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }
}

/// The access graph.
#[derive(Debug, Default)]
pub struct AccessGraph {
    pub graph: DiGraph<Node, Edge>,
    index: BTreeMap<String, NodeIndex>,
    /// Every federated trust by the identity node it admits to, for matching concrete
    /// workloads that no trust names literally.
    federated: Vec<(NodeIndex, FederatedTrust)>,
}

impl AccessGraph {
    /// The node with this key, if any.
    pub fn node_index(&self, key: &str) -> Option<NodeIndex> {
        self.index.get(key).copied()
    }

    pub fn node(&self, index: NodeIndex) -> &Node {
        &self.graph[index]
    }

    /// Adds a node unless one with the same key exists; returns its index either way.
    pub fn add_node(&mut self, node: Node) -> NodeIndex {
        let key = node.key();
        if let Some(&index) = self.index.get(&key) {
            return index;
        }
        let index = self.graph.add_node(node);
        self.index.insert(key, index);
        index
    }

    pub fn add_edge(&mut self, from: NodeIndex, to: NodeIndex, edge: Edge) -> EdgeIndex {
        self.graph.add_edge(from, to, edge)
    }

    /// Records a federated trust of an identity.
    pub fn add_federated(&mut self, identity: NodeIndex, trust: FederatedTrust) {
        self.federated.push((identity, trust));
    }

    pub fn federated(&self) -> &[(NodeIndex, FederatedTrust)] {
        &self.federated
    }

    /// All nodes in key order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &Node)> + '_ {
        self.index
            .values()
            .map(move |&index| (index, &self.graph[index]))
    }

    /// Identity nodes in key order.
    pub fn identities(&self) -> impl Iterator<Item = (NodeIndex, &IdentityNode)> + '_ {
        self.nodes()
            .filter_map(|(index, node)| node.as_identity().map(|identity| (index, identity)))
    }

    /// Outgoing edges of a node, sorted by target key then edge kind, for deterministic walks.
    pub fn out_edges(&self, from: NodeIndex) -> Vec<(NodeIndex, &Edge)> {
        let mut edges: Vec<(NodeIndex, &Edge)> = self
            .graph
            .edges(from)
            .map(|edge| (edge.target(), edge.weight()))
            .collect();
        edges.sort_by(|a, b| {
            self.graph[a.0]
                .key()
                .cmp(&self.graph[b.0].key())
                .then_with(|| a.1.kind().cmp(&b.1.kind()))
                .then_with(|| a.1.explain().cmp(&b.1.explain()))
        });
        edges
    }

    /// Incoming edges of a node, sorted by source key then edge kind.
    pub fn in_edges(&self, to: NodeIndex) -> Vec<(NodeIndex, &Edge)> {
        let mut edges: Vec<(NodeIndex, &Edge)> = self
            .graph
            .edges_directed(to, petgraph::Direction::Incoming)
            .map(|edge| (edge.source(), edge.weight()))
            .collect();
        edges.sort_by(|a, b| {
            self.graph[a.0]
                .key()
                .cmp(&self.graph[b.0].key())
                .then_with(|| a.1.kind().cmp(&b.1.kind()))
                .then_with(|| a.1.explain().cmp(&b.1.explain()))
        });
        edges
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }
}

/// Whether an access level is one a CI pipeline should only reach from trusted code.
pub fn is_write_or_above(level: AccessLevel) -> bool {
    matches!(
        level,
        AccessLevel::Write | AccessLevel::PermissionsManagement
    )
}

/// Whether `id` may perform `action` on `resource`, or, without one, anywhere its grants
/// reach: the allowance and where, decided by the identity's own cloud (AWS: the policy
/// evaluator over its compiled policies; GCP and Azure: [`cloud::decide`]).
pub fn decide(
    inventory: &crate::model::Inventory,
    id: &IdentityId,
    action: &str,
    resource: Option<&str>,
) -> Option<(Allowance, String)> {
    // A permission of another cloud is never granted, even by a `*` grant.
    if cloud::permission_provider(action) != id.provider() {
        return None;
    }
    match id.provider() {
        Provider::Aws => crate::aws::graph::decide(inventory, id, action, resource),
        Provider::Gcp | Provider::Azure => {
            cloud::decide(inventory, id, action, resource).map(|(allowance, on, _)| (allowance, on))
        }
    }
}

/// Whether a request is allowed without condition, only if a condition holds, or possibly
/// (a grant whose permissions pipeleash cannot know, such as a role whose definition was not
/// collected: it may allow anything, so the path is kept, never dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Allowance {
    Allowed,
    Conditional,
    Possible,
}

impl Allowance {
    pub fn as_str(self) -> &'static str {
        match self {
            Allowance::Allowed => "allowed",
            Allowance::Conditional => "conditional",
            Allowance::Possible => "possible",
        }
    }

    /// The weaker of two allowances: a chain is only as certain as its least certain hop.
    pub fn and(self, other: Allowance) -> Allowance {
        self.max(other)
    }
}

/// The strongest access an identity is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strongest {
    pub level: AccessLevel,
    pub action: String,
    pub resource: String,
    pub allowance: Allowance,
}

/// Whether an identity belongs to production, from its tags (`environment`, `env` or `stage`
/// set to `prod`, `production` or `prd`, in any case).
pub fn production_identity(identity: &Identity) -> bool {
    identity.tags.iter().any(|(key, value)| {
        matches!(
            key.to_ascii_lowercase().as_str(),
            "environment" | "env" | "stage"
        ) && matches!(
            value.to_ascii_lowercase().as_str(),
            "prod" | "production" | "prd"
        )
    })
}

/// The subject values a trust pins, or `*` when no positive `sub` condition narrows it (the
/// same reading as the trust checks: `crate::model::SubjectConstraint`).
pub fn subject_patterns(trust: &FederatedTrust) -> Vec<String> {
    let constraint = crate::model::SubjectConstraint::of(trust);
    let mut patterns: Vec<String> = constraint
        .values()
        .into_iter()
        .map(|(_, pattern)| pattern.value.to_string())
        .collect();
    if patterns.is_empty() {
        patterns.push("*".to_string());
    }
    patterns.sort();
    patterns.dedup();
    patterns
}

/// `StringLike `sub` `repo:acme/*``: a condition as a reviewer reads it.
pub fn render_condition(condition: &ClaimCondition) -> String {
    condition.to_string()
}

/// Adds, for each subject a federated trust admits, a workload node with a `can-assume` edge
/// to `target`, and records the trust on the target.
pub(crate) fn add_federated(graph: &mut AccessGraph, target: NodeIndex, trust: &FederatedTrust) {
    let issuer_url = format!("https://{}", issuer_host(&trust.issuer));
    let issuer = crate::model::CiIssuer::from_issuer_url(&issuer_url);
    let conditions: Vec<String> = trust.conditions.iter().map(render_condition).collect();
    for subject in subject_patterns(trust) {
        let source = graph.add_node(Node::Workload(WorkloadNode {
            issuer: issuer.clone(),
            issuer_url: issuer_url.clone(),
            subject,
            observed: false,
        }));
        graph.add_edge(
            source,
            target,
            Edge::CanAssume {
                trust: trust.source.clone(),
                conditions: conditions.clone(),
            },
        );
    }
    graph.add_federated(target, trust.clone());
}
