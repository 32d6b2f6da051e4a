//! Minimization: the smallest AWS identity policy that still allows everything the identity
//! was seen to use, proven before it is returned.
//!
//! The steps, one module each:
//!
//! 1. [`granted`] — which actions the current policies grant at all (catalog expansion of
//!    `Action`/`NotAction`, filtered by the evaluator against the full policy set).
//! 2. keep (here) — every action with allowed usage in the window, on the resources it was
//!    used on, plus every granted action the logs could not have shown
//!    ([`crate::aws::coverage`]), unless the caller drops those. Denied usage is not use: it
//!    is reported as missing-permission evidence and never granted. Granted actions that are
//!    observable and were not used are dropped as groups, one per set of statements granting
//!    them ([`UnusedActions`]), rather than one decision each: an administrator role holds
//!    ~22,000 of them.
//! 3. [`generalize`] — used resources become exact ARNs, or a common-prefix pattern when
//!    enough siblings of one bucket / repository / function were used.
//! 4. and 5. [`build`] — statements grouped by (resources, conditions), each carrying the
//!    conditions of the statement that granted it; original `Deny` statements that touch a
//!    kept action are carried over unchanged.
//! 6. [`build`] — documents packed under IAM's size limits.
//! 7. [`prove`] — every allowed usage record is replayed through the evaluator against the new
//!    policies (never drop what was used), and every new statement is shown to be inside an
//!    original one, structurally and with the evaluator (never broaden). A failed proof is an
//!    error: no policy is returned.
//!
//! Everything here is pure and deterministic: the window is an argument and every output list
//! is sorted.

mod actions;
mod build;
mod generalize;
mod granted;
mod prove;
mod render;

pub use build::{INLINE_ROLE_AGGREGATE_LIMIT, MANAGED_POLICY_LIMIT, policy_size};
pub use generalize::generalize;
pub use render::render_terraform;

use super::cloudtrail::{federated_provider, workload_of_host};
use super::coverage::{CoverageFacts, CoverageTable, Observability};
use super::eval::{CompiledPolicySet, DecisionKind, NamedPolicy, PolicyKind, PolicySet, Request};
use super::policy::{ActionClause, PolicyDocument, Statement};
use super::{Context, PolicyVersion};
use crate::catalog::{AccessLevel, Action, Catalog};
use crate::model::Effect;
use crate::model::{
    CiWorkload, ObservationWindow, Provider, SkippedSource, Usage, UsageKey, UsageRecord,
};
use actions::{ActionIndex, Runs};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A policy document with the name it is reported under (inline name or managed policy ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput {
    pub name: String,
    pub document: PolicyDocument,
}

impl PolicyInput {
    pub fn new(name: impl Into<String>, document: PolicyDocument) -> PolicyInput {
        PolicyInput {
            name: name.into(),
            document,
        }
    }
}

/// A CI workload as minimization reports name it: `<issuer host>:<subject>`, e.g.
/// `token.actions.githubusercontent.com:repo:acme/web:ref:refs/heads/main` (the issuer URL
/// without its `https://`).
pub fn workload_label(workload: &CiWorkload) -> String {
    format!("{}:{}", federated_provider(workload), workload.subject)
}

/// The workload a label of [`workload_label`]'s shape names: the text up to the first `:` is
/// the issuer host (issuer `https://<host>`), the rest the subject. `None` when the text has
/// no `:`. `workload_label(&parse_workload_label(text)?) == text` for every such text.
pub fn parse_workload_label(text: &str) -> Option<CiWorkload> {
    let (host, subject) = text.split_once(':')?;
    Some(workload_of_host(host, subject))
}

/// Everything minimization needs about one identity.
#[derive(Debug, Clone, PartialEq)]
pub struct MinimizeInput {
    /// The identity's ARN, used as the principal of every simulated request.
    pub principal_arn: String,
    /// The identity's own policies (inline and attached managed ones); these are what
    /// minimization rewrites.
    pub identity_policies: Vec<PolicyInput>,
    /// The permissions boundary, unchanged by minimization but part of every decision.
    pub boundary: Option<PolicyInput>,
    /// Service control policies, one entry per organization level, root first.
    pub scps: Vec<Vec<PolicyInput>>,
    /// The identity's usage in the provider-neutral form, as the GCP and Azure minimizers
    /// read it: one record per (permission, resource), allowed calls in `count`, refused ones
    /// in `denied_count`. Every record is taken as the identity's own (the caller picks the
    /// identity's records: the audit matches a role whatever the path CloudTrail wrote);
    /// records of a non-AWS permission are ignored, as no AWS policy can grant them.
    pub usage: Usage,
    pub coverage: CoverageFacts,
    pub window: ObservationWindow,
}

/// Which IAM size quota the output must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizeTarget {
    /// Customer managed policies: each document at most [`MANAGED_POLICY_LIMIT`] characters.
    #[default]
    Managed,
    /// Inline role policies: all documents together at most [`INLINE_ROLE_AGGREGATE_LIMIT`].
    Inline,
}

/// How to minimize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimizeOptions {
    /// Drop granted actions the logs could not have shown, instead of keeping them.
    pub drop_unobservable: bool,
    /// How many sibling resources of one family must have been used before they are
    /// generalized to a prefix pattern (see [`generalize`]). `0` never generalizes.
    pub generalize_threshold: usize,
    pub size_target: SizeTarget,
    /// Output documents are named `<policy_name>`, `<policy_name>-2`, …
    pub policy_name: String,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            drop_unobservable: false,
            generalize_threshold: 3,
            size_target: SizeTarget::Managed,
            policy_name: "minimized".to_string(),
        }
    }
}

/// An original statement, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatementOrigin {
    /// Shared: a statement granting thousands of actions names its policy once.
    pub policy: std::sync::Arc<str>,
    /// 1-based.
    pub statement: usize,
    pub sid: Option<std::sync::Arc<str>>,
}

impl fmt::Display for StatementOrigin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "`{}` statement {}", self.policy, self.statement)?;
        if let Some(sid) = &self.sid {
            write!(formatter, " (`{sid}`)")?;
        }
        Ok(())
    }
}

/// The usage behind a kept action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedEvidence {
    pub allowed_count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub workloads: BTreeSet<String>,
    pub sources: BTreeSet<String>,
    /// The resources it was used on, as logged.
    pub resources: BTreeSet<String>,
}

/// Why an action was kept or dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Allowed calls were seen in the window. Boxed: an identity holds a decision per
    /// granted action, and most are the small variants.
    Used(Box<UsedEvidence>),
    /// The logs could not have shown it; kept on the original statement's resources.
    Unobservable { reason: String },
    /// Used, but some calls name no resource, so the original resources are kept.
    ResourceNotRecorded,
    /// The logs could not have shown it, and the caller asked to drop such actions.
    UnobservableDropped { reason: String },
    /// Granted, observable, and not used in the window.
    Unused,
    /// Allowed calls were seen, but the current policies do not allow them (the policies
    /// changed, or a resource policy granted them). Nothing is added for them.
    UsedButNotGranted { resources: BTreeSet<String> },
    /// The catalog does not know the action, so its logging cannot be judged; kept.
    NotInCatalog,
}

/// The decision about one action, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDecision {
    pub action: String,
    pub access_level: Option<AccessLevel>,
    pub kept: bool,
    pub reasons: Vec<Reason>,
    /// The original statements that grant it.
    pub granted_by: Vec<StatementOrigin>,
}

/// Granted actions that the logs could have shown and no call used in the window, all granted
/// by the same original statements: dropped together, as one decision with one piece of
/// evidence ("not used in the window"). Each such action is in exactly one group, and in no
/// [`ActionDecision`].
///
/// The actions are stored as positions in the catalog given to [`minimize`] (a few runs of
/// consecutive positions), so a group of 20,000 actions takes a few kilobytes; list them with
/// [`UnusedActions::actions`] and that catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedActions {
    /// The original statements that grant each action of the group.
    pub granted_by: Vec<StatementOrigin>,
    /// How many actions the group holds.
    pub count: usize,
    /// How many of them at each access level, in the order of [`AccessLevel::ALL`].
    pub by_level: [usize; AccessLevel::ALL.len()],
    /// Up to five of its actions with their level: permissions management first, then write,
    /// then the rest, each in name order.
    pub riskiest: Vec<(String, AccessLevel)>,
    /// Catalog positions, as sorted runs `start..end`.
    runs: Box<[(u32, u32)]>,
    /// Actions in the catalog the positions refer to.
    catalog_len: usize,
}

impl UnusedActions {
    /// The group's actions in catalog order (by service prefix, then name), or `None` when
    /// `catalog` is not the one the group was built with.
    pub fn actions<'c>(&self, catalog: &'c Catalog) -> Option<Vec<&'c Action>> {
        let index = ActionIndex::new(catalog);
        (index.len() == self.catalog_len).then(|| actions::actions_of(&index, &self.runs).collect())
    }

    /// Actions of the group at the write or permissions-management level.
    pub fn risky(&self) -> usize {
        self.at(AccessLevel::Write) + self.at(AccessLevel::PermissionsManagement)
    }

    /// Actions of the group at one access level.
    pub fn at(&self, level: AccessLevel) -> usize {
        AccessLevel::ALL
            .iter()
            .position(|candidate| *candidate == level)
            .map_or(0, |position| self.by_level[position])
    }
}

/// The order in which unused actions are named: permissions management, write, the rest.
pub fn risk_rank(level: Option<AccessLevel>) -> u8 {
    match level {
        Some(AccessLevel::PermissionsManagement) => 0,
        Some(AccessLevel::Write) => 1,
        _ => 2,
    }
}

/// Builds an [`UnusedActions`] from positions given in increasing order.
struct UnusedBuilder<'c> {
    runs: Runs,
    by_level: [usize; AccessLevel::ALL.len()],
    riskiest: Vec<(u8, &'c str, AccessLevel)>,
}

impl<'c> UnusedBuilder<'c> {
    const NAMED: usize = 5;

    fn new() -> Self {
        UnusedBuilder {
            runs: Runs::default(),
            by_level: [0; AccessLevel::ALL.len()],
            riskiest: Vec::new(),
        }
    }

    fn push(&mut self, position: u32, action: &'c Action) {
        self.runs.push(position);
        if let Some(level) = AccessLevel::ALL
            .iter()
            .position(|level| *level == action.access_level)
        {
            self.by_level[level] += 1;
        }
        let entry = (
            risk_rank(Some(action.access_level)),
            action.name.as_str(),
            action.access_level,
        );
        let at = self
            .riskiest
            .partition_point(|named| (named.0, named.1) < (entry.0, entry.1));
        if at < Self::NAMED {
            self.riskiest.insert(at, entry);
            self.riskiest.truncate(Self::NAMED);
        }
    }

    fn finish(self, granted_by: Vec<StatementOrigin>, catalog_len: usize) -> UnusedActions {
        UnusedActions {
            granted_by,
            count: self.runs.len(),
            by_level: self.by_level,
            riskiest: self
                .riskiest
                .into_iter()
                .map(|(_, name, level)| (name.to_string(), level))
                .collect(),
            runs: self.runs.into_boxed(),
            catalog_len,
        }
    }
}

/// Calls that were denied: evidence of permissions the identity lacks, never granted here.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingPermission {
    pub action: String,
    pub resource: String,
    pub denied_count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub workloads: Vec<String>,
}

/// Something the reader of a minimized policy must know.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Warning {
    /// Log files were skipped: usage in the window may be missing.
    IncompleteWindow { skipped: Vec<SkippedSource> },
    /// The logs do not cover the whole window.
    WindowNotCovered {
        window: (String, String),
        logs: (String, String),
    },
    /// Allowed usage the current policies do not allow.
    UsedButNotGranted { action: String, resource: String },
    /// Usage records outside the window, ignored (`rows` counts records).
    OutsideWindow { rows: usize },
    /// More documents than IAM attaches to a role by default.
    ManyPolicies { count: usize, quota: usize },
}

impl fmt::Display for Warning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::IncompleteWindow { skipped } => {
                write!(
                    formatter,
                    "INCOMPLETE WINDOW: {} log file(s) were skipped, so usage in the window may \
                     be missing and an action may look unused when it is not; re-ingest them \
                     before applying this policy:",
                    skipped.len()
                )?;
                for file in skipped {
                    write!(formatter, "\n  - `{}`: {}", file.source, file.reason)?;
                }
                Ok(())
            }
            Warning::WindowNotCovered { window, logs } => write!(
                formatter,
                "the ingested logs cover {}..{} but the window is {}..{}; usage outside the \
                 logs is unknown, so ingest the missing period or shorten `--since`",
                logs.0, logs.1, window.0, window.1
            ),
            Warning::UsedButNotGranted { action, resource } => write!(
                formatter,
                "`{action}` on `{resource}` was allowed in the window but the current policies \
                 do not allow it (changed policies, or a resource policy grants it); nothing \
                 was added for it"
            ),
            Warning::OutsideWindow { rows } => {
                write!(
                    formatter,
                    "{rows} usage row(s) lie outside the window and were ignored"
                )
            }
            Warning::ManyPolicies { count, quota } => write!(
                formatter,
                "the result needs {count} managed policies; IAM attaches at most {quota} to a \
                 role by default (raise the quota, or use fewer kept permissions)"
            ),
        }
    }
}

/// What the proof checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Proof {
    /// Allowed usage records replayed against the new policies.
    pub usage_rows_replayed: usize,
    /// (action, resource) pairs of new statements shown to be inside an original statement.
    pub pairs_subsumed: usize,
    /// Representative requests of new statements the evaluator allowed under the originals.
    pub representatives_checked: usize,
}

/// One output document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinimizedPolicy {
    pub name: String,
    pub document: PolicyDocument,
    /// Characters IAM counts against the quota (no whitespace).
    pub size: usize,
}

/// The proven result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minimized {
    pub policies: Vec<MinimizedPolicy>,
    /// One per action that was used, is kept, or has evidence of its own, sorted by action.
    pub decisions: Vec<ActionDecision>,
    /// The other granted actions: observable, not used, dropped; one group per set of
    /// granting statements, sorted by those statements.
    pub unused: Vec<UnusedActions>,
    pub missing_permissions: Vec<MissingPermission>,
    pub warnings: Vec<Warning>,
    pub window: ObservationWindow,
    pub proof: Proof,
}

/// Why minimization refused to produce a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MinimizeError {
    #[error("nothing to minimize: no identity policy was given; pass at least one `--policy`")]
    NoIdentityPolicy,
    #[error(
        "the window is empty: `since` ({since}) must be before `until` ({until}); check `--since` and `--now`"
    )]
    EmptyWindow { since: String, until: String },
    #[error("cannot read the coverage table: {0}")]
    CoverageTable(String),
    #[error(
        "statement for `{action}` alone is {size} characters, over the {limit}-character limit; it cannot be split further"
    )]
    StatementTooLarge {
        action: String,
        size: usize,
        limit: usize,
    },
    #[error(
        "the inline policies need {size} characters together, over the {limit}-character aggregate limit of a role; use managed policies (`--target managed`)"
    )]
    InlineAggregateTooLarge { size: usize, limit: usize },
    #[error(
        "invariant violated, no policy printed: used call `{action}` on `{resource}` was {expected} under the current policies but {found} under the minimized ones; please report this"
    )]
    DropsUsed {
        action: String,
        resource: String,
        expected: String,
        found: String,
    },
    #[error(
        "invariant violated, no policy printed: new statement `{sid}` allows `{action}` on `{resource}`, which {why}; please report this"
    )]
    Broadens {
        sid: String,
        action: String,
        resource: String,
        why: String,
    },
}

/// Where a kept permission's resources come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeptResources {
    /// Resources seen in usage, to be generalized.
    Used(BTreeSet<String>),
    /// The original statement's `Resource`/`NotResource` element, copied.
    Original,
}

/// Index of an original identity statement: (policy, statement), both 0-based.
pub(crate) type Origin = (usize, usize);

/// A kept (action, origin statement) with where its resources come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub action: String,
    pub origin: Origin,
    pub resources: KeptResources,
}

/// The original policies, compiled for the questions every step asks.
pub(crate) struct Originals<'a> {
    pub input: &'a MinimizeInput,
    /// The whole current set: identity + boundary + SCPs.
    pub full: CompiledPolicySet,
    /// Each identity `Allow` statement alone, for "which statement grants this?".
    pub statements: BTreeMap<Origin, CompiledPolicySet>,
    /// Only the `Allow` statements of the identity policies, for the broadening cross-check.
    pub allows_only: CompiledPolicySet,
    pub principal_account: String,
}

impl<'a> Originals<'a> {
    fn new(input: &'a MinimizeInput) -> Originals<'a> {
        let full = CompiledPolicySet::new(&policy_set(
            input,
            input
                .identity_policies
                .iter()
                .map(|policy| {
                    NamedPolicy::new(&policy.name, PolicyKind::Identity, &policy.document)
                })
                .collect(),
        ));
        let mut statements = BTreeMap::new();
        for (policy_index, policy) in input.identity_policies.iter().enumerate() {
            for (statement_index, statement) in policy.document.statements.iter().enumerate() {
                if statement.effect != Effect::Allow {
                    continue;
                }
                let single = PolicyDocument {
                    version: policy.document.version,
                    id: None,
                    statements: vec![statement.clone()],
                };
                let set = PolicySet {
                    identity: vec![NamedPolicy::new(
                        &policy.name,
                        PolicyKind::Identity,
                        &single,
                    )],
                    ..PolicySet::default()
                };
                statements.insert(
                    (policy_index, statement_index),
                    CompiledPolicySet::new(&set),
                );
            }
        }
        let allow_documents: Vec<PolicyDocument> = input
            .identity_policies
            .iter()
            .map(|policy| PolicyDocument {
                version: policy.document.version,
                id: None,
                statements: policy
                    .document
                    .statements
                    .iter()
                    .filter(|statement| statement.effect == Effect::Allow)
                    .cloned()
                    .collect(),
            })
            .collect();
        let allows_only = CompiledPolicySet::new(&PolicySet {
            identity: input
                .identity_policies
                .iter()
                .zip(&allow_documents)
                .map(|(policy, document)| {
                    NamedPolicy::new(&policy.name, PolicyKind::Identity, document)
                })
                .collect(),
            ..PolicySet::default()
        });
        let principal_account = account_of(&input.principal_arn);
        Originals {
            input,
            full,
            statements,
            allows_only,
            principal_account,
        }
    }

    /// A request by the identity with a partial context: condition keys are unknown, so a
    /// conditioned statement answers `Conditional` instead of guessing.
    pub fn request(&self, action: &str, resource: &str) -> Request {
        Request {
            principal_arn: self.input.principal_arn.clone(),
            principal_account: self.principal_account.clone(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: None,
            context: Context::partial(),
        }
    }

    pub fn statement(&self, origin: Origin) -> Option<(&'a PolicyInput, &'a Statement)> {
        let policy = self.input.identity_policies.get(origin.0)?;
        Some((policy, policy.document.statements.get(origin.1)?))
    }

    pub fn describe(&self, origin: Origin) -> StatementOrigin {
        match self.statement(origin) {
            Some((policy, statement)) => StatementOrigin {
                policy: policy.name.as_str().into(),
                statement: statement.number(),
                sid: statement.sid.as_deref().map(Into::into),
            },
            None => StatementOrigin {
                policy: "".into(),
                statement: origin.1 + 1,
                sid: None,
            },
        }
    }
}

/// The account id of an ARN (`arn:aws:iam::123456789012:role/x`), or empty.
fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

/// A policy set with the input's boundary and SCPs around the given identity policies.
pub(crate) fn policy_set<'p>(
    input: &'p MinimizeInput,
    identity: Vec<NamedPolicy<'p>>,
) -> PolicySet<'p> {
    PolicySet {
        identity,
        boundary: input.boundary.as_ref().map(|boundary| {
            NamedPolicy::new(
                &boundary.name,
                PolicyKind::PermissionsBoundary,
                &boundary.document,
            )
        }),
        scps: input
            .scps
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|scp| {
                        NamedPolicy::new(&scp.name, PolicyKind::ServiceControl, &scp.document)
                    })
                    .collect()
            })
            .collect(),
        resource: None,
        session: Vec::new(),
    }
}

/// Does an original statement's action element match `action`?
pub(crate) fn statement_matches_action(statement: &Statement, action: &str) -> bool {
    use crate::matching::{Case, glob_match};
    match &statement.action {
        ActionClause::Action(list) => list
            .iter()
            .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
        ActionClause::NotAction(list) => !list
            .iter()
            .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
    }
}

/// What the usage records say (step 2, first half): the decision of every action used or
/// refused, the resources used per (action, granting statement), the actions used on a
/// resource the log did not name, the permissions refused, and the requests the proof
/// replays. Records outside the window are counted in a warning.
struct UsageJudgment {
    decisions: BTreeMap<String, ActionDecision>,
    used: BTreeMap<(String, Origin), BTreeSet<String>>,
    unrecorded: BTreeSet<String>,
    missing: Vec<MissingPermission>,
    replay: Vec<(String, String, DecisionKind)>,
}

fn judge_usage(
    originals: &Originals<'_>,
    granted: &granted::Granted,
    catalog: &Catalog,
    index: &ActionIndex<'_>,
    warnings: &mut Vec<Warning>,
) -> UsageJudgment {
    let input = originals.input;
    let mut decisions: BTreeMap<String, ActionDecision> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut replay: Vec<(String, String, DecisionKind)> = Vec::new();
    let mut outside = 0usize;
    // The same order whatever the spelling of an action: lowercased once per record.
    let mut rows: Vec<(String, &UsageKey, &UsageRecord)> = input
        .usage
        .iter()
        .filter(|(key, _)| key.permission.provider == Provider::Aws)
        .map(|(key, record)| (key.permission.action.to_ascii_lowercase(), key, record))
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1.resource).cmp(&(&b.0, &b.1.resource)));
    // Used resources per (action, origin), and evidence per action.
    let mut used: BTreeMap<(String, Origin), BTreeSet<String>> = BTreeMap::new();
    let mut unrecorded: BTreeSet<String> = BTreeSet::new();
    for (_, key, record) in rows {
        if record.last_seen < input.window.since || record.first_seen >= input.window.until {
            outside += 1;
            continue;
        }
        let resource = &key.resource;
        let action = canonical_action(catalog, &key.permission.action);
        if record.denied_count > 0 {
            missing.push(MissingPermission {
                action: action.clone(),
                resource: resource.clone(),
                denied_count: record.denied_count,
                first_seen: record.first_seen,
                last_seen: record.last_seen,
                workloads: workload_labels(record),
            });
        }
        if record.count == 0 {
            continue;
        }
        let decision = decisions
            .entry(action.clone())
            .or_insert_with(|| new_decision(&action, catalog));
        let request = originals.request(&action, resource);
        let outcome = originals.full.evaluate(&request).outcome;
        let allowed_now = matches!(
            outcome,
            DecisionKind::Allowed | DecisionKind::Conditional { .. }
        );
        let resource_unnamed = resource == "*" && takes_resources(catalog, &action);
        if !allowed_now {
            if resource_unnamed && granted.origins_of(&action, catalog, index).is_some() {
                // The log did not name the resource: the call happened, so keep the action
                // where the policies grant it.
                unrecorded.insert(action.clone());
                add_used_evidence(decision, resource, record);
                continue;
            }
            warnings.push(Warning::UsedButNotGranted {
                action: action.clone(),
                resource: resource.clone(),
            });
            match decision
                .reasons
                .iter_mut()
                .find(|reason| matches!(reason, Reason::UsedButNotGranted { .. }))
            {
                Some(Reason::UsedButNotGranted { resources }) => {
                    resources.insert(resource.clone());
                }
                _ => decision.reasons.push(Reason::UsedButNotGranted {
                    resources: BTreeSet::from([resource.clone()]),
                }),
            }
            continue;
        }
        add_used_evidence(decision, resource, record);
        for origin in origins_for(originals, &request) {
            used.entry((action.clone(), origin))
                .or_default()
                .insert(resource.clone());
        }
        replay.push((action, resource.clone(), outcome));
    }
    if outside > 0 {
        warnings.push(Warning::OutsideWindow { rows: outside });
    }
    if outside > 0 {
        warnings.push(Warning::OutsideWindow { rows: outside });
    }
    UsageJudgment {
        decisions,
        used,
        unrecorded,
        missing,
        replay,
    }
}

/// What [`judge_granted`] reads.
struct GrantedJudge<'a, 'c> {
    originals: &'a Originals<'a>,
    granted: &'a granted::Granted,
    catalog: &'c Catalog,
    index: &'a ActionIndex<'c>,
    table: &'a CoverageTable,
    options: &'a MinimizeOptions,
    /// Actions used on a resource the log did not name: kept where granted.
    unrecorded: &'a BTreeSet<String>,
}

/// Every granted action (step 2, second half): an observable action without use or evidence
/// joins its statements' group of unused actions; any other gets its decision completed
/// (who grants it, whether the logs could show it) and is kept as granted when it cannot be
/// judged. Returns the unused groups, ordered by their granting statements.
fn judge_granted<'c>(
    judge: &GrantedJudge<'_, 'c>,
    decisions: &mut BTreeMap<String, ActionDecision>,
    kept: &mut Vec<Kept>,
) -> Vec<UnusedActions> {
    let GrantedJudge {
        originals,
        granted,
        catalog,
        index,
        table,
        options: _,
        unrecorded: _,
    } = *judge;
    let input = originals.input;
    let described: BTreeMap<Origin, StatementOrigin> = originals
        .statements
        .keys()
        .map(|&origin| (origin, originals.describe(origin)))
        .collect();
    // Who grants what, described once per set of granting statements.
    let mut granted_by: Vec<Option<Vec<StatementOrigin>>> = Vec::new();
    let mut describe_set = |set: u32| -> Vec<StatementOrigin> {
        let slot = set as usize;
        if granted_by.len() <= slot {
            granted_by.resize(slot + 1, None);
        }
        granted_by[slot]
            .get_or_insert_with(|| {
                granted
                    .origins(set)
                    .iter()
                    .map(|origin| {
                        described
                            .get(origin)
                            .cloned()
                            .unwrap_or_else(|| originals.describe(*origin))
                    })
                    .collect()
            })
            .clone()
    };
    let mut unused: BTreeMap<u32, UnusedBuilder<'_>> = BTreeMap::new();
    let mut observable = ObservableByPosition::new(table, &input.coverage, catalog, index);
    let mut decided: Vec<u32> = decisions
        .keys()
        .filter_map(|action| index.position(catalog.action(action)?))
        .collect();
    decided.sort_unstable();
    let granted_actions = granted
        .positions()
        .filter_map(|(position, set)| {
            let action = index.get(position)?;
            Some((action.name.as_str(), Some((position, action)), set))
        })
        .chain(granted.literals().map(|(name, set)| (name, None, set)));
    for (action, entry, set) in granted_actions {
        // Observable, not used, no evidence of its own: one of its statements' group.
        if let Some((position, entry)) = entry
            && decided.binary_search(&position).is_err()
            && observable.get(position, entry)
        {
            unused
                .entry(set)
                .or_insert_with(UnusedBuilder::new)
                .push(position, entry);
            continue;
        }
        let origins = granted.origins(set);
        let decision = decisions
            .entry(action.to_string())
            .or_insert_with(|| new_decision(action, catalog));
        decision.granted_by = describe_set(set);
        decide_granted(judge, action, origins, decision, kept);
    }
    let mut unused: Vec<(u32, UnusedBuilder<'_>)> = unused.into_iter().collect();
    unused.sort_by(|(a, _), (b, _)| granted.origins(*a).cmp(granted.origins(*b)));
    unused
        .into_iter()
        .map(|(set, builder)| builder.finish(describe_set(set), index.len()))
        .collect()
}

/// Completes the decision of one granted action that has use or evidence of its own, or that
/// the logs could not show: whether it is unobservable (not in the catalog, or not logged
/// under the coverage), and whether it is kept as granted (`origins` are its granting
/// statements) or reported unused.
fn decide_granted(
    judge: &GrantedJudge<'_, '_>,
    action: &str,
    origins: &[Origin],
    decision: &mut ActionDecision,
    kept: &mut Vec<Kept>,
) {
    let (catalog, table, options, unrecorded) =
        (judge.catalog, judge.table, judge.options, judge.unrecorded);
    let input = judge.originals.input;
    let observability = if decision.access_level.is_none() && catalog.action(action).is_none() {
        decision.reasons.push(Reason::NotInCatalog);
        Observability::Unobservable {
            reason: format!("`{action}` is not in the catalog, so its logging is unknown"),
        }
    } else {
        table.observability(action, decision.access_level, &input.coverage)
    };
    let was_used = decision
        .reasons
        .iter()
        .any(|reason| matches!(reason, Reason::Used(_)));
    let keep_original = match observability {
        Observability::Unobservable { reason } if !options.drop_unobservable => {
            if !decision.reasons.contains(&Reason::NotInCatalog) {
                decision.reasons.push(Reason::Unobservable { reason });
            }
            true
        }
        Observability::Unobservable { reason } => {
            if !was_used {
                decision
                    .reasons
                    .push(Reason::UnobservableDropped { reason });
            }
            false
        }
        Observability::Observable => false,
    };
    let keep_original = keep_original || unrecorded.contains(action);
    if unrecorded.contains(action) {
        decision.reasons.push(Reason::ResourceNotRecorded);
    }
    if keep_original {
        for &origin in origins {
            kept.push(Kept {
                action: action.to_string(),
                origin,
                resources: KeptResources::Original,
            });
        }
    } else if !was_used
        && !decision
            .reasons
            .iter()
            .any(|reason| matches!(reason, Reason::UnobservableDropped { .. }))
    {
        decision.reasons.push(Reason::Unused);
    }
}

/// Minimizes the identity's policies to what the usage and the coverage justify, and proves
/// the result before returning it.
pub fn minimize(
    input: &MinimizeInput,
    catalog: &Catalog,
    options: &MinimizeOptions,
) -> Result<Minimized, MinimizeError> {
    if input.identity_policies.is_empty() {
        return Err(MinimizeError::NoIdentityPolicy);
    }
    if input.window.since >= input.window.until {
        return Err(MinimizeError::EmptyWindow {
            since: input.window.since.to_rfc3339(),
            until: input.window.until.to_rfc3339(),
        });
    }
    let table =
        CoverageTable::aws().map_err(|error| MinimizeError::CoverageTable(error.to_string()))?;
    let originals = Originals::new(input);
    let mut warnings = coverage_warnings(input);
    let index = ActionIndex::new(catalog);

    // Step 1: what is granted at all.
    let granted = granted::granted_actions(&originals, catalog, &index);

    // Step 2: what to keep: the usage records, then every granted action.
    let UsageJudgment {
        mut decisions,
        used,
        unrecorded,
        mut missing,
        replay,
    } = judge_usage(&originals, &granted, catalog, &index, &mut warnings);
    let mut kept: Vec<Kept> = used
        .into_iter()
        .map(|((action, origin), resources)| Kept {
            action,
            origin,
            resources: KeptResources::Used(resources),
        })
        .collect();
    let unused = judge_granted(
        &GrantedJudge {
            originals: &originals,
            granted: &granted,
            catalog,
            index: &index,
            table,
            options,
            unrecorded: &unrecorded,
        },
        &mut decisions,
        &mut kept,
    );
    let kept_actions: BTreeSet<&str> = kept.iter().map(|kept| kept.action.as_str()).collect();
    for decision in decisions.values_mut() {
        decision.kept = kept_actions.contains(decision.action.as_str());
    }

    // Steps 3 to 6: resources, statements, denies, size.
    let statements = build::allow_statements(&originals, &kept, options.generalize_threshold);
    let denies = build::carried_denies(&originals, &kept_actions);
    let policies = build::pack(statements, denies, options)?;
    if options.size_target == SizeTarget::Managed && policies.len() > build::MANAGED_PER_ROLE {
        warnings.push(Warning::ManyPolicies {
            count: policies.len(),
            quota: build::MANAGED_PER_ROLE,
        });
    }

    // Step 7: prove before returning.
    let proof = prove::prove(&originals, &policies, &replay)?;

    missing.sort();
    warnings.sort();
    warnings.dedup();
    Ok(Minimized {
        policies,
        decisions: decisions
            .into_values()
            .map(|mut decision| {
                // Kept for the report's lifetime, once per granted action: no spare capacity.
                decision.reasons.shrink_to_fit();
                decision
            })
            .collect(),
        unused,
        missing_permissions: missing,
        warnings,
        window: input.window,
        proof,
    })
}

/// Whether the logs could have shown a catalog action, for every granted action of an
/// identity: an action without a row in the coverage table is a management event, so its
/// answer depends on its access level only and is asked of the table once per level.
struct ObservableByPosition<'t> {
    table: &'t CoverageTable,
    facts: &'t CoverageFacts,
    /// Positions of the actions the table lists, sorted.
    listed: Vec<u32>,
    by_level: [Option<bool>; AccessLevel::ALL.len()],
}

impl<'t> ObservableByPosition<'t> {
    fn new(
        table: &'t CoverageTable,
        facts: &'t CoverageFacts,
        catalog: &Catalog,
        index: &ActionIndex<'_>,
    ) -> Self {
        let mut listed: Vec<u32> = table
            .rows()
            .filter_map(|row| index.position(catalog.action(&row.action)?))
            .collect();
        listed.sort_unstable();
        ObservableByPosition {
            table,
            facts,
            listed,
            by_level: [None; AccessLevel::ALL.len()],
        }
    }

    fn get(&mut self, position: u32, action: &Action) -> bool {
        let ask = |table: &CoverageTable, facts| {
            table
                .observability(&action.name, Some(action.access_level), facts)
                .is_observable()
        };
        if self.listed.binary_search(&position).is_ok() {
            return ask(self.table, self.facts);
        }
        let Some(level) = AccessLevel::ALL
            .iter()
            .position(|level| *level == action.access_level)
        else {
            return ask(self.table, self.facts);
        };
        *self.by_level[level].get_or_insert_with(|| ask(self.table, self.facts))
    }
}

/// Warnings that follow from the coverage facts alone.
fn coverage_warnings(input: &MinimizeInput) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let facts = &input.coverage;
    if !facts.skipped_files.is_empty() {
        let mut skipped = facts.skipped_files.clone();
        skipped.sort();
        warnings.push(Warning::IncompleteWindow { skipped });
    }
    if facts.since > input.window.since || facts.until < input.window.until {
        warnings.push(Warning::WindowNotCovered {
            window: (
                input.window.since.to_rfc3339(),
                input.window.until.to_rfc3339(),
            ),
            logs: (facts.since.to_rfc3339(), facts.until.to_rfc3339()),
        });
    }
    warnings
}

/// The catalog's spelling of an action, or the text as given when the catalog lacks it.
fn canonical_action(catalog: &Catalog, action: &str) -> String {
    catalog
        .action(action)
        .map_or_else(|| action.to_string(), |known| known.name.clone())
}

/// Does the action accept specific resources (has resource types in the catalog)? Unknown
/// actions are assumed to, which only makes the caller more careful.
pub(crate) fn takes_resources(catalog: &Catalog, action: &str) -> bool {
    catalog
        .action(action)
        .is_none_or(|known| !known.resource_types.is_empty())
}

fn new_decision(action: &str, catalog: &Catalog) -> ActionDecision {
    ActionDecision {
        action: action.to_string(),
        access_level: catalog.action(action).map(|known| known.access_level),
        kept: false,
        reasons: Vec::new(),
        granted_by: Vec::new(),
    }
}

/// The record's workloads as [`workload_label`] names them, sorted, without repeats.
fn workload_labels(record: &UsageRecord) -> Vec<String> {
    let mut labels: Vec<String> = record.workloads.iter().map(workload_label).collect();
    labels.sort();
    labels.dedup();
    labels
}

fn add_used_evidence(decision: &mut ActionDecision, resource: &str, record: &UsageRecord) {
    let position = decision
        .reasons
        .iter()
        .position(|reason| matches!(reason, Reason::Used(_)));
    let position = position.unwrap_or_else(|| {
        decision.reasons.insert(
            0,
            Reason::Used(Box::new(UsedEvidence {
                allowed_count: 0,
                first_seen: record.first_seen,
                last_seen: record.last_seen,
                workloads: BTreeSet::new(),
                sources: BTreeSet::new(),
                resources: BTreeSet::new(),
            })),
        );
        0
    });
    if let Some(Reason::Used(evidence)) = decision.reasons.get_mut(position) {
        evidence.allowed_count += record.count;
        evidence.first_seen = evidence.first_seen.min(record.first_seen);
        evidence.last_seen = evidence.last_seen.max(record.last_seen);
        evidence
            .workloads
            .extend(record.workloads.iter().map(workload_label));
        evidence.sources.extend(record.sources.iter().cloned());
        if !evidence.resources.contains(resource) {
            evidence.resources.insert(resource.to_owned());
        }
    }
}

/// The original identity statements that allow a used request. An unconditioned one is
/// enough on its own (the first is taken); otherwise every conditioned one is kept, because
/// the logs do not say which condition the call met.
fn origins_for(originals: &Originals<'_>, request: &Request) -> Vec<Origin> {
    let mut unconditioned = None;
    let mut conditioned = Vec::new();
    for (&origin, set) in &originals.statements {
        match set.evaluate(request).outcome {
            DecisionKind::Allowed => {
                unconditioned.get_or_insert(origin);
            }
            DecisionKind::Conditional { .. } => conditioned.push(origin),
            DecisionKind::ExplicitDeny | DecisionKind::ImplicitDeny => {}
        }
    }
    match unconditioned {
        Some(origin) => vec![origin],
        None => conditioned,
    }
}

/// Does the original document of `origin` substitute policy variables?
pub(crate) fn variables_enabled(originals: &Originals<'_>, origin: Origin) -> bool {
    originals
        .input
        .identity_policies
        .get(origin.0)
        .is_some_and(|policy| policy.document.version == Some(PolicyVersion::V2012_10_17))
}
