//! **What it finds:** CI workloads that reach administrator-equivalent access: a role they
//! can assume is granted `*` on `*`, or it (or a role it can chain to) can run a
//! privilege-escalation path to administrator access (`iam:PutRolePolicy`,
//! `iam:CreatePolicyVersion`, `iam:AttachRolePolicy`, … from
//! `providers/aws/privilege-escalation.tsv`).
//!
//! **Why it matters:** administrator access in an account is the end of every other control
//! there. A pipeline that can reach it turns every weakness of the pipeline — a compromised
//! dependency, an unpinned action, a loose trust — into a full account compromise.
//!
//! **Example:** a Terraform role trusted by `repo:acme/infra:*` with `AdministratorAccess`
//! attached: any branch of `acme/infra` is an administrator of the account.
//!
//! **Remediation:** grant the pipeline only the services and resources it manages
//! (`pipeleash minimize`), deny IAM policy editing through a permissions boundary, and admit
//! only a reviewed deployment environment to the role.

use super::TrustUnderCheck;
use crate::graph::Node;
use crate::graph::query::GraphQuery;
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity};

pub const ID: &str = "ci-escalation-to-admin";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    let query = GraphQuery::new(check.graph, &check.normalized.inventory);
    let mut seen = std::collections::BTreeSet::new();
    for (id, _) in check.federated() {
        if !seen.insert(id) {
            continue;
        }
        let Some(start) = check.start(id) else {
            continue;
        };
        let Some(reached) = query.reach(&start).into_iter().find(|reached| {
            matches!(check.graph.node(reached.node), Node::PermissionSet { name, .. } if name == "administrator")
        }) else {
            continue;
        };
        let direct =
            reached.path.len() == 1 && reached.path[0].kind == crate::graph::EdgeKind::Granted;
        let container = match check.graph.node(reached.node) {
            Node::PermissionSet { container, .. } => container.clone(),
            _ => String::new(),
        };
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: Severity::Critical,
                confidence: Confidence::High,
                subject: check.subject(id),
                message: if direct {
                    format!(
                        "CI workloads that can assume this role are administrators of `{container}`: it is granted `*` on `*`"
                    )
                } else {
                    format!(
                        "CI workloads that can assume this role reach administrator access in `{container}` in {} step(s)",
                        reached.path.len()
                    )
                },
                evidence: reached
                    .path
                    .iter()
                    .map(|hop| Evidence {
                        source: format!("{} `{}` → `{}`", hop.kind, hop.from, hop.to),
                        detail: hop.explanation.clone(),
                    })
                    .collect(),
                remediation: "scope the role to what the pipeline manages (`pipeleash minimize`) and deny IAM policy editing with a permissions boundary".into(),
            },
        ));
    }
}
