//! End-to-end installation on a real kube-apiserver (from `hack/`) with the emulator:
//!
//! * `helm install` of `charts/clientvpn-operator`; the operator binary runs as a local process
//!   authenticated with a token of the chart's ServiceAccount, so the API server enforces the
//!   chart's RBAC, and configured with the environment the chart's Deployment gives it. (There is
//!   no kubelet: the Deployment never starts pods, so we start the binary ourselves.)
//! * two replicas with leader election: only the leader calls AWS (each replica reaches the
//!   emulator through its own counting proxy); a standby takes over when the leader is killed
//!   and when it stops gracefully; a leader whose Lease is taken exits.
//! * `/healthz`, `/readyz` and `/metrics` of the running processes.
//! * `kubectl apply -k deploy/`, and the Deployment's pod admitted under the restricted Pod
//!   Security Standard.

#[path = "../support/argocd_health.rs"]
mod argocd_health;
#[allow(dead_code)]
#[path = "../support/yaml.rs"]
mod yaml;
// This binary uses only part of the shared harness.
#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use harness::{Cluster, Env, WAIT, cluster, example, operator_aws_env, wait_until};
use serde_json::{Value, json};

/// Lease duration for the fail-over tests (short, to keep them quick).
const LEASE_SECONDS: u64 = 6;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn checked(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// kubectl with a kubeconfig (admin unless told otherwise).
fn kubectl(c: &Cluster, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(c.bin_dir.join("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl")
}

fn admin(c: &Cluster, args: &[&str]) -> String {
    checked(
        kubectl(c, &c.kubeconfig, args),
        &format!("kubectl {args:?}"),
    )
}

fn helm(c: &Cluster, args: &[&str]) -> String {
    let out = Command::new(c.bin_dir.join("helm"))
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(args)
        .output()
        .expect("run helm");
    checked(out, &format!("helm {args:?}"))
}


/// A chart release in its own namespace.
struct Release {
    name: String,
    namespace: String,
    /// The manifest Helm applied.
    objects: Vec<Value>,
}

impl Release {
    fn install(c: &Cluster, name: &str, namespace: &str, values: &[&str]) -> (Self, String) {
        admin(c, &["create", "namespace", namespace]);
        let chart = repo().join("charts/clientvpn-operator");
        let mut args = vec![
            "install",
            name,
            chart.to_str().expect("utf-8 path"),
            "-n",
            namespace,
        ];
        args.extend(values);
        let notes = helm(c, &args);
        let objects = yaml::documents(&helm(c, &["get", "manifest", name, "-n", namespace]));
        (
            Self {
                name: name.into(),
                namespace: namespace.into(),
                objects,
            },
            notes,
        )
    }

    fn deployment(&self) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("the release has a Deployment")
    }

    fn service_account(&self) -> String {
        self.deployment()["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .expect("serviceAccountName")
            .to_string()
    }

    /// The container environment of the Deployment, with the downward-API fields a kubelet would
    /// fill in for a pod called `pod`.
    fn pod_env(&self, pod: &str) -> BTreeMap<String, String> {
        let container = &self.deployment()["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["args"], json!(["run"]));
        container["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| {
                let name = e["name"].as_str().expect("name").to_string();
                let value = match e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                    Some("metadata.name") => pod.to_string(),
                    Some("metadata.namespace") => self.namespace.clone(),
                    Some(other) => panic!("unexpected fieldRef {other}"),
                    None => e["value"].as_str().expect("a plain value").to_string(),
                };
                (name, value)
            })
            .collect()
    }

    fn lease_name(&self) -> String {
        self.pod_env("x")["CLIENTVPN_LEASE_NAME"].clone()
    }

    /// A kubeconfig that authenticates as the release's ServiceAccount (a bound token from the
    /// TokenRequest API), with the admin kubeconfig's server and CA.
    fn service_account_kubeconfig(&self, c: &Cluster) -> PathBuf {
        let sa = self.service_account();
        let token = admin(
            c,
            &[
                "create",
                "token",
                &sa,
                "-n",
                &self.namespace,
                "--duration=2h",
            ],
        );
        let admin_config: Value = yaml::parse(
            &std::fs::read_to_string(&c.kubeconfig).expect("kubeconfig"),
            "kubeconfig",
        );
        let cluster_entry = admin_config["clusters"][0]["cluster"].clone();
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "e2e", "cluster": cluster_entry}],
            "users": [{"name": sa, "user": {"token": token.trim()}}],
            "contexts": [{"name": "sa", "context": {"cluster": "e2e", "user": sa}}],
            "current-context": "sa",
        });
        let path = c.dir.join(format!("kubeconfig-{}-{}", self.namespace, sa));
        std::fs::write(&path, yaml::to_string(&config)).expect("write");
        path
    }

    fn lease_holder(&self, c: &Cluster) -> Option<String> {
        let out = kubectl(
            c,
            &c.kubeconfig,
            &[
                "get",
                "lease",
                &self.lease_name(),
                "-n",
                &self.namespace,
                "-o",
                "jsonpath={.spec.holderIdentity}",
            ],
        );
        let holder = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !holder.is_empty()).then_some(holder)
    }

    fn uninstall(&self, c: &Cluster) {
        helm(
            c,
            &["uninstall", &self.name, "-n", &self.namespace, "--wait"],
        );
    }
}

/// A TCP proxy to the emulator that counts connections: zero connections means zero AWS calls.
struct Proxy {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
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

    fn connections(&self) -> usize {
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
struct Operator {
    pod: String,
    child: Option<Child>,
    metrics: SocketAddr,
    health: SocketAddr,
    log: PathBuf,
}

impl Operator {
    /// Start the binary as the chart's pod `pod` would run: the Deployment's environment, the
    /// ServiceAccount's kubeconfig, AWS pointed at `aws` (emulator or proxy; this overrides an
    /// `AWS_ENDPOINT_URL_EC2` from `extraEnv`), HTTP on free loopback ports.
    fn start(
        c: &Cluster,
        release: &Release,
        pod: &str,
        kubeconfig: &Path,
        aws: SocketAddr,
    ) -> Self {
        let metrics = free_addr();
        let health = free_addr();
        let log = c
            .dir
            .join(format!("logs/operator-{}-{pod}.log", release.namespace));
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut env = release.pod_env(pod);
        env.extend(operator_aws_env(&aws.to_string()));
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

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Wait for the process to exit; panics with its log after `timeout`.
    async fn exited(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}; log:\n{}",
                self.pod,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn get(&self, addr: SocketAddr, path: &str) -> Option<(u16, String)> {
        http_get(addr, path)
    }

    fn metrics_text(&self) -> String {
        match self.get(self.metrics, "/metrics") {
            Some((200, body)) => body,
            other => panic!("{}: /metrics answered {other:?}\n{}", self.pod, self.log()),
        }
    }

    fn metric(&self, series: &str) -> f64 {
        sample(&self.metrics_text(), series).unwrap_or_else(|| {
            panic!("{}: no {series} in /metrics", self.pod);
        })
    }

    /// Sum of every sample of `name` whose labels contain all of `labels` (`k="v"` strings).
    fn metric_sum(&self, name: &str, labels: &[&str]) -> f64 {
        sum_samples(&self.metrics_text(), name, labels)
    }

    async fn ready(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if matches!(self.get(self.health, "/readyz"), Some((200, _))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready; log:\n{}",
                self.pod,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A blocking HTTP/1.1 GET; `None` when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

/// The value of the sample line `series value`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

fn sum_samples(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn applied(env: &Env, manifest: &str) {
    let out = env.apply(manifest);
    assert!(
        out.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The live object as Argo CD sees it (`kubectl get -o json`).
fn live(env: &Env, name: &str) -> Value {
    serde_json::from_str(&env.kubectl(&["get", "clientvpnendpoint", name, "-o", "json"]))
        .expect("JSON")
}

fn endpoint_id(obj: &Value) -> Option<String> {
    obj["status"]["clientVpnEndpointId"]
        .as_str()
        .map(str::to_string)
}

fn condition_true(obj: &Value, type_: &str) -> bool {
    obj["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == type_ && c["status"] == "True")
    })
}

/// A certificate-authenticated endpoint named `name` (no subnets: stays pending-associate).
fn small_manifest(name: &str) -> String {
    json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnEndpoint",
        "metadata": {"name": name},
        "spec": {
            "clientCidrBlock": "10.100.0.0/22",
            "serverCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/server",
            "authenticationOptions": [{
                "type": "certificate-authentication",
                "mutualAuthentication": {
                    "clientRootCertificateChainArn": "arn:aws:acm:us-east-1:123456789012:certificate/root"
                }
            }],
            "vpcId": "vpc-0123456789abcdef0",
            "securityGroupIds": ["sg-0123456789abcdef0"]
        }
    })
    .to_string()
}

async fn wait_for_endpoint_id(env: &Env, name: &str) -> String {
    let mut id = None;
    wait_until(&format!("{name} gets an endpoint ID"), || {
        id = endpoint_id(&live(env, name));
        id.is_some()
    })
    .await;
    id.expect("id")
}

fn can_i(c: &Cluster, kubeconfig: &Path, args: &[&str]) -> bool {
    let mut all = vec!["auth", "can-i"];
    all.extend(args);
    let out = kubectl(c, kubeconfig, &all);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_installed_operator_reconciles_under_its_service_account_with_namespaced_rbac() {
    let env = Env::start_without_operator("install").await;
    let c = cluster();
    let watched = env.namespace.clone();
    let (release, notes) = Release::install(
        &c,
        "cvpn",
        &format!("{watched}-system"),
        &[
            "--set",
            &format!("watchNamespaces={{{watched}}}"),
            "--set",
            "aws.region=us-east-1",
            "--set",
            "clusterName=e2e-install",
            "--set",
            "reconcile.pollInterval=500ms",
            "--set",
            "reconcile.retryBase=500ms",
            "--set",
            "reconcile.resyncInterval=30s",
            "--set",
            "logLevel=info\\,clientvpn_operator=debug",
        ],
    );
    for expected in [
        &format!(
            "kubectl -n {} get pods -l app.kubernetes.io/instance=cvpn",
            release.namespace
        ),
        &format!("namespaces {watched}"),
        "create-pod-identity-association",
        "deploy/iam-policy.json",
    ] {
        assert!(
            notes.contains(expected),
            "NOTES lack {expected:?}:\n{notes}"
        );
    }

    // RBAC as the API server enforces it for the chart's ServiceAccount.
    let sa = release.service_account_kubeconfig(&c);
    let lease = format!("leases/{}", release.lease_name());
    let rel = release.namespace.as_str();
    let allowed: [&[&str]; 7] = [
        &["watch", "clientvpnendpoints.clientvpn.io", "-n", &watched],
        &[
            "patch",
            "clientvpnendpoints.clientvpn.io/status",
            "-n",
            &watched,
        ],
        &[
            "update",
            "clientvpnendpoints.clientvpn.io/finalizers",
            "-n",
            &watched,
        ],
        &["create", "events.events.k8s.io", "-n", &watched],
        &["create", "configmaps", "-n", &watched],
        &["patch", &lease, "-n", rel],
        &["create", "leases.coordination.k8s.io", "-n", rel],
    ];
    for args in allowed {
        assert!(can_i(&c, &sa, args), "the ServiceAccount may not {args:?}");
    }
    let denied: [&[&str]; 7] = [
        &["list", "clientvpnendpoints.clientvpn.io", "-n", "default"],
        &[
            "list",
            "clientvpnendpoints.clientvpn.io",
            "--all-namespaces",
        ],
        &["get", "secrets", "-n", &watched],
        &["create", "pods", "-n", &watched],
        &["delete", "clientvpnendpoints.clientvpn.io", "-n", &watched],
        &["patch", "leases/some-other-lease", "-n", rel],
        &["create", "configmaps", "-n", rel],
    ];
    for args in denied {
        assert!(!can_i(&c, &sa, args), "the ServiceAccount may {args:?}");
    }

    let emulator: SocketAddr = c.emulator.parse().expect("emulator address");
    let mut operator = Operator::start(&c, &release, "cvpn-0", &sa, emulator);
    operator.ready().await;
    assert_eq!(
        operator.get(operator.health, "/healthz").map(|a| a.0),
        Some(200)
    );
    wait_until("the operator holds the Lease", || {
        release.lease_holder(&c).as_deref() == Some("cvpn-0")
    })
    .await;
    assert_eq!(operator.metric("clientvpn_operator_leader"), 1.0);

    // The full example: subnet, rule, route, exported ConfigMap, tags.
    applied(&env, &example("full.yaml"));
    let name = "office-vpn-full";
    let mut obj = Value::Null;
    wait_until("the full example becomes Ready", || {
        obj = live(&env, name);
        condition_true(&obj, "Ready")
    })
    .await;
    assert_eq!(
        obj["status"]["observedGeneration"],
        obj["metadata"]["generation"]
    );
    let id = endpoint_id(&obj).expect("endpoint ID");
    let aws = env.aws_endpoints_of(obj["metadata"]["uid"].as_str().expect("uid"));
    assert_eq!(aws.len(), 1);
    assert_eq!(aws[0]["tags"]["clientvpn.io/cluster"], "e2e-install");
    wait_until("the client configuration ConfigMap is written", || {
        env.kubectl_raw(&["get", "configmap", "office-vpn-client"], None)
            .status
            .success()
    })
    .await;
    let events = env.events(name);
    assert!(events.contains("Normal"), "events:\n{events}");

    // Argo CD's view of the live object.
    let health = argocd_health::health(&argocd_health::script(), &obj).expect("lua");
    assert_eq!(health.0, "Healthy", "{health:?}");

    assert_eq!(
        operator.metric(&format!(
            "clientvpn_operator_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );

    // Deletion through the finalizer, under the same RBAC.
    env.kubectl(&["delete", "clientvpnendpoint", name, "--wait=false"]);
    let mut deleting = Value::Null;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            deleting = live(&env, name);
            if deleting["metadata"]["deletionTimestamp"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    if deleting["metadata"]["deletionTimestamp"].is_string() {
        let health = argocd_health::health(&argocd_health::script(), &deleting).expect("lua");
        assert_eq!(health.0, "Progressing", "deleting: {health:?}");
    }
    env.wait_gone(name).await;
    assert!(
        env.aws_endpoints()
            .iter()
            .filter(|e| e["clientVpnEndpointId"] == id.as_str())
            .all(|e| e["status"] == "deleted"),
        "the AWS endpoint is deleted"
    );

    let log = operator.log();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "the chart's RBAC refused something:\n{log}"
    );
    assert!(
        log.lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "logFormat json (the chart's default) gives one JSON object per line:\n{log}"
    );

    // Graceful stop releases the Lease.
    operator.signal("-TERM");
    let status = operator.exited(Duration::from_secs(20)).await;
    assert!(
        status.success(),
        "SIGTERM exit: {status}\n{}",
        operator.log()
    );
    assert_ne!(release.lease_holder(&c).as_deref(), Some("cvpn-0"));

    release.uninstall(&c);
    assert!(
        !kubectl(
            &c,
            &c.kubeconfig,
            &[
                "get",
                "rolebinding",
                "cvpn-clientvpn-operator",
                "-n",
                &watched
            ]
        )
        .status
        .success(),
        "helm uninstall removes the RBAC"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_calls_aws_and_a_standby_takes_over() {
    let env = Env::start_without_operator("leader").await;
    let c = cluster();
    let lease_duration = format!("{LEASE_SECONDS}s");
    let (release, _) = Release::install(
        &c,
        "ha",
        &format!("{}-system", env.namespace),
        &[
            "--set",
            "replicaCount=2",
            "--set",
            "podDisruptionBudget.enabled=true",
            "--set",
            &format!("leaderElection.leaseDuration={lease_duration}"),
            "--set",
            "reconcile.pollInterval=500ms",
            "--set",
            "reconcile.retryBase=500ms",
            "--set",
            "logFormat=text",
            "--set",
            "extraEnv[0].name=AWS_ENDPOINT_URL_EC2",
            "--set",
            &format!("extraEnv[0].value=http://{}", c.emulator),
        ],
    );
    assert_eq!(
        release.pod_env("x")["AWS_ENDPOINT_URL_EC2"],
        format!("http://{}", c.emulator),
        "extraEnv reaches the container"
    );
    let sa = release.service_account_kubeconfig(&c);
    let proxy_a = Proxy::start(&c.emulator).await;
    let proxy_b = Proxy::start(&c.emulator).await;

    let mut a = Operator::start(&c, &release, "ha-a", &sa, proxy_a.addr);
    a.ready().await;
    wait_until("replica a holds the Lease", || {
        release.lease_holder(&c).as_deref() == Some("ha-a")
    })
    .await;
    let mut b = Operator::start(&c, &release, "ha-b", &sa, proxy_b.addr);
    b.ready().await;
    assert_eq!(b.metric("clientvpn_operator_leader"), 0.0, "b is a standby");
    assert_eq!(a.metric("clientvpn_operator_leader"), 1.0);

    applied(&env, &small_manifest("first"));
    wait_for_endpoint_id(&env, "first").await;
    // Let a resync or two pass: the standby still must not call AWS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(proxy_a.connections() > 0, "the leader called AWS");
    assert_eq!(proxy_b.connections(), 0, "the standby called AWS");
    assert_eq!(
        b.metric_sum("clientvpn_operator_aws_api_requests_total", &[]),
        0.0
    );
    assert_eq!(
        b.metric_sum("controller_runtime_reconcile_total", &[]),
        0.0,
        "the standby does not reconcile"
    );
    assert!(
        a.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[
                "operation=\"CreateClientVpnEndpoint\"",
                "outcome=\"success\""
            ]
        ) >= 1.0
    );

    // The leader dies without releasing the Lease: the standby takes over within the lease
    // duration of the last renewal (plus at most a second of jitter).
    a.kill();
    let killed = Instant::now();
    wait_until("replica b takes the Lease", || {
        release.lease_holder(&c).as_deref() == Some("ha-b")
    })
    .await;
    let takeover = killed.elapsed();
    assert!(
        takeover <= Duration::from_secs(LEASE_SECONDS + 3),
        "takeover took {takeover:?} with a {LEASE_SECONDS}s lease"
    );
    applied(&env, &small_manifest("second"));
    wait_for_endpoint_id(&env, "second").await;
    assert!(proxy_b.connections() > 0, "the new leader calls AWS");
    assert_eq!(b.metric("clientvpn_operator_leader"), 1.0);
    assert_eq!(b.metric("clientvpn_operator_leader_transitions_total"), 1.0);
    assert!(
        b.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[
                "operation=\"CreateClientVpnEndpoint\"",
                "outcome=\"success\""
            ]
        ) >= 1.0,
        "the new leader's AWS calls are counted"
    );
    assert!(
        b.metric_sum(
            "controller_runtime_reconcile_total",
            &["result=\"success\""]
        ) >= 1.0
    );

    // A graceful stop hands over too: SIGTERM, exit 0, the standby takes the released Lease.
    let proxy_c = Proxy::start(&c.emulator).await;
    let mut c_op = Operator::start(&c, &release, "ha-c", &sa, proxy_c.addr);
    c_op.ready().await;
    b.signal("-TERM");
    let status = b.exited(Duration::from_secs(20)).await;
    assert!(status.success(), "b after SIGTERM: {status}\n{}", b.log());
    let stopped = Instant::now();
    wait_until("replica c takes the Lease", || {
        release.lease_holder(&c).as_deref() == Some("ha-c")
    })
    .await;
    assert!(stopped.elapsed() <= Duration::from_secs(LEASE_SECONDS + 3));
    applied(&env, &small_manifest("third"));
    wait_for_endpoint_id(&env, "third").await;
    assert!(proxy_c.connections() > 0);
    env.kubectl(&["delete", "clientvpnendpoint", "--all", "--wait=false"]);
    for name in ["first", "second", "third"] {
        env.wait_gone(name).await;
    }

    // A leader that sees another holder on its Lease stops at once, with an error.
    admin(
        &c,
        &[
            "patch",
            "lease",
            &release.lease_name(),
            "-n",
            &release.namespace,
            "--type=merge",
            "-p",
            r#"{"spec":{"holderIdentity":"intruder"}}"#,
        ],
    );
    let status = c_op.exited(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(1), "{}", c_op.log());
    assert!(c_op.log().contains("leadership lost"), "{}", c_op.log());

    release.uninstall(&c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_manifests_apply_and_the_pod_is_admitted_as_restricted() {
    let _env = Env::start_without_operator("deploy").await;
    let c = cluster();
    let out = kubectl(
        &c,
        &c.kubeconfig,
        &[
            "apply",
            "--server-side",
            "-k",
            repo().join("deploy").to_str().expect("path"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    checked(out, "kubectl apply -k deploy/");
    assert!(!stderr.contains("PodSecurity"), "{stderr}");

    // The Deployment's pod template as a Pod in the restricted namespace: the Pod Security
    // admission (enforce=restricted) must accept it. (No scheduler: it stays Pending.)
    let deployment: Value = serde_json::from_str(&admin(
        &c,
        &[
            "get",
            "deployment",
            "clientvpn-operator",
            "-n",
            "clientvpn-system",
            "-o",
            "json",
        ],
    ))
    .expect("JSON");
    let template = &deployment["spec"]["template"];
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "restricted-check", "namespace": "clientvpn-system", "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    });
    let mut child = Command::new(c.bin_dir.join("kubectl"))
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["create", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pod.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("kubectl");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    checked(out, "creating the operator pod under enforce=restricted");
    assert!(!stderr.contains("violate"), "{stderr}");

    // The same pod with a root user is refused: the admission really enforces.
    let mut root = pod.clone();
    root["metadata"]["name"] = json!("root-check");
    root["spec"]["securityContext"]["runAsNonRoot"] = json!(false);
    root["spec"]["securityContext"]["runAsUser"] = json!(0);
    let mut child = Command::new(c.bin_dir.join("kubectl"))
        .arg("--kubeconfig")
        .arg(&c.kubeconfig)
        .args(["create", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(root.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("kubectl");
    assert!(!out.status.success(), "a root pod must be refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("restricted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Clean up everything but the CRD (shared by this test binary).
    admin(
        &c,
        &["delete", "namespace", "clientvpn-system", "--wait=false"],
    );
    admin(
        &c,
        &[
            "delete",
            "clusterrole,clusterrolebinding",
            "-l",
            "app.kubernetes.io/instance=clientvpn-operator",
        ],
    );
}

/// `/metrics` counters move: reconciles by result, their duration, AWS calls by action and
/// outcome, errors by category, endpoints by AWS status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_reconciles_aws_calls_and_endpoints() {
    let env = Env::start_without_operator("metrics").await;
    let c = cluster();
    let (release, _) = Release::install(
        &c,
        "m",
        &format!("{}-system", env.namespace),
        &[
            "--set",
            &format!("watchNamespaces={{{}}}", env.namespace),
            "--set",
            "reconcile.pollInterval=500ms",
        ],
    );
    let sa = release.service_account_kubeconfig(&c);
    let emulator: SocketAddr = c.emulator.parse().expect("emulator address");
    let operator = Operator::start(&c, &release, "m-0", &sa, emulator);
    operator.ready().await;
    let before = operator.metrics_text();
    assert_eq!(
        sum_samples(&before, "controller_runtime_reconcile_total", &[]),
        0.0
    );

    applied(&env, &example("full.yaml"));
    wait_until("the full example becomes Ready", || {
        condition_true(&live(&env, "office-vpn-full"), "Ready")
    })
    .await;
    let ok = |op: &str| {
        operator.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[&format!("operation=\"{op}\""), "outcome=\"success\""],
        )
    };
    for op in [
        "CreateClientVpnEndpoint",
        "DescribeClientVpnEndpoints",
        "AssociateClientVpnTargetNetwork",
        "AuthorizeClientVpnIngress",
        "CreateClientVpnRoute",
        "ExportClientVpnClientConfiguration",
    ] {
        assert!(ok(op) >= 1.0, "{op}: {}", operator.metrics_text());
    }
    assert!(
        operator.metric_sum(
            "controller_runtime_reconcile_total",
            &["result=\"success\""]
        ) >= 1.0
    );
    assert!(operator.metric_sum("controller_runtime_reconcile_time_seconds_count", &[]) >= 1.0);
    wait_until("the endpoint gauge shows one available endpoint", || {
        operator.metric_sum("clientvpn_operator_endpoints", &["status=\"available\""]) == 1.0
    })
    .await;

    // A terminal error counts by category and outcome.
    env.emulator_call(
        "POST",
        "/_emulator/faults/fail-next",
        Some(json!({"action": "CreateClientVpnEndpoint", "count": 1, "code": "InvalidParameterValue"})),
    );
    applied(&env, &small_manifest("broken"));
    wait_until("the terminal error is counted", || {
        operator.metric_sum(
            "clientvpn_operator_reconcile_errors_total",
            &["category=\"AwsTerminal\""],
        ) >= 1.0
            && operator.metric_sum(
                "clientvpn_operator_aws_api_requests_total",
                &[
                    "operation=\"CreateClientVpnEndpoint\"",
                    "outcome=\"terminal\"",
                ],
            ) >= 1.0
    })
    .await;
}
