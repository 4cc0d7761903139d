//! Prometheus metrics: one registry, a [`Metrics`] handle with small recording methods, and the
//! OpenMetrics text encoding that `GET /metrics` serves.
//!
//! Every label value comes from a fixed set (a result, an error category, an EC2 action name,
//! an AWS status code) so that the number of series stays bounded whatever the cluster holds:
//! object names and free-form messages never become labels. Values outside a label's set are
//! reported as `other`.
//!
//! Names follow controller-runtime where one exists (`controller_runtime_reconcile_*`, with
//! `controller="clientvpnendpoint"`), so dashboards written for Go operators work unchanged;
//! the rest use the `clientvpn_operator_` prefix.
//!
//! # Who records what
//!
//! `main.rs` builds one `Arc<Metrics>`, serves it on `/metrics`, and hands it to the controller
//! `Context` (`with_metrics`: reconcile results and durations, error categories, endpoint status
//! per object) and to `cloud::Ec2ClientVpn`, whose SDK interceptor counts every HTTP attempt
//! (SDK retries and listing pages included) by action and outcome. The outcome label is computed
//! in `cloud` (`cloud::outcome_of`); this module knows nothing of AWS errors.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// Value of the `controller` label on the controller-runtime style metrics.
pub const CONTROLLER: &str = "clientvpnendpoint";

/// Content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Label value used for anything outside a label's known set.
const OTHER: &str = "other";

/// How a reconcile ended (`result` label of `controller_runtime_reconcile_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReconcileResult {
    /// Reconcile returned `Ok` (whatever requeue it asked for).
    Success,
    /// Reconcile returned an error (the controller's `error_policy` decides the retry).
    Error,
}

impl ReconcileResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
        }
    }
}

/// The outcome of one AWS call (`outcome` label of `clientvpn_operator_aws_api_requests_total`).
pub mod outcome {
    /// AWS answered with success.
    pub const SUCCESS: &str = "success";
    /// AWS said the resource does not exist.
    pub const NOT_FOUND: &str = "not_found";
    /// A terminal error: the request is wrong or not allowed.
    pub const TERMINAL: &str = "terminal";
    /// A retryable error: throttling, 5xx, timeout, no answer.
    pub const RETRYABLE: &str = "retryable";
    /// Every outcome, in this order.
    pub const ALL: [&str; 4] = [SUCCESS, NOT_FOUND, TERMINAL, RETRYABLE];
}

/// `role` label values of `clientvpn_operator_certificate_expiry_timestamp_seconds`.
pub const CERTIFICATE_ROLES: [&str; 2] = ["server", "client_root"];

/// AWS endpoint status codes reported by `clientvpn_operator_endpoints` (plus `other`).
pub const ENDPOINT_STATUS_CODES: [&str; 5] = [
    "pending-associate",
    "available",
    "pending",
    "deleting",
    "deleted",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    category: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AwsLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuotaLabels {
    quota: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    namespace: String,
    name: String,
    role: &'static str,
}

/// An endpoint object, for the per-endpoint access gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    namespace: String,
    name: String,
}

fn endpoint_labels(namespace: &str, name: &str) -> EndpointLabels {
    EndpointLabels {
        namespace: namespace.to_string(),
        name: name.to_string(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

/// The operator's metrics. Cheap to share (`Arc<Metrics>`); every method takes `&self`.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    reconcile_errors: Counter,
    reconcile_time: Histogram,
    errors_by_category: Family<CategoryLabels, Counter>,
    aws_requests: Family<AwsLabels, Counter>,
    quota_refusals: Family<QuotaLabels, Counter>,
    endpoints: Family<StatusLabels, Gauge>,
    endpoint_status_by_uid: Mutex<HashMap<String, &'static str>>,
    certificate_expiry: Family<CertificateLabels, Gauge>,
    connections: Family<EndpointLabels, Gauge>,
    crl_next_update: Family<EndpointLabels, Gauge>,
    crl_entries: Family<EndpointLabels, Gauge>,
    user_certificates_issued: Counter,
    leader: Gauge,
    leader_transitions: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered (and the fixed-label series at zero, so
    /// that rates work from the first scrape).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let reconciles = Family::<ResultLabels, Counter>::default();
        let reconcile_errors = Counter::default();
        // 5 ms .. ~82 s: reconciles are a few AWS calls, each bounded by a 30 s timeout.
        let reconcile_time = Histogram::new(exponential_buckets(0.005, 2.0, 15));
        let errors_by_category = Family::<CategoryLabels, Counter>::default();
        let aws_requests = Family::<AwsLabels, Counter>::default();
        let quota_refusals = Family::<QuotaLabels, Counter>::default();
        let endpoints = Family::<StatusLabels, Gauge>::default();
        let certificate_expiry = Family::<CertificateLabels, Gauge>::default();
        let connections = Family::<EndpointLabels, Gauge>::default();
        let crl_next_update = Family::<EndpointLabels, Gauge>::default();
        let crl_entries = Family::<EndpointLabels, Gauge>::default();
        let user_certificates_issued = Counter::default();
        let leader = Gauge::default();
        let leader_transitions = Counter::default();

        {
            let controller =
                registry.sub_registry_with_label(("controller".into(), CONTROLLER.into()));
            controller.register(
                "controller_runtime_reconcile",
                "Reconciles by result (success or error)",
                reconciles.clone(),
            );
            controller.register(
                "controller_runtime_reconcile_errors",
                "Reconciles that returned an error",
                reconcile_errors.clone(),
            );
            controller.register(
                "controller_runtime_reconcile_time_seconds",
                "Time spent in one reconcile",
                reconcile_time.clone(),
            );
        }
        registry.register(
            "clientvpn_operator_reconcile_errors",
            "Reconcile errors by category (the Warning event's reason)",
            errors_by_category.clone(),
        );
        registry.register(
            "clientvpn_operator_aws_api_requests",
            "EC2 API calls by action and outcome (success, not_found, terminal, retryable)",
            aws_requests.clone(),
        );
        registry.register(
            "clientvpn_operator_quota_exceeded",
            "AWS calls refused because a quota is reached, by quota (endpoints per Region, rules, …)",
            quota_refusals.clone(),
        );
        registry.register(
            "clientvpn_operator_endpoints",
            "Managed Client VPN endpoints by AWS status code",
            endpoints.clone(),
        );
        registry.register(
            "clientvpn_operator_certificate_expiry_timestamp_seconds",
            "notAfter (Unix seconds) of each certificate an endpoint uses, by object and role",
            certificate_expiry.clone(),
        );
        registry.register(
            "clientvpn_operator_endpoint_connections",
            "Active client sessions of an endpoint that ClientVpnUser objects use",
            connections.clone(),
        );
        registry.register(
            "clientvpn_operator_crl_next_update_timestamp_seconds",
            "nextUpdate (Unix seconds) of the revocation list imported into an endpoint",
            crl_next_update.clone(),
        );
        registry.register(
            "clientvpn_operator_crl_entries",
            "Revoked serials on the revocation list imported into an endpoint",
            crl_entries.clone(),
        );
        registry.register(
            "clientvpn_operator_user_certificates_issued",
            "Client certificates issued for ClientVpnUser objects",
            user_certificates_issued.clone(),
        );
        registry.register(
            "clientvpn_operator_leader",
            "1 while this replica holds the leader lease (or leader election is off), else 0",
            leader.clone(),
        );
        registry.register(
            "clientvpn_operator_leader_transitions",
            "Times this replica became leader",
            leader_transitions.clone(),
        );
        registry.register(
            "clientvpn_operator_build",
            "Operator version",
            Info::new(VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );

        for result in [ReconcileResult::Success, ReconcileResult::Error] {
            let _ = reconciles.get_or_create(&ResultLabels {
                result: result.as_str(),
            });
        }
        for quota in crate::cloud::quota::all() {
            let _ = quota_refusals.get_or_create(&QuotaLabels { quota: quota.key });
        }
        for status in ENDPOINT_STATUS_CODES {
            let _ = endpoints.get_or_create(&StatusLabels { status });
        }

        Self {
            registry,
            reconciles,
            reconcile_errors,
            reconcile_time,
            errors_by_category,
            aws_requests,
            quota_refusals,
            endpoints,
            endpoint_status_by_uid: Mutex::new(HashMap::new()),
            certificate_expiry,
            connections,
            crl_next_update,
            crl_entries,
            user_certificates_issued,
            leader,
            leader_transitions,
        }
    }

    /// One reconcile ended after `elapsed`.
    pub fn reconcile_finished(&self, result: ReconcileResult, elapsed: Duration) {
        self.reconciles
            .get_or_create(&ResultLabels {
                result: result.as_str(),
            })
            .inc();
        if result == ReconcileResult::Error {
            self.reconcile_errors.inc();
        }
        self.reconcile_time.observe(elapsed.as_secs_f64());
    }

    /// A reconcile failed with an error of this category (`Error::category()`: a fixed set).
    pub fn reconcile_error(&self, category: &'static str) {
        self.errors_by_category
            .get_or_create(&CategoryLabels { category })
            .inc();
    }

    /// One EC2 call (`operation` is the action name, e.g. `CreateClientVpnEndpoint`) ended with
    /// `outcome`, one of [`outcome::ALL`]; anything else is counted as `other`.
    pub fn aws_call(&self, operation: &'static str, outcome: &'static str) {
        let outcome = if outcome::ALL.contains(&outcome) {
            outcome
        } else {
            OTHER
        };
        self.aws_requests
            .get_or_create(&AwsLabels { operation, outcome })
            .inc();
    }

    /// AWS refused a call because the quota with this key (`Quota::key`) is reached.
    pub fn quota_exceeded(&self, quota: &'static str) {
        self.quota_refusals
            .get_or_create(&QuotaLabels { quota })
            .inc();
    }

    /// The AWS status code last observed for the endpoint of the object with this UID
    /// (`None`: the object has no endpoint, so it is not counted).
    pub fn endpoint_observed(&self, uid: &str, status_code: Option<&str>) {
        let mut by_uid = self
            .endpoint_status_by_uid
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match status_code {
            Some(code) => {
                by_uid.insert(uid.to_string(), endpoint_status_label(code));
            }
            None => {
                by_uid.remove(uid);
            }
        }
        self.publish_endpoints(&by_uid);
    }

    /// The object with this UID is gone (finalizer removed): stop counting its endpoint.
    pub fn endpoint_forgotten(&self, uid: &str) {
        self.endpoint_observed(uid, None);
    }

    fn publish_endpoints(&self, by_uid: &HashMap<String, &'static str>) {
        let mut counts: HashMap<&'static str, i64> = HashMap::new();
        for status in by_uid.values() {
            *counts.entry(status).or_default() += 1;
        }
        for status in ENDPOINT_STATUS_CODES.iter().copied().chain([OTHER]) {
            let count = counts.get(status).copied().unwrap_or(0);
            if count == 0 && status == OTHER {
                self.endpoints.remove(&StatusLabels { status });
            } else {
                self.endpoints
                    .get_or_create(&StatusLabels { status })
                    .set(count);
            }
        }
    }

    /// The certificates of object `namespace/name`: `(role, notAfter)` for each whose expiry is
    /// known; roles not listed are removed. `role` is one of [`CERTIFICATE_ROLES`].
    pub fn certificates_observed(
        &self,
        namespace: &str,
        name: &str,
        expiries: &[(&'static str, i64)],
    ) {
        for role in CERTIFICATE_ROLES {
            let labels = CertificateLabels {
                namespace: namespace.to_string(),
                name: name.to_string(),
                role,
            };
            match expiries.iter().find(|(r, _)| *r == role) {
                Some((_, not_after)) => {
                    self.certificate_expiry
                        .get_or_create(&labels)
                        .set(*not_after);
                }
                None => {
                    self.certificate_expiry.remove(&labels);
                }
            }
        }
    }

    /// Active sessions of endpoint object `namespace/name`.
    pub fn connections_observed(&self, namespace: &str, name: &str, active: u32) {
        self.connections
            .get_or_create(&endpoint_labels(namespace, name))
            .set(i64::from(active));
    }

    /// A revocation list with `entries` serials and `next_update` was imported into
    /// `namespace/name`.
    pub fn crl_imported(&self, namespace: &str, name: &str, entries: usize, next_update: i64) {
        let labels = endpoint_labels(namespace, name);
        self.crl_next_update.get_or_create(&labels).set(next_update);
        self.crl_entries
            .get_or_create(&labels)
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    /// Drop the access gauges of a deleted endpoint object.
    pub fn endpoint_access_forgotten(&self, namespace: &str, name: &str) {
        let labels = endpoint_labels(namespace, name);
        self.connections.remove(&labels);
        self.crl_next_update.remove(&labels);
        self.crl_entries.remove(&labels);
    }

    /// One client certificate was issued.
    pub fn user_certificate_issued(&self) {
        self.user_certificates_issued.inc();
    }

    /// This replica became leader (`true`) or stopped being leader (`false`).
    pub fn set_leader(&self, leader: bool) {
        let before = self.leader.set(i64::from(leader));
        if leader && before == 0 {
            self.leader_transitions.inc();
        }
    }

    /// The whole registry in the OpenMetrics text format (see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

fn endpoint_status_label(code: &str) -> &'static str {
    ENDPOINT_STATUS_CODES
        .iter()
        .copied()
        .find(|known| *known == code)
        .unwrap_or(OTHER)
}

#[cfg(test)]
mod tests;
