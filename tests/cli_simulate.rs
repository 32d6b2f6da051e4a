//! `pipeleash policy simulate` through the binary: one test per rule of AWS's evaluation
//! logic that users rely on, checking the `decision` field and the exit code.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/simulate")
        .join(name)
        .display()
        .to_string()
}

/// Runs `policy simulate --format json` with `args` (fixture names after `--policy`,
/// `--boundary`, `--scp`, `--resource-policy` are resolved) and returns the decision.
fn simulate(args: &[&str]) -> (String, Value) {
    let mut command = Command::new(BIN);
    command.args(["policy", "simulate", "--format", "json"]);
    let mut previous = "";
    for arg in args {
        let value = if matches!(
            previous,
            "--policy" | "--boundary" | "--resource-policy" | "--session-policy"
        ) {
            fixture(arg)
        } else if previous == "--scp" {
            arg.split(',').map(fixture).collect::<Vec<_>>().join(",")
        } else {
            arg.to_string()
        };
        command.arg(value);
        previous = arg;
    }
    let output = command.output().expect("run pipeleash");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let decision = report["decision"].as_str().expect("decision").to_string();
    let code = output.status.code().expect("exit code");
    assert_eq!(
        code == 0,
        decision == "allowed",
        "exit code {code} vs {decision}"
    );
    (decision, report)
}

const OBJECT: &str = "arn:aws:s3:::artifacts/web/1.2.3/release.zip";

#[test]
fn identity_policy_allows() {
    let (decision, report) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "allowed");
    assert_eq!(report["statements"][0]["effect"], "Allow");
}

#[test]
fn nothing_allows_is_an_implicit_deny() {
    let (decision, _) = simulate(&["--policy", "allow-s3.json", "--action", "ec2:RunInstances"]);
    assert_eq!(decision, "implicitly-denied");
}

#[test]
fn explicit_deny_wins_over_allow() {
    let (decision, report) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--policy",
        "deny-delete.json",
        "--action",
        "s3:DeleteObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "explicitly-denied");
    assert_eq!(report["statements"][0]["sid"], "NoDeletes");
}

#[test]
fn boundary_intersects_with_identity_policies() {
    let allowed = simulate(&[
        "--policy",
        "allow-s3.json",
        "--boundary",
        "boundary-read-only.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(allowed.0, "allowed");
    let (decision, report) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--boundary",
        "boundary-read-only.json",
        "--action",
        "s3:PutObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "implicitly-denied");
    let layers = report["layers"].as_array().unwrap();
    assert!(layers.iter().any(
        |layer| layer["layer"] == "permissions boundary" && layer["result"] == "does not allow"
    ));
}

#[test]
fn boundary_alone_grants_nothing() {
    let (decision, _) = simulate(&[
        "--policy",
        "not-resource.json",
        "--boundary",
        "allow-s3.json",
        "--action",
        "s3:PutObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "implicitly-denied");
}

#[test]
fn every_scp_level_must_allow() {
    let allowed = simulate(&[
        "--policy",
        "allow-s3.json",
        "--scp",
        "scp-allow-all.json",
        "--scp",
        "scp-allow-all.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(allowed.0, "allowed");
    let (decision, _) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--scp",
        "scp-allow-all.json",
        "--scp",
        "scp-no-s3.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "implicitly-denied");
}

#[test]
fn scps_at_one_level_are_a_union() {
    let (decision, _) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--scp",
        "scp-no-s3.json,scp-allow-all.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "allowed");
}

#[test]
fn deny_with_not_action_denies_everything_else() {
    let inside = simulate(&[
        "--policy",
        "not-action-deny.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(inside.0, "allowed");
    let outside = simulate(&[
        "--policy",
        "not-action-deny.json",
        "--action",
        "iam:CreateUser",
    ]);
    assert_eq!(outside.0, "explicitly-denied");
}

#[test]
fn not_resource_allows_everything_but_the_listed_resources() {
    let elsewhere = simulate(&[
        "--policy",
        "not-resource.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(elsewhere.0, "allowed");
    let excluded = simulate(&[
        "--policy",
        "not-resource.json",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::secrets/db/password",
    ]);
    assert_eq!(excluded.0, "implicitly-denied");
}

#[test]
fn resource_wildcard_spans_arn_segments() {
    let deep = simulate(&[
        "--policy",
        "arn-wildcard.json",
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(deep.0, "allowed", "`*` must span the `/` in `web/1.2.3`");
    let other = simulate(&[
        "--policy",
        "arn-wildcard.json",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::artifacts/web/1.2.3/debug.zip",
    ]);
    assert_eq!(other.0, "implicitly-denied");
}

#[test]
fn actions_match_case_insensitively() {
    let (decision, _) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--action",
        "S3:getobject",
        "--resource",
        OBJECT,
    ]);
    assert_eq!(decision, "allowed");
}

#[test]
fn if_exists_is_true_when_the_key_is_absent() {
    let absent = simulate(&["--policy", "if-exists.json", "--action", "ec2:RunInstances"]);
    assert_eq!(absent.0, "allowed");
    let other = simulate(&[
        "--policy",
        "if-exists.json",
        "--action",
        "ec2:RunInstances",
        "--context",
        "ec2:InstanceType=m5.24xlarge",
    ]);
    assert_eq!(other.0, "implicitly-denied");
    let matching = simulate(&[
        "--policy",
        "if-exists.json",
        "--action",
        "ec2:RunInstances",
        "--context",
        "ec2:InstanceType=t3.micro",
    ]);
    assert_eq!(matching.0, "allowed");
}

#[test]
fn for_all_values_is_true_on_an_empty_set() {
    let empty = simulate(&[
        "--policy",
        "for-all-values.json",
        "--action",
        "ec2:CreateTags",
    ]);
    assert_eq!(empty.0, "allowed");
    let subset = simulate(&[
        "--policy",
        "for-all-values.json",
        "--action",
        "ec2:CreateTags",
        "--context",
        "aws:TagKeys=team",
        "--context",
        "aws:TagKeys=env",
    ]);
    assert_eq!(subset.0, "allowed");
    let extra = simulate(&[
        "--policy",
        "for-all-values.json",
        "--action",
        "ec2:CreateTags",
        "--context",
        "aws:TagKeys=team",
        "--context",
        "aws:TagKeys=cost-center",
    ]);
    assert_eq!(extra.0, "implicitly-denied");
}

#[test]
fn for_any_value_is_false_on_an_empty_set() {
    let empty = simulate(&[
        "--policy",
        "for-any-value.json",
        "--action",
        "ec2:CreateTags",
    ]);
    assert_eq!(empty.0, "implicitly-denied");
    let one = simulate(&[
        "--policy",
        "for-any-value.json",
        "--action",
        "ec2:CreateTags",
        "--context",
        "aws:TagKeys=cost-center",
        "--context",
        "aws:TagKeys=env",
    ]);
    assert_eq!(one.0, "allowed");
}

#[test]
fn same_account_resource_policy_allows_on_its_own() {
    let (decision, report) = simulate(&[
        "--resource-policy",
        "bucket-policy.json",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::shared/report.csv",
        "--principal",
        "arn:aws:iam::111122223333:role/deployer",
    ]);
    assert_eq!(decision, "allowed");
    assert_eq!(report["statements"][0]["kind"], "resource");
}

#[test]
fn cross_account_needs_both_sides() {
    let resource_only = simulate(&[
        "--resource-policy",
        "bucket-policy.json",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::shared/report.csv",
        "--principal",
        "arn:aws:iam::111122223333:role/deployer",
        "--resource-account",
        "444455556666",
    ]);
    assert_eq!(resource_only.0, "implicitly-denied");
    assert_eq!(resource_only.1["cross_account"], true);
    let both = simulate(&[
        "--policy",
        "allow-s3.json",
        "--resource-policy",
        "bucket-policy.json",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::shared/report.csv",
        "--principal",
        "arn:aws:iam::111122223333:role/deployer",
        "--resource-account",
        "444455556666",
    ]);
    assert_eq!(both.0, "allowed");
}

#[test]
fn bad_context_flag_is_an_input_error() {
    let output = Command::new(BIN)
        .args(["policy", "simulate", "--policy", &fixture("allow-s3.json")])
        .args(["--action", "s3:GetObject", "--context", "novalue"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`key=value`"));
}

#[test]
fn table_output_names_the_decision_and_statement() {
    let output = Command::new(BIN)
        .args([
            "policy",
            "simulate",
            "--policy",
            &fixture("deny-delete.json"),
        ])
        .args(["--policy", &fixture("allow-s3.json")])
        .args(["--action", "s3:DeleteObject", "--resource", OBJECT])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("explicitly denied: `s3:DeleteObject`"),
        "{stdout}"
    );
    assert!(stdout.contains("NoDeletes"), "{stdout}");
}

// ---- The request context of a role session, and the resource policies that must allow ----

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/platform-admin/ci-session";
const SNAPSHOT: &str = "snapshot";
const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn snapshot() -> String {
    fixture(SNAPSHOT)
}

fn carve_out(principal: &str, extra: &[&str]) -> (String, Value) {
    let mut args = vec![
        "--policy",
        "allow-iam.json",
        "--scp",
        "scp-iam-carve-out.json",
        "--action",
        "iam:CreateRole",
        "--principal",
        principal,
    ];
    args.extend_from_slice(extra);
    simulate(&args)
}

/// `aws:PrincipalArn` of a role session is the role's ARN, not the session's
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn):
/// the SCP carve-out for `role/platform-*` lets the session of `platform-admin` through.
#[test]
fn session_principal_arn_is_its_role_arn_so_the_scp_carve_out_allows_it() {
    let snapshot = snapshot();
    let (decision, report) = carve_out(SESSION, &["--snapshot", &snapshot]);
    assert_eq!(decision, "allowed", "{report:#}");
    // Given by hand, the role ARN works the same.
    let (decision, _) = carve_out(
        SESSION,
        &[
            "--context",
            "aws:PrincipalArn=arn:aws:iam::111122223333:role/platform-admin",
        ],
    );
    assert_eq!(decision, "allowed");
    // A role outside the carve-out (its path puts it outside `role/platform-*`) is denied.
    let (decision, _) = carve_out(
        "arn:aws:sts::111122223333:assumed-role/platform-ops/ci-session",
        &["--snapshot", &snapshot],
    );
    assert_eq!(decision, "explicitly-denied");
}

/// Without the role's path the key is unknown, not guessed from the session ARN: the decision
/// is conditional on `aws:PrincipalArn`, and a note says how to settle it.
#[test]
fn session_principal_arn_without_the_role_path_is_unknown() {
    let (decision, report) = carve_out(SESSION, &[]);
    assert_eq!(decision, "conditional", "{report:#}");
    assert_eq!(report["missing_context_keys"][0], "aws:PrincipalArn");
    let notes = report["notes"].to_string();
    assert!(notes.contains("--snapshot"), "{notes}");
}

/// Every key derived from the principal: `aws:PrincipalType`, `aws:userid`,
/// `aws:username`, `aws:PrincipalAccount` follow the principal key table of
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html.
#[test]
fn keys_derived_from_a_session_and_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, condition: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{{condition}}}}}]}}"#
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let session_policy = write(
        "session.json",
        r#""StringEquals":{"aws:PrincipalType":"AssumedRole","aws:userid":"AROAEXAMPLEPLATFORM01:ci-session","aws:PrincipalAccount":"111122223333"},"Null":{"aws:username":"true"}"#,
    );
    let user_policy = write(
        "user.json",
        r#""StringEquals":{"aws:PrincipalType":"User","aws:userid":"AIDAEXAMPLERELEASE01","aws:username":"release-bot"},"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/ci/release-bot"}"#,
    );
    let run = |policy: &str, principal: &str, with_snapshot: bool| {
        let mut command = Command::new(BIN);
        command.args(["policy", "simulate", "--format", "json", "--policy", policy]);
        command.args(["--action", "s3:GetObject", "--principal", principal]);
        if with_snapshot {
            command.args(["--snapshot", &snapshot()]);
        }
        let output = command.output().unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        report["decision"].as_str().unwrap().to_string()
    };
    assert_eq!(run(&session_policy, SESSION, true), "allowed");
    // Without the snapshot the role id is unknown: `aws:userid` cannot be settled.
    assert_eq!(run(&session_policy, SESSION, false), "conditional");
    let user = "arn:aws:iam::111122223333:user/ci/release-bot";
    assert_eq!(run(&user_policy, user, true), "allowed");
}

/// A KMS key policy must itself allow, even in the same account: an identity policy that
/// allows `kms:Decrypt` is not enough when the key policy names only `role/admin`.
#[test]
fn kms_key_policy_that_names_another_role_denies_in_the_same_account() {
    let (decision, report) = simulate(&[
        "--policy",
        "allow-kms-decrypt.json",
        "--resource-policy",
        "key-policy-admin-only.json",
        "--action",
        "kms:Decrypt",
        "--resource",
        KEY,
        "--principal",
        "arn:aws:iam::111122223333:role/ci-deploy",
    ]);
    assert_eq!(decision, "implicitly-denied", "{report:#}");
    assert_eq!(report["resource_policy_required"], "key policy");
}

/// Without `--resource-policy`, a `kms:` request on a key assumes the default key policy
/// (which delegates to IAM) and says so.
#[test]
fn kms_request_without_a_key_policy_says_it_assumed_the_default() {
    let (decision, report) = simulate(&[
        "--policy",
        "allow-kms-decrypt.json",
        "--action",
        "kms:Decrypt",
        "--resource",
        KEY,
    ]);
    assert_eq!(decision, "allowed", "{report:#}");
    let notes = report["notes"].to_string();
    assert!(notes.contains("default key policy"), "{notes}");
    assert!(notes.contains("key-policy-default.html"), "{notes}");
}

/// A role trust policy must itself allow the principal, even in the same account.
#[test]
fn trust_policy_must_allow_the_principal_in_the_same_account() {
    let role = "arn:aws:iam::111122223333:role/deployer";
    let base = [
        "--policy",
        "allow-assume-role.json",
        "--action",
        "sts:AssumeRole",
        "--resource",
        role,
        "--principal",
        "arn:aws:iam::111122223333:role/ci-deploy",
    ];
    let (decision, report) =
        simulate(&[&base[..], &["--resource-policy", "trust-admin-only.json"]].concat());
    assert_eq!(decision, "implicitly-denied", "{report:#}");
    assert_eq!(report["resource_policy_required"], "trust policy");
    // A trust policy naming the account delegates to the identity policy.
    let (decision, _) =
        simulate(&[&base[..], &["--resource-policy", "trust-account.json"]].concat());
    assert_eq!(decision, "allowed");
    // No trust policy given: nothing allows, and a note says what is missing.
    let (decision, report) = simulate(&base);
    assert_eq!(decision, "implicitly-denied");
    assert!(
        report["notes"].to_string().contains("trust policy"),
        "{report:#}"
    );
}

/// No policy at all is a request nothing allows: an implicit deny, not an input error.
#[test]
fn no_policy_at_all_is_an_implicit_deny() {
    let (decision, report) = simulate(&["--action", "s3:GetObject", "--resource", OBJECT]);
    assert_eq!(decision, "implicitly-denied", "{report:#}");
}

// ---- Requests and context that cannot be read are input errors, not silent answers ----

const TYPED: &str = "deny-typed-conditions.json";

/// Runs `policy simulate` (table output) and returns the exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(["policy", "simulate"])
        .args(args)
        .output()
        .expect("run pipeleash");
    (
        output.status.code().expect("exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn run_typed(context: &[&str]) -> (i32, String, String) {
    let policy = fixture(TYPED);
    let mut args = vec!["--policy", &policy, "--action", "s3:GetObject"];
    for pair in context {
        args.extend(["--context", pair]);
    }
    run(&args)
}

/// A context value a condition compares as a date, boolean, number or IP address cannot be
/// read as one: IAM would not match it, so a `Deny` would be skipped. Each is an input
/// error naming the key, the value, the operator and the statement.
#[test]
fn context_value_unreadable_as_the_operators_type_is_an_input_error() {
    let cases = [
        ("aws:CurrentTime=garbage", "DateGreaterThan", "NotAfter2026"),
        (
            "aws:CurrentTime=2026-06-01 00:00:00",
            "DateGreaterThan",
            "NotAfter2026",
        ),
        (
            "aws:CurrentTime=2026-06-01T00:00:00,5Z",
            "DateGreaterThan",
            "NotAfter2026",
        ),
        ("aws:SecureTransport=nope", "Bool", "TlsOnly"),
        ("s3:max-keys=eleven", "NumericGreaterThan", "SmallListings"),
        ("aws:SourceIp=8.8.8.888", "NotIpAddress", "CorporateNetwork"),
        ("AWS:SOURCEIP=somewhere", "NotIpAddress", "CorporateNetwork"),
    ];
    for (pair, operator, sid) in cases {
        let (code, _, stderr) = run_typed(&[pair]);
        assert_eq!(code, 2, "{pair}: {stderr}");
        let (key, value) = pair.split_once('=').unwrap();
        for part in [key, value, operator, sid, TYPED, "give "] {
            assert!(
                stderr.contains(part),
                "{pair}: `{part}` missing in {stderr}"
            );
        }
    }
}

/// Values of the right type still decide as before.
#[test]
fn context_values_of_the_operators_type_are_evaluated() {
    let (code, _, stderr) = run_typed(&[
        "aws:CurrentTime=2025-06-01T00:00:00Z",
        "aws:SecureTransport=true",
        "s3:max-keys=5",
        "aws:SourceIp=10.1.2.3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = run_typed(&[
        "aws:CurrentTime=2026-06-01T00:00:00Z",
        "aws:SourceIp=10.1.2.3",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("NotAfter2026"), "{stdout}");
}

/// A single-valued key given twice would make it multivalued and skip the
/// `NotIpAddress` Deny; a documented multivalued key, or one the policies compare with a
/// set operator, takes several values.
#[test]
fn single_valued_context_key_given_twice_is_an_input_error() {
    let (code, _, stderr) = run_typed(&["aws:SourceIp=8.8.8.8", "aws:SourceIp=10.0.0.1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`aws:SourceIp`"), "{stderr}");
    assert!(stderr.contains("single-valued"), "{stderr}");
    let (code, _, stderr) = run_typed(&[
        "aws:TagKeys=team",
        "aws:TagKeys=env",
        "aws:SourceIp=10.1.1.1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run_typed(&[
        "aws:TagKeys=team",
        "aws:TagKeys=forbidden",
        "aws:SourceIp=10.1.1.1",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("TaggedOnly"), "{stdout}");
}

/// A request is one action: a wildcard is an input error.
#[test]
fn wildcard_request_action_is_an_input_error() {
    let policy = fixture("allow-s3.json");
    for action in ["kms:*", "*", "s3:Get*", "s3:GetObjec?"] {
        let (code, _, stderr) = run(&["--policy", &policy, "--action", action]);
        assert_eq!(code, 2, "{action}: {stderr}");
        assert!(stderr.contains("wildcard"), "{action}: {stderr}");
    }
}

/// An action the catalog does not know is still decided, with a note to check its spelling.
#[test]
fn unknown_action_gets_a_catalog_note() {
    let (_, report) = simulate(&["--policy", "allow-s3.json", "--action", "kms:Frobnicate"]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("unknown action `kms:Frobnicate`") && notes.contains("check the spelling"),
        "{notes}"
    );
    let (_, report) = simulate(&["--policy", "allow-s3.json", "--action", "s3:GetObject"]);
    assert!(!report["notes"].to_string().contains("unknown action"));
}

/// Principals and accounts that cannot exist are input errors naming the flag.
#[test]
fn malformed_principal_or_account_is_an_input_error() {
    let policy = fixture("allow-s3.json");
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--principal",
                "arn:aws:sts::111122223333:assumed-role/onlyrole",
            ],
            "--principal",
        ),
        (
            &[
                "--principal",
                "arn:aws:sts::111122223333:assumed-role/onlyrole/",
            ],
            "--principal",
        ),
        (
            &["--principal", "arn:aws:iam::1111:role/deploy"],
            "--principal",
        ),
        (
            &["--principal", "arn:aws:iam::11112222333x:user/ci"],
            "--principal",
        ),
        (&["--resource-account", "abc"], "--resource-account"),
    ];
    for (extra, flag) in cases {
        let mut args = vec!["--policy", &policy, "--action", "s3:GetObject"];
        args.extend_from_slice(extra);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(&format!("`{flag} ")), "{extra:?}: {stderr}");
    }
}

/// A role ARN carries its path: a snapshot role of the same name at another path is not
/// that role, and the note says where the role of that name is.
#[test]
fn role_arn_without_its_path_is_not_matched_in_the_snapshot_but_noted() {
    let snapshot = snapshot();
    let (_, report) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--action",
        "s3:GetObject",
        "--principal",
        "arn:aws:iam::111122223333:role/platform-ops",
        "--snapshot",
        &snapshot,
    ]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("no identity `arn:aws:iam::111122223333:role/platform-ops`")
            && notes.contains("`arn:aws:iam::111122223333:role/team/platform-ops`"),
        "{notes}"
    );
    let (_, report) = simulate(&[
        "--policy",
        "allow-s3.json",
        "--action",
        "s3:GetObject",
        "--principal",
        "arn:aws:iam::111122223333:role/team/platform-ops",
        "--snapshot",
        &snapshot,
    ]);
    assert_eq!(report["notes"], serde_json::json!([]));
}

/// Without a trust policy the trust layer is not a verdict on a policy: it says none was
/// given.
#[test]
fn assume_role_without_trust_policy_says_the_trust_policy_is_not_given() {
    let (decision, report) = simulate(&[
        "--policy",
        "allow-assume-role.json",
        "--action",
        "sts:AssumeRole",
        "--resource",
        "arn:aws:iam::111122223333:role/deploy",
    ]);
    assert_eq!(decision, "implicitly-denied");
    let layers = report["layers"].as_array().unwrap();
    let resource = layers
        .iter()
        .find(|layer| layer["layer"] == "resource policy")
        .unwrap();
    assert_eq!(resource["result"], "trust policy not given");
}

/// A reader that closes the pipe before pipeleash writes (`simulate … | head -0` in a CI
/// step) must not turn the verdict into exit 0: before, the write error ended the run with
/// exit 0, so a denied request read as allowed. The same for `analyze` with findings.
#[test]
fn a_closed_stdout_keeps_the_verdicts_exit_code() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures");
    let demo = |part: &str| demo.join(part).display().to_string();
    let runs: [(Vec<String>, i32); 3] = [
        (
            [
                "policy",
                "simulate",
                "--policy",
                &demo("demo/aws/policies/ci-ecr-push.json"),
                "--scp",
                &demo("demo/aws/scps/region-lock.json"),
                "--action",
                "ecr:PutImage",
                "--resource",
                "arn:aws:ecr:us-east-1:111122223333:repository/acme/web",
                "--context",
                "aws:RequestedRegion=us-east-1",
            ]
            .map(String::from)
            .to_vec(),
            1,
        ),
        (
            [
                "analyze",
                "--snapshot",
                &demo("gcp-demo/snapshot"),
                "--quiet",
            ]
            .map(String::from)
            .to_vec(),
            1,
        ),
        (
            ["catalog", "expand", "s3:Get*"].map(String::from).to_vec(),
            0,
        ),
    ];
    for (args, expected) in runs {
        for _ in 0..3 {
            let (reader, writer) = std::io::pipe().expect("pipe");
            drop(reader);
            let status = Command::new(BIN)
                .args(&args)
                .stdout(writer)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run pipeleash");
            assert_eq!(status.code(), Some(expected), "{args:?}");
        }
    }
}
