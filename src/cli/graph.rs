//! `pipeleash graph`: questions over the access graph of CI identities — who can perform an
//! action, what a workload or identity reaches, the shortest paths that explain how — and the
//! saved queries of `queries/`.

use super::time::{Bound, parse_time_bound};
use super::usage::stored_usage;
use super::{Exit, GlobalArgs, InputError};
use crate::aws::cloudtrail::{CloudTrailUsage, TimeWindow};
use crate::aws::escalation::escalation_paths;
use crate::aws::graph::build_aws;
use crate::aws::normalize::{NormalizedAws, normalize};
use crate::catalog::Catalog;
use crate::graph::query::{GraphQuery, Hop};
use crate::graph::saved::parse_saved_query;
use crate::graph::{AccessGraph, render};
use crate::output::json::v1::graph::{PathsView, WhoCanView};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// How graph results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A human-readable table.
    Table,
    /// Machine-readable JSON (a stable, versioned shape).
    Json,
    /// A Graphviz digraph (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

/// Where the graph comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphInput {
    /// A snapshot directory written by `pipeleash collect` (holds `manifest.json`). Repeat it
    /// to join several (one per cloud): AWS, GCP and Azure identities share one graph.
    #[arg(long, value_name = "DIR", required = true)]
    pub snapshot: Vec<PathBuf>,
    /// CloudTrail, for `used` edges and observed workloads: a local directory of log files,
    /// `s3://bucket/prefix`, or `lookup-events`. Without it, the usage the snapshot holds (if
    /// any) is used.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX|lookup-events")]
    pub cloudtrail: Option<PathBuf>,
    /// Only CloudTrail events at or after this time: a date, an RFC 3339 time, or `90d`.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only CloudTrail events before this time (exclusive): a date (the whole day is
    /// included), an RFC 3339 time, or an age such as `7d`. Default: every event found.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    #[command(flatten)]
    pub aws: super::analyze::AwsSourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Table, global = true)]
    pub format: GraphFormat,
}

#[derive(Debug, clap::Subcommand)]
pub enum GraphCommand {
    /// Which identities can perform an action (directly or by escalating to administrator),
    /// and which workloads, accounts and identities can become them.
    WhoCan {
        /// The action, e.g. `s3:PutObject`.
        action: String,
        /// Only on this resource ARN.
        #[arg(long, value_name = "ARN")]
        on: Option<String>,
        #[command(flatten)]
        input: GraphInput,
    },
    /// Everything a workload (`repo:acme/web:pull_request`) or identity (ARN or name) can
    /// become or escalate to, each with the shortest path.
    Reach {
        /// A CI subject, `<issuer host>|<subject>`, an identity ARN, id or name.
        start: String,
        #[command(flatten)]
        input: GraphInput,
    },
    /// The shortest explanatory paths from a workload or identity to an identity or an action.
    Paths {
        /// A CI subject, `<issuer host>|<subject>`, an identity ARN, id or name.
        #[arg(long)]
        from: String,
        /// An identity (ARN, id or name) or an action (`iam:PutRolePolicy`).
        #[arg(long)]
        to: String,
        /// For an action target: only on this resource ARN.
        #[arg(long, value_name = "ARN")]
        on: Option<String>,
        #[command(flatten)]
        input: GraphInput,
    },
    /// Run a saved query file (`queries/<name>.query`).
    Run {
        /// The query file, or its name in `queries/`.
        query: PathBuf,
        #[command(flatten)]
        input: GraphInput,
    },
    /// List the saved queries with their descriptions.
    List {
        /// The folder of saved queries.
        #[arg(long, value_name = "DIR", default_value = "queries")]
        dir: PathBuf,
    },
}

pub fn run(
    command: GraphCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    run_at(command, global, out, Utc::now())
}

/// Runs the command as if it were `now` (which only relative `--since` values use).
pub fn run_at(
    command: GraphCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    match command {
        GraphCommand::List { dir } => list(&dir, out),
        GraphCommand::WhoCan { action, on, input } => {
            if action.trim().is_empty() || action.chars().any(char::is_whitespace) {
                return Err(InputError::wrap(format!(
                    "`{action}` is not a permission; name one as its cloud writes it: \
                     `iam:PutRolePolicy`, `resourcemanager.projects.setIamPolicy`, \
                     `Microsoft.Authorization/roleAssignments/write`"
                )));
            }
            if !global.quiet
                && let Some(note) = unknown_permission_note(&action)
            {
                eprintln!("note: {note}");
            }
            let (normalized, graph) = load(&input, global, now)?;
            let query = GraphQuery::new(&graph, &normalized.inventory);
            let rows = query.who_can(&action, on.as_deref());
            match input.format {
                GraphFormat::Table => writeln!(out, "{}", render::who_can_table(&rows, &graph))?,
                GraphFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&WhoCanView::new(&action, on.as_deref(), &rows))?
                )?,
                GraphFormat::Dot | GraphFormat::Mermaid => {
                    let hops = render::who_can_hops(&action, &rows);
                    write_diagram(out, input.format, &hops.iter().collect::<Vec<_>>())?;
                }
            }
            Ok(Exit::Clean)
        }
        GraphCommand::Reach { start, input } => {
            let (normalized, graph) = load(&input, global, now)?;
            let query = GraphQuery::new(&graph, &normalized.inventory);
            let resolved = query.resolve(&start).map_err(InputError::wrap)?;
            let paths: Vec<Vec<Hop>> = query
                .reach(&resolved)
                .into_iter()
                .map(|reached| reached.path)
                .filter(|path| !path.is_empty())
                .collect();
            write_paths(out, input.format, &resolved.label, None, &paths)?;
            Ok(Exit::Clean)
        }
        GraphCommand::Paths {
            from,
            to,
            on,
            input,
        } => {
            let (normalized, graph) = load(&input, global, now)?;
            let query = GraphQuery::new(&graph, &normalized.inventory);
            let start = query.resolve(&from).map_err(InputError::wrap)?;
            let target = query.target(&to, on.as_deref()).map_err(InputError::wrap)?;
            let paths = query.paths(&start, &target);
            write_paths(out, input.format, &start.label, Some(&to), &paths)?;
            Ok(Exit::Clean)
        }
        GraphCommand::Run { query, input } => {
            let path = saved_query_path(&query);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the saved query `{}`", path.display()))
                .map_err(InputError::wrap)?;
            let saved = parse_saved_query(&text)
                .map_err(|error| InputError(format!("`{}`: {error}", path.display())))?;
            if !global.quiet
                && let crate::graph::saved::ReachFilter::Action(permission) = &saved.reaches
                && let Some(note) = unknown_permission_note(permission)
            {
                eprintln!("note: `{}`: {note}", path.display());
            }
            let (normalized, graph) = load(&input, global, now)?;
            let matches = saved.run(&graph, &normalized.inventory);
            let label = path.display().to_string();
            let paths: Vec<Vec<Hop>> = matches.into_iter().map(|found| found.path).collect();
            write_paths(out, input.format, &label, None, &paths)?;
            Ok(if paths.is_empty() {
                Exit::Clean
            } else {
                Exit::Findings
            })
        }
    }
}

/// `queries/<name>` or `queries/<name>.query` when the argument is a bare name.
fn saved_query_path(query: &Path) -> PathBuf {
    if query.exists() {
        return query.to_path_buf();
    }
    let in_folder = Path::new("queries").join(query);
    if in_folder.exists() {
        return in_folder;
    }
    in_folder.with_extension("query")
}

fn list(dir: &Path, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "cannot list saved queries in `{}`; pass `--dir` with the queries folder",
                dir.display()
            )
        })
        .map_err(InputError::wrap)?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "query")
        })
        .collect();
    files.sort();
    let mut table = super::new_table(["query", "what it finds"]);
    for file in files {
        let name = file
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let description = match std::fs::read_to_string(&file)
            .map_err(|error| error.to_string())
            .and_then(|text| parse_saved_query(&text).map_err(|error| error.to_string()))
        {
            Ok(query) => query.description,
            Err(error) => format!("unreadable: {error}"),
        };
        table.add_row([name, description]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Clean)
}

/// Reads the snapshot (and logs), normalizes, and builds the graph.
fn load(
    input: &GraphInput,
    global: &GlobalArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<(NormalizedAws, AccessGraph)> {
    window(input, now)?;
    let snapshots = input
        .snapshot
        .iter()
        .map(|dir| crate::snapshot::Snapshot::open(dir).map_err(InputError::wrap))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut accounts = Vec::new();
    let mut usage_snapshot = None;
    for snapshot in &snapshots {
        let found = snapshot.aws_inventories().map_err(InputError::wrap)?;
        if !found.is_empty() && usage_snapshot.is_none() {
            usage_snapshot = Some(snapshot);
        }
        accounts.extend(found);
    }
    let mut normalized = normalize(&accounts);
    // GCP and Azure identities join the same inventory, so queries cross clouds.
    for snapshot in &snapshots {
        for raw in snapshot.gcp_inventories().map_err(InputError::wrap)? {
            crate::gcp::normalize::normalize_into(&mut normalized.inventory, &raw)
                .map_err(InputError::wrap)?;
        }
        for raw in snapshot.azure_inventories().map_err(InputError::wrap)? {
            crate::azure::normalize::normalize_into(&mut normalized.inventory, &raw)
                .map_err(InputError::wrap)?;
        }
    }
    let mut usage = match usage_snapshot {
        Some(snapshot) => read_usage(input, snapshot, global, now)?,
        None if input.cloudtrail.is_some() => {
            return Err(InputError::wrap(
                "`--cloudtrail` was given, but no snapshot holds an AWS account inventory; run                  `pipeleash collect aws` first",
            ));
        }
        None => None,
    };
    if let Some(usage) = &mut usage {
        usage.resolve_instance_profiles(
            &crate::aws::inventory::AwsAccountInventory::instance_profile_roles(&accounts),
        );
    }
    let catalog = Catalog::aws()?;
    let paths = escalation_paths().context("cannot load the privilege-escalation table")?;
    let mut graph = build_aws(&normalized, usage.as_ref(), catalog, paths);
    crate::graph::cloud::add_gcp_and_azure(&mut graph, &normalized.inventory);
    Ok((normalized, graph))
}

/// The usage for `used` edges: from `--cloudtrail` when given, else what the snapshot holds.
fn read_usage(
    input: &GraphInput,
    snapshot: &crate::snapshot::Snapshot,
    global: &GlobalArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<CloudTrailUsage>> {
    let Some(cloudtrail) = &input.cloudtrail else {
        return stored_usage(snapshot);
    };
    let window = window(input, now)?;
    super::analyze::ingest(cloudtrail, &input.aws, window, global).map(Some)
}

/// The CloudTrail window of `--since` and `--until`, checked the same way whatever the
/// snapshots hold: an empty window is an input error naming both flags as given, and either
/// flag without `--cloudtrail` is refused (nothing else reads them).
fn window(input: &GraphInput, now: DateTime<Utc>) -> anyhow::Result<TimeWindow> {
    let bound = |text: &Option<String>, bound, flag: &str| {
        text.as_deref()
            .map(|text| parse_time_bound(text, now, bound))
            .transpose()
            .map_err(|error| InputError::wrap(format!("`{flag}`: {error}")))
    };
    let window = TimeWindow {
        since: bound(&input.since, Bound::Since, "--since")?,
        until: bound(&input.until, Bound::Until, "--until")?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until)
        && since >= until
    {
        let (given_since, given_until) = (
            input.since.as_deref().unwrap_or_default().trim(),
            input.until.as_deref().unwrap_or_default().trim(),
        );
        return Err(InputError::wrap(format!(
            "the window is empty: `--since {given_since}` ({}) must be before `--until \
             {given_until}` ({})",
            super::time::rfc3339(since),
            super::time::rfc3339(until)
        )));
    }
    if input.cloudtrail.is_none() && (input.since.is_some() || input.until.is_some()) {
        return Err(InputError::wrap(
            "`--since` and `--until` choose which CloudTrail events to read: pass \
             `--cloudtrail DIR` too, or drop them",
        ));
    }
    Ok(window)
}

fn write_paths(
    out: &mut dyn std::io::Write,
    format: GraphFormat,
    from: &str,
    to: Option<&str>,
    paths: &[Vec<Hop>],
) -> anyhow::Result<()> {
    match format {
        GraphFormat::Table => {
            if paths.is_empty() {
                writeln!(out, "no path from `{from}`")?;
            } else {
                writeln!(out, "{}", render::paths_table(paths))?;
            }
        }
        GraphFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&PathsView::new(from, to, paths))?
        )?,
        GraphFormat::Dot | GraphFormat::Mermaid => {
            let hops: Vec<&Hop> = paths.iter().flatten().collect();
            write_diagram(out, format, &hops)?;
        }
    }
    Ok(())
}

fn write_diagram(
    out: &mut dyn std::io::Write,
    format: GraphFormat,
    hops: &[&Hop],
) -> anyhow::Result<()> {
    let text = match format {
        GraphFormat::Mermaid => render::mermaid(hops),
        _ => render::dot(hops),
    };
    write!(out, "{text}")?;
    Ok(())
}

/// A note when `permission` is in no embedded catalog of its cloud (a typo answers with every
/// wildcard grant, which reads like a real finding). Azure publishes no list of its
/// operations, so an Azure operation is checked against those some built-in role names
/// without a wildcard, on either plane.
pub fn unknown_permission_note(permission: &str) -> Option<String> {
    match crate::graph::cloud::permission_provider(permission) {
        crate::model::Provider::Aws => {
            let catalog = Catalog::aws().ok()?;
            catalog.action(permission).is_none().then(|| {
                format!(
                    "`{permission}` is not an action of the AWS catalog (`pipeleash catalog expand \
                     'SERVICE:*'` lists them); only wildcard grants can match it"
                )
            })
        }
        crate::model::Provider::Gcp => {
            let catalog = crate::catalog::gcp::GcpRoleCatalog::embedded().ok()?;
            (!catalog.knows_permission(permission)).then(|| {
                format!(
                    "no GCP predefined role holds `{permission}` (`pipeleash catalog expand \
                     --provider gcp 'SERVICE.*'` lists them); only custom roles can grant it"
                )
            })
        }
        crate::model::Provider::Azure => {
            let catalog = crate::catalog::azure::AzureRoleCatalog::embedded().ok()?;
            let wanted = permission.trim().to_ascii_lowercase();
            let known = [crate::azure::Plane::Control, crate::azure::Plane::Data]
                .into_iter()
                .any(|plane| catalog.known_operations(plane).contains(&wanted));
            (!known && !permission.contains('*')).then(|| {
                format!(
                    "no Azure built-in role names `{permission}` (`pipeleash catalog roles \
                     --provider azure --permission OPERATION` lists the roles that grant one); only \
                     wildcard entries and custom roles can grant it"
                )
            })
        }
    }
}
