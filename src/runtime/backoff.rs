//! Per-object retry gate: exponential backoff after retryable errors, a long pause after
//! terminal ones and a fixed one after quota refusals, all forgotten when the spec (generation) or deletion state changes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::ErrorKind;

/// What an entry is valid for: a spec change or a deletion request re-opens the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub generation: Option<i64>,
    pub deleting: bool,
}

impl Attempt {
    /// The attempt an object's metadata describes: its generation and whether it is deleting.
    pub fn of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Self {
        Self {
            generation: meta.generation,
            deleting: meta.deletion_timestamp.is_some(),
        }
    }
}

#[derive(Debug)]
struct Entry {
    attempt: Attempt,
    failures: u32,
    retry_at: Instant,
}

/// How long the gate holds an object after each kind of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delays {
    /// First wait after a retryable failure; doubles with each further one.
    pub retry_base: Duration,
    /// Longest wait after retryable failures.
    pub retry_max: Duration,
    /// Wait after a terminal failure when the spec does not change.
    pub stalled_retry: Duration,
    /// Wait after a quota refusal (the quota may be raised, or room made, meanwhile).
    pub quota_retry: Duration,
}

/// Backoff state for every object, keyed by UID.
#[derive(Debug)]
pub struct Backoffs {
    entries: Mutex<HashMap<String, Entry>>,
    delays: Delays,
}

impl Backoffs {
    pub fn new(delays: Delays) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            delays,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long this attempt must still wait, or `None` when it may go ahead.
    pub fn wait(&self, uid: &str, attempt: Attempt, now: Instant) -> Option<Duration> {
        let entries = self.lock();
        let entry = entries.get(uid).filter(|e| e.attempt == attempt)?;
        (entry.retry_at > now).then(|| entry.retry_at - now)
    }

    /// Record a failure and return how long to wait before the next attempt.
    pub fn failed(&self, uid: &str, attempt: Attempt, kind: ErrorKind, now: Instant) -> Duration {
        let mut entries = self.lock();
        let failures = entries
            .get(uid)
            .filter(|e| e.attempt == attempt)
            .map_or(1, |e| e.failures.saturating_add(1));
        let delays = &self.delays;
        let delay = match kind {
            ErrorKind::Terminal => delays.stalled_retry,
            ErrorKind::Quota => delays.quota_retry,
            ErrorKind::Retryable | ErrorKind::NotFound => {
                let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
                delays
                    .retry_base
                    .saturating_mul(factor)
                    .min(delays.retry_max)
            }
        };
        entries.insert(
            uid.to_string(),
            Entry {
                attempt,
                failures,
                retry_at: now + delay,
            },
        );
        delay
    }

    /// The remaining wait recorded for an object, whatever the attempt (for the error policy).
    pub fn remaining(&self, uid: &str, now: Instant) -> Option<Duration> {
        self.lock()
            .get(uid)
            .map(|e| e.retry_at.saturating_duration_since(now))
    }

    /// How many failures in a row the object has had (0 when none is recorded).
    pub fn failures(&self, uid: &str) -> u32 {
        self.lock().get(uid).map_or(0, |e| e.failures)
    }

    /// Forget an object's failures (after a success, or once it is gone).
    pub fn clear(&self, uid: &str) {
        self.lock().remove(uid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attempt at `generation`, or at deleting the object.
    const fn attempt(generation: i64, deleting: bool) -> Attempt {
        Attempt {
            generation: Some(generation),
            deleting,
        }
    }

    const SPEC_1: Attempt = attempt(1, false);

    fn backoffs() -> Backoffs {
        Backoffs::new(Delays {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(8),
            stalled_retry: Duration::from_secs(600),
            quota_retry: Duration::from_secs(120),
        })
    }

    #[test]
    fn retryable_failures_double_up_to_the_cap() {
        let b = backoffs();
        let now = Instant::now();
        let delays: Vec<u64> = (0..6)
            .map(|_| b.failed("u", SPEC_1, ErrorKind::Retryable, now).as_secs())
            .collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 8, 8]);
    }

    #[test]
    fn the_gate_holds_until_the_delay_passes() {
        let b = backoffs();
        let now = Instant::now();
        b.failed("u", SPEC_1, ErrorKind::Retryable, now);
        assert_eq!(b.wait("u", SPEC_1, now), Some(Duration::from_secs(1)));
        assert_eq!(b.wait("u", SPEC_1, now + Duration::from_secs(1)), None);
        assert_eq!(b.wait("other", SPEC_1, now), None);
    }

    #[test]
    fn quota_refusals_wait_their_own_interval_without_doubling() {
        let b = backoffs();
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                b.failed("u", SPEC_1, ErrorKind::Quota, now),
                Duration::from_secs(120)
            );
        }
    }

    #[test]
    fn terminal_failures_wait_until_the_spec_changes() {
        let b = backoffs();
        let now = Instant::now();
        assert_eq!(
            b.failed("u", SPEC_1, ErrorKind::Terminal, now),
            Duration::from_secs(600)
        );
        assert!(
            b.wait("u", SPEC_1, now + Duration::from_secs(300))
                .is_some()
        );
        let spec_2 = attempt(2, false);
        assert_eq!(
            b.wait("u", spec_2, now),
            None,
            "a new generation goes ahead at once"
        );
        let deleting = attempt(1, true);
        assert_eq!(
            b.wait("u", deleting, now),
            None,
            "a deletion request goes ahead at once"
        );
    }

    #[test]
    fn clear_forgets_failures() {
        let b = backoffs();
        let now = Instant::now();
        b.failed("u", SPEC_1, ErrorKind::Retryable, now);
        b.failed("u", SPEC_1, ErrorKind::Retryable, now);
        assert_eq!(b.failures("u"), 2);
        b.clear("u");
        assert_eq!(b.failures("u"), 0);
        assert_eq!(b.wait("u", SPEC_1, now), None);
        assert_eq!(
            b.failed("u", SPEC_1, ErrorKind::Retryable, now),
            Duration::from_secs(1)
        );
    }
}
