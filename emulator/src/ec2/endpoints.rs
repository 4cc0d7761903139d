//! Create / Describe / Modify / Delete ClientVpnEndpoint(s).

use super::certificates::{self, Role};
use super::endpoint_params::{
    Change, check_self_service_portal, no_vpc_for_security_groups, parse_change, parse_new_endpoint,
};
use super::error::Ec2Error;
use super::network;
use super::query::{Params, concat};
use super::xml::Xml;
use super::{Ctx, FilterField, Page, endpoint_mut, filters, idempotent, return_true};
use crate::clock::format_ec2_time;
use crate::protocol::check_quota;
use crate::state::{AssociationState, Endpoint, EndpointState, Region, TERMINATED_VISIBLE};

/// The endpoint settings that CreateClientVpnEndpoint and ModifyClientVpnEndpoint both take.
const SETTINGS_PARAMS: &[&str] = &[
    "ServerCertificateArn",
    "ConnectionLogOptions.Enabled",
    "ConnectionLogOptions.CloudwatchLogGroup",
    "ConnectionLogOptions.CloudwatchLogStream",
    "ConnectionLogOptions.IncludeAuthorizationPolicyContext",
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

/// What only CreateClientVpnEndpoint takes (settings fixed at creation, tags, the token).
const CREATE_ONLY_PARAMS: &[&str] = &[
    "ClientCidrBlock",
    "Authentication.#.Type",
    "Authentication.#.ActiveDirectory.DirectoryId",
    "Authentication.#.MutualAuthentication.ClientRootCertificateChainArn",
    "Authentication.#.FederatedAuthentication.SAMLProviderArn",
    "Authentication.#.FederatedAuthentication.SelfServiceSAMLProviderArn",
    "DnsServers.#",
    "TransportProtocol",
    "ClientToken",
    "TagSpecification.#.ResourceType",
    "TagSpecification.#.Tag.#.Key",
    "TagSpecification.#.Tag.#.Value",
    "EndpointIpAddressType",
    "TrafficIpAddressType",
];

pub const CREATE_PARAMS: &[&str] = &concat::<{ SETTINGS_PARAMS.len() + CREATE_ONLY_PARAMS.len() }>(
    SETTINGS_PARAMS,
    CREATE_ONLY_PARAMS,
);

pub const DESCRIBE_PARAMS: &[&str] = &[
    "ClientVpnEndpointId.#",
    "MaxResults",
    "NextToken",
    "Filter.#.Name",
    "Filter.#.Value.#",
];

/// What only ModifyClientVpnEndpoint takes (the endpoint, and DNS servers as a structure).
const MODIFY_ONLY_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "DnsServers.CustomDnsServers.#",
    "DnsServers.Enabled",
];

pub const MODIFY_PARAMS: &[&str] = &concat::<{ SETTINGS_PARAMS.len() + MODIFY_ONLY_PARAMS.len() }>(
    SETTINGS_PARAMS,
    MODIFY_ONLY_PARAMS,
);

pub const DELETE_PARAMS: &[&str] = &["ClientVpnEndpointId"];

pub fn create(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let endpoint = parse_new_endpoint(p)?;
    certificates::check(ctx, region, &endpoint.server_certificate_arn, Role::Server)?;
    for chain in endpoint
        .authentication_options
        .iter()
        .filter_map(|a| a.client_root_certificate_chain.as_deref())
    {
        certificates::check(ctx, region, chain, Role::ClientRoot)?;
    }
    ctx.proceed()?;
    idempotent(ctx, region, p, |ctx, region| {
        let limit = ctx.limits.endpoints_per_region;
        let full = format!(
            "You have reached the maximum number of Client VPN endpoints ({limit}) in this Region."
        );
        let used = region.live_endpoint_count();
        check_quota(used, limit, "ClientVpnEndpointLimitExceeded", full)?;
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
    let filters = filters(p, ENDPOINT_FILTERS)?;
    let page = Page::from_params(p)?;
    ctx.proceed()?;
    if let Some(missing) = ids.iter().find(|id| !region.endpoints.contains_key(*id)) {
        return Err(Ec2Error::endpoint_not_found(missing));
    }
    let matching = region
        .endpoints
        .iter()
        .filter(|(id, _)| ids.is_empty() || ids.contains(id))
        .filter(|(_, ep)| filters.iter().all(|f| f.passes(*ep, ENDPOINT_FILTERS)))
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

/// The filters DescribeClientVpnEndpoints documents.
const ENDPOINT_FILTERS: &[FilterField<Endpoint>] = &[
    ("endpoint-id", |ep| Some(ep.client_vpn_endpoint_id.as_str())),
    ("transport-protocol", |ep| {
        Some(ep.transport_protocol.as_str())
    }),
];

pub fn modify(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let id = p.required("ClientVpnEndpointId")?;
    let change = parse_change(p)?;
    endpoint_mut(region, id)?;
    if let Some(arn) = &change.server_certificate_arn {
        certificates::check(ctx, region, arn, Role::Server)?;
    }
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
    // A new server certificate or split-tunnel setting resets every client connection.
    let resets = server_certificate_arn
        .as_ref()
        .is_some_and(|v| *v != ep.server_certificate_arn)
        || split_tunnel.is_some_and(|v| v != ep.split_tunnel);
    if resets {
        ep.reset_connections(&ctx.now);
        // Wake up to forget the ended sessions.
        ctx.due_in(TERMINATED_VISIBLE);
    }
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
        ep.connections.clear();
        ep.crl = None;
        ep.applied_crl = None;
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
