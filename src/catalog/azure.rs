//! The Azure role catalog: every built-in role definition with its `permissions` blocks,
//! embedded from `providers/azure/catalog/roles.tsv`.
//!
//! One line per permission block of a role, sorted by role GUID then block number:
//!
//! ```text
//! #format=pipeleash-catalog/1<TAB>provider=azure<TAB>table=roles<TAB>source=…
//! id<TAB>role_name<TAB>assignable_scopes<TAB>block<TAB>actions<TAB>not_actions<TAB>data_actions<TAB>not_data_actions<TAB>condition_version<TAB>condition
//! acdd72a7-3385-48ef-bd42-f606fba81ae7<TAB>Reader<TAB>/<TAB>0<TAB>*/read<TAB><TAB><TAB><TAB><TAB>
//! ```
//!
//! Lists are comma-separated, each sorted and without duplicates; control-plane (`actions`,
//! `not_actions`) and data-plane (`data_actions`, `not_data_actions`) entries stay in their own
//! columns. Entries are kept as written (case and all), so `grep -i` for an operation finds the
//! roles naming it. The entries are text, not numbers into a table as in the GCP catalog: 928
//! roles hold about 11,000 entries, small enough to keep every line readable on its own.
//!
//! Semantics: see [`crate::azure::roles`] and
//! <https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions>.

use super::compact::{Metadata, data_lines, field, metadata_header, read_files, write_files};
use super::{CatalogError, Source};
use crate::azure::{
    AzurePermissionBlock, AzureRoleDefinition, Plane, RoleType, operation_matches,
    role_definition_key,
};
use crate::model::Provider;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

/// The file name of an Azure catalog directory.
pub const ROLES_FILE: &str = "roles.tsv";

const EMBEDDED_DIRECTORY: &str = "providers/azure/catalog";
const EMBEDDED_ROLES: &str = include_str!("../../providers/azure/catalog/roles.tsv");

const COLUMNS: [&str; 10] = [
    "id",
    "role_name",
    "assignable_scopes",
    "block",
    "actions",
    "not_actions",
    "data_actions",
    "not_data_actions",
    "condition_version",
    "condition",
];

/// A built-in role that allows an operation, as [`AzureRoleCatalog::roles_allowing`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMatch<'a> {
    pub definition: &'a AzureRoleDefinition,
    /// The condition of the block that allows it, when every allowing block has one.
    pub condition: Option<&'a str>,
    /// How many `actions` and `dataActions` entries the role has, over all blocks.
    pub size: usize,
    /// How many known operations on the plane the role allows: of the operations some
    /// built-in role names without a wildcard (and the one asked about), those the role
    /// allows. A `*` entry counts as one entry but as every operation it matches.
    pub operations: usize,
    /// How far the role's widest entry reaches.
    pub breadth: Breadth,
}

/// How far a role's widest `actions` or `dataActions` entry reaches. For the wider two, the
/// number of entries says nothing about how much a role grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Breadth {
    /// Every entry names its resource provider (`Microsoft.Storage/*`).
    Scoped,
    /// An entry has a wildcard in the resource provider segment (`*/read`).
    EveryProvider,
    /// An entry is a bare `*`: every operation.
    Everything,
}

impl Breadth {
    /// `scoped`, `every-provider` or `everything`.
    pub fn as_str(self) -> &'static str {
        match self {
            Breadth::Scoped => "scoped",
            Breadth::EveryProvider => "every-provider",
            Breadth::Everything => "everything",
        }
    }
}

/// How many `actions` and `dataActions` entries a definition has.
pub fn role_size(definition: &AzureRoleDefinition) -> usize {
    definition
        .permissions
        .iter()
        .map(|block| block.actions.len() + block.data_actions.len())
        .sum()
}

/// How far the definition's widest `actions` or `dataActions` entry reaches.
pub fn breadth(definition: &AzureRoleDefinition) -> Breadth {
    definition
        .permissions
        .iter()
        .flat_map(|block| block.actions.iter().chain(&block.data_actions))
        .map(|entry| {
            if entry.trim() == "*" {
                Breadth::Everything
            } else if entry
                .split('/')
                .next()
                .is_some_and(|first| first.contains('*'))
            {
                Breadth::EveryProvider
            } else {
                Breadth::Scoped
            }
        })
        .max()
        .unwrap_or(Breadth::Scoped)
}

/// How many of the `known` operations (lower case) `definition` allows on `plane`. The
/// candidates come from its entries (an exact entry by lookup, a wildcard entry by matching
/// every known operation); each is then checked against the blocks, `notActions` and all.
fn operations_allowed(
    definition: &AzureRoleDefinition,
    plane: Plane,
    known: &BTreeSet<String>,
) -> usize {
    let mut candidates: BTreeSet<&str> = BTreeSet::new();
    for block in &definition.permissions {
        let entries = match plane {
            Plane::Control => &block.actions,
            Plane::Data => &block.data_actions,
        };
        for entry in entries {
            if let Some(star) = entry.find('*') {
                // Only operations starting with the entry's literal start can match it.
                let literal = entry[..star].trim_start().to_ascii_lowercase();
                candidates.extend(
                    known
                        .range(literal.clone()..)
                        .take_while(|operation| operation.starts_with(&literal))
                        .filter(|operation| operation_matches(entry, operation))
                        .map(String::as_str),
                );
            } else if let Some(operation) = known.get(&entry.trim().to_ascii_lowercase()) {
                candidates.insert(operation);
            }
        }
    }
    candidates
        .into_iter()
        .filter(|operation| definition.allowing_block(operation, plane).is_some())
        .count()
}

/// Every built-in Azure role definition, keyed by lower-case GUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureRoleCatalog {
    source: Source,
    definitions: BTreeMap<String, AzureRoleDefinition>,
}

impl AzureRoleCatalog {
    /// Builds a catalog from built-in definitions, in canonical form: every list sorted
    /// without duplicates, whitespace runs in conditions made single spaces, empty blocks
    /// dropped (a role keeps at least one, possibly empty, block). A custom definition or two
    /// different definitions with one GUID are an error.
    pub fn new(
        source: Source,
        definitions: impl IntoIterator<Item = AzureRoleDefinition>,
    ) -> Result<AzureRoleCatalog, CatalogError> {
        let mut by_id = BTreeMap::new();
        for mut definition in definitions {
            if definition.role_type != RoleType::BuiltIn {
                return Err(CatalogError::Invalid {
                    path: "catalog".into(),
                    message: format!(
                        "role definition `{}` (`{}`) is a custom role; the catalog holds built-in roles only, custom roles come from the inventory",
                        definition.role_name, definition.id
                    ),
                });
            }
            definition.id = role_definition_key(&definition.id);
            canonical(&mut definition);
            if by_id.contains_key(&definition.id) {
                return Err(CatalogError::Duplicate(definition.id));
            }
            by_id.insert(definition.id.clone(), definition);
        }
        Ok(AzureRoleCatalog {
            source,
            definitions: by_id,
        })
    }

    /// The catalog embedded in the binary, parsed on first use and shared afterwards.
    pub fn embedded() -> Result<&'static AzureRoleCatalog, CatalogError> {
        static AZURE: OnceLock<Result<AzureRoleCatalog, String>> = OnceLock::new();
        AZURE
            .get_or_init(|| {
                parse(EMBEDDED_DIRECTORY, EMBEDDED_ROLES).map_err(|error| error.to_string())
            })
            .as_ref()
            .map_err(|message| CatalogError::Embedded(message.clone()))
    }

    /// Where the catalog's facts came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Every definition, keyed by lower-case GUID.
    pub fn definitions(&self) -> &BTreeMap<String, AzureRoleDefinition> {
        &self.definitions
    }

    /// How many definitions the catalog holds.
    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    /// Whether the catalog holds no definition.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }

    /// The definition with that GUID (any case, bare or as a full ARM id) or, failing that,
    /// that role name (case-insensitive).
    pub fn definition(&self, id_or_name: &str) -> Option<&AzureRoleDefinition> {
        let text = id_or_name.trim();
        self.definitions
            .get(&role_definition_key(text))
            .or_else(|| {
                self.definitions
                    .values()
                    .find(|definition| definition.role_name.eq_ignore_ascii_case(text))
            })
    }

    /// Which plane `action` belongs to, judged from the built-in definitions (see
    /// [`Plane::classify`]).
    pub fn plane_of(&self, action: &str) -> Plane {
        Plane::classify(self.definitions.values(), action)
    }

    /// Every operation some built-in definition names on `plane` without a wildcard (in
    /// `actions`/`notActions` for the control plane, `dataActions`/`notDataActions` for the
    /// data plane), in lower case: the operations the catalog knows of, since it holds no
    /// list of Azure's operations.
    pub fn known_operations(&self, plane: Plane) -> BTreeSet<String> {
        self.definitions
            .values()
            .flat_map(|definition| &definition.permissions)
            .flat_map(|block| match plane {
                Plane::Control => block.actions.iter().chain(&block.not_actions),
                Plane::Data => block.data_actions.iter().chain(&block.not_data_actions),
            })
            .filter(|entry| !entry.contains('*'))
            .map(|entry| entry.trim().to_ascii_lowercase())
            .collect()
    }

    /// Does some built-in definition name the resource provider `namespace`
    /// (`Microsoft.Storage`, any case) as the first segment of an entry, on either plane?
    pub fn names_provider(&self, namespace: &str) -> bool {
        self.definitions
            .values()
            .flat_map(|definition| &definition.permissions)
            .flat_map(|block| {
                block
                    .actions
                    .iter()
                    .chain(&block.not_actions)
                    .chain(&block.data_actions)
                    .chain(&block.not_data_actions)
            })
            .any(|entry| {
                entry
                    .split('/')
                    .next()
                    .is_some_and(|first| first.trim().eq_ignore_ascii_case(namespace))
            })
    }

    /// The built-in roles that allow `action` on `plane` (a block lists it in `actions` or
    /// `dataActions` and the same block does not remove it with `notActions` or
    /// `notDataActions`), narrowest first: by [`Breadth`] (roles with an entry reaching every
    /// resource provider, `*/read`, after the others, and roles with a bare `*` last), then by
    /// how many known operations they allow ([`RoleMatch::operations`]), then by number of
    /// entries, then by name. A role naming the operation exactly thus comes before one
    /// allowing it through a wildcard that matches more.
    pub fn roles_allowing(&self, action: &str, plane: Plane) -> Vec<RoleMatch<'_>> {
        let mut known = self.known_operations(plane);
        known.insert(action.trim().to_ascii_lowercase());
        let mut matches: Vec<RoleMatch<'_>> = self
            .definitions
            .values()
            .filter_map(|definition| {
                let block = definition.allowing_block(action, plane)?;
                Some(RoleMatch {
                    definition,
                    condition: block.condition.as_deref(),
                    size: role_size(definition),
                    operations: operations_allowed(definition, plane, &known),
                    breadth: breadth(definition),
                })
            })
            .collect();
        matches.sort_by(|a, b| {
            (a.breadth, a.operations, a.size, &a.definition.role_name).cmp(&(
                b.breadth,
                b.operations,
                b.size,
                &b.definition.role_name,
            ))
        });
        matches
    }

    /// `(entries in actions, not_actions, data_actions, not_data_actions, blocks with a
    /// condition)` over all definitions.
    pub fn entry_counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        for block in self.definitions.values().flat_map(|d| &d.permissions) {
            counts[0] += block.actions.len();
            counts[1] += block.not_actions.len();
            counts[2] += block.data_actions.len();
            counts[3] += block.not_data_actions.len();
            counts[4] += usize::from(block.condition.is_some());
        }
        counts
    }

    /// The compact file as `(file name, text)`, sorted and byte-for-byte reproducible.
    pub fn to_compact(&self) -> Result<[(&'static str, String); 1], CatalogError> {
        for (what, value) in [
            ("source", &self.source.name),
            ("source version", &self.source.version),
            ("source date", &self.source.date),
        ] {
            field(value, what, &[])?;
        }
        let mut text = metadata_header(Provider::Azure, "roles", &self.source);
        text.push_str(&COLUMNS.join("\t"));
        text.push('\n');
        let list = |items: &[String], what: &str| -> Result<String, CatalogError> {
            for item in items {
                field(item, what, &[','])?;
            }
            Ok(items.join(","))
        };
        for definition in self.definitions.values() {
            let id = field(&definition.id, "role definition id", &[])?;
            let name = field(&definition.role_name, "role name", &[])?;
            let scopes = list(&definition.assignable_scopes, "assignable scope")?;
            for (number, block) in definition.permissions.iter().enumerate() {
                let optional = |value: &Option<String>, what: &str| match value {
                    Some(value) => field(value, what, &[]).map(str::to_string),
                    None => Ok(String::new()),
                };
                let _ = writeln!(
                    text,
                    "{id}\t{name}\t{scopes}\t{number}\t{}\t{}\t{}\t{}\t{}\t{}",
                    list(&block.actions, "action")?,
                    list(&block.not_actions, "not-action")?,
                    list(&block.data_actions, "data action")?,
                    list(&block.not_data_actions, "not-data-action")?,
                    optional(&block.condition_version, "condition version")?,
                    optional(&block.condition, "condition")?,
                );
            }
        }
        Ok([(ROLES_FILE, text)])
    }

    /// Writes the compact file into `directory` (created if missing), aside and renamed into
    /// place.
    pub fn write_compact(&self, directory: &Path) -> Result<(), CatalogError> {
        write_files(directory, &self.to_compact()?)
    }

    /// Reads a catalog directory written by [`AzureRoleCatalog::write_compact`].
    pub fn load_compact(directory: &Path) -> Result<AzureRoleCatalog, CatalogError> {
        let [roles] = read_files(directory, [ROLES_FILE])?;
        parse(&directory.display().to_string(), &roles)
    }
}

fn sorted(list: &mut Vec<String>) {
    list.sort();
    list.dedup();
}

fn canonical(definition: &mut AzureRoleDefinition) {
    sorted(&mut definition.assignable_scopes);
    for block in &mut definition.permissions {
        sorted(&mut block.actions);
        sorted(&mut block.not_actions);
        sorted(&mut block.data_actions);
        sorted(&mut block.not_data_actions);
        if let Some(condition) = &mut block.condition {
            *condition = condition.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    definition.permissions.retain(|block| {
        !(block.actions.is_empty()
            && block.not_actions.is_empty()
            && block.data_actions.is_empty()
            && block.not_data_actions.is_empty()
            && block.condition.is_none())
    });
    if definition.permissions.is_empty() {
        definition.permissions.push(AzurePermissionBlock::default());
    }
}

fn cell_list(cell: &str) -> Vec<String> {
    cell.split(',')
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse(directory: &str, text: &str) -> Result<AzureRoleCatalog, CatalogError> {
    let file = format!("{directory}/{ROLES_FILE}");
    let (Metadata { provider, source }, rows) = data_lines(&file, text, "roles", COLUMNS)?;
    if provider != Provider::Azure {
        return Err(CatalogError::Line {
            file,
            line: 1,
            message: format!("this is a catalog file of provider `{provider}`, not `azure`"),
        });
    }
    let mut definitions: BTreeMap<String, AzureRoleDefinition> = BTreeMap::new();
    let mut last_id: Option<&str> = None;
    for (line, cells) in rows {
        let [
            id,
            role_name,
            scopes,
            block,
            actions,
            not_actions,
            data_actions,
            not_data_actions,
            version,
            condition,
        ] = cells;
        let error = |message: String| CatalogError::Line {
            file: file.clone(),
            line,
            message,
        };
        if id != id.to_ascii_lowercase() {
            return Err(error(format!(
                "role definition id `{id}` must be in lower case"
            )));
        }
        let permission_block = AzurePermissionBlock {
            actions: cell_list(actions),
            not_actions: cell_list(not_actions),
            data_actions: cell_list(data_actions),
            not_data_actions: cell_list(not_data_actions),
            condition_version: (!version.is_empty()).then(|| version.to_string()),
            condition: (!condition.is_empty()).then(|| condition.to_string()),
        };
        let assignable_scopes = cell_list(scopes);
        if last_id != Some(id) {
            if last_id.is_some_and(|previous| previous >= id) {
                return Err(error(format!(
                    "role definition `{id}` is out of order; lines are sorted by id, one role's blocks together"
                )));
            }
            last_id = Some(id);
            definitions.insert(
                id.to_string(),
                AzureRoleDefinition {
                    id: id.to_string(),
                    role_name: role_name.to_string(),
                    role_type: RoleType::BuiltIn,
                    permissions: Vec::new(),
                    assignable_scopes: assignable_scopes.clone(),
                },
            );
        }
        let Some(definition) = definitions.get_mut(id) else {
            return Err(error(format!("role definition `{id}` was not started")));
        };
        if definition.role_name != role_name || definition.assignable_scopes != assignable_scopes {
            return Err(error(format!(
                "the blocks of role definition `{id}` disagree on its name or assignable scopes"
            )));
        }
        if block.parse::<usize>().ok() != Some(definition.permissions.len()) {
            return Err(error(format!(
                "expected block {} of `{id}`, found `{block}`; blocks count up from 0",
                definition.permissions.len()
            )));
        }
        definition.permissions.push(permission_block);
    }
    Ok(AzureRoleCatalog {
        source,
        definitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(id: &str, name: &str, blocks: Vec<AzurePermissionBlock>) -> AzureRoleDefinition {
        AzureRoleDefinition {
            id: id.to_string(),
            role_name: name.to_string(),
            role_type: RoleType::BuiltIn,
            permissions: blocks,
            assignable_scopes: vec!["/".to_string()],
        }
    }

    fn block(
        actions: &[&str],
        not_actions: &[&str],
        data_actions: &[&str],
    ) -> AzurePermissionBlock {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        AzurePermissionBlock {
            actions: list(actions),
            not_actions: list(not_actions),
            data_actions: list(data_actions),
            ..AzurePermissionBlock::default()
        }
    }

    fn sample() -> AzureRoleCatalog {
        let source = Source {
            name: "test".into(),
            version: "1".into(),
            date: "2026-01-01".into(),
        };
        AzureRoleCatalog::new(
            source,
            [
                definition("b", "Reader", vec![block(&["*/read"], &[], &[])]),
                definition(
                    "A",
                    "Storage Account Contributor",
                    vec![block(
                        &["Microsoft.Storage/storageAccounts/*", "Microsoft.Insights/alertRules/*"],
                        &[],
                        &[],
                    )],
                ),
                definition(
                    "c",
                    "Storage Blob Data Reader",
                    vec![
                        block(&["Microsoft.Storage/storageAccounts/blobServices/containers/read"], &[], &[
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                        ]),
                        AzurePermissionBlock {
                            condition: Some("@Resource[x]\n  StringEquals 'y'".to_string()),
                            condition_version: Some("2.0".to_string()),
                            ..block(&["Microsoft.Storage/storageAccounts/read"], &[], &[])
                        },
                    ],
                ),
                definition(
                    "d",
                    "Contributor",
                    vec![block(&["*"], &["Microsoft.Authorization/*/Write"], &[])],
                ),
            ],
        )
        .expect("valid sample")
    }

    #[test]
    fn compact_file_round_trips() {
        let catalog = sample();
        let [(_, text)] = catalog.to_compact().expect("renders");
        assert!(text.contains(
            "a\tStorage Account Contributor\t/\t0\tMicrosoft.Insights/alertRules/*,Microsoft.Storage/storageAccounts/*\t\t\t\t\t\n"
        ), "{text}");
        assert!(text.contains("\t1\tMicrosoft.Storage/storageAccounts/read\t\t\t\t2.0\t@Resource[x] StringEquals 'y'\n"), "{text}");
        let again = parse("test", &text).expect("parses");
        assert_eq!(again, catalog);
    }

    #[test]
    fn roles_allowing_keep_the_planes_apart_and_put_provider_wide_roles_last() {
        let catalog = sample();
        let names = |action: &str, plane: Plane| -> Vec<String> {
            catalog
                .roles_allowing(action, plane)
                .iter()
                .map(|found| found.definition.role_name.clone())
                .collect()
        };
        assert_eq!(
            names("microsoft.storage/storageaccounts/READ", Plane::Control),
            [
                "Storage Account Contributor",
                "Storage Blob Data Reader",
                "Reader",
                "Contributor"
            ]
        );
        let blob = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
        assert_eq!(names(blob, Plane::Data), ["Storage Blob Data Reader"]);
        assert_eq!(catalog.plane_of(blob), Plane::Data);
        assert_eq!(
            catalog.plane_of("Microsoft.Storage/storageAccounts/read"),
            Plane::Control
        );
        // notActions remove what actions grant.
        assert_eq!(
            names(
                "Microsoft.Authorization/roleAssignments/write",
                Plane::Control
            ),
            Vec::<String>::new()
        );
        let found =
            catalog.roles_allowing("Microsoft.Storage/storageAccounts/read", Plane::Control);
        let reader = found
            .iter()
            .find(|m| m.definition.role_name == "Storage Blob Data Reader")
            .expect("found");
        assert_eq!(reader.condition, Some("@Resource[x] StringEquals 'y'"));
    }

    #[test]
    fn an_exact_entry_ranks_before_a_wildcard_one_with_as_many_entries() {
        let source = Source {
            name: "test".into(),
            version: "1".into(),
            date: "2026-01-01".into(),
        };
        let blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
        let read = format!("{blobs}/read");
        let write = format!("{blobs}/write");
        let delete = format!("{blobs}/delete");
        let all = format!("{blobs}/*");
        let catalog = AzureRoleCatalog::new(
            source,
            [
                // Both hold one data action: entries alone cannot tell them apart.
                definition("a", "Blob Owner", vec![block(&[], &[], &[&all])]),
                definition("b", "Blob Reader", vec![block(&[], &[], &[&read])]),
                definition(
                    "c",
                    "Blob Writer",
                    vec![block(&[], &[], &[&write, &delete])],
                ),
                definition(
                    "d",
                    "Blob Owner Without Delete",
                    vec![AzurePermissionBlock {
                        not_data_actions: vec![delete.clone()],
                        ..block(&[], &[], &[&all])
                    }],
                ),
            ],
        )
        .expect("valid");
        let found = catalog.roles_allowing(&read, Plane::Data);
        let ranked: Vec<(&str, usize)> = found
            .iter()
            .map(|m| (m.definition.role_name.as_str(), m.operations))
            .collect();
        // Known data operations: read, write, delete; `notDataActions` take delete away.
        assert_eq!(
            ranked,
            [
                ("Blob Reader", 1),
                ("Blob Owner Without Delete", 2),
                ("Blob Owner", 3)
            ]
        );
        assert!(catalog.names_provider("microsoft.STORAGE"));
        assert!(!catalog.names_provider("Microsoft.Nope"));
    }

    #[test]
    fn definitions_are_found_by_guid_or_name() {
        let catalog = sample();
        assert_eq!(
            catalog.definition("B").map(|d| d.role_name.as_str()),
            Some("Reader")
        );
        assert_eq!(
            catalog
                .definition("/providers/Microsoft.Authorization/roleDefinitions/b")
                .map(|d| d.role_name.as_str()),
            Some("Reader")
        );
        assert_eq!(
            catalog.definition("reader").map(|d| d.id.as_str()),
            Some("b")
        );
        assert!(catalog.definition("Nobody").is_none());
    }

    #[test]
    fn broken_lines_are_named_by_number() {
        let [(_, text)] = sample().to_compact().expect("renders");
        let header: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        for (body, expected) in [
            (
                "b\tR\t/\t1\t*\t\t\t\t\t\n",
                "line 3: expected block 0 of `b`",
            ),
            (
                "b\tR\t/\t0\t*\t\t\t\t\t\na\tR\t/\t0\t*\t\t\t\t\t\n",
                "line 4: role definition `a` is out of order",
            ),
            ("B\tR\t/\t0\t*\t\t\t\t\t\n", "must be in lower case"),
            (
                "b\tR\t/\t0\t*\t\t\t\t\t\nb\tS\t/\t1\t*\t\t\t\t\t\n",
                "disagree on its name",
            ),
            (
                "b\tR\t/\t0\t*\t\t\t\t\n",
                "expected 10 tab-separated columns",
            ),
        ] {
            let message = parse("dir", &format!("{header}{body}"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    #[test]
    fn embedded_catalog_holds_every_built_in_role() {
        let started = std::time::Instant::now();
        let catalog = AzureRoleCatalog::embedded().expect("embedded catalog parses");
        eprintln!("embedded Azure catalog parsed in {:?}", started.elapsed());
        assert_eq!(catalog.len(), 928);
        assert_eq!(catalog.entry_counts(), [8969, 237, 1747, 66, 31]);
        assert_eq!(
            catalog.definition("Reader").map(|d| d.id.as_str()),
            Some("acdd72a7-3385-48ef-bd42-f606fba81ae7")
        );
        // (role, operation, control plane allowed, data plane allowed), from the built-in
        // role definitions; rules at
        // https://learn.microsoft.com/en-us/azure/role-based-access-control/role-definitions
        for (role, action, control, data) in [
            (
                "Reader",
                "Microsoft.Storage/storageAccounts/read",
                true,
                false,
            ),
            (
                "Reader",
                "microsoft.storage/storageaccounts/READ",
                true,
                false,
            ),
            (
                "Reader",
                "Microsoft.Storage/storageAccounts/write",
                false,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Storage/storageAccounts/write",
                true,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Authorization/roleAssignments/write",
                false,
                false,
            ),
            (
                "Contributor",
                "Microsoft.Authorization/roleAssignments/read",
                true,
                false,
            ),
            // `*` in `actions` matches any text, but data actions are looked up in
            // `dataActions` only, where Contributor has nothing.
            (
                "Contributor",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                true,
                false,
            ),
            (
                "Owner",
                "Microsoft.Authorization/roleAssignments/write",
                true,
                false,
            ),
            (
                "Storage Blob Data Contributor",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                false,
                true,
            ),
            (
                "Storage Blob Data Contributor",
                "Microsoft.Storage/storageAccounts/listKeys/action",
                false,
                false,
            ),
            (
                "AcrPush",
                "Microsoft.ContainerRegistry/registries/push/write",
                true,
                false,
            ),
            (
                "AcrPush",
                "Microsoft.ContainerRegistry/registries/delete",
                false,
                false,
            ),
            (
                "Website Contributor",
                "Microsoft.Web/sites/config/write",
                true,
                false,
            ),
            (
                "Website Contributor",
                "Microsoft.Web/serverFarms/write",
                false,
                false,
            ),
            // The two entries the source wrote with a trailing space still match.
            (
                "Azure Resilience Management Drills Target Resource Contributor",
                "Microsoft.Network/virtualNetworks/read",
                true,
                false,
            ),
        ] {
            let definition = catalog
                .definition(role)
                .unwrap_or_else(|| panic!("{role} missing"));
            assert_eq!(
                definition.allows_action(action),
                control,
                "{role} control {action}"
            );
            assert_eq!(
                definition.allows_data_action(action),
                data,
                "{role} data {action}"
            );
        }
    }

    /// Run with `cargo test --lib embedded_parse_time -- --ignored --nocapture`; prints the
    /// best of five parses of the embedded files (not asserted: it depends on the machine
    /// and the build profile).
    #[test]
    #[ignore]
    fn embedded_parse_time() {
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let catalog = parse(EMBEDDED_DIRECTORY, EMBEDDED_ROLES).expect("parses");
            best = best.min(started.elapsed());
            assert!(catalog.len() > 900);
        }
        eprintln!("embedded catalog: best parse of 5 took {best:?}");
    }

    #[test]
    fn custom_definitions_are_refused() {
        let mut custom = definition("x", "Deployer", vec![]);
        custom.role_type = RoleType::Custom;
        assert!(AzureRoleCatalog::new(Source::default(), [custom]).is_err());
    }
}
