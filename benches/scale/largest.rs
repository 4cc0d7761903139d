//! The largest object the schema allows (5 target networks, 200 authorization rules, 100
//! routes) against the emulator's limit of 10 operations in progress per endpoint: time to
//! Ready and the AWS calls it took, next to the minimum (one call per child and the create).

use std::time::{Duration, Instant};

use clientvpn_operator::api::ClientVpnEndpoint;
use kube::api::{Api, PostParams};
use kube::runtime::wait::await_condition;

use crate::fleet;
use crate::largest_object::{ROUTES, RULES, SUBNETS, add_children};
use crate::report::Calls;

/// Longest wait for one object to become Ready.
const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// The mutating calls the object needs at the least, by action: one per child, one create.
pub const MINIMUM: [(&str, u64); 4] = [
    ("CreateClientVpnEndpoint", 1),
    ("AssociateClientVpnTargetNetwork", SUBNETS.len() as u64),
    ("AuthorizeClientVpnIngress", RULES as u64),
    ("CreateClientVpnRoute", ROUTES as u64),
];

/// One object's time to Ready and the AWS calls of that time.
pub struct LargestSample {
    /// Apply → `Ready=True`; `None` if it was not Ready within [`READY_TIMEOUT`].
    pub ready_after: Option<Duration>,
    /// Every AWS call the emulator answered meanwhile, by action (a child call refused with
    /// `ConcurrentMutationLimitExceeded` and repeated counts twice).
    pub calls: Calls,
    /// Of those, the ones refused by the request-rate buckets (`RequestLimitExceeded`).
    pub rate_limited: Calls,
}

/// The benchmark manifest with the most children the schema allows.
pub fn manifest(name: &str) -> ClientVpnEndpoint {
    let mut obj = serde_json::to_value(fleet::manifest(name)).expect("manifest as JSON");
    add_children(&mut obj["spec"]);
    serde_json::from_value(obj).expect("valid largest ClientVpnEndpoint")
}

/// Whether the object shows `Ready=True`.
fn is_ready(obj: Option<&ClientVpnEndpoint>) -> bool {
    obj.and_then(|o| o.status.as_ref()).is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

/// Apply one largest object as `name` and wait for Ready; `calls` reads the emulator's
/// counters since its last reset (all calls, rate-limited calls).
pub async fn sample(
    api: &Api<ClientVpnEndpoint>,
    name: &str,
    calls: impl Fn() -> (Calls, Calls),
) -> LargestSample {
    let started = Instant::now();
    api.create(&PostParams::default(), &manifest(name))
        .await
        .expect("create the largest object");
    let ready = tokio::time::timeout(READY_TIMEOUT, await_condition(api.clone(), name, is_ready));
    let ready_after = match ready.await {
        Ok(Ok(_)) => Some(started.elapsed()),
        Ok(Err(e)) => panic!("watching {name}: {e}"),
        Err(_) => None,
    };
    let (calls, rate_limited) = calls();
    LargestSample {
        ready_after,
        calls,
        rate_limited,
    }
}
