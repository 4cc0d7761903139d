//! What reconcile needs from the Kubernetes API, behind a trait so reconcile can be tested with
//! an in-memory fake; [`KubeCluster`] is the real one.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tracing::warn;

use crate::api::{ClientVpnEndpoint, ClientVpnEndpointStatus, FIELD_MANAGER, FINALIZER};

/// A Kubernetes event about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub warning: bool,
    /// PascalCase reason, e.g. `Created`.
    pub reason: String,
    /// PascalCase action, e.g. `CreateEndpoint`.
    pub action: &'static str,
    pub note: String,
}

impl Notice {
    pub fn normal(reason: &str, action: &'static str, note: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason: reason.into(),
            action,
            note: note.into(),
        }
    }

    pub fn warning(reason: &str, action: &'static str, note: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason: reason.into(),
            action,
            note: note.into(),
        }
    }
}

/// Writes made by reconcile to the Kubernetes API.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Add the cleanup finalizer (conflict-safe).
    async fn add_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error>;
    /// Remove the cleanup finalizer (conflict-safe).
    async fn remove_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error>;
    /// Server-side apply the whole status.
    async fn patch_status(
        &self,
        obj: &ClientVpnEndpoint,
        status: &ClientVpnEndpointStatus,
    ) -> Result<(), kube::Error>;
    /// Publish an event; failures are logged, never fatal.
    async fn publish(&self, obj: &ClientVpnEndpoint, notice: Notice);
    /// The fingerprint annotation of a client-configuration ConfigMap; `None` when it is absent.
    async fn config_map_fingerprint(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, kube::Error>;
    /// Server-side apply the ConfigMap holding `client.ovpn`, owned by the object.
    async fn apply_config_map(
        &self,
        obj: &ClientVpnEndpoint,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error>;
}

/// Annotation on the client-configuration ConfigMap: what the exported text depends on.
pub const FINGERPRINT_ANNOTATION: &str = "clientvpn.io/configuration-fingerprint";
/// Key of the OpenVPN configuration in the ConfigMap.
pub const CONFIG_KEY: &str = "client.ovpn";

/// [`Cluster`] over a kube client.
pub struct KubeCluster {
    client: Client,
    recorder: Recorder,
}

impl KubeCluster {
    /// `instance` names this replica in events (e.g. the pod name).
    pub fn new(client: Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
        }
    }

    fn api(&self, obj: &ClientVpnEndpoint) -> Api<ClientVpnEndpoint> {
        Api::namespaced(self.client.clone(), &obj.namespace().unwrap_or_default())
    }

    /// Replace the finalizer list; the resourceVersion precondition makes a concurrent change
    /// fail with a conflict instead of being overwritten.
    async fn set_finalizers(
        &self,
        obj: &ClientVpnEndpoint,
        finalizers: Vec<String>,
    ) -> Result<(), kube::Error> {
        let patch = json!({
            "metadata": { "resourceVersion": obj.resource_version(), "finalizers": finalizers }
        });
        self.api(obj)
            .patch(
                &obj.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    async fn add_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        let mut finalizers = obj.finalizers().to_vec();
        finalizers.push(FINALIZER.to_string());
        self.set_finalizers(obj, finalizers).await
    }

    async fn remove_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        let finalizers = obj
            .finalizers()
            .iter()
            .filter(|f| *f != FINALIZER)
            .cloned()
            .collect();
        match self.set_finalizers(obj, finalizers).await {
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn patch_status(
        &self,
        obj: &ClientVpnEndpoint,
        status: &ClientVpnEndpointStatus,
    ) -> Result<(), kube::Error> {
        let body = json!({
            "apiVersion": ClientVpnEndpoint::api_version(&()),
            "kind": ClientVpnEndpoint::kind(&()),
            "status": status,
        });
        self.api(obj)
            .patch_status(
                &obj.name_any(),
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(body),
            )
            .await
            .map(|_| ())
    }

    async fn config_map_fingerprint(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, kube::Error> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(|cm| {
            cm.annotations()
                .get(FINGERPRINT_ANNOTATION)
                .cloned()
                .unwrap_or_default()
        }))
    }

    async fn apply_config_map(
        &self,
        obj: &ClientVpnEndpoint,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error> {
        let namespace = obj.namespace().unwrap_or_default();
        let owner = obj
            .controller_owner_ref(&())
            .map(|o| vec![o])
            .unwrap_or_default();
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": { FINGERPRINT_ANNOTATION: fingerprint },
                "labels": { "app.kubernetes.io/managed-by": FIELD_MANAGER },
                "ownerReferences": owner,
            },
            "data": { CONFIG_KEY: ovpn },
        });
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &namespace);
        api.patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map(|_| ())
    }

    async fn publish(&self, obj: &ClientVpnEndpoint, notice: Notice) {
        let event = Event {
            type_: if notice.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: notice.reason,
            note: Some(truncate(notice.note, 1024)),
            action: notice.action.to_string(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &obj.object_ref(&())).await {
            warn!(object = %obj.name_any(), error = %err, "publishing an event failed");
        }
    }
}

/// Cut a note to the events API's limit, on a character boundary.
fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
