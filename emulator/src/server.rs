//! The one AWS endpoint `POST /`: pick the protocol (ACM requests carry
//! `X-Amz-Target: CertificateManager.<Action>`, everything else is the EC2 Query protocol), then
//! the same pipeline for both: authenticate, parse the action, count the call, take a token from
//! its request-rate bucket (or answer the protocol's throttling error), inject faults, run the
//! action, add latency, answer in the protocol's format.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;

use crate::AppState;
use crate::acm::Acm;
use crate::clock::Now;
use crate::ec2::Ec2;
use crate::protocol::{ActionName, ApiError, Call, HttpRequest, Protocol};
use crate::state::World;
use crate::throttle::Request;

pub fn router() -> Router<AppState> {
    // SDKs always POST; EC2 also accepts GET with a query string.
    Router::new().route("/", post(handle).get(handle))
}

/// Whether `name` is an action of either protocol (for fault rules).
pub fn is_known_action(name: &str) -> bool {
    crate::ec2::Action::from_name(name).is_some() || crate::acm::Action::from_name(name).is_some()
}

async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = HttpRequest {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    if crate::acm::is_acm_request(&headers) {
        serve::<Acm>(&state, &request).await
    } else {
        serve::<Ec2>(&state, &request).await
    }
}

async fn serve<P: Protocol>(state: &AppState, request: &HttpRequest<'_>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let outcome = process::<P>(state, request);
    if !outcome.latency.is_zero() {
        tokio::time::sleep(outcome.latency).await;
    }
    let action = outcome.action.map_or("-", ActionName::name);
    match &outcome.result {
        Ok(_) => {
            tracing::debug!(%request_id, action, account = outcome.account, region = outcome.region, "ok");
        }
        Err(err) => {
            let (code, message) = (err.code(), err.message());
            tracing::debug!(%request_id, action, account = outcome.account, region = outcome.region, code, message, "error");
        }
    }
    P::respond(outcome.action, &request_id, outcome.result)
}

struct Outcome<P: Protocol> {
    action: Option<P::Action>,
    account: String,
    region: String,
    result: Result<String, ApiError<P>>,
    latency: Duration,
}

fn process<P: Protocol>(state: &AppState, request: &HttpRequest<'_>) -> Outcome<P> {
    let call = match P::identify(request) {
        Ok(found) => found,
        Err(err) => {
            return Outcome {
                action: None,
                account: String::new(),
                region: String::new(),
                result: Err(err),
                latency: Duration::ZERO,
            };
        }
    };
    let name = call.action.name();
    let now = Now::read();
    let mut world = state.lock();
    world.count_call(name);
    let latency = if world.faults.applies_to(name) {
        Duration::from_millis(world.faults.latency_ms)
    } else {
        Duration::ZERO
    };
    let request = Request {
        account_id: &call.caller.account_id,
        region: &call.caller.region,
        action: name,
        class: P::bucket_class(&call),
    };
    let limits = world.settings.request_rate_limits;
    let result = if world.request_rates.admit(limits, request, now.instant) {
        run_with_faults(&mut world, &call, now)
    } else {
        // Refused by its bucket: no fault rule is used up and nothing changes.
        Err(ApiError::throttled())
    };
    Outcome {
        action: Some(call.action),
        account: call.caller.account_id,
        region: call.caller.region,
        result,
        latency,
    }
}

/// A pending fail-next rule or the random fault dice, else the action.
fn run_with_faults<P: Protocol>(
    world: &mut World,
    call: &Call<P>,
    now: Now,
) -> Result<String, ApiError<P>> {
    let name = call.action.name();
    let faulty = world.faults.applies_to(name);
    let (throttle, internal) = (
        world.faults.throttle_probability,
        world.faults.internal_error_probability,
    );
    match world.fail_next.take(name) {
        Some(rule) if rule.after_apply => {
            // The change happens, the response is "lost".
            let _applied = P::execute(world, call, now);
            Err(ApiError::injected(&rule.code, rule.message.as_deref()))
        }
        Some(rule) => Err(ApiError::injected(&rule.code, rule.message.as_deref())),
        None if faulty && world.rng.chance(throttle) => Err(ApiError::throttled()),
        None if faulty && world.rng.chance(internal) => Err(ApiError::internal()),
        None => P::execute(world, call, now),
    }
}
