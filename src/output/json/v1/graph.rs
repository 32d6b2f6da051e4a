//! `pipeleash graph who-can --format json`, `graph reach` and `graph paths`: query results of
//! the access graph.

use crate::graph::query::{Hop, WhoCan};
use serde::Serialize;

/// The `--format json` shape of `graph who-can`.
#[derive(Debug, Serialize)]
pub struct WhoCanView<'a> {
    version: u32,
    action: &'a str,
    resource: Option<&'a str>,
    identities: Vec<WhoCanRowView<'a>>,
}

/// One identity that can do the action, how, and who can become it.
#[derive(Debug, Serialize)]
pub struct WhoCanRowView<'a> {
    identity: &'a str,
    decision: &'a str,
    how: &'a [String],
    reachable_from: &'a [String],
}

/// The `--format json` shape of `graph reach` and `graph paths`: one entry per path.
#[derive(Debug, Serialize)]
pub struct PathsView<'a> {
    version: u32,
    from: &'a str,
    to: Option<&'a str>,
    paths: Vec<PathView<'a>>,
}

/// One path.
#[derive(Debug, Serialize)]
pub struct PathView<'a> {
    /// The node the path ends at.
    target: &'a str,
    hops: Vec<HopView<'a>>,
}

/// One edge of a path.
#[derive(Debug, Serialize)]
pub struct HopView<'a> {
    from: &'a str,
    to: &'a str,
    edge: &'a str,
    why: &'a str,
}

impl<'a> WhoCanView<'a> {
    /// The view of the identities `rows` that can do `action` (on `resource`).
    pub fn new(action: &'a str, resource: Option<&'a str>, rows: &'a [WhoCan]) -> Self {
        WhoCanView {
            version: 1,
            action,
            resource,
            identities: rows
                .iter()
                .map(|row| WhoCanRowView {
                    identity: row.identity.as_str(),
                    decision: row.allowance.as_str(),
                    how: &row.how,
                    reachable_from: &row.reachable_from,
                })
                .collect(),
        }
    }
}

impl<'a> PathsView<'a> {
    /// The view of the paths from `from` (to `to`), each a list of hops.
    pub fn new(from: &'a str, to: Option<&'a str>, paths: &'a [Vec<Hop>]) -> Self {
        PathsView {
            version: 1,
            from,
            to,
            paths: paths
                .iter()
                .map(|path| PathView {
                    target: path.last().map(|hop| hop.to.as_str()).unwrap_or(from),
                    hops: path
                        .iter()
                        .map(|hop| HopView {
                            from: &hop.from,
                            to: &hop.to,
                            edge: hop.kind.as_str(),
                            why: &hop.explanation,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
