//! `pipeleash catalog … --provider gcp|azure`: the role catalogs. Expand GCP permission
//! patterns, show a role, count, list the roles that grant a permission (smallest first), and
//! rebuild the catalog files from role lists.

use super::{
    CatalogFormat, CatalogSource, ExpandArgs, ImportArgs, Loaded, ProviderArg, ShowArgs, StatsArgs,
    write_json,
};
use crate::azure::Plane;
use crate::catalog::Source;
use crate::catalog::azure::{AzureRoleCatalog, Breadth, RoleMatch};
use crate::catalog::gcp::{GcpRoleCatalog, PredefinedRole};
use crate::catalog::import::{AzureImport, GcpImport, import_azure, import_gcp};
use crate::cli::{Exit, GlobalArgs, InputError};
use crate::matching::has_wildcard;
use crate::output::json::v1::catalog::{
    AzureRoleView, AzureRolesQuery, AzureRolesView, AzureStatsView, GcpExpandView, GcpRoleView,
    GcpRolesView, GcpStatsView,
};
use anyhow::Context as _;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RolesArgs {
    /// Required: `gcp` (predefined roles) or `azure` (built-in role definitions). Unlike the
    /// other `catalog` commands there is no default: the AWS catalog holds actions, not roles.
    #[arg(long, value_enum)]
    pub provider: ProviderArg,
    /// One permission, exactly: a GCP permission (`run.services.update`, case-sensitive) or
    /// an Azure operation (`Microsoft.Storage/storageAccounts/read`, case-insensitive).
    #[arg(long, value_name = "PERMISSION")]
    pub permission: String,
    /// Azure only: the plane to look in, `control` (`actions`/`notActions`) or `data`
    /// (`dataActions`/`notDataActions`). By default the plane is decided from the built-in
    /// roles: a data action when one of them names the operation in `dataActions` or
    /// `notDataActions` (with an entry narrower than `*`), a control action otherwise.
    #[arg(long, value_enum)]
    pub plane: Option<PlaneArg>,
    /// GCP only: list service agent roles too (`roles/run.serviceAgent`, …). They are left
    /// out by default: Google Cloud grants them to its own service agents, not to a
    /// pipeline's service account.
    #[arg(long)]
    pub service_agents: bool,
    /// Output format: `text` (tab-separated, smallest role first), `table` or `json`.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
    #[command(flatten)]
    pub source: CatalogSource,
}

/// An Azure plane on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlaneArg {
    Control,
    Data,
}

fn load_gcp(source: &CatalogSource) -> anyhow::Result<Loaded<GcpRoleCatalog>> {
    match &source.catalog {
        Some(directory) => GcpRoleCatalog::load_compact(directory)
            .map(|catalog| Loaded::Directory(Box::new(catalog)))
            .map_err(InputError::wrap),
        None => Ok(Loaded::Embedded(GcpRoleCatalog::embedded()?)),
    }
}

fn load_azure(source: &CatalogSource) -> anyhow::Result<Loaded<AzureRoleCatalog>> {
    match &source.catalog {
        Some(directory) => AzureRoleCatalog::load_compact(directory)
            .map(|catalog| Loaded::Directory(Box::new(catalog)))
            .map_err(InputError::wrap),
        None => Ok(Loaded::Embedded(AzureRoleCatalog::embedded()?)),
    }
}

/// How many roles contain each permission, by permission number.
fn role_counts(catalog: &GcpRoleCatalog) -> std::collections::HashMap<&str, usize> {
    let mut counts = std::collections::HashMap::with_capacity(catalog.permissions().len());
    for role in catalog.roles() {
        for permission in catalog.permissions_of(role) {
            *counts.entry(permission).or_insert(0) += 1;
        }
    }
    counts
}

/// A hint for a GCP permission or pattern that matched nothing: `; try …` with a pattern that
/// was tried and matches something in `catalog` (the text in lower case, or every permission
/// of its service), or a note on the name's shape when nothing would help.
fn gcp_hint(catalog: &GcpRoleCatalog, text: &str) -> String {
    let lower = text.to_lowercase();
    let service = lower.split('.').next().unwrap_or_default();
    let service_pattern = format!("{service}.*");
    let candidates = [
        (lower != text).then_some(lower.as_str()),
        (!service.is_empty() && service.chars().all(|c| c.is_ascii_alphanumeric()))
            .then_some(service_pattern.as_str()),
    ];
    for candidate in candidates.into_iter().flatten() {
        if !catalog.expand(candidate).is_empty() {
            return format!("; try `pipeleash catalog expand --provider gcp '{candidate}'`");
        }
    }
    if text.contains(':') {
        return "; `service:Action` is an AWS action name, GCP permissions look like `storage.objects.get`".to_string();
    }
    "; GCP permissions look like `service.resource.verb` (`storage.objects.get`), and no predefined role holds a permission of that service".to_string()
}

pub(super) fn expand_gcp(args: &ExpandArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let pattern = args.pattern.trim();
    let loaded = load_gcp(&args.source)?;
    let catalog = loaded.get();
    let permissions = catalog.expand(pattern);
    if permissions.is_empty() {
        return Err(InputError::wrap(format!(
            "pattern `{pattern}` matches no permission of a GCP predefined role; names are case-sensitive (`storage.objects.get`){}",
            gcp_hint(catalog, pattern)
        )));
    }
    match args.format {
        CatalogFormat::Text => {
            let mut text = String::with_capacity(permissions.len() * 40);
            for permission in &permissions {
                text.push_str(permission);
                text.push('\n');
            }
            out.write_all(text.as_bytes())?;
        }
        CatalogFormat::Table => {
            let counts = role_counts(catalog);
            let mut table = super::super::new_table(["permission", "predefined roles holding it"]);
            for permission in &permissions {
                table.add_row([
                    permission.to_string(),
                    counts.get(permission).copied().unwrap_or(0).to_string(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        CatalogFormat::Json => {
            let counts = role_counts(catalog);
            let view = GcpExpandView::new(pattern, &permissions, &counts);
            write_json(out, &view)?;
        }
    }
    Ok(Exit::Clean)
}

pub(super) fn expand_azure() -> anyhow::Result<Exit> {
    Err(InputError::wrap(
        "the Azure catalog holds the built-in role definitions, not Azure's list of operations, so there is nothing to expand a pattern against; find the roles that allow an operation with `pipeleash catalog roles --provider azure --permission OPERATION`, or read a role with `pipeleash catalog show --provider azure ROLE`",
    ))
}

pub(super) fn show_gcp(args: &ShowArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load_gcp(&args.source)?;
    let catalog = loaded.get();
    let name = args.action.trim();
    let with_prefix = format!("roles/{name}");
    let Some(role) = catalog.role(name).or_else(|| catalog.role(&with_prefix)) else {
        let hint = if catalog.knows_permission(name) {
            format!(
                "`{name}` is a permission; list the roles that hold it with `pipeleash catalog roles --provider gcp --permission {name}`"
            )
        } else if name.starts_with("projects/") || name.starts_with("organizations/") {
            "custom roles are not in the catalog; they come from the inventory".to_string()
        } else {
            "role names are case-sensitive, e.g. `roles/run.developer`".to_string()
        };
        return Err(InputError::wrap(format!(
            "unknown GCP predefined role `{name}`; {hint}"
        )));
    };
    let permissions: Vec<&str> = catalog.permissions_of(role).collect();
    if args.format == CatalogFormat::Json {
        let view = GcpRoleView::new(role, permissions);
        write_json(out, &view)?;
        return Ok(Exit::Clean);
    }
    let mut text = format!(
        "{}\n  title:       {}\n  stage:       {}{}\n  permissions: {}\n",
        role.name,
        role.title,
        role.stage,
        if role.stage.grants() {
            ""
        } else {
            " (a binding to it grants nothing)"
        },
        permissions.len()
    );
    for permission in permissions {
        text.push_str("    ");
        text.push_str(permission);
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    Ok(Exit::Clean)
}

pub(super) fn show_azure(args: &ShowArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load_azure(&args.source)?;
    let catalog = loaded.get();
    let name = args.action.trim();
    let Some(definition) = catalog.definition(name) else {
        let hint = if name.contains('/') && !name.contains("roleDefinitions") {
            format!(
                "`{name}` looks like an operation; list the roles that allow it with `pipeleash catalog roles --provider azure --permission '{name}'`"
            )
        } else {
            "give a built-in role's name (`Reader`, case-insensitive) or its definition GUID; custom roles come from the inventory".to_string()
        };
        return Err(InputError::wrap(format!(
            "unknown Azure built-in role `{name}`; {hint}"
        )));
    };
    if args.format == CatalogFormat::Json {
        write_json(out, &AzureRoleView::from(definition))?;
        return Ok(Exit::Clean);
    }
    let mut text = format!(
        "{} ({})\n  type:              {}\n  assignable scopes: {}\n",
        definition.role_name,
        definition.id,
        definition.role_type.as_str(),
        definition.assignable_scopes.join(", ")
    );
    for (number, block) in definition.permissions.iter().enumerate() {
        text.push_str(&format!("  permissions block {number}:\n"));
        for (label, entries) in [
            ("actions (control plane)", &block.actions),
            ("not actions", &block.not_actions),
            ("data actions (data plane)", &block.data_actions),
            ("not data actions", &block.not_data_actions),
        ] {
            if entries.is_empty() {
                text.push_str(&format!("    {label}: none\n"));
                continue;
            }
            text.push_str(&format!("    {label}:\n"));
            for entry in entries {
                text.push_str(&format!("      {entry}\n"));
            }
        }
        if let Some(condition) = &block.condition {
            text.push_str(&format!(
                "    condition (version {}): {condition}\n",
                block.condition_version.as_deref().unwrap_or("unknown")
            ));
        }
    }
    out.write_all(text.as_bytes())?;
    Ok(Exit::Clean)
}

fn gcp_summary(catalog: &GcpRoleCatalog) -> String {
    let source = catalog.source();
    let mut text = format!(
        "source:           {} {} (data of {})\nroles:            {}\npermissions:      {}\nrole permissions: {}\nstages:\n",
        source.name,
        source.version,
        source.date,
        catalog.roles().len(),
        catalog.permissions().len(),
        catalog.membership_count(),
    );
    for (stage, count) in catalog.stage_counts() {
        text.push_str(&format!("  {:<16}{:>6}\n", stage.as_str(), count));
    }
    text
}

pub(super) fn stats_gcp(args: &StatsArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load_gcp(&args.source)?;
    let catalog = loaded.get();
    if args.format == CatalogFormat::Json {
        let view = GcpStatsView::new(catalog);
        write_json(out, &view)?;
    } else {
        out.write_all(gcp_summary(catalog).as_bytes())?;
    }
    Ok(Exit::Clean)
}

fn azure_summary(catalog: &AzureRoleCatalog) -> String {
    let source = catalog.source();
    let [
        actions,
        not_actions,
        data_actions,
        not_data_actions,
        conditional,
    ] = catalog.entry_counts();
    format!(
        "source:             {} {} (data of {})\nroles:              {}\nentries:\n  actions           {actions:>6}\n  not actions       {not_actions:>6}\n  data actions      {data_actions:>6}\n  not data actions  {not_data_actions:>6}\nconditional blocks: {conditional}\n",
        source.name,
        source.version,
        source.date,
        catalog.len(),
    )
}

pub(super) fn stats_azure(args: &StatsArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load_azure(&args.source)?;
    let catalog = loaded.get();
    if args.format == CatalogFormat::Json {
        let view = AzureStatsView::new(catalog);
        write_json(out, &view)?;
    } else {
        out.write_all(azure_summary(catalog).as_bytes())?;
    }
    Ok(Exit::Clean)
}

pub(super) fn roles(
    args: &RolesArgs,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let permission = args.permission.trim();
    if permission.is_empty() {
        return Err(InputError::wrap(
            "`--permission` is empty; give one permission",
        ));
    }
    match args.provider {
        ProviderArg::Gcp => {
            if args.plane.is_some() {
                return Err(InputError::wrap(
                    "`--plane` applies to Azure only; GCP has one kind of permission",
                ));
            }
            roles_gcp(args, permission, global, out)
        }
        ProviderArg::Azure => {
            if args.service_agents {
                return Err(InputError::wrap(
                    "`--service-agents` applies to GCP only; Azure has no service agent roles",
                ));
            }
            roles_azure(args, permission, global, out)
        }
        ProviderArg::Aws => Err(InputError::wrap(
            "the AWS catalog holds actions, not roles; `catalog roles` takes `--provider gcp` or `--provider azure`",
        )),
    }
}

fn roles_gcp(
    args: &RolesArgs,
    permission: &str,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let loaded = load_gcp(&args.source)?;
    let catalog = loaded.get();
    if has_wildcard(permission) {
        let hint = if catalog.expand(permission).is_empty() {
            gcp_hint(catalog, permission)
        } else {
            format!(
                "; list what it matches with `pipeleash catalog expand --provider gcp '{permission}'`"
            )
        };
        return Err(InputError::wrap(format!(
            "`--permission` takes one exact permission, not a pattern like `{permission}`{hint}"
        )));
    }
    if !catalog.knows_permission(permission) {
        return Err(InputError::wrap(format!(
            "no GCP predefined role holds `{permission}`; permission names are exact and case-sensitive{}",
            gcp_hint(catalog, permission)
        )));
    }
    let granting: Vec<&PredefinedRole> = catalog.roles_granting(permission);
    let (found, service_agent_roles): (Vec<&PredefinedRole>, Vec<&PredefinedRole>) = granting
        .into_iter()
        .partition(|role| args.service_agents || !role.is_service_agent_role());
    if found.is_empty() {
        let why = if service_agent_roles.is_empty() {
            "only disabled roles, which grant nothing, hold it".to_string()
        } else {
            format!(
                "only service agent roles grant it ({}); list them with `--service-agents`",
                service_agent_roles.len()
            )
        };
        return Err(InputError::wrap(format!(
            "no predefined role to recommend for `{permission}`: {why}"
        )));
    }
    if !global.quiet && args.format != CatalogFormat::Json && !service_agent_roles.is_empty() {
        eprintln!(
            "left out {} service agent roles that also grant `{permission}` (`--service-agents` lists them)",
            service_agent_roles.len()
        );
    }
    match args.format {
        CatalogFormat::Text => {
            let mut text = String::new();
            for role in &found {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    role.name,
                    role.len(),
                    role.stage,
                    role.title
                ));
            }
            out.write_all(text.as_bytes())?;
        }
        CatalogFormat::Table => {
            let mut table = super::super::new_table(["role", "permissions", "stage", "title"]);
            for role in &found {
                table.add_row([
                    role.name.clone(),
                    role.len().to_string(),
                    role.stage.to_string(),
                    role.title.clone(),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        CatalogFormat::Json => {
            let view = GcpRolesView::new(permission, &found, service_agent_roles.len());
            write_json(out, &view)?;
        }
    }
    Ok(Exit::Clean)
}

fn reach_note(breadth: Breadth) -> Option<&'static str> {
    match breadth {
        Breadth::Scoped => None,
        Breadth::EveryProvider => Some("reaches every resource provider"),
        Breadth::Everything => Some("allows every operation (`*`)"),
    }
}

fn roles_azure(
    args: &RolesArgs,
    permission: &str,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    if has_wildcard(permission) {
        return Err(InputError::wrap(format!(
            "`--permission` takes one exact Azure operation, not a pattern like `{permission}`; give an operation such as `Microsoft.Storage/storageAccounts/read`, or read a role's entries with `pipeleash catalog show --provider azure ROLE`"
        )));
    }
    let loaded = load_azure(&args.source)?;
    let catalog = loaded.get();
    let namespace = permission.split('/').next().unwrap_or_default().trim();
    let unknown_provider = !catalog.names_provider(namespace);
    let (plane, decided_by) = match args.plane {
        Some(PlaneArg::Control) => (Plane::Control, "flag"),
        Some(PlaneArg::Data) => (Plane::Data, "flag"),
        None => (catalog.plane_of(permission), "built-in roles"),
    };
    let found: Vec<RoleMatch<'_>> = catalog.roles_allowing(permission, plane);
    if found.is_empty() {
        let other = match plane {
            Plane::Control => "data",
            Plane::Data => "control",
        };
        let provider_note = if unknown_provider {
            format!(", as no built-in role names the resource provider `{namespace}`")
        } else {
            String::new()
        };
        return Err(InputError::wrap(format!(
            "no Azure built-in role allows `{permission}` on the {plane} plane; check the spelling{provider_note} (operations look like `Microsoft.Storage/storageAccounts/read`), or look on the {other} plane with `--plane {other}`"
        )));
    }
    if unknown_provider && !global.quiet {
        eprintln!(
            "note: no built-in role names the resource provider `{namespace}`, so `{permission}` may be misspelt; the roles below allow it only through a wildcard (`*`, `*/read`, …)"
        );
    }
    if !global.quiet && args.format != CatalogFormat::Json {
        let how = if args.plane.is_some() {
            "as asked"
        } else {
            "decided from the built-in roles; `--plane` overrides"
        };
        eprintln!(
            "`{permission}` on the {plane} plane ({how}); narrowest role first, roles reaching every resource provider after the others, roles with `*` last"
        );
        if args.format == CatalogFormat::Text {
            eprintln!(
                "columns: role, definition id, operations (how many of the operations named in the built-in roles it allows on this plane), entries, notes"
            );
        }
    }
    match args.format {
        CatalogFormat::Text => {
            let mut text = String::new();
            for found in &found {
                let mut notes = Vec::new();
                if let Some(reach) = reach_note(found.breadth) {
                    notes.push(reach.to_string());
                }
                if let Some(condition) = found.condition {
                    notes.push(format!("only when its condition holds: {condition}"));
                }
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    found.definition.role_name,
                    found.definition.id,
                    found.operations,
                    found.size,
                    notes.join("; ")
                ));
            }
            out.write_all(text.as_bytes())?;
        }
        CatalogFormat::Table => {
            let mut table = super::super::new_table([
                "role",
                "definition id",
                "known operations allowed",
                "entries",
                "notes",
            ]);
            for found in &found {
                let mut notes = Vec::new();
                if let Some(reach) = reach_note(found.breadth) {
                    notes.push(reach);
                }
                if found.condition.is_some() {
                    notes.push("conditional");
                }
                table.add_row([
                    found.definition.role_name.clone(),
                    found.definition.id.clone(),
                    found.operations.to_string(),
                    found.size.to_string(),
                    notes.join(", "),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        CatalogFormat::Json => {
            let view = AzureRolesView::new(
                AzureRolesQuery {
                    permission,
                    plane: plane.as_str(),
                    plane_decided_by: decided_by,
                    unknown_provider,
                },
                &found,
            );
            write_json(out, &view)?;
        }
    }
    Ok(Exit::Clean)
}

/// The files of a GCP or Azure import: the positional FILEs and `--from`.
fn import_files(args: &ImportArgs) -> anyhow::Result<Vec<PathBuf>> {
    let files: Vec<PathBuf> = args.files.iter().chain(&args.from).cloned().collect();
    if files.is_empty() {
        return Err(InputError::wrap(
            "give the role lists to import, e.g. `pipeleash catalog import gcp gcp-roles.json.gz`",
        ));
    }
    Ok(files)
}

fn import_source(args: &ImportArgs) -> Option<Source> {
    if args.source.is_none() && args.source_version.is_none() && args.source_date.is_none() {
        return None;
    }
    let or_unknown = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .unwrap_or("unknown")
            .to_string()
    };
    Some(Source {
        name: or_unknown(&args.source),
        version: or_unknown(&args.source_version),
        date: or_unknown(&args.source_date),
    })
}

fn file_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|file| format!("`{}`", file.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn import_roles(args: &ImportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let files = import_files(args)?;
    let source = import_source(args);
    let provider = args.provider.unwrap_or(ProviderArg::Aws);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(if provider == ProviderArg::Gcp {
            "providers/gcp/catalog"
        } else {
            "providers/azure/catalog"
        })
    });
    let summary = if provider == ProviderArg::Gcp {
        let GcpImport {
            catalog,
            skipped_custom,
            skipped_deleted,
        } = import_gcp(&files, source).map_err(InputError::wrap)?;
        let replaced = GcpRoleCatalog::load_compact(&out)
            .ok()
            .map(|old| old.roles().len());
        check_shrink(
            "GCP predefined roles",
            catalog.roles().len(),
            replaced,
            &out,
            args.force,
        )?;
        catalog
            .write_compact(&out)
            .map_err(InputError::wrap)
            .with_context(|| format!("cannot write the catalog into `{}`", out.display()))?;
        let mut summary = format!(
            "imported GCP predefined roles from {} into `{}`{}\n{}",
            file_list(&files),
            out.display(),
            replaced_note(replaced),
            gcp_summary(&catalog)
        );
        if skipped_custom + skipped_deleted > 0 {
            summary.push_str(&format!(
                "left out:         {skipped_custom} custom roles (they come from the inventory), {skipped_deleted} deleted roles\n"
            ));
        }
        summary
    } else {
        let AzureImport {
            catalog,
            skipped_custom,
        } = import_azure(&files, source).map_err(InputError::wrap)?;
        let replaced = AzureRoleCatalog::load_compact(&out)
            .ok()
            .map(|old| old.len());
        check_shrink(
            "Azure built-in role definitions",
            catalog.len(),
            replaced,
            &out,
            args.force,
        )?;
        catalog
            .write_compact(&out)
            .map_err(InputError::wrap)
            .with_context(|| format!("cannot write the catalog into `{}`", out.display()))?;
        let mut summary = format!(
            "imported Azure built-in role definitions from {} into `{}`{}\n{}",
            file_list(&files),
            out.display(),
            replaced_note(replaced),
            azure_summary(&catalog)
        );
        if skipped_custom > 0 {
            summary.push_str(&format!(
                "left out:           {skipped_custom} custom role definitions (they come from the inventory)\n"
            ));
        }
        summary
    };
    if !global.quiet {
        eprint!("{summary}");
    }
    // Said even with `--quiet`: the written files change nothing until the binary is rebuilt.
    eprintln!(
        "pipeleash keeps using the catalog embedded in its binary until it is rebuilt from a source tree holding these files; read them now with `--catalog {}`",
        out.display()
    );
    Ok(Exit::Clean)
}

/// Below this share of the roles of the catalog being replaced, an import needs `--force`.
const SHRINK_LIMIT_PERCENT: usize = 50;

/// Refuses (unless `force`) to replace a catalog of `old` roles in `out` with one of `new`
/// roles when `new` is under [`SHRINK_LIMIT_PERCENT`] of `old`: a sign that pages of the role
/// list are missing.
fn check_shrink(
    what: &str,
    new: usize,
    old: Option<usize>,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    let Some(old) = old else {
        return Ok(());
    };
    if force || new * 100 >= old * SHRINK_LIMIT_PERCENT {
        return Ok(());
    }
    Err(InputError::wrap(format!(
        "refusing to replace the catalog in `{}` ({old} {what}) with one of {new}, under {SHRINK_LIMIT_PERCENT}% of it; a role list split into pages needs every page (give them all, or a directory of them), and `--force` replaces it anyway",
        out.display()
    )))
}

fn replaced_note(replaced: Option<usize>) -> String {
    match replaced {
        Some(old) => format!(", replacing a catalog of {old} roles"),
        None => String::new(),
    }
}
