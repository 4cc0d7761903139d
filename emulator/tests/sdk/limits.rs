//! AWS's limits at their default values: 5 endpoints per region and 10 operations in progress
//! per endpoint (`ConcurrentMutationLimitExceeded` until one finishes).

use aws_sdk_ec2::Client;
use serde_json::json;

use crate::common::*;

const CONCURRENT: &str = "ConcurrentMutationLimitExceeded";
const CONCURRENT_MESSAGE: &str =
    "Cannot initiate another change for this endpoint at this time. Please try again later.";

#[tokio::test]
async fn default_limits_are_aws_quotas() {
    let emu = Emulator::start().await;
    let (status, limits) = emu.control("GET", "/_emulator/limits", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        limits,
        json!({
            "endpoints_per_region": 5,
            "rules_per_endpoint": 200,
            "routes_per_association": 100,
            "concurrent_operations_per_endpoint": 10,
            "certificates_per_region": 2500,
        })
    );
    let ec2 = emu.client().await;
    for _ in 0..5 {
        new_endpoint(&ec2).await;
    }
    let message = assert_rejected(
        create_endpoint(&ec2).send().await,
        "ClientVpnEndpointLimitExceeded",
    );
    assert!(message.contains("(5)"), "{message}");
}

async fn authorize(ec2: &Client, id: &str, i: u32) -> Result<(), String> {
    ec2.authorize_client_vpn_ingress()
        .client_vpn_endpoint_id(id)
        .target_network_cidr(format!("10.{i}.0.0/16"))
        .authorize_all_groups(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code(&e))
}

async fn active_rules(ec2: &Client, id: &str) -> usize {
    rules_of(ec2, id, vec![])
        .await
        .iter()
        .filter(|r| r.status().and_then(|s| s.code()).map(|c| c.as_str()) == Some("active"))
        .count()
}

#[tokio::test]
async fn eleventh_operation_in_progress_is_refused_until_one_finishes() {
    let (emu, ec2, id) = start_with_endpoint().await;
    associate(&ec2, &id, SUBNET_A).await;
    // Long enough that all of them are still in progress when the eleventh arrives.
    emu.set_timing(json!({"rule_delay_ms": 1500, "route_delay_ms": 1500}))
        .await;
    for i in 0..6 {
        authorize(&ec2, &id, i).await.unwrap();
    }
    for i in 0..4 {
        add_route(&ec2, &id, &format!("192.168.{i}.0/24"), SUBNET_A).await;
    }
    let message = assert_rejected(
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.99.0.0/16")
            .authorize_all_groups(true)
            .send()
            .await,
        CONCURRENT,
    );
    assert_eq!(message, CONCURRENT_MESSAGE);
    assert_each_rejected!(
        CONCURRENT,
        [
            ec2.create_client_vpn_route()
                .client_vpn_endpoint_id(&id)
                .destination_cidr_block("192.168.99.0/24")
                .target_vpc_subnet_id(SUBNET_A),
            ec2.associate_client_vpn_target_network()
                .client_vpn_endpoint_id(&id)
                .subnet_id(SUBNET_B),
            ec2.apply_security_groups_to_client_vpn_target_network()
                .client_vpn_endpoint_id(&id)
                .vpc_id(VPC)
                .security_group_ids("sg-12345678"),
        ]
    );
    // Another endpoint is not affected; reads are not limited.
    let other = new_endpoint(&ec2).await;
    authorize(&ec2, &other, 1).await.unwrap();
    assert_eq!(active_rules(&ec2, &id).await, 0);

    emu.set_timing(json!({"rule_delay_ms": 20, "route_delay_ms": 20}))
        .await;
    eventually("the rules to become active", || async {
        (active_rules(&ec2, &id).await == 6).then_some(())
    })
    .await;
    authorize(&ec2, &id, 99).await.unwrap();
}

#[tokio::test]
async fn replays_and_repeats_start_nothing_new() {
    let (emu, ec2, id) = start_with_endpoint().await;
    emu.set_timing(json!({"rule_delay_ms": 60_000})).await;
    let authorize_with_token = || {
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.0.0.0/16")
            .authorize_all_groups(true)
            .client_token("token-0")
            .send()
    };
    let first = authorize_with_token().await.unwrap();
    for i in 1..10 {
        authorize(&ec2, &id, i).await.unwrap();
    }
    assert_eq!(authorize(&ec2, &id, 10).await, Err(CONCURRENT.to_owned()));
    // The same ClientToken returns the original answer: nothing new is initiated.
    let replay = authorize_with_token().await.unwrap();
    assert_eq!(replay.status(), first.status());
    // The limit is a Limits field like the others.
    emu.set_limits(json!({"concurrent_operations_per_endpoint": 11}))
        .await;
    authorize(&ec2, &id, 10).await.unwrap();
    assert_eq!(authorize(&ec2, &id, 11).await, Err(CONCURRENT.to_owned()));
}

#[tokio::test]
async fn disassociation_counts_until_it_finishes() {
    let (emu, ec2, id) = start_with_limits(json!({"concurrent_operations_per_endpoint": 1})).await;
    let association = associate(&ec2, &id, SUBNET_A).await;
    emu.set_timing(json!({"association_delay_ms": 60_000}))
        .await;
    let disassociate = || {
        ec2.disassociate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .association_id(&association)
            .send()
    };
    disassociate().await.unwrap();
    // Repeating a change already under way is accepted (it starts nothing).
    disassociate().await.unwrap();
    assert_eq!(authorize(&ec2, &id, 1).await, Err(CONCURRENT.to_owned()));
}
