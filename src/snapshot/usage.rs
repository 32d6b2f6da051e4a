//! Aggregated CloudTrail usage inside a snapshot: the (identity, action, resource) rows as
//! Parquet, everything else as one small JSON file.
//!
//! Layout, format version [`USAGE_FORMAT_VERSION`]:
//!
//! | file | holds |
//! |---|---|
//! | `usage/aws-allowed.parquet` | one row per (identity, action, resource) that was allowed |
//! | `usage/aws-denied.parquet` | the same for calls refused for lack of permission |
//! | `usage/aws-usage.json` | window, coverage (every skipped file and why), unknown events, set-aside counts, web-identity sessions, instance-profile passes, the access keys that signed IAM users' calls, and the row count of each Parquet file |
//!
//! Parquet columns, in order: `identity_arn`, `identity_kind` (text), `action`, `resource`
//! (text), `logged_count`, `inferred_count` (u64), `first_seen`, `last_seen` (datetime, ms,
//! UTC), `workloads` (list of `issuer|subject`, sorted; the issuer never holds `|`, so the
//! first `|` splits), `unlinked_session_calls` (u64), `evidence` (list of text, sorted: how
//! the calls reached AWS or why the permission was needed, e.g. `via cloudformation.amazonaws.com`,
//! `implied by PutObject x-amz-acl`; absent in files written before it was recorded, read as
//! empty). Rows are sorted by identity, action, resource.
//!
//! These are frozen view types defined here, not `Serialize` on the ingestion types: users
//! script against the files, and ingestion must stay free to change. Identical usage gives
//! byte-identical files: rows are sorted, column statistics are off (the files are always read
//! whole, so they would buy nothing) and polars writes no time stamp.

use super::read_state::read_listed_file;
use super::{Snapshot, SnapshotError, SnapshotWriter, Source, check_relative};
use crate::aws::cloudtrail::{
    AccessKeyUse, CloudTrailUsage, InstanceProfilePass, PrincipalKind, SetAsideReason, TimeWindow,
    UnknownEvent, WebIdentitySession, federated_provider, workload_of_host,
};
use crate::model::{
    CiWorkload, Coverage, Outcome, Provider, SkippedSource, Usage, UsageKey, UsageRecord,
};
use chrono::{DateTime, SecondsFormat, Utc};
use polars::prelude::{
    Column, DataFrame, DataType, Int64Chunked, IntoColumn, ListBuilderTrait,
    ListStringChunkedBuilder, NamedFrom, ParquetReader, ParquetWriter, PolarsError, SerReader,
    Series, StatisticsOptions, TimeUnit, TimeZone,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// The version of the usage files. Bump on any incompatible change.
pub const USAGE_FORMAT_VERSION: u32 = 1;

/// Where the summary of the usage lives in a snapshot.
pub const SUMMARY_PATH: &str = "usage/aws-usage.json";
/// Where the allowed rows live in a snapshot.
pub const ALLOWED_PATH: &str = "usage/aws-allowed.parquet";
/// Where the denied rows live in a snapshot.
pub const DENIED_PATH: &str = "usage/aws-denied.parquet";

/// Manifest source kinds of the three files.
const KIND_SUMMARY: &str = super::manifest::USAGE_KINDS[0];
const KIND_ALLOWED: &str = super::manifest::USAGE_KINDS[1];
const KIND_DENIED: &str = super::manifest::USAGE_KINDS[2];
/// The manifest `id` of the usage sources: CloudTrail usage covers every account whose logs
/// were read, so it names the log source rather than one account.
const SOURCE_ID: &str = "cloudtrail";

const IDENTITY_ARN: &str = "identity_arn";
const IDENTITY_KIND: &str = "identity_kind";
const ACTION: &str = "action";
const RESOURCE: &str = "resource";
const LOGGED_COUNT: &str = "logged_count";
const INFERRED_COUNT: &str = "inferred_count";
const FIRST_SEEN: &str = "first_seen";
const LAST_SEEN: &str = "last_seen";
const WORKLOADS: &str = "workloads";
const UNLINKED_SESSION_CALLS: &str = "unlinked_session_calls";
const EVIDENCE: &str = "evidence";

/// Writes `usage` into the snapshot being written and lists it in the manifest (sources and
/// coverage lines). Refuses a snapshot that already lists usage.
pub fn write_usage_parquet(
    writer: &mut SnapshotWriter,
    usage: &CloudTrailUsage,
) -> Result<(), SnapshotError> {
    if writer.manifest().lists_usage() {
        return Err(SnapshotError::UsageAlreadyPresent {
            path: writer.final_dir().to_path_buf(),
        });
    }
    for (relative, rows) in [(ALLOWED_PATH, &usage.allowed), (DENIED_PATH, &usage.denied)] {
        let bytes = rows_to_parquet(rows, Path::new(relative))?;
        writer.write_file(Path::new(relative), &bytes)?;
    }
    writer.write_json(Path::new(SUMMARY_PATH), &SummaryV1::new(usage))?;
    let manifest = writer.manifest_mut();
    for (kind, path) in [
        (KIND_SUMMARY, SUMMARY_PATH),
        (KIND_ALLOWED, ALLOWED_PATH),
        (KIND_DENIED, DENIED_PATH),
    ] {
        manifest.sources.push(Source {
            provider: "aws".to_owned(),
            kind: kind.to_owned(),
            id: SOURCE_ID.to_owned(),
            path: path.to_owned(),
            format_version: USAGE_FORMAT_VERSION,
        });
    }
    manifest.coverage.extend(coverage_lines(usage));
    Ok(())
}

/// Reads the usage the snapshot holds, or `None` when its manifest lists none.
pub fn read_usage(snapshot: &Snapshot) -> Result<Option<CloudTrailUsage>, SnapshotError> {
    let source_of = |kind: &str| {
        snapshot
            .manifest()
            .sources
            .iter()
            .find(|source| source.provider == "aws" && source.kind == kind)
    };
    let Some(summary_source) = source_of(KIND_SUMMARY) else {
        return Ok(None);
    };
    let summary_path = source_path(snapshot, summary_source)?;
    let bytes = read_listed_file(&summary_path)?;
    let summary: SummaryV1 =
        serde_json::from_slice(&bytes).map_err(|source| SnapshotError::Parse {
            path: summary_path.clone(),
            source,
        })?;
    if summary.format_version > USAGE_FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion {
            path: summary_path,
            found: summary.format_version,
            supported: USAGE_FORMAT_VERSION,
        });
    }
    let mut rows = Vec::with_capacity(2);
    let mut paths = Vec::with_capacity(2);
    for (kind, expected) in [
        (KIND_ALLOWED, summary.rows.allowed),
        (KIND_DENIED, summary.rows.denied),
    ] {
        let Some(source) = source_of(kind) else {
            return Err(SnapshotError::BadUsageFile {
                path: snapshot.dir().join(super::MANIFEST_FILE),
                reason: format!("it lists `{SUMMARY_PATH}` but no `{kind}` file"),
            });
        };
        let path = source_path(snapshot, source)?;
        let read = rows_from_parquet(read_listed_file(&path)?, &path)?;
        if read.len() as u64 != expected {
            return Err(SnapshotError::BadUsageFile {
                reason: format!(
                    "it holds {} row(s) where `{SUMMARY_PATH}` says {expected}",
                    read.len()
                ),
                path,
            });
        }
        rows.push(read);
        paths.push(path);
    }
    let denied = rows.pop().unwrap_or_default();
    let allowed = rows.pop().unwrap_or_default();
    let usage =
        summary
            .into_usage(allowed, denied)
            .map_err(|reason| SnapshotError::BadUsageFile {
                path: snapshot.dir().join(&summary_source.path),
                reason,
            })?;
    for (records, path) in [&usage.allowed, &usage.denied].into_iter().zip(paths) {
        check_records(records, &usage.coverage)
            .map_err(|reason| SnapshotError::BadUsageFile { path, reason })?;
    }
    Ok(Some(usage))
}

/// What every record the reader wrote satisfies, checked so that a damaged or hand-edited
/// file is refused rather than read as use: at least one call, first seen not after last
/// seen, both within the first and last event of the window (`coverage`), logged calls no
/// more than the events in the window, and unlinked calls and inferred ones no more than the
/// calls.
fn check_records(records: &Usage, coverage: &Coverage) -> Result<(), String> {
    for (index, (key, record)) in records.iter().enumerate() {
        let row = index + 1;
        let name = || {
            format!(
                "row {row} ({} {} {})",
                key.identity.native(),
                key.permission.action,
                key.resource
            )
        };
        if record.count == 0 || record.inferred > record.count {
            return Err(format!("{}: counts no call", name()));
        }
        if record.logged() > coverage.events_in_window {
            return Err(format!(
                "{}: {} logged call(s), more than the {} event(s) in the window",
                name(),
                record.logged(),
                coverage.events_in_window
            ));
        }
        if record.unlinked_calls > record.count {
            return Err(format!(
                "{}: more calls unlinked ({}) than counted ({})",
                name(),
                record.unlinked_calls,
                record.count
            ));
        }
        if record.first_seen > record.last_seen {
            return Err(format!("{}: first seen after last seen", name()));
        }
        let outside = |time: DateTime<Utc>| {
            coverage.first_event.is_none_or(|first| time < first)
                || coverage.last_event.is_none_or(|last| time > last)
        };
        if outside(record.first_seen) || outside(record.last_seen) {
            return Err(format!(
                "{}: seen outside the first and last event of the window",
                name()
            ));
        }
    }
    Ok(())
}

/// The absolute path of a listed file, after checking its version and that it stays inside.
fn source_path(snapshot: &Snapshot, source: &Source) -> Result<PathBuf, SnapshotError> {
    check_relative(Path::new(&source.path))?;
    let path = snapshot.dir().join(&source.path);
    if source.format_version > USAGE_FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion {
            path,
            found: source.format_version,
            supported: USAGE_FORMAT_VERSION,
        });
    }
    Ok(path)
}

fn read_error(path: &Path) -> impl FnOnce(PolarsError) -> SnapshotError + use<> {
    let path = path.to_path_buf();
    move |source| SnapshotError::ParquetRead { path, source }
}

fn write_error(path: &Path) -> impl FnOnce(PolarsError) -> SnapshotError + use<> {
    let path = path.to_path_buf();
    move |source| SnapshotError::ParquetWrite { path, source }
}

/// The manifest's coverage lines: enough to judge the snapshot without opening the usage.
fn coverage_lines(usage: &CloudTrailUsage) -> Vec<String> {
    let coverage = &usage.coverage;
    let bound = |time: Option<DateTime<Utc>>| time.map_or_else(|| "open".to_owned(), rfc3339);
    let mut lines = vec![format!(
        "aws cloudtrail usage: {} log file(s) read, {} skipped; {} event(s) read, {} in the window \
         (since {}, until {})",
        coverage.sources_read,
        coverage.sources_skipped.len(),
        coverage.events_read,
        coverage.events_in_window,
        bound(usage.window.since),
        bound(usage.window.until),
    )];
    if !coverage.sources_skipped.is_empty() {
        lines.push(format!(
            "aws cloudtrail usage: {} log file(s) could not be read, so their events are missing; \
             `{SUMMARY_PATH}` lists them with the reason",
            coverage.sources_skipped.len()
        ));
    }
    if !usage.unknown_events.is_empty() {
        let events: u64 = usage.unknown_events.iter().map(|event| event.count).sum();
        lines.push(format!(
            "aws cloudtrail usage: {} event name(s) ({events} event(s)) are not mapped to any IAM \
             action; `{SUMMARY_PATH}` lists them",
            usage.unknown_events.len()
        ));
    }
    lines
}

/// Full precision, so that a window bound such as `90d` (now minus 90 days) reads back equal.
fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_time(text: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| format!("`{field}` is not an RFC 3339 time: `{text}`"))
}

// ---------------------------------------------------------------------------------------------
// Parquet

/// Encodes the records (sorted by identity, action, resource, as a `Usage` keeps them) as a
/// Parquet file in memory (the snapshot writer syncs the bytes).
fn rows_to_parquet(usage: &Usage, path: &Path) -> Result<Vec<u8>, SnapshotError> {
    let rows: Vec<(&UsageKey, &UsageRecord)> = usage.iter().collect();
    let mut frame = frame_of(&rows).map_err(write_error(path))?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_statistics(StatisticsOptions::empty())
        .finish(&mut frame)
        .map_err(write_error(path))?;
    Ok(bytes)
}

type Row<'u> = (&'u UsageKey, &'u UsageRecord);

fn frame_of(rows: &[Row<'_>]) -> Result<DataFrame, PolarsError> {
    let text = |name: &str, field: for<'r> fn(&'r Row<'r>) -> &'r str| -> Column {
        Series::new(name.into(), rows.iter().map(field).collect::<Vec<&str>>()).into_column()
    };
    let count = |name: &str, field: fn(&UsageRecord) -> u64| -> Column {
        Series::new(
            name.into(),
            rows.iter().map(|(_, row)| field(row)).collect::<Vec<u64>>(),
        )
        .into_column()
    };
    let time = |name: &str, field: fn(&UsageRecord) -> DateTime<Utc>| -> Column {
        Int64Chunked::from_vec(
            name.into(),
            rows.iter()
                .map(|(_, row)| field(row).timestamp_millis())
                .collect::<Vec<i64>>(),
        )
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
    };
    let mut workloads = ListStringChunkedBuilder::new(WORKLOADS.into(), rows.len(), rows.len());
    for (_, row) in rows {
        let mut joined: Vec<String> = row
            .workloads
            .iter()
            .map(|workload| format!("{}|{}", federated_provider(workload), workload.subject))
            .collect();
        joined.sort();
        workloads.append_values_iter(joined.iter().map(String::as_str));
    }
    let mut evidence = ListStringChunkedBuilder::new(EVIDENCE.into(), rows.len(), rows.len());
    for (_, row) in rows {
        evidence.append_values_iter(row.evidence.iter().map(String::as_str));
    }
    DataFrame::new(
        rows.len(),
        vec![
            text(IDENTITY_ARN, |(key, _)| key.identity.native()),
            text(IDENTITY_KIND, |(key, _)| {
                PrincipalKind::of_arn(key.identity.native()).as_str()
            }),
            text(ACTION, |(key, _)| &key.permission.action),
            text(RESOURCE, |(key, _)| &key.resource),
            count(LOGGED_COUNT, UsageRecord::logged),
            count(INFERRED_COUNT, |row| row.inferred),
            time(FIRST_SEEN, |row| row.first_seen),
            time(LAST_SEEN, |row| row.last_seen),
            workloads.finish().into_column(),
            count(UNLINKED_SESSION_CALLS, |row| row.unlinked_calls),
            evidence.finish().into_column(),
        ],
    )
}

/// Decodes a usage Parquet file, checking every column's type and that no value is missing.
/// The identity's kind is checked to be a kind name, and read again from its ARN.
fn rows_from_parquet(bytes: Vec<u8>, path: &Path) -> Result<Usage, SnapshotError> {
    let frame = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(read_error(path))?;
    let bad = |reason: String| SnapshotError::BadUsageFile {
        path: path.to_path_buf(),
        reason,
    };
    let columns = Columns { frame: &frame };
    let arns = columns.text(IDENTITY_ARN).map_err(bad)?;
    let kinds = columns.text(IDENTITY_KIND).map_err(bad)?;
    let actions = columns.text(ACTION).map_err(bad)?;
    let resources = columns.text(RESOURCE).map_err(bad)?;
    let logged = columns.count(LOGGED_COUNT).map_err(bad)?;
    let inferred = columns.count(INFERRED_COUNT).map_err(bad)?;
    let first_seen = columns.time(FIRST_SEEN).map_err(bad)?;
    let last_seen = columns.time(LAST_SEEN).map_err(bad)?;
    let workloads = columns.workloads().map_err(bad)?;
    let unlinked = columns.count(UNLINKED_SESSION_CALLS).map_err(bad)?;
    let evidence = match frame.column(EVIDENCE) {
        Ok(_) => columns.texts(EVIDENCE).map_err(bad)?,
        Err(_) => vec![std::collections::BTreeSet::new(); frame.height()],
    };
    let mut usage = Usage::new();
    for (index, workloads) in workloads.into_iter().enumerate() {
        if identity_kind(kinds[index]).is_none() {
            return Err(bad(format!(
                "row {}: `{IDENTITY_KIND}` is `{}`, not one of `role`, `user`, `root`, \
                 `federated-user`",
                index + 1,
                kinds[index]
            )));
        }
        let key = UsageKey::new(Provider::Aws, arns[index], actions[index], resources[index]);
        if usage.get(&key).is_some() {
            return Err(bad(format!(
                "row {} repeats the identity, action and resource of an earlier row",
                index + 1
            )));
        }
        let record = UsageRecord {
            count: logged[index].saturating_add(inferred[index]),
            inferred: inferred[index],
            denied_count: 0,
            first_seen: first_seen[index],
            last_seen: last_seen[index],
            workloads,
            unlinked_calls: unlinked[index],
            sources: std::collections::BTreeSet::new(),
            evidence: evidence[index].clone(),
        };
        usage.add_record(key, record);
    }
    Ok(usage)
}

/// Typed, null-free access to the columns of a usage frame; errors are reasons in words.
struct Columns<'a> {
    frame: &'a DataFrame,
}

impl<'a> Columns<'a> {
    fn column(&self, name: &str, expected: &DataType) -> Result<&'a Column, String> {
        let column = self
            .frame
            .column(name)
            .map_err(|_| format!("column `{name}` is missing"))?;
        if column.dtype() != expected {
            return Err(format!(
                "column `{name}` has type `{}` where `{expected}` is expected",
                column.dtype()
            ));
        }
        Ok(column)
    }

    fn text(&self, name: &str) -> Result<Vec<&'a str>, String> {
        let values = self
            .column(name, &DataType::String)?
            .str()
            .map_err(|error| format!("column `{name}`: {error}"))?;
        no_nulls(name, values.iter())
    }

    fn count(&self, name: &str) -> Result<Vec<u64>, String> {
        let values = self
            .column(name, &DataType::UInt64)?
            .u64()
            .map_err(|error| format!("column `{name}`: {error}"))?;
        no_nulls(name, values.iter())
    }

    fn time(&self, name: &str) -> Result<Vec<DateTime<Utc>>, String> {
        let expected = DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
        let values = self
            .column(name, &expected)?
            .datetime()
            .map_err(|error| format!("column `{name}`: {error}"))?;
        let millis = no_nulls(name, values.physical().iter())?;
        millis
            .into_iter()
            .enumerate()
            .map(|(index, millis)| {
                DateTime::from_timestamp_millis(millis).ok_or_else(|| {
                    format!(
                        "column `{name}` row {}: {millis} is out of range",
                        index + 1
                    )
                })
            })
            .collect()
    }

    fn texts(&self, name: &str) -> Result<Vec<std::collections::BTreeSet<String>>, String> {
        let expected = DataType::List(Box::new(DataType::String));
        let lists = self
            .column(name, &expected)?
            .list()
            .map_err(|error| format!("column `{name}`: {error}"))?;
        let mut all = Vec::with_capacity(lists.len());
        for (index, list) in lists.amortized_iter().enumerate() {
            let row = index + 1;
            let list = list.ok_or_else(|| format!("column `{name}` is empty in row {row}"))?;
            let values = list
                .as_ref()
                .str()
                .map_err(|error| format!("column `{name}` row {row}: {error}"))?;
            let mut texts = std::collections::BTreeSet::new();
            for value in values.iter() {
                let value =
                    value.ok_or_else(|| format!("column `{name}` has a null in row {row}"))?;
                texts.insert(value.to_owned());
            }
            all.push(texts);
        }
        Ok(all)
    }

    fn workloads(&self) -> Result<Vec<std::collections::BTreeSet<CiWorkload>>, String> {
        let expected = DataType::List(Box::new(DataType::String));
        let lists = self
            .column(WORKLOADS, &expected)?
            .list()
            .map_err(|error| format!("column `{WORKLOADS}`: {error}"))?;
        let mut all = Vec::with_capacity(lists.len());
        for (index, list) in lists.amortized_iter().enumerate() {
            let row = index + 1;
            let list = list.ok_or_else(|| format!("column `{WORKLOADS}` is empty in row {row}"))?;
            let values = list
                .as_ref()
                .str()
                .map_err(|error| format!("column `{WORKLOADS}` row {row}: {error}"))?;
            let mut workloads = std::collections::BTreeSet::new();
            for value in values.iter() {
                let value =
                    value.ok_or_else(|| format!("column `{WORKLOADS}` has a null in row {row}"))?;
                let (issuer, subject) = value.split_once('|').ok_or_else(|| {
                    format!("column `{WORKLOADS}` row {row}: `{value}` is not `issuer|subject`")
                })?;
                workloads.insert(workload_of_host(issuer, subject));
            }
            all.push(workloads);
        }
        Ok(all)
    }
}

fn no_nulls<T>(name: &str, values: impl Iterator<Item = Option<T>>) -> Result<Vec<T>, String> {
    values
        .enumerate()
        .map(|(index, value)| {
            value.ok_or_else(|| format!("column `{name}` is empty in row {}", index + 1))
        })
        .collect()
}

fn identity_kind(name: &str) -> Option<PrincipalKind> {
    [
        PrincipalKind::Role,
        PrincipalKind::User,
        PrincipalKind::Root,
        PrincipalKind::FederatedUser,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == name)
}

// ---------------------------------------------------------------------------------------------
// `usage/aws-usage.json`, version 1

#[derive(Debug, Serialize, Deserialize)]
struct SummaryV1 {
    format_version: u32,
    window: WindowV1,
    /// Row counts of the Parquet files, to notice a file swapped or cut short.
    rows: RowsV1,
    coverage: CoverageV1,
    unknown_events: Vec<UnknownEventV1>,
    /// By reason, in kebab-case.
    set_aside: BTreeMap<String, u64>,
    no_action_events: u64,
    web_identity_sessions: Vec<SessionV1>,
    instance_profile_passes: Vec<ProfilePassV1>,
    /// Absent in files written before keys were recorded: then nothing is known of which key
    /// signed a user's calls.
    #[serde(default)]
    access_keys: Vec<AccessKeyV1>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WindowV1 {
    since: Option<String>,
    until: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RowsV1 {
    allowed: u64,
    denied: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct CoverageV1 {
    files_read: u64,
    files_skipped: Vec<SkippedV1>,
    events_read: u64,
    events_in_window: u64,
    first_event: Option<String>,
    last_event: Option<String>,
    /// Absent in files written before accounts were counted: then nothing is known per
    /// account.
    #[serde(default)]
    accounts: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SkippedV1 {
    path: String,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct UnknownEventV1 {
    event_source: String,
    event_name: String,
    count: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionV1 {
    role: String,
    issuer: String,
    subject: String,
    /// `allowed` or `denied`.
    outcome: String,
    count: u64,
    first_seen: String,
    last_seen: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessKeyV1 {
    user: String,
    access_key_id: String,
    calls: u64,
    first_seen: String,
    last_seen: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProfilePassV1 {
    identity: String,
    identity_kind: String,
    instance_profile: String,
    count: u64,
}

impl SummaryV1 {
    fn new(usage: &CloudTrailUsage) -> Self {
        let coverage = &usage.coverage;
        SummaryV1 {
            format_version: USAGE_FORMAT_VERSION,
            window: WindowV1 {
                since: usage.window.since.map(rfc3339),
                until: usage.window.until.map(rfc3339),
            },
            rows: RowsV1 {
                allowed: usage.allowed.len() as u64,
                denied: usage.denied.len() as u64,
            },
            coverage: CoverageV1 {
                files_read: coverage.sources_read,
                files_skipped: coverage
                    .sources_skipped
                    .iter()
                    .map(|file| SkippedV1 {
                        path: file.source.clone(),
                        reason: file.reason.clone(),
                    })
                    .collect(),
                events_read: coverage.events_read,
                events_in_window: coverage.events_in_window,
                first_event: coverage.first_event.map(rfc3339),
                last_event: coverage.last_event.map(rfc3339),
                accounts: coverage.containers.clone(),
            },
            unknown_events: usage
                .unknown_events
                .iter()
                .map(|event| UnknownEventV1 {
                    event_source: event.event_source.clone(),
                    event_name: event.event_name.clone(),
                    count: event.count,
                })
                .collect(),
            set_aside: usage
                .set_aside
                .iter()
                .map(|(reason, count)| (reason.as_str().to_owned(), *count))
                .collect(),
            no_action_events: usage.no_action_events,
            web_identity_sessions: usage
                .web_identity_sessions
                .iter()
                .map(|session| SessionV1 {
                    role: session.role.clone(),
                    issuer: federated_provider(&session.workload).to_owned(),
                    subject: session.workload.subject.clone(),
                    outcome: session.outcome.as_str().to_owned(),
                    count: session.count,
                    first_seen: rfc3339(session.first_seen),
                    last_seen: rfc3339(session.last_seen),
                })
                .collect(),
            instance_profile_passes: usage
                .instance_profile_passes
                .iter()
                .map(|pass| ProfilePassV1 {
                    identity: pass.identity.clone(),
                    identity_kind: PrincipalKind::of_arn(&pass.identity).as_str().to_owned(),
                    instance_profile: pass.instance_profile.clone(),
                    count: pass.count,
                })
                .collect(),
            access_keys: usage
                .access_keys
                .iter()
                .map(|key| AccessKeyV1 {
                    user: key.user_arn.clone(),
                    access_key_id: key.access_key_id.clone(),
                    calls: key.calls,
                    first_seen: rfc3339(key.first_seen),
                    last_seen: rfc3339(key.last_seen),
                })
                .collect(),
        }
    }

    /// Rebuilds the ingestion result; the error is a reason in words.
    fn into_usage(self, allowed: Usage, denied: Usage) -> Result<CloudTrailUsage, String> {
        let optional_time = |text: Option<String>, field: &str| {
            text.map(|text| parse_time(&text, field)).transpose()
        };
        let set_aside = self
            .set_aside
            .into_iter()
            .map(|(name, count)| {
                SetAsideReason::ALL
                    .into_iter()
                    .find(|reason| reason.as_str() == name)
                    .map(|reason| (reason, count))
                    .ok_or_else(|| format!("`set_aside` has an unknown reason `{name}`"))
            })
            .collect::<Result<_, _>>()?;
        let web_identity_sessions = self
            .web_identity_sessions
            .into_iter()
            .map(|session| {
                let outcome = Outcome::from_name(&session.outcome).ok_or_else(|| {
                    format!(
                        "`web_identity_sessions` has the outcome `{}`, not `allowed` or `denied`",
                        session.outcome
                    )
                })?;
                Ok(WebIdentitySession {
                    role: session.role,
                    workload: workload_of_host(&session.issuer, &session.subject),
                    outcome,
                    count: session.count,
                    first_seen: parse_time(&session.first_seen, "first_seen")?,
                    last_seen: parse_time(&session.last_seen, "last_seen")?,
                })
            })
            .collect::<Result<_, String>>()?;
        let instance_profile_passes = self
            .instance_profile_passes
            .into_iter()
            .map(|pass| {
                if identity_kind(&pass.identity_kind).is_none() {
                    return Err(format!(
                        "`instance_profile_passes` has the identity kind `{}`",
                        pass.identity_kind
                    ));
                }
                Ok(InstanceProfilePass {
                    identity: pass.identity,
                    instance_profile: pass.instance_profile,
                    count: pass.count,
                })
            })
            .collect::<Result<_, String>>()?;
        let access_keys = self
            .access_keys
            .into_iter()
            .map(|key| {
                Ok(AccessKeyUse {
                    first_seen: parse_time(&key.first_seen, "access_keys.first_seen")?,
                    last_seen: parse_time(&key.last_seen, "access_keys.last_seen")?,
                    user_arn: key.user,
                    access_key_id: key.access_key_id,
                    calls: key.calls,
                })
            })
            .collect::<Result<_, String>>()?;
        let window = TimeWindow {
            since: optional_time(self.window.since, "window.since")?,
            until: optional_time(self.window.until, "window.until")?,
        };
        if let (Some(since), Some(until)) = (window.since, window.until)
            && since >= until
        {
            return Err(format!(
                "`window.since` ({}) is not before `window.until` ({}): no reading has such a \
                 window",
                rfc3339(since),
                rfc3339(until)
            ));
        }
        let (first, last) = (
            optional_time(self.coverage.first_event, "coverage.first_event")?,
            optional_time(self.coverage.last_event, "coverage.last_event")?,
        );
        let outside = |time: Option<DateTime<Utc>>| {
            time.is_some_and(|time| {
                window.since.is_some_and(|since| time < since)
                    || window.until.is_some_and(|until| time >= until)
            })
        };
        if outside(first) || outside(last) || first.zip(last).is_some_and(|(a, b)| a > b) {
            return Err(
                "`coverage.first_event`/`last_event` do not lie in order within `window`: \
                 the events in the window cannot be outside it"
                    .to_owned(),
            );
        }
        Ok(CloudTrailUsage {
            window,
            allowed,
            denied,
            web_identity_sessions,
            instance_profile_passes,
            access_keys,
            unknown_events: self
                .unknown_events
                .into_iter()
                .map(|event| UnknownEvent {
                    event_source: event.event_source,
                    event_name: event.event_name,
                    count: event.count,
                })
                .collect(),
            set_aside,
            no_action_events: self.no_action_events,
            coverage: Coverage {
                sources_read: self.coverage.files_read,
                sources_skipped: self
                    .coverage
                    .files_skipped
                    .into_iter()
                    .map(|file| SkippedSource::new(file.path, file.reason))
                    .collect(),
                events_read: self.coverage.events_read,
                events_in_window: self.coverage.events_in_window,
                first_event: first,
                last_event: last,
                containers: self.coverage.accounts,
            },
            // Found from a listing when the logs are read; not stored.
            trail_overlaps: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests;
