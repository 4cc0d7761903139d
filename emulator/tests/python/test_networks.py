"""Target networks, authorization rules and routes, parsed by botocore."""

import re

from conftest import (
    DEFAULT_SG,
    SUBNET_A,
    SUBNET_B,
    SUBNET_OTHER_VPC,
    SUBNET_SAME_AZ_AS_A,
    VPC,
    VPC_CIDR,
    assert_error,
    associate,
    create_endpoint,
    describe_endpoint,
    endpoint_status,
    wait_until,
)


def networks(ec2, endpoint_id, **kwargs):
    return ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=endpoint_id, **kwargs)["ClientVpnTargetNetworks"]


def rules(ec2, endpoint_id, **kwargs):
    return ec2.describe_client_vpn_authorization_rules(ClientVpnEndpointId=endpoint_id, **kwargs)["AuthorizationRules"]


def routes(ec2, endpoint_id, **kwargs):
    return ec2.describe_client_vpn_routes(ClientVpnEndpointId=endpoint_id, **kwargs)["Routes"]


def endpoint_pages(ec2, operation, endpoint_id):
    """Every page of a Describe of the endpoint's children, five items a page."""
    paginator = ec2.get_paginator(operation)
    return list(paginator.paginate(ClientVpnEndpointId=endpoint_id, PaginationConfig={"PageSize": 5}))


def assert_full(emulator, limits, code, call, args):
    """With `limits` lowered to what exists, `call(**args)` is refused with `code`."""
    emulator.post("/_emulator/limits", limits)
    assert_error(code, 400, call, **args)


def test_association_lifecycle(ec2):
    endpoint_id = create_endpoint(ec2)
    out = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_A)
    assoc_a = out["AssociationId"]
    assert re.fullmatch(r"cvpn-assoc-[0-9a-f]{17}", assoc_a)
    assert out["Status"] == {"Code": "associating"}
    wait_until("available", lambda: endpoint_status(ec2, endpoint_id) == "available")
    assert networks(ec2, endpoint_id) == [
        {
            "AssociationId": assoc_a,
            "VpcId": VPC,
            "TargetNetworkId": SUBNET_A,
            "ClientVpnEndpointId": endpoint_id,
            "Status": {"Code": "associated"},
            "SecurityGroups": [DEFAULT_SG],
        }
    ]
    ep = describe_endpoint(ec2, endpoint_id)
    assert ep["VpcId"] == VPC
    assert ep["SecurityGroupIds"] == [DEFAULT_SG]
    assert ep["AssociatedTargetNetworks"] == [{"NetworkId": SUBNET_A, "NetworkType": "vpc"}]
    assert routes(ec2, endpoint_id) == [
        {
            "ClientVpnEndpointId": endpoint_id,
            "DestinationCidr": VPC_CIDR,
            "TargetSubnet": SUBNET_A,
            "Type": "Nat",
            "Origin": "associate",
            "Status": {"Code": "active"},
            "Description": "Default Route",
        }
    ]

    assoc_b = associate(ec2, endpoint_id, SUBNET_B)
    out = ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, AssociationId=assoc_a)
    assert out["AssociationId"] == assoc_a
    assert out["Status"] == {"Code": "disassociating"}
    wait_until("first association gone", lambda: [n["AssociationId"] for n in networks(ec2, endpoint_id)] == [assoc_b])
    assert endpoint_status(ec2, endpoint_id) == "available"
    assert [r["TargetSubnet"] for r in routes(ec2, endpoint_id)] == [SUBNET_B]

    ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, AssociationId=assoc_b)
    wait_until("pending-associate", lambda: endpoint_status(ec2, endpoint_id) == "pending-associate")
    assert networks(ec2, endpoint_id) == []
    assert routes(ec2, endpoint_id) == []
    ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id)


def test_association_errors(ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_A)
    cases = [
        (SUBNET_A, "InvalidClientVpnDuplicateAssociationException"),
        (SUBNET_SAME_AZ_AS_A, "InvalidClientVpnSubnetId.DuplicateAz"),
        (SUBNET_OTHER_VPC, "InvalidParameterValue"),
        ("subnet-nope", "InvalidClientVpnSubnetId.NotFound"),
    ]
    for subnet, code in cases:
        assert_error(code, 400, ec2.associate_client_vpn_target_network, ClientVpnEndpointId=endpoint_id, SubnetId=subnet)
    assert_error("MissingParameter", 400, raw_ec2.associate_client_vpn_target_network, ClientVpnEndpointId=endpoint_id)
    overlapping = create_endpoint(ec2, ClientCidrBlock="10.0.0.0/12")
    assert_error(
        "InvalidClientVpnSubnetId.OverlappingCidr",
        400,
        ec2.associate_client_vpn_target_network,
        ClientVpnEndpointId=overlapping,
        SubnetId=SUBNET_A,
    )
    assert_error(
        "InvalidClientVpnAssociationIdNotFound",
        400,
        ec2.disassociate_client_vpn_target_network,
        ClientVpnEndpointId=endpoint_id,
        AssociationId="cvpn-assoc-00000000000000000",
    )
    assert_error(
        "InvalidClientVpnAssociationIdNotFound",
        400,
        ec2.describe_client_vpn_target_networks,
        ClientVpnEndpointId=endpoint_id,
        AssociationIds=["cvpn-assoc-00000000000000000"],
    )
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        ec2.describe_client_vpn_target_networks,
        ClientVpnEndpointId="cvpn-endpoint-00000000000000000",
    )


def test_target_networks_paginate_and_filter(ec2):
    endpoint_id = create_endpoint(ec2)
    created = [
        ec2.associate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint_id, SubnetId="subnet-0123456789abcdef%d" % digit
        )["AssociationId"]
        for digit in range(1, 7)
    ]
    pages = endpoint_pages(ec2, "describe_client_vpn_target_networks", endpoint_id)
    assert [len(p["ClientVpnTargetNetworks"]) for p in pages] == [5, 1]
    assert [n["AssociationId"] for p in pages for n in p["ClientVpnTargetNetworks"]] == created
    assert len(networks(ec2, endpoint_id, Filters=[{"Name": "vpc-id", "Values": [VPC]}])) == 6
    assert len(networks(ec2, endpoint_id, Filters=[{"Name": "association-id", "Values": [created[1]]}])) == 1
    assert len(networks(ec2, endpoint_id, Filters=[{"Name": "target-network-id", "Values": ["subnet-*3"]}])) == 1


def test_apply_security_groups(ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    associate(ec2, endpoint_id, SUBNET_A)
    out = ec2.apply_security_groups_to_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, VpcId=VPC, SecurityGroupIds=["sg-11111111", "sg-22222222"]
    )
    assert out["SecurityGroupIds"] == ["sg-11111111", "sg-22222222"]
    assert describe_endpoint(ec2, endpoint_id)["SecurityGroupIds"] == ["sg-11111111", "sg-22222222"]
    assert networks(ec2, endpoint_id)[0]["SecurityGroups"] == ["sg-11111111", "sg-22222222"]
    assert_error(
        "InvalidParameterValue",
        400,
        ec2.apply_security_groups_to_client_vpn_target_network,
        ClientVpnEndpointId=endpoint_id,
        VpcId="vpc-99999999",
        SecurityGroupIds=["sg-11111111"],
    )
    assert_error(
        "MissingParameter",
        400,
        raw_ec2.apply_security_groups_to_client_vpn_target_network,
        ClientVpnEndpointId=endpoint_id,
        VpcId=VPC,
    )


def test_authorization_rules(ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    out = ec2.authorize_client_vpn_ingress(
        ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.1.0.0/16", AuthorizeAllGroups=True, Description="all"
    )
    assert out["Status"] == {"Code": "authorizing"}
    ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.2.0.0/16", AccessGroupId="eng")
    listed = wait_until(
        "rules active",
        lambda: (lambda rs: rs if all(r["Status"]["Code"] == "active" for r in rs) else None)(rules(ec2, endpoint_id)),
    )
    assert listed == [
        {
            "ClientVpnEndpointId": endpoint_id,
            "Description": "all",
            "GroupId": "",
            "AccessAll": True,
            "DestinationCidr": "10.1.0.0/16",
            "Status": {"Code": "active"},
        },
        {
            "ClientVpnEndpointId": endpoint_id,
            "Description": "",
            "GroupId": "eng",
            "AccessAll": False,
            "DestinationCidr": "10.2.0.0/16",
            "Status": {"Code": "active"},
        },
    ]
    assert len(rules(ec2, endpoint_id, Filters=[{"Name": "group-id", "Values": ["eng"]}])) == 1
    assert len(rules(ec2, endpoint_id, Filters=[{"Name": "destination-cidr", "Values": ["10.1.0.0/16"]}])) == 1
    assert len(rules(ec2, endpoint_id, Filters=[{"Name": "description", "Values": ["al?"]}])) == 1

    assert_error(
        "InvalidClientVpnDuplicateAuthorizationRule",
        400,
        ec2.authorize_client_vpn_ingress,
        ClientVpnEndpointId=endpoint_id,
        TargetNetworkCidr="10.2.0.0/16",
        AccessGroupId="eng",
    )
    message = assert_error(
        "MissingParameter", 400, ec2.authorize_client_vpn_ingress, ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.3.0.0/16"
    )
    assert "access-group-id" in message
    assert_error(
        "InvalidParameterCombination",
        400,
        ec2.authorize_client_vpn_ingress,
        ClientVpnEndpointId=endpoint_id,
        TargetNetworkCidr="10.3.0.0/16",
        AccessGroupId="x",
        AuthorizeAllGroups=True,
    )
    assert_error(
        "MissingParameter", 400, raw_ec2.authorize_client_vpn_ingress, ClientVpnEndpointId=endpoint_id, AccessGroupId="x"
    )

    out = ec2.revoke_client_vpn_ingress(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.2.0.0/16", AccessGroupId="eng")
    assert out["Status"] == {"Code": "revoking"}
    wait_until("rule revoked", lambda: len(rules(ec2, endpoint_id)) == 1)
    assert_error(
        "InvalidClientVpnEndpointAuthorizationRuleNotFound",
        400,
        ec2.revoke_client_vpn_ingress,
        ClientVpnEndpointId=endpoint_id,
        TargetNetworkCidr="10.2.0.0/16",
        AccessGroupId="eng",
    )
    ec2.revoke_client_vpn_ingress(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.1.0.0/16", RevokeAllGroups=True)
    wait_until("all rules revoked", lambda: rules(ec2, endpoint_id) == [])


def test_rule_paginator_and_quota(emulator, ec2):
    # 11 rules in flight at once: more than AWS's 10 concurrent operations per endpoint.
    emulator.post("/_emulator/limits", {"concurrent_operations_per_endpoint": 20})
    endpoint_id = create_endpoint(ec2)
    for i in range(11):
        ec2.authorize_client_vpn_ingress(
            ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.%d.0.0/16" % i, AccessGroupId="g"
        )
    pages = endpoint_pages(ec2, "describe_client_vpn_authorization_rules", endpoint_id)
    assert [len(p["AuthorizationRules"]) for p in pages] == [5, 5, 1]
    assert [r["DestinationCidr"] for p in pages for r in p["AuthorizationRules"]] == ["10.%d.0.0/16" % i for i in range(11)]
    one_more = {"ClientVpnEndpointId": endpoint_id, "TargetNetworkCidr": "10.99.0.0/16", "AccessGroupId": "g"}
    refused = "ClientVpnAuthorizationRuleLimitExceeded"
    assert_full(emulator, {"rules_per_endpoint": 11}, refused, ec2.authorize_client_vpn_ingress, one_more)


def test_routes(emulator, ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    assert_error(
        "InvalidClientVpnActiveAssociationNotFound",
        400,
        ec2.create_client_vpn_route,
        ClientVpnEndpointId=endpoint_id,
        DestinationCidrBlock="0.0.0.0/0",
        TargetVpcSubnetId=SUBNET_A,
    )
    associate(ec2, endpoint_id, SUBNET_A)
    out = ec2.create_client_vpn_route(
        ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=SUBNET_A, Description="internet"
    )
    assert out["Status"] == {"Code": "creating"}
    assert_error(
        "InvalidClientVpnDuplicateRoute",
        400,
        ec2.create_client_vpn_route,
        ClientVpnEndpointId=endpoint_id,
        DestinationCidrBlock="0.0.0.0/0",
        TargetVpcSubnetId=SUBNET_A,
    )
    added = [{"Name": "origin", "Values": ["add-route"]}]
    wait_until("route active", lambda: routes(ec2, endpoint_id, Filters=added)[0]["Status"]["Code"] == "active")
    assert routes(ec2, endpoint_id, Filters=added) == [
        {
            "ClientVpnEndpointId": endpoint_id,
            "DestinationCidr": "0.0.0.0/0",
            "TargetSubnet": SUBNET_A,
            "Type": "Nat",
            "Origin": "add-route",
            "Status": {"Code": "active"},
            "Description": "internet",
        }
    ]
    assert len(routes(ec2, endpoint_id, Filters=[{"Name": "target-subnet", "Values": [SUBNET_A]}])) == 2
    assert len(routes(ec2, endpoint_id, Filters=[{"Name": "destination-cidr", "Values": [VPC_CIDR]}])) == 1

    assert_error(
        "InvalidParameterValue",
        400,
        ec2.delete_client_vpn_route,
        ClientVpnEndpointId=endpoint_id,
        DestinationCidrBlock=VPC_CIDR,
        TargetVpcSubnetId=SUBNET_A,
    )
    out = ec2.delete_client_vpn_route(
        ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=SUBNET_A
    )
    assert out["Status"] == {"Code": "deleting"}
    wait_until("route deleted", lambda: routes(ec2, endpoint_id, Filters=added) == [])
    assert_error(
        "InvalidClientVpnRouteNotFound",
        400,
        ec2.delete_client_vpn_route,
        ClientVpnEndpointId=endpoint_id,
        DestinationCidrBlock="0.0.0.0/0",
    )
    assert_error(
        "MissingParameter", 400, raw_ec2.create_client_vpn_route, ClientVpnEndpointId=endpoint_id, TargetVpcSubnetId=SUBNET_A
    )

    # Ten routes in flight plus the one refused for the route quota: past the concurrency limit.
    emulator.post("/_emulator/limits", {"concurrent_operations_per_endpoint": 20})
    for i in range(10):
        ec2.create_client_vpn_route(
            ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="192.168.%d.0/24" % i, TargetVpcSubnetId=SUBNET_A
        )
    pages = endpoint_pages(ec2, "describe_client_vpn_routes", endpoint_id)
    assert [len(p["Routes"]) for p in pages] == [5, 5, 1]
    one_more = {"ClientVpnEndpointId": endpoint_id, "DestinationCidrBlock": "192.168.99.0/24", "TargetVpcSubnetId": SUBNET_A}
    assert_full(emulator, {"routes_per_association": 10}, "ClientVpnRouteLimitExceeded", ec2.create_client_vpn_route, one_more)
