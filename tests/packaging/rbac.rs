//! The chart's RBAC: exactly what the operator needs, cluster-wide or per namespace, the user
//! roles, and the ServiceAccount's IAM role annotation.

use std::collections::BTreeSet;

use serde_json::json;

use crate::{env_of, find, name, operator_rules, rendered, rules};

#[test]
fn cluster_wide_rbac_is_exactly_what_the_operator_needs() {
    let objects = rendered(&[]);
    let role = find(&objects, "ClusterRole", "cvpn-clientvpn-operator");
    assert_eq!(rules(role), operator_rules());
    let binding = find(&objects, "ClusterRoleBinding", "cvpn-clientvpn-operator");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "cvpn-clientvpn-operator", "namespace": "clientvpn-system"}])
    );
    let lease_role = find(&objects, "Role", "cvpn-clientvpn-operator-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], "clientvpn-system");
    let expected: BTreeSet<String> = [
        "coordination.k8s.io leases [] create",
        "coordination.k8s.io leases [cvpn-clientvpn-operator] get,patch,update",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(rules(lease_role), expected);

    // Nothing anywhere grants wildcards or Secrets.
    for object in &objects {
        if let Some(list) = object["rules"].as_array() {
            let text = serde_json::to_string(list).expect("json");
            assert!(!text.contains("\"*\""), "wildcard in {}", name(object));
            assert!(!text.contains("secrets"), "secrets in {}", name(object));
        }
    }
}

#[test]
fn namespaced_rbac_is_a_role_per_listed_namespace_and_nothing_cluster_wide() {
    let objects = rendered(&[
        "--set",
        "watchNamespaces={team-a,team-b}",
        "--set",
        "rbac.aggregateToDefaultRoles=false",
    ]);
    let cluster_scoped: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "ClusterRoleBinding")
        .map(name)
        .collect();
    assert!(cluster_scoped.is_empty(), "{cluster_scoped:?}");
    for namespace in ["team-a", "team-b"] {
        let role = objects
            .iter()
            .find(|o| o["kind"] == "Role" && o["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no Role in {namespace}"));
        assert_eq!(rules(role), operator_rules());
        let binding = objects
            .iter()
            .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["namespace"] == namespace)
            .unwrap_or_else(|| panic!("no RoleBinding in {namespace}"));
        assert_eq!(binding["roleRef"]["name"], name(role));
        assert_eq!(binding["subjects"][0]["namespace"], "clientvpn-system");
    }
    assert_eq!(
        env_of(&objects)["CLIENTVPN_WATCH_NAMESPACE"],
        "team-a,team-b"
    );
}

#[test]
fn user_roles_aggregate_into_view_edit_and_admin() {
    let objects = rendered(&[]);
    let view = find(&objects, "ClusterRole", "cvpn-clientvpn-operator-view");
    let edit = find(&objects, "ClusterRole", "cvpn-clientvpn-operator-edit");
    for (role, into) in [
        (view, &["view", "edit", "admin"][..]),
        (edit, &["edit", "admin"][..]),
    ] {
        for target in into {
            assert_eq!(
                role["metadata"]["labels"]
                    [format!("rbac.authorization.k8s.io/aggregate-to-{target}")],
                "true"
            );
        }
    }
    assert_eq!(
        rules(view),
        BTreeSet::from(["clientvpn.io clientvpnendpoints [] get,list,watch".to_string()])
    );
}

#[test]
fn service_account_annotations_carry_the_irsa_role() {
    let objects = rendered(&[
        "--set",
        "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/clientvpn",
    ]);
    let sa = find(&objects, "ServiceAccount", "cvpn-clientvpn-operator");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/clientvpn"
    );
}
