//! **What it finds:** long-lived IAM user access keys that have never been used, or not since
//! before the observation window began.
//!
//! **Why it matters:** a long-lived key is a password that never expires and can be used from
//! anywhere. A forgotten key in an old CI variable store or a laptop is exactly what attackers
//! look for, and nobody notices when it starts being used.
//!
//! **Example:** `ci-legacy` has two active keys; `AKIA…7Q` has never been used.
//!
//! **Remediation:** deactivate the key, wait a cycle of the pipeline, then delete it. Move CI
//! to OIDC federation so that no long-lived key is needed at all.

use super::IdentityUnderCheck;
use crate::model::{Confidence, Evidence, Finding, Severity, Trust};

pub const ID: &str = "unused-access-key";

pub fn run(identity: &IdentityUnderCheck<'_>, findings: &mut Vec<Finding>) {
    for trust in &identity.audit.trusts {
        let Trust::LongLivedKey {
            key_id,
            created,
            last_used,
        } = trust
        else {
            continue;
        };
        let message = match last_used {
            None => format!("access key `{key_id}` has never been used"),
            Some(time) if *time < identity.window.since => format!(
                "access key `{key_id}` has not been used since {}",
                time.format("%Y-%m-%d")
            ),
            Some(_) => continue,
        };
        findings.push(Finding {
            id: ID,
            severity: Severity::Medium,
            confidence: Confidence::High,
            subject: identity.subject(),
            message,
            evidence: vec![Evidence {
                source: "IAM access-key last-used data".into(),
                detail: match created {
                    Some(created) => format!("created {}", created.format("%Y-%m-%d")),
                    None => "creation date unknown".into(),
                },
            }],
            remediation: "deactivate, then delete the key; use OIDC federation for CI instead"
                .into(),
        });
    }
}
