//! Per-region pacing of EC2 calls: a concurrency cap, a token-bucket rate limit, and a backoff
//! shared by every caller in the region, so throttling slows the whole region down instead of
//! one object retrying on its own.
//!
//! The pacer works per HTTP attempt (see [`super::attempt`]): [`Pacer::admit`] is awaited before
//! each attempt goes on the wire, and [`Pacer::learn`] hears how it ended.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::AwsScope;

/// Limits that apply to each region separately.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PacingConfig {
    /// Calls in flight at once per region (at least 1).
    pub concurrency: usize,
    /// Sustained calls per second per region; `0` means unlimited.
    pub rate_per_second: f64,
    /// Calls that may start at once after a quiet period (token-bucket size, at least 1).
    pub burst: u32,
    /// First region-wide pause after a throttling answer; doubles while throttling continues.
    pub backoff_base: Duration,
    /// Longest region-wide pause.
    pub backoff_max: Duration,
}

impl Default for PacingConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            rate_per_second: 50.0,
            burst: 100,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// Paces calls key by key (region by region); cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pacer {
    config: PacingConfig,
    keys: Mutex<HashMap<AwsScope, Arc<Pace>>>,
}

/// The limits of one key.
#[derive(Debug)]
struct Pace {
    in_flight: Arc<Semaphore>,
    bucket: Mutex<Bucket>,
}

/// Token bucket plus the shared throttling backoff of one key.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
    paused_until: Option<Instant>,
    penalty: Duration,
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
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Wait until `key`'s limits allow one more attempt: a free concurrency slot, the end of a
    /// throttling pause, and a token. Keep the [`Admission`] while the attempt is in flight.
    pub async fn admit(&self, key: &AwsScope) -> Admission {
        let pace = self.pace(key);
        // The semaphore is never closed, so acquiring only fails in theory; go on unpaced then.
        let slot = pace.in_flight.clone().acquire_owned().await.ok();
        while let Some(wait) = self.reserve(&pace, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        Admission { _slot: slot }
    }

    /// Hear how an attempt under `key` ended: a throttling answer pauses every caller of the key,
    /// doubling the pause while throttling answers follow each other; any other answer starts
    /// the next pause small again (under intermittent throttling the pause stays short instead
    /// of drifting up to the cap).
    pub fn learn(&self, key: &AwsScope, throttled: bool) {
        let pace = self.pace(key);
        let now = Instant::now();
        let mut bucket = lock(&pace.bucket);
        if throttled {
            bucket.penalty = if bucket.penalty.is_zero() {
                self.config.backoff_base
            } else {
                (bucket.penalty * 2).min(self.config.backoff_max)
            };
            let until = now + bucket.penalty;
            bucket.paused_until = Some(bucket.paused_until.map_or(until, |u| u.max(until)));
            tracing::info!(
                region = key.region_name(),
                pause_ms = bucket.penalty.as_millis() as u64,
                "EC2 throttled the region; pausing its calls"
            );
        } else {
            bucket.penalty = Duration::ZERO;
        }
    }

    /// How long `key` is paused by throttling from now, if at all (for metrics and tests).
    pub fn paused_for(&self, key: &AwsScope) -> Option<Duration> {
        let pace = self.pace(key);
        let bucket = lock(&pace.bucket);
        let now = Instant::now();
        bucket
            .paused_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn pace(&self, key: &AwsScope) -> Arc<Pace> {
        let mut keys = lock(&self.keys);
        if let Some(pace) = keys.get(key) {
            return pace.clone();
        }
        let pace = Arc::new(Pace {
            in_flight: Arc::new(Semaphore::new(self.config.concurrency.max(1))),
            bucket: Mutex::new(Bucket {
                tokens: f64::from(self.config.burst.max(1)),
                refilled_at: Instant::now(),
                paused_until: None,
                penalty: Duration::ZERO,
            }),
        });
        keys.insert(key.clone(), pace.clone());
        pace
    }

    /// Take a token, or say how long to wait for the pause to end or a token to refill.
    fn reserve(&self, pace: &Pace, now: Instant) -> Option<Duration> {
        let mut bucket = lock(&pace.bucket);
        if let Some(until) = bucket.paused_until.filter(|until| *until > now) {
            return Some(until - now);
        }
        let rate = self.config.rate_per_second;
        if rate <= 0.0 {
            return None;
        }
        let capacity = f64::from(self.config.burst.max(1));
        let elapsed = now.saturating_duration_since(bucket.refilled_at);
        bucket.tokens = (bucket.tokens + elapsed.as_secs_f64() * rate).min(capacity);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return None;
        }
        Some(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::cloud::{CloudError, ErrorKind, Operation};

    fn throttled() -> CloudError {
        CloudError::from_service(
            Operation::DescribeClientVpnEndpoints.name(),
            "RequestLimitExceeded",
            "Request limit exceeded.",
            Some(503),
            None,
        )
    }

    fn config() -> PacingConfig {
        PacingConfig {
            concurrency: 4,
            rate_per_second: 0.0,
            burst: 1,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(8),
        }
    }

    /// One attempt under `region` that AWS answers with `answer`; returns when it was sent.
    async fn attempt(pacer: &Pacer, region: &str, answer: Result<(), CloudError>) -> Instant {
        let key = AwsScope::region(region);
        let _admitted = pacer.admit(&key).await;
        let sent = Instant::now();
        pacer.learn(&key, answer.err().is_some_and(|e| e.is_throttling()));
        sent
    }

    fn paused_for(pacer: &Pacer, region: &str) -> Option<Duration> {
        pacer.paused_for(&AwsScope::region(region))
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_pauses_every_caller_in_the_region_but_not_other_regions() {
        let pacer = Pacer::new(config());
        let start = Instant::now();
        assert_eq!(throttled().kind, ErrorKind::Retryable);
        attempt(&pacer, "eu-west-1", Err(throttled())).await;
        assert_eq!(
            paused_for(&pacer, "eu-west-1"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            attempt(&pacer, "us-east-1", Ok(())).await,
            start,
            "other regions go on"
        );
        let next = attempt(&pacer, "eu-west-1", Ok(())).await;
        assert_eq!(
            next - start,
            Duration::from_secs(1),
            "a call for another object in the same region waits out the shared pause"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_throttling_doubles_the_pause_up_to_the_cap_and_a_success_resets_it() {
        let pacer = Pacer::new(config());
        let mut pauses = Vec::new();
        for _ in 0..5 {
            attempt(&pacer, "r", Err(throttled())).await;
            pauses.push(paused_for(&pacer, "r").expect("paused").as_secs());
        }
        assert_eq!(pauses, [1, 2, 4, 8, 8]);
        attempt(&pacer, "r", Ok(())).await;
        attempt(&pacer, "r", Err(throttled())).await;
        assert_eq!(
            paused_for(&pacer, "r"),
            Some(Duration::from_secs(1)),
            "after a call succeeds again the next pause starts small"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_do_not_pause_the_region() {
        let pacer = Pacer::new(config());
        let invalid = CloudError::from_service(
            Operation::CreateClientVpnEndpoint.name(),
            "InvalidParameterValue",
            "bad",
            Some(400),
            None,
        );
        attempt(&pacer, "r", Err(invalid)).await;
        assert_eq!(paused_for(&pacer, "r"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_spaces_calls_after_the_burst() {
        let pacer = Pacer::new(PacingConfig {
            rate_per_second: 10.0,
            burst: 2,
            ..config()
        });
        let start = Instant::now();
        let mut offsets = Vec::new();
        for _ in 0..4 {
            offsets.push((attempt(&pacer, "r", Ok(())).await - start).as_millis());
        }
        assert_eq!(offsets, [0, 0, 100, 200]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_capped_per_region() {
        let pacer = Arc::new(Pacer::new(PacingConfig {
            concurrency: 2,
            ..config()
        }));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let calls = (0..6).map(|_| {
            let (pacer, running, peak) = (pacer.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                let _admitted = pacer.admit(&AwsScope::region("r")).await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for call in futures::future::join_all(calls).await {
            call.expect("task");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
