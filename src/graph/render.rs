//! Printing query results: tables for people, DOT and Mermaid for diagrams (the versioned
//! JSON for scripts is `crate::output::json::v1::graph`). Every output is sorted and
//! byte-identical across runs.

use super::query::{Hop, WhoCan};
use std::collections::BTreeSet;

/// `graph who-can` as a table.
pub fn who_can_table(rows: &[WhoCan], graph: &super::AccessGraph) -> String {
    let mut table = crate::cli::new_table(["identity", "decision", "how", "who can become it"]);
    for row in rows {
        // An Azure object id says nothing to a reader: its display name follows.
        let name = (row.identity.provider() == crate::model::Provider::Azure)
            .then(|| graph.node_index(row.identity.as_str()))
            .flatten()
            .and_then(|index| graph.node(index).as_identity())
            .map(|identity| format!("\n({})", identity.name))
            .unwrap_or_default();
        table.add_row([
            format!("{}{name}", row.identity),
            row.allowance.as_str().to_string(),
            row.how.join("\n"),
            row.reachable_from.join("\n"),
        ]);
    }
    table.to_string()
}

/// The edges of `graph who-can` as hops, for diagrams: each source that can become the
/// identity, and the identity to the action.
pub fn who_can_hops(action: &str, rows: &[WhoCan]) -> Vec<Hop> {
    let mut hops = Vec::new();
    for row in rows {
        for source in &row.reachable_from {
            hops.push(Hop {
                from: source.clone(),
                to: row.identity.to_string(),
                kind: super::EdgeKind::CanAssume,
                explanation: "can become".into(),
            });
        }
        hops.push(Hop {
            from: row.identity.to_string(),
            to: format!("action:{action}"),
            kind: super::EdgeKind::Granted,
            explanation: row.allowance.as_str().into(),
        });
    }
    hops
}

/// Paths as a table: one row per hop, paths numbered.
pub fn paths_table(paths: &[Vec<Hop>]) -> String {
    let mut table = crate::cli::new_table(["path", "from", "edge", "to", "why"]);
    for (number, path) in paths.iter().enumerate() {
        for hop in path {
            table.add_row([
                (number + 1).to_string(),
                hop.from.clone(),
                hop.kind.as_str().to_string(),
                hop.to.clone(),
                hop.explanation.clone(),
            ]);
        }
    }
    table.to_string()
}

/// The distinct edges of some paths, sorted.
fn distinct_edges(hops: &[&Hop]) -> Vec<(String, String, String)> {
    let edges: BTreeSet<(String, String, String)> = hops
        .iter()
        .map(|hop| {
            (
                hop.from.clone(),
                hop.to.clone(),
                hop.kind.as_str().to_string(),
            )
        })
        .collect();
    edges.into_iter().collect()
}

/// Hops as a Graphviz DOT digraph.
pub fn dot(hops: &[&Hop]) -> String {
    let quote = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph pipeleash {\n  rankdir=LR;\n  node [shape=box];\n");
    for (from, to, kind) in distinct_edges(hops) {
        out.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\"];\n",
            quote(&from),
            quote(&to),
            kind
        ));
    }
    out.push_str("}\n");
    out
}

/// Hops as a Mermaid flowchart; node ids are numbered in order of first appearance.
pub fn mermaid(hops: &[&Hop]) -> String {
    let edges = distinct_edges(hops);
    let mut names: Vec<String> = Vec::new();
    let id_of = |name: &str, names: &mut Vec<String>| -> usize {
        match names.iter().position(|known| known == name) {
            Some(index) => index,
            None => {
                names.push(name.to_string());
                names.len() - 1
            }
        }
    };
    let mut lines = Vec::new();
    for (from, to, kind) in &edges {
        let a = id_of(from, &mut names);
        let b = id_of(to, &mut names);
        lines.push(format!("  n{a} -->|{kind}| n{b}"));
    }
    let mut out = String::from("flowchart LR\n");
    for (index, name) in names.iter().enumerate() {
        out.push_str(&format!(
            "  n{index}[\"{}\"]\n",
            name.replace('"', "#quot;")
        ));
    }
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}
