//! What the operator needs to know about a certificate, read from its DER once.

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::oid_registry::Oid;
use x509_parser::public_key::PublicKey;
use x509_parser::utils::format_serial;

use super::usage;

/// The facts of one certificate, in the forms ACM shows them (`DescribeCertificate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// Subject DN, e.g. `CN=vpn.example.com`.
    pub subject: String,
    /// The subject's first common name, if any.
    pub common_name: Option<String>,
    /// DNS names from subjectAltName.
    pub dns_names: Vec<String>,
    /// Serial as colon-separated lower-case hex bytes, e.g. `07:71:f4` (ACM's `Serial`).
    pub serial: String,
    /// notBefore, unix seconds.
    pub not_before: i64,
    /// notAfter, unix seconds.
    pub not_after: i64,
    /// The public key's algorithm and size.
    pub key: KeyKind,
    /// Key usages in ACM's names (`DIGITAL_SIGNATURE`, …); None without a keyUsage extension.
    pub key_usages: Option<Vec<String>>,
    /// Extended key usages in ACM's names (`TLS_WEB_SERVER_AUTHENTICATION`, …; others as OIDs);
    /// None without an extendedKeyUsage extension.
    pub extended_key_usages: Option<Vec<String>>,
    /// SHA-256 of the certificate DER, lower-case hex without separators.
    pub sha256_fingerprint: String,
}

/// A public key's algorithm and size; `Display` gives ACM's `KeyAlgorithm` (`RSA-2048`,
/// `EC-prime256v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa {
        bits: usize,
    },
    Ec {
        curve: String,
    },
    /// Anything else, named by its algorithm (e.g. `ed25519`).
    Other(String),
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::Ec { curve } => write!(f, "EC-{curve}"),
            KeyKind::Other(name) => f.write_str(name),
        }
    }
}

impl CertificateFacts {
    /// Reads the facts of a parsed certificate; `der` is its encoding (for the fingerprint).
    pub(crate) fn of(cert: &X509Certificate<'_>, der: &[u8]) -> Result<Self, String> {
        let subject = cert.subject();
        let common_name = subject
            .iter_common_name()
            .next()
            .map(|cn| cn.as_str().map(str::to_string))
            .transpose()
            .map_err(|e| format!("its common name is not a string: {e}"))?;
        let dns_names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(dns.to_string()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(format!("its subjectAltName is invalid: {e}")),
        };
        let validity = cert.validity();
        Ok(CertificateFacts {
            subject: subject.to_string(),
            common_name,
            dns_names,
            serial: format_serial(&cert.serial.to_bytes_be()),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            key: key_kind(cert),
            key_usages: usage::key_usages(cert)?,
            extended_key_usages: usage::extended_key_usages(cert)?,
            sha256_fingerprint: hex(digest(&SHA256, der).as_ref()),
        })
    }

    /// True when ACM sees a domain: a DNS SAN, or a common name containing a dot.
    pub fn has_domain(&self) -> bool {
        !self.dns_names.is_empty() || self.common_name.as_ref().is_some_and(|cn| cn.contains('.'))
    }
}

fn key_kind(cert: &X509Certificate<'_>) -> KeyKind {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyKind::Rsa {
            bits: rsa.key_size(),
        },
        Ok(PublicKey::EC(_)) => KeyKind::Ec {
            curve: spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map_or_else(|| "unknown-curve".to_string(), |oid| oid_name(&oid)),
        },
        _ => KeyKind::Other(oid_name(&spki.algorithm.algorithm)),
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    oid2sn(oid, oid_registry()).map_or_else(|_| oid.to_id_string(), str::to_string)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unix seconds as RFC 3339 (`2026-03-01T00:00:00Z`), for messages.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{unix} (unix seconds)"))
}
