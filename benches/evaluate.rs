//! Policy evaluation throughput: a realistic CI role (20 identity statements, a permissions
//! boundary, two SCP levels with a conditional deny) deciding a mix of allowed, denied and
//! conditional requests. Run with `cargo bench --bench evaluate`; it prints decisions per
//! second for the fast path (`decide`, verdict only) and the explaining path (`evaluate`,
//! with the statements behind each decision), on one thread and on every core.

use pipeleash::aws::{
    CompiledPolicySet, Context, NamedPolicy, PolicyKind, PolicySet, Request, parse_policy,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROLE: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"S1","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-artifacts","arn:aws:s3:::acme-artifacts/*"]},
 {"Sid":"S2","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::acme-config/*"},
 {"Sid":"S3","Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":"*"},
 {"Sid":"S4","Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"arn:aws:ecr:eu-west-1:111122223333:repository/acme/*"},
 {"Sid":"S5","Effect":"Allow","Action":["lambda:UpdateFunctionCode","lambda:PublishVersion","lambda:UpdateAlias"],"Resource":"arn:aws:lambda:eu-west-1:111122223333:function:acme-*"},
 {"Sid":"S6","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/acme-lambda-*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},
 {"Sid":"S7","Effect":"Allow","Action":["cloudfront:CreateInvalidation"],"Resource":"arn:aws:cloudfront::111122223333:distribution/*"},
 {"Sid":"S8","Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:eu-west-1:111122223333:parameter/acme/ci/*"},
 {"Sid":"S9","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:ViaService":"ssm.*.amazonaws.com"}}},
 {"Sid":"S10","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:111122223333:log-group:/acme/ci/*"},
 {"Sid":"S11","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/terraform-locks"},
 {"Sid":"S12","Effect":"Allow","Action":["ecs:RegisterTaskDefinition","ecs:UpdateService","ecs:DescribeServices"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}},
 {"Sid":"S13","Effect":"Allow","Action":"cloudformation:*","Resource":"arn:aws:cloudformation:eu-west-1:111122223333:stack/acme-*/*"},
 {"Sid":"S14","Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":"*"},
 {"Sid":"S15","Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:acme/ci/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
 {"Sid":"S16","Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"arn:aws:sqs:eu-west-1:111122223333:acme-deploys"},
 {"Sid":"S17","Effect":"Allow","Action":["sns:Publish"],"Resource":"arn:aws:sns:eu-west-1:111122223333:acme-*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}}},
 {"Sid":"S18","Effect":"Allow","Action":["ec2:Describe*"],"Resource":"*"},
 {"Sid":"S19","Effect":"Deny","Action":["s3:DeleteBucket","s3:PutBucketPolicy"],"Resource":"*"},
 {"Sid":"S20","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#;

const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:*","ecr:*","lambda:*","cloudfront:*","ssm:Get*","kms:Decrypt","logs:*","dynamodb:*","ecs:*","cloudformation:*","sts:*","secretsmanager:GetSecretValue","sqs:*","sns:*","ec2:Describe*","iam:PassRole"],"Resource":"*"},
 {"Effect":"Deny","Action":["iam:Create*","iam:Put*","iam:Attach*","organizations:*"],"Resource":"*"}]}"#;

const SCP_ROOT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

const SCP_OU: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"*","Resource":"*"},
 {"Effect":"Deny","NotAction":["iam:*","sts:*","cloudfront:*","organizations:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#;

/// An action, a resource and the request context keys it carries.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// A spread of requests: allowed, implicitly denied, explicitly denied, with conditions met
/// and not met.
fn requests() -> Vec<Request> {
    let cases: &[Case] = &[
        (
            "s3:GetObject",
            "arn:aws:s3:::acme-artifacts/web/1.2.3/app.zip",
            &[],
        ),
        (
            "s3:PutObject",
            "arn:aws:s3:::acme-artifacts/web/1.2.4/app.zip",
            &[],
        ),
        ("s3:GetObject", "arn:aws:s3:::acme-config/prod.env", &[]),
        (
            "s3:DeleteObject",
            "arn:aws:s3:::acme-artifacts/old.zip",
            &[],
        ),
        ("s3:DeleteBucket", "arn:aws:s3:::acme-artifacts", &[]),
        (
            "ecr:PutImage",
            "arn:aws:ecr:eu-west-1:111122223333:repository/acme/web",
            &[],
        ),
        (
            "ecr:PutImage",
            "arn:aws:ecr:eu-west-1:111122223333:repository/other/web",
            &[],
        ),
        (
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:eu-west-1:111122223333:function:acme-api",
            &[],
        ),
        (
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/acme-lambda-exec",
            &[("iam:PassedToService", "lambda.amazonaws.com")],
        ),
        (
            "iam:PassRole",
            "arn:aws:iam::111122223333:role/acme-lambda-exec",
            &[("iam:PassedToService", "ec2.amazonaws.com")],
        ),
        (
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/mallory",
            &[],
        ),
        (
            "ecs:UpdateService",
            "arn:aws:ecs:eu-west-1:111122223333:service/acme/web",
            &[("aws:RequestedRegion", "eu-west-1")],
        ),
        (
            "ecs:UpdateService",
            "arn:aws:ecs:us-east-1:111122223333:service/acme/web",
            &[("aws:RequestedRegion", "us-east-1")],
        ),
        (
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:111122223333:key/1234",
            &[("kms:ViaService", "ssm.eu-west-1.amazonaws.com")],
        ),
        (
            "sns:Publish",
            "arn:aws:sns:eu-west-1:111122223333:acme-alerts",
            &[("aws:SourceIp", "203.0.113.9")],
        ),
        (
            "ec2:DescribeInstances",
            "*",
            &[("aws:RequestedRegion", "eu-west-1")],
        ),
        (
            "dynamodb:PutItem",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/terraform-locks",
            &[],
        ),
        ("organizations:LeaveOrganization", "*", &[]),
    ];
    cases
        .iter()
        .map(|(action, resource, context)| {
            let mut request_context = Context::complete()
                .with("aws:CurrentTime", "2026-11-22T10:00:00Z")
                .with("aws:SecureTransport", "true");
            if !context.iter().any(|(key, _)| *key == "aws:RequestedRegion") {
                request_context.insert("aws:RequestedRegion", "eu-west-1");
            }
            for (key, value) in *context {
                request_context.insert(key, *value);
            }
            Request {
                principal_arn:
                    "arn:aws:sts::111122223333:assumed-role/acme-ci-deploy/GitHubActions".into(),
                principal_account: "111122223333".into(),
                action: (*action).into(),
                resource: (*resource).into(),
                resource_account: None,
                context: request_context,
            }
        })
        .collect()
}

/// Runs `body` over the requests until `budget` has passed; returns decisions per second.
fn measure(budget: Duration, requests: &[Request], body: impl Fn(&Request) -> usize) -> f64 {
    let start = Instant::now();
    let mut decisions = 0u64;
    let mut sink = 0usize;
    while start.elapsed() < budget {
        for request in requests {
            sink = sink.wrapping_add(body(black_box(request)));
        }
        decisions += requests.len() as u64;
    }
    black_box(sink);
    decisions as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let role = parse_policy(ROLE).expect("role policy");
    let boundary = parse_policy(BOUNDARY).expect("boundary");
    let scp_root = parse_policy(SCP_ROOT).expect("root SCP");
    let scp_ou = parse_policy(SCP_OU).expect("OU SCP");
    let policies = PolicySet {
        identity: vec![NamedPolicy::new(
            "acme-ci-deploy",
            PolicyKind::Identity,
            &role,
        )],
        boundary: Some(NamedPolicy::new(
            "ci-boundary",
            PolicyKind::PermissionsBoundary,
            &boundary,
        )),
        scps: vec![
            vec![NamedPolicy::new(
                "FullAWSAccess",
                PolicyKind::ServiceControl,
                &scp_root,
            )],
            vec![NamedPolicy::new(
                "region-lock",
                PolicyKind::ServiceControl,
                &scp_ou,
            )],
        ],
        ..PolicySet::default()
    };
    let compile_start = Instant::now();
    let compile_rounds = 2_000;
    for _ in 0..compile_rounds {
        black_box(CompiledPolicySet::new(black_box(&policies)));
    }
    let compile_micros = compile_start.elapsed().as_secs_f64() * 1e6 / compile_rounds as f64;
    let compiled = CompiledPolicySet::new(&policies);
    let requests = requests();
    let allowed = requests
        .iter()
        .filter(|request| compiled.evaluate(request).is_allowed())
        .count();
    let budget = Duration::from_secs(2);

    let decide = measure(budget, &requests, |request| {
        compiled.decide(request) as usize
    });
    let evaluate = measure(budget, &requests, |request| {
        compiled.evaluate(request).reasons.len()
    });
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let parallel: f64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    measure(budget, &requests, |request| {
                        compiled.decide(request) as usize
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or(0.0))
            .sum()
    });

    println!(
        "policy set: 20 identity statements + boundary (2) + SCP levels (1, 2); {} requests, {allowed} allowed",
        requests.len()
    );
    println!("compile policy set        {compile_micros:>12.1} µs");
    println!(
        "decide   (1 thread)       {:>12.2} M decisions/s",
        decide / 1e6
    );
    println!(
        "evaluate (1 thread)       {:>12.2} M decisions/s (with deciding statements)",
        evaluate / 1e6
    );
    println!(
        "decide   ({threads} threads)      {:>12.2} M decisions/s",
        parallel / 1e6
    );
}
