//! `pipeleash catalog … --format json`: the AWS permission catalog (`expand`, `show`,
//! `stats`) and the GCP and Azure role catalogs (`expand`, `show`, `stats`, `roles`). Every
//! view carries `version: "pipeleash.catalog/v1"`.

use crate::azure::AzureRoleDefinition;
use crate::catalog::azure::{AzureRoleCatalog, RoleMatch};
use crate::catalog::gcp::{GcpRoleCatalog, PredefinedRole};
use crate::catalog::{AccessLevel, Action, Catalog, Source};
use serde::Serialize;
use std::collections::HashMap;

/// The version tag of every catalog view.
pub const VERSION: &str = "pipeleash.catalog/v1";

/// Where a catalog's data came from.
#[derive(Serialize)]
pub struct SourceView<'a> {
    name: &'a str,
    version: &'a str,
    date: &'a str,
}

impl<'a> From<&'a Source> for SourceView<'a> {
    fn from(source: &'a Source) -> Self {
        SourceView {
            name: &source.name,
            version: &source.version,
            date: &source.date,
        }
    }
}

// ---- AWS: actions ----

/// One AWS action of the catalog.
#[derive(Serialize)]
pub struct ActionView<'a> {
    name: &'a str,
    access_level: &'static str,
    resource_types: Vec<ResourceView<'a>>,
    condition_keys: &'a [String],
}

/// A resource type an action works on; `arn_formats` only in `show`.
#[derive(Serialize)]
pub struct ResourceView<'a> {
    name: &'a str,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn_formats: Option<&'a [String]>,
}

impl<'a> ActionView<'a> {
    fn new(catalog: &'a Catalog, action: &'a Action, with_arns: bool) -> ActionView<'a> {
        ActionView {
            name: &action.name,
            access_level: action.access_level.as_str(),
            resource_types: action
                .resource_types
                .iter()
                .map(|resource| ResourceView {
                    name: &resource.name,
                    required: resource.required,
                    arn_formats: with_arns.then(|| {
                        catalog
                            .resource_type(action, &resource.name)
                            .map_or(&[][..], |known| known.arn_formats.as_slice())
                    }),
                })
                .collect(),
            condition_keys: &action.condition_keys,
        }
    }
}

/// The `--format json` shape of `catalog expand`: the actions a pattern matches.
#[derive(Serialize)]
pub struct ExpandView<'a> {
    version: &'static str,
    pattern: &'a str,
    count: usize,
    actions: Vec<ActionView<'a>>,
}

impl<'a> ExpandView<'a> {
    /// The view of the `actions` of `catalog` that `pattern` matches.
    pub fn new(catalog: &'a Catalog, pattern: &'a str, actions: &[&'a Action]) -> Self {
        ExpandView {
            version: VERSION,
            pattern,
            count: actions.len(),
            actions: actions
                .iter()
                .map(|action| ActionView::new(catalog, action, false))
                .collect(),
        }
    }
}

/// The `--format json` shape of `catalog show`: one action with its service and ARN formats.
#[derive(Serialize)]
pub struct ShowView<'a> {
    version: &'static str,
    service: &'a str,
    service_name: &'a str,
    #[serde(flatten)]
    action: ActionView<'a>,
}

impl<'a> ShowView<'a> {
    /// The view of `action`, whose service is named `service_name`.
    pub fn new(catalog: &'a Catalog, action: &'a Action, service_name: &'a str) -> Self {
        ShowView {
            version: VERSION,
            service: action.service(),
            service_name,
            action: ActionView::new(catalog, action, true),
        }
    }
}

/// The `--format json` shape of `catalog stats`.
#[derive(Serialize)]
pub struct StatsView<'a> {
    version: &'static str,
    provider: String,
    source: SourceView<'a>,
    services: usize,
    actions: usize,
    resource_types: usize,
    access_levels: Vec<LevelCountView>,
}

impl<'a> StatsView<'a> {
    /// The counts of `catalog`.
    pub fn new(catalog: &'a Catalog) -> Self {
        StatsView {
            version: VERSION,
            provider: catalog.provider().to_string(),
            source: catalog.source().into(),
            services: catalog.services().len(),
            actions: catalog.len(),
            resource_types: catalog.resource_type_count(),
            access_levels: level_counts(catalog),
        }
    }
}

/// How many actions have one access level (also a line of the text summary).
#[derive(Serialize)]
pub struct LevelCountView {
    pub access_level: &'static str,
    pub actions: usize,
}

/// The actions of `catalog` per access level, in the catalog's order of levels.
pub fn level_counts(catalog: &Catalog) -> Vec<LevelCountView> {
    catalog
        .access_level_counts()
        .into_iter()
        .map(|(level, actions): (AccessLevel, usize)| LevelCountView {
            access_level: level.as_str(),
            actions,
        })
        .collect()
}

// ---- GCP: predefined roles ----

/// One GCP permission and how many predefined roles contain it.
#[derive(Serialize)]
pub struct PermissionView<'a> {
    name: &'a str,
    /// How many predefined roles contain it.
    roles: usize,
}

/// The `--format json` shape of `catalog expand --provider gcp`.
#[derive(Serialize)]
pub struct GcpExpandView<'a> {
    version: &'static str,
    provider: &'static str,
    pattern: &'a str,
    count: usize,
    permissions: Vec<PermissionView<'a>>,
}

impl<'a> GcpExpandView<'a> {
    /// The view of the `permissions` that `pattern` matches, with `counts`, the number of
    /// roles containing each permission.
    pub fn new(pattern: &'a str, permissions: &[&'a str], counts: &HashMap<&str, usize>) -> Self {
        GcpExpandView {
            version: VERSION,
            provider: "gcp",
            pattern,
            count: permissions.len(),
            permissions: permissions
                .iter()
                .map(|name| PermissionView {
                    name,
                    roles: counts.get(name).copied().unwrap_or(0),
                })
                .collect(),
        }
    }
}

/// The `--format json` shape of `catalog show --provider gcp`: one predefined role.
#[derive(Serialize)]
pub struct GcpRoleView<'a> {
    version: &'static str,
    provider: &'static str,
    name: &'a str,
    title: &'a str,
    stage: &'static str,
    count: usize,
    permissions: Vec<&'a str>,
}

impl<'a> GcpRoleView<'a> {
    /// The view of `role` with its `permissions`.
    pub fn new(role: &'a PredefinedRole, permissions: Vec<&'a str>) -> Self {
        GcpRoleView {
            version: VERSION,
            provider: "gcp",
            name: &role.name,
            title: &role.title,
            stage: role.stage.as_str(),
            count: permissions.len(),
            permissions,
        }
    }
}

/// How many roles are at one launch stage.
#[derive(Serialize)]
pub struct StageCountView {
    stage: &'static str,
    roles: usize,
}

/// The `--format json` shape of `catalog stats --provider gcp`.
#[derive(Serialize)]
pub struct GcpStatsView<'a> {
    version: &'static str,
    provider: &'static str,
    source: SourceView<'a>,
    roles: usize,
    permissions: usize,
    role_permissions: usize,
    stages: Vec<StageCountView>,
}

impl<'a> GcpStatsView<'a> {
    /// The counts of `catalog`.
    pub fn new(catalog: &'a GcpRoleCatalog) -> Self {
        GcpStatsView {
            version: VERSION,
            provider: "gcp",
            source: catalog.source().into(),
            roles: catalog.roles().len(),
            permissions: catalog.permissions().len(),
            role_permissions: catalog.membership_count(),
            stages: catalog
                .stage_counts()
                .into_iter()
                .map(|(stage, roles)| StageCountView {
                    stage: stage.as_str(),
                    roles,
                })
                .collect(),
        }
    }
}

/// A predefined role that grants a permission, and its size.
#[derive(Serialize)]
pub struct GcpRoleSizeView<'a> {
    name: &'a str,
    title: &'a str,
    stage: &'static str,
    permissions: usize,
    service_agent_role: bool,
}

/// The `--format json` shape of `catalog roles --provider gcp`: the roles that grant a
/// permission, smallest first.
#[derive(Serialize)]
pub struct GcpRolesView<'a> {
    version: &'static str,
    provider: &'static str,
    permission: &'a str,
    count: usize,
    roles: Vec<GcpRoleSizeView<'a>>,
    /// Service agent roles granting it that were left out (0 with `--service-agents`).
    service_agent_roles_left_out: usize,
}

impl<'a> GcpRolesView<'a> {
    /// The view of the roles `found` that grant `permission`, `left_out` service agent roles
    /// not listed.
    pub fn new(permission: &'a str, found: &[&'a PredefinedRole], left_out: usize) -> Self {
        GcpRolesView {
            version: VERSION,
            provider: "gcp",
            permission,
            count: found.len(),
            roles: found
                .iter()
                .map(|role| GcpRoleSizeView {
                    name: &role.name,
                    title: &role.title,
                    stage: role.stage.as_str(),
                    permissions: role.len(),
                    service_agent_role: role.is_service_agent_role(),
                })
                .collect(),
            service_agent_roles_left_out: left_out,
        }
    }
}

// ---- Azure: built-in role definitions ----

/// One permission block of a role definition.
#[derive(Serialize)]
pub struct BlockView<'a> {
    actions: &'a [String],
    not_actions: &'a [String],
    data_actions: &'a [String],
    not_data_actions: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition_version: Option<&'a str>,
}

/// The `--format json` shape of `catalog show --provider azure`: one role definition.
#[derive(Serialize)]
pub struct AzureRoleView<'a> {
    version: &'static str,
    provider: &'static str,
    id: &'a str,
    role_name: &'a str,
    role_type: &'static str,
    assignable_scopes: &'a [String],
    permissions: Vec<BlockView<'a>>,
}

impl<'a> From<&'a AzureRoleDefinition> for AzureRoleView<'a> {
    fn from(definition: &'a AzureRoleDefinition) -> Self {
        AzureRoleView {
            version: VERSION,
            provider: "azure",
            id: &definition.id,
            role_name: &definition.role_name,
            role_type: definition.role_type.as_str(),
            assignable_scopes: &definition.assignable_scopes,
            permissions: definition
                .permissions
                .iter()
                .map(|block| BlockView {
                    actions: &block.actions,
                    not_actions: &block.not_actions,
                    data_actions: &block.data_actions,
                    not_data_actions: &block.not_data_actions,
                    condition: block.condition.as_deref(),
                    condition_version: block.condition_version.as_deref(),
                })
                .collect(),
        }
    }
}

/// The `--format json` shape of `catalog stats --provider azure`.
#[derive(Serialize)]
pub struct AzureStatsView<'a> {
    version: &'static str,
    provider: &'static str,
    source: SourceView<'a>,
    roles: usize,
    actions: usize,
    not_actions: usize,
    data_actions: usize,
    not_data_actions: usize,
    conditional_blocks: usize,
}

impl<'a> AzureStatsView<'a> {
    /// The counts of `catalog`.
    pub fn new(catalog: &'a AzureRoleCatalog) -> Self {
        let [
            actions,
            not_actions,
            data_actions,
            not_data_actions,
            conditional_blocks,
        ] = catalog.entry_counts();
        AzureStatsView {
            version: VERSION,
            provider: "azure",
            source: catalog.source().into(),
            roles: catalog.len(),
            actions,
            not_actions,
            data_actions,
            not_data_actions,
            conditional_blocks,
        }
    }
}

/// A built-in role that allows an operation, and how broadly.
#[derive(Serialize)]
pub struct AzureRoleSizeView<'a> {
    id: &'a str,
    role_name: &'a str,
    /// How many of the operations named in the built-in roles it allows on this plane.
    operations: usize,
    entries: usize,
    /// `scoped`, `every-provider` (an entry like `*/read`) or `everything` (a bare `*`).
    breadth: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<&'a str>,
}

/// The `--format json` shape of `catalog roles --provider azure`: the roles that allow an
/// operation on a plane, narrowest first.
#[derive(Serialize)]
pub struct AzureRolesView<'a> {
    version: &'static str,
    provider: &'static str,
    permission: &'a str,
    plane: &'static str,
    plane_decided_by: &'static str,
    /// No built-in role names the operation's resource provider: it may be misspelt.
    unknown_provider: bool,
    count: usize,
    roles: Vec<AzureRoleSizeView<'a>>,
}

/// What `catalog roles --provider azure` asked and decided, for [`AzureRolesView::new`].
pub struct AzureRolesQuery<'a> {
    /// The operation as given.
    pub permission: &'a str,
    /// `control` or `data`.
    pub plane: &'static str,
    /// `flag` or `built-in roles`.
    pub plane_decided_by: &'static str,
    /// No built-in role names the operation's resource provider.
    pub unknown_provider: bool,
}

impl<'a> AzureRolesView<'a> {
    /// The view of the roles `found` for `query`.
    pub fn new(query: AzureRolesQuery<'a>, found: &[RoleMatch<'a>]) -> Self {
        AzureRolesView {
            version: VERSION,
            provider: "azure",
            permission: query.permission,
            plane: query.plane,
            plane_decided_by: query.plane_decided_by,
            unknown_provider: query.unknown_provider,
            count: found.len(),
            roles: found
                .iter()
                .map(|found| AzureRoleSizeView {
                    id: &found.definition.id,
                    role_name: &found.definition.role_name,
                    operations: found.operations,
                    entries: found.size,
                    breadth: found.breadth.as_str(),
                    condition: found.condition,
                })
                .collect(),
        }
    }
}
