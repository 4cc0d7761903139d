use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::AuthorizationRule;
use serde_json::json;

use crate::common::*;

async fn rules(ec2: &Client, endpoint_id: &str) -> Vec<AuthorizationRule> {
    rules_of(ec2, endpoint_id, vec![]).await
}

fn status(rule: &AuthorizationRule) -> &str {
    rule.status().unwrap().code().unwrap().as_str()
}

#[tokio::test]
async fn authorize_and_revoke_go_through_their_states() {
    let (_, ec2, id) = start_with_endpoint().await;

    let out = ec2
        .authorize_client_vpn_ingress()
        .client_vpn_endpoint_id(&id)
        .target_network_cidr("10.1.0.0/16")
        .authorize_all_groups(true)
        .description("everyone to the VPC")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.status().unwrap().code().unwrap().as_str(),
        "authorizing"
    );
    authorize_group(&ec2, &id, "10.2.0.0/16", "engineering").await;

    let listed = eventually("rules to become active", || async {
        let listed = rules(&ec2, &id).await;
        listed
            .iter()
            .all(|r| status(r) == "active")
            .then_some(listed)
    })
    .await;
    assert_eq!(listed.len(), 2);
    let all = &listed[0];
    assert_eq!(all.client_vpn_endpoint_id(), Some(id.as_str()));
    assert_eq!(all.destination_cidr(), Some("10.1.0.0/16"));
    assert_eq!(all.access_all(), Some(true));
    assert_eq!(all.group_id(), Some(""));
    assert_eq!(all.description(), Some("everyone to the VPC"));
    let group = &listed[1];
    assert_eq!(group.destination_cidr(), Some("10.2.0.0/16"));
    assert_eq!(group.access_all(), Some(false));
    assert_eq!(group.group_id(), Some("engineering"));
    assert_eq!(group.description(), Some(""));

    let out = ec2
        .revoke_client_vpn_ingress()
        .client_vpn_endpoint_id(&id)
        .target_network_cidr("10.2.0.0/16")
        .access_group_id("engineering")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().unwrap().code().unwrap().as_str(), "revoking");
    eventually("revoked rule to disappear", || async {
        (rules(&ec2, &id).await.len() == 1).then_some(())
    })
    .await;
    ec2.revoke_client_vpn_ingress()
        .client_vpn_endpoint_id(&id)
        .target_network_cidr("10.1.0.0/16")
        .revoke_all_groups(true)
        .send()
        .await
        .unwrap();
    eventually("all rules to disappear", || async {
        rules(&ec2, &id).await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn rule_errors() {
    let (_, ec2, id) = start_with_endpoint().await;
    let on_endpoint = || {
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
    };
    let authorize = || on_endpoint().target_network_cidr("10.1.0.0/16");
    authorize().access_group_id("g1").send().await.unwrap();
    assert_rejected(
        authorize().access_group_id("g1").send().await,
        "InvalidClientVpnDuplicateAuthorizationRule",
    );
    // Same CIDR for another group or for everyone is a different rule.
    authorize().access_group_id("g2").send().await.unwrap();
    authorize().authorize_all_groups(true).send().await.unwrap();
    let msg = assert_rejected(authorize().send().await, "MissingParameter");
    assert!(msg.contains("access-group-id"), "{msg}");
    assert_rejected(
        authorize()
            .access_group_id("g3")
            .authorize_all_groups(true)
            .send()
            .await,
        "InvalidParameterCombination",
    );
    let bad_cidr = on_endpoint().target_network_cidr("10.1.0.0/33");
    assert_rejected(
        bad_cidr.access_group_id("g").send().await,
        "InvalidParameterValue",
    );
    assert_rejected(
        on_endpoint().access_group_id("g").send().await,
        "MissingParameter",
    );
    let revoke = |cidr: &str, group: &str| {
        ec2.revoke_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr(cidr)
            .access_group_id(group)
    };
    assert_each_rejected!(
        "InvalidClientVpnEndpointAuthorizationRuleNotFound",
        [revoke("10.9.0.0/16", "g1"), revoke("10.1.0.0/16", "nobody"),]
    );
}

#[tokio::test]
async fn rule_quota_is_enforced() {
    let (_, ec2, id) = start_with_limits(json!({"rules_per_endpoint": 2})).await;
    let authorize = |group: &'static str| {
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr("10.1.0.0/16")
            .access_group_id(group)
            .send()
    };
    for group in ["a", "b"] {
        authorize(group).await.unwrap();
    }
    assert_rejected(
        authorize("c").await,
        "ClientVpnAuthorizationRuleLimitExceeded",
    );
}

#[tokio::test]
async fn rules_filter_and_paginate() {
    // 12 rules in flight at once: more than AWS's 10 concurrent operations.
    let (_, ec2, id) = start_with_limits(json!({"concurrent_operations_per_endpoint": 20})).await;
    for i in 0..12 {
        ec2.authorize_client_vpn_ingress()
            .client_vpn_endpoint_id(&id)
            .target_network_cidr(format!("10.{i}.0.0/16"))
            .access_group_id(if i % 2 == 0 { "even" } else { "odd" })
            .description(format!("rule {i}"))
            .send()
            .await
            .unwrap();
    }
    let describe = ec2
        .describe_client_vpn_authorization_rules()
        .client_vpn_endpoint_id(&id);
    let items: Vec<AuthorizationRule> =
        collect_pages!(describe.into_paginator().page_size(5).items());
    let cidrs: Vec<&str> = items
        .iter()
        .map(|r| r.destination_cidr().unwrap())
        .collect();
    let expected: Vec<String> = (0..12).map(|i| format!("10.{i}.0.0/16")).collect();
    assert_eq!(cidrs, expected);

    let count =
        async |name: &str, value: &str| rules_of(&ec2, &id, vec![filter(name, value)]).await.len();
    assert_eq!(count("group-id", "even").await, 6);
    assert_eq!(count("destination-cidr", "10.3.0.0/16").await, 1);
    assert_eq!(count("description", "rule 1*").await, 3); // 1, 10, 11
    assert_rejected(
        ec2.describe_client_vpn_authorization_rules()
            .client_vpn_endpoint_id(&id)
            .filters(filter("origin", "x"))
            .send()
            .await,
        "InvalidParameterValue",
    );
}
