//! What every controller shares: the per-object backoff gate, the Kubernetes writes (finalizers,
//! status, events, owned ConfigMaps), leader election, start-up checks and the logging of the
//! controller's run stream. Controllers (`crate::endpoint`, …) sit on top of this.

pub mod backoff;
pub mod cache;
pub mod cluster;
pub mod conditions;
pub mod events;
pub mod leader;
pub mod stale_copies;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, ListParams};
use kube::runtime::controller;
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

pub use backoff::{Attempt, Backoffs, Delays};
pub use cluster::{
    Cluster, KubeCluster, Notice, ObjectHandle, SecretData, add_finalizer, remove_finalizer,
};

use crate::metrics::Metrics;

/// The runtime pieces a controller's context holds, built once at start-up.
pub struct Runtime {
    pub cluster: Arc<dyn Cluster>,
    pub backoffs: Backoffs,
    pub metrics: Arc<Metrics>,
}

impl Runtime {
    /// The backoff gate: a requeue when object `uid` must wait before this `attempt`.
    pub fn gate(&self, uid: &str, attempt: Attempt) -> Option<controller::Action> {
        self.backoffs
            .wait(uid, attempt, tokio::time::Instant::now())
            .map(controller::Action::requeue)
    }

    /// Requeue after a failed reconcile of object `uid`: whatever the backoff gate recorded
    /// (`fallback` when nothing), rounded up to 100 ms.
    pub fn retry_after(&self, uid: Option<String>, fallback: Duration) -> controller::Action {
        let wait = uid
            .and_then(|uid| self.backoffs.remaining(&uid, tokio::time::Instant::now()))
            .unwrap_or(fallback);
        let tenths = wait.as_millis().div_ceil(100).max(1);
        controller::Action::requeue(Duration::from_millis(
            u64::try_from(tenths * 100).unwrap_or(u64::MAX),
        ))
    }
}

/// Record one reconcile's outcome for object `uid`: clear or advance its backoff, count it and
/// its time (and the error's category).
pub fn record_outcome(
    runtime: &Runtime,
    uid: &str,
    attempt: Attempt,
    started: std::time::Instant,
    failure: Option<(crate::cloud::ErrorKind, &'static str)>,
) {
    use crate::metrics::ReconcileResult;
    match failure {
        None => {
            runtime.backoffs.clear(uid);
            runtime
                .metrics
                .reconcile_finished(ReconcileResult::Success, started.elapsed());
        }
        Some((kind, category)) => {
            runtime
                .backoffs
                .failed(uid, attempt, kind, tokio::time::Instant::now());
            runtime
                .metrics
                .reconcile_finished(ReconcileResult::Error, started.elapsed());
            runtime.metrics.reconcile_error(category);
        }
    }
}

/// The whole cause chain of `err` once, with AWS's request ID when an AWS call failed.
pub fn report_chain(err: &dyn std::error::Error, aws: Option<&crate::cloud::CloudError>) -> String {
    let mut text = crate::telemetry::error_chain(err);
    if let Some(id) = aws.and_then(|e| e.request_id.as_deref()) {
        text.push_str(&format!(" (request ID {id})"));
    }
    text
}

/// A Secret's data as the API wants it (base64 on the wire).
pub fn encoded(data: &SecretData) -> std::collections::BTreeMap<&str, k8s_openapi::ByteString> {
    data.0
        .iter()
        .map(|(key, value)| (key.as_str(), k8s_openapi::ByteString(value.clone())))
        .collect()
}

/// What a status write did.
#[derive(Debug, PartialEq, Eq)]
pub enum StatusWrite {
    /// `next` equals `previous`: nothing sent.
    Unchanged,
    /// Sent; the object's resourceVersion after it (when the API server gave one).
    Written { version: Option<String> },
}

/// Write `next` as the object's status when it differs from `previous`.
pub async fn write_status<S: PartialEq + Serialize>(
    cluster: &dyn Cluster,
    obj: &ObjectHandle,
    previous: &S,
    next: &S,
) -> Result<StatusWrite, kube::Error> {
    if next == previous {
        return Ok(StatusWrite::Unchanged);
    }
    let value = serde_json::to_value(next).map_err(kube::Error::SerdeError)?;
    let version = cluster.patch_status(obj, value).await?;
    Ok(StatusWrite::Written { version })
}

/// Why the operator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The CRD of a kind the operator watches is missing.
    #[error("the {kind} CRD is not installed: kubectl apply -f crds/clientvpn.io_{plural}.yaml")]
    CrdMissing { kind: String, plural: String },
    /// RBAC does not let the operator list a kind where it watches.
    #[error(
        "not allowed to list {kind} in namespace {namespace:?}: grant the operator's RBAC there ({message})"
    )]
    Forbidden {
        kind: String,
        namespace: String,
        message: String,
    },
    /// The API server could not be reached.
    #[error("cannot reach the Kubernetes API")]
    Unreachable(#[source] kube::Error),
    /// Building the Kubernetes client failed.
    #[error("cannot build a Kubernetes client")]
    Client(#[source] kube::Error),
    /// Binding an HTTP listener failed.
    #[error("cannot listen on {addr}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Leader election failed.
    #[error("leader election failed: {0}")]
    Leadership(String),
    /// The controller stopped although nobody asked it to.
    #[error("the controller stopped unexpectedly")]
    ControllerStopped,
    /// Another replica took the Lease.
    #[error("leadership lost ({0}); exiting so that only the leader reconciles")]
    LeadershipLost(String),
}

/// Fail fast, with a hint, unless objects of kind `K` can be listed where the operator watches
/// (every namespace when `namespaces` is empty).
pub async fn check_access<K>(client: &Client, namespaces: &[String]) -> Result<(), StartupError>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let apis: Vec<(String, Api<K>)> = if namespaces.is_empty() {
        vec![(String::new(), Api::all(client.clone()))]
    } else {
        namespaces
            .iter()
            .map(|ns| (ns.clone(), Api::namespaced(client.clone(), ns)))
            .collect()
    };
    let kind = K::kind(&()).to_string();
    for (namespace, api) in apis {
        match api.list_metadata(&ListParams::default().limit(1)).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {
                let plural = K::plural(&()).to_string();
                return Err(StartupError::CrdMissing { kind, plural });
            }
            Err(kube::Error::Api(status)) if status.is_forbidden() => {
                return Err(StartupError::Forbidden {
                    kind,
                    namespace,
                    message: status.message,
                });
            }
            Err(err) => return Err(StartupError::Unreachable(err)),
        }
    }
    Ok(())
}

/// An error a reconcile can return: it knows its bounded category and its whole cause chain.
pub trait ReconcileError: std::error::Error {
    /// Bounded label for metrics and the Warning event's reason.
    fn category(&self) -> &'static str;
    /// The whole chain of causes, once.
    fn report(&self) -> String;
}

/// Log one item of a controller's run stream: successes at debug, failures as warnings.
pub fn log_result<K, E, Q>(
    result: Result<
        (
            kube::runtime::reflector::ObjectRef<K>,
            kube::runtime::controller::Action,
        ),
        controller::Error<E, Q>,
    >,
) where
    K: Resource,
    K::DynamicType: Debug + Clone + Eq + std::hash::Hash,
    E: ReconcileError + 'static,
    Q: std::error::Error + 'static,
{
    match result {
        Ok((object, action)) => debug!(object = %object, ?action, "reconciled"),
        Err(controller::Error::ReconcilerFailed(err, object)) => {
            warn!(object = %object, category = err.category(), error = %err.report(), "reconcile failed")
        }
        Err(err) => warn!(error = %err, "controller error"),
    }
}
