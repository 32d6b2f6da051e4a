//! `pipeleash init` (writes a commented `pipeleash.toml`) and `--config` of `audit` and
//! `analyze`: the file's settings become the flags the command line left out.

use super::{Exit, GlobalArgs, InputError};
use crate::config::{Config, EXAMPLE};
use crate::snapshot::{Snapshot, Store};
use anyhow::Context as _;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write the example configuration.
    #[arg(long, value_name = "FILE", default_value = "pipeleash.toml")]
    pub path: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Writes the commented example configuration.
pub fn run(args: InitArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    if args.path.exists() && !args.force {
        return Err(InputError::wrap(format!(
            "`{}` already exists; pass `--force` to replace it, or `--path` to write elsewhere",
            args.path.display()
        )));
    }
    std::fs::write(&args.path, EXAMPLE)
        .with_context(|| format!("cannot write `{}`", args.path.display()))?;
    if !global.quiet {
        eprintln!(
            "wrote `{}`; edit it, then run `pipeleash audit --config {}`",
            args.path.display(),
            args.path.display()
        );
    }
    Ok(Exit::Clean)
}

/// The check ids a suppression may name.
fn known_checks() -> Vec<&'static str> {
    crate::checks::all_check_docs()
        .into_iter()
        .map(|doc| doc.id)
        .collect()
}

/// Loads a configuration file, as an input error when it is refused.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    crate::config::load(path, &known_checks()).map_err(InputError::wrap)
}

/// Whether `argv` holds `--flag` or `--flag=…`.
fn has_flag(argv: &[OsString], flag: &str) -> bool {
    argv.iter().any(|arg| {
        let arg = arg.to_string_lossy();
        arg == flag || arg.starts_with(&format!("{flag}="))
    })
}

/// `[window] since`/`until` of the file, read whatever the command reads: a value that is
/// not an age, a date or a time, or a window that is empty, is an input error naming the key
/// and the file (before: ignored when no logs were read, and otherwise reported against
/// `--since`/`--until`, flags the user never typed).
fn check_config_window(config: &Config, path: &Path) -> anyhow::Result<()> {
    use super::time::{Bound, parse_time_bound};
    let now = chrono::Utc::now();
    let read = |key: &str, text: Option<&String>, bound| {
        text.map(|text| {
            parse_time_bound(text, now, bound).map_err(|error| {
                InputError::wrap(format!(
                    "`[window] {key} = \"{text}\"` in `{}`: {error}",
                    path.display()
                ))
            })
        })
        .transpose()
    };
    let since = read("since", config.since.as_ref(), Bound::Since)?;
    let until = read("until", config.until.as_ref(), Bound::Until)?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(InputError::wrap(format!(
            "`[window]` in `{}` is empty: `since = \"{}\"` must be before `until = \"{}\"`",
            path.display(),
            config.since.as_deref().unwrap_or_default(),
            config.until.as_deref().unwrap_or_default()
        )));
    }
    Ok(())
}

/// The value of `--config` in `argv`, if any.
fn config_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(value) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(value));
        }
    }
    None
}

/// For `audit --config FILE` and `analyze --config FILE`: the arguments with the file's
/// settings added as flags wherever the command line gave none (flags win), and the loaded
/// file. Other commands pass through unchanged.
pub fn expand_config(argv: Vec<OsString>) -> anyhow::Result<(Vec<OsString>, Option<Config>)> {
    let command = argv
        .iter()
        .skip(1)
        .map(|arg| arg.to_string_lossy())
        .find(|arg| !arg.starts_with('-'));
    if !matches!(command.as_deref(), Some("audit" | "analyze")) {
        return Ok((argv, None));
    }
    let Some(path) = config_path(&argv) else {
        return Ok((argv, None));
    };
    let config = load_config(&path)?;
    check_config_window(&config, &path)?;
    let mut out = argv.clone();
    if !has_flag(&argv, "--snapshot") {
        let store = config_store(&config)?;
        let latest = latest_per_cloud(&store.list().map_err(InputError::wrap)?)?;
        if latest.is_empty() {
            return Err(InputError::wrap(format!(
                "`{}`: the store `{}` holds no snapshot; run `pipeleash collect aws --store {}` \
                 first, or pass `--snapshot DIR`",
                path.display(),
                store.location(),
                store.location()
            )));
        }
        for dir in latest {
            // A store in object storage: the snapshot's files are downloaded into the cache.
            store.open(&dir).map_err(InputError::wrap)?;
            out.push(OsString::from("--snapshot"));
            out.push(dir.into_os_string());
        }
    }
    // (flag, its arguments), added unless the command line has the flag.
    let mut flags: Vec<(&str, Vec<String>)> = Vec::new();
    let mut add = |flag: &'static str, value: Option<&str>| {
        flags.push((
            flag,
            [Some(flag), value]
                .into_iter()
                .flatten()
                .map(str::to_owned)
                .collect(),
        ));
    };
    // The scheduled audit of the store's snapshots continues the store's last read of each
    // log source the configuration names (and the command line does not override), when that
    // source is a folder of log files and its `incremental` is on.
    let from_store = !has_flag(&argv, "--snapshot");
    let mut incremental: Vec<&str> = Vec::new();
    if let Some(aws) = &config.aws {
        if let Some(cloudtrail) = &aws.cloudtrail {
            add("--cloudtrail", Some(cloudtrail));
            if aws.incremental
                && from_store
                && !has_flag(&argv, "--cloudtrail")
                && cloudtrail != crate::aws::cloudtrail::lookup::LOOKUP_EVENTS
            {
                incremental.push("cloudtrail");
            }
        }
        if let Some(profile) = &aws.profile {
            add("--profile", Some(profile));
        }
        if let Some(region) = &aws.region {
            add("--region", Some(region));
        }
    }
    for (flag, logs, on, name) in [
        (
            "--gcp-audit-logs",
            &config.gcp_audit_logs,
            config.gcp_incremental,
            "gcp",
        ),
        (
            "--azure-activity-logs",
            &config.azure_activity_logs,
            config.azure_incremental,
            "azure",
        ),
    ] {
        if let Some(logs) = logs {
            add(flag, Some(logs));
            // A single exported file has no files to remember: it is read in full. A folder
            // or a bucket / container URL (`gs://…`, `https://…`) is read incrementally.
            let folder = Path::new(logs).is_dir() || crate::remote_logs::is_url(Path::new(logs));
            if on && from_store && !has_flag(&argv, flag) && folder {
                incremental.push(name);
            }
        }
    }
    // The window applies to logs read now; usage stored in a snapshot keeps its own.
    let reads_logs = ["--cloudtrail", "--gcp-audit-logs", "--azure-activity-logs"]
        .iter()
        .any(|flag| has_flag(&argv, flag))
        || config
            .aws
            .as_ref()
            .is_some_and(|aws| aws.cloudtrail.is_some())
        || config.gcp_audit_logs.is_some()
        || config.azure_activity_logs.is_some();
    if reads_logs {
        if let Some(since) = &config.since {
            add("--since", Some(since));
        }
        if let Some(until) = &config.until {
            add("--until", Some(until));
        }
    }
    if let Some(fail_on) = config.fail_on {
        add("--fail-on", Some(&fail_on.to_string()));
    }
    if let Some(format) = &config.format {
        add("--format", Some(format));
    }
    if !incremental.is_empty() {
        // One `--incremental` switch, naming the sources read so.
        let sources = incremental.join(",");
        flags.push(("--incremental", vec![format!("--incremental={sources}")]));
    }
    for (flag, args) in flags {
        if !has_flag(&argv, flag) {
            out.extend(args.into_iter().map(OsString::from));
        }
    }
    Ok((out, Some(config)))
}

/// The store of `[store] path` (and `[store] cache`).
fn config_store(config: &Config) -> anyhow::Result<Store> {
    super::snapshots::open_store(&config.store, config.cache.as_deref())
}

/// The newest snapshot of the store (listed oldest first) holding each cloud's inventory,
/// each named once: every cloud is collected into a snapshot of its own, so the audit reads
/// the latest of each. A store whose snapshots hold no inventory gives its newest snapshot.
fn latest_per_cloud(listed: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut chosen: Vec<PathBuf> = Vec::new();
    let mut wanted = vec!["aws", "gcp", "azure"];
    for dir in listed.iter().rev() {
        if wanted.is_empty() {
            break;
        }
        let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
        let before = wanted.len();
        wanted.retain(|provider| snapshot.inventory_path(provider).is_none());
        if wanted.len() < before {
            chosen.push(dir.clone());
        }
    }
    if chosen.is_empty()
        && let Some(newest) = listed.last()
    {
        chosen.push(newest.clone());
    }
    chosen.sort();
    Ok(chosen)
}

/// Whether a snapshot directory holds an AWS account inventory.
fn holds_aws(dir: &Path) -> anyhow::Result<bool> {
    let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
    Ok(snapshot.inventory_path("aws").is_some())
}

/// The store's newest AWS snapshot older than the audited one (the first of `snapshots`
/// holding AWS), for the drift every audit reports; `None` when the audited snapshot is not
/// in the store or none came before it.
fn previous_aws_snapshot(
    config: &Config,
    snapshots: &[PathBuf],
) -> anyhow::Result<Option<PathBuf>> {
    let mut audited = None;
    for dir in snapshots {
        if holds_aws(dir)? {
            audited = Some(dir);
            break;
        }
    }
    let Some(audited) = audited else {
        return Ok(None);
    };
    let store = config_store(config)?;
    let listed = store.list().map_err(InputError::wrap)?;
    let canonical = |dir: &Path| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let audited_canonical = canonical(audited);
    let Some(position) = listed
        .iter()
        .position(|dir| canonical(dir) == audited_canonical)
    else {
        return Ok(None);
    };
    for dir in listed[..position].iter().rev() {
        // A snapshot that cannot be read is skipped, and said so: drift is reported against
        // the newest readable one.
        match holds_aws(dir) {
            // A store in object storage: the snapshot's files are downloaded.
            Ok(true) => match store.open(dir) {
                Ok(_) => return Ok(Some(dir.clone())),
                Err(error) => eprintln!(
                    "warning: snapshot `{}` cannot be read ({error}); drift is reported against \
                     an earlier one",
                    dir.display()
                ),
            },
            Ok(false) => {}
            Err(error) => eprintln!(
                "warning: snapshot `{}` cannot be read ({error:#}); drift is reported against an \
                 earlier one",
                dir.display()
            ),
        }
    }
    Ok(None)
}

/// Checks that the snapshots cover every account `[aws] accounts` names.
pub fn check_scope(config: &Config, snapshots: &[PathBuf]) -> anyhow::Result<()> {
    let Some(aws) = &config.aws else {
        return Ok(());
    };
    let mut present: Vec<String> = Vec::new();
    for dir in snapshots {
        let snapshot = Snapshot::open(dir).map_err(InputError::wrap)?;
        present.extend(
            snapshot
                .manifest()
                .sources
                .iter()
                .filter(|source| source.provider == "aws" && source.kind == "account-inventory")
                .map(|source| source.id.clone()),
        );
    }
    let missing: Vec<&str> = aws
        .accounts
        .iter()
        .map(String::as_str)
        .filter(|account| !present.iter().any(|id| id == account))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(InputError::wrap(format!(
            "snapshot {} holds no inventory of account(s) {} that `[aws] accounts` puts in scope; \
             collect them (`pipeleash collect aws`) or remove them from the configuration",
            snapshots
                .iter()
                .map(|dir| format!("`{}`", dir.display()))
                .collect::<Vec<_>>()
                .join(", "),
            missing.join(", ")
        )))
    }
}

/// `analyze` or `audit` (`with_policies`), with the configuration's suppressions, scope check
/// and report file when `--config` was given.
pub fn run_analysis(
    mut args: super::analyze::AnalyzeArgs,
    with_policies: bool,
    config: Option<&Config>,
    global: &GlobalArgs,
    stdout: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    if let Some(config) = config {
        check_scope(config, &args.evidence.snapshot)?;
        args.suppressions = config.suppressions.clone();
        if with_policies {
            args.previous = previous_aws_snapshot(config, &args.evidence.snapshot)?;
        }
    }
    with_output(config, stdout, |out| {
        if with_policies {
            super::analyze::run_audit(args, global, out)
        } else {
            super::analyze::run_analyze(args, global, out)
        }
    })
}

/// Runs `run` with stdout, or with the configured report file, written whole on success.
pub fn with_output(
    config: Option<&Config>,
    stdout: &mut dyn std::io::Write,
    run: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<Exit>,
) -> anyhow::Result<Exit> {
    let Some(path) = config.and_then(|config| config.output.as_ref()) else {
        return run(stdout);
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    let exit = run(&mut file)?;
    file.flush()?;
    file.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(exit)
}
