//! Decoding of IAM policy documents as the API hands them out.
//!
//! Real IAM returns every policy document (trust policies, inline and managed policy versions)
//! URL-encoded (RFC 3986 percent-encoding of the JSON text); moto and some proxies return the
//! raw JSON. The collector keeps the decoded JSON text, unparsed: turning it into statements is
//! the policy parser's job, and keeping the text preserves exactly what the provider said.

/// Why a policy document could not be turned into JSON text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("policy document is not JSON, neither as given nor percent-decoded: {reason}")]
    NotJson { reason: String },
    #[error("percent-decoded policy document is not UTF-8 text")]
    NotUtf8,
}

/// Returns the JSON text of a policy document, percent-decoding it when it is URL-encoded.
///
/// A document is taken as given when it already parses as JSON and does not start with `%`
/// (an encoded `{` is `%7B`); otherwise it is percent-decoded and must then parse as JSON.
/// `+` is not treated as a space: IAM encodes spaces as `%20`, and a literal `+` can appear in
/// conditions.
pub fn decode_policy_document(raw: &str) -> Result<String, DocumentError> {
    let trimmed = raw.trim_start();
    if !trimmed.starts_with('%') && is_json(raw).is_ok() {
        return Ok(raw.to_owned());
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| DocumentError::NotUtf8)?;
    match is_json(&decoded) {
        Ok(()) => Ok(decoded.into_owned()),
        Err(reason) => Err(DocumentError::NotJson { reason }),
    }
}

fn is_json(text: &str) -> Result<(), String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/a b+c"}]}"#;

    #[test]
    fn raw_json_is_kept_as_given() {
        assert_eq!(decode_policy_document(RAW).as_deref(), Ok(RAW));
    }

    #[test]
    fn url_encoded_document_as_iam_returns_it_is_decoded() {
        // The exact encoding real IAM uses in GetAccountAuthorizationDetails.
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Abucket%2Fa%20b%2Bc%22%7D%5D%7D";
        assert_eq!(decode_policy_document(encoded).as_deref(), Ok(RAW));
    }

    #[test]
    fn encoded_document_with_newlines_is_decoded() {
        let encoded = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%5B%5D%0A%7D";
        assert_eq!(
            decode_policy_document(encoded).as_deref(),
            Ok("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        assert!(matches!(
            decode_policy_document("not a policy"),
            Err(DocumentError::NotJson { .. })
        ));
        assert_eq!(
            decode_policy_document("%FF%FE"),
            Err(DocumentError::NotUtf8)
        );
    }
}
