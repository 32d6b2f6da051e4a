//! `pipeleash usage --gcp-audit-logs PATH`: what each GCP principal used, from Cloud Audit
//! Logs (a local copy of a Cloud Logging sink's bucket, or `gcloud logging read
//! --format=json` output), with an honest account of what the logs cannot show.
//!
//! The JSON output is a versioned view (`format_version: 1`) built here; it is sorted and
//! deterministic.

use super::time::{WindowArgs, rfc3339};
use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::gcp::audit_log::{self, AuditLogUsage, LogType, rule_for};
use crate::model::TimeWindow;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads the audit logs at `path` within the window of `--since`/`--until` and prints the
/// usage.
pub fn run(
    path: &Path,
    window: &WindowArgs,
    format: OutputFormat,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    let window_args = window;
    let window = TimeWindow {
        since: window_args.since_at(now)?,
        until: window_args.until_at(now)?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        window_args.check_not_empty(since, until)?;
    }
    let usage = super::remote_logs::read_gcp(path, window, global)?;
    super::remote_logs::nothing_readable(
        path,
        usage.coverage.files_read,
        &usage.coverage.files_skipped,
    )?;
    if !global.quiet {
        warn(&usage);
    }
    let view = UsageView::new(&usage);
    match format {
        OutputFormat::Json => {
            let mut text =
                serde_json::to_vec_pretty(&view).context("cannot render the JSON output")?;
            text.push(b'\n');
            out.write_all(&text)
                .context("cannot write the JSON output")?;
        }
        OutputFormat::Table => write_table(&view, out)?,
    }
    Ok(Exit::Clean)
}

fn warn(usage: &AuditLogUsage) {
    let coverage = &usage.coverage;
    if coverage.entries_in_window == 0 {
        eprintln!(
            "warning: the audit logs read hold no entry in the window ({} entries read): nothing \
             is known of use; check `--since`/`--until` against the logs' dates",
            coverage.entries_read
        );
    }
    if !coverage.files_skipped.is_empty() {
        eprintln!(
            "warning: {} audit log file(s) could not be read; their entries are missing from the \
             result",
            coverage.files_skipped.len()
        );
    }
    if !coverage.data_access_present() {
        eprintln!(
            "warning: no Data Access audit log entry was read: data reads and writes and \
             metadata reads (`storage.objects.get`, `*.list`, …) are unobservable, not unused \
             (Data Access logs are off by default: \
             https://cloud.google.com/logging/docs/audit#data-access)"
        );
    }
}

#[derive(Debug, Serialize)]
struct UsageView {
    format_version: u32,
    source: &'static str,
    window: WindowView,
    coverage: CoverageView,
    identities: Vec<IdentityView>,
    delegations: Vec<DelegationView>,
    /// Service-account keys that calls in the window authenticated with
    /// (`authenticationInfo.serviceAccountKeyName`); left out when none did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    service_account_keys: Vec<KeyUseView>,
}

#[derive(Debug, Serialize)]
struct KeyUseView {
    /// As logged: `//iam.googleapis.com/projects/P/serviceAccounts/SA/keys/KEY_ID`.
    key: String,
    calls: u64,
    first_seen: String,
    last_seen: String,
}

#[derive(Debug, Serialize)]
struct WindowView {
    since: Option<String>,
    until: Option<String>,
}

#[derive(Debug, Serialize)]
struct CoverageView {
    files_read: u64,
    files_skipped: Vec<SkippedView>,
    entries_read: u64,
    entries_in_window: u64,
    first_entry: Option<String>,
    last_entry: Option<String>,
    /// Entries in the window per audit log.
    log_types: BTreeMap<&'static str, u64>,
    data_access_present: bool,
    data_access_services: Vec<String>,
    set_aside: BTreeMap<&'static str, u64>,
    granted_unstated: u64,
    granted_in_refused_calls: u64,
}

#[derive(Debug, Serialize)]
struct SkippedView {
    file: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct IdentityView {
    identity: String,
    used: Vec<PermissionView>,
    denied: Vec<PermissionView>,
}

#[derive(Debug, Serialize)]
struct PermissionView {
    permission: String,
    count: u64,
    first_seen: String,
    last_seen: String,
    resources: Vec<ResourceView>,
    workloads: Vec<WorkloadView>,
    /// Distinct files the calls were read from.
    source_files: usize,
    #[serde(skip)]
    files: std::collections::BTreeSet<String>,
    /// For used permissions: whether calls that need it are written to Data Access logs
    /// (`providers/gcp/audit-log-types.tsv`), so that without them its use is unobservable.
    #[serde(skip_serializing_if = "Option::is_none")]
    needs_data_access_logs: Option<bool>,
}

#[derive(Debug, Serialize)]
struct ResourceView {
    resource: String,
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct WorkloadView {
    /// The Workload Identity pool the subject was federated through.
    pool: String,
    subject: String,
}

#[derive(Debug, Serialize)]
struct DelegationView {
    identity: String,
    chain: Vec<String>,
    entries: u64,
}

impl UsageView {
    fn new(usage: &AuditLogUsage) -> Self {
        let coverage = &usage.coverage;
        let mut identities: Vec<IdentityView> = Vec::new();
        for (key, record) in usage.usage.iter() {
            if identities
                .last()
                .is_none_or(|last| last.identity != key.identity.as_str())
            {
                identities.push(IdentityView {
                    identity: key.identity.to_string(),
                    used: Vec::new(),
                    denied: Vec::new(),
                });
            }
            let Some(identity) = identities.last_mut() else {
                continue;
            };
            for (denied, count) in [(false, record.count), (true, record.denied_count)] {
                if count == 0 {
                    continue;
                }
                let list = if denied {
                    &mut identity.denied
                } else {
                    &mut identity.used
                };
                let permission = &key.permission.action;
                if list
                    .last()
                    .is_none_or(|last: &PermissionView| &last.permission != permission)
                {
                    list.push(PermissionView {
                        permission: permission.clone(),
                        count: 0,
                        first_seen: rfc3339(record.first_seen),
                        last_seen: rfc3339(record.last_seen),
                        resources: Vec::new(),
                        workloads: Vec::new(),
                        source_files: 0,
                        files: std::collections::BTreeSet::new(),
                        needs_data_access_logs: (!denied).then(|| {
                            rule_for(permission)
                                .ok()
                                .is_none_or(|rule| rule.log == LogType::DataAccess)
                        }),
                    });
                }
                let Some(view) = list.last_mut() else {
                    continue;
                };
                view.count += count;
                view.first_seen = view.first_seen.clone().min(rfc3339(record.first_seen));
                view.last_seen = view.last_seen.clone().max(rfc3339(record.last_seen));
                view.resources.push(ResourceView {
                    resource: key.resource.clone(),
                    count,
                });
                view.files.extend(record.sources.iter().cloned());
                view.source_files = view.files.len();
                for workload in &record.workloads {
                    let workload = WorkloadView {
                        pool: workload.issuer_url.clone(),
                        subject: workload.subject.clone(),
                    };
                    if let Err(position) = view.workloads.binary_search(&workload) {
                        view.workloads.insert(position, workload);
                    }
                }
            }
        }
        UsageView {
            format_version: 1,
            source: "gcp-audit-logs",
            window: WindowView {
                since: coverage.window.since.map(rfc3339),
                until: coverage.window.until.map(rfc3339),
            },
            coverage: CoverageView {
                files_read: coverage.files_read,
                files_skipped: coverage
                    .files_skipped
                    .iter()
                    .map(|file| SkippedView {
                        file: file.source.clone(),
                        reason: file.reason.clone(),
                    })
                    .collect(),
                entries_read: coverage.entries_read,
                entries_in_window: coverage.entries_in_window,
                first_entry: coverage.first_entry.map(rfc3339),
                last_entry: coverage.last_entry.map(rfc3339),
                log_types: coverage
                    .log_types
                    .iter()
                    .map(|(kind, count)| (kind.as_str(), *count))
                    .collect(),
                data_access_present: coverage.data_access_present(),
                data_access_services: coverage.data_access_services.iter().cloned().collect(),
                set_aside: coverage
                    .set_aside
                    .iter()
                    .map(|(reason, count)| (reason.as_str(), *count))
                    .collect(),
                granted_unstated: coverage.granted_unstated,
                granted_in_refused_calls: coverage.granted_in_refused_calls,
            },
            identities,
            delegations: usage
                .delegations
                .iter()
                .map(|delegation| DelegationView {
                    identity: delegation.identity.clone(),
                    chain: delegation.chain.clone(),
                    entries: delegation.entries,
                })
                .collect(),
            service_account_keys: usage
                .key_use
                .iter()
                .map(|(key, used)| KeyUseView {
                    key: key.clone(),
                    calls: used.calls,
                    first_seen: rfc3339(used.first),
                    last_seen: rfc3339(used.last),
                })
                .collect(),
        }
    }
}

fn write_table(view: &UsageView, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let coverage = &view.coverage;
    let logs: Vec<String> = coverage
        .log_types
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    writeln!(
        out,
        "Cloud Audit Logs: {} file(s) read, {} skipped; {} entries read, {} in the window ({} to \
         {}); by log: {}",
        coverage.files_read,
        coverage.files_skipped.len(),
        coverage.entries_read,
        coverage.entries_in_window,
        coverage.first_entry.as_deref().unwrap_or("-"),
        coverage.last_entry.as_deref().unwrap_or("-"),
        if logs.is_empty() {
            "-".to_string()
        } else {
            logs.join(", ")
        },
    )?;
    for identity in &view.identities {
        writeln!(out, "\n{}", identity.identity)?;
        let mut table = super::new_table([
            "",
            "permission",
            "count",
            "first seen",
            "last seen",
            "resources",
            "CI workloads",
        ]);
        for (label, permissions) in [("used", &identity.used), ("DENIED", &identity.denied)] {
            for permission in permissions {
                let resources = match permission.resources.as_slice() {
                    [one] => one.resource.clone(),
                    many => format!("{} resources", many.len()),
                };
                let workloads: Vec<&str> = permission
                    .workloads
                    .iter()
                    .map(|workload| workload.subject.as_str())
                    .collect();
                table.add_row([
                    label.to_string(),
                    permission.permission.clone(),
                    permission.count.to_string(),
                    permission.first_seen.clone(),
                    permission.last_seen.clone(),
                    resources,
                    workloads.join("\n"),
                ]);
            }
        }
        writeln!(out, "{table}")?;
    }
    if !view.delegations.is_empty() {
        writeln!(
            out,
            "\nimpersonation chains (charged to the last service account)"
        )?;
        for delegation in &view.delegations {
            writeln!(
                out,
                "  {} → {}: {} entries",
                delegation.chain.join(" → "),
                delegation.identity,
                delegation.entries
            )?;
        }
    }
    if !view.service_account_keys.is_empty() {
        writeln!(out, "\nservice-account keys used (user-managed keys)")?;
        for key in &view.service_account_keys {
            writeln!(
                out,
                "  {}: {} call(s), first {}, last {}",
                key.key, key.calls, key.first_seen, key.last_seen
            )?;
        }
    }
    if !coverage.set_aside.is_empty() {
        let parts: Vec<String> = coverage
            .set_aside
            .iter()
            .map(|(reason, count)| format!("{reason} {count}"))
            .collect();
        writeln!(out, "\nset aside: {}", parts.join(", "))?;
    }
    if !coverage.data_access_present {
        writeln!(
            out,
            "\nnote: no Data Access entries were read: data reads and writes and metadata reads \
             are unobservable, not unused (https://cloud.google.com/logging/docs/audit#data-access)"
        )?;
    } else {
        writeln!(
            out,
            "\nData Access entries read for: {}",
            coverage.data_access_services.join(", ")
        )?;
    }
    if !coverage.files_skipped.is_empty() {
        writeln!(out, "\nskipped files (their entries are missing):")?;
        for file in &coverage.files_skipped {
            writeln!(out, "  {}: {}", file.file, file.reason)?;
        }
    }
    Ok(())
}

/// Runs `pipeleash generate gcp-audit-logs`.
pub fn generate(
    args: super::generate::GcpAuditLogsArgs,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    use crate::generate::gcp_audit_log::{GROUND_TRUTH_FILE, GenerateOptions, generate};
    if args.entries == 0 || args.days == 0 {
        return Err(InputError::wrap(
            "`--entries` and `--days` must be at least 1",
        ));
    }
    if !global.quiet {
        eprintln!(
            "generating {} Cloud Audit Log entries into `{}`…",
            args.entries,
            args.out.display()
        );
    }
    let options = GenerateOptions {
        entries: args.entries,
        seed: args.seed,
        start: args.start,
        days: args.days,
        gzip: args.gzip,
    };
    let truth = generate(&args.out, &options)?;
    writeln!(
        out,
        "wrote {} entries in {} files under `{}`; ground truth in `{}`",
        truth.entries,
        truth.files,
        args.out.join(audit_log::walk::AUDIT_LOG_FOLDER).display(),
        args.out.join(GROUND_TRUTH_FILE).display()
    )?;
    Ok(Exit::Clean)
}
