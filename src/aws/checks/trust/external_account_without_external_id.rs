//! **What it finds:** roles that trust a whole other AWS account
//! (`"AWS": "arn:aws:iam::<account>:root"`) without an `sts:ExternalId` condition.
//!
//! **Why it matters:** trusting an account's root delegates the decision to that account:
//! every user and role there that its own administrators allow `sts:AssumeRole` can become
//! this role, today and after any future change there. When the account is a vendor's, the
//! missing external id also opens the confused-deputy problem: another customer of the vendor
//! can have it assume your role.
//!
//! **Example:**
//!
//! ```json
//! { "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::345678901234:root" }, "Action": "sts:AssumeRole" }
//! ```
//!
//! **Remediation:** name the exact role ARNs of the other account that need the role, and for
//! a third party require `sts:ExternalId`. The evidence lists the identities of the other
//! account that can assume the role now, as the graph sees them.

use super::TrustUnderCheck;
use crate::graph::Edge;
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity, Trust};

pub const ID: &str = "external-account-without-external-id";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trusts) in &check.normalized.inventory.trusts {
        let own_account = check
            .normalized
            .inventory
            .identities
            .get(id)
            .map(|identity| identity.container.as_str())
            .unwrap_or_default();
        for trust in trusts {
            let Trust::Account {
                id: account,
                external_id_required: false,
            } = trust
            else {
                continue;
            };
            if account == own_account {
                continue;
            }
            let mut evidence = vec![Evidence {
                source: "trust policy".into(),
                detail: format!(
                    "principal `arn:aws:iam::{account}:root` with no `sts:ExternalId` condition"
                ),
            }];
            if let Some(index) = check.graph.node_index(id.as_str()) {
                for (source, edge) in check.graph.in_edges(index) {
                    if let Edge::CanChain { .. } = edge {
                        evidence.push(Evidence {
                            source: "access graph".into(),
                            detail: format!(
                                "`{}` can assume it: {}",
                                check.graph.node(source).key(),
                                edge.explain()
                            ),
                        });
                    }
                }
            }
            findings.push((
                id.clone(),
                Finding {
                    id: ID,
                    severity: Severity::High,
                    confidence: Confidence::High,
                    subject: check.subject(id),
                    message: format!(
                        "the whole account `{account}` may assume the role, without `sts:ExternalId`"
                    ),
                    evidence,
                    remediation: "name the exact role ARNs of the other account; require `sts:ExternalId` for a third party".into(),
                },
            ));
        }
    }
}
