//! What the controller needs from EC2, as a trait with kube-free, SDK-free types, and the
//! aws-sdk-ec2 adapter that implements it ([`Ec2ClientVpn`]: the one implementation; pacing,
//! metrics and logging of every HTTP attempt live in its SDK interceptor, see `attempt`).

mod attempt;
mod ec2;
mod error;
mod mapping;
mod operation;
mod pacing;

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::api::ClientVpnEndpointSpec;

pub use ec2::Ec2ClientVpn;
pub use error::{CloudError, ErrorKind, classify, outcome_of};
pub use mapping::{create_request, describe_endpoint_fields};
pub use operation::Operation;
pub use pacing::{Admission, PaceKey, Pacer, PacingConfig};

/// AWS's endpoint status codes the operator acts on.
pub mod status_code {
    /// Created, no target network associated yet.
    pub const PENDING_ASSOCIATE: &str = "pending-associate";
    /// Usable: at least one target network is associated.
    pub const AVAILABLE: &str = "available";
    /// Delete requested; AWS is tearing it down.
    pub const DELETING: &str = "deleting";
    /// Gone; may stay visible in Describe for a while.
    pub const DELETED: &str = "deleted";
    /// Transit gateway endpoints wait here for their attachment.
    pub const PENDING: &str = "pending";
}

/// What the operator asks AWS to create.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateEndpoint {
    /// The desired endpoint.
    pub spec: ClientVpnEndpointSpec,
    /// Idempotency token, derived from the object's UID: a repeated create returns the same endpoint.
    pub client_token: String,
    /// Every tag to set at creation: the user's tags plus the ownership tags.
    pub tags: BTreeMap<String, String>,
}

/// What `CreateClientVpnEndpoint` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedEndpoint {
    pub id: String,
    pub dns_name: Option<String>,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
}

/// An endpoint as `DescribeClientVpnEndpoints` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObservedEndpoint {
    pub id: String,
    pub status_code: String,
    pub status_message: Option<String>,
    pub dns_name: Option<String>,
    pub creation_time: Option<String>,
    pub self_service_portal_url: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// What `ModifyClientVpnEndpoint` can change, as AWS reports it.
    pub settings: EndpointSettings,
    /// What AWS cannot change after creation, as AWS reports it.
    pub fixed: FixedSettings,
}

/// The modifiable settings of an endpoint, normalized so that spec and AWS compare equal when
/// they agree (defaults filled in, lists sorted where order does not matter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndpointSettings {
    pub server_certificate_arn: String,
    pub connection_log: ConnectionLog,
    /// In the order given (AWS keeps the order).
    pub dns_servers: Vec<String>,
    pub vpn_port: i32,
    /// AWS reports `""` when unset.
    pub description: String,
    pub split_tunnel: bool,
    pub vpc_id: Option<String>,
    /// Sorted.
    pub security_group_ids: Vec<String>,
    /// AWS does not report the flag; it is true when a portal URL is reported.
    pub self_service_portal: bool,
    pub client_connect: ClientConnect,
    pub session_timeout_hours: i32,
    pub login_banner: LoginBanner,
    pub disconnect_on_session_timeout: bool,
    pub route_enforcement: bool,
}

/// Connection logging (`ConnectionLogOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ConnectionLog {
    pub enabled: bool,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    pub include_authorization_policy_context: bool,
}

/// Client-connect handler (`ClientConnectOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClientConnect {
    pub enabled: bool,
    pub lambda_function_arn: Option<String>,
}

/// Login banner (`ClientLoginBannerOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LoginBanner {
    pub enabled: bool,
    pub text: Option<String>,
}

/// Settings fixed at creation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FixedSettings {
    pub client_cidr_block: Option<String>,
    /// `udp` or `tcp`.
    pub transport_protocol: String,
    /// One entry per authentication option, in AWS's order.
    pub authentication: Vec<AuthenticationFact>,
    /// `ipv4`, `ipv6` or `dual-stack`; empty when AWS does not report it.
    pub endpoint_ip_address_type: String,
    pub traffic_ip_address_type: String,
}

/// One authentication option as AWS reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AuthenticationFact {
    /// e.g. `certificate-authentication`.
    pub type_: String,
    /// Client root certificate chain ARN, directory ID or SAML provider ARN.
    pub reference: Option<String>,
    /// Self-service SAML provider ARN (federated only).
    pub self_service_reference: Option<String>,
}

/// A `ModifyClientVpnEndpoint` call: only the fields that change are `Some`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModifyEndpoint {
    pub server_certificate_arn: Option<String>,
    pub connection_log: Option<ConnectionLog>,
    /// `Some(empty)` removes the DNS servers (`DnsServers.Enabled=false`).
    pub dns_servers: Option<Vec<String>>,
    pub vpn_port: Option<i32>,
    pub description: Option<String>,
    pub split_tunnel: Option<bool>,
    /// VPC and its security groups, sent together.
    pub vpc: Option<(String, Vec<String>)>,
    pub self_service_portal: Option<bool>,
    pub client_connect: Option<ClientConnect>,
    pub session_timeout_hours: Option<i32>,
    pub login_banner: Option<LoginBanner>,
    pub disconnect_on_session_timeout: Option<bool>,
    pub route_enforcement: Option<bool>,
}

impl ModifyEndpoint {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A target-network association as `DescribeClientVpnTargetNetworks` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetNetwork {
    pub association_id: String,
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    /// `associating`, `associated`, `association-failed`, `disassociating`, `disassociated`.
    pub status_code: String,
    pub status_message: Option<String>,
    pub security_group_ids: Vec<String>,
}

/// Identity of an authorization rule: a CIDR and one group, or all groups.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey {
    pub target_network_cidr: String,
    /// `None` means all groups (`AuthorizeAllGroups`).
    pub access_group_id: Option<String>,
}

/// An authorization rule as `DescribeClientVpnAuthorizationRules` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRule {
    pub key: RuleKey,
    pub description: Option<String>,
    /// `authorizing`, `active`, `failed`, `revoking`.
    pub status_code: String,
    pub status_message: Option<String>,
}

/// Identity of a route: destination CIDR and target subnet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteKey {
    pub destination_cidr_block: String,
    pub target_subnet_id: String,
}

/// A route as `DescribeClientVpnRoutes` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub key: RouteKey,
    /// `associate` (automatic, not managed) or `add-route`.
    pub origin: String,
    pub description: Option<String>,
    /// `creating`, `active`, `failed`, `deleting`.
    pub status_code: String,
    pub status_message: Option<String>,
}

impl ObservedEndpoint {
    /// True once AWS has deleted the endpoint or is deleting it.
    pub fn is_going_away(&self) -> bool {
        self.status_code == status_code::DELETING || self.status_code == status_code::DELETED
    }

    /// True when the endpoint carries tag `key=value`.
    pub fn has_tag(&self, key: &str, value: &str) -> bool {
        self.tags.get(key).is_some_and(|v| v == value)
    }

    /// True once AWS reports the endpoint deleted.
    pub fn is_deleted(&self) -> bool {
        self.status_code == status_code::DELETED
    }
}

/// The EC2 Client VPN calls the controller makes. Exists so the controller can be tested with an
/// in-memory fake; the production implementation is [`Ec2ClientVpn`].
#[async_trait]
pub trait ClientVpnApi: Send + Sync {
    /// `CreateClientVpnEndpoint` with the request's client token and tags.
    async fn create_endpoint(
        &self,
        region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError>;

    /// `DescribeClientVpnEndpoints` for one ID; `None` when AWS says it does not exist.
    async fn describe_endpoint(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError>;

    /// Every endpoint in the region carrying tag `key=value` (all pages), including deleted ones.
    /// AWS has no tag filter for this call: the region is listed and filtered here.
    async fn find_endpoints_by_tag(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let mut endpoints = self.list_endpoints(region).await?;
        endpoints.retain(|e| e.has_tag(key, value));
        Ok(endpoints)
    }

    /// `DeleteClientVpnEndpoint`; returns the status code AWS answered (normally `deleting`).
    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError>;

    /// Every endpoint in the region (all pages of `DescribeClientVpnEndpoints`, MaxResults 1000).
    async fn list_endpoints(&self, region: &str) -> Result<Vec<ObservedEndpoint>, CloudError>;

    /// `ModifyClientVpnEndpoint` with only the `Some` fields.
    async fn modify_endpoint(
        &self,
        region: &str,
        id: &str,
        change: &ModifyEndpoint,
    ) -> Result<(), CloudError>;

    /// `CreateTags` on the endpoint.
    async fn create_tags(
        &self,
        region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError>;

    /// `DeleteTags` on the endpoint, by key (whatever the value).
    async fn delete_tags(&self, region: &str, id: &str, keys: &[String]) -> Result<(), CloudError>;

    /// `DescribeClientVpnTargetNetworks` (all pages).
    async fn describe_target_networks(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError>;

    /// `AssociateClientVpnTargetNetwork`; returns the association ID.
    async fn associate_target_network(
        &self,
        region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError>;

    /// `DisassociateClientVpnTargetNetwork`.
    async fn disassociate_target_network(
        &self,
        region: &str,
        id: &str,
        association_id: &str,
    ) -> Result<(), CloudError>;

    /// `ApplySecurityGroupsToClientVpnTargetNetwork`.
    async fn apply_security_groups(
        &self,
        region: &str,
        id: &str,
        vpc_id: &str,
        security_group_ids: &[String],
    ) -> Result<(), CloudError>;

    /// `DescribeClientVpnAuthorizationRules` (all pages).
    async fn describe_authorization_rules(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<AuthorizationRule>, CloudError>;

    /// `AuthorizeClientVpnIngress` (`AuthorizeAllGroups=true` when the key has no group).
    async fn authorize_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError>;

    /// `RevokeClientVpnIngress` (`RevokeAllGroups=true` when the key has no group).
    async fn revoke_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
    ) -> Result<(), CloudError>;

    /// `DescribeClientVpnRoutes` (all pages), both origins.
    async fn describe_routes(&self, region: &str, id: &str) -> Result<Vec<Route>, CloudError>;

    /// `CreateClientVpnRoute`.
    async fn create_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError>;

    /// `DeleteClientVpnRoute`.
    async fn delete_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
    ) -> Result<(), CloudError>;

    /// `ExportClientVpnClientConfiguration`: the OpenVPN configuration text.
    async fn export_client_configuration(
        &self,
        region: &str,
        id: &str,
    ) -> Result<String, CloudError>;
}
