//! Access-graph build and `who-can` on a large generated organisation: 10,000 CI identities in
//! 20 accounts, 100,000 grants (ten small policies each), GitHub trusts with exact, branch and
//! organisation-wide subjects, and some whole-account trusts for role chaining. Run with
//! `cargo bench --bench graph`; it prints the build time and the time of a few `who-can`
//! queries, best of several runs.

use pipeleash::aws::escalation::escalation_paths;
use pipeleash::aws::grant::{AwsAttachment, AwsPolicyGrant};
use pipeleash::aws::graph::build_aws;
use pipeleash::aws::normalize::{NormalizedAws, trusts_of};
use pipeleash::aws::parse_policy;
use pipeleash::catalog::Catalog;
use pipeleash::graph::query::GraphQuery;
use pipeleash::model::{Grant, GrantBody, GrantId, Identity, IdentityId, IdentityKind, Provider};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const IDENTITIES: usize = 10_000;
const GRANTS_PER_IDENTITY: usize = 10;
const ACCOUNTS: usize = 20;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "lambda:UpdateFunctionCode",
    "ecr:PutImage",
    "ecs:UpdateService",
    "logs:PutLogEvents",
    "ssm:GetParameter",
    "kms:Decrypt",
    "sqs:SendMessage",
    "cloudfront:CreateInvalidation",
    "sts:AssumeRole",
    "iam:PassRole",
    "s3:*",
    "ec2:Describe*",
];

/// A small deterministic generator (xorshift), so every run builds the same organisation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

fn account(index: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + index as u64)
}

fn organisation() -> NormalizedAws {
    let mut rng = Rng(0x5eed);
    let mut normalized = NormalizedAws::default();
    let mut issuers = BTreeMap::new();
    for index in 0..ACCOUNTS {
        issuers.insert(
            format!(
                "arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com",
                account(index)
            ),
            "https://token.actions.githubusercontent.com".to_string(),
        );
    }
    for number in 0..IDENTITIES {
        let account_index = number % ACCOUNTS;
        let account = account(account_index);
        let arn = format!("arn:aws:iam::{account}:role/ci/role-{number:05}");
        let id = IdentityId::new(Provider::Aws, &arn);
        normalized.inventory.add_identity(Identity {
            id: id.clone(),
            kind: IdentityKind::AwsRole,
            display_name: format!("role-{number:05}"),
            container: account.clone(),
            tags: BTreeMap::from([(
                "environment".to_string(),
                if account_index.is_multiple_of(2) {
                    "production"
                } else {
                    "staging"
                }
                .to_string(),
            )]),
            owner: None,
        });
        let subject = match number % 10 {
            0 => format!("repo:org{}/*", number % 50),
            1 => format!("repo:org{}/repo{number}:*", number % 50),
            2 => format!("repo:org{}/repo{number}:pull_request", number % 50),
            _ => format!("repo:org{}/repo{number}:ref:refs/heads/main", number % 50),
        };
        let trust = if number % 100 == 99 {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
                self::account((account_index + 1) % ACCOUNTS)
            )
        } else {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}},"StringLike":{{"token.actions.githubusercontent.com:sub":"{subject}"}}}}}}]}}"#
            )
        };
        let document = parse_policy(&trust).expect("generated trust parses");
        for trust in trusts_of(&document, &issuers) {
            normalized.inventory.add_trust(id.clone(), trust);
        }
        normalized.trust_policies.insert(id.clone(), document);
        for grant in 0..GRANTS_PER_IDENTITY {
            let action = ACTIONS[rng.next() % ACTIONS.len()];
            let resource = match action.split(':').next() {
                Some("s3") => format!("arn:aws:s3:::bucket-{}/*", rng.next() % 500),
                Some("sts") => format!(
                    "arn:aws:iam::{}:role/ci/*",
                    self::account(rng.next() % ACCOUNTS)
                ),
                Some("iam") => format!("arn:aws:iam::{account}:role/app-{}", rng.next() % 100),
                _ => "*".to_string(),
            };
            let text = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["{action}"],"Resource":"{resource}"}}]}}"#
            );
            let name = format!("policy-{grant}");
            normalized
                .inventory
                .add_grant(Grant {
                    id: GrantId::new(format!("{arn}#{name}")),
                    identity: id.clone(),
                    body: GrantBody::Aws(AwsPolicyGrant {
                        policy: name,
                        attachment: AwsAttachment::Identity,
                        document: parse_policy(&text).expect("generated policy parses"),
                    }),
                })
                .expect("generated grant ids are unique");
        }
    }
    normalized
}

fn best_of<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = black_box(work());
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let started = Instant::now();
    let normalized = organisation();
    let grants = normalized.inventory.grants().count();
    println!(
        "generated {} identities, {grants} grants in {:.2?}",
        normalized.inventory.identities.len(),
        started.elapsed()
    );
    let catalog = Catalog::aws().expect("embedded catalog");
    let paths = escalation_paths().expect("embedded escalation paths");
    let (build, graph) = best_of(3, || build_aws(&normalized, None, catalog, paths));
    println!(
        "build: {:.2?} ({} nodes, {} edges)",
        build,
        graph.node_count(),
        graph.edge_count()
    );
    let query = GraphQuery::new(&graph, &normalized.inventory);
    for (action, resource) in [
        ("s3:PutObject", None),
        ("s3:PutObject", Some("arn:aws:s3:::bucket-7/release.zip")),
        ("iam:PassRole", None),
        ("lambda:UpdateFunctionCode", None),
    ] {
        let (time, rows) = best_of(5, || query.who_can(action, resource));
        println!(
            "who-can {action}{}: {:.2?} ({} identities)",
            resource.map(|r| format!(" --on {r}")).unwrap_or_default(),
            time,
            rows.len()
        );
    }
}
