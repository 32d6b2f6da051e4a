//! Role catalogs of GCP and Azure from role lists: the public dataset files (GCP's
//! `{"roles": [Role]}`, Azure's `az role definition list` array, gzip'd or not) and live API
//! responses (GCP `roles.list?view=FULL` pages, Azure ARM `roleDefinitions` pages), one file
//! or several, or directories of them.
//!
//! Predefined and built-in roles go into the catalog; custom roles in the input are counted
//! and left out (they come from the inventory), as are GCP roles marked deleted.

use super::{parse_json, read};
use crate::azure::{AzureRoleDefinition, RoleType, insert_definition, parse_definition_page};
use crate::catalog::azure::AzureRoleCatalog;
use crate::catalog::gcp::GcpRoleCatalog;
use crate::catalog::{CatalogError, Source};
use crate::gcp::{GcpRole, insert_role, parse_role_page};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// A GCP role catalog read from role lists, with what was left out.
#[derive(Debug)]
pub struct GcpImport {
    pub catalog: GcpRoleCatalog,
    /// Custom roles (`projects/…/roles/…`, `organizations/…/roles/…`) in the input.
    pub skipped_custom: usize,
    /// Roles marked `deleted: true`.
    pub skipped_deleted: usize,
}

/// An Azure role catalog read from role definition lists, with what was left out.
#[derive(Debug)]
pub struct AzureImport {
    pub catalog: AzureRoleCatalog,
    /// Custom role definitions (`CustomRole`) in the input.
    pub skipped_custom: usize,
}

/// The files to read: each path itself, or for a directory its `.json` and `.json.gz` files,
/// sorted by name.
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CatalogError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| CatalogError::Read {
            path: path.clone(),
            source,
        })?;
        if !metadata.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| CatalogError::Read {
                path: path.clone(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| {
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                (name.ends_with(".json") || name.ends_with(".json.gz")) && file.is_file()
            })
            .collect();
        inside.sort();
        if inside.is_empty() {
            return Err(CatalogError::Invalid {
                path: path.clone(),
                message: "the directory holds no `.json` or `.json.gz` file".to_string(),
            });
        }
        files.extend(inside);
    }
    if files.is_empty() {
        return Err(CatalogError::Invalid {
            path: PathBuf::from("."),
            message: "no input file given".to_string(),
        });
    }
    Ok(files)
}

/// A JSON file, gunzipped first when it starts with the gzip magic bytes.
fn read_json(path: &Path) -> Result<serde_json::Value, CatalogError> {
    let bytes = read(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut text)
            .map_err(|error| CatalogError::Invalid {
                path: path.to_path_buf(),
                message: format!("cannot decompress the gzip file: {error}"),
            })?;
        return parse_json(path, &text);
    }
    parse_json(path, &bytes)
}

/// The source recorded when none is given: the names of the files read.
fn default_source(files: &[PathBuf]) -> Source {
    let names: Vec<String> = files
        .iter()
        .map(|file| {
            file.file_name().map_or_else(
                || file.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            )
        })
        .collect();
    Source {
        name: names.join(","),
        version: "unknown".to_string(),
        date: "unknown".to_string(),
    }
}

/// Every file given says more pages follow: the last page is missing, and a catalog built
/// without it would silently lack roles.
fn missing_last_page(files: &[PathBuf], field: &str) -> CatalogError {
    CatalogError::Invalid {
        path: files.last().cloned().unwrap_or_default(),
        message: format!(
            "every file given has a `{field}`, so at least the last page is missing; fetch pages until one comes without `{field}` and pass them all"
        ),
    }
}

/// Reads GCP role lists into a catalog of predefined roles. `source` defaults to the names of
/// the files read, with version and date `unknown`.
pub fn import_gcp(paths: &[PathBuf], source: Option<Source>) -> Result<GcpImport, CatalogError> {
    let files = input_files(paths)?;
    let mut roles: BTreeMap<String, GcpRole> = BTreeMap::new();
    let mut skipped_custom = 0;
    let mut skipped_deleted = 0;
    let mut pages_with_token = 0;
    for file in &files {
        let invalid = |message: String| CatalogError::Invalid {
            path: file.clone(),
            message,
        };
        let page =
            parse_role_page(&read_json(file)?).map_err(|error| invalid(error.to_string()))?;
        pages_with_token += usize::from(page.next_page_token.is_some());
        skipped_deleted += page.deleted;
        for role in page.roles {
            if !role.is_predefined() {
                skipped_custom += 1;
                continue;
            }
            insert_role(&mut roles, role).map_err(|error| {
                invalid(format!(
                    "{error}; pass each page once, all from one listing"
                ))
            })?;
        }
    }
    if pages_with_token == files.len() {
        return Err(missing_last_page(&files, "nextPageToken"));
    }
    if roles.is_empty() {
        return Err(CatalogError::Invalid {
            path: files.last().cloned().unwrap_or_default(),
            message: "no predefined role (`roles/…`) in the input; list them with `GET https://iam.googleapis.com/v1/roles?view=FULL`".to_string(),
        });
    }
    let source = source.unwrap_or_else(|| default_source(&files));
    Ok(GcpImport {
        catalog: GcpRoleCatalog::new(source, roles.into_values())?,
        skipped_custom,
        skipped_deleted,
    })
}

/// Reads Azure role definition lists into a catalog of built-in roles. `source` defaults to
/// the names of the files read, with version and date `unknown`.
pub fn import_azure(
    paths: &[PathBuf],
    source: Option<Source>,
) -> Result<AzureImport, CatalogError> {
    let files = input_files(paths)?;
    let mut definitions: BTreeMap<String, AzureRoleDefinition> = BTreeMap::new();
    let mut skipped_custom = 0;
    let mut pages_with_link = 0;
    for file in &files {
        let invalid = |message: String| CatalogError::Invalid {
            path: file.clone(),
            message,
        };
        let page =
            parse_definition_page(&read_json(file)?).map_err(|error| invalid(error.to_string()))?;
        pages_with_link += usize::from(page.next_link.is_some());
        for definition in page.definitions {
            if definition.role_type == RoleType::Custom {
                skipped_custom += 1;
                continue;
            }
            insert_definition(&mut definitions, definition).map_err(|error| {
                invalid(format!(
                    "{error}; pass each page once, all from one listing"
                ))
            })?;
        }
    }
    if pages_with_link == files.len() {
        return Err(missing_last_page(&files, "nextLink"));
    }
    if definitions.is_empty() {
        return Err(CatalogError::Invalid {
            path: files.last().cloned().unwrap_or_default(),
            message: "no built-in role definition (`BuiltInRole`) in the input; list them with `GET https://management.azure.com/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=type eq 'BuiltInRole'`".to_string(),
        });
    }
    let source = source.unwrap_or_else(|| default_source(&files));
    Ok(AzureImport {
        catalog: AzureRoleCatalog::new(source, definitions.into_values())?,
        skipped_custom,
    })
}
