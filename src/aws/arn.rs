//! Amazon Resource Names: parsing, and the two ways IAM matches them.
//!
//! * `Resource` / `NotResource` patterns match the whole ARN as one string, so `*` and `?`
//!   may span `:` and `/` (`arn:aws:s3:::bucket/*` matches `arn:aws:s3:::bucket/a/b`).
//!   That is plain [`Pattern`] matching, case-sensitive.
//! * The `Arn*` condition operators compare component-wise: the ARN is split into its six
//!   colon-delimited parts (`arn`, partition, service, region, account, resource; the
//!   resource keeps any further colons) and each part is matched separately, so a `*` in the
//!   region cannot swallow the account. [`ArnPattern`] implements that.

use super::pattern::{Pattern, Token};
use crate::matching::Case;

/// Is `text` an AWS account id: exactly 12 digits (IAM identifiers,
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>)?
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// A parsed ARN, borrowing from the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `arn:partition:service:region:account:resource`; `None` if it is not an ARN.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if partition.is_empty() || service.is_empty() {
            return None;
        }
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// For an assumed-role session ARN (`arn:aws:sts::123:assumed-role/Role/session`), the
    /// role name.
    pub fn assumed_role_name(&self) -> Option<&'a str> {
        if self.service != "sts" {
            return None;
        }
        let rest = self.resource.strip_prefix("assumed-role/")?;
        rest.split('/').next().filter(|name| !name.is_empty())
    }

    /// For a role ARN (`arn:aws:iam::123:role/path/Role`), the role name (last path part).
    pub fn role_name(&self) -> Option<&'a str> {
        if self.service != "iam" {
            return None;
        }
        let rest = self.resource.strip_prefix("role/")?;
        rest.rsplit('/').next().filter(|name| !name.is_empty())
    }
}

/// The six components an ARN condition pattern is split into.
const COMPONENTS: usize = 6;

/// A pattern for `ArnEquals` / `ArnLike` / `ArnNotEquals` / `ArnNotLike`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArnPattern {
    /// One pattern per component; `None` when the policy value does not have six parts,
    /// in which case nothing matches it.
    components: Option<[Pattern; COMPONENTS]>,
}

impl ArnPattern {
    pub fn new(pattern: &str) -> ArnPattern {
        ArnPattern::from_tokens(super::pattern::tokens_of(
            &[super::pattern::Piece::Wild(pattern)],
            Case::Sensitive,
        ))
    }

    pub(crate) fn from_tokens(tokens: Vec<Token>) -> ArnPattern {
        let mut groups: Vec<Vec<Token>> = vec![Vec::new()];
        for token in tokens {
            let in_resource = groups.len() == COMPONENTS;
            match (token, groups.last_mut()) {
                (Token::Byte(b':'), _) if !in_resource => groups.push(Vec::new()),
                (token, Some(group)) => group.push(token),
                (_, None) => {}
            }
        }
        let components = <[Vec<Token>; COMPONENTS]>::try_from(groups)
            .ok()
            .map(|groups| groups.map(|tokens| Pattern::from_tokens(tokens, Case::Sensitive)));
        ArnPattern { components }
    }

    /// Does every component of `value` match the corresponding component of the pattern?
    pub fn matches(&self, value: &str) -> bool {
        let Some(components) = &self.components else {
            return false;
        };
        let mut parts = value.splitn(COMPONENTS, ':');
        let mut matched = 0;
        for component in components {
            match parts.next() {
                Some(part) if component.matches(part) => matched += 1,
                _ => return false,
            }
        }
        matched == COMPONENTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_components() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/ci/deploy").unwrap();
        assert_eq!(arn.partition, "aws");
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "role/ci/deploy");
        assert_eq!(arn.role_name(), Some("deploy"));
        let session = Arn::parse("arn:aws:sts::1:assumed-role/deploy/gh-123").unwrap();
        assert_eq!(session.assumed_role_name(), Some("deploy"));
        assert_eq!(
            Arn::parse("arn:aws:s3:::bucket:with:colons")
                .unwrap()
                .resource,
            "bucket:with:colons"
        );
        assert!(Arn::parse("not-an-arn").is_none());
        assert!(Arn::parse("arn:aws:s3").is_none());
    }

    #[test]
    fn condition_patterns_match_component_wise() {
        let pattern = ArnPattern::new("arn:aws:iam::*:role/ci-*");
        assert!(pattern.matches("arn:aws:iam::123:role/ci-deploy"));
        assert!(!pattern.matches("arn:aws:iam::123:user/ci-deploy"));
        // A `*` in one component cannot cover a colon of the next.
        let region_only = ArnPattern::new("arn:aws:sqs:*:queue");
        assert!(!region_only.matches("arn:aws:sqs:eu-west-1:123:queue"));
        assert!(
            ArnPattern::new("arn:aws:sqs:*:*:queue").matches("arn:aws:sqs:eu-west-1:123:queue")
        );
        // Colons inside the resource part stay part of the resource.
        assert!(
            ArnPattern::new("arn:aws:logs:*:*:log-group:/ci/*")
                .matches("arn:aws:logs:us-east-1:1:log-group:/ci/x:*")
        );
        assert!(!ArnPattern::new("*").matches("arn:aws:s3:::b"));
    }
}
