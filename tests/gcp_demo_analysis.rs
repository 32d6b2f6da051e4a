//! The GCP demo (`recorded-fixtures/gcp-demo/`, written by its `make_demo.py`) analysed end
//! to end: the snapshot's inventory, a week of Cloud Audit Logs in the sink layout, the six
//! GCP checks and the minimizer, through `gcp::analysis::analyze`.

use chrono::{TimeZone, Utc};
use pipeleash::analysis::{Analysis, IdentityAnalysis, Options};
use pipeleash::gcp::analysis::{GcpEvidence, analyze};
use pipeleash::gcp::audit_log::{AuditLogUsage, ingest_path};
use pipeleash::gcp::inventory::{GCP_INVENTORY_KIND, GcpInventory};
use pipeleash::model::{ClaimOperator, ObservationWindow, PrincipalRef, TimeWindow, Trust};
use pipeleash::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/recorded-fixtures/gcp-demo");

/// The service accounts planted for each check, and the safe ones.
const PLANTED: &[(&str, &str)] = &[
    (
        "builder@acme-web.iam.gserviceaccount.com",
        "gcp-basic-role-on-service-account",
    ),
    (
        "legacy-deployer@acme-web.iam.gserviceaccount.com",
        "gcp-wif-provider-without-condition",
    ),
    (
        "release@acme-web.iam.gserviceaccount.com",
        "gcp-wif-condition-without-owner",
    ),
    (
        "terraform@acme-web.iam.gserviceaccount.com",
        "gcp-wif-pool-wide-principal-set",
    ),
    (
        "reporting@acme-data.iam.gserviceaccount.com",
        "gcp-user-managed-key",
    ),
    (
        "orchestrator@acme-data.iam.gserviceaccount.com",
        "gcp-impersonation-at-container-level",
    ),
];
const SAFE: &[&str] = &[
    "web-deployer@acme-web.iam.gserviceaccount.com",
    "web-assets@acme-web.iam.gserviceaccount.com",
    "docs-publisher@acme-web.iam.gserviceaccount.com",
    "data-loader@acme-data.iam.gserviceaccount.com",
    "sandbox-ci@acme-sandbox.iam.gserviceaccount.com",
];
const CORRUPT: &str = "activity/2026/11/17/10:00:00_10:59:59_S0.json";

fn inventories() -> Vec<GcpInventory> {
    let snapshot = Snapshot::open(&Path::new(DEMO).join("snapshot")).expect("demo snapshot");
    snapshot
        .manifest()
        .sources
        .iter()
        .filter(|source| source.provider == "gcp" && source.kind == GCP_INVENTORY_KIND)
        .map(|source| {
            snapshot
                .read_json(Path::new(&source.path))
                .expect("inventory")
        })
        .collect()
}

fn window() -> ObservationWindow {
    ObservationWindow {
        since: Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap(),
        until: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
    }
}

fn usage() -> AuditLogUsage {
    let window = window();
    let logs: PathBuf = Path::new(DEMO).join("audit-logs");
    ingest_path(
        &logs,
        TimeWindow {
            since: Some(window.since),
            until: Some(window.until),
        },
    )
    .expect("demo audit logs")
}

fn analysed(usage: &AuditLogUsage, propose: bool) -> Analysis {
    analysed_with(&inventories(), usage, propose)
}

fn analysed_with(inventories: &[GcpInventory], usage: &AuditLogUsage, propose: bool) -> Analysis {
    let evidence = GcpEvidence {
        inventories,
        usage: Some(usage),
    };
    analyze(
        &evidence,
        window(),
        Options {
            propose,
            now: Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap(),
        },
    )
    .expect("analysis")
}

fn identity<'a>(analysis: &'a Analysis, email: &str) -> &'a IdentityAnalysis {
    analysis
        .identities
        .iter()
        .find(|identity| identity.identity.id.native() == email)
        .unwrap_or_else(|| panic!("`{email}` is not in the analysis"))
}

#[test]
fn every_planted_unsafe_trust_is_found_under_its_service_account_and_no_safe_one_is_flagged() {
    let usage = usage();
    let analysis = analysed(&usage, false);
    assert_eq!(analysis.identities.len(), PLANTED.len() + SAFE.len());
    for (email, check) in PLANTED {
        let ids: BTreeSet<&str> = identity(&analysis, email)
            .findings
            .iter()
            .map(|finding| finding.id)
            .collect();
        assert!(
            ids.contains(check),
            "`{email}` should have `{check}`: {ids:?}"
        );
    }
    for email in SAFE {
        let findings = &identity(&analysis, email).findings;
        assert!(findings.is_empty(), "`{email}` is safe: {findings:#?}");
    }
    // Each check fires only where it was planted.
    for (_, check) in PLANTED {
        let flagged: BTreeSet<&str> = analysis
            .all_findings()
            .filter(|(_, finding)| finding.id == *check)
            .map(|(identity, _)| identity.map_or("(none)", |i| i.identity.id.native()))
            .collect();
        let expected: BTreeSet<&str> = PLANTED
            .iter()
            .filter(|(_, planted)| planted == check)
            .map(|(email, _)| *email)
            .collect();
        assert_eq!(flagged, expected, "`{check}`");
    }
    let ids: Vec<&str> = analysis
        .identities
        .iter()
        .map(|i| i.identity.id.as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "identities are sorted by id");
}

#[test]
fn trusts_say_who_can_become_each_service_account() {
    let usage = usage();
    let analysis = analysed(&usage, false);
    let federated = |email: &str| -> Vec<pipeleash::model::FederatedTrust> {
        identity(&analysis, email)
            .trusts
            .iter()
            .filter_map(|trust| match trust {
                Trust::Federated(federated) => Some(federated.clone()),
                _ => None,
            })
            .collect()
    };
    // Safe: one repository, and the provider's condition pinning the owner.
    let web = federated("web-deployer@acme-web.iam.gserviceaccount.com");
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].issuer, "https://token.actions.githubusercontent.com");
    assert!(web[0].conditions.iter().any(|c| c.claim == "repository"
        && c.operator == ClaimOperator::Equals
        && c.values == ["acme/web"]));
    assert!(
        web[0]
            .conditions
            .iter()
            .any(|c| c.operator == ClaimOperator::Expression
                && c.values == ["assertion.repository_owner == 'acme'"])
    );
    // `principal://…/subject/…`: the `sub` claim.
    let assets = federated("web-assets@acme-web.iam.gserviceaccount.com");
    assert!(
        assets[0]
            .conditions
            .iter()
            .any(|c| c.claim == "sub" && c.values == ["repo:acme/web:ref:refs/heads/main"])
    );
    // Unsafe: no attribute condition at all.
    let legacy = federated("legacy-deployer@acme-web.iam.gserviceaccount.com");
    assert!(
        legacy[0]
            .conditions
            .iter()
            .all(|c| c.operator != ClaimOperator::Expression)
    );
    // Unsafe: the whole pool, so only the provider's condition stands.
    let terraform = federated("terraform@acme-web.iam.gserviceaccount.com");
    assert_eq!(terraform[0].conditions.len(), 1);
    // A key.
    assert!(
        identity(&analysis, "reporting@acme-data.iam.gserviceaccount.com")
            .trusts
            .iter()
            .any(|trust| matches!(trust, Trust::LongLivedKey { .. }))
    );
    // Impersonation: on the account itself, and inherited from the prod folder.
    let deployer = pipeleash::model::IdentityId::new(
        pipeleash::model::Provider::Gcp,
        "web-deployer@acme-web.iam.gserviceaccount.com",
    );
    let orchestrator = pipeleash::model::IdentityId::new(
        pipeleash::model::Provider::Gcp,
        "orchestrator@acme-data.iam.gserviceaccount.com",
    );
    let impersonators = |email: &str| -> Vec<PrincipalRef> {
        identity(&analysis, email)
            .trusts
            .iter()
            .filter_map(|trust| match trust {
                Trust::Identity { from, .. } => Some(from.clone()),
                _ => None,
            })
            .collect()
    };
    let builder = impersonators("builder@acme-web.iam.gserviceaccount.com");
    assert!(builder.contains(&PrincipalRef::Identity(deployer)));
    assert!(builder.contains(&PrincipalRef::Identity(orchestrator.clone())));
    assert!(
        impersonators("data-loader@acme-data.iam.gserviceaccount.com")
            .contains(&PrincipalRef::Identity(orchestrator.clone()))
    );
    // The sandbox is in another folder.
    assert!(
        !impersonators("sandbox-ci@acme-sandbox.iam.gserviceaccount.com")
            .contains(&PrincipalRef::Identity(orchestrator))
    );
}

/// Permission → allowed calls, and the permissions only ever denied, of one account.
fn calls_of(usage: &AuditLogUsage, email: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut allowed = BTreeSet::new();
    let mut denied = BTreeSet::new();
    for (key, record) in usage.usage.iter() {
        if key.identity.native() != email {
            continue;
        }
        if record.count > 0 {
            allowed.insert(key.permission.action.clone());
        }
        if record.denied_count > 0 {
            denied.insert(key.permission.action.clone());
        }
    }
    let denied_only = denied.difference(&allowed).cloned().collect();
    (allowed, denied_only)
}

#[test]
fn every_proposal_is_proven_and_keeps_every_used_permission_and_no_denied_one() {
    let usage = usage();
    let analysis = analysed(&usage, true);
    let mut proposals = 0;
    for identity in &analysis.identities {
        let email = identity.identity.id.native();
        let Some(counts) = identity.counts else {
            assert!(
                identity.proposal.is_none(),
                "`{email}`: no counts, no proposal"
            );
            continue;
        };
        assert_eq!(
            counts.granted,
            counts.used + counts.unused + counts.unobservable,
            "`{email}`: {counts:?}"
        );
        let (allowed, denied_only) = calls_of(&usage, email);
        assert!(counts.used <= allowed.len(), "`{email}`: {counts:?}");
        assert!(counts.denied >= denied_only.len());
        let Some(proposal) = &identity.proposal else {
            assert_eq!(
                counts.unused, 0,
                "`{email}` has unused permissions: propose"
            );
            continue;
        };
        let proposal = proposal
            .as_ref()
            .unwrap_or_else(|error| panic!("`{email}`: {error}"));
        proposals += 1;
        let kept: BTreeMap<&str, &str> = proposal.json["kept"]
            .as_array()
            .expect("kept")
            .iter()
            .map(|entry| {
                (
                    entry["permission"].as_str().expect("permission"),
                    entry["because"].as_str().expect("because"),
                )
            })
            .collect();
        let elsewhere: BTreeSet<&str> = proposal.json["granted_elsewhere"]
            .as_array()
            .expect("granted_elsewhere")
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        for permission in &allowed {
            assert!(
                kept.get(permission.as_str()) == Some(&"used")
                    || elsewhere.contains(permission.as_str()),
                "`{email}`: used `{permission}` is not kept"
            );
        }
        for permission in &denied_only {
            assert_ne!(
                kept.get(permission.as_str()),
                Some(&"used"),
                "`{email}`: denied `{permission}` kept as used"
            );
        }
        assert!(proposal.proof_never_broaden > 0 && proposal.proof_never_drop > 0);
        assert!(!proposal.summary.is_empty());
    }
    assert!(proposals >= 6, "{proposals} proposal(s)");
}

#[test]
fn a_permission_only_denied_is_never_counted_as_used() {
    let usage = usage();
    let analysis = analysed(&usage, true);
    // `terraform` is granted `resourcemanager.projects.setIamPolicy` (projectIamAdmin) and was
    // refused it (a deny policy): denied, not used, and not kept.
    let terraform = identity(&analysis, "terraform@acme-web.iam.gserviceaccount.com");
    let counts = terraform.counts.expect("counts");
    assert_eq!(counts.denied, 1);
    assert_eq!(counts.used, 3, "{counts:?}");
    let proposal = terraform
        .proposal
        .as_ref()
        .expect("proposal")
        .as_ref()
        .expect("proven");
    let removed: Vec<&str> = proposal.json["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(removed.contains(&"resourcemanager.projects.setIamPolicy"));
}

#[test]
fn the_corrupt_file_and_the_unlogged_project_are_in_the_coverage() {
    let usage = usage();
    let analysis = analysed(&usage, false);
    assert!(
        analysis
            .coverage
            .iter()
            .any(|sentence| sentence.contains(CORRUPT)),
        "{:#?}",
        analysis.coverage
    );
    assert!(analysis.coverage.iter().any(
        |sentence| sentence.contains("`projects/acme-sandbox`") && sentence.contains("unknown")
    ));
    assert!(
        analysis
            .coverage
            .iter()
            .any(|sentence| sentence.contains("no-principal"))
    );
    // No call names the sandbox project: its account's use is unknown, never unused.
    let sandbox = identity(&analysis, "sandbox-ci@acme-sandbox.iam.gserviceaccount.com");
    assert_eq!(sandbox.counts, None);
    assert!(
        identity(&analysis, "web-deployer@acme-web.iam.gserviceaccount.com")
            .counts
            .is_some()
    );
    // The federated principal used directly and the service agent are not identities.
    assert!(
        analysis
            .usage_of_unknown_identities
            .iter()
            .any(|principal| principal.starts_with("principal://"))
    );
    assert!(
        analysis
            .usage_of_unknown_identities
            .iter()
            .any(|principal| principal.contains("gcp-sa-cloudbuild"))
    );
}

#[test]
fn without_logs_nothing_is_counted_and_findings_remain() {
    let inventories = inventories();
    let analysis = analyze(
        &GcpEvidence {
            inventories: &inventories,
            usage: None,
        },
        window(),
        Options {
            propose: true,
            now: Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap(),
        },
    )
    .expect("analysis");
    assert!(
        analysis
            .identities
            .iter()
            .all(|i| i.counts.is_none() && i.proposal.is_none())
    );
    assert!(analysis.coverage.is_empty());
    assert!(analysis.all_findings().count() >= PLANTED.len());
}

/// The demo's deny policy (`ci-guardrails` on `acme-web`): its unconditional rule takes
/// `storage.buckets.delete` from `builder` (one permission fewer granted than without the
/// policy, never proposed, named in the evidence); its rule with a tag condition only *may*
/// deny `terraform` `setIamPolicy`, which stays granted and is said to be so "unless denied"
/// (<https://cloud.google.com/iam/docs/deny-overview>).
#[test]
fn the_demo_deny_policy_denies_for_certain_or_only_may_deny() {
    let usage = usage();
    let with = analysed(&usage, true);
    let mut without_policies = inventories();
    assert!(
        without_policies
            .iter()
            .any(|inventory| !inventory.deny_policies.is_empty()),
        "the demo holds a deny policy"
    );
    for inventory in &mut without_policies {
        inventory.deny_policies.clear();
    }
    let without = analysed_with(&without_policies, &usage, false);
    let granted = |analysis: &Analysis, email: &str| {
        identity(analysis, email).counts.expect("counts").granted
    };
    let builder = "builder@acme-web.iam.gserviceaccount.com";
    let terraform = "terraform@acme-web.iam.gserviceaccount.com";
    assert_eq!(granted(&with, builder) + 1, granted(&without, builder));
    assert_eq!(granted(&with, terraform), granted(&without, terraform));

    let proposal = identity(&with, builder)
        .proposal
        .as_ref()
        .expect("builder has unused permissions")
        .as_ref()
        .expect("proven");
    assert_eq!(
        proposal.json["denied_by_deny_policy"],
        serde_json::json!(["storage.buckets.delete"])
    );
    let evidence = |email: &str| {
        identity(&with, email)
            .findings
            .iter()
            .flat_map(|finding| finding.evidence.iter())
            .map(|evidence| format!("{} {}", evidence.source, evidence.detail))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        evidence(builder).contains("denies `storage.googleapis.com/buckets.delete`"),
        "{}",
        evidence(builder)
    );
    assert!(
        evidence(terraform).contains("may deny `resourcemanager.projects.setIamPolicy`"),
        "{}",
        evidence(terraform)
    );
}

/// A project whose IAM policy could not be read while collecting (a `PERMISSION_DENIED`
/// recorded in the inventory's `errors`) leaves the grants of its service accounts unknown:
/// no counts (never "granted 0, used 0" against calls the logs show), no proposal but the
/// reason, a coverage sentence naming them; accounts of other projects are analysed as before.
#[test]
fn an_unread_project_policy_leaves_its_accounts_grants_unknown_not_zero() {
    use pipeleash::gcp::inventory::GcpCollectIssue;
    let usage = usage();
    let mut damaged = inventories();
    for inventory in &mut damaged {
        for project in &mut inventory.projects {
            if project.project_id == "acme-web" {
                project.iam_policy = None;
            }
        }
        inventory.errors.push(GcpCollectIssue {
            call: "cloudresourcemanager.projects.getIamPolicy".into(),
            target: "projects/acme-web".into(),
            http_status: Some(403),
            status: Some("PERMISSION_DENIED".into()),
            reason: "the caller does not have permission".into(),
        });
    }
    let analysis = analysed_with(&damaged, &usage, true);
    let builder = identity(&analysis, "builder@acme-web.iam.gserviceaccount.com");
    assert!(builder.incomplete);
    assert_eq!(builder.counts, None, "{:?}", builder.counts);
    let reason = builder
        .proposal
        .as_ref()
        .expect("a reason")
        .as_ref()
        .expect_err("no proposal");
    assert!(
        reason.contains("`cloudresourcemanager.projects.getIamPolicy` on `projects/acme-web`"),
        "{reason}"
    );
    assert!(
        analysis
            .coverage
            .iter()
            .any(|line| line.contains("the grants of") && line.contains("builder@acme-web")),
        "{:?}",
        analysis.coverage
    );
    let loader = identity(&analysis, "data-loader@acme-data.iam.gserviceaccount.com");
    assert!(
        loader.counts.is_some(),
        "other projects are analysed as before"
    );
}
