//! Per-region pacing of EC2 calls: a concurrency cap, a token-bucket rate limit, and a backoff
//! shared by every caller in the region, so throttling slows the whole region down instead of
//! one object retrying on its own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::CloudError;

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

/// Paces calls region by region; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Pacer {
    config: PacingConfig,
    regions: Mutex<HashMap<String, Arc<RegionPace>>>,
}

#[derive(Debug)]
struct RegionPace {
    in_flight: Semaphore,
    bucket: Mutex<Bucket>,
}

/// Token bucket plus the shared throttling backoff of one region.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
    paused_until: Option<Instant>,
    penalty: Duration,
}

impl Pacer {
    pub fn new(config: PacingConfig) -> Self {
        Self {
            config,
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// Run one call in `region` once the region's limits allow it, and learn from its outcome.
    pub async fn run<T>(
        &self,
        region: &str,
        call: impl Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        let pace = self.region(region);
        let _permit = pace.in_flight.acquire().await;
        while let Some(wait) = self.reserve(&pace, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        let result = call.await;
        let throttled = result.as_ref().err().is_some_and(CloudError::is_throttling);
        self.learn(&pace, throttled, Instant::now());
        result
    }

    /// How long the region is paused by throttling from now, if at all (for metrics and tests).
    pub fn paused_for(&self, region: &str) -> Option<Duration> {
        let pace = self.region(region);
        let bucket = lock(&pace.bucket);
        let now = Instant::now();
        bucket
            .paused_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    fn region(&self, region: &str) -> Arc<RegionPace> {
        let mut regions = lock(&self.regions);
        regions
            .entry(region.to_string())
            .or_insert_with(|| {
                Arc::new(RegionPace {
                    in_flight: Semaphore::new(self.config.concurrency.max(1)),
                    bucket: Mutex::new(Bucket {
                        tokens: f64::from(self.config.burst.max(1)),
                        refilled_at: Instant::now(),
                        paused_until: None,
                        penalty: Duration::ZERO,
                    }),
                })
            })
            .clone()
    }

    /// Take a token, or say how long to wait for the pause to end or a token to refill.
    fn reserve(&self, pace: &RegionPace, now: Instant) -> Option<Duration> {
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

    /// Throttling pauses the whole region, doubling each time; success halves the next pause.
    fn learn(&self, pace: &RegionPace, throttled: bool, now: Instant) {
        let mut bucket = lock(&pace.bucket);
        if throttled {
            bucket.penalty = if bucket.penalty.is_zero() {
                self.config.backoff_base
            } else {
                (bucket.penalty * 2).min(self.config.backoff_max)
            };
            let until = now + bucket.penalty;
            bucket.paused_until = Some(bucket.paused_until.map_or(until, |u| u.max(until)));
        } else {
            bucket.penalty /= 2;
            if bucket.penalty < self.config.backoff_base / 2 {
                bucket.penalty = Duration::ZERO;
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::cloud::ErrorKind;

    fn throttled() -> CloudError {
        CloudError::from_service(
            "DescribeClientVpnEndpoints",
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

    async fn ok(pacer: &Pacer, region: &str) -> Instant {
        pacer
            .run(region, async { Ok::<_, CloudError>(()) })
            .await
            .expect("ok");
        Instant::now()
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_pauses_every_caller_in_the_region_but_not_other_regions() {
        let pacer = Pacer::new(config());
        let start = Instant::now();
        let err = pacer
            .run("eu-west-1", async { Err::<(), _>(throttled()) })
            .await
            .expect_err("throttled");
        assert_eq!(err.kind, ErrorKind::Retryable);
        assert_eq!(pacer.paused_for("eu-west-1"), Some(Duration::from_secs(1)));
        assert_eq!(ok(&pacer, "us-east-1").await, start, "other regions go on");
        let next = ok(&pacer, "eu-west-1").await;
        assert_eq!(
            next - start,
            Duration::from_secs(1),
            "a call for another object in the same region waits out the shared pause"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_throttling_doubles_the_pause_up_to_the_cap_and_success_relaxes_it() {
        let pacer = Pacer::new(config());
        let mut pauses = Vec::new();
        for _ in 0..5 {
            let _ = pacer.run("r", async { Err::<(), _>(throttled()) }).await;
            pauses.push(pacer.paused_for("r").expect("paused").as_secs());
        }
        assert_eq!(pauses, [1, 2, 4, 8, 8]);
        for _ in 0..4 {
            ok(&pacer, "r").await;
        }
        let _ = pacer.run("r", async { Err::<(), _>(throttled()) }).await;
        assert_eq!(
            pacer.paused_for("r"),
            Some(Duration::from_secs(1)),
            "after calls succeed again the next pause starts small"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_do_not_pause_the_region() {
        let pacer = Pacer::new(config());
        let invalid = CloudError::from_service(
            "CreateClientVpnEndpoint",
            "InvalidParameterValue",
            "bad",
            Some(400),
            None,
        );
        let _ = pacer.run("r", async { Err::<(), _>(invalid) }).await;
        assert_eq!(pacer.paused_for("r"), None);
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
            offsets.push((ok(&pacer, "r").await - start).as_millis());
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
                pacer
                    .run("r", async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, CloudError>(())
                    })
                    .await
            })
        });
        for call in futures::future::join_all(calls).await {
            call.expect("task").expect("ok");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
