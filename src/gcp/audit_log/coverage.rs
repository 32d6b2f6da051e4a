//! Which audit log records the use of a permission, from the reviewable table
//! `providers/gcp/audit-log-types.tsv`, and what that means for the logs read: a permission
//! whose calls go to Data Access logs is *unobservable* when none of those were read for its
//! service, not unused.

use super::record::LogType;
use super::report::Coverage;
use crate::matching::{Case, glob_match};
use std::sync::OnceLock;

/// The table embedded from `providers/gcp/audit-log-types.tsv`.
pub const AUDIT_LOG_TYPES_TSV: &str = include_str!("../../../providers/gcp/audit-log-types.tsv");

/// The access type of a permission, as Cloud Audit Logs classify calls
/// (<https://cloud.google.com/logging/docs/audit/configure-data-access#config-console>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessType {
    AdminWrite,
    AdminRead,
    DataRead,
    DataWrite,
    /// Not named in the table: treated as needing Data Access logs.
    Unknown,
}

impl AccessType {
    fn parse(text: &str) -> Option<AccessType> {
        Some(match text {
            "ADMIN_WRITE" => AccessType::AdminWrite,
            "ADMIN_READ" => AccessType::AdminRead,
            "DATA_READ" => AccessType::DataRead,
            "DATA_WRITE" => AccessType::DataWrite,
            "UNKNOWN" => AccessType::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::AdminWrite => "ADMIN_WRITE",
            AccessType::AdminRead => "ADMIN_READ",
            AccessType::DataRead => "DATA_READ",
            AccessType::DataWrite => "DATA_WRITE",
            AccessType::Unknown => "UNKNOWN",
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRule {
    /// Glob over the permission name.
    pub pattern: String,
    /// `Activity` or `DataAccess`.
    pub log: LogType,
    pub access: AccessType,
    /// Whether the log is written without configuration.
    pub default_on: bool,
    /// The documentation page the line comes from.
    pub doc: String,
}

/// A malformed line of the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogRuleError {
    #[error(
        "audit log table line {line}: expected `<pattern>\\t<activity|data_access>\\t<access type>\\t<yes|no>\\t<doc url>`"
    )]
    Shape { line: usize },
    #[error("audit log table: no line matches every permission (`*` must be last)")]
    NoCatchAll,
}

/// Parses a table in the `providers/gcp/audit-log-types.tsv` format (`#` starts a comment).
pub fn parse_log_rules(text: &str) -> Result<Vec<LogRule>, LogRuleError> {
    let mut rules = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split('\t').map(str::trim).collect();
        let [pattern, log, access, default_on, doc] = fields.as_slice() else {
            return Err(LogRuleError::Shape { line });
        };
        let log = match *log {
            "activity" => LogType::Activity,
            "data_access" => LogType::DataAccess,
            _ => return Err(LogRuleError::Shape { line }),
        };
        let access = AccessType::parse(access).ok_or(LogRuleError::Shape { line })?;
        let default_on = match *default_on {
            "yes" => true,
            "no" => false,
            _ => return Err(LogRuleError::Shape { line }),
        };
        if !doc.starts_with("https://") {
            return Err(LogRuleError::Shape { line });
        }
        rules.push(LogRule {
            pattern: (*pattern).to_string(),
            log,
            access,
            default_on,
            doc: (*doc).to_string(),
        });
    }
    if rules.last().is_none_or(|rule| rule.pattern != "*") {
        return Err(LogRuleError::NoCatchAll);
    }
    Ok(rules)
}

/// The embedded table, parsed once.
pub fn log_rules() -> Result<&'static [LogRule], &'static LogRuleError> {
    static TABLE: OnceLock<Result<Vec<LogRule>, LogRuleError>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse_log_rules(AUDIT_LOG_TYPES_TSV))
        .as_ref()
        .map(Vec::as_slice)
}

/// The rule that classifies `permission` (the first line that matches).
pub fn rule_for(permission: &str) -> Result<&'static LogRule, &'static LogRuleError> {
    let rules = log_rules()?;
    rules
        .iter()
        .find(|rule| glob_match(&rule.pattern, permission, Case::Sensitive))
        .ok_or(&LogRuleError::NoCatchAll)
}

/// Whether the logs read can show a permission's use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observability {
    /// Calls that need it are written to a log that was read (Admin Activity, always on, or
    /// Data Access entries of its service were present).
    Observable,
    /// Calls that need it go to Data Access logs, and none were read for its service: its
    /// absence from the usage says nothing.
    Unobservable { reason: String },
}

/// The service of a permission as `serviceName` spells it (`storage.objects.get` →
/// `storage.googleapis.com`).
pub fn service_of(permission: &str) -> String {
    let prefix = permission.split('.').next().unwrap_or(permission);
    format!("{prefix}.googleapis.com")
}

/// Whether `permission`'s use could be seen in logs with this `coverage`.
pub fn observability(permission: &str, coverage: &Coverage) -> Observability {
    let rule = match rule_for(permission) {
        Ok(rule) => rule,
        Err(error) => {
            return Observability::Unobservable {
                reason: error.to_string(),
            };
        }
    };
    if rule.log == LogType::Activity {
        return Observability::Observable;
    }
    let service = service_of(permission);
    if coverage.data_access_services.contains(&service) {
        return Observability::Observable;
    }
    Observability::Unobservable {
        reason: format!(
            "{} calls are written to Data Access audit logs ({}), and no Data Access entry of \
             `{service}` was read; enable them (`{}`) and read them before dropping it",
            rule.access.as_str(),
            if rule.default_on {
                "on by default"
            } else {
                "off by default"
            },
            "https://cloud.google.com/logging/docs/audit/configure-data-access"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_ends_with_a_catch_all() {
        let rules = log_rules().unwrap();
        assert!(rules.len() > 10);
        assert_eq!(rules.last().unwrap().pattern, "*");
        assert!(rules.iter().all(|rule| rule.doc.starts_with("https://")));
    }

    #[test]
    fn data_plane_permissions_need_data_access_and_writes_of_configuration_do_not() {
        for (permission, log, access) in [
            (
                "storage.objects.get",
                LogType::DataAccess,
                AccessType::DataRead,
            ),
            (
                "storage.objects.create",
                LogType::DataAccess,
                AccessType::DataWrite,
            ),
            (
                "secretmanager.versions.access",
                LogType::DataAccess,
                AccessType::DataRead,
            ),
            (
                "run.services.get",
                LogType::DataAccess,
                AccessType::AdminRead,
            ),
            (
                "run.services.update",
                LogType::Activity,
                AccessType::AdminWrite,
            ),
            (
                "storage.buckets.setIamPolicy",
                LogType::Activity,
                AccessType::AdminWrite,
            ),
            (
                "iam.serviceAccounts.actAs",
                LogType::Activity,
                AccessType::AdminWrite,
            ),
            (
                "pubsub.topics.publish",
                LogType::DataAccess,
                AccessType::Unknown,
            ),
        ] {
            let rule = rule_for(permission).unwrap();
            assert_eq!((rule.log, rule.access), (log, access), "{permission}");
        }
    }

    #[test]
    fn data_plane_use_is_unobservable_without_data_access_entries_of_its_service() {
        let mut coverage = Coverage::default();
        assert!(matches!(
            observability("storage.objects.get", &coverage),
            Observability::Unobservable { .. }
        ));
        assert_eq!(
            observability("run.services.update", &coverage),
            Observability::Observable
        );
        coverage
            .data_access_services
            .insert("storage.googleapis.com".to_string());
        assert_eq!(
            observability("storage.objects.get", &coverage),
            Observability::Observable
        );
        assert!(matches!(
            observability("secretmanager.versions.access", &coverage),
            Observability::Unobservable { .. }
        ));
    }

    #[test]
    fn malformed_tables_are_refused() {
        assert_eq!(
            parse_log_rules("a.b.c\tactivity\tADMIN_WRITE\tyes\n"),
            Err(LogRuleError::Shape { line: 1 })
        );
        assert_eq!(
            parse_log_rules("a.b.c\tactivity\tADMIN_WRITE\tyes\thttps://x\n"),
            Err(LogRuleError::NoCatchAll)
        );
    }
}
