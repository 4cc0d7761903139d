use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::ClientVpnRoute;
use serde_json::json;

use crate::common::*;

async fn added_routes(ec2: &Client, endpoint_id: &str) -> Vec<ClientVpnRoute> {
    routes_of(ec2, endpoint_id, vec![filter("origin", "add-route")]).await
}

#[tokio::test]
async fn routes_need_an_active_association_and_go_through_their_states() {
    let (_, ec2, id) = start_with_endpoint().await;
    let route_to = |cidr: &str| {
        ec2.create_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block(cidr)
    };
    let delete = |cidr: &str| {
        ec2.delete_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block(cidr)
    };
    let create = || {
        route_to("0.0.0.0/0")
            .target_vpc_subnet_id(SUBNET_A)
            .description("internet")
    };
    assert_rejected(
        create().send().await,
        "InvalidClientVpnActiveAssociationNotFound",
    );

    associate(&ec2, &id, SUBNET_A).await;
    let out = create().send().await.unwrap();
    assert_eq!(out.status().unwrap().code().unwrap().as_str(), "creating");
    assert_rejected(create().send().await, "InvalidClientVpnDuplicateRoute");

    let route = eventually("route to become active", || async {
        let routes = added_routes(&ec2, &id).await;
        let route = routes.first()?.clone();
        (route.status()?.code()?.as_str() == "active").then_some(route)
    })
    .await;
    assert_eq!(route.client_vpn_endpoint_id(), Some(id.as_str()));
    assert_eq!(route.destination_cidr(), Some("0.0.0.0/0"));
    assert_eq!(route.target_subnet(), Some(SUBNET_A));
    assert_eq!(route.r#type(), Some("Nat"));
    assert_eq!(route.origin(), Some("add-route"));
    assert_eq!(route.description(), Some("internet"));

    let internet = delete("0.0.0.0/0").target_vpc_subnet_id(SUBNET_A);
    let out = internet.send().await.unwrap();
    assert_eq!(out.status().unwrap().code().unwrap().as_str(), "deleting");
    eventually("deleted route to disappear", || async {
        added_routes(&ec2, &id).await.is_empty().then_some(())
    })
    .await;

    assert_rejected(
        delete("0.0.0.0/0").send().await,
        "InvalidClientVpnRouteNotFound",
    );
    assert_each_rejected!(
        "InvalidParameterValue",
        [
            // The association's own route cannot be deleted directly.
            delete(VPC_CIDR).target_vpc_subnet_id(SUBNET_A),
            route_to("300.0.0.0/8").target_vpc_subnet_id(SUBNET_A),
        ]
    );
    assert_rejected(route_to("0.0.0.0/0").send().await, "MissingParameter");
}

#[tokio::test]
async fn disassociating_removes_the_routes_of_the_subnet() {
    let (_, ec2, id) = start_with_endpoint().await;
    let assoc = associate(&ec2, &id, SUBNET_A).await;
    add_route(&ec2, &id, "192.168.0.0/16", SUBNET_A).await;
    ec2.disassociate_client_vpn_target_network()
        .client_vpn_endpoint_id(&id)
        .association_id(assoc)
        .send()
        .await
        .unwrap();
    eventually("routes to disappear", || async {
        routes_of(&ec2, &id, vec![]).await.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn route_quota_per_association() {
    let (_, ec2, id) = start_with_limits(json!({"routes_per_association": 1})).await;
    associate(&ec2, &id, SUBNET_A).await;
    let route = |cidr: &'static str| {
        ec2.create_client_vpn_route()
            .client_vpn_endpoint_id(&id)
            .destination_cidr_block(cidr)
            .target_vpc_subnet_id(SUBNET_A)
            .send()
    };
    route("192.168.0.0/24").await.unwrap();
    assert_rejected(route("192.168.1.0/24").await, "ClientVpnRouteLimitExceeded");
}

#[tokio::test]
async fn routes_filter_and_paginate() {
    // 11 routes in flight at once: more than AWS's 10 concurrent operations.
    let (_, ec2, id) = start_with_limits(json!({"concurrent_operations_per_endpoint": 20})).await;
    associate(&ec2, &id, SUBNET_A).await;
    for i in 0..11 {
        add_route(&ec2, &id, &format!("192.168.{i}.0/24"), SUBNET_A).await;
    }
    let describe = ec2.describe_client_vpn_routes().client_vpn_endpoint_id(&id);
    let pages = collect_pages!(describe.into_paginator().page_size(5));
    let sizes: Vec<usize> = pages.iter().map(|p| p.routes().len()).collect();
    assert_eq!(sizes, [5, 5, 2], "11 added + 1 associate route");

    let count =
        async |name: &str, value: &str| routes_of(&ec2, &id, vec![filter(name, value)]).await.len();
    assert_eq!(count("origin", "associate").await, 1);
    assert_eq!(count("origin", "add-route").await, 11);
    assert_eq!(count("destination-cidr", "192.168.3.0/24").await, 1);
    assert_eq!(count("target-subnet", SUBNET_A).await, 12);
    assert_eq!(count("target-subnet", SUBNET_B).await, 0);
}
