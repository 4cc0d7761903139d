//! The managed-CA example: apply → endpoint ID with the operator issuing its CA and server
//! certificate and importing into ACM first, next to a floor that does the same work with bare
//! clients (watch event, finalizer patch, RSA-2048 key generation and signing for the CA and the
//! server certificate with the operator's library, two ACM imports, Create, status patch).

use std::time::{Duration, Instant};

use aws_sdk_acm::primitives::Blob;
use aws_sdk_ec2::types::{
    CertificateAuthenticationRequest, ClientVpnAuthenticationRequest, ClientVpnAuthenticationType,
    ConnectionLogOptions,
};
use clientvpn_operator::api::{CertificateSource, ClientVpnEndpoint, FINALIZER};
use clientvpn_operator::certificates::{CertificateMaterial, Validity, issue_ca, issue_server};
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;

use crate::emulator;
use crate::fleet::{self, IdWatch};

/// Namespace of the floor's managed-CA objects (no operator watches it).
const FLOOR_NAMESPACE: &str = "bench-managed-floor";
const DAY: i64 = 86_400;

/// The benchmark manifest with the managed-CA example's certificates: the operator's CA, and
/// the same CA for client certificates.
pub fn manifest(name: &str) -> ClientVpnEndpoint {
    let mut obj = fleet::manifest(name);
    obj.spec.server_certificate_arn = None;
    obj.spec.server_certificate = Some(CertificateSource {
        secret_ref: None,
        managed: Some(Default::default()),
    });
    for option in &mut obj.spec.authentication_options {
        if let Some(mutual) = option.mutual_authentication.as_mut() {
            mutual.client_root_certificate_chain_arn = None;
        }
    }
    obj
}

/// `samples` sequential apply → ID latencies with the operator watching `api`'s namespace.
pub async fn latency(api: &Api<ClientVpnEndpoint>, samples: usize) -> Vec<Duration> {
    let mut ids = IdWatch::start(api.clone()).await;
    let mut latency = Vec::new();
    for i in 0..samples {
        let name = format!("managed-{i:03}");
        let started = Instant::now();
        api.create(&PostParams::default(), &manifest(&name))
            .await
            .expect("create a managed-CA object");
        if let Some(seen) = ids.wait_for(&name, Duration::from_secs(120)).await {
            latency.push(seen - started);
        }
    }
    latency
}

/// `samples` floor samples with bare clients, in their own namespace and account.
pub async fn floor(client: &kube::Client, emulator_url: &str, samples: usize) -> Vec<Duration> {
    fleet::create_namespace(client, FLOOR_NAMESPACE).await;
    let api: Api<ClientVpnEndpoint> = Api::namespaced(client.clone(), FLOOR_NAMESPACE);
    let mut events = fleet::listed_watch(api.clone()).await;
    let sdk = emulator::sdk_config(emulator_url, "AKIDBENCHMANAGED").await;
    let (ec2, acm) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_acm::Client::new(&sdk),
    );
    let mut floor = Vec::new();
    for i in 0..samples {
        let name = format!("floor-managed-{i:03}");
        let started = Instant::now();
        api.create(&PostParams::default(), &manifest(&name))
            .await
            .expect("create a floor object");
        let obj = loop {
            match events.next().await.expect("the floor watch goes on") {
                Ok(watcher::Event::Apply(obj)) if obj.name_any() == name => break obj,
                Ok(_) => {}
                Err(e) => eprintln!("floor watch error (retrying): {e}"),
            }
        };
        let finalizer = json!({
            "metadata": {"resourceVersion": obj.resource_version(), "finalizers": [FINALIZER]}
        });
        api.patch(&name, &PatchParams::default(), &Patch::Merge(finalizer))
            .await
            .expect("floor finalizer patch");
        let (ca, server) = issue(&name);
        let mut arns = Vec::new();
        for (certificate, key, chain) in [
            (&ca.certificate_pem, &ca.private_key_pem, None),
            (
                &server.certificate_pem,
                &server.private_key_pem,
                Some(&ca.certificate_pem),
            ),
        ] {
            let imported = acm
                .import_certificate()
                .certificate(Blob::new(certificate.as_bytes()))
                .private_key(Blob::new(key.as_bytes()))
                .set_certificate_chain(chain.map(|c| Blob::new(c.as_bytes())))
                .send()
                .await
                .expect("floor ImportCertificate");
            arns.push(imported.certificate_arn().expect("ARN").to_string());
        }
        let created = ec2
            .create_client_vpn_endpoint()
            .client_cidr_block("10.100.0.0/22")
            .server_certificate_arn(&arns[1])
            .authentication_options(
                ClientVpnAuthenticationRequest::builder()
                    .r#type(ClientVpnAuthenticationType::CertificateAuthentication)
                    .mutual_authentication(
                        CertificateAuthenticationRequest::builder()
                            .client_root_certificate_chain_arn(&arns[0])
                            .build(),
                    )
                    .build(),
            )
            .connection_log_options(ConnectionLogOptions::builder().enabled(false).build())
            .client_token(obj.uid().expect("uid"))
            .send()
            .await
            .expect("floor CreateClientVpnEndpoint");
        let id = created.client_vpn_endpoint_id().expect("endpoint id");
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"clientVpnEndpointId": id}})),
        )
        .await
        .expect("floor status patch");
        floor.push(started.elapsed());
    }
    floor
}

/// A CA and a server certificate signed by it, as the operator issues them.
fn issue(
    name: &str,
) -> (
    clientvpn_operator::certificates::Issued,
    clientvpn_operator::certificates::Issued,
) {
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    let ca = issue_ca(
        &format!("{name} CA"),
        Validity::starting_at(now, 3650 * DAY),
    )
    .expect("issue the CA");
    let ca_material = CertificateMaterial::from_secret_data(
        ca.certificate_pem.as_bytes(),
        ca.private_key_pem.as_bytes(),
        None,
    )
    .expect("read the CA");
    let common_name = format!("{name}.{FLOOR_NAMESPACE}.clientvpn.internal");
    let server = issue_server(
        &ca_material,
        &common_name,
        std::slice::from_ref(&common_name),
        Validity::starting_at(now, 365 * DAY),
    )
    .expect("issue the server certificate");
    (ca, server)
}
