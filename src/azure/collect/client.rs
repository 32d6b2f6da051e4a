//! GET calls through azure_core's HTTP pipeline with a bearer token, 429 handling and paging.
//!
//! Throttling: ARM and Microsoft Graph answer 429 with `Retry-After` (seconds, or an HTTP
//! date); ARM may also send `x-ms-ratelimit-*` and `Retry-After-ms`
//! (<https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling>,
//! <https://learn.microsoft.com/graph/throttling>). The call is retried after that delay, capped
//! by [`RetryPolicy::max_delay`], at most [`RetryPolicy::max_attempts`] times in all.

use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::Policy;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, PipelineSendOptions, Request, RetryOptions,
    Transport, Url,
};
use std::sync::Arc;
use std::time::Duration;

/// How throttled calls (HTTP 429) are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The longest wait before a retry, whatever `Retry-After` asks.
    pub max_delay: Duration,
    /// The wait when a 429 carries no `Retry-After`.
    pub default_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_delay: Duration::from_secs(300),
            default_delay: Duration::from_secs(10),
        }
    }
}

/// A call that did not return a usable body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The service answered with an error status.
    Status {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No token could be had: nothing will work, the run stops.
    Credential(String),
    /// The connection failed, or the body was not the JSON expected.
    Other(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status {
                status,
                code,
                message,
            } => match code {
                Some(code) => write!(f, "HTTP {status} `{code}`: {message}"),
                None => write!(f, "HTTP {status}: {message}"),
            },
            CallError::Credential(message) | CallError::Other(message) => f.write_str(message),
        }
    }
}

/// A client for one API (ARM or Graph): its base URL, a pipeline that adds a bearer token for
/// the API's scope, and the retry policy.
pub struct ApiClient {
    base: Url,
    pipeline: Pipeline,
    retry: RetryPolicy,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `base` with tokens of `scope` from `credential`. azure_core's own retry
    /// policy is off: throttling is handled here, so that every wait is bounded and visible.
    pub fn new(
        base: Url,
        scope: &str,
        credential: Arc<dyn TokenCredential>,
        transport: Option<Transport>,
        retry: RetryPolicy,
    ) -> Self {
        let bearer: Arc<dyn Policy> = Arc::new(BearerTokenAuthorizationPolicy::new(
            credential,
            [scope.to_owned()],
        ));
        let options = ClientOptions {
            retry: RetryOptions::none(),
            transport,
            ..ClientOptions::default()
        };
        let pipeline = Pipeline::new(
            Some("pipeleash"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![bearer],
            None,
        );
        Self {
            base,
            pipeline,
            retry,
        }
    }

    /// `path` (with its query, `?api-version=…`) joined to the base URL.
    pub fn url(&self, path_and_query: &str) -> Result<Url, CallError> {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}"))
            .map_err(|error| CallError::Other(format!("bad URL `{path_and_query}`: {error}")))
    }

    /// GETs `url` and parses the JSON body, retrying on 429.
    pub async fn get_json(&self, url: &Url) -> Result<serde_json::Value, CallError> {
        let mut attempt = 1;
        loop {
            let mut request = Request::new(url.clone(), Method::Get);
            request.insert_header("accept", "application/json");
            let sent = self
                .pipeline
                .send(
                    &Context::new(),
                    &mut request,
                    Some(PipelineSendOptions {
                        skip_checks: true,
                        ..PipelineSendOptions::default()
                    }),
                )
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) if matches!(error.kind(), ErrorKind::Credential) => {
                    return Err(CallError::Credential(error.to_string()));
                }
                Err(error) => {
                    return Err(CallError::Other(format!("GET `{url}` failed: {error}")));
                }
            };
            let status = u16::from(response.status());
            let body = response.body().as_ref();
            if (200..300).contains(&status) {
                return serde_json::from_slice(body).map_err(|error| {
                    CallError::Other(format!("GET `{url}`: the body is not JSON: {error}"))
                });
            }
            if status == 429 && attempt < self.retry.max_attempts.max(1) {
                let headers = response.headers();
                let header = |name: &'static str| {
                    headers
                        .get_optional_str(&HeaderName::from_static(name))
                        .map(str::to_owned)
                };
                let delay = retry_delay(
                    header("retry-after-ms")
                        .or_else(|| header("x-ms-retry-after-ms"))
                        .as_deref(),
                    header("retry-after").as_deref(),
                    chrono::Utc::now(),
                )
                .unwrap_or(self.retry.default_delay)
                .min(self.retry.max_delay);
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            let (code, message) = error_of(body);
            return Err(CallError::Status {
                status,
                code,
                message: message.unwrap_or_else(|| format!("GET `{url}` failed")),
            });
        }
    }

    /// GETs every page of a list: the items of `value` of each page, following the link named
    /// `next_field` (`nextLink` in ARM, `@odata.nextLink` in Graph) until it is absent, null
    /// or empty. A link to another host than the base URL's is refused (the token would go
    /// there), and so is a link already followed (a loop).
    pub async fn get_all(
        &self,
        first: Url,
        next_field: &str,
    ) -> Result<Vec<serde_json::Value>, CallError> {
        let mut items = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            if !seen.insert(url.as_str().to_owned()) {
                return Err(CallError::Other(format!(
                    "the next-page link `{url}` was already followed (a paging loop)"
                )));
            }
            let mut page = self.get_json(&url).await?;
            match page.get_mut("value").map(serde_json::Value::take) {
                Some(serde_json::Value::Array(values)) => items.extend(values),
                Some(serde_json::Value::Null) | None => {}
                Some(_) => {
                    return Err(CallError::Other(format!(
                        "GET `{url}`: `value` is not an array"
                    )));
                }
            }
            next = match page.get(next_field) {
                Some(serde_json::Value::String(link)) if !link.is_empty() => {
                    let link = Url::parse(link).map_err(|error| {
                        CallError::Other(format!("bad `{next_field}` `{link}`: {error}"))
                    })?;
                    if link.origin() != self.base.origin() {
                        return Err(CallError::Other(format!(
                            "`{next_field}` `{link}` leaves `{}`; not followed",
                            self.base
                        )));
                    }
                    Some(link)
                }
                _ => None,
            };
        }
        Ok(items)
    }
}

/// The delay a 429 asks for: `Retry-After-ms` (milliseconds) first, else `Retry-After` in
/// seconds or as an HTTP date (RFC 9110 §10.2.3), counted from `now`. None when neither
/// header is there or readable.
pub fn retry_delay(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|value| value.trim().parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }
    let value = retry_after?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The `error.code` and `error.message` of an ARM or Graph error body
/// (`{"error":{"code":"AuthorizationFailed","message":"…"}}`).
fn error_of(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let error = &value["error"];
    let text = |field: &str| error[field].as_str().map(str::to_owned);
    (text("code"), text("message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_milliseconds_and_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            retry_delay(None, Some("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_delay(Some("250"), Some("7"), now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            retry_delay(None, Some("Thu, 01 Jan 2026 00:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_delay(None, Some("Wed, 31 Dec 2025 23:59:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_delay(None, Some("soon"), now), None);
        assert_eq!(retry_delay(None, None, now), None);
    }

    #[test]
    fn error_bodies_of_arm_and_graph() {
        let arm = br#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization"}}"#;
        assert_eq!(error_of(arm).0.as_deref(), Some("AuthorizationFailed"));
        let graph = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-01-01T00:00:00","request-id":"r"}}}"#;
        assert_eq!(
            error_of(graph).0.as_deref(),
            Some("Authorization_RequestDenied")
        );
        assert_eq!(error_of(b"<html>"), (None, None));
    }
}
