//! `pipeleash usage --gcp-audit-logs PATH`: what each GCP principal used, from Cloud Audit
//! Logs (a local copy of a Cloud Logging sink's bucket, or `gcloud logging read
//! --format=json` output), with an honest account of what the logs cannot show.
//!
//! The JSON output is the frozen view `output::json::v1::usage::gcp` (`format_version: 1`); it
//! is sorted and deterministic.

use super::time::WindowArgs;
use super::{Exit, GlobalArgs, InputError, OutputFormat};
use crate::gcp::audit_log::{self, AuditLogUsage};
use crate::model::TimeWindow;
use crate::output::json::v1::usage::gcp::UsageView;
use anyhow::Context;
use chrono::{DateTime, Utc};
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
    super::remote_logs::of_this_kind::<crate::gcp::audit_log::Ingestion>(path, &usage)?;
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
    super::generate::check_out(&args.out)?;
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
