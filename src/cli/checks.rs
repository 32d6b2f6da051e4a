//! `pipeleash checks`: lists the checks and prints their documentation, generated from the
//! doc comments of their source files.

use super::Exit;
use crate::checks::{all_check_docs, checks_markdown};
use clap::ValueEnum;

/// How `pipeleash checks` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksFormat {
    /// One row per check: id, highest severity, first sentence.
    Table,
    /// The full documentation page (what `docs/checks.md` holds).
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct ChecksArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ChecksFormat::Table)]
    pub format: ChecksFormat,
}

pub fn run(args: ChecksArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    match args.format {
        ChecksFormat::Markdown => write!(out, "{}", checks_markdown())?,
        ChecksFormat::Table => {
            let mut table = super::new_table(["check", "highest severity", "what it finds"]);
            for doc in all_check_docs() {
                let summary = doc
                    .markdown
                    .split("**Why it matters:**")
                    .next()
                    .unwrap_or_default()
                    .replace("**What it finds:**", "")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                table.add_row([doc.id.to_string(), doc.max_severity.to_string(), summary]);
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(Exit::Clean)
}
