//! Spec → aws-sdk-ec2 request, and aws-sdk-ec2 answer → [`ObservedEndpoint`]. Pure functions.

use aws_sdk_ec2::operation::create_client_vpn_endpoint::builders::CreateClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types as ec2;

use super::{CreateEndpoint, ObservedEndpoint};
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
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_ec2::operation::create_client_vpn_endpoint::CreateClientVpnEndpointInput;

    use super::*;
    use crate::api::*;

    fn full_spec() -> ClientVpnEndpointSpec {
        serde_json::from_value(serde_json::json!({
            "region": "eu-west-1",
            "clientCidrBlock": "10.100.0.0/22",
            "serverCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/server",
            "authenticationOptions": [
                {"type": "certificate-authentication",
                 "mutualAuthentication": {"clientRootCertificateChainArn": "arn:aws:acm:eu-west-1:123456789012:certificate/root"}},
                {"type": "federated-authentication",
                 "federatedAuthentication": {"samlProviderArn": "arn:aws:iam::123456789012:saml-provider/idp",
                                             "selfServiceSamlProviderArn": "arn:aws:iam::123456789012:saml-provider/portal"}}
            ],
            "connectionLogOptions": {"enabled": true, "cloudwatchLogGroup": "vpn", "cloudwatchLogStream": "conn",
                                     "includeAuthorizationPolicyContext": true},
            "dnsServers": ["10.0.0.2", "10.0.0.3"],
            "description": "office VPN",
            "splitTunnel": true,
            "transportProtocol": "tcp",
            "vpnPort": 1194,
            "vpcId": "vpc-0123456789abcdef0",
            "securityGroupIds": ["sg-0123456789abcdef0"],
            "selfServicePortal": "enabled",
            "clientConnectOptions": {"enabled": true, "lambdaFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-check"},
            "sessionTimeoutHours": 12,
            "clientLoginBannerOptions": {"enabled": true, "bannerText": "Authorized use only"},
            "disconnectOnSessionTimeout": false,
            "clientRouteEnforcementOptions": {"enforced": true},
            "endpointIpAddressType": "dual-stack",
            "trafficIpAddressType": "dual-stack",
            "devicePostureOptions": {"enabled": true, "trustProviders": [
                {"trustProviderType": "crowdstrike", "tenantId": "t-1", "publicSigningKeyUrl": "https://keys.example/k"}]},
            "tags": {"team": "net"},
            "deletionPolicy": "Retain"
        }))
        .expect("valid spec")
    }

    fn build(request: &CreateEndpoint) -> CreateClientVpnEndpointInput {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        let client = aws_sdk_ec2::Client::from_conf(config);
        create_request(client.create_client_vpn_endpoint(), request)
            .as_input()
            .clone()
            .build()
            .expect("input builds")
    }

    #[test]
    fn every_spec_field_reaches_the_create_request() {
        let tags = BTreeMap::from([
            ("team".to_string(), "net".to_string()),
            ("clientvpn.io/uid".to_string(), "u-1".to_string()),
        ]);
        let input = build(&CreateEndpoint {
            spec: full_spec(),
            client_token: "u-1".into(),
            tags,
        });

        assert_eq!(input.client_token(), Some("u-1"));
        assert_eq!(input.client_cidr_block(), Some("10.100.0.0/22"));
        assert_eq!(
            input.server_certificate_arn(),
            Some("arn:aws:acm:eu-west-1:123456789012:certificate/server")
        );
        let auth = input.authentication_options();
        assert_eq!(auth.len(), 2);
        assert_eq!(
            auth[0].r#type().map(|t| t.as_str()),
            Some("certificate-authentication")
        );
        assert_eq!(
            auth[0]
                .mutual_authentication()
                .and_then(|m| m.client_root_certificate_chain_arn()),
            Some("arn:aws:acm:eu-west-1:123456789012:certificate/root")
        );
        assert_eq!(
            auth[1].r#type().map(|t| t.as_str()),
            Some("federated-authentication")
        );
        let federated = auth[1].federated_authentication().expect("federated");
        assert_eq!(
            federated.saml_provider_arn(),
            Some("arn:aws:iam::123456789012:saml-provider/idp")
        );
        assert_eq!(
            federated.self_service_saml_provider_arn(),
            Some("arn:aws:iam::123456789012:saml-provider/portal")
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
        assert_eq!(input.dns_servers(), ["10.0.0.2", "10.0.0.3"]);
        assert_eq!(input.description(), Some("office VPN"));
        assert_eq!(input.split_tunnel(), Some(true));
        assert_eq!(input.transport_protocol().map(|p| p.as_str()), Some("tcp"));
        assert_eq!(input.vpn_port(), Some(1194));
        assert_eq!(input.vpc_id(), Some("vpc-0123456789abcdef0"));
        assert_eq!(input.security_group_ids(), ["sg-0123456789abcdef0"]);
        assert_eq!(
            input.self_service_portal().map(|p| p.as_str()),
            Some("enabled")
        );
        let connect = input.client_connect_options().expect("connect options");
        assert_eq!(connect.enabled(), Some(true));
        assert_eq!(
            connect.lambda_function_arn(),
            Some("arn:aws:lambda:eu-west-1:123456789012:function:AWSClientVPN-check")
        );
        assert_eq!(input.session_timeout_hours(), Some(12));
        let banner = input.client_login_banner_options().expect("banner");
        assert_eq!(
            (banner.enabled(), banner.banner_text()),
            (Some(true), Some("Authorized use only"))
        );
        assert_eq!(input.disconnect_on_session_timeout(), Some(false));
        assert_eq!(
            input
                .client_route_enforcement_options()
                .and_then(|o| o.enforced()),
            Some(true)
        );
        assert_eq!(
            input.endpoint_ip_address_type().map(|t| t.as_str()),
            Some("dual-stack")
        );
        assert_eq!(
            input.traffic_ip_address_type().map(|t| t.as_str()),
            Some("dual-stack")
        );
        let posture = input.device_posture_options().expect("posture");
        assert_eq!(posture.enabled(), Some(true));
        let provider = &posture.trust_providers()[0];
        assert_eq!(
            provider.trust_provider_type().map(|t| t.as_str()),
            Some("crowdstrike")
        );
        assert_eq!(provider.tenant_id(), Some("t-1"));
        assert_eq!(
            provider.public_signing_key_url(),
            Some("https://keys.example/k")
        );
        let tag_spec = &input.tag_specifications()[0];
        assert_eq!(
            tag_spec.resource_type().map(|r| r.as_str()),
            Some("client-vpn-endpoint")
        );
        let sent: Vec<(Option<&str>, Option<&str>)> = tag_spec
            .tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect();
        assert_eq!(
            sent,
            [
                (Some("clientvpn.io/uid"), Some("u-1")),
                (Some("team"), Some("net"))
            ]
        );
        assert!(input.transit_gateway_configuration().is_none());
        assert_eq!(input.dry_run(), None);
    }

    #[test]
    fn a_minimal_spec_sends_only_what_aws_requires_plus_defaults() {
        let mut spec = full_spec();
        spec.authentication_options.truncate(1);
        spec.connection_log_options = None;
        spec.dns_servers.clear();
        spec.security_group_ids.clear();
        spec.vpc_id = None;
        spec.description = None;
        spec.device_posture_options = None;
        spec.transit_gateway_configuration = Some(TransitGatewayConfiguration {
            transit_gateway_id: "tgw-0123456789abcdef0".into(),
            availability_zones: vec!["eu-west-1a".into()],
            availability_zone_ids: vec![],
        });
        let input = build(&CreateEndpoint {
            spec,
            client_token: "t".into(),
            tags: BTreeMap::new(),
        });
        assert_eq!(
            input.connection_log_options().and_then(|l| l.enabled()),
            Some(false),
            "AWS requires the member"
        );
        assert!(input.dns_servers().is_empty());
        assert!(input.security_group_ids().is_empty());
        assert!(
            input.tag_specifications().is_empty(),
            "no empty TagSpecification"
        );
        assert_eq!(input.vpc_id(), None);
        let tgw = input.transit_gateway_configuration().expect("tgw");
        assert_eq!(tgw.transit_gateway_id(), Some("tgw-0123456789abcdef0"));
        assert_eq!(tgw.availability_zones(), ["eu-west-1a"]);
        assert!(tgw.availability_zone_ids().is_empty());
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
}
