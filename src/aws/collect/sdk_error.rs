//! Turns SDK errors into short, secret-free reasons for the inventory's issue lists.
//!
//! Service errors carry a code and a message from AWS; everything else (timeouts, DNS,
//! credential resolution) is described by its error chain. Neither contains credentials: the
//! SDK never puts keys or session tokens in its error texts, and the request itself (whose
//! headers carry the signature) is never formatted here.

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

/// A failed call, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub code: Option<String>,
    pub reason: String,
}

/// Describes any SDK error.
pub fn describe<E, R>(error: &SdkError<E, R>) -> Described
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().map(str::to_owned);
            let reason = match (inner.code(), inner.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                (None, Some(message)) => message.to_owned(),
                (None, None) => chain(inner),
            };
            Described { code, reason }
        }
        other => Described {
            code: None,
            reason: explain_credentials(chain(other)),
        },
    }
}

/// The `Display` of an error and each of its sources, joined with `: `.
///
/// Not the SDK's `DisplayErrorContext`: that appends the `Debug` form, which dumps raw
/// responses (headers, bodies) into what should be a one-line reason.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = next.source();
    }
    parts.join(": ")
}

/// `reason`, with what the default credential chain tried when the SDK says it found no
/// credentials at all: its message names only the chain's last source (instance metadata),
/// which reads as if only that one had been tried. The order is the SDK's
/// (<https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html>).
fn explain_credentials(reason: String) -> String {
    // The SDK's orchestrator wraps every failure of the credential chain in this sentence.
    if !reason.contains("loading credentials") {
        return reason;
    }
    format!(
        "no AWS credentials found: the default chain tried the environment \
         (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`), the shared files (`~/.aws/config`, \
         `~/.aws/credentials`: `--profile` or `AWS_PROFILE`, with SSO and \
         `credential_process`), a web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE` + \
         `AWS_ROLE_ARN`, as `aws-actions/configure-aws-credentials` sets), the container \
         credentials endpoint, then the instance metadata service, whose answer was: {reason}"
    )
}

/// Whether a code says the caller lacks permission (IAM and Organizations spell it
/// differently).
pub fn is_access_denied(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_credential_chain_names_every_source_it_tried() {
        let reason = "dispatch failure: other: an error occurred while loading credentials: \
                      failed to load IMDS session token"
            .to_owned();
        let explained = super::explain_credentials(reason.clone());
        for source in [
            "AWS_ACCESS_KEY_ID",
            "~/.aws/credentials",
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "instance metadata",
        ] {
            assert!(explained.contains(source), "{source}: {explained}");
        }
        assert!(explained.ends_with(&reason));
        let other = "AccessDenied: not allowed".to_owned();
        assert_eq!(super::explain_credentials(other.clone()), other);
    }
}
