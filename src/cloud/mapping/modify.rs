//! [`ModifyEndpoint`] → `ModifyClientVpnEndpoint` request: only the fields that change.

use aws_sdk_ec2::operation::modify_client_vpn_endpoint::builders::ModifyClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types as ec2;

use super::non_empty;
use crate::cloud::ModifyEndpoint;

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
        .set_self_service_portal(change.self_service_portal.map(|enabled| {
            if enabled {
                ec2::SelfServicePortal::Enabled
            } else {
                ec2::SelfServicePortal::Disabled
            }
        }))
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

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::modify_client_vpn_endpoint::ModifyClientVpnEndpointInput;

    use super::*;
    use crate::cloud::mapping::tests::{ID, client};
    use crate::cloud::{ClientConnect, ConnectionLog, LoginBanner};

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
}
