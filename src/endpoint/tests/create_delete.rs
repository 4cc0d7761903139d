//! Create, adoption of a lost status, deletion and Retain, errors and backoff.

use super::*;

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
    assert_eq!(
        h.acm.calls(),
        Vec::<&str>::new(),
        "certificates named by ARN: ACM is never called, not even at deletion"
    );
}

#[tokio::test]
async fn a_delete_seen_on_a_copy_from_before_the_status_write_still_deletes_the_endpoint() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    let before_create = h.cluster.object().expect("exists");
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("observe");
    let id = id_of(&h);
    h.cloud.take_calls();
    h.cluster.delete();

    // The watch delivered the deletion, but not yet the status write with the endpoint ID.
    h.reconcile_copy(before_create.needs_delete())
        .await
        .expect("delete");
    assert_eq!(
        h.cloud.take_calls(),
        [&OBSERVE[..], &["Delete"]].concat(),
        "the endpoint this process created is deleted, not forgotten"
    );
    assert!(
        h.cluster.object().is_some(),
        "finalizer stays while AWS deletes {id}"
    );
}

#[tokio::test]
async fn a_delete_after_a_create_whose_answer_was_lost_lists_the_region_again() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.cloud
        .fail_next("CreateClientVpnEndpoint", "RequestTimeout", 503);
    h.reconcile().await.expect_err("no answer to the create");
    // AWS created the endpoint all the same, after the region listing was taken.
    h.cloud.insert_owned(
        "cvpn-endpoint-0000000000000000a",
        status_code::PENDING_ASSOCIATE,
    );
    h.cloud.take_calls();
    h.cluster.delete();

    h.reconcile().await.expect("delete");
    assert_eq!(
        h.cloud.take_calls(),
        [&["List"], &OBSERVE[1..], &["Delete"]].concat(),
        "no ID known: a new listing finds the endpoint by its UID tag"
    );
    assert!(
        h.cluster.object().is_some(),
        "finalizer stays while AWS deletes"
    );
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_gone_from_aws_but_in_an_older_listing_does_not_hold_the_finalizer() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.reconcile().await.expect("observe");
    next_resync().await;
    h.reconcile().await.expect("in the region listing");
    let id = id_of(&h);
    h.cluster.delete();
    h.reconcile().await.expect("delete");
    h.cloud.finish_deletions();
    h.cloud.remove_endpoint(&id);
    h.reconcile().await.expect("release");
    assert!(
        h.cluster.object().is_none(),
        "AWS says the endpoint is gone; the listing from before its deletion is not newer"
    );
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
        tokio::time::Instant::now(),
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

/// The Warning notices published since the last look, as `reason: note`.
fn warning_notes(h: &Harness) -> Vec<String> {
    let notices = h.cluster.take_notices().into_iter();
    let warnings = notices.filter(|n| n.warning);
    warnings
        .map(|n| format!("{}: {}", n.reason, n.note))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn retryable_failures_warn_only_after_three_stuck_passes_and_in_one_series() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    let mut warnings = Vec::new();
    for _ in 0..4 {
        h.cloud
            .fail_next("CreateClientVpnEndpoint", "RequestLimitExceeded", 503);
        h.reconcile().await.expect_err("throttled");
        warnings.push(warning_notes(&h));
        tokio::time::advance(Duration::from_secs(600)).await;
    }
    assert!(
        warnings[0].is_empty() && warnings[1].is_empty(),
        "the condition alone shows the first failures: {warnings:?}"
    );
    assert_eq!(warnings[2].len(), 1, "{warnings:?}");
    assert!(
        warnings[2][0].starts_with("RetryingAfterErrors: AWS keeps failing with retryable errors"),
        "{warnings:?}"
    );
    assert_eq!(warnings[3], warnings[2], "the same note again: one series");
    let (_, reason, message) = h.condition(condition::RECONCILING).expect("condition");
    assert_eq!(reason, "AwsRetryable");
    assert!(message.contains("RequestLimitExceeded"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_pass_that_changed_aws_before_failing_waits_only_the_first_backoff_step() {
    let h = Harness::new(ClientVpnEndpoint::test().finalized());
    h.reconcile().await.expect("create");
    h.cloud.finish_transitions();
    h.reconcile().await.expect("settle");
    h.cluster.edit_spec(|spec| {
        spec.description = Some("changed".into());
        spec.tags.insert("team".into(), "vpn".into());
    });
    let acting = |calls: Vec<String>| -> Vec<String> {
        let names = calls
            .into_iter()
            .map(|c| c.split('[').next().unwrap_or_default().to_string());
        names
            .filter(|c| c == "Modify" || c == "CreateTags")
            .collect()
    };
    // Stuck: the first change fails, nothing changed.
    h.cloud
        .fail_next("ModifyClientVpnEndpoint", "InternalError", 500);
    h.reconcile().await.expect_err("server error");
    assert_eq!(acting(h.cloud.take_calls()), ["Modify"]);
    tokio::time::advance(Duration::from_secs(600)).await;
    // Progress: the description changes, the tags fail.
    h.cloud.fail_next("CreateTags", "InternalError", 500);
    let err = h
        .reconcile()
        .await
        .expect_err("server error after progress");
    assert_eq!(acting(h.cloud.take_calls()), ["Modify", "CreateTags"]);
    let obj = std::sync::Arc::new(h.cluster.object().expect("exists"));
    assert_eq!(
        error_policy(obj, &err, h.ctx.clone()),
        Action::requeue(Duration::from_secs(2)),
        "the first backoff step again, not the doubled 4 s of a second stuck pass"
    );
}
