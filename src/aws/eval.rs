//! AWS policy evaluation: a pure function from a request and the policies that apply to it
//! to a decision with its reasons.
//!
//! The logic follows AWS's documented evaluation order:
//!
//! 1. An explicit `Deny` that applies in any policy (identity, permissions boundary, any SCP
//!    level, session, or a resource policy statement naming the principal) decides.
//! 2. Every SCP level (root → OU → account) must allow; SCPs limit every grant, including a
//!    resource policy's.
//! 3. Within one account, identity policies and the resource policy are a union, but the
//!    permissions boundary and session policies cap what they grant, with one documented
//!    exception: a resource policy that names the *session* ARN (or the IAM user ARN) grants
//!    directly and is not limited by an implicit deny in the boundary or the session
//!    policies, while one that names the *role* ARN is limited by them. A resource policy
//!    that names the account (`123456789012` or `arn:aws:iam::123456789012:root`) delegates
//!    to the account's identity policies and grants nothing by itself. A `"*"` principal
//!    names the session itself, so it is treated as a direct grant: this can only
//!    over-state access, never hide it.
//! 4. Across accounts (`resource_account` differs from `principal_account`) the identity side
//!    (identity ∩ boundary ∩ session ∩ SCP) and the resource policy must both allow.
//! 5. Role trust policies and KMS key policies "must explicitly allow access for principals",
//!    even within one account ([`RequiredResourcePolicy`]): there an identity policy grants
//!    only if the resource policy allows the account (which delegates to IAM), and a grant
//!    naming the principal works as in 3. When no resource policy is given for such a
//!    request, the identity side decides, which is what a resource policy delegating to the
//!    account gives (KMS's default key policy); callers that know the resource policy pass
//!    it ([`CompiledPolicySet::evaluate_with_resource_policy`]), and those that assume the
//!    default say so.
//!
//! Sources: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>,
//! the same-account and cross-account pages beside it
//! (`reference_policies_evaluation-logic_policies_resource.html`,
//! `reference_policies_evaluation-logic-cross-account.html`) and
//! <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>.
//!
//! `NotPrincipal` with `Deny` applies to every principal that has a permissions boundary,
//! whatever it lists (documented IAM behaviour). Policies are compiled once
//! ([`CompiledPolicySet`]): action patterns are case-folded, resource patterns and condition
//! values pre-parsed, so deciding a request does no parsing and, on the common path, no
//! heap allocation.

use super::arn::Arn;
use super::condition::CompiledCondition;
use super::context::{Context, KeyState};
use super::pattern::Pattern;
use super::policy::{
    ActionClause, PolicyDocument, Principal, PrincipalClause, ResourceClause, Statement,
};
use super::truth::Truth;
use super::variables::{Resolution, Template, pieces_to_tokens};
use crate::matching::Case;
use crate::model::Effect;
use std::fmt;
use std::sync::Arc;

/// The role a policy plays in evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Attached to the user or role (inline or managed, including group policies).
    Identity,
    /// The permissions boundary of the user or role.
    PermissionsBoundary,
    /// An AWS Organizations service control policy.
    ServiceControl,
    /// Attached to the resource (bucket policy, key policy, trust policy…).
    Resource,
    /// Passed when the session was created (`AssumeRole` `Policy`/`PolicyArns`).
    Session,
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            PolicyKind::Identity => "identity",
            PolicyKind::PermissionsBoundary => "permissions boundary",
            PolicyKind::ServiceControl => "service control policy",
            PolicyKind::Resource => "resource",
            PolicyKind::Session => "session",
        })
    }
}

/// A resource whose own policy must allow the principal, even within one account: the two
/// documented exceptions to "an allow in the identity policy or the resource policy
/// suffices" ("IAM role trust policies and KMS key policies are exceptions to this logic,
/// because they must explicitly allow access for principals",
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html>).
/// No other resource policy the evaluator is given behaves so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequiredResourcePolicy {
    /// The key policy of a KMS key: "Unless the key policy explicitly allows it, you cannot
    /// use IAM policies to allow access to a KMS key"
    /// (<https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html>).
    KmsKeyPolicy,
    /// The trust policy of an IAM role, for the `sts:` actions on the role (`AssumeRole`,
    /// `AssumeRoleWithWebIdentity`, `AssumeRoleWithSAML`, `TagSession`,
    /// `SetSourceIdentity`, `SetContext`).
    RoleTrustPolicy,
}

impl RequiredResourcePolicy {
    /// The resource policy that must allow `action` on `resource`, if it is one of the two:
    /// a `kms:` action on a key ARN (`arn:…:kms:…:key/…`), or an `sts:` action on a role ARN
    /// (`arn:…:iam::…:role/…`).
    pub fn of(action: &str, resource: &str) -> Option<RequiredResourcePolicy> {
        let (service, _) = action.split_once(':')?;
        let arn = Arn::parse(resource)?;
        if service.eq_ignore_ascii_case("kms")
            && arn.service == "kms"
            && arn.resource.starts_with("key/")
        {
            return Some(RequiredResourcePolicy::KmsKeyPolicy);
        }
        if service.eq_ignore_ascii_case("sts") && arn.role_name().is_some() {
            return Some(RequiredResourcePolicy::RoleTrustPolicy);
        }
        None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequiredResourcePolicy::KmsKeyPolicy => "key policy",
            RequiredResourcePolicy::RoleTrustPolicy => "trust policy",
        }
    }
}

/// A policy document with the name it is reported under.
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub kind: PolicyKind,
    pub document: &'a PolicyDocument,
}

impl<'a> NamedPolicy<'a> {
    pub fn new(name: &'a str, kind: PolicyKind, document: &'a PolicyDocument) -> Self {
        NamedPolicy {
            name,
            kind,
            document,
        }
    }
}

/// Every policy that applies to one principal's requests.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    pub identity: Vec<NamedPolicy<'a>>,
    pub boundary: Option<NamedPolicy<'a>>,
    /// One entry per organization level, root first; each level must allow. A level with
    /// no policies allows nothing. An empty list means "no organization".
    pub scps: Vec<Vec<NamedPolicy<'a>>>,
    pub resource: Option<NamedPolicy<'a>>,
    /// Empty when the session was created without session policies.
    pub session: Vec<NamedPolicy<'a>>,
}

/// One request to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The IAM user ARN, role ARN, or assumed-role session ARN making the call.
    pub principal_arn: String,
    pub principal_account: String,
    /// `service:Action`, matched case-insensitively.
    pub action: String,
    /// The resource ARN (or `*` for actions without a resource).
    pub resource: String,
    /// The account owning the resource; `None` means the principal's account.
    pub resource_account: Option<String>,
    pub context: Context,
}

/// A statement that contributed to a decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatementRef {
    pub policy: String,
    pub kind: PolicyKind,
    /// 1-based statement number.
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
}

/// What an evaluation decided, with the detail an explanation needs. Not the `model::Outcome`
/// of an observed call: this is a policy decision (IAM User Guide, "Policy evaluation logic",
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionKind {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
    /// With a partial context: the decision depends on these absent condition keys.
    Conditional {
        missing_keys: Vec<String>,
    },
}

/// The outcome without detail, for hot loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
    Conditional,
}

/// Whether one layer allows the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerResult {
    Allows,
    DoesNotAllow,
    Unknown,
}

impl From<&Truth<'_>> for LayerResult {
    fn from(truth: &Truth<'_>) -> Self {
        match truth {
            Truth::True => LayerResult::Allows,
            Truth::False => LayerResult::DoesNotAllow,
            Truth::Unknown(_) => LayerResult::Unknown,
        }
    }
}

/// What each layer said, to explain an implicit deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    /// Whether some `Deny` statement applies.
    pub explicit_deny: LayerResult,
    pub identity: LayerResult,
    pub boundary: Option<LayerResult>,
    pub service_control: Vec<LayerResult>,
    pub session: Option<LayerResult>,
    /// Whether the resource policy allows this principal (by any principal form).
    pub resource: Option<LayerResult>,
    pub cross_account: bool,
    /// Set when the request's resource policy must allow the principal itself (a key policy,
    /// a trust policy), whether or not one was given.
    pub resource_policy_required: Option<RequiredResourcePolicy>,
}

/// A decision with the statements that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: DecisionKind,
    /// For `Allowed`: the allow statements that apply; for `ExplicitDeny`: the deny
    /// statements that apply; for `Conditional`: the statements whose conditions are
    /// unknown; for `ImplicitDeny`: empty (see `layers`).
    pub reasons: Vec<StatementRef>,
    pub layers: LayerSummary,
}

impl Decision {
    pub fn verdict(&self) -> Verdict {
        match self.outcome {
            DecisionKind::Allowed => Verdict::Allowed,
            DecisionKind::ExplicitDeny => Verdict::ExplicitDeny,
            DecisionKind::ImplicitDeny => Verdict::ImplicitDeny,
            DecisionKind::Conditional { .. } => Verdict::Conditional,
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.outcome == DecisionKind::Allowed
    }
}

/// One `Resource`/`NotResource` entry: a fixed pattern or one with policy variables.
#[derive(Debug, Clone, PartialEq)]
enum ResourceEntry {
    Fixed(Pattern),
    Variable(Template),
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledPrincipal {
    negated: bool,
    everyone: bool,
    aws: Vec<Box<str>>,
    /// `Federated`, `Service` and `CanonicalUser` identifiers, compared exactly.
    others: Vec<Box<str>>,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledStatement {
    number: usize,
    sid: Option<Box<str>>,
    effect: Effect,
    not_action: bool,
    actions: Vec<Pattern>,
    /// Hashes of the literal service prefixes of `actions`, for quick rejection; `None`
    /// when some pattern's service part has a wildcard (or for `NotAction`).
    services: Option<Box<[u64]>>,
    not_resource: bool,
    /// `None`: no `Resource` element, which applies to the resource the policy is on.
    resources: Option<Vec<ResourceEntry>>,
    principal: Option<CompiledPrincipal>,
    conditions: Vec<CompiledCondition>,
}

/// A policy compiled for fast evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPolicy {
    name: Box<str>,
    kind: PolicyKind,
    statements: Vec<CompiledStatement>,
}

impl CompiledPolicy {
    pub fn new(name: &str, kind: PolicyKind, document: &PolicyDocument) -> CompiledPolicy {
        let variables = document.variables_enabled();
        let statements = document
            .statements
            .iter()
            .map(|statement| compile_statement(statement, variables))
            .collect();
        CompiledPolicy {
            name: name.into(),
            kind,
            statements,
        }
    }

    /// A policy without statements: it allows and denies nothing. Stands for a resource
    /// policy that must allow but does not exist (a role's trust policy that was not given).
    pub fn empty(name: &str, kind: PolicyKind) -> CompiledPolicy {
        CompiledPolicy {
            name: name.into(),
            kind,
            statements: Vec::new(),
        }
    }

    pub fn from_named(policy: &NamedPolicy<'_>) -> CompiledPolicy {
        CompiledPolicy::new(policy.name, policy.kind, policy.document)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }
}

fn compile_statement(statement: &Statement, variables: bool) -> CompiledStatement {
    let (not_action, action_texts) = match &statement.action {
        ActionClause::Action(list) => (false, list),
        ActionClause::NotAction(list) => (true, list),
    };
    let actions = action_texts
        .iter()
        .map(|action| Pattern::new(action, Case::Insensitive))
        .collect();
    let services = if not_action {
        None
    } else {
        action_texts
            .iter()
            .map(|action| {
                let (service, _) = action.split_once(':')?;
                (!service.contains(['*', '?'])).then(|| service_hash(service))
            })
            .collect::<Option<Box<[u64]>>>()
    };
    let (not_resource, resources) = match &statement.resource {
        None => (false, None),
        Some(ResourceClause::Resource(list)) => (false, Some(compile_resources(list, variables))),
        Some(ResourceClause::NotResource(list)) => (true, Some(compile_resources(list, variables))),
    };
    let principal = statement.principal.as_ref().map(|clause| {
        let (negated, principal) = match clause {
            PrincipalClause::Principal(principal) => (false, principal),
            PrincipalClause::NotPrincipal(principal) => (true, principal),
        };
        match principal {
            Principal::Everyone => CompiledPrincipal {
                negated,
                everyone: true,
                aws: Vec::new(),
                others: Vec::new(),
            },
            Principal::Listed(map) => CompiledPrincipal {
                negated,
                everyone: map.aws.iter().any(|entry| entry == "*"),
                aws: map.aws.iter().map(|entry| entry.as_str().into()).collect(),
                others: map
                    .federated
                    .iter()
                    .chain(&map.service)
                    .chain(&map.canonical_user)
                    .map(|entry| entry.as_str().into())
                    .collect(),
            },
        }
    });
    let conditions = statement
        .conditions
        .iter()
        .map(|condition| {
            CompiledCondition::new(
                condition.operator,
                &condition.key,
                &condition.values,
                variables,
            )
        })
        .collect();
    CompiledStatement {
        number: statement.number(),
        sid: statement.sid.as_deref().map(Into::into),
        effect: statement.effect,
        not_action,
        actions,
        services,
        not_resource,
        resources,
        principal,
        conditions,
    }
}

fn compile_resources(list: &[String], variables: bool) -> Vec<ResourceEntry> {
    list.iter()
        .map(|text| {
            let template = Template::parse(text, variables);
            match template.as_plain_text() {
                Some(plain) => ResourceEntry::Fixed(Pattern::new(plain, Case::Sensitive)),
                None if !template.has_variables() => match template.resolve(&Context::complete()) {
                    Resolution::Resolved(pieces) => ResourceEntry::Fixed(Pattern::from_tokens(
                        pieces_to_tokens(&pieces, Case::Sensitive),
                        Case::Sensitive,
                    )),
                    Resolution::Missing(_) => ResourceEntry::Variable(template),
                },
                None => ResourceEntry::Variable(template),
            }
        })
        .collect()
}

/// FNV-1a over the ASCII-lowercased service prefix of an action (`s3` in `s3:GetObject`).
/// Actions match case-insensitively, so equal services hash equally whatever their case.
fn service_hash(service: &str) -> u64 {
    service.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How a resource policy statement names the requesting principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    None,
    /// By account: delegates to the account's identity policies.
    Account,
    /// By role ARN: limited by the boundary and session policies.
    Role,
    /// By session ARN, user ARN, or `*`: a direct grant.
    Direct,
}

/// The request's principal, parsed once per request when a resource policy needs it.
struct RequestPrincipal<'r> {
    arn: &'r str,
    account: &'r str,
    parsed: Option<Arn<'r>>,
}

impl RequestPrincipal<'_> {
    fn match_entry(&self, entry: &str) -> PrincipalMatch {
        if entry == self.arn {
            // Naming the role itself (not a session of it) is the role-ARN case.
            let is_role = self
                .parsed
                .as_ref()
                .is_some_and(|arn| arn.role_name().is_some());
            return if is_role {
                PrincipalMatch::Role
            } else {
                PrincipalMatch::Direct
            };
        }
        if !entry.is_empty() && entry.bytes().all(|byte| byte.is_ascii_digit()) {
            return if entry == self.account {
                PrincipalMatch::Account
            } else {
                PrincipalMatch::None
            };
        }
        let Some(named) = Arn::parse(entry) else {
            return PrincipalMatch::None;
        };
        if named.account != self.account {
            return PrincipalMatch::None;
        }
        if named.service == "iam" && named.resource == "root" {
            return PrincipalMatch::Account;
        }
        // A session ARN has no role path, so a role is recognised by account and name,
        // which are unique together.
        let session_role = self.parsed.as_ref().and_then(Arn::assumed_role_name);
        match (named.role_name(), session_role) {
            (Some(role), Some(session_role)) if role == session_role => PrincipalMatch::Role,
            _ => PrincipalMatch::None,
        }
    }

    fn match_principal(&self, principal: &CompiledPrincipal) -> PrincipalMatch {
        if principal.everyone {
            return PrincipalMatch::Direct;
        }
        let from_aws = principal
            .aws
            .iter()
            .map(|entry| self.match_entry(entry))
            .max()
            .unwrap_or(PrincipalMatch::None);
        let from_others = principal.others.iter().any(|entry| **entry == *self.arn);
        if from_others {
            PrincipalMatch::Direct
        } else {
            from_aws
        }
    }
}

/// Everything a statement is matched against, borrowed from the request.
struct Subject<'r> {
    action: &'r str,
    /// `service_hash` of the action's service prefix.
    action_service: u64,
    resource: &'r str,
    context: &'r Context,
    principal: RequestPrincipal<'r>,
    has_boundary: bool,
}

impl CompiledStatement {
    /// Does the statement apply to the request, ignoring `Principal`?
    fn applies<'p>(&'p self, subject: &Subject<'_>) -> Truth<'p> {
        if let Some(services) = &self.services
            && !services.contains(&subject.action_service)
        {
            return Truth::False;
        }
        let action_listed = self
            .actions
            .iter()
            .any(|pattern| pattern.matches(subject.action));
        if action_listed == self.not_action {
            return Truth::False;
        }
        let resource = self.resource_applies(subject);
        if resource.is_false() {
            return resource;
        }
        let mut truth = resource;
        for condition in &self.conditions {
            truth = truth.and(condition.evaluate(subject.context));
            if truth.is_false() {
                return truth;
            }
        }
        truth
    }

    fn resource_applies<'p>(&'p self, subject: &Subject<'_>) -> Truth<'p> {
        let Some(entries) = &self.resources else {
            return Truth::True;
        };
        let mut listed = Truth::False;
        for entry in entries {
            let entry_matches = match entry {
                ResourceEntry::Fixed(pattern) => Truth::from(pattern.matches(subject.resource)),
                ResourceEntry::Variable(template) => match template.resolve(subject.context) {
                    Resolution::Resolved(pieces) => {
                        let pattern = Pattern::from_tokens(
                            pieces_to_tokens(&pieces, Case::Sensitive),
                            Case::Sensitive,
                        );
                        Truth::from(pattern.matches(subject.resource))
                    }
                    // A variable without a value (absent, or a multivalued key): "the
                    // resource that includes a policy variable with no value will not match
                    // any resource", in `Resource` and `NotResource` alike
                    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value).
                    Resolution::Missing(key) => match subject.context.variable(key) {
                        KeyState::Unknown => Truth::unknown(key),
                        KeyState::Absent | KeyState::Present(_) => Truth::False,
                    },
                },
            };
            listed = listed.or(entry_matches);
            if listed.is_true() {
                break;
            }
        }
        if self.not_resource {
            listed.negate()
        } else {
            listed
        }
    }

    /// How a resource policy statement applies to the principal.
    fn principal_applies(&self, subject: &Subject<'_>) -> PrincipalMatch {
        let Some(principal) = &self.principal else {
            // A resource policy statement without a principal names nobody.
            return PrincipalMatch::None;
        };
        let found = subject.principal.match_principal(principal);
        if !principal.negated {
            return found;
        }
        if self.effect == Effect::Deny && subject.has_boundary {
            return PrincipalMatch::Direct;
        }
        if found == PrincipalMatch::None {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::None
        }
    }
}

/// Receives the statements that apply (or may apply) while a request is evaluated.
trait Recorder<'p> {
    fn record(
        &mut self,
        policy: &'p CompiledPolicy,
        statement: &'p CompiledStatement,
        truth: &Truth<'p>,
    );
}

/// Records nothing: the allocation-free path used by [`CompiledPolicySet::decide`].
struct NoRecorder;

impl<'p> Recorder<'p> for NoRecorder {
    fn record(&mut self, _: &'p CompiledPolicy, _: &'p CompiledStatement, _: &Truth<'p>) {}
}

/// Keeps statements that apply (true) or might (unknown), for explanations.
#[derive(Default)]
struct Hits<'p> {
    hits: Vec<(&'p CompiledPolicy, &'p CompiledStatement, bool)>,
}

impl<'p> Recorder<'p> for Hits<'p> {
    fn record(
        &mut self,
        policy: &'p CompiledPolicy,
        statement: &'p CompiledStatement,
        truth: &Truth<'p>,
    ) {
        match truth {
            Truth::True => self.hits.push((policy, statement, true)),
            Truth::Unknown(_) => self.hits.push((policy, statement, false)),
            Truth::False => {}
        }
    }
}

/// `(deny, allow)` of one identity-side policy.
fn evaluate_policy<'p, R: Recorder<'p>>(
    policy: &'p CompiledPolicy,
    subject: &Subject<'_>,
    recorder: &mut R,
) -> (Truth<'p>, Truth<'p>) {
    let (mut deny, mut allow) = (Truth::False, Truth::False);
    for statement in &policy.statements {
        let truth = statement.applies(subject);
        if truth.is_false() {
            continue;
        }
        recorder.record(policy, statement, &truth);
        match statement.effect {
            Effect::Deny => deny = deny.or(truth),
            Effect::Allow => allow = allow.or(truth),
        }
    }
    (deny, allow)
}

/// What the resource policy says, split by how it names the principal.
struct ResourceVerdict<'p> {
    deny: Truth<'p>,
    direct: Truth<'p>,
    role: Truth<'p>,
    account: Truth<'p>,
}

fn evaluate_resource_policy<'p, R: Recorder<'p>>(
    policy: &'p CompiledPolicy,
    subject: &Subject<'_>,
    recorder: &mut R,
) -> ResourceVerdict<'p> {
    let mut verdict = ResourceVerdict {
        deny: Truth::False,
        direct: Truth::False,
        role: Truth::False,
        account: Truth::False,
    };
    for statement in &policy.statements {
        let named = statement.principal_applies(subject);
        if named == PrincipalMatch::None {
            continue;
        }
        let truth = statement.applies(subject);
        if truth.is_false() {
            continue;
        }
        recorder.record(policy, statement, &truth);
        let slot = match (statement.effect, named) {
            (Effect::Deny, _) => &mut verdict.deny,
            (Effect::Allow, PrincipalMatch::Direct) => &mut verdict.direct,
            (Effect::Allow, PrincipalMatch::Role) => &mut verdict.role,
            (Effect::Allow, _) => &mut verdict.account,
        };
        *slot = std::mem::replace(slot, Truth::False).or(truth);
    }
    verdict
}

/// The policies of one principal, compiled. Policies are reference-counted so that the same
/// compiled SCPs or boundary can be shared by many principals' sets.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicySet {
    pub identity: Vec<Arc<CompiledPolicy>>,
    pub boundary: Option<Arc<CompiledPolicy>>,
    pub scps: Vec<Vec<Arc<CompiledPolicy>>>,
    pub resource: Option<Arc<CompiledPolicy>>,
    pub session: Vec<Arc<CompiledPolicy>>,
}

/// Everything the combination step needs, with the keys unknown results depend on.
struct Evaluation<'p> {
    deny: Truth<'p>,
    allow: Truth<'p>,
    identity: Truth<'p>,
    boundary: Option<Truth<'p>>,
    scps: Vec<Truth<'p>>,
    session: Option<Truth<'p>>,
    resource: Option<Truth<'p>>,
    cross_account: bool,
    required: Option<RequiredResourcePolicy>,
}

impl CompiledPolicySet {
    pub fn new(policies: &PolicySet<'_>) -> CompiledPolicySet {
        let compile = |policy: &NamedPolicy<'_>| Arc::new(CompiledPolicy::from_named(policy));
        CompiledPolicySet {
            identity: policies.identity.iter().map(compile).collect(),
            boundary: policies.boundary.as_ref().map(compile),
            scps: policies
                .scps
                .iter()
                .map(|level| level.iter().map(compile).collect())
                .collect(),
            resource: policies.resource.as_ref().map(compile),
            session: policies.session.iter().map(compile).collect(),
        }
    }

    /// Decides a request without explanation; allocation-free unless the context is
    /// partial and something is unknown.
    pub fn decide(&self, request: &Request) -> Verdict {
        self.decide_against(request, self.resource.as_deref())
    }

    /// [`CompiledPolicySet::decide`] with `resource_policy` as the resource policy instead of
    /// the set's own: for asking about many resources (roles and their trust policies) with
    /// one compiled identity side.
    pub fn decide_with_resource_policy(
        &self,
        request: &Request,
        resource_policy: &CompiledPolicy,
    ) -> Verdict {
        self.decide_against(request, Some(resource_policy))
    }

    /// [`CompiledPolicySet::evaluate`] with `resource_policy` as the resource policy instead
    /// of the set's own.
    pub fn evaluate_with_resource_policy(
        &self,
        request: &Request,
        resource_policy: &CompiledPolicy,
    ) -> Decision {
        self.evaluate_against(request, Some(resource_policy))
    }

    fn decide_against(&self, request: &Request, resource: Option<&CompiledPolicy>) -> Verdict {
        let evaluation = self.run(request, resource, &mut NoRecorder, false);
        match combine(&evaluation.deny, &evaluation.allow) {
            Combined::Allowed => Verdict::Allowed,
            Combined::ExplicitDeny => Verdict::ExplicitDeny,
            Combined::ImplicitDeny => Verdict::ImplicitDeny,
            Combined::Conditional => Verdict::Conditional,
        }
    }

    /// Decides a request and explains the decision.
    pub fn evaluate(&self, request: &Request) -> Decision {
        self.evaluate_against(request, self.resource.as_deref())
    }

    fn evaluate_against(&self, request: &Request, resource: Option<&CompiledPolicy>) -> Decision {
        let mut hits = Hits::default();
        let evaluation = self.run(request, resource, &mut hits, true);
        let combined = combine(&evaluation.deny, &evaluation.allow);
        let outcome = match combined {
            Combined::Allowed => DecisionKind::Allowed,
            Combined::ExplicitDeny => DecisionKind::ExplicitDeny,
            Combined::ImplicitDeny => DecisionKind::ImplicitDeny,
            Combined::Conditional => {
                let mut missing_keys: Vec<String> = evaluation
                    .deny
                    .keys()
                    .iter()
                    .chain(evaluation.allow.keys())
                    .map(|key| key.to_string())
                    .collect();
                missing_keys.sort_by_key(|key| key.to_ascii_lowercase());
                missing_keys.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
                DecisionKind::Conditional { missing_keys }
            }
        };
        let keep = |statement: &CompiledStatement, definite: bool| match combined {
            Combined::Allowed => definite && statement.effect == Effect::Allow,
            Combined::ExplicitDeny => definite && statement.effect == Effect::Deny,
            Combined::Conditional => !definite,
            Combined::ImplicitDeny => false,
        };
        let mut reasons: Vec<StatementRef> = hits
            .hits
            .iter()
            .filter(|(_, statement, definite)| keep(statement, *definite))
            .map(|(policy, statement, _)| StatementRef {
                policy: policy.name.to_string(),
                kind: policy.kind,
                statement: statement.number,
                sid: statement.sid.as_deref().map(str::to_owned),
                effect: statement.effect,
            })
            .collect();
        reasons.dedup();
        let layers = LayerSummary {
            explicit_deny: LayerResult::from(&evaluation.deny),
            identity: LayerResult::from(&evaluation.identity),
            boundary: evaluation.boundary.as_ref().map(LayerResult::from),
            service_control: evaluation.scps.iter().map(LayerResult::from).collect(),
            session: evaluation.session.as_ref().map(LayerResult::from),
            resource: evaluation.resource.as_ref().map(LayerResult::from),
            cross_account: evaluation.cross_account,
            resource_policy_required: evaluation.required,
        };
        Decision {
            outcome,
            reasons,
            layers,
        }
    }

    /// Decides `request` in the order of AWS's evaluation logic
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
    /// the principal-side layers, then the resource policy, then how they combine.
    fn run<'p, R: Recorder<'p>>(
        &'p self,
        request: &Request,
        resource_policy: Option<&'p CompiledPolicy>,
        recorder: &mut R,
        keep_layers: bool,
    ) -> Evaluation<'p> {
        let subject = Self::subject(request, self.boundary.is_some());
        let mut layers = self.principal_layers(&subject, recorder, keep_layers);
        let resource =
            resource_policy.map(|policy| evaluate_resource_policy(policy, &subject, recorder));
        let required = if resource_policy.is_some() || keep_layers {
            RequiredResourcePolicy::of(&request.action, &request.resource)
        } else {
            None
        };
        let cross_account = request
            .resource_account
            .as_deref()
            .is_some_and(|account| account != request.principal_account);
        let (allow, resource_summary) =
            layers.combine(resource, required.is_some(), cross_account, keep_layers);
        Evaluation {
            deny: layers.deny,
            allow,
            identity: layers.identity,
            boundary: layers.boundary,
            scps: layers.scp_levels,
            session: layers.session,
            resource: resource_summary,
            cross_account,
            required,
        }
    }

    /// The request as the statements match it.
    fn subject(request: &Request, has_boundary: bool) -> Subject<'_> {
        let service = request
            .action
            .split_once(':')
            .map_or(request.action.as_str(), |(service, _)| service);
        Subject {
            action: &request.action,
            action_service: service_hash(service),
            resource: &request.resource,
            context: &request.context,
            principal: RequestPrincipal {
                arn: &request.principal_arn,
                account: &request.principal_account,
                parsed: Arn::parse(&request.principal_arn),
            },
            has_boundary,
        }
    }

    /// The identity policies, the permission boundary, each SCP level and the session
    /// policies, with every explicit deny among them.
    fn principal_layers<'p, R: Recorder<'p>>(
        &'p self,
        subject: &Subject<'_>,
        recorder: &mut R,
        keep_layers: bool,
    ) -> PrincipalLayers<'p> {
        let mut deny = Truth::False;
        let mut identity = Truth::False;
        for policy in &self.identity {
            let (policy_deny, policy_allow) = evaluate_policy(policy, subject, recorder);
            deny = deny.or(policy_deny);
            identity = identity.or(policy_allow);
        }

        let boundary = self.boundary.as_ref().map(|policy| {
            let (policy_deny, policy_allow) = evaluate_policy(policy, subject, recorder);
            deny = std::mem::replace(&mut deny, Truth::False).or(policy_deny);
            policy_allow
        });

        let mut scp_levels = Vec::new();
        let mut scp_allow = Truth::True;
        for level in &self.scps {
            let mut level_allow = Truth::False;
            for policy in level {
                let (policy_deny, policy_allow) = evaluate_policy(policy, subject, recorder);
                deny = deny.or(policy_deny);
                level_allow = level_allow.or(policy_allow);
            }
            if keep_layers {
                scp_levels.push(level_allow.clone());
            }
            scp_allow = scp_allow.and(level_allow);
        }

        let session = (!self.session.is_empty()).then(|| {
            let mut session_allow = Truth::False;
            for policy in &self.session {
                let (policy_deny, policy_allow) = evaluate_policy(policy, subject, recorder);
                deny = std::mem::replace(&mut deny, Truth::False).or(policy_deny);
                session_allow = session_allow.or(policy_allow);
            }
            session_allow
        });
        PrincipalLayers {
            deny,
            identity,
            boundary,
            scp_levels,
            scp_allow,
            session,
        }
    }
}

/// What the principal-side policies say about one request.
struct PrincipalLayers<'p> {
    /// Explicit denies of every layer so far.
    deny: Truth<'p>,
    identity: Truth<'p>,
    boundary: Option<Truth<'p>>,
    /// Each SCP level's allow, kept only when the layers are reported.
    scp_levels: Vec<Truth<'p>>,
    /// Every SCP level allows.
    scp_allow: Truth<'p>,
    session: Option<Truth<'p>>,
}

impl<'p> PrincipalLayers<'p> {
    /// `truth` capped by the permission boundary and the session policies, which limit what
    /// the identity side can allow.
    fn caps(&self, truth: Truth<'p>) -> Truth<'p> {
        let truth = match &self.boundary {
            Some(boundary) => truth.and(boundary.clone()),
            None => truth,
        };
        match &self.session {
            Some(session) => truth.and(session.clone()),
            None => truth,
        }
    }

    /// The allow of the whole request with the resource policy's verdict, adding its denies;
    /// and the resource layer's summary when the layers are reported.
    fn combine(
        &mut self,
        resource: Option<ResourceVerdict<'p>>,
        required: bool,
        cross_account: bool,
        keep_layers: bool,
    ) -> (Truth<'p>, Option<Truth<'p>>) {
        let identity = self.identity.clone();
        match resource {
            None if cross_account => (Truth::False, None),
            None => (self.scp_allow.clone().and(self.caps(identity)), None),
            Some(verdict) => {
                self.deny = std::mem::replace(&mut self.deny, Truth::False).or(verdict.deny);
                let summary = keep_layers.then(|| {
                    verdict
                        .direct
                        .clone()
                        .or(verdict.role.clone())
                        .or(verdict.account.clone())
                });
                let allow = if cross_account {
                    let resource_side = verdict.direct.or(verdict.role).or(verdict.account);
                    self.scp_allow
                        .clone()
                        .and(self.caps(identity))
                        .and(resource_side)
                } else if required {
                    // The key or trust policy must itself allow: the identity policies grant
                    // only through a statement naming the account.
                    let capped = self.caps(identity.and(verdict.account).or(verdict.role));
                    self.scp_allow.clone().and(capped.or(verdict.direct))
                } else {
                    let capped = self.caps(identity.or(verdict.role));
                    self.scp_allow.clone().and(capped.or(verdict.direct))
                };
                (allow, summary)
            }
        }
    }
}

enum Combined {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
    Conditional,
}

fn combine(deny: &Truth<'_>, allow: &Truth<'_>) -> Combined {
    match (deny, allow) {
        (Truth::True, _) => Combined::ExplicitDeny,
        (_, Truth::False) => Combined::ImplicitDeny,
        (Truth::False, Truth::True) => Combined::Allowed,
        _ => Combined::Conditional,
    }
}

/// Compiles the policies and decides one request. For many requests against the same
/// policies, build a [`CompiledPolicySet`] once instead.
pub fn evaluate(request: &Request, policies: &PolicySet<'_>) -> Decision {
    CompiledPolicySet::new(policies).evaluate(request)
}
