//! Which IAM actions a CloudTrail event needs: the default rule (`eventSource` prefix +
//! `eventName`) plus the reviewed exceptions in `providers/aws/cloudtrail-event-map.tsv`,
//! which is embedded at build time so that a security reviewer can change it without Rust.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded table, as shipped in `providers/aws/cloudtrail-event-map.tsv`.
pub const EMBEDDED_TABLE: &str = include_str!("../../../providers/aws/cloudtrail-event-map.tsv");

const HEADER: [&str; 4] = ["event_source", "event_name", "actions", "note"];

/// A row of the table that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse `{file}` line {line}: {reason}")]
pub struct EventMapError {
    /// The file the table came from (for messages only).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what to write instead.
    pub reason: String,
}

/// How one event translates into IAM actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping<'m> {
    /// The event needs these actions; `from_table` says whether a reviewed row said so
    /// (as opposed to the default rule, which the catalog can still veto later).
    Actions {
        actions: &'m [String],
        from_table: bool,
    },
    /// The default rule applies: `prefix:name`, built by the caller to avoid allocating here.
    Derived { prefix: &'m str, name: &'m str },
    /// The event needs no IAM action (sign-in, `sts:GetCallerIdentity`, ...).
    NoAction,
    /// Neither the table nor a sane rule knows this event; it must be reported.
    Unknown,
}

#[derive(Debug, Default)]
struct SourceRules {
    /// The IAM prefix, when it differs from the endpoint's first label.
    prefix: Option<String>,
    strip_version_suffix: bool,
    /// The whole endpoint needs no IAM action.
    no_action: bool,
    /// Exceptions by event name; an empty vector means "no IAM action".
    events: HashMap<String, Vec<String>>,
}

/// The event→action table, ready for lookups.
#[derive(Debug, Default)]
pub struct EventMap {
    sources: HashMap<String, SourceRules>,
}

impl EventMap {
    /// The table embedded in the binary, parsed once.
    pub fn embedded() -> Result<&'static EventMap, EventMapError> {
        static EMBEDDED: OnceLock<Result<EventMap, EventMapError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                EventMap::parse(EMBEDDED_TABLE, "providers/aws/cloudtrail-event-map.tsv")
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses a table in the documented format; `file` only names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<EventMap, EventMapError> {
        let mut map = EventMap::default();
        let mut seen_header = false;
        for (index, raw_line) in text.lines().enumerate() {
            let line_number = index + 1;
            let error = |reason: String| EventMapError {
                file: file.to_owned(),
                line: line_number,
                reason,
            };
            let line = raw_line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let columns: Vec<&str> = line.split('\t').collect();
            if !seen_header {
                if columns != HEADER {
                    return Err(error(format!(
                        "expected the header `{}` (tab-separated) before any row",
                        HEADER.join("\\t")
                    )));
                }
                seen_header = true;
                continue;
            }
            if columns.len() != 4 {
                return Err(error(format!(
                    "expected 4 tab-separated columns, found {}",
                    columns.len()
                )));
            }
            let (source, name, actions) = (columns[0].trim(), columns[1].trim(), columns[2].trim());
            if !source.ends_with(".amazonaws.com") || source.contains(char::is_whitespace) {
                return Err(error(format!(
                    "event source `{source}` should look like `s3.amazonaws.com`"
                )));
            }
            if name.is_empty() {
                return Err(error(
                    "the event name is empty; use `*` for the whole endpoint".into(),
                ));
            }
            let rules = map.sources.entry(source.to_owned()).or_default();
            if name == "*" {
                if actions == "-" {
                    rules.no_action = true;
                    continue;
                }
                for directive in actions.split_whitespace() {
                    if let Some(prefix) = directive.strip_prefix("prefix=") {
                        if !is_prefix(prefix) {
                            return Err(error(format!(
                                "`{prefix}` is not a valid IAM service prefix"
                            )));
                        }
                        rules.prefix = Some(prefix.to_owned());
                    } else if directive == "strip-version-suffix" {
                        rules.strip_version_suffix = true;
                    } else {
                        return Err(error(format!(
                            "unknown directive `{directive}`; use `prefix=<service>`, `strip-version-suffix` or `-`"
                        )));
                    }
                }
                continue;
            }
            let parsed = if actions == "-" {
                Vec::new()
            } else {
                let mut list = Vec::new();
                for action in actions.split(',').map(str::trim) {
                    if !is_action(action) {
                        return Err(error(format!(
                            "`{action}` is not an IAM action like `s3:GetObject`"
                        )));
                    }
                    list.push(action.to_owned());
                }
                list
            };
            if rules.events.insert(name.to_owned(), parsed).is_some() {
                return Err(error(format!("`{source}` `{name}` is listed twice")));
            }
        }
        if !seen_header {
            return Err(EventMapError {
                file: file.to_owned(),
                line: 0,
                reason: "the table has no header row".into(),
            });
        }
        Ok(map)
    }

    /// Maps one event. Never allocates: derived actions are returned as their two halves.
    pub fn map<'m>(&'m self, source: &'m str, name: &'m str) -> Mapping<'m> {
        let rules = self.sources.get(source);
        if let Some(rules) = rules {
            if rules.no_action {
                return Mapping::NoAction;
            }
            if let Some(actions) = rules.events.get(name) {
                return table_mapping(actions);
            }
        }
        let Some(endpoint) = source.strip_suffix(".amazonaws.com") else {
            return Mapping::Unknown;
        };
        let prefix = match rules.and_then(|rules| rules.prefix.as_deref()) {
            Some(prefix) => prefix,
            None => endpoint,
        };
        if !is_prefix(prefix) {
            return Mapping::Unknown;
        }
        let mut name = name;
        if rules.is_some_and(|rules| rules.strip_version_suffix) {
            name = strip_version_suffix(name);
            if let Some(actions) = rules.and_then(|rules| rules.events.get(name)) {
                return table_mapping(actions);
            }
        }
        if !is_operation_name(name) {
            return Mapping::Unknown;
        }
        Mapping::Derived { prefix, name }
    }
}

fn table_mapping(actions: &[String]) -> Mapping<'_> {
    if actions.is_empty() {
        Mapping::NoAction
    } else {
        Mapping::Actions {
            actions,
            from_table: true,
        }
    }
}

/// Drops an API version glued to an event name: `CreateFunction20150331`,
/// `UpdateFunctionCode20150331v2`, `CreateInvalidation2020_05_31`.
pub fn strip_version_suffix(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    // An optional `v<digits>` revision after the date.
    let mut cursor = end;
    while cursor > 0 && bytes[cursor - 1].is_ascii_digit() {
        cursor -= 1;
    }
    if cursor < end && cursor > 0 && bytes[cursor - 1] == b'v' {
        end = cursor - 1;
    }
    let body = &name[..end];
    for suffix_len in [8usize, 10] {
        if body.len() <= suffix_len {
            continue;
        }
        let (head, suffix) = body.split_at(body.len() - suffix_len);
        let is_date = match suffix_len {
            8 => suffix.bytes().all(|b| b.is_ascii_digit()),
            _ => suffix.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'_'
                } else {
                    b.is_ascii_digit()
                }
            }),
        };
        if is_date && suffix.starts_with(['1', '2']) {
            return head;
        }
    }
    name
}

/// An IAM service prefix: lowercase letters, digits and dashes.
fn is_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An API operation name as CloudTrail writes it: `PutObject`, `ListObjectsV2`.
/// A name that still ends in a date looks versioned and is not trusted by the default rule.
fn is_operation_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let starts_upper = bytes.first().is_some_and(u8::is_ascii_uppercase);
    let alphanumeric = bytes.iter().all(u8::is_ascii_alphanumeric);
    let trailing_digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    starts_upper && alphanumeric && trailing_digits < 6
}

fn is_action(action: &str) -> bool {
    match action.split_once(':') {
        Some((prefix, name)) => is_prefix(prefix) && is_operation_name(name),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(source: &str, name: &str) -> Option<Vec<String>> {
        let map = EventMap::embedded().unwrap();
        match map.map(source, name) {
            Mapping::Actions { actions, .. } => Some(actions.to_vec()),
            Mapping::Derived { prefix, name } => Some(vec![format!("{prefix}:{name}")]),
            Mapping::NoAction => Some(Vec::new()),
            Mapping::Unknown => None,
        }
    }

    fn check(source: &str, name: &str, expected: &[&str]) {
        assert_eq!(
            actions(source, name),
            Some(expected.iter().map(|s| s.to_string()).collect()),
            "{source} {name}"
        );
    }

    #[test]
    fn every_action_in_the_table_is_in_the_catalog() {
        let catalog = crate::catalog::Catalog::aws().unwrap();
        let map = EventMap::embedded().unwrap();
        let mut checked = 0;
        for rules in map.sources.values() {
            for action in rules.events.values().flatten() {
                assert!(
                    catalog.action(action).is_some(),
                    "`{action}` in the event map is not a known action"
                );
                checked += 1;
            }
        }
        assert!(checked > 30, "only {checked} actions checked");
    }

    #[test]
    fn embedded_table_parses() {
        assert!(EventMap::embedded().is_ok());
    }

    #[test]
    fn table_driven_mappings() {
        let s3 = "s3.amazonaws.com";
        check(s3, "HeadObject", &["s3:GetObject"]);
        check(s3, "GetObject", &["s3:GetObject"]);
        check(s3, "ListObjectsV2", &["s3:ListBucket"]);
        check(s3, "ListObjects", &["s3:ListBucket"]);
        check(s3, "HeadBucket", &["s3:ListBucket"]);
        check(s3, "ListObjectVersions", &["s3:ListBucketVersions"]);
        check(s3, "UploadPart", &["s3:PutObject"]);
        check(s3, "CompleteMultipartUpload", &["s3:PutObject"]);
        check(s3, "DeleteObjects", &["s3:DeleteObject"]);
        check(s3, "GetBucketAcl", &["s3:GetBucketAcl"]);
        check(s3, "PutBucketPolicy", &["s3:PutBucketPolicy"]);
        check(s3, "PutBucketVersioning", &["s3:PutBucketVersioning"]);
        let lambda = "lambda.amazonaws.com";
        check(lambda, "CreateFunction20150331", &["lambda:CreateFunction"]);
        check(
            lambda,
            "UpdateFunctionCode20150331v2",
            &["lambda:UpdateFunctionCode"],
        );
        check(lambda, "Invoke", &["lambda:InvokeFunction"]);
        check(
            "cloudfront.amazonaws.com",
            "CreateInvalidation2020_05_31",
            &["cloudfront:CreateInvalidation"],
        );
        check(
            "monitoring.amazonaws.com",
            "PutMetricData",
            &["cloudwatch:PutMetricData"],
        );
        check("email.amazonaws.com", "SendEmail", &["ses:SendEmail"]);
        check(
            "elasticloadbalancing.amazonaws.com",
            "DescribeLoadBalancers",
            &["elasticloadbalancing:DescribeLoadBalancers"],
        );
        check("sts.amazonaws.com", "GetCallerIdentity", &[]);
        check("signin.amazonaws.com", "ConsoleLogin", &[]);
        check(
            "kms.amazonaws.com",
            "ReEncrypt",
            &["kms:ReEncryptFrom", "kms:ReEncryptTo"],
        );
    }

    #[test]
    fn unknown_events_are_not_guessed() {
        assert_eq!(actions("example.com", "DoThing"), None);
        assert_eq!(actions("s3.amazonaws.com", "lower_case"), None);
        assert_eq!(actions("mystery.amazonaws.com", "Create20200101"), None);
        assert_eq!(actions("Weird Source.amazonaws.com", "Get"), None);
    }

    #[test]
    fn version_suffixes_are_stripped() {
        assert_eq!(strip_version_suffix("GetFunction20150331v2"), "GetFunction");
        assert_eq!(
            strip_version_suffix("ListFunctions20150331"),
            "ListFunctions"
        );
        assert_eq!(
            strip_version_suffix("GetDistribution2020_05_31"),
            "GetDistribution"
        );
        assert_eq!(strip_version_suffix("ListObjectsV2"), "ListObjectsV2");
        assert_eq!(strip_version_suffix("Invoke"), "Invoke");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let text = "# comment\nevent_source\tevent_name\tactions\tnote\ns3.amazonaws.com\tX\tnot an action\t\n";
        let error = EventMap::parse(text, "t.tsv").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error
                .to_string()
                .starts_with("cannot parse `t.tsv` line 3:"),
            "{error}"
        );
        let error = EventMap::parse("a\tb\n", "t.tsv").unwrap_err();
        assert_eq!(error.line, 1);
        let text = "event_source\tevent_name\tactions\tnote\ns3.amazonaws.com\t*\tprefix=Bad\t\n";
        assert_eq!(EventMap::parse(text, "t.tsv").unwrap_err().line, 2);
        let text = "event_source\tevent_name\tactions\tnote\ns3.amazonaws.com\tA\ts3:A\t\ns3.amazonaws.com\tA\ts3:A\t\n";
        assert!(
            EventMap::parse(text, "t.tsv")
                .unwrap_err()
                .reason
                .contains("twice")
        );
    }
}
