//! Results: what one fleet size measured, the conversions, and the markdown report.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::largest::{self, LargestSample};
use crate::operator::Memory;

/// Seconds in the default resync interval (5 minutes) the steady-state numbers are scaled to.
pub const DEFAULT_RESYNC_SECS: f64 = 300.0;

/// Per-action AWS call counts from the emulator.
pub type Calls = BTreeMap<String, u64>;

/// kube-apiserver requests by "verb resource [subresource]".
pub type KubeRequests = BTreeMap<String, f64>;

/// Settings and environment of the whole run.
pub struct Run {
    pub date: String,
    pub commit: String,
    pub machine: String,
    pub command: String,
    /// The operator's command line.
    pub operator: String,
    pub samples: usize,
    pub resync: Duration,
    pub windows: u32,
    /// Quiet AWS counters for this long count as idle.
    pub quiet: Duration,
    pub apply_concurrency: usize,
    pub clk_tck: u64,
}

/// Filling the fleet: N objects created at once until all have an ID.
pub struct Fill {
    /// Time to send all N creates.
    pub applied: Duration,
    /// Start of applying until all N had an ID, or `None` when the timeout came first.
    pub all_ids: Option<Duration>,
    /// Objects with an ID when the wait ended.
    pub with_id: usize,
    /// From all IDs until the operator was idle (`None`: not within the wait).
    pub idle_after: Option<Duration>,
    /// AWS calls from the start until idle.
    pub calls: Calls,
    /// Of those, the ones refused by the emulator's request-rate buckets (`RequestLimitExceeded`).
    pub rate_limited: Calls,
    /// kube-apiserver requests from the start until idle (the benchmark's creates included).
    pub kube_requests: KubeRequests,
    /// Reconciles finished, failed ones, and their mean duration (operator `/metrics`).
    pub reconciles: f64,
    pub reconcile_errors: f64,
    pub mean_reconcile: Duration,
}

/// Steady state: the idle operator over a window of scaled resync intervals.
pub struct Steady {
    /// Objects in the namespace.
    pub objects: usize,
    /// Length of the measuring window.
    pub window: Duration,
    pub calls: Calls,
    pub kube_requests: KubeRequests,
    pub cpu_ticks: u64,
    pub reconciles: f64,
    /// Memory at the end of the window.
    pub memory: Memory,
}

/// Everything measured for one fleet size.
pub struct SizeResult {
    pub n: usize,
    pub fill: Fill,
    /// Apply → ID latencies of the probes (missing ones timed out).
    pub latency: Vec<Duration>,
    pub latency_missing: usize,
    /// Floor samples (bare client: apply, watch event, finalizer patch, EC2 create, status
    /// patch).
    pub floor: Vec<Duration>,
    /// `VmHWM` of the operator process at the end (fill, steady state and latency).
    pub peak_kib: u64,
    pub steady: Option<Steady>,
}

/// p50 of `latency` as a multiple of the p50 of `floor` (zero without floor samples).
/// The managed-CA example's apply → ID samples and their floor (see `managed.rs`).
pub struct ManagedResult {
    pub latency: Vec<Duration>,
    pub floor: Vec<Duration>,
    pub samples: usize,
}

pub fn ratio(latency: &[Duration], floor: &[Duration]) -> f64 {
    let floor = percentile(floor, 50.0).as_secs_f64();
    if floor == 0.0 {
        return 0.0;
    }
    percentile(latency, 50.0).as_secs_f64() / floor
}

/// Nearest-rank percentile (`p` in 0–100) of `samples`; zero for none.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**not met**" }
}

/// Target on the peak RSS for a fleet size, in MiB.
fn rss_target(n: usize) -> Option<f64> {
    match n {
        1000 => Some(64.0),
        5000 => Some(128.0),
        _ => None,
    }
}

impl Steady {
    /// Resync intervals the window spans.
    fn intervals(&self, resync: Duration) -> f64 {
        self.window.as_secs_f64() / resync.as_secs_f64()
    }

    /// Calls/hour at the default 5-minute resync: calls per scaled interval × 12.
    fn per_hour_at_default(&self, count: f64, resync: Duration) -> f64 {
        count / self.intervals(resync) * (3600.0 / DEFAULT_RESYNC_SECS)
    }

    /// Calls/hour as measured, at the scaled resync.
    fn per_hour_raw(&self, count: f64) -> f64 {
        count * 3600.0 / self.window.as_secs_f64()
    }

    fn total_calls(&self) -> f64 {
        self.calls.values().sum::<u64>() as f64
    }

    fn cpu_secs(&self, clk_tck: u64) -> f64 {
        self.cpu_ticks as f64 / clk_tck as f64
    }

    /// Reconciles in the window per object per resync interval (1.0 = each object once per
    /// interval; less means the operator did not get through the fleet in one interval).
    fn coverage(&self, resync: Duration) -> f64 {
        self.reconciles / (self.objects.max(1) as f64 * self.intervals(resync))
    }
}

impl SizeResult {
    fn p50(&self) -> Duration {
        percentile(&self.latency, 50.0)
    }

    fn floor_p50(&self) -> Duration {
        percentile(&self.floor, 50.0)
    }

    /// Apply → ID p50 ÷ floor p50.
    fn ratio(&self) -> f64 {
        ratio(&self.latency, &self.floor)
    }
}

/// Target rows: (target, measured, met).
fn targets(run: &Run, results: &[SizeResult]) -> Vec<(String, String, bool)> {
    let mut rows = Vec::new();
    for r in results {
        let (p50, floor) = (r.p50(), r.floor_p50());
        rows.push((
            format!("N={}: apply→ID p50 ≤ 2× floor p50", r.n),
            format!(
                "{:.2}× ({} ÷ {}){}",
                r.ratio(),
                ms(p50),
                ms(floor),
                missing_note(r)
            ),
            r.latency_missing == 0 && p50 <= floor * 2,
        ));
    }
    if let Some(r) = results.iter().find(|r| r.n == 1000) {
        // AWS's CreateClientVpnEndpoint bucket: 200 at once, then 5 per second.
        let aws_bound = Duration::from_secs((1000 - 200) / 5);
        rows.push((
            "N=1000: all objects with IDs within 60 s beyond AWS's create rate (160 s)".into(),
            match r.fill.all_ids {
                Some(d) => secs(d),
                None => format!("{} of 1000 when the wait ended", r.fill.with_id),
            },
            r.fill
                .all_ids
                .is_some_and(|d| d <= aws_bound + Duration::from_secs(60)),
        ));
        let refused: u64 = r.fill.rate_limited.values().sum();
        rows.push((
            "N=1000: no RequestLimitExceeded from AWS's request-rate buckets".into(),
            refused.to_string(),
            refused == 0,
        ));
        let per_hour = r
            .steady
            .as_ref()
            .map(|s| s.per_hour_at_default(s.total_calls(), run.resync));
        rows.push((
            "N=1000: steady-state AWS calls/hour ≤ 15 at a 5-minute resync".into(),
            per_hour.map_or("not measured".into(), |c| format!("{c:.0}")),
            per_hour.is_some_and(|c| c <= 15.0),
        ));
    }
    for r in results {
        if let Some(limit) = rss_target(r.n) {
            rows.push((
                format!("N={}: peak RSS ≤ {limit:.0} MiB", r.n),
                format!("{:.1} MiB", mib(r.peak_kib)),
                mib(r.peak_kib) <= limit,
            ));
        }
    }
    rows
}

fn missing_note(r: &SizeResult) -> String {
    if r.latency_missing == 0 {
        String::new()
    } else {
        format!(" ({} probes got no ID in time)", r.latency_missing)
    }
}

/// The whole report as markdown.
pub fn render(
    run: &Run,
    results: &[SizeResult],
    managed: Option<&ManagedResult>,
    largest: &[LargestSample],
) -> String {
    let mut out = String::new();
    let s = run.resync.as_secs_f64();
    let factor = DEFAULT_RESYNC_SECS / s;
    let _ = writeln!(out, "# Scale benchmark results\n");
    let _ = writeln!(out, "- Date: {}", run.date);
    let _ = writeln!(out, "- Commit: {}", run.commit);
    let _ = writeln!(out, "- Machine: {}", run.machine);
    let _ = writeln!(out, "- Command: `{}`", run.command);
    let _ = writeln!(
        out,
        "- Operator: one process per N, `{}` (release build, every other flag at its default), \
         against the emulator at its default latency (0). Per N: fill, then the steady-state \
         window, then the latency samples, all with this resync.",
        run.operator
    );
    let _ = writeln!(
        out,
        "- Settings: {} latency samples per N, sequential (nearest-rank percentiles, so p99 of \
         20 is the maximum); the N objects applied {} at a time; idle = the emulator's call \
         counters unchanged for {} (checked from {} after the last ID, past the operator's \
         10-s poll interval); steady state over {} intervals of the {s:.0}-s resync; CPU from \
         /proc/<pid>/stat utime+stime at {} ticks/s; RSS from /proc/<pid>/status.",
        run.samples,
        run.apply_concurrency,
        secs(run.quiet),
        secs(crate::POLL_GRACE),
        run.windows,
        run.clk_tck
    );
    let _ = writeln!(
        out,
        "- Conversion: **per hour at the default 5-minute resync = per {s:.0}-s interval × 12** \
         (the window's count ÷ its length in intervals × 3600/300). \"Raw\" is what was measured \
         per hour at the {s:.0}-s resync ({factor:.0}× the per-hour figure at 5 minutes when \
         the work is all resync-driven). CPU seconds are converted the same way.\n"
    );
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(out, "| Target | Measured | Met |\n|---|---|---|");
    for (target, measured, met) in targets(run, results) {
        let _ = writeln!(out, "| {target} | {measured} | {} |", verdict(met));
    }
    for r in results {
        render_size(&mut out, run, r);
    }
    if let Some(m) = managed {
        render_managed(&mut out, m);
    }
    if !largest.is_empty() {
        render_largest(&mut out, largest);
    }
    out
}

/// Mutating calls of `calls`: every action but the read-only `Describe*` ones.
fn mutating(calls: &Calls) -> u64 {
    calls
        .iter()
        .filter(|(action, _)| !action.starts_with("Describe"))
        .map(|(_, n)| n)
        .sum()
}

fn render_largest(out: &mut String, samples: &[LargestSample]) {
    let minimum: u64 = largest::MINIMUM.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "\n## Largest object (5 target networks, 200 authorization rules, 100 routes)\n\n\
         One object at a time, with its own operator (default flags, so at most 8 operations \
         in progress per endpoint) against the emulator's AWS limit of 10 in progress per \
         endpoint and its request-rate buckets, with the end-to-end tests' association delays. \
         Timed from the create request until the object shows `Ready=True`. The minimum is one \
         call per child and the create ({minimum} mutating calls); every other call is a wait \
         (`Describe*`) or a repeat of a refused call."
    );
    let header = [
        "Sample",
        "apply → Ready",
        "mutating calls (minimum)",
        "Describe calls (the waits)",
        "RequestLimitExceeded",
    ];
    let rows = samples.iter().enumerate().map(|(i, s)| {
        let describes: u64 = s.calls.values().sum::<u64>() - mutating(&s.calls);
        vec![
            i.to_string(),
            s.ready_after.map_or("not Ready within 600 s".into(), secs),
            format!("{} ({minimum})", mutating(&s.calls)),
            describes.to_string(),
            s.rate_limited.values().sum::<u64>().to_string(),
        ]
    });
    table(out, "Per sample", &header, rows);
    if let Some(last) = samples.last() {
        table(
            out,
            "AWS calls of the last sample by action",
            &["Action", "calls", "minimum"],
            last.calls.iter().map(|(action, n)| {
                let least = largest::MINIMUM.iter().find(|(a, _)| a == action);
                vec![
                    action.clone(),
                    n.to_string(),
                    least.map_or("–".into(), |(_, m)| m.to_string()),
                ]
            }),
        );
    }
}

fn render_managed(out: &mut String, m: &ManagedResult) {
    let _ = writeln!(
        out,
        "\n## Managed CA (the essentials of examples/managed.yaml, one object at a time)\n\n\
         Each sample is a new object whose server certificate the operator issues: it creates \
         the CA and server certificate (RSA 2048), writes both Secrets, imports the server \
         certificate into ACM once (the same-CA shortcut makes it the client root too), then \
         creates the endpoint. The floor does that work with bare clients and no operator: \
         watch event, finalizer patch, key generation and signing for the CA and the server \
         certificate with the same library, two ACM imports (CA as client root, server), \
         Create, status patch. {} of {} samples got an ID.\n",
        m.latency.len(),
        m.samples
    );
    let _ = writeln!(out, "| Metric | Value |\n|---|---|");
    let rows = [
        ("apply → ID p50 / p99", &m.latency),
        ("floor p50 / p99", &m.floor),
    ];
    for (metric, samples) in rows {
        let _ = writeln!(
            out,
            "| {metric} | {} / {} |",
            ms(percentile(samples, 50.0)),
            ms(percentile(samples, 99.0))
        );
    }
    let _ = writeln!(
        out,
        "| apply → ID p50 ÷ floor p50 | {:.2} |",
        ratio(&m.latency, &m.floor)
    );
}

fn render_size(out: &mut String, run: &Run, r: &SizeResult) {
    let s = run.resync.as_secs_f64();
    let f = &r.fill;
    let mut rows = vec![
        (
            "apply → ID latency p50 / p99 (one object into the settled fleet)".to_string(),
            format!(
                "{} / {}{}",
                ms(r.p50()),
                ms(percentile(&r.latency, 99.0)),
                missing_note(r)
            ),
        ),
        (
            "floor p50 / p99 (bare client: apply, watch event, finalizer patch, EC2 create, \
             status patch)"
                .into(),
            format!("{} / {}", ms(r.floor_p50()), ms(percentile(&r.floor, 99.0))),
        ),
        (
            "apply → ID p50 ÷ floor p50".into(),
            format!("{:.2}×", r.ratio()),
        ),
        (
            format!("all {} applied → all with ID (wall time)", r.n),
            match f.all_ids {
                Some(d) => secs(d),
                None => format!("not reached: {} of {} had an ID", f.with_id, r.n),
            },
        ),
        ("time to send the creates".into(), secs(f.applied)),
        (
            "fill: RequestLimitExceeded from AWS's request-rate buckets".into(),
            f.rate_limited.values().sum::<u64>().to_string(),
        ),
        (
            "operator idle after the last ID".into(),
            f.idle_after.map_or("not within the wait".into(), secs),
        ),
        (
            "fill: reconciles / failed / mean duration".into(),
            format!(
                "{:.0} / {:.0} / {}",
                f.reconciles,
                f.reconcile_errors,
                ms(f.mean_reconcile)
            ),
        ),
    ];
    if let Some(st) = &r.steady {
        let cpu = st.cpu_secs(run.clk_tck);
        let calls = st.total_calls();
        rows.extend([
            (
                "steady state: objects / window".into(),
                format!(
                    "{} / {} ({:.2} intervals)",
                    st.objects,
                    secs(st.window),
                    st.intervals(run.resync)
                ),
            ),
            (
                "steady state: reconciles per object per interval".into(),
                format!("{:.2}", st.coverage(run.resync)),
            ),
            (
                "steady AWS calls per resync interval".into(),
                format!("{:.1}", calls / st.intervals(run.resync)),
            ),
            (
                "**steady AWS calls/hour at 5-min resync** (per interval × 12)".into(),
                format!("**{:.0}**", st.per_hour_at_default(calls, run.resync)),
            ),
            (
                format!("steady AWS calls/hour measured at {s:.0}-s resync (raw)"),
                format!("{:.0}", st.per_hour_raw(calls)),
            ),
            (
                "**CPU s/hour at 5-min resync** (CPU per interval × 12)".into(),
                format!("**{:.2}**", st.per_hour_at_default(cpu, run.resync)),
            ),
            (
                format!("CPU s/hour measured at {s:.0}-s resync (raw)"),
                format!("{:.1} ({cpu:.2} s in the window)", st.per_hour_raw(cpu)),
            ),
            (
                "steady-state RSS (VmRSS at the end of the window)".into(),
                format!("{:.1} MiB", mib(st.memory.rss_kib)),
            ),
        ]);
    } else {
        rows.push((
            "steady state".into(),
            "not measured (the fleet did not get all IDs)".into(),
        ));
    }
    rows.push((
        "peak RSS (VmHWM of the process: fill, steady state, latency)".into(),
        format!("{:.1} MiB", mib(r.peak_kib)),
    ));
    let _ = writeln!(out, "\n## N = {}\n\n| Metric | Value |\n|---|---|", r.n);
    for (metric, value) in rows {
        let _ = writeln!(out, "| {metric} | {value} |");
    }
    if let Some(st) = &r.steady {
        let intervals = st.intervals(run.resync);
        let calls = st.calls.iter().map(|(k, v)| (k.clone(), *v as f64));
        table(
            out,
            "Steady-state AWS calls by action",
            &[
                "Action",
                "in window",
                "per interval",
                "per hour at 5-min resync",
                &format!("per hour at {s:.0}-s resync (raw)"),
            ],
            calls.map(|(action, count)| {
                vec![
                    action,
                    format!("{count:.0}"),
                    format!("{:.1}", count / intervals),
                    format!("{:.0}", st.per_hour_at_default(count, run.resync)),
                    format!("{:.0}", st.per_hour_raw(count)),
                ]
            }),
        );
        table(
            out,
            "Steady-state Kubernetes API requests (kube-apiserver `apiserver_request_total`, all clients)",
            &["Request", "in window", "per interval"],
            st.kube_requests.iter().map(|(request, count)| {
                vec![
                    request.clone(),
                    format!("{count:.0}"),
                    format!("{:.1}", count / intervals),
                ]
            }),
        );
    }
    let per_object = |count: f64| format!("{:.2}", count / r.n.max(1) as f64);
    table(
        out,
        "AWS calls while filling (start of applying until idle)",
        &["Action", "calls", "per object"],
        f.calls.iter().map(|(action, count)| {
            vec![action.clone(), count.to_string(), per_object(*count as f64)]
        }),
    );
    table(
        out,
        "Kubernetes API requests while filling (all clients: the benchmark's creates included)",
        &["Request", "requests", "per object"],
        f.kube_requests.iter().map(|(request, count)| {
            vec![request.clone(), format!("{count:.0}"), per_object(*count)]
        }),
    );
}

/// A markdown table under a title line ("none" when there are no rows).
fn table(out: &mut String, title: &str, header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let rows: Vec<String> = rows.map(|row| format!("| {} |", row.join(" | "))).collect();
    if rows.is_empty() {
        let _ = writeln!(out, "\n{title}: none.");
        return;
    }
    let _ = writeln!(out, "\n{title}:\n\n| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "{row}");
    }
}
