//! The people phase's markdown section: targets, the table per number of users, where the time
//! beyond the key-generation floor went, and the revocation samples.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use super::{
    IMPORT_CRL, ISSUANCE_RATIO_TARGET, REVOCATION_P50_TARGET, RSS_DELTA_TARGET_MIB,
    RSS_TARGET_USERS, SERIAL_ANNOTATION, Settings, UsersResult,
};
use crate::report::{percentile, verdict};

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
         API server + etcd CPU (issuance) | Idle CPU (issuance) | Revocation p50 | p99 | RSS before | RSS after | \
         Δ RSS | Peak RSS (end) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
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
            "| {} | {} ({} threads) | {} | {} | {} | {} | {:.1} s | {:.1} s | {:.1} s | {p50} | {p99} | {} | {} | {:+.1} MiB | {} |",
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
            r.control_plane_cpu_ticks as f64 / clk_tck.max(1) as f64,
            r.idle_cpu_ticks as f64 / clk_tck.max(1) as f64,
            mib(r.before.rss_kib),
            mib(r.after.rss_kib),
            r.rss_delta_mib(),
            mib(r.end.peak_kib),
        );
    }
    for r in results {
        let _ = writeln!(out, "\nN = {}: creates sent in {}.", r.n, secs(r.applied));
        let requests: Vec<String> = r
            .requests
            .iter()
            .map(|(request, count)| {
                format!(
                    "{request} {count:.0} ({:.2}/user)",
                    count / r.n.max(1) as f64
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "Kubernetes API requests during issuance (all clients, the creates included): {}.",
            requests.join(", ")
        );
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
