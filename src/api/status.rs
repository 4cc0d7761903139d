//! `ClientVpnEndpoint.status`: what AWS reported, and kstatus-style conditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Observed state of the AWS endpoint, written only by the operator.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientVpnEndpointStatus {
    /// ID of the AWS endpoint, e.g. `cvpn-endpoint-0123456789abcdef0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_vpn_endpoint_id: Option<String>,

    /// DNS name clients connect to, e.g. `*.cvpn-endpoint-….prod.clientvpn.us-east-1.amazonaws.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,

    /// AWS's own status of the endpoint: `pending-associate`, `available`, `deleting`, `deleted`
    /// or `pending` (transit gateway endpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EndpointStatus>,

    /// URL of the self-service portal, when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_service_portal_url: Option<String>,

    /// When AWS created the endpoint, as AWS reports it (e.g. `2019-07-08T11:37:27`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,

    /// AWS region the endpoint lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// The certificates the endpoint uses: ARN, subject, serial, expiry and where each came from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<super::CertificateStatus>,

    /// Target-network associations, as AWS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_networks: Vec<TargetNetworkStatus>,

    /// Authorization rules, as AWS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_rules: Vec<AuthorizationRuleStatus>,

    /// Routes of origin `add-route`, as AWS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteStatus>,

    /// Keys of the `spec.tags` the operator last applied; only these are ever removed from AWS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_tag_keys: Vec<String>,

    /// The client-certificate revocation list the operator imported (when a ClientVpnUser was
    /// revoked): entries and expiry. Written by the users controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_list: Option<RevocationListStatus>,

    /// Active client sessions, counted while ClientVpnUser objects use this endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<EndpointConnections>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (AWS matches the spec and the endpoint is usable), and while true, `Reconciling`
    /// (the operator is working towards the spec) and `Stalled` (it cannot progress without help).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// One target-network association.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TargetNetworkStatus {
    pub subnet_id: String,
    /// e.g. `cvpn-assoc-0123456789abcdef0`.
    pub association_id: String,
    /// `associating`, `associated`, `association-failed`, `disassociating` or `disassociated`.
    pub status: String,
}

/// One authorization rule.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationRuleStatus {
    pub target_network_cidr: String,
    /// The group, or absent for all groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_group_id: Option<String>,
    /// `authorizing`, `active`, `failed` or `revoking`.
    pub status: String,
}

/// One route.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RouteStatus {
    pub destination_cidr_block: String,
    pub target_vpc_subnet_id: String,
    /// `creating`, `active`, `failed` or `deleting`.
    pub status: String,
}

/// The endpoint's imported certificate revocation list.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationListStatus {
    /// Revoked, unexpired serials on the list.
    pub entries: u32,
    /// CRL number of the list.
    pub crl_number: u64,
    /// When the list was imported (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_at: Option<String>,
    /// The list's nextUpdate (RFC 3339): past it, AWS refuses every client. The operator
    /// re-signs and re-imports the list well before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update: Option<String>,
}

/// Client sessions of an endpoint.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConnections {
    /// Active sessions.
    pub active: u32,
    /// When AWS was last asked (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
}

/// AWS's status object of an endpoint.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointStatus {
    /// Status code, e.g. `pending-associate` or `available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// AWS's message about the status, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Condition types written by the operator.
pub mod condition {
    /// True when AWS matches the spec and the endpoint is usable.
    pub const READY: &str = "Ready";
    /// Present (True) while the operator is working towards the spec.
    pub const RECONCILING: &str = "Reconciling";
    /// Present (True) while the operator cannot progress without a spec change or help.
    pub const STALLED: &str = "Stalled";
    /// Present (True) while a certificate the endpoint uses expires within
    /// `EXPIRY_WARNING_DAYS` days (30) and nothing has renewed it.
    pub const CERTIFICATE_EXPIRING_SOON: &str = "CertificateExpiringSoon";
    /// Days before notAfter from which `CertificateExpiringSoon` is set.
    pub const EXPIRY_WARNING_DAYS: i64 = 30;
}
