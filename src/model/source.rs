//! The two seams at the I/O edge, one implementation per cloud: a [`UsageSource`] reads audit
//! logs into neutral [`Usage`] with its [`Coverage`]; a [`Collector`] reads a cloud's
//! inventory into its raw records (which the cloud's `normalize` turns into an
//! [`super::Inventory`]). Everything after them is pure: the traits are where files, clocks
//! and networks stop.

use super::Provider;
use super::usage::{Coverage, Usage};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// What a log source read: aggregated usage, and what the logs could and could not show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedUsage {
    pub usage: Usage,
    pub coverage: Coverage,
}

/// A reader of one cloud's audit logs (AWS CloudTrail files or `LookupEvents`, GCP Cloud
/// Audit Logs, Azure Activity and sign-in logs).
pub trait UsageSource {
    /// Why the source cannot be read at all (a missing root, refused credentials). A single
    /// unreadable file or record is not an error: it is listed in
    /// [`Coverage::sources_skipped`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// The cloud whose logs these are.
    fn provider(&self) -> Provider;

    /// What is read, as the user named it (a folder, `s3://bucket/prefix`), for messages.
    fn describe(&self) -> String;

    /// Reads the records whose time is in `[since, until)` (a `None` side is open) into
    /// usage per identity × permission × resource.
    fn read(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ObservedUsage, Self::Error>;
}

/// A reader of one cloud's inventory: identities, their grants and trusts, as the cloud's
/// APIs give them. Read-only by contract: a collector never changes cloud state.
pub trait Collector {
    /// One target's result (an AWS account, a GCP project, an Azure subscription): its raw
    /// records, or why they could not be read. Targets fail independently.
    type Outcome;

    /// The cloud collected.
    fn provider(&self) -> Provider;

    /// Collects every target, stamping each record with `collected_at` (RFC 3339), so that
    /// the records of one run share one time and tests can fix it.
    fn collect(&self, collected_at: &str) -> Vec<Self::Outcome>;
}

/// One log file to read: where its bytes are now, and how the source names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The local file (the file itself, or a downloaded copy).
    pub local: PathBuf,
    /// Its path relative to the source root (`AWSLogs/…/2026/11/05/x.json.gz`,
    /// `cloudaudit.googleapis.com/activity/2026/11/05/…`) or its object
    /// key: what an incremental read remembers it by and takes its date folder from.
    pub key: String,
    /// How a skipped file is reported: its path or object URI (`s3://…`).
    pub display: String,
}

impl LogFile {
    /// A local file under `root`.
    pub fn under(root: &Path, local: PathBuf) -> LogFile {
        let key = local
            .strip_prefix(root)
            .unwrap_or(&local)
            .to_string_lossy()
            .replace('\\', "/");
        LogFile {
            display: local.display().to_string(),
            local,
            key,
        }
    }
}
