//! The `/_emulator/` control and inspection API.

use std::time::{Duration, Instant};

use aws_sdk_ec2::config::timeout::TimeoutConfig;
use serde_json::json;

use crate::common::*;

fn endpoint_count(state: &serde_json::Value) -> usize {
    state["accounts"]
        .as_object()
        .map(|accounts| {
            accounts
                .values()
                .flat_map(|regions| regions.as_object().unwrap().values())
                .map(|r| r["endpoints"].as_array().unwrap().len())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn healthz() {
    let emu = Emulator::start().await;
    let (status, body) = emu.control("GET", "/_emulator/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn calls_are_counted_per_action_including_injected_failures() {
    let (emu, ec2) = start_with_client().await;
    new_endpoint(&ec2).await;
    new_endpoint(&ec2).await;
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
    emu.fail_next(json!({"action": "DeleteClientVpnEndpoint"}))
        .await;
    assert_error(
        ec2.delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
            .send()
            .await,
        "InternalError",
        500,
    );
    assert_eq!(
        emu.calls().await,
        json!({"CreateClientVpnEndpoint": 2, "DescribeClientVpnEndpoints": 1, "DeleteClientVpnEndpoint": 1})
    );
    let (status, body) = emu.control("POST", "/_emulator/calls/reset", None).await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(emu.calls().await, json!({}));
}

#[tokio::test]
async fn random_faults_apply_to_the_chosen_actions_and_are_not_applied() {
    let (emu, ec2) = start_with_client().await;
    let faults = json!({"throttle_probability": 1.0, "actions": ["CreateClientVpnEndpoint"]});
    let body = emu.set_faults(faults).await;
    assert_eq!(body["throttle_probability"], 1.0);
    assert_error(
        create_endpoint(&ec2).send().await,
        "RequestLimitExceeded",
        503,
    );
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert_eq!(endpoint_count(&emu.state().await), 0);

    emu.set_faults(json!({"internal_error_probability": 1.0}))
        .await;
    assert_error(
        ec2.describe_client_vpn_endpoints().send().await,
        "InternalError",
        500,
    );

    let (status, body) = emu.control("DELETE", "/_emulator/faults", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["internal_error_probability"], 0.0);
    new_endpoint(&ec2).await;
}

#[tokio::test]
async fn fail_next_fails_exactly_n_calls_with_the_status_of_the_code() {
    let (emu, ec2) = start_with_client().await;
    let body = emu
        .fail_next(json!({
            "action": "CreateClientVpnEndpoint",
            "count": 2,
            "code": "UnauthorizedOperation",
            "message": "You are not authorized to perform this operation."
        }))
        .await;
    assert_eq!(body["fail_next"][0]["count"], 2);
    for _ in 0..2 {
        let msg = assert_error(
            create_endpoint(&ec2).send().await,
            "UnauthorizedOperation",
            403,
        );
        assert_eq!(msg, "You are not authorized to perform this operation.");
    }
    new_endpoint(&ec2).await;

    for (code, status) in [
        ("InvalidParameterValue", 400),
        ("RequestLimitExceeded", 503),
        ("ServiceUnavailable", 503),
        ("DryRunOperation", 412),
        ("InvalidClientVpnEndpointId.NotFound", 400),
    ] {
        emu.fail_next(json!({"action": "DescribeClientVpnEndpoints", "code": code}))
            .await;
        assert_error(
            ec2.describe_client_vpn_endpoints().send().await,
            code,
            status,
        );
    }
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
}

#[tokio::test]
async fn fail_next_after_apply_performs_the_action_and_loses_the_response() {
    let (emu, ec2) = start_with_client().await;
    emu.fail_next(
        json!({"action": "CreateClientVpnEndpoint", "code": "InternalError", "after_apply": true}),
    )
    .await;
    assert_error(
        create_endpoint(&ec2).client_token("t").send().await,
        "InternalError",
        500,
    );
    assert_eq!(endpoint_count(&emu.state().await), 1);
    // The retry with the same token finds the endpoint the lost response was about.
    create_endpoint(&ec2)
        .client_token("t")
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint_count(&emu.state().await), 1);
}

#[tokio::test]
async fn latency_is_added_after_the_action_is_applied() {
    let emu = Emulator::start().await;
    emu.set_faults(json!({"latency_ms": 400, "actions": ["CreateClientVpnEndpoint"]}))
        .await;
    let sdk = emu
        .sdk_loader(ACCESS_KEY, REGION)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(100))
                .build(),
        )
        .load()
        .await;
    let impatient = aws_sdk_ec2::Client::new(&sdk);
    create_endpoint(&impatient)
        .send()
        .await
        .expect_err("the client gives up during the delay");
    // The endpoint exists although the client never saw the response: a crash window.
    assert_eq!(endpoint_count(&emu.state().await), 1);

    let ec2 = emu.client().await;
    let started = Instant::now();
    new_endpoint(&ec2).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "other actions are not delayed"
    );
}

#[tokio::test]
async fn reset_clears_state_counters_and_faults_but_keeps_timing() {
    let (emu, ec2) = start_with_client().await;
    new_endpoint(&ec2).await;
    emu.set_faults(json!({"latency_ms": 5})).await;
    emu.fail_next(json!({"action": "CreateTags", "count": 3}))
        .await;
    let (status, _) = emu.control("POST", "/_emulator/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(emu.state().await, json!({"accounts": {}}));
    assert_eq!(emu.calls().await, json!({}));
    let (_, faults) = emu.control("GET", "/_emulator/faults", None).await;
    assert_eq!(faults["latency_ms"], 0);
    assert_eq!(faults["fail_next"], json!([]));
    let (_, timing) = emu.control("GET", "/_emulator/timing", None).await;
    assert_eq!(timing["association_delay_ms"], 30);
}

#[tokio::test]
async fn timing_and_configuration_are_validated() {
    let emu = Emulator::start().await;
    let timing = emu.set_timing(json!({"rule_delay_ms": 7})).await;
    assert_eq!(
        timing,
        json!({
            "association_delay_ms": 30,
            "rule_delay_ms": 7,
            "route_delay_ms": 20,
            "delete_delay_ms": 30,
            "deleted_visible_ms": 150,
            "crl_delay_ms": 20,
            "terminate_delay_ms": 20,
        })
    );
    for (path, body) in [
        ("/_emulator/timing", json!({"rule_delay": 1})),
        ("/_emulator/timing", json!({"rule_delay_ms": -1})),
        ("/_emulator/faults", json!({"throttle_probability": 2.0})),
        ("/_emulator/faults", json!({"actions": ["Nope"]})),
        ("/_emulator/faults", json!({"latency": 1})),
        ("/_emulator/faults/fail-next", json!({"action": "Nope"})),
        ("/_emulator/faults/fail-next", json!({"count": 1})),
        ("/_emulator/limits", json!({"endpoints": 1})),
    ] {
        let (status, response) = emu.control("POST", path, Some(body.clone())).await;
        assert_eq!(status, 400, "{path} {body}");
        assert!(response["error"].is_string());
    }
}

#[tokio::test]
async fn state_dump_shows_everything_an_endpoint_owns() {
    let (emu, ec2, id) = start_with_endpoint().await;
    associate(&ec2, &id, SUBNET_A).await;
    authorize_all(&ec2, &id, "10.1.0.0/16").await;
    tag_resource(&ec2, &id, "owner", "me").await;
    let state = emu.state().await;
    let account = clientvpn_emulator::auth::account_id(ACCESS_KEY);
    let ep = &state["accounts"][&account][REGION]["endpoints"][0];
    assert_eq!(ep["clientVpnEndpointId"], json!(id));
    assert_eq!(ep["status"], "available");
    assert_eq!(ep["clientCidrBlock"], "172.16.0.0/22");
    assert_eq!(ep["vpcId"], VPC);
    assert_eq!(ep["tags"], json!({"owner": "me"}));
    assert_eq!(ep["associations"][0]["targetNetworkId"], SUBNET_A);
    assert_eq!(ep["associations"][0]["status"], "associated");
    assert_eq!(
        ep["authorizationRules"][0]["destinationCidr"],
        "10.1.0.0/16"
    );
    assert_eq!(ep["authorizationRules"][0]["accessAll"], true);
    assert_eq!(ep["routes"][0]["origin"], "associate");
    assert_eq!(ep["routes"][0]["destinationCidr"], VPC_CIDR);
    assert_eq!(
        ep["authenticationOptions"][0]["type"],
        "certificate-authentication"
    );
}
