//! Spec → aws-sdk-ec2 request, and aws-sdk-ec2 answer → [`ObservedEndpoint`]. Pure functions.

use aws_sdk_ec2::operation::create_client_vpn_endpoint::builders::CreateClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::operation::modify_client_vpn_endpoint::builders::ModifyClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types as ec2;

use super::{
    AssociationState, AuthenticationFact, AuthorizationRule, ClientConnect, ConnectionLog,
    CreateEndpoint, DevicePosture, EndpointSettings, FixedSettings, LoginBanner, ModifyEndpoint,
    ObservedEndpoint, Route, RouteKey, RouteOrigin, RouteState, RuleKey, RuleState, TargetNetwork,
    TransitGateway,
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

/// The fields of a described endpoint that the operator reads.
pub fn describe_endpoint_fields(endpoint: &ec2::ClientVpnEndpoint) -> ObservedEndpoint {
    let status = endpoint.status();
    ObservedEndpoint {
        id: endpoint
            .client_vpn_endpoint_id()
            .unwrap_or_default()
            .to_string(),
        status_code: status
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        status_message: status.and_then(|s| s.message()).map(str::to_string),
        dns_name: endpoint.dns_name().map(str::to_string),
        creation_time: endpoint.creation_time().map(str::to_string),
        self_service_portal_url: endpoint
            .self_service_portal_url()
            .filter(|url| !url.is_empty())
            .map(str::to_string),
        tags: endpoint
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        settings: endpoint_settings(endpoint),
        fixed: fixed_settings(endpoint),
    }
}

/// AWS's default `VpnPort`.
const DEFAULT_VPN_PORT: i32 = 443;
/// AWS's default `SessionTimeoutHours`.
const DEFAULT_SESSION_TIMEOUT_HOURS: i32 = 24;
/// AWS's default `TransportProtocol`.
const DEFAULT_TRANSPORT_PROTOCOL: &str = "udp";

/// `Some` only for a non-empty string: AWS reports unset text as absent or `""`.
fn text(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}

/// The modifiable settings as AWS reports them, with AWS's defaults filled in where a field is
/// absent (older endpoints, or fields AWS omits), so they compare equal to a defaulted spec.
fn endpoint_settings(endpoint: &ec2::ClientVpnEndpoint) -> EndpointSettings {
    let log = endpoint.connection_log_options();
    let connect = endpoint.client_connect_options();
    let banner = endpoint.client_login_banner_options();
    let mut security_group_ids = endpoint.security_group_ids().to_vec();
    security_group_ids.sort();
    EndpointSettings {
        server_certificate_arn: endpoint
            .server_certificate_arn()
            .unwrap_or_default()
            .to_string(),
        connection_log: ConnectionLog {
            enabled: log.and_then(|l| l.enabled()).unwrap_or(false),
            log_group: text(log.and_then(|l| l.cloudwatch_log_group())),
            log_stream: text(log.and_then(|l| l.cloudwatch_log_stream())),
            include_authorization_policy_context: log
                .and_then(|l| l.include_authorization_policy_context())
                .unwrap_or(false),
        },
        dns_servers: endpoint.dns_servers().to_vec(),
        vpn_port: endpoint.vpn_port().unwrap_or(DEFAULT_VPN_PORT),
        description: endpoint.description().unwrap_or_default().to_string(),
        split_tunnel: endpoint.split_tunnel().unwrap_or(false),
        vpc_id: text(endpoint.vpc_id()),
        security_group_ids,
        self_service_portal: Some(
            endpoint
                .self_service_portal_url()
                .is_some_and(|url| !url.is_empty()),
        ),
        client_connect: ClientConnect {
            enabled: connect.and_then(|c| c.enabled()).unwrap_or(false),
            lambda_function_arn: text(connect.and_then(|c| c.lambda_function_arn())),
        },
        session_timeout_hours: endpoint
            .session_timeout_hours()
            .unwrap_or(DEFAULT_SESSION_TIMEOUT_HOURS),
        login_banner: LoginBanner {
            enabled: banner.and_then(|b| b.enabled()).unwrap_or(false),
            text: text(banner.and_then(|b| b.banner_text())),
        },
        disconnect_on_session_timeout: endpoint.disconnect_on_session_timeout().unwrap_or(true),
        route_enforcement: endpoint
            .client_route_enforcement_options()
            .and_then(|o| o.enforced())
            .unwrap_or(false),
    }
}

/// The settings AWS cannot change after creation, as AWS reports them.
fn fixed_settings(endpoint: &ec2::ClientVpnEndpoint) -> FixedSettings {
    FixedSettings {
        client_cidr_block: text(endpoint.client_cidr_block()),
        transport_protocol: endpoint
            .transport_protocol()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or(DEFAULT_TRANSPORT_PROTOCOL)
            .to_string(),
        authentication: endpoint
            .authentication_options()
            .iter()
            .map(authentication_fact)
            .collect(),
        endpoint_ip_address_type: endpoint
            .endpoint_ip_address_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        traffic_ip_address_type: endpoint
            .traffic_ip_address_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// One `authenticationOptions/item`. The output spellings differ from the input ones:
/// `clientRootCertificateChain` (no `Arn`), `samlProviderArn`, `selfServiceSamlProviderArn`.
fn authentication_fact(option: &ec2::ClientVpnAuthentication) -> AuthenticationFact {
    let mutual = option
        .mutual_authentication()
        .and_then(|m| m.client_root_certificate_chain());
    let directory = option.active_directory().and_then(|d| d.directory_id());
    let federated = option.federated_authentication();
    let reference = match option.r#type() {
        Some(ec2::ClientVpnAuthenticationType::CertificateAuthentication) => mutual,
        Some(ec2::ClientVpnAuthenticationType::DirectoryServiceAuthentication) => directory,
        Some(ec2::ClientVpnAuthenticationType::FederatedAuthentication) => {
            federated.and_then(|f| f.saml_provider_arn())
        }
        // An unknown type: whichever sub-structure AWS filled in.
        _ => mutual
            .or(directory)
            .or(federated.and_then(|f| f.saml_provider_arn())),
    };
    AuthenticationFact {
        type_: option
            .r#type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        reference: text(reference),
        self_service_reference: text(federated.and_then(|f| f.self_service_saml_provider_arn())),
    }
}

/// Fill a `ModifyClientVpnEndpoint` request: the endpoint ID and only the fields that change.
///
/// DNS servers go out as `DnsServers.CustomDnsServers.N` + `DnsServers.Enabled=true`; an empty
/// list as `DnsServers.Enabled=false` alone, which removes them. The VPC and its security groups
/// are sent together (`VpcId` + `SecurityGroupId.N`; no groups = the VPC's default group).
pub fn modify_request(
    builder: ModifyClientVpnEndpointFluentBuilder,
    id: &str,
    change: &ModifyEndpoint,
) -> ModifyClientVpnEndpointFluentBuilder {
    let (vpc_id, security_group_ids) = match &change.vpc {
        Some((vpc, groups)) => (Some(vpc.clone()), non_empty(groups)),
        None => (None, None),
    };
    builder
        .client_vpn_endpoint_id(id)
        .set_server_certificate_arn(change.server_certificate_arn.clone())
        .set_connection_log_options(change.connection_log.as_ref().map(|log| {
            ec2::ConnectionLogOptions::builder()
                .enabled(log.enabled)
                .set_cloudwatch_log_group(log.log_group.clone())
                .set_cloudwatch_log_stream(log.log_stream.clone())
                .include_authorization_policy_context(log.include_authorization_policy_context)
                .build()
        }))
        .set_dns_servers(change.dns_servers.as_deref().map(|servers| {
            ec2::DnsServersOptionsModifyStructure::builder()
                .set_custom_dns_servers(non_empty(servers))
                .enabled(!servers.is_empty())
                .build()
        }))
        .set_vpn_port(change.vpn_port)
        .set_description(change.description.clone())
        .set_split_tunnel(change.split_tunnel)
        .set_vpc_id(vpc_id)
        .set_security_group_ids(security_group_ids)
        .set_self_service_portal(change.self_service_portal.map(self_service_portal))
        .set_client_connect_options(change.client_connect.as_ref().map(|c| {
            ec2::ClientConnectOptions::builder()
                .enabled(c.enabled)
                .set_lambda_function_arn(c.lambda_function_arn.clone())
                .build()
        }))
        .set_session_timeout_hours(change.session_timeout_hours)
        .set_client_login_banner_options(change.login_banner.as_ref().map(|b| {
            ec2::ClientLoginBannerOptions::builder()
                .enabled(b.enabled)
                .set_banner_text(b.text.clone())
                .build()
        }))
        .set_disconnect_on_session_timeout(change.disconnect_on_session_timeout)
        .set_client_route_enforcement_options(change.route_enforcement.map(|enforced| {
            ec2::ClientRouteEnforcementOptions::builder()
                .enforced(enforced)
                .build()
        }))
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

#[cfg(test)]
mod tests {

    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_ec2::operation::modify_client_vpn_endpoint::ModifyClientVpnEndpointInput;

    use super::*;

    fn client() -> aws_sdk_ec2::Client {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        aws_sdk_ec2::Client::from_conf(config)
    }

    #[test]
    fn described_endpoint_fields_are_read() {
        let described = ec2::ClientVpnEndpoint::builder()
            .client_vpn_endpoint_id("cvpn-endpoint-0123456789abcdef0")
            .status(
                ec2::ClientVpnEndpointStatus::builder()
                    .code(ec2::ClientVpnEndpointStatusCode::Available)
                    .message("ok")
                    .build(),
            )
            .dns_name("*.cvpn-endpoint-0123456789abcdef0.prod.clientvpn.eu-west-1.amazonaws.com")
            .creation_time("2026-11-27T01:02:03")
            .self_service_portal_url("")
            .tags(
                ec2::Tag::builder()
                    .key("clientvpn.io/uid")
                    .value("u-1")
                    .build(),
            )
            .build();
        let observed = describe_endpoint_fields(&described);
        assert_eq!(observed.id, "cvpn-endpoint-0123456789abcdef0");
        assert_eq!(observed.status_code, "available");
        assert_eq!(observed.status_message.as_deref(), Some("ok"));
        assert_eq!(
            observed.creation_time.as_deref(),
            Some("2026-11-27T01:02:03")
        );
        assert_eq!(
            observed.self_service_portal_url, None,
            "an empty URL means no portal"
        );
        assert_eq!(
            observed.tags.get("clientvpn.io/uid").map(String::as_str),
            Some("u-1")
        );
    }

    const ID: &str = "cvpn-endpoint-0123456789abcdef0";

    fn build_modify(change: &ModifyEndpoint) -> ModifyClientVpnEndpointInput {
        modify_request(client().modify_client_vpn_endpoint(), ID, change)
            .as_input()
            .clone()
            .build()
            .expect("input builds")
    }

    fn full_change() -> ModifyEndpoint {
        ModifyEndpoint {
            server_certificate_arn: Some(
                "arn:aws:acm:eu-west-1:123456789012:certificate/new".into(),
            ),
            connection_log: Some(ConnectionLog {
                enabled: true,
                log_group: Some("vpn".into()),
                log_stream: Some("conn".into()),
                include_authorization_policy_context: true,
            }),
            dns_servers: Some(vec!["10.0.0.2".into(), "10.0.0.3".into()]),
            vpn_port: Some(1194),
            description: Some("changed".into()),
            split_tunnel: Some(true),
            vpc: Some((
                "vpc-0123456789abcdef0".into(),
                vec!["sg-0123456789abcdef1".into(), "sg-0123456789abcdef2".into()],
            )),
            self_service_portal: Some(true),
            client_connect: Some(ClientConnect {
                enabled: true,
                lambda_function_arn: Some(
                    "arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-x".into(),
                ),
            }),
            session_timeout_hours: Some(8),
            login_banner: Some(LoginBanner {
                enabled: true,
                text: Some("Hello".into()),
            }),
            disconnect_on_session_timeout: Some(false),
            route_enforcement: Some(true),
        }
    }

    #[test]
    fn every_modify_field_reaches_the_modify_request() {
        let input = build_modify(&full_change());
        assert_eq!(input.client_vpn_endpoint_id(), Some(ID));
        assert_eq!(
            input.server_certificate_arn(),
            Some("arn:aws:acm:eu-west-1:123456789012:certificate/new")
        );
        let logs = input.connection_log_options().expect("log options");
        assert_eq!(
            (
                logs.enabled(),
                logs.cloudwatch_log_group(),
                logs.cloudwatch_log_stream(),
                logs.include_authorization_policy_context()
            ),
            (Some(true), Some("vpn"), Some("conn"), Some(true))
        );
        let dns = input.dns_servers().expect("dns servers");
        assert_eq!(dns.custom_dns_servers(), ["10.0.0.2", "10.0.0.3"]);
        assert_eq!(dns.enabled(), Some(true));
        assert_eq!(input.vpn_port(), Some(1194));
        assert_eq!(input.description(), Some("changed"));
        assert_eq!(input.split_tunnel(), Some(true));
        assert_eq!(input.vpc_id(), Some("vpc-0123456789abcdef0"));
        assert_eq!(
            input.security_group_ids(),
            ["sg-0123456789abcdef1", "sg-0123456789abcdef2"]
        );
        assert_eq!(
            input.self_service_portal(),
            Some(&ec2::SelfServicePortal::Enabled)
        );
        let connect = input.client_connect_options().expect("connect options");
        assert_eq!(
            (connect.enabled(), connect.lambda_function_arn()),
            (
                Some(true),
                Some("arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-x")
            )
        );
        assert_eq!(input.session_timeout_hours(), Some(8));
        let banner = input.client_login_banner_options().expect("banner");
        assert_eq!(
            (banner.enabled(), banner.banner_text()),
            (Some(true), Some("Hello"))
        );
        assert_eq!(input.disconnect_on_session_timeout(), Some(false));
        assert_eq!(
            input
                .client_route_enforcement_options()
                .and_then(|o| o.enforced()),
            Some(true)
        );
        assert_eq!(input.dry_run(), None);
        assert!(input.transit_gateway_configuration().is_none());
        assert!(input.device_posture_options().is_none());
    }

    #[test]
    fn a_modify_request_carries_only_the_fields_that_change() {
        type Check = fn(&ModifyClientVpnEndpointInput) -> bool;
        // One row per field: the change that sets only it, and how to see it in the input.
        let rows: Vec<(&str, ModifyEndpoint, Check)> = vec![
            (
                "server certificate",
                ModifyEndpoint {
                    server_certificate_arn: Some("arn".into()),
                    ..Default::default()
                },
                |i| i.server_certificate_arn() == Some("arn"),
            ),
            (
                "connection log off",
                ModifyEndpoint {
                    connection_log: Some(ConnectionLog::default()),
                    ..Default::default()
                },
                |i| {
                    i.connection_log_options()
                        .is_some_and(|l| l.enabled() == Some(false))
                },
            ),
            (
                "dns servers",
                ModifyEndpoint {
                    dns_servers: Some(vec!["10.0.0.2".into()]),
                    ..Default::default()
                },
                |i| i.dns_servers().is_some(),
            ),
            (
                "vpn port",
                ModifyEndpoint {
                    vpn_port: Some(443),
                    ..Default::default()
                },
                |i| i.vpn_port() == Some(443),
            ),
            (
                "empty description",
                ModifyEndpoint {
                    description: Some(String::new()),
                    ..Default::default()
                },
                |i| i.description() == Some(""),
            ),
            (
                "split tunnel off",
                ModifyEndpoint {
                    split_tunnel: Some(false),
                    ..Default::default()
                },
                |i| i.split_tunnel() == Some(false),
            ),
            (
                "vpc",
                ModifyEndpoint {
                    vpc: Some(("vpc-0123456789abcdef0".into(), vec![])),
                    ..Default::default()
                },
                |i| i.vpc_id().is_some(),
            ),
            (
                "portal off",
                ModifyEndpoint {
                    self_service_portal: Some(false),
                    ..Default::default()
                },
                |i| i.self_service_portal() == Some(&ec2::SelfServicePortal::Disabled),
            ),
            (
                "client connect off",
                ModifyEndpoint {
                    client_connect: Some(ClientConnect::default()),
                    ..Default::default()
                },
                |i| {
                    i.client_connect_options().is_some_and(|c| {
                        c.enabled() == Some(false) && c.lambda_function_arn().is_none()
                    })
                },
            ),
            (
                "session timeout",
                ModifyEndpoint {
                    session_timeout_hours: Some(24),
                    ..Default::default()
                },
                |i| i.session_timeout_hours() == Some(24),
            ),
            (
                "banner off",
                ModifyEndpoint {
                    login_banner: Some(LoginBanner::default()),
                    ..Default::default()
                },
                |i| {
                    i.client_login_banner_options()
                        .is_some_and(|b| b.enabled() == Some(false) && b.banner_text().is_none())
                },
            ),
            (
                "disconnect on timeout",
                ModifyEndpoint {
                    disconnect_on_session_timeout: Some(true),
                    ..Default::default()
                },
                |i| i.disconnect_on_session_timeout() == Some(true),
            ),
            (
                "route enforcement off",
                ModifyEndpoint {
                    route_enforcement: Some(false),
                    ..Default::default()
                },
                |i| {
                    i.client_route_enforcement_options()
                        .and_then(|o| o.enforced())
                        == Some(false)
                },
            ),
        ];
        let fields_set = |i: &ModifyClientVpnEndpointInput| {
            [
                i.server_certificate_arn().is_some(),
                i.connection_log_options().is_some(),
                i.dns_servers().is_some(),
                i.vpn_port().is_some(),
                i.description().is_some(),
                i.split_tunnel().is_some(),
                i.vpc_id().is_some() || !i.security_group_ids().is_empty(),
                i.self_service_portal().is_some(),
                i.client_connect_options().is_some(),
                i.session_timeout_hours().is_some(),
                i.client_login_banner_options().is_some(),
                i.disconnect_on_session_timeout().is_some(),
                i.client_route_enforcement_options().is_some(),
                i.transit_gateway_configuration().is_some(),
                i.device_posture_options().is_some(),
                i.dry_run().is_some(),
            ]
            .iter()
            .filter(|set| **set)
            .count()
        };
        for (name, change, check) in &rows {
            let input = build_modify(change);
            assert_eq!(input.client_vpn_endpoint_id(), Some(ID), "{name}");
            assert!(check(&input), "{name}: field not sent as expected");
            assert_eq!(fields_set(&input), 1, "{name}: other fields were sent");
        }
        let nothing = build_modify(&ModifyEndpoint::default());
        assert_eq!(fields_set(&nothing), 0);
    }

    #[test]
    fn an_emptied_dns_list_disables_dns_servers() {
        let input = build_modify(&ModifyEndpoint {
            dns_servers: Some(vec![]),
            ..Default::default()
        });
        let dns = input.dns_servers().expect("dns servers");
        assert_eq!(dns.enabled(), Some(false));
        assert!(dns.custom_dns_servers().is_empty());
        assert!(
            format!("{dns:?}").contains("custom_dns_servers: None"),
            "no empty CustomDnsServers list: {dns:?}"
        );
    }

    #[test]
    fn a_vpc_without_groups_sends_no_security_groups() {
        let input = build_modify(&ModifyEndpoint {
            vpc: Some(("vpc-0123456789abcdef0".into(), vec![])),
            ..Default::default()
        });
        assert_eq!(input.vpc_id(), Some("vpc-0123456789abcdef0"));
        assert!(input.security_group_ids().is_empty());
    }

    fn described_in_full() -> ec2::ClientVpnEndpoint {
        ec2::ClientVpnEndpoint::builder()
            .client_vpn_endpoint_id(ID)
            .description("office VPN")
            .client_cidr_block("10.100.0.0/22")
            .dns_servers("10.0.0.3")
            .dns_servers("10.0.0.2")
            .split_tunnel(true)
            .transport_protocol(ec2::TransportProtocol::Tcp)
            .vpn_port(1194)
            .server_certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/server")
            .authentication_options(
                ec2::ClientVpnAuthentication::builder()
                    .r#type(ec2::ClientVpnAuthenticationType::CertificateAuthentication)
                    .mutual_authentication(
                        ec2::CertificateAuthentication::builder()
                            .client_root_certificate_chain(
                                "arn:aws:acm:eu-west-1:123456789012:certificate/root",
                            )
                            .build(),
                    )
                    .build(),
            )
            .authentication_options(
                ec2::ClientVpnAuthentication::builder()
                    .r#type(ec2::ClientVpnAuthenticationType::FederatedAuthentication)
                    .federated_authentication(
                        ec2::FederatedAuthentication::builder()
                            .saml_provider_arn("arn:aws:iam::123456789012:saml-provider/idp")
                            .self_service_saml_provider_arn(
                                "arn:aws:iam::123456789012:saml-provider/portal",
                            )
                            .build(),
                    )
                    .build(),
            )
            .connection_log_options(
                ec2::ConnectionLogResponseOptions::builder()
                    .enabled(true)
                    .cloudwatch_log_group("vpn")
                    .cloudwatch_log_stream("conn")
                    .include_authorization_policy_context(true)
                    .build(),
            )
            .security_group_ids("sg-0123456789abcdef2")
            .security_group_ids("sg-0123456789abcdef1")
            .vpc_id("vpc-0123456789abcdef0")
            .self_service_portal_url(format!(
                "https://self-service.clientvpn.amazonaws.com/endpoints/{ID}"
            ))
            .client_connect_options(
                ec2::ClientConnectResponseOptions::builder()
                    .enabled(true)
                    .lambda_function_arn(
                        "arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-x",
                    )
                    .build(),
            )
            .session_timeout_hours(12)
            .client_login_banner_options(
                ec2::ClientLoginBannerResponseOptions::builder()
                    .enabled(true)
                    .banner_text("Authorized use only")
                    .build(),
            )
            .disconnect_on_session_timeout(false)
            .client_route_enforcement_options(
                ec2::ClientRouteEnforcementResponseOptions::builder()
                    .enforced(true)
                    .build(),
            )
            .endpoint_ip_address_type(ec2::EndpointIpAddressType::DualStack)
            .traffic_ip_address_type(ec2::TrafficIpAddressType::Ipv4)
            .build()
    }

    #[test]
    fn described_settings_are_read_and_normalized() {
        let observed = describe_endpoint_fields(&described_in_full());
        assert_eq!(
            observed.settings,
            EndpointSettings {
                server_certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/server"
                    .into(),
                connection_log: ConnectionLog {
                    enabled: true,
                    log_group: Some("vpn".into()),
                    log_stream: Some("conn".into()),
                    include_authorization_policy_context: true,
                },
                dns_servers: vec!["10.0.0.3".into(), "10.0.0.2".into()],
                vpn_port: 1194,
                description: "office VPN".into(),
                split_tunnel: true,
                vpc_id: Some("vpc-0123456789abcdef0".into()),
                security_group_ids: vec![
                    "sg-0123456789abcdef1".into(),
                    "sg-0123456789abcdef2".into()
                ],
                self_service_portal: Some(true),
                client_connect: ClientConnect {
                    enabled: true,
                    lambda_function_arn: Some(
                        "arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-x".into()
                    ),
                },
                session_timeout_hours: 12,
                login_banner: LoginBanner {
                    enabled: true,
                    text: Some("Authorized use only".into()),
                },
                disconnect_on_session_timeout: false,
                route_enforcement: true,
            }
        );
        assert_eq!(
            observed.fixed,
            FixedSettings {
                client_cidr_block: Some("10.100.0.0/22".into()),
                transport_protocol: "tcp".into(),
                authentication: vec![
                    AuthenticationFact {
                        type_: "certificate-authentication".into(),
                        reference: Some(
                            "arn:aws:acm:eu-west-1:123456789012:certificate/root".into()
                        ),
                        self_service_reference: None,
                    },
                    AuthenticationFact {
                        type_: "federated-authentication".into(),
                        reference: Some("arn:aws:iam::123456789012:saml-provider/idp".into()),
                        self_service_reference: Some(
                            "arn:aws:iam::123456789012:saml-provider/portal".into()
                        ),
                    },
                ],
                endpoint_ip_address_type: "dual-stack".into(),
                traffic_ip_address_type: "ipv4".into(),
            }
        );
    }

    #[test]
    fn absent_fields_take_aws_defaults() {
        let observed = describe_endpoint_fields(
            &ec2::ClientVpnEndpoint::builder()
                .client_vpn_endpoint_id(ID)
                .build(),
        );
        assert_eq!(
            observed.settings,
            EndpointSettings {
                vpn_port: 443,
                session_timeout_hours: 24,
                disconnect_on_session_timeout: true,
                self_service_portal: Some(false),
                ..Default::default()
            }
        );
        assert_eq!(observed.settings.description, "");
        assert_eq!(
            observed.fixed,
            FixedSettings {
                transport_protocol: "udp".into(),
                ..Default::default()
            }
        );
    }

    #[test]
    fn empty_strings_in_a_description_mean_unset() {
        let observed = describe_endpoint_fields(
            &ec2::ClientVpnEndpoint::builder()
                .client_vpn_endpoint_id(ID)
                .description("")
                .vpc_id("")
                .self_service_portal_url("")
                .client_login_banner_options(
                    ec2::ClientLoginBannerResponseOptions::builder()
                        .enabled(false)
                        .banner_text("")
                        .build(),
                )
                .build(),
        );
        assert_eq!(observed.settings.description, "");
        assert_eq!(observed.settings.vpc_id, None);
        assert_eq!(observed.settings.self_service_portal, Some(false));
        assert_eq!(observed.settings.login_banner, LoginBanner::default());
    }

    #[test]
    fn a_directory_option_reports_its_directory() {
        let endpoint = ec2::ClientVpnEndpoint::builder()
            .authentication_options(
                ec2::ClientVpnAuthentication::builder()
                    .r#type(ec2::ClientVpnAuthenticationType::DirectoryServiceAuthentication)
                    .active_directory(
                        ec2::DirectoryServiceAuthentication::builder()
                            .directory_id("d-1234567890")
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(
            describe_endpoint_fields(&endpoint).fixed.authentication,
            [AuthenticationFact {
                type_: "directory-service-authentication".into(),
                reference: Some("d-1234567890".into()),
                self_service_reference: None,
            }]
        );
    }

    #[test]
    fn target_networks_are_read() {
        let network = ec2::TargetNetwork::builder()
            .association_id("cvpn-assoc-0123456789abcdef0")
            .vpc_id("vpc-0123456789abcdef0")
            .target_network_id("subnet-0123456789abcdef1")
            .client_vpn_endpoint_id(ID)
            .status(
                ec2::AssociationStatus::builder()
                    .code(ec2::AssociationStatusCode::Associating)
                    .message("working")
                    .build(),
            )
            .security_groups("sg-0123456789abcdef2")
            .security_groups("sg-0123456789abcdef1")
            .build();
        assert_eq!(
            target_network(&network),
            TargetNetwork {
                association_id: "cvpn-assoc-0123456789abcdef0".into(),
                subnet_id: "subnet-0123456789abcdef1".into(),
                vpc_id: Some("vpc-0123456789abcdef0".into()),
                state: AssociationState::Associating,
                status_message: Some("working".into()),
                security_group_ids: vec![
                    "sg-0123456789abcdef1".into(),
                    "sg-0123456789abcdef2".into()
                ],
            }
        );
    }

    #[test]
    fn authorization_rules_key_on_cidr_and_group() {
        let rule = |group: Option<&str>, access_all: Option<bool>| {
            let status = ec2::ClientVpnAuthorizationRuleStatus::builder()
                .code(ec2::ClientVpnAuthorizationRuleStatusCode::Active)
                .build();
            authorization_rule(
                &ec2::AuthorizationRule::builder()
                    .client_vpn_endpoint_id(ID)
                    .destination_cidr("10.1.0.0/16")
                    .set_group_id(group.map(str::to_string))
                    .set_access_all(access_all)
                    .description("")
                    .status(status)
                    .build(),
            )
        };
        // (groupId, accessAll) → access_group_id in the key
        let rows: &[(Option<&str>, Option<bool>, Option<&str>)] = &[
            (Some("admins"), Some(false), Some("admins")),
            (Some("admins"), None, Some("admins")),
            (None, Some(true), None),
            (Some(""), Some(true), None),
        ];
        for (group, access_all, want) in rows {
            let got = rule(*group, *access_all);
            assert_eq!(
                got.key,
                RuleKey {
                    target_network_cidr: "10.1.0.0/16".into(),
                    access_group_id: want.map(str::to_string),
                },
                "groupId {group:?}, accessAll {access_all:?}"
            );
            assert_eq!(got.description, None, "empty description is none");
            assert_eq!(got.state, RuleState::Active);
            assert_eq!(got.status_message, None);
        }
    }

    #[test]
    fn routes_key_on_destination_and_subnet() {
        let observed = route(
            &ec2::ClientVpnRoute::builder()
                .client_vpn_endpoint_id(ID)
                .destination_cidr("10.1.0.0/16")
                .target_subnet("subnet-0123456789abcdef1")
                .r#type("Nat")
                .origin("associate")
                .description("Default Route")
                .status(
                    ec2::ClientVpnRouteStatus::builder()
                        .code(ec2::ClientVpnRouteStatusCode::Creating)
                        .build(),
                )
                .build(),
        );
        assert_eq!(
            observed,
            Route {
                key: RouteKey {
                    destination_cidr_block: "10.1.0.0/16".into(),
                    target_subnet_id: "subnet-0123456789abcdef1".into(),
                },
                origin: RouteOrigin::Associate,
                description: Some("Default Route".into()),
                state: RouteState::Creating,
                status_message: None,
            }
        );
    }
}
