//! Issuing from an operator-managed CA: RSA-2048 keys, SHA-256 signatures, random serials.

use std::fmt;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, SanType, SerialNumber,
};
use time::OffsetDateTime;

use super::CertificateMaterial;

/// A certificate and its new key, as PEM (`tls.crt` / `tls.key`). `Debug` redacts the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Issued {
    pub certificate_pem: String,
    /// PKCS#8 (`PRIVATE KEY`).
    pub private_key_pem: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// A CA that can sign: its certificate and private key as PEM.
pub trait CaSource {
    fn ca_certificate_pem(&self) -> &str;
    fn ca_private_key_pem(&self) -> &str;
}

impl CaSource for Issued {
    fn ca_certificate_pem(&self) -> &str {
        &self.certificate_pem
    }
    fn ca_private_key_pem(&self) -> &str {
        &self.private_key_pem
    }
}

impl CaSource for CertificateMaterial {
    fn ca_certificate_pem(&self) -> &str {
        &self.certificate_pem
    }
    fn ca_private_key_pem(&self) -> &str {
        &self.private_key_pem
    }
}

/// notBefore and notAfter, unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// Valid from `now_unix` for `lifetime_secs`.
    pub fn starting_at(now_unix: i64, lifetime_secs: i64) -> Self {
        Validity {
            not_before: now_unix,
            not_after: now_unix.saturating_add(lifetime_secs),
        }
    }
}

/// Issuing failed; the message names the step.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("generating an RSA-2048 key failed")]
    GenerateKey(#[source] rcgen::Error),
    #[error("the CA certificate or key cannot be used for signing")]
    LoadCa(#[source] rcgen::Error),
    #[error("{0:?} is not a valid DNS name")]
    DnsName(String),
    #[error("{0} is not a representable time (unix seconds)")]
    Time(i64),
    #[error("serial {0:?} is not colon-separated hex")]
    Serial(String),
    #[error("the system random generator failed")]
    Random,
    #[error("signing failed")]
    Sign(#[source] rcgen::Error),
}

impl IssueError {
    /// The variant name, for metrics and events.
    pub fn category(&self) -> &'static str {
        match self {
            Self::GenerateKey(_) => "GenerateKey",
            Self::LoadCa(_) => "LoadCa",
            Self::DnsName(_) => "DnsName",
            Self::Time(_) => "Time",
            Self::Serial(_) => "Serial",
            Self::Random => "Random",
            Self::Sign(_) => "Sign",
        }
    }
}

/// A self-signed CA (keyCertSign, cRLSign) for server, client and CRL signing.
pub fn issue_ca(common_name: &str, validity: Validity) -> Result<Issued, IssueError> {
    let mut params = base_params(common_name, validity)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = new_key()?;
    let cert = params.self_signed(&key).map_err(IssueError::Sign)?;
    Ok(issued(cert.pem(), &key))
}

/// A server certificate (serverAuth; digitalSignature, keyEncipherment) with `dns_names` as
/// DNS SANs, or the common name when `dns_names` is empty, so ACM always sees a domain.
pub fn issue_server(
    ca: &impl CaSource,
    common_name: &str,
    dns_names: &[String],
    validity: Validity,
) -> Result<Issued, IssueError> {
    let mut params = base_params(common_name, validity)?;
    let names = if dns_names.is_empty() {
        vec![common_name.to_string()]
    } else {
        dns_names.to_vec()
    };
    params.subject_alt_names = names
        .into_iter()
        .map(|name| {
            name.as_str()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|_| IssueError::DnsName(name))
        })
        .collect::<Result<_, _>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sign_leaf(&load_issuer(ca)?, params)
}

/// A CA parsed once, ready to sign many client certificates (parsing and checking its key for
/// each one would cost a good part of a signature).
pub struct Signer(Issuer<'static, KeyPair>);

impl Signer {
    pub fn load(ca: &impl CaSource) -> Result<Self, IssueError> {
        load_issuer(ca).map(Self)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

/// A client certificate (clientAuth; digitalSignature): the CN is the user's identity.
pub fn issue_client(
    ca: &Signer,
    common_name: &str,
    validity: Validity,
) -> Result<Issued, IssueError> {
    let mut params = base_params(common_name, validity)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    sign_leaf(&ca.0, params)
}

fn base_params(common_name: &str, validity: Validity) -> Result<CertificateParams, IssueError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.not_before = datetime(validity.not_before)?;
    params.not_after = datetime(validity.not_after)?;
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

fn sign_leaf(
    issuer: &Issuer<'static, KeyPair>,
    mut params: CertificateParams,
) -> Result<Issued, IssueError> {
    params.use_authority_key_identifier_extension = true;
    let key = new_key()?;
    let cert = params.signed_by(&key, issuer).map_err(IssueError::Sign)?;
    Ok(issued(cert.pem(), &key))
}

/// The CA as an rcgen issuer (its name, key identifier and key usages come from its certificate).
pub(crate) fn load_issuer(ca: &impl CaSource) -> Result<Issuer<'static, KeyPair>, IssueError> {
    let key = KeyPair::from_pem(ca.ca_private_key_pem()).map_err(IssueError::LoadCa)?;
    Issuer::from_ca_cert_pem(ca.ca_certificate_pem(), key).map_err(IssueError::LoadCa)
}

/// RSA 2048: rcgen generates RSA with the aws-lc-rs backend (`generate_for` an RSA algorithm).
fn new_key() -> Result<KeyPair, IssueError> {
    KeyPair::generate_for(&PKCS_RSA_SHA256).map_err(IssueError::GenerateKey)
}

fn issued(certificate_pem: String, key: &KeyPair) -> Issued {
    Issued {
        certificate_pem,
        private_key_pem: key.serialize_pem(),
    }
}

/// 127 random bits: 16 bytes, top bit clear (positive), next bit set (always 16 bytes long).
fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| IssueError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

pub(crate) fn datetime(unix: i64) -> Result<OffsetDateTime, IssueError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| IssueError::Time(unix))
}
