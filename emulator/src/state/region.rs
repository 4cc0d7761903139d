//! One account's resources in one region, shared by the EC2 and ACM layers.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::{Certificate, Endpoint, EndpointState};
use crate::clock::Now;

/// The original answer to an idempotent request.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    pub response: String,
}

/// Everything one account owns in one region.
#[derive(Debug, Default)]
pub struct Region {
    /// EC2 Client VPN endpoints by id.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// ACM certificates by ARN.
    pub certificates: BTreeMap<String, Certificate>,
    /// Keyed by (action, ClientToken).
    pub idempotency: HashMap<(&'static str, String), IdempotencyRecord>,
    next_due: Option<Instant>,
    seq: u64,
}

impl Region {
    /// A fresh ordering number for sub-resources (pagination follows creation order).
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Remembers that something becomes due at `at`.
    pub fn schedule(&mut self, at: Option<Instant>) {
        self.next_due = match (self.next_due, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Applies every transition due at `now` (cheap when nothing is due).
    pub fn advance(&mut self, now: &Now) {
        if self.next_due.is_none_or(|d| d > now.instant) {
            return;
        }
        let seq = &mut self.seq;
        self.endpoints.retain(|_, ep| ep.advance(now, seq));
        self.next_due = self.endpoints.values().filter_map(Endpoint::next_due).min();
    }

    /// Endpoints that count against the per-region quota (not being deleted).
    pub fn live_endpoint_count(&self) -> usize {
        self.endpoints
            .values()
            .filter(|e| !matches!(e.status, EndpointState::Deleting | EndpointState::Deleted))
            .count()
    }
}

impl Region {
    /// Endpoints (not yet `deleted`) that use `arn` as server certificate or client root chain,
    /// in id order: ACM's `InUseBy`.
    pub fn certificate_users(&self, arn: &str) -> Vec<&Endpoint> {
        self.endpoints
            .values()
            .filter(|ep| ep.status != EndpointState::Deleted)
            .filter(|ep| {
                ep.server_certificate_arn == arn
                    || ep
                        .authentication_options
                        .iter()
                        .any(|a| a.client_root_certificate_chain.as_deref() == Some(arn))
            })
            .collect()
    }
}
