//! **What it finds:** IAM user access keys with no recorded use: IAM has no last-used date for
//! the key (or one before the observation window), and no call in the window's CloudTrail was
//! signed with it (`userIdentity.accessKeyId`).
//!
//! **Why it matters:** a forgotten key is a credential nobody watches: it is not rotated with
//! the pipeline, it survives the migration to OIDC, and its leak would go unnoticed because
//! nothing legitimate uses it.
//!
//! **Example:** user `ci-legacy` has two active keys; the pipeline signs every call with one,
//! the other was created for a migration and never used.
//!
//! **Remediation:** deactivate the key, wait one release cycle, then delete it. Confidence is
//! high when every call the user made in the window names the key that signed it; low when
//! some calls were signed with temporary keys (`GetSessionToken`) or by logs that do not say
//! which key signed them, or when a log file could not be read, since those may hide a use
//! of this key, or when logs were read but hold no event of the user's account in the window
//! (IAM's record is then the only evidence, and the logs given say use is unknown); medium
//! without logs.

use super::TrustUnderCheck;
use super::long_lived_access_key::{logged_calls, user_keys};
use crate::aws::cloudtrail::AccessKeyUse;
use crate::aws::coverage::skipped_file_may_hold;
use crate::graph::principal_key;
use crate::model::{Confidence, Evidence, Finding, IdentityId, IdentityKind, Severity};

pub const ID: &str = "unused-access-key";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, identity) in &check.normalized.inventory.identities {
        if identity.kind != IdentityKind::AwsUser {
            continue;
        }
        // Logs that hold nothing of the user's account say nothing of its keys.
        let usage = check
            .usage
            .filter(|usage| usage.covers_account(&identity.container));
        let window_start = usage.and_then(|usage| usage.window.since);
        let keys = user_keys(check, id);
        let calls = logged_calls(check, id);
        let signed: Vec<&AccessKeyUse> = usage
            .map(|usage| {
                usage
                    .access_keys
                    .iter()
                    .filter(|key| principal_key(&key.user_arn) == principal_key(id.native()))
                    .collect()
            })
            .unwrap_or_default();
        // Calls that may have been signed with any of the user's keys.
        let unattributed =
            signed.iter().any(|key| key.is_temporary()) || (signed.is_empty() && calls.is_some());
        // With one key, the user's logged calls were signed with it.
        if keys.len() == 1 && calls.is_some() && unattributed {
            continue;
        }
        for key in &keys {
            let recorded = key
                .last_used
                .is_some_and(|last| window_start.is_none_or(|since| last >= since));
            let in_logs = signed.iter().any(|used| used.access_key_id == key.key_id);
            if recorded || in_logs {
                continue;
            }
            // A log file that could not be read may hold a call signed with the key: one of the
            // user's account (`AWSLogs/<account>/…`), or one whose account the name does not say.
            let skipped = usage.map_or(0, |usage| {
                usage
                    .coverage
                    .sources_skipped
                    .iter()
                    .filter(|skipped| skipped_file_may_hold(&skipped.source, &identity.container))
                    .count()
            });
            // Logs were given, but none of the user's account in the window.
            let logs_silent = usage.is_none() && check.usage.is_some();
            let confidence = match usage {
                None if logs_silent => Confidence::Low,
                None => Confidence::Medium,
                Some(_) if unattributed || skipped > 0 => Confidence::Low,
                Some(_) => Confidence::High,
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
            if logs_silent {
                evidence.push(Evidence {
                    source: "CloudTrail".into(),
                    detail: format!(
                        "the logs read hold no event of account {} in the window: use in the \
                         window is unknown, and IAM's record is the only evidence",
                        identity.container
                    ),
                });
            }
            if usage.is_some() {
                evidence.push(Evidence {
                    source: "CloudTrail".into(),
                    detail: cloudtrail_detail(calls, &signed, keys.len()),
                });
                if skipped > 0 {
                    evidence.push(Evidence {
                        source: "CloudTrail".into(),
                        detail: format!(
                            "{skipped} log file(s) could not be read and may hold a call signed \
                             with the key"
                        ),
                    });
                }
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

/// What the logs say of the user's calls in the window.
fn cloudtrail_detail(
    calls: Option<(u64, chrono::DateTime<chrono::Utc>)>,
    signed: &[&AccessKeyUse],
    key_count: usize,
) -> String {
    if signed.is_empty() {
        return match calls {
            Some((count, _)) => format!(
                "the user made {count} call(s) in the window, but the logs do not say which of \
                 its {key_count} keys signed them"
            ),
            None => "no call by the user in the window".into(),
        };
    }
    let keys = signed
        .iter()
        .map(|key| {
            let kind = if key.is_temporary() {
                " (temporary, from GetSessionToken: any of the user's keys may have asked for it)"
            } else {
                ""
            };
            format!("`{}` {} call(s){kind}", key.access_key_id, key.calls)
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("the user's calls in the window were signed with {keys}; none with this key")
}
