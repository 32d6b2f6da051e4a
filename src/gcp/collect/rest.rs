//! The IAM REST calls that the generated clients do not cover: Workload Identity pools and
//! their providers
//! (<https://cloud.google.com/iam/docs/reference/rest/v1/projects.locations.workloadIdentityPools>)
//! and IAM v2 deny policies
//! (<https://cloud.google.com/iam/docs/reference/rest/v2/policies/listPolicies>,
//! <https://cloud.google.com/iam/docs/reference/rest/v2/policies/get>), with reqwest and the same credentials. Pages are followed to the end (`nextPageToken`);
//! 429 and 503 answers are retried with exponential backoff (or the `Retry-After` the server
//! gave), as the Google clients' own policy does.

use super::{MAX_ATTEMPTS, PageTokens};
use crate::gcp::inventory::{
    GcpConditionExpr, GcpDenyPolicy, GcpDenyPolicyRule, GcpOidcProvider, GcpWorkloadIdentityPool,
    GcpWorkloadIdentityProvider,
};
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::time::Duration;

/// A failed REST call, in the parts a `GcpCollectIssue` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    pub http_status: Option<u16>,
    /// The error body's `status` (`PERMISSION_DENIED`).
    pub status: Option<String>,
    pub reason: String,
}

/// An authenticated JSON client for one API base URL.
#[derive(Debug, Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    initial_backoff: Duration,
}

impl RestClient {
    /// `base` is scheme and host (`https://iam.googleapis.com`), without a trailing `/`.
    pub fn new(
        base: &str,
        credentials: Credentials,
        initial_backoff: Duration,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pipeleash/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            initial_backoff,
        })
    }

    /// GETs `path` (starting with `/`) with `query`, retrying 429, 503 and transport errors.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, RestError> {
        self.call_json(path, query, None).await
    }

    /// GETs `path` with `query`, or POSTs `body` as JSON to it when given, retrying 429, 503
    /// and transport errors.
    async fn call_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, RestError> {
        let url = format!("{}{path}", self.base);
        let verb = if body.is_some() { "POST" } else { "GET" };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let headers = match self.credentials.headers(http::Extensions::new()).await {
                Ok(CacheableResource::New { data, .. }) => data,
                Ok(CacheableResource::NotModified) => http::HeaderMap::new(),
                Err(error) => {
                    return Err(RestError {
                        http_status: None,
                        status: Some("UNAUTHENTICATED".to_owned()),
                        reason: format!("cannot obtain an access token: {error}"),
                    });
                }
            };
            let request = match body {
                Some(body) => self.http.post(&url).json(body),
                None => self.http.get(&url),
            };
            let sent = request.headers(headers).query(query).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(error)
                    if attempt < MAX_ATTEMPTS && (error.is_connect() || error.is_timeout()) =>
                {
                    tokio::time::sleep(self.backoff(attempt, None)).await;
                    continue;
                }
                Err(error) => {
                    return Err(RestError {
                        http_status: None,
                        status: None,
                        reason: format!("`{verb} {url}` failed: {error}"),
                    });
                }
            };
            let status = response.status().as_u16();
            if (status == 429 || status == 503) && attempt < MAX_ATTEMPTS {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                tokio::time::sleep(self.backoff(attempt, retry_after)).await;
                continue;
            }
            let body = response.bytes().await.map_err(|error| RestError {
                http_status: Some(status),
                status: None,
                reason: format!("cannot read the answer of `{verb} {url}`: {error}"),
            })?;
            if !(200..300).contains(&status) {
                return Err(error_from_body(status, &body));
            }
            return serde_json::from_slice(&body).map_err(|error| RestError {
                http_status: Some(status),
                status: None,
                reason: format!("cannot parse the answer of `{verb} {url}`: {error}"),
            });
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .initial_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(6));
        retry_after
            .unwrap_or(exponential)
            .min(Duration::from_secs(60))
    }

    /// Every Workload Identity pool of `project` (id or number), with its providers. A failed
    /// providers listing leaves that pool's `providers` at `None` and is returned beside it.
    pub async fn workload_identity_pools(
        &self,
        project: &str,
        page_size: i32,
    ) -> (
        Result<Vec<GcpWorkloadIdentityPool>, RestError>,
        Vec<(String, RestError)>,
    ) {
        let parent = format!("projects/{project}/locations/global");
        let pools: Vec<WirePool> = match self
            .list_all(
                &format!("/v1/{parent}/workloadIdentityPools"),
                page_size,
                |page: PoolPage| (page.workload_identity_pools, page.next_page_token),
            )
            .await
        {
            Ok(pools) => pools,
            Err(error) => return (Err(error), Vec::new()),
        };
        let mut failures = Vec::new();
        let mut out = Vec::with_capacity(pools.len());
        for pool in pools {
            let providers = match self
                .list_all(
                    &format!("/v1/{}/providers", pool.name),
                    page_size,
                    |page: ProviderPage| {
                        (page.workload_identity_pool_providers, page.next_page_token)
                    },
                )
                .await
            {
                Ok(providers) => Some(providers.into_iter().map(provider_from).collect()),
                Err(error) => {
                    failures.push((pool.name.clone(), error));
                    None
                }
            };
            out.push(GcpWorkloadIdentityPool {
                name: pool.name,
                display_name: pool.display_name,
                description: pool.description,
                state: pool.state,
                disabled: pool.disabled,
                providers,
            });
        }
        (Ok(out), failures)
    }

    /// Every IAM deny policy attached to `resource` (`organizations/1`, `folders/2`,
    /// `projects/p`), with its rules. `policies.listPolicies` returns only the policies'
    /// metadata, so each policy listed without rules is read with `policies.get`; a failed
    /// read keeps the policy without rules and is returned beside it (policy name, error).
    ///
    /// The attachment point is the URL-encoded full resource name
    /// (`cloudresourcemanager.googleapis.com%2Fprojects%2Fp`,
    /// <https://cloud.google.com/iam/docs/reference/rest/v2/policies/listPolicies>).
    pub async fn deny_policies(
        &self,
        resource: &str,
        page_size: i32,
    ) -> (
        Result<Vec<GcpDenyPolicy>, RestError>,
        Vec<(String, RestError)>,
    ) {
        let attachment = attachment_point(resource);
        let listed: Vec<WireDenyPolicy> = match self
            .list_all(
                &format!("/v2/policies/{attachment}/denypolicies"),
                page_size,
                |page: DenyPolicyPage| (page.policies, page.next_page_token),
            )
            .await
        {
            Ok(listed) => listed,
            Err(error) => return (Err(error), Vec::new()),
        };
        let mut failures = Vec::new();
        let mut out = Vec::with_capacity(listed.len());
        for policy in listed {
            let policy = if policy.rules.is_empty() && !policy.name.is_empty() {
                match self
                    .get_json::<WireDenyPolicy>(&format!("/v2/{}", policy.name), &[])
                    .await
                {
                    Ok(full) => full,
                    Err(error) => {
                        failures.push((policy.name.clone(), error));
                        policy
                    }
                }
            } else {
                policy
            };
            out.push(deny_policy_from(resource, policy));
        }
        (Ok(out), failures)
    }

    /// The Cloud Audit Log entries of `project` from `since` (inclusive) to `until`
    /// (exclusive), oldest first, through Cloud Logging's `entries.list`
    /// (`POST /v2/entries:list`,
    /// <https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list>), every page
    /// (`nextPageToken`) read. The filter keeps the audit logs
    /// (`logName:"cloudaudit.googleapis.com"`: Admin Activity, Data Access, System Event,
    /// Policy Denied) in the window.
    pub async fn audit_log_entries(
        &self,
        project: &str,
        since: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
        page_size: i32,
    ) -> Result<Vec<serde_json::Value>, RestError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            entries: Vec<serde_json::Value>,
            #[serde(default)]
            next_page_token: String,
        }
        let at = |time: chrono::DateTime<chrono::Utc>| {
            time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let filter = format!(
            "logName:\"cloudaudit.googleapis.com\" AND timestamp>=\"{}\" AND timestamp<\"{}\"",
            at(since),
            at(until)
        );
        let mut entries = Vec::new();
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let mut body = serde_json::json!({
                "resourceNames": [format!("projects/{project}")],
                "filter": filter,
                "orderBy": "timestamp asc",
                "pageSize": page_size,
            });
            if !token.is_empty() {
                body["pageToken"] = serde_json::Value::String(token.clone());
            }
            let page: Page = self.call_json("/v2/entries:list", &[], Some(&body)).await?;
            entries.extend(page.entries);
            match tokens.next(page.next_page_token) {
                Ok(Some(next)) => token = next,
                Ok(None) => return Ok(entries),
                Err(reason) => {
                    return Err(RestError {
                        http_status: None,
                        status: None,
                        reason,
                    });
                }
            }
        }
    }

    async fn list_all<P: DeserializeOwned, T>(
        &self,
        path: &str,
        page_size: i32,
        split: impl Fn(P) -> (Vec<T>, String),
    ) -> Result<Vec<T>, RestError> {
        let mut items = Vec::new();
        let mut tokens = PageTokens::default();
        let mut token = String::new();
        loop {
            let mut query = vec![("pageSize", page_size.to_string())];
            if !token.is_empty() {
                query.push(("pageToken", token.clone()));
            }
            let (page, next) = split(self.get_json::<P>(path, &query).await?);
            items.extend(page);
            match tokens.next(next) {
                Ok(Some(next)) => token = next,
                Ok(None) => return Ok(items),
                Err(reason) => {
                    return Err(RestError {
                        http_status: None,
                        status: None,
                        reason,
                    });
                }
            }
        }
    }
}

/// Reads the standard error body `{"error":{"code":403,"message":…,"status":…}}`
/// (<https://cloud.google.com/apis/design/errors#http_mapping>); any other body is kept as
/// text.
fn error_from_body(http_status: u16, body: &[u8]) -> RestError {
    #[derive(Deserialize)]
    struct Envelope {
        error: ErrorBody,
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        message: String,
        #[serde(default)]
        status: Option<String>,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => RestError {
            http_status: Some(http_status),
            status: envelope.error.status,
            reason: envelope.error.message,
        },
        Err(_) => RestError {
            http_status: Some(http_status),
            status: None,
            reason: String::from_utf8_lossy(body).chars().take(500).collect(),
        },
    }
}

/// `projects/p` → `cloudresourcemanager.googleapis.com%2Fprojects%2Fp`: the full resource
/// name of a Resource Manager node, its slashes URL-encoded, as the IAM v2 API names an
/// attachment point (<https://cloud.google.com/iam/docs/reference/rest/v2/policies/listPolicies>).
pub fn attachment_point(resource: &str) -> String {
    format!("cloudresourcemanager.googleapis.com/{resource}").replace('/', "%2F")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DenyPolicyPage {
    #[serde(default)]
    policies: Vec<WireDenyPolicy>,
    #[serde(default)]
    next_page_token: String,
}

/// `google.iam.v2.Policy` (<https://cloud.google.com/iam/docs/reference/rest/v2/policies#Policy>).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDenyPolicy {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    rules: Vec<WirePolicyRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePolicyRule {
    #[serde(default)]
    description: String,
    #[serde(default)]
    deny_rule: Option<WireDenyRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDenyRule {
    #[serde(default)]
    denied_principals: Vec<String>,
    #[serde(default)]
    exception_principals: Vec<String>,
    #[serde(default)]
    denied_permissions: Vec<String>,
    #[serde(default)]
    exception_permissions: Vec<String>,
    #[serde(default)]
    denial_condition: Option<WireExpr>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireExpr {
    #[serde(default)]
    title: String,
    #[serde(default)]
    expression: String,
    #[serde(default)]
    description: String,
}

fn deny_policy_from(resource: &str, wire: WireDenyPolicy) -> GcpDenyPolicy {
    GcpDenyPolicy {
        attachment_point: resource.to_owned(),
        name: wire.name,
        display_name: wire.display_name,
        rules: wire
            .rules
            .into_iter()
            .filter_map(|rule| {
                let deny = rule.deny_rule?;
                Some(GcpDenyPolicyRule {
                    description: rule.description,
                    denied_principals: deny.denied_principals,
                    exception_principals: deny.exception_principals,
                    denied_permissions: deny.denied_permissions,
                    exception_permissions: deny.exception_permissions,
                    denial_condition: deny
                        .denial_condition
                        .filter(|expr| !expr.expression.trim().is_empty())
                        .map(|expr| GcpConditionExpr {
                            title: expr.title,
                            expression: expr.expression,
                            description: expr.description,
                        }),
                })
            })
            .collect(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PoolPage {
    #[serde(default)]
    workload_identity_pools: Vec<WirePool>,
    #[serde(default)]
    next_page_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePool {
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderPage {
    #[serde(default)]
    workload_identity_pool_providers: Vec<WireProvider>,
    #[serde(default)]
    next_page_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireProvider {
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    attribute_condition: Option<String>,
    #[serde(default)]
    oidc: Option<WireOidc>,
    #[serde(default)]
    aws: Option<WireAws>,
    #[serde(default)]
    saml: Option<serde_json::Value>,
    #[serde(default)]
    x509: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOidc {
    #[serde(default)]
    issuer_uri: String,
    #[serde(default)]
    allowed_audiences: Vec<String>,
    #[serde(default)]
    jwks_json: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAws {
    #[serde(default)]
    account_id: String,
}

fn provider_from(wire: WireProvider) -> GcpWorkloadIdentityProvider {
    let protocol = if wire.oidc.is_some() {
        "oidc"
    } else if wire.aws.is_some() {
        "aws"
    } else if wire.saml.is_some() {
        "saml"
    } else if wire.x509.is_some() {
        "x509"
    } else {
        "unknown"
    };
    GcpWorkloadIdentityProvider {
        name: wire.name,
        display_name: wire.display_name,
        description: wire.description,
        state: wire.state,
        disabled: wire.disabled,
        attribute_mapping: wire.attribute_mapping,
        attribute_condition: wire.attribute_condition.filter(|c| !c.trim().is_empty()),
        oidc: wire.oidc.map(|oidc| GcpOidcProvider {
            issuer_uri: oidc.issuer_uri,
            allowed_audiences: oidc.allowed_audiences,
            jwks_json_set: oidc.jwks_json.is_some_and(|jwks| !jwks.is_empty()),
        }),
        aws_account_id: wire.aws.map(|aws| aws.account_id),
        protocol: protocol.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_gives_status_and_message() {
        let body = br#"{"error":{"code":403,"message":"Permission 'iam.workloadIdentityPools.list' denied","status":"PERMISSION_DENIED"}}"#;
        let error = error_from_body(403, body);
        assert_eq!(error.http_status, Some(403));
        assert_eq!(error.status.as_deref(), Some("PERMISSION_DENIED"));
        assert!(error.reason.contains("iam.workloadIdentityPools.list"));
    }

    #[test]
    fn non_json_error_body_is_kept_as_text() {
        let error = error_from_body(502, b"<html>bad gateway</html>");
        assert_eq!(error.status, None);
        assert_eq!(error.reason, "<html>bad gateway</html>");
    }

    #[test]
    fn attachment_points_are_url_encoded_full_resource_names() {
        assert_eq!(
            attachment_point("projects/my-project"),
            "cloudresourcemanager.googleapis.com%2Fprojects%2Fmy-project"
        );
        assert_eq!(
            attachment_point("organizations/1"),
            "cloudresourcemanager.googleapis.com%2Forganizations%2F1"
        );
    }

    #[test]
    fn deny_policy_wire_format_reads_rules_and_drops_empty_conditions() {
        let wire: WireDenyPolicy = serde_json::from_str(
            r#"{"name":"policies/x/denypolicies/p","displayName":"P","rules":[
              {"description":"d","denyRule":{"deniedPrincipals":["principalSet://goog/public:all"],
               "deniedPermissions":["iam.googleapis.com/roles.delete"],
               "denialCondition":{"title":"t","expression":"  "}}},
              {"description":"no deny rule"}]}"#,
        )
        .expect("parse");
        let policy = deny_policy_from("projects/1", wire);
        assert_eq!(policy.attachment_point, "projects/1");
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.rules[0].denial_condition, None);
        assert_eq!(
            policy.rules[0].denied_permissions,
            ["iam.googleapis.com/roles.delete"]
        );
    }

    #[test]
    fn provider_without_condition_reads_as_none() {
        let wire: WireProvider = serde_json::from_str(
            r#"{"name":"p","attributeCondition":"  ","oidc":{"issuerUri":"https://token.actions.githubusercontent.com"}}"#,
        )
        .expect("parse");
        let provider = provider_from(wire);
        assert_eq!(provider.attribute_condition, None);
        assert_eq!(provider.protocol, "oidc");
        assert!(
            provider
                .oidc
                .is_some_and(|o| o.allowed_audiences.is_empty() && !o.jwks_json_set)
        );
    }
}
