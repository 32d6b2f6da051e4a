//! `pipeleash minimize SA_EMAIL --snapshot DIR --gcp-audit-logs PATH`: the smallest grant of a
//! GCP service account, as custom roles and bindings (`--format json`, holding each role in
//! the `gcloud iam roles create --file` shape and the commands that apply it) or Terraform
//! (`--format terraform`, read back and proven again before it is printed).
//!
//! The inventory comes from the snapshot's GCP inventories (`pipeleash collect gcp`); usage
//! from Cloud Audit Logs read for the window; which permissions the logs could not show from
//! what was read (Data Access logs present or not per service).

use super::minimize::{MinimizeArgs, MinimizeFormat};
use super::{Exit, GlobalArgs, InputError};
use crate::gcp::audit_log::observability;
use crate::gcp::inventory::GcpInventory;
use crate::gcp::minimize::{
    GcpMinimizeError, GcpMinimizeOptions, minimize, prove_terraform, render_terraform,
};
use crate::gcp::normalize::normalize_into;
use crate::model::TimeWindow;
use crate::model::{IdentityId, Inventory, Provider};
use crate::output::json::v1::minimize::gcp::GcpMinimizationView;
use crate::snapshot::Snapshot;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;

/// Whether `identity` names a GCP service account (`name@project.iam.gserviceaccount.com`,
/// or a Google-managed `…gserviceaccount.com` account).
pub fn is_service_account(identity: &str) -> bool {
    identity.contains('@')
        && identity
            .to_ascii_lowercase()
            .ends_with(".gserviceaccount.com")
}

/// Every GCP inventory of the snapshot, as collected and normalized into one inventory.
fn load_inventory(dir: &Path) -> anyhow::Result<(Vec<GcpInventory>, Inventory)> {
    let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
    let raw = snapshot.gcp_inventories().map_err(InputError::wrap)?;
    if raw.is_empty() {
        return Err(InputError::wrap(format!(
            "snapshot `{}` holds no GCP inventory; collect one with `pipeleash collect gcp \
             --organization ID --out {}`",
            dir.display(),
            dir.parent().unwrap_or(dir).display()
        )));
    }
    let mut inventory = Inventory::new();
    for one in &raw {
        normalize_into(&mut inventory, one).map_err(InputError::wrap)?;
    }
    Ok((raw, inventory))
}

/// Runs `minimize` for a GCP service account as if it were `now`.
pub fn run(
    args: &MinimizeArgs,
    global: &GlobalArgs,
    out: &mut dyn Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    let identity_name = args.identity.as_deref().unwrap_or_default();
    let Some(snapshot) = args.snapshot.as_deref() else {
        return Err(InputError::wrap(
            "a GCP service account is minimized from a snapshot: give `--snapshot DIR` written by `pipeleash collect gcp`",
        ));
    };
    let Some(logs) = args.gcp_audit_logs.as_deref() else {
        return Err(InputError::wrap(format!(
            "give the audit logs `{identity_name}` wrote with `--gcp-audit-logs PATH` (a copy of \
             a Cloud Logging sink's bucket, or `gcloud logging read --format=json` output)"
        )));
    };
    let (raw, inventory) = load_inventory(snapshot)?;
    let identity = IdentityId::new(Provider::Gcp, &identity_name.to_ascii_lowercase());
    let since = args.window.since_at(now)?;
    let until = args.window.until_at(now)?;
    if let (Some(since), Some(until)) = (since, until) {
        args.window.check_not_empty(since, until)?;
    }
    // A local copy or a `gs://` sink, read as `usage` reads it (with progress on stderr).
    let usage = super::remote_logs::read_gcp(logs, TimeWindow { since, until }, global)?;
    super::remote_logs::of_this_kind::<crate::gcp::audit_log::Ingestion>(logs, &usage)?;
    let coverage = &usage.coverage;
    let mut stderr = std::io::stderr().lock();
    if coverage.entries_in_window == 0 {
        // Never minimize from a window in which nothing could be seen.
        return Err(InputError::wrap(format!(
            "the audit logs at `{}` hold no entry in the window ({} entries read); nothing is \
             known of use, so nothing can be removed: check `--since`/`--until`",
            logs.display(),
            coverage.entries_read
        )));
    }
    if let Some(account) = inventory.identities.get(&identity) {
        // Never minimize an account whose grants could not all be read: the change would be
        // computed against what was collected, not what is granted.
        let numbers = crate::gcp::analysis::project_numbers(&raw);
        if let Some(unread) =
            crate::gcp::analysis::unread_allow_policy(&raw, &account.container, &numbers)
        {
            return Err(InputError::wrap(format!(
                "{unread} failed while the snapshot was collected (see its inventory's \
                 `errors`): what `{identity_name}` is granted there is unknown, so nothing can \
                 be removed; collect again with `resourcemanager.*.getIamPolicy` on it \
                 (`roles/iam.securityReviewer`)"
            )));
        }
        // Never minimize an account whose project's logs were not read: every permission would
        // look unused.
        let covered = crate::gcp::analysis::projects_covered(&raw, &usage);
        if !covered.contains(&account.container) {
            return Err(InputError::wrap(format!(
                "no call in the audit logs at `{}` names a resource of `{}`, the project of \
                 `{identity_name}`, in the window: its logs were most likely not read, so its \
                 use is unknown and nothing can be removed; add that project's audit logs \
                 (projects covered: {})",
                logs.display(),
                account.container,
                if covered.is_empty() {
                    "none".to_string()
                } else {
                    covered
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
    }
    if !coverage.files_skipped.is_empty() {
        // Printed even with `--quiet`: missing evidence can make the result unsafe.
        writeln!(
            stderr,
            "warning: {} audit log file(s) could not be read; permissions used only in them \
             would look unused",
            coverage.files_skipped.len()
        )?;
    }
    let role_id = (args.name != "minimized").then(|| args.name.clone());
    let options = GcpMinimizeOptions {
        drop_unobservable: args.drop_unobservable,
        role_id,
    };
    let observe = |permission: &str| observability(permission, coverage);
    let result =
        minimize(&inventory, &identity, &usage.usage, &observe, &options).map_err(|error| {
            match error {
                // A failed proof is a runtime failure (exit 3); nothing is printed.
                GcpMinimizeError::ProofFailed { .. } => anyhow::Error::new(error),
                other => InputError::wrap(other),
            }
        })?;
    if !global.quiet && !result.granted_elsewhere.is_empty() {
        writeln!(
            stderr,
            "note: {} used permission(s) come from grants this change does not replace (a group, \
             a resource's own policy): {}",
            result.granted_elsewhere.len(),
            result.granted_elsewhere.join(", ")
        )?;
    }
    match args.format {
        MinimizeFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &GcpMinimizationView::new(&result))
                .context("cannot write the JSON output")?;
            writeln!(out)?;
        }
        MinimizeFormat::Terraform => {
            let text = render_terraform(&result).map_err(InputError::wrap)?;
            // The Terraform a user applies is proven, not only the value it was written from.
            prove_terraform(&inventory, &result, &text).map_err(anyhow::Error::new)?;
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(Exit::Clean)
}
