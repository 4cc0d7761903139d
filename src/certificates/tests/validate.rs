//! Client VPN rules, one row per rule; re-import blocker; renewal.

use super::*;
use crate::certificates::{
    CertificateProblem, KeyKind, Role, issue_ca, issue_server, needs_renewal, reimport_blocker,
    validate,
};

/// Validates a self-signed certificate made from `params` and `key` (and `tls_key`, if given).
fn check(
    params: &CertificateParams,
    key: &KeyPair,
    tls_key: Option<&KeyPair>,
    role: Role,
) -> Result<(), CertificateProblem> {
    let cert = self_signed(params, key);
    validate(
        &material(&cert, &tls_key.unwrap_or(key).serialize_pem(), None),
        role,
        NOW,
    )
}

#[test]
fn each_rule_refuses_with_a_message_naming_the_field() {
    use Role::{ClientRoot, Server};
    let named = params(Some("vpn.example.com"), &[], current());
    let rsa = rsa2048(false);
    let other = rsa2048(true);
    let expired = Validity {
        not_before: NOW - 10 * DAY,
        not_after: NOW - DAY,
    };
    let future = Validity {
        not_before: NOW + DAY,
        not_after: NOW + 10 * DAY,
    };
    let mut no_eku = named.clone();
    no_eku.extended_key_usages.clear();
    let rows: [(&str, Result<(), CertificateProblem>, &str, &str); 9] = [
        (
            "RSA 4096",
            check(&named, &rsa4096(), None, Server),
            "UnsupportedKey",
            "RSA-4096 key; Client VPN takes RSA 1024 or 2048 only",
        ),
        (
            "EC P-256",
            check(&named, &ec_p256(), None, ClientRoot),
            "UnsupportedKey",
            "EC-prime256v1",
        ),
        (
            "no serverAuth",
            check(&no_eku, &rsa, None, Server),
            "NoServerAuth",
            "tls.crt (CN=vpn.example.com) lacks the serverAuth extended key usage",
        ),
        (
            "other key",
            check(&named, &rsa, Some(&other), Server),
            "KeyMismatch",
            "tls.key does not belong to the certificate in tls.crt",
        ),
        (
            "expired",
            check(&params(Some("a.b"), &[], expired), &rsa, None, Server),
            "Expired",
            "expired at 2027-01-12T08:00:00Z (notAfter)",
        ),
        (
            "future",
            check(&params(Some("a.b"), &[], future), &rsa, None, Server),
            "NotYetValid",
            "not valid before 2027-01-14T08:00:00Z",
        ),
        (
            "bare CN",
            check(&params(Some("server"), &[], current()), &rsa, None, Server),
            "NoDomain",
            "(CN=server) has no DNS name",
        ),
        (
            "no names",
            check(&params(None, &[], current()), &rsa, None, Server),
            "NoDomain",
            "does not have a domain",
        ),
        (
            "root without CN",
            check(&params(None, &["ca"], current()), &rsa, None, ClientRoot),
            "MissingCommonName",
            "tls.crt () has no common name",
        ),
    ];
    for (case, result, category, message) in rows {
        let found = result.expect_err(case);
        assert_eq!(found.category(), category, "{case}: {found}");
        assert!(found.to_string().contains(message), "{case}: {found}");
    }
}

#[test]
fn server_names_that_give_a_domain_are_accepted() {
    let rsa = rsa2048(false);
    for (cn, dns) in [
        (Some("vpn.example.internal"), &[][..]),
        (None, &["server"][..]),
        (Some("server"), &["vpn.example.com"][..]),
    ] {
        assert_eq!(
            check(&params(cn, dns, current()), &rsa, None, Role::Server),
            Ok(()),
            "{cn:?} {dns:?}"
        );
    }
}

#[test]
fn client_root_needs_only_a_common_name() {
    let rsa = rsa2048(false);
    assert_eq!(
        check(
            &params(Some("Client CA"), &[], current()),
            &rsa,
            None,
            Role::ClientRoot
        ),
        Ok(())
    );
}

#[test]
fn chain_that_does_not_sign_the_certificate_is_refused() {
    let server = issue_server(&ca(), "vpn.example.com", &[], current()).unwrap();
    let stranger = issue_ca("Other CA", current()).unwrap();
    let read = material(
        &server.certificate_pem,
        &server.private_key_pem,
        Some(&stranger.certificate_pem),
    );
    let found = validate(&read, Role::Server, NOW).expect_err("wrong chain");
    assert_eq!(
        found,
        CertificateProblem::ChainDoesNotSign {
            index: 0,
            subject: "CN=Other CA".into()
        }
    );
    assert!(
        found
            .to_string()
            .contains("tls.crt after its first certificate, then ca.crt")
    );
}

#[test]
fn reimport_is_blocked_when_the_key_size_changes() {
    let facts = |key: &KeyPair| {
        material(
            &self_signed(&params(Some("vpn.example.com"), &[], current()), key),
            &key.serialize_pem(),
            None,
        )
        .facts
    };
    let (small, other_small, big) = (
        facts(&rsa2048(false)),
        facts(&rsa2048(true)),
        facts(&rsa4096()),
    );
    assert_eq!(reimport_blocker(&small, &other_small), None);
    let blocker = reimport_blocker(&small, &big).expect("blocked");
    assert!(blocker.contains("from RSA-2048 to RSA-4096"), "{blocker}");
    assert!(blocker.contains("new ARN"), "{blocker}");
    let mut nameless = other_small.clone();
    (nameless.common_name, nameless.dns_names) = (None, Vec::new());
    assert!(reimport_blocker(&small, &nameless).is_some());
    assert_eq!(big.key, KeyKind::Rsa { bits: 4096 });
}

#[test]
fn renewal_is_due_within_renew_before_of_not_after() {
    let key = rsa2048(false);
    let cert = self_signed(
        &params(Some("a.b"), &[], Validity::starting_at(NOW, 90 * DAY)),
        &key,
    );
    let facts = material(&cert, &key.serialize_pem(), None).facts;
    for (now, renew_before, due) in [
        (NOW, 30 * DAY, false),
        (NOW + 59 * DAY, 30 * DAY, false),
        (NOW + 60 * DAY, 30 * DAY, true),
        (NOW + 91 * DAY, 0, true),
        (NOW + 89 * DAY, 0, false),
    ] {
        assert_eq!(
            needs_renewal(&facts, now, renew_before),
            due,
            "{now} {renew_before}"
        );
    }
}

#[test]
fn reimport_is_blocked_when_usages_shrink_or_a_usage_extension_appears() {
    use rcgen::{ExtendedKeyUsagePurpose::*, KeyUsagePurpose::*};
    let key = rsa2048(false);
    let facts = |ku: Vec<rcgen::KeyUsagePurpose>, eku: Vec<rcgen::ExtendedKeyUsagePurpose>| {
        let mut params = params(Some("vpn.example.com"), &[], current());
        (params.key_usages, params.extended_key_usages) = (ku, eku);
        material(&self_signed(&params, &key), &key.serialize_pem(), None).facts
    };
    let both = facts(vec![DigitalSignature], vec![ServerAuth, ClientAuth]);
    let rows = [
        (
            "same",
            facts(vec![DigitalSignature], vec![ServerAuth, ClientAuth]),
            None,
        ),
        (
            "adds",
            facts(
                vec![DigitalSignature, KeyEncipherment],
                vec![ServerAuth, ClientAuth, CodeSigning],
            ),
            None,
        ),
        (
            "drops clientAuth",
            facts(vec![DigitalSignature], vec![ServerAuth]),
            None,
        ),
        (
            "drops serverAuth",
            facts(vec![DigitalSignature], vec![ClientAuth]),
            Some("drops extendedKeyUsage TLS_WEB_SERVER_AUTHENTICATION"),
        ),
        (
            "drops keyUsage",
            facts(vec![], vec![ServerAuth, ClientAuth]),
            Some("drops keyUsage DIGITAL_SIGNATURE"),
        ),
    ];
    for (case, next, blocked) in rows {
        let found = reimport_blocker(&both, &next);
        assert_eq!(found.is_some(), blocked.is_some(), "{case}: {found:?}");
        if let (Some(found), Some(blocked)) = (found, blocked) {
            assert!(found.contains(blocked), "{case}: {found}");
        }
    }
    let without_ku = facts(vec![], vec![ServerAuth]);
    let found = reimport_blocker(
        &without_ku,
        &facts(vec![DigitalSignature], vec![ServerAuth]),
    );
    assert!(found.is_some_and(|f| f.contains("adds a keyUsage extension")));
}
