//! The controller: wiring, context, and reconcile (observe → plan → act).

mod act;
mod backoff;
mod cluster;
mod diff;
mod error;
mod inventory;
mod lifecycle;
mod memory;
pub mod plan;
mod reconcile;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ListParams};
use kube::runtime::{Controller, WatchStreamExt, controller, reflector, watcher};
use kube::{Client, ResourceExt};
use tracing::{debug, info, warn};

use crate::api::ClientVpnEndpoint;
use crate::cloud::ClientVpnApi;
use crate::metrics::Metrics;

pub use backoff::{Attempt, Backoffs};
pub use cluster::{Cluster, KubeCluster, Notice};
pub use error::Error;
pub use inventory::Inventory;
pub use memory::Memory;
pub use reconcile::{creation_tags, error_policy, reconcile};

/// Operator settings that reconcile reads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Region for objects without `spec.region`.
    pub default_region: Option<String>,
    /// Value of the `clientvpn.io/cluster` ownership tag.
    pub cluster_name: String,
    /// How often every object is looked at again when nothing happens (drift detection); also
    /// the age at which a region's endpoint listing is renewed.
    pub resync_interval: Duration,
    /// How often the children (target networks, rules, routes) of an endpoint that did not
    /// change are described anyway, to find drift there; zero never does.
    pub children_resync_interval: Duration,
    /// How soon to look again while AWS is mid-transition (creating, deleting).
    pub poll_interval: Duration,
    /// How long a terminal error pauses an object whose spec does not change.
    pub stalled_retry_interval: Duration,
    /// First retry delay after a retryable error (doubles up to five minutes).
    pub retry_base: Duration,
}

/// Longest wait between retries of a retryable error.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// Everything reconcile needs: AWS, Kubernetes, settings, per-object backoff and memory, the
/// region inventory, and metrics.
pub struct Context {
    pub cloud: Arc<dyn ClientVpnApi>,
    pub cluster: Arc<dyn Cluster>,
    pub backoffs: Backoffs,
    pub inventory: Inventory,
    pub memory: Memory,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
}

impl Context {
    pub fn new(
        cloud: Arc<dyn ClientVpnApi>,
        cluster: Arc<dyn Cluster>,
        settings: Settings,
    ) -> Self {
        let backoffs = Backoffs::new(
            settings.retry_base,
            MAX_RETRY,
            settings.stalled_retry_interval,
        );
        Self {
            cloud,
            cluster,
            backoffs,
            inventory: Inventory::new(settings.resync_interval),
            memory: Memory::default(),
            settings,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Record reconciles and managed endpoints in these metrics (shared with `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

/// Fail fast, with a hint, when the CRD is not installed.
pub async fn check_crd_installed(client: &Client) -> Result<(), String> {
    let api: Api<ClientVpnEndpoint> = Api::all(client.clone());
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Err(
            "the ClientVpnEndpoint CRD is not installed: kubectl apply -f crds/clientvpn.io_clientvpnendpoints.yaml".into(),
        ),
        Err(err) => Err(format!("cannot reach the Kubernetes API: {err}")),
    }
}

/// Run the controller until `shutdown` resolves.
pub async fn run(
    client: Client,
    namespace: Option<String>,
    concurrency: u16,
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<ClientVpnEndpoint> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    info!(
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "controller starting"
    );
    // A region listing that changed is checked against every object at once (no AWS calls:
    // they read the fresh listing), so drift is found within one resync interval.
    let inventory_changed = ctx.inventory.changes();
    // Managed fields are never read here and are the largest part of each cached object: drop
    // them before they reach the cache.
    let (reader, writer) = reflector::store();
    let objects = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|obj| obj.managed_fields_mut().clear())
        .reflect(writer)
        .applied_objects();
    Controller::for_stream(objects, reader)
        .with_config(controller::Config::default().concurrency(concurrency))
        .reconcile_all_on(inventory_changed)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, action)) => debug!(object = %object, ?action, "reconciled"),
                Err(controller::Error::ReconcilerFailed(err, object)) => {
                    warn!(object = %object, category = err.category(), error = %err.report(), "reconcile failed")
                }
                Err(err) => warn!(error = %err, "controller error"),
            }
        })
        .await;
    info!("controller stopped");
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
