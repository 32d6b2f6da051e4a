//! Pre-compiled wildcard patterns for the AWS evaluator.
//!
//! `crate::matching::glob_match` is the reference matcher; this module compiles a pattern
//! once (into an exact string, a prefix, "match everything" or a token list) so that the
//! evaluator matches without allocating. Matching works on bytes: `?` consumes one whole
//! UTF-8 character and a `*` only ever stops at character boundaries, so the result agrees
//! with the character-based reference. Case-insensitive matching folds ASCII only, which is
//! what AWS action names use.

use crate::matching::Case;

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// A byte that must appear as is (already lowercased for case-insensitive patterns).
    Byte(u8),
    /// `*`: any run of characters, including none.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
}

/// A piece of pattern text: either wildcard-active text (`*`, `?` are wildcards) or
/// literal text (everything matches itself, as with `${*}` or a substituted variable).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece<'a> {
    Wild(&'a str),
    Literal(&'a str),
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Everything,
    Exact(Box<[u8]>),
    Prefix(Box<[u8]>),
    General(Box<[Token]>),
}

/// A wildcard pattern compiled for repeated matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    shape: Shape,
    case: Case,
}

impl Pattern {
    /// Compiles wildcard-active text (`*` and `?` are wildcards).
    pub fn new(pattern: &str, case: Case) -> Pattern {
        Pattern::from_pieces(&[Piece::Wild(pattern)], case)
    }

    /// Compiles text in which `*` and `?` are ordinary characters.
    pub fn literal(text: &str, case: Case) -> Pattern {
        Pattern::from_pieces(&[Piece::Literal(text)], case)
    }

    pub(crate) fn from_pieces(pieces: &[Piece<'_>], case: Case) -> Pattern {
        Pattern::from_tokens(tokens_of(pieces, case), case)
    }

    pub(crate) fn from_tokens(tokens: Vec<Token>, case: Case) -> Pattern {
        let shape = classify(tokens);
        Pattern { shape, case }
    }

    /// Does the pattern match the whole of `text`?
    pub fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        match (&self.shape, self.case) {
            (Shape::Everything, _) => true,
            (Shape::Exact(bytes), Case::Sensitive) => text == &bytes[..],
            (Shape::Exact(bytes), Case::Insensitive) => text.eq_ignore_ascii_case(bytes),
            (Shape::Prefix(bytes), Case::Sensitive) => text.starts_with(bytes),
            (Shape::Prefix(bytes), Case::Insensitive) => text
                .get(..bytes.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(bytes)),
            (Shape::General(tokens), case) => match_tokens(tokens, text, case),
        }
    }

    /// Does this pattern match everything (`*`)?
    pub fn is_everything(&self) -> bool {
        self.shape == Shape::Everything
    }
}

pub(crate) fn tokens_of(pieces: &[Piece<'_>], case: Case) -> Vec<Token> {
    let fold = |byte: u8| match case {
        Case::Sensitive => byte,
        Case::Insensitive => byte.to_ascii_lowercase(),
    };
    let mut tokens = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Wild(text) => tokens.extend(text.bytes().map(|byte| match byte {
                b'*' => Token::AnyRun,
                b'?' => Token::AnyChar,
                other => Token::Byte(fold(other)),
            })),
            Piece::Literal(text) => tokens.extend(text.bytes().map(|byte| Token::Byte(fold(byte)))),
        }
    }
    tokens
}

fn classify(mut tokens: Vec<Token>) -> Shape {
    // Runs of `*` mean the same as one `*`; collapsing them keeps backtracking cheap.
    tokens.dedup_by(|next, previous| *next == Token::AnyRun && *previous == Token::AnyRun);
    let literal_bytes = |tokens: &[Token]| -> Option<Box<[u8]>> {
        tokens
            .iter()
            .map(|token| match token {
                Token::Byte(byte) => Some(*byte),
                _ => None,
            })
            .collect()
    };
    if tokens == [Token::AnyRun] {
        return Shape::Everything;
    }
    if let Some(bytes) = literal_bytes(&tokens) {
        return Shape::Exact(bytes);
    }
    if let Some((Token::AnyRun, head)) = tokens.split_last()
        && let Some(bytes) = literal_bytes(head)
    {
        return Shape::Prefix(bytes);
    }
    Shape::General(tokens.into_boxed_slice())
}

/// Length in bytes of the UTF-8 character that starts with `lead`.
fn char_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Iterative matcher with single-star backtracking: O(pattern × text), no recursion.
fn match_tokens(tokens: &[Token], text: &[u8], case: Case) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // The last `*` seen and the text position it currently stands up to.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match (tokens.get(p), text.get(t)) {
            (Some(Token::AnyRun), _) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            (Some(Token::AnyChar), Some(&lead)) => Some(char_width(lead)),
            (Some(Token::Byte(expected)), Some(&actual)) => {
                let actual = match case {
                    Case::Sensitive => actual,
                    Case::Insensitive => actual.to_ascii_lowercase(),
                };
                (*expected == actual).then_some(1)
            }
            _ => None,
        };
        match step {
            Some(width) => {
                p += 1;
                t += width;
            }
            None => match backtrack {
                Some((star, stood_until)) => {
                    // Let the star absorb one more whole character.
                    let next = stood_until + text.get(stood_until).map_or(1, |&b| char_width(b));
                    p = star + 1;
                    t = next;
                    backtrack = Some((star, next));
                }
                None => return false,
            },
        }
    }
    // A `?` may have stepped past the end of a truncated character.
    t == text.len()
        && tokens
            .get(p..)
            .is_some_and(|rest| rest.iter().all(|token| *token == Token::AnyRun))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::glob_match;
    use proptest::prelude::*;

    fn check(pattern: &str, text: &str, case: Case, expected: bool) {
        assert_eq!(
            Pattern::new(pattern, case).matches(text),
            expected,
            "{pattern:?} vs {text:?}"
        );
    }

    #[test]
    fn shapes_and_wildcards() {
        use Case::*;
        check("*", "", Sensitive, true);
        check("s3:GetObject", "s3:GetObject", Sensitive, true);
        check("s3:getobject", "S3:GetObject", Insensitive, true);
        check("s3:Get*", "s3:GetObjectAcl", Sensitive, true);
        check("s3:get*", "S3:GETOBJECT", Insensitive, true);
        check("s3:Get*", "s3:Put", Sensitive, false);
        check(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b",
            Sensitive,
            true,
        );
        check("a?c", "aéc", Sensitive, true);
        check("*??", "€", Sensitive, false);
        check("*??", "€a", Sensitive, true);
        check("a**b", "ab", Sensitive, true);
        assert!(!Pattern::literal("a*", Case::Sensitive).matches("abc"));
        assert!(Pattern::literal("a*", Case::Sensitive).matches("a*"));
    }

    proptest! {
        #[test]
        fn agrees_with_shared_glob(pattern in "[abé*?:/]{0,8}", text in "[abé:/]{0,10}") {
            prop_assert_eq!(
                Pattern::new(&pattern, Case::Sensitive).matches(&text),
                glob_match(&pattern, &text, Case::Sensitive)
            );
        }

        #[test]
        fn agrees_with_shared_glob_ignoring_case(pattern in "[aBc*?]{0,8}", text in "[AbC]{0,10}") {
            prop_assert_eq!(
                Pattern::new(&pattern, Case::Insensitive).matches(&text),
                glob_match(&pattern, &text, Case::Insensitive)
            );
        }
    }
}
