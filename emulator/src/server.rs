//! The EC2 Query endpoint `POST /`: authenticate, parse `Action`, count the call, inject
//! faults, run the action, add latency, and answer in EC2's XML.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::actions::{self, Action};
use crate::auth::{self, Caller};
use crate::clock::Now;
use crate::error::Ec2Error;
use crate::query::Params;
use crate::state::AppState;
use crate::xml::success_document;

pub fn router() -> Router<AppState> {
    // SDKs always POST; EC2 also accepts GET with a query string.
    Router::new().route("/", post(handle).get(handle))
}

async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params = if method == Method::GET {
        Params::parse(uri.query().unwrap_or_default().as_bytes())
    } else {
        Params::parse(&body)
    };
    let outcome = process(&state, &headers, &params);
    if !outcome.latency.is_zero() {
        tokio::time::sleep(outcome.latency).await;
    }
    let action = outcome.action.map_or("-", Action::name);
    match outcome.result {
        Ok(body) => {
            tracing::debug!(%request_id, action, account = outcome.account, region = outcome.region, "ok");
            respond(
                StatusCode::OK,
                &request_id,
                success_document(action, &request_id, &body),
            )
        }
        Err(err) => {
            tracing::debug!(%request_id, action, account = outcome.account, region = outcome.region, code = err.category(), message = err.message(), "error");
            respond(err.status(), &request_id, err.to_xml(&request_id))
        }
    }
}

struct Outcome {
    action: Option<Action>,
    account: String,
    region: String,
    result: Result<String, Ec2Error>,
    latency: Duration,
}

fn process(state: &AppState, headers: &HeaderMap, params: &Params) -> Outcome {
    let mut outcome = Outcome {
        action: None,
        account: String::new(),
        region: String::new(),
        result: Ok(String::new()),
        latency: Duration::ZERO,
    };
    let (caller, action) = match identify(headers, params) {
        Ok(found) => found,
        Err(err) => {
            outcome.result = Err(err);
            return outcome;
        }
    };
    outcome.action = Some(action);
    outcome.account.clone_from(&caller.account_id);
    outcome.region.clone_from(&caller.region);

    let now = Now::read();
    let mut world = state.lock();
    world.count_call(action);
    let injected = world.fail_next.take(action);
    let faulty = world.faults.applies_to(action);
    let throttle = world.faults.throttle_probability;
    let internal = world.faults.internal_error_probability;
    if faulty {
        outcome.latency = Duration::from_millis(world.faults.latency_ms);
    }
    outcome.result = match injected {
        Some(rule) if rule.after_apply => {
            // The change happens, the response is "lost".
            let _applied = actions::execute(&mut world, &caller, action, params, now);
            Err(rule.error())
        }
        Some(rule) => Err(rule.error()),
        None if faulty && world.rng.chance(throttle) => Err(Ec2Error::throttled()),
        None if faulty && world.rng.chance(internal) => Err(Ec2Error::internal()),
        None => actions::execute(&mut world, &caller, action, params, now),
    };
    outcome
}

/// Who is calling and what they ask for.
fn identify(headers: &HeaderMap, params: &Params) -> Result<(Caller, Action), Ec2Error> {
    let caller = auth::caller(headers)?;
    let name = params
        .get("Action")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            Ec2Error::new(
                "MissingAction",
                "The request must contain the parameter Action",
            )
        })?;
    let action = Action::from_name(name).ok_or_else(|| {
        Ec2Error::new(
            "InvalidAction",
            format!("The action {name} is not valid for this web service."),
        )
    })?;
    params.required("Version")?;
    Ok((caller, action))
}

fn respond(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    headers.insert(header::SERVER, HeaderValue::from_static("AmazonEC2"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}
