//! Small views several outputs share: one per concept.

use serde::Serialize;

/// The observation window, RFC 3339, both sides known (`analyze`, `audit`, `minimize`).
#[derive(Debug, Serialize)]
pub struct WindowView {
    pub since: String,
    pub until: String,
}

/// The span a log read asked for, RFC 3339; `null` on an open side (`usage` without
/// `--since` reads every record found).
#[derive(Debug, Serialize)]
pub struct ReadWindowView {
    pub since: Option<String>,
    pub until: Option<String>,
}

/// A log file (or object, or query) not read, or not read whole, and why: evidence is
/// missing there.
#[derive(Debug, Serialize)]
pub struct SkippedView {
    pub file: String,
    pub reason: String,
}
