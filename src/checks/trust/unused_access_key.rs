//! **What it finds:** IAM user access keys with no recorded use: IAM has no last-used date for
//! the key (or one before the observation window), and CloudTrail does not show the key's user
//! calling in the window.
//!
//! **Why it matters:** a forgotten key is a credential nobody watches: it is not rotated with
//! the pipeline, it survives the migration to OIDC, and its leak would go unnoticed because
//! nothing legitimate uses it.
//!
//! **Example:** user `ci-legacy` has two active keys; the pipeline uses one, the other was
//! created for a migration and never used.
//!
//! **Remediation:** deactivate the key, wait one release cycle, then delete it. Confidence is
//! high when the user made no call at all in the window; low when the user did call but the
//! logs cannot say which of several keys signed the calls.

use super::TrustUnderCheck;
use super::long_lived_access_key::{logged_calls, user_keys};
use crate::model::{Confidence, Evidence, Finding, IdentityId, IdentityKind, Severity};

pub const ID: &str = "unused-access-key";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    let window_start = check.usage.and_then(|usage| usage.window.since);
    for (id, identity) in &check.normalized.inventory.identities {
        if identity.kind != IdentityKind::AwsUser {
            continue;
        }
        let keys = user_keys(check, id);
        let calls = logged_calls(check, id);
        // With one key, the user's logged calls were signed with it.
        if keys.len() == 1 && calls.is_some() {
            continue;
        }
        for key in &keys {
            let recorded = key
                .last_used
                .is_some_and(|last| window_start.is_none_or(|since| last >= since));
            if recorded {
                continue;
            }
            let confidence = match (check.usage, calls) {
                (Some(_), None) => Confidence::High,
                (Some(_), Some(_)) => Confidence::Low,
                (None, _) => Confidence::Medium,
            };
            let mut evidence = vec![Evidence {
                source: format!("access key `{}`", key.key_id),
                detail: match key.last_used {
                    Some(last) => format!(
                        "IAM last used {}, before the window",
                        last.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                    None => "IAM records no use of the key".into(),
                },
            }];
            match calls {
                Some((count, _)) => evidence.push(Evidence {
                    source: "CloudTrail".into(),
                    detail: format!(
                        "the user made {count} call(s) in the window, but the logs do not say which of its {} keys signed them",
                        keys.len()
                    ),
                }),
                None if check.usage.is_some() => evidence.push(Evidence {
                    source: "CloudTrail".into(),
                    detail: "no call by the user in the window".into(),
                }),
                None => {}
            }
            findings.push((
                id.clone(),
                Finding {
                    id: ID,
                    severity: Severity::Medium,
                    confidence,
                    subject: format!("{} key `{}`", check.subject(id), key.key_id),
                    message: format!("access key `{}` shows no use", key.key_id),
                    evidence,
                    remediation: "deactivate the key, then delete it once nothing breaks".into(),
                },
            ));
        }
    }
}
