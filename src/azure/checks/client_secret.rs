//! **What it finds:** password credentials (client secrets) and key credentials (certificates)
//! of applications and service principals, judged at the time of the run:
//!
//! - valid for more than a year (from `startDateTime`, or from now when it is not recorded, to
//!   `endDateTime`), or without a readable end date: a long-lived secret (medium; certificate:
//!   low);
//! - expiring within 30 days: a pipeline that signs in with it is about to break, and the
//!   usual fix is a new long-lived secret (medium; certificate: low);
//! - expired: clean-up (low; certificate: info);
//! - not used: no sign-in for more than 90 days by Microsoft Entra's credential activity
//!   report, or no sign-in in that report at all (medium confidence: the report's retention is
//!   not documented, so confirm before deleting; medium; certificate: low). When the report
//!   was not collected (it needs `AuditLog.Read.All`), use is unknown and never reported as
//!   unused.
//!
//! Dates come from Microsoft Graph `passwordCredential` / `keyCredential`
//! (<https://learn.microsoft.com/graph/api/resources/passwordcredential>,
//! <https://learn.microsoft.com/graph/api/resources/keycredential>), last use from
//! `appCredentialSignInActivity`
//! (<https://learn.microsoft.com/graph/api/resources/appcredentialsigninactivity?view=graph-rest-beta>);
//! the secret itself is never collected.
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
/// No sign-in for longer than this is an unused credential.
const UNUSED_DAYS: i64 = 90;

/// What the collected sign-in activity says about one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastUse {
    /// The report was not collected: use unknown.
    Unknown,
    /// The report was collected and does not list the credential.
    NotInReport,
    /// Listed without a sign-in time.
    NoSignIn,
    /// The latest sign-in the report lists.
    SignedIn(DateTime<Utc>),
}

/// The last use of the credential `key_id` in the inventory's sign-in activity.
fn last_use(check: &AzureUnderCheck<'_>, key_id: &str) -> LastUse {
    let Some(activities) = &check.inventory.credential_sign_ins else {
        return LastUse::Unknown;
    };
    let mut rows = activities
        .iter()
        .filter(|activity| activity.key_id.eq_ignore_ascii_case(key_id))
        .peekable();
    if rows.peek().is_none() {
        return LastUse::NotInReport;
    }
    rows.filter_map(|activity| {
        parse_time(
            activity
                .sign_in_activity
                .as_ref()?
                .last_sign_in_date_time
                .as_deref(),
        )
    })
    .max()
    .map_or(LastUse::NoSignIn, LastUse::SignedIn)
}

/// When the sign-in report was read: the inventory's collection time (never later than
/// now; now when it cannot be read).
fn reported_at(check: &AzureUnderCheck<'_>) -> DateTime<Utc> {
    parse_time(Some(check.inventory.collected_at.as_str()))
        .map_or(check.now, |collected| collected.min(check.now))
}

/// A credential's metadata, of either kind.
struct Credential<'a> {
    certificate: bool,
    last_use: LastUse,
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
                last_use: last_use(check, &credential.key_id),
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
                        last_use: last_use(check, &credential.key_id),
                        key_id: &credential.key_id,
                        display_name: credential.display_name.as_deref(),
                        start: credential.start_date_time.as_deref(),
                        end: credential.end_date_time.as_deref(),
                    }),
            );
        for credential in credentials {
            judge(
                check.now,
                reported_at(check),
                &identity,
                &owner,
                &source,
                &credential,
                findings,
            );
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
                last_use: last_use(check, &credential.key_id),
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
                        last_use: last_use(check, &credential.key_id),
                        key_id: &credential.key_id,
                        display_name: credential.display_name.as_deref(),
                        start: credential.start_date_time.as_deref(),
                        end: credential.end_date_time.as_deref(),
                    }),
            );
        for credential in credentials {
            judge(
                check.now,
                reported_at(check),
                &identity,
                &owner,
                &source,
                &credential,
                findings,
            );
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
    reported_at: DateTime<Utc>,
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
    // Lowered when the only sign of non-use is the report's silence.
    let mut confidence = Confidence::High;
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
            match credential.last_use {
                // Idleness is measured up to when the report was read (the inventory's
                // collection), never up to now: a sign-in after it would not be in it.
                LastUse::SignedIn(last) if reported_at - last > Duration::days(UNUSED_DAYS) => {
                    reasons.push(format!(
                        "has not signed in since {} ({} days before the sign-in report of {})",
                        last.format("%Y-%m-%d"),
                        (reported_at - last).num_days(),
                        reported_at.format("%Y-%m-%d")
                    ));
                }
                LastUse::NotInReport | LastUse::NoSignIn => {
                    reasons.push(
                        "has no sign-in in Microsoft Entra's credential activity report (confirm before deleting it)"
                            .to_string(),
                    );
                    confidence = Confidence::Medium;
                }
                LastUse::SignedIn(_) | LastUse::Unknown => {}
            }
            // A date-based reason is certain: the finding is as sure as its surest reason.
            if end - now <= Duration::days(EXPIRING_DAYS) {
                confidence = Confidence::High;
                reasons.push(format!(
                    "expires on {}, within {EXPIRING_DAYS} days",
                    end.format("%Y-%m-%d")
                ));
            }
            if lifetime > Duration::days(LONG_LIVED_DAYS) {
                confidence = Confidence::High;
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
            confidence,
            subject: owner.to_string(),
            message,
            evidence: vec![Evidence {
                source: source.to_string(),
                detail: format!(
                    "{noun} `{}`: start {}, end {}{}",
                    credential.key_id,
                    credential.start.unwrap_or("(not recorded)"),
                    credential.end.unwrap_or("(not recorded)"),
                    match credential.last_use {
                        LastUse::Unknown => String::new(),
                        LastUse::NotInReport => ", not in the credential activity report".into(),
                        LastUse::NoSignIn => ", no sign-in in the credential activity report".into(),
                        LastUse::SignedIn(last) =>
                            format!(", last sign-in {}", last.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    }
                ),
            }],
            remediation: "add a federated identity credential for the pipeline, then remove the credential; delete expired ones".into(),
        },
    ));
}
