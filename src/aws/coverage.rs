//! What CloudTrail can show: the coverage table (`providers/aws/cloudtrail-coverage.tsv`) that
//! classifies how an IAM action appears in the logs, the facts about what one ingestion
//! actually read, and the one question built from both: *could these logs have shown this
//! action?*
//!
//! The answer guards invariant 3, "unobservable is not unused": an action the logs could not
//! show is never reported as unused, whatever the usage says. The table is reviewable data,
//! embedded at build time; this module only parses and looks it up.

use crate::catalog::AccessLevel;
use crate::model::SkippedSource;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

const EMBEDDED: &str = include_str!("../../providers/aws/cloudtrail-coverage.tsv");
const EMBEDDED_FILE: &str = "providers/aws/cloudtrail-coverage.tsv";
const COLUMNS: &str = "action\tclass\tnote";

/// How CloudTrail records an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventClass {
    /// Logged by every trail by default (the class of every action the table omits).
    Management,
    /// Logged only when data events are enabled for the action's service.
    Data,
    /// Checked by AWS but never recorded as an event of its own (`iam:PassRole`).
    NotLogged,
    /// Logged, but the call needs no permission (`sts:GetCallerIdentity`).
    NoPermission,
}

impl EventClass {
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::Management => "management",
            EventClass::Data => "data",
            EventClass::NotLogged => "not-logged",
            EventClass::NoPermission => "no-permission",
        }
    }

    fn parse(text: &str) -> Option<EventClass> {
        [
            EventClass::Management,
            EventClass::Data,
            EventClass::NotLogged,
            EventClass::NoPermission,
        ]
        .into_iter()
        .find(|class| class.as_str() == text)
    }
}

impl fmt::Display for EventClass {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    /// The line the row came from, for messages.
    pub line: usize,
    pub action: String,
    pub class: EventClass,
    pub note: String,
}

/// A malformed line of the coverage table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` line {line}: {message}")]
pub struct CoverageTableError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The parsed coverage table, looked up by action (case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct CoverageTable {
    rows: BTreeMap<String, CoverageRow>,
}

impl CoverageTable {
    /// The table embedded in the binary, parsed on first use.
    pub fn aws() -> Result<&'static CoverageTable, CoverageTableError> {
        static TABLE: OnceLock<Result<CoverageTable, CoverageTableError>> = OnceLock::new();
        TABLE
            .get_or_init(|| CoverageTable::parse(EMBEDDED_FILE, EMBEDDED))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses the table's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<CoverageTable, CoverageTableError> {
        let error = |line: usize, message: String| CoverageTableError {
            file: file.to_string(),
            line,
            message,
        };
        let mut rows = BTreeMap::new();
        let mut header_seen = false;
        for (position, line) in text.lines().enumerate() {
            let number = position + 1;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                if line != COLUMNS {
                    return Err(error(
                        number,
                        format!("expected the header `{}`", COLUMNS.replace('\t', "<tab>")),
                    ));
                }
                header_seen = true;
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [action, class, note] = fields[..] else {
                return Err(error(
                    number,
                    format!("expected 3 tab-separated fields, found {}", fields.len()),
                ));
            };
            if action.split_once(':').is_none_or(|(service, name)| {
                service.is_empty() || name.is_empty() || action.contains(['*', '?'])
            }) {
                return Err(error(
                    number,
                    format!("`{action}` is not a `service:Action` name without wildcards"),
                ));
            }
            let Some(class) = EventClass::parse(class) else {
                return Err(error(
                    number,
                    format!("unknown class `{class}`; use `data`, `not-logged` or `no-permission`"),
                ));
            };
            let row = CoverageRow {
                line: number,
                action: action.to_string(),
                class,
                note: note.to_string(),
            };
            if rows.insert(action.to_ascii_lowercase(), row).is_some() {
                return Err(error(number, format!("`{action}` is listed twice")));
            }
        }
        if !header_seen {
            return Err(error(0, "the table has no header line".to_string()));
        }
        Ok(CoverageTable { rows })
    }

    /// How CloudTrail records `action`: the table's row, or `Management` when it has none.
    pub fn class(&self, action: &str) -> EventClass {
        self.row(action)
            .map_or(EventClass::Management, |row| row.class)
    }

    /// The table's row for `action`, if any.
    pub fn row(&self, action: &str) -> Option<&CoverageRow> {
        crate::matching::with_ascii_lowercase(action, |key| self.rows.get(key))
    }

    /// Every row, sorted by lowercase action.
    pub fn rows(&self) -> impl Iterator<Item = &CoverageRow> + '_ {
        self.rows.values()
    }

    /// Could logs described by `facts` have shown a call of `action`? `access_level` comes
    /// from the catalog (`None` when the catalog does not know the action); `List` and `Read`
    /// actions are the ones CloudTrail marks `readOnly`.
    pub fn observability(
        &self,
        action: &str,
        access_level: Option<AccessLevel>,
        facts: &CoverageFacts,
    ) -> Observability {
        let class = self.class(action);
        let read_only = matches!(access_level, Some(AccessLevel::List | AccessLevel::Read));
        let service = action
            .split_once(':')
            .map_or(action, |(service, _)| service);
        match class {
            // Logged like any management call; that it needs no permission is reported by
            // the caller, not hidden here.
            EventClass::NoPermission => Observability::Observable,
            EventClass::NotLogged => {
                if facts.infers(action) {
                    Observability::Observable
                } else {
                    Observability::unobservable(format!(
                        "`{action}` is never logged as an event of its own and the ingested \
                         logs did not infer it"
                    ))
                }
            }
            EventClass::Data
                if !crate::matching::with_ascii_lowercase(service, |service| {
                    facts.data_event_services.contains(service)
                }) =>
            {
                Observability::unobservable(format!(
                    "`{action}` is a CloudTrail data event and the ingested logs hold no data \
                     events for `{service}`"
                ))
            }
            EventClass::Data | EventClass::Management
                if read_only && !facts.read_events_included =>
            {
                Observability::unobservable(format!(
                    "`{action}` is read-only and read-only events were excluded from the \
                     ingested logs"
                ))
            }
            EventClass::Data | EventClass::Management => Observability::Observable,
        }
    }
}

/// Whether the ingested logs could have shown an action.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Observability {
    Observable,
    Unobservable { reason: String },
}

impl Observability {
    fn unobservable(reason: String) -> Observability {
        Observability::Unobservable { reason }
    }

    pub fn is_observable(&self) -> bool {
        *self == Observability::Observable
    }
}

/// What one ingestion of audit logs covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageFacts {
    /// The first instant the ingested logs cover.
    pub since: DateTime<Utc>,
    /// The instant just after the last one they cover.
    pub until: DateTime<Utc>,
    /// Lowercase service prefixes (`s3`, `lambda`, `dynamodb`…) whose data events were
    /// ingested.
    pub data_event_services: BTreeSet<String>,
    /// Whether read-only (`readOnly: true`) events were included.
    pub read_events_included: bool,
    /// Lowercase actions the ingester infers from other events (`iam:passrole` from
    /// `RunInstances` with an instance profile, `CreateFunction` with a role…).
    pub inferred_actions: BTreeSet<String>,
    /// Log files skipped as corrupt or unreadable: the window is incomplete.
    pub skipped_files: Vec<SkippedSource>,
}

impl CoverageFacts {
    /// Facts for logs that cover `since..until` with management events only, read and write.
    pub fn management_only(since: DateTime<Utc>, until: DateTime<Utc>) -> CoverageFacts {
        CoverageFacts {
            since,
            until,
            data_event_services: BTreeSet::new(),
            read_events_included: true,
            inferred_actions: BTreeSet::new(),
            skipped_files: Vec::new(),
        }
    }

    /// Does the ingester infer `action` from other events?
    pub fn infers(&self, action: &str) -> bool {
        crate::matching::with_ascii_lowercase(action, |key| self.inferred_actions.contains(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> CoverageFacts {
        let since = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        CoverageFacts::management_only(since, until)
    }

    fn check(action: &str, level: Option<AccessLevel>, facts: &CoverageFacts, observable: bool) {
        let table = CoverageTable::aws().unwrap();
        let answer = table.observability(action, level, facts);
        assert_eq!(answer.is_observable(), observable, "{action}: {answer:?}");
    }

    #[test]
    fn embedded_table_parses_and_is_sorted() {
        let table = CoverageTable::aws().unwrap();
        let rows: Vec<&CoverageRow> = table.rows().collect();
        assert!(rows.len() > 40);
        let lines: Vec<usize> = rows.iter().map(|row| row.line).collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "rows must be sorted by action in the file");
        assert_eq!(table.class("S3:GETOBJECT"), EventClass::Data);
        assert_eq!(table.class("ec2:RunInstances"), EventClass::Management);
    }

    #[test]
    fn observability_table() {
        use AccessLevel::*;
        let base = facts();
        check("s3:GetObject", Some(Read), &base, false);
        check("s3:PutObject", Some(Write), &base, false);
        check("lambda:InvokeFunction", Some(Write), &base, false);
        check("ec2:RunInstances", Some(Write), &base, true);
        check("iam:PassRole", Some(Write), &base, false);
        check("sts:GetCallerIdentity", Some(Read), &base, true);

        let mut with_data = facts();
        with_data.data_event_services.insert("s3".into());
        check("s3:GetObject", Some(Read), &with_data, true);
        check("lambda:InvokeFunction", Some(Write), &with_data, false);

        let mut writes_only = with_data.clone();
        writes_only.read_events_included = false;
        check("s3:GetObject", Some(Read), &writes_only, false);
        check("s3:PutObject", Some(Write), &writes_only, true);
        check("ec2:DescribeInstances", Some(List), &writes_only, false);

        let mut inferred = facts();
        inferred.inferred_actions.insert("iam:passrole".into());
        check("iam:PassRole", Some(Write), &inferred, true);
    }

    #[test]
    fn malformed_tables_are_rejected_with_the_line() {
        let bad = [
            ("x", "expected the header"),
            ("action\tclass\tnote\ns3:GetObject\tdata", "3 tab-separated"),
            ("action\tclass\tnote\ns3:Get*\tdata\tn", "without wildcards"),
            (
                "action\tclass\tnote\ns3:GetObject\tsometimes\tn",
                "unknown class",
            ),
            (
                "action\tclass\tnote\ns3:GetObject\tdata\tn\nS3:getobject\tdata\tn",
                "listed twice",
            ),
        ];
        for (text, expected) in bad {
            let error = CoverageTable::parse("t.tsv", text).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}

/// Whether a log file that could not be read may hold events of `account`: false only when
/// its path names another account in CloudTrail's layout, `AWSLogs/<account>/…` or, for an
/// organization trail, `AWSLogs/<organization id>/<account>/…` (CloudTrail User Guide,
/// "Finding your CloudTrail log files",
/// <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html>).
/// A path in no such layout (a file given by name, a `LookupEvents` page) may hold any
/// account's events. Only for evidence IAM also records (an access key's last use): a call
/// on another account's resource is logged in that account's trail, so for usage every
/// unreadable file stays a gap, whatever account its path names.
pub fn skipped_file_may_hold(source: &str, account: &str) -> bool {
    use super::arn::is_account_id;
    let Some((_, rest)) = source.split_once("AWSLogs/") else {
        return true;
    };
    let mut segments = rest.split('/');
    let named = match segments.next() {
        Some(first) if is_account_id(first) => Some(first),
        Some(first) if first.starts_with("o-") => {
            segments.next().filter(|second| is_account_id(second))
        }
        _ => None,
    };
    named.is_none_or(|named| named == account)
}

#[cfg(test)]
mod skipped_file_tests {
    use super::skipped_file_may_hold;

    #[test]
    fn a_skipped_file_is_charged_to_the_account_its_path_names() {
        let account = "210987654321";
        for (path, holds) in [
            (
                "s3://b/AWSLogs/210987654321/CloudTrail/eu-west-1/2026/11/14/x.json.gz",
                true,
            ),
            (
                "AWSLogs/345678901234/CloudTrail/eu-west-1/2026/11/14/x.json.gz",
                false,
            ),
            // An organization trail: the account is the second segment.
            (
                "logs/AWSLogs/o-abc123/210987654321/CloudTrail/us-east-1/x.json.gz",
                true,
            ),
            (
                "logs/AWSLogs/o-abc123/345678901234/CloudTrail/us-east-1/x.json.gz",
                false,
            ),
            // Paths that name no account may hold any.
            ("export/broken.json.gz", true),
            ("AWSLogs/o-abc123/x.json.gz", true),
            ("lookup-events page 3", true),
        ] {
            assert_eq!(skipped_file_may_hold(path, account), holds, "{path}");
        }
    }
}
