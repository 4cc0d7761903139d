//! Spec → aws-sdk-ec2 request, and aws-sdk-ec2 answer → the kube-free types. Pure functions:
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

use super::{AuthorizationRule, CreateEndpoint, Route, RouteKey, RuleKey, TargetNetwork};
use crate::api::{self, WireValue};

/// Fill a `CreateClientVpnEndpoint` request from the desired endpoint: every spec field, the
/// idempotency token and the tags (ownership + user) in the same call.
pub fn create_request(
    builder: CreateClientVpnEndpointFluentBuilder,
    request: &CreateEndpoint,
) -> CreateClientVpnEndpointFluentBuilder {
    let spec = &request.spec;
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
        .set_client_cidr_block(spec.client_cidr_block.clone())
        .server_certificate_arn(&spec.server_certificate_arn)
        .set_authentication_options(Some(
            spec.authentication_options
                .iter()
                .map(authentication)
                .collect(),
        ))
        .connection_log_options(connection_log(
            &spec.connection_log_options.clone().unwrap_or_default(),
        ))
        .set_dns_servers(non_empty(&spec.dns_servers))
        .transport_protocol(ec2::TransportProtocol::from(spec.transport_protocol.wire()))
        .set_vpn_port(spec.vpn_port)
        .set_description(spec.description.clone())
        .set_split_tunnel(spec.split_tunnel)
        .set_tag_specifications(tag_specification.map(|t| vec![t]))
        .set_security_group_ids(non_empty(&spec.security_group_ids))
        .set_vpc_id(spec.vpc_id.clone())
        .set_self_service_portal(
            spec.self_service_portal
                .map(|p| ec2::SelfServicePortal::from(p.wire())),
        )
        .set_client_connect_options(spec.client_connect_options.as_ref().map(client_connect))
        .set_session_timeout_hours(spec.session_timeout_hours)
        .set_client_login_banner_options(spec.client_login_banner_options.as_ref().map(banner))
        .set_client_route_enforcement_options(spec.client_route_enforcement_options.as_ref().map(
            |o| {
                ec2::ClientRouteEnforcementOptions::builder()
                    .enforced(o.enforced)
                    .build()
            },
        ))
        .set_disconnect_on_session_timeout(spec.disconnect_on_session_timeout)
        .endpoint_ip_address_type(ec2::EndpointIpAddressType::from(
            spec.endpoint_ip_address_type.wire(),
        ))
        .traffic_ip_address_type(ec2::TrafficIpAddressType::from(
            spec.traffic_ip_address_type.wire(),
        ))
        .set_transit_gateway_configuration(
            spec.transit_gateway_configuration
                .as_ref()
                .map(transit_gateway),
        )
        .set_device_posture_options(spec.device_posture_options.as_ref().map(device_posture))
}

fn non_empty(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

fn authentication(option: &api::AuthenticationOption) -> ec2::ClientVpnAuthenticationRequest {
    ec2::ClientVpnAuthenticationRequest::builder()
        .r#type(ec2::ClientVpnAuthenticationType::from(option.type_.wire()))
        .set_mutual_authentication(option.mutual_authentication.as_ref().map(|m| {
            ec2::CertificateAuthenticationRequest::builder()
                .client_root_certificate_chain_arn(&m.client_root_certificate_chain_arn)
                .build()
        }))
        .set_active_directory(option.active_directory.as_ref().map(|d| {
            ec2::DirectoryServiceAuthenticationRequest::builder()
                .directory_id(&d.directory_id)
                .build()
        }))
        .set_federated_authentication(option.federated_authentication.as_ref().map(|f| {
            ec2::FederatedAuthenticationRequest::builder()
                .saml_provider_arn(&f.saml_provider_arn)
                .set_self_service_saml_provider_arn(f.self_service_saml_provider_arn.clone())
                .build()
        }))
        .build()
}

/// Connection log options; AWS requires the member on Create, so an absent spec means disabled.
fn connection_log(options: &api::ConnectionLogOptions) -> ec2::ConnectionLogOptions {
    ec2::ConnectionLogOptions::builder()
        .enabled(options.enabled)
        .set_cloudwatch_log_group(options.cloudwatch_log_group.clone())
        .set_cloudwatch_log_stream(options.cloudwatch_log_stream.clone())
        .set_include_authorization_policy_context(options.include_authorization_policy_context)
        .build()
}

fn client_connect(options: &api::ClientConnectOptions) -> ec2::ClientConnectOptions {
    ec2::ClientConnectOptions::builder()
        .enabled(options.enabled)
        .set_lambda_function_arn(options.lambda_function_arn.clone())
        .build()
}

fn banner(options: &api::ClientLoginBannerOptions) -> ec2::ClientLoginBannerOptions {
    ec2::ClientLoginBannerOptions::builder()
        .enabled(options.enabled)
        .set_banner_text(options.banner_text.clone())
        .build()
}

fn transit_gateway(
    config: &api::TransitGatewayConfiguration,
) -> ec2::TransitGatewayConfigurationInputStructure {
    ec2::TransitGatewayConfigurationInputStructure::builder()
        .transit_gateway_id(&config.transit_gateway_id)
        .set_availability_zones(non_empty(&config.availability_zones))
        .set_availability_zone_ids(non_empty(&config.availability_zone_ids))
        .build()
}

fn device_posture(options: &api::DevicePostureOptions) -> ec2::DevicePostureOptions {
    let providers = options
        .trust_providers
        .iter()
        .map(|p| {
            ec2::ClientVpnTrustProviderRequest::builder()
                .trust_provider_type(ec2::ClientVpnDeviceTrustProviderType::from(
                    p.trust_provider_type.wire(),
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
        status_code: status
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
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
        status_code: status
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
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
        origin: route.origin().unwrap_or_default().to_string(),
        description: text(route.description()),
        status_code: status
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        status_message: text(status.and_then(|s| s.message())),
    }
}
