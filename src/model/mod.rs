//! The provider-neutral model: identities, trusts, CI workloads, grants, permissions, usage and
//! findings. Provider engines (`aws`, `gcp`, `azure`) convert their raw wire data into these
//! types once; everything after normalization works on them.

mod finding;
mod grant;
mod identity;
mod inventory;
mod source;
mod subject;
pub mod time;
mod trust;
mod usage;
mod workload;

pub use finding::{Evidence, Finding};
pub use grant::{Grant, GrantBody, GrantId};
pub use identity::{Identity, IdentityId, IdentityIdError, IdentityKind};
pub use inventory::{Container, Inventory, InventoryError};
pub use source::{Collector, LogFile, ObservedUsage, UsageSource};
pub use subject::{
    Characters, Field, FieldRole, JudgedSubject, Position, PullRequests, SUBJECTS_TSV, Segment,
    SubjectConstraint, SubjectContext, SubjectGrammar, SubjectGrammarError, SubjectJudgment,
    SubjectPattern, SubjectScope, TenantNamedBy, grammar_for, judge, judge_trust,
    parse_subject_grammars, subject_grammars,
};
pub use trust::{
    ClaimCondition, ClaimMatch, ClaimOperator, FederatedTrust, PrincipalRef, SetOperator, Trust,
};
pub use usage::{
    Coverage, ObservationWindow, Outcome, Permission, SkippedSource, TimeWindow, Usage, UsageEvent,
    UsageKey, UsageRecord,
};
pub use workload::{
    CiIssuer, CiWorkload, GitHubContext, GitHubRepository, GitHubSubject, GitLabRefType,
    GitLabSubject, ISSUERS_TSV, IssuerRule, IssuerTableError, SubjectDetails, SubjectError,
    TerraformCloudSubject, TerraformRunPhase, issuer_table, parse_issuer_table,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The cloud a piece of the model belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
        })
    }
}

/// Whether a grant allows or denies what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// How serious a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// How sure pipeleash is that a finding is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}
