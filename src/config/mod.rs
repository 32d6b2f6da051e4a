//! `pipeleash.toml`: the scheduled audit's settings in one file (see `docs/configuration.md`).
//!
//! Parsing is strict: unknown keys are errors, and every error names the key and its line.
//! The file only supplies defaults: a flag given on the command line always wins. Pure: the
//! text comes in, a validated [`Config`] comes out; reading the file and the store is the
//! caller's.

use crate::matching::{Case, glob_match};
use crate::model::{Confidence, Evidence, Finding, Severity};
use chrono::NaiveDate;
use serde::Deserialize;
use std::ops::Range;
use std::path::PathBuf;
use toml::Spanned;

/// The store path when `[store] path` is not given.
pub const DEFAULT_STORE: &str = ".pipeleash/snapshots";

/// The check id of the finding an expired suppression becomes.
pub const EXPIRED_SUPPRESSION: &str = "expired-suppression";

/// The example `pipeleash init` writes: every key, commented. It passes validation (a test
/// checks it).
pub const EXAMPLE: &str = include_str!("example.toml");

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`: {source}; check the `--config` path")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, an unknown key, a value of the wrong type: toml's message names the
    /// line, column and key.
    #[error("`{path}`: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value that parses but is not valid.
    #[error("`{path}` line {line}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

/// A validated `pipeleash.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Where snapshots are kept: a directory, or an object-storage URL (`s3://bucket/prefix`,
    /// `gs://…`, `az://…`), as written.
    pub store: PathBuf,
    /// `[store] cache`: the root of remote stores' cache directories.
    pub cache: Option<PathBuf>,
    /// How many snapshots `snapshots prune` keeps; `None`: all.
    pub keep: Option<usize>,
    /// `--since` / `--until` of the observation window, as the flags take them.
    pub since: Option<String>,
    pub until: Option<String>,
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--format` of `audit`/`analyze`: `table`, `json` or `sarif`.
    pub format: Option<String>,
    /// Where the report is written instead of stdout.
    pub output: Option<PathBuf>,
    pub aws: Option<AwsConfig>,
    /// `[gcp] audit_logs`: `--gcp-audit-logs`.
    pub gcp_audit_logs: Option<String>,
    /// `[gcp] incremental`: whether an audit of the store's latest snapshots reads
    /// `audit_logs` (a folder) incrementally (`--incremental`). Default true.
    pub gcp_incremental: bool,
    /// `[azure] activity_logs`: `--azure-activity-logs`.
    pub azure_activity_logs: Option<String>,
    /// `[azure] incremental`: the same for `activity_logs`. Default true.
    pub azure_incremental: bool,
    pub suppressions: Vec<Suppression>,
}

/// `[aws]`: the accounts in scope and where their logs are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// Account ids the audit must cover: a snapshot without one of them is an error.
    pub accounts: Vec<String>,
    /// `--cloudtrail`: a directory, `s3://bucket/prefix` or `lookup-events`.
    pub cloudtrail: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Whether an audit of the store's latest snapshot reads `cloudtrail` incrementally
    /// (`--incremental`): only files no earlier audit read, the usage and read state stored
    /// in that snapshot. Default true.
    pub incremental: bool,
}

/// A finding accepted until a date: `check` on identities matching `identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The check id (`pipeleash checks`).
    pub check: String,
    /// An identity ARN, `*` and `?` as wildcards.
    pub identity: String,
    pub reason: String,
    /// The last day the suppression holds (inclusive, UTC).
    pub expires: NaiveDate,
    /// Where it is written, for findings: `pipeleash.toml line 12`.
    pub origin: String,
}

impl Suppression {
    /// Does it cover findings of `check` on the identity `arn`?
    pub fn covers(&self, check: &str, arn: &str) -> bool {
        self.check == check && glob_match(&self.identity, arn, Case::Sensitive)
    }

    /// Expired on `today` (UTC): the day after `expires`.
    pub fn expired(&self, today: NaiveDate) -> bool {
        today > self.expires
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    window: RawWindow,
    #[serde(default)]
    report: RawReport,
    aws: Option<RawAws>,
    gcp: Option<RawGcp>,
    azure: Option<RawAzure>,
    #[serde(default)]
    suppress: Vec<RawSuppression>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<String>,
    cache: Option<String>,
    keep: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    since: Option<String>,
    until: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    fail_on: Option<Severity>,
    format: Option<Spanned<String>>,
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAws {
    #[serde(default)]
    accounts: Vec<Spanned<String>>,
    cloudtrail: Option<String>,
    profile: Option<String>,
    region: Option<String>,
    incremental: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGcp {
    audit_logs: Option<String>,
    incremental: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAzure {
    activity_logs: Option<String>,
    incremental: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    check: Spanned<String>,
    identity: Spanned<String>,
    reason: Spanned<String>,
    expires: Spanned<toml::value::Datetime>,
}

/// The report formats `[report] format` takes.
pub const FORMATS: [&str; 3] = ["table", "json", "sarif"];

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// Parses and validates `text`, the content of the file `path` (named in errors).
/// `known_checks` are the check ids a suppression may name.
pub fn parse(
    text: &str,
    path: &std::path::Path,
    known_checks: &[&str],
) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: error.to_string().trim_end().to_string(),
    })?;
    let invalid = |span: Range<usize>, key: &str, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, span.start),
        key: key.to_string(),
        message,
    };
    let keep = match &raw.store.keep {
        None => None,
        Some(keep) if *keep.get_ref() >= 1 => Some(
            usize::try_from(*keep.get_ref())
                .map_err(|_| invalid(keep.span(), "store.keep", "is too large".to_string()))?,
        ),
        Some(keep) => {
            return Err(invalid(
                keep.span(),
                "store.keep",
                format!(
                    "must be at least 1 (got {}); leave it out to keep every snapshot",
                    keep.get_ref()
                ),
            ));
        }
    };
    let format = match &raw.report.format {
        None => None,
        Some(format) if FORMATS.contains(&format.get_ref().as_str()) => {
            Some(format.get_ref().clone())
        }
        Some(format) => {
            return Err(invalid(
                format.span(),
                "report.format",
                format!(
                    "unknown format `{}`; use one of {}",
                    format.get_ref(),
                    FORMATS.join(", ")
                ),
            ));
        }
    };
    let aws = match raw.aws {
        None => None,
        Some(aws) => {
            let mut accounts = Vec::new();
            for account in &aws.accounts {
                let id = account.get_ref();
                if id.len() != 12 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
                    return Err(invalid(
                        account.span(),
                        "aws.accounts",
                        format!("`{id}` is not an AWS account id (12 digits)"),
                    ));
                }
                accounts.push(id.clone());
            }
            accounts.sort();
            accounts.dedup();
            Some(AwsConfig {
                accounts,
                cloudtrail: aws.cloudtrail,
                profile: aws.profile,
                region: aws.region,
                incremental: aws.incremental.unwrap_or(true),
            })
        }
    };
    let mut suppressions = Vec::new();
    for suppression in &raw.suppress {
        let check = suppression.check.get_ref();
        if !known_checks.contains(&check.as_str()) {
            return Err(invalid(
                suppression.check.span(),
                "suppress.check",
                format!("unknown check `{check}`; `pipeleash checks` lists them"),
            ));
        }
        if suppression.identity.get_ref().trim().is_empty() {
            return Err(invalid(
                suppression.identity.span(),
                "suppress.identity",
                "is empty; give an identity ARN (`*` and `?` are wildcards)".to_string(),
            ));
        }
        if suppression.reason.get_ref().trim().is_empty() {
            return Err(invalid(
                suppression.reason.span(),
                "suppress.reason",
                "is empty; say why the finding is accepted".to_string(),
            ));
        }
        let expires = suppression.expires.get_ref();
        let date = match (expires.date, expires.time) {
            (Some(date), None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            ),
            _ => None,
        }
        .ok_or_else(|| {
            invalid(
                suppression.expires.span(),
                "suppress.expires",
                format!("`{expires}` is not a date; write a TOML date such as `2027-01-31`"),
            )
        })?;
        suppressions.push(Suppression {
            check: check.clone(),
            identity: suppression.identity.get_ref().clone(),
            reason: suppression.reason.get_ref().clone(),
            expires: date,
            origin: format!(
                "{} line {}",
                path.display(),
                line_of(text, suppression.check.span().start)
            ),
        });
    }
    Ok(Config {
        store: PathBuf::from(raw.store.path.as_deref().unwrap_or(DEFAULT_STORE)),
        cache: raw.store.cache.map(PathBuf::from),
        keep,
        since: raw.window.since,
        until: raw.window.until,
        fail_on: raw.report.fail_on,
        format,
        output: raw.report.path.map(PathBuf::from),
        aws,
        gcp_incremental: raw
            .gcp
            .as_ref()
            .and_then(|gcp| gcp.incremental)
            .unwrap_or(true),
        gcp_audit_logs: raw.gcp.and_then(|gcp| gcp.audit_logs),
        azure_incremental: raw
            .azure
            .as_ref()
            .and_then(|azure| azure.incremental)
            .unwrap_or(true),
        azure_activity_logs: raw.azure.and_then(|azure| azure.activity_logs),
        suppressions,
    })
}

/// Reads and validates the file at `path`.
pub fn load(path: &std::path::Path, known_checks: &[&str]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, known_checks)
}

/// Removes the findings the suppressions cover on `today` from each identity's list, and
/// adds an `expired-suppression` finding to every identity an expired suppression matches.
/// `identities` pairs each identity ARN with its findings. Returns the expired suppressions
/// that matched no identity (the caller reports them). Findings stay sorted by the caller.
pub fn apply_suppressions<'a>(
    suppressions: &'a [Suppression],
    today: NaiveDate,
    identities: &mut [(&str, &mut Vec<Finding>)],
) -> Vec<&'a Suppression> {
    let mut unmatched = Vec::new();
    for suppression in suppressions {
        let mut matched = false;
        for (arn, findings) in identities.iter_mut() {
            if !glob_match(&suppression.identity, arn, Case::Sensitive) {
                continue;
            }
            matched = true;
            if suppression.expired(today) {
                findings.push(expired_finding(suppression));
            } else {
                findings.retain(|finding| !suppression.covers(finding.id, arn));
            }
        }
        if !matched && suppression.expired(today) {
            unmatched.push(suppression);
        }
    }
    unmatched
}

/// The finding an expired suppression becomes.
pub fn expired_finding(suppression: &Suppression) -> Finding {
    Finding {
        id: EXPIRED_SUPPRESSION,
        severity: Severity::Medium,
        confidence: Confidence::High,
        subject: format!("suppression in {}", suppression.origin),
        message: format!(
            "the suppression of `{}` for `{}` expired on {}; its findings are reported again",
            suppression.check, suppression.identity, suppression.expires
        ),
        evidence: vec![Evidence {
            source: suppression.origin.clone(),
            detail: format!("reason given: {}", suppression.reason),
        }],
        remediation: "fix the findings and delete the suppression, or renew it with a new \
                      `expires` date and a current reason"
            .to_string(),
    }
}

#[cfg(test)]
mod tests;
