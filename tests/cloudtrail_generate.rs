//! The synthetic CloudTrail generator: determinism, realistic layout, and a recall test of
//! ingestion against the generator's independent ground truth.

use pipeleash::aws::cloudtrail::{IngestOptions, ingest_directory};
use pipeleash::generate::cloudtrail::{GenerateOptions, GroundTruth, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn options(events: u64, seed: u64) -> GenerateOptions {
    GenerateOptions {
        events,
        seed,
        days: 5,
        events_per_file: 800,
        ..GenerateOptions::default()
    }
}

fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                found.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn same_seed_gives_byte_identical_sets() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), &options(3_000, 7)).unwrap();
    generate(b.path(), &options(3_000, 7)).unwrap();
    assert_eq!(files(a.path()), files(b.path()));
    let c = tempfile::tempdir().unwrap();
    generate(c.path(), &options(3_000, 8)).unwrap();
    assert_ne!(files(a.path()), files(c.path()));
}

#[test]
fn generated_set_has_the_asked_size_in_the_s3_layout() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(5_000, 3)).unwrap();
    assert_eq!(truth.files, 7);
    let usage = ingest_directory(&out.path().join("AWSLogs"), &IngestOptions::default()).unwrap();
    assert_eq!(usage.coverage.events_read, 5_000);
    assert_eq!(usage.coverage.sources_read, 7);
    assert!(usage.coverage.sources_skipped.is_empty());
    for (name, _) in files(out.path()) {
        if name.ends_with(".json.gz") {
            let parts: Vec<&str> = name.split('/').collect();
            assert_eq!((parts[0], parts[2]), ("AWSLogs", "CloudTrail"), "{name}");
            assert_eq!(parts.len(), 8, "{name}");
        }
    }
}

#[test]
fn ingestion_recalls_exactly_the_ground_truth() {
    let out = tempfile::tempdir().unwrap();
    let truth = generate(out.path(), &options(20_000, 42)).unwrap();
    let written: GroundTruth =
        serde_json::from_slice(&std::fs::read(out.path().join("ground-truth.json")).unwrap())
            .unwrap();
    assert_eq!(written, truth);

    let usage = ingest_directory(&out.path().join("AWSLogs"), &IngestOptions::default()).unwrap();
    let mut allowed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, _) in usage.allowed.iter() {
        allowed
            .entry(key.identity.native().to_owned())
            .or_default()
            .insert(key.permission.action.clone());
    }
    let mut denied: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, _) in usage.denied.iter() {
        denied
            .entry(key.identity.native().to_owned())
            .or_default()
            .insert(key.permission.action.clone());
    }
    assert_eq!(
        allowed, truth.allowed,
        "allowed actions differ from the ground truth"
    );
    assert_eq!(
        denied, truth.denied,
        "denied actions differ from the ground truth"
    );
    assert!(
        usage.unknown_events.is_empty(),
        "{:?}",
        usage.unknown_events
    );

    // Every call of a role session is linked to the GitHub subject that started it.
    let mut subjects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (key, row) in usage
        .allowed
        .iter()
        .filter(|(key, _)| key.identity.native().contains(":role/"))
    {
        assert_eq!(row.unlinked_calls, 0, "{row:?}");
        for workload in &row.workloads {
            assert_eq!(
                workload.issuer_url,
                "https://token.actions.githubusercontent.com"
            );
            subjects
                .entry(key.identity.native().to_owned())
                .or_default()
                .insert(workload.subject.clone());
        }
    }
    assert_eq!(subjects, truth.subjects);
    assert!(
        usage.set_aside.values().sum::<u64>() > 0,
        "service noise is set aside"
    );
}
