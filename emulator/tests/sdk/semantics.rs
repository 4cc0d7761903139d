//! Cross-cutting behaviour: validation, idempotency, DryRun, regions and accounts, quotas.

use std::fmt::Debug;
use std::future::Future;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    ClientConnectOptions, ClientLoginBannerOptions, ClientVpnAuthenticationRequest,
    ClientVpnAuthenticationType, ConnectionLogOptions, EndpointIpAddressType, ResourceType,
    SelfServicePortal, TagSpecification, TransitGatewayConfigurationInputStructure,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn create_validation_errors() {
    let (_, ec2) = start_with_client().await;
    let create = || create_endpoint(&ec2);
    let bare = || bare_create_endpoint(&ec2).client_cidr_block("172.16.0.0/22");
    let auth_type = |kind| {
        ClientVpnAuthenticationRequest::builder()
            .r#type(kind)
            .build()
    };
    let transit_gateway = TransitGatewayConfigurationInputStructure::builder()
        .transit_gateway_id("tgw-12345678")
        .build();
    let banner = ClientLoginBannerOptions::builder()
        .enabled(true)
        .banner_text("x".repeat(1401))
        .build();
    let other_resource_tags = TagSpecification::builder()
        .resource_type(ResourceType::Instance)
        .tags(tag("k", "v"))
        .build();
    let logging_without_group = ConnectionLogOptions::builder().enabled(true).build();
    let connect_without_lambda = ClientConnectOptions::builder().enabled(true).build();
    let no_certificate = ec2
        .create_client_vpn_endpoint()
        .client_cidr_block("172.16.0.0/22")
        .authentication_options(mutual_auth())
        .connection_log_options(logging_off());
    let no_logging = ec2
        .create_client_vpn_endpoint()
        .client_cidr_block("172.16.0.0/22")
        .server_certificate_arn(SERVER_CERT)
        .authentication_options(mutual_auth());
    let invalid = vec![
        ("client CIDR /11", create().client_cidr_block("10.0.0.0/11")),
        ("client CIDR /23", create().client_cidr_block("10.0.0.0/23")),
        ("client CIDR garbage", create().client_cidr_block("ten/22")),
        (
            "client CIDR host bits",
            create().client_cidr_block("10.0.0.1/22"),
        ),
        (
            "three DNS servers",
            create()
                .dns_servers("1.1.1.1")
                .dns_servers("1.0.0.1")
                .dns_servers("8.8.8.8"),
        ),
        ("DNS server not an IP", create().dns_servers("dns.local")),
        ("transport enum", create().transport_protocol("sctp".into())),
        ("port", create().vpn_port(8443)),
        ("session timeout", create().session_timeout_hours(9)),
        (
            "AD + federated",
            bare()
                .authentication_options(directory_auth())
                .authentication_options(federated_auth()),
        ),
        (
            "mutual twice",
            create().authentication_options(mutual_auth()),
        ),
        (
            "three options",
            create()
                .authentication_options(directory_auth())
                .authentication_options(federated_auth()),
        ),
        (
            "authentication type enum",
            bare().authentication_options(auth_type("password".into())),
        ),
        (
            "security groups without VPC",
            create().security_group_ids("sg-12345678"),
        ),
        ("malformed VPC id", create().vpc_id("vpc-zz")),
        (
            "malformed SG id",
            create().vpc_id(VPC).security_group_ids("default"),
        ),
        (
            "server certificate not an ARN",
            create().server_certificate_arn("cert-1"),
        ),
        (
            "banner too long",
            create().client_login_banner_options(banner),
        ),
        (
            "self-service portal with mutual authentication only",
            create().self_service_portal(SelfServicePortal::Enabled),
        ),
        (
            "IP address type enum",
            create().endpoint_ip_address_type("ipv5".into()),
        ),
        (
            "tag specification for another resource type",
            create().tag_specifications(other_resource_tags),
        ),
    ];
    let missing = vec![
        (
            "missing client CIDR",
            bare_create_endpoint(&ec2).authentication_options(mutual_auth()),
        ),
        ("no authentication", bare()),
        (
            "type without its structure",
            bare().authentication_options(auth_type(
                ClientVpnAuthenticationType::CertificateAuthentication,
            )),
        ),
        ("missing server certificate", no_certificate),
        ("missing connection log options", no_logging),
        (
            "logging enabled without a log group",
            create().connection_log_options(logging_without_group),
        ),
        (
            "client connect without lambda",
            create().client_connect_options(connect_without_lambda),
        ),
    ];
    let combination = vec![(
        "transit gateway with VPC",
        create()
            .vpc_id(VPC)
            .transit_gateway_configuration(transit_gateway),
    )];
    for (expected, cases) in [
        ("InvalidParameterValue", invalid),
        ("MissingParameter", missing),
        ("InvalidParameterCombination", combination),
    ] {
        for (what, request) in cases {
            assert_case_rejected(what, request.send().await, expected);
        }
    }
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert!(all.client_vpn_endpoints().is_empty(), "nothing was created");
}

#[tokio::test]
async fn every_action_on_an_unknown_endpoint_is_not_found() {
    let (_, ec2) = start_with_client().await;
    assert_each_rejected!(
        "InvalidClientVpnEndpointId.NotFound",
        [
            ec2.modify_client_vpn_endpoint()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
                .description("x"),
            ec2.delete_client_vpn_endpoint()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
            ec2.associate_client_vpn_target_network()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
                .subnet_id(SUBNET_B),
            ec2.describe_client_vpn_target_networks()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
            ec2.describe_client_vpn_authorization_rules()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
            ec2.describe_client_vpn_routes()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
            ec2.export_client_vpn_client_configuration()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
        ]
    );
}

#[tokio::test]
async fn every_action_on_an_endpoint_needs_its_id() {
    let (_, ec2, _) = start_with_endpoint().await;
    assert_each_rejected!(
        "MissingParameter",
        [
            ec2.modify_client_vpn_endpoint(),
            ec2.delete_client_vpn_endpoint(),
            ec2.associate_client_vpn_target_network()
                .subnet_id(SUBNET_A),
            ec2.describe_client_vpn_target_networks(),
            ec2.describe_client_vpn_authorization_rules(),
            ec2.describe_client_vpn_routes(),
            ec2.export_client_vpn_client_configuration(),
        ]
    );
}

#[tokio::test]
async fn ipv6_traffic_needs_no_client_cidr() {
    let (_, ec2) = start_with_client().await;
    let ipv6 = bare_create_endpoint(&ec2)
        .authentication_options(mutual_auth())
        .traffic_ip_address_type(aws_sdk_ec2::types::TrafficIpAddressType::Ipv6)
        .endpoint_ip_address_type(EndpointIpAddressType::Ipv6);
    let ep = describe_endpoint(&ec2, &created(ipv6).await).await;
    assert_eq!(ep.client_cidr_block(), None);
    assert_eq!(ep.traffic_ip_address_type().unwrap().as_str(), "ipv6");
}

/// Sends `request(same)` twice and `request(other)` once, all with one ClientToken: the repeat
/// succeeds, other parameters are `IdempotentParameterMismatch`. Returns the two answers.
async fn assert_token_reused<A, T, E, Fut>(request: impl Fn(A) -> Fut, same: A, other: A) -> (T, T)
where
    A: Copy,
    T: Debug,
    E: ProvideErrorMetadata + Debug,
    Fut: Future<Output = Result<T, SdkError<E>>>,
{
    let first = request(same).await.expect("first request");
    let repeat = request(same).await.expect("repeated request");
    assert_rejected(request(other).await, "IdempotentParameterMismatch");
    (first, repeat)
}

#[tokio::test]
async fn client_token_makes_create_idempotent() {
    let (emu, ec2) = start_with_client().await;
    let create = |description: &'static str| {
        create_endpoint(&ec2)
            .client_token("uid-1")
            .description(description)
            .send()
    };
    let (first, again) = assert_token_reused(create, "d", "other").await;
    assert_eq!(
        first.client_vpn_endpoint_id(),
        again.client_vpn_endpoint_id()
    );
    assert_eq!(first.dns_name(), again.dns_name());
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert_eq!(all.client_vpn_endpoints().len(), 1);

    // Another token is another endpoint.
    created(create_endpoint(&ec2).client_token("uid-2").description("d")).await;
    // Tokens are scoped per region: the same token elsewhere creates a new endpoint.
    let west = emu.client_for(ACCESS_KEY, "eu-west-1").await;
    let other = created(
        create_endpoint(&west)
            .client_token("uid-1")
            .description("d"),
    )
    .await;
    assert_ne!(Some(other.as_str()), first.client_vpn_endpoint_id());
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert_eq!(all.client_vpn_endpoints().len(), 2);
}

#[tokio::test]
async fn client_token_makes_associate_authorize_and_route_idempotent() {
    let (_, ec2, id) = start_with_endpoint().await;

    let associate = |subnet: &'static str| {
        ec2.associate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .subnet_id(subnet)
            .client_token("assoc-token")
            .send()
    };
    let (a, b) = assert_token_reused(associate, SUBNET_A, SUBNET_B).await;
    assert_eq!(a.association_id(), b.association_id());
    let networks = target_networks_of(&ec2, &id, vec![]).await;
    assert_eq!(networks.len(), 1);

    let authorize = |group: &'static str| {
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.1.0.0/16")
            .access_group_id(group)
            .client_token("rule-token")
            .send()
    };
    assert_token_reused(authorize, "g", "h").await;
    let rules = rules_of(&ec2, &id, vec![]).await;
    assert_eq!(rules.len(), 1);

    wait_until_associated(&ec2, &id, a.association_id().unwrap()).await;
    let route = |cidr: &'static str| {
        ec2.create_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block(cidr)
            .target_vpc_subnet_id(SUBNET_A)
            .client_token("route-token")
            .send()
    };
    assert_token_reused(route, "192.168.0.0/16", "192.169.0.0/16").await;
    let routes = routes_of(&ec2, &id, vec![]).await;
    assert_eq!(routes.len(), 2, "associate route + one added route");
}

#[tokio::test]
async fn dry_run_of_every_action_changes_nothing() {
    let (emu, ec2, id) = start_with_endpoint().await;
    let spare = new_endpoint(&ec2).await;
    let assoc = associate(&ec2, &id, SUBNET_A).await;
    authorize_all(&ec2, &id, "10.1.0.0/16").await;
    add_route(&ec2, &id, "0.0.0.0/0", SUBNET_A).await;
    tag_resource(&ec2, &id, "k", "v").await;
    // Let every transition finish so the state is stable.
    let before = eventually("stable state", || async {
        let state = emu.state().await.to_string();
        (!state.contains("authorizing") && !state.contains("creating")).then_some(state)
    })
    .await;
    emu.control("POST", "/_emulator/calls/reset", None).await;

    macro_rules! dry {
        ($($request:expr),+ $(,)?) => {{
            let mut n = 0;
            $(
                n += 1;
                assert_dry_run($request.dry_run(true).send().await);
            )+
            n
        }};
    }
    let actions = dry!(
        create_endpoint(&ec2),
        ec2.describe_client_vpn_endpoints(),
        ec2.modify_client_vpn_endpoint()
            .client_vpn_endpoint_id(&id)
            .description("x"),
        ec2.delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(&spare),
        ec2.associate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .subnet_id(SUBNET_B),
        ec2.disassociate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .association_id(&assoc),
        ec2.describe_client_vpn_target_networks()
            .client_vpn_endpoint_id(&id),
        ec2.apply_security_groups_to_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .vpc_id(VPC)
            .security_group_ids("sg-11111111"),
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.2.0.0/16")
            .access_group_id("g"),
        ec2.revoke_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.1.0.0/16")
            .revoke_all_groups(true),
        ec2.describe_client_vpn_authorization_rules()
            .client_vpn_endpoint_id(&id),
        ec2.create_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block("192.168.0.0/16")
            .target_vpc_subnet_id(SUBNET_A),
        ec2.delete_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block("0.0.0.0/0")
            .target_vpc_subnet_id(SUBNET_A),
        ec2.describe_client_vpn_routes().client_vpn_endpoint_id(&id),
        ec2.create_tags().resources(&id).tags(tag("k2", "v")),
        ec2.delete_tags().resources(&id),
        ec2.export_client_vpn_client_configuration()
            .client_vpn_endpoint_id(&id),
        ec2.import_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(&id)
            .certificate_revocation_list(crate::certs::Ca::new("CA").crl([1], 2099)),
        ec2.export_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(&id),
        ec2.describe_client_vpn_connections()
            .client_vpn_endpoint_id(&id),
    );
    assert_eq!(actions, 20);
    // Terminate validates the connection first; a real DryRun is in `connections`.
    assert_rejected(
        ec2.terminate_client_vpn_connections()
            .client_vpn_endpoint_id(&id)
            .connection_id("cvpn-connection-00000000000000000")
            .dry_run(true)
            .send()
            .await,
        "InvalidClientVpnConnection.IdNotFound",
    );
    assert_eq!(emu.state().await.to_string(), before);
    let calls = emu.calls().await;
    assert_eq!(calls.as_object().unwrap().len(), 21, "{calls}");

    // DryRun still validates first.
    assert_rejected(
        create_endpoint(&ec2).vpn_port(1).dry_run(true).send().await,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn regions_and_accounts_are_separate() {
    let emu = Emulator::start().await;
    let east = emu.client().await;
    let west = emu.client_for(ACCESS_KEY, "eu-west-1").await;
    let other_account = emu.client_for("AKIDOTHERACCOUNT", "us-east-1").await;

    let east_id = new_endpoint(&east).await;
    let west_out = create_endpoint(&west).send().await.unwrap();
    assert!(
        west_out
            .dns_name()
            .unwrap()
            .ends_with(".prod.clientvpn.eu-west-1.amazonaws.com")
    );
    let west_id = west_out.client_vpn_endpoint_id().unwrap();

    let listed = |c: aws_sdk_ec2::Client| async move {
        c.describe_client_vpn_endpoints()
            .send()
            .await
            .unwrap()
            .client_vpn_endpoints()
            .iter()
            .map(|e| e.client_vpn_endpoint_id().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(east.clone()).await, [east_id.as_str()]);
    assert_eq!(listed(west.clone()).await, [west_id]);
    assert!(listed(other_account.clone()).await.is_empty());
    assert_rejected(
        other_account
            .describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids(&east_id)
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
    );
    assert_rejected(
        west.delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(&east_id)
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
    );

    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    assert_eq!(account.len(), 12);
    let state = emu.state().await;
    let regions = &state["accounts"][&account];
    assert_eq!(
        regions["us-east-1"]["endpoints"][0]["clientVpnEndpointId"],
        json!(east_id)
    );
    assert_eq!(
        regions["eu-west-1"]["endpoints"][0]["clientVpnEndpointId"],
        json!(west_id)
    );
    assert_eq!(
        state["accounts"].as_object().unwrap().len(),
        1,
        "the other account has nothing"
    );
}

#[tokio::test]
async fn endpoint_quota_per_region() {
    let (emu, ec2) = start_with_client().await;
    let limits = emu.set_limits(json!({"endpoints_per_region": 2})).await;
    assert_eq!(limits["endpoints_per_region"], 2);
    let first = new_endpoint(&ec2).await;
    new_endpoint(&ec2).await;
    assert_rejected(
        create_endpoint(&ec2).send().await,
        "ClientVpnEndpointLimitExceeded",
    );
    // Other regions have their own quota; endpoints being deleted no longer count.
    new_endpoint(&emu.client_for(ACCESS_KEY, "us-west-2").await).await;
    ec2.delete_client_vpn_endpoint()
        .client_vpn_endpoint_id(&first)
        .send()
        .await
        .unwrap();
    new_endpoint(&ec2).await;
}
