//! `pipeleash minimize IDENTITY --snapshot DIR --azure-activity-logs PATH`: the smallest grant
//! of an Azure service principal or managed identity, as custom role definitions and role
//! assignments (`--format json`, holding each role in the `az role definition create
//! --role-definition` shape and the `az` commands that apply it) or Terraform
//! (`--format terraform`, `azurerm_role_definition` and `azurerm_role_assignment`, read back
//! and proven again before it is printed).
//!
//! The inventory comes from the snapshot's Azure inventories (`pipeleash collect azure`);
//! usage from the Activity Log read for the window; what the Activity Log cannot show (reads,
//! data-plane operations) from the embedded coverage table, kept as granted unless
//! `--drop-unobservable`.

use super::minimize::{MinimizeArgs, MinimizeFormat};
use super::{Exit, GlobalArgs, InputError};
use crate::azure::activity_log::ActivityLogCoverage;
use crate::azure::analysis::{covered_subscriptions, reached_subscriptions, unobservable_rules};
use crate::azure::inventory::{AzureInventory, INVENTORY_KIND};
use crate::azure::minimize::{
    AzureMinimization, AzureMinimizeError, AzureMinimizeOptions, minimize, render_terraform,
    replaced_inventory,
};
use crate::azure::normalize::{identity_id, normalize_into};
use crate::azure::{AzurePermissionBlock, Plane, evaluate};
use crate::model::TimeWindow;
use crate::model::{IdentityId, IdentityKind, Inventory};
use crate::output::json::v1::minimize::azure::AzureMinimizationView;
use crate::snapshot::Snapshot;
use anyhow::Context;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;

/// Whether `identity` is an Entra object id (a GUID), which names an Azure identity.
pub fn is_object_id(identity: &str) -> bool {
    let parts: Vec<&str> = identity.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(part, len)| part.len() == len && part.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Every Azure inventory of the snapshot, normalized into one inventory.
fn load_inventory(dir: &Path) -> anyhow::Result<Inventory> {
    let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
    let mut inventory = Inventory::new();
    let mut found = 0;
    for source in &snapshot.manifest().sources {
        if source.provider != "azure" || source.kind != INVENTORY_KIND {
            continue;
        }
        let raw: AzureInventory = snapshot
            .read_json(Path::new(&source.path))
            .map_err(InputError::wrap)?;
        // Never minimize against grants that could not all be read: an assignment at the
        // failed scope may grant what the change would then remove.
        if let Some(issue) = crate::azure::analysis::unread_grants(&raw).next() {
            return Err(InputError::wrap(format!(
                "`{}` at `{}` failed while snapshot `{}` was collected (see its inventory's \
                 `errors`): what the identities are granted is unknown, so nothing can be \
                 removed; collect again with `Reader` at that scope",
                issue.call,
                issue.target,
                dir.display()
            )));
        }
        normalize_into(&mut inventory, &raw).map_err(InputError::wrap)?;
        found += 1;
    }
    if found == 0 {
        return Err(InputError::wrap(format!(
            "snapshot `{}` holds no Azure inventory; collect one with `pipeleash collect azure \
             --subscription ID --out {}`",
            dir.display(),
            dir.parent().unwrap_or(dir).display()
        )));
    }
    Ok(inventory)
}

/// The identity named by object id or by display name (unique among the snapshot's Azure
/// service principals and managed identities).
fn resolve(inventory: &Inventory, name: &str) -> anyhow::Result<IdentityId> {
    let azure = |kind: IdentityKind| {
        matches!(
            kind,
            IdentityKind::AzureServicePrincipal | IdentityKind::AzureManagedIdentity
        )
    };
    if is_object_id(name) {
        let id = identity_id(name);
        if inventory
            .identities
            .get(&id)
            .is_some_and(|identity| azure(identity.kind))
        {
            return Ok(id);
        }
    } else {
        let matches: Vec<&IdentityId> = inventory
            .identities
            .values()
            .filter(|identity| azure(identity.kind) && identity.display_name == name)
            .map(|identity| &identity.id)
            .collect();
        match matches.as_slice() {
            [id] => return Ok((*id).clone()),
            [] => {}
            several => {
                return Err(InputError::wrap(format!(
                    "`{name}` names {} identities of the snapshot ({}); give the object id",
                    several.len(),
                    several
                        .iter()
                        .map(|id| id.native())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    Err(InputError::wrap(format!(
        "`{name}` is not a service principal or managed identity of the snapshot's Azure \
         inventory; give its object id or display name (`pipeleash graph` or the inventory's \
         `service_principals` list them)"
    )))
}

/// Runs `minimize` for an Azure identity as if it were `now`.
pub fn run(
    args: &MinimizeArgs,
    global: &GlobalArgs,
    out: &mut dyn Write,
    now: DateTime<Utc>,
) -> anyhow::Result<Exit> {
    let identity_name = args.identity.as_deref().unwrap_or_default();
    let Some(snapshot) = args.snapshot.as_deref() else {
        return Err(InputError::wrap(
            "an Azure identity is minimized from a snapshot: give `--snapshot DIR` written by `pipeleash collect azure`",
        ));
    };
    let Some(logs) = args.azure_activity_logs.as_deref() else {
        return Err(InputError::wrap(format!(
            "give the Activity Log `{identity_name}` appears in with `--azure-activity-logs PATH` \
             (a copy of the `insights-activity-logs` container, or `az monitor activity-log \
             list` output)"
        )));
    };
    let inventory = load_inventory(snapshot)?;
    let identity = resolve(&inventory, identity_name)?;
    let window = TimeWindow {
        since: args.window.since_at(now)?,
        until: args.window.until_at(now)?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        args.window.check_not_empty(since, until)?;
    }
    // A local copy or an export container, read as `usage` reads it (progress on stderr).
    let usage = super::remote_logs::read_azure(logs, window, global)?;
    super::remote_logs::of_this_kind::<crate::azure::activity_log::Ingestion>(logs, &usage)?;
    let coverage = &usage.coverage;
    if coverage.operations == 0 {
        // Never minimize from a window in which nothing could be seen.
        return Err(InputError::wrap(format!(
            "the Activity Log at `{}` holds no operation in the window ({} record(s) read, {} \
             outside the window); nothing is known of use, so nothing can be removed: check \
             `--since`/`--until`",
            logs.display(),
            coverage.records_read,
            coverage.records_outside_window
        )));
    }
    let covered = covered_subscriptions(&usage);
    let missing: Vec<String> = reached_subscriptions(&inventory, &identity)
        .into_iter()
        .filter(|subscription| !covered.contains(subscription))
        .collect();
    if !missing.is_empty() {
        return Err(InputError::wrap(format!(
            "the Activity Log read holds no operation in {} that `{identity_name}`'s role \
             assignments reach, so its use there is unknown and nothing can be removed; add \
             that subscription's logs to `--azure-activity-logs`",
            missing
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut stderr = std::io::stderr().lock();
    if !coverage.files_skipped.is_empty() {
        // Printed even with `--quiet`: missing evidence can make the result unsafe.
        writeln!(
            stderr,
            "warning: {} Activity Log file(s) could not be read; operations used only in them \
             would look unused: {}",
            coverage.files_skipped.len(),
            coverage
                .files_skipped
                .iter()
                .map(|file| format!("`{}` ({})", file.source, file.reason))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    let table = ActivityLogCoverage::embedded().context("the embedded coverage table")?;
    let rules = unobservable_rules(&table);
    let options = AzureMinimizeOptions {
        drop_unobservable: args.drop_unobservable,
        role_name: (args.name != "minimized").then(|| args.name.clone()),
    };
    let result = minimize(&inventory, &identity, &usage.usage, &rules, &options).map_err(
        |error| match error {
            // A failed proof is a runtime failure (exit 3); nothing is printed.
            AzureMinimizeError::ProofFailed { .. } | AzureMinimizeError::Engine(_) => {
                anyhow::Error::new(error)
            }
            other => InputError::wrap(other),
        },
    )?;
    if !global.quiet && !result.granted_elsewhere.is_empty() {
        writeln!(
            stderr,
            "note: {} used operation(s) come from grants this change does not replace (a group's \
             role assignment): {}",
            result.granted_elsewhere.len(),
            result.granted_elsewhere.join(", ")
        )?;
    }
    match args.format {
        MinimizeFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &AzureMinimizationView::new(&result))
                .context("cannot write the JSON output")?;
            writeln!(out)?;
        }
        MinimizeFormat::Terraform => {
            let text = render_terraform(&result).map_err(InputError::wrap)?;
            // The Terraform a user applies is proven, not only the value it was written from.
            prove_terraform(&inventory, &result, &text)?;
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(Exit::Clean)
}

/// A role and an assignment as read back from the Terraform.
#[derive(Debug, Default)]
struct ReadBack {
    /// (resource name, role name, scope, permissions, assignable scopes).
    roles: Vec<(String, String, String, AzurePermissionBlock, Vec<String>)>,
    /// (scope, role resource name, principal id, condition).
    assignments: Vec<(String, String, String, Option<String>)>,
}

fn strings(body: &hcl::Body, key: &str) -> Option<Vec<String>> {
    body.attributes()
        .find(|attribute| attribute.key() == key)
        .and_then(|attribute| match attribute.expr() {
            hcl::Expression::Array(items) => items
                .iter()
                .map(|item| match item {
                    hcl::Expression::String(text) => Some(text.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        })
}

fn string(body: &hcl::Body, key: &str) -> Option<String> {
    body.attributes()
        .find(|attribute| attribute.key() == key)
        .and_then(|attribute| match attribute.expr() {
            hcl::Expression::String(text) => Some(text.clone()),
            _ => None,
        })
}

fn read_back(text: &str) -> Result<ReadBack, String> {
    let body = hcl::parse(text).map_err(|error| error.to_string())?;
    let missing = |what: &str| format!("missing `{what}`");
    let mut read = ReadBack::default();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|label| label.as_str()).collect();
        let [kind, name] = labels.as_slice() else {
            return Err(format!(
                "a `{}` block without two labels",
                block.identifier()
            ));
        };
        let inner = block.body();
        match *kind {
            "azurerm_role_definition" => {
                let permissions = inner
                    .blocks()
                    .find(|block| block.identifier() == "permissions")
                    .ok_or_else(|| missing("permissions"))?
                    .body();
                let list = |key: &str| strings(permissions, key).ok_or_else(|| missing(key));
                read.roles.push((
                    name.to_string(),
                    string(inner, "name").ok_or_else(|| missing("name"))?,
                    string(inner, "scope").ok_or_else(|| missing("scope"))?,
                    AzurePermissionBlock {
                        actions: list("actions")?,
                        not_actions: list("not_actions")?,
                        data_actions: list("data_actions")?,
                        not_data_actions: list("not_data_actions")?,
                        condition: None,
                        condition_version: None,
                    },
                    strings(inner, "assignable_scopes")
                        .ok_or_else(|| missing("assignable_scopes"))?,
                ));
            }
            "azurerm_role_assignment" => {
                let reference = inner
                    .attributes()
                    .find(|attribute| attribute.key() == "role_definition_id")
                    .map(|attribute| attribute.expr().to_string())
                    .ok_or_else(|| missing("role_definition_id"))?;
                let role = reference
                    .strip_prefix("azurerm_role_definition.")
                    .and_then(|rest| rest.strip_suffix(".role_definition_resource_id"))
                    .ok_or_else(|| format!("`role_definition_id` is `{reference}`"))?;
                read.assignments.push((
                    string(inner, "scope").ok_or_else(|| missing("scope"))?,
                    role.to_string(),
                    string(inner, "principal_id").ok_or_else(|| missing("principal_id"))?,
                    string(inner, "condition"),
                ));
            }
            other => return Err(format!("unexpected resource type `{other}`")),
        }
    }
    Ok(read)
}

/// Reads the Terraform back into a minimization and proves it: the same roles and
/// assignments as the proven value (so *never broaden* carries over), and every allowed call
/// of the window decided at least as permissively after the change as before (*never drop*,
/// replayed by the grant engine on what was read back).
fn prove_terraform(
    inventory: &Inventory,
    result: &AzureMinimization,
    text: &str,
) -> anyhow::Result<()> {
    let failed = |detail: String| {
        anyhow::anyhow!(
            "the Terraform written for `{}` does not read back as the proven change ({detail}); \
             nothing is printed — please report this with the snapshot",
            result.identity
        )
    };
    let read = read_back(text).map_err(failed)?;
    let mut back = result.clone();
    back.roles.clear();
    back.assignments.clear();
    let mut names = Vec::new();
    for (resource, name, scope, permissions, assignable) in &read.roles {
        if assignable.as_slice() != std::slice::from_ref(scope) {
            return Err(failed(format!(
                "role `{name}` is assignable at {assignable:?}, not at `{scope}`"
            )));
        }
        let kind = result
            .roles
            .iter()
            .find(|role| &role.name == name)
            .map(|role| role.kind)
            .ok_or_else(|| failed(format!("role `{name}` is not in the proven change")))?;
        back.roles
            .push(crate::azure::minimize::CustomRoleDefinition {
                name: name.clone(),
                description: String::new(),
                permissions: permissions.clone(),
                assignable_scope: scope.clone(),
                kind,
            });
        names.push(resource.clone());
    }
    for (scope, role, principal, condition) in &read.assignments {
        let position = names
            .iter()
            .position(|name| name == role)
            .ok_or_else(|| failed(format!("assignment of unknown role `{role}`")))?;
        back.assignments
            .push(crate::azure::minimize::ProposedAssignment {
                scope: scope.clone(),
                role: position,
                principal_id: principal.clone(),
                condition: condition.clone(),
            });
    }
    let shape = |m: &AzureMinimization| {
        let mut items: Vec<(String, AzurePermissionBlock, String, String, Option<String>)> = m
            .assignments
            .iter()
            .map(|a| {
                let role = &m.roles[a.role];
                let mut permissions = role.permissions.clone();
                permissions.condition = None;
                permissions.condition_version = None;
                (
                    role.name.clone(),
                    permissions,
                    a.scope.clone(),
                    a.principal_id.clone(),
                    a.condition.clone(),
                )
            })
            .collect();
        items.sort();
        items
    };
    if shape(&back) != shape(result) {
        return Err(failed(
            "its roles or assignments differ from the proven ones".to_string(),
        ));
    }
    let after = replaced_inventory(inventory, &back)?;
    for (operation, scopes) in &result.used_calls {
        for scope in scopes.keys() {
            let before = evaluate(
                inventory,
                &result.identity,
                operation,
                Plane::Control,
                scope,
            )?
            .decision;
            let now =
                evaluate(&after, &result.identity, operation, Plane::Control, scope)?.decision;
            if now.permissiveness() < before.permissiveness() {
                return Err(failed(format!(
                    "`{operation}` at `{scope}`: {before:?} before, {now:?} after"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_minimization() -> (Inventory, AzureMinimization) {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/azure-demo");
        let inventory = load_inventory(&demo.join("snapshot")).unwrap();
        let usage = crate::azure::activity_log::read_path(
            &demo.join("activity-log"),
            TimeWindow::default(),
            None,
        )
        .unwrap();
        let table = ActivityLogCoverage::embedded().unwrap();
        let identity = resolve(&inventory, "gha-web-deploy").unwrap();
        let result = minimize(
            &inventory,
            &identity,
            &usage.usage,
            &unobservable_rules(&table),
            &AzureMinimizeOptions::default(),
        )
        .unwrap();
        (inventory, result)
    }

    #[test]
    fn terraform_that_differs_from_the_proven_change_is_refused() {
        let (inventory, result) = demo_minimization();
        let text = render_terraform(&result).unwrap();
        prove_terraform(&inventory, &result, &text).unwrap();
        // Broadened: a wildcard instead of the used operation.
        let broadened = text.replacen("\"Microsoft.Web/sites/write\"", "\"Microsoft.Web/*\"", 1);
        assert_ne!(broadened, text);
        let error = prove_terraform(&inventory, &result, &broadened).unwrap_err();
        assert!(error.to_string().contains("differ"), "{error}");
        // Moved to another scope.
        let moved = text.replace(
            "/resourceGroups/rg-web-prod\"",
            "/resourceGroups/rg-web-dev\"",
        );
        assert_ne!(moved, text);
        assert!(prove_terraform(&inventory, &result, &moved).is_err());
        // Not Terraform at all.
        assert!(prove_terraform(&inventory, &result, "resource {").is_err());
    }

    #[test]
    fn identities_resolve_by_object_id_in_any_case_or_by_unique_display_name() {
        let (inventory, result) = demo_minimization();
        let upper = result.identity.native().to_ascii_uppercase();
        assert_eq!(resolve(&inventory, &upper).unwrap(), result.identity);
        assert!(resolve(&inventory, "Microsoft Graph").is_err());
    }

    #[test]
    fn object_ids_are_guids() {
        assert!(is_object_id("0a1b2c3d-0000-4000-8000-00000000000A"));
        assert!(!is_object_id("gha-web-deploy"));
        assert!(!is_object_id("deployer@app.iam.gserviceaccount.com"));
        assert!(!is_object_id("0a1b2c3d-0000-4000-8000"));
    }
}
