//! Three-valued truth for evaluation with a partially known request context.
//!
//! `Unknown` carries the condition keys it depends on, so a conditional decision can name
//! exactly the keys that would settle it. The combinators follow Kleene logic: `False` wins
//! an `and`, `True` wins an `or`, and only unknowns that could still change the result keep
//! their keys. Nothing allocates unless a result is actually unknown.

/// True, false, or unknown because of the listed (absent) condition keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth<'p> {
    True,
    False,
    Unknown(Vec<&'p str>),
}

impl<'p> Truth<'p> {
    pub fn unknown(key: &'p str) -> Truth<'p> {
        Truth::Unknown(vec![key])
    }

    pub fn is_true(&self) -> bool {
        matches!(self, Truth::True)
    }

    pub fn is_false(&self) -> bool {
        matches!(self, Truth::False)
    }

    pub fn and(self, other: Truth<'p>) -> Truth<'p> {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, other) | (other, Truth::True) => other,
            (Truth::Unknown(mut keys), Truth::Unknown(more)) => {
                keys.extend(more);
                Truth::Unknown(keys)
            }
        }
    }

    pub fn or(self, other: Truth<'p>) -> Truth<'p> {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, other) | (other, Truth::False) => other,
            (Truth::Unknown(mut keys), Truth::Unknown(more)) => {
                keys.extend(more);
                Truth::Unknown(keys)
            }
        }
    }

    pub fn negate(self) -> Truth<'p> {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown => unknown,
        }
    }

    /// The keys an unknown result depends on.
    pub fn keys(&self) -> &[&'p str] {
        match self {
            Truth::Unknown(keys) => keys,
            _ => &[],
        }
    }
}

impl From<bool> for Truth<'_> {
    fn from(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_tables() {
        let unknown = || Truth::unknown("k");
        assert_eq!(Truth::False.and(unknown()), Truth::False);
        assert_eq!(Truth::True.and(unknown()), unknown());
        assert_eq!(Truth::True.or(unknown()), Truth::True);
        assert_eq!(Truth::False.or(unknown()), unknown());
        assert_eq!(unknown().negate(), unknown());
        assert_eq!(
            Truth::unknown("a").and(Truth::unknown("b")).keys(),
            &["a", "b"]
        );
    }
}
