//! The kube-free, SDK-free model of what the operator sends to and reads from EC2 Client VPN.
//! Spec types never appear here: the endpoint controller's `desired` step normalizes the spec
//! into these types.

use std::collections::BTreeMap;
use std::fmt;

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

/// What the operator asks AWS to create: the normalized endpoint (the plan's `desired` step
/// builds it from the spec), the idempotency token and the tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEndpoint {
    /// Idempotency token, derived from the object's UID: a repeated create returns the same endpoint.
    pub client_token: String,
    /// Every tag to set at creation: the user's tags plus the ownership tags.
    pub tags: BTreeMap<String, String>,
    /// The modifiable settings, every one sent explicitly (AWS's defaults already filled in).
    pub settings: EndpointSettings,
    /// The settings AWS fixes at creation.
    pub fixed: FixedSettings,
    /// Transit gateway attachment (`TransitGatewayConfiguration`), create-only.
    pub transit_gateway: Option<TransitGateway>,
    /// Device posture (`DevicePostureOptions`), create-only.
    pub device_posture: Option<DevicePosture>,
}

/// `TransitGatewayConfiguration` of a new endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransitGateway {
    pub transit_gateway_id: String,
    pub availability_zones: Vec<String>,
    pub availability_zone_ids: Vec<String>,
}

/// `DevicePostureOptions` of a new endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevicePosture {
    pub enabled: Option<bool>,
    pub trust_providers: Vec<TrustProvider>,
}

/// One `TrustProvider` of the device posture options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustProvider {
    /// `crowdstrike`, `jamf` or `jumpcloud`.
    pub trust_provider_type: String,
    pub tenant_id: Option<String>,
    pub public_signing_key_url: Option<String>,
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
    /// AWS does not report the flag; described endpoints say `Some(true)` when a portal URL is
    /// reported. `None` in a desired endpoint: not set, AWS keeps whatever it has.
    pub self_service_portal: Option<bool>,
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
    pub state: AssociationState,
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
    pub state: RuleState,
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
    pub origin: RouteOrigin,
    pub description: Option<String>,
    pub state: RouteState,
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

/// A state AWS reports for a child of an endpoint, with the wire spelling kept for unknown values.
pub trait ChildState {
    /// The wire value, e.g. `associated`.
    fn as_str(&self) -> &str;
    /// AWS is still working on it (e.g. `associating`, `revoking`).
    fn is_transitional(&self) -> bool;
    /// AWS gave up on it (e.g. `association-failed`).
    fn is_failed(&self) -> bool;
    /// A removal is already under way (e.g. `disassociating`).
    fn is_going_away(&self) -> bool;
}

/// Declares a child state enum: its variants with their wire values, which of them are
/// transitional, failed and going away, and an `Other` variant for values AWS may add.
macro_rules! child_state {
    ($(#[$doc:meta])* $name:ident {
        $($variant:ident = $wire:literal),+ $(,)?
    } transitional [$($t:ident),*] failed [$($f:ident),*] going_away [$($g:ident),*]) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this operator does not know, as AWS spelled it.
            Other(String),
        }

        impl Default for $name {
            fn default() -> Self {
                Self::Other(String::new())
            }
        }

        impl $name {
            /// Parse AWS's wire value; unknown values become `Other`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl ChildState for $name {
            fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }
            fn is_transitional(&self) -> bool {
                matches!(self, $(Self::$t)|*)
            }
            fn is_failed(&self) -> bool {
                false $(|| matches!(self, Self::$f))*
            }
            fn is_going_away(&self) -> bool {
                false $(|| matches!(self, Self::$g))*
            }
        }
    };
}

child_state! {
    /// State of a target-network association.
    AssociationState {
        Associating = "associating",
        Associated = "associated",
        AssociationFailed = "association-failed",
        Disassociating = "disassociating",
        Disassociated = "disassociated",
    }
    transitional [Associating, Disassociating]
    failed [AssociationFailed]
    going_away [Disassociating, Disassociated]
}

child_state! {
    /// State of an authorization rule.
    RuleState {
        Authorizing = "authorizing",
        Active = "active",
        Failed = "failed",
        Revoking = "revoking",
    }
    transitional [Authorizing, Revoking]
    failed [Failed]
    going_away [Revoking]
}

child_state! {
    /// State of a route.
    RouteState {
        Creating = "creating",
        Active = "active",
        Failed = "failed",
        Deleting = "deleting",
    }
    transitional [Creating, Deleting]
    failed [Failed]
    going_away [Deleting]
}

/// Where a route came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum RouteOrigin {
    /// Added automatically by AWS for each association; not managed by the operator.
    Associate,
    /// Added by `CreateClientVpnRoute`: the operator's.
    AddRoute,
    /// A value this operator does not know.
    #[default]
    Other,
}

impl RouteOrigin {
    /// Parse AWS's wire value (`associate`, `add-route`).
    pub fn from_wire(value: &str) -> Self {
        match value {
            "associate" => Self::Associate,
            "add-route" => Self::AddRoute,
            _ => Self::Other,
        }
    }
}

impl TargetNetwork {
    /// The association still counts (not `disassociated`).
    pub fn is_live(&self) -> bool {
        self.state != AssociationState::Disassociated
    }
}

impl Route {
    /// The operator manages only routes it added (`add-route`).
    pub fn is_managed(&self) -> bool {
        self.origin == RouteOrigin::AddRoute
    }
}

/// `value` when `enabled`, else the default: a disabled option compares equal whatever
/// details AWS still remembers.
fn when_enabled<T: Clone + Default>(enabled: bool, value: &T) -> T {
    if enabled { value.clone() } else { T::default() }
}

impl ConnectionLog {
    /// Disabled logs compare equal whatever names AWS still remembers.
    pub fn normalized(&self) -> Self {
        when_enabled(self.enabled, self)
    }
}

impl ClientConnect {
    /// Disabled handlers compare equal whatever function AWS still remembers.
    pub fn normalized(&self) -> Self {
        when_enabled(self.enabled, self)
    }
}

impl LoginBanner {
    /// Disabled banners compare equal whatever text AWS still remembers.
    pub fn normalized(&self) -> Self {
        when_enabled(self.enabled, self)
    }
}

/// Where a piece of AWS state and its limits live: the key of pacing and of the region
/// inventory. Today a region; EC2 throttles and lists per account and region, so this is where
/// an account joins when the operator assumes roles.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AwsScope {
    region: String,
}

impl AwsScope {
    /// The scope of `region` (in the operator's own account).
    pub fn region(region: &str) -> Self {
        Self {
            region: region.to_string(),
        }
    }

    /// The region (a `tracing` field and label, never a metric label).
    pub fn region_name(&self) -> &str {
        &self.region
    }
}

impl fmt::Display for AwsScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.region)
    }
}
