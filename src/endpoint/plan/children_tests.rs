//! Table tests of the ordered children reconciler: teardown order, pacing and tokens.

use super::super::test_support::{aws_children, names, network, route, rule};
use super::*;
use crate::cloud::AuthorizationRule;

const A: &str = "subnet-0000000000000000a";
const E1: &str = "cvpn-endpoint-1";

#[test]
fn teardown_table() {
    let rows: Vec<(&str, Children, &[&str], bool)> = vec![
        (
            "routes first",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![
                    route("0.0.0.0/0", A, "add-route", "active"),
                    route("10.1.0.0/16", A, "associate", "active"),
                ],
            ),
            &["route- 0.0.0.0/0"],
            true,
        ),
        (
            "then rules",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "active")],
                vec![route("10.1.0.0/16", A, "associate", "active")],
            ),
            &["revoke 10.0.0.0/16"],
            true,
        ),
        (
            "revoking: wait",
            aws_children(
                vec![network(A, "associated")],
                vec![rule("10.0.0.0/16", "revoking")],
                vec![],
            ),
            &[],
            true,
        ),
        (
            "then associations",
            aws_children(vec![network(A, "associated")], vec![], vec![]),
            &["disassociate cvpn-assoc-subnet-0000000000000000a"],
            true,
        ),
        (
            "disassociating: wait",
            aws_children(vec![network(A, "disassociating")], vec![], vec![]),
            &[],
            true,
        ),
        (
            "nothing left: the endpoint may go",
            aws_children(vec![network(A, "disassociated")], vec![], vec![]),
            &[],
            false,
        ),
    ];
    for (name, children, want, waiting) in rows {
        let planned = teardown(&children, DEFAULT_OPERATIONS_LIMIT);
        assert_eq!(names(&planned.steps), want, "{name}");
        assert_eq!(planned.removing.is_some(), waiting, "{name}");
    }
}

/// `n` wanted rules `10.<i>.0.0/16`, all authorized at once when there is room.
fn wanted_rules(n: u8) -> WantedChildren {
    WantedChildren {
        networks: vec![A.into()],
        rules: (0..n)
            .map(|i| {
                let key = crate::cloud::RuleKey {
                    target_network_cidr: format!("10.{i}.0.0/16"),
                    access_group_id: None,
                };
                (key, None)
            })
            .collect(),
        routes: Default::default(),
    }
}

#[test]
fn a_pass_starts_only_what_the_operations_limit_leaves_room_for() {
    let scope = TokenScope::default();
    let rows: Vec<(&str, Vec<AuthorizationRule>, usize, usize, usize)> = vec![
        ("nothing in progress: the limit", vec![], 8, 8, 4),
        (
            "three authorizing: five more",
            vec![
                rule("10.0.0.0/16", "authorizing"),
                rule("10.1.0.0/16", "authorizing"),
                rule("10.2.0.0/16", "authorizing"),
            ],
            8,
            5,
            4,
        ),
        ("a limit above the work: everything", vec![], 20, 12, 0),
        ("no room at all: nothing starts", vec![], 0, 0, 12),
    ];
    for (name, rules, limit, started, deferred) in rows {
        let children = aws_children(vec![network(A, "associated")], rules, vec![]);
        let planned = reconcile_children(&wanted_rules(12), &children, &scope, limit);
        assert_eq!(planned.steps.len(), started, "{name}");
        assert_eq!(planned.deferred, deferred, "{name}");
        assert!(
            planned
                .steps
                .iter()
                .all(|s| matches!(s, Step::Authorize { .. })),
            "{name}"
        );
    }
}

#[test]
fn teardown_is_paced_too() {
    let children = aws_children(
        vec![network(A, "associated")],
        (0..10)
            .map(|i| rule(&format!("10.{i}.0.0/16"), "active"))
            .collect(),
        vec![],
    );
    let planned = teardown(&children, 4);
    assert_eq!(planned.steps.len(), 4);
    assert_eq!(planned.deferred, 6);
    assert!(planned.removing.is_some());
}

#[test]
fn child_tokens_are_stable_per_generation_and_bounded() {
    let first = child_token("uid", E1, "assoc", A, 3);
    assert_eq!(first, child_token("uid", E1, "assoc", A, 3));
    assert_ne!(
        first,
        child_token("uid", E1, "assoc", A, 4),
        "a new generation gets a new token"
    );
    assert_ne!(first, child_token("other", E1, "assoc", A, 3));
    assert_ne!(
        first,
        child_token("uid", "cvpn-endpoint-2", "assoc", A, 3),
        "a recreated endpoint gets new tokens (AWS remembers the old ones)"
    );
    assert!(first.len() <= 64);
}
