//! End-to-end harness: one real control plane (etcd + kube-apiserver from `hack/`) and one
//! `clientvpn-emulator` per test binary, the operator binary as a real process per test, a fresh
//! namespace per test, and waits on conditions.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use clientvpn_operator::api::ClientVpnEndpoint;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

/// Generous bound for anything the operator should do within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(60);

/// How often waits look again.
const POLL: Duration = Duration::from_millis(200);

/// Region the operator defaults to in every test.
pub const REGION: &str = "us-east-1";

/// Tests share the emulator's fault and counter state, so they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static SHARED: OnceLock<Shared> = OnceLock::new();
static NAMESPACE_SEQ: AtomicU32 = AtomicU32::new(0);

struct Shared {
    dir: PathBuf,
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    emulator: String,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_checked(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
}

/// The emulator binary: `CLIENTVPN_EMULATOR_BIN`, else built with cargo.
fn emulator_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("CLIENTVPN_EMULATOR_BIN") {
        return PathBuf::from(bin);
    }
    run_checked(
        Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "clientvpn-emulator",
                "--bin",
                "clientvpn-emulator",
            ])
            .current_dir(repo()),
        "building clientvpn-emulator",
    );
    target_dir().join("debug/clientvpn-emulator")
}

/// Start a process that dies with this test binary: a shell watches our PID.
fn spawn_owned(program: &Path, args: &[&str], log: &Path) -> Child {
    let script = r#"owner=$1; shift; log=$1; shift
"$@" 2>>"$log" & child=$!
trap 'kill $child 2>/dev/null' EXIT TERM
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done"#;
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("owned")
        .arg(std::process::id().to_string())
        .arg(log)
        .arg(program)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
}

// The emulator child is owned by the watcher shell of `spawn_owned` and dies with this process.
#[allow(clippy::zombie_processes)]
fn start_shared() -> Shared {
    let dir = std::env::temp_dir().join(format!("clientvpn-e2e-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("logs")).expect("create test dir");
    let dir_arg = dir.to_string_lossy().to_string();
    let pid = std::process::id().to_string();
    run_checked(
        Command::new(repo().join("hack/control-plane.sh")).args([
            "start",
            &dir_arg,
            "--owner-pid",
            &pid,
        ]),
        "starting the control plane",
    );
    let env = std::fs::read_to_string(dir.join("env")).expect("control plane env file");
    let bin_dir = env
        .lines()
        .find_map(|l| l.strip_prefix("CLIENTVPN_K8S_BIN_DIR="))
        .expect("CLIENTVPN_K8S_BIN_DIR in env file");
    let kubectl = Path::new(bin_dir).join("kubectl");
    let kubeconfig = dir.join("kubeconfig");
    let crds = repo().join("crds");
    run_checked(
        Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["apply", "--server-side", "-f"])
            .arg(&crds),
        "installing CRDs",
    );
    run_checked(
        Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "wait",
                "--for=condition=Established",
                "crd/clientvpnendpoints.clientvpn.io",
                "--timeout=60s",
            ]),
        "waiting for the CRD",
    );

    let mut emulator = spawn_owned(
        &emulator_bin(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--association-delay-ms",
            "500",
            "--delete-delay-ms",
            "500",
            "--deleted-visible-ms",
            "2000",
        ],
        &dir.join("logs/emulator.log"),
    );
    let mut first_line = String::new();
    BufReader::new(emulator.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("emulator prints its address");
    let emulator = first_line.trim().to_string();
    assert!(
        emulator.starts_with("127.0.0.1:"),
        "unexpected emulator address {emulator:?}"
    );
    Shared {
        dir,
        kubeconfig,
        kubectl,
        emulator,
    }
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(start_shared)
}

/// One test's world: a fresh namespace, the operator watching it, and helpers.
pub struct Env {
    pub namespace: String,
    pub client: kube::Client,
    operator: Option<Child>,
    operator_args: Vec<String>,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl Env {
    /// Start a test: take the serial lock, create a namespace, clear faults, start the operator.
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, &[]).await
    }

    /// As [`Env::start`], with extra `clientvpn-operator run` arguments.
    pub async fn start_with(name: &str, extra_args: &[&str]) -> Self {
        let mut env = Self::start_bare(name, extra_args).await;
        env.start_operator();
        env
    }

    /// As [`Env::start`], without starting the operator (for tests that run it themselves,
    /// e.g. under another identity; see [`Cluster`]).
    #[allow(dead_code)]
    pub async fn start_without_operator(name: &str) -> Self {
        Self::start_bare(name, &[]).await
    }

    async fn start_bare(name: &str, extra_args: &[&str]) -> Self {
        let serial = SERIAL.lock().await;
        let shared = tokio::task::spawn_blocking(shared)
            .await
            .expect("start shared");
        let seq = NAMESPACE_SEQ.fetch_add(1, Ordering::SeqCst);
        let namespace = format!("{name}-{seq}");
        let env = Self {
            client: kube_client(&shared.kubeconfig).await,
            namespace: namespace.clone(),
            operator: None,
            operator_args: extra_args.iter().map(|s| s.to_string()).collect(),
            _serial: serial,
        };
        env.kubectl(&["create", "namespace", &namespace]);
        env.emulator_call("DELETE", "/_emulator/faults", None);
        env
    }

    /// Start (or restart) the operator process for this namespace.
    pub fn start_operator(&mut self) {
        let shared = shared();
        let log = shared
            .dir
            .join(format!("logs/operator-{}.log", self.namespace));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut args = vec![
            "run".to_string(),
            "--namespace".into(),
            self.namespace.clone(),
            "--poll-interval".into(),
            "500ms".into(),
            "--retry-base".into(),
            "500ms".into(),
            "--resync-interval".into(),
            "30s".into(),
            "--cluster-name".into(),
            "e2e".into(),
            "--metrics-addr".into(),
            "127.0.0.1:0".into(),
            "--health-addr".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(self.operator_args.iter().cloned());
        let child = Command::new(env!("CARGO_BIN_EXE_clientvpn-operator"))
            .args(&args)
            .env("KUBECONFIG", &shared.kubeconfig)
            .envs(operator_aws_env(&shared.emulator))
            .env("RUST_LOG", "info,clientvpn_operator=debug")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start operator");
        self.operator = Some(child);
    }

    /// SIGKILL the operator (no graceful shutdown).
    pub fn kill_operator(&mut self) {
        if let Some(mut child) = self.operator.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Run kubectl in this namespace; panics on failure.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let out = self.kubectl_raw(args, None);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Run kubectl in this namespace with optional stdin; returns the raw output.
    pub fn kubectl_raw(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let shared = shared();
        let mut child = Command::new(&shared.kubectl)
            .arg("--kubeconfig")
            .arg(&shared.kubeconfig)
            .args(["-n", &self.namespace])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("kubectl output")
    }

    /// `kubectl apply -f -` with a manifest; returns the raw output.
    pub fn apply(&self, manifest: &str) -> Output {
        self.kubectl_raw(&["apply", "-f", "-"], Some(manifest))
    }

    pub fn api(&self) -> Api<ClientVpnEndpoint> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Wait until the object satisfies `check`, returning it; on timeout, panic with its status.
    pub async fn wait_for(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&ClientVpnEndpoint) -> bool,
    ) -> ClientVpnEndpoint {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self.api().get_opt(name).await.ok().flatten();
            if let Some(obj) = found.as_ref().filter(|o| check(o)) {
                return obj.clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {WAIT:?} waiting for {what}; last status: {:?}",
                found.map(|o| o.status)
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until the object is gone from the API server.
    pub async fn wait_gone(&self, name: &str) {
        let deadline = Instant::now() + WAIT;
        while self.api().get_opt(name).await.ok().flatten().is_some() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {name} to be deleted"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// `host:port` of the emulator.
    pub fn emulator_address(&self) -> String {
        shared().emulator.clone()
    }

    /// Call the emulator's control API; returns the JSON answer.
    pub fn emulator_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        emulator_http(&shared().emulator, method, path, body)
    }

    /// Every endpoint the emulator holds for this test's region, across accounts.
    pub fn aws_endpoints(&self) -> Vec<Value> {
        let state = self.emulator_call("GET", "/_emulator/state", None);
        state["accounts"]
            .as_object()
            .into_iter()
            .flat_map(|accounts| accounts.values())
            .filter_map(|regions| regions[REGION]["endpoints"].as_array())
            .flatten()
            .cloned()
            .collect()
    }

    /// Endpoints in AWS owned by an object UID (by the ownership tag).
    pub fn aws_endpoints_of(&self, uid: &str) -> Vec<Value> {
        self.aws_endpoints()
            .into_iter()
            .filter(|e| e["tags"]["clientvpn.io/uid"].as_str() == Some(uid))
            .collect()
    }

    /// Per-action call counters.
    pub fn calls(&self) -> Value {
        self.emulator_call("GET", "/_emulator/calls", None)
    }

    /// Events recorded for an object, as `reason: note` lines.
    pub fn events(&self, name: &str) -> String {
        self.kubectl(&[
            "get",
            "events.events.k8s.io",
            "--field-selector",
            &format!("regarding.name={name}"),
            "-o",
            "jsonpath={range .items[*]}{.type} {.reason}: {.note}{\"\\n\"}{end}",
        ])
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.kill_operator();
        let _ = self.emulator_call_quiet("DELETE", "/_emulator/faults");
    }
}

impl Env {
    fn emulator_call_quiet(&self, method: &str, path: &str) -> Option<Value> {
        std::panic::catch_unwind(|| emulator_http(&shared().emulator, method, path, None)).ok()
    }
}

/// The shared control plane and emulator, for tests that run processes of their own
/// (tests/e2e_install).
#[allow(dead_code)]
pub struct Cluster {
    /// Directory of the control plane (kubeconfig, env, logs/).
    pub dir: PathBuf,
    /// Admin kubeconfig (`system:masters`).
    pub kubeconfig: PathBuf,
    /// Directory with kubectl, helm, kube-apiserver, ... of the matching version.
    pub bin_dir: PathBuf,
    /// `host:port` of the emulator.
    pub emulator: String,
}

/// The shared control plane and emulator (started on first use).
#[allow(dead_code)]
pub fn cluster() -> Cluster {
    let shared = shared();
    Cluster {
        dir: shared.dir.clone(),
        kubeconfig: shared.kubeconfig.clone(),
        bin_dir: shared
            .kubectl
            .parent()
            .expect("kubectl has a directory")
            .to_path_buf(),
        emulator: shared.emulator.clone(),
    }
}

/// Environment for an operator process talking to the emulator: fake credentials, the
/// emulator as EC2 endpoint, the harness region, no instance metadata.
pub fn operator_aws_env(emulator: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL_EC2", format!("http://{emulator}")),
        ("AWS_ACCESS_KEY_ID", "AKIDE2ETEST".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "e2e-secret".to_string()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A Kubernetes client from a kubeconfig file (its current context).
pub async fn kube_client(kubeconfig: &Path) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig");
    kube::Client::try_from(config).expect("kube client")
}

/// Poll `check` until it holds; panic after [`WAIT`].
pub async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A minimal HTTP/1.1 JSON call to the emulator's control API.
pub fn emulator_http(addr: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(addr).expect("connect to emulator");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    let (head, payload) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    assert!(
        head.starts_with("HTTP/1.1 2"),
        "{method} {path}: {head}\n{payload}"
    );
    let payload = decode_chunked(head, payload);
    serde_json::from_str(&payload).unwrap_or(Value::Null)
}

fn decode_chunked(head: &str, payload: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return payload.to_string();
    }
    let mut out = String::new();
    let mut rest = payload;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    out
}

/// The example manifest, as a user would apply it.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(repo().join("examples").join(name)).expect("example exists")
}
