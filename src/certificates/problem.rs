//! Why a certificate Secret cannot be imported or used: messages a user can act on, each naming
//! the Secret key it is about.

use super::KeyKind;

/// A certificate Secret that ACM or Client VPN would refuse, found before any AWS call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    #[error("{key} is not valid PEM: {reason}")]
    UnparsablePem { key: &'static str, reason: String },
    #[error("tls.crt holds no CERTIFICATE block; it must start with the PEM certificate")]
    NoCertificate,
    #[error("certificate {index} in {key} (counting from 0) is not valid X.509: {reason}")]
    UnparsableCertificate {
        key: &'static str,
        index: usize,
        reason: String,
    },
    #[error(
        "tls.key holds no private key block (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)"
    )]
    NoPrivateKey,
    #[error(
        "tls.key is encrypted; ACM takes only unencrypted keys: store it without a passphrase \
         (PKCS#1 RSA PRIVATE KEY or PKCS#8 PRIVATE KEY)"
    )]
    EncryptedKey,
    #[error("tls.key ({label}) cannot be read: {reason}")]
    UnreadableKey { label: String, reason: String },
    #[error(
        "tls.key does not belong to the certificate in tls.crt (their public keys differ): the \
         Secret mixes two key pairs; re-issue the certificate"
    )]
    KeyMismatch,
    #[error(
        "the certificate in tls.crt has a {key} key; Client VPN takes RSA 1024 or 2048 only \
         (ACM would import it, but the endpoint would refuse it): issue it with RSA 2048 \
         (cert-manager: spec.privateKey.algorithm RSA, size 2048)"
    )]
    UnsupportedKey { key: KeyKind },
    #[error("the certificate in tls.crt expired at {not_after} (notAfter); renew it")]
    Expired { not_after: String },
    #[error(
        "the certificate in tls.crt is not valid before {not_before} (notBefore) and ACM refuses \
         it until then: wait, or check the issuer's clock"
    )]
    NotYetValid { not_before: String },
    #[error(
        "the server certificate in tls.crt ({subject}) has no DNS name, so AWS refuses the \
         endpoint with \"does not have a domain\": add a DNS subjectAltName (cert-manager: \
         spec.dnsNames) or use a common name containing a dot"
    )]
    NoDomain { subject: String },
    #[error(
        "the server certificate in tls.crt ({subject}) lacks the serverAuth extended key usage, \
         which OpenVPN clients demand (remote-cert-tls server in the .ovpn): add it \
         (cert-manager: `server auth` in spec.usages)"
    )]
    NoServerAuth { subject: String },
    #[error(
        "the certificate in tls.crt ({subject}) has no common name (CN); Client VPN needs one: \
         set it (cert-manager: spec.commonName)"
    )]
    MissingCommonName { subject: String },
    #[error(
        "the chain (tls.crt after its first certificate, then ca.crt) does not sign the \
         certificate: chain certificate {index} ({subject}) did not sign the certificate before \
         it; ACM wants the immediate issuer first, then each intermediate in order"
    )]
    ChainDoesNotSign { index: usize, subject: String },
    #[error(
        "the client certificate in tls.crt ({subject}) lacks the clientAuth extended key usage, \
         so the VPN refuses it: add it (cert-manager: `client auth` in spec.usages)"
    )]
    NoClientAuth { subject: String },
    #[error(
        "the client certificate in tls.crt ({subject}) is not signed by the endpoint's client CA \
         ({ca}): issue it from that CA"
    )]
    NotSignedByClientCa { subject: String, ca: String },
}

impl CertificateProblem {
    /// The variant name: a bounded label for metrics and the event reason.
    pub fn category(&self) -> &'static str {
        match self {
            Self::UnparsablePem { .. } => "UnparsablePem",
            Self::NoCertificate => "NoCertificate",
            Self::UnparsableCertificate { .. } => "UnparsableCertificate",
            Self::NoPrivateKey => "NoPrivateKey",
            Self::EncryptedKey => "EncryptedKey",
            Self::UnreadableKey { .. } => "UnreadableKey",
            Self::KeyMismatch => "KeyMismatch",
            Self::UnsupportedKey { .. } => "UnsupportedKey",
            Self::Expired { .. } => "Expired",
            Self::NotYetValid { .. } => "NotYetValid",
            Self::NoDomain { .. } => "NoDomain",
            Self::NoServerAuth { .. } => "NoServerAuth",
            Self::MissingCommonName { .. } => "MissingCommonName",
            Self::ChainDoesNotSign { .. } => "ChainDoesNotSign",
            Self::NoClientAuth { .. } => "NoClientAuth",
            Self::NotSignedByClientCa { .. } => "NotSignedByClientCa",
        }
    }
}
