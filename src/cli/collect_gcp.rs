//! `pipeleash collect gcp`: collects an organization, a folder or a list of projects into a
//! new snapshot (`inventory/gcp-<scope>.json`, manifest kind `gcp-inventory`) and prints what
//! was collected.
//!
//! Calls that failed (a 403 on one project, say) are listed in the inventory's `errors` and in
//! the manifest's `errors`, and do not change the exit code: the snapshot says what it is
//! missing. Exit code 3 when there are no usable credentials or nothing at all could be read.

#[cfg(feature = "gcp")]
use super::progress::Steps;
use super::{Exit, GlobalArgs, OutputFormat};
use std::io::Write;
use std::path::PathBuf;

pub(super) const GCP_EXIT_CODES: &str = "\
Exit codes:
  0  the scope was collected (calls that failed are listed in the inventory and the manifest)
  2  usage error: a bad flag or id, a `--credentials` file that cannot be read or is not
     a credentials file, an `--out` directory that already exists, a build
     without the `gcp` feature
  3  no usable credentials, or nothing in the scope could be read (no snapshot written)";

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("scope").required(true).args(["organization", "folder", "projects"])
))]
pub struct GcpCollectArgs {
    /// Numeric organization id: the organization, every folder at any depth and every
    /// project under it.
    #[arg(long, value_name = "ID", value_parser = parse_numeric_id)]
    pub organization: Option<String>,
    /// Numeric folder id: the folder, its subfolders and projects, and the IAM policies of
    /// the folders and organization above it.
    #[arg(long, value_name = "ID", value_parser = parse_numeric_id)]
    pub folder: Option<String>,
    /// Project id or number; repeat for several projects (their ancestors' IAM policies are
    /// read too).
    #[arg(long = "project", value_name = "ID", value_parser = parse_project_id)]
    pub projects: Vec<String>,
    /// A credentials file: service-account key, external account (Workload Identity
    /// Federation), authorized user or impersonated service account. Without it,
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
    /// `application_default_credentials.json`, then the metadata server.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Send every call to this base URL (a replay server, a proxy) instead of
    /// `cloudresourcemanager.googleapis.com` and `iam.googleapis.com`.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Items per page for list calls (the services' maximum otherwise).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub page_size: Option<i32>,
    /// Write the snapshot to exactly this directory (must not exist).
    #[arg(long, value_name = "DIR", conflicts_with = "store")]
    pub out: Option<PathBuf>,
    /// Add the snapshot to this store, named by the time of the run: a directory, or object
    /// storage (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`).
    #[arg(long, value_name = "DIR|URL", default_value = super::collect::DEFAULT_STORE)]
    pub store: PathBuf,
    /// How to print the summary on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Also read the last N days (1 to 400) of every collected project's Cloud Audit Logs
    /// through Cloud Logging's `entries.list` into the snapshot: usage evidence for projects
    /// whose logs are not exported to a sink (`roles/logging.viewer`; Data Access entries
    /// need `roles/logging.privateLogViewer`). `analyze`/`audit` read them when
    /// `--gcp-audit-logs` is not given.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u16).range(1..=400))]
    pub audit_log_days: Option<u16>,
}

/// Organization and folder ids are decimal numbers
/// (<https://cloud.google.com/resource-manager/docs/creating-managing-organization>).
fn parse_numeric_id(text: &str) -> Result<String, String> {
    let id = text
        .strip_prefix("organizations/")
        .or_else(|| text.strip_prefix("folders/"))
        .unwrap_or(text);
    if !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a numeric id (e.g. `123456789012`)"
        ))
    }
}

/// A project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter,
/// optionally `domain:`-prefixed for legacy projects) or a project number
/// (<https://cloud.google.com/resource-manager/docs/creating-managing-projects>).
fn parse_project_id(text: &str) -> Result<String, String> {
    let id = text.strip_prefix("projects/").unwrap_or(text);
    let (domain, local) = match id.rsplit_once(':') {
        Some((domain, local)) => (Some(domain), local),
        None => (None, id),
    };
    let number =
        !local.is_empty() && local.len() <= 32 && local.bytes().all(|b| b.is_ascii_digit());
    let project_id = (6..=30).contains(&local.len())
        && local.starts_with(|c: char| c.is_ascii_lowercase())
        && !local.ends_with('-')
        && local
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let domain_ok = domain.is_none_or(|d| {
        !d.is_empty()
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    });
    if (number && domain.is_none()) || (project_id && domain_ok) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a project id (6-30 lowercase letters, digits, hyphens) or number"
        ))
    }
}

#[cfg(not(feature = "gcp"))]
pub fn run(
    args: GcpCollectArgs,
    _global: &GlobalArgs,
    _out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    // Read so that every flag is used in this build too.
    let _ = (
        args.organization,
        args.folder,
        args.projects,
        args.credentials,
        args.endpoint,
        args.page_size,
        args.out,
        args.store,
        args.format,
    );
    Err(super::InputError::wrap(
        "this build of pipeleash lacks the `gcp` feature; rebuild with `cargo install \
         pipeleash --features gcp` (or `cargo build --features gcp`) to collect from GCP",
    ))
}

#[cfg(feature = "gcp")]
pub fn run(args: GcpCollectArgs, global: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    use crate::gcp::collect::{self, CollectOptions, Scope};
    use crate::gcp::inventory::{GCP_INVENTORY_KIND, GcpInventory};
    use crate::snapshot::{ManifestIssue, SnapshotWriter, Source, Store};
    use anyhow::Context;
    use chrono::{SecondsFormat, Utc};
    use std::path::Path;
    use std::time::Duration;

    // Refuse before any network work rather than after a long collection.
    if let Some(dir) = &args.out
        && dir.exists()
    {
        return Err(super::InputError::wrap(format!(
            "`{}` already exists; pass a new directory to `--out` or use `--store`",
            dir.display()
        )));
    }
    // A store in object storage is checked before collecting, not after.
    let store = match &args.out {
        Some(_) => None,
        None => Some(super::snapshots::open_store_checked(&args.store)?),
    };
    if let Some(path) = &args.credentials
        && !path.is_file()
    {
        return Err(super::InputError::wrap(format!(
            "credentials file `{}` does not exist; pass a service-account key or \
             external-account file to `--credentials`",
            path.display()
        )));
    }
    let scope = match (args.organization, args.folder) {
        (Some(id), _) => Scope::Organization(id),
        (None, Some(id)) => Scope::Folder(id),
        (None, None) => {
            let mut ids = args.projects;
            ids.sort();
            ids.dedup();
            Scope::Projects(ids)
        }
    };
    let now = Utc::now();
    let collected_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let options = CollectOptions {
        scope: scope.clone(),
        endpoint: args.endpoint,
        credentials_file: args.credentials,
        page_size: args.page_size,
        initial_backoff: Duration::from_secs(1),
    };
    let quiet = global.quiet;
    let steps = Steps::new(quiet, "gcp: ", Some("gcp: "), None);
    let progress = |line: String| steps.step(&line);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime for the GCP clients")?;
    // A malformed file is the user's to fix (exit 2); a token refused later is the provider's.
    // The auth library starts its token cache on the runtime, so the check runs inside it.
    if let Some(path) = &options.credentials_file {
        let _runtime = runtime.enter();
        crate::gcp::collect::check_credentials_file(path).map_err(super::InputError::wrap)?;
    }
    let inventory: GcpInventory =
        match runtime.block_on(collect::collect(&options, collected_at, &progress)) {
            Ok(inventory) => inventory,
            Err(error) => {
                drop(steps);
                eprintln!("error: {error}");
                return Ok(Exit::Runtime);
            }
        };
    drop(steps);
    for issue in &inventory.errors {
        if !quiet {
            eprintln!(
                "gcp: `{}` on `{}` failed: {}{}",
                issue.call,
                issue.target,
                issue
                    .status
                    .as_deref()
                    .map(|status| format!("{status}: "))
                    .unwrap_or_default(),
                issue.reason
            );
        }
    }
    let read_anything = inventory.projects.iter().any(|p| p.iam_policy.is_some())
        || inventory
            .folders
            .iter()
            .any(|f| !f.outside_scope && f.iam_policy.is_some())
        || inventory
            .organizations
            .iter()
            .any(|o| o.iam_policy.is_some())
        || !inventory.service_accounts.is_empty();
    if !read_anything {
        // An empty snapshot would read as "everything was deleted" to drift.
        eprintln!(
            "error: nothing in {} could be read ({} call(s) failed); no snapshot written",
            scope.resource_names().join(", "),
            inventory.errors.len()
        );
        write_summary(out, args.format, None, &inventory)?;
        return Ok(Exit::Runtime);
    }

    let mut inventory = inventory;
    let audit_logs = match args.audit_log_days {
        Some(days) => {
            let since = now - chrono::Duration::days(i64::from(days));
            let projects: Vec<String> = inventory
                .projects
                .iter()
                .map(|project| project.project_id.clone())
                .collect();
            let steps = Steps::new(quiet, "gcp: ", Some("gcp: "), None);
            let progress = |line: String| steps.step(&line);
            let read = runtime.block_on(collect::audit_log_entries(
                &options, &projects, since, now, &progress,
            ));
            drop(steps);
            match read {
                Ok((entries, issues)) => {
                    for issue in &issues {
                        if !quiet {
                            eprintln!(
                                "gcp: `{}` on `{}` failed: {}",
                                issue.call, issue.target, issue.reason
                            );
                        }
                    }
                    inventory.errors.extend(issues);
                    Some((entries, projects.len(), since))
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    eprintln!("error: the audit logs could not be read; no snapshot written");
                    return Ok(Exit::Runtime);
                }
            }
        }
        None => None,
    };
    let mut writer = match (&args.out, &store) {
        (Some(dir), _) => SnapshotWriter::create(dir, now)?,
        (None, Some(store)) => store.writer(now)?,
        (None, None) => Store::new(&args.store).writer(now)?,
    };
    if let Some((entries, projects, since)) = &audit_logs {
        use crate::gcp::audit_log::{SNAPSHOT_ENTRIES_KIND, SNAPSHOT_ENTRIES_PATH};
        writer.write_json(Path::new(SNAPSHOT_ENTRIES_PATH), entries)?;
        let manifest = writer.manifest_mut();
        manifest.sources.push(Source {
            provider: "gcp".to_owned(),
            kind: SNAPSHOT_ENTRIES_KIND.to_owned(),
            id: "entries-list".to_owned(),
            path: SNAPSHOT_ENTRIES_PATH.to_owned(),
            format_version: 1,
        });
        manifest.coverage.push(format!(
            "gcp: {} Cloud Audit Log entr(ies) of {projects} project(s) read through \
             entries.list for {} .. {}",
            entries.len(),
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        if !quiet {
            eprintln!(
                "{} audit log entr(ies) stored in the snapshot (`{SNAPSHOT_ENTRIES_PATH}`)",
                entries.len()
            );
        }
    }
    let relative = Path::new("inventory").join(format!("gcp-{}.json", scope.label()));
    writer.write_json(&relative, &inventory)?;
    let id = scope.resource_names().join(",");
    writer.manifest_mut().sources.push(Source {
        provider: "gcp".to_owned(),
        kind: GCP_INVENTORY_KIND.to_owned(),
        id: id.clone(),
        path: relative.to_string_lossy().replace('\\', "/"),
        format_version: inventory.format_version,
    });
    for issue in &inventory.errors {
        writer.manifest_mut().errors.push(ManifestIssue {
            provider: "gcp".to_owned(),
            target: issue.target.clone(),
            reason: format!(
                "`{}` failed: {}{}",
                issue.call,
                issue
                    .status
                    .as_deref()
                    .map(|status| format!("{status}: "))
                    .unwrap_or_default(),
                issue.reason
            ),
        });
    }
    if !inventory.errors.is_empty() {
        writer.manifest_mut().coverage.push(format!(
            "gcp {id}: {} call(s) failed, see the inventory's `errors`",
            inventory.errors.len()
        ));
    }
    let snapshot = writer.commit()?;
    let written = super::snapshots::written_to(store.as_ref(), &snapshot);
    if !quiet {
        eprintln!("snapshot written to `{}`", written.display());
    }
    write_summary(out, args.format, Some(&written), &inventory)?;
    Ok(Exit::Clean)
}

#[cfg(feature = "gcp")]
fn write_summary(
    out: &mut dyn Write,
    format: OutputFormat,
    snapshot: Option<&std::path::Path>,
    inventory: &crate::gcp::inventory::GcpInventory,
) -> anyhow::Result<()> {
    let summary = crate::output::json::v1::collect::GcpCollectView::new(snapshot, inventory);
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let mut table = super::new_table(["scope", "what", "count"]);
            let scope = summary.scope().join(", ");
            for (name, count) in summary.counts() {
                table.add_row([scope.clone(), name.replace('_', " "), count.to_string()]);
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_accept_bare_and_prefixed_forms() {
        assert_eq!(parse_numeric_id("123").as_deref(), Ok("123"));
        assert_eq!(parse_numeric_id("organizations/123").as_deref(), Ok("123"));
        assert_eq!(parse_numeric_id("folders/9").as_deref(), Ok("9"));
        assert!(parse_numeric_id("acme.com").is_err());
        assert!(parse_numeric_id("").is_err());
    }

    #[cfg(not(feature = "gcp"))]
    #[test]
    fn collect_gcp_without_the_feature_is_an_input_error() {
        use clap::Parser as _;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: GcpCollectArgs,
        }
        let wrapper = Wrapper::try_parse_from(["x", "--organization", "1"]).expect("parse");
        let global = GlobalArgs {
            quiet: true,
            verbose: false,
        };
        let error = run(wrapper.args, &global, &mut Vec::new()).expect_err("no gcp feature");
        assert!(
            error
                .chain()
                .any(|cause| cause.is::<super::super::InputError>())
        );
        assert!(
            error.to_string().contains("lacks the `gcp` feature"),
            "{error}"
        );
    }

    #[test]
    fn project_ids_follow_the_naming_rules() {
        for ok in [
            "web-prod",
            "projects/web-prod",
            "415104041262",
            "example.com:legacy-1",
        ] {
            assert!(parse_project_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "Web-Prod",
            "abc",
            "web-prod-",
            "1web-prod",
            "web_prod",
            "a:1234567",
        ] {
            assert!(parse_project_id(bad).is_err(), "{bad}");
        }
    }
}
