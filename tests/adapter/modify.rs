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
    let steps: Vec<(&str, ModifyEndpoint, Effect)> = vec![
        (
            "server certificate",
            ModifyEndpoint {
                server_certificate_arn: Some(NEXT_CERT.into()),
                ..Default::default()
            },
            |s| s.server_certificate_arn = NEXT_CERT.into(),
        ),
        (
            "connection log on",
            ModifyEndpoint {
                connection_log: Some(log_on()),
                ..Default::default()
            },
            |s| s.connection_log = log_on(),
        ),
        (
            "dns servers",
            ModifyEndpoint {
                dns_servers: Some(dns_servers()),
                ..Default::default()
            },
            |s| s.dns_servers = dns_servers(),
        ),
        (
            "dns servers emptied",
            ModifyEndpoint {
                dns_servers: Some(vec![]),
                ..Default::default()
            },
            |s| s.dns_servers = vec![],
        ),
        (
            "vpn port",
            ModifyEndpoint {
                vpn_port: Some(1194),
                ..Default::default()
            },
            |s| s.vpn_port = 1194,
        ),
        (
            "description",
            ModifyEndpoint {
                description: Some("changed".into()),
                ..Default::default()
            },
            |s| s.description = "changed".into(),
        ),
        (
            "split tunnel",
            ModifyEndpoint {
                split_tunnel: Some(true),
                ..Default::default()
            },
            |s| s.split_tunnel = true,
        ),
        (
            "vpc and security groups",
            ModifyEndpoint {
                vpc: Some((
                    VPC.into(),
                    vec!["sg-0123456789abcdef2".into(), "sg-0123456789abcdef1".into()],
                )),
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
            ModifyEndpoint {
                self_service_portal: Some(true),
                ..Default::default()
            },
            |s| s.self_service_portal = true,
        ),
        (
            "client connect on",
            ModifyEndpoint {
                client_connect: Some(connect_on()),
                ..Default::default()
            },
            |s| s.client_connect = connect_on(),
        ),
        (
            "session timeout",
            ModifyEndpoint {
                session_timeout_hours: Some(10),
                ..Default::default()
            },
            |s| s.session_timeout_hours = 10,
        ),
        (
            "login banner on",
            ModifyEndpoint {
                login_banner: Some(banner_on()),
                ..Default::default()
            },
            |s| s.login_banner = banner_on(),
        ),
        (
            "disconnect on session timeout",
            ModifyEndpoint {
                disconnect_on_session_timeout: Some(false),
                ..Default::default()
            },
            |s| s.disconnect_on_session_timeout = false,
        ),
        (
            "route enforcement",
            ModifyEndpoint {
                route_enforcement: Some(true),
                ..Default::default()
            },
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
                s.self_service_portal = false;
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
        api.modify_endpoint(
            REGION,
            &id,
            &ModifyEndpoint {
                session_timeout_hours: Some(7),
                ..Default::default()
            },
        )
        .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );
}
