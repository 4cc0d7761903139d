//! AWS's request-rate token buckets (on by default): per account, region and action, EC2 answers
//! an empty bucket with `RequestLimitExceeded` (503), ACM with `ThrottlingException` (400). The
//! buckets refill while a test runs, so counts are bounded by capacity + rate × elapsed time.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use serde_json::json;

use crate::common::*;

const THROTTLED: &str = "RequestLimitExceeded";
const DESCRIBE: &str = "DescribeClientVpnEndpoints";
const UNFILTERED_QUERY: &str = "Action=DescribeClientVpnEndpoints&Version=2016-11-15";

/// How a burst ended: the successes before the first refusal, how long it took, the refusal.
struct Burst<E> {
    successes: u32,
    elapsed: Duration,
    refusal: E,
}

impl<E> Burst<E> {
    /// Asserts the successes fit a bucket of `capacity` refilled at `rate` per second: at least
    /// the full bucket, at most what it could have held meanwhile.
    #[track_caller]
    fn assert_bucket(&self, capacity: f64, rate: f64) {
        let most = capacity + rate * self.elapsed.as_secs_f64() + 1.0;
        let successes = f64::from(self.successes);
        assert!(
            (capacity..=most).contains(&successes),
            "{successes} successes in {:?}, bucket {capacity} + {rate}/s",
            self.elapsed
        );
    }
}

/// Sends `call` as fast as possible until it is refused (at most 2,000 times).
async fn until_refused<T, E, F, Fut>(mut call: F) -> Burst<E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    for successes in 0..2_000 {
        if let Err(refusal) = call(successes).await {
            return Burst {
                successes,
                elapsed: started.elapsed(),
                refusal,
            };
        }
    }
    panic!("2,000 calls in a row were not throttled");
}

#[track_caller]
fn assert_throttled<E: ProvideErrorMetadata>(err: &SdkError<E>) {
    assert_eq!(code(err), THROTTLED);
    assert_eq!(http_status(err), 503);
    assert_eq!(err.message(), Some("Request limit exceeded."));
}

#[tokio::test]
async fn a_describe_bucket_drains_and_other_actions_keep_theirs() {
    let (emu, ec2, id) = start_with_endpoint().await;
    let burst = until_refused(|_| ec2.describe_client_vpn_endpoints().max_results(5).send()).await;
    assert_throttled(&burst.refusal);
    burst.assert_bucket(100.0, 20.0);

    // Right away: another action, and the same action in the unfiltered class, have full
    // buckets; so do other regions and accounts.
    routes_of(&ec2, &id, vec![]).await;
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
    let elsewhere = emu.client_for(ACCESS_KEY, "eu-west-1").await;
    let other_account = emu.client_for("AKIDOTHER", REGION).await;
    for client in [&elsewhere, &other_account] {
        let out = client.describe_client_vpn_endpoints().max_results(5).send();
        out.await.unwrap();
    }

    let calls = emu.calls().await;
    let described = u64::from(burst.successes) + 1 + 1 + 2;
    assert_eq!(
        calls[DESCRIBE], described,
        "refusals are calls too: {calls}"
    );
    let (status, refused) = emu
        .control("GET", "/_emulator/calls/rate-limited", None)
        .await;
    assert_eq!((status, refused), (200, json!({DESCRIBE: 1})));
}

#[tokio::test]
async fn unfiltered_unpaginated_describes_have_the_smaller_bucket() {
    let (emu, ec2) = start_with_client().await;
    let burst = until_refused(|_| async {
        let response = emu.query(UNFILTERED_QUERY).await;
        if response.status == 200 {
            Ok(())
        } else {
            Err(response)
        }
    })
    .await;
    burst.assert_bucket(50.0, 10.0);
    // EC2's error envelope and status, as for the random throttling fault.
    let refusal = burst.refusal;
    assert_eq!(refusal.status, 503);
    assert_eq!(refusal.element("Code"), Some(THROTTLED));
    assert_eq!(refusal.element("Message"), Some("Request limit exceeded."));
    assert!(
        refusal
            .element("RequestID")
            .is_some_and(|id| id.len() == 36)
    );
    assert_eq!(refusal.header("server"), Some("AmazonEC2"));
    // With a filter or a page size it is the ordinary bucket, still full.
    let filtered = ec2
        .describe_client_vpn_endpoints()
        .filters(filter("transport-protocol", "udp"));
    filtered.send().await.unwrap();
}

#[tokio::test]
async fn a_refused_mutation_changes_nothing() {
    let (emu, ec2, id) = start_with_endpoint().await;
    let burst = until_refused(|i| {
        ec2.create_tags()
            .resources(&id)
            .tags(tag("round", &i.to_string()))
            .send()
    })
    .await;
    assert_throttled(&burst.refusal);
    // CreateClientVpnEndpoint took one token of its own bucket, not of CreateTags'.
    burst.assert_bucket(200.0, 5.0);
    let endpoint = describe_endpoint(&ec2, &id).await;
    let round = endpoint.tags().iter().find(|t| t.key() == Some("round"));
    let last_success = (burst.successes - 1).to_string();
    assert_eq!(round.and_then(|t| t.value()), Some(last_success.as_str()));
    let refused = emu
        .control("GET", "/_emulator/calls/rate-limited", None)
        .await
        .1;
    assert_eq!(refused, json!({"CreateTags": 1}));
}

#[tokio::test]
async fn acm_actions_have_buckets_too() {
    let emu = Emulator::start().await;
    let acm = aws_sdk_acm::Client::new(&emu.sdk_config(ACCESS_KEY, REGION).await);
    let burst = until_refused(|_| acm.list_certificates().send()).await;
    burst.assert_bucket(10.0, 10.0);
    let err = burst.refusal;
    assert_eq!(code(&err), "ThrottlingException");
    assert_eq!(http_status(&err), 400);
    assert_eq!(err.message(), Some("Rate exceeded"));
    let ec2 = emu.client().await;
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
}

#[tokio::test]
async fn off_at_run_time_and_resets() {
    let (emu, ec2) = start_with_client().await;
    let (status, settings) = emu.control("GET", "/_emulator/settings", None).await;
    assert_eq!(status, 200);
    assert_eq!(settings["request_rate_limits"], "aws");
    until_refused(|_| ec2.describe_client_vpn_endpoints().send()).await;

    let update = json!({"request_rate_limits": "off"});
    let (status, settings) = emu
        .control("POST", "/_emulator/settings", Some(update))
        .await;
    assert_eq!(
        (status, &settings["request_rate_limits"]),
        (200, &json!("off"))
    );
    for _ in 0..80 {
        ec2.describe_client_vpn_endpoints().send().await.unwrap();
    }
    let bad = json!({"request_rate_limits": "on"});
    let (status, _) = emu.control("POST", "/_emulator/settings", Some(bad)).await;
    assert_eq!(status, 400);

    // Back on: the bucket is as it was (refilled by the time passed); a reset fills it.
    let update = json!({"request_rate_limits": "aws"});
    emu.control("POST", "/_emulator/settings", Some(update))
        .await;
    until_refused(|_| ec2.describe_client_vpn_endpoints().send()).await;
    let (_, body) = emu.control("POST", "/_emulator/calls/reset", None).await;
    assert_eq!(body, json!({}));
    let refused = emu
        .control("GET", "/_emulator/calls/rate-limited", None)
        .await;
    assert_eq!(refused.1, json!({}));
    emu.control("POST", "/_emulator/reset", None).await;
    let burst = until_refused(|_| ec2.describe_client_vpn_endpoints().send()).await;
    burst.assert_bucket(50.0, 10.0);
}

#[tokio::test]
async fn random_throttling_faults_are_not_counted_as_rate_limited() {
    let (emu, ec2) = start_with_client().await;
    emu.set_faults(json!({"throttle_probability": 1.0})).await;
    let err = ec2
        .describe_client_vpn_endpoints()
        .send()
        .await
        .unwrap_err();
    assert_throttled(&err);
    assert_eq!(emu.calls().await, json!({DESCRIBE: 1}));
    let refused = emu
        .control("GET", "/_emulator/calls/rate-limited", None)
        .await;
    assert_eq!(refused.1, json!({}));
}
