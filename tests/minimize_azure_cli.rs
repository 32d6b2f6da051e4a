//! `pipeleash minimize IDENTITY --snapshot DIR --azure-activity-logs PATH` end to end, on the
//! Azure demo (`recorded-fixtures/azure-demo`): a snapshot in the shape `collect azure`
//! writes, a week of Activity Log in the storage-export layout, and the binary.

use chrono::{TimeZone, Utc};
use pipeleash::snapshot::SnapshotWriter;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// gha-web-deploy's object id (see the demo's `activity-log-ground-truth.json`).
const WEB_DEPLOY: &str = "f67dd121-8bc3-5370-aab7-395bfb549144";
const PROD: &str = "/subscriptions/3f2e1d0c-1111-4a2b-9c3d-5e6f7a8b9c01";

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/azure-demo")
}

fn pipeleash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn minimize(identity: &str, extra: &[&str]) -> Output {
    let snapshot = demo().join("snapshot");
    let logs = demo().join("activity-log");
    let mut args = vec![
        "minimize",
        identity,
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--azure-activity-logs",
        logs.to_str().unwrap(),
        "--since",
        "2026-11-14",
        "--until",
        "2026-11-21T00:00:00Z",
    ];
    args.extend(extra);
    pipeleash(&args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn actions(role: &Value) -> BTreeSet<String> {
    role["definition"]["Actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn contributor_on_a_resource_group_becomes_the_used_operations_plus_reads() {
    let output = minimize("gha-web-deploy", &["--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["provider"], "azure");
    assert_eq!(json["identity"], WEB_DEPLOY);
    let roles = json["roles"].as_array().unwrap();
    let used: Vec<&Value> = roles.iter().filter(|r| r["holds"] == "used").collect();
    assert_eq!(used.len(), 1, "{json:#}");
    assert_eq!(
        actions(used[0]),
        BTreeSet::from(
            [
                "Microsoft.Resources/deployments/write",
                "Microsoft.Web/sites/restart/action",
                "Microsoft.Web/sites/slots/slotsswap/action",
                "Microsoft.Web/sites/write",
            ]
            .map(String::from)
        )
    );
    // The refused `roleAssignments/write` is not used: never in the result.
    assert!(!output_text(&output).contains("\"Microsoft.Authorization/roleAssignments/write\""));
    let assignment = &json["assignments"][0];
    assert_eq!(
        assignment["scope"],
        format!("{PROD}/resourceGroups/rg-web-prod")
    );
    assert!(
        assignment["command"]
            .as_str()
            .unwrap()
            .starts_with("az role assignment create --assignee-object-id")
    );
    // Reads cannot be seen in the Activity Log: kept as Contributor grants them.
    assert!(roles.iter().any(|r| r["holds"] == "unobservable"));
    assert_eq!(json["replaces"].as_array().unwrap().len(), 1);
    assert!(json["proof"]["never_drop"].as_u64().unwrap() > 0);
    assert!(json["proof"]["never_broaden"].as_u64().unwrap() >= 4);
    // The corrupt blob is named on stderr.
    assert!(
        stderr(&output).contains("could not be read"),
        "{}",
        stderr(&output)
    );

    let dropped = minimize(
        WEB_DEPLOY,
        &["--drop-unobservable", "--name", "web-deployer"],
    );
    assert!(dropped.status.success(), "{}", stderr(&dropped));
    let json: Value = serde_json::from_slice(&dropped.stdout).unwrap();
    let roles = json["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["name"], "web-deployer");
}

fn output_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn owner_of_a_subscription_becomes_a_custom_role_in_terraform_read_back_and_proven() {
    let output = minimize("gha-platform-owner", &["--format", "terraform"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = output_text(&output);
    assert!(
        text.contains("resource \"azurerm_role_definition\""),
        "{text}"
    );
    assert!(
        text.contains("resource \"azurerm_role_assignment\""),
        "{text}"
    );
    assert!(
        text.contains("Microsoft.Network/virtualNetworks/write"),
        "{text}"
    );
    assert!(!text.contains("\"*\""), "Owner's `*` is not kept: {text}");
}

#[test]
fn a_managed_identity_with_a_conditional_data_plane_grant_keeps_it() {
    let output = minimize("id-aks-deployer", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let kept_data = json["roles"].as_array().unwrap().iter().any(|r| {
        !r["definition"]["DataActions"]
            .as_array()
            .unwrap()
            .is_empty()
    });
    assert!(kept_data, "{json:#}");
    let conditional = json["assignments"].as_array().unwrap().iter().any(|a| {
        a["condition"]
            .as_str()
            .is_some_and(|c| c.contains("releases"))
    });
    assert!(conditional, "{json:#}");
}

#[test]
fn bad_inputs_are_input_errors_naming_what_to_do() {
    // Unknown identity.
    let output = minimize("no-such-pipeline", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("`no-such-pipeline` is not a service principal"));
    assert!(output.stdout.is_empty());

    // An object id that is not in the snapshot.
    let output = minimize("00000000-1111-4222-8333-444444444444", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    // An empty window.
    let output = pipeleash(&[
        "minimize",
        "gha-web-deploy",
        "--snapshot",
        demo().join("snapshot").to_str().unwrap(),
        "--azure-activity-logs",
        demo().join("activity-log").to_str().unwrap(),
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-14",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    // A window the logs do not reach: nothing is known of use.
    let output = pipeleash(&[
        "minimize",
        "gha-web-deploy",
        "--snapshot",
        demo().join("snapshot").to_str().unwrap(),
        "--azure-activity-logs",
        demo().join("activity-log").to_str().unwrap(),
        "--since",
        "2025-01-01",
        "--until",
        "2025-01-08",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("holds no operation in the window"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());

    // A snapshot without an Azure inventory.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("20261121T000000Z");
    let writer =
        SnapshotWriter::create(&dir, Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()).unwrap();
    writer.commit().unwrap();
    let output = pipeleash(&[
        "minimize",
        WEB_DEPLOY,
        "--snapshot",
        dir.to_str().unwrap(),
        "--azure-activity-logs",
        demo().join("activity-log").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("holds no Azure inventory"),
        "{}",
        stderr(&output)
    );

    // An object id without logs.
    let output = pipeleash(&[
        "minimize",
        WEB_DEPLOY,
        "--snapshot",
        demo().join("snapshot").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--azure-activity-logs"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn logs_of_only_one_subscription_refuse_identities_granted_in_the_other() {
    // Only acme-prod's logs: gha-web-pr holds Contributor on acme-dev.
    let prod_logs = demo()
        .join("activity-log/insights-activity-logs/resourceId=/SUBSCRIPTIONS")
        .join("3F2E1D0C-1111-4A2B-9C3D-5E6F7A8B9C01");
    let output = pipeleash(&[
        "minimize",
        "gha-web-pr",
        "--snapshot",
        demo().join("snapshot").to_str().unwrap(),
        "--azure-activity-logs",
        prod_logs.to_str().unwrap(),
        "--since",
        "2026-11-14",
        "--until",
        "2026-11-21",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("3f2e1d0c-2222-4a2b-9c3d-5e6f7a8b9c02"),
        "{}",
        stderr(&output)
    );
}
