//! A deterministic generator of realistic CloudTrail sets, for recall tests and benchmarks.
//!
//! Output is the real S3 layout (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`)
//! with a few hundred to a few thousand records per file ([`Layout::Spread`]) or one file per
//! account, region and 5-minute window as a trail delivers them ([`Layout::Delivery`]), plus
//! `ground-truth.json`: for every
//! identity, the allowed actions it really used and the actions it was refused. The ground truth
//! is written from the generator's own scenario tables, never from the ingestion code, so a
//! recall test compares two independent descriptions.
//!
//! Each file is generated from its own RNG seeded by (seed, file index), so files are produced
//! in parallel and the set is byte-identical for a given seed and size.

use flate2::Compression;
use flate2::write::GzEncoder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Total number of records across all files.
    pub events: u64,
    /// The seed; the same seed and size give the same files.
    pub seed: u64,
    /// The first day of the generated period (UTC).
    pub start: chrono::NaiveDate,
    /// How many days the period spans.
    pub days: u32,
    /// Records per file, on average.
    pub events_per_file: u64,
    /// How many accounts the events are spread over (1 to 3).
    pub accounts: usize,
    /// How records are cut into files.
    pub layout: Layout,
}

/// How the generated records are cut into log files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Files of `events_per_file` records, spread evenly over the (account, region, hour)
    /// slots of the period: few large files.
    #[default]
    Spread,
    /// As CloudTrail delivers logs: one file per account, region and 5-minute window of the
    /// period, the events spread evenly over the windows (`events_per_file` is not used).
    /// A million events over 6 days in 3 accounts and 3 regions is 15,552 files of about 64
    /// records. CloudTrail User Guide, "Finding your CloudTrail log files": a trail delivers
    /// log files "on average about every 5 minutes" per account and region
    /// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html>).
    Delivery,
}

impl Layout {
    /// Seconds of events one file covers.
    fn file_seconds(self) -> u64 {
        match self {
            Layout::Spread => 3_600,
            Layout::Delivery => 300,
        }
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            events: 10_000,
            seed: 1,
            start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default(),
            days: 30,
            events_per_file: 1_500,
            accounts: ACCOUNTS.len(),
            layout: Layout::Spread,
        }
    }
}

/// A generation failure (only I/O can fail).
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {source}; check that the output directory is writable")]
pub struct GenerateError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The expected result of ingesting a generated set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroundTruth {
    pub version: u32,
    pub seed: u64,
    pub events: u64,
    pub files: u64,
    /// Identity ARN → allowed actions used (inferred ones included).
    pub allowed: BTreeMap<String, BTreeSet<String>>,
    /// Identity ARN → actions refused.
    pub denied: BTreeMap<String, BTreeSet<String>>,
    /// Identity ARN → the CI subjects that used it.
    pub subjects: BTreeMap<String, BTreeSet<String>>,
}

/// File name of the ground truth inside the output directory.
/// Reading the set's folder skips it (`aws::cloudtrail::walk`).
pub const GROUND_TRUTH_FILE: &str = "ground-truth.json";

const ACCOUNTS: [&str; 3] = ["210987654321", "345678901234", "456789012345"];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const ISSUER: &str = "token.actions.githubusercontent.com";

/// One kind of call a CI identity makes: the event as CloudTrail logs it and the actions it
/// needs, written out by hand.
struct Call {
    source: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
    shape: Shape,
    weight: u32,
}

/// How the request of a call looks (which resources it names).
#[derive(Clone, Copy)]
enum Shape {
    None,
    S3Object {
        bucket: &'static str,
    },
    S3Bucket {
        bucket: &'static str,
    },
    S3Copy {
        from: &'static str,
        to: &'static str,
    },
    Function,
    FunctionWithRole,
    TaskDefinition,
    ChangeSet,
    Repository,
    Table,
    KmsViaS3,
    Parameter,
}

struct Profile {
    role: &'static str,
    repos: &'static [&'static str],
    calls: &'static [Call],
    /// Calls this role tries and is refused.
    denied: &'static [Call],
}

macro_rules! call {
    ($source:literal, $name:literal, [$($action:literal),*], $shape:expr, $weight:literal) => {
        Call { source: $source, name: $name, actions: &[$($action),*], shape: $shape, weight: $weight }
    };
}

const PROFILES: &[Profile] = &[
    Profile {
        role: "gha-deploy-web",
        repos: &["acme/web", "acme/docs"],
        calls: &[
            call!(
                "s3.amazonaws.com",
                "PutObject",
                ["s3:PutObject"],
                Shape::S3Object {
                    bucket: "web-assets"
                },
                30
            ),
            call!(
                "s3.amazonaws.com",
                "HeadObject",
                ["s3:GetObject"],
                Shape::S3Object {
                    bucket: "web-assets"
                },
                10
            ),
            call!(
                "s3.amazonaws.com",
                "ListObjectsV2",
                ["s3:ListBucket"],
                Shape::S3Bucket {
                    bucket: "web-assets"
                },
                6
            ),
            call!(
                "s3.amazonaws.com",
                "DeleteObjects",
                ["s3:DeleteObject"],
                Shape::S3Bucket {
                    bucket: "web-assets"
                },
                2
            ),
            call!(
                "s3.amazonaws.com",
                "CreateMultipartUpload",
                ["s3:PutObject"],
                Shape::S3Object {
                    bucket: "web-assets"
                },
                2
            ),
            call!(
                "s3.amazonaws.com",
                "UploadPart",
                ["s3:PutObject"],
                Shape::S3Object {
                    bucket: "web-assets"
                },
                6
            ),
            call!(
                "s3.amazonaws.com",
                "CompleteMultipartUpload",
                ["s3:PutObject"],
                Shape::S3Object {
                    bucket: "web-assets"
                },
                2
            ),
            call!(
                "cloudfront.amazonaws.com",
                "CreateInvalidation2020_05_31",
                ["cloudfront:CreateInvalidation"],
                Shape::None,
                2
            ),
            call!(
                "cloudfront.amazonaws.com",
                "GetInvalidation2020_05_31",
                ["cloudfront:GetInvalidation"],
                Shape::None,
                2
            ),
        ],
        denied: &[call!(
            "cloudfront.amazonaws.com",
            "UpdateDistribution2020_05_31",
            ["cloudfront:UpdateDistribution"],
            Shape::None,
            1
        )],
    },
    Profile {
        role: "gha-release-api",
        repos: &["acme/api", "acme/worker"],
        calls: &[
            call!(
                "ecr.amazonaws.com",
                "GetAuthorizationToken",
                ["ecr:GetAuthorizationToken"],
                Shape::None,
                4
            ),
            call!(
                "ecr.amazonaws.com",
                "BatchCheckLayerAvailability",
                ["ecr:BatchCheckLayerAvailability"],
                Shape::Repository,
                8
            ),
            call!(
                "ecr.amazonaws.com",
                "InitiateLayerUpload",
                ["ecr:InitiateLayerUpload"],
                Shape::Repository,
                6
            ),
            call!(
                "ecr.amazonaws.com",
                "UploadLayerPart",
                ["ecr:UploadLayerPart"],
                Shape::Repository,
                12
            ),
            call!(
                "ecr.amazonaws.com",
                "CompleteLayerUpload",
                ["ecr:CompleteLayerUpload"],
                Shape::Repository,
                6
            ),
            call!(
                "ecr.amazonaws.com",
                "PutImage",
                ["ecr:PutImage"],
                Shape::Repository,
                3
            ),
            call!(
                "ecs.amazonaws.com",
                "RegisterTaskDefinition",
                ["ecs:RegisterTaskDefinition", "iam:PassRole"],
                Shape::TaskDefinition,
                2
            ),
            call!(
                "ecs.amazonaws.com",
                "UpdateService",
                ["ecs:UpdateService"],
                Shape::None,
                2
            ),
            call!(
                "ecs.amazonaws.com",
                "DescribeServices",
                ["ecs:DescribeServices"],
                Shape::None,
                6
            ),
        ],
        denied: &[call!(
            "ecs.amazonaws.com",
            "DeleteService",
            ["ecs:DeleteService"],
            Shape::None,
            1
        )],
    },
    Profile {
        role: "gha-terraform",
        repos: &["acme/infra"],
        calls: &[
            call!(
                "s3.amazonaws.com",
                "GetObject",
                ["s3:GetObject"],
                Shape::S3Object { bucket: "tf-state" },
                6
            ),
            call!(
                "s3.amazonaws.com",
                "PutObject",
                ["s3:PutObject"],
                Shape::S3Object { bucket: "tf-state" },
                2
            ),
            call!(
                "kms.amazonaws.com",
                "Decrypt",
                ["kms:Decrypt"],
                Shape::KmsViaS3,
                6
            ),
            call!(
                "dynamodb.amazonaws.com",
                "GetItem",
                ["dynamodb:GetItem"],
                Shape::Table,
                3
            ),
            call!(
                "dynamodb.amazonaws.com",
                "PutItem",
                ["dynamodb:PutItem"],
                Shape::Table,
                3
            ),
            call!(
                "dynamodb.amazonaws.com",
                "DeleteItem",
                ["dynamodb:DeleteItem"],
                Shape::Table,
                3
            ),
            call!(
                "iam.amazonaws.com",
                "GetRole",
                ["iam:GetRole"],
                Shape::None,
                6
            ),
            call!(
                "iam.amazonaws.com",
                "ListAttachedRolePolicies",
                ["iam:ListAttachedRolePolicies"],
                Shape::None,
                4
            ),
            call!(
                "ec2.amazonaws.com",
                "DescribeVpcs",
                ["ec2:DescribeVpcs"],
                Shape::None,
                4
            ),
            call!(
                "ec2.amazonaws.com",
                "DescribeSubnets",
                ["ec2:DescribeSubnets"],
                Shape::None,
                4
            ),
            call!(
                "ec2.amazonaws.com",
                "DescribeSecurityGroups",
                ["ec2:DescribeSecurityGroups"],
                Shape::None,
                4
            ),
            call!(
                "lambda.amazonaws.com",
                "GetFunction20150331v2",
                ["lambda:GetFunction"],
                Shape::Function,
                3
            ),
            call!(
                "lambda.amazonaws.com",
                "UpdateFunctionConfiguration20150331v2",
                ["lambda:UpdateFunctionConfiguration", "iam:PassRole"],
                Shape::FunctionWithRole,
                1
            ),
            call!(
                "monitoring.amazonaws.com",
                "DescribeAlarms",
                ["cloudwatch:DescribeAlarms"],
                Shape::None,
                2
            ),
            call!(
                "logs.amazonaws.com",
                "DescribeLogGroups",
                ["logs:DescribeLogGroups"],
                Shape::None,
                2
            ),
        ],
        denied: &[call!(
            "iam.amazonaws.com",
            "CreateRole",
            ["iam:CreateRole"],
            Shape::None,
            1
        )],
    },
    Profile {
        role: "gha-lambda-deploy",
        repos: &["acme/functions"],
        calls: &[
            call!(
                "s3.amazonaws.com",
                "PutObject",
                ["s3:PutObject"],
                Shape::S3Object {
                    bucket: "lambda-artifacts"
                },
                6
            ),
            call!(
                "s3.amazonaws.com",
                "CopyObject",
                ["s3:PutObject", "s3:GetObject"],
                Shape::S3Copy {
                    from: "lambda-artifacts",
                    to: "lambda-releases"
                },
                3
            ),
            call!(
                "lambda.amazonaws.com",
                "UpdateFunctionCode20150331v2",
                ["lambda:UpdateFunctionCode"],
                Shape::Function,
                4
            ),
            call!(
                "lambda.amazonaws.com",
                "PublishVersion20150331",
                ["lambda:PublishVersion"],
                Shape::Function,
                2
            ),
            call!(
                "lambda.amazonaws.com",
                "UpdateAlias20150331",
                ["lambda:UpdateAlias"],
                Shape::Function,
                2
            ),
            call!(
                "cloudformation.amazonaws.com",
                "CreateChangeSet",
                ["cloudformation:CreateChangeSet", "iam:PassRole"],
                Shape::ChangeSet,
                1
            ),
            call!(
                "cloudformation.amazonaws.com",
                "DescribeStacks",
                ["cloudformation:DescribeStacks"],
                Shape::None,
                4
            ),
            call!(
                "cloudformation.amazonaws.com",
                "ExecuteChangeSet",
                ["cloudformation:ExecuteChangeSet"],
                Shape::None,
                1
            ),
        ],
        denied: &[call!(
            "ssm.amazonaws.com",
            "GetParameter",
            ["ssm:GetParameter"],
            Shape::Parameter,
            1
        )],
    },
];

/// A long-lived IAM user still used by an old pipeline, in the first account.
const LEGACY_USER: &str = "ci-legacy";
const LEGACY_CALLS: &[Call] = &[
    call!(
        "s3.amazonaws.com",
        "ListBuckets",
        ["s3:ListAllMyBuckets"],
        Shape::None,
        2
    ),
    call!(
        "s3.amazonaws.com",
        "GetBucketLocation",
        ["s3:GetBucketLocation"],
        Shape::S3Bucket { bucket: "reports" },
        2
    ),
    call!(
        "email.amazonaws.com",
        "SendEmail",
        ["ses:SendEmail"],
        Shape::None,
        1
    ),
];

/// The number of accounts to spread events over, within what the generator knows.
fn account_count(options: &GenerateOptions) -> usize {
    options.accounts.clamp(1, ACCOUNTS.len())
}

/// Writes a generated set under `out` and returns its ground truth (also written to
/// `out/ground-truth.json`).
pub fn generate(out: &Path, options: &GenerateOptions) -> Result<GroundTruth, GenerateError> {
    let per_day = 86_400 / options.layout.file_seconds();
    let slots = account_count(options) as u64
        * REGIONS.len() as u64
        * u64::from(options.days.max(1))
        * per_day;
    // (number of files, records of file `index`)
    let (files, per_file) = match options.layout {
        Layout::Spread => (
            options
                .events
                .div_ceil(options.events_per_file.max(1))
                .max(1),
            options.events_per_file.max(1),
        ),
        Layout::Delivery => (slots.min(options.events).max(1), 0),
    };
    let truths = (0..files)
        .into_par_iter()
        .map(|index| {
            let events = match options.layout {
                Layout::Spread if index + 1 == files => options.events - per_file * (files - 1),
                Layout::Spread => per_file,
                Layout::Delivery => {
                    let share = |index: u64| {
                        (u128::from(options.events) * u128::from(index) / u128::from(files)) as u64
                    };
                    share(index + 1) - share(index)
                }
            };
            // Spread files evenly over (day, window, account, region) slots.
            let slot = index * slots / files;
            write_file(out, options, index, slot, events)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut truth = GroundTruth {
        version: 1,
        seed: options.seed,
        events: options.events,
        files,
        ..GroundTruth::default()
    };
    for part in truths {
        for (identity, actions) in part.allowed {
            truth.allowed.entry(identity).or_default().extend(actions);
        }
        for (identity, actions) in part.denied {
            truth.denied.entry(identity).or_default().extend(actions);
        }
        for (identity, subjects) in part.subjects {
            truth.subjects.entry(identity).or_default().extend(subjects);
        }
    }
    let path = out.join(GROUND_TRUTH_FILE);
    let text = serde_json::to_vec_pretty(&truth).map_err(|error| GenerateError {
        path: path.clone(),
        source: std::io::Error::other(error),
    })?;
    std::fs::write(&path, text).map_err(|source| GenerateError { path, source })?;
    Ok(truth)
}

fn write_file(
    out: &Path,
    options: &GenerateOptions,
    index: u64,
    slot: u64,
    events: u64,
) -> Result<GroundTruth, GenerateError> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(options.seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let file_seconds = options.layout.file_seconds();
    let per_day = 86_400 / file_seconds;
    let window = slot % per_day;
    let rest = slot / per_day;
    let region = REGIONS[(rest % REGIONS.len() as u64) as usize];
    let rest = rest / REGIONS.len() as u64;
    let accounts = account_count(options) as u64;
    let account_index = (rest % accounts) as usize;
    let account = ACCOUNTS[account_index];
    let day = options.start + chrono::Days::new(rest / accounts);
    let base = day
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp()
        + (window * file_seconds) as i64;

    let mut writer = FileWriter {
        rng: &mut rng,
        account,
        region,
        truth: GroundTruth::default(),
        records: Vec::with_capacity(events as usize),
    };
    let mut remaining = events;
    while remaining > 0 {
        // Runs start in the first eleven twelfths of the file's period.
        let start = base + writer.rng.random_range(0..(file_seconds * 11 / 12) as i64);
        let kind = writer.rng.random_range(0..100u32);
        let produced = if kind < 3 && remaining >= 2 {
            writer.service_noise(start)
        } else if kind < 6 && account_index == 0 {
            writer.legacy_user(start, remaining.min(20))
        } else {
            let profile = &PROFILES[writer.rng.random_range(0..PROFILES.len())];
            writer.ci_run(profile, start, remaining)
        };
        remaining = remaining.saturating_sub(produced);
    }
    // Sort by time as CloudTrail roughly does; keeps files realistic for readers.
    writer.records.sort_by_key(|record| record.0);
    let truth = std::mem::take(&mut writer.truth);
    let records = std::mem::take(&mut writer.records);

    let date = day.format("%Y/%m/%d").to_string();
    let dir = out.join(format!("AWSLogs/{account}/CloudTrail/{region}/{date}"));
    let stamp = chrono::DateTime::from_timestamp(base, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%MZ");
    let name = format!(
        "{account}_CloudTrail_{region}_{stamp}_{index:08x}{:08x}.json.gz",
        rng.random::<u32>()
    );
    let path = dir.join(name);
    let io = |source| GenerateError {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let file = std::fs::File::create(&path).map_err(io)?;
    let mut encoder = GzEncoder::new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        Compression::default(),
    );
    encoder.write_all(b"{\"Records\":[").map_err(io)?;
    for (position, (_, record)) in records.iter().enumerate() {
        if position > 0 {
            encoder.write_all(b",").map_err(io)?;
        }
        encoder.write_all(record).map_err(io)?;
    }
    encoder.write_all(b"]}").map_err(io)?;
    encoder
        .finish()
        .and_then(|mut inner| inner.flush())
        .map_err(io)?;
    Ok(truth)
}

struct FileWriter<'r> {
    rng: &'r mut ChaCha8Rng,
    account: &'static str,
    region: &'static str,
    truth: GroundTruth,
    /// (time, serialized record)
    records: Vec<(i64, Vec<u8>)>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutRecord<'a> {
    event_version: &'a str,
    user_identity: Value,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    request_parameters: Value,
    response_elements: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<Value>,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(rename = "eventID")]
    event_id: String,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Value>,
    event_type: &'a str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_details: Option<Value>,
}

impl FileWriter<'_> {
    fn uuid(&mut self) -> String {
        let bits: u128 = self.rng.random();
        let hex = format!("{bits:032x}");
        format!(
            "{}-{}-4{}-8{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }

    fn access_key(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut key = String::from("ASIA");
        for _ in 0..16 {
            key.push(ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char);
        }
        key
    }

    fn push(&mut self, time: i64, record: &OutRecord<'_>) {
        // Serializing our own structs cannot fail; an empty record would still be valid JSON
        // in the array, so fall back to `{}` rather than aborting the set.
        let bytes = serde_json::to_vec(record).unwrap_or_else(|_| b"{}".to_vec());
        self.records.push((time, bytes));
    }

    fn time(seconds: i64) -> String {
        chrono::DateTime::from_timestamp(seconds, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    fn tls(source: &str) -> Option<Value> {
        Some(json!({
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": source,
        }))
    }

    /// A GitHub Actions job: `AssumeRoleWithWebIdentity`, then calls signed with the key it
    /// issued. Returns the number of records written.
    fn ci_run(&mut self, profile: &Profile, start: i64, budget: u64) -> u64 {
        let account = self.account;
        let region = self.region;
        let role_arn = format!("arn:aws:iam::{account}:role/{}", profile.role);
        let repo = profile.repos[self.rng.random_range(0..profile.repos.len())];
        let subject = match self.rng.random_range(0..10u32) {
            0..=5 => format!("repo:{repo}:ref:refs/heads/main"),
            6..=8 => format!("repo:{repo}:environment:production"),
            _ => format!(
                "repo:{repo}:ref:refs/tags/v{}.{}.0",
                self.rng.random_range(1..4u32),
                self.rng.random_range(0..20u32)
            ),
        };
        let key = self.access_key();
        let provider = format!("arn:aws:iam::{account}:oidc-provider/{ISSUER}");
        let session = "GitHubActions";
        let role_id = format!("AROA{}", &self.access_key()[4..]);
        let record = OutRecord {
            event_version: "1.08",
            user_identity: json!({
                "type": "WebIdentityUser",
                "principalId": format!("{provider}:sts.amazonaws.com:{subject}"),
                "userName": subject,
                "identityProvider": provider,
            }),
            event_time: Self::time(start),
            event_source: "sts.amazonaws.com",
            event_name: "AssumeRoleWithWebIdentity",
            aws_region: region,
            source_ip_address: "4.148.0.17",
            user_agent: "aws-sdk-nodejs/2.1692.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise",
            error_code: None,
            error_message: None,
            request_parameters: json!({"roleArn": role_arn, "roleSessionName": session, "durationSeconds": 3600}),
            response_elements: json!({
                "credentials": {"accessKeyId": key, "sessionToken": "IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQ", "expiration": "1 hour"},
                "subjectFromWebIdentityToken": subject,
                "assumedRoleUser": {"assumedRoleId": format!("{role_id}:{session}"), "arn": format!("arn:aws:sts::{account}:assumed-role/{}/{session}", profile.role)},
                "provider": provider,
                "audience": "sts.amazonaws.com",
            }),
            additional_event_data: Some(
                json!({"identityProviderConnectionVerificationMethod": "IAMTrustStore"}),
            ),
            request_id: self.uuid(),
            event_id: self.uuid(),
            read_only: true,
            resources: vec![
                json!({"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}),
            ],
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: account,
            event_category: "Management",
            tls_details: Self::tls("sts.amazonaws.com"),
        };
        self.push(start, &record);
        self.truth
            .subjects
            .entry(role_arn.clone())
            .or_default()
            .insert(subject);

        let identity = json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{}/{session}", profile.role),
            "accountId": account,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn, "accountId": account, "userName": profile.role},
                "webIdFederationData": {"federatedProvider": provider, "attributes": {}},
                "attributes": {"creationDate": Self::time(start), "mfaAuthenticated": "false"},
            },
        });
        let length = budget.min(self.rng.random_range(10..200u64)).max(1);
        let total_weight: u32 = profile.calls.iter().map(|call| call.weight).sum();
        let mut time = start;
        for position in 1..length {
            time += self.rng.random_range(0..4i64);
            if position == 1 {
                self.no_action_call(&identity, time);
                continue;
            }
            let denied = self.rng.random_range(0..50u32) == 0;
            let call = if denied {
                &profile.denied[self.rng.random_range(0..profile.denied.len())]
            } else {
                let mut pick = self.rng.random_range(0..total_weight);
                let mut chosen = &profile.calls[0];
                for call in profile.calls {
                    if pick < call.weight {
                        chosen = call;
                        break;
                    }
                    pick -= call.weight;
                }
                chosen
            };
            self.call(
                &identity,
                &role_arn,
                call,
                time,
                denied,
                "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5",
            );
        }
        length
    }

    fn legacy_user(&mut self, start: i64, budget: u64) -> u64 {
        let account = self.account;
        let user_arn = format!("arn:aws:iam::{account}:user/{LEGACY_USER}");
        let identity = json!({
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLELEGACY0001",
            "arn": user_arn,
            "accountId": account,
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": LEGACY_USER,
        });
        let length = budget.min(self.rng.random_range(1..20u64)).max(1);
        let total_weight: u32 = LEGACY_CALLS.iter().map(|call| call.weight).sum();
        for position in 0..length {
            let mut pick = self.rng.random_range(0..total_weight);
            let mut chosen = &LEGACY_CALLS[0];
            for call in LEGACY_CALLS {
                if pick < call.weight {
                    chosen = call;
                    break;
                }
                pick -= call.weight;
            }
            self.call(
                &identity,
                &user_arn,
                chosen,
                start + position as i64,
                false,
                "aws-cli/1.18.69 Python/3.6.9",
            );
        }
        length
    }

    fn no_action_call(&mut self, identity: &Value, time: i64) {
        let record = OutRecord {
            event_version: "1.08",
            user_identity: identity.clone(),
            event_time: Self::time(time),
            event_source: "sts.amazonaws.com",
            event_name: "GetCallerIdentity",
            aws_region: self.region,
            source_ip_address: "4.148.0.17",
            user_agent: "aws-cli/2.17.20 md/command#sts.get-caller-identity",
            error_code: None,
            error_message: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            additional_event_data: None,
            request_id: self.uuid(),
            event_id: self.uuid(),
            read_only: true,
            resources: Vec::new(),
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: self.account,
            event_category: "Management",
            tls_details: Self::tls("sts.amazonaws.com"),
        };
        self.push(time, &record);
    }

    fn call(
        &mut self,
        identity: &Value,
        identity_arn: &str,
        call: &Call,
        time: i64,
        denied: bool,
        agent: &str,
    ) {
        let account = self.account;
        let region = self.region;
        let mut identity = identity.clone();
        let mut resources = Vec::new();
        let mut additional = None;
        let mut data_event = false;
        let mut source_ip = "4.148.0.17";
        let mut user_agent = agent.to_owned();
        let object = |rng: &mut ChaCha8Rng| {
            format!(
                "builds/{:03}/app-{}.tar.gz",
                rng.random_range(0..120u32),
                rng.random_range(0..8u32)
            )
        };
        let request = match call.shape {
            Shape::None => json!({}),
            Shape::S3Object { bucket } => {
                let bucket = format!("{bucket}-{account}");
                let key = object(self.rng);
                data_event = true;
                resources.push(json!({"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")}));
                resources.push(json!({"accountId": account, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}));
                additional = Some(
                    json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": self.rng.random_range(0..5_000_000u32), "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "Jk1zR0F3eXpFcE9CZ2ZVa2l5bXpGaFZsN3c9PQ==", "bytesTransferredOut": 0}),
                );
                json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key})
            }
            Shape::S3Bucket { bucket } => {
                let bucket = format!("{bucket}-{account}");
                data_event = call.name != "GetBucketLocation";
                resources.push(json!({"accountId": account, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}));
                json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "list-type": "2", "prefix": "builds/"})
            }
            Shape::S3Copy { from, to } => {
                let (from, to) = (format!("{from}-{account}"), format!("{to}-{account}"));
                let key = object(self.rng);
                data_event = true;
                resources.push(
                    json!({"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{to}/{key}")}),
                );
                resources.push(json!({"accountId": account, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{to}")}));
                json!({"bucketName": to, "Host": format!("{to}.s3.{region}.amazonaws.com"), "key": key, "x-amz-copy-source": format!("{from}/{key}")})
            }
            Shape::Function => {
                json!({"functionName": format!("app-{}", self.rng.random_range(0..6u32))})
            }
            Shape::FunctionWithRole => json!({
                "functionName": format!("app-{}", self.rng.random_range(0..6u32)),
                "role": format!("arn:aws:iam::{account}:role/app-lambda-exec"),
                "timeout": 30
            }),
            Shape::TaskDefinition => json!({
                "family": "api",
                "taskRoleArn": format!("arn:aws:iam::{account}:role/api-task"),
                "executionRoleArn": format!("arn:aws:iam::{account}:role/ecsTaskExecutionRole"),
                "networkMode": "awsvpc",
                "containerDefinitions": [{"name": "api", "image": format!("{account}.dkr.ecr.{region}.amazonaws.com/api:latest"), "essential": true}],
                "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024"
            }),
            Shape::ChangeSet => json!({
                "stackName": "functions",
                "changeSetName": format!("deploy-{}", self.rng.random_range(0..100_000u32)),
                "roleARN": format!("arn:aws:iam::{account}:role/cfn-deployer"),
                "capabilities": ["CAPABILITY_IAM"]
            }),
            Shape::Repository => json!({"repositoryName": "api", "registryId": account}),
            Shape::Table => {
                json!({"tableName": "tf-locks", "key": {"LockID": {"S": "acme/infra"}}})
            }
            Shape::Parameter => json!({"name": "/prod/db/password", "withDecryption": true}),
            Shape::KmsViaS3 => {
                if let Some(object) = identity.as_object_mut() {
                    object.insert("invokedBy".into(), json!("s3.amazonaws.com"));
                }
                source_ip = "s3.amazonaws.com";
                user_agent = "s3.amazonaws.com".into();
                let key_arn = format!(
                    "arn:aws:kms:{region}:{account}:key/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
                );
                resources
                    .push(json!({"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}));
                json!({"encryptionContext": {"aws:s3:arn": format!("arn:aws:s3:::tf-state-{account}/env/prod.tfstate")}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
            }
        };
        let (error_code, error_message) = if denied {
            let code = if call.source == "s3.amazonaws.com" {
                "AccessDenied"
            } else {
                "AccessDeniedException"
            };
            (
                Some(code),
                Some(format!(
                    "User: {identity_arn} is not authorized to perform: {} because no identity-based policy allows it",
                    call.actions[0]
                )),
            )
        } else {
            (None, None)
        };
        let response = if denied {
            Value::Null
        } else {
            json!({"requestId": self.uuid()})
        };
        let record = OutRecord {
            event_version: if data_event { "1.10" } else { "1.09" },
            user_identity: identity,
            event_time: Self::time(time),
            event_source: call.source,
            event_name: call.name,
            aws_region: region,
            source_ip_address: source_ip,
            user_agent: &user_agent,
            error_code,
            error_message,
            request_parameters: request,
            response_elements: response,
            additional_event_data: additional,
            request_id: self.uuid(),
            event_id: self.uuid(),
            read_only: call.name.starts_with("Get")
                || call.name.starts_with("Describe")
                || call.name.starts_with("List")
                || call.name.starts_with("Head"),
            resources,
            event_type: "AwsApiCall",
            management_event: !data_event,
            recipient_account_id: account,
            event_category: if data_event { "Data" } else { "Management" },
            tls_details: Self::tls(call.source),
        };
        self.push(time, &record);
        let target = if denied {
            &mut self.truth.denied
        } else {
            &mut self.truth.allowed
        };
        let actions = target.entry(identity_arn.to_owned()).or_default();
        for action in call.actions {
            actions.insert((*action).to_owned());
        }
    }

    /// Events no identity of the account is charged for: AWS services assuming roles, and
    /// AWS acting on its own.
    fn service_noise(&mut self, time: i64) -> u64 {
        let account = self.account;
        let region = self.region;
        let service_call = OutRecord {
            event_version: "1.08",
            user_identity: json!({"type": "AWSService", "invokedBy": "ecs-tasks.amazonaws.com"}),
            event_time: Self::time(time),
            event_source: "sts.amazonaws.com",
            event_name: "AssumeRole",
            aws_region: region,
            source_ip_address: "ecs-tasks.amazonaws.com",
            user_agent: "ecs-tasks.amazonaws.com",
            error_code: None,
            error_message: None,
            request_parameters: json!({"roleArn": format!("arn:aws:iam::{account}:role/api-task"), "roleSessionName": self.uuid()}),
            response_elements: json!({"credentials": {"accessKeyId": self.access_key(), "sessionToken": "IQoJb3JpZ2luX2Vj", "expiration": "6 hours"}}),
            additional_event_data: None,
            request_id: self.uuid(),
            event_id: self.uuid(),
            read_only: true,
            resources: vec![
                json!({"accountId": account, "type": "AWS::IAM::Role", "ARN": format!("arn:aws:iam::{account}:role/api-task")}),
            ],
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: account,
            event_category: "Management",
            tls_details: None,
        };
        self.push(time, &service_call);
        let service_event = OutRecord {
            event_version: "1.08",
            user_identity: json!({"accountId": account, "invokedBy": "kms.amazonaws.com"}),
            event_time: Self::time(time + 1),
            event_source: "kms.amazonaws.com",
            event_name: "RotateKey",
            aws_region: region,
            source_ip_address: "kms.amazonaws.com",
            user_agent: "kms.amazonaws.com",
            error_code: None,
            error_message: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            additional_event_data: Some(json!({"keyMaterialId": self.uuid()})),
            request_id: self.uuid(),
            event_id: self.uuid(),
            read_only: false,
            resources: vec![
                json!({"accountId": account, "type": "AWS::KMS::Key", "ARN": format!("arn:aws:kms:{region}:{account}:key/{}", self.uuid())}),
            ],
            event_type: "AwsServiceEvent",
            management_event: true,
            recipient_account_id: account,
            event_category: "Management",
            tls_details: None,
        };
        self.push(time + 1, &service_event);
        2
    }
}
