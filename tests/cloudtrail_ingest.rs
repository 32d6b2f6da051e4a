//! Library-level tests of CloudTrail ingestion on the hand-written fixture tree
//! (`tests/fixtures/cloudtrail/trail`, built from the readable `sources/`).

use chrono::{DateTime, Utc};
use pipeleash::aws::cloudtrail::{
    CloudTrailUsage, IngestOptions, SetAsideReason, TimeWindow, ingest_directory, workload_of_host,
};
use pipeleash::model::{CiWorkload, Usage, UsageRecord};
use std::path::PathBuf;

fn trail() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail/trail")
}

fn ingest(window: TimeWindow) -> CloudTrailUsage {
    ingest_directory(
        &trail(),
        &IngestOptions {
            window,
            progress: None,
        },
    )
    .unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn row<'u>(rows: &'u Usage, identity: &str, action: &str, resource: &str) -> &'u UsageRecord {
    rows.iter()
        .find(|(key, _)| {
            key.identity.native().ends_with(identity)
                && key.permission.action == action
                && key.resource == resource
        })
        .map(|(_, record)| record)
        .unwrap_or_else(|| panic!("no row {identity} {action} {resource} in {rows:#?}"))
}

fn has_action(rows: &Usage, identity: &str, action: &str) -> bool {
    rows.iter().any(|(key, _)| {
        key.identity.native().ends_with(identity) && key.permission.action == action
    })
}

const DEPLOY: &str = ":role/gha-deploy";

fn web_main() -> CiWorkload {
    workload_of_host(
        "token.actions.githubusercontent.com",
        "repo:acme/web:ref:refs/heads/main",
    )
}

#[test]
fn corrupt_and_truncated_files_are_skipped_by_name_and_the_rest_counted() {
    let usage = ingest(TimeWindow::default());
    let skipped: Vec<String> = usage
        .coverage
        .sources_skipped
        .iter()
        .map(|file| {
            format!(
                "{} {}",
                std::path::Path::new(&file.source)
                    .file_name()
                    .unwrap()
                    .to_string_lossy(),
                file.reason
            )
        })
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:#?}");
    assert!(
        skipped[0].contains("Corrupt") && skipped[0].contains("invalid gzip data"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].contains("Truncated") && skipped[1].contains("gzip"),
        "{skipped:?}"
    );
    // The digest folder is not a log: 5 of the 7 log files are read.
    assert_eq!(usage.coverage.sources_read, 5);
    assert_eq!(usage.coverage.events_read, 15 + 8 + 6 + 2 + 1);
    // The truncated file repeats the uncompressed one: nothing of it may be counted.
    assert_eq!(
        row(
            &usage.allowed,
            ":user/ci-legacy",
            "s3:ListAllMyBuckets",
            "*"
        )
        .logged(),
        1
    );
}

#[test]
fn web_identity_session_is_joined_to_later_calls() {
    let usage = ingest(TimeWindow::default());
    let put = row(
        &usage.allowed,
        DEPLOY,
        "s3:PutObject",
        "arn:aws:s3:::acme-artifacts/web/build.tar.gz",
    );
    assert_eq!(
        put.workloads.iter().cloned().collect::<Vec<_>>(),
        vec![web_main()]
    );
    assert_eq!(put.unlinked_calls, 0);
}

#[test]
fn web_identity_join_does_not_depend_on_file_order() {
    // In the organisation trail the session is issued in a file that sorts after the calls.
    let usage = ingest(TimeWindow::default());
    let token = row(
        &usage.allowed,
        ":role/gha-release",
        "ecr:GetAuthorizationToken",
        "*",
    );
    assert_eq!(
        token.workloads.iter().next().unwrap().subject,
        "repo:acme/api:environment:production"
    );
}

#[test]
fn chained_role_sessions_keep_their_workload_and_unlinked_calls_are_counted() {
    let usage = ingest(TimeWindow::default());
    let update = row(&usage.allowed, ":role/deployer", "ecs:UpdateService", "*");
    assert_eq!(update.logged(), 2);
    assert_eq!(update.workloads.len(), 1);
    assert_eq!(update.unlinked_calls, 1);
}

#[test]
fn denied_calls_are_kept_apart_from_use() {
    let usage = ingest(TimeWindow::default());
    assert!(has_action(&usage.denied, DEPLOY, "ssm:GetParameter"));
    assert!(!has_action(&usage.allowed, DEPLOY, "ssm:GetParameter"));
    assert!(has_action(
        &usage.denied,
        ":role/gha-release",
        "secretsmanager:GetSecretValue"
    ));
    let refused = usage
        .web_identity_sessions
        .iter()
        .find(|session| session.outcome == pipeleash::model::Outcome::Denied)
        .unwrap();
    assert_eq!(refused.workload.subject, "repo:acme/api:pull_request");
}

#[test]
fn calls_that_failed_for_other_reasons_still_prove_use() {
    let usage = ingest(TimeWindow::default());
    row(
        &usage.allowed,
        DEPLOY,
        "s3:GetObject",
        "arn:aws:s3:::acme-artifacts/web/missing.txt",
    );
}

#[test]
fn s3_head_object_maps_to_get_object() {
    let usage = ingest(TimeWindow::default());
    let get = row(
        &usage.allowed,
        DEPLOY,
        "s3:GetObject",
        "arn:aws:s3:::acme-artifacts/web/build.tar.gz",
    );
    assert_eq!(get.logged(), 1);
    assert!(!has_action(&usage.allowed, DEPLOY, "s3:HeadObject"));
}

#[test]
fn s3_list_objects_v2_maps_to_list_bucket_on_the_bucket() {
    let usage = ingest(TimeWindow::default());
    row(
        &usage.allowed,
        DEPLOY,
        "s3:ListBucket",
        "arn:aws:s3:::acme-artifacts",
    );
}

#[test]
fn copy_object_infers_get_object_on_the_decoded_source() {
    let usage = ingest(TimeWindow::default());
    let source = row(
        &usage.allowed,
        DEPLOY,
        "s3:GetObject",
        "arn:aws:s3:::acme-artifacts/web/build final.tar.gz",
    );
    assert_eq!((source.logged(), source.inferred), (0, 1));
    row(
        &usage.allowed,
        DEPLOY,
        "s3:PutObject",
        "arn:aws:s3:::acme-releases/web/v1.2.3.tar.gz",
    );
}

#[test]
fn pass_role_is_inferred_from_request_parameters() {
    let usage = ingest(TimeWindow::default());
    for (identity, role) in [
        (DEPLOY, "arn:aws:iam::111122223333:role/web-task"),
        (
            DEPLOY,
            "arn:aws:iam::111122223333:role/ecsTaskExecutionRole",
        ),
        (":user/ci-legacy", "arn:aws:iam::111122223333:role/cfn-exec"),
        (
            ":user/ci-legacy",
            "arn:aws:iam::111122223333:role/lambda-thumbnailer",
        ),
    ] {
        assert_eq!(
            row(&usage.allowed, identity, "iam:PassRole", role).inferred,
            1
        );
    }
    // AssumeRole names a role as its target, not as a role to pass.
    assert!(!has_action(
        &usage.allowed,
        ":role/gha-release",
        "iam:PassRole"
    ));
    let profile = &usage.instance_profile_passes[0];
    assert_eq!(
        profile.instance_profile,
        "arn:aws:iam::111122223333:instance-profile/web-runner"
    );
}

#[test]
fn lambda_version_suffix_is_stripped() {
    let usage = ingest(TimeWindow::default());
    row(
        &usage.allowed,
        DEPLOY,
        "lambda:UpdateFunctionCode",
        "arn:aws:lambda:us-east-1:111122223333:function:web-edge",
    );
    assert!(has_action(
        &usage.allowed,
        ":user/ci-legacy",
        "lambda:CreateFunction"
    ));
}

#[test]
fn monitoring_endpoint_maps_to_cloudwatch() {
    let usage = ingest(TimeWindow::default());
    assert!(has_action(
        &usage.allowed,
        ":user/ci-legacy",
        "cloudwatch:PutMetricData"
    ));
}

#[test]
fn kms_calls_a_service_made_for_the_caller_are_charged_to_the_caller() {
    let usage = ingest(TimeWindow::default());
    let kms = row(
        &usage.allowed,
        DEPLOY,
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    assert_eq!(kms.workloads.len(), 1);
}

#[test]
fn unknown_events_are_reported_not_dropped() {
    let usage = ingest(TimeWindow::default());
    assert_eq!(usage.unknown_events.len(), 1);
    assert_eq!(
        usage.unknown_events[0].event_source,
        "quantumledger.amazonaws.com"
    );
    assert_eq!(usage.unknown_events[0].event_name, "Frobnicate2025_01_01");
}

#[test]
fn service_events_are_set_aside_and_counted() {
    let usage = ingest(TimeWindow::default());
    let count = |reason| usage.set_aside.get(&reason).copied().unwrap_or(0);
    assert_eq!(count(SetAsideReason::AwsService), 1);
    // The service-linked role's call is set aside as such, not for its `invokedBy`.
    assert_eq!(count(SetAsideReason::ServiceLinkedRole), 1);
    assert_eq!(count(SetAsideReason::InvokedByService), 0);
    assert_eq!(count(SetAsideReason::AwsServiceEvent), 1);
    assert_eq!(count(SetAsideReason::Unauthenticated), 1);
    // GetCallerIdentity and ConsoleLogin need no permission.
    assert_eq!(usage.no_action_events, 2);
    assert!(
        !usage
            .allowed
            .iter()
            .any(|(key, _)| key.permission.action == "sts:GetCallerIdentity")
    );
    assert!(
        usage
            .allowed
            .iter()
            .any(|(key, _)| key.identity.native().ends_with(":root"))
    );
}

#[test]
fn since_and_until_prune_folders_and_filter_events() {
    let all = ingest(TimeWindow::default());
    assert!(has_action(
        &all.allowed,
        ":user/ci-legacy",
        "iam:CreateUser"
    ));
    let window = TimeWindow {
        since: Some(at("2026-11-01T00:00:00Z")),
        until: Some(at("2026-11-03T00:00:00Z")),
    };
    let usage = ingest(window);
    assert!(!has_action(
        &usage.allowed,
        ":user/ci-legacy",
        "iam:CreateUser"
    ));
    assert!(!has_action(
        &usage.allowed,
        ":role/gha-release",
        "ecr:GetAuthorizationToken"
    ));
    assert!(has_action(
        &usage.allowed,
        ":user/ci-legacy",
        "s3:ListAllMyBuckets"
    ));
    // The October folder was never opened; the November 3 folder is opened (one day of slack)
    // but its events are filtered out.
    assert_eq!(usage.coverage.sources_read, 4);
    assert_eq!(usage.coverage.first_event, Some(at("2026-11-01T10:00:00Z")));
    assert_eq!(usage.coverage.last_event, Some(at("2026-11-02T09:01:00Z")));
}

#[test]
fn output_is_sorted_and_identical_across_runs() {
    let first = ingest(TimeWindow::default());
    for _ in 0..3 {
        assert_eq!(ingest(TimeWindow::default()), first);
    }
    let keys: Vec<_> = first
        .allowed
        .iter()
        .map(|(key, _)| (key.identity.native(), &key.permission.action, &key.resource))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn a_missing_directory_is_an_error_that_names_it() {
    let error = ingest_directory(&trail().join("nope"), &IngestOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("cannot read the CloudTrail directory `"),
        "{message}"
    );
    assert!(message.contains("nope`"), "{message}");
}

#[test]
fn session_join_gives_the_same_result_in_any_file_order() {
    use pipeleash::aws::cloudtrail::ingest_files;
    let org = trail().join("AWSLogs/o-exampleorg1/444455556666/CloudTrail/eu-west-1/2026/11/03");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&org)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let forward = ingest_files(&files, &IngestOptions::default()).unwrap();
    files.reverse();
    let backward = ingest_files(&files, &IngestOptions::default()).unwrap();
    assert_eq!(forward, backward);
    // Each file alone: the calls are there, but without the session they stay unlinked.
    let calls = ingest_files(&files[1..], &IngestOptions::default()).unwrap();
    let token = row(
        &calls.allowed,
        ":role/gha-release",
        "ecr:GetAuthorizationToken",
        "*",
    );
    assert!(token.workloads.is_empty());
    assert_eq!(token.unlinked_calls, 1);
}

#[test]
fn the_access_key_that_signed_each_user_call_is_recorded() {
    let usage = ingest(TimeWindow {
        since: Some(at("2026-11-01T00:00:00Z")),
        until: None,
    });
    // Five calls by the user; the sixth (`ExpiredToken`) never got past authentication and
    // proves nothing. Roles' session keys and the root user are not listed.
    assert_eq!(usage.access_keys.len(), 1, "{:#?}", usage.access_keys);
    let key = &usage.access_keys[0];
    assert_eq!(key.user_arn, "arn:aws:iam::111122223333:user/ci-legacy");
    assert_eq!(key.access_key_id, "AKIAEXAMPLECILEGACY1");
    assert_eq!(key.calls, 5);
    assert_eq!(key.first_seen, at("2026-11-02T08:00:00Z"));
    assert_eq!(key.last_seen, at("2026-11-02T08:04:00Z"));
    assert!(!key.is_temporary());
}

#[test]
fn a_cloudtrail_folder_is_a_usage_source_of_neutral_usage() {
    use pipeleash::model::{Provider, UsageSource};
    let source = pipeleash::aws::cloudtrail::CloudTrailDirectory { root: trail() };
    assert_eq!(source.provider(), Provider::Aws);
    let observed = source.read(None, None).unwrap();
    let direct = ingest(TimeWindow::default());
    assert_eq!(observed.usage, direct.to_usage());
    assert_eq!(observed.coverage, direct.coverage);
    assert!(!observed.usage.is_empty());
    assert!(
        observed
            .usage
            .iter()
            .all(|(key, _)| key.identity.provider() == Provider::Aws)
    );
}
