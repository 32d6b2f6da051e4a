//! Condition operators: their names, the typed values they take, and how a compiled
//! condition is evaluated against a request context.
//!
//! Missing-key rules (AWS "condition operators" reference): when the key is absent, normal
//! operators are false, negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`…)
//! are true, `...IfExists` is true, `Null` tests absence itself, `ForAllValues` is true and
//! `ForAnyValue` is false (with or without `IfExists`). Several values for one key are OR'd
//! (NOR'd for negated operators). A multivalued key needs a set operator. With a `Partial`
//! context (or a key marked unknown) an absent key is unknown instead, and the condition
//! reports that key rather than guessing. [`CompiledCondition::evaluate`] cites each rule.

use super::arn::ArnPattern;
use super::context::{Context, ContextValue, KeyState};
use super::pattern::Pattern;
use super::truth::Truth;
use super::variables::{Resolution, Template, pieces_to_text, pieces_to_tokens};
use crate::matching::Case;
use base64::Engine as _;
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// The operator without its set quantifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatorBase {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// The kind of value an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

const ALL_BASES: [OperatorBase; 27] = {
    use OperatorBase::*;
    [
        StringEquals,
        StringNotEquals,
        StringEqualsIgnoreCase,
        StringNotEqualsIgnoreCase,
        StringLike,
        StringNotLike,
        NumericEquals,
        NumericNotEquals,
        NumericLessThan,
        NumericLessThanEquals,
        NumericGreaterThan,
        NumericGreaterThanEquals,
        DateEquals,
        DateNotEquals,
        DateLessThan,
        DateLessThanEquals,
        DateGreaterThan,
        DateGreaterThanEquals,
        Bool,
        BinaryEquals,
        IpAddress,
        NotIpAddress,
        ArnEquals,
        ArnLike,
        ArnNotEquals,
        ArnNotLike,
        Null,
    ]
};

impl OperatorBase {
    pub fn name(self) -> &'static str {
        use OperatorBase::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    pub fn family(self) -> OperatorFamily {
        use OperatorBase::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::IpAddress,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Negated operators match when the key's value matches none of the policy values, and
    /// are true when the key is absent.
    pub fn is_negated(self) -> bool {
        use OperatorBase::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// `ForAllValues:` or `ForAnyValue:`, for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetQuantifier {
    ForAllValues,
    ForAnyValue,
}

/// A full operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConditionOperator {
    pub quantifier: Option<SetQuantifier>,
    pub base: OperatorBase,
    pub if_exists: bool,
}

/// Why an operator name was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorNameError {
    Unknown,
    NullWithIfExists,
}

impl ConditionOperator {
    /// Parses an operator name. Names are matched exactly as AWS spells them.
    pub fn parse(name: &str) -> Result<ConditionOperator, OperatorNameError> {
        let (quantifier, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQuantifier::ForAllValues), rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQuantifier::ForAnyValue), rest)
        } else {
            (None, name)
        };
        let find = |text: &str| ALL_BASES.iter().copied().find(|base| base.name() == text);
        if let Some(base) = find(rest) {
            return Ok(ConditionOperator {
                quantifier,
                base,
                if_exists: false,
            });
        }
        let base = rest
            .strip_suffix("IfExists")
            .and_then(find)
            .ok_or(OperatorNameError::Unknown)?;
        if base == OperatorBase::Null {
            return Err(OperatorNameError::NullWithIfExists);
        }
        Ok(ConditionOperator {
            quantifier,
            base,
            if_exists: true,
        })
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.quantifier {
            Some(SetQuantifier::ForAllValues) => formatter.write_str("ForAllValues:")?,
            Some(SetQuantifier::ForAnyValue) => formatter.write_str("ForAnyValue:")?,
            None => {}
        }
        formatter.write_str(self.base.name())?;
        if self.if_exists {
            formatter.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// A point in time as the date operators compare it: seconds since the Unix epoch and the
/// fraction of a second in nanoseconds. Ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment {
    pub seconds: i64,
    /// `0..1_000_000_000`.
    pub nanos: u32,
}

impl Moment {
    pub fn from_seconds(seconds: i64) -> Moment {
        Moment { seconds, nanos: 0 }
    }
}

/// Parses a date as IAM accepts it: ISO 8601 (date, or date and time with `Z` or an offset,
/// optionally with fractional seconds, which are kept: `2026-11-01T12:00:00.500Z` is half a
/// second after `…12:00:00Z`) or seconds since the epoch (optionally with a fraction).
/// Date condition operators: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date>.
pub fn parse_date(text: &str) -> Option<Moment> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike};
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(moment) = parse_epoch(text) {
        return Some(moment);
    }
    let of_utc = |moment: DateTime<chrono::Utc>| Moment {
        seconds: moment.timestamp(),
        nanos: moment.nanosecond().min(999_999_999),
    };
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some(of_utc(moment.to_utc()));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(moment) = NaiveDateTime::parse_from_str(text, format) {
            return Some(of_utc(moment.and_utc()));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(moment) = DateTime::parse_from_str(text, format) {
            return Some(of_utc(moment.to_utc()));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|moment| of_utc(moment.and_utc()))
}

/// `1577836800` or `1577836800.25`: seconds since the epoch.
fn parse_epoch(text: &str) -> Option<Moment> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|fraction| !digits(fraction)) {
        return None;
    }
    let seconds = whole.parse::<i64>().ok()?;
    let nanos = match fraction {
        None => 0,
        Some(fraction) => {
            // The first nine digits are nanoseconds; finer digits are dropped.
            let nine: String = fraction
                .chars()
                .chain(std::iter::repeat('0'))
                .take(9)
                .collect();
            nine.parse::<u32>().ok()?
        }
    };
    Some(Moment { seconds, nanos })
}

/// Parses an address or CIDR block; a bare address is a single-host network.
pub fn parse_ip_address(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(network) = text.parse::<IpNet>() {
        return Some(network);
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_binary(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// Checks that `text` is a valid value for `operator`; the message says what is expected.
pub fn validate_value(base: OperatorBase, text: &str) -> Result<(), &'static str> {
    let valid = match base.family() {
        OperatorFamily::String | OperatorFamily::Arn => true,
        OperatorFamily::Numeric => parse_number(text).is_some(),
        OperatorFamily::Date => parse_date(text).is_some(),
        OperatorFamily::Bool | OperatorFamily::Null => parse_bool(text).is_some(),
        OperatorFamily::Binary => parse_binary(text).is_some(),
        OperatorFamily::IpAddress => parse_ip_address(text).is_some(),
    };
    if valid {
        return Ok(());
    }
    Err(match base.family() {
        OperatorFamily::Numeric => "a number",
        OperatorFamily::Date => "an ISO 8601 date or epoch seconds",
        OperatorFamily::Bool | OperatorFamily::Null => "`true` or `false`",
        OperatorFamily::Binary => "base64 data",
        OperatorFamily::IpAddress => "an IP address or CIDR block",
        OperatorFamily::String | OperatorFamily::Arn => "a string",
    })
}

/// A policy value ready to compare, parsed into the operator's type.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Text(Box<str>),
    Pattern(Pattern),
    Arn(ArnPattern),
    Number(f64),
    Date(Moment),
    Network(IpNet),
    Bool(bool),
    Binary(Vec<u8>),
    /// A value that cannot be parsed for the operator (only possible after substituting a
    /// variable): it matches nothing.
    Invalid,
}

impl Operand {
    fn from_text(base: OperatorBase, text: &str) -> Operand {
        use OperatorBase::*;
        let parsed = match base.family() {
            OperatorFamily::String => Some(match base {
                StringLike | StringNotLike => Operand::Pattern(Pattern::new(text, Case::Sensitive)),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                    Operand::Text(text.to_lowercase().into())
                }
                _ => Operand::Text(text.into()),
            }),
            OperatorFamily::Arn => Some(Operand::Arn(ArnPattern::new(text))),
            OperatorFamily::Numeric => parse_number(text).map(Operand::Number),
            OperatorFamily::Date => parse_date(text).map(Operand::Date),
            OperatorFamily::Bool | OperatorFamily::Null => parse_bool(text).map(Operand::Bool),
            OperatorFamily::Binary => parse_binary(text).map(Operand::Binary),
            OperatorFamily::IpAddress => parse_ip_address(text).map(Operand::Network),
        };
        parsed.unwrap_or(Operand::Invalid)
    }

    /// After variable substitution: substituted text and escapes are literal in patterns.
    fn from_resolved(
        base: OperatorBase,
        pieces: &[super::variables::ResolvedPiece<'_>],
    ) -> Operand {
        use OperatorBase::*;
        match base {
            StringLike | StringNotLike => Operand::Pattern(Pattern::from_tokens(
                pieces_to_tokens(pieces, Case::Sensitive),
                Case::Sensitive,
            )),
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Operand::Arn(
                ArnPattern::from_tokens(pieces_to_tokens(pieces, Case::Sensitive)),
            ),
            _ => Operand::from_text(base, &pieces_to_text(pieces)),
        }
    }

    /// Does one context value match this policy value under the (non-negated) operator?
    fn matches(&self, base: OperatorBase, value: &ContextValue) -> bool {
        use OperatorBase::*;
        match self {
            Operand::Text(expected) => match base {
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => expected
                    .chars()
                    .eq(value.text().chars().flat_map(char::to_lowercase)),
                _ => **expected == *value.text(),
            },
            Operand::Pattern(pattern) => pattern.matches(value.text()),
            Operand::Arn(pattern) => pattern.matches(value.text()),
            Operand::Number(expected) => value.number().is_some_and(|actual| match base {
                NumericEquals | NumericNotEquals => actual == *expected,
                NumericLessThan => actual < *expected,
                NumericLessThanEquals => actual <= *expected,
                NumericGreaterThan => actual > *expected,
                NumericGreaterThanEquals => actual >= *expected,
                _ => false,
            }),
            Operand::Date(expected) => value.date().is_some_and(|actual| match base {
                DateEquals | DateNotEquals => actual == *expected,
                DateLessThan => actual < *expected,
                DateLessThanEquals => actual <= *expected,
                DateGreaterThan => actual > *expected,
                DateGreaterThanEquals => actual >= *expected,
                _ => false,
            }),
            Operand::Network(network) => value
                .ip_address()
                .is_some_and(|address| network.contains(&address)),
            Operand::Bool(expected) => parse_bool(value.text()) == Some(*expected),
            Operand::Binary(expected) => match parse_binary(value.text()) {
                Some(actual) => actual == *expected,
                None => false,
            },
            Operand::Invalid => false,
        }
    }
}

/// One key tested by one operator, compiled for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledCondition {
    operator: ConditionOperator,
    key: Box<str>,
    /// Values without variables, parsed once.
    operands: Vec<Operand>,
    /// The same values as templates, kept only when some value contains a variable.
    templates: Option<Vec<Template>>,
    /// For `Null`: the values (`true` = "key must be absent").
    null_expectations: Vec<bool>,
}

impl CompiledCondition {
    pub fn new(
        operator: ConditionOperator,
        key: &str,
        values: &[String],
        variables_enabled: bool,
    ) -> Self {
        let templates: Vec<Template> = values
            .iter()
            .map(|value| Template::parse(value, variables_enabled))
            .collect();
        let has_variables = templates.iter().any(Template::has_variables);
        let operands = templates
            .iter()
            .map(|template| match template.as_plain_text() {
                Some(text) => Operand::from_text(operator.base, text),
                // Escapes without variables resolve against an empty context.
                None => match template.resolve(&Context::complete()) {
                    Resolution::Resolved(pieces) => Operand::from_resolved(operator.base, &pieces),
                    Resolution::Missing(_) => Operand::Invalid,
                },
            })
            .collect();
        let null_expectations = values
            .iter()
            .filter_map(|value| parse_bool(value))
            .collect();
        CompiledCondition {
            operator,
            key: key.into(),
            operands,
            templates: has_variables.then_some(templates),
            null_expectations,
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> ConditionOperator {
        self.operator
    }

    /// Evaluates the condition; unknown results name the key they depend on.
    ///
    /// The rules, from the IAM documentation:
    /// * an absent key: see [`CompiledCondition::absent_key_result`];
    /// * a policy variable without a value (absent, or a multivalued key, which "cannot be a
    ///   policy variable") matches no context value, so a normal operator does not match and
    ///   an inverted one (`StringNotEquals`, `ArnNotLike`…) does ("Policy variables with no
    ///   value",
    ///   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value>);
    /// * a multivalued key needs a set operator: `ForAllValues` holds when every value
    ///   satisfies the operator, `ForAnyValue` when one does, and an operator without one does
    ///   not match a multivalued key at all
    ///   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>);
    /// * several policy values are OR'd, NOR'd for inverted operators
    ///   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html>).
    pub fn evaluate<'p>(&'p self, context: &Context) -> Truth<'p> {
        let present = match context.lookup(&self.key) {
            KeyState::Unknown => return Truth::unknown(&self.key),
            KeyState::Absent => return Truth::from(self.absent_key_result()),
            KeyState::Present(present) => present,
        };
        let values = present.values;
        if self.operator.base == OperatorBase::Null {
            let is_null = values.is_empty();
            return Truth::from(self.null_expectations.contains(&is_null));
        }
        // Resolve policy variables first. A variable without a value makes its policy value
        // match nothing (inverted operators then hold); an unknown one makes the result
        // unknown.
        let resolved;
        let operands: &[Operand] = match &self.templates {
            None => &self.operands,
            Some(templates) => {
                let mut operands = Vec::with_capacity(templates.len());
                for template in templates {
                    match template.resolve(context) {
                        Resolution::Resolved(pieces) => {
                            operands.push(Operand::from_resolved(self.operator.base, &pieces))
                        }
                        Resolution::Missing(key) => match context.variable(key) {
                            KeyState::Unknown => return Truth::unknown(key),
                            KeyState::Absent | KeyState::Present(_) => {
                                operands.push(Operand::Invalid)
                            }
                        },
                    }
                }
                resolved = operands;
                &resolved
            }
        };
        let base = self.operator.base;
        let negated = base.is_negated();
        let matches_any =
            |value: &ContextValue| operands.iter().any(|operand| operand.matches(base, value));
        // For a negated operator a context value "satisfies" it when it matches no policy value.
        let satisfies = |value: &ContextValue| matches_any(value) != negated;
        let result = match self.operator.quantifier {
            Some(SetQuantifier::ForAllValues) => values.iter().all(satisfies),
            Some(SetQuantifier::ForAnyValue) => values.iter().any(satisfies),
            // A multivalued key without a set operator: no match, whatever the operator.
            None if present.multivalued => false,
            None if negated => !values.iter().any(matches_any),
            None => values.iter().any(matches_any),
        };
        Truth::from(result)
    }

    /// The result when the key is known to be absent
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>):
    /// `Null` tests absence itself; `ForAllValues` is true and `ForAnyValue` false, with or
    /// without `IfExists` (with a set operator, `IfExists` applies to each value, not to the
    /// missing set: "if there is no matching context key or the dataset is null, the
    /// condition returns false" for `ForAnyValue`,
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>);
    /// otherwise `…IfExists` is true, an inverted operator true, any other false.
    fn absent_key_result(&self) -> bool {
        if self.operator.base == OperatorBase::Null {
            return self.null_expectations.contains(&true);
        }
        match self.operator.quantifier {
            Some(SetQuantifier::ForAllValues) => true,
            Some(SetQuantifier::ForAnyValue) => false,
            None if self.operator.if_exists => true,
            None => self.operator.base.is_negated(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(operator: &str, key: &str, values: &[&str]) -> CompiledCondition {
        let operator = ConditionOperator::parse(operator).unwrap();
        let values: Vec<String> = values.iter().map(|value| value.to_string()).collect();
        CompiledCondition::new(operator, key, &values, true)
    }

    #[test]
    fn operator_names_round_trip() {
        for name in [
            "StringEquals",
            "ForAnyValue:StringLikeIfExists",
            "ForAllValues:ArnNotLike",
            "Null",
            "BoolIfExists",
        ] {
            assert_eq!(ConditionOperator::parse(name).unwrap().to_string(), name);
        }
        assert_eq!(
            ConditionOperator::parse("NullIfExists"),
            Err(OperatorNameError::NullWithIfExists)
        );
        assert_eq!(
            ConditionOperator::parse("StringEqual"),
            Err(OperatorNameError::Unknown)
        );
        assert_eq!(
            ConditionOperator::parse("stringequals"),
            Err(OperatorNameError::Unknown)
        );
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let at = Some(Moment::from_seconds(1_577_836_800));
        assert_eq!(parse_date("2020-01-01"), at);
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), at);
        assert_eq!(parse_date("2020-01-01T01:00:00+01:00"), at);
        assert_eq!(parse_date("2020-01-01T00:00:00.000Z"), at);
        assert_eq!(parse_date("1577836800"), at);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("1577836800.x"), None);
    }

    #[test]
    fn fractional_seconds_are_kept() {
        let half = Some(Moment {
            seconds: 1_577_836_800,
            nanos: 500_000_000,
        });
        assert_eq!(parse_date("2020-01-01T00:00:00.500Z"), half);
        assert_eq!(parse_date("2020-01-01T01:00:00.5+01:00"), half);
        assert_eq!(parse_date("2020-01-01T00:00:00.5"), half);
        assert_eq!(parse_date("1577836800.5"), half);
        assert!(parse_date("2020-01-01T00:00:00.001Z") > parse_date("2020-01-01T00:00:00Z"));
    }

    #[test]
    fn negated_operator_with_multiple_values_is_nor() {
        let not_equals = condition("StringNotEquals", "k", &["a", "b"]);
        assert_eq!(
            not_equals.evaluate(&Context::complete().with("k", "a")),
            Truth::False
        );
        assert_eq!(
            not_equals.evaluate(&Context::complete().with("k", "c")),
            Truth::True
        );
        assert_eq!(not_equals.evaluate(&Context::complete()), Truth::True);
    }

    #[test]
    fn ignore_case_compares_unicode_lowercase() {
        let equals = condition("StringEqualsIgnoreCase", "k", &["ÉTÉ"]);
        assert_eq!(
            equals.evaluate(&Context::complete().with("K", "été")),
            Truth::True
        );
    }

    #[test]
    fn binary_equals_compares_decoded_bytes() {
        let equals = condition("BinaryEquals", "k", &["QmluYXJ5"]);
        assert_eq!(
            equals.evaluate(&Context::complete().with("k", "QmluYXJ5")),
            Truth::True
        );
        assert_eq!(
            equals.evaluate(&Context::complete().with("k", "QmluYXJa")),
            Truth::False
        );
    }
}
