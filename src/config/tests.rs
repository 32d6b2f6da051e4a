use super::*;
use std::path::Path;

const CHECKS: &[&str] = &["wildcard-action", "oidc-subject-wildcard"];

fn parse_text(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new("pipeleash.toml"), CHECKS)
}

#[test]
fn the_example_init_writes_is_valid() {
    let config = parse_text(EXAMPLE).expect("the example parses");
    assert_eq!(config.store, PathBuf::from(DEFAULT_STORE));
    assert_eq!(config.keep, Some(90));
    assert_eq!(config.fail_on, Some(Severity::High));
    assert_eq!(config.suppressions.len(), 1);
    assert_eq!(
        config.aws.expect("aws").accounts,
        vec!["210987654321".to_string()]
    );
}

#[test]
fn an_empty_file_is_all_defaults() {
    let config = parse_text("").expect("empty parses");
    assert_eq!(config.store, PathBuf::from(DEFAULT_STORE));
    assert_eq!(config.keep, None);
    assert!(config.aws.is_none());
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let error = parse_text("[store]\npath = \"x\"\nkeeep = 3\n")
        .expect_err("unknown key")
        .to_string();
    assert!(error.contains("keeep"), "{error}");
    assert!(error.contains("line 3"), "{error}");
}

#[test]
fn an_unknown_section_is_named_with_its_line() {
    let error = parse_text("[store]\n\n[stores]\npath = \"x\"\n")
        .expect_err("unknown section")
        .to_string();
    assert!(error.contains("stores"), "{error}");
    assert!(error.contains("line 3"), "{error}");
}

#[test]
fn a_bad_severity_is_named_with_its_line() {
    let error = parse_text("[report]\nfail_on = \"severe\"\n")
        .expect_err("bad severity")
        .to_string();
    assert!(error.contains("line 2"), "{error}");
    assert!(error.contains("severe"), "{error}");
}

#[test]
fn invalid_values_name_key_and_line() {
    let cases = [
        ("[store]\nkeep = 0\n", "store.keep", 2),
        ("[report]\n\nformat = \"xml\"\n", "report.format", 3),
        ("[aws]\naccounts = [\"12345\"]\n", "aws.accounts", 2),
        (
            "[[suppress]]\ncheck = \"no-such-check\"\nidentity = \"*\"\nreason = \"r\"\nexpires = 2027-01-01\n",
            "suppress.check",
            2,
        ),
        (
            "[[suppress]]\ncheck = \"wildcard-action\"\nidentity = \"*\"\nreason = \" \"\nexpires = 2027-01-01\n",
            "suppress.reason",
            4,
        ),
        (
            "[[suppress]]\ncheck = \"wildcard-action\"\nidentity = \"*\"\nreason = \"r\"\nexpires = 2027-01-01T10:00:00Z\n",
            "suppress.expires",
            5,
        ),
    ];
    for (text, key, line) in cases {
        match parse_text(text) {
            Err(ConfigError::Invalid {
                key: found_key,
                line: found_line,
                ..
            }) => {
                assert_eq!((found_key.as_str(), found_line), (key, line), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn a_suppression_without_expiry_is_refused() {
    let error =
        parse_text("[[suppress]]\ncheck = \"wildcard-action\"\nidentity = \"*\"\nreason = \"r\"\n")
            .expect_err("missing expires")
            .to_string();
    assert!(error.contains("expires"), "{error}");
}

#[test]
fn gcp_and_azure_sections_name_their_logs() {
    let config =
        parse_text("[gcp]\naudit_logs = \"sink/\"\n[azure]\nactivity_logs = \"export/\"\n")
            .expect("valid");
    assert_eq!(config.gcp_audit_logs.as_deref(), Some("sink/"));
    assert_eq!(config.azure_activity_logs.as_deref(), Some("export/"));
}

#[test]
fn unknown_keys_of_gcp_and_azure_are_refused_with_their_line() {
    for section in ["gcp", "azure"] {
        let error = parse_text(&format!("[store]\n[{section}]\nprojects = []\n"))
            .expect_err("unknown key")
            .to_string();
        assert!(error.contains("projects"), "{error}");
        assert!(error.contains("line 3"), "{error}");
    }
}

fn finding(id: &'static str) -> Finding {
    Finding {
        id,
        severity: Severity::High,
        confidence: Confidence::High,
        subject: "s".to_string(),
        message: "m".to_string(),
        evidence: Vec::new(),
        remediation: String::new(),
    }
}

fn suppression(identity: &str, expires: &str) -> Suppression {
    Suppression {
        check: "wildcard-action".to_string(),
        identity: identity.to_string(),
        reason: "accepted".to_string(),
        expires: expires.parse().expect("date"),
        origin: "pipeleash.toml line 1".to_string(),
    }
}

#[test]
fn an_active_suppression_removes_only_its_check_on_matching_identities() {
    let today: NaiveDate = "2027-01-01".parse().expect("date");
    let suppressions = [suppression("arn:aws:iam::1:role/ci/*", "2027-01-01")];
    let mut a = vec![finding("wildcard-action"), finding("oidc-subject-wildcard")];
    let mut b = vec![finding("wildcard-action")];
    let unmatched = apply_suppressions(
        &suppressions,
        today,
        &mut [
            ("arn:aws:iam::1:role/ci/a", &mut a),
            ("arn:aws:iam::2:role/ci/b", &mut b),
        ],
    );
    assert!(unmatched.is_empty());
    assert_eq!(
        a.iter().map(|finding| finding.id).collect::<Vec<_>>(),
        vec!["oidc-subject-wildcard"]
    );
    assert_eq!(b.len(), 1, "another account is not covered");
}

#[test]
fn an_expired_suppression_is_itself_a_finding_and_suppresses_nothing() {
    let today: NaiveDate = "2027-01-02".parse().expect("date");
    let suppressions = [
        suppression("arn:aws:iam::1:role/ci/a", "2027-01-01"),
        suppression("arn:aws:iam::1:role/gone", "2027-01-01"),
    ];
    let mut a = vec![finding("wildcard-action")];
    let unmatched = apply_suppressions(
        &suppressions,
        today,
        &mut [("arn:aws:iam::1:role/ci/a", &mut a)],
    );
    let ids: Vec<&str> = a.iter().map(|finding| finding.id).collect();
    assert_eq!(ids, vec!["wildcard-action", EXPIRED_SUPPRESSION]);
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].identity, "arn:aws:iam::1:role/gone");
}
