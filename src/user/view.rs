//! What a user needs to know about its `ClientVpnEndpoint`: is it there and usable, does it use
//! mutual authentication, where its client CA (and key) lives, and what its client configuration
//! depends on. Pure.

use kube::ResourceExt;

use crate::api::{AuthenticationType, ClientVpnEndpoint};

/// Where the endpoint's client CA is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaLocation {
    /// A Secret whose `tls.crt` starts with the CA certificate and whose `tls.key` (if present)
    /// is the CA key: the managed CA (`<endpoint>-ca`) or the client-root Secret.
    Secret(String),
    /// The CA is in the `ca.crt`/chain of the server certificate Secret (same-CA shortcut): the
    /// operator can check certificates against it but holds no key.
    ServerChain(String),
    /// Only an ACM ARN is known: the operator can neither check nor revoke.
    Unknown,
}

/// The facts of an endpoint object a user reconcile reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointView {
    pub name: String,
    pub id: Option<String>,
    pub region: Option<String>,
    pub dns_name: Option<String>,
    pub status_code: Option<String>,
    pub deleting: bool,
    /// An authentication option is `certificate-authentication`.
    pub mutual: bool,
    pub ca: CaLocation,
    /// What the exported client configuration depends on (ID, DNS name, port, protocol,
    /// certificates): a new value means a new export.
    pub config_key: String,
}

impl EndpointView {
    pub fn of(endpoint: &ClientVpnEndpoint) -> Self {
        let spec = &endpoint.spec;
        let status = endpoint.status.clone().unwrap_or_default();
        let mutual = spec
            .authentication_options
            .iter()
            .find(|a| a.type_ == AuthenticationType::CertificateAuthentication);
        let root = mutual.and_then(|a| a.mutual_authentication.as_ref());
        let name = endpoint.name_any();
        let ca = match (
            root.and_then(|m| m.client_root_certificate_chain_secret_ref.as_ref()),
            root.and_then(|m| m.client_root_certificate_chain_arn.as_ref()),
            &spec.server_certificate,
        ) {
            (Some(secret), _, _) => CaLocation::Secret(secret.name.clone()),
            (None, Some(_), _) => CaLocation::Unknown,
            (None, None, Some(source)) => match &source.secret_ref {
                Some(secret) => CaLocation::ServerChain(secret.name.clone()),
                None => CaLocation::Secret(format!("{name}-ca")),
            },
            (None, None, None) => CaLocation::Unknown,
        };
        let serials: Vec<&str> = status
            .certificates
            .iter()
            .filter_map(|c| c.serial.as_deref())
            .collect();
        let port = spec.vpn_port.unwrap_or(443).to_string();
        let protocol = format!("{:?}", spec.transport_protocol);
        let mut parts = vec![
            status.client_vpn_endpoint_id.as_deref().unwrap_or_default(),
            status.dns_name.as_deref().unwrap_or_default(),
            &port,
            &protocol,
        ];
        parts.extend(serials);
        Self {
            name,
            id: status.client_vpn_endpoint_id.clone(),
            region: status.region.clone().or_else(|| spec.region.clone()),
            dns_name: status.dns_name.clone(),
            status_code: status.status.as_ref().and_then(|s| s.code.clone()),
            deleting: endpoint.metadata.deletion_timestamp.is_some(),
            mutual: mutual.is_some(),
            ca,
            config_key: format!("{:016x}", crate::endpoint::plan::fnv1a(&parts)),
        }
    }

    /// The Secret that may hold the CA key (for issuing and signing revocation lists).
    pub fn ca_secret(&self) -> Option<&str> {
        match &self.ca {
            CaLocation::Secret(name) => Some(name),
            _ => None,
        }
    }
}
