//! AWS quotas: a refusal is a Stalled condition and one Warning event that name the quota, how
//! much of it is used and what to do; it is retried at its own slow interval, and the object
//! converges once the quota allows it.

use serde_json::{Value, json};

use super::{applied, calls_of, condition, has_endpoint_id};
use crate::harness::{Env, manifest, wait_until};

const NAME: &str = "over-quota";

/// The emulator's quotas as they were, put back when the test ends (even when it fails), as
/// every test shares the emulator.
struct LoweredLimits<'a> {
    env: &'a Env,
    before: Value,
}

impl<'a> LoweredLimits<'a> {
    fn lower(env: &'a Env, limits: Value) -> Self {
        let before = env.emulator_call("GET", "/_emulator/limits", None);
        env.emulator_call("POST", "/_emulator/limits", Some(limits));
        Self { env, before }
    }
}

impl Drop for LoweredLimits<'_> {
    fn drop(&mut self) {
        let before = self.before.clone();
        let restore = || {
            self.env
                .emulator_call("POST", "/_emulator/limits", Some(before))
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(restore));
    }
}

#[tokio::test]
async fn an_endpoint_over_the_region_quota_is_stalled_naming_it_and_created_once_raised() {
    let env = Env::start_with("quota", &["--quota-retry-interval", "3s"]).await;
    let creates_before = calls_of(&env, "CreateClientVpnEndpoint");
    let lowered = LoweredLimits::lower(&env, json!({"endpoints_per_region": 0}));
    applied(&env, &manifest(NAME, |_| {}));

    let stalled = env
        .wait_for(NAME, "Stalled with reason QuotaExceeded", |o| {
            condition(o, "Stalled").is_some_and(|c| c.0 == "True" && c.1 == "QuotaExceeded")
        })
        .await;
    let message = condition(&stalled, "Stalled").expect("Stalled").2;
    for part in [
        "AWS quota reached: Client VPN endpoints per Region (",
        " endpoints in us-east-1, AWS default 5)",
        "request an increase in Service Quotas (service ec2, quota L-8EA77D34)",
        "The operator retries every 3s.",
        "CreateClientVpnEndpoint: ClientVpnEndpointLimitExceeded",
    ] {
        assert!(message.contains(part), "{part:?} in {message:?}");
    }
    assert!(!has_endpoint_id(&stalled));

    // Retried at the quota interval, not in a hot loop, and reported as one event series.
    wait_until("a second try of the create", || {
        calls_of(&env, "CreateClientVpnEndpoint") >= creates_before + 2
    })
    .await;
    let events = env.events(NAME);
    let warnings: Vec<&str> = events
        .lines()
        .filter(|l| l.starts_with("Warning "))
        .collect();
    assert_eq!(warnings.len(), 1, "{events}");
    assert!(warnings[0].starts_with("Warning QuotaExceeded: AWS quota reached"));

    // Room again: the next slow retry creates the endpoint, once.
    drop(lowered);
    let created = env
        .wait_for(NAME, "an endpoint and no Stalled condition", |o| {
            has_endpoint_id(o) && condition(o, "Stalled").is_none()
        })
        .await;
    let uid = created.metadata.uid.clone().expect("uid");
    assert_eq!(env.aws_endpoints_of(&uid).len(), 1);

    env.kubectl(&["delete", "cvpn", NAME, "--wait=false"]);
    env.wait_gone(NAME).await;
}
