//! `pipeleash usage --cloudtrail <dir>`: what each identity actually used, from CloudTrail log
//! files, with the evidence and an honest account of what could not be read.
//!
//! With `--snapshot <dir>` the usage is also stored in that snapshot (as Parquet, see
//! [`crate::snapshot::usage`]); `--snapshot` alone prints the usage a snapshot holds, in the
//! same shapes as a fresh ingestion.
//!
//! The JSON output is the frozen view `output::json::v1::usage::aws` (`version: 1`), not
//! `Serialize` on the ingestion types; the table reads the same view.

use super::time::WindowArgs;
use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::aws::cloudtrail::{CloudTrailUsage, Progress, TimeWindow};
use crate::output::json::v1::usage::aws::UsageView;
use crate::snapshot::Snapshot;
use crate::snapshot::SnapshotError;
#[cfg(feature = "parquet")]
use crate::snapshot::SnapshotWriter;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Arguments of `pipeleash usage`.
#[derive(Debug, Clone, clap::Args)]
pub struct UsageArgs {
    /// CloudTrail: a local directory of log files in the S3 layout
    /// (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`, organisation trails
    /// too), an S3 location `s3://bucket/prefix`, or `lookup-events` (the LookupEvents API of
    /// the configured region: management events only, for small accounts).
    #[arg(
        long,
        value_name = "DIR|s3://BUCKET/PREFIX|lookup-events",
        required_unless_present_any = ["snapshot", "gcp_audit_logs", "azure_activity_logs"]
    )]
    pub cloudtrail: Option<PathBuf>,
    /// GCP Cloud Audit Logs: a local copy of a Cloud Logging sink's bucket
    /// (`cloudaudit.googleapis.com/{activity,data_access}/YYYY/MM/DD/*.json[.gz]`), the bucket
    /// itself (`gs://BUCKET/PREFIX`: only the window's date folders are listed and downloaded)
    /// or a file written by `gcloud logging read --format=json`.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["cloudtrail", "snapshot"])]
    pub gcp_audit_logs: Option<PathBuf>,
    /// Azure Activity Log: a local copy of a diagnostic setting's storage export
    /// (`insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=…/PT1H.json`), the container
    /// itself (`https://ACCOUNT.blob.core.windows.net/insights-activity-logs[/PREFIX]`: only
    /// the window's partition folders are listed and downloaded) or the JSON file `az monitor
    /// activity-log list` printed.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["cloudtrail", "snapshot", "gcp_audit_logs"])]
    pub azure_activity_logs: Option<PathBuf>,
    /// A snapshot directory written by `pipeleash collect`. With `--cloudtrail`, the usage is
    /// stored in it; a snapshot that already holds usage is never changed (collect a new one).
    /// Without `--cloudtrail`, the usage the snapshot holds is printed.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// `--since`/`--until` keep only the events in the window (default: every event found).
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub aws: super::analyze::AwsSourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Runs the command, reading the clock once here at the edge.
pub fn run(
    args: UsageArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let now = super::time::parse_now(args.window.now.as_deref())?;
    run_at(args, global, out, now)
}

/// Runs the command as if it were `now`.
pub fn run_at(
    args: UsageArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    if args.aws.incremental.is_some()
        && (args.gcp_audit_logs.is_some() || args.azure_activity_logs.is_some())
    {
        return Err(InputError::wrap(
            "`--incremental` stores the read in the snapshot holding that cloud's inventory: use \
             it with `analyze` or `audit` and `--snapshot DIR` (`usage` prints a full read)",
        ));
    }
    if args.aws.incremental.is_some() && args.cloudtrail.is_none() {
        return Err(InputError::wrap(
            "`--incremental` continues a read of CloudTrail log files into `--snapshot`: give \
             `--cloudtrail DIR` (or `s3://…`) too, or drop it",
        ));
    }
    if let Some(path) = &args.gcp_audit_logs {
        return super::usage_gcp::run(path, &args.window, args.format, global, out, now);
    }
    if let Some(path) = &args.azure_activity_logs {
        return super::usage_azure::run(path, &args, global, out, now);
    }
    let usage = match (&args.cloudtrail, &args.snapshot) {
        (Some(cloudtrail), Some(snapshot))
            if args
                .aws
                .incremental_for(super::analyze::IncrementalSource::Cloudtrail) =>
        {
            let snapshot = Snapshot::open(snapshot).map_err(InputError::wrap)?;
            let window = read_window(&args, now)?;
            super::analyze::read_incremental(cloudtrail, &args.aws, window, &snapshot, global)?
        }
        (_, None) if args.aws.incremental.is_some() => {
            return Err(InputError::wrap(
                "`--incremental` stores the read in a snapshot for the next read to continue: \
                 give `--snapshot DIR` (a snapshot in the store `collect` writes to)",
            ));
        }
        (Some(cloudtrail), snapshot) => {
            // Checked before the (possibly long) ingestion, so that a wrong `--snapshot` fails
            // at once.
            let target = snapshot.as_deref().map(open_for_usage).transpose()?;
            let usage = ingest(cloudtrail, &args, global, now)?;
            if let Some(target) = target {
                store_usage(&target, &usage, global)?;
            }
            usage
        }
        (None, Some(snapshot)) => {
            if args.window.since.is_some() || args.window.until.is_some() {
                return Err(InputError::wrap(
                    "`--since` and `--until` choose which CloudTrail events to read; a snapshot \
                     holds usage already aggregated over its window: pass `--cloudtrail DIR` too, \
                     or drop them",
                ));
            }
            let usage = load_usage(snapshot)?;
            if !global.quiet {
                warn(&usage);
            }
            usage
        }
        (None, None) => {
            return Err(InputError::wrap(
                "pass `--cloudtrail DIR` to read CloudTrail log files, or `--snapshot DIR` to print \
                 the usage a snapshot holds",
            ));
        }
    };
    match args.format {
        OutputFormat::Json => {
            let view = UsageView::new(&usage);
            // Rendered whole, then written at once: stdout is line-buffered, and a write per
            // line of a large report costs more than rendering it.
            let mut text =
                serde_json::to_vec_pretty(&view).context("cannot render the JSON output")?;
            text.push(b'\n');
            out.write_all(&text)
                .context("cannot write the JSON output")?;
        }
        OutputFormat::Table => write_table(&usage, out)?,
    }
    Ok(Exit::Clean)
}

/// Reads the CloudTrail directory within the window given by `--since`/`--until`.
fn ingest(
    cloudtrail: &Path,
    args: &UsageArgs,
    global: &GlobalArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<CloudTrailUsage> {
    let window = read_window(args, now)?;
    let usage = super::analyze::ingest(cloudtrail, &args.aws, window, global)?;
    super::remote_logs::nothing_readable(
        cloudtrail,
        usage.coverage.sources_read,
        &usage.coverage.sources_skipped,
    )?;
    if !global.quiet {
        warn(&usage);
    }
    Ok(usage)
}

/// What the usage cannot show, on stderr, for a fresh read and a stored one alike: no event
/// in the window, files that could not be read, and actions the catalog does not know.
fn warn(usage: &CloudTrailUsage) {
    if usage.coverage.events_in_window == 0 {
        eprintln!(
            "warning: the CloudTrail logs read hold no event in the window ({} event(s) outside \
             it): nothing is known of use; check `--since`/`--until` against the logs' dates",
            usage.coverage.events_read
        );
    }
    if !usage.coverage.sources_skipped.is_empty() {
        eprintln!(
            "warning: {} CloudTrail file(s) could not be read; their events are missing from the result",
            usage.coverage.sources_skipped.len()
        );
    }
    // An event no table maps is named `<service>:<eventName>` (usually the action); one the
    // catalog does not know is a new API or a record that is not what it claims. Counted as
    // used either way: a permission kept, never one dropped.
    if let Ok(catalog) = crate::catalog::Catalog::aws() {
        let unknown: std::collections::BTreeSet<&str> = usage
            .records()
            .map(|(key, _, _)| key.permission.action.as_str())
            .filter(|action| catalog.action(action).is_none())
            .collect();
        if !unknown.is_empty() {
            let shown: Vec<&str> = unknown.iter().take(5).copied().collect();
            eprintln!(
                "warning: {} action(s) the logs name are not in the catalog ({}{}): a new API \
                 the catalog lacks, or records that are not what they claim; they are counted \
                 as used (check one with `pipeleash catalog show ACTION`)",
                unknown.len(),
                shown.join(", "),
                if unknown.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            );
        }
    }
}

/// The window `--since`/`--until` give, checked not to be empty.
fn read_window(args: &UsageArgs, now: DateTime<Utc>) -> anyhow::Result<TimeWindow> {
    let window = TimeWindow {
        since: args.window.since_at(now)?,
        until: args.window.until_at(now)?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        args.window.check_not_empty(since, until)?;
    }
    Ok(window)
}

/// Opens the snapshot that `--snapshot` names and checks that it can take usage.
#[cfg(feature = "parquet")]
fn open_for_usage(dir: &Path) -> anyhow::Result<Snapshot> {
    let snapshot = Snapshot::open(dir).map_err(snapshot_error)?;
    if snapshot.manifest().lists_usage() {
        return Err(snapshot_error(SnapshotError::UsageAlreadyPresent {
            path: dir.to_path_buf(),
        }));
    }
    Ok(snapshot)
}

/// Adds the usage to the snapshot: `usage/` is written aside inside the snapshot and renamed
/// into place, then the manifest is replaced by a rename, which is what publishes it.
#[cfg(feature = "parquet")]
fn store_usage(
    snapshot: &Snapshot,
    usage: &CloudTrailUsage,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let mut writer = SnapshotWriter::amend(snapshot).map_err(snapshot_error)?;
    crate::snapshot::write_usage_parquet(&mut writer, usage).map_err(snapshot_error)?;
    writer.commit().map_err(snapshot_error)?;
    if !global.quiet {
        eprintln!("usage stored in snapshot `{}`", snapshot.dir().display());
    }
    Ok(())
}

/// The usage a snapshot holds; a snapshot without any is an input error.
fn load_usage(dir: &Path) -> anyhow::Result<CloudTrailUsage> {
    let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
    stored_usage(&snapshot)?.ok_or_else(|| {
        InputError::wrap(format!(
            "snapshot `{}` holds no usage; store some with `pipeleash usage --cloudtrail DIR \
             --snapshot {}`",
            dir.display(),
            dir.display()
        ))
    })
}

/// The usage a snapshot holds (stored by `usage --cloudtrail … --snapshot …`), or `None`.
#[cfg(feature = "parquet")]
pub(super) fn stored_usage(snapshot: &Snapshot) -> anyhow::Result<Option<CloudTrailUsage>> {
    crate::snapshot::read_usage(snapshot).map_err(snapshot_error)
}

/// Without the Parquet reader a snapshot's usage cannot be read; say so rather than act as
/// if there were none.
#[cfg(not(feature = "parquet"))]
pub(super) fn stored_usage(snapshot: &Snapshot) -> anyhow::Result<Option<CloudTrailUsage>> {
    if snapshot.manifest().lists_usage() {
        Err(parquet_missing())
    } else {
        Ok(None)
    }
}

/// Damaged or unsuitable snapshots are the user's input (exit 2); failing to read or write
/// the disk is a runtime failure (exit 3).
pub(super) fn snapshot_error(error: SnapshotError) -> anyhow::Error {
    match error {
        SnapshotError::Io { .. } => anyhow::Error::new(error),
        #[cfg(feature = "parquet")]
        SnapshotError::ParquetWrite { .. } => anyhow::Error::new(error),
        other => InputError::wrap(other),
    }
}

#[cfg(not(feature = "parquet"))]
fn parquet_missing() -> anyhow::Error {
    InputError::wrap(
        "this pipeleash was built without the `parquet` feature, which stores usage in snapshots; \
         rebuild it with the default features, or pass `--cloudtrail DIR`",
    )
}

#[cfg(not(feature = "parquet"))]
fn open_for_usage(_: &Path) -> anyhow::Result<std::convert::Infallible> {
    Err(parquet_missing())
}

#[cfg(not(feature = "parquet"))]
fn store_usage(
    target: &std::convert::Infallible,
    _: &CloudTrailUsage,
    _: &GlobalArgs,
) -> anyhow::Result<()> {
    match *target {}
}

/// The progress of a CloudTrail reading on stderr until `done` is set (a bar on a terminal,
/// the plain line otherwise); run on its own thread, only when not `--quiet`.
pub(super) fn report_progress(progress: &Progress, done: &AtomicBool) {
    super::progress::watch(
        super::progress::Display::for_stderr(false),
        super::progress::Reading {
            what: "reading CloudTrail",
            records: "events",
        },
        &|| super::progress::Counts {
            files_done: progress.files_done.load(Ordering::Relaxed),
            files_total: progress.files_total.load(Ordering::Relaxed),
            records: progress.events_done.load(Ordering::Relaxed),
        },
        done,
    );
}

fn write_table(usage: &CloudTrailUsage, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
    let view = UsageView::new(usage);
    let coverage = &view.coverage;
    writeln!(
        out,
        "CloudTrail: {} file(s) read, {} skipped; {} events read, {} in the window ({} to {})",
        coverage.files_read,
        coverage.files_skipped.len(),
        coverage.events_read,
        coverage.events_in_window,
        coverage.first_event.as_deref().unwrap_or("-"),
        coverage.last_event.as_deref().unwrap_or("-"),
    )?;
    for identity in &view.identities {
        writeln!(out, "\n{} ({})", identity.identity, identity.kind)?;
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header([
            "",
            "action",
            "count",
            "first seen",
            "last seen",
            "resources",
            "CI workloads",
        ]);
        for (label, actions) in [("used", &identity.used), ("DENIED", &identity.denied)] {
            for action in actions {
                let resources = match action.resources.as_slice() {
                    [one] => one.resource.clone(),
                    many => format!("{} resources", many.len()),
                };
                let mut workloads: Vec<String> = action
                    .workloads
                    .iter()
                    .map(|workload| workload.subject.clone())
                    .collect();
                if action.unlinked_session_calls > 0 {
                    workloads.push(format!(
                        "({} calls unlinked)",
                        action.unlinked_session_calls
                    ));
                }
                let count = if action.inferred > 0 {
                    format!("{} ({} inferred)", action.count, action.inferred)
                } else {
                    action.count.to_string()
                };
                let name = std::iter::once(action.action.clone())
                    .chain(
                        action
                            .evidence
                            .iter()
                            .map(|evidence| format!("({evidence})")),
                    )
                    .collect::<Vec<_>>()
                    .join("\n");
                table.add_row([
                    label.to_owned(),
                    name,
                    count,
                    action.first_seen.clone(),
                    action.last_seen.clone(),
                    resources,
                    workloads.join("\n"),
                ]);
            }
        }
        writeln!(out, "{table}")?;
    }
    if !view.web_identity_sessions.is_empty() {
        writeln!(out, "\nweb identity sessions")?;
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(["role", "issuer", "subject", "outcome", "count"]);
        for session in &view.web_identity_sessions {
            table.add_row([
                session.role.clone(),
                session.issuer.clone(),
                session.subject.clone(),
                session.outcome.to_owned(),
                session.count.to_string(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    if !view.access_keys.is_empty() {
        writeln!(out, "\naccess keys that signed IAM users' calls")?;
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(["user", "access key", "calls", "first seen", "last seen"]);
        for key in &view.access_keys {
            table.add_row([
                key.user.clone(),
                key.access_key_id.clone(),
                key.calls.to_string(),
                key.first_seen.clone(),
                key.last_seen.clone(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    for pass in &view.instance_profile_passes {
        writeln!(
            out,
            "\nnote: {} passed instance profile `{}` {} time(s); it needs iam:PassRole on that profile's role, which `analyze`, `audit` and `minimize` read from the snapshot inventory",
            pass.identity, pass.instance_profile, pass.count
        )?;
    }
    if !view.unknown_events.is_empty() {
        writeln!(out, "\nunknown events (not mapped to any IAM action)")?;
        for event in &view.unknown_events {
            writeln!(
                out,
                "  {} {}: {}",
                event.event_source, event.event_name, event.count
            )?;
        }
    }
    if !view.set_aside.is_empty() || view.no_action_events > 0 {
        let mut parts: Vec<String> = view
            .set_aside
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect();
        parts.push(format!("no-permission-needed {}", view.no_action_events));
        writeln!(out, "\nset aside: {}", parts.join(", "))?;
    }
    let unreadable: Vec<String> = usage
        .set_aside
        .iter()
        .filter(|(reason, _)| reason.is_missing_evidence())
        .map(|(reason, count)| format!("{count} {}", reason.as_str()))
        .collect();
    if !unreadable.is_empty() {
        writeln!(
            out,
            "\nwarning: records that could not be read ({}) may be calls in the window: their \
             evidence is missing",
            unreadable.join(", ")
        )?;
    }
    if !coverage.files_skipped.is_empty() {
        writeln!(out, "\nskipped files (their events are missing):")?;
        for file in &coverage.files_skipped {
            writeln!(out, "  {}: {}", file.file, file.reason)?;
        }
    }
    Ok(())
}
