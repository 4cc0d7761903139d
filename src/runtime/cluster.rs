//! What every controller writes to the Kubernetes API (finalizers, status, events, owned
//! ConfigMaps and Secrets), for any kind of object, behind a trait so reconcile can be tested with an
//! in-memory fake; [`KubeCluster`] is the real one.

use std::collections::BTreeMap;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use tracing::warn;

use super::events::EventPublisher;
use crate::api::FIELD_MANAGER;

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
        Self::new(false, reason, action, note.into())
    }

    pub fn warning(reason: &str, action: &'static str, note: impl Into<String>) -> Self {
        Self::new(true, reason, action, note.into())
    }

    fn new(warning: bool, reason: &str, action: &'static str, note: String) -> Self {
        Self {
            warning,
            reason: reason.into(),
            action,
            note,
        }
    }
}

/// Which object a write is about, for any kind: enough to address it, to guard a finalizer
/// change with its resourceVersion, to own what it creates and to attach events to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectHandle {
    pub resource: ApiResource,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: Option<String>,
    pub finalizers: Vec<String>,
}

impl ObjectHandle {
    /// The handle of a typed object.
    pub fn of<K: Resource<DynamicType = ()>>(obj: &K) -> Self {
        Self {
            resource: ApiResource::erase::<K>(&()),
            namespace: obj.namespace().unwrap_or_default(),
            name: obj.name_any(),
            uid: obj.uid().unwrap_or_default(),
            resource_version: obj.resource_version(),
            finalizers: obj.finalizers().to_vec(),
        }
    }

    /// `namespace/name`, for logs.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// A controller owner reference to this object.
    pub fn owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.resource.api_version.clone(),
            kind: self.resource.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// The reference events are attached to.
    pub fn object_reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some(self.resource.api_version.clone()),
            kind: Some(self.resource.kind.clone()),
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: Some(self.uid.clone()),
            resource_version: self.resource_version.clone(),
            ..Default::default()
        }
    }
}

/// Writes every controller makes to the Kubernetes API, for any kind of object.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Replace the object's finalizers; its resourceVersion guards against concurrent changes.
    /// Returns the object's new resourceVersion.
    async fn set_finalizers(
        &self,
        obj: &ObjectHandle,
        finalizers: Vec<String>,
    ) -> Result<Option<String>, kube::Error>;
    /// Server-side apply the whole status; returns the object's resourceVersion after it.
    async fn patch_status(
        &self,
        obj: &ObjectHandle,
        status: Value,
    ) -> Result<Option<String>, kube::Error>;
    /// Publish an event; failures are logged, never fatal.
    async fn publish(&self, obj: &ObjectHandle, notice: Notice);
    /// The fingerprint annotation of a client-configuration ConfigMap; `None` when it is absent.
    async fn config_map_fingerprint(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<String>, kube::Error>;
    /// Server-side apply the ConfigMap holding `client.ovpn`, owned by `owner`.
    async fn apply_config_map(
        &self,
        owner: &ObjectHandle,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error>;
    /// The data of a Secret; `None` when it does not exist.
    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, kube::Error>;
    /// Server-side apply a `kubernetes.io/tls` Secret with `data`, owned by `owner`.
    async fn apply_tls_secret(
        &self,
        owner: &ObjectHandle,
        name: &str,
        data: &SecretData,
    ) -> Result<(), kube::Error>;
}

/// The data of a Secret. Its `Debug` shows only the keys: values may be private keys.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretData(pub BTreeMap<String, Vec<u8>>);

impl SecretData {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0.get(key).map(Vec::as_slice)
    }
}

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Add `finalizer` to the object (conflict-safe); returns the object's new resourceVersion.
pub async fn add_finalizer(
    cluster: &dyn Cluster,
    obj: &ObjectHandle,
    finalizer: &str,
) -> Result<Option<String>, kube::Error> {
    let mut finalizers = obj.finalizers.clone();
    finalizers.push(finalizer.to_string());
    cluster.set_finalizers(obj, finalizers).await
}

/// Remove `finalizer` from the object (conflict-safe); an object already gone counts as done.
pub async fn remove_finalizer(
    cluster: &dyn Cluster,
    obj: &ObjectHandle,
    finalizer: &str,
) -> Result<(), kube::Error> {
    let finalizers = obj
        .finalizers
        .iter()
        .filter(|f| *f != finalizer)
        .cloned()
        .collect();
    match cluster.set_finalizers(obj, finalizers).await {
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Annotation on the client-configuration ConfigMap: what the exported text depends on.
pub const FINGERPRINT_ANNOTATION: &str = "clientvpn.io/configuration-fingerprint";
/// Key of the OpenVPN configuration in the ConfigMap.
pub const CONFIG_KEY: &str = "client.ovpn";

/// [`Cluster`] over a kube client.
pub struct KubeCluster {
    client: Client,
    events: EventPublisher,
}

impl KubeCluster {
    /// `instance` names this replica in events (e.g. the pod name).
    pub fn new(client: Client, instance: Option<String>) -> Self {
        Self {
            events: EventPublisher::new(client.clone(), FIELD_MANAGER, instance),
            client,
        }
    }

    fn api(&self, obj: &ObjectHandle) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &obj.namespace, &obj.resource)
    }

    /// Server-side apply of `body` as the `K` named `name` in the owner's namespace, owned by it
    /// and labelled as ours (apiVersion, kind, name, namespace, label and owner reference are
    /// added here).
    async fn apply_owned<K>(
        &self,
        owner: &ObjectHandle,
        name: &str,
        mut body: Value,
    ) -> Result<(), kube::Error>
    where
        K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        body["apiVersion"] = json!(K::api_version(&()));
        body["kind"] = json!(K::kind(&()));
        let metadata = &mut body["metadata"];
        metadata["name"] = json!(name);
        metadata["namespace"] = json!(owner.namespace);
        metadata["labels"] = json!({ "app.kubernetes.io/managed-by": FIELD_MANAGER });
        metadata["ownerReferences"] = json!([owner.owner_reference()]);
        let api: Api<K> = Api::namespaced(self.client.clone(), &owner.namespace);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(name, &params, &Patch::Apply(body))
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    async fn set_finalizers(
        &self,
        obj: &ObjectHandle,
        finalizers: Vec<String>,
    ) -> Result<Option<String>, kube::Error> {
        let patch = json!({
            "metadata": { "resourceVersion": obj.resource_version, "finalizers": finalizers }
        });
        self.api(obj)
            .patch(&obj.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map(|updated| updated.metadata.resource_version)
    }

    async fn patch_status(
        &self,
        obj: &ObjectHandle,
        status: Value,
    ) -> Result<Option<String>, kube::Error> {
        let body = json!({
            "apiVersion": obj.resource.api_version,
            "kind": obj.resource.kind,
            "status": status,
        });
        self.api(obj)
            .patch_status(
                &obj.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(body),
            )
            .await
            .map(|updated| updated.metadata.resource_version)
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
        owner: &ObjectHandle,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error> {
        let body = json!({
            "metadata": {
                "annotations": { FINGERPRINT_ANNOTATION: fingerprint },
            },
            "data": { CONFIG_KEY: ovpn },
        });
        self.apply_owned::<ConfigMap>(owner, name, body).await
    }

    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, kube::Error> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(|secret| {
            SecretData(
                secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(key, value)| (key, value.0))
                    .collect(),
            )
        }))
    }

    async fn apply_tls_secret(
        &self,
        owner: &ObjectHandle,
        name: &str,
        data: &SecretData,
    ) -> Result<(), kube::Error> {
        let body = json!({
            "type": "kubernetes.io/tls",
            "data": super::encoded(data),
        });
        self.apply_owned::<Secret>(owner, name, body).await
    }

    async fn publish(&self, obj: &ObjectHandle, mut notice: Notice) {
        notice.note = truncate(notice.note, 1024);
        if let Err(err) = self.events.publish(&obj.object_reference(), notice).await {
            warn!(object = %obj.key(), error = %err, "publishing an event failed");
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
