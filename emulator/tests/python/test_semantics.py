"""Validation, ClientToken idempotency, DryRun, regions and accounts, quotas."""

import json

import pytest

import certs
from conftest import (
    ACCESS_KEY,
    SUBNET_A,
    SUBNET_B,
    VPC,
    account_id,
    assert_error,
    associate,
    create_endpoint,
    endpoint_args,
    mutual_auth,
    wait_until,
)

DIRECTORY = {"Type": "directory-service-authentication", "ActiveDirectory": {"DirectoryId": "d-1"}}
FEDERATED = {
    "Type": "federated-authentication",
    "FederatedAuthentication": {"SAMLProviderArn": "arn:aws:iam::123456789012:saml-provider/idp"},
}


def without(key):
    args = endpoint_args()
    del args[key]
    return args


CREATE_ERRORS = [
    ("cidr /11", endpoint_args(ClientCidrBlock="10.0.0.0/11"), "InvalidParameterValue"),
    ("cidr /23", endpoint_args(ClientCidrBlock="10.0.0.0/23"), "InvalidParameterValue"),
    ("cidr garbage", endpoint_args(ClientCidrBlock="ten"), "InvalidParameterValue"),
    ("no cidr", without("ClientCidrBlock"), "MissingParameter"),
    ("three dns servers", endpoint_args(DnsServers=["1.1.1.1", "1.0.0.1", "8.8.8.8"]), "InvalidParameterValue"),
    ("transport enum", endpoint_args(TransportProtocol="sctp"), "InvalidParameterValue"),
    ("port", endpoint_args(VpnPort=8443), "InvalidParameterValue"),
    ("session timeout", endpoint_args(SessionTimeoutHours=9), "InvalidParameterValue"),
    ("no authentication", without("AuthenticationOptions"), "MissingParameter"),
    ("AD + federated", endpoint_args(AuthenticationOptions=[DIRECTORY, FEDERATED]), "InvalidParameterValue"),
    ("three auth options", endpoint_args(AuthenticationOptions=[mutual_auth(), DIRECTORY, FEDERATED]), "InvalidParameterValue"),
    ("auth type enum", endpoint_args(AuthenticationOptions=[{"Type": "password"}]), "InvalidParameterValue"),
    ("auth without structure", endpoint_args(AuthenticationOptions=[{"Type": "certificate-authentication"}]), "MissingParameter"),
    ("sg without vpc", endpoint_args(SecurityGroupIds=["sg-12345678"]), "InvalidParameterValue"),
    ("no server cert", without("ServerCertificateArn"), "MissingParameter"),
    ("no log options", without("ConnectionLogOptions"), "MissingParameter"),
    ("banner too long", endpoint_args(ClientLoginBannerOptions={"Enabled": True, "BannerText": "x" * 1401}), "InvalidParameterValue"),
    ("portal with mutual only", endpoint_args(SelfServicePortal="enabled"), "InvalidParameterValue"),
    (
        "tgw with vpc",
        endpoint_args(VpcId=VPC, TransitGatewayConfiguration={"TransitGatewayId": "tgw-12345678"}),
        "InvalidParameterCombination",
    ),
]


@pytest.mark.parametrize("what,args,code", CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS])
def test_create_validation(raw_ec2, what, args, code):
    assert_error(code, 400, raw_ec2.create_client_vpn_endpoint, **args)
    assert raw_ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"] == []


def test_client_token_idempotency(emulator, ec2):
    first = ec2.create_client_vpn_endpoint(ClientToken="uid-1", **endpoint_args(Description="d"))
    again = ec2.create_client_vpn_endpoint(ClientToken="uid-1", **endpoint_args(Description="d"))
    assert first["ClientVpnEndpointId"] == again["ClientVpnEndpointId"]
    assert len(ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"]) == 1
    assert_error(
        "IdempotentParameterMismatch",
        400,
        ec2.create_client_vpn_endpoint,
        ClientToken="uid-1",
        **endpoint_args(Description="other"),
    )
    endpoint_id = first["ClientVpnEndpointId"]

    a = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_A, ClientToken="t")
    b = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_A, ClientToken="t")
    assert a["AssociationId"] == b["AssociationId"]
    assert_error(
        "IdempotentParameterMismatch",
        400,
        ec2.associate_client_vpn_target_network,
        ClientVpnEndpointId=endpoint_id,
        SubnetId=SUBNET_B,
        ClientToken="t",
    )

    rule = dict(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.1.0.0/16", AccessGroupId="g", ClientToken="r")
    ec2.authorize_client_vpn_ingress(**rule)
    ec2.authorize_client_vpn_ingress(**rule)
    assert len(ec2.describe_client_vpn_authorization_rules(ClientVpnEndpointId=endpoint_id)["AuthorizationRules"]) == 1
    assert_error("IdempotentParameterMismatch", 400, ec2.authorize_client_vpn_ingress, **dict(rule, AccessGroupId="h"))

    wait_until(
        "associated",
        lambda: ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=endpoint_id)["ClientVpnTargetNetworks"][0][
            "Status"
        ]["Code"]
        == "associated",
    )
    route = dict(ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=SUBNET_A, ClientToken="x")
    ec2.create_client_vpn_route(**route)
    ec2.create_client_vpn_route(**route)
    added = ec2.describe_client_vpn_routes(
        ClientVpnEndpointId=endpoint_id, Filters=[{"Name": "origin", "Values": ["add-route"]}]
    )["Routes"]
    assert len(added) == 1
    assert_error("IdempotentParameterMismatch", 400, ec2.create_client_vpn_route, **dict(route, Description="changed"))


def test_dry_run_of_every_action(emulator, ec2):
    endpoint_id = create_endpoint(ec2)
    spare = create_endpoint(ec2)
    assoc = associate(ec2, endpoint_id, SUBNET_A)
    ec2.authorize_client_vpn_ingress(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.1.0.0/16", AuthorizeAllGroups=True)
    ec2.create_client_vpn_route(ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=SUBNET_A)
    ec2.create_tags(Resources=[endpoint_id], Tags=[{"Key": "k", "Value": "v"}])
    before = wait_until(
        "stable state",
        lambda: (lambda s: s if "authorizing" not in s and "creating" not in s else None)(json.dumps(emulator.state())),
    )
    emulator.post("/_emulator/calls/reset")
    calls = [
        (ec2.create_client_vpn_endpoint, endpoint_args()),
        (ec2.describe_client_vpn_endpoints, {}),
        (ec2.modify_client_vpn_endpoint, dict(ClientVpnEndpointId=endpoint_id, Description="x")),
        (ec2.delete_client_vpn_endpoint, dict(ClientVpnEndpointId=spare)),
        (ec2.associate_client_vpn_target_network, dict(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_B)),
        (ec2.disassociate_client_vpn_target_network, dict(ClientVpnEndpointId=endpoint_id, AssociationId=assoc)),
        (ec2.describe_client_vpn_target_networks, dict(ClientVpnEndpointId=endpoint_id)),
        (
            ec2.apply_security_groups_to_client_vpn_target_network,
            dict(ClientVpnEndpointId=endpoint_id, VpcId=VPC, SecurityGroupIds=["sg-11111111"]),
        ),
        (ec2.authorize_client_vpn_ingress, dict(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.2.0.0/16", AccessGroupId="g")),
        (ec2.revoke_client_vpn_ingress, dict(ClientVpnEndpointId=endpoint_id, TargetNetworkCidr="10.1.0.0/16", RevokeAllGroups=True)),
        (ec2.describe_client_vpn_authorization_rules, dict(ClientVpnEndpointId=endpoint_id)),
        (
            ec2.create_client_vpn_route,
            dict(ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="192.168.0.0/16", TargetVpcSubnetId=SUBNET_A),
        ),
        (
            ec2.delete_client_vpn_route,
            dict(ClientVpnEndpointId=endpoint_id, DestinationCidrBlock="0.0.0.0/0", TargetVpcSubnetId=SUBNET_A),
        ),
        (ec2.describe_client_vpn_routes, dict(ClientVpnEndpointId=endpoint_id)),
        (ec2.create_tags, dict(Resources=[endpoint_id], Tags=[{"Key": "k2", "Value": "v"}])),
        (ec2.delete_tags, dict(Resources=[endpoint_id])),
        (ec2.export_client_vpn_client_configuration, dict(ClientVpnEndpointId=endpoint_id)),
        (
            ec2.import_client_vpn_client_certificate_revocation_list,
            dict(ClientVpnEndpointId=endpoint_id, CertificateRevocationList=certs.crl(certs.ca()).decode()),
        ),
        (ec2.export_client_vpn_client_certificate_revocation_list, dict(ClientVpnEndpointId=endpoint_id)),
        (ec2.describe_client_vpn_connections, dict(ClientVpnEndpointId=endpoint_id)),
    ]
    for call, kwargs in calls:
        message = assert_error("DryRunOperation", 412, call, DryRun=True, **kwargs)
        assert message == "Request would have succeeded, but DryRun flag is set."
    # Terminate validates the connection first (a real DryRun is in test_connections.py).
    assert_error(
        "InvalidClientVpnConnection.IdNotFound",
        400,
        ec2.terminate_client_vpn_connections,
        DryRun=True,
        ClientVpnEndpointId=endpoint_id,
        ConnectionId="cvpn-connection-00000000000000000",
    )
    assert json.dumps(emulator.state()) == before
    assert len(emulator.calls()) == 21


def test_regions_and_accounts_are_separate(emulator, ec2):
    west = emulator.client(region="eu-west-1")
    other = emulator.client(access_key="AKIDOTHERACCOUNT")
    east_id = create_endpoint(ec2)
    out = west.create_client_vpn_endpoint(**endpoint_args())
    assert out["DnsName"].endswith(".prod.clientvpn.eu-west-1.amazonaws.com")
    assert [e["ClientVpnEndpointId"] for e in ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"]] == [east_id]
    assert [e["ClientVpnEndpointId"] for e in west.describe_client_vpn_endpoints()["ClientVpnEndpoints"]] == [
        out["ClientVpnEndpointId"]
    ]
    assert other.describe_client_vpn_endpoints()["ClientVpnEndpoints"] == []
    assert_error(
        "InvalidClientVpnEndpointId.NotFound", 400, other.describe_client_vpn_endpoints, ClientVpnEndpointIds=[east_id]
    )
    state = emulator.state()["accounts"]
    assert list(state) == [account_id(ACCESS_KEY)]
    assert sorted(state[account_id(ACCESS_KEY)]) == ["eu-west-1", "us-east-1"]


def test_endpoint_quota(emulator, ec2):
    emulator.post("/_emulator/limits", {"endpoints_per_region": 2})
    first = create_endpoint(ec2)
    create_endpoint(ec2)
    assert_error("ClientVpnEndpointLimitExceeded", 400, ec2.create_client_vpn_endpoint, **endpoint_args())
    create_endpoint(emulator.client(region="us-west-2"))
    ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=first)
    create_endpoint(ec2)
