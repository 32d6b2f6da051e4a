//! `pipeleash usage --format json`: what each identity used, one view per log source, each
//! with its own version field (AWS CloudTrail `version: 1`; GCP Cloud Audit Logs and the Azure
//! Activity Log `format_version: 1`).

pub mod aws;
pub mod azure;
pub mod gcp;
