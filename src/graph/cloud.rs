//! GCP and Azure identities in the access graph, from the neutral inventory: who can become
//! each one (federated CI workloads, impersonating identities), what each role binding or
//! role assignment grants on its scope, and escalation to administrator access of a scope.
//!
//! - GCP: a Workload Identity Federation trust (`principalSet://…/attribute.repository/acme/web`
//!   or `principal://…/subject/…`) becomes a `can-assume` edge from the workload; a member that
//!   may impersonate a service account (`roles/iam.serviceAccountTokenCreator`,
//!   `serviceAccountUser`, `workloadIdentityUser`) a `can-assume` edge from that identity
//!   (<https://cloud.google.com/iam/docs/service-account-impersonation>); holding
//!   `*.setIamPolicy` on a project, folder or organization a `can-escalate` edge to
//!   administrator access there, since the holder can grant itself any role
//!   (<https://cloud.google.com/iam/docs/granting-changing-revoking-access>).
//! - Azure: a federated identity credential becomes a `can-assume` edge; holding
//!   `Microsoft.Authorization/roleAssignments/write` at a scope a `can-escalate` edge to
//!   administrator access there (Owner and User Access Administrator hold it:
//!   <https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/privileged>).
//!
//! Decisions come from the provider engines through [`crate::access::access`]: a grant under a
//! condition gives a conditional edge, an unknown role none (the analysis reports it).

use super::Allowance;
use super::{AccessGraph, Edge, IdentityNode, Node};
use crate::access::{AccessDecision, access};
use crate::model::{
    ClaimCondition, ClaimOperator, FederatedTrust, GrantBody, IdentityId, Inventory, PrincipalRef,
    Provider, Trust,
};
use petgraph::graph::NodeIndex;
use std::collections::BTreeMap;

/// The permission whose holder can grant itself anything at a scope of `provider`, and how to
/// name the container it is held on.
fn escalation_permissions(scope: &str, provider: Provider) -> Option<&'static str> {
    match provider {
        Provider::Gcp if scope.starts_with("organizations/") => {
            Some("resourcemanager.organizations.setIamPolicy")
        }
        Provider::Gcp if scope.starts_with("folders/") => {
            Some("resourcemanager.folders.setIamPolicy")
        }
        Provider::Gcp if scope.starts_with("projects/") => {
            Some("resourcemanager.projects.setIamPolicy")
        }
        Provider::Azure => Some("Microsoft.Authorization/roleAssignments/write"),
        _ => None,
    }
}

/// The allowance an access decision gives, if it allows at all.
pub fn allowance(decision: &AccessDecision) -> Option<Allowance> {
    match decision {
        AccessDecision::Granted => Some(Allowance::Allowed),
        AccessDecision::Conditional { .. } => Some(Allowance::Conditional),
        // A role whose permissions are unknown may grant this: a possible path.
        AccessDecision::Unknown { .. } => Some(Allowance::Possible),
        AccessDecision::Denied | AccessDecision::NotGranted => None,
    }
}

/// The scope a GCP binding or Azure assignment is on, and what it grants, for the edge.
fn grant_scope(body: &GrantBody) -> Option<(String, String, bool)> {
    match body {
        GrantBody::Gcp(binding) => Some((
            binding.resource.clone(),
            binding.role.clone(),
            binding.condition.is_some(),
        )),
        GrantBody::Azure(assignment) => Some((
            assignment.scope.to_string(),
            assignment.role_definition_id.clone(),
            assignment.condition.is_some(),
        )),
        _ => None,
    }
}

/// Adds every GCP and Azure identity of `inventory`, with its trusts, grants and escalations.
/// AWS identities are left to [`crate::aws::graph::build_aws`]; identity nodes are added first, in id
/// order, so the graph stays deterministic.
pub fn add_gcp_and_azure(graph: &mut AccessGraph, inventory: &Inventory) {
    let mut nodes: BTreeMap<&IdentityId, NodeIndex> = BTreeMap::new();
    for (id, identity) in &inventory.identities {
        if id.provider() == Provider::Aws {
            continue;
        }
        let node = IdentityNode {
            id: id.clone(),
            kind: identity.kind,
            name: identity.display_name.clone(),
            container: identity.container.clone(),
            production: super::production_identity(identity),
            strongest: None,
            administrator: None,
        };
        nodes.insert(id, graph.add_node(Node::Identity(Box::new(node))));
    }
    for (id, &target) in &nodes {
        for trust in inventory.trusts.get(*id).into_iter().flatten() {
            add_trust(graph, &nodes, target, trust);
        }
    }
    for (id, &source) in &nodes {
        add_grants(graph, inventory, id, source);
    }
}

fn add_trust(
    graph: &mut AccessGraph,
    nodes: &BTreeMap<&IdentityId, NodeIndex>,
    target: NodeIndex,
    trust: &Trust,
) {
    match trust {
        Trust::Federated(federated) => {
            super::add_federated(graph, target, &with_subject_patterns(federated));
        }
        Trust::Identity { from, conditions } => {
            let source = match from {
                PrincipalRef::Identity(source) => nodes.get(source).copied(),
                PrincipalRef::Pattern(_) => None,
            };
            let name = match from {
                PrincipalRef::Identity(source) => source.native().to_string(),
                PrincipalRef::Pattern(pattern) => pattern.clone(),
            };
            match source {
                Some(source) if source != target => {
                    // The target's own IAM policy admits the source: no policy of the source
                    // has to allow it, unlike AWS role chaining.
                    graph.add_edge(
                        source,
                        target,
                        Edge::CanAssume {
                            trust: format!("its IAM policy lets `{name}` act as it"),
                            conditions: conditions.iter().map(ToString::to_string).collect(),
                        },
                    );
                }
                Some(_) => {}
                None => {
                    let source = graph.add_node(Node::Resource { name: name.clone() });
                    graph.add_edge(
                        source,
                        target,
                        Edge::CanAssume {
                            trust: format!("`{name}` may act as it"),
                            conditions: conditions.iter().map(ToString::to_string).collect(),
                        },
                    );
                }
            }
        }
        Trust::Anyone => {
            let source = graph.add_node(Node::Anyone);
            graph.add_edge(
                source,
                target,
                Edge::CanAssume {
                    trust: "any principal may act as it".to_string(),
                    conditions: Vec::new(),
                },
            );
        }
        Trust::Account { .. } | Trust::Service { .. } | Trust::LongLivedKey { .. } => {}
    }
}

/// A federated trust whose subject constraint is written on other claims (GCP attributes
/// mapped from GitHub's `repository` or `repository_owner`) with those conditions written as
/// `sub` patterns, so the graph names and matches the workloads it admits like any other
/// trust. GitHub's subject starts with
/// `repo:OWNER/REPO:` (<https://docs.github.com/en/actions/reference/openid-connect-reference#example-subject-claims>).
fn with_subject_patterns(trust: &FederatedTrust) -> FederatedTrust {
    if trust
        .conditions
        .iter()
        .any(|condition| condition.claim == "sub")
    {
        return trust.clone();
    }
    let mut trust = trust.clone();
    let mut conditions = Vec::new();
    for condition in &trust.conditions {
        if condition.operator == ClaimOperator::Expression
            && condition.claim == "attributeCondition"
            && let Some(simple) = condition.values.first().and_then(|text| simple_cel(text))
        {
            conditions.extend(simple);
            continue;
        }
        let claim = condition
            .claim
            .trim_start_matches("attribute.")
            .trim_start_matches("assertion.");
        let patterns: Vec<String> = match (claim, condition.operator) {
            // Each in both subject forms GitHub writes: `repo:OWNER/REPO:…` and the immutable
            // `repo:OWNER@OWNER_ID/REPO@REPO_ID:…`
            // (<https://docs.github.com/en/actions/reference/security/oidc#immutable-subject-claims>).
            ("repository", ClaimOperator::Equals) => condition
                .values
                .iter()
                .flat_map(|repository| {
                    let immutable = match repository.split_once('/') {
                        Some((owner, name)) => format!("repo:{owner}@*/{name}@*:*"),
                        None => format!("repo:{repository}@*:*"),
                    };
                    [format!("repo:{repository}:*"), immutable]
                })
                .collect(),
            ("repository_owner", ClaimOperator::Equals) => condition
                .values
                .iter()
                .flat_map(|owner| [format!("repo:{owner}/*"), format!("repo:{owner}@*/*")])
                .collect(),
            _ => {
                conditions.push(condition.clone());
                continue;
            }
        };
        // The attribute is GitHub's claim under the conventional mapping
        // (`attribute.repository = assertion.repository`); its `sub` form says the same.
        conditions.push(ClaimCondition::new("sub", ClaimOperator::Like, patterns));
    }
    trust.conditions = conditions;
    trust
}

/// A Workload Identity provider's attribute condition written as claim conditions, when it is
/// a conjunction of `assertion.CLAIM == 'value'` and `assertion.CLAIM.startsWith('prefix')`
/// tests (the forms Google's examples use:
/// <https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions>);
/// `None` for anything else, which then stays an expression pipeleash does not evaluate.
fn simple_cel(expression: &str) -> Option<Vec<ClaimCondition>> {
    let mut conditions = Vec::new();
    for part in expression.split("&&") {
        let mut part = part.trim();
        while let Some(inner) = part
            .strip_prefix('(')
            .and_then(|rest| rest.strip_suffix(')'))
        {
            part = inner.trim();
        }
        let quoted = |text: &str| -> Option<String> {
            let text = text.trim();
            let inner = text
                .strip_prefix('\'')
                .and_then(|rest| rest.strip_suffix('\''))
                .or_else(|| {
                    text.strip_prefix('"')
                        .and_then(|rest| rest.strip_suffix('"'))
                })?;
            (!inner.contains(['\'', '"', '*'])).then(|| inner.to_string())
        };
        let claim_name = |text: &str| -> Option<String> {
            let name = text.trim().strip_prefix("assertion.")?;
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| name.to_string())
        };
        if let Some((left, right)) = part.split_once("==") {
            let (claim, value) = match (claim_name(left), quoted(right)) {
                (Some(claim), Some(value)) => (claim, value),
                _ => (claim_name(right)?, quoted(left)?),
            };
            conditions.push(ClaimCondition::new(
                &claim,
                ClaimOperator::Equals,
                vec![value],
            ));
        } else if let Some((left, right)) = part.split_once(".startsWith(") {
            let claim = claim_name(left)?;
            let prefix = quoted(right.strip_suffix(')')?)?;
            conditions.push(ClaimCondition::new(
                &claim,
                ClaimOperator::Like,
                vec![format!("{prefix}*")],
            ));
        } else {
            return None;
        }
    }
    (!conditions.is_empty()).then_some(conditions)
}

/// A `granted` edge per binding or assignment to its scope, and a `can-escalate` edge to the
/// administrator access of each scope where the identity may change who holds what.
fn add_grants(graph: &mut AccessGraph, inventory: &Inventory, id: &IdentityId, source: NodeIndex) {
    let provider = id.provider();
    let mut scopes: Vec<String> = Vec::new();
    for grant in inventory.grants_for(id) {
        let Some((scope, role, conditional)) = grant_scope(&grant.body) else {
            continue;
        };
        let target = graph.add_node(Node::Resource {
            name: scope.clone(),
        });
        graph.add_edge(
            source,
            target,
            Edge::Granted {
                grant: grant.id.to_string(),
                statement: 0,
                actions: vec![role],
                conditional,
            },
        );
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    for scope in scopes {
        let Some(permission) = escalation_permissions(&scope, provider) else {
            continue;
        };
        let Some(allowance) = access(inventory, id, permission, &scope)
            .ok()
            .and_then(|answer| allowance(&answer.decision))
        else {
            continue;
        };
        let target = graph.add_node(Node::PermissionSet {
            name: "administrator".to_string(),
            container: scope.clone(),
        });
        graph.add_edge(
            source,
            target,
            Edge::CanEscalate {
                paths: vec![format!(
                    "`{permission}` on `{scope}`: can grant itself any role"
                )],
                allowance,
            },
        );
    }
}

/// The provider whose naming a permission follows: AWS actions hold `:`
/// (`s3:GetObject`), Azure operations `/` (`Microsoft.Storage/storageAccounts/read`), GCP
/// permissions neither (`storage.objects.get`).
pub fn permission_provider(permission: &str) -> Provider {
    if permission.contains(':') {
        Provider::Aws
    } else if permission.contains('/') {
        Provider::Azure
    } else {
        Provider::Gcp
    }
}

/// The provider of a container name: an AWS account id, a GCP `projects/…`, `folders/…` or
/// `organizations/…`, or an Azure ARM scope (`/subscriptions/…`, `/providers/…`).
pub fn container_provider(container: &str) -> Provider {
    if container.starts_with('/') {
        Provider::Azure
    } else if container.starts_with("projects/")
        || container.starts_with("folders/")
        || container.starts_with("organizations/")
        || container.starts_with("//")
    {
        Provider::Gcp
    } else {
        Provider::Aws
    }
}

/// Whether a GCP or Azure identity may perform `permission` (on `resource`, or on any scope
/// it holds a grant on), with where and how sure.
pub fn decide(
    inventory: &Inventory,
    id: &IdentityId,
    permission: &str,
    resource: Option<&str>,
) -> Option<(Allowance, String, Vec<String>)> {
    if permission_provider(permission) != id.provider() {
        return None;
    }
    let scopes: Vec<String> = match resource {
        Some(resource) => vec![resource.to_string()],
        None => {
            let mut scopes: Vec<String> = inventory
                .grants_for(id)
                .filter_map(|grant| grant_scope(&grant.body).map(|(scope, _, _)| scope))
                .collect();
            scopes.sort();
            scopes.dedup();
            scopes
        }
    };
    let mut best: Option<(Allowance, String, Vec<String>)> = None;
    for scope in scopes {
        let Ok(answer) = access(inventory, id, permission, &scope) else {
            continue;
        };
        let Some(allowance) = allowance(&answer.decision) else {
            continue;
        };
        let how: Vec<String> = answer
            .grants
            .iter()
            .filter_map(|grant| inventory.grant(grant))
            .filter_map(|grant| grant_scope(&grant.body))
            .map(|(scope, role, _)| format!("`{role}` on `{scope}`"))
            .collect();
        if best
            .as_ref()
            .is_none_or(|(current, _, _)| allowance < *current)
        {
            best = Some((allowance, scope, how));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::query::GraphQuery;
    use crate::model::ClaimCondition;

    const GITHUB: &str = "https://token.actions.githubusercontent.com";

    /// Two service accounts of one project: `deployer` may change the project's IAM policy and
    /// is open to one GitHub repository; `reader` may only read, and `deployer` may act as it.
    fn inventory() -> Inventory {
        let raw: crate::gcp::inventory::GcpInventory = serde_json::from_value(serde_json::json!({
            "format_version": 1, "scope": ["projects/app"], "collected_at": "2026-11-29T00:00:00Z",
            "projects": [{"name": "projects/4151", "project_id": "app", "iam_policy": {"bindings": [
                {"role": "roles/resourcemanager.projectIamAdmin",
                 "members": ["serviceAccount:deployer@app.iam.gserviceaccount.com"]},
                {"role": "roles/viewer",
                 "members": ["serviceAccount:reader@app.iam.gserviceaccount.com"]}]}}],
            "service_accounts": [
                {"name": "projects/app/serviceAccounts/deployer@app.iam.gserviceaccount.com",
                 "project_id": "app", "email": "deployer@app.iam.gserviceaccount.com"},
                {"name": "projects/app/serviceAccounts/reader@app.iam.gserviceaccount.com",
                 "project_id": "app", "email": "reader@app.iam.gserviceaccount.com"}]
        }))
        .expect("raw inventory");
        let mut inventory = Inventory::new();
        crate::gcp::normalize::normalize_into(&mut inventory, &raw).expect("normalize");
        let deployer = IdentityId::new(Provider::Gcp, "deployer@app.iam.gserviceaccount.com");
        let reader = IdentityId::new(Provider::Gcp, "reader@app.iam.gserviceaccount.com");
        inventory.trusts.remove(&deployer);
        inventory.trusts.remove(&reader);
        inventory.add_trust(
            deployer.clone(),
            Trust::Federated(FederatedTrust {
                issuer: GITHUB.to_string(),
                audiences: Vec::new(),
                conditions: vec![ClaimCondition::new(
                    "attribute.repository",
                    ClaimOperator::Equals,
                    vec!["acme/infra".to_string()],
                )],
                source: "workload identity pool `github`".to_string(),
            }),
        );
        inventory.add_trust(
            reader,
            Trust::Identity {
                from: PrincipalRef::Identity(deployer),
                conditions: Vec::new(),
            },
        );
        inventory
    }

    fn graph(inventory: &Inventory) -> AccessGraph {
        let mut graph = AccessGraph::default();
        add_gcp_and_azure(&mut graph, inventory);
        graph
    }

    #[test]
    fn set_iam_policy_on_a_project_escalates_to_its_administrator_access() {
        let inventory = inventory();
        let graph = graph(&inventory);
        let query = GraphQuery::new(&graph, &inventory);
        let rows = query.who_can("resourcemanager.projects.setIamPolicy", None);
        let ids: Vec<&str> = rows.iter().map(|row| row.identity.native()).collect();
        assert_eq!(ids, vec!["deployer@app.iam.gserviceaccount.com"]);
        assert!(
            rows[0]
                .reachable_from
                .iter()
                .any(|key| key.contains("repo:acme/infra:*")),
            "{:?}",
            rows[0].reachable_from
        );
        // An AWS action is not a GCP permission: no GCP identity can perform it.
        assert!(query.who_can("s3:GetObject", None).is_empty());
        assert!(graph.node_index("administrator@projects/app").is_some());
    }

    #[test]
    fn a_pull_request_of_the_trusted_repository_reaches_the_account_it_can_impersonate() {
        let inventory = inventory();
        let graph = graph(&inventory);
        let query = GraphQuery::new(&graph, &inventory);
        let start = query
            .resolve("repo:acme/infra:pull_request")
            .expect("the trust admits the repository's pull requests");
        let reached: Vec<String> = query
            .reach(&start)
            .iter()
            .map(|reached| graph.node(reached.node).key())
            .collect();
        assert!(
            reached.contains(&"gcp:reader@app.iam.gserviceaccount.com".to_string()),
            "{reached:?}"
        );
        assert!(query.resolve("repo:other/web:pull_request").is_err());
    }

    #[test]
    fn simple_attribute_conditions_become_claim_conditions_and_others_stay_expressions() {
        let owner = simple_cel(
            "assertion.repository_owner == 'acme' && assertion.ref.startsWith('refs/heads/')",
        )
        .expect("simple");
        assert_eq!(owner.len(), 2);
        assert_eq!(owner[0].claim, "repository_owner");
        assert_eq!(owner[1].operator, ClaimOperator::Like);
        for other in [
            "assertion.repository_owner == 'acme' || assertion.actor == 'bot'",
            "assertion.repository in ['acme/web']",
            "",
        ] {
            assert!(simple_cel(other).is_none(), "{other}");
        }
    }

    #[test]
    fn permissions_and_containers_are_told_apart_by_their_naming() {
        assert_eq!(permission_provider("s3:GetObject"), Provider::Aws);
        assert_eq!(permission_provider("storage.objects.get"), Provider::Gcp);
        assert_eq!(
            permission_provider("Microsoft.Storage/storageAccounts/read"),
            Provider::Azure
        );
        assert_eq!(container_provider("210987654321"), Provider::Aws);
        assert_eq!(container_provider("folders/12"), Provider::Gcp);
        assert_eq!(container_provider("/subscriptions/s"), Provider::Azure);
    }
}
