//! The access graph and trust findings on the demo organisation (`recorded-fixtures/demo`):
//! each planted unsafe trust is found with the right id, the safe roles are not, and the
//! graph explains how the planted pull-request workloads reach write access and escalation.

use pipeleash::aws::checks::trust::trust_findings;
use pipeleash::aws::cloudtrail::{CloudTrailUsage, IngestOptions, ingest_directory};
use pipeleash::aws::escalation::escalation_paths;
use pipeleash::aws::graph::build_aws;
use pipeleash::aws::normalize::{NormalizedAws, normalize};
use pipeleash::catalog::Catalog;
use pipeleash::cli::graph::{GraphCommand, run_at};
use pipeleash::graph::AccessGraph;
use pipeleash::graph::query::{GraphQuery, Target};
use pipeleash::model::{Finding, IdentityId};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PROD: &str = "210987654321";
const STAGING: &str = "345678901234";

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/demo")
}

struct Demo {
    normalized: NormalizedAws,
    usage: CloudTrailUsage,
    findings: Vec<(IdentityId, Finding)>,
}

fn load() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let snapshot = pipeleash::snapshot::Snapshot::open(&demo().join("snapshot")).unwrap();
        let normalized = normalize(&snapshot.aws_inventories().unwrap());
        let usage =
            ingest_directory(&demo().join("cloudtrail"), &IngestOptions::default()).unwrap();
        let findings = trust_findings(
            &normalized,
            Some(&usage),
            Catalog::aws().unwrap(),
            escalation_paths().unwrap(),
        );
        Demo {
            normalized,
            usage,
            findings,
        }
    })
}

fn graph() -> AccessGraph {
    let demo = load();
    build_aws(
        &demo.normalized,
        Some(&demo.usage),
        Catalog::aws().unwrap(),
        escalation_paths().unwrap(),
    )
}

fn role(account: &str, name: &str) -> IdentityId {
    format!("aws:arn:aws:iam::{account}:role/ci/{name}")
        .parse()
        .unwrap()
}

/// The finding ids reported for one identity.
fn ids(identity: &IdentityId) -> BTreeSet<&'static str> {
    load()
        .findings
        .iter()
        .filter(|(who, _)| who == identity)
        .map(|(_, f)| f.id)
        .collect()
}

#[test]
fn planted_unsafe_trusts_are_found() {
    assert!(ids(&role(PROD, "gha-readonly-audit")).contains("oidc-subject-wildcard"));
    assert!(ids(&role(PROD, "gitlab-docs-publish")).contains("oidc-trust-without-subject"));
    for account in [PROD, STAGING] {
        let terraform = ids(&role(account, "gha-terraform"));
        for id in [
            "oidc-subject-wildcard",
            "pull-request-reaches-write",
            "ci-escalation-to-admin",
        ] {
            assert!(
                terraform.contains(id),
                "{account} gha-terraform lacks `{id}`: {terraform:?}"
            );
        }
    }
    assert!(ids(&role(STAGING, "gha-deploy-web")).contains("pull-request-reaches-write"));
    assert!(
        ids(&role(PROD, "cross-account-deployer")).contains("external-account-without-external-id")
    );
    let user: IdentityId = format!("aws:arn:aws:iam::{PROD}:user/ci/ci-legacy")
        .parse()
        .unwrap();
    let legacy = ids(&user);
    assert!(
        legacy.contains("long-lived-access-key") && legacy.contains("unused-access-key"),
        "{legacy:?}"
    );
}

#[test]
fn safe_trusts_are_not_flagged() {
    let unsafe_trust = [
        "oidc-subject-wildcard",
        "oidc-trust-without-subject",
        "shared-issuer-without-tenant",
        "pull-request-reaches-write",
        "oidc-missing-audience",
        "role-assumable-by-anyone",
        "external-account-without-external-id",
    ];
    for (account, name) in [
        (PROD, "gha-release-api"),
        (STAGING, "gha-release-api"),
        (PROD, "gha-lambda-deploy"),
        (STAGING, "gha-sandbox"),
    ] {
        let found = ids(&role(account, name));
        for id in unsafe_trust {
            assert!(!found.contains(id), "{account} {name} wrongly has `{id}`");
        }
    }
}

#[test]
fn unused_subjects_come_with_a_tightened_policy() {
    let findings: Vec<&Finding> = load()
        .findings
        .iter()
        .filter(|(who, f)| {
            *who == role(STAGING, "gha-deploy-web") && f.id == "unused-trusted-subject"
        })
        .map(|(_, f)| f)
        .collect();
    assert_eq!(findings.len(), 1);
    let proposal = findings[0]
        .evidence
        .iter()
        .find(|e| e.source == "proposed trust policy")
        .unwrap();
    assert!(
        proposal
            .detail
            .contains("repo:acme/web:ref:refs/heads/main")
    );
    assert!(!proposal.detail.contains("pull_request"));
    // Never assumed at all: no proposal, a removal hint.
    let audit: Vec<&Finding> = load()
        .findings
        .iter()
        .filter(|(who, f)| {
            *who == role(PROD, "gha-readonly-audit") && f.id == "unused-trusted-subject"
        })
        .map(|(_, f)| f)
        .collect();
    assert!(audit[0].message.contains("no CI subject"));
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let demo = load();
    let again = trust_findings(
        &demo.normalized,
        Some(&demo.usage),
        Catalog::aws().unwrap(),
        escalation_paths().unwrap(),
    );
    assert_eq!(demo.findings, again);
    let mut sorted = demo.findings.clone();
    sorted.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.severity.cmp(&a.1.severity))
            .then(a.1.id.cmp(b.1.id))
            .then(a.1.subject.cmp(&b.1.subject))
            .then(a.1.message.cmp(&b.1.message))
    });
    assert_eq!(demo.findings, sorted);
}

#[test]
fn paths_explain_pull_requests_reaching_write_and_escalation() {
    let graph = graph();
    let query = GraphQuery::new(&graph, &load().normalized.inventory);
    // `repo:acme/infra:pull_request` is admitted by `repo:acme/infra:*` on gha-terraform,
    // which is an administrator of the account.
    let start = query.resolve("repo:acme/infra:pull_request").unwrap();
    let target = query.target("iam:PutRolePolicy", None).unwrap();
    let paths = query.paths(&start, &target);
    let first = &paths[0];
    assert_eq!(first[0].to, role(PROD, "gha-terraform").to_string());
    assert!(
        first[0].explanation.contains("repo:acme/infra:*"),
        "{first:#?}"
    );
    assert!(
        paths
            .iter()
            .any(|path| path.iter().any(|hop| hop.to.starts_with("administrator@")))
    );
    // The staging pull-request subject reaches write on the web bucket.
    let start = query.resolve("repo:acme/web:pull_request").unwrap();
    let target = query.target("s3:PutObject", None).unwrap();
    let paths = query.paths(&start, &target);
    let staging = paths
        .iter()
        .find(|path| path[0].to == role(STAGING, "gha-deploy-web").to_string())
        .unwrap();
    assert!(
        staging[0]
            .explanation
            .contains("repo:acme/web:pull_request"),
        "{staging:#?}"
    );
    assert!(staging[1].explanation.contains("s3:PutObject"));
    // `repo:acme/web:*` admits it in production too.
    assert!(
        paths
            .iter()
            .any(|path| path[0].to == role(PROD, "gha-deploy-web").to_string())
    );
    // Staging terraform can chain into production: the whole staging account is trusted.
    let start = query
        .resolve(&role(STAGING, "gha-terraform").to_string())
        .unwrap();
    let target = query
        .target(&role(PROD, "cross-account-deployer").to_string(), None)
        .unwrap();
    let Target::Node(_) = target else {
        panic!("an identity target")
    };
    let paths = query.paths(&start, &target);
    assert_eq!(paths[0].len(), 1);
    assert_eq!(paths[0][0].kind.as_str(), "can-chain");
}

#[test]
fn who_can_lists_direct_grants_and_escalations() {
    let graph = graph();
    let query = GraphQuery::new(&graph, &load().normalized.inventory);
    let rows = query.who_can("s3:PutObject", Some("arn:aws:s3:::docs-site/index.html"));
    let who: BTreeSet<String> = rows.iter().map(|row| row.identity.to_string()).collect();
    assert!(
        who.contains(&role(PROD, "gitlab-docs-publish").to_string()),
        "{who:?}"
    );
    assert!(who.contains(&role(PROD, "gha-terraform").to_string()));
    assert!(!who.contains(&role(PROD, "gha-readonly-audit").to_string()));
    let docs = rows
        .iter()
        .find(|row| row.identity == role(PROD, "gitlab-docs-publish"))
        .unwrap();
    assert!(
        docs.reachable_from
            .iter()
            .any(|source| source == "workload:gitlab.com|*"),
        "{:?}",
        docs.reachable_from
    );
}

const QUIET: pipeleash::cli::GlobalArgs = pipeleash::cli::GlobalArgs {
    quiet: true,
    verbose: false,
};

fn cli(command: GraphCommand) -> (i32, String) {
    let mut out = Vec::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let exit = run_at(command, &QUIET, &mut out, now).unwrap();
    (exit as i32, String::from_utf8(out).unwrap())
}

fn input(format: pipeleash::cli::graph::GraphFormat) -> pipeleash::cli::graph::GraphInput {
    pipeleash::cli::graph::GraphInput {
        snapshot: vec![demo().join("snapshot")],
        cloudtrail: Some(demo().join("cloudtrail")),
        since: None,
        until: None,
        aws: Default::default(),
        format,
    }
}

/// `--until` bounds the CloudTrail read as `--since` does: a window ending before some of the
/// demo's logs sees fewer of the workloads that became its roles, and an empty window is an
/// input error naming both flags.
#[test]
fn until_bounds_the_cloudtrail_read() {
    use pipeleash::cli::graph::GraphFormat;
    let who_can = |until: Option<&str>| {
        let mut input = input(GraphFormat::Json);
        input.until = until.map(str::to_owned);
        cli(GraphCommand::WhoCan {
            action: "s3:PutObject".into(),
            on: None,
            input,
        })
        .1
    };
    let workloads = |json: &str| json.matches("\"workload:").count();
    let all = who_can(None);
    let earlier = who_can(Some("2026-11-18"));
    assert!(
        0 < workloads(&earlier) && workloads(&earlier) < workloads(&all),
        "{earlier}"
    );

    let mut input = input(GraphFormat::Json);
    input.since = Some("2026-11-20".into());
    input.until = Some("2026-11-19".into());
    let mut out = Vec::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let error = run_at(
        GraphCommand::Reach {
            start: "repo:acme/web:pull_request".into(),
            input,
        },
        &QUIET,
        &mut out,
        now,
    )
    .unwrap_err();
    assert!(error.to_string().contains("the window is empty"), "{error}");
    assert!(
        error
            .chain()
            .any(|cause| cause.is::<pipeleash::cli::InputError>()),
        "an input error (exit 2): {error}"
    );
}

#[test]
fn cli_queries_in_every_format() {
    use pipeleash::cli::graph::GraphFormat;
    // A role name used in two accounts is ambiguous: the error says to give the ARN.
    let mut out = Vec::new();
    let error = run_at(
        GraphCommand::Paths {
            from: "repo:acme/infra:pull_request".into(),
            to: "gha-terraform".into(),
            on: None,
            input: input(GraphFormat::Json),
        },
        &QUIET,
        &mut out,
        chrono::Utc::now(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("give the full ARN"), "{error}");
    let (_, json) = cli(GraphCommand::Paths {
        from: "repo:acme/infra:pull_request".into(),
        to: role(PROD, "gha-terraform").to_string(),
        on: None,
        input: input(GraphFormat::Json),
    });
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["paths"][0]["hops"][0]["edge"], "can-assume");
    let (_, json) = cli(GraphCommand::Paths {
        from: "repo:acme/infra:pull_request".into(),
        to: "iam:PutRolePolicy".into(),
        on: None,
        input: input(GraphFormat::Json),
    });
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["version"], 1);
    assert!(!value["paths"].as_array().unwrap().is_empty());
    let (_, dot) = cli(GraphCommand::Reach {
        start: "repo:acme/web:pull_request".into(),
        input: input(GraphFormat::Dot),
    });
    assert!(
        dot.starts_with("digraph pipeleash {") && dot.contains("gha-deploy-web"),
        "{dot}"
    );
    let (_, mermaid) = cli(GraphCommand::WhoCan {
        action: "iam:PutRolePolicy".into(),
        on: None,
        input: input(GraphFormat::Mermaid),
    });
    assert!(mermaid.starts_with("flowchart LR") && mermaid.contains("gha-terraform"));
    let (_, table) = cli(GraphCommand::WhoCan {
        action: "iam:PutRolePolicy".into(),
        on: None,
        input: input(GraphFormat::Table),
    });
    assert!(table.contains("gha-terraform"));
    // Same input, same bytes.
    let (_, again) = cli(GraphCommand::WhoCan {
        action: "iam:PutRolePolicy".into(),
        on: None,
        input: input(GraphFormat::Table),
    });
    assert_eq!(table, again);
}

#[test]
fn saved_queries_run_and_list() {
    use pipeleash::cli::graph::GraphFormat;
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let (exit, json) = cli(GraphCommand::Run {
        query: queries.join("pull-request-write-production.query"),
        input: input(GraphFormat::Json),
    });
    assert_eq!(exit, 1);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let targets: BTreeSet<String> = value["paths"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|path| {
            path["hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hop| hop["to"].as_str().unwrap().to_string())
        })
        .collect();
    // Production gha-deploy-web (`repo:acme/web:*`) and gha-terraform (`repo:acme/infra:*`).
    assert!(
        targets.contains(&role(PROD, "gha-deploy-web").to_string()),
        "{targets:?}"
    );
    assert!(targets.contains(&role(PROD, "gha-terraform").to_string()));
    assert!(!targets.contains(&role(STAGING, "gha-deploy-web").to_string()));
    let (exit, json) = cli(GraphCommand::Run {
        query: queries.join("unreviewed-to-administrator.query"),
        input: input(GraphFormat::Json),
    });
    assert_eq!(exit, 1);
    assert!(
        json.contains(&format!("administrator@{STAGING}"))
            && json.contains(&format!("administrator@{PROD}"))
    );
    let (_, json) = cli(GraphCommand::Run {
        query: queries.join("any-repository-workloads.query"),
        input: input(GraphFormat::Json),
    });
    assert!(json.contains("gitlab-docs-publish"), "{json}");
    let (exit, json) = cli(GraphCommand::Run {
        query: queries.join("iam-policy-editors.query"),
        input: input(GraphFormat::Json),
    });
    assert_eq!(exit, 1);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let starts: BTreeSet<String> = value["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path["hops"][0]["from"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = [role(PROD, "gha-terraform"), role(STAGING, "gha-terraform")]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(starts, expected);
    let (_, list) = cli(GraphCommand::List { dir: queries });
    for name in [
        "pull-request-write-production",
        "unreviewed-to-administrator",
        "any-repository-workloads",
        "iam-policy-editors",
    ] {
        assert!(list.contains(name), "{list}");
    }
}

/// A can-chain edge needs the target's trust policy to allow the source principal, even in
/// the same account ("IAM role trust policies … must explicitly allow access for
/// principals",
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html).
/// Here `deployer` trusts the account only for `aws:PrincipalArn` `role/admin`: `ci-deploy`,
/// whose own policy allows `sts:AssumeRole` on `*`, cannot chain into it; `admin` can. And a
/// trust naming `ci-deploy` but denying it by condition gives no edge either.
#[test]
fn can_chain_needs_the_trust_policy_to_allow_the_source() {
    use pipeleash::aws::inventory::AwsAccountInventory;
    let allow_assume = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let trust_admin_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/admin"}}}]}"#;
    let trust_ci_but_not_tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci-deploy"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}}]}"#;
    let trust_services = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = |name: &str, trust: &str, policy: Option<&str>| {
        serde_json::json!({
            "arn": format!("arn:aws:iam::111122223333:role/{name}"),
            "name": name,
            "role_id": format!("AROA{}", name.to_uppercase().replace('-', "")),
            "path": "/",
            "trust_policy": trust,
            "inline_policies": policy
                .map(|document| vec![serde_json::json!({"name": "assume", "document": document})])
                .unwrap_or_default(),
        })
    };
    let inventory: AwsAccountInventory = serde_json::from_value(serde_json::json!({
        "format_version": 1,
        "account_id": "111122223333",
        "partition": "aws",
        "collected_by": "arn:aws:sts::111122223333:assumed-role/collector/x",
        "collected_at": "2026-11-22T00:00:00Z",
        "roles": [
            role("admin", trust_services, Some(allow_assume)),
            role("ci-deploy", trust_services, Some(allow_assume)),
            role("deployer", trust_admin_only, None),
            role("locked", trust_ci_but_not_tagged, None),
        ],
    }))
    .unwrap();
    let normalized = normalize(&[inventory]);
    let graph = build_aws(
        &normalized,
        None,
        Catalog::aws().unwrap(),
        escalation_paths().unwrap(),
    );
    let node = |name: &str| {
        graph
            .node_index(&format!("aws:arn:aws:iam::111122223333:role/{name}"))
            .unwrap_or_else(|| panic!("no node for {name}"))
    };
    let chains_into = |target: &str| -> BTreeSet<String> {
        graph
            .in_edges(node(target))
            .into_iter()
            .filter(|(_, edge)| edge.kind().as_str() == "can-chain")
            .map(|(source, _)| graph.node(source).label())
            .collect()
    };
    let into_deployer = chains_into("deployer");
    assert_eq!(into_deployer.len(), 1, "{into_deployer:?}");
    assert!(
        into_deployer.iter().all(|label| label.contains("admin")),
        "{into_deployer:?}"
    );
    assert!(
        chains_into("locked").is_empty(),
        "{:?}",
        chains_into("locked")
    );
}

/// Every "why" quotes each name once: no doubled backticks and an even count, for AWS
/// escalation path ids and for the GCP and Azure escalation sentences alike (before, the
/// GCP/Azure sentences, already quoted, were quoted again: ``…` on `…`: …`).
#[test]
fn why_texts_quote_each_name_once_in_every_cloud() {
    use pipeleash::cli::graph::GraphFormat;
    let fixtures = demo().parent().unwrap().to_path_buf();
    let clouds = pipeleash::cli::graph::GraphInput {
        snapshot: vec![
            fixtures.join("gcp-demo/snapshot"),
            fixtures.join("azure-demo/snapshot"),
        ],
        cloudtrail: None,
        since: None,
        until: None,
        aws: Default::default(),
        format: GraphFormat::Json,
    };
    let queries = [
        (
            input(GraphFormat::Json),
            "iam:PutRolePolicy",
            "repo:acme/infra:pull_request",
        ),
        (
            clouds.clone(),
            "resourcemanager.projects.setIamPolicy",
            "repo:acme/scheduler:pull_request",
        ),
        (
            clouds,
            "Microsoft.Authorization/roleAssignments/write",
            "repo:acme/scheduler:pull_request",
        ),
    ];
    let mut escalations = 0;
    for (input, action, start) in queries {
        for command in [
            GraphCommand::WhoCan {
                action: action.into(),
                on: None,
                input: input.clone(),
            },
            GraphCommand::Reach {
                start: start.into(),
                input: input.clone(),
            },
        ] {
            let (_, json) = cli(command);
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let mut texts = Vec::new();
            collect_strings(&value, &mut texts);
            for text in texts.iter().filter(|text| text.contains('`')) {
                escalations += usize::from(text.contains("escalation"));
                assert!(!text.contains("``"), "{action}: {text}");
                assert_eq!(text.matches('`').count() % 2, 0, "{action}: {text}");
            }
        }
    }
    assert!(escalations >= 3, "the demos hold escalations in each cloud");
}

fn collect_strings(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => into.push(text.clone()),
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| collect_strings(item, into))
        }
        serde_json::Value::Object(map) => map.values().for_each(|item| collect_strings(item, into)),
        _ => {}
    }
}

fn clouds(format: pipeleash::cli::graph::GraphFormat) -> pipeleash::cli::graph::GraphInput {
    let fixtures = demo().parent().unwrap().to_path_buf();
    pipeleash::cli::graph::GraphInput {
        snapshot: vec![
            fixtures.join("gcp-demo/snapshot"),
            fixtures.join("azure-demo/snapshot"),
        ],
        cloudtrail: None,
        since: None,
        until: None,
        aws: Default::default(),
        format,
    }
}

fn reach(start: &str, input: pipeleash::cli::graph::GraphInput) -> String {
    let (exit, out) = cli(GraphCommand::Reach {
        start: start.into(),
        input,
    });
    assert_eq!(exit, 0, "{start}: {out}");
    out
}

/// The error a graph command stops with (an input error), as its message.
fn cli_error(command: GraphCommand) -> String {
    let mut out = Vec::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    match run_at(command, &QUIET, &mut out, now) {
        Ok(exit) => panic!(
            "expected an error, got exit {} and {}",
            exit as i32,
            String::from_utf8_lossy(&out)
        ),
        Err(error) => format!("{error:#}"),
    }
}

/// A Workload Identity provider condition on a claim the subject does not tell
/// (`assertion.repository_owner_id == '41000001' && assertion.ref == 'refs/heads/main'`)
/// makes the path possible, never absent: the main branch of `acme/scheduler` reaches
/// `orchestrator@acme-data` and, through its Token Creator role on `folders/200`, the other
/// service accounts; `acme/pipelines` reaches `data-loader@acme-data` the same way. A claim
/// the subject does tell still decides: another branch or another owner id is refused.
#[test]
fn gcp_condition_on_a_claim_the_subject_cannot_tell_keeps_the_path_possible() {
    use pipeleash::cli::graph::GraphFormat;
    let main = reach(
        "repo:acme/scheduler:ref:refs/heads/main",
        clouds(GraphFormat::Json),
    );
    assert!(main.contains("orchestrator@acme-data"), "{main}");
    assert!(main.contains("possible"), "{main}");
    let wildcard = reach("repo:acme/scheduler:*", clouds(GraphFormat::Json));
    let concrete = reach(
        "repo:acme/scheduler:ref:refs/heads/main",
        clouds(GraphFormat::Json),
    );
    let accounts = |json: &str| -> BTreeSet<String> {
        let mut texts = Vec::new();
        collect_strings(&serde_json::from_str(json).unwrap(), &mut texts);
        texts
            .into_iter()
            .filter(|text| text.starts_with("gcp:") && text.ends_with(".iam.gserviceaccount.com"))
            .collect()
    };
    let (wildcard, concrete) = (accounts(&wildcard), accounts(&concrete));
    assert!(concrete.len() >= 10, "{concrete:?}");
    assert!(
        wildcard.is_subset(&concrete),
        "missing: {:?}",
        wildcard.difference(&concrete).collect::<Vec<_>>()
    );
    let (exit, paths) = cli(GraphCommand::Paths {
        from: "repo:acme/scheduler:ref:refs/heads/main".into(),
        to: "gcp:web-deployer@acme-web.iam.gserviceaccount.com".into(),
        on: None,
        input: clouds(GraphFormat::Json),
    });
    assert_eq!(exit, 0);
    assert!(!paths.contains("no path"), "{paths}");
    let pipelines = reach(
        "repo:acme/pipelines:ref:refs/heads/main",
        clouds(GraphFormat::Json),
    );
    assert!(pipelines.contains("data-loader@acme-data"), "{pipelines}");
    // Claims the subject tells still refuse: another branch, another owner id.
    for refused in [
        "repo:acme/scheduler:ref:refs/heads/dev",
        "repo:acme@99/scheduler@7:ref:refs/heads/main",
    ] {
        let mut out = Vec::new();
        let now = chrono::Utc::now();
        let result = run_at(
            GraphCommand::Reach {
                start: refused.into(),
                input: clouds(GraphFormat::Json),
            },
            &QUIET,
            &mut out,
            now,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("\"gcp:orchestrator@acme-data"),
            "{refused}: {text}"
        );
        assert!(
            result.is_err() || !text.contains("orchestrator@acme-data"),
            "{refused}: {text}"
        );
    }
}

/// Concrete subjects meet Azure flexible federated credentials (`claimsMatchingExpression`)
/// as they meet AWS and GCP wildcard trusts: a feature branch of `acme/web` reaches
/// `gha-web-any-branch` (`repo:acme/web:ref:refs/heads/*`), a pull request of another
/// repository `gha-infra-any-repo` (`repo:acme/*`), and with both snapshots the Azure paths
/// are shown beside the GCP ones.
#[test]
fn azure_flexible_credentials_admit_concrete_subjects() {
    use pipeleash::cli::graph::GraphFormat;
    let fixtures = demo().parent().unwrap().to_path_buf();
    let azure = pipeleash::cli::graph::GraphInput {
        snapshot: vec![fixtures.join("azure-demo/snapshot")],
        ..clouds(GraphFormat::Json)
    };
    const ANY_BRANCH: &str = "azure:438bed47-294b-5bab-a53d-b8f43df96453";
    const ANY_REPO: &str = "azure:7df37425-03fb-56a2-a349-efcdad497355";
    let feature = reach("repo:acme/web:ref:refs/heads/feature-x", azure.clone());
    assert!(feature.contains(ANY_BRANCH), "{feature}");
    let other = reach("repo:acme/other:pull_request", azure.clone());
    assert!(other.contains(ANY_REPO), "{other}");
    assert!(!other.contains(ANY_BRANCH), "{other}");
    let both = reach(
        "repo:acme/web:ref:refs/heads/feature-x",
        clouds(GraphFormat::Json),
    );
    assert!(both.contains(ANY_BRANCH) && both.contains("gcp:"), "{both}");
    // Exact-subject credentials keep matching.
    let platform = reach("repo:acme/platform:ref:refs/heads/main", azure);
    assert!(
        platform.contains("azure:b0b510b7-b7ad-5fc2-937c-1b6081e15ccf"),
        "{platform}"
    );
}

/// `paths --to` takes a permission of any cloud, as `who-can` does, and each identity's own
/// cloud decides whether it holds it; a target that is neither says what to give.
#[test]
fn paths_to_takes_gcp_and_azure_permissions() {
    use pipeleash::cli::graph::GraphFormat;
    for permission in [
        "resourcemanager.projects.setIamPolicy",
        "Microsoft.Authorization/roleAssignments/write",
    ] {
        let (exit, out) = cli(GraphCommand::Paths {
            from: "repo:acme/web:pull_request".into(),
            to: permission.into(),
            on: None,
            input: clouds(GraphFormat::Json),
        });
        assert_eq!(exit, 0, "{permission}: {out}");
        let (_, scheduler) = cli(GraphCommand::Paths {
            from: "repo:acme/scheduler:*".into(),
            to: permission.into(),
            on: None,
            input: clouds(GraphFormat::Json),
        });
        if permission.starts_with("resourcemanager") {
            assert!(
                scheduler.contains(&format!("action:{permission}")),
                "{scheduler}"
            );
        }
    }
    let error = cli_error(GraphCommand::Paths {
        from: "repo:acme/web:pull_request".into(),
        to: "nothing".into(),
        on: None,
        input: clouds(GraphFormat::Json),
    });
    assert!(
        error.contains("resourcemanager.projects.setIamPolicy")
            && error.contains("Microsoft.Authorization/roleAssignments/write"),
        "{error}"
    );
}

/// `--since` and `--until` are checked whatever the snapshots hold: an empty window is an
/// input error naming both flags as given, and either flag without `--cloudtrail` is refused,
/// for GCP and Azure snapshots as for AWS ones.
#[test]
fn window_flags_are_checked_whatever_the_snapshots_hold() {
    use pipeleash::cli::graph::GraphFormat;
    let fixtures = demo().parent().unwrap().to_path_buf();
    for snapshot in ["gcp-demo/snapshot", "azure-demo/snapshot", "demo/snapshot"] {
        let input = pipeleash::cli::graph::GraphInput {
            snapshot: vec![fixtures.join(snapshot)],
            since: Some("2026-11-21".into()),
            until: Some("2026-11-14".into()),
            ..clouds(GraphFormat::Json)
        };
        let error = cli_error(GraphCommand::WhoCan {
            action: "resourcemanager.projects.setIamPolicy".into(),
            on: None,
            input: input.clone(),
        });
        assert!(
            error.contains("`--since 2026-11-21`") && error.contains("`--until 2026-11-14`"),
            "{snapshot}: {error}"
        );
        let error = cli_error(GraphCommand::WhoCan {
            action: "resourcemanager.projects.setIamPolicy".into(),
            on: None,
            input: pipeleash::cli::graph::GraphInput {
                until: None,
                ..input
            },
        });
        assert!(error.contains("--cloudtrail"), "{snapshot}: {error}");
    }
}

/// A misspelt permission gets a note in every cloud (the note `graph who-can` and `graph run`
/// print), and a real one none.
#[test]
fn misspelt_permissions_get_a_note_in_every_cloud() {
    use pipeleash::cli::graph::unknown_permission_note;
    for misspelt in [
        "iam:PutRolePolcy",
        "resourcemanager.projects.setIamPolicyy",
        "Microsoft.Authorization/roleAssignments/wrte",
    ] {
        assert!(unknown_permission_note(misspelt).is_some(), "{misspelt}");
    }
    for real in [
        "iam:PutRolePolicy",
        "resourcemanager.projects.setIamPolicy",
        "Microsoft.Authorization/roleAssignments/write",
        "microsoft.authorization/roleassignments/write",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
    ] {
        assert_eq!(unknown_permission_note(real), None, "{real}");
    }
}

/// GitHub's immutable subject form (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`) meets a GCP
/// provider's repository and owner conditions as the plain form does (before: no trust that
/// names a repository was reached from it), and another owner's repository of the same name
/// still does not.
#[test]
fn the_immutable_subject_form_meets_repository_conditions() {
    use pipeleash::cli::graph::GraphFormat;
    let immutable = reach(
        "repo:acme@41000001/scheduler@7:ref:refs/heads/main",
        clouds(GraphFormat::Json),
    );
    assert!(immutable.contains("orchestrator@acme-data"), "{immutable}");
    // Another owner's repository of the same name reaches nothing of acme's: no path at all.
    let mut out = Vec::new();
    let other = run_at(
        GraphCommand::Reach {
            start: "repo:other@5/scheduler@7:ref:refs/heads/main".into(),
            input: clouds(GraphFormat::Json),
        },
        &QUIET,
        &mut out,
        chrono::Utc::now(),
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        other.is_err() || !text.contains("orchestrator@acme-data"),
        "{text}"
    );
}
