"""AWS's limits at their defaults: 5 endpoints per region, 10 operations in progress per endpoint."""

from conftest import (
    DEFAULT_LIMITS,
    SUBNET_A,
    SUBNET_B,
    VPC,
    assert_error,
    associate,
    create_endpoint,
    endpoint_args,
    wait_until,
)

CONCURRENT = "ConcurrentMutationLimitExceeded"
CONCURRENT_MESSAGE = "Cannot initiate another change for this endpoint at this time. Please try again later."


def authorize(ec2, endpoint_id, i, **extra):
    return ec2.authorize_client_vpn_ingress(
        ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.%d.0.0/16" % i, AuthorizeAllGroups=True, **extra
    )


def active_rules(ec2, endpoint_id):
    rules = ec2.describe_client_vpn_authorization_rules(ClientVpnEndpointId=endpoint_id)["AuthorizationRules"]
    return [r for r in rules if r["Status"]["Code"] == "active"]


def test_defaults_are_aws_quotas(emulator, ec2):
    assert emulator.get("/_emulator/limits") == DEFAULT_LIMITS
    for _ in range(5):
        create_endpoint(ec2)
    message = assert_error("ClientVpnEndpointLimitExceeded", 400, ec2.create_client_vpn_endpoint, **endpoint_args())
    assert "(5)" in message
    emulator.post("/_emulator/limits", {"endpoints_per_region": 6})
    create_endpoint(ec2)


def test_eleventh_operation_waits_for_one_to_finish(emulator, ec2):
    endpoint_id = create_endpoint(ec2)
    associate(ec2, endpoint_id, SUBNET_A)
    emulator.post("/_emulator/timing", {"rule_delay_ms": 1500, "route_delay_ms": 1500})
    for i in range(6):
        authorize(ec2, endpoint_id, i)
    for i in range(4):
        ec2.create_client_vpn_route(
            ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="192.168.%d.0/24" % i, TargetVpcSubnetId=SUBNET_A
        )
    message = assert_error(CONCURRENT, 400, authorize, ec2, endpoint_id, 99)
    assert message == CONCURRENT_MESSAGE
    refused = [
        (ec2.create_client_vpn_route, {"DestinationCidrBlock": "192.168.99.0/24", "TargetVpcSubnetId": SUBNET_A}),
        (ec2.associate_client_vpn_target_network, {"SubnetId": SUBNET_B}),
        (ec2.apply_security_groups_to_client_vpn_target_network, {"VpcId": VPC, "SecurityGroupIds": ["sg-12345678"]}),
        (ec2.revoke_client_vpn_ingress, {"TargetNetworkCidr": "10.0.0.0/16", "RevokeAllGroups": True}),
        (ec2.delete_client_vpn_route, {"DestinationCidrBlock": "192.168.0.0/24", "TargetVpcSubnetId": SUBNET_A}),
    ]
    for call, kwargs in refused:
        assert_error(CONCURRENT, 400, call, ClientVpnEndpointId=endpoint_id, **kwargs)
    # Other endpoints have their own budget.
    other = create_endpoint(ec2)
    authorize(ec2, other, 1)

    emulator.post("/_emulator/timing", {"rule_delay_ms": 20, "route_delay_ms": 20})
    wait_until("rules active", lambda: len(active_rules(ec2, endpoint_id)) == 6)
    authorize(ec2, endpoint_id, 99)


def test_replays_and_repeats_start_nothing(emulator, ec2):
    endpoint_id = create_endpoint(ec2)
    association_id = associate(ec2, endpoint_id, SUBNET_A)
    emulator.post("/_emulator/timing", {"rule_delay_ms": 60000, "association_delay_ms": 60000})
    first = authorize(ec2, endpoint_id, 0, ClientToken="token-0")
    for i in range(1, 9):
        authorize(ec2, endpoint_id, i)
    ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, AssociationId=association_id)
    assert_error(CONCURRENT, 400, authorize, ec2, endpoint_id, 10)
    # A replayed ClientToken and a repeated disassociation initiate nothing new.
    assert authorize(ec2, endpoint_id, 0, ClientToken="token-0")["Status"] == first["Status"]
    ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, AssociationId=association_id)
    emulator.post("/_emulator/limits", {"concurrent_operations_per_endpoint": 11})
    authorize(ec2, endpoint_id, 10)
    assert_error(CONCURRENT, 400, authorize, ec2, endpoint_id, 11)
