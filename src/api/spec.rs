//! `ClientVpnEndpoint.spec`: the request members of `CreateClientVpnEndpoint`, in lowerCamelCase,
//! plus the Kubernetes-side fields `region`, `tags` and `deletionPolicy`.
//!
//! Every doc comment here becomes `kubectl explain` text; every schema rule mirrors a rejection AWS
//! would make, so bad input is refused at `kubectl apply` and never reaches AWS.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AuthenticationOption, CertificateSource, ClientVpnEndpointStatus};

/// Desired state of an AWS EC2 Client VPN endpoint.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "clientvpn.io",
    version = "v1alpha1",
    kind = "ClientVpnEndpoint",
    plural = "clientvpnendpoints",
    namespaced,
    status = "ClientVpnEndpointStatus",
    shortname = "cvpn",
    category = "clientvpn",
    category = "aws",
    printcolumn = r#"{"name":"Endpoint ID","type":"string","jsonPath":".status.clientVpnEndpointId"}"#,
    printcolumn = r#"{"name":"DNS Name","type":"string","jsonPath":".status.dnsName"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status.code"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Cert Expires","type":"string","priority":1,"jsonPath":".status.certificates[?(@.role==\"server\")].notAfter"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("has(self.serverCertificateArn) != has(self.serverCertificate)")
        .message("set exactly one of serverCertificateArn (an ACM ARN) and serverCertificate (secretRef or managed)"),
    validation = Rule::new("has(self.serverCertificate) || self.authenticationOptions.all(a, !has(a.mutualAuthentication) || has(a.mutualAuthentication.clientRootCertificateChainArn) || has(a.mutualAuthentication.clientRootCertificateChainSecretRef))")
        .message("mutualAuthentication needs clientRootCertificateChainArn or clientRootCertificateChainSecretRef when the server certificate is given as an ARN")
        .field_path(".authenticationOptions"),
    validation = Rule::new("has(self.clientCidrBlock) || self.trafficIpAddressType == 'ipv6'")
        .message("clientCidrBlock is required unless trafficIpAddressType is ipv6")
        .field_path(".clientCidrBlock"),
    validation = Rule::new("!has(self.securityGroupIds) || size(self.securityGroupIds) == 0 || has(self.vpcId)")
        .message("securityGroupIds cannot be specified without vpcId")
        .field_path(".securityGroupIds"),
    validation = Rule::new("!has(self.transitGatewayConfiguration) || (!has(self.vpcId) && (!has(self.securityGroupIds) || size(self.securityGroupIds) == 0))")
        .message("transitGatewayConfiguration cannot be combined with vpcId or securityGroupIds")
        .field_path(".transitGatewayConfiguration"),
    validation = Rule::new("!has(self.selfServicePortal) || self.selfServicePortal == 'disabled' || self.authenticationOptions.exists(a, a.type != 'certificate-authentication')")
        .message("selfServicePortal cannot be enabled with certificate-authentication only; it needs directory-service or federated authentication")
        .field_path(".selfServicePortal"),
    validation = Rule::new("has(self.clientCidrBlock) == has(oldSelf.clientCidrBlock)")
        .message("clientCidrBlock is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead")
        .field_path(".clientCidrBlock"),
    validation = Rule::new("has(self.transitGatewayConfiguration) == has(oldSelf.transitGatewayConfiguration)")
        .message("transitGatewayConfiguration is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead")
        .field_path(".transitGatewayConfiguration"),
    validation = Rule::new("!has(self.routes) || self.routes.all(r, has(self.targetNetworks) && self.targetNetworks.exists(t, t.subnetId == r.targetVpcSubnetId))")
        .message("routes: every targetVpcSubnetId must also be listed in targetNetworks")
        .field_path(".routes"),
    validation = Rule::new("has(self.region) == has(oldSelf.region)")
        .message("region is immutable: an endpoint cannot move between regions; create a new ClientVpnEndpoint instead")
        .field_path(".region")
)]
#[serde(rename_all = "camelCase")]
pub struct ClientVpnEndpointSpec {
    /// AWS region of the endpoint, e.g. `eu-west-1`. Default: the operator's region (from the
    /// standard AWS chain: `AWS_REGION`, profile, instance metadata). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("region is immutable: an endpoint cannot move between regions; create a new ClientVpnEndpoint instead"))]
    pub region: Option<String>,

    /// IPv4 range, in CIDR notation, from which client IP addresses are assigned; between /12 and
    /// /22, and not overlapping the VPC or routes (AWS: `ClientCidrBlock`). Required unless
    /// `trafficIpAddressType` is `ipv6`. Immutable: AWS cannot modify it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 43))]
    #[x_kube(
        validation = Rule::new("isCIDR(self) && cidr(self).ip().family() == 4 && cidr(self).prefixLength() >= 12 && cidr(self).prefixLength() <= 22")
            .message("clientCidrBlock must be an IPv4 CIDR block from /12 to /22, e.g. 10.100.0.0/22"),
        validation = Rule::new("self == oldSelf")
            .message("clientCidrBlock is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead")
    )]
    pub client_cidr_block: Option<String>,

    /// ARN of the server certificate in AWS Certificate Manager (AWS: `ServerCertificateArn`).
    /// Changing it drops every live VPN connection. Exactly one of `serverCertificateArn` and
    /// `serverCertificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$")
    )]
    pub server_certificate_arn: Option<String>,

    /// The server certificate from a `kubernetes.io/tls` Secret (e.g. cert-manager's) or from a
    /// CA the operator manages; the operator imports it into ACM, re-imports renewals into the
    /// same ACM certificate and deletes it after the endpoint (unless `deletionPolicy: Retain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate: Option<CertificateSource>,

    /// How clients authenticate (AWS: `Authentication.N`): one option, or two where one is
    /// `certificate-authentication` and the other `directory-service-authentication` or
    /// `federated-authentication`. Immutable: AWS cannot modify it.
    #[schemars(length(min = 1, max = 2))]
    #[x_kube(
        validation = Rule::new("size(self) < 2 || (self[0].type != self[1].type && self.exists(a, a.type == 'certificate-authentication'))")
            .message("authenticationOptions: two options must be certificate-authentication plus directory-service-authentication or federated-authentication (directory-service + federated is not allowed)"),
        validation = Rule::new("self == oldSelf")
            .message("authenticationOptions is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead")
    )]
    pub authentication_options: Vec<AuthenticationOption>,

    /// Connection logging to CloudWatch Logs (AWS: `ConnectionLogOptions`). Default: disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_log_options: Option<ConnectionLogOptions>,

    /// Up to two DNS server IP addresses pushed to clients (AWS: `DnsServers`). Empty: clients keep
    /// their own resolver. Changing it drops live VPN connections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2), inner(length(max = 45)))]
    #[x_kube(validation = Rule::new("self.all(s, isIP(s))").message("dnsServers must be IP addresses (at most 2)"))]
    pub dns_servers: Vec<String>,

    /// Free-text description (AWS: `Description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,

    /// Route only traffic for the endpoint's routes through the VPN (AWS: `SplitTunnel`). Default:
    /// false (all traffic through the VPN). Changing it drops live VPN connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_tunnel: Option<bool>,

    /// Transport protocol of the VPN session (AWS: `TransportProtocol`): `udp` (default) or `tcp`.
    /// Immutable: AWS cannot modify it.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("transportProtocol is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead"))]
    pub transport_protocol: TransportProtocol,

    /// Port of the VPN endpoint (AWS: `VpnPort`): 443 (default) or 1194. Changing it drops live
    /// VPN connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [443, 1194]))]
    pub vpn_port: Option<i32>,

    /// ID of the VPC whose security groups apply to the endpoint (AWS: `VpcId`). Required when
    /// `securityGroupIds` is set; without it, the first target network fixes the VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^vpc-[0-9a-f]{8,17}$"))]
    pub vpc_id: Option<String>,

    /// Up to five security groups applied to the endpoint's network interfaces (AWS:
    /// `SecurityGroupId.N`). Requires `vpcId`; empty means the VPC's default security group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(regex(pattern = r"^sg-[0-9a-f]{8,17}$")))]
    pub security_group_ids: Vec<String>,

    /// Self-service portal for clients to download configuration (AWS: `SelfServicePortal`):
    /// `enabled` or `disabled`. Not available with certificate-authentication only. Default: AWS's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_service_portal: Option<SelfServicePortal>,

    /// A Lambda function that authorizes new connections (AWS: `ClientConnectOptions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_connect_options: Option<ClientConnectOptions>,

    /// Maximum VPN session duration in hours (AWS: `SessionTimeoutHours`): 8, 10, 12 or 24
    /// (default 24). Lowering it drops sessions older than the new limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [8, 10, 12, 24]))]
    pub session_timeout_hours: Option<i32>,

    /// Text shown by the AWS VPN client when a session starts (AWS: `ClientLoginBannerOptions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_login_banner_options: Option<ClientLoginBannerOptions>,

    /// Disconnect clients when the session timeout is reached instead of asking them to
    /// re-authenticate (AWS: `DisconnectOnSessionTimeout`). Default: AWS's (true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_on_session_timeout: Option<bool>,

    /// Enforce the endpoint's routes on the client device (AWS: `ClientRouteEnforcementOptions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_route_enforcement_options: Option<ClientRouteEnforcementOptions>,

    /// IP address type of the endpoint itself (AWS: `EndpointIpAddressType`): `ipv4` (default),
    /// `ipv6` or `dual-stack`. Immutable: AWS cannot modify it.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("endpointIpAddressType is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead"))]
    pub endpoint_ip_address_type: IpAddressType,

    /// IP address type of the traffic carried by the VPN (AWS: `TrafficIpAddressType`): `ipv4`
    /// (default), `ipv6` or `dual-stack`. Immutable: AWS cannot modify it.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf").message("trafficIpAddressType is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead"))]
    pub traffic_ip_address_type: IpAddressType,

    /// Attach the endpoint to a transit gateway instead of a VPC (AWS:
    /// `TransitGatewayConfiguration`). Such endpoints start in `pending`. Excludes `vpcId` and
    /// `securityGroupIds`. Immutable: AWS cannot modify it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("transitGatewayConfiguration is immutable: AWS cannot change it; create a new ClientVpnEndpoint instead"))]
    pub transit_gateway_configuration: Option<TransitGatewayConfiguration>,

    /// Device posture checks by a trust provider (AWS: `DevicePostureOptions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_posture_options: Option<DevicePostureOptions>,

    /// Subnets to associate with the endpoint (AWS: `AssociateClientVpnTargetNetwork`), at most
    /// one per availability zone, all in one VPC. The first association makes the endpoint
    /// `available` (it takes minutes on AWS). Removing an entry deletes the routes through that
    /// subnet, then disassociates it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["subnetId".into()]))]
    pub target_networks: Vec<TargetNetworkSpec>,

    /// Which client groups may reach which networks (AWS: `AuthorizeClientVpnIngress`). The list
    /// is authoritative: rules on the endpoint that are not listed here are revoked. A rule
    /// listed twice is applied once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200))]
    pub authorization_rules: Vec<AuthorizationRuleSpec>,

    /// Routes added to the endpoint's route table (AWS: `CreateClientVpnRoute`). Only routes of
    /// origin `add-route` are managed; the automatic route of each association is left alone.
    /// The list is authoritative: other `add-route` routes are deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["destinationCidrBlock".into(), "targetVpcSubnetId".into()]))]
    pub routes: Vec<RouteSpec>,

    /// Export the OpenVPN client configuration (AWS: `ExportClientVpnClientConfiguration`) into a
    /// ConfigMap of this namespace, refreshed when the endpoint's DNS name, port, protocol or
    /// server certificate changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_configuration: Option<ClientConfigurationSpec>,

    /// Tags for the AWS endpoint, merged with the operator's ownership tags (`clientvpn.io/*`).
    /// At most 46 tags; keys may not start with `aws:` or `clientvpn.io/`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 46))]
    #[x_kube(validation = Rule::new("self.all(k, size(k) <= 127 && size(self[k]) <= 256 && !k.startsWith('aws:') && !k.startsWith('clientvpn.io/'))")
        .message("tags: keys are at most 127 characters, values at most 256, and keys may not start with aws: or clientvpn.io/"))]
    pub tags: BTreeMap<String, String>,

    /// What happens to the AWS endpoint when this object is deleted: `Delete` (default) removes
    /// it, and the object stays until AWS reports it gone; `Retain` leaves it in AWS.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// A subnet associated with the endpoint.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TargetNetworkSpec {
    /// Subnet ID, e.g. `subnet-0123456789abcdef0` (AWS: `SubnetId`).
    #[schemars(length(max = 24), regex(pattern = r"^subnet-[0-9a-f]{8,17}$"))]
    pub subnet_id: String,
}

/// One authorization rule: a destination network and who may reach it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[x_kube(validation = Rule::new("has(self.accessGroupId) != (has(self.authorizeAllGroups) && self.authorizeAllGroups)")
    .message("set exactly one of accessGroupId or authorizeAllGroups: true"))]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRuleSpec {
    /// Destination network in CIDR notation, e.g. `10.0.0.0/16` (AWS: `TargetNetworkCidr`).
    #[schemars(length(max = 43))]
    #[x_kube(validation = Rule::new("isCIDR(self)").message("targetNetworkCidr must be a CIDR block, e.g. 10.0.0.0/16"))]
    pub target_network_cidr: String,
    /// Active Directory or IdP group allowed (AWS: `AccessGroupId`). Exclusive with `authorizeAllGroups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub access_group_id: Option<String>,
    /// Allow every client (AWS: `AuthorizeAllGroups`). Exclusive with `accessGroupId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_all_groups: Option<bool>,
    /// Free-text description (AWS: `Description`); set at creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,
}

/// One route of the endpoint's route table.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    /// Destination in CIDR notation, e.g. `0.0.0.0/0` (AWS: `DestinationCidrBlock`).
    #[schemars(length(max = 43))]
    #[x_kube(validation = Rule::new("isCIDR(self)").message("destinationCidrBlock must be a CIDR block, e.g. 0.0.0.0/0"))]
    pub destination_cidr_block: String,
    /// Associated subnet the traffic leaves through (AWS: `TargetVpcSubnetId`); it must also be
    /// listed in `targetNetworks`.
    #[schemars(length(max = 24), regex(pattern = r"^subnet-[0-9a-f]{8,17}$"))]
    pub target_vpc_subnet_id: String,
    /// Free-text description (AWS: `Description`); set at creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,
}

/// Where to write the exported client configuration.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfigurationSpec {
    /// Name of the ConfigMap (in this object's namespace) that receives `client.ovpn`. The
    /// operator owns it: it is deleted with this object.
    #[schemars(
        length(max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub config_map_name: String,
}

/// Connection logging settings (AWS: `ConnectionLogOptions`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("!self.enabled || has(self.cloudwatchLogGroup)")
    .message("connectionLogOptions.cloudwatchLogGroup is required when enabled is true"))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionLogOptions {
    /// Whether connection logging is on (AWS: `Enabled`).
    pub enabled: bool,
    /// CloudWatch Logs log group name (AWS: `CloudwatchLogGroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub cloudwatch_log_group: Option<String>,
    /// CloudWatch Logs log stream name (AWS: `CloudwatchLogStream`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub cloudwatch_log_stream: Option<String>,
    /// Include the authorization policy context in logs (AWS: `IncludeAuthorizationPolicyContext`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_authorization_policy_context: Option<bool>,
}

/// Client-connect handler settings (AWS: `ClientConnectOptions`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("!self.enabled || has(self.lambdaFunctionArn)")
    .message("clientConnectOptions.lambdaFunctionArn is required when enabled is true"))]
#[serde(rename_all = "camelCase")]
pub struct ClientConnectOptions {
    /// Whether the client-connect handler runs (AWS: `Enabled`).
    pub enabled: bool,
    /// ARN of the Lambda function (AWS: `LambdaFunctionArn`); its name must start with `AWSClientVPN-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^arn:aws[a-z-]*:lambda:.+$"))]
    pub lambda_function_arn: Option<String>,
}

/// Login banner settings (AWS: `ClientLoginBannerOptions`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new("!self.enabled || has(self.bannerText)")
    .message("clientLoginBannerOptions.bannerText is required when enabled is true"))]
#[serde(rename_all = "camelCase")]
pub struct ClientLoginBannerOptions {
    /// Whether the banner is shown (AWS: `Enabled`).
    pub enabled: bool,
    /// Banner text, at most 1400 UTF-8 characters (AWS: `BannerText`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1400))]
    pub banner_text: Option<String>,
}

/// Client route enforcement settings (AWS: `ClientRouteEnforcementOptions`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientRouteEnforcementOptions {
    /// Whether the client enforces the endpoint's routes (AWS: `Enforced`).
    pub enforced: bool,
}

/// Transit gateway attachment (AWS: `TransitGatewayConfiguration`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TransitGatewayConfiguration {
    /// ID of the transit gateway, e.g. `tgw-0123456789abcdef0` (AWS: `TransitGatewayId`).
    #[schemars(regex(pattern = r"^tgw-[0-9a-f]{8,17}$"))]
    pub transit_gateway_id: String,
    /// Availability zone names, e.g. `us-east-1a` (AWS: `AvailabilityZone.N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    /// Availability zone IDs, e.g. `use1-az1` (AWS: `AvailabilityZoneId.N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zone_ids: Vec<String>,
}

/// Device posture settings (AWS: `DevicePostureOptions`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DevicePostureOptions {
    /// Whether device posture is checked (AWS: `Enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Trust providers that assess devices (AWS: `TrustProvider.N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_providers: Vec<TrustProvider>,
}

/// A device trust provider (AWS: `ClientVpnTrustProviderRequest`).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrustProvider {
    /// Provider type (AWS: `TrustProviderType`): `crowdstrike`, `jamf` or `jumpcloud`.
    pub trust_provider_type: TrustProviderType,
    /// Tenant ID at the provider (AWS: `TenantId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// URL of the provider's public signing key (AWS: `PublicSigningKeyUrl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_signing_key_url: Option<String>,
}

/// Device trust provider types accepted by AWS.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TrustProviderType {
    Crowdstrike,
    Jamf,
    Jumpcloud,
}

/// VPN transport protocol.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    #[default]
    Udp,
    Tcp,
}

/// Self-service portal setting.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SelfServicePortal {
    Enabled,
    Disabled,
}

/// IP address type of the endpoint or of its traffic.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IpAddressType {
    #[default]
    Ipv4,
    Ipv6,
    DualStack,
}

/// What the operator does with the AWS endpoint when the object is deleted.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// Delete the AWS endpoint; the object stays until AWS reports it gone.
    #[default]
    Delete,
    /// Leave the AWS endpoint in place and only remove the object.
    Retain,
}

/// The wire value of a spec enum, as AWS spells it.
pub trait WireValue {
    /// The AWS wire string, e.g. `certificate-authentication`.
    fn wire(&self) -> &'static str;
}

impl WireValue for TransportProtocol {
    fn wire(&self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
        }
    }
}

impl WireValue for SelfServicePortal {
    fn wire(&self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }
}

impl WireValue for IpAddressType {
    fn wire(&self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::DualStack => "dual-stack",
        }
    }
}

impl WireValue for TrustProviderType {
    fn wire(&self) -> &'static str {
        match self {
            Self::Crowdstrike => "crowdstrike",
            Self::Jamf => "jamf",
            Self::Jumpcloud => "jumpcloud",
        }
    }
}
