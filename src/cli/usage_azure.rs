//! `pipeleash usage --azure-activity-logs PATH`: what each Azure principal used, from the
//! Activity Log (a storage export copied to disk, or `az monitor activity-log list` output),
//! with what could not be read and what the Activity Log cannot show; and
//! `pipeleash generate azure-activity-logs`, a seeded export with its ground truth.
//!
//! The JSON output is the frozen view `output::json::v1::usage::azure` (`format_version: 1`).

use super::usage::UsageArgs;
use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::azure::activity_log::{ActivityLogCoverage, ActivityLogUsage};
use crate::generate::azure_activity_log::{GROUND_TRUTH_FILE, GenerateOptions, generate};
use crate::model::TimeWindow;
use crate::output::json::v1::usage::azure::UsageView;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Runs `usage --azure-activity-logs PATH` as if it were `now`.
pub fn run(
    path: &Path,
    args: &UsageArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    let window = TimeWindow {
        since: args.window.since_at(now)?,
        until: args.window.until_at(now)?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        args.window.check_not_empty(since, until)?;
    }
    let usage = ingest(path, window, global)?;
    let coverage = ActivityLogCoverage::embedded().context("the embedded coverage table")?;
    let view = UsageView::new(&usage, &coverage);
    match args.format {
        OutputFormat::Json => {
            let mut text =
                serde_json::to_vec_pretty(&view).context("cannot render the JSON output")?;
            text.push(b'\n');
            out.write_all(&text)
                .context("cannot write the JSON output")?;
        }
        OutputFormat::Table => write_table(&view, out)?,
    }
    Ok(Exit::Clean)
}

/// Reads the path, with progress on stderr for long reads.
fn ingest(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<ActivityLogUsage> {
    let usage = super::remote_logs::read_azure(path, window, global)?;
    super::remote_logs::nothing_readable(
        path,
        usage.coverage.files_read,
        &usage.coverage.files_skipped,
    )?;
    super::remote_logs::of_this_kind::<crate::azure::activity_log::Ingestion>(path, &usage)?;
    if !global.quiet {
        let coverage = &usage.coverage;
        if coverage.operations == 0 {
            eprintln!(
                "warning: the Activity Log files read hold no attributable operation in the window \
                 ({} record(s) read, {} outside the window): nothing is known of use; check \
                 `--since`/`--until` against the logs' dates",
                coverage.records_read, coverage.records_outside_window
            );
        }
        if !coverage.files_skipped.is_empty() {
            eprintln!(
                "warning: {} Activity Log file(s) could not be read; their records are missing \
                 from the result",
                coverage.files_skipped.len()
            );
        }
    }
    Ok(usage)
}

fn write_table(view: &UsageView, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let c = &view.coverage;
    writeln!(
        out,
        "Azure Activity Log: {} file(s) read, {} skipped, {} partition folder(s) outside the \
         window not listed; {} records read, {} operations ({} Start/Accept/end records merged), \
         {} records outside the window ({} to {})",
        c.files_read,
        c.files_skipped.len(),
        c.folders_pruned,
        c.records_read,
        c.operations,
        c.duplicates_merged,
        c.records_outside_window,
        c.first_record.as_deref().unwrap_or("-"),
        c.last_record.as_deref().unwrap_or("-"),
    )?;
    for principal in &view.principals {
        let callers = if principal.callers.is_empty() {
            String::new()
        } else {
            format!(", caller {}", principal.callers.join(", "))
        };
        writeln!(
            out,
            "\n{} ({}{})",
            principal.identity, principal.kind, callers
        )?;
        let mut table = super::new_table([
            "",
            "action",
            "operations",
            "first seen",
            "last seen",
            "scopes",
        ]);
        for (label, actions) in [("used", &principal.used), ("DENIED", &principal.denied)] {
            for action in actions {
                let scopes = match action.scopes.as_slice() {
                    [one] => one.scope.clone(),
                    many => format!("{} scopes", many.len()),
                };
                let name = std::iter::once(action.action.clone())
                    .chain(action.evidence.iter().map(|note| format!("({note})")))
                    .collect::<Vec<_>>()
                    .join("\n");
                table.add_row([
                    label.to_owned(),
                    name,
                    action.operations.to_string(),
                    action.first_seen.clone(),
                    action.last_seen.clone(),
                    scopes,
                ]);
            }
        }
        writeln!(out, "{table}")?;
    }
    if !c.set_aside.is_empty() {
        let parts: Vec<String> = c
            .set_aside
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect();
        writeln!(out, "\nset aside: {}", parts.join(", "))?;
    }
    writeln!(
        out,
        "\nnot in the Activity Log (unobservable, never reported unused): reads (GET), data \
         actions, registry pushes and pulls; see `providers/azure/activity-log-coverage.tsv`"
    )?;
    if !c.files_skipped.is_empty() {
        writeln!(out, "\nskipped files (their records are missing):")?;
        for file in &c.files_skipped {
            writeln!(out, "  {}: {}", file.file, file.reason)?;
        }
    }
    Ok(())
}

/// Arguments of `pipeleash generate azure-activity-logs`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Number of Activity Log records to write.
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// Seed of the generator: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `insights-activity-logs/…` and `ground-truth.json` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day of the generated period.
    #[arg(long, default_value = "2026-10-01", value_name = "DATE")]
    pub start: chrono::NaiveDate,
    /// Number of days the period spans.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Write gzip'd blobs (`PT1H.json.gz`) instead of plain `PT1H.json`.
    #[arg(long)]
    pub gzip: bool,
}

/// Runs `pipeleash generate azure-activity-logs`.
pub fn run_generate(
    args: GenerateArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    super::generate::check_out(&args.out)?;
    if args.events == 0 || args.days == 0 {
        return Err(InputError::wrap(
            "`--events` and `--days` must be at least 1",
        ));
    }
    if !global.quiet {
        eprintln!(
            "generating {} Activity Log records into `{}`…",
            args.events,
            args.out.display()
        );
    }
    let options = GenerateOptions {
        records: args.events,
        seed: args.seed,
        start: args.start,
        days: args.days,
        gzip: args.gzip,
    };
    let truth = generate(&args.out, &options)?;
    writeln!(
        out,
        "wrote {} records in {} files under `{}`; ground truth in `{}`",
        truth.records,
        truth.files,
        args.out.join("insights-activity-logs").display(),
        args.out.join(GROUND_TRUTH_FILE).display()
    )?;
    Ok(Exit::Clean)
}
