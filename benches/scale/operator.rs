//! The operator under test as a child process: start, readiness, `/metrics`, and its memory
//! and CPU time from `/proc`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::control_plane::http_get;
use crate::emulator;
use crate::prom;

/// Memory figures from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// `VmHWM`: peak resident set size.
    pub peak_kib: u64,
    /// `VmRSS`: current resident set size.
    pub rss_kib: u64,
}

/// A running `clientvpn-operator run` process; killed when dropped.
pub struct Operator {
    child: Child,
    metrics_addr: String,
    health_addr: String,
    log: PathBuf,
}

impl Operator {
    /// Start the release binary with `kubeconfig` and the emulator at `emulator` as EC2, watching
    /// `namespace` with `--resync-interval resync`, logging at `warn` to `log`, and wait until
    /// `/readyz` answers 200.
    pub async fn start(
        kubeconfig: &Path,
        emulator: &str,
        namespace: &str,
        resync: &str,
        log: &Path,
    ) -> Self {
        Self::start_with(kubeconfig, emulator, namespace, resync, log, &[]).await
    }

    /// [`Operator::start`] with `extra` arguments after the benchmark's.
    pub async fn start_with(
        kubeconfig: &Path,
        emulator: &str,
        namespace: &str,
        resync: &str,
        log: &Path,
        extra: &[&str],
    ) -> Self {
        let metrics_addr = free_address();
        let health_addr = free_address();
        let stderr = std::fs::File::create(log).expect("operator log file");
        let child = Command::new(env!("CARGO_BIN_EXE_clientvpn-operator"))
            .args(args(namespace, resync, &metrics_addr, &health_addr))
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .envs(emulator::aws_env(emulator))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the operator");
        let mut operator = Self {
            child,
            metrics_addr,
            health_addr,
            log: log.to_path_buf(),
        };
        operator.wait_ready().await;
        operator
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("operator exited ({status}); see {}", self.log.display());
            }
            if http_get(&self.health_addr, "/readyz").is_some_and(|(code, _)| code == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "operator not ready after 60s; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `VmHWM` and `VmRSS` now.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status of the operator");
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Memory {
            peak_kib: kib("VmHWM:"),
            rss_kib: kib("VmRSS:"),
        }
    }

    /// User + system CPU time so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        cpu_ticks_of(self.child.id()).expect("/proc/<pid>/stat of the operator")
    }

    /// The `/metrics` text.
    pub fn metrics(&self) -> String {
        match http_get(&self.metrics_addr, "/metrics") {
            Some((200, body)) => body,
            other => panic!("GET /metrics from the operator: {other:?}"),
        }
    }

    /// Reconciles finished so far (`controller_runtime_reconcile_total`, all results).
    pub fn reconciles(&self) -> f64 {
        prom::sum(&self.metrics(), "controller_runtime_reconcile_total")
    }

    /// The operator's log file.
    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Arguments of `clientvpn-operator`: the operator's defaults except what the benchmark needs.
fn args<'a>(
    namespace: &'a str,
    resync: &'a str,
    metrics: &'a str,
    health: &'a str,
) -> [&'a str; 11] {
    [
        "run",
        "--namespace",
        namespace,
        "--resync-interval",
        resync,
        "--cluster-name",
        "bench",
        "--metrics-addr",
        metrics,
        "--health-addr",
        health,
    ]
}

/// The operator's command line as the report shows it.
pub fn command_line(namespace: &str, resync: &str) -> String {
    let args = args(namespace, resync, "127.0.0.1:<free>", "127.0.0.1:<free>");
    format!("RUST_LOG=warn clientvpn-operator {}", args.join(" "))
}

/// A loopback address with a port that was free a moment ago.
fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").to_string()
}

/// User + system CPU time of process `pid` so far, in clock ticks (`utime + stime` of
/// `/proc/<pid>/stat`); `None` when it is gone.
pub fn cpu_ticks_of(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15.
    let after = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i - 3)?.parse::<u64>().ok();
    Some(field(14)? + field(15)?)
}
