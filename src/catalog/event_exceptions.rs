//! The CloudTrail events whose IAM action is not simply `<eventSource prefix>:<eventName>`:
//! S3 operations authorized under another action, version-suffixed Lambda event names,
//! endpoints whose prefix differs from the IAM prefix, and calls that need no permission.
//!
//! The table is reviewable data in `providers/aws/cloudtrail-event-exceptions.tsv`, embedded
//! in the binary; this module only parses and looks it up.

use std::collections::BTreeMap;

const EMBEDDED: &str = include_str!("../../providers/aws/cloudtrail-event-exceptions.tsv");
const EMBEDDED_FILE: &str = "providers/aws/cloudtrail-event-exceptions.tsv";
const COLUMNS: &str = "eventSource\teventName\tactions\tnote";
const EVENT_NAME_PLACEHOLDER: &str = "{eventName}";

/// Which events a row covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventName {
    /// Exactly this `eventName`.
    Exact(String),
    /// Every event of the source (`*` in the file).
    Any,
}

/// One action a row maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTemplate {
    /// A fixed action, e.g. `s3:GetObject`.
    Fixed(String),
    /// `<prefix>:<the event's own name>`, for sources whose endpoint differs from the prefix.
    EventNameUnder(String),
}

impl ActionTemplate {
    fn resolve(&self, event_name: &str) -> String {
        match self {
            ActionTemplate::Fixed(action) => action.clone(),
            ActionTemplate::EventNameUnder(prefix) => format!("{prefix}:{event_name}"),
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventException {
    /// The line the row came from, for messages.
    pub line: usize,
    pub event_source: String,
    pub event_name: EventName,
    /// Empty when the call needs no permission (`-` in the file).
    pub actions: Vec<ActionTemplate>,
    pub note: String,
}

/// A malformed line of the exceptions table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}` line {line}: {message}")]
pub struct EventExceptionsError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The parsed table, looked up by `(eventSource, eventName)`.
#[derive(Debug, Clone, Default)]
pub struct EventExceptions {
    rows: Vec<EventException>,
    index: BTreeMap<(String, EventName), usize>,
}

impl EventExceptions {
    /// The table embedded in the binary.
    pub fn aws() -> Result<EventExceptions, EventExceptionsError> {
        EventExceptions::parse(EMBEDDED_FILE, EMBEDDED)
    }

    /// Parses the table's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<EventExceptions, EventExceptionsError> {
        let error = |line: usize, message: String| EventExceptionsError {
            file: file.to_string(),
            line,
            message,
        };
        let mut table = EventExceptions::default();
        let mut seen_columns = false;
        for (offset, line) in text.lines().enumerate() {
            let number = offset + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if !seen_columns {
                if line != COLUMNS {
                    return Err(error(
                        number,
                        format!(
                            "expected the column line `{}` before any row",
                            COLUMNS.replace('\t', "<TAB>")
                        ),
                    ));
                }
                seen_columns = true;
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let [source, name, actions, note] = cells[..] else {
                return Err(error(
                    number,
                    format!(
                        "expected 4 tab-separated columns (`eventSource`, `eventName`, `actions`, `note`), found {}",
                        cells.len()
                    ),
                ));
            };
            if !source.ends_with(".amazonaws.com") || source.contains(char::is_whitespace) {
                return Err(error(
                    number,
                    format!(
                        "`{source}` is not an event source; expected a host such as `s3.amazonaws.com`"
                    ),
                ));
            }
            let event_name = match name {
                "*" => EventName::Any,
                _ if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    EventName::Exact(name.to_string())
                }
                _ => {
                    return Err(error(
                        number,
                        format!(
                            "`{name}` is not an event name; expected letters and digits, or `*`"
                        ),
                    ));
                }
            };
            let actions = if actions == "-" {
                Vec::new()
            } else {
                actions
                    .split(',')
                    .map(|action| parse_action(action.trim()))
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|message| error(number, message))?
            };
            let key = (source.to_string(), event_name.clone());
            if let Some(&earlier) = table.index.get(&key) {
                return Err(error(
                    number,
                    format!(
                        "`{source}` `{name}` is already mapped on line {}; keep one row",
                        table.rows[earlier].line
                    ),
                ));
            }
            table.index.insert(key, table.rows.len());
            table.rows.push(EventException {
                line: number,
                event_source: source.to_string(),
                event_name,
                actions,
                note: note.to_string(),
            });
        }
        if !seen_columns {
            return Err(error(
                1,
                format!(
                    "the table has no column line `{}`",
                    COLUMNS.replace('\t', "<TAB>")
                ),
            ));
        }
        Ok(table)
    }

    /// Every row, in file order.
    pub fn rows(&self) -> &[EventException] {
        &self.rows
    }

    /// The row covering an event: an exact `eventName` row first, then the source's `*` row.
    pub fn find(&self, event_source: &str, event_name: &str) -> Option<&EventException> {
        let exact = (
            event_source.to_string(),
            EventName::Exact(event_name.to_string()),
        );
        let any = (event_source.to_string(), EventName::Any);
        let position = self.index.get(&exact).or_else(|| self.index.get(&any))?;
        Some(&self.rows[*position])
    }

    /// The actions an event needs when the table has a row for it (empty: none at all);
    /// `None` when the default rule applies.
    pub fn actions_for(&self, event_source: &str, event_name: &str) -> Option<Vec<String>> {
        let row = self.find(event_source, event_name)?;
        Some(
            row.actions
                .iter()
                .map(|action| action.resolve(event_name))
                .collect(),
        )
    }
}

fn parse_action(text: &str) -> Result<ActionTemplate, String> {
    let Some((prefix, name)) = text.split_once(':') else {
        return Err(format!(
            "`{text}` is not an action; write `service:Action`, `service:{EVENT_NAME_PLACEHOLDER}` or `-`"
        ));
    };
    let prefix_ok = !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !prefix_ok {
        return Err(format!("`{prefix}` in `{text}` is not a service prefix"));
    }
    if name == EVENT_NAME_PLACEHOLDER {
        return Ok(ActionTemplate::EventNameUnder(prefix.to_string()));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "`{name}` in `{text}` is not an action name (wildcards are not allowed here)"
        ));
    }
    Ok(ActionTemplate::Fixed(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> EventExceptions {
        EventExceptions::aws().expect("embedded table parses")
    }

    fn check(source: &str, name: &str, expected: Option<&[&str]>) {
        let actions = embedded().actions_for(source, name);
        let expected = expected.map(|list| list.iter().map(|a| a.to_string()).collect());
        assert_eq!(actions, expected, "{source} {name}");
    }

    #[test]
    fn s3_head_object_maps_to_get_object() {
        check("s3.amazonaws.com", "HeadObject", Some(&["s3:GetObject"]));
    }

    #[test]
    fn s3_listing_and_multipart_map_to_their_actions() {
        for name in ["ListObjects", "ListObjectsV2", "HeadBucket"] {
            check("s3.amazonaws.com", name, Some(&["s3:ListBucket"]));
        }
        for name in [
            "UploadPart",
            "CompleteMultipartUpload",
            "CreateMultipartUpload",
        ] {
            check("s3.amazonaws.com", name, Some(&["s3:PutObject"]));
        }
        check("s3.amazonaws.com", "GetObject", None);
    }

    #[test]
    fn monitoring_events_use_the_cloudwatch_prefix() {
        check(
            "monitoring.amazonaws.com",
            "PutMetricData",
            Some(&["cloudwatch:PutMetricData"]),
        );
    }

    #[test]
    fn versioned_lambda_names_and_free_calls() {
        check(
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            Some(&["lambda:CreateFunction"]),
        );
        check("sts.amazonaws.com", "GetCallerIdentity", Some(&[]));
    }

    #[test]
    fn every_embedded_fixed_action_is_in_the_catalog() {
        let catalog = crate::catalog::Catalog::aws().expect("embedded catalog parses");
        for row in embedded().rows() {
            for action in &row.actions {
                if let ActionTemplate::Fixed(name) = action {
                    assert!(catalog.action(name).is_some(), "line {}: {name}", row.line);
                }
            }
        }
    }

    fn check_error(body: &str, expected: &str) {
        let text = format!("# header\n{COLUMNS}\n{body}");
        let message = EventExceptions::parse("t.tsv", &text)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }

    #[test]
    fn malformed_rows_are_named_by_line() {
        check_error(
            "s3.amazonaws.com\tHeadObject\n",
            "`t.tsv` line 3: expected 4",
        );
        check_error(
            "s3\tHeadObject\ts3:GetObject\tx\n",
            "line 3: `s3` is not an event source",
        );
        check_error(
            "s3.amazonaws.com\tHeadObject\tGetObject\tx\n",
            "is not an action",
        );
        check_error(
            "s3.amazonaws.com\tHeadObject\ts3:Get*\tx\n",
            "wildcards are not allowed",
        );
        check_error(
            "s3.amazonaws.com\tA\t-\tx\ns3.amazonaws.com\tA\t-\ty\n",
            "line 4: `s3.amazonaws.com` `A` is already mapped on line 3",
        );
        let message = EventExceptions::parse("t.tsv", "a\tb\n")
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("line 1: expected the column line"),
            "{message}"
        );
    }
}
