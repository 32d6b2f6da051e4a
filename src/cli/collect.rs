//! `pipeleash collect aws`: collects account inventories into a new snapshot and prints what
//! was collected, per account.
//!
//! Exit code 3 when at least one account could not be collected at all; the others are still
//! written. Calls that failed inside an account are listed in its inventory and counted in the
//! table, but do not change the exit code: the snapshot says what it is missing.

#[cfg(feature = "aws")]
use super::progress::Steps;
use super::{Exit, GlobalArgs, OutputFormat};
#[cfg(feature = "aws")]
use crate::aws::collect::{self, AccountOutcome, CollectOptions};
#[cfg(feature = "aws")]
use crate::output::json::v1::collect::{AwsAccountCollectView, AwsCollectView};
#[cfg(feature = "aws")]
use crate::snapshot::{ManifestIssue, SnapshotWriter, Store};
#[cfg(feature = "aws")]
use anyhow::Context;
#[cfg(feature = "aws")]
use chrono::{SecondsFormat, Utc};
use std::io::Write;
use std::path::PathBuf;

/// The store used when neither `--out` nor `--store` is given.
pub const DEFAULT_STORE: &str = ".pipeleash/snapshots";

const AWS_EXIT_CODES: &str = "\
Exit codes:
  0  every account was collected (calls that failed inside one are listed in its inventory)
  2  usage error: a bad flag, an `--out` directory that already exists
  3  at least one account could not be collected; the others are still in the snapshot";

#[derive(Debug, clap::Subcommand)]
pub enum CollectCommand {
    /// Read IAM roles, users, groups, policies, OIDC providers, access keys and SCPs of one
    /// or more AWS accounts (read-only) and store them as a snapshot.
    #[command(after_help = AWS_EXIT_CODES)]
    Aws(AwsCollectArgs),
    /// Read role assignments, role definitions, deny assignments, managed identities and
    /// Microsoft Graph applications with their federated credentials (read-only) and store
    /// them as a snapshot (needs the `azure` feature).
    #[command(after_help = super::collect_azure::AZURE_EXIT_CODES)]
    Azure(Box<super::collect_azure::AzureCollectArgs>),
    /// Read the organization/folder/project hierarchy with its IAM policies, service accounts
    /// with their keys and IAM policies, custom roles and Workload Identity pools of GCP
    /// (read-only) and store them as a snapshot. Needs a build with the `gcp` feature.
    #[command(after_help = super::collect_gcp::GCP_EXIT_CODES)]
    Gcp(Box<super::collect_gcp::GcpCollectArgs>),
}

#[derive(Debug, clap::Args)]
pub struct AwsCollectArgs {
    /// Named profile from the AWS config files (otherwise `AWS_PROFILE` or the default chain).
    #[arg(long)]
    pub profile: Option<String>,
    /// Region to sign requests for (otherwise the chain's, else `us-east-1`).
    #[arg(long)]
    pub region: Option<String>,
    /// Role ARN to assume and collect its account; repeat for several accounts. Without it
    /// the account of the configured credentials is collected.
    #[arg(long = "assume-role", value_name = "ARN")]
    pub assume_roles: Vec<String>,
    /// Send every AWS call to this endpoint (moto, a proxy); `AWS_ENDPOINT_URL` works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Items per page for paginated calls (the service default otherwise).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub page_size: Option<i32>,
    /// Write the snapshot to exactly this directory (must not exist).
    #[arg(long, value_name = "DIR", conflicts_with = "store")]
    pub out: Option<PathBuf>,
    /// Add the snapshot to this store, named by the time of the run: a directory, or object
    /// storage (`s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`).
    #[arg(long, value_name = "DIR|URL", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
    /// How to print the summary on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

pub fn run(
    command: CollectCommand,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    match command {
        CollectCommand::Aws(args) => run_aws(args, global, out),
        CollectCommand::Azure(args) => super::collect_azure::run(*args, global, out),
        CollectCommand::Gcp(args) => super::collect_gcp::run(*args, global, out),
    }
}

/// Without the `aws` feature: a clear input error.
#[cfg(not(feature = "aws"))]
fn run_aws(
    _args: AwsCollectArgs,
    _global: &GlobalArgs,
    _out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    Err(super::InputError::wrap(
        "this build of pipeleash lacks the `aws` feature, so `collect aws` is not available; \
         install it with `cargo install pipeleash --features aws`",
    ))
}

/// Each `--assume-role` is a role ARN (`arn:<partition>:iam::<12-digit account>:role/<name>`,
/// IAM identifiers, <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>):
/// anything else is an input error naming it, before any call.
#[cfg(feature = "aws")]
fn check_role_arns(arns: &[String]) -> anyhow::Result<()> {
    for text in arns {
        let arn = crate::aws::arn::Arn::parse(text);
        let is_role = arn.is_some_and(|arn| {
            arn.region.is_empty()
                && crate::aws::arn::is_account_id(arn.account)
                && arn.role_name().is_some()
        });
        if !is_role {
            return Err(super::InputError::wrap(format!(
                "`--assume-role {text}` is not a role ARN; give one as \
                 `arn:aws:iam::<12-digit account>:role/<name>`"
            )));
        }
    }
    Ok(())
}

#[cfg(feature = "aws")]
fn run_aws(args: AwsCollectArgs, global: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    check_role_arns(&args.assume_roles)?;
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
    let now = Utc::now();
    let collected_at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let options = CollectOptions {
        profile: args.profile,
        region: args.region,
        endpoint_url: args.endpoint_url,
        assume_roles: args.assume_roles,
        page_size: args.page_size,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime for the AWS clients")?;
    // A `--profile` the config files do not define is the user's to fix, named (the SDK
    // would fall through to a credential-chain error that never mentions it).
    if let Some(profile) = &options.profile {
        match runtime.block_on(collect::profile_defined(profile)) {
            Ok(true) => {}
            Ok(false) => {
                return Err(super::InputError::wrap(format!(
                    "profile `{profile}` is in neither AWS config file (`[profile {profile}]` in \
                     `~/.aws/config` or `AWS_CONFIG_FILE`, `[{profile}]` in `~/.aws/credentials` \
                     or `AWS_SHARED_CREDENTIALS_FILE`); `aws configure list-profiles` lists them"
                )));
            }
            Err(reason) => {
                return Err(super::InputError::wrap(format!(
                    "cannot read the AWS config files for `--profile {profile}`: {reason}"
                )));
            }
        }
    }
    let count = options.assume_roles.len().max(1) as u64;
    let steps = Steps::new(global.quiet, "aws: ", None, Some(count));
    let outcomes = runtime.block_on(async {
        let config = collect::load_sdk_config(&options).await;
        let starting =
            |target: &collect::CollectTarget, _: usize, _: usize| steps.step(&target.to_string());
        collect::collect_all_reporting(&config, &options, &collected_at, &starting).await
    });
    drop(steps);

    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_err())
        .count();
    for outcome in &outcomes {
        match &outcome.result {
            Err(error) => eprintln!("error: {error}"),
            Ok(inventory) if global.verbose => {
                for issue in &inventory.errors {
                    eprintln!(
                        "account {}: `{}` failed: {}",
                        issue.account, issue.call, issue.reason
                    );
                }
                for issue in &inventory.skipped {
                    eprintln!(
                        "account {}: `{}` skipped: {}",
                        issue.account, issue.call, issue.reason
                    );
                }
            }
            Ok(_) => {}
        }
    }
    if failed == outcomes.len() {
        // An empty snapshot would read as "every identity was deleted" to drift.
        eprintln!("error: no account could be collected; no snapshot written");
        write_summary(out, args.format, None, &outcomes)?;
        return Ok(Exit::Runtime);
    }

    let mut writer = match (&args.out, &store) {
        (Some(dir), _) => SnapshotWriter::create(dir, now)?,
        (None, Some(store)) => store.writer(now)?,
        (None, None) => Store::new(&args.store).writer(now)?,
    };
    for outcome in &outcomes {
        match &outcome.result {
            Ok(inventory) => {
                writer.write_aws_inventory(inventory)?;
                for skipped in &inventory.skipped {
                    writer.manifest_mut().coverage.push(format!(
                        "aws account {}: `{}` skipped: {}",
                        skipped.account, skipped.call, skipped.reason
                    ));
                }
                if !inventory.errors.is_empty() {
                    writer.manifest_mut().coverage.push(format!(
                        "aws account {}: {} call(s) failed, see its inventory's `errors`",
                        inventory.account_id,
                        inventory.errors.len()
                    ));
                }
            }
            Err(error) => writer.manifest_mut().errors.push(ManifestIssue {
                provider: "aws".to_owned(),
                target: outcome.target.to_string(),
                reason: error.to_string(),
            }),
        }
    }
    let snapshot = writer.commit()?;
    let written = super::snapshots::written_to(store.as_ref(), &snapshot);
    if !global.quiet {
        eprintln!("snapshot written to `{}`", written.display());
    }
    write_summary(out, args.format, Some(&written), &outcomes)?;
    Ok(if failed > 0 {
        Exit::Runtime
    } else {
        Exit::Clean
    })
}

#[cfg(feature = "aws")]
fn write_summary(
    out: &mut dyn Write,
    format: OutputFormat,
    snapshot: Option<&std::path::Path>,
    outcomes: &[AccountOutcome],
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            let accounts = outcomes
                .iter()
                .map(|outcome| match &outcome.result {
                    Ok(inventory) => {
                        AwsAccountCollectView::collected(outcome.target.to_string(), inventory)
                    }
                    Err(error) => {
                        AwsAccountCollectView::failed(outcome.target.to_string(), error.to_string())
                    }
                })
                .collect();
            let summary = AwsCollectView::new(snapshot, accounts);
            serde_json::to_writer_pretty(&mut *out, &summary)?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header([
                "account",
                "roles",
                "users",
                "policies",
                "oidc providers",
                "scps",
                "errors",
                "skipped",
            ]);
            for outcome in outcomes {
                match &outcome.result {
                    Ok(inventory) => table.add_row([
                        inventory.account_id.clone(),
                        inventory.roles.len().to_string(),
                        inventory.users.len().to_string(),
                        inventory.policies.len().to_string(),
                        inventory.oidc_providers.len().to_string(),
                        inventory.service_control_policies.len().to_string(),
                        inventory.errors.len().to_string(),
                        inventory.skipped.len().to_string(),
                    ]),
                    Err(_) => table.add_row([
                        format!("{} (failed)", outcome.target),
                        "-".to_owned(),
                        "-".to_owned(),
                        "-".to_owned(),
                        "-".to_owned(),
                        "-".to_owned(),
                        "1".to_owned(),
                        "-".to_owned(),
                    ]),
                };
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(())
}
