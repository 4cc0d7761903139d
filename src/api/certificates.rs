//! Certificates named by a Secret or made by the operator, instead of an ACM ARN: the spec
//! side (`serverCertificate`, `mutualAuthentication.clientRootCertificateChainSecretRef`) and
//! what status records about each certificate.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A certificate the operator imports into ACM itself: from a Secret, or issued by a CA the
/// operator manages. Exactly one of `secretRef` and `managed`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("has(self.secretRef) != has(self.managed)")
    .message("serverCertificate: set exactly one of secretRef (a kubernetes.io/tls Secret, e.g. from cert-manager) and managed (the operator runs a CA)"))]
#[serde(rename_all = "camelCase")]
pub struct CertificateSource {
    /// A `kubernetes.io/tls` Secret in this namespace: `tls.crt` (leaf first, then
    /// intermediates), `tls.key`, optional `ca.crt`. This is what cert-manager writes. The key
    /// must be RSA 1024 or 2048 (Client VPN's rule) and the certificate needs a DNS name.
    /// Renewals are re-imported into the same ACM certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretReference>,

    /// The operator creates a CA and a server certificate signed by it (RSA 2048), keeps both in
    /// Secrets owned by this object (`<name>-ca`, `<name>-server`) and renews the server
    /// certificate before it expires. Client certificates signed by the same CA are accepted
    /// (the server certificate is the client root chain unless one is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedCertificate>,
}

/// A Secret in the object's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A server certificate issued by the operator's CA.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("(has(self.validityDays) ? self.validityDays : 365) > (has(self.renewBeforeDays) ? self.renewBeforeDays : 30)")
    .message("managed: renewBeforeDays must be less than validityDays (defaults 30 and 365)"))]
#[serde(rename_all = "camelCase")]
pub struct ManagedCertificate {
    /// Common name and DNS name of the server certificate (ACM needs a domain for Client VPN).
    /// Default: `<name>.<namespace>.clientvpn.internal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 3, max = 64),
        regex(pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub common_name: Option<String>,

    /// Lifetime of each server certificate in days. Default 365.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 3650))]
    pub validity_days: Option<u32>,

    /// Renew (issue a new server certificate and re-import it into the same ACM certificate)
    /// this many days before expiry. Default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3649))]
    pub renew_before_days: Option<u32>,
}

impl ManagedCertificate {
    /// Default lifetime of a managed server certificate.
    pub const DEFAULT_VALIDITY_DAYS: u32 = 365;
    /// Default renewal window.
    pub const DEFAULT_RENEW_BEFORE_DAYS: u32 = 30;
    /// Lifetime of the managed CA.
    pub const CA_VALIDITY_DAYS: u32 = 3650;

    pub fn validity_days(&self) -> u32 {
        self.validity_days.unwrap_or(Self::DEFAULT_VALIDITY_DAYS)
    }

    pub fn renew_before_days(&self) -> u32 {
        self.renew_before_days
            .unwrap_or(Self::DEFAULT_RENEW_BEFORE_DAYS)
    }
}

/// Which certificate of the endpoint.
#[derive(
    JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum CertificateRole {
    /// `ServerCertificateArn`.
    Server,
    /// `ClientRootCertificateChainArn` of mutual authentication.
    ClientRoot,
}

/// Where a certificate came from.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum CertificateOrigin {
    /// An ACM ARN in the spec; the operator neither imports nor deletes it.
    Arn,
    /// A `kubernetes.io/tls` Secret, imported by the operator.
    Secret,
    /// Issued by the operator's CA, imported by the operator.
    Managed,
    /// The server certificate, also used as the client root chain (same CA).
    SameAsServer,
}

/// One certificate the endpoint uses. No key material, ever.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertificateStatus {
    /// `server` or `clientRoot`.
    pub role: CertificateRole,
    /// `arn`, `secret`, `managed` or `sameAsServer`.
    pub source: CertificateOrigin,
    /// The ACM certificate ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The Secret holding the certificate (`secret` and `managed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Subject DN, e.g. `CN=vpn.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Serial number as ACM shows it (colon-separated hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// Expiry, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Key algorithm, e.g. `RSA-2048`; a re-import must keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
}
