//! **What it finds:** OIDC trusts whose `sub` pattern admits far more pipelines than the ones
//! that deploy: any repository (`repo:*`), any repository of an organisation (`repo:acme/*`,
//! GitLab `project_path:acme/*:…`), any branch, tag, environment or pull request of a
//! repository (`repo:acme/infra:*`), any branch (`…:ref:refs/heads/*`). Each value is judged
//! against its issuer's documented subject grammar (`providers/ci/subjects.tsv`: GitHub
//! Actions including customised and immutable subjects, GitLab, HCP Terraform, Buildkite,
//! CircleCI, Bitbucket, Azure DevOps), by which parts a wildcard can stand for — a `*` also
//! matches `:` and `/`, so `repo:acme/web*` admits `repo:acme/web-evil:…` too. Every string
//! operator that can hold `sub` is read: `StringLike`, `StringEquals`, lists of values,
//! `ForAnyValue:`/`ForAllValues:` (on the one-valued `sub` they compare like the plain
//! operator; `ForAllValues:` and `…IfExists` also admit a token without `sub`, which the
//! finding notes). A wildcard in a subject of unknown format is reported with low confidence.
//! An open environment part (`repo:acme/infra:environment:*`) is reported at medium severity
//! (low for a role that cannot write), with medium confidence: the job chooses the
//! environment it names (on GitHub whatever triggered it, pull requests included, and naming
//! a missing environment creates it), so only the environments' protection rules, which
//! pipeleash cannot see, limit it. An open run phase (HCP Terraform `run_phase:*`, the plan
//! and apply of one named workspace, as HashiCorp documents it) is not reported. A message names the
//! most serious pattern and the trust's other wildcard patterns.
//!
//! **Why it matters:** whoever can run a workflow in an admitted repository or on an admitted
//! branch gets the role's credentials: a contributor's pull request, a feature branch nobody
//! reviewed, a new repository in the organisation. Severity rises with what the role can do:
//! write or permissions-management access, in production, is where a wildcard hurts. A
//! wildcard in the owner of a shared issuer (`repo:*/infra:…`) is reported by
//! `shared-issuer-without-tenant`.
//!
//! **Example:**
//!
//! ```json
//! "Condition": { "StringLike": { "token.actions.githubusercontent.com:sub": "repo:acme/infra:*" } }
//! ```
//!
//! **Remediation:** list exact subjects with `StringEquals`: the protected branch
//! (`repo:acme/infra:ref:refs/heads/main`) or, better, a named deployment environment
//! protected by required reviewers and deployment branch rules
//! (`repo:acme/infra:environment:production`). Use the immutable form
//! (`repo:acme@123/infra@456:…`) where your provider supports it.

use super::{TrustUnderCheck, absent_claim_note, subject_notes};
use crate::graph::subject::shared_issuer;
use crate::model::{Confidence, Evidence, Finding, IdentityId, Severity, judge_trust};

pub const ID: &str = "oidc-subject-wildcard";

pub fn run(check: &TrustUnderCheck<'_>, findings: &mut Vec<(IdentityId, Finding)>) {
    for (id, trust) in check.federated() {
        let judgment = judge_trust(trust);
        let shared = shared_issuer(&judgment.issuer, &trust.issuer);
        let (tenant, repository) = (judgment.tenant_noun(), judgment.repository_noun());
        let mut worst: Option<(Severity, Confidence, String)> = None;
        let mut evidence = Vec::new();
        let mut admitted: Vec<&str> = Vec::new();
        let reach = check.write_reach(id);
        let writes = reach.is_some();
        let writes_in_production = reach.as_ref().is_some_and(|reach| reach.production);
        let if_writes = |writes: bool| {
            if writes {
                Severity::High
            } else {
                Severity::Medium
            }
        };
        for subject in &judgment.subjects {
            let scope = &subject.scope;
            let value = subject.pattern.value;
            let (severity, confidence, what) = if scope.every_subject {
                (
                    Severity::Critical,
                    Confidence::High,
                    "every subject the issuer signs".to_string(),
                )
            } else if scope.any_repository {
                (
                    Severity::Critical,
                    Confidence::High,
                    format!("any {repository} of any owner"),
                )
            } else if scope.named_under_any_owner && !shared {
                (
                    if_writes(writes_in_production),
                    Confidence::High,
                    format!("a {repository} of that name under any {tenant} of the issuer"),
                )
            } else if scope.any_in_owner {
                (
                    if_writes(writes_in_production),
                    Confidence::High,
                    repositories_in_owner(value, repository, tenant),
                )
            } else if scope.any_context {
                (
                    if_writes(writes),
                    Confidence::High,
                    format!("any branch, tag, environment and pull request of the {repository}"),
                )
            } else if scope.any_branch {
                (
                    if_writes(writes),
                    Confidence::High,
                    format!("any branch of the {repository}"),
                )
            } else if scope.any_environment {
                // The environment a job names is its own choice, and on GitHub naming a
                // missing environment creates it: only the environments' protection rules
                // (required reviewers, deployment branches), which pipeleash cannot see,
                // keep other jobs out.
                (
                    if writes {
                        Severity::Medium
                    } else {
                        Severity::Low
                    },
                    Confidence::Medium,
                    format!(
                        "{} of the {repository}{}, limited only by environment protection rules pipeleash cannot see",
                        environments(value),
                        if judgment.pull_requests_have_context() {
                            ", including pull-request and any-branch jobs that name one"
                        } else {
                            ""
                        }
                    ),
                )
            } else if scope.unknown_wildcard {
                (
                    Severity::Medium,
                    Confidence::Low,
                    if crate::model::grammar_for(&judgment.issuer).is_some() {
                        format!(
                            "a wildcard pipeleash could not place in any documented {} subject form, which also matches `:` and `/`",
                            judgment.issuer.kind()
                        )
                    } else {
                        "a wildcard in a subject whose format pipeleash does not know, which also matches `:` and `/`".to_string()
                    },
                )
            } else {
                continue;
            };
            let detail = format!("`{value}` admits {what}");
            evidence.push(Evidence {
                source: trust.source.clone(),
                detail: detail.clone(),
            });
            admitted.push(value);
            if worst.as_ref().is_none_or(|(worst, _, _)| severity > *worst) {
                worst = Some((severity, confidence, detail));
            }
        }
        let Some((severity, confidence, worst_detail)) = worst else {
            continue;
        };
        let message = with_others(worst_detail, &admitted);
        evidence.extend(subject_notes(&judgment, &trust.source));
        if let Some(reach) = &reach {
            evidence.push(Evidence {
                source: "access graph".into(),
                detail: format!("the role reaches {}", reach.description),
            });
        }
        findings.push((
            id.clone(),
            Finding {
                id: ID,
                severity,
                confidence,
                subject: check.subject(id),
                message: format!(
                    "trust of `{}`: {message}{}",
                    trust.issuer,
                    absent_claim_note(&judgment)
                ),
                evidence,
                remediation: "replace the wildcard with the exact subjects that deploy (a protected branch or a named deployment environment protected by required reviewers and deployment branch rules), with `StringEquals`".into(),
            },
        ));
    }
}

/// How many wildcard patterns a message names before "and N more".
const NAMED_IN_MESSAGE: usize = 3;

/// The worst pattern's detail, followed by the other wildcard patterns of the trust
/// (`admitted` holds every reported pattern, the worst among them).
fn with_others(worst: String, admitted: &[&str]) -> String {
    let others: Vec<&str> = admitted
        .iter()
        .copied()
        .filter(|value| !worst.starts_with(&format!("`{value}` ")))
        .collect();
    if others.is_empty() {
        return worst;
    }
    let mut named: Vec<String> = others
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|value| format!("`{value}`"))
        .collect();
    if others.len() > NAMED_IN_MESSAGE {
        named.push(format!("{} more", others.len() - NAMED_IN_MESSAGE));
    }
    let list = match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => named.join(""),
    };
    format!("{worst}; other wildcards: {list}")
}

/// What an owner-wide pattern admits: "any repository of the organisation" when the
/// repository name is a bare wildcard, otherwise the repositories of the named owner matching
/// the pattern's repository part (`repo:acme/web*` admits the repositories of `acme` matching
/// `web*`, and anyone who can create such a repository in `acme`). Recognised forms: GitHub
/// `repo:`/`repository:` and GitLab `project_path:`; other forms are described generally.
fn repositories_in_owner(value: &str, repository: &str, tenant: &str) -> String {
    let path = ["repo:", "repository:", "project_path:"]
        .iter()
        .find_map(|prefix| value.strip_prefix(prefix));
    let Some((owner, rest)) = path.and_then(|path| path.split_once('/')) else {
        return format!("any {repository} of the {tenant} its wildcard matches");
    };
    let name = rest.split(':').next().unwrap_or(rest);
    if name == "*" || owner.contains(['*', '?']) {
        return format!("any {repository} of the {tenant}");
    }
    format!("{} of `{owner}` matching `{name}`", plural(repository))
}

/// "any environment", or the environments matching the pattern's environment part
/// (`environment:prod*`).
pub(super) fn environments(value: &str) -> String {
    match value
        .rsplit_once("environment:")
        .map(|(_, rest)| rest.split(':').next().unwrap_or(rest))
    {
        Some(name) if name != "*" && !name.is_empty() => {
            format!("the environments matching `{name}`")
        }
        _ => "any environment".to_string(),
    }
}

fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{noun}s"),
    }
}
