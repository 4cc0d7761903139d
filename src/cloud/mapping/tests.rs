//! Tests of the create request and of the child listings' items.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::operation::create_client_vpn_endpoint::CreateClientVpnEndpointInput;

use super::*;
use crate::api::*;

/// The endpoint ID the tests describe and modify.
pub(super) const ID: &str = "cvpn-endpoint-0123456789abcdef0";

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

pub(super) fn client() -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

fn build(request: &CreateEndpoint) -> CreateClientVpnEndpointInput {
    create_request(client().create_client_vpn_endpoint(), request)
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
    let providers = (
        federated.saml_provider_arn(),
        federated.self_service_saml_provider_arn(),
    );
    assert_eq!(
        providers,
        (
            Some("arn:aws:iam::123456789012:saml-provider/idp"),
            Some("arn:aws:iam::123456789012:saml-provider/portal")
        )
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
fn target_networks_are_read() {
    let associating = ec2::AssociationStatus::builder()
        .code(ec2::AssociationStatusCode::Associating)
        .message("working")
        .build();
    let network = ec2::TargetNetwork::builder()
        .association_id("cvpn-assoc-0123456789abcdef0")
        .vpc_id("vpc-0123456789abcdef0")
        .target_network_id("subnet-0123456789abcdef1")
        .client_vpn_endpoint_id(ID)
        .status(associating)
        .security_groups("sg-0123456789abcdef2")
        .security_groups("sg-0123456789abcdef1")
        .build();
    assert_eq!(
        target_network(&network),
        TargetNetwork {
            association_id: "cvpn-assoc-0123456789abcdef0".into(),
            subnet_id: "subnet-0123456789abcdef1".into(),
            vpc_id: Some("vpc-0123456789abcdef0".into()),
            status_code: "associating".into(),
            status_message: Some("working".into()),
            security_group_ids: vec!["sg-0123456789abcdef1".into(), "sg-0123456789abcdef2".into()],
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
        assert_eq!(got.status_code, "active");
        assert_eq!(got.status_message, None);
    }
}

#[test]
fn routes_key_on_destination_and_subnet() {
    let creating = ec2::ClientVpnRouteStatus::builder()
        .code(ec2::ClientVpnRouteStatusCode::Creating)
        .build();
    let described = ec2::ClientVpnRoute::builder()
        .client_vpn_endpoint_id(ID)
        .destination_cidr("10.1.0.0/16")
        .target_subnet("subnet-0123456789abcdef1")
        .r#type("Nat")
        .origin("associate")
        .description("Default Route")
        .status(creating)
        .build();
    assert_eq!(
        route(&described),
        Route {
            key: RouteKey {
                destination_cidr_block: "10.1.0.0/16".into(),
                target_subnet_id: "subnet-0123456789abcdef1".into(),
            },
            origin: "associate".into(),
            description: Some("Default Route".into()),
            status_code: "creating".into(),
            status_message: None,
        }
    );
}
