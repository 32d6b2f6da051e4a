//! GCP roles → permissions. Predefined roles come from the embedded seed
//! `providers/gcp/roles.json`, which uses the IAM API's `Role` shape (`name`, `title`,
//! `includedPermissions`) so that a dump from `roles.list?view=FULL` can replace it; custom
//! roles come from the inventory.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Whether a role's permission list is known to be whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleCoverage {
    /// Every permission of the role is listed (custom roles, roles read from the IAM API).
    Complete,
    /// Only some permissions are listed (the hand-written seed): a missing permission of one
    /// of `services` (the first segment, `storage` in `storage.objects.get`; `None` for any
    /// service) is *unknown* for this role, never "not granted". Permissions of other services
    /// are known not to be in the role.
    Partial { services: Option<BTreeSet<String>> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum CoverageWire {
    Complete,
    Partial,
}

/// A role and the permissions it contains.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GcpRole {
    pub name: String,
    pub title: String,
    pub permissions: BTreeSet<String>,
    pub coverage: RoleCoverage,
}

impl GcpRole {
    /// Could the role hold `permission` without listing it?
    pub fn may_hold_unlisted(&self, permission: &str) -> bool {
        match &self.coverage {
            RoleCoverage::Complete => false,
            RoleCoverage::Partial { services: None } => true,
            RoleCoverage::Partial {
                services: Some(services),
            } => {
                let service = permission.split('.').next().unwrap_or(permission);
                services.contains(service)
            }
        }
    }
}

/// A role file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleSeedError {
    #[error("cannot parse GCP roles: {0}")]
    Json(String),
    #[error("GCP role `{0}` appears twice")]
    Duplicate(String),
    #[error(
        "GCP role `{role}` lists permission `{permission}`, which is not `service.resource.verb`"
    )]
    BadPermission { role: String, permission: String },
}

#[derive(Deserialize)]
struct RolesFile {
    roles: Vec<RoleWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleWire {
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    included_permissions: Vec<String>,
    /// pipeleash's own fields; absent in IAM API output, which is complete.
    #[serde(default)]
    pipeleash_coverage: Option<CoverageWire>,
    /// For a partial role, the services whose permissions may be missing; absent means any.
    #[serde(default)]
    pipeleash_uncertain_services: Option<BTreeSet<String>>,
}

/// The seed embedded from `providers/gcp/roles.json`.
pub const ROLES_JSON: &str = include_str!("../../providers/gcp/roles.json");

/// Parse a roles file (`{"roles": [Role, …]}` in the IAM API shape).
pub fn parse_roles(text: &str) -> Result<BTreeMap<String, GcpRole>, RoleSeedError> {
    let file: RolesFile =
        serde_json::from_str(text).map_err(|error| RoleSeedError::Json(error.to_string()))?;
    let mut roles = BTreeMap::new();
    for wire in file.roles {
        for permission in &wire.included_permissions {
            // `service.resource.verb`, at least three dot-separated non-empty parts.
            let parts: Vec<&str> = permission.split('.').collect();
            if parts.len() < 3 || parts.iter().any(|part| part.is_empty()) {
                return Err(RoleSeedError::BadPermission {
                    role: wire.name.clone(),
                    permission: permission.clone(),
                });
            }
        }
        let role = GcpRole {
            name: wire.name.clone(),
            title: wire.title,
            permissions: wire.included_permissions.into_iter().collect(),
            coverage: match wire.pipeleash_coverage {
                None | Some(CoverageWire::Complete) => RoleCoverage::Complete,
                Some(CoverageWire::Partial) => RoleCoverage::Partial {
                    services: wire.pipeleash_uncertain_services,
                },
            },
        };
        if roles.insert(wire.name.clone(), role).is_some() {
            return Err(RoleSeedError::Duplicate(wire.name));
        }
    }
    Ok(roles)
}

/// The embedded predefined roles, parsed once.
pub fn seed_roles() -> Result<&'static BTreeMap<String, GcpRole>, RoleSeedError> {
    static SEED: OnceLock<Result<BTreeMap<String, GcpRole>, RoleSeedError>> = OnceLock::new();
    SEED.get_or_init(|| parse_roles(ROLES_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_seed_parses_and_holds_the_ci_roles() {
        let roles = seed_roles().unwrap();
        for name in [
            "roles/storage.objectViewer",
            "roles/storage.objectAdmin",
            "roles/storage.admin",
            "roles/run.admin",
            "roles/run.developer",
            "roles/iam.serviceAccountUser",
            "roles/iam.workloadIdentityUser",
            "roles/artifactregistry.writer",
            "roles/artifactregistry.reader",
            "roles/container.developer",
            "roles/cloudbuild.builds.editor",
            "roles/secretmanager.secretAccessor",
            "roles/cloudfunctions.developer",
            "roles/viewer",
        ] {
            let role = roles.get(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(!role.permissions.is_empty(), "{name} has no permissions");
            assert!(
                matches!(role.coverage, RoleCoverage::Partial { .. }),
                "{name}"
            );
        }
        assert!(
            roles["roles/storage.objectViewer"]
                .permissions
                .contains("storage.objects.get")
        );
        assert!(
            !roles["roles/run.developer"]
                .permissions
                .contains("run.services.setIamPolicy")
        );
        assert!(
            roles["roles/run.admin"]
                .permissions
                .contains("run.services.setIamPolicy")
        );
    }

    #[test]
    fn partial_roles_are_uncertain_only_for_their_services() {
        let roles = seed_roles().unwrap();
        let viewer = &roles["roles/storage.objectViewer"];
        assert!(viewer.may_hold_unlisted("storage.objects.restore"));
        assert!(!viewer.may_hold_unlisted("run.services.update"));
        assert!(roles["roles/viewer"].may_hold_unlisted("run.services.update"));
    }

    #[test]
    fn api_output_without_coverage_is_complete() {
        let roles = parse_roles(
            r#"{"roles":[{"name":"projects/p/roles/deployer","title":"D","includedPermissions":["run.services.update"],"etag":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(
            roles["projects/p/roles/deployer"].coverage,
            RoleCoverage::Complete
        );
    }

    #[test]
    fn bad_files_are_named() {
        assert!(matches!(parse_roles("{"), Err(RoleSeedError::Json(_))));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"name":"r","includedPermissions":["storage"]}]}"#),
            Err(RoleSeedError::BadPermission { .. })
        ));
        assert!(matches!(
            parse_roles(r#"{"roles":[{"name":"r"},{"name":"r"}]}"#),
            Err(RoleSeedError::Duplicate(_))
        ));
    }
}
