//! The request context: condition keys and their values, as the caller knows them.
//!
//! Keys are compared case-insensitively (AWS treats condition key names that way), so they
//! are lowercased once on insertion. Each value is parsed once, on insertion, into the forms
//! the typed operators need (number, date, IP address), so evaluation never re-parses.
//! A context is either `Complete` (a simulation: an absent key is really absent) or
//! `Partial` (an analysis: an absent key is unknown, and decisions that depend on it are
//! reported as conditional).

use super::condition::{parse_date, parse_ip_address};
use std::net::IpAddr;

/// Whether absent keys are known to be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Completeness {
    /// Every key the request carries is present; absent keys follow AWS's missing-key rules.
    #[default]
    Complete,
    /// Absent keys are unknown; decisions that depend on them come out `Conditional`.
    Partial,
}

/// One value of a context key, with its typed forms pre-parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextValue {
    text: String,
    number: Option<f64>,
    date: Option<i64>,
    ip_address: Option<IpAddr>,
}

impl ContextValue {
    pub fn new(text: impl Into<String>) -> ContextValue {
        let text = text.into();
        let number = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite());
        let date = parse_date(&text);
        let ip_address = parse_ip_address(&text).map(|network| network.addr());
        ContextValue {
            text,
            number,
            date,
            ip_address,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn number(&self) -> Option<f64> {
        self.number
    }

    /// Seconds since the Unix epoch.
    pub fn date(&self) -> Option<i64> {
        self.date
    }

    pub fn ip_address(&self) -> Option<IpAddr> {
        self.ip_address
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    lowercase_key: String,
    values: Vec<ContextValue>,
}

/// Condition keys of one request. A key may carry several values (a multivalued key such as
/// `aws:TagKeys`) or be present with none (an empty set).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Context {
    entries: Vec<Entry>,
    pub completeness: Completeness,
}

impl Context {
    pub fn new(completeness: Completeness) -> Context {
        Context {
            entries: Vec::new(),
            completeness,
        }
    }

    pub fn complete() -> Context {
        Context::new(Completeness::Complete)
    }

    pub fn partial() -> Context {
        Context::new(Completeness::Partial)
    }

    /// Adds one value to `key` (a second call makes the key multivalued).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        let value = ContextValue::new(value);
        self.entry_mut(key).values.push(value);
    }

    /// Replaces the values of `key`; an empty iterator makes the key present with no values.
    pub fn set<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(ContextValue::new).collect();
        self.entry_mut(key).values = values;
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::set`].
    pub fn with_values<I, S>(mut self, key: &str, values: I) -> Context
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.set(key, values);
        self
    }

    /// The values of `key` (case-insensitive), or `None` when the key is absent.
    pub fn get(&self, key: &str) -> Option<&[ContextValue]> {
        self.entries
            .iter()
            .find(|entry| {
                entry
                    .lowercase_key
                    .as_bytes()
                    .eq_ignore_ascii_case(key.as_bytes())
            })
            .map(|entry| entry.values.as_slice())
    }

    /// The first value of `key` as text; what a policy variable resolves to.
    pub fn first_text(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(|values| values.first())
            .map(ContextValue::text)
    }

    pub fn is_partial(&self) -> bool {
        self.completeness == Completeness::Partial
    }

    fn entry_mut(&mut self, key: &str) -> &mut Entry {
        let lowercase_key = key.to_ascii_lowercase();
        let position = match self
            .entries
            .iter()
            .position(|entry| entry.lowercase_key == lowercase_key)
        {
            Some(position) => position,
            None => {
                self.entries.push(Entry {
                    lowercase_key,
                    values: Vec::new(),
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[position]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_values_preparsed() {
        let context = Context::complete()
            .with("aws:SourceIp", "10.0.0.1")
            .with("aws:TagKeys", "a")
            .with("AWS:tagkeys", "b");
        assert_eq!(
            context.get("AWS:SOURCEIP").map(<[ContextValue]>::len),
            Some(1)
        );
        assert_eq!(
            context.get("aws:TagKeys").map(<[ContextValue]>::len),
            Some(2)
        );
        assert!(
            context
                .get("aws:SourceIp")
                .and_then(|v| v.first())
                .and_then(ContextValue::ip_address)
                .is_some()
        );
        assert_eq!(context.get("missing"), None);
    }
}
