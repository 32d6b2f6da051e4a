//! `pipeleash policy check` and `pipeleash policy simulate`: the AWS policy language from the
//! command line.

use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::aws::checks::{PolicyUnderCheck, check_policy};
use crate::aws::escalation::escalation_paths;
use crate::aws::policy::{PolicyDocument, parse_policy};
use crate::catalog::Catalog;
use crate::model::{Finding, Severity};
use crate::output::json::v1::policy::CheckReportView;
use anyhow::Context as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Parse AWS policy documents and lint them: wildcard actions, `*` resources on write and
    /// permissions-management actions, `Allow` with `NotAction`/`NotResource`, privilege-escalation
    /// paths, unknown actions. A role trust policy is also judged by the trust checks that need
    /// only the document (subject wildcards, missing subject or audience, anyone, external
    /// accounts). `pipeleash checks` documents each check.
    Check(CheckArgs),
    /// Decide one request against a set of AWS policies with AWS's evaluation logic: explicit
    /// deny wins; SCPs, the permission boundary and session policies must also allow; a
    /// same-account resource policy can allow on its own. Exit code 0 when allowed, 1 when not.
    Simulate(Box<SimulateArgs>),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy documents to check (JSON, raw or URL-encoded as IAM returns them); a directory
    /// means every `*.json` file below it.
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
    /// Exit with code 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub fail_on: Severity,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub fn run(
    command: PolicyCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    match command {
        PolicyCommand::Check(args) => check(args, global, out),
        PolicyCommand::Simulate(args) => super::simulate::run(*args, out),
    }
}

pub use super::simulate::SimulateArgs;

/// Reads and parses one policy file; errors name the file.
pub fn read_policy(path: &Path) -> anyhow::Result<PolicyDocument> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        InputError::wrap(format!("cannot read policy `{}`: {error}", path.display()))
    })?;
    parse_policy(&text).map_err(|error| {
        InputError::wrap(format!("cannot parse policy `{}`: {error}", path.display()))
    })
}

/// Expands directories into the `*.json` files below them, sorted; files are kept as given.
fn policy_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_json_files(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect_json_files(directory: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(directory).map_err(|error| {
        InputError::wrap(format!(
            "cannot read directory `{}`: {error}",
            directory.display()
        ))
    })?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list directory `{}`", directory.display()))?
            .path();
        if path.is_dir() {
            collect_json_files(&path, found)?;
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            found.push(path);
        }
    }
    Ok(())
}

fn check(
    args: CheckArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let catalog = Catalog::aws().context("cannot load the embedded AWS catalog")?;
    let paths = escalation_paths().context("cannot load the privilege-escalation table")?;
    let files = policy_files(&args.paths)?;
    if files.is_empty() {
        return Err(InputError::wrap(
            "no policy files found: give `*.json` files or directories that contain them",
        ));
    }
    let mut report = CheckReportView::new();
    let mut worst: Option<Severity> = None;
    let mut all_findings: Vec<Finding> = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        // One unreadable file does not hide the findings of the others.
        let document = match read_policy(file) {
            Ok(document) => document,
            Err(error) => {
                if !global.quiet {
                    eprintln!("error: {error:#}");
                }
                report.push_error(format!("{error:#}"));
                continue;
            }
        };
        let mut findings = check_policy(&PolicyUnderCheck {
            name: &name,
            document: &document,
            catalog,
            escalation_paths: paths,
        });
        // A role trust policy is also judged by the trust checks that need only the document.
        if crate::aws::checks::trust::is_trust_policy(&document) {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            findings.extend(crate::aws::checks::trust::trust_document_findings(
                &name, &text, catalog, paths,
            ));
        }
        worst = findings
            .iter()
            .map(|finding| finding.severity)
            .chain(worst)
            .max();
        report.push_policy(name.clone(), document.statements.len(), &findings);
        all_findings.extend(findings);
    }
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            crate::checks::sort_findings(&mut all_findings);
            let (checked, failed) = (report.checked(), report.errors().len());
            // Files that could not be read or parsed are never counted as clean.
            let not_checked = if failed > 0 {
                format!("; {failed} could not be checked (they failed to read or parse)")
            } else {
                String::new()
            };
            if checked == 0 {
                writeln!(
                    out,
                    "no policy file was checked: all {failed} failed to read or parse"
                )?;
            } else if all_findings.is_empty() {
                writeln!(out, "no findings in {checked} policy file(s){not_checked}")?;
            } else {
                let mut table = super::new_table(["severity", "check", "where", "finding"]);
                for finding in &all_findings {
                    table.add_row([
                        finding.severity.to_string(),
                        finding.id.to_string(),
                        finding.subject.clone(),
                        finding.message.clone(),
                    ]);
                }
                writeln!(out, "{table}")?;
                writeln!(
                    out,
                    "{} finding(s) in {checked} policy file(s){not_checked}",
                    all_findings.len(),
                )?;
            }
        }
    }
    if !report.errors().is_empty() {
        return Err(InputError::wrap(format!(
            "{} of {} policy file(s) could not be checked (see the errors above)",
            report.errors().len(),
            files.len()
        )));
    }
    Ok(match worst {
        Some(severity) if severity >= args.fail_on => Exit::Findings,
        _ => Exit::Clean,
    })
}
