//! Azure scopes: ARM ids and how they nest. A scope covers another when its path segments are
//! a prefix of the other's, compared case-insensitively as ARM does; management groups sit
//! above subscriptions through the recorded hierarchy, not through the path.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// An ARM scope: `/`, `/providers/Microsoft.Management/managementGroups/<mg>`,
/// `/subscriptions/<s>`, `/subscriptions/<s>/resourceGroups/<rg>`, or a resource id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AzureScope(String);

impl AzureScope {
    /// Keep the id as written (for display) but without trailing `/` and with a leading one.
    pub fn new(id: &str) -> Self {
        let trimmed = id.trim().trim_end_matches('/');
        if trimmed.starts_with('/') {
            AzureScope(trimmed.to_string())
        } else {
            AzureScope(format!("/{trimmed}"))
        }
    }

    pub fn as_str(&self) -> &str {
        if self.0.is_empty() { "/" } else { &self.0 }
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|segment| !segment.is_empty())
    }

    /// The lower-cased id, used as a map key.
    pub fn key(&self) -> String {
        let key = self.0.to_ascii_lowercase();
        if key.is_empty() { "/".to_string() } else { key }
    }

    /// Does this scope cover `other` by path: equal, or a whole-segment prefix of it?
    /// `/subscriptions/S/resourceGroups/rg` covers `…/resourceGroups/RG/providers/…` but not
    /// `…/resourceGroups/rg2`.
    pub fn covers_path(&self, other: &AzureScope) -> bool {
        let mut theirs = other.segments();
        self.segments().all(|ours| {
            theirs
                .next()
                .is_some_and(|theirs| theirs.eq_ignore_ascii_case(ours))
        })
    }

    /// The subscription scope this scope lies in, if any.
    pub fn subscription(&self) -> Option<AzureScope> {
        let mut segments = self.segments();
        match (segments.next(), segments.next()) {
            (Some(kind), Some(id)) if kind.eq_ignore_ascii_case("subscriptions") => {
                Some(AzureScope(format!("/subscriptions/{id}")))
            }
            _ => None,
        }
    }
}

impl fmt::Display for AzureScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parents of subscriptions and management groups (`child → parent`), from the Management
/// Groups API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagementGroupHierarchy {
    parents: BTreeMap<String, AzureScope>,
}

impl ManagementGroupHierarchy {
    pub fn new() -> Self {
        ManagementGroupHierarchy::default()
    }

    pub fn set_parent(&mut self, child: &AzureScope, parent: AzureScope) {
        self.parents.insert(child.key(), parent);
    }

    /// The management groups above `scope`'s subscription (or above `scope` itself when it is a
    /// management group), nearest first. Cycles end the walk.
    pub fn management_groups_above(&self, scope: &AzureScope) -> Vec<AzureScope> {
        let start = scope.subscription().unwrap_or_else(|| scope.clone());
        let mut seen = BTreeSet::from([start.key()]);
        let mut chain = Vec::new();
        let mut current = start;
        while let Some(parent) = self.parents.get(&current.key()) {
            if !seen.insert(parent.key()) {
                break;
            }
            chain.push(parent.clone());
            current = parent.clone();
        }
        chain
    }

    /// Does an assignment at `assigned` reach `target`: by path, from the root scope `/`, or
    /// through a management group above the target's subscription?
    pub fn covers(&self, assigned: &AzureScope, target: &AzureScope) -> bool {
        if assigned.covers_path(target) {
            return true;
        }
        let key = assigned.key();
        self.management_groups_above(target)
            .iter()
            .any(|group| group.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RG: &str = "/subscriptions/S/resourceGroups/rg";

    fn check(assigned: &str, target: &str, expected: bool) {
        assert_eq!(
            AzureScope::new(assigned).covers_path(&AzureScope::new(target)),
            expected,
            "{assigned} covering {target}"
        );
    }

    #[test]
    fn path_coverage_table() {
        check(RG, RG, true);
        check(
            RG,
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/x",
            true,
        );
        check(RG, "/subscriptions/s/RESOURCEGROUPS/rg/", true);
        check(RG, "/subscriptions/S/resourceGroups/rg2", false);
        check(
            RG,
            "/subscriptions/S/resourceGroups/rg2/providers/Microsoft.Web/sites/a",
            false,
        );
        check(RG, "/subscriptions/S", false);
        check("/subscriptions/S", RG, true);
        check(
            "/subscriptions/S",
            "/subscriptions/S2/resourceGroups/rg",
            false,
        );
        check("/", RG, true);
        check("", RG, true);
    }

    #[test]
    fn management_groups_cover_their_subscriptions() {
        let mut h = ManagementGroupHierarchy::new();
        let mg = |name: &str| {
            AzureScope::new(&format!(
                "/providers/Microsoft.Management/managementGroups/{name}"
            ))
        };
        h.set_parent(&AzureScope::new("/subscriptions/S"), mg("platform"));
        h.set_parent(&mg("platform"), mg("root"));
        let target = AzureScope::new(RG);
        assert!(h.covers(&mg("platform"), &target));
        assert!(h.covers(&mg("ROOT"), &target));
        assert!(!h.covers(&mg("other"), &target));
        assert!(!h.covers(&mg("root"), &AzureScope::new("/subscriptions/S2")));
    }

    proptest! {
        /// Coverage by path never reaches a sibling: a scope covers a target only if every one
        /// of its segments matches the target's at the same position.
        #[test]
        fn never_covers_a_sibling(a in "[a-z]{1,4}", b in "[a-z]{1,4}", rest in "(/[a-z]{1,3}){0,3}") {
            let assigned = AzureScope::new(&format!("/subscriptions/S/resourceGroups/{a}"));
            let target = AzureScope::new(&format!("/subscriptions/S/resourceGroups/{b}{rest}"));
            prop_assert_eq!(assigned.covers_path(&target), a == b);
        }
    }
}
