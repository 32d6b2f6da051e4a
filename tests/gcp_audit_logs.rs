//! Usage from Cloud Audit Logs: one test per record-shape rule, the two sources (the sink's
//! Cloud Storage layout and `gcloud logging read --format=json`), corrupt files, window
//! pruning, and precision/recall against generated sets with ground truth; then the CLI.
//!
//! Rules and their sources are documented in `src/gcp/audit_log/accumulate.rs`:
//! `AuditLog` reference <https://cloud.google.com/logging/docs/reference/audit/auditlog/rest/Shared.Types/AuditLog>,
//! sink layout <https://cloud.google.com/logging/docs/export/storage>.

use chrono::{TimeZone, Utc};
use pipeleash::gcp::audit_log::{
    AuditLogUsage, Ingestion, Observability, SetAsideReason, ingest_path, observability,
};
use pipeleash::generate::gcp_audit_log::{GenerateOptions, GroundTruth, POOL_NAME, generate};
use pipeleash::model::TimeWindow;
use pipeleash::model::{IdentityId, Provider};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const DEPLOYER: &str = "deployer@acme-prod.iam.gserviceaccount.com";
const WIF_MAIN: &str = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:acme/web:ref:refs/heads/main";

/// An Admin Activity entry with the given payload fields merged over a granted call.
fn entry(payload: Value) -> Value {
    let mut base = json!({
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {},
        "authenticationInfo": {"principalEmail": DEPLOYER},
        "serviceName": "run.googleapis.com",
        "methodName": "google.cloud.run.v2.Services.UpdateService",
        "resourceName": "projects/acme-prod/locations/europe-west1/services/web",
        "authorizationInfo": [
            {"resource": "projects/acme-prod/locations/europe-west1/services/web",
             "permission": "run.services.update", "granted": true}
        ]
    });
    if let (Some(base), Some(over)) = (base.as_object_mut(), payload.as_object()) {
        for (key, value) in over {
            if value.is_null() {
                base.remove(key);
            } else {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    json!({
        "protoPayload": base,
        "insertId": "abc",
        "resource": {"type": "cloud_run_revision", "labels": {"project_id": "acme-prod"}},
        "timestamp": "2026-11-02T10:11:12.123456789Z",
        "severity": "NOTICE",
        "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
        "receiveTimestamp": "2026-11-02T10:11:12.923456789Z"
    })
}

fn ndjson(entries: &[Value]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in entries {
        bytes.extend(serde_json::to_vec(entry).unwrap());
        bytes.push(b'\n');
    }
    bytes
}

fn read(entries: &[Value]) -> AuditLogUsage {
    let mut ingestion = Ingestion::new(TimeWindow::default());
    ingestion.read_bytes("test.json", &ndjson(entries));
    ingestion.finish()
}

fn gcp(native: &str) -> IdentityId {
    IdentityId::new(Provider::Gcp, native)
}

/// (allowed count, denied count) of one identity × permission, over all resources.
fn counts(usage: &AuditLogUsage, identity: &str, permission: &str) -> (u64, u64) {
    let id = gcp(identity);
    usage
        .usage
        .for_identity(&id)
        .filter(|(key, _)| key.permission.action == permission)
        .fold((0, 0), |(allowed, denied), (_, record)| {
            (allowed + record.count, denied + record.denied_count)
        })
}

/// Principal → permissions with at least one allowed (or denied) call.
fn permissions(usage: &AuditLogUsage, denied: bool) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, record) in usage.usage.iter() {
        let count = if denied {
            record.denied_count
        } else {
            record.count
        };
        if count > 0 {
            map.entry(key.identity.native().to_string())
                .or_default()
                .insert(key.permission.action.clone());
        }
    }
    map
}

/// Precision and recall of `found` against `truth`, over (principal, permission) pairs.
fn precision_recall(
    found: &BTreeMap<String, BTreeSet<String>>,
    truth: &BTreeMap<String, BTreeSet<String>>,
) -> (f64, f64) {
    let pairs = |map: &BTreeMap<String, BTreeSet<String>>| -> BTreeSet<(String, String)> {
        map.iter()
            .flat_map(|(principal, permissions)| {
                permissions
                    .iter()
                    .map(move |permission| (principal.clone(), permission.clone()))
            })
            .collect()
    };
    let (found, truth) = (pairs(found), pairs(truth));
    let hits = found.intersection(&truth).count() as f64;
    (hits / found.len() as f64, hits / truth.len() as f64)
}

// ---- record-shape rules -------------------------------------------------------------------

#[test]
fn granted_true_is_used() {
    let usage = read(&[entry(json!({}))]);
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
}

#[test]
fn granted_false_is_denied_never_used() {
    let usage = read(&[entry(json!({
        "status": {"code": 7, "message": "PERMISSION_DENIED"},
        "authorizationInfo": [{"resource": "projects/acme-prod", "permission": "resourcemanager.projects.setIamPolicy", "granted": false}]
    }))]);
    assert_eq!(
        counts(&usage, DEPLOYER, "resourcemanager.projects.setIamPolicy"),
        (0, 1)
    );
}

#[test]
fn status_permission_denied_without_granted_is_denied_never_used() {
    // proto3 JSON leaves `granted: false` out; status 7 (PERMISSION_DENIED) says the call
    // was refused.
    let usage = read(&[entry(json!({
        "status": {"code": 7, "message": "PERMISSION_DENIED"},
        "authorizationInfo": [{"resource": "projects/acme-prod", "permission": "resourcemanager.projects.setIamPolicy"}]
    }))]);
    assert_eq!(
        counts(&usage, DEPLOYER, "resourcemanager.projects.setIamPolicy"),
        (0, 1)
    );
}

#[test]
fn granted_permission_of_a_call_refused_for_another_counts_as_used() {
    let usage = read(&[entry(json!({
        "status": {"code": 7},
        "authorizationInfo": [
            {"resource": "projects/p/serviceAccounts/x", "permission": "iam.serviceAccounts.get", "granted": true},
            {"resource": "projects/p/serviceAccounts/x", "permission": "iam.serviceAccountKeys.create", "granted": false}
        ]
    }))]);
    assert_eq!(counts(&usage, DEPLOYER, "iam.serviceAccounts.get"), (1, 0));
    assert_eq!(
        counts(&usage, DEPLOYER, "iam.serviceAccountKeys.create"),
        (0, 1)
    );
    assert_eq!(usage.coverage.granted_in_refused_calls, 1);
}

#[test]
fn unstated_grant_in_a_call_that_was_not_refused_counts_as_used() {
    let usage = read(&[entry(json!({
        "authorizationInfo": [{"resource": "projects/acme-prod", "permission": "run.services.update"}]
    }))]);
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
    assert_eq!(usage.coverage.granted_unstated, 1);
}

#[test]
fn every_element_of_a_multi_permission_call_counts() {
    let usage = read(&[entry(json!({
        "authorizationInfo": [
            {"resource": "projects/acme-prod/zones/z/instances/i", "permission": "compute.instances.create", "granted": true},
            {"resource": "projects/acme-prod/zones/z/disks/i", "permission": "compute.disks.create", "granted": true},
            {"resource": "projects/acme-prod/regions/r/subnetworks/s", "permission": "compute.subnetworks.use", "granted": true}
        ]
    }))]);
    for permission in [
        "compute.instances.create",
        "compute.disks.create",
        "compute.subnetworks.use",
    ] {
        assert_eq!(counts(&usage, DEPLOYER, permission), (1, 0), "{permission}");
    }
    let resources: BTreeSet<&str> = usage
        .usage
        .iter()
        .map(|(key, _)| key.resource.as_str())
        .collect();
    assert!(resources.contains("projects/acme-prod/regions/r/subnetworks/s"));
}

#[test]
fn impersonated_call_is_charged_to_the_service_account_and_keeps_the_chain() {
    let usage = read(&[entry(json!({
        "authenticationInfo": {
            "principalEmail": "builder@acme-prod.iam.gserviceaccount.com",
            "serviceAccountDelegationInfo": [
                {"principalSubject": WIF_MAIN},
                {"firstPartyPrincipal": {"principalEmail": DEPLOYER}}
            ]
        }
    }))]);
    assert_eq!(
        counts(
            &usage,
            "builder@acme-prod.iam.gserviceaccount.com",
            "run.services.update"
        ),
        (1, 0)
    );
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (0, 0));
    assert_eq!(usage.delegations.len(), 1);
    assert_eq!(
        usage.delegations[0].identity,
        "gcp:builder@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(usage.delegations[0].chain, [WIF_MAIN, DEPLOYER]);
    // The federated subject at the start of the chain is the CI workload.
    let (_, record) = usage.usage.iter().next().unwrap();
    let workload = record.workloads.iter().next().unwrap();
    assert_eq!(workload.subject, "repo:acme/web:ref:refs/heads/main");
}

#[test]
fn workload_identity_principal_subject_links_the_call_to_its_ci_workload() {
    let usage = read(&[entry(json!({
        "authenticationInfo": {
            "principalEmail": DEPLOYER,
            "serviceAccountDelegationInfo": [{"principalSubject": WIF_MAIN}]
        }
    }))]);
    let (key, record) = usage.usage.iter().next().unwrap();
    assert_eq!(key.identity, gcp(DEPLOYER));
    let workloads: Vec<(&str, &str)> = record
        .workloads
        .iter()
        .map(|workload| (workload.issuer_url.as_str(), workload.subject.as_str()))
        .collect();
    assert_eq!(
        workloads,
        [(POOL_NAME, "repo:acme/web:ref:refs/heads/main")]
    );
}

#[test]
fn direct_federated_access_is_charged_to_the_principal_subject() {
    let usage = read(&[entry(json!({
        "authenticationInfo": {"principalSubject": WIF_MAIN}
    }))]);
    assert_eq!(counts(&usage, WIF_MAIN, "run.services.update"), (1, 0));
    let (_, record) = usage.usage.iter().next().unwrap();
    assert_eq!(record.workloads.len(), 1);
}

#[test]
fn resource_falls_back_to_the_entry_resource_name() {
    let usage = read(&[entry(json!({
        "resourceName": "projects/acme-prod/locations/europe-west1/services/api",
        "authorizationInfo": [{"permission": "run.services.update", "granted": true}]
    }))]);
    let (key, _) = usage.usage.iter().next().unwrap();
    assert_eq!(
        key.resource,
        "projects/acme-prod/locations/europe-west1/services/api"
    );
}

#[test]
fn entries_without_a_principal_are_set_aside_with_a_reason() {
    let usage = read(&[
        entry(json!({"authenticationInfo": null})),
        entry(json!({"authenticationInfo": {}})),
    ]);
    assert!(usage.usage.is_empty());
    assert_eq!(
        usage.coverage.set_aside.get(&SetAsideReason::NoPrincipal),
        Some(&2)
    );
}

#[test]
fn entries_without_authorization_info_are_set_aside_with_a_reason() {
    let usage = read(&[
        entry(json!({"authorizationInfo": null})),
        entry(json!({"authorizationInfo": []})),
    ]);
    assert!(usage.usage.is_empty());
    assert_eq!(
        usage
            .coverage
            .set_aside
            .get(&SetAsideReason::NoAuthorizationInfo),
        Some(&2)
    );
}

#[test]
fn authorization_elements_without_a_permission_are_set_aside_and_the_others_count() {
    let usage = read(&[entry(json!({
        "authorizationInfo": [
            {"resource": "projects/acme-prod", "granted": true},
            {"resource": "projects/acme-prod", "permission": "run.services.update", "granted": true}
        ]
    }))]);
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
    assert_eq!(
        usage.coverage.set_aside.get(&SetAsideReason::NoPermission),
        Some(&1)
    );
}

#[test]
fn entries_that_are_not_audit_logs_or_have_bad_times_are_set_aside_with_a_reason() {
    let mut no_payload = entry(json!({}));
    no_payload.as_object_mut().unwrap().remove("protoPayload");
    let mut bad_time = entry(json!({}));
    bad_time["timestamp"] = json!("yesterday");
    let mut no_time = entry(json!({}));
    no_time.as_object_mut().unwrap().remove("timestamp");
    let usage = read(&[no_payload, bad_time, no_time]);
    assert!(usage.usage.is_empty());
    let set_aside = &usage.coverage.set_aside;
    assert_eq!(set_aside.get(&SetAsideReason::NotAnAuditLog), Some(&1));
    assert_eq!(set_aside.get(&SetAsideReason::MalformedTimestamp), Some(&1));
    assert_eq!(set_aside.get(&SetAsideReason::MissingTimestamp), Some(&1));
}

#[test]
fn entries_outside_the_window_are_not_counted() {
    let mut ingestion = Ingestion::new(TimeWindow {
        since: Some(Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap()),
        until: None,
    });
    ingestion.read_bytes("test.json", &ndjson(&[entry(json!({}))]));
    let usage = ingestion.finish();
    assert!(usage.usage.is_empty());
    assert_eq!(usage.coverage.entries_read, 1);
    assert_eq!(usage.coverage.entries_in_window, 0);
}

#[test]
fn without_data_access_entries_data_plane_permissions_are_unobservable() {
    let usage = read(&[entry(json!({}))]);
    assert!(!usage.coverage.data_access_present());
    assert!(matches!(
        observability("storage.objects.get", &usage.coverage),
        Observability::Unobservable { .. }
    ));
    assert_eq!(
        observability("run.services.update", &usage.coverage),
        Observability::Observable
    );
    let mut data = entry(json!({
        "serviceName": "storage.googleapis.com",
        "authorizationInfo": [{"resource": "projects/_/buckets/b/objects/o", "permission": "storage.objects.get", "granted": true}]
    }));
    data["logName"] = json!("projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access");
    let usage = read(&[data]);
    assert!(usage.coverage.data_access_present());
    assert_eq!(
        observability("storage.objects.get", &usage.coverage),
        Observability::Observable
    );
}

// ---- sources and files --------------------------------------------------------------------

#[test]
fn gcloud_logging_read_json_array_is_read() {
    // `gcloud logging read --format=json` prints a pretty JSON array.
    let text = serde_json::to_vec_pretty(&json!([
        entry(json!({})),
        entry(json!({"authorizationInfo": [{"resource": "projects/acme-prod", "permission": "resourcemanager.projects.get", "granted": true}]}))
    ]))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.json");
    std::fs::write(&file, text).unwrap();
    let usage = ingest_path(&file, TimeWindow::default()).unwrap();
    assert_eq!(usage.coverage.files_read, 1);
    assert_eq!(usage.coverage.entries_read, 2);
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
    assert_eq!(
        counts(&usage, DEPLOYER, "resourcemanager.projects.get"),
        (1, 0)
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn corrupt_and_truncated_files_are_named_skipped_and_count_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("cloudaudit.googleapis.com/activity/2026/11/02");
    write(
        &day.join("10:00:00_10:59:59_S0.json"),
        &ndjson(&[entry(json!({}))]),
    );
    // A second shard cut in the middle of its second line: its first, whole line must not
    // be counted either.
    let mut truncated = ndjson(&[
        entry(
            json!({"authorizationInfo": [{"resource": "projects/acme-prod", "permission": "run.services.delete", "granted": true}]}),
        ),
        entry(json!({})),
    ]);
    truncated.truncate(truncated.len() - 40);
    write(&day.join("10:00:00_10:59:59_S1.json"), &truncated);
    // Not gzip after all.
    write(
        &day.join("11:00:00_11:59:59_S0.json.gz"),
        &[0x1f, 0x8b, 8, 0, 1, 2, 3],
    );
    let usage = ingest_path(dir.path(), TimeWindow::default()).unwrap();
    assert_eq!(usage.coverage.files_read, 1);
    let skipped: Vec<&str> = usage
        .coverage
        .files_skipped
        .iter()
        .map(|file| file.source.as_str())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].ends_with("10:00:00_10:59:59_S1.json"));
    assert!(skipped[1].ends_with("11:00:00_11:59:59_S0.json.gz"));
    assert!(
        usage.coverage.files_skipped[0]
            .reason
            .contains("line 2: invalid LogEntry JSON"),
        "{}",
        usage.coverage.files_skipped[0].reason
    );
    assert_eq!(counts(&usage, DEPLOYER, "run.services.delete"), (0, 0));
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
}

#[test]
fn date_folders_outside_the_window_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("cloudaudit.googleapis.com");
    // Corrupt files in folders outside the window: were they opened, they would be listed
    // as skipped.
    write(
        &audit.join("activity/2026/10/01/10:00:00_10:59:59_S0.json"),
        b"{ not json",
    );
    write(
        &audit.join("data_access/2025/11/02/10:00:00_10:59:59_S0.json"),
        b"{ not json",
    );
    write(
        &audit.join("activity/2026/11/02/10:00:00_10:59:59_S0.json"),
        &ndjson(&[entry(json!({}))]),
    );
    let window = TimeWindow {
        since: Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
        until: Some(Utc.with_ymd_and_hms(2026, 11, 8, 0, 0, 0).unwrap()),
    };
    let usage = ingest_path(dir.path(), window).unwrap();
    assert_eq!(usage.coverage.files_read, 1);
    assert!(usage.coverage.files_skipped.is_empty());
    assert_eq!(counts(&usage, DEPLOYER, "run.services.update"), (1, 0));
}

#[test]
fn logs_entirely_outside_the_window_give_an_empty_usage_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path()
            .join("cloudaudit.googleapis.com/activity/2026/10/01/10:00:00_10:59:59_S0.json"),
        &ndjson(&[entry(json!({}))]),
    );
    let window = TimeWindow {
        since: Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
        until: None,
    };
    let usage = ingest_path(dir.path(), window).unwrap();
    assert!(usage.usage.is_empty());
    assert_eq!(usage.coverage.files_read, 0);
}

#[test]
fn a_path_without_log_files_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let error = ingest_path(dir.path(), TimeWindow::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string()),
        "{error}"
    );
}

// ---- generated sets with ground truth -----------------------------------------------------

fn generated(entries: u64, gzip: bool) -> (tempfile::TempDir, GroundTruth) {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(
        dir.path(),
        &GenerateOptions {
            entries,
            seed: 7,
            days: 3,
            gzip,
            ..GenerateOptions::default()
        },
    )
    .unwrap();
    (dir, truth)
}

fn check_against_truth(usage: &AuditLogUsage, truth: &GroundTruth) {
    let used = permissions(usage, false);
    let (precision, recall) = precision_recall(&used, &truth.used);
    assert_eq!((precision, recall), (1.0, 1.0));
    assert_eq!(used, truth.used);
    assert_eq!(permissions(usage, true), truth.denied);
    // Denied never counted as used: no allowed call of a permission only ever refused.
    for (principal, denied) in &truth.denied {
        for permission in denied {
            if !truth
                .used
                .get(principal)
                .is_some_and(|used| used.contains(permission))
            {
                assert_eq!(
                    counts(usage, principal, permission).0,
                    0,
                    "{principal} {permission}"
                );
            }
        }
    }
    let mut subjects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, record) in usage.usage.iter() {
        for workload in &record.workloads {
            assert_eq!(workload.issuer_url, POOL_NAME);
            subjects
                .entry(key.identity.native().to_string())
                .or_default()
                .insert(workload.subject.clone());
        }
    }
    assert_eq!(subjects, truth.subjects);
    let set_aside: BTreeMap<String, u64> = usage
        .coverage
        .set_aside
        .iter()
        .map(|(reason, count)| (reason.as_str().to_string(), *count))
        .collect();
    assert_eq!(set_aside, truth.set_aside);
    let log_types: BTreeMap<String, u64> = usage
        .coverage
        .log_types
        .iter()
        .map(|(kind, count)| (kind.as_str().to_string(), *count))
        .collect();
    assert_eq!(log_types, truth.log_types);
    // Service-account key use (`authenticationInfo.serviceAccountKeyName`): precision and
    // recall one over the keys, and the same number of entries per key.
    let keys_found: BTreeSet<&String> = usage.key_use.keys().collect();
    let keys_truth: BTreeSet<&String> = truth.key_use.keys().collect();
    let hits = keys_found.intersection(&keys_truth).count() as f64;
    assert!(!keys_truth.is_empty(), "the generated set uses no key");
    assert_eq!(
        (
            hits / keys_found.len() as f64,
            hits / keys_truth.len() as f64
        ),
        (1.0, 1.0)
    );
    let calls: BTreeMap<String, u64> = usage
        .key_use
        .iter()
        .map(|(key, used)| (key.clone(), used.calls))
        .collect();
    assert_eq!(calls, truth.key_use);
    assert_eq!(usage.coverage.entries_read, truth.entries);
    assert_eq!(usage.coverage.files_read, truth.files);
    assert!(usage.coverage.files_skipped.is_empty());
}

#[test]
fn generated_set_used_permissions_per_principal_have_precision_and_recall_one() {
    let (dir, truth) = generated(20_000, false);
    assert!(truth.used.len() >= 6 && !truth.denied.is_empty());
    let usage = ingest_path(dir.path(), TimeWindow::default()).unwrap();
    check_against_truth(&usage, &truth);
    assert!(usage.coverage.data_access_present());
    // Counts add up: every allowed and denied element of every entry is in the usage.
    let total: u64 = usage
        .usage
        .iter()
        .map(|(_, record)| record.count + record.denied_count)
        .sum();
    assert!(total >= truth.entries / 2);
}

#[test]
fn generated_gzip_set_gives_the_same_answer() {
    let (dir, truth) = generated(5_000, true);
    let usage = ingest_path(dir.path(), TimeWindow::default()).unwrap();
    check_against_truth(&usage, &truth);
}

#[test]
fn generation_is_deterministic() {
    let (a, truth_a) = generated(2_000, false);
    let (b, truth_b) = generated(2_000, false);
    assert_eq!(truth_a, truth_b);
    let file = "cloudaudit.googleapis.com/activity/2026/11/02/10:00:00_10:59:59_S0.json";
    assert_eq!(
        std::fs::read(a.path().join(file)).unwrap(),
        std::fs::read(b.path().join(file)).unwrap()
    );
}

// ---- the command line ---------------------------------------------------------------------

fn pipeleash(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_path_without_log_files_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let output = pipeleash(&["usage", "--gcp-audit-logs", path]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(path), "{stderr}");
}

#[test]
fn cli_logs_of_another_kind_are_an_input_error_naming_the_option_for_each_kind() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures");
    let gcp = fixtures.join("gcp-demo/audit-logs");
    let azure = fixtures.join("azure-demo/activity-log");
    let aws = fixtures.join("demo/cloudtrail");
    // Each reader given the other clouds' demo logs; each demo holds one damaged file too.
    for (option, path, what) in [
        ("--gcp-audit-logs", &azure, "is a Cloud Audit Logs entry"),
        ("--gcp-audit-logs", &aws, "is a Cloud Audit Logs entry"),
        (
            "--azure-activity-logs",
            &gcp,
            "is an Azure Activity Log record",
        ),
        (
            "--azure-activity-logs",
            &aws,
            "is an Azure Activity Log record",
        ),
        ("--cloudtrail", &gcp, "could be read"),
        ("--cloudtrail", &azure, "could be read"),
    ] {
        let output = pipeleash(&["usage", option, path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{option} {path:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{option} {path:?}");
        assert!(stderr.contains(what), "{option} {path:?}: {stderr}");
        assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
        for kind in ["--cloudtrail", "--gcp-audit-logs", "--azure-activity-logs"] {
            assert!(stderr.contains(kind), "{option} {path:?}: {stderr}");
        }
        assert!(
            !stderr.contains("--since"),
            "not a window problem: {stderr}"
        );
    }
    // `minimize` says the same (before: "no entry in the window, check --since/--until").
    for (identity, snapshot, option, path, what) in [
        (
            "web-deployer@acme-web.iam.gserviceaccount.com",
            fixtures.join("gcp-demo/snapshot"),
            "--gcp-audit-logs",
            &azure,
            "is a Cloud Audit Logs entry",
        ),
        (
            "gha-web-deploy",
            fixtures.join("azure-demo/snapshot"),
            "--azure-activity-logs",
            &gcp,
            "is an Azure Activity Log record",
        ),
    ] {
        let output = pipeleash(&[
            "minimize",
            identity,
            "--snapshot",
            snapshot.to_str().unwrap(),
            option,
            path.to_str().unwrap(),
            "--since",
            "2026-11-14",
            "--until",
            "2026-11-21",
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{identity}: {stderr}");
        assert!(stderr.contains(what), "{identity}: {stderr}");
    }
}

#[test]
fn cli_generate_then_usage_json_is_versioned_sorted_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let generated = pipeleash(&[
        "generate",
        "gcp-audit-logs",
        "--entries",
        "3000",
        "--seed",
        "3",
        "--days",
        "2",
        "--out",
        out,
        "--quiet",
    ]);
    assert_eq!(generated.status.code(), Some(0));
    let truth: GroundTruth =
        serde_json::from_slice(&std::fs::read(dir.path().join("ground-truth.json")).unwrap())
            .unwrap();
    let args = [
        "usage",
        "--gcp-audit-logs",
        out,
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-02",
        "--now",
        "2026-11-20",
        "--format",
        "json",
        "--quiet",
    ];
    let first = pipeleash(&args);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(first.stderr.is_empty());
    let second = pipeleash(&args);
    assert_eq!(first.stdout, second.stdout, "deterministic output");
    let view: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(view["format_version"], 1);
    assert_eq!(view["window"]["since"], "2026-11-01T00:00:00Z");
    assert_eq!(view["window"]["until"], "2026-11-03T00:00:00Z");
    assert_eq!(view["coverage"]["data_access_present"], true);
    let identities: Vec<&str> = view["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| identity["identity"].as_str().unwrap())
        .collect();
    let mut sorted = identities.clone();
    sorted.sort();
    assert_eq!(identities, sorted);
    let expected: Vec<String> = truth.used.keys().map(|p| format!("gcp:{p}")).collect();
    assert_eq!(identities, expected);
    let deployer = view["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|identity| identity["identity"] == format!("gcp:{DEPLOYER}"))
        .unwrap();
    let used: Vec<&str> = deployer["used"]
        .as_array()
        .unwrap()
        .iter()
        .map(|permission| permission["permission"].as_str().unwrap())
        .collect();
    let truth_used: Vec<&str> = truth.used[DEPLOYER].iter().map(String::as_str).collect();
    assert_eq!(used, truth_used);
    let storage = deployer["used"]
        .as_array()
        .unwrap()
        .iter()
        .find(|permission| permission["permission"] == "storage.objects.create")
        .unwrap();
    assert_eq!(storage["needs_data_access_logs"], true);
    assert_eq!(
        storage["workloads"][0]["subject"],
        "repo:acme/web:ref:refs/heads/main"
    );
}
