//! Certificates in the controller: which Secrets wake which objects, and what ACM's word on an
//! import decides (against [`FixedAcm`]; the whole flow runs against the emulator in
//! `tests/e2e/certificates.rs`).

use std::sync::Arc;

use super::*;
use crate::api::{
    CertificateOrigin, CertificateRole, CertificateSource, CertificateStatus,
    ClientVpnEndpointStatus, SecretReference,
};
use crate::certificates::{
    CA_CRT, CertificateMaterial, TLS_CRT, TLS_KEY, Validity, issue_ca, issue_server,
};
use crate::cloud::AcmCertificate;
use crate::endpoint::certificates::uses_secret;
use crate::runtime::SecretData;

fn named(secret: &str) -> Option<SecretReference> {
    Some(SecretReference {
        name: secret.into(),
    })
}

#[test]
fn an_object_uses_the_secrets_its_spec_names_or_its_managed_ca_writes() {
    let by_arn = ClientVpnEndpoint::test();
    let mut by_secret = ClientVpnEndpoint::test();
    by_secret.spec.server_certificate_arn = None;
    by_secret.spec.server_certificate = Some(CertificateSource {
        secret_ref: named("vpn-tls"),
        managed: None,
    });
    let mutual = by_secret.spec.authentication_options[0]
        .mutual_authentication
        .as_mut()
        .expect("mutual authentication");
    mutual.client_root_certificate_chain_arn = None;
    mutual.client_root_certificate_chain_secret_ref = named("clients-ca");
    let mut managed = ClientVpnEndpoint::test();
    managed.spec.server_certificate_arn = None;
    managed.spec.server_certificate = Some(CertificateSource {
        secret_ref: None,
        managed: Some(Default::default()),
    });
    let rows = [
        (&by_arn, "vpn-tls", false),
        (&by_secret, "vpn-tls", true),
        (&by_secret, "clients-ca", true),
        (&by_secret, "office-server", false),
        (&managed, "office-ca", true),
        (&managed, "office-server", true),
        (&managed, "vpn-tls", false),
    ];
    for (obj, secret, expected) in rows {
        assert_eq!(uses_secret(obj, secret), expected, "{secret}");
    }
}

/// `tls.crt`, `tls.key`, `ca.crt` of an RSA-2048 server certificate for `vpn.example.com`.
fn server_secret() -> SecretData {
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let validity = Validity::starting_at(now - 60, 90 * 86_400);
    let ca = issue_ca("test CA", validity).expect("CA");
    let ca_material = CertificateMaterial::from_secret_data(
        ca.certificate_pem.as_bytes(),
        ca.private_key_pem.as_bytes(),
        None,
    )
    .expect("CA");
    let name = "vpn.example.com".to_string();
    let server =
        issue_server(&ca_material, &name, std::slice::from_ref(&name), validity).expect("server");
    SecretData(
        [
            (TLS_CRT, server.certificate_pem),
            (TLS_KEY, server.private_key_pem),
            (CA_CRT, ca.certificate_pem),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.into_bytes()))
        .collect(),
    )
}

#[tokio::test]
async fn a_renewal_with_another_key_size_is_refused_and_nothing_is_imported() {
    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/imported";
    let mut obj = ClientVpnEndpoint::test().finalized();
    obj.spec.server_certificate_arn = None;
    obj.spec.server_certificate = Some(CertificateSource {
        secret_ref: named("vpn-tls"),
        managed: None,
    });
    // What the first import recorded: an RSA-1024 certificate in ARN.
    obj.status = Some(ClientVpnEndpointStatus {
        certificates: vec![CertificateStatus {
            role: CertificateRole::Server,
            source: CertificateOrigin::Secret,
            arn: Some(ARN.into()),
            secret_name: Some("vpn-tls".into()),
            subject: Some("CN=vpn.example.com".into()),
            serial: Some("01".into()),
            not_after: None,
            key_algorithm: Some("RSA-1024".into()),
        }],
        ..Default::default()
    });
    let acm = Arc::new(FixedAcm::holding(vec![AcmCertificate {
        arn: ARN.into(),
        serial: Some("01".into()),
        not_after: None,
        key_algorithm: Some("RSA-1024".into()),
        in_use_by: Vec::new(),
    }]));
    let h = Harness::with_acm(obj, acm.clone());
    h.cluster.put_secret("vpn-tls", server_secret());
    h.reconcile()
        .await
        .expect("a refusal is a result, not an error");
    let (status, reason, message) = h.condition(condition::STALLED).expect("Stalled");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "CertificateKeyChanged")
    );
    assert!(
        message.contains("Secret vpn-tls") && message.contains("RSA-1024 to RSA-2048"),
        "{message}"
    );
    assert_eq!(acm.calls(), ["Describe"], "no re-import ACM would refuse");
    assert!(
        h.cloud.take_calls().is_empty(),
        "the endpoint is left alone"
    );
    assert_eq!(h.status().certificates[0].arn.as_deref(), Some(ARN));
}
