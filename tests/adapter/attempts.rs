//! Pacing, metrics and logging apply to every HTTP attempt: the SDK's own retries count one by
//! one, and the pacer hears each of them.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_ec2::config::retry::RetryConfig;
use clientvpn_operator::cloud::{AwsScope, ClientVpnApi, Operation, PacingConfig, Rate};
use serde_json::Value;

use crate::emulator::Emulator;
use crate::support::*;

/// How long one token of a Describe action's bucket takes to refill in these tests.
const PAUSE: Duration = Duration::from_millis(300);

/// The test binary's `tracing` output, as JSON lines. Global, because `tracing` caches each
/// callsite's interest process-wide: with only a thread-local subscriber, a callsite first hit
/// on another test's thread would stay disabled here.
fn captured() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter("clientvpn_operator=debug")
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        log
    })
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The `fields` of every `EC2 attempt` event in `region`.
    fn attempts(&self, region: &str) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().expect("log buffer").clone()).expect("UTF-8");
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON log line"))
            .map(|line| line["fields"].clone())
            .filter(|fields| fields["message"] == "EC2 attempt" && fields["region"] == region)
            .collect()
    }
}

#[tokio::test]
async fn an_sdk_retry_after_throttling_is_two_attempts_and_waits_for_its_action_to_refill() {
    let emulator = Emulator::start();
    let retry = RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(1));
    let pacing = PacingConfig {
        non_mutating: Rate {
            per_second: 1.0 / PAUSE.as_secs_f64(),
            burst: 5,
        },
        ..PacingConfig::default()
    };
    let adapter = Adapter::at(&emulator.url(), "AKIDRETRY", retry, pacing).await;
    let log = captured();
    // A region of its own, so that other tests' attempts are not in its log lines.
    let region = "eu-north-1";
    emulator.fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded");
    let started = Instant::now();
    let listed = adapter.api.list_endpoints(region).await;
    assert_eq!(listed.expect("the SDK's retry succeeds"), []);

    assert_eq!(emulator.calls("DescribeClientVpnEndpoints"), 2);
    assert_eq!(
        adapter.attempts("DescribeClientVpnEndpoints", "retryable"),
        1
    );
    assert_eq!(adapter.attempts("DescribeClientVpnEndpoints", "success"), 1);
    assert!(
        started.elapsed() >= PAUSE,
        "the retry waited for a token of the emptied bucket, so the pacer heard the throttle: {:?}",
        started.elapsed()
    );

    let events = log.attempts(region);
    assert_eq!(events.len(), 2, "{events:?}");
    for (event, (attempt, outcome)) in events.iter().zip([(1, "retryable"), (2, "success")]) {
        assert_eq!(event["operation"], "DescribeClientVpnEndpoints", "{event}");
        assert_eq!(event["region"], region, "{event}");
        assert_eq!(event["attempt"], attempt, "{event}");
        assert_eq!(event["outcome"], outcome, "{event}");
        assert!(event["request_id"].is_string(), "{event}");
    }
    assert_eq!(events[0]["code"], "RequestLimitExceeded");
}

#[tokio::test]
async fn a_throttling_answer_empties_only_its_own_actions_bucket() {
    let emulator = Emulator::start();
    let (retry, _) = no_retries();
    let pacing = PacingConfig {
        non_mutating: Rate {
            per_second: 0.001,
            burst: 5,
        },
        ..PacingConfig::default()
    };
    let adapter = Adapter::at(&emulator.url(), "AKIDPAUSE", retry, pacing).await;
    let (routes, listing) = (
        Some(Operation::DescribeClientVpnRoutes),
        Some(Operation::DescribeClientVpnEndpoints),
    );
    adapter.api.list_endpoints(REGION).await.expect("listed");
    emulator.fail_next("DescribeClientVpnRoutes", "RequestLimitExceeded");
    let err = adapter
        .api
        .describe_routes(REGION, UNKNOWN_ENDPOINT)
        .await
        .expect_err("throttled");
    assert!(err.is_throttling(), "{err:?}");
    let tokens = |region: &str, op| adapter.pacer.tokens(&AwsScope::region(region), op);
    assert!(
        tokens(REGION, routes) < 1.0,
        "emptied: {}",
        tokens(REGION, routes)
    );
    let left = tokens(REGION, listing);
    assert!(
        (3.9..4.1).contains(&left),
        "the listing spent one token only: {left}"
    );
    assert_eq!(
        tokens("eu-west-1", routes),
        5.0,
        "another region keeps its bucket"
    );
    assert_eq!(adapter.attempts("DescribeClientVpnRoutes", "retryable"), 1);
}
