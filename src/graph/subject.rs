//! What a workload's subject pattern admits, for saved queries and the trust checks: the one
//! judge of `crate::model::subject`, which reads a pattern against its issuer's documented
//! subject grammar (`providers/ci/subjects.tsv`), so the graph and the checks cannot disagree.

use crate::model::{CiIssuer, SubjectPattern, judge};

pub use crate::model::SubjectScope;

/// Classifies `pattern` (`like`: compared as a `StringLike` glob) for an issuer.
pub fn classify(issuer: &CiIssuer, pattern: &str, like: bool) -> SubjectScope {
    judge(
        issuer,
        SubjectPattern {
            value: pattern,
            wildcards: like,
            ignore_case: false,
        },
        &[],
    )
}

/// Whether the issuer is a multi-tenant SaaS whose tokens anyone with an account can get.
pub fn shared_issuer(issuer: &CiIssuer, issuer_url: &str) -> bool {
    let host = super::issuer_host(issuer_url);
    match issuer {
        // GitHub Enterprise Server and self-hosted Terraform Enterprise have their own issuers;
        // a GitHub Enterprise Cloud issuer with the enterprise slug in its path is the
        // enterprise's own.
        CiIssuer::GitHubActions => host == "token.actions.githubusercontent.com",
        CiIssuer::TerraformCloud => host == "app.terraform.io",
        CiIssuer::GitLab => host == "gitlab.com",
        CiIssuer::Buildkite => host == "agent.buildkite.com",
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
        assert!(scope.tenant_open);
        let scope = github("repo:acme/web:pull_request", false);
        assert!(scope.pull_request && !scope.any_branch);
        for exact in [
            "repo:acme/api:ref:refs/heads/main",
            "repo:acme/api:environment:production",
            "repo:acme@1/web@2:ref:refs/heads/main",
        ] {
            let scope = github(exact, false);
            assert_eq!(
                scope,
                SubjectScope {
                    fits_grammar: true,
                    ..SubjectScope::default()
                },
                "{exact}"
            );
        }
        let scope = github("repo:acme/fn:ref:refs/tags/*", true);
        assert!(
            scope.any_tag && !scope.pull_request && !scope.any_branch,
            "{scope:?}"
        );
        let scope = github("repo:acme@1/web@2:*", true);
        assert!(scope.pull_request && scope.any_branch);
        let scope = github("repo:acme/web:ref:refs/heads/develop", false);
        assert!(scope.other_branch);
        let scope = github("repo:acme/*:ref:refs/heads/main", true);
        assert!(scope.any_in_owner && !scope.any_branch, "{scope:?}");
    }

    #[test]
    fn shared_issuers() {
        for (issuer, url, shared) in [
            (
                CiIssuer::GitHubActions,
                "https://token.actions.githubusercontent.com",
                true,
            ),
            (
                CiIssuer::GitHubActions,
                "https://token.actions.githubusercontent.com/acme",
                false,
            ),
            (
                CiIssuer::GitHubActions,
                "https://ghes.example.com/_services/token",
                false,
            ),
            (CiIssuer::GitLab, "https://gitlab.com", true),
            (CiIssuer::TerraformCloud, "https://app.terraform.io", true),
            (CiIssuer::Buildkite, "https://agent.buildkite.com", true),
            (
                CiIssuer::CircleCi,
                "https://oidc.circleci.com/org/0f1e2d3c",
                false,
            ),
        ] {
            assert_eq!(shared_issuer(&issuer, url), shared, "{url}");
        }
    }
}
