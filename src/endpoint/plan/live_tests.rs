//! Table tests of planning for a live endpoint: children in order, and the health that follows.

use super::super::desired::desired;
use super::super::model::{Children, Desired, Observation};
use super::super::test_support::{
    aws_children, aws_endpoint, names, network, route, rule, spec_children,
};
use super::*;
use crate::api::ClientVpnEndpoint;

pub const A: &str = "subnet-0000000000000000a";
pub const B: &str = "subnet-0000000000000000b";

/// Wanted: subnet A, rule 10.0.0.0/16 for all, route 0.0.0.0/0 via A.
fn wanted(with_children: bool) -> Desired {
    let mut spec = ClientVpnEndpoint::test().spec;
    if with_children {
        spec_children(&mut spec, A, None);
    }
    let mut obj = ClientVpnEndpoint::test();
    obj.spec = spec;
    obj.metadata.generation = Some(3);
    let mut wanted = desired(&obj, "uid", "test-cluster");
    wanted.wanted_tags = Default::default();
    wanted
}

fn endpoint(code: &str) -> ObservedEndpoint {
    aws_endpoint("cvpn-endpoint-1", code, Default::default())
}

#[test]
fn children_table() {
    // (name, spec lists children, endpoint status, AWS children, steps, health reason)
    type Row<'a> = (&'a str, bool, &'a str, Children, &'a [&'a str], &'a str);
    let rows: Vec<Row> = vec![
        (
            "nothing yet: associate first, rules and routes wait",
            true,
            "pending-associate",
            Children::default(),
            &["associate subnet-0000000000000000a"],
            "Updating",
        ),
        (
            "associating: wait, no second associate",
            true,
            "pending-associate",
            aws_children(vec![network(A, "associating")], vec![], vec![]),
            &[],
            "WaitingForAws",
        ),
        (
            "associated: authorize and add the route",
            true,
            "available",
            aws_children(vec![network(A, "associated")], vec![], vec![]),
            &["authorize 10.0.0.0/16", "route+ 0.0.0.0/0"],
            "Updating",
        ),
        (
            "everything active: ready",
            true,
            "available",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![
                    route("10.1.0.0/16", A, "associate", "active"),
                    route("0.0.0.0/0", A, "add-route", "active"),
                ],
            ),
            &[],
            "Available",
        ),
        (
            "associate routes are never touched",
            false,
            "available",
            aws_children(
                vec![network(A, "associated")],
                vec![],
                vec![route("10.1.0.0/16", A, "associate", "active")],
            ),
            &["disassociate cvpn-assoc-subnet-0000000000000000a"],
            "Updating",
        ),
        (
            "removed from spec: routes first",
            false,
            "available",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![route("0.0.0.0/0", A, "add-route", "active")],
            ),
            &["route- 0.0.0.0/0"],
            "Updating",
        ),
        (
            "route deleting: rules wait",
            false,
            "available",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![route("0.0.0.0/0", A, "add-route", "deleting")],
            ),
            &[],
            "WaitingForAws",
        ),
        (
            "routes gone: revoke rules",
            false,
            "available",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![],
            ),
            &["revoke 10.0.0.0/16"],
            "Updating",
        ),
        (
            "another subnet wanted: associate it, keep A until replaced",
            true,
            "available",
            aws_children(
                vec![network(B, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![],
            ),
            &[
                "disassociate cvpn-assoc-subnet-0000000000000000b",
                "associate subnet-0000000000000000a",
            ],
            "Updating",
        ),
        (
            "failed association: stalled with AWS's message",
            true,
            "pending-associate",
            aws_children(vec![network(A, "association-failed")], vec![], vec![]),
            &[],
            "ChildFailed",
        ),
    ];
    for (name, with_children, code, children, want, reason) in rows {
        let observed = Observation {
            children,
            ..Default::default()
        };
        let LivePlan { steps, health, .. } =
            plan_live(&wanted(with_children), &observed, &endpoint(code));
        assert_eq!(names(&steps), want, "{name}");
        let got = match &health {
            Health::Ready { reason, .. }
            | Health::NotReady { reason, .. }
            | Health::Reconciling { reason, .. } => reason.to_string(),
            Health::Stalled { reason, .. } => reason.clone(),
        };
        assert_eq!(got, reason, "{name}");
    }
}

#[test]
fn children_over_the_operations_limit_are_reported_as_deferred() {
    let mut wanted = wanted(true);
    wanted.operations_limit = 1;
    let observed = Observation {
        children: aws_children(vec![network(A, "associated")], vec![], vec![]),
        ..Default::default()
    };
    // The rule and the route both want to start; one operation may be in progress.
    let live = plan_live(&wanted, &observed, &endpoint("available"));
    assert_eq!(names(&live.steps).len(), 1);
    assert_eq!(live.deferred, 1);

    wanted.operations_limit = 8;
    let live = plan_live(&wanted, &observed, &endpoint("available"));
    assert_eq!(names(&live.steps).len(), 2);
    assert_eq!(live.deferred, 0);
}
