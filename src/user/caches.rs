//! Per-endpoint answers shared by all its users, so that AWS and the API server are asked once
//! per endpoint, not once per user: the exported client configuration (once per configuration
//! key), the connection listing (at most once per `--connections-interval`), and what was read
//! from a Secret (once per resourceVersion). Each AWS key is fetched by one caller at a time; the
//! others wait for its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::presence::{ByUser, by_user};
use crate::cloud::{ClientAccessApi, ClientVpnApi, CloudError};

/// A map of single-flight slots.
struct Slots<V> {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<V>>>>>,
}

impl<V> Default for Slots<V> {
    fn default() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> Slots<V> {
    fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<Option<V>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.to_string()).or_default().clone()
    }

    fn forget(&self, key: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Values read from Secrets, kept while the Secret's resourceVersion (as the watch cache reports
/// it) is the one they were read at.
pub struct ByVersion<V> {
    entries: Mutex<HashMap<String, (String, Arc<V>)>>,
}

impl<V> Default for ByVersion<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> ByVersion<V> {
    /// The value kept for `key` if it was read at `version`.
    pub fn get(&self, key: &str, version: &str) -> Option<Arc<V>> {
        self.lock()
            .get(key)
            .filter(|(v, _)| v == version)
            .map(|(_, value)| value.clone())
    }

    /// Keep `value`, read at `version`, for `key`.
    pub fn put(&self, key: String, version: String, value: Arc<V>) {
        self.lock().insert(key, (version, value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Arc<V>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Exported client configurations by configuration key.
#[derive(Default)]
pub struct ConfigCache {
    slots: Slots<Arc<String>>,
}

impl ConfigCache {
    /// The configuration of endpoint `id` for `key` (exported on first use).
    pub async fn get(
        &self,
        cloud: &dyn ClientVpnApi,
        key: &str,
        region: &str,
        id: &str,
    ) -> Result<Arc<String>, CloudError> {
        let slot = self.slots.slot(key);
        let mut value = slot.lock().await;
        if let Some(config) = value.as_ref() {
            return Ok(config.clone());
        }
        let config = Arc::new(cloud.export_client_configuration(region, id).await?);
        *value = Some(config.clone());
        Ok(config)
    }
}

/// A connection listing (summed per common name) and when it was taken.
#[derive(Clone)]
pub struct Listing {
    pub by_user: Arc<ByUser>,
    pub taken: Instant,
}

/// Connection listings by endpoint ID.
pub struct ConnectionCache {
    interval: Duration,
    slots: Slots<Listing>,
}

impl ConnectionCache {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            slots: Slots::default(),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The connections of endpoint `id`, listed anew when the last listing is older than the
    /// interval; true when this call listed.
    pub async fn get(
        &self,
        access: &dyn ClientAccessApi,
        region: &str,
        id: &str,
    ) -> Result<(Listing, bool), CloudError> {
        let slot = self.slots.slot(id);
        let mut value = slot.lock().await;
        if let Some(listing) = value.as_ref().filter(|l| l.taken.elapsed() < self.interval) {
            return Ok((listing.clone(), false));
        }
        let listing = Listing {
            by_user: Arc::new(by_user(&access.describe_connections(region, id).await?)),
            taken: Instant::now(),
        };
        *value = Some(listing.clone());
        Ok((listing, true))
    }

    /// Forget the listing of `id` (sessions were terminated).
    pub fn invalidate(&self, id: &str) {
        self.slots.forget(id);
    }
}
