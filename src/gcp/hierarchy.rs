//! The GCP resource hierarchy: which folder or organization a project sits in, which project a
//! resource belongs to. Policies are inherited down this tree.

use std::collections::{BTreeMap, BTreeSet};

/// `child → parent` links between GCP resource names.
///
/// Explicit links come from Resource Manager and Cloud Asset Inventory. For a resource without
/// an explicit link, the parent is read from its name when the name contains the project
/// (`//run.googleapis.com/projects/p/locations/l/services/s` → `…/locations/l` → `projects/p`);
/// names with `projects/_` (Cloud Storage buckets) carry no project, so their parent must be
/// recorded explicitly or inheritance from the project is not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceHierarchy {
    parents: BTreeMap<String, String>,
}

impl ResourceHierarchy {
    pub fn new() -> Self {
        ResourceHierarchy::default()
    }

    /// Record that `child` sits directly under `parent`.
    pub fn set_parent(&mut self, child: impl Into<String>, parent: impl Into<String>) {
        self.parents.insert(child.into(), parent.into());
    }

    /// The direct parent: the recorded one, else the one the name implies.
    pub fn parent(&self, resource: &str) -> Option<String> {
        if let Some(parent) = self.parents.get(resource) {
            return Some(parent.clone());
        }
        implied_parent(resource)
    }

    /// `resource` and every ancestor, nearest first. A cycle in the recorded links stops the
    /// walk instead of looping.
    pub fn ancestry(&self, resource: &str) -> Vec<String> {
        let mut chain = vec![resource.to_string()];
        let mut seen: BTreeSet<String> = BTreeSet::from([resource.to_string()]);
        let mut current = resource.to_string();
        while let Some(parent) = self.parent(&current) {
            if !seen.insert(parent.clone()) {
                break;
            }
            chain.push(parent.clone());
            current = parent;
        }
        chain
    }
}

/// The parent a resource name implies, if any: a full resource name
/// (`//run.googleapis.com/projects/p/locations/l/services/s`) or a relative one under a
/// project, folder or organization (`projects/p/locations/l/services/s`, as audit logs'
/// `authorizationInfo.resource` writes them), both `collection/id` pairs
/// (<https://cloud.google.com/apis/design/resource_names>).
fn implied_parent(resource: &str) -> Option<String> {
    let Some(rest) = resource.strip_prefix("//") else {
        return implied_relative_parent(resource);
    };
    let (service, path) = rest.split_once('/')?;
    let segments: Vec<&str> = path.split('/').collect();
    // A full resource name is `collection/id` pairs; its parent drops the last pair, and the
    // project pair stands for the project itself (`projects/<id>`).
    if segments.len() < 4 || !segments.len().is_multiple_of(2) {
        return None;
    }
    let parent = &segments[..segments.len() - 2];
    match parent {
        ["projects", "_"] => None,
        ["projects", project] => Some(format!("projects/{project}")),
        _ => Some(format!("//{service}/{}", parent.join("/"))),
    }
}

/// The parent of a relative resource name below a project, folder or organization.
fn implied_relative_parent(resource: &str) -> Option<String> {
    let segments: Vec<&str> = resource.split('/').collect();
    if segments.len() < 4
        || !segments.len().is_multiple_of(2)
        || !matches!(segments[0], "projects" | "folders" | "organizations")
        || segments.iter().any(|segment| segment.is_empty())
    {
        return None;
    }
    match &segments[..segments.len() - 2] {
        ["projects", "_"] => None,
        parent => Some(parent.join("/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hierarchy: &ResourceHierarchy, resource: &str, expected: &[&str]) {
        assert_eq!(
            hierarchy.ancestry(resource),
            expected,
            "ancestry of {resource}"
        );
    }

    #[test]
    fn ancestry_table() {
        let mut h = ResourceHierarchy::new();
        h.set_parent("projects/app", "folders/10");
        h.set_parent("folders/10", "folders/1");
        h.set_parent("folders/1", "organizations/9");
        h.set_parent(
            "//storage.googleapis.com/projects/_/buckets/art",
            "projects/app",
        );
        check(
            &h,
            "projects/app",
            &["projects/app", "folders/10", "folders/1", "organizations/9"],
        );
        check(
            &h,
            "//storage.googleapis.com/projects/_/buckets/art/objects/x",
            &[
                "//storage.googleapis.com/projects/_/buckets/art/objects/x",
                "//storage.googleapis.com/projects/_/buckets/art",
                "projects/app",
                "folders/10",
                "folders/1",
                "organizations/9",
            ],
        );
        check(
            &h,
            "//run.googleapis.com/projects/app/locations/eu/services/web",
            &[
                "//run.googleapis.com/projects/app/locations/eu/services/web",
                "//run.googleapis.com/projects/app/locations/eu",
                "projects/app",
                "folders/10",
                "folders/1",
                "organizations/9",
            ],
        );
        // A bucket without a recorded parent does not inherit from any project.
        check(
            &h,
            "//storage.googleapis.com/projects/_/buckets/orphan",
            &["//storage.googleapis.com/projects/_/buckets/orphan"],
        );
        check(&h, "projects/unknown", &["projects/unknown"]);
        // Relative names, as audit logs write them, sit in their project too.
        check(
            &h,
            "projects/app/locations/eu/services/web",
            &[
                "projects/app/locations/eu/services/web",
                "projects/app/locations/eu",
                "projects/app",
                "folders/10",
                "folders/1",
                "organizations/9",
            ],
        );
        check(
            &h,
            "projects/_/buckets/art/objects/x",
            &["projects/_/buckets/art/objects/x", "projects/_/buckets/art"],
        );
        check(&h, "projects/app/", &["projects/app/"]);
    }

    #[test]
    fn cycles_end_the_walk() {
        let mut h = ResourceHierarchy::new();
        h.set_parent("folders/1", "folders/2");
        h.set_parent("folders/2", "folders/1");
        check(&h, "folders/1", &["folders/1", "folders/2"]);
    }
}
