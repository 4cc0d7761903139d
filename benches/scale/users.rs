//! People (`ClientVpnUser`): N users of one managed-CA endpoint issued at once, next to the
//! floor of N RSA-2048 key generations on every core in the same run; sequential revocations
//! (patch `spec.revoked` → `status.revoked`) with a live session among the N; the operator's
//! RSS before and after the N users. See bench/README.md, "People".

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clientvpn_operator::api::{ClientVpnEndpoint, ClientVpnUser};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PartialObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use crate::control_plane::ControlPlane;
use crate::emulator::{self, Emulator, OPERATOR_ACCESS_KEY};
use crate::fleet::{self, FirstSeen};
use crate::operator::{Memory, Operator, cpu_ticks_of};
use crate::report::percentile;

#[path = "users_report.rs"]
mod section;
pub use section::{render, splice};

/// The operator's default `--resync-interval`: this phase measures latencies, so it runs the
/// operator as production does rather than at the other phases' compressed resync.
pub const USERS_RESYNC: &str = "5m";
/// The endpoint the users belong to.
const ENDPOINT: &str = "people";
/// Label every Secret the operator writes carries.
const MANAGED_BY: &str = "app.kubernetes.io/managed-by=clientvpn-operator";
/// Annotation with the serial of the certificate in a user's Secret.
const SERIAL_ANNOTATION: &str = "clientvpn.io/serial";
const IMPORT_CRL: &str = "ImportClientVpnClientCertificateRevocationList";
/// Targets of the issue: issuance ≤ 1.3× the key-generation floor, revocation p50 < 2 s,
/// RSS growth ≤ 64 MiB for 5,000 users.
const ISSUANCE_RATIO_TARGET: f64 = 1.3;
const REVOCATION_P50_TARGET: Duration = Duration::from_secs(2);
const RSS_DELTA_TARGET_MIB: f64 = 64.0;
const RSS_TARGET_USERS: usize = 5000;
/// The control plane's processes whose CPU time during issuance is reported (`<name>.pid` in
/// its directory).
const CONTROL_PLANE_PROCESSES: &[&str] = &["kube-apiserver", "etcd"];
/// Resources whose kube-apiserver requests during issuance are reported.
const USER_RESOURCES: &[&str] = &["clientvpnusers", "secrets", "events", "clientvpnendpoints"];

/// What the phase is told.
pub struct Settings {
    /// Sequential revocations per size.
    pub revocations: usize,
    /// Creates in flight while applying the users.
    pub apply_concurrency: usize,
    /// `--user-concurrency` for the operator (`None`: its default).
    pub user_concurrency: Option<u16>,
    /// Give up waiting for all Secrets after this long.
    pub timeout: Duration,
}

/// One revocation sample.
pub struct Revocation {
    pub user: String,
    /// Merge patch of `spec.revoked` sent → the watch shows `status.revoked == true`.
    pub latency: Duration,
    /// `ImportClientVpnClientCertificateRevocationList` calls during the sample.
    pub imports: u64,
    /// `status.revocation.sessionsTerminated`.
    pub sessions_terminated: Option<u32>,
    /// The simulated session's state in `DescribeClientVpnConnections` afterwards.
    pub session: String,
}

/// Everything measured for one number of users.
pub struct UsersResult {
    pub n: usize,
    /// Wall time of N RSA-2048 key generations on `threads` threads.
    pub floor: Duration,
    pub threads: usize,
    /// First create → all N Secrets with a serial (`None`: timed out).
    pub issuance: Option<Duration>,
    /// Secrets seen when the wait ended.
    pub secrets: usize,
    /// Time to send the N creates.
    pub applied: Duration,
    /// First create → all N users Ready=True (`None`: not within the wait).
    pub all_ready: Option<Duration>,
    /// Users not Ready at the end of the wait: (name, reason, message), the first few.
    pub not_ready: Vec<(String, String, String)>,
    pub not_ready_count: usize,
    /// Operator CPU time during issuance, in clock ticks.
    pub issuance_cpu_ticks: u64,
    /// kube-apiserver and etcd CPU time during issuance, in clock ticks.
    pub control_plane_cpu_ticks: u64,
    /// Idle CPU time of the whole machine during issuance (all cores), in clock ticks.
    pub idle_cpu_ticks: u64,
    /// kube-apiserver requests during issuance (all clients, the benchmark's creates included),
    /// by verb, resource and subresource.
    pub requests: BTreeMap<String, f64>,
    /// RSS with the endpoint available and no users, then with the N users Ready.
    pub before: Memory,
    pub after: Memory,
    /// At the end (after the revocations).
    pub end: Memory,
    pub revocations: Vec<Revocation>,
    pub revocations_missing: usize,
}

impl UsersResult {
    pub fn ratio(&self) -> Option<f64> {
        let floor = self.floor.as_secs_f64();
        self.issuance
            .filter(|_| floor > 0.0)
            .map(|d| d.as_secs_f64() / floor)
    }

    fn latencies(&self) -> Vec<Duration> {
        self.revocations.iter().map(|r| r.latency).collect()
    }

    fn rss_delta_mib(&self) -> f64 {
        (self.after.rss_kib as f64 - self.before.rss_kib as f64) / 1024.0
    }
}

/// N RSA-2048 key generations with the operator's library and call
/// (`rcgen::KeyPair::generate_for(&PKCS_RSA_SHA256)`, aws-lc-rs), spread over every core: wall
/// time and the thread count.
pub async fn floor(n: usize) -> (Duration, usize) {
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        let next = AtomicUsize::new(0);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
                            .expect("RSA-2048 key");
                        std::hint::black_box(key);
                    }
                });
            }
        });
        (started.elapsed(), threads)
    })
    .await
    .expect("the floor's threads")
}

/// Idle time of every core so far, in clock ticks (`idle + iowait` of `/proc/stat`'s `cpu`).
fn machine_idle_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0)
}

/// The essentials of examples/managed.yaml: managed server certificate, mutual authentication
/// with the same CA, one target network, one authorization rule.
fn endpoint_manifest() -> ClientVpnEndpoint {
    serde_json::from_value(json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnEndpoint",
        "metadata": {"name": ENDPOINT},
        "spec": {
            "clientCidrBlock": "10.100.0.0/22",
            "serverCertificate": {"managed": {}},
            "authenticationOptions": [
                {"type": "certificate-authentication", "mutualAuthentication": {}}
            ],
            "connectionLogOptions": {"enabled": false},
            "targetNetworks": [{"subnetId": "subnet-0123456789abcdef1"}],
            "authorizationRules": [
                {"targetNetworkCidr": "10.0.0.0/16", "authorizeAllGroups": true}
            ]
        }
    }))
    .expect("valid ClientVpnEndpoint")
}

fn user_manifest(name: &str) -> ClientVpnUser {
    serde_json::from_value(json!({
        "apiVersion": "clientvpn.io/v1alpha1",
        "kind": "ClientVpnUser",
        "metadata": {"name": name},
        "spec": {"endpointRef": {"name": ENDPOINT}}
    }))
    .expect("valid ClientVpnUser")
}

fn user_name(i: usize) -> String {
    format!("user-{i:05}")
}

/// A metadata-only watch on the operator's Secrets in one namespace (so the benchmark's own
/// watch does not ship every key and profile), counting the users' Secrets (`<user>-vpn`) that
/// carry a serial annotation.
async fn secret_watch(api: Api<PartialObjectMeta<Secret>>) -> FirstSeen {
    let config = watcher::Config::default().labels(MANAGED_BY);
    FirstSeen::watch(api, config, |secret: &PartialObjectMeta<Secret>| {
        let has_serial = secret
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(SERIAL_ANNOTATION));
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        has_serial && name.starts_with("user-") && name.ends_with("-vpn")
    })
    .await
}

fn ready(user: &ClientVpnUser) -> bool {
    ready_condition(user).is_some_and(|c| c.status == "True")
}

fn ready_condition(
    user: &ClientVpnUser,
) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    user.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
}

fn import_calls(emulator: &Emulator) -> u64 {
    emulator.calls_of(IMPORT_CRL)
}

/// Wait until the emulator's call counters stay unchanged for `quiet` (at most `timeout`).
async fn wait_quiet(emulator: &Emulator, quiet: Duration, timeout: Duration) {
    if crate::wait_idle(emulator, quiet, timeout).await.is_none() {
        eprintln!("[bench] users: the emulator did not go quiet within {timeout:?}");
    }
}

/// One size: its floor, then a fresh namespace and operator: the endpoint, the N users, the
/// revocations.
pub async fn run(
    client: &kube::Client,
    cp: &ControlPlane,
    emulator: &Emulator,
    log: &std::path::Path,
    n: usize,
    settings: &Settings,
) -> UsersResult {
    eprintln!("[bench] users N={n}: floor ({n} RSA-2048 key generations)");
    let (floor, threads) = floor(n).await;
    eprintln!("[bench] users N={n}: floor {floor:?} on {threads} threads");

    let namespace = format!("bench-users-{n}");
    emulator.control("POST", "/_emulator/reset", None);
    emulator.control(
        "POST",
        "/_emulator/timing",
        Some(json!({
            "association_delay_ms": 0, "rule_delay_ms": 0, "route_delay_ms": 0,
            "crl_delay_ms": 0, "terminate_delay_ms": 0
        })),
    );
    fleet::create_namespace(client, &namespace).await;
    let endpoints: Api<ClientVpnEndpoint> = Api::namespaced(client.clone(), &namespace);
    let users: Api<ClientVpnUser> = Api::namespaced(client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let user_concurrency = settings.user_concurrency.map(|c| c.to_string());
    let mut extra = Vec::new();
    if let Some(c) = user_concurrency.as_deref() {
        extra.extend(["--user-concurrency", c]);
    }
    let op = Operator::start_with(
        &cp.kubeconfig,
        emulator.addr(),
        &namespace,
        USERS_RESYNC,
        log,
        &extra,
    )
    .await;

    endpoints
        .create(&PostParams::default(), &endpoint_manifest())
        .await
        .expect("create the users' endpoint");
    let endpoint_id = wait_available(&endpoints).await;
    wait_quiet(emulator, Duration::from_secs(3), Duration::from_secs(60)).await;
    let before = op.memory();
    eprintln!(
        "[bench] users N={n}: endpoint {endpoint_id} available; operator RSS {:.1} MiB",
        before.rss_kib as f64 / 1024.0
    );

    let mut watch = secret_watch(Api::namespaced(client.clone(), &namespace)).await;
    let names: Vec<String> = (0..n).map(user_name).collect();
    let ticks = op.cpu_ticks();
    let control_plane_ticks = || {
        CONTROL_PLANE_PROCESSES
            .iter()
            .filter_map(|name| std::fs::read_to_string(cp.dir.join(format!("{name}.pid"))).ok())
            .filter_map(|pid| cpu_ticks_of(pid.trim().parse().ok()?))
            .sum::<u64>()
    };
    let (idle_ticks, cp_ticks, requests) = (
        machine_idle_ticks(),
        control_plane_ticks(),
        crate::kube_requests(cp, USER_RESOURCES),
    );
    let started = Instant::now();
    futures::stream::iter(&names)
        .map(|name| {
            let users = users.clone();
            async move {
                users
                    .create(&PostParams::default(), &user_manifest(name))
                    .await
                    .map_err(|e| format!("create {name}: {e}"))
            }
        })
        .buffer_unordered(settings.apply_concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let applied = started.elapsed();
    let mut secrets_seen = 0;
    while secrets_seen < n && started.elapsed() < settings.timeout {
        let step = Duration::from_secs(10).min(settings.timeout.saturating_sub(started.elapsed()));
        secrets_seen = watch.wait_count(n, step).await;
        eprintln!(
            "[bench] users N={n}: {secrets_seen} Secrets after {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let issuance = (secrets_seen >= n).then(|| started.elapsed());
    let issuance_cpu_ticks = op.cpu_ticks() - ticks;
    let control_plane_cpu_ticks = control_plane_ticks() - cp_ticks;
    let idle_cpu_ticks = machine_idle_ticks() - idle_ticks;
    let requests = crate::prom::delta(&requests, &crate::kube_requests(cp, USER_RESOURCES));
    drop(watch);

    // Every user Ready (the Secret is written before the status).
    let ready_deadline = Instant::now() + Duration::from_secs(120);
    let (all_ready, not_ready, not_ready_count) = loop {
        let listed = users
            .list(&ListParams::default())
            .await
            .expect("list users");
        let pending: Vec<&ClientVpnUser> = listed.items.iter().filter(|u| !ready(u)).collect();
        if pending.is_empty() {
            break (Some(started.elapsed()), Vec::new(), 0);
        }
        if Instant::now() >= ready_deadline {
            let first = pending
                .iter()
                .take(5)
                .map(|u| {
                    let (reason, message) = ready_condition(u).map_or_else(
                        || ("(no Ready condition)".to_string(), String::new()),
                        |c| (c.reason.clone(), c.message.clone()),
                    );
                    (u.metadata.name.clone().unwrap_or_default(), reason, message)
                })
                .collect();
            break (None, first, pending.len());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    eprintln!(
        "[bench] users N={n}: issuance {issuance:?} (floor {floor:?}), all Ready {all_ready:?}, \
         {not_ready_count} not Ready"
    );
    wait_quiet(emulator, Duration::from_secs(3), Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = op.memory();
    eprintln!(
        "[bench] users N={n}: operator RSS {:.1} MiB with the users (before {:.1} MiB)",
        after.rss_kib as f64 / 1024.0,
        before.rss_kib as f64 / 1024.0
    );

    let sdk = emulator::sdk_config(&emulator.url(), OPERATOR_ACCESS_KEY).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let mut revocations = Vec::new();
    let samples = settings.revocations.min(n);
    for i in 0..samples {
        let name = user_name(i * n / samples.max(1));
        match revoke(&users, &secrets, emulator, &ec2, &endpoint_id, &name).await {
            Ok(r) => {
                eprintln!(
                    "[bench] users N={n}: revoked {name} in {:?} ({} import(s), session {}, \
                     sessionsTerminated {:?})",
                    r.latency, r.imports, r.session, r.sessions_terminated
                );
                revocations.push(r);
            }
            Err(e) => eprintln!("[bench] users N={n}: revocation of {name}: {e}"),
        }
        // Past the batch window, so each revocation is its own list.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let end = op.memory();
    eprintln!(
        "[bench] users N={n}: revocation p50 {:?}, p99 {:?}; operator log {}",
        percentile(
            &revocations.iter().map(|r| r.latency).collect::<Vec<_>>(),
            50.0
        ),
        percentile(
            &revocations.iter().map(|r| r.latency).collect::<Vec<_>>(),
            99.0
        ),
        op.log().display()
    );
    UsersResult {
        n,
        floor,
        threads,
        issuance,
        secrets: secrets_seen,
        applied,
        all_ready,
        not_ready,
        not_ready_count,
        issuance_cpu_ticks,
        control_plane_cpu_ticks,
        idle_cpu_ticks,
        requests,
        before,
        after,
        end,
        revocations_missing: samples - revocations.len(),
        revocations,
    }
}

/// Wait until the endpoint is `available`; its ID.
async fn wait_available(api: &Api<ClientVpnEndpoint>) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let obj = api.get(ENDPOINT).await.expect("get the users' endpoint");
        let status = obj.status.as_ref();
        let code = status.and_then(|s| s.status.as_ref()?.code.clone());
        if code.as_deref() == Some("available") {
            return status
                .and_then(|s| s.client_vpn_endpoint_id.clone())
                .expect("an available endpoint has an ID");
        }
        assert!(
            Instant::now() < deadline,
            "endpoint {ENDPOINT} not available after 120 s: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Connect a simulated session with the user's Secret, revoke the user, time the patch until
/// the watch shows `status.revoked`, then look at the session.
async fn revoke(
    users: &Api<ClientVpnUser>,
    secrets: &Api<Secret>,
    emulator: &Emulator,
    ec2: &aws_sdk_ec2::Client,
    endpoint_id: &str,
    name: &str,
) -> Result<Revocation, String> {
    let secret = secrets
        .get(&format!("{name}-vpn"))
        .await
        .map_err(|e| format!("get the Secret: {e}"))?;
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| {
        data.get(key)
            .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            .ok_or_else(|| format!("the Secret has no {key}"))
    };
    let body = json!({
        "clientVpnEndpointId": endpoint_id,
        "certificate": text("tls.crt")?,
        "privateKey": text("tls.key")?,
    });
    let (code, session) = emulator::control_answer(
        emulator.addr(),
        "POST",
        "/_emulator/connections",
        Some(body),
    );
    if code != 200 {
        return Err(format!("connect: HTTP {code} {session}"));
    }
    let connection_id = session["connectionId"]
        .as_str()
        .ok_or("connect: no connectionId")?
        .to_string();

    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher(users.clone(), config).default_backoff().boxed();
    while !matches!(events.next().await, Some(Ok(watcher::Event::InitDone))) {}
    let imports = import_calls(emulator);
    let started = Instant::now();
    users
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"revoked": true}})),
        )
        .await
        .map_err(|e| format!("patch: {e}"))?;
    let revoked = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.next().await {
            if let Ok(watcher::Event::Apply(user)) = event
                && user.status.as_ref().is_some_and(|s| s.revoked)
            {
                return Some(user);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or("status.revoked not true within 60 s")?;
    let latency = started.elapsed();
    let imports = import_calls(emulator) - imports;
    let listed = ec2
        .describe_client_vpn_connections()
        .client_vpn_endpoint_id(endpoint_id)
        .send()
        .await
        .map_err(|e| format!("DescribeClientVpnConnections: {e}"))?;
    let session = listed
        .connections()
        .iter()
        .find(|c| c.connection_id() == Some(connection_id.as_str()))
        .and_then(|c| c.status()?.code())
        .map_or_else(|| "not listed".to_string(), |c| c.as_str().to_string());
    Ok(Revocation {
        user: name.to_string(),
        latency,
        imports,
        sessions_terminated: revoked
            .status
            .and_then(|s| s.revocation)
            .and_then(|r| r.sessions_terminated),
        session,
    })
}
