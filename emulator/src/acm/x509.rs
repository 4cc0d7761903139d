//! Certificate material as ACM checks it on import: PEM decoding and X.509 parsing, private keys
//! and chains ([`crate::pki`]), ACM's key and validity rules, and the facts DescribeCertificate
//! reports.

use std::time::SystemTime;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::X509Version;
use x509_parser::x509::X509Name;

use super::error::AcmError;
use crate::pki::chain::certificate_blocks;
pub use crate::pki::chain::{parse_der, signs};
pub use crate::pki::epoch_seconds;
use crate::pki::keys::{self, PublicKey as Key};
use crate::state::{CertificateDetails, ExtendedKeyUsage};

const UNPARSABLE_CERTIFICATE: &str =
    "Unable to parse certificate. Please ensure the certificate is in PEM format.";
const UNPARSABLE_CHAIN: &str = "The certificate chain provided is not in a valid PEM format.";
const UNSUPPORTED_KEY: &str = "The private key is not supported.";
const KEY_MISMATCH: &str = "The private key does not match the public key in the certificate.";
const CHAIN_UNVERIFIED: &str = "Could not validate the certificate with the certificate chain.";

/// RSA sizes ACM imports.
const RSA_BITS: &[usize] = &[1024, 2048, 3072, 4096];

/// Material that passed every import check.
#[derive(Debug, Clone)]
pub struct Imported {
    pub certificate_pem: String,
    pub certificate_der: Vec<u8>,
    pub chain_pem: Option<String>,
    pub chain_der: Vec<Vec<u8>>,
    pub details: CertificateDetails,
}

/// Checks `Certificate`, `PrivateKey` and `CertificateChain` (PEM bytes) as ACM does on import.
pub fn import(
    certificate: &[u8],
    private_key: &[u8],
    chain: Option<&[u8]>,
    now: SystemTime,
) -> Result<Imported, AcmError> {
    let blocks = certificate_blocks(certificate)
        .ok_or_else(|| AcmError::invalid_material(UNPARSABLE_CERTIFICATE))?;
    let der = match blocks.as_slice() {
        [] => return Err(AcmError::invalid_material(UNPARSABLE_CERTIFICATE)),
        [one] => one.clone(),
        _ => {
            return Err(AcmError::invalid_material(
                "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
            ));
        }
    };
    let cert = parse_der(&der).ok_or_else(|| AcmError::invalid_material(UNPARSABLE_CERTIFICATE))?;
    check_certificate(&cert, now)?;
    let key = certificate_key(&cert)?;
    if let Some(private) = private_key_of(private_key)?
        && private != key
    {
        return Err(AcmError::invalid_material(KEY_MISMATCH));
    }
    let chain_der = match chain {
        None => Vec::new(),
        Some(chain) => certificate_blocks(chain)
            .filter(|blocks| !blocks.is_empty())
            .ok_or_else(|| AcmError::invalid_material(UNPARSABLE_CHAIN))?,
    };
    let chain_certs = chain_der
        .iter()
        .map(|der| parse_der(der))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| AcmError::invalid_material(UNPARSABLE_CHAIN))?;
    check_chain(&cert, &der, &chain_certs, &chain_der)?;
    Ok(Imported {
        certificate_pem: encode_pem(std::slice::from_ref(&der)),
        chain_pem: (!chain_der.is_empty()).then(|| encode_pem(&chain_der)),
        details: details(&cert, &key),
        certificate_der: der,
        chain_der,
    })
}

/// PEM blocks with 64-character lines and `\n` endings, concatenated.
fn encode_pem(ders: &[Vec<u8>]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    ders.iter()
        .map(|der| pem::encode_config(&pem::Pem::new("CERTIFICATE", der.clone()), config))
        .collect()
}

/// X.509 v3, a non-empty issuer, and `now` within the validity period.
fn check_certificate(cert: &X509Certificate<'_>, now: SystemTime) -> Result<(), AcmError> {
    if cert.version() != X509Version::V3 {
        return Err(AcmError::invalid_material(
            "The certificate must be an X.509 version 3 certificate.",
        ));
    }
    if cert.issuer().iter().next().is_none() {
        return Err(AcmError::invalid_material(
            "The certificate must have a non-empty issuer.",
        ));
    }
    let now = epoch_seconds(now);
    if now < cert.validity().not_before.timestamp() {
        return Err(AcmError::invalid_material(
            "The certificate is not yet valid (its NotBefore date is in the future).",
        ));
    }
    if now > cert.validity().not_after.timestamp() {
        return Err(AcmError::invalid_material("The certificate has expired."));
    }
    Ok(())
}

/// The certificate's public key, if its algorithm and size are ones ACM imports (RSA 1024–4096,
/// EC P-256/384/521).
fn certificate_key(cert: &X509Certificate<'_>) -> Result<Key, AcmError> {
    let key =
        keys::of_certificate(cert).ok_or_else(|| AcmError::invalid_material(UNSUPPORTED_KEY))?;
    if let Some(bits) = key.rsa_bits()
        && !RSA_BITS.contains(&bits)
    {
        return Err(AcmError::invalid_material(format!(
            "The private key length {bits} is not supported for key algorithm."
        )));
    }
    Ok(key)
}

/// The public half of an unencrypted private key (see [`keys::of_private_key`]); encrypted
/// keys (`ENCRYPTED PRIVATE KEY`) are refused, as ACM wants keys without a passphrase.
fn private_key_of(text: &[u8]) -> Result<Option<Key>, AcmError> {
    keys::of_private_key(text).map_err(|_| AcmError::invalid_material(UNSUPPORTED_KEY))
}

/// The chain must start with the certificate's issuer and continue issuer by issuer; each link
/// is checked by its signature.
fn check_chain(
    cert: &X509Certificate<'_>,
    cert_der: &[u8],
    chain: &[X509Certificate<'_>],
    chain_der: &[Vec<u8>],
) -> Result<(), AcmError> {
    let Some(first) = chain.first() else {
        return Ok(());
    };
    let out_of_order = |index: usize| {
        AcmError::invalid_material(format!(
            "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: {index}"
        ))
    };
    if let Some(index) = chain_der.iter().position(|der| der == cert_der) {
        return Err(out_of_order(index));
    }
    if !signs(first, cert) {
        return Err(if chain.iter().skip(1).any(|c| signs(c, cert)) {
            out_of_order(0)
        } else {
            AcmError::invalid_material(CHAIN_UNVERIFIED)
        });
    }
    for (index, pair) in chain.windows(2).enumerate() {
        if !signs(&pair[1], &pair[0]) {
            return Err(out_of_order(index + 1));
        }
    }
    Ok(())
}

fn details(cert: &X509Certificate<'_>, key: &Key) -> CertificateDetails {
    let common_name = first_attribute(cert.subject(), "2.5.4.3");
    let dns_names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(name) => Some((*name).to_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    // A CN counts as a domain only when dotted; any DNS SAN counts (reference §4).
    let domain_name = common_name
        .clone()
        .filter(|cn| cn.contains('.'))
        .or_else(|| dns_names.first().cloned());
    let mut subject_alternative_names = Vec::new();
    if let Some(domain) = &domain_name {
        subject_alternative_names.push(domain.clone());
        for name in &dns_names {
            if !subject_alternative_names.contains(name) {
                subject_alternative_names.push(name.clone());
            }
        }
    }
    let (key_algorithm, key_type) = key.algorithm();
    let issuer = first_attribute(cert.issuer(), "2.5.4.10")
        .or_else(|| first_attribute(cert.issuer(), "2.5.4.3"))
        .unwrap_or_else(|| distinguished_name(cert.issuer()));
    CertificateDetails {
        subject: distinguished_name(cert.subject()),
        issuer,
        common_name,
        serial: cert
            .raw_serial()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        domain_name,
        subject_alternative_names,
        key_algorithm,
        key_type,
        signature_algorithm: signature_algorithm(
            &cert.signature_algorithm.algorithm.to_id_string(),
        ),
        key_usages: key_usages(cert),
        extended_key_usages: extended_key_usages(cert),
    }
}

/// Short names of the usual DN attributes.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("1.2.840.113549.1.9.1", "EMAILADDRESS"),
];

/// `C=US,O=Example,CN=vpn.example.com`, in the certificate's RDN order.
fn distinguished_name(name: &X509Name<'_>) -> String {
    name.iter()
        .flat_map(|rdn| rdn.iter())
        .map(|attr| {
            let oid = attr.attr_type().to_id_string();
            let short = ATTRIBUTES
                .iter()
                .find(|(o, _)| *o == oid)
                .map_or(oid.clone(), |(_, s)| (*s).to_owned());
            format!("{short}={}", attr.as_str().unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn first_attribute(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter()
        .flat_map(|rdn| rdn.iter())
        .find(|attr| attr.attr_type().to_id_string() == oid)
        .and_then(|attr| attr.as_str().ok())
        .map(str::to_owned)
}

fn signature_algorithm(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "SHA1WITHRSA",
        "1.2.840.113549.1.1.11" => "SHA256WITHRSA",
        "1.2.840.113549.1.1.12" => "SHA384WITHRSA",
        "1.2.840.113549.1.1.13" => "SHA512WITHRSA",
        "1.2.840.113549.1.1.10" => "SHA256WITHRSAANDMGF1",
        "1.2.840.10045.4.3.2" => "SHA256WITHECDSA",
        "1.2.840.10045.4.3.3" => "SHA384WITHECDSA",
        "1.2.840.10045.4.3.4" => "SHA512WITHECDSA",
        other => other,
    }
    .to_owned()
}

fn key_usages(cert: &X509Certificate<'_>) -> Option<Vec<String>> {
    let ku = cert.key_usage().ok()??.value;
    let flags = [
        (ku.digital_signature(), "DIGITAL_SIGNATURE"),
        (ku.non_repudiation(), "NON_REPUDIATION"),
        (ku.key_encipherment(), "KEY_ENCIPHERMENT"),
        (ku.data_encipherment(), "DATA_ENCIPHERMENT"),
        (ku.key_agreement(), "KEY_AGREEMENT"),
        (ku.key_cert_sign(), "CERTIFICATE_SIGNING"),
        (ku.crl_sign(), "CRL_SIGNING"),
        (ku.encipher_only(), "ENCIPHER_ONLY"),
        (ku.decipher_only(), "DECIPHER_ONLY"),
    ];
    Some(
        flags
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, name)| name.to_owned())
            .collect(),
    )
}

fn extended_key_usages(cert: &X509Certificate<'_>) -> Option<Vec<ExtendedKeyUsage>> {
    let eku = cert.extended_key_usage().ok()??.value;
    let known = [
        (
            eku.server_auth,
            "TLS_WEB_SERVER_AUTHENTICATION",
            "1.3.6.1.5.5.7.3.1",
        ),
        (
            eku.client_auth,
            "TLS_WEB_CLIENT_AUTHENTICATION",
            "1.3.6.1.5.5.7.3.2",
        ),
        (eku.code_signing, "CODE_SIGNING", "1.3.6.1.5.5.7.3.3"),
        (
            eku.email_protection,
            "EMAIL_PROTECTION",
            "1.3.6.1.5.5.7.3.4",
        ),
        (eku.time_stamping, "TIME_STAMPING", "1.3.6.1.5.5.7.3.8"),
        (eku.ocsp_signing, "OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"),
        (eku.any, "ANY", "2.5.29.37.0"),
    ];
    let mut out: Vec<ExtendedKeyUsage> = known
        .into_iter()
        .filter(|(set, _, _)| *set)
        .map(|(_, name, oid)| ExtendedKeyUsage {
            name: name.to_owned(),
            oid: oid.to_owned(),
        })
        .collect();
    for oid in &eku.other {
        let oid = oid.to_id_string();
        let name = match oid.as_str() {
            "1.3.6.1.5.5.7.3.5" => "IPSEC_END_SYSTEM",
            "1.3.6.1.5.5.7.3.6" => "IPSEC_TUNNEL",
            "1.3.6.1.5.5.7.3.7" => "IPSEC_USER",
            _ => "CUSTOM",
        };
        out.push(ExtendedKeyUsage {
            name: name.to_owned(),
            oid,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_signatures() {
        assert_eq!(
            signature_algorithm("1.2.840.113549.1.1.11"),
            "SHA256WITHRSA"
        );
        assert_eq!(
            signature_algorithm("1.2.840.10045.4.3.3"),
            "SHA384WITHECDSA"
        );
        assert_eq!(signature_algorithm("1.2.3"), "1.2.3");
    }

    #[test]
    fn garbage_is_refused_with_acm_messages() {
        let now = SystemTime::now();
        let err = import(b"\x30\x82\x01", b"", None, now).unwrap_err();
        assert_eq!(err.message(), UNPARSABLE_CERTIFICATE);
        let fake = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            import(fake, b"", None, now).unwrap_err().message(),
            UNPARSABLE_CERTIFICATE
        );
        assert!(private_key_of(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n").is_err());
    }
}
