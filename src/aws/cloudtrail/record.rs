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

/// The few request parameters that name resources or imply extra permissions.
/// Names differ in case between services (`roleArn`, `roleARN`), hence the aliases.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestParameters<'a> {
    #[serde(rename = "bucketName", borrow)]
    pub bucket_name: Text<'a>,
    #[serde(borrow)]
    pub key: Text<'a>,
    #[serde(rename = "versionId", borrow)]
    pub version_id: Text<'a>,
    #[serde(rename = "x-amz-copy-source", borrow)]
    pub copy_source: Text<'a>,
    #[serde(rename = "roleArn", alias = "roleARN", alias = "RoleArn", borrow)]
    pub role_arn: Text<'a>,
    #[serde(borrow)]
    pub role: Text<'a>,
    #[serde(rename = "taskRoleArn", borrow)]
    pub task_role_arn: Text<'a>,
    #[serde(rename = "executionRoleArn", borrow)]
    pub execution_role_arn: Text<'a>,
    #[serde(rename = "serviceRole", alias = "serviceRoleArn", borrow)]
    pub service_role: Text<'a>,
    #[serde(rename = "iamInstanceProfile", borrow)]
    pub iam_instance_profile: Loose<InstanceProfile<'a>>,
    #[serde(rename = "roleName", borrow)]
    pub role_name: Text<'a>,
    #[serde(rename = "userName", borrow)]
    pub user_name: Text<'a>,
    #[serde(rename = "policyArn", borrow)]
    pub policy_arn: Text<'a>,
    #[serde(rename = "functionName", borrow)]
    pub function_name: Text<'a>,
    #[serde(rename = "tableName", borrow)]
    pub table_name: Text<'a>,
    #[serde(rename = "repositoryName", borrow)]
    pub repository_name: Text<'a>,
    #[serde(rename = "topicArn", borrow)]
    pub topic_arn: Text<'a>,
    #[serde(rename = "keyId", borrow)]
    pub key_id: Text<'a>,
    #[serde(rename = "stackName", borrow)]
    pub stack_name: Text<'a>,
}

/// `requestParameters.iamInstanceProfile` of `RunInstances`: a profile, not a role.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InstanceProfile<'a> {
    #[serde(borrow)]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub name: Text<'a>,
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

    #[test]
    fn text_keeps_strings_and_skips_everything_else() {
        let parsed: RequestParameters =
            serde_json::from_str(r#"{"key":{"nested":[1,2]},"bucketName":"b","role":null,"x":1}"#)
                .unwrap();
        assert_eq!(parsed.key.get(), None);
        assert_eq!(parsed.bucket_name.get(), Some("b"));
        assert_eq!(parsed.role.get(), None);
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
    fn instance_profile_of_the_wrong_shape_is_ignored() {
        let parsed: RequestParameters =
            serde_json::from_str(r#"{"iamInstanceProfile":"p","key":"k"}"#).unwrap();
        assert_eq!(parsed.iam_instance_profile, Loose(None));
        assert_eq!(parsed.key.get(), Some("k"));
        let parsed: RequestParameters = serde_json::from_str(
            r#"{"iamInstanceProfile":{"arn":"arn:aws:iam::1:instance-profile/p"}}"#,
        )
        .unwrap();
        assert_eq!(
            parsed
                .iam_instance_profile
                .0
                .and_then(|p| p.arn.get().map(str::to_owned)),
            Some("arn:aws:iam::1:instance-profile/p".to_owned())
        );
    }
}
