//! Round trip, determinism, frozen schema and damaged-file errors of the usage files.

use super::*;
use crate::snapshot::Store;
use chrono::TimeZone;
use std::collections::BTreeSet;
use std::fs;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0)
        .single()
        .expect("valid time")
}

fn workload(subject: &str) -> CiWorkload {
    workload_of_host("token.actions.githubusercontent.com", subject)
}

fn row(arn: &str, action: &str, resource: &str, workloads: &[&str]) -> (UsageKey, UsageRecord) {
    let key = UsageKey::new(Provider::Aws, arn, action, resource);
    let record = UsageRecord {
        count: 9,
        inferred: 2,
        denied_count: 0,
        first_seen: at(10),
        last_seen: at(3_600),
        workloads: workloads.iter().map(|subject| workload(subject)).collect(),
        unlinked_calls: 1,
        sources: BTreeSet::new(),
        evidence: [
            "implied by PutObject x-amz-acl".to_owned(),
            "via cloudformation.amazonaws.com".to_owned(),
        ]
        .into(),
    };
    (key, record)
}

/// A usage value with something in every field, including a window bound with nanoseconds.
fn sample() -> CloudTrailUsage {
    let deploy = "arn:aws:iam::111111111111:role/gha-deploy";
    let user = "arn:aws:iam::111111111111:user/ci";
    CloudTrailUsage {
        window: TimeWindow {
            since: Some(at(0) + chrono::Duration::nanoseconds(123_456_789)),
            until: None,
        },
        allowed: Usage::from_iter([
            row(
                deploy,
                "s3:GetObject",
                "arn:aws:s3:::site/index.html",
                &[
                    "repo:acme/web:ref:refs/heads/main",
                    "repo:acme/web:pull_request",
                ],
            ),
            row(deploy, "s3:PutObject", "*", &[]),
            row(user, "ecr:GetAuthorizationToken", "*", &[]),
        ]),
        denied: Usage::from_iter([row(deploy, "ssm:GetParameter", "*", &["repo:a|b:odd"])]),
        web_identity_sessions: vec![WebIdentitySession {
            role: deploy.to_owned(),
            workload: workload("repo:acme/web:ref:refs/heads/main"),
            outcome: Outcome::Denied,
            count: 3,
            first_seen: at(1),
            last_seen: at(2),
        }],
        instance_profile_passes: vec![InstanceProfilePass {
            identity: user.to_owned(),
            instance_profile: "web-profile".to_owned(),
            count: 4,
        }],
        access_keys: vec![AccessKeyUse {
            user_arn: user.to_owned(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            calls: 7,
            first_seen: at(3),
            last_seen: at(4),
        }],
        unknown_events: vec![UnknownEvent {
            event_source: "frob.amazonaws.com".to_owned(),
            event_name: "Frobnicate".to_owned(),
            count: 5,
        }],
        set_aside: [
            (SetAsideReason::AwsService, 6),
            (SetAsideReason::MissingFields, 1),
        ]
        .into_iter()
        .collect(),
        no_action_events: 8,
        coverage: Coverage {
            sources_read: 12,
            sources_skipped: vec![SkippedSource::new(
                "AWSLogs/1/CloudTrail/x.json.gz",
                "invalid gzip data: unexpected end of file",
            )],
            events_read: 100,
            events_in_window: 90,
            first_event: Some(at(1)),
            last_event: Some(at(3_600)),
            containers: BTreeMap::from([("111111111111".to_owned(), 90)]),
        },
        trail_overlaps: Vec::new(),
    }
}

/// Commits a new snapshot holding `usage` in a fresh store and returns its directory.
fn write(store: &Path, usage: &CloudTrailUsage) -> PathBuf {
    let mut writer = Store::new(store).writer(at(0)).expect("writer");
    write_usage_parquet(&mut writer, usage).expect("write usage");
    writer.commit().expect("commit").dir().to_path_buf()
}

fn read(dir: &Path) -> Result<Option<CloudTrailUsage>, SnapshotError> {
    read_usage(&Snapshot::open(dir).expect("open"))
}

#[test]
fn usage_reads_back_equal() {
    let store = tempfile::tempdir().expect("tempdir");
    let usage = sample();
    let dir = write(store.path(), &usage);
    assert_eq!(read(&dir).expect("read"), Some(usage));
}

#[test]
fn empty_usage_reads_back_equal() {
    let store = tempfile::tempdir().expect("tempdir");
    let usage = CloudTrailUsage::default();
    let dir = write(store.path(), &usage);
    assert_eq!(read(&dir).expect("read"), Some(usage));
}

#[test]
fn snapshot_without_usage_reads_none() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = Store::new(store.path())
        .writer(at(0))
        .expect("writer")
        .commit()
        .expect("commit")
        .dir()
        .to_path_buf();
    assert_eq!(read(&dir).expect("read"), None);
}

#[test]
fn manifest_lists_the_usage_files_and_its_coverage() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let snapshot = Snapshot::open(&dir).expect("open");
    let listed: Vec<(&str, &str)> = snapshot
        .manifest()
        .sources
        .iter()
        .map(|source| (source.kind.as_str(), source.path.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("cloudtrail-usage", "usage/aws-usage.json"),
            ("cloudtrail-usage-allowed", "usage/aws-allowed.parquet"),
            ("cloudtrail-usage-denied", "usage/aws-denied.parquet"),
        ]
    );
    let coverage = snapshot.manifest().coverage.join("\n");
    assert!(
        coverage.contains("12 log file(s) read, 1 skipped; 100 event(s) read, 90 in the window"),
        "{coverage}"
    );
    assert!(
        coverage.contains("1 event name(s) (5 event(s)) are not mapped"),
        "{coverage}"
    );
}

#[test]
fn identical_usage_gives_byte_identical_files_whatever_order_records_were_added_in() {
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let usage = sample();
    let mut shuffled = sample();
    let mut records: Vec<_> = shuffled.allowed.into_iter().collect();
    records.reverse();
    shuffled.allowed = records.into_iter().collect();
    let first = write(first.path(), &usage);
    let second = write(second.path(), &shuffled);
    for file in [ALLOWED_PATH, DENIED_PATH, SUMMARY_PATH, "manifest.json"] {
        let a = fs::read(first.join(file)).expect("read first");
        let b = fs::read(second.join(file)).expect("read second");
        assert!(
            a == b,
            "`{file}` differs between two writes of the same usage"
        );
    }
    // Reading sorts nothing: the file itself is in key order.
    assert_eq!(read(&second).expect("read"), Some(usage));
}

#[test]
fn parquet_schema_is_the_frozen_one() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let bytes = fs::read(dir.join(ALLOWED_PATH)).expect("read");
    let frame = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .expect("parquet");
    let schema: Vec<(String, String)> = frame
        .columns()
        .iter()
        .map(|column| (column.name().to_string(), column.dtype().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("identity_arn", "str"),
        ("identity_kind", "str"),
        ("action", "str"),
        ("resource", "str"),
        ("logged_count", "u64"),
        ("inferred_count", "u64"),
        ("first_seen", "datetime[ms, UTC]"),
        ("last_seen", "datetime[ms, UTC]"),
        ("workloads", "list[str]"),
        ("unlinked_session_calls", "u64"),
        ("evidence", "list[str]"),
    ]
    .into_iter()
    .map(|(name, dtype)| (name.to_owned(), dtype.to_owned()))
    .collect();
    assert_eq!(schema, expected);
    let workloads: Vec<String> = frame
        .column("workloads")
        .expect("workloads")
        .list()
        .expect("list")
        .get_as_series(0)
        .expect("row 0")
        .str()
        .expect("str")
        .iter()
        .map(|value| value.expect("value").to_owned())
        .collect();
    assert_eq!(
        workloads,
        vec![
            "token.actions.githubusercontent.com|repo:acme/web:pull_request",
            "token.actions.githubusercontent.com|repo:acme/web:ref:refs/heads/main",
        ]
    );
}

#[test]
fn rows_written_before_evidence_was_recorded_read_with_none() {
    let store = tempfile::tempdir().expect("tempdir");
    let usage = sample();
    let dir = write(store.path(), &usage);
    for relative in [ALLOWED_PATH, DENIED_PATH] {
        let bytes = fs::read(dir.join(relative)).expect("read");
        let mut frame = ParquetReader::new(Cursor::new(bytes))
            .finish()
            .expect("parquet")
            .drop("evidence")
            .expect("drop");
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .finish(&mut frame)
            .expect("write");
        fs::write(dir.join(relative), bytes).expect("replace");
    }
    let read = read(&dir).expect("read").expect("usage");
    assert!(read.allowed.iter().all(|(_, row)| row.evidence.is_empty()));
    let without_evidence = |usage: Usage| -> Usage {
        usage
            .into_iter()
            .map(|(key, mut record)| {
                record.evidence.clear();
                (key, record)
            })
            .collect()
    };
    let mut expected = usage;
    expected.allowed = without_evidence(expected.allowed);
    expected.denied = without_evidence(expected.denied);
    assert_eq!(read, expected);
}

#[test]
fn a_snapshot_holding_usage_refuses_more() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let snapshot = Snapshot::open(&dir).expect("open");
    let mut writer = SnapshotWriter::amend(&snapshot).expect("amend");
    let error = write_usage_parquet(&mut writer, &sample()).expect_err("refused");
    assert!(
        matches!(error, SnapshotError::UsageAlreadyPresent { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("collect a new snapshot"),
        "{error}"
    );
}

#[test]
fn usage_added_to_a_committed_snapshot_reads_back() {
    let store = tempfile::tempdir().expect("tempdir");
    let mut writer = Store::new(store.path()).writer(at(0)).expect("writer");
    writer
        .write_json(Path::new("inventory/aws-1.json"), &serde_json::json!({}))
        .expect("inventory");
    let snapshot = writer.commit().expect("commit");
    assert_eq!(read_usage(&snapshot).expect("read"), None);

    let mut writer = SnapshotWriter::amend(&snapshot).expect("amend");
    write_usage_parquet(&mut writer, &sample()).expect("write usage");
    let amended = writer.commit().expect("commit");
    let reopened = Snapshot::open(snapshot.dir()).expect("open");
    assert_eq!(reopened.manifest(), amended.manifest());
    assert_eq!(reopened.manifest().sources.len(), 3);
    assert_eq!(read_usage(&reopened).expect("read"), Some(sample()));
    let leftovers: Vec<_> = fs::read_dir(snapshot.dir())
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn expect_error(dir: &Path) -> String {
    let error = read(dir)
        .expect_err("damaged usage is an error")
        .to_string();
    assert!(error.starts_with(|c: char| !c.is_uppercase()), "{error}");
    error
}

#[test]
fn missing_parquet_file_names_the_file() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    fs::remove_file(dir.join(DENIED_PATH)).expect("remove");
    let error = expect_error(&dir);
    assert!(error.contains("aws-denied.parquet` is missing"), "{error}");
    assert!(error.contains("restore it from a copy"), "{error}");
}

#[test]
fn corrupt_or_truncated_parquet_names_the_file_and_what_to_do() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let path = dir.join(ALLOWED_PATH);
    let bytes = fs::read(&path).expect("read");
    for damaged in [
        b"not parquet at all".to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
    ] {
        fs::write(&path, damaged).expect("damage");
        let error = expect_error(&dir);
        assert!(error.contains("aws-allowed.parquet` as Parquet"), "{error}");
        assert!(error.contains("add the usage again"), "{error}");
    }
}

#[test]
fn parquet_of_another_shape_is_refused_with_the_column_named() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let mut frame = DataFrame::new(
        1,
        vec![
            Series::new(IDENTITY_ARN.into(), vec!["arn:aws:iam::1:role/x"]).into_column(),
            Series::new(IDENTITY_KIND.into(), vec![1u64]).into_column(),
        ],
    )
    .expect("frame");
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut frame)
        .expect("write");
    fs::write(dir.join(ALLOWED_PATH), bytes).expect("replace");
    let error = expect_error(&dir);
    assert!(
        error.contains("column `identity_kind` has type `u64` where `str` is expected"),
        "{error}"
    );
    assert!(
        error.contains("aws-allowed.parquet` is not valid usage data"),
        "{error}"
    );
}

#[test]
fn row_count_mismatch_with_the_summary_is_refused() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    // The denied file (one row) in place of the allowed one (three rows).
    fs::copy(dir.join(DENIED_PATH), dir.join(ALLOWED_PATH)).expect("copy");
    let error = expect_error(&dir);
    assert!(error.contains("holds 1 row(s) where"), "{error}");
}

#[test]
fn workloads_split_at_the_first_bar() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let usage = read(&dir).expect("read").expect("usage");
    let expected: BTreeSet<CiWorkload> = [workload("repo:a|b:odd")].into_iter().collect();
    let (_, record) = usage.denied.iter().next().expect("a denied record");
    assert_eq!(record.workloads, expected);
}

#[test]
fn a_row_that_repeats_an_earlier_key_is_a_damaged_file() {
    let store = tempfile::tempdir().expect("tempdir");
    let dir = write(store.path(), &sample());
    let (key, record) = row("arn:aws:iam::1:role/ci", "s3:GetObject", "*", &[]);
    let mut frame = frame_of(&[(&key, &record), (&key, &record)]).expect("frame");
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut frame)
        .expect("write");
    fs::write(dir.join(DENIED_PATH), bytes).expect("replace");
    let error = expect_error(&dir);
    assert!(
        error.contains("row 2 repeats the identity, action and resource of an earlier row"),
        "{error}"
    );
    assert!(error.contains("aws-denied.parquet"), "{error}");
}

#[test]
fn records_that_no_reading_could_have_written_are_a_damaged_file() {
    // Each damage below once read as use (a flipped byte gave times out of the window and
    // counts in the quintillions, and `analyze` then called a used identity unused).
    type Damage = fn(&mut UsageRecord);
    let damages: [(&str, Damage); 5] = [
        ("first seen after last seen", |record| {
            record.first_seen = at(3_000);
            record.last_seen = at(20);
        }),
        ("seen outside the first and last event", |record| {
            record.last_seen = at(90_000);
        }),
        ("more than the 90 event(s) in the window", |record| {
            record.count = 6_510_615_555_426_900_551;
        }),
        ("more calls unlinked", |record| record.unlinked_calls = 10),
        ("counts no call", |record| {
            record.count = 0;
            record.inferred = 0;
        }),
    ];
    for (says, damage) in damages {
        let store = tempfile::tempdir().expect("tempdir");
        let dir = write(store.path(), &sample());
        let (key, mut record) = row(
            "arn:aws:iam::111111111111:role/ci",
            "s3:GetObject",
            "*",
            &[],
        );
        damage(&mut record);
        let mut frame = frame_of(&[(&key, &record)]).expect("frame");
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .finish(&mut frame)
            .expect("write");
        // The denied file holds one row, as the summary says.
        fs::write(dir.join(DENIED_PATH), bytes).expect("replace");
        let error = expect_error(&dir);
        assert!(error.contains(says), "{says}: {error}");
        assert!(error.contains("aws-denied.parquet"), "{error}");
        assert!(
            error.contains("row 1 (arn:aws:iam::111111111111:role/ci"),
            "{error}"
        );
    }
}

#[test]
fn a_summary_window_no_reading_could_have_had_is_a_damaged_file() {
    // Before: an inverted window read as "no window, no event", and a narrowed one made the
    // analysis drop rows outside it without a word.
    for (since, until, says) in [
        (at(4_000), at(100), "is not before `window.until`"),
        (at(2), at(3_000), "do not lie in order within `window`"),
    ] {
        let store = tempfile::tempdir().expect("tempdir");
        let dir = write(store.path(), &sample());
        let path = dir.join(SUMMARY_PATH);
        let mut summary: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        summary["window"] = serde_json::json!({
            "since": rfc3339(since),
            "until": rfc3339(until),
        });
        fs::write(&path, serde_json::to_vec(&summary).expect("json")).expect("write");
        let error = expect_error(&dir);
        assert!(error.contains(says), "{error}");
        assert!(error.contains("aws-usage.json"), "{error}");
    }
}
