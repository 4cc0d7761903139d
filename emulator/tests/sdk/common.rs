//! Test harness: an emulator served in-process on port 0, real aws-sdk-ec2 clients pointed at
//! it, a tiny HTTP client for the control API and raw protocol checks, error assertions and
//! wait-for-condition. Re-exports the shared EC2 requests ([`crate::requests`]).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{Credentials, retry::RetryConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use clientvpn_emulator::{AppState, app};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use crate::requests::*;

pub const ACCESS_KEY: &str = "AKIDTEST";
pub const REGION: &str = "us-east-1";
pub const SERVER_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/server-cert-1";
pub const CLIENT_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/client-root-1";
/// In VPC `vpc-0123456789abcdef0` (CIDR 10.1.0.0/16), AZ us-east-1b.
pub const SUBNET_A: &str = "subnet-0123456789abcdef1";
/// Same VPC, AZ us-east-1c.
pub const SUBNET_B: &str = "subnet-0123456789abcdef2";
/// Same VPC, AZ us-east-1b again (1 and 7 are equal mod 6).
pub const SUBNET_SAME_AZ_AS_A: &str = "subnet-0123456789abcdef7";
pub const VPC: &str = "vpc-0123456789abcdef0";
pub const VPC_CIDR: &str = "10.1.0.0/16";
/// A subnet in another VPC (`vpc-0223456789abcdef0`).
pub const SUBNET_OTHER_VPC: &str = "subnet-0223456789abcdef1";
/// A well-formed endpoint id that no emulator has.
pub const UNKNOWN_ENDPOINT: &str = "cvpn-endpoint-00000000000000000";

/// One emulator instance with its own state.
pub struct Emulator {
    pub addr: SocketAddr,
    pub url: String,
}

impl Emulator {
    /// Starts an emulator with tiny lifecycle delays (set through the timing API) that accepts
    /// any well-formed certificate ARN (`permissive_certificates`), for the tests that are not
    /// about certificates and use made-up ARNs.
    pub async fn start() -> Self {
        let emulator = Self::start_strict().await;
        emulator
            .post_settings(
                "/_emulator/settings",
                json!({"permissive_certificates": true}),
            )
            .await;
        emulator
    }

    /// Starts an emulator with tiny lifecycle delays and the default (AWS) certificate checks:
    /// endpoint certificates must be imported into its ACM first.
    pub async fn start_strict() -> Self {
        let emulator = Self::start_with(AppState::default()).await;
        emulator
            .set_timing(json!({
                "association_delay_ms": 30,
                "rule_delay_ms": 20,
                "route_delay_ms": 20,
                "delete_delay_ms": 30,
                "deleted_visible_ms": 150,
                "crl_delay_ms": 20,
                "terminate_delay_ms": 20,
            }))
            .await;
        emulator
    }

    pub async fn start_with(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            axum::serve(listener, app(state)).await.expect("serve");
        });
        Self {
            addr,
            url: format!("http://{addr}"),
        }
    }

    /// A client for the default account and region.
    pub async fn client(&self) -> Client {
        self.client_for(ACCESS_KEY, REGION).await
    }

    /// A client as in the reference §7: static credentials, endpoint_url, no retries.
    pub async fn client_for(&self, access_key: &str, region: &str) -> Client {
        Client::new(&self.sdk_config(access_key, region).await)
    }

    /// The SDK configuration every client of this emulator uses (EC2 and ACM alike).
    pub async fn sdk_config(&self, access_key: &str, region: &str) -> SdkConfig {
        self.sdk_loader(access_key, region).load().await
    }

    /// [`Emulator::sdk_config`] before loading, to change more settings.
    pub fn sdk_loader(&self, access_key: &str, region: &str) -> ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(access_key, "secret", None, None, "static"))
            .endpoint_url(&self.url)
            .retry_config(RetryConfig::disabled())
    }

    /// Calls the control API; returns the status and the JSON body (`Null` if not JSON).
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = self
            .raw(method, path, &[("content-type", "application/json")], &body)
            .await;
        let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        (response.status, json)
    }

    /// A partial limits update (`POST /_emulator/limits`), e.g. to exceed AWS's 5 endpoints;
    /// returns the limits now in force.
    pub async fn set_limits(&self, limits: Value) -> Value {
        self.post_settings("/_emulator/limits", limits).await
    }

    /// A partial timing update (`POST /_emulator/timing`); returns the timing now in force.
    pub async fn set_timing(&self, timing: Value) -> Value {
        self.post_settings("/_emulator/timing", timing).await
    }

    /// A partial update of the random faults (`POST /_emulator/faults`); returns the faults now
    /// in force.
    pub async fn set_faults(&self, faults: Value) -> Value {
        self.post_settings("/_emulator/faults", faults).await
    }

    /// Queues a fail-next rule (`POST /_emulator/faults/fail-next`); returns the faults now in
    /// force.
    pub async fn fail_next(&self, rule: Value) -> Value {
        self.post_settings("/_emulator/faults/fail-next", rule)
            .await
    }

    /// POSTs a partial update to a control-API settings resource, asserts it was accepted and
    /// returns the resulting settings.
    async fn post_settings(&self, path: &str, update: Value) -> Value {
        let (status, body) = self.control("POST", path, Some(update)).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub async fn calls(&self) -> Value {
        self.control("GET", "/_emulator/calls", None).await.1
    }

    pub async fn state(&self) -> Value {
        self.control("GET", "/_emulator/state", None).await.1
    }

    /// A signed-looking EC2 Query request (the emulator reads only the credential scope).
    pub async fn query(&self, body: &str) -> RawResponse {
        self.raw(
            "POST",
            "/",
            &[("authorization", &auth_header(ACCESS_KEY, REGION))],
            body,
        )
        .await
    }

    /// One HTTP/1.1 request over a fresh connection.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> RawResponse {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if method == "POST" && !headers.iter().any(|(k, _)| *k == "content-type") {
            request.push_str("content-type: application/x-www-form-urlencoded; charset=utf-8\r\n");
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        RawResponse::parse(&String::from_utf8_lossy(&response))
    }
}

pub fn auth_header(access_key: &str, region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
    )
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    fn parse(text: &str) -> Self {
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Self {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of the first `<tag>` element.
    pub fn element(&self, tag: &str) -> Option<&str> {
        let open = format!("<{tag}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{tag}>"))? + start;
        Some(&self.body[start..end])
    }
}

/// The AWS error code of a failed SDK call.
pub fn code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> String {
    err.code().unwrap_or("<no code>").to_owned()
}

/// The HTTP status of a failed SDK call.
pub fn http_status<E>(err: &SdkError<E>) -> u16 {
    err.raw_response().map_or(0, |r| r.status().as_u16())
}

/// Asserts that a call was rejected as a client error: `code` with HTTP 400, as AWS answers
/// every invalid request; returns the error message.
#[track_caller]
pub fn assert_rejected<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
    expected_code: &str,
) -> String {
    assert_error(result, expected_code, 400)
}

/// [`assert_rejected`] for one case of a table of requests, named `what` in failures.
#[track_caller]
pub fn assert_case_rejected<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    what: &str,
    result: Result<T, SdkError<E>>,
    expected_code: &str,
) {
    let err = result.expect_err(what);
    assert_eq!(code(&err), expected_code, "{what}: {err:?}");
    assert_eq!(http_status(&err), 400, "{what}");
}

/// Sends each request and asserts it is rejected with `code` (HTTP 400), naming the request
/// when it is not.
macro_rules! assert_each_rejected {
    ($code:expr, [$($request:expr),+ $(,)?]) => {
        $($crate::common::assert_case_rejected(stringify!($request), $request.send().await, $code);)+
    };
}
pub(crate) use assert_each_rejected;

/// Every page (or, after `.items()`, every item) of a paginator.
macro_rules! collect_pages {
    ($paginator:expr) => {
        $paginator
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("paginate")
    };
}
pub(crate) use collect_pages;

/// Asserts that a call failed with `code` and HTTP `status`; returns the error message.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
    expected_code: &str,
    expected_status: u16,
) -> String {
    let err = result.expect_err(&format!("expected {expected_code}"));
    assert_eq!(code(&err), expected_code, "{err:?}");
    assert_eq!(http_status(&err), expected_status, "{expected_code}");
    err.message().unwrap_or_default().to_owned()
}

/// Asserts that a call with `DryRun` set was answered as AWS answers a permitted dry run:
/// DryRunOperation with HTTP 412.
#[track_caller]
pub fn assert_dry_run<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
) {
    assert_error(result, "DryRunOperation", 412);
}

/// Polls `probe` until it returns `Some`, failing after a deadline. The pause between polls
/// doubles from 10 ms up to 100 ms, so a long wait stays within the request-rate buckets (10
/// unfiltered Describe calls per second are sustainable).
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// A started emulator (see [`Emulator::start`]) and a client for the default account and region.
pub async fn start_with_client() -> (Emulator, Client) {
    let emulator = Emulator::start().await;
    let client = emulator.client().await;
    (emulator, client)
}

/// As [`start_with_client`], plus one endpoint created with [`new_endpoint`]; returns its id.
pub async fn start_with_endpoint() -> (Emulator, Client, String) {
    let (emulator, client) = start_with_client().await;
    let id = new_endpoint(&client).await;
    (emulator, client, id)
}

/// As [`start_with_endpoint`], with these limits (see [`Emulator::set_limits`]) set first.
pub async fn start_with_limits(limits: Value) -> (Emulator, Client, String) {
    let (emulator, client) = start_with_client().await;
    emulator.set_limits(limits).await;
    let id = new_endpoint(&client).await;
    (emulator, client, id)
}
