//! The operator binary as the chart's pod would run it (there is no kubelet), a counting proxy to
//! the emulator, and reading its `/healthz`, `/readyz` and `/metrics`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::control_plane::http_get;
use crate::harness::{Cluster, WAIT, emulator};
use crate::release::Release;

/// A TCP proxy to the emulator that counts connections: zero connections means zero AWS calls.
pub struct Proxy {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let upstream = upstream.to_string();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            task,
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A free loopback port (bound and released; the operator binds it right after).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// An operator process.
pub struct Operator {
    pod: String,
    child: Option<Child>,
    metrics: SocketAddr,
    pub health: SocketAddr,
    log: PathBuf,
}

impl Operator {
    /// Start the binary as the chart's pod `pod` would run: the Deployment's environment, the
    /// ServiceAccount's kubeconfig, AWS pointed at `aws` (emulator or proxy; this overrides an
    /// `AWS_ENDPOINT_URL_EC2` from `extraEnv`), HTTP on free loopback ports.
    pub fn start(
        c: &Cluster,
        release: &Release,
        pod: &str,
        kubeconfig: &Path,
        aws: SocketAddr,
    ) -> Self {
        let metrics = free_addr();
        let health = free_addr();
        let log =
            c.cp.logs()
                .join(format!("operator-{}-{pod}.log", release.namespace));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut env = release.pod_env(pod);
        env.extend(emulator::aws_env(&aws.to_string()));
        env.insert("CLIENTVPN_METRICS_ADDR".into(), metrics.to_string());
        env.insert("CLIENTVPN_HEALTH_ADDR".into(), health.to_string());
        env.insert("KUBECONFIG".into(), kubeconfig.display().to_string());
        let child = Command::new(env!("CARGO_BIN_EXE_clientvpn-operator"))
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(&env)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the operator");
        Self {
            pod: pod.to_string(),
            child: Some(child),
            metrics,
            health,
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Wait for the process to exit; panics with its log after `timeout`.
    pub async fn exited(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("running");
        let status = polled(&self.pod, &self.log, "exit", timeout, 100, || {
            child.try_wait().expect("try_wait")
        })
        .await;
        self.child = None;
        status
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn get(&self, addr: SocketAddr, path: &str) -> Option<(u16, String)> {
        http_get(&addr.to_string(), path)
    }

    pub fn metrics_text(&self) -> String {
        match self.get(self.metrics, "/metrics") {
            Some((200, body)) => body,
            other => panic!("{}: /metrics answered {other:?}\n{}", self.pod, self.log()),
        }
    }

    pub fn metric(&self, series: &str) -> f64 {
        sample(&self.metrics_text(), series).unwrap_or_else(|| {
            panic!("{}: no {series} in /metrics", self.pod);
        })
    }

    /// Sum of every sample of `name` whose labels contain all of `labels` (`k="v"` strings).
    pub fn metric_sum(&self, name: &str, labels: &[&str]) -> f64 {
        sum_samples(&self.metrics_text(), name, labels)
    }

    pub async fn ready(&self) {
        polled(&self.pod, &self.log, "become ready", WAIT, 200, || {
            matches!(self.get(self.health, "/readyz"), Some((200, _))).then_some(())
        })
        .await
    }
}

/// Poll `done` every `every_ms` until it gives a value; after `timeout`, panic with the log of
/// operator `pod`, which did not do `what`.
async fn polled<T>(
    pod: &str,
    log: &Path,
    what: &str,
    timeout: Duration,
    every_ms: u64,
    mut done: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = done() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{pod} did not {what} within {timeout:?}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(every_ms)).await;
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value of the sample line `series value`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

pub fn sum_samples(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
