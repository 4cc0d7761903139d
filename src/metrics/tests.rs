//! Unit tests of the metrics registry: names, labels, and what each update changes.

use super::*;

/// The value of the one sample line that starts with `series ` (name plus labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

#[test]
fn a_fresh_registry_shows_every_family_with_zeroes() {
    let text = Metrics::new().encode();
    for series in [
        r#"controller_runtime_reconcile_total{controller="clientvpnendpoint",result="success"}"#,
        r#"controller_runtime_reconcile_total{controller="clientvpnendpoint",result="error"}"#,
        r#"controller_runtime_reconcile_errors_total{controller="clientvpnendpoint"}"#,
        r#"controller_runtime_reconcile_time_seconds_count{controller="clientvpnendpoint"}"#,
        r#"clientvpn_operator_endpoints{status="available"}"#,
        "clientvpn_operator_leader",
        "clientvpn_operator_leader_transitions_total",
    ] {
        assert_eq!(sample(&text, series), Some(0.0), "{series} in\n{text}");
    }
    let version = format!(
        r#"clientvpn_operator_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&text, &version), Some(1.0), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn reconciles_count_by_result_and_time_into_the_histogram() {
    let metrics = Metrics::new();
    metrics.reconcile_finished(ReconcileResult::Success, Duration::from_millis(20));
    metrics.reconcile_finished(ReconcileResult::Success, Duration::from_millis(30));
    metrics.reconcile_finished(ReconcileResult::Error, Duration::from_secs(2));
    metrics.reconcile_error("AwsRetryable");
    let text = metrics.encode();
    let rows = [
        (
            r#"controller_runtime_reconcile_total{controller="clientvpnendpoint",result="success"}"#,
            2.0,
        ),
        (
            r#"controller_runtime_reconcile_total{controller="clientvpnendpoint",result="error"}"#,
            1.0,
        ),
        (
            r#"controller_runtime_reconcile_errors_total{controller="clientvpnendpoint"}"#,
            1.0,
        ),
        (
            r#"controller_runtime_reconcile_time_seconds_count{controller="clientvpnendpoint"}"#,
            3.0,
        ),
        (
            r#"controller_runtime_reconcile_time_seconds_sum{controller="clientvpnendpoint"}"#,
            2.05,
        ),
        (
            r#"clientvpn_operator_reconcile_errors_total{category="AwsRetryable"}"#,
            1.0,
        ),
    ];
    for (series, value) in rows {
        let found = sample(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
        assert!(
            (found - value).abs() < 1e-9,
            "{series} = {found}, want {value}"
        );
    }
}

#[test]
fn aws_calls_count_by_operation_and_outcome_with_unknown_outcomes_as_other() {
    let metrics = Metrics::new();
    metrics.aws_call("DescribeClientVpnEndpoints", outcome::SUCCESS);
    metrics.aws_call("DescribeClientVpnEndpoints", outcome::SUCCESS);
    metrics.aws_call("DescribeClientVpnEndpoints", outcome::RETRYABLE);
    metrics.aws_call("DescribeClientVpnEndpoints", outcome::NOT_FOUND);
    metrics.aws_call("CreateClientVpnEndpoint", "terminal");
    metrics.aws_call("CreateClientVpnEndpoint", "made-up");
    let text = metrics.encode();
    let rows = [
        ("DescribeClientVpnEndpoints", "success", 2.0),
        ("DescribeClientVpnEndpoints", "retryable", 1.0),
        ("DescribeClientVpnEndpoints", "not_found", 1.0),
        ("CreateClientVpnEndpoint", "terminal", 1.0),
        ("CreateClientVpnEndpoint", "other", 1.0),
    ];
    for (operation, outcome, value) in rows {
        let series = format!(
            r#"clientvpn_operator_aws_api_requests_total{{operation="{operation}",outcome="{outcome}"}}"#
        );
        assert_eq!(sample(&text, &series), Some(value), "{series} in\n{text}");
    }
}

#[test]
fn endpoints_are_counted_once_per_object_by_their_latest_status() {
    let metrics = Metrics::new();
    metrics.endpoint_observed("uid-1", Some("pending-associate"));
    metrics.endpoint_observed("uid-2", Some("pending-associate"));
    metrics.endpoint_observed("uid-1", Some("available"));
    metrics.endpoint_observed("uid-3", Some("something-new"));
    metrics.endpoint_observed("uid-4", None);
    let status = |s: &str| {
        let series = format!(r#"clientvpn_operator_endpoints{{status="{s}"}}"#);
        sample(&metrics.encode(), &series)
    };
    assert_eq!(status("available"), Some(1.0));
    assert_eq!(status("pending-associate"), Some(1.0));
    assert_eq!(status("other"), Some(1.0));
    assert_eq!(status("deleting"), Some(0.0));

    metrics.endpoint_forgotten("uid-1");
    metrics.endpoint_forgotten("uid-3");
    assert_eq!(status("available"), Some(0.0));
    assert_eq!(status("other"), None, "{}", metrics.encode());
}

#[test]
fn leader_gauge_follows_the_lease_and_counts_acquisitions() {
    let metrics = Metrics::new();
    metrics.set_leader(true);
    metrics.set_leader(true);
    metrics.set_leader(false);
    metrics.set_leader(true);
    let text = metrics.encode();
    assert_eq!(sample(&text, "clientvpn_operator_leader"), Some(1.0));
    assert_eq!(
        sample(&text, "clientvpn_operator_leader_transitions_total"),
        Some(2.0)
    );
}

#[test]
fn certificate_expiry_is_a_gauge_per_object_and_role_removed_with_the_object() {
    let metrics = Metrics::new();
    metrics.certificates_observed(
        "team",
        "vpn",
        &[("server", 1_900_000_000), ("client_root", 1_800_000_000)],
    );
    metrics.certificates_observed("team", "other", &[("server", 1_700_000_000)]);
    let series = |name: &str, role: &str| {
        format!(
            r#"clientvpn_operator_certificate_expiry_timestamp_seconds{{namespace="team",name="{name}",role="{role}"}}"#
        )
    };
    let text = metrics.encode();
    assert_eq!(
        sample(&text, &series("vpn", "server")),
        Some(1.9e9),
        "{text}"
    );
    assert_eq!(
        sample(&text, &series("vpn", "client_root")),
        Some(1.8e9),
        "{text}"
    );
    metrics.certificates_observed("team", "vpn", &[]);
    let text = metrics.encode();
    assert_eq!(sample(&text, &series("vpn", "server")), None, "{text}");
    assert_eq!(
        sample(&text, &series("other", "server")),
        Some(1.7e9),
        "{text}"
    );
}
