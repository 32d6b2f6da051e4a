//! What one AWS identity can do, asked many times: its policies compiled once, then requests
//! decided by the project's evaluator (identity policies, permissions boundary, SCP levels).
//!
//! `crate::aws::grant::evaluate` answers one question and compiles the policies each time; the
//! graph asks dozens of questions per identity (escalation paths, role chaining, the strongest
//! access level), so it keeps the compiled set. The requests carry a partial context: a
//! condition that depends on the request makes the answer *conditional*, never a guess.

use crate::aws::grant::{AwsAttachment, AwsPolicyGrant};
use crate::aws::policy::{ActionClause, ResourceClause, Statement};
use crate::aws::{
    Arn, CompiledPolicy, CompiledPolicySet, Context, KnownPrincipal, NamedPolicy, PolicyKind,
    PolicySet, Request, add_principal_keys,
};
use crate::aws::{Verdict, escalation::EscalationPath};
use crate::catalog::{AccessLevel, Catalog};
use crate::graph::{Allowance, Strongest};
use crate::matching::{Case, glob_match};
use crate::model::{Effect, GrantBody, GrantId, IdentityId, Inventory};

/// One `Allow` statement of an identity policy, with the grant it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct AllowStatement<'a> {
    pub grant: &'a GrantId,
    pub statement: &'a Statement,
}

impl AllowStatement<'_> {
    /// Whether the statement's `Action`/`NotAction` covers `action` (resource aside).
    pub fn covers_action(&self, action: &str) -> bool {
        match &self.statement.action {
            ActionClause::Action(patterns) => patterns
                .iter()
                .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
            ActionClause::NotAction(patterns) => !patterns
                .iter()
                .any(|pattern| glob_match(pattern, action, Case::Insensitive)),
        }
    }

    /// The resources to ask about: the statement's own patterns, or `*` for `NotResource`
    /// (which applies to nearly everything).
    pub fn resources(&self) -> Vec<&str> {
        match &self.statement.resource {
            Some(ResourceClause::Resource(patterns)) => {
                patterns.iter().map(String::as_str).collect()
            }
            Some(ResourceClause::NotResource(_)) | None => vec!["*"],
        }
    }
}

/// An identity's policies, compiled for repeated questions.
#[derive(Debug)]
pub struct IdentityPolicies<'a> {
    pub identity: &'a IdentityId,
    pub account: String,
    compiled: CompiledPolicySet,
    allow_statements: Vec<AllowStatement<'a>>,
    /// The partial request context of the identity's requests: what AWS derives from the
    /// principal (`aws:PrincipalArn`, `aws:PrincipalType`…) is known, the rest unknown.
    context: Context,
}

impl<'a> IdentityPolicies<'a> {
    /// Compiles the AWS grants of `identity` (other providers' grants are ignored here).
    pub fn new(inventory: &'a Inventory, identity: &'a IdentityId) -> IdentityPolicies<'a> {
        let grants: Vec<(&GrantId, &AwsPolicyGrant)> = inventory
            .grants_for(identity)
            .filter_map(|grant| match &grant.body {
                GrantBody::Aws(policy) => Some((&grant.id, policy)),
                _ => None,
            })
            .collect();
        let mut set = PolicySet::default();
        let mut allow_statements = Vec::new();
        for (id, grant) in &grants {
            let named = |kind| NamedPolicy::new(id.as_str(), kind, &grant.document);
            match grant.attachment {
                AwsAttachment::Identity => {
                    set.identity.push(named(PolicyKind::Identity));
                    allow_statements.extend(
                        grant
                            .document
                            .statements
                            .iter()
                            .filter(|statement| statement.effect == Effect::Allow)
                            .map(|statement| AllowStatement {
                                grant: id,
                                statement,
                            }),
                    );
                }
                AwsAttachment::PermissionsBoundary => {
                    set.boundary = Some(named(PolicyKind::PermissionsBoundary));
                }
                AwsAttachment::ServiceControl { level } => {
                    if set.scps.len() <= level {
                        set.scps.resize_with(level + 1, Vec::new);
                    }
                    set.scps[level].push(named(PolicyKind::ServiceControl));
                }
            }
        }
        let account = Arn::parse(identity.native())
            .map(|arn| arn.account.to_string())
            .unwrap_or_default();
        let mut context = Context::partial();
        add_principal_keys(&mut context, identity.native(), &KnownPrincipal::default());
        IdentityPolicies {
            identity,
            account,
            compiled: CompiledPolicySet::new(&set),
            allow_statements,
            context,
        }
    }

    /// The `Allow` statements of the identity's own policies, in grant order.
    pub fn allow_statements(&self) -> &[AllowStatement<'a>] {
        &self.allow_statements
    }

    /// Is `action` on `resource` allowed (by the identity's own policies)?
    pub fn decide(&self, action: &str, resource: &str) -> Option<Allowance> {
        allowance(self.compiled.decide(&self.request(action, resource, None)))
    }

    /// Can the identity assume `role` (ARN, in `role_account`), whose trust policy is
    /// `trust`? Both the identity's policies and the trust policy decide: a trust policy must
    /// itself allow the principal, even within one account, and one that names only the
    /// account leaves it to the identity's policies
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policies_resource.html>).
    pub fn can_assume(
        &self,
        role: &str,
        role_account: &str,
        trust: &CompiledPolicy,
    ) -> Option<Allowance> {
        let request = self.request("sts:AssumeRole", role, Some(role_account.to_string()));
        allowance(self.compiled.decide_with_resource_policy(&request, trust))
    }

    fn request(&self, action: &str, resource: &str, resource_account: Option<String>) -> Request {
        Request {
            principal_arn: self.identity.native().to_string(),
            principal_account: self.account.clone(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account,
            context: self.context.clone(),
        }
    }

    /// Is `action` allowed on some resource? Asks about each resource an allowing statement
    /// names, so that a statement scoped to one bucket still counts; returns the most certain
    /// answer and the resource it holds for.
    pub fn allows_somewhere(&self, action: &str) -> Option<(Allowance, String)> {
        let mut best: Option<(Allowance, String)> = None;
        for statement in &self.allow_statements {
            if !statement.covers_action(action) {
                continue;
            }
            for resource in statement.resources() {
                if let Some(allowance) = self.decide(action, resource) {
                    if allowance == Allowance::Allowed {
                        return Some((allowance, resource.to_string()));
                    }
                    best.get_or_insert((allowance, resource.to_string()));
                }
            }
        }
        best
    }

    /// Whether the identity can do anything at all: `*` on `*` (checked with an action no
    /// service has, so only a wildcard can allow it) together with IAM policy editing.
    pub fn administrator(&self) -> Option<Allowance> {
        let any = self.decide("pipeleashprobe:AnyAction", "*")?;
        let role = format!("arn:aws:iam::{}:role/pipeleash-probe", self.account);
        let iam = self.decide("iam:PutRolePolicy", &role)?;
        Some(any.and(iam))
    }

    /// The most sensitive access level the identity is allowed, with one action proving it.
    /// Only `Write` and `Permissions management` are looked for: they are what make a CI
    /// identity dangerous.
    pub fn strongest(&self, catalog: &Catalog) -> Option<Strongest> {
        for level in [AccessLevel::PermissionsManagement, AccessLevel::Write] {
            let mut conditional: Option<Strongest> = None;
            for statement in &self.allow_statements {
                for action in statement_actions(statement, catalog) {
                    if action.access_level != level {
                        continue;
                    }
                    match self.allows_somewhere(&action.name) {
                        Some((Allowance::Allowed, resource)) => {
                            return Some(Strongest {
                                level,
                                action: action.name.clone(),
                                resource,
                                allowance: Allowance::Allowed,
                            });
                        }
                        // The AWS evaluator never answers "possible"; kept with the conditional
                        // ones, the weaker answer.
                        Some((
                            allowance @ (Allowance::Conditional | Allowance::Possible),
                            resource,
                        )) => {
                            conditional.get_or_insert(Strongest {
                                level,
                                action: action.name.clone(),
                                resource,
                                allowance,
                            });
                        }
                        None => {}
                    }
                }
            }
            if conditional.is_some() {
                return conditional;
            }
        }
        None
    }

    /// The escalation paths whose every action is allowed somewhere, with how certain that is.
    pub fn escalations<'p>(
        &self,
        paths: &'p [EscalationPath],
    ) -> Vec<(&'p EscalationPath, Allowance)> {
        let mut open = Vec::new();
        'paths: for path in paths {
            let mut allowance = Allowance::Allowed;
            for action in &path.actions {
                // Cheap structural test first: most identities name few actions.
                if !self
                    .allow_statements
                    .iter()
                    .any(|statement| statement.covers_action(action))
                {
                    continue 'paths;
                }
                match self.allows_somewhere(action) {
                    Some((found, _)) => allowance = allowance.and(found),
                    None => continue 'paths,
                }
            }
            open.push((path, allowance));
        }
        open
    }
}

fn allowance(verdict: Verdict) -> Option<Allowance> {
    match verdict {
        Verdict::Allowed => Some(Allowance::Allowed),
        Verdict::Conditional => Some(Allowance::Conditional),
        Verdict::ExplicitDeny | Verdict::ImplicitDeny => None,
    }
}

/// The catalog actions a statement's action clause names. `NotAction` names every action
/// not excluded, so it is expanded from the whole catalog.
fn statement_actions<'c>(
    statement: &AllowStatement<'_>,
    catalog: &'c Catalog,
) -> Vec<&'c crate::catalog::Action> {
    match &statement.statement.action {
        ActionClause::Action(patterns) => {
            let mut actions: Vec<&crate::catalog::Action> = patterns
                .iter()
                .flat_map(|pattern| catalog.expand(pattern))
                .collect();
            actions.sort_by(|a, b| a.name.cmp(&b.name));
            actions.dedup_by(|a, b| a.name == b.name);
            actions
        }
        ActionClause::NotAction(_) => catalog
            .actions()
            .filter(|action| statement.covers_action(&action.name))
            .collect(),
    }
}
