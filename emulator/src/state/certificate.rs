//! An ACM certificate as stored: the imported PEM text plus the facts parsed from it once at
//! import (the ACM layer parses and validates; EC2 reads the facts).

use std::collections::BTreeMap;
use std::time::SystemTime;

/// One imported certificate (`Type` `IMPORTED`).
#[derive(Debug, Clone)]
pub struct Certificate {
    pub arn: String,
    /// The leaf, re-encoded as one PEM block (64-character lines).
    pub certificate_pem: String,
    /// The chain as imported (issuer first), re-encoded; `None` without `CertificateChain`.
    pub chain_pem: Option<String>,
    /// DER of each chain certificate, issuer first (to verify client certificates against).
    pub chain_der: Vec<Vec<u8>>,
    /// DER of the leaf.
    pub certificate_der: Vec<u8>,
    pub details: CertificateDetails,
    /// Tag values are optional in ACM (`None` = key only).
    pub tags: BTreeMap<String, Option<String>>,
    /// Time of the last (re-)import.
    pub imported_at: SystemTime,
    /// Import order of the ARN (listing order).
    pub seq: u64,
}

/// What DescribeCertificate and ListCertificates report, parsed from the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateDetails {
    /// RFC 4514-style DN, e.g. `C=US,O=Example,CN=vpn.example.com`.
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    /// Colon-separated lower-case hex bytes.
    pub serial: String,
    /// Epoch seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// `None` when the certificate names no domain (Client VPN then refuses it).
    pub domain_name: Option<String>,
    pub subject_alternative_names: Vec<String>,
    /// Output form with a hyphen: `RSA-2048`, `EC-prime256v1`.
    pub key_algorithm: String,
    /// Input/enum form with an underscore: `RSA_2048`, `EC_prime256v1`.
    pub key_type: String,
    /// e.g. `SHA256WITHRSA`.
    pub signature_algorithm: String,
    /// ACM names (`DIGITAL_SIGNATURE`, …); `None` without the extension.
    pub key_usages: Option<Vec<String>>,
    /// `None` without the extension.
    pub extended_key_usages: Option<Vec<ExtendedKeyUsage>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedKeyUsage {
    /// ACM name, e.g. `TLS_WEB_SERVER_AUTHENTICATION` (`CUSTOM` for unknown OIDs).
    pub name: String,
    pub oid: String,
}

impl CertificateDetails {
    /// `ISSUED`, or `EXPIRED` once `NotAfter` has passed.
    pub fn status(&self, now: SystemTime) -> &'static str {
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if secs > self.not_after {
            "EXPIRED"
        } else {
            "ISSUED"
        }
    }
}
