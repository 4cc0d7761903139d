//! What the controller needs from EC2, as a trait with kube-free, SDK-free types, and the
//! aws-sdk-ec2 adapter that implements it ([`Ec2ClientVpn`]: the one implementation; pacing,
//! metrics and logging of every HTTP attempt live in its SDK interceptor, see `attempt`).

mod access;
mod acm;
mod attempt;
mod ec2;
mod error;
mod mapping;
mod model;
mod operation;
mod pacing;
pub mod quota;

use std::collections::BTreeMap;

use async_trait::async_trait;

pub use access::{CONNECTION_ACTIVE, CRL_ACTIVE, ClientAccessApi, Connection, ExportedCrl};
pub use acm::{AcmCertificate, AcmCertificates, CertificateApi, ImportCertificate};
pub use ec2::Ec2ClientVpn;
pub use error::{CloudError, ErrorKind, classify, outcome_of};
pub use mapping::{create_request, describe_endpoint_fields};
pub use model::*;
pub use operation::{CallClass, Operation};
pub use pacing::{Admission, Pacer, PacingConfig, Rate};
pub use quota::Quota;

/// The EC2 Client VPN calls the controller makes. Exists so the controller can be tested with an
/// in-memory fake; the production implementation is [`Ec2ClientVpn`].
#[async_trait]
pub trait ClientVpnApi: Send + Sync {
    /// `CreateClientVpnEndpoint` with the request's client token and tags.
    async fn create_endpoint(
        &self,
        region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError>;

    /// `DescribeClientVpnEndpoints` for one ID; `None` when AWS says it does not exist.
    async fn describe_endpoint(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError>;

    /// Every endpoint in the region carrying tag `key=value` (all pages), including deleted ones.
    /// AWS has no tag filter for this call: the region is listed and filtered here.
    async fn find_endpoints_by_tag(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let mut endpoints = self.list_endpoints(region).await?;
        endpoints.retain(|e| e.has_tag(key, value));
        Ok(endpoints)
    }

    /// `DeleteClientVpnEndpoint`; returns the status code AWS answered (normally `deleting`).
    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError>;

    /// Every endpoint in the region (all pages of `DescribeClientVpnEndpoints`, MaxResults 1000).
    async fn list_endpoints(&self, region: &str) -> Result<Vec<ObservedEndpoint>, CloudError>;

    /// `ModifyClientVpnEndpoint` with only the `Some` fields.
    async fn modify_endpoint(
        &self,
        region: &str,
        id: &str,
        change: &ModifyEndpoint,
    ) -> Result<(), CloudError>;

    /// `CreateTags` on the endpoint.
    async fn create_tags(
        &self,
        region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError>;

    /// `DeleteTags` on the endpoint, by key (whatever the value).
    async fn delete_tags(&self, region: &str, id: &str, keys: &[String]) -> Result<(), CloudError>;

    /// `DescribeClientVpnTargetNetworks` (all pages).
    async fn describe_target_networks(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError>;

    /// `AssociateClientVpnTargetNetwork`; returns the association ID.
    async fn associate_target_network(
        &self,
        region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError>;

    /// `DisassociateClientVpnTargetNetwork`.
    async fn disassociate_target_network(
        &self,
        region: &str,
        id: &str,
        association_id: &str,
    ) -> Result<(), CloudError>;

    /// `ApplySecurityGroupsToClientVpnTargetNetwork`.
    async fn apply_security_groups(
        &self,
        region: &str,
        id: &str,
        vpc_id: &str,
        security_group_ids: &[String],
    ) -> Result<(), CloudError>;

    /// `DescribeClientVpnAuthorizationRules` (all pages).
    async fn describe_authorization_rules(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<AuthorizationRule>, CloudError>;

    /// `AuthorizeClientVpnIngress` (`AuthorizeAllGroups=true` when the key has no group).
    async fn authorize_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError>;

    /// `RevokeClientVpnIngress` (`RevokeAllGroups=true` when the key has no group).
    async fn revoke_ingress(
        &self,
        region: &str,
        id: &str,
        rule: &RuleKey,
    ) -> Result<(), CloudError>;

    /// `DescribeClientVpnRoutes` (all pages), both origins.
    async fn describe_routes(&self, region: &str, id: &str) -> Result<Vec<Route>, CloudError>;

    /// `CreateClientVpnRoute`.
    async fn create_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
        description: Option<&str>,
        client_token: &str,
    ) -> Result<(), CloudError>;

    /// `DeleteClientVpnRoute`.
    async fn delete_route(
        &self,
        region: &str,
        id: &str,
        route: &RouteKey,
    ) -> Result<(), CloudError>;

    /// `ExportClientVpnClientConfiguration`: the OpenVPN configuration text.
    async fn export_client_configuration(
        &self,
        region: &str,
        id: &str,
    ) -> Result<String, CloudError>;
}
