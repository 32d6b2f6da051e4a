//! Local servers for the collector tests: moto for the AWS APIs it implements, and a replay
//! server for recorded responses of the ones it does not (or to script failures).

#![allow(dead_code)]

pub mod moto;
pub mod replay;

/// Dummy credentials in the shape AWS documents for examples; never real.
pub const TEST_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const TEST_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// An SDK configuration with the dummy credentials, pointed at `endpoint`.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_sts::config::Credentials::new(
        TEST_ACCESS_KEY_ID,
        TEST_SECRET_ACCESS_KEY,
        None,
        None,
        "pipeleash-tests",
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(pipeleash::aws::collect::https_client())
        .credentials_provider(credentials)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// Environment for running the `pipeleash` binary against `endpoint` with nothing read from
/// the developer's own AWS set-up.
pub fn binary_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        (
            "AWS_CONFIG_FILE",
            "/nonexistent/pipeleash-test-config".to_owned(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/pipeleash-test-credentials".to_owned(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_MAX_ATTEMPTS", "2".to_owned()),
    ]
}

/// A port nobody listens on right now, found by letting the OS pick one.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}
