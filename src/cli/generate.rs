//! `pipeleash generate cloudtrail …`: writes a synthetic, seeded CloudTrail set and its ground
//! truth, for recall tests, demos and benchmarks.

use super::{Exit, GlobalArgs, InputError};
use crate::generate::cloudtrail::{GROUND_TRUTH_FILE, GenerateOptions, Layout, generate};
use std::path::PathBuf;

/// What to generate.
#[derive(Debug, clap::Subcommand)]
pub enum GenerateCommand {
    /// CloudTrail log files in the S3 layout plus `ground-truth.json`.
    Cloudtrail(CloudTrailArgs),
    /// GCP Cloud Audit Logs in a Cloud Logging sink's Cloud Storage layout plus
    /// `ground-truth.json`.
    GcpAuditLogs(GcpAuditLogsArgs),
    /// An Azure Activity Log export in the storage-account layout plus `ground-truth.json`.
    AzureActivityLogs(super::usage_azure::GenerateArgs),
}

/// Arguments of `pipeleash generate gcp-audit-logs`.
#[derive(Debug, Clone, clap::Args)]
pub struct GcpAuditLogsArgs {
    /// Total number of log entries to write.
    #[arg(long, default_value_t = 10_000)]
    pub entries: u64,
    /// Seed of the generator: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `cloudaudit.googleapis.com/…` and `ground-truth.json` into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day of the generated period.
    #[arg(long, default_value = "2026-11-01", value_name = "DATE")]
    pub start: chrono::NaiveDate,
    /// Number of days the period spans (one file per log and hour).
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Write gzip-compressed `.json.gz` files instead of `.json`.
    #[arg(long)]
    pub gzip: bool,
}

/// Arguments of `pipeleash generate cloudtrail`.
#[derive(Debug, Clone, clap::Args)]
pub struct CloudTrailArgs {
    /// Total number of CloudTrail records to write.
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// Seed of the generator: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `AWSLogs/…` and `ground-truth.json` into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First day of the generated period.
    #[arg(long, default_value = "2026-10-01", value_name = "DATE")]
    pub start: chrono::NaiveDate,
    /// Number of days the period spans.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Average number of records per log file (with `--layout spread`).
    #[arg(long, default_value_t = 1_500)]
    pub events_per_file: u64,
    /// Number of AWS accounts the events are spread over (1 to 3).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub accounts: u8,
    /// How records are cut into files.
    #[arg(long, value_enum, default_value_t = LayoutArg::Spread)]
    pub layout: LayoutArg,
}

/// `--layout` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// Files of `--events-per-file` records spread over the hours of the period: few large
    /// files.
    Spread,
    /// As a trail delivers them: one file per account, region and 5-minute window of the
    /// period, the events spread evenly (1M events over `--days 6` is ~15,500 files of ~64
    /// records).
    Delivery,
}

/// Runs `pipeleash generate …`.
/// `--out` of every generator: a new or empty directory. A file is refused, and so is a
/// directory that holds anything: a set written over another mixes their logs, and the ground
/// truth then describes only part of what a reader finds.
pub(super) fn check_out(out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(InputError::wrap(format!(
            "`--out {}` is a file: give a directory (created if missing)",
            out.display()
        )));
    }
    let holds_something = std::fs::read_dir(out)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if holds_something {
        return Err(InputError::wrap(format!(
            "`--out {}` is not empty: a generated set written beside other files mixes with \
             them and its ground truth no longer describes the folder; give a new or empty \
             directory",
            out.display()
        )));
    }
    Ok(())
}

pub fn run(
    command: GenerateCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let args = match command {
        GenerateCommand::Cloudtrail(args) => args,
        GenerateCommand::GcpAuditLogs(args) => {
            return super::usage_gcp::generate(args, global, out);
        }
        GenerateCommand::AzureActivityLogs(args) => {
            return super::usage_azure::run_generate(args, global, out);
        }
    };
    check_out(&args.out)?;
    if args.events == 0 || args.days == 0 || args.events_per_file == 0 {
        return Err(InputError::wrap(
            "`--events`, `--days` and `--events-per-file` must be at least 1",
        ));
    }
    let options = GenerateOptions {
        events: args.events,
        seed: args.seed,
        start: args.start,
        days: args.days,
        events_per_file: args.events_per_file,
        accounts: usize::from(args.accounts),
        layout: match args.layout {
            LayoutArg::Spread => Layout::Spread,
            LayoutArg::Delivery => Layout::Delivery,
        },
    };
    if !global.quiet {
        eprintln!(
            "generating {} CloudTrail events into `{}`…",
            args.events,
            args.out.display()
        );
    }
    let truth = generate(&args.out, &options)?;
    writeln!(
        out,
        "wrote {} events in {} files under `{}`; ground truth in `{}`",
        truth.events,
        truth.files,
        args.out.join("AWSLogs").display(),
        args.out.join(GROUND_TRUTH_FILE).display()
    )?;
    Ok(Exit::Clean)
}
