//! A controller's cache of one kind: a watch (with backoff) feeding a reflector store. Managed
//! fields are never read by a controller and are the largest part of each cached object, so
//! they are dropped before they reach the store.

use std::fmt::Debug;
use std::hash::Hash;

use futures::Stream;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

/// Watch every object of `api` (any resourceVersion is fine: the cache converges), cache what it
/// sees, and hand back the store and the watch's events; the caller picks `applied_objects` or
/// `touched_objects`.
pub fn cached<K>(
    api: Api<K>,
) -> (
    Store<K>,
    impl Stream<Item = watcher::Result<watcher::Event<K>>> + Send + 'static,
)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (store, writer) = reflector::store();
    let events = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|object| object.managed_fields_mut().clear())
        .reflect(writer);
    (store, events)
}
