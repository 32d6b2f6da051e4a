//! Version 1 of every JSON output, one module per concept. Frozen: fields are only ever
//! added (see [`crate::output`]).

pub mod analysis;
pub mod catalog;
pub mod collect;
pub mod common;
pub mod drift;
pub mod finding;
pub mod graph;
pub mod minimize;
pub mod policy;
pub mod simulate;
pub mod snapshots;
pub mod usage;
