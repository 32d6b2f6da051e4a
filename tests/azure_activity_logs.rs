//! The Azure Activity Log reader against the generator's independent ground truth, and one
//! test per reading rule (pairing, denials, failures after the permission check, set-aside
//! reasons, corrupt blobs, window pruning, the `az monitor activity-log list` shape).

use pipeleash::azure::activity_log::{
    ActivityLogError, ActivityLogUsage, Ingestion, SetAsideReason, read_path,
};
use pipeleash::generate::azure_activity_log::{GenerateOptions, GroundTruth, generate};
use pipeleash::model::{IdentityId, Permission, Provider, TimeWindow, UsageKey};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SUB: &str = "00000000-0000-4000-8000-0000000000aa";
const OID: &str = "11111111-1111-4111-8111-111111111111";
const SCOPE: &str = "/subscriptions/00000000-0000-4000-8000-0000000000aa/resourceGroups/rg/providers/Microsoft.Web/sites/app";
const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";

fn options(records: u64, seed: u64, days: u32) -> GenerateOptions {
    GenerateOptions {
        records,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        days,
        gzip: false,
    }
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// A storage-export record (one line of `PT1H.json`).
fn storage_record(
    time: &str,
    result_type: &str,
    correlation: &str,
    action: &str,
    status_code: &str,
    error_code: Option<&str>,
) -> Value {
    let mut properties = json!({"statusCode": status_code, "eventCategory": "Administrative"});
    if let Some(code) = error_code {
        properties["statusMessage"] =
            json!(json!({"error": {"code": code, "message": "m"}}).to_string());
    }
    json!({
        "time": time,
        "resourceId": SCOPE.to_ascii_uppercase(),
        "operationName": action.to_ascii_uppercase(),
        "category": "Administrative",
        "resultType": result_type,
        "correlationId": correlation,
        "identity": {
            "authorization": {"action": action, "scope": SCOPE},
            "claims": {OBJECT_ID_CLAIM: OID, "appid": "app-1", "idtyp": "app"},
        },
        "caller": OID,
        "properties": properties,
    })
}

fn lines(records: &[Value]) -> Vec<u8> {
    let mut text = String::new();
    for record in records {
        text.push_str(&record.to_string());
        text.push('\n');
    }
    text.into_bytes()
}

/// Writes `bytes` as the blob of `hour` (`2026-10-01T10`) under `root`.
fn write_blob(root: &Path, hour: &str, bytes: &[u8]) -> PathBuf {
    let (date, hour) = hour.split_once('T').unwrap();
    let parts: Vec<&str> = date.split('-').collect();
    let dir = root.join(format!(
        "insights-activity-logs/resourceId=/SUBSCRIPTIONS/{}/y={}/m={}/d={}/h={hour}/m=00",
        SUB.to_ascii_uppercase(),
        parts[0],
        parts[1],
        parts[2]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("PT1H.json");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_bytes(inputs: &[(&str, Vec<u8>)]) -> ActivityLogUsage {
    let mut ingestion = Ingestion::new(TimeWindow::default());
    for (name, bytes) in inputs {
        ingestion.add_bytes(name, bytes);
    }
    ingestion.finish()
}

fn key(action: &str) -> UsageKey {
    UsageKey {
        identity: IdentityId::new(Provider::Azure, OID),
        permission: Permission::new(Provider::Azure, action),
        resource: SCOPE.to_owned(),
    }
}

/// (allowed, denied) operations of a key.
fn counts(usage: &ActivityLogUsage, action: &str) -> (u64, u64) {
    usage
        .usage
        .get(&key(action))
        .map_or((0, 0), |record| (record.count, record.denied_count))
}

/// Used actions per principal object id, from the reader.
fn used_by_principal(usage: &ActivityLogUsage) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, record) in usage.usage.iter() {
        if record.count > 0 {
            let id = key.identity.to_string();
            let object_id = id.trim_start_matches("azure:").to_owned();
            used.entry(object_id)
                .or_default()
                .insert(key.permission.action.clone());
        }
    }
    used
}

#[test]
fn used_actions_per_principal_have_precision_and_recall_one_against_ground_truth() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(20_000, 11, 3)).unwrap();
    let usage = read_path(
        &out.path().join("insights-activity-logs"),
        TimeWindow::default(),
        None,
    )
    .unwrap();
    let found = used_by_principal(&usage);
    let mut true_positives = 0usize;
    let (mut found_total, mut truth_total) = (0usize, 0usize);
    for principal in &truth.principals {
        let expected: BTreeSet<String> = principal.used.keys().cloned().collect();
        let got = found.get(&principal.object_id).cloned().unwrap_or_default();
        true_positives += expected.intersection(&got).count();
        found_total += got.len();
        truth_total += expected.len();
    }
    // Nobody outside the scenario appears.
    let known: BTreeSet<&str> = truth
        .principals
        .iter()
        .map(|principal| principal.object_id.as_str())
        .collect();
    assert!(found.keys().all(|id| known.contains(id.as_str())));
    let precision = true_positives as f64 / found_total as f64;
    let recall = true_positives as f64 / truth_total as f64;
    assert_eq!((precision, recall), (1.0, 1.0));
    assert!(truth_total > 30, "a scenario worth the name: {truth_total}");
}

#[test]
fn operation_counts_per_scope_match_ground_truth_so_start_and_success_count_once() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(12_000, 5, 2)).unwrap();
    let usage = read_path(out.path(), TimeWindow::default(), None).unwrap();
    let mut expected: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
    for principal in &truth.principals {
        for (action, scopes) in &principal.used {
            for (scope, count) in scopes {
                let key = (principal.object_id.clone(), action.clone(), scope.clone());
                expected.entry(key).or_default().0 += count;
            }
        }
        for (action, scopes) in &principal.denied {
            for (scope, count) in scopes {
                let key = (principal.object_id.clone(), action.clone(), scope.clone());
                expected.entry(key).or_default().1 += count;
            }
        }
    }
    let got: BTreeMap<(String, String, String), (u64, u64)> = usage
        .usage
        .iter()
        .map(|(key, record)| {
            (
                (
                    key.identity
                        .to_string()
                        .trim_start_matches("azure:")
                        .to_owned(),
                    key.permission.action.clone(),
                    key.resource.clone(),
                ),
                (record.count, record.denied_count),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let coverage = &usage.coverage;
    assert_eq!(coverage.records_read, truth.records);
    assert_eq!(coverage.operations, truth.operations);
    assert_eq!(coverage.duplicates_merged, truth.duplicate_records);
    assert_eq!(coverage.files_read, truth.files);
    let set_aside: BTreeMap<String, u64> = coverage
        .set_aside
        .iter()
        .map(|(reason, count)| (reason.as_string(), *count))
        .collect();
    assert_eq!(set_aside, truth.set_aside);
    // Kinds come from the claims.
    for principal in &truth.principals {
        let evidence = &usage.principals[&IdentityId::new(Provider::Azure, &principal.object_id)];
        assert_eq!(evidence.kind.as_str(), principal.kind, "{}", principal.name);
        assert!(evidence.app_ids.contains(&principal.app_id));
    }
}

#[test]
fn denied_actions_are_never_used() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(8_000, 21, 1)).unwrap();
    let usage = read_path(out.path(), TimeWindow::default(), None).unwrap();
    let found = used_by_principal(&usage);
    let mut denied_only = 0;
    for principal in &truth.principals {
        for action in principal.denied.keys() {
            if !principal.used.contains_key(action) {
                denied_only += 1;
                assert!(
                    !found
                        .get(&principal.object_id)
                        .is_some_and(|used| used.contains(action)),
                    "{} {action}",
                    principal.name
                );
            }
        }
    }
    assert!(denied_only > 5);
}

#[test]
fn same_seed_gives_byte_identical_sets_and_gzip_reads_the_same() {
    let (a, b, z) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let truth_a = generate(a.path(), &options(3_000, 4, 1)).unwrap();
    let truth_b = generate(b.path(), &options(3_000, 4, 1)).unwrap();
    assert_eq!(truth_a, truth_b);
    // Everything but the sources, which name the directories.
    let listing = |root: &Path| {
        let usage = read_path(root, TimeWindow::default(), None).unwrap();
        let records: Vec<(UsageKey, u64, u64, String, String)> = usage
            .usage
            .iter()
            .map(|(key, record)| {
                (
                    key.clone(),
                    record.count,
                    record.denied_count,
                    record.first_seen.to_rfc3339(),
                    record.last_seen.to_rfc3339(),
                )
            })
            .collect();
        (records, usage.coverage.operations)
    };
    for (path_a, path_b) in walk_files(a.path()).iter().zip(walk_files(b.path())) {
        assert_eq!(
            std::fs::read(path_a).unwrap(),
            std::fs::read(&path_b).unwrap()
        );
    }
    let gzip = GenerateOptions {
        gzip: true,
        ..options(3_000, 4, 1)
    };
    let truth_z = generate(z.path(), &gzip).unwrap();
    assert_eq!(truth_z, truth_a);
    assert!(
        walk_files(z.path())
            .iter()
            .any(|path| path.to_string_lossy().ends_with(".json.gz"))
    );
    assert!(listing(z.path()) == listing(a.path()));
    // Generating into a set that exists is refused rather than appended to.
    assert!(generate(a.path(), &options(3_000, 4, 1)).is_err());
}

fn walk_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn start_accept_and_success_of_one_operation_count_once() {
    let action = "Microsoft.Web/sites/write";
    let bytes = lines(&[
        storage_record(
            "2026-10-01T10:00:00.1000000Z",
            "Start",
            "c1",
            action,
            "Created",
            None,
        ),
        storage_record(
            "2026-10-01T10:00:00.5000000Z",
            "Accept",
            "c1",
            action,
            "Accepted",
            None,
        ),
        storage_record(
            "2026-10-01T10:00:09.0000000Z",
            "Success",
            "c1",
            action,
            "OK",
            None,
        ),
        storage_record(
            "2026-10-01T10:20:00.0000000Z",
            "Start",
            "c2",
            action,
            "Created",
            None,
        ),
        storage_record(
            "2026-10-01T10:20:03.0000000Z",
            "Success",
            "c2",
            action,
            "OK",
            None,
        ),
    ]);
    let usage = read_bytes(&[("PT1H.json", bytes)]);
    assert_eq!(counts(&usage, action), (2, 0));
    assert_eq!(usage.coverage.operations, 2);
    assert_eq!(usage.coverage.duplicates_merged, 3);
    let record = usage.usage.get(&key(action)).unwrap();
    assert_eq!(record.first_seen, at("2026-10-01T10:00:00.1Z"));
}

#[test]
fn start_and_success_in_two_hourly_blobs_count_once_in_any_order() {
    let action = "Microsoft.Resources/deployments/write";
    let start = lines(&[storage_record(
        "2026-10-01T10:59:59.0000000Z",
        "Start",
        "c1",
        action,
        "Created",
        None,
    )]);
    let end = lines(&[storage_record(
        "2026-10-01T11:00:30.0000000Z",
        "Success",
        "C1",
        action,
        "OK",
        None,
    )]);
    let forward = read_bytes(&[("a", start.clone()), ("b", end.clone())]);
    let backward = read_bytes(&[("b", end.clone()), ("a", start.clone())]);
    assert_eq!(counts(&forward, action), (1, 0));
    assert_eq!(forward.usage, backward.usage);
    // Through the parallel directory reader too.
    let root = tempfile::tempdir().unwrap();
    write_blob(root.path(), "2026-10-01T10", &start);
    write_blob(root.path(), "2026-10-01T11", &end);
    let usage = read_path(root.path(), TimeWindow::default(), None).unwrap();
    assert_eq!(counts(&usage, action), (1, 0));
    assert_eq!(usage.coverage.duplicates_merged, 1);
}

/// Regression: an accept was taken for a start, so the accept and success in the second blob
/// counted as a whole operation and the start left in the first blob counted again, in the
/// order the workers happened to read the blobs.
#[test]
fn start_in_one_blob_accept_and_success_in_the_next_count_once_in_any_order() {
    let action = "Microsoft.ContainerService/managedClusters/write";
    let start = lines(&[storage_record(
        "2026-10-01T10:59:59.9000000Z",
        "Start",
        "c1",
        action,
        "Created",
        None,
    )]);
    let rest = lines(&[
        storage_record(
            "2026-10-01T11:00:00.3000000Z",
            "Accept",
            "c1",
            action,
            "Accepted",
            None,
        ),
        storage_record(
            "2026-10-01T11:02:00.0000000Z",
            "Success",
            "c1",
            action,
            "OK",
            None,
        ),
    ]);
    let forward = read_bytes(&[("a", start.clone()), ("b", rest.clone())]);
    let backward = read_bytes(&[("b", rest.clone()), ("a", start.clone())]);
    assert_eq!(counts(&forward, action), (1, 0));
    assert_eq!(counts(&backward, action), (1, 0));
    assert_eq!(backward.coverage.duplicates_merged, 2);
    let record = backward.usage.get(&key(action)).unwrap();
    assert_eq!(record.first_seen, at("2026-10-01T10:59:59.9Z"));
}

#[test]
fn object_ids_in_upper_case_name_the_same_principal() {
    let action = "Microsoft.Web/sites/write";
    let mut upper = storage_record("2026-10-01T10:00:00Z", "Success", "c1", action, "OK", None);
    upper["identity"]["claims"][OBJECT_ID_CLAIM] = json!(OID.to_ascii_uppercase());
    let lower = storage_record("2026-10-01T10:05:00Z", "Success", "c2", action, "OK", None);
    let usage = read_bytes(&[("PT1H.json", lines(&[upper, lower]))]);
    assert_eq!(counts(&usage, action), (2, 0));
    assert_eq!(usage.principals.len(), 1);
}

#[test]
fn authorization_failed_and_bare_forbidden_are_denied_never_used() {
    let action = "Microsoft.Authorization/roleAssignments/write";
    let bytes = lines(&[
        storage_record(
            "2026-10-01T10:00:00Z",
            "Failure",
            "c1",
            action,
            "Forbidden",
            Some("AuthorizationFailed"),
        ),
        storage_record(
            "2026-10-01T10:05:00Z",
            "Failure",
            "c2",
            action,
            "Forbidden",
            None,
        ),
    ]);
    let usage = read_bytes(&[("PT1H.json", bytes)]);
    assert_eq!(counts(&usage, action), (0, 2));
}

#[test]
fn failures_after_the_permission_check_count_as_used_with_the_reason() {
    let cases = [
        ("Microsoft.Web/sites/write", "Conflict", "ScopeLocked"),
        (
            "Microsoft.Storage/storageAccounts/write",
            "Forbidden",
            "RequestDisallowedByPolicy",
        ),
        (
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Forbidden",
            "LinkedAuthorizationFailed",
        ),
        (
            "Microsoft.Resources/deployments/write",
            "BadRequest",
            "InvalidTemplate",
        ),
    ];
    let mut records = Vec::new();
    for (index, (action, status, code)) in cases.iter().enumerate() {
        let correlation = format!("c{index}");
        records.push(storage_record(
            "2026-10-01T10:00:00Z",
            "Start",
            &correlation,
            action,
            "Created",
            None,
        ));
        records.push(storage_record(
            "2026-10-01T10:00:02Z",
            "Failure",
            &correlation,
            action,
            status,
            Some(code),
        ));
    }
    let usage = read_bytes(&[("PT1H.json", lines(&records))]);
    for (action, _, code) in cases {
        assert_eq!(counts(&usage, action), (1, 0), "{action}");
        let notes = &usage.notes[&key(action)];
        assert!(notes.iter().any(|note| note.contains(code)), "{notes:?}");
    }
}

#[test]
fn records_without_caller_claims_or_authorization_are_counted_by_reason() {
    let action = "Microsoft.Compute/virtualMachineScaleSets/write";
    let mut no_claims = storage_record("2026-10-01T10:00:00Z", "Success", "c1", action, "OK", None);
    no_claims["identity"]
        .as_object_mut()
        .unwrap()
        .remove("claims");
    let mut no_oid = storage_record("2026-10-01T10:00:00Z", "Success", "c2", action, "OK", None);
    no_oid["identity"]["claims"] = json!({"appid": "app-1"});
    let mut no_authorization =
        storage_record("2026-10-01T10:00:00Z", "Success", "c3", action, "OK", None);
    no_authorization["identity"]
        .as_object_mut()
        .unwrap()
        .remove("authorization");
    let mut no_time = storage_record("2026-10-01T10:00:00Z", "Success", "c4", action, "OK", None);
    no_time["time"] = json!("not a time");
    let usage = read_bytes(&[(
        "PT1H.json",
        lines(&[no_claims, no_oid, no_authorization, no_time]),
    )]);
    assert!(usage.usage.is_empty());
    let expected: BTreeMap<SetAsideReason, u64> = [
        (SetAsideReason::NoCallerClaims, 2),
        (SetAsideReason::NoAuthorization, 1),
        (SetAsideReason::NoTime, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(usage.coverage.set_aside, expected);
    assert_eq!(usage.coverage.records_read, 4);
}

#[test]
fn categories_other_than_administrative_are_set_aside_by_category() {
    let action = "Microsoft.Web/sites/write";
    let mut policy = storage_record("2026-10-01T10:00:00Z", "Success", "c1", action, "OK", None);
    policy["category"] = json!("Policy");
    policy["properties"]["eventCategory"] = json!("Policy");
    let health = json!({"time": "2026-10-01T10:00:00Z", "category": "ServiceHealth",
        "resultType": "Active", "properties": {"eventCategory": "ServiceHealth"}});
    // REST shape: the category is a localizable string.
    let alert = json!({"eventTimestamp": "2026-10-01T10:00:00Z",
        "category": {"value": "Alert", "localizedValue": "Alert"}, "status": {"value": "Activated"}});
    // An old export with the operation type in `category` is Administrative.
    let mut old = storage_record("2026-10-01T10:00:00Z", "Success", "c4", action, "OK", None);
    old["category"] = json!("Write");
    old["properties"]
        .as_object_mut()
        .unwrap()
        .remove("eventCategory");
    let usage = read_bytes(&[("PT1H.json", lines(&[policy, health, alert, old]))]);
    let set_aside: BTreeMap<String, u64> = usage
        .coverage
        .set_aside
        .iter()
        .map(|(reason, count)| (reason.as_string(), *count))
        .collect();
    assert_eq!(
        set_aside,
        [
            ("category:Alert".to_owned(), 1),
            ("category:Policy".to_owned(), 1),
            ("category:ServiceHealth".to_owned(), 1)
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(counts(&usage, action), (1, 0));
}

#[test]
fn a_corrupt_or_truncated_blob_is_named_skipped_and_contributes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let action = "Microsoft.Web/sites/write";
    let good = lines(&[
        storage_record(
            "2026-10-01T10:00:00Z",
            "Start",
            "c1",
            action,
            "Created",
            None,
        ),
        storage_record("2026-10-01T10:00:01Z", "Success", "c1", action, "OK", None),
    ]);
    write_blob(root.path(), "2026-10-01T10", &good);
    // A blob cut in the middle of its second record: its first record is not counted either.
    let mut truncated = lines(&[
        storage_record(
            "2026-10-01T11:00:00Z",
            "Start",
            "c2",
            action,
            "Created",
            None,
        ),
        storage_record("2026-10-01T11:00:01Z", "Success", "c2", action, "OK", None),
    ]);
    truncated.truncate(truncated.len() - 40);
    let truncated_path = write_blob(root.path(), "2026-10-01T11", &truncated);
    // Gzip magic followed by garbage.
    let dir = truncated_path
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    let gz_dir = dir.join("h=12/m=00");
    std::fs::create_dir_all(&gz_dir).unwrap();
    std::fs::write(gz_dir.join("PT1H.json.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x01]).unwrap();
    let usage = read_path(root.path(), TimeWindow::default(), None).unwrap();
    assert_eq!(counts(&usage, action), (1, 0));
    assert_eq!(usage.coverage.files_read, 1);
    let skipped: Vec<&str> = usage
        .coverage
        .files_skipped
        .iter()
        .map(|file| file.source.as_str())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].ends_with("h=11/m=00/PT1H.json"), "{skipped:?}");
    assert!(
        skipped[1].ends_with("h=12/m=00/PT1H.json.gz"),
        "{skipped:?}"
    );
    assert!(usage.coverage.files_skipped[0].reason.contains("line 2"));
    assert!(usage.coverage.files_skipped[1].reason.contains("gzip"));
}

#[test]
fn folders_outside_the_window_are_never_opened() {
    let root = tempfile::tempdir().unwrap();
    let action = "Microsoft.Web/sites/write";
    let inside = lines(&[
        storage_record(
            "2026-10-05T10:00:00Z",
            "Start",
            "c1",
            action,
            "Created",
            None,
        ),
        storage_record("2026-10-05T10:00:01Z", "Success", "c1", action, "OK", None),
    ]);
    write_blob(root.path(), "2026-10-05T10", &inside);
    // Corrupt blobs outside the window: opening one would list it as skipped.
    write_blob(root.path(), "2026-09-20T10", b"{not json");
    write_blob(root.path(), "2026-10-09T10", b"{not json");
    let window = TimeWindow {
        since: Some(at("2026-10-04T00:00:00Z")),
        until: Some(at("2026-10-06T00:00:00Z")),
    };
    let usage = read_path(root.path(), window, None).unwrap();
    assert!(
        usage.coverage.files_skipped.is_empty(),
        "{:?}",
        usage.coverage.files_skipped
    );
    assert_eq!(usage.coverage.files_read, 1);
    assert!(usage.coverage.folders_pruned >= 2);
    assert_eq!(counts(&usage, action), (1, 0));
    // Without a window both are opened, and reported.
    let everything = read_path(root.path(), TimeWindow::default(), None).unwrap();
    assert_eq!(everything.coverage.files_skipped.len(), 2);
}

#[test]
fn records_outside_the_window_are_not_counted() {
    let action = "Microsoft.Web/sites/write";
    let bytes = lines(&[
        storage_record("2026-10-01T09:59:59Z", "Success", "c0", action, "OK", None),
        storage_record("2026-10-01T10:00:00Z", "Success", "c1", action, "OK", None),
    ]);
    let mut ingestion = Ingestion::new(TimeWindow {
        since: Some(at("2026-10-01T10:00:00Z")),
        until: None,
    });
    ingestion.add_bytes("PT1H.json", &bytes);
    let usage = ingestion.finish();
    assert_eq!(counts(&usage, action), (1, 0));
    assert_eq!(usage.coverage.records_outside_window, 1);
}

/// What `az monitor activity-log list` prints: a JSON array of REST-shaped events.
fn az_list_output() -> String {
    let event = |status: &str, sub_status: &str, operation: &str, time: &str, action: &str| {
        json!({
            "authorization": {"action": action, "role": null, "scope": SCOPE},
            "caller": OID,
            "category": {"localizedValue": "Administrative", "value": "Administrative"},
            "claims": {"aud": "https://management.core.windows.net/", OBJECT_ID_CLAIM: OID,
                       "appid": "app-1", "idtyp": "app"},
            "correlationId": "corr-1",
            "description": "",
            "eventDataId": format!("{operation}-{status}"),
            "eventName": {"localizedValue": "End request", "value": "EndRequest"},
            "eventTimestamp": time,
            "httpRequest": {"clientIpAddress": "20.1.2.3", "method": "PUT"},
            "id": format!("{SCOPE}/events/{operation}"),
            "level": "Informational",
            "operationId": operation,
            "operationName": {"localizedValue": "Create or Update Web App", "value": action},
            "properties": {"statusCode": sub_status, "statusMessage": if status == "Failed" {
                json!({"error": {"code": "AuthorizationFailed", "message": "no"}}).to_string()
            } else { String::new() }},
            "resourceGroupName": "rg",
            "resourceId": SCOPE,
            "status": {"localizedValue": status, "value": status},
            "subStatus": {"localizedValue": sub_status, "value": sub_status},
            "submissionTimestamp": time,
            "subscriptionId": SUB,
            "tenantId": "tenant",
        })
    };
    let write = "Microsoft.Web/sites/write";
    let restart = "Microsoft.Web/sites/restart/action";
    serde_json::to_string_pretty(&json!([
        event(
            "Succeeded",
            "OK",
            "op-1",
            "2026-10-01T10:00:05.123456+00:00",
            write
        ),
        event("Started", "", "op-1", "2026-10-01T10:00:00.5+00:00", write),
        event(
            "Failed",
            "Forbidden",
            "op-2",
            "2026-10-01T10:10:00+00:00",
            restart
        ),
    ]))
    .unwrap()
}

#[test]
fn az_monitor_activity_log_list_output_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    std::fs::write(&file, az_list_output()).unwrap();
    let usage = read_path(&file, TimeWindow::default(), None).unwrap();
    assert_eq!(counts(&usage, "Microsoft.Web/sites/write"), (1, 0));
    assert_eq!(counts(&usage, "Microsoft.Web/sites/restart/action"), (0, 1));
    assert_eq!(usage.coverage.duplicates_merged, 1);
    let record = usage.usage.get(&key("Microsoft.Web/sites/write")).unwrap();
    assert_eq!(record.first_seen, at("2026-10-01T10:00:00.5Z"));
    // The REST page shape `{"value": [...]}` reads the same.
    let page: Value = json!({"value": serde_json::from_str::<Value>(&az_list_output()).unwrap()});
    let from_page = read_bytes(&[("page.json", page.to_string().into_bytes())]);
    for action in [
        "Microsoft.Web/sites/write",
        "Microsoft.Web/sites/restart/action",
    ] {
        assert_eq!(counts(&from_page, action), counts(&usage, action));
    }
}

#[test]
fn a_path_with_no_log_files_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    let error = read_path(dir.path(), TimeWindow::default(), None).unwrap_err();
    assert!(matches!(error, ActivityLogError::NoLogFiles { .. }));
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string())
    );
    let missing = read_path(&dir.path().join("nope"), TimeWindow::default(), None).unwrap_err();
    assert!(matches!(missing, ActivityLogError::Root { .. }));
}

#[test]
fn ground_truth_file_is_written_beside_the_logs() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(1_000, 2, 1)).unwrap();
    let text = std::fs::read_to_string(out.path().join("ground-truth.json")).unwrap();
    let read: GroundTruth = serde_json::from_str(&text).unwrap();
    assert_eq!(read, truth);
    assert_eq!(read.format_version, 1);
    let kinds: BTreeSet<&str> = read.principals.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["managed-identity", "service-principal", "user"]
            .into_iter()
            .collect()
    );
}
