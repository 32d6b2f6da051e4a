//! What a trusted subject pattern admits, found by asking it about probe subjects rather than
//! by reading the pattern: `repo:acme/*` admits a probe repository of `acme`, so it admits any
//! repository of the organisation. Probing uses the same matcher the cloud uses (exact for
//! `StringEquals`, `*`/`?` globbing for `StringLike`), so it cannot disagree with it.

use crate::matching::{Case, glob_match};
use crate::model::CiIssuer;

/// A name no real repository, group or branch uses.
const PROBE: &str = "pipeleash-probe";

/// What one subject pattern admits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubjectScope {
    /// Any repository (project, workspace) of any owner.
    pub any_repository: bool,
    /// Any repository of one owner (`repo:acme/*`).
    pub any_in_owner: bool,
    /// A named repository of any owner (`repo:*/infra:*`): the tenant is not pinned.
    pub tenant_open: bool,
    /// Every branch, tag, environment and pull request of the repository.
    pub any_context: bool,
    /// Jobs run for pull requests (GitHub `pull_request`).
    pub pull_request: bool,
    /// A branch nobody reviewed (a probe branch name).
    pub any_branch: bool,
    /// A named branch other than `main`/`master`.
    pub named_other_branch: Option<&'static str>,
    /// A `StringLike` wildcard before the end of the pattern, which also matches `:` and `/`
    /// and so can admit subjects of another shape than the one intended.
    pub spans_segments: bool,
}

/// Classifies `pattern` (`like`: compared as a `StringLike` glob) for an issuer.
pub fn classify(issuer: &CiIssuer, pattern: &str, like: bool) -> SubjectScope {
    let admits = |subject: &str| {
        if like {
            glob_match(pattern, subject, Case::Sensitive)
        } else {
            pattern == subject
        }
    };
    let star_inside = like
        && pattern
            .char_indices()
            .any(|(index, c)| c == '*' && index + 1 < pattern.len());
    let mut scope = SubjectScope {
        spans_segments: star_inside,
        ..SubjectScope::default()
    };
    match issuer {
        CiIssuer::GitHubActions => {
            let (owner, repo) = github_parts(pattern);
            let owner = owner.unwrap_or(PROBE);
            let repo = repo.unwrap_or(PROBE);
            let subject =
                |owner: &str, repo: &str, context: &str| format!("repo:{owner}/{repo}:{context}");
            scope.any_repository = admits(&subject(PROBE, PROBE, "ref:refs/heads/main"));
            scope.any_in_owner = !scope.any_repository
                && owner != PROBE
                && admits(&subject(owner, PROBE, "ref:refs/heads/main"));
            scope.tenant_open = !scope.any_repository
                && repo != PROBE
                && (admits(&subject(PROBE, repo, "ref:refs/heads/main"))
                    || admits(&subject(PROBE, repo, "pull_request"))
                    || admits(&subject(PROBE, repo, "environment:production")));
            scope.pull_request = admits(&subject(owner, repo, "pull_request"));
            scope.any_branch = admits(&subject(owner, repo, "ref:refs/heads/pipeleash-probe"));
            scope.any_context = scope.pull_request
                && scope.any_branch
                && admits(&subject(owner, repo, "environment:pipeleash-probe"));
            let branch = pattern.split(":ref:refs/heads/").nth(1);
            if !like && branch.is_some_and(|branch| !matches!(branch, "main" | "master")) {
                scope.named_other_branch = Some("a branch other than `main`/`master`");
            }
        }
        CiIssuer::GitLab => {
            let project = pattern
                .strip_prefix("project_path:")
                .and_then(|rest| rest.split(':').next())
                .filter(|project| !project.contains(['*', '?']));
            let (group, name) = project
                .and_then(|project| project.rsplit_once('/'))
                .unwrap_or((PROBE, PROBE));
            let subject = |group: &str, name: &str, branch: &str| {
                format!("project_path:{group}/{name}:ref_type:branch:ref:{branch}")
            };
            scope.any_repository = admits(&subject(PROBE, PROBE, "main"));
            scope.any_in_owner =
                !scope.any_repository && group != PROBE && admits(&subject(group, PROBE, "main"));
            scope.tenant_open =
                !scope.any_repository && name != PROBE && admits(&subject(PROBE, name, "main"));
            // Merge request pipelines run on their source branch: any branch is the same risk.
            scope.any_branch = admits(&subject(group, name, PROBE));
            scope.pull_request = scope.any_branch;
            scope.any_context = scope.any_branch;
        }
        CiIssuer::TerraformCloud => {
            let probe =
                format!("organization:{PROBE}:project:{PROBE}:workspace:{PROBE}:run_phase:apply");
            scope.any_repository = admits(&probe);
            let organization = pattern
                .strip_prefix("organization:")
                .and_then(|rest| rest.split(':').next())
                .filter(|organization| !organization.contains(['*', '?']));
            scope.tenant_open = !scope.any_repository && organization.is_none();
        }
        _ => {
            scope.any_repository = admits(PROBE) && admits("*");
        }
    }
    scope
}

/// The literal owner and repository of a GitHub subject pattern, where they are literal.
fn github_parts(pattern: &str) -> (Option<&str>, Option<&str>) {
    let Some(rest) = pattern.strip_prefix("repo:") else {
        return (None, None);
    };
    let literal = |part: &str| (!part.contains(['*', '?']) && !part.is_empty()).then_some(());
    let Some((owner, after)) = rest.split_once('/') else {
        return (None, None);
    };
    let repo = after.split(':').next().unwrap_or(after);
    (literal(owner).map(|()| owner), literal(repo).map(|()| repo))
}

/// Whether the issuer is a multi-tenant SaaS whose tokens anyone with an account can get.
pub fn shared_issuer(issuer: &CiIssuer, issuer_url: &str) -> bool {
    match issuer {
        CiIssuer::GitHubActions | CiIssuer::TerraformCloud => {
            // GitHub Enterprise Server and self-hosted TFE have their own issuers.
            let host = super::issuer_host(issuer_url);
            host == "token.actions.githubusercontent.com" || host == "app.terraform.io"
        }
        CiIssuer::GitLab => super::issuer_host(issuer_url) == "gitlab.com",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github(pattern: &str, like: bool) -> SubjectScope {
        classify(&CiIssuer::GitHubActions, pattern, like)
    }

    #[test]
    fn github_patterns() {
        let scope = github("repo:*", true);
        assert!(scope.any_repository && scope.pull_request && !scope.any_in_owner);
        let scope = github("repo:acme/*", true);
        assert!(scope.any_in_owner && !scope.any_repository && scope.pull_request);
        let scope = github("repo:acme/infra:*", true);
        assert!(scope.any_context && scope.pull_request && !scope.any_in_owner);
        let scope = github("repo:*/infra:*", true);
        assert!(scope.tenant_open && !scope.any_repository);
        let scope = github("repo:acme/web:pull_request", false);
        assert!(scope.pull_request && !scope.any_branch);
        let scope = github("repo:acme/api:ref:refs/heads/main", false);
        assert_eq!(scope, SubjectScope::default());
        let scope = github("repo:acme/api:environment:production", false);
        assert_eq!(scope, SubjectScope::default());
        let scope = github("repo:acme/fn:ref:refs/tags/*", true);
        assert!(!scope.pull_request && !scope.any_branch && !scope.spans_segments);
        let scope = github("repo:acme@1/web@2:ref:refs/heads/main", false);
        assert_eq!(scope, SubjectScope::default());
        let scope = github("repo:acme@1/web@2:*", true);
        assert!(scope.pull_request && scope.any_branch);
        let scope = github("repo:acme/web:ref:refs/heads/develop", false);
        assert!(scope.named_other_branch.is_some());
        let scope = github("repo:acme/*:ref:refs/heads/main", true);
        assert!(scope.spans_segments && scope.any_in_owner);
    }

    #[test]
    fn gitlab_and_terraform_patterns() {
        let scope = classify(&CiIssuer::GitLab, "*", true);
        assert!(scope.any_repository);
        let scope = classify(
            &CiIssuer::GitLab,
            "project_path:acme/docs:ref_type:branch:ref:*",
            true,
        );
        assert!(scope.any_branch && !scope.any_repository);
        let scope = classify(
            &CiIssuer::GitLab,
            "project_path:acme/docs:ref_type:branch:ref:main",
            false,
        );
        assert!(!scope.any_branch);
        let scope = classify(
            &CiIssuer::TerraformCloud,
            "organization:*:project:p:workspace:w:run_phase:apply",
            true,
        );
        assert!(scope.tenant_open);
    }
}
