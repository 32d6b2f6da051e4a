//! Log exports read from object storage: a Cloud Logging sink's Cloud Storage bucket
//! (`gs://bucket/prefix`, read for `--gcp-audit-logs`) and a diagnostic setting's Blob Storage
//! container (`https://account.blob.core.windows.net/insights-activity-logs/prefix` or
//! `az://container/prefix`, read for `--azure-activity-logs`).
//!
//! Listed one folder level at a time (`delimiter=/`): a [`Layout`] says which sub-folders of a
//! listed folder can hold records of the window, by the same rule the cloud's local walk prunes
//! by (`gcp::audit_log::walk`, `azure::activity_log::walk`), so a date folder outside the window
//! is never listed. The log files found are downloaded in batches of [`BATCH_FILES`] (streamed
//! to disk, a bounded number at a time) into a private temporary directory that mirrors the
//! layout, and each batch is handed to the cloud's reader while the next one downloads; a
//! batch's files are deleted once read, so the disk holds at most two batches whatever the
//! window, and the directory is deleted at the end. An incremental read
//! leaves out the objects its read state holds, by their key under the prefix: the key a local
//! read of a copy of the same prefix records.
//!
//! The client comes from the snapshot store's builders
//! ([`crate::snapshot::object_store_with_signature`]): the same URLs and credentials, and an
//! Azure container URL's shared access signature, which is never shown.

use crate::model::TimeWindow;

/// What a [`Layout`] makes of one listed folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// The sub-folders (names) to list next.
    pub open: Vec<String>,
    /// Sub-folders left unlisted because they cannot hold records of the window.
    pub pruned: u64,
    /// Whether the log files directly in the folder are read.
    pub read_files: bool,
}

/// How one cloud's export is laid out in object storage.
pub trait Layout {
    /// What the export is called in messages (`Cloud Audit Logs`).
    const LOGS: &'static str;
    /// The permissions a listing and a download need, as advice in an error.
    const PERMISSIONS: &'static str;
    /// Whether a URL of this `scheme` and `host` can hold this export.
    fn accepts(scheme: &str, host: &str) -> bool;
    /// Of the sub-folders `children` (names) of `folder` (the path under the listed prefix,
    /// `/`-separated, empty at the top), those that can hold records of `window`.
    fn choose(folder: &str, children: Vec<String>, window: &TimeWindow) -> Choice;
    /// Whether an object of this name (the last part of its key) is a log file.
    fn is_log_file(name: &str) -> bool {
        name.ends_with(".json") || name.ends_with(".json.gz")
    }
}

/// Whether a log path is an object-storage URL (`scheme://…`) rather than a local path.
/// `url` as it may be shown and stored: without its query string, which for Blob Storage can
/// hold a shared access signature (`?sv=…&sig=…`), a secret. `https://a.blob.core.windows.net/c?sig=x`
/// → `https://a.blob.core.windows.net/c?…`.
pub fn redacted(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_owned(),
    }
}

/// `text` with the query string of `secret_url` (a shared access signature) replaced by `…`
/// wherever it occurs: for messages from clients that name the URL they were given.
pub fn redact_in(text: &str, secret_url: &str) -> String {
    match secret_url.split_once('?') {
        Some((_, query)) if !query.is_empty() => text.replace(query, "…"),
        _ => text.to_owned(),
    }
}

/// `text` with the value of every `sig=` parameter (a shared access signature's signature)
/// replaced by `…`: the last guard on what is printed, for texts that may quote a URL as the
/// user wrote it (a configuration line, an error from a library).
pub fn redact_signatures(text: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` cut `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = lower[text.len() - rest.len()..].find("sig=") {
        let (before, after) = rest.split_at(at + "sig=".len());
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(c, '&' | '"' | '\'' | '`' | ')' | ']' | '>') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        if end > 0 {
            out.push('…');
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

pub fn is_url(path: &std::path::Path) -> bool {
    path.to_str()
        .and_then(crate::snapshot::location::url_scheme)
        .is_some()
}

/// Why an export in object storage cannot be read at all (one object failing never is).
#[derive(Debug, thiserror::Error)]
pub enum RemoteLogsError {
    #[error(
        "reading `{url}` needs object storage support, and this build has no `object-store` \
         feature; rebuild with `--features object-store` or pass a local copy"
    )]
    NotBuilt { url: String },
    #[error("`{url}` is not a location of {logs}: {reason}")]
    Url {
        url: String,
        logs: &'static str,
        reason: String,
    },
    #[error(
        "cannot list `{url}`: {reason}; check the URL, the network and the credentials \
         (the same environment as a snapshot store in object storage: docs/configuration.md), \
         and that they may {permissions}"
    )]
    List {
        url: String,
        reason: String,
        permissions: &'static str,
    },
    #[error(
        "no {logs} files (`.json`, `.json.gz`) under `{url}`; give the bucket or container \
         (and prefix) the export writes to"
    )]
    NoLogFiles { url: String, logs: &'static str },
    /// The object storage client could not be set up from the environment (a malformed
    /// credentials setting, say): the message is the client's, with what to check.
    #[error("cannot read {logs} from `{url}`: {reason}")]
    Client {
        url: String,
        logs: &'static str,
        reason: String,
    },
    #[error("cannot create a temporary directory for the downloaded logs: {0}")]
    TempDir(std::io::Error),
    #[error("cannot start the async runtime to read `{url}`: {reason}")]
    Runtime { url: String, reason: String },
}

impl RemoteLogsError {
    /// Whether the user's input is at fault (the URL, the build, the client settings, an
    /// export holding no log file: exit code 2) rather than the store, the network or the
    /// machine (a listing refused or unreachable, no temporary directory: exit code 3, as for
    /// `s3://` CloudTrail).
    pub fn is_input(&self) -> bool {
        match self {
            RemoteLogsError::NotBuilt { .. }
            | RemoteLogsError::Url { .. }
            | RemoteLogsError::NoLogFiles { .. }
            | RemoteLogsError::Client { .. } => true,
            RemoteLogsError::List { .. }
            | RemoteLogsError::TempDir(_)
            | RemoteLogsError::Runtime { .. } => false,
        }
    }
}

/// Files per batch: the disk holds at most two batches (the one read, the one downloading).
pub const BATCH_FILES: usize = 256;

/// What a listing found and how its download went (the files themselves went to the reader,
/// batch by batch).
#[derive(Debug, Default)]
pub struct Listed {
    /// Files downloaded whole and handed to the reader.
    pub files_downloaded: u64,
    /// Objects that could not be downloaded and folders that could not be listed (URL,
    /// reason): their records are missing from the result, and said so.
    pub skipped: Vec<(String, String)>,
    /// Log files of the window found, including those read before.
    pub files_listed: u64,
    /// Of those, the files left out because an incremental read has read them before.
    pub already_read: u64,
    /// Objects and folders listed (in the folders that were listed at all).
    pub objects_listed: u64,
    pub folders_listed: u64,
    /// Folders left unlisted because they cannot hold records of the window.
    pub folders_pruned: u64,
}

/// Counters of a listing and download, for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: std::sync::atomic::AtomicU64,
    pub files_done: std::sync::atomic::AtomicU64,
    pub bytes: std::sync::atomic::AtomicU64,
}

#[cfg(not(feature = "object-store"))]
pub fn read<L: Layout>(
    url: &str,
    _: &TimeWindow,
    _: impl Fn(&str) -> bool,
    _: impl FnOnce(&Listed),
    _: Option<std::sync::Arc<Progress>>,
    _: usize,
    _: impl FnMut(&[crate::model::LogFile]),
) -> Result<Listed, RemoteLogsError> {
    Err(RemoteLogsError::NotBuilt {
        url: url.to_owned(),
    })
}

#[cfg(feature = "object-store")]
pub use io::read;

#[cfg(feature = "object-store")]
mod io {
    use super::{Layout, Listed, Progress, RemoteLogsError};
    use crate::model::{LogFile, TimeWindow};
    use futures_util::StreamExt as _;
    use object_store::path::Path as ObjectPath;
    use object_store::{ObjectStore, ObjectStoreExt as _};
    use std::io::Write as _;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    /// How many folders are listed at once.
    const PARALLEL_LISTINGS: usize = 16;
    /// How many objects are downloaded at once.
    const PARALLEL_DOWNLOADS: usize = 16;

    /// Lists the export at `url` for `window` level by level (never a folder the layout
    /// leaves out), then downloads its log files but those `read_before` holds (by key under
    /// the prefix) into a private temporary directory, `batch_files` at a time, and hands each
    /// batch to `consume` while the next one downloads; a batch's files are deleted once
    /// consumed. `on_listed` hears of the listing before any download starts; `progress`
    /// counts the downloads.
    ///
    /// Errors: a URL that is not one of this export ([`RemoteLogsError::Url`]), the prefix
    /// itself not listable ([`RemoteLogsError::List`], naming the permissions), no log file
    /// at all under it ([`RemoteLogsError::NoLogFiles`]). A sub-folder that cannot be listed
    /// and an object that cannot be downloaded are listed in [`Listed::skipped`].
    pub fn read<L: Layout>(
        url: &str,
        window: &TimeWindow,
        read_before: impl Fn(&str) -> bool,
        on_listed: impl FnOnce(&Listed),
        progress: Option<Arc<Progress>>,
        batch_files: usize,
        mut consume: impl FnMut(&[LogFile]),
    ) -> Result<Listed, RemoteLogsError> {
        let secret_url = url.trim_end_matches('/');
        // Shown and stored without its query (a shared access signature is a secret).
        let shown = crate::remote_logs::redacted(secret_url);
        let url = shown.as_str();
        // Objects are named by the URL without its query: `https://…/container/y=2026/…`.
        let base = secret_url
            .split_once('?')
            .map_or(secret_url, |(base, _)| base);
        let bad = |reason: String| RemoteLogsError::Url {
            url: url.to_owned(),
            logs: L::LOGS,
            reason,
        };
        let parsed = url::Url::parse(secret_url).map_err(|error| bad(error.to_string()))?;
        let host = parsed.host_str().unwrap_or_default();
        if !L::accepts(parsed.scheme(), host) {
            return Err(bad(format!(
                "`{}://` does not name such a location",
                parsed.scheme()
            )));
        }
        let (objects, root) =
            crate::snapshot::object_store_with_signature(secret_url).map_err(|error| {
                let reason = crate::remote_logs::redact_in(&error.to_string(), secret_url);
                // `az://CONTAINER` names no account: object_store then says only that one is missing.
                if reason.contains("Account must be specified") {
                    bad(format!(
                        "{reason}: set `AZURE_STORAGE_ACCOUNT_NAME`, or write the URL as \
                     `https://ACCOUNT.blob.core.windows.net/CONTAINER`"
                    ))
                } else if matches!(error, crate::snapshot::SnapshotError::BadStoreUrl { .. }) {
                    bad(reason)
                } else {
                    RemoteLogsError::Client {
                        url: url.to_owned(),
                        logs: L::LOGS,
                        reason,
                    }
                }
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|error| RemoteLogsError::Runtime {
                url: url.to_owned(),
                reason: error.to_string(),
            })?;
        let listing = runtime.block_on(list::<L>(&objects, &root, base, window))?;
        let files_listed = listing.keys.len() as u64;
        let keys: Vec<String> = listing
            .keys
            .into_iter()
            .filter(|key| !read_before(key))
            .collect();
        let mut listed = Listed {
            files_downloaded: 0,
            skipped: listing.unlisted,
            files_listed,
            already_read: files_listed - keys.len() as u64,
            objects_listed: listing.objects,
            folders_listed: listing.folders,
            folders_pruned: listing.pruned,
        };
        if files_listed == 0 && listing.pruned == 0 && listed.skipped.is_empty() {
            return Err(RemoteLogsError::NoLogFiles {
                url: url.to_owned(),
                logs: L::LOGS,
            });
        }
        on_listed(&listed);
        if let Some(progress) = &progress {
            progress
                .files_total
                .store(keys.len() as u64, Ordering::Relaxed);
        }
        let dir = tempfile::Builder::new()
            .prefix("pipeleash-logs-")
            .tempdir()
            .map_err(RemoteLogsError::TempDir)?;
        let local_root = dir.path().to_path_buf();
        let mut batches = keys
            .chunks(batch_files.max(1))
            .map(<[String]>::to_vec)
            .collect::<Vec<_>>()
            .into_iter();
        let start = |batch: Vec<String>| {
            let (objects, root) = (objects.clone(), root.clone());
            let (local_root, progress) = (local_root.clone(), progress.clone());
            runtime.spawn(async move {
                download(&objects, &root, batch, &local_root, progress.as_deref()).await
            })
        };
        let mut pending = batches.next().map(start);
        while let Some(downloading) = pending.take() {
            let fetched = runtime
                .block_on(downloading)
                .map_err(|error| RemoteLogsError::List {
                    url: url.to_owned(),
                    reason: format!("the download stopped: {error}"),
                    permissions: L::PERMISSIONS,
                })?;
            pending = batches.next().map(start);
            let mut files = Vec::new();
            for (key, local, result) in fetched {
                let display = format!("{base}/{key}");
                match result {
                    Ok(()) => files.push(LogFile {
                        local,
                        key,
                        display,
                    }),
                    Err(reason) => listed
                        .skipped
                        .push((display, crate::remote_logs::redact_in(&reason, secret_url))),
                }
            }
            listed.files_downloaded += files.len() as u64;
            consume(&files);
            for file in &files {
                // Best effort: the directory goes away at the end in any case.
                let _ = std::fs::remove_file(&file.local);
            }
        }
        listed.skipped.sort();
        Ok(listed)
    }

    /// What the listing found.
    struct Listing {
        /// Keys (under the prefix) of the log files that can hold records of the window.
        keys: Vec<String>,
        /// Folders that could not be listed (URL, reason).
        unlisted: Vec<(String, String)>,
        objects: u64,
        folders: u64,
        pruned: u64,
    }

    /// `path` under `root`, `/`-separated (empty for `root` itself).
    fn relative(root: &ObjectPath, path: &ObjectPath) -> String {
        path.prefix_match(root)
            .map(|parts| {
                parts
                    .map(|part| part.as_ref().to_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_else(|| path.as_ref().to_owned())
    }

    async fn list<L: Layout>(
        objects: &Arc<dyn ObjectStore>,
        root: &ObjectPath,
        url: &str,
        window: &TimeWindow,
    ) -> Result<Listing, RemoteLogsError> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL_LISTINGS));
        let mut tasks = tokio::task::JoinSet::new();
        let spawn = |tasks: &mut tokio::task::JoinSet<_>, folder: ObjectPath| {
            let objects = objects.clone();
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                let prefix = (!folder.as_ref().is_empty()).then_some(&folder);
                let result = objects.list_with_delimiter(prefix).await;
                (folder, result)
            });
        };
        spawn(&mut tasks, root.clone());
        let mut listing = Listing {
            keys: Vec::new(),
            unlisted: Vec::new(),
            objects: 0,
            folders: 0,
            pruned: 0,
        };
        let list_error = |reason: String| RemoteLogsError::List {
            url: url.to_owned(),
            reason,
            permissions: L::PERMISSIONS,
        };
        while let Some(joined) = tasks.join_next().await {
            let (folder, result) = joined.map_err(|error| list_error(error.to_string()))?;
            let at = relative(root, &folder);
            let found = match result {
                Ok(found) => found,
                // The prefix itself must be listable: a wrong bucket or a missing permission.
                Err(error) if at.is_empty() => return Err(list_error(error.to_string())),
                Err(error) => {
                    listing.unlisted.push((
                        format!("{url}/{at}/"),
                        format!("cannot list the folder: {error}"),
                    ));
                    continue;
                }
            };
            listing.folders += 1;
            listing.objects += found.objects.len() as u64;
            let children: Vec<String> = found
                .common_prefixes
                .iter()
                .filter_map(|prefix| prefix.filename().map(str::to_owned))
                .collect();
            let choice = L::choose(&at, children, window);
            listing.pruned += choice.pruned;
            if choice.read_files {
                listing.keys.extend(
                    found
                        .objects
                        .iter()
                        .filter(|meta| meta.location.filename().is_some_and(L::is_log_file))
                        .map(|meta| relative(root, &meta.location)),
                );
            }
            for name in choice.open {
                spawn(&mut tasks, folder.clone().join(name));
            }
        }
        listing.keys.sort();
        listing.unlisted.sort();
        Ok(listing)
    }

    /// Downloads the objects of `keys` (under `root`) to the same paths under `local_root`, a
    /// bounded number at a time: (key, local path, outcome) per object.
    async fn download(
        objects: &Arc<dyn ObjectStore>,
        root: &ObjectPath,
        keys: Vec<String>,
        local_root: &Path,
        progress: Option<&Progress>,
    ) -> Vec<(String, PathBuf, Result<(), String>)> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DOWNLOADS));
        let mut tasks = tokio::task::JoinSet::new();
        let mut pending = std::collections::HashMap::new();
        for key in keys {
            let local = key
                .split('/')
                .fold(local_root.to_path_buf(), |path, part| path.join(part));
            let location = key
                .split('/')
                .fold(root.clone(), |path, part| path.join(part));
            let objects = objects.clone();
            let semaphore = semaphore.clone();
            let target = local.clone();
            let task = tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                fetch_one(&objects, &location, &target).await
            });
            pending.insert(task.id(), (key, local));
        }
        let mut fetched = Vec::new();
        while let Some(joined) = tasks.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, result),
                Err(error) => (
                    error.id(),
                    Err((format!("the download task failed: {error}"), 0)),
                ),
            };
            if let Some((key, local)) = pending.remove(&id) {
                if let Some(progress) = progress {
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                    if let Ok(bytes) = &result {
                        progress.bytes.fetch_add(*bytes, Ordering::Relaxed);
                    }
                }
                fetched.push((key, local, result.map(|_| ()).map_err(|(reason, _)| reason)));
            }
        }
        fetched.sort_by(|a, b| a.0.cmp(&b.0));
        fetched
    }

    /// Streams one object to `target` (its folders created); a partial file is removed.
    async fn fetch_one(
        objects: &Arc<dyn ObjectStore>,
        location: &ObjectPath,
        target: &Path,
    ) -> Result<u64, (String, u64)> {
        let fail = |reason: String| (reason, 0);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| fail(format!("cannot create the download folder: {error}")))?;
        }
        let result = async {
            let got = objects
                .get(location)
                .await
                .map_err(|error| format!("cannot download: {error}"))?;
            let mut file = std::fs::File::create(target)
                .map_err(|error| format!("cannot write the downloaded file: {error}"))?;
            let mut stream = got.into_stream();
            let mut written = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|error| format!("download cut off: {error}"))?;
                file.write_all(&chunk)
                    .map_err(|error| format!("cannot write the downloaded file: {error}"))?;
                written += chunk.len() as u64;
            }
            file.flush()
                .map_err(|error| format!("cannot write the downloaded file: {error}"))?;
            Ok::<u64, String>(written)
        }
        .await;
        match result {
            Ok(written) => Ok(written),
            Err(reason) => {
                // Best effort: the directory goes away at the end in any case.
                let _ = std::fs::remove_file(target);
                Err(fail(reason))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shared_access_signature_is_never_shown() {
        assert_eq!(
            super::redacted("https://acct.blob.core.windows.net/c/p?sv=2020&sig=SECRET"),
            "https://acct.blob.core.windows.net/c/p?…"
        );
        assert_eq!(super::redacted("gs://bucket/prefix"), "gs://bucket/prefix");
    }

    #[test]
    fn every_signature_in_a_text_is_replaced() {
        let text = "line 3: `activity_logs = \"https://a.blob.core.windows.net/c?sv=1&sig=AbC%2B==&sp=rl\" junk` and SIG=xyz'";
        let shown = super::redact_signatures(text);
        assert!(!shown.contains("AbC") && !shown.contains("xyz"), "{shown}");
        assert!(
            shown.contains("sig=…&sp=rl") && shown.contains("SIG=…'"),
            "{shown}"
        );
        assert_eq!(super::redact_signatures("no signature"), "no signature");
        assert_eq!(super::redact_signatures("sig="), "sig=");
    }

    #[test]
    fn a_client_message_naming_the_url_loses_its_signature() {
        let url = "https://acct.blob.core.windows.net/c?sv=2020&sig=SECRET";
        let message = format!("cannot configure the client of store `{url}`: no account");
        let shown = super::redact_in(&message, url);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("https://acct.blob.core.windows.net/c?…"),
            "{shown}"
        );
        assert_eq!(super::redact_in("as is", "gs://bucket/p"), "as is");
    }
}
