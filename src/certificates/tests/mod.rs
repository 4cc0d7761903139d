//! Tests, one file per subject; fixtures here. Every key and certificate is generated with
//! rcgen at test time (no checked-in keys); RSA keys are made once and shared.

mod crl;
mod issue;
mod material;
mod validate;

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256, RsaKeySize, SanType, SerialNumber,
};
use x509_parser::der_parser::parse_der;

use super::{CertificateMaterial, Issued, Validity, issue_ca};

/// "Now" in every test: 2027-01-13T08:00:00Z.
pub(super) const NOW: i64 = 1_799_827_200;
pub(super) const DAY: i64 = 86_400;

/// Valid from a day before [`NOW`] for a year.
pub(super) fn current() -> Validity {
    Validity::starting_at(NOW - DAY, 365 * DAY)
}

fn cached(cell: &'static OnceLock<String>, make: impl FnOnce() -> KeyPair) -> KeyPair {
    let pem = cell.get_or_init(|| make().serialize_pem());
    KeyPair::from_pem(pem).expect("cached test key")
}

/// An RSA-2048 key (PKCS#8); `second` gives a different one.
pub(super) fn rsa2048(second: bool) -> KeyPair {
    static FIRST: OnceLock<String> = OnceLock::new();
    static SECOND: OnceLock<String> = OnceLock::new();
    let generate = || KeyPair::generate_for(&PKCS_RSA_SHA256).expect("RSA-2048 key");
    cached(if second { &SECOND } else { &FIRST }, generate)
}

pub(super) fn rsa4096() -> KeyPair {
    static KEY: OnceLock<String> = OnceLock::new();
    cached(&KEY, || {
        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_4096).expect("RSA-4096 key")
    })
}

pub(super) fn ec_p256() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key")
}

/// A test CA, issued once by [`issue_ca`].
pub(super) fn ca() -> Issued {
    static CA: OnceLock<Issued> = OnceLock::new();
    CA.get_or_init(|| issue_ca("Test VPN CA", current()).expect("CA"))
        .clone()
}

/// Certificate parameters: optional CN, DNS SANs, validity window; EKU serverAuth.
pub(super) fn params(cn: Option<&str>, dns: &[&str], validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = cn {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params.subject_alt_names = dns
        .iter()
        .map(|name| SanType::DnsName((*name).try_into().expect("DNS name")))
        .collect();
    params.not_before = time::OffsetDateTime::from_unix_timestamp(validity.not_before).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(validity.not_after).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

/// `params` self-signed with `key`, as PEM.
pub(super) fn self_signed(params: &CertificateParams, key: &KeyPair) -> String {
    params.self_signed(key).expect("self-signed").pem()
}

/// A CA certificate signed by `parent` (an intermediate), as [`Issued`].
pub(super) fn intermediate(parent: &Issued, cn: &str) -> Issued {
    let mut params = params(Some(cn), &[], current());
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.serial_number = Some(SerialNumber::from_slice(&[0x42]));
    let key = rsa2048(true);
    let parent_key = KeyPair::from_pem(&parent.private_key_pem).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&parent.certificate_pem, parent_key).unwrap();
    Issued {
        certificate_pem: params.signed_by(&key, &issuer).unwrap().pem(),
        private_key_pem: key.serialize_pem(),
    }
}

/// A Secret's data read as material, panicking on a problem.
pub(super) fn material(tls_crt: &str, tls_key: &str, ca_crt: Option<&str>) -> CertificateMaterial {
    CertificateMaterial::from_secret_data(
        tls_crt.as_bytes(),
        tls_key.as_bytes(),
        ca_crt.map(str::as_bytes),
    )
    .expect("material")
}

/// The key inside a PKCS#8 key, PEM-encoded under `label` (PKCS#1 for RSA, SEC1 for EC).
pub(super) fn unwrap_pkcs8(key: &KeyPair, label: &str) -> String {
    let pkcs8 = key.serialize_der();
    let (_, info) = parse_der(&pkcs8).expect("PKCS#8 DER");
    let fields = info.as_sequence().expect("PrivateKeyInfo");
    let inner = fields[2].as_slice().expect("privateKey OCTET STRING");
    pem::encode(&pem::Pem::new(label, inner))
}

/// PEM body lines of `key_pem` (what must never appear in Debug output).
pub(super) fn key_body(key_pem: &str) -> Vec<&str> {
    key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}
