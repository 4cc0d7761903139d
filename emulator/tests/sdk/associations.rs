use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::ClientVpnRoute;

use crate::common::*;

async fn routes(ec2: &Client, endpoint_id: &str) -> Vec<ClientVpnRoute> {
    routes_of(ec2, endpoint_id, vec![]).await
}

async fn association_ids(ec2: &Client, endpoint_id: &str) -> Vec<String> {
    let networks = target_networks_of(ec2, endpoint_id, vec![]).await;
    networks
        .iter()
        .map(|n| n.association_id().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn association_lifecycle_drives_endpoint_status_and_default_route() {
    let (_, ec2, id) = start_with_endpoint().await;

    let out = ec2
        .associate_client_vpn_target_network()
        .client_vpn_endpoint_id(&id)
        .subnet_id(SUBNET_A)
        .send()
        .await
        .unwrap();
    let assoc_a = out.association_id().unwrap().to_owned();
    let hex = assoc_a.strip_prefix("cvpn-assoc-").unwrap();
    assert_eq!(hex.len(), 17);
    assert_eq!(
        out.status().unwrap().code().unwrap().as_str(),
        "associating"
    );

    eventually("endpoint to become available", || async {
        (endpoint_status(&ec2, &id).await == "available").then_some(())
    })
    .await;
    let networks = target_networks_of(&ec2, &id, vec![]).await;
    let network = &networks[0];
    assert_eq!(network.association_id(), Some(assoc_a.as_str()));
    assert_eq!(network.vpc_id(), Some(VPC));
    assert_eq!(network.target_network_id(), Some(SUBNET_A));
    assert_eq!(network.client_vpn_endpoint_id(), Some(id.as_str()));
    assert_eq!(
        network.status().unwrap().code().unwrap().as_str(),
        "associated"
    );
    assert_eq!(network.security_groups(), ["sg-0123456789abcdef0"]);

    // The first association fixed the VPC and applied its default security group.
    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(ep.vpc_id(), Some(VPC));
    assert_eq!(ep.security_group_ids(), ["sg-0123456789abcdef0"]);
    // Deprecated in the model, still sent by EC2.
    #[allow(deprecated)]
    let associated = ep.associated_target_networks();
    assert_eq!(associated.len(), 1);
    assert_eq!(associated[0].network_id(), Some(SUBNET_A));

    // ... and added the route to the VPC CIDR.
    let default_routes = routes(&ec2, &id).await;
    assert_eq!(default_routes.len(), 1);
    let route = &default_routes[0];
    assert_eq!(route.client_vpn_endpoint_id(), Some(id.as_str()));
    assert_eq!(route.destination_cidr(), Some(VPC_CIDR));
    assert_eq!(route.target_subnet(), Some(SUBNET_A));
    assert_eq!(route.r#type(), Some("Nat"));
    assert_eq!(route.origin(), Some("associate"));
    assert_eq!(route.description(), Some("Default Route"));
    assert_eq!(route.status().unwrap().code().unwrap().as_str(), "active");

    let assoc_b = associate(&ec2, &id, SUBNET_B).await;
    assert_eq!(routes(&ec2, &id).await.len(), 2);

    let msg = assert_rejected(
        ec2.delete_client_vpn_endpoint()
            .client_vpn_endpoint_id(&id)
            .send()
            .await,
        "ClientVpnEndpointAssociationExists",
    );
    assert!(msg.contains(&assoc_a), "{msg}");

    let out = ec2
        .disassociate_client_vpn_target_network()
        .client_vpn_endpoint_id(&id)
        .association_id(&assoc_a)
        .send()
        .await
        .unwrap();
    assert_eq!(out.association_id(), Some(assoc_a.as_str()));
    assert_eq!(
        out.status().unwrap().code().unwrap().as_str(),
        "disassociating"
    );
    eventually("first association to go away", || async {
        (association_ids(&ec2, &id).await == [assoc_b.clone()]).then_some(())
    })
    .await;
    assert_eq!(endpoint_status(&ec2, &id).await, "available");
    let remaining = routes(&ec2, &id).await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].target_subnet(), Some(SUBNET_B));

    ec2.disassociate_client_vpn_target_network()
        .client_vpn_endpoint_id(&id)
        .association_id(&assoc_b)
        .send()
        .await
        .unwrap();
    eventually("endpoint to fall back to pending-associate", || async {
        (endpoint_status(&ec2, &id).await == "pending-associate").then_some(())
    })
    .await;
    assert!(association_ids(&ec2, &id).await.is_empty());
    assert!(routes(&ec2, &id).await.is_empty());
    ec2.delete_client_vpn_endpoint()
        .client_vpn_endpoint_id(&id)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn associate_rejects_what_aws_rejects() {
    let (_, ec2, id) = start_with_endpoint().await;
    let request = || {
        ec2.associate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
    };
    let assoc = |subnet: &str| request().subnet_id(subnet).send();
    assoc(SUBNET_A).await.unwrap();
    assert_rejected(
        assoc(SUBNET_A).await,
        "InvalidClientVpnDuplicateAssociationException",
    );
    assert_rejected(
        assoc(SUBNET_SAME_AZ_AS_A).await,
        "InvalidClientVpnSubnetId.DuplicateAz",
    );
    assert_rejected(assoc(SUBNET_OTHER_VPC).await, "InvalidParameterValue");
    assert_rejected(
        assoc("subnet-nope").await,
        "InvalidClientVpnSubnetId.NotFound",
    );
    assert_rejected(request().send().await, "MissingParameter");
    assert_rejected(
        request()
            .subnet_id(SUBNET_B)
            .availability_zone("us-east-1c")
            .send()
            .await,
        "InvalidParameterCombination",
    );

    // A client CIDR overlapping the VPC (10.1.0.0/16) cannot be associated there.
    let overlapping = create_endpoint(&ec2)
        .client_cidr_block("10.0.0.0/12")
        .send()
        .await
        .unwrap();
    assert_rejected(
        ec2.associate_client_vpn_target_network()
            .client_vpn_endpoint_id(overlapping.client_vpn_endpoint_id().unwrap())
            .subnet_id(SUBNET_A)
            .send()
            .await,
        "InvalidClientVpnSubnetId.OverlappingCidr",
    );
}

#[tokio::test]
async fn unknown_association_ids_are_not_found() {
    let (_, ec2, id) = start_with_endpoint().await;
    let unknown = "cvpn-assoc-00000000000000000";
    assert_each_rejected!(
        "InvalidClientVpnAssociationIdNotFound",
        [
            ec2.disassociate_client_vpn_target_network()
                .client_vpn_endpoint_id(&id)
                .association_id(unknown),
            ec2.describe_client_vpn_target_networks()
                .client_vpn_endpoint_id(&id)
                .association_ids(unknown),
        ]
    );
}

#[tokio::test]
async fn target_networks_filter_and_paginate() {
    let (_, ec2, id) = start_with_endpoint().await;
    // Six subnets of one VPC, one per AZ (last digits 1..6 → AZs b, c, d, e, f, a).
    let mut created = Vec::new();
    for digit in 1..=6 {
        let out = ec2
            .associate_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
            .subnet_id(format!("subnet-0123456789abcdef{digit}"))
            .send()
            .await
            .unwrap();
        created.push(out.association_id().unwrap().to_owned());
    }
    let networks = ec2
        .describe_client_vpn_target_networks()
        .client_vpn_endpoint_id(&id);
    let pages = collect_pages!(networks.into_paginator().page_size(5));
    assert_eq!(pages.len(), 2);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p.client_vpn_target_networks())
        .map(|n| n.association_id().unwrap().to_owned())
        .collect();
    assert_eq!(listed, created, "creation order, each once");

    let by = async |name: &str, value: String| {
        target_networks_of(&ec2, &id, vec![filter(name, value)])
            .await
            .len()
    };
    assert_eq!(by("association-id", created[2].clone()).await, 1);
    assert_eq!(
        by("target-network-id", "subnet-0123456789abcdef4".into()).await,
        1
    );
    assert_eq!(by("vpc-id", VPC.into()).await, 6);
    assert_eq!(by("vpc-id", "vpc-99999999".into()).await, 0);
    let listed_by_id = ec2
        .describe_client_vpn_target_networks()
        .client_vpn_endpoint_id(&id)
        .association_ids(&created[0])
        .association_ids(&created[5])
        .send()
        .await
        .unwrap();
    assert_eq!(listed_by_id.client_vpn_target_networks().len(), 2);
}

#[tokio::test]
async fn apply_security_groups_replaces_the_set_everywhere() {
    let (_, ec2, id) = start_with_endpoint().await;
    associate(&ec2, &id, SUBNET_A).await;
    let out = ec2
        .apply_security_groups_to_client_vpn_target_network()
        .client_vpn_endpoint_id(&id)
        .vpc_id(VPC)
        .security_group_ids("sg-11111111")
        .security_group_ids("sg-22222222")
        .send()
        .await
        .unwrap();
    assert_eq!(out.security_group_ids(), ["sg-11111111", "sg-22222222"]);
    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(ep.security_group_ids(), ["sg-11111111", "sg-22222222"]);
    let networks = target_networks_of(&ec2, &id, vec![]).await;
    assert_eq!(
        networks[0].security_groups(),
        ["sg-11111111", "sg-22222222"]
    );

    let apply = || {
        ec2.apply_security_groups_to_client_vpn_target_network()
            .client_vpn_endpoint_id(&id)
    };
    assert_each_rejected!(
        "InvalidParameterValue",
        [
            apply()
                .vpc_id("vpc-99999999")
                .security_group_ids("sg-11111111"),
            apply().vpc_id(VPC).security_group_ids("security-group-1"),
        ]
    );
    assert_rejected(apply().vpc_id(VPC).send().await, "MissingParameter");
}
