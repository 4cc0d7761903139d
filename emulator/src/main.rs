//! `clientvpn-emulator` command line: parse flags, bind, print the address, serve.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use clientvpn_emulator::{
    AppState, Config, FailNext, Faults, Limits, RequestRateLimits, Settings, Timing, app,
};
#[cfg(unix)]
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

/// Offline emulator of the AWS EC2 Client VPN API (EC2 Query protocol, API 2016-11-15) and of
/// the ACM certificate actions it relies on (AWS JSON 1.1), both on the same address.
///
/// Point an AWS SDK at it with endpoint_url=http://ADDR (any access key and secret; the region and
/// account are taken from the request signature). The first line on stdout is the bound address;
/// logs go to stderr. A JSON control API lives under /_emulator/ (see emulator/README.md).
#[derive(Debug, Parser)]
#[command(name = "clientvpn-emulator", version, about, long_about)]
struct Args {
    /// Address to listen on. Port 0 picks a free port; the bound address is printed on stdout.
    #[arg(
        long,
        env = "CLIENTVPN_EMULATOR_LISTEN",
        default_value = "127.0.0.1:4566"
    )]
    listen: SocketAddr,

    /// Milliseconds an association spends `associating` (and `disassociating`), and a
    /// transit-gateway endpoint spends `pending`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_ASSOCIATION_DELAY_MS", default_value_t = Timing::default().association_delay_ms)]
    association_delay_ms: u64,

    /// Milliseconds an authorization rule spends `authorizing` / `revoking`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_RULE_DELAY_MS", default_value_t = Timing::default().rule_delay_ms)]
    rule_delay_ms: u64,

    /// Milliseconds a route spends `creating` / `deleting`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_ROUTE_DELAY_MS", default_value_t = Timing::default().route_delay_ms)]
    route_delay_ms: u64,

    /// Milliseconds an endpoint spends `deleting` before it becomes `deleted`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_DELETE_DELAY_MS", default_value_t = Timing::default().delete_delay_ms)]
    delete_delay_ms: u64,

    /// Milliseconds a `deleted` endpoint stays visible before Describe reports NotFound.
    #[arg(long, env = "CLIENTVPN_EMULATOR_DELETED_VISIBLE_MS", default_value_t = Timing::default().deleted_visible_ms)]
    deleted_visible_ms: u64,

    /// Milliseconds an imported client certificate revocation list stays `pending` before it
    /// is `active` (applied to connecting clients).
    #[arg(long, env = "CLIENTVPN_EMULATOR_CRL_DELAY_MS", default_value_t = Timing::default().crl_delay_ms)]
    crl_delay_ms: u64,

    /// Milliseconds a client connection spends `terminating` before it is `terminated`.
    #[arg(long, env = "CLIENTVPN_EMULATOR_TERMINATE_DELAY_MS", default_value_t = Timing::default().terminate_delay_ms)]
    terminate_delay_ms: u64,

    /// Endpoints per account and region (ClientVpnEndpointLimitExceeded beyond), AWS's default
    /// quota. Raise it for scale tests.
    #[arg(long, env = "CLIENTVPN_EMULATOR_MAX_ENDPOINTS_PER_REGION", default_value_t = Limits::default().endpoints_per_region)]
    max_endpoints_per_region: usize,

    /// Authorization rules per endpoint (ClientVpnAuthorizationRuleLimitExceeded beyond).
    #[arg(long, env = "CLIENTVPN_EMULATOR_MAX_RULES_PER_ENDPOINT", default_value_t = Limits::default().rules_per_endpoint)]
    max_rules_per_endpoint: usize,

    /// Routes added per target network (ClientVpnRouteLimitExceeded beyond).
    #[arg(long, env = "CLIENTVPN_EMULATOR_MAX_ROUTES_PER_ASSOCIATION", default_value_t = Limits::default().routes_per_association)]
    max_routes_per_association: usize,

    /// Operations in progress per endpoint (associate/disassociate, authorize/revoke, create/delete
    /// route, apply security groups); one more gets ConcurrentMutationLimitExceeded. AWS: 10.
    #[arg(long, env = "CLIENTVPN_EMULATOR_MAX_CONCURRENT_OPERATIONS_PER_ENDPOINT", default_value_t = Limits::default().concurrent_operations_per_endpoint)]
    max_concurrent_operations_per_endpoint: usize,

    /// Imported ACM certificates per account and region (LimitExceededException beyond). AWS: 2500.
    #[arg(long, env = "CLIENTVPN_EMULATOR_MAX_CERTIFICATES_PER_REGION", default_value_t = Limits::default().certificates_per_region)]
    max_certificates_per_region: usize,

    /// Accept any well-formed ARN as server certificate / client root chain on
    /// CreateClientVpnEndpoint and ModifyClientVpnEndpoint (the behaviour before ACM was
    /// emulated). Default: the certificate must be imported into the emulated ACM of the same
    /// account and region, as on AWS.
    #[arg(long, env = "CLIENTVPN_EMULATOR_PERMISSIVE_CERTIFICATES")]
    permissive_certificates: bool,

    /// Request-rate throttling: `aws` gives every account, region and action its own token
    /// bucket of AWS's default size (EC2: 100 tokens + 20/s for non-mutating actions, 50 + 10/s
    /// for unfiltered unpaginated Describe calls, 200 + 5/s for mutating ones; ACM: 10 + 10/s)
    /// and answers RequestLimitExceeded (ACM: ThrottlingException) when it is empty; `off`
    /// disables it.
    #[arg(long, env = "CLIENTVPN_EMULATOR_REQUEST_RATE_LIMITS", value_name = "aws|off", default_value_t = RequestRateLimits::Aws)]
    request_rate_limits: RequestRateLimits,

    /// Probability (0-1) that a call fails with RequestLimitExceeded (HTTP 503) before it is applied.
    #[arg(
        long,
        env = "CLIENTVPN_EMULATOR_THROTTLE_PROBABILITY",
        default_value_t = 0.0
    )]
    throttle_probability: f64,

    /// Probability (0-1) that a call fails with InternalError (HTTP 500) before it is applied.
    #[arg(
        long,
        env = "CLIENTVPN_EMULATOR_INTERNAL_ERROR_PROBABILITY",
        default_value_t = 0.0
    )]
    internal_error_probability: f64,

    /// Milliseconds added after a call is applied and before its response is sent.
    #[arg(long, env = "CLIENTVPN_EMULATOR_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,

    /// Comma-separated action names the three options above apply to (default: all actions).
    #[arg(long, env = "CLIENTVPN_EMULATOR_FAULT_ACTIONS", value_delimiter = ',')]
    fault_actions: Option<Vec<String>>,

    /// Fail upcoming calls: ACTION[:COUNT[:CODE[:after-apply]]], e.g.
    /// `CreateClientVpnEndpoint:2:InternalError`. Repeatable (comma-separated in the env var).
    #[arg(long, env = "CLIENTVPN_EMULATOR_FAIL_NEXT", value_delimiter = ',', value_parser = FailNext::parse_cli)]
    fail_next: Vec<FailNext>,

    /// Seed for resource ids and fault dice, for reproducible runs (default: from the clock).
    #[arg(long, env = "CLIENTVPN_EMULATOR_SEED")]
    seed: Option<u64>,

    /// Log filter (tracing EnvFilter syntax); `debug` logs every request.
    #[arg(long, env = "CLIENTVPN_EMULATOR_LOG", default_value = "info")]
    log: String,
}

impl Args {
    fn split(self) -> (SocketAddr, String, Config) {
        let Self {
            listen,
            association_delay_ms,
            rule_delay_ms,
            route_delay_ms,
            delete_delay_ms,
            deleted_visible_ms,
            crl_delay_ms,
            terminate_delay_ms,
            max_endpoints_per_region,
            max_rules_per_endpoint,
            max_routes_per_association,
            max_concurrent_operations_per_endpoint,
            max_certificates_per_region,
            permissive_certificates,
            request_rate_limits,
            throttle_probability,
            internal_error_probability,
            latency_ms,
            fault_actions,
            fail_next,
            seed,
            log,
        } = self;
        let config = Config {
            timing: Timing {
                association_delay_ms,
                rule_delay_ms,
                route_delay_ms,
                delete_delay_ms,
                deleted_visible_ms,
                crl_delay_ms,
                terminate_delay_ms,
            },
            limits: Limits {
                endpoints_per_region: max_endpoints_per_region,
                rules_per_endpoint: max_rules_per_endpoint,
                routes_per_association: max_routes_per_association,
                concurrent_operations_per_endpoint: max_concurrent_operations_per_endpoint,
                certificates_per_region: max_certificates_per_region,
            },
            settings: Settings {
                permissive_certificates,
                request_rate_limits,
            },
            faults: Faults {
                throttle_probability,
                internal_error_probability,
                latency_ms,
                actions: fault_actions,
            },
            fail_next,
            seed,
        };
        (listen, log, config)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (listen, log, config) = Args::parse().split();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_new(&log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let state = match AppState::new(config) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("clientvpn-emulator: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("clientvpn-emulator: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("clientvpn-emulator: cannot read bound address: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Contract: the first stdout line is the bound address, flushed immediately.
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{bound}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    tracing::info!(address = %bound, "clientvpn-emulator listening");

    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clientvpn-emulator: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown() {
    let term = async {
        #[cfg(unix)]
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
