//! CI issuer recognition and subject parsing (GitHub Actions, GitLab, Terraform Cloud), and
//! the subject grammars every trusted `sub` pattern is judged against.

use pipeleash::model::{
    CiIssuer, CiWorkload, GitHubContext, GitHubRepository, GitHubSubject, GitLabRefType,
    GitLabSubject, SubjectDetails, TerraformCloudSubject, TerraformRunPhase,
};

#[test]
fn issuers_are_recognised_from_their_urls() {
    for (url, expected) in [
        (
            "https://token.actions.githubusercontent.com",
            CiIssuer::GitHubActions,
        ),
        (
            "https://token.actions.githubusercontent.com/",
            CiIssuer::GitHubActions,
        ),
        (
            "https://token.actions.githubusercontent.com/acme-enterprise",
            CiIssuer::GitHubActions,
        ),
        (
            "https://ghes.example.com/_services/token",
            CiIssuer::GitHubActions,
        ),
        ("https://gitlab.com", CiIssuer::GitLab),
        ("https://GitLab.com/", CiIssuer::GitLab),
        ("https://app.terraform.io", CiIssuer::TerraformCloud),
        (
            "https://oidc.circleci.com/org/0f1e2d3c-aaaa-bbbb-cccc-111122223333",
            CiIssuer::CircleCi,
        ),
        (
            "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
            CiIssuer::Bitbucket,
        ),
        (
            "https://vstoken.dev.azure.com/7c3f1a2b-0000-4000-8000-000000000000",
            CiIssuer::AzureDevOps,
        ),
        ("https://agent.buildkite.com", CiIssuer::Buildkite),
        (
            "https://gitlab.example.com",
            CiIssuer::Other("https://gitlab.example.com".to_string()),
        ),
        (
            "https://token.actions.githubusercontent.com.evil.example",
            CiIssuer::Other("https://token.actions.githubusercontent.com.evil.example".to_string()),
        ),
    ] {
        assert_eq!(CiIssuer::from_issuer_url(url), expected, "{url}");
    }
}

fn github(subject: &str) -> GitHubSubject {
    GitHubSubject::parse(subject).unwrap_or_else(|error| panic!("{subject}: {error}"))
}

fn repo(owner: &str, name: &str) -> Option<GitHubRepository> {
    Some(GitHubRepository {
        owner: owner.to_string(),
        owner_id: None,
        name: name.to_string(),
        id: None,
    })
}

#[test]
fn github_default_subjects() {
    for (subject, context) in [
        (
            "repo:acme/web:ref:refs/heads/main",
            GitHubContext::Branch("main".to_string()),
        ),
        (
            "repo:acme/web:ref:refs/heads/release/2026",
            GitHubContext::Branch("release/2026".to_string()),
        ),
        (
            "repo:acme/web:ref:refs/tags/v1",
            GitHubContext::Tag("v1".to_string()),
        ),
        (
            "repo:acme/web:environment:prod",
            GitHubContext::Environment("prod".to_string()),
        ),
        ("repo:acme/web:pull_request", GitHubContext::PullRequest),
        (
            "repo:acme/web:ref:refs/pull/7/merge",
            GitHubContext::Ref("refs/pull/7/merge".to_string()),
        ),
    ] {
        let parsed = github(subject);
        assert_eq!(parsed.repository, repo("acme", "web"), "{subject}");
        assert_eq!(parsed.context, Some(context), "{subject}");
    }
}

#[test]
fn github_immutable_subject_carries_owner_and_repository_ids() {
    let parsed = github("repo:octocat@123456/my-repo@456789:ref:refs/heads/main");
    assert_eq!(
        parsed.repository,
        Some(GitHubRepository {
            owner: "octocat".to_string(),
            owner_id: Some(123456),
            name: "my-repo".to_string(),
            id: Some(456789),
        })
    );
    assert_eq!(
        parsed.context,
        Some(GitHubContext::Branch("main".to_string()))
    );
    assert_eq!(parsed.repository.unwrap().full_name(), "octocat/my-repo");
}

#[test]
fn github_customised_subjects_keep_every_claim() {
    let parsed = github(
        "repo:acme/web:environment:prod:job_workflow_ref:acme/shared/.github/workflows/deploy.yml@refs/heads/main",
    );
    assert_eq!(
        parsed.context,
        Some(GitHubContext::Environment("prod".to_string()))
    );
    assert_eq!(
        parsed.claims.last(),
        Some(&(
            "job_workflow_ref".to_string(),
            "acme/shared/.github/workflows/deploy.yml@refs/heads/main".to_string()
        ))
    );
    let ids_only = github("repository_owner_id:42:repository_id:4242:context:pull_request");
    assert_eq!(ids_only.repository, None);
    assert_eq!(ids_only.claims.len(), 3);
    // `pull_request` as a value of `event_name` is not the pull_request context.
    let event = github("repo:acme/web:event_name:pull_request");
    assert_eq!(event.context, None);
    assert_eq!(
        event.claims[1],
        ("event_name".to_string(), "pull_request".to_string())
    );
}

#[test]
fn github_malformed_subjects_are_errors() {
    for subject in [
        "",
        "acme/web",
        "repo:acme:ref:refs/heads/main",
        "repo:acme/web:ref",
        "repo:a@x/b:pull_request",
    ] {
        assert!(GitHubSubject::parse(subject).is_err(), "{subject}");
    }
}

#[test]
fn gitlab_subjects() {
    assert_eq!(
        GitLabSubject::parse("project_path:grp/app:ref_type:branch:ref:main").unwrap(),
        GitLabSubject {
            project_path: "grp/app".to_string(),
            ref_type: GitLabRefType::Branch,
            ref_name: "main".to_string(),
        }
    );
    let tag = GitLabSubject::parse("project_path:grp/sub/app:ref_type:tag:ref:v1.2.0").unwrap();
    assert_eq!(tag.project_path, "grp/sub/app");
    assert_eq!(tag.ref_type, GitLabRefType::Tag);
    assert_eq!(tag.ref_name, "v1.2.0");
    for bad in [
        "project_path:grp/app",
        "project_path:grp/app:ref_type:mr:ref:1",
        "repo:grp/app:ref:main",
    ] {
        assert!(GitLabSubject::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn terraform_cloud_subjects() {
    assert_eq!(
        TerraformCloudSubject::parse(
            "organization:acme:project:Default Project:workspace:networking-prod:run_phase:apply"
        )
        .unwrap(),
        TerraformCloudSubject {
            organization: "acme".to_string(),
            project: "Default Project".to_string(),
            workspace: "networking-prod".to_string(),
            run_phase: TerraformRunPhase::Apply,
        }
    );
}

#[test]
fn workloads_parse_their_subject_by_issuer() {
    let github = CiWorkload::new(
        "https://token.actions.githubusercontent.com",
        "repo:acme/web:pull_request",
    );
    assert!(matches!(
        github.subject_details(),
        Ok(SubjectDetails::GitHub(GitHubSubject {
            context: Some(GitHubContext::PullRequest),
            ..
        }))
    ));
    let gitlab = CiWorkload::new(
        "https://gitlab.com",
        "project_path:grp/app:ref_type:branch:ref:main",
    );
    assert!(matches!(
        gitlab.subject_details(),
        Ok(SubjectDetails::GitLab(_))
    ));
    let circle = CiWorkload::new(
        "https://oidc.circleci.com/org/abc",
        "org/abc/project/def/user/ghi",
    );
    assert_eq!(circle.subject_details(), Ok(SubjectDetails::Opaque));
    let broken = CiWorkload::new("https://gitlab.com", "repo:acme/web:pull_request");
    assert!(broken.subject_details().is_err());
}

/// Every subject the issuers document fits their grammar in `providers/ci/subjects.tsv`: the
/// grammar that judges trusted patterns knows the subjects the issuers really sign.
#[test]
fn documented_subjects_fit_their_issuer_grammar() {
    use pipeleash::model::{SubjectPattern, judge};
    let github = CiIssuer::GitHubActions;
    for (issuer, subject) in [
        (&github, "repo:octo-org/octo-repo:environment:Production"),
        (
            &github,
            "repo:octo-org/octo-repo:environment:Production%3AV1",
        ),
        (&github, "repo:octo-org/octo-repo:pull_request"),
        (
            &github,
            "repo:octo-org/octo-repo:ref:refs/heads/demo-branch",
        ),
        (&github, "repo:octo-org/octo-repo:ref:refs/tags/demo-tag"),
        (
            &github,
            "repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main",
        ),
        (
            &github,
            "repository_owner:monalisa:repository_visibility:private",
        ),
        (
            &github,
            "job_workflow_ref:octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        ),
        (
            &github,
            "repo:octo-org/octo-repo:environment:prod:job_workflow_ref:octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        ),
        (
            &CiIssuer::GitLab,
            "project_path:mygroup/my-project:ref_type:branch:ref:main",
        ),
        (
            &CiIssuer::GitLab,
            "project_path:agroup/bgroup/myproject:ref_type:tag:ref:v4.2.0",
        ),
        (
            &CiIssuer::TerraformCloud,
            "organization:my-org-name:project:Default Project:workspace:my-workspace-name:run_phase:plan",
        ),
        (
            &CiIssuer::TerraformCloud,
            "organization:my-org:workspace:my-ws:run_phase:apply",
        ),
        (
            &CiIssuer::Buildkite,
            "organization:acme-inc:pipeline:super-app:ref:refs/heads/main:commit:0123abcd:step:deploy",
        ),
        (
            &CiIssuer::CircleCi,
            "org/0f1e2d3c-aaaa/project/1a2b3c4d-bbbb/user/9f8e7d6c-cccc",
        ),
        (
            &CiIssuer::CircleCi,
            "org/0f1e/project/1a2b/user/9f8e/vcs-origin/github.com/acme/web/vcs-ref/refs/heads/main",
        ),
        (&CiIssuer::Bitbucket, "{a1b2c3d4-0000}:{e5f6a7b8-1111}"),
        (
            &CiIssuer::Bitbucket,
            "{a1b2c3d4-0000}:{c9d0e1f2-2222}:{e5f6a7b8-1111}",
        ),
        (&CiIssuer::AzureDevOps, "sc://acme/web/deploy-prod"),
    ] {
        let scope = judge(
            issuer,
            SubjectPattern {
                value: subject,
                wildcards: false,
                ignore_case: false,
            },
            &[],
        );
        assert!(scope.fits_grammar, "{issuer} `{subject}`: {scope:?}");
    }
}
