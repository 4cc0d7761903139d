//! A simulated client connecting to an endpoint with a certificate (`POST /_emulator/connections`):
//! the mutual TLS authentication Client VPN performs — key possession, a chain to the CA of the
//! client root certificate in ACM, validity, a CN, the applied revocation list — and, when it
//! passes, a new `active` session with an address from the client CIDR.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Deserialize;
use x509_parser::certificate::X509Certificate;

use crate::clock::{Now, format_connection_time};
use crate::pki::chain::{certificate_blocks, chains_to, parse_der};
use crate::pki::{common_name, epoch_seconds, keys};
use crate::state::{Connection, ConnectionState, Endpoint, EndpointState, Region, World};

/// The control request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectRequest {
    pub client_vpn_endpoint_id: String,
    /// PEM: the client certificate, optionally followed by intermediates.
    pub certificate: String,
    /// PEM: the client certificate's private key.
    pub private_key: String,
    /// Where the endpoint is; by default searched in every region and account.
    pub region: Option<String>,
    pub account: Option<String>,
    /// The user, for endpoints that combine mutual with directory or federated authentication.
    pub username: Option<String>,
}

/// A new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub connection_id: String,
    pub common_name: String,
    pub client_ip: Option<String>,
    pub username: Option<String>,
}

/// Why no session was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No such endpoint (or only a `deleted` one).
    NotFound(String),
    /// The request itself is unusable (not PEM, unsupported key, a username that means nothing).
    BadRequest(String),
    /// The service refused the client: a kebab-case reason and a message.
    Refused {
        reason: &'static str,
        message: String,
    },
}

fn refused(reason: &'static str, message: impl Into<String>) -> ConnectError {
    ConnectError::Refused {
        reason,
        message: message.into(),
    }
}

const MUTUAL: &str = "certificate-authentication";

/// Authenticates the client and, if it passes, records its session on the endpoint.
pub fn connect(
    world: &mut World,
    request: &ConnectRequest,
    now: &Now,
) -> Result<Admitted, ConnectError> {
    let id = request.client_vpn_endpoint_id.as_str();
    world.advance_all(now);
    let World { regions, rng, .. } = world;
    let region = regions
        .iter_mut()
        .filter(|((account, name), _)| {
            request.account.as_ref().is_none_or(|a| a == account)
                && request.region.as_ref().is_none_or(|r| r == name)
        })
        .map(|(_, region)| region)
        .find(|region| {
            region
                .endpoints
                .get(id)
                .is_some_and(|ep| ep.status != EndpointState::Deleted)
        })
        .ok_or_else(|| ConnectError::NotFound(format!("Endpoint {id} does not exist")))?;

    let ders = certificate_blocks(request.certificate.as_bytes())
        .filter(|blocks| !blocks.is_empty())
        .ok_or_else(|| bad("certificate is not PEM CERTIFICATE blocks"))?;
    let certs = ders
        .iter()
        .map(|der| parse_der(der))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("certificate holds a block that is not an X.509 certificate"))?;
    let (leaf, presented) = certs.split_first().expect("at least one certificate");
    let private = keys::of_private_key(request.private_key.as_bytes()).map_err(|_| {
        bad("privateKey is not one unencrypted RSA or EC private key in PEM (PKCS#1, SEC1 or PKCS#8)")
    })?;
    let public = keys::of_certificate(leaf)
        .ok_or_else(|| bad("the certificate's key is neither RSA nor EC on a supported curve"))?;

    let ep = &region.endpoints[id];
    let client = Client {
        leaf,
        presented,
        private,
        public,
    };
    let common_name = authenticate(region, ep, request, now, &client)?;
    let client_ip = free_address(ep)
        .map_err(|cidr| {
            refused(
                "client-cidr-exhausted",
                format!("Every address of the client CIDR {cidr} is in use."),
            )
        })?
        .map(|ip| ip.to_string());
    let seq = region.next_seq();
    let connection_id = loop {
        let candidate = rng.resource_id("cvpn-connection-");
        if region
            .endpoints
            .values()
            .all(|e| e.connections.iter().all(|c| c.connection_id != candidate))
        {
            break candidate;
        }
    };
    let ep = region.endpoints.get_mut(id).expect("found above");
    ep.connections.push(Connection {
        connection_id: connection_id.clone(),
        common_name: common_name.clone(),
        username: request.username.clone(),
        client_ip: client_ip.clone(),
        status: ConnectionState::Active,
        connection_established_time: format_connection_time(now.wall),
        connection_end_time: None,
        ingress_bytes: 0,
        egress_bytes: 0,
        ingress_packets: 0,
        egress_packets: 0,
        seq,
        due: None,
        ended: None,
    });
    Ok(Admitted {
        connection_id,
        common_name,
        client_ip,
        username: request.username.clone(),
    })
}

fn bad(message: &str) -> ConnectError {
    ConnectError::BadRequest(message.to_owned())
}

/// What the client presents in the TLS handshake.
struct Client<'c, 'a> {
    leaf: &'c X509Certificate<'a>,
    /// The intermediates sent after the leaf.
    presented: &'c [X509Certificate<'a>],
    /// The public half of its private key (`None`: an EC key without its point).
    private: Option<keys::PublicKey>,
    /// The leaf's public key.
    public: keys::PublicKey,
}

/// The checks, in this order; returns the certificate's CN.
fn authenticate(
    region: &Region,
    ep: &Endpoint,
    request: &ConnectRequest,
    now: &Now,
    client: &Client<'_, '_>,
) -> Result<String, ConnectError> {
    let Client {
        leaf,
        presented,
        private,
        public,
    } = client;
    let id = &ep.client_vpn_endpoint_id;
    let mutual = ep.authentication_options.iter().find(|a| a.kind == MUTUAL);
    let Some(root_arn) = mutual.and_then(|a| a.client_root_certificate_chain.as_deref()) else {
        return Err(refused(
            "not-mutual-authentication",
            format!("Endpoint {id} does not use mutual (certificate) authentication."),
        ));
    };
    let user_auth = ep.authentication_options.iter().any(|a| a.kind != MUTUAL);
    match (&request.username, user_auth) {
        (Some(_), false) => {
            return Err(bad(
                "username applies only to endpoints that also use directory or federated authentication",
            ));
        }
        (None, true) => {
            return Err(refused(
                "username-required",
                format!("Endpoint {id} also requires user authentication: give a username."),
            ));
        }
        _ => {}
    }
    if ep.status != EndpointState::Available {
        return Err(refused(
            "endpoint-not-available",
            format!(
                "Endpoint {id} is {}, not available (it needs an associated target network).",
                ep.status.as_str()
            ),
        ));
    }
    if private.as_ref().is_some_and(|private| private != public) {
        return Err(refused(
            "key-mismatch",
            "The private key does not match the certificate's public key.",
        ));
    }
    let Some(root) = region.certificates.get(root_arn) else {
        return Err(refused(
            "untrusted-certificate",
            format!(
                "The client root certificate chain {root_arn} is not in ACM, so no client CA is trusted."
            ),
        ));
    };
    let anchors: Vec<X509Certificate<'_>> = std::iter::once(&root.certificate_der)
        .chain(&root.chain_der)
        .filter_map(|der| parse_der(der))
        .collect();
    if !chains_to(leaf, presented, &anchors) {
        return Err(refused(
            "untrusted-certificate",
            format!(
                "The certificate is not issued by a certificate authority of the client root certificate chain {root_arn}."
            ),
        ));
    }
    let seconds = epoch_seconds(now.wall);
    if seconds < leaf.validity().not_before.timestamp() {
        return Err(refused(
            "certificate-not-yet-valid",
            "The certificate is not yet valid (its NotBefore date is in the future).",
        ));
    }
    if seconds > leaf.validity().not_after.timestamp() {
        return Err(refused(
            "certificate-expired",
            "The certificate has expired.",
        ));
    }
    let Some(common_name) = common_name(leaf) else {
        return Err(refused(
            "no-common-name",
            "The certificate has no common name (CN) in its subject.",
        ));
    };
    if let Some(crl) = &ep.applied_crl {
        if crl.expired_at(seconds) {
            return Err(refused(
                "crl-expired",
                "The endpoint's certificate revocation list is past its nextUpdate: no client can connect until a current one is imported.",
            ));
        }
        if crl.revokes(leaf.raw_serial()) {
            return Err(refused(
                "certificate-revoked",
                "The certificate is revoked by the endpoint's certificate revocation list.",
            ));
        }
    }
    Ok(common_name)
}

/// The lowest address of the client CIDR, from its second host address on, that no live
/// session holds; `Ok(None)` without an IPv4 client CIDR, `Err(cidr)` when all are taken.
fn free_address(ep: &Endpoint) -> Result<Option<Ipv4Addr>, String> {
    let Some(cidr) = ep.client_cidr_block.as_deref() else {
        return Ok(None);
    };
    let Ok(net) = cidr.parse::<Ipv4Net>() else {
        return Ok(None);
    };
    let taken: Vec<&str> = ep
        .connections
        .iter()
        .filter(|c| c.is_live())
        .filter_map(|c| c.client_ip.as_deref())
        .collect();
    net.hosts()
        .skip(1)
        .find(|ip| !taken.contains(&ip.to_string().as_str()))
        .map(Some)
        .ok_or_else(|| cidr.to_owned())
}
