//! The `ClientVpnEndpoint` controller. One reconcile reads as
//! gate → observe → plan → act → status (see `reconcile.rs`); `plan/` holds every decision and is
//! pure; `observe`, `act` and `status` do the I/O; `report` words the events.

mod act;
mod certificates;
mod error;
mod inventory;
mod memory;
mod observe;
pub mod plan;
mod reconcile;
mod report;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::{Controller, WatchStreamExt, controller, watcher};
use kube::{Client, ResourceExt};
use tracing::info;

use crate::api::{ClientVpnEndpoint, USER_SECRET_LABEL};
use crate::cloud::{CertificateApi, ClientVpnApi};
use crate::metrics::Metrics;
use crate::runtime::cache::cached;
use crate::runtime::{Backoffs, Cluster, Delays, ObjectHandle, Runtime, log_result};

pub use error::Error;
pub use inventory::Inventory;
pub use memory::Memory;
pub use reconcile::{error_policy, reconcile};

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
    /// How long each kind of failure pauses an object whose spec does not change.
    pub delays: Delays,
    /// Operations in progress the operator allows itself per endpoint (AWS allows 10).
    pub operations_limit: usize,
}

/// Longest wait between retries of a retryable error: short, because these errors (throttling,
/// AWS server errors, timeouts) are usually gone within seconds and the pacer already spaces calls.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// Everything reconcile needs: the shared runtime (Kubernetes writes, backoff, metrics), AWS,
/// the region inventory, per-object memory and the settings. Built once at start-up.
pub struct Context {
    pub runtime: Runtime,
    pub cloud: Arc<dyn ClientVpnApi>,
    /// ACM, for the certificates the operator imports.
    pub certificates: Arc<dyn CertificateApi>,
    pub inventory: Inventory,
    pub memory: Memory,
    pub settings: Settings,
}

impl Context {
    pub fn new(
        cloud: Arc<dyn ClientVpnApi>,
        certificates: Arc<dyn CertificateApi>,
        cluster: Arc<dyn Cluster>,
        metrics: Arc<Metrics>,
        settings: Settings,
    ) -> Self {
        let backoffs = Backoffs::new(settings.delays);
        Self {
            runtime: Runtime {
                cluster,
                backoffs,
                metrics,
            },
            cloud,
            certificates,
            inventory: Inventory::new(settings.resync_interval),
            memory: Memory::default(),
            settings,
        }
    }

    fn cluster(&self) -> &dyn Cluster {
        self.runtime.cluster.as_ref()
    }
}

/// What every step of one reconcile needs to know about its object.
#[derive(Clone, Debug)]
pub struct Target {
    /// Kind, namespace, name, UID, resourceVersion and finalizers.
    pub handle: ObjectHandle,
    /// The object's UID (key of backoff, memory and metrics state).
    pub uid: String,
    /// `metadata.generation` of the object being reconciled.
    pub generation: Option<i64>,
    /// Fixed by status once an endpoint exists, else the spec's, else the operator's default.
    pub region: Option<String>,
    /// Set once a step of this reconcile changed AWS (so a later failure is not a stuck pass).
    pub progress: Progress,
}

/// Whether a reconcile got anything done in AWS, shared by its steps.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<std::sync::atomic::AtomicBool>);

impl Progress {
    pub fn made(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn any(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Target {
    /// The target of `obj`; `None` without a UID (the API server always sets one).
    pub fn of(obj: &ClientVpnEndpoint, default_region: Option<&str>) -> Option<Self> {
        let region = obj
            .status
            .as_ref()
            .and_then(|s| s.region.clone())
            .or_else(|| obj.spec.region.clone())
            .or_else(|| default_region.map(str::to_string));
        Some(Self {
            uid: obj.uid()?,
            generation: obj.metadata.generation,
            handle: ObjectHandle::of(obj),
            region,
            progress: Progress::default(),
        })
    }

    /// The region, or the error that says how to set one.
    pub fn region(&self) -> Result<&str, Error> {
        self.region.as_deref().ok_or(Error::MissingRegion)
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
    // `PartialObjectMeta` makes the Secret watch metadata-only.
    let (api, secrets): (Api<ClientVpnEndpoint>, Api<PartialObjectMeta<Secret>>) = match &namespace
    {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    info!(
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "controller starting"
    );
    // A region listing that changed is checked against every object at once (no AWS calls:
    // they read the fresh listing), so drift is found within one resync interval.
    let inventory_changed = ctx.inventory.changes();
    let (reader, events) = cached(api);
    let objects = events.applied_objects();
    // A changed certificate Secret (e.g. a cert-manager renewal) is re-imported at once. Only
    // metadata is watched: no key material is cached. The users' Secrets (thousands, written
    // by the users controller) never hold an endpoint's certificate: left out by the server.
    let not_users = format!("!{USER_SECRET_LABEL}");
    let secret_config = watcher::Config::default().any_semantic().labels(&not_users);
    let secret_changes = watcher(secrets, secret_config)
        .default_backoff()
        .touched_objects();
    let users = reader.clone();
    Controller::for_stream(objects, reader)
        .watches_stream(secret_changes, move |secret| {
            certificates::users_of_secret(&users, &secret)
        })
        .with_config(controller::Config::default().concurrency(concurrency))
        .reconcile_all_on(inventory_changed)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move { log_result(result) })
        .await;
    info!("controller stopped");
}

#[cfg(test)]
mod fake_cloud;
#[cfg(test)]
pub(crate) use fake_cloud::FakeCloud;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
