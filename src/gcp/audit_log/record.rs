//! The parts of a Cloud Logging `LogEntry` and its `AuditLog` payload that usage needs, parsed
//! with borrowed strings (escaped strings are the only ones copied). Every other field is
//! skipped.
//!
//! Shapes: `LogEntry` <https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry>,
//! `AuditLog` <https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog>.
//! The JSON is the proto3 JSON mapping, which leaves fields at their default value out: a
//! `status` of `{}` is code 0 (OK), and an `authorizationInfo[]` entry without `granted` has
//! `granted` false in the proto.

use serde::Deserialize;
use std::borrow::Cow;

/// `type.googleapis.com/google.cloud.audit.AuditLog`: the payload type of every Cloud Audit
/// Logs entry.
pub const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// One `LogEntry`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry<'a> {
    /// `projects/P/logs/cloudaudit.googleapis.com%2Factivity` (or `…%2Fdata_access`,
    /// `…%2Fsystem_event`, `…%2Fpolicy`); the `%2F` may also appear as `/`.
    #[serde(borrow)]
    pub log_name: Option<Cow<'a, str>>,
    /// RFC 3339 with up to nine fractional digits, UTC.
    #[serde(borrow)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub proto_payload: Option<AuditLog<'a>>,
}

/// The `AuditLog` payload (`protoPayload`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLog<'a> {
    #[serde(rename = "@type", borrow)]
    pub type_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub service_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub method_name: Option<Cow<'a, str>>,
    /// The target of the operation; the resource of an `authorizationInfo[]` entry that names
    /// none.
    #[serde(borrow)]
    pub resource_name: Option<Cow<'a, str>>,
    pub status: Option<Status>,
    #[serde(borrow)]
    pub authentication_info: Option<AuthenticationInfo<'a>>,
    /// One element per (resource, permission) pair IAM checked for the call.
    #[serde(borrow)]
    pub authorization_info: Option<Vec<AuthorizationInfo<'a>>>,
}

/// `google.rpc.Status`: code 0 is OK, 7 is `PERMISSION_DENIED`, 16 is `UNAUTHENTICATED`
/// (<https://cloud.google.com/apis/design/errors#handling_errors>).
#[derive(Debug, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub code: i64,
}

/// `AuthenticationInfo`: who made the call.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationInfo<'a> {
    /// "The email address of the authenticated user (or service account on behalf of third
    /// party principal) making the request."
    #[serde(borrow)]
    pub principal_email: Option<Cow<'a, str>>,
    /// Set instead of `principalEmail` for third-party (federated) callers:
    /// `principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/S`.
    #[serde(borrow)]
    pub principal_subject: Option<Cow<'a, str>>,
    /// "Identity delegation history of an authenticated service account that makes the
    /// request", in the order of the delegations.
    #[serde(borrow)]
    pub service_account_delegation_info: Option<Vec<DelegationInfo<'a>>>,
    /// The user-managed key the call authenticated with, when it did:
    /// `//iam.googleapis.com/projects/P/serviceAccounts/SA/keys/KEY_ID`
    /// (<https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog#AuthenticationInfo>).
    #[serde(borrow)]
    pub service_account_key_name: Option<Cow<'a, str>>,
}

/// One element of `serviceAccountDelegationInfo[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationInfo<'a> {
    #[serde(borrow)]
    pub principal_subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub first_party_principal: Option<FirstPartyPrincipal<'a>>,
    /// Present for a third-party authority; its shape is service-specific and only its
    /// presence is kept.
    pub third_party_principal: Option<serde::de::IgnoredAny>,
}

/// `ServiceAccountDelegationInfo.FirstPartyPrincipal`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstPartyPrincipal<'a> {
    #[serde(borrow)]
    pub principal_email: Option<Cow<'a, str>>,
}

/// One `authorizationInfo[]` element.
#[derive(Debug, Default, Deserialize)]
pub struct AuthorizationInfo<'a> {
    #[serde(borrow)]
    pub resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub permission: Option<Cow<'a, str>>,
    /// Absent means false in the proto3 JSON mapping.
    pub granted: Option<bool>,
}

/// The audit log an entry belongs to, from its `logName`
/// (<https://cloud.google.com/logging/docs/audit#types>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogType {
    /// Admin Activity: always written, cannot be disabled.
    Activity,
    /// Data Access (`ADMIN_READ`, `DATA_READ`, `DATA_WRITE`): off by default for most
    /// services.
    DataAccess,
    SystemEvent,
    /// Policy Denied (VPC Service Controls and other security policies).
    Policy,
    /// Any other `cloudaudit.googleapis.com` log, or a `logName` that does not say.
    Other,
}

impl LogType {
    /// Reads the type from a `logName` (`…/logs/cloudaudit.googleapis.com%2Fdata_access`).
    pub fn from_log_name(log_name: &str) -> LogType {
        let id = log_name
            .rsplit_once("/logs/")
            .map_or(log_name, |(_, id)| id);
        let kind = id
            .strip_prefix("cloudaudit.googleapis.com%2F")
            .or_else(|| id.strip_prefix("cloudaudit.googleapis.com%2f"))
            .or_else(|| id.strip_prefix("cloudaudit.googleapis.com/"))
            .unwrap_or("");
        match kind {
            "activity" => LogType::Activity,
            "data_access" => LogType::DataAccess,
            "system_event" => LogType::SystemEvent,
            "policy" => LogType::Policy,
            _ => LogType::Other,
        }
    }

    /// The name used in the sink's folders and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::Activity => "activity",
            LogType::DataAccess => "data_access",
            LogType::SystemEvent => "system_event",
            LogType::Policy => "policy",
            LogType::Other => "other",
        }
    }

    pub const ALL: [LogType; 5] = [
        LogType::Activity,
        LogType::DataAccess,
        LogType::SystemEvent,
        LogType::Policy,
        LogType::Other,
    ];
}

/// A CI workload read from a Workload Identity Federation principal identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedSubject<'a> {
    /// The pool's full resource name:
    /// `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P`.
    pub pool: String,
    /// The token's mapped `google.subject` (for GitHub Actions, its `sub` claim).
    pub subject: &'a str,
}

/// Reads `principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/S`
/// (IAM principal identifiers, <https://cloud.google.com/iam/docs/principal-identifiers>).
/// Workforce pools (people, not pipelines) and other forms give `None`.
pub fn federated_subject(principal: &str) -> Option<FederatedSubject<'_>> {
    let rest = principal.strip_prefix("principal://iam.googleapis.com/")?;
    let (pool, subject) = rest
        .split_once("/subject/")
        .or_else(|| rest.split_once("/subjects/"))?;
    if !pool.contains("/workloadIdentityPools/") || subject.is_empty() {
        return None;
    }
    Some(FederatedSubject {
        pool: format!("//iam.googleapis.com/{pool}"),
        subject,
    })
}

/// Parses a `LogEntry` timestamp into Unix seconds (fractions dropped). The common
/// `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` form is read by hand; anything else goes through
/// RFC 3339.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() >= 20 && bytes[19] == b'.' && bytes[bytes.len() - 1] == b'Z' {
        let fraction = &bytes[20..bytes.len() - 1];
        if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) {
            let mut whole = [0u8; 20];
            whole[..19].copy_from_slice(&bytes[..19]);
            whole[19] = b'Z';
            let whole = std::str::from_utf8(&whole).ok()?;
            return crate::model::time::parse_event_time(whole);
        }
    }
    crate::model::time::parse_event_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_types_are_read_from_escaped_and_plain_log_names() {
        for (name, kind) in [
            (
                "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
                LogType::Activity,
            ),
            (
                "organizations/1/logs/cloudaudit.googleapis.com%2Fdata_access",
                LogType::DataAccess,
            ),
            (
                "folders/2/logs/cloudaudit.googleapis.com/system_event",
                LogType::SystemEvent,
            ),
            (
                "projects/p/logs/cloudaudit.googleapis.com%2Fpolicy",
                LogType::Policy,
            ),
            ("projects/p/logs/syslog", LogType::Other),
        ] {
            assert_eq!(LogType::from_log_name(name), kind, "{name}");
        }
    }

    #[test]
    fn workload_identity_subjects_are_read_and_workforce_pools_are_not() {
        let found = federated_subject(
            "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github/subject/repo:acme/web:ref:refs/heads/main",
        )
        .unwrap();
        assert_eq!(
            found.pool,
            "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github"
        );
        assert_eq!(found.subject, "repo:acme/web:ref:refs/heads/main");
        assert!(
            federated_subject(
                "principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/alice"
            )
            .is_none()
        );
        assert!(federated_subject("ci@p.iam.gserviceaccount.com").is_none());
    }

    #[test]
    fn timestamps_with_nanoseconds_parse_to_the_second() {
        assert_eq!(
            parse_timestamp("2026-11-01T12:34:56.123456789Z"),
            parse_timestamp("2026-11-01T12:34:56Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-01T12:34:56.5+00:00"),
            parse_timestamp("2026-11-01T12:34:56Z")
        );
        assert!(parse_timestamp("2026-11-01T12:34:56Z").is_some());
        assert_eq!(parse_timestamp("not a time"), None);
    }
}
