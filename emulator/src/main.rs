//! `clientvpn-emulator` command line: parse flags, bind, print the address, serve.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use clientvpn_emulator::{AppState, Config, app};
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

    #[command(flatten)]
    config: Config,

    /// Log filter (tracing EnvFilter syntax); `debug` logs every request.
    #[arg(long, env = "CLIENTVPN_EMULATOR_LOG", default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Args {
        listen,
        config,
        log,
    } = Args::parse();
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
