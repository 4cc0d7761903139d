use aws_sdk_ec2::operation::RequestId;
use aws_sdk_ec2::types::{
    ClientConnectOptions, ClientLoginBannerOptions, ClientRouteEnforcementOptions,
    ClientVpnAuthenticationType, ClientVpnDeviceTrustProviderType, ClientVpnEndpoint,
    ClientVpnTrustProviderRequest, ConnectionLogOptions, DevicePostureOptions,
    DnsServersOptionsModifyStructure, EndpointIpAddressType, ResourceType, SelfServicePortal, Tag,
    TagSpecification, TrafficIpAddressType, TransitGatewayConfigurationInputStructure,
    TransportProtocol,
};

use crate::common::*;

/// Client route enforcement switched on.
fn route_enforcement_on() -> ClientRouteEnforcementOptions {
    ClientRouteEnforcementOptions::builder()
        .enforced(true)
        .build()
}

/// A login banner that is shown, with this text.
fn login_banner(text: &str) -> ClientLoginBannerOptions {
    ClientLoginBannerOptions::builder()
        .enabled(true)
        .banner_text(text)
        .build()
}

/// The endpoint shows [`login_banner`] with `banner`, [`route_enforcement_on`], and no
/// disconnect on session timeout.
fn assert_session_options(ep: &ClientVpnEndpoint, banner: &str) {
    let shown = ep.client_login_banner_options().unwrap();
    assert_eq!(shown.enabled(), Some(true));
    assert_eq!(shown.banner_text(), Some(banner));
    let enforcement = ep.client_route_enforcement_options().unwrap();
    assert_eq!(enforcement.enforced(), Some(true));
    assert_eq!(ep.disconnect_on_session_timeout(), Some(false));
}

/// The IP address types of the endpoint itself and of its traffic.
fn ip_address_types(ep: &ClientVpnEndpoint) -> (EndpointIpAddressType, TrafficIpAddressType) {
    let endpoint = ep
        .endpoint_ip_address_type()
        .expect("endpoint IP address type");
    let traffic = ep
        .traffic_ip_address_type()
        .expect("traffic IP address type");
    (endpoint.clone(), traffic.clone())
}

#[tokio::test]
async fn create_returns_id_status_and_dns_name() {
    let (_, ec2) = start_with_client().await;
    let out = create_endpoint(&ec2).send().await.unwrap();
    let id = out.client_vpn_endpoint_id().unwrap();
    let hex = id.strip_prefix("cvpn-endpoint-").unwrap();
    assert_eq!(hex.len(), 17);
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(
        out.status().unwrap().code().unwrap().as_str(),
        "pending-associate"
    );
    assert_eq!(
        out.dns_name().unwrap(),
        format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com")
    );
    assert!(out.request_id().is_some_and(|r| r.len() == 36));
}

#[tokio::test]
async fn describe_reports_every_field_of_a_fully_specified_endpoint() {
    let (_, ec2) = start_with_client().await;
    let out = create_endpoint_authenticated_by(&ec2, vec![mutual_auth(), federated_auth()])
        .client_cidr_block("172.16.0.0/20")
        .connection_log_options(
            ConnectionLogOptions::builder()
                .enabled(true)
                .cloudwatch_log_group("vpn-logs")
                .cloudwatch_log_stream("stream-1")
                .include_authorization_policy_context(true)
                .build(),
        )
        .dns_servers("10.1.0.2")
        .dns_servers("8.8.8.8")
        .transport_protocol(TransportProtocol::Tcp)
        .vpn_port(1194)
        .description("team <vpn> & friends")
        .split_tunnel(true)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::ClientVpnEndpoint)
                .tags(Tag::builder().key("Name").value("prod vpn").build())
                .tags(Tag::builder().key("clientvpn.io/uid").value("1234").build())
                .build(),
        )
        .vpc_id(VPC)
        .security_group_ids("sg-11111111")
        .security_group_ids("sg-0123456789abcdef9")
        .self_service_portal(SelfServicePortal::Enabled)
        .client_connect_options(
            ClientConnectOptions::builder()
                .enabled(true)
                .lambda_function_arn(
                    "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check",
                )
                .build(),
        )
        .session_timeout_hours(12)
        .client_login_banner_options(login_banner("Authorized use only"))
        .client_route_enforcement_options(route_enforcement_on())
        .disconnect_on_session_timeout(false)
        .endpoint_ip_address_type(EndpointIpAddressType::DualStack)
        .traffic_ip_address_type(TrafficIpAddressType::Ipv4)
        .send()
        .await
        .unwrap();
    let id = out.client_vpn_endpoint_id().unwrap();
    let ep = describe_endpoint(&ec2, id).await;

    assert_eq!(ep.client_vpn_endpoint_id(), Some(id));
    assert_eq!(ep.description(), Some("team <vpn> & friends"));
    assert_eq!(
        ep.status().unwrap().code().unwrap().as_str(),
        "pending-associate"
    );
    let created = ep.creation_time().unwrap();
    assert_eq!(created.len(), 19, "{created}");
    assert_eq!(&created[10..11], "T");
    assert_eq!(ep.deletion_time(), None);
    assert_eq!(ep.dns_name(), out.dns_name());
    assert_eq!(ep.client_cidr_block(), Some("172.16.0.0/20"));
    assert_eq!(ep.dns_servers(), ["10.1.0.2", "8.8.8.8"]);
    assert_eq!(ep.split_tunnel(), Some(true));
    assert_eq!(ep.vpn_protocol().unwrap().as_str(), "openvpn");
    assert_eq!(ep.transport_protocol(), Some(&TransportProtocol::Tcp));
    assert_eq!(ep.vpn_port(), Some(1194));
    assert_eq!(ep.server_certificate_arn(), Some(SERVER_CERT));

    let auth = ep.authentication_options();
    assert_eq!(auth.len(), 2);
    assert_eq!(
        auth[0].r#type(),
        Some(&ClientVpnAuthenticationType::CertificateAuthentication)
    );
    assert_eq!(
        auth[0]
            .mutual_authentication()
            .unwrap()
            .client_root_certificate_chain(),
        Some(CLIENT_CERT)
    );
    assert_eq!(
        auth[1].r#type(),
        Some(&ClientVpnAuthenticationType::FederatedAuthentication)
    );
    let federated = auth[1].federated_authentication().unwrap();
    assert_eq!(federated.saml_provider_arn(), Some(SAML_PROVIDER));
    assert_eq!(
        federated.self_service_saml_provider_arn(),
        Some(PORTAL_SAML_PROVIDER)
    );

    let log = ep.connection_log_options().unwrap();
    assert_eq!(log.enabled(), Some(true));
    assert_eq!(log.cloudwatch_log_group(), Some("vpn-logs"));
    assert_eq!(log.cloudwatch_log_stream(), Some("stream-1"));
    assert_eq!(log.include_authorization_policy_context(), Some(true));

    let tags: Vec<(&str, &str)> = ep
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags, [("Name", "prod vpn"), ("clientvpn.io/uid", "1234")]);
    assert_eq!(
        ep.security_group_ids(),
        ["sg-11111111", "sg-0123456789abcdef9"]
    );
    assert_eq!(ep.vpc_id(), Some(VPC));
    assert_eq!(
        ep.self_service_portal_url(),
        Some(format!("https://self-service.clientvpn.amazonaws.com/endpoints/{id}").as_str())
    );
    let connect = ep.client_connect_options().unwrap();
    assert_eq!(connect.enabled(), Some(true));
    assert_eq!(
        connect.lambda_function_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check")
    );
    assert_eq!(
        connect.status().unwrap().code().unwrap().as_str(),
        "applied"
    );
    assert_eq!(ep.session_timeout_hours(), Some(12));
    assert_session_options(&ep, "Authorized use only");
    assert_eq!(
        ip_address_types(&ep),
        (EndpointIpAddressType::DualStack, TrafficIpAddressType::Ipv4)
    );
    assert!(ep.transit_gateway_configuration().is_none());
    assert!(ep.device_posture_options().is_none());
}

#[tokio::test]
async fn defaults_of_a_minimal_endpoint() {
    let (_, ec2, id) = start_with_endpoint().await;
    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(ep.description(), Some(""));
    assert!(ep.dns_servers().is_empty());
    assert_eq!(ep.split_tunnel(), Some(false));
    assert_eq!(ep.transport_protocol(), Some(&TransportProtocol::Udp));
    assert_eq!(ep.vpn_port(), Some(443));
    assert_eq!(ep.connection_log_options().unwrap().enabled(), Some(false));
    assert!(ep.tags().is_empty());
    assert!(ep.security_group_ids().is_empty());
    assert_eq!(ep.vpc_id(), None);
    assert_eq!(ep.self_service_portal_url(), None);
    assert_eq!(ep.session_timeout_hours(), Some(24));
    assert_eq!(ep.disconnect_on_session_timeout(), Some(true));
    assert_eq!(ep.client_connect_options().unwrap().enabled(), Some(false));
    assert_eq!(
        ep.client_login_banner_options().unwrap().enabled(),
        Some(false)
    );
    assert_eq!(
        ep.client_route_enforcement_options().unwrap().enforced(),
        Some(false)
    );
    assert_eq!(
        ip_address_types(&ep),
        (EndpointIpAddressType::Ipv4, TrafficIpAddressType::Ipv4)
    );
}

#[tokio::test]
async fn vpc_without_security_groups_gets_the_default_group() {
    let (_, ec2) = start_with_client().await;
    let id = created(create_endpoint(&ec2).vpc_id(VPC)).await;
    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(ep.security_group_ids(), ["sg-0123456789abcdef0"]);
}

#[tokio::test]
async fn directory_authentication_is_reported() {
    let (_, ec2) = start_with_client().await;
    let auth = vec![directory_auth(), mutual_auth()];
    let id = created(create_endpoint_authenticated_by(&ec2, auth)).await;
    let ep = describe_endpoint(&ec2, &id).await;
    let auth = ep.authentication_options();
    assert_eq!(
        auth[0].active_directory().unwrap().directory_id(),
        Some("d-1234567890")
    );
    assert!(auth[0].mutual_authentication().is_none());
}

#[tokio::test]
async fn transit_gateway_endpoint_with_device_posture_goes_pending_then_available() {
    let (_, ec2) = start_with_client().await;
    let out = create_endpoint(&ec2)
        .transit_gateway_configuration(
            TransitGatewayConfigurationInputStructure::builder()
                .transit_gateway_id("tgw-0123456789abcdef0")
                .availability_zones("us-east-1a")
                .availability_zones("us-east-1b")
                .availability_zone_ids("use1-az1")
                .build(),
        )
        .device_posture_options(
            DevicePostureOptions::builder()
                .enabled(true)
                .trust_providers(
                    ClientVpnTrustProviderRequest::builder()
                        .trust_provider_type(ClientVpnDeviceTrustProviderType::Crowdstrike)
                        .tenant_id("tenant-1")
                        .public_signing_key_url("https://keys.example.com/jwks")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().unwrap().code().unwrap().as_str(), "pending");
    let id = out.client_vpn_endpoint_id().unwrap();
    let ep = describe_endpoint(&ec2, id).await;
    let tgw = ep.transit_gateway_configuration().unwrap();
    assert_eq!(tgw.transit_gateway_id(), Some("tgw-0123456789abcdef0"));
    assert!(
        tgw.transit_gateway_attachment_id()
            .unwrap()
            .starts_with("tgw-attach-")
    );
    assert_eq!(tgw.availability_zones(), ["us-east-1a", "us-east-1b"]);
    assert_eq!(tgw.availability_zone_ids(), ["use1-az1"]);
    let providers = ep.device_posture_options().unwrap().trust_providers();
    assert_eq!(providers.len(), 1);
    assert_eq!(
        providers[0].trust_provider_type(),
        Some(&ClientVpnDeviceTrustProviderType::Crowdstrike)
    );
    assert_eq!(providers[0].tenant_id(), Some("tenant-1"));
    assert_eq!(
        providers[0].public_signing_key_url(),
        Some("https://keys.example.com/jwks")
    );
    eventually("transit gateway endpoint to become available", || async {
        (endpoint_status(&ec2, id).await == "available").then_some(())
    })
    .await;

    // Transit-gateway endpoints are associated with zones, not subnets.
    let assoc = ec2
        .associate_client_vpn_target_network()
        .client_vpn_endpoint_id(id)
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let networks = target_networks_of(&ec2, id, vec![]).await;
    let network = &networks[0];
    assert_eq!(network.association_id(), assoc.association_id());
    assert_eq!(network.availability_zones(), ["us-east-1a"]);
    assert_eq!(network.target_network_id(), Some("tgw-0123456789abcdef0"));
    assert_rejected(
        ec2.associate_client_vpn_target_network()
            .client_vpn_endpoint_id(id)
            .subnet_id(SUBNET_A)
            .send()
            .await,
        "InvalidParameterCombination",
    );
}

#[tokio::test]
async fn modify_changes_what_it_is_given_and_nothing_else() {
    let (_, ec2) = start_with_client().await;
    let before = create_endpoint(&ec2)
        .description("before")
        .dns_servers("10.0.0.2")
        .authentication_options(directory_auth());
    let id = created(before).await;

    let out = ec2
        .modify_client_vpn_endpoint()
        .client_vpn_endpoint_id(&id)
        .server_certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/server-cert-2")
        .connection_log_options(
            ConnectionLogOptions::builder()
                .enabled(true)
                .cloudwatch_log_group("g")
                .build(),
        )
        .dns_servers(
            DnsServersOptionsModifyStructure::builder()
                .custom_dns_servers("1.1.1.1")
                .custom_dns_servers("1.0.0.1")
                .enabled(true)
                .build(),
        )
        .vpn_port(1194)
        .split_tunnel(true)
        .vpc_id(VPC)
        .security_group_ids("sg-22222222")
        .self_service_portal(SelfServicePortal::Enabled)
        .session_timeout_hours(8)
        .client_login_banner_options(login_banner("hi"))
        .client_route_enforcement_options(route_enforcement_on())
        .disconnect_on_session_timeout(false)
        .send()
        .await
        .unwrap();
    assert_eq!(out.r#return(), Some(true));

    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(
        ep.description(),
        Some("before"),
        "not part of the modification"
    );
    assert_eq!(
        ep.server_certificate_arn(),
        Some("arn:aws:acm:us-east-1:123456789012:certificate/server-cert-2")
    );
    assert_eq!(
        ep.connection_log_options().unwrap().cloudwatch_log_group(),
        Some("g")
    );
    assert_eq!(ep.dns_servers(), ["1.1.1.1", "1.0.0.1"]);
    assert_eq!(ep.vpn_port(), Some(1194));
    assert_eq!(ep.split_tunnel(), Some(true));
    assert_eq!(ep.vpc_id(), Some(VPC));
    assert_eq!(ep.security_group_ids(), ["sg-22222222"]);
    assert!(ep.self_service_portal_url().is_some());
    assert_eq!(ep.session_timeout_hours(), Some(8));
    assert_session_options(&ep, "hi");
    assert_eq!(
        ep.transport_protocol(),
        Some(&TransportProtocol::Udp),
        "immutable"
    );

    // DnsServers.Enabled=false removes the servers; Description can be changed on its own.
    ec2.modify_client_vpn_endpoint()
        .client_vpn_endpoint_id(&id)
        .dns_servers(
            DnsServersOptionsModifyStructure::builder()
                .enabled(false)
                .build(),
        )
        .description("after")
        .send()
        .await
        .unwrap();
    let ep = describe_endpoint(&ec2, &id).await;
    assert!(ep.dns_servers().is_empty());
    assert_eq!(ep.description(), Some("after"));
    assert_eq!(ep.vpn_port(), Some(1194));
}

#[tokio::test]
async fn modify_validates_like_create() {
    let (_, ec2, id) = start_with_endpoint().await;
    let modify = || ec2.modify_client_vpn_endpoint().client_vpn_endpoint_id(&id);
    let three_dns_servers = DnsServersOptionsModifyStructure::builder()
        .custom_dns_servers("1.1.1.1")
        .custom_dns_servers("1.0.0.1")
        .custom_dns_servers("8.8.8.8")
        .build();
    let transit_gateway = TransitGatewayConfigurationInputStructure::builder()
        .transit_gateway_id("tgw-12345678")
        .build();
    assert_each_rejected!(
        "InvalidParameterValue",
        [
            modify().vpn_port(80),
            modify().session_timeout_hours(9),
            modify().dns_servers(three_dns_servers),
            // Mutual authentication only: no self-service portal.
            modify().self_service_portal(SelfServicePortal::Enabled),
            modify().transit_gateway_configuration(transit_gateway),
        ]
    );
    let msg = assert_rejected(
        modify().security_group_ids("sg-12345678").send().await,
        "InvalidParameterValue",
    );
    assert!(msg.contains("without a VPC"), "{msg}");
}

#[tokio::test]
async fn delete_goes_deleting_then_deleted_then_not_found() {
    let (_, ec2, id) = start_with_endpoint().await;
    let delete = || {
        ec2.delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(&id)
            .send()
    };
    let out = delete().await.unwrap();
    assert_eq!(out.status().unwrap().code().unwrap().as_str(), "deleting");
    assert_eq!(endpoint_status(&ec2, &id).await, "deleting");
    // Deleting again while deleting is harmless.
    delete().await.unwrap();
    // Changes are refused while deleting.
    assert_rejected(
        ec2.modify_client_vpn_endpoint()
            .client_vpn_endpoint_id(&id)
            .description("x")
            .send()
            .await,
        "IncorrectState",
    );

    let deleted = eventually("endpoint to be deleted", || async {
        let ep = describe_endpoint(&ec2, &id).await;
        (ep.status()?.code()?.as_str() == "deleted").then_some(ep)
    })
    .await;
    assert_eq!(deleted.deletion_time().map(str::len), Some(19));
    // Also listed without ids while visible.
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert_eq!(all.client_vpn_endpoints().len(), 1);
    assert_rejected(delete().await, "InvalidClientVpnEndpointId.NotFound");

    eventually("deleted endpoint to disappear", || async {
        let result = ec2
            .describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids(&id)
            .send()
            .await;
        match result {
            Err(e) if code(&e) == "InvalidClientVpnEndpointId.NotFound" => Some(()),
            _ => None,
        }
    })
    .await;
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert!(all.client_vpn_endpoints().is_empty());
}
