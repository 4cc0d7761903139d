//! What the controller needs from EC2, as a trait with kube-free, SDK-free types, and the
//! aws-sdk-ec2 adapter that implements it.

mod ec2;
mod error;
mod mapping;

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::api::ClientVpnEndpointSpec;

pub use ec2::Ec2ClientVpn;
pub use error::{CloudError, ErrorKind, classify};
pub use mapping::{create_request, describe_endpoint_fields};

/// AWS's endpoint status codes the operator acts on.
pub mod status_code {
    /// Created, no target network associated yet.
    pub const PENDING_ASSOCIATE: &str = "pending-associate";
    /// Usable: at least one target network is associated.
    pub const AVAILABLE: &str = "available";
    /// Delete requested; AWS is tearing it down.
    pub const DELETING: &str = "deleting";
    /// Gone; may stay visible in Describe for a while.
    pub const DELETED: &str = "deleted";
    /// Transit gateway endpoints wait here for their attachment.
    pub const PENDING: &str = "pending";
}

/// What the operator asks AWS to create.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateEndpoint {
    /// The desired endpoint.
    pub spec: ClientVpnEndpointSpec,
    /// Idempotency token, derived from the object's UID: a repeated create returns the same endpoint.
    pub client_token: String,
    /// Every tag to set at creation: the user's tags plus the ownership tags.
    pub tags: BTreeMap<String, String>,
}

/// What `CreateClientVpnEndpoint` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedEndpoint {
    pub id: String,
    pub dns_name: Option<String>,
    pub status_code: Option<String>,
    pub status_message: Option<String>,
}

/// An endpoint as `DescribeClientVpnEndpoints` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedEndpoint {
    pub id: String,
    pub status_code: String,
    pub status_message: Option<String>,
    pub dns_name: Option<String>,
    pub creation_time: Option<String>,
    pub self_service_portal_url: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl ObservedEndpoint {
    /// True once AWS has deleted the endpoint or is deleting it.
    pub fn is_going_away(&self) -> bool {
        self.status_code == status_code::DELETING || self.status_code == status_code::DELETED
    }

    /// True once AWS reports the endpoint deleted.
    pub fn is_deleted(&self) -> bool {
        self.status_code == status_code::DELETED
    }
}

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
    async fn find_endpoints_by_tag(
        &self,
        region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<ObservedEndpoint>, CloudError>;

    /// `DeleteClientVpnEndpoint`; returns the status code AWS answered (normally `deleting`).
    async fn delete_endpoint(&self, region: &str, id: &str) -> Result<Option<String>, CloudError>;
}
