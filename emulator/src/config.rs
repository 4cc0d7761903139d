//! Start-up configuration and the settings the control API can change at run time: timing of
//! the transitional states, quotas, how strictly certificates are checked, and request-rate
//! throttling.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::{FailNext, Faults};
use crate::throttle::RequestRateLimits;

/// How long the transitional states last. Changes apply to transitions started afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// `associating` → `associated`, `disassociating` → gone, and transit-gateway `pending` → `available`.
    pub association_delay_ms: u64,
    /// `authorizing` → `active`, `revoking` → gone.
    pub rule_delay_ms: u64,
    /// `creating` → `active`, `deleting` → gone.
    pub route_delay_ms: u64,
    /// Endpoint `deleting` → `deleted`.
    pub delete_delay_ms: u64,
    /// How long a `deleted` endpoint stays visible before Describe says NotFound.
    pub deleted_visible_ms: u64,
    /// Imported client certificate revocation list `pending` → `active` (applied).
    pub crl_delay_ms: u64,
    /// Client connection `terminating` → `terminated` (TerminateClientVpnConnections).
    pub terminate_delay_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            association_delay_ms: 2_000,
            rule_delay_ms: 500,
            route_delay_ms: 500,
            delete_delay_ms: 1_000,
            deleted_visible_ms: 60_000,
            crl_delay_ms: 1_000,
            terminate_delay_ms: 200,
        }
    }
}

/// A partial [`Timing`] update (`POST /_emulator/timing`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingUpdate {
    pub association_delay_ms: Option<u64>,
    pub rule_delay_ms: Option<u64>,
    pub route_delay_ms: Option<u64>,
    pub delete_delay_ms: Option<u64>,
    pub deleted_visible_ms: Option<u64>,
    pub crl_delay_ms: Option<u64>,
    pub terminate_delay_ms: Option<u64>,
}

impl Timing {
    pub fn apply(&mut self, update: TimingUpdate) {
        let fields = [
            (&mut self.association_delay_ms, update.association_delay_ms),
            (&mut self.rule_delay_ms, update.rule_delay_ms),
            (&mut self.route_delay_ms, update.route_delay_ms),
            (&mut self.delete_delay_ms, update.delete_delay_ms),
            (&mut self.deleted_visible_ms, update.deleted_visible_ms),
            (&mut self.crl_delay_ms, update.crl_delay_ms),
            (&mut self.terminate_delay_ms, update.terminate_delay_ms),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                *field = value;
            }
        }
    }

    pub fn association(&self) -> Duration {
        Duration::from_millis(self.association_delay_ms)
    }
    pub fn rule(&self) -> Duration {
        Duration::from_millis(self.rule_delay_ms)
    }
    pub fn route(&self) -> Duration {
        Duration::from_millis(self.route_delay_ms)
    }
    pub fn delete(&self) -> Duration {
        Duration::from_millis(self.delete_delay_ms)
    }
    pub fn deleted_visible(&self) -> Duration {
        Duration::from_millis(self.deleted_visible_ms)
    }
    pub fn crl(&self) -> Duration {
        Duration::from_millis(self.crl_delay_ms)
    }
    pub fn terminate(&self) -> Duration {
        Duration::from_millis(self.terminate_delay_ms)
    }
}

/// Quotas, all defaulting to AWS's values (reference: quotas). Scale tests raise
/// `endpoints_per_region` explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Live endpoints per account and region (`ClientVpnEndpointLimitExceeded`); AWS: 5.
    pub endpoints_per_region: usize,
    /// Authorization rules per endpoint (`ClientVpnAuthorizationRuleLimitExceeded`); AWS: 200.
    pub rules_per_endpoint: usize,
    /// Added routes per target network (`ClientVpnRouteLimitExceeded`); AWS: 100.
    pub routes_per_association: usize,
    /// Operations in progress per endpoint (`ConcurrentMutationLimitExceeded`); AWS: 10, not
    /// adjustable.
    pub concurrent_operations_per_endpoint: usize,
    /// Imported ACM certificates per account and region (`LimitExceededException`); AWS: 2,500.
    pub certificates_per_region: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            endpoints_per_region: 5,
            rules_per_endpoint: 200,
            routes_per_association: 100,
            concurrent_operations_per_endpoint: 10,
            certificates_per_region: 2_500,
        }
    }
}

/// Behaviour switches (`GET`/`POST /_emulator/settings`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Accept any well-formed ARN as server certificate or client root chain, as the emulator did
    /// before it emulated ACM. Off (AWS behaviour): the certificate must be imported into the
    /// emulated ACM of the same account and region.
    pub permissive_certificates: bool,
    /// AWS's request-rate token buckets (`aws`, the default) or none (`off`); see
    /// [`crate::throttle`].
    pub request_rate_limits: RequestRateLimits,
}

/// Start-up configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub timing: Timing,
    pub limits: Limits,
    pub settings: Settings,
    pub faults: Faults,
    pub fail_next: Vec<FailNext>,
    /// Seed for resource ids and fault dice; `None` = from the clock.
    pub seed: Option<u64>,
}
