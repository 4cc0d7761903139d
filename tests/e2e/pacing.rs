//! AWS's limit of 10 operations in progress per endpoint: the operator paces its child calls
//! below it, so the largest object the schema allows converges without a single refusal.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{applied, calls_of, condition};
use crate::harness::{Env, manifest};
use crate::largest_object::{ROUTES, RULES, SUBNETS, add_children};

const NAME: &str = "large";

#[tokio::test]
async fn five_networks_two_hundred_rules_and_a_hundred_routes_converge_without_a_refusal() {
    let env = Env::start_with("pacing", &["--endpoint-operations-limit", "8"]).await;
    let child_calls = [
        "AssociateClientVpnTargetNetwork",
        "AuthorizeClientVpnIngress",
        "CreateClientVpnRoute",
    ];
    let before: Vec<u64> = child_calls.iter().map(|a| calls_of(&env, a)).collect();
    let started = Instant::now();
    applied(&env, &manifest(NAME, add_children));

    // Every condition reason the object shows on its way: none may be an error.
    let reasons = Mutex::new(BTreeSet::new());
    let ready = env
        .wait_for_within(NAME, "Ready", Duration::from_secs(300), |o| {
            for type_ in ["Reconciling", "Stalled"] {
                if let Some(c) = condition(o, type_) {
                    reasons.lock().unwrap().insert(format!("{type_}/{}", c.1));
                }
            }
            condition(o, "Ready").is_some_and(|c| c.0 == "True")
        })
        .await;
    let elapsed = started.elapsed();
    let status = ready.status.expect("status");
    assert_eq!(status.target_networks.len(), SUBNETS.len());
    assert_eq!(status.authorization_rules.len(), RULES);
    let added_routes = status
        .routes
        .iter()
        .filter(|r| r.destination_cidr_block.starts_with("192.168."))
        .count();
    assert_eq!(added_routes, ROUTES);

    let reasons = reasons.into_inner().unwrap();
    let errors: Vec<&String> = reasons
        .iter()
        .filter(|r| r.starts_with("Stalled/") || r.contains("/Aws"))
        .collect();
    assert!(
        errors.is_empty(),
        "error conditions on the way: {reasons:?}"
    );
    let events = env.events(NAME);
    assert!(
        !events.lines().any(|l| l.starts_with("Warning ")),
        "{events}"
    );
    // Each child is asked for once: a refused call would have been repeated.
    let calls: Vec<u64> = child_calls
        .iter()
        .zip(&before)
        .map(|(a, b)| calls_of(&env, a) - b)
        .collect();
    assert_eq!(calls, [SUBNETS.len() as u64, RULES as u64, ROUTES as u64]);
    eprintln!(
        "[figures] {} children Ready in {:.1} s; child calls {calls:?} (minimum {:?}); reasons {reasons:?}",
        SUBNETS.len() + RULES + ROUTES,
        elapsed.as_secs_f64(),
        [SUBNETS.len(), RULES, ROUTES],
    );

    env.kubectl(&["delete", "cvpn", NAME, "--wait=false"]);
    env.wait_gone_within(NAME, Duration::from_secs(300)).await;
}
