//! The command line: clap definitions, output formats and exit codes. Each subcommand lives in
//! its own file and only turns arguments into calls of the pure core and values into text.

mod analyze;
mod catalog;
mod checks;
mod clouds;
pub mod collect;
mod collect_azure;
mod collect_gcp;
mod drift;
pub mod generate;
pub mod graph;
mod incremental;
mod init;
mod minimize;
mod minimize_azure;
mod minimize_gcp;
mod policy;
mod progress;
mod remote_logs;
mod sarif;
mod simulate;
mod snapshots;
mod time;
pub mod usage;
pub mod usage_azure;
mod usage_gcp;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  clean: the command ran and found nothing at or above the threshold
  1  findings at or above the threshold (or, for `policy simulate`, the request is not allowed)
  2  usage or input error: a bad flag, an unreadable or malformed file
  3  runtime or provider failure";

/// Least-privilege analysis for the identities that CI/CD pipelines use in AWS, Azure and GCP.
#[derive(Debug, Parser)]
#[command(name = "pipeleash", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand understands.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Print nothing on stderr but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print more detail on stderr about what is being done.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint AWS policy documents, or decide a request against a set of them.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Per identity of the snapshots (AWS, GCP, Azure): who can become it, what it is granted,
    /// what it used in the window (CloudTrail, Cloud Audit Logs, Activity Log), what it did
    /// not use, what the logs could not show, and findings. Exit code 1 when a finding is at or
    /// above `--fail-on`.
    Analyze(Box<analyze::AnalyzeArgs>),
    /// The scheduled audit: `analyze`, plus the proven minimized policy of every identity
    /// that holds unused permissions.
    Audit(Box<analyze::AnalyzeArgs>),
    /// Inspect the embedded permission catalog, or rebuild it from an official source.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// List the checks pipeleash runs, with their documentation.
    Checks(checks::ChecksArgs),
    /// What each identity actually used, from audit logs (CloudTrail log files, GCP Cloud
    /// Audit Logs, Azure Activity Logs).
    Usage(usage::UsageArgs),
    /// Write synthetic data sets (CloudTrail logs, GCP Cloud Audit Logs, Azure Activity Logs)
    /// with their ground truth.
    #[command(subcommand)]
    Generate(generate::GenerateCommand),
    /// Read identities and policies from a cloud (read-only) into a new snapshot.
    #[command(subcommand)]
    Collect(collect::CollectCommand),
    /// Compute the smallest grant that still allows everything one identity used in the
    /// window (plus what the logs could not show): an AWS identity policy, GCP custom roles
    /// and bindings, or an Azure custom role definition and assignment. Prove it never
    /// broadens and never drops a used call, and print it as JSON or Terraform. Exit code 3
    /// when the proof fails (nothing is printed then).
    Minimize(Box<minimize::MinimizeArgs>),
    /// The access graph of CI identities: who can do what, what a workload reaches, and how.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// What changed between two snapshots: identities, grants (by the evaluator), trust,
    /// usage and findings. Exit code 1 when a change is at or above `--fail-on`.
    Drift(drift::DriftArgs),
    /// Write a commented example `pipeleash.toml` (see `docs/configuration.md`).
    Init(init::InitArgs),
    /// The snapshots of a local store: list them, show one, prune the oldest.
    #[command(subcommand)]
    Snapshots(snapshots::SnapshotsCommand),
}

/// How a command prints its result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A human-readable table.
    Table,
    /// Machine-readable JSON (a stable, versioned shape).
    Json,
}

/// The outcome of a command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Usage = 2,
    Runtime = 3,
}

/// An error caused by what the user gave us (a bad file, a bad value): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl InputError {
    /// Wraps any error as an input error, keeping its message.
    pub fn wrap(error: impl std::fmt::Display) -> anyhow::Error {
        anyhow::Error::new(InputError(error.to_string()))
    }
}

/// Runs the binary: parse arguments, run the command, map the outcome to an exit code.
pub fn main() -> ExitCode {
    // `audit --config FILE`: the file's settings become the flags the command line left out.
    let (argv, config) = match init::expand_config(std::env::args_os().collect()) {
        Ok(expanded) => expanded,
        Err(error) => {
            eprintln!(
                "error: {}",
                crate::remote_logs::redact_signatures(&format!("{error:#}"))
            );
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(Exit::Usage as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli, config.as_ref()) {
        Ok(exit) => ExitCode::from(exit as u8),
        // A pipe closed early outside the command's own output (which `ClosablePipe` absorbs)
        // is not a failure of the command.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // A shared access signature the user wrote never reaches the screen or a CI log.
            eprintln!(
                "error: {}",
                crate::remote_logs::redact_signatures(&format!("{error:#}"))
            );
            let exit = if error.chain().any(|cause| cause.is::<InputError>()) {
                Exit::Usage
            } else {
                Exit::Runtime
            };
            ExitCode::from(exit as u8)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Standard output that a reader may close early (`pipeleash policy simulate … | head`): once
/// the pipe is closed, the rest of the output is dropped and the command runs to its own
/// exit code. Before, the write error ended the command with exit 0, so a denied request or a
/// critical finding read as a clean run in a CI step that piped the output.
struct ClosablePipe<W> {
    inner: W,
    closed: bool,
}

impl<W: std::io::Write> std::io::Write for ClosablePipe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

fn run(cli: Cli, config: Option<&crate::config::Config>) -> anyhow::Result<Exit> {
    let mut stdout = ClosablePipe {
        inner: std::io::stdout().lock(),
        closed: false,
    };
    match cli.command {
        Command::Policy(command) => policy::run(command, &cli.global, &mut stdout),
        Command::Analyze(args) => {
            init::run_analysis(*args, false, config, &cli.global, &mut stdout)
        }
        Command::Audit(args) => init::run_analysis(*args, true, config, &cli.global, &mut stdout),
        Command::Catalog(command) => catalog::run(command, &cli.global, &mut stdout),
        Command::Checks(args) => checks::run(args, &mut stdout),
        Command::Usage(args) => usage::run(args, &cli.global, &mut stdout),
        Command::Generate(command) => generate::run(command, &cli.global, &mut stdout),
        Command::Collect(command) => collect::run(command, &cli.global, &mut stdout),
        Command::Minimize(args) => minimize::run(*args, &cli.global, &mut stdout),
        Command::Graph(command) => graph::run(command, &cli.global, &mut stdout),
        Command::Drift(args) => drift::run(args, &cli.global, &mut stdout),
        Command::Init(args) => init::run(args, &cli.global),
        Command::Snapshots(command) => snapshots::run(command, &cli.global, &mut stdout),
    }
}

/// Width of tables when stdout is not a terminal: wide enough to read, fixed so that output
/// piped to a file is the same on every machine.
const PIPED_TABLE_WIDTH: u16 = 120;

/// A table in the house style: condensed borders, wrapped to the terminal (or to a fixed
/// width when piped), with the given header.
pub fn new_table<I, T>(header: I) -> comfy_table::Table
where
    I: IntoIterator<Item = T>,
    T: Into<comfy_table::Cell>,
{
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    if !table.is_tty() {
        table.set_width(PIPED_TABLE_WIDTH);
    }
    table.set_header(header);
    table
}
