//! The snapshot store: what one run collected, written atomically, read back later.
//!
//! A snapshot is a directory holding `manifest.json` (format version, creation time, tool
//! version, sources, coverage notes, errors) and the files it lists, such as
//! `inventory/aws-<account>.json`. A store is a directory of snapshots named by their UTC
//! creation time (`20261122T031500Z`), so that name order is time order.
//!
//! **Invariant:** a reader never sees a half-written snapshot. A writer fills
//! `<parent>/.tmp-<name>-<pid>/`, syncs every file and directory, then renames it into place in
//! one step; readers skip names starting with `.`. A writer dropped before
//! [`SnapshotWriter::commit`] removes its temporary directory.
//!
//! Files can be added to a committed snapshot ([`SnapshotWriter::amend`]), which is how usage
//! joins the inventory that `collect` wrote. Nothing already in a snapshot is ever replaced:
//! new top-level entries (such as `usage/`) are written aside in `<snapshot>/.tmp-amend-<pid>/`,
//! renamed into place, and only then is `manifest.json` replaced by a rename. The manifest
//! rename is the commit point: a reader sees either the old manifest, which does not list the
//! new files, or the new one, whose files are all in place.

pub mod location;
mod manifest;
mod read_state;
#[cfg(feature = "object-store")]
mod remote;
pub use read_state::{lists_read_state, read_read_state, write_read_state};
#[cfg(feature = "object-store")]
pub(crate) use remote::object_store_with_signature;
#[cfg(feature = "parquet")]
pub mod usage;

pub use location::{CACHE_ENV, StoreLocation};

pub use manifest::{MANIFEST_FORMAT_VERSION, Manifest, ManifestIssue, Source};
#[cfg(feature = "parquet")]
pub use usage::{USAGE_FORMAT_VERSION, read_usage, write_usage_parquet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The name of the manifest file inside a snapshot directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The `strftime` pattern of snapshot names in a store.
pub const NAME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot {action} `{path}`: {source}; check that the directory exists and is writable")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "snapshot `{path}` already exists; choose another `--out` directory or wait a second \
         before collecting into the same store"
    )]
    AlreadyExists { path: PathBuf },
    #[error(
        "`{path}` is not a snapshot: it has no `manifest.json`; point to a directory that `pipeleash collect` wrote"
    )]
    NotASnapshot { path: PathBuf },
    #[error(
        "snapshot `{path}` does not exist; check the path (`pipeleash snapshots list --store DIR` lists a store's snapshots)"
    )]
    Missing { path: PathBuf },
    #[error(
        "`{path}` is an unfinished snapshot (a writer stopped before committing it); delete it"
    )]
    Unfinished { path: PathBuf },
    #[error("cannot parse `{path}`: {source}; the file is damaged, collect a new snapshot")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "`{path}` has format version {found}, this pipeleash reads up to {supported}; upgrade \
         pipeleash to read it"
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "`{path}` is not a relative path inside the snapshot; name files like `inventory/aws-123456789012.json`"
    )]
    BadRelativePath { path: PathBuf },
    #[error(
        "`{path}` already exists in the snapshot and files of a snapshot are never replaced; \
         write into a new snapshot, or delete `{path}` if `manifest.json` does not list it (a \
         stopped run left it)"
    )]
    Conflict { path: PathBuf },
    #[error(
        "the manifest of snapshot `{path}` changed while files were being added to it (another \
         run is writing there); run again once it has finished"
    )]
    ChangedMeanwhile { path: PathBuf },
    #[error(
        "snapshot `{path}` already holds usage and a snapshot is never changed once it does; \
         collect a new snapshot (`pipeleash collect aws --out …`) and add the usage to that one"
    )]
    UsageAlreadyPresent { path: PathBuf },
    #[error(
        "`{path}` is missing although `manifest.json` lists it; the snapshot is damaged: restore \
         it from a copy, or collect a new snapshot and add the usage again"
    )]
    MissingFile { path: PathBuf },
    /// A usage file that exists but does not hold what pipeleash writes.
    #[error(
        "`{path}` is not valid usage data: {reason}; the file is damaged or was not written by \
         pipeleash: collect a new snapshot and add the usage again \
         (`pipeleash usage --cloudtrail DIR --snapshot NEW`)"
    )]
    BadUsageFile { path: PathBuf, reason: String },
    /// An AWS inventory whose `account_id` is not the account the manifest lists it for.
    #[error(
        "`{path}` says account `{found}` where `manifest.json` lists it for account `{listed}`: \
         the file is damaged or was edited; collect a new snapshot"
    )]
    AccountMismatch {
        path: PathBuf,
        listed: String,
        found: String,
    },
    /// An inventory without a section every collection writes (even empty).
    #[error(
        "`{path}` has no `{key}`, a section every collection writes (`[]` when there is \
         nothing): the file is damaged or was edited, and reading it would drop what that \
         section holds; collect a new snapshot"
    )]
    MissingSection { path: PathBuf, key: String },
    /// An object-storage URL given to a build without the `object-store` feature.
    #[error(
        "store `{url}` is in object storage, and this pipeleash was built without the \
         `object-store` feature; rebuild with `--features object-store` (`cargo install \
         pipeleash --features object-store`) or give a local directory"
    )]
    RemoteNotBuilt { url: String },
    /// A store URL pipeleash cannot use.
    #[error(
        "store `{url}` is not a store URL pipeleash reads: {reason}; give `s3://bucket/prefix`, \
         `gs://bucket/prefix`, `az://container/prefix` or a local directory"
    )]
    BadStoreUrl { url: String, reason: String },
    /// No cache directory could be chosen for a remote store.
    #[error(
        "store `{url}` needs a local cache directory and none is known (`PIPELEASH_STORE_CACHE`, \
         `XDG_CACHE_HOME` and `HOME` are unset); set `PIPELEASH_STORE_CACHE` or `[store] cache`"
    )]
    NoCacheDir { url: String },
    /// A cache directory that already serves another store (set by hand to a shared path).
    #[error(
        "cache directory `{cache}` holds store `{other}`, not `{url}`; give each store its own \
         cache (`PIPELEASH_STORE_CACHE` and `[store] cache` name a root that holds one \
         directory per store)"
    )]
    CacheOfAnotherStore {
        cache: PathBuf,
        url: String,
        other: String,
    },
    /// A request to object storage failed (after retries).
    #[cfg(feature = "object-store")]
    #[error(
        "cannot {action} store `{store}`: {source}; check the URL, the network and the \
         credentials (docs/configuration.md lists what each cloud reads)"
    )]
    Remote {
        store: String,
        action: &'static str,
        source: object_store::Error,
    },
    /// A snapshot committed in the cache whose upload failed: nothing collected is lost.
    #[error(
        "snapshot `{local}` was written locally but not published to store `{store}`: {source}; \
         nothing of it is visible in the store (its manifest was not uploaded); publish it with \
         `pipeleash snapshots publish --store {store}` once the store is reachable"
    )]
    NotPublished {
        store: String,
        local: PathBuf,
        source: Box<SnapshotError>,
    },
    /// A stored read state (`usage/*-read-state.json.gz`) that cannot be used.
    #[error(
        "`{path}` is not a usable read state: {reason}; an incremental read continues an \
         earlier state or reads every file instead, so only time is lost"
    )]
    BadReadState { path: PathBuf, reason: String },
    /// The Parquet library could not read a file: it is damaged or not Parquet.
    #[cfg(feature = "parquet")]
    #[error(
        "cannot read `{path}` as Parquet: {source}; the file is damaged: collect a new snapshot \
         and add the usage again (`pipeleash usage --cloudtrail DIR --snapshot NEW`)"
    )]
    ParquetRead {
        path: PathBuf,
        source: polars::error::PolarsError,
    },
    /// The Parquet library refused to encode the usage (a bug, not an input problem).
    #[cfg(feature = "parquet")]
    #[error("cannot encode `{path}` as Parquet: {source}; please report this as a bug")]
    ParquetWrite {
        path: PathBuf,
        source: polars::error::PolarsError,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SnapshotError + use<> {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io {
        action,
        path,
        source,
    }
}

/// The store name of a snapshot created at `created_at`.
pub fn snapshot_name(created_at: DateTime<Utc>) -> String {
    created_at.format(NAME_FORMAT).to_string()
}

/// Writes one snapshot aside and moves it into place on [`commit`](Self::commit).
#[derive(Debug)]
pub struct SnapshotWriter {
    final_dir: PathBuf,
    temp_dir: PathBuf,
    manifest: Manifest,
    /// `Some` when adding to a committed snapshot: its manifest as it was when opened, to
    /// notice another writer committing in between.
    amending: Option<Manifest>,
    committed: bool,
    /// The remote store the snapshot is published to once committed (a new snapshot is
    /// committed in the store's outbox first), or whose cached snapshot is amended.
    #[cfg(feature = "object-store")]
    remote: Option<remote::Remote>,
}

impl SnapshotWriter {
    /// Starts a snapshot that will become the directory `final_dir`, which must not exist.
    /// Its parent is created if needed.
    pub fn create(final_dir: &Path, created_at: DateTime<Utc>) -> Result<Self, SnapshotError> {
        if final_dir.exists() {
            return Err(SnapshotError::AlreadyExists {
                path: final_dir.to_path_buf(),
            });
        }
        let name = final_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| SnapshotError::BadRelativePath {
                path: final_dir.to_path_buf(),
            })?;
        let parent = match final_dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_error("create directory", &parent))?;
        let temp_dir = parent.join(format!(".tmp-{name}-{}", std::process::id()));
        if temp_dir.exists() {
            // Left by a crashed run that had our pid: nothing in it was ever committed.
            fs::remove_dir_all(&temp_dir).map_err(io_error("remove stale directory", &temp_dir))?;
        }
        fs::create_dir(&temp_dir).map_err(io_error("create directory", &temp_dir))?;
        Ok(Self {
            final_dir: final_dir.to_path_buf(),
            temp_dir,
            manifest: Manifest::new(created_at),
            amending: None,
            committed: false,
            #[cfg(feature = "object-store")]
            remote: None,
        })
    }

    /// Starts adding files to the committed `snapshot`. The manifest starts as the snapshot's
    /// own; [`commit`](Self::commit) refuses to replace any file already there.
    pub fn amend(snapshot: &Snapshot) -> Result<Self, SnapshotError> {
        // The sequence number keeps two writers of one process apart.
        static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let sequence = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let final_dir = snapshot.dir().to_path_buf();
        let temp_dir = final_dir.join(format!(".tmp-amend-{}-{sequence}", std::process::id()));
        if temp_dir.exists() {
            // Left by a crashed run that had our pid: nothing in it was ever committed.
            fs::remove_dir_all(&temp_dir).map_err(io_error("remove stale directory", &temp_dir))?;
        }
        // A snapshot in a remote store's cache: the amendment is published there too.
        #[cfg(feature = "object-store")]
        let remote = match final_dir.parent().and_then(remote::cached_store_url) {
            Some(url) => {
                let cache = final_dir.parent().unwrap_or(Path::new(".")).to_path_buf();
                Some(remote::Remote::with_cache(&url, cache)?)
            }
            None => None,
        };
        fs::create_dir(&temp_dir).map_err(io_error("create directory", &temp_dir))?;
        Ok(Self {
            final_dir,
            temp_dir,
            manifest: snapshot.manifest().clone(),
            amending: Some(snapshot.manifest().clone()),
            committed: false,
            #[cfg(feature = "object-store")]
            remote,
        })
    }

    /// The manifest being written.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest being written, to add coverage notes and errors to.
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// Where the snapshot will be once committed.
    pub fn final_dir(&self) -> &Path {
        &self.final_dir
    }

    /// Writes `bytes` to `relative` inside the snapshot and syncs it.
    pub fn write_file(&mut self, relative: &Path, bytes: &[u8]) -> Result<PathBuf, SnapshotError> {
        check_relative(relative)?;
        let path = self.temp_dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
        }
        let mut file = File::create(&path).map_err(io_error("create", &path))?;
        file.write_all(bytes).map_err(io_error("write", &path))?;
        file.sync_all().map_err(io_error("sync", &path))?;
        Ok(self.final_dir.join(relative))
    }

    /// Writes `value` as pretty JSON (with a final newline) to `relative`.
    pub fn write_json<T: Serialize>(
        &mut self,
        relative: &Path,
        value: &T,
    ) -> Result<PathBuf, SnapshotError> {
        let mut bytes =
            serde_json::to_vec_pretty(value).map_err(|source| SnapshotError::Parse {
                path: relative.to_path_buf(),
                source,
            })?;
        bytes.push(b'\n');
        self.write_file(relative, &bytes)
    }

    /// Writes one AWS account's inventory and lists it in the manifest as a source.
    pub fn write_aws_inventory(
        &mut self,
        inventory: &crate::aws::inventory::AwsAccountInventory,
    ) -> Result<PathBuf, SnapshotError> {
        let relative = aws_inventory_path(&inventory.account_id);
        let path = self.write_json(&relative, inventory)?;
        self.manifest.sources.push(Source {
            provider: "aws".to_owned(),
            kind: "account-inventory".to_owned(),
            id: inventory.account_id.clone(),
            path: relative.to_string_lossy().replace('\\', "/"),
            format_version: inventory.format_version,
        });
        Ok(path)
    }

    /// Writes the manifest, syncs, and moves the snapshot into place.
    pub fn commit(mut self) -> Result<Snapshot, SnapshotError> {
        self.manifest.sort();
        let manifest = self.manifest.clone();
        self.write_json(Path::new(MANIFEST_FILE), &manifest)?;
        sync_tree(&self.temp_dir)?;
        if let Some(original) = self.amending.take() {
            return self.commit_amendment(&original, manifest);
        }
        if self.final_dir.exists() {
            return Err(SnapshotError::AlreadyExists {
                path: self.final_dir.clone(),
            });
        }
        fs::rename(&self.temp_dir, &self.final_dir)
            .map_err(io_error("move snapshot into place at", &self.final_dir))?;
        self.committed = true;
        if let Some(parent) = self.final_dir.parent() {
            sync_dir(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })?;
        }
        #[cfg(feature = "object-store")]
        if let Some(remote) = self.remote.take() {
            let name = snapshot_name_of(&self.final_dir);
            let dir = remote.publish(&name)?;
            return Ok(Snapshot { dir, manifest });
        }
        Ok(Snapshot {
            dir: self.final_dir.clone(),
            manifest,
        })
    }
}

impl SnapshotWriter {
    /// Moves the new entries into the snapshot, then publishes them by replacing the manifest.
    fn commit_amendment(
        mut self,
        original: &Manifest,
        manifest: Manifest,
    ) -> Result<Snapshot, SnapshotError> {
        let on_disk: Manifest = read_json_file(&self.final_dir.join(MANIFEST_FILE))?;
        if on_disk != *original {
            return Err(SnapshotError::ChangedMeanwhile {
                path: self.final_dir.clone(),
            });
        }
        let mut entries = Vec::new();
        for entry in
            fs::read_dir(&self.temp_dir).map_err(io_error("read directory", &self.temp_dir))?
        {
            let entry = entry.map_err(io_error("read directory", &self.temp_dir))?;
            if entry.file_name() != MANIFEST_FILE {
                entries.push(entry.file_name());
            }
        }
        entries.sort();
        // Check every target first so that a conflict moves nothing.
        for name in &entries {
            let target = self.final_dir.join(name);
            if target.exists() {
                return Err(SnapshotError::Conflict { path: target });
            }
        }
        // A cached snapshot of a remote store: the store is updated first (its manifest
        // last); should that fail, nothing changes here either.
        #[cfg(feature = "object-store")]
        if let Some(remote) = self.remote.take() {
            remote.publish_amendment(&snapshot_name_of(&self.final_dir), &self.temp_dir)?;
        }
        for name in &entries {
            let target = self.final_dir.join(name);
            // `rename` of a directory fails if the target appeared meanwhile: never replaced.
            fs::rename(self.temp_dir.join(name), &target)
                .map_err(io_error("move into place at", &target))?;
        }
        sync_dir(&self.final_dir)?;
        let manifest_path = self.final_dir.join(MANIFEST_FILE);
        fs::rename(self.temp_dir.join(MANIFEST_FILE), &manifest_path)
            .map_err(io_error("replace", &manifest_path))?;
        self.committed = true;
        sync_dir(&self.final_dir)?;
        // Best effort: the snapshot is committed, and readers ignore a leftover `.tmp-*`.
        let _ = fs::remove_dir(&self.temp_dir);
        Ok(Snapshot {
            dir: self.final_dir.clone(),
            manifest,
        })
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a leftover `.tmp-*` directory is ignored by readers anyway.
            let _ = fs::remove_dir_all(&self.temp_dir);
        }
    }
}

/// The last component of a snapshot directory: its name in the store.
#[cfg(feature = "object-store")]
fn snapshot_name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check_relative(relative: &Path) -> Result<(), SnapshotError> {
    use std::path::Component;
    let fine = !relative.as_os_str().is_empty()
        && relative
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    if fine {
        Ok(())
    } else {
        Err(SnapshotError::BadRelativePath {
            path: relative.to_path_buf(),
        })
    }
}

/// Syncs every directory under `dir` (files were synced as they were written) so that the
/// directory entries are durable before the rename publishes them.
fn sync_tree(dir: &Path) -> Result<(), SnapshotError> {
    for entry in fs::read_dir(dir).map_err(io_error("read directory", dir))? {
        let entry = entry.map_err(io_error("read directory", dir))?;
        let file_type = entry.file_type().map_err(io_error("read directory", dir))?;
        if file_type.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    // Directories can be opened and fsynced on Unix; elsewhere this is a no-op.
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(io_error("open directory", dir))?;
        handle.sync_all().map_err(io_error("sync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The path of an AWS account's inventory inside a snapshot.
pub fn aws_inventory_path(account_id: &str) -> PathBuf {
    Path::new("inventory").join(format!("aws-{account_id}.json"))
}

/// A committed snapshot, opened for reading.
#[derive(Debug, Clone)]
pub struct Snapshot {
    dir: PathBuf,
    manifest: Manifest,
}

impl Snapshot {
    /// Opens the snapshot in `dir`, reading and checking its manifest.
    pub fn open(dir: &Path) -> Result<Self, SnapshotError> {
        let unfinished = dir
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(".tmp-"));
        if unfinished {
            return Err(SnapshotError::Unfinished {
                path: dir.to_path_buf(),
            });
        }
        if !dir.exists() {
            return Err(SnapshotError::Missing {
                path: dir.to_path_buf(),
            });
        }
        let path = dir.join(MANIFEST_FILE);
        if !path.is_file() {
            return Err(SnapshotError::NotASnapshot {
                path: dir.to_path_buf(),
            });
        }
        let manifest: Manifest = read_json_file(&path)?;
        if manifest.format_version > MANIFEST_FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion {
                path,
                found: manifest.format_version,
                supported: MANIFEST_FORMAT_VERSION,
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads a JSON file of the snapshot.
    pub fn read_json<T: DeserializeOwned>(&self, relative: &Path) -> Result<T, SnapshotError> {
        check_relative(relative)?;
        read_json_file(&self.dir.join(relative))
    }

    /// Reads every AWS account inventory the manifest lists, in manifest order.
    pub fn aws_inventories(
        &self,
    ) -> Result<Vec<crate::aws::inventory::AwsAccountInventory>, SnapshotError> {
        use crate::aws::inventory::INVENTORY_FORMAT_VERSION;
        let inventories = self.inventories_of(
            "aws",
            "account-inventory",
            INVENTORY_FORMAT_VERSION,
            &[
                "roles",
                "users",
                "groups",
                "policies",
                "oidc_providers",
                "errors",
            ],
            |raw: &crate::aws::inventory::AwsAccountInventory| raw.format_version,
        )?;
        // The manifest names each file's account; an inventory saying another one was edited,
        // and read as it is its roles would be judged against the wrong account's logs.
        let sources = self
            .manifest
            .sources
            .iter()
            .filter(|source| source.provider == "aws" && source.kind == "account-inventory");
        for (source, inventory) in sources.zip(&inventories) {
            if source.id != inventory.account_id {
                return Err(SnapshotError::AccountMismatch {
                    path: self.dir.join(&source.path),
                    listed: source.id.clone(),
                    found: inventory.account_id.clone(),
                });
            }
        }
        Ok(inventories)
    }

    /// The path (inside the snapshot) of the first inventory of `provider` (`aws`, `gcp`,
    /// `azure`) the manifest lists, if any.
    pub fn inventory_path(&self, provider: &str) -> Option<&str> {
        self.manifest
            .sources
            .iter()
            .find(|source| source.provider == provider && source.kind.ends_with("inventory"))
            .map(|source| source.path.as_str())
    }

    /// Reads every GCP inventory (`collect gcp`) the manifest lists, in manifest order.
    pub fn gcp_inventories(
        &self,
    ) -> Result<Vec<crate::gcp::inventory::GcpInventory>, SnapshotError> {
        use crate::gcp::inventory::{GCP_INVENTORY_FORMAT_VERSION, GCP_INVENTORY_KIND};
        self.inventories_of(
            "gcp",
            GCP_INVENTORY_KIND,
            GCP_INVENTORY_FORMAT_VERSION,
            &[
                "organizations",
                "folders",
                "projects",
                "service_accounts",
                "custom_roles",
                "workload_identity_pools",
                "errors",
            ],
            |raw: &crate::gcp::inventory::GcpInventory| raw.format_version,
        )
    }

    /// Reads every Azure inventory (`collect azure`) the manifest lists, in manifest order.
    pub fn azure_inventories(
        &self,
    ) -> Result<Vec<crate::azure::inventory::AzureInventory>, SnapshotError> {
        use crate::azure::inventory::{INVENTORY_FORMAT_VERSION, INVENTORY_KIND};
        self.inventories_of(
            "azure",
            INVENTORY_KIND,
            INVENTORY_FORMAT_VERSION,
            &[
                "management_groups",
                "subscriptions",
                "role_assignments",
                "role_definitions",
                "deny_assignments",
                "user_assigned_identities",
                "service_principals",
                "applications",
                "errors",
            ],
            |raw: &crate::azure::inventory::AzureInventory| raw.format_version,
        )
    }

    /// The sources of one provider and kind, parsed, refusing a newer format than this build
    /// reads and a file without one of the `sections` its collector always writes (a missing
    /// section would read as empty and silently drop identities and grants).
    fn inventories_of<T: DeserializeOwned>(
        &self,
        provider: &str,
        kind: &str,
        supported: u32,
        sections: &[&str],
        version: impl Fn(&T) -> u32,
    ) -> Result<Vec<T>, SnapshotError> {
        let mut inventories = Vec::new();
        for source in &self.manifest.sources {
            if source.provider != provider || source.kind != kind {
                continue;
            }
            let relative = Path::new(&source.path);
            check_relative(relative)?;
            let path = self.dir.join(relative);
            let bytes = fs::read(&path).map_err(io_error("read", &path))?;
            let parse = |source| SnapshotError::Parse {
                path: path.clone(),
                source,
            };
            let inventory: T = serde_json::from_slice(&bytes).map_err(parse)?;
            if !sections.is_empty() {
                let keys: std::collections::BTreeMap<String, serde::de::IgnoredAny> =
                    serde_json::from_slice(&bytes).map_err(parse)?;
                if let Some(key) = sections.iter().find(|key| !keys.contains_key(**key)) {
                    return Err(SnapshotError::MissingSection {
                        path,
                        key: (*key).to_owned(),
                    });
                }
            }
            let found = version(&inventory);
            if found > supported {
                return Err(SnapshotError::UnsupportedVersion {
                    path: self.dir.join(&source.path),
                    found,
                    supported,
                });
            }
            inventories.push(inventory);
        }
        Ok(inventories)
    }
}

fn read_json_file<T: DeserializeOwned>(path: &Path) -> Result<T, SnapshotError> {
    let bytes = fs::read(path).map_err(io_error("read", path))?;
    serde_json::from_slice(&bytes).map_err(|source| SnapshotError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// A store of snapshots named by creation time: a local directory, or object storage
/// (`s3://`, `gs://`, `az://`) worked through a local cache directory (see
/// [`location`] and `docs/configuration.md`).
///
/// Snapshots are read through the paths [`list`](Self::list) gives: for a remote store
/// they are in the cache and hold only their manifest until [`open`](Self::open) downloads
/// their files.
#[derive(Debug, Clone)]
pub struct Store {
    /// The local store, or the cache directory of the remote one.
    root: PathBuf,
    #[cfg(feature = "object-store")]
    remote: Option<remote::Remote>,
}

impl Store {
    /// The local store in the directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            #[cfg(feature = "object-store")]
            remote: None,
        }
    }

    /// The store `location` names (`--store`, `[store] path`): a directory, or a URL whose
    /// cache directory is under `$PIPELEASH_STORE_CACHE`, else `cache` (`[store] cache`),
    /// else `$XDG_CACHE_HOME/pipeleash/stores` or `~/.cache/pipeleash/stores`. No request is
    /// sent yet.
    ///
    /// Errors: a URL this build cannot use ([`SnapshotError::RemoteNotBuilt`],
    /// [`SnapshotError::BadStoreUrl`]), no cache directory ([`SnapshotError::NoCacheDir`]).
    pub fn at(location: &Path, cache: Option<&Path>) -> Result<Self, SnapshotError> {
        match StoreLocation::parse(location)? {
            StoreLocation::Local(root) => Ok(Self::new(root)),
            #[cfg(feature = "object-store")]
            StoreLocation::Remote(url) => {
                let cache_root = location::cache_root(cache, |name| std::env::var_os(name))
                    .ok_or_else(|| SnapshotError::NoCacheDir { url: url.clone() })?;
                let remote = remote::Remote::connect(&url, &cache_root)?;
                Ok(Self {
                    root: remote.cache().to_path_buf(),
                    remote: Some(remote),
                })
            }
            #[cfg(not(feature = "object-store"))]
            StoreLocation::Remote(url) => {
                let _ = cache;
                Err(SnapshotError::RemoteNotBuilt { url })
            }
        }
    }

    /// The store a snapshot directory belongs to: the remote store whose cache holds it (a
    /// snapshot listed from `s3://…`, say), else its parent directory as a local store. No
    /// request is sent yet.
    pub fn containing(snapshot: &Path) -> Result<Self, SnapshotError> {
        let parent = match snapshot.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        #[cfg(feature = "object-store")]
        if let Some(url) = remote::cached_store_url(&parent) {
            return Ok(Self {
                root: parent.clone(),
                remote: Some(remote::Remote::with_cache(&url, parent)?),
            });
        }
        Ok(Self::new(parent))
    }

    /// The local store's directory, or the remote store's cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The store as the user gave it: its directory or its URL.
    pub fn location(&self) -> String {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            return remote.url().to_owned();
        }
        self.root.display().to_string()
    }

    /// Whether the store is in object storage.
    pub fn is_remote(&self) -> bool {
        #[cfg(feature = "object-store")]
        let remote = self.remote.is_some();
        #[cfg(not(feature = "object-store"))]
        let remote = false;
        remote
    }

    /// Checks that a remote store answers (one listing request); nothing for a local one.
    pub fn probe(&self) -> Result<(), SnapshotError> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            return remote.probe();
        }
        Ok(())
    }

    /// Starts a new snapshot named after `created_at`. In a remote store it is written in the
    /// cache's outbox and published on [`SnapshotWriter::commit`] (files first, manifest
    /// last); a snapshot of that name already in the store is refused here.
    pub fn writer(&self, created_at: DateTime<Utc>) -> Result<SnapshotWriter, SnapshotError> {
        let name = snapshot_name(created_at);
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            remote.prepare_cache()?;
            remote.check_absent(&name)?;
            let mut writer = SnapshotWriter::create(&remote.outbox().join(&name), created_at)?;
            writer.remote = Some(remote.clone());
            return Ok(writer);
        }
        SnapshotWriter::create(&self.root.join(name), created_at)
    }

    /// The committed snapshot directories, oldest first. Temporary and foreign entries are
    /// ignored; a missing store is empty. For a remote store: the store is listed (every
    /// page) and the cache brought up to date, downloading manifests only.
    pub fn list(&self) -> Result<Vec<PathBuf>, SnapshotError> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            let names = remote.refresh()?;
            return Ok(names.iter().map(|name| self.root.join(name)).collect());
        }
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error("read store", &self.root)(error)),
        };
        let mut snapshots = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("read store", &self.root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if is_snapshot_name(&name) && path.join(MANIFEST_FILE).is_file() {
                snapshots.push(path);
            }
        }
        snapshots.sort();
        Ok(snapshots)
    }

    /// Opens a snapshot [`list`](Self::list) gave, with all its files: for a remote store,
    /// the files the cache lacks are downloaded first (the manifest last). Any other
    /// directory is opened as it is.
    pub fn open(&self, dir: &Path) -> Result<Snapshot, SnapshotError> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote
            && let Some(name) = self.name_in_store(dir)
        {
            remote.fetch(&name)?;
        }
        Snapshot::open(dir)
    }

    /// The name of `dir` when it is a snapshot of this store (a child of its root).
    #[cfg(feature = "object-store")]
    fn name_in_store(&self, dir: &Path) -> Option<String> {
        let name = dir.file_name()?.to_str()?;
        (dir.parent() == Some(self.root.as_path()) && is_snapshot_name(name))
            .then(|| name.to_owned())
    }

    /// Deletes the snapshot `dir` ([`list`](Self::list) gave it) without ever leaving a
    /// half-deleted one visible. Local: it is renamed to a `.tmp-` name, which readers skip,
    /// then removed. Remote: its manifest is deleted first, then its other objects, then the
    /// cached copy.
    pub fn remove(&self, dir: &Path) -> Result<(), SnapshotError> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote
            && let Some(name) = self.name_in_store(dir)
        {
            return remote.remove(&name);
        }
        let name = dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let aside = parent.join(format!(".tmp-prune-{name}-{}", std::process::id()));
        fs::rename(dir, &aside).map_err(io_error("move aside to delete", dir))?;
        fs::remove_dir_all(&aside).map_err(io_error(
            "remove (it was moved aside and is no longer a snapshot; delete it)",
            &aside,
        ))
    }

    /// Publishes the snapshots a failed upload left in a remote store's outbox, oldest
    /// first; returns their directories in the cache. Nothing for a local store.
    pub fn publish_pending(&self) -> Result<Vec<PathBuf>, SnapshotError> {
        #[cfg(feature = "object-store")]
        if let Some(remote) = &self.remote {
            let mut published = Vec::new();
            for name in remote.pending()? {
                published.push(remote.publish(&name)?);
            }
            return Ok(published);
        }
        Ok(Vec::new())
    }

    /// The most recent committed snapshot, if any, with its files.
    pub fn latest(&self) -> Result<Option<Snapshot>, SnapshotError> {
        match self.list()?.last() {
            Some(dir) => self.open(dir).map(Some),
            None => Ok(None),
        }
    }
}

/// Whether `name` has the shape of [`NAME_FORMAT`] (`20261122T031500Z`).
fn is_snapshot_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() == 16
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'T'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'Z'
}

#[cfg(test)]
mod tests;
