//! Which Secrets wake which objects: the Secrets a spec names and the managed CA's own.

use crate::api::{CertificateSource, ClientVpnEndpoint, SecretReference};
use crate::endpoint::certificates::uses_secret;

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
