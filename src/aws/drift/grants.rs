//! Permissions widened or narrowed between two snapshots, decided by the AWS evaluator.
//!
//! For every action an `Allow` statement of the later policies lists (its `Action` patterns
//! expanded with the catalog, or the complement of its `NotAction`), the evaluator decides a
//! few **representative requests** under the later and the earlier policy sets: the resource
//! `*` for actions that take no resource, otherwise concrete resources built from the
//! catalog's ARN formats for the action and from every `Resource` pattern of either side that
//! can name a resource of the action (fits one of those formats), with each wildcard and
//! `${…}` placeholder replaced by a fixed filler. A request the later set allows (or allows under conditions the partial
//! context leaves open) and the earlier does not is a widening: the action is **newly
//! granted** when the earlier set allowed it on none of its representatives, otherwise it is
//! granted **on more resources**. Narrowing is the same question asked the other way round.
//!
//! Rules: IAM policy evaluation logic,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>;
//! actions without resource types are authorized against `"Resource": "*"`, per the service
//! authorization reference,
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>.
//!
//! The representatives err towards "widened": every resource pattern of either side that can
//! name a resource of the action is tried, so the only widenings missed are ones that hold on
//! no resource either side names and on no ARN format of the catalog.

use super::facts::PolicyFact;
use crate::aws::eval::{CompiledPolicySet, NamedPolicy, PolicyKind, PolicySet, Request, Verdict};
use crate::aws::grant::AwsAttachment;
use crate::aws::policy::{ActionClause, ResourceClause};
use crate::aws::{Context, PolicyDocument};
use crate::catalog::{AccessLevel, Catalog};
use crate::matching::{Case, glob_match};
use crate::model::Effect;
use std::collections::{BTreeMap, BTreeSet};

/// Stands for any run of characters in a representative resource.
const FILLER: &str = "pipeleash-representative";

/// What one side grants that the other does not, for one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionDelta {
    /// Actions granted on some resource now and on none before, sorted.
    pub newly_granted: Vec<String>,
    /// Actions granted before, now granted on more resources: the action and the resource
    /// patterns that now reach further, sorted.
    pub on_more_resources: Vec<(String, Vec<String>)>,
    /// Actions allowed before only under conditions the request context decides (a source
    /// IP, a tag, MFA…), now allowed without them: the action and the resource patterns.
    pub conditions_dropped: Vec<(String, Vec<String>)>,
    /// The highest access level among the actions above (`None` when empty or unknown).
    pub access_level: Option<AccessLevel>,
}

impl PermissionDelta {
    pub fn is_empty(&self) -> bool {
        self.newly_granted.is_empty()
            && self.on_more_resources.is_empty()
            && self.conditions_dropped.is_empty()
    }
}

/// What `later` grants beyond `earlier` for the principal `arn` of `account`. Identical
/// policy sets grant the same by definition and are not evaluated.
pub fn widening(
    arn: &str,
    account: &str,
    earlier: &[PolicyFact],
    later: &[PolicyFact],
    catalog: &Catalog,
) -> PermissionDelta {
    if same_policies(earlier, later) {
        return PermissionDelta::default();
    }
    let partition = arn.split(':').nth(1).unwrap_or("aws");
    let earlier_set = compile(earlier);
    let later_set = compile(later);
    let patterns = resource_patterns(earlier.iter().chain(later));
    let mut request = Request {
        principal_arn: arn.to_string(),
        principal_account: account.to_string(),
        action: String::new(),
        resource: String::new(),
        resource_account: None,
        context: Context::partial(),
    };
    let mut delta = PermissionDelta::default();
    let mut level: Option<AccessLevel> = None;
    for (action, action_level) in listed_actions(later, catalog) {
        let representatives = representatives(&action, &patterns, catalog, partition, account);
        let mut wider = BTreeSet::new();
        let mut unconditional = BTreeSet::new();
        let mut before_anywhere = false;
        for (resource, pattern) in &representatives {
            let now = grade(&later_set, &mut request, &action, resource);
            let before = grade(&earlier_set, &mut request, &action, resource);
            before_anywhere |= before != Grade::Denied;
            if now != Grade::Denied && before == Grade::Denied {
                wider.insert(pattern.clone());
            } else if now == Grade::Allowed && before == Grade::Conditional {
                unconditional.insert(pattern.clone());
            }
        }
        if wider.is_empty() && unconditional.is_empty() {
            continue;
        }
        if !unconditional.is_empty() {
            delta
                .conditions_dropped
                .push((action.clone(), unconditional.into_iter().collect()));
        }
        if let Some(action_level) = action_level {
            level = Some(level.map_or(action_level, |level| level.max(action_level)));
        }
        if !wider.is_empty() {
            if before_anywhere {
                delta
                    .on_more_resources
                    .push((action, wider.into_iter().collect()));
            } else {
                delta.newly_granted.push(action);
            }
        }
    }
    delta.newly_granted.sort();
    delta.on_more_resources.sort();
    delta.conditions_dropped.sort();
    delta.access_level = level;
    delta
}

/// Whether `policies` grant `action` on one of its representative resources.
pub fn grants_somewhere(
    arn: &str,
    account: &str,
    policies: &[PolicyFact],
    action: &str,
    catalog: &Catalog,
) -> bool {
    let partition = arn.split(':').nth(1).unwrap_or("aws");
    let set = compile(policies);
    let patterns = resource_patterns(policies.iter());
    let mut request = Request {
        principal_arn: arn.to_string(),
        principal_account: account.to_string(),
        action: String::new(),
        resource: String::new(),
        resource_account: None,
        context: Context::partial(),
    };
    representatives(action, &patterns, catalog, partition, account)
        .iter()
        .any(|(resource, _)| allows(&set, &mut request, action, resource))
}

/// Same policies, whatever their order.
fn same_policies(earlier: &[PolicyFact], later: &[PolicyFact]) -> bool {
    earlier.len() == later.len() && earlier.iter().all(|policy| later.contains(policy))
}

fn compile(policies: &[PolicyFact]) -> CompiledPolicySet {
    let mut set = PolicySet::default();
    for policy in policies {
        match policy.attachment {
            AwsAttachment::Identity => set.identity.push(NamedPolicy::new(
                &policy.name,
                PolicyKind::Identity,
                &policy.document,
            )),
            AwsAttachment::PermissionsBoundary => {
                set.boundary = Some(NamedPolicy::new(
                    &policy.name,
                    PolicyKind::PermissionsBoundary,
                    &policy.document,
                ));
            }
            AwsAttachment::ServiceControl { level } => {
                if set.scps.len() <= level {
                    set.scps.resize_with(level + 1, Vec::new);
                }
                set.scps[level].push(NamedPolicy::new(
                    &policy.name,
                    PolicyKind::ServiceControl,
                    &policy.document,
                ));
            }
        }
    }
    CompiledPolicySet::new(&set)
}

/// How far a request is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grade {
    Denied,
    /// Allowed under conditions the partial context cannot decide.
    Conditional,
    Allowed,
}

fn grade(set: &CompiledPolicySet, request: &mut Request, action: &str, resource: &str) -> Grade {
    action.clone_into(&mut request.action);
    resource.clone_into(&mut request.resource);
    match set.decide(request) {
        Verdict::Allowed => Grade::Allowed,
        Verdict::Conditional => Grade::Conditional,
        Verdict::ExplicitDeny | Verdict::ImplicitDeny => Grade::Denied,
    }
}

/// Allowed, or allowed under conditions the partial context cannot decide: granted.
fn allows(set: &CompiledPolicySet, request: &mut Request, action: &str, resource: &str) -> bool {
    action.clone_into(&mut request.action);
    resource.clone_into(&mut request.resource);
    matches!(set.decide(request), Verdict::Allowed | Verdict::Conditional)
}

/// Every action an identity `Allow` statement lists, with its access level when the catalog
/// knows it; unknown literal actions are kept as written.
fn listed_actions(
    policies: &[PolicyFact],
    catalog: &Catalog,
) -> Vec<(String, Option<AccessLevel>)> {
    let mut listed: BTreeMap<String, Option<AccessLevel>> = BTreeMap::new();
    for policy in policies {
        if policy.attachment != AwsAttachment::Identity {
            continue;
        }
        for statement in allow_statements(&policy.document) {
            match &statement.action {
                ActionClause::Action(patterns) => {
                    for pattern in patterns {
                        let expanded = catalog.expand(pattern);
                        if expanded.is_empty() && !pattern.contains(['*', '?']) {
                            listed.insert(pattern.clone(), None);
                        }
                        for action in expanded {
                            listed.insert(action.name.clone(), Some(action.access_level));
                        }
                    }
                }
                ActionClause::NotAction(patterns) => {
                    for action in catalog.actions() {
                        let excluded = patterns
                            .iter()
                            .any(|pattern| glob_match(pattern, &action.name, Case::Insensitive));
                        if !excluded {
                            listed.insert(action.name.clone(), Some(action.access_level));
                        }
                    }
                }
            }
        }
    }
    listed.into_iter().collect()
}

fn allow_statements(
    document: &PolicyDocument,
) -> impl Iterator<Item = &crate::aws::policy::Statement> {
    document
        .statements
        .iter()
        .filter(|statement| statement.effect == Effect::Allow)
}

/// Every `Resource` and `NotResource` pattern of either side, sorted.
fn resource_patterns<'a>(policies: impl Iterator<Item = &'a PolicyFact>) -> BTreeSet<String> {
    let mut patterns = BTreeSet::new();
    for policy in policies {
        for statement in &policy.document.statements {
            match &statement.resource {
                Some(ResourceClause::Resource(list) | ResourceClause::NotResource(list)) => {
                    patterns.extend(list.iter().cloned());
                }
                None => {}
            }
        }
    }
    patterns
}

/// The representative resources of `action`, each with the pattern it stands for.
fn representatives(
    action: &str,
    patterns: &BTreeSet<String>,
    catalog: &Catalog,
    partition: &str,
    account: &str,
) -> Vec<(String, String)> {
    let Some(entry) = catalog.action(action) else {
        // Unknown to the catalog: its resources are unknown, so try every pattern and `*`.
        let mut all = vec![("*".to_string(), "*".to_string())];
        all.extend(
            patterns
                .iter()
                .map(|pattern| (concrete(pattern, partition, account), pattern.clone())),
        );
        return all;
    };
    if entry.resource_types.is_empty() {
        return vec![("*".to_string(), "*".to_string())];
    }
    // The action's resources: its ARN formats as globs (`${…}` stands for anything).
    let mut formats = Vec::new();
    for resource in &entry.resource_types {
        if let Some(resource_type) = catalog.resource_type(entry, &resource.name) {
            formats.extend(resource_type.arn_formats.iter());
        }
    }
    let globs: Vec<String> = formats.iter().map(|format| format_glob(format)).collect();
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for format in &formats {
        out.entry(concrete(format, partition, account))
            .or_insert_with(|| (*format).clone());
    }
    // A pattern's representative counts only when it can name a resource of the action: a
    // statement on a bucket never decides `s3:GetObject`, whose resource is an object.
    for pattern in patterns {
        let resource = concrete(pattern, partition, account);
        if globs
            .iter()
            .any(|glob| glob_match(glob, &resource, Case::Insensitive))
        {
            out.entry(resource).or_insert_with(|| pattern.clone());
        }
    }
    out.into_iter().collect()
}

/// An ARN format as a glob: every `${…}` placeholder becomes `*`.
fn format_glob(format: &str) -> String {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A concrete resource for a pattern or ARN format: `${Partition}` and `${Account}` become
/// the principal's, every other placeholder and wildcard the filler.
fn concrete(pattern: &str, partition: &str, account: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + FILLER.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some(end) = after.find('}')
        {
            let name = &after[..end];
            out.push_str(match name {
                "Partition" | "aws:Partition" => partition,
                "Account" | "aws:PrincipalAccount" => account,
                _ => FILLER,
            });
            rest = &after[end + 1..];
            continue;
        }
        if c == '*' || c == '?' {
            out.push_str(FILLER);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, json: &str) -> PolicyFact {
        PolicyFact {
            name: name.to_string(),
            attachment: AwsAttachment::Identity,
            document: crate::aws::parse_policy(json).expect("policy"),
        }
    }

    const ARN: &str = "arn:aws:iam::111122223333:role/ci";

    fn delta(before: &str, after: &str) -> PermissionDelta {
        let catalog = Catalog::aws().expect("catalog");
        widening(
            ARN,
            "111122223333",
            &[policy("p", before)],
            &[policy("p", after)],
            catalog,
        )
    }

    #[test]
    fn a_new_action_is_newly_granted() {
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#,
        );
        assert_eq!(delta.newly_granted, vec!["s3:PutObject".to_string()]);
        assert!(delta.on_more_resources.is_empty());
        assert_eq!(delta.access_level, Some(AccessLevel::Write));
    }

    #[test]
    fn a_wider_resource_is_on_more_resources() {
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        );
        assert!(delta.newly_granted.is_empty());
        assert_eq!(delta.on_more_resources.len(), 1);
        assert_eq!(delta.on_more_resources[0].0, "s3:GetObject");
    }

    #[test]
    fn rewriting_a_policy_without_widening_is_no_drift() {
        // Same grant, spelled differently: a text diff would report it, the evaluator not.
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::a/*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::a/*"},{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}"#,
        );
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn a_narrowing_is_not_a_widening() {
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"}]}"#,
        );
        assert!(delta.is_empty(), "{delta:?}");
    }

    #[test]
    fn a_dropped_condition_widens() {
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
        );
        assert!(delta.newly_granted.is_empty(), "{delta:?}");
        assert_eq!(delta.conditions_dropped.len(), 1, "{delta:?}");
        assert_eq!(delta.conditions_dropped[0].0, "s3:PutObject");
        assert_eq!(delta.access_level, Some(AccessLevel::Write));
    }

    #[test]
    fn a_removed_deny_widens() {
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        );
        assert_eq!(delta.newly_granted, vec!["s3:DeleteBucket".to_string()]);
    }

    #[test]
    fn a_bucket_statement_does_not_grant_actions_on_other_resource_types() {
        // `s3:*` on one bucket: object actions and access grants do not take a bucket ARN.
        let delta = delta(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::a"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a"}]}"#,
        );
        assert!(delta.newly_granted.contains(&"s3:DeleteBucket".to_string()));
        assert!(!delta.newly_granted.contains(&"s3:GetObject".to_string()));
        assert!(
            !delta
                .newly_granted
                .contains(&"s3:CreateAccessGrant".to_string())
        );
    }

    #[test]
    fn format_glob_turns_placeholders_into_wildcards() {
        assert_eq!(
            format_glob("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            "arn:*:s3:::*/*"
        );
    }

    #[test]
    fn concrete_fills_wildcards_and_placeholders() {
        assert_eq!(
            concrete("arn:${Partition}:s3:::${BucketName}/*", "aws", "1"),
            format!("arn:aws:s3:::{FILLER}/{FILLER}")
        );
    }
}
