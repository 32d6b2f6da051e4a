//! Who a CloudTrail record is charged to, and which permissions its request needed without an
//! event of its own: small inputs rebuilt from the shapes CloudTrail writes, one regression
//! test per kind of call that used to be dropped.
//!
//! Sources: CloudTrail User Guide, "CloudTrail userIdentity element"
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>);
//! the rules of `providers/aws/cloudtrail-implied-permissions.tsv` cite theirs.

use pipeleash::aws::cloudtrail::{
    CloudTrailUsage, IngestOptions, SetAsideReason, TimeWindow, ingest_files,
};
use pipeleash::model::UsageRecord;
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const CFN_EXEC: &str = "cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1";

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// The `userIdentity` of a session of role `name`, optionally made by a service.
fn role_session(name: &str, session: &str, invoked_by: Option<&str>) -> Value {
    let mut identity = json!({
        "type": "AssumedRole",
        "principalId": format!("AROAEXAMPLE:{session}"),
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}"),
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLE000000001",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": role_arn(name),
                "accountId": ACCOUNT,
                "userName": name
            },
            "attributes": {"creationDate": "2026-11-10T09:00:00Z", "mfaAuthenticated": "false"}
        }
    });
    if let Some(service) = invoked_by {
        identity["invokedBy"] = json!(service);
    }
    identity
}

fn record(identity: Value, source: &str, name: &str, request: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "2026-11-10T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-sdk-go-v2/1.30.0",
        "requestParameters": request,
        "responseElements": null,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT
    })
}

fn ingest(records: Vec<Value>) -> CloudTrailUsage {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("111122223333_CloudTrail_us-east-1_20261110T1000Z_Test.json");
    std::fs::write(&path, json!({ "Records": records }).to_string()).unwrap();
    ingest_files(
        &[path],
        &IngestOptions {
            window: TimeWindow::default(),
            progress: None,
        },
    )
    .unwrap()
}

fn find<'u>(
    usage: &'u CloudTrailUsage,
    identity: &str,
    action: &str,
    resource: &str,
) -> &'u UsageRecord {
    usage
        .allowed
        .iter()
        .find(|(key, _)| {
            key.identity.native() == identity
                && key.permission.action == action
                && key.resource == resource
        })
        .map(|(_, record)| record)
        .unwrap_or_else(|| {
            panic!(
                "no row {identity} {action} {resource} in {:#?}",
                usage.allowed
            )
        })
}

fn actions_of(usage: &CloudTrailUsage, identity: &str) -> Vec<String> {
    usage
        .allowed
        .iter()
        .filter(|(key, _)| key.identity.native() == identity)
        .map(|(key, _)| format!("{} {}", key.permission.action, key.resource))
        .collect()
}

fn set_aside(usage: &CloudTrailUsage, reason: SetAsideReason) -> u64 {
    usage.set_aside.get(&reason).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Part 1: calls a service made with the identity's credentials

#[test]
fn cloudformation_service_role_calls_are_charged_to_the_role() {
    // `cdk deploy`: CloudFormation acts as the CDK execution role, so AWS evaluates that role's
    // policies for every call it makes.
    let usage = ingest(vec![record(
        role_session(
            CFN_EXEC,
            "AWSCloudFormation",
            Some("cloudformation.amazonaws.com"),
        ),
        "lambda.amazonaws.com",
        "UpdateFunctionCode20150331v2",
        json!({"functionName": "web-edge", "publish": true}),
    )]);
    let row = find(
        &usage,
        &role_arn(CFN_EXEC),
        "lambda:UpdateFunctionCode",
        "arn:aws:lambda:us-east-1:111122223333:function:web-edge",
    );
    assert_eq!(row.logged(), 1);
    assert!(
        row.evidence.contains("via cloudformation.amazonaws.com"),
        "{:?}",
        row.evidence
    );
    assert!(usage.set_aside.is_empty(), "{:?}", usage.set_aside);
}

#[test]
fn forward_access_session_calls_are_charged_to_the_caller() {
    // Without a service role, CloudFormation calls with the caller's own session (a forward
    // access session); the implied PassRole is the caller's too. An IAM user's session used by
    // a service the same way.
    let usage = ingest(vec![
        record(
            role_session(
                "gha-deploy",
                "GitHubActions",
                Some("cloudformation.amazonaws.com"),
            ),
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            json!({"functionName": "thumbnailer", "role": role_arn("lambda-thumbnailer"), "runtime": "nodejs20.x"}),
        ),
        record(
            json!({
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": format!("arn:aws:iam::{ACCOUNT}:user/analyst"),
                "accountId": ACCOUNT,
                "userName": "analyst",
                "invokedBy": "athena.amazonaws.com"
            }),
            "glue.amazonaws.com",
            "GetTable",
            json!({"databaseName": "logs", "name": "cloudtrail"}),
        ),
    ]);
    let deploy = role_arn("gha-deploy");
    let create = find(
        &usage,
        &deploy,
        "lambda:CreateFunction",
        "arn:aws:lambda:us-east-1:111122223333:function:thumbnailer",
    );
    assert!(create.evidence.contains("via cloudformation.amazonaws.com"));
    let pass = find(
        &usage,
        &deploy,
        "iam:PassRole",
        &role_arn("lambda-thumbnailer"),
    );
    assert_eq!((pass.logged(), pass.inferred), (0, 1));
    assert!(
        pass.evidence
            .contains("implied by CreateFunction20150331 role"),
        "{:?}",
        pass.evidence
    );
    assert_eq!(
        actions_of(&usage, &format!("arn:aws:iam::{ACCOUNT}:user/analyst")),
        vec!["glue:GetTable *"]
    );
}

#[test]
fn services_acting_as_themselves_are_set_aside() {
    let usage = ingest(vec![
        // A service principal.
        record(
            json!({"type": "AWSService", "invokedBy": "ecs-tasks.amazonaws.com"}),
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": role_arn("web-task"), "roleSessionName": "7f3e"}),
        ),
        // A service-linked role, whose permissions AWS owns.
        record(
            role_session(
                "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                "AutoScaling",
                Some("autoscaling.amazonaws.com"),
            ),
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instanceType": "t3.micro"}),
        ),
        // `invokedBy` and no principal at all.
        record(
            json!({"accountId": ACCOUNT, "invokedBy": "cloudtrail.amazonaws.com"}),
            "s3.amazonaws.com",
            "PutObject",
            json!({"bucketName": "trail", "key": "AWSLogs/x.json.gz"}),
        ),
        // Another account.
        record(
            json!({"type": "AWSAccount", "principalId": "AIDAOTHER", "accountId": "999999999999"}),
            "s3.amazonaws.com",
            "GetObject",
            json!({"bucketName": "shared", "key": "a"}),
        ),
    ]);
    assert!(usage.allowed.is_empty(), "{:#?}", usage.allowed);
    assert_eq!(set_aside(&usage, SetAsideReason::AwsService), 1);
    assert_eq!(set_aside(&usage, SetAsideReason::ServiceLinkedRole), 1);
    assert_eq!(set_aside(&usage, SetAsideReason::InvokedByService), 1);
    assert_eq!(set_aside(&usage, SetAsideReason::OtherAccount), 1);
}

#[test]
fn assumed_role_without_session_context_is_charged_to_the_role_its_session_names() {
    let mut identity = role_session("gha-deploy", "GitHubActions", None);
    identity.as_object_mut().unwrap().remove("sessionContext");
    let usage = ingest(vec![record(
        identity,
        "ecr.amazonaws.com",
        "GetAuthorizationToken",
        json!({}),
    )]);
    find(
        &usage,
        &role_arn("gha-deploy"),
        "ecr:GetAuthorizationToken",
        "*",
    );
}

// ---------------------------------------------------------------------------------------------
// Part 2: permissions a request needs without an event of its own

#[test]
fn put_object_with_acl_header_uses_put_object_acl() {
    let usage = ingest(vec![record(
        role_session("gha-deploy", "GitHubActions", None),
        "s3.amazonaws.com",
        "PutObject",
        json!({
            "bucketName": "acme-site",
            "Host": "acme-site.s3.us-east-1.amazonaws.com",
            "key": "index.html",
            "x-amz-acl": "public-read"
        }),
    )]);
    let deploy = role_arn("gha-deploy");
    let object = "arn:aws:s3:::acme-site/index.html";
    assert_eq!(find(&usage, &deploy, "s3:PutObject", object).logged(), 1);
    let acl = find(&usage, &deploy, "s3:PutObjectAcl", object);
    assert_eq!((acl.logged(), acl.inferred), (0, 1));
    assert!(
        acl.evidence.contains("implied by PutObject x-amz-acl"),
        "{:?}",
        acl.evidence
    );
}

#[test]
fn upload_headers_imply_acl_tagging_and_object_lock_permissions() {
    let identity = || role_session("gha-release", "GitHubActions", None);
    let usage = ingest(vec![
        record(
            identity(),
            "s3.amazonaws.com",
            "CreateMultipartUpload",
            json!({
                "bucketName": "releases", "key": "v1.tar.gz", "uploads": "",
                "x-amz-tagging": "team=web",
                "x-amz-object-lock-mode": "GOVERNANCE",
                "x-amz-object-lock-retain-until-date": "2027-01-01T00:00:00Z",
                "x-amz-object-lock-legal-hold": "ON"
            }),
        ),
        record(
            identity(),
            "s3.amazonaws.com",
            "CopyObject",
            json!({
                "bucketName": "releases", "key": "latest.tar.gz",
                "x-amz-copy-source": "releases/v1.tar.gz?versionId=3HL4kqtJlcpXroDTDmJ",
                "x-amz-grant-read": "id=\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\""
            }),
        ),
    ]);
    let release = role_arn("gha-release");
    let upload = "arn:aws:s3:::releases/v1.tar.gz";
    let latest = "arn:aws:s3:::releases/latest.tar.gz";
    assert_eq!(
        actions_of(&usage, &release),
        vec![
            format!("s3:GetObjectVersion {upload}"),
            format!("s3:PutObject {latest}"),
            format!("s3:PutObject {upload}"),
            format!("s3:PutObjectAcl {latest}"),
            format!("s3:PutObjectLegalHold {upload}"),
            format!("s3:PutObjectRetention {upload}"),
            format!("s3:PutObjectTagging {upload}"),
        ]
    );
    // Two object-lock headers imply one retention permission, counted once for the call.
    assert_eq!(
        find(&usage, &release, "s3:PutObjectRetention", upload).inferred,
        1
    );
}

#[test]
fn role_arns_nested_in_requests_are_passed() {
    let identity = || role_session("gha-platform", "GitHubActions", None);
    let usage = ingest(vec![
        record(
            identity(),
            "events.amazonaws.com",
            "PutTargets",
            json!({"rule": "nightly", "targets": [{"id": "1", "arn": format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:report"), "roleArn": role_arn("events-invoke-sfn")}]}),
        ),
        record(
            identity(),
            "ecs.amazonaws.com",
            "RegisterTaskDefinition",
            json!({"family": "api", "taskRoleArn": role_arn("api-task"), "executionRoleArn": role_arn("ecsTaskExecutionRole"), "containerDefinitions": [{"name": "api", "image": "api:1"}]}),
        ),
        record(
            identity(),
            "states.amazonaws.com",
            "CreateStateMachine",
            json!({"name": "report", "roleArn": role_arn("sfn-report"), "definition": "{}"}),
        ),
        record(
            identity(),
            "cloudformation.amazonaws.com",
            "CreateStack",
            json!({"stackName": "web", "roleARN": role_arn("cfn-exec"), "templateURL": "https://s3.amazonaws.com/t/web.json"}),
        ),
        record(
            identity(),
            "s3.amazonaws.com",
            "PutBucketReplication",
            json!({"bucketName": "acme-data", "ReplicationConfiguration": {"Role": role_arn("s3-replication"), "Rule": [{"ID": "all", "Status": "Enabled"}]}}),
        ),
        record(
            identity(),
            "ecs.amazonaws.com",
            "RunTask",
            json!({"cluster": "prod", "taskDefinition": "api:7", "overrides": {"taskRoleArn": role_arn("api-task-debug"), "containerOverrides": []}}),
        ),
    ]);
    let platform = role_arn("gha-platform");
    for (role, basis) in [
        (
            "events-invoke-sfn",
            "implied by PutTargets targets[].roleArn",
        ),
        ("api-task", "implied by RegisterTaskDefinition taskRoleArn"),
        (
            "ecsTaskExecutionRole",
            "implied by RegisterTaskDefinition executionRoleArn",
        ),
        ("sfn-report", "implied by CreateStateMachine roleArn"),
        ("cfn-exec", "implied by CreateStack roleARN"),
        (
            "s3-replication",
            "implied by PutBucketReplication ReplicationConfiguration.Role",
        ),
        ("api-task-debug", "implied by RunTask overrides.taskRoleArn"),
    ] {
        let pass = find(&usage, &platform, "iam:PassRole", &role_arn(role));
        assert_eq!(pass.inferred, 1, "{role}");
        assert!(pass.evidence.contains(basis), "{role}: {:?}", pass.evidence);
    }
}

#[test]
fn role_arns_that_are_not_passed_are_not_charged_as_passed() {
    let identity = || role_session("gha-platform", "GitHubActions", None);
    let usage = ingest(vec![
        // The role to become.
        record(
            identity(),
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": role_arn("deploy-prod"), "roleSessionName": "ci"}),
        ),
        // A principal given access.
        record(
            identity(),
            "kms.amazonaws.com",
            "CreateGrant",
            json!({"keyId": "arn:aws:kms:us-east-1:111122223333:key/1234", "granteePrincipal": role_arn("reader"), "operations": ["Decrypt"]}),
        ),
        record(
            identity(),
            "eks.amazonaws.com",
            "CreateAccessEntry",
            json!({"name": "prod", "principalArn": role_arn("deployer")}),
        ),
        // A read.
        record(
            identity(),
            "iam.amazonaws.com",
            "GetRole",
            json!({"roleName": "deployer"}),
        ),
        record(
            identity(),
            "ec2.amazonaws.com",
            "DescribeIamInstanceProfileAssociations",
            json!({"filterSet": {"items": [{"name": "instance-profile.arn", "valueSet": {"items": [{"value": format!("arn:aws:iam::{ACCOUNT}:instance-profile/web")}]}}]}}),
        ),
        // A role of another account cannot be passed.
        record(
            identity(),
            "events.amazonaws.com",
            "PutTargets",
            json!({"rule": "fanout", "targets": [{"id": "1", "arn": "arn:aws:events:us-east-1:999999999999:event-bus/default", "roleArn": "arn:aws:iam::999999999999:role/bus-writer"}]}),
        ),
    ]);
    let platform = role_arn("gha-platform");
    assert!(
        !actions_of(&usage, &platform)
            .iter()
            .any(|action| action.starts_with("iam:PassRole")),
        "{:#?}",
        actions_of(&usage, &platform)
    );
    assert!(usage.instance_profile_passes.is_empty());
}

#[test]
fn ec2_tag_specifications_use_create_tags_on_each_tagged_type() {
    let identity = || role_session("gha-infra", "GitHubActions", None);
    let tags = |types: &[&str]| json!({"items": types.iter().map(|kind| json!({"resourceType": kind, "tags": [{"key": "team", "value": "web"}]})).collect::<Vec<_>>()});
    let usage = ingest(vec![
        record(
            identity(),
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.micro", "tagSpecificationSet": tags(&["instance", "volume"])}),
        ),
        record(
            identity(),
            "ec2.amazonaws.com",
            "CreateVolume",
            json!({"size": 8, "zone": "us-east-1a", "tagSpecificationSet": tags(&["volume"])}),
        ),
    ]);
    let infra = role_arn("gha-infra");
    let instances = "arn:aws:ec2:us-east-1:111122223333:instance/*";
    let volumes = "arn:aws:ec2:us-east-1:111122223333:volume/*";
    assert_eq!(
        find(&usage, &infra, "ec2:CreateTags", instances).inferred,
        1
    );
    let volume_tags = find(&usage, &infra, "ec2:CreateTags", volumes);
    assert_eq!(volume_tags.inferred, 2);
    assert!(
        volume_tags
            .evidence
            .contains("implied by CreateVolume tagSpecificationSet.items[].resourceType"),
        "{:?}",
        volume_tags.evidence
    );
}

#[test]
fn instance_profiles_passed_by_name_or_arn_await_their_role() {
    let identity = || role_session("gha-infra", "GitHubActions", None);
    let usage = ingest(vec![
        record(
            identity(),
            "ec2.amazonaws.com",
            "RunInstances",
            json!({"instanceType": "t3.micro", "iamInstanceProfile": {"name": "web-runner"}}),
        ),
        record(
            identity(),
            "ec2.amazonaws.com",
            "AssociateIamInstanceProfile",
            json!({"instanceId": "i-0abc", "iamInstanceProfile": {"arn": format!("arn:aws:iam::{ACCOUNT}:instance-profile/batch/worker")}}),
        ),
    ]);
    let infra = role_arn("gha-infra");
    for profile in [
        "arn:aws:iam::111122223333:instance-profile/web-runner",
        "arn:aws:iam::111122223333:instance-profile/batch/worker",
    ] {
        assert_eq!(find(&usage, &infra, "iam:PassRole", profile).inferred, 1);
    }
    assert_eq!(usage.instance_profile_passes.len(), 2);
}

#[test]
fn refused_calls_imply_nothing() {
    let mut denied = record(
        role_session("gha-deploy", "GitHubActions", None),
        "s3.amazonaws.com",
        "PutObject",
        json!({"bucketName": "acme-site", "key": "index.html", "x-amz-acl": "public-read"}),
    );
    denied["errorCode"] = json!("AccessDenied");
    let usage = ingest(vec![denied]);
    assert!(usage.allowed.is_empty(), "{:#?}", usage.allowed);
    assert_eq!(usage.denied.len(), 1);
    let (key, _) = usage.denied.iter().next().expect("a denied record");
    assert_eq!(key.permission.action, "s3:PutObject");
}

// ---------------------------------------------------------------------------------------------
// Part 6: records that cannot be placed in the window

#[test]
fn unparseable_event_time_is_reported_as_malformed_not_outside_the_window() {
    let mut malformed = record(
        role_session("gha-deploy", "GitHubActions", None),
        "s3.amazonaws.com",
        "GetObject",
        json!({"bucketName": "acme-site", "key": "index.html"}),
    );
    malformed["eventTime"] = json!("2026-11-10 10:00");
    let mut missing = malformed.clone();
    missing.as_object_mut().unwrap().remove("eventTime");
    let usage = ingest(vec![malformed, missing]);
    assert_eq!(usage.coverage.events_read, 2);
    assert_eq!(usage.coverage.events_in_window, 0);
    assert_eq!(set_aside(&usage, SetAsideReason::MalformedEventTime), 1);
    assert_eq!(set_aside(&usage, SetAsideReason::MissingFields), 1);
    assert!(SetAsideReason::MalformedEventTime.is_missing_evidence());
}
