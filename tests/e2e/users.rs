//! End-to-end people: a ClientVpnUser gets a Secret whose `client.ovpn` a simulated client
//! connects with; revocation refuses that client and ends its session; deletions coalesce
//! into one list import; the record of revoked serials survives the objects and a restart;
//! renewal replaces the certificate in place; and the refusals a user can act on.

use aws_sdk_ec2::Client as Ec2;
use clientvpn_operator::api::{ClientVpnEndpoint, ClientVpnUser};
use clientvpn_operator::certificates::{CertificateMaterial, Signer, Validity, issue_client};
use clientvpn_operator::user::ovpn;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams};
use serde_json::{Value, json};
use x509_parser::prelude::FromDer;

use crate::harness::{
    ACCOUNT_KEY, Env, WAIT, cluster, emulator, example, wait_object, wait_object_gone, wait_until,
};
use crate::{applied, calls_of, find_condition, manifest};

const ENDPOINT: &str = "office-vpn";

pub(crate) fn users(env: &Env) -> Api<ClientVpnUser> {
    Api::namespaced(env.client.clone(), &env.namespace)
}

pub(crate) fn user_manifest(name: &str, spec: Value) -> String {
    let mut spec = spec;
    spec["endpointRef"] = json!({"name": ENDPOINT});
    json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnUser",
        "metadata": {"name": name},
        "spec": spec,
    })
    .to_string()
}

fn user_condition(user: &ClientVpnUser, type_: &str) -> Option<(String, String, String)> {
    find_condition(&user.status.as_ref()?.conditions, type_)
}

fn user_ready(user: &ClientVpnUser) -> bool {
    user_condition(user, "Ready").is_some_and(|c| c.0 == "True")
}

/// Wait until user `name` satisfies `check`; on timeout, panic with its status.
async fn wait_user(
    env: &Env,
    name: &str,
    what: &str,
    check: impl Fn(&ClientVpnUser) -> bool,
) -> ClientVpnUser {
    wait_object(&users(env), name, what, WAIT, check).await
}

pub(crate) async fn wait_user_gone(env: &Env, name: &str) {
    wait_object_gone(&users(env), name, WAIT).await
}

/// The managed example, available (its one subnet associated).
pub(crate) async fn available_endpoint(env: &Env) -> ClientVpnEndpoint {
    applied(env, &example("managed.yaml"));
    env.wait_for(ENDPOINT, "available", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.status.as_ref()?.code.as_deref())
            == Some("available")
    })
    .await
}

/// The user's Secret as text, by key.
async fn secret_text(env: &Env, name: &str, key: &str) -> String {
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.namespace);
    let secret = secrets.get(name).await.expect("the user's Secret");
    let value = secret
        .data
        .and_then(|d| d.get(key).cloned())
        .unwrap_or_else(|| panic!("Secret {name} has no {key}"));
    String::from_utf8(value.0).expect("text")
}

/// Connect a simulated client; the HTTP status and the emulator's answer.
fn connect(endpoint_id: &str, certificate: &str, key: &str) -> (u16, Value) {
    let body = json!({
        "clientVpnEndpointId": endpoint_id,
        "certificate": certificate,
        "privateKey": key,
    });
    emulator::control_answer(
        cluster().emulator.addr(),
        "POST",
        "/_emulator/connections",
        Some(body),
    )
}

async fn ec2(env: &Env) -> Ec2 {
    let url = format!("http://{}", env.emulator_address());
    Ec2::new(&emulator::sdk_config(&url, ACCOUNT_KEY).await)
}

/// Serials on the endpoint's CRL as AWS holds it, colon hex.
pub(crate) async fn crl_serials(env: &Env, endpoint_id: &str) -> Vec<String> {
    let exported = ec2(env)
        .await
        .export_client_vpn_client_certificate_revocation_list()
        .client_vpn_endpoint_id(endpoint_id)
        .send()
        .await
        .expect("ExportClientVpnClientCertificateRevocationList");
    let pem = exported.certificate_revocation_list().unwrap_or_default();
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("a PEM CRL");
    let (_, crl) =
        x509_parser::revocation_list::CertificateRevocationList::from_der(&block.contents)
            .expect("a CRL");
    crl.iter_revoked_certificates()
        .map(|r| x509_parser::utils::format_serial(r.raw_serial()))
        .collect()
}

/// Status of one connection, by ID.
async fn connection_status(env: &Env, endpoint_id: &str, connection_id: &str) -> Option<String> {
    let listed = ec2(env)
        .await
        .describe_client_vpn_connections()
        .client_vpn_endpoint_id(endpoint_id)
        .send()
        .await
        .expect("DescribeClientVpnConnections");
    listed
        .connections()
        .iter()
        .find(|c| c.connection_id() == Some(connection_id))
        .and_then(|c| c.status()?.code())
        .map(|code| code.as_str().to_string())
}

pub(crate) fn endpoint_id(obj: &ClientVpnEndpoint) -> String {
    obj.status
        .as_ref()
        .and_then(|s| s.client_vpn_endpoint_id.clone())
        .expect("endpoint ID")
}

fn serial(user: &ClientVpnUser) -> String {
    user.status
        .as_ref()
        .and_then(|s| s.serial.clone())
        .expect("serial in status")
}

#[tokio::test]
async fn a_user_connects_with_its_ovpn_and_revocation_refuses_it_and_ends_its_session() {
    let env = Env::start_with("users", &["--connections-interval", "1s"]).await;
    let endpoint = available_endpoint(&env).await;
    let id = endpoint_id(&endpoint);
    applied(&env, &user_manifest("alice", json!({})));
    let alice = wait_user(&env, "alice", "Ready", user_ready).await;
    let status = alice.status.clone().expect("status");
    assert_eq!(status.common_name.as_deref(), Some("alice"));
    assert_eq!(status.secret_name.as_deref(), Some("alice-vpn"));
    assert_eq!(status.revocable, Some(true));

    let labelled = env.kubectl(&[
        "get",
        "secret",
        "-l",
        "clientvpn.io/user=alice",
        "-o",
        "name",
    ]);
    assert_eq!(labelled.trim(), "secret/alice-vpn");

    let profile_text = secret_text(&env, "alice-vpn", "client.ovpn").await;
    let profile = ovpn::parse(&profile_text);
    let dns = endpoint
        .status
        .as_ref()
        .and_then(|s| s.dns_name.clone())
        .expect("DNS name");
    assert_eq!(
        profile.remote,
        Some((dns.trim_start_matches("*.").to_string(), 443))
    );
    assert_eq!(profile.proto.as_deref(), Some("udp"));
    assert!(
        profile
            .ca
            .is_some_and(|ca| ca.contains("BEGIN CERTIFICATE"))
    );
    let (cert, key) = (profile.cert.expect("<cert>"), profile.key.expect("<key>"));
    assert_eq!(
        cert.trim(),
        secret_text(&env, "alice-vpn", "tls.crt").await.trim()
    );
    assert_eq!(
        key.trim(),
        secret_text(&env, "alice-vpn", "tls.key").await.trim()
    );

    let (code, session) = connect(&id, &cert, &key);
    assert_eq!(code, 200, "{session}");
    assert_eq!(session["commonName"], "alice");
    let connection_id = session["connectionId"].as_str().expect("ID").to_string();
    wait_user(&env, "alice", "one active connection", |u| {
        u.status
            .as_ref()
            .and_then(|s| s.connections.as_ref())
            .is_some_and(|c| c.active == 1 && c.client_ips.len() == 1)
    })
    .await;

    let imports_before = calls_of(&env, "ImportClientVpnClientCertificateRevocationList");
    let patch = json!({"spec": {"revoked": true}}).to_string();
    env.kubectl(&[
        "patch", "cvpnuser", "alice", "--type", "merge", "-p", &patch,
    ]);
    let revoked = wait_user(&env, "alice", "revoked", |u| {
        u.status.as_ref().is_some_and(|s| s.revoked)
    })
    .await;
    let revocation = revoked
        .status
        .and_then(|s| s.revocation)
        .expect("revocation status");
    assert_eq!(revocation.serial, serial(&alice));
    assert!(revocation.requested_at.is_some());
    assert!(revocation.crl_imported_at.is_some());
    assert!(revocation.crl_active_at.is_some());
    assert_eq!(
        calls_of(&env, "ImportClientVpnClientCertificateRevocationList") - imports_before,
        1
    );
    assert_eq!(crl_serials(&env, &id).await, [serial(&alice)]);
    let (code, refused) = connect(&id, &cert, &key);
    assert_eq!(
        (code, refused["reason"].as_str()),
        (403, Some("certificate-revoked"))
    );
    let ended = connection_status(&env, &id, &connection_id).await;
    assert!(
        matches!(ended.as_deref(), Some("terminating" | "terminated")),
        "{ended:?}"
    );
    let listed = env.kubectl(&["get", "cvpnuser", "alice"]);
    assert!(
        listed.contains("REVOKED") && listed.contains("true"),
        "{listed}"
    );
}

#[tokio::test]
async fn deletions_coalesce_into_one_list_and_revoked_serials_survive_the_objects_and_a_restart() {
    let mut env = Env::start_with("user-record", &["--revocation-batch-window", "2s"]).await;
    let endpoint = available_endpoint(&env).await;
    let id = endpoint_id(&endpoint);
    let names = ["ann", "ben", "cat", "dan"];
    for name in names {
        applied(&env, &user_manifest(name, json!({})));
    }
    let mut serials = Vec::new();
    for name in names {
        serials.push(serial(&wait_user(&env, name, "Ready", user_ready).await));
    }
    // Three leave while the operator is down: on its return they go into one import.
    env.kill_operator();
    let imports_before = calls_of(&env, "ImportClientVpnClientCertificateRevocationList");
    for name in &names[..3] {
        users(&env)
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    env.start_operator();
    for name in &names[..3] {
        wait_user_gone(&env, name).await;
    }
    assert_eq!(
        calls_of(&env, "ImportClientVpnClientCertificateRevocationList") - imports_before,
        1,
        "one import for three revocations"
    );
    let mut want: Vec<String> = serials[..3].to_vec();
    want.sort();
    let mut listed = crl_serials(&env, &id).await;
    listed.sort();
    assert_eq!(listed, want);
    // The revoked objects are gone; another restart; the next list still holds them.
    env.kill_operator();
    env.start_operator();
    let patch = json!({"spec": {"revoked": true}}).to_string();
    env.kubectl(&["patch", "cvpnuser", "dan", "--type", "merge", "-p", &patch]);
    wait_user(&env, "dan", "revoked", |u| {
        u.status.as_ref().is_some_and(|s| s.revoked)
    })
    .await;
    let mut listed = crl_serials(&env, &id).await;
    listed.sort();
    let mut want = serials.clone();
    want.sort();
    assert_eq!(listed, want);
    let endpoint = env
        .wait_for(ENDPOINT, "revocation list in status", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.revocation_list.as_ref())
                .is_some_and(|l| l.entries == 4)
        })
        .await;
    let list = endpoint
        .status
        .and_then(|s| s.revocation_list)
        .expect("list");
    assert!(list.next_update.is_some() && list.crl_number >= 2);
}

#[tokio::test]
async fn renewal_replaces_the_certificate_in_place_and_the_old_one_is_refused_after_the_grace_period()
 {
    let env = Env::start_with(
        "user-renew",
        &[
            "--superseded-revocation-delay",
            "5s",
            "--revocation-batch-window",
            "200ms",
        ],
    )
    .await;
    let endpoint = available_endpoint(&env).await;
    let id = endpoint_id(&endpoint);
    // Renewed 20 s after each issue.
    let spec = json!({"validity": "300s", "renewBefore": "280s"});
    applied(&env, &user_manifest("eve", spec));
    let first = wait_user(&env, "eve", "Ready", user_ready).await;
    let old_serial = serial(&first);
    let old = (
        secret_text(&env, "eve-vpn", "tls.crt").await,
        secret_text(&env, "eve-vpn", "tls.key").await,
    );
    let renewed = wait_user(&env, "eve", "a renewed certificate", |u| {
        user_ready(u) && u.status.as_ref().and_then(|s| s.serial.as_deref()) != Some(&old_serial)
    })
    .await;
    let new_cert = secret_text(&env, "eve-vpn", "tls.crt").await;
    let new_key = secret_text(&env, "eve-vpn", "tls.key").await;
    assert_ne!(new_cert, old.0, "the Secret is updated in place");
    let profile = ovpn::parse(&secret_text(&env, "eve-vpn", "client.ovpn").await);
    assert_eq!(
        profile.cert.as_deref().map(str::trim),
        Some(new_cert.trim())
    );
    let (code, answer) = connect(&id, &new_cert, &new_key);
    assert_eq!(code, 200, "the new certificate connects: {answer}");
    wait_until("the superseded certificate refused", || {
        let (code, answer) = connect(&id, &old.0, &old.1);
        code == 403 && answer["reason"] == "certificate-revoked"
    })
    .await;
    assert!(crl_serials(&env, &id).await.contains(&old_serial));
    assert!(!crl_serials(&env, &id).await.contains(&serial(&renewed)));
    let events = env.events("eve");
    assert!(events.contains("CertificateRenewed"), "{events}");
}

#[tokio::test]
async fn refusals_name_what_to_fix_and_users_report_their_endpoint_gone() {
    let env = Env::start("user-refusals").await;
    // An endpoint without certificate authentication.
    let directory = manifest("directory-vpn", |spec| {
        spec["authenticationOptions"] = json!([{
            "type": "directory-service-authentication",
            "activeDirectory": {"directoryId": "d-1234567890"}
        }]);
    });
    applied(&env, &directory);
    let mut bob = serde_json::from_str::<Value>(&user_manifest("bob", json!({}))).expect("json");
    bob["spec"]["endpointRef"]["name"] = json!("directory-vpn");
    applied(&env, &bob.to_string());
    let bob = wait_user(&env, "bob", "Stalled", |u| {
        user_condition(u, "Stalled").is_some_and(|c| c.0 == "True")
    })
    .await;
    let stalled = user_condition(&bob, "Stalled").expect("Stalled");
    assert_eq!(stalled.1, "EndpointNotMutualAuthentication");
    assert!(stalled.2.contains("mutualAuthentication"), "{}", stalled.2);

    // The second object with a common name is refused; the first keeps it.
    available_endpoint(&env).await;
    applied(&env, &user_manifest("carol", json!({})));
    wait_user(&env, "carol", "Ready", user_ready).await;
    applied(
        &env,
        &user_manifest("carol-again", json!({"commonName": "carol"})),
    );
    let again = wait_user(&env, "carol-again", "Stalled", |u| {
        user_condition(u, "Stalled").is_some()
    })
    .await;
    let stalled = user_condition(&again, "Stalled").expect("Stalled");
    assert_eq!(stalled.1, "CommonNameInUse");
    assert!(stalled.2.contains("carol"), "{}", stalled.2);

    // A certificate brought from another CA is refused before anything is written.
    let foreign = foreign_client_certificate("dave");
    crate::certificates::put_tls_secret(&env, "dave-cert", &foreign.0, &foreign.1).await;
    let spec = json!({"certificateSecretRef": {"name": "dave-cert"}});
    applied(&env, &user_manifest("dave", spec));
    let dave = wait_user(&env, "dave", "Stalled", |u| {
        user_condition(u, "Stalled").is_some()
    })
    .await;
    let stalled = user_condition(&dave, "Stalled").expect("Stalled");
    assert_eq!(stalled.1, "InvalidCertificate");
    assert!(
        stalled.2.contains("not signed by the endpoint's client CA"),
        "{}",
        stalled.2
    );

    // Delete the endpoint: its users say so, and can then be deleted.
    env.kubectl(&["delete", "cvpn", ENDPOINT, "--wait=false"]);
    let carol = wait_user(&env, "carol", "the endpoint reported gone", |u| {
        user_condition(u, "Ready").is_some_and(|c| {
            c.0 == "False" && (c.1 == "EndpointNotFound" || c.1 == "EndpointDeleting")
        })
    })
    .await;
    assert!(
        user_condition(&carol, "Ready")
            .expect("Ready")
            .2
            .contains(ENDPOINT)
    );
    env.wait_gone(ENDPOINT).await;
    wait_user(&env, "carol", "EndpointNotFound", |u| {
        user_condition(u, "Ready").is_some_and(|c| c.1 == "EndpointNotFound")
    })
    .await;
    env.kubectl(&["delete", "cvpnuser", "carol", "carol-again", "dave", "bob"]);
    for name in ["carol", "carol-again", "dave", "bob"] {
        wait_user_gone(&env, name).await;
    }
}

#[tokio::test]
async fn a_brought_certificate_from_a_ca_the_operator_cannot_sign_for_is_reported_not_revocable() {
    let env = Env::start("user-byo").await;
    // The endpoint's client root is an ACM ARN (the test CA): the operator holds no CA key.
    let spec = manifest(ENDPOINT, |spec| {
        spec["targetNetworks"] = json!([{"subnetId": "subnet-0123456789abcdef1"}]);
    });
    applied(&env, &spec);
    let endpoint = env
        .wait_for(ENDPOINT, "available", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.status.as_ref()?.code.as_deref())
                == Some("available")
        })
        .await;
    let client = test_ca_client_certificate("frank");
    crate::certificates::put_tls_secret(&env, "frank-cert", &client.0, &client.1).await;
    let spec = json!({"certificateSecretRef": {"name": "frank-cert"}});
    applied(&env, &user_manifest("frank", spec));
    let frank = wait_user(&env, "frank", "Ready", user_ready).await;
    let status = frank.status.clone().expect("status");
    assert_eq!(status.revocable, Some(false));
    assert_eq!(status.source.as_deref(), Some("secret"));
    let ready = user_condition(&frank, "Ready").expect("Ready");
    assert!(ready.2.contains("cannot revoke"), "{}", ready.2);
    let profile = ovpn::parse(&secret_text(&env, "frank-vpn", "client.ovpn").await);
    let (code, answer) = connect(
        &endpoint_id(&endpoint),
        profile.cert.as_deref().expect("cert"),
        profile.key.as_deref().expect("key"),
    );
    assert_eq!(code, 200, "{answer}");
    // The emulator's counters are shared by every test of this binary: count from here.
    let imports_before = calls_of(&env, "ImportClientVpnClientCertificateRevocationList");
    let patch = json!({"spec": {"revoked": true}}).to_string();
    env.kubectl(&[
        "patch", "cvpnuser", "frank", "--type", "merge", "-p", &patch,
    ]);
    let frank = wait_user(&env, "frank", "NotRevocable", |u| {
        user_condition(u, "Stalled").is_some_and(|c| c.1 == "NotRevocable")
    })
    .await;
    assert!(!frank.status.expect("status").revoked);
    assert_eq!(
        calls_of(&env, "ImportClientVpnClientCertificateRevocationList") - imports_before,
        0
    );
}

/// A client certificate from the test CA (the client root the endpoint's ARN names).
fn test_ca_client_certificate(common_name: &str) -> (String, String) {
    let ca = &cluster().certificates.ca;
    let ca = CertificateMaterial::from_secret_data(
        ca.certificate_pem.as_bytes(),
        ca.private_key_pem.as_bytes(),
        None,
    )
    .expect("CA");
    client_from(&ca, common_name)
}

/// A client certificate from a CA nobody trusts.
fn foreign_client_certificate(common_name: &str) -> (String, String) {
    let validity = Validity::starting_at(unix_now() - 60, 86_400);
    let ca = clientvpn_operator::certificates::issue_ca("foreign CA", validity).expect("CA");
    client_from(&ca, common_name)
}

fn client_from(
    ca: &impl clientvpn_operator::certificates::CaSource,
    common_name: &str,
) -> (String, String) {
    let validity = Validity::starting_at(unix_now() - 60, 86_400);
    let signer = Signer::load(ca).expect("CA key");
    let issued = issue_client(&signer, common_name, validity).expect("client certificate");
    (issued.certificate_pem, issued.private_key_pem)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

#[tokio::test]
async fn the_revocation_list_is_re_signed_and_re_imported_before_its_next_update() {
    // Lists valid for 12 s: re-signed once 2 s remain.
    let env = Env::start_with("user-crl", &["--crl-validity", "12s"]).await;
    let endpoint = available_endpoint(&env).await;
    let id = endpoint_id(&endpoint);
    applied(&env, &user_manifest("gil", json!({"revoked": true})));
    applied(&env, &user_manifest("hal", json!({})));
    let hal = wait_user(&env, "hal", "Ready", user_ready).await;
    let patch = json!({"spec": {"revoked": true}}).to_string();
    env.kubectl(&["patch", "cvpnuser", "hal", "--type", "merge", "-p", &patch]);
    let first = env
        .wait_for(ENDPOINT, "a list with hal's serial", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.revocation_list.as_ref())
                .is_some_and(|l| l.entries == 1)
        })
        .await
        .status
        .and_then(|s| s.revocation_list)
        .expect("list");
    let renewed = env
        .wait_for(ENDPOINT, "the list re-signed", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.revocation_list.as_ref())
                .is_some_and(|l| l.crl_number > first.crl_number)
        })
        .await
        .status
        .and_then(|s| s.revocation_list)
        .expect("list");
    assert_eq!(renewed.entries, 1);
    assert!(
        renewed.next_update > first.next_update,
        "{renewed:?} after {first:?}"
    );
    assert_eq!(crl_serials(&env, &id).await, [serial(&hal)]);
    // gil never had a certificate: nothing to revoke, and it says so.
    let gil = wait_user(&env, "gil", "reported", |u| {
        user_condition(u, "Ready").is_some_and(|c| c.1 == "Revoked")
    })
    .await;
    assert!(gil.status.and_then(|s| s.serial).is_none());
}
