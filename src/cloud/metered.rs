//! A [`ClientVpnApi`] decorator through which every EC2 call goes: paced per region by a
//! [`Pacer`], then counted by operation and outcome.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use super::pacing::Pacer;
use super::{
    AuthorizationRule, ClientVpnApi, CloudError, CreateEndpoint, CreatedEndpoint, ModifyEndpoint,
    ObservedEndpoint, Route, RouteKey, RuleKey, TargetNetwork,
};
use crate::metrics::Metrics;

/// Wraps an implementation: paces each call and records it in [`Metrics`].
pub struct Metered<C> {
    inner: C,
    metrics: Arc<Metrics>,
    pacer: Arc<Pacer>,
}

impl<C> Metered<C> {
    pub fn new(inner: C, metrics: Arc<Metrics>, pacer: Arc<Pacer>) -> Self {
        Self {
            inner,
            metrics,
            pacer,
        }
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        region: &str,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        let result = self.pacer.run(region, call).await;
        self.metrics.aws_result(operation, &result);
        result
    }
}

#[async_trait]
impl<C: ClientVpnApi> ClientVpnApi for Metered<C> {
    async fn create_endpoint(
        &self,
        region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError> {
        self.call(
            "CreateClientVpnEndpoint",
            region,
            self.inner.create_endpoint(region, request),
        )
        .await
    }

    async fn describe_endpoint(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError> {
        self.call(
            "DescribeClientVpnEndpoints",
            region,
            self.inner.describe_endpoint(region, id),
        )
        .await
    }

    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError> {
        self.call(
            "DeleteClientVpnEndpoint",
            region,
            self.inner.delete_endpoint(region, id),
        )
        .await
    }

    async fn list_endpoints(&self, region: &str) -> Result<Vec<ObservedEndpoint>, CloudError> {
        self.call(
            "DescribeClientVpnEndpoints",
            region,
            self.inner.list_endpoints(region),
        )
        .await
    }

    async fn modify_endpoint(
        &self,
        region: &str,
        id: &str,
        change: &ModifyEndpoint,
    ) -> Result<(), CloudError> {
        self.call(
            "ModifyClientVpnEndpoint",
            region,
            self.inner.modify_endpoint(region, id, change),
        )
        .await
    }

    async fn create_tags(
        &self,
        region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        self.call(
            "CreateTags",
            region,
            self.inner.create_tags(region, id, tags),
        )
        .await
    }

    async fn delete_tags(&self, region: &str, id: &str, keys: &[String]) -> Result<(), CloudError> {
        self.call(
            "DeleteTags",
            region,
            self.inner.delete_tags(region, id, keys),
        )
        .await
    }

    async fn describe_target_networks(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError> {
        self.call(
            "DescribeClientVpnTargetNetworks",
            region,
            self.inner.describe_target_networks(region, id),
        )
        .await
    }

    async fn associate_target_network(
        &self,
        region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError> {
        self.call(
            "AssociateClientVpnTargetNetwork",
            region,
            self.inner
                .associate_target_network(region, id, subnet_id, client_token),
        )
        .await
    }

    async fn disassociate_target_network(
        &self,
        region: &str,
        id: &str,
        association_id: &str,
    ) -> Result<(), CloudError> {
        self.call(
            "DisassociateClientVpnTargetNetwork",
            region,
            self.inner
                .disassociate_target_network(region, id, association_id),
        )
        .await
    }

    async fn apply_security_groups(
        &self,
        region: &str,
        id: &str,
        vpc_id: &str,
        security_group_ids: &[String],
    ) -> Result<(), CloudError> {
        self.call(
            "ApplySecurityGroupsToClientVpnTargetNetwork",
            region,
            self.inner
                .apply_security_groups(region, id, vpc_id, security_group_ids),
        )
        .await
    }

    async fn describe_authorization_rules(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<AuthorizationRule>, CloudError> {
        self.call(
            "DescribeClientVpnAuthorizationRules",
            region,
            self.inner.describe_authorization_rules(region, id),
        )
        .await
    }

    async fn authorize_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError> {
        self.call(
            "AuthorizeClientVpnIngress",
            region,
            self.inner
                .authorize_ingress(region, id, rule, description, client_token),
        )
        .await
    }

    async fn revoke_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
    ) -> Result<(), CloudError> {
        self.call(
            "RevokeClientVpnIngress",
            region,
            self.inner.revoke_ingress(region, id, rule),
        )
        .await
    }

    async fn describe_routes(&self, region: &str, id: &str) -> Result<Vec<Route>, CloudError> {
        self.call(
            "DescribeClientVpnRoutes",
            region,
            self.inner.describe_routes(region, id),
        )
        .await
    }

    async fn create_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError> {
        self.call(
            "CreateClientVpnRoute",
            region,
            self.inner
                .create_route(region, id, route, description, client_token),
        )
        .await
    }

    async fn delete_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
    ) -> Result<(), CloudError> {
        self.call(
            "DeleteClientVpnRoute",
            region,
            self.inner.delete_route(region, id, route),
        )
        .await
    }

    async fn export_client_configuration(
        &self,
        region: &str,
        id: &str,
    ) -> Result<String, CloudError> {
        self.call(
            "ExportClientVpnClientConfiguration",
            region,
            self.inner.export_client_configuration(region, id),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::FakeCloud;

    #[tokio::test]
    async fn every_call_is_counted_by_operation_and_outcome() {
        let fake = FakeCloud::default();
        fake.fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded", 503);
        let metrics = Arc::new(Metrics::new());
        let pacer = Pacer::new(super::super::PacingConfig {
            backoff_base: std::time::Duration::from_millis(1),
            ..Default::default()
        });
        let metered = Metered::new(fake, metrics.clone(), Arc::new(pacer));
        assert!(metered.list_endpoints("us-east-1").await.is_err());
        assert!(metered.list_endpoints("us-east-1").await.is_ok());
        assert!(
            metered
                .delete_endpoint("us-east-1", "cvpn-endpoint-1")
                .await
                .is_err()
        );
        let text = metrics.encode();
        for (operation, outcome) in [
            ("DescribeClientVpnEndpoints", "retryable"),
            ("DescribeClientVpnEndpoints", "success"),
            ("DeleteClientVpnEndpoint", "not_found"),
        ] {
            let found = text.lines().any(|l| {
                l.contains(&format!("operation=\"{operation}\""))
                    && l.contains(&format!("outcome=\"{outcome}\""))
                    && l.ends_with(" 1")
            });
            assert!(found, "{operation}/{outcome} not counted once:\n{text}");
        }
    }
}
