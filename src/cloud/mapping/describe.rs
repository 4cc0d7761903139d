//! aws-sdk-ec2 answer → [`ObservedEndpoint`]: the fields of a described endpoint, normalized.

use aws_sdk_ec2::types as ec2;

use super::text;
use crate::cloud::{
    AuthenticationFact, ClientConnect, ConnectionLog, EndpointSettings, FixedSettings, LoginBanner,
    ObservedEndpoint,
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::mapping::tests::ID;

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
        let directory = ec2::DirectoryServiceAuthentication::builder()
            .directory_id("d-1234567890")
            .build();
        let option = ec2::ClientVpnAuthentication::builder()
            .r#type(ec2::ClientVpnAuthenticationType::DirectoryServiceAuthentication)
            .active_directory(directory)
            .build();
        let endpoint = ec2::ClientVpnEndpoint::builder()
            .authentication_options(option)
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
}
