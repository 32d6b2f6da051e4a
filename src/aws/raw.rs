//! The wire form of a policy: a JSON tree that keeps key order and duplicate keys.
//!
//! `serde_json::Value` silently keeps the last of two equal keys; IAM rejects such
//! documents, so the parser reads into this tree instead and reports duplicates. Numbers
//! keep their text so that `"1.0"` and `1.0` compare the way IAM compares them.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawJson {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<RawJson>),
    Object(Vec<(String, RawJson)>),
}

impl RawJson {
    /// The JSON type name, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            RawJson::Null => "null",
            RawJson::Bool(_) => "a boolean",
            RawJson::Number(_) => "a number",
            RawJson::String(_) => "a string",
            RawJson::Array(_) => "an array",
            RawJson::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawJson;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a json value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<RawJson, E> {
        Ok(RawJson::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<RawJson, E> {
        Ok(RawJson::Number(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<RawJson, E> {
        Ok(RawJson::Number(value.to_string()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<RawJson, E> {
        Ok(RawJson::Number(value.to_string()))
    }

    fn visit_str<E>(self, value: &str) -> Result<RawJson, E> {
        Ok(RawJson::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<RawJson, E> {
        Ok(RawJson::String(value))
    }

    fn visit_unit<E>(self) -> Result<RawJson, E> {
        Ok(RawJson::Null)
    }

    fn visit_none<E>(self) -> Result<RawJson, E> {
        Ok(RawJson::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<RawJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element()? {
            items.push(item);
        }
        Ok(RawJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawJson, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, RawJson>()? {
            entries.push((key, value));
        }
        Ok(RawJson::Object(entries))
    }
}

/// Decodes URL-encoded policy text as the IAM API returns it. Every `%` must start a valid
/// escape; `+` stays a plus sign (IAM encodes spaces as `%20`).
pub(crate) fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while let Some(&byte) = bytes.get(position) {
        if byte == b'%' {
            let hex = |offset: usize| {
                bytes
                    .get(position + offset)
                    .and_then(|digit| (*digit as char).to_digit(16))
            };
            match (hex(1), hex(2)) {
                (Some(high), Some(low)) => {
                    decoded.push((high * 16 + low) as u8);
                    position += 3;
                }
                _ => return Err(format!("invalid escape at byte {}", position + 1)),
            }
        } else {
            decoded.push(byte);
            position += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| "decoded bytes are not valid utf-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicates_and_order() {
        let raw: RawJson = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        let RawJson::Object(entries) = raw else {
            panic!("not an object")
        };
        let keys: Vec<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("%7B%22a%22%3A1+2%7D").unwrap(),
            r#"{"a":1+2}"#
        );
        assert!(percent_decode("%7").is_err());
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%FF").is_err());
    }
}
