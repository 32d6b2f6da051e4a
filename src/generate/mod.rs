//! Synthetic log sets with known ground truth, in each source's real delivery layout: the
//! CloudTrail layout (one small file per account, region and 5 minutes), the Cloud Logging
//! sink layout (one file per audit log and hour) and the Activity Log export layout (one
//! `PT1H.json` blob per subscription and hour), each with a `ground-truth.json` of what a
//! correct reader must find.
//!
//! `pipeleash generate …` and the benchmarks and ground-truth tests use them. They write files,
//! so they sit outside the pure core; nothing in the analysis depends on them.

pub mod azure_activity_log;
pub mod cloudtrail;
pub mod gcp_audit_log;
