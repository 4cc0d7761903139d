//! The region inventory: one paginated `DescribeClientVpnEndpoints` per region per resync,
//! shared by every object in that region, so steady-state AWS calls do not grow with the fleet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;
use tokio::time::Instant;

use crate::cloud::{AwsScope, ClientVpnApi, CloudError, ObservedEndpoint, status_code};

/// Every endpoint of one region, as one listing showed them.
#[derive(Debug)]
struct Snapshot {
    /// When the listing started (the data is at least this fresh).
    taken_at: Instant,
    endpoints: HashMap<String, ObservedEndpoint>,
}

/// A region's latest listing, and the last failed attempt (shared with everyone who waited for it).
#[derive(Debug, Default)]
struct Listing {
    snapshot: Option<Arc<Snapshot>>,
    failure: Option<(Instant, CloudError)>,
}

type Slot = Arc<tokio::sync::Mutex<Listing>>;

/// The latest listing of each region, refreshed on demand once it is older than `max_age`.
/// Callers that need a listing at the same time wait for one call instead of each making one.
pub struct Inventory {
    max_age: Duration,
    regions: Mutex<HashMap<AwsScope, Slot>>,
    changes: tokio::sync::watch::Sender<u64>,
}

/// How old a listing may be for a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freshness {
    /// No older than the resync interval.
    Current,
    /// Any listing this process made (list once if there is none).
    Any,
    /// Started at or after this instant (lookups waiting together share one such listing).
    Since(Instant),
}

impl Inventory {
    /// Listings are reused for `max_age` (the resync interval).
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            regions: Mutex::new(HashMap::new()),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The endpoint as the region's current listing shows it, and when that listing was taken;
    /// `None` when the listing does not contain it (deleted, or created after the listing: ask
    /// AWS directly then).
    pub async fn endpoint(
        &self,
        cloud: &dyn ClientVpnApi,
        region: &str,
        id: &str,
    ) -> Result<(Option<ObservedEndpoint>, Instant), CloudError> {
        let snapshot = self.snapshot(cloud, region, Freshness::Current).await?;
        Ok((snapshot.endpoints.get(id).cloned(), snapshot.taken_at))
    }

    /// Endpoints tagged `key=value` in the latest listing, or in one started at or after
    /// `listed_after`. An older listing is good enough to decide a create: the operator only
    /// looks for its own endpoints this way, and one it created after that listing is found
    /// again through the create call's idempotency token. A deletion has no such second chance.
    pub async fn tagged(
        &self,
        cloud: &dyn ClientVpnApi,
        region: &str,
        key: &str,
        value: &str,
        listed_after: Option<Instant>,
    ) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let freshness = listed_after.map_or(Freshness::Any, Freshness::Since);
        let snapshot = self.snapshot(cloud, region, freshness).await?;
        let mut found: Vec<ObservedEndpoint> = snapshot
            .endpoints
            .values()
            .filter(|e| e.has_tag(key, value))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    /// How many endpoints the region holds that count against its quota (all but `deleted`
    /// ones), by the current listing.
    pub async fn live_count(
        &self,
        cloud: &dyn ClientVpnApi,
        region: &str,
    ) -> Result<usize, CloudError> {
        let snapshot = self.snapshot(cloud, region, Freshness::Current).await?;
        Ok(snapshot
            .endpoints
            .values()
            .filter(|e| e.status_code != status_code::DELETED)
            .count())
    }

    /// Drop the region's listing so that the next lookup lists again.
    pub async fn invalidate(&self, region: &str) {
        self.slot(region).lock().await.snapshot = None;
    }

    /// Yields once after each listing that differs from the region's previous one (an endpoint
    /// appeared, disappeared or changed), so that every object can be checked against it.
    pub fn changes(&self) -> impl Stream<Item = ()> + Send + 'static {
        let receiver = self.changes.subscribe();
        futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.changed().await.ok()?;
            Some(((), receiver))
        })
    }

    fn slot(&self, region: &str) -> Slot {
        let mut regions = self.regions.lock().unwrap_or_else(|p| p.into_inner());
        regions.entry(AwsScope::region(region)).or_default().clone()
    }

    async fn snapshot(
        &self,
        cloud: &dyn ClientVpnApi,
        region: &str,
        freshness: Freshness,
    ) -> Result<Arc<Snapshot>, CloudError> {
        let slot = self.slot(region);
        let arrived = Instant::now();
        let mut current = slot.lock().await;
        let usable = current.snapshot.as_ref().filter(|s| match freshness {
            Freshness::Current => s.taken_at.elapsed() < self.max_age,
            Freshness::Any => true,
            Freshness::Since(since) => s.taken_at >= since,
        });
        if let Some(snapshot) = usable {
            return Ok(snapshot.clone());
        }
        // Whoever waited while a listing failed gets that failure instead of trying again.
        if let Some((_, err)) = current.failure.as_ref().filter(|(at, _)| *at >= arrived) {
            return Err(err.clone());
        }
        let taken_at = Instant::now();
        let endpoints = match cloud.list_endpoints(region).await {
            Ok(listed) => listed.into_iter().map(|e| (e.id.clone(), e)).collect(),
            Err(err) => {
                current.failure = Some((Instant::now(), err.clone()));
                return Err(err);
            }
        };
        let next = Arc::new(Snapshot {
            taken_at,
            endpoints,
        });
        if current
            .snapshot
            .as_ref()
            .is_some_and(|previous| previous.endpoints != next.endpoints)
        {
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        current.snapshot = Some(next.clone());
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::endpoint::FakeCloud;

    const REGION: &str = "eu-west-1";

    fn endpoint(id: &str, uid: &str) -> ObservedEndpoint {
        ObservedEndpoint {
            id: id.into(),
            status_code: "pending-associate".into(),
            tags: [("clientvpn.io/uid".to_string(), uid.to_string())].into(),
            ..Default::default()
        }
    }

    /// AWS holding these endpoints: (ID, owner UID) each.
    fn aws(endpoints: &[(&str, &str)]) -> FakeCloud {
        let cloud = FakeCloud::default();
        for (id, uid) in endpoints {
            cloud.insert(endpoint(id, uid));
        }
        cloud
    }

    fn listings(cloud: &FakeCloud) -> usize {
        cloud.take_calls().iter().filter(|c| *c == "List").count()
    }

    #[tokio::test(start_paused = true)]
    async fn one_listing_serves_every_lookup_until_it_is_older_than_max_age() {
        let cloud = aws(&[("cvpn-endpoint-1", "a"), ("cvpn-endpoint-2", "b")]);
        let inventory = Inventory::new(Duration::from_secs(300));
        for id in ["cvpn-endpoint-1", "cvpn-endpoint-2", "cvpn-endpoint-1"] {
            let (found, _) = inventory.endpoint(&cloud, REGION, id).await.expect("ok");
            assert_eq!(found.map(|e| e.id).as_deref(), Some(id));
        }
        assert_eq!(listings(&cloud), 1);
        tokio::time::advance(Duration::from_secs(299)).await;
        inventory
            .endpoint(&cloud, REGION, "cvpn-endpoint-1")
            .await
            .expect("ok");
        assert_eq!(listings(&cloud), 0, "still current");
        tokio::time::advance(Duration::from_secs(1)).await;
        inventory
            .endpoint(&cloud, REGION, "cvpn-endpoint-1")
            .await
            .expect("ok");
        assert_eq!(listings(&cloud), 1, "an old listing is renewed");
        inventory
            .endpoint(&cloud, "us-east-1", "cvpn-endpoint-1")
            .await
            .expect("ok");
        assert_eq!(listings(&cloud), 1, "each region has its own listing");
    }

    #[tokio::test(start_paused = true)]
    async fn lookups_at_the_same_time_share_one_listing() {
        let cloud = aws(&[("cvpn-endpoint-1", "a")]);
        let inventory = Inventory::new(Duration::from_secs(300));
        let lookups = (0..20).map(|_| inventory.endpoint(&cloud, REGION, "cvpn-endpoint-1"));
        for found in futures::future::join_all(lookups).await {
            assert!(found.expect("ok").0.is_some());
        }
        assert_eq!(listings(&cloud), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn lookups_waiting_for_a_failed_listing_share_its_error() {
        let cloud = FakeCloud::default();
        cloud.fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded", 503);
        let inventory = Inventory::new(Duration::from_secs(300));
        let lookups = (0..5).map(|_| inventory.endpoint(&cloud, REGION, "cvpn-endpoint-1"));
        for found in futures::future::join_all(lookups).await {
            assert_eq!(found.expect_err("throttled").code, "RequestLimitExceeded");
        }
        assert_eq!(
            listings(&cloud),
            1,
            "one failed call, not one per waiting object"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            inventory
                .endpoint(&cloud, REGION, "cvpn-endpoint-1")
                .await
                .is_ok(),
            "a later lookup tries again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_endpoint_missing_from_the_listing_is_reported_as_absent() {
        let cloud = FakeCloud::default();
        let inventory = Inventory::new(Duration::from_secs(300));
        let lookup = async || {
            inventory
                .endpoint(&cloud, REGION, "cvpn-endpoint-1")
                .await
                .expect("ok")
                .0
        };
        assert!(lookup().await.is_none());
        cloud.insert(endpoint("cvpn-endpoint-1", "a"));
        assert!(
            lookup().await.is_none(),
            "created after the listing: absent until the next one (callers then describe it)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn tag_lookups_accept_an_older_listing_until_invalidated() {
        let cloud = aws(&[
            ("cvpn-endpoint-2", "a"),
            ("cvpn-endpoint-1", "a"),
            ("cvpn-endpoint-3", "b"),
        ]);
        let inventory = Inventory::new(Duration::from_secs(300));
        let tagged = async |uid: &str| {
            inventory
                .tagged(&cloud, REGION, "clientvpn.io/uid", uid, None)
                .await
                .expect("ok")
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(tagged("a").await, ["cvpn-endpoint-1", "cvpn-endpoint-2"]);
        tokio::time::advance(Duration::from_secs(3600)).await;
        cloud.insert(endpoint("cvpn-endpoint-4", "c"));
        assert!(tagged("c").await.is_empty(), "the older listing is used");
        assert_eq!(listings(&cloud), 1);
        inventory.invalidate(REGION).await;
        assert_eq!(tagged("c").await, ["cvpn-endpoint-4"]);
        assert_eq!(listings(&cloud), 1, "invalidate forces a new listing");
    }

    #[tokio::test(start_paused = true)]
    async fn lookups_that_need_a_listing_newer_than_their_start_share_one() {
        let cloud = aws(&[("cvpn-endpoint-1", "a")]);
        let inventory = Inventory::new(Duration::from_secs(300));
        let lookup = async |uid: &str, since: Instant| {
            inventory
                .tagged(&cloud, REGION, "clientvpn.io/uid", uid, Some(since))
                .await
                .expect("ok")
                .len()
        };
        let before = Instant::now();
        inventory
            .endpoint(&cloud, REGION, "cvpn-endpoint-1")
            .await
            .expect("ok");
        assert_eq!(lookup("a", before).await, 1);
        assert_eq!(listings(&cloud), 1, "a listing started since then serves");

        tokio::time::advance(Duration::from_secs(1)).await;
        cloud.insert(endpoint("cvpn-endpoint-2", "b"));
        let now = Instant::now();
        let (b, c) = tokio::join!(lookup("b", now), lookup("c", now));
        assert_eq!(
            (b, c),
            (1, 0),
            "an endpoint created after the older listing is found"
        );
        assert_eq!(
            listings(&cloud),
            1,
            "lookups waiting together share one new listing"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_changed_listing_is_announced_and_an_unchanged_one_is_not() {
        let cloud = aws(&[("cvpn-endpoint-1", "a")]);
        let inventory = Inventory::new(Duration::from_secs(1));
        let mut changes = Box::pin(inventory.changes());
        let list = async || {
            tokio::time::advance(Duration::from_secs(1)).await;
            inventory
                .endpoint(&cloud, REGION, "cvpn-endpoint-1")
                .await
                .expect("ok");
        };
        list().await;
        list().await;
        assert!(
            futures::poll!(changes.next()).is_pending(),
            "first and unchanged listings are quiet"
        );
        cloud.edit_endpoint("cvpn-endpoint-1", |e| e.status_code = "available".into());
        list().await;
        assert_eq!(
            futures::poll!(changes.next()),
            std::task::Poll::Ready(Some(()))
        );
    }
}
