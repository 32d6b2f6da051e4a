//! **What it finds:** password credentials (client secrets) and key credentials (certificates)
//! of applications and service principals, judged at the time of the run:
//!
//! - valid for more than a year (from `startDateTime`, or from now when it is not recorded, to
//!   `endDateTime`), or without a readable end date: a long-lived secret (medium; certificate:
//!   low);
//! - expiring within 30 days: a pipeline that signs in with it is about to break, and the
//!   usual fix is a new long-lived secret (medium; certificate: low);
//! - expired: clean-up (low; certificate: info).
//!
//! Dates come from Microsoft Graph `passwordCredential` / `keyCredential`
//! (<https://learn.microsoft.com/graph/api/resources/passwordcredential>,
//! <https://learn.microsoft.com/graph/api/resources/keycredential>); the secret itself is never
//! collected.
//!
//! **Why it matters:** a client secret stored in a CI system works from anywhere, for anyone who
//! reads it (a log line, a fork's workflow, a leaked backup), until it expires. Workload
//! identity federation gives each job a short-lived token bound to its repository and branch
//! instead (<https://learn.microsoft.com/entra/workload-id/workload-identity-federation>). A
//! certificate is harder to leak by accident than a secret, so it ranks lower.
//!
//! **Example:** application `deploy` with a secret created `2025-01-01` valid until
//! `2027-01-01`.
//!
//! **Remediation:** add a federated identity credential for the pipeline, switch it over, then
//! remove the secret (`az ad app credential delete --id <appId> --key-id <keyId>`); delete
//! expired credentials. Enforce a maximum lifetime with an application management policy.

use super::{AzureFindings, AzureUnderCheck, identity_id};
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity};
use chrono::{DateTime, Duration, Utc};

pub const ID: &str = "azure-client-secret";

/// Longer than this is a long-lived credential.
const LONG_LIVED_DAYS: i64 = 365;
/// Expiring within this is about to break a pipeline.
const EXPIRING_DAYS: i64 = 30;

/// A credential's metadata, of either kind.
struct Credential<'a> {
    certificate: bool,
    key_id: &'a str,
    display_name: Option<&'a str>,
    start: Option<&'a str>,
    end: Option<&'a str>,
}

pub fn run(check: &AzureUnderCheck<'_>, findings: &mut AzureFindings) {
    for application in &check.inventory.applications {
        let identity = check
            .service_principal_of_app(&application.app_id)
            .map(|principal| identity_id(&principal.id));
        let owner = format!(
            "application `{}` (`{}`)",
            application
                .display_name
                .as_deref()
                .unwrap_or(&application.app_id),
            application.app_id
        );
        let source = format!("applications/{}", application.id);
        let credentials = application
            .password_credentials
            .iter()
            .map(|credential| Credential {
                certificate: false,
                key_id: &credential.key_id,
                display_name: credential.display_name.as_deref(),
                start: credential.start_date_time.as_deref(),
                end: credential.end_date_time.as_deref(),
            })
            .chain(
                application
                    .key_credentials
                    .iter()
                    .map(|credential| Credential {
                        certificate: true,
                        key_id: &credential.key_id,
                        display_name: credential.display_name.as_deref(),
                        start: credential.start_date_time.as_deref(),
                        end: credential.end_date_time.as_deref(),
                    }),
            );
        for credential in credentials {
            judge(check.now, &identity, &owner, &source, &credential, findings);
        }
    }
    for principal in &check.inventory.service_principals {
        let identity = Some(identity_id(&principal.id));
        let owner = format!(
            "service principal `{}` (`{}`)",
            principal.display_name.as_deref().unwrap_or(&principal.id),
            principal.id
        );
        let source = format!("servicePrincipals/{}", principal.id);
        let credentials = principal
            .password_credentials
            .iter()
            .map(|credential| Credential {
                certificate: false,
                key_id: &credential.key_id,
                display_name: credential.display_name.as_deref(),
                start: credential.start_date_time.as_deref(),
                end: credential.end_date_time.as_deref(),
            })
            .chain(
                principal
                    .key_credentials
                    .iter()
                    .map(|credential| Credential {
                        certificate: true,
                        key_id: &credential.key_id,
                        display_name: credential.display_name.as_deref(),
                        start: credential.start_date_time.as_deref(),
                        end: credential.end_date_time.as_deref(),
                    }),
            );
        for credential in credentials {
            judge(check.now, &identity, &owner, &source, &credential, findings);
        }
    }
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim())
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn judge(
    now: DateTime<Utc>,
    identity: &Option<IdentityId>,
    owner: &str,
    source: &str,
    credential: &Credential<'_>,
    findings: &mut AzureFindings,
) {
    let noun = if credential.certificate {
        "certificate"
    } else {
        "client secret"
    };
    let name = match credential.display_name {
        Some(display) if !display.is_empty() => format!("`{display}` (`{}`)", credential.key_id),
        _ => format!("`{}`", credential.key_id),
    };
    let start = parse_time(credential.start);
    let end = parse_time(credential.end);
    // Certificates rank one step lower than secrets.
    let rank = |secret: Severity| match (credential.certificate, secret) {
        (false, severity) => severity,
        (true, Severity::Medium) => Severity::Low,
        (true, _) => Severity::Info,
    };
    let (severity, message) = match end {
        None => (
            rank(Severity::Medium),
            format!(
                "{noun} {name} has no readable end date: it may never expire; move the pipeline to workload identity federation"
            ),
        ),
        Some(end) if end <= now => (
            rank(Severity::Low),
            format!(
                "{noun} {name} expired on {}: delete it",
                end.format("%Y-%m-%d")
            ),
        ),
        Some(end) => {
            let lifetime = end - start.filter(|start| *start < end).unwrap_or(now);
            let mut reasons = Vec::new();
            if end - now <= Duration::days(EXPIRING_DAYS) {
                reasons.push(format!(
                    "expires on {}, within {EXPIRING_DAYS} days",
                    end.format("%Y-%m-%d")
                ));
            }
            if lifetime > Duration::days(LONG_LIVED_DAYS) {
                reasons.push(format!(
                    "is valid for {} days (more than a year)",
                    lifetime.num_days()
                ));
            }
            if reasons.is_empty() {
                return;
            }
            (
                rank(Severity::Medium),
                format!(
                    "{noun} {name} {}; move the pipeline to workload identity federation",
                    reasons.join(" and ")
                ),
            )
        }
    };
    findings.push((
        identity.clone(),
        Finding {
            id: ID,
            severity,
            confidence: Confidence::High,
            subject: owner.to_string(),
            message,
            evidence: vec![Evidence {
                source: source.to_string(),
                detail: format!(
                    "{noun} `{}`: start {}, end {}",
                    credential.key_id,
                    credential.start.unwrap_or("(not recorded)"),
                    credential.end.unwrap_or("(not recorded)")
                ),
            }],
            remediation: "add a federated identity credential for the pipeline, then remove the credential; delete expired ones".into(),
        },
    ));
}
