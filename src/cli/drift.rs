//! `pipeleash drift`: what changed between two snapshots (see `docs/drift.md`).

use super::time::rfc3339;
use super::usage::stored_usage;
use super::{Exit, GlobalArgs, InputError};
use crate::aws::cloudtrail::CloudTrailUsage;
use crate::aws::drift::iac::{IacDifference, compare as compare_iac, parse_terraform};
use crate::aws::drift::render::{SnapshotRef, lines, markdown};
use crate::aws::drift::{SnapshotFacts, compare};
use crate::aws::inventory::AwsAccountInventory;
use crate::aws::normalize::normalize;
use crate::catalog::Catalog;
use crate::model::ObservationWindow as Window;
use crate::model::Severity;
use crate::output::json::v1::drift::{DriftView, IacDriftView};
use crate::snapshot::Snapshot;
use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// How `drift` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    Table,
    /// Versioned JSON (`format_version: 1`), sorted.
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The earlier snapshot directory. Default: the snapshot before `--to` in `--store`.
    #[arg(long, value_name = "SNAP")]
    pub from: Option<PathBuf>,
    /// The later snapshot directory. Default: the latest snapshot in `--store`.
    #[arg(long, value_name = "SNAP")]
    pub to: Option<PathBuf>,
    /// A store of snapshots (a directory of `YYYYMMDDTHHMMSSZ` snapshots, or object storage:
    /// `s3://bucket/prefix`, `gs://…`, `az://…`), for the defaults of `--from` and `--to`.
    #[arg(long, value_name = "DIR|URL")]
    pub store: Option<PathBuf>,
    /// Exit with code 1 when a change is at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub fail_on: Severity,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DriftFormat::Table)]
    pub format: DriftFormat,
    /// Compare infrastructure as code with live instead: the output of `terraform show -json`
    /// (a state) or `terraform show -json PLANFILE` (a plan), against the snapshot `--to` (or
    /// the latest of `--store`). Reports roles live but not in code, in code but not live,
    /// and trust, inline or attached policies that differ (console edits).
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub iac: Option<PathBuf>,
}

/// The two snapshots to compare, from the flags.
fn pick(args: &DriftArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        return Ok((from.clone(), to.clone()));
    }
    let Some(store) = &args.store else {
        return Err(InputError::wrap(
            "`drift` needs `--from SNAP` and `--to SNAP`, or `--store DIR` to take the latest two snapshots",
        ));
    };
    let store = super::snapshots::open_store(store, None)?;
    let listed = store.list().map_err(InputError::wrap)?;
    let to = match &args.to {
        Some(to) => to.clone(),
        None => listed.last().cloned().ok_or_else(|| {
            InputError::wrap(format!("store `{}` holds no snapshot", store.location()))
        })?,
    };
    let from = match &args.from {
        Some(from) => from.clone(),
        None => listed
            .iter()
            .rev()
            .find(|candidate| candidate.file_name() < to.file_name() || to.file_name().is_none())
            .cloned()
            .ok_or_else(|| {
                InputError::wrap(format!(
                    "store `{}` holds no snapshot before `{}`; drift needs two",
                    store.location(),
                    to.display()
                ))
            })?,
    };
    // Snapshots of a store in object storage: their files are downloaded into the cache.
    for dir in [&from, &to] {
        store.open(dir).map_err(InputError::wrap)?;
    }
    Ok((from, to))
}

/// Reads one snapshot into the facts drift compares.
fn load(dir: &Path, catalog: &Catalog) -> anyhow::Result<(SnapshotFacts, SnapshotRef, Window)> {
    let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
    let inventories = snapshot.aws_inventories().map_err(InputError::wrap)?;
    if inventories.is_empty() {
        return Err(InputError::wrap(format!(
            "snapshot `{}` holds no AWS account inventory; run `pipeleash collect aws` first",
            dir.display()
        )));
    }
    let created_at = DateTime::parse_from_rfc3339(&snapshot.manifest().created_at)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            InputError::wrap(format!(
                "snapshot `{}`: `created_at` `{}` is not an RFC 3339 time ({error}); the manifest is damaged",
                dir.display(),
                snapshot.manifest().created_at
            ))
        })?;
    let mut usage = stored_usage(&snapshot)?;
    if let Some(usage) = &mut usage {
        usage.resolve_instance_profiles(&AwsAccountInventory::instance_profile_roles(&inventories));
    }
    let window = window(usage.as_ref(), created_at);
    let normalized = normalize(&inventories);
    let paths = crate::aws::escalation::escalation_paths()
        .context("cannot load the privilege-escalation table")?;
    let facts = SnapshotFacts::build(&normalized, usage.as_ref(), window, catalog, paths);
    Ok((
        facts,
        SnapshotRef {
            path: dir.display().to_string(),
            created_at: rfc3339(created_at),
        },
        window,
    ))
}

/// The warning for two snapshots whose observation windows differ in length by more than a
/// day: "newly unused" may then only mean "not in the shorter window".
fn window_caveat(from: &Window, to: &Window) -> Option<String> {
    let length = |window: &Window| window.until - window.since;
    let (from_days, to_days) = (length(from), length(to));
    ((from_days - to_days).num_seconds().abs() > 86_400).then(|| {
        format!(
            "the two snapshots' usage covers different windows ({} days, {} to {}, against {} \
             days, {} to {}): a permission used only outside the shorter one shows as newly \
             unused or newly used",
            from_days.num_days(),
            from.since.format("%Y-%m-%d"),
            from.until.format("%Y-%m-%d"),
            to_days.num_days(),
            to.since.format("%Y-%m-%d"),
            to.until.format("%Y-%m-%d"),
        )
    })
}

/// The window the stored usage was read for, else the default 90 days up to the snapshot's
/// creation: the same for every run over the same snapshot.
fn window(usage: Option<&CloudTrailUsage>, created_at: DateTime<Utc>) -> Window {
    let fallback = Window {
        since: created_at - Duration::days(90),
        until: created_at,
    };
    let Some(usage) = usage else {
        return fallback;
    };
    let since = usage.window.since.or(usage.coverage.first_event);
    let until = usage.window.until.or(usage
        .coverage
        .last_event
        .map(|last| last + Duration::seconds(1)));
    match (since, until) {
        (Some(since), Some(until)) if since < until => Window { since, until },
        _ => fallback,
    }
}

/// The drift from the snapshot `from` to `to`, with how each is named in the report.
pub(super) fn drift_between(
    from_dir: &Path,
    to_dir: &Path,
) -> anyhow::Result<(crate::aws::drift::Drift, SnapshotRef, SnapshotRef)> {
    let catalog = Catalog::aws().context("cannot load the embedded AWS catalog")?;
    let (from_facts, from, from_window) = load(from_dir, catalog)?;
    let (to_facts, to, to_window) = load(to_dir, catalog)?;
    if let Some(caveat) = window_caveat(&from_window, &to_window) {
        eprintln!("warning: {caveat}");
    }
    Ok((compare(&from_facts, &to_facts, catalog), from, to))
}

/// The drift as a table, after a line naming both snapshots.
pub(super) fn write_table(
    drift: &crate::aws::drift::Drift,
    from: &SnapshotRef,
    to: &SnapshotRef,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "drift from `{}` ({}) to `{}` ({})",
        from.path, from.created_at, to.path, to.created_at
    )?;
    if drift.identities.is_empty() {
        writeln!(out, "no drift")?;
    } else {
        let mut table = super::new_table(["severity", "identity", "change", "detail"]);
        for identity in &drift.identities {
            for (severity, what, detail) in lines(identity) {
                table.add_row([
                    severity.to_string(),
                    format!("{}/{}", identity.kind, short(&identity.identity)),
                    what.to_string(),
                    detail,
                ]);
            }
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}

/// The one-line summary of a drift on stderr.
pub(super) fn summary(drift: &crate::aws::drift::Drift) -> String {
    let severity = drift
        .severity()
        .map_or_else(|| "none".to_string(), |severity| severity.to_string());
    format!(
        "drift: {} identit{} changed, worst severity {severity}{}",
        drift.identities.len(),
        if drift.identities.len() == 1 {
            "y"
        } else {
            "ies"
        },
        if drift.usage_compared {
            ""
        } else {
            "; usage not compared (a snapshot holds none)"
        }
    )
}

pub fn run(
    args: DriftArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    if let Some(iac) = &args.iac {
        return run_iac(iac, &args, global, out);
    }
    let (from_dir, to_dir) = pick(&args)?;
    let (drift, from, to) = drift_between(&from_dir, &to_dir)?;
    match args.format {
        DriftFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &DriftView::new(&drift, &from, &to))?;
            writeln!(out)?;
        }
        DriftFormat::Markdown => write!(out, "{}", markdown(&drift, &from, &to))?,
        DriftFormat::Table => write_table(&drift, &from, &to, out)?,
    }
    if !global.quiet {
        eprintln!("{}", summary(&drift));
    }
    Ok(match drift.severity() {
        Some(severity) if severity >= args.fail_on => Exit::Findings,
        _ => Exit::Clean,
    })
}

/// `name` of `arn:aws:iam::123:role/path/name`, with the account: `123:name`.
fn short(arn: &str) -> String {
    let account = arn.split(':').nth(4).unwrap_or("");
    let name = arn.rsplit('/').next().unwrap_or(arn);
    format!("{account}:{name}")
}

/// How much a difference between code and live matters: a grant or trust changed outside the
/// code is `high` (an unreviewed change of who can do what), a role outside the code
/// `medium`, code not applied `low`.
fn iac_severity(difference: &IacDifference) -> Severity {
    match difference {
        IacDifference::TrustPolicyDiffers { .. }
        | IacDifference::InlinePolicyDiffers { .. }
        | IacDifference::InlinePolicyOnlyLive { .. }
        | IacDifference::AttachedOnlyLive { .. } => Severity::High,
        IacDifference::NotInCode { .. } => Severity::Medium,
        IacDifference::NotLive { .. }
        | IacDifference::InlinePolicyOnlyInCode { .. }
        | IacDifference::AttachedOnlyInCode { .. } => Severity::Low,
    }
}

/// `drift --iac FILE`: the Terraform code against the live snapshot.
fn run_iac(
    iac: &Path,
    args: &DriftArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let live_dir = match (&args.to, &args.store) {
        (Some(to), _) => to.clone(),
        (None, Some(store)) => {
            let store = super::snapshots::open_store(store, None)?;
            let live = store
                .list()
                .map_err(InputError::wrap)?
                .pop()
                .ok_or_else(|| {
                    InputError::wrap(format!("store `{}` holds no snapshot", store.location()))
                })?;
            store.open(&live).map_err(InputError::wrap)?;
            live
        }
        (None, None) => {
            return Err(InputError::wrap(
                "`drift --iac FILE` compares the code with a snapshot: give `--to SNAP` or `--store DIR`",
            ));
        }
    };
    let text = std::fs::read_to_string(iac)
        .map_err(|error| InputError::wrap(format!("cannot read `{}`: {error}", iac.display())))?;
    let code = parse_terraform(&text)
        .map_err(|error| InputError::wrap(format!("`{}` {error}", iac.display())))?;
    let snapshot = Snapshot::open(&live_dir).map_err(InputError::wrap)?;
    let live = snapshot.aws_inventories().map_err(InputError::wrap)?;
    if live.is_empty() {
        return Err(InputError::wrap(format!(
            "snapshot `{}` holds no AWS account inventory; run `pipeleash collect aws` first",
            live_dir.display()
        )));
    }
    let differences = compare_iac(&code, &live);
    let mut rows: Vec<(Severity, &IacDifference)> = differences
        .iter()
        .map(|difference| (iac_severity(difference), difference))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    match args.format {
        DriftFormat::Json => {
            let view = IacDriftView::new(
                iac.display().to_string(),
                live_dir.display().to_string(),
                code.len(),
                &rows,
            );
            serde_json::to_writer_pretty(&mut *out, &view)?;
            writeln!(out)?;
        }
        DriftFormat::Markdown => {
            writeln!(
                out,
                "# Code against live\n\n`{}` ({} role(s)) against snapshot `{}`.\n",
                iac.display(),
                code.len(),
                live_dir.display()
            )?;
            if rows.is_empty() {
                writeln!(out, "No difference.")?;
            }
            for (severity, difference) in &rows {
                writeln!(
                    out,
                    "- **{severity}** `{}` ({}): {}",
                    difference.role(),
                    difference.kind(),
                    difference.detail()
                )?;
            }
        }
        DriftFormat::Table => {
            writeln!(
                out,
                "code `{}` ({} role(s)) against live `{}`",
                iac.display(),
                code.len(),
                live_dir.display()
            )?;
            if rows.is_empty() {
                writeln!(out, "no difference")?;
            } else {
                let mut table = super::new_table(["severity", "role", "difference", "detail"]);
                for (severity, difference) in &rows {
                    table.add_row([
                        severity.to_string(),
                        difference.role().to_string(),
                        difference.kind().to_string(),
                        difference.detail(),
                    ]);
                }
                writeln!(out, "{table}")?;
            }
        }
    }
    let worst = rows.iter().map(|(severity, _)| *severity).max();
    if !global.quiet {
        eprintln!(
            "drift --iac: {} difference(s) between {} role(s) in code and the live snapshot",
            rows.len(),
            code.len()
        );
    }
    Ok(match worst {
        Some(severity) if severity >= args.fail_on => Exit::Findings,
        _ => Exit::Clean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(since: &str, until: &str) -> Window {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        Window {
            since: at(since),
            until: at(until),
        }
    }

    #[test]
    fn windows_of_different_lengths_are_named_in_a_caveat() {
        let week = window("2026-11-14T00:00:00Z", "2026-11-21T00:00:00Z");
        let two_days = window("2026-11-19T00:00:00Z", "2026-11-21T00:00:00Z");
        let caveat = window_caveat(&week, &two_days).expect("a caveat");
        assert!(
            caveat.contains("7 days, 2026-11-14 to 2026-11-21"),
            "{caveat}"
        );
        assert!(
            caveat.contains("2 days, 2026-11-19 to 2026-11-21"),
            "{caveat}"
        );
        // Equal lengths, however far apart, and a difference within a day: no caveat.
        let next_week = window("2026-11-21T00:00:00Z", "2026-11-28T00:00:00Z");
        assert_eq!(window_caveat(&week, &next_week), None);
        let almost = window("2026-11-14T12:00:00Z", "2026-11-21T00:00:00Z");
        assert_eq!(window_caveat(&week, &almost), None);
    }
}
