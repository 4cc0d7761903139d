//! End-to-end certificates: the managed CA from nothing to Ready, a Secret refused before any
//! AWS call, one import despite a lost status write, and deletion (or Retain) of the imports.
//! The emulator checks certificate ARNs against its ACM, as AWS does (in every e2e test).

use aws_sdk_acm::Client as Acm;
use clientvpn_operator::api::{CertificateOrigin, CertificateRole, ClientVpnEndpoint};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::harness::{ACCOUNT_KEY, Env, emulator, example, issue_test_server, wait_until};
use crate::{applied, calls_of, condition, has_endpoint_id, manifest};

/// The tag the operator puts on everything it makes in AWS for one object.
const UID_TAG: &str = "clientvpn.io/uid";

/// Our own ACM client, in the operator's account.
pub async fn acm(env: &Env) -> Acm {
    let url = format!("http://{}", env.emulator_address());
    Acm::new(&emulator::sdk_config(&url, ACCOUNT_KEY).await)
}

/// ARN and serial of every ACM certificate tagged with the object's UID.
pub async fn imports_of(acm: &Acm, uid: &str) -> Vec<(String, String)> {
    let listed = acm
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates");
    let mut found = Vec::new();
    for summary in listed.certificate_summary_list() {
        let arn = summary.certificate_arn().expect("ARN").to_string();
        let tags = acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .expect("ListTagsForCertificate");
        let ours = tags
            .tags()
            .iter()
            .any(|t| t.key() == UID_TAG && t.value() == Some(uid));
        if ours {
            let described = acm
                .describe_certificate()
                .certificate_arn(&arn)
                .send()
                .await
                .expect("DescribeCertificate");
            let serial = described
                .certificate()
                .and_then(|c| c.serial())
                .unwrap_or_default()
                .to_string();
            found.push((arn, serial));
        }
    }
    found
}

/// The spec edit for certificates from the managed CA (same CA for client certificates).
pub fn with_managed(spec: &mut Value) {
    with_server(spec, json!({"managed": {}}));
}

/// The spec edit for a server certificate from `source`, client root from the same CA.
pub fn with_server(spec: &mut Value, source: Value) {
    let spec = spec.as_object_mut().expect("spec object");
    spec.remove("serverCertificateArn");
    spec.insert("serverCertificate".into(), source);
    spec.insert(
        "authenticationOptions".into(),
        json!([{"type": "certificate-authentication", "mutualAuthentication": {}}]),
    );
}

/// The server certificate's status entry.
fn server_status(obj: &ClientVpnEndpoint) -> Option<(String, String)> {
    let status = obj.status.as_ref()?;
    let server = status
        .certificates
        .iter()
        .find(|c| c.role == CertificateRole::Server)?;
    Some((server.arn.clone()?, server.serial.clone()?))
}

fn is_ready(obj: &ClientVpnEndpoint) -> bool {
    condition(obj, "Ready").is_some_and(|c| c.0 == "True")
}

/// Write a `kubernetes.io/tls` Secret (created or replaced).
pub async fn put_tls_secret(env: &Env, name: &str, certificate_pem: &str, key_pem: &str) {
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.namespace);
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": certificate_pem, "tls.key": key_pem},
    });
    secrets
        .patch(
            name,
            &PatchParams::apply("e2e-test").force(),
            &Patch::Apply(secret),
        )
        .await
        .expect("apply Secret");
}

/// A server certificate Client VPN accepts, its CA after it in `tls.crt`.
fn valid_server_certificate() -> (String, String) {
    let (server, ca) = issue_test_server();
    (
        format!("{}{}", server.certificate_pem, ca.certificate_pem),
        server.private_key_pem,
    )
}

/// A certificate with an EC P-256 key: ACM takes it, Client VPN does not.
fn ec_server_certificate() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
    let mut params =
        rcgen::CertificateParams::new(vec!["vpn.e2e.test".to_string()]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "vpn.e2e.test");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let certificate = params.self_signed(&key).expect("self-signed");
    (certificate.pem(), key.serialize_pem())
}

#[tokio::test]
async fn the_managed_example_goes_from_nothing_to_ready_and_delete_removes_endpoint_then_certificate()
 {
    let env = Env::start("managed").await;
    let acm = acm(&env).await;
    let imports_before = calls_of(&env, "ImportCertificate");
    applied(&env, &example("managed.yaml"));
    let obj = env
        .wait_for("office-vpn", "Ready with managed certificates", |o| {
            is_ready(o) && server_status(o).is_some()
        })
        .await;
    let uid = obj.uid().expect("uid");
    let status = obj.status.clone().expect("status");
    let roles: Vec<(CertificateRole, CertificateOrigin)> = status
        .certificates
        .iter()
        .map(|c| (c.role, c.source))
        .collect();
    assert_eq!(
        roles,
        [
            (CertificateRole::Server, CertificateOrigin::Managed),
            (CertificateRole::ClientRoot, CertificateOrigin::SameAsServer)
        ]
    );
    let (arn, serial) = server_status(&obj).expect("server certificate");
    assert_eq!(imports_of(&acm, &uid).await, [(arn.clone(), serial)]);
    assert_eq!(calls_of(&env, "ImportCertificate") - imports_before, 1);
    let endpoints = env.aws_endpoints_of(&uid);
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(
        endpoints[0]["serverCertificateArn"].as_str(),
        Some(arn.as_str()),
        "{:?}",
        endpoints[0]
    );
    for secret in ["office-vpn-ca", "office-vpn-server"] {
        let owner = env.kubectl(&[
            "get",
            "secret",
            secret,
            "-o",
            "jsonpath={.type} {.metadata.ownerReferences[0].name}",
        ]);
        assert_eq!(owner, "kubernetes.io/tls office-vpn", "{secret}");
    }
    let text = serde_json::to_string(&status).expect("json");
    assert!(!text.contains("PRIVATE KEY"), "no key material in status");

    env.kubectl(&["delete", "cvpn", "office-vpn", "--wait=false"]);
    env.wait_gone("office-vpn").await;
    assert!(
        env.aws_endpoints_of(&uid)
            .iter()
            .all(|e| e["status"] == "deleted"),
        "the endpoint is gone before its certificate"
    );
    assert_eq!(imports_of(&acm, &uid).await, []);
}

#[tokio::test]
async fn an_invalid_certificate_secret_is_refused_before_any_aws_call_until_it_is_fixed() {
    let env = Env::start("badcert").await;
    let (certificate, key) = ec_server_certificate();
    put_tls_secret(&env, "vpn-tls", &certificate, &key).await;
    let before = env.calls();
    applied(
        &env,
        &manifest("vpn", |s| {
            with_server(s, json!({"secretRef": {"name": "vpn-tls"}}))
        }),
    );
    let obj = env
        .wait_for("vpn", "Stalled", |o| {
            condition(o, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let (_, reason, message) = condition(&obj, "Stalled").expect("Stalled");
    assert_eq!(reason, "InvalidCertificate");
    assert!(
        message.contains("Secret vpn-tls") && message.contains("EC-prime256v1"),
        "{message}"
    );
    wait_until("the Warning event", || {
        env.events("vpn").contains("Warning InvalidCertificate")
    })
    .await;
    assert_eq!(
        env.calls(),
        before,
        "no AWS call of any kind for a refused certificate"
    );

    let (certificate, key) = valid_server_certificate();
    put_tls_secret(&env, "vpn-tls", &certificate, &key).await;
    let obj = env
        .wait_for(
            "vpn",
            "an endpoint once the Secret is fixed",
            has_endpoint_id,
        )
        .await;
    assert!(condition(&obj, "Stalled").is_none(), "{:?}", obj.status);
    let acm = acm(&env).await;
    assert_eq!(imports_of(&acm, &obj.uid().expect("uid")).await.len(), 1);
}

#[tokio::test]
async fn a_lost_status_write_after_the_import_and_a_crash_still_leave_exactly_one_certificate() {
    let mut env = Env::start("onceonly").await;
    // Create fails until told otherwise, so the import is done but never recorded in status.
    env.emulator_call(
        "POST",
        "/_emulator/faults/fail-next",
        Some(json!({"action": "CreateClientVpnEndpoint", "count": 1000, "code": "InternalError", "message": "injected"})),
    );
    let imports_before = calls_of(&env, "ImportCertificate");
    let creates_before = calls_of(&env, "CreateClientVpnEndpoint");
    applied(&env, &manifest("vpn", with_managed));
    wait_until("three failed creates", || {
        calls_of(&env, "CreateClientVpnEndpoint") - creates_before >= 3
    })
    .await;
    let obj = env.api().get("vpn").await.expect("object");
    assert!(
        obj.status
            .as_ref()
            .is_none_or(|s| s.certificates.is_empty()),
        "the ARN was not recorded: {:?}",
        obj.status
    );
    env.kill_operator();
    env.emulator_call("DELETE", "/_emulator/faults", None);
    env.start_operator();
    let obj = env
        .wait_for("vpn", "endpoint after restart", |o| {
            has_endpoint_id(o) && server_status(o).is_some()
        })
        .await;
    assert_eq!(
        calls_of(&env, "ImportCertificate") - imports_before,
        1,
        "found its own import by tag every time"
    );
    let acm = acm(&env).await;
    let imports = imports_of(&acm, &obj.uid().expect("uid")).await;
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert_eq!(Some(&imports[0]), server_status(&obj).as_ref());
}

#[tokio::test]
async fn retain_keeps_the_endpoint_and_the_imported_certificate() {
    let env = Env::start("retaincert").await;
    applied(
        &env,
        &manifest("vpn", |s| {
            with_managed(s);
            s["deletionPolicy"] = json!("Retain");
        }),
    );
    let obj = env
        .wait_for("vpn", "endpoint", |o| {
            has_endpoint_id(o) && server_status(o).is_some()
        })
        .await;
    let uid = obj.uid().expect("uid");
    env.kubectl(&["delete", "cvpn", "vpn", "--wait=false"]);
    env.wait_gone("vpn").await;
    let acm = acm(&env).await;
    assert_eq!(
        imports_of(&acm, &uid).await,
        [server_status(&obj).expect("server")]
    );
    let endpoints = env.aws_endpoints_of(&uid);
    assert_eq!(endpoints.len(), 1);
    assert_ne!(endpoints[0]["status"], "deleted");
}
