//! `collect azure` against a local replay server: the real azure_identity credentials
//! (client secret, GitHub Actions client assertion) and azure_core's HTTP pipeline over TLS,
//! talking to a wiremock server on 127.0.0.1 behind a TLS front with a throw-away CA. The
//! server answers from `recorded-fixtures/azure/replay/` (see its `routes.json`), bodies in
//! the wire format of the Azure REST API and Microsoft Graph references.

use azure_rcgen as rcgen;
use azure_tokio_rustls as tokio_rustls;
use pipeleash::azure::collect::client::RetryPolicy;
use pipeleash::azure::collect::credential::{CredentialKind, CredentialSettings};
use pipeleash::azure::collect::{self, CollectError, CollectOptions, Collector, Target};
use pipeleash::azure::inventory::AzureInventory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TENANT: &str = "3f2b6c1e-8d4a-4e7b-9c2d-5a1f0e9b7d63";
const SUB_A: &str = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
const SUB_B: &str = "0b1d9c4e-2f3a-4b5c-8d6e-7f8091a2b3c4";
const CLIENT_ID: &str = "4024ab25-56a8-4370-aea6-6389221caf29";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recorded-fixtures/azure/replay")
}

/// The replay server: wiremock on 127.0.0.1 behind a TLS front.
struct Replay {
    server: MockServer,
    /// `https://127.0.0.1:<port>`.
    base: String,
    /// The PEM of the CA that signed the front's certificate.
    ca_pem: String,
}

impl Replay {
    async fn start() -> Replay {
        let server = MockServer::start().await;
        let (base, ca_pem) = tls_front(*server.address()).await;
        let routes: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join("routes.json")).unwrap())
                .unwrap();
        for route in routes["routes"].as_array().unwrap() {
            let text = |key: &str| route[key].as_str().unwrap().to_owned();
            let body = std::fs::read_to_string(fixtures().join(text("body")))
                .unwrap()
                .replace("https://management.azure.com", &base)
                .replace("https://graph.microsoft.com", &base);
            let mut response = ResponseTemplate::new(route["status"].as_u64().unwrap() as u16)
                .set_body_bytes(body);
            for (name, value) in route["headers"].as_object().unwrap() {
                response = response.insert_header(name.as_str(), value.as_str().unwrap());
            }
            let mut mock = Mock::given(method(text("method").as_str())).and(path(text("path")));
            if let Some(query) = route["query"].as_object() {
                for (name, value) in query {
                    mock = mock.and(query_param(name.as_str(), value.as_str().unwrap()));
                }
            }
            if let Some(parts) = route["body_contains"].as_array() {
                for part in parts {
                    mock = mock.and(body_string_contains(part.as_str().unwrap()));
                }
            }
            if let Some(authorization) = route["authorization"].as_str() {
                let value = match authorization {
                    "arm" => "Bearer replay-arm-token".to_owned(),
                    "graph" => "Bearer replay-graph-token".to_owned(),
                    other => other.to_owned(),
                };
                mock = mock.and(header("authorization", value.as_str()));
            }
            let mut mounted = mock.respond_with(response);
            if let Some(priority) = route["priority"].as_u64() {
                mounted = mounted.with_priority(priority as u8);
            }
            if let Some(times) = route["times"].as_u64() {
                mounted = mounted.up_to_n_times(times);
            }
            mounted.mount(&server).await;
        }
        Replay {
            server,
            base,
            ca_pem,
        }
    }

    /// How many requests reached `path` (any method, any query).
    async fn hits(&self, wanted: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|request| request.url.path() == wanted)
            .count()
    }

    fn options(&self, target: Target) -> CollectOptions {
        CollectOptions {
            target,
            arm_endpoint: self.base.parse().unwrap(),
            graph_endpoint: self.base.parse().unwrap(),
            graph: true,
            retry: RetryPolicy {
                max_attempts: 3,
                // Cap the fixtures' `Retry-After` (2 and 3 seconds) so the tests stay fast.
                max_delay: Duration::from_millis(50),
                default_delay: Duration::from_millis(10),
            },
        }
    }

    /// Collects with the credential `kind` built from `vars` as the environment.
    async fn collect(
        &self,
        kind: CredentialKind,
        vars: BTreeMap<&'static str, String>,
        target: Target,
    ) -> Result<AzureInventory, CollectError> {
        let transport = collect::http_transport(Some(self.ca_pem.as_bytes())).unwrap();
        let env = move |name: &str| vars.get(name).cloned();
        let settings = CredentialSettings {
            env: &env,
            tenant_id: None,
            authority_host: Some(self.base.clone()),
            transport: Some(transport.clone()),
        };
        let credential = Arc::new(settings.single(kind).unwrap());
        let options = self.options(target);
        let collector = Collector::new(credential, Some(transport), &options);
        collector
            .collect(&options, "2026-11-29T10:00:00Z", &|_| {})
            .await
    }
}

fn secret_env() -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("AZURE_CLIENT_SECRET", "replay-client-secret".to_owned()),
    ])
}

fn both_subscriptions() -> Target {
    Target::Subscriptions(vec![SUB_A.to_owned(), SUB_B.to_owned()])
}

/// A TLS front on 127.0.0.1 that forwards every connection to `backend`; its certificate is
/// signed by a CA made here, whose PEM is returned with the front's base URL.
async fn tls_front(backend: std::net::SocketAddr) -> (String, String) {
    use tokio_rustls::rustls;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pipeleash replay CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (format!("https://{address}"), ca.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arm_next_link_paging_is_followed_to_the_end() {
    let replay = Replay::start().await;
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            both_subscriptions(),
        )
        .await
        .unwrap();
    let names: Vec<&str> = inventory
        .role_assignments
        .iter()
        .map(|assignment| assignment.name.as_str())
        .collect();
    // Two on the first page (one inherited from a management group), two on the second.
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.contains(&"0c5b0a8e-1f2d-4e3c-8b4a-5d6e7f8091a2"));
    assert!(names.contains(&"3f8e3d1b-4253-4b6f-9e7d-8091a2b3c4d5"));
    let inherited = inventory
        .role_assignments
        .iter()
        .find(|assignment| {
            assignment
                .properties
                .scope
                .contains("managementGroups/mg-platform")
        })
        .expect("the assignment inherited from the management group");
    assert_eq!(
        inherited.properties.principal_type.as_deref(),
        Some("ServicePrincipal")
    );
    let conditional = inventory
        .role_assignments
        .iter()
        .find(|assignment| assignment.properties.condition.is_some())
        .expect("the assignment with an ABAC condition");
    assert_eq!(
        conditional.properties.condition_version.as_deref(),
        Some("2.0")
    );
    // The custom role, the deny assignment and the managed identity with its credentials.
    assert_eq!(inventory.role_definitions.len(), 1);
    assert_eq!(
        inventory.role_definitions[0].properties.role_type,
        "CustomRole"
    );
    assert_eq!(inventory.deny_assignments.len(), 1);
    assert_eq!(inventory.user_assigned_identities.len(), 1);
    let subjects: Vec<_> = inventory.user_assigned_identities[0]
        .federated_identity_credentials
        .iter()
        .map(|credential| credential.properties.subject.clone().unwrap_or_default())
        .collect();
    // Sorted by id: `github-production` before `github-pull-request`.
    assert_eq!(
        subjects,
        [
            "repo:contoso/web:environment:production",
            "repo:contoso/web:pull_request"
        ]
    );
    assert_eq!(inventory.tenant_id.as_deref(), Some(TENANT));
    let role_assignment_path =
        format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/roleAssignments");
    assert_eq!(replay.hits(&role_assignment_path).await, 2, "two pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_on_one_subscription_is_recorded_and_the_run_goes_on() {
    let replay = Replay::start().await;
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            both_subscriptions(),
        )
        .await
        .unwrap();
    let denied: Vec<_> = inventory
        .errors
        .iter()
        .filter(|issue| issue.target == format!("/subscriptions/{SUB_B}"))
        .collect();
    assert_eq!(denied.len(), 4, "{:#?}", inventory.errors);
    for issue in &denied {
        assert_eq!(issue.status, Some(403));
        assert_eq!(issue.code.as_deref(), Some("AuthorizationFailed"));
        assert!(
            issue.reason.contains("does not have authorization"),
            "{}",
            issue.reason
        );
    }
    assert!(
        denied
            .iter()
            .any(|issue| issue.call == "Microsoft.Authorization/roleAssignments/read")
    );
    // Subscription A, read after B failed… and before: both subscriptions are there.
    assert_eq!(inventory.subscriptions.len(), 2);
    assert!(!inventory.role_assignments.is_empty());
    // Graph's `Authorization_RequestDenied` on one application is recorded the same way.
    let graph_denied: Vec<_> = inventory
        .errors
        .iter()
        .filter(|issue| issue.code.as_deref() == Some("Authorization_RequestDenied"))
        .collect();
    assert_eq!(graph_denied.len(), 1, "{:#?}", inventory.errors);
    assert_eq!(
        graph_denied[0].call,
        "graph:applications:federatedIdentityCredentials:list"
    );
    assert_eq!(
        inventory.applications.len(),
        3,
        "the run went on past the 403"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_after_retry_after_capped() {
    let replay = Replay::start().await;
    let started = Instant::now();
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            Target::Subscriptions(vec![SUB_A.to_owned()]),
        )
        .await
        .unwrap();
    // `Retry-After: 2` (ARM) and `3` (Graph) were capped at 50 ms each.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        inventory
            .errors
            .iter()
            .all(|issue| issue.status != Some(429))
    );
    assert_eq!(
        inventory.deny_assignments.len(),
        1,
        "the retry got the page"
    );
    let deny_path =
        format!("/subscriptions/{SUB_A}/providers/Microsoft.Authorization/denyAssignments");
    assert_eq!(replay.hits(&deny_path).await, 2, "one 429, one retry");
    assert_eq!(
        replay.hits("/v1.0/servicePrincipals").await,
        3,
        "page 1, 429, page 2"
    );
    assert_eq!(inventory.service_principals.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_retried_too_often_is_recorded() {
    let replay = Replay::start().await;
    let transport = collect::http_transport(Some(replay.ca_pem.as_bytes())).unwrap();
    let vars = secret_env();
    let env = move |name: &str| vars.get(name).cloned();
    let settings = CredentialSettings {
        env: &env,
        tenant_id: None,
        authority_host: Some(replay.base.clone()),
        transport: Some(transport.clone()),
    };
    let mut options = replay.options(Target::Subscriptions(vec![SUB_A.to_owned()]));
    options.retry.max_attempts = 1;
    options.graph = false;
    let collector = Collector::new(
        Arc::new(settings.single(CredentialKind::ClientSecret).unwrap()),
        Some(transport),
        &options,
    );
    let inventory = collector
        .collect(&options, "2026-11-29T10:00:00Z", &|_| {})
        .await
        .unwrap();
    let throttled: Vec<_> = inventory
        .errors
        .iter()
        .filter(|issue| issue.status == Some(429))
        .collect();
    assert_eq!(throttled.len(), 1, "{:#?}", inventory.errors);
    assert_eq!(throttled[0].code.as_deref(), Some("TooManyRequests"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_odata_next_link_paging_flexible_credentials_and_expiry() {
    let replay = Replay::start().await;
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            Target::Subscriptions(vec![SUB_A.to_owned()]),
        )
        .await
        .unwrap();
    // `@odata.nextLink` followed: the managed identity is on page 2.
    let types: Vec<_> = inventory
        .service_principals
        .iter()
        .map(|principal| principal.service_principal_type.clone().unwrap_or_default())
        .collect();
    assert!(types.contains(&"ManagedIdentity".to_owned()), "{types:?}");
    let legacy = inventory
        .service_principals
        .iter()
        .find(|principal| principal.display_name.as_deref() == Some("gh-web-deploy"))
        .unwrap();
    assert_eq!(
        legacy.password_credentials[0].end_date_time.as_deref(),
        Some("2025-01-10T09:00:00Z")
    );
    let deploy = inventory
        .applications
        .iter()
        .find(|application| application.display_name.as_deref() == Some("gh-web-deploy"))
        .unwrap();
    assert_eq!(
        deploy.password_credentials[0].end_date_time.as_deref(),
        Some("2027-06-01T00:00:00Z")
    );
    assert_eq!(
        deploy.key_credentials[0].end_date_time.as_deref(),
        Some("2026-12-31T23:59:59Z")
    );
    assert_eq!(
        deploy.federated_identity_credentials[0].subject.as_deref(),
        Some("repo:contoso/web:ref:refs/heads/main")
    );
    let flexible = inventory
        .applications
        .iter()
        .find(|application| application.display_name.as_deref() == Some("gh-any-branch"))
        .unwrap();
    let credential = &flexible.federated_identity_credentials[0];
    assert_eq!(credential.subject, None);
    let expression = credential.claims_matching_expression.as_ref().unwrap();
    assert_eq!(
        expression.value,
        "claims['sub'] matches 'repo:contoso/*:ref:refs/heads/*'"
    );
    assert_eq!(expression.language_version, 1);
    // The credential sign-in report, both pages (`@odata.nextLink` with `$skiptoken`).
    let sign_ins = inventory.credential_sign_ins.as_ref().unwrap();
    let last: Vec<(&str, Option<&str>)> = sign_ins
        .iter()
        .map(|row| {
            (
                row.key_id.as_str(),
                row.sign_in_activity
                    .as_ref()
                    .and_then(|activity| activity.last_sign_in_date_time.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        last,
        vec![
            (
                "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
                Some("2026-11-28T06:12:40Z")
            ),
            (
                "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f",
                Some("2026-03-02T11:45:00Z")
            ),
        ]
    );
    assert_eq!(
        replay
            .hits("/beta/reports/appCredentialSignInActivities")
            .await,
        2
    );
    // Never a secret: not the hint, not a secret text.
    let text = serde_json::to_string(&inventory).unwrap();
    for secret_part in ["hint", "Zq8", "Xy1", "secretText", "replay-client-secret"] {
        assert!(
            !text.contains(secret_part),
            "`{secret_part}` leaked into the inventory"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_credential_sign_in_report_leaves_credential_use_unknown() {
    let replay = Replay::start().await;
    // Without `AuditLog.Read.All` (or an Entra ID P1 licence) Graph refuses the report.
    Mock::given(method("GET"))
        .and(path("/beta/reports/appCredentialSignInActivities"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "application/json")
                .set_body_bytes(
                    std::fs::read(fixtures().join("graph/authorization-request-denied.json"))
                        .unwrap(),
                ),
        )
        .with_priority(1)
        .mount(&replay.server)
        .await;
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            Target::Subscriptions(vec![SUB_A.to_owned()]),
        )
        .await
        .unwrap();
    assert_eq!(inventory.credential_sign_ins, None);
    let denied: Vec<_> = inventory
        .errors
        .iter()
        .filter(|issue| issue.call == "graph:reports:appCredentialSignInActivities:list")
        .collect();
    assert_eq!(denied.len(), 1, "{:#?}", inventory.errors);
    assert_eq!(denied[0].status, Some(403));
    assert_eq!(
        denied[0].code.as_deref(),
        Some("Authorization_RequestDenied")
    );
    // The applications and principals are still there.
    assert!(!inventory.applications.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_group_collects_descendants_and_assignments_at_scope() {
    let replay = Replay::start().await;
    let inventory = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            Target::ManagementGroup("mg-platform".to_owned()),
        )
        .await
        .unwrap();
    let groups: Vec<_> = inventory
        .management_groups
        .iter()
        .map(|group| group.name.as_str())
        .collect();
    assert_eq!(groups, ["mg-ci", "mg-platform"]);
    let root = &inventory.management_groups[1];
    assert_eq!(root.tenant_id.as_deref(), Some(TENANT));
    assert_eq!(
        root.parent_id.as_deref(),
        Some(format!("/providers/Microsoft.Management/managementGroups/{TENANT}").as_str())
    );
    let a = inventory
        .subscriptions
        .iter()
        .find(|sub| sub.subscription_id == SUB_A)
        .unwrap();
    assert_eq!(
        a.management_group_id.as_deref(),
        Some("/providers/Microsoft.Management/managementGroups/mg-ci")
    );
    assert_eq!(a.state.as_deref(), Some("Enabled"));
    // The mg-platform assignment is listed at mg-platform, mg-ci (inherited) and subscription
    // A (inherited): kept once.
    let platform_reader = inventory
        .role_assignments
        .iter()
        .filter(|assignment| assignment.name == "0c5b0a8e-1f2d-4e3c-8b4a-5d6e7f8091a2")
        .count();
    assert_eq!(platform_reader, 1);
    assert!(
        inventory
            .role_assignments
            .iter()
            .any(|assignment| assignment.name == "1d6c1b9f-2031-4f4d-9c5b-6e7f8091a2b3")
    );
    // Subscription B still answers 403.
    assert!(
        inventory
            .errors
            .iter()
            .any(|issue| issue.code.as_deref() == Some("AuthorizationFailed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_actions_oidc_token_is_the_client_assertion() {
    let replay = Replay::start().await;
    let vars = BTreeMap::from([
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/_apis/oidc/token?api-version=2.0", replay.base),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "replay-request-token".to_owned(),
        ),
    ]);
    let inventory = replay
        .collect(
            CredentialKind::GithubActions,
            vars,
            Target::Subscriptions(vec![SUB_A.to_owned()]),
        )
        .await
        .unwrap();
    assert_eq!(inventory.subscriptions.len(), 1);
    let requests = replay.server.received_requests().await.unwrap();
    let token_requests: Vec<String> = requests
        .iter()
        .filter(|request| request.url.path().ends_with("/oauth2/v2.0/token"))
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect();
    assert!(!token_requests.is_empty());
    for body in &token_requests {
        assert!(
            body.contains("client_assertion=eyJhbGciOiJSUzI1NiJ9.replay-github-oidc.sig"),
            "{body}"
        );
        assert!(
            body.contains(
                "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
            ),
            "{body}"
        );
        assert!(!body.contains("client_secret"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_secret_stops_the_run_with_the_credential_named() {
    let replay = Replay::start().await;
    // A higher-priority route refusing every token request.
    let body = std::fs::read_to_string(fixtures().join("entra/token-invalid-client.json")).unwrap();
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("content-type", "application/json; charset=utf-8")
                .set_body_bytes(body),
        )
        .with_priority(1)
        .mount(&replay.server)
        .await;
    let error = replay
        .collect(
            CredentialKind::ClientSecret,
            secret_env(),
            both_subscriptions(),
        )
        .await
        .unwrap_err();
    let CollectError::Credential(message) = error else {
        panic!("not a credential error: {error:?}");
    };
    assert!(message.contains("client-secret"), "{message}");
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(message.contains("az login"), "what to do: {message}");
}

#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_writes_a_snapshot_with_the_403s_in_the_manifest() {
    let replay = Replay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &replay.ca_pem).unwrap();
    let out = dir.path().join("snapshot");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pipeleash"));
    command
        .args(["collect", "azure", "--subscription", SUB_A, SUB_B])
        .args(["--credential", "client-secret"])
        .args([
            "--arm-endpoint",
            &replay.base,
            "--graph-endpoint",
            &replay.base,
        ])
        .args(["--authority-host", &replay.base])
        .arg("--ca-cert")
        .arg(&ca)
        .args(["--max-retry-wait", "0", "--format", "json"])
        .arg("--out")
        .arg(&out)
        .env_clear()
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", "replay-client-secret");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("collecting subscription"),
        "progress: {stderr}"
    );
    // Pinned byte for byte: the summary is a frozen JSON output (`output::json::v1::collect`).
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            r#"{{
  "snapshot": {},
  "tenant_id": "{TENANT}",
  "management_groups": 0,
  "subscriptions": 2,
  "role_assignments": 4,
  "custom_role_definitions": 1,
  "deny_assignments": 1,
  "user_assigned_identities": 1,
  "service_principals": 3,
  "applications": 3,
  "errors": 5
}}
"#,
            serde_json::to_string(&out.display().to_string()).unwrap()
        )
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["role_assignments"], 4);
    assert_eq!(summary["errors"], 5);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"][0]["provider"], "azure");
    assert_eq!(manifest["sources"][0]["kind"], "azure-inventory");
    assert_eq!(manifest["sources"][0]["id"], TENANT);
    let errors = manifest["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().any(|issue| {
        issue["target"]
            == format!("Microsoft.Authorization/roleAssignments/read /subscriptions/{SUB_B}")
            && issue["reason"]
                .as_str()
                .unwrap()
                .contains("AuthorizationFailed")
    }));
    let inventory: AzureInventory = serde_json::from_str(
        &std::fs::read_to_string(out.join(format!("inventory/azure-{TENANT}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(inventory.format_version, 1);
    assert_eq!(inventory.errors.len(), 5);
}

#[cfg(feature = "aws")]
#[test]
fn cli_without_credential_settings_says_what_to_set() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pipeleash"))
        .args(["collect", "azure", "--subscription", SUB_A])
        .args([
            "--credential",
            "client-secret",
            "--out",
            "/nonexistent/never",
        ])
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("AZURE_CLIENT_SECRET"), "{stderr}");
}

/// The Activity Log through the REST API: `nextLink` followed (with the `$skipToken` the page
/// gives), a 429 retried, a 403 on one subscription recorded while the other is read, and the
/// events read by the Activity Log reader as `az monitor activity-log list` output is.
#[tokio::test]
async fn activity_log_rest_pages_are_read_with_a_403_recorded() {
    use pipeleash::azure::activity_log::Ingestion;
    use pipeleash::model::TimeWindow;

    let replay = Replay::start().await;
    let transport = collect::http_transport(Some(replay.ca_pem.as_bytes())).unwrap();
    let vars = secret_env();
    let env = move |name: &str| vars.get(name).cloned();
    let settings = CredentialSettings {
        env: &env,
        tenant_id: None,
        authority_host: Some(replay.base.clone()),
        transport: Some(transport.clone()),
    };
    let credential = Arc::new(settings.single(CredentialKind::ClientSecret).unwrap());
    let options = replay.options(both_subscriptions());
    let collector = Collector::new(credential, Some(transport), &options);
    let at = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let (since, until) = (at("2026-10-30T00:00:00Z"), at("2026-11-29T00:00:00Z"));
    let (events, issues) = collector
        .activity_log(&[SUB_A.to_owned(), SUB_B.to_owned()], since, until, &|_| {})
        .await
        .unwrap();
    assert_eq!(events.len(), 4, "both pages of subscription A");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].status, Some(403));
    assert_eq!(issues[0].code.as_deref(), Some("AuthorizationFailed"));
    assert_eq!(issues[0].target, format!("/subscriptions/{SUB_B}"));
    // The 429 was answered once and retried; page 2 was asked for once.
    let path =
        format!("/subscriptions/{SUB_A}/providers/Microsoft.Insights/eventtypes/management/values");
    assert_eq!(replay.hits(&path).await, 3);

    let mut ingestion = Ingestion::new(TimeWindow {
        since: Some(since),
        until: Some(until),
    });
    ingestion.add_bytes("rest", &serde_json::to_vec(&events).unwrap());
    let usage = ingestion.finish();
    assert_eq!(usage.coverage.records_read, 4);
    // Start + Success of the write count once; the refused restart is denied, not used.
    let counts: Vec<(String, u64, u64)> = usage
        .usage
        .iter()
        .map(|(key, record)| {
            (
                key.permission.to_string().to_lowercase(),
                record.count,
                record.denied_count,
            )
        })
        .collect();
    assert!(
        counts
            .iter()
            .any(|(action, used, _)| action.ends_with("microsoft.web/sites/write") && *used == 1),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|(action, used, denied)| action
            .ends_with("microsoft.web/sites/restart/action")
            && *used == 0
            && *denied == 1),
        "{counts:?}"
    );
}

#[tokio::test]
async fn cli_stores_the_activity_log_read_through_the_rest_api() {
    let replay = Replay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &replay.ca_pem).unwrap();
    let out = dir.path().join("snapshot");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pipeleash"));
    command
        .args(["collect", "azure", "--subscription", SUB_A, SUB_B])
        .args(["--credential", "client-secret", "--activity-log-days", "30"])
        .args([
            "--arm-endpoint",
            &replay.base,
            "--graph-endpoint",
            &replay.base,
        ])
        .args(["--authority-host", &replay.base])
        .arg("--ca-cert")
        .arg(&ca)
        .args(["--max-retry-wait", "0", "--format", "json"])
        .arg("--out")
        .arg(&out)
        .env_clear()
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", "replay-client-secret");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("4 Activity Log event(s) stored"),
        "{stderr}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let source = manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|source| source["kind"] == "azure-activity-log-events")
        .expect("the events are listed");
    let events: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(out.join(source["path"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    assert_eq!(events.len(), 4);
    // The 403 on subscription B's Activity Log is in the manifest with the others.
    assert!(manifest["errors"].as_array().unwrap().iter().any(|issue| {
        issue["target"]
            == format!("Microsoft.Insights/eventtypes/values/read /subscriptions/{SUB_B}")
    }));
}
