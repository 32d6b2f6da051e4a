//! The provider-neutral access question: "is permission P on resource R granted to identity I,
//! and by which grant?". `access` dispatches to the provider engine; the engines report what
//! each grant says and `Verdicts::decide` turns that into one answer with the same precedence
//! for every provider: an unconditional deny wins, then an unconditional allow, then anything
//! pipeleash could not decide, then conditional allows.

use crate::model::{GrantId, IdentityId, Inventory, Provider};
use crate::{aws, azure, gcp};

/// The answer to an access question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessAnswer {
    pub decision: AccessDecision,
    /// The grants that decided it, sorted: the allowing grants for `Granted`, the denying ones
    /// for `Denied`, the conditional or undecidable ones otherwise; empty for `NotGranted`.
    pub grants: Vec<GrantId>,
}

/// What the grants say about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDecision {
    /// An applicable grant allows it without condition, and no deny applies.
    Granted,
    /// A grant explicitly denies it (a GCP deny policy, an Azure deny assignment).
    Denied,
    /// No grant allows it.
    NotGranted,
    /// Allowed only if a condition holds, which pipeleash does not evaluate; the reason names
    /// every grant and condition involved.
    Conditional { reason: String },
    /// pipeleash cannot tell (a role whose permissions are not known, an unknown role
    /// definition); the reason says what is missing.
    Unknown { reason: String },
}

impl AccessDecision {
    /// How much a decision lets through, for comparing a grant before and after a change:
    /// granted 3, conditional 2, unknown 1, denied or not granted 0. A minimized grant must be
    /// at least as permissive for every call it must keep, and no more at its own scope.
    pub fn permissiveness(&self) -> u8 {
        match self {
            AccessDecision::Granted => 3,
            AccessDecision::Conditional { .. } => 2,
            AccessDecision::Unknown { .. } => 1,
            AccessDecision::Denied | AccessDecision::NotGranted => 0,
        }
    }
}

/// A question that cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("identity `{0}` is not in the inventory")]
    UnknownIdentity(IdentityId),
    #[error(transparent)]
    Gcp(#[from] gcp::GcpError),
    #[error(transparent)]
    Azure(#[from] azure::AzureError),
}

/// Is `permission` on `resource` granted to `identity`, and by which grant?
///
/// `permission` and `resource` are in the identity's provider's own naming: for GCP an IAM
/// permission (`storage.objects.get`) and a resource name (`projects/p`, a full resource name
/// like `//storage.googleapis.com/projects/_/buckets/b`); for Azure an operation
/// (`Microsoft.Storage/storageAccounts/read`) and an ARM id (see `azure::Plane` for how control
/// and data actions are told apart); for AWS an action (`s3:GetObject`) and a resource ARN,
/// decided by the AWS evaluator over all the identity's policies with an unknown request
/// context.
pub fn access(
    inventory: &Inventory,
    identity: &IdentityId,
    permission: &str,
    resource: &str,
) -> Result<AccessAnswer, AccessError> {
    if !inventory.identities.contains_key(identity) {
        return Err(AccessError::UnknownIdentity(identity.clone()));
    }
    match identity.provider() {
        Provider::Aws => Ok(aws::grant::evaluate(
            inventory, identity, permission, resource,
        )),
        Provider::Gcp => Ok(gcp::evaluate(inventory, identity, permission, resource)?),
        Provider::Azure => {
            let plane = azure::plane_of(inventory, permission)?;
            Ok(azure::evaluate(
                inventory, identity, permission, plane, resource,
            )?)
        }
    }
}

/// What each applicable grant said, collected by an engine.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdicts {
    /// Denying grants, each with the condition (already described) under which it denies.
    pub deny: Vec<(GrantId, Option<String>)>,
    /// Allowing grants, each with its condition.
    pub allow: Vec<(GrantId, Option<String>)>,
    /// Grants that may allow, with why pipeleash cannot tell.
    pub unknown: Vec<(GrantId, String)>,
}

impl Verdicts {
    pub(crate) fn decide(mut self) -> AccessAnswer {
        self.deny.sort();
        self.allow.sort();
        self.unknown.sort();
        let ids = |list: &[(GrantId, Option<String>)], conditional: bool| -> Vec<GrantId> {
            list.iter()
                .filter(|(_, condition)| condition.is_some() == conditional)
                .map(|(id, _)| id.clone())
                .collect()
        };
        let describe = |list: &[(GrantId, Option<String>)]| -> Vec<String> {
            list.iter()
                .filter_map(|(id, condition)| {
                    condition
                        .as_ref()
                        .map(|condition| format!("`{id}` when {condition}"))
                })
                .collect()
        };

        let hard_denies = ids(&self.deny, false);
        if !hard_denies.is_empty() {
            return AccessAnswer {
                decision: AccessDecision::Denied,
                grants: hard_denies,
            };
        }
        let conditional_denies = describe(&self.deny);
        let hard_allows = ids(&self.allow, false);
        if !hard_allows.is_empty() {
            if conditional_denies.is_empty() {
                return AccessAnswer {
                    decision: AccessDecision::Granted,
                    grants: hard_allows,
                };
            }
            let mut grants = hard_allows;
            grants.extend(ids(&self.deny, true));
            return AccessAnswer {
                decision: AccessDecision::Conditional {
                    reason: format!(
                        "allowed unless a deny applies: denied by {}",
                        conditional_denies.join("; ")
                    ),
                },
                grants,
            };
        }
        if !self.unknown.is_empty() {
            let reason = self
                .unknown
                .iter()
                .map(|(id, why)| format!("`{id}`: {why}"))
                .collect::<Vec<_>>()
                .join("; ");
            return AccessAnswer {
                decision: AccessDecision::Unknown { reason },
                grants: self.unknown.into_iter().map(|(id, _)| id).collect(),
            };
        }
        let conditional_allows = describe(&self.allow);
        if !conditional_allows.is_empty() {
            let mut reason = format!("allowed by {}", conditional_allows.join("; "));
            if !conditional_denies.is_empty() {
                reason.push_str(&format!(
                    ", unless denied by {}",
                    conditional_denies.join("; ")
                ));
            }
            return AccessAnswer {
                decision: AccessDecision::Conditional { reason },
                grants: ids(&self.allow, true),
            };
        }
        AccessAnswer {
            decision: AccessDecision::NotGranted,
            grants: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> GrantId {
        GrantId::new(name)
    }

    #[test]
    fn precedence_table() {
        let cond = || Some("condition `c`".to_string());
        let check = |verdicts: Verdicts, expected: &str, grants: &[&str]| {
            let answer = verdicts.decide();
            let got = match &answer.decision {
                AccessDecision::Granted => "granted",
                AccessDecision::Denied => "denied",
                AccessDecision::NotGranted => "not-granted",
                AccessDecision::Conditional { .. } => "conditional",
                AccessDecision::Unknown { .. } => "unknown",
            };
            assert_eq!(got, expected, "{answer:?}");
            let want: Vec<GrantId> = grants.iter().map(|g| id(g)).collect();
            assert_eq!(answer.grants, want);
        };
        check(Verdicts::default(), "not-granted", &[]);
        check(
            Verdicts {
                allow: vec![(id("b"), None), (id("a"), None)],
                ..Verdicts::default()
            },
            "granted",
            &["a", "b"],
        );
        check(
            Verdicts {
                allow: vec![(id("a"), None)],
                deny: vec![(id("d"), None)],
                ..Verdicts::default()
            },
            "denied",
            &["d"],
        );
        check(
            Verdicts {
                allow: vec![(id("a"), None)],
                deny: vec![(id("d"), cond())],
                ..Verdicts::default()
            },
            "conditional",
            &["a", "d"],
        );
        check(
            Verdicts {
                allow: vec![(id("a"), cond())],
                unknown: vec![(id("u"), "why".to_string())],
                ..Verdicts::default()
            },
            "unknown",
            &["u"],
        );
        check(
            Verdicts {
                allow: vec![(id("a"), cond())],
                ..Verdicts::default()
            },
            "conditional",
            &["a"],
        );
        check(
            Verdicts {
                deny: vec![(id("d"), cond())],
                ..Verdicts::default()
            },
            "not-granted",
            &[],
        );
    }
}
