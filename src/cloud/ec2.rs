//! The aws-sdk-ec2 implementation of [`ClientVpnApi`], one SDK client per region. Every
//! client carries the per-attempt pacing, metrics and logging of [`super::attempt`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_ec2::types::Tag;
use aws_smithy_async::future::pagination_stream::PaginationStream;

use super::attempt::{RegionalClients, instrumented_client};
use super::mapping::{
    authorization_rule, create_request, describe_endpoint_fields, modify_request, route,
    target_network,
};
use super::{
    AuthorizationRule, ClientVpnApi, CloudError, CreateEndpoint, CreatedEndpoint, ModifyEndpoint,
    ObservedEndpoint, Operation, Pacer, Route, RouteKey, RuleKey, TargetNetwork,
};
use crate::metrics::Metrics;
use crate::telemetry::error_chain;

/// Largest page the four `DescribeClientVpn*` calls accept (`MaxResults` 5–1000).
pub(super) const MAX_PAGE: i32 = 1000;

/// [`ClientVpnApi`] over aws-sdk-ec2. Endpoint overrides (`AWS_ENDPOINT_URL_EC2`,
/// `AWS_ENDPOINT_URL`), credentials, retries and the HTTP client come from the shared
/// [`SdkConfig`]; every HTTP attempt is paced by its [`Pacer`] and counted in its [`Metrics`].
pub struct Ec2ClientVpn {
    clients: RegionalClients<Client>,
}

impl Ec2ClientVpn {
    /// Wrap a loaded AWS configuration; clients for each region are built on first use. Paced
    /// with the default [`PacingConfig`](super::PacingConfig) and counted in metrics of its own
    /// until [`Self::with_pacer`] and [`Self::with_metrics`] say otherwise.
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            clients: RegionalClients::new(
                sdk,
                Arc::new(Pacer::new(Default::default())),
                Arc::new(Metrics::new()),
                instrumented_client!(aws_sdk_ec2),
            ),
        }
    }

    /// Pace every attempt with `pacer` (shared by everything that calls this account's EC2).
    pub fn with_pacer(mut self, pacer: Arc<Pacer>) -> Self {
        self.clients.set_pacer(pacer);
        self
    }

    /// Count every attempt in `metrics` (the registry `/metrics` serves).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.clients.set_metrics(metrics);
        self
    }

    /// The client for `region`: every attempt goes through the pacer and the interceptor.
    pub(super) fn client(&self, region: &str) -> Client {
        self.clients.get(region)
    }
}

/// Await one SDK call, turning its failure into a classified [`CloudError`].
pub(super) async fn call<T, E>(
    operation: Operation,
    request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<T, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    request.await.map_err(|e| cloud_error(operation, e))
}

/// [`call`], with "not found" as `None`: the resource is gone (or never was).
pub(super) async fn call_unless_gone<T, E>(
    operation: Operation,
    request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<Option<T>, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match call(operation, request).await {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Every item of a paginated listing (`into_paginator().items().send()`), page by page.
pub(super) async fn every_item<T, E>(
    operation: Operation,
    items: PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
) -> Result<Vec<T>, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    call(operation, items.collect::<Result<Vec<T>, _>>()).await
}

/// Turn an SDK failure into a classified [`CloudError`].
fn cloud_error<E>(operation: Operation, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let operation = operation.name();
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            CloudError::from_service(
                operation,
                inner.code().unwrap_or("Unknown"),
                inner.message().unwrap_or_default(),
                Some(service.raw().status().as_u16()),
                err.request_id().map(str::to_string),
            )
        }
        SdkError::TimeoutError(_) => {
            CloudError::transport(operation, "Timeout", "the call timed out")
        }
        SdkError::DispatchFailure(failure) => {
            CloudError::transport(operation, "DispatchFailure", format!("{failure:?}"))
        }
        SdkError::ResponseError(_) => CloudError::transport(
            operation,
            "ResponseError",
            format!("the answer could not be read: {}", error_chain(&err)),
        ),
        _ => CloudError::transport(operation, "ConstructionFailure", error_chain(&err)),
    }
}

/// An answer without a field AWS always sends.
pub(super) fn missing(operation: Operation, code: &str, what: &str) -> CloudError {
    CloudError::transport(
        operation.name(),
        code,
        format!("AWS answered without {what}"),
    )
}

/// The route's target subnet; transit-gateway endpoints' routes have none (`""`), and AWS wants
/// the member absent then.
fn subnet(route: &RouteKey) -> Option<String> {
    (!route.target_subnet_id.is_empty()).then(|| route.target_subnet_id.clone())
}

#[async_trait]
impl ClientVpnApi for Ec2ClientVpn {
    async fn create_endpoint(
        &self,
        region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError> {
        const OP: Operation = Operation::CreateClientVpnEndpoint;
        let builder = create_request(self.client(region).create_client_vpn_endpoint(), request);
        let out = call(OP, builder.send()).await?;
        let id = out
            .client_vpn_endpoint_id()
            .ok_or_else(|| missing(OP, "MissingEndpointId", "an endpoint ID"))?;
        Ok(CreatedEndpoint {
            id: id.to_string(),
            dns_name: out.dns_name().map(str::to_string),
            status_code: out
                .status()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string()),
            status_message: out.status().and_then(|s| s.message()).map(str::to_string),
        })
    }

    async fn describe_endpoint(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError> {
        let request = self
            .client(region)
            .describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids(id)
            .send();
        let out = call_unless_gone(Operation::DescribeClientVpnEndpoints, request).await?;
        Ok(out.and_then(|out| {
            out.client_vpn_endpoints()
                .iter()
                .find(|e| e.client_vpn_endpoint_id() == Some(id))
                .map(describe_endpoint_fields)
        }))
    }

    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError> {
        let request = self
            .client(region)
            .delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(id)
            .send();
        let out = call(Operation::DeleteClientVpnEndpoint, request).await?;
        Ok(out
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string()))
    }

    async fn list_endpoints(&self, region: &str) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let items = self
            .client(region)
            .describe_client_vpn_endpoints()
            .max_results(MAX_PAGE)
            .into_paginator()
            .items()
            .send();
        let endpoints = every_item(Operation::DescribeClientVpnEndpoints, items).await?;
        Ok(endpoints.iter().map(describe_endpoint_fields).collect())
    }

    async fn modify_endpoint(
        &self,
        region: &str,
        id: &str,
        change: &ModifyEndpoint,
    ) -> Result<(), CloudError> {
        let builder = modify_request(self.client(region).modify_client_vpn_endpoint(), id, change);
        call(Operation::ModifyClientVpnEndpoint, builder.send()).await?;
        Ok(())
    }

    async fn create_tags(
        &self,
        region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        if tags.is_empty() {
            // AWS requires at least one tag.
            return Ok(());
        }
        let tags = tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        let request = self
            .client(region)
            .create_tags()
            .resources(id)
            .set_tags(Some(tags))
            .send();
        call(Operation::CreateTags, request).await?;
        Ok(())
    }

    async fn delete_tags(&self, region: &str, id: &str, keys: &[String]) -> Result<(), CloudError> {
        if keys.is_empty() {
            // A DeleteTags without any tag would delete every tag of the endpoint.
            return Ok(());
        }
        // Keys without values: AWS removes the tag whatever its value.
        let tags = keys
            .iter()
            .map(|key| Tag::builder().key(key).build())
            .collect();
        let request = self
            .client(region)
            .delete_tags()
            .resources(id)
            .set_tags(Some(tags))
            .send();
        call(Operation::DeleteTags, request).await?;
        Ok(())
    }

    async fn describe_target_networks(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError> {
        let items = self
            .client(region)
            .describe_client_vpn_target_networks()
            .client_vpn_endpoint_id(id)
            .max_results(MAX_PAGE)
            .into_paginator()
            .items()
            .send();
        let networks = every_item(Operation::DescribeClientVpnTargetNetworks, items).await?;
        Ok(networks.iter().map(target_network).collect())
    }

    async fn associate_target_network(
        &self,
        region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError> {
        const OP: Operation = Operation::AssociateClientVpnTargetNetwork;
        let request = self
            .client(region)
            .associate_client_vpn_target_network()
            .client_vpn_endpoint_id(id)
            .subnet_id(subnet_id)
            .client_token(client_token)
            .send();
        let out = call(OP, request).await?;
        out.association_id()
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .ok_or_else(|| missing(OP, "MissingAssociationId", "an association ID"))
    }

    async fn disassociate_target_network(
        &self,
        region: &str,
        id: &str,
        association_id: &str,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .disassociate_client_vpn_target_network()
            .client_vpn_endpoint_id(id)
            .association_id(association_id)
            .send();
        call(Operation::DisassociateClientVpnTargetNetwork, request).await?;
        Ok(())
    }

    async fn apply_security_groups(
        &self,
        region: &str,
        id: &str,
        vpc_id: &str,
        security_group_ids: &[String],
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .apply_security_groups_to_client_vpn_target_network()
            .client_vpn_endpoint_id(id)
            .vpc_id(vpc_id)
            .set_security_group_ids(Some(security_group_ids.to_vec()))
            .send();
        call(
            Operation::ApplySecurityGroupsToClientVpnTargetNetwork,
            request,
        )
        .await?;
        Ok(())
    }

    async fn describe_authorization_rules(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<AuthorizationRule>, CloudError> {
        let items = self
            .client(region)
            .describe_client_vpn_authorization_rules()
            .client_vpn_endpoint_id(id)
            .max_results(MAX_PAGE)
            .into_paginator()
            .items()
            .send();
        let rules = every_item(Operation::DescribeClientVpnAuthorizationRules, items).await?;
        Ok(rules.iter().map(authorization_rule).collect())
    }

    async fn authorize_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(id)
            .target_network_cidr(&rule.target_network_cidr)
            .set_description(description.map(str::to_string))
            .client_token(client_token);
        let request = match &rule.access_group_id {
            Some(group) => request.access_group_id(group),
            None => request.authorize_all_groups(true),
        };
        call(Operation::AuthorizeClientVpnIngress, request.send()).await?;
        Ok(())
    }

    async fn revoke_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .revoke_client_vpn_ingress()
            .client_vpn_endpoint_id(id)
            .target_network_cidr(&rule.target_network_cidr);
        let request = match &rule.access_group_id {
            Some(group) => request.access_group_id(group),
            None => request.revoke_all_groups(true),
        };
        call(Operation::RevokeClientVpnIngress, request.send()).await?;
        Ok(())
    }

    async fn describe_routes(&self, region: &str, id: &str) -> Result<Vec<Route>, CloudError> {
        let items = self
            .client(region)
            .describe_client_vpn_routes()
            .client_vpn_endpoint_id(id)
            .max_results(MAX_PAGE)
            .into_paginator()
            .items()
            .send();
        let routes = every_item(Operation::DescribeClientVpnRoutes, items).await?;
        Ok(routes.iter().map(route).collect())
    }

    async fn create_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .create_client_vpn_route()
            .client_vpn_endpoint_id(id)
            .destination_cidr_block(&route.destination_cidr_block)
            .set_target_vpc_subnet_id(subnet(route))
            .set_description(description.map(str::to_string))
            .client_token(client_token)
            .send();
        call(Operation::CreateClientVpnRoute, request).await?;
        Ok(())
    }

    async fn delete_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .delete_client_vpn_route()
            .client_vpn_endpoint_id(id)
            .destination_cidr_block(&route.destination_cidr_block)
            .set_target_vpc_subnet_id(subnet(route))
            .send();
        call(Operation::DeleteClientVpnRoute, request).await?;
        Ok(())
    }

    async fn export_client_configuration(
        &self,
        region: &str,
        id: &str,
    ) -> Result<String, CloudError> {
        const OP: Operation = Operation::ExportClientVpnClientConfiguration;
        let request = self
            .client(region)
            .export_client_vpn_client_configuration()
            .client_vpn_endpoint_id(id)
            .send();
        let out = call(OP, request).await?;
        out.client_configuration()
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .ok_or_else(|| missing(OP, "MissingClientConfiguration", "a client configuration"))
    }
}
