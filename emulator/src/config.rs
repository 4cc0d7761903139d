//! Start-up configuration and the settings the control API can change at run time: timing of
//! the transitional states, quotas, how strictly certificates are checked, and request-rate
//! throttling.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::{FailNext, Faults};
use crate::throttle::RequestRateLimits;

/// How long the transitional states last, in milliseconds. Changes apply to transitions
/// started afterwards. Also the command line's timing flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Milliseconds an association spends `associating` (and `disassociating`), and a
    /// transit-gateway endpoint spends `pending`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_ASSOCIATION_DELAY_MS", default_value_t = Timing::default().association_delay_ms)]
    pub association_delay_ms: u64,
    /// Milliseconds an authorization rule spends `authorizing` / `revoking`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_RULE_DELAY_MS", default_value_t = Timing::default().rule_delay_ms)]
    pub rule_delay_ms: u64,
    /// Milliseconds a route spends `creating` / `deleting`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_ROUTE_DELAY_MS", default_value_t = Timing::default().route_delay_ms)]
    pub route_delay_ms: u64,
    /// Milliseconds an endpoint spends `deleting` before it becomes `deleted`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_DELETE_DELAY_MS", default_value_t = Timing::default().delete_delay_ms)]
    pub delete_delay_ms: u64,
    /// Milliseconds a `deleted` endpoint stays visible before Describe reports NotFound.
    #[arg(long, env = "CLIENTVPN_EMULATOR_DELETED_VISIBLE_MS", default_value_t = Timing::default().deleted_visible_ms)]
    pub deleted_visible_ms: u64,
    /// Milliseconds an imported client certificate revocation list stays `pending` before it
    /// is `active` (applied to connecting clients).
    #[arg(long, env = "CLIENTVPN_EMULATOR_CRL_DELAY_MS", default_value_t = Timing::default().crl_delay_ms)]
    pub crl_delay_ms: u64,
    /// Milliseconds a client connection spends `terminating` before it is `terminated`
    /// (TerminateClientVpnConnections).
    #[arg(long, env = "CLIENTVPN_EMULATOR_TERMINATE_DELAY_MS", default_value_t = Timing::default().terminate_delay_ms)]
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
/// `endpoints_per_region` explicitly. Also the command line's `--max-*` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Endpoints per account and region (ClientVpnEndpointLimitExceeded beyond), AWS's default
    /// quota: 5. Raise it for scale tests.
    #[arg(long = "max-endpoints-per-region", env = "CLIENTVPN_EMULATOR_MAX_ENDPOINTS_PER_REGION", default_value_t = Limits::default().endpoints_per_region)]
    pub endpoints_per_region: usize,
    /// Authorization rules per endpoint (ClientVpnAuthorizationRuleLimitExceeded beyond). AWS: 200.
    #[arg(long = "max-rules-per-endpoint", env = "CLIENTVPN_EMULATOR_MAX_RULES_PER_ENDPOINT", default_value_t = Limits::default().rules_per_endpoint)]
    pub rules_per_endpoint: usize,
    /// Routes added per target network (ClientVpnRouteLimitExceeded beyond). AWS: 100.
    #[arg(long = "max-routes-per-association", env = "CLIENTVPN_EMULATOR_MAX_ROUTES_PER_ASSOCIATION", default_value_t = Limits::default().routes_per_association)]
    pub routes_per_association: usize,
    /// Operations in progress per endpoint (associate/disassociate, authorize/revoke,
    /// create/delete route, apply security groups); one more gets
    /// ConcurrentMutationLimitExceeded. AWS: 10, not adjustable.
    #[arg(long = "max-concurrent-operations-per-endpoint", env = "CLIENTVPN_EMULATOR_MAX_CONCURRENT_OPERATIONS_PER_ENDPOINT", default_value_t = Limits::default().concurrent_operations_per_endpoint)]
    pub concurrent_operations_per_endpoint: usize,
    /// Imported ACM certificates per account and region (LimitExceededException beyond). AWS: 2,500.
    #[arg(long = "max-certificates-per-region", env = "CLIENTVPN_EMULATOR_MAX_CERTIFICATES_PER_REGION", default_value_t = Limits::default().certificates_per_region)]
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

/// Behaviour switches (`GET`/`POST /_emulator/settings`). Also command-line flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Accept any well-formed ARN as server certificate / client root chain on
    /// CreateClientVpnEndpoint and ModifyClientVpnEndpoint (the behaviour before ACM was
    /// emulated). Default: the certificate must be imported into the emulated ACM of the same
    /// account and region, as on AWS.
    #[arg(long, env = "CLIENTVPN_EMULATOR_PERMISSIVE_CERTIFICATES")]
    pub permissive_certificates: bool,
    /// Request-rate throttling: `aws` gives every account, region and action its own token
    /// bucket of AWS's default size (EC2: 100 tokens + 20/s for non-mutating actions, 50 + 10/s
    /// for unfiltered unpaginated Describe calls, 200 + 5/s for mutating ones; ACM: 10 + 10/s)
    /// and answers RequestLimitExceeded (ACM: ThrottlingException) when it is empty; `off`
    /// disables it.
    #[arg(long, env = "CLIENTVPN_EMULATOR_REQUEST_RATE_LIMITS", value_name = "aws|off", default_value_t = RequestRateLimits::Aws)]
    pub request_rate_limits: RequestRateLimits,
}

/// Start-up configuration, which is also the command line (every flag has an environment
/// variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Config {
    #[command(flatten)]
    pub timing: Timing,
    #[command(flatten)]
    pub limits: Limits,
    #[command(flatten)]
    pub settings: Settings,
    #[command(flatten)]
    pub faults: Faults,
    /// Fail upcoming calls: ACTION[:COUNT[:CODE[:after-apply]]], e.g.
    /// `CreateClientVpnEndpoint:2:InternalError`. Repeatable (comma-separated in the env var).
    #[arg(long, env = "CLIENTVPN_EMULATOR_FAIL_NEXT", value_delimiter = ',', value_parser = FailNext::parse_cli)]
    pub fail_next: Vec<FailNext>,
    /// Seed for resource ids and fault dice, for reproducible runs (default: from the clock).
    #[arg(long, env = "CLIENTVPN_EMULATOR_SEED")]
    pub seed: Option<u64>,
}
