//! The shared region listing: settled objects cost no calls of their own; drift and restarts.

use super::*;

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
