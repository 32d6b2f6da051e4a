//! Permissions a request needs that CloudTrail never logs as events of their own — a role passed
//! to a service, an ACL or tags set with an upload, tags set on create, the source of a copy —
//! read from `requestParameters` with the reviewed rules of
//! `providers/aws/cloudtrail-implied-permissions.tsv`, embedded at build time. The file's
//! header explains the columns; this module only parses and applies them.

use std::sync::OnceLock;

/// The embedded table, as shipped in `providers/aws/cloudtrail-implied-permissions.tsv`.
pub const EMBEDDED_TABLE: &str =
    include_str!("../../../providers/aws/cloudtrail-implied-permissions.tsv");

const EMBEDDED_FILE: &str = "providers/aws/cloudtrail-implied-permissions.tsv";

const HEADER: [&str; 8] = [
    "event_source",
    "event_name",
    "parameter",
    "value",
    "permission",
    "resource",
    "source",
    "note",
];

/// A row of the table that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse `{file}` line {line}: {reason}")]
pub struct ImpliedPermissionsError {
    /// The file the table came from (for messages only).
    pub file: String,
    /// 1-based line number (0 when the whole table is at fault).
    pub line: usize,
    /// What is wrong and what to write instead.
    pub reason: String,
}

/// Which strings a row reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueClass {
    /// Any non-empty string.
    Any,
    /// An IAM role ARN of the caller's own account.
    RoleArn,
    /// An IAM instance profile ARN.
    InstanceProfileArn,
}

/// Where the implied permission applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceForm {
    /// The resource of the call itself (for S3, the object).
    Request,
    /// The parameter's value.
    Value,
    /// The object an `x-amz-copy-source` value names.
    CopySource,
    /// The role of the instance profile the value names (ARN or name).
    InstanceProfileRole,
    /// An ARN built from `{partition}`, `{region}`, `{account}` and `{value}`.
    Template(String),
}

/// One reviewed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line in the table, for messages.
    pub line: usize,
    /// `None` for `*` (every service).
    pub event_source: Option<String>,
    /// A pattern where `*` matches any run of characters.
    pub event_name: String,
    /// A path pattern, matched without regard to case.
    pub parameter: String,
    pub value: ValueClass,
    /// `None` for an exclusion.
    pub permission: Option<String>,
    /// `None` for an exclusion.
    pub resource: Option<ResourceForm>,
    /// The documentation page that states the rule.
    pub source: String,
    pub note: String,
}

/// The parsed table.
#[derive(Debug, Default)]
pub struct ImpliedPermissions {
    rules: Vec<Rule>,
    /// Lowercase first keys of the paths that rules of class `any` read: only values under
    /// them (and ARNs anywhere) need to be kept while a record is parsed.
    roots: Vec<String>,
}

/// What the caller of one request needs beyond the logged action, found by one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Implied<'t> {
    pub permission: &'t str,
    pub resource: &'t ResourceForm,
    pub rule: &'t Rule,
}

impl ImpliedPermissions {
    /// The table embedded in the binary, parsed once.
    pub fn embedded() -> Result<&'static ImpliedPermissions, ImpliedPermissionsError> {
        static EMBEDDED: OnceLock<Result<ImpliedPermissions, ImpliedPermissionsError>> =
            OnceLock::new();
        EMBEDDED
            .get_or_init(|| ImpliedPermissions::parse(EMBEDDED_TABLE, EMBEDDED_FILE))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses a table in the documented format; `file` only names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ImpliedPermissions, ImpliedPermissionsError> {
        let mut table = ImpliedPermissions::default();
        let mut seen_header = false;
        for (index, raw_line) in text.lines().enumerate() {
            let line_number = index + 1;
            let error = |reason: String| ImpliedPermissionsError {
                file: file.to_owned(),
                line: line_number,
                reason,
            };
            let line = raw_line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let columns: Vec<&str> = line.split('\t').map(str::trim).collect();
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
            if columns.len() != HEADER.len() {
                return Err(error(format!(
                    "expected {} tab-separated columns, found {}",
                    HEADER.len(),
                    columns.len()
                )));
            }
            let rule = parse_rule(&columns, line_number).map_err(error)?;
            if rule.value == ValueClass::Any {
                let root = first_key(&rule.parameter).to_ascii_lowercase();
                if !table.roots.contains(&root) {
                    table.roots.push(root);
                }
            }
            table.rules.push(rule);
        }
        if !seen_header {
            return Err(ImpliedPermissionsError {
                file: file.to_owned(),
                line: 0,
                reason: "the table has no header row".into(),
            });
        }
        Ok(table)
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether some rule of class `any` reads values under the top-level request parameter
    /// `key` (any case).
    pub fn reads_root(&self, key: &str) -> bool {
        self.roots.iter().any(|root| root.eq_ignore_ascii_case(key))
    }

    /// The permissions a string `value` at `path` of event `name` of `source` implies for a
    /// caller of `caller_account` (when known). Each permission is given once per rule that
    /// finds it, exclusions applied.
    pub fn implied<'t>(
        &'t self,
        source: &str,
        name: &str,
        path: &str,
        value: &str,
        caller_account: Option<&str>,
    ) -> Vec<Implied<'t>> {
        let mut found = Vec::new();
        if value.is_empty() {
            return found;
        }
        for class in classes_of(value, caller_account) {
            let applies = |rule: &&Rule| {
                rule.value == class
                    && rule
                        .event_source
                        .as_deref()
                        .is_none_or(|rule_source| rule_source == source)
                    && glob(rule.event_name.as_bytes(), name.as_bytes(), false)
                    && glob(rule.parameter.as_bytes(), path.as_bytes(), true)
            };
            let mut matching = self.rules.iter().filter(applies).peekable();
            if matching.peek().is_none() {
                continue;
            }
            let matching: Vec<&Rule> = matching.collect();
            if matching.iter().any(|rule| rule.permission.is_none()) {
                continue;
            }
            for rule in matching {
                if let (Some(permission), Some(resource)) = (&rule.permission, &rule.resource) {
                    found.push(Implied {
                        permission,
                        resource,
                        rule,
                    });
                }
            }
        }
        found
    }
}

/// The classes a value belongs to: always `any`, plus the ARN class it has. A role of another
/// account than the caller's cannot be passed (IAM User Guide, "Grant a user permissions to
/// pass a role to an AWS service"), so it is not of class `role-arn`.
fn classes_of(value: &str, caller_account: Option<&str>) -> Vec<ValueClass> {
    let mut classes = vec![ValueClass::Any];
    if let Some((account, resource)) = iam_arn_parts(value) {
        if resource.starts_with("role/")
            && caller_account.is_none_or(|caller| account.is_empty() || caller == account)
        {
            classes.push(ValueClass::RoleArn);
        } else if resource.starts_with("instance-profile/") {
            classes.push(ValueClass::InstanceProfileArn);
        }
    }
    classes
}

/// `arn:<partition>:iam::<account>:<resource>` → (account, resource).
pub fn iam_arn_parts(value: &str) -> Option<(&str, &str)> {
    let rest = value.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (service == "iam" && region.is_empty()).then_some((account, resource))
}

/// Whether a string could be of an ARN class: checked for every string of every request, so
/// it only looks at the shape.
pub fn may_be_iam_arn(value: &str) -> bool {
    value.starts_with("arn:")
        && value.contains(":iam::")
        && (value.contains(":role/") || value.contains(":instance-profile/"))
}

fn parse_rule(columns: &[&str], line: usize) -> Result<Rule, String> {
    let (source, name, parameter, value, permission, resource, doc, note) = (
        columns[0], columns[1], columns[2], columns[3], columns[4], columns[5], columns[6],
        columns[7],
    );
    let event_source = match source {
        "*" => None,
        source if source.ends_with(".amazonaws.com") && !source.contains(char::is_whitespace) => {
            Some(source.to_owned())
        }
        other => {
            return Err(format!(
                "event source `{other}` should look like `s3.amazonaws.com`, or be `*`"
            ));
        }
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!(
            "event name `{name}` should be an event name or a pattern like `Get*`"
        ));
    }
    if parameter.is_empty() || parameter.contains(char::is_whitespace) {
        return Err(format!(
            "parameter `{parameter}` should be a path like `tagSpecificationSet.items[].resourceType`"
        ));
    }
    let value = match value {
        "any" => ValueClass::Any,
        "role-arn" => ValueClass::RoleArn,
        "instance-profile-arn" => ValueClass::InstanceProfileArn,
        other => {
            return Err(format!(
                "value class `{other}` is not one of `any`, `role-arn`, `instance-profile-arn`"
            ));
        }
    };
    if value == ValueClass::Any && first_key(parameter).contains('*') {
        return Err(format!(
            "a rule of value class `any` must name its parameter from a literal first key, not `{parameter}`"
        ));
    }
    let (permission, resource) = match (permission, resource) {
        ("-", "-") => (None, None),
        ("-", other) | (other, "-") => {
            return Err(format!(
                "an exclusion has `-` as both permission and resource, not `{other}`"
            ));
        }
        (permission, resource) => {
            if !is_action(permission) {
                return Err(format!(
                    "`{permission}` is not an IAM action like `s3:PutObjectAcl`"
                ));
            }
            (Some(permission.to_owned()), Some(parse_resource(resource)?))
        }
    };
    if !doc.starts_with("https://") {
        return Err(format!(
            "source `{doc}` should be the documentation page (an https:// URL) that states the rule"
        ));
    }
    Ok(Rule {
        line,
        event_source,
        event_name: name.to_owned(),
        parameter: parameter.to_owned(),
        value,
        permission,
        resource,
        source: doc.to_owned(),
        note: note.to_owned(),
    })
}

fn parse_resource(resource: &str) -> Result<ResourceForm, String> {
    Ok(match resource {
        "{request}" => ResourceForm::Request,
        "{value}" => ResourceForm::Value,
        "{copy-source}" => ResourceForm::CopySource,
        "{instance-profile-role}" => ResourceForm::InstanceProfileRole,
        template if template.starts_with("arn:") => {
            let mut rest = template;
            while let Some(start) = rest.find('{') {
                let end = rest[start..]
                    .find('}')
                    .ok_or_else(|| format!("`{template}` has an unclosed `{{`"))?;
                let placeholder = &rest[start..start + end + 1];
                if !["{partition}", "{region}", "{account}", "{value}"].contains(&placeholder) {
                    return Err(format!(
                        "`{placeholder}` in `{template}` is not one of `{{partition}}`, \
                         `{{region}}`, `{{account}}`, `{{value}}`"
                    ));
                }
                rest = &rest[start + end + 1..];
            }
            ResourceForm::Template(template.to_owned())
        }
        other => {
            return Err(format!(
                "resource `{other}` is not `{{request}}`, `{{value}}`, `{{copy-source}}`, \
                 `{{instance-profile-role}}` or an ARN template"
            ));
        }
    })
}

fn first_key(path: &str) -> &str {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    &path[..end]
}

fn is_action(action: &str) -> bool {
    match action.split_once(':') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                && name.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// `*`-only wildcard matching over bytes, optionally ignoring ASCII case; iterative with
/// single-star backtracking, and free of allocation because it runs for every kept value.
fn glob(pattern: &[u8], text: &[u8], ignore_case: bool) -> bool {
    let equal = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if equal(c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn implied(source: &str, name: &str, path: &str, value: &str) -> Vec<(String, String)> {
        ImpliedPermissions::embedded()
            .unwrap()
            .implied(source, name, path, value, Some("111122223333"))
            .into_iter()
            .map(|found| (found.permission.to_owned(), format!("{:?}", found.resource)))
            .collect()
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/app";

    #[test]
    fn embedded_table_parses_and_every_permission_is_in_the_catalog() {
        let table = ImpliedPermissions::embedded().unwrap();
        let catalog = crate::catalog::Catalog::aws().unwrap();
        let mut checked = 0;
        for rule in table.rules() {
            if let Some(permission) = &rule.permission {
                assert!(
                    catalog.action(permission).is_some(),
                    "line {}: `{permission}` is not a known action",
                    rule.line
                );
                checked += 1;
            }
        }
        assert!(checked > 30, "only {checked} rules checked");
    }

    #[test]
    fn s3_upload_headers_imply_acl_tagging_and_object_lock_permissions() {
        let s3 = "s3.amazonaws.com";
        for event in ["PutObject", "CopyObject", "CreateMultipartUpload"] {
            for (header, permission) in [
                ("x-amz-acl", "s3:PutObjectAcl"),
                ("x-amz-grant-read", "s3:PutObjectAcl"),
                ("x-amz-grant-full-control", "s3:PutObjectAcl"),
                ("x-amz-tagging", "s3:PutObjectTagging"),
                ("x-amz-object-lock-mode", "s3:PutObjectRetention"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "s3:PutObjectRetention",
                ),
                ("x-amz-object-lock-legal-hold", "s3:PutObjectLegalHold"),
            ] {
                assert_eq!(
                    implied(s3, event, header, "x"),
                    vec![(permission.to_owned(), "Request".to_owned())],
                    "{event} {header}"
                );
            }
        }
        assert!(implied(s3, "GetObject", "x-amz-acl", "public-read").is_empty());
    }

    #[test]
    fn role_arns_anywhere_in_a_request_are_passed() {
        let passed = vec![("iam:PassRole".to_owned(), "Value".to_owned())];
        assert_eq!(
            implied(
                "events.amazonaws.com",
                "PutTargets",
                "targets[].roleArn",
                ROLE
            ),
            passed
        );
        assert_eq!(
            implied(
                "ecs.amazonaws.com",
                "RegisterTaskDefinition",
                "executionRoleArn",
                ROLE
            ),
            passed
        );
        assert_eq!(
            implied(
                "cloudformation.amazonaws.com",
                "CreateStack",
                "roleARN",
                ROLE
            ),
            passed
        );
        assert_eq!(
            implied(
                "s3.amazonaws.com",
                "PutBucketReplication",
                "ReplicationConfiguration.Role",
                ROLE
            ),
            passed
        );
    }

    #[test]
    fn role_arns_that_are_not_passed_are_excluded() {
        // The role to become, a role managed by IAM, a read, a principal given access, and a
        // role of another account.
        assert!(implied("sts.amazonaws.com", "AssumeRole", "roleArn", ROLE).is_empty());
        assert!(implied("iam.amazonaws.com", "UpdateRole", "roleArn", ROLE).is_empty());
        assert!(implied("lambda.amazonaws.com", "ListFunctions", "role", ROLE).is_empty());
        assert!(implied("kms.amazonaws.com", "CreateGrant", "granteePrincipal", ROLE).is_empty());
        assert!(
            implied(
                "s3.amazonaws.com",
                "PutBucketPolicy",
                "bucketPolicy.Statement[].Principal.AWS",
                ROLE
            )
            .is_empty()
        );
        assert!(
            implied(
                "events.amazonaws.com",
                "PutTargets",
                "targets[].roleArn",
                "arn:aws:iam::999999999999:role/other"
            )
            .is_empty()
        );
    }

    #[test]
    fn instance_profiles_and_tag_specifications() {
        assert_eq!(
            implied(
                "ec2.amazonaws.com",
                "RunInstances",
                "iamInstanceProfile.arn",
                "arn:aws:iam::111122223333:instance-profile/web"
            ),
            vec![("iam:PassRole".to_owned(), "InstanceProfileRole".to_owned())]
        );
        assert_eq!(
            implied(
                "ec2.amazonaws.com",
                "RunInstances",
                "iamInstanceProfile.name",
                "web"
            ),
            vec![("iam:PassRole".to_owned(), "InstanceProfileRole".to_owned())]
        );
        assert_eq!(
            implied(
                "ec2.amazonaws.com",
                "CreateVolume",
                "tagSpecificationSet.items[].resourceType",
                "volume"
            ),
            vec![(
                "ec2:CreateTags".to_owned(),
                "Template(\"arn:{partition}:ec2:{region}:{account}:{value}/*\")".to_owned()
            )]
        );
    }

    #[test]
    fn malformed_rows_are_rejected_with_the_line() {
        let header = HEADER.join("\t");
        let row = |columns: &str| format!("# c\n{header}\n{columns}\n");
        let cases = [
            "s3\tPutObject\tx\tany\ts3:PutObjectAcl\t{request}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tsome\ts3:PutObjectAcl\t{request}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\tnot-an-action\t{request}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\ts3:PutObjectAcl\t{bucket}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\ts3:PutObjectAcl\t{request}\tsee docs\t",
            "s3.amazonaws.com\tPutObject\t*x\tany\ts3:PutObjectAcl\t{request}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\t-\t{request}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\ts3:PutObjectAcl\tarn:{bad}\thttps://d\t",
            "s3.amazonaws.com\tPutObject\tx\tany\ts3:PutObjectAcl\t{request}",
        ];
        for case in cases {
            let error = ImpliedPermissions::parse(&row(case), "t.tsv").unwrap_err();
            assert_eq!(error.line, 3, "{case}: {error}");
            assert!(
                error
                    .to_string()
                    .starts_with("cannot parse `t.tsv` line 3:"),
                "{error}"
            );
        }
        assert_eq!(
            ImpliedPermissions::parse("# only\n", "t.tsv")
                .unwrap_err()
                .line,
            0
        );
    }

    #[test]
    fn glob_matches_whole_text_with_stars() {
        assert!(glob(b"Get*", b"GetObject", false));
        assert!(!glob(b"Get*", b"getObject", false));
        assert!(glob(
            b"*principal*",
            b"bucketPolicy.Statement[].Principal.AWS",
            true
        ));
        assert!(glob(b"*", b"", false));
        assert!(!glob(b"x-amz-acl", b"x-amz-acl-more", true));
        assert!(glob(b"a*b*c", b"aXbYbZc", false));
    }
}
