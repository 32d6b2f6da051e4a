//! AWS grants in the neutral model, and the AWS answer to the access question.
//!
//! An AWS identity's grants are whole policy documents (identity policies, its permissions
//! boundary, the SCPs of its account's organization levels); unlike GCP bindings and Azure
//! assignments they cannot be judged one by one, so the answer comes from the evaluator run
//! over all of them together.

use super::{
    Arn, CompiledPolicySet, Context, DecisionKind, NamedPolicy, PolicyDocument, PolicyKind,
};
use super::{KnownPrincipal, add_principal_keys};
use super::{PolicySet, Request};
use crate::access::{AccessAnswer, AccessDecision};
use crate::model::{GrantBody, GrantId, IdentityId, Inventory};
use std::collections::BTreeSet;

/// Where an AWS policy is attached, relative to the identity it is a grant of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AwsAttachment {
    /// An inline or managed policy of the identity (or of a group it is in).
    Identity,
    /// The identity's permissions boundary.
    PermissionsBoundary,
    /// A service control policy at one level of the organization: 0 is the root, then each
    /// OU down to the account.
    ServiceControl { level: usize },
}

/// One AWS policy that applies to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsPolicyGrant {
    /// The policy's name or ARN, as evidence names it.
    pub policy: String,
    pub attachment: AwsAttachment,
    pub document: PolicyDocument,
}

fn named_policy<'a>(
    kind: PolicyKind,
    (id, grant): &(&'a GrantId, &'a AwsPolicyGrant),
) -> NamedPolicy<'a> {
    NamedPolicy::new(id.as_str(), kind, &grant.document)
}

/// Is `action` on `resource` granted to the AWS `identity` by its grants in `inventory`?
///
/// The request context is unknown at this level, so conditions that depend on it make the
/// answer `Conditional` naming the keys, never a guess.
pub fn evaluate(
    inventory: &Inventory,
    identity: &IdentityId,
    action: &str,
    resource: &str,
) -> AccessAnswer {
    let grants: Vec<(&GrantId, &AwsPolicyGrant)> = inventory
        .grants_for(identity)
        .filter_map(|grant| match &grant.body {
            GrantBody::Aws(policy) => Some((&grant.id, policy)),
            _ => None,
        })
        .collect();
    let mut policies = PolicySet::default();
    for entry in &grants {
        match entry.1.attachment {
            AwsAttachment::Identity => policies
                .identity
                .push(named_policy(PolicyKind::Identity, entry)),
            AwsAttachment::PermissionsBoundary => {
                policies.boundary = Some(named_policy(PolicyKind::PermissionsBoundary, entry));
            }
            AwsAttachment::ServiceControl { level } => {
                if policies.scps.len() <= level {
                    policies.scps.resize_with(level + 1, Vec::new);
                }
                policies.scps[level].push(named_policy(PolicyKind::ServiceControl, entry));
            }
        }
    }
    let principal_arn = identity.native().to_string();
    let principal_account = Arn::parse(&principal_arn)
        .map(|arn| arn.account.to_string())
        .unwrap_or_default();
    // What AWS derives from the principal is known; every other key is unknown.
    let mut context = Context::partial();
    add_principal_keys(&mut context, &principal_arn, &KnownPrincipal::default());
    let request = Request {
        principal_arn,
        principal_account,
        action: action.to_string(),
        resource: resource.to_string(),
        resource_account: None,
        context,
    };
    let decision = CompiledPolicySet::new(&policies).evaluate(&request);
    let deciding: BTreeSet<GrantId> = decision
        .reasons
        .iter()
        .map(|reason| GrantId::new(reason.policy.clone()))
        .collect();
    let grants = deciding.into_iter().collect();
    match decision.outcome {
        DecisionKind::Allowed => AccessAnswer {
            decision: AccessDecision::Granted,
            grants,
        },
        DecisionKind::ExplicitDeny => AccessAnswer {
            decision: AccessDecision::Denied,
            grants,
        },
        DecisionKind::ImplicitDeny => AccessAnswer {
            decision: AccessDecision::NotGranted,
            grants: Vec::new(),
        },
        DecisionKind::Conditional { missing_keys } => AccessAnswer {
            decision: AccessDecision::Conditional {
                reason: format!(
                    "depends on request context keys {}",
                    missing_keys
                        .iter()
                        .map(|key| format!("`{key}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            grants,
        },
    }
}
