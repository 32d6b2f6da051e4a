//! The analysis of a large organisation: 10,000 CI roles in 20 accounts, each with an inline
//! deploy policy and customer-managed policies from a per-account pool, 1% holding
//! `AdministratorAccess` and 2% a power-user grant, and 90 days of usage on nine roles in ten.
//! It times normalizing the raw inventories and `audit` (granted, used, unused and a proven
//! minimized policy for every identity), and prints the peak memory and how many decisions the
//! report holds (one per action with evidence of its own, one per group of unused actions
//! granted by the same statements). Run with `cargo bench --bench audit`;
//! `SCOPED_ONLY=1` leaves the administrator and power-user roles out.

use chrono::{DateTime, Duration, Utc};
use pipeleash::aws::audit::audit;
use pipeleash::aws::cloudtrail::{CloudTrailUsage, TimeWindow, workload_of_host};
use pipeleash::aws::inventory::{
    AttachedPolicy, AwsAccountInventory, AwsManagedPolicy, AwsRole, InlinePolicy, PolicyVersion,
};
use pipeleash::aws::minimize::MinimizeOptions;
use pipeleash::aws::normalize::normalize;
use pipeleash::catalog::Catalog;
use pipeleash::model::ObservationWindow;
use pipeleash::model::{Coverage, Provider, Usage, UsageKey, UsageRecord};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Instant;

const ACCOUNTS: usize = 20;
const ROLES_PER_ACCOUNT: usize = 500;
const MANAGED_PER_ACCOUNT: usize = 30;
const GITHUB: &str = "token.actions.githubusercontent.com";

/// Services a managed policy of the pool draws from: (action, resource pattern).
const POOL: &[(&str, &str)] = &[
    (
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:{account}:table/app-*",
    ),
    (
        "dynamodb:PutItem",
        "arn:aws:dynamodb:eu-west-1:{account}:table/app-*",
    ),
    (
        "ecr:PutImage",
        "arn:aws:ecr:eu-west-1:{account}:repository/*",
    ),
    ("ecr:GetAuthorizationToken", "*"),
    ("ecs:UpdateService", "*"),
    ("logs:PutLogEvents", "*"),
    (
        "ssm:GetParameter",
        "arn:aws:ssm:eu-west-1:{account}:parameter/ci/*",
    ),
    ("kms:Decrypt", "*"),
    ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:{account}:*"),
    ("cloudfront:CreateInvalidation", "*"),
    ("ec2:Describe*", "*"),
    ("cloudformation:*", "*"),
];

/// A small deterministic generator (xorshift), so every run builds the same organisation.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

fn document(statements: Vec<serde_json::Value>) -> String {
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

fn managed(arn: String, name: &str, aws_managed: bool, document: String) -> AwsManagedPolicy {
    AwsManagedPolicy {
        arn,
        name: name.to_owned(),
        policy_id: None,
        path: "/".into(),
        aws_managed,
        default_version_id: Some("v1".into()),
        attachment_count: 1,
        permissions_boundary_usage_count: 0,
        versions: vec![PolicyVersion {
            version_id: "v1".into(),
            is_default: true,
            create_date: None,
            document,
        }],
    }
}

fn trust(account: &str, repository: usize) -> String {
    document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Federated": format!("arn:aws:iam::{account}:oidc-provider/{GITHUB}") },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": { format!("{GITHUB}:aud"): "sts.amazonaws.com" },
            "StringLike": { format!("{GITHUB}:sub"): format!("repo:acme/app-{repository}:ref:refs/heads/main") }
        }
    })])
}

/// A role's ARN and the (action, resource) pairs it is seen using.
type RoleUse = (String, Vec<(String, String)>);

/// The organisation, and for each role the (action, resource) pairs it will be seen using.
fn organisation() -> (Vec<AwsAccountInventory>, Vec<RoleUse>) {
    let mut rng = Rng(0x5eed);
    let mut inventories = Vec::new();
    let mut used = Vec::new();
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let power = "arn:aws:iam::aws:policy/PowerUserAccess";
    for account_index in 0..ACCOUNTS {
        let account = format!("{:012}", 100_000_000_000u64 + account_index as u64);
        let mut inventory = AwsAccountInventory::new(
            account.clone(),
            "aws".into(),
            "bench".into(),
            "2026-11-25T00:00:00Z".into(),
        );
        inventory.policies.push(managed(
            admin.into(),
            "AdministratorAccess",
            true,
            document(vec![
                json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            ]),
        ));
        inventory.policies.push(managed(
            power.into(),
            "PowerUserAccess",
            true,
            document(vec![
                json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}),
                json!({"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:ListRoles"], "Resource": "*"}),
            ]),
        ));
        let mut pool = Vec::new();
        for index in 0..MANAGED_PER_ACCOUNT {
            let statements: Vec<(String, String)> = (0..1 + rng.below(3))
                .map(|_| {
                    let (action, resource) = POOL[rng.below(POOL.len())];
                    (action.to_owned(), resource.replace("{account}", &account))
                })
                .collect();
            let arn = format!("arn:aws:iam::{account}:policy/ci/shared-{index}");
            inventory.policies.push(managed(
                arn.clone(),
                &format!("shared-{index}"),
                false,
                document(
                    statements
                        .iter()
                        .map(|(action, resource)| {
                            json!({"Effect": "Allow", "Action": action, "Resource": resource})
                        })
                        .collect(),
                ),
            ));
            pool.push((arn, statements));
        }
        for role_index in 0..ROLES_PER_ACCOUNT {
            let name = format!("deploy-{role_index}");
            let arn = format!("arn:aws:iam::{account}:role/ci/{name}");
            let bucket = format!("artifacts-{account_index}-{role_index}");
            let function = format!("arn:aws:lambda:eu-west-1:{account}:function:app-{role_index}");
            let inline = document(vec![
                json!({"Effect": "Allow",
                       "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                       "Resource": format!("arn:aws:s3:::{bucket}/*")}),
                json!({"Effect": "Allow", "Action": "s3:ListBucket",
                       "Resource": format!("arn:aws:s3:::{bucket}")}),
                json!({"Effect": "Allow",
                       "Action": ["lambda:UpdateFunctionCode", "lambda:GetFunction", "lambda:PublishVersion"],
                       "Resource": function}),
            ]);
            let mut attached = Vec::new();
            let mut seen: Vec<(String, String)> = Vec::new();
            for _ in 0..2 {
                let (policy, statements) = &pool[rng.below(pool.len())];
                attached.push(AttachedPolicy {
                    arn: policy.clone(),
                    name: policy.rsplit('/').next().unwrap_or_default().to_owned(),
                });
                let (action, resource) = &statements[0];
                if !action.ends_with('*') && !resource.contains('*') {
                    seen.push((action.clone(), resource.clone()));
                } else if !action.ends_with('*') {
                    seen.push((action.clone(), "*".into()));
                }
            }
            // `SCOPED_ONLY=1` leaves the administrator and power-user roles out.
            let dice = match std::env::var_os("SCOPED_ONLY") {
                Some(_) => rng.below(100).max(50),
                None => rng.below(100),
            };
            if dice == 0 {
                attached.push(AttachedPolicy {
                    arn: admin.into(),
                    name: "AdministratorAccess".into(),
                });
                seen.push((
                    "iam:PassRole".into(),
                    format!("arn:aws:iam::{account}:role/app"),
                ));
                seen.push(("cloudformation:CreateStack".into(), "*".into()));
            } else if dice < 3 {
                attached.push(AttachedPolicy {
                    arn: power.into(),
                    name: "PowerUserAccess".into(),
                });
                seen.push(("ec2:RunInstances".into(), "*".into()));
            }
            for object in 0..1 + rng.below(6) {
                seen.push((
                    "s3:PutObject".into(),
                    format!("arn:aws:s3:::{bucket}/release/{object}.zip"),
                ));
            }
            seen.push((
                "lambda:UpdateFunctionCode".into(),
                format!("arn:aws:lambda:eu-west-1:{account}:function:app-{role_index}"),
            ));
            inventory.roles.push(AwsRole {
                arn: arn.clone(),
                name,
                role_id: format!("AROA{account_index:04}{role_index:08}"),
                path: "/ci/".into(),
                create_date: Some("2025-01-01T00:00:00Z".into()),
                trust_policy: Some(trust(&account, role_index)),
                inline_policies: vec![InlinePolicy {
                    name: "deploy".into(),
                    document: inline,
                }],
                attached_policies: attached,
                permissions_boundary: None,
                last_used: None,
                tags: Default::default(),
                instance_profiles: Vec::new(),
            });
            // Nine roles in ten were used in the window.
            if rng.below(10) != 0 {
                used.push((arn, seen));
            }
        }
        inventories.push(inventory);
    }
    (inventories, used)
}

fn usage(used: &[RoleUse], window: ObservationWindow) -> CloudTrailUsage {
    let at = |days: i64| window.since + Duration::days(days);
    let mut allowed = Usage::new();
    let workload = workload_of_host(GITHUB, "repo:acme/app:ref:refs/heads/main");
    for (arn, calls) in used {
        for (index, (action, resource)) in calls.iter().enumerate() {
            let key = UsageKey::new(Provider::Aws, arn, action, resource);
            // The first record of a key stands, as a trail's one row per key would.
            if allowed.get(&key).is_some() {
                continue;
            }
            let record = UsageRecord {
                count: 3 + index as u64,
                inferred: 0,
                denied_count: 0,
                first_seen: at(1),
                last_seen: at(80),
                workloads: BTreeSet::from([workload.clone()]),
                unlinked_calls: 0,
                sources: BTreeSet::new(),
                evidence: BTreeSet::new(),
            };
            allowed.add_record(key, record);
        }
    }
    CloudTrailUsage {
        window: TimeWindow {
            since: Some(window.since),
            until: Some(window.until),
        },
        allowed,
        coverage: Coverage {
            sources_read: 100_000,
            events_read: 50_000_000,
            events_in_window: 50_000_000,
            first_event: Some(at(0)),
            last_event: Some(window.until - Duration::seconds(1)),
            ..Coverage::default()
        },
        ..CloudTrailUsage::default()
    }
}

/// Peak resident memory of this process so far, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn current_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let until: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&Utc);
    let window = ObservationWindow {
        since: until - Duration::days(90),
        until,
    };
    let catalog = Catalog::aws().expect("the embedded catalog loads");
    let started = Instant::now();
    let (inventories, used) = organisation();
    let usage = usage(&used, window);
    println!(
        "generated {} roles in {} accounts, {} usage rows, in {:.2} s",
        inventories.iter().map(|i| i.roles.len()).sum::<usize>(),
        inventories.len(),
        usage.allowed.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let normalized = normalize(&inventories);
    let normalize_time = started.elapsed();
    println!(
        "normalize: {:.2} s ({} identities, {} grants)",
        normalize_time.as_secs_f64(),
        normalized.inventory.identities.len(),
        normalized.inventory.grants().count()
    );

    let started = Instant::now();
    let inventory_only = audit(
        &normalized,
        None,
        window,
        catalog,
        &MinimizeOptions::default(),
    );
    println!(
        "audit without usage: {:.2} s ({} identities)",
        started.elapsed().as_secs_f64(),
        inventory_only.identities.len()
    );

    let started = Instant::now();
    let report = audit(
        &normalized,
        Some(&usage),
        window,
        catalog,
        &MinimizeOptions::default(),
    );
    let audit_time = started.elapsed();
    let minimized = report
        .identities
        .iter()
        .filter(|identity| matches!(identity.minimized, Some(Ok(_))))
        .count();
    let failed = report
        .identities
        .iter()
        .filter(|identity| matches!(identity.minimized, Some(Err(_))))
        .count();
    println!(
        "audit with usage (granted/used/unused + proven minimized policy per identity): {:.2} s \
         ({minimized} minimized, {failed} failed)",
        audit_time.as_secs_f64()
    );
    println!(
        "normalize + audit: {:.2} s; peak memory {}",
        (normalize_time + audit_time).as_secs_f64(),
        peak_rss_mib().map_or("unknown".into(), |mib| format!("{mib:.0} MiB"))
    );
    let minimized: Vec<_> = report
        .identities
        .iter()
        .filter_map(|identity| identity.minimized.as_ref()?.as_ref().ok())
        .collect();
    let decisions: usize = minimized.iter().map(|result| result.decisions.len()).sum();
    let groups: usize = minimized.iter().map(|result| result.unused.len()).sum();
    let grouped: usize = minimized
        .iter()
        .flat_map(|result| &result.unused)
        .map(|group| group.count)
        .sum();
    println!(
        "{decisions} action decisions and {groups} groups of unused actions ({grouped} actions) \
         kept in the report; resident now {}",
        current_rss_mib().map_or("unknown".into(), |mib| format!("{mib:.0} MiB"))
    );
    assert_eq!(failed, 0, "every identity is minimized with a proof");
}
