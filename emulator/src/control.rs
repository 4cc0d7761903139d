//! The control and inspection API under `/_emulator/` (JSON, no auth), for tests.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::AppState;
use crate::clock::Now;
use crate::config::{Limits, Settings, TimingUpdate};
use crate::connect::{ConnectError, ConnectRequest, connect};
use crate::faults::{FailNext, Faults};
use crate::server::is_known_action;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator/healthz", get(healthz))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(dump_state))
        .route("/_emulator/calls", get(calls))
        .route("/_emulator/calls/rate-limited", get(rate_limited))
        .route("/_emulator/calls/reset", post(reset_calls))
        .route(
            "/_emulator/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_emulator/faults/fail-next", post(fail_next))
        .route("/_emulator/timing", get(get_timing).post(set_timing))
        .route("/_emulator/limits", get(get_limits).post(set_limits))
        .route("/_emulator/settings", get(get_settings).post(set_settings))
        .route("/_emulator/connections", post(connect_client))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    state.lock().reset();
    tracing::info!("state, counters and faults reset");
    Json(json!({"reset": true}))
}

/// `{"accounts": {"<account>": {"<region>": {"endpoints": [...]}}}}`, after applying every due
/// transition; endpoints carry their tags, associations, authorization rules and routes.
async fn dump_state(State(state): State<AppState>) -> Json<Value> {
    let mut world = state.lock();
    world.advance_all(&Now::read());
    let mut accounts: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for ((account, region), contents) in &world.regions {
        if contents.endpoints.is_empty() {
            continue;
        }
        let endpoints: Vec<_> = contents.endpoints.values().collect();
        accounts
            .entry(account)
            .or_default()
            .insert(region, json!({ "endpoints": endpoints }));
    }
    Json(json!({ "accounts": accounts }))
}

async fn calls(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().calls))
}

/// `{"<action>": n}`: requests refused by their request-rate bucket (a subset of the calls;
/// random throttling faults are not counted here).
async fn rate_limited(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().request_rates.refused()))
}

/// Zeroes the call and rate-limited counters (the buckets keep their tokens).
async fn reset_calls(State(state): State<AppState>) -> Json<Value> {
    let mut world = state.lock();
    world.calls.clear();
    world.request_rates.clear_counters();
    Json(json!(world.calls))
}

fn faults_view(state: &AppState) -> Json<Value> {
    let world = state.lock();
    let mut view = json!(world.faults);
    view["fail_next"] = json!(world.fail_next.pending());
    Json(view)
}

async fn get_faults(State(state): State<AppState>) -> Json<Value> {
    faults_view(&state)
}

async fn set_faults(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let faults: Faults = parse_json(&body)?;
    faults.validate(is_known_action).map_err(BadRequest)?;
    tracing::info!(?faults, "faults set");
    state.lock().faults = faults;
    Ok(faults_view(&state))
}

async fn clear_faults(State(state): State<AppState>) -> Json<Value> {
    {
        let mut world = state.lock();
        world.faults = Faults::default();
        world.fail_next = Default::default();
    }
    faults_view(&state)
}

async fn fail_next(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let rule: FailNext = parse_json(&body)?;
    tracing::info!(?rule, "fail-next rule added");
    state
        .lock()
        .fail_next
        .push(rule, is_known_action)
        .map_err(BadRequest)?;
    Ok(faults_view(&state))
}

async fn get_timing(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().timing))
}

async fn set_timing(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let update: TimingUpdate = parse_json(&body)?;
    let mut world = state.lock();
    world.timing.apply(update);
    tracing::info!(timing = ?world.timing, "timing set");
    Ok(Json(json!(world.timing)))
}

async fn get_limits(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().limits))
}

/// A partial update: the given fields replace the current ones.
async fn set_limits(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let current = state.lock().limits;
    let limits: Limits = merge(&current, &body)?;
    state.lock().limits = limits;
    Ok(Json(json!(limits)))
}

async fn get_settings(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().settings))
}

/// A partial update, like the limits.
async fn set_settings(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, BadRequest> {
    let current = state.lock().settings;
    let settings: Settings = merge(&current, &body)?;
    tracing::info!(?settings, "settings set");
    state.lock().settings = settings;
    Ok(Json(json!(settings)))
}

/// A simulated client connects with a certificate: `200 {"connectionId", "clientVpnEndpointId",
/// "commonName", "clientIp", "status": "active"}` (plus `username` when given), `403 {"refused":
/// true, "reason", "message"}` when authentication fails, 404 for an unknown endpoint.
async fn connect_client(State(state): State<AppState>, body: Bytes) -> Response {
    let request: ConnectRequest = match parse_json(&body) {
        Ok(request) => request,
        Err(err) => return err.into_response(),
    };
    let result = connect(&mut state.lock(), &request, &Now::read());
    let endpoint_id = &request.client_vpn_endpoint_id;
    match result {
        Ok(admitted) => {
            tracing::info!(
                endpoint_id,
                connection_id = admitted.connection_id,
                "client connected"
            );
            let mut body = json!({
                "connectionId": admitted.connection_id,
                "clientVpnEndpointId": endpoint_id,
                "commonName": admitted.common_name,
                "clientIp": admitted.client_ip,
                "status": "active",
            });
            if let Some(user) = admitted.username {
                body["username"] = json!(user);
            }
            Json(body).into_response()
        }
        Err(ConnectError::NotFound(message)) => {
            (StatusCode::NOT_FOUND, Json(json!({"error": message}))).into_response()
        }
        Err(ConnectError::BadRequest(message)) => BadRequest(message).into_response(),
        Err(ConnectError::Refused { reason, message }) => {
            tracing::info!(endpoint_id, reason, "client refused");
            let body = json!({"refused": true, "reason": reason, "message": message});
            (StatusCode::FORBIDDEN, Json(body)).into_response()
        }
    }
}

/// `current` with the fields of the JSON object `body` replaced (unknown fields are refused).
fn merge<T: serde::Serialize + DeserializeOwned>(
    current: &T,
    body: &[u8],
) -> Result<T, BadRequest> {
    let mut merged = json!(current);
    if let (Some(target), Value::Object(fields)) = (merged.as_object_mut(), parse_json(body)?) {
        target.extend(fields);
    }
    serde_json::from_value(merged).map_err(|e| BadRequest(e.to_string()))
}

/// An empty body counts as `{}`.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BadRequest> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| BadRequest(e.to_string()))
}

/// A rejected control request: 400 with `{"error": "..."}`.
#[derive(Debug)]
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({"error": self.0}))).into_response()
    }
}
