//! What reconcile remembers about each object between runs, so that a settled object is checked
//! against the region inventory without AWS calls of its own, and its children are described
//! again only when something changed or the audit interval has passed.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::plan::Children;
use crate::cloud::ObservedEndpoint;

/// What the operator last knew about one object's endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    /// The endpoint the object owns.
    pub endpoint_id: String,
    /// The object's generation at the time.
    pub generation: Option<i64>,
    /// Fingerprint of the endpoint as AWS showed it when the object last settled; `None` right
    /// after the operator created it (describe it next time).
    pub endpoint: Option<u64>,
    /// When the operator last described the endpoint itself (`None`: only seen in listings).
    pub endpoint_described_at: Option<Instant>,
    /// The children as last described (known empty right after creation).
    pub children: Children,
    /// When the children were last described.
    pub children_seen_at: Instant,
}

/// Where the next observation takes the endpoint from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointSource {
    /// The region inventory (no call of its own): the object is settled and unchanged.
    Inventory,
    /// A `DescribeClientVpnEndpoints` for this endpoint: the operator just changed it, the spec
    /// changed, or something is in progress.
    Describe,
}

/// The inventory is enough only for an object whose status shows it settled on this endpoint
/// (`settled_on`), and that the operator remembers settled on it at this generation — or, right
/// after a restart, remembers nothing about.
pub fn endpoint_source(
    remembered: Option<&Remembered>,
    endpoint_id: &str,
    generation: Option<i64>,
    settled_on: Option<&str>,
) -> EndpointSource {
    let known = remembered.is_none_or(|r| {
        r.endpoint.is_some() && r.endpoint_id == endpoint_id && r.generation == generation
    });
    if known && settled_on == Some(endpoint_id) {
        EndpointSource::Inventory
    } else {
        EndpointSource::Describe
    }
}

/// A listing taken before the operator's last look at the endpoint (e.g. just before it changed
/// it) is out of date for that endpoint: the operator knows more already.
pub fn listing_is_current(remembered: Option<&Remembered>, listed_at: Instant) -> bool {
    remembered
        .and_then(|r| r.endpoint_described_at)
        .is_none_or(|described_at| described_at < listed_at)
}

/// A fingerprint of everything observed about an endpoint (memory keeps this, not the record).
pub fn fingerprint(endpoint: &ObservedEndpoint) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    endpoint.hash(&mut hasher);
    hasher.finish()
}

/// The remembered children, if they can stand for a new description: same endpoint, unchanged
/// in AWS (or just created by the operator), same generation, and not due for an audit.
/// An `audit_interval` of zero never audits.
pub fn reusable_children(
    remembered: Option<&Remembered>,
    live: &ObservedEndpoint,
    generation: Option<i64>,
    audit_interval: Duration,
    now: Instant,
) -> Option<Children> {
    let r = remembered?;
    let unchanged = r.endpoint.is_none_or(|seen| seen == fingerprint(live));
    let audit_due = !audit_interval.is_zero()
        && now.saturating_duration_since(r.children_seen_at) >= audit_interval;
    (r.endpoint_id == live.id && r.generation == generation && unchanged && !audit_due)
        .then(|| r.children.clone())
}

/// Per-object memory, keyed by UID.
#[derive(Debug, Default)]
pub struct Memory {
    entries: Mutex<HashMap<String, Remembered>>,
    /// The endpoint each object owns, as this process last created or saw it. It outlives
    /// [`Memory::forget`]: a copy of the object from before its status write (the watch lags)
    /// must still find the endpoint, above all when the object is being deleted.
    owned: Mutex<HashMap<String, String>>,
}

impl Memory {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Remembered>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, uid: &str) -> Option<Remembered> {
        self.lock().get(uid).cloned()
    }

    fn lock_owned(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.owned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The endpoint the object owns, if this process created or saw it.
    pub fn owned(&self, uid: &str) -> Option<String> {
        self.lock_owned().get(uid).cloned()
    }

    /// The object owns `endpoint_id` (reconcile says so for every endpoint it observes; a
    /// create says so itself).
    pub fn owns(&self, uid: &str, endpoint_id: &str) {
        self.lock_owned()
            .insert(uid.to_string(), endpoint_id.to_string());
    }

    /// The operator just created `endpoint_id`: it has no children yet.
    pub fn created(&self, uid: &str, endpoint_id: &str, generation: Option<i64>) {
        let entry = Remembered {
            endpoint_id: endpoint_id.to_string(),
            generation,
            endpoint: None,
            endpoint_described_at: Some(Instant::now()),
            children: Children::default(),
            children_seen_at: Instant::now(),
        };
        self.owns(uid, endpoint_id);
        self.lock().insert(uid.to_string(), entry);
    }

    /// The object settled: AWS matches the spec and nothing is in progress.
    pub fn settled(&self, uid: &str, entry: Remembered) {
        self.lock().insert(uid.to_string(), entry);
    }

    /// The operator changed the endpoint or something is in progress: describe it next time.
    /// Which endpoint the object owns is kept.
    pub fn forget(&self, uid: &str) {
        self.lock().remove(uid);
    }

    /// The object is released (its finalizer removed): nothing about it is kept.
    pub fn released(&self, uid: &str) {
        self.forget(uid);
        self.lock_owned().remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn endpoint(status: &str) -> ObservedEndpoint {
        ObservedEndpoint {
            id: "cvpn-endpoint-1".into(),
            status_code: status.into(),
            ..Default::default()
        }
    }

    fn settled_entry(now: Instant) -> Remembered {
        Remembered {
            endpoint_id: "cvpn-endpoint-1".into(),
            generation: Some(2),
            endpoint: Some(fingerprint(&endpoint("available"))),
            endpoint_described_at: Some(now),
            children: Children::default(),
            children_seen_at: now,
        }
    }

    #[test]
    fn only_an_object_settled_on_the_endpoint_reads_the_inventory() {
        let now = Instant::now();
        let entry = settled_entry(now);
        let just_created = Remembered {
            endpoint: None,
            ..entry.clone()
        };
        let cases = [
            (
                Some(&entry),
                "cvpn-endpoint-1",
                Some(2),
                Some("cvpn-endpoint-1"),
                EndpointSource::Inventory,
            ),
            (
                None,
                "cvpn-endpoint-1",
                Some(2),
                Some("cvpn-endpoint-1"),
                EndpointSource::Inventory,
            ),
            (
                None,
                "cvpn-endpoint-1",
                Some(2),
                None,
                EndpointSource::Describe,
            ),
            (
                Some(&entry),
                "cvpn-endpoint-1",
                Some(3),
                Some("cvpn-endpoint-1"),
                EndpointSource::Describe,
            ),
            (
                Some(&entry),
                "cvpn-endpoint-9",
                Some(2),
                Some("cvpn-endpoint-1"),
                EndpointSource::Describe,
            ),
            (
                Some(&entry),
                "cvpn-endpoint-1",
                Some(2),
                None,
                EndpointSource::Describe,
            ),
            (
                Some(&just_created),
                "cvpn-endpoint-1",
                Some(2),
                Some("cvpn-endpoint-1"),
                EndpointSource::Describe,
            ),
        ];
        for (remembered, id, generation, settled, want) in cases {
            assert_eq!(
                endpoint_source(remembered, id, generation, settled),
                want,
                "{remembered:?} {id} {generation:?} {settled:?}"
            );
        }
    }

    #[test]
    fn a_listing_older_than_the_last_look_is_not_current() {
        let now = Instant::now();
        let entry = settled_entry(now);
        assert!(!listing_is_current(Some(&entry), now - HOUR));
        assert!(
            !listing_is_current(Some(&entry), now),
            "taken at the same moment: describe"
        );
        assert!(listing_is_current(Some(&entry), now + HOUR));
        assert!(listing_is_current(None, now), "nothing remembered");
        let only_listed = Remembered {
            endpoint_described_at: None,
            ..entry
        };
        assert!(listing_is_current(Some(&only_listed), now - HOUR));
    }

    #[test]
    fn children_are_described_again_when_the_endpoint_changed_the_spec_changed_or_an_audit_is_due()
    {
        let now = Instant::now();
        let entry = settled_entry(now);
        let reuse = |r: Option<&Remembered>, live: &ObservedEndpoint, generation, audit, at| {
            reusable_children(r, live, generation, audit, at).is_some()
        };
        let live = endpoint("available");
        assert!(reuse(Some(&entry), &live, Some(2), 24 * HOUR, now + HOUR));
        assert!(!reuse(None, &live, Some(2), 24 * HOUR, now));
        assert!(
            !reuse(
                Some(&entry),
                &endpoint("pending-associate"),
                Some(2),
                24 * HOUR,
                now
            ),
            "AWS state changed"
        );
        assert!(
            !reuse(Some(&entry), &live, Some(3), 24 * HOUR, now),
            "spec changed"
        );
        assert!(
            !reuse(Some(&entry), &live, Some(2), 24 * HOUR, now + 24 * HOUR),
            "audit due"
        );
        assert!(
            reuse(
                Some(&entry),
                &live,
                Some(2),
                Duration::ZERO,
                now + 1000 * HOUR
            ),
            "zero never audits"
        );
        let just_created = Remembered {
            endpoint: None,
            ..entry
        };
        assert!(
            reuse(
                Some(&just_created),
                &endpoint("pending-associate"),
                Some(2),
                HOUR,
                now
            ),
            "a new endpoint has no children yet"
        );
    }
}
