//! Test fixtures: object builders, an in-memory AWS and an in-memory Kubernetes API that record
//! every call, and a harness that feeds writes back into the object as the API server would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::runtime::controller::Action;

use super::{Cluster, Context, Error, Notice, Settings, reconcile};
use crate::api::*;
use crate::cloud::*;

pub const UID: &str = "5f1d3c1e-0000-4000-8000-000000000001";

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

/// An in-memory EC2 Client VPN: idempotent create by token, deletion in two steps.
#[derive(Default)]
pub struct FakeCloud {
    state: Mutex<CloudState>,
}

#[derive(Default)]
struct CloudState {
    endpoints: Vec<(String, ObservedEndpoint)>,
    calls: Vec<String>,
    failures: VecDeque<(&'static str, CloudError)>,
}

impl FakeCloud {
    /// Calls made so far, e.g. `["FindByTag", "Create"]`; clears the record.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().expect("lock").calls)
    }

    /// Make the next call of `operation` fail with `code` (classified like AWS's).
    pub fn fail_next(&self, operation: &'static str, code: &str, http_status: u16) {
        let err = CloudError::from_service(
            operation,
            code,
            &format!("injected {code}"),
            Some(http_status),
            Some("req-1".into()),
        );
        self.state
            .lock()
            .expect("lock")
            .failures
            .push_back((operation, err));
    }

    /// An endpoint that already exists in AWS (e.g. created before a crash).
    pub fn insert(&self, endpoint: ObservedEndpoint) {
        self.state
            .lock()
            .expect("lock")
            .endpoints
            .push((String::new(), endpoint));
    }

    /// AWS finishes deleting: `deleting` endpoints become `deleted`.
    pub fn finish_deletions(&self) {
        for (_, e) in self.state.lock().expect("lock").endpoints.iter_mut() {
            if e.status_code == status_code::DELETING {
                e.status_code = status_code::DELETED.into();
            }
        }
    }

    pub fn endpoints(&self) -> Vec<ObservedEndpoint> {
        self.state
            .lock()
            .expect("lock")
            .endpoints
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn enter(
        &self,
        operation: &'static str,
        name: &str,
    ) -> Result<std::sync::MutexGuard<'_, CloudState>, CloudError> {
        let mut state = self.state.lock().expect("lock");
        state.calls.push(name.into());
        if state
            .failures
            .front()
            .is_some_and(|(op, _)| *op == operation)
        {
            let (_, err) = state.failures.pop_front().expect("checked");
            return Err(err);
        }
        Ok(state)
    }
}

#[async_trait]
impl ClientVpnApi for FakeCloud {
    async fn create_endpoint(
        &self,
        _region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError> {
        let mut state = self.enter("CreateClientVpnEndpoint", "Create")?;
        let existing = state
            .endpoints
            .iter()
            .find(|(token, _)| *token == request.client_token)
            .map(|(_, e)| e.clone());
        let endpoint = existing.unwrap_or_else(|| {
            let id = format!("cvpn-endpoint-{:017x}", state.endpoints.len() + 1);
            let endpoint = ObservedEndpoint {
                dns_name: Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com")),
                id,
                status_code: status_code::PENDING_ASSOCIATE.into(),
                creation_time: Some("2026-11-27T00:00:00".into()),
                tags: request.tags.clone(),
                ..Default::default()
            };
            state
                .endpoints
                .push((request.client_token.clone(), endpoint.clone()));
            endpoint
        });
        Ok(CreatedEndpoint {
            id: endpoint.id,
            dns_name: endpoint.dns_name,
            status_code: Some(endpoint.status_code),
            status_message: None,
        })
    }

    async fn describe_endpoint(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError> {
        let state = self.enter("DescribeClientVpnEndpoints", "Describe")?;
        Ok(state
            .endpoints
            .iter()
            .map(|(_, e)| e)
            .find(|e| e.id == id)
            .cloned())
    }

    async fn find_endpoints_by_tag(
        &self,
        _region: &str,
        key: &str,
        value: &str,
    ) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let state = self.enter("DescribeClientVpnEndpoints", "FindByTag")?;
        Ok(state
            .endpoints
            .iter()
            .map(|(_, e)| e)
            .filter(|e| e.tags.get(key).map(String::as_str) == Some(value))
            .cloned()
            .collect())
    }

    async fn delete_endpoint(&self, _region: &str, id: &str) -> Result<Option<String>, CloudError> {
        let mut state = self.enter("DeleteClientVpnEndpoint", "Delete")?;
        match state
            .endpoints
            .iter_mut()
            .map(|(_, e)| e)
            .find(|e| e.id == id)
        {
            Some(endpoint) => {
                endpoint.status_code = status_code::DELETING.into();
                Ok(Some(status_code::DELETING.into()))
            }
            None => Err(CloudError::from_service(
                "DeleteClientVpnEndpoint",
                "InvalidClientVpnEndpointId.NotFound",
                "gone",
                Some(400),
                None,
            )),
        }
    }
}

/// An in-memory Kubernetes API for one object: records writes and applies them to the object.
pub struct FakeCluster {
    object: Mutex<Option<ClientVpnEndpoint>>,
    notices: Mutex<Vec<Notice>>,
    fail_status_patches: Mutex<u32>,
}

impl FakeCluster {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        Self {
            object: Mutex::new(Some(obj)),
            notices: Mutex::default(),
            fail_status_patches: Mutex::new(0),
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

    /// Make the next `n` status writes fail (e.g. the operator crashed before writing).
    pub fn fail_status_patches(&self, n: u32) {
        *self.fail_status_patches.lock().expect("lock") = n;
    }

    /// A user edit that changes the spec (bumps the generation).
    pub fn edit_spec(&self, edit: impl FnOnce(&mut ClientVpnEndpointSpec)) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.as_mut().expect("object exists");
        edit(&mut obj.spec);
        obj.metadata.generation = obj.metadata.generation.map(|g| g + 1);
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

#[async_trait]
impl Cluster for FakeCluster {
    async fn add_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        let mut finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
        finalizers.push(FINALIZER.into());
        self.set_finalizers(finalizers);
        Ok(())
    }

    async fn remove_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        let finalizers = obj
            .metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f != FINALIZER)
            .collect();
        self.set_finalizers(finalizers);
        Ok(())
    }

    async fn patch_status(
        &self,
        _obj: &ClientVpnEndpoint,
        status: &ClientVpnEndpointStatus,
    ) -> Result<(), kube::Error> {
        {
            let mut failures = self.fail_status_patches.lock().expect("lock");
            if *failures > 0 {
                *failures -= 1;
                return Err(kube::Error::Service(
                    "injected: API server unreachable".into(),
                ));
            }
        }
        if let Some(obj) = self.object.lock().expect("lock").as_mut() {
            obj.status = Some(status.clone());
        }
        Ok(())
    }

    async fn publish(&self, _obj: &ClientVpnEndpoint, notice: Notice) {
        self.notices.lock().expect("lock").push(notice);
    }
}

/// One object, the fakes, and the production `Context` around them.
pub struct Harness {
    pub cloud: Arc<FakeCloud>,
    pub cluster: Arc<FakeCluster>,
    pub ctx: Arc<Context>,
}

impl Harness {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        let cloud = Arc::new(FakeCloud::default());
        let cluster = Arc::new(FakeCluster::new(obj));
        let settings = Settings {
            default_region: Some("us-east-1".into()),
            cluster_name: "test-cluster".into(),
            resync_interval: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
            stalled_retry_interval: Duration::from_secs(1800),
            retry_base: Duration::from_secs(2),
        };
        let ctx = Arc::new(Context::new(cloud.clone(), cluster.clone(), settings));
        Self {
            cloud,
            cluster,
            ctx,
        }
    }

    /// The same AWS and API server seen by a freshly started operator (no in-memory state).
    pub fn restarted(&self) -> Self {
        let ctx = Arc::new(Context::new(
            self.cloud.clone(),
            self.cluster.clone(),
            self.ctx.settings.clone(),
        ));
        Self {
            cloud: self.cloud.clone(),
            cluster: self.cluster.clone(),
            ctx,
        }
    }

    /// Reconcile the object as it is now stored.
    pub async fn reconcile(&self) -> Result<Action, Error> {
        let obj = self.cluster.object().expect("object exists");
        reconcile(Arc::new(obj), self.ctx.clone()).await
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

/// Tags an endpoint created for the fixture object would carry.
pub fn owned_tags() -> BTreeMap<String, String> {
    BTreeMap::from([(tags::UID.to_string(), UID.to_string())])
}
