//! Scale benchmark (not a test): the operator on the local control plane with the emulator, for
//! fleets of N ClientVpnEndpoints. See bench/README.md for what is measured and how.
//!
//! ```sh
//! cargo bench --bench scale -- --sizes 1,100,1000,5000
//! ```

// The benchmark uses part of the shared launchers of the tests.
#[allow(dead_code)]
#[path = "../tests/support/control_plane.rs"]
mod control_plane;
#[allow(dead_code)]
#[path = "../tests/support/emulator.rs"]
mod emulator;

#[path = "scale/fleet.rs"]
mod fleet;
#[path = "scale/largest.rs"]
mod largest;
#[allow(dead_code)]
#[path = "../tests/support/largest.rs"]
mod largest_object;
#[path = "scale/managed.rs"]
mod managed;
#[path = "scale/operator.rs"]
mod operator;
#[path = "scale/prom.rs"]
mod prom;
#[path = "scale/report.rs"]
mod report;
#[path = "scale/users.rs"]
mod users;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use clientvpn_operator::api::ClientVpnEndpoint;
use kube::api::{Api, PostParams};

use control_plane::ControlPlane;
use emulator::{E2E_DELAYS, Emulator, TEST_ENDPOINT_QUOTA};
use fleet::{Floor, IdWatch};
use largest::LargestSample;
use operator::Operator;
use report::{Calls, Fill, ManagedResult, Run, SizeResult, Steady};

/// Scale benchmark of clientvpn-operator against the local control plane and the emulator.
#[derive(Parser, Debug)]
struct Args {
    /// Fleet sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000,5000")]
    sizes: Vec<usize>,
    /// Sequential apply → ID samples (and floor samples) per size.
    #[arg(long, default_value_t = 20)]
    samples: usize,
    /// Sequential samples of the managed-CA example (and its floor); 0 skips them.
    #[arg(long, default_value_t = 20)]
    managed_samples: usize,
    /// Sequential objects with the most children the schema allows; 0 skips them.
    #[arg(long, default_value_t = 3)]
    largest_samples: usize,
    /// Scaled resync interval for the steady-state phase, in seconds.
    #[arg(long, default_value_t = 20)]
    resync_secs: u64,
    /// Length of the steady-state window, in scaled resync intervals.
    #[arg(long, default_value_t = 3)]
    windows: u32,
    /// Concurrent creates while filling the fleet.
    #[arg(long, default_value_t = 32)]
    apply_concurrency: usize,
    /// Give up waiting for all N IDs after this many seconds.
    #[arg(long, default_value_t = 900)]
    fill_timeout_secs: u64,
    /// People phase: numbers of ClientVpnUser objects to issue at once (comma-separated, each
    /// with its own namespace and operator); empty (the default) skips it.
    #[arg(long, value_delimiter = ',')]
    users: Vec<usize>,
    /// Run only the people phase (`--users`) and replace its section of the existing results
    /// file, keeping the rest.
    #[arg(long)]
    users_only: bool,
    /// Sequential revocations per number of users.
    #[arg(long, default_value_t = 20)]
    user_revocations: usize,
    /// `--user-concurrency` for the operator in the people phase (default: the operator's).
    #[arg(long)]
    user_concurrency: Option<u16>,
    /// Where to write the markdown results (relative to the repository root).
    #[arg(long, default_value = "bench/RESULTS.md")]
    output: PathBuf,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// How long one probe may take to get its ID.
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);
/// After the last ID, the operator's default poll interval (10 s) plus a margin: its look at
/// each new endpoint one poll interval after creating it belongs to filling.
pub const POLL_GRACE: Duration = Duration::from_secs(12);
/// Longest wait for the operator to go idle after filling.
const IDLE_TIMEOUT: Duration = Duration::from_secs(180);
/// kube-apiserver resources whose requests the report counts.
const KUBE_RESOURCES: &[&str] = &["clientvpnendpoints", "events", "configmaps"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn main() {
    let args = Args::parse();
    let binary = release_emulator();
    let started = Instant::now();
    eprintln!("[bench] starting the control plane and the emulator");
    let cp = ControlPlane::start_temp("clientvpn-bench");
    cp.install_crds();
    // The fleet is thousands of endpoints in one region: far above AWS's default quota of 5.
    let emulator = Emulator::launch()
        .binary(binary)
        .flags(E2E_DELAYS)
        .endpoint_quota(Some(TEST_ENDPOINT_QUOTA))
        .log(cp.logs().join("emulator.log"))
        .start();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let output = repo().join(&args.output);
    let mut text = match args.users_only {
        true => std::fs::read_to_string(&output).unwrap_or_default(),
        false => runtime.block_on(bench(&args, &cp, &emulator)),
    };
    if !args.users.is_empty() {
        let section = runtime.block_on(people(&args, &cp, &emulator));
        text = users::splice(&text, &section);
    }
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).expect("results directory");
    }
    std::fs::write(&output, &text).expect("write results");
    println!("{text}");
    eprintln!(
        "[bench] wrote {} after {:.0} s",
        output.display(),
        started.elapsed().as_secs_f64()
    );
}

/// Wait until the emulator's call counters stay unchanged for `quiet`; how long that took
/// (until the quiet period began), or `None` after `timeout`.
pub async fn wait_idle(
    emulator: &Emulator,
    quiet: Duration,
    timeout: Duration,
) -> Option<Duration> {
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
            return Some(since - started);
        }
    }
    None
}

/// kube-apiserver requests so far (all clients) for `resources`, by verb, resource, subresource.
pub fn kube_requests(cp: &ControlPlane, resources: &[&str]) -> BTreeMap<String, f64> {
    let out = cp
        .kubectl()
        .args(["get", "--raw", "/metrics"])
        .output()
        .expect("kubectl get --raw /metrics");
    assert!(out.status.success(), "kube-apiserver /metrics");
    prom::sum_by(
        &String::from_utf8_lossy(&out.stdout),
        "apiserver_request_total",
        ("resource", resources),
        &["verb", "resource", "subresource"],
    )
}

/// The release emulator (built next to the operator binary) unless `CLIENTVPN_EMULATOR_BIN`
/// says otherwise: a debug emulator would dominate at 5,000 endpoints.
fn release_emulator() -> PathBuf {
    if std::env::var_os("CLIENTVPN_EMULATOR_BIN").is_some() {
        return emulator::emulator_bin().to_path_buf();
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "-p", "clientvpn-emulator"])
        .args(["--bin", "clientvpn-emulator"])
        .current_dir(repo())
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the release emulator failed");
    Path::new(env!("CARGO_BIN_EXE_clientvpn-operator")).with_file_name("clientvpn-emulator")
}

/// What the phases of one size share.
struct Bench<'a> {
    args: &'a Args,
    cp: &'a ControlPlane,
    emulator: &'a Emulator,
    client: kube::Client,
    floor: Floor,
}

async fn bench(args: &Args, cp: &ControlPlane, emulator: &Emulator) -> String {
    let client = cp.client().await;
    fleet::create_namespace(&client, fleet::FLOOR_NAMESPACE).await;
    let floor = Floor::new(&client, &emulator.url()).await;
    let bench = Bench {
        args,
        cp,
        emulator,
        client,
        floor,
    };
    let mut results = Vec::new();
    for &n in &args.sizes {
        results.push(bench.size(n).await);
    }
    let managed = match args.managed_samples {
        0 => None,
        samples => Some(bench.managed(samples).await),
    };
    let largest = bench.largest(args.largest_samples).await;
    report::render(&run_info(args), &results, managed.as_ref(), &largest)
}

/// The people phase for every `--users` size; its markdown section.
async fn people(args: &Args, cp: &ControlPlane, emulator: &Emulator) -> String {
    let client = cp.client().await;
    let settings = users::Settings {
        revocations: args.user_revocations,
        apply_concurrency: args.apply_concurrency,
        user_concurrency: args.user_concurrency,
        timeout: Duration::from_secs(args.fill_timeout_secs),
    };
    let mut results = Vec::new();
    for &n in &args.users {
        let log = cp.logs().join(format!("bench-operator-users-{n}.log"));
        results.push(users::run(&client, cp, emulator, &log, n, &settings).await);
    }
    let run = run_info(args);
    let how = format!(
        "- Date: {}; commit {}; machine: {}\n- Command: `{}`\n- Operator: `{}`",
        run.date,
        run.commit,
        run.machine,
        run.command,
        operator::command_line("bench-users-<N>", users::USERS_RESYNC)
    );
    users::render(&results, &how, &settings, run.clk_tck)
}

impl Bench<'_> {
    fn emulator(&self, method: &str, path: &str) -> serde_json::Value {
        self.emulator.control(method, path, None)
    }

    fn calls(&self) -> Calls {
        serde_json::from_value(self.emulator("GET", "/_emulator/calls")).expect("call counters")
    }

    /// Calls refused by the emulator's request-rate buckets since the counters' last reset.
    fn rate_limited(&self) -> Calls {
        serde_json::from_value(self.emulator("GET", "/_emulator/calls/rate-limited"))
            .expect("rate-limited counters")
    }

    /// [`wait_idle`] on this run's emulator.
    async fn wait_idle(&self, quiet: Duration, timeout: Duration) -> Option<Duration> {
        wait_idle(self.emulator, quiet, timeout).await
    }

    /// kube-apiserver requests so far for [`KUBE_RESOURCES`], by verb, resource, subresource.
    fn kube_requests(&self) -> BTreeMap<String, f64> {
        kube_requests(self.cp, KUBE_RESOURCES)
    }

    /// One operator process with the scaled resync: fill, steady state, then latency.
    async fn size(&self, n: usize) -> SizeResult {
        let namespace = format!("bench-{n}");
        eprintln!("[bench] N={n}: namespace {namespace}");
        self.emulator("POST", "/_emulator/reset");
        fleet::create_namespace(&self.client, &namespace).await;
        let api: Api<ClientVpnEndpoint> = Api::namespaced(self.client.clone(), &namespace);
        let mut ids = IdWatch::start(api.clone()).await;
        let op = self
            .operator(&namespace, &format!("bench-operator-{n}.log"))
            .await;

        let fill = self.fill(n, &api, &mut ids, &op).await;
        eprintln!(
            "[bench] N={n}: all IDs after {:?}, idle {:?} after that",
            fill.all_ids, fill.idle_after
        );
        let steady = match fill.all_ids {
            Some(_) => Some(self.steady(n, &op).await),
            None => None,
        };
        let (latency, floor) = self.latency(&api, &mut ids, n).await;
        eprintln!(
            "[bench] N={n}: latency p50 {:?}, floor p50 {:?} (ratio {:.2}); operator log {}",
            report::percentile(&latency, 50.0),
            report::percentile(&floor, 50.0),
            report::ratio(&latency, &floor),
            op.log().display()
        );
        SizeResult {
            n,
            fill,
            latency_missing: self.args.samples - latency.len(),
            latency,
            floor,
            peak_kib: op.memory().peak_kib,
            steady,
        }
    }

    /// The managed-CA example: its own operator and namespace, then the floor.
    async fn managed(&self, samples: usize) -> ManagedResult {
        let namespace = "bench-managed";
        fleet::create_namespace(&self.client, namespace).await;
        let api: Api<ClientVpnEndpoint> = Api::namespaced(self.client.clone(), namespace);
        let op = self.operator(namespace, "bench-operator-managed.log").await;
        let latency = managed::latency(&api, samples).await;
        drop(op);
        let floor = managed::floor(&self.client, &self.emulator.url(), samples).await;
        eprintln!(
            "[bench] managed CA: latency p50 {:?}, floor p50 {:?} (ratio {:.2})",
            report::percentile(&latency, 50.0),
            report::percentile(&floor, 50.0),
            report::ratio(&latency, &floor)
        );
        ManagedResult {
            latency,
            floor,
            samples,
        }
    }

    /// Objects with 5 target networks, 200 rules and 100 routes, one at a time, with their own
    /// operator (default flags) and namespace; the emulator's counters reset before each.
    async fn largest(&self, samples: usize) -> Vec<LargestSample> {
        if samples == 0 {
            return Vec::new();
        }
        let namespace = "bench-largest";
        self.emulator("POST", "/_emulator/reset");
        fleet::create_namespace(&self.client, namespace).await;
        let api: Api<ClientVpnEndpoint> = Api::namespaced(self.client.clone(), namespace);
        let op = self.operator(namespace, "bench-operator-largest.log").await;
        let mut results = Vec::new();
        for i in 0..samples {
            self.emulator("POST", "/_emulator/calls/reset");
            let counters = || (self.calls(), self.rate_limited());
            let sample = largest::sample(&api, &format!("largest-{i}"), counters).await;
            eprintln!(
                "[bench] largest object {i}: Ready after {:?}, {} AWS calls",
                sample.ready_after,
                sample.calls.values().sum::<u64>()
            );
            results.push(sample);
        }
        drop(op);
        results
    }

    /// An operator process with the scaled resync watching `namespace`, logging to `log` in the
    /// control plane's log folder.
    async fn operator(&self, namespace: &str, log: &str) -> Operator {
        let log = self.cp.logs().join(log);
        let resync = self.resync_flag();
        Operator::start(
            &self.cp.kubeconfig,
            self.emulator.addr(),
            namespace,
            &resync,
            &log,
        )
        .await
    }

    fn resync_flag(&self) -> String {
        format!("{}s", self.args.resync_secs)
    }

    /// Apply `n` objects at once, wait until all have an ID, then until the operator is idle.
    async fn fill(
        &self,
        n: usize,
        api: &Api<ClientVpnEndpoint>,
        ids: &mut IdWatch,
        op: &Operator,
    ) -> Fill {
        let names: Vec<String> = (0..n).map(|i| format!("ep-{i:05}")).collect();
        let deadline = Duration::from_secs(self.args.fill_timeout_secs);
        let kube_before = self.kube_requests();
        let started = Instant::now();
        fleet::create_all(api, &names, self.args.apply_concurrency).await;
        let applied = started.elapsed();
        let mut with_id = ids.count();
        while with_id < n && started.elapsed() < deadline {
            let step = Duration::from_secs(10).min(deadline.saturating_sub(started.elapsed()));
            with_id = ids.wait_count(n, step).await;
            eprintln!(
                "[bench] N={n}: {with_id} with ID after {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        let all_ids = (with_id >= n).then(|| started.elapsed());
        let idle_after = match all_ids {
            Some(_) => {
                tokio::time::sleep(POLL_GRACE).await;
                let idle = self.wait_idle(quiet(self.args), IDLE_TIMEOUT).await;
                idle.map(|d| d + POLL_GRACE)
            }
            None => None,
        };
        let metrics = op.metrics();
        let reconcile_count =
            prom::sum(&metrics, "controller_runtime_reconcile_time_seconds_count");
        let reconcile_time = prom::sum(&metrics, "controller_runtime_reconcile_time_seconds_sum");
        Fill {
            applied,
            all_ids,
            with_id,
            idle_after,
            calls: self.calls(),
            rate_limited: self.rate_limited(),
            kube_requests: prom::delta(&kube_before, &self.kube_requests()),
            reconciles: prom::sum(&metrics, "controller_runtime_reconcile_total"),
            reconcile_errors: prom::sum(&metrics, "controller_runtime_reconcile_errors_total"),
            mean_reconcile: Duration::from_secs_f64(reconcile_time / reconcile_count.max(1.0)),
        }
    }

    /// AWS calls, kube-apiserver requests, CPU time and reconciles over `windows` scaled resync
    /// intervals of the idle operator.
    async fn steady(&self, n: usize, op: &Operator) -> Steady {
        let resync = Duration::from_secs(self.args.resync_secs);
        self.emulator("POST", "/_emulator/calls/reset");
        let kube_before = self.kube_requests();
        let (ticks, reconciles, started) = (op.cpu_ticks(), op.reconciles(), Instant::now());
        tokio::time::sleep(resync * self.args.windows).await;
        let calls = self.calls();
        let window = started.elapsed();
        let cpu_ticks = op.cpu_ticks() - ticks;
        let reconciles = op.reconciles() - reconciles;
        let memory = op.memory();
        Steady {
            objects: n,
            window,
            calls,
            kube_requests: prom::delta(&kube_before, &self.kube_requests()),
            cpu_ticks,
            reconciles,
            memory,
        }
    }

    /// Sequential samples: a floor sample (the bare-client apply → ID), then one probe object
    /// applied into the fleet and timed until the watch sees its ID.
    async fn latency(
        &self,
        api: &Api<ClientVpnEndpoint>,
        ids: &mut IdWatch,
        n: usize,
    ) -> (Vec<Duration>, Vec<Duration>) {
        let (mut latency, mut floor) = (Vec::new(), Vec::new());
        for i in 0..self.args.samples {
            floor.push(self.floor.sample(&format!("floor-{n}-{i}")).await);
            let probe = format!("probe-{i:03}");
            let started = Instant::now();
            api.create(&PostParams::default(), &fleet::manifest(&probe))
                .await
                .expect("create probe");
            if let Some(seen) = ids.wait_for(&probe, PROBE_TIMEOUT).await {
                latency.push(seen - started);
            }
        }
        (latency, floor)
    }
}

/// AWS counters unchanged this long mean the operator is idle: a quarter of the scaled resync
/// (at least 2 s), since the once-per-resync work keeps recurring.
fn quiet(args: &Args) -> Duration {
    Duration::from_secs(args.resync_secs / 4).max(Duration::from_secs(2))
}

/// Date, commit, machine and command for the report.
fn run_info(args: &Args) -> Run {
    let command_out = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .current_dir(repo())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let mut commit = command_out("git", &["rev-parse", "--short", "HEAD"]);
    if !command_out("git", &["--no-optional-locks", "status", "--porcelain"]).is_empty() {
        commit.push_str(" (with uncommitted changes in the work tree)");
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let passed: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    Run {
        date: k8s_openapi::jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        commit,
        machine: format!(
            "nproc {nproc}, {model}, {:.1} GiB RAM, {}",
            ram_kib / 1024.0 / 1024.0,
            command_out("uname", &["-sr"])
        ),
        command: format!("cargo bench --bench scale -- {}", passed.join(" ")),
        samples: args.samples,
        resync: Duration::from_secs(args.resync_secs),
        windows: args.windows,
        quiet: quiet(args),
        apply_concurrency: args.apply_concurrency,
        operator: operator::command_line("bench-<N>", &format!("{}s", args.resync_secs)),
        clk_tck: command_out("getconf", &["CLK_TCK"]).parse().unwrap_or(100),
    }
}
