//! Unit tests of the snapshot writer and store.

use super::*;
use chrono::TimeZone;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0)
        .single()
        .expect("valid time")
}

#[test]
fn snapshot_names_sort_by_time() {
    let fixed = Utc
        .with_ymd_and_hms(2026, 11, 22, 3, 15, 0)
        .single()
        .expect("valid time");
    assert_eq!(snapshot_name(fixed), "20261122T031500Z");
    assert!(is_snapshot_name(&snapshot_name(at(0))));
    assert!(snapshot_name(at(0)) < snapshot_name(at(1)));
    assert!(!is_snapshot_name(".tmp-20260922T140000Z-12"));
    assert!(!is_snapshot_name("notes"));
}

#[test]
fn committed_snapshot_reads_back_and_leaves_no_temporary_directory() {
    let store_dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(store_dir.path());
    let mut writer = store.writer(at(0)).expect("writer");
    writer
        .write_json(
            Path::new("inventory/aws-111111111111.json"),
            &serde_json::json!({"a": 1}),
        )
        .expect("write");
    writer
        .manifest_mut()
        .coverage
        .push("no usage yet".to_owned());
    let snapshot = writer.commit().expect("commit");

    let names: Vec<String> = fs::read_dir(store_dir.path())
        .expect("read store")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, vec![snapshot_name(at(0))]);

    let reopened = Snapshot::open(snapshot.dir()).expect("open");
    assert_eq!(reopened.manifest(), snapshot.manifest());
    assert_eq!(
        reopened.manifest().coverage,
        vec!["no usage yet".to_owned()]
    );
    let value: serde_json::Value = reopened
        .read_json(Path::new("inventory/aws-111111111111.json"))
        .expect("read");
    assert_eq!(value["a"], 1);
}

#[test]
fn uncommitted_writer_is_invisible_and_cleaned_up() {
    let store_dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(store_dir.path());
    let first = store.writer(at(0)).expect("writer");
    first.commit().expect("commit");

    let mut pending = store.writer(at(10)).expect("writer");
    pending
        .write_file(Path::new("inventory/x.json"), b"{}")
        .expect("write");
    // While it is being written, readers see only the committed snapshot.
    assert_eq!(store.list().expect("list").len(), 1);
    let latest = store.latest().expect("latest").expect("some snapshot");
    assert_eq!(latest.dir(), store_dir.path().join(snapshot_name(at(0))));
    drop(pending);
    assert_eq!(fs::read_dir(store_dir.path()).expect("read").count(), 1);
}

#[test]
fn latest_is_the_newest_and_ignores_foreign_entries() {
    let store_dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(store_dir.path());
    assert!(store.latest().expect("empty store").is_none());
    store
        .writer(at(100))
        .expect("writer")
        .commit()
        .expect("commit");
    store
        .writer(at(5))
        .expect("writer")
        .commit()
        .expect("commit");
    fs::create_dir(store_dir.path().join(".tmp-20990101T000000Z-1")).expect("mkdir");
    fs::create_dir(store_dir.path().join("20990101T000000Z")).expect("mkdir without manifest");
    fs::write(store_dir.path().join("README"), "x").expect("write");
    let listed = store.list().expect("list");
    assert_eq!(listed.len(), 2);
    let latest = store.latest().expect("latest").expect("some");
    assert_eq!(latest.dir(), store_dir.path().join(snapshot_name(at(100))));
}

#[test]
fn errors_name_the_path_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = Snapshot::open(dir.path()).expect_err("no manifest");
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("pipeleash collect"), "{message}");

    let store = Store::new(dir.path());
    store
        .writer(at(0))
        .expect("writer")
        .commit()
        .expect("commit");
    let error = store.writer(at(0)).expect_err("same second");
    assert!(matches!(error, SnapshotError::AlreadyExists { .. }));

    let tmp = dir.path().join(".tmp-x-1");
    fs::create_dir(&tmp).expect("mkdir");
    assert!(matches!(
        Snapshot::open(&tmp),
        Err(SnapshotError::Unfinished { .. })
    ));
}

#[test]
fn newer_manifest_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut manifest = Manifest::new(at(0));
    manifest.format_version = MANIFEST_FORMAT_VERSION + 1;
    fs::write(
        dir.path().join(MANIFEST_FILE),
        serde_json::to_vec(&manifest).expect("json"),
    )
    .expect("write");
    assert!(matches!(
        Snapshot::open(dir.path()),
        Err(SnapshotError::UnsupportedVersion { .. })
    ));
}

#[test]
fn paths_escaping_the_snapshot_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut writer = SnapshotWriter::create(&dir.path().join("s"), at(0)).expect("writer");
    for bad in ["../x.json", "/etc/x.json", ""] {
        assert!(matches!(
            writer.write_file(Path::new(bad), b"{}"),
            Err(SnapshotError::BadRelativePath { .. })
        ));
    }
}

fn committed_with_inventory(store: &Path) -> Snapshot {
    let mut writer = Store::new(store).writer(at(0)).expect("writer");
    writer
        .write_json(
            Path::new("inventory/aws-1.json"),
            &serde_json::json!({"a": 1}),
        )
        .expect("write");
    writer.commit().expect("commit")
}

#[test]
fn amending_adds_new_entries_and_publishes_them_with_the_manifest() {
    let store = tempfile::tempdir().expect("tempdir");
    let snapshot = committed_with_inventory(store.path());
    let mut writer = SnapshotWriter::amend(&snapshot).expect("amend");
    writer
        .write_json(Path::new("usage/x.json"), &serde_json::json!({"b": 2}))
        .expect("write");
    writer
        .manifest_mut()
        .coverage
        .push("usage added".to_owned());
    // Until the commit, readers see the snapshot as it was.
    assert!(!snapshot.dir().join("usage").exists());
    assert_eq!(
        Snapshot::open(snapshot.dir()).expect("open").manifest(),
        snapshot.manifest()
    );
    writer.commit().expect("commit");
    let reopened = Snapshot::open(snapshot.dir()).expect("open");
    assert_eq!(reopened.manifest().coverage, vec!["usage added".to_owned()]);
    assert_eq!(
        reopened.manifest().created_at,
        snapshot.manifest().created_at
    );
    let value: serde_json::Value = reopened.read_json(Path::new("usage/x.json")).expect("read");
    assert_eq!(value["b"], 2);
    let inventory: serde_json::Value = reopened
        .read_json(Path::new("inventory/aws-1.json"))
        .expect("inventory kept");
    assert_eq!(inventory["a"], 1);
}

#[test]
fn amending_never_replaces_what_is_there() {
    let store = tempfile::tempdir().expect("tempdir");
    let snapshot = committed_with_inventory(store.path());
    // A leftover of a run that stopped between moving `usage/` and replacing the manifest.
    fs::create_dir(snapshot.dir().join("usage")).expect("leftover");
    let mut writer = SnapshotWriter::amend(&snapshot).expect("amend");
    writer
        .write_json(Path::new("usage/x.json"), &serde_json::json!({}))
        .expect("write");
    writer
        .manifest_mut()
        .coverage
        .push("usage added".to_owned());
    let error = writer.commit().expect_err("conflict");
    assert!(matches!(error, SnapshotError::Conflict { .. }), "{error}");
    assert!(
        error.to_string().contains("usage` already exists"),
        "{error}"
    );
    let reopened = Snapshot::open(snapshot.dir()).expect("open");
    assert_eq!(reopened.manifest(), snapshot.manifest());
    let hidden = fs::read_dir(snapshot.dir())
        .expect("list")
        .filter(|entry| {
            entry
                .as_ref()
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(
        hidden, 0,
        "the dropped writer removes its temporary directory"
    );
}

#[test]
fn amending_notices_a_manifest_changed_meanwhile() {
    let store = tempfile::tempdir().expect("tempdir");
    let snapshot = committed_with_inventory(store.path());
    let mut first = SnapshotWriter::amend(&snapshot).expect("amend");
    first
        .write_json(Path::new("usage/x.json"), &serde_json::json!({}))
        .expect("write");
    let mut other = snapshot.manifest().clone();
    other.coverage.push("someone else".to_owned());
    fs::write(
        snapshot.dir().join(MANIFEST_FILE),
        serde_json::to_vec(&other).expect("json"),
    )
    .expect("write manifest");
    let error = first.commit().expect_err("changed");
    assert!(
        matches!(error, SnapshotError::ChangedMeanwhile { .. }),
        "{error}"
    );
    assert!(!snapshot.dir().join("usage").exists());
}
