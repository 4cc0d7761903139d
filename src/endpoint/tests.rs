//! Controller-level tests: the real reconcile with an in-memory AWS and Kubernetes API.

use std::time::Duration;

use kube::runtime::controller::Action;

use super::fixtures::*;
use super::{Error, error_policy};
use crate::api::{ClientVpnEndpoint, FINALIZER, condition, tags};
use crate::cloud::{ClientVpnApi, ErrorKind, status_code};

/// The calls that observe a live endpoint: the endpoint and its three kinds of children.
const OBSERVE: [&str; 4] = [
    "Describe",
    "DescribeNetworks",
    "DescribeRules",
    "DescribeRoutes",
];

/// Let one resync interval pass (tests with paused time): region listings become old.
async fn next_resync() {
    tokio::time::advance(Duration::from_secs(300)).await;
}

fn id_of(h: &Harness) -> String {
    h.status()
        .client_vpn_endpoint_id
        .expect("endpoint ID in status")
}

#[tokio::test]
async fn a_new_object_gets_a_finalizer_before_anything_in_aws() {
    let h = Harness::new(ClientVpnEndpoint::test());
    h.cluster.fail_finalizer_patches(1);
    assert!(matches!(h.reconcile().await, Err(Error::AddFinalizer(_))));
    assert!(h.cloud.take_calls().is_empty(), "no finalizer, no AWS call");

    // A restarted operator has no backoff gate: it retries at once.
    let h = h.restarted();
    h.reconcile().await.expect("ok");
    assert_eq!(
        h.cluster.object().expect("exists").metadata.finalizers,
        Some(vec![FINALIZER.to_string()])
    );
    assert_eq!(
        h.cloud.take_calls(),
        ["List", "Create"],
        "the same run goes on to create"
    );
}

#[tokio::test]
async fn create_writes_id_dns_and_status_code_then_describe_refreshes() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    assert_eq!(
        h.cloud.take_calls(),
        ["List", "Create"],
        "not in the region listing: create"
    );
    let status = h.status();
    let id = id_of(&h);
    assert_eq!(
        status.dns_name,
        Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com"))
    );
    assert_eq!(
        status.status.and_then(|s| s.code).as_deref(),
        Some("pending-associate")
    );
    assert_eq!(status.region.as_deref(), Some("us-east-1"));
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(
        h.condition(condition::RECONCILING).map(|c| c.0),
        Some("True".into())
    );
    assert_eq!(h.cluster.take_reasons(), ["Created"]);

    let tags = &h.cloud.endpoints()[0].tags;
    assert_eq!(tags.get(tags::UID).map(String::as_str), Some(UID));
    assert_eq!(tags.get(tags::NAMESPACE).map(String::as_str), Some("vpn"));
    assert_eq!(tags.get(tags::NAME).map(String::as_str), Some("office"));
    assert_eq!(
        tags.get(tags::CLUSTER).map(String::as_str),
        Some("test-cluster")
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("net"));

    let action = h.reconcile().await.expect("refresh");
    assert_eq!(
        h.cloud.take_calls(),
        ["Describe"],
        "a known ID is described, never re-created; a new endpoint has no children to describe"
    );
    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(300)),
        "steady state waits for the resync"
    );
    assert_eq!(
        h.status().creation_time.as_deref(),
        Some("2026-11-27T00:00:00")
    );
    let ready = h.condition(condition::READY).expect("Ready");
    assert_eq!(
        (ready.0.as_str(), ready.1.as_str()),
        ("False", "PendingAssociate")
    );
    assert_eq!(
        h.condition(condition::RECONCILING),
        None,
        "nothing left for the operator to do"
    );

    h.reconcile().await.expect("again");
    assert!(
        h.cloud.take_calls().is_empty(),
        "settled, and the last look is newer than the region listing: nothing to ask AWS"
    );
    assert!(
        h.cluster.take_reasons().is_empty(),
        "no event when nothing changed"
    );
}

#[tokio::test]
async fn lost_status_write_is_recovered_by_tag_without_a_second_create() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cluster.fail_status_patches(1);
    let err = h
        .reconcile()
        .await
        .expect_err("status write fails after create");
    assert!(matches!(err, Error::PatchStatus(_)));
    assert_eq!(h.cloud.take_calls(), ["List", "Create"]);
    assert_eq!(
        h.status().client_vpn_endpoint_id,
        None,
        "the ID never reached status"
    );

    // The gate holds the immediate retry; a restarted operator has no gate.
    let restarted = h.restarted();
    restarted.reconcile().await.expect("adopt");
    assert_eq!(
        restarted.cloud.take_calls(),
        [&["List"], &OBSERVE[1..]].concat(),
        "found by tag: no create"
    );
    assert_eq!(h.cloud.endpoints().len(), 1, "exactly one endpoint in AWS");
    assert_eq!(id_of(&restarted), h.cloud.endpoints()[0].id);
    assert!(
        restarted
            .cluster
            .take_reasons()
            .contains(&"Adopted".to_string())
    );
}

#[tokio::test]
async fn repeated_create_with_the_same_token_returns_the_same_endpoint() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cloud
        .fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded", 503);
    assert!(h.reconcile().await.is_err(), "lookup failed");
    assert_eq!(
        h.cloud.take_calls(),
        ["List"],
        "a failed lookup never leads to a create"
    );
}

#[tokio::test]
async fn retain_drops_the_finalizer_and_leaves_aws_alone() {
    let h = Harness::new(
        ClientVpnEndpoint::test()
            .finalized()
            .retained()
            .with_endpoint("cvpn-endpoint-00000000000000001"),
    );
    h.cluster.delete();
    h.reconcile().await.expect("release");
    assert!(h.cloud.take_calls().is_empty());
    assert!(
        h.cluster.object().is_none(),
        "object gone once the finalizer is removed"
    );
    assert_eq!(h.cluster.take_reasons(), ["Retained"]);
}

#[tokio::test]
async fn delete_keeps_the_finalizer_until_aws_says_deleted() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("observe");
    h.cloud.take_calls();
    h.cluster.take_reasons();
    h.cluster.delete();

    h.reconcile().await.expect("delete");
    assert_eq!(
        h.cloud.take_calls(),
        [&OBSERVE[..], &["Delete"]].concat(),
        "no children: the endpoint is deleted at once"
    );
    assert!(
        h.cluster.object().is_some(),
        "finalizer stays while AWS deletes"
    );
    assert_eq!(
        h.status().status.and_then(|s| s.code).as_deref(),
        Some("deleting")
    );

    h.reconcile().await.expect("wait");
    assert_eq!(
        h.cloud.take_calls(),
        ["Describe"],
        "no second Delete while deleting (the tag lookup reuses the region listing)"
    );
    assert!(h.cluster.object().is_some());

    h.cloud.finish_deletions();
    h.reconcile().await.expect("release");
    assert!(
        h.cluster.object().is_none(),
        "finalizer removed once AWS reports deleted"
    );
    assert_eq!(h.cluster.take_reasons(), ["Deleting", "Deleted"]);
}

#[tokio::test]
async fn terminal_error_stalls_without_retrying_until_the_spec_changes() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cloud
        .fail_next("CreateClientVpnEndpoint", "InvalidParameterValue", 400);
    let err = h.reconcile().await.expect_err("terminal");
    assert_eq!(err.kind(), ErrorKind::Terminal);
    let stalled = h.condition(condition::STALLED).expect("Stalled");
    assert_eq!(stalled.0, "True");
    assert!(
        stalled
            .2
            .contains("InvalidParameterValue: injected InvalidParameterValue"),
        "{}",
        stalled.2
    );
    assert!(stalled.2.contains("request ID req-1"));
    let notices = h.cluster.take_notices();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].warning);
    assert_eq!(notices[0].reason, "AwsTerminal");
    h.cloud.take_calls();

    let obj = std::sync::Arc::new(h.cluster.object().expect("exists"));
    assert_eq!(
        error_policy(obj, &err, h.ctx.clone()),
        Action::requeue(Duration::from_secs(1800))
    );
    for _ in 0..5 {
        h.reconcile().await.expect("gated");
    }
    assert!(
        h.cloud.take_calls().is_empty(),
        "no AWS call while stalled on the same spec"
    );

    h.cluster
        .edit_spec(|spec| spec.description = Some("fixed".into()));
    h.reconcile().await.expect("retry after spec change");
    assert_eq!(h.cloud.take_calls(), ["Create"]);
    assert_eq!(h.condition(condition::STALLED), None);
}

#[tokio::test]
async fn retryable_error_backs_off_exponentially() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cloud
        .fail_next("CreateClientVpnEndpoint", "RequestLimitExceeded", 503);
    let err = h.reconcile().await.expect_err("throttled");
    let obj = std::sync::Arc::new(h.cluster.object().expect("exists"));
    assert_eq!(
        error_policy(obj.clone(), &err, h.ctx.clone()),
        Action::requeue(Duration::from_secs(2))
    );
    assert_eq!(
        h.condition(condition::RECONCILING).map(|c| c.1),
        Some("AwsRetryable".into())
    );
    assert_eq!(
        h.condition(condition::STALLED),
        None,
        "throttling is not a stall"
    );
    h.cloud.take_calls();

    h.reconcile().await.expect("gated");
    assert!(
        h.cloud.take_calls().is_empty(),
        "the immediate retry is held back"
    );

    // A second failure of the same attempt doubles the delay.
    let attempt = crate::runtime::Attempt {
        generation: Some(1),
        deleting: false,
    };
    let second = h.ctx.runtime.backoffs.failed(
        UID,
        attempt,
        ErrorKind::Retryable,
        std::time::Instant::now(),
    );
    assert_eq!(second, Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn endpoint_deleted_out_of_band_is_recreated_with_a_new_token() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("observe");
    next_resync().await;
    h.reconcile().await.expect("in the region listing");
    let first = id_of(&h);
    h.cloud
        .delete_endpoint("us-east-1", &first)
        .await
        .expect("out-of-band delete");
    h.cloud.finish_deletions();
    h.cloud.take_calls();
    h.cluster.take_reasons();

    h.reconcile().await.expect("not listed yet");
    assert!(
        h.cloud.take_calls().is_empty(),
        "found in the next region listing, not before"
    );
    next_resync().await;
    h.reconcile().await.expect("recreate");
    assert_eq!(h.cloud.take_calls(), ["List", "Create"]);
    let second = id_of(&h);
    assert_ne!(first, second, "a new endpoint, not the deleted one");
    assert_eq!(
        h.cluster.take_reasons(),
        ["EndpointDeletedOutOfBand", "Created"]
    );
}

#[tokio::test]
async fn endpoint_deleted_out_of_band_with_retain_is_reported_not_recreated() {
    let h = Harness::new(
        ClientVpnEndpoint::test()
            .finalized()
            .retained()
            .with_endpoint("cvpn-endpoint-00000000000000009"),
    );
    h.reconcile().await.expect("report");
    assert_eq!(h.cloud.take_calls(), ["Describe", "List"]);
    let stalled = h.condition(condition::STALLED).expect("Stalled");
    assert_eq!(stalled.1, "EndpointDeletedOutOfBand");
    assert_eq!(h.cluster.take_reasons(), ["EndpointDeletedOutOfBand"]);
}

#[tokio::test]
async fn an_available_endpoint_is_ready() {
    let h = Harness::new(
        ClientVpnEndpoint::test()
            .finalized()
            .with_endpoint("cvpn-endpoint-00000000000000001"),
    );
    h.cloud
        .insert_owned("cvpn-endpoint-00000000000000001", status_code::AVAILABLE);
    h.reconcile().await.expect("observe");
    let ready = h.condition(condition::READY).expect("Ready");
    assert_eq!((ready.0.as_str(), ready.1.as_str()), ("True", "Available"));
}

mod lifecycle {
    use super::*;
    use crate::api::{
        ADOPT_ANNOTATION, AuthorizationRuleSpec, ClientConfigurationSpec, RouteSpec,
        TargetNetworkSpec,
    };

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

    fn with_network(spec: &mut crate::api::ClientVpnEndpointSpec) {
        spec.target_networks = vec![TargetNetworkSpec {
            subnet_id: SUBNET_A.into(),
        }];
        spec.authorization_rules = vec![AuthorizationRuleSpec {
            target_network_cidr: "10.0.0.0/16".into(),
            access_group_id: None,
            authorize_all_groups: Some(true),
            description: Some("everyone".into()),
        }];
        spec.routes = vec![RouteSpec {
            destination_cidr_block: "0.0.0.0/0".into(),
            target_vpc_subnet_id: SUBNET_A.into(),
            description: None,
        }];
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
        let h = settled().await;
        h.cluster.edit_spec(with_network);
        for _ in 0..3 {
            h.reconcile().await.expect("build up");
            h.cloud.finish_transitions();
        }
        h.cloud.take_calls();
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
        let h = settled().await;
        h.cluster.edit_spec(with_network);
        for _ in 0..3 {
            h.reconcile().await.expect("build up");
            h.cloud.finish_transitions();
        }
        h.cloud.take_calls();
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
        let h = Harness::new(ClientVpnEndpoint::test().finalized());
        let id = "cvpn-endpoint-0000000000000000e";
        h.cloud.insert_owned(id, status_code::PENDING_ASSOCIATE);
        h.cloud.edit_endpoint(id, |e| {
            e.tags.clear();
            e.settings.description = "old".into();
        });
        h.cluster.annotate(ADOPT_ANNOTATION, id);
        h.reconcile().await.expect("adopt");
        let calls = acting(h.cloud.take_calls());
        assert!(!calls.iter().any(|c| c == "Create"), "{calls:?}");
        assert_eq!(calls, ["Modify[description]", "CreateTags"]);
        assert_eq!(id_of(&h), id);
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
        let h = Harness::new(ClientVpnEndpoint::test().finalized());
        let id = "cvpn-endpoint-0000000000000000e";
        h.cloud.insert_owned(id, status_code::PENDING_ASSOCIATE);
        h.cloud.edit_endpoint(id, |e| {
            e.tags.clear();
            e.fixed.client_cidr_block = Some("10.200.0.0/22".into());
            e.fixed.transport_protocol = "tcp".into();
        });
        h.cluster.annotate(ADOPT_ANNOTATION, id);
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

        let other = Harness::new(ClientVpnEndpoint::test().finalized());
        other.cloud.insert_owned(id, status_code::PENDING_ASSOCIATE);
        other.cloud.edit_endpoint(id, |e| {
            e.tags.insert(tags::UID.into(), "another-uid".into());
        });
        other.cluster.annotate(ADOPT_ANNOTATION, id);
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
}

/// Create the fixture object's endpoint and reconcile until it is settled.
async fn settled_harness() -> Harness {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("settle");
    assert_eq!(h.condition(condition::RECONCILING), None, "settled");
    h.cloud.take_calls();
    h.cluster.take_reasons();
    h
}

#[tokio::test(start_paused = true)]
async fn a_settled_object_reads_the_shared_region_listing_and_costs_no_calls_of_its_own() {
    let h = settled_harness().await;
    next_resync().await;
    h.reconcile().await.expect("resync");
    assert_eq!(
        h.cloud.take_calls(),
        ["List"],
        "the region listing is renewed once it is a resync interval old"
    );
    for _ in 0..3 {
        h.reconcile().await.expect("resync");
    }
    assert!(
        h.cloud.take_calls().is_empty(),
        "the endpoint is in the current listing and unchanged: nothing to describe"
    );
    assert!(h.cluster.take_reasons().is_empty());
}

#[tokio::test(start_paused = true)]
async fn drift_is_found_in_the_next_listing_and_then_the_endpoint_is_described_until_settled() {
    let h = settled_harness().await;
    let id = id_of(&h);
    next_resync().await;
    h.reconcile().await.expect("listed");
    h.cloud.take_calls();

    h.cloud
        .edit_endpoint(&id, |e| e.settings.description = "changed by hand".into());
    h.reconcile().await.expect("listing still current");
    assert!(h.cloud.take_calls().is_empty());

    next_resync().await;
    h.reconcile().await.expect("correct drift");
    assert_eq!(
        h.cloud.take_calls(),
        [&["List"], &OBSERVE[1..], &["Modify[description]"]].concat(),
        "a changed endpoint has its children described too"
    );
    assert!(
        h.cluster
            .take_reasons()
            .contains(&"DriftCorrected".to_string())
    );
    h.reconcile().await.expect("confirm");
    assert_eq!(
        h.cloud.take_calls(),
        OBSERVE,
        "right after a change the endpoint is described directly"
    );
    h.reconcile().await.expect("settled again");
    assert!(
        h.cloud.take_calls().is_empty(),
        "the listing predates the correction: not trusted (no second Modify), nothing asked"
    );
    next_resync().await;
    h.reconcile().await.expect("listed again");
    assert_eq!(h.cloud.take_calls(), ["List"]);
    h.reconcile().await.expect("steady");
    assert!(h.cloud.take_calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn children_of_an_unchanged_endpoint_are_audited_at_the_children_resync_interval() {
    let h = settled_harness().await;
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    h.reconcile().await.expect("audit");
    assert_eq!(h.cloud.take_calls(), [&["List"], &OBSERVE[1..]].concat());
    h.reconcile().await.expect("steady");
    assert!(h.cloud.take_calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_spec_change_describes_the_endpoint_and_its_children() {
    let h = settled_harness().await;
    h.cluster
        .edit_spec(|spec| spec.description = Some("new".into()));
    h.reconcile().await.expect("apply change");
    assert_eq!(
        h.cloud.take_calls(),
        [&OBSERVE[..], &["Modify[description]"]].concat()
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_operator_reads_settled_endpoints_from_the_listing_and_describes_their_children_once()
 {
    let h = settled_harness().await;
    let restarted = h.restarted();
    restarted.reconcile().await.expect("first look");
    assert_eq!(
        restarted.cloud.take_calls(),
        [&["List"], &OBSERVE[1..]].concat(),
        "nothing remembered: the endpoint from the region listing, its children described"
    );
    restarted.reconcile().await.expect("steady");
    assert!(restarted.cloud.take_calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_missing_from_the_listing_is_described_before_anything_is_decided() {
    let h = settled_harness().await;
    next_resync().await;
    h.reconcile().await.expect("listed");
    h.cloud.take_calls();
    let id = id_of(&h);
    h.cloud.remove_endpoint(&id);
    next_resync().await;
    h.reconcile().await.expect("missing");
    assert_eq!(
        h.cloud.take_calls(),
        ["List", "Describe", "Create"],
        "absent from the listing: described on its own (not found), then recreated"
    );
    assert!(
        h.cluster
            .take_reasons()
            .contains(&"EndpointDeletedOutOfBand".to_string())
    );
}
