//! Parsing and validating the parameters of CreateClientVpnEndpoint and ModifyClientVpnEndpoint.

use std::collections::BTreeMap;

use super::error::Ec2Error;
use super::network;
use super::query::Params;
use super::tags::{check_tag_count, parse_tags};
use crate::state::{
    AuthOption, ClientConnect, ConnectionLog, DevicePosture, Endpoint, EndpointState, LoginBanner,
    TransitGatewayConfig, TrustProvider,
};

pub(super) const CERTIFICATE: &str = "certificate-authentication";
const DIRECTORY: &str = "directory-service-authentication";
const FEDERATED: &str = "federated-authentication";

/// Validates a Create request into the endpoint it describes (id, times and DNS name are
/// filled in once it is actually created).
pub(super) fn parse_new_endpoint(p: &Params) -> Result<Endpoint, Ec2Error> {
    let traffic_ip_address_type =
        one_of(p, "TrafficIpAddressType", &["ipv4", "ipv6", "dual-stack"])?.unwrap_or("ipv4");
    let endpoint_ip_address_type =
        one_of(p, "EndpointIpAddressType", &["ipv4", "ipv6", "dual-stack"])?.unwrap_or("ipv4");
    let client_cidr_block = match p.non_empty("ClientCidrBlock") {
        Some(cidr) => Some(network::parse_client_cidr(cidr)?.to_string()),
        None if traffic_ip_address_type == "ipv6" => None,
        None => return Err(Ec2Error::missing("ClientCidrBlock")),
    };
    let server_certificate_arn =
        arn(p, "ServerCertificateArn")?.ok_or_else(|| Ec2Error::missing("ServerCertificateArn"))?;
    let authentication_options = parse_authentication(p)?;
    if !p.has("ConnectionLogOptions") {
        return Err(Ec2Error::missing("ConnectionLogOptions"));
    }
    let connection_log = parse_connection_log(p)?.unwrap_or_default();
    let dns_servers = parse_dns_servers(p, "DnsServers")?;
    let transport_protocol = one_of(p, "TransportProtocol", &["tcp", "udp"])?.unwrap_or("udp");
    let vpn_port = parse_port(p)?.unwrap_or(443);
    let description = parse_description(p)?.unwrap_or_default();
    let split_tunnel = p.bool("SplitTunnel")?.unwrap_or(false);

    let mut tags = BTreeMap::new();
    for spec in p.structs("TagSpecification") {
        match spec.get("ResourceType") {
            Some("client-vpn-endpoint") => {}
            other => {
                return Err(Ec2Error::invalid(format!(
                    "'{}' is not a valid taggable resource type for this operation.",
                    other.unwrap_or_default()
                )));
            }
        }
        for (key, value) in parse_tags(&spec, true)? {
            tags.insert(key, value.unwrap_or_default());
        }
    }
    check_tag_count(tags.len())?;

    let security_group_ids = parse_security_groups(p)?;
    let vpc_id = p.non_empty("VpcId").map(str::to_owned);
    if let Some(vpc) = &vpc_id {
        network::check_vpc_id(vpc)?;
    }
    if !security_group_ids.is_empty() && vpc_id.is_none() {
        return Err(no_vpc_for_security_groups());
    }
    let security_group_ids = match (&vpc_id, security_group_ids.is_empty()) {
        (Some(vpc), true) => vec![network::default_security_group(vpc)],
        _ => security_group_ids,
    };
    let self_service_portal = parse_self_service_portal(p)?.unwrap_or(false);
    check_self_service_portal(self_service_portal, &authentication_options)?;
    let transit_gateway_configuration = parse_transit_gateway(p)?;
    if transit_gateway_configuration.is_some() && (vpc_id.is_some() || p.has("SecurityGroupId")) {
        return Err(Ec2Error::combination(
            "TransitGatewayConfiguration cannot be combined with VpcId or SecurityGroupIds.",
        ));
    }

    Ok(Endpoint {
        client_vpn_endpoint_id: String::new(),
        description,
        status: EndpointState::PendingAssociate,
        creation_time: String::new(),
        deletion_time: None,
        dns_name: String::new(),
        client_cidr_block,
        dns_servers,
        split_tunnel,
        transport_protocol: transport_protocol.to_owned(),
        vpn_port,
        server_certificate_arn,
        authentication_options,
        connection_log_options: connection_log,
        tags,
        security_group_ids,
        vpc_id,
        self_service_portal,
        client_connect_options: parse_client_connect(p)?.unwrap_or_default(),
        session_timeout_hours: parse_session_timeout(p)?.unwrap_or(24),
        client_login_banner_options: parse_banner(p)?.unwrap_or_default(),
        disconnect_on_session_timeout: p.bool("DisconnectOnSessionTimeout")?.unwrap_or(true),
        client_route_enforcement: p
            .bool("ClientRouteEnforcementOptions.Enforced")?
            .unwrap_or(false),
        endpoint_ip_address_type: endpoint_ip_address_type.to_owned(),
        traffic_ip_address_type: traffic_ip_address_type.to_owned(),
        transit_gateway_configuration,
        device_posture_options: parse_device_posture(p)?,
        associations: Vec::new(),
        authorization_rules: Vec::new(),
        routes: Vec::new(),
        connections: Vec::new(),
        crl: None,
        applied_crl: None,
        due: None,
        deleted_visible: Default::default(),
    })
}

/// A validated Modify request: `None` = leave as is.
pub(super) struct Change {
    pub(super) server_certificate_arn: Option<String>,
    pub(super) connection_log: Option<ConnectionLog>,
    pub(super) dns_servers: Option<Vec<String>>,
    pub(super) vpn_port: Option<i64>,
    pub(super) description: Option<String>,
    pub(super) split_tunnel: Option<bool>,
    pub(super) security_group_ids: Option<Vec<String>>,
    pub(super) vpc_id: Option<String>,
    pub(super) self_service_portal: Option<bool>,
    pub(super) client_connect: Option<ClientConnect>,
    pub(super) session_timeout_hours: Option<i64>,
    pub(super) banner: Option<LoginBanner>,
    pub(super) route_enforcement: Option<bool>,
    pub(super) disconnect_on_session_timeout: Option<bool>,
    pub(super) transit_gateway: bool,
    pub(super) device_posture: Option<DevicePosture>,
}

pub(super) fn parse_change(p: &Params) -> Result<Change, Ec2Error> {
    let dns = p.sub("DnsServers");
    let dns_servers = match dns.bool("Enabled")? {
        Some(false) => Some(Vec::new()),
        _ if dns.has("CustomDnsServers") => Some(parse_dns_servers(&dns, "CustomDnsServers")?),
        _ => None,
    };
    let security_group_ids = if p.has("SecurityGroupId") {
        Some(parse_security_groups(p)?)
    } else {
        None
    };
    let vpc_id = p.non_empty("VpcId").map(str::to_owned);
    if let Some(vpc) = &vpc_id {
        network::check_vpc_id(vpc)?;
    }
    Ok(Change {
        server_certificate_arn: arn(p, "ServerCertificateArn")?,
        connection_log: parse_connection_log(p)?,
        dns_servers,
        vpn_port: parse_port(p)?,
        description: parse_description(p)?,
        split_tunnel: p.bool("SplitTunnel")?,
        security_group_ids,
        vpc_id,
        self_service_portal: parse_self_service_portal(p)?,
        client_connect: parse_client_connect(p)?,
        session_timeout_hours: parse_session_timeout(p)?,
        banner: parse_banner(p)?,
        route_enforcement: p.bool("ClientRouteEnforcementOptions.Enforced")?,
        disconnect_on_session_timeout: p.bool("DisconnectOnSessionTimeout")?,
        transit_gateway: p.has("TransitGatewayConfiguration"),
        device_posture: parse_device_posture(p)?,
    })
}

fn parse_authentication(p: &Params) -> Result<Vec<AuthOption>, Ec2Error> {
    let entries = p.structs("Authentication");
    if entries.is_empty() {
        return Err(Ec2Error::missing("Authentication"));
    }
    if entries.len() > 2 {
        return Err(Ec2Error::invalid(
            "A Client VPN endpoint supports at most two authentication options.",
        ));
    }
    let mut options = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let n = i + 1;
        let kind = entry
            .required("Type")
            .map_err(|_| Ec2Error::missing(&format!("Authentication.{n}.Type")))?;
        let field = |path: &str| -> Result<String, Ec2Error> {
            entry
                .required(path)
                .map(str::to_owned)
                .map_err(|_| Ec2Error::missing(&format!("Authentication.{n}.{path}")))
        };
        let mut option = AuthOption {
            kind: kind.to_owned(),
            directory_id: None,
            client_root_certificate_chain: None,
            saml_provider_arn: None,
            self_service_saml_provider_arn: None,
        };
        match kind {
            CERTIFICATE => {
                option.client_root_certificate_chain =
                    Some(field("MutualAuthentication.ClientRootCertificateChainArn")?);
            }
            DIRECTORY => option.directory_id = Some(field("ActiveDirectory.DirectoryId")?),
            FEDERATED => {
                option.saml_provider_arn = Some(field("FederatedAuthentication.SAMLProviderArn")?);
                option.self_service_saml_provider_arn = entry
                    .non_empty("FederatedAuthentication.SelfServiceSAMLProviderArn")
                    .map(str::to_owned);
            }
            other => {
                return Err(Ec2Error::invalid_value(
                    &format!("Authentication.{n}.Type"),
                    other,
                    "Valid values: certificate-authentication, directory-service-authentication, federated-authentication.",
                ));
            }
        }
        options.push(option);
    }
    if let [a, b] = options.as_slice() {
        let mut kinds = [a.kind.as_str(), b.kind.as_str()];
        kinds.sort_unstable();
        let allowed = [[CERTIFICATE, DIRECTORY], [CERTIFICATE, FEDERATED]];
        if !allowed.contains(&kinds) {
            return Err(Ec2Error::invalid(format!(
                "The authentication options {} and {} cannot be combined. Allowed pairs: mutual + Active Directory, mutual + federated.",
                kinds[0], kinds[1]
            )));
        }
    }
    Ok(options)
}

pub(super) fn check_self_service_portal(
    enabled: bool,
    auth: &[AuthOption],
) -> Result<(), Ec2Error> {
    if enabled && auth.iter().all(|a| a.kind == CERTIFICATE) {
        return Err(Ec2Error::invalid(
            "The self-service portal is not supported for endpoints that use mutual authentication only.",
        ));
    }
    Ok(())
}

fn parse_connection_log(p: &Params) -> Result<Option<ConnectionLog>, Ec2Error> {
    let log = p.sub("ConnectionLogOptions");
    if log.is_empty() {
        return Ok(None);
    }
    let enabled = log
        .bool("Enabled")?
        .ok_or_else(|| Ec2Error::missing("ConnectionLogOptions.Enabled"))?;
    let group = log.non_empty("CloudwatchLogGroup").map(str::to_owned);
    if enabled && group.is_none() {
        return Err(Ec2Error::missing("ConnectionLogOptions.CloudwatchLogGroup"));
    }
    Ok(Some(ConnectionLog {
        enabled,
        cloudwatch_log_group: group,
        cloudwatch_log_stream: log.non_empty("CloudwatchLogStream").map(str::to_owned),
        include_authorization_policy_context: log.bool("IncludeAuthorizationPolicyContext")?,
    }))
}

fn parse_dns_servers(p: &Params, prefix: &str) -> Result<Vec<String>, Ec2Error> {
    let servers = p.list(prefix);
    if servers.len() > 2 {
        return Err(Ec2Error::invalid(
            "A Client VPN endpoint can have at most two DNS servers.",
        ));
    }
    for server in &servers {
        network::parse_ip("DnsServers", server)?;
    }
    Ok(servers)
}

fn parse_security_groups(p: &Params) -> Result<Vec<String>, Ec2Error> {
    let groups = p.list("SecurityGroupId");
    if groups.len() > 5 {
        return Err(Ec2Error::invalid(
            "At most five security groups can be applied.",
        ));
    }
    for group in &groups {
        network::check_security_group_id(group)?;
    }
    Ok(groups)
}

fn parse_port(p: &Params) -> Result<Option<i64>, Ec2Error> {
    match p.int("VpnPort")? {
        None => Ok(None),
        Some(port @ (443 | 1194)) => Ok(Some(port)),
        Some(port) => Err(Ec2Error::invalid_value(
            "VpnPort",
            &port.to_string(),
            "Valid values: 443, 1194.",
        )),
    }
}

fn parse_session_timeout(p: &Params) -> Result<Option<i64>, Ec2Error> {
    match p.int("SessionTimeoutHours")? {
        None => Ok(None),
        Some(h @ (8 | 10 | 12 | 24)) => Ok(Some(h)),
        Some(h) => Err(Ec2Error::invalid_value(
            "SessionTimeoutHours",
            &h.to_string(),
            "Valid values: 8, 10, 12, 24.",
        )),
    }
}

fn parse_description(p: &Params) -> Result<Option<String>, Ec2Error> {
    match p.get("Description") {
        Some(d) if d.chars().count() > 255 => Err(Ec2Error::invalid(
            "The description can be at most 255 characters.",
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

fn parse_self_service_portal(p: &Params) -> Result<Option<bool>, Ec2Error> {
    Ok(one_of(p, "SelfServicePortal", &["enabled", "disabled"])?.map(|v| v == "enabled"))
}

/// An optional `{prefix}.Enabled` (default false) with the `{prefix}.{member}` that
/// `Enabled=true` requires.
fn parse_switch(
    p: &Params,
    prefix: &str,
    member: &str,
) -> Result<Option<(bool, Option<String>)>, Ec2Error> {
    p.optional_struct(prefix, |o| {
        let enabled = o.bool("Enabled")?.unwrap_or(false);
        let value = o.get(member).map(str::to_owned);
        if enabled && value.as_deref().is_none_or(str::is_empty) {
            return Err(Ec2Error::missing(&format!("{prefix}.{member}")));
        }
        Ok((enabled, value))
    })
}

fn parse_client_connect(p: &Params) -> Result<Option<ClientConnect>, Ec2Error> {
    let switch = parse_switch(p, "ClientConnectOptions", "LambdaFunctionArn")?;
    Ok(switch.map(|(enabled, lambda)| ClientConnect {
        enabled,
        lambda_function_arn: lambda.filter(|v| !v.is_empty()),
    }))
}

fn parse_banner(p: &Params) -> Result<Option<LoginBanner>, Ec2Error> {
    let switch = parse_switch(p, "ClientLoginBannerOptions", "BannerText")?;
    if let Some((_, Some(text))) = &switch
        && text.chars().count() > 1400
    {
        return Err(Ec2Error::invalid(
            "The login banner text can be at most 1400 characters.",
        ));
    }
    Ok(switch.map(|(enabled, banner_text)| LoginBanner {
        enabled,
        banner_text,
    }))
}

fn parse_transit_gateway(p: &Params) -> Result<Option<TransitGatewayConfig>, Ec2Error> {
    p.optional_struct("TransitGatewayConfiguration", |o| {
        let tgw = o
            .required("TransitGatewayId")
            .map_err(|_| Ec2Error::missing("TransitGatewayConfiguration.TransitGatewayId"))?;
        if !tgw.starts_with("tgw-") {
            return Err(Ec2Error::invalid(format!(
                "Invalid id: \"{tgw}\" (expecting \"tgw-...\")"
            )));
        }
        Ok(TransitGatewayConfig {
            transit_gateway_id: tgw.to_owned(),
            transit_gateway_attachment_id: String::new(),
            availability_zones: o.list("AvailabilityZone"),
            availability_zone_ids: o.list("AvailabilityZoneId"),
        })
    })
}

fn parse_device_posture(p: &Params) -> Result<Option<DevicePosture>, Ec2Error> {
    p.optional_struct("DevicePostureOptions", |o| {
        let mut trust_providers = Vec::new();
        for (i, t) in o.structs("TrustProvider").iter().enumerate() {
            let key = format!(
                "DevicePostureOptions.TrustProvider.{}.TrustProviderType",
                i + 1
            );
            let kind = t
                .required("TrustProviderType")
                .map_err(|_| Ec2Error::missing(&key))?;
            if !["crowdstrike", "jamf", "jumpcloud"].contains(&kind) {
                return Err(Ec2Error::invalid_value(
                    &key,
                    kind,
                    "Valid values: crowdstrike, jamf, jumpcloud.",
                ));
            }
            trust_providers.push(TrustProvider {
                trust_provider_type: kind.to_owned(),
                tenant_id: t.get("TenantId").map(str::to_owned),
                public_signing_key_url: t.get("PublicSigningKeyUrl").map(str::to_owned),
            });
        }
        Ok(DevicePosture {
            enabled: o.bool("Enabled")?,
            trust_providers,
        })
    })
}

fn arn(p: &Params, key: &str) -> Result<Option<String>, Ec2Error> {
    match p.non_empty(key) {
        None => Ok(None),
        Some(v) if v.starts_with("arn:") && v.split(':').count() >= 6 => Ok(Some(v.to_owned())),
        Some(v) => Err(Ec2Error::invalid_value(key, v, "Expected an ARN.")),
    }
}

/// An optional enum member.
fn one_of<'p>(p: &'p Params, key: &str, allowed: &[&str]) -> Result<Option<&'p str>, Ec2Error> {
    match p.get(key) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(Ec2Error::invalid_value(
            key,
            v,
            &format!("Valid values: {}.", allowed.join(", ")),
        )),
    }
}

pub(super) fn no_vpc_for_security_groups() -> Ec2Error {
    Ec2Error::invalid("Security Groups cannot be specified without a VPC ID")
}
