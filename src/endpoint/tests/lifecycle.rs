//! An existing endpoint: spec changes, children, adoption, the client configuration.

use super::*;
use crate::api::{ADOPT_ANNOTATION, ClientConfigurationSpec, TargetNetworkSpec};
use crate::endpoint::plan::test_support::spec_children;

const SUBNET_A: &str = "subnet-0000000000000000a";
const SUBNET_B: &str = "subnet-0000000000000000b";

/// An object whose endpoint exists and has settled (status written for this generation).
async fn settled() -> Harness {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("observe");
    h.cloud.take_calls();
    h.cluster.take_notices();
    h
}

/// Settled, then with a network, a rule and a route built up (calls taken).
async fn settled_with_children() -> Harness {
    let h = settled().await;
    h.cluster.edit_spec(with_network);
    for _ in 0..3 {
        h.reconcile().await.expect("build up");
        h.cloud.finish_transitions();
    }
    h.cloud.take_calls();
    h
}

fn with_network(spec: &mut crate::api::ClientVpnEndpointSpec) {
    spec_children(spec, SUBNET_A, Some("everyone"));
}

/// The endpoint the adoption tests name in the annotation.
const ADOPTED: &str = "cvpn-endpoint-0000000000000000e";

/// A fresh object annotated to adopt [`ADOPTED`], an endpoint created earlier for it and then
/// edited in AWS by `edit`.
fn adopting(edit: impl FnOnce(&mut crate::cloud::ObservedEndpoint)) -> Harness {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cloud
        .insert_owned(ADOPTED, status_code::PENDING_ASSOCIATE);
    h.cloud.edit_endpoint(ADOPTED, edit);
    h.cluster.annotate(ADOPT_ANNOTATION, ADOPTED);
    h
}

fn acting(calls: Vec<String>) -> Vec<String> {
    calls
        .into_iter()
        .filter(|c| !c.starts_with("Describe") && c != "List")
        .collect()
}

#[tokio::test]
async fn a_spec_change_modifies_only_the_changed_fields_in_one_call() {
    let h = settled().await;
    h.cluster.edit_spec(|s| s.description = Some("new".into()));
    h.reconcile().await.expect("update");
    assert_eq!(acting(h.cloud.take_calls()), ["Modify[description]"]);
    assert_eq!(h.cluster.take_reasons(), ["Updating"]);
    h.reconcile().await.expect("settle");
    assert!(
        acting(h.cloud.take_calls()).is_empty(),
        "nothing left to change"
    );
}

#[tokio::test]
async fn a_change_that_drops_connections_is_announced_first() {
    let h = settled().await;
    h.cluster.edit_spec(|s| {
        s.dns_servers = vec!["10.0.0.2".into()];
        s.session_timeout_hours = Some(8);
    });
    h.reconcile().await.expect("update");
    assert_eq!(
        acting(h.cloud.take_calls()),
        ["Modify[dnsServers,sessionTimeoutHours]"]
    );
    let notices = h.cluster.take_notices();
    assert_eq!(notices[0].reason, "DisruptiveChange");
    assert!(notices[0].warning && notices[0].note.contains("dnsServers, sessionTimeoutHours"));
}

#[tokio::test(start_paused = true)]
async fn drift_made_in_aws_is_corrected_and_reported() {
    let h = settled().await;
    let id = id_of(&h);
    h.cloud
        .edit_endpoint(&id, |e| e.settings.description = "changed by hand".into());
    next_resync().await;
    h.reconcile().await.expect("correct");
    assert_eq!(acting(h.cloud.take_calls()), ["Modify[description]"]);
    assert_eq!(h.cluster.take_reasons(), ["DriftCorrected"]);
    let reconciling = h.condition(condition::RECONCILING).expect("Reconciling");
    assert_eq!(reconciling.1, "DriftCorrected");
}

#[tokio::test]
async fn only_tags_the_operator_applied_are_removed() {
    let h = settled().await;
    let id = id_of(&h);
    h.cloud.edit_endpoint(&id, |e| {
        e.tags.insert("added-in-aws".into(), "keep".into());
    });
    h.cluster.edit_spec(|s| {
        s.tags.remove("team");
        s.tags.insert("cost-center".into(), "42".into());
    });
    h.reconcile().await.expect("tags");
    assert_eq!(acting(h.cloud.take_calls()), ["CreateTags", "DeleteTags"]);
    let tags = h.cloud.endpoints()[0].tags.clone();
    assert_eq!(tags.get("cost-center").map(String::as_str), Some("42"));
    assert!(
        !tags.contains_key("team"),
        "the operator's old tag is removed"
    );
    assert!(
        tags.contains_key("added-in-aws"),
        "someone else's tag stays"
    );
    assert!(tags.contains_key(tags::UID), "ownership tags stay");
}

#[tokio::test]
async fn networks_rules_and_routes_are_created_in_order_and_ready_follows() {
    let h = settled().await;
    h.cluster.edit_spec(with_network);
    h.reconcile().await.expect("associate");
    assert_eq!(
        acting(h.cloud.take_calls()),
        ["Associate"],
        "rules and routes wait for the association"
    );
    assert_eq!(
        h.condition(condition::READY).map(|c| c.0),
        Some("False".into())
    );

    h.reconcile().await.expect("waiting");
    assert!(
        acting(h.cloud.take_calls()).is_empty(),
        "no duplicate associate while associating"
    );
    assert_eq!(
        h.condition(condition::RECONCILING).map(|c| c.1),
        Some("WaitingForAws".into())
    );

    h.cloud.finish_transitions();
    h.reconcile().await.expect("children");
    assert_eq!(acting(h.cloud.take_calls()), ["Authorize", "CreateRoute"]);
    h.cloud.finish_transitions();
    h.reconcile().await.expect("ready");
    let ready = h.condition(condition::READY).expect("Ready");
    assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "Available"));
    let status = h.status();
    assert_eq!(status.target_networks[0].subnet_id, SUBNET_A);
    assert_eq!(status.target_networks[0].status, "associated");
    assert_eq!(status.authorization_rules[0].status, "active");
    assert_eq!(status.routes[0].status, "active");
}

#[tokio::test]
async fn removed_children_go_routes_then_rules_then_networks() {
    let h = settled_with_children().await;
    h.cluster.edit_spec(|s| {
        s.target_networks = vec![TargetNetworkSpec {
            subnet_id: SUBNET_B.into(),
        }];
        s.authorization_rules.clear();
        s.routes.clear();
    });
    h.reconcile().await.expect("routes first");
    assert_eq!(acting(h.cloud.take_calls()), ["DeleteRoute", "Associate"]);
    h.cloud.finish_transitions();
    h.reconcile().await.expect("rules next");
    assert_eq!(acting(h.cloud.take_calls()), ["Revoke"]);
    h.cloud.finish_transitions();
    h.reconcile().await.expect("network last");
    assert_eq!(acting(h.cloud.take_calls()), ["Disassociate"]);
    h.cloud.finish_transitions();
    let subnets: Vec<String> = h
        .cloud
        .children(&id_of(&h))
        .networks
        .iter()
        .map(|n| n.subnet_id.clone())
        .collect();
    assert_eq!(subnets, [SUBNET_B]);
}

#[tokio::test]
async fn delete_tears_down_in_order_and_waits_for_aws() {
    let h = settled_with_children().await;
    h.cluster.delete();
    let mut order = Vec::new();
    for _ in 0..6 {
        if h.cluster.object().is_none() {
            break;
        }
        h.reconcile().await.expect("teardown");
        order.extend(acting(h.cloud.take_calls()));
        h.cloud.finish_transitions();
        h.cloud.finish_deletions();
    }
    assert_eq!(order, ["DeleteRoute", "Revoke", "Disassociate", "Delete"]);
    assert!(
        h.cluster.object().is_none(),
        "finalizer removed once AWS reports deleted"
    );
}

#[tokio::test]
async fn adoption_by_annotation_tags_the_endpoint_and_never_creates() {
    let h = adopting(|e| {
        e.tags.clear();
        e.settings.description = "old".into();
    });
    h.reconcile().await.expect("adopt");
    let calls = acting(h.cloud.take_calls());
    assert!(!calls.iter().any(|c| c == "Create"), "{calls:?}");
    assert_eq!(calls, ["Modify[description]", "CreateTags"]);
    assert_eq!(id_of(&h), ADOPTED);
    assert_eq!(
        h.cloud.endpoints()[0]
            .tags
            .get(tags::UID)
            .map(String::as_str),
        Some(UID)
    );
    assert!(h.cluster.take_reasons().contains(&"Adopted".to_string()));
}

#[tokio::test]
async fn adoption_is_refused_when_fixed_fields_differ_or_another_object_owns_it() {
    let h = adopting(|e| {
        e.tags.clear();
        e.fixed.client_cidr_block = Some("10.200.0.0/22".into());
        e.fixed.transport_protocol = "tcp".into();
    });
    h.reconcile().await.expect("refuse");
    let stalled = h.condition(condition::STALLED).expect("Stalled");
    assert_eq!(stalled.1, "ImmutableFieldMismatch");
    assert!(
        stalled.2.contains("clientCidrBlock, transportProtocol"),
        "{}",
        stalled.2
    );
    assert!(
        acting(h.cloud.take_calls()).is_empty(),
        "nothing changed in AWS"
    );

    let other = adopting(|e| {
        e.tags.insert(tags::UID.into(), "another-uid".into());
    });
    other.reconcile().await.expect("refuse");
    assert_eq!(
        other.condition(condition::STALLED).map(|c| c.1),
        Some("OwnedByAnotherObject".into())
    );
}

#[tokio::test]
async fn client_configuration_is_exported_and_refreshed_when_the_port_changes() {
    let h = settled().await;
    h.cluster.edit_spec(|s| {
        s.client_configuration = Some(ClientConfigurationSpec {
            config_map_name: "vpn-client".into(),
        })
    });
    h.reconcile().await.expect("export");
    let (text, first) = h
        .cluster
        .config_map("vpn-client")
        .expect("ConfigMap written");
    assert!(text.contains(" 443"), "{text}");
    assert!(h.cloud.take_calls().contains(&"Export".to_string()));
    h.reconcile().await.expect("again");
    assert!(
        !h.cloud.take_calls().contains(&"Export".to_string()),
        "not exported again without a change"
    );

    h.cluster.edit_spec(|s| s.vpn_port = Some(1194));
    h.reconcile().await.expect("modify");
    h.reconcile().await.expect("refresh");
    let (text, second) = h.cluster.config_map("vpn-client").expect("ConfigMap");
    assert!(text.contains(" 1194"), "{text}");
    assert_ne!(first, second);
}
