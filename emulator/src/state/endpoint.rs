//! The EC2 Client VPN endpoint and what it owns (associations, rules, routes, client
//! connections, the revocation list), with their lifecycles.
//!
//! Transitions are computed lazily: every transitional state carries the instant it ends
//! (`due`), and [`super::Region::advance`] applies every due transition before a request is
//! served or state is dumped, so all reads see a consistent picture without background tasks.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::connection::{Connection, ConnectionState, Crl, CrlState, TERMINATED_VISIBLE};
use crate::clock::{Now, format_ec2_time};
use crate::pki::crl::RevocationList;

status_enum! {
    /// `ClientVpnEndpointStatusCode`.
    EndpointState {
        PendingAssociate = "pending-associate",
        Available = "available",
        Deleting = "deleting",
        Deleted = "deleted",
        /// Transit-gateway endpoints wait here until their attachment is (automatically) accepted.
        Pending = "pending",
    }
}

status_enum! {
    /// `AssociationStatusCode` (disassociated associations are removed).
    AssociationState {
        Associating = "associating",
        Associated = "associated",
        Disassociating = "disassociating",
    }
}

status_enum! {
    /// `ClientVpnAuthorizationRuleStatusCode` (revoked rules are removed).
    RuleState {
        Authorizing = "authorizing",
        Active = "active",
        Revoking = "revoking",
    }
}

status_enum! {
    /// `ClientVpnRouteStatusCode` (deleted routes are removed).
    RouteState {
        Creating = "creating",
        Active = "active",
        Deleting = "deleting",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthOption {
    /// `certificate-authentication` | `directory-service-authentication` | `federated-authentication`.
    #[serde(rename = "type")]
    pub kind: String,
    pub directory_id: Option<String>,
    pub client_root_certificate_chain: Option<String>,
    pub saml_provider_arn: Option<String>,
    pub self_service_saml_provider_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionLog {
    pub enabled: bool,
    pub cloudwatch_log_group: Option<String>,
    pub cloudwatch_log_stream: Option<String>,
    pub include_authorization_policy_context: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnect {
    pub enabled: bool,
    pub lambda_function_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBanner {
    pub enabled: bool,
    pub banner_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransitGatewayConfig {
    pub transit_gateway_id: String,
    pub transit_gateway_attachment_id: String,
    pub availability_zones: Vec<String>,
    pub availability_zone_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustProvider {
    pub trust_provider_type: String,
    pub tenant_id: Option<String>,
    pub public_signing_key_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePosture {
    pub enabled: Option<bool>,
    pub trust_providers: Vec<TrustProvider>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub association_id: String,
    /// `None` for transit-gateway endpoints.
    pub vpc_id: Option<String>,
    /// The subnet id (the transit gateway id for transit-gateway endpoints).
    pub target_network_id: String,
    pub status: AssociationState,
    pub security_groups: Vec<String>,
    pub availability_zones: Vec<String>,
    pub availability_zone_ids: Vec<String>,
    /// The VPC's CIDR: destination of the route added once associated (`None` for transit
    /// gateways).
    #[serde(skip)]
    pub vpc_cidr: Option<String>,
    #[serde(skip)]
    pub seq: u64,
    #[serde(skip)]
    pub due: Option<Instant>,
    /// Reached `associated` at some point (so it keeps the endpoint available while disassociating).
    #[serde(skip)]
    pub was_associated: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub destination_cidr: String,
    /// Empty when `access_all`.
    pub group_id: String,
    pub access_all: bool,
    pub description: String,
    pub status: RuleState,
    #[serde(skip)]
    pub seq: u64,
    #[serde(skip)]
    pub due: Option<Instant>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub destination_cidr: String,
    pub target_subnet: String,
    /// Always `Nat`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `associate` | `add-route`.
    pub origin: String,
    pub description: String,
    pub status: RouteState,
    pub transit_gateway_attachment_id: Option<String>,
    #[serde(skip)]
    pub seq: u64,
    #[serde(skip)]
    pub due: Option<Instant>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub client_vpn_endpoint_id: String,
    pub description: String,
    pub status: EndpointState,
    pub creation_time: String,
    pub deletion_time: Option<String>,
    pub dns_name: String,
    pub client_cidr_block: Option<String>,
    pub dns_servers: Vec<String>,
    pub split_tunnel: bool,
    pub transport_protocol: String,
    pub vpn_port: i64,
    pub server_certificate_arn: String,
    pub authentication_options: Vec<AuthOption>,
    pub connection_log_options: ConnectionLog,
    pub tags: BTreeMap<String, String>,
    pub security_group_ids: Vec<String>,
    pub vpc_id: Option<String>,
    pub self_service_portal: bool,
    pub client_connect_options: ClientConnect,
    pub session_timeout_hours: i64,
    pub client_login_banner_options: LoginBanner,
    pub disconnect_on_session_timeout: bool,
    pub client_route_enforcement: bool,
    pub endpoint_ip_address_type: String,
    pub traffic_ip_address_type: String,
    pub transit_gateway_configuration: Option<TransitGatewayConfig>,
    pub device_posture_options: Option<DevicePosture>,
    pub associations: Vec<Association>,
    pub authorization_rules: Vec<Rule>,
    pub routes: Vec<Route>,
    /// Client sessions: active ones and those ended less than [`TERMINATED_VISIBLE`] ago, in
    /// connection order.
    pub connections: Vec<Connection>,
    /// The last imported client certificate revocation list (what Export shows).
    pub crl: Option<Crl>,
    /// The revocation list connecting clients are checked against: the last import once it
    /// became `active`.
    #[serde(skip)]
    pub applied_crl: Option<RevocationList>,
    /// End of the current transitional endpoint state (`pending`, `deleting`, `deleted`).
    #[serde(skip)]
    pub due: Option<Instant>,
    /// How long the endpoint stays visible as `deleted` (fixed when Delete is called).
    #[serde(skip)]
    pub deleted_visible: Duration,
}

impl Endpoint {
    pub fn is_transit_gateway(&self) -> bool {
        self.transit_gateway_configuration.is_some()
    }

    /// `available` while an association is (or was and is still leaving) associated,
    /// `pending-associate` otherwise. Transit-gateway endpoints and deletions are untouched.
    pub fn refresh_status(&mut self) {
        if self.is_transit_gateway()
            || !matches!(
                self.status,
                EndpointState::PendingAssociate | EndpointState::Available
            )
        {
            return;
        }
        let associated = self.associations.iter().any(|a| {
            a.status == AssociationState::Associated
                || (a.status == AssociationState::Disassociating && a.was_associated)
        });
        self.status = if associated {
            EndpointState::Available
        } else {
            EndpointState::PendingAssociate
        };
    }

    /// Changes still in their transitional state (`associating`, `disassociating`, `authorizing`,
    /// `revoking`, `creating`, `deleting`): what AWS's per-endpoint concurrency limit counts.
    pub fn operations_in_progress(&self) -> usize {
        let associations = self.associations.iter().filter(|a| {
            matches!(
                a.status,
                AssociationState::Associating | AssociationState::Disassociating
            )
        });
        let rules = self
            .authorization_rules
            .iter()
            .filter(|r| r.status != RuleState::Active);
        let routes = self
            .routes
            .iter()
            .filter(|r| r.status != RouteState::Active);
        associations.count() + rules.count() + routes.count()
    }

    /// Applies every transition due at `now`. Returns false once the endpoint is gone for good.
    pub(super) fn advance(&mut self, now: &Now, seq: &mut u64) -> bool {
        let t = now.instant;
        let is_due = |due: Option<Instant>| due.is_some_and(|d| d <= t);

        let mut leaving = Vec::new();
        for a in &mut self.associations {
            if !is_due(a.due) {
                continue;
            }
            a.due = None;
            match a.status {
                AssociationState::Associating => {
                    a.status = AssociationState::Associated;
                    a.was_associated = true;
                    if let Some(vpc_cidr) = &a.vpc_cidr {
                        *seq += 1;
                        self.routes.push(Route {
                            destination_cidr: vpc_cidr.clone(),
                            target_subnet: a.target_network_id.clone(),
                            kind: "Nat".to_owned(),
                            origin: "associate".to_owned(),
                            description: "Default Route".to_owned(),
                            status: RouteState::Active,
                            transit_gateway_attachment_id: None,
                            seq: *seq,
                            due: None,
                        });
                    }
                }
                AssociationState::Disassociating => leaving.push(a.association_id.clone()),
                AssociationState::Associated => {}
            }
        }
        if !leaving.is_empty() {
            let subnets: Vec<String> = self
                .associations
                .iter()
                .filter(|a| leaving.contains(&a.association_id))
                .map(|a| a.target_network_id.clone())
                .collect();
            self.associations
                .retain(|a| !leaving.contains(&a.association_id));
            // Disassociating a subnet removes every route that targets it.
            self.routes.retain(|r| !subnets.contains(&r.target_subnet));
        }
        self.refresh_status();
        if self.status != EndpointState::Available {
            // No associated network left: every client is disconnected.
            self.reset_connections(now);
        }
        self.advance_connections(now);

        for r in &mut self.authorization_rules {
            if is_due(r.due) && r.status == RuleState::Authorizing {
                r.status = RuleState::Active;
                r.due = None;
            }
        }
        self.authorization_rules
            .retain(|r| !(r.status == RuleState::Revoking && is_due(r.due)));

        for r in &mut self.routes {
            if is_due(r.due) && r.status == RouteState::Creating {
                r.status = RouteState::Active;
                r.due = None;
            }
        }
        self.routes
            .retain(|r| !(r.status == RouteState::Deleting && is_due(r.due)));

        loop {
            match (self.status, self.due) {
                (EndpointState::Deleting, Some(d)) if d <= t => {
                    self.status = EndpointState::Deleted;
                    self.deletion_time = Some(format_ec2_time(now.wall_at(d)));
                    self.due = Some(d + self.deleted_visible);
                }
                (EndpointState::Deleted, Some(d)) if d <= t => return false,
                (EndpointState::Pending, Some(d)) if d <= t => {
                    self.status = EndpointState::Available;
                    self.due = None;
                }
                _ => return true,
            }
        }
    }

    /// The earliest pending transition of this endpoint or anything it owns.
    pub(super) fn next_due(&self) -> Option<Instant> {
        let subs = self
            .associations
            .iter()
            .map(|a| a.due)
            .chain(self.authorization_rules.iter().map(|r| r.due))
            .chain(self.routes.iter().map(|r| r.due))
            .chain(self.connections.iter().map(|c| c.due))
            .chain(
                self.connections
                    .iter()
                    .map(|c| c.ended.map(|e| e + TERMINATED_VISIBLE)),
            )
            .chain(self.crl.as_ref().map(|c| c.due));
        subs.chain(std::iter::once(self.due)).flatten().min()
    }
}

impl Endpoint {
    /// Ends every session at once (`active` or `terminating` → `terminated`), as a CRL import,
    /// a server certificate change or losing the last associated network does.
    pub fn reset_connections(&mut self, now: &Now) {
        for c in &mut self.connections {
            if matches!(
                c.status,
                ConnectionState::Active | ConnectionState::Terminating
            ) {
                c.end(now.instant, now.wall);
            }
        }
    }

    /// `terminating` → `terminated` when due; sessions ended [`TERMINATED_VISIBLE`] ago are
    /// forgotten; a `pending` revocation list becomes `active` and applies.
    fn advance_connections(&mut self, now: &Now) {
        let t = now.instant;
        for c in &mut self.connections {
            if let Some(due) = c.due.filter(|d| *d <= t) {
                c.end(due, now.wall_at(due));
            }
        }
        self.connections
            .retain(|c| c.ended.is_none_or(|e| e + TERMINATED_VISIBLE > t));
        if let Some(crl) = &mut self.crl
            && crl.due.is_some_and(|d| d <= t)
        {
            crl.status = CrlState::Active;
            crl.due = None;
            self.applied_crl = Some(crl.list.clone());
        }
    }
}
