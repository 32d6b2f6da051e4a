//! The project's own catalog files: three tab-separated text files, sorted, one fact per line,
//! so that a refresh shows up as a readable diff and a reviewer can grep them.
//!
//! Each file starts with a metadata line and a column line:
//!
//! ```text
//! #format=pipeleash-catalog/1<TAB>provider=aws<TAB>table=actions<TAB>source=…<TAB>source_version=…<TAB>source_date=…
//! service<TAB>action<TAB>access_level<TAB>resource_types<TAB>condition_keys
//! s3<TAB>GetObject<TAB>Read<TAB>accesspointobject,object<TAB>s3:ExistingObjectTag/<key>,…
//! ```
//!
//! - `services.tsv`: `prefix`, `name`.
//! - `actions.tsv`: `service`, `action` (without the prefix), `access_level` (as AWS writes
//!   it), `resource_types` (comma-separated; a trailing `*` marks a required one, as in the
//!   AWS documentation), `condition_keys` (comma-separated).
//! - `resource_types.tsv`: `service`, `resource_type`, `arn_format` (one line per format).
//!
//! Lines starting with `#` after the first are comments; empty lines are ignored.

use super::{
    AccessLevel, Action, ActionResource, Catalog, CatalogError, ResourceType, Service, Source,
};
use crate::model::Provider;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The version written in, and required from, every file's metadata line.
pub const FORMAT: &str = "pipeleash-catalog/1";

/// The file names inside a catalog directory.
pub const SERVICES_FILE: &str = "services.tsv";
pub const ACTIONS_FILE: &str = "actions.tsv";
pub const RESOURCE_TYPES_FILE: &str = "resource_types.tsv";

pub(super) const EMBEDDED_AWS_SERVICES: &str =
    include_str!("../../providers/aws/catalog/services.tsv");
pub(super) const EMBEDDED_AWS_ACTIONS: &str =
    include_str!("../../providers/aws/catalog/actions.tsv");
pub(super) const EMBEDDED_AWS_RESOURCE_TYPES: &str =
    include_str!("../../providers/aws/catalog/resource_types.tsv");

const EMBEDDED_DIRECTORY: &str = "providers/aws/catalog";

const SERVICES_COLUMNS: [&str; 2] = ["prefix", "name"];
const ACTIONS_COLUMNS: [&str; 5] = [
    "service",
    "action",
    "access_level",
    "resource_types",
    "condition_keys",
];
const RESOURCE_TYPES_COLUMNS: [&str; 3] = ["service", "resource_type", "arn_format"];

/// Parses the embedded AWS catalog files (the texts of `services.tsv`, `actions.tsv` and
/// `resource_types.tsv`).
pub(super) fn parse(
    services: &str,
    actions: &str,
    resource_types: &str,
) -> Result<Catalog, CatalogError> {
    parse_named(EMBEDDED_DIRECTORY, [services, actions, resource_types])
}

impl Catalog {
    /// Reads a catalog directory written by [`Catalog::write_compact`].
    pub fn load_compact(directory: &Path) -> Result<Catalog, CatalogError> {
        let read = |name: &str| {
            let path = directory.join(name);
            std::fs::read_to_string(&path).map_err(|source| CatalogError::Read { path, source })
        };
        let texts = [
            read(SERVICES_FILE)?,
            read(ACTIONS_FILE)?,
            read(RESOURCE_TYPES_FILE)?,
        ];
        parse_named(
            &directory.display().to_string(),
            [&texts[0], &texts[1], &texts[2]],
        )
    }

    /// The three compact files as `(file name, text)`, sorted and byte-for-byte reproducible.
    pub fn to_compact(&self) -> Result<[(&'static str, String); 3], CatalogError> {
        render(self)
    }

    /// Writes the compact files into `directory` (created if missing). Each file is written
    /// aside and renamed into place, so a failed run never leaves a half-written catalog.
    pub fn write_compact(&self, directory: &Path) -> Result<(), CatalogError> {
        write_files(directory, &render(self)?)
    }
}

/// Writes catalog files into `directory` (created if missing), each aside and renamed into
/// place, so a failed run never leaves a half-written file.
pub(super) fn write_files(
    directory: &Path,
    files: &[(&'static str, String)],
) -> Result<(), CatalogError> {
    std::fs::create_dir_all(directory).map_err(|source| CatalogError::Write {
        path: directory.to_path_buf(),
        source,
    })?;
    for (name, text) in files {
        let path = directory.join(name);
        let aside = directory.join(format!(".{name}.tmp"));
        std::fs::write(&aside, text)
            .and_then(|()| std::fs::rename(&aside, &path))
            .map_err(|source| CatalogError::Write { path, source })?;
    }
    Ok(())
}

/// Reads the named files of a catalog directory.
pub(super) fn read_files<const N: usize>(
    directory: &Path,
    names: [&str; N],
) -> Result<[String; N], CatalogError> {
    let mut texts: [String; N] = std::array::from_fn(|_| String::new());
    for (text, name) in texts.iter_mut().zip(names) {
        let path = directory.join(name);
        *text =
            std::fs::read_to_string(&path).map_err(|source| CatalogError::Read { path, source })?;
    }
    Ok(texts)
}

fn metadata_line(catalog: &Catalog, table: &str) -> String {
    metadata_header(catalog.provider(), table, catalog.source())
}

/// The first line of every catalog file: format, provider, table and source.
pub(super) fn metadata_header(provider: Provider, table: &str, source: &Source) -> String {
    format!(
        "#format={FORMAT}\tprovider={provider}\ttable={table}\tsource={}\tsource_version={}\tsource_date={}\n",
        source.name, source.version, source.date
    )
}

/// Refuses text that would break the line and column structure.
pub(super) fn field<'a>(
    value: &'a str,
    what: &str,
    forbidden: &[char],
) -> Result<&'a str, CatalogError> {
    if value.is_empty() || value.contains(['\t', '\n', '\r']) || value.contains(forbidden) {
        return Err(CatalogError::Invalid {
            path: "catalog".into(),
            message: format!(
                "{what} `{}` is empty or contains a tab, newline or one of {forbidden:?}; it cannot be written to the compact files",
                value.escape_debug()
            ),
        });
    }
    Ok(value)
}

fn render(catalog: &Catalog) -> Result<[(&'static str, String); 3], CatalogError> {
    let source = catalog.source();
    for (what, value) in [
        ("source name", &source.name),
        ("source version", &source.version),
        ("source date", &source.date),
    ] {
        field(value, what, &[])?;
    }
    let mut services = metadata_line(catalog, "services");
    services.push_str(&SERVICES_COLUMNS.join("\t"));
    services.push('\n');
    let mut actions = metadata_line(catalog, "actions");
    actions.push_str(&ACTIONS_COLUMNS.join("\t"));
    actions.push('\n');
    let mut resource_types = metadata_line(catalog, "resource_types");
    resource_types.push_str(&RESOURCE_TYPES_COLUMNS.join("\t"));
    resource_types.push('\n');

    for service in catalog.services() {
        let prefix = field(&service.prefix, "service prefix", &[':', ','])?;
        let _ = writeln!(
            services,
            "{prefix}\t{}",
            field(&service.name, "service name", &[])?
        );
        for action in &service.actions {
            let short = field(action.short_name(), "action name", &[',', ':'])?;
            let mut resources = Vec::with_capacity(action.resource_types.len());
            for resource in &action.resource_types {
                let name = field(&resource.name, "resource type", &[',', '*'])?;
                resources.push(if resource.required {
                    format!("{name}*")
                } else {
                    name.to_string()
                });
            }
            for key in &action.condition_keys {
                field(key, "condition key", &[','])?;
            }
            let _ = writeln!(
                actions,
                "{prefix}\t{short}\t{}\t{}\t{}",
                action.access_level,
                resources.join(","),
                action.condition_keys.join(",")
            );
        }
        for resource in &service.resource_types {
            let name = field(&resource.name, "resource type", &[',', '*'])?;
            if resource.arn_formats.is_empty() {
                let _ = writeln!(resource_types, "{prefix}\t{name}\t");
            }
            for arn in &resource.arn_formats {
                let _ = writeln!(
                    resource_types,
                    "{prefix}\t{name}\t{}",
                    field(arn, "ARN format", &[])?
                );
            }
        }
    }
    Ok([
        (SERVICES_FILE, services),
        (ACTIONS_FILE, actions),
        (RESOURCE_TYPES_FILE, resource_types),
    ])
}

/// The metadata every file carries; the three must agree.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Metadata {
    pub(super) provider: Provider,
    pub(super) source: Source,
}

/// A data line: its 1-based number and its cells.
pub(super) type Row<'a, const N: usize> = (usize, [&'a str; N]);

/// Reads one file's metadata and column lines and returns its data lines with line numbers.
pub(super) fn data_lines<'a, const N: usize>(
    file: &str,
    text: &'a str,
    table: &str,
    columns: [&str; N],
) -> Result<(Metadata, Vec<Row<'a, N>>), CatalogError> {
    let error = |line: usize, message: String| CatalogError::Line {
        file: file.to_string(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let first = lines.next().unwrap_or_default();
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for pair in first.strip_prefix('#').unwrap_or_default().split('\t') {
        if let Some((key, value)) = pair.split_once('=') {
            fields.insert(key, value);
        }
    }
    if fields.get("format") != Some(&FORMAT) {
        return Err(error(
            1,
            format!(
                "expected a metadata line starting with `#format={FORMAT}`; regenerate the file with `pipeleash catalog import`"
            ),
        ));
    }
    if fields.get("table") != Some(&table) {
        return Err(error(
            1,
            format!(
                "this is not the `{table}` table (the metadata line says `table={}`)",
                fields.get("table").unwrap_or(&"")
            ),
        ));
    }
    let provider = match fields.get("provider").copied() {
        Some("aws") => Provider::Aws,
        Some("gcp") => Provider::Gcp,
        Some("azure") => Provider::Azure,
        other => {
            return Err(error(
                1,
                format!(
                    "unknown provider `{}`; expected `aws`, `gcp` or `azure`",
                    other.unwrap_or("")
                ),
            ));
        }
    };
    let value = |key: &str| {
        fields
            .get(key)
            .map(|value| value.to_string())
            .unwrap_or_default()
    };
    let metadata = Metadata {
        provider,
        source: Source {
            name: value("source"),
            version: value("source_version"),
            date: value("source_date"),
        },
    };
    if !lines
        .next()
        .is_some_and(|line| line.split('\t').eq(columns))
    {
        return Err(error(
            2,
            format!("expected the column line `{}`", columns.join("<TAB>")),
        ));
    }
    let mut rows = Vec::new();
    for (offset, line) in lines.enumerate() {
        let number = offset + 3;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Fixed-size cells: the catalog has tens of thousands of rows, and a vector per row
        // is a measurable part of start-up.
        let mut cells = [""; N];
        let mut count = 0;
        for cell in line.split('\t') {
            if let Some(slot) = cells.get_mut(count) {
                *slot = cell;
            }
            count += 1;
        }
        if count != N {
            return Err(error(
                number,
                format!(
                    "expected {N} tab-separated columns (`{}`), found {}",
                    columns.join("`, `"),
                    count
                ),
            ));
        }
        if cells[0].is_empty() || cells[1].is_empty() {
            return Err(error(
                number,
                format!(
                    "the `{}` and `{}` columns must not be empty",
                    columns.first().unwrap_or(&""),
                    columns.get(1).unwrap_or(&"")
                ),
            ));
        }
        rows.push((number, cells));
    }
    Ok((metadata, rows))
}

/// The items of a comma-separated cell, converted; sized up front because start-up parses
/// tens of thousands of these and regrowing vectors shows in the profile.
fn list<T>(cell: &str, convert: impl Fn(&str) -> T) -> Vec<T> {
    if cell.is_empty() {
        return Vec::new();
    }
    let mut items = Vec::with_capacity(cell.bytes().filter(|&b| b == b',').count() + 1);
    items.extend(cell.split(',').filter(|item| !item.is_empty()).map(convert));
    items
}

fn parse_named(directory: &str, texts: [&str; 3]) -> Result<Catalog, CatalogError> {
    let [services_text, actions_text, resource_types_text] = texts;
    let services_file = format!("{directory}/{SERVICES_FILE}");
    let actions_file = format!("{directory}/{ACTIONS_FILE}");
    let resource_types_file = format!("{directory}/{RESOURCE_TYPES_FILE}");

    let (metadata, service_rows) =
        data_lines(&services_file, services_text, "services", SERVICES_COLUMNS)?;
    let mut services: Vec<Service> = Vec::with_capacity(service_rows.len());
    let mut positions: BTreeMap<&str, usize> = BTreeMap::new();
    for (line, cells) in service_rows {
        if positions.insert(cells[0], services.len()).is_some() {
            return Err(CatalogError::Line {
                file: services_file,
                line,
                message: format!("service `{}` is listed twice", cells[0]),
            });
        }
        services.push(Service {
            prefix: cells[0].to_string(),
            name: cells[1].to_string(),
            actions: Vec::new(),
            resource_types: Vec::new(),
        });
    }

    let check_metadata = |file: &str, other: Metadata| {
        if other == metadata {
            Ok(())
        } else {
            Err(CatalogError::Line {
                file: file.to_string(),
                line: 1,
                message: format!(
                    "the metadata line names another source than `{services_file}` (`{}` {}); the files come from different imports, regenerate them together",
                    metadata.source.name, metadata.source.version
                ),
            })
        }
    };

    let (action_metadata, action_rows) =
        data_lines(&actions_file, actions_text, "actions", ACTIONS_COLUMNS)?;
    check_metadata(&actions_file, action_metadata)?;
    // Rows come grouped by service, so remember the last lookup.
    let mut last_service: Option<(&str, usize)> = None;
    for (line, cells) in action_rows {
        let error = |message: String| CatalogError::Line {
            file: actions_file.clone(),
            line,
            message,
        };
        let position = match last_service {
            Some((prefix, position)) if prefix == cells[0] => position,
            _ => {
                let &position = positions.get(cells[0]).ok_or_else(|| {
                    error(format!(
                        "service `{}` is not listed in `{SERVICES_FILE}`; add it there",
                        cells[0]
                    ))
                })?;
                last_service = Some((cells[0], position));
                position
            }
        };
        let access_level: AccessLevel = cells[2]
            .parse()
            .map_err(|parse_error: CatalogError| error(parse_error.to_string()))?;
        let resource_types = list(cells[3], |item| match item.strip_suffix('*') {
            Some(name) => ActionResource {
                name: name.to_string(),
                required: true,
            },
            None => ActionResource {
                name: item.to_string(),
                required: false,
            },
        });
        let condition_keys = list(cells[4], str::to_string);
        let mut name = String::with_capacity(cells[0].len() + 1 + cells[1].len());
        name.push_str(cells[0]);
        name.push(':');
        name.push_str(cells[1]);
        services[position].actions.push(Action {
            name,
            access_level,
            resource_types,
            condition_keys,
        });
    }

    let (resource_metadata, resource_rows) = data_lines(
        &resource_types_file,
        resource_types_text,
        "resource_types",
        RESOURCE_TYPES_COLUMNS,
    )?;
    check_metadata(&resource_types_file, resource_metadata)?;
    for (line, cells) in resource_rows {
        let &position = positions.get(cells[0]).ok_or_else(|| CatalogError::Line {
            file: resource_types_file.clone(),
            line,
            message: format!(
                "service `{}` is not listed in `{SERVICES_FILE}`; add it there",
                cells[0]
            ),
        })?;
        let resources = &mut services[position].resource_types;
        // Rows of one resource type are adjacent in the files this module writes, but a
        // hand edit may not keep them so: look the type up instead of relying on order.
        let resource = match resources.iter().position(|r| r.name == cells[1]) {
            Some(index) => &mut resources[index],
            None => {
                resources.push(ResourceType {
                    name: cells[1].to_string(),
                    arn_formats: Vec::new(),
                });
                let last = resources.len() - 1;
                &mut resources[last]
            }
        };
        if !cells[2].is_empty() {
            resource.arn_formats.push(cells[2].to_string());
        }
    }

    Catalog::new(metadata.provider, metadata.source, services).map_err(|error| {
        CatalogError::Invalid {
            path: directory.into(),
            message: error.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Catalog {
        let services = vec![Service {
            prefix: "s3".into(),
            name: "Amazon S3".into(),
            actions: vec![
                Action {
                    name: "s3:PutObject".into(),
                    access_level: AccessLevel::Write,
                    resource_types: vec![ActionResource {
                        name: "object".into(),
                        required: true,
                    }],
                    condition_keys: vec!["s3:x-amz-acl".into(), "aws:TagKeys".into()],
                },
                Action {
                    name: "s3:ListAllMyBuckets".into(),
                    access_level: AccessLevel::List,
                    resource_types: vec![],
                    condition_keys: vec![],
                },
            ],
            resource_types: vec![ResourceType {
                name: "object".into(),
                arn_formats: vec!["arn:${Partition}:s3:::${BucketName}/${ObjectName}".into()],
            }],
        }];
        let source = Source {
            name: "test".into(),
            version: "1".into(),
            date: "2026-01-01".into(),
        };
        Catalog::new(Provider::Aws, source, services).expect("valid sample")
    }

    fn reparse(catalog: &Catalog) -> Result<Catalog, CatalogError> {
        let [(_, services), (_, actions), (_, resources)] = catalog.to_compact()?;
        parse(&services, &actions, &resources)
    }

    #[test]
    fn compact_files_round_trip() {
        let catalog = sample();
        let again = reparse(&catalog).expect("round trip");
        assert_eq!(again.services(), catalog.services());
        assert_eq!(again.source(), catalog.source());
        let [(_, _), (_, actions), (_, _)] = catalog.to_compact().expect("renders");
        assert!(actions.contains("s3\tPutObject\tWrite\tobject*\taws:TagKeys,s3:x-amz-acl\n"));
        assert!(actions.contains("s3\tListAllMyBuckets\tList\t\t\n"));
    }

    fn check_error(actions_body: &str, expected: &str) {
        let [(_, services), (_, actions), (_, resources)] = sample().to_compact().expect("renders");
        let header: String = actions.lines().take(2).map(|l| format!("{l}\n")).collect();
        let result = parse(&services, &format!("{header}{actions_body}"), &resources);
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }

    #[test]
    fn broken_lines_are_named_by_number() {
        check_error(
            "s3\tGetObject\tRead\t\n",
            "actions.tsv` line 3: expected 5 tab-separated columns",
        );
        check_error(
            "s3\tGetObject\tRead\t\t\ns3\tX\tAdmin\t\t\n",
            "line 4: unknown access level `Admin`",
        );
        check_error(
            "ec2\tRunInstances\tWrite\t\t\n",
            "service `ec2` is not listed",
        );
        check_error(
            "s3\tGetObject\tRead\t\t\ns3\tgetobject\tRead\t\t\n",
            "appears twice",
        );
    }

    #[test]
    fn a_file_without_metadata_is_refused() {
        let result = parse("prefix\tname\n", "", "");
        let message = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("services.tsv` line 1"), "{message}");
    }

    #[test]
    fn a_tab_in_a_name_cannot_be_written() {
        let mut catalog = sample();
        catalog.services[0].name = "Amazon\tS3".into();
        assert!(catalog.to_compact().is_err());
    }
}
