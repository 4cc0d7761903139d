//! Normalized endpoint → aws-sdk-ec2 request, and aws-sdk-ec2 answer → the kube-free types. Pure functions:
//! the create request and the child listings' items here, the described endpoint in
//! [`describe`], the modify request in [`modify`].

mod describe;
mod modify;
#[cfg(test)]
mod tests;

use aws_sdk_ec2::operation::create_client_vpn_endpoint::builders::CreateClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types as ec2;

pub use describe::describe_endpoint_fields;
pub use modify::modify_request;

use super::{
    AssociationState, AuthenticationFact, AuthorizationRule, ClientConnect, ConnectionLog,
    CreateEndpoint, DevicePosture, LoginBanner, Route, RouteKey, RouteOrigin, RouteState, RuleKey,
    RuleState, TargetNetwork, TransitGateway,
};

/// Fill a `CreateClientVpnEndpoint` request from the normalized endpoint: every setting, the
/// idempotency token and the tags (ownership + user) in the same call.
pub fn create_request(
    builder: CreateClientVpnEndpointFluentBuilder,
    request: &CreateEndpoint,
) -> CreateClientVpnEndpointFluentBuilder {
    let settings = &request.settings;
    let fixed = &request.fixed;
    let tags = request
        .tags
        .iter()
        .map(|(key, value)| ec2::Tag::builder().key(key).value(value).build())
        .collect::<Vec<_>>();
    let tag_specification = (!tags.is_empty()).then(|| {
        ec2::TagSpecification::builder()
            .resource_type(ec2::ResourceType::ClientVpnEndpoint)
            .set_tags(Some(tags))
            .build()
    });
    builder
        .client_token(&request.client_token)
        .set_client_cidr_block(fixed.client_cidr_block.clone())
        .server_certificate_arn(&settings.server_certificate_arn)
        .set_authentication_options(Some(
            fixed.authentication.iter().map(authentication).collect(),
        ))
        .connection_log_options(connection_log(&settings.connection_log))
        .set_dns_servers(non_empty(&settings.dns_servers))
        .transport_protocol(ec2::TransportProtocol::from(
            fixed.transport_protocol.as_str(),
        ))
        .vpn_port(settings.vpn_port)
        .set_description(Some(settings.description.clone()).filter(|d| !d.is_empty()))
        .split_tunnel(settings.split_tunnel)
        .set_tag_specifications(tag_specification.map(|t| vec![t]))
        .set_security_group_ids(non_empty(&settings.security_group_ids))
        .set_vpc_id(settings.vpc_id.clone())
        .set_self_service_portal(settings.self_service_portal.map(self_service_portal))
        .client_connect_options(client_connect(&settings.client_connect))
        .session_timeout_hours(settings.session_timeout_hours)
        .client_login_banner_options(banner(&settings.login_banner))
        .client_route_enforcement_options(
            ec2::ClientRouteEnforcementOptions::builder()
                .enforced(settings.route_enforcement)
                .build(),
        )
        .disconnect_on_session_timeout(settings.disconnect_on_session_timeout)
        .endpoint_ip_address_type(ec2::EndpointIpAddressType::from(
            fixed.endpoint_ip_address_type.as_str(),
        ))
        .traffic_ip_address_type(ec2::TrafficIpAddressType::from(
            fixed.traffic_ip_address_type.as_str(),
        ))
        .set_transit_gateway_configuration(request.transit_gateway.as_ref().map(transit_gateway))
        .set_device_posture_options(request.device_posture.as_ref().map(device_posture))
}

fn non_empty(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

fn self_service_portal(enabled: bool) -> ec2::SelfServicePortal {
    if enabled {
        ec2::SelfServicePortal::Enabled
    } else {
        ec2::SelfServicePortal::Disabled
    }
}

/// One authentication option; the type says which sub-structure the reference fills.
fn authentication(option: &AuthenticationFact) -> ec2::ClientVpnAuthenticationRequest {
    let kind = ec2::ClientVpnAuthenticationType::from(option.type_.as_str());
    let reference = option.reference.clone().unwrap_or_default();
    let builder = ec2::ClientVpnAuthenticationRequest::builder().r#type(kind.clone());
    match kind {
        ec2::ClientVpnAuthenticationType::CertificateAuthentication => builder
            .mutual_authentication(
                ec2::CertificateAuthenticationRequest::builder()
                    .client_root_certificate_chain_arn(reference)
                    .build(),
            ),
        ec2::ClientVpnAuthenticationType::DirectoryServiceAuthentication => builder
            .active_directory(
                ec2::DirectoryServiceAuthenticationRequest::builder()
                    .directory_id(reference)
                    .build(),
            ),
        _ => builder.federated_authentication(
            ec2::FederatedAuthenticationRequest::builder()
                .saml_provider_arn(reference)
                .set_self_service_saml_provider_arn(option.self_service_reference.clone())
                .build(),
        ),
    }
    .build()
}

/// Connection log options; AWS requires the member on Create (disabled when not wanted).
fn connection_log(log: &ConnectionLog) -> ec2::ConnectionLogOptions {
    ec2::ConnectionLogOptions::builder()
        .enabled(log.enabled)
        .set_cloudwatch_log_group(log.log_group.clone())
        .set_cloudwatch_log_stream(log.log_stream.clone())
        .include_authorization_policy_context(log.include_authorization_policy_context)
        .build()
}

fn client_connect(connect: &ClientConnect) -> ec2::ClientConnectOptions {
    ec2::ClientConnectOptions::builder()
        .enabled(connect.enabled)
        .set_lambda_function_arn(connect.lambda_function_arn.clone())
        .build()
}

fn banner(banner: &LoginBanner) -> ec2::ClientLoginBannerOptions {
    ec2::ClientLoginBannerOptions::builder()
        .enabled(banner.enabled)
        .set_banner_text(banner.text.clone())
        .build()
}

fn transit_gateway(config: &TransitGateway) -> ec2::TransitGatewayConfigurationInputStructure {
    ec2::TransitGatewayConfigurationInputStructure::builder()
        .transit_gateway_id(&config.transit_gateway_id)
        .set_availability_zones(non_empty(&config.availability_zones))
        .set_availability_zone_ids(non_empty(&config.availability_zone_ids))
        .build()
}

fn device_posture(options: &DevicePosture) -> ec2::DevicePostureOptions {
    let providers = options
        .trust_providers
        .iter()
        .map(|p| {
            ec2::ClientVpnTrustProviderRequest::builder()
                .trust_provider_type(ec2::ClientVpnDeviceTrustProviderType::from(
                    p.trust_provider_type.as_str(),
                ))
                .set_tenant_id(p.tenant_id.clone())
                .set_public_signing_key_url(p.public_signing_key_url.clone())
                .build()
        })
        .collect::<Vec<_>>();
    ec2::DevicePostureOptions::builder()
        .set_enabled(options.enabled)
        .set_trust_providers((!providers.is_empty()).then_some(providers))
        .build()
}

/// `Some` only for a non-empty string: AWS reports unset text as absent or `""`.
fn text(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}

/// A `clientVpnTargetNetworks/item`; security groups sorted.
pub fn target_network(network: &ec2::TargetNetwork) -> TargetNetwork {
    let status = network.status();
    let mut security_group_ids = network.security_groups().to_vec();
    security_group_ids.sort();
    TargetNetwork {
        association_id: network.association_id().unwrap_or_default().to_string(),
        subnet_id: network.target_network_id().unwrap_or_default().to_string(),
        vpc_id: text(network.vpc_id()),
        state: AssociationState::from_wire(
            status.and_then(|s| s.code()).map_or("", |c| c.as_str()),
        ),
        status_message: text(status.and_then(|s| s.message())),
        security_group_ids,
    }
}

/// An `authorizationRule/item`. A rule for all groups (`accessAll=true`, `groupId` absent or
/// empty) has no group in its key; an empty description is none.
pub fn authorization_rule(rule: &ec2::AuthorizationRule) -> AuthorizationRule {
    let status = rule.status();
    let access_group_id = if rule.access_all() == Some(true) {
        None
    } else {
        text(rule.group_id())
    };
    AuthorizationRule {
        key: RuleKey {
            target_network_cidr: rule.destination_cidr().unwrap_or_default().to_string(),
            access_group_id,
        },
        description: text(rule.description()),
        state: RuleState::from_wire(status.and_then(|s| s.code()).map_or("", |c| c.as_str())),
        status_message: text(status.and_then(|s| s.message())),
    }
}

/// A `routes/item`; an empty description is none.
pub fn route(route: &ec2::ClientVpnRoute) -> Route {
    let status = route.status();
    Route {
        key: RouteKey {
            destination_cidr_block: route.destination_cidr().unwrap_or_default().to_string(),
            target_subnet_id: route.target_subnet().unwrap_or_default().to_string(),
        },
        origin: RouteOrigin::from_wire(route.origin().unwrap_or_default()),
        description: text(route.description()),
        state: RouteState::from_wire(status.and_then(|s| s.code()).map_or("", |c| c.as_str())),
        status_message: text(status.and_then(|s| s.message())),
    }
}
