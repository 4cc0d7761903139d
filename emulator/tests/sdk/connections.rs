//! Client connections (Describe/Terminate), with simulated clients connecting through
//! `POST /_emulator/connections`, and the endpoint harness they share with the client
//! certificate revocation list tests ([`crl`]).

use aws_sdk_acm::Client as Acm;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::describe_client_vpn_connections::builders::DescribeClientVpnConnectionsFluentBuilder;
use aws_sdk_ec2::operation::export_client_vpn_client_certificate_revocation_list::builders::ExportClientVpnClientCertificateRevocationListFluentBuilder;
use aws_sdk_ec2::operation::import_client_vpn_client_certificate_revocation_list::builders::ImportClientVpnClientCertificateRevocationListFluentBuilder;
use aws_sdk_ec2::operation::terminate_client_vpn_connections::builders::TerminateClientVpnConnectionsFluentBuilder;
use aws_sdk_ec2::types::{
    ClientVpnAuthenticationRequest, ClientVpnConnection, ClientVpnConnectionStatus,
    TerminateConnectionStatus,
};
use rcgen::{DistinguishedName, DnType, SerialNumber, date_time_ymd};
use serde_json::{Value, json};

use crate::certs::{Ca, Leaf};
use crate::common::*;

mod crl;

/// A strict emulator with an `available` endpoint (subnet A associated) that trusts `ca`: its
/// server certificate (issued by `ca`, imported with `ca` as chain) doubles as client root
/// (AWS's same-CA shortcut).
struct Vpn {
    emu: Emulator,
    ec2: Client,
    acm: Acm,
    ca: Ca,
    server: Leaf,
    server_arn: String,
    id: String,
}

impl Vpn {
    async fn start() -> Self {
        let emu = Emulator::start_strict().await;
        let ec2 = emu.client().await;
        let acm = Acm::new(&emu.sdk_config(ACCESS_KEY, REGION).await);
        let ca = Ca::new("Client VPN CA");
        let server = ca.leaf("vpn.example.com", &["vpn.example.com"]);
        let server_arn = import(&acm, &server, &ca).await;
        let id = created(
            create_endpoint_authenticated_by(&ec2, vec![mutual_auth_with(&server_arn)])
                .server_certificate_arn(&server_arn),
        )
        .await;
        associate(&ec2, &id, SUBNET_A).await;
        Self {
            emu,
            ec2,
            acm,
            ca,
            server,
            server_arn,
            id,
        }
    }

    /// A simulated client connects to this endpoint: the control API's status and body.
    async fn connect(&self, leaf: &Leaf) -> (u16, Value) {
        self.connect_to(&self.id, &leaf.cert, &leaf.key).await
    }

    async fn connect_to(&self, id: &str, cert: &str, key: &str) -> (u16, Value) {
        self.connect_with(
            json!({"clientVpnEndpointId": id, "certificate": cert, "privateKey": key}),
        )
        .await
    }

    /// A simulated client connects with this request body (`POST /_emulator/connections`).
    async fn connect_with(&self, body: Value) -> (u16, Value) {
        self.emu
            .control("POST", "/_emulator/connections", Some(body))
            .await
    }

    /// Another endpoint with the server certificate and these authentication options (not
    /// associated); returns its id.
    async fn create(&self, authentication: Vec<ClientVpnAuthenticationRequest>) -> String {
        created(
            create_endpoint_authenticated_by(&self.ec2, authentication)
                .server_certificate_arn(&self.server_arn),
        )
        .await
    }

    /// The endpoint as the control API's state dump shows it.
    async fn dumped(&self) -> Value {
        let state = self.emu.state().await;
        state["accounts"][account_of(ACCESS_KEY)][REGION]["endpoints"][0].clone()
    }

    /// Connects a client that must be accepted; returns its connection id.
    async fn connected(&self, leaf: &Leaf) -> String {
        let (status, body) = self.connect(leaf).await;
        assert_eq!(status, 200, "{body}");
        body["connectionId"].as_str().unwrap().to_owned()
    }

    /// Connects a client that must be refused; returns the reason.
    async fn refused(&self, leaf: &Leaf) -> String {
        let (status, body) = self.connect(leaf).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["refused"], true);
        assert!(!body["message"].as_str().unwrap().is_empty());
        body["reason"].as_str().unwrap().to_owned()
    }

    /// ImportClientVpnClientCertificateRevocationList on this endpoint, no list yet.
    fn import_crl_request(&self) -> ImportClientVpnClientCertificateRevocationListFluentBuilder {
        self.ec2
            .import_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(&self.id)
    }

    async fn import_crl(&self, pem: &str) {
        let out = self
            .import_crl_request()
            .certificate_revocation_list(pem)
            .send()
            .await
            .expect("import CRL");
        assert_eq!(out.r#return(), Some(true));
    }

    /// ExportClientVpnClientCertificateRevocationList on this endpoint.
    fn export_crl_request(&self) -> ExportClientVpnClientCertificateRevocationListFluentBuilder {
        self.ec2
            .export_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(&self.id)
    }

    /// The exported CRL's PEM and status code.
    async fn export_crl(&self) -> (Option<String>, Option<String>) {
        let out = self.export_crl_request().send().await.expect("export CRL");
        let status = out
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned());
        (out.certificate_revocation_list().map(str::to_owned), status)
    }

    async fn wait_crl_active(&self) {
        eventually("CRL to become active", || async {
            (self.export_crl().await.1.as_deref() == Some("active")).then_some(())
        })
        .await;
    }

    /// DescribeClientVpnConnections on this endpoint.
    fn describe_request(&self) -> DescribeClientVpnConnectionsFluentBuilder {
        self.ec2
            .describe_client_vpn_connections()
            .client_vpn_endpoint_id(&self.id)
    }

    async fn connections(&self) -> Vec<ClientVpnConnection> {
        self.describe_request()
            .send()
            .await
            .expect("describe connections")
            .connections()
            .to_vec()
    }

    /// TerminateClientVpnConnections on this endpoint, nothing named yet.
    fn terminate_request(&self) -> TerminateClientVpnConnectionsFluentBuilder {
        self.ec2
            .terminate_client_vpn_connections()
            .client_vpn_endpoint_id(&self.id)
    }
}

async fn import(acm: &Acm, leaf: &Leaf, chain: &Ca) -> String {
    acm.import_certificate()
        .certificate(Blob::new(leaf.cert.as_bytes()))
        .private_key(Blob::new(leaf.key.as_bytes()))
        .certificate_chain(Blob::new(chain.pem().as_bytes()))
        .send()
        .await
        .expect("import certificate")
        .certificate_arn()
        .unwrap()
        .to_owned()
}

fn status_of(c: &ClientVpnConnection) -> &str {
    c.status().and_then(|s| s.code()).map_or("", |c| c.as_str())
}

/// What TerminateClientVpnConnections reports for one session: its previous and current status.
fn transition(s: &TerminateConnectionStatus) -> (&str, &str) {
    fn code(status: Option<&ClientVpnConnectionStatus>) -> &str {
        status.unwrap().code().unwrap().as_str()
    }
    (code(s.previous_status()), code(s.current_status()))
}

fn is_connection_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

fn account_of(access_key: &str) -> String {
    clientvpn_emulator::auth::account_id(access_key)
}

#[tokio::test]
async fn clients_are_accepted_and_refused_for_each_reason() {
    let vpn = Vpn::start().await;
    let (status, body) = vpn.connect(&vpn.ca.client("alice", 1)).await;
    assert_eq!(status, 200, "{body}");
    let connection_id = body["connectionId"].as_str().unwrap();
    let hex = connection_id.strip_prefix("cvpn-connection-").unwrap();
    assert!(hex.len() == 17 && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(body["commonName"], "alice");
    assert_eq!(body["clientIp"], "172.16.0.2");
    assert_eq!(body["status"], "active");
    let (_, bob) = vpn.connect(&vpn.ca.client("bob", 2)).await;
    assert_eq!(
        bob["clientIp"], "172.16.0.3",
        "one address per active session"
    );

    // Through an intermediate the client presents.
    let intermediate = vpn.ca.intermediate("Issuing CA");
    let carol = intermediate.client("carol", 3);
    let bundle = format!("{}{}", carol.cert, intermediate.pem());
    let (status, body) = vpn.connect_to(&vpn.id, &bundle, &carol.key).await;
    assert_eq!(
        (status, &body["commonName"]),
        (200, &json!("carol")),
        "{body}"
    );
    assert_eq!(
        vpn.refused(&carol).await,
        "untrusted-certificate",
        "intermediate missing"
    );

    let mismatched = Leaf {
        cert: vpn.ca.client("mallory", 4).cert,
        key: vpn.ca.client("mallory", 4).key,
    };
    assert_eq!(vpn.refused(&mismatched).await, "key-mismatch");
    assert_eq!(
        vpn.refused(&Ca::new("Other CA").client("eve", 5)).await,
        "untrusted-certificate"
    );
    // The server certificate is in the client root "chain" but is no CA: it signs nobody.
    assert_eq!(
        vpn.refused(&vpn.server.sign_client("rogue")).await,
        "untrusted-certificate"
    );
    let expired = vpn.ca.client_with(|p| {
        p.distinguished_name = crate::certs::name("old");
        p.not_before = date_time_ymd(2010, 1, 1);
        p.not_after = date_time_ymd(2011, 1, 1);
    });
    assert_eq!(vpn.refused(&expired).await, "certificate-expired");
    let future = vpn
        .ca
        .client_with(|p| p.not_before = date_time_ymd(2090, 1, 1));
    assert_eq!(vpn.refused(&future).await, "certificate-not-yet-valid");
    let anonymous = vpn.ca.client_with(|p| {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "No CN Inc");
        p.distinguished_name = dn;
        p.serial_number = Some(SerialNumber::from(6u64));
    });
    assert_eq!(vpn.refused(&anonymous).await, "no-common-name");

    // The endpoint must be available and use certificate authentication.
    let idle = vpn.create(vec![mutual_auth_with(&vpn.server_arn)]).await;
    let dave = vpn.ca.client("dave", 7);
    let (status, body) = vpn.connect_to(&idle, &dave.cert, &dave.key).await;
    assert_eq!(
        (status, &body["reason"]),
        (403, &json!("endpoint-not-available"))
    );
    let directory = vpn.create(vec![directory_auth()]).await;
    let (status, body) = vpn.connect_to(&directory, &dave.cert, &dave.key).await;
    assert_eq!(
        (status, &body["reason"]),
        (403, &json!("not-mutual-authentication"))
    );

    // Unknown endpoints and unusable requests.
    let (status, _) = vpn
        .connect_to(UNKNOWN_ENDPOINT, &dave.cert, &dave.key)
        .await;
    assert_eq!(status, 404);
    let (status, _) = vpn.connect_to(&vpn.id, "garbage", &dave.key).await;
    assert_eq!(status, 400);
    let (status, _) = vpn.connect_to(&vpn.id, &dave.cert, "garbage").await;
    assert_eq!(status, 400);
    let (status, _) = vpn
        .connect_with(json!({"clientVpnEndpointId": vpn.id, "certificate": dave.cert, "privateKey": dave.key, "region": "eu-west-1"}))
        .await;
    assert_eq!(status, 404, "not in that region");

    // Refused attempts are not listed.
    let names: Vec<_> = vpn
        .connections()
        .await
        .iter()
        .map(|c| c.common_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

#[tokio::test]
async fn mutual_and_directory_authentication_records_the_username() {
    let vpn = Vpn::start().await;
    let both = vpn
        .create(vec![mutual_auth_with(&vpn.server_arn), directory_auth()])
        .await;
    associate(&vpn.ec2, &both, SUBNET_A).await;
    let leaf = vpn.ca.client("laptop-1", 1);
    let (status, body) = vpn.connect_to(&both, &leaf.cert, &leaf.key).await;
    assert_eq!(
        (status, &body["reason"]),
        (403, &json!("username-required"))
    );
    let request = json!({"clientVpnEndpointId": both, "certificate": leaf.cert, "privateKey": leaf.key, "username": "jdoe"});
    for _ in 0..2 {
        let (status, body) = vpn.connect_with(request.clone()).await;
        assert_eq!((status, &body["username"]), (200, &json!("jdoe")), "{body}");
    }
    let by_user = vpn
        .ec2
        .describe_client_vpn_connections()
        .client_vpn_endpoint_id(&both)
        .filters(filter("username", "jdoe"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_user.connections().len(), 2);
    assert_eq!(by_user.connections()[0].username(), Some("jdoe"));

    let out = vpn
        .ec2
        .terminate_client_vpn_connections()
        .client_vpn_endpoint_id(&both)
        .username("jdoe")
        .send()
        .await
        .unwrap();
    assert_eq!(out.client_vpn_endpoint_id(), Some(both.as_str()));
    assert_eq!(out.username(), Some("jdoe"));
    assert_eq!(out.connection_statuses().len(), 2);
    for s in out.connection_statuses() {
        assert_eq!(transition(s), ("active", "terminating"));
    }
    assert_rejected(
        vpn.ec2
            .terminate_client_vpn_connections()
            .client_vpn_endpoint_id(&both)
            .username("jdoe")
            .send()
            .await,
        "InvalidClientVpnConnection.UserNotFound",
    );
    // A username means nothing on a certificate-only endpoint.
    let request = json!({"clientVpnEndpointId": vpn.id, "certificate": leaf.cert, "privateKey": leaf.key, "username": "jdoe"});
    let (status, _) = vpn.connect_with(request).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn describe_pages_filters_and_validates() {
    let vpn = Vpn::start().await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(
            vpn.connected(&vpn.ca.client(&format!("user-{n}"), n + 1))
                .await,
        );
    }
    let page = vpn.describe_request().max_results(5).send().await.unwrap();
    assert_eq!(page.connections().len(), 5);
    assert!(page.next_token().is_some());
    let all = collect_pages!(vpn.describe_request().into_paginator().page_size(5).items());
    let listed: Vec<_> = all.iter().map(|c| c.connection_id().unwrap()).collect();
    assert_eq!(listed, ids, "connection order");

    let first = &all[0];
    assert_eq!(first.client_vpn_endpoint_id(), Some(vpn.id.as_str()));
    assert!(is_connection_time(first.timestamp().unwrap()));
    assert!(is_connection_time(
        first.connection_established_time().unwrap()
    ));
    assert_eq!(first.common_name(), Some("user-0"));
    assert_eq!(first.client_ip(), Some("172.16.0.2"));
    assert_eq!(
        first.username(),
        None,
        "certificate authentication has no username"
    );
    assert_eq!(first.connection_end_time(), None);
    assert_eq!(status_of(first), "active");
    for counter in [
        first.ingress_bytes(),
        first.egress_bytes(),
        first.ingress_packets(),
        first.egress_packets(),
    ] {
        assert_eq!(counter, Some("0"));
    }

    let filtered = |name: &str, value: &str| vpn.describe_request().filters(filter(name, value));
    let one = filtered("connection-id", &ids[3]).send().await.unwrap();
    assert_eq!(one.connections().len(), 1);
    assert_eq!(one.connections()[0].common_name(), Some("user-3"));
    let none = filtered("username", "*").send().await.unwrap();
    assert!(none.connections().is_empty());
    assert_each_rejected!(
        "InvalidParameterValue",
        [
            filtered("common-name", "user-1"),
            vpn.describe_request().max_results(4),
            vpn.describe_request().max_results(1001),
        ]
    );
    assert_rejected(
        vpn.ec2
            .describe_client_vpn_connections()
            .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
    );
    assert_dry_run(vpn.describe_request().dry_run(true).send().await);
}

#[tokio::test]
async fn terminate_by_id_keeps_the_session_listed() {
    let vpn = Vpn::start().await;
    let alice = vpn.connected(&vpn.ca.client("alice", 1)).await;
    let terminate = || vpn.terminate_request();
    assert_dry_run(terminate().connection_id(&alice).dry_run(true).send().await);
    assert_eq!(status_of(&vpn.connections().await[0]), "active");

    let out = terminate().connection_id(&alice).send().await.unwrap();
    assert_eq!(out.client_vpn_endpoint_id(), Some(vpn.id.as_str()));
    assert_eq!(out.username(), None);
    let statuses = out.connection_statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].connection_id(), Some(alice.as_str()));
    assert_eq!(transition(&statuses[0]), ("active", "terminating"));
    let ended = eventually("terminated", || async {
        let c = vpn.connections().await.into_iter().next()?;
        (status_of(&c) == "terminated").then_some(c)
    })
    .await;
    assert!(is_connection_time(ended.connection_end_time().unwrap()));
    // A second terminate reports the session as it is.
    let again = terminate().connection_id(&alice).send().await.unwrap();
    assert_eq!(
        transition(&again.connection_statuses()[0]),
        ("terminated", "terminated")
    );

    // Its address is free again.
    let (_, body) = vpn.connect(&vpn.ca.client("bob", 2)).await;
    assert_eq!(body["clientIp"], "172.16.0.2");

    assert_rejected(
        terminate()
            .connection_id("cvpn-connection-00000000000000000")
            .send()
            .await,
        "InvalidClientVpnConnection.IdNotFound",
    );
    assert_rejected(
        terminate().username("alice").send().await,
        "InvalidClientVpnConnection.UserNotFound",
    );
    assert_rejected(terminate().send().await, "MissingParameter");
    assert_rejected(
        vpn.ec2
            .terminate_client_vpn_connections()
            .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
            .connection_id(&alice)
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
    );
}

#[tokio::test]
async fn endpoint_changes_end_sessions() {
    let vpn = Vpn::start().await;
    vpn.connected(&vpn.ca.client("alice", 1)).await;
    // A new server certificate resets every connection.
    let new_server = import(
        &vpn.acm,
        &vpn.ca.leaf("vpn2.example.com", &["vpn2.example.com"]),
        &vpn.ca,
    )
    .await;
    vpn.ec2
        .modify_client_vpn_endpoint()
        .client_vpn_endpoint_id(&vpn.id)
        .server_certificate_arn(&new_server)
        .send()
        .await
        .unwrap();
    assert_eq!(status_of(&vpn.connections().await[0]), "terminated");

    // Losing the last target network disconnects everyone; deleting drops sessions and CRL.
    vpn.connected(&vpn.ca.client("bob", 2)).await;
    vpn.import_crl(&vpn.ca.crl([9], 2099)).await;
    let bob = vpn.connected(&vpn.ca.client("bob", 2)).await;
    let association = target_networks_of(&vpn.ec2, &vpn.id, vec![]).await[0]
        .association_id()
        .unwrap()
        .to_owned();
    vpn.ec2
        .disassociate_client_vpn_target_network()
        .client_vpn_endpoint_id(&vpn.id)
        .association_id(association)
        .send()
        .await
        .unwrap();
    eventually("sessions to end with the association", || async {
        let listed = vpn.connections().await;
        let c = listed
            .iter()
            .find(|c| c.connection_id() == Some(bob.as_str()))?;
        (status_of(c) == "terminated").then_some(())
    })
    .await;
    eventually("endpoint to lose its association", || async {
        (endpoint_status(&vpn.ec2, &vpn.id).await == "pending-associate").then_some(())
    })
    .await;
    vpn.ec2
        .delete_client_vpn_endpoint()
        .client_vpn_endpoint_id(&vpn.id)
        .send()
        .await
        .unwrap();
    let ep = vpn.dumped().await;
    assert_eq!(ep["status"], "deleting");
    assert_eq!(ep["connections"], json!([]));
    assert_eq!(ep["crl"], Value::Null);
}

#[tokio::test]
async fn faults_and_counters_cover_the_new_actions() {
    let vpn = Vpn::start().await;
    vpn.emu
        .fail_next(
            json!({"action": "DescribeClientVpnConnections", "code": "RequestLimitExceeded"}),
        )
        .await;
    assert_error(
        vpn.describe_request().send().await,
        "RequestLimitExceeded",
        503,
    );
    vpn.emu
        .set_faults(json!({"internal_error_probability": 1.0, "actions": ["ImportClientVpnClientCertificateRevocationList"]}))
        .await;
    assert_error(
        vpn.import_crl_request()
            .certificate_revocation_list(vpn.ca.crl([1], 2099))
            .send()
            .await,
        "InternalError",
        500,
    );
    let calls = vpn.emu.calls().await;
    assert_eq!(calls["DescribeClientVpnConnections"], 1);
    assert_eq!(calls["ImportClientVpnClientCertificateRevocationList"], 1);
    assert_eq!(
        vpn.export_crl().await,
        (None, None),
        "the faulted import did nothing"
    );
}
