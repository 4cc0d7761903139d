//! Reading Secret data: PEM framing, key formats, leaf/chain split, facts, Debug redaction.

use rcgen::SerialNumber;

use super::*;
use crate::certificates::{
    CertificateMaterial, CertificateProblem, KeyKind, Role, issue_server, validate,
};

fn leaf_and_key() -> (String, KeyPair) {
    let key = rsa2048(false);
    (
        self_signed(&params(Some("vpn.example.com"), &[], current()), &key),
        key,
    )
}

fn problem(tls_crt: &[u8], tls_key: &[u8]) -> CertificateProblem {
    CertificateMaterial::from_secret_data(tls_crt, tls_key, None).expect_err("a problem")
}

#[test]
fn pkcs8_and_pkcs1_keys_are_accepted_and_validate() {
    let (cert, key) = leaf_and_key();
    let pkcs1 = unwrap_pkcs8(&key, "RSA PRIVATE KEY");
    for key_pem in [key.serialize_pem(), pkcs1] {
        let read = material(&cert, &key_pem, None);
        assert_eq!(read.private_key_pem.trim(), key_pem.trim());
        assert_eq!(validate(&read, Role::Server, NOW), Ok(()));
    }
}

#[test]
fn sec1_ec_key_is_read_then_refused_as_unsupported() {
    let key = ec_p256();
    let cert = self_signed(&params(Some("vpn.example.com"), &[], current()), &key);
    let read = material(&cert, &unwrap_pkcs8(&key, "EC PRIVATE KEY"), None);
    assert_eq!(read.facts.key.to_string(), "EC-prime256v1");
}

#[test]
fn facts_are_read_as_acm_shows_them() {
    let key = rsa2048(false);
    let mut params = params(
        Some("vpn.example.com"),
        &["vpn.example.com", "alt"],
        current(),
    );
    params.serial_number = Some(SerialNumber::from_slice(&[0x07, 0x71, 0xf4]));
    let facts = material(&self_signed(&params, &key), &key.serialize_pem(), None).facts;
    assert_eq!(facts.subject, "CN=vpn.example.com");
    assert_eq!(facts.common_name.as_deref(), Some("vpn.example.com"));
    assert_eq!(facts.dns_names, ["vpn.example.com", "alt"]);
    assert_eq!(facts.serial, "07:71:f4");
    assert_eq!(
        (facts.not_before, facts.not_after),
        (NOW - DAY, NOW + 364 * DAY)
    );
    assert_eq!(facts.key, KeyKind::Rsa { bits: 2048 });
    assert_eq!(facts.key.to_string(), "RSA-2048");
    assert_eq!(facts.sha256_fingerprint.len(), 64);
    assert!(
        facts
            .sha256_fingerprint
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
}

#[test]
fn leaf_and_intermediate_are_split_and_ca_crt_appended_once() {
    let root = ca();
    let middle = intermediate(&root, "Test Intermediate");
    let server = issue_server(&middle, "vpn.example.com", &[], current()).unwrap();
    let tls_crt = format!("{}{}", server.certificate_pem, middle.certificate_pem);
    let chain_of = |ca_crt: Option<&str>| {
        let read = material(&tls_crt, &server.private_key_pem, ca_crt);
        assert_eq!(read.certificate_pem.trim(), server.certificate_pem.trim());
        assert_eq!(validate(&read, Role::Server, NOW), Ok(()));
        read.chain_pem.expect("a chain")
    };
    let both = format!("{}{}", middle.certificate_pem, root.certificate_pem);
    assert_eq!(chain_of(None).trim(), middle.certificate_pem.trim());
    assert_eq!(chain_of(Some(&root.certificate_pem)).trim(), both.trim());
    assert_eq!(
        chain_of(Some(&middle.certificate_pem)).trim(),
        middle.certificate_pem.trim()
    );
}

#[test]
fn self_signed_leaf_as_ca_crt_gives_no_chain() {
    let (cert, key) = leaf_and_key();
    assert_eq!(
        material(&cert, &key.serialize_pem(), Some(&cert)).chain_pem,
        None
    );
}

#[test]
fn encrypted_keys_are_refused() {
    let (cert, _) = leaf_and_key();
    let pkcs8 =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let legacy = concat!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n",
        "DEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    );
    for key in [pkcs8, legacy] {
        let found = problem(cert.as_bytes(), key.as_bytes());
        assert_eq!(found, CertificateProblem::EncryptedKey);
        assert!(found.to_string().contains("tls.key is encrypted"));
    }
}

#[test]
fn garbage_is_refused_naming_the_secret_key() {
    let (cert, key) = leaf_and_key();
    let key = key.serialize_pem();
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let not_x509 = pem::encode(&pem::Pem::new("CERTIFICATE", b"hello".to_vec()));
    let cases: [(&[u8], &[u8], &str, &str); 6] = [
        (
            b"\xff\xfe",
            key.as_bytes(),
            "UnparsablePem",
            "tls.crt is not valid PEM",
        ),
        (
            bad_base64.as_bytes(),
            key.as_bytes(),
            "UnparsablePem",
            "tls.crt is not valid PEM",
        ),
        (
            b"hello",
            key.as_bytes(),
            "NoCertificate",
            "tls.crt holds no CERTIFICATE",
        ),
        (
            not_x509.as_bytes(),
            key.as_bytes(),
            "UnparsableCertificate",
            "in tls.crt",
        ),
        (
            cert.as_bytes(),
            bad_base64.as_bytes(),
            "UnparsablePem",
            "tls.key is not valid PEM",
        ),
        (
            cert.as_bytes(),
            cert.as_bytes(),
            "NoPrivateKey",
            "tls.key holds no private key",
        ),
    ];
    for (tls_crt, tls_key, category, message) in cases {
        let found = problem(tls_crt, tls_key);
        assert_eq!(found.category(), category, "{found}");
        assert!(found.to_string().contains(message), "{found}");
    }
}

#[test]
fn garbage_ca_crt_is_refused_naming_ca_crt() {
    let (cert, key) = leaf_and_key();
    let bad = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let found = CertificateMaterial::from_secret_data(
        cert.as_bytes(),
        key.serialize_pem().as_bytes(),
        Some(bad),
    )
    .expect_err("a problem");
    assert!(
        found.to_string().starts_with("ca.crt is not valid PEM"),
        "{found}"
    );
}

#[test]
fn debug_output_contains_no_key() {
    let (cert, key) = leaf_and_key();
    let key_pem = key.serialize_pem();
    let debug = format!("{:?}", material(&cert, &key_pem, None));
    assert!(debug.contains("<redacted>") && debug.contains("vpn.example.com"));
    for line in key_body(&key_pem) {
        assert!(!debug.contains(line), "key material in {debug}");
    }
}
