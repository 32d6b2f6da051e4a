//! `analyze`/`audit` over GCP and Azure snapshots: the bad inputs a nightly job can meet are
//! input errors (exit 2) that name the input, never a report that quietly lost its evidence.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/files.rs"]
mod files;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures")
}

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .expect("runs")
}

fn path(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const WINDOW: [&str; 4] = ["--since", "2026-11-14", "--until", "2026-11-20"];

#[test]
fn logs_holding_nothing_usable_are_an_input_error_for_gcp_and_azure() {
    let temp = tempfile::tempdir().unwrap();
    let garbage = temp.path().join("entries.json");
    std::fs::write(&garbage, "this is not a log").unwrap();
    let gcp = fixtures().join("gcp-demo/snapshot");
    let output = pipeleash(
        &[
            &[
                "audit",
                "--snapshot",
                path(&gcp),
                "--gcp-audit-logs",
                path(&garbage),
            ][..],
            &WINDOW[..],
        ]
        .concat(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("entries.json"),
        "{}",
        stderr(&output)
    );
    // GCP logs given as the Azure Activity Log: not one record is of the Activity Log, and the
    // error says so (not "nothing in the window") and names the option for each kind.
    let azure = fixtures().join("azure-demo/snapshot");
    let output = pipeleash(
        &[
            &[
                "audit",
                "--snapshot",
                path(&azure),
                "--azure-activity-logs",
                path(&fixtures().join("gcp-demo/audit-logs")),
            ][..],
            &WINDOW[..],
        ]
        .concat(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is an Azure Activity Log record")
            && stderr(&output).contains("`--gcp-audit-logs`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_same_organization_or_tenant_given_twice_is_an_input_error_naming_both() {
    let temp = tempfile::tempdir().unwrap();
    for demo in ["gcp-demo", "azure-demo"] {
        let copy = temp.path().join(demo);
        files::copy_dir(&fixtures().join(demo).join("snapshot"), &copy);
        let output = pipeleash(&[
            "analyze",
            "--snapshot",
            path(&fixtures().join(demo).join("snapshot")),
            "--snapshot",
            path(&copy),
        ]);
        assert_eq!(output.status.code(), Some(2), "{demo}: {}", stderr(&output));
        assert!(stderr(&output).contains("both hold"), "{}", stderr(&output));
    }
}

#[test]
fn a_role_nobody_knows_leaves_the_accounts_use_unknown_instead_of_granting_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let copy = temp.path().join("snapshot");
    files::copy_dir(&fixtures().join("gcp-demo/snapshot"), &copy);
    let inventory = std::fs::read_dir(copy.join("inventory"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&inventory).unwrap();
    assert!(text.contains("roles/run.developer"));
    std::fs::write(
        &inventory,
        text.replace("roles/run.developer", "roles/run.developr"),
    )
    .unwrap();
    let output = pipeleash(
        &[
            &[
                "audit",
                "--snapshot",
                path(&copy),
                "--gcp-audit-logs",
                path(&fixtures().join("gcp-demo/audit-logs")),
                "--format",
                "json",
            ][..],
            &WINDOW[..],
        ]
        .concat(),
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let holders: Vec<&serde_json::Value> = report["clouds"][0]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|identity| {
            identity["minimize_error"]
                .as_str()
                .is_some_and(|error| error.contains("roles/run.developr"))
        })
        .collect();
    assert!(!holders.is_empty(), "{report:#}");
    for identity in holders {
        assert!(identity["counts"].is_null(), "{identity:#}");
    }
}

/// A misspelt permission answers with every wildcard grant, which reads like a finding: the
/// answer says the permission is unknown (AWS and GCP catalogs).
#[test]
fn who_can_notes_a_permission_no_catalog_knows() {
    let aws = fixtures().join("demo/snapshot");
    let gcp = fixtures().join("gcp-demo/snapshot");
    for (permission, snapshot, unknown) in [
        ("iam:PutRolePolicyy", &aws, true),
        ("iam:PutRolePolicy", &aws, false),
        ("resourcemanager.projects.setIamPolicyy", &gcp, true),
        ("resourcemanager.projects.setIamPolicy", &gcp, false),
    ] {
        let output = pipeleash(&["graph", "who-can", permission, "--snapshot", path(snapshot)]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            stderr(&output).contains("note:"),
            unknown,
            "{permission}: {}",
            stderr(&output)
        );
    }
}

/// A saved query's `reaches = action:…` names a permission of any cloud, and each identity's
/// own cloud decides it: the GCP demo's `terraform` service account holds
/// `resourcemanager.projects.setIamPolicy`, and an Azure one may write role assignments.
#[test]
fn saved_queries_reach_gcp_and_azure_permissions() {
    let dir = tempfile::tempdir().unwrap();
    for (cloud, permission, expected) in [
        (
            "gcp-demo",
            "resourcemanager.projects.setIamPolicy",
            "gcp:terraform@acme-web.iam.gserviceaccount.com",
        ),
        (
            "azure-demo",
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/write",
        ),
    ] {
        let query = dir.path().join(format!("{cloud}.query"));
        std::fs::write(
            &query,
            format!("# Who reaches it.\nfind = identities\nreaches = action:{permission}\n"),
        )
        .unwrap();
        let output = pipeleash(&[
            "graph",
            "run",
            path(&query),
            "--snapshot",
            path(&fixtures().join(cloud).join("snapshot")),
            "--format",
            "json",
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{cloud}: {}",
            stderr(&output)
        );
        assert!(stdout.contains(expected), "{cloud}: {stdout}");
    }
    // One cloud's permission is never reached through another cloud's administrator access:
    // over both demos, a GCP permission matches no Azure node, an Azure one no GCP node, and
    // the shipped AWS query matches nothing.
    let gcp = fixtures().join("gcp-demo/snapshot");
    let azure = fixtures().join("azure-demo/snapshot");
    let both = [
        "--snapshot",
        path(&gcp),
        "--snapshot",
        path(&azure),
        "--format",
        "json",
    ];
    for (cloud, other) in [("gcp-demo", "azure:"), ("azure-demo", "gcp:")] {
        let query = dir.path().join(format!("{cloud}.query"));
        let output = pipeleash(&[&["graph", "run", path(&query)][..], &both[..]].concat());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(!stdout.contains(other), "{cloud}: {stdout}");
    }
    let aws_query =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries/iam-policy-editors.query");
    let output = pipeleash(&[&["graph", "run", path(&aws_query)][..], &both[..]].concat());
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn who_can_an_empty_permission_is_an_input_error() {
    for permission in ["", "  ", "s3 GetObject"] {
        let output = pipeleash(&[
            "graph",
            "who-can",
            permission,
            "--snapshot",
            path(&fixtures().join("gcp-demo/snapshot")),
        ]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{permission:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("is not a permission"),
            "{}",
            stderr(&output)
        );
    }
}

/// The GCP demo's `reporting` account calls with its user-managed key (the entries carry
/// `serviceAccountKeyName`): the key finding says when it was last used, never "unused".
#[test]
fn the_gcp_demo_key_is_seen_used_in_its_logs() {
    let output = pipeleash(
        &[
            &[
                "analyze",
                "--snapshot",
                path(&fixtures().join("gcp-demo/snapshot")),
                "--gcp-audit-logs",
                path(&fixtures().join("gcp-demo/audit-logs")),
                "--format",
                "json",
            ][..],
            &WINDOW[..],
        ]
        .concat(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "user-managed key `9f8e7d6c5b4a39281706f5e4d3c2b1a098765432` is enabled and never \
             expires, last used 2026-11-20T16:39:02Z"
        ),
        "{stdout}"
    );
}

/// `az://CONTAINER` names no storage account: the error says which variable to set.
#[test]
fn an_azure_container_url_without_an_account_says_what_to_set() {
    let output = Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args([
            "usage",
            "--azure-activity-logs",
            "az://insights-activity-logs",
        ])
        .env_remove("AZURE_STORAGE_ACCOUNT_NAME")
        .env_remove("AZURE_STORAGE_ACCOUNT")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("set `AZURE_STORAGE_ACCOUNT_NAME`"),
        "{}",
        stderr(&output)
    );
}

/// `usage` given log files of which not one can be read is an input error, as `analyze` is,
/// never an empty report with exit 0.
#[test]
fn usage_of_logs_none_of_which_can_be_read_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ this is not json").unwrap();
    for flag in ["--gcp-audit-logs", "--azure-activity-logs"] {
        let output = pipeleash(&["usage", flag, path(&bad)]);
        assert_eq!(output.status.code(), Some(2), "{flag}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("could be read"),
            "{}",
            stderr(&output)
        );
    }
}

/// An AWS, GCP or Azure inventory without one of the sections its collector always writes is
/// a damaged file naming the section (before: the section read as empty, so its identities,
/// roles or assignments and their findings vanished from a clean-looking report).
#[test]
fn an_inventory_missing_a_section_is_damaged_not_empty() {
    for (demo, sections) in [
        (
            "demo",
            &[
                "roles",
                "users",
                "groups",
                "policies",
                "oidc_providers",
                "errors",
            ][..],
        ),
        (
            "gcp-demo",
            &[
                "organizations",
                "folders",
                "projects",
                "service_accounts",
                "custom_roles",
                "workload_identity_pools",
                "errors",
            ][..],
        ),
        (
            "azure-demo",
            &[
                "management_groups",
                "subscriptions",
                "role_assignments",
                "role_definitions",
                "deny_assignments",
                "user_assigned_identities",
                "service_principals",
                "applications",
                "errors",
            ][..],
        ),
    ] {
        for section in sections {
            let temp = tempfile::tempdir().unwrap();
            let snapshot = temp.path().join("snapshot");
            files::copy_dir(&fixtures().join(demo).join("snapshot"), &snapshot);
            let inventory = std::fs::read_dir(snapshot.join("inventory"))
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .find(|path| path.extension().is_some_and(|ext| ext == "json"))
                .unwrap();
            let mut value: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&inventory).unwrap()).unwrap();
            value.as_object_mut().unwrap().remove(*section);
            std::fs::write(&inventory, value.to_string()).unwrap();
            let output = pipeleash(&["analyze", "--snapshot", path(&snapshot), "--quiet"]);
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{demo} {section}: {message}");
            assert!(
                message.contains(&format!("has no `{section}`")),
                "{message}"
            );
            assert!(output.stdout.is_empty(), "{demo} {section}");
        }
    }
}

/// An Azure custom role whose definition is not in the inventory: its holder's use is
/// unknown (no counts, the reason instead of a proposal, a coverage sentence), and its
/// escalation stays reported as possible (before: "granted 0" and no finding at all).
#[test]
fn an_azure_role_nobody_defines_leaves_its_holder_unknown_not_granted_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let copy = temp.path().join("snapshot");
    files::copy_dir(&fixtures().join("azure-demo/snapshot"), &copy);
    let inventory = std::fs::read_dir(copy.join("inventory"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "json"))
        .unwrap();
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&inventory).unwrap()).unwrap();
    assert!(!value["role_definitions"].as_array().unwrap().is_empty());
    value["role_definitions"] = serde_json::json!([]);
    std::fs::write(&inventory, value.to_string()).unwrap();
    let output = pipeleash(
        &[
            &[
                "audit",
                "--snapshot",
                path(&copy),
                "--azure-activity-logs",
                path(&fixtures().join("azure-demo/activity-log")),
                "--format",
                "json",
            ][..],
            &WINDOW[..],
        ]
        .concat(),
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let cloud = &report["clouds"][0];
    let holders: Vec<&serde_json::Value> = cloud["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|identity| {
            identity["minimize_error"]
                .as_str()
                .is_some_and(|error| error.contains("neither a collected custom role"))
        })
        .collect();
    assert!(!holders.is_empty(), "{report:#}");
    for identity in &holders {
        assert!(identity["counts"].is_null(), "{identity:#}");
        let findings = identity["findings"].as_array().unwrap();
        assert!(
            findings
                .iter()
                .any(|finding| finding["id"] == "azure-ci-escalation"
                    && finding["confidence"] == "low"),
            "{identity:#}"
        );
    }
    assert!(
        cloud["coverage"].as_array().unwrap().iter().any(|line| line
            .as_str()
            .unwrap()
            .contains("neither collected custom roles")),
        "{cloud:#}"
    );
    // The graph keeps its path to role assignment writes, as possible (before: no path).
    let output = pipeleash(&[
        "graph",
        "who-can",
        "Microsoft.Authorization/roleAssignments/write",
        "--snapshot",
        path(&copy),
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("(id-rbac-bootstrap)") && table.contains("possible"),
        "{table}"
    );
}

/// An AWS inventory whose `account_id` is not the account the manifest lists it for is a
/// damaged file (before: its roles were filed under the edited account, judged against that
/// account's missing logs, and lost their findings).
#[test]
fn an_aws_inventory_of_another_account_than_listed_is_damaged() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snapshot");
    files::copy_dir(&fixtures().join("demo/snapshot"), &snapshot);
    let inventory = snapshot.join("inventory/aws-210987654321.json");
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&inventory).unwrap()).unwrap();
    value["account_id"] = serde_json::json!("999999999999");
    std::fs::write(&inventory, value.to_string()).unwrap();
    let output = pipeleash(&["analyze", "--snapshot", path(&snapshot), "--quiet"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("says account `999999999999`")
            && message.contains("for account `210987654321`"),
        "{message}"
    );
}

/// A role whose trust policy cannot be read is marked incomplete (before: its trust findings
/// vanished while the role read as complete).
#[test]
fn a_role_with_an_unreadable_trust_policy_is_incomplete() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = temp.path().join("snapshot");
    files::copy_dir(&fixtures().join("demo/snapshot"), &snapshot);
    let inventory = snapshot.join("inventory/aws-210987654321.json");
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&inventory).unwrap()).unwrap();
    let role = value["roles"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|role| role["name"] == "cross-account-deployer")
        .unwrap();
    role["trust_policy"] = serde_json::json!(r#"{"Version":"2012-10-17","Statement":5}"#);
    std::fs::write(&inventory, value.to_string()).unwrap();
    let output = pipeleash(&[
        "analyze",
        "--snapshot",
        path(&snapshot),
        "--format",
        "json",
        "--quiet",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let identities = report["clouds"][0]["identities"]
        .as_array()
        .or_else(|| report["identities"].as_array())
        .unwrap();
    let role = identities
        .iter()
        .find(|identity| {
            identity["identity"]
                .as_str()
                .is_some_and(|arn| arn.ends_with("/cross-account-deployer"))
        })
        .unwrap();
    assert_eq!(role["incomplete"], true, "{role:#}");
}
