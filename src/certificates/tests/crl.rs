//! Signed CRLs parse back with x509-parser: revoked serials, dates, number, signature.

use x509_parser::revocation_list::CertificateRevocationList;

use super::*;
use crate::certificates::{IssueError, RevokedSerial, Signer, issue_client, sign_crl};

/// Parses the PEM CRL and hands it to `check`.
fn with_crl(pem: &str, check: impl FnOnce(&CertificateRevocationList<'_>)) {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    assert_eq!(block.label, "X509 CRL");
    let (_, crl) = x509_parser::parse_x509_crl(&block.contents).expect("CRL");
    check(&crl);
}

#[test]
fn crl_lists_the_revoked_serials_and_next_update() {
    let ca = ca();
    let alice = issue_client(&Signer::load(&ca).unwrap(), "alice", current()).unwrap();
    let alice_serial = material(&alice.certificate_pem, &alice.private_key_pem, None)
        .facts
        .serial;
    let revoked = [
        RevokedSerial {
            serial: alice_serial.clone(),
            revoked_at: NOW - 3600,
        },
        RevokedSerial {
            serial: "07:71:f4".into(),
            revoked_at: NOW - 60,
        },
    ];
    let pem = sign_crl(&ca, &revoked, NOW, NOW + 180 * DAY, 7).unwrap();
    with_crl(&pem, |crl| {
        let listed: Vec<(String, i64)> = crl
            .iter_revoked_certificates()
            .map(|entry| {
                (
                    x509_parser::utils::format_serial(&entry.user_certificate.to_bytes_be()),
                    entry.revocation_date.timestamp(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (alice_serial, NOW - 3600),
                ("07:71:f4".to_string(), NOW - 60)
            ]
        );
        assert_eq!(crl.last_update().timestamp(), NOW);
        assert_eq!(
            crl.next_update().map(|t| t.timestamp()),
            Some(NOW + 180 * DAY)
        );
        assert_eq!(
            crl.crl_number().map(|n| n.to_string()),
            Some("7".to_string())
        );
        with_ca_key(&ca, |spki| {
            crl.verify_signature(spki).expect("signed by the CA")
        });
    });
}

fn with_ca_key(ca: &Issued, check: impl FnOnce(&x509_parser::x509::SubjectPublicKeyInfo<'_>)) {
    let (_, block) = x509_parser::pem::parse_x509_pem(ca.certificate_pem.as_bytes()).unwrap();
    check(block.parse_x509().unwrap().public_key());
}

#[test]
fn empty_crl_is_valid() {
    let pem = sign_crl(&ca(), &[], NOW, NOW + DAY, 1).unwrap();
    with_crl(&pem, |crl| {
        assert_eq!(crl.iter_revoked_certificates().count(), 0)
    });
}

#[test]
fn bad_serial_and_backwards_dates_are_refused() {
    let bad = [RevokedSerial {
        serial: "not-hex".into(),
        revoked_at: NOW,
    }];
    assert!(matches!(
        sign_crl(&ca(), &bad, NOW, NOW + DAY, 1),
        Err(IssueError::Serial(_))
    ));
    assert!(matches!(
        sign_crl(&ca(), &[], NOW, NOW - DAY, 1),
        Err(IssueError::Sign(_))
    ));
}
