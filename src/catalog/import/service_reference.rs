//! AWS's own service reference JSON (`https://servicereference.us-east-1.amazonaws.com/v1/
//! <service>/<service>.json`): `Name` (the prefix), `Actions` (`Name`, `Annotations.Properties`
//! with `IsList`/`IsWrite`/`IsPermissionManagement`/`IsTaggingOnly`, `ActionConditionKeys`,
//! `Resources[].Name`), `Resources` (`Name`, `ARNFormats`) and `Version`.
//!
//! The format does not say which resource types are required, nor give a display name, so
//! every resource type is recorded as optional and the prefix doubles as the name.

use super::{ActionBuilder, EXPECTED};
use crate::catalog::{AccessLevel, Catalog, CatalogError, ResourceType, Service, Source};
use crate::model::Provider;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawService {
    name: String,
    #[serde(default)]
    actions: Vec<RawAction>,
    #[serde(default)]
    resources: Vec<RawResource>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAction {
    name: String,
    #[serde(default)]
    annotations: Option<RawAnnotations>,
    #[serde(default)]
    action_condition_keys: Vec<String>,
    #[serde(default)]
    resources: Vec<RawNamed>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawAnnotations {
    #[serde(default)]
    properties: Option<RawProperties>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawProperties {
    #[serde(default)]
    is_list: bool,
    #[serde(default)]
    is_write: bool,
    #[serde(default)]
    is_permission_management: bool,
    #[serde(default)]
    is_tagging_only: bool,
}

impl RawProperties {
    /// The specific flags win over `IsWrite`, which AWS also sets on permission-management
    /// and tagging actions; an action with no flag at all is a read.
    fn access_level(&self) -> AccessLevel {
        if self.is_permission_management {
            AccessLevel::PermissionsManagement
        } else if self.is_tagging_only {
            AccessLevel::Tagging
        } else if self.is_write {
            AccessLevel::Write
        } else if self.is_list {
            AccessLevel::List
        } else {
            AccessLevel::Read
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawNamed {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawResource {
    name: String,
    #[serde(default, rename = "ARNFormats")]
    arn_formats: Vec<String>,
}

/// Converts parsed service reference documents (each with the path it was read from).
pub fn from_service_reference(
    documents: &[(PathBuf, serde_json::Value)],
) -> Result<Catalog, CatalogError> {
    let mut services = Vec::with_capacity(documents.len());
    let mut versions = BTreeSet::new();
    for (path, value) in documents {
        let raw = RawService::deserialize(value).map_err(|error| CatalogError::Invalid {
            path: path.clone(),
            message: format!("not a valid AWS service reference file ({error}); {EXPECTED}"),
        })?;
        let prefix = raw.name;
        if prefix.is_empty() || prefix.contains([':', '\t']) {
            return Err(CatalogError::Invalid {
                path: path.clone(),
                message: format!("`Name` must be a service prefix such as `s3`, not `{prefix}`"),
            });
        }
        if let Some(version) = raw.version {
            versions.insert(version);
        }
        let actions = raw
            .actions
            .into_iter()
            .map(|action| {
                let level = action
                    .annotations
                    .and_then(|annotations| annotations.properties)
                    .unwrap_or_default()
                    .access_level();
                let mut builder = ActionBuilder::default();
                builder.condition_keys(&action.action_condition_keys);
                for resource in &action.resources {
                    builder.resource(&resource.name, false);
                }
                builder.build(format!("{prefix}:{}", action.name), level)
            })
            .collect();
        let resource_types = raw
            .resources
            .into_iter()
            .map(|resource| ResourceType {
                name: resource.name,
                arn_formats: resource.arn_formats,
            })
            .collect();
        services.push(Service {
            name: prefix.clone(),
            prefix,
            actions,
            resource_types,
        });
    }
    let source = Source {
        name: "aws-service-reference".to_string(),
        version: if versions.is_empty() {
            "unknown".to_string()
        } else {
            versions.into_iter().collect::<Vec<_>>().join("+")
        },
        date: "unknown".to_string(),
    };
    Catalog::new(Provider::Aws, source, services).map_err(|error| CatalogError::Invalid {
        path: documents
            .first()
            .map(|(path, _)| path.clone())
            .unwrap_or_default(),
        message: error.to_string(),
    })
}
