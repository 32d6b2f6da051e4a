use super::*;
use crate::model::{ClaimCondition, ClaimOperator, FederatedTrust, Trust};

const GITHUB: &str = "https://token.actions.githubusercontent.com";

fn github(operator: ClaimOperator, subjects: &[&str]) -> Trust {
    Trust::Federated(FederatedTrust {
        issuer: GITHUB.to_string(),
        audiences: vec!["sts.amazonaws.com".to_string()],
        conditions: vec![ClaimCondition {
            claim: "sub".to_string(),
            operator,
            values: subjects.iter().map(ToString::to_string).collect(),
            set_operator: None,
            if_exists: false,
            ignore_case: false,
        }],
        source: "role".to_string(),
    })
}

#[test]
fn a_new_wildcard_subject_is_a_trust_drift() {
    let before = [github(
        ClaimOperator::Equals,
        &["repo:acme/web:ref:refs/heads/main"],
    )];
    let after = [github(
        ClaimOperator::Like,
        &["repo:acme/web:ref:refs/heads/main", "repo:acme/*"],
    )];
    let (added, removed) = trust_changes(&before, &after);
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(added.len(), 1, "{added:?}");
    assert_eq!(added[0].value, "repo:acme/*");
    assert!(added[0].wildcard);
    assert!(added[0].severity >= Severity::High);
}

#[test]
fn a_subject_an_earlier_pattern_admits_is_no_trust_drift() {
    let before = [github(ClaimOperator::Like, &["repo:acme/web:*"])];
    let after = [github(
        ClaimOperator::Equals,
        &["repo:acme/web:ref:refs/heads/main"],
    )];
    let (added, removed) = trust_changes(&before, &after);
    assert!(added.is_empty(), "{added:?}");
    // The wildcard went away: the trust narrowed, reported at `info`.
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].severity, Severity::Info);
}

#[test]
fn the_same_subjects_in_another_order_are_no_trust_drift() {
    let before = [github(
        ClaimOperator::Like,
        &["repo:acme/a:*", "repo:acme/b:*"],
    )];
    let after = [github(
        ClaimOperator::Like,
        &["repo:acme/b:*", "repo:acme/a:*"],
    )];
    assert_eq!(trust_changes(&before, &after), (Vec::new(), Vec::new()));
}

#[test]
fn dropping_the_sub_condition_admits_every_subject() {
    let before = [github(
        ClaimOperator::Equals,
        &["repo:acme/web:ref:refs/heads/main"],
    )];
    let after = [Trust::Federated(FederatedTrust {
        issuer: GITHUB.to_string(),
        audiences: vec!["sts.amazonaws.com".to_string()],
        conditions: Vec::new(),
        source: "role".to_string(),
    })];
    let (added, _) = trust_changes(&before, &after);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].severity, Severity::Critical);
}

#[test]
fn anyone_trusted_is_critical() {
    let (added, _) = trust_changes(&[], &[Trust::Anyone]);
    assert_eq!(added[0].severity, Severity::Critical);
}

fn identity(used: &[&str]) -> IdentityFacts {
    IdentityFacts {
        arn: "arn:aws:iam::111122223333:role/ci".to_string(),
        kind: "role",
        account: "111122223333".to_string(),
        policies: vec![PolicyFact {
            name: "p".to_string(),
            attachment: crate::aws::grant::AwsAttachment::Identity,
            document: crate::aws::parse_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#,
            )
            .expect("policy"),
        }],
        trusts: Vec::new(),
        used: used.iter().map(ToString::to_string).collect(),
        findings: Vec::new(),
    }
}

fn snapshot(identity: IdentityFacts, usage: bool) -> SnapshotFacts {
    SnapshotFacts {
        usage_accounts: usage.then(|| [identity.account.clone()].into_iter().collect()),
        identities: [(identity.arn.clone(), identity)].into_iter().collect(),
    }
}

#[test]
fn usage_drift_names_newly_used_and_newly_unused_actions() {
    let catalog = crate::catalog::Catalog::aws().expect("catalog");
    let before = snapshot(identity(&["s3:getobject"]), true);
    let after = snapshot(identity(&["s3:putobject"]), true);
    let drift = compare(&before, &after, catalog);
    assert!(drift.usage_compared);
    assert_eq!(drift.identities.len(), 1);
    assert_eq!(
        drift.identities[0].newly_used,
        vec!["s3:putobject".to_string()]
    );
    assert_eq!(
        drift.identities[0].newly_unused,
        vec!["s3:getobject".to_string()]
    );
    assert_eq!(drift.identities[0].severity, Severity::Low);
}

#[test]
fn usage_is_not_compared_when_a_snapshot_holds_none() {
    let catalog = crate::catalog::Catalog::aws().expect("catalog");
    let before = snapshot(identity(&["s3:getobject"]), true);
    let after = snapshot(identity(&[]), false);
    let drift = compare(&before, &after, catalog);
    assert!(!drift.usage_compared);
    assert!(drift.identities.is_empty(), "{drift:?}");
    assert_eq!(drift.severity(), None);
}

#[test]
fn string_equals_becoming_string_like_is_a_new_wildcard() {
    // The same text, but `StringEquals` compares `*` literally and `StringLike` as a wildcard.
    let before = [github(ClaimOperator::Equals, &["repo:acme/web:*"])];
    let after = [github(ClaimOperator::Like, &["repo:acme/web:*"])];
    let (added, removed) = trust_changes(&before, &after);
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(added[0].wildcard);
    assert!(added[0].severity >= Severity::High, "{added:?}");
    // The old exact value is still admitted (the pattern matches it): nothing was removed.
    assert!(removed.is_empty(), "{removed:?}");
}

fn finding(id: &'static str) -> Finding {
    Finding {
        id,
        severity: Severity::Medium,
        confidence: crate::model::Confidence::High,
        subject: "role".to_string(),
        message: String::new(),
        evidence: Vec::new(),
        remediation: String::new(),
    }
}

#[test]
fn findings_about_use_are_not_compared_when_a_snapshot_holds_no_usage() {
    let catalog = crate::catalog::Catalog::aws().expect("catalog");
    let mut earlier = identity(&["s3:getobject"]);
    earlier.findings = vec![finding(crate::aws::checks::unused_permissions::ID)];
    let mut later = identity(&[]);
    later.findings = vec![
        finding(crate::aws::checks::never_used_identity::ID),
        finding(crate::aws::checks::missing_permissions::ID),
        finding("wildcard-action"),
    ];
    let drift = compare(&snapshot(earlier, true), &snapshot(later, false), catalog);
    assert_eq!(drift.identities.len(), 1, "{drift:?}");
    let new: Vec<&str> = drift.identities[0]
        .findings_new
        .iter()
        .map(|change| change.check.as_str())
        .collect();
    assert_eq!(new, ["wildcard-action"]);
    assert!(
        drift.identities[0].findings_resolved.is_empty(),
        "{drift:?}"
    );
}
