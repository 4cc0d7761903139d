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

mod aws;
mod control_plane;
mod lifecycle;

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

/// [`converge`] without chaos until `all` holds for `count` objects ([`all_created`],
/// [`all_ready`]).
async fn settled(
    env: &mut Env,
    all: impl AsyncFn(&Env, usize) -> bool,
    count: usize,
) -> Result<Duration, Duration> {
    converge(env, &mut Calm, async |env: &Env| all(env, count).await).await
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

/// Ready=True for the current generation.
fn ready(o: &clientvpn_operator::api::ClientVpnEndpoint) -> bool {
    condition(o, "Ready").is_some_and(|c| c.0 == "True")
        && o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation
}
