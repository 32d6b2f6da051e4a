//! `pipeleash snapshots list --format json`: the snapshots of a store, oldest first.
//! (`snapshots show --format json` prints the snapshot's stored manifest itself, a stored
//! format of `src/snapshot/`.)

use crate::snapshot::Manifest;
use serde::Serialize;
use std::path::Path;

/// The `--format json` shape of `snapshots list`.
#[derive(Debug, Serialize)]
pub struct SnapshotListView {
    format_version: u32,
    /// The store as the user knows it: its directory, or its URL in object storage.
    store: String,
    snapshots: Vec<SnapshotRowView>,
}

impl SnapshotListView {
    /// The view of the store at `store` holding the snapshots `snapshots`.
    pub fn new(store: String, snapshots: Vec<SnapshotRowView>) -> Self {
        SnapshotListView {
            format_version: 1,
            store,
            snapshots,
        }
    }
}

/// One snapshot of the list (also the row of the table).
#[derive(Debug, Serialize)]
pub struct SnapshotRowView {
    pub name: String,
    pub created_at: String,
    pub tool_version: String,
    /// Account, project or subscription inventories.
    pub inventories: usize,
    pub usage: bool,
    pub errors: usize,
    pub coverage_notes: usize,
}

impl SnapshotRowView {
    /// The row of the snapshot in `dir` with the manifest `manifest`.
    pub fn new(dir: &Path, manifest: &Manifest) -> Self {
        SnapshotRowView {
            name: dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            created_at: manifest.created_at.clone(),
            tool_version: manifest.tool_version.clone(),
            inventories: manifest
                .sources
                .iter()
                .filter(|source| source.kind.ends_with("inventory"))
                .count(),
            usage: manifest.lists_usage(),
            errors: manifest.errors.len(),
            coverage_notes: manifest.coverage.len(),
        }
    }
}
