//! ACM through the real `aws-sdk-acm` (AWS JSON 1.1), and EC2 endpoints using its certificates.

use aws_sdk_acm::Client as Acm;
use aws_sdk_acm::operation::import_certificate::builders::ImportCertificateFluentBuilder;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{CertificateDetail, Filters, KeyAlgorithm, Tag};

use crate::certs::{Ca, Leaf};
use crate::common::*;

async fn acm_client(emu: &Emulator, access_key: &str, region: &str) -> Acm {
    Acm::new(&emu.sdk_config(access_key, region).await)
}

/// An emulator with AWS's certificate checks and an ACM client for the default account and region.
async fn start_acm() -> (Emulator, Acm) {
    let emu = Emulator::start_strict().await;
    let acm = acm_client(&emu, ACCESS_KEY, REGION).await;
    (emu, acm)
}

/// An ImportCertificate request for this certificate and private key (PEM).
fn import_request(acm: &Acm, cert: &str, key: &str) -> ImportCertificateFluentBuilder {
    acm.import_certificate()
        .certificate(Blob::new(cert.as_bytes()))
        .private_key(Blob::new(key.as_bytes()))
}

async fn import(acm: &Acm, leaf: &Leaf, chain: Option<&str>) -> String {
    import_request(acm, &leaf.cert, &leaf.key)
        .set_certificate_chain(chain.map(|c| Blob::new(c.as_bytes())))
        .send()
        .await
        .expect("import")
        .certificate_arn()
        .expect("arn")
        .to_owned()
}

async fn describe(acm: &Acm, arn: &str) -> CertificateDetail {
    let out = acm.describe_certificate().certificate_arn(arn).send().await;
    out.expect("describe")
        .certificate()
        .expect("detail")
        .clone()
}

/// An ACM tag, with or without a value.
fn acm_tag(key: &str, value: Option<&str>) -> Tag {
    let tag = Tag::builder().key(key).set_value(value.map(str::to_owned));
    tag.build().expect("tag key")
}

#[tokio::test]
async fn import_describe_get_and_reimport() {
    let (_, acm) = start_acm().await;
    let ca = Ca::new("SDK Test CA");
    let leaf = ca.leaf("vpn.example.com", &["vpn.example.com", "b.example.com"]);
    let arn = import(&acm, &leaf, Some(&ca.pem())).await;
    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    assert!(arn.starts_with(&format!("arn:aws:acm:{REGION}:{account}:certificate/")));

    let detail = describe(&acm, &arn).await;
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
    let reimport = import_request(&acm, &renewed.cert, &renewed.key).certificate_arn(&arn);
    let again = reimport.send().await.unwrap();
    assert_eq!(again.certificate_arn(), Some(arn.as_str()));
    let after = describe(&acm, &arn).await;
    assert_ne!(after.serial(), Some(serial.as_str()));

    // A mismatched key, and an EC certificate over an RSA one.
    let other = ca.leaf("x.example.com", &["x.example.com"]);
    let mismatched = import_request(&acm, &leaf.cert, &other.key);
    let message = assert_rejected(mismatched.send().await, "ValidationException");
    assert!(message.contains("does not match"), "{message}");
    let ec = ca.ec_leaf("vpn.example.com", &["vpn.example.com"]);
    let ec_over_rsa = import_request(&acm, &ec.cert, &ec.key).certificate_arn(&arn);
    assert_rejected(ec_over_rsa.send().await, "ValidationException");
}

#[tokio::test]
async fn list_paginates_with_default_key_filter() {
    let (_, acm) = start_acm().await;
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
    let paginator = acm.list_certificates().into_paginator().page_size(2);
    let listed: Vec<String> = collect_pages!(paginator.items())
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
    let (emu, acm) = start_acm().await;
    let ca = Ca::new("Tag CA");
    let arn = import(&acm, &ca.leaf("t.example.com", &["t.example.com"]), None).await;
    acm.add_tags_to_certificate()
        .certificate_arn(&arn)
        .tags(acm_tag("team", Some("net")))
        .tags(acm_tag("flag", None))
        .send()
        .await
        .unwrap();
    acm.remove_tags_from_certificate()
        .certificate_arn(&arn)
        .tags(acm_tag("flag", None))
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
            .tags(acm_tag("aws:reserved", None))
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
    let (emu, acm) = start_acm().await;
    let ec2 = emu.client().await;
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
        create_endpoint_authenticated_by(&ec2, vec![mutual_auth_with(&server)])
            .server_certificate_arn(&bare)
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert_eq!(
        message,
        format!("Certificate {bare} does not have a domain")
    );

    let id = created(
        create_endpoint_authenticated_by(&ec2, vec![mutual_auth_with(&server)])
            .server_certificate_arn(&server),
    )
    .await;
    let detail = describe(&acm, &server).await;
    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    assert_eq!(
        detail.in_use_by(),
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
