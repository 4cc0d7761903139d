//! `clientvpn-operator`: `run` the controller, or print the `crd`.

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use clap::{Args, Parser, Subcommand};
use clientvpn_operator::cloud::Ec2ClientVpn;
use clientvpn_operator::controller::{self, Context, KubeCluster, Settings};
use clientvpn_operator::telemetry::{self, LogFormat};
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
    Run(RunArgs),
    /// Print the ClientVpnEndpoint CustomResourceDefinition as YAML.
    Crd,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Region for objects without spec.region. Default: the AWS chain (AWS_REGION, profile, IMDS).
    #[arg(long, env = "CLIENTVPN_REGION")]
    region: Option<String>,

    /// How often every object is compared with AWS when nothing else happens (e.g. 300s, 5m, 1h).
    #[arg(long, env = "CLIENTVPN_RESYNC_INTERVAL", default_value = "5m", value_parser = parse_duration)]
    resync_interval: Duration,

    /// How soon to look again while AWS is creating or deleting an endpoint.
    #[arg(long, env = "CLIENTVPN_POLL_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    poll_interval: Duration,

    /// How long an object that failed with a terminal AWS error waits before one more try when
    /// its spec does not change (a spec change retries at once).
    #[arg(long, env = "CLIENTVPN_STALLED_RETRY_INTERVAL", default_value = "30m", value_parser = parse_duration)]
    stalled_retry_interval: Duration,

    /// First retry delay after a retryable error (throttling, 5xx); doubles up to 5 minutes.
    #[arg(long, env = "CLIENTVPN_RETRY_BASE", default_value = "2s", value_parser = parse_duration)]
    retry_base: Duration,

    /// Objects reconciled at the same time.
    #[arg(long, env = "CLIENTVPN_CONCURRENCY", default_value_t = 4)]
    concurrency: u16,

    /// Only watch this namespace. Default: all namespaces.
    #[arg(long, env = "CLIENTVPN_WATCH_NAMESPACE")]
    namespace: Option<String>,

    /// Value of the clientvpn.io/cluster tag on every AWS object the operator creates.
    #[arg(long, env = "CLIENTVPN_CLUSTER_NAME", default_value = "default")]
    cluster_name: String,

    /// Log format.
    #[arg(long, env = "CLIENTVPN_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,

    /// Name of this replica in events (e.g. the pod name).
    #[arg(long, env = "POD_NAME")]
    instance: Option<String>,
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
        Command::Crd => {
            print!("{}", clientvpn_operator::api::crd_yaml());
            std::process::ExitCode::SUCCESS
        }
        Command::Run(args) => {
            telemetry::init(args.log_format);
            match run(args).await {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(message) => {
                    error!("{message}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

async fn run(args: RunArgs) -> Result<(), String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
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
        .map_err(|e| format!("cannot build a Kubernetes client: {e}"))?;
    controller::check_crd_installed(&client).await?;

    let settings = Settings {
        default_region,
        cluster_name: args.cluster_name,
        resync_interval: args.resync_interval,
        poll_interval: args.poll_interval,
        stalled_retry_interval: args.stalled_retry_interval,
        retry_base: args.retry_base,
    };
    let ctx = Arc::new(Context::new(
        Arc::new(Ec2ClientVpn::new(sdk)),
        Arc::new(KubeCluster::new(client.clone(), args.instance)),
        settings,
    ));
    controller::run(
        client,
        args.namespace,
        args.concurrency,
        ctx,
        shutdown_signal(),
    )
    .await;
    Ok(())
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

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
