//! The one launcher of the local Kubernetes control plane (etcd + kube-apiserver +
//! kube-controller-manager from `hack/control-plane.sh`, see docs/control-plane.md) for the test
//! layers and the benchmark, with kubectl/helm helpers.
//!
//! Include it with `#[path = "../support/control_plane.rs"] mod control_plane;`.
//!
//! ```ignore
//! let cp = ControlPlane::start_temp("clientvpn-e2e"); // <tmp>/clientvpn-e2e-<pid>, owned by us
//! cp.install_crds();
//! let out = run(cp.kubectl().args(["apply", "-f", "-"]), Some(manifest));
//! let text = checked(run(cp.helm().args(["list", "-A"]), None), "helm list");
//! let client = cp.client().await;
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kube::config::{KubeConfigOptions, Kubeconfig};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Directory with kubectl, helm, kube-apiserver, ...: `CLIENTVPN_K8S_BIN_DIR`, else what
/// `hack/build-k8s.sh --print-bin-dir` prints (it never builds).
pub fn k8s_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CLIENTVPN_K8S_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let out = run(
        Command::new(repo().join("hack/build-k8s.sh")).arg("--print-bin-dir"),
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(text.lines().last().expect("a bin dir").trim())
}

/// A binary of [`k8s_bin_dir`]; panics with what to do when it is missing.
pub fn k8s_tool(name: &str) -> PathBuf {
    let path = k8s_bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run hack/build-k8s.sh (make test does)",
        path.display()
    );
    path
}

/// Run `cmd` to completion with `stdin` (or an empty one) and its output captured; panics only
/// when it cannot be started.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("command output")
}

/// The stdout of a successful command; panics with both streams otherwise.
pub fn checked(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A running control plane.
pub struct ControlPlane {
    /// Its directory (kubeconfig, env, logs/, ...).
    pub dir: PathBuf,
    /// Admin kubeconfig (`system:masters`).
    pub kubeconfig: PathBuf,
    /// Directory with kubectl, helm, kube-apiserver, ... of the matching version.
    pub bin_dir: PathBuf,
}

impl ControlPlane {
    /// `hack/control-plane.sh start DIR --owner-pid <this process>` (builds the binaries if they
    /// are missing; a no-op when DIR is already running): the control plane stops when this
    /// process exits, or with [`ControlPlane::stop`].
    pub fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("logs")).expect("create the control plane directory");
        let pid = std::process::id().to_string();
        checked(
            run(
                Command::new(repo().join("hack/control-plane.sh"))
                    .arg("start")
                    .arg(dir)
                    .args(["--owner-pid", &pid]),
                None,
            ),
            "starting the control plane",
        );
        let env = std::fs::read_to_string(dir.join("env")).expect("control plane env file");
        let bin_dir = env
            .lines()
            .find_map(|l| l.strip_prefix("CLIENTVPN_K8S_BIN_DIR="))
            .expect("CLIENTVPN_K8S_BIN_DIR in env file");
        Self {
            dir: dir.to_path_buf(),
            kubeconfig: dir.join("kubeconfig"),
            bin_dir: PathBuf::from(bin_dir),
        }
    }

    /// The process ID of its kube-apiserver (for tests that pause it).
    #[allow(dead_code)]
    pub fn apiserver_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.dir.join("kube-apiserver.pid"))
            .expect("kube-apiserver.pid in the control plane directory");
        text.trim().parse().expect("a pid")
    }

    /// [`ControlPlane::start`] in `<temp dir>/<prefix>-<pid>`.
    pub fn start_temp(prefix: &str) -> Self {
        Self::start(&std::env::temp_dir().join(format!("{prefix}-{}", std::process::id())))
    }

    /// `hack/control-plane.sh stop DIR` (idempotent).
    pub fn stop(&self) {
        checked(
            run(
                Command::new(repo().join("hack/control-plane.sh"))
                    .arg("stop")
                    .arg(&self.dir),
                None,
            ),
            "stopping the control plane",
        );
    }

    /// Where the control plane's (and the caller's) logs go.
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// kubectl with the admin kubeconfig.
    pub fn kubectl(&self) -> Command {
        self.kubectl_as(&self.kubeconfig)
    }

    /// kubectl with another kubeconfig (another identity).
    pub fn kubectl_as(&self, kubeconfig: &Path) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("kubectl"));
        cmd.arg("--kubeconfig").arg(kubeconfig);
        cmd
    }

    /// helm with the admin kubeconfig.
    pub fn helm(&self) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("helm"));
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        cmd
    }

    /// Apply `crds/` (server-side) and wait until the CRD is established.
    pub fn install_crds(&self) {
        checked(
            run(
                self.kubectl()
                    .args(["apply", "--server-side", "-f"])
                    .arg(repo().join("crds")),
                None,
            ),
            "installing CRDs",
        );
        checked(
            run(
                self.kubectl().args([
                    "wait",
                    "--for=condition=Established",
                    "crd/clientvpnendpoints.clientvpn.io",
                    "crd/clientvpnusers.clientvpn.io",
                    "--timeout=60s",
                ]),
                None,
            ),
            "waiting for the CRDs",
        );
    }

    /// A Kubernetes client as admin.
    pub async fn client(&self) -> kube::Client {
        kube_client(&self.kubeconfig).await
    }
}

/// A Kubernetes client from a kubeconfig file (its current context).
pub async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig");
    kube::Client::try_from(config).expect("kube client")
}

/// `GET path` from `addr` over HTTP/1.0 (no chunked encoding; for the health and metrics
/// endpoints of the processes the tests run): the status code and body, `None` when nothing
/// answers.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}
