//! The frozen outputs of the AWS job, pinned byte for byte with insta snapshots
//! (`tests/snapshots/frozen_outputs__*.snap`): what users script against and what the
//! provider-neutral refactor must leave unchanged.
//!
//! Every test runs the built `pipeleash` binary in the repository root on the demo
//! organisation (`recorded-fixtures/demo`: snapshot and a week of CloudTrail) or on the
//! policy fixtures, with relative paths and a fixed window (`--since 2026-11-14 --until
//! 2026-11-20`, and `--now` where the command takes one), so that the output is the same in
//! every clone and on every day. The exit code is part of what is frozen: [`pipeleash`]
//! asserts it.
//!
//! Outputs are pinned as the raw text the binary printed (JSON included, so that key order
//! and layout are frozen too, not only the values). insta ignores whitespace at the end of a
//! snapshot, so [`pin`] checks the final newline itself.
//!
//! Commands that read CloudTrail run with `--quiet`: otherwise a progress counter is drawn on
//! stderr once reading has taken half a second, which depends on the machine's speed. The
//! one test of stderr warnings without `--quiet` removes that counter, and only that.
//!
//! A deliberate change to one of these outputs is reviewed as a snapshot diff: see
//! "Frozen outputs" in `docs/ARCHITECTURE.md`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pipeleash");

const SNAPSHOT: &str = "recorded-fixtures/demo/snapshot";
const CLOUDTRAIL: &str = "recorded-fixtures/demo/cloudtrail";
const DEMO_POLICIES: &str = "recorded-fixtures/demo/aws/policies";
const FIXTURE_POLICIES: &str = "tests/fixtures/policies";

/// `analyze` and `audit` on the demo: its snapshot and logs over the week they hold.
const EVIDENCE: [&str; 10] = [
    "--snapshot",
    SNAPSHOT,
    "--cloudtrail",
    CLOUDTRAIL,
    "--since",
    "2026-11-14",
    "--until",
    "2026-11-20",
    "--now",
    "2026-11-22T00:00:00Z",
];

/// `usage`: the same week of logs.
const WINDOW: [&str; 4] = ["--since", "2026-11-14", "--until", "2026-11-20"];

/// `minimize` from the demo snapshot: the week up to `--now`.
const MINIMIZE_EVIDENCE: [&str; 8] = [
    "--snapshot",
    SNAPSHOT,
    "--cloudtrail",
    CLOUDTRAIL,
    "--since",
    "2026-11-14",
    "--now",
    "2026-11-21T00:00:00Z",
];

/// `graph`: the snapshot and the logs from the start of the week (the commands take no
/// `--until` or `--now`; the logs end on 2026-11-20).
const GRAPH_EVIDENCE: [&str; 6] = [
    "--snapshot",
    SNAPSHOT,
    "--cloudtrail",
    CLOUDTRAIL,
    "--since",
    "2026-11-14",
];

const PROD: &str = "210987654321";
const STAGING: &str = "345678901234";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What one run printed.
struct Printed {
    stdout: String,
    stderr: String,
}

/// Runs `pipeleash args…` in the repository root and asserts its exit code.
fn pipeleash(args: &[&str], code: i32) -> Printed {
    let output = Command::new(BIN)
        .current_dir(repository())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipeleash");
    let printed = Printed {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert_eq!(
        output.status.code(),
        Some(code),
        "`pipeleash {}` exit code; stderr:\n{}",
        args.join(" "),
        printed.stderr
    );
    printed
}

/// `args` followed by `more`.
fn with(args: &[&str], more: &[&str]) -> Vec<String> {
    args.iter().chain(more).map(|arg| arg.to_string()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `text` with the characters a regex gives a meaning to escaped.
fn regex_literal(text: &str) -> String {
    let mut escaped = String::new();
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Pins `text`, printed by `pipeleash command…`, as the snapshot `name`. Absolute paths of
/// the repository and of temporary directories are replaced by `[REPO]` and `[TEMP]` (the
/// commands are given relative paths, so these filters only matter if a refactor starts
/// printing absolute ones: the snapshot then shows it). Nothing printed holds a duration or
/// the tool's version (the `tool_version` in `manifest.json` is the demo snapshot's own,
/// kept as collected), so no filter hides either.
fn pin(name: &str, command: &[&str], text: &str) {
    pin_filtered(name, command, text, &[]);
}

/// [`pin`], with more `(regex, replacement)` filters.
fn pin_filtered(name: &str, command: &[&str], text: &str, filters: &[(&str, &str)]) {
    if !text.is_empty() {
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "`{name}`: the output ends with exactly one newline"
        );
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_description(format!("pipeleash {}", command.join(" ")));
    settings.set_omit_expression(true);
    for (regex, replacement) in filters {
        settings.add_filter(regex, *replacement);
    }
    let temp = std::env::temp_dir();
    let temp = temp.to_string_lossy();
    settings.add_filter(
        &format!(
            r"{}/\.tmp[A-Za-z0-9]+",
            regex_literal(temp.trim_end_matches('/'))
        ),
        "[TEMP]",
    );
    settings.add_filter(&regex_literal(env!("CARGO_MANIFEST_DIR")), "[REPO]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Pins the stdout of `pipeleash args…`, which must exit with `code`.
fn pin_stdout(name: &str, args: &[&str], code: i32) -> Printed {
    let printed = pipeleash(args, code);
    pin(name, args, &printed.stdout);
    printed
}

/// Asserts that `text` is one JSON document (the JSON formats' promise).
fn assert_json(text: &str) {
    serde_json::from_str::<serde_json::Value>(text).expect("the output is JSON");
}

/// Pins the stdout of `pipeleash args…`, which must be JSON and exit with `code`.
fn pin_json(name: &str, args: &[&str], code: i32) -> Printed {
    let printed = pin_stdout(name, args, code);
    assert_json(&printed.stdout);
    printed
}

// ---------------------------------------------------------------- analyze and audit

/// Without `--quiet`, so that the warning about the corrupt log file on stderr is pinned too.
#[test]
fn analyze_demo_json() {
    let args = with(&["analyze", "--format", "json"], &EVIDENCE);
    let printed = pin_json("analyze_demo_json", &strs(&args), 1);
    // The progress counter: redrawn with `\r` every half second while logs are read, so its
    // presence depends on the machine's speed.
    pin_filtered(
        "analyze_demo_stderr",
        &strs(&args),
        &printed.stderr,
        &[(r"(\rreading CloudTrail: [^\r\n]*)+\n", "")],
    );
}

#[test]
fn analyze_demo_table() {
    pin_stdout(
        "analyze_demo_table",
        &strs(&with(&["analyze", "--quiet"], &EVIDENCE)),
        1,
    );
}

#[test]
fn audit_demo_json() {
    pin_json(
        "audit_demo_json",
        &strs(&with(&["audit", "--quiet", "--format", "json"], &EVIDENCE)),
        1,
    );
}

#[test]
fn audit_demo_table() {
    pin_stdout(
        "audit_demo_table",
        &strs(&with(&["audit", "--quiet"], &EVIDENCE)),
        1,
    );
}

// ---------------------------------------------------------------- usage

#[test]
fn usage_demo_json() {
    pin_json(
        "usage_demo_json",
        &strs(&with(
            &[
                "usage",
                "--quiet",
                "--cloudtrail",
                CLOUDTRAIL,
                "--format",
                "json",
            ],
            &WINDOW,
        )),
        0,
    );
}

#[test]
fn usage_demo_table() {
    pin_stdout(
        "usage_demo_table",
        &strs(&with(
            &["usage", "--quiet", "--cloudtrail", CLOUDTRAIL],
            &WINDOW,
        )),
        0,
    );
}

/// Usage stored in a snapshot needs the Parquet writer and reader.
#[cfg(feature = "parquet")]
mod stored_usage {
    use super::*;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    /// `usage --cloudtrail … --snapshot DIR` on a copy of the demo snapshot: what it prints (the
    /// same as without `--snapshot`), the files it writes, and what the snapshot gives back.
    #[test]
    fn usage_stored_in_a_demo_snapshot() {
        let temp = tempfile::tempdir().expect("tempdir");
        let snapshot = temp.path().join("20261122T040851Z");
        copy_tree(&repository().join(SNAPSHOT), &snapshot);
        let snapshot_arg = snapshot.to_string_lossy().into_owned();
        let direct = |format: &str| {
            pipeleash(
                &strs(&with(
                    &[
                        "usage",
                        "--quiet",
                        "--cloudtrail",
                        CLOUDTRAIL,
                        "--format",
                        format,
                    ],
                    &WINDOW,
                )),
                0,
            )
            .stdout
        };

        let store = with(
            &[
                "usage",
                "--quiet",
                "--cloudtrail",
                CLOUDTRAIL,
                "--snapshot",
                &snapshot_arg,
                "--format",
                "json",
            ],
            &WINDOW,
        );
        let stored = pipeleash(&strs(&store), 0);
        let direct_json = direct("json");
        assert_eq!(
            stored.stdout, direct_json,
            "storing prints what `usage_demo_json` pins"
        );
        // The command as the snapshot headers show it, without the temporary directory.
        let shown: Vec<String> = store
            .iter()
            .map(|arg| arg.replace(&snapshot_arg, "[SNAPSHOT]"))
            .collect();

        let manifest = read_text(&snapshot.join("manifest.json"));
        assert_json(&manifest);
        pin("usage_stored_manifest_json", &strs(&shown), &manifest);
        let usage_json = read_text(&snapshot.join("usage/aws-usage.json"));
        assert_json(&usage_json);
        pin("usage_stored_aws_usage_json", &strs(&shown), &usage_json);
        // Every file of the snapshot with its size and SHA-256 (`sha256sum` prints the same
        // digests): the Parquet files are documented as byte-identical for identical input.
        pin(
            "usage_stored_files_sha256",
            &strs(&shown),
            &file_digests(&snapshot),
        );

        // The Parquet rows, read back, print exactly what the direct ingestion printed: the
        // contents of the stored usage are pinned through `usage_demo_json`/`usage_demo_table`.
        let read_back = pipeleash(
            &[
                "usage",
                "--quiet",
                "--snapshot",
                &snapshot_arg,
                "--format",
                "json",
            ],
            0,
        );
        assert_eq!(
            read_back.stdout, direct_json,
            "the stored usage reads back as `usage_demo_json`"
        );
        let read_back_table = pipeleash(&["usage", "--quiet", "--snapshot", &snapshot_arg], 0);
        assert_eq!(
            read_back_table.stdout,
            direct("table"),
            "the stored usage reads back as `usage_demo_table`"
        );
    }

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create directory");
        for entry in std::fs::read_dir(from).expect("list directory") {
            let entry = entry.expect("directory entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy file");
            }
        }
    }

    fn read_text(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
    }

    /// One line per file under `root`, sorted by relative path: `<sha256>  <bytes>  <path>`.
    fn file_digests(root: &Path) -> String {
        fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("list directory") {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    walk(&path, files);
                } else {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(root, &mut files);
        let mut lines: Vec<(String, String)> = files
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).expect("read file");
                let relative = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let line = format!("{}  {:>7}  {relative}\n", sha256_hex(&bytes), bytes.len());
                (relative, line)
            })
            .collect();
        lines.sort();
        lines.into_iter().map(|(_, line)| line).collect()
    }

    /// SHA-256 (FIPS 180-4, <https://csrc.nist.gov/pubs/fips/180-4/upd1/final>) of `bytes`, as
    /// lowercase hex.
    fn sha256_hex(bytes: &[u8]) -> String {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut state: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut message = bytes.to_vec();
        let bit_length = (bytes.len() as u64).wrapping_mul(8);
        message.push(0x80);
        while message.len() % 64 != 56 {
            message.push(0);
        }
        message.extend_from_slice(&bit_length.to_be_bytes());
        for block in message.chunks_exact(64) {
            let mut w = [0u32; 64];
            for (i, word) in block.chunks_exact(4).enumerate() {
                w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
            for i in 0..64 {
                let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
                let choice = (e & f) ^ (!e & g);
                let t1 = h
                    .wrapping_add(s1)
                    .wrapping_add(choice)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
                let majority = (a & b) ^ (a & c) ^ (b & c);
                let t2 = s0.wrapping_add(majority);
                h = g;
                g = f;
                f = e;
                e = d.wrapping_add(t1);
                d = c;
                c = b;
                b = a;
                a = t1.wrapping_add(t2);
            }
            for (word, add) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
                *word = word.wrapping_add(add);
            }
        }
        let mut hex = String::with_capacity(64);
        for word in state {
            write!(hex, "{word:08x}").expect("write to a string");
        }
        hex
    }

    #[test]
    fn sha256_matches_the_published_test_vectors() {
        // FIPS 180-4 examples (https://csrc.nist.gov/projects/cryptographic-standards-and-guidelines/example-values).
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }
}

// ---------------------------------------------------------------- minimize

/// `minimize IDENTITY` from the demo snapshot: the JSON (default) and Terraform outputs, and
/// with `explain`, the evidence (in the JSON, and the table `--format terraform --explain`
/// prints on stderr, with the incomplete-window warning `--quiet` keeps).
fn pin_minimize(name: &str, identity: &str, explain: bool) {
    let base = with(&["minimize", identity, "--quiet"], &MINIMIZE_EVIDENCE);
    let json = pin_json(&format!("minimize_{name}_json"), &strs(&base), 0);
    let terraform_args = with(&strs(&base), &["--format", "terraform"]);
    let terraform = pin_stdout(
        &format!("minimize_{name}_terraform"),
        &strs(&terraform_args),
        0,
    );
    // `--quiet` keeps only the warning that the window is incomplete (a log file is corrupt).
    assert_eq!(json.stderr, terraform.stderr);
    pin(
        &format!("minimize_{name}_stderr"),
        &strs(&base),
        &json.stderr,
    );
    if explain {
        pin_json(
            &format!("minimize_{name}_explain_json"),
            &strs(&with(&strs(&base), &["--explain"])),
            0,
        );
        let args = with(&strs(&terraform_args), &["--explain"]);
        let explained = pipeleash(&strs(&args), 0);
        assert_eq!(
            explained.stdout, terraform.stdout,
            "`--explain` prints the evidence on stderr only"
        );
        pin(
            &format!("minimize_{name}_explain_terraform_stderr"),
            &strs(&args),
            &explained.stderr,
        );
    }
}

/// `iam:PassRole` (which CloudTrail does not record) under an `iam:PassedToService` condition.
#[test]
fn minimize_role_with_passrole_condition() {
    pin_minimize(
        "gha_lambda_deploy",
        &format!("arn:aws:iam::{PROD}:role/ci/gha-lambda-deploy"),
        true,
    );
}

/// The long-lived CI user.
#[test]
fn minimize_user() {
    pin_minimize(
        "ci_legacy_user",
        &format!("arn:aws:iam::{PROD}:user/ci/ci-legacy"),
        true,
    );
}

/// `iam:PassRole` on `*` with `ecr:*`, `ecs:*`, `logs:*`.
#[test]
fn minimize_role_with_passrole_on_any_resource() {
    pin_minimize(
        "gha_release_api",
        &format!("arn:aws:iam::{PROD}:role/ci/gha-release-api"),
        true,
    );
}

/// `AdministratorAccess` under a permissions boundary, with unobservable actions kept. Its
/// evidence (`--explain`) runs to megabytes, so only the policies are pinned.
#[test]
fn minimize_administrator_role_with_boundary() {
    pin_minimize(
        "staging_gha_terraform",
        &format!("arn:aws:iam::{STAGING}:role/ci/gha-terraform"),
        false,
    );
}

// ---------------------------------------------------------------- graph

fn graph_args(command: &[&str], format: &str) -> Vec<String> {
    let mut args = with(&["graph"], command);
    args.extend(with(&GRAPH_EVIDENCE, &["--quiet", "--format", format]));
    args
}

#[test]
fn graph_who_can_in_every_format() {
    for format in ["table", "json", "dot", "mermaid"] {
        let args = graph_args(&["who-can", "iam:PutRolePolicy"], format);
        let printed = pin_stdout(
            &format!("graph_who_can_iam_put_role_policy_{format}"),
            &strs(&args),
            0,
        );
        if format == "json" {
            assert_json(&printed.stdout);
        }
    }
}

#[test]
fn graph_who_can_on_a_resource() {
    pin_json(
        "graph_who_can_s3_put_object_on_docs_site_json",
        &strs(&graph_args(
            &[
                "who-can",
                "s3:PutObject",
                "--on",
                "arn:aws:s3:::docs-site/index.html",
            ],
            "json",
        )),
        0,
    );
}

#[test]
fn graph_reach() {
    let start = ["reach", "repo:acme/web:pull_request"];
    pin_stdout(
        "graph_reach_web_pull_request_table",
        &strs(&graph_args(&start, "table")),
        0,
    );
    pin_json(
        "graph_reach_web_pull_request_json",
        &strs(&graph_args(&start, "json")),
        0,
    );
    let terraform = format!("arn:aws:iam::{STAGING}:role/ci/gha-terraform");
    pin_json(
        "graph_reach_staging_gha_terraform_json",
        &strs(&graph_args(&["reach", &terraform], "json")),
        0,
    );
}

#[test]
fn graph_paths() {
    let from_pull_request = [
        "paths",
        "--from",
        "repo:acme/infra:pull_request",
        "--to",
        "iam:PutRolePolicy",
    ];
    pin_stdout(
        "graph_paths_infra_pull_request_to_iam_put_role_policy_table",
        &strs(&graph_args(&from_pull_request, "table")),
        0,
    );
    pin_json(
        "graph_paths_infra_pull_request_to_iam_put_role_policy_json",
        &strs(&graph_args(&from_pull_request, "json")),
        0,
    );
    let from = format!("arn:aws:iam::{STAGING}:role/ci/gha-terraform");
    let to = format!("arn:aws:iam::{PROD}:role/ci/cross-account-deployer");
    pin_json(
        "graph_paths_staging_terraform_to_cross_account_deployer_json",
        &strs(&graph_args(
            &["paths", "--from", &from, "--to", &to],
            "json",
        )),
        0,
    );
}

#[test]
fn graph_run_every_saved_query() {
    let mut queries: Vec<String> = std::fs::read_dir(repository().join("queries"))
        .expect("list queries/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".query"))
        .collect();
    queries.sort();
    assert_eq!(queries.len(), 4, "{queries:?}: pin every saved query");
    for query in &queries {
        let path = format!("queries/{query}");
        let stem = query.trim_end_matches(".query").replace('-', "_");
        for format in ["table", "json"] {
            let args = graph_args(&["run", &path], format);
            // Exit code 1: every saved query matches something in the demo.
            let printed = pin_stdout(&format!("graph_run_{stem}_{format}"), &strs(&args), 1);
            if format == "json" {
                assert_json(&printed.stdout);
            }
        }
    }
}

#[test]
fn graph_list() {
    pin_stdout("graph_list", &["graph", "list"], 0);
}

// ---------------------------------------------------------------- policy check and simulate

#[test]
fn policy_check_demo_policies() {
    pin_json(
        "policy_check_demo_policies_json",
        &["policy", "check", "--format", "json", DEMO_POLICIES],
        1,
    );
    pin_stdout(
        "policy_check_demo_policies_table",
        &["policy", "check", DEMO_POLICIES],
        1,
    );
}

/// The fixtures include a malformed policy: exit code 2, the error on stderr and in the
/// report, and the other files checked.
#[test]
fn policy_check_fixture_policies_with_a_malformed_one() {
    let json = pin_json(
        "policy_check_fixture_policies_json",
        &["policy", "check", "--format", "json", FIXTURE_POLICIES],
        2,
    );
    let table = pin_stdout(
        "policy_check_fixture_policies_table",
        &["policy", "check", FIXTURE_POLICIES],
        2,
    );
    assert_eq!(json.stderr, table.stderr);
    pin(
        "policy_check_fixture_policies_stderr",
        &["policy", "check", FIXTURE_POLICIES],
        &json.stderr,
    );
}

const WEB_DEPLOY: &str = "recorded-fixtures/demo/aws/policies/ci-web-deploy.json";
const TERRAFORM_APPLY: &str = "recorded-fixtures/demo/aws/policies/ci-terraform-apply.json";
const ECR_PUSH: &str = "recorded-fixtures/demo/aws/policies/ci-ecr-push.json";
const BOUNDARY: &str = "recorded-fixtures/demo/aws/boundaries/ci-boundary.json";
const REGION_LOCK: &str = "recorded-fixtures/demo/aws/scps/region-lock.json";

#[test]
fn policy_simulate_allowed() {
    let request = [
        "policy",
        "simulate",
        "--policy",
        WEB_DEPLOY,
        "--scp",
        REGION_LOCK,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::acme-web-assets/index.html",
        "--principal",
        "arn:aws:iam::111122223333:role/ci/gha-deploy-web",
        "--context",
        "aws:RequestedRegion=eu-west-1",
    ];
    pin_json(
        "policy_simulate_allowed_json",
        &strs(&with(&request, &["--format", "json"])),
        0,
    );
    pin_stdout("policy_simulate_allowed_table", &request, 0);
}

#[test]
fn policy_simulate_denied_by_scp() {
    let request = [
        "policy",
        "simulate",
        "--policy",
        TERRAFORM_APPLY,
        "--scp",
        REGION_LOCK,
        "--action",
        "ec2:RunInstances",
        "--context",
        "aws:RequestedRegion=us-east-1",
    ];
    pin_json(
        "policy_simulate_denied_by_scp_json",
        &strs(&with(&request, &["--format", "json"])),
        1,
    );
    pin_stdout("policy_simulate_denied_by_scp_table", &request, 1);
}

#[test]
fn policy_simulate_denied_by_boundary() {
    pin_json(
        "policy_simulate_denied_by_boundary_json",
        &[
            "policy",
            "simulate",
            "--format",
            "json",
            "--policy",
            TERRAFORM_APPLY,
            "--boundary",
            BOUNDARY,
            "--action",
            "iam:CreateRole",
            "--resource",
            "arn:aws:iam::111122223333:role/new",
        ],
        1,
    );
}

/// `NotAction: iam:*` allowed under `aws:RequestedRegion`: the decision follows the context
/// key, and without it the condition does not match.
#[test]
fn policy_simulate_conditional_statement() {
    let request = [
        "policy",
        "simulate",
        "--format",
        "json",
        "--policy",
        ECR_PUSH,
        "--action",
        "s3:ListBucket",
        "--resource",
        "arn:aws:s3:::acme-web-assets",
    ];
    pin_json(
        "policy_simulate_condition_matches_json",
        &strs(&with(
            &request,
            &["--context", "aws:RequestedRegion=eu-west-1"],
        )),
        0,
    );
    pin_json(
        "policy_simulate_condition_other_region_json",
        &strs(&with(
            &request,
            &["--context", "aws:RequestedRegion=us-east-1"],
        )),
        1,
    );
    pin_json("policy_simulate_condition_key_absent_json", &request, 1);
}

// ---------------------------------------------------------------- checks and catalog

#[test]
fn checks_listing() {
    pin_stdout("checks_table", &["checks"], 0);
    pin_stdout("checks_markdown", &["checks", "--format", "markdown"], 0);
}

#[test]
fn catalog_of_the_embedded_data() {
    pin_stdout("catalog_stats_text", &["catalog", "stats"], 0);
    pin_json(
        "catalog_stats_json",
        &["catalog", "stats", "--format", "json"],
        0,
    );
    pin_stdout(
        "catalog_show_s3_put_object_text",
        &["catalog", "show", "s3:PutObject"],
        0,
    );
    pin_json(
        "catalog_show_iam_pass_role_json",
        &["catalog", "show", "iam:PassRole", "--format", "json"],
        0,
    );
    pin_stdout(
        "catalog_expand_s3_get_text",
        &["catalog", "expand", "s3:Get*"],
        0,
    );
    pin_stdout(
        "catalog_expand_iam_put_table",
        &["catalog", "expand", "iam:Put*", "--format", "table"],
        0,
    );
    pin_json(
        "catalog_expand_lambda_update_json",
        &["catalog", "expand", "lambda:Update*", "--format", "json"],
        0,
    );
}

// ---------------------------------------------------------------- GCP and Azure

/// The GCP demo (`recorded-fixtures/gcp-demo`): its snapshot and the week of Cloud Audit Logs
/// it holds.
const GCP_EVIDENCE: [&str; 8] = [
    "--snapshot",
    "recorded-fixtures/gcp-demo/snapshot",
    "--gcp-audit-logs",
    "recorded-fixtures/gcp-demo/audit-logs",
    "--since",
    "2026-11-14",
    "--until",
    "2026-11-21T00:00:00Z",
];

/// The Azure demo (`recorded-fixtures/azure-demo`): its snapshot and the week of Activity Log
/// it holds.
const AZURE_EVIDENCE: [&str; 8] = [
    "--snapshot",
    "recorded-fixtures/azure-demo/snapshot",
    "--azure-activity-logs",
    "recorded-fixtures/azure-demo/activity-log",
    "--since",
    "2026-11-14",
    "--until",
    "2026-11-21T00:00:00Z",
];

/// `analyze` of each demo.
#[test]
fn analyze_gcp_and_azure_demos_json() {
    pin_json(
        "analyze_gcp_demo_json",
        &strs(&with(
            &["analyze", "--quiet", "--format", "json"],
            &GCP_EVIDENCE,
        )),
        1,
    );
    pin_json(
        "analyze_azure_demo_json",
        &strs(&with(
            &["analyze", "--quiet", "--format", "json"],
            &AZURE_EVIDENCE,
        )),
        1,
    );
}

/// `audit` of each demo: the proposal of every identity with unused permissions is embedded
/// (`minimized`), as `minimize --format json` prints it; in the GCP demo, `builder`'s holds
/// `denied_by_deny_policy` (and runs to megabytes: `roles/editor` kept per permission).
#[test]
fn audit_gcp_and_azure_demos_json() {
    pin_json(
        "audit_gcp_demo_json",
        &strs(&with(
            &["audit", "--quiet", "--format", "json"],
            &GCP_EVIDENCE,
        )),
        1,
    );
    pin_json(
        "audit_azure_demo_json",
        &strs(&with(
            &["audit", "--quiet", "--format", "json"],
            &AZURE_EVIDENCE,
        )),
        1,
    );
}

/// `minimize` of GCP service accounts on the demo.
#[test]
fn minimize_gcp_service_accounts_json() {
    for account in ["web-deployer@acme-web", "orchestrator@acme-data"] {
        let email = format!("{account}.iam.gserviceaccount.com");
        let name = account.replace(['@', '-'], "_");
        pin_json(
            &format!("minimize_gcp_{name}_json"),
            &strs(&with(&["minimize", &email, "--quiet"], &GCP_EVIDENCE)),
            0,
        );
    }
}

/// `minimize` of an Azure service principal on the demo.
#[test]
fn minimize_azure_identity_json() {
    pin_json(
        "minimize_azure_gha_web_deploy_json",
        &strs(&with(
            &["minimize", "gha-web-deploy", "--quiet"],
            &AZURE_EVIDENCE,
        )),
        0,
    );
}
