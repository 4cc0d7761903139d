//! The AWS side fails: an endpoint vanishes behind the operator's back, a fault storm.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;
use crate::harness::{ACCOUNT_KEY, emulator};

#[tokio::test]
async fn chaos_endpoint_deleted_out_of_band() {
    let mut env = Env::start("chaos-oob").await;
    let mut record = Record::new(
        "Endpoint deleted out of band",
        "noticed within the region listing interval (30 s here), recreated once, nothing extra per object",
        "one object; its endpoint deleted with the AWS SDK behind the operator's back".into(),
    );
    applied(&env, &manifest("oob", |_| {}));
    let created = settled(&mut env, all_created, 1).await;
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

/// The storm of [`chaos_aws_fault_storm_on_objects_with_children`].
fn storm() -> serde_json::Value {
    json!({"throttle_probability": 0.5, "internal_error_probability": 0.2, "latency_ms": 200})
}

/// How far the operator may be from the storm's floor.
const STORM_GOAL: f64 = 3.0;

#[tokio::test]
async fn chaos_aws_fault_storm_on_objects_with_children() {
    let count = Profile::current().pick(3, 10);
    let mut env = Env::start("chaos-storm").await;
    let mut record = Record::new(
        "AWS fault storm",
        "no duplicate and no false Ready; all Ready and then all deleted with the storm still on, \
         within 3× the floor (the same number of successful calls, one at a time, under the same \
         storm; asserted in the full profile, reported in the short one); at most one Warning \
         event series per object",
        format!(
            "{count} objects with a network, a rule and a route, created and then deleted under \
             50 % throttling, 20 % internal errors and +200 ms per call"
        ),
    );
    let counters = Counters::now(&env);
    env.emulator_call("POST", "/_emulator/faults", Some(storm()));
    let started = Instant::now();
    for name in names("storm", count) {
        applied(&env, &manifest(&name, with_children));
    }
    let mut watch = StormWatch::default();
    let ready = watch
        .until(&env, async |env: &Env| all_ready(env, count).await)
        .await;
    record.figure(
        &format!("time until all {count} are Ready, storm on"),
        seconds(ready),
    );
    env.kubectl(&["delete", "cvpn", "--all", "--wait=false"]);
    let gone = watch
        .until(&env, async |env: &Env| all_gone(env).await)
        .await;
    record.figure("time until all are deleted, storm on", seconds(gone));
    let took = started.elapsed();
    let successes = successful_attempts(&env);
    let floor = storm_floor(&env, successes).await;
    env.emulator_call("DELETE", "/_emulator/faults", None);
    let ratio = took.as_secs_f64() / floor.as_secs_f64().max(0.001);
    record.figure("operator's successful AWS calls", successes);
    record.figure(
        "floor: as many successful calls one at a time, storm on",
        format!("{:.1} s", floor.as_secs_f64()),
    );
    record.figure(
        "apply → all deleted, ÷ floor",
        format!(
            "{:.1} s ÷ {:.1} s = {ratio:.2}×",
            took.as_secs_f64(),
            floor.as_secs_f64()
        ),
    );
    let series = warning_series(&env, count);
    record.figure("Warning event series per object (most)", series);
    record.figure("false Ready seen", watch.false_ready);
    record.figure("duplicates seen", watch.duplicates);
    record.check("no false Ready", watch.false_ready == 0);
    record.check("no duplicate", watch.duplicates == 0);
    record.check("all Ready with the storm on", ready.is_ok());
    record.check("all deleted with the storm on", gone.is_ok());
    let within_goal = ready.is_ok() && gone.is_ok() && ratio <= STORM_GOAL;
    let goal = format!("within {STORM_GOAL}× the floor");
    match Profile::current() {
        Profile::Full => record.check(goal, within_goal),
        // With 3 objects the fixed waits (association and deletion delays, retry backoff) weigh
        // more than the calls the floor counts, and the storm is random: a timing goal, so it
        // is reported here and asserted only in the full profile (`make chaos`).
        Profile::Short => record.figure(
            &format!("{goal} (asserted in the full profile only)"),
            if within_goal { "yes" } else { "no" },
        ),
    }
    record.check("at most one Warning event series per object", series <= 1);
    if gone.is_err() {
        cleaned_up(&mut env, &mut record).await;
    }
    counters.report(&env, &mut record);
    record.finish();
}

/// The invariants watched while the storm is on.
#[derive(Default)]
struct StormWatch {
    false_ready: usize,
    duplicates: usize,
}

impl StormWatch {
    /// Poll `done` until it holds (`Ok`, time taken) or [`CONVERGE`] passes (`Err`), checking
    /// the invariants at every poll.
    async fn until(
        &mut self,
        env: &Env,
        done: impl AsyncFn(&Env) -> bool,
    ) -> Result<Duration, Duration> {
        let started = Instant::now();
        loop {
            let objects = objects(env).await;
            self.false_ready = self.false_ready.max(false_ready(env, &objects));
            self.duplicates = self.duplicates.max(duplicated(env));
            if done(env).await {
                return Ok(started.elapsed());
            }
            if started.elapsed() > CONVERGE {
                return Err(started.elapsed());
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// AWS attempts the operator's log shows answered with success.
fn successful_attempts(env: &Env) -> usize {
    let log = std::fs::read_to_string(env.operator_log()).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("EC2 attempt") && l.contains("success"))
        .count()
}

/// The storm's floor: a bare SDK client without retries making `successes` successful calls
/// one at a time, each failed call repeated at once.
async fn storm_floor(env: &Env, successes: usize) -> Duration {
    let url = format!("http://{}", env.emulator_address());
    let sdk = emulator::sdk_config(&url, ACCOUNT_KEY).await;
    let config = aws_sdk_ec2::config::Builder::from(&sdk)
        .retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
        .build();
    let client = aws_sdk_ec2::Client::from_conf(config);
    let started = Instant::now();
    let mut done = 0;
    while done < successes {
        let call = client.describe_client_vpn_endpoints().max_results(5).send();
        done += usize::from(call.await.is_ok());
    }
    started.elapsed()
}

/// The most Warning event series any of the `count` objects has.
fn warning_series(env: &Env, count: usize) -> usize {
    names("storm", count)
        .iter()
        .map(|n| {
            env.events(n)
                .lines()
                .filter(|l| l.starts_with("Warning "))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// An emulator of the scenario's own on `addr` (once the port is free again), with the shared
/// one's delays and permissive certificates (the managed certificates it had are lost with it).
fn emulator_on(addr: &str) -> emulator::Emulator {
    let free = Instant::now();
    while std::net::TcpListener::bind(addr).is_err() {
        assert!(
            free.elapsed() < Duration::from_secs(30),
            "{addr} stays busy"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    emulator::Emulator::launch()
        .flags(emulator::E2E_DELAYS)
        .listen(addr)
        .start()
}

/// The endpoint IDs in the objects' status.
async fn status_ids(env: &Env) -> Vec<String> {
    objects(env)
        .await
        .into_iter()
        .filter_map(|o| o.status?.client_vpn_endpoint_id)
        .collect()
}

#[tokio::test]
async fn chaos_emulator_restarted_with_its_state_lost() {
    let count = Profile::current().pick(3, 10);
    let mut env = Env::start("chaos-amnesia").await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("address").to_string()
    };
    let mut aws = emulator_on(&addr);
    env.use_emulator(&addr);
    let mut record = Record::new(
        "Emulator restarted with its state lost",
        "every object gets a new endpoint (one each, children included) and is Ready on it; \
         nothing duplicated; then all deleted",
        format!(
            "{count} objects with a network, a rule and a route Ready; the emulator killed and \
             started again on the same port with no state"
        ),
    );
    for name in names("amnesia", count) {
        applied(&env, &manifest(&name, with_children));
    }
    let ready = settled(&mut env, all_ready, count).await;
    record.check("all Ready before the restart", ready.is_ok());
    let before = status_ids(&env).await;
    drop(aws);
    aws = emulator_on(&addr);
    let back = converge(&mut env, &mut Calm, async |env: &Env| {
        let ids = status_ids(env).await;
        let listed: Vec<Value> = env.aws_endpoints();
        let available = |id: &String| {
            listed
                .iter()
                .any(|e| e["clientVpnEndpointId"] == json!(id) && e["status"] == json!("available"))
        };
        all_ready(env, count).await
            && ids.len() == count
            && ids.iter().all(|id| !before.contains(id) && available(id))
    })
    .await;
    record.figure(
        "time until all are Ready on new endpoints (resync 30 s)",
        seconds(back),
    );
    let creates = calls_of(&env, "CreateClientVpnEndpoint");
    record.figure("CreateClientVpnEndpoint calls after the restart", creates);
    record.figure("duplicates", duplicated(&env));
    record.check("all Ready on new endpoints", back.is_ok());
    record.check("one create per object", creates == count as u64);
    record.check("no duplicate", duplicated(&env) == 0);
    cleaned_up(&mut env, &mut record).await;
    drop(aws);
    record.finish();
}
