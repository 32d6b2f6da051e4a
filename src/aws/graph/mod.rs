//! The AWS part of the access graph ([`crate::graph`]): the builder that fills the neutral
//! nodes and edges from a normalized AWS inventory, optional CloudTrail usage and the catalog
//! ([`build_aws`]), and the evaluator-backed questions the queries ask about an AWS identity
//! ([`capability`], [`decide`]). Pure and deterministic: inputs are walked in sorted order.

pub mod capability;

pub use capability::IdentityPolicies;

use crate::aws::cloudtrail::CloudTrailUsage;
use crate::aws::escalation::{EscalationPath, Reach};
use crate::aws::normalize::NormalizedAws;
use crate::aws::{Arn, CompiledPolicy, PolicyKind};
use crate::catalog::Catalog;
use crate::graph::{
    AccessGraph, Allowance, Edge, IdentityNode, Node, WorkloadNode, add_federated,
    production_identity,
};
use crate::matching::{Case, glob_match};
use crate::model::Outcome;
use crate::model::{IdentityId, IdentityKind, PrincipalRef, Provider, Trust};
use petgraph::graph::NodeIndex;
use std::collections::BTreeMap;

/// Whether the AWS identity `id` may perform `action` on `resource`, or, without one, on any
/// resource its statements name: the allowance and the resource, decided by the evaluator
/// over the identity's compiled policies (`None` when denied or never allowed).
pub fn decide(
    inventory: &crate::model::Inventory,
    id: &IdentityId,
    action: &str,
    resource: Option<&str>,
) -> Option<(Allowance, String)> {
    let policies = IdentityPolicies::new(inventory, id);
    match resource {
        Some(resource) => Some((policies.decide(action, resource)?, resource.to_string())),
        None => policies.allows_somewhere(action),
    }
}

/// Builds the graph of AWS identities. `escalation_paths` is normally
/// `crate::aws::escalation::escalation_paths()`.
///
/// The steps, in the order they add nodes and edges (the order fixes node indices, so it is
/// part of the output): identities ([`add_identities`]), who can become each identity
/// ([`add_trusts`]), what each identity can escalate to ([`add_escalations`]), what each
/// statement grants ([`add_grants`]), and, when given, the usage seen in CloudTrail
/// ([`add_usage`]).
pub fn build_aws(
    normalized: &NormalizedAws,
    usage: Option<&CloudTrailUsage>,
    catalog: &Catalog,
    escalation_paths: &[EscalationPath],
) -> AccessGraph {
    let mut graph = AccessGraph::default();
    let identities = add_identities(&mut graph, normalized, catalog);
    add_trusts(&mut graph, normalized, &identities);
    add_escalations(&mut graph, normalized, &identities, escalation_paths);
    add_grants(&mut graph, &identities);
    if let Some(usage) = usage {
        add_usage(&mut graph, &identities.nodes, usage);
    }
    graph
}

/// The AWS identities of the graph: their nodes and compiled policies, by id.
struct Identities<'a> {
    policies: BTreeMap<&'a IdentityId, IdentityPolicies<'a>>,
    nodes: BTreeMap<&'a IdentityId, NodeIndex>,
}

/// Identities first, in id order, each with its compiled policies.
fn add_identities<'a>(
    graph: &mut AccessGraph,
    normalized: &'a NormalizedAws,
    catalog: &Catalog,
) -> Identities<'a> {
    let inventory = &normalized.inventory;
    let mut policies: BTreeMap<&IdentityId, IdentityPolicies<'_>> = BTreeMap::new();
    let mut identity_nodes: BTreeMap<&IdentityId, NodeIndex> = BTreeMap::new();
    for (id, identity) in &inventory.identities {
        if id.provider() != Provider::Aws {
            continue;
        }
        let compiled = IdentityPolicies::new(inventory, id);
        let node = IdentityNode {
            id: id.clone(),
            kind: identity.kind,
            name: identity.display_name.clone(),
            container: identity.container.clone(),
            production: production_identity(identity),
            strongest: compiled.strongest(catalog),
            administrator: compiled.administrator(),
        };
        identity_nodes.insert(id, graph.add_node(Node::Identity(Box::new(node))));
        policies.insert(id, compiled);
    }
    Identities {
        policies,
        nodes: identity_nodes,
    }
}

/// Who can become each identity: CI workloads, accounts, anyone, other identities.
fn add_trusts(graph: &mut AccessGraph, normalized: &NormalizedAws, identities: &Identities<'_>) {
    let inventory = &normalized.inventory;
    let identity_nodes = &identities.nodes;
    // Trust policies, compiled once: a can-chain edge needs the target's trust policy to
    // allow the source principal.
    let trust_policies: BTreeMap<&IdentityId, CompiledPolicy> = normalized
        .trust_policies
        .iter()
        .map(|(id, document)| {
            (
                id,
                CompiledPolicy::new(id.native(), PolicyKind::Resource, document),
            )
        })
        .collect();
    for (id, trusts) in &inventory.trusts {
        let trust_policy = trust_policies.get(id);
        let Some(&target) = identity_nodes.get(id) else {
            continue;
        };
        for trust in trusts {
            match trust {
                Trust::Federated(federated) => add_federated(graph, target, federated),
                Trust::Account {
                    id: account,
                    external_id_required,
                } => add_account_trust(
                    graph,
                    identities,
                    TrustTarget {
                        id,
                        node: target,
                        trust_policy,
                    },
                    account,
                    *external_id_required,
                ),
                Trust::Anyone => {
                    let source = graph.add_node(Node::Anyone);
                    graph.add_edge(
                        source,
                        target,
                        Edge::CanAssume {
                            trust: "trust admits any principal (`*`)".to_string(),
                            conditions: Vec::new(),
                        },
                    );
                }
                Trust::Identity { from, .. } => add_identity_trust(
                    graph,
                    identities,
                    TrustTarget {
                        id,
                        node: target,
                        trust_policy,
                    },
                    from,
                ),
                Trust::Service { .. } | Trust::LongLivedKey { .. } => {}
            }
        }
    }
}

/// The identity a trust admits principals to.
#[derive(Clone, Copy)]
struct TrustTarget<'t> {
    id: &'t IdentityId,
    node: NodeIndex,
    trust_policy: Option<&'t CompiledPolicy>,
}

/// A trust of a whole account: the account can assume the identity, and so can each
/// identity of that account whose policies allow it.
fn add_account_trust(
    graph: &mut AccessGraph,
    identities: &Identities<'_>,
    to: TrustTarget<'_>,
    account: &str,
    external_id_required: bool,
) {
    let (policies, identity_nodes) = (&identities.policies, &identities.nodes);
    let (id, target, trust_policy) = (to.id, to.node, to.trust_policy);
    let source = graph.add_node(Node::Account {
        provider: Provider::Aws,
        id: account.to_owned(),
    });
    let conditions = if external_id_required {
        vec!["`sts:ExternalId` is given".to_string()]
    } else {
        Vec::new()
    };
    graph.add_edge(
        source,
        target,
        Edge::CanAssume {
            trust: format!("trust admits account `{account}`"),
            conditions,
        },
    );
    for (source_id, &source) in identity_nodes {
        let Some(source_policies) = policies.get(source_id) else {
            continue;
        };
        if *source_id != id && source_policies.account == account {
            add_chain(
                graph,
                Chain {
                    source_policies,
                    source,
                    target,
                    target_id: id,
                    trust: format!("trust admits account `{account}`"),
                    trust_policy,
                    trust_alone_suffices: false,
                },
            );
        }
    }
}

/// A trust of one identity or an ARN pattern: each matching identity of the inventory can
/// chain into the target; a principal outside the inventory is shown as a resource node.
fn add_identity_trust(
    graph: &mut AccessGraph,
    identities: &Identities<'_>,
    to: TrustTarget<'_>,
    from: &PrincipalRef,
) {
    let (policies, identity_nodes) = (&identities.policies, &identities.nodes);
    let (id, target, trust_policy) = (to.id, to.node, to.trust_policy);
    let matching: Vec<&IdentityId> = match from {
        PrincipalRef::Identity(source) => identity_nodes
            .keys()
            .copied()
            .filter(|candidate| *candidate == source)
            .collect(),
        PrincipalRef::Pattern(pattern) => identity_nodes
            .keys()
            .copied()
            .filter(|candidate| glob_match(pattern, candidate.native(), Case::Sensitive))
            .collect(),
    };
    if matching.is_empty() {
        // A principal outside the inventory: show it, it can still assume.
        let name = match from {
            PrincipalRef::Identity(source) => source.native().to_string(),
            PrincipalRef::Pattern(pattern) => pattern.clone(),
        };
        let source = graph.add_node(Node::Resource { name: name.clone() });
        graph.add_edge(
            source,
            target,
            Edge::CanAssume {
                trust: format!("trust admits `{name}`"),
                conditions: Vec::new(),
            },
        );
    }
    for source_id in matching {
        if source_id == id {
            continue;
        }
        let (Some(source_policies), Some(&source)) =
            (policies.get(source_id), identity_nodes.get(source_id))
        else {
            continue;
        };
        let same_account = policies
            .get(id)
            .is_some_and(|target| target.account == source_policies.account);
        add_chain(
            graph,
            Chain {
                source_policies,
                source,
                target,
                target_id: id,
                trust: format!("trust admits `{}`", source_id.native()),
                trust_policy,
                // Without the trust policy document: within one account a
                // trust naming the principal is enough.
                trust_alone_suffices: same_account && matches!(from, PrincipalRef::Identity(_)),
            },
        );
    }
}

/// Roles a service can assume, by account: what `role` escalation paths can pass.
fn passable_roles<'a>(
    normalized: &'a NormalizedAws,
    identities: &'a Identities<'a>,
) -> BTreeMap<&'a str, Vec<(&'a IdentityId, NodeIndex)>> {
    let inventory = &normalized.inventory;
    let (policies, identity_nodes) = (&identities.policies, &identities.nodes);
    let mut passable: BTreeMap<&str, Vec<(&IdentityId, NodeIndex)>> = BTreeMap::new();
    for (role_id, trusts) in &inventory.trusts {
        let service_trusted = trusts
            .iter()
            .any(|trust| matches!(trust, Trust::Service { .. }));
        if let (true, Some(&index), Some(compiled)) = (
            service_trusted,
            identity_nodes.get(role_id),
            policies.get(role_id),
        ) {
            passable
                .entry(compiled.account.as_str())
                .or_default()
                .push((role_id, index));
        }
    }

    passable
}

/// Escalation: what each identity can turn its grants into (administrator, other users'
/// credentials, roles it can pass to a service).
fn add_escalations(
    graph: &mut AccessGraph,
    normalized: &NormalizedAws,
    identities: &Identities<'_>,
    escalation_paths: &[EscalationPath],
) {
    let passable = passable_roles(normalized, identities);
    let (policies, identity_nodes) = (&identities.policies, &identities.nodes);
    for (id, compiled) in policies {
        let Some(&source) = identity_nodes.get(id) else {
            continue;
        };
        let mut admin_paths = Vec::new();
        let mut admin_allowance = Allowance::Allowed;
        let mut role_paths: Vec<(&EscalationPath, Allowance)> = Vec::new();
        let mut credential_paths = Vec::new();
        let mut credential_allowance = Allowance::Allowed;
        for (path, allowance) in compiled.escalations(escalation_paths) {
            match path.reaches {
                Reach::Admin => {
                    admin_paths.push(format!("`{}`", path.id));
                    admin_allowance = admin_allowance.min(allowance);
                }
                Reach::Role => role_paths.push((path, allowance)),
                Reach::Credentials => {
                    credential_paths.push(format!("`{}`", path.id));
                    credential_allowance = credential_allowance.min(allowance);
                }
            }
        }
        let admin = || Node::PermissionSet {
            name: "administrator".to_string(),
            container: compiled.account.clone(),
        };
        if let Some(allowance) = identity_node(graph, source).and_then(|node| node.administrator) {
            let target = graph.add_node(admin());
            graph.add_edge(
                source,
                target,
                Edge::Granted {
                    grant: "its policies".to_string(),
                    statement: 0,
                    actions: vec!["*".to_string()],
                    conditional: allowance != Allowance::Allowed,
                },
            );
        }
        if !admin_paths.is_empty() {
            let target = graph.add_node(admin());
            graph.add_edge(
                source,
                target,
                Edge::CanEscalate {
                    paths: admin_paths,
                    allowance: admin_allowance,
                },
            );
        }
        if !credential_paths.is_empty() {
            for (other_id, &other) in identity_nodes {
                let is_user = identity_node(graph, other)
                    .is_some_and(|node| node.kind == IdentityKind::AwsUser);
                let same_account = policies
                    .get(other_id)
                    .is_some_and(|other| other.account == compiled.account);
                if *other_id != *id && is_user && same_account {
                    graph.add_edge(
                        source,
                        other,
                        Edge::CanEscalate {
                            paths: credential_paths.clone(),
                            allowance: credential_allowance,
                        },
                    );
                }
            }
        }
        if !role_paths.is_empty() {
            let roles = passable
                .get(compiled.account.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            add_passed_roles(graph, roles, compiled, source, &role_paths);
        }
    }
}

/// Granted: what each statement allows, on what.
fn add_grants(graph: &mut AccessGraph, identities: &Identities<'_>) {
    let (policies, identity_nodes) = (&identities.policies, &identities.nodes);
    for (id, compiled) in policies {
        let Some(&source) = identity_nodes.get(id) else {
            continue;
        };
        for allow in compiled.allow_statements() {
            let actions = match &allow.statement.action {
                crate::aws::ActionClause::Action(actions) => actions.clone(),
                crate::aws::ActionClause::NotAction(actions) => {
                    vec![format!("everything but {}", actions.join(", "))]
                }
            };
            for resource in allow.resources() {
                let target = graph.add_node(Node::Resource {
                    name: resource.to_string(),
                });
                graph.add_edge(
                    source,
                    target,
                    Edge::Granted {
                        grant: allow.grant.to_string(),
                        statement: allow.statement.number(),
                        actions: actions.clone(),
                        conditional: !allow.statement.conditions.is_empty(),
                    },
                );
            }
        }
    }
}

fn identity_node(graph: &AccessGraph, index: NodeIndex) -> Option<&IdentityNode> {
    graph.node(index).as_identity()
}

/// A candidate can-chain edge: a source identity the target's trust names.
struct Chain<'c, 'a> {
    source_policies: &'c IdentityPolicies<'a>,
    source: NodeIndex,
    target: NodeIndex,
    target_id: &'c IdentityId,
    /// How the trust names the source, for the edge.
    trust: String,
    /// The target's trust policy document, compiled.
    trust_policy: Option<&'c CompiledPolicy>,
    /// Used only without the document.
    trust_alone_suffices: bool,
}

/// Adds the edge when the source can assume the target: the evaluator decides
/// `sts:AssumeRole` with the source's policies and the target's trust policy, which must
/// itself allow the source, even within one account (a trust naming only the account leaves
/// it to the source's policies). Without the trust policy document, the summary in the
/// inventory's trusts decides.
fn add_chain(graph: &mut AccessGraph, chain: Chain<'_, '_>) {
    let target_arn = chain.target_id.native();
    let allowance = match chain.trust_policy {
        Some(trust) => {
            let account = Arn::parse(target_arn)
                .map(|arn| arn.account)
                .unwrap_or_default();
            chain.source_policies.can_assume(target_arn, account, trust)
        }
        None if chain.trust_alone_suffices => Some(Allowance::Allowed),
        None => chain.source_policies.decide("sts:AssumeRole", target_arn),
    };
    if let Some(allowance) = allowance {
        graph.add_edge(
            chain.source,
            chain.target,
            Edge::CanChain {
                trust: chain.trust,
                allowance,
            },
        );
    }
}

/// Roles a `role` escalation path yields: roles of the same account that a service can
/// assume (so they can be passed to it), and for which `iam:PassRole` is allowed when the path
/// needs it.
fn add_passed_roles(
    graph: &mut AccessGraph,
    roles: &[(&IdentityId, NodeIndex)],
    compiled: &IdentityPolicies<'_>,
    source: NodeIndex,
    role_paths: &[(&EscalationPath, Allowance)],
) {
    for &(role_id, target) in roles {
        if role_id == compiled.identity {
            continue;
        }
        let mut paths = Vec::new();
        let mut allowance = Allowance::Allowed;
        for (path, path_allowance) in role_paths {
            let pass = if path.actions.iter().any(|action| action == "iam:PassRole") {
                compiled.decide("iam:PassRole", role_id.native())
            } else {
                Some(Allowance::Allowed)
            };
            if let Some(pass) = pass {
                paths.push(format!("`{}`", path.id));
                allowance = allowance.and(pass).and(*path_allowance);
            }
        }
        if !paths.is_empty() {
            graph.add_edge(source, target, Edge::CanEscalate { paths, allowance });
        }
    }
}

fn add_usage(
    graph: &mut AccessGraph,
    identity_nodes: &BTreeMap<&IdentityId, NodeIndex>,
    usage: &CloudTrailUsage,
) {
    let by_arn: BTreeMap<String, NodeIndex> = identity_nodes
        .iter()
        .map(|(id, &index)| (crate::graph::principal_key(id.native()), index))
        .collect();
    for (key, record) in usage.allowed.iter() {
        let Some(&source) = by_arn.get(&crate::graph::principal_key(key.identity.native())) else {
            continue;
        };
        let target = graph.add_node(Node::Resource {
            name: key.resource.clone(),
        });
        graph.add_edge(
            source,
            target,
            Edge::Used {
                action: key.permission.action.clone(),
                count: record.count,
                last_seen: record.last_seen,
            },
        );
    }
    for session in &usage.web_identity_sessions {
        if session.outcome != Outcome::Allowed {
            continue;
        }
        let Some(&target) = by_arn.get(&crate::graph::principal_key(&session.role)) else {
            continue;
        };
        let issuer_url = format!(
            "https://{}",
            crate::graph::issuer_host(&session.workload.issuer_url)
        );
        let source = graph.add_node(Node::Workload(WorkloadNode {
            issuer: crate::model::CiIssuer::from_issuer_url(&issuer_url),
            issuer_url,
            subject: session.workload.subject.clone(),
            observed: true,
        }));
        graph.add_edge(
            source,
            target,
            Edge::Used {
                action: "sts:AssumeRoleWithWebIdentity".to_string(),
                count: session.count,
                last_seen: session.last_seen,
            },
        );
    }
}
