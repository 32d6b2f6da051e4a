//! `pipeleash analyze` and `pipeleash audit`: every identity of the snapshots against the
//! usage in the logs — granted, used, unused, unobservable, denied — with findings, the
//! coverage of the evidence, and (for `audit`) the proven minimized grants. Every cloud is
//! analyzed through `analysis::analyze` (AWS here, GCP and Azure in `clouds.rs`); this file
//! loads the evidence and prints.

use super::sarif::{AnalysisFormat, Located, sarif_log, summary_line};
use super::time::{WindowArgs, parse_now, rfc3339};
use super::usage::{report_progress, stored_usage};
use super::{Exit, GlobalArgs, InputError};
use crate::analysis::{Analysis, Counts, IdentityAnalysis};
use crate::aws::analysis::AwsEvidence;
use crate::aws::cloudtrail::{
    CloudTrailUsage, IngestError, IngestOptions, Progress, ReadState, TimeWindow, ingest_directory,
    ingest_directory_incremental,
};
use crate::aws::inventory::AwsAccountInventory;
use crate::aws::normalize::{NormalizedAws, normalize};
use crate::catalog::Catalog;
use crate::checks::sort_findings;
use crate::model::ObservationWindow;
use crate::model::{Finding, Severity};
use crate::output::json::v1::analysis::AnalysisView;
use crate::output::json::v1::drift::DriftView;
use crate::output::trust_summary;
use crate::snapshot::Snapshot;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Where the evidence comes from, shared by `analyze`, `audit` and `minimize`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvidenceArgs {
    /// A snapshot directory written by `pipeleash collect` (its `manifest.json` and
    /// `inventory/`). Repeat it to read several (one per cloud, say): their AWS, GCP and Azure
    /// inventories are analyzed together.
    #[arg(long, value_name = "DIR", required = true)]
    pub snapshot: Vec<PathBuf>,
    /// CloudTrail: a local directory holding `AWSLogs/…` (or any folder of `.json.gz` /
    /// `.json` CloudTrail files), an S3 location `s3://bucket/prefix` (listed folder by folder
    /// within the window, read in batches through a temporary directory), or `lookup-events`
    /// (the LookupEvents API of `--region`: management events only, for small accounts).
    /// Without it, the usage the snapshot holds (`pipeleash usage --cloudtrail … --snapshot
    /// DIR`) is used, over the window it was read for; a snapshot without usage is analyzed
    /// for its inventory only.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX|lookup-events")]
    pub cloudtrail: Option<PathBuf>,
    /// GCP Cloud Audit Logs for the snapshots' GCP inventories: a local copy of a Cloud
    /// Logging sink's bucket (`cloudaudit.googleapis.com/…`), the bucket itself
    /// (`gs://BUCKET/PREFIX`) or `gcloud logging read --format=json` output. Without it, GCP identities are analyzed for their inventory only.
    #[arg(long, value_name = "PATH")]
    pub gcp_audit_logs: Option<PathBuf>,
    /// The Azure Activity Log for the snapshots' Azure inventories: a local copy of a
    /// diagnostic setting's storage export (`insights-activity-logs/…`), the container itself
    /// (`https://ACCOUNT.blob.core.windows.net/insights-activity-logs[/PREFIX]`) or `az
    /// monitor activity-log list` output. Without it, Azure identities are analyzed for their
    /// inventory only.
    #[arg(long, value_name = "PATH")]
    pub azure_activity_logs: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub aws: AwsSourceArgs,
}

/// The AWS credentials and region for `--cloudtrail s3://…` and `lookup-events`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsSourceArgs {
    /// For `--cloudtrail s3://…` or `lookup-events`: a named profile of the AWS config files
    /// (otherwise `AWS_PROFILE` or the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// For `--cloudtrail s3://…` or `lookup-events`: the region to call (LookupEvents reads
    /// that region's events); otherwise `AWS_REGION` or the profile's.
    #[arg(long)]
    pub region: Option<String>,
    /// With log folders and a snapshot in a store: read only the log files that no earlier
    /// read stored in that store has read, continue its stored aggregate, and store this
    /// read's state in the snapshot (for `--cloudtrail`, a directory or `s3://…`, with the
    /// usage; for `--gcp-audit-logs` and `--azure-activity-logs`, folders, in the snapshot
    /// holding that cloud's inventory), unless it holds one already. Alone, every log source
    /// given is read so; `--incremental=cloudtrail,gcp` names the ones. The window is widened
    /// to whole UTC days. The result equals reading every file of the window.
    #[arg(
        long,
        value_name = "SOURCES",
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ',',
        default_missing_value = "all"
    )]
    pub incremental: Option<Vec<IncrementalSource>>,
}

/// A log source `--incremental` can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IncrementalSource {
    /// Every log source given.
    All,
    Cloudtrail,
    Gcp,
    Azure,
}

impl AwsSourceArgs {
    /// Whether `--incremental` applies to `source`.
    pub fn incremental_for(&self, source: IncrementalSource) -> bool {
        self.incremental.as_ref().is_some_and(|sources| {
            sources.contains(&IncrementalSource::All) || sources.contains(&source)
        })
    }
}

/// The inventory and usage an analysis works on, loaded once.
pub struct Evidence {
    /// Whether any snapshot holds an AWS inventory (else the AWS part is left out).
    pub has_aws: bool,
    pub normalized: NormalizedAws,
    pub usage: Option<CloudTrailUsage>,
    /// Where the usage came from, for the report's header.
    pub usage_origin: Option<UsageOrigin>,
    pub window: ObservationWindow,
    /// The snapshots read, in the order given.
    pub snapshots: Vec<PathBuf>,
    /// The snapshot the AWS inventories came from (the first one holding any).
    pub snapshot: PathBuf,
    /// GCP and Azure inventories and logs.
    pub clouds: super::clouds::CloudEvidence,
}

/// Where an analysis's usage came from.
#[derive(Debug, Clone)]
pub enum UsageOrigin {
    /// Read now from `--cloudtrail`.
    CloudTrail(PathBuf),
    /// Stored in the snapshot by an earlier `pipeleash usage --snapshot`.
    Snapshot,
}

impl std::fmt::Display for UsageOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsageOrigin::CloudTrail(path) => write!(f, "CloudTrail `{}`", path.display()),
            UsageOrigin::Snapshot => f.write_str("usage stored in the snapshot"),
        }
    }
}

impl EvidenceArgs {
    /// Reads the snapshot, normalizes it, and takes the usage from `--cloudtrail` (ingested
    /// with a progress counter) or else from the snapshot.
    pub fn load(&self, global: &GlobalArgs) -> anyhow::Result<Evidence> {
        self.check_incremental_sources()?;
        let now = parse_now(self.window.now.as_deref())?;
        let snapshots = self
            .snapshot
            .iter()
            .map(|dir| Snapshot::open(dir).map_err(InputError::wrap))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut inventories = Vec::new();
        let mut aws_snapshot = None;
        for snapshot in &snapshots {
            let found = snapshot.aws_inventories().map_err(InputError::wrap)?;
            if !found.is_empty() && aws_snapshot.is_none() {
                aws_snapshot = Some(snapshot);
            }
            inventories.extend(found);
        }
        let first = self.snapshot.first().cloned().unwrap_or_default();
        let (mut usage, usage_origin, window) = match (aws_snapshot, &self.cloudtrail) {
            (None, Some(path)) => {
                return Err(InputError::wrap(format!(
                    "`--cloudtrail {}` was given, but no snapshot holds an AWS account inventory; \
                     run `pipeleash collect aws` first",
                    path.display()
                )));
            }
            (None, None) => (None, None, self.window(now)?),
            (Some(snapshot), Some(path)) => {
                let window = self.window(now)?;
                let read_for = TimeWindow {
                    since: Some(window.since),
                    until: Some(window.until),
                };
                let usage = if self.aws.incremental_for(IncrementalSource::Cloudtrail) {
                    read_incremental(path, &self.aws, read_for, snapshot, global)?
                } else {
                    ingest(path, &self.aws, read_for, global)?
                };
                (
                    Some(usage),
                    Some(UsageOrigin::CloudTrail(path.clone())),
                    window,
                )
            }
            (Some(_), None)
                if self.aws.incremental.is_some()
                    && self.gcp_audit_logs.is_none()
                    && self.azure_activity_logs.is_none() =>
            {
                return Err(InputError::wrap(
                    "`--incremental` continues a read of log files: give `--cloudtrail DIR`, \
                     `--cloudtrail s3://…`, `--gcp-audit-logs DIR` or `--azure-activity-logs DIR` \
                     too",
                ));
            }
            (Some(snapshot), None) => match stored_usage(snapshot)? {
                Some(usage) => {
                    if self.window.since.is_some() || self.window.until.is_some() {
                        return Err(InputError::wrap(format!(
                            "snapshot `{}` holds usage already aggregated over its own window, \
                             which `--since`/`--until` cannot change: drop them, or pass \
                             `--cloudtrail DIR` to read the logs again",
                            snapshot.dir().display()
                        )));
                    }
                    let window = stored_window(&usage, snapshot.dir())?;
                    (Some(usage), Some(UsageOrigin::Snapshot), window)
                }
                None => (None, None, self.window(now)?),
            },
        };
        // The logs name the instance profiles a call passed; the inventory knows their roles.
        if let Some(usage) = &mut usage {
            usage.resolve_instance_profiles(&AwsAccountInventory::instance_profile_roles(
                &inventories,
            ));
        }
        let clouds = super::clouds::CloudEvidence::load(
            &snapshots,
            super::clouds::Logs {
                gcp: self.gcp_audit_logs.as_deref(),
                azure: self.azure_activity_logs.as_deref(),
                gcp_incremental: self.aws.incremental_for(IncrementalSource::Gcp),
                azure_incremental: self.aws.incremental_for(IncrementalSource::Azure),
            },
            window,
            global,
        )?;
        if inventories.is_empty() && clouds.is_empty() {
            return Err(InputError::wrap(format!(
                "snapshot `{}` holds no inventory of any cloud; run `pipeleash collect aws|gcp|azure` first",
                first.display()
            )));
        }
        Ok(Evidence {
            has_aws: !inventories.is_empty(),
            normalized: normalize(&inventories),
            usage,
            usage_origin,
            window,
            snapshot: aws_snapshot.map_or(first, |snapshot| snapshot.dir().to_path_buf()),
            snapshots: self.snapshot.clone(),
            clouds,
        })
    }

    /// `--incremental=SOURCE` naming a log source that is not given would be silently
    /// ignored: an input error instead.
    fn check_incremental_sources(&self) -> anyhow::Result<()> {
        let named = self.aws.incremental.iter().flatten();
        for source in named {
            let (given, flag) = match source {
                IncrementalSource::All => continue,
                IncrementalSource::Cloudtrail => (self.cloudtrail.is_some(), "--cloudtrail"),
                IncrementalSource::Gcp => (self.gcp_audit_logs.is_some(), "--gcp-audit-logs"),
                IncrementalSource::Azure => {
                    (self.azure_activity_logs.is_some(), "--azure-activity-logs")
                }
            };
            if !given {
                return Err(InputError::wrap(format!(
                    "`--incremental` names `{}`, but no `{flag}` is given: give it, or drop \
                     that name",
                    clap::ValueEnum::to_possible_value(source)
                        .map_or_else(String::new, |value| value.get_name().to_owned())
                )));
            }
        }
        Ok(())
    }

    /// The window `--since`/`--until` give, checked not to be empty.
    fn window(&self, now: DateTime<Utc>) -> anyhow::Result<ObservationWindow> {
        let (since, until) = self.window.window_at(now)?;
        Ok(ObservationWindow { since, until })
    }
}

/// `--incremental`: continues the store's last read of `path` and stores this one.
#[cfg(feature = "parquet")]
pub(super) fn read_incremental(
    path: &Path,
    aws: &AwsSourceArgs,
    window: TimeWindow,
    snapshot: &Snapshot,
    global: &GlobalArgs,
) -> anyhow::Result<CloudTrailUsage> {
    super::incremental::read_and_store(path, aws, window, snapshot, global)
}

/// Without the Parquet writer nothing can be stored for the next read.
#[cfg(not(feature = "parquet"))]
pub(super) fn read_incremental(
    _: &Path,
    _: &AwsSourceArgs,
    _: TimeWindow,
    _: &Snapshot,
    _: &GlobalArgs,
) -> anyhow::Result<CloudTrailUsage> {
    Err(InputError::wrap(
        "`--incremental` stores aggregated usage in the snapshot, and this build has no \
         `parquet` feature; rebuild with it, or drop `--incremental`",
    ))
}

/// The window stored usage was read for. Usage read without `--since`/`--until` covers the
/// events it holds: from the first to just after the last.
fn stored_window(usage: &CloudTrailUsage, snapshot: &Path) -> anyhow::Result<ObservationWindow> {
    let since = usage.window.since.or(usage.coverage.first_event);
    let until = usage.window.until.or(usage
        .coverage
        .last_event
        .map(|last| last + chrono::Duration::seconds(1)));
    match (since, until) {
        (Some(since), Some(until)) if since < until => Ok(ObservationWindow { since, until }),
        _ => Err(InputError::wrap(format!(
            "the usage stored in snapshot `{}` names no window and holds no event, so it \
             cannot say what was unused; pass `--cloudtrail DIR` with `--since`/`--until`",
            snapshot.display()
        ))),
    }
}

/// Reads CloudTrail from a local directory, `s3://bucket/prefix`, or the `LookupEvents` API
/// (`lookup-events`), with a progress counter on stderr.
pub(super) fn ingest(
    path: &Path,
    aws: &AwsSourceArgs,
    window: TimeWindow,
    global: &GlobalArgs,
) -> anyhow::Result<CloudTrailUsage> {
    Ok(ingest_from(path, aws, window, global, None)?.0)
}

/// What an incremental read leaves besides the usage.
pub(super) type Continued = crate::aws::cloudtrail::IncrementalRead;

/// [`ingest`], incremental when `resume` is given: `Some(previous)` continues the state an
/// earlier read of the same source left (`None` inside: the first read), reading only the files
/// it has not read; the window must then be whole UTC days.
pub(super) fn ingest_from(
    path: &Path,
    aws: &AwsSourceArgs,
    window: TimeWindow,
    global: &GlobalArgs,
    resume: Option<Option<ReadState>>,
) -> anyhow::Result<(CloudTrailUsage, Option<Continued>)> {
    let text = path.to_string_lossy();
    let (usage, continued) = if text.starts_with("s3://") || text == LOOKUP_EVENTS {
        ingest_remote(&text, aws, window, global, resume)?
    } else {
        ingest_local(path, window, global, resume)?
    };
    // No file at all is a wrong path or window, not an idle account: an active trail writes
    // files every few minutes. Reporting every permission unused from it would be wrong.
    if usage.coverage.sources_read == 0 && usage.coverage.sources_skipped.is_empty() {
        let within = match (window.since, window.until) {
            (Some(since), Some(until)) => {
                format!(" for {} .. {}", rfc3339(since), rfc3339(until))
            }
            (Some(since), None) => format!(" since {}", rfc3339(since)),
            (None, Some(until)) => format!(" before {}", rfc3339(until)),
            (None, None) => String::new(),
        };
        return Err(InputError::wrap(format!(
            "no CloudTrail log file found under `{text}`{within}: give the folder or S3 prefix \
             that holds the trail's `AWSLogs/…` (or its log files), and check `--since`/`--until`"
        )));
    }
    if !global.quiet {
        for overlap in &usage.trail_overlaps {
            eprintln!(
                "warning: account {} region {} has log files under {} trails' prefixes ({}): a \
                 call both trails delivered is counted twice (its counts and first/last seen; \
                 what was used is unchanged); give one prefix to count each call once",
                overlap.account,
                overlap.region,
                overlap.prefixes.len(),
                overlap
                    .prefixes
                    .iter()
                    .map(|prefix| format!("`{prefix}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok((usage, continued))
}

/// A local directory of log files, with a progress counter on stderr.
fn ingest_local(
    path: &Path,
    window: TimeWindow,
    global: &GlobalArgs,
    resume: Option<Option<ReadState>>,
) -> anyhow::Result<(CloudTrailUsage, Option<Continued>)> {
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let options = IngestOptions {
        window,
        progress: Some(&progress),
    };
    let result = std::thread::scope(|scope| {
        if !global.quiet {
            scope.spawn(|| report_progress(&progress, &done));
        }
        let result = match resume {
            None => ingest_directory(path, &options).map(|usage| (usage, None)),
            Some(previous) => {
                ingest_directory_incremental(path, &path.to_string_lossy(), &options, previous)
                    .map(|(usage, read)| (usage, Some(read)))
            }
        };
        done.store(true, Ordering::Relaxed);
        result
    });
    match result {
        Ok(read) => Ok(read),
        Err(error @ (IngestError::Root { .. } | IngestError::Resume(_))) => {
            Err(InputError::wrap(error))
        }
        Err(error) => Err(error.into()),
    }
}

/// `--cloudtrail lookup-events`: the CloudTrail `LookupEvents` API of the configured region.
pub(super) use crate::aws::cloudtrail::lookup::LOOKUP_EVENTS;

#[cfg(not(feature = "aws"))]
fn ingest_remote(
    text: &str,
    _: &AwsSourceArgs,
    _: TimeWindow,
    _: &GlobalArgs,
    _: Option<Option<ReadState>>,
) -> anyhow::Result<(CloudTrailUsage, Option<Continued>)> {
    Err(InputError::wrap(format!(
        "reading `{text}` needs the AWS SDK, and this build has no `aws` feature; sync the logs to a local directory instead"
    )))
}

#[cfg(feature = "aws")]
fn ingest_remote(
    text: &str,
    aws: &AwsSourceArgs,
    window: TimeWindow,
    global: &GlobalArgs,
    resume: Option<Option<ReadState>>,
) -> anyhow::Result<(CloudTrailUsage, Option<Continued>)> {
    use crate::aws::cloudtrail::Ingestion;
    use crate::aws::cloudtrail::ingest_files;
    use crate::aws::cloudtrail::lookup::lookup_records;
    use crate::aws::collect::lookup_events::{LookupEventsQuery, lookup_events};
    use crate::aws::collect::s3_logs::{BATCH_FILES, S3Location, read_s3, s3_client};
    use crate::aws::collect::{CollectOptions, load_sdk_config};
    use crate::model::SkippedSource;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = runtime.block_on(load_sdk_config(&CollectOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        ..CollectOptions::default()
    }));
    let options = IngestOptions {
        window,
        progress: None,
    };
    if text == LOOKUP_EVENTS {
        if resume.is_some() {
            return Err(InputError::wrap(
                "`--incremental` reads a directory or `s3://` prefix of log files; `lookup-events` \
                 has no files to remember: drop `--incremental`",
            ));
        }
        let client = aws_sdk_cloudtrail::Client::new(&config);
        let query = LookupEventsQuery {
            start_time: window.since.map(|time| time.timestamp()),
            end_time: window.until.map(|time| time.timestamp()),
            ..LookupEventsQuery::default()
        };
        if !global.quiet {
            eprintln!("reading CloudTrail through LookupEvents (management events of one region)…");
        }
        let outcome = runtime.block_on(lookup_events(&client, &query));
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let file = dir.path().join("lookup-events.json");
        let read = lookup_records(&outcome.events, outcome.events_without_record);
        /// A CloudTrail log file, `{"Records": [...]}`, as the ingestion reads it
        /// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html>):
        /// not an output, so not a view.
        #[derive(serde::Serialize)]
        struct LogFile<'a> {
            #[serde(rename = "Records")]
            records: &'a [serde_json::Value],
        }
        std::fs::write(
            &file,
            serde_json::to_vec(&LogFile {
                records: &read.records,
            })?,
        )
        .context("cannot write the LookupEvents records")?;
        let mut usage = ingest_files(std::slice::from_ref(&file), &options)?;
        // The temporary file is an implementation detail: name the source the user gave.
        let temporary = file.display().to_string();
        for skipped in &mut usage.coverage.sources_skipped {
            if skipped.source == temporary {
                skipped.source = LOOKUP_EVENTS.to_owned();
            }
        }
        usage.coverage.sources_skipped.extend(read.missing);
        if let Some(error) = &outcome.error {
            usage.coverage.sources_skipped.push(SkippedSource::new(
                LOOKUP_EVENTS,
                format!("stopped after {} page(s): {error}", outcome.pages),
            ));
        }
        usage.coverage.sources_skipped.sort();
        return Ok((usage, None));
    }
    let location = S3Location::parse(text).map_err(InputError::wrap)?;
    if !global.quiet {
        eprintln!("listing CloudTrail log files under `{text}`…");
    }
    let client = s3_client(&config);
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let options = IngestOptions {
        window,
        progress: Some(&progress),
    };
    let incremental = resume.is_some();
    let ingestion = match resume {
        None => Ingestion::new(options)?,
        Some(previous) => Ingestion::resume(options, text, previous).map_err(InputError::wrap)?,
    };
    let mut counts = (0u64, 0u64);
    let mut overlaps = Vec::new();
    let result = std::thread::scope(|scope| {
        let result = read_s3(
            &runtime,
            &client,
            &location,
            ingestion,
            BATCH_FILES,
            |listing| {
                counts = (
                    (listing.keys.len() + listing.already_read) as u64,
                    listing.keys.len() as u64,
                );
                overlaps = crate::aws::cloudtrail::walk::trail_overlaps(
                    listing.keys.iter().map(String::as_str),
                );
                if !global.quiet {
                    let already = if incremental {
                        format!(" ({} read before)", listing.already_read)
                    } else {
                        String::new()
                    };
                    eprintln!(
                        "{} log file(s) to read in the window{already} among {} object(s) in {} \
                         folder(s) listed; downloading and reading them",
                        listing.keys.len(),
                        listing.objects_listed,
                        listing.folders_listed
                    );
                    scope.spawn(|| report_progress(&progress, &done));
                }
            },
        );
        done.store(true, Ordering::Relaxed);
        result
    });
    let (mut usage, state) = result?.finish_with_state();
    usage.trail_overlaps = overlaps;
    let continued = state.map(|state| Continued::new(Some(state), text, counts.0, counts.1));
    Ok((usage, continued))
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Exit with code 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub fail_on: Severity,
    /// Output format (`sarif`: the findings as SARIF 2.1.0).
    #[arg(long, value_enum, default_value_t = AnalysisFormat::Table)]
    pub format: AnalysisFormat,
    /// Take the settings the flags leave out from a `pipeleash.toml` (`pipeleash init` writes
    /// one; see `docs/configuration.md`). Flags win over the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The configuration's suppressions (not a flag).
    #[arg(skip)]
    pub suppressions: Vec<crate::config::Suppression>,
    /// The store's snapshot before the audited one, to report drift against (set by
    /// `audit --config` from the store; not a flag).
    #[arg(skip)]
    pub previous: Option<PathBuf>,
}

fn short_name(analysis: &IdentityAnalysis) -> String {
    let kind = analysis.identity.kind.label();
    format!("{kind}/{}", analysis.identity.display_name)
}

fn count(analysis: &IdentityAnalysis, value: impl Fn(&Counts) -> usize) -> String {
    match (&analysis.counts, &analysis.proposal) {
        (Some(counts), _) => value(counts).to_string(),
        (None, Some(Err(_))) => "error".into(),
        (None, _) => "-".into(),
    }
}

pub fn run_analyze(
    args: AnalyzeArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    run(args, false, global, out)
}

pub fn run_audit(
    args: AnalyzeArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    run(args, true, global, out)
}

fn run(
    args: AnalyzeArgs,
    with_policies: bool,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let evidence = args.evidence.load(global)?;
    let catalog = Catalog::aws().context("cannot load the embedded AWS catalog")?;
    let now = parse_now(args.evidence.window.now.as_deref())?;
    let options = crate::analysis::Options {
        propose: with_policies,
        now,
    };
    let mut aws = crate::analysis::analyze(
        &crate::analysis::Evidence::Aws(AwsEvidence {
            normalized: &evidence.normalized,
            usage: evidence.usage.as_ref(),
            usage_origin: evidence.usage_origin.as_ref().map(ToString::to_string),
            catalog,
        }),
        evidence.window,
        options,
    )?;
    let mut clouds = evidence.clouds.analyze(evidence.window, options)?;
    if !args.suppressions.is_empty() {
        let today = now.date_naive();
        // Findings about no single identity are matched by what they are about (a Workload
        // Identity provider's name, say), grouped per cloud.
        let mut provider_level: Vec<(usize, String, Vec<Finding>)> = Vec::new();
        for (index, cloud) in clouds.iter_mut().enumerate() {
            for finding in std::mem::take(&mut cloud.findings) {
                let name = super::clouds::subject_name(&finding).to_string();
                match provider_level
                    .iter_mut()
                    .find(|(at, key, _)| *at == index && *key == name)
                {
                    Some((_, _, list)) => list.push(finding),
                    None => provider_level.push((index, name, vec![finding])),
                }
            }
        }
        let mut lists: Vec<(&str, &mut Vec<Finding>)> = aws
            .identities
            .iter_mut()
            .map(|one| (one.identity.id.native(), &mut one.findings))
            .chain(clouds.iter_mut().flat_map(|cloud| {
                cloud
                    .identities
                    .iter_mut()
                    .map(|one| (one.identity.id.native(), &mut one.findings))
            }))
            .chain(
                provider_level
                    .iter_mut()
                    .map(|(_, name, list)| (name.as_str(), list)),
            )
            .collect();
        for stale in crate::config::apply_suppressions(&args.suppressions, today, &mut lists) {
            eprintln!(
                "warning: the suppression in {} expired and matches no identity",
                stale.origin
            );
        }
        aws.identities
            .iter_mut()
            .for_each(|one| sort_findings(&mut one.findings));
        // Provider-level findings go back to their cloud (each cloud's names are its own).
        for (index, _, list) in provider_level {
            clouds[index].findings.extend(list);
        }
        for cloud in &mut clouds {
            cloud.attach_findings(Vec::new());
        }
    }
    let severities = || {
        aws.identities
            .iter()
            .flat_map(|identity| identity.findings.iter().map(|finding| finding.severity))
            .chain(clouds.iter().flat_map(|cloud| {
                cloud
                    .all_findings()
                    .map(|(_, finding)| finding.severity)
                    .collect::<Vec<_>>()
            }))
    };
    let worst = severities().max();
    // A previous snapshot that cannot be compared costs the drift section, never the audit.
    let drift = match &args.previous {
        Some(previous) if evidence.has_aws => {
            match super::drift::drift_between(previous, &evidence.snapshot) {
                Ok(drift) => Some(drift),
                Err(error) => {
                    eprintln!(
                        "warning: cannot compare with the previous snapshot `{}` ({error:#}); \
                         drift is not reported",
                        previous.display()
                    );
                    None
                }
            }
        }
        _ => None,
    };
    match args.format {
        AnalysisFormat::Json => {
            let view = AnalysisView::new(
                &aws,
                evidence.has_aws,
                &clouds,
                drift
                    .as_ref()
                    .map(|(drift, from, to)| DriftView::new(drift, from, to)),
                with_policies,
            );
            serde_json::to_writer_pretty(&mut *out, &view)?;
            writeln!(out)?;
        }
        AnalysisFormat::Table => {
            print_tables(&aws, &evidence, with_policies, out)?;
            for cloud in &clouds {
                super::clouds::print_table(cloud, with_policies, out)?;
            }
            if let Some((drift, from, to)) = &drift {
                writeln!(out)?;
                super::drift::write_table(drift, from, to, out)?;
            }
        }
        AnalysisFormat::Sarif => {
            let base = evidence.snapshot.display().to_string();
            let mut located: Vec<Located<'_>> = aws
                .identities
                .iter()
                .flat_map(|one| {
                    one.findings.iter().map(|finding| Located {
                        identity: one.identity.id.native(),
                        artifact: format!(
                            "{}/inventory/aws-{}.json",
                            base.trim_end_matches('/'),
                            one.identity.container
                        ),
                        finding,
                    })
                })
                .collect();
            for cloud in &clouds {
                located.extend(super::clouds::located(
                    cloud,
                    &evidence.clouds.artifact(cloud.provider),
                ));
            }
            serde_json::to_writer_pretty(&mut *out, &sarif_log(&located))?;
            writeln!(out)?;
        }
    }
    if !global.quiet {
        if evidence.has_aws {
            for warning in &aws.coverage {
                eprintln!("warning: {warning}");
            }
        }
        for cloud in &clouds {
            for note in &cloud.coverage {
                eprintln!("note: {}: {note}", cloud.provider);
            }
        }
        if let Some((drift, _, _)) = &drift {
            eprintln!("{}", super::drift::summary(drift));
        }
        eprintln!(
            "{}",
            summary_line(
                if with_policies { "audit" } else { "analyze" },
                aws.identities.len()
                    + clouds
                        .iter()
                        .map(|cloud| cloud.identities.len())
                        .sum::<usize>(),
                severities(),
                worst.is_some_and(|severity| severity >= args.fail_on),
            )
        );
    }
    Ok(match worst {
        Some(severity) if severity >= args.fail_on => Exit::Findings,
        _ => Exit::Clean,
    })
}

fn print_tables(
    aws: &Analysis,
    evidence: &Evidence,
    with_policies: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "window {} .. {}; snapshot {}",
        aws.window.since.format("%Y-%m-%d %H:%M"),
        aws.window.until.format("%Y-%m-%d %H:%M"),
        evidence
            .snapshots
            .iter()
            .map(|dir| format!("`{}`", dir.display()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !evidence.has_aws {
        return Ok(());
    }
    if let Some(summary) = &aws.usage_summary {
        writeln!(out, "{summary}")?;
    }
    let mut table = super::new_table([
        "identity",
        "account",
        "trusted by",
        "granted",
        "used",
        "unused",
        "unobservable",
        "denied",
        "findings",
    ]);
    for identity in &aws.identities {
        let worst = identity
            .findings
            .iter()
            .map(|finding| finding.severity)
            .max();
        table.add_row([
            short_name(identity),
            identity.identity.container.clone(),
            trust_summary(&identity.trusts),
            count(identity, |counts| counts.granted),
            count(identity, |counts| counts.used),
            count(identity, |counts| counts.unused),
            count(identity, |counts| counts.unobservable),
            count(identity, |counts| counts.denied),
            match worst {
                Some(severity) => format!("{} ({severity})", identity.findings.len()),
                None => "0".into(),
            },
        ]);
    }
    writeln!(out, "{table}")?;
    let mut findings = super::new_table(["severity", "check", "identity", "finding"]);
    let mut rows = 0;
    for identity in &aws.identities {
        for finding in &identity.findings {
            findings.add_row([
                finding.severity.to_string(),
                finding.id.to_string(),
                short_name(identity),
                if finding.subject.starts_with("policy") {
                    format!("{}: {}", finding.subject, finding.message)
                } else {
                    finding.message.clone()
                },
            ]);
            rows += 1;
        }
    }
    if rows > 0 {
        writeln!(out, "{findings}")?;
    }
    if with_policies {
        for identity in &aws.identities {
            let (Some(Ok(proposal)), Some(counts)) = (&identity.proposal, &identity.counts) else {
                continue;
            };
            if counts.unused == 0 {
                continue;
            }
            writeln!(
                out,
                "\nminimized policy for `{}` ({} of {} granted actions kept; proven on {} usage row(s)):",
                identity.identity.id.native(),
                counts.used + counts.unobservable,
                counts.granted,
                proposal.proof_never_drop
            )?;
            for document in proposal.json.as_array().into_iter().flatten() {
                writeln!(out, "{}", serde_json::to_string_pretty(document)?)?;
            }
        }
    }
    Ok(())
}
