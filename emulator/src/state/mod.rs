//! The bottom layer: everything the protocols share, behind one lock so every request sees a
//! consistent world. Per account and region a [`Region`] holds the EC2 Client VPN endpoints and
//! the ACM certificates; around them sit timing, limits, settings, faults and call counters.
//!
//! Nothing here knows a wire protocol: the `ec2` and `acm` layers above read and change it.

mod certificate;
mod endpoint;
mod region;

pub use certificate::{Certificate, CertificateDetails, ExtendedKeyUsage};
pub use endpoint::*;
pub use region::{IdempotencyRecord, Region};

use std::collections::{BTreeMap, HashMap};

use crate::clock::Now;
use crate::config::{Limits, Settings, Timing};
use crate::faults::{FailNextQueue, Faults};
use crate::ids::Rng;

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
    pub rng: Rng,
}

impl World {
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
            rng,
        }
    }

    /// The caller's region, created on first use, with its due transitions applied.
    pub fn region(&mut self, account_id: &str, region: &str, now: &Now) -> &mut Region {
        let region = self
            .regions
            .entry((account_id.to_owned(), region.to_owned()))
            .or_default();
        region.advance(now);
        region
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

    /// Forgets all resources, counters and faults (timing, limits and settings are kept).
    pub fn reset(&mut self) {
        self.regions.clear();
        self.calls.clear();
        self.faults = Faults::default();
        self.fail_next = FailNextQueue::default();
    }
}
