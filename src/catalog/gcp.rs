//! The GCP role catalog: every predefined role (`roles/…`) with its launch stage and the exact
//! permissions it contains, embedded from `providers/gcp/catalog/`.
//!
//! Predefined roles share most of their permissions (13,790 distinct permissions, 165,000
//! role memberships), so the compact form stores each permission once and roles as lists of
//! permission numbers:
//!
//! ```text
//! permissions.tsv   #format=pipeleash-catalog/1<TAB>provider=gcp<TAB>table=permissions<TAB>source=…
//!                   id<TAB>permission
//!                   0<TAB>accessapproval.requests.approve
//! roles.tsv         #format=pipeleash-catalog/1<TAB>provider=gcp<TAB>table=roles<TAB>source=…
//!                   role<TAB>stage<TAB>permission_count<TAB>title<TAB>permissions
//!                   roles/accessapproval.approver<TAB>GA<TAB>6<TAB>Access Approval Approver<TAB>0,2-4,9001,9003
//! ```
//!
//! Permissions are sorted by name (byte order) and numbered from 0 in that order; roles are
//! sorted by name; a role's `permissions` cell lists its sorted permission numbers, a run of
//! three or more consecutive numbers written `first-last`. `grep -w 'storage.objects.get'
//! permissions.tsv` gives a permission's number, `catalog show --provider gcp ROLE` a role's
//! permissions by name.
//!
//! Semantics (<https://cloud.google.com/iam/docs/roles-overview>): a role holds exactly the
//! permissions it lists; roles hold no wildcards (custom roles cannot either), so
//! [`GcpRoleCatalog::expand`] is a lookup aid over permission names, not an IAM rule.

use super::compact::{Metadata, Row, data_lines, field, metadata_header, read_files, write_files};
use super::{CatalogError, Source};
use crate::gcp::{GcpRole, RoleStage, is_permission_name, is_predefined};
use crate::matching::{Case, glob_match, has_wildcard};
use crate::model::Provider;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

/// The file names of a GCP catalog directory.
pub const PERMISSIONS_FILE: &str = "permissions.tsv";
pub const ROLES_FILE: &str = "roles.tsv";

/// Where the embedded files live in the repository, for error messages.
const EMBEDDED_DIRECTORY: &str = "providers/gcp/catalog";
const EMBEDDED_PERMISSIONS: &str = include_str!("../../providers/gcp/catalog/permissions.tsv");
const EMBEDDED_ROLES: &str = include_str!("../../providers/gcp/catalog/roles.tsv");

const PERMISSIONS_COLUMNS: [&str; 2] = ["id", "permission"];
const ROLES_COLUMNS: [&str; 5] = ["role", "stage", "permission_count", "title", "permissions"];

/// A predefined role of the catalog. Its permissions are numbers into the catalog's permission
/// table; ask the catalog ([`GcpRoleCatalog::grants`], [`GcpRoleCatalog::permissions_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredefinedRole {
    /// `roles/run.developer`.
    pub name: String,
    /// `Cloud Run Developer`; may be empty.
    pub title: String,
    pub stage: RoleStage,
    /// Sorted, distinct numbers into [`GcpRoleCatalog::permissions`].
    permissions: Vec<u32>,
}

impl PredefinedRole {
    /// How many permissions the role contains.
    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    /// Whether the role contains no permission at all (some predefined roles do not).
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }

    /// Whether this is a service agent role (`roles/run.serviceAgent`,
    /// `roles/container.hostServiceAgentUser`): one Google Cloud grants to its own service
    /// agents (<https://cloud.google.com/iam/docs/service-agents>), not one to give a
    /// pipeline's service account. Recognised by `serviceAgent` in the role's name, which is
    /// how every such role is named.
    pub fn is_service_agent_role(&self) -> bool {
        self.name.to_ascii_lowercase().contains("serviceagent")
    }
}

/// Every predefined GCP role, indexed for lookup by role and by permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpRoleCatalog {
    source: Source,
    /// Every permission some role holds, sorted by name, distinct.
    permissions: Vec<String>,
    /// Sorted by name, distinct.
    roles: Vec<PredefinedRole>,
}

impl GcpRoleCatalog {
    /// Builds a catalog from predefined roles. A custom role (`projects/…`, `organizations/…`)
    /// or two roles of one name are an error.
    pub fn new(
        source: Source,
        roles: impl IntoIterator<Item = GcpRole>,
    ) -> Result<GcpRoleCatalog, CatalogError> {
        let mut roles: Vec<GcpRole> = roles.into_iter().collect();
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        for pair in roles.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(CatalogError::Duplicate(pair[0].name.clone()));
            }
        }
        if let Some(custom) = roles.iter().find(|role| !role.is_predefined()) {
            return Err(CatalogError::Invalid {
                path: "catalog".into(),
                message: format!(
                    "role `{}` is a custom role; the catalog holds predefined roles (`roles/…`) only, custom roles come from the inventory",
                    custom.name
                ),
            });
        }
        let permissions: Vec<String> = roles
            .iter()
            .flat_map(|role| role.permissions.iter().cloned())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        let number = |permission: &String| {
            permissions
                .binary_search(permission)
                .map(|position| position as u32)
                .unwrap_or(u32::MAX)
        };
        let roles = roles
            .into_iter()
            .map(|role| PredefinedRole {
                // The role's set is sorted, and so is the table: numbers come out sorted.
                permissions: role.permissions.iter().map(number).collect(),
                name: role.name,
                title: role.title,
                stage: role.stage,
            })
            .collect();
        Ok(GcpRoleCatalog {
            source,
            permissions,
            roles,
        })
    }

    /// The catalog embedded in the binary, parsed on first use and shared afterwards.
    pub fn embedded() -> Result<&'static GcpRoleCatalog, CatalogError> {
        static GCP: OnceLock<Result<GcpRoleCatalog, String>> = OnceLock::new();
        GCP.get_or_init(|| {
            parse(EMBEDDED_DIRECTORY, EMBEDDED_PERMISSIONS, EMBEDDED_ROLES)
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|message| CatalogError::Embedded(message.clone()))
    }

    /// Where the catalog's facts came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Every predefined role, sorted by name.
    pub fn roles(&self) -> &[PredefinedRole] {
        &self.roles
    }

    /// The predefined role with that exact name (`roles/run.developer`).
    pub fn role(&self, name: &str) -> Option<&PredefinedRole> {
        let position = self
            .roles
            .binary_search_by(|role| role.name.as_str().cmp(name))
            .ok()?;
        Some(&self.roles[position])
    }

    /// Every permission some predefined role contains, sorted by name.
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    fn permission_number(&self, permission: &str) -> Option<u32> {
        self.permissions
            .binary_search_by(|known| known.as_str().cmp(permission))
            .ok()
            .map(|position| position as u32)
    }

    /// Whether some predefined role contains `permission` (exact name).
    pub fn knows_permission(&self, permission: &str) -> bool {
        self.permission_number(permission).is_some()
    }

    /// Whether `role` contains `permission` (exact name, whatever the role's stage).
    pub fn contains(&self, role: &PredefinedRole, permission: &str) -> bool {
        self.permission_number(permission)
            .is_some_and(|number| role.permissions.binary_search(&number).is_ok())
    }

    /// Whether a binding to `role` grants `permission`: the role contains it and is not
    /// `DISABLED` (a disabled role "will not contribute permissions to any principals it is
    /// granted to", <https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles#rolelaunchstage>).
    pub fn grants(&self, role: &PredefinedRole, permission: &str) -> bool {
        role.stage.grants() && self.contains(role, permission)
    }

    /// The permissions of `role`, sorted by name.
    pub fn permissions_of<'a>(
        &'a self,
        role: &'a PredefinedRole,
    ) -> impl Iterator<Item = &'a str> + 'a {
        role.permissions
            .iter()
            .filter_map(|&number| self.permissions.get(number as usize))
            .map(String::as_str)
    }

    /// Every permission whose name matches `pattern`: `*` (any run of characters) and `?` (one
    /// character), case-sensitive as GCP permission names are; without a wildcard, the
    /// permission itself if a role contains it. Sorted by name.
    ///
    /// A lookup aid only: IAM roles list exact permissions and take no wildcards.
    pub fn expand(&self, pattern: &str) -> Vec<&str> {
        if !has_wildcard(pattern) {
            return self
                .permission_number(pattern)
                .map(|number| self.permissions[number as usize].as_str())
                .into_iter()
                .collect();
        }
        // A literal start narrows the search to a range of the sorted table.
        let literal = &pattern[..pattern.find(['*', '?']).unwrap_or(pattern.len())];
        let start = self
            .permissions
            .partition_point(|permission| permission.as_str() < literal);
        self.permissions[start..]
            .iter()
            .take_while(|permission| permission.starts_with(literal))
            .filter(|permission| glob_match(pattern, permission, Case::Sensitive))
            .map(String::as_str)
            .collect()
    }

    /// The predefined roles whose binding grants `permission` (exact name; `DISABLED` roles
    /// grant nothing and are left out), smallest first: by number of permissions, then by
    /// name. The first is the least-privileged predefined role for that permission.
    pub fn roles_granting(&self, permission: &str) -> Vec<&PredefinedRole> {
        let Some(number) = self.permission_number(permission) else {
            return Vec::new();
        };
        let mut roles: Vec<&PredefinedRole> = self
            .roles
            .iter()
            .filter(|role| role.stage.grants() && role.permissions.binary_search(&number).is_ok())
            .collect();
        roles.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.name.cmp(&b.name)));
        roles
    }

    /// How many roles are in each stage, in the order of [`RoleStage::ALL`].
    pub fn stage_counts(&self) -> Vec<(RoleStage, usize)> {
        RoleStage::ALL
            .iter()
            .map(|&stage| {
                let count = self.roles.iter().filter(|role| role.stage == stage).count();
                (stage, count)
            })
            .collect()
    }

    /// How many role → permission memberships the catalog holds.
    pub fn membership_count(&self) -> usize {
        self.roles.iter().map(PredefinedRole::len).sum()
    }

    /// The two compact files as `(file name, text)`, sorted and byte-for-byte reproducible.
    pub fn to_compact(&self) -> Result<[(&'static str, String); 2], CatalogError> {
        for (what, value) in [
            ("source", &self.source.name),
            ("source version", &self.source.version),
            ("source date", &self.source.date),
        ] {
            field(value, what, &[])?;
        }
        let mut permissions = metadata_header(Provider::Gcp, "permissions", &self.source);
        permissions.push_str(&PERMISSIONS_COLUMNS.join("\t"));
        permissions.push('\n');
        for (number, permission) in self.permissions.iter().enumerate() {
            let _ = writeln!(permissions, "{number}\t{permission}");
        }
        let mut roles = metadata_header(Provider::Gcp, "roles", &self.source);
        roles.push_str(&ROLES_COLUMNS.join("\t"));
        roles.push('\n');
        for role in &self.roles {
            let name = field(&role.name, "role name", &[])?;
            let title = if role.title.is_empty() {
                ""
            } else {
                field(&role.title, "role title", &[])?
            };
            let _ = writeln!(
                roles,
                "{name}\t{}\t{}\t{title}\t{}",
                role.stage,
                role.len(),
                number_ranges(&role.permissions)
            );
        }
        Ok([(PERMISSIONS_FILE, permissions), (ROLES_FILE, roles)])
    }

    /// Writes the compact files into `directory` (created if missing), each aside and renamed
    /// into place.
    pub fn write_compact(&self, directory: &Path) -> Result<(), CatalogError> {
        write_files(directory, &self.to_compact()?)
    }

    /// Reads a catalog directory written by [`GcpRoleCatalog::write_compact`].
    pub fn load_compact(directory: &Path) -> Result<GcpRoleCatalog, CatalogError> {
        let [permissions, roles] = read_files(directory, [PERMISSIONS_FILE, ROLES_FILE])?;
        parse(&directory.display().to_string(), &permissions, &roles)
    }
}

/// `0,2-4,9`: sorted numbers, runs of three or more as `first-last`.
fn number_ranges(numbers: &[u32]) -> String {
    let mut text = String::with_capacity(numbers.len() * 4);
    let mut start = 0;
    while start < numbers.len() {
        let mut end = start;
        while end + 1 < numbers.len() && numbers[end + 1] == numbers[end] + 1 {
            end += 1;
        }
        if !text.is_empty() {
            text.push(',');
        }
        if end - start >= 2 {
            let _ = write!(text, "{}-{}", numbers[start], numbers[end]);
        } else {
            for (offset, number) in numbers[start..=end].iter().enumerate() {
                if offset > 0 {
                    text.push(',');
                }
                let _ = write!(text, "{number}");
            }
        }
        start = end + 1;
    }
    text
}

/// Reads a `permissions` cell back: strictly increasing numbers below `limit`.
fn parse_number_ranges(cell: &str, limit: usize) -> Result<Vec<u32>, String> {
    let mut numbers: Vec<u32> = Vec::new();
    if cell.is_empty() {
        return Ok(numbers);
    }
    let number = |text: &str| {
        text.parse::<u32>()
            .map_err(|_| format!("`{text}` is not a permission number"))
    };
    for item in cell.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((first, last)) => (number(first)?, number(last)?),
            None => {
                let single = number(item)?;
                (single, single)
            }
        };
        if first > last || numbers.last().is_some_and(|&previous| previous >= first) {
            return Err(format!(
                "permission numbers must be strictly increasing; `{item}` breaks the order"
            ));
        }
        if last as usize >= limit {
            return Err(format!(
                "permission number {last} is not in `{PERMISSIONS_FILE}` ({limit} permissions)"
            ));
        }
        numbers.extend(first..=last);
    }
    Ok(numbers)
}

fn check_provider(file: &str, metadata: &Metadata) -> Result<(), CatalogError> {
    if metadata.provider == Provider::Gcp {
        return Ok(());
    }
    Err(CatalogError::Line {
        file: file.to_string(),
        line: 1,
        message: format!(
            "this is a catalog file of provider `{}`, not `gcp`",
            metadata.provider
        ),
    })
}

fn parse(
    directory: &str,
    permissions_text: &str,
    roles_text: &str,
) -> Result<GcpRoleCatalog, CatalogError> {
    let permissions_file = format!("{directory}/{PERMISSIONS_FILE}");
    let roles_file = format!("{directory}/{ROLES_FILE}");
    let (metadata, rows) = data_lines(
        &permissions_file,
        permissions_text,
        "permissions",
        PERMISSIONS_COLUMNS,
    )?;
    check_provider(&permissions_file, &metadata)?;
    let mut permissions: Vec<String> = Vec::with_capacity(rows.len());
    for (line, [number, permission]) in rows {
        let error = |message: String| CatalogError::Line {
            file: permissions_file.clone(),
            line,
            message,
        };
        if number.parse::<usize>().ok() != Some(permissions.len()) {
            return Err(error(format!(
                "expected permission number {}, found `{number}`; numbers count up from 0 line by line",
                permissions.len()
            )));
        }
        if !is_permission_name(permission) {
            return Err(error(format!(
                "`{permission}` is not a permission name (`service.resource.verb`)"
            )));
        }
        if permissions
            .last()
            .is_some_and(|previous| previous.as_str() >= permission)
        {
            return Err(error(format!(
                "`{permission}` is out of order; permissions are sorted by name, each once"
            )));
        }
        permissions.push(permission.to_string());
    }

    let (role_metadata, rows): (Metadata, Vec<Row<'_, 5>>) =
        data_lines(&roles_file, roles_text, "roles", ROLES_COLUMNS)?;
    check_provider(&roles_file, &role_metadata)?;
    if role_metadata.source != metadata.source {
        return Err(CatalogError::Line {
            file: roles_file,
            line: 1,
            message: format!(
                "the metadata line names another source than `{permissions_file}`; the files come from different imports, regenerate them together"
            ),
        });
    }
    let mut roles: Vec<PredefinedRole> = Vec::with_capacity(rows.len());
    for (line, [name, stage, count, title, cell]) in rows {
        let error = |message: String| CatalogError::Line {
            file: roles_file.clone(),
            line,
            message,
        };
        if !is_predefined(name) {
            return Err(error(format!(
                "`{name}` is not a predefined role name (`roles/…`)"
            )));
        }
        if roles
            .last()
            .is_some_and(|previous| previous.name.as_str() >= name)
        {
            return Err(error(format!(
                "role `{name}` is out of order; roles are sorted by name, each once"
            )));
        }
        let stage: RoleStage = stage.parse().map_err(error)?;
        let numbers = parse_number_ranges(cell, permissions.len()).map_err(error)?;
        if count.parse::<usize>().ok() != Some(numbers.len()) {
            return Err(error(format!(
                "`permission_count` says `{count}` but the role lists {} permissions",
                numbers.len()
            )));
        }
        roles.push(PredefinedRole {
            name: name.to_string(),
            title: title.to_string(),
            stage,
            permissions: numbers,
        });
    }
    Ok(GcpRoleCatalog {
        source: metadata.source,
        permissions,
        roles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, stage: RoleStage, permissions: &[&str]) -> GcpRole {
        GcpRole {
            name: name.to_string(),
            title: format!("Title of {name}"),
            stage,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn sample() -> GcpRoleCatalog {
        let source = Source {
            name: "test".into(),
            version: "1".into(),
            date: "2026-01-01".into(),
        };
        GcpRoleCatalog::new(
            source,
            [
                role(
                    "roles/run.admin",
                    RoleStage::Ga,
                    &[
                        "run.services.get",
                        "run.services.list",
                        "run.services.setIamPolicy",
                        "run.services.update",
                    ],
                ),
                role(
                    "roles/run.developer",
                    RoleStage::Ga,
                    &[
                        "run.services.get",
                        "run.services.list",
                        "run.services.update",
                    ],
                ),
                role(
                    "roles/run.off",
                    RoleStage::Disabled,
                    &["run.services.update"],
                ),
                role("roles/run.viewer", RoleStage::Beta, &["run.services.get"]),
                role("roles/empty", RoleStage::Alpha, &[]),
            ],
        )
        .expect("valid sample")
    }

    #[test]
    fn numbers_round_trip_through_ranges() {
        for numbers in [
            vec![],
            vec![0],
            vec![0, 1],
            vec![0, 1, 2],
            vec![0, 2, 3, 4, 9],
            vec![5, 6, 8, 9, 10, 11, 20],
        ] {
            let text = number_ranges(&numbers);
            assert_eq!(
                parse_number_ranges(&text, 100),
                Ok(numbers.clone()),
                "{text}"
            );
        }
        assert_eq!(number_ranges(&[0, 2, 3, 4, 9]), "0,2-4,9");
        assert_eq!(number_ranges(&[0, 1]), "0,1");
        assert!(parse_number_ranges("3,2", 10).is_err());
        assert!(parse_number_ranges("2-4,4", 10).is_err());
        assert!(parse_number_ranges("9-12", 10).is_err());
        assert!(parse_number_ranges("x", 10).is_err());
    }

    #[test]
    fn compact_files_round_trip() {
        let catalog = sample();
        let [(_, permissions), (_, roles)] = catalog.to_compact().expect("renders");
        assert!(
            permissions.contains("\n2\trun.services.setIamPolicy\n"),
            "{permissions}"
        );
        assert!(
            roles.contains("roles/run.developer\tGA\t3\tTitle of roles/run.developer\t0,1,3\n"),
            "{roles}"
        );
        assert!(roles.contains("roles/run.admin\tGA\t4\tTitle of roles/run.admin\t0-3\n"));
        let again = parse("test", &permissions, &roles).expect("parses");
        assert_eq!(again, catalog);
    }

    #[test]
    fn roles_granting_are_smallest_first_without_disabled_roles() {
        let catalog = sample();
        let names: Vec<&str> = catalog
            .roles_granting("run.services.update")
            .iter()
            .map(|role| role.name.as_str())
            .collect();
        assert_eq!(names, ["roles/run.developer", "roles/run.admin"]);
        let off = catalog.role("roles/run.off").expect("role");
        assert!(catalog.contains(off, "run.services.update"));
        assert!(!catalog.grants(off, "run.services.update"));
        assert!(catalog.roles_granting("run.services.delete").is_empty());
    }

    #[test]
    fn expand_matches_permission_names_case_sensitively() {
        let catalog = sample();
        assert_eq!(
            catalog.expand("run.services.*"),
            [
                "run.services.get",
                "run.services.list",
                "run.services.setIamPolicy",
                "run.services.update"
            ]
        );
        assert_eq!(catalog.expand("*.set*"), ["run.services.setIamPolicy"]);
        assert_eq!(catalog.expand("run.services.get"), ["run.services.get"]);
        assert!(catalog.expand("RUN.services.*").is_empty());
        assert!(catalog.expand("run.services.delete").is_empty());
    }

    fn check_error(permissions_body: &str, roles_body: &str, expected: &str) {
        let [(_, permissions), (_, roles)] = sample().to_compact().expect("renders");
        let header =
            |text: &str| -> String { text.lines().take(2).map(|l| format!("{l}\n")).collect() };
        let permissions = if permissions_body.is_empty() {
            permissions
        } else {
            format!("{}{permissions_body}", header(&permissions))
        };
        let roles = format!("{}{roles_body}", header(&roles));
        let message = parse("dir", &permissions, &roles)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }

    #[test]
    fn broken_lines_are_named_by_number() {
        check_error(
            "0\ta.b.c\n2\ta.b.d\n",
            "",
            "permissions.tsv` line 4: expected permission number 1",
        );
        check_error(
            "0\ta.b.d\n1\ta.b.c\n",
            "",
            "line 4: `a.b.c` is out of order",
        );
        check_error(
            "0\tstorage\n",
            "",
            "line 3: `storage` is not a permission name",
        );
        check_error(
            "",
            "roles/x\tGA\t1\tX\t0-2\n",
            "roles.tsv` line 3: `permission_count` says `1`",
        );
        check_error(
            "",
            "roles/x\tLIVE\t0\tX\t\n",
            "line 3: unknown stage `LIVE`",
        );
        check_error(
            "",
            "roles/x\tGA\t1\tX\t99\n",
            "permission number 99 is not in",
        );
        check_error(
            "",
            "roles/y\tGA\t0\t\t\nroles/x\tGA\t0\t\t\n",
            "line 4: role `roles/x` is out of order",
        );
        check_error(
            "",
            "projects/p/roles/x\tGA\t0\t\t\n",
            "is not a predefined role name",
        );
    }

    #[test]
    fn embedded_catalog_holds_every_predefined_role() {
        let started = std::time::Instant::now();
        let catalog = GcpRoleCatalog::embedded().expect("embedded catalog parses");
        eprintln!("embedded GCP catalog parsed in {:?}", started.elapsed());
        assert_eq!(catalog.roles().len(), 2461);
        assert_eq!(catalog.permissions().len(), 13790);
        assert_eq!(catalog.membership_count(), 165_179);
        assert_eq!(catalog.source().name, "iann0036/iam-dataset");
        for (role, permission, expected) in [
            ("roles/storage.objectViewer", "storage.objects.get", true),
            (
                "roles/storage.objectViewer",
                "storage.objects.delete",
                false,
            ),
            ("roles/run.developer", "run.services.update", true),
            ("roles/run.developer", "run.services.setIamPolicy", false),
            ("roles/run.admin", "run.services.setIamPolicy", true),
            (
                "roles/iam.serviceAccountUser",
                "iam.serviceAccounts.actAs",
                true,
            ),
            ("roles/viewer", "storage.buckets.list", true),
            ("roles/viewer", "storage.objects.get", false),
            (
                "roles/editor",
                "resourcemanager.projects.setIamPolicy",
                false,
            ),
            ("roles/owner", "resourcemanager.projects.setIamPolicy", true),
        ] {
            let found = catalog
                .role(role)
                .unwrap_or_else(|| panic!("{role} missing"));
            assert_eq!(
                catalog.grants(found, permission),
                expected,
                "{role} {permission}"
            );
        }
        // Permission names with a `/` (the v2 form some IAM permissions use) are kept as is.
        assert!(catalog.knows_permission("iam.googleapis.com/workforcePoolProviders.get"));
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
            let catalog =
                parse(EMBEDDED_DIRECTORY, EMBEDDED_PERMISSIONS, EMBEDDED_ROLES).expect("parses");
            best = best.min(started.elapsed());
            assert!(catalog.roles().len() > 2000);
        }
        eprintln!("embedded catalog: best parse of 5 took {best:?}");
    }

    #[test]
    fn custom_roles_are_refused() {
        let result = GcpRoleCatalog::new(
            Source::default(),
            [role("projects/p/roles/deployer", RoleStage::Ga, &["a.b.c"])],
        );
        assert!(result.is_err());
    }
}
