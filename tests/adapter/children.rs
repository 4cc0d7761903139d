//! Target networks, authorization rules, routes, the client configuration and deletion, through
//! an endpoint's lifecycle.

use std::fmt::Debug;
use std::future::Future;

use clientvpn_operator::cloud::{
    AssociationState, ClientVpnApi, CloudError, ErrorKind, ObservedEndpoint, RouteKey, RouteOrigin,
    RouteState, RuleKey, RuleState,
};
use serde_json::json;

use crate::emulator::Emulator;
use crate::support::*;

/// `call(token)` is idempotent on its client token: twice with `<prefix>-1` gives the same
/// answer, and `<prefix>-2` is refused as a duplicate with `code`.
async fn idempotent<T, F, Fut>(prefix: &str, code: &str, call: F) -> T
where
    T: PartialEq + Debug,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let first = call(format!("{prefix}-1")).await.expect("first call");
    let again = call(format!("{prefix}-1"))
        .await
        .expect("again, same token");
    assert_eq!(again, first, "same token, same answer");
    assert_kind(call(format!("{prefix}-2")).await, ErrorKind::Terminal, code);
    first
}

/// Poll the listing `list` until it is empty.
async fn emptied<T, F, Fut>(what: &str, list: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Vec<T>, CloudError>>,
{
    settled(what, list, <[T]>::is_empty).await;
}

#[tokio::test]
async fn networks_rules_routes_export_and_delete_through_the_lifecycle() {
    let emulator = Emulator::start();
    let api = &adapter(&emulator, "AKIDLIFECYCLE").await;
    let id = &created(api, minimal_spec(), "uid-life").await;
    assert!(
        api.describe_target_networks(REGION, id)
            .await
            .expect("no networks")
            .is_empty()
    );
    assert!(
        api.describe_routes(REGION, id)
            .await
            .expect("no routes")
            .is_empty()
    );
    // Routes need an associated subnet.
    let default_route = RouteKey {
        destination_cidr_block: "0.0.0.0/0".into(),
        target_subnet_id: SUBNET.into(),
    };
    assert_kind(
        api.create_route(REGION, id, &default_route, None, "route-early")
            .await,
        ErrorKind::Retryable,
        "InvalidClientVpnActiveAssociationNotFound",
    );

    // Associate (idempotent on the client token) and wait for `associated` + `available`.
    let association = idempotent(
        "assoc",
        "InvalidClientVpnDuplicateAssociationException",
        |token| async move {
            api.associate_target_network(REGION, id, SUBNET, &token)
                .await
        },
    )
    .await;
    assert!(association.starts_with("cvpn-assoc-"), "{association}");
    let networks = settled(
        "the association",
        || api.describe_target_networks(REGION, id),
        |networks| {
            networks
                .iter()
                .all(|n| n.state == AssociationState::Associated)
        },
    )
    .await;
    assert_eq!(networks.len(), 1);
    assert_eq!(networks[0].association_id, association);
    assert_eq!(networks[0].subnet_id, SUBNET);
    assert_eq!(networks[0].vpc_id.as_deref(), Some(VPC));
    assert_eq!(networks[0].security_group_ids, [DEFAULT_SG]);
    eventually("the endpoint to be available", || async {
        (describe(api, id).await.status_code == "available").then_some(())
    })
    .await;
    let observed = describe(api, id).await;
    assert_eq!(
        observed.settings.vpc_id.as_deref(),
        Some(VPC),
        "first association fixes the VPC"
    );
    assert_eq!(observed.settings.security_group_ids, [DEFAULT_SG]);

    // Delete is refused while a network is associated.
    assert_kind(
        api.delete_endpoint(REGION, id).await,
        ErrorKind::Retryable,
        "ClientVpnEndpointAssociationExists",
    );

    // Security groups.
    let groups = vec![
        "sg-0123456789abcdef2".to_string(),
        "sg-0123456789abcdef1".to_string(),
    ];
    api.apply_security_groups(REGION, id, VPC, &groups)
        .await
        .expect("apply security groups");
    let sorted = vec![
        "sg-0123456789abcdef1".to_string(),
        "sg-0123456789abcdef2".to_string(),
    ];
    assert_eq!(describe(api, id).await.settings.security_group_ids, sorted);
    let networks = api
        .describe_target_networks(REGION, id)
        .await
        .expect("describe networks");
    assert_eq!(networks[0].security_group_ids, sorted);
    assert_kind(
        api.apply_security_groups(REGION, id, "vpc-0aaaaaaaaaaaaaaa0", &groups)
            .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );

    // Authorization rules: one group, and all groups.
    let admins = RuleKey {
        target_network_cidr: VPC_CIDR.into(),
        access_group_id: Some("admins".into()),
    };
    let everyone = RuleKey {
        target_network_cidr: "10.2.0.0/16".into(),
        access_group_id: None,
    };
    let duplicate_rule = "InvalidClientVpnDuplicateAuthorizationRule";
    idempotent("admins", duplicate_rule, |token| {
        let admins = &admins;
        async move {
            api.authorize_ingress(REGION, id, admins, Some("admins only"), &token)
                .await
        }
    })
    .await;
    idempotent("everyone", duplicate_rule, |token| {
        let everyone = &everyone;
        async move {
            api.authorize_ingress(REGION, id, everyone, None, &token)
                .await
        }
    })
    .await;
    let rules = settled(
        "active rules",
        || api.describe_authorization_rules(REGION, id),
        |rules| rules.iter().all(|r| r.state == RuleState::Active),
    )
    .await;
    let mut keys: Vec<(RuleKey, Option<String>)> = rules
        .iter()
        .map(|r| (r.key.clone(), r.description.clone()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            (admins.clone(), Some("admins only".to_string())),
            (everyone.clone(), None)
        ]
    );

    for (rule, what) in [(&admins, "group"), (&everyone, "all groups")] {
        let revoked = api.revoke_ingress(REGION, id, rule).await;
        revoked.unwrap_or_else(|e| panic!("revoke {what}: {e}"));
    }
    emptied("revoked rules to go", || {
        api.describe_authorization_rules(REGION, id)
    })
    .await;
    assert_kind(
        api.revoke_ingress(REGION, id, &admins).await,
        ErrorKind::NotFound,
        "InvalidClientVpnEndpointAuthorizationRuleNotFound",
    );

    // Routes: the association's own route, plus one added.
    let routes = api.describe_routes(REGION, id).await.expect("routes");
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        routes[0].key,
        RouteKey {
            destination_cidr_block: VPC_CIDR.into(),
            target_subnet_id: SUBNET.into(),
        }
    );
    assert_eq!(routes[0].origin, RouteOrigin::Associate);
    idempotent("route", "InvalidClientVpnDuplicateRoute", |token| {
        let route = &default_route;
        async move {
            api.create_route(REGION, id, route, Some("internet"), &token)
                .await
        }
    })
    .await;
    let added = eventually("the added route to be active", || async {
        api.describe_routes(REGION, id)
            .await
            .expect("routes")
            .into_iter()
            .find(|r| r.key == default_route && r.state == RouteState::Active)
    })
    .await;
    assert_eq!(added.origin, RouteOrigin::AddRoute);
    assert_eq!(added.description.as_deref(), Some("internet"));
    api.delete_route(REGION, id, &default_route)
        .await
        .expect("delete route");
    settled(
        "the added route to go",
        || api.describe_routes(REGION, id),
        |routes| routes.len() == 1 && routes[0].origin == RouteOrigin::Associate,
    )
    .await;
    assert_kind(
        api.delete_route(REGION, id, &default_route).await,
        ErrorKind::NotFound,
        "InvalidClientVpnRouteNotFound",
    );

    // The client configuration.
    let config = api
        .export_client_configuration(REGION, id)
        .await
        .expect("export");
    let host = format!("{id}.prod.clientvpn.{REGION}.amazonaws.com");
    assert!(
        config.lines().any(|l| l == format!("remote {host} 443")),
        "{config}"
    );
    assert!(config.lines().any(|l| l == "<ca>"), "{config}");
    assert!(config.lines().any(|l| l == "</ca>"), "{config}");
    assert!(config.lines().any(|l| l == "proto udp"), "{config}");

    // Disassociate: the endpoint goes back to pending-associate.
    api.disassociate_target_network(REGION, id, &association)
        .await
        .expect("disassociate");
    emptied("the association to go", || {
        api.describe_target_networks(REGION, id)
    })
    .await;
    assert_eq!(describe(api, id).await.status_code, "pending-associate");
    assert!(
        api.describe_routes(REGION, id)
            .await
            .expect("routes")
            .is_empty()
    );
    assert_kind(
        api.disassociate_target_network(REGION, id, &association)
            .await,
        ErrorKind::NotFound,
        "InvalidClientVpnAssociationIdNotFound",
    );

    // Delete: deleting → deleted (still visible) → gone. Slower, so each state can be seen.
    emulator.control(
        "POST",
        "/_emulator/timing",
        Some(json!({"delete_delay_ms": 1000, "deleted_visible_ms": 2000})),
    );
    let status = api.delete_endpoint(REGION, id).await.expect("delete");
    assert_eq!(status.as_deref(), Some("deleting"));
    let deleting = describe(api, id).await;
    assert_eq!(deleting.status_code, "deleting");
    assert!(deleting.is_going_away() && !deleting.is_deleted());
    assert_kind(
        api.modify_endpoint(
            REGION,
            id,
            &change(|c| c.description = Some("too late".into())),
        )
        .await,
        ErrorKind::Retryable,
        "IncorrectState",
    );
    eventually("deleted", || async {
        api.describe_endpoint(REGION, id)
            .await
            .expect("describe")
            .filter(ObservedEndpoint::is_deleted)
    })
    .await;
    assert!(
        api.list_endpoints(REGION)
            .await
            .expect("list")
            .iter()
            .any(|e| e.id == *id && e.is_deleted()),
        "a deleted endpoint is still listed for a while"
    );
    eventually("gone", || async {
        api.describe_endpoint(REGION, id)
            .await
            .expect("describe")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(api.list_endpoints(REGION).await.expect("list").is_empty());
}
