//! The bottom layer: everything the protocols share, behind one lock so every request sees a
//! consistent world. Per account and region a [`Region`] holds the EC2 Client VPN endpoints
//! (with their client connections and revocation lists) and the ACM certificates; around them
//! sit timing, limits, settings, faults, request-rate buckets and call counters.
//!
//! Nothing here knows a wire protocol: the `ec2` and `acm` layers above read and change it.

/// Declares a status enum from its variants and their wire names (serialized and `as_str`).
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub enum $name {
            $($(#[$doc])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
    };
}

mod certificate;
mod connection;
mod endpoint;
mod region;

pub use certificate::{Certificate, CertificateDetails, ExtendedKeyUsage};
pub use connection::{Connection, ConnectionState, Crl, CrlState, TERMINATED_VISIBLE};
pub use endpoint::*;
pub use region::{IdempotencyRecord, Region};

use std::collections::{BTreeMap, HashMap};

use crate::auth::Caller;
use crate::clock::Now;
use crate::config::{Limits, Settings, Timing};
use crate::faults::{FailNextQueue, Faults};
use crate::ids::Rng;
use crate::throttle::RequestRates;

/// Everything behind the lock.
#[derive(Debug)]
pub struct World {
    /// Keyed by (account id, region).
    pub regions: HashMap<(String, String), Region>,
    pub timing: Timing,
    pub limits: Limits,
    pub settings: Settings,
    pub faults: Faults,
    pub fail_next: FailNextQueue,
    /// Requests per action name (EC2 and ACM actions share the map; their names differ).
    pub calls: BTreeMap<&'static str, u64>,
    /// The request-rate token buckets and their refusals per action.
    pub request_rates: RequestRates,
    pub rng: Rng,
}

impl World {
    /// The caller's account and region (created on first use), with every transition due by
    /// `now` applied, and the dice for ids and faults.
    pub fn caller_region(&mut self, caller: &Caller, now: &Now) -> (&mut Region, &mut Rng) {
        let key = (caller.account_id.clone(), caller.region.clone());
        let region = self.regions.entry(key).or_default();
        region.advance(now);
        (region, &mut self.rng)
    }

    pub fn new(
        timing: Timing,
        limits: Limits,
        settings: Settings,
        faults: Faults,
        fail_next: FailNextQueue,
        rng: Rng,
    ) -> Self {
        Self {
            regions: HashMap::new(),
            timing,
            limits,
            settings,
            faults,
            fail_next,
            calls: BTreeMap::new(),
            request_rates: RequestRates::default(),
            rng,
        }
    }

    /// Applies due transitions everywhere (for whole-state reads).
    pub fn advance_all(&mut self, now: &Now) {
        for region in self.regions.values_mut() {
            region.advance(now);
        }
    }

    pub fn count_call(&mut self, action: &'static str) {
        *self.calls.entry(action).or_default() += 1;
    }

    /// Forgets all resources, counters and faults, and refills every request-rate bucket
    /// (timing, limits and settings are kept).
    pub fn reset(&mut self) {
        self.regions.clear();
        self.calls.clear();
        self.request_rates = RequestRates::default();
        self.faults = Faults::default();
        self.fail_next = FailNextQueue::default();
    }
}

/// How many tags a resource with `existing` tags has once `added` are merged in: keys it
/// already has are overwritten, not added.
pub fn tag_count_after<V, W>(existing: &BTreeMap<String, V>, added: &[(String, W)]) -> usize {
    let new_keys = added.iter().filter(|(k, _)| !existing.contains_key(k));
    existing.len() + new_keys.count()
}

/// Whether a tag removal request for a key removes the tag the resource has (`current`,
/// `None` when it has none): without a `wanted` value whatever its value, with one only
/// when the values match.
pub fn tag_removed(current: Option<&str>, wanted: Option<&str>) -> bool {
    match (current, wanted) {
        (Some(_), None) => true,
        (Some(current), Some(wanted)) => current == wanted,
        (None, _) => false,
    }
}
