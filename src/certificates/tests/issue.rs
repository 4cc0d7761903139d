//! Issued CA, server and client certificates parse back, validate for their role, and are
//! signed by the CA.

use x509_parser::certificate::X509Certificate;

use super::*;
use crate::certificates::{
    CertificateFacts, IssueError, KeyKind, Role, Signer, issue_client, issue_server, validate,
};

/// Parses `pem` and hands the certificate to `check`.
fn with_cert<T>(pem: &str, check: impl FnOnce(&X509Certificate<'_>) -> T) -> T {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    check(&block.parse_x509().expect("X.509"))
}

/// Reads `issued` as a Secret with the test CA as `ca.crt`, validated for `role`.
fn facts_validated(issued: &Issued, role: Role) -> CertificateFacts {
    let ca = ca();
    let read = material(
        &issued.certificate_pem,
        &issued.private_key_pem,
        Some(&ca.certificate_pem),
    );
    assert_eq!(validate(&read, role, NOW), Ok(()));
    read.facts
}

fn assert_signed_by_ca(issued: &Issued) {
    let ca = ca();
    with_cert(&ca.certificate_pem, |ca_cert| {
        with_cert(&issued.certificate_pem, |cert| {
            assert_eq!(cert.issuer(), ca_cert.subject());
            cert.verify_signature(Some(ca_cert.public_key()))
                .expect("signed by the CA");
        })
    });
}

fn assert_random_serial(facts: &CertificateFacts) {
    let bytes: Vec<u8> = facts
        .serial
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    assert_eq!(bytes.len(), 16, "{}", facts.serial);
    assert!(
        (0x40..0x80).contains(&bytes[0]),
        "positive, 127 bits: {}",
        facts.serial
    );
}

#[test]
fn ca_is_a_self_signed_rsa_2048_ca_that_validates_as_client_root() {
    let ca = ca();
    let facts = facts_validated(&ca, Role::ClientRoot);
    assert_eq!(facts.subject, "CN=Test VPN CA");
    assert_eq!(facts.key, KeyKind::Rsa { bits: 2048 });
    assert_random_serial(&facts);
    assert!(
        ca.private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    with_cert(&ca.certificate_pem, |cert| {
        assert!(
            cert.basic_constraints()
                .unwrap()
                .expect("basicConstraints")
                .value
                .ca
        );
        let usage = cert.key_usage().unwrap().expect("keyUsage").value;
        assert!(usage.key_cert_sign() && usage.crl_sign());
        cert.verify_signature(None).expect("self-signed");
    });
}

#[test]
fn server_certificate_has_its_names_and_server_auth() {
    let dns = ["vpn.example.com".to_string(), "server".to_string()];
    let server = issue_server(&ca(), "vpn.example.com", &dns, current()).unwrap();
    let facts = facts_validated(&server, Role::Server);
    assert_eq!(facts.common_name.as_deref(), Some("vpn.example.com"));
    assert_eq!(facts.dns_names, dns);
    assert_eq!(
        (facts.not_before, facts.not_after),
        (current().not_before, current().not_after)
    );
    assert_random_serial(&facts);
    assert_eq!(
        facts.key_usages.unwrap(),
        ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]
    );
    assert_eq!(
        facts.extended_key_usages.unwrap(),
        ["TLS_WEB_SERVER_AUTHENTICATION"]
    );
    assert_signed_by_ca(&server);
    with_cert(&server.certificate_pem, |cert| {
        let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
        assert!(eku.server_auth && !eku.client_auth);
        let usage = cert.key_usage().unwrap().expect("keyUsage").value;
        assert!(usage.digital_signature() && usage.key_encipherment() && !usage.key_cert_sign());
    });
}

#[test]
fn server_without_dns_names_gets_its_common_name_as_san() {
    let server = issue_server(&ca(), "server", &[], current()).unwrap();
    assert_eq!(facts_validated(&server, Role::Server).dns_names, ["server"]);
}

#[test]
fn client_certificate_has_client_auth_and_its_cn() {
    let client = issue_client(&Signer::load(&ca()).unwrap(), "alice", current()).unwrap();
    let facts = facts_validated(&client, Role::ClientRoot);
    assert_eq!(facts.subject, "CN=alice");
    assert!(facts.dns_names.is_empty());
    assert_signed_by_ca(&client);
    with_cert(&client.certificate_pem, |cert| {
        let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
        assert!(eku.client_auth && !eku.server_auth);
    });
}

#[test]
fn a_ca_read_from_a_secret_can_sign() {
    let ca = ca();
    let from_secret = material(&ca.certificate_pem, &ca.private_key_pem, None);
    let client = issue_client(&Signer::load(&from_secret).unwrap(), "bob", current()).unwrap();
    assert_signed_by_ca(&client);
}

#[test]
fn serials_differ_between_issues() {
    let serial = |name| {
        let issued = issue_client(&Signer::load(&ca()).unwrap(), name, current()).unwrap();
        material(&issued.certificate_pem, &issued.private_key_pem, None)
            .facts
            .serial
    };
    assert_ne!(serial("carol"), serial("carol"));
}

#[test]
fn invalid_dns_name_is_refused() {
    let found = issue_server(&ca(), "vpn", &["bad ü".to_string()], current()).unwrap_err();
    assert!(
        matches!(found, IssueError::DnsName(ref name) if name == "bad ü"),
        "{found}"
    );
    assert_eq!(found.category(), "DnsName");
}

#[test]
fn issued_debug_output_contains_no_key() {
    let ca = ca();
    let debug = format!("{ca:?}");
    assert!(debug.contains("<redacted>") && debug.contains("BEGIN CERTIFICATE"));
    for line in key_body(&ca.private_key_pem) {
        assert!(!debug.contains(line), "key material in {debug}");
    }
}
