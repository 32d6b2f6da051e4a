//! Step 3: from the resources an action was used on to the resource patterns it keeps.
//!
//! **The rule.** Every used ARN is kept exactly, except inside a *family* where at least
//! `threshold` (default 3) distinct members were used; those members are replaced by one
//! pattern: their deepest common path prefix followed by `*`. Families are:
//!
//! | service | ARN shape | family | members |
//! |---|---|---|---|
//! | `s3` | `arn:…:s3:::BUCKET/KEY` | one bucket | object keys; the prefix is cut back to the last `/` |
//! | `lambda` | `arn:…:function:NAME:QUALIFIER` | one function | versions and aliases |
//! | `dynamodb` | `arn:…:table/NAME/SUB…` | one table | indexes, streams |
//!
//! The pattern always keeps the whole family head and its separator (`BUCKET/`,
//! `function:NAME:`, `table/NAME/`), so it never reaches across buckets, functions, tables,
//! accounts, regions or partitions: those are all part of the head. ECR images and most other
//! resources have no members in IAM (actions act on the repository ARN itself), so they are
//! kept exactly. A bucket ARN without a key is not a member of its bucket's family.
//!
//! Generalization never widens the grant: the caller keeps the pattern only when an original
//! statement's resource pattern covers it (see `build.rs`), and falls back to the exact ARNs
//! otherwise.

use std::collections::{BTreeMap, BTreeSet};

/// A family: the ARN text up to and including the separator after the family head.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Family {
    head: String,
    separator: char,
}

/// The family of a resource ARN, when its service has families and the ARN is a member.
fn family(resource: &str) -> Option<Family> {
    if resource.contains(['*', '?']) {
        return None;
    }
    let mut fields = resource.splitn(6, ':');
    let (Some("arn"), Some(_), Some(service), Some(_), Some(_), Some(rest)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    let prefix_length = resource.len() - rest.len();
    let head_length = match service {
        "s3" => rest.find('/')?,
        "lambda" => {
            let name = rest.strip_prefix("function:")?;
            "function:".len() + name.find(':')?
        }
        "dynamodb" => {
            let name = rest.strip_prefix("table/")?;
            "table/".len() + name.find('/')?
        }
        _ => return None,
    };
    let separator = rest[head_length..].chars().next()?;
    // A member must have something after the separator.
    if rest.len() <= head_length + separator.len_utf8() {
        return None;
    }
    Some(Family {
        head: resource[..prefix_length + head_length + separator.len_utf8()].to_string(),
        separator,
    })
}

/// Generalizes the resources one action was used on (see the module documentation for the
/// rule). `threshold` 0 keeps every ARN exactly. The result is sorted.
pub fn generalize(resources: &BTreeSet<String>, threshold: usize) -> Vec<String> {
    let mut exact: BTreeSet<String> = BTreeSet::new();
    let mut families: BTreeMap<Family, Vec<&str>> = BTreeMap::new();
    for resource in resources {
        match family(resource) {
            Some(family) if threshold > 0 => families.entry(family).or_default().push(resource),
            _ => {
                exact.insert(resource.clone());
            }
        }
    }
    for (family, members) in families {
        if members.len() < threshold {
            exact.extend(members.into_iter().map(str::to_string));
            continue;
        }
        let common = common_prefix(&members);
        // Cut back to the last separator so the pattern names a "directory", never half a
        // name; never shorter than the family head.
        let cut = common[family.head.len()..]
            .rfind(family.separator)
            .map_or(family.head.len(), |position| {
                family.head.len() + position + family.separator.len_utf8()
            });
        exact.insert(format!("{}*", &common[..cut]));
    }
    exact.into_iter().collect()
}

/// The longest common prefix of the texts, on character boundaries.
fn common_prefix<'t>(texts: &[&'t str]) -> &'t str {
    let Some((first, rest)) = texts.split_first() else {
        return "";
    };
    let mut length = first.len();
    for text in rest {
        length = first
            .char_indices()
            .zip(text.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((index, c), _)| index + c.len_utf8())
            .min(length);
    }
    &first[..length]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(used: &[&str], threshold: usize, expected: &[&str]) {
        let used: BTreeSet<String> = used.iter().map(|text| text.to_string()).collect();
        assert_eq!(generalize(&used, threshold), expected, "{used:?}");
    }

    #[test]
    fn generalization_table() {
        let objects = [
            "arn:aws:s3:::art/releases/v1/a.tgz",
            "arn:aws:s3:::art/releases/v2/b.tgz",
            "arn:aws:s3:::art/releases/v3/c.tgz",
        ];
        check(&objects, 3, &["arn:aws:s3:::art/releases/*"]);
        check(&objects, 4, &objects);
        check(&objects, 0, &objects);
        check(
            &[
                "arn:aws:s3:::art/a",
                "arn:aws:s3:::art/b",
                "arn:aws:s3:::art/c",
            ],
            3,
            &["arn:aws:s3:::art/*"],
        );
        // The bucket itself is not one of its objects.
        check(
            &[
                "arn:aws:s3:::art",
                "arn:aws:s3:::art/x/1",
                "arn:aws:s3:::art/x/2",
                "arn:aws:s3:::art/x/3",
            ],
            3,
            &["arn:aws:s3:::art", "arn:aws:s3:::art/x/*"],
        );
        check(
            &[
                "arn:aws:lambda:eu-west-1:1:function:deploy:1",
                "arn:aws:lambda:eu-west-1:1:function:deploy:2",
                "arn:aws:lambda:eu-west-1:1:function:deploy:live",
            ],
            3,
            &["arn:aws:lambda:eu-west-1:1:function:deploy:*"],
        );
        check(
            &[
                "arn:aws:ecr:eu-west-1:1:repository/a",
                "arn:aws:ecr:eu-west-1:1:repository/b",
                "arn:aws:ecr:eu-west-1:1:repository/c",
            ],
            3,
            &[
                "arn:aws:ecr:eu-west-1:1:repository/a",
                "arn:aws:ecr:eu-west-1:1:repository/b",
                "arn:aws:ecr:eu-west-1:1:repository/c",
            ],
        );
        check(&["*"], 3, &["*"]);
    }

    #[test]
    fn generalization_never_crosses_buckets() {
        let used = [
            "arn:aws:s3:::app-a/k1",
            "arn:aws:s3:::app-b/k2",
            "arn:aws:s3:::app-c/k3",
            "arn:aws:s3:::app-a/k4",
        ];
        let patterns = generalize(&used.iter().map(|s| s.to_string()).collect(), 2);
        assert_eq!(
            patterns,
            [
                "arn:aws:s3:::app-a/*",
                "arn:aws:s3:::app-b/k2",
                "arn:aws:s3:::app-c/k3"
            ]
        );
        for pattern in &patterns {
            assert!(
                !pattern.starts_with("arn:aws:s3:::app-*")
                    && !pattern.starts_with("arn:aws:s3:::*")
            );
        }
    }

    #[test]
    fn common_prefix_respects_characters() {
        assert_eq!(common_prefix(&["aé1", "aé2"]), "aé");
        assert_eq!(common_prefix(&["aé", "aè"]), "a");
        assert_eq!(common_prefix(&["x"]), "x");
    }
}
