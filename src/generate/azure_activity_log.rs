//! A deterministic generator of Activity Log exports with their ground truth, for recall
//! tests and benchmarks.
//!
//! Output is a diagnostic setting's storage-account layout
//! (`insights-activity-logs/resourceId=/SUBSCRIPTIONS/<ID>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`,
//! one record per line) over two subscriptions, with service principals, managed identities
//! and a user; operations logged as `Start` (sometimes `Accept`) and `Success`, some ending
//! after the hour so that their records fall in two blobs; `AuthorizationFailed` denials (some
//! with only `Forbidden`); failures after the permission check (`Conflict`,
//! `RequestDisallowedByPolicy`, `LinkedAuthorizationFailed`, `InvalidTemplate`); records of
//! other categories; and system records with no caller claims. Plus `ground-truth.json`:
//! for every principal, its operations per action and scope, allowed and denied, written from
//! the generator's own scenario, never from the reader.
//!
//! Each hour of each subscription is generated from its own RNG seeded by (seed, hour), so
//! hours are produced in parallel and the set is byte-identical for a given seed and size.

use crate::azure::activity_log::record::OBJECT_ID_CLAIM;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use flate2::Compression;
use flate2::write::GzEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ground truth's file name, beside `insights-activity-logs/`.
pub const GROUND_TRUTH_FILE: &str = "ground-truth.json";

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Records to write (the last operation may add one or two more).
    pub records: u64,
    pub seed: u64,
    /// First day of the period (UTC).
    pub start: NaiveDate,
    pub days: u32,
    /// Write `PT1H.json.gz` instead of `PT1H.json`.
    pub gzip: bool,
}

/// An error writing the set.
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {source}")]
pub struct GenerateError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// `ground-truth.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroundTruth {
    pub format_version: u32,
    pub records: u64,
    pub files: u64,
    /// Operations by an identified principal, allowed or denied.
    pub operations: u64,
    /// Records of those operations beyond the first of each.
    pub duplicate_records: u64,
    pub principals: Vec<PrincipalTruth>,
    /// Records not attributable, by the reason the reader must give.
    pub set_aside: BTreeMap<String, u64>,
}

/// One principal's truth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PrincipalTruth {
    pub name: String,
    pub object_id: String,
    pub app_id: String,
    /// `service-principal`, `managed-identity` or `user`.
    pub kind: String,
    /// Allowed operations: action → scope → count.
    pub used: BTreeMap<String, BTreeMap<String, u64>>,
    /// Denied operations: action → scope → count.
    pub denied: BTreeMap<String, BTreeMap<String, u64>>,
}

/// An action and the resource it acts on (`{sub}`, `{rg}` and `{name}` filled in).
const ACTIONS: &[(&str, &str)] = &[
    (
        "Microsoft.Resources/deployments/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Resources/deployments/{name}",
    ),
    (
        "Microsoft.Resources/subscriptions/resourceGroups/write",
        "/subscriptions/{sub}/resourceGroups/{rg}",
    ),
    (
        "Microsoft.Resources/tags/write",
        "/subscriptions/{sub}/resourceGroups/{rg}",
    ),
    (
        "Microsoft.Web/sites/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}",
    ),
    (
        "Microsoft.Web/sites/restart/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}",
    ),
    (
        "Microsoft.Web/sites/config/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}/config/web",
    ),
    (
        "Microsoft.Web/sites/slots/slotsswap/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}/slots/staging",
    ),
    (
        "Microsoft.Storage/storageAccounts/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/st{name}",
    ),
    (
        "Microsoft.Storage/storageAccounts/listKeys/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/st{name}",
    ),
    (
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/st{name}/blobServices/default/containers/releases",
    ),
    (
        "Microsoft.KeyVault/vaults/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/kv-{name}",
    ),
    (
        "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/aks-{name}",
    ),
    (
        "Microsoft.ContainerService/managedClusters/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/aks-{name}",
    ),
    (
        "Microsoft.ContainerRegistry/registries/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/acr{name}",
    ),
    (
        "Microsoft.Network/networkSecurityGroups/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-{name}",
    ),
    (
        "Microsoft.Network/virtualNetworks/subnets/join/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{name}/subnets/default",
    ),
    (
        "Microsoft.Compute/virtualMachines/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{name}",
    ),
    (
        "Microsoft.Compute/virtualMachines/start/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{name}",
    ),
    (
        "Microsoft.Compute/virtualMachines/delete",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/vm-{name}",
    ),
    (
        "Microsoft.Sql/servers/databases/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/sql-{name}/databases/app",
    ),
    (
        "Microsoft.Authorization/roleAssignments/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/roleAssignments/{guid}",
    ),
    (
        "Microsoft.Insights/diagnosticSettings/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}/providers/Microsoft.Insights/diagnosticSettings/to-law",
    ),
    (
        "Microsoft.App/containerApps/write",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/containerApps/ca-{name}",
    ),
    (
        "Microsoft.Cdn/profiles/endpoints/purge/action",
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Cdn/profiles/cdn-{name}/endpoints/web",
    ),
];

const RESOURCE_GROUPS: &[&str] = &["rg-web-prod", "rg-web-staging", "rg-data", "rg-platform"];
const NAMES: &[&str] = &["shop", "billing", "search", "auth"];

/// Failures after the permission check: (HTTP status, error code).
const OTHER_FAILURES: &[(&str, &str)] = &[
    ("Conflict", "ScopeLocked"),
    ("BadRequest", "InvalidTemplate"),
    ("Forbidden", "RequestDisallowedByPolicy"),
    ("Forbidden", "LinkedAuthorizationFailed"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ServicePrincipal,
    ManagedIdentity,
    User,
}

/// One principal of the scenario: what it uses, and what it is refused.
#[derive(Debug, Clone)]
struct Principal {
    name: String,
    object_id: String,
    app_id: String,
    kind: Kind,
    /// (action, scope) pairs it calls successfully.
    uses: Vec<(usize, String)>,
    /// (action, scope) pairs it is refused and never allowed.
    refused: Vec<(usize, String)>,
}

/// The fixed scenario of a seed.
struct Scenario {
    tenant: String,
    subscriptions: Vec<String>,
    principals: Vec<Principal>,
}

fn guid(rng: &mut ChaCha8Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn scope_for(rng: &mut ChaCha8Rng, action: usize, subscriptions: &[String]) -> String {
    let sub = &subscriptions[rng.random_range(0..subscriptions.len())];
    let rg = RESOURCE_GROUPS[rng.random_range(0..RESOURCE_GROUPS.len())];
    let name = NAMES[rng.random_range(0..NAMES.len())];
    let id = guid(rng);
    ACTIONS[action]
        .1
        .replace("{sub}", sub)
        .replace("{rg}", rg)
        .replace("{name}", name)
        .replace("{guid}", &id)
}

impl Scenario {
    fn new(seed: u64) -> Scenario {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005e_eda2_u64);
        let tenant = guid(&mut rng);
        let subscriptions = vec![guid(&mut rng), guid(&mut rng)];
        let roster = [
            ("github-deploy-web", Kind::ServicePrincipal),
            ("github-deploy-data", Kind::ServicePrincipal),
            ("gitlab-infra", Kind::ServicePrincipal),
            ("azdo-release", Kind::ServicePrincipal),
            ("terraform-cloud", Kind::ServicePrincipal),
            ("id-aks-deployer", Kind::ManagedIdentity),
            ("id-func-runner", Kind::ManagedIdentity),
            ("id-backup", Kind::ManagedIdentity),
            ("alice@contoso.example", Kind::User),
        ];
        let principals = roster
            .iter()
            .map(|(name, kind)| {
                let object_id = guid(&mut rng);
                let app_id = if *kind == Kind::User {
                    // Azure CLI's client id, as in a user's token.
                    "04b07795-8ddb-461a-bbee-02f9e1bf7b46".to_owned()
                } else {
                    guid(&mut rng)
                };
                let mut order: Vec<usize> = (0..ACTIONS.len()).collect();
                for index in (1..order.len()).rev() {
                    order.swap(index, rng.random_range(0..=index));
                }
                let used_count = rng.random_range(4..=9);
                let refused_count = rng.random_range(1..=3);
                let uses = order[..used_count]
                    .iter()
                    .flat_map(|&action| {
                        let scopes = rng.random_range(1..=2);
                        (0..scopes)
                            .map(|_| (action, scope_for(&mut rng, action, &subscriptions)))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let refused = order[used_count..used_count + refused_count]
                    .iter()
                    .map(|&action| (action, scope_for(&mut rng, action, &subscriptions)))
                    .collect();
                Principal {
                    name: (*name).to_owned(),
                    object_id,
                    app_id,
                    kind: *kind,
                    uses,
                    refused,
                }
            })
            .collect();
        Scenario {
            tenant,
            subscriptions,
            principals,
        }
    }
}

/// One line to write, at its time, in its subscription's blob.
struct Line {
    time: NaiveDateTime,
    subscription: usize,
    text: String,
}

/// The truth one hour adds.
#[derive(Default)]
struct PartialTruth {
    records: u64,
    operations: u64,
    duplicate_records: u64,
    /// (principal, action, scope) → (allowed, denied).
    counts: BTreeMap<(usize, usize, String), (u64, u64)>,
    set_aside: BTreeMap<String, u64>,
}

fn time_text(time: NaiveDateTime) -> String {
    // Azure writes seven fractional digits (100 ns ticks), which `format` has no specifier for.
    format!(
        "{}.{:07}Z",
        time.format("%Y-%m-%dT%H:%M:%S"),
        time.nanosecond() / 100
    )
}

/// The claims of a principal's token.
fn claims(scenario: &Scenario, principal: &Principal) -> Value {
    let issuer = format!("https://sts.windows.net/{}/", scenario.tenant);
    let mut claims = json!({
        "aud": "https://management.core.windows.net/",
        "iss": issuer,
        "iat": "1790000000",
        "nbf": "1790000000",
        "exp": "1790003900",
        "aio": "E2RgYJg9a0p1cz8AAA==",
        "appid": principal.app_id,
        "appidacr": "2",
        "http://schemas.microsoft.com/identity/claims/identityprovider": issuer,
        OBJECT_ID_CLAIM: principal.object_id,
        "rh": "0.AAAA1.",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": principal.object_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": scenario.tenant,
        "uti": "x1Yk9Q2aZ0u0bTn8AAAA",
        "ver": "1.0",
    });
    if let Some(map) = claims.as_object_mut() {
        match principal.kind {
            Kind::ServicePrincipal => {
                map.insert("idtyp".into(), json!("app"));
            }
            Kind::ManagedIdentity => {
                map.insert("idtyp".into(), json!("app"));
                map.insert(
                    "xms_mirid".into(),
                    json!(format!(
                        "/subscriptions/{}/resourcegroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                        scenario.subscriptions[0], principal.name
                    )),
                );
            }
            Kind::User => {
                map.insert(
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn".into(),
                    json!(principal.name),
                );
                map.insert("name".into(), json!("Alice"));
                map.insert("appidacr".into(), json!("0"));
            }
        }
    }
    claims
}

/// Which subscription a scope is in.
fn subscription_of(scenario: &Scenario, scope: &str) -> usize {
    scenario
        .subscriptions
        .iter()
        .position(|sub| scope.contains(sub.as_str()))
        .unwrap_or(0)
}

/// Records of one operation.
#[allow(clippy::too_many_arguments)]
fn administrative(
    scenario: &Scenario,
    principal: &Principal,
    action: usize,
    scope: &str,
    correlation: &str,
    time: NaiveDateTime,
    result_type: &str,
    status_code: &str,
    error_code: Option<&str>,
) -> String {
    let action_name = ACTIONS[action].0;
    let sub = subscription_of(scenario, scope);
    let mut properties = json!({
        "statusCode": status_code,
        "serviceRequestId": correlation.chars().rev().collect::<String>(),
        "eventCategory": "Administrative",
        "entity": scope,
        "message": action_name,
        "hierarchy": format!("{}/{}", scenario.tenant, scenario.subscriptions[sub]),
    });
    if let (Some(code), Some(map)) = (error_code, properties.as_object_mut()) {
        let message = json!({"error": {"code": code, "message": format!(
            "The client '{}' with object id '{}' failed: {code} on '{action_name}' over scope '{scope}'.",
            principal.object_id, principal.object_id
        )}});
        map.insert("statusMessage".into(), json!(message.to_string()));
    }
    let caller = if principal.kind == Kind::User {
        principal.name.clone()
    } else {
        principal.object_id.clone()
    };
    let signature = match result_type {
        "Start" => "Started.".to_owned(),
        "Accept" => "Accepted.Created".to_owned(),
        "Success" => format!("Succeeded.{status_code}"),
        _ => format!("Failed.{status_code}"),
    };
    let record = json!({
        "RoleLocation": "West Europe",
        "time": time_text(time),
        "resourceId": scope.to_ascii_uppercase(),
        "operationName": action_name.to_ascii_uppercase(),
        "category": "Administrative",
        "resultType": result_type,
        "resultSignature": signature,
        "durationMs": if result_type == "Start" { "0" } else { "1234" },
        "callerIpAddress": "20.61.12.34",
        "correlationId": correlation,
        "identity": {
            "authorization": {
                "scope": scope,
                "action": action_name,
                "evidence": {
                    "role": "Contributor",
                    "roleAssignmentScope": format!("/subscriptions/{}", scenario.subscriptions[sub]),
                    "principalId": principal.object_id.replace('-', ""),
                    "principalType": if principal.kind == Kind::User { "User" } else { "ServicePrincipal" },
                }
            },
            "claims": claims(scenario, principal),
        },
        "caller": caller,
        "level": if result_type == "Failure" { "Error" } else { "Information" },
        "location": "global",
        "properties": properties,
        "tenantId": scenario.tenant,
    });
    record.to_string()
}

/// Generates the operations starting in one hour of the period.
fn hour(
    scenario: &Scenario,
    seed: u64,
    index: u64,
    start: NaiveDateTime,
    records: u64,
) -> (Vec<Line>, PartialTruth) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ index);
    let mut lines = Vec::new();
    let mut truth = PartialTruth::default();
    while truth.records < records {
        let time = start + Duration::microseconds(rng.random_range(0..3_600_000_000i64));
        let roll: f64 = rng.random();
        let principal_index = rng.random_range(0..scenario.principals.len());
        let principal = &scenario.principals[principal_index];
        let correlation = guid(&mut rng);
        let mut push = |time: NaiveDateTime, subscription: usize, text: String| {
            lines.push(Line {
                time,
                subscription,
                text,
            });
        };
        if roll < 0.74 {
            // Start (+ Accept) + Success.
            let (action, scope) = &principal.uses[rng.random_range(0..principal.uses.len())];
            let sub = subscription_of(scenario, scope);
            let accepted = rng.random_bool(0.25);
            let end = time + Duration::milliseconds(rng.random_range(800..180_000));
            let record = |time, result_type, status_code| {
                administrative(
                    scenario,
                    principal,
                    *action,
                    scope,
                    &correlation,
                    time,
                    result_type,
                    status_code,
                    None,
                )
            };
            push(time, sub, record(time, "Start", "Created"));
            let mut count = 2;
            if accepted {
                let at = time + Duration::milliseconds(400);
                push(at, sub, record(at, "Accept", "Accepted"));
                count += 1;
            }
            push(end, sub, record(end, "Success", "OK"));
            truth.records += count;
            truth.operations += 1;
            truth.duplicate_records += count - 1;
            truth
                .counts
                .entry((principal_index, *action, scope.clone()))
                .or_default()
                .0 += 1;
        } else if roll < 0.82 {
            // A denial: one Failure record, with or without the error code.
            let (action, scope) = if rng.random_bool(0.7) {
                let (action, scope) =
                    &principal.refused[rng.random_range(0..principal.refused.len())];
                (*action, scope.clone())
            } else {
                // An action it uses elsewhere, refused on another scope.
                let (action, _) = principal.uses[rng.random_range(0..principal.uses.len())];
                (action, scope_for(&mut rng, action, &scenario.subscriptions))
            };
            let code = rng.random_bool(0.7).then_some("AuthorizationFailed");
            let sub = subscription_of(scenario, &scope);
            push(
                time,
                sub,
                administrative(
                    scenario,
                    principal,
                    action,
                    &scope,
                    &correlation,
                    time,
                    "Failure",
                    "Forbidden",
                    code,
                ),
            );
            truth.records += 1;
            truth.operations += 1;
            truth
                .counts
                .entry((principal_index, action, scope))
                .or_default()
                .1 += 1;
        } else if roll < 0.87 {
            // Start + Failure after the permission check: the permission was used.
            let (action, scope) = &principal.uses[rng.random_range(0..principal.uses.len())];
            let (status, code) = OTHER_FAILURES[rng.random_range(0..OTHER_FAILURES.len())];
            let sub = subscription_of(scenario, scope);
            let end = time + Duration::milliseconds(rng.random_range(300..20_000));
            push(
                time,
                sub,
                administrative(
                    scenario,
                    principal,
                    *action,
                    scope,
                    &correlation,
                    time,
                    "Start",
                    "Created",
                    None,
                ),
            );
            push(
                end,
                sub,
                administrative(
                    scenario,
                    principal,
                    *action,
                    scope,
                    &correlation,
                    end,
                    "Failure",
                    status,
                    Some(code),
                ),
            );
            truth.records += 2;
            truth.operations += 1;
            truth.duplicate_records += 1;
            truth
                .counts
                .entry((principal_index, *action, scope.clone()))
                .or_default()
                .0 += 1;
        } else if roll < 0.97 {
            // Another category.
            let sub = rng.random_range(0..scenario.subscriptions.len());
            let subscription = &scenario.subscriptions[sub];
            let (category, operation, status) = match rng.random_range(0..3) {
                0 => (
                    "ServiceHealth",
                    "Microsoft.ServiceHealth/incident/action",
                    "Active",
                ),
                1 => (
                    "ResourceHealth",
                    "Microsoft.Resourcehealth/healthevent/Activated/action",
                    "Active",
                ),
                _ => (
                    "Policy",
                    "Microsoft.Authorization/policies/audit/action",
                    "Succeeded",
                ),
            };
            let mut record = json!({
                "time": time_text(time),
                "resourceId": format!("/SUBSCRIPTIONS/{}", subscription.to_ascii_uppercase()),
                "operationName": operation.to_ascii_uppercase(),
                "category": category,
                "resultType": status,
                "correlationId": correlation,
                "level": "Informational",
                "location": "global",
                "properties": {"eventCategory": category, "title": "generated"},
            });
            if category == "Policy"
                && let Some(map) = record.as_object_mut()
            {
                // Policy records name the caller whose request was evaluated.
                map.insert(
                    "identity".into(),
                    json!({
                        "authorization": {"action": operation, "scope": format!("/subscriptions/{subscription}")},
                        "claims": claims(scenario, principal),
                    }),
                );
            }
            push(time, sub, record.to_string());
            truth.records += 1;
            *truth
                .set_aside
                .entry(format!("category:{category}"))
                .or_insert(0) += 1;
        } else {
            // A platform-initiated write with no caller claims.
            let sub = rng.random_range(0..scenario.subscriptions.len());
            let scope = format!(
                "/subscriptions/{}/resourceGroups/rg-web-prod/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web",
                scenario.subscriptions[sub]
            );
            let record = json!({
                "time": time_text(time),
                "resourceId": scope.to_ascii_uppercase(),
                "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/WRITE",
                "category": "Administrative",
                "resultType": "Success",
                "correlationId": correlation,
                "identity": {"authorization": {"action": "Microsoft.Compute/virtualMachineScaleSets/write", "scope": scope}},
                "caller": "Microsoft.Insights/autoscaleSettings",
                "level": "Information",
                "location": "global",
                "properties": {"eventCategory": "Administrative", "statusCode": "OK"},
            });
            push(time, sub, record.to_string());
            truth.records += 1;
            *truth
                .set_aside
                .entry("no-caller-claims".into())
                .or_insert(0) += 1;
        }
    }
    (lines, truth)
}

/// The blob path of a subscription's hour.
fn blob_path(out: &Path, subscription: &str, hour: NaiveDateTime, gzip: bool) -> PathBuf {
    out.join("insights-activity-logs")
        .join("resourceId=")
        .join("SUBSCRIPTIONS")
        .join(subscription.to_ascii_uppercase())
        .join(format!(
            "y={}/m={:02}/d={:02}/h={:02}/m=00",
            hour.year(),
            hour.month(),
            hour.day(),
            hour.hour()
        ))
        .join(if gzip { "PT1H.json.gz" } else { "PT1H.json" })
}

/// Writes the set under `out` and `ground-truth.json` beside it.
pub fn generate(out: &Path, options: &GenerateOptions) -> Result<GroundTruth, GenerateError> {
    let logs = out.join("insights-activity-logs");
    if logs.exists() {
        return Err(GenerateError {
            path: logs,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it already exists; choose a new directory for `--out`",
            ),
        });
    }
    let scenario = Scenario::new(options.seed);
    let hours = u64::from(options.days.max(1)) * 24;
    let start = options.start.and_hms_opt(0, 0, 0).unwrap_or_default();
    let per_hour = options.records.div_ceil(hours).max(1);
    let mut remaining = options.records;
    let quotas: Vec<u64> = (0..hours)
        .map(|_| {
            let quota = per_hour.min(remaining);
            remaining -= quota;
            quota
        })
        .collect();
    // Hours are generated in parallel in chunks; a record that falls after its hour (a
    // long operation) is carried into the next hour's blob of its subscription.
    let chunk = (rayon::current_num_threads() * 4).max(1);
    let mut carry: Vec<Line> = Vec::new();
    let mut written: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
    let mut truth = GroundTruth {
        format_version: 1,
        ..GroundTruth::default()
    };
    let mut counts: BTreeMap<(usize, usize, String), (u64, u64)> = BTreeMap::new();
    let mut files = std::collections::BTreeSet::new();
    let indexes: Vec<u64> = (0..hours).collect();
    for batch in indexes.chunks(chunk) {
        let generated: Vec<(Vec<Line>, PartialTruth)> = batch
            .par_iter()
            .map(|&index| {
                let hour_start = start + Duration::hours(index as i64);
                let quota = quotas[index as usize];
                if quota == 0 {
                    (Vec::new(), PartialTruth::default())
                } else {
                    hour(&scenario, options.seed, index, hour_start, quota)
                }
            })
            .collect();
        for (offset, (mut lines, partial)) in generated.into_iter().enumerate() {
            let index = batch[offset];
            let hour_start = start + Duration::hours(index as i64);
            let hour_end = hour_start + Duration::hours(1);
            lines.append(&mut carry);
            lines.sort_by(|a, b| a.time.cmp(&b.time).then(a.text.cmp(&b.text)));
            let (now, later): (Vec<Line>, Vec<Line>) =
                lines.into_iter().partition(|line| line.time < hour_end);
            carry = later;
            let mut by_subscription: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
            for line in now {
                let buffer = by_subscription.entry(line.subscription).or_default();
                buffer.extend_from_slice(line.text.as_bytes());
                buffer.push(b'\n');
            }
            for (subscription, bytes) in by_subscription {
                let path = blob_path(
                    out,
                    &scenario.subscriptions[subscription],
                    hour_start,
                    options.gzip,
                );
                written.insert(path, bytes);
            }
            truth.records += partial.records;
            truth.operations += partial.operations;
            truth.duplicate_records += partial.duplicate_records;
            for (key, (allowed, denied)) in partial.counts {
                let entry = counts.entry(key).or_default();
                entry.0 += allowed;
                entry.1 += denied;
            }
            for (reason, count) in partial.set_aside {
                *truth.set_aside.entry(reason).or_insert(0) += count;
            }
        }
        write_blobs(&mut written, options.gzip, &mut files)?;
    }
    // Records of the period's last operations that end after it go in the next hour's blob.
    if !carry.is_empty() {
        let hour_start = start + Duration::hours(hours as i64);
        let mut by_subscription: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
        for line in carry {
            let buffer = by_subscription.entry(line.subscription).or_default();
            buffer.extend_from_slice(line.text.as_bytes());
            buffer.push(b'\n');
        }
        for (subscription, bytes) in by_subscription {
            let path = blob_path(
                out,
                &scenario.subscriptions[subscription],
                hour_start,
                options.gzip,
            );
            written.insert(path, bytes);
        }
        write_blobs(&mut written, options.gzip, &mut files)?;
    }
    truth.files = files.len() as u64;
    truth.principals = scenario
        .principals
        .iter()
        .enumerate()
        .map(|(index, principal)| {
            let mut entry = PrincipalTruth {
                name: principal.name.clone(),
                object_id: principal.object_id.clone(),
                app_id: principal.app_id.clone(),
                kind: match principal.kind {
                    Kind::ServicePrincipal => "service-principal",
                    Kind::ManagedIdentity => "managed-identity",
                    Kind::User => "user",
                }
                .to_owned(),
                ..PrincipalTruth::default()
            };
            for ((who, action, scope), (allowed, denied)) in &counts {
                if *who != index {
                    continue;
                }
                let name = ACTIONS[*action].0.to_owned();
                if *allowed > 0 {
                    entry
                        .used
                        .entry(name.clone())
                        .or_default()
                        .insert(scope.clone(), *allowed);
                }
                if *denied > 0 {
                    entry
                        .denied
                        .entry(name)
                        .or_default()
                        .insert(scope.clone(), *denied);
                }
            }
            entry
        })
        .collect();
    let path = out.join(GROUND_TRUTH_FILE);
    let mut text = serde_json::to_vec_pretty(&truth).map_err(|error| GenerateError {
        path: path.clone(),
        source: std::io::Error::other(error),
    })?;
    text.push(b'\n');
    std::fs::write(&path, text).map_err(|source| GenerateError { path, source })?;
    Ok(truth)
}

/// Writes (appending: a blob can receive records carried from the hour before) and forgets
/// the blobs of a batch.
fn write_blobs(
    written: &mut BTreeMap<PathBuf, Vec<u8>>,
    gzip: bool,
    files: &mut std::collections::BTreeSet<PathBuf>,
) -> Result<(), GenerateError> {
    for (path, bytes) in std::mem::take(written) {
        let error = |source| GenerateError {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(error)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(error)?;
        if gzip {
            // Concatenated gzip members read as one stream (RFC 1952, 2.2).
            let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
            encoder.write_all(&bytes).map_err(error)?;
            let compressed = encoder.finish().map_err(error)?;
            file.write_all(&compressed).map_err(error)?;
        } else {
            file.write_all(&bytes).map_err(error)?;
        }
        files.insert(path);
    }
    Ok(())
}
