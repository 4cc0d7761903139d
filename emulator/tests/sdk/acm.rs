//! ACM through the real `aws-sdk-acm` (AWS JSON 1.1), and EC2 endpoints using its certificates.

use aws_sdk_acm::Client as Acm;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{Filters, KeyAlgorithm, Tag};
use aws_sdk_ec2::types::{
    CertificateAuthenticationRequest, ClientVpnAuthenticationRequest, ClientVpnAuthenticationType,
};

use crate::certs::{Ca, Leaf};
use crate::common::*;

async fn acm_client(emu: &Emulator, access_key: &str, region: &str) -> Acm {
    Acm::new(&emu.sdk_config(access_key, region).await)
}

async fn import(acm: &Acm, leaf: &Leaf, chain: Option<&str>) -> String {
    acm.import_certificate()
        .certificate(Blob::new(leaf.cert.as_bytes()))
        .private_key(Blob::new(leaf.key.as_bytes()))
        .set_certificate_chain(chain.map(|c| Blob::new(c.as_bytes())))
        .send()
        .await
        .expect("import")
        .certificate_arn()
        .expect("arn")
        .to_owned()
}

fn mutual(chain: &str) -> ClientVpnAuthenticationRequest {
    ClientVpnAuthenticationRequest::builder()
        .r#type(ClientVpnAuthenticationType::CertificateAuthentication)
        .mutual_authentication(
            CertificateAuthenticationRequest::builder()
                .client_root_certificate_chain_arn(chain)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn import_describe_get_and_reimport() {
    let emu = Emulator::start_strict().await;
    let acm = acm_client(&emu, ACCESS_KEY, REGION).await;
    let ca = Ca::new("SDK Test CA");
    let leaf = ca.leaf("vpn.example.com", &["vpn.example.com", "b.example.com"]);
    let arn = import(&acm, &leaf, Some(&ca.pem())).await;
    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    assert!(arn.starts_with(&format!("arn:aws:acm:{REGION}:{account}:certificate/")));

    let out = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let detail = out.certificate().unwrap();
    assert_eq!(detail.domain_name(), Some("vpn.example.com"));
    assert_eq!(
        detail.subject_alternative_names(),
        ["vpn.example.com", "b.example.com"]
    );
    assert_eq!(detail.subject(), Some("CN=vpn.example.com"));
    assert_eq!(detail.issuer(), Some("SDK Test CA"));
    // ACM answers the hyphen form, which the SDK's enum does not know.
    assert_eq!(
        detail.key_algorithm().map(KeyAlgorithm::as_str),
        Some("RSA-2048")
    );
    assert_eq!(detail.r#type().map(|t| t.as_str()), Some("IMPORTED"));
    assert_eq!(detail.status().map(|s| s.as_str()), Some("ISSUED"));
    assert!(detail.imported_at().is_some() && detail.not_after().is_some());
    assert!(detail.in_use_by().is_empty());
    let serial = detail.serial().unwrap().to_owned();
    assert!(serial.split(':').all(|b| b.len() == 2), "{serial}");

    let got = acm
        .get_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.certificate(), Some(leaf.cert.as_str()));
    assert_eq!(got.certificate_chain(), Some(ca.pem().as_str()));

    let renewed = ca.leaf("vpn.example.com", &["vpn.example.com"]);
    let again = acm
        .import_certificate()
        .certificate_arn(&arn)
        .certificate(Blob::new(renewed.cert.as_bytes()))
        .private_key(Blob::new(renewed.key.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(again.certificate_arn(), Some(arn.as_str()));
    let after = acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_ne!(after.certificate().unwrap().serial(), Some(serial.as_str()));

    // A mismatched key, and an EC certificate over an RSA one.
    let other = ca.leaf("x.example.com", &["x.example.com"]);
    let message = assert_rejected(
        acm.import_certificate()
            .certificate(Blob::new(leaf.cert.as_bytes()))
            .private_key(Blob::new(other.key.as_bytes()))
            .send()
            .await,
        "ValidationException",
    );
    assert!(message.contains("does not match"), "{message}");
    let ec = ca.ec_leaf("vpn.example.com", &["vpn.example.com"]);
    assert_rejected(
        acm.import_certificate()
            .certificate_arn(&arn)
            .certificate(Blob::new(ec.cert.as_bytes()))
            .private_key(Blob::new(ec.key.as_bytes()))
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn list_paginates_with_default_key_filter() {
    let emu = Emulator::start_strict().await;
    let acm = acm_client(&emu, ACCESS_KEY, REGION).await;
    let ca = Ca::new("List CA");
    let mut arns = Vec::new();
    for i in 0..3 {
        let host = format!("h{i}.example.com");
        arns.push(import(&acm, &ca.leaf(&host, &[&host]), None).await);
    }
    let ec = import(
        &acm,
        &ca.ec_leaf("ec.example.com", &["ec.example.com"]),
        None,
    )
    .await;
    let listed: Vec<String> = acm
        .list_certificates()
        .into_paginator()
        .page_size(2)
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|c| c.certificate_arn().unwrap().to_owned())
        .collect();
    assert_eq!(
        listed, arns,
        "EC certificates are hidden by the default filter"
    );
    let with_ec = acm
        .list_certificates()
        .includes(Filters::builder().key_types("EC_prime256v1".into()).build())
        .send()
        .await
        .unwrap();
    let ec_listed: Vec<&str> = with_ec
        .certificate_summary_list()
        .iter()
        .filter_map(|c| c.certificate_arn())
        .collect();
    assert_eq!(ec_listed, [ec.as_str()]);
    assert_rejected(
        acm.list_certificates().next_token("garbage").send().await,
        "InvalidArgsException",
    );
    assert_rejected(
        acm.list_certificates().max_items(0).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn tags_and_errors() {
    let emu = Emulator::start_strict().await;
    let acm = acm_client(&emu, ACCESS_KEY, REGION).await;
    let ca = Ca::new("Tag CA");
    let arn = import(&acm, &ca.leaf("t.example.com", &["t.example.com"]), None).await;
    acm.add_tags_to_certificate()
        .certificate_arn(&arn)
        .tags(Tag::builder().key("team").value("net").build().unwrap())
        .tags(Tag::builder().key("flag").build().unwrap())
        .send()
        .await
        .unwrap();
    acm.remove_tags_from_certificate()
        .certificate_arn(&arn)
        .tags(Tag::builder().key("flag").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = acm
        .list_tags_for_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, Option<&str>)> =
        tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("team", Some("net"))]);
    assert_rejected(
        acm.add_tags_to_certificate()
            .certificate_arn(&arn)
            .tags(Tag::builder().key("aws:reserved").build().unwrap())
            .send()
            .await,
        "InvalidTagException",
    );
    assert_rejected(
        acm.describe_certificate()
            .certificate_arn("arn:aws:s3:::some-bucket/object")
            .send()
            .await,
        "InvalidArnException",
    );
    let west = acm_client(&emu, ACCESS_KEY, "us-west-2").await;
    let message = assert_rejected(
        west.describe_certificate()
            .certificate_arn(&arn)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert_eq!(message, format!("Could not find certificate {arn}."));
    acm.delete_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_rejected(
        acm.get_certificate().certificate_arn(&arn).send().await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn endpoints_need_imported_certificates() {
    let emu = Emulator::start_strict().await;
    let ec2 = emu.client().await;
    let acm = acm_client(&emu, ACCESS_KEY, REGION).await;
    let ca = Ca::new("Endpoint CA");
    let server = import(
        &acm,
        &ca.leaf("vpn.example.com", &["vpn.example.com"]),
        Some(&ca.pem()),
    )
    .await;

    // The old made-up ARNs are refused by default.
    let message = assert_rejected(create_endpoint(&ec2).send().await, "InvalidParameterValue");
    assert_eq!(message, format!("Certificate {SERVER_CERT} does not exist"));
    let bare = import(&acm, &ca.leaf("server", &[]), None).await;
    let message = assert_rejected(
        create_endpoint(&ec2)
            .server_certificate_arn(&bare)
            .set_authentication_options(Some(vec![mutual(&server)]))
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_eq!(
        message,
        format!("Certificate {bare} does not have a domain")
    );

    let id = create_endpoint(&ec2)
        .server_certificate_arn(&server)
        .set_authentication_options(Some(vec![mutual(&server)]))
        .send()
        .await
        .unwrap()
        .client_vpn_endpoint_id()
        .unwrap()
        .to_owned();
    let detail = acm
        .describe_certificate()
        .certificate_arn(&server)
        .send()
        .await
        .unwrap();
    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    assert_eq!(
        detail.certificate().unwrap().in_use_by(),
        [format!(
            "arn:aws:ec2:{REGION}:{account}:client-vpn-endpoint/{id}"
        )]
    );
    assert_rejected(
        acm.delete_certificate()
            .certificate_arn(&server)
            .send()
            .await,
        "ResourceInUseException",
    );
    assert_rejected(
        ec2.modify_client_vpn_endpoint()
            .client_vpn_endpoint_id(&id)
            .server_certificate_arn(SERVER_CERT)
            .send()
            .await,
        "InvalidParameterValue",
    );
    let config = ec2
        .export_client_vpn_client_configuration()
        .client_vpn_endpoint_id(&id)
        .send()
        .await
        .unwrap();
    let text = config.client_configuration().unwrap();
    assert!(text.contains(&format!("<ca>\n{}</ca>", ca.pem())), "{text}");
    assert!(text.contains("verify-x509-name vpn.example.com name"));
}
