//! The operator's HTTP endpoints: `/healthz` and `/readyz` for the kubelet's probes, `/metrics`
//! for Prometheus. Metrics and probes may listen on different addresses (8080 and 8081 by
//! default) or share one.
//!
//! * `/healthz`: 200 while the process serves requests (liveness).
//! * `/readyz`: 200 once [`Health::set_ready`] was called with `true`, 503 with the reason
//!   otherwise. See `main.rs` for when the operator becomes ready.
//! * `/metrics`: [`Metrics::encode`], OpenMetrics text.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};
use crate::runtime::StartupError;

/// Readiness, shared between the code that knows and the `/readyz` handler.
#[derive(Debug)]
pub struct Health {
    /// `Ok` when ready, else why not.
    state: Mutex<Result<(), String>>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// Not ready yet ("starting").
    pub fn new() -> Self {
        Self {
            state: Mutex::new(Err("starting".into())),
        }
    }

    /// Ready.
    pub fn set_ready(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Ok(());
    }

    /// Not ready, with the reason `/readyz` reports.
    pub fn set_not_ready(&self, reason: impl Into<String>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Err(reason.into());
    }

    /// `Ok` when ready, else the reason.
    pub fn readiness(&self) -> Result<(), String> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `/healthz` and `/readyz`.
pub fn health_router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health)
}

/// `/metrics`.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(metrics)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(health): State<Arc<Health>>) -> impl IntoResponse {
    match health.readiness() {
        Ok(()) => (StatusCode::OK, "ok\n".to_string()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics.encode(),
    )
}

/// Bind every address (one server per distinct address, serving the routers given for it) and
/// return the bound addresses (port 0 becomes a real port) with the servers' futures, which run
/// until `shutdown` resolves.
pub async fn bind(
    listeners: Vec<(SocketAddr, Router)>,
) -> Result<Vec<(SocketAddr, Server)>, StartupError> {
    let mut merged: Vec<(SocketAddr, Router)> = Vec::new();
    for (addr, router) in listeners {
        match merged
            .iter_mut()
            .find(|(a, _)| *a == addr && addr.port() != 0)
        {
            Some((_, existing)) => *existing = existing.clone().merge(router),
            None => merged.push((addr, router)),
        }
    }
    let mut servers = Vec::new();
    for (addr, router) in merged {
        let listen_failed = |source| StartupError::Listen { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(listen_failed)?;
        let bound = listener.local_addr().map_err(listen_failed)?;
        servers.push((bound, Server { listener, router }));
    }
    Ok(servers)
}

/// A bound listener and what it serves.
pub struct Server {
    listener: TcpListener,
    router: Router,
}

impl Server {
    /// Serve until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_path(router: Router, path: &str) -> (StatusCode, String, Option<String>) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (
            status,
            String::from_utf8_lossy(&body).to_string(),
            content_type,
        )
    }

    #[tokio::test]
    async fn healthz_is_ok_and_readyz_follows_readiness_with_a_reason() {
        let health = Arc::new(Health::new());
        let router = health_router(health.clone());
        assert_eq!(get_path(router.clone(), "/healthz").await.0, StatusCode::OK);

        let (status, body, _) = get_path(router.clone(), "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "not ready: starting\n");

        health.set_ready();
        assert_eq!(get_path(router.clone(), "/readyz").await.0, StatusCode::OK);

        health.set_not_ready("shutting down");
        let (status, body, _) = get_path(router, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("shutting down"), "{body}");
    }

    #[tokio::test]
    async fn metrics_are_served_as_openmetrics_text() {
        let metrics = Arc::new(Metrics::new());
        metrics.aws_call("CreateClientVpnEndpoint", "success");
        let (status, body, content_type) = get_path(metrics_router(metrics), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some(metrics::CONTENT_TYPE));
        assert!(
            body.contains(
                r#"clientvpn_operator_aws_api_requests_total{operation="CreateClientVpnEndpoint",outcome="success"} 1"#
            ),
            "{body}"
        );
    }

    /// `GET path` over a real connection; returns the status line and the body.
    async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
        (
            head.lines().next().unwrap_or_default().to_string(),
            body.to_string(),
        )
    }

    #[tokio::test]
    async fn one_address_serves_probes_and_metrics_and_port_zero_binds_a_free_port() {
        // Probes and metrics both asked for on `addr`.
        let both = |addr: SocketAddr| {
            bind(vec![
                (addr, health_router(Arc::new(Health::new()))),
                (addr, metrics_router(Arc::new(Metrics::new()))),
            ])
        };
        let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let separate = both(any).await.expect("bind");
        assert_eq!(separate.len(), 2, "port 0 twice means two listeners");
        assert!(separate.iter().all(|(addr, _)| addr.port() != 0));
        let free = separate[0].0;
        drop(separate);

        let shared = both(free).await.expect("bind");
        assert_eq!(shared.len(), 1, "one listener for one address");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr, server) = shared.into_iter().next().expect("server");
        let serving = tokio::spawn(server.serve(async move {
            let _ = stop_rx.await;
        }));
        let (status, body) = http_get(addr, "/healthz").await;
        assert!(status.contains("200"), "{status}");
        assert_eq!(body, "ok\n");
        assert!(http_get(addr, "/readyz").await.0.contains("503"));
        let (status, body) = http_get(addr, "/metrics").await;
        assert!(status.contains("200") && body.contains("# EOF"), "{status}");
        assert!(http_get(addr, "/nope").await.0.contains("404"));
        let _ = stop_tx.send(());
        serving.await.expect("join").expect("served");
    }
}
