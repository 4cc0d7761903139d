"""Create / Describe / Modify / Delete ClientVpnEndpoint(s), parsed by botocore."""

import re

from conftest import (
    CLIENT_CERT,
    DEFAULT_SG,
    SERVER_CERT,
    SUBNET_A,
    VPC,
    assert_error,
    create_endpoint,
    describe_endpoint,
    endpoint_args,
    endpoint_status,
    mutual_auth,
    wait_until,
)

FEDERATED = {
    "Type": "federated-authentication",
    "FederatedAuthentication": {
        "SAMLProviderArn": "arn:aws:iam::123456789012:saml-provider/idp",
        "SelfServiceSAMLProviderArn": "arn:aws:iam::123456789012:saml-provider/portal",
    },
}
DIRECTORY = {"Type": "directory-service-authentication", "ActiveDirectory": {"DirectoryId": "d-1234567890"}}


def test_create_returns_id_status_and_dns_name(ec2):
    out = ec2.create_client_vpn_endpoint(**endpoint_args())
    endpoint_id = out["ClientVpnEndpointId"]
    assert re.fullmatch(r"cvpn-endpoint-[0-9a-f]{17}", endpoint_id)
    assert out["Status"] == {"Code": "pending-associate"}
    assert out["DnsName"] == "*.%s.prod.clientvpn.us-east-1.amazonaws.com" % endpoint_id
    assert len(out["ResponseMetadata"]["RequestId"]) == 36
    assert out["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == out["ResponseMetadata"]["RequestId"]


def test_describe_reports_every_field(ec2):
    endpoint_id = ec2.create_client_vpn_endpoint(
        **endpoint_args(
            ClientCidrBlock="172.16.0.0/20",
            AuthenticationOptions=[mutual_auth(), FEDERATED],
            ConnectionLogOptions={
                "Enabled": True,
                "CloudwatchLogGroup": "vpn-logs",
                "CloudwatchLogStream": "stream-1",
                "IncludeAuthorizationPolicyContext": True,
            },
            DnsServers=["10.1.0.2", "8.8.8.8"],
            TransportProtocol="tcp",
            VpnPort=1194,
            Description="team <vpn> & friends",
            SplitTunnel=True,
            TagSpecifications=[
                {
                    "ResourceType": "client-vpn-endpoint",
                    "Tags": [{"Key": "Name", "Value": "prod vpn"}, {"Key": "clientvpn.io/uid", "Value": "1234"}],
                }
            ],
            VpcId=VPC,
            SecurityGroupIds=["sg-11111111", "sg-0123456789abcdef9"],
            SelfServicePortal="enabled",
            ClientConnectOptions={
                "Enabled": True,
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check",
            },
            SessionTimeoutHours=12,
            ClientLoginBannerOptions={"Enabled": True, "BannerText": "Authorized use only"},
            ClientRouteEnforcementOptions={"Enforced": True},
            DisconnectOnSessionTimeout=False,
            EndpointIpAddressType="dual-stack",
            TrafficIpAddressType="ipv4",
        )
    )["ClientVpnEndpointId"]
    ep = describe_endpoint(ec2, endpoint_id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", ep.pop("CreationTime"))
    assert ep == {
        "ClientVpnEndpointId": endpoint_id,
        "Description": "team <vpn> & friends",
        "Status": {"Code": "pending-associate"},
        "DnsName": "*.%s.prod.clientvpn.us-east-1.amazonaws.com" % endpoint_id,
        "ClientCidrBlock": "172.16.0.0/20",
        "DnsServers": ["10.1.0.2", "8.8.8.8"],
        "SplitTunnel": True,
        "VpnProtocol": "openvpn",
        "TransportProtocol": "tcp",
        "VpnPort": 1194,
        "AssociatedTargetNetworks": [],
        "ServerCertificateArn": SERVER_CERT,
        "AuthenticationOptions": [
            {
                "Type": "certificate-authentication",
                "MutualAuthentication": {"ClientRootCertificateChain": CLIENT_CERT},
            },
            {
                "Type": "federated-authentication",
                "FederatedAuthentication": {
                    "SamlProviderArn": "arn:aws:iam::123456789012:saml-provider/idp",
                    "SelfServiceSamlProviderArn": "arn:aws:iam::123456789012:saml-provider/portal",
                },
            },
        ],
        "ConnectionLogOptions": {
            "Enabled": True,
            "CloudwatchLogGroup": "vpn-logs",
            "CloudwatchLogStream": "stream-1",
            "IncludeAuthorizationPolicyContext": True,
        },
        "Tags": [{"Key": "Name", "Value": "prod vpn"}, {"Key": "clientvpn.io/uid", "Value": "1234"}],
        "SecurityGroupIds": ["sg-11111111", "sg-0123456789abcdef9"],
        "VpcId": VPC,
        "SelfServicePortalUrl": "https://self-service.clientvpn.amazonaws.com/endpoints/" + endpoint_id,
        "ClientConnectOptions": {
            "Enabled": True,
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check",
            "Status": {"Code": "applied"},
        },
        "SessionTimeoutHours": 12,
        "ClientLoginBannerOptions": {"Enabled": True, "BannerText": "Authorized use only"},
        "ClientRouteEnforcementOptions": {"Enforced": True},
        "DisconnectOnSessionTimeout": False,
        "EndpointIpAddressType": "dual-stack",
        "TrafficIpAddressType": "ipv4",
    }


def test_defaults_of_a_minimal_endpoint(ec2):
    ep = describe_endpoint(ec2, create_endpoint(ec2))
    assert ep["Description"] == ""
    assert "DnsServers" not in ep
    assert ep["SplitTunnel"] is False
    assert ep["TransportProtocol"] == "udp"
    assert ep["VpnPort"] == 443
    assert ep["ConnectionLogOptions"] == {"Enabled": False}
    assert ep["Tags"] == []
    assert ep["SecurityGroupIds"] == []
    assert "VpcId" not in ep and "SelfServicePortalUrl" not in ep and "DeletionTime" not in ep
    assert ep["SessionTimeoutHours"] == 24
    assert ep["DisconnectOnSessionTimeout"] is True
    assert ep["ClientConnectOptions"]["Enabled"] is False
    assert ep["ClientLoginBannerOptions"] == {"Enabled": False}
    assert ep["ClientRouteEnforcementOptions"] == {"Enforced": False}
    assert ep["EndpointIpAddressType"] == "ipv4"


def test_vpc_without_security_groups_gets_the_default_group(ec2):
    ep = describe_endpoint(ec2, create_endpoint(ec2, VpcId=VPC))
    assert ep["SecurityGroupIds"] == [DEFAULT_SG]


def test_directory_authentication(ec2):
    ep = describe_endpoint(ec2, create_endpoint(ec2, AuthenticationOptions=[DIRECTORY, mutual_auth()]))
    assert ep["AuthenticationOptions"][0] == {
        "Type": "directory-service-authentication",
        "ActiveDirectory": {"DirectoryId": "d-1234567890"},
    }


def test_transit_gateway_and_device_posture(ec2):
    out = ec2.create_client_vpn_endpoint(
        **endpoint_args(
            TransitGatewayConfiguration={
                "TransitGatewayId": "tgw-0123456789abcdef0",
                "AvailabilityZones": ["us-east-1a", "us-east-1b"],
                "AvailabilityZoneIds": ["use1-az1"],
            },
            DevicePostureOptions={
                "Enabled": True,
                "TrustProviders": [
                    {
                        "TrustProviderType": "jamf",
                        "TenantId": "tenant-1",
                        "PublicSigningKeyUrl": "https://keys.example.com/jwks",
                    }
                ],
            },
        )
    )
    assert out["Status"]["Code"] == "pending"
    endpoint_id = out["ClientVpnEndpointId"]
    ep = describe_endpoint(ec2, endpoint_id)
    tgw = ep["TransitGatewayConfiguration"]
    assert tgw["TransitGatewayId"] == "tgw-0123456789abcdef0"
    assert re.fullmatch(r"tgw-attach-[0-9a-f]{17}", tgw["TransitGatewayAttachmentId"])
    assert tgw["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert tgw["AvailabilityZoneIds"] == ["use1-az1"]
    assert ep["DevicePostureOptions"] == {
        "TrustProviders": [
            {"TrustProviderType": "jamf", "TenantId": "tenant-1", "PublicSigningKeyUrl": "https://keys.example.com/jwks"}
        ]
    }
    wait_until("tgw endpoint available", lambda: endpoint_status(ec2, endpoint_id) == "available")
    assoc = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, AvailabilityZoneId="use1-az1")
    networks = ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=endpoint_id)["ClientVpnTargetNetworks"]
    assert networks[0]["AssociationId"] == assoc["AssociationId"]
    assert networks[0]["AvailabilityZoneIds"] == ["use1-az1"]


def test_modify(ec2):
    endpoint_id = create_endpoint(
        ec2, Description="before", DnsServers=["10.0.0.2"], AuthenticationOptions=[mutual_auth(), DIRECTORY]
    )
    out = ec2.modify_client_vpn_endpoint(
        ClientVpnEndpointId=endpoint_id,
        ServerCertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/server-cert-2",
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "g"},
        DnsServers={"CustomDnsServers": ["1.1.1.1", "1.0.0.1"], "Enabled": True},
        VpnPort=1194,
        SplitTunnel=True,
        VpcId=VPC,
        SecurityGroupIds=["sg-22222222"],
        SelfServicePortal="enabled",
        SessionTimeoutHours=8,
        ClientLoginBannerOptions={"Enabled": True, "BannerText": "hi"},
        ClientRouteEnforcementOptions={"Enforced": True},
        DisconnectOnSessionTimeout=False,
        DevicePostureOptions={"TrustProviders": [{"TrustProviderType": "crowdstrike"}]},
    )
    assert out["Return"] is True
    ep = describe_endpoint(ec2, endpoint_id)
    assert ep["Description"] == "before"
    assert ep["ServerCertificateArn"].endswith("server-cert-2")
    assert ep["ConnectionLogOptions"] == {"Enabled": True, "CloudwatchLogGroup": "g"}
    assert ep["DnsServers"] == ["1.1.1.1", "1.0.0.1"]
    assert ep["VpnPort"] == 1194
    assert ep["SplitTunnel"] is True
    assert ep["VpcId"] == VPC
    assert ep["SecurityGroupIds"] == ["sg-22222222"]
    assert ep["SelfServicePortalUrl"].endswith(endpoint_id)
    assert ep["SessionTimeoutHours"] == 8
    assert ep["ClientLoginBannerOptions"] == {"Enabled": True, "BannerText": "hi"}
    assert ep["ClientRouteEnforcementOptions"] == {"Enforced": True}
    assert ep["DisconnectOnSessionTimeout"] is False
    assert ep["DevicePostureOptions"] == {"TrustProviders": [{"TrustProviderType": "crowdstrike"}]}

    ec2.modify_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id, DnsServers={"Enabled": False}, Description="after")
    ep = describe_endpoint(ec2, endpoint_id)
    assert "DnsServers" not in ep
    assert ep["Description"] == "after"


def test_modify_errors(ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    for kwargs in [
        {"VpnPort": 80},
        {"SessionTimeoutHours": 9},
        {"DnsServers": {"CustomDnsServers": ["1.1.1.1", "1.0.0.1", "8.8.8.8"]}},
        {"SecurityGroupIds": ["sg-12345678"]},
        {"SelfServicePortal": "enabled"},
        {"TransitGatewayConfiguration": {"TransitGatewayId": "tgw-12345678"}},
    ]:
        assert_error("InvalidParameterValue", 400, ec2.modify_client_vpn_endpoint, ClientVpnEndpointId=endpoint_id, **kwargs)
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        ec2.modify_client_vpn_endpoint,
        ClientVpnEndpointId="cvpn-endpoint-00000000000000000",
        Description="x",
    )
    assert_error("MissingParameter", 400, raw_ec2.modify_client_vpn_endpoint)


def test_delete_lifecycle(ec2):
    endpoint_id = create_endpoint(ec2)
    assert ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id)["Status"] == {"Code": "deleting"}
    assert endpoint_status(ec2, endpoint_id) == "deleting"
    assert_error("IncorrectState", 400, ec2.modify_client_vpn_endpoint, ClientVpnEndpointId=endpoint_id, Description="x")
    ep = wait_until(
        "deleted",
        lambda: (lambda e: e if e["Status"]["Code"] == "deleted" else None)(describe_endpoint(ec2, endpoint_id)),
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", ep["DeletionTime"])
    assert_error("InvalidClientVpnEndpointId.NotFound", 400, ec2.delete_client_vpn_endpoint, ClientVpnEndpointId=endpoint_id)

    def gone():
        try:
            ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])
            return False
        except ec2.exceptions.ClientError as err:
            return err.response["Error"]["Code"] == "InvalidClientVpnEndpointId.NotFound"

    wait_until("endpoint gone", gone)
    assert ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"] == []


def test_delete_with_associations_is_refused(ec2):
    endpoint_id = create_endpoint(ec2)
    association_id = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=SUBNET_A)[
        "AssociationId"
    ]
    message = assert_error(
        "ClientVpnEndpointAssociationExists", 400, ec2.delete_client_vpn_endpoint, ClientVpnEndpointId=endpoint_id
    )
    assert association_id in message


def test_filters(ec2, raw_ec2):
    udp = create_endpoint(ec2)
    tcp = create_endpoint(ec2, TransportProtocol="tcp")

    def ids(filters):
        return sorted(e["ClientVpnEndpointId"] for e in ec2.describe_client_vpn_endpoints(Filters=filters)["ClientVpnEndpoints"])

    assert ids([{"Name": "transport-protocol", "Values": ["tcp"]}]) == [tcp]
    assert ids([{"Name": "endpoint-id", "Values": [udp]}]) == [udp]
    assert ids([{"Name": "endpoint-id", "Values": ["cvpn-endpoint-*"]}]) == sorted([udp, tcp])
    assert ids([{"Name": "endpoint-id", "Values": [udp]}, {"Name": "transport-protocol", "Values": ["tcp"]}]) == []
    message = assert_error(
        "InvalidParameterValue", 400, ec2.describe_client_vpn_endpoints, Filters=[{"Name": "tag:Name", "Values": ["x"]}]
    )
    assert "tag:Name" in message
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        ec2.describe_client_vpn_endpoints,
        ClientVpnEndpointIds=["cvpn-endpoint-0123456789abcdef0"],
    )


def test_paginator_and_max_results(emulator, ec2, raw_ec2):
    emulator.post("/_emulator/limits", {"endpoints_per_region": 12})  # more than AWS's 5
    created = sorted(create_endpoint(ec2) for _ in range(12))
    pages = list(ec2.get_paginator("describe_client_vpn_endpoints").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["ClientVpnEndpoints"]) for p in pages] == [5, 5, 2]
    assert "NextToken" in pages[0] and "NextToken" not in pages[-1]
    listed = sorted(e["ClientVpnEndpointId"] for p in pages for e in p["ClientVpnEndpoints"])
    assert listed == created
    for bad in (4, 1001):
        assert_error("InvalidParameterValue", 400, raw_ec2.describe_client_vpn_endpoints, MaxResults=bad)
    assert_error("InvalidPaginationToken", 400, ec2.describe_client_vpn_endpoints, NextToken="not-a-token")
