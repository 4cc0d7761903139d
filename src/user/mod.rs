//! The `ClientVpnUser` controller: one person's client certificate (issued by the endpoint's CA
//! or brought in a Secret), a complete `client.ovpn` in a Secret, revocation through the
//! endpoint's CRL, and who is connected. It sits beside the endpoint controller and shares the
//! runtime (status writes, events, finalizers, backoff, metrics).
//!
//! `plan`, `record`, `ovpn`, `view` and `status` are pure; `reconcile` reads as gate → the
//! certificate → revocation → connections → status; `publisher`, `presence` and `caches` hold
//! the per-endpoint work shared by all users of an endpoint. An endpoint event wakes its users
//! only when what they read of it changed ([`ViewGate`]), so the endpoint's own status writes
//! (connections, revocation list) do not reconcile thousands of users.

mod caches;
mod certificate;
mod error;
pub mod ovpn;
mod plan;
mod presence;
mod publisher;
mod reconcile;
pub mod record;
mod revoke;
mod secrets;
mod status;
mod store;
mod view;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, controller};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use tracing::info;

pub use error::Error;
pub use publisher::PublishSettings;
pub use store::{RECORD_KEY, record_secret_name};

use crate::api::{ClientVpnEndpoint, ClientVpnUser};
use crate::cloud::{ClientAccessApi, ClientVpnApi};
use crate::runtime::cache::cached;
use crate::runtime::stale_copies::StaleCopies;
use crate::runtime::{Backoffs, ObjectHandle, Runtime, log_result};
use caches::{ByVersion, ConfigCache, ConnectionCache};
use publisher::Publisher;
use store::RecordStore;
use view::EndpointView;

/// Field manager of the endpoint status fields this controller writes (`revocationList`,
/// `connections`), apart from the endpoint controller's.
pub const ACCESS_FIELD_MANAGER: &str = "clientvpn-operator-access";

/// Settings of the users controller.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often each user is looked at when nothing happens.
    pub resync_interval: Duration,
    /// How long a certificate superseded by a renewal stays valid before it is revoked, so the
    /// person's next connect with the old profile still works while they fetch the new one.
    pub superseded_revocation_delay: Duration,
    /// Revocation list publication.
    pub publish: PublishSettings,
    /// How often an endpoint's connections are listed (while users exist for it).
    pub connections_interval: Duration,
}

/// Everything a user reconcile needs; built once per controller run.
pub struct Context {
    pub client: Client,
    pub runtime: Runtime,
    /// EC2: the client configuration export.
    pub cloud: Arc<dyn ClientVpnApi>,
    /// EC2: revocation lists and connections.
    pub access: Arc<dyn ClientAccessApi>,
    pub settings: Settings,
    records: RecordStore,
    /// Endpoints' client CAs by Secret version.
    cas: ByVersion<secrets::ClientCa>,
    /// Key generations in progress: one per core.
    key_generations: tokio::sync::Semaphore,
    publisher: Arc<Publisher>,
    connections: ConnectionCache,
    configs: ConfigCache,
    endpoints: Store<ClientVpnEndpoint>,
    users: Store<ClientVpnUser>,
    secrets: Store<PartialObjectMeta<Secret>>,
    /// True once `endpoints` and `secrets` hold their first listing.
    caches_ready: tokio::sync::watch::Receiver<bool>,
    /// Users' versions replaced by this controller's status writes.
    stale_copies: StaleCopies,
}

impl Context {
    /// The endpoint object `name` in `namespace`.
    fn endpoint(&self, namespace: &str, name: &str) -> Option<Arc<ClientVpnEndpoint>> {
        self.endpoints.get(&ObjectRef::new(name).within(namespace))
    }

    /// Whether the endpoint and Secret caches hold a first full listing (waits for it; false
    /// only when the watches stopped).
    async fn caches_ready(&self) -> bool {
        self.caches_ready
            .clone()
            .wait_for(|ready| *ready)
            .await
            .is_ok()
    }

    /// The revocation record of endpoint `name` in `namespace` (cached by resourceVersion).
    async fn record(&self, namespace: &str, name: &str) -> Result<Arc<record::Record>, Error> {
        let version = self
            .secret_meta(namespace, &record_secret_name(name))
            .and_then(|m| m.resource_version());
        self.records.read_at(namespace, name, version).await
    }

    /// The metadata of Secret `name` in `namespace`.
    fn secret_meta(&self, namespace: &str, name: &str) -> Option<Arc<PartialObjectMeta<Secret>>> {
        self.secrets.get(&ObjectRef::new(name).within(namespace))
    }
}

/// What the users controller shares with the rest of the operator.
pub struct Shared {
    pub client: Client,
    pub runtime_parts: (
        Arc<dyn crate::runtime::Cluster>,
        Arc<crate::metrics::Metrics>,
    ),
    pub backoffs: Backoffs,
    pub cloud: Arc<dyn ClientVpnApi>,
    pub access: Arc<dyn ClientAccessApi>,
    pub settings: Settings,
}

/// Run the users controller until `shutdown` resolves.
pub async fn run(
    shared: Shared,
    namespace: Option<String>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let client = shared.client.clone();
    let users_api: Api<ClientVpnUser> = scoped(&client, namespace.as_deref());
    let endpoints_api: Api<ClientVpnEndpoint> = scoped(&client, namespace.as_deref());
    let secrets_api: Api<PartialObjectMeta<Secret>> = scoped(&client, namespace.as_deref());
    info!(
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "users controller starting"
    );
    let (users, user_events) = cached(users_api);
    let user_stream = user_events.applied_objects();
    let (endpoints, endpoint_events) = cached(endpoints_api);
    let endpoint_stream = endpoint_events.touched_objects();
    // Metadata only: no key material is cached.
    let (secrets, secret_events) = cached(secrets_api);
    let secret_stream = secret_events.touched_objects();
    let (trigger, triggered) = futures::channel::mpsc::unbounded();
    let presence_trigger = trigger.clone();
    // One waiter only: `Store::wait_until_ready` wakes a single task (a oneshot inside), so the
    // reconciles wait on this watch instead.
    let (ready_tx, caches_ready) = tokio::sync::watch::channel(false);
    let (endpoints_ready, secrets_ready) = (endpoints.clone(), secrets.clone());
    tokio::spawn(async move {
        let ready = endpoints_ready.wait_until_ready().await.is_ok()
            && secrets_ready.wait_until_ready().await.is_ok();
        let _ = ready_tx.send(ready);
    });
    let (cluster, metrics) = shared.runtime_parts;
    let ctx = Arc::new(Context {
        client: client.clone(),
        runtime: Runtime {
            cluster,
            backoffs: shared.backoffs,
            metrics,
        },
        cloud: shared.cloud,
        access: shared.access,
        records: RecordStore::new(client),
        cas: ByVersion::default(),
        key_generations: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
        publisher: Arc::new(Publisher::new(trigger)),
        connections: ConnectionCache::new(shared.settings.connections_interval),
        configs: ConfigCache::default(),
        settings: shared.settings,
        endpoints,
        users: users.clone(),
        secrets: secrets.clone(),
        caches_ready,
        stale_copies: StaleCopies::default(),
    });
    let (by_endpoint, by_secret) = (users.clone(), users.clone());
    let endpoints_for_secrets = ctx.endpoints.clone();
    let (endpoints_for_gate, gate) = (ctx.endpoints.clone(), ViewGate::default());
    let poller = tokio::spawn(presence::run(ctx.clone(), presence_trigger));
    Controller::for_stream(user_stream, users)
        .watches_stream(endpoint_stream, move |endpoint| {
            if !gate.changed(&endpoints_for_gate, &endpoint) {
                return Vec::new();
            }
            users_of_endpoint(&by_endpoint, &endpoint)
        })
        .watches_stream(secret_stream, move |secret| {
            users_of_secret(&by_secret, &endpoints_for_secrets, &secret)
        })
        .reconcile_on(triggered)
        .with_config(controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|result| async move { log_result(result) })
        .await;
    poller.abort();
    info!("users controller stopped");
}

/// An API for kind `K` in `namespace`, or in every namespace.
fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The users of an endpoint object.
fn users_of_endpoint(
    users: &Store<ClientVpnUser>,
    endpoint: &ClientVpnEndpoint,
) -> Vec<ObjectRef<ClientVpnUser>> {
    let namespace = endpoint.namespace();
    let name = endpoint.name_any();
    users
        .state()
        .iter()
        .filter(|u| u.namespace() == namespace && u.spec.endpoint_ref.name == name)
        .map(|u| ObjectRef::from_obj(u.as_ref()))
        .collect()
}

/// The users a Secret matters to: its owner, those bringing it, and those whose endpoint's
/// client CA it holds.
fn users_of_secret(
    users: &Store<ClientVpnUser>,
    endpoints: &Store<ClientVpnEndpoint>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<ClientVpnUser>> {
    let namespace = secret.namespace().unwrap_or_default();
    if let Some(owner) = secret
        .owner_references()
        .iter()
        .find(|o| o.kind == ClientVpnUser::kind(&()))
    {
        return vec![ObjectRef::new(&owner.name).within(&namespace)];
    }
    let name = secret.name_any();
    // The endpoints (few) whose client CA this Secret holds, looked at once, not per user.
    let ca_of: Vec<String> = endpoints
        .state()
        .iter()
        .filter(|e| e.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|e| {
            let view = EndpointView::of(e);
            matches!(&view.ca, view::CaLocation::Secret(n) | view::CaLocation::ServerChain(n) if *n == name)
        })
        .map(|e| e.name_any())
        .collect();
    users
        .state()
        .iter()
        .filter(|u| u.metadata.namespace.as_deref() == Some(namespace.as_str()))
        .filter(|u| {
            u.spec
                .certificate_secret_ref
                .as_ref()
                .is_some_and(|s| s.name == name)
                || ca_of.contains(&u.spec.endpoint_ref.name)
        })
        .map(|u| ObjectRef::from_obj(u.as_ref()))
        .collect()
}

/// What users read of each endpoint object, as last seen by the endpoint watch: an event wakes
/// the endpoint's users only when that changed or the object is gone.
#[derive(Default)]
struct ViewGate {
    seen: std::sync::Mutex<std::collections::HashMap<ObjectRef<ClientVpnEndpoint>, EndpointView>>,
}

impl ViewGate {
    /// Whether `endpoint` (as the watch delivers it, after the store took it) differs for its
    /// users from the last time; a deleted object (no longer in the store) always does.
    fn changed(&self, store: &Store<ClientVpnEndpoint>, endpoint: &ClientVpnEndpoint) -> bool {
        let key = ObjectRef::from_obj(endpoint);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if store.get(&key).is_none() {
            seen.remove(&key);
            return true;
        }
        let view = EndpointView::of(endpoint);
        seen.insert(key, view.clone()).as_ref() != Some(&view)
    }
}

/// The common name in effect: `spec.commonName`, else the object name.
fn common_name(user: &ClientVpnUser) -> &str {
    user.spec
        .common_name
        .as_deref()
        .or(user.metadata.name.as_deref())
        .unwrap_or_default()
}

/// Server-side apply one field of the endpoint's status (`revocationList`, `connections`) with
/// this controller's own field manager.
async fn patch_endpoint_access(
    ctx: &Context,
    endpoint: &ObjectHandle,
    field: &str,
    value: &impl Serialize,
) -> Result<(), Error> {
    let api: Api<ClientVpnEndpoint> = Api::namespaced(ctx.client.clone(), &endpoint.namespace);
    let body = json!({
        "apiVersion": endpoint.resource.api_version,
        "kind": endpoint.resource.kind,
        "status": { field: value },
    });
    api.patch_status(
        &endpoint.name,
        &PatchParams::apply(ACCESS_FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .map(|_| ())
    .map_err(|e| Error::Kube("writing the endpoint's status", e))
}

/// Unix seconds now.
fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix seconds as RFC 3339 (UTC), for status.
fn rfc3339(unix: i64) -> Option<String> {
    Some(crate::certificates::rfc3339(unix))
}
