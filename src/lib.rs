//! pipeleash: a least-privilege analyzer for the identities that CI/CD pipelines use in
//! AWS, Azure and GCP.
//!
//! The crate is split into a pure core (model, provider engines, catalog, checks) and thin
//! edges (the CLI, and later the collectors and log readers). Everything in the core takes its
//! inputs as arguments and returns values; nothing in it reads files, clocks or the network.
//! See `docs/ARCHITECTURE.md` for the code map.

pub mod access;
pub mod analysis;
pub mod aws;
pub mod azure;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod config;
pub mod gcp;
pub mod generate;
pub mod graph;
pub mod incremental;
mod intern;
pub mod matching;
pub mod model;
pub mod output;
pub mod remote_logs;
pub mod snapshot;
