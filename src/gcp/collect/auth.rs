//! Credentials for the collector, with google-cloud-auth: a credentials file given on the
//! command line, or Application Default Credentials
//! (<https://cloud.google.com/docs/authentication/application-default-credentials>):
//! `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's well-known file, then the metadata server.
//! A file may hold a service-account key, an external account (Workload Identity Federation,
//! e.g. from a GitHub Actions OIDC token), an authorized user or an impersonated service
//! account.

use google_cloud_auth::credentials::{
    Builder, Credentials, external_account, impersonated, service_account, user_account,
};
use std::path::{Path, PathBuf};

/// Credentials and where they came from (for the inventory and for error messages).
#[derive(Debug, Clone)]
pub struct LoadedCredentials {
    pub credentials: Credentials,
    /// `GOOGLE_APPLICATION_CREDENTIALS (`external_account`)`, `the metadata server`, …
    pub source: String,
}

/// Loads the credentials from `file` when given, otherwise by Application Default Credentials.
///
/// Errors: the file cannot be read, is not JSON, or has an unknown `type`.
pub fn load(file: Option<&Path>) -> Result<LoadedCredentials, String> {
    match file {
        Some(path) => load_file(path),
        None => load_adc(),
    }
}

fn load_file(path: &Path) -> Result<LoadedCredentials, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read credentials file `{}`: {error}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| format!("credentials file `{}` is not JSON: {error}", path.display()))?;
    let kind = json
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let built = match kind.as_str() {
        "service_account" => service_account::Builder::new(json).build(),
        "external_account" => external_account::Builder::new(json).build(),
        "authorized_user" => user_account::Builder::new(json).build(),
        "impersonated_service_account" => impersonated::Builder::new(json).build(),
        _ => {
            return Err(format!(
                "credentials file `{}` has `type` `{kind}`; expected `service_account`, \
                 `external_account`, `authorized_user` or `impersonated_service_account`",
                path.display()
            ));
        }
    };
    let credentials = built.map_err(|error| {
        format!(
            "cannot use credentials file `{}` (`{kind}`): {error}",
            path.display()
        )
    })?;
    Ok(LoadedCredentials {
        credentials,
        source: format!("--credentials `{}` (`{kind}`)", path.display()),
    })
}

fn load_adc() -> Result<LoadedCredentials, String> {
    let source = adc_source();
    let credentials = Builder::default()
        .build()
        .map_err(|error| format!("{}: {error}", no_credentials_message(&source)))?;
    Ok(LoadedCredentials {
        credentials,
        source: source.describe(),
    })
}

/// Which Application Default Credentials source applies, in the order ADC tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdcSource {
    /// `GOOGLE_APPLICATION_CREDENTIALS` names this file.
    EnvironmentFile(PathBuf),
    /// gcloud's `application_default_credentials.json` exists here.
    GcloudFile(PathBuf),
    /// Neither: the metadata server (Compute Engine, GKE, Cloud Run, Cloud Build).
    MetadataServer,
}

impl AdcSource {
    fn describe(&self) -> String {
        match self {
            AdcSource::EnvironmentFile(path) => {
                format!("GOOGLE_APPLICATION_CREDENTIALS `{}`", path.display())
            }
            AdcSource::GcloudFile(path) => format!("gcloud's ADC file `{}`", path.display()),
            AdcSource::MetadataServer => "the metadata server".to_owned(),
        }
    }
}

/// The ADC source the auth library will use, found the same way it looks.
pub fn adc_source() -> AdcSource {
    if let Some(path) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return AdcSource::EnvironmentFile(PathBuf::from(path));
    }
    if let Some(path) = gcloud_adc_path().filter(|path| path.is_file()) {
        return AdcSource::GcloudFile(path);
    }
    AdcSource::MetadataServer
}

fn gcloud_adc_path() -> Option<PathBuf> {
    if cfg!(windows) {
        std::env::var_os("APPDATA")
            .map(|root| PathBuf::from(root).join("gcloud/application_default_credentials.json"))
    } else {
        std::env::var_os("HOME").map(|root| {
            PathBuf::from(root).join(".config/gcloud/application_default_credentials.json")
        })
    }
}

/// What was tried and what to do, for a failure to obtain a token from `source`.
pub fn no_credentials_message(source: &AdcSource) -> String {
    let tried = match source {
        AdcSource::EnvironmentFile(path) => format!(
            "the file `{}` named by `GOOGLE_APPLICATION_CREDENTIALS`",
            path.display()
        ),
        AdcSource::GcloudFile(path) => format!(
            "`GOOGLE_APPLICATION_CREDENTIALS` (unset), then gcloud's ADC file `{}`",
            path.display()
        ),
        AdcSource::MetadataServer => format!(
            "`GOOGLE_APPLICATION_CREDENTIALS` (unset), gcloud's ADC file ({}), then the \
             metadata server (not reachable: not on Google Cloud)",
            gcloud_adc_path()
                .map(|path| format!("`{}` absent", path.display()))
                .unwrap_or_else(|| "no home directory".to_owned())
        ),
    };
    format!(
        "no usable GCP credentials: tried {tried}; run `gcloud auth application-default \
         login`, or set `GOOGLE_APPLICATION_CREDENTIALS` to a service-account key or \
         external-account (Workload Identity Federation) file, or pass `--credentials FILE`"
    )
}
