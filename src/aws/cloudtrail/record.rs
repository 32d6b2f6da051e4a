//! The raw CloudTrail wire shapes: only the fields ingestion reads, borrowed from the decoded
//! file so that a record costs no allocation unless a string carries JSON escapes.
//!
//! Everything is tolerant. Fields are optional, unknown fields are skipped, and every string
//! field is a [`Text`], which accepts any JSON value and keeps it only when it is a string:
//! CloudTrail reuses parameter names across services with different types (`key` is a string in
//! S3 and an object elsewhere), and one odd record must not cost the whole file.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A JSON value that is kept only when it is a string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The string, if the value was a non-empty string.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref().filter(|text| !text.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(value))))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(value.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(value))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
                inner.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

/// A value that is kept when it has the expected shape and ignored otherwise, so that an
/// unexpected type in one nested field does not make the whole file unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loose<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loose<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for LooseVisitor<T> {
            type Value = Loose<T>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("any JSON value")
            }
            // Only an object goes through the typed path; every other value is skipped.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|v| Loose(Some(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose(None))
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
                inner.deserialize_any(self)
            }
        }
        deserializer.deserialize_any(LooseVisitor(std::marker::PhantomData))
    }
}

/// `{"Records": [...]}`: one CloudTrail log file.
#[derive(Debug, Deserialize)]
pub struct LogFile<'a> {
    #[serde(rename = "Records", borrow)]
    pub records: Option<Vec<Record<'a>>>,
}

/// One CloudTrail event, reduced to what usage ingestion needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Record<'a> {
    #[serde(borrow)]
    pub event_time: Text<'a>,
    #[serde(borrow)]
    pub event_source: Text<'a>,
    #[serde(borrow)]
    pub event_name: Text<'a>,
    #[serde(borrow)]
    pub event_type: Text<'a>,
    #[serde(borrow)]
    pub aws_region: Text<'a>,
    #[serde(borrow)]
    pub error_code: Text<'a>,
    #[serde(borrow)]
    pub recipient_account_id: Text<'a>,
    #[serde(borrow)]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow)]
    pub request_parameters: Option<RequestParameters<'a>>,
    #[serde(borrow)]
    pub response_elements: Option<ResponseElements<'a>>,
    #[serde(borrow)]
    pub resources: Option<Vec<Resource<'a>>>,
}

/// `userIdentity`: who made the call and with which credentials.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    #[serde(borrow)]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub account_id: Text<'a>,
    #[serde(borrow)]
    pub access_key_id: Text<'a>,
    #[serde(borrow)]
    pub user_name: Text<'a>,
    #[serde(borrow)]
    pub invoked_by: Text<'a>,
    #[serde(borrow)]
    pub identity_provider: Text<'a>,
    #[serde(borrow)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    #[serde(borrow)]
    pub web_id_federation_data: Option<WebIdFederationData<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`: the role (or user) behind a session.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
    #[serde(borrow)]
    pub arn: Text<'a>,
}

/// `userIdentity.sessionContext.webIdFederationData`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WebIdFederationData<'a> {
    #[serde(borrow)]
    pub federated_provider: Text<'a>,
}

/// The request parameters that name the resource of a call, plus every string the
/// implied-permission rules ([`super::implied`]) may read: all strings under a top-level key
/// some rule names (`x-amz-acl`, `tagSpecificationSet`, …), and every string anywhere in the
/// request that has the shape of an IAM role or instance profile ARN, with its path.
///
/// Parsed by hand rather than derived so that nested objects and arrays are walked in the same
/// pass that would otherwise skip them, without allocating unless something is kept.
#[derive(Debug, Default)]
pub struct RequestParameters<'a> {
    pub bucket_name: Text<'a>,
    pub key: Text<'a>,
    pub version_id: Text<'a>,
    /// `roleArn` (also spelt `roleARN`, `RoleArn`): the role of an STS call.
    pub role_arn: Text<'a>,
    pub policy_arn: Text<'a>,
    pub function_name: Text<'a>,
    pub table_name: Text<'a>,
    pub repository_name: Text<'a>,
    pub topic_arn: Text<'a>,
    pub key_id: Text<'a>,
    pub stack_name: Text<'a>,
    /// The strings the implied-permission rules may read, in request order.
    pub values: Vec<Parameter<'a>>,
}

/// A string found in `requestParameters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter<'a> {
    /// Keys from the top joined by `.`, `[]` for an array element: `targets[].roleArn`.
    pub path: String,
    pub value: Cow<'a, str>,
}

impl<'de: 'a, 'a> Deserialize<'de> for RequestParameters<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TopVisitor<'a> {
            type Value = RequestParameters<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut parameters = RequestParameters::default();
                let mut values: Vec<Parameter<'de>> = Vec::new();
                let table = super::implied::ImpliedPermissions::embedded().ok();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let keep = table.is_some_and(|table| table.reads_root(&key));
                    let node = Node {
                        parent: None,
                        segment: Segment::Key(&key),
                    };
                    let value = map.next_value_seed(Scan {
                        out: &mut values,
                        at: &node,
                        keep,
                    })?;
                    let field = match &*key {
                        "bucketName" => &mut parameters.bucket_name,
                        "key" => &mut parameters.key,
                        "versionId" => &mut parameters.version_id,
                        "roleArn" | "roleARN" | "RoleArn" => &mut parameters.role_arn,
                        "policyArn" => &mut parameters.policy_arn,
                        "functionName" => &mut parameters.function_name,
                        "tableName" => &mut parameters.table_name,
                        "repositoryName" => &mut parameters.repository_name,
                        "topicArn" => &mut parameters.topic_arn,
                        "keyId" => &mut parameters.key_id,
                        "stackName" => &mut parameters.stack_name,
                        _ => continue,
                    };
                    *field = Text(value);
                }
                parameters.values = values;
                Ok(parameters)
            }
            // Anything but an object holds no parameter this reads.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RequestParameters::default())
            }
            fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequestParameters::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
                inner.deserialize_any(self)
            }
        }
        deserializer.deserialize_any(TopVisitor(std::marker::PhantomData))
    }
}

/// An object key, borrowed unless it carries escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

/// One step of the path to a value; the path lives on the stack of the walk and is only
/// written out when a value is kept.
#[derive(Clone, Copy)]
enum Segment<'p> {
    Key(&'p str),
    Element,
}

struct Node<'p> {
    parent: Option<&'p Node<'p>>,
    segment: Segment<'p>,
}

impl Node<'_> {
    fn path(&self) -> String {
        let mut segments = Vec::new();
        let mut current = Some(self);
        while let Some(node) = current {
            segments.push(node.segment);
            current = node.parent;
        }
        let mut path = String::new();
        for segment in segments.into_iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Segment::Element => path.push_str("[]"),
            }
        }
        path
    }
}

/// Walks one value, keeping the strings [`RequestParameters::values`] holds; gives the value
/// itself when it is a string.
struct Scan<'s, 'p, 'de> {
    out: &'s mut Vec<Parameter<'de>>,
    at: &'p Node<'p>,
    /// Under a top-level key a rule reads: keep every string.
    keep: bool,
}

impl<'de> Scan<'_, '_, 'de> {
    fn leaf(self, value: Cow<'de, str>) -> Option<Cow<'de, str>> {
        if !value.is_empty() && (self.keep || super::implied::may_be_iam_arn(&value)) {
            self.out.push(Parameter {
                path: self.at.path(),
                value: value.clone(),
            });
        }
        Some(value)
    }
}

impl<'de> de::DeserializeSeed<'de> for Scan<'_, '_, 'de> {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_, '_, 'de> {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(self.leaf(Cow::Borrowed(value)))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(self.leaf(Cow::Owned(value.to_owned())))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        Ok(self.leaf(Cow::Owned(value)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        inner.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let node = Node {
            parent: Some(self.at),
            segment: Segment::Element,
        };
        while seq
            .next_element_seed(Scan {
                out: &mut *self.out,
                at: &node,
                keep: self.keep,
            })?
            .is_some()
        {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let node = Node {
                parent: Some(self.at),
                segment: Segment::Key(&key),
            };
            map.next_value_seed(Scan {
                out: &mut *self.out,
                at: &node,
                keep: self.keep,
            })?;
        }
        Ok(None)
    }
}

/// The response fields of `AssumeRoleWithWebIdentity` that link a CI run to its session.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseElements<'a> {
    #[serde(borrow)]
    pub credentials: Loose<Credentials<'a>>,
    #[serde(borrow)]
    pub subject_from_web_identity_token: Text<'a>,
    #[serde(borrow)]
    pub provider: Text<'a>,
}

/// `responseElements.credentials`; only the access key id is read, never the secret parts.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Credentials<'a> {
    #[serde(borrow)]
    pub access_key_id: Text<'a>,
}

/// An entry of `resources`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Resource<'a> {
    #[serde(rename = "ARN", borrow)]
    pub arn: Text<'a>,
    #[serde(rename = "type", borrow)]
    pub kind: Text<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(parameters: &RequestParameters<'_>) -> Vec<(String, String)> {
        parameters
            .values
            .iter()
            .map(|parameter| (parameter.path.clone(), parameter.value.to_string()))
            .collect()
    }

    #[test]
    fn text_keeps_strings_and_skips_everything_else() {
        let parsed: RequestParameters = serde_json::from_str(
            r#"{"key":{"nested":[1,2]},"bucketName":"b","roleArn":null,"x":1}"#,
        )
        .unwrap();
        assert_eq!(parsed.key.get(), None);
        assert_eq!(parsed.bucket_name.get(), Some("b"));
        assert_eq!(parsed.role_arn.get(), None);
        assert!(parsed.values.is_empty());
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let parsed: Resource = serde_json::from_str(r#"{"ARN":"arn:aws:s3:::b\/k"}"#).unwrap();
        assert!(matches!(parsed.arn.0, Some(Cow::Owned(_))));
        assert_eq!(parsed.arn.get(), Some("arn:aws:s3:::b/k"));
        let parsed: Resource = serde_json::from_str(r#"{"ARN":"arn:aws:s3:::b"}"#).unwrap();
        assert!(matches!(parsed.arn.0, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn role_and_profile_arns_are_kept_at_any_depth_with_their_path() {
        let parsed: RequestParameters = serde_json::from_str(
            r#"{"rule":"nightly","targets":[{"id":"1","arn":"arn:aws:states:us-east-1:1:stateMachine:x",
                "roleArn":"arn:aws:iam::1:role/events-invoke"}],
               "iamInstanceProfile":{"arn":"arn:aws:iam::1:instance-profile/p"},
               "roleARN":"arn:aws:iam::1:role/cfn"}"#,
        )
        .unwrap();
        assert_eq!(
            kept(&parsed),
            vec![
                (
                    "targets[].roleArn".to_owned(),
                    "arn:aws:iam::1:role/events-invoke".to_owned()
                ),
                (
                    "iamInstanceProfile.arn".to_owned(),
                    "arn:aws:iam::1:instance-profile/p".to_owned()
                ),
                ("roleARN".to_owned(), "arn:aws:iam::1:role/cfn".to_owned()),
            ]
        );
        assert_eq!(parsed.role_arn.get(), Some("arn:aws:iam::1:role/cfn"));
    }

    #[test]
    fn strings_under_keys_a_rule_reads_are_kept() {
        let parsed: RequestParameters = serde_json::from_str(
            r#"{"bucketName":"b","key":"k","x-amz-acl":"public-read","Host":"b.s3.amazonaws.com",
               "tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"a","value":"b"}]}]},
               "iamInstanceProfile":{"name":"web"}}"#,
        )
        .unwrap();
        let kept = kept(&parsed);
        assert!(kept.contains(&("x-amz-acl".to_owned(), "public-read".to_owned())));
        assert!(kept.contains(&(
            "tagSpecificationSet.items[].resourceType".to_owned(),
            "instance".to_owned()
        )));
        assert!(kept.contains(&("iamInstanceProfile.name".to_owned(), "web".to_owned())));
        assert!(!kept.iter().any(|(path, _)| path == "Host" || path == "key"));
    }

    #[test]
    fn request_parameters_of_another_shape_are_empty() {
        for text in [r#""text""#, "[1,2]", "3", "true"] {
            let parsed: RequestParameters = serde_json::from_str(text).unwrap();
            assert!(
                parsed.values.is_empty() && parsed.key.get().is_none(),
                "{text}"
            );
        }
    }
}
