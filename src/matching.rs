//! Wildcard matching shared by every provider: `*` matches any run of characters (including
//! none, and across `:` or `/` separators) and `?` matches exactly one character.
//!
//! AWS uses these rules for actions (case-insensitive) and for ARNs and condition values
//! (case-sensitive); Azure uses `*` in actions (case-insensitive). The matcher is iterative
//! with single-star backtracking, so it runs in O(pattern × text) in the worst case and never
//! recurses, whatever the input.

/// Whether letter case matters when comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// Does `pattern` (with `*` and `?` wildcards) match the whole of `text`?
pub fn glob_match(pattern: &str, text: &str, case: Case) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    glob_match_chars(&pattern, &text, case)
}

/// Does `pattern` contain a wildcard character?
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn chars_equal(a: char, b: char, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a == b || a.to_lowercase().eq(b.to_lowercase()),
    }
}

fn glob_match_chars(pattern: &[char], text: &[char], case: Case) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it is currently standing for.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some('?') => {
                p += 1;
                t += 1;
            }
            Some(&c) if chars_equal(c, text[t], case) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(pattern: &str, text: &str, case: Case, expected: bool) {
        assert_eq!(
            glob_match(pattern, text, case),
            expected,
            "pattern {pattern:?} against {text:?} ({case:?})"
        );
    }

    #[test]
    fn table() {
        use Case::*;
        check("*", "", Sensitive, true);
        check("*", "anything:at/all", Sensitive, true);
        check("", "", Sensitive, true);
        check("", "a", Sensitive, false);
        check("s3:Get*", "s3:GetObject", Sensitive, true);
        check("s3:get*", "S3:GetObject", Insensitive, true);
        check("s3:get*", "S3:GetObject", Sensitive, false);
        check("s3:*Object", "s3:GetObject", Sensitive, true);
        check("s3:*Object", "s3:GetObjectAcl", Sensitive, false);
        check("s3:Get?bject", "s3:GetObject", Sensitive, true);
        check("s3:Get?bject", "s3:Getbject", Sensitive, false);
        check(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b/c",
            Sensitive,
            true,
        );
        check(
            "arn:aws:iam::*:role/ci-*",
            "arn:aws:iam::123:role/ci-deploy",
            Sensitive,
            true,
        );
        check(
            "arn:*/deploy",
            "arn:aws:iam::123:role/ci/deploy",
            Sensitive,
            true,
        );
        check(
            "arn:*:deploy",
            "arn:aws:iam::123:role/ci/deploy",
            Sensitive,
            false,
        );
        check("a*b*c", "aXbYbZc", Sensitive, true);
        check("a*b*c", "aXbYbZ", Sensitive, false);
        check("**", "x", Sensitive, true);
        check("?", "", Sensitive, false);
        check("é*", "ÉTÉ", Insensitive, true);
    }

    /// A reference implementation by plain recursion, to check the iterative one against.
    fn reference(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|i| reference(rest, &text[i..])),
            Some(('?', rest)) => !text.is_empty() && reference(rest, &text[1..]),
            Some((c, rest)) => text.first() == Some(c) && reference(rest, &text[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_reference(pattern in "[ab*?]{0,8}", text in "[ab]{0,10}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(glob_match(&pattern, &text, Case::Sensitive), reference(&p, &t));
        }

        #[test]
        fn literal_matches_itself(text in "[a-zA-Z0-9:/_-]{0,30}") {
            prop_assert!(glob_match(&text, &text, Case::Sensitive));
            prop_assert!(glob_match(&text.to_uppercase(), &text, Case::Insensitive));
        }
    }
}
