//! `manifest.json`: what a snapshot contains and how complete it is.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The version of the manifest format. Bump on any incompatible change.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// The table of contents of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The pipeleash version that wrote the snapshot.
    pub tool_version: String,
    /// Every data file of the snapshot.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// What the snapshot could not see, in words (SCPs unreadable, one account failed, …).
    #[serde(default)]
    pub coverage: Vec<String>,
    /// Failures that left something out of the snapshot.
    #[serde(default)]
    pub errors: Vec<ManifestIssue>,
}

/// One data file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Source {
    /// `aws`, `gcp`, `azure`.
    pub provider: String,
    /// `account-inventory`, …
    pub kind: String,
    /// The account, project or subscription it covers.
    pub id: String,
    /// Relative to the snapshot directory, with `/` separators.
    pub path: String,
    /// The format version of that file.
    pub format_version: u32,
}

/// A failure recorded at the snapshot level (a whole account missing, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestIssue {
    pub provider: String,
    /// What was being collected: an account id, or the role that could not be assumed.
    pub target: String,
    pub reason: String,
}

/// Manifest source kinds of the usage files (`usage/`): the summary, the allowed rows and the
/// denied rows. Known here, without the Parquet reader, so any build can tell that a snapshot
/// holds usage.
pub(crate) const USAGE_KINDS: [&str; 3] = [
    "cloudtrail-usage",
    "cloudtrail-usage-allowed",
    "cloudtrail-usage-denied",
];

impl Manifest {
    /// Whether the snapshot lists usage (then it can take no more).
    pub fn lists_usage(&self) -> bool {
        self.sources
            .iter()
            .any(|source| source.provider == "aws" && USAGE_KINDS.contains(&source.kind.as_str()))
    }

    /// An empty manifest stamped with `created_at` and this build's version.
    pub fn new(created_at: DateTime<Utc>) -> Self {
        Self {
            format_version: MANIFEST_FORMAT_VERSION,
            created_at: created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            sources: Vec::new(),
            coverage: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Sorts the lists so the file does not depend on collection order.
    pub fn sort(&mut self) {
        self.sources.sort();
        self.coverage.sort();
        self.coverage.dedup();
        self.errors.sort();
    }
}
