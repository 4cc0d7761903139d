//! Errors: unknown IDs, injected faults, AWS's validation, no answer at all.

use std::collections::BTreeMap;

use clientvpn_operator::cloud::{
    ClientAccessApi, ClientVpnApi, ErrorKind, Operation, RouteKey, RuleKey,
};

use crate::emulator::Emulator;
use crate::support::*;

#[tokio::test]
async fn unknown_ids_are_none_from_describe_and_not_found_elsewhere_and_counted_so() {
    let emulator = Emulator::start();
    let adapter = instrumented(&emulator, "AKIDNOTFOUND").await;
    let api = &adapter.api;
    let id = UNKNOWN_ENDPOINT;
    assert_eq!(
        api.describe_endpoint(REGION, id).await.expect("describe"),
        None
    );
    let rule = RuleKey {
        target_network_cidr: VPC_CIDR.into(),
        access_group_id: None,
    };
    let route = RouteKey {
        destination_cidr_block: "0.0.0.0/0".into(),
        target_subnet_id: SUBNET.into(),
    };
    let tags = BTreeMap::from([("a".to_string(), "b".to_string())]);
    let code = "InvalidClientVpnEndpointId.NotFound";
    let not_found = ErrorKind::NotFound;
    assert_kind(api.delete_endpoint(REGION, id).await, not_found, code);
    assert_kind(
        api.modify_endpoint(REGION, id, &change(|c| c.description = Some("x".into())))
            .await,
        not_found,
        code,
    );
    assert_kind(api.create_tags(REGION, id, &tags).await, not_found, code);
    assert_kind(
        api.delete_tags(REGION, id, &["a".into()]).await,
        not_found,
        code,
    );
    assert_kind(
        api.describe_target_networks(REGION, id).await,
        not_found,
        code,
    );
    assert_kind(
        api.associate_target_network(REGION, id, SUBNET, "t").await,
        not_found,
        code,
    );
    assert_kind(
        api.disassociate_target_network(REGION, id, "cvpn-assoc-0123456789abcdef0")
            .await,
        not_found,
        code,
    );
    assert_kind(
        api.apply_security_groups(REGION, id, VPC, &[DEFAULT_SG.into()])
            .await,
        not_found,
        code,
    );
    assert_kind(
        api.describe_authorization_rules(REGION, id).await,
        not_found,
        code,
    );
    assert_kind(
        api.authorize_ingress(REGION, id, &rule, None, "t").await,
        not_found,
        code,
    );
    assert_kind(api.revoke_ingress(REGION, id, &rule).await, not_found, code);
    assert_kind(api.describe_routes(REGION, id).await, not_found, code);
    assert_kind(
        api.create_route(REGION, id, &route, None, "t").await,
        not_found,
        code,
    );
    assert_kind(api.delete_route(REGION, id, &route).await, not_found, code);
    assert_kind(
        api.export_client_configuration(REGION, id).await,
        not_found,
        code,
    );
    // Client access: the revocation list and the sessions.
    let crl = "-----BEGIN X509 CRL-----\nMA==\n-----END X509 CRL-----\n";
    assert_kind(api.import_crl(REGION, id, crl).await, not_found, code);
    assert_kind(api.export_crl(REGION, id).await, not_found, code);
    assert_kind(api.describe_connections(REGION, id).await, not_found, code);
    assert_kind(
        api.terminate_connection(REGION, id, "cvpn-connection-0123456789abcdef0")
            .await,
        not_found,
        code,
    );
    assert!(api.list_endpoints(REGION).await.expect("list").is_empty());
    assert!(
        api.find_endpoints_by_tag(REGION, "a", "b")
            .await
            .expect("find")
            .is_empty()
    );

    // Every call was counted once, by operation and outcome: the describe of the unknown ID as
    // AWS answered it (not found), the listing and the find as successes. Only creating an
    // endpoint takes no endpoint ID.
    for op in Operation::ALL.iter().filter(|op| op.sdk() == "aws_sdk_ec2") {
        let (not_found, success) = match op {
            Operation::CreateClientVpnEndpoint => (0, 0),
            Operation::DescribeClientVpnEndpoints => (1, 2),
            _ => (1, 0),
        };
        assert_eq!(adapter.attempts(op.name(), "not_found"), not_found, "{op}");
        assert_eq!(adapter.attempts(op.name(), "success"), success, "{op}");
    }
}

#[tokio::test]
async fn failures_are_classified_with_code_message_and_request_id() {
    let emulator = Emulator::start();
    let api = adapter(&emulator, "AKIDFAULTS").await;
    let fail_next = |action: &str, code: &str| emulator.fail_next(action, code);

    fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded");
    let err = api.list_endpoints(REGION).await.expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.operation, "DescribeClientVpnEndpoints");
    assert_eq!(err.code, "RequestLimitExceeded");
    assert_eq!(err.message, "injected RequestLimitExceeded");
    assert!(err.request_id.is_some());

    fail_next("DescribeClientVpnEndpoints", "InternalError");
    assert_kind(
        api.describe_endpoint(REGION, UNKNOWN_ENDPOINT).await,
        ErrorKind::Retryable,
        "InternalError",
    );
    fail_next("CreateClientVpnEndpoint", "UnauthorizedOperation");
    assert_kind(
        api.create_endpoint(REGION, &create_request(minimal_spec(), "uid-f", &[]))
            .await,
        ErrorKind::Terminal,
        "UnauthorizedOperation",
    );
    fail_next("ExportClientVpnClientConfiguration", "ServiceUnavailable");
    assert_kind(
        api.export_client_configuration(REGION, UNKNOWN_ENDPOINT)
            .await,
        ErrorKind::Retryable,
        "ServiceUnavailable",
    );

    // AWS's own validation: a bad spec is terminal.
    let mut bad = minimal_spec();
    bad.vpn_port = Some(8443);
    assert_kind(
        api.create_endpoint(REGION, &create_request(bad, "uid-bad", &[]))
            .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );

    // Nobody listening: retryable, without a request id.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let (retry, pacing) = no_retries();
    let offline = Adapter::at(&format!("http://{closed}"), "AKIDOFF", retry, pacing).await;
    let err = offline
        .api
        .list_endpoints(REGION)
        .await
        .expect_err("connection refused");
    assert_eq!(err.kind, ErrorKind::Retryable, "{err:?}");
    assert_eq!(err.code, "DispatchFailure");
    assert_eq!(err.request_id, None);
    assert_eq!(
        offline.attempts("DescribeClientVpnEndpoints", "retryable"),
        1,
        "an attempt without an answer is counted too"
    );
}

#[tokio::test]
async fn a_quota_refusal_names_its_quota_and_is_counted_by_quota() {
    let emulator = Emulator::start();
    emulator.control(
        "POST",
        "/_emulator/limits",
        Some(serde_json::json!({"endpoints_per_region": 1})),
    );
    let adapter = instrumented(&emulator, "AKIDQUOTA").await;
    let first = create_request(minimal_spec(), "uid-q1", &[]);
    adapter
        .api
        .create_endpoint(REGION, &first)
        .await
        .expect("the first endpoint fits the quota");
    let second = create_request(minimal_spec(), "uid-q2", &[]);
    let err = adapter
        .api
        .create_endpoint(REGION, &second)
        .await
        .expect_err("over the quota");
    assert_eq!(err.kind, ErrorKind::Quota, "{err:?}");
    assert_eq!(err.code, "ClientVpnEndpointLimitExceeded");
    assert_eq!(err.quota().map(|q| q.key), Some("endpoints_per_region"));
    let series = r#"clientvpn_operator_quota_exceeded_total{quota="endpoints_per_region"} 1"#;
    let text = adapter.metrics.encode();
    assert!(text.lines().any(|l| l == series), "{text}");
    assert_eq!(adapter.attempts("CreateClientVpnEndpoint", "terminal"), 1);
}
