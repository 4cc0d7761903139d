//! EC2 requests the tests share: valid CreateClientVpnEndpoint requests and their
//! authentication options, and helpers that create, describe and list what an endpoint owns.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::create_client_vpn_endpoint::builders::CreateClientVpnEndpointFluentBuilder;
use aws_sdk_ec2::types::{
    AuthorizationRule, CertificateAuthenticationRequest, ClientVpnAuthenticationRequest,
    ClientVpnAuthenticationType, ClientVpnEndpoint, ClientVpnRoute, ConnectionLogOptions,
    DirectoryServiceAuthenticationRequest, FederatedAuthenticationRequest, Filter, Tag,
    TargetNetwork,
};

use crate::common::{CLIENT_CERT, SERVER_CERT, eventually};

/// A valid CreateClientVpnEndpoint request (mutual auth, logging off, client CIDR 172.16.0.0/22).
pub fn create_endpoint(client: &Client) -> CreateClientVpnEndpointFluentBuilder {
    create_endpoint_authenticated_by(client, vec![mutual_auth()])
}

/// As [`create_endpoint`] but with these authentication options, in this order.
pub fn create_endpoint_authenticated_by(
    client: &Client,
    authentication: Vec<ClientVpnAuthenticationRequest>,
) -> CreateClientVpnEndpointFluentBuilder {
    bare_create_endpoint(client)
        .client_cidr_block("172.16.0.0/22")
        .set_authentication_options(Some(authentication))
}

/// A CreateClientVpnEndpoint request with only the server certificate and logging off: no
/// client CIDR and no authentication yet.
pub fn bare_create_endpoint(client: &Client) -> CreateClientVpnEndpointFluentBuilder {
    client
        .create_client_vpn_endpoint()
        .server_certificate_arn(SERVER_CERT)
        .connection_log_options(logging_off())
}

/// Connection logging disabled, the one setting CreateClientVpnEndpoint requires.
pub fn logging_off() -> ConnectionLogOptions {
    ConnectionLogOptions::builder().enabled(false).build()
}

/// Active Directory authentication (directory `d-1234567890`).
pub fn directory_auth() -> ClientVpnAuthenticationRequest {
    ClientVpnAuthenticationRequest::builder()
        .r#type(ClientVpnAuthenticationType::DirectoryServiceAuthentication)
        .active_directory(
            DirectoryServiceAuthenticationRequest::builder()
                .directory_id("d-1234567890")
                .build(),
        )
        .build()
}

/// The SAML providers of [`federated_auth`]: sign-in, and the self-service portal.
pub const SAML_PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/idp";
pub const PORTAL_SAML_PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/portal";

/// SAML federated authentication, with a separate provider for the self-service portal.
pub fn federated_auth() -> ClientVpnAuthenticationRequest {
    ClientVpnAuthenticationRequest::builder()
        .r#type(ClientVpnAuthenticationType::FederatedAuthentication)
        .federated_authentication(
            FederatedAuthenticationRequest::builder()
                .saml_provider_arn(SAML_PROVIDER)
                .self_service_saml_provider_arn(PORTAL_SAML_PROVIDER)
                .build(),
        )
        .build()
}

/// Mutual (certificate) authentication with [`CLIENT_CERT`].
pub fn mutual_auth() -> ClientVpnAuthenticationRequest {
    mutual_auth_with(CLIENT_CERT)
}

/// Mutual authentication with this client root certificate chain.
pub fn mutual_auth_with(chain_arn: &str) -> ClientVpnAuthenticationRequest {
    ClientVpnAuthenticationRequest::builder()
        .r#type(ClientVpnAuthenticationType::CertificateAuthentication)
        .mutual_authentication(
            CertificateAuthenticationRequest::builder()
                .client_root_certificate_chain_arn(chain_arn)
                .build(),
        )
        .build()
}

/// Creates an endpoint and returns its id.
pub async fn new_endpoint(client: &Client) -> String {
    created(create_endpoint(client)).await
}

/// Sends a CreateClientVpnEndpoint request that must succeed; returns the new endpoint's id.
pub async fn created(request: CreateClientVpnEndpointFluentBuilder) -> String {
    request
        .send()
        .await
        .expect("create endpoint")
        .client_vpn_endpoint_id()
        .expect("endpoint id")
        .to_owned()
}

/// The endpoint as DescribeClientVpnEndpoints reports it.
pub async fn describe_endpoint(client: &Client, id: &str) -> ClientVpnEndpoint {
    let out = client
        .describe_client_vpn_endpoints()
        .client_vpn_endpoint_ids(id)
        .send()
        .await
        .expect("describe endpoint");
    assert_eq!(out.client_vpn_endpoints().len(), 1);
    out.client_vpn_endpoints()[0].clone()
}

pub async fn endpoint_status(client: &Client, id: &str) -> String {
    describe_endpoint(client, id)
        .await
        .status()
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default()
}

/// Associates a subnet and waits until it is `associated`; returns the association id.
pub async fn associate(client: &Client, endpoint_id: &str, subnet: &str) -> String {
    let out = client
        .associate_client_vpn_target_network()
        .client_vpn_endpoint_id(endpoint_id)
        .subnet_id(subnet)
        .send()
        .await
        .expect("associate");
    let association_id = out.association_id().expect("association id").to_owned();
    wait_until_associated(client, endpoint_id, &association_id).await;
    association_id
}

/// Waits until the association reports `associated`.
pub async fn wait_until_associated(client: &Client, endpoint_id: &str, association_id: &str) {
    let this = || vec![filter("association-id", association_id)];
    eventually("association to become associated", || async {
        let networks = target_networks_of(client, endpoint_id, this()).await;
        let status = networks.first()?.status()?.code()?.as_str().to_owned();
        (status == "associated").then_some(())
    })
    .await;
}

/// Authorizes every group to `cidr` (the rule starts `authorizing`).
pub async fn authorize_all(client: &Client, endpoint_id: &str, cidr: &str) {
    client
        .authorize_client_vpn_ingress()
        .client_vpn_endpoint_id(endpoint_id)
        .target_network_cidr(cidr)
        .authorize_all_groups(true)
        .send()
        .await
        .expect("authorize all groups");
}

/// Authorizes one access group to `cidr` (the rule starts `authorizing`).
pub async fn authorize_group(client: &Client, endpoint_id: &str, cidr: &str, group: &str) {
    client
        .authorize_client_vpn_ingress()
        .client_vpn_endpoint_id(endpoint_id)
        .target_network_cidr(cidr)
        .access_group_id(group)
        .send()
        .await
        .expect("authorize group");
}

/// Adds a route to `cidr` through `subnet` (the route starts `creating`).
pub async fn add_route(client: &Client, endpoint_id: &str, cidr: &str, subnet: &str) {
    client
        .create_client_vpn_route()
        .client_vpn_endpoint_id(endpoint_id)
        .destination_cidr_block(cidr)
        .target_vpc_subnet_id(subnet)
        .send()
        .await
        .expect("create route");
}

/// An EC2 tag.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// Tags one resource with one tag.
pub async fn tag_resource(client: &Client, resource_id: &str, key: &str, value: &str) {
    let request = client.create_tags().resources(resource_id);
    request
        .tags(tag(key, value))
        .send()
        .await
        .expect("create tags");
}

/// A Describe* filter with one value.
pub fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// What a Describe* call sends for `filters`: nothing when there are none.
fn filters_param(filters: Vec<Filter>) -> Option<Vec<Filter>> {
    (!filters.is_empty()).then_some(filters)
}

/// The endpoint's routes matching every filter (all of them without filters).
pub async fn routes_of(ec2: &Client, id: &str, filters: Vec<Filter>) -> Vec<ClientVpnRoute> {
    let request = ec2.describe_client_vpn_routes();
    let request = request.client_vpn_endpoint_id(id);
    let out = request.set_filters(filters_param(filters)).send().await;
    out.expect("describe routes").routes().to_vec()
}

/// The endpoint's authorization rules matching every filter (all of them without filters).
pub async fn rules_of(ec2: &Client, id: &str, filters: Vec<Filter>) -> Vec<AuthorizationRule> {
    let request = ec2.describe_client_vpn_authorization_rules();
    let request = request.client_vpn_endpoint_id(id);
    let out = request.set_filters(filters_param(filters)).send().await;
    out.expect("describe rules").authorization_rules().to_vec()
}

/// The endpoint's target networks matching every filter (all of them without filters).
pub async fn target_networks_of(
    ec2: &Client,
    id: &str,
    filters: Vec<Filter>,
) -> Vec<TargetNetwork> {
    let request = ec2.describe_client_vpn_target_networks();
    let request = request.client_vpn_endpoint_id(id);
    let out = request.set_filters(filters_param(filters)).send().await;
    out.expect("describe networks")
        .client_vpn_target_networks()
        .to_vec()
}
