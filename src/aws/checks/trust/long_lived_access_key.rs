//! **What it finds:** IAM users with long-lived access keys that are in use: CloudTrail shows
//! calls by the user in the window, or IAM records a last use of a key.
//!
//! **Why it matters:** a long-lived key stored as a CI secret works from anywhere, for anyone
//! who reads it (a log line, a fork's workflow, a leaked backup), until someone rotates it.
//! OIDC federation gives each job short-lived credentials bound to the repository and branch
//! instead.
//!
//! **Example:** user `ci-legacy` with an active access key used 34 times this week by the
//! legacy pipeline.
//!
//! **Remediation:** move the pipeline to OIDC federation (a role trusted by the CI issuer with
//! an exact `sub`), then deactivate and delete the key.

use super::TrustUnderCheck;
use crate::graph::principal_key;
use crate::model::{Confidence, Evidence, Finding, IdentityId, IdentityKind, Severity, Trust};

pub const ID: &str = "long-lived-access-key";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, identity) in &check.normalized.inventory.identities {
        if identity.kind != IdentityKind::AwsUser {
            continue;
        }
        let keys = user_keys(check, id);
        if keys.is_empty() {
            continue;
        }
        let calls = logged_calls(check, id);
        let mut evidence = Vec::new();
        if let Some((count, last)) = calls {
            evidence.push(Evidence {
                source: "CloudTrail".into(),
                detail: format!(
                    "{count} call(s) by the user in the window, last {}",
                    last.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            });
        }
        for key in &keys {
            if let Some(last_used) = key.last_used {
                evidence.push(Evidence {
                    source: format!("access key `{}`", key.key_id),
                    detail: format!("last used {}", last_used.format("%Y-%m-%dT%H:%M:%SZ")),
                });
            }
        }
        if evidence.is_empty() {
            continue;
        }
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity: Severity::Medium,
                confidence: Confidence::High,
                subject: check.subject(id),
                message: format!(
                    "the user signs in with long-lived access keys ({} key(s)) that are in use",
                    keys.len()
                ),
                evidence,
                remediation: "move the pipeline to OIDC federation with an exact subject, then deactivate and delete the keys".into(),
            },
        ));
    }
}

/// One access key of a user, from its long-lived-key trust.
pub struct UserKey<'a> {
    pub key_id: &'a str,
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

/// The user's access keys, in key-id order.
pub fn user_keys<'a>(check: &'a TrustUnderCheck<'_>, id: &IdentityId) -> Vec<UserKey<'a>> {
    let mut keys: Vec<UserKey<'a>> = check
        .normalized
        .inventory
        .trusts
        .get(id)
        .into_iter()
        .flatten()
        .filter_map(|trust| match trust {
            Trust::LongLivedKey {
                key_id, last_used, ..
            } => Some(UserKey {
                key_id,
                last_used: *last_used,
            }),
            _ => None,
        })
        .collect();
    keys.sort_by(|a, b| a.key_id.cmp(b.key_id));
    keys
}

/// Calls CloudTrail charged to the identity in the window: how many, and the last one.
pub fn logged_calls(
    check: &TrustUnderCheck<'_>,
    id: &IdentityId,
) -> Option<(u64, chrono::DateTime<chrono::Utc>)> {
    let usage = check.usage?;
    usage
        .records()
        .filter(|(key, _, _)| principal_key(key.identity.native()) == principal_key(id.native()))
        .fold(None, |found, (_, record, _)| {
            Some(match found {
                None => (record.count, record.last_seen),
                Some((count, last)) => (count + record.count, record.last_seen.max(last)),
            })
        })
}
