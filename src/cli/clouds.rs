//! The GCP and Azure parts of `analyze` and `audit`: their inventories from the snapshots,
//! their logs from `--gcp-audit-logs` / `--azure-activity-logs`, one neutral
//! [`Analysis`] each (through [`crate::analysis::analyze`]), and how an analysis prints as a
//! table, JSON and SARIF locations.

use super::remote_logs::read_for_analysis;
use super::sarif::Located;
use super::{GlobalArgs, InputError, new_table};
use crate::analysis::{self, Analysis, Counts, IdentityAnalysis};
use crate::azure::activity_log::{self, ActivityLogUsage};
use crate::azure::analysis::AzureEvidence;
use crate::azure::inventory::AzureInventory;
use crate::gcp::analysis::GcpEvidence;
use crate::gcp::audit_log::{self, AuditLogUsage};
use crate::gcp::inventory::GcpInventory;
use crate::model::TimeWindow;
use crate::model::{Finding, ObservationWindow, Provider};
use crate::snapshot::Snapshot;
use std::path::{Path, PathBuf};

/// The GCP inventories of the snapshots and the audit logs read for the window.
pub struct GcpLoaded {
    pub inventories: Vec<GcpInventory>,
    pub usage: Option<AuditLogUsage>,
    pub logs: Option<PathBuf>,
    /// The snapshot file findings point at (SARIF).
    pub artifact: String,
}

/// The Azure inventories of the snapshots and the Activity Log read for the window.
pub struct AzureLoaded {
    pub inventories: Vec<AzureInventory>,
    pub usage: Option<ActivityLogUsage>,
    pub logs: Option<PathBuf>,
    pub artifact: String,
}

/// The GCP and Azure logs given, and whether each is read incrementally (`--incremental`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Logs<'a> {
    pub gcp: Option<&'a Path>,
    pub azure: Option<&'a Path>,
    pub gcp_incremental: bool,
    pub azure_incremental: bool,
}

/// Everything but AWS that an analysis reads.
#[derive(Default)]
pub struct CloudEvidence {
    pub gcp: Option<GcpLoaded>,
    pub azure: Option<AzureLoaded>,
}

/// The path of the first manifest source of `provider` and `kind`, inside its snapshot.
fn artifact(snapshot: &Snapshot, provider: &str) -> String {
    snapshot
        .inventory_path(provider)
        .map(|path| {
            format!(
                "{}/{}",
                snapshot.dir().display().to_string().trim_end_matches('/'),
                path
            )
        })
        .unwrap_or_else(|| snapshot.dir().display().to_string())
}

/// The logs of `kind` a collector stored in one of `snapshots` (the first that holds one).
fn stored_logs(snapshots: &[Snapshot], kind: &str) -> Option<PathBuf> {
    snapshots.iter().find_map(|snapshot| {
        snapshot
            .manifest()
            .sources
            .iter()
            .find(|source| source.kind == kind)
            .map(|source| snapshot.dir().join(&source.path))
    })
}

impl CloudEvidence {
    /// Reads the GCP and Azure inventories of `snapshots` and, for the clouds that have one,
    /// the logs given for `window`. Logs given for a cloud no snapshot holds are an input
    /// error (they could only be reported as usage of unknown identities). Logs read
    /// incrementally continue the store's last read of them, and the new read state is stored
    /// in the first snapshot holding that cloud's inventory.
    pub fn load(
        snapshots: &[Snapshot],
        logs: Logs<'_>,
        window: ObservationWindow,
        global: &GlobalArgs,
    ) -> anyhow::Result<CloudEvidence> {
        let (gcp_logs, azure_logs) = (logs.gcp, logs.azure);
        let (gcp_incremental, azure_incremental) = (logs.gcp_incremental, logs.azure_incremental);
        let mut evidence = CloudEvidence::default();
        let mut gcp = Vec::new();
        let mut gcp_artifact = None;
        let mut azure = Vec::new();
        let mut azure_artifact = None;
        // Which snapshot each scope came from: the same organization or tenant given twice
        // is an input error naming both, not a clash deep in the analysis.
        let mut seen: Vec<(String, PathBuf)> = Vec::new();
        let mut once = |scope: String, dir: &Path| -> anyhow::Result<()> {
            if let Some((_, first)) = seen.iter().find(|(known, _)| *known == scope) {
                return Err(InputError::wrap(format!(
                    "snapshots `{}` and `{}` both hold the inventory of {scope}; give one of \
                     them (the latest)",
                    first.display(),
                    dir.display()
                )));
            }
            seen.push((scope, dir.to_path_buf()));
            Ok(())
        };
        for snapshot in snapshots {
            let found = snapshot.gcp_inventories().map_err(InputError::wrap)?;
            for raw in &found {
                once(format!("GCP `{}`", raw.scope.join(", ")), snapshot.dir())?;
            }
            if !found.is_empty() {
                gcp_artifact.get_or_insert_with(|| (artifact(snapshot, "gcp"), snapshot));
            }
            gcp.extend(found);
            let found = snapshot.azure_inventories().map_err(InputError::wrap)?;
            for raw in &found {
                once(
                    format!(
                        "Azure tenant `{}`",
                        raw.tenant_id.as_deref().unwrap_or("(unknown)")
                    ),
                    snapshot.dir(),
                )?;
            }
            if !found.is_empty() {
                azure_artifact.get_or_insert_with(|| (artifact(snapshot, "azure"), snapshot));
            }
            azure.extend(found);
        }
        let read_for = TimeWindow {
            since: Some(window.since),
            until: Some(window.until),
        };
        // Without `--gcp-audit-logs`, the entries `collect gcp --audit-log-days` stored in
        // the snapshot, if any.
        let stored_gcp_logs = stored_logs(snapshots, audit_log::SNAPSHOT_ENTRIES_KIND);
        let gcp_from_snapshot = gcp_logs.is_none() && stored_gcp_logs.is_some();
        let gcp_logs = gcp_logs.map(Path::to_path_buf).or(stored_gcp_logs);
        let gcp_logs = gcp_logs.as_deref();
        match (gcp_artifact, gcp_logs) {
            (Some((artifact, snapshot)), logs) => {
                let usage = logs
                    .map(|path| {
                        read_for_analysis::<audit_log::Ingestion>(
                            path,
                            read_for,
                            gcp_incremental,
                            gcp_from_snapshot,
                            snapshot,
                            global,
                        )
                    })
                    .transpose()?
                    .flatten();
                evidence.gcp = Some(GcpLoaded {
                    inventories: gcp,
                    usage,
                    logs: logs.map(Path::to_path_buf),
                    artifact,
                });
            }
            (None, Some(path)) => return Err(no_inventory("GCP", "--gcp-audit-logs", path, "gcp")),
            (None, None) => {}
        }
        // Without `--azure-activity-logs`, the management events `collect azure
        // --activity-log-days` stored in the snapshot, if any.
        let stored_azure_logs = stored_logs(snapshots, activity_log::SNAPSHOT_EVENTS_KIND);
        let from_snapshot = azure_logs.is_none() && stored_azure_logs.is_some();
        let azure_logs = azure_logs.map(Path::to_path_buf).or(stored_azure_logs);
        let azure_logs = azure_logs.as_deref();
        match (azure_artifact, azure_logs) {
            (Some((artifact, snapshot)), logs) => {
                let usage = logs
                    .map(|path| {
                        read_for_analysis::<activity_log::Ingestion>(
                            path,
                            read_for,
                            azure_incremental,
                            from_snapshot,
                            snapshot,
                            global,
                        )
                    })
                    .transpose()?
                    .flatten();
                evidence.azure = Some(AzureLoaded {
                    inventories: azure,
                    usage,
                    logs: logs.map(Path::to_path_buf),
                    artifact,
                });
            }
            (None, Some(path)) => {
                return Err(no_inventory(
                    "Azure",
                    "--azure-activity-logs",
                    path,
                    "azure",
                ));
            }
            (None, None) => {}
        }
        Ok(evidence)
    }

    /// Whether any snapshot held a GCP or Azure inventory.
    pub fn is_empty(&self) -> bool {
        self.gcp.is_none() && self.azure.is_none()
    }

    /// One analysis per cloud present, GCP then Azure.
    pub fn analyze(
        &self,
        window: ObservationWindow,
        options: analysis::Options,
    ) -> anyhow::Result<Vec<Analysis>> {
        let mut analyses = Vec::new();
        if let Some(gcp) = &self.gcp {
            let evidence = analysis::Evidence::Gcp(GcpEvidence {
                inventories: &gcp.inventories,
                usage: gcp.usage.as_ref(),
            });
            analyses.push(analysis::analyze(&evidence, window, options)?);
        }
        if let Some(azure) = &self.azure {
            let evidence = analysis::Evidence::Azure(AzureEvidence {
                inventories: &azure.inventories,
                usage: azure.usage.as_ref(),
            });
            analyses.push(analysis::analyze(&evidence, window, options)?);
        }
        Ok(analyses)
    }

    /// The snapshot file the findings of `provider` point at.
    pub fn artifact(&self, provider: Provider) -> String {
        match provider {
            Provider::Gcp => self.gcp.as_ref().map(|gcp| gcp.artifact.clone()),
            Provider::Azure => self.azure.as_ref().map(|azure| azure.artifact.clone()),
            Provider::Aws => None,
        }
        .unwrap_or_default()
    }
}

fn no_inventory(cloud: &str, flag: &str, path: &Path, collect: &str) -> anyhow::Error {
    InputError::wrap(format!(
        "`{flag} {}` was given, but no snapshot holds an inventory of {cloud}, so nobody's use could \
         be judged; collect one (`pipeleash collect {collect} … --out DIR`) and add \
         `--snapshot DIR`",
        path.display()
    ))
}

/// The column naming where an identity lives.
fn container_heading(provider: Provider) -> &'static str {
    match provider {
        Provider::Aws => "account",
        Provider::Gcp => "project",
        Provider::Azure => "scope",
    }
}

/// How an identity is named in the tables: a GCP service account by its email, others by
/// kind and display name.
pub fn short_name(identity: &IdentityAnalysis) -> String {
    match identity.identity.id.provider() {
        Provider::Gcp => identity.identity.id.native().to_string(),
        _ => format!(
            "{}/{}",
            identity.identity.kind.label(),
            identity.identity.display_name
        ),
    }
}

/// An identity as a heading names it: its id, with its display name when the id alone says
/// nothing to a reader (an Azure object id).
fn named(identity: &IdentityAnalysis) -> String {
    let id = identity.identity.id.native();
    let name = &identity.identity.display_name;
    if name.is_empty() || name == id || identity.identity.id.provider() == Provider::Gcp {
        format!("`{id}`")
    } else {
        format!("`{}` ({id})", identity.identity.display_name)
    }
}

fn count(counts: Option<&Counts>, value: impl Fn(&Counts) -> usize) -> String {
    counts.map_or_else(|| "-".to_string(), |counts| value(counts).to_string())
}

/// Prints one cloud's analysis: a header line, the identities, the findings and (for
/// `audit`) the proven proposals.
pub fn print_table(
    analysis: &Analysis,
    with_proposals: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    writeln!(out)?;
    match (&analysis.usage, &analysis.usage_summary) {
        (Some(origin), Some(summary)) => {
            writeln!(out, "{}: {origin}: {summary}", analysis.provider)?
        }
        (Some(origin), None) => writeln!(out, "{}: {origin}", analysis.provider)?,
        _ => writeln!(
            out,
            "{}: no logs given: used and unused permissions are unknown",
            analysis.provider
        )?,
    }
    let mut table = new_table([
        "identity",
        container_heading(analysis.provider),
        "trusted by",
        "granted",
        "used",
        "unused",
        "unobservable",
        "denied",
        "findings",
    ]);
    for identity in &analysis.identities {
        let counts = identity.counts.as_ref();
        let worst = identity
            .findings
            .iter()
            .map(|finding| finding.severity)
            .max();
        table.add_row([
            short_name(identity),
            identity.identity.container.clone(),
            crate::output::trust_summary(&identity.trusts),
            count(counts, |c| c.granted),
            count(counts, |c| c.used),
            count(counts, |c| c.unused),
            count(counts, |c| c.unobservable),
            count(counts, |c| c.denied),
            match worst {
                Some(severity) => format!("{} ({severity})", identity.findings.len()),
                None => "0".into(),
            },
        ]);
    }
    writeln!(out, "{table}")?;
    let mut findings = new_table(["severity", "check", "identity", "finding"]);
    let mut rows = 0;
    let mut listed: Vec<(Option<&IdentityAnalysis>, &Finding)> = analysis.all_findings().collect();
    listed.sort_by(|a, b| {
        b.1.severity
            .cmp(&a.1.severity)
            .then_with(|| a.1.id.cmp(b.1.id))
            .then_with(|| a.0.map(short_name).cmp(&b.0.map(short_name)))
    });
    for (identity, finding) in listed {
        findings.add_row([
            finding.severity.to_string(),
            finding.id.to_string(),
            identity.map_or_else(|| "-".to_string(), short_name),
            match identity {
                Some(_) => finding.message.clone(),
                None => format!("{}: {}", finding.subject, finding.message),
            },
        ]);
        rows += 1;
    }
    if rows > 0 {
        writeln!(out, "{findings}")?;
    }
    if with_proposals {
        for identity in &analysis.identities {
            match &identity.proposal {
                Some(Ok(proposal)) => {
                    writeln!(
                        out,
                        "\nminimized grant for {} (proven: {} granted-today pair(s), {} used \
                         pair(s) still allowed):",
                        named(identity),
                        proposal.proof_never_broaden,
                        proposal.proof_never_drop
                    )?;
                    for line in &proposal.summary {
                        writeln!(out, "  {line}")?;
                    }
                    writeln!(
                        out,
                        "  (the definitions and the commands that apply them: `--format json`, or \
                         `pipeleash minimize {}` with `--format terraform`)",
                        identity.identity.id.native()
                    )?;
                }
                Some(Err(error)) => {
                    writeln!(out, "\nno minimized grant for {}: {error}", named(identity))?
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// Every finding of `analysis` with where it points, for SARIF.
pub fn located<'a>(analysis: &'a Analysis, artifact: &str) -> Vec<Located<'a>> {
    analysis
        .all_findings()
        .map(|(identity, finding)| Located {
            identity: match identity {
                Some(identity) => identity.identity.id.native(),
                None => subject_name(finding),
            },
            artifact: artifact.to_string(),
            finding,
        })
        .collect()
}

/// What a finding about no single identity is about: the name in backticks of its subject
/// (``WIF provider `projects/1/…/providers/github` `` → `projects/1/…/providers/github`), or
/// the whole subject.
pub fn subject_name(finding: &Finding) -> &str {
    let subject = finding.subject.as_str();
    subject
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once('`'))
        .map_or(subject, |(name, _)| name)
}
