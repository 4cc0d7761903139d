//! `ClientVpnEndpoint.spec.authenticationOptions`: how clients authenticate (AWS:
//! `AuthenticationOptions`). Fixed at creation.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{SecretReference, WireValue};

/// One way clients authenticate (AWS: `ClientVpnAuthenticationRequest`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.type != 'certificate-authentication' || has(self.mutualAuthentication)")
        .message("certificate-authentication needs mutualAuthentication"),
    validation = Rule::new("self.type != 'directory-service-authentication' || has(self.activeDirectory)")
        .message("directory-service-authentication needs activeDirectory"),
    validation = Rule::new("self.type != 'federated-authentication' || has(self.federatedAuthentication)")
        .message("federated-authentication needs federatedAuthentication")
)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationOption {
    /// Authentication type (AWS: `Type`): `certificate-authentication`,
    /// `directory-service-authentication` or `federated-authentication`.
    #[serde(rename = "type")]
    pub type_: AuthenticationType,

    /// Mutual TLS: required for `certificate-authentication` (AWS: `MutualAuthentication`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutual_authentication: Option<MutualAuthentication>,

    /// AWS Directory Service: required for `directory-service-authentication` (AWS: `ActiveDirectory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_directory: Option<ActiveDirectory>,

    /// SAML 2.0 identity provider: required for `federated-authentication` (AWS: `FederatedAuthentication`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_authentication: Option<FederatedAuthentication>,
}

impl AuthenticationOption {
    /// What the option points at, as AWS reports it back: the client root certificate chain
    /// ARN, the directory ID or the SAML provider ARN.
    pub fn reference(&self) -> Option<&str> {
        self.mutual_authentication
            .as_ref()
            .and_then(|m| m.client_root_certificate_chain_arn.as_deref())
            .or_else(|| {
                self.active_directory
                    .as_ref()
                    .map(|d| d.directory_id.as_str())
            })
            .or_else(|| {
                self.federated_authentication
                    .as_ref()
                    .map(|f| f.saml_provider_arn.as_str())
            })
    }
}

/// Client authentication types accepted by AWS.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AuthenticationType {
    CertificateAuthentication,
    DirectoryServiceAuthentication,
    FederatedAuthentication,
}

/// Mutual (certificate) authentication settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("!(has(self.clientRootCertificateChainArn) && has(self.clientRootCertificateChainSecretRef))")
    .message("mutualAuthentication: set at most one of clientRootCertificateChainArn and clientRootCertificateChainSecretRef"))]
#[serde(rename_all = "camelCase")]
pub struct MutualAuthentication {
    /// ACM ARN of the client root certificate chain (AWS: `ClientRootCertificateChainArn`).
    /// Needed only when client certificates are signed by a different CA than the server's.
    /// With neither this nor `clientRootCertificateChainSecretRef`, the server certificate
    /// (imported with its CA) is the client root: client certificates from the same CA work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$")
    )]
    pub client_root_certificate_chain_arn: Option<String>,

    /// A `kubernetes.io/tls` Secret holding the client CA (`tls.crt`, `tls.key`, optional
    /// `ca.crt`), imported into ACM by the operator as the client root certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_root_certificate_chain_secret_ref: Option<SecretReference>,
}

/// Active Directory authentication settings.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActiveDirectory {
    /// ID of the AWS Directory Service directory, e.g. `d-1234567890` (AWS: `DirectoryId`).
    #[schemars(regex(pattern = r"^d-[0-9a-f]{10}$"))]
    pub directory_id: String,
}

/// SAML federated authentication settings.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FederatedAuthentication {
    /// IAM SAML identity provider ARN (AWS: `SAMLProviderArn`).
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/.+$")
    )]
    pub saml_provider_arn: String,

    /// IAM SAML identity provider ARN for the self-service portal (AWS: `SelfServiceSAMLProviderArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/.+$")
    )]
    pub self_service_saml_provider_arn: Option<String>,
}

impl WireValue for AuthenticationType {
    fn wire(&self) -> &'static str {
        match self {
            Self::CertificateAuthentication => "certificate-authentication",
            Self::DirectoryServiceAuthentication => "directory-service-authentication",
            Self::FederatedAuthentication => "federated-authentication",
        }
    }
}
