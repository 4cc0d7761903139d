//! End-to-end lifecycle: target networks, rules, routes, Ready, removal order, drift,
//! out-of-band deletion, adoption, and the client configuration ConfigMap.

use std::time::{Duration, Instant};

use clientvpn_operator::cloud::{ClientVpnApi, Ec2ClientVpn, ModifyEndpoint};
use clientvpn_operator::endpoint::plan::desired_endpoint;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::harness::{ACCOUNT_KEY, Env, REGION, emulator, wait_until};
use crate::{applied, condition, has_endpoint_id, manifest};

/// In the emulator, these subnets live in the manifest's VPC (vpc-0123456789abcdef0), in two AZs.
const SUBNET_A: &str = "subnet-0123456789abcdef1";
const SUBNET_B: &str = "subnet-0123456789abcdef2";

/// An AWS client of our own, acting "outside the operator" (as a human in the console would).
async fn aws(env: &Env) -> Ec2ClientVpn {
    let url = format!("http://{}", env.emulator_address());
    let sdk = emulator::sdk_config(&url, ACCOUNT_KEY).await;
    Ec2ClientVpn::new(sdk)
}

pub(crate) fn with_children(spec: &mut Value) {
    spec["targetNetworks"] = json!([{"subnetId": SUBNET_A}]);
    spec["authorizationRules"] =
        json!([{"targetNetworkCidr": "10.0.0.0/16", "authorizeAllGroups": true}]);
    spec["routes"] = json!([{"destinationCidrBlock": "0.0.0.0/0", "targetVpcSubnetId": SUBNET_A}]);
}

fn is_ready(obj: &clientvpn_operator::api::ClientVpnEndpoint) -> bool {
    condition(obj, "Ready").is_some_and(|c| c.0 == "True")
        && obj.status.as_ref().and_then(|s| s.observed_generation) == obj.metadata.generation
}

#[tokio::test]
async fn associating_a_network_makes_the_endpoint_available_and_ready_with_rules_and_routes() {
    let env = Env::start("children").await;
    applied(&env, &manifest("vpn", with_children));
    let obj = env.wait_for("vpn", "Ready=True", is_ready).await;
    let status = obj.status.expect("status");
    assert_eq!(
        status.status.and_then(|s| s.code).as_deref(),
        Some("available")
    );
    assert_eq!(status.target_networks.len(), 1);
    assert_eq!(status.target_networks[0].subnet_id, SUBNET_A);
    assert_eq!(status.target_networks[0].status, "associated");
    assert!(
        status.target_networks[0]
            .association_id
            .starts_with("cvpn-assoc-")
    );
    assert_eq!(status.authorization_rules[0].status, "active");
    assert_eq!(status.routes[0].destination_cidr_block, "0.0.0.0/0");
    assert_eq!(status.routes[0].status, "active");

    // Remove the route and the rule, move to another subnet: teardown runs in order.
    env.merge_patch(
        "vpn",
        &json!({"spec": {"routes": null, "authorizationRules": null, "targetNetworks": [{"subnetId": SUBNET_B}]}}),
    );
    let obj = env
        .wait_for("vpn", "only the new subnet, no rules or routes", |o| {
            is_ready(o)
                && o.status.as_ref().is_some_and(|s| {
                    s.routes.is_empty()
                        && s.authorization_rules.is_empty()
                        && s.target_networks
                            .iter()
                            .map(|t| t.subnet_id.as_str())
                            .collect::<Vec<_>>()
                            == [SUBNET_B]
                })
        })
        .await;
    let id = obj
        .status
        .and_then(|s| s.client_vpn_endpoint_id)
        .expect("id");
    let aws_endpoint = env
        .aws_endpoints()
        .into_iter()
        .find(|e| e["clientVpnEndpointId"] == json!(id))
        .expect("in AWS");
    let add_routes: Vec<&Value> = aws_endpoint["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["origin"] == json!("add-route"))
        .collect();
    assert!(add_routes.is_empty(), "{add_routes:?}");

    // Delete: the emulator refuses to delete an endpoint with associations, so this only
    // completes when the operator disassociates first.
    env.kubectl(&["delete", "cvpn", "vpn", "--wait=false"]);
    env.wait_gone("vpn").await;
    let gone = env
        .aws_endpoints()
        .into_iter()
        .find(|e| e["clientVpnEndpointId"] == json!(id));
    assert!(
        gone.is_none_or(|e| e["status"] == json!("deleted")),
        "AWS still has it"
    );
    let events = env.events("vpn");
    assert!(events.contains("Deleting"), "{events}");
}

#[tokio::test]
async fn drift_in_aws_is_corrected_and_an_out_of_band_delete_is_recreated() {
    let env = Env::start("drift").await;
    applied(
        &env,
        &manifest("vpn", |s| s["description"] = json!("declared")),
    );
    let obj = env
        .wait_for("vpn", "settled", |o| {
            has_endpoint_id(o) && condition(o, "Reconciling").is_none()
        })
        .await;
    let id = obj
        .status
        .and_then(|s| s.client_vpn_endpoint_id)
        .expect("id");
    let aws = aws(&env).await;
    let change = ModifyEndpoint {
        description: Some("changed by hand".into()),
        ..Default::default()
    };
    aws.modify_endpoint(REGION, &id, &change)
        .await
        .expect("modify in AWS");

    // The resync interval is 30 s in tests; wait for the operator to notice and correct.
    wait_until("the description to be corrected", || {
        env.aws_endpoints()
            .iter()
            .any(|e| e["clientVpnEndpointId"] == json!(id) && e["description"] == json!("declared"))
    })
    .await;
    let events = env.events("vpn");
    assert!(events.contains("Warning DriftCorrected"), "{events}");

    aws.delete_endpoint(REGION, &id)
        .await
        .expect("delete in AWS");
    let obj = env
        .wait_for("vpn", "a new endpoint", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.client_vpn_endpoint_id.as_deref())
                .is_some_and(|new| new != id)
        })
        .await;
    let live: Vec<Value> = env
        .aws_endpoints_of(&obj.uid().expect("uid"))
        .into_iter()
        .filter(|e| e["status"] != json!("deleted") && e["status"] != json!("deleting"))
        .collect();
    assert_eq!(
        live.len(),
        1,
        "exactly one live endpoint after the recreate"
    );
    let new_id = obj
        .status
        .and_then(|s| s.client_vpn_endpoint_id)
        .expect("new id");
    // Each creation has its own event naming the endpoint it created (not one folded series).
    wait_until("a Created event naming the new endpoint", || {
        env.events("vpn")
            .lines()
            .any(|l| l.contains("Created") && l.contains(&new_id))
    })
    .await;
    let events = env.events("vpn");
    assert!(events.contains("EndpointDeletedOutOfBand"), "{events}");
    assert!(
        events
            .lines()
            .any(|l| l.contains("Created") && l.contains(&id)),
        "the first creation's event still names the first endpoint: {events}"
    );
}

#[tokio::test]
async fn an_existing_endpoint_is_adopted_or_refused_when_fixed_fields_differ() {
    let env = Env::start("adopt").await;
    let aws = aws(&env).await;
    let spec_json = |cidr: &str| -> clientvpn_operator::api::ClientVpnEndpointSpec {
        let text = manifest("x", |s| s["clientCidrBlock"] = json!(cidr));
        serde_json::from_value(serde_json::from_str::<Value>(&text).expect("json")["spec"].clone())
            .expect("spec")
    };
    let made_by_hand = async |token: &str, cidr: &str| {
        let request = desired_endpoint(&spec_json(cidr)).create_request(
            format!("{token}-{}", env.namespace),
            [("Name".to_string(), "by hand".to_string())].into(),
        );
        aws.create_endpoint(REGION, &request).await.expect("create")
    };
    let existing = made_by_hand("hand", "10.100.0.0/22").await;
    let other = made_by_hand("other", "10.250.0.0/22").await;
    let creates_before = crate::calls_of(&env, "CreateClientVpnEndpoint");

    let adopt = |name: &str, id: &str| {
        let mut m: Value =
            serde_json::from_str(&manifest(name, |s| s["description"] = json!("adopted")))
                .expect("json");
        m["metadata"]["annotations"] = json!({"clientvpn.io/adopt-endpoint-id": id});
        m.to_string()
    };
    applied(&env, &adopt("adopted", &existing.id));
    applied(&env, &adopt("mismatch", &other.id));
    let obj = env
        .wait_for("adopted", "adoption", |o| {
            o.status
                .as_ref()
                .and_then(|s| s.client_vpn_endpoint_id.as_deref())
                == Some(existing.id.as_str())
                && condition(o, "Reconciling").is_none()
        })
        .await;
    let aws_view = env
        .aws_endpoints()
        .into_iter()
        .find(|e| e["clientVpnEndpointId"] == json!(existing.id))
        .expect("in AWS");
    assert_eq!(
        aws_view["tags"]["clientvpn.io/uid"],
        json!(obj.uid().expect("uid"))
    );
    assert_eq!(
        aws_view["tags"]["Name"],
        json!("by hand"),
        "foreign tags stay"
    );
    assert_eq!(
        aws_view["description"],
        json!("adopted"),
        "mutable fields follow the spec"
    );

    let refused = env
        .wait_for("mismatch", "Stalled", |o| {
            condition(o, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let stalled = condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(stalled.1, "ImmutableFieldMismatch");
    assert!(stalled.2.contains("clientCidrBlock"), "{}", stalled.2);
    assert_eq!(
        crate::calls_of(&env, "CreateClientVpnEndpoint"),
        creates_before,
        "adoption never creates"
    );
}

#[tokio::test]
async fn the_client_configuration_lands_in_a_configmap_and_follows_the_port() {
    let env = Env::start("config").await;
    applied(
        &env,
        &manifest("vpn", |s| {
            s["clientConfiguration"] = json!({"configMapName": "vpn-client"})
        }),
    );
    let obj = env
        .wait_for("vpn", "endpoint", |o| {
            o.status.as_ref().is_some_and(|s| s.dns_name.is_some())
        })
        .await;
    let dns = obj.status.and_then(|s| s.dns_name).expect("dns");
    let host = dns.trim_start_matches("*.");
    let read = || {
        env.kubectl_raw(
            &[
                "get",
                "configmap",
                "vpn-client",
                "-o",
                "jsonpath={.data.client\\.ovpn}",
            ],
            None,
        )
    };
    wait_until("the ConfigMap", || read().status.success()).await;
    let text = String::from_utf8_lossy(&read().stdout).to_string();
    assert!(
        text.lines().any(|l| l == format!("remote {host} 443")),
        "{text}"
    );
    assert!(text.contains("<ca>"), "{text}");
    let owner = env.kubectl(&[
        "get",
        "configmap",
        "vpn-client",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].name}",
    ]);
    assert_eq!(owner, "vpn");

    env.merge_patch("vpn", &json!({"spec": {"vpnPort": 1194}}));
    wait_until("the configuration to follow the port", || {
        String::from_utf8_lossy(&read().stdout)
            .lines()
            .any(|l| l == format!("remote {host} 1194"))
    })
    .await;
}

#[tokio::test]
async fn steady_state_reads_one_region_listing_and_drift_is_corrected_within_one_resync() {
    const RESYNC: Duration = Duration::from_secs(6);
    let env = Env::start_with("inventory", &["--resync-interval", "6s"]).await;
    let names = ["a", "b", "c"];
    for name in names {
        applied(
            &env,
            &manifest(name, |s| s["description"] = json!("declared")),
        );
    }
    let mut ids = Vec::new();
    for name in names {
        let obj = env
            .wait_for(name, "settled", |o| {
                has_endpoint_id(o) && condition(o, "Reconciling").is_none()
            })
            .await;
        ids.push(
            obj.status
                .and_then(|s| s.client_vpn_endpoint_id)
                .expect("id"),
        );
    }

    // Steady state: a window of three resync intervals is the measurement itself.
    env.emulator_call("POST", "/_emulator/calls/reset", None);
    tokio::time::sleep(RESYNC * 3).await;
    let calls = env.calls();
    let count = |action: &str| calls[action].as_u64().unwrap_or(0);
    assert!(
        count("DescribeClientVpnEndpoints") <= 4,
        "about one region listing per resync, not one describe per object: {calls}"
    );
    for children in [
        "DescribeClientVpnTargetNetworks",
        "DescribeClientVpnAuthorizationRules",
        "DescribeClientVpnRoutes",
    ] {
        assert_eq!(count(children), 0, "unchanged endpoints: {calls}");
    }

    let aws = aws(&env).await;
    let change = ModifyEndpoint {
        description: Some("changed by hand".into()),
        ..Default::default()
    };
    aws.modify_endpoint(REGION, &ids[1], &change)
        .await
        .expect("modify in AWS");
    let changed_at = Instant::now();
    wait_until("the description to be corrected", || {
        env.aws_endpoints().iter().any(|e| {
            e["clientVpnEndpointId"] == json!(ids[1]) && e["description"] == json!("declared")
        })
    })
    .await;
    let took = changed_at.elapsed();
    assert!(
        took <= RESYNC + Duration::from_secs(4),
        "drift corrected after {took:?}: more than one resync interval ({RESYNC:?}) plus the time to act"
    );
    assert!(env.events("b").contains("Warning DriftCorrected"));
}
