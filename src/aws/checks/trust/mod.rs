//! Trust checks: who can become a CI identity, judged against what the identity can do. Each
//! finding type lives in its own file, documented like the policy checks (*What it finds / Why
//! it matters / Example / Remediation*) and listed on the same generated page.
//!
//! Every check that reads a `sub` condition reads it through one judge
//! (`crate::model::judge_trust`): which conditions narrow the subject, and what each value
//! admits under the issuer's documented subject grammar (`providers/ci/subjects.tsv`).
//!
//! The checks read the normalized trusts, the access graph (what an identity reaches by
//! chaining and escalation, and how strong its grants are), and, when given, CloudTrail usage
//! (which CI subjects really assumed each role, which users really used their keys).

mod ci_escalation_to_admin;
mod external_account_without_external_id;
mod long_lived_access_key;
mod oidc_missing_audience;
mod oidc_subject_wildcard;
mod oidc_trust_without_subject;
mod pull_request_reaches_write;
mod role_assumable_by_anyone;
mod shared_issuer_without_tenant;
mod unused_access_key;
mod unused_trusted_subject;

use crate::aws::cloudtrail::CloudTrailUsage;
use crate::aws::escalation::EscalationPath;
use crate::aws::graph::build_aws;
use crate::aws::normalize::NormalizedAws;
use crate::catalog::Catalog;
use crate::checks::{Check, LooksAt};
use crate::graph::query::{GraphQuery, Start};
use crate::graph::{AccessGraph, IdentityNode, Node, is_write_or_above};
use crate::model::{
    ClaimOperator, Evidence, FederatedTrust, Finding, IdentityId, Provider, Severity,
    SubjectJudgment,
};

/// Everything a trust check may look at.
pub struct TrustUnderCheck<'a> {
    pub normalized: &'a NormalizedAws,
    pub usage: Option<&'a CloudTrailUsage>,
    pub catalog: &'a Catalog,
    pub graph: &'a AccessGraph,
}

/// The function of a trust check: the findings it pushes name the identity each concerns.
pub type TrustRun = fn(&TrustUnderCheck<'_>, &mut Vec<(IdentityId, Finding)>);

/// A registered trust check, documented from its own source file.
pub type TrustCheck = Check<TrustRun>;

macro_rules! trust_check {
    ($module:ident, $severity:expr) => {
        Check {
            id: $module::ID,
            provider: Provider::Aws,
            looks_at: LooksAt::Trust,
            max_severity: $severity,
            run: $module::run as TrustRun,
            source: include_str!(concat!(stringify!($module), ".rs")),
        }
    };
}

/// Every AWS trust check, in id order.
pub const TRUST_CHECKS: &[TrustCheck] = &[
    trust_check!(ci_escalation_to_admin, Severity::Critical),
    trust_check!(external_account_without_external_id, Severity::High),
    trust_check!(long_lived_access_key, Severity::Medium),
    trust_check!(oidc_missing_audience, Severity::Low),
    trust_check!(oidc_subject_wildcard, Severity::Critical),
    trust_check!(oidc_trust_without_subject, Severity::Critical),
    trust_check!(pull_request_reaches_write, Severity::Critical),
    trust_check!(role_assumable_by_anyone, Severity::Critical),
    trust_check!(shared_issuer_without_tenant, Severity::Critical),
    trust_check!(unused_access_key, Severity::Medium),
    trust_check!(unused_trusted_subject, Severity::Medium),
];

/// The trust findings of a normalized AWS inventory, with the identity each concerns; sorted
/// by identity, then most severe first, then check id and subject. `escalation_paths` is the
/// privilege-escalation table the caller loaded with
/// [`crate::aws::escalation::escalation_paths`]: a table that cannot be loaded is the
/// caller's error to report, never an empty table (which would hide escalation findings).
pub fn trust_findings(
    normalized: &NormalizedAws,
    usage: Option<&CloudTrailUsage>,
    catalog: &Catalog,
    escalation_paths: &[EscalationPath],
) -> Vec<(IdentityId, Finding)> {
    let graph = build_aws(normalized, usage, catalog, escalation_paths);
    trust_findings_with_graph(normalized, usage, catalog, &graph)
}

/// [`trust_findings`] over a graph the caller already built from the same inputs.
pub fn trust_findings_with_graph(
    normalized: &NormalizedAws,
    usage: Option<&CloudTrailUsage>,
    catalog: &Catalog,
    graph: &AccessGraph,
) -> Vec<(IdentityId, Finding)> {
    let context = TrustUnderCheck {
        normalized,
        usage,
        catalog,
        graph,
    };
    let mut findings = Vec::new();
    for check in TRUST_CHECKS {
        (check.run)(&context, &mut findings);
    }
    findings.sort_by(|(a_id, a), (b_id, b)| {
        a_id.cmp(b_id)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.id.cmp(b.id))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings.dedup();
    findings
}

impl TrustUnderCheck<'_> {
    /// The graph node of an identity.
    pub fn identity(&self, id: &IdentityId) -> Option<&IdentityNode> {
        self.graph
            .node_index(id.as_str())
            .and_then(|index| self.graph.node(index).as_identity())
    }

    /// ``role `gha-terraform` in `210987654321` ``.
    pub fn subject(&self, id: &IdentityId) -> String {
        match self.identity(id) {
            Some(identity) => format!(
                "{} `{}` in `{}`",
                identity.kind.label(),
                identity.name,
                identity.container
            ),
            None => format!("`{id}`"),
        }
    }

    /// Every federated trust, by identity in id order.
    pub fn federated(&self) -> impl Iterator<Item = (&IdentityId, &FederatedTrust)> + '_ {
        self.normalized
            .inventory
            .trusts
            .iter()
            .flat_map(|(id, trusts)| {
                trusts.iter().filter_map(move |trust| match trust {
                    crate::model::Trust::Federated(federated) => Some((id, federated)),
                    _ => None,
                })
            })
    }

    /// The closest write (or stronger) access the identity has or reaches by chaining and
    /// escalation: a sentence naming where, and whether it is administrator-level or
    /// permissions management.
    pub fn write_reach(&self, id: &IdentityId) -> Option<WriteReach> {
        let index = self.graph.node_index(id.as_str())?;
        let query = GraphQuery::new(self.graph, &self.normalized.inventory);
        let start = query.resolve(id.as_str()).ok()?;
        let mut best: Option<WriteReach> = None;
        for reached in query.reach(&start) {
            let via = if reached.node == index {
                String::new()
            } else {
                format!(
                    " via {}",
                    reached
                        .path
                        .iter()
                        .map(|hop| format!("`{}`", hop.to))
                        .collect::<Vec<_>>()
                        .join(" → ")
                )
            };
            let candidate = match self.graph.node(reached.node) {
                Node::PermissionSet { name, container } => Some(WriteReach {
                    sensitive: true,
                    production: self.production_account(container),
                    description: format!("{name} access in `{container}`{via}"),
                }),
                Node::Identity(identity) => identity.strongest.as_ref().and_then(|strongest| {
                    is_write_or_above(strongest.level).then(|| WriteReach {
                        sensitive: strongest.level
                            == crate::catalog::AccessLevel::PermissionsManagement,
                        production: identity.production,
                        description: format!(
                            "`{}` ({}) on `{}` as `{}`{via}",
                            strongest.action, strongest.level, strongest.resource, identity.name
                        ),
                    })
                }),
                _ => None,
            };
            if let Some(candidate) = candidate {
                let better = best.as_ref().is_none_or(|best| {
                    (candidate.sensitive, candidate.production) > (best.sensitive, best.production)
                });
                if better {
                    best = Some(candidate);
                }
            }
        }
        best
    }

    /// Whether any production-tagged identity lives in the account.
    fn production_account(&self, container: &str) -> bool {
        self.graph
            .identities()
            .any(|(_, identity)| identity.container == container && identity.production)
    }

    /// The graph start for an identity.
    pub fn start(&self, id: &IdentityId) -> Option<Start> {
        GraphQuery::new(self.graph, &self.normalized.inventory)
            .resolve(id.as_str())
            .ok()
    }
}

/// What write access an identity reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReach {
    /// Permissions management or administrator access.
    pub sensitive: bool,
    /// In production (by tags).
    pub production: bool,
    pub description: String,
}

/// Evidence about `sub` conditions the judgment does not lean on: negated operators and
/// expressions (they narrow nothing toward the allowed side), and positive conditions that
/// also hold for a token without a `sub` claim (`ForAllValues:`, `…IfExists`).
pub fn subject_notes(judgment: &SubjectJudgment<'_>, source: &str) -> Vec<Evidence> {
    let mut notes = Vec::new();
    for condition in &judgment.constraint.other {
        notes.push(Evidence {
            source: source.to_string(),
            detail: format!(
                "{condition}: not read as narrowing the subject; {}",
                if condition.operator == ClaimOperator::Expression {
                    "pipeleash does not evaluate it"
                } else {
                    "a negated condition admits every other subject"
                }
            ),
        });
    }
    for condition in judgment.constraint.holding_without_claim() {
        notes.push(Evidence {
            source: source.to_string(),
            detail: format!(
                "{condition} also holds for a token without a `sub` claim (`ForAllValues:` and `…IfExists` are true when the claim is absent): use the plain operator"
            ),
        });
    }
    notes
}

/// `; `ForAllValues:StringLike` also admits a token without `sub``, when it does.
pub fn absent_claim_note(judgment: &SubjectJudgment<'_>) -> String {
    match judgment.constraint.holding_without_claim().first() {
        Some(condition) => format!(
            "; `{}` also admits a token without a `sub` claim",
            condition.operator_name()
        ),
        None => String::new(),
    }
}

/// Whether the federated principal is an OIDC provider (not SAML).
pub fn is_oidc(trust: &FederatedTrust) -> bool {
    trust.issuer.starts_with("https://")
}

#[cfg(test)]
mod tests;

/// The trust checks that judge a trust policy document on its own, without an inventory:
/// the document is enough to see who may assume the role. The others need the role's access
/// (`pull-request-reaches-write`, `ci-escalation-to-admin`), its users' keys or CloudTrail.
pub const DOCUMENT_TRUST_CHECKS: &[&str] = &[
    external_account_without_external_id::ID,
    oidc_missing_audience::ID,
    oidc_subject_wildcard::ID,
    oidc_trust_without_subject::ID,
    role_assumable_by_anyone::ID,
    shared_issuer_without_tenant::ID,
];

/// Is `document` a role trust policy: some statement names a `Principal` and allows an
/// `sts:AssumeRole*` action?
pub fn is_trust_policy(document: &crate::aws::policy::PolicyDocument) -> bool {
    document.statements.iter().any(|statement| {
        matches!(
            statement.principal,
            Some(crate::aws::policy::PrincipalClause::Principal(_))
        ) && crate::aws::normalize::allows_assume(statement)
    })
}

/// The [`DOCUMENT_TRUST_CHECKS`] findings of one trust policy document `text` (JSON, as
/// [`crate::aws::policy::parse_policy`] reads it), judged as the trust policy of a role with
/// no permissions; each finding's subject is `name`. Severities that depend on the role's
/// access are those of a role that cannot write. The role's account is taken from an
/// identity provider ARN of the document; without one, trusts of whole accounts are not
/// judged (`external-account-without-external-id` needs to know which account is the role's).
///
/// `escalation_paths` is the loaded privilege-escalation table, as for [`trust_findings`].
pub fn trust_document_findings(
    name: &str,
    text: &str,
    catalog: &Catalog,
    escalation_paths: &[EscalationPath],
) -> Vec<Finding> {
    use crate::aws::inventory::{AwsAccountInventory, AwsRole, INVENTORY_FORMAT_VERSION};
    let own_account = text.split("arn:aws").skip(1).find_map(|rest| {
        let (_, after) = rest.split_once(":iam::")?;
        let (account, kind) = after.split_once(':')?;
        (crate::aws::arn::is_account_id(account)
            && (kind.starts_with("oidc-provider/") || kind.starts_with("saml-provider/")))
        .then(|| account.to_string())
    });
    let account_id = own_account.clone().unwrap_or_else(|| "000000000000".into());
    let inventory = AwsAccountInventory {
        format_version: INVENTORY_FORMAT_VERSION,
        account_id: account_id.clone(),
        partition: "aws".into(),
        collected_by: "policy check".into(),
        collected_at: "1970-01-01T00:00:00Z".into(),
        roles: vec![AwsRole {
            arn: format!("arn:aws:iam::{account_id}:role/policy-file"),
            name: "policy-file".into(),
            role_id: "AROAPOLICYFILE".into(),
            path: "/".into(),
            create_date: None,
            trust_policy: Some(text.to_string()),
            inline_policies: Vec::new(),
            attached_policies: Vec::new(),
            permissions_boundary: None,
            last_used: None,
            tags: Default::default(),
            instance_profiles: Vec::new(),
        }],
        users: Vec::new(),
        groups: Vec::new(),
        policies: Vec::new(),
        unresolved_policies: Vec::new(),
        oidc_providers: Vec::new(),
        access_keys: Vec::new(),
        organization: None,
        service_control_policies: Vec::new(),
        errors: Vec::new(),
        skipped: Vec::new(),
    };
    let normalized = crate::aws::normalize::normalize(&[inventory]);
    trust_findings(&normalized, None, catalog, escalation_paths)
        .into_iter()
        .map(|(_, finding)| finding)
        .filter(|finding| DOCUMENT_TRUST_CHECKS.contains(&finding.id))
        .filter(|finding| {
            own_account.is_some() || finding.id != external_account_without_external_id::ID
        })
        .map(|finding| Finding {
            subject: format!("trust policy `{name}`"),
            ..finding
        })
        .collect()
}
