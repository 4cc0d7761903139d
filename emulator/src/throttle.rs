//! Request-rate throttling as AWS does it: one token bucket per account, region and action
//! (EC2 also splits by action class), refilled continuously, a request taking one token or being
//! refused when the bucket is empty. Pure: the caller passes the time in, so the unit tests need
//! no sleeping. The protocol layers say which class a request is ([`BucketClass`]); `server`
//! answers a refusal with the protocol's throttling error.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Whether the buckets apply (`--request-rate-limits`, setting `request_rate_limits`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestRateLimits {
    /// AWS's default bucket sizes (the constants below).
    #[default]
    Aws,
    /// No request-rate throttling.
    Off,
}

impl FromStr for RequestRateLimits {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "aws" => Ok(Self::Aws),
            "off" => Ok(Self::Off),
            other => Err(format!("expected 'aws' or 'off', got {other:?}")),
        }
    }
}

impl fmt::Display for RequestRateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Aws => "aws",
            Self::Off => "off",
        })
    }
}

/// A token bucket's size: it holds at most `capacity` tokens and gains `refill_per_second`
/// tokens per second (fractions included) until full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSize {
    pub capacity: f64,
    pub refill_per_second: f64,
}

/// EC2 non-mutating actions (`Describe*`, `Get*`, `List*`, `Export*`): AWS's default request
/// token bucket, "Request throttling for the Amazon EC2 API",
/// <https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html>.
pub const EC2_NON_MUTATING: BucketSize = BucketSize {
    capacity: 100.0,
    refill_per_second: 20.0,
};

/// EC2 unfiltered and unpaginated non-mutating actions (same page as [`EC2_NON_MUTATING`]).
pub const EC2_UNFILTERED_NON_MUTATING: BucketSize = BucketSize {
    capacity: 50.0,
    refill_per_second: 10.0,
};

/// EC2 mutating actions, every action that is not non-mutating (same page as
/// [`EC2_NON_MUTATING`]).
pub const EC2_MUTATING: BucketSize = BucketSize {
    capacity: 200.0,
    refill_per_second: 5.0,
};

/// ACM, per action: ACM publishes its API quotas in requests per second; the emulator uses one
/// rate for every action, a burst of one second's worth.
pub const ACM_PER_ACTION: BucketSize = BucketSize {
    capacity: 10.0,
    refill_per_second: 10.0,
};

/// Which bucket size a request draws from. Requests of one action in different classes use
/// separate buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketClass {
    Ec2NonMutating,
    Ec2UnfilteredNonMutating,
    Ec2Mutating,
    Acm,
}

impl BucketClass {
    /// The class of an EC2 request to `action`; `unfiltered_unpaginated` only matters for
    /// `Describe*` actions.
    pub fn ec2(action: &str, unfiltered_unpaginated: bool) -> Self {
        let non_mutating = ["Describe", "Get", "List", "Export"]
            .iter()
            .any(|prefix| action.starts_with(prefix));
        if !non_mutating {
            Self::Ec2Mutating
        } else if unfiltered_unpaginated && action.starts_with("Describe") {
            Self::Ec2UnfilteredNonMutating
        } else {
            Self::Ec2NonMutating
        }
    }

    pub fn size(self) -> BucketSize {
        match self {
            Self::Ec2NonMutating => EC2_NON_MUTATING,
            Self::Ec2UnfilteredNonMutating => EC2_UNFILTERED_NON_MUTATING,
            Self::Ec2Mutating => EC2_MUTATING,
            Self::Acm => ACM_PER_ACTION,
        }
    }
}

/// Tokens left at an instant.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(size: BucketSize, now: Instant) -> Self {
        Self {
            tokens: size.capacity,
            at: now,
        }
    }

    /// Refills up to `now`, then takes a token if there is a whole one.
    fn take(&mut self, size: BucketSize, now: Instant) -> bool {
        // Requests may reach the lock slightly out of order: time never runs backwards here.
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * size.refill_per_second).min(size.capacity);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// (account id, region) as the state is keyed, then the action and its class.
type BucketKey = (String, String, &'static str, BucketClass);

/// Every bucket (created full on first use) and how many requests each action had refused.
#[derive(Debug, Clone, Default)]
pub struct RequestRates {
    buckets: HashMap<BucketKey, Bucket>,
    refused: BTreeMap<&'static str, u64>,
}

/// One request to admit or refuse.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub action: &'static str,
    pub class: BucketClass,
}

impl RequestRates {
    /// Whether `request` may proceed at `now`: it takes a token from its bucket, or is refused
    /// (counted, no token taken) when the bucket is empty. With `Off` every request proceeds
    /// and no bucket changes.
    pub fn admit(&mut self, limits: RequestRateLimits, request: Request<'_>, now: Instant) -> bool {
        if limits == RequestRateLimits::Off {
            return true;
        }
        let size = request.class.size();
        let key = (
            request.account_id.to_owned(),
            request.region.to_owned(),
            request.action,
            request.class,
        );
        let admitted = self
            .buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(size, now))
            .take(size, now);
        if !admitted {
            *self.refused.entry(request.action).or_default() += 1;
        }
        admitted
    }

    /// Refused requests per action since the last counter reset.
    pub fn refused(&self) -> &BTreeMap<&'static str, u64> {
        &self.refused
    }

    pub fn clear_counters(&mut self) {
        self.refused.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const DESCRIBE: &str = "DescribeClientVpnEndpoints";

    fn request(action: &'static str, class: BucketClass) -> Request<'static> {
        Request {
            account_id: "206580106948",
            region: "us-east-1",
            action,
            class,
        }
    }

    /// How many of `n` requests at `now` are admitted.
    fn burst(rates: &mut RequestRates, request: Request<'_>, n: usize, now: Instant) -> usize {
        (0..n)
            .filter(|_| rates.admit(RequestRateLimits::Aws, request, now))
            .count()
    }

    #[test]
    fn classes_follow_the_action_names() {
        use BucketClass::*;
        assert_eq!(BucketClass::ec2(DESCRIBE, false), Ec2NonMutating);
        assert_eq!(BucketClass::ec2(DESCRIBE, true), Ec2UnfilteredNonMutating);
        let export = "ExportClientVpnClientConfiguration";
        assert_eq!(BucketClass::ec2(export, true), Ec2NonMutating);
        for mutating in ["CreateTags", "ApplySecurityGroupsToClientVpnTargetNetwork"] {
            assert_eq!(BucketClass::ec2(mutating, true), Ec2Mutating);
        }
        assert_eq!(Ec2Mutating.size(), EC2_MUTATING);
    }

    #[test]
    fn a_bucket_drains_at_its_capacity() {
        let now = Instant::now();
        for (class, capacity) in [
            (BucketClass::Ec2NonMutating, 100),
            (BucketClass::Ec2UnfilteredNonMutating, 50),
            (BucketClass::Ec2Mutating, 200),
            (BucketClass::Acm, 10),
        ] {
            let mut rates = RequestRates::default();
            let r = request(DESCRIBE, class);
            assert_eq!(
                burst(&mut rates, r, capacity + 5, now),
                capacity,
                "{class:?}"
            );
            assert_eq!(rates.refused()[DESCRIBE], 5);
        }
    }

    #[test]
    fn an_empty_bucket_refills_at_its_rate_up_to_its_capacity() {
        let start = Instant::now();
        let mut rates = RequestRates::default();
        let r = request(DESCRIBE, BucketClass::Ec2NonMutating);
        assert_eq!(burst(&mut rates, r, 100, start), 100);
        // 20 tokens per second: one every 50 ms, fractions kept.
        assert!(!rates.admit(RequestRateLimits::Aws, r, start + Duration::from_millis(40)));
        assert!(rates.admit(RequestRateLimits::Aws, r, start + Duration::from_millis(60)));
        let later = start + Duration::from_millis(1_060);
        assert_eq!(burst(&mut rates, r, 30, later), 20);
        // Never more than the capacity, however long it rests.
        let much_later = later + Duration::from_secs(3_600);
        assert_eq!(burst(&mut rates, r, 150, much_later), 100);
        // A request from the past (out of order at the lock) adds nothing.
        assert!(!rates.admit(RequestRateLimits::Aws, r, start));
    }

    #[test]
    fn refused_requests_take_no_token() {
        let start = Instant::now();
        let mut rates = RequestRates::default();
        let r = request("CreateTags", BucketClass::Ec2Mutating);
        assert_eq!(burst(&mut rates, r, 1_000, start), 200);
        assert_eq!(rates.refused()["CreateTags"], 800);
        // 5 per second: after one second exactly 5, whatever was refused meanwhile.
        assert_eq!(burst(&mut rates, r, 10, start + Duration::from_secs(1)), 5);
        rates.clear_counters();
        assert!(rates.refused().is_empty());
    }

    #[test]
    fn each_action_class_account_and_region_has_its_own_bucket() {
        let now = Instant::now();
        let mut rates = RequestRates::default();
        let endpoints = request(DESCRIBE, BucketClass::Ec2NonMutating);
        assert_eq!(burst(&mut rates, endpoints, 101, now), 100);
        let routes = request("DescribeClientVpnRoutes", BucketClass::Ec2NonMutating);
        assert_eq!(burst(&mut rates, routes, 100, now), 100);
        let unfiltered = request(DESCRIBE, BucketClass::Ec2UnfilteredNonMutating);
        assert_eq!(burst(&mut rates, unfiltered, 50, now), 50);
        let other_region = Request {
            region: "eu-west-1",
            ..endpoints
        };
        assert_eq!(burst(&mut rates, other_region, 100, now), 100);
        let other_account = Request {
            account_id: "074686647077",
            ..endpoints
        };
        assert_eq!(burst(&mut rates, other_account, 100, now), 100);
        assert_eq!(rates.refused().len(), 1);
    }

    #[test]
    fn off_admits_everything_and_leaves_the_buckets_alone() {
        let now = Instant::now();
        let mut rates = RequestRates::default();
        let r = request(DESCRIBE, BucketClass::Ec2UnfilteredNonMutating);
        for _ in 0..1_000 {
            assert!(rates.admit(RequestRateLimits::Off, r, now));
        }
        assert!(rates.refused().is_empty());
        assert_eq!(burst(&mut rates, r, 60, now), 50);
    }

    #[test]
    fn cli_values() {
        assert_eq!("aws".parse(), Ok(RequestRateLimits::Aws));
        assert_eq!("off".parse(), Ok(RequestRateLimits::Off));
        assert!("on".parse::<RequestRateLimits>().is_err());
        assert_eq!(RequestRateLimits::default().to_string(), "aws");
        assert_eq!(serde_json::json!(RequestRateLimits::Off), "off");
    }
}
