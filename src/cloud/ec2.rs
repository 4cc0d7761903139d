//! The aws-sdk-ec2 implementation of [`ClientVpnApi`], one SDK client per region.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::config::timeout::TimeoutConfig;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;

use super::mapping::{create_request, describe_endpoint_fields};
use super::{ClientVpnApi, CloudError, CreateEndpoint, CreatedEndpoint, ObservedEndpoint};

/// Largest page `DescribeClientVpnEndpoints` accepts.
const MAX_PAGE: i32 = 1000;
/// Upper bound for one AWS call, retries included, so a hung connection cannot stall a reconcile.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// [`ClientVpnApi`] over aws-sdk-ec2. Endpoint overrides (`AWS_ENDPOINT_URL_EC2`,
/// `AWS_ENDPOINT_URL`), credentials and retries come from the shared [`SdkConfig`].
pub struct Ec2ClientVpn {
    sdk: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
}

impl Ec2ClientVpn {
    /// Wrap a loaded AWS configuration; clients for each region are built on first use.
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, region: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config = aws_sdk_ec2::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_string()))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(OPERATION_TIMEOUT)
                            .build(),
                    )
                    .build();
                Client::from_conf(config)
            })
            .clone()
    }
}

/// Turn an SDK failure into a classified [`CloudError`].
fn cloud_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
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
        SdkError::ResponseError(_) => {
            CloudError::transport(operation, "ResponseError", "the answer could not be read")
        }
        _ => CloudError::transport(operation, "ConstructionFailure", error_chain(&err)),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl ClientVpnApi for Ec2ClientVpn {
    async fn create_endpoint(
        &self,
        region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError> {
        const OP: &str = "CreateClientVpnEndpoint";
        let out = create_request(self.client(region).create_client_vpn_endpoint(), request)
            .send()
            .await
            .map_err(|e| cloud_error(OP, e))?;
        let id = out.client_vpn_endpoint_id().ok_or_else(|| {
            CloudError::transport(
                OP,
                "MissingEndpointId",
                "AWS answered without an endpoint ID",
            )
        })?;
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
        const OP: &str = "DescribeClientVpnEndpoints";
        let result = self
            .client(region)
            .describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids(id)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .client_vpn_endpoints()
                .iter()
                .find(|e| e.client_vpn_endpoint_id() == Some(id))
                .map(describe_endpoint_fields)),
            Err(err) => {
                let err = cloud_error(OP, err);
                if err.is_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn find_endpoints_by_tag(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<ObservedEndpoint>, CloudError> {
        const OP: &str = "DescribeClientVpnEndpoints";
        let mut pages = self
            .client(region)
            .describe_client_vpn_endpoints()
            .max_results(MAX_PAGE)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| cloud_error(OP, e))?;
            found.extend(
                page.client_vpn_endpoints()
                    .iter()
                    .filter(|e| {
                        e.tags()
                            .iter()
                            .any(|t| t.key() == Some(key) && t.value() == Some(value))
                    })
                    .map(describe_endpoint_fields),
            );
        }
        Ok(found)
    }

    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError> {
        const OP: &str = "DeleteClientVpnEndpoint";
        let out = self
            .client(region)
            .delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(id)
            .send()
            .await
            .map_err(|e| cloud_error(OP, e))?;
        Ok(out
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string()))
    }
}
