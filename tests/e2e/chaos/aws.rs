//! The AWS side fails: an endpoint vanishes behind the operator's back, a fault storm.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

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
