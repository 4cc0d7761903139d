//! The only place the spec becomes the normalized endpoint, with AWS's defaults filled in.
//! Create sends it, Modify and drift compare AWS with it, adoption checks its fixed fields.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::model::{Desired, DesiredEndpoint, WantedChildren};
use crate::api::{
    self, ClientVpnEndpoint, ClientVpnEndpointSpec, SelfServicePortal, WireValue, tags,
};
use crate::cloud::{
    AuthenticationFact, ClientConnect, ConnectionLog, DevicePosture, EndpointSettings,
    FixedSettings, LoginBanner, RouteKey, RuleKey, TransitGateway, TrustProvider,
};

/// AWS's default `VpnPort`.
pub const DEFAULT_VPN_PORT: i32 = 443;
/// AWS's default `SessionTimeoutHours`.
pub const DEFAULT_SESSION_TIMEOUT_HOURS: i32 = 24;
/// AWS's default `DisconnectOnSessionTimeout`.
pub const DEFAULT_DISCONNECT_ON_SESSION_TIMEOUT: bool = true;

/// What the object wants, normalized; `uid` and `cluster_name` fill the ownership tags.
pub fn desired(obj: &ClientVpnEndpoint, uid: &str, cluster_name: &str) -> Desired {
    let spec = &obj.spec;
    Desired {
        uid: uid.to_string(),
        deleting: obj.metadata.deletion_timestamp.is_some(),
        deletion_policy: spec.deletion_policy,
        generation: obj.metadata.generation,
        endpoint: endpoint(spec),
        wanted_tags: ownership_tags(obj, uid, cluster_name),
        children: children(spec),
        config_map_name: spec
            .client_configuration
            .as_ref()
            .map(|c| c.config_map_name.clone()),
        certificate_revision: String::new(),
        operations_limit: super::DEFAULT_OPERATIONS_LIMIT,
    }
}

/// The user's tags plus the ownership tags (which win).
pub fn ownership_tags(
    obj: &ClientVpnEndpoint,
    uid: &str,
    cluster_name: &str,
) -> BTreeMap<String, String> {
    let mut all = obj.spec.tags.clone();
    all.insert(tags::UID.into(), uid.into());
    all.insert(tags::NAMESPACE.into(), obj.namespace().unwrap_or_default());
    all.insert(tags::NAME.into(), obj.name_any());
    all.insert(tags::CLUSTER.into(), cluster_name.into());
    all
}

/// The endpoint the spec describes, as AWS would report it once created.
pub fn endpoint(spec: &ClientVpnEndpointSpec) -> DesiredEndpoint {
    DesiredEndpoint {
        settings: settings(spec),
        fixed: fixed(spec),
        transit_gateway: spec
            .transit_gateway_configuration
            .as_ref()
            .map(|t| TransitGateway {
                transit_gateway_id: t.transit_gateway_id.clone(),
                availability_zones: t.availability_zones.clone(),
                availability_zone_ids: t.availability_zone_ids.clone(),
            }),
        device_posture: spec.device_posture_options.as_ref().map(device_posture),
    }
}

fn settings(spec: &ClientVpnEndpointSpec) -> EndpointSettings {
    let log = spec.connection_log_options.clone().unwrap_or_default();
    let connect = spec.client_connect_options.as_ref();
    let banner = spec.client_login_banner_options.as_ref();
    let mut security_group_ids = spec.security_group_ids.clone();
    security_group_ids.sort();
    EndpointSettings {
        // Filled from `serverCertificate` (the import's ARN) before planning.
        server_certificate_arn: spec.server_certificate_arn.clone().unwrap_or_default(),
        connection_log: ConnectionLog {
            enabled: log.enabled,
            log_group: log.cloudwatch_log_group,
            log_stream: log.cloudwatch_log_stream,
            include_authorization_policy_context: log
                .include_authorization_policy_context
                .unwrap_or(false),
        }
        .normalized(),
        dns_servers: spec.dns_servers.clone(),
        vpn_port: spec.vpn_port.unwrap_or(DEFAULT_VPN_PORT),
        description: spec.description.clone().unwrap_or_default(),
        split_tunnel: spec.split_tunnel.unwrap_or(false),
        vpc_id: spec.vpc_id.clone(),
        security_group_ids,
        self_service_portal: spec
            .self_service_portal
            .map(|p| p == SelfServicePortal::Enabled),
        client_connect: ClientConnect {
            enabled: connect.is_some_and(|c| c.enabled),
            lambda_function_arn: connect.and_then(|c| c.lambda_function_arn.clone()),
        }
        .normalized(),
        session_timeout_hours: spec
            .session_timeout_hours
            .unwrap_or(DEFAULT_SESSION_TIMEOUT_HOURS),
        login_banner: LoginBanner {
            enabled: banner.is_some_and(|b| b.enabled),
            text: banner.and_then(|b| b.banner_text.clone()),
        }
        .normalized(),
        disconnect_on_session_timeout: spec
            .disconnect_on_session_timeout
            .unwrap_or(DEFAULT_DISCONNECT_ON_SESSION_TIMEOUT),
        route_enforcement: spec
            .client_route_enforcement_options
            .as_ref()
            .is_some_and(|o| o.enforced),
    }
}

fn fixed(spec: &ClientVpnEndpointSpec) -> FixedSettings {
    FixedSettings {
        client_cidr_block: spec.client_cidr_block.clone(),
        transport_protocol: spec.transport_protocol.wire().to_string(),
        authentication: spec
            .authentication_options
            .iter()
            .map(authentication)
            .collect(),
        endpoint_ip_address_type: spec.endpoint_ip_address_type.wire().to_string(),
        traffic_ip_address_type: spec.traffic_ip_address_type.wire().to_string(),
    }
}

fn authentication(option: &api::AuthenticationOption) -> AuthenticationFact {
    AuthenticationFact {
        type_: option.type_.wire().to_string(),
        reference: option.reference().map(str::to_string),
        self_service_reference: option
            .federated_authentication
            .as_ref()
            .and_then(|f| f.self_service_saml_provider_arn.clone()),
    }
}

fn device_posture(options: &api::DevicePostureOptions) -> DevicePosture {
    DevicePosture {
        enabled: options.enabled,
        trust_providers: options
            .trust_providers
            .iter()
            .map(|p| TrustProvider {
                trust_provider_type: p.trust_provider_type.wire().to_string(),
                tenant_id: p.tenant_id.clone(),
                public_signing_key_url: p.public_signing_key_url.clone(),
            })
            .collect(),
    }
}

/// The children the spec lists, keyed as AWS identifies them.
fn children(spec: &ClientVpnEndpointSpec) -> WantedChildren {
    WantedChildren {
        networks: spec
            .target_networks
            .iter()
            .map(|t| t.subnet_id.clone())
            .collect(),
        rules: spec
            .authorization_rules
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
            .collect(),
        routes: spec
            .routes
            .iter()
            .map(|r| {
                let key = RouteKey {
                    destination_cidr_block: r.destination_cidr_block.clone(),
                    target_subnet_id: r.target_vpc_subnet_id.clone(),
                };
                (key, r.description.clone())
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
