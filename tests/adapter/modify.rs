//! `ModifyClientVpnEndpoint`: each field, and AWS's refusals.

use clientvpn_operator::cloud::{
    ClientConnect, ClientVpnApi, ConnectionLog, EndpointSettings, ErrorKind, LoginBanner,
    ModifyEndpoint,
};

use crate::emulator::Emulator;
use crate::support::*;

const NEXT_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/next";

fn log_on() -> ConnectionLog {
    ConnectionLog {
        enabled: true,
        log_group: Some("vpn".into()),
        log_stream: Some("conn".into()),
        include_authorization_policy_context: true,
    }
}

fn connect_on() -> ClientConnect {
    ClientConnect {
        enabled: true,
        lambda_function_arn: Some(LAMBDA.into()),
    }
}

fn banner_on() -> LoginBanner {
    LoginBanner {
        enabled: true,
        text: Some("Hello".into()),
    }
}

fn dns_servers() -> Vec<String> {
    vec!["10.0.0.3".into(), "10.0.0.2".into()]
}

#[tokio::test]
async fn modify_changes_each_field_and_nothing_else() {
    let emulator = Emulator::start();
    let api = adapter(&emulator, "AKIDMODIFY").await;
    let id = created(&api, federated_spec(), "uid-mod").await;
    let mut expected = describe(&api, &id).await.settings;
    assert_eq!(expected, expected_settings(&federated_spec()));
    let fixed = describe(&api, &id).await.fixed;

    /// What the change does to the settings AWS reports.
    type Effect = fn(&mut EndpointSettings);
    let groups = || vec!["sg-0123456789abcdef2".into(), "sg-0123456789abcdef1".into()];
    let steps: Vec<(&str, ModifyEndpoint, Effect)> = vec![
        (
            "server certificate",
            change(|c| c.server_certificate_arn = Some(NEXT_CERT.into())),
            |s| s.server_certificate_arn = NEXT_CERT.into(),
        ),
        (
            "connection log on",
            change(|c| c.connection_log = Some(log_on())),
            |s| s.connection_log = log_on(),
        ),
        (
            "dns servers",
            change(|c| c.dns_servers = Some(dns_servers())),
            |s| s.dns_servers = dns_servers(),
        ),
        (
            "dns servers emptied",
            change(|c| c.dns_servers = Some(vec![])),
            |s| s.dns_servers = vec![],
        ),
        ("vpn port", change(|c| c.vpn_port = Some(1194)), |s| {
            s.vpn_port = 1194
        }),
        (
            "description",
            change(|c| c.description = Some("changed".into())),
            |s| s.description = "changed".into(),
        ),
        (
            "split tunnel",
            change(|c| c.split_tunnel = Some(true)),
            |s| s.split_tunnel = true,
        ),
        (
            "vpc and security groups",
            ModifyEndpoint {
                vpc: Some((VPC.into(), groups())),
                ..Default::default()
            },
            |s| {
                s.vpc_id = Some(VPC.into());
                s.security_group_ids =
                    vec!["sg-0123456789abcdef1".into(), "sg-0123456789abcdef2".into()];
            },
        ),
        (
            "self-service portal on",
            change(|c| c.self_service_portal = Some(true)),
            |s| s.self_service_portal = Some(true),
        ),
        (
            "client connect on",
            change(|c| c.client_connect = Some(connect_on())),
            |s| s.client_connect = connect_on(),
        ),
        (
            "session timeout",
            change(|c| c.session_timeout_hours = Some(10)),
            |s| s.session_timeout_hours = 10,
        ),
        (
            "login banner on",
            change(|c| c.login_banner = Some(banner_on())),
            |s| s.login_banner = banner_on(),
        ),
        (
            "disconnect on session timeout",
            change(|c| c.disconnect_on_session_timeout = Some(false)),
            |s| s.disconnect_on_session_timeout = false,
        ),
        (
            "route enforcement",
            change(|c| c.route_enforcement = Some(true)),
            |s| s.route_enforcement = true,
        ),
        (
            "everything back off at once",
            ModifyEndpoint {
                connection_log: Some(ConnectionLog::default()),
                description: Some(String::new()),
                split_tunnel: Some(false),
                vpc: Some((VPC.into(), vec!["sg-0123456789abcdef3".into()])),
                self_service_portal: Some(false),
                client_connect: Some(ClientConnect::default()),
                login_banner: Some(LoginBanner::default()),
                disconnect_on_session_timeout: Some(true),
                route_enforcement: Some(false),
                ..Default::default()
            },
            |s| {
                s.connection_log = ConnectionLog::default();
                s.description = String::new();
                s.split_tunnel = false;
                s.security_group_ids = vec!["sg-0123456789abcdef3".into()];
                s.self_service_portal = Some(false);
                s.client_connect = ClientConnect::default();
                s.login_banner = LoginBanner::default();
                s.disconnect_on_session_timeout = true;
                s.route_enforcement = false;
            },
        ),
    ];
    for (name, change, apply) in steps {
        api.modify_endpoint(REGION, &id, &change)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        apply(&mut expected);
        let observed = describe(&api, &id).await;
        assert_eq!(observed.settings, expected, "after {name}");
        assert_eq!(observed.fixed, fixed, "after {name}: fixed settings moved");
    }
    assert_eq!(
        describe(&api, &id).await.self_service_portal_url,
        None,
        "portal off, no URL"
    );

    // An empty change still reaches AWS as a valid request (the controller should not send it).
    api.modify_endpoint(REGION, &id, &ModifyEndpoint::default())
        .await
        .expect("empty modify");

    // AWS refuses, the adapter classifies.
    assert_kind(
        api.modify_endpoint(REGION, &id, &change(|c| c.session_timeout_hours = Some(7)))
            .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );
}
