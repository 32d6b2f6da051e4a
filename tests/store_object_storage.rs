//! A snapshot store in object storage (`--store s3://bucket/prefix`, `[store] path`), against
//! moto's S3: `collect` publishes, `snapshots list` and `audit --config` read through a
//! cache, `snapshots prune` deletes, and an unreachable store is a clear usage error.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::moto::MotoServer;

const BUCKET: &str = "pipeleash-store";
const ACCOUNT: &str = "123456789012";
const GITHUB: &str = "token.actions.githubusercontent.com";

/// An S3 client of moto (path-style addressing, as moto serves buckets).
async fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = support::sdk_config(endpoint).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// One CI role trusting GitHub's OIDC provider, with an inline policy: something to audit.
async fn seed_iam(endpoint: &str) {
    let config = support::sdk_config(endpoint).await;
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_open_id_connect_provider()
        .url(format!("https://{GITHUB}"))
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .send()
        .await
        .expect("oidc provider");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringLike": { format!("{GITHUB}:sub"): "repo:org/app:*" } },
        }]
    });
    iam.create_role()
        .role_name("deployer")
        .path("/ci/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("role");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }]
    });
    iam.put_role_policy()
        .role_name("deployer")
        .policy_name("deploy")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("inline policy");
}

/// The keys under `prefix/` in the bucket, sorted.
async fn keys(endpoint: &str, prefix: &str) -> Vec<String> {
    let client = s3(endpoint).await;
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(format!("{prefix}/"))
            .set_continuation_token(token)
            .send()
            .await
            .expect("list objects");
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    keys.sort();
    keys
}

/// Runs the binary in `dir` with moto's endpoint and credentials for both the AWS SDK
/// (`collect`) and the object store, and `cache` as the store cache root.
fn pipeleash(endpoint: &str, dir: &Path, cache: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipeleash"));
    command
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PIPELEASH_STORE_CACHE", cache)
        .env("AWS_ALLOW_HTTP", "true");
    for (key, value) in support::binary_env(endpoint) {
        command.env(key, value);
    }
    command.output().expect("run pipeleash")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The snapshot names `snapshots list --format json` prints.
fn listed(output: &Output) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    value["snapshots"]
        .as_array()
        .expect("snapshots")
        .iter()
        .map(|row| row["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The cache directories under a cache root (one per store).
fn cache_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(root)
        .map(|entries| entries.map(|entry| entry.expect("entry").path()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_list_audit_and_prune_work_on_an_s3_store_through_the_cache() {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.clone();
    s3(&endpoint)
        .await
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    seed_iam(&endpoint).await;
    let work = tempfile::tempdir().expect("tempdir");
    let url = format!("s3://{BUCKET}/audits/nightly");
    let prefix = "audits/nightly";

    // Two nightly runs, each on a machine of its own (its own cache).
    let mut names = Vec::new();
    for run in 0..2 {
        if run > 0 {
            // Snapshot names have a resolution of one second.
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        let cache = work.path().join(format!("cache-collect-{run}"));
        let output = pipeleash(
            &endpoint,
            work.path(),
            &cache,
            &["collect", "aws", "--store", &url, "--format", "json"],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("snapshot written to `{url}/")),
            "{stderr}"
        );
        // The published copy stays in the cache, out of the outbox.
        let caches = cache_dirs(&cache);
        assert_eq!(caches.len(), 1, "one cache directory per store");
        let outbox: Vec<_> = std::fs::read_dir(caches[0].join(".outbox"))
            .map(|entries| entries.collect())
            .unwrap_or_default();
        assert!(outbox.is_empty(), "nothing left to publish");
        let marker = std::fs::read_to_string(caches[0].join(".pipeleash-store")).expect("marker");
        assert_eq!(marker.trim_end(), url);
    }
    let objects = keys(&endpoint, prefix).await;
    for object in &objects {
        let name = object
            .strip_prefix(&format!("{prefix}/"))
            .and_then(|rest| rest.split('/').next())
            .expect("snapshot name");
        if !names.contains(&name.to_owned()) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    assert_eq!(names.len(), 2, "{objects:?}");
    for name in &names {
        assert!(objects.contains(&format!("{prefix}/{name}/manifest.json")));
        assert!(objects.contains(&format!("{prefix}/{name}/inventory/aws-{ACCOUNT}.json")));
    }

    // A half-written snapshot (files, no manifest) is not a snapshot.
    s3(&endpoint)
        .await
        .put_object()
        .bucket(BUCKET)
        .key(format!(
            "{prefix}/20261101T000000Z/inventory/aws-{ACCOUNT}.json"
        ))
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await
        .expect("put half-written");

    // Another machine lists the store: manifests only reach its cache.
    let list_cache = work.path().join("cache-list");
    let output = pipeleash(
        &endpoint,
        work.path(),
        &list_cache,
        &["snapshots", "list", "--store", &url, "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(listed(&output), names);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["store"], url.as_str());
    let cache = &cache_dirs(&list_cache)[0];
    for name in &names {
        assert!(cache.join(name).join("manifest.json").is_file());
        assert!(
            !cache.join(name).join("inventory").exists(),
            "`list` downloaded more than the manifest of {name}"
        );
    }
    assert!(!cache.join("20261101T000000Z").exists());
    let output = pipeleash(
        &endpoint,
        work.path(),
        &list_cache,
        &["snapshots", "show", &names[0], "--store", &url],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("aws-{ACCOUNT}.json")));

    // The scheduled audit reads the store named in its configuration: the latest snapshot,
    // and the drift since the one before (the account did not change: no identity).
    std::fs::write(
        work.path().join("pipeleash.toml"),
        format!(
            "[store]\npath = \"{url}\"\ncache = \"config-cache\"\n[report]\nformat = \"json\"\n"
        ),
    )
    .expect("config");
    let audit_cache = work.path().join("cache-audit");
    let output = pipeleash(
        &endpoint,
        work.path(),
        &audit_cache,
        &["audit", "--config", "pipeleash.toml"],
    );
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "{}",
        text(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report");
    assert_eq!(
        report["drift"]["identities"],
        serde_json::json!([]),
        "{report:#}"
    );
    let identities = report["identities"].as_array().expect("identities");
    assert!(
        identities
            .iter()
            .any(|identity| identity["identity"]
                == format!("arn:aws:iam::{ACCOUNT}:role/ci/deployer")),
        "{report:#}"
    );
    // `PIPELEASH_STORE_CACHE` wins over `[store] cache`; both snapshots were downloaded whole.
    assert!(!work.path().join("config-cache").exists());
    let cache = &cache_dirs(&audit_cache)[0];
    for name in &names {
        assert!(
            cache
                .join(name)
                .join(format!("inventory/aws-{ACCOUNT}.json"))
                .is_file()
        );
    }

    // Pruning keeps the newest: the older snapshot's objects are gone, manifest and all.
    let output = pipeleash(
        &endpoint,
        work.path(),
        &list_cache,
        &["snapshots", "prune", "--store", &url, "--keep", "1"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!("deleted `{url}/{}`", names[0])),
        "{}",
        text(&output)
    );
    let left = keys(&endpoint, prefix).await;
    assert!(
        !left
            .iter()
            .any(|key| key.starts_with(&format!("{prefix}/{}/", names[0]))),
        "{left:?}"
    );
    assert!(left.contains(&format!("{prefix}/{}/manifest.json", names[1])));
    assert!(!cache_dirs(&list_cache)[0].join(&names[0]).exists());
    // Another cache drops the pruned snapshot at its next listing.
    let output = pipeleash(
        &endpoint,
        work.path(),
        &audit_cache,
        &["snapshots", "list", "--store", &url, "--format", "json"],
    );
    assert_eq!(listed(&output), vec![names[1].clone()]);
    assert!(!cache_dirs(&audit_cache)[0].join(&names[0]).exists());

    // Drift needs two snapshots: one is left.
    let output = pipeleash(
        &endpoint,
        work.path(),
        &list_cache,
        &["drift", "--store", &url],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("holds no snapshot before"),
        "{}",
        text(&output)
    );
}

#[test]
fn an_unreachable_store_is_a_usage_error_naming_it_without_a_panic() {
    let work = tempfile::tempdir().expect("tempdir");
    // Nothing listens there.
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let url = "s3://pipeleash-store/nightly";
    let cache = work.path().join("cache");
    std::fs::write(
        work.path().join("pipeleash.toml"),
        format!("[store]\npath = \"{url}\"\n"),
    )
    .expect("config");
    for args in [
        vec!["snapshots", "list", "--store", url],
        vec!["audit", "--config", "pipeleash.toml"],
        vec!["drift", "--store", url],
        vec!["collect", "aws", "--store", url],
    ] {
        let output = pipeleash(&endpoint, work.path(), &cache, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(stderr.contains(&format!("`{url}`")), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_store_url_of_an_unknown_kind_is_refused_naming_it() {
    let work = tempfile::tempdir().expect("tempdir");
    let cache = work.path().join("cache");
    let output = pipeleash(
        "http://127.0.0.1:9",
        work.path(),
        &cache,
        &["snapshots", "list", "--store", "ftp://host/snapshots"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`ftp://host/snapshots`"), "{stderr}");
    assert!(stderr.contains("s3://bucket/prefix"), "{stderr}");
}

/// Copies the files of the demo snapshot (manifest and inventories) into `to`.
fn copy_demo_snapshot(to: &Path) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/snapshot");
    std::fs::create_dir_all(to.join("inventory")).expect("create");
    for file in [
        "manifest.json",
        "inventory/aws-210987654321.json",
        "inventory/aws-345678901234.json",
    ] {
        std::fs::copy(demo.join(file), to.join(file)).expect("copy");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_is_published_later_and_usage_added_to_a_cached_snapshot_reaches_the_store()
 {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.clone();
    let client = s3(&endpoint).await;
    client
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    let work = tempfile::tempdir().expect("tempdir");
    let url = format!("s3://{BUCKET}/later");
    let name = "20261122T040851Z";
    let cache_root = work.path().join("cache");
    let cache = pipeleash::snapshot::location::cache_dir(&cache_root, &url);

    // What a `collect` whose upload failed half-way leaves: the committed snapshot in the
    // cache's outbox, and some of its files (no manifest) in the store.
    copy_demo_snapshot(&cache.join(".outbox").join(name));
    client
        .put_object()
        .bucket(BUCKET)
        .key(format!("later/{name}/inventory/aws-210987654321.json"))
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await
        .expect("partial upload");
    let list = |cache_root: &Path| {
        pipeleash(
            &endpoint,
            work.path(),
            cache_root,
            &["snapshots", "list", "--store", &url, "--format", "json"],
        )
    };
    let output = list(&cache_root);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(listed(&output).is_empty(), "{}", text(&output));

    let output = pipeleash(
        &endpoint,
        work.path(),
        &cache_root,
        &["snapshots", "publish", "--store", &url],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!("published `{url}/{name}`")),
        "{}",
        text(&output)
    );
    assert_eq!(listed(&list(&cache_root)), vec![name.to_owned()]);
    assert!(!cache.join(".outbox").join(name).exists());
    let objects = keys(&endpoint, "later").await;
    assert!(
        objects.contains(&format!("later/{name}/manifest.json")),
        "{objects:?}"
    );
    assert!(objects.contains(&format!("later/{name}/inventory/aws-345678901234.json")));

    // Publishing a name the store already holds is refused, and the local copy is kept.
    copy_demo_snapshot(&cache.join(".outbox").join(name));
    let output = pipeleash(
        &endpoint,
        work.path(),
        &cache_root,
        &["snapshots", "publish", "--store", &url],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{}", text(&output));
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(stderr.contains(".outbox"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        cache
            .join(".outbox")
            .join(name)
            .join("manifest.json")
            .is_file()
    );
    std::fs::remove_dir_all(cache.join(".outbox").join(name)).expect("remove");

    // Usage added to the cached snapshot is published: its files, then the manifest.
    let logs =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo/cloudtrail/AWSLogs");
    let snapshot = cache.join(name);
    let output = pipeleash(
        &endpoint,
        work.path(),
        &cache_root,
        &[
            "usage",
            "--cloudtrail",
            logs.to_str().expect("utf-8"),
            "--snapshot",
            snapshot.to_str().expect("utf-8"),
            "--quiet",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let objects = keys(&endpoint, "later").await;
    assert!(
        objects
            .iter()
            .any(|key| key.starts_with(&format!("later/{name}/usage/"))),
        "{objects:?}"
    );
    // Another machine sees the usage.
    let output = list(&work.path().join("other-cache"));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["snapshots"][0]["usage"], true, "{value:#}");
}
