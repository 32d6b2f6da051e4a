//! `pipeleash minimize`: the smallest AWS policy that still allows what an identity used,
//! from policy files and a usage file, proven before it is printed.
//!
//! The usage file is JSON (`pipeleash-usage/v1`); unknown fields are errors, because a
//! misspelt coverage field (say `data_events_services`) would otherwise silently turn data
//! events off and make permissions look unobservable or unused:
//!
//! ```json
//! {
//!   "principal": "arn:aws:iam::111122223333:role/ci-deploy",
//!   "coverage": {
//!     "since": "2026-01-01T00:00:00Z",
//!     "until": "2026-04-01T00:00:00Z",
//!     "data_event_services": ["s3"],
//!     "read_events_included": true,
//!     "inferred_actions": ["iam:PassRole"],
//!     "skipped_files": [{"path": "AWSLogs/…/x.json.gz", "reason": "truncated gzip"}]
//!   },
//!   "usage": [
//!     {"action": "s3:GetObject", "resource": "arn:aws:s3:::artifacts/app.tgz",
//!      "allowed_count": 12, "denied_count": 0,
//!      "first_seen": "2026-01-03T10:00:00Z", "last_seen": "2026-03-30T09:00:00Z",
//!      "workloads": ["github:repo:acme/web:ref:refs/heads/main"], "sources": ["…"]}
//!   ]
//! }
//! ```
//!
//! Each row becomes one record of the neutral usage (`model::Usage`): rows of the same action
//! and resource are merged (counts add up, times widen). A workload is
//! `<issuer host>:<subject>`: the text up to the first `:` names the issuer, and a workload
//! without `:` is an error.
//!
//! Output: `--format json` prints a `pipeleash-minimize/v1` object (documents, warnings,
//! missing permissions, proof counts; with `--explain`, the per-action evidence too);
//! `--format terraform` prints `aws_iam_policy_document` data sources, and `--explain` then
//! prints the evidence table on stderr. Coverage warnings always go to stderr.

use super::policy::read_policy;
use super::time::{WindowArgs, parse_now};
use super::{Exit, GlobalArgs, InputError};
use crate::aws::coverage::CoverageFacts;
use crate::aws::minimize::{
    ActionDecision, MinimizeError, MinimizeInput, MinimizeOptions, PolicyInput, SizeTarget,
    UnusedActions, Warning, minimize, parse_workload_label, render_terraform,
};
use crate::catalog::{AccessLevel, Catalog};
use crate::model::SkippedSource;
use crate::model::{
    IdentityId, ObservationWindow, Permission, Provider, Usage, UsageKey, UsageRecord,
};
use crate::output::json::v1::minimize::{MinimizeView, NOT_USED, level, reason_text};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The principal used when neither `--principal` nor the usage file names one.
const DEFAULT_PRINCIPAL: &str = "arn:aws:iam::111122223333:role/minimized";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinimizeFormat {
    /// Canonical IAM policy JSON inside a versioned `pipeleash-minimize/v1` object.
    Json,
    /// Terraform `aws_iam_policy_document` data sources.
    Terraform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Customer managed policies: each document at most 6,144 characters.
    Managed,
    /// Inline role policies: all documents together at most 10,240 characters.
    Inline,
}

/// The usage file's shape, shown by `--help`.
const USAGE_FILE_SHAPE: &str = "\
Usage file (--usage), JSON; unknown fields are errors:
  {\"principal\": \"arn:aws:iam::111122223333:role/ci-deploy\",        (optional)
   \"coverage\": {\"since\": RFC3339, \"until\": RFC3339,
                \"data_event_services\": [\"s3\"], \"read_events_included\": true,
                \"inferred_actions\": [\"iam:PassRole\"],
                \"skipped_files\": [{\"path\": \"...\", \"reason\": \"...\"}]},
   \"usage\": [{\"action\": \"s3:GetObject\", \"resource\": \"arn:...\" or \"*\",
              \"allowed_count\": 12, \"denied_count\": 0,
              \"first_seen\": RFC3339, \"last_seen\": RFC3339,
              \"workloads\": [\"github:repo:acme/web:ref:refs/heads/main\"], \"sources\": []}]}

Exit codes: 0 printed a proven policy; 2 bad input; 3 the proof failed (nothing printed).";

#[derive(Debug, clap::Args)]
#[command(after_help = USAGE_FILE_SHAPE)]
pub struct MinimizeArgs {
    /// The identity to minimize, from `--snapshot`: its ARN, or its name when that is unique
    /// across the snapshot's accounts (`gha-deploy-web`); a GCP service account's email; an
    /// Azure service principal's or managed identity's object id or display name.
    #[arg(value_name = "IDENTITY", requires = "snapshot")]
    pub identity: Option<String>,
    /// A snapshot written by `pipeleash collect aws`: the identity's policies, boundary and
    /// SCPs are read from it.
    #[arg(long, value_name = "DIR", requires = "identity", conflicts_with_all = ["policies", "usage"])]
    pub snapshot: Option<PathBuf>,
    /// CloudTrail to read the identity's usage from, with `--snapshot`: a directory holding
    /// `AWSLogs/…`, `s3://bucket/prefix`, or `lookup-events`. Without it, the usage the
    /// snapshot holds (`pipeleash usage --cloudtrail … --snapshot DIR`) is used.
    #[arg(
        long,
        value_name = "DIR|s3://BUCKET/PREFIX|lookup-events",
        requires = "snapshot"
    )]
    pub cloudtrail: Option<PathBuf>,
    /// Cloud Audit Logs to read a GCP service account's usage from, with `--snapshot` (one
    /// written by `pipeleash collect gcp`): a copy of a Cloud Logging sink's bucket or
    /// `gcloud logging read --format=json` output. The identity is then the account's email.
    #[arg(
        long,
        value_name = "PATH",
        requires = "snapshot",
        conflicts_with = "cloudtrail"
    )]
    pub gcp_audit_logs: Option<PathBuf>,
    /// The Activity Log to read an Azure service principal's or managed identity's usage
    /// from, with `--snapshot` (one written by `pipeleash collect azure`): a copy of the
    /// `insights-activity-logs` container or `az monitor activity-log list` output. The
    /// identity is then its object id or display name.
    #[arg(
        long,
        value_name = "PATH",
        requires = "snapshot",
        conflicts_with_all = ["cloudtrail", "gcp_audit_logs"]
    )]
    pub azure_activity_logs: Option<PathBuf>,
    /// An identity policy of the identity (inline or managed); repeat for several. These are
    /// the policies the result replaces. (File mode, without `--snapshot`.)
    #[arg(
        long = "policy",
        value_name = "FILE",
        required_unless_present = "snapshot"
    )]
    pub policies: Vec<PathBuf>,
    /// The identity's permissions boundary (kept as is, but part of every decision).
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// One level of service control policies, root first; several SCPs of one level are
    /// comma-separated.
    #[arg(long = "scp", value_name = "FILE[,FILE…]")]
    pub scps: Vec<String>,
    /// The usage and coverage file (JSON; its shape is shown below). (File mode.)
    #[arg(long, value_name = "FILE.json", required_unless_present = "snapshot")]
    pub usage: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// The identity's ARN; default: the usage file's `principal`.
    #[arg(long)]
    pub principal: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MinimizeFormat::Json)]
    pub format: MinimizeFormat,
    /// Include the evidence for every kept and dropped action (in the JSON, or on stderr
    /// with `--format terraform`).
    #[arg(long)]
    pub explain: bool,
    /// Drop granted actions the logs could not have shown (data events without a data
    /// trail, `iam:PassRole`…) instead of keeping them. Only do this when you know they are
    /// unused.
    #[arg(long)]
    pub drop_unobservable: bool,
    /// How many sibling objects/versions of one bucket/function must have been used before
    /// they are generalized to a prefix pattern; 0 keeps every ARN exactly.
    #[arg(long, default_value_t = 3)]
    pub generalize_threshold: usize,
    /// Which IAM size quota the result must meet.
    #[arg(long, value_enum, default_value_t = Target::Managed)]
    pub target: Target,
    /// Name of the output policy (more documents get `-2`, `-3`… suffixes).
    #[arg(long, default_value = "minimized")]
    pub name: String,
    #[command(flatten)]
    pub aws: super::analyze::AwsSourceArgs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageFileV1 {
    #[serde(default)]
    principal: Option<String>,
    coverage: CoverageV1,
    #[serde(default)]
    usage: Vec<UsageRowV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageV1 {
    since: String,
    until: String,
    #[serde(default)]
    data_event_services: Vec<String>,
    #[serde(default = "yes")]
    read_events_included: bool,
    #[serde(default)]
    inferred_actions: Vec<String>,
    #[serde(default)]
    skipped_files: Vec<SkippedFileV1>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkippedFileV1 {
    path: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageRowV1 {
    action: String,
    resource: String,
    #[serde(default)]
    allowed_count: u64,
    #[serde(default)]
    denied_count: u64,
    first_seen: String,
    last_seen: String,
    #[serde(default)]
    workloads: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
}

fn parse_time(text: &str, what: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            InputError::wrap(format!(
                "{what} `{text}` is not an RFC 3339 time (e.g. `2026-03-31T00:00:00Z`): {error}"
            ))
        })
}

fn read_usage(path: &Path) -> anyhow::Result<UsageFileV1> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        InputError::wrap(format!(
            "cannot read usage file `{}`: {error}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|error| {
        InputError::wrap(format!(
            "cannot parse usage file `{}`: {error}; see `pipeleash minimize --help` for its shape",
            path.display()
        ))
    })
}

fn load(path: &Path) -> anyhow::Result<PolicyInput> {
    Ok(PolicyInput::new(
        path.display().to_string(),
        read_policy(path)?,
    ))
}

/// Builds the core's input from the files and flags.
/// Snapshot mode: the identity's policies from the snapshot, its usage from CloudTrail.
fn snapshot_input(args: &MinimizeArgs, global: &GlobalArgs) -> anyhow::Result<MinimizeInput> {
    let (Some(identity), Some(snapshot)) = (&args.identity, &args.snapshot) else {
        return Err(InputError::wrap("give an identity and `--snapshot DIR`"));
    };
    let evidence = super::analyze::EvidenceArgs {
        snapshot: vec![snapshot.clone()],
        gcp_audit_logs: None,
        azure_activity_logs: None,
        cloudtrail: args.cloudtrail.clone(),
        window: args.window.clone(),
        aws: args.aws.clone(),
    }
    .load(global)?;
    let id = resolve_identity(&evidence.normalized, identity)?;
    let usage = evidence.usage.as_ref().ok_or_else(|| {
        InputError::wrap(format!(
            "minimizing needs evidence of use, and snapshot `{}` holds no usage: give \
             `--cloudtrail DIR` with the identity's CloudTrail logs (or store them first with \
             `pipeleash usage --cloudtrail DIR --snapshot {}`)",
            snapshot.display(),
            snapshot.display()
        ))
    })?;
    let account = evidence
        .normalized
        .inventory
        .identities
        .get(&id)
        .map(|identity| identity.container.as_str())
        .unwrap_or_default();
    if usage.coverage.events_in_window == 0 {
        return Err(InputError::wrap(format!(
            "the CloudTrail logs read hold no event in the window ({} event(s) outside it), so \
             nothing is known of the use of `{}` and a minimized policy would drop what it uses: \
             check `--since`/`--until` against the logs' dates",
            usage.coverage.events_read,
            id.native()
        )));
    }
    if !usage.covers_account(account) {
        return Err(InputError::wrap(format!(
            "the CloudTrail logs read hold no event of account {account}, so nothing is known of \
             the use of `{}`: give that account's logs (`AWSLogs/{account}/…`)",
            id.native()
        )));
    }
    let coverage = crate::aws::audit::coverage_facts(usage, evidence.window);
    let identity_usage = crate::aws::audit::usage_of(usage, &id);
    Ok(crate::aws::audit::minimize_input(
        &evidence.normalized,
        &id,
        identity_usage,
        coverage,
        evidence.window,
    ))
}

/// Finds the identity by ARN, or by name when unique.
fn resolve_identity(
    normalized: &crate::aws::normalize::NormalizedAws,
    wanted: &str,
) -> anyhow::Result<crate::model::IdentityId> {
    let identities = &normalized.inventory.identities;
    if let Some((id, _)) = identities.iter().find(|(id, _)| id.native() == wanted) {
        return Ok(id.clone());
    }
    let matches: Vec<_> = identities
        .iter()
        .filter(|(_, identity)| identity.display_name == wanted)
        .map(|(id, _)| id.clone())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(InputError::wrap(format!(
            "identity `{wanted}` is not in the snapshot; give a role or user ARN or name (`pipeleash analyze --snapshot …` lists them)"
        ))),
        several => Err(InputError::wrap(format!(
            "`{wanted}` names {} identities; give the ARN: {}",
            several.len(),
            several
                .iter()
                .map(|id| format!("`{}`", id.native()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn input(args: &MinimizeArgs) -> anyhow::Result<MinimizeInput> {
    let Some(usage_path) = &args.usage else {
        return Err(InputError::wrap(
            "give `--usage FILE.json` (or `--snapshot DIR`)",
        ));
    };
    let file = read_usage(usage_path)?;
    let now = parse_now(args.window.now.as_deref())?;
    let (since, until) = args.window.window_at(now)?;
    let coverage = CoverageFacts {
        since: parse_time(&file.coverage.since, "`coverage.since`")?,
        until: parse_time(&file.coverage.until, "`coverage.until`")?,
        data_event_services: file
            .coverage
            .data_event_services
            .iter()
            .map(|service| service.to_ascii_lowercase())
            .collect(),
        read_events_included: file.coverage.read_events_included,
        inferred_actions: file
            .coverage
            .inferred_actions
            .iter()
            .map(|action| action.to_ascii_lowercase())
            .collect(),
        skipped_files: file
            .coverage
            .skipped_files
            .into_iter()
            .map(|skipped| SkippedSource::new(skipped.path, skipped.reason))
            .collect(),
    };
    let principal = args
        .principal
        .clone()
        .or(file.principal)
        .unwrap_or_else(|| DEFAULT_PRINCIPAL.to_string());
    let identity = IdentityId::new(Provider::Aws, &principal);
    let usage = file
        .usage
        .into_iter()
        .enumerate()
        .map(|(position, row)| {
            let what = |field: &str| format!("`usage[{position}].{field}`");
            if !row.action.contains(':') {
                return Err(InputError::wrap(format!(
                    "{} `{}` must be `service:Action`",
                    what("action"),
                    row.action
                )));
            }
            let workloads = row
                .workloads
                .iter()
                .enumerate()
                .map(|(index, label)| {
                    parse_workload_label(label).ok_or_else(|| {
                        InputError::wrap(format!(
                            "{} `{label}` must be `<issuer host>:<subject>` (e.g. \
                             `token.actions.githubusercontent.com:repo:acme/web:ref:refs/heads/main`)",
                            what(&format!("workloads[{index}]"))
                        ))
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            let record = UsageRecord {
                count: row.allowed_count,
                inferred: 0,
                denied_count: row.denied_count,
                first_seen: parse_time(&row.first_seen, &what("first_seen"))?,
                last_seen: parse_time(&row.last_seen, &what("last_seen"))?,
                workloads,
                unlinked_calls: 0,
                sources: row.sources.into_iter().collect(),
                evidence: BTreeSet::new(),
            };
            let key = UsageKey {
                identity: identity.clone(),
                permission: Permission::new(Provider::Aws, row.action),
                resource: row.resource,
            };
            Ok((key, record))
        })
        .collect::<anyhow::Result<Usage>>()?;
    let mut scps = Vec::new();
    for level in &args.scps {
        scps.push(
            level
                .split(',')
                .filter(|file| !file.is_empty())
                .map(|file| load(Path::new(file)))
                .collect::<anyhow::Result<Vec<_>>>()?,
        );
    }
    Ok(MinimizeInput {
        principal_arn: principal,
        identity_policies: args
            .policies
            .iter()
            .map(|path| load(path))
            .collect::<anyhow::Result<_>>()?,
        boundary: args.boundary.as_deref().map(load).transpose()?,
        scps,
        usage,
        coverage,
        window: ObservationWindow { since, until },
    })
}

pub fn run(args: MinimizeArgs, global: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    if args.azure_activity_logs.is_some()
        || args
            .identity
            .as_deref()
            .is_some_and(super::minimize_azure::is_object_id)
    {
        let now = super::time::parse_now(args.window.now.as_deref())?;
        return super::minimize_azure::run(&args, global, out, now);
    }
    if args.gcp_audit_logs.is_some()
        || args
            .identity
            .as_deref()
            .is_some_and(super::minimize_gcp::is_service_account)
    {
        let now = super::time::parse_now(args.window.now.as_deref())?;
        return super::minimize_gcp::run(&args, global, out, now);
    }
    let input = if args.snapshot.is_some() {
        snapshot_input(&args, global)?
    } else {
        input(&args)?
    };
    let catalog = Catalog::aws()?;
    let options = MinimizeOptions {
        drop_unobservable: args.drop_unobservable,
        generalize_threshold: args.generalize_threshold,
        size_target: match args.target {
            Target::Managed => SizeTarget::Managed,
            Target::Inline => SizeTarget::Inline,
        },
        policy_name: args.name.clone(),
    };
    let result = minimize(&input, catalog, &options).map_err(|error| match error {
        // The proof failed: a runtime failure (exit 3); nothing is printed on stdout.
        MinimizeError::DropsUsed { .. }
        | MinimizeError::Broadens { .. }
        | MinimizeError::CoverageTable(_) => anyhow::Error::new(error),
        other => InputError::wrap(other),
    })?;

    let mut stderr = std::io::stderr().lock();
    for warning in &result.warnings {
        // An incomplete window is printed even with `--quiet`: it can make a policy unsafe.
        if !global.quiet || matches!(warning, Warning::IncompleteWindow { .. }) {
            writeln!(stderr, "warning: {warning}")?;
        }
    }
    if result.policies.is_empty() && !global.quiet {
        writeln!(
            stderr,
            "note: nothing is used or unobservable; the identity needs no identity policy"
        )?;
    }
    match args.format {
        MinimizeFormat::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &MinimizeView::new(&result, args.explain.then_some(catalog))?,
            )?;
            writeln!(out)?;
        }
        MinimizeFormat::Terraform => {
            out.write_all(render_terraform(&result.policies).as_bytes())?;
            if args.explain {
                writeln!(
                    stderr,
                    "{}",
                    explain_table(&result.decisions, &result.unused, catalog)
                )?;
            }
        }
    }
    Ok(Exit::Clean)
}

/// Actions a group row of the evidence table names in full; larger groups name their riskiest.
const GROUP_NAMED: usize = 20;

/// The evidence table: one row per group of unused actions granted by the same statements
/// (`--format json --explain` lists those one by one), then one row per action with evidence
/// of its own.
fn explain_table(
    decisions: &[ActionDecision],
    unused: &[UnusedActions],
    catalog: &Catalog,
) -> comfy_table::Table {
    let mut table = super::new_table(["action", "level", "decision", "evidence", "granted by"]);
    let quoted = |names: Vec<&str>| {
        names
            .into_iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for group in unused {
        let actions = match group.actions(catalog) {
            Some(actions) if actions.len() <= GROUP_NAMED => {
                let mut names: Vec<&str> =
                    actions.iter().map(|action| action.name.as_str()).collect();
                names.sort_unstable();
                quoted(names)
            }
            _ => format!(
                "{} actions, the riskiest: {}",
                group.count,
                quoted(
                    group
                        .riskiest
                        .iter()
                        .map(|(name, _)| name.as_str())
                        .collect()
                )
            ),
        };
        let levels = AccessLevel::ALL
            .iter()
            .rev()
            .filter(|level| group.at(**level) > 0)
            .map(|level| format!("{level}: {}", group.at(*level)))
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row([
            actions,
            levels,
            "dropped".to_string(),
            format!("{NOT_USED} ({} actions)", group.count),
            group
                .granted_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    for decision in decisions {
        table.add_row([
            decision.action.clone(),
            level(decision),
            if decision.kept { "kept" } else { "dropped" }.to_string(),
            decision
                .reasons
                .iter()
                .map(reason_text)
                .collect::<Vec<_>>()
                .join("; "),
            decision
                .granted_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table
}
