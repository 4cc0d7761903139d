//! Test fixtures: object builders, an in-memory Kubernetes API that records every write and
//! feeds it back into the object as the API server would, and a harness around the production
//! `Context` (AWS is [`FakeCloud`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::runtime::controller::Action;

pub use super::fake_cloud::FakeCloud;
use super::plan::DEFAULT_OPERATIONS_LIMIT;
use super::{Context, Error, MAX_RETRY, Settings, reconcile};
use crate::api::*;
use crate::cloud::{AcmCertificate, CertificateApi, CloudError, ImportCertificate};
use crate::metrics::Metrics;
use crate::runtime::{Cluster, Delays, Notice, ObjectHandle, SecretData};

pub const UID: &str = "5f1d3c1e-0000-4000-8000-000000000001";
pub const CLUSTER: &str = "test-cluster";

impl ClientVpnEndpoint {
    /// A valid object as a user would apply it: no finalizer, no status.
    pub fn test() -> Self {
        let spec: ClientVpnEndpointSpec = serde_json::from_value(serde_json::json!({
            "clientCidrBlock": "10.100.0.0/22",
            "serverCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/server",
            "authenticationOptions": [{"type": "certificate-authentication",
                "mutualAuthentication": {"clientRootCertificateChainArn": "arn:aws:acm:us-east-1:123456789012:certificate/root"}}],
            "tags": {"team": "net"}
        }))
        .expect("valid spec");
        let mut obj = ClientVpnEndpoint::new("office", spec);
        obj.metadata = ObjectMeta {
            name: Some("office".into()),
            namespace: Some("vpn".into()),
            uid: Some(UID.into()),
            generation: Some(1),
            resource_version: Some("1".into()),
            ..Default::default()
        };
        obj
    }

    /// With the cleanup finalizer in place.
    pub fn finalized(mut self) -> Self {
        self.metadata.finalizers = Some(vec![FINALIZER.into()]);
        self
    }

    /// With a deletion timestamp (the user deleted it).
    pub fn needs_delete(mut self) -> Self {
        self.metadata.deletion_timestamp =
            Some(Time(Timestamp::from_second(1_800_000_000).expect("valid")));
        self
    }

    /// With `deletionPolicy: Retain`.
    pub fn retained(mut self) -> Self {
        self.spec.deletion_policy = DeletionPolicy::Retain;
        self
    }

    /// With status recording an endpoint that was already described once.
    pub fn with_endpoint(mut self, id: &str) -> Self {
        self.status = Some(ClientVpnEndpointStatus {
            client_vpn_endpoint_id: Some(id.into()),
            creation_time: Some("2026-11-27T00:00:00".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        });
        self
    }
}

/// An in-memory Kubernetes API for one object: records writes and applies them to the object.
pub struct FakeCluster {
    object: Mutex<Option<ClientVpnEndpoint>>,
    config_maps: Mutex<BTreeMap<String, (String, String)>>,
    secrets: Mutex<BTreeMap<String, SecretData>>,
    notices: Mutex<Vec<Notice>>,
    fail_status_patches: Mutex<u32>,
    fail_finalizer_patches: Mutex<u32>,
}

impl FakeCluster {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        Self {
            object: Mutex::new(Some(obj)),
            config_maps: Mutex::default(),
            secrets: Mutex::default(),
            notices: Mutex::default(),
            fail_status_patches: Mutex::new(0),
            fail_finalizer_patches: Mutex::new(0),
        }
    }

    /// The object as the API server now stores it; `None` once its last finalizer went.
    pub fn object(&self) -> Option<ClientVpnEndpoint> {
        self.object.lock().expect("lock").clone()
    }

    /// Reasons of the events published so far (clears the record).
    pub fn take_reasons(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().expect("lock"))
            .into_iter()
            .map(|n| n.reason)
            .collect()
    }

    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.notices.lock().expect("lock"))
    }

    /// A client-configuration ConfigMap's (text, fingerprint).
    pub fn config_map(&self, name: &str) -> Option<(String, String)> {
        self.config_maps.lock().expect("lock").get(name).cloned()
    }

    /// Set an annotation on the object (no generation change).
    pub fn annotate(&self, key: &str, value: &str) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.as_mut().expect("object exists");
        obj.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
    }

    /// Make the next `n` status writes fail (e.g. the operator crashed before writing).
    pub fn fail_status_patches(&self, n: u32) {
        *self.fail_status_patches.lock().expect("lock") = n;
    }

    /// Make the next `n` finalizer additions fail as if the API server were unreachable.
    pub fn fail_finalizer_patches(&self, n: u32) {
        *self.fail_finalizer_patches.lock().expect("lock") = n;
    }

    /// A user edit that changes the spec (bumps the generation).
    pub fn edit_spec(&self, edit: impl FnOnce(&mut ClientVpnEndpointSpec)) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.as_mut().expect("object exists");
        edit(&mut obj.spec);
        obj.metadata.generation = obj.metadata.generation.map(|g| g + 1);
    }

    /// Store a Secret (as `kubectl apply` would).
    pub fn put_secret(&self, name: &str, data: SecretData) {
        self.secrets.lock().expect("lock").insert(name.into(), data);
    }

    pub fn delete(&self) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.take().expect("object exists").needs_delete();
        *guard = Some(obj);
    }

    fn set_finalizers(&self, finalizers: Vec<String>) {
        let mut guard = self.object.lock().expect("lock");
        let gone = finalizers.is_empty()
            && guard
                .as_ref()
                .is_some_and(|o| o.metadata.deletion_timestamp.is_some());
        if gone {
            *guard = None;
        } else if let Some(obj) = guard.as_mut() {
            obj.metadata.finalizers = Some(finalizers);
        }
    }
}

/// Fail (and count down) while an injected failure counter is above zero.
fn injected_failure(counter: &Mutex<u32>) -> Result<(), kube::Error> {
    let mut failures = counter.lock().expect("lock");
    if *failures > 0 {
        *failures -= 1;
        return Err(kube::Error::Service(
            "injected: API server unreachable".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl Cluster for FakeCluster {
    async fn set_finalizers(
        &self,
        obj: &ObjectHandle,
        finalizers: Vec<String>,
    ) -> Result<Option<String>, kube::Error> {
        if finalizers.len() > obj.finalizers.len() {
            injected_failure(&self.fail_finalizer_patches)?;
        }
        self.set_finalizers(finalizers);
        Ok(None)
    }

    async fn patch_status(
        &self,
        _obj: &ObjectHandle,
        status: serde_json::Value,
    ) -> Result<Option<String>, kube::Error> {
        injected_failure(&self.fail_status_patches)?;
        let status = serde_json::from_value(status).map_err(kube::Error::SerdeError)?;
        if let Some(obj) = self.object.lock().expect("lock").as_mut() {
            obj.status = Some(status);
        }
        Ok(None)
    }

    async fn publish(&self, _obj: &ObjectHandle, notice: Notice) {
        self.notices.lock().expect("lock").push(notice);
    }

    async fn config_map_fingerprint(
        &self,
        _namespace: &str,
        name: &str,
    ) -> Result<Option<String>, kube::Error> {
        Ok(self.config_map(name).map(|(_, fingerprint)| fingerprint))
    }

    async fn apply_config_map(
        &self,
        _owner: &ObjectHandle,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error> {
        self.config_maps
            .lock()
            .expect("lock")
            .insert(name.into(), (ovpn.into(), fingerprint.into()));
        Ok(())
    }

    async fn secret(
        &self,
        _namespace: &str,
        name: &str,
    ) -> Result<Option<SecretData>, kube::Error> {
        Ok(self.secrets.lock().expect("lock").get(name).cloned())
    }

    async fn apply_tls_secret(
        &self,
        _owner: &ObjectHandle,
        name: &str,
        data: &SecretData,
    ) -> Result<(), kube::Error> {
        self.secrets
            .lock()
            .expect("lock")
            .insert(name.into(), data.clone());
        Ok(())
    }
}

/// ACM for controller tests: fixed certificates; it records every call (by name) and accepts
/// no import. Certificates from Secrets and the managed CA run against the emulator's ACM
/// (`tests/e2e/certificates.rs`).
#[derive(Default)]
pub struct FixedAcm {
    pub certificates: Vec<AcmCertificate>,
    calls: Mutex<Vec<&'static str>>,
}

impl FixedAcm {
    /// ACM holding `certificates`.
    pub fn holding(certificates: Vec<AcmCertificate>) -> Self {
        Self {
            certificates,
            calls: Mutex::default(),
        }
    }

    /// The calls so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().expect("lock").clone()
    }

    fn record(&self, call: &'static str) {
        self.calls.lock().expect("lock").push(call);
    }
}

#[async_trait]
impl CertificateApi for FixedAcm {
    async fn import_certificate(
        &self,
        _region: &str,
        _request: &ImportCertificate,
    ) -> Result<String, CloudError> {
        self.record("Import");
        Err(CloudError::from_service(
            "ImportCertificate",
            "ValidationException",
            "no imports in this test",
            Some(400),
            None,
        ))
    }

    async fn describe_certificate(
        &self,
        _region: &str,
        arn: &str,
    ) -> Result<Option<AcmCertificate>, CloudError> {
        self.record("Describe");
        Ok(self.certificates.iter().find(|c| c.arn == arn).cloned())
    }

    async fn find_certificates(
        &self,
        _region: &str,
        _domain: Option<&str>,
        _tags: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CloudError> {
        self.record("Find");
        Ok(self.certificates.iter().map(|c| c.arn.clone()).collect())
    }

    async fn delete_certificate(&self, _region: &str, _arn: &str) -> Result<(), CloudError> {
        self.record("Delete");
        Ok(())
    }
}

/// One object, the fakes, and the production `Context` around them.
pub struct Harness {
    pub cloud: Arc<FakeCloud>,
    pub acm: Arc<FixedAcm>,
    pub cluster: Arc<FakeCluster>,
    pub ctx: Arc<Context>,
}

impl Harness {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        Self::with_acm(obj, Arc::new(FixedAcm::default()))
    }

    /// As [`Harness::new`], with `acm` as ACM.
    pub fn with_acm(obj: ClientVpnEndpoint, acm: Arc<FixedAcm>) -> Self {
        let cloud = Arc::new(FakeCloud::default());
        let cluster = Arc::new(FakeCluster::new(obj));
        let settings = Settings {
            default_region: Some("us-east-1".into()),
            cluster_name: CLUSTER.into(),
            resync_interval: Duration::from_secs(300),
            children_resync_interval: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_secs(5),
            delays: Delays {
                retry_base: Duration::from_secs(2),
                retry_max: MAX_RETRY,
                stalled_retry: Duration::from_secs(1800),
                quota_retry: Duration::from_secs(300),
            },
            operations_limit: DEFAULT_OPERATIONS_LIMIT,
        };
        let ctx = Arc::new(Context::new(
            cloud.clone(),
            acm.clone(),
            cluster.clone(),
            Arc::new(Metrics::new()),
            settings,
        ));
        Self {
            cloud,
            acm,
            cluster,
            ctx,
        }
    }

    /// The same AWS and API server seen by a freshly started operator (no in-memory state).
    pub fn restarted(&self) -> Self {
        let ctx = Arc::new(Context::new(
            self.cloud.clone(),
            self.acm.clone(),
            self.cluster.clone(),
            Arc::new(Metrics::new()),
            self.ctx.settings.clone(),
        ));
        Self {
            cloud: self.cloud.clone(),
            acm: self.acm.clone(),
            cluster: self.cluster.clone(),
            ctx,
        }
    }

    /// Reconcile the object as it is now stored.
    pub async fn reconcile(&self) -> Result<Action, Error> {
        let obj = self.cluster.object().expect("object exists");
        self.reconcile_copy(obj).await
    }

    /// Reconcile `copy`: an older copy of the object, as a lagging watch cache may hold it.
    pub async fn reconcile_copy(&self, copy: ClientVpnEndpoint) -> Result<Action, Error> {
        reconcile(Arc::new(copy), self.ctx.clone()).await
    }

    pub fn status(&self) -> ClientVpnEndpointStatus {
        self.cluster
            .object()
            .and_then(|o| o.status)
            .unwrap_or_default()
    }

    pub fn condition(&self, type_: &str) -> Option<(String, String, String)> {
        self.status()
            .conditions
            .into_iter()
            .find(|c| c.type_ == type_)
            .map(|c| (c.status, c.reason, c.message))
    }
}
