//! The expression language of flexible federated identity credentials
//! (`claimsMatchingExpression.value`, language version 1), parsed into the alternatives it
//! admits.
//!
//! Grammar, from
//! <https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>
//! and the Graph resource
//! <https://learn.microsoft.com/graph/api/resources/federatedidentityexpression?view=graph-rest-beta>:
//! a clause is a claim lookup `claims['<claim>']`, one operator (`matches`: the comparand may
//! hold `*`, any run of characters; `eq`: exact), and a single-quoted comparand; clauses join
//! with `and`. `or` is read too (with `and` binding tighter), so that an expression pipeleash
//! reads more widely than Entra does is judged by everything it could admit. Parentheses,
//! other operators or a quote inside a comparand make the expression unreadable here: callers
//! report it as not judged, never as safe.

use crate::model::ClaimMatch;

/// How a clause compares its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// `matches`: `*` in the comparand stands for any run of characters.
    Matches,
    /// `eq`: the claim equals the comparand.
    Eq,
}

/// One `claims['<claim>'] <operator> '<comparand>'` clause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Clause {
    pub claim: String,
    pub operator: Operator,
    pub comparand: String,
}

/// An expression in disjunctive form: the token must meet every clause of one alternative.
pub type Alternatives = Vec<Vec<Clause>>;

/// Why an expression cannot be read; the text says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExpressionError(pub String);

/// Whether a token whose known claims are `claims` can meet the expression `text`: some
/// alternative whose every clause holds matches; a clause on a claim not in `claims` may hold
/// or not ([`ClaimMatch::Unknown`]); an expression that cannot be read is unknown, never
/// "does not match". `matches` treats `*` as any run of characters and `eq` compares exactly,
/// both case-sensitively
/// (<https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>).
pub fn evaluate(text: &str, claims: &std::collections::BTreeMap<String, String>) -> ClaimMatch {
    let alternatives = match parse(text) {
        Ok(alternatives) => alternatives,
        Err(error) => {
            return ClaimMatch::Unknown(format!(
                "the expression `{text}` cannot be read ({error})"
            ));
        }
    };
    let mut unknown = None;
    for clauses in &alternatives {
        let mut verdict = ClaimMatch::Matches;
        for clause in clauses {
            let Some(value) = claims.get(&clause.claim) else {
                if verdict == ClaimMatch::Matches {
                    verdict = ClaimMatch::Unknown(format!(
                        "the subject does not tell the `{}` claim the expression tests",
                        clause.claim
                    ));
                }
                continue;
            };
            let holds = match clause.operator {
                Operator::Eq => *value == clause.comparand,
                Operator::Matches => star_match(&clause.comparand, value),
            };
            if !holds {
                verdict = ClaimMatch::DoesNotMatch;
                break;
            }
        }
        match verdict {
            ClaimMatch::Matches => return ClaimMatch::Matches,
            ClaimMatch::Unknown(reason) => {
                unknown.get_or_insert(reason);
            }
            ClaimMatch::DoesNotMatch => {}
        }
    }
    unknown.map_or(ClaimMatch::DoesNotMatch, ClaimMatch::Unknown)
}

/// `pattern` with `*` standing for any run of characters (and nothing else special).
fn star_match(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == value;
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Parses an expression such as
/// `claims['sub'] matches 'repo:acme/*:ref:refs/heads/main' and claims['job_workflow_ref'] eq '…'`.
pub fn parse(text: &str) -> Result<Alternatives, ExpressionError> {
    let mut parser = Parser {
        rest: text.trim_start(),
    };
    if parser.rest.is_empty() {
        return Err(ExpressionError("the expression is empty".into()));
    }
    let mut alternatives = vec![vec![parser.clause()?]];
    loop {
        parser.skip_space();
        if parser.rest.is_empty() {
            return Ok(alternatives);
        }
        if parser.keyword("and") {
            let clause = parser.clause()?;
            if let Some(last) = alternatives.last_mut() {
                last.push(clause);
            }
        } else if parser.keyword("or") {
            alternatives.push(vec![parser.clause()?]);
        } else {
            return Err(parser.error("`and` or `or`"));
        }
    }
}

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn error(&self, expected: &str) -> ExpressionError {
        let found: String = self.rest.chars().take(24).collect();
        if found.is_empty() {
            ExpressionError(format!("expected {expected} at the end of the expression"))
        } else {
            ExpressionError(format!("expected {expected} at `{found}`"))
        }
    }

    /// A word followed by a space (or the end): `and`, `or`, `matches`, `eq`, any case.
    fn keyword(&mut self, word: &str) -> bool {
        let Some(head) = self.rest.get(..word.len()) else {
            return false;
        };
        let after = &self.rest[word.len()..];
        if head.eq_ignore_ascii_case(word) && after.starts_with(char::is_whitespace) {
            self.rest = after;
            self.skip_space();
            true
        } else {
            false
        }
    }

    fn quoted(&mut self) -> Result<String, ExpressionError> {
        let Some(body) = self.rest.strip_prefix('\'') else {
            return Err(self.error("a single-quoted value"));
        };
        let Some(end) = body.find('\'') else {
            return Err(ExpressionError(
                "a quoted value is not closed with `'`".into(),
            ));
        };
        let value = body[..end].to_string();
        self.rest = &body[end + 1..];
        Ok(value)
    }

    fn clause(&mut self) -> Result<Clause, ExpressionError> {
        self.skip_space();
        let lookup = self
            .rest
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case("claims["));
        if !lookup {
            return Err(self.error("`claims['<claim>']`"));
        }
        self.rest = self.rest[7..].trim_start();
        let claim = self.quoted()?;
        self.skip_space();
        let Some(after) = self.rest.strip_prefix(']') else {
            return Err(self.error("`]`"));
        };
        self.rest = after;
        self.skip_space();
        let operator = if self.keyword("matches") {
            Operator::Matches
        } else if self.keyword("eq") {
            Operator::Eq
        } else {
            return Err(self.error("the operator `matches` or `eq`"));
        };
        let comparand = self.quoted()?;
        if claim.trim().is_empty() {
            return Err(ExpressionError("a claim lookup names no claim".into()));
        }
        Ok(Clause {
            claim,
            operator,
            comparand,
        })
    }
}

#[cfg(test)]
mod evaluation_tests {
    use super::*;
    use std::collections::BTreeMap;

    fn claims(sub: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("sub".to_string(), sub.to_string())])
    }

    #[test]
    fn concrete_subjects_meet_flexible_expressions_by_their_wildcards() {
        let any_branch = "claims['sub'] matches 'repo:acme/web:ref:refs/heads/*'";
        for (expression, subject, expected) in [
            (
                any_branch,
                "repo:acme/web:ref:refs/heads/feature-x",
                ClaimMatch::Matches,
            ),
            (
                any_branch,
                "repo:acme/web:ref:refs/heads/main",
                ClaimMatch::Matches,
            ),
            (
                any_branch,
                "repo:acme/web:pull_request",
                ClaimMatch::DoesNotMatch,
            ),
            (
                any_branch,
                "repo:acme/api:ref:refs/heads/x",
                ClaimMatch::DoesNotMatch,
            ),
            (
                "claims['sub'] matches 'repo:acme/*'",
                "repo:acme/other:pull_request",
                ClaimMatch::Matches,
            ),
            (
                "claims['sub'] matches 'repo:acme/*'",
                "repo:evil/x:pull_request",
                ClaimMatch::DoesNotMatch,
            ),
            (
                "claims['sub'] eq 'repo:acme/a:pull_request'",
                "repo:acme/a:pull_request",
                ClaimMatch::Matches,
            ),
            (
                "claims['sub'] matches 'repo:*:environment:prod'",
                "repo:acme/a:environment:prod",
                ClaimMatch::Matches,
            ),
            (
                "claims['sub'] matches 'repo:*:environment:prod'",
                "repo:acme/a:environment:production",
                ClaimMatch::DoesNotMatch,
            ),
        ] {
            assert_eq!(
                evaluate(expression, &claims(subject)),
                expected,
                "{expression} {subject}"
            );
        }
    }

    #[test]
    fn untold_claims_and_unreadable_expressions_are_unknown_not_refused() {
        let expression =
            "claims['sub'] matches 'repo:acme/*' and claims['job_workflow_ref'] eq 'x'";
        assert!(matches!(
            evaluate(expression, &claims("repo:acme/a:pull_request")),
            ClaimMatch::Unknown(_)
        ));
        assert_eq!(
            evaluate(expression, &claims("repo:evil/a:pull_request")),
            ClaimMatch::DoesNotMatch
        );
        assert!(matches!(
            evaluate("claims['sub'] startswith 'x'", &claims("x")),
            ClaimMatch::Unknown(_)
        ));
    }
}
