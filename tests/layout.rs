//! The layout rule of `docs/ARCHITECTURE.md`: outside the AWS folder and the edge (the CLI and
//! the snapshot store), no module names an AWS type, except at the few places where the
//! neutral core dispatches on the provider (a `match` over `Provider`, or the registry of
//! every cloud's checks). A new mention elsewhere means AWS-shaped code leaked into the core.

use std::path::Path;

/// Files of the neutral core allowed to name `crate::aws::`, and why.
const DISPATCH_POINTS: &[(&str, &str)] = &[
    ("src/model/grant.rs", "`GrantBody`: one variant per cloud"),
    (
        "src/analysis/mod.rs",
        "`analyze`: each cloud's evidence to its own analysis",
    ),
    (
        "src/graph/mod.rs",
        "`decide`: each identity's own cloud decides",
    ),
    (
        "src/graph/query.rs",
        "`in_container`: what a container holds, per cloud",
    ),
    (
        "src/checks/mod.rs",
        "the checks page lists every cloud's registry",
    ),
];

/// Folders that are the AWS cloud itself or the I/O edge. `src/output/` is the edge too: the
/// printed views of AWS-only outputs (`drift`, `usage --cloudtrail`, `policy simulate`,
/// `minimize`) are built from the AWS types they print, as the commands that print them are.
const ALLOWED_FOLDERS: &[&str] = &["src/aws/", "src/cli/", "src/output/", "src/snapshot/"];

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn only_the_aws_folder_the_edge_and_dispatch_points_name_aws_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut leaks = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED_FOLDERS
            .iter()
            .any(|folder| relative.starts_with(folder))
            || DISPATCH_POINTS.iter().any(|(path, _)| *path == relative)
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if code.contains("crate::aws::") || code.contains("use crate::aws") {
                leaks.push(format!("{relative}:{}: {}", number + 1, code));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "AWS types named outside src/aws/ and the edge (move the code into src/aws/, or \
         dispatch on the provider at one of the listed points):\n{}",
        leaks.join("\n")
    );
}
