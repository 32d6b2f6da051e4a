//! Parsing IAM policy documents: every accepted form, every rejection with a message that
//! names the statement and field, canonical JSON round trips, and no panics on any input.

use pipeleash::aws::{
    ActionClause, ConditionOperator, OperatorBase, PolicyDocument, PolicyError, PolicyVersion,
    Principal, PrincipalClause, ResourceClause, SetQuantifier, parse_policy,
};
use pipeleash::model::Effect;
use proptest::prelude::*;
use std::path::Path;

fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws/policies")
        .join(path);
    std::fs::read_to_string(&full)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", full.display()))
}

fn parse_ok(text: &str) -> PolicyDocument {
    parse_policy(text)
        .unwrap_or_else(|error| panic!("expected a valid policy, got: {error}\n{text}"))
}

/// Each malformed fixture and a substring its error message must contain.
const MALFORMED: &[(&str, &str)] = &[
    (
        "effect_lowercase",
        "statement 3 (`DeployProd`): `Effect` must be `Allow` or `Deny`, found `allow`",
    ),
    ("effect_missing", "statement 1: `Effect` is missing"),
    (
        "effect_not_string",
        "`Effect` must be `Allow` or `Deny`, found a boolean",
    ),
    ("action_and_not_action", "has both `Action` and `NotAction`"),
    ("action_missing", "needs `Action` or `NotAction`"),
    ("action_empty_array", "`Action` must not be an empty array"),
    (
        "action_number",
        "`Action` must be a string or an array of strings, found a number",
    ),
    (
        "action_array_with_number",
        "`Action` must contain only strings, found a number",
    ),
    (
        "action_without_service",
        "`Action` entry `GetObject` must be `*` or `service:action`",
    ),
    (
        "resource_and_not_resource",
        "has both `Resource` and `NotResource`",
    ),
    (
        "resource_not_arn",
        "`Resource` entry `my-bucket` must be `*` or an ARN",
    ),
    (
        "resource_empty_array",
        "`Resource` must not be an empty array",
    ),
    (
        "resource_and_principal_missing",
        "statement 1 (`Everything`): needs `Resource` or `NotResource`",
    ),
    ("unknown_operator", "unknown operator `StringEqual`"),
    (
        "null_if_exists",
        "`NullIfExists` is invalid: `Null` has no `IfExists` form",
    ),
    (
        "condition_not_object",
        "`Condition` must be an object of operators, found a string",
    ),
    (
        "condition_block_not_object",
        "`StringEquals` must map condition keys to values, found an array",
    ),
    (
        "condition_empty_values",
        "`aws:username`: value list must not be empty",
    ),
    (
        "condition_value_object",
        "values must be strings, numbers or booleans, found an object",
    ),
    (
        "bad_ip",
        "value `300.1.2.3` must be an IP address or CIDR block",
    ),
    (
        "bad_date",
        "value `next tuesday` must be an ISO 8601 date or epoch seconds",
    ),
    ("bad_number", "value `ten` must be a number"),
    ("bad_bool", "value `no` must be `true` or `false`"),
    ("bad_null_value", "value `maybe` must be `true` or `false`"),
    ("bad_base64", "must be base64 data"),
    ("truncated", "policy is not valid json: EOF while parsing"),
    (
        "bad_percent_encoding",
        "policy is url-encoded but cannot be decoded: invalid escape",
    ),
    (
        "statement_string",
        "`Statement` must be an object or an array of objects, found a string",
    ),
    (
        "statement_array_of_strings",
        "statement 1: a statement must be a json object, found a string",
    ),
    (
        "statement_empty_array",
        "`Statement` must contain at least one statement",
    ),
    ("statement_missing", "`Statement` is missing"),
    ("unknown_top_level_key", "unknown key `Statements`"),
    (
        "unknown_statement_key",
        "statement 1: unknown key `Conditions`",
    ),
    (
        "duplicate_statement_key",
        "key `Effect` appears more than once",
    ),
    (
        "duplicate_operator",
        "operator `StringEquals` appears more than once",
    ),
    (
        "bad_version",
        "`Version` must be `2012-10-17` or `2008-10-17`, found `2012-10-18`",
    ),
    (
        "document_array",
        "the document must be a json object, found an array",
    ),
    ("principal_unknown_type", "`Principal`: unknown key `User`"),
    (
        "principal_bare_string",
        "`Principal` must be `*` or an object",
    ),
    (
        "principal_and_not_principal",
        "has both `Principal` and `NotPrincipal`",
    ),
    ("sid_number", "`Sid` must be a string, found a number"),
    ("empty_text", "policy is not valid json"),
];

#[test]
fn every_malformed_fixture_is_rejected_with_its_message() {
    let directory =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws/policies/malformed");
    let mut on_disk: Vec<String> = std::fs::read_dir(&directory)
        .expect("fixture directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = MALFORMED.iter().map(|(name, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every malformed fixture needs an expected message, and vice versa"
    );
    assert!(MALFORMED.len() >= 25);
    for (name, expected) in MALFORMED {
        let text = fixture(&format!("malformed/{name}.json"));
        match parse_policy(&text) {
            Ok(document) => panic!("{name}: expected an error, parsed {document:?}"),
            Err(error) => {
                let message = error.to_string();
                assert!(
                    message.contains(expected),
                    "{name}: message {message:?} lacks {expected:?}"
                );
            }
        }
    }
}

#[test]
fn error_names_statement_number_and_sid() {
    let error = parse_policy(&fixture("malformed/effect_lowercase.json")).unwrap_err();
    match error {
        PolicyError::Statement { location, .. } => {
            assert_eq!(location.number, 3);
            assert_eq!(location.sid.as_deref(), Some("DeployProd"));
        }
        other => panic!("expected a statement error, got {other:?}"),
    }
}

#[test]
fn parses_every_element_of_a_full_policy() {
    let document = parse_ok(&fixture("valid/deploy_role.json"));
    assert_eq!(document.version, Some(PolicyVersion::V2012_10_17));
    assert_eq!(document.id.as_deref(), Some("ci-deploy"));
    assert_eq!(document.statements.len(), 2);
    let read = &document.statements[0];
    assert_eq!(read.index, 0);
    assert_eq!(read.sid.as_deref(), Some("ReadArtifacts"));
    assert_eq!(read.effect, Effect::Allow);
    assert_eq!(
        read.action,
        ActionClause::Action(vec!["s3:GetObject".into(), "s3:ListBucket".into()])
    );
    let deny = &document.statements[1];
    assert_eq!(deny.effect, Effect::Deny);
    assert_eq!(
        deny.action,
        ActionClause::NotAction(vec!["iam:PassRole".into()])
    );
    assert!(matches!(
        deny.resource,
        Some(ResourceClause::NotResource(_))
    ));
    assert_eq!(
        deny.conditions.len(),
        10,
        "one condition per operator × key"
    );
    let operators: Vec<String> = deny
        .conditions
        .iter()
        .map(|condition| condition.operator.to_string())
        .collect();
    assert!(operators.contains(&"ForAnyValue:StringLike".to_owned()));
    assert!(operators.contains(&"NotIpAddressIfExists".to_owned()));
    let numeric = deny
        .conditions
        .iter()
        .find(|condition| condition.key == "s3:max-keys")
        .unwrap();
    assert_eq!(numeric.values, ["100"], "numbers are kept as their text");
    let secure = deny
        .conditions
        .iter()
        .find(|condition| condition.key == "aws:SecureTransport")
        .unwrap();
    assert_eq!(secure.values, ["false"], "booleans become their text");
    let ip = deny
        .conditions
        .iter()
        .find(|condition| condition.key == "aws:SourceIp")
        .unwrap();
    assert_eq!(
        ip.operator,
        ConditionOperator {
            quantifier: None,
            base: OperatorBase::NotIpAddress,
            if_exists: true
        }
    );
    let all = deny
        .conditions
        .iter()
        .find(|c| c.operator.quantifier == Some(SetQuantifier::ForAllValues))
        .unwrap();
    assert_eq!(all.values.len(), 2);
}

#[test]
fn url_encoded_documents_are_decoded() {
    let encoded = fixture("valid/deploy_role.urlencoded");
    assert!(encoded.starts_with("%7B"));
    assert_eq!(
        parse_ok(&encoded),
        parse_ok(&fixture("valid/deploy_role.json"))
    );
}

#[test]
fn plus_is_not_a_space_in_url_encoded_documents() {
    let document = parse_ok(
        "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGet*%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa+b%22%7D%7D",
    );
    assert_eq!(
        document.statements[0].resource,
        Some(ResourceClause::Resource(vec!["arn:aws:s3:::a+b".into()]))
    );
}

#[test]
fn statement_may_be_a_single_object_without_resource() {
    let document = parse_ok(&fixture("valid/trust_policy.json"));
    let statement = &document.statements[0];
    assert_eq!(statement.resource, None);
    match &statement.principal {
        Some(PrincipalClause::Principal(Principal::Listed(map))) => {
            assert_eq!(map.federated.len(), 1);
            assert!(map.aws.is_empty());
        }
        other => panic!("unexpected principal {other:?}"),
    }
}

#[test]
fn version_2008_and_absent_are_accepted() {
    let legacy = parse_ok(&fixture("valid/legacy_2008.json"));
    assert_eq!(legacy.version, Some(PolicyVersion::V2008_10_17));
    assert!(!legacy.variables_enabled());
    let absent = parse_ok(r#"{"Statement":{"Effect":"Deny","NotAction":"*","NotResource":"*"}}"#);
    assert_eq!(absent.version, None);
    assert!(!absent.variables_enabled());
}

#[test]
fn principal_star_and_not_principal() {
    let document = parse_ok(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::1:root"],"CanonicalUser":"abc"},"Action":"s3:*","Resource":"*"}]}"#,
    );
    assert_eq!(
        document.statements[0].principal,
        Some(PrincipalClause::Principal(Principal::Everyone))
    );
    assert!(matches!(
        document.statements[1].principal,
        Some(PrincipalClause::NotPrincipal(Principal::Listed(_)))
    ));
}

#[test]
fn variables_are_not_type_checked_before_evaluation() {
    parse_ok(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"NumericLessThan":{"k:n":"${aws:PrincipalTag/limit}"}}}}"#,
    );
}

#[test]
fn canonical_json_round_trips() {
    for name in [
        "valid/deploy_role.json",
        "valid/trust_policy.json",
        "valid/legacy_2008.json",
    ] {
        let document = parse_ok(&fixture(name));
        let json = document.to_json();
        let again = parse_ok(&json.to_string());
        assert_eq!(again, document, "{name} changed on a round trip");
        assert_eq!(
            again.to_json(),
            json,
            "{name}: canonical form is a fixed point"
        );
        assert!(
            json["Statement"].is_array(),
            "canonical `Statement` is an array"
        );
    }
}

#[test]
fn canonical_json_shape() {
    let document = parse_ok(
        r#"{"Statement":{"Sid":"S","Effect":"Allow","Action":["s3:GetObject"],"Resource":["a","b"],"Condition":{"Bool":{"aws:SecureTransport":true}}}}"#
            .replace("\"a\"", "\"arn:a\"")
            .replace("\"b\"", "\"arn:b\"")
            .as_str(),
    );
    let json = document.to_json();
    assert_eq!(
        json,
        serde_json::json!({"Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:a","arn:b"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]})
    );
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "Allow",
            "Deny",
            "*",
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            "2012-10-17",
            "10.0.0.0/8",
            "true",
            "${aws:username}",
            "StringEquals",
            "NullIfExists",
            "ForAnyValue:StringLike",
            "aws:SourceIp",
            "",
            "%7B",
        ])
        .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "Version",
            "Statement",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "AWS",
            "Condition",
            "Sid",
            "Id",
            "IpAddress",
            "DateLessThan",
            "Null",
            "Bool",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec((keys, inner), 0..5).prop_map(|entries| {
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = parse_policy(&text);
        let _ = parse_policy(&format!("%{text}"));
    }

    #[test]
    fn arbitrary_json_never_panics_and_valid_documents_round_trip(value in arbitrary_json()) {
        if let Ok(document) = parse_policy(&value.to_string()) {
            let again = parse_policy(&document.to_json().to_string());
            prop_assert_eq!(again, Ok(document));
        }
    }
}
