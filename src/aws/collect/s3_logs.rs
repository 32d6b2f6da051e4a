//! CloudTrail log files from an S3 bucket (`s3://bucket/prefix`): listed, pruned by their
//! date folders, and downloaded into a private temporary directory, from which the ordinary
//! file reader ingests them. Downloading to disk keeps memory bounded whatever the size of
//! the trail; the directory is removed when the result is dropped.

use crate::aws::cloudtrail::{TimeWindow, key_may_hold_events};
use aws_config::SdkConfig;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How many objects are downloaded at once.
const PARALLEL_DOWNLOADS: usize = 16;

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
}

/// Downloaded log files, in a directory removed on drop.
#[derive(Debug)]
pub struct DownloadedLogs {
    pub dir: tempfile::TempDir,
    /// The local files, sorted.
    pub files: Vec<PathBuf>,
    /// Local file → the `s3://` URI it came from, to name it in reports.
    pub sources: BTreeMap<PathBuf, String>,
    /// Objects that could not be downloaded, with the reason.
    pub failed: Vec<(String, String)>,
    /// Objects listed under the prefix, before date pruning.
    pub listed: usize,
}

/// Lists the log files under `location` that can hold events of `window`, and downloads them.
pub async fn download_logs(
    config: &SdkConfig,
    location: &S3Location,
    window: &TimeWindow,
) -> Result<DownloadedLogs, S3LogsError> {
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            // Local servers and most S3-compatible stores want path-style addressing.
            .force_path_style(true)
            .build(),
    );
    let mut keys = Vec::new();
    let mut listed = 0;
    let mut pages = client
        .list_objects_v2()
        .bucket(&location.bucket)
        .prefix(&location.prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| S3LogsError::List {
            bucket: location.bucket.clone(),
            prefix: location.prefix.clone(),
            reason: super::sdk_error::describe(&error).reason,
        })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            listed += 1;
            if key_may_hold_events(key, window) {
                keys.push(key.to_string());
            }
        }
    }
    keys.sort();
    let dir = tempfile::Builder::new()
        .prefix("pipeleash-cloudtrail-")
        .tempdir()
        .map_err(S3LogsError::TempDir)?;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DOWNLOADS));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, key) in keys.iter().enumerate() {
        let client = client.clone();
        let bucket = location.bucket.clone();
        let key = key.clone();
        // A flat, collision-free local name that keeps the extension the reader sniffs.
        let extension = if key.ends_with(".json.gz") {
            "json.gz"
        } else {
            "json"
        };
        let local = dir.path().join(format!("{index:08}.{extension}"));
        let semaphore = semaphore.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = fetch(&client, &bucket, &key, &local).await;
            (key, local, result)
        });
    }
    let mut files = Vec::new();
    let mut sources = BTreeMap::new();
    let mut failed = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((key, local, Ok(()))) => {
                sources.insert(local.clone(), location.uri(&key));
                files.push(local);
            }
            Ok((key, _, Err(reason))) => failed.push((location.uri(&key), reason)),
            Err(error) => failed.push((format!("s3://{}", location.bucket), error.to_string())),
        }
    }
    files.sort();
    failed.sort();
    Ok(DownloadedLogs {
        dir,
        files,
        sources,
        failed,
        listed,
    })
}

async fn fetch(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    local: &std::path::Path,
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
