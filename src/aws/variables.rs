//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${aws:userid, 'x'}`)
//! and the escapes `${*}`, `${?}`, `${$}` in `Resource` and condition values.
//!
//! Variables only exist in documents with `Version` `2012-10-17`; in older documents the
//! same text is literal. A value is split once into a [`Template`] and resolved against the
//! request context at evaluation time. Escapes and substituted values are literal text: a
//! `*` that comes from `${*}` or from a tag value never acts as a wildcard.

use super::context::Context;
use super::pattern::{Piece, Token, tokens_of};
use crate::matching::Case;

/// One part of a value that may contain policy variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Text as written; in pattern positions `*` and `?` are wildcards.
    Text(String),
    /// A character produced by an escape (`${*}`, `${?}`, `${$}`): always literal.
    Escaped(char),
    /// A variable, with its context key as written and an optional default value.
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A value split into text, escapes and variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// The outcome of resolving a template against a request context.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution<'t> {
    /// Every variable had a value (or a default).
    Resolved(Vec<ResolvedPiece<'t>>),
    /// This variable's key is absent and has no default; AWS then treats the policy element
    /// as not matching.
    Missing(&'t str),
}

/// A resolved part: text that keeps its wildcards, or text that is literal.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedPiece<'t> {
    Wild(&'t str),
    Literal(String),
}

impl Template {
    /// Splits `text`; with `variables_enabled == false` (Version `2008-10-17` or absent) the
    /// whole text is one literal segment.
    pub fn parse(text: &str, variables_enabled: bool) -> Template {
        if !variables_enabled || !text.contains("${") {
            return Template {
                segments: vec![Segment::Text(text.to_owned())],
            };
        }
        let mut segments = Vec::new();
        let mut plain = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            let inner = &after[..end];
            let Some(segment) = parse_variable(inner) else {
                // Not a variable (for example `${}`): keep the text as written.
                plain.push_str(&rest[..start + 2]);
                rest = after;
                continue;
            };
            plain.push_str(&rest[..start]);
            if !plain.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut plain)));
            }
            segments.push(segment);
            rest = &after[end + 1..];
        }
        plain.push_str(rest);
        if !plain.is_empty() || segments.is_empty() {
            segments.push(Segment::Text(plain));
        }
        Template { segments }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Does the template need the request context to be resolved?
    pub fn has_variables(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Variable { .. }))
    }

    /// The text if the template is fixed text with no escapes or variables.
    pub fn as_plain_text(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// Resolves every variable from the context. Only a present, single-valued key is a
    /// value; an absent or multivalued key resolves to its default, or `Missing` (the caller
    /// asks the context whether that key is absent or unknown).
    pub fn resolve<'t>(&'t self, context: &Context) -> Resolution<'t> {
        let mut pieces = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => pieces.push(ResolvedPiece::Wild(text)),
                Segment::Escaped(character) => {
                    pieces.push(ResolvedPiece::Literal(character.to_string()))
                }
                Segment::Variable { key, default } => {
                    let value = context
                        .first_text(key)
                        .map(str::to_owned)
                        .or_else(|| default.clone());
                    match value {
                        Some(value) => pieces.push(ResolvedPiece::Literal(value)),
                        None => return Resolution::Missing(key),
                    }
                }
            }
        }
        Resolution::Resolved(pieces)
    }

    /// Writes the template back as policy text.
    pub fn to_policy_text(&self) -> String {
        let mut text = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(plain) => text.push_str(plain),
                Segment::Escaped(character) => {
                    text.push_str("${");
                    text.push(*character);
                    text.push('}');
                }
                Segment::Variable { key, default: None } => {
                    text.push_str("${");
                    text.push_str(key);
                    text.push('}');
                }
                Segment::Variable {
                    key,
                    default: Some(default),
                } => {
                    text.push_str(&format!("${{{key}, '{default}'}}"));
                }
            }
        }
        text
    }
}

/// Resolved pieces as plain text (wildcards kept as characters), for equality operators.
pub fn pieces_to_text(pieces: &[ResolvedPiece<'_>]) -> String {
    let mut text = String::new();
    for piece in pieces {
        match piece {
            ResolvedPiece::Wild(part) => text.push_str(part),
            ResolvedPiece::Literal(part) => text.push_str(part),
        }
    }
    text
}

/// Resolved pieces as pattern tokens, keeping substituted text literal.
pub(crate) fn pieces_to_tokens(pieces: &[ResolvedPiece<'_>], case: Case) -> Vec<Token> {
    let borrowed: Vec<Piece<'_>> = pieces
        .iter()
        .map(|piece| match piece {
            ResolvedPiece::Wild(text) => Piece::Wild(text),
            ResolvedPiece::Literal(text) => Piece::Literal(text),
        })
        .collect();
    tokens_of(&borrowed, case)
}

fn parse_variable(inner: &str) -> Option<Segment> {
    match inner {
        "*" => return Some(Segment::Escaped('*')),
        "?" => return Some(Segment::Escaped('?')),
        "$" => return Some(Segment::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let unquoted = default.strip_prefix('\'')?.strip_suffix('\'')?;
            (key.trim(), Some(unquoted.to_owned()))
        }
        None => (inner.trim(), None),
    };
    let valid_key =
        !key.is_empty() && !key.contains(char::is_whitespace) && !key.contains(['$', '{']);
    valid_key.then(|| Segment::Variable {
        key: key.to_owned(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_variables_escapes_and_defaults() {
        let template = Template::parse(
            "arn:aws:s3:::b/${aws:username}/${*}${aws:PrincipalTag/team, 'none'}",
            true,
        );
        assert_eq!(
            template.segments(),
            &[
                Segment::Text("arn:aws:s3:::b/".into()),
                Segment::Variable {
                    key: "aws:username".into(),
                    default: None
                },
                Segment::Text("/".into()),
                Segment::Escaped('*'),
                Segment::Variable {
                    key: "aws:PrincipalTag/team".into(),
                    default: Some("none".into())
                },
            ]
        );
        assert_eq!(
            template.to_policy_text(),
            "arn:aws:s3:::b/${aws:username}/${*}${aws:PrincipalTag/team, 'none'}"
        );
    }

    #[test]
    fn old_versions_are_literal() {
        let template = Template::parse("${aws:username}", false);
        assert_eq!(template.as_plain_text(), Some("${aws:username}"));
    }

    #[test]
    fn unclosed_and_empty_variables_stay_text() {
        assert_eq!(Template::parse("a${b", true).as_plain_text(), Some("a${b"));
        assert_eq!(Template::parse("a${}", true).as_plain_text(), Some("a${}"));
    }
}
