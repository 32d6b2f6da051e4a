//! The AWS privilege-escalation paths: reviewable data in
//! `providers/aws/privilege-escalation.tsv`, embedded at build time and parsed here.

use std::sync::OnceLock;

const EMBEDDED: &str = include_str!("../../providers/aws/privilege-escalation.tsv");

/// What following an escalation path gives the attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Any permission in the account.
    Admin,
    /// The permissions of a role the attacker can pass to a service or assume.
    Role,
    /// Another identity's credentials.
    Credentials,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Admin => "admin",
            Reach::Role => "role",
            Reach::Credentials => "credentials",
        }
    }
}

/// One way to gain more access than granted: all of `actions` together are enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPath {
    pub id: String,
    pub actions: Vec<String>,
    pub reaches: Reach,
    pub description: String,
}

/// A row of the escalation table that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("privilege-escalation table line {line}: {message}")]
pub struct EscalationTableError {
    pub line: usize,
    pub message: String,
}

/// Parses the escalation table format (see the file's header for the columns).
pub fn parse_escalation_paths(text: &str) -> Result<Vec<EscalationPath>, EscalationTableError> {
    let mut paths = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line_number = number + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let error = |message: String| EscalationTableError {
            line: line_number,
            message,
        };
        let columns: Vec<&str> = line.split('\t').collect();
        let [id, actions, reaches, description] = columns[..] else {
            return Err(error(format!(
                "expected 4 tab-separated columns (`id`, `actions`, `reaches`, `description`), found {}",
                columns.len()
            )));
        };
        let reaches = match reaches {
            "admin" => Reach::Admin,
            "role" => Reach::Role,
            "credentials" => Reach::Credentials,
            other => {
                return Err(error(format!(
                    "`reaches` must be `admin`, `role` or `credentials`, found `{other}`"
                )));
            }
        };
        let actions: Vec<String> = actions
            .split(',')
            .map(|action| action.trim().to_string())
            .collect();
        if actions.iter().any(|action| !action.contains(':')) {
            return Err(error(format!(
                "every action must be `service:Action`, found `{}`",
                columns[1]
            )));
        }
        paths.push(EscalationPath {
            id: id.to_string(),
            actions,
            reaches,
            description: description.to_string(),
        });
    }
    Ok(paths)
}

/// The embedded escalation paths, parsed once.
pub fn escalation_paths() -> Result<&'static [EscalationPath], EscalationTableError> {
    static PATHS: OnceLock<Result<Vec<EscalationPath>, EscalationTableError>> = OnceLock::new();
    PATHS
        .get_or_init(|| parse_escalation_paths(EMBEDDED))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses() {
        let paths = escalation_paths().unwrap();
        assert!(paths.len() > 20);
        assert!(paths.iter().any(|path| path.id == "iam-passrole-ec2"
            && path.actions == ["iam:PassRole", "ec2:RunInstances"]));
    }

    #[test]
    fn bad_rows_name_their_line() {
        let error = parse_escalation_paths("# header\nx\tiam:PassRole\tgod\tdesc\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("`reaches`"));
        let error = parse_escalation_paths("x\tPassRole\trole\tdesc").unwrap_err();
        assert!(error.message.contains("service:Action"));
        let error = parse_escalation_paths("x\tiam:PassRole").unwrap_err();
        assert!(error.message.contains("4 tab-separated"));
    }

    /// Every load of the table either propagates its error (`?`) or, in tests, panics: no
    /// path falls back to an empty table, which would silently hide every escalation finding
    /// (the trust checks once fell back to an empty table where the CLI failed).
    #[test]
    fn escalation_table_load_failures_are_never_silently_empty() {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    files.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["src", "tests", "benches"] {
            walk(&root.join(dir), &mut files);
        }
        let call = concat!("escalation_paths", "()");
        let mut silent = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (at, _) in text.match_indices(call) {
                let rest = &text[at + call.len()..];
                let statement = &rest[..rest.find(';').unwrap_or(rest.len())];
                let handled = statement.contains('?')
                    || statement.trim_start().starts_with(".unwrap()")
                    || statement.trim_start().starts_with(".expect(")
                    || statement.trim_start().starts_with("-> Result")
                    || statement.trim_start().starts_with(",")
                    || statement.trim_start().starts_with("`");
                if !handled {
                    silent.push(format!("{}: {call}{statement}", file.display()));
                }
            }
        }
        assert!(silent.is_empty(), "{silent:#?}");
    }
}
