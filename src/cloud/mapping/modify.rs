//! [`ModifyEndpoint`] → `ModifyClientVpnEndpoint` request: only the fields that change.

use aws_sdk_ec2::operation::modify_client_vpn_endpoint::builders::ModifyClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types as ec2;

use super::{non_empty, self_service_portal};
use crate::cloud::{ConnectionLog, ModifyEndpoint};

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
    let dns_servers = change.dns_servers.as_deref().map(|servers| {
        ec2::DnsServersOptionsModifyStructure::builder()
            .set_custom_dns_servers(non_empty(servers))
            .enabled(!servers.is_empty())
            .build()
    });
    let connect = change.client_connect.as_ref().map(|c| {
        ec2::ClientConnectOptions::builder()
            .enabled(c.enabled)
            .set_lambda_function_arn(c.lambda_function_arn.clone())
            .build()
    });
    let banner = change.login_banner.as_ref().map(|b| {
        let text = b.text.clone();
        ec2::ClientLoginBannerOptions::builder()
            .enabled(b.enabled)
            .set_banner_text(text)
            .build()
    });
    let route_enforcement = change.route_enforcement.map(|enforced| {
        ec2::ClientRouteEnforcementOptions::builder()
            .enforced(enforced)
            .build()
    });
    builder
        .client_vpn_endpoint_id(id)
        .set_server_certificate_arn(change.server_certificate_arn.clone())
        .set_connection_log_options(change.connection_log.as_ref().map(log_options))
        .set_dns_servers(dns_servers)
        .set_vpn_port(change.vpn_port)
        .set_description(change.description.clone())
        .set_split_tunnel(change.split_tunnel)
        .set_vpc_id(vpc_id)
        .set_security_group_ids(security_group_ids)
        .set_self_service_portal(change.self_service_portal.map(self_service_portal))
        .set_client_connect_options(connect)
        .set_session_timeout_hours(change.session_timeout_hours)
        .set_client_login_banner_options(banner)
        .set_disconnect_on_session_timeout(change.disconnect_on_session_timeout)
        .set_client_route_enforcement_options(route_enforcement)
}

/// Connection logging as `ModifyClientVpnEndpoint` takes it: every member, the flags always.
fn log_options(log: &ConnectionLog) -> ec2::ConnectionLogOptions {
    let switches = ec2::ConnectionLogOptions::builder()
        .enabled(log.enabled)
        .include_authorization_policy_context(log.include_authorization_policy_context);
    switches
        .set_cloudwatch_log_group(log.log_group.clone())
        .set_cloudwatch_log_stream(log.log_stream.clone())
        .build()
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::modify_client_vpn_endpoint::ModifyClientVpnEndpointInput;

    use super::*;
    use crate::cloud::mapping::tests::{ID, client};
    use crate::cloud::{ClientConnect, LoginBanner};

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

    /// The change a request carries, read back (the inverse of [`modify_request`]). Members
    /// the operator always sends with a sub-structure must be there.
    fn sent(input: &ModifyClientVpnEndpointInput) -> ModifyEndpoint {
        let always = |flag: Option<bool>| flag.expect("a flag always sent");
        let vpc = input
            .vpc_id()
            .map(|vpc| (vpc.to_string(), input.security_group_ids().to_vec()));
        let dns_servers = input.dns_servers().map(|dns| {
            let servers = dns.custom_dns_servers().to_vec();
            assert_eq!(dns.enabled(), Some(!servers.is_empty()), "{dns:?}");
            servers
        });
        ModifyEndpoint {
            server_certificate_arn: input.server_certificate_arn().map(str::to_string),
            connection_log: input.connection_log_options().map(|log| ConnectionLog {
                enabled: always(log.enabled()),
                log_group: log.cloudwatch_log_group().map(str::to_string),
                log_stream: log.cloudwatch_log_stream().map(str::to_string),
                include_authorization_policy_context: always(
                    log.include_authorization_policy_context(),
                ),
            }),
            dns_servers,
            vpn_port: input.vpn_port(),
            description: input.description().map(str::to_string),
            split_tunnel: input.split_tunnel(),
            vpc,
            self_service_portal: input.self_service_portal().map(|portal| match portal {
                ec2::SelfServicePortal::Enabled => true,
                ec2::SelfServicePortal::Disabled => false,
                other => panic!("unexpected portal value {other:?}"),
            }),
            client_connect: input.client_connect_options().map(|c| ClientConnect {
                enabled: always(c.enabled()),
                lambda_function_arn: c.lambda_function_arn().map(str::to_string),
            }),
            session_timeout_hours: input.session_timeout_hours(),
            login_banner: input.client_login_banner_options().map(|b| LoginBanner {
                enabled: always(b.enabled()),
                text: b.banner_text().map(str::to_string),
            }),
            disconnect_on_session_timeout: input.disconnect_on_session_timeout(),
            route_enforcement: input
                .client_route_enforcement_options()
                .map(|o| always(o.enforced())),
        }
    }

    /// No member outside [`sent`]'s is set: those the operator never sends, and security groups
    /// without their VPC.
    fn nothing_else(i: &ModifyClientVpnEndpointInput) -> bool {
        let never_sent = i.dry_run().is_none()
            && i.transit_gateway_configuration().is_none()
            && i.device_posture_options().is_none();
        never_sent && (i.vpc_id().is_some() || i.security_group_ids().is_empty())
    }

    /// A change that sets only what `set` sets.
    fn change(set: fn(&mut ModifyEndpoint)) -> ModifyEndpoint {
        let mut change = ModifyEndpoint::default();
        set(&mut change);
        change
    }

    #[test]
    fn every_modify_field_reaches_the_modify_request() {
        let input = build_modify(&full_change());
        assert_eq!(input.client_vpn_endpoint_id(), Some(ID));
        assert_eq!(sent(&input), full_change());
        assert!(nothing_else(&input));
    }

    #[test]
    fn a_modify_request_carries_only_the_fields_that_change() {
        // One row per field: the change that sets only it (to a value that turns it off, where
        // there is one, so that "off" is sent rather than omitted).
        let rows: Vec<(&str, ModifyEndpoint)> = vec![
            (
                "server certificate",
                change(|c| c.server_certificate_arn = Some("arn".into())),
            ),
            (
                "connection log off",
                change(|c| c.connection_log = Some(ConnectionLog::default())),
            ),
            (
                "dns servers",
                change(|c| c.dns_servers = Some(vec!["10.0.0.2".into()])),
            ),
            ("vpn port", change(|c| c.vpn_port = Some(443))),
            (
                "empty description",
                change(|c| c.description = Some(String::new())),
            ),
            ("split tunnel off", change(|c| c.split_tunnel = Some(false))),
            (
                "vpc",
                change(|c| c.vpc = Some(("vpc-0123456789abcdef0".into(), vec![]))),
            ),
            (
                "portal off",
                change(|c| c.self_service_portal = Some(false)),
            ),
            (
                "client connect off",
                change(|c| c.client_connect = Some(ClientConnect::default())),
            ),
            (
                "session timeout",
                change(|c| c.session_timeout_hours = Some(24)),
            ),
            (
                "banner off",
                change(|c| c.login_banner = Some(LoginBanner::default())),
            ),
            (
                "disconnect on timeout",
                change(|c| c.disconnect_on_session_timeout = Some(true)),
            ),
            (
                "route enforcement off",
                change(|c| c.route_enforcement = Some(false)),
            ),
        ];
        for (name, change) in &rows {
            let input = build_modify(change);
            assert_eq!(input.client_vpn_endpoint_id(), Some(ID), "{name}");
            // `sent` reads every member back: equal to a one-field change, nothing else is set.
            assert_eq!(
                &sent(&input),
                change,
                "{name}: not sent as expected, or others too"
            );
            assert!(nothing_else(&input), "{name}: other fields were sent");
        }
        let nothing = build_modify(&ModifyEndpoint::default());
        assert_eq!(sent(&nothing), ModifyEndpoint::default());
        assert!(nothing_else(&nothing));
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
