//! End-to-end harness: one real control plane (etcd + kube-apiserver from `hack/`) and one
//! `clientvpn-emulator` per test binary, both started with the launchers of `tests/support/`,
//! the operator binary as a real process per test, a fresh namespace per test, and waits on
//! conditions.

// Each test crate uses part of the shared launchers.
#[allow(dead_code)]
#[path = "../support/control_plane.rs"]
pub mod control_plane;
#[allow(dead_code)]
#[path = "../support/emulator.rs"]
pub mod emulator;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_acm::primitives::Blob;
use clientvpn_operator::api::ClientVpnEndpoint;
use clientvpn_operator::certificates::{
    CertificateMaterial, Issued, Validity, issue_ca, issue_server,
};
use control_plane::{ControlPlane, run};
use emulator::{E2E_DELAYS, Emulator};
use kube::api::Api;
use serde_json::{Value, json};

pub use emulator::REGION;

/// Generous bound for anything the operator should do within a few poll intervals.
pub const WAIT: Duration = Duration::from_secs(60);

/// How often waits look again.
const POLL: Duration = Duration::from_millis(200);

/// Tests share the emulator's fault and counter state, so they run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static SHARED: OnceLock<Cluster> = OnceLock::new();
static NAMESPACE_SEQ: AtomicU32 = AtomicU32::new(0);

/// The control plane and the emulator every test of this binary shares, for tests that run
/// processes of their own (tests/e2e_install).
pub struct Cluster {
    /// Started by this process, with the CRD installed.
    pub cp: ControlPlane,
    /// Started with [`E2E_DELAYS`] and AWS's certificate check (ARNs must be in its ACM); its
    /// log is `logs/emulator.log` of the control plane.
    pub emulator: Emulator,
    /// Imported into the emulator's ACM for the operator's account: the ARNs of [`manifest`]
    /// and [`example`].
    pub certificates: TestCertificates,
}

/// ACM ARNs of a server certificate (CN and DNS name `vpn.e2e.test`) and of its CA.
pub struct TestCertificates {
    pub server: String,
    pub client_root: String,
    /// The CA behind `client_root`, with its key (to sign client certificates in tests).
    pub ca: Issued,
}

/// The account of the operator under test (`emulator::aws_env`).
pub use emulator::OPERATOR_ACCESS_KEY as ACCOUNT_KEY;

/// A CA and a server certificate it signed (CN and DNS name `vpn.e2e.test`, RSA 2048, valid
/// for 30 days from a minute ago): what Client VPN accepts.
pub fn issue_test_server() -> (Issued, Issued) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let validity = Validity::starting_at(now - 60, 30 * 86_400);
    let ca = issue_ca("e2e CA", validity).expect("CA");
    let ca_material = CertificateMaterial::from_secret_data(
        ca.certificate_pem.as_bytes(),
        ca.private_key_pem.as_bytes(),
        None,
    )
    .expect("CA material");
    let name = "vpn.e2e.test".to_string();
    let server =
        issue_server(&ca_material, &name, std::slice::from_ref(&name), validity).expect("server");
    (server, ca)
}

/// Issue a CA and a server certificate and import both, on a thread of its own (callers may
/// or may not be inside a runtime).
fn import_test_certificates(url: String) -> TestCertificates {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let acm = aws_sdk_acm::Client::new(&emulator::sdk_config(&url, ACCOUNT_KEY).await);
            let (server, ca) = issue_test_server();
            let import = |issued: &Issued, chain: Option<&str>| {
                acm.import_certificate()
                    .certificate(Blob::new(issued.certificate_pem.as_bytes()))
                    .private_key(Blob::new(issued.private_key_pem.as_bytes()))
                    .set_certificate_chain(chain.map(|c| Blob::new(c.as_bytes())))
                    .send()
            };
            let arn = |out: aws_sdk_acm::operation::import_certificate::ImportCertificateOutput| {
                out.certificate_arn().expect("ARN").to_string()
            };
            TestCertificates {
                server: arn(import(&server, Some(&ca.certificate_pem))
                    .await
                    .expect("import")),
                client_root: arn(import(&ca, None).await.expect("import the CA")),
                ca,
            }
        })
    })
    .join()
    .expect("importing the test certificates")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn start_shared() -> Cluster {
    let cp = ControlPlane::start_temp("clientvpn-e2e");
    cp.install_crds();
    let emulator = Emulator::launch()
        .flags(E2E_DELAYS)
        .strict_certificates()
        .log(cp.logs().join("emulator.log"))
        .start();
    let certificates = import_test_certificates(emulator.url());
    Cluster {
        cp,
        emulator,
        certificates,
    }
}

/// The shared control plane and emulator (started on first use).
pub fn cluster() -> &'static Cluster {
    SHARED.get_or_init(start_shared)
}

/// One test's world: a fresh namespace, the operator watching it, and helpers.
pub struct Env {
    pub namespace: String,
    pub client: kube::Client,
    operator: Option<Child>,
    operator_args: Vec<String>,
    /// `host:port` of an emulator of this test's own, instead of the shared one.
    own_emulator: Option<String>,
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
        let shared = tokio::task::spawn_blocking(cluster)
            .await
            .expect("start the control plane and the emulator");
        let seq = NAMESPACE_SEQ.fetch_add(1, Ordering::SeqCst);
        let namespace = format!("{name}-{seq}");
        let env = Self {
            client: shared.cp.client().await,
            namespace: namespace.clone(),
            operator: None,
            operator_args: extra_args.iter().map(|s| s.to_string()).collect(),
            own_emulator: None,
            _serial: serial,
        };
        env.kubectl(&["create", "namespace", &namespace]);
        env.emulator_call("DELETE", "/_emulator/faults", None);
        env
    }

    /// Start (or restart) the operator process for this namespace.
    pub fn start_operator(&mut self) {
        let extra: Vec<&str> = self.operator_args.iter().map(String::as_str).collect();
        let child = self.spawn_operator(&extra);
        self.operator = Some(child);
    }

    /// One more operator process for this namespace with `extra` arguments, owned by the
    /// caller (e.g. a second replica); its log is appended to the namespace's operator log.
    pub fn spawn_operator(&self, extra: &[&str]) -> Child {
        let shared = cluster();
        let log = self.operator_log();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut args = vec![
            "run",
            "--namespace",
            &self.namespace,
            "--poll-interval",
            "500ms",
            "--retry-base",
            "500ms",
            "--resync-interval",
            "30s",
            "--cluster-name",
            "e2e",
            "--metrics-addr",
            "127.0.0.1:0",
            "--health-addr",
            "127.0.0.1:0",
        ];
        args.extend(extra);
        Command::new(env!("CARGO_BIN_EXE_clientvpn-operator"))
            .args(&args)
            .env("KUBECONFIG", &shared.cp.kubeconfig)
            .envs(emulator::aws_env(&self.emulator_address()))
            .env("RUST_LOG", "info,clientvpn_operator=debug")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start operator")
    }

    /// The log of every operator process of this namespace.
    pub fn operator_log(&self) -> std::path::PathBuf {
        cluster()
            .cp
            .logs()
            .join(format!("operator-{}.log", self.namespace))
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
        run(
            cluster()
                .cp
                .kubectl()
                .args(["-n", &self.namespace])
                .args(args),
            stdin,
        )
    }

    /// `kubectl apply -f -` with a manifest; returns the raw output.
    pub fn apply(&self, manifest: &str) -> Output {
        self.kubectl_raw(&["apply", "-f", "-"], Some(manifest))
    }

    /// `kubectl patch cvpn <name> --type merge -p <patch>`; returns the raw output.
    pub fn merge_patch_raw(&self, name: &str, patch: &Value) -> Output {
        let patch = patch.to_string();
        let args = ["patch", "cvpn", name, "--type", "merge", "-p", &patch];
        self.kubectl_raw(&args, None)
    }

    /// As [`Env::merge_patch_raw`]; panics unless the API server accepts it.
    pub fn merge_patch(&self, name: &str, patch: &Value) {
        let out = self.merge_patch_raw(name, patch);
        assert!(
            out.status.success(),
            "patch {patch} refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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
        self.wait_for_within(name, what, WAIT, check).await
    }

    /// [`Env::wait_for`] with a deadline of its own, for objects with much to do.
    pub async fn wait_for_within(
        &self,
        name: &str,
        what: &str,
        within: Duration,
        check: impl Fn(&ClientVpnEndpoint) -> bool,
    ) -> ClientVpnEndpoint {
        wait_object(&self.api(), name, what, within, check).await
    }

    /// Wait until the object is gone from the API server.
    pub async fn wait_gone(&self, name: &str) {
        self.wait_gone_within(name, WAIT).await
    }

    /// [`Env::wait_gone`] with a deadline of its own.
    pub async fn wait_gone_within(&self, name: &str, within: Duration) {
        wait_object_gone(&self.api(), name, within).await
    }

    /// `host:port` of the emulator: the test's own (see [`Env::use_emulator`]) or the shared one.
    pub fn emulator_address(&self) -> String {
        self.own_emulator
            .clone()
            .unwrap_or_else(|| cluster().emulator.addr().to_string())
    }

    /// From now on, the operator (restarted here) and every helper use the emulator at `addr`.
    #[allow(dead_code)]
    pub fn use_emulator(&mut self, addr: &str) {
        self.own_emulator = Some(addr.to_string());
        self.kill_operator();
        self.start_operator();
    }

    /// Call the emulator's control API; returns the JSON answer.
    pub fn emulator_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        emulator::control(&self.emulator_address(), method, path, body)
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
        std::panic::catch_unwind(|| cluster().emulator.control(method, path, None)).ok()
    }
}

/// Wait until object `name` of `api` satisfies `check`, for at most `within`, returning it; on
/// timeout, panic with its last status.
pub async fn wait_object<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    within: Duration,
    check: impl Fn(&K) -> bool,
) -> K
where
    K: Clone + std::fmt::Debug + serde::de::DeserializeOwned + serde::Serialize,
{
    let deadline = Instant::now() + within;
    loop {
        let found = api.get_opt(name).await.ok().flatten();
        if let Some(obj) = found.as_ref().filter(|o| check(o)) {
            return obj.clone();
        }
        let status = found.map_or(Value::Null, |o| {
            serde_json::to_value(o).map_or(Value::Null, |v| v["status"].clone())
        });
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {name}: {what}; last status: {status}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Wait until object `name` of `api` is gone from the API server, for at most `within`.
pub async fn wait_object_gone<K>(api: &Api<K>, name: &str, within: Duration)
where
    K: Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let deadline = Instant::now() + within;
    while api.get_opt(name).await.ok().flatten().is_some() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {name} to be deleted"
        );
        tokio::time::sleep(POLL).await;
    }
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

/// Certificate ARNs in `examples/` (an account nobody has), replaced by [`TestCertificates`].
const EXAMPLE_SERVER_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
const EXAMPLE_ROOT_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809";

/// The example manifest, as a user would apply it, with its certificate ARNs pointing at the
/// certificates imported for the test.
pub fn example(name: &str) -> String {
    let text = std::fs::read_to_string(repo().join("examples").join(name)).expect("example exists");
    let certificates = &cluster().certificates;
    text.replace(EXAMPLE_SERVER_ARN, &certificates.server)
        .replace(EXAMPLE_ROOT_ARN, &certificates.client_root)
}

/// A valid manifest as JSON, with `edit` applied to its spec.
pub fn manifest(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut spec = json!({
        "clientCidrBlock": "10.100.0.0/22",
        "serverCertificateArn": cluster().certificates.server,
        "authenticationOptions": [{
            "type": "certificate-authentication",
            "mutualAuthentication": {
                "clientRootCertificateChainArn": cluster().certificates.client_root
            }
        }],
        "dnsServers": ["10.0.0.2"],
        "vpcId": "vpc-0123456789abcdef0",
        "securityGroupIds": ["sg-0123456789abcdef0"]
    });
    edit(&mut spec);
    json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnEndpoint",
        "metadata": {"name": name},
        "spec": spec
    })
    .to_string()
}
