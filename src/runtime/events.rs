//! Kubernetes events (events.k8s.io/v1) with series, keyed as client-go's event recorder keys
//! them: the object, type, reason, action *and note*. kube-runtime's `Recorder` leaves the note
//! out of its key, so a second event that differs only in its note (a second `Created` naming
//! another endpoint) would be folded into the first one's series and shown with the first
//! note. Here each distinct note is its own event; the same note again bumps its series.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::sync::Mutex;

use super::Notice;

/// How long a published event may still get series updates; later repeats start a new event
/// (as client-go does after its cache expires).
const SERIES_TTL: Duration = Duration::from_secs(6 * 60);

/// What makes two events the same series.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SeriesKey {
    uid: String,
    warning: bool,
    reason: String,
    action: &'static str,
    note: String,
}

#[derive(Debug)]
struct Series {
    name: String,
    count: i32,
    last_seen: Instant,
}

/// Publishes events for one reporting controller and instance.
pub struct EventPublisher {
    client: Client,
    controller: String,
    instance: String,
    series: Mutex<HashMap<SeriesKey, Series>>,
}

impl EventPublisher {
    pub fn new(client: Client, controller: &str, instance: Option<String>) -> Self {
        Self {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
            series: Mutex::new(HashMap::new()),
        }
    }

    /// Create the event, or count one more occurrence of the same event (same note included).
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        notice: Notice,
    ) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let key = SeriesKey {
            uid: regarding.uid.clone().unwrap_or_default(),
            warning: notice.warning,
            reason: notice.reason.clone(),
            action: notice.action,
            note: notice.note.clone(),
        };
        let stamp = MicroTime(k8s_openapi::jiff::Timestamp::now());
        // The lock is never held across an API call; two racing publishes of a new note may
        // both create an event, which is harmless.
        if let Some((name, count)) = self.repeat(&key) {
            let patch = serde_json::json!({
                "series": EventSeries { count, last_observed_time: stamp },
            });
            return api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ());
        }
        let event = self.event(regarding, notice, stamp);
        let created = api.create(&PostParams::default(), &event).await?;
        let series = Series {
            name: created.metadata.name.unwrap_or_default(),
            count: 1,
            last_seen: Instant::now(),
        };
        self.lock().insert(key, series);
        Ok(())
    }

    /// For a known series: its event's name and the new count (recorded at once).
    fn repeat(&self, key: &SeriesKey) -> Option<(String, i32)> {
        let now = Instant::now();
        let mut series = self.lock();
        series.retain(|_, s| now.duration_since(s.last_seen) < SERIES_TTL);
        let known = series.get_mut(key)?;
        known.count += 1;
        known.last_seen = now;
        Some((known.name.clone(), known.count))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesKey, Series>> {
        self.series.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn event(&self, regarding: &ObjectReference, notice: Notice, stamp: MicroTime) -> Event {
        let object = regarding.name.clone().unwrap_or_default();
        Event {
            metadata: ObjectMeta {
                name: Some(event_name(&object, &stamp)),
                namespace: regarding.namespace.clone(),
                ..ObjectMeta::default()
            },
            event_time: Some(stamp),
            type_: Some(if notice.warning { "Warning" } else { "Normal" }.into()),
            reason: Some(notice.reason),
            action: Some(notice.action.into()),
            note: Some(notice.note),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        }
    }
}

/// `<object>.<nanoseconds since the epoch, hex>`, as client-go names events (the object part
/// cut so the name stays within the 253 characters of a DNS subdomain).
fn event_name(object: &str, stamp: &MicroTime) -> String {
    let nanos = stamp.0.as_nanosecond();
    let object: String = object.chars().take(253 - 1 - 32).collect();
    format!("{object}.{nanos:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_valid_dns_subdomains_and_differ_by_time() {
        let at = |nanos| MicroTime(k8s_openapi::jiff::Timestamp::from_nanosecond(nanos).unwrap());
        let first = event_name("vpn", &at(1_700_000_000_000_000_000));
        let second = event_name("vpn", &at(1_700_000_000_000_001_000));
        assert_eq!(first, "vpn.17979cfe362a0000");
        assert_ne!(first, second);
        let long = event_name(&"a".repeat(253), &at(1));
        assert!(long.len() <= 253, "{}", long.len());
        assert!(long.ends_with(".1"));
    }
}
