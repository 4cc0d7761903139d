//! End-to-end: the operator binary against a real kube-apiserver and the emulator.
//! Needs the control plane built by `hack/build-k8s.sh` (the harness starts it).

mod cert_manager;
mod certificates;
mod chaos;
mod harness;
#[allow(dead_code)]
#[path = "../support/largest.rs"]
mod largest_object;
mod lifecycle;
mod pacing;
mod quotas;
#[allow(dead_code)]
#[path = "../support/cert_manager.rs"]
mod support_cert_manager;
mod users;
mod users_deleted_at_once;

// The cert-manager launcher finds the control plane launcher and the owned-process helper here.
use harness::control_plane;
use harness::emulator::owned;

use std::time::{Duration, Instant};

use clientvpn_operator::api::ClientVpnEndpoint;
use harness::{Env, example, manifest, wait_until};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use serde_json::{Value, json};

const EXAMPLE_NAME: &str = "office-vpn";

/// `(status, reason, message)` of the condition `type_`, if there is one.
fn find_condition(conditions: &[Condition], type_: &str) -> Option<(String, String, String)> {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn condition(obj: &ClientVpnEndpoint, type_: &str) -> Option<(String, String, String)> {
    find_condition(&obj.status.as_ref()?.conditions, type_)
}

fn has_endpoint_id(obj: &ClientVpnEndpoint) -> bool {
    obj.status
        .as_ref()
        .is_some_and(|s| s.client_vpn_endpoint_id.is_some())
}

fn calls_of(env: &Env, action: &str) -> u64 {
    env.calls()[action].as_u64().unwrap_or(0)
}

fn applied(env: &Env, manifest: &str) {
    let out = env.apply(manifest);
    assert!(
        out.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn applying_the_example_fills_status_and_printer_columns() {
    let env = Env::start("basic").await;
    applied(&env, &example("basic.yaml"));
    let obj = env
        .wait_for(EXAMPLE_NAME, "status with ID, DNS name and code", |o| {
            o.status.as_ref().is_some_and(|s| {
                s.client_vpn_endpoint_id.is_some()
                    && s.dns_name.is_some()
                    && s.creation_time.is_some()
            })
        })
        .await;
    let status = obj.status.clone().expect("status");
    let id = status.client_vpn_endpoint_id.clone().expect("id");
    assert!(id.starts_with("cvpn-endpoint-") && id.len() == "cvpn-endpoint-".len() + 17);
    assert_eq!(
        status.dns_name.as_deref(),
        Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com").as_str())
    );
    assert_eq!(
        status.status.and_then(|s| s.code).as_deref(),
        Some("pending-associate")
    );
    assert_eq!(status.observed_generation, obj.metadata.generation);
    let ready = condition(&obj, "Ready").expect("Ready condition");
    assert_eq!(
        (ready.0.as_str(), ready.1.as_str()),
        ("False", "PendingAssociate")
    );

    let aws = env.aws_endpoints_of(&obj.uid().expect("uid"));
    assert_eq!(aws.len(), 1, "exactly one AWS endpoint");
    assert_eq!(aws[0]["clientVpnEndpointId"], json!(id));
    assert_eq!(aws[0]["tags"]["team"], json!("platform"));
    assert_eq!(aws[0]["tags"]["clientvpn.io/cluster"], json!("e2e"));
    assert_eq!(aws[0]["tags"]["clientvpn.io/name"], json!(EXAMPLE_NAME));
    assert_eq!(aws[0]["description"], json!("Office VPN"));

    let table = env.kubectl(&["get", "cvpn"]);
    for header in ["NAME", "ENDPOINT ID", "DNS NAME", "STATUS", "READY", "AGE"] {
        assert!(table.contains(header), "column {header} missing:\n{table}");
    }
    assert!(
        table.contains(&id) && table.contains("pending-associate"),
        "{table}"
    );
    let events = env.events(EXAMPLE_NAME);
    assert!(events.contains("Normal Created"), "events:\n{events}");
}

#[tokio::test]
async fn invalid_manifests_are_refused_at_apply_time_with_the_field_named() {
    let env = Env::start("invalid").await;
    let creates_before = calls_of(&env, "CreateClientVpnEndpoint");
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, &str, Edit)> = vec![
        (
            "cidr-too-small",
            "clientCidrBlock",
            Box::new(|s| s["clientCidrBlock"] = json!("10.100.0.0/24")),
        ),
        (
            "cidr-too-large",
            "clientCidrBlock",
            Box::new(|s| s["clientCidrBlock"] = json!("10.0.0.0/8")),
        ),
        (
            "cidr-syntax",
            "clientCidrBlock",
            Box::new(|s| s["clientCidrBlock"] = json!("10.100.0.0")),
        ),
        (
            "three-dns",
            "dnsServers",
            Box::new(|s| s["dnsServers"] = json!(["10.0.0.2", "10.0.0.3", "10.0.0.4"])),
        ),
        (
            "dns-not-ip",
            "dnsServers",
            Box::new(|s| s["dnsServers"] = json!(["dns.example.com"])),
        ),
        (
            "bad-protocol",
            "transportProtocol",
            Box::new(|s| s["transportProtocol"] = json!("sctp")),
        ),
        (
            "bad-port",
            "vpnPort",
            Box::new(|s| s["vpnPort"] = json!(8443)),
        ),
        (
            "bad-timeout",
            "sessionTimeoutHours",
            Box::new(|s| s["sessionTimeoutHours"] = json!(6)),
        ),
        (
            "no-server-cert",
            "serverCertificateArn",
            Box::new(|s| {
                s.as_object_mut()
                    .expect("object")
                    .remove("serverCertificateArn");
            }),
        ),
        (
            "no-auth",
            "authenticationOptions",
            Box::new(|s| s["authenticationOptions"] = json!([])),
        ),
        (
            "ad-plus-federated",
            "authenticationOptions",
            Box::new(|s| {
                s["authenticationOptions"] = json!([
                    {"type": "directory-service-authentication", "activeDirectory": {"directoryId": "d-1234567890"}},
                    {"type": "federated-authentication", "federatedAuthentication": {"samlProviderArn": "arn:aws:iam::123456789012:saml-provider/idp"}}
                ])
            }),
        ),
        (
            "type-without-structure",
            "authenticationOptions",
            Box::new(|s| {
                s["authenticationOptions"] = json!([
                    {"type": "certificate-authentication"}
                ])
            }),
        ),
        (
            "bad-auth-type",
            "authenticationOptions",
            Box::new(|s| s["authenticationOptions"][0]["type"] = json!("password")),
        ),
        (
            "sg-without-vpc",
            "securityGroupIds",
            Box::new(|s| {
                s.as_object_mut().expect("object").remove("vpcId");
            }),
        ),
        (
            "long-banner",
            "bannerText",
            Box::new(|s| {
                s["clientLoginBannerOptions"] =
                    json!({"enabled": true, "bannerText": "x".repeat(1401)})
            }),
        ),
        (
            "bad-deletion-policy",
            "deletionPolicy",
            Box::new(|s| s["deletionPolicy"] = json!("Orphan")),
        ),
        (
            "reserved-tag",
            "tags",
            Box::new(|s| s["tags"] = json!({"aws:owner": "me"})),
        ),
        (
            "portal-with-cert-only",
            "selfServicePortal",
            Box::new(|s| s["selfServicePortal"] = json!("enabled")),
        ),
        (
            "server-arn-and-source",
            "set exactly one of serverCertificateArn",
            Box::new(|s| s["serverCertificate"] = json!({"managed": {}})),
        ),
        (
            "secret-and-managed",
            "set exactly one of secretRef",
            Box::new(|s| {
                s.as_object_mut()
                    .expect("object")
                    .remove("serverCertificateArn");
                s["serverCertificate"] = json!({"secretRef": {"name": "tls"}, "managed": {}});
            }),
        ),
        (
            "arn-server-without-root",
            "clientRootCertificateChainArn or clientRootCertificateChainSecretRef",
            Box::new(|s| s["authenticationOptions"][0]["mutualAuthentication"] = json!({})),
        ),
        (
            "root-arn-and-secret",
            "clientRootCertificateChainSecretRef",
            Box::new(|s| {
                s["authenticationOptions"][0]["mutualAuthentication"]["clientRootCertificateChainSecretRef"] =
                    json!({"name": "roots"})
            }),
        ),
        (
            "renew-after-expiry",
            "renewBeforeDays",
            Box::new(|s| {
                s.as_object_mut()
                    .expect("object")
                    .remove("serverCertificateArn");
                s["serverCertificate"] =
                    json!({"managed": {"validityDays": 10, "renewBeforeDays": 10}});
            }),
        ),
    ];
    assert!(cases.len() >= 17);
    for (name, field, edit) in cases {
        let out = env.apply(&manifest(name, edit));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            stderr.contains(field),
            "{name}: the error does not name {field}:\n{stderr}"
        );
    }
    let listed = env.kubectl(&["get", "cvpn", "-o", "name"]);
    assert!(listed.trim().is_empty(), "nothing was stored: {listed}");
    assert_eq!(
        calls_of(&env, "CreateClientVpnEndpoint"),
        creates_before,
        "no AWS call"
    );
}

#[tokio::test]
async fn immutable_fields_are_refused_and_mutable_ones_accepted() {
    let env = Env::start("immutable").await;
    applied(&env, &manifest("vpn", |_| {}));
    env.wait_for("vpn", "endpoint ID", has_endpoint_id).await;
    for (field, patch) in [
        (
            "clientCidrBlock",
            json!({"spec": {"clientCidrBlock": "10.200.0.0/22"}}),
        ),
        (
            "transportProtocol",
            json!({"spec": {"transportProtocol": "tcp"}}),
        ),
        (
            "authenticationOptions",
            json!({"spec": {"authenticationOptions": [{
            "type": "federated-authentication",
            "federatedAuthentication": {"samlProviderArn": "arn:aws:iam::123456789012:saml-provider/idp"}}]}}),
        ),
        (
            "trafficIpAddressType",
            json!({"spec": {"trafficIpAddressType": "dual-stack"}}),
        ),
        ("region", json!({"spec": {"region": "eu-west-1"}})),
    ] {
        let out = env.merge_patch_raw("vpn", &patch);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "changing {field} was accepted");
        assert!(
            stderr.contains(&format!("{field} is immutable")),
            "{field}: {stderr}"
        );
    }
    let mutable = json!({"spec": {"description": "changed", "sessionTimeoutHours": 8}});
    env.merge_patch("vpn", &mutable);
    let obj = env.api().get("vpn").await.expect("get");
    assert_eq!(obj.spec.description.as_deref(), Some("changed"));
    assert_eq!(obj.metadata.generation, Some(2));
}

#[tokio::test]
async fn delete_policy_removes_the_aws_endpoint_before_the_object() {
    let env = Env::start("delete").await;
    applied(&env, &manifest("vpn", |_| {}));
    let obj = env.wait_for("vpn", "endpoint ID", has_endpoint_id).await;
    let uid = obj.uid().expect("uid");
    env.kubectl(&["delete", "cvpn", "vpn", "--wait=false"]);
    let mut saw_deleting = false;
    let deadline = Instant::now() + harness::WAIT;
    loop {
        let still_there = env.api().get_opt("vpn").await.expect("get").is_some();
        let aws = env.aws_endpoints_of(&uid);
        let aws_status: Vec<&str> = aws.iter().filter_map(|e| e["status"].as_str()).collect();
        saw_deleting |= aws_status.contains(&"deleting");
        if !still_there {
            assert!(
                aws_status.iter().all(|s| *s == "deleted"),
                "object gone while AWS still shows {aws_status:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "object never went away; AWS: {aws_status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_deleting, "the object outlived AWS's deleting phase");
    let events = env.events("vpn");
    assert!(
        events.contains("Deleting") && events.contains("Deleted"),
        "{events}"
    );
}

#[tokio::test]
async fn retain_policy_leaves_the_aws_endpoint() {
    let env = Env::start("retain").await;
    applied(
        &env,
        &manifest("vpn", |s| s["deletionPolicy"] = json!("Retain")),
    );
    let obj = env.wait_for("vpn", "endpoint ID", has_endpoint_id).await;
    env.kubectl(&["delete", "cvpn", "vpn", "--wait=false"]);
    env.wait_gone("vpn").await;
    let aws = env.aws_endpoints_of(&obj.uid().expect("uid"));
    assert_eq!(aws.len(), 1);
    assert_eq!(
        aws[0]["status"],
        json!("pending-associate"),
        "retained endpoint untouched"
    );
}

#[tokio::test]
async fn operator_killed_between_create_and_status_write_makes_no_duplicate() {
    let mut env = Env::start("crash").await;
    // Hold Create's answer back: AWS has created the endpoint, the operator has not heard.
    env.emulator_call(
        "POST",
        "/_emulator/faults",
        Some(json!({"latency_ms": 4000, "actions": ["CreateClientVpnEndpoint"]})),
    );
    applied(&env, &manifest("vpn", |_| {}));
    let uid = env
        .wait_for("vpn", "the object", |_| true)
        .await
        .uid()
        .expect("uid");
    wait_until("AWS to hold the endpoint", || {
        !env.aws_endpoints_of(&uid).is_empty()
    })
    .await;
    env.kill_operator();
    let obj = env.api().get("vpn").await.expect("get");
    assert!(
        !has_endpoint_id(&obj),
        "status was written before the kill; no crash window"
    );

    env.emulator_call("DELETE", "/_emulator/faults", None);
    env.start_operator();
    let obj = env
        .wait_for("vpn", "endpoint ID after restart", has_endpoint_id)
        .await;
    let aws = env.aws_endpoints_of(&uid);
    assert_eq!(aws.len(), 1, "exactly one AWS endpoint: {aws:?}");
    assert_eq!(
        obj.status.and_then(|s| s.client_vpn_endpoint_id),
        aws[0]["clientVpnEndpointId"].as_str().map(str::to_string)
    );
}

#[tokio::test]
async fn terminal_error_stalls_without_a_hot_loop_and_recovers_after_a_spec_change() {
    let env = Env::start("stalled").await;
    let message = "The specified server certificate does not exist";
    env.emulator_call(
        "POST",
        "/_emulator/faults/fail-next",
        Some(json!({"action": "CreateClientVpnEndpoint", "count": 1000, "code": "InvalidParameterValue", "message": message})),
    );
    let before = calls_of(&env, "CreateClientVpnEndpoint");
    applied(&env, &manifest("vpn", |_| {}));
    let obj = env
        .wait_for("vpn", "Stalled=True", |o| {
            condition(o, "Stalled").is_some_and(|c| c.0 == "True")
        })
        .await;
    let stalled = condition(&obj, "Stalled").expect("Stalled");
    assert!(
        stalled.2.contains(message),
        "AWS's message in the condition: {}",
        stalled.2
    );
    assert!(stalled.2.contains("InvalidParameterValue"));
    let events = env.events("vpn");
    assert!(
        events.contains("Warning AwsTerminal") && events.contains(message),
        "{events}"
    );

    // Observation window: a hot loop would call Create several times per second here.
    let after_stall = calls_of(&env, "CreateClientVpnEndpoint");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = calls_of(&env, "CreateClientVpnEndpoint");
    assert!(
        after_stall - before <= 2,
        "too many creates before stalling: {}",
        after_stall - before
    );
    assert_eq!(later, after_stall, "no retry while the spec is unchanged");

    env.emulator_call("DELETE", "/_emulator/faults", None);
    env.merge_patch("vpn", &json!({"spec": {"description": "fixed"}}));
    let obj = env
        .wait_for("vpn", "recovery after the spec change", has_endpoint_id)
        .await;
    assert_eq!(condition(&obj, "Stalled"), None);
}

#[tokio::test]
async fn half_of_all_calls_throttled_every_object_converges_without_duplicates() {
    let env = Env::start("throttle").await;
    env.emulator_call(
        "POST",
        "/_emulator/faults",
        Some(json!({"throttle_probability": 0.5})),
    );
    let names: Vec<String> = (0..6).map(|i| format!("vpn-{i}")).collect();
    for name in &names {
        applied(&env, &manifest(name, |_| {}));
    }
    for name in &names {
        let obj = env
            .wait_for(name, "endpoint ID under throttling", has_endpoint_id)
            .await;
        let aws = env.aws_endpoints_of(&obj.uid().expect("uid"));
        assert_eq!(
            aws.len(),
            1,
            "{name}: exactly one AWS endpoint, got {}",
            aws.len()
        );
    }
    assert!(calls_of(&env, "CreateClientVpnEndpoint") >= names.len() as u64);
}
