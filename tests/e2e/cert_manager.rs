//! End-to-end with the real cert-manager controller: its Secret is imported into ACM, and a
//! forced renewal is re-imported into the same ARN without touching the endpoint, while the
//! exported client configuration follows.

use std::sync::OnceLock;

use kube::ResourceExt;
use serde_json::json;

use crate::certificates::{acm, imports_of, with_server};
use crate::harness::{Env, cluster, wait_until};
use crate::support_cert_manager::{self as launcher, CertManager};
use crate::{applied, calls_of, condition, manifest};

const SUBNET: &str = "subnet-0123456789abcdef1";

/// The controller, started once for this test binary (stopped when the process exits).
fn cert_manager() -> &'static CertManager {
    static CM: OnceLock<CertManager> = OnceLock::new();
    CM.get_or_init(|| CertManager::start(&cluster().cp))
}

fn server_certificate(
    obj: &clientvpn_operator::api::ClientVpnEndpoint,
) -> Option<(String, String)> {
    let server = obj.status.as_ref()?.certificates.first()?;
    Some((server.arn.clone()?, server.serial.clone()?))
}

#[tokio::test]
async fn a_cert_manager_certificate_is_imported_and_its_renewal_reimported_into_the_same_arn() {
    let env = Env::start("certmanager").await;
    tokio::task::spawn_blocking(cert_manager)
        .await
        .expect("start cert-manager");
    let out = env.apply(launcher::CA_AND_SERVER);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.kubectl(&[
        "wait",
        "certificate.cert-manager.io/server",
        "--for=condition=Ready",
        "--timeout=180s",
    ]);
    applied(
        &env,
        &manifest("vpn", |s| {
            with_server(s, json!({"secretRef": {"name": "server-tls"}}));
            s["targetNetworks"] = json!([{"subnetId": SUBNET}]);
            s["clientConfiguration"] = json!({"configMapName": "vpn-client"});
        }),
    );
    let ready = |o: &clientvpn_operator::api::ClientVpnEndpoint| {
        condition(o, "Ready").is_some_and(|c| c.0 == "True") && server_certificate(o).is_some()
    };
    let obj = env
        .wait_for("vpn", "Ready with the Secret's certificate", ready)
        .await;
    let (arn, serial) = server_certificate(&obj).expect("server certificate");
    let endpoint_id = obj
        .status
        .as_ref()
        .and_then(|s| s.client_vpn_endpoint_id.clone());
    let acm = acm(&env).await;
    let uid = obj.uid().expect("uid");
    assert_eq!(
        imports_of(&acm, &uid).await,
        [(arn.clone(), serial.clone())]
    );
    let fingerprint = || {
        env.kubectl(&[
            "get",
            "configmap",
            "vpn-client",
            "-o",
            r"jsonpath={.metadata.annotations.clientvpn\.io/configuration-fingerprint}",
        ])
    };
    wait_until("the client configuration", || {
        env.kubectl_raw(&["get", "configmap", "vpn-client"], None)
            .status
            .success()
    })
    .await;
    let exported = fingerprint();
    let creates = calls_of(&env, "CreateClientVpnEndpoint");
    let imports = calls_of(&env, "ImportCertificate");
    let modifies = calls_of(&env, "ModifyClientVpnEndpoint");

    launcher::renew(&cluster().cp, &env.namespace, "server");
    let renewed = env
        .wait_for("vpn", "the renewed certificate in status", |o| {
            server_certificate(o).is_some_and(|(_, s)| s != serial)
        })
        .await;
    let (renewed_arn, renewed_serial) = server_certificate(&renewed).expect("server");
    assert_eq!(renewed_arn, arn, "re-imported into the same ARN");
    assert_eq!(
        renewed
            .status
            .as_ref()
            .and_then(|s| s.client_vpn_endpoint_id.clone()),
        endpoint_id,
        "the endpoint is untouched"
    );
    assert_eq!(imports_of(&acm, &uid).await, [(arn, renewed_serial)]);
    assert_eq!(calls_of(&env, "ImportCertificate") - imports, 1);
    assert_eq!(calls_of(&env, "CreateClientVpnEndpoint"), creates);
    assert_eq!(calls_of(&env, "ModifyClientVpnEndpoint"), modifies);
    wait_until("the exported configuration to follow the renewal", || {
        fingerprint() != exported
    })
    .await;
}
