//! The operator's `/metrics`.

use std::net::SocketAddr;

use serde_json::json;

use crate::harness::{Env, cluster, example, wait_until};
use crate::operator::{Operator, sum_samples};
use crate::release::Release;
use crate::{applied, condition_true, live, small_manifest};

/// `/metrics` counters move: reconciles by result, their duration, AWS calls by action and
/// outcome, errors by category, endpoints by AWS status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_reconciles_aws_calls_and_endpoints() {
    let env = Env::start_without_operator("metrics").await;
    let c = cluster();
    let (release, _) = Release::install(
        c,
        "m",
        &format!("{}-system", env.namespace),
        &[
            "--set",
            &format!("watchNamespaces={{{}}}", env.namespace),
            "--set",
            "reconcile.pollInterval=500ms",
        ],
    );
    let sa = release.service_account_kubeconfig(c);
    let emulator: SocketAddr = c.emulator.addr().parse().expect("emulator address");
    let operator = Operator::start(c, &release, "m-0", &sa, emulator);
    operator.ready().await;
    let before = operator.metrics_text();
    assert_eq!(
        sum_samples(&before, "controller_runtime_reconcile_total", &[]),
        0.0
    );

    applied(&env, &example("full.yaml"));
    wait_until("the full example becomes Ready", || {
        condition_true(&live(&env, "office-vpn-full"), "Ready")
    })
    .await;
    let ok = |op: &str| {
        operator.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[&format!("operation=\"{op}\""), "outcome=\"success\""],
        )
    };
    for op in [
        "CreateClientVpnEndpoint",
        "DescribeClientVpnEndpoints",
        "AssociateClientVpnTargetNetwork",
        "AuthorizeClientVpnIngress",
        "CreateClientVpnRoute",
        "ExportClientVpnClientConfiguration",
    ] {
        assert!(ok(op) >= 1.0, "{op}: {}", operator.metrics_text());
    }
    assert!(
        operator.metric_sum(
            "controller_runtime_reconcile_total",
            &["result=\"success\""]
        ) >= 1.0
    );
    assert!(operator.metric_sum("controller_runtime_reconcile_time_seconds_count", &[]) >= 1.0);
    wait_until("the endpoint gauge shows one available endpoint", || {
        operator.metric_sum("clientvpn_operator_endpoints", &["status=\"available\""]) == 1.0
    })
    .await;

    // A terminal error counts by category and outcome.
    env.emulator_call(
        "POST",
        "/_emulator/faults/fail-next",
        Some(json!({"action": "CreateClientVpnEndpoint", "count": 1, "code": "InvalidParameterValue"})),
    );
    applied(&env, &small_manifest("broken"));
    wait_until("the terminal error is counted", || {
        operator.metric_sum(
            "clientvpn_operator_reconcile_errors_total",
            &["category=\"AwsTerminal\""],
        ) >= 1.0
            && operator.metric_sum(
                "clientvpn_operator_aws_api_requests_total",
                &[
                    "operation=\"CreateClientVpnEndpoint\"",
                    "outcome=\"terminal\"",
                ],
            ) >= 1.0
    })
    .await;
}
