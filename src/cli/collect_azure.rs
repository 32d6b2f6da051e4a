//! `pipeleash collect azure`: reads the role assignments, role definitions, deny assignments,
//! managed identities and Microsoft Graph applications of a tenant (read-only) into a new
//! snapshot, and prints what was collected.
//!
//! Exit code 3 when a call failed (a 403 on one subscription, say): the snapshot is still
//! written, with the failures in the inventory's `errors` and the manifest's `errors`.

#[cfg(feature = "azure")]
use super::progress::Steps;
use super::{Exit, GlobalArgs, OutputFormat};
use std::io::Write;
use std::path::PathBuf;

pub const AZURE_EXIT_CODES: &str = "\
Exit codes:
  0  everything was collected
  2  usage error: a bad flag or id, an `--out` directory that already exists, a build
     without the `azure` feature, a credential whose settings are missing
  3  no credential could get a token (nothing written), or some calls failed: those are
     listed in the snapshot's `errors`, the rest is written";

/// The credential to sign in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CredentialArg {
    /// The default chain: client secret, client certificate, GitHub Actions OIDC, workload
    /// identity token file, Azure CLI, managed identity.
    Auto,
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    ClientSecret,
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_CERTIFICATE_PATH` (PKCS #12).
    ClientCertificate,
    /// The GitHub Actions job's OIDC token (`permissions: id-token: write`) exchanged for
    /// `AZURE_CLIENT_ID` in `AZURE_TENANT_ID`.
    GithubActions,
    /// `AZURE_FEDERATED_TOKEN_FILE` with `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`.
    WorkloadIdentity,
    /// The account of `az login`.
    AzureCli,
    /// The managed identity of the Azure host (`AZURE_CLIENT_ID` picks a user-assigned one).
    ManagedIdentity,
}

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("target")
        .required(true)
        .args(["subscriptions", "management_group"])
))]
pub struct AzureCollectArgs {
    /// Subscription id to collect; several may follow, or repeat the flag.
    #[arg(long = "subscription", value_name = "ID", num_args = 1..)]
    pub subscriptions: Vec<String>,
    /// Management group id (name) to collect, with every management group and subscription
    /// under it.
    #[arg(long, value_name = "ID", conflicts_with = "subscriptions")]
    pub management_group: Option<String>,
    /// The Microsoft Entra tenant to sign in to (otherwise `AZURE_TENANT_ID`, or the Azure
    /// CLI's).
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// The credential to use.
    #[arg(long, value_enum, default_value = "auto")]
    pub credential: CredentialArg,
    /// Do not read Microsoft Graph (service principals, applications, their federated and
    /// password credentials); then only `Reader` is needed.
    #[arg(long)]
    pub no_graph: bool,
    /// Azure Resource Manager's base URL (another cloud, a proxy).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://management.azure.com"
    )]
    pub arm_endpoint: String,
    /// Microsoft Graph's base URL.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://graph.microsoft.com"
    )]
    pub graph_endpoint: String,
    /// The Microsoft Entra authority (otherwise `AZURE_AUTHORITY_HOST`, else
    /// `https://login.microsoftonline.com`). Must be HTTPS.
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    /// Also trust the CA certificates of this PEM file (a TLS-inspecting proxy).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The longest wait, in seconds, before retrying a throttled (429) call, whatever its
    /// `Retry-After` asks.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub max_retry_wait: u64,
    /// Write the snapshot to exactly this directory (must not exist).
    #[arg(long, value_name = "DIR", conflicts_with = "store")]
    pub out: Option<PathBuf>,
    /// Add the snapshot to this store, named by the time of the run: a directory, or object
    /// storage (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`).
    #[arg(long, value_name = "DIR|URL", default_value = super::collect::DEFAULT_STORE)]
    pub store: PathBuf,
    /// Also read the last N days (1 to 90) of the Activity Log's management events of every
    /// subscription collected, through the REST API (`Microsoft.Insights/eventtypes/values/read`,
    /// in `Reader`), into the snapshot: usage evidence for subscriptions whose Activity Log is
    /// not exported to storage. `analyze`/`audit` read it when `--azure-activity-logs` is not
    /// given.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u16).range(1..=90))]
    pub activity_log_days: Option<u16>,
    /// How to print the summary on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

/// Without the `azure` feature: a clear input error.
#[cfg(not(feature = "azure"))]
pub fn run(
    _args: AzureCollectArgs,
    _global: &GlobalArgs,
    _out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    Err(super::InputError::wrap(
        "this build of pipeleash lacks the `azure` feature, so `collect azure` is not \
         available; install it with `cargo install pipeleash --features azure`",
    ))
}

#[cfg(feature = "azure")]
pub use enabled::run;

#[cfg(feature = "azure")]
mod enabled {
    use super::*;
    use crate::azure::activity_log::{
        SNAPSHOT_EVENTS_KIND as ACTIVITY_LOG_KIND, SNAPSHOT_EVENTS_PATH as ACTIVITY_LOG_PATH,
    };
    use crate::azure::collect::client::RetryPolicy;
    use crate::azure::collect::credential::{CredentialKind, CredentialSettings};
    use crate::azure::collect::{self, CollectError, CollectOptions, Collector, Target};
    use crate::azure::inventory::{AzureInventory, INVENTORY_KIND};
    use crate::output::json::v1::collect::AzureCollectView;
    use crate::snapshot::{ManifestIssue, SnapshotWriter, Source, Store};
    use anyhow::Context;
    use chrono::{SecondsFormat, Utc};
    use std::path::Path;
    use std::sync::Arc;

    pub fn run(
        args: AzureCollectArgs,
        global: &GlobalArgs,
        out: &mut dyn Write,
    ) -> anyhow::Result<Exit> {
        let input = super::super::InputError::wrap;
        if let Some(dir) = &args.out
            && dir.exists()
        {
            return Err(input(format!(
                "`{}` already exists; pass a new directory to `--out` or use `--store`",
                dir.display()
            )));
        }
        // A store in object storage is checked before collecting, not after.
        let store = match &args.out {
            Some(_) => None,
            None => Some(super::super::snapshots::open_store_checked(&args.store)?),
        };
        let target = match &args.management_group {
            Some(name) => {
                check_management_group(name).map_err(input)?;
                Target::ManagementGroup(name.clone())
            }
            None => {
                let mut ids = Vec::new();
                for id in &args.subscriptions {
                    check_guid(id, "--subscription").map_err(input)?;
                    let id = id.to_ascii_lowercase();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Target::Subscriptions(ids)
            }
        };
        let endpoint = |flag: &str, value: &str| {
            azure_core::http::Url::parse(value)
                .map_err(|error| input(format!("`{flag}` `{value}` is not a URL: {error}")))
        };
        let options = CollectOptions {
            target,
            arm_endpoint: endpoint("--arm-endpoint", &args.arm_endpoint)?,
            graph_endpoint: endpoint("--graph-endpoint", &args.graph_endpoint)?,
            graph: !args.no_graph,
            retry: RetryPolicy {
                max_delay: std::time::Duration::from_secs(args.max_retry_wait),
                ..RetryPolicy::default()
            },
        };
        let ca = match &args.ca_cert {
            Some(path) => Some(std::fs::read(path).map_err(|error| {
                input(format!(
                    "cannot read `--ca-cert` `{}`: {error}",
                    path.display()
                ))
            })?),
            None => None,
        };
        let transport =
            collect::http_transport(ca.as_deref()).map_err(|error| input(error.to_string()))?;

        let env = |name: &str| std::env::var(name).ok();
        let settings = CredentialSettings {
            env: &env,
            tenant_id: args.tenant.clone(),
            authority_host: args.authority_host.clone(),
            transport: Some(transport.clone()),
        };
        let chain = match args.credential {
            CredentialArg::Auto => settings.chain(),
            named => settings.single(kind_of(named)),
        }
        .map_err(|error| input(error.to_string()))?;
        if global.verbose {
            let names: Vec<_> = chain.kinds().iter().map(|kind| kind.name()).collect();
            eprintln!("credentials to try, in order: {}", names.join(", "));
        }
        let chain = Arc::new(chain);

        let now = Utc::now();
        let collected_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime for the Azure clients")?;
        let collector = Collector::new(chain.clone(), Some(transport), &options);
        let steps = Steps::new(global.quiet, "azure: ", Some("collecting "), None);
        let progress = |line: &str| steps.step(line);
        let result = runtime.block_on(collector.collect(&options, &collected_at, &progress));
        drop(steps);
        let inventory = match result {
            Ok(inventory) => inventory,
            Err(CollectError::Credential(message)) => {
                eprintln!("error: {message}");
                eprintln!("error: nothing was collected; no snapshot written");
                return Ok(Exit::Runtime);
            }
            Err(error) => return Err(anyhow::Error::new(error)),
        };
        let mut inventory = inventory;
        let activity_log = match args.activity_log_days {
            Some(days) => {
                let since = now - chrono::Duration::days(i64::from(days));
                let steps = Steps::new(global.quiet, "azure: ", Some("reading "), None);
                let progress = |line: &str| steps.step(line);
                let ids = activity_log_subscriptions(&options.target, &inventory);
                let read = runtime.block_on(collector.activity_log(&ids, since, now, &progress));
                drop(steps);
                match read {
                    Ok((events, issues)) => {
                        inventory.errors.extend(issues);
                        Some((events, ids.len(), since))
                    }
                    Err(CollectError::Credential(message)) => {
                        eprintln!("error: {message}");
                        eprintln!("error: the Activity Log could not be read; no snapshot written");
                        return Ok(Exit::Runtime);
                    }
                    Err(error) => return Err(anyhow::Error::new(error)),
                }
            }
            None => None,
        };
        if global.verbose
            && let Some(kind) = chain.chosen()
        {
            eprintln!("signed in with the `{}` credential", kind.name());
        }
        for issue in &inventory.errors {
            eprintln!(
                "warning: `{}` on `{}` failed: {}{}",
                issue.call,
                issue.target,
                issue
                    .code
                    .as_deref()
                    .map(|code| format!("`{code}`: "))
                    .unwrap_or_default(),
                issue.reason
            );
        }
        let collected_nothing = inventory.subscriptions.is_empty()
            && inventory.management_groups.is_empty()
            && inventory.role_assignments.is_empty()
            && inventory.service_principals.is_empty();
        if collected_nothing && !inventory.errors.is_empty() {
            // An empty snapshot would read as "every assignment was removed" to drift.
            eprintln!("error: no call succeeded; no snapshot written");
            write_summary(out, args.format, None, &inventory)?;
            return Ok(Exit::Runtime);
        }

        let mut writer = match (&args.out, &store) {
            (Some(dir), _) => SnapshotWriter::create(dir, now)?,
            (None, Some(store)) => store.writer(now)?,
            (None, None) => Store::new(&args.store).writer(now)?,
        };
        let id = collect::inventory_id(&inventory);
        let relative = Path::new("inventory").join(format!("azure-{id}.json"));
        writer.write_json(&relative, &inventory)?;
        let manifest = writer.manifest_mut();
        manifest.sources.push(Source {
            provider: "azure".to_owned(),
            kind: INVENTORY_KIND.to_owned(),
            id,
            path: relative.to_string_lossy().replace('\\', "/"),
            format_version: inventory.format_version,
        });
        for issue in &inventory.errors {
            manifest.errors.push(ManifestIssue {
                provider: "azure".to_owned(),
                target: format!("{} {}", issue.call, issue.target),
                reason: match (&issue.status, &issue.code) {
                    (Some(status), Some(code)) => {
                        format!("HTTP {status} `{code}`: {}", issue.reason)
                    }
                    (Some(status), None) => format!("HTTP {status}: {}", issue.reason),
                    _ => issue.reason.clone(),
                },
            });
        }
        if let Some((events, subscriptions, since)) = &activity_log {
            let relative = Path::new(ACTIVITY_LOG_PATH);
            writer.write_json(relative, events)?;
            let manifest = writer.manifest_mut();
            manifest.sources.push(Source {
                provider: "azure".to_owned(),
                kind: ACTIVITY_LOG_KIND.to_owned(),
                id: "management-events".to_owned(),
                path: ACTIVITY_LOG_PATH.to_owned(),
                format_version: 1,
            });
            manifest.coverage.push(format!(
                "azure: {} Activity Log management event(s) of {subscriptions} subscription(s) \
                 read through the REST API for {} .. {}",
                events.len(),
                since.to_rfc3339_opts(SecondsFormat::Secs, true),
                collected_at
            ));
            if !global.quiet {
                eprintln!(
                    "{} Activity Log event(s) stored in the snapshot (`{ACTIVITY_LOG_PATH}`)",
                    events.len()
                );
            }
        }
        let manifest = writer.manifest_mut();
        if args.no_graph {
            manifest.coverage.push(
                "azure: Microsoft Graph not read (`--no-graph`): no service principals, \
                 applications or their credentials"
                    .to_owned(),
            );
        }
        let snapshot = writer.commit()?;
        let written = super::super::snapshots::written_to(store.as_ref(), &snapshot);
        if !global.quiet {
            eprintln!("snapshot written to `{}`", written.display());
        }
        write_summary(out, args.format, Some(&written), &inventory)?;
        Ok(if inventory.errors.is_empty() {
            Exit::Clean
        } else {
            Exit::Runtime
        })
    }

    /// The subscriptions whose Activity Log to read: those named, and those the inventory
    /// found (under a management group), each once.
    fn activity_log_subscriptions(target: &Target, inventory: &AzureInventory) -> Vec<String> {
        let mut ids: Vec<String> = match target {
            Target::Subscriptions(ids) => ids.clone(),
            Target::ManagementGroup(_) => Vec::new(),
        };
        for subscription in &inventory.subscriptions {
            if !ids
                .iter()
                .any(|id| id.eq_ignore_ascii_case(&subscription.subscription_id))
            {
                ids.push(subscription.subscription_id.clone());
            }
        }
        ids
    }

    fn kind_of(arg: CredentialArg) -> CredentialKind {
        match arg {
            CredentialArg::Auto | CredentialArg::ClientSecret => CredentialKind::ClientSecret,
            CredentialArg::ClientCertificate => CredentialKind::ClientCertificate,
            CredentialArg::GithubActions => CredentialKind::GithubActions,
            CredentialArg::WorkloadIdentity => CredentialKind::WorkloadIdentity,
            CredentialArg::AzureCli => CredentialKind::AzureCli,
            CredentialArg::ManagedIdentity => CredentialKind::ManagedIdentity,
        }
    }

    fn write_summary(
        out: &mut dyn Write,
        format: OutputFormat,
        snapshot: Option<&Path>,
        inventory: &AzureInventory,
    ) -> anyhow::Result<()> {
        let summary = AzureCollectView::new(snapshot, inventory);
        match format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, &summary)?;
                writeln!(out)?;
            }
            OutputFormat::Table => {
                let mut table = super::super::new_table(["collected", "count"]);
                for (name, count) in summary.counts() {
                    table.add_row([name.replace('_', " "), count.to_string()]);
                }
                writeln!(out, "{table}")?;
            }
        }
        Ok(())
    }

    /// A subscription id is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
    fn check_guid(value: &str, flag: &str) -> Result<(), String> {
        let groups: Vec<&str> = value.split('-').collect();
        let lengths = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups.iter().zip(lengths).all(|(group, len)| {
                group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit())
            });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`{flag}` `{value}` is not a subscription id (a GUID such as \
                 `00000000-0000-0000-0000-000000000000`)"
            ))
        }
    }

    /// A management group id: up to 90 letters, digits, `-`, `_`, `.`, `(` and `)`
    /// (<https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftmanagement>).
    fn check_management_group(value: &str) -> Result<(), String> {
        let ok = !value.is_empty()
            && value.len() <= 90
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.()".contains(c));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "`--management-group` `{value}` is not a management group id (letters, digits, \
                 `-`, `_`, `.`, `(`, `)`; at most 90)"
            ))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn subscription_ids_must_be_guids() {
            assert!(check_guid("a925f2f7-5c63-4b7b-8799-25a5f97bc3b2", "--subscription").is_ok());
            assert!(check_guid("../../providers", "--subscription").is_err());
            assert!(check_guid("a925f2f7-5c63-4b7b-8799-25a5f97bc3b", "--subscription").is_err());
        }

        #[test]
        fn management_group_ids_cannot_carry_a_path() {
            assert!(check_management_group("mg-ci.platform(1)").is_ok());
            assert!(check_management_group("mg/../x").is_err());
            assert!(check_management_group("").is_err());
        }
    }
}
