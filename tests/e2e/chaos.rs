//! The chaos suite: each scenario breaks something on purpose, asserts the invariant that must
//! survive it, and prints its figures (AWS calls, time to converge, duplicates, orphans).
//!
//! `CLIENTVPN_CHAOS=full` runs the full profile (30 objects, a 60-s API server pause, …); without
//! it the short profile runs inside the README's test command. With `CLIENTVPN_CHAOS_REPORT=DIR`
//! every scenario also writes `DIR/<scenario>.md`, which `hack/chaos.sh` (`make chaos`) joins
//! into `docs/reliability.md`.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{applied, calls_of, condition, has_endpoint_id};
use crate::harness::{Env, cluster, manifest};
use crate::lifecycle::with_children;

/// Short (inside `make test`) or full (`make chaos`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Short,
    Full,
}

impl Profile {
    fn current() -> Self {
        match std::env::var("CLIENTVPN_CHAOS").as_deref() {
            Ok("full") => Self::Full,
            _ => Self::Short,
        }
    }

    fn pick<T>(self, short: T, full: T) -> T {
        match self {
            Self::Short => short,
            Self::Full => full,
        }
    }

    fn name(self) -> &'static str {
        self.pick("short", "full")
    }
}

/// How long any scenario may take to converge before it counts as failed.
const CONVERGE: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(250);

/// A small deterministic generator (xorshift), seeded from the clock; the seed is printed.
struct Random(u64);

impl Random {
    fn seeded() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        eprintln!("[chaos] random seed {nanos}");
        Self(nanos | 1)
    }

    /// A duration in `[low, high)`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = (high - low).as_millis().max(1) as u64;
        low + Duration::from_millis(self.0 % span)
    }
}

/// What one scenario did and found: printed, written to the report, then asserted.
struct Record {
    scenario: &'static str,
    done: String,
    invariant: &'static str,
    figures: Vec<(String, String)>,
    checks: Vec<(String, bool)>,
}

impl Record {
    fn new(scenario: &'static str, invariant: &'static str, done: String) -> Self {
        Self {
            scenario,
            done,
            invariant,
            figures: Vec::new(),
            checks: Vec::new(),
        }
    }

    fn figure(&mut self, name: &str, value: impl std::fmt::Display) {
        self.figures.push((name.to_string(), value.to_string()));
    }

    fn check(&mut self, what: impl Into<String>, holds: bool) {
        self.checks.push((what.into(), holds));
    }

    /// Print and report the scenario, then fail the test if a check did not hold.
    fn finish(self) {
        let passed = self.checks.iter().all(|(_, ok)| *ok);
        let mut text = format!(
            "## {}\n\n- Profile: {}\n- Done: {}\n- Invariant: {}\n- Result: **{}**\n\n| figure | value |\n|---|---|\n",
            self.scenario,
            Profile::current().name(),
            self.done,
            self.invariant,
            if passed { "pass" } else { "FAIL" }
        );
        for (name, value) in &self.figures {
            text.push_str(&format!("| {name} | {value} |\n"));
        }
        text.push_str("\n| check | holds |\n|---|---|\n");
        for (what, ok) in &self.checks {
            text.push_str(&format!(
                "| {what} | {} |\n",
                if *ok { "yes" } else { "**no**" }
            ));
        }
        eprintln!("[chaos]\n{text}");
        if let Some(dir) = std::env::var_os("CLIENTVPN_CHAOS_REPORT") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("report dir");
            let slug = self
                .scenario
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
            std::fs::write(dir.join(format!("{slug}.md")), &text).expect("write the report");
        }
        let failed: Vec<&String> = self
            .checks
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(w, _)| w)
            .collect();
        assert!(failed.is_empty(), "{}: {failed:?}", self.scenario);
    }
}

/// `count` objects without children, named `<prefix>-00`, `<prefix>-01`, …
fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i:02}")).collect()
}

/// AWS endpoints of this test's namespace (by the ownership tag), by status.
fn endpoints_by_status(env: &Env) -> BTreeMap<String, usize> {
    let mut by_status = BTreeMap::new();
    for endpoint in env.aws_endpoints() {
        if endpoint["tags"]["clientvpn.io/namespace"] == json!(env.namespace) {
            let status = endpoint["status"].as_str().unwrap_or("?").to_string();
            *by_status.entry(status).or_default() += 1;
        }
    }
    by_status
}

/// Endpoints of the namespace that are not `deleted`: created and not cleaned up.
fn live_endpoints(env: &Env) -> usize {
    endpoints_by_status(env)
        .iter()
        .filter(|(status, _)| status.as_str() != "deleted")
        .map(|(_, n)| n)
        .sum()
}

/// Objects whose UID has more than one live AWS endpoint.
fn duplicated(env: &Env) -> usize {
    let mut per_uid: BTreeMap<String, usize> = BTreeMap::new();
    for endpoint in env.aws_endpoints() {
        let ours = endpoint["tags"]["clientvpn.io/namespace"] == json!(env.namespace);
        let live =
            endpoint["status"] != json!("deleted") && endpoint["status"] != json!("deleting");
        if let (true, true, Some(uid)) = (ours, live, endpoint["tags"]["clientvpn.io/uid"].as_str())
        {
            *per_uid.entry(uid.to_string()).or_default() += 1;
        }
    }
    per_uid.values().filter(|n| **n > 1).count()
}

/// The objects of the namespace, by name, as the API server has them now.
async fn objects(env: &Env) -> Vec<clientvpn_operator::api::ClientVpnEndpoint> {
    env.api()
        .list(&Default::default())
        .await
        .map(|list| list.items)
        .unwrap_or_default()
}

/// Every object has its endpoint and shows the `pending-associate` code (no children).
async fn all_created(env: &Env, count: usize) -> bool {
    let objects = objects(env).await;
    objects.len() == count
        && objects.iter().all(|o| {
            has_endpoint_id(o)
                && o.status
                    .as_ref()
                    .and_then(|s| s.status.as_ref()?.code.as_deref())
                    == Some("pending-associate")
        })
}

/// Every one of `count` objects is Ready (network, rule and route in place).
async fn all_ready(env: &Env, count: usize) -> bool {
    let objects = objects(env).await;
    objects.len() == count && objects.iter().all(ready)
}

fn apply_all(env: &Env, names: &[String]) {
    for name in names {
        applied(env, &manifest(name, |_| {}));
    }
}

/// Something done to the system between polls while a scenario waits.
trait Chaos {
    fn act(&mut self, env: &mut Env);
}

/// No chaos while waiting (the fault was done before).
struct Calm;

impl Chaos for Calm {
    fn act(&mut self, _: &mut Env) {}
}

/// SIGKILL the operator and start it again at random intervals.
struct Killer {
    random: Random,
    every: (Duration, Duration),
    next: Instant,
    kills: u32,
}

impl Killer {
    fn new(low: Duration, high: Duration) -> Self {
        let mut random = Random::seeded();
        let next = Instant::now() + random.between(low, high);
        Self {
            random,
            every: (low, high),
            next,
            kills: 0,
        }
    }
}

impl Chaos for Killer {
    fn act(&mut self, env: &mut Env) {
        if Instant::now() >= self.next {
            env.kill_operator();
            env.start_operator();
            self.kills += 1;
            self.next = Instant::now() + self.random.between(self.every.0, self.every.1);
        }
    }
}

/// Poll `done` until it holds, doing `chaos` between polls: `Ok` with the time it took, `Err`
/// with the time spent when [`CONVERGE`] passes first.
async fn converge(
    env: &mut Env,
    chaos: &mut impl Chaos,
    done: impl AsyncFn(&Env) -> bool,
) -> Result<Duration, Duration> {
    let started = Instant::now();
    loop {
        if done(env).await {
            return Ok(started.elapsed());
        }
        if started.elapsed() > CONVERGE {
            return Err(started.elapsed());
        }
        chaos.act(env);
        tokio::time::sleep(POLL).await;
    }
}

fn seconds(result: Result<Duration, Duration>) -> String {
    match result {
        Ok(d) => format!("{:.1} s", d.as_secs_f64()),
        Err(d) => format!("not converged after {:.0} s", d.as_secs_f64()),
    }
}

/// No object left in the namespace and no endpoint of it left in AWS but `deleted` ones.
async fn all_gone(env: &Env) -> bool {
    objects(env).await.is_empty() && live_endpoints(env) == 0
}

/// Delete every object of the namespace and check that nothing is left in AWS.
async fn cleaned_up(env: &mut Env, record: &mut Record) {
    env.kubectl(&["delete", "cvpn", "--all", "--wait=false"]);
    let gone = converge(env, &mut Calm, async |env: &Env| all_gone(env).await).await;
    record.check("cleaned up afterwards", gone.is_ok());
}

/// Calls of `action` since `before` (the emulator's counters are shared by every test).
fn calls_since(env: &Env, action: &str, before: u64) -> u64 {
    calls_of(env, action) - before
}

/// The counters of the two calls every scenario reports.
struct Counters {
    creates: u64,
    deletes: u64,
}

impl Counters {
    fn now(env: &Env) -> Self {
        Self {
            creates: calls_of(env, "CreateClientVpnEndpoint"),
            deletes: calls_of(env, "DeleteClientVpnEndpoint"),
        }
    }

    fn report(&self, env: &Env, record: &mut Record) {
        let creates = calls_since(env, "CreateClientVpnEndpoint", self.creates);
        let deletes = calls_since(env, "DeleteClientVpnEndpoint", self.deletes);
        record.figure("CreateClientVpnEndpoint calls", creates);
        record.figure("DeleteClientVpnEndpoint calls", deletes);
    }
}

/// Create `count` objects and delete them, with `chaos` all along; the invariants: exactly
/// `count` endpoints, no duplicate, then none left and every finalizer gone.
async fn create_and_delete_under(
    env: &mut Env,
    chaos: &mut impl Chaos,
    record: &mut Record,
    prefix: &str,
    count: usize,
) {
    let counters = Counters::now(env);
    for name in names(prefix, count) {
        applied(env, &manifest(&name, with_children));
        chaos.act(env);
    }
    let created = converge(env, chaos, async |env: &Env| all_ready(env, count).await).await;
    record.figure(
        &format!("time until all {count} are Ready"),
        seconds(created),
    );
    record.check(format!("all {count} objects Ready"), created.is_ok());
    let live = live_endpoints(env);
    let duplicates = duplicated(env);
    record.figure("live AWS endpoints after creation", live);
    record.figure("duplicates", duplicates);
    record.check(format!("exactly {count} endpoints in AWS"), live == count);
    record.check("no object has two endpoints", duplicates == 0);

    env.kubectl(&["delete", "cvpn", "--all", "--wait=false"]);
    let deleted = converge(env, chaos, async |env: &Env| all_gone(env).await).await;
    let orphans = live_endpoints(env);
    record.figure(
        "time until every object and endpoint is gone",
        seconds(deleted),
    );
    record.figure("orphaned AWS endpoints", orphans);
    counters.report(env, record);
    record.check(
        "every object gone (finalizers removed)",
        objects(env).await.is_empty(),
    );
    record.check("no orphaned AWS endpoint", orphans == 0);
}

#[tokio::test]
async fn chaos_operator_sigkilled_at_random_while_objects_are_created_and_deleted() {
    let profile = Profile::current();
    let count = profile.pick(6, 30);
    let mut env = Env::start("chaos-kill").await;
    let (low, high) = (
        Duration::from_millis(500),
        Duration::from_secs(profile.pick(2, 5)),
    );
    let mut killer = Killer::new(low, high);
    let mut record = Record::new(
        "Operator SIGKILLed at random",
        "exactly N endpoints, then 0; no duplicate, no orphan; every finalizer gone",
        format!(
            "{count} objects with a network, a rule and a route created (Ready), then all deleted, \
             while the operator is SIGKILLed and restarted every {:.1}–{:.1} s",
            low.as_secs_f64(),
            high.as_secs_f64()
        ),
    );
    create_and_delete_under(&mut env, &mut killer, &mut record, "kill", count).await;
    record.figure("operator kills", killer.kills);
    record.finish();
}

#[tokio::test]
async fn chaos_objects_created_and_deleted_at_once() {
    let count = Profile::current().pick(5, 20);
    let mut env = Env::start("chaos-at-once").await;
    let mut record = Record::new(
        "Create, then delete at once",
        "nothing left in AWS, no finalizer left, at most one create per object",
        format!("{count} objects applied and each deleted right after its apply"),
    );
    let counters = Counters::now(&env);
    for name in names("once", count) {
        applied(&env, &manifest(&name, |_| {}));
        env.kubectl(&["delete", "cvpn", &name, "--wait=false"]);
    }
    let gone = converge(&mut env, &mut Calm, async |env: &Env| all_gone(env).await).await;
    let creates = calls_since(&env, "CreateClientVpnEndpoint", counters.creates);
    record.figure("time until everything is gone", seconds(gone));
    record.figure("orphaned AWS endpoints", live_endpoints(&env));
    counters.report(&env, &mut record);
    record.check("every object and endpoint gone", gone.is_ok());
    record.check("at most one create per object", creates <= count as u64);
    record.finish();
}

#[tokio::test]
async fn chaos_namespace_deleted_with_objects_in_it() {
    let count = Profile::current().pick(4, 10);
    let mut env = Env::start("chaos-namespace").await;
    let mut record = Record::new(
        "Namespace deleted with objects in it",
        "the namespace goes away; no endpoint of it is left in AWS",
        format!("{count} objects created, then their namespace deleted"),
    );
    let counters = Counters::now(&env);
    apply_all(&env, &names("ns", count));
    let created = converge(&mut env, &mut Calm, async |env: &Env| {
        all_created(env, count).await
    })
    .await;
    record.check("all objects got an endpoint", created.is_ok());
    let namespace = env.namespace.clone();
    env.kubectl(&["delete", "namespace", &namespace, "--wait=false"]);
    let gone = converge(&mut env, &mut Calm, async |env: &Env| {
        let left = env.kubectl_raw(&["get", "namespace", &env.namespace], None);
        !left.status.success() && live_endpoints(env) == 0
    })
    .await;
    record.figure(
        "time until the namespace and its endpoints are gone",
        seconds(gone),
    );
    record.figure("orphaned AWS endpoints", live_endpoints(&env));
    counters.report(&env, &mut record);
    record.check("namespace gone and no endpoint left", gone.is_ok());
    record.finish();
}

/// Resumes the API server when dropped, even if the test fails while it is stopped.
struct Paused(u32);

impl Paused {
    fn stop(pid: u32) -> Self {
        signal("STOP", pid);
        Self(pid)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        signal("CONT", self.0);
    }
}

fn signal(name: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

#[tokio::test]
async fn chaos_api_server_paused_mid_create() {
    let profile = Profile::current();
    let count = profile.pick(3, 10);
    let pause = Duration::from_secs(profile.pick(10, 60));
    let mut env = Env::start("chaos-pause").await;
    let mut record = Record::new(
        "kube-apiserver paused mid-create",
        "every object gets exactly one endpoint once the API server is back",
        format!(
            "{count} objects applied, then kube-apiserver SIGSTOPped for {} s and resumed",
            pause.as_secs()
        ),
    );
    let counters = Counters::now(&env);
    apply_all(&env, &names("pause", count));
    {
        let _paused = Paused::stop(cluster().cp.apiserver_pid());
        // The fault itself lasts this long; nothing is waited for.
        tokio::time::sleep(pause).await;
    }
    let created = converge(&mut env, &mut Calm, async |env: &Env| {
        all_created(env, count).await
    })
    .await;
    let duplicates = duplicated(&env);
    record.figure(
        "time from resume until all have an endpoint",
        seconds(created),
    );
    record.figure("duplicates", duplicates);
    counters.report(&env, &mut record);
    record.check("all objects got an endpoint", created.is_ok());
    record.check("no object has two endpoints", duplicates == 0);
    record.check(
        "exactly one endpoint per object",
        live_endpoints(&env) == count,
    );
    cleaned_up(&mut env, &mut record).await;
    record.finish();
}

#[tokio::test]
async fn chaos_endpoint_deleted_out_of_band() {
    let mut env = Env::start("chaos-oob").await;
    let mut record = Record::new(
        "Endpoint deleted out of band",
        "noticed within the region listing interval (30 s here), recreated once, nothing extra per object",
        "one object; its endpoint deleted with the AWS SDK behind the operator's back".into(),
    );
    applied(&env, &manifest("oob", |_| {}));
    let created = converge(&mut env, &mut Calm, async |env: &Env| {
        all_created(env, 1).await
    })
    .await;
    record.check("the endpoint was created", created.is_ok());
    let id = endpoint_id(&env, "oob").await;
    let counters = Counters::now(&env);
    let describes = calls_of(&env, "DescribeClientVpnEndpoints");
    let url = format!("http://{}", env.emulator_address());
    let sdk = crate::harness::emulator::sdk_config(&url, crate::harness::ACCOUNT_KEY).await;
    let aws = clientvpn_operator::cloud::Ec2ClientVpn::new(sdk);
    use clientvpn_operator::cloud::ClientVpnApi;
    aws.delete_endpoint(crate::harness::REGION, &id)
        .await
        .expect("delete in AWS");
    let recreated = converge(&mut env, &mut Calm, async |env: &Env| {
        let now = endpoint_id(env, "oob").await;
        !now.is_empty() && now != id
    })
    .await;
    record.figure("detection and recreate time", seconds(recreated));
    record.figure("resync (region listing) interval", "30 s");
    record.figure(
        "DescribeClientVpnEndpoints calls meanwhile",
        calls_since(&env, "DescribeClientVpnEndpoints", describes),
    );
    counters.report(&env, &mut record);
    record.check(
        "recreated within 35 s",
        recreated.is_ok_and(|d| d <= Duration::from_secs(35)),
    );
    record.check("exactly one live endpoint", live_endpoints(&env) == 1);
    cleaned_up(&mut env, &mut record).await;
    record.finish();
}

async fn endpoint_id(env: &Env, name: &str) -> String {
    env.api()
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|o| o.status?.client_vpn_endpoint_id)
        .unwrap_or_default()
}

/// The Lease's holder, or empty.
fn lease_holder(env: &Env, lease: &str) -> String {
    let out = env.kubectl_raw(
        &[
            "get",
            "lease",
            lease,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn chaos_two_replicas_and_the_leader_sigkilled() {
    let mut env = Env::start_without_operator("chaos-leader").await;
    let lease = format!("chaos-{}", env.namespace);
    let replica = |name: &str| -> Child {
        env.spawn_operator(&[
            "--leader-election",
            "--leader-election-namespace",
            &env.namespace,
            "--lease-name",
            &lease,
            "--lease-duration",
            "5s",
            "--instance",
            name,
        ])
    };
    let mut replicas: BTreeMap<String, Child> = ["replica-a", "replica-b"]
        .map(|n| (n.to_string(), replica(n)))
        .into();
    let mut record = Record::new(
        "Two replicas, the leader SIGKILLed",
        "the standby takes over within the lease duration (5 s) plus a renewal, and reconciles",
        "two operator replicas with leader election; one object created; the leader SIGKILLed; a second object created".into(),
    );
    applied(&env, &manifest("first", |_| {}));
    let first = converge(&mut env, &mut Calm, async |env: &Env| {
        all_created(env, 1).await
    })
    .await;
    record.check("the first object got an endpoint", first.is_ok());
    let leader = lease_holder(&env, &lease);
    record.check("a replica holds the lease", replicas.contains_key(&leader));
    if let Some(mut child) = replicas.remove(&leader) {
        let _ = child.kill();
        let _ = child.wait();
    }
    let killed = Instant::now();
    let takeover = converge(&mut env, &mut Calm, async |env: &Env| {
        let holder = lease_holder(env, &lease);
        !holder.is_empty() && holder != leader
    })
    .await;
    applied(&env, &manifest("second", |_| {}));
    let second = converge(&mut env, &mut Calm, async |env: &Env| {
        all_created(env, 2).await
    })
    .await;
    record.figure("lease takeover after the kill", seconds(takeover));
    record.figure(
        "kill → the second object has its endpoint",
        format!("{:.1} s", killed.elapsed().as_secs_f64()),
    );
    record.check("the standby took the lease", takeover.is_ok());
    record.check("the new leader reconciles", second.is_ok());
    record.check("no duplicate", duplicated(&env) == 0);
    cleaned_up(&mut env, &mut record).await;
    for (_, mut child) in replicas {
        let _ = child.kill();
        let _ = child.wait();
    }
    record.finish();
}

/// Ready=True for the current generation.
fn ready(o: &clientvpn_operator::api::ClientVpnEndpoint) -> bool {
    condition(o, "Ready").is_some_and(|c| c.0 == "True")
        && o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation
}

/// Ready objects whose endpoint AWS does not show `available`: a false Ready.
fn false_ready(env: &Env, objects: &[clientvpn_operator::api::ClientVpnEndpoint]) -> usize {
    let available: Vec<String> = env
        .aws_endpoints()
        .iter()
        .filter(|e| e["status"] == json!("available"))
        .filter_map(|e| e["clientVpnEndpointId"].as_str().map(str::to_string))
        .collect();
    objects
        .iter()
        .filter(|o| ready(o))
        .filter(|o| {
            let id = o
                .status
                .as_ref()
                .and_then(|s| s.client_vpn_endpoint_id.clone());
            !id.is_some_and(|id| available.contains(&id))
        })
        .count()
}

#[tokio::test]
async fn chaos_aws_fault_storm_on_objects_with_children() {
    let profile = Profile::current();
    let count = profile.pick(3, 10);
    let window = Duration::from_secs(profile.pick(60, 280));
    let mut env = Env::start("chaos-storm").await;
    let storm =
        json!({"throttle_probability": 0.5, "internal_error_probability": 0.2, "latency_ms": 200});
    let mut record = Record::new(
        "AWS fault storm",
        "no duplicate and no false Ready during the storm; everything Ready, then deleted, once it clears",
        format!(
            "{count} objects with a network, a rule and a route, under 50 % throttling, 20 % \
             internal errors and +200 ms per call for {} s, then the storm cleared",
            window.as_secs()
        ),
    );
    let counters = Counters::now(&env);
    env.emulator_call("POST", "/_emulator/faults", Some(storm));
    for name in names("storm", count) {
        applied(&env, &manifest(&name, with_children));
    }
    let started = Instant::now();
    let mut most_ready = 0;
    let mut false_ready_seen = 0;
    let mut duplicates_seen = 0;
    // The storm lasts the window; the invariants are checked all along it.
    while started.elapsed() < window {
        let objects = objects(&env).await;
        most_ready = most_ready.max(objects.iter().filter(|o| ready(o)).count());
        false_ready_seen = false_ready_seen.max(false_ready(&env, &objects));
        duplicates_seen = duplicates_seen.max(duplicated(&env));
        if most_ready == count {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    record.figure(
        &format!("Ready under the storm (of {count})"),
        format!(
            "{most_ready} after {:.0} s",
            started.elapsed().as_secs_f64()
        ),
    );
    env.emulator_call("DELETE", "/_emulator/faults", None);
    let cleared = converge(&mut env, &mut Calm, async |env: &Env| {
        all_ready(env, count).await
    })
    .await;
    let warnings: usize = names("storm", count)
        .iter()
        .map(|n| {
            env.events(n)
                .lines()
                .filter(|l| l.starts_with("Warning "))
                .count()
        })
        .sum();
    record.figure(
        "time to all Ready after the storm cleared",
        seconds(cleared),
    );
    record.figure("Warning event series (all objects)", warnings);
    record.figure("false Ready seen", false_ready_seen);
    record.figure("duplicates seen", duplicates_seen);
    record.check("no false Ready", false_ready_seen == 0);
    record.check("no duplicate", duplicates_seen == 0);
    record.check("all Ready once the storm cleared", cleared.is_ok());
    env.kubectl(&["delete", "cvpn", "--all", "--wait=false"]);
    let gone = converge(&mut env, &mut Calm, async |env: &Env| all_gone(env).await).await;
    counters.report(&env, &mut record);
    record.check("all deleted, nothing orphaned", gone.is_ok());
    record.finish();
}
