//! A store in object storage (S3, Google Cloud Storage, Azure Blob Storage), worked through a
//! local cache directory with the `object_store` crate.
//!
//! Layout: the snapshot `<name>` is the objects `<prefix>/<name>/…`; it is visible when (and
//! only when) `<prefix>/<name>/manifest.json` exists. Writers upload every other file first
//! and the manifest last; `prune` deletes the manifest first. Snapshots never change once
//! published, except that an amendment (usage added) replaces the manifest after uploading
//! its new files, so the cache keeps each manifest's size and entity tag and downloads it
//! again when the store's differ.
//!
//! The cache directory (`<cache root>/<hash of the URL>`, see [`super::location`]) holds:
//! - `.pipeleash-store`: the store's URL (a cache directory serves one store only);
//! - `<name>/`: a snapshot, its manifest always, its other files once [`Remote::fetch`]ed;
//! - `.state/<name>.json`: size and entity tag of the manifest the cache holds;
//! - `.outbox/<name>/`: a snapshot committed here but not yet published (an upload failed);
//!   `snapshots publish` retries it.
//!
//! Every call runs on one current-thread tokio runtime owned by the store: the client's
//! connection pool lives on it.

use super::location::{CACHE_MARKER, cache_dir};
use super::{MANIFEST_FILE, SnapshotError, check_relative, io_error, is_snapshot_name};
use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ObjectMeta, ObjectStore, ObjectStoreExt as _, ObjectStoreScheme, RetryConfig,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The directory (inside the cache) of snapshots committed locally but not yet published.
const OUTBOX: &str = ".outbox";
/// The directory (inside the cache) of the manifests' sizes and entity tags.
const STATE: &str = ".state";

/// A remote store: its URL, client, key prefix and cache directory.
#[derive(Clone)]
pub(super) struct Remote {
    url: String,
    objects: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    cache: PathBuf,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.url)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// What the cache holds of one manifest: `.state/<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ManifestState {
    size: u64,
    e_tag: Option<String>,
}

impl From<&ObjectMeta> for ManifestState {
    fn from(meta: &ObjectMeta) -> Self {
        Self {
            size: meta.size,
            e_tag: meta.e_tag.clone(),
        }
    }
}

impl Remote {
    /// The client of the store `url` (already checked to be a URL), cached in
    /// `<cache_root>/<hash of url>`. Credentials come from each cloud's standard environment
    /// (the builders' `from_env`); no request is sent yet.
    pub(super) fn connect(url: &str, cache_root: &Path) -> Result<Self, SnapshotError> {
        Self::with_cache(url, cache_dir(cache_root, url))
    }

    /// As [`connect`](Self::connect), with the cache directory itself.
    pub(super) fn with_cache(url: &str, cache: PathBuf) -> Result<Self, SnapshotError> {
        let (objects, prefix) = object_store_for(url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| SnapshotError::Io {
                action: "start the async runtime for",
                path: PathBuf::from(url),
                source,
            })?;
        Ok(Self {
            url: url.to_owned(),
            objects,
            prefix,
            cache,
            runtime: Arc::new(runtime),
        })
    }

    pub(super) fn url(&self) -> &str {
        &self.url
    }

    pub(super) fn cache(&self) -> &Path {
        &self.cache
    }

    /// Where a snapshot is kept until it is published.
    pub(super) fn outbox(&self) -> PathBuf {
        self.cache.join(OUTBOX)
    }

    /// Runs one call of the client, naming the store in its error.
    fn run<T>(
        &self,
        action: &'static str,
        call: impl Future<Output = object_store::Result<T>>,
    ) -> Result<T, SnapshotError> {
        self.runtime
            .block_on(call)
            .map_err(|source| SnapshotError::Remote {
                store: self.url.clone(),
                action,
                source,
            })
    }

    /// The key of `relative` (`/`-separated) inside snapshot `name`.
    fn key(&self, name: &str, relative: &str) -> ObjectPath {
        relative
            .split('/')
            .fold(self.prefix.clone().join(name), |key, part| key.join(part))
    }

    /// Every object under `base` (all pages), as `/`-separated paths relative to it.
    fn list_under(&self, base: &ObjectPath) -> Result<Vec<(String, ObjectMeta)>, SnapshotError> {
        let prefix = (!base.as_ref().is_empty()).then_some(base);
        let listed: Vec<ObjectMeta> = self.run(
            "list the objects of",
            self.objects.list(prefix).try_collect(),
        )?;
        let mut out = Vec::new();
        for meta in listed {
            let Some(parts) = meta.location.prefix_match(base) else {
                continue;
            };
            let relative = parts
                .map(|part| part.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, meta));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Creates the cache directory, or checks that it serves this store.
    pub(super) fn prepare_cache(&self) -> Result<(), SnapshotError> {
        fs::create_dir_all(&self.cache).map_err(io_error("create directory", &self.cache))?;
        let marker = self.cache.join(CACHE_MARKER);
        match fs::read_to_string(&marker) {
            Ok(text) if text.trim_end() == self.url => Ok(()),
            Ok(text) => Err(SnapshotError::CacheOfAnotherStore {
                cache: self.cache.clone(),
                url: self.url.clone(),
                other: text.trim_end().to_owned(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                write_atomically(&marker, format!("{}\n", self.url).as_bytes())
            }
            Err(error) => Err(io_error("read", &marker)(error)),
        }
    }

    /// Checks that the store answers (one listing request), for commands that would
    /// otherwise find out only after minutes of work.
    pub(super) fn probe(&self) -> Result<(), SnapshotError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        self.run(
            "list the objects of",
            self.objects.list_with_delimiter(prefix),
        )?;
        Ok(())
    }

    /// Lists the store and brings the cache up to date: every published manifest present
    /// (downloaded when absent or changed), snapshots gone from the store dropped. Only
    /// manifests are downloaded. Returns the names of the store's snapshots.
    pub(super) fn refresh(&self) -> Result<Vec<String>, SnapshotError> {
        self.prepare_cache()?;
        let mut manifests: BTreeMap<String, ObjectMeta> = BTreeMap::new();
        for (relative, meta) in self.list_under(&self.prefix)? {
            if let Some((name, MANIFEST_FILE)) = relative.split_once('/')
                && is_snapshot_name(name)
            {
                manifests.insert(name.to_owned(), meta);
            }
        }
        for (name, meta) in &manifests {
            self.sync_manifest(name, meta)?;
        }
        // A cached snapshot whose manifest left the store was pruned: drop it.
        let state_dir = self.cache.join(STATE);
        let entries = fs::read_dir(&self.cache).map_err(io_error("read", &self.cache))?;
        for entry in entries {
            let entry = entry.map_err(io_error("read", &self.cache))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_snapshot_name(&name) && !manifests.contains_key(&name) {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_error("remove", &path))?;
                remove_if_present(&state_dir.join(format!("{name}.json")))?;
            }
        }
        Ok(manifests.into_keys().collect())
    }

    /// Makes the cache hold the manifest `meta` describes.
    fn sync_manifest(&self, name: &str, meta: &ObjectMeta) -> Result<(), SnapshotError> {
        let dir = self.cache.join(name);
        let path = dir.join(MANIFEST_FILE);
        let state_path = self.cache.join(STATE).join(format!("{name}.json"));
        let wanted = ManifestState::from(meta);
        let held: Option<ManifestState> = fs::read(&state_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let local_size = fs::metadata(&path).ok().map(|metadata| metadata.len());
        if held.as_ref() == Some(&wanted) && local_size == Some(meta.size) {
            return Ok(());
        }
        fs::create_dir_all(&dir).map_err(io_error("create directory", &dir))?;
        self.download(&meta.location, &path)?;
        self.write_state(name, &wanted)
    }

    fn write_state(&self, name: &str, state: &ManifestState) -> Result<(), SnapshotError> {
        let dir = self.cache.join(STATE);
        fs::create_dir_all(&dir).map_err(io_error("create directory", &dir))?;
        let bytes = serde_json::to_vec(state).map_err(|source| SnapshotError::Parse {
            path: dir.clone(),
            source,
        })?;
        write_atomically(&dir.join(format!("{name}.json")), &bytes)
    }

    fn read_state(&self, name: &str) -> Option<ManifestState> {
        let path = self.cache.join(STATE).join(format!("{name}.json"));
        fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }

    /// Downloads one object to `target`, replacing it in one step.
    fn download(&self, key: &ObjectPath, target: &Path) -> Result<(), SnapshotError> {
        let bytes = self.run("download an object of", async {
            self.objects.get(key).await?.bytes().await
        })?;
        write_atomically(target, &bytes)
    }

    /// Downloads the files of the store's snapshot `name` the cache lacks (or holds with
    /// another size), the manifest last.
    pub(super) fn fetch(&self, name: &str) -> Result<(), SnapshotError> {
        let dir = self.cache.join(name);
        let mut manifest = None;
        for (relative, meta) in self.list_under(&self.prefix.clone().join(name))? {
            if relative == MANIFEST_FILE {
                manifest = Some(meta);
                continue;
            }
            check_relative(Path::new(&relative))?;
            let target = dir.join(&relative);
            let present = fs::metadata(&target).ok().map(|metadata| metadata.len());
            if present != Some(meta.size) {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
                }
                self.download(&meta.location, &target)?;
            }
        }
        match manifest {
            Some(meta) => self.sync_manifest(name, &meta),
            None => Err(SnapshotError::Missing {
                path: PathBuf::from(format!("{}/{name}", self.url)),
            }),
        }
    }

    /// Fails when the store already holds snapshot `name`.
    pub(super) fn check_absent(&self, name: &str) -> Result<(), SnapshotError> {
        match self
            .runtime
            .block_on(self.objects.head(&self.key(name, MANIFEST_FILE)))
        {
            Ok(_) => Err(SnapshotError::AlreadyExists {
                path: PathBuf::from(format!("{}/{name}", self.url)),
            }),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(SnapshotError::Remote {
                store: self.url.clone(),
                action: "read",
                source,
            }),
        }
    }

    /// Uploads every file under `dir` but the manifest to snapshot `name`.
    fn upload_files(&self, dir: &Path, name: &str) -> Result<(), SnapshotError> {
        for relative in files_under(dir)? {
            if relative == MANIFEST_FILE {
                continue;
            }
            let path = dir.join(&relative);
            let bytes = fs::read(&path).map_err(io_error("read", &path))?;
            self.run(
                "upload to",
                self.objects.put(&self.key(name, &relative), bytes.into()),
            )?;
        }
        Ok(())
    }

    /// Uploads the manifest of `dir` (the commit point) and records it in the cache's state.
    fn upload_manifest(&self, dir: &Path, name: &str) -> Result<(), SnapshotError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = fs::read(&path).map_err(io_error("read", &path))?;
        let key = self.key(name, MANIFEST_FILE);
        self.run("upload to", self.objects.put(&key, bytes.into()))?;
        let meta = self.run("read", self.objects.head(&key))?;
        self.write_state(name, &ManifestState::from(&meta))
    }

    /// Publishes the snapshot committed in `<outbox>/<name>`: its files, then its manifest;
    /// then moves it into the cache. Returns its directory in the cache.
    pub(super) fn publish(&self, name: &str) -> Result<PathBuf, SnapshotError> {
        self.prepare_cache()?;
        let local = self.outbox().join(name);
        let publish = || -> Result<(), SnapshotError> {
            self.check_absent(name)?;
            self.upload_files(&local, name)?;
            self.upload_manifest(&local, name)
        };
        publish().map_err(|source| SnapshotError::NotPublished {
            store: self.url.clone(),
            local: local.clone(),
            source: Box::new(source),
        })?;
        let target = self.cache.join(name);
        if target.exists() {
            // A stale cache entry (the store now holds the snapshot just published).
            fs::remove_dir_all(&target).map_err(io_error("remove", &target))?;
        }
        fs::rename(&local, &target).map_err(io_error("move into the cache at", &target))?;
        Ok(target)
    }

    /// The snapshots waiting in the outbox, oldest first.
    pub(super) fn pending(&self) -> Result<Vec<String>, SnapshotError> {
        let outbox = self.outbox();
        let entries = match fs::read_dir(&outbox) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error("read", &outbox)(error)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error("read", &outbox))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_snapshot_name(&name) && entry.path().join(MANIFEST_FILE).is_file() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Publishes an amendment of the cached snapshot `name` before it is committed locally:
    /// the new entries of `staged` (every file but the manifest), then its manifest. Refuses
    /// when the store's manifest is not the one the cache holds (another run amended or
    /// pruned it meanwhile).
    pub(super) fn publish_amendment(&self, name: &str, staged: &Path) -> Result<(), SnapshotError> {
        let key = self.key(name, MANIFEST_FILE);
        let remote_path = PathBuf::from(format!("{}/{name}", self.url));
        let meta = match self.runtime.block_on(self.objects.head(&key)) {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(SnapshotError::Missing { path: remote_path });
            }
            Err(source) => {
                return Err(SnapshotError::Remote {
                    store: self.url.clone(),
                    action: "read",
                    source,
                });
            }
        };
        let held = self.read_state(name);
        if held
            .as_ref()
            .is_some_and(|held| *held != ManifestState::from(&meta))
        {
            return Err(SnapshotError::ChangedMeanwhile { path: remote_path });
        }
        self.upload_files(staged, name)?;
        self.upload_manifest(staged, name)
    }

    /// Deletes snapshot `name`: its manifest first (readers stop seeing it at once), then its
    /// other objects, then the cached copy.
    pub(super) fn remove(&self, name: &str) -> Result<(), SnapshotError> {
        match self
            .runtime
            .block_on(self.objects.delete(&self.key(name, MANIFEST_FILE)))
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(source) => {
                return Err(SnapshotError::Remote {
                    store: self.url.clone(),
                    action: "delete from",
                    source,
                });
            }
        }
        for (_, meta) in self.list_under(&self.prefix.clone().join(name))? {
            match self.runtime.block_on(self.objects.delete(&meta.location)) {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(source) => {
                    return Err(SnapshotError::Remote {
                        store: self.url.clone(),
                        action: "delete from",
                        source,
                    });
                }
            }
        }
        let dir = self.cache.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_error("remove", &dir))?;
        }
        remove_if_present(&self.cache.join(STATE).join(format!("{name}.json")))
    }
}

/// The `object_store` client of the object-storage URL `url` (S3, Google Cloud Storage or
/// Azure Blob Storage) and the key prefix the URL names. Credentials come from each cloud's
/// standard environment (the builders' `from_env`: `AWS_*`, `GOOGLE_*`, `AZURE_*`, listed in
/// docs/configuration.md); no request is sent yet. Shared by the snapshot store and the log
/// exports read from object storage ([`crate::remote_logs`]).
///
/// A query string is ignored here: a store's URL is shown and cached as given, so it must
/// hold no secret; [`object_store_with_signature`] is for the log exports, which keep the URL's
/// shared access signature out of every message.
///
/// Errors: [`SnapshotError::BadStoreUrl`] for a URL that names no supported store,
/// [`SnapshotError::Remote`] when the client cannot be configured (missing account…).
pub(crate) fn object_store_for(
    url: &str,
) -> Result<(Arc<dyn ObjectStore>, ObjectPath), SnapshotError> {
    build_object_store(url, false)
}

/// [`object_store_for`], with an Azure Blob Storage URL's query string taken as a shared
/// access signature (`?sv=…&sp=rl&sig=…`, as the portal's "Generate SAS" writes it) that
/// authorizes every request
/// (<https://learn.microsoft.com/rest/api/storageservices/create-service-sas>). The caller
/// must keep the query out of what it shows (see [`crate::remote_logs::redacted`]).
pub(crate) fn object_store_with_signature(
    url: &str,
) -> Result<(Arc<dyn ObjectStore>, ObjectPath), SnapshotError> {
    build_object_store(url, true)
}

fn build_object_store(
    url: &str,
    signature_in_url: bool,
) -> Result<(Arc<dyn ObjectStore>, ObjectPath), SnapshotError> {
    // reqwest is built without a default TLS provider; ring is the one pipeleash uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bad = |reason: String| SnapshotError::BadStoreUrl {
        url: url.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|error| bad(error.to_string()))?;
    let (scheme, prefix) =
        ObjectStoreScheme::parse(&parsed).map_err(|error| bad(error.to_string()))?;
    // A few quick retries: an unreachable store fails in seconds, not minutes.
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(60),
    };
    let configure = |source| SnapshotError::Remote {
        store: url.to_owned(),
        action: "configure the client of",
        source,
    };
    let objects: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .with_retry(retry)
                .build()
                .map_err(configure)?,
        ),
        ObjectStoreScheme::GoogleCloudStorage => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .with_retry(retry)
                .build()
                .map_err(configure)?,
        ),
        ObjectStoreScheme::MicrosoftAzure => {
            let mut builder = object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(url)
                .with_retry(retry);
            let signature: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            if signature_in_url && !signature.is_empty() {
                builder = builder.with_sas_authorization(signature);
            }
            Arc::new(builder.build().map_err(configure)?)
        }
        _ => {
            return Err(bad(
                "pipeleash keeps stores in Amazon S3 (`s3://`), Google Cloud Storage \
                 (`gs://`) or Azure Blob Storage (`az://`, `abfss://`)"
                    .to_owned(),
            ));
        }
    };
    Ok((objects, prefix))
}

/// The URL of the remote store whose cache directory is `cache`, if it is one.
pub(super) fn cached_store_url(cache: &Path) -> Option<String> {
    fs::read_to_string(cache.join(CACHE_MARKER))
        .ok()
        .map(|text| text.trim_end().to_owned())
        .filter(|url| !url.is_empty())
}

/// The files under `dir`, as sorted `/`-separated relative paths.
fn files_under(dir: &Path) -> Result<Vec<String>, SnapshotError> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), SnapshotError> {
        for entry in fs::read_dir(dir).map_err(io_error("read directory", dir))? {
            let entry = entry.map_err(io_error("read directory", dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let file_type = entry.file_type().map_err(io_error("read directory", dir))?;
            if file_type.is_dir() {
                walk(&entry.path(), &relative, out)?;
            } else {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// Writes `bytes` to a temporary file beside `target`, syncs it, and renames it into place.
fn write_atomically(target: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    use std::io::Write as _;
    let parent = target.parent().unwrap_or_else(|| Path::new("."));
    let file_name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".download-{file_name}-{}", std::process::id()));
    let mut file = fs::File::create(&temp).map_err(io_error("create", &temp))?;
    file.write_all(bytes).map_err(io_error("write", &temp))?;
    file.sync_all().map_err(io_error("sync", &temp))?;
    fs::rename(&temp, target).map_err(io_error("replace", target))
}

fn remove_if_present(path: &Path) -> Result<(), SnapshotError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("remove", path)(error)),
    }
}
