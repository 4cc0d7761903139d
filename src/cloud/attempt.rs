//! Every HTTP attempt to AWS (EC2 and ACM), in one place: paced, counted, logged.
//!
//! aws-sdk-ec2 retries on its own (throttling, 5xx, timeouts) and a listing is one SDK call per
//! page, so wrapping the [`ClientVpnApi`](super::ClientVpnApi) methods would see one call where
//! AWS saw several. Both pieces below hook into the SDK's orchestrator instead, and so see each
//! attempt of each page:
//!
//! * [`Attempts`], an SDK interceptor ([`Intercept`]), registered on every client. In
//!   `read_after_attempt`, which the orchestrator runs exactly once per attempt (also when the
//!   attempt or the whole operation timed out), it classifies the answer into a [`CloudError`]
//!   (with the code from the SDK's `ErrorMetadata`, the HTTP status and the request ID from the
//!   `x-amzn-RequestId` header or the error body), tells the [`Pacer`] whether it was
//!   throttled, counts it in [`Metrics`] by operation (the SDK's `Metadata` name, looked up in
//!   [`Operation`]) and outcome, and emits one `tracing` event with operation, region, attempt,
//!   outcome, code and request ID. It is synchronous, like every interceptor hook.
//! * [`PacedHttpClient`], wrapping the SDK's HTTP client, because waiting for the pacer must
//!   await and interceptor hooks cannot: its connector awaits [`Pacer::admit`] before handing
//!   each attempt to the real connector, and holds the concurrency slot until the answer's
//!   headers are in. The SDK's own retry backoff happens outside it, so a retry that waits does
//!   not hold a slot.
//!
//! The alternative, one async wrapper around `send()` with the SDK's retries turned off and
//! our own retry loop, would have meant re-implementing the SDK's retry classification and
//! token bucket; the HTTP client is the SDK's one documented async seam per attempt.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::config::interceptors::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_sdk_ec2::config::timeout::TimeoutConfig;
use aws_sdk_ec2::config::{
    BehaviorVersion, ConfigBag, HttpClient, Intercept, RuntimeComponents, RuntimeComponentsBuilder,
    RuntimePlugin, SharedHttpClient,
};
use aws_sdk_ec2::error::{BoxError, ErrorMetadata};
use aws_sdk_ec2::operation::RequestId;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::Error as AnyOperationError;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::retries::RequestAttempts;

use super::error::outcome_of;
use super::{AwsScope, CloudError, Operation, Pacer};
use crate::metrics::Metrics;

/// Upper bound for one AWS call, retries included, so a hung connection cannot stall a reconcile.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What every SDK client of the operator (EC2 and ACM) is built with for one region: the
/// region, the operation timeout, the retry partition, the [`Attempts`] interceptor and the
/// [`PacedHttpClient`].
pub(super) struct Instrumented {
    pub region: Region,
    pub timeouts: TimeoutConfig,
    /// The SDK's retry quota, unlimited: the SDK's default 500-token quota (5 per retry, 10 per
    /// timeout) runs dry within seconds of a throttling or 5xx storm and then stops retrying
    /// altogether, which turns every later transient error into a failed reconcile pass. The
    /// [`Pacer`] already keeps retries within AWS's rates, and attempts stay capped per call.
    pub retry_partition: RetryPartition,
    pub attempts: Attempts,
    pub http_client: Option<PacedHttpClient>,
}

impl Instrumented {
    pub(super) fn new(
        sdk: &SdkConfig,
        region: &str,
        pacer: &Arc<Pacer>,
        metrics: &Arc<Metrics>,
    ) -> Self {
        let key = AwsScope::region(region);
        Self {
            region: Region::new(region.to_string()),
            timeouts: TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
            retry_partition: RetryPartition::custom(format!("clientvpn-operator-{region}"))
                .token_bucket(TokenBucket::unlimited())
                .build(),
            attempts: Attempts::new(key.clone(), pacer.clone(), metrics.clone()),
            http_client: PacedHttpClient::new(sdk, key, pacer.clone()),
        }
    }
}

/// The SDK clients of one AWS service, one a region, each built on first use from the shared
/// configuration and that region's [`Instrumented`] parts by `build` ([`instrumented_client!`]).
pub(super) struct RegionalClients<C> {
    sdk: SdkConfig,
    pacer: Arc<Pacer>,
    metrics: Arc<Metrics>,
    build: fn(&SdkConfig, Instrumented) -> C,
    clients: Mutex<HashMap<String, C>>,
}

impl<C: Clone> RegionalClients<C> {
    pub(super) fn new(
        sdk: SdkConfig,
        pacer: Arc<Pacer>,
        metrics: Arc<Metrics>,
        build: fn(&SdkConfig, Instrumented) -> C,
    ) -> Self {
        Self {
            sdk,
            pacer,
            metrics,
            build,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `region`, paced, counted and logged.
    pub(super) fn get(&self, region: &str) -> C {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let parts = Instrumented::new(&self.sdk, region, &self.pacer, &self.metrics);
                (self.build)(&self.sdk, parts)
            })
            .clone()
    }

    /// Pace every attempt with `pacer` from now on.
    pub(super) fn set_pacer(&mut self, pacer: Arc<Pacer>) {
        self.pacer = pacer;
        self.forget();
    }

    /// Count every attempt in `metrics` from now on.
    pub(super) fn set_metrics(&mut self, metrics: Arc<Metrics>) {
        self.metrics = metrics;
        self.forget();
    }

    /// Clients hold the pacer and metrics they were built with: build new ones.
    fn forget(&mut self) {
        self.clients
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// The `build` of [`RegionalClients`] for one aws-sdk crate (`aws_sdk_ec2`, `aws_sdk_acm`): the
/// shared configuration with the region, timeouts, retry partition, interceptor and paced HTTP
/// client of [`Instrumented`]. A macro because each SDK crate has a config builder of its own.
macro_rules! instrumented_client {
    ($service:ident) => {
        |sdk: &aws_config::SdkConfig, parts: $crate::cloud::attempt::Instrumented| {
            let mut config = $service::config::Builder::from(sdk)
                .region(parts.region)
                .timeout_config(parts.timeouts)
                .retry_partition(parts.retry_partition)
                .interceptor(parts.attempts);
            if let Some(paced) = parts.http_client {
                config = config.http_client(paced);
            }
            $service::Client::from_conf(config.build())
        }
    };
}
pub(super) use instrumented_client;

/// Metric label for an operation outside [`Operation`] (none is called today).
const UNKNOWN_OPERATION: &str = "other";

/// The interceptor that sees the end of every attempt (see the module docs).
pub(super) struct Attempts {
    key: AwsScope,
    pacer: Arc<Pacer>,
    metrics: Arc<Metrics>,
}

impl Attempts {
    pub(super) fn new(key: AwsScope, pacer: Arc<Pacer>, metrics: Arc<Metrics>) -> Self {
        Self {
            key,
            pacer,
            metrics,
        }
    }
}

impl std::fmt::Debug for Attempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempts")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "clientvpn-operator::Attempts"
    }

    /// Tag the request with its [`Operation`], so the [`PacedConnector`] can take a token
    /// from that action's bucket.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(operation) = operation_of(cfg) {
            context.request_mut().add_extension(operation);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let known = operation_of(cfg);
        let operation = known.map_or(UNKNOWN_OPERATION, Operation::name);
        let response = context.response();
        let result = match context.output_or_error() {
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => Err(attempt_error(operation, error, response)),
            None => Err(CloudError::transport(
                operation,
                "NoAnswer",
                "the attempt ended without an answer",
            )),
        };
        let throttled = result.as_ref().err().is_some_and(CloudError::is_throttling);
        self.pacer.learn(&self.key, known, throttled);
        let outcome = outcome_of(&result);
        self.metrics.aws_call(operation, outcome);
        let err = result.err();
        if let Some(quota) = err.as_ref().and_then(CloudError::quota) {
            self.metrics.quota_exceeded(quota.key);
        }
        tracing::debug!(
            operation,
            region = self.key.region_name(),
            attempt = cfg.load::<RequestAttempts>().map(RequestAttempts::attempts),
            outcome,
            code = err.as_ref().map(|e| e.code.as_str()),
            request_id = err
                .as_ref()
                .and_then(|e| e.request_id.as_deref())
                .or_else(|| response.and_then(|r| r.request_id())),
            "EC2 attempt"
        );
        Ok(())
    }
}

/// The operation an SDK call is running, from the SDK's `Metadata`.
fn operation_of(cfg: &ConfigBag) -> Option<Operation> {
    cfg.load::<Metadata>()
        .and_then(|m| Operation::from_name(m.name()))
}

/// What went wrong in one attempt, classified like a final answer (see `ec2::cloud_error`).
fn attempt_error(
    operation: &'static str,
    error: &OrchestratorError<AnyOperationError>,
    response: Option<&HttpResponse>,
) -> CloudError {
    if let Some(meta) = error.as_operation_error().and_then(error_metadata) {
        let request_id = meta.request_id().or_else(|| response?.request_id());
        return CloudError::from_service(
            operation,
            meta.code().unwrap_or("Unknown"),
            meta.message().unwrap_or_default(),
            response.map(|r| r.status().as_u16()),
            request_id.map(str::to_string),
        );
    }
    let code = if error.is_timeout_error() {
        "Timeout"
    } else if error.is_connector_error() {
        "DispatchFailure"
    } else if error.is_response_error() {
        "ResponseError"
    } else {
        "ConstructionFailure"
    };
    CloudError::transport(operation, code, error.to_string())
}

/// The `ErrorMetadata` (AWS's code, message, request ID) behind a type-erased operation error.
/// The SDK's operation errors carry it as their source.
fn error_metadata(error: &AnyOperationError) -> Option<&ErrorMetadata> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = next {
        if let Some(meta) = error.downcast_ref::<ErrorMetadata>() {
            return Some(meta);
        }
        next = error.source();
    }
    None
}

/// The SDK's HTTP client, with every attempt admitted by the [`Pacer`] first.
#[derive(Debug)]
pub(super) struct PacedHttpClient {
    inner: SharedHttpClient,
    key: AwsScope,
    pacer: Arc<Pacer>,
}

impl PacedHttpClient {
    /// Wrap the client `sdk` names, or else the SDK's default for its behavior version. `None`
    /// only in a build without a default HTTPS client (this crate asks for one), where the SDK
    /// has no client to send with either.
    pub(super) fn new(sdk: &SdkConfig, key: AwsScope, pacer: Arc<Pacer>) -> Option<Self> {
        let inner = sdk.http_client().or_else(|| {
            let version = sdk.behavior_version().unwrap_or(BehaviorVersion::latest());
            aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(version)?
                .runtime_components(&RuntimeComponentsBuilder::new("clientvpn-operator"))
                .http_client()
        })?;
        Some(Self { inner, key, pacer })
    }
}

impl HttpClient for PacedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            key: self.key.clone(),
            pacer: self.pacer.clone(),
        })
    }

    // `validate_final_config` keeps its default: the SDK's HTTP clients check nothing there.
    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_base_client_config(components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    key: AwsScope,
    pacer: Arc<Pacer>,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, key, pacer) = (self.inner.clone(), self.key.clone(), self.pacer.clone());
        HttpConnectorFuture::new(async move {
            let operation = request.extension::<Operation>().copied();
            let _admitted = pacer.admit(&key, operation).await;
            inner.call(request).await
        })
    }
}
