//! Terraform rendering of minimized policies: one `aws_iam_policy_document` data source per
//! document, statements and lists in the document's order, so the text is deterministic.
//!
//! Strings are escaped for HCL, including `${` → `$${`: an IAM policy variable such as
//! `${aws:username}` must reach IAM as written, not be interpolated by Terraform.

use super::MinimizedPolicy;
use crate::aws::policy::{ActionClause, ResourceClause};
use std::fmt::Write as _;

/// HCL string literal for `text`.
fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

fn hcl_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| hcl_string(item)).collect();
    format!("[{}]", items.join(", "))
}

/// A Terraform identifier from a policy name: lowercase letters, digits and `_`.
fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// Renders the documents as `data "aws_iam_policy_document"` blocks.
pub fn render_terraform(policies: &[MinimizedPolicy]) -> String {
    let mut out = String::new();
    for (position, policy) in policies.iter().enumerate() {
        if position > 0 {
            out.push('\n');
        }
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(
            out,
            "data \"aws_iam_policy_document\" {} {{",
            hcl_string(&identifier(&policy.name))
        );
        for statement in &policy.document.statements {
            out.push_str("  statement {\n");
            if let Some(sid) = &statement.sid {
                let _ = writeln!(out, "    sid       = {}", hcl_string(sid));
            }
            let _ = writeln!(
                out,
                "    effect    = {}",
                hcl_string(&statement.effect.to_string())
            );
            match &statement.action {
                ActionClause::Action(list) => {
                    let _ = writeln!(out, "    actions   = {}", hcl_list(list));
                }
                ActionClause::NotAction(list) => {
                    let _ = writeln!(out, "    not_actions = {}", hcl_list(list));
                }
            }
            match &statement.resource {
                Some(ResourceClause::Resource(list)) => {
                    let _ = writeln!(out, "    resources = {}", hcl_list(list));
                }
                Some(ResourceClause::NotResource(list)) => {
                    let _ = writeln!(out, "    not_resources = {}", hcl_list(list));
                }
                None => {}
            }
            for condition in &statement.conditions {
                out.push_str("\n    condition {\n");
                let _ = writeln!(
                    out,
                    "      test     = {}",
                    hcl_string(&condition.operator.to_string())
                );
                let _ = writeln!(out, "      variable = {}", hcl_string(&condition.key));
                let _ = writeln!(out, "      values   = {}", hcl_list(&condition.values));
                out.push_str("    }\n");
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_strings_escape_interpolation() {
        assert_eq!(
            hcl_string("arn:aws:s3:::b/${aws:username}/*"),
            "\"arn:aws:s3:::b/$${aws:username}/*\""
        );
        assert_eq!(hcl_string("a\"b\\c%{d"), "\"a\\\"b\\\\c%%{d\"");
        assert_eq!(hcl_string("$x"), "\"$x\"");
    }

    #[test]
    fn identifiers_are_terraform_names() {
        assert_eq!(identifier("deploy-Prod.2"), "deploy_prod_2");
        assert_eq!(identifier("2x"), "_2x");
    }
}
