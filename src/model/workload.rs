//! CI workloads: the pipeline side of a federation — which CI system issued the token (from its
//! issuer URL, via the embedded table `providers/ci/issuers.tsv`) and the token's subject,
//! parsed into typed form for the systems whose subject format is documented.

use crate::matching::{Case, glob_match};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// The CI system behind an OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CiIssuer {
    GitHubActions,
    GitLab,
    TerraformCloud,
    CircleCi,
    Bitbucket,
    AzureDevOps,
    Buildkite,
    /// An issuer pipeleash does not recognise, with its URL.
    Other(String),
}

impl CiIssuer {
    /// Recognise the CI system behind an issuer URL, using the embedded issuer table.
    pub fn from_issuer_url(url: &str) -> CiIssuer {
        let url = url.trim();
        let normalized = url.strip_suffix('/').unwrap_or(url);
        let table = match issuer_table() {
            Ok(table) => table,
            // A broken embedded table is caught by the tests; at run time the honest answer is
            // "not recognised", never a guess.
            Err(_) => return CiIssuer::Other(url.to_string()),
        };
        table
            .iter()
            .find(|rule| glob_match(&rule.pattern, normalized, Case::Insensitive))
            .map(|rule| rule.issuer.clone())
            .unwrap_or_else(|| CiIssuer::Other(url.to_string()))
    }

    /// The kind name used in `providers/ci/issuers.tsv` and in reports.
    pub fn kind(&self) -> &str {
        match self {
            CiIssuer::GitHubActions => "github-actions",
            CiIssuer::GitLab => "gitlab",
            CiIssuer::TerraformCloud => "terraform-cloud",
            CiIssuer::CircleCi => "circleci",
            CiIssuer::Bitbucket => "bitbucket",
            CiIssuer::AzureDevOps => "azure-devops",
            CiIssuer::Buildkite => "buildkite",
            CiIssuer::Other(_) => "other",
        }
    }

    /// The issuer of a kind name of `providers/ci/issuers.tsv` (never `other`).
    pub fn from_kind(kind: &str) -> Option<CiIssuer> {
        Some(match kind {
            "github-actions" => CiIssuer::GitHubActions,
            "gitlab" => CiIssuer::GitLab,
            "terraform-cloud" => CiIssuer::TerraformCloud,
            "circleci" => CiIssuer::CircleCi,
            "bitbucket" => CiIssuer::Bitbucket,
            "azure-devops" => CiIssuer::AzureDevOps,
            "buildkite" => CiIssuer::Buildkite,
            _ => return None,
        })
    }
}

impl fmt::Display for CiIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CiIssuer::Other(url) => write!(f, "other ({url})"),
            known => f.write_str(known.kind()),
        }
    }
}

/// One line of the issuer table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerRule {
    pub issuer: CiIssuer,
    /// Glob over the issuer URL (case-insensitive, trailing `/` removed).
    pub pattern: String,
}

/// A malformed line in an issuer table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerTableError {
    #[error("issuer table line {line}: expected `<kind>\\t<issuer url pattern>`")]
    Shape { line: usize },
    #[error("issuer table line {line}: unknown kind `{kind}`")]
    UnknownKind { line: usize, kind: String },
}

/// The issuer table embedded from `providers/ci/issuers.tsv`.
pub const ISSUERS_TSV: &str = include_str!("../../providers/ci/issuers.tsv");

/// Parse an issuer table in the `providers/ci/issuers.tsv` format. `#` starts a comment line.
pub fn parse_issuer_table(text: &str) -> Result<Vec<IssuerRule>, IssuerTableError> {
    let mut rules = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut fields = trimmed.split('\t');
        let (Some(kind), Some(pattern), None) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(IssuerTableError::Shape { line });
        };
        let issuer =
            CiIssuer::from_kind(kind.trim()).ok_or_else(|| IssuerTableError::UnknownKind {
                line,
                kind: kind.to_string(),
            })?;
        let pattern = pattern.trim();
        rules.push(IssuerRule {
            issuer,
            pattern: pattern.strip_suffix('/').unwrap_or(pattern).to_string(),
        });
    }
    Ok(rules)
}

/// The embedded issuer table, parsed once.
pub fn issuer_table() -> Result<&'static [IssuerRule], &'static IssuerTableError> {
    static TABLE: OnceLock<Result<Vec<IssuerRule>, IssuerTableError>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse_issuer_table(ISSUERS_TSV))
        .as_ref()
        .map(Vec::as_slice)
}

/// A pipeline run as seen by a cloud: the token issuer and the token's `sub` claim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CiWorkload {
    pub issuer: CiIssuer,
    /// The issuer URL exactly as in the token or trust (`iss`); kept because one CI system has
    /// many issuers (per CircleCI org, per GitHub enterprise, per Azure DevOps org).
    pub issuer_url: String,
    pub subject: String,
}

impl CiWorkload {
    pub fn new(issuer_url: &str, subject: &str) -> Self {
        CiWorkload {
            issuer: CiIssuer::from_issuer_url(issuer_url),
            issuer_url: issuer_url.to_string(),
            subject: subject.to_string(),
        }
    }

    /// The subject in typed form, for the CI systems whose subject format is documented.
    pub fn subject_details(&self) -> Result<SubjectDetails, SubjectError> {
        Ok(match self.issuer {
            CiIssuer::GitHubActions => SubjectDetails::GitHub(GitHubSubject::parse(&self.subject)?),
            CiIssuer::GitLab => SubjectDetails::GitLab(GitLabSubject::parse(&self.subject)?),
            CiIssuer::TerraformCloud => {
                SubjectDetails::TerraformCloud(TerraformCloudSubject::parse(&self.subject)?)
            }
            _ => SubjectDetails::Opaque,
        })
    }
}

/// A subject parsed per CI system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectDetails {
    GitHub(GitHubSubject),
    GitLab(GitLabSubject),
    TerraformCloud(TerraformCloudSubject),
    /// A CI system whose subject pipeleash keeps as an opaque string.
    Opaque,
}

/// A subject that does not have the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error("subject `{subject}` is not a {system} subject: {reason}")]
    Malformed {
        system: &'static str,
        subject: String,
        reason: &'static str,
    },
}

/// A GitHub repository as named in a subject. The ids are present in the immutable subject
/// form (`repo:octo-org@123/app@456:…`), which survives renames and name recycling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GitHubRepository {
    pub owner: String,
    pub owner_id: Option<u64>,
    pub name: String,
    pub id: Option<u64>,
}

impl GitHubRepository {
    /// `owner/name`, the form GitHub shows.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// What a GitHub job ran for, as far as the subject says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GitHubContext {
    /// `ref:refs/heads/<branch>`
    Branch(String),
    /// `ref:refs/tags/<tag>`
    Tag(String),
    /// Any other `ref:` value, kept whole.
    Ref(String),
    /// `environment:<name>`: the job used a deployment environment.
    Environment(String),
    /// `pull_request`: the job ran for a pull request (any branch, any fork allowed by the
    /// repository settings).
    PullRequest,
}

/// A GitHub Actions `sub` claim in the default form (`repo:<owner>/<repo>:<context>`), the
/// immutable form (`repo:<owner>@<id>/<repo>@<id>:<context>`), or a customised form built from
/// `include_claim_keys` (`repository_owner_id:1:repository_id:2:environment:prod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubSubject {
    /// From the `repo` key; absent when a customised subject leaves it out.
    pub repository: Option<GitHubRepository>,
    pub context: Option<GitHubContext>,
    /// Every `key:value` pair in order of appearance (`pull_request` has an empty value).
    pub claims: Vec<(String, String)>,
}

/// Claim keys GitHub can put in a subject. A token is a key only where a key can stand: after
/// a complete `key:value` pair, so `event_name:pull_request` keeps `pull_request` as a value.
const GITHUB_SUBJECT_KEYS: &[&str] = &[
    "actor",
    "actor_id",
    "base_ref",
    "context",
    "environment",
    "event_name",
    "head_ref",
    "job_workflow_ref",
    "job_workflow_sha",
    "pull_request",
    "ref",
    "ref_protected",
    "ref_type",
    "repo",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "repository_visibility",
    "runner_environment",
    "workflow",
    "workflow_ref",
    "workflow_sha",
];

/// Keys that stand alone in a subject, without a value.
const GITHUB_VALUELESS_KEYS: &[&str] = &["pull_request"];

impl GitHubSubject {
    pub fn parse(subject: &str) -> Result<GitHubSubject, SubjectError> {
        let malformed = |reason| SubjectError::Malformed {
            system: "GitHub Actions",
            subject: subject.to_string(),
            reason,
        };
        let claims = split_key_values(subject, GITHUB_SUBJECT_KEYS, GITHUB_VALUELESS_KEYS)
            .ok_or_else(|| malformed("it must be `key:value` pairs starting with a claim key"))?;
        let repository =
            match claims.iter().find(|(key, _)| key == "repo") {
                Some((_, value)) => Some(parse_github_repository(value).ok_or_else(|| {
                    malformed("`repo` must be `owner/name` or `owner@id/name@id`")
                })?),
                None => None,
            };
        let context = claims.iter().find_map(|(key, value)| match key.as_str() {
            "pull_request" => Some(GitHubContext::PullRequest),
            "environment" => Some(GitHubContext::Environment(value.clone())),
            "ref" => Some(if let Some(branch) = value.strip_prefix("refs/heads/") {
                GitHubContext::Branch(branch.to_string())
            } else if let Some(tag) = value.strip_prefix("refs/tags/") {
                GitHubContext::Tag(tag.to_string())
            } else {
                GitHubContext::Ref(value.clone())
            }),
            _ => None,
        });
        Ok(GitHubSubject {
            repository,
            context,
            claims,
        })
    }
}

fn parse_github_repository(value: &str) -> Option<GitHubRepository> {
    let (owner, name) = value.split_once('/')?;
    let split_id = |part: &str| -> Option<(String, Option<u64>)> {
        match part.rsplit_once('@') {
            Some((name, id)) => Some((name.to_string(), Some(id.parse().ok()?))),
            None => Some((part.to_string(), None)),
        }
    };
    let (owner, owner_id) = split_id(owner)?;
    let (name, id) = split_id(name)?;
    if owner.is_empty() || name.is_empty() || name.contains('/') {
        return None;
    }
    Some(GitHubRepository {
        owner,
        owner_id,
        name,
        id,
    })
}

/// Split `k1:v1:k2:v2…` where values may themselves contain `:`. A token is taken as a key when
/// it is a known key and the previous pair already has a value (or there is none yet).
fn split_key_values(
    subject: &str,
    keys: &[&str],
    valueless: &[&str],
) -> Option<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    // Whether the last pair still waits for its value.
    let mut awaiting_value = false;
    for token in subject.split(':') {
        let is_key = keys.contains(&token) && !awaiting_value;
        if is_key {
            awaiting_value = !valueless.contains(&token);
            pairs.push((token.to_string(), String::new()));
            continue;
        }
        let (_, value) = pairs.last_mut()?;
        if awaiting_value {
            value.push_str(token);
            awaiting_value = false;
        } else {
            value.push(':');
            value.push_str(token);
        }
    }
    if awaiting_value || pairs.is_empty() {
        return None;
    }
    Some(pairs)
}

/// The kind of ref a GitLab job ran for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GitLabRefType {
    Branch,
    Tag,
}

/// A GitLab ID token subject: `project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabSubject {
    pub project_path: String,
    pub ref_type: GitLabRefType,
    pub ref_name: String,
}

impl GitLabSubject {
    pub fn parse(subject: &str) -> Result<GitLabSubject, SubjectError> {
        let malformed = |reason| SubjectError::Malformed {
            system: "GitLab",
            subject: subject.to_string(),
            reason,
        };
        let claims = split_key_values(subject, &["project_path", "ref_type", "ref"], &[])
            .ok_or_else(|| malformed("it must be `project_path:…:ref_type:…:ref:…`"))?;
        let get = |key: &str| {
            claims
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, value)| value.as_str())
        };
        let project_path =
            get("project_path").ok_or_else(|| malformed("`project_path` is missing"))?;
        let ref_type = match get("ref_type") {
            Some("branch") => GitLabRefType::Branch,
            Some("tag") => GitLabRefType::Tag,
            _ => return Err(malformed("`ref_type` must be `branch` or `tag`")),
        };
        let ref_name = get("ref").ok_or_else(|| malformed("`ref` is missing"))?;
        if project_path.is_empty() || !project_path.contains('/') {
            return Err(malformed("`project_path` must be `<group>/<project>`"));
        }
        Ok(GitLabSubject {
            project_path: project_path.to_string(),
            ref_type,
            ref_name: ref_name.to_string(),
        })
    }
}

/// The run phase of an HCP Terraform / Terraform Cloud run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TerraformRunPhase {
    Plan,
    Apply,
}

/// A Terraform Cloud workload identity subject:
/// `organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformCloudSubject {
    pub organization: String,
    pub project: String,
    pub workspace: String,
    pub run_phase: TerraformRunPhase,
}

impl TerraformCloudSubject {
    pub fn parse(subject: &str) -> Result<TerraformCloudSubject, SubjectError> {
        let malformed = |reason| SubjectError::Malformed {
            system: "Terraform Cloud",
            subject: subject.to_string(),
            reason,
        };
        let claims = split_key_values(
            subject,
            &["organization", "project", "workspace", "run_phase"],
            &[],
        )
        .ok_or_else(|| {
            malformed("it must be `organization:…:project:…:workspace:…:run_phase:…`")
        })?;
        let map: BTreeMap<&str, &str> = claims
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let field = |key: &'static str| {
            map.get(key)
                .map(|value| value.to_string())
                .ok_or_else(|| malformed("a field is missing"))
        };
        let run_phase = match map.get("run_phase") {
            Some(&"plan") => TerraformRunPhase::Plan,
            Some(&"apply") => TerraformRunPhase::Apply,
            _ => return Err(malformed("`run_phase` must be `plan` or `apply`")),
        };
        Ok(TerraformCloudSubject {
            organization: field("organization")?,
            project: field("project")?,
            workspace: field("workspace")?,
            run_phase,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_issuer_table_parses() {
        let table = issuer_table().unwrap();
        assert!(table.len() >= 6);
    }

    #[test]
    fn issuer_table_errors_name_the_line() {
        assert_eq!(
            parse_issuer_table("# c\ngitlab\n"),
            Err(IssuerTableError::Shape { line: 2 })
        );
        assert!(matches!(
            parse_issuer_table("jenkins\thttps://x\n"),
            Err(IssuerTableError::UnknownKind { line: 1, .. })
        ));
    }

    #[test]
    fn splits_values_that_contain_colons() {
        let pairs = split_key_values(
            "repo:o/r:job_workflow_ref:o/w/.github/workflows/d.yml@refs/heads/main",
            GITHUB_SUBJECT_KEYS,
            GITHUB_VALUELESS_KEYS,
        )
        .unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, "o/w/.github/workflows/d.yml@refs/heads/main");
        let pairs =
            split_key_values("ref:a:b", GITHUB_SUBJECT_KEYS, GITHUB_VALUELESS_KEYS).unwrap();
        assert_eq!(pairs, vec![("ref".to_string(), "a:b".to_string())]);
        assert_eq!(split_key_values("nokey:x", GITHUB_SUBJECT_KEYS, &[]), None);
        assert_eq!(split_key_values("repo", GITHUB_SUBJECT_KEYS, &[]), None);
    }
}
