//! Client-side pacing of AWS calls, shaped like AWS's own throttling: a token bucket per
//! (region, action), sized by the action's class ([`CallClass`]) with EC2's published defaults
//! (see `docs/aws-limits.md`), plus a cap on calls in flight per region.
//!
//! The pacer works per HTTP attempt (see [`super::attempt`]): [`Pacer::admit`] is awaited before
//! each attempt goes on the wire, and [`Pacer::learn`] hears how it ended. A throttling answer
//! empties that action's bucket, so the next attempts of the action wait for tokens that AWS
//! will also have refilled; other actions and regions go on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::{AwsScope, CallClass, Operation};

/// One token bucket's shape: refill rate and capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Tokens added per second; `0` means unlimited.
    pub per_second: f64,
    /// Bucket capacity: calls that may start at once after a quiet period (at least 1).
    pub burst: u32,
}

impl Rate {
    /// EC2's bucket for non-mutating actions (`Describe*`, …): 20 per second, 100 deep.
    pub const EC2_NON_MUTATING: Rate = Rate {
        per_second: 20.0,
        burst: 100,
    };
    /// EC2's bucket for mutating actions: 5 per second, 200 deep.
    pub const EC2_MUTATING: Rate = Rate {
        per_second: 5.0,
        burst: 200,
    };
    /// No limit (tests).
    pub const UNLIMITED: Rate = Rate {
        per_second: 0.0,
        burst: 1,
    };
}

/// Limits that apply to each region (concurrency) and each action in it (rates) separately.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PacingConfig {
    /// Calls in flight at once per region (at least 1).
    pub concurrency: usize,
    /// Bucket of each non-mutating action.
    pub non_mutating: Rate,
    /// Bucket of each mutating action (and of any action outside [`Operation`]).
    pub mutating: Rate,
}

impl Default for PacingConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            non_mutating: Rate::EC2_NON_MUTATING,
            mutating: Rate::EC2_MUTATING,
        }
    }
}

impl PacingConfig {
    /// The bucket shape for `operation` (`None`: an action outside the table, paced as mutating).
    pub fn rate(&self, operation: Option<Operation>) -> Rate {
        match operation.map(Operation::class) {
            Some(CallClass::NonMutating) => self.non_mutating,
            _ => self.mutating,
        }
    }
}

/// Paces calls region by region and action by action; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pacer {
    config: PacingConfig,
    regions: Mutex<HashMap<AwsScope, Arc<Semaphore>>>,
    buckets: Mutex<HashMap<(AwsScope, Option<Operation>), Bucket>>,
}

/// The tokens of one (region, action).
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    refilled_at: Instant,
}

impl Bucket {
    fn full(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            tokens: f64::from(rate.burst.max(1)),
            refilled_at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let capacity = f64::from(self.rate.burst.max(1));
        let elapsed = now.saturating_duration_since(self.refilled_at);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate.per_second).min(capacity);
        self.refilled_at = now;
    }

    /// Take a token, or say how long until one has refilled.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        if self.rate.per_second <= 0.0 {
            return None;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        Some(Duration::from_secs_f64(
            (1.0 - self.tokens) / self.rate.per_second,
        ))
    }
}

/// Leave to send one attempt: holds a concurrency slot until dropped.
#[derive(Debug)]
pub struct Admission {
    _slot: Option<OwnedSemaphorePermit>,
}

impl Pacer {
    pub fn new(config: PacingConfig) -> Self {
        Self {
            config,
            regions: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Wait until `operation` under `key` has a token and the region a free concurrency slot.
    /// The token comes first, so a call waiting for its action's bucket holds no slot that
    /// another action could use. Keep the [`Admission`] while the attempt is in flight.
    pub async fn admit(&self, key: &AwsScope, operation: Option<Operation>) -> Admission {
        while let Some(wait) = self.with_bucket(key, operation, |b, now| b.take(now)) {
            tokio::time::sleep(wait).await;
        }
        // The semaphore is never closed, so acquiring only fails in theory; go on unpaced then.
        let slot = self.slots(key).acquire_owned().await.ok();
        Admission { _slot: slot }
    }

    /// Hear how an attempt ended: a throttling answer empties the action's bucket, so its next
    /// attempts wait for a refill; nothing else changes.
    pub fn learn(&self, key: &AwsScope, operation: Option<Operation>, throttled: bool) {
        if !throttled {
            return;
        }
        self.with_bucket(key, operation, |bucket, _| bucket.tokens = 0.0);
        tracing::debug!(
            region = key.region_name(),
            operation = operation.map(Operation::name),
            "AWS throttled the action; its next calls wait for the bucket to refill"
        );
    }

    /// Tokens left in the bucket of `operation` under `key` now (for metrics and tests).
    pub fn tokens(&self, key: &AwsScope, operation: Option<Operation>) -> f64 {
        self.with_bucket(key, operation, |bucket, now| {
            bucket.refill(now);
            bucket.tokens
        })
    }

    fn with_bucket<T>(
        &self,
        key: &AwsScope,
        operation: Option<Operation>,
        f: impl FnOnce(&mut Bucket, Instant) -> T,
    ) -> T {
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        let bucket = buckets
            .entry((key.clone(), operation))
            .or_insert_with(|| Bucket::full(self.config.rate(operation), now));
        f(bucket, now)
    }

    fn slots(&self, key: &AwsScope) -> Arc<Semaphore> {
        lock(&self.regions)
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.concurrency.max(1))))
            .clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const DESCRIBE: Option<Operation> = Some(Operation::DescribeClientVpnEndpoints);
    const ROUTES: Option<Operation> = Some(Operation::DescribeClientVpnRoutes);
    const AUTHORIZE: Option<Operation> = Some(Operation::AuthorizeClientVpnIngress);

    fn config(rate: Rate) -> PacingConfig {
        PacingConfig {
            concurrency: 4,
            non_mutating: rate,
            mutating: rate,
        }
    }

    /// Offsets from the start, in ms, at which `count` admitted calls of `op` in `region` start.
    async fn offsets(
        pacer: &Pacer,
        region: &str,
        op: Option<Operation>,
        count: usize,
    ) -> Vec<u128> {
        let start = Instant::now();
        let mut offsets = Vec::new();
        for _ in 0..count {
            let _admitted = pacer.admit(&AwsScope::region(region), op).await;
            offsets.push((Instant::now() - start).as_millis());
        }
        offsets
    }

    #[test]
    fn defaults_are_ec2s_published_buckets_by_action_class() {
        let config = PacingConfig::default();
        assert_eq!(config.rate(DESCRIBE), Rate::EC2_NON_MUTATING);
        assert_eq!(config.rate(AUTHORIZE), Rate::EC2_MUTATING);
        assert_eq!(
            config.rate(None),
            Rate::EC2_MUTATING,
            "unknown: the stricter refill"
        );
        assert_eq!(
            (
                Rate::EC2_NON_MUTATING.per_second,
                Rate::EC2_NON_MUTATING.burst
            ),
            (20.0, 100)
        );
        assert_eq!(
            (Rate::EC2_MUTATING.per_second, Rate::EC2_MUTATING.burst),
            (5.0, 200)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_spaces_calls_after_the_burst() {
        let pacer = Pacer::new(config(Rate {
            per_second: 10.0,
            burst: 2,
        }));
        assert_eq!(offsets(&pacer, "r", DESCRIBE, 4).await, [0, 0, 100, 200]);
    }

    #[tokio::test(start_paused = true)]
    async fn each_action_and_each_region_has_its_own_bucket() {
        let pacer = Pacer::new(config(Rate {
            per_second: 1.0,
            burst: 1,
        }));
        assert_eq!(offsets(&pacer, "r", DESCRIBE, 2).await, [0, 1000]);
        assert_eq!(offsets(&pacer, "r", ROUTES, 1).await, [0], "another action");
        assert_eq!(
            offsets(&pacer, "s", DESCRIBE, 1).await,
            [0],
            "another region"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn mutating_and_non_mutating_actions_get_their_class_rate() {
        let pacer = Pacer::new(PacingConfig {
            concurrency: 4,
            non_mutating: Rate {
                per_second: 10.0,
                burst: 1,
            },
            mutating: Rate {
                per_second: 2.0,
                burst: 1,
            },
        });
        assert_eq!(offsets(&pacer, "r", DESCRIBE, 2).await, [0, 100]);
        assert_eq!(offsets(&pacer, "r", AUTHORIZE, 2).await, [0, 500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttling_answer_empties_only_that_actions_bucket() {
        let pacer = Pacer::new(config(Rate {
            per_second: 4.0,
            burst: 10,
        }));
        let key = AwsScope::region("r");
        pacer.learn(&key, DESCRIBE, false);
        assert_eq!(
            pacer.tokens(&key, DESCRIBE),
            10.0,
            "a success takes nothing away"
        );
        pacer.learn(&key, DESCRIBE, true);
        assert_eq!(pacer.tokens(&key, DESCRIBE), 0.0);
        assert_eq!(pacer.tokens(&key, ROUTES), 10.0);
        assert_eq!(
            offsets(&pacer, "r", DESCRIBE, 1).await,
            [250],
            "the next call waits for one token"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_never_waits() {
        let pacer = Pacer::new(config(Rate::UNLIMITED));
        pacer.learn(&AwsScope::region("r"), DESCRIBE, true);
        assert_eq!(offsets(&pacer, "r", DESCRIBE, 3).await, [0, 0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_per_region() {
        let pacer = Arc::new(Pacer::new(PacingConfig {
            concurrency: 2,
            ..config(Rate::UNLIMITED)
        }));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let calls = (0..6).map(|i| {
            let (pacer, running, peak) = (pacer.clone(), running.clone(), peak.clone());
            let op = if i % 2 == 0 { DESCRIBE } else { AUTHORIZE };
            tokio::spawn(async move {
                let _admitted = pacer.admit(&AwsScope::region("r"), op).await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for call in futures::future::join_all(calls).await {
            call.expect("task");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2, "across actions");
    }
}
