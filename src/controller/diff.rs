//! Pure comparisons of the spec with what AWS reports: modifiable settings, tags, children
//! (target networks, authorization rules, routes) and the settings fixed at creation.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::{ClientVpnEndpointSpec, WireValue};
use crate::cloud::{
    ClientConnect, ConnectionLog, EndpointSettings, FixedSettings, LoginBanner, ModifyEndpoint,
    Route, RouteKey, RuleKey, TargetNetwork,
};

/// AWS's defaults for settings the spec leaves out.
const DEFAULT_VPN_PORT: i32 = 443;
const DEFAULT_SESSION_TIMEOUT_HOURS: i32 = 24;

/// The `ModifyClientVpnEndpoint` fields where AWS differs from the spec. Security groups of an
/// unchanged VPC are not here: see [`security_groups_to_apply`].
pub fn settings_to_modify(spec: &ClientVpnEndpointSpec, aws: &EndpointSettings) -> ModifyEndpoint {
    let mut change = ModifyEndpoint::default();
    if spec.server_certificate_arn != aws.server_certificate_arn {
        change.server_certificate_arn = Some(spec.server_certificate_arn.clone());
    }
    let log = connection_log(spec);
    if log != normalized_log(&aws.connection_log) {
        change.connection_log = Some(log);
    }
    if spec.dns_servers != aws.dns_servers {
        change.dns_servers = Some(spec.dns_servers.clone());
    }
    let port = spec.vpn_port.unwrap_or(DEFAULT_VPN_PORT);
    if port != aws.vpn_port {
        change.vpn_port = Some(port);
    }
    let description = spec.description.clone().unwrap_or_default();
    if description != aws.description {
        change.description = Some(description);
    }
    let split = spec.split_tunnel.unwrap_or(false);
    if split != aws.split_tunnel {
        change.split_tunnel = Some(split);
    }
    if let Some(vpc) = &spec.vpc_id
        && aws.vpc_id.as_ref() != Some(vpc)
    {
        change.vpc = Some((vpc.clone(), sorted(&spec.security_group_ids)));
    }
    if let Some(portal) = spec.self_service_portal {
        let enabled = portal.wire() == "enabled";
        if enabled != aws.self_service_portal {
            change.self_service_portal = Some(enabled);
        }
    }
    let connect = client_connect(spec);
    if connect != normalized_connect(&aws.client_connect) {
        change.client_connect = Some(connect);
    }
    let timeout = spec
        .session_timeout_hours
        .unwrap_or(DEFAULT_SESSION_TIMEOUT_HOURS);
    if timeout != aws.session_timeout_hours {
        change.session_timeout_hours = Some(timeout);
    }
    let banner = login_banner(spec);
    if banner != normalized_banner(&aws.login_banner) {
        change.login_banner = Some(banner);
    }
    let disconnect = spec.disconnect_on_session_timeout.unwrap_or(true);
    if disconnect != aws.disconnect_on_session_timeout {
        change.disconnect_on_session_timeout = Some(disconnect);
    }
    let enforced = spec
        .client_route_enforcement_options
        .as_ref()
        .is_some_and(|o| o.enforced);
    if enforced != aws.route_enforcement {
        change.route_enforcement = Some(enforced);
    }
    change
}

/// Names of the fields in a change that drop live VPN connections when applied.
pub fn disruptive_fields(change: &ModifyEndpoint) -> Vec<&'static str> {
    [
        ("dnsServers", change.dns_servers.is_some()),
        ("splitTunnel", change.split_tunnel.is_some()),
        (
            "sessionTimeoutHours",
            change.session_timeout_hours.is_some(),
        ),
        ("vpnPort", change.vpn_port.is_some()),
        (
            "serverCertificateArn",
            change.server_certificate_arn.is_some(),
        ),
        ("vpcId", change.vpc.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// Names of the fields a change touches, for events.
pub fn changed_fields(change: &ModifyEndpoint) -> Vec<&'static str> {
    [
        (
            "serverCertificateArn",
            change.server_certificate_arn.is_some(),
        ),
        ("connectionLogOptions", change.connection_log.is_some()),
        ("dnsServers", change.dns_servers.is_some()),
        ("vpnPort", change.vpn_port.is_some()),
        ("description", change.description.is_some()),
        ("splitTunnel", change.split_tunnel.is_some()),
        ("vpcId", change.vpc.is_some()),
        ("selfServicePortal", change.self_service_portal.is_some()),
        ("clientConnectOptions", change.client_connect.is_some()),
        (
            "sessionTimeoutHours",
            change.session_timeout_hours.is_some(),
        ),
        ("clientLoginBannerOptions", change.login_banner.is_some()),
        (
            "disconnectOnSessionTimeout",
            change.disconnect_on_session_timeout.is_some(),
        ),
        (
            "clientRouteEnforcementOptions",
            change.route_enforcement.is_some(),
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// Security groups to apply when the VPC stays the same but its groups differ.
pub fn security_groups_to_apply(
    spec: &ClientVpnEndpointSpec,
    aws: &EndpointSettings,
) -> Option<(String, Vec<String>)> {
    let vpc = spec.vpc_id.as_ref()?;
    let wanted = sorted(&spec.security_group_ids);
    (aws.vpc_id.as_ref() == Some(vpc) && !wanted.is_empty() && wanted != aws.security_group_ids)
        .then(|| (vpc.clone(), wanted))
}

fn sorted(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values
}

fn connection_log(spec: &ClientVpnEndpointSpec) -> ConnectionLog {
    let log = spec.connection_log_options.clone().unwrap_or_default();
    normalized_log(&ConnectionLog {
        enabled: log.enabled,
        log_group: log.cloudwatch_log_group,
        log_stream: log.cloudwatch_log_stream,
        include_authorization_policy_context: log
            .include_authorization_policy_context
            .unwrap_or(false),
    })
}

/// A disabled log compares equal whatever names AWS still remembers.
fn normalized_log(log: &ConnectionLog) -> ConnectionLog {
    if log.enabled {
        log.clone()
    } else {
        ConnectionLog::default()
    }
}

fn client_connect(spec: &ClientVpnEndpointSpec) -> ClientConnect {
    let connect = spec.client_connect_options.as_ref();
    normalized_connect(&ClientConnect {
        enabled: connect.is_some_and(|c| c.enabled),
        lambda_function_arn: connect.and_then(|c| c.lambda_function_arn.clone()),
    })
}

fn normalized_connect(connect: &ClientConnect) -> ClientConnect {
    if connect.enabled {
        connect.clone()
    } else {
        ClientConnect::default()
    }
}

fn login_banner(spec: &ClientVpnEndpointSpec) -> LoginBanner {
    let banner = spec.client_login_banner_options.as_ref();
    normalized_banner(&LoginBanner {
        enabled: banner.is_some_and(|b| b.enabled),
        text: banner.and_then(|b| b.banner_text.clone()),
    })
}

fn normalized_banner(banner: &LoginBanner) -> LoginBanner {
    if banner.enabled {
        banner.clone()
    } else {
        LoginBanner::default()
    }
}

/// Tag changes: which tags to set and which keys to remove.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

/// Set the wanted tags (user + ownership) that AWS lacks or holds with another value; remove
/// only user tags the operator applied before and the spec no longer lists.
pub fn tag_changes(
    wanted: &BTreeMap<String, String>,
    previously_applied: &[String],
    aws: &BTreeMap<String, String>,
) -> TagChanges {
    let set = wanted
        .iter()
        .filter(|(key, value)| aws.get(*key) != Some(*value))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = previously_applied
        .iter()
        .filter(|key| !wanted.contains_key(*key) && aws.contains_key(*key))
        .filter(|key| !key.starts_with(crate::api::tags::PREFIX))
        .cloned()
        .collect();
    TagChanges { set, remove }
}

/// Settings fixed at creation that differ between the spec and AWS, by spec field name.
pub fn fixed_mismatches(spec: &ClientVpnEndpointSpec, aws: &FixedSettings) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if spec.client_cidr_block != aws.client_cidr_block {
        fields.push("clientCidrBlock");
    }
    if spec.transport_protocol.wire() != aws.transport_protocol {
        fields.push("transportProtocol");
    }
    let ip_type = |reported: &str| {
        if reported.is_empty() {
            "ipv4".to_string()
        } else {
            reported.to_string()
        }
    };
    if spec.endpoint_ip_address_type.wire() != ip_type(&aws.endpoint_ip_address_type) {
        fields.push("endpointIpAddressType");
    }
    if spec.traffic_ip_address_type.wire() != ip_type(&aws.traffic_ip_address_type) {
        fields.push("trafficIpAddressType");
    }
    let wanted: BTreeSet<(String, Option<String>)> = spec
        .authentication_options
        .iter()
        .map(|a| {
            (
                a.type_.wire().to_string(),
                a.reference().map(str::to_string),
            )
        })
        .collect();
    let reported: BTreeSet<(String, Option<String>)> = aws
        .authentication
        .iter()
        .map(|a| (a.type_.clone(), a.reference.clone()))
        .collect();
    if wanted != reported {
        fields.push("authenticationOptions");
    }
    fields
}

/// Wanted authorization rules from the spec, keyed.
pub fn wanted_rules(spec: &ClientVpnEndpointSpec) -> BTreeMap<RuleKey, Option<String>> {
    spec.authorization_rules
        .iter()
        .map(|r| {
            let key = RuleKey {
                target_network_cidr: r.target_network_cidr.clone(),
                access_group_id: r
                    .access_group_id
                    .clone()
                    .filter(|_| r.authorize_all_groups != Some(true)),
            };
            (key, r.description.clone())
        })
        .collect()
}

/// Wanted routes from the spec, keyed.
pub fn wanted_routes(spec: &ClientVpnEndpointSpec) -> BTreeMap<RouteKey, Option<String>> {
    spec.routes
        .iter()
        .map(|r| {
            let key = RouteKey {
                destination_cidr_block: r.destination_cidr_block.clone(),
                target_subnet_id: r.target_vpc_subnet_id.clone(),
            };
            (key, r.description.clone())
        })
        .collect()
}

/// Associations that still count (not disassociated).
pub fn live_associations(networks: &[TargetNetwork]) -> impl Iterator<Item = &TargetNetwork> {
    networks.iter().filter(|n| n.status_code != "disassociated")
}

/// Routes the operator manages (origin `add-route`).
pub fn managed_routes(routes: &[Route]) -> impl Iterator<Item = &Route> {
    routes.iter().filter(|r| r.origin == "add-route")
}
