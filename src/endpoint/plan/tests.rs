//! Table tests of `plan`: which endpoint to use, create, adopt, stall or delete.

use super::test_support::aws_endpoint;
use super::*;
use crate::api::ClientVpnEndpoint;

const UID: &str = "0b7e6c3e-1f0a-4c55-9d7e-2a4f3b1c9d00";
const CLUSTER: &str = "test-cluster";

/// An endpoint as AWS reports the fixture object's, owned by it.
fn endpoint(id: &str, code: &str) -> ObservedEndpoint {
    aws_endpoint(id, code, desired(false, DeletionPolicy::Delete).wanted_tags)
}

fn desired(deleting: bool, policy: DeletionPolicy) -> Desired {
    let mut obj = ClientVpnEndpoint::test();
    obj.spec.deletion_policy = policy;
    let mut wanted = super::desired(&obj, UID, CLUSTER);
    wanted.deleting = deleting;
    wanted
}

/// The create step for the fixture object with this token.
fn create_step(client_token: &str) -> Step {
    let wanted = desired(false, DeletionPolicy::Delete);
    Step::Create(Box::new(
        wanted
            .endpoint
            .create_request(client_token.into(), wanted.wanted_tags.clone()),
    ))
}

/// Create the fixture object's endpoint with this token (a recreate names the endpoint it replaces).
fn create_plan(client_token: &str, recreate_of: Option<String>) -> Plan {
    Plan {
        steps: vec![create_step(client_token)],
        outcome: Outcome::Creating { recreate_of },
    }
}

/// Report an existing endpoint (found by its recorded ID, or adopted), with the health its code implies.
fn observe_plan(endpoint: ObservedEndpoint, adopted: bool) -> Plan {
    let health = Health::of_code(&endpoint.status_code);
    Plan::report(Outcome::Observed {
        endpoint: Box::new(endpoint),
        adopted,
        health,
        deferred: 0,
    })
}

/// Delete the endpoint and keep the finalizer.
fn delete_plan(endpoint_id: String) -> Plan {
    Plan {
        steps: vec![Step::Delete {
            endpoint_id: endpoint_id.clone(),
        }],
        outcome: Outcome::Deleting {
            endpoint_ids: vec![endpoint_id],
        },
    }
}

fn observed(
    recorded: Option<&str>,
    seen: bool,
    by_id: Option<ObservedEndpoint>,
    by_tag: Vec<ObservedEndpoint>,
) -> Observation {
    Observation {
        recorded_id: recorded.map(str::to_string),
        recorded_was_seen: seen,
        by_id,
        by_tag,
        ..Default::default()
    }
}

#[test]
fn apply_table() {
    use DeletionPolicy::*;
    let a = || endpoint("cvpn-endpoint-0000000000000000a", "pending-associate");
    let b = || endpoint("cvpn-endpoint-0000000000000000b", "available");
    let gone = || endpoint("cvpn-endpoint-0000000000000000a", "deleted");
    let rows: Vec<(&str, DeletionPolicy, Observation, Plan)> = vec![
        (
            "nothing recorded, nothing tagged: create with the UID as token",
            Delete,
            observed(None, false, None, vec![]),
            create_plan(UID, None),
        ),
        (
            "recorded and live: report it, no calls",
            Delete,
            observed(Some(&a().id), true, Some(a()), vec![]),
            observe_plan(a(), false),
        ),
        (
            "status lost but tagged endpoint exists: adopt, never create",
            Delete,
            observed(None, false, None, vec![a()]),
            observe_plan(a(), true),
        ),
        (
            "tagged endpoints that are deleted are ignored",
            Delete,
            observed(None, false, None, vec![gone()]),
            create_plan(UID, None),
        ),
        (
            "two live tagged endpoints: stalled, no create",
            Delete,
            observed(None, false, None, vec![a(), b()]),
            Plan::report(Outcome::Stalled {
                reason: "DuplicateEndpoints",
                message: format!(
                    "several AWS endpoints carry this object's UID tag ({}, {}); delete all but one in AWS",
                    a().id,
                    b().id
                ),
            }),
        ),
        (
            "recorded but never seen and not found: wait, do not create",
            Delete,
            observed(Some(&a().id), false, None, vec![]),
            Plan::report(Outcome::AwaitingVisibility {
                endpoint_id: a().id,
            }),
        ),
        (
            "deleted out of band, Delete policy: recreate with a derived token",
            Delete,
            observed(Some(&a().id), true, Some(gone()), vec![gone()]),
            create_plan(&format!("{UID}-0000000000000000a"), Some(a().id)),
        ),
        (
            "vanished out of band (NotFound), Delete policy: recreate",
            Delete,
            observed(Some(&a().id), true, None, vec![]),
            create_plan(&format!("{UID}-0000000000000000a"), Some(a().id)),
        ),
        (
            "recreated endpoint found by tag after a crash: adopt it",
            Delete,
            observed(Some(&a().id), true, Some(gone()), vec![gone(), b()]),
            observe_plan(b(), true),
        ),
        (
            "deleted out of band, Retain policy: stalled, no create",
            Retain,
            observed(Some(&a().id), true, None, vec![]),
            Plan::report(Outcome::Stalled {
                reason: "EndpointDeletedOutOfBand",
                message: format!(
                    "AWS endpoint {} was deleted outside the operator; deletionPolicy is Retain, so it is not recreated (set deletionPolicy: Delete to recreate it)",
                    a().id
                ),
            }),
        ),
    ];
    for (name, policy, observation, want) in rows {
        assert_eq!(plan(&desired(false, policy), &observation), want, "{name}");
    }
}

#[test]
fn cleanup_table() {
    use DeletionPolicy::*;
    let a = || endpoint("cvpn-endpoint-0000000000000000a", "available");
    let deleting = || endpoint("cvpn-endpoint-0000000000000000a", "deleting");
    let deleted = || endpoint("cvpn-endpoint-0000000000000000a", "deleted");
    let rows: Vec<(&str, DeletionPolicy, Observation, Plan)> = vec![
        (
            "Retain: release without looking at AWS",
            Retain,
            observed(Some(&a().id), true, Some(a()), vec![]),
            Plan::report(Outcome::Released { retained: true }),
        ),
        (
            "live endpoint: delete it and keep the finalizer",
            Delete,
            observed(Some(&a().id), true, Some(a()), vec![]),
            delete_plan(a().id),
        ),
        (
            "status lost: delete the endpoint found by tag",
            Delete,
            observed(None, false, None, vec![a()]),
            delete_plan(a().id),
        ),
        (
            "AWS still deleting: wait, no second delete",
            Delete,
            observed(Some(&a().id), true, Some(deleting()), vec![deleting()]),
            Plan::report(Outcome::Deleting {
                endpoint_ids: vec![a().id],
            }),
        ),
        (
            "AWS says deleted: release",
            Delete,
            observed(Some(&a().id), true, Some(deleted()), vec![deleted()]),
            Plan::report(Outcome::Released { retained: false }),
        ),
        (
            "AWS says not found and nothing tagged: release",
            Delete,
            observed(Some(&a().id), true, None, vec![]),
            Plan::report(Outcome::Released { retained: false }),
        ),
        (
            "never created: release",
            Delete,
            observed(None, false, None, vec![]),
            Plan::report(Outcome::Released { retained: false }),
        ),
    ];
    for (name, policy, observation, want) in rows {
        assert_eq!(plan(&desired(true, policy), &observation), want, "{name}");
    }
}

#[test]
fn recreate_token_is_deterministic_and_bounded() {
    let token = recreate_token(UID, "cvpn-endpoint-0123456789abcdef0");
    assert_eq!(token, format!("{UID}-0123456789abcdef0"));
    assert!(token.len() <= 64);
    assert_eq!(recreate_token(&"u".repeat(80), "cvpn-endpoint-1").len(), 64);
}
