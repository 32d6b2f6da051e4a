//! **What it finds:** federated identity credentials whose issuer does not fit their subject
//! or is not one pipeleash knows:
//!
//! - the subject has the form of one CI system (GitHub `repo:acme/web:ref:refs/heads/main`,
//!   GitLab `project_path:acme/web:ref_type:branch:ref:main`, HCP Terraform
//!   `organization:acme:project:p:workspace:w:run_phase:apply`, Azure DevOps `sc://…`, …, from
//!   `providers/ci/subjects.tsv`) but the issuer is another one, or an issuer that is no CI
//!   system at all (high);
//! - the issuer is neither a known CI issuer (`providers/ci/issuers.tsv`), nor Microsoft Entra
//!   (`https://login.microsoftonline.com/<tenant>/v2.0`, `https://sts.windows.net/<tenant>/`),
//!   nor a Kubernetes cluster of AKS, EKS or GKE (medium: the finding says which issuer);
//! - a known CI issuer whose subject fits none of that issuer's forms: no token it signs can
//!   match, or the form is one pipeleash does not know (low);
//! - a CI issuer with an audience other than `api://AzureADTokenExchange` (or its national
//!   cloud forms), the value Microsoft documents for workload identity federation (low).
//!
//! Sources: <https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust>
//! (issuer, subject and audience of each CI system),
//! <https://learn.microsoft.com/azure/aks/workload-identity-overview> (AKS issuers).
//!
//! **Why it matters:** Entra accepts any token the issuer signs whose subject matches. An
//! issuer that is not the CI system the subject was written for is whoever runs it — a
//! self-hosted server, a cluster, a look-alike domain — and whoever runs it can mint that
//! subject. An unknown issuer deserves a check that it is yours. A non-default audience means
//! tokens minted for another relying party may be accepted here.
//!
//! **Example:** `{"issuer": "https://gitlab.example.net", "subject":
//! "repo:acme/web:ref:refs/heads/main"}`: a GitHub subject trusted from a GitLab server.
//!
//! **Remediation:** set the issuer the subject belongs to
//! (`https://token.actions.githubusercontent.com` for GitHub Actions), remove credentials for
//! issuers you do not run, and use the audience `api://AzureADTokenExchange`.

use super::{AzureFindings, AzureUnderCheck, FederatedCredential};
use crate::graph::issuer_host;
use crate::model::{
    CiIssuer, Confidence, Evidence, Finding, Severity, SubjectPattern, grammar_for, judge,
};

pub const ID: &str = "azure-unexpected-issuer";

/// The audiences Microsoft documents for workload identity federation (public, US Government
/// and China clouds).
const EXCHANGE_AUDIENCES: [&str; 3] = [
    "api://AzureADTokenExchange",
    "api://AzureADTokenExchangeUSGov",
    "api://AzureADTokenExchangeChina",
];

/// The CI systems whose subject grammar pipeleash knows, in the order a subject is tried.
const CI_ISSUERS: [CiIssuer; 7] = [
    CiIssuer::GitHubActions,
    CiIssuer::GitLab,
    CiIssuer::TerraformCloud,
    CiIssuer::Buildkite,
    CiIssuer::CircleCi,
    CiIssuer::Bitbucket,
    CiIssuer::AzureDevOps,
];

/// An issuer that is not a CI system but is well known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloudIssuer {
    Entra,
    Aks,
    Eks,
    Gke,
}

impl CloudIssuer {
    fn of(issuer_url: &str) -> Option<CloudIssuer> {
        let host = issuer_host(issuer_url);
        let name = host.split('/').next().unwrap_or_default();
        if matches!(
            name,
            "login.microsoftonline.com"
                | "sts.windows.net"
                | "login.microsoftonline.us"
                | "login.partner.microsoftonline.cn"
        ) {
            Some(CloudIssuer::Entra)
        } else if name.ends_with(".oic.prod-aks.azure.com") {
            Some(CloudIssuer::Aks)
        } else if name.starts_with("oidc.eks.") && name.ends_with(".amazonaws.com") {
            Some(CloudIssuer::Eks)
        } else if name == "container.googleapis.com" {
            Some(CloudIssuer::Gke)
        } else {
            None
        }
    }

    fn label(self) -> &'static str {
        match self {
            CloudIssuer::Entra => "Microsoft Entra",
            CloudIssuer::Aks => "an AKS cluster",
            CloudIssuer::Eks => "an EKS cluster",
            CloudIssuer::Gke => "a GKE cluster",
        }
    }
}

/// The CI system whose grammar a subject (or, `wildcards`, a `matches` comparand) fits, if any.
fn subject_form(subject: &str, wildcards: bool) -> Option<CiIssuer> {
    CI_ISSUERS.into_iter().find(|issuer| {
        // Bitbucket's form (`{repository}:{step}`) is any two or three `:`-separated values;
        // only its braced UUIDs tell it apart from other issuers' subjects.
        if *issuer == CiIssuer::Bitbucket && !subject.starts_with('{') {
            return false;
        }
        judge(
            issuer,
            SubjectPattern {
                value: subject,
                wildcards,
                ignore_case: false,
            },
            &[],
        )
        .fits_grammar
    })
}

/// The `sub` values a credential names: its subject, or the `sub` comparands of its
/// expression, each with whether `*` in it is a wildcard (`matches`).
fn subjects(credential: &FederatedCredential<'_>) -> Vec<(String, bool)> {
    if let Some(subject) = credential.subject {
        return vec![(subject.to_string(), false)];
    }
    credential
        .expression
        .and_then(|expression| super::expression::parse(&expression.value).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|clause| clause.claim == "sub")
        .map(|clause| {
            let wildcards = clause.operator == super::expression::Operator::Matches;
            (clause.comparand, wildcards)
        })
        .collect()
}

pub fn run(check: &AzureUnderCheck<'_>, findings: &mut AzureFindings) {
    for credential in check.federated_credentials() {
        let issuer = CiIssuer::from_issuer_url(credential.issuer);
        let cloud = CloudIssuer::of(credential.issuer);
        let subjects = subjects(&credential);
        let mut push = |severity: Severity,
                        confidence: Confidence,
                        message: String,
                        detail: String| {
            findings.push((
                credential.identity(),
                Finding {
                    id: ID,
                    severity,
                    confidence,
                    subject: credential.subject_label(),
                    message,
                    evidence: vec![Evidence {
                        source: credential.source.clone(),
                        detail,
                    }],
                    remediation: "set the issuer the subject belongs to, remove credentials for issuers you do not run, and use the audience `api://AzureADTokenExchange`".into(),
                },
            ));
        };
        let known_ci = !matches!(issuer, CiIssuer::Other(_));
        for (subject, wildcards) in &subjects {
            let own_form = known_ci
                && grammar_for(&issuer).is_some()
                && judge(
                    &issuer,
                    SubjectPattern {
                        value: subject,
                        wildcards: *wildcards,
                        ignore_case: false,
                    },
                    &[],
                )
                .fits_grammar;
            if own_form {
                continue;
            }
            match subject_form(subject, *wildcards) {
                Some(form) if form != issuer => {
                    let issuer_words = match (&issuer, cloud) {
                        (CiIssuer::Other(_), Some(cloud)) => cloud.label().to_string(),
                        (CiIssuer::Other(_), None) => "an issuer pipeleash does not know".into(),
                        (known, _) => known.to_string(),
                    };
                    push(
                        Severity::High,
                        Confidence::High,
                        format!(
                            "the subject has the form {form} writes, but the issuer `{}` is {issuer_words}: whoever runs that issuer can mint it",
                            credential.issuer
                        ),
                        format!("issuer `{}`, subject `{subject}`", credential.issuer),
                    );
                }
                _ if known_ci => push(
                    Severity::Low,
                    Confidence::Medium,
                    format!(
                        "the subject fits none of the forms {issuer} writes: no token of `{}` can match, or the form is unknown to pipeleash",
                        credential.issuer
                    ),
                    format!("issuer `{}`, subject `{subject}`", credential.issuer),
                ),
                _ => {}
            }
        }
        if !known_ci && cloud.is_none() {
            push(
                Severity::Medium,
                Confidence::Medium,
                format!(
                    "the issuer `{}` is neither a known CI issuer nor Microsoft Entra or a Kubernetes cluster of AKS, EKS or GKE: confirm it is yours",
                    credential.issuer
                ),
                format!(
                    "issuer `{}`, subject {}",
                    credential.issuer,
                    credential
                        .subject
                        .map_or_else(|| "(flexible expression)".to_string(), |s| format!("`{s}`"))
                ),
            );
        }
        if known_ci {
            let odd: Vec<&String> = credential
                .audiences
                .iter()
                .filter(|audience| !EXCHANGE_AUDIENCES.contains(&audience.as_str()))
                .collect();
            if !odd.is_empty() {
                push(
                    Severity::Low,
                    Confidence::High,
                    format!(
                        "the credential accepts the audience {} instead of `api://AzureADTokenExchange`",
                        odd.iter()
                            .map(|audience| format!("`{audience}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!(
                        "issuer `{}`, audiences {:?}",
                        credential.issuer, credential.audiences
                    ),
                );
            }
        }
    }
}
