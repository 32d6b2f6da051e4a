//! The AWS engine: the IAM policy language (parsing, canonical output), ARNs, condition
//! operators, policy variables and the policy evaluator.
//!
//! Entry points: [`parse_policy`] turns policy text into a [`PolicyDocument`];
//! [`CompiledPolicySet`] compiles the policies that apply to one principal once and then
//! decides requests quickly; [`evaluate`] does both for one-off questions.

pub mod analysis;
pub mod arn;
pub mod audit;
pub mod checks;
pub mod cloudtrail;
#[cfg(feature = "aws")]
pub mod collect;
pub mod condition;
pub mod context;
pub mod coverage;
pub mod drift;
pub mod escalation;
pub mod eval;
pub mod grant;
pub mod graph;
pub mod inventory;
pub mod minimize;
pub mod normalize;
mod pattern;
pub mod policy;
mod raw;
pub mod truth;
pub mod variables;

pub use arn::{Arn, ArnPattern};
pub use condition::{ConditionOperator, OperatorBase, SetQuantifier};
pub use context::{
    Completeness, Context, ContextValue, KeyState, KnownPrincipal, PrincipalType,
    add_principal_keys,
};
pub use eval::{
    CompiledPolicy, CompiledPolicySet, Decision, DecisionKind, LayerSummary, NamedPolicy,
    PolicyKind, PolicySet, Request, RequiredResourcePolicy, StatementRef, Verdict, evaluate,
};
pub use pattern::Pattern;
pub use policy::{
    ActionClause, Condition, PolicyDocument, PolicyError, PolicyVersion, Principal,
    PrincipalClause, PrincipalMap, ResourceClause, Statement, StatementLocation, parse_policy,
};
pub use truth::Truth;
