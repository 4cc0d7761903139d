//! Table tests of the ordered children reconciler: teardown order and tokens.

use super::super::test_support::{names, network, route, rule};
use super::*;

const A: &str = "subnet-0000000000000000a";
const E1: &str = "cvpn-endpoint-1";

#[test]
fn teardown_table() {
    let rows: Vec<(&str, Children, &[&str], bool)> = vec![
        (
            "routes first",
            Children {
                networks: vec![network(A, "associated")],
                rules: vec![rule("10.0.0.0/16", "active")],
                routes: vec![
                    route("0.0.0.0/0", A, "add-route", "active"),
                    route("10.1.0.0/16", A, "associate", "active"),
                ],
            },
            &["route- 0.0.0.0/0"],
            true,
        ),
        (
            "then rules",
            Children {
                networks: vec![network(A, "associated")],
                rules: vec![rule("10.0.0.0/16", "active")],
                routes: vec![route("10.1.0.0/16", A, "associate", "active")],
            },
            &["revoke 10.0.0.0/16"],
            true,
        ),
        (
            "revoking: wait",
            Children {
                networks: vec![network(A, "associated")],
                rules: vec![rule("10.0.0.0/16", "revoking")],
                routes: vec![],
            },
            &[],
            true,
        ),
        (
            "then associations",
            Children {
                networks: vec![network(A, "associated")],
                ..Default::default()
            },
            &["disassociate cvpn-assoc-subnet-0000000000000000a"],
            true,
        ),
        (
            "disassociating: wait",
            Children {
                networks: vec![network(A, "disassociating")],
                ..Default::default()
            },
            &[],
            true,
        ),
        (
            "nothing left: the endpoint may go",
            Children {
                networks: vec![network(A, "disassociated")],
                ..Default::default()
            },
            &[],
            false,
        ),
    ];
    for (name, children, want, waiting) in rows {
        let planned = teardown(&children);
        assert_eq!(names(&planned.steps), want, "{name}");
        assert_eq!(planned.removing.is_some(), waiting, "{name}");
    }
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
