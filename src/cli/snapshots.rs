//! `pipeleash snapshots list|show|prune|publish`: the snapshots of a store (a directory or
//! object storage).

use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::output::json::v1::snapshots::{SnapshotListView, SnapshotRowView};
use crate::snapshot::{Snapshot, Store};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotsCommand {
    /// The committed snapshots of a store, oldest first.
    List(ListArgs),
    /// One snapshot's manifest: sources, coverage notes, errors.
    Show(ShowArgs),
    /// Delete the oldest snapshots, keeping the newest `--keep`.
    Prune(PruneArgs),
    /// Upload the snapshots an interrupted upload left in an object-storage store's local
    /// cache (`collect` says when).
    Publish(PublishArgs),
}

/// Where the store is: `--store DIR|URL`, or `[store] path` of `--config FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The store: a directory of snapshots named by their UTC creation time, or object
    /// storage (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`).
    #[arg(long, value_name = "DIR|URL")]
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

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The store `location` names (`--store`, `[store] path`), `cache` being `[store] cache`;
/// a URL this build cannot use is an input error.
pub(super) fn open_store(location: &Path, cache: Option<&Path>) -> anyhow::Result<Store> {
    Store::at(location, cache).map_err(InputError::wrap)
}

#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
/// As [`open_store`], checking that an object-storage store answers: for commands that
/// would otherwise find out after minutes of collecting.
pub(super) fn open_store_checked(location: &Path) -> anyhow::Result<Store> {
    let store = open_store(location, None)?;
    store.probe().map_err(InputError::wrap)?;
    Ok(store)
}

#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
/// Where a snapshot just written is, to tell the user: its directory, or for a store in
/// object storage its URL (`s3://bucket/prefix/20261122T031500Z`).
pub(super) fn written_to(store: Option<&Store>, snapshot: &Snapshot) -> PathBuf {
    match store {
        Some(store) => shown(store, snapshot.dir()),
        None => snapshot.dir().to_path_buf(),
    }
}

/// The store and the configured `keep`.
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
    let cache = config.as_ref().and_then(|config| config.cache.as_deref());
    Ok((
        open_store(&root, cache)?,
        config.and_then(|config| config.keep),
    ))
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
        SnapshotsCommand::Publish(args) => publish(args, global, out),
    }
}

fn list(args: ListArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    let (store, _) = resolve(&args.store)?;
    let mut rows = Vec::new();
    for dir in store.list().map_err(InputError::wrap)? {
        let snapshot = Snapshot::open(&dir).map_err(InputError::wrap)?;
        rows.push(SnapshotRowView::new(&dir, snapshot.manifest()));
    }
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &SnapshotListView::new(store.location(), rows),
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
            writeln!(out, "{} snapshot(s) in `{}`", rows.len(), store.location())?;
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
            if store.is_remote() {
                // Brings the store's manifests into the cache.
                store.list().map_err(InputError::wrap)?;
            }
            store.root().join(&args.snapshot)
        }
        Err(error)
            if args.snapshot.components().count() == 1
                && (args.store.store.is_some() || args.store.config.is_some()) =>
        {
            return Err(error);
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
            let summary = SnapshotRowView::new(&dir, manifest);
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
    // Every snapshot must read before any is deleted: a damaged newest one would otherwise be
    // kept in place of the good ones the next drift and audit need.
    for dir in &listed {
        if let Err(error) = Snapshot::open(dir) {
            return Err(InputError::wrap(format!(
                "nothing deleted: snapshot `{}` cannot be read ({error}); prune keeps the newest \
                 snapshots and would count it among them: repair or remove it by hand, then prune",
                shown(&store, dir).display()
            )));
        }
    }
    let doomed = listed.len().saturating_sub(keep);
    for dir in &listed[..doomed] {
        if args.dry_run {
            writeln!(out, "would delete `{}`", shown(&store, dir).display())?;
            continue;
        }
        store.remove(dir).map_err(InputError::wrap)?;
        writeln!(out, "deleted `{}`", shown(&store, dir).display())?;
    }
    if !global.quiet {
        eprintln!(
            "{} snapshot(s) {}, {} kept in `{}`",
            doomed,
            if args.dry_run { "to delete" } else { "deleted" },
            listed.len() - doomed,
            store.location()
        );
    }
    Ok(Exit::Clean)
}

/// A listed snapshot as the user knows it: its directory, or its URL in object storage.
fn shown(store: &Store, dir: &Path) -> PathBuf {
    if store.is_remote() {
        let name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        PathBuf::from(format!("{}/{name}", store.location()))
    } else {
        dir.to_path_buf()
    }
}

fn publish(
    args: PublishArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let (store, _) = resolve(&args.store)?;
    let published = store.publish_pending()?;
    for dir in &published {
        writeln!(out, "published `{}`", shown(&store, dir).display())?;
    }
    if !global.quiet {
        eprintln!(
            "{} snapshot(s) published to `{}`",
            published.len(),
            store.location()
        );
    }
    Ok(Exit::Clean)
}
