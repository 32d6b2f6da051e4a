//! The ways to run the scheduled audit (`Dockerfile`, `deploy/github-actions/`,
//! `deploy/kubernetes/`, `docs/running.md`) checked offline: each file is parsed and its
//! invariants asserted (least privilege, no long-lived secret, non-root, read-only root file
//! system), and every `pipeleash` command it names is checked against the built binary's
//! `--help`, so that a renamed subcommand or flag breaks this test rather than a nightly run.
//! No image is built or pulled and no cloud is called.

use serde::Deserialize;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_file(relative))
        .unwrap_or_else(|error| panic!("cannot read `{relative}`: {error}"))
}

/// One `pipeleash …` invocation: the subcommand path and the long flags it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Invocation {
    subcommand: Vec<String>,
    flags: Vec<String>,
}

/// Splits the arguments after `pipeleash` into subcommand words and long flags.
fn invocation<S: AsRef<str>>(args: &[S]) -> Invocation {
    let mut subcommand = Vec::new();
    let mut flags = Vec::new();
    let mut in_subcommand = true;
    for arg in args {
        let arg = arg.as_ref();
        if let Some(flag) = arg.strip_prefix("--") {
            in_subcommand = false;
            flags.push(flag.split('=').next().unwrap_or(flag).to_string());
        } else if arg.starts_with('-') {
            // A short global flag (`-q`) may come before the subcommand.
        } else if in_subcommand {
            subcommand.push(arg.to_string());
        }
    }
    Invocation { subcommand, flags }
}

/// The `pipeleash` commands of a shell script: continuation lines joined, split at `&&`, `;`
/// and `|`, redirections dropped, quotes removed.
fn shell_invocations(script: &str) -> Vec<Invocation> {
    let joined = script.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        let line = line.split(" #").next().unwrap_or(line);
        for command in line.split("&&").flat_map(|part| part.split([';', '|'])) {
            let words: Vec<String> = command
                .split_whitespace()
                .map(|word| word.trim_matches(|c| c == '"' || c == '\'').to_string())
                .collect();
            if words.first().map(String::as_str) != Some("pipeleash") {
                continue;
            }
            let args: Vec<&String> = words[1..]
                .iter()
                .take_while(|word| !word.starts_with('>') && !word.starts_with('<'))
                .collect();
            found.push(invocation(&args));
        }
    }
    found
}

/// Runs `pipeleash <subcommand> --help` and checks that each flag is listed.
fn assert_exists(invocation: &Invocation, origin: &str) {
    let output = Command::new(BIN)
        .args(&invocation.subcommand)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{origin}: `pipeleash {}` is not a command: {}",
        invocation.subcommand.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    // A subcommand that takes subcommands of its own is incomplete.
    assert!(
        !help.contains("\nCommands:"),
        "{origin}: `pipeleash {}` needs a subcommand",
        invocation.subcommand.join(" ")
    );
    for flag in &invocation.flags {
        let listed = help.match_indices(&format!("--{flag}")).any(|(at, _)| {
            let after = help[at + flag.len() + 2..].chars().next();
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        assert!(
            listed,
            "{origin}: `pipeleash {}` has no flag `--{flag}`",
            invocation.subcommand.join(" ")
        );
    }
}

fn config_is_valid(text: &str, origin: &str) {
    let checks: Vec<&str> = pipeleash::checks::all_check_docs()
        .into_iter()
        .map(|doc| doc.id)
        .collect();
    if let Err(error) = pipeleash::config::parse(text, Path::new(origin), &checks) {
        panic!("{origin}: the configuration is refused: {error}");
    }
}

#[test]
fn the_shell_parser_finds_commands_flags_and_skips_other_programs() {
    let found = shell_invocations(
        "cargo install --locked pipeleash\n\
         pipeleash collect aws --out snapshots/aws \\\n  --format=json > out.json && \
         pipeleash -q audit --config \"pipeleash.toml\" | tee report # pipeleash fake --x",
    );
    assert_eq!(
        found,
        [
            Invocation {
                subcommand: vec!["collect".into(), "aws".into()],
                flags: vec!["out".into(), "format".into()],
            },
            Invocation {
                subcommand: vec!["audit".into()],
                flags: vec!["config".into()],
            },
        ]
    );
}

#[test]
fn a_flag_the_cli_lacks_is_caught() {
    let result = std::panic::catch_unwind(|| {
        assert_exists(
            &invocation(&["audit", "--config", "x", "--no-such-flag"]),
            "test",
        )
    });
    assert!(result.is_err());
    let result =
        std::panic::catch_unwind(|| assert_exists(&invocation(&["no-such-command"]), "test"));
    assert!(result.is_err());
    // A prefix of a real flag is not the flag.
    let result =
        std::panic::catch_unwind(|| assert_exists(&invocation(&["audit", "--conf", "x"]), "test"));
    assert!(result.is_err());
}

// ---------------------------------------------------------------------------------------
// Dockerfile

/// The instructions of a Dockerfile: (keyword in upper case, arguments), continuation lines
/// joined, comments dropped.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, arguments) = current.split_once(' ').unwrap_or((&current, ""));
        instructions.push((keyword.to_ascii_uppercase(), arguments.trim().to_string()));
        current.clear();
    }
    instructions
}

#[test]
fn dockerfile_builds_a_static_binary_into_a_small_non_root_image() {
    let instructions = dockerfile_instructions(&read("Dockerfile"));
    let stages: Vec<&str> = instructions
        .iter()
        .filter(|(keyword, _)| keyword == "FROM")
        .map(|(_, arguments)| arguments.as_str())
        .collect();
    assert!(stages.len() >= 2, "not multi-stage: {stages:?}");
    // The build stage is named and targets musl (Alpine's toolchain), so the binary is static.
    let build = stages[0];
    assert!(
        build.contains("rust:") && build.contains("alpine"),
        "{build}"
    );
    assert!(build.ends_with(" AS build"), "{build}");
    // The final stage has no shell or package manager.
    let last = *stages.last().unwrap();
    assert!(
        last.starts_with("gcr.io/distroless/static") || last == "scratch",
        "{last}"
    );
    let final_stage_start = instructions
        .iter()
        .rposition(|(keyword, _)| keyword == "FROM")
        .unwrap();
    let final_stage = &instructions[final_stage_start..];

    let builds: Vec<&str> = instructions
        .iter()
        .filter(|(keyword, arguments)| keyword == "RUN" && arguments.contains("cargo build"))
        .map(|(_, arguments)| arguments.as_str())
        .collect();
    assert_eq!(builds.len(), 1, "{builds:?}");
    for flag in ["--release", "--locked"] {
        assert!(builds[0].contains(flag), "`cargo build` without {flag}");
    }
    // Default features unless the FEATURES build argument adds some.
    assert!(!builds[0].contains("--no-default-features"));
    assert!(instructions.contains(&("ARG".to_string(), "FEATURES=\"\"".to_string())));

    // Non-root, by number (Kubernetes' runAsNonRoot cannot check a name).
    let users: Vec<&str> = final_stage
        .iter()
        .filter(|(keyword, _)| keyword == "USER")
        .map(|(_, arguments)| arguments.as_str())
        .collect();
    let user = users.last().expect("the final stage sets USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric uid");
    assert_ne!(uid, 0, "runs as root");

    let entrypoints: Vec<&str> = final_stage
        .iter()
        .filter(|(keyword, _)| keyword == "ENTRYPOINT")
        .map(|(_, arguments)| arguments.as_str())
        .collect();
    let entrypoint: Vec<String> = serde_json::from_str(entrypoints.last().unwrap())
        .expect("ENTRYPOINT in exec form (a JSON array): there is no shell");
    assert_eq!(entrypoint.len(), 1, "{entrypoint:?}");
    assert!(entrypoint[0].ends_with("/pipeleash"), "{entrypoint:?}");
    // The binary the entry point names is the one copied from the build stage.
    assert!(
        final_stage
            .iter()
            .any(|(keyword, arguments)| keyword == "COPY"
                && arguments.starts_with("--from=build")
                && arguments.ends_with(&entrypoint[0]))
    );
}

#[test]
fn dockerignore_keeps_build_output_and_history_out_of_the_context() {
    let ignored: BTreeSet<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect();
    for entry in ["target", ".git"] {
        assert!(ignored.contains(entry), "{entry} not ignored: {ignored:?}");
    }
    // What the build reads must stay in the context: the manifest names benches and tests,
    // and `src/` embeds `providers/`, `queries/`, `reports/` and `docs/checks.md`.
    for needed in [
        "src",
        "providers",
        "queries",
        "reports",
        "docs",
        "benches",
        "tests",
    ] {
        assert!(!ignored.contains(needed), "{needed} is ignored");
    }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions

#[derive(Debug, Deserialize)]
struct Workflow {
    on: BTreeMap<String, Value>,
    #[serde(default)]
    permissions: Option<Value>,
    jobs: BTreeMap<String, Job>,
}

#[derive(Debug, Deserialize)]
struct Job {
    #[serde(default)]
    permissions: Option<BTreeMap<String, String>>,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, Value>,
    #[serde(default)]
    run: Option<String>,
}

const WORKFLOW: &str = "deploy/github-actions/pipeleash-audit.yml";

fn workflow() -> Workflow {
    serde_norway::from_str(&read(WORKFLOW)).expect("the workflow parses")
}

fn step_using<'a>(job: &'a Job, action: &str) -> &'a Step {
    job.steps
        .iter()
        .find(|step| {
            step.uses
                .as_deref()
                .is_some_and(|uses| uses.split('@').next() == Some(action))
        })
        .unwrap_or_else(|| panic!("no step uses `{action}`"))
}

#[test]
fn workflow_runs_nightly_and_on_demand() {
    let workflow = workflow();
    let schedule = workflow.on["schedule"].as_sequence().expect("a schedule");
    let cron = schedule[0]["cron"].as_str().expect("a cron expression");
    assert_eq!(cron.split_whitespace().count(), 5, "{cron}");
    assert!(workflow.on.contains_key("workflow_dispatch"));
}

#[test]
fn workflow_permissions_are_the_oidc_token_a_read_and_the_sarif_upload() {
    let workflow = workflow();
    // Nothing at the top: the default token permissions are not inherited.
    let top = workflow.permissions.expect("top-level `permissions`");
    assert!(
        top.as_mapping().is_some_and(|map| map.is_empty()),
        "{top:?}"
    );
    for (name, job) in &workflow.jobs {
        let permissions = job.permissions.clone().expect("job-level `permissions`");
        let expected: BTreeMap<String, String> = [
            ("contents", "read"),
            ("id-token", "write"),
            ("security-events", "write"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
        assert_eq!(permissions, expected, "job `{name}`");
    }
}

#[test]
fn workflow_uses_oidc_into_each_cloud_and_no_stored_secret() {
    let text = read(WORKFLOW);
    assert!(!text.contains("secrets."), "a stored secret is referenced");
    let workflow = workflow();
    let job = &workflow.jobs["audit"];

    let aws = step_using(job, "aws-actions/configure-aws-credentials");
    assert!(aws.with.contains_key("role-to-assume"));
    let gcp = step_using(job, "google-github-actions/auth");
    assert!(gcp.with.contains_key("workload_identity_provider"));
    let azure = step_using(job, "azure/login");
    for key in ["client-id", "tenant-id", "subscription-id"] {
        assert!(azure.with.contains_key(key), "azure/login without {key}");
    }
    // The inputs that carry long-lived keys, for each login action.
    let long_lived = [
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
        "credentials_json",
        "creds",
        "client-secret",
    ];
    for step in &job.steps {
        for key in step.with.keys() {
            assert!(!long_lived.contains(&key.as_str()), "input `{key}`");
        }
    }
    for variable in [
        "AWS_SECRET_ACCESS_KEY",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
    ] {
        assert!(!text.contains(variable), "{variable} is set");
    }
}

#[test]
fn workflow_uploads_the_sarif_report_and_keeps_it_as_an_artifact() {
    let workflow = workflow();
    let job = &workflow.jobs["audit"];
    let upload = step_using(job, "github/codeql-action/upload-sarif");
    let sarif = upload.with["sarif_file"].as_str().unwrap().to_string();
    let artifact = step_using(job, "actions/upload-artifact");
    assert!(
        artifact.with["path"].as_str().unwrap().contains(&sarif),
        "the artifact does not hold `{sarif}`"
    );
    // The audit writes that file in SARIF.
    let audits: Vec<Invocation> = job
        .steps
        .iter()
        .filter_map(|step| step.run.as_deref())
        .flat_map(shell_invocations)
        .filter(|invocation| invocation.subcommand == ["audit"])
        .collect();
    assert_eq!(audits.len(), 1);
    for flag in ["config", "format"] {
        assert!(audits[0].flags.contains(&flag.to_string()), "{flag}");
    }
    let text = read(WORKFLOW);
    assert!(text.contains(&format!("--format sarif > {sarif}")));
}

#[test]
fn workflow_commands_exist_in_the_cli() {
    let workflow = workflow();
    let mut seen = BTreeSet::new();
    for step in &workflow.jobs["audit"].steps {
        for invocation in step
            .run
            .as_deref()
            .map(shell_invocations)
            .unwrap_or_default()
        {
            assert_exists(&invocation, WORKFLOW);
            seen.insert(invocation.subcommand.join(" "));
        }
    }
    let expected: BTreeSet<String> = ["audit", "collect aws", "collect azure", "collect gcp"]
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(seen, expected);
}

// ---------------------------------------------------------------------------------------
// Kubernetes

const CRONJOB: &str = "deploy/kubernetes/cronjob.yaml";

fn manifests() -> Vec<Value> {
    serde_norway::Deserializer::from_str(&read(CRONJOB))
        .map(|document| Value::deserialize(document).expect("a YAML document"))
        .collect()
}

fn of_kind<'a>(manifests: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = manifests
        .iter()
        .filter(|manifest| manifest["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

fn pod_spec(manifests: &[Value]) -> &Value {
    &of_kind(manifests, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

/// Every container of the pod, init containers first.
fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|key| pod[key].as_sequence().into_iter().flatten())
        .collect()
}

fn string_args(container: &Value) -> Vec<String> {
    container["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|arg| arg.as_str().expect("a string argument").to_string())
        .collect()
}

#[test]
fn cronjob_never_overlaps_and_runs_on_a_schedule() {
    let manifests = manifests();
    let cronjob = of_kind(&manifests, "CronJob");
    assert_eq!(
        cronjob["spec"]["concurrencyPolicy"].as_str(),
        Some("Forbid")
    );
    let schedule = cronjob["spec"]["schedule"].as_str().unwrap();
    assert_eq!(schedule.split_whitespace().count(), 5, "{schedule}");
    assert_eq!(
        pod_spec(&manifests)["restartPolicy"].as_str(),
        Some("Never")
    );
}

#[test]
fn cronjob_runs_non_root_on_a_read_only_root_file_system_with_limits() {
    let manifests = manifests();
    let pod = pod_spec(&manifests);
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_ne!(pod["securityContext"]["runAsUser"].as_u64(), Some(0));
    let all = containers(pod);
    assert!(all.len() >= 2);
    for container in all {
        let name = container["name"].as_str().unwrap();
        let security = &container["securityContext"];
        assert_eq!(
            security["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{name}"
        );
        assert_eq!(
            security["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}"
        );
        assert_eq!(security["runAsNonRoot"].as_bool(), Some(true), "{name}");
        let dropped = security["capabilities"]["drop"].as_sequence().unwrap();
        assert!(dropped.iter().any(|c| c.as_str() == Some("ALL")), "{name}");
        for resource in ["cpu", "memory"] {
            assert!(
                !container["resources"]["limits"][resource].is_null(),
                "{name}: no {resource} limit"
            );
        }
        // With a read-only root, pipeleash writes only to mounted volumes: the temporary
        // directory and the data volume the stores are on.
        let mounts: BTreeSet<&str> = container["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|mount| mount["mountPath"].as_str().unwrap())
            .collect();
        assert!(mounts.contains("/tmp"), "{name}: no writable /tmp");
    }
}

#[test]
fn cronjob_uses_workload_identity_and_mounts_no_secret() {
    let text = read(CRONJOB);
    for needle in [
        "secretKeyRef",
        "secretRef",
        "secret:",
        "AWS_SECRET_ACCESS_KEY",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        assert!(!text.contains(needle), "`{needle}` in {CRONJOB}");
    }
    let manifests = manifests();
    let account = of_kind(&manifests, "ServiceAccount");
    let annotations = account["metadata"]["annotations"].as_mapping().unwrap();
    let workload_identity = [
        "eks.amazonaws.com/role-arn",
        "iam.gke.io/gcp-service-account",
        "azure.workload.identity/client-id",
    ];
    assert!(
        annotations
            .keys()
            .any(|key| workload_identity.contains(&key.as_str().unwrap())),
        "{annotations:?}"
    );
    // The other platforms are shown as comments.
    for key in workload_identity {
        assert!(text.contains(key), "{key} not shown");
    }
    let pod = pod_spec(&manifests);
    assert_eq!(
        pod["serviceAccountName"].as_str(),
        account["metadata"]["name"].as_str()
    );
    assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
    for volume in pod["volumes"].as_sequence().unwrap() {
        assert!(volume["secret"].is_null(), "{volume:?}");
    }
}

#[test]
fn cronjob_configuration_is_valid_and_is_the_file_the_audit_reads() {
    let manifests = manifests();
    let config_map = of_kind(&manifests, "ConfigMap");
    let text = config_map["data"]["pipeleash.toml"].as_str().unwrap();
    config_is_valid(text, "pipeleash.toml");

    let pod = pod_spec(&manifests);
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|volume| volume["configMap"]["name"] == config_map["metadata"]["name"])
        .expect("the ConfigMap is a volume");
    let audit = containers(pod)
        .into_iter()
        .find(|container| string_args(container).first().map(String::as_str) == Some("audit"))
        .expect("a container runs `audit`");
    let mount = audit["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|mount| mount["name"] == volume["name"])
        .expect("the audit mounts the ConfigMap");
    let args = string_args(audit);
    let config = &args[args.iter().position(|arg| arg == "--config").unwrap() + 1];
    assert_eq!(
        config,
        &format!("{}/pipeleash.toml", mount["mountPath"].as_str().unwrap())
    );
}

#[test]
fn cronjob_commands_exist_in_the_cli_and_share_one_image() {
    let manifests = manifests();
    let pod = pod_spec(&manifests);
    let mut images = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for container in containers(pod) {
        images.insert(container["image"].as_str().unwrap().to_string());
        // The image's entry point is `pipeleash`: a `command` would replace it.
        assert!(container["command"].is_null());
        let invocation = invocation(&string_args(container));
        assert_exists(&invocation, CRONJOB);
        seen.insert(invocation.subcommand.join(" "));
    }
    assert_eq!(images.len(), 1, "{images:?}");
    for expected in ["collect aws", "collect azure", "collect gcp", "audit"] {
        assert!(seen.contains(expected), "`{expected}` not run: {seen:?}");
    }
}

// ---------------------------------------------------------------------------------------
// docs/running.md

#[test]
fn running_doc_commands_exist_in_the_cli() {
    let text = read("docs/running.md");
    let mut in_shell = false;
    let mut script = String::new();
    for line in text.lines() {
        if let Some(language) = line.strip_prefix("```") {
            in_shell = !in_shell && matches!(language, "sh" | "bash" | "shell");
            continue;
        }
        if in_shell {
            script.push_str(line);
            script.push('\n');
        }
    }
    // `docker run IMAGE ARGS…` runs `pipeleash ARGS…` (the image's entry point).
    let script = script.replace("docker run --rm -v \"$PWD:/work\" pipeleash", "pipeleash");
    let invocations = shell_invocations(&script);
    assert!(invocations.len() >= 3, "{invocations:?}");
    for invocation in &invocations {
        assert_exists(invocation, "docs/running.md");
    }
}

#[test]
fn the_readme_links_the_running_doc() {
    assert!(read("README.md").contains("(docs/running.md)"));
}
