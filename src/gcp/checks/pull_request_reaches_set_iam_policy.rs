//! **What it finds:** a service account that a pull-request workflow can act as (through
//! Workload Identity Federation) and that may rewrite the IAM policy of a project, folder or
//! organization (`resourcemanager.{projects,folders,organizations}.setIamPolicy`) or of service
//! accounts (`iam.serviceAccounts.setIamPolicy`: it can grant itself the right to act as any
//! of them), bound on a project, folder or organization. Resource-level rights such as
//! `storage.buckets.setIamPolicy` are not counted here: they rewrite one service's resources,
//! not who can do anything in the container.
//!
//! **Why it matters:** `setIamPolicy` rewrites who may do anything on the resource: a pull
//! request, which anyone with write access to a branch (or, with `pull_request_target`, any
//! contributor) can run, could grant itself owner. A GitHub pull-request run is admitted when
//! the service account's policy names its subject (`principal://…/subject/repo:acme/web:pull_request`)
//! or a principal set (`principalSet://…/attribute.repository/acme/web`, an owner or the whole
//! pool) whose provider's attribute condition does not exclude pull-request events
//! (<https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims>,
//! <https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions>).
//! Permissions come from the roles bound to the account on each container, predefined ones
//! from the catalog and custom ones from the inventory
//! (<https://cloud.google.com/iam/docs/reference/rest/v1/projects/setIamPolicy>).
//! Critical when the binding is unconditional, high under an IAM condition. A permission that
//! an IAM deny policy denies the account, unconditionally and for certain, at or above the
//! container is not counted (deny is checked before allow,
//! <https://cloud.google.com/iam/docs/deny-overview#policy-eval>); a conditional or possible
//! deny rule leaves it counted and is named in the evidence.
//!
//! **Example:** `principalSet://…/attribute.repository/acme/infra` may act as
//! `terraform@infra.iam.gserviceaccount.com`, which holds `roles/resourcemanager.projectIamAdmin`
//! on `projects/infra`; the provider's condition pins only the repository owner.
//!
//! **Remediation:** give pull requests a separate, read-only service account (plan), and
//! bind the one that applies to `principal://…/subject/repo:acme/infra:ref:refs/heads/main`
//! or an environment subject, or add `assertion.event_name != 'pull_request' &&
//! assertion.event_name != 'pull_request_target'` to the provider's attribute condition.

use super::IMPERSONATION_ROLES;
use crate::catalog::gcp::GcpRoleCatalog;
use crate::gcp::evaluate::{denies, hard_denied};
use crate::gcp::inventory::{GcpInventory, GcpServiceAccount, GcpWorkloadIdentityProvider};
use crate::gcp::normalize::{container_ancestry, container_policies, deny_rules_for};
use crate::model::{Confidence, Evidence, Finding, Severity};

pub const ID: &str = "gcp-pull-request-reaches-set-iam-policy";

/// How a pull-request run is let in: the member, and why it admits one.
struct Entry<'a> {
    member: &'a str,
    why: String,
}

pub fn run(inventory: &GcpInventory, findings: &mut Vec<Finding>) {
    // The catalog is embedded and checked by its own tests; were it unreadable, only custom
    // roles could be judged here (the analysis itself fails loudly on the same catalog).
    let catalog = GcpRoleCatalog::embedded().ok();
    for account in &inventory.service_accounts {
        let entries = pull_request_entries(inventory, account);
        if entries.is_empty() {
            continue;
        }
        let member = format!("serviceAccount:{}", account.email);
        let deny_rules: Vec<crate::gcp::GcpDenyRule> = deny_rules_for(inventory, account)
            .into_iter()
            .map(|(_, rule)| rule)
            .collect();
        let (hard, soft): (Vec<_>, Vec<_>) = deny_rules
            .iter()
            .partition(|rule| rule.condition.is_none() && rule.possible.is_none());
        for (container, policy) in container_policies(inventory) {
            let ancestry = container_ancestry(inventory, &container);
            for binding in &policy.bindings {
                if !binding
                    .members
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&member))
                {
                    continue;
                }
                let permissions: Vec<String> =
                    set_iam_policy_permissions(inventory, catalog, &binding.role)
                        .into_iter()
                        .filter(|permission| !hard_denied(&hard, &ancestry, permission))
                        .collect();
                if permissions.is_empty() {
                    continue;
                }
                let conditional = binding.condition.is_some();
                let mut evidence = vec![Evidence {
                    source: format!("`{container}` IAM policy"),
                    detail: format!(
                        "`{}` to `{member}`{} gives {}",
                        binding.role,
                        if conditional {
                            " under a condition"
                        } else {
                            ""
                        },
                        permissions.join(", ")
                    ),
                }];
                for rule in &soft {
                    let denied: Vec<&String> = permissions
                        .iter()
                        .filter(|permission| {
                            ancestry.contains(&rule.attachment_point) && denies(rule, permission)
                        })
                        .collect();
                    if denied.is_empty() {
                        continue;
                    }
                    let when = match (&rule.condition, &rule.possible) {
                        (Some(condition), _) => {
                            format!("when `{}` holds", condition.expression)
                        }
                        (None, Some(possible)) => format!("if {possible}"),
                        (None, None) => String::new(),
                    };
                    evidence.push(Evidence {
                        source: format!("deny policy `{}`", rule.policy),
                        detail: format!(
                            "may deny {} on `{}` {when}",
                            denied
                                .iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            rule.attachment_point
                        ),
                    });
                }
                evidence.extend(entries.iter().map(|entry| Evidence {
                    source: format!("service account `{}` IAM policy", account.email),
                    detail: format!("`{}`: {}", entry.member, entry.why),
                }));
                findings.push(Finding {
                    id: ID,
                    severity: if conditional {
                        Severity::High
                    } else {
                        Severity::Critical
                    },
                    confidence: Confidence::Medium,
                    subject: format!("service account `{}`", account.email),
                    message: format!(
                        "a pull-request workflow can act as the service account, which may \
                         rewrite IAM policies through `{}` on `{container}` ({})",
                        binding.role,
                        permissions.join(", ")
                    ),
                    evidence,
                    remediation: "bind a read-only service account for pull requests and \
                                  restrict this one to the default branch or an environment"
                        .to_string(),
                });
            }
        }
    }
}

/// The permissions that rewrite who may do anything in a container, or who may act as its
/// service accounts
/// (<https://cloud.google.com/iam/docs/service-account-permissions#impersonation-permissions>).
const ESCALATING: &[&str] = &[
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.folders.setIamPolicy",
    "resourcemanager.organizations.setIamPolicy",
    "iam.serviceAccounts.setIamPolicy",
];

fn escalates(permission: &str) -> bool {
    ESCALATING.contains(&permission)
}

/// The escalating permissions `role` holds, sorted; unknown roles hold none here (the
/// minimizer reports them).
fn set_iam_policy_permissions(
    inventory: &GcpInventory,
    catalog: Option<&GcpRoleCatalog>,
    role: &str,
) -> Vec<String> {
    let mut permissions: Vec<String> = match inventory
        .custom_roles
        .iter()
        .find(|custom| custom.name == role && !custom.deleted)
    {
        Some(custom) => custom
            .included_permissions
            .iter()
            .filter(|permission| escalates(permission))
            .cloned()
            .collect(),
        None => catalog
            .and_then(|catalog| {
                let predefined = catalog.role(role)?;
                Some(
                    catalog
                        .permissions_of(predefined)
                        .filter(|permission| escalates(permission))
                        .map(str::to_string)
                        .collect(),
                )
            })
            .unwrap_or_default(),
    };
    permissions.sort();
    permissions.dedup();
    permissions
}

/// The Workload Identity members of the account's own policy that admit a GitHub
/// pull-request run.
fn pull_request_entries<'a>(
    inventory: &'a GcpInventory,
    account: &'a GcpServiceAccount,
) -> Vec<Entry<'a>> {
    let mut entries = Vec::new();
    let Some(policy) = &account.iam_policy else {
        return entries;
    };
    for binding in &policy.bindings {
        if !IMPERSONATION_ROLES.contains(&binding.role.as_str()) {
            continue;
        }
        for member in &binding.members {
            if let Some(rest) = member.strip_prefix("principal://iam.googleapis.com/") {
                if let Some((_, subject)) = rest.split_once("/subject/")
                    && subject.ends_with(":pull_request")
                {
                    entries.push(Entry {
                        member,
                        why: "the subject of a pull-request run".to_string(),
                    });
                }
                continue;
            }
            let Some(rest) = member.strip_prefix("principalSet://iam.googleapis.com/") else {
                continue;
            };
            let pool = super::member_pool(member).unwrap_or(rest);
            let providers: Vec<&GcpWorkloadIdentityProvider> = super::active_providers(inventory)
                .filter(|provider| super::pool_of(&provider.name) == pool)
                .filter(|provider| {
                    provider.oidc.as_ref().is_some_and(|oidc| {
                        oidc.issuer_uri
                            .trim_end_matches('/')
                            .eq_ignore_ascii_case("https://token.actions.githubusercontent.com")
                    })
                })
                .collect();
            if let Some(provider) = providers
                .iter()
                .find(|provider| !excludes_pull_requests(provider.attribute_condition.as_deref()))
            {
                entries.push(Entry {
                    member,
                    why: format!(
                        "a principal set on GitHub provider `{}`, whose attribute condition {}",
                        provider.name,
                        match provider.attribute_condition.as_deref() {
                            Some(condition) if !condition.trim().is_empty() => {
                                format!("`{condition}` does not exclude pull-request events")
                            }
                            _ => "is empty".to_string(),
                        }
                    ),
                });
            }
        }
    }
    entries
}

/// Whether a provider's CEL attribute condition keeps GitHub pull-request runs out: it pins
/// the event, the ref to a branch or tag, or the subject to a branch, tag or environment.
/// Anything else (a repository or owner pin alone) lets them in. Read textually, so a
/// condition it cannot follow counts as letting them in.
fn excludes_pull_requests(condition: Option<&str>) -> bool {
    let Some(condition) = condition else {
        return false;
    };
    let compact: String = condition
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace('"', "'");
    // `||` can re-admit what one side excludes: judge only conjunctions.
    if compact.contains("||") {
        return false;
    }
    compact.contains("assertion.event_name!='pull_request'")
        && compact.contains("assertion.event_name!='pull_request_target'")
        || compact.contains("assertion.event_name=='push'")
        || compact.contains("assertion.event_name=='workflow_dispatch'")
        || compact.contains("assertion.ref=='refs/heads/")
        || compact.contains("assertion.ref=='refs/tags/")
        || compact.contains("assertion.sub=='repo:") && !compact.contains(":pull_request'")
        || compact.contains("assertion.environment==")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_that_pin_event_ref_subject_or_environment_exclude_pull_requests() {
        for condition in [
            "assertion.repository == 'acme/web' && assertion.ref == 'refs/heads/main'",
            "assertion.event_name == 'push'",
            "assertion.event_name != 'pull_request' && assertion.event_name != 'pull_request_target'",
            "assertion.sub == 'repo:acme/web:environment:production'",
            "assertion.environment == 'production'",
        ] {
            assert!(excludes_pull_requests(Some(condition)), "{condition}");
        }
    }

    #[test]
    fn owner_or_repository_pins_and_disjunctions_let_pull_requests_in() {
        for condition in [
            "assertion.repository_owner == 'acme'",
            "assertion.repository == 'acme/web'",
            "assertion.event_name != 'pull_request'",
            "assertion.ref == 'refs/heads/main' || assertion.repository == 'acme/web'",
            "assertion.sub == 'repo:acme/web:pull_request'",
            "",
        ] {
            assert!(!excludes_pull_requests(Some(condition)), "{condition}");
        }
        assert!(!excludes_pull_requests(None));
    }
}
