//! `pipeleash drift --iac`: Terraform code (`terraform show -json`) against a live snapshot.
//! The demo's state file plants one console edit (an inline policy widened live), one role
//! made by hand and one role never applied; everything else matches the live account.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo")
}

fn drift(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .arg("drift")
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn the_demo_state_shows_exactly_the_planted_differences() {
    let state = demo().join("terraform/show-state.json");
    let snapshot = demo().join("snapshot");
    let output = drift(&[
        "--iac",
        state.to_str().unwrap(),
        "--to",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a high difference fails the run"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<(String, String, String)> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
                d["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "high".to_string(),
                "inline-policy-differs".to_string(),
                "arn:aws:iam::210987654321:role/ci/cross-account-deployer".to_string()
            ),
            (
                "medium".to_string(),
                "not-in-code".to_string(),
                "arn:aws:iam::210987654321:role/ci/gitlab-docs-publish".to_string()
            ),
            (
                "low".to_string(),
                "not-live".to_string(),
                "module.ci.aws_iam_role.gha_deploy_docs".to_string()
            ),
        ]
    );
    // The other account's roles are not in the code's accounts: not reported as unmanaged.
    assert!(!String::from_utf8_lossy(&output.stdout).contains("345678901234"));
}

#[test]
fn code_matching_live_reports_no_difference() {
    let temp = tempfile::tempdir().unwrap();
    let mut state: Value =
        serde_json::from_slice(&std::fs::read(demo().join("terraform/show-state.json")).unwrap())
            .unwrap();
    let live: Value = serde_json::from_slice(
        &std::fs::read(demo().join("snapshot/inventory/aws-210987654321.json")).unwrap(),
    )
    .unwrap();
    // Put the live document back into the code (reformatted: compared as IAM reads it), drop
    // the unapplied role, and leave the hand-made one out of the snapshot's scope by naming
    // it in the code.
    let resources = state["values"]["root_module"]["child_modules"][0]["resources"]
        .as_array_mut()
        .unwrap();
    resources.retain(|r| r["values"]["name"] != "gha-deploy-docs");
    for resource in resources.iter_mut() {
        if resource["values"]["role"] == "cross-account-deployer" {
            let document: Value = serde_json::from_str(
                live["roles"][0]["inline_policies"][0]["document"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            resource["values"]["policy"] =
                Value::String(serde_json::to_string_pretty(&document).unwrap());
        }
    }
    let hand_made = live["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|role| role["name"] == "gitlab-docs-publish")
        .unwrap();
    resources.push(serde_json::json!({
        "address": "aws_iam_role.docs", "mode": "managed", "type": "aws_iam_role",
        "values": {"name": "gitlab-docs-publish", "arn": hand_made["arn"],
                   "assume_role_policy": hand_made["trust_policy"]}}));
    for policy in hand_made["inline_policies"].as_array().unwrap() {
        resources.push(serde_json::json!({
            "address": format!("aws_iam_role_policy.docs_{}", policy["name"].as_str().unwrap()),
            "mode": "managed", "type": "aws_iam_role_policy",
            "values": {"role": "gitlab-docs-publish", "name": policy["name"], "policy": policy["document"]}}));
    }
    for policy in hand_made["attached_policies"].as_array().unwrap() {
        resources.push(serde_json::json!({
            "address": "aws_iam_role_policy_attachment.docs", "mode": "managed",
            "type": "aws_iam_role_policy_attachment",
            "values": {"role": "gitlab-docs-publish", "policy_arn": policy["arn"]}}));
    }
    let path = temp.path().join("state.json");
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let output = drift(&[
        "--iac",
        path.to_str().unwrap(),
        "--to",
        demo().join("snapshot").to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("no difference"));
}

#[test]
fn a_file_that_is_not_terraform_json_is_an_input_error_naming_it() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("plan.tfplan");
    std::fs::write(&path, b"\x00binary plan").unwrap();
    let output = drift(&[
        "--iac",
        path.to_str().unwrap(),
        "--to",
        demo().join("snapshot").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("plan.tfplan") && stderr.contains("terraform show -json"),
        "{stderr}"
    );
}
