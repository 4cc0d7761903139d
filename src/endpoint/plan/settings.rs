//! Pure comparisons of the normalized endpoint with what AWS reports: modifiable settings,
//! security groups, tags and the settings fixed at creation.

use std::collections::{BTreeMap, BTreeSet};

use crate::cloud::{EndpointSettings, FixedSettings, ModifyEndpoint};

/// The `ModifyClientVpnEndpoint` fields where AWS differs from the wanted settings. Security
/// groups of an unchanged VPC are not here: see [`security_groups_to_apply`]. A wanted VPC or
/// self-service portal of `None` leaves AWS's as it is.
pub fn settings_to_modify(wanted: &EndpointSettings, aws: &EndpointSettings) -> ModifyEndpoint {
    let mut change = ModifyEndpoint::default();
    if wanted.server_certificate_arn != aws.server_certificate_arn {
        change.server_certificate_arn = Some(wanted.server_certificate_arn.clone());
    }
    if wanted.connection_log != aws.connection_log.normalized() {
        change.connection_log = Some(wanted.connection_log.clone());
    }
    if wanted.dns_servers != aws.dns_servers {
        change.dns_servers = Some(wanted.dns_servers.clone());
    }
    if wanted.vpn_port != aws.vpn_port {
        change.vpn_port = Some(wanted.vpn_port);
    }
    if wanted.description != aws.description {
        change.description = Some(wanted.description.clone());
    }
    if wanted.split_tunnel != aws.split_tunnel {
        change.split_tunnel = Some(wanted.split_tunnel);
    }
    if let Some(vpc) = &wanted.vpc_id
        && aws.vpc_id.as_ref() != Some(vpc)
    {
        change.vpc = Some((vpc.clone(), wanted.security_group_ids.clone()));
    }
    if let Some(enabled) = wanted.self_service_portal
        && Some(enabled) != aws.self_service_portal
    {
        change.self_service_portal = Some(enabled);
    }
    if wanted.client_connect != aws.client_connect.normalized() {
        change.client_connect = Some(wanted.client_connect.clone());
    }
    if wanted.session_timeout_hours != aws.session_timeout_hours {
        change.session_timeout_hours = Some(wanted.session_timeout_hours);
    }
    if wanted.login_banner != aws.login_banner.normalized() {
        change.login_banner = Some(wanted.login_banner.clone());
    }
    if wanted.disconnect_on_session_timeout != aws.disconnect_on_session_timeout {
        change.disconnect_on_session_timeout = Some(wanted.disconnect_on_session_timeout);
    }
    if wanted.route_enforcement != aws.route_enforcement {
        change.route_enforcement = Some(wanted.route_enforcement);
    }
    change
}

/// Every field of a change: spec name, whether the change touches it, and whether applying it
/// drops live VPN connections.
fn fields(change: &ModifyEndpoint) -> [(&'static str, bool, bool); 13] {
    let c = change;
    [
        (
            "serverCertificateArn",
            c.server_certificate_arn.is_some(),
            true,
        ),
        ("connectionLogOptions", c.connection_log.is_some(), false),
        ("dnsServers", c.dns_servers.is_some(), true),
        ("vpnPort", c.vpn_port.is_some(), true),
        ("description", c.description.is_some(), false),
        ("splitTunnel", c.split_tunnel.is_some(), true),
        ("vpcId", c.vpc.is_some(), true),
        ("selfServicePortal", c.self_service_portal.is_some(), false),
        ("clientConnectOptions", c.client_connect.is_some(), false),
        (
            "sessionTimeoutHours",
            c.session_timeout_hours.is_some(),
            true,
        ),
        ("clientLoginBannerOptions", c.login_banner.is_some(), false),
        (
            "disconnectOnSessionTimeout",
            c.disconnect_on_session_timeout.is_some(),
            false,
        ),
        (
            "clientRouteEnforcementOptions",
            c.route_enforcement.is_some(),
            false,
        ),
    ]
}

/// Names of the fields a change touches, for events.
pub fn changed_fields(change: &ModifyEndpoint) -> Vec<&'static str> {
    fields(change)
        .into_iter()
        .filter_map(|(name, changed, _)| changed.then_some(name))
        .collect()
}

/// Names of the fields in a change that drop live VPN connections when applied.
pub fn disruptive_fields(change: &ModifyEndpoint) -> Vec<&'static str> {
    fields(change)
        .into_iter()
        .filter_map(|(name, changed, disruptive)| (changed && disruptive).then_some(name))
        .collect()
}

/// Security groups to apply when the VPC stays the same but its groups differ.
pub fn security_groups_to_apply(
    wanted: &EndpointSettings,
    aws: &EndpointSettings,
) -> Option<(String, Vec<String>)> {
    let vpc = wanted.vpc_id.as_ref()?;
    let groups = &wanted.security_group_ids;
    (aws.vpc_id.as_ref() == Some(vpc) && !groups.is_empty() && *groups != aws.security_group_ids)
        .then(|| (vpc.clone(), groups.clone()))
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

/// Settings fixed at creation that differ between the wanted endpoint and AWS, by spec field
/// name. An IP address type AWS does not report is `ipv4`; authentication options compare by
/// type and reference, in any order.
pub fn fixed_mismatches(wanted: &FixedSettings, aws: &FixedSettings) -> Vec<&'static str> {
    let ip_type = |reported: &str| {
        if reported.is_empty() {
            "ipv4".to_string()
        } else {
            reported.to_string()
        }
    };
    let auth = |fixed: &FixedSettings| -> BTreeSet<(String, Option<String>)> {
        fixed
            .authentication
            .iter()
            .map(|a| (a.type_.clone(), a.reference.clone()))
            .collect()
    };
    [
        (
            "clientCidrBlock",
            wanted.client_cidr_block != aws.client_cidr_block,
        ),
        (
            "transportProtocol",
            wanted.transport_protocol != aws.transport_protocol,
        ),
        (
            "endpointIpAddressType",
            ip_type(&wanted.endpoint_ip_address_type) != ip_type(&aws.endpoint_ip_address_type),
        ),
        (
            "trafficIpAddressType",
            ip_type(&wanted.traffic_ip_address_type) != ip_type(&aws.traffic_ip_address_type),
        ),
        ("authenticationOptions", auth(wanted) != auth(aws)),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
}
