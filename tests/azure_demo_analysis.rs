//! The Azure demo (`recorded-fixtures/azure-demo`, written by its `make_demo.py`) through
//! `azure::analysis::analyze` with proposals: counts for every identity that was used, proven
//! proposals that keep every used operation, denials never counted as used, an operation's
//! `Start` and `Success` records counted once, and the corrupt blob reported.

use chrono::{TimeZone, Utc};
use pipeleash::analysis::{Analysis, Options};
use pipeleash::azure::activity_log::{ActivityLogUsage, read_path};
use pipeleash::azure::analysis::{AzureEvidence, analyze};
use pipeleash::azure::inventory::AzureInventory;
use pipeleash::model::TimeWindow;
use pipeleash::model::{IdentityId, ObservationWindow, Provider};
use pipeleash::snapshot::Snapshot;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const TENANT: &str = "7c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/azure-demo")
}

#[derive(Deserialize)]
struct Truth {
    principals: Vec<PrincipalTruth>,
}

#[derive(Deserialize)]
struct PrincipalTruth {
    name: String,
    object_id: String,
    used: BTreeMap<String, BTreeMap<String, u64>>,
    denied: BTreeMap<String, BTreeMap<String, u64>>,
}

fn truth() -> Truth {
    let text = std::fs::read_to_string(demo().join("activity-log-ground-truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn inventory_text() -> String {
    std::fs::read_to_string(
        demo()
            .join("snapshot/inventory")
            .join(format!("azure-{TENANT}.json")),
    )
    .unwrap()
}

fn window() -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    (
        Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
    )
}

fn usage() -> ActivityLogUsage {
    let (since, until) = window();
    read_path(
        &demo().join("activity-log"),
        TimeWindow {
            since: Some(since),
            until: Some(until),
        },
        None,
    )
    .unwrap()
}

fn analysis(usage: &ActivityLogUsage) -> Analysis {
    let inventories = [serde_json::from_str::<AzureInventory>(&inventory_text()).unwrap()];
    let (since, until) = window();
    analyze(
        &AzureEvidence {
            inventories: &inventories,
            usage: Some(usage),
        },
        ObservationWindow { since, until },
        Options {
            propose: true,
            now: until,
        },
    )
    .unwrap()
}

#[test]
fn the_demo_snapshot_is_in_the_shape_collect_azure_writes() {
    let snapshot = Snapshot::open(&demo().join("snapshot")).unwrap();
    let sources = &snapshot.manifest().sources;
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].kind, "azure-inventory");
    assert_eq!(sources[0].id, TENANT);
    let read: AzureInventory = snapshot.read_json(Path::new(&sources[0].path)).unwrap();
    // Written as `collect azure` writes it: serde's pretty JSON of the inventory, sorted.
    let text = inventory_text();
    let mut again = serde_json::to_string_pretty(&read).unwrap();
    again.push('\n');
    assert_eq!(
        text, again,
        "the inventory file is not serde's rendering of itself"
    );
    let mut sorted = read.clone();
    sorted.normalize();
    assert_eq!(
        sorted, read,
        "the inventory lists are not sorted as `collect azure` sorts them"
    );
}

#[test]
fn every_used_identity_has_counts_and_a_proven_proposal_holding_every_used_operation() {
    let usage = usage();
    let analysis = analysis(&usage);
    let truth = truth();
    assert_eq!(analysis.identities.len(), 11);
    let mut proposals = 0;
    for identity in &analysis.identities {
        let expected = truth
            .principals
            .iter()
            .find(|p| p.object_id == identity.identity.id.native())
            .unwrap_or_else(|| panic!("{} has no ground truth", identity.identity.id));
        let counts = identity
            .counts
            .unwrap_or_else(|| panic!("{} was used but has no counts", expected.name));
        assert_eq!(counts.used, expected.used.len(), "{}", expected.name);
        assert_eq!(counts.denied, expected.denied.len(), "{}", expected.name);
        assert_eq!(
            counts.granted,
            counts.used + counts.unused + counts.unobservable,
            "{}",
            expected.name
        );
        assert!(counts.unused > 0, "{} has nothing to remove", expected.name);
        let proposal = identity
            .proposal
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no proposal", expected.name))
            .as_ref()
            .unwrap_or_else(|error| panic!("{}: {error}", expected.name));
        assert!(proposal.proof_never_drop > 0 && proposal.proof_never_broaden > 0);
        let kept: BTreeSet<String> = proposal.json["roles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|role| role["holds"] == "used")
            .flat_map(|role| role["definition"]["Actions"].as_array().unwrap().clone())
            .map(|action| action.as_str().unwrap().to_ascii_lowercase())
            .collect();
        for operation in expected.used.keys() {
            assert!(
                kept.contains(&operation.to_ascii_lowercase()),
                "{}: `{operation}` is not in the proposal {kept:?}",
                expected.name
            );
        }
        for operation in expected.denied.keys() {
            assert!(
                !kept.contains(&operation.to_ascii_lowercase()),
                "{}: the denied `{operation}` was kept as used",
                expected.name
            );
        }
        proposals += 1;
    }
    assert_eq!(proposals, 11);
}

#[test]
fn denied_calls_are_never_used_and_start_success_pairs_count_once() {
    let usage = usage();
    let truth = truth();
    for expected in &truth.principals {
        let id = IdentityId::new(Provider::Azure, &expected.object_id);
        let mut allowed: BTreeMap<String, u64> = BTreeMap::new();
        let mut denied: BTreeMap<String, u64> = BTreeMap::new();
        for (key, record) in usage.usage.for_identity(&id) {
            *allowed.entry(key.permission.action.clone()).or_default() += record.count;
            *denied.entry(key.permission.action.clone()).or_default() += record.denied_count;
        }
        allowed.retain(|_, count| *count > 0);
        denied.retain(|_, count| *count > 0);
        let sum = |side: &BTreeMap<String, BTreeMap<String, u64>>| -> BTreeMap<String, u64> {
            side.iter()
                .map(|(action, scopes)| (action.clone(), scopes.values().sum()))
                .collect()
        };
        assert_eq!(allowed, sum(&expected.used), "{}", expected.name);
        assert_eq!(denied, sum(&expected.denied), "{}", expected.name);
    }
    // Every allowed operation was logged as a `Start` and a `Success`.
    assert!(usage.coverage.duplicates_merged > 0);
}

#[test]
fn the_corrupt_blob_and_the_unknown_caller_are_reported() {
    let usage = usage();
    let analysis = analysis(&usage);
    assert_eq!(usage.coverage.files_skipped.len(), 1);
    assert!(
        analysis.coverage.iter().any(
            |sentence| sentence.contains("d=18/h=23") && sentence.contains("could not be read")
        ),
        "{:#?}",
        analysis.coverage
    );
    let alice = truth()
        .principals
        .into_iter()
        .find(|p| p.name == "alice@acme.example")
        .unwrap();
    assert_eq!(
        analysis.usage_of_unknown_identities,
        [format!("azure:{}", alice.object_id)]
    );
    assert!(analysis.findings.is_empty());
}

/// The demo's credential sign-in report (Microsoft Graph `appCredentialSignInActivities`):
/// `legacy-release`'s `release-forever` last signed in more than 90 days before the analysis
/// and is called unused; `release-2025`, which signed in during the week, is not; the expired
/// `release-2023`, absent from the report, is said to be so in the evidence.
#[test]
fn the_sign_in_report_tells_unused_client_secrets_from_used_ones() {
    let usage = usage();
    let analysis = analysis(&usage);
    let legacy = analysis
        .identities
        .iter()
        .find(|identity| identity.identity.display_name == "legacy-release")
        .expect("legacy-release");
    let secrets: Vec<_> = legacy
        .findings
        .iter()
        .filter(|finding| finding.id == "azure-client-secret")
        .collect();
    let message = |name: &str| {
        secrets
            .iter()
            .find(|finding| finding.message.contains(&format!("`{name}`")))
            .map(|finding| finding.message.clone())
            .unwrap_or_default()
    };
    assert!(
        message("release-forever").contains("has not signed in since 2026-06-02"),
        "{secrets:#?}"
    );
    assert!(
        !message("release-2025").contains("not signed in"),
        "{secrets:#?}"
    );
    let evidence: Vec<String> = secrets
        .iter()
        .flat_map(|finding| finding.evidence.iter().map(|item| item.detail.clone()))
        .collect();
    assert!(
        evidence
            .iter()
            .any(|detail| detail.contains("last sign-in 2026-11-19T14:02:11Z")),
        "{evidence:#?}"
    );
    assert!(
        evidence
            .iter()
            .any(|detail| detail.contains("not in the credential activity report")),
        "{evidence:#?}"
    );
}

/// A role assignment read that failed while collecting leaves what every identity is granted
/// unknown: no counts (never zeros against operations the log shows), no proposal, and a
/// coverage sentence naming the failed read.
#[test]
fn a_failed_role_assignment_read_leaves_grants_unknown_not_zero() {
    let usage = usage();
    let mut inventory = serde_json::from_str::<AzureInventory>(&inventory_text()).unwrap();
    inventory.errors.push(
        serde_json::from_value(serde_json::json!({
            "call": "Microsoft.Authorization/roleAssignments/read",
            "target": "/subscriptions/3f2e1d0c-1111-4a2b-9c3d-5e6f7a8b9c01",
            "status": 403,
            "code": "AuthorizationFailed",
            "reason": "denied"
        }))
        .unwrap(),
    );
    let (since, until) = window();
    let analysis = analyze(
        &AzureEvidence {
            inventories: &[inventory],
            usage: Some(&usage),
        },
        ObservationWindow { since, until },
        Options {
            propose: true,
            now: until,
        },
    )
    .unwrap();
    assert!(
        analysis
            .identities
            .iter()
            .all(|identity| identity.counts.is_none() && identity.proposal.is_none())
    );
    assert!(
        analysis
            .coverage
            .iter()
            .any(|line| line.contains("roleAssignments/read") && line.contains("unknown")),
        "{:?}",
        analysis.coverage
    );
}
