//! `clientvpn-operator`: `run` the controller, or print the `crd`.
//!
//! `run` serves `/healthz` and `/readyz` (on `--health-addr`) and `/metrics` (on
//! `--metrics-addr`) from the start. It becomes ready once it has listed ClientVpnEndpoints in
//! every watched namespace (the API server is reachable, the CRD is installed, RBAC allows it):
//! from then on the controller's caches can sync. Readiness does not depend on leadership, so a
//! standby replica is ready too (a rolling update can proceed while the old leader still holds
//! the Lease). With `--leader-election`, the controller starts only once this replica holds the
//! Lease; if it loses the Lease the process exits at once (status 1) so that it cannot act beside
//! the new leader, and Kubernetes restarts it as a standby. SIGTERM stops gracefully: not ready,
//! in-flight reconciles finish, the Lease is released so a standby takes over immediately.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use clap::{Args, Parser, Subcommand};
use clientvpn_operator::api::{ClientVpnEndpoint, ClientVpnUser};
use clientvpn_operator::cloud::{AcmCertificates, Ec2ClientVpn, Pacer, PacingConfig, Rate};
use clientvpn_operator::endpoint::{self, Context, MAX_RETRY, Settings};
use clientvpn_operator::http::{self, Health};
use clientvpn_operator::metrics::Metrics;
use clientvpn_operator::runtime::leader::{self, Leadership, LeaseConfig};
use clientvpn_operator::runtime::{
    Backoffs, Cluster, Delays, KubeCluster, StartupError, check_access,
};
use clientvpn_operator::telemetry::{self, LogFormat};
use clientvpn_operator::user;
use futures::future::{BoxFuture, FutureExt, Shared};
use k8s_openapi::api::core::v1::Secret;
use tracing::{error, info};

/// Kubernetes operator for AWS EC2 Client VPN endpoints.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the controller (AWS credentials, region and endpoint come from the standard AWS chain).
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions as YAML: every one, or the one of KIND.
    Crd {
        /// `endpoint` (ClientVpnEndpoint) or `user` (ClientVpnUser); default: both.
        kind: Option<String>,
    },
}

#[derive(Args, Debug)]
#[command(args_override_self = true)]
struct RunArgs {
    /// Region for objects without spec.region. Default: the AWS chain (AWS_REGION, profile, IMDS).
    #[arg(long, env = "CLIENTVPN_REGION")]
    region: Option<String>,

    /// How often every object is compared with AWS when nothing else happens (e.g. 300s, 5m, 1h).
    #[arg(long, env = "CLIENTVPN_RESYNC_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    resync_interval: Duration,

    /// How often the target networks, authorization rules and routes of an endpoint that did
    /// not change are described anyway, to find drift there (0 = only when the endpoint or its
    /// spec changes). Endpoint drift is found every --resync-interval regardless.
    #[arg(long, env = "CLIENTVPN_CHILDREN_RESYNC_INTERVAL", default_value = "24h", value_parser = parse_duration)]
    children_resync_interval: Duration,

    /// EC2 calls in flight at once per region.
    #[arg(long, env = "CLIENTVPN_AWS_CONCURRENCY", default_value_t = PacingConfig::default().concurrency)]
    aws_concurrency: usize,

    /// Sustained calls per second of each non-mutating AWS action (Describe*, List*, Export*)
    /// per region (0 = unlimited). Default: EC2's published bucket (see docs/aws-limits.md).
    #[arg(long, env = "CLIENTVPN_AWS_RATE_LIMIT", default_value_t = Rate::EC2_NON_MUTATING.per_second)]
    aws_rate_limit: f64,

    /// Calls of each non-mutating action that may start at once after a quiet period.
    #[arg(long, env = "CLIENTVPN_AWS_BURST", default_value_t = Rate::EC2_NON_MUTATING.burst)]
    aws_burst: u32,

    /// Sustained calls per second of each mutating AWS action (Create*, Associate*, Authorize*,
    /// Import*, …) per region (0 = unlimited). Default: EC2's published bucket.
    #[arg(long, env = "CLIENTVPN_AWS_MUTATING_RATE_LIMIT", default_value_t = Rate::EC2_MUTATING.per_second)]
    aws_mutating_rate_limit: f64,

    /// Calls of each mutating action that may start at once after a quiet period.
    #[arg(long, env = "CLIENTVPN_AWS_MUTATING_BURST", default_value_t = Rate::EC2_MUTATING.burst)]
    aws_mutating_burst: u32,

    /// How soon to look again while AWS is creating or deleting an endpoint.
    #[arg(long, env = "CLIENTVPN_POLL_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    poll_interval: Duration,

    /// How long an object that failed with a terminal AWS error waits before one more try when
    /// its spec does not change (a spec change retries at once).
    #[arg(long, env = "CLIENTVPN_STALLED_RETRY_INTERVAL", default_value = "30m", value_parser = parse_duration)]
    stalled_retry_interval: Duration,

    /// Operations in progress the operator starts at most on one endpoint (associations, rules,
    /// routes): AWS takes 10 and answers the eleventh with `ConcurrentMutationLimitExceeded`.
    #[arg(long, env = "CLIENTVPN_ENDPOINT_OPERATIONS_LIMIT", default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=10))]
    endpoint_operations_limit: u8,

    /// How long an object refused for an AWS quota (endpoints per Region, rules, routes, ACM
    /// certificates) waits before one more try; the quota may be raised meanwhile.
    #[arg(long, env = "CLIENTVPN_QUOTA_RETRY_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    quota_retry_interval: Duration,

    /// First retry delay after a retryable error (throttling, 5xx); doubles up to 30 seconds.
    #[arg(long, env = "CLIENTVPN_RETRY_BASE", default_value = "2s", value_parser = parse_duration)]
    retry_base: Duration,

    /// Objects reconciled at the same time.
    #[arg(long, env = "CLIENTVPN_CONCURRENCY", default_value_t = 4)]
    concurrency: u16,

    /// Only watch these namespaces (comma-separated, or the flag repeated). Default: all
    /// namespaces. Each namespace gets its own watch and `--concurrency` workers.
    #[arg(long, env = "CLIENTVPN_WATCH_NAMESPACE", value_delimiter = ',')]
    namespace: Vec<String>,

    /// Value of the clientvpn.io/cluster tag on every AWS object the operator creates.
    #[arg(long, env = "CLIENTVPN_CLUSTER_NAME", default_value = "default")]
    cluster_name: String,

    /// Log format.
    #[arg(long, env = "CLIENTVPN_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,

    /// ClientVpnUser objects reconciled at the same time (issuing runs on every core).
    #[arg(long, env = "CLIENTVPN_USER_CONCURRENCY", default_value_t = 8)]
    user_concurrency: u16,

    /// How often the connections of an endpoint are listed while ClientVpnUser objects use it
    /// (one DescribeClientVpnConnections listing per endpoint, shared by its users).
    #[arg(long, env = "CLIENTVPN_CONNECTIONS_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    connections_interval: Duration,

    /// How long a user certificate replaced by a renewal keeps working before it is revoked,
    /// so a person's next connect with the old profile works while they fetch the new one.
    #[arg(long, env = "CLIENTVPN_SUPERSEDED_REVOCATION_DELAY", default_value = "1h", value_parser = parse_duration)]
    superseded_revocation_delay: Duration,

    /// Revocations arriving within this window go into one revocation-list import (every
    /// import resets the endpoint's sessions).
    #[arg(long, env = "CLIENTVPN_REVOCATION_BATCH_WINDOW", default_value = "500ms", value_parser = parse_duration)]
    revocation_batch_window: Duration,

    /// nextUpdate of each revocation list from its signing; the list is re-signed and
    /// re-imported once a sixth of it remains (an expired list locks every client out).
    #[arg(long, env = "CLIENTVPN_CRL_VALIDITY", default_value = "4320h", value_parser = parse_duration)]
    crl_validity: Duration,

    /// Name of this replica in events and the Lease holder identity (e.g. the pod name).
    /// Default for the Lease: `<hostname>-<pid>`.
    #[arg(long, env = "POD_NAME")]
    instance: Option<String>,

    /// Address for `GET /metrics` (Prometheus, OpenMetrics text). Port 0 picks a free port.
    #[arg(long, env = "CLIENTVPN_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,

    /// Address for `GET /healthz` and `GET /readyz` (may equal --metrics-addr).
    #[arg(long, env = "CLIENTVPN_HEALTH_ADDR", default_value = "0.0.0.0:8081")]
    health_addr: SocketAddr,

    /// Reconcile only while holding a Lease, so that one of several replicas acts at a time.
    #[arg(
        long,
        env = "CLIENTVPN_LEADER_ELECTION",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    leader_election: bool,

    /// Namespace of the Lease. Default: the namespace of the kubeconfig context or of the
    /// in-cluster service account.
    #[arg(long, env = "POD_NAMESPACE")]
    leader_election_namespace: Option<String>,

    /// Name of the Lease.
    #[arg(
        long,
        env = "CLIENTVPN_LEASE_NAME",
        default_value = "clientvpn-operator"
    )]
    lease_name: String,

    /// How long the Lease stays valid without renewal: the longest a standby waits to take
    /// over from a leader that died (at least 3s; the leader renews a third of it early).
    #[arg(long, env = "CLIENTVPN_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    lease_duration: Duration,
}

/// Parse `90`, `90s`, `500ms`, `5m` or `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (use e.g. 30s, 5m, 1h)"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(number)),
        "ms" => Ok(Duration::from_millis(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "h" => Ok(Duration::from_secs(number * 3600)),
        _ => Err(format!("unknown unit in {text:?} (use ms, s, m or h)")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd { kind } => {
            let crds = clientvpn_operator::api::crds();
            let chosen: Vec<_> = crds
                .iter()
                .filter(|(name, _)| kind.as_deref().is_none_or(|k| k == *name))
                .collect();
            if chosen.is_empty() {
                eprintln!("unknown kind {kind:?}: use endpoint or user");
                return std::process::ExitCode::FAILURE;
            }
            for (_, yaml) in chosen {
                print!("{yaml}");
            }
            std::process::ExitCode::SUCCESS
        }
        Command::Run(args) => {
            telemetry::init(args.log_format);
            match run(*args).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(err) => {
                    error!("{}", telemetry::error_chain(&err));
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

/// A cloneable "stop now" future.
type Signal = Shared<BoxFuture<'static, ()>>;

async fn run(args: RunArgs) -> Result<(), StartupError> {
    let shutdown: Signal = shutdown_signal().boxed().shared();
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::new());

    let (http_stop_tx, http_stop_rx) = tokio::sync::watch::channel(false);
    let http_stop = signal_from(http_stop_rx);
    let servers = http::bind(vec![
        (args.health_addr, http::health_router(health.clone())),
        (args.metrics_addr, http::metrics_router(metrics.clone())),
    ])
    .await?;
    for (addr, server) in servers {
        info!(%addr, "serving HTTP");
        let stop = http_stop.clone();
        tokio::spawn(async move {
            if let Err(err) = server.serve(stop).await {
                error!(%addr, error = %err, "HTTP server failed");
            }
        });
    }
    let result = operate(args, shutdown, metrics, health).await;
    let _ = http_stop_tx.send(true);
    result
}

/// Attempts per AWS call (the SDK's standard retries with jitter; its default is 3): a throttled
/// or 5xx attempt is retried where it failed, so one bad answer rarely fails a whole pass.
const AWS_MAX_ATTEMPTS: u32 = 5;

/// Everything after the HTTP servers are up.
async fn operate(
    args: RunArgs,
    shutdown: Signal,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
) -> Result<(), StartupError> {
    let retry = RetryConfig::standard().with_max_attempts(AWS_MAX_ATTEMPTS);
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    let default_region = sdk.region().map(|r| r.to_string());
    info!(
        region = default_region.as_deref().unwrap_or("<none>"),
        "AWS configuration loaded"
    );

    let client = kube::Client::try_default()
        .await
        .map_err(StartupError::Client)?;
    check_access::<ClientVpnEndpoint>(&client, &args.namespace).await?;
    check_access::<ClientVpnUser>(&client, &args.namespace).await?;
    // Certificates come from Secrets (read, watched by metadata, written for the managed CA).
    check_access::<Secret>(&client, &args.namespace).await?;
    health.set_ready();

    let mut leadership = if args.leader_election {
        let namespace = args
            .leader_election_namespace
            .clone()
            .unwrap_or_else(|| client.default_namespace().to_string());
        let config = LeaseConfig {
            name: args.lease_name.clone(),
            namespace,
            identity: leader::identity(args.instance.as_deref()),
            duration: args.lease_duration,
        };
        let mut leadership = Leadership::start(client.clone(), config)
            .await
            .map_err(StartupError::Leadership)?;
        tokio::select! {
            acquired = leadership.acquired() => acquired.map_err(StartupError::Leadership)?,
            _ = shutdown.clone() => {
                health.set_not_ready("shutting down");
                leadership.release().await;
                return Ok(());
            }
        }
        Some(leadership)
    } else {
        None
    };
    metrics.set_leader(true);

    let delays = Delays {
        retry_base: args.retry_base,
        retry_max: MAX_RETRY,
        stalled_retry: args.stalled_retry_interval,
        quota_retry: args.quota_retry_interval,
    };
    let settings = Settings {
        default_region,
        cluster_name: args.cluster_name,
        resync_interval: args.resync_interval,
        children_resync_interval: args.children_resync_interval,
        poll_interval: args.poll_interval,
        delays,
        operations_limit: usize::from(args.endpoint_operations_limit),
    };
    let pacing = PacingConfig {
        concurrency: args.aws_concurrency,
        non_mutating: Rate {
            per_second: args.aws_rate_limit,
            burst: args.aws_burst,
        },
        mutating: Rate {
            per_second: args.aws_mutating_rate_limit,
            burst: args.aws_mutating_burst,
        },
    };
    // ACM gets a pacer of its own: its request quotas are separate from EC2's.
    let acm = AcmCertificates::new(sdk.clone(), Arc::new(Pacer::new(pacing)), metrics.clone());
    let ec2 = Arc::new(
        Ec2ClientVpn::new(sdk)
            .with_pacer(Arc::new(Pacer::new(pacing)))
            .with_metrics(metrics.clone()),
    );
    let cluster: Arc<dyn Cluster> = Arc::new(KubeCluster::new(client.clone(), args.instance));
    let users = UserParts {
        client: client.clone(),
        cluster: cluster.clone(),
        metrics: metrics.clone(),
        ec2: ec2.clone(),
        concurrency: args.user_concurrency,
        delays,
        settings: user::Settings {
            resync_interval: args.resync_interval,
            superseded_revocation_delay: args.superseded_revocation_delay,
            publish: user::PublishSettings {
                batch_window: args.revocation_batch_window,
                crl_validity: args.crl_validity,
            },
            connections_interval: args.connections_interval,
        },
    };
    let ctx = Arc::new(Context::new(
        ec2,
        Arc::new(acm),
        cluster,
        metrics.clone(),
        settings,
    ));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let controllers = run_controllers(
        client,
        args.namespace,
        args.concurrency,
        ctx,
        users,
        signal_from(stop_rx),
    );
    tokio::pin!(controllers);
    let lost = async {
        match leadership.as_mut() {
            Some(leadership) => leadership.lost().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = &mut controllers => {
            metrics.set_leader(false);
            return Err(StartupError::ControllerStopped);
        }
        reason = lost => {
            // Stop at once, without waiting for in-flight reconciles: the new leader may
            // already be acting.
            metrics.set_leader(false);
            health.set_not_ready("leadership lost");
            return Err(StartupError::LeadershipLost(reason.to_string()));
        }
        _ = shutdown.clone() => {}
    }
    health.set_not_ready("shutting down");
    let _ = stop_tx.send(true);
    controllers.await;
    metrics.set_leader(false);
    if let Some(leadership) = leadership {
        leadership.release().await;
    }
    Ok(())
}

/// What the users controller is built from (one per watched scope).
struct UserParts {
    client: kube::Client,
    cluster: Arc<dyn Cluster>,
    metrics: Arc<Metrics>,
    ec2: Arc<Ec2ClientVpn>,
    concurrency: u16,
    /// The backoff gate's waits.
    delays: Delays,
    settings: user::Settings,
}

impl UserParts {
    fn shared(&self) -> user::Shared {
        user::Shared {
            client: self.client.clone(),
            runtime_parts: (self.cluster.clone(), self.metrics.clone()),
            backoffs: Backoffs::new(self.delays),
            cloud: self.ec2.clone(),
            access: self.ec2.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The endpoint and users controllers for all namespaces, or for each listed namespace
/// (sharing the endpoint context).
async fn run_controllers(
    client: kube::Client,
    namespaces: Vec<String>,
    concurrency: u16,
    ctx: Arc<Context>,
    users: UserParts,
    stop: Signal,
) {
    let scopes: Vec<Option<String>> = if namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.into_iter().map(Some).collect()
    };
    let runs = scopes.into_iter().map(|namespace| {
        let endpoints = endpoint::run(
            client.clone(),
            namespace.clone(),
            concurrency,
            ctx.clone(),
            stop.clone(),
        );
        let people = user::run(users.shared(), namespace, users.concurrency, stop.clone());
        futures::future::join(endpoints, people)
    });
    futures::future::join_all(runs).await;
}

/// A [`Signal`] that resolves once `true` is sent (or the sender is gone).
fn signal_from(mut rx: tokio::sync::watch::Receiver<bool>) -> Signal {
    async move {
        // An error means the sender is gone: stop as well.
        let _ = rx.wait_for(|stop| *stop).await;
    }
    .boxed()
    .shared()
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutdown requested");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        let rows = [
            ("90", 90_000),
            ("90s", 90_000),
            ("500ms", 500),
            ("5m", 300_000),
            ("1h", 3_600_000),
        ];
        for (text, millis) in rows {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(millis)),
                "{text}"
            );
        }
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["clientvpn-operator", "run"].iter().chain(args);
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::Run(args) => *args,
            Command::Crd { .. } => panic!("not run"),
        }
    }

    #[test]
    fn leader_election_is_off_by_default_and_takes_a_bare_flag_or_a_boolean() {
        assert!(!run_args(&[]).leader_election);
        assert!(run_args(&["--leader-election"]).leader_election);
        assert!(run_args(&["--leader-election=true"]).leader_election);
        assert!(!run_args(&["--leader-election=false"]).leader_election);
    }

    #[test]
    fn namespaces_split_on_commas_and_addresses_default_to_all_interfaces() {
        let args = run_args(&["--namespace", "team-a,team-b", "--namespace", "team-c"]);
        assert_eq!(args.namespace, ["team-a", "team-b", "team-c"]);
        assert!(run_args(&[]).namespace.is_empty());
        assert_eq!(args.metrics_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(args.health_addr.to_string(), "0.0.0.0:8081");
        assert_eq!(args.lease_name, "clientvpn-operator");
        assert_eq!(args.lease_duration, Duration::from_secs(15));
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
