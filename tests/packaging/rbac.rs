//! The chart's RBAC: exactly what the operator needs, cluster-wide or per namespace, the user
//! roles, and the ServiceAccount's IAM role annotation.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{SECRET_RULE, env_of, find, name, operator_rules, rendered, rules};

/// No role grants wildcards; only the operator's own roles (`operator_roles`: kind and name)
/// mention Secrets, each in exactly one rule, [`SECRET_RULE`]: never delete or deletecollection
/// (owner references garbage-collect the Secrets the operator writes). `update` is there for
/// one write only: the revocation record, replaced with optimistic concurrency.
fn assert_no_wildcards_and_secrets_only_for_the_operator(
    objects: &[Value],
    operator_roles: &[(&str, &str)],
) {
    let mut granted = 0;
    for object in objects {
        let Some(list) = object["rules"].as_array() else {
            continue;
        };
        let text = serde_json::to_string(list).expect("json");
        assert!(!text.contains("\"*\""), "wildcard in {}", name(object));
        let kind = object["kind"].as_str().unwrap_or("?");
        let is_operator_role = operator_roles.contains(&(kind, name(object)));
        let secret_rules: Vec<String> = rules(object)
            .into_iter()
            .filter(|rule| rule.contains("secrets"))
            .collect();
        if !is_operator_role {
            assert!(
                secret_rules.is_empty(),
                "{kind}/{} grants secrets: {secret_rules:?}",
                name(object)
            );
            continue;
        }
        assert_eq!(
            secret_rules,
            vec![SECRET_RULE.to_string()],
            "{kind}/{}: the one Secret rule",
            name(object)
        );
        let verbs = secret_rules[0].rsplit(' ').next().expect("verbs");
        for forbidden in ["delete", "deletecollection", "escalate", "bind"] {
            assert!(
                !verbs.split(',').any(|v| v == forbidden),
                "secrets: {forbidden}"
            );
        }
        granted += 1;
    }
    assert_eq!(
        granted,
        operator_roles.len(),
        "every operator role grants the Secret rule"
    );
}

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

    // No wildcards anywhere; Secrets only for the operator, with exactly the verbs it needs.
    assert_no_wildcards_and_secrets_only_for_the_operator(
        &objects,
        &[("ClusterRole", "cvpn-clientvpn-operator")],
    );
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
    // The Secret rule is in each namespace's Role (the two Roles share the full name).
    assert_no_wildcards_and_secrets_only_for_the_operator(
        &objects,
        &[
            ("Role", "cvpn-clientvpn-operator"),
            ("Role", "cvpn-clientvpn-operator"),
        ],
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
    // Users get ClientVpnEndpoints and ClientVpnUsers only: nothing about Secrets, status or
    // finalizers.
    assert_eq!(
        rules(view),
        BTreeSet::from([
            "clientvpn.io clientvpnendpoints,clientvpnusers [] get,list,watch".to_string()
        ])
    );
    assert_eq!(
        rules(edit),
        BTreeSet::from([
            "clientvpn.io clientvpnendpoints,clientvpnusers [] create,delete,deletecollection,patch,update"
                .to_string()
        ])
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
