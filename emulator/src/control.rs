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

use crate::clock::Now;
use crate::faults::{FailNext, Faults};
use crate::state::{AppState, Limits, TimingUpdate};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator/healthz", get(healthz))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/state", get(dump_state))
        .route("/_emulator/calls", get(calls))
        .route("/_emulator/calls/reset", post(reset_calls))
        .route(
            "/_emulator/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_emulator/faults/fail-next", post(fail_next))
        .route("/_emulator/timing", get(get_timing).post(set_timing))
        .route("/_emulator/limits", get(get_limits).post(set_limits))
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
async fn dump_state(State(state): State<AppState>) -> Response {
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
    Json(json!({ "accounts": accounts })).into_response()
}

async fn calls(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().calls))
}

async fn reset_calls(State(state): State<AppState>) -> Json<Value> {
    let mut world = state.lock();
    world.calls.clear();
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

async fn set_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let faults: Faults = match parse_json(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(e) = faults.validate() {
        return bad_request(e);
    }
    tracing::info!(?faults, "faults set");
    state.lock().faults = faults;
    faults_view(&state).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> Json<Value> {
    {
        let mut world = state.lock();
        world.faults = Faults::default();
        world.fail_next = Default::default();
    }
    faults_view(&state)
}

async fn fail_next(State(state): State<AppState>, body: Bytes) -> Response {
    let rule: FailNext = match parse_json(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(e) = rule.validate() {
        return bad_request(e);
    }
    tracing::info!(?rule, "fail-next rule added");
    if let Err(e) = state.lock().fail_next.push(rule) {
        return bad_request(e);
    }
    faults_view(&state).into_response()
}

async fn get_timing(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().timing))
}

async fn set_timing(State(state): State<AppState>, body: Bytes) -> Response {
    let update: TimingUpdate = match parse_json(&body) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut world = state.lock();
    world.timing.apply(update);
    tracing::info!(timing = ?world.timing, "timing set");
    Json(json!(world.timing)).into_response()
}

async fn get_limits(State(state): State<AppState>) -> Json<Value> {
    Json(json!(state.lock().limits))
}

async fn set_limits(State(state): State<AppState>, body: Bytes) -> Response {
    let current = state.lock().limits;
    let mut merged = json!(current);
    let update: Value = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let (Some(target), Value::Object(fields)) = (merged.as_object_mut(), update) {
        target.extend(fields);
    }
    let limits: Limits = match serde_json::from_value(merged) {
        Ok(l) => l,
        Err(e) => return bad_request(e.to_string()),
    };
    state.lock().limits = limits;
    Json(json!(limits)).into_response()
}

/// An empty body counts as `{}`.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| bad_request(e.to_string()))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}
