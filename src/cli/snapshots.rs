//! `pipeleash snapshots list|show|prune`: the snapshots of a local store.

use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::snapshot::{Manifest, Snapshot, Store};
use anyhow::Context as _;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotsCommand {
    /// The committed snapshots of a store, oldest first.
    List(ListArgs),
    /// One snapshot's manifest: sources, coverage notes, errors.
    Show(ShowArgs),
    /// Delete the oldest snapshots, keeping the newest `--keep`.
    Prune(PruneArgs),
}

/// Where the store is: `--store DIR`, or `[store] path` of `--config FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The store: a directory of snapshots named by their UTC creation time.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Take the store (and `keep`) from a `pipeleash.toml`; `--store`/`--keep` win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A snapshot: its name in the store (`20261122T031500Z`) or its directory.
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format (`json`: the manifest as stored).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// How many of the newest snapshots to keep (at least 1). Default: `[store] keep` of
    /// `--config`.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Print what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The store directory and the configured `keep`.
fn resolve(args: &StoreArgs) -> anyhow::Result<(Store, Option<usize>)> {
    let config = match &args.config {
        Some(path) => Some(super::init::load_config(path)?),
        None => None,
    };
    let root = match (&args.store, &config) {
        (Some(store), _) => store.clone(),
        (None, Some(config)) => config.store.clone(),
        (None, None) => {
            return Err(InputError::wrap(
                "give the store: `--store DIR`, or `--config pipeleash.toml` with `[store] path`",
            ));
        }
    };
    Ok((Store::new(root), config.and_then(|config| config.keep)))
}

/// One row of `snapshots list`.
#[derive(Debug, Serialize)]
struct SnapshotRow {
    name: String,
    created_at: String,
    tool_version: String,
    /// Account, project or subscription inventories.
    inventories: usize,
    usage: bool,
    errors: usize,
    coverage_notes: usize,
}

fn row(dir: &Path, manifest: &Manifest) -> SnapshotRow {
    SnapshotRow {
        name: dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        created_at: manifest.created_at.clone(),
        tool_version: manifest.tool_version.clone(),
        inventories: manifest
            .sources
            .iter()
            .filter(|source| source.kind == "account-inventory")
            .count(),
        usage: manifest.lists_usage(),
        errors: manifest.errors.len(),
        coverage_notes: manifest.coverage.len(),
    }
}

pub fn run(
    command: SnapshotsCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    match command {
        SnapshotsCommand::List(args) => list(args, out),
        SnapshotsCommand::Show(args) => show(args, out),
        SnapshotsCommand::Prune(args) => prune(args, global, out),
    }
}

fn list(args: ListArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    let (store, _) = resolve(&args.store)?;
    let mut rows = Vec::new();
    for dir in store.list().map_err(InputError::wrap)? {
        let snapshot = Snapshot::open(&dir).map_err(InputError::wrap)?;
        rows.push(row(&dir, snapshot.manifest()));
    }
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({ "format_version": 1, "store": store.root(), "snapshots": rows }),
            )?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let mut table = super::new_table([
                "snapshot",
                "created at",
                "pipeleash",
                "inventories",
                "usage",
                "errors",
            ]);
            for row in &rows {
                table.add_row([
                    row.name.clone(),
                    row.created_at.clone(),
                    row.tool_version.clone(),
                    row.inventories.to_string(),
                    if row.usage { "yes" } else { "no" }.to_string(),
                    row.errors.to_string(),
                ]);
            }
            writeln!(
                out,
                "{} snapshot(s) in `{}`",
                rows.len(),
                store.root().display()
            )?;
            if !rows.is_empty() {
                writeln!(out, "{table}")?;
            }
        }
    }
    Ok(Exit::Clean)
}

fn show(args: ShowArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    // A name of the store, or else a directory as given.
    let dir = match resolve(&args.store) {
        Ok((store, _)) if args.snapshot.components().count() == 1 => {
            store.root().join(&args.snapshot)
        }
        _ => args.snapshot.clone(),
    };
    let snapshot = Snapshot::open(&dir).map_err(InputError::wrap)?;
    let manifest = snapshot.manifest();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, manifest)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let summary = row(&dir, manifest);
            writeln!(
                out,
                "snapshot `{}`: created {} by pipeleash {}; usage: {}",
                dir.display(),
                manifest.created_at,
                manifest.tool_version,
                if summary.usage { "yes" } else { "no" }
            )?;
            let mut sources = super::new_table(["provider", "kind", "id", "path"]);
            for source in &manifest.sources {
                sources.add_row([
                    source.provider.clone(),
                    source.kind.clone(),
                    source.id.clone(),
                    source.path.clone(),
                ]);
            }
            writeln!(out, "{sources}")?;
            for note in &manifest.coverage {
                writeln!(out, "coverage: {note}")?;
            }
            for error in &manifest.errors {
                writeln!(
                    out,
                    "error: {} `{}`: {}",
                    error.provider, error.target, error.reason
                )?;
            }
        }
    }
    Ok(Exit::Clean)
}

fn prune(
    args: PruneArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let (store, configured) = resolve(&args.store)?;
    let keep = args.keep.or(configured).ok_or_else(|| {
        InputError::wrap(
            "say how many snapshots to keep: `--keep N`, or `[store] keep` in `--config`",
        )
    })?;
    if keep == 0 {
        return Err(InputError::wrap(
            "`--keep 0` would delete every snapshot, including the one the next drift compares \
             against; keep at least 1",
        ));
    }
    let listed = store.list().map_err(InputError::wrap)?;
    let doomed = listed.len().saturating_sub(keep);
    for dir in &listed[..doomed] {
        if args.dry_run {
            writeln!(out, "would delete `{}`", dir.display())?;
            continue;
        }
        remove_snapshot(dir)?;
        writeln!(out, "deleted `{}`", dir.display())?;
    }
    if !global.quiet {
        eprintln!(
            "{} snapshot(s) {}, {} kept in `{}`",
            doomed,
            if args.dry_run { "to delete" } else { "deleted" },
            listed.len() - doomed,
            store.root().display()
        );
    }
    Ok(Exit::Clean)
}

/// Deletes a snapshot without ever leaving a half-deleted one visible: it is first renamed to
/// a `.tmp-` name, which readers skip, then removed.
fn remove_snapshot(dir: &Path) -> anyhow::Result<()> {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = dir.parent().unwrap_or_else(|| Path::new("."));
    let aside = parent.join(format!(".tmp-prune-{name}-{}", std::process::id()));
    std::fs::rename(dir, &aside)
        .with_context(|| format!("cannot move `{}` aside to delete it", dir.display()))?;
    std::fs::remove_dir_all(&aside).with_context(|| {
        format!(
            "`{}` was moved to `{}` (no longer a snapshot) but could not be removed; delete it",
            dir.display(),
            aside.display()
        )
    })
}
