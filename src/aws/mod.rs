//! The AWS engine: the IAM policy language (parsing, canonical output), ARNs, condition
//! operators, policy variables and the policy evaluator.
//!
//! Entry point: [`parse_policy`] turns policy text into a [`PolicyDocument`].

pub mod arn;
pub mod condition;
pub mod context;
mod pattern;
pub mod policy;
mod raw;
pub mod truth;
pub mod variables;

pub use arn::{Arn, ArnPattern};
pub use condition::{ConditionOperator, OperatorBase, SetQuantifier};
pub use context::{Completeness, Context, ContextValue};
pub use pattern::Pattern;
pub use policy::{
    ActionClause, Condition, PolicyDocument, PolicyError, PolicyVersion, Principal,
    PrincipalClause, PrincipalMap, ResourceClause, Statement, StatementLocation, parse_policy,
};
pub use truth::Truth;
