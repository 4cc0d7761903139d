//! People (`ClientVpnUser`): N users of one managed-CA endpoint issued at once, next to the
//! floor of N RSA-2048 key generations on every core in the same run; sequential revocations
//! (patch `spec.revoked` → `status.revoked`) with a live session among the N; the operator's
//! RSS before and after the N users. See bench/README.md, "People".

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clientvpn_operator::api::{ClientVpnEndpoint, ClientVpnUser};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PartialObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use tokio::sync::watch;

use crate::emulator::{self, Emulator, OPERATOR_ACCESS_KEY};
use crate::fleet;
use crate::operator::{Memory, Operator};
use crate::report::{percentile, verdict};

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
struct SecretWatch {
    count: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl SecretWatch {
    async fn start(api: Api<PartialObjectMeta<Secret>>) -> Self {
        let (count_tx, count) = watch::channel(0);
        let (synced_tx, synced) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut synced_tx = Some(synced_tx);
            let mut seen = std::collections::HashSet::new();
            let config = watcher::Config::default().labels(MANAGED_BY);
            let mut events = watcher(api, config).default_backoff().boxed();
            while let Some(event) = events.next().await {
                let secret = match event {
                    Ok(watcher::Event::Apply(s) | watcher::Event::InitApply(s)) => s,
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = synced_tx.take() {
                            let _ = tx.send(());
                        }
                        continue;
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        eprintln!("[bench] users: Secret watch error (retrying): {e}");
                        continue;
                    }
                };
                let has_serial = secret
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(SERIAL_ANNOTATION));
                let Some(name) = secret
                    .metadata
                    .name
                    .filter(|n| has_serial && n.starts_with("user-") && n.ends_with("-vpn"))
                else {
                    continue;
                };
                if seen.insert(name) {
                    let _ = count_tx.send(seen.len());
                }
            }
        });
        synced.await.expect("the Secret watch lists the namespace");
        Self { count, task }
    }

    async fn wait_count(&mut self, target: usize, timeout: Duration) -> usize {
        let _ = tokio::time::timeout(timeout, self.count.wait_for(|n| *n >= target)).await;
        *self.count.borrow()
    }
}

impl Drop for SecretWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
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
    let started = Instant::now();
    let total = || {
        emulator
            .calls()
            .as_object()
            .map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum::<u64>())
    };
    let (mut last, mut since) = (total(), Instant::now());
    while started.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = total();
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return;
        }
    }
    eprintln!("[bench] users: the emulator did not go quiet within {timeout:?}");
}

/// One size: its floor, then a fresh namespace and operator: the endpoint, the N users, the
/// revocations.
pub async fn run(
    client: &kube::Client,
    kubeconfig: &std::path::Path,
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
        kubeconfig,
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

    let mut watch = SecretWatch::start(Api::namespaced(client.clone(), &namespace)).await;
    let names: Vec<String> = (0..n).map(user_name).collect();
    let ticks = op.cpu_ticks();
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

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Heading of the section (the splice in `scale.rs` replaces it up to the next `## `).
pub const HEADING: &str = "## People (ClientVpnUser)";

/// The markdown section.
pub fn render(results: &[UsersResult], how: &str, settings: &Settings, clk_tck: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADING}\n");
    let _ = writeln!(out, "{how}");
    let concurrency = settings
        .user_concurrency
        .map_or_else(|| "8 (its default)".to_string(), |c| c.to_string());
    let _ = writeln!(
        out,
        "- Per N: a fresh namespace `bench-users-<N>` and operator (`--user-concurrency {concurrency}`, \
         every other flag as above), the emulator reset with zero delays (association, rules, \
         routes, CRL activation, session termination). One endpoint with the essentials of \
         examples/managed.yaml (managed CA, mutual authentication, one subnet, one rule), \
         available before the users. The N users (`endpointRef` only) are created \
         {} at a time; issuance = first create → a watch has seen all N Secrets `<user>-vpn` \
         with the `{SERIAL_ANNOTATION}` annotation.",
        settings.apply_concurrency
    );
    let _ = writeln!(
        out,
        "- Floor, in the same run before the operator starts: N × \
         `rcgen::KeyPair::generate_for(&PKCS_RSA_SHA256)` (aws-lc-rs, the operator's call) on \
         `available_parallelism()` threads; key generation only (no signing, no Kubernetes). \
         Ratio = issuance ÷ floor."
    );
    let _ = writeln!(
        out,
        "- Revocation: sequentially, for {} users spread over the N: connect a simulated session \
         with the user's `tls.crt`/`tls.key` (`POST /_emulator/connections`), open a watch on the \
         user, merge-patch `spec.revoked: true`, time until the watch shows `status.revoked: true`; \
         then the session's state in `DescribeClientVpnConnections` and the \
         `{IMPORT_CRL}` calls during the sample. 1 s between samples (past the 500-ms batch \
         window). Nearest-rank percentiles (p99 of {} is the maximum).",
        settings.revocations, settings.revocations
    );
    let _ = writeln!(
        out,
        "- RSS: `VmRSS` of the operator with the endpoint available and no users (\"before\"), and \
         once all N are Ready and the emulator has been quiet for 3 s (\"after\").\n"
    );

    let _ = writeln!(out, "| Target | Measured | Met |\n|---|---|---|");
    for r in results {
        match r.ratio() {
            Some(ratio) => {
                let _ = writeln!(
                    out,
                    "| N={}: issuance ≤ {ISSUANCE_RATIO_TARGET}× key-generation floor | {ratio:.2}× ({} ÷ {}) | {} |",
                    r.n,
                    secs(r.issuance.unwrap_or_default()),
                    secs(r.floor),
                    verdict(ratio <= ISSUANCE_RATIO_TARGET)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| N={}: issuance ≤ {ISSUANCE_RATIO_TARGET}× key-generation floor | {} of {} Secrets after {} s | {} |",
                    r.n,
                    r.secrets,
                    r.n,
                    settings.timeout.as_secs(),
                    verdict(false)
                );
            }
        }
    }
    for r in results.iter().filter(|r| !r.revocations.is_empty()) {
        let p50 = percentile(&r.latencies(), 50.0);
        let _ = writeln!(
            out,
            "| N={}: revocation p50 < {} s (zero-delay emulator) | {} (p99 {}, {} samples) | {} |",
            r.n,
            REVOCATION_P50_TARGET.as_secs(),
            ms(p50),
            ms(percentile(&r.latencies(), 99.0)),
            r.revocations.len(),
            verdict(p50 < REVOCATION_P50_TARGET && r.revocations_missing == 0)
        );
    }
    for r in results.iter().filter(|r| r.n >= RSS_TARGET_USERS) {
        let delta = r.rss_delta_mib();
        let _ = writeln!(
            out,
            "| N={}: RSS growth ≤ +{RSS_DELTA_TARGET_MIB:.0} MiB | {delta:+.1} MiB ({} → {}) | {} |",
            r.n,
            mib(r.before.rss_kib),
            mib(r.after.rss_kib),
            verdict(delta <= RSS_DELTA_TARGET_MIB && r.all_ready.is_some())
        );
    }

    let _ = writeln!(
        out,
        "\n| Users | Floor | Issuance | Ratio | Issued/s | All Ready | Operator CPU (issuance) | \
         Revocation p50 | p99 | RSS before | RSS after | Δ RSS | Peak RSS (end) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in results {
        let latencies = r.latencies();
        let (p50, p99) = if latencies.is_empty() {
            ("–".to_string(), "–".to_string())
        } else {
            (
                ms(percentile(&latencies, 50.0)),
                ms(percentile(&latencies, 99.0)),
            )
        };
        let _ = writeln!(
            out,
            "| {} | {} ({} threads) | {} | {} | {} | {} | {:.1} s | {p50} | {p99} | {} | {} | {:+.1} MiB | {} |",
            r.n,
            secs(r.floor),
            r.threads,
            r.issuance
                .map_or_else(|| format!("{} of {} Secrets", r.secrets, r.n), secs),
            r.ratio().map_or_else(|| "–".into(), |x| format!("{x:.2}×")),
            r.issuance.map_or_else(
                || "–".into(),
                |d| format!("{:.1}", r.n as f64 / d.as_secs_f64())
            ),
            r.all_ready
                .map_or_else(|| format!("{} not Ready", r.not_ready_count), secs),
            r.issuance_cpu_ticks as f64 / clk_tck.max(1) as f64,
            mib(r.before.rss_kib),
            mib(r.after.rss_kib),
            r.rss_delta_mib(),
            mib(r.end.peak_kib),
        );
    }
    for r in results {
        let _ = writeln!(out, "\nN = {}: creates sent in {}.", r.n, secs(r.applied));
        if !r.not_ready.is_empty() {
            let _ = writeln!(
                out,
                "{} users not Ready after the wait; the first: {}.",
                r.not_ready_count,
                r.not_ready
                    .iter()
                    .map(|(n, reason, msg)| format!("`{n}` {reason}: {msg}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        if r.revocations_missing > 0 {
            let _ = writeln!(
                out,
                "{} revocation samples failed (see the benchmark's stderr).",
                r.revocations_missing
            );
        }
        if !r.revocations.is_empty() {
            let mut imports: HashMap<u64, usize> = HashMap::new();
            let mut sessions: HashMap<String, usize> = HashMap::new();
            let mut terminated: HashMap<String, usize> = HashMap::new();
            for s in &r.revocations {
                *imports.entry(s.imports).or_default() += 1;
                *sessions.entry(s.session.clone()).or_default() += 1;
                let t = s
                    .sessions_terminated
                    .map_or("none".into(), |t| t.to_string());
                *terminated.entry(t).or_default() += 1;
            }
            let tally = |m: HashMap<String, usize>| {
                let mut v: Vec<_> = m.into_iter().collect();
                v.sort();
                v.iter()
                    .map(|(k, c)| format!("{k} × {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let imports = imports
                .into_iter()
                .map(|(k, c)| (k.to_string(), c))
                .collect();
            let _ = writeln!(
                out,
                "Revocations: {IMPORT_CRL} calls per sample: {}; the session afterwards: {}; \
                 `status.revocation.sessionsTerminated`: {}. Samples (ms): {}.",
                tally(imports),
                tally(sessions),
                tally(terminated),
                r.revocations
                    .iter()
                    .map(|s| format!("{} {:.0}", s.user, s.latency.as_secs_f64() * 1000.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out
}

/// `existing` with the section starting at [`HEADING`] (up to the next `## ` heading or the
/// end) replaced by `section`, or `section` appended.
pub fn splice(existing: &str, section: &str) -> String {
    let Some(start) = existing.find(HEADING) else {
        let mut out = existing.trim_end().to_string();
        out.push_str("\n\n");
        out.push_str(section);
        return out;
    };
    let after = start + HEADING.len();
    let end = existing[after..]
        .find("\n## ")
        .map_or(existing.len(), |i| after + i + 1);
    let mut out = existing[..start].to_string();
    out.push_str(section);
    if end < existing.len() {
        out.push('\n');
        out.push_str(&existing[end..]);
    }
    out
}
