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
            reason: chain(other),
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

/// Whether a code says the caller lacks permission (IAM and Organizations spell it
/// differently).
pub fn is_access_denied(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")
    )
}
