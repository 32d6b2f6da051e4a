//! The JSON views, one module per version. See [`crate::output`] for the versioning rule.

pub mod v1;
