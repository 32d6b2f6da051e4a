//! Identities: the pipeline-usable principals pipeleash analyses, and their provider-qualified
//! ids.

use super::Provider;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A provider-qualified identity id: `aws:<role or user arn>`, `gcp:<service account email>`,
/// `azure:<object id>`.
///
/// The provider prefix is part of the id so that ids from different clouds never collide and
/// sort by provider first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdentityId(String);

/// A malformed identity id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityIdError {
    #[error("identity id `{0}` must start with `aws:`, `gcp:` or `azure:`")]
    MissingProvider(String),
    #[error("identity id `{0}` has nothing after its provider prefix")]
    Empty(String),
}

impl IdentityId {
    /// The id of `native` (an ARN, an email, an object id) in `provider`.
    pub fn new(provider: Provider, native: &str) -> Self {
        IdentityId(format!("{provider}:{native}"))
    }

    /// The cloud this identity lives in.
    pub fn provider(&self) -> Provider {
        // The constructors only ever build ids with one of these prefixes.
        if self.0.starts_with("aws:") {
            Provider::Aws
        } else if self.0.starts_with("gcp:") {
            Provider::Gcp
        } else {
            Provider::Azure
        }
    }

    /// The provider's own id, without the prefix.
    pub fn native(&self) -> &str {
        self.0
            .split_once(':')
            .map(|(_, native)| native)
            .unwrap_or(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IdentityId {
    type Err = IdentityIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (prefix, native) = text
            .split_once(':')
            .ok_or_else(|| IdentityIdError::MissingProvider(text.to_string()))?;
        let provider = match prefix {
            "aws" => Provider::Aws,
            "gcp" => Provider::Gcp,
            "azure" => Provider::Azure,
            _ => return Err(IdentityIdError::MissingProvider(text.to_string())),
        };
        if native.is_empty() {
            return Err(IdentityIdError::Empty(text.to_string()));
        }
        Ok(IdentityId::new(provider, native))
    }
}

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of principal an identity is. Closed set: these are the principals a pipeline can
/// act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityKind {
    AwsRole,
    AwsUser,
    GcpServiceAccount,
    AzureServicePrincipal,
    AzureManagedIdentity,
}

impl IdentityKind {
    pub fn provider(self) -> Provider {
        match self {
            IdentityKind::AwsRole | IdentityKind::AwsUser => Provider::Aws,
            IdentityKind::GcpServiceAccount => Provider::Gcp,
            IdentityKind::AzureServicePrincipal | IdentityKind::AzureManagedIdentity => {
                Provider::Azure
            }
        }
    }
}

impl IdentityKind {
    /// The short kind word output puts before an identity's name: `role`, `user`,
    /// `service-account`, `service-principal`, `managed-identity`. The provider is left out:
    /// output names it where it matters (the identity id carries it).
    pub fn label(self) -> &'static str {
        match self {
            IdentityKind::AwsRole => "role",
            IdentityKind::AwsUser => "user",
            IdentityKind::GcpServiceAccount => "service-account",
            IdentityKind::AzureServicePrincipal => "service-principal",
            IdentityKind::AzureManagedIdentity => "managed-identity",
        }
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentityKind::AwsRole => "aws-role",
            IdentityKind::AwsUser => "aws-user",
            IdentityKind::GcpServiceAccount => "gcp-service-account",
            IdentityKind::AzureServicePrincipal => "azure-service-principal",
            IdentityKind::AzureManagedIdentity => "azure-managed-identity",
        })
    }
}

/// A principal a pipeline can act as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    pub id: IdentityId,
    pub kind: IdentityKind,
    /// A human name: the role name, the service account's display name, the app's name.
    pub display_name: String,
    /// Where the identity lives: AWS account id, GCP project (`projects/<id>`), Azure
    /// subscription (`/subscriptions/<id>`) or tenant for service principals.
    pub container: String,
    pub tags: BTreeMap<String, String>,
    /// Who answers for the identity in an access review, when known (a tag, a label, the app
    /// owner in Microsoft Graph).
    pub owner: Option<String>,
}

impl Identity {
    /// The provider, taken from the id so that it can never disagree with it.
    pub fn provider(&self) -> Provider {
        self.id.provider()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_labels_name_every_kind_in_one_word() {
        let kinds = [
            (IdentityKind::AwsRole, "role"),
            (IdentityKind::AwsUser, "user"),
            (IdentityKind::GcpServiceAccount, "service-account"),
            (IdentityKind::AzureServicePrincipal, "service-principal"),
            (IdentityKind::AzureManagedIdentity, "managed-identity"),
        ];
        for (kind, label) in kinds {
            assert_eq!(kind.label(), label, "{kind}");
        }
    }

    #[test]
    fn ids_round_trip_and_keep_their_provider() {
        for (text, provider, native) in [
            (
                "aws:arn:aws:iam::123456789012:role/ci-deploy",
                Provider::Aws,
                "arn:aws:iam::123456789012:role/ci-deploy",
            ),
            (
                "gcp:deployer@proj.iam.gserviceaccount.com",
                Provider::Gcp,
                "deployer@proj.iam.gserviceaccount.com",
            ),
            (
                "azure:8f0c5a8e-1111-2222-3333-444455556666",
                Provider::Azure,
                "8f0c5a8e-1111-2222-3333-444455556666",
            ),
        ] {
            let id: IdentityId = text.parse().unwrap();
            assert_eq!(id.provider(), provider);
            assert_eq!(id.native(), native);
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn ids_without_a_known_provider_are_rejected() {
        assert!(matches!(
            "oci:thing".parse::<IdentityId>(),
            Err(IdentityIdError::MissingProvider(_))
        ));
        assert!(matches!(
            "deployer".parse::<IdentityId>(),
            Err(IdentityIdError::MissingProvider(_))
        ));
        assert!(matches!(
            "gcp:".parse::<IdentityId>(),
            Err(IdentityIdError::Empty(_))
        ));
    }

    #[test]
    fn ids_sort_by_provider_first() {
        let mut ids = [
            IdentityId::new(Provider::Gcp, "a@p.iam.gserviceaccount.com"),
            IdentityId::new(Provider::Aws, "arn:aws:iam::1:role/z"),
            IdentityId::new(Provider::Azure, "0000"),
        ];
        ids.sort();
        assert_eq!(ids[0].provider(), Provider::Aws);
        assert_eq!(ids[1].provider(), Provider::Azure);
        assert_eq!(ids[2].provider(), Provider::Gcp);
    }
}
