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

/// Calls `lookup` with the ASCII-lowercase form of `text`, without allocating when it is
/// short (action names and service prefixes always are): hot lookups in lowercase-keyed maps
/// run once per granted action.
pub fn with_ascii_lowercase<T>(text: &str, lookup: impl FnOnce(&str) -> T) -> T {
    let mut buffer = [0u8; 128];
    match buffer.get_mut(..text.len()) {
        Some(lower) => {
            lower.copy_from_slice(text.as_bytes());
            lower.make_ascii_lowercase();
            // ASCII lowercasing keeps UTF-8 valid.
            match std::str::from_utf8(lower) {
                Ok(lower) => lookup(lower),
                Err(_) => lookup(&text.to_ascii_lowercase()),
            }
        }
        None => lookup(&text.to_ascii_lowercase()),
    }
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

/// Is every string that `specific` matches also matched by `general`? Both are `*`/`?`
/// wildcard patterns.
///
/// The test is sound (a `true` is always right) but not complete: it aligns the two patterns
/// token by token, where a `*` in `general` may absorb any run of `specific` tokens, a `?` in
/// `general` stands for one literal or `?` of `specific`, and a literal only for the same
/// literal. A `*` in `specific` can therefore only be covered by a `*` in `general`, so the
/// test never claims coverage that some expansion of `specific` would escape. Pairs that need
/// reasoning across tokens, such as `*?` ⊇ `?*`, may be answered `false`; callers use
/// `false` as "cannot prove", never as "disjoint". Dynamic programming over (general,
/// specific) positions: O(|general| × |specific|), no recursion.
pub fn pattern_covers(general: &str, specific: &str, case: Case) -> bool {
    let general: Vec<char> = general.chars().collect();
    let specific: Vec<char> = specific.chars().collect();
    // reachable[j]: the first `i` general tokens can produce the first `j` specific tokens.
    let mut reachable = vec![false; specific.len() + 1];
    reachable[0] = true;
    for &token in &general {
        let mut next = vec![false; specific.len() + 1];
        for j in 0..=specific.len() {
            let from_here = reachable[j];
            match token {
                '*' => {
                    // The star stands for nothing, or absorbs one more specific token.
                    next[j] = from_here || (j > 0 && next[j - 1]);
                }
                '?' => {
                    if j > 0 && reachable[j - 1] && specific[j - 1] != '*' {
                        next[j] = true;
                    }
                }
                literal => {
                    if j > 0 && reachable[j - 1] {
                        let other = specific[j - 1];
                        if other != '*' && other != '?' && chars_equal(literal, other, case) {
                            next[j] = true;
                        }
                    }
                }
            }
        }
        reachable = next;
    }
    reachable[specific.len()]
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

    fn covers(general: &str, specific: &str, case: Case, expected: bool) {
        assert_eq!(
            pattern_covers(general, specific, case),
            expected,
            "{general:?} covers {specific:?} ({case:?})"
        );
    }

    #[test]
    fn pattern_covers_table() {
        use Case::*;
        covers("*", "", Sensitive, true);
        covers("*", "*", Sensitive, true);
        covers("*", "arn:aws:s3:::b/*", Sensitive, true);
        covers(
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::b/releases/*",
            Sensitive,
            true,
        );
        covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/x", Sensitive, true);
        covers("arn:aws:s3:::b/*", "arn:aws:s3:::b*", Sensitive, false);
        covers(
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::bucket/x",
            Sensitive,
            false,
        );
        covers("arn:aws:s3:::b/x", "arn:aws:s3:::b/*", Sensitive, false);
        covers("a?c", "abc", Sensitive, true);
        covers("a?c", "a?c", Sensitive, true);
        covers("a?c", "a*c", Sensitive, false);
        covers("abc", "a?c", Sensitive, false);
        covers("a*", "a?", Sensitive, true);
        covers("s3:Get*", "s3:getobject", Insensitive, true);
        covers("s3:Get*", "s3:getobject", Sensitive, false);
        covers("*b", "a*b", Sensitive, true);
        covers("a*b*c", "a-b-*-c", Sensitive, true);
        covers("", "", Sensitive, true);
        covers("", "*", Sensitive, false);
    }

    /// Expands a pattern over `[ab]` into one concrete string, choosing expansions from
    /// `choices`.
    fn expand(pattern: &str, choices: &[String]) -> String {
        let mut out = String::new();
        let mut next = choices.iter().cycle();
        for c in pattern.chars() {
            match c {
                '*' => out.push_str(next.next().map_or("", String::as_str)),
                '?' => out.push(
                    next.next()
                        .and_then(|choice| choice.chars().next())
                        .unwrap_or('a'),
                ),
                other => out.push(other),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn pattern_covers_is_sound(
            general in "[ab*?]{0,6}",
            specific in "[ab*?]{0,6}",
            choices in proptest::collection::vec("[ab]{0,3}", 1..8),
        ) {
            if pattern_covers(&general, &specific, Case::Sensitive) {
                let text = expand(&specific, &choices);
                prop_assert!(glob_match(&specific, &text, Case::Sensitive));
                prop_assert!(
                    glob_match(&general, &text, Case::Sensitive),
                    "{general:?} claimed to cover {specific:?} but misses {text:?}"
                );
            }
        }

        #[test]
        fn pattern_covers_itself_and_literals(text in "[ab:/*?]{0,10}") {
            prop_assert!(pattern_covers(&text, &text, Case::Sensitive));
            prop_assert!(pattern_covers("*", &text, Case::Sensitive));
        }

        #[test]
        fn pattern_covers_literal_agrees_with_matching(general in "[ab*?]{0,6}", text in "[ab]{0,6}") {
            prop_assert_eq!(
                pattern_covers(&general, &text, Case::Sensitive),
                glob_match(&general, &text, Case::Sensitive)
            );
        }
    }
}
