//! `collect aws` against real SDK clients: moto server for IAM, STS and Organizations, and a
//! replay server for recorded responses (CloudTrail `LookupEvents`, which moto lacks, and
//! real IAM's paging and URL-encoded documents, and denied calls).

mod support;

use pipeleash::aws::collect::{
    self, AwsAccountInventory, CollectOptions, CollectTarget, lookup_events,
};
use pipeleash::snapshot::{Snapshot, Store};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use support::moto::MotoServer;
use support::replay::ReplayServer;

const ACCOUNT: &str = "123456789012";
const SECOND_ACCOUNT: &str = "222222222222";
const GITHUB: &str = "token.actions.githubusercontent.com";
const COLLECTED_AT: &str = "2026-11-22T03:00:00Z";

fn github_trust(account: &str, sub: Option<&str>) -> String {
    let mut condition = serde_json::json!({
        "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" }
    });
    if let Some(sub) = sub {
        condition["StringLike"] = serde_json::json!({ format!("{GITHUB}:sub"): sub });
    }
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:aws:iam::{account}:oidc-provider/{GITHUB}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }]
    })
    .to_string()
}

fn allow(action: &str, resource: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": action, "Resource": resource }]
    })
    .to_string()
}

/// What `seed` created, to compare the collection with.
struct Seeded {
    secret_access_keys: Vec<String>,
    access_key_ids: Vec<String>,
    extra_roles: usize,
}

/// Fills one moto account with CI roles and everything around them.
async fn seed(config: &aws_config::SdkConfig, account: &str, extra_roles: usize) -> Seeded {
    let iam = aws_sdk_iam::Client::new(config);
    iam.create_open_id_connect_provider()
        .url(format!("https://{GITHUB}"))
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .send()
        .await
        .expect("github oidc provider");
    iam.create_open_id_connect_provider()
        .url("https://gitlab.com")
        .client_id_list("https://gitlab.com")
        .thumbprint_list("b3dd7606d2b5a8b4a13771dbecc9ee1cecafa38a")
        .send()
        .await
        .expect("gitlab oidc provider");

    let boundary = iam
        .create_policy()
        .policy_name("ci-boundary")
        .path("/ci/")
        .policy_document(allow("s3:*", "*"))
        .send()
        .await
        .expect("boundary policy");
    let boundary_arn = boundary
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_owned();

    // A managed policy with three versions whose default is the middle one.
    let deploy = iam
        .create_policy()
        .policy_name("deploy-artifacts")
        .path("/ci/")
        .policy_document(allow("s3:*", "*"))
        .send()
        .await
        .expect("managed policy");
    let deploy_arn = deploy
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_owned();
    iam.create_policy_version()
        .policy_arn(&deploy_arn)
        .policy_document(allow("s3:PutObject", "arn:aws:s3:::acme-artifacts/web/*"))
        .set_as_default(true)
        .send()
        .await
        .expect("version 2");
    iam.create_policy_version()
        .policy_arn(&deploy_arn)
        .policy_document(allow("s3:DeleteObject", "*"))
        .set_as_default(false)
        .send()
        .await
        .expect("version 3");

    let roles = [
        ("web-deploy", Some("repo:acme/web:ref:refs/heads/main")),
        ("any-repo", Some("repo:*")),
        ("no-sub", None),
    ];
    for (name, sub) in roles {
        iam.create_role()
            .role_name(name)
            .path("/ci/")
            .assume_role_policy_document(github_trust(account, sub))
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("owner")
                    .value("platform")
                    .build()
                    .expect("tag"),
            )
            .send()
            .await
            .expect("role");
    }
    iam.put_role_policy()
        .role_name("web-deploy")
        .policy_name("logs")
        .policy_document(allow("logs:PutLogEvents", "*"))
        .send()
        .await
        .expect("inline policy");
    iam.attach_role_policy()
        .role_name("web-deploy")
        .policy_arn(&deploy_arn)
        .send()
        .await
        .expect("attach customer policy");
    iam.put_role_permissions_boundary()
        .role_name("web-deploy")
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .expect("boundary");
    iam.attach_role_policy()
        .role_name("any-repo")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("attach aws-managed policy");
    iam.create_instance_profile()
        .instance_profile_name("web-runner")
        .path("/ci/")
        .send()
        .await
        .expect("instance profile");
    iam.add_role_to_instance_profile()
        .instance_profile_name("web-runner")
        .role_name("no-sub")
        .send()
        .await
        .expect("role in instance profile");
    for index in 0..extra_roles {
        iam.create_role()
            .role_name(format!("pipeline-{index:03}"))
            .assume_role_policy_document(github_trust(account, Some("repo:acme/app:*")))
            .send()
            .await
            .expect("extra role");
    }

    iam.create_group()
        .group_name("deployers")
        .send()
        .await
        .expect("group");
    iam.put_group_policy()
        .group_name("deployers")
        .policy_name("ecr-push")
        .policy_document(allow("ecr:*", "*"))
        .send()
        .await
        .expect("group policy");
    iam.create_user()
        .user_name("legacy-deployer")
        .send()
        .await
        .expect("user");
    iam.add_user_to_group()
        .group_name("deployers")
        .user_name("legacy-deployer")
        .send()
        .await
        .expect("membership");
    let mut seeded = Seeded {
        secret_access_keys: Vec::new(),
        access_key_ids: Vec::new(),
        extra_roles,
    };
    for _ in 0..2 {
        let key = iam
            .create_access_key()
            .user_name("legacy-deployer")
            .send()
            .await
            .expect("access key");
        let key = key.access_key().expect("key");
        seeded.access_key_ids.push(key.access_key_id().to_owned());
        seeded
            .secret_access_keys
            .push(key.secret_access_key().to_owned());
    }
    seeded
}

fn role<'a>(inventory: &'a AwsAccountInventory, name: &str) -> &'a collect::AwsRole {
    inventory
        .roles
        .iter()
        .find(|role| role.name == name)
        .unwrap_or_else(|| panic!("role {name} collected"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_roles_trusts_policy_versions_boundaries_oidc_and_keys_from_moto() {
    let moto = MotoServer::start();
    let config = support::sdk_config(&moto.endpoint).await;
    let seeded = seed(&config, ACCOUNT, 40).await;

    let options = CollectOptions {
        page_size: Some(2),
        ..CollectOptions::default()
    };
    let started = Instant::now();
    let outcomes = collect::collect_all(&config, &options, COLLECTED_AT).await;
    eprintln!(
        "collected {} roles from moto in {:?}",
        3 + seeded.extra_roles,
        started.elapsed()
    );
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].target, CollectTarget::Caller);
    let inventory = outcomes[0].result.as_ref().expect("account collected");

    assert_eq!(inventory.account_id, ACCOUNT);
    assert_eq!(inventory.partition, "aws");
    assert_eq!(inventory.collected_at, COLLECTED_AT);
    assert_eq!(inventory.roles.len(), 3 + seeded.extra_roles);

    let safe = role(inventory, "web-deploy");
    let trust = safe.trust_policy.as_deref().expect("trust policy");
    let trust: serde_json::Value = serde_json::from_str(trust).expect("trust is json");
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringLike"][format!("{GITHUB}:sub")],
        "repo:acme/web:ref:refs/heads/main"
    );
    assert_eq!(safe.inline_policies.len(), 1);
    assert_eq!(safe.inline_policies[0].name, "logs");
    assert!(
        safe.inline_policies[0]
            .document
            .contains("logs:PutLogEvents")
    );
    assert_eq!(
        safe.permissions_boundary.as_deref(),
        Some("arn:aws:iam::123456789012:policy/ci/ci-boundary")
    );
    assert_eq!(safe.tags.get("owner").map(String::as_str), Some("platform"));
    let unsafe_role = role(inventory, "any-repo");
    assert!(
        unsafe_role
            .trust_policy
            .as_deref()
            .expect("trust")
            .contains("repo:*")
    );
    let no_sub = role(inventory, "no-sub");
    assert!(
        !no_sub
            .trust_policy
            .as_deref()
            .expect("trust")
            .contains(":sub")
    );
    // Passing the instance profile passes the role: the inventory says which profile holds it.
    assert_eq!(
        no_sub.instance_profiles,
        ["arn:aws:iam::123456789012:instance-profile/ci/web-runner"]
    );
    assert!(safe.instance_profiles.is_empty());
    assert_eq!(
        AwsAccountInventory::instance_profile_roles(std::slice::from_ref(inventory))
            .get(&(ACCOUNT.to_owned(), "web-runner".to_owned()))
            .map(Vec::as_slice),
        Some([no_sub.arn.clone()].as_slice())
    );

    let deploy = inventory
        .policies
        .iter()
        .find(|policy| policy.name == "deploy-artifacts")
        .unwrap_or_else(|| {
            panic!(
                "managed policy collected: {:#?}",
                inventory
                    .policies
                    .iter()
                    .map(|p| (&p.arn, &p.name))
                    .collect::<Vec<_>>()
            )
        });
    let version_ids: Vec<&str> = deploy
        .versions
        .iter()
        .map(|v| v.version_id.as_str())
        .collect();
    assert_eq!(version_ids, ["v1", "v2", "v3"]);
    assert_eq!(deploy.default_version_id.as_deref(), Some("v2"));
    assert!(
        deploy
            .default_document()
            .expect("default")
            .contains("s3:PutObject")
    );
    assert!(!deploy.aws_managed);

    // The AWS-managed attachment resolves (moto loads them with the harness's setting), and
    // only attached AWS-managed policies are kept.
    let read_only = inventory
        .policies
        .iter()
        .find(|policy| policy.arn == "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .expect("aws-managed policy resolved");
    assert!(read_only.aws_managed);
    assert!(read_only.default_document().is_some());
    assert_eq!(
        inventory.policies.iter().filter(|p| p.aws_managed).count(),
        1
    );
    assert!(inventory.unresolved_policies.is_empty());

    let urls: Vec<&str> = inventory
        .oidc_providers
        .iter()
        .filter_map(|provider| provider.url.as_deref())
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls.iter().any(|url| url.contains(GITHUB)));
    let github = inventory
        .oidc_providers
        .iter()
        .find(|provider| provider.arn.ends_with(GITHUB))
        .expect("github provider");
    assert_eq!(github.client_ids, ["sts.amazonaws.com"]);
    assert_eq!(
        github.thumbprints,
        ["6938fd4d98bab03faadb97b34396831e3780aea1"]
    );

    assert_eq!(inventory.groups.len(), 1);
    assert_eq!(inventory.groups[0].inline_policies[0].name, "ecr-push");
    assert_eq!(inventory.users[0].groups, ["deployers"]);
    let mut key_ids: Vec<&str> = inventory
        .access_keys
        .iter()
        .map(|key| key.access_key_id.as_str())
        .collect();
    key_ids.sort();
    let mut expected_ids: Vec<&str> = seeded.access_key_ids.iter().map(String::as_str).collect();
    expected_ids.sort();
    assert_eq!(key_ids, expected_ids);
    assert!(
        inventory
            .access_keys
            .iter()
            .all(|key| key.status == "Active")
    );

    // No organization: reported as skipped with the reason, not an error, not silence.
    assert!(inventory.errors.is_empty(), "{:?}", inventory.errors);
    assert_eq!(inventory.skipped.len(), 1);
    assert_eq!(
        inventory.skipped[0].call,
        "organizations:DescribeOrganization"
    );
    assert_eq!(
        inventory.skipped[0].code.as_deref(),
        Some("AWSOrganizationsNotInUseException")
    );
    assert!(inventory.skipped[0].reason.contains("no organization"));

    // Secrets never reach the inventory file.
    let text = serde_json::to_string(inventory).expect("serialize");
    for secret in seeded
        .secret_access_keys
        .iter()
        .map(String::as_str)
        .chain([support::TEST_SECRET_ACCESS_KEY])
    {
        assert!(
            !text.contains(secret),
            "a secret access key leaked into the inventory"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scps_are_collected_through_paged_organizations_calls_with_their_levels() {
    let moto = MotoServer::start();
    let config = support::sdk_config(&moto.endpoint).await;
    let organizations = aws_sdk_organizations::Client::new(&config);
    organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organization");
    let roots = organizations.list_roots().send().await.expect("roots");
    let root_id = roots.roots()[0].id().expect("root id").to_owned();
    let ou = organizations
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("ci")
        .send()
        .await
        .expect("ou");
    let ou_id = ou
        .organizational_unit()
        .and_then(|ou| ou.id())
        .expect("ou id")
        .to_owned();
    let deny_regions = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": { "StringNotEquals": { "aws:RequestedRegion": "eu-west-1" } } }]
    })
    .to_string();
    let mut created = Vec::new();
    for (index, target) in [
        Some(root_id.as_str()),
        Some(ACCOUNT),
        Some(ou_id.as_str()),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let policy = organizations
            .create_policy()
            .name(format!("scp-{index}"))
            .description("test")
            .content(&deny_regions)
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .expect("scp");
        let id = policy
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|s| s.id())
            .expect("policy id")
            .to_owned();
        if let Some(target) = target {
            organizations
                .attach_policy()
                .policy_id(&id)
                .target_id(target)
                .send()
                .await
                .expect("attach scp");
        }
        created.push(id);
    }

    let options = CollectOptions {
        page_size: Some(2),
        ..CollectOptions::default()
    };
    let outcomes = collect::collect_all(&config, &options, COLLECTED_AT).await;
    let inventory = outcomes[0].result.as_ref().expect("collected");
    assert!(inventory.errors.is_empty(), "{:?}", inventory.errors);
    assert!(inventory.skipped.is_empty(), "{:?}", inventory.skipped);
    let organization = inventory.organization.as_ref().expect("organization read");
    assert_eq!(organization.parents, [root_id.as_str()]);

    let by_name = |name: &str| {
        inventory
            .service_control_policies
            .iter()
            .find(|policy| policy.name == name)
            .unwrap_or_else(|| panic!("{name} collected"))
    };
    // Four created plus `FullAWSAccess`, read two per page.
    assert_eq!(inventory.service_control_policies.len(), 5);
    assert_eq!(by_name("scp-0").applies_through, [root_id.as_str()]);
    assert_eq!(by_name("scp-1").applies_through, [ACCOUNT.to_owned()]);
    // Attached to an OU the account is not in: known, but it does not apply here.
    assert_eq!(by_name("scp-2").targets, [ou_id.as_str()]);
    assert!(by_name("scp-2").applies_through.is_empty());
    assert!(by_name("scp-3").targets.is_empty());
    assert!(by_name("scp-0").document.contains("aws:RequestedRegion"));
    assert!(by_name("FullAWSAccess").aws_managed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_collects_each_account_separately() {
    let moto = MotoServer::start();
    let config = support::sdk_config(&moto.endpoint).await;
    seed(&config, ACCOUNT, 0).await;
    let second_role = format!("arn:aws:iam::{SECOND_ACCOUNT}:role/pipeleash-audit");
    // moto picks the account from the assumed role's ARN: seed the second one through it.
    let second =
        collect::config_for(&config, &CollectTarget::AssumeRole(second_role.clone())).await;
    let second_iam = aws_sdk_iam::Client::new(&second);
    second_iam
        .create_role()
        .role_name("other-account-ci")
        .assume_role_policy_document(github_trust(SECOND_ACCOUNT, Some("repo:acme/api:*")))
        .send()
        .await
        .expect("role in second account");

    let options = CollectOptions {
        assume_roles: vec![
            format!("arn:aws:iam::{ACCOUNT}:role/pipeleash-audit"),
            second_role.clone(),
        ],
        ..CollectOptions::default()
    };
    let outcomes = collect::collect_all(&config, &options, COLLECTED_AT).await;
    assert_eq!(outcomes.len(), 2);
    let first = outcomes[0].result.as_ref().expect("first account");
    let second = outcomes[1].result.as_ref().expect("second account");
    assert_eq!(first.account_id, ACCOUNT);
    assert!(
        first
            .collected_by
            .contains(":assumed-role/pipeleash-audit/")
    );
    assert_eq!(first.roles.len(), 3);
    assert_eq!(second.account_id, SECOND_ACCOUNT);
    let names: Vec<&str> = second.roles.iter().map(|role| role.name.as_str()).collect();
    assert_eq!(names, ["other-account-ci"]);
    assert!(second.oidc_providers.is_empty());
}

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_iam_pages_are_read_to_the_end_denied_calls_are_recorded_and_a_failed_account_does_not_stop_the_next()
 {
    let replay = ReplayServer::start(&fixture("tests/fixtures/collect/iam-denied"));
    let config = support::sdk_config(&replay.endpoint).await;
    let options = CollectOptions {
        assume_roles: vec![
            "arn:aws:iam::999999999999:role/not-trusted".to_owned(),
            "arn:aws:iam::444455556666:role/pipeleash-audit".to_owned(),
        ],
        ..CollectOptions::default()
    };
    let outcomes = collect::collect_all(&config, &options, COLLECTED_AT).await;
    assert_eq!(outcomes.len(), 2);
    let error = outcomes[0]
        .result
        .as_ref()
        .expect_err("role cannot be assumed");
    let message = error.to_string();
    assert!(
        message.contains("arn:aws:iam::999999999999:role/not-trusted"),
        "{message}"
    );
    assert!(message.contains("sts:GetCallerIdentity"), "{message}");

    let inventory = outcomes[1]
        .result
        .as_ref()
        .expect("second account collected");
    assert_eq!(inventory.account_id, "444455556666");
    // Both pages of GetAccountAuthorizationDetails.
    let names: Vec<&str> = inventory
        .roles
        .iter()
        .map(|role| role.name.as_str())
        .collect();
    assert_eq!(names, ["any-repo", "gitlab-release", "web-deploy"]);
    let markers: Vec<Option<String>> = replay
        .received()
        .iter()
        .filter(|request| request.operation == "GetAccountAuthorizationDetails")
        .map(|request| request.token.clone())
        .collect();
    assert_eq!(markers, [None, Some("AAE1ZXhhbXBsZS1tYXJrZXI".to_owned())]);

    // URL-encoded documents, as real IAM returns them, are stored decoded.
    let web = role(inventory, "web-deploy");
    assert!(
        web.trust_policy
            .as_deref()
            .expect("trust")
            .starts_with(r#"{"Version":"2012-10-17""#)
    );
    assert!(
        web.inline_policies[0]
            .document
            .contains("\n    \"Statement\"")
    );
    assert_eq!(
        web.last_used.as_ref().and_then(|u| u.date.as_deref()),
        Some("2026-11-01T08:00:00Z")
    );
    let deploy = inventory
        .policies
        .iter()
        .find(|policy| policy.name == "deploy-artifacts")
        .expect("customer policy");
    assert_eq!(deploy.default_version_id.as_deref(), Some("v2"));
    assert!(
        deploy
            .default_document()
            .expect("default")
            .contains("acme-artifacts/web/*")
    );
    assert_eq!(
        inventory.groups[0].inline_policies[0].document,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#
    );

    // An attached AWS-managed policy missing from the details is fetched on its own
    // (`GetPolicy` + `GetPolicyVersion`, URL-encoded too); one that cannot be read is named,
    // with who uses it.
    let read_only = inventory
        .policies
        .iter()
        .find(|policy| policy.arn == "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .expect("fetched on its own");
    assert!(read_only.aws_managed);
    assert_eq!(read_only.default_version_id.as_deref(), Some("v120"));
    assert!(
        read_only
            .default_document()
            .expect("document")
            .contains("\"ec2:Describe*\"")
    );
    assert_eq!(inventory.unresolved_policies.len(), 1);
    let boundary = &inventory.unresolved_policies[0];
    assert_eq!(
        boundary.arn,
        "arn:aws:iam::444455556666:policy/ci/ci-boundary"
    );
    assert_eq!(
        boundary.attached_to,
        ["arn:aws:iam::444455556666:role/ci/web-deploy"]
    );
    assert!(boundary.reason.contains("iam:GetPolicy") && boundary.reason.contains("AccessDenied"));

    // Denied calls are recorded, and the run went on past each of them.
    let failed_calls: Vec<&str> = inventory
        .errors
        .iter()
        .map(|issue| issue.call.as_str())
        .collect();
    assert_eq!(
        failed_calls,
        ["iam:ListAccessKeys", "iam:ListOpenIDConnectProviders"]
    );
    assert!(
        inventory
            .errors
            .iter()
            .all(|issue| issue.code.as_deref() == Some("AccessDenied"))
    );
    assert_eq!(inventory.skipped.len(), 1);
    assert_eq!(
        inventory.skipped[0].call,
        "organizations:DescribeOrganization"
    );
    assert_eq!(
        inventory.skipped[0].code.as_deref(),
        Some("AccessDeniedException")
    );
    assert!(
        inventory.skipped[0]
            .reason
            .contains("organizations:DescribeOrganization")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_reads_every_replayed_page_in_the_cloudtrail_wire_format() {
    let replay = ReplayServer::start(&fixture(
        "recorded-fixtures/aws-lookup-events/small-account",
    ));
    let config = support::sdk_config(&replay.endpoint).await;
    let client = aws_sdk_cloudtrail::Client::new(&config);
    let query = lookup_events::LookupEventsQuery {
        page_size: Some(2),
        start_time: Some(1_795_000_000),
        ..Default::default()
    };
    let outcome = lookup_events::lookup_events(&client, &query).await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.pages, 3);
    assert_eq!(outcome.events.len(), 5);
    let names: Vec<String> = outcome
        .events
        .iter()
        .map(|event| {
            let event: serde_json::Value = serde_json::from_str(event).expect("event json");
            event["eventName"].as_str().expect("name").to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "DescribeStacks",
            "GetCallerIdentity",
            "ListBuckets",
            "CreateInvalidation",
            "PutParameter"
        ]
    );
    let received = replay.received();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|request| request.matched));
    assert!(received.iter().all(|request| {
        request
            .target_header
            .as_deref()
            .is_some_and(|target| target.ends_with("CloudTrail_20131101.LookupEvents"))
    }));
    assert_eq!(received[0].token, None);
    assert!(received[1].token.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_events_keeps_what_it_read_when_a_later_page_is_denied() {
    let replay = ReplayServer::start(&fixture(
        "recorded-fixtures/aws-lookup-events/denied-second-page",
    ));
    let config = support::sdk_config(&replay.endpoint).await;
    let client = aws_sdk_cloudtrail::Client::new(&config);
    let outcome = lookup_events::lookup_events(&client, &Default::default()).await;
    assert_eq!(outcome.pages, 1);
    assert_eq!(outcome.events.len(), 2);
    let error = outcome.error.expect("second page denied");
    assert_eq!(error.code.as_deref(), Some("AccessDeniedException"));
    assert!(error.to_string().contains("after 1 page(s)"), "{error}");
}

fn pipeleash(endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipeleash"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (key, value) in support::binary_env(endpoint) {
        command.env(key, value);
    }
    command.output().expect("run pipeleash")
}

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else {
            text.push_str(&std::fs::read_to_string(&path).expect("read file"));
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_collects_through_aws_endpoint_url_into_a_readable_store() {
    let moto = MotoServer::start();
    let config = support::sdk_config(&moto.endpoint).await;
    let seeded = seed(&config, ACCOUNT, 5).await;
    let store_dir = tempfile::tempdir().expect("tempdir");
    let store_path = store_dir.path().to_str().expect("utf-8 path");

    // Only AWS_ENDPOINT_URL points the binary at moto: the SDK must honour it.
    let output = pipeleash(&moto.endpoint, &["collect", "aws", "--store", store_path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains(ACCOUNT), "{stdout}");
    assert!(stdout.contains("oidc providers"), "{stdout}");
    assert!(stderr.contains("snapshot written to"), "{stderr}");

    let store = Store::new(store_dir.path());
    assert_eq!(store.list().expect("list").len(), 1);
    let snapshot = store.latest().expect("latest").expect("a snapshot");
    assert_eq!(snapshot.manifest().sources.len(), 1);
    assert_eq!(
        snapshot.manifest().sources[0].path,
        "inventory/aws-123456789012.json"
    );
    assert!(snapshot.manifest().coverage[0].contains("no organization"));
    let inventories = snapshot.aws_inventories().expect("inventories");
    assert_eq!(inventories[0].roles.len(), 8);
    assert_eq!(inventories[0].oidc_providers.len(), 2);
    let reopened = Snapshot::open(snapshot.dir()).expect("open by path");
    assert_eq!(reopened.manifest(), snapshot.manifest());

    let written = all_text(store_dir.path());
    for secret in seeded
        .secret_access_keys
        .iter()
        .map(String::as_str)
        .chain([support::TEST_SECRET_ACCESS_KEY])
    {
        assert!(!written.contains(secret), "a secret reached the snapshot");
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn binary_exits_3_when_an_account_fails_and_still_writes_the_others() {
    let replay = ReplayServer::start(&fixture("tests/fixtures/collect/iam-denied"));
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("snapshot");
    let output = pipeleash(
        &replay.endpoint,
        &[
            "collect",
            "aws",
            "--assume-role",
            "arn:aws:iam::999999999999:role/not-trusted",
            "--assume-role",
            "arn:aws:iam::444455556666:role/pipeleash-audit",
            "--out",
            out.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains("role `arn:aws:iam::999999999999:role/not-trusted`"),
        "{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("json summary");
    // Pinned byte for byte (the summary is a frozen JSON output, `output::json::v1::collect`),
    // but for the failure's text, which names the credential sources of the machine.
    assert_eq!(
        stdout,
        format!(
            r#"{{
  "snapshot": {},
  "accounts": [
    {{
      "target": "role `arn:aws:iam::999999999999:role/not-trusted`",
      "failed": {}
    }},
    {{
      "target": "role `arn:aws:iam::444455556666:role/pipeleash-audit`",
      "account_id": "444455556666",
      "roles": 3,
      "users": 1,
      "groups": 1,
      "policies": 2,
      "unresolved_policies": 1,
      "oidc_providers": 0,
      "access_keys": 0,
      "service_control_policies": 0,
      "errors": 2,
      "skipped": 1
    }}
  ]
}}
"#,
            serde_json::to_string(&out.display().to_string()).expect("a JSON string"),
            serde_json::to_string(&summary["accounts"][0]["failed"]).expect("a JSON string")
        )
    );
    assert!(summary["accounts"][0]["failed"].is_string());
    assert_eq!(summary["accounts"][1]["account_id"], "444455556666");
    assert_eq!(summary["accounts"][1]["roles"], 3);
    assert_eq!(summary["accounts"][1]["errors"], 2);

    let snapshot = Snapshot::open(&out).expect("snapshot written");
    assert_eq!(snapshot.manifest().errors.len(), 1);
    assert!(snapshot.manifest().errors[0].target.contains("not-trusted"));
    assert_eq!(
        snapshot.aws_inventories().expect("read")[0].account_id,
        "444455556666"
    );
    // The session credentials the replayed AssumeRole handed out stay in memory.
    let written = all_text(&out);
    assert!(!written.contains("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"));
    assert!(!written.contains("FwoGZXIvYXdzEXAMPLESESSIONTOKEN"));
    assert!(!stderr.contains("FwoGZXIvYXdzEXAMPLESESSIONTOKEN"));
}

#[test]
fn existing_out_directory_is_a_usage_error_before_any_call() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on this endpoint: the refusal must come first.
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let output = pipeleash(
        &endpoint,
        &[
            "collect",
            "aws",
            "--out",
            out_dir.path().to_str().expect("utf-8 path"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already exists") && stderr.contains("--out"),
        "{stderr}"
    );
}

/// `--profile NAME` that neither AWS config file defines is an input error naming the profile
/// and where it was looked for (exit 2, no snapshot, no call); a defined one goes on. Before,
/// the SDK fell through to a credential-chain error that never named it (exit 3).
#[test]
fn an_undefined_profile_is_named_before_any_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile ci]\nregion = eu-west-1\n").expect("write");
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, "[other]\naws_access_key_id = AKIAEXAMPLE\n").expect("write");
    let out = dir.path().join("snapshot");
    let output = Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(["collect", "aws", "--profile", "nosuch", "--out"])
        .arg(&out)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run pipeleash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("profile `nosuch`"), "{stderr}");
    assert!(stderr.contains("list-profiles"), "{stderr}");
    assert!(!out.exists());
}

/// `--assume-role` takes a role ARN: anything else is an input error naming it (exit 2, no
/// snapshot, no call). Before, it went to STS and came back as a provider failure.
#[test]
fn an_assume_role_that_is_not_a_role_arn_is_named_before_any_call() {
    for bad in [
        "not-an-arn",
        "arn:aws:iam::123:role/ci",
        "arn:aws:iam::123456789012:user/ci",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:role/",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("snapshot");
        let output = Command::new(env!("CARGO_BIN_EXE_pipeleash"))
            .args(["collect", "aws", "--assume-role", bad, "--out"])
            .arg(&out)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run pipeleash");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains(&format!("`--assume-role {bad}` is not a role ARN")),
            "{stderr}"
        );
        assert!(!out.exists());
    }
}
