//! The GCP analysis in the neutral shape ([`crate::analysis::Analysis`]): per service account,
//! who can become it ([`crate::gcp::normalize`]'s trusts), how many permissions its bindings
//! grant, used, did not use, could not be observed and was denied (from Cloud Audit Logs),
//! its findings ([`crate::gcp::checks::gcp_identity_findings`]) and, on request, the proven
//! smallest grant ([`crate::gcp::minimize::minimize`]).
//!
//! Rules:
//! - *Granted* is every distinct permission the account's bindings give (organization,
//!   folders, projects), roles expanded from the inventory's custom roles or the embedded
//!   catalog of predefined roles; a role in neither is counted as granting nothing known and
//!   said in `coverage`. A permission that an IAM deny policy denies the account,
//!   unconditionally and for certain, at or above a binding's resource is not granted by that
//!   binding (<https://cloud.google.com/iam/docs/deny-overview#policy-eval>); conditional or
//!   possible deny rules leave it granted.
//! - *Used* is a granted permission with at least one allowed call in the window; denied calls
//!   never count as use. *Unobservable* is a granted permission without calls whose calls
//!   are written to Data Access audit logs of a service none were read for
//!   ([`crate::gcp::audit_log::observability`]); *unused* is the rest.
//! - Counts exist only when the logs read can speak for the account's project. The audit log
//!   reader does not keep the project each entry was logged in (its `logName`), so a project
//!   counts as covered when a call in the window (of any principal) names one of its resources
//!   (`projects/<id or number>/…`, `//service.googleapis.com/projects/…`); the account's
//!   counts are `None` otherwise, and `coverage` says which projects were covered and how
//!   that was decided. Without logs, every count is `None`.
//!
//! Pure: the inventories and the usage are arguments, the output is sorted.

use super::audit_log::{AuditLogUsage, Observability, observability};
use super::evaluate::{hard_denied, hard_deny_rules};
use super::inventory::GcpInventory;
use super::minimize::{GcpMinimizeOptions, minimize, render_json};
use super::normalize::normalize_into;
use crate::analysis::{Analysis, Counts, IdentityAnalysis, Options, Proposal};
use crate::catalog::gcp::GcpRoleCatalog;
use crate::model::{GrantBody, IdentityId, Inventory, ObservationWindow, Provider};
use std::collections::{BTreeMap, BTreeSet};

/// What a GCP analysis reads: the snapshot's GCP inventories (one per collected scope) and,
/// when logs were read, their usage.
#[derive(Debug, Clone, Copy)]
pub struct GcpEvidence<'a> {
    pub inventories: &'a [GcpInventory],
    pub usage: Option<&'a AuditLogUsage>,
}

/// Analyse every service account of `evidence` over `window`.
///
/// Errors: two inventories holding the same binding (the same scope collected twice), or the
/// embedded role catalog failing to load (a build defect). A service account that cannot be
/// minimized is not an error: its proposal holds the reason.
pub fn analyze(
    evidence: &GcpEvidence<'_>,
    window: ObservationWindow,
    options: Options,
) -> anyhow::Result<Analysis> {
    let mut inventory = Inventory::new();
    for raw in evidence.inventories {
        normalize_into(&mut inventory, raw)?;
    }
    let catalog = GcpRoleCatalog::embedded().map_err(|error| anyhow::anyhow!("{error}"))?;
    let numbers = project_numbers(evidence.inventories);
    let covered = evidence
        .usage
        .map(|usage| covered_projects(usage, &numbers))
        .unwrap_or_default();
    let mut unknown_roles: BTreeSet<String> = BTreeSet::new();
    // Per allow policy not read, the accounts whose grants it leaves unknown.
    let mut unreadable_grants: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut identities = Vec::new();
    for (id, identity) in &inventory.identities {
        if id.provider() != Provider::Gcp {
            continue;
        }
        let (granted, unknown_here) = granted_permissions(&inventory, catalog, id);
        unknown_roles.extend(unknown_here.iter().cloned());
        let project = identity.container.as_str();
        // A role whose permissions are unknown leaves what the account is granted unknown:
        // no counts, and the proposal says why.
        // An allow policy above the account that could not be read leaves its grants
        // unknown too: no counts (not zeros), and the proposal says why.
        let unread = unread_allow_policy(evidence.inventories, project, &numbers);
        if let Some(unread) = &unread {
            unreadable_grants
                .entry(unread.clone())
                .or_default()
                .push(format!("`{}`", id.native()));
        }
        let counts = evidence
            .usage
            .filter(|usage| usage.coverage.entries_in_window > 0 && covered.contains(project))
            .filter(|_| unknown_here.is_empty() && unread.is_none())
            .map(|usage| counts_of(usage, id, &granted));
        let proposal = match (&counts, evidence.usage) {
            (Some(counts), Some(usage)) if options.propose && counts.unused > 0 => {
                Some(propose(&inventory, id, usage))
            }
            (None, Some(_)) if options.propose && unread.is_some() => Some(Err(format!(
                "{} could not be read while collecting: what the account is granted is \
                 unknown, so nothing is counted or removed; collect again with \
                 `resourcemanager.*.getIamPolicy` on it (`roles/iam.securityReviewer`)",
                unread.as_deref().unwrap_or_default()
            ))),
            (None, Some(_)) if options.propose && !unknown_here.is_empty() => Some(Err(format!(
                "bound to a role that is neither a collected custom role nor in the embedded \
                 catalog ({}): what it grants is unknown, so nothing is counted or removed; \
                 collect the custom roles or update the catalog (`pipeleash catalog import gcp`)",
                join_ticked(&unknown_here)
            ))),
            _ => None,
        };
        identities.push(IdentityAnalysis {
            identity: identity.clone(),
            trusts: inventory.trusts.get(id).cloned().unwrap_or_default(),
            incomplete: is_incomplete(evidence.inventories, id, project, &numbers),
            last_used: None,
            counts,
            findings: Vec::new(),
            proposal,
        });
    }
    let mut analysis = Analysis {
        provider: Provider::Gcp,
        window,
        usage: evidence.usage.map(|_| "GCP Cloud Audit Logs".to_string()),
        usage_summary: evidence.usage.map(summary),
        identities,
        findings: Vec::new(),
        coverage: Vec::new(),
        usage_of_unknown_identities: Vec::new(),
    };
    let key_evidence =
        evidence
            .usage
            .map(|usage| super::checks::user_managed_key::KeyUseEvidence {
                usage,
                covered_projects: &covered,
                window,
            });
    for raw in evidence.inventories {
        let mut findings = super::checks::gcp_identity_findings(raw);
        super::checks::user_managed_key::annotate(raw, &mut findings, key_evidence.as_ref());
        analysis.attach_findings(findings);
    }
    if let Some(usage) = evidence.usage {
        analysis.coverage = coverage_sentences(usage, &inventory, &covered);
        let known: BTreeSet<&IdentityId> = inventory.identities.keys().collect();
        let unknown: BTreeSet<String> = usage
            .usage
            .iter()
            .map(|(key, _)| &key.identity)
            .filter(|id| !known.contains(id))
            .map(|id| id.native().to_string())
            .collect();
        analysis.usage_of_unknown_identities = unknown.into_iter().collect();
    }
    for (unread, accounts) in &unreadable_grants {
        analysis.coverage.push(format!(
            "{unread} failed while collecting: the grants of {} service account(s) are \
             unknown and nothing is counted or removed for them ({})",
            accounts.len(),
            accounts.join(", ")
        ));
    }
    if !unknown_roles.is_empty() {
        analysis.coverage.push(format!(
            "{} role(s) bound to service accounts are neither collected custom roles nor in the \
             embedded catalog, so what they grant is not counted: {}; collect the custom roles \
             or update the catalog (`pipeleash catalog import gcp`)",
            unknown_roles.len(),
            join_ticked(&unknown_roles)
        ));
    }
    Ok(analysis)
}

/// `projects/<number>` → project id, for every project of the inventories.
pub fn project_numbers(inventories: &[GcpInventory]) -> BTreeMap<String, String> {
    inventories
        .iter()
        .flat_map(|raw| raw.projects.iter())
        .map(|project| {
            let number = project
                .name
                .strip_prefix("projects/")
                .unwrap_or(&project.name);
            (number.to_string(), project.project_id.clone())
        })
        .collect()
}

/// The projects (`projects/<id>`) some call in the window names a resource of: the projects
/// whose logs were read, as far as the reader can tell (it does not keep each entry's
/// project). `minimize` refuses an account whose project is not among them.
pub fn projects_covered(inventories: &[GcpInventory], usage: &AuditLogUsage) -> BTreeSet<String> {
    covered_projects(usage, &project_numbers(inventories))
}

/// The projects (`projects/<id>`) named by the resource of some call in the window.
fn covered_projects(usage: &AuditLogUsage, numbers: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut covered = BTreeSet::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (key, _) in usage.usage.iter() {
        if !seen.insert(key.resource.as_str()) {
            continue;
        }
        if let Some(project) = project_of_resource(&key.resource) {
            let id = numbers.get(project).map_or(project, String::as_str);
            covered.insert(format!("projects/{id}"));
        }
    }
    covered
}

/// The project segment of a resource name (`projects/acme/…`,
/// `//run.googleapis.com/projects/acme/…`), `None` for `projects/_` and `projects/-`.
fn project_of_resource(resource: &str) -> Option<&str> {
    let start = if resource.starts_with("projects/") {
        0
    } else {
        resource.find("/projects/")? + 1
    };
    let rest = &resource[start + "projects/".len()..];
    let project = rest.split('/').next()?;
    (!project.is_empty() && project != "_" && project != "-").then_some(project)
}

/// Every distinct permission the identity's bindings give, and the roles bound to it that
/// neither the inventory nor the catalog knows (what they grant is unknown).
fn granted_permissions(
    inventory: &Inventory,
    catalog: &GcpRoleCatalog,
    id: &IdentityId,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut granted = BTreeSet::new();
    let mut unknown_roles = BTreeSet::new();
    let denies = hard_deny_rules(inventory, id);
    for grant in inventory.grants_for(id) {
        let GrantBody::Gcp(binding) = &grant.body else {
            continue;
        };
        let ancestry: BTreeSet<String> = inventory
            .gcp_hierarchy
            .ancestry(&binding.resource)
            .into_iter()
            .collect();
        let not_denied = |permission: &str| !hard_denied(&denies, &ancestry, permission);
        if let Some(role) = inventory.gcp_roles.get(&binding.role) {
            if role.stage.grants() {
                granted.extend(role.permissions.iter().filter(|p| not_denied(p)).cloned());
            }
        } else if let Some(role) = catalog.role(&binding.role) {
            if role.stage.grants() {
                granted.extend(
                    catalog
                        .permissions_of(role)
                        .filter(|p| not_denied(p))
                        .map(str::to_string),
                );
            }
        } else {
            unknown_roles.insert(binding.role.clone());
        }
    }
    (granted, unknown_roles)
}

/// The identity's counts against what it is granted.
fn counts_of(usage: &AuditLogUsage, id: &IdentityId, granted: &BTreeSet<String>) -> Counts {
    let mut allowed: BTreeSet<&str> = BTreeSet::new();
    let mut denied: BTreeSet<&str> = BTreeSet::new();
    for (key, record) in usage.usage.for_identity(id) {
        if key.permission.provider != Provider::Gcp {
            continue;
        }
        if record.count > 0 {
            allowed.insert(&key.permission.action);
        }
        if record.denied_count > 0 {
            denied.insert(&key.permission.action);
        }
    }
    let mut counts = Counts {
        granted: granted.len(),
        denied: denied.len(),
        ..Counts::default()
    };
    for permission in granted {
        if allowed.contains(permission.as_str()) {
            counts.used += 1;
        } else if observability(permission, &usage.coverage) == Observability::Observable {
            counts.unused += 1;
        } else {
            counts.unobservable += 1;
        }
    }
    counts
}

/// The proven smallest grant of `id`, or why there is none.
fn propose(
    inventory: &Inventory,
    id: &IdentityId,
    usage: &AuditLogUsage,
) -> Result<Proposal, String> {
    let observe = |permission: &str| observability(permission, &usage.coverage);
    let minimization = minimize(
        inventory,
        id,
        &usage.usage,
        &observe,
        &GcpMinimizeOptions::default(),
    )
    .map_err(|error| error.to_string())?;
    let summary = minimization
        .bindings
        .iter()
        .map(|binding| {
            let role = &minimization.roles[binding.role];
            format!(
                "custom role `{}` ({} permission(s)) bound on `{}`{}",
                role.name(),
                role.permissions.len(),
                binding.scope,
                binding
                    .condition
                    .as_ref()
                    .map(|condition| format!(" if `{}`", condition.expression))
                    .unwrap_or_default()
            )
        })
        .chain(
            minimization
                .replaced
                .iter()
                .map(|replaced| format!("replaces `{}` on `{}`", replaced.role, replaced.resource)),
        )
        .collect();
    Ok(Proposal {
        json: render_json(&minimization)
            .map_err(|error| format!("cannot write the proposal as JSON: {error}"))?,
        summary,
        proof_never_broaden: minimization.proof.never_broaden,
        proof_never_drop: minimization.proof.never_drop,
    })
}

/// The resources whose allow policies the account's grants come from: its project (by id
/// and number) and every folder and organization above it.
fn grant_places(
    raw: &GcpInventory,
    project: &str,
    numbers: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let project_id = project.strip_prefix("projects/").unwrap_or(project);
    let mut places: BTreeSet<String> = BTreeSet::new();
    places.insert(project.to_string());
    for (number, pid) in numbers {
        if pid == project_id {
            places.insert(format!("projects/{number}"));
        }
    }
    let mut parent = raw
        .projects
        .iter()
        .find(|p| p.project_id == project_id)
        .map(|p| p.parent.clone())
        .unwrap_or_default();
    while !parent.is_empty() && places.insert(parent.clone()) {
        parent = raw
            .folders
            .iter()
            .find(|folder| folder.name == parent)
            .map(|folder| folder.parent.clone())
            .unwrap_or_default();
    }
    places
}

/// Whether a call the account's grants depend on failed while collecting: its own IAM
/// policy, or that of its project or an ancestor.
fn is_incomplete(
    inventories: &[GcpInventory],
    id: &IdentityId,
    project: &str,
    numbers: &BTreeMap<String, String>,
) -> bool {
    inventories.iter().any(|raw| {
        let places = grant_places(raw, project, numbers);
        raw.errors.iter().any(|issue| {
            places.contains(&issue.target)
                || issue
                    .target
                    .ends_with(&format!("/serviceAccounts/{}", id.native()))
                || issue.target.eq_ignore_ascii_case(id.native())
        })
    })
}

/// The first allow policy the account's grants come from (of its project or an ancestor)
/// that could not be read while collecting, as `call` on `target`: what the account is
/// granted is then unknown, so nothing may be counted as unused or removed
/// (<https://cloud.google.com/iam/docs/resource-hierarchy-access-control>: a principal's
/// access is the union of the allow policies of the resource and its ancestors).
pub fn unread_allow_policy(
    inventories: &[GcpInventory],
    project: &str,
    numbers: &BTreeMap<String, String>,
) -> Option<String> {
    inventories.iter().find_map(|raw| {
        let places = grant_places(raw, project, numbers);
        raw.errors
            .iter()
            .find(|issue| issue.call.ends_with(".getIamPolicy") && places.contains(&issue.target))
            .map(|issue| format!("`{}` on `{}`", issue.call, issue.target))
    })
}

/// One line on what was read.
fn summary(usage: &AuditLogUsage) -> String {
    let coverage = &usage.coverage;
    let span = match (coverage.first_entry, coverage.last_entry) {
        (Some(first), Some(last)) => format!(
            ", from {} to {}",
            first.format("%Y-%m-%dT%H:%M:%SZ"),
            last.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        _ => String::new(),
    };
    format!(
        "{} file(s) read, {} skipped; {} entries read, {} in the window{span}",
        coverage.files_read,
        coverage.files_skipped.len(),
        coverage.entries_read,
        coverage.entries_in_window
    )
}

/// What the logs read could and could not show, one sentence each.
fn coverage_sentences(
    usage: &AuditLogUsage,
    inventory: &Inventory,
    covered: &BTreeSet<String>,
) -> Vec<String> {
    let coverage = &usage.coverage;
    let mut sentences = Vec::new();
    if coverage.entries_in_window == 0 {
        sentences.push(
            "no audit log entry fell in the window: nothing is known of use, so no permission \
             is called unused"
                .to_string(),
        );
    }
    if coverage.data_access_present() {
        sentences.push(format!(
            "Data Access audit logs were read for {}; data-plane and metadata-read permissions \
             of other services are unobservable, not unused",
            join_ticked(&coverage.data_access_services)
        ));
    } else {
        sentences.push(
            "no Data Access audit log entry was read: data-plane and metadata-read permissions \
             are unobservable, not unused (https://cloud.google.com/logging/docs/audit#data-access)"
                .to_string(),
        );
    }
    for file in &coverage.files_skipped {
        sentences.push(format!(
            "`{}` could not be read ({}): permissions used only in it would look unused",
            file.source, file.reason
        ));
    }
    for (reason, count) in &coverage.set_aside {
        let why = match reason {
            super::audit_log::SetAsideReason::NotAnAuditLog => "not audit log entries",
            super::audit_log::SetAsideReason::NoPrincipal => {
                "no principal named (System Event entries, Google systems)"
            }
            super::audit_log::SetAsideReason::NoAuthorizationInfo => {
                "no `authorizationInfo[]`: no permission was checked"
            }
            super::audit_log::SetAsideReason::NoPermission => {
                "an `authorizationInfo[]` element names no permission"
            }
            super::audit_log::SetAsideReason::MissingTimestamp => {
                "no `timestamp`: evidence is missing"
            }
            super::audit_log::SetAsideReason::MalformedTimestamp => {
                "a `timestamp` that is not RFC 3339: evidence is missing"
            }
        };
        sentences.push(format!(
            "{count} entr{} set aside as `{}`: {why}",
            if *count == 1 { "y" } else { "ies" },
            reason.as_str()
        ));
    }
    if coverage.granted_unstated > 0 {
        sentences.push(format!(
            "{} permission check(s) without `granted` in calls that were not refused were \
             counted as used",
            coverage.granted_unstated
        ));
    }
    let projects: BTreeSet<&str> = inventory
        .identities
        .values()
        .filter(|identity| identity.id.provider() == Provider::Gcp)
        .map(|identity| identity.container.as_str())
        .collect();
    let (seen, unseen): (Vec<&str>, Vec<&str>) = projects
        .into_iter()
        .partition(|project| covered.contains(*project));
    sentences.push(format!(
        "the audit log reader does not keep each entry's project, so a project counts as \
         covered when a call in the window names one of its resources: covered {}{}",
        if seen.is_empty() {
            "none".to_string()
        } else {
            join_ticked(&seen)
        },
        if unseen.is_empty() {
            String::new()
        } else {
            format!(
                "; no call names {}, so the use of their service accounts is unknown",
                join_ticked(&unseen)
            )
        }
    ));
    sentences
}

fn join_ticked<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|item| format!("`{}`", item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_of_resource_reads_relative_and_full_names_and_skips_placeholders() {
        assert_eq!(
            project_of_resource("projects/acme/locations/eu/services/web"),
            Some("acme")
        );
        assert_eq!(
            project_of_resource("//run.googleapis.com/projects/acme/locations/eu"),
            Some("acme")
        );
        assert_eq!(project_of_resource("projects/_/buckets/b/objects/o"), None);
        assert_eq!(
            project_of_resource("projects/-/serviceAccounts/a@b.iam.gserviceaccount.com"),
            None
        );
        assert_eq!(project_of_resource("organizations/1"), None);
    }

    const RAW: &str = r#"{
      "format_version": 1, "scope": ["projects/app"], "collected_at": "2026-11-29T00:00:00Z",
      "projects": [{"name": "projects/4151", "project_id": "app", "iam_policy": {"bindings": [
        {"role": "roles/editor", "members": ["serviceAccount:gone@elsewhere.iam.gserviceaccount.com"]},
        {"role": "roles/run.developer", "members": ["serviceAccount:ci@app.iam.gserviceaccount.com"]}]}}],
      "service_accounts": [{"name": "projects/app/serviceAccounts/ci@app.iam.gserviceaccount.com",
        "project_id": "app", "email": "ci@app.iam.gserviceaccount.com"}],
      "workload_identity_pools": [{"name": "projects/4151/locations/global/workloadIdentityPools/gh",
        "state": "ACTIVE", "providers": [{"name": "projects/4151/locations/global/workloadIdentityPools/gh/providers/a",
          "state": "ACTIVE", "protocol": "oidc",
          "oidc": {"issuer_uri": "https://token.actions.githubusercontent.com"}}]}]
    }"#;

    fn window() -> ObservationWindow {
        use chrono::TimeZone;
        ObservationWindow {
            since: chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            until: chrono::Utc.with_ymd_and_hms(2026, 11, 8, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn findings_about_no_collected_service_account_stay_at_the_provider_level() {
        let raw: GcpInventory = serde_json::from_str(RAW).unwrap();
        let inventories = [raw];
        let options = Options {
            propose: true,
            now: window().until,
        };
        let evidence = GcpEvidence {
            inventories: &inventories,
            usage: None,
        };
        let analysis = analyze(&evidence, window(), options).unwrap();
        assert_eq!(analysis.identities.len(), 1);
        let ci = &analysis.identities[0];
        assert!(ci.findings.is_empty() && ci.counts.is_none() && ci.proposal.is_none());
        let ids: Vec<&str> = analysis.findings.iter().map(|f| f.id).collect();
        // A provider no account is open to, and a basic role of an account not collected.
        assert!(
            ids.contains(&"gcp-wif-provider-without-condition"),
            "{ids:?}"
        );
        assert!(
            ids.contains(&"gcp-basic-role-on-service-account"),
            "{ids:?}"
        );
        assert!(analysis.coverage.is_empty() && analysis.usage.is_none());
    }

    #[test]
    fn an_account_whose_project_no_call_names_has_no_counts() {
        use crate::model::{Outcome, Permission, UsageEvent};
        let raw: GcpInventory = serde_json::from_str(RAW).unwrap();
        let inventories = [raw];
        let mut usage = AuditLogUsage::default();
        usage.coverage.entries_in_window = 1;
        usage.usage.add(&UsageEvent {
            identity: IdentityId::new(Provider::Gcp, "ci@app.iam.gserviceaccount.com"),
            permission: Permission::new(Provider::Gcp, "run.services.update"),
            resource: "projects/other/locations/eu/services/web".to_string(),
            time: window().since,
            outcome: Outcome::Allowed,
            workload: None,
            source: "log.json".to_string(),
        });
        let options = Options {
            propose: false,
            now: window().until,
        };
        let evidence = GcpEvidence {
            inventories: &inventories,
            usage: Some(&usage),
        };
        let analysis = analyze(&evidence, window(), options).unwrap();
        assert_eq!(analysis.identities[0].counts, None);
        // Named by its number, the project is covered.
        usage.usage.add(&UsageEvent {
            identity: IdentityId::new(Provider::Gcp, "ci@app.iam.gserviceaccount.com"),
            permission: Permission::new(Provider::Gcp, "run.services.update"),
            resource: "projects/4151/locations/eu/services/web".to_string(),
            time: window().since,
            outcome: Outcome::Denied,
            workload: None,
            source: "log.json".to_string(),
        });
        let evidence = GcpEvidence {
            inventories: &inventories,
            usage: Some(&usage),
        };
        let analysis = analyze(&evidence, window(), options).unwrap();
        let counts = analysis.identities[0].counts.expect("counts");
        assert_eq!(counts.used, 1);
        assert_eq!(counts.denied, 1);
        assert!(counts.granted > 1);
        assert_eq!(
            counts.granted,
            counts.used + counts.unused + counts.unobservable
        );
    }

    /// End to end from a raw inventory: a permission `roles/run.developer` grants but a deny
    /// policy on the project denies the account is neither counted as granted nor in the
    /// proposed custom role; a group-scoped (possible) deny leaves it granted.
    #[test]
    fn a_denied_permission_is_not_granted_and_not_in_the_proposal() {
        use crate::model::{Outcome, Permission, UsageEvent};
        let with_deny = |principal: &str| -> GcpInventory {
            let mut raw: GcpInventory = serde_json::from_str(RAW).unwrap();
            raw.deny_policies = vec![crate::gcp::inventory::GcpDenyPolicy {
                attachment_point: "projects/4151".to_string(),
                name:
                    "policies/cloudresourcemanager.googleapis.com%2Fprojects%2F4151/denypolicies/d"
                        .to_string(),
                display_name: String::new(),
                rules: vec![crate::gcp::inventory::GcpDenyPolicyRule {
                    description: String::new(),
                    denied_principals: vec![principal.to_string()],
                    exception_principals: vec![],
                    denied_permissions: vec!["run.googleapis.com/services.delete".to_string()],
                    exception_permissions: vec![],
                    denial_condition: None,
                }],
            }];
            raw
        };
        let mut usage = AuditLogUsage::default();
        usage.coverage.entries_in_window = 1;
        usage.usage.add(&UsageEvent {
            identity: IdentityId::new(Provider::Gcp, "ci@app.iam.gserviceaccount.com"),
            permission: Permission::new(Provider::Gcp, "run.services.update"),
            resource: "projects/app/locations/eu/services/web".to_string(),
            time: window().since,
            outcome: Outcome::Allowed,
            workload: None,
            source: "log.json".to_string(),
        });
        let options = Options {
            propose: true,
            now: window().until,
        };
        let run = |raw: GcpInventory| {
            let inventories = [raw];
            let evidence = GcpEvidence {
                inventories: &inventories,
                usage: Some(&usage),
            };
            analyze(&evidence, window(), options).unwrap()
        };
        let baseline = run(serde_json::from_str(RAW).unwrap());
        let denied = run(with_deny(
            "principal://iam.googleapis.com/projects/-/serviceAccounts/ci@app.iam.gserviceaccount.com",
        ));
        let possible = run(with_deny("principalSet://goog/group/ci@example.com"));
        let granted = |analysis: &Analysis| analysis.identities[0].counts.expect("counts").granted;
        assert_eq!(granted(&denied), granted(&baseline) - 1);
        assert_eq!(granted(&possible), granted(&baseline));
        let proposal = denied.identities[0]
            .proposal
            .as_ref()
            .expect("proposal")
            .as_ref()
            .expect("proven");
        let text = proposal.json.to_string();
        assert!(text.contains("run.services.update"), "{text}");
        assert_eq!(
            proposal.json["denied_by_deny_policy"],
            serde_json::json!(["run.services.delete"])
        );
        assert!(
            !proposal.json["roles"]
                .to_string()
                .contains("run.services.delete")
        );
        assert!(
            !proposal.json["removed"]
                .to_string()
                .contains("run.services.delete")
        );
    }
}
