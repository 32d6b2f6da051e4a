//! The analysis of a tenant's Azure identities in the neutral shape ([`Analysis`]): who can
//! become each service principal and managed identity, how many operations it is granted,
//! used, did not use, could not be observed and was denied, and, when asked, its proven
//! smallest grant ([`crate::azure::minimize`]).
//!
//! Definitions (units are distinct operations, compared case-insensitively):
//! - *granted*: the operations an identity's role assignments allow at their own scope
//!   ([`crate::azure::evaluate`], so deny assignments and conditions count; a conditional
//!   grant counts as granted). Azure role definitions name operations by wildcard
//!   (`*`, `Microsoft.Web/*`), and Azure publishes no list of every operation offline, so the
//!   operations counted are those some built-in role definition of the embedded catalog or a
//!   collected custom role names without a wildcard, plus every operation the identity was
//!   seen calling. A wildcard grant therefore counts the operations pipeleash knows of, not
//!   every operation Azure has.
//! - *used*: granted operations with at least one allowed call in the window. A denied call
//!   (`AuthorizationFailed`) never makes an operation used.
//! - *unobservable*: granted, not used, and never written to the Activity Log (reads and
//!   data-plane operations: the coverage table `providers/azure/activity-log-coverage.tsv`).
//! - *unused*: granted, observable, and not used.
//! - *denied*: operations with at least one denied call.
//!
//! An identity gets no counts (its use is unknown) when no Activity Log was read, when it
//! holds no role assignment and made no call, or when a subscription its assignments reach
//! holds no operation at all in the logs read (the logs of that subscription were most
//! likely not read): nothing is called unused without evidence.
//!
//! Findings are the Azure trust checks' ([`crate::azure::checks::azure_findings`], judged at
//! `options.now`), filed under the identity each concerns.

use super::activity_log::{ActivityLogCoverage, ActivityLogUsage, Observability};
use super::inventory::{AzureInventory, CollectIssue};
use super::minimize::{AzureMinimizeOptions, RoleKind, UnobservableRule, minimize, render_json};
use super::normalize::normalize_into;
use super::{AzureScope, Plane, evaluate};
use crate::analysis::{Analysis, Counts, IdentityAnalysis, Options, Proposal};
use crate::catalog::azure::AzureRoleCatalog;
use crate::model::{GrantBody, IdentityId, Inventory, ObservationWindow, Provider, Usage};
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};

/// The reads of `raw` that failed and leave what identities are granted unknown: role
/// assignments and role definitions (an assignment there may grant more). An unread deny
/// assignment is not among them: it only makes the grants an upper bound.
pub fn unread_grants(raw: &AzureInventory) -> impl Iterator<Item = &CollectIssue> {
    raw.errors.iter().filter(|issue| {
        issue.call == "Microsoft.Authorization/roleAssignments/read"
            || issue.call == "Microsoft.Authorization/roleDefinitions/read"
    })
}

/// What an Azure analysis reads: the inventories of a snapshot (one per tenant) and, when
/// read, the Activity Log's usage.
#[derive(Debug, Clone, Copy)]
pub struct AzureEvidence<'a> {
    pub inventories: &'a [AzureInventory],
    pub usage: Option<&'a ActivityLogUsage>,
}

/// The Activity Log page that says what it records.
const ACTIVITY_LOG_DOC: &str =
    "https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema";

/// Analyze every Azure identity of `evidence` over `window`.
///
/// Errors: an inventory that cannot be normalized (the same tenant given twice), or an
/// embedded table (role catalog, Activity Log coverage) that cannot be read (a build defect).
pub fn analyze(
    evidence: &AzureEvidence<'_>,
    window: ObservationWindow,
    options: Options,
) -> anyhow::Result<Analysis> {
    let mut inventory = Inventory::new();
    for raw in evidence.inventories {
        normalize_into(&mut inventory, raw).with_context(|| {
            format!(
                "cannot read the Azure inventory of tenant `{}`",
                raw.tenant_id.as_deref().unwrap_or("unknown")
            )
        })?;
    }
    let table =
        ActivityLogCoverage::embedded().context("the embedded Activity Log coverage table")?;
    let catalog = AzureRoleCatalog::embedded().context("the embedded Azure role catalog")?;
    let universe = Universe::new(catalog, &inventory);
    let rules = unobservable_rules(&table);
    let covered = evidence
        .usage
        .map(covered_subscriptions)
        .unwrap_or_default();

    // A role assignment, role definition or deny assignment read that failed leaves every
    // identity's grants a lower bound (the failure names a scope, not an identity).
    let incomplete = evidence.inventories.iter().any(|raw| {
        raw.errors
            .iter()
            .any(|issue| issue.call.starts_with("Microsoft.Authorization/"))
    });
    // A failed read of grants ([`unread_grants`]) leaves what every identity is granted
    // unknown: no counts, nothing removed.
    let unread_grants: Vec<String> = evidence
        .inventories
        .iter()
        .flat_map(unread_grants)
        .map(|issue| format!("`{}` at `{}`", issue.call, issue.target))
        .collect();
    let mut unknown_roles: BTreeSet<String> = BTreeSet::new();
    let mut identities = Vec::new();
    for (id, identity) in &inventory.identities {
        let trusts = inventory.trusts.get(id).cloned().unwrap_or_default();
        // A role no collected custom role nor built-in role defines grants an unknown set:
        // counted as nothing, its use would read as unused (Azure RBAC, "Understand Azure
        // role definitions",
        // https://learn.microsoft.com/azure/role-based-access-control/role-definitions).
        let mut unknown_here: BTreeSet<String> = BTreeSet::new();
        for grant in inventory.grants_for(id) {
            if let GrantBody::Azure(assignment) = &grant.body
                && super::role_definition(&inventory, &assignment.role_definition_id)?.is_none()
            {
                unknown_here.insert(assignment.role_definition_id.clone());
            }
        }
        unknown_roles.extend(unknown_here.iter().cloned());
        let counts = match evidence.usage {
            _ if !unread_grants.is_empty() || !unknown_here.is_empty() => None,
            Some(usage) if observed(&inventory, id, &usage.usage, &covered) => {
                Some(count(&inventory, id, &usage.usage, &universe, &table)?)
            }
            _ => None,
        };
        let proposal = match (evidence.usage, counts) {
            (Some(usage), Some(counts)) if options.propose && counts.unused > 0 => {
                Some(propose(&inventory, id, &usage.usage, &rules))
            }
            (Some(_), None) if options.propose && !unknown_here.is_empty() => Some(Err(format!(
                "assigned a role that is neither a collected custom role nor a built-in role \
                 ({}): what it grants is unknown, so nothing is counted or removed; collect \
                 again (`Microsoft.Authorization/roleDefinitions/read` at the assignment's \
                 scope) or update the catalog",
                unknown_here
                    .iter()
                    .map(|role| format!("`{role}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            _ => None,
        };
        identities.push(IdentityAnalysis {
            identity: identity.clone(),
            trusts,
            incomplete,
            last_used: None,
            counts,
            findings: Vec::new(),
            proposal,
        });
    }

    let (coverage, usage_of_unknown_identities) = match evidence.usage {
        Some(usage) => (
            coverage_sentences(&inventory, usage, &covered),
            usage
                .principals
                .keys()
                .filter(|id| !inventory.identities.contains_key(*id))
                .map(|id| id.to_string())
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut coverage = coverage;
    if !unknown_roles.is_empty() {
        coverage.push(format!(
            "{} role definition(s) assigned to identities are neither collected custom roles \
             nor built-in roles, so what they grant is unknown and their holders are not \
             counted: {}",
            unknown_roles.len(),
            unknown_roles
                .iter()
                .map(|role| format!("`{role}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !unread_grants.is_empty() {
        coverage.push(format!(
            "{} failed while collecting: what the identities are granted is unknown, so \
             nothing is counted or removed (collect again with `Reader` or \
             `Microsoft.Authorization/*/read` at those scopes)",
            unread_grants.join(", ")
        ));
    }
    let mut analysis = Analysis {
        provider: Provider::Azure,
        window,
        usage: evidence.usage.map(usage_origin),
        usage_summary: evidence.usage.map(|usage| {
            let coverage = &usage.coverage;
            format!(
                "{} Activity Log file(s) read, {} skipped; {} operation(s) in the window",
                coverage.files_read,
                coverage.files_skipped.len(),
                coverage.operations
            )
        }),
        identities,
        findings: Vec::new(),
        coverage,
        usage_of_unknown_identities,
    };
    for raw in evidence.inventories {
        analysis.attach_findings(super::checks::azure_findings(raw, options.now));
    }
    Ok(analysis)
}

/// Where the usage came from: `Azure Activity Log `<root>`` with the folders above the
/// storage export's `resourceId=` partitions (or the files) the operations were read from.
fn usage_origin(usage: &ActivityLogUsage) -> String {
    let roots: BTreeSet<&str> = usage
        .usage
        .iter()
        .flat_map(|(_, record)| record.sources.iter())
        .map(|source| match source.find("/resourceId=") {
            Some(end) => &source[..end],
            None => source.as_str(),
        })
        .collect();
    if roots.is_empty() {
        return "Azure Activity Log".to_string();
    }
    format!(
        "Azure Activity Log {}",
        roots
            .iter()
            .map(|root| format!("`{root}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The operations pipeleash knows by name, per plane, in lower case.
struct Universe {
    control: BTreeSet<String>,
    data: BTreeSet<String>,
}

impl Universe {
    fn new(catalog: &AzureRoleCatalog, inventory: &Inventory) -> Universe {
        let mut control = catalog.known_operations(Plane::Control);
        let mut data = catalog.known_operations(Plane::Data);
        for definition in inventory.azure_role_definitions.values() {
            for block in &definition.permissions {
                let named = |entries: &[String]| -> Vec<String> {
                    entries
                        .iter()
                        .filter(|entry| !entry.contains('*'))
                        .map(|entry| entry.trim().to_ascii_lowercase())
                        .collect()
                };
                control.extend(named(&block.actions));
                control.extend(named(&block.not_actions));
                data.extend(named(&block.data_actions));
                data.extend(named(&block.not_data_actions));
            }
        }
        Universe { control, data }
    }
}

/// The subscriptions (lower-case `/subscriptions/<id>`) with at least one operation in the
/// logs read.
pub(crate) fn covered_subscriptions(usage: &ActivityLogUsage) -> BTreeSet<String> {
    usage
        .usage
        .iter()
        .filter_map(|(key, _)| AzureScope::new(&key.resource).subscription())
        .map(|scope| scope.key())
        .collect()
}

/// The subscriptions (lower-case) an identity's role assignments reach: their own, or every
/// collected subscription under the management group (or root) they are made at.
pub(crate) fn reached_subscriptions(inventory: &Inventory, id: &IdentityId) -> BTreeSet<String> {
    let subscriptions: Vec<AzureScope> = inventory
        .containers
        .keys()
        .filter(|(provider, _)| *provider == Provider::Azure)
        .map(|(_, container)| AzureScope::new(container))
        .filter(|scope| scope.subscription().is_some_and(|s| s.key() == scope.key()))
        .collect();
    let mut reached = BTreeSet::new();
    for grant in inventory.grants_for(id) {
        let GrantBody::Azure(assignment) = &grant.body else {
            continue;
        };
        match assignment.scope.subscription() {
            Some(subscription) => {
                reached.insert(subscription.key());
            }
            None => reached.extend(
                subscriptions
                    .iter()
                    .filter(|s| inventory.azure_hierarchy.covers(&assignment.scope, s))
                    .map(AzureScope::key),
            ),
        }
    }
    reached
}

/// Whether the logs read can tell what `id` used: every subscription its assignments reach
/// holds operations, and it holds an assignment or made a call.
fn observed(
    inventory: &Inventory,
    id: &IdentityId,
    usage: &Usage,
    covered: &BTreeSet<String>,
) -> bool {
    let reached = reached_subscriptions(inventory, id);
    if reached.is_empty() {
        return usage.for_identity(id).next().is_some();
    }
    reached
        .iter()
        .all(|subscription| covered.contains(subscription))
}

/// The counts of one identity (see the module documentation for the definitions).
fn count(
    inventory: &Inventory,
    id: &IdentityId,
    usage: &Usage,
    universe: &Universe,
    table: &ActivityLogCoverage,
) -> anyhow::Result<Counts> {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let mut denied: BTreeSet<String> = BTreeSet::new();
    for (key, record) in usage.for_identity(id) {
        let operation = key.permission.action.to_ascii_lowercase();
        if record.count > 0 {
            allowed.insert(operation.clone());
        }
        if record.denied_count > 0 {
            denied.insert(operation);
        }
    }
    let assignments: Vec<(&AzureScope, &str)> = inventory
        .grants_for(id)
        .filter_map(|grant| match &grant.body {
            GrantBody::Azure(assignment) => {
                Some((&assignment.scope, assignment.role_definition_id.as_str()))
            }
            _ => None,
        })
        .collect();
    let mut definitions: Vec<(&AzureScope, &super::AzureRoleDefinition)> = Vec::new();
    for (scope, id) in &assignments {
        if let Some(definition) = super::role_definition(inventory, id)? {
            definitions.push((*scope, definition));
        }
    }
    let mut granted: BTreeSet<(String, Plane)> = BTreeSet::new();
    let candidates = universe
        .control
        .iter()
        .chain(allowed.iter())
        .chain(denied.iter())
        .map(|operation| (operation, Plane::Control))
        .chain(
            universe
                .data
                .iter()
                .map(|operation| (operation, Plane::Data)),
        );
    for (operation, plane) in candidates {
        if granted.contains(&(operation.clone(), plane)) {
            continue;
        }
        for (scope, definition) in &definitions {
            let allows = match plane {
                Plane::Control => definition.allows_action(operation),
                Plane::Data => definition.allows_data_action(operation),
            };
            if !allows {
                continue;
            }
            let decision = evaluate(inventory, id, operation, plane, scope.as_str())?.decision;
            if decision.permissiveness() >= 2 {
                granted.insert((operation.clone(), plane));
                break;
            }
        }
    }
    let mut counts = Counts {
        denied: denied.len(),
        ..Counts::default()
    };
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (operation, plane) in &granted {
        if !seen.insert(operation.as_str()) {
            continue;
        }
        counts.granted += 1;
        if *plane == Plane::Control && allowed.contains(operation) {
            counts.used += 1;
        } else if matches!(
            table.of(operation, *plane),
            Observability::Unobservable { .. }
        ) {
            counts.unobservable += 1;
        } else {
            counts.unused += 1;
        }
    }
    Ok(counts)
}

/// The lines of the coverage table the minimizer keeps as granted. The table's last control
/// line (`*`: "not a write, delete or action operation") is left out: every Azure operation
/// name ends in `read`, `write`, `delete` or `action`
/// (<https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions#actions-format>),
/// and the lines above it already decide each of them, while `*` as a pattern would keep
/// every granted operation.
pub(crate) fn unobservable_rules(table: &ActivityLogCoverage) -> Vec<UnobservableRule> {
    table
        .unobservable()
        .filter(|(pattern, plane, _, _)| !(*plane == Plane::Control && pattern.trim() == "*"))
        .map(|(pattern, plane, reason, _)| UnobservableRule {
            pattern: pattern.to_string(),
            plane,
            reason: reason.to_string(),
        })
        .collect()
}

/// The proven smallest grant of one identity, or why there is none.
fn propose(
    inventory: &Inventory,
    id: &IdentityId,
    usage: &Usage,
    rules: &[UnobservableRule],
) -> Result<Proposal, String> {
    let result = minimize(
        inventory,
        id,
        usage,
        rules,
        &AzureMinimizeOptions::default(),
    )
    .map_err(|error| error.to_string())?;
    let mut summary: Vec<String> = result
        .assignments
        .iter()
        .map(|assignment| {
            let role = &result.roles[assignment.role];
            let holds = match role.kind {
                RoleKind::Used => "used operations",
                RoleKind::Unobservable => "kept unobservable",
            };
            let condition = assignment
                .condition
                .as_deref()
                .map(|condition| format!(" when `{condition}`"))
                .unwrap_or_default();
            format!(
                "custom role `{}` ({holds}: {} action(s), {} data action(s)) at `{}`{condition}",
                role.name,
                role.permissions.actions.len(),
                role.permissions.data_actions.len(),
                assignment.scope
            )
        })
        .collect();
    summary.push(format!(
        "replaces {} role assignment(s)",
        result.replaced.len()
    ));
    if !result.granted_elsewhere.is_empty() {
        summary.push(format!(
            "granted elsewhere, not replaced: {}",
            result.granted_elsewhere.join(", ")
        ));
    }
    Ok(Proposal {
        json: render_json(&result)
            .map_err(|error| format!("cannot write the proposal as JSON: {error}"))?,
        summary,
        proof_never_broaden: result.proof.never_broaden,
        proof_never_drop: result.proof.never_drop,
    })
}

/// What the logs read could and could not show.
fn coverage_sentences(
    inventory: &Inventory,
    usage: &ActivityLogUsage,
    covered: &BTreeSet<String>,
) -> Vec<String> {
    let coverage = &usage.coverage;
    let mut sentences = vec![
        format!(
            "the Activity Log records control-plane writes, deletes and actions only: reads and \
             data-plane operations (blob reads, Key Vault secret gets) are never in it, so they \
             are counted unobservable, never unused ({ACTIVITY_LOG_DOC})"
        ),
        format!(
            "{} Activity Log file(s) read, {} record(s), {} operation(s) counted ({} record(s) of \
             an operation already counted merged, {} outside the window)",
            coverage.files_read,
            coverage.records_read,
            coverage.operations,
            coverage.duplicates_merged,
            coverage.records_outside_window
        ),
    ];
    for file in &coverage.files_skipped {
        sentences.push(format!(
            "Activity Log file `{}` could not be read ({}): operations only in it would look \
             unused",
            file.source, file.reason
        ));
    }
    for (reason, records) in &coverage.set_aside {
        sentences.push(format!(
            "{records} record(s) set aside ({}): no identity's permissions are evaluated for them",
            reason.as_string()
        ));
    }
    let subscriptions: BTreeMap<String, String> = inventory
        .containers
        .keys()
        .filter(|(provider, _)| *provider == Provider::Azure)
        .map(|(_, container)| AzureScope::new(container))
        .filter(|scope| scope.subscription().is_some_and(|s| s.key() == scope.key()))
        .map(|scope| (scope.key(), scope.to_string()))
        .collect();
    for (key, name) in &subscriptions {
        if !covered.contains(key) {
            sentences.push(format!(
                "subscription `{name}` has no operation in the logs read: identities whose role \
                 assignments reach it are not counted"
            ));
        }
    }
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::activity_log::Ingestion;
    use chrono::{TimeZone, Utc};

    const SUB: &str = "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000001";
    const OTHER_SUB: &str = "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000002";
    const DEPLOYER: &str = "0a1b2c3d-0000-4000-8000-000000000001";
    const ELSEWHERE: &str = "0a1b2c3d-0000-4000-8000-000000000002";
    const STRANGER: &str = "0a1b2c3d-0000-4000-8000-000000000009";
    const WEBSITE_CONTRIBUTOR: &str = "de139f84-1756-47ae-9be6-808fbbe84772";

    fn raw() -> AzureInventory {
        let assignment = |name: &str, scope: &str, principal: &str| {
            serde_json::json!({
                "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
                "name": name,
                "properties": {
                    "scope": scope,
                    "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{WEBSITE_CONTRIBUTOR}"),
                    "principalId": principal, "principalType": "ServicePrincipal"}})
        };
        serde_json::from_value(serde_json::json!({
            "format_version": 1, "tenant_id": "t", "collected_at": "2026-11-21T00:00:00Z",
            "subscriptions": [
                {"id": SUB, "subscriptionId": "11111111-aaaa-4bbb-8ccc-000000000001"},
                {"id": OTHER_SUB, "subscriptionId": "11111111-aaaa-4bbb-8ccc-000000000002"}],
            "role_assignments": [
                assignment("r1", &format!("{SUB}/resourceGroups/rg-web"), DEPLOYER),
                assignment("r2", OTHER_SUB, ELSEWHERE)],
            "service_principals": [
                {"id": DEPLOYER, "displayName": "gha-web", "servicePrincipalType": "Application"},
                {"id": ELSEWHERE, "displayName": "gha-other", "servicePrincipalType": "Application"}]
        }))
        .unwrap()
    }

    fn line(principal: &str, action: &str, scope: &str, id: &str, result: &str) -> String {
        let failure = if result == "Failure" {
            r#","properties":{"statusCode":"Forbidden","statusMessage":"{\"error\":{\"code\":\"AuthorizationFailed\"}}"}"#
        } else {
            ""
        };
        format!(
            r#"{{"time":"2026-11-20T10:00:00Z","category":"Administrative","resultType":"{result}","correlationId":"{id}","identity":{{"authorization":{{"action":"{action}","scope":"{scope}"}},"claims":{{"oid":"{principal}"}}}}{failure}}}"#
        )
    }

    fn usage() -> ActivityLogUsage {
        let site = format!("{SUB}/resourceGroups/rg-web/providers/Microsoft.Web/sites/web");
        let lines = [
            line(DEPLOYER, "Microsoft.Web/sites/write", &site, "c1", "Start"),
            line(
                DEPLOYER,
                "Microsoft.Web/sites/write",
                &site,
                "c1",
                "Success",
            ),
            line(
                DEPLOYER,
                "Microsoft.Web/sites/delete",
                &site,
                "c2",
                "Failure",
            ),
            line(
                DEPLOYER,
                "Microsoft.Authorization/roleAssignments/write",
                &site,
                "c3",
                "Failure",
            ),
            line(
                STRANGER,
                "Microsoft.Web/sites/write",
                &site,
                "c4",
                "Success",
            ),
        ]
        .join("\n");
        let mut ingestion = Ingestion::new(Default::default());
        ingestion.add_bytes("PT1H.json", lines.as_bytes());
        ingestion.add_bytes("broken/PT1H.json", b"{\"time\": ");
        ingestion.finish()
    }

    fn window() -> ObservationWindow {
        ObservationWindow {
            since: Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap(),
            until: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        }
    }

    fn options(propose: bool) -> Options {
        Options {
            propose,
            now: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        }
    }

    fn analysis(propose: bool) -> Analysis {
        let inventories = [raw()];
        let usage = usage();
        analyze(
            &AzureEvidence {
                inventories: &inventories,
                usage: Some(&usage),
            },
            window(),
            options(propose),
        )
        .unwrap()
    }

    #[test]
    fn used_denied_unobservable_and_unused_are_counted_by_distinct_operation() {
        let analysis = analysis(false);
        let deployer = &analysis.identities[0];
        assert_eq!(deployer.identity.display_name, "gha-web");
        let counts = deployer.counts.unwrap();
        assert_eq!(
            counts.used, 1,
            "the Start and Success of one call: one operation"
        );
        assert_eq!(counts.denied, 2);
        assert!(counts.granted > 20, "{counts:?}");
        assert!(counts.unobservable > 0 && counts.unused > 0, "{counts:?}");
        assert_eq!(
            counts.granted,
            counts.used + counts.unused + counts.unobservable
        );
        assert!(deployer.proposal.is_none(), "not asked for");
    }

    #[test]
    fn a_denied_call_is_never_used_even_when_the_operation_is_granted() {
        // `sites/delete` is granted by Website Contributor and was refused (as by a deny
        // assignment): denied, and unused.
        let analysis = analysis(false);
        let counts = analysis.identities[0].counts.unwrap();
        assert_eq!(counts.used, 1);
    }

    #[test]
    fn an_identity_in_a_subscription_without_logs_has_no_counts() {
        let analysis = analysis(true);
        let other = &analysis.identities[1];
        assert_eq!(other.identity.display_name, "gha-other");
        assert_eq!(other.counts, None);
        assert_eq!(other.proposal, None);
        assert!(
            analysis
                .coverage
                .iter()
                .any(|sentence| sentence.contains(OTHER_SUB) && sentence.contains("not counted")),
            "{:#?}",
            analysis.coverage
        );
    }

    #[test]
    fn without_logs_nothing_is_counted_or_proposed() {
        let inventories = [raw()];
        let analysis = analyze(
            &AzureEvidence {
                inventories: &inventories,
                usage: None,
            },
            window(),
            options(true),
        )
        .unwrap();
        assert!(
            analysis
                .identities
                .iter()
                .all(|identity| identity.counts.is_none() && identity.proposal.is_none())
        );
        assert!(analysis.coverage.is_empty());
        assert!(analysis.usage_of_unknown_identities.is_empty());
    }

    #[test]
    fn proposals_are_proven_and_keep_every_used_operation() {
        let analysis = analysis(true);
        let proposal = analysis.identities[0]
            .proposal
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap();
        assert!(proposal.proof_never_drop >= 1);
        let text = proposal.json.to_string();
        assert!(text.contains("Microsoft.Web/sites/write"), "{text}");
        assert!(!text.contains("\"Microsoft.Web/sites/delete\""), "{text}");
        assert!(proposal.summary.iter().any(|line| line.contains("rg-web")));
    }

    #[test]
    fn skipped_files_and_unknown_principals_are_reported() {
        let analysis = analysis(false);
        assert!(
            analysis
                .coverage
                .iter()
                .any(|sentence| sentence.contains("broken/PT1H.json")),
            "{:#?}",
            analysis.coverage
        );
        assert!(
            analysis
                .coverage
                .iter()
                .any(|sentence| sentence.contains("data-plane")),
        );
        assert_eq!(
            analysis.usage_of_unknown_identities,
            [format!("azure:{STRANGER}")]
        );
    }
}
