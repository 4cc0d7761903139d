//! Create / Describe / Modify / Delete ClientVpnEndpoint(s).

use std::collections::BTreeMap;

use super::tags::{check_tag_count, parse_tags};
use super::{Ctx, Filter, Page, endpoint_mut, filters, idempotent, return_true};
use crate::clock::format_ec2_time;
use crate::error::Ec2Error;
use crate::model::{
    AssociationState, AuthOption, ClientConnect, ConnectionLog, DevicePosture, Endpoint,
    EndpointState, LoginBanner, Region, TransitGatewayConfig, TrustProvider,
};
use crate::network;
use crate::query::Params;
use crate::xml::Xml;

pub const CREATE_PARAMS: &[&str] = &[
    "ClientCidrBlock",
    "ServerCertificateArn",
    "Authentication.#.Type",
    "Authentication.#.ActiveDirectory.DirectoryId",
    "Authentication.#.MutualAuthentication.ClientRootCertificateChainArn",
    "Authentication.#.FederatedAuthentication.SAMLProviderArn",
    "Authentication.#.FederatedAuthentication.SelfServiceSAMLProviderArn",
    "ConnectionLogOptions.Enabled",
    "ConnectionLogOptions.CloudwatchLogGroup",
    "ConnectionLogOptions.CloudwatchLogStream",
    "ConnectionLogOptions.IncludeAuthorizationPolicyContext",
    "DnsServers.#",
    "TransportProtocol",
    "VpnPort",
    "Description",
    "SplitTunnel",
    "ClientToken",
    "TagSpecification.#.ResourceType",
    "TagSpecification.#.Tag.#.Key",
    "TagSpecification.#.Tag.#.Value",
    "SecurityGroupId.#",
    "VpcId",
    "SelfServicePortal",
    "ClientConnectOptions.Enabled",
    "ClientConnectOptions.LambdaFunctionArn",
    "SessionTimeoutHours",
    "ClientLoginBannerOptions.Enabled",
    "ClientLoginBannerOptions.BannerText",
    "ClientRouteEnforcementOptions.Enforced",
    "DisconnectOnSessionTimeout",
    "EndpointIpAddressType",
    "TrafficIpAddressType",
    "TransitGatewayConfiguration.TransitGatewayId",
    "TransitGatewayConfiguration.AvailabilityZone.#",
    "TransitGatewayConfiguration.AvailabilityZoneId.#",
    "DevicePostureOptions.TrustProvider.#.TrustProviderType",
    "DevicePostureOptions.TrustProvider.#.TenantId",
    "DevicePostureOptions.TrustProvider.#.PublicSigningKeyUrl",
    "DevicePostureOptions.Enabled",
];

pub const DESCRIBE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId.#",
    "MaxResults",
    "NextToken",
    "Filter.#.Name",
    "Filter.#.Value.#",
];

pub const MODIFY_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "ServerCertificateArn",
    "ConnectionLogOptions.Enabled",
    "ConnectionLogOptions.CloudwatchLogGroup",
    "ConnectionLogOptions.CloudwatchLogStream",
    "ConnectionLogOptions.IncludeAuthorizationPolicyContext",
    "DnsServers.CustomDnsServers.#",
    "DnsServers.Enabled",
    "VpnPort",
    "Description",
    "SplitTunnel",
    "SecurityGroupId.#",
    "VpcId",
    "SelfServicePortal",
    "ClientConnectOptions.Enabled",
    "ClientConnectOptions.LambdaFunctionArn",
    "SessionTimeoutHours",
    "ClientLoginBannerOptions.Enabled",
    "ClientLoginBannerOptions.BannerText",
    "ClientRouteEnforcementOptions.Enforced",
    "DisconnectOnSessionTimeout",
    "TransitGatewayConfiguration.TransitGatewayId",
    "TransitGatewayConfiguration.AvailabilityZone.#",
    "TransitGatewayConfiguration.AvailabilityZoneId.#",
    "DevicePostureOptions.TrustProvider.#.TrustProviderType",
    "DevicePostureOptions.TrustProvider.#.TenantId",
    "DevicePostureOptions.TrustProvider.#.PublicSigningKeyUrl",
    "DevicePostureOptions.Enabled",
];

pub const DELETE_PARAMS: &[&str] = &["ClientVpnEndpointId"];

const CERTIFICATE: &str = "certificate-authentication";
const DIRECTORY: &str = "directory-service-authentication";
const FEDERATED: &str = "federated-authentication";

pub fn create(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint = parse_new_endpoint(p)?;
    ctx.proceed()?;
    idempotent(ctx, region, p, |ctx, region| {
        if region.live_endpoint_count() >= ctx.limits.endpoints_per_region {
            return Err(Ec2Error::new(
                "ClientVpnEndpointLimitExceeded",
                format!(
                    "You have reached the maximum number of Client VPN endpoints ({}) in this Region.",
                    ctx.limits.endpoints_per_region
                ),
            ));
        }
        let mut endpoint = endpoint;
        let id = loop {
            let id = ctx.rng.resource_id("cvpn-endpoint-");
            if !region.endpoints.contains_key(&id) {
                break id;
            }
        };
        endpoint.dns_name = format!("*.{id}.prod.clientvpn.{}.amazonaws.com", ctx.region_name);
        endpoint.creation_time = format_ec2_time(ctx.now.wall);
        if let Some(tgw) = &mut endpoint.transit_gateway_configuration {
            tgw.transit_gateway_attachment_id = ctx.rng.resource_id("tgw-attach-");
            endpoint.status = EndpointState::Pending;
            endpoint.due = Some(ctx.due_in(ctx.timing.association()));
        }
        endpoint.client_vpn_endpoint_id = id.clone();
        let mut x = Xml::new();
        x.text("clientVpnEndpointId", &id);
        x.status("status", endpoint.status.as_str(), None);
        x.text("dnsName", &endpoint.dns_name);
        region.endpoints.insert(id, endpoint);
        Ok(x.into_string())
    })
}

pub fn describe(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let ids = p.list("ClientVpnEndpointId");
    let filters = filters(p, &["endpoint-id", "transport-protocol"])?;
    let page = Page::from_params(p)?;
    ctx.proceed()?;
    if let Some(missing) = ids.iter().find(|id| !region.endpoints.contains_key(*id)) {
        return Err(Ec2Error::endpoint_not_found(missing));
    }
    let matching = region
        .endpoints
        .iter()
        .filter(|(id, _)| ids.is_empty() || ids.contains(id))
        .filter(|(_, ep)| filters.iter().all(|f| endpoint_matches(f, ep)))
        .map(|(id, ep)| (id.clone(), ep))
        .collect();
    let (endpoints, next) = page.apply(matching);
    let mut x = Xml::new();
    x.list("clientVpnEndpoint", endpoints, |x, ep| {
        write_endpoint(x, ep)
    });
    x.opt_text("nextToken", next.as_deref());
    Ok(x.into_string())
}

fn endpoint_matches(filter: &Filter, ep: &Endpoint) -> bool {
    match filter.name.as_str() {
        "endpoint-id" => filter.matches(&ep.client_vpn_endpoint_id),
        "transport-protocol" => filter.matches(&ep.transport_protocol),
        _ => false,
    }
}

pub fn modify(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let id = p.required("ClientVpnEndpointId")?;
    let change = parse_change(p)?;
    let ep = endpoint_mut(region, id)?;
    if change.transit_gateway {
        return Err(Ec2Error::invalid(
            "Modifying the transit gateway configuration of a Client VPN endpoint is not supported.",
        ));
    }
    let (vpc_id, security_groups) = resolve_vpc_change(ep, &change)?;
    let self_service_portal = change.self_service_portal.unwrap_or(ep.self_service_portal);
    check_self_service_portal(self_service_portal, &ep.authentication_options)?;
    ctx.proceed()?;

    let Change {
        server_certificate_arn,
        connection_log,
        dns_servers,
        vpn_port,
        description,
        split_tunnel,
        client_connect,
        session_timeout_hours,
        banner,
        route_enforcement,
        disconnect_on_session_timeout,
        device_posture,
        ..
    } = change;
    if let Some(v) = server_certificate_arn {
        ep.server_certificate_arn = v;
    }
    if let Some(v) = connection_log {
        ep.connection_log_options = v;
    }
    if let Some(v) = dns_servers {
        ep.dns_servers = v;
    }
    if let Some(v) = vpn_port {
        ep.vpn_port = v;
    }
    if let Some(v) = description {
        ep.description = v;
    }
    if let Some(v) = split_tunnel {
        ep.split_tunnel = v;
    }
    if let Some(v) = client_connect {
        ep.client_connect_options = v;
    }
    if let Some(v) = session_timeout_hours {
        ep.session_timeout_hours = v;
    }
    if let Some(v) = banner {
        ep.client_login_banner_options = v;
    }
    if let Some(v) = route_enforcement {
        ep.client_route_enforcement = v;
    }
    if let Some(v) = disconnect_on_session_timeout {
        ep.disconnect_on_session_timeout = v;
    }
    if let Some(v) = device_posture {
        ep.device_posture_options = Some(v);
    }
    ep.self_service_portal = self_service_portal;
    if let Some(groups) = security_groups {
        ep.vpc_id = vpc_id;
        for association in &mut ep.associations {
            association.security_groups = groups.clone();
        }
        ep.security_group_ids = groups;
    }
    Ok(return_true())
}

pub fn delete(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let id = p.required("ClientVpnEndpointId")?;
    let ep = match region.endpoints.get_mut(id) {
        Some(ep) if ep.status != EndpointState::Deleted => ep,
        _ => return Err(Ec2Error::endpoint_not_found(id)),
    };
    if ep.status != EndpointState::Deleting && !ep.associations.is_empty() {
        let ids: Vec<&str> = ep
            .associations
            .iter()
            .map(|a| a.association_id.as_str())
            .collect();
        return Err(Ec2Error::new(
            "ClientVpnEndpointAssociationExists",
            format!(
                "The endpoint that you're trying to delete has associations {}",
                ids.join(", ")
            ),
        ));
    }
    ctx.proceed()?;
    if ep.status != EndpointState::Deleting {
        ep.status = EndpointState::Deleting;
        ep.due = Some(ctx.due_in(ctx.timing.delete()));
        ep.deleted_visible = ctx.timing.deleted_visible();
        ep.authorization_rules.clear();
        ep.routes.clear();
    }
    let mut x = Xml::new();
    x.status("status", EndpointState::Deleting.as_str(), None);
    Ok(x.into_string())
}

/// One `<item>` of `clientVpnEndpoint`, every element named and nested as EC2 does.
pub fn write_endpoint(x: &mut Xml, ep: &Endpoint) {
    x.text("clientVpnEndpointId", &ep.client_vpn_endpoint_id);
    x.text("description", &ep.description);
    x.status("status", ep.status.as_str(), None);
    x.text("creationTime", &ep.creation_time);
    x.opt_text("deletionTime", ep.deletion_time.as_deref());
    x.text("dnsName", &ep.dns_name);
    x.opt_text("clientCidrBlock", ep.client_cidr_block.as_deref());
    if !ep.dns_servers.is_empty() {
        x.string_list("dnsServer", &ep.dns_servers);
    }
    x.bool("splitTunnel", ep.split_tunnel);
    x.text("vpnProtocol", "openvpn");
    x.text("transportProtocol", &ep.transport_protocol);
    x.int("vpnPort", ep.vpn_port);
    let associated = ep
        .associations
        .iter()
        .filter(|a| a.status == AssociationState::Associated);
    x.list("associatedTargetNetwork", associated, |x, a| {
        x.text("networkId", &a.target_network_id);
        x.text("networkType", "vpc");
    });
    x.text("serverCertificateArn", &ep.server_certificate_arn);
    x.list(
        "authenticationOptions",
        &ep.authentication_options,
        |x, auth| {
            x.text("type", &auth.kind);
            if let Some(directory_id) = &auth.directory_id {
                x.node("activeDirectory", |x| x.text("directoryId", directory_id));
            }
            if let Some(chain) = &auth.client_root_certificate_chain {
                x.node("mutualAuthentication", |x| {
                    x.text("clientRootCertificateChain", chain)
                });
            }
            if let Some(saml) = &auth.saml_provider_arn {
                x.node("federatedAuthentication", |x| {
                    x.text("samlProviderArn", saml);
                    x.opt_text(
                        "selfServiceSamlProviderArn",
                        auth.self_service_saml_provider_arn.as_deref(),
                    );
                });
            }
        },
    );
    let log = &ep.connection_log_options;
    x.node("connectionLogOptions", |x| {
        x.bool("Enabled", log.enabled);
        x.opt_text("CloudwatchLogGroup", log.cloudwatch_log_group.as_deref());
        x.opt_text("CloudwatchLogStream", log.cloudwatch_log_stream.as_deref());
        x.opt_bool(
            "IncludeAuthorizationPolicyContext",
            log.include_authorization_policy_context,
        );
    });
    x.list("tagSet", &ep.tags, |x, (key, value)| {
        x.text("key", key);
        x.text("value", value);
    });
    x.string_list("securityGroupIdSet", &ep.security_group_ids);
    x.opt_text("vpcId", ep.vpc_id.as_deref());
    if ep.self_service_portal {
        x.text(
            "selfServicePortalUrl",
            &format!(
                "https://self-service.clientvpn.amazonaws.com/endpoints/{}",
                ep.client_vpn_endpoint_id
            ),
        );
    }
    let connect = &ep.client_connect_options;
    x.node("clientConnectOptions", |x| {
        x.bool("enabled", connect.enabled);
        x.opt_text("lambdaFunctionArn", connect.lambda_function_arn.as_deref());
        x.status("status", "applied", None);
    });
    x.int("sessionTimeoutHours", ep.session_timeout_hours);
    let banner = &ep.client_login_banner_options;
    x.node("clientLoginBannerOptions", |x| {
        x.bool("enabled", banner.enabled);
        x.opt_text("bannerText", banner.banner_text.as_deref());
    });
    x.node("clientRouteEnforcementOptions", |x| {
        x.bool("enforced", ep.client_route_enforcement)
    });
    x.bool(
        "disconnectOnSessionTimeout",
        ep.disconnect_on_session_timeout,
    );
    x.text("endpointIpAddressType", &ep.endpoint_ip_address_type);
    x.text("trafficIpAddressType", &ep.traffic_ip_address_type);
    if let Some(tgw) = &ep.transit_gateway_configuration {
        x.node("transitGatewayConfiguration", |x| {
            x.text("transitGatewayId", &tgw.transit_gateway_id);
            x.text(
                "transitGatewayAttachmentId",
                &tgw.transit_gateway_attachment_id,
            );
            x.string_list("availabilityZoneSet", &tgw.availability_zones);
            x.string_list("availabilityZoneIdSet", &tgw.availability_zone_ids);
        });
    }
    if let Some(posture) = &ep.device_posture_options {
        x.node("devicePostureOptions", |x| {
            x.list("trustProviderSet", &posture.trust_providers, |x, t| {
                x.text("trustProviderType", &t.trust_provider_type);
                x.opt_text("tenantId", t.tenant_id.as_deref());
                x.opt_text("publicSigningKeyUrl", t.public_signing_key_url.as_deref());
            });
        });
    }
}

/// Validates a Create request into the endpoint it describes (id, times and DNS name are
/// filled in once it is actually created).
fn parse_new_endpoint(p: &Params) -> Result<Endpoint, Ec2Error> {
    let traffic_ip_address_type =
        one_of(p, "TrafficIpAddressType", &["ipv4", "ipv6", "dual-stack"])?.unwrap_or("ipv4");
    let endpoint_ip_address_type =
        one_of(p, "EndpointIpAddressType", &["ipv4", "ipv6", "dual-stack"])?.unwrap_or("ipv4");
    let client_cidr_block = match p.get("ClientCidrBlock").filter(|v| !v.is_empty()) {
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
    let vpc_id = p.get("VpcId").filter(|v| !v.is_empty()).map(str::to_owned);
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
        due: None,
        deleted_visible: Default::default(),
    })
}

/// A validated Modify request: `None` = leave as is.
struct Change {
    server_certificate_arn: Option<String>,
    connection_log: Option<ConnectionLog>,
    dns_servers: Option<Vec<String>>,
    vpn_port: Option<i64>,
    description: Option<String>,
    split_tunnel: Option<bool>,
    security_group_ids: Option<Vec<String>>,
    vpc_id: Option<String>,
    self_service_portal: Option<bool>,
    client_connect: Option<ClientConnect>,
    session_timeout_hours: Option<i64>,
    banner: Option<LoginBanner>,
    route_enforcement: Option<bool>,
    disconnect_on_session_timeout: Option<bool>,
    transit_gateway: bool,
    device_posture: Option<DevicePosture>,
}

fn parse_change(p: &Params) -> Result<Change, Ec2Error> {
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
    let vpc_id = p.get("VpcId").filter(|v| !v.is_empty()).map(str::to_owned);
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

/// The VPC and security groups after a Modify, or `None` if neither changes.
fn resolve_vpc_change(
    ep: &Endpoint,
    change: &Change,
) -> Result<(Option<String>, Option<Vec<String>>), Ec2Error> {
    if change.vpc_id.is_none() && change.security_group_ids.is_none() {
        return Ok((ep.vpc_id.clone(), None));
    }
    if ep.is_transit_gateway() {
        return Err(Ec2Error::combination(
            "VpcId and SecurityGroupIds cannot be set on a transit gateway Client VPN endpoint.",
        ));
    }
    let vpc_id = match (&change.vpc_id, &ep.vpc_id) {
        (Some(new), _) => new.clone(),
        (None, Some(current)) => current.clone(),
        (None, None) => return Err(no_vpc_for_security_groups()),
    };
    if ep.vpc_id.as_deref() != Some(vpc_id.as_str())
        && let Some(a) = ep.associations.first()
    {
        return Err(Ec2Error::invalid(format!(
            "The VPC of Client VPN endpoint {} cannot be changed to {vpc_id} while target network {} is associated.",
            ep.client_vpn_endpoint_id, a.target_network_id
        )));
    }
    let groups = match &change.security_group_ids {
        Some(groups) if !groups.is_empty() => groups.clone(),
        _ => vec![network::default_security_group(&vpc_id)],
    };
    Ok((Some(vpc_id), Some(groups)))
}

fn no_vpc_for_security_groups() -> Ec2Error {
    Ec2Error::invalid("Security Groups cannot be specified without a VPC ID")
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
                    .get("FederatedAuthentication.SelfServiceSAMLProviderArn")
                    .filter(|v| !v.is_empty())
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

fn check_self_service_portal(enabled: bool, auth: &[AuthOption]) -> Result<(), Ec2Error> {
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
    let group = log
        .get("CloudwatchLogGroup")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if enabled && group.is_none() {
        return Err(Ec2Error::missing("ConnectionLogOptions.CloudwatchLogGroup"));
    }
    Ok(Some(ConnectionLog {
        enabled,
        cloudwatch_log_group: group,
        cloudwatch_log_stream: log
            .get("CloudwatchLogStream")
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
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

fn parse_client_connect(p: &Params) -> Result<Option<ClientConnect>, Ec2Error> {
    let o = p.sub("ClientConnectOptions");
    if o.is_empty() {
        return Ok(None);
    }
    let enabled = o.bool("Enabled")?.unwrap_or(false);
    let lambda = o
        .get("LambdaFunctionArn")
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if enabled && lambda.is_none() {
        return Err(Ec2Error::missing("ClientConnectOptions.LambdaFunctionArn"));
    }
    Ok(Some(ClientConnect {
        enabled,
        lambda_function_arn: lambda,
    }))
}

fn parse_banner(p: &Params) -> Result<Option<LoginBanner>, Ec2Error> {
    let o = p.sub("ClientLoginBannerOptions");
    if o.is_empty() {
        return Ok(None);
    }
    let enabled = o.bool("Enabled")?.unwrap_or(false);
    let text = o.get("BannerText").map(str::to_owned);
    if text.as_ref().is_some_and(|t| t.chars().count() > 1400) {
        return Err(Ec2Error::invalid(
            "The login banner text can be at most 1400 characters.",
        ));
    }
    if enabled && text.as_deref().is_none_or(str::is_empty) {
        return Err(Ec2Error::missing("ClientLoginBannerOptions.BannerText"));
    }
    Ok(Some(LoginBanner {
        enabled,
        banner_text: text,
    }))
}

fn parse_transit_gateway(p: &Params) -> Result<Option<TransitGatewayConfig>, Ec2Error> {
    let o = p.sub("TransitGatewayConfiguration");
    if o.is_empty() {
        return Ok(None);
    }
    let tgw = o
        .required("TransitGatewayId")
        .map_err(|_| Ec2Error::missing("TransitGatewayConfiguration.TransitGatewayId"))?;
    if !tgw.starts_with("tgw-") {
        return Err(Ec2Error::invalid(format!(
            "Invalid id: \"{tgw}\" (expecting \"tgw-...\")"
        )));
    }
    Ok(Some(TransitGatewayConfig {
        transit_gateway_id: tgw.to_owned(),
        transit_gateway_attachment_id: String::new(),
        availability_zones: o.list("AvailabilityZone"),
        availability_zone_ids: o.list("AvailabilityZoneId"),
    }))
}

fn parse_device_posture(p: &Params) -> Result<Option<DevicePosture>, Ec2Error> {
    let o = p.sub("DevicePostureOptions");
    if o.is_empty() {
        return Ok(None);
    }
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
    Ok(Some(DevicePosture {
        enabled: o.bool("Enabled")?,
        trust_providers,
    }))
}

fn arn(p: &Params, key: &str) -> Result<Option<String>, Ec2Error> {
    match p.get(key).filter(|v| !v.is_empty()) {
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
