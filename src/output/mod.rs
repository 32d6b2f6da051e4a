//! What pipeleash prints for scripts: the versioned JSON views of every command.
//!
//! A *view* is a plain `Serialize` struct that fixes the shape of one command's JSON output:
//! its field names, their order and their types. Views are built from the domain types (the
//! neutral [`crate::analysis::Analysis`], a cloud's usage, a drift, a minimization, a catalog,
//! a collection's inventory) by the `new`/`From` constructors next to them, and own no analysis: they copy, count,
//! group and format what the domain already decided. The domain types themselves never derive
//! `Serialize` for printing, so an internal change cannot change an output by accident.
//!
//! Versioning: the views of [`json::v1`] are frozen. Within `v1` a field is never renamed,
//! retyped or removed, and its meaning does not change; a new optional field may be added. An
//! incompatible change makes a `json::v2` module beside `v1` (the command then chooses the
//! version), so a script written against `v1` keeps working. The version a view prints
//! (`version`, `format_version` or `format`) is part of its frozen shape.
//!
//! Where a domain type carries printed JSON (the GCP and Azure minimizations embedded as the
//! proposals of `audit`), it holds its view as a `serde_json::Value` (`render_json`); with
//! serde_json's `preserve_order`, that value prints the view's fields in the same order.
//!
//! Not here: the stored formats that pipeleash writes and reads back (the inventory files of
//! `src/*/inventory.rs`, the snapshot store's files in `src/snapshot/`, the read state of
//! `*/incremental.rs`, the log accumulators and the generators' records), which are versioned
//! by their own readers; the SARIF log (`src/cli/sarif.rs`) and the providers' apply formats
//! (Terraform, policy documents, role definitions), which follow their own specifications.
//!
//! The view types are named `…View` (`json::v1::usage::aws::UsageView`): the module path
//! carries the version and the concept. Tables and text stay with their commands in
//! `src/cli/`, and may read a view or the helpers here so that both say the same thing.

pub mod json;

use crate::model::Trust;
use chrono::{DateTime, SecondsFormat, Utc};

/// A time as every output prints it: RFC 3339 in UTC with whole seconds
/// (`2026-01-03T10:00:00Z`).
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A word as a POSIX shell reads it, for the commands the views print: as is when every
/// character is safe (letters, digits, `@%+=:,./_-`), else single-quoted with each `'` written
/// `'\''` (<https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_02_02>).
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Who can become an identity, in a few words: each distinct kind of trust once, in the
/// order of `trusts` (`github-actions, access key`, `account 111122223333`, `anyone`).
pub fn trust_summary(trusts: &[Trust]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for trust in trusts {
        let part = match trust {
            Trust::Federated(federated) => {
                crate::model::CiIssuer::from_issuer_url(&federated.issuer).to_string()
            }
            Trust::Identity { .. } => "identity".into(),
            Trust::LongLivedKey { .. } => "access key".into(),
            Trust::Service { name } => name.trim_end_matches(".amazonaws.com").to_string(),
            Trust::Account { id, .. } => format!("account {id}"),
            Trust::Anyone => "anyone".into(),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.join(", ")
}
