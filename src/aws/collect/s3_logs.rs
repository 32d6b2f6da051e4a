//! CloudTrail log files from an S3 bucket (`s3://bucket/prefix`): listed folder by folder so
//! that date folders outside the window are never listed, downloaded in batches into a
//! private temporary directory, and read batch by batch while the next batch downloads. The
//! files of a batch are deleted once read, so neither memory nor disk grows with the size of
//! the trail; the aggregation carries across batches, so a session issued in one batch and
//! used in another is still linked to its CI workload.

use crate::aws::cloudtrail::{
    CloudTrailUsage, IngestError, IngestOptions, Ingestion, LogFile, TimeWindow,
    folder_may_hold_events, key_may_hold_events,
};
use crate::model::SkippedSource;
use aws_config::SdkConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// How many objects are downloaded at once.
const PARALLEL_DOWNLOADS: usize = 16;
/// How many folders are listed at once.
const PARALLEL_LISTINGS: usize = 16;
/// Files per batch: the disk holds at most two batches (the one read, the one downloading).
pub const BATCH_FILES: usize = 256;

/// `s3://bucket/prefix`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket` or `s3://bucket/prefix/…`.
    pub fn parse(uri: &str) -> Result<S3Location, S3LogsError> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| S3LogsError::Uri(uri.to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(S3LogsError::Uri(uri.to_string()));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Why the logs could not be listed at all (a single object failing is not an error).
#[derive(Debug, thiserror::Error)]
pub enum S3LogsError {
    #[error("`{0}` is not an S3 location; write it as `s3://bucket/prefix`")]
    Uri(String),
    #[error(
        "cannot list `s3://{bucket}/{prefix}`: {reason}; check the bucket name and that the credentials may `s3:ListBucket` it"
    )]
    List {
        bucket: String,
        prefix: String,
        reason: String,
    },
    #[error("cannot create a temporary directory for the downloaded logs: {0}")]
    TempDir(std::io::Error),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// The log files a listing found in the window.
#[derive(Debug, Default)]
pub struct S3Listing {
    /// Keys of the log files whose date folders overlap the window, sorted.
    pub keys: Vec<String>,
    /// Objects listed (in the folders that were listed at all).
    pub objects_listed: usize,
    /// Folders listed; date folders outside the window are not.
    pub folders_listed: usize,
    /// Folders below the prefix that could not be listed (`s3://` URI, reason): their files
    /// are missing from the result, and said so.
    pub unlisted: Vec<(String, String)>,
    /// Log files of the window left out because an incremental read has read them before.
    pub already_read: usize,
}

/// An S3 client for the logs; local servers and most S3-compatible stores want path-style
/// addressing.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Lists the log files under `location` that can hold events of `window`, one folder level
/// at a time (`delimiter=/`), never descending into a date folder outside the window.
pub async fn list_logs(
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    window: &TimeWindow,
) -> Result<S3Listing, S3LogsError> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL_LISTINGS));
    let mut tasks = tokio::task::JoinSet::new();
    let spawn = |tasks: &mut tokio::task::JoinSet<_>, prefix: String| {
        let client = client.clone();
        let bucket = location.bucket.clone();
        let semaphore = semaphore.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = list_folder(&client, &bucket, &prefix).await;
            (prefix, result)
        });
    };
    spawn(&mut tasks, location.prefix.clone());
    let mut listing = S3Listing::default();
    while let Some(joined) = tasks.join_next().await {
        let (prefix, result) = joined.map_err(|error| S3LogsError::List {
            bucket: location.bucket.clone(),
            prefix: location.prefix.clone(),
            reason: error.to_string(),
        })?;
        let folder = match result {
            Ok(folder) => folder,
            // The prefix itself must be listable: a wrong bucket or missing permission.
            Err(reason) if prefix == location.prefix => {
                return Err(S3LogsError::List {
                    bucket: location.bucket.clone(),
                    prefix,
                    reason,
                });
            }
            Err(reason) => {
                listing.unlisted.push((location.uri(&prefix), reason));
                continue;
            }
        };
        listing.folders_listed += 1;
        listing.objects_listed += folder.keys.len();
        listing.keys.extend(
            folder
                .keys
                .into_iter()
                .filter(|key| key_may_hold_events(key, window)),
        );
        for child in folder.folders {
            if folder_may_hold_events(&child, window) {
                spawn(&mut tasks, child);
            }
        }
    }
    listing.keys.sort();
    listing.unlisted.sort();
    Ok(listing)
}

/// One folder level: the objects directly in it and the folders below it.
struct Folder {
    keys: Vec<String>,
    folders: Vec<String>,
}

async fn list_folder(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Folder, String> {
    let mut folder = Folder {
        keys: Vec::new(),
        folders: Vec::new(),
    };
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| super::sdk_error::describe(&error).reason)?;
        folder.keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key().map(str::to_owned)),
        );
        folder.folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|common| common.prefix().map(str::to_owned)),
        );
    }
    Ok(folder)
}

/// Lists, downloads and reads the logs under `location` within the window, batch by batch:
/// the next batch downloads while this one is read, and each batch's files are deleted once
/// read. `on_listed` hears of the listing before any download starts. Objects that fail to
/// download are listed as skipped under their `s3://` URI, as are files that cannot be read.
pub fn ingest_s3(
    runtime: &tokio::runtime::Runtime,
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    options: IngestOptions<'_>,
    batch_files: usize,
    on_listed: impl FnOnce(&S3Listing),
) -> Result<CloudTrailUsage, S3LogsError> {
    let ingestion = Ingestion::new(options)?;
    let ingestion = read_s3(runtime, client, location, ingestion, batch_files, on_listed)?;
    Ok(ingestion.finish())
}

/// [`ingest_s3`] into a given ingestion (an incremental one made by [`Ingestion::resume`]
/// leaves out the objects it has read before, by key), which the caller finishes.
pub fn read_s3<'a>(
    runtime: &tokio::runtime::Runtime,
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    mut ingestion: Ingestion<'a>,
    batch_files: usize,
    on_listed: impl FnOnce(&S3Listing),
) -> Result<Ingestion<'a>, S3LogsError> {
    let window = ingestion.window();
    let progress = ingestion.progress();
    let mut listing = runtime.block_on(list_logs(client, location, &window))?;
    let listed = listing.keys.len();
    listing.keys.retain(|key| !ingestion.already_read(key));
    listing.already_read = listed - listing.keys.len();
    on_listed(&listing);
    if let Some(progress) = progress {
        progress
            .files_total
            .store(listing.keys.len() as u64, Ordering::Relaxed);
    }
    for (folder, reason) in listing.unlisted {
        ingestion.skip(SkippedSource::new(
            folder,
            format!("cannot list the folder: {reason}"),
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix("pipeleash-cloudtrail-")
        .tempdir()
        .map_err(S3LogsError::TempDir)?;
    let mut batches = listing
        .keys
        .into_iter()
        .enumerate()
        .map(|(index, key)| {
            // A flat, collision-free local name that keeps the extension the reader sniffs.
            let extension = if key.ends_with(".json.gz") {
                "json.gz"
            } else {
                "json"
            };
            let local = dir.path().join(format!("{index:08}.{extension}"));
            (key, local)
        })
        .collect::<Vec<_>>()
        .chunks(batch_files.max(1))
        .map(<[_]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    let start = |batch: Vec<(String, PathBuf)>| {
        let client = client.clone();
        let bucket = location.bucket.clone();
        runtime.spawn(download_batch(client, bucket, batch))
    };
    let mut pending = batches.next().map(start);
    while let Some(download) = pending.take() {
        let fetched = runtime
            .block_on(download)
            .map_err(|error| S3LogsError::List {
                bucket: location.bucket.clone(),
                prefix: location.prefix.clone(),
                reason: format!("the download stopped: {error}"),
            })?;
        pending = batches.next().map(start);
        let mut files = Vec::new();
        for (key, local, result) in fetched {
            match result {
                // Skipped files are named by their S3 URI, not by the temporary copy.
                Ok(()) => files.push(LogFile {
                    local,
                    display: location.uri(&key),
                    key,
                }),
                Err(reason) => {
                    ingestion.skip(SkippedSource::new(location.uri(&key), reason));
                    if let Some(progress) = progress {
                        progress.files_done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        ingestion.read_files(&files);
        for file in &files {
            // Best effort: the directory goes away at the end in any case.
            let _ = std::fs::remove_file(&file.local);
        }
    }
    Ok(ingestion)
}

/// Downloads one batch, a bounded number at a time: (key, local path, outcome) per object.
async fn download_batch(
    client: aws_sdk_s3::Client,
    bucket: String,
    batch: Vec<(String, PathBuf)>,
) -> Vec<(String, PathBuf, Result<(), String>)> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DOWNLOADS));
    let mut tasks = tokio::task::JoinSet::new();
    let mut objects = std::collections::HashMap::new();
    for (key, local) in batch {
        let client = client.clone();
        let bucket = bucket.clone();
        let semaphore = semaphore.clone();
        let (task_key, task_local) = (key.clone(), local.clone());
        let task = tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            fetch(&client, &bucket, &task_key, &task_local).await
        });
        objects.insert(task.id(), (key, local));
    }
    let mut fetched = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        // A download task cannot panic short of a bug; its object is then missing, and the
        // result says so rather than stopping.
        let (id, result) = match joined {
            Ok((id, result)) => (id, result),
            Err(error) => (
                error.id(),
                Err(format!("the download task failed: {error}")),
            ),
        };
        if let Some((key, local)) = objects.remove(&id) {
            fetched.push((key, local, result));
        }
    }
    fetched.sort_by(|a, b| a.1.cmp(&b.1));
    fetched
}

async fn fetch(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    local: &Path,
) -> Result<(), String> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|error| {
            format!(
                "cannot download: {}",
                super::sdk_error::describe(&error).reason
            )
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|error| format!("download cut off: {error}"))?
        .into_bytes();
    tokio::fs::write(local, &bytes)
        .await
        .map_err(|error| format!("cannot write the downloaded file: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse_into_bucket_and_prefix() {
        assert_eq!(
            S3Location::parse("s3://trail-bucket/org/AWSLogs").unwrap(),
            S3Location {
                bucket: "trail-bucket".into(),
                prefix: "org/AWSLogs".into()
            }
        );
        assert_eq!(S3Location::parse("s3://b").unwrap().prefix, "");
        assert!(S3Location::parse("s3:///x").is_err());
        assert!(S3Location::parse("/local/dir").is_err());
    }
}
