//! The objects: the benchmark manifest, applying many at once, a watch that records when each
//! object first shows `status.clientVpnEndpointId`, and the floor (apply → ID by a bare client:
//! watch event, finalizer patch, EC2 create, status patch; no operator).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    CertificateAuthenticationRequest, ClientVpnAuthenticationRequest, ClientVpnAuthenticationType,
    ConnectionLogOptions, ResourceType, Tag, TagSpecification,
};
use clientvpn_operator::api::{ClientVpnEndpoint, FINALIZER};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tokio::sync::watch;

use crate::emulator::{self, REGION};

const CLIENT_CIDR: &str = "10.100.0.0/22";

fn certificate(name: &str) -> String {
    format!("arn:aws:acm:{REGION}:123456789012:certificate/{name}")
}

/// The smallest endpoint: certificate authentication, no connection logging, no target
/// networks (it settles in `pending-associate`).
pub fn manifest(name: &str) -> ClientVpnEndpoint {
    serde_json::from_value(json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnEndpoint",
        "metadata": {"name": name},
        "spec": {
            "clientCidrBlock": CLIENT_CIDR,
            "serverCertificateArn": certificate("bench"),
            "authenticationOptions": [{
                "type": "certificate-authentication",
                "mutualAuthentication": {"clientRootCertificateChainArn": certificate("bench-root")}
            }],
            "connectionLogOptions": {"enabled": false}
        }
    }))
    .expect("valid ClientVpnEndpoint")
}

/// Create a namespace.
pub async fn create_namespace(client: &kube::Client, name: &str) {
    let namespace: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
}

/// Create every named object, `concurrency` requests at a time.
pub async fn create_all(api: &Api<ClientVpnEndpoint>, names: &[String], concurrency: usize) {
    futures::stream::iter(names)
        .map(|name| async move {
            api.create(&PostParams::default(), &manifest(name))
                .await
                .map_err(|e| format!("create {name}: {e}"))
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A watch on one namespace recording when each object is first seen in a state `qualifies`
/// picks out (by name).
pub struct FirstSeen {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    count: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

/// The objects first seen with an endpoint ID.
pub type IdWatch = FirstSeen;

impl FirstSeen {
    /// Watch for objects with `status.clientVpnEndpointId`; returns once the initial list is
    /// done.
    pub async fn start(api: Api<ClientVpnEndpoint>) -> Self {
        Self::watch(
            api,
            watcher::Config::default(),
            |obj: &ClientVpnEndpoint| {
                obj.status
                    .as_ref()
                    .is_some_and(|s| s.client_vpn_endpoint_id.is_some())
            },
        )
        .await
    }

    /// Watch `api` with `config` for objects that `qualifies`; returns once the initial list is
    /// done.
    pub async fn watch<K>(
        api: Api<K>,
        config: watcher::Config,
        qualifies: impl Fn(&K) -> bool + Send + 'static,
    ) -> Self
    where
        K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
        K::DynamicType: Default,
    {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let (count_tx, count) = watch::channel(0);
        let (synced_tx, synced) = tokio::sync::oneshot::channel();
        let record = seen.clone();
        let task = tokio::spawn(async move {
            let mut synced_tx = Some(synced_tx);
            let mut events = watcher(api, config).default_backoff().boxed();
            while let Some(event) = events.next().await {
                let obj = match event {
                    Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) => obj,
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = synced_tx.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        eprintln!("watch error (retrying): {e}");
                        continue;
                    }
                };
                if !qualifies(&obj) {
                    continue;
                }
                let mut seen = record.lock().expect("lock");
                if let Entry::Vacant(entry) = seen.entry(obj.name_any()) {
                    entry.insert(Instant::now());
                    let _ = count_tx.send(seen.len());
                }
            }
        });
        synced.await.expect("the watch lists the namespace");
        Self { seen, count, task }
    }

    /// How many objects have qualified.
    pub fn count(&self) -> usize {
        *self.count.borrow()
    }

    /// Wait until at least `target` objects qualified, or `timeout`; returns the count.
    pub async fn wait_count(&mut self, target: usize, timeout: Duration) -> usize {
        let _ = tokio::time::timeout(timeout, self.count.wait_for(|n| *n >= target)).await;
        self.count()
    }

    /// When `name` first qualified, waiting up to `timeout` for it.
    pub async fn wait_for(&mut self, name: &str, timeout: Duration) -> Option<Instant> {
        let seen = self.seen.clone();
        let lookup = move || seen.lock().expect("lock").get(name).copied();
        let _ = tokio::time::timeout(timeout, self.count.wait_for(|_| lookup().is_some())).await;
        lookup()
    }
}

impl Drop for FirstSeen {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Events of the objects of `api`, a controller's way: one long watch, returned once its
/// initial list is done.
pub type Events = BoxStream<'static, Result<watcher::Event<ClientVpnEndpoint>, watcher::Error>>;

/// Start an [`Events`] watch and wait for its initial list.
pub async fn listed_watch(api: Api<ClientVpnEndpoint>) -> Events {
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while !matches!(events.next().await, Some(Ok(watcher::Event::InitDone))) {}
    events
}

/// Namespace of the floor's objects; the operator under test never watches it.
pub const FLOOR_NAMESPACE: &str = "bench-floor";

/// The floor: apply → endpoint ID without the operator, done by a bare client in the order the
/// operator must follow: the object is created, its watch event arrives, the finalizer is
/// written (before any AWS call, so an endpoint is never created for an object that could
/// vanish without cleanup), one `CreateClientVpnEndpoint` with aws-sdk-ec2 (its own account in
/// the emulator), and one status patch.
pub struct Floor {
    ec2: aws_sdk_ec2::Client,
    api: Api<ClientVpnEndpoint>,
    /// A long-lived watch on [`FLOOR_NAMESPACE`], as a controller keeps one.
    events: tokio::sync::Mutex<Events>,
}

impl Floor {
    /// Watch [`FLOOR_NAMESPACE`] (returns once the initial list is done) and make an EC2 client
    /// for the emulator at `emulator_url`.
    pub async fn new(client: &kube::Client, emulator_url: &str) -> Self {
        let api: Api<ClientVpnEndpoint> = Api::namespaced(client.clone(), FLOOR_NAMESPACE);
        let events = listed_watch(api.clone()).await;
        let sdk = emulator::sdk_config(emulator_url, "AKIDBENCHFLOOR").await;
        Self {
            ec2: aws_sdk_ec2::Client::new(&sdk),
            api,
            events: tokio::sync::Mutex::new(events),
        }
    }

    /// Time one apply → ID of a new object `name`: create, watch event, finalizer patch (as the
    /// operator writes it), create (same parameters, token and tags as the operator sends),
    /// status patch.
    pub async fn sample(&self, name: &str) -> Duration {
        let mut events = self.events.lock().await;
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let started = Instant::now();
        self.api
            .create(&PostParams::default(), &manifest(name))
            .await
            .expect("create a floor object");
        let obj = loop {
            match events.next().await.expect("the floor watch goes on") {
                Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj))
                    if obj.metadata.name.as_deref() == Some(name) =>
                {
                    break obj;
                }
                Ok(_) => {}
                Err(e) => eprintln!("floor watch error (retrying): {e}"),
            }
        };
        let finalizer = json!({
            "metadata": {"resourceVersion": obj.resource_version(), "finalizers": [FINALIZER]}
        });
        self.api
            .patch(name, &PatchParams::default(), &Patch::Merge(finalizer))
            .await
            .expect("floor finalizer patch");
        let uid = obj.uid().expect("a created object has a UID");
        let created = self
            .ec2
            .create_client_vpn_endpoint()
            .client_cidr_block(CLIENT_CIDR)
            .server_certificate_arn(certificate("bench"))
            .authentication_options(
                ClientVpnAuthenticationRequest::builder()
                    .r#type(ClientVpnAuthenticationType::CertificateAuthentication)
                    .mutual_authentication(
                        CertificateAuthenticationRequest::builder()
                            .client_root_certificate_chain_arn(certificate("bench-root"))
                            .build(),
                    )
                    .build(),
            )
            .connection_log_options(ConnectionLogOptions::builder().enabled(false).build())
            .client_token(&uid)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::ClientVpnEndpoint)
                    .tags(tag("clientvpn.io/uid", &uid))
                    .tags(tag("clientvpn.io/namespace", FLOOR_NAMESPACE))
                    .tags(tag("clientvpn.io/name", name))
                    .tags(tag("clientvpn.io/cluster", "bench"))
                    .build(),
            )
            .send()
            .await
            .expect("floor CreateClientVpnEndpoint");
        let id = created.client_vpn_endpoint_id().expect("endpoint id");
        self.api
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"clientVpnEndpointId": id}})),
            )
            .await
            .expect("floor status patch");
        started.elapsed()
    }
}
