//! `ClientVpnUser`: one person's access to a `ClientVpnEndpoint` with mutual authentication: a
//! client certificate (issued by the endpoint's managed CA, or brought in a Secret), a complete
//! `client.ovpn` in a Secret, revocation through the endpoint's CRL, and who is connected.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SecretReference;

/// One person's VPN access through a `ClientVpnEndpoint` in the same namespace.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "clientvpn.io",
    version = "v1alpha1",
    kind = "ClientVpnUser",
    plural = "clientvpnusers",
    namespaced,
    status = "ClientVpnUserStatus",
    shortname = "cvpnuser",
    category = "clientvpn",
    category = "aws",
    printcolumn = r#"{"name":"Endpoint","type":"string","jsonPath":".spec.endpointRef.name"}"#,
    printcolumn = r#"{"name":"Common Name","type":"string","jsonPath":".status.commonName"}"#,
    printcolumn = r#"{"name":"Expires","type":"string","jsonPath":".status.notAfter"}"#,
    printcolumn = r#"{"name":"Revoked","type":"boolean","jsonPath":".status.revoked"}"#,
    printcolumn = r#"{"name":"Connections","type":"integer","jsonPath":".status.connections.active"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("duration(has(self.validity) ? self.validity : '8760h') > duration(has(self.renewBefore) ? self.renewBefore : '720h')")
        .message("renewBefore must be shorter than validity (defaults 720h and 8760h)"),
    validation = Rule::new("!has(self.certificateSecretRef) || !has(self.validity)")
        .message("validity applies to certificates the operator issues; a certificateSecretRef brings its own")
        .field_path(".validity"),
)]
#[serde(rename_all = "camelCase")]
pub struct ClientVpnUserSpec {
    /// The `ClientVpnEndpoint` (same namespace) this user connects to. It must use mutual
    /// (certificate) authentication.
    #[x_kube(validation = Rule::new("self == oldSelf").message("endpointRef is immutable: create a new ClientVpnUser for another endpoint"))]
    pub endpoint_ref: EndpointReference,

    /// The certificate's common name: the user's identity in AWS (`commonName` of connections,
    /// connection logs). Unique per endpoint. Default: the object's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("commonName is immutable: create a new ClientVpnUser instead"))]
    pub common_name: Option<String>,

    /// Lifetime of each certificate the operator issues (Go duration, e.g. `8760h`). Default
    /// `8760h` (365 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("duration(self) >= duration('60s') && duration(self) <= duration('87600h')").message("validity must be between 60s and 87600h (10 years)"))]
    pub validity: Option<String>,

    /// Issue a new certificate this long before the current one expires (Go duration). The
    /// Secret is updated in place; the old certificate is revoked after a grace period
    /// (`--superseded-revocation-delay`). Default `720h` (30 days). For a brought certificate,
    /// only the `CertificateExpiringSoon` warning uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("duration(self) >= duration('0s')").message("renewBefore must be a non-negative duration"))]
    pub renew_before: Option<String>,

    /// Bring the certificate instead: a `kubernetes.io/tls` Secret in this namespace (e.g. from
    /// a cert-manager `Certificate` with `client auth` usage), signed by the endpoint's client
    /// CA. The operator revokes it only if it can read that CA's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_secret_ref: Option<SecretReference>,

    /// Name of the Secret the operator writes (`client.ovpn`, `tls.crt`, `tls.key`, `ca.crt`),
    /// owned by this object. Default: `<name>-vpn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: Option<String>,

    /// Revoke access: the certificate's serial goes on the endpoint's revocation list and the
    /// user's live sessions are terminated. Setting it back to false issues a new certificate
    /// (a revoked serial stays revoked).
    #[serde(default)]
    pub revoked: bool,
}

/// A `ClientVpnEndpoint` in the same namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReference {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

impl ClientVpnUserSpec {
    /// Default certificate lifetime (365 days).
    pub const DEFAULT_VALIDITY: &str = "8760h";
    /// Default renewal window (30 days).
    pub const DEFAULT_RENEW_BEFORE: &str = "720h";
}

/// What the operator did for this user, written only by the operator. Never key material.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientVpnUserStatus {
    /// The common name in effect (spec or the object's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// The endpoint's AWS ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_vpn_endpoint_id: Option<String>,
    /// The Secret holding `client.ovpn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// `managed` (issued by the operator) or `secret` (brought by the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Serial of the current certificate, colon-separated hex as ACM shows serials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// notAfter of the current certificate (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Whether the operator can revoke this certificate (it holds the signing CA's key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable: Option<bool>,
    /// True once the certificate is on the endpoint's active revocation list.
    #[serde(default)]
    pub revoked: bool,
    /// The three steps of the last revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationStatus>,
    /// Sessions of this user, from `DescribeClientVpnConnections`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<UserConnections>,
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (the Secret holds a valid, unrevoked certificate and a complete `client.ovpn`),
    /// `Reconciling`, `Stalled`, and `CertificateExpiringSoon`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// Revocation: recorded, on the imported CRL, CRL active, sessions terminated.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationStatus {
    /// The revoked serial.
    pub serial: String,
    /// When the serial was put on the endpoint's revocation record (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    /// When a revocation list holding it was imported (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_imported_at: Option<String>,
    /// When `ExportClientVpnClientCertificateRevocationList` showed that list `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_active_at: Option<String>,
    /// Live sessions terminated after the list became active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_terminated: Option<u32>,
}

/// Sessions of one user.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserConnections {
    /// Active sessions.
    pub active: u32,
    /// Latest `connectionEstablishedTime` seen (as AWS writes it, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_connected_time: Option<String>,
    /// Client IPs of the active sessions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ips: Vec<String>,
}
