"""CreateTags / DeleteTags and ExportClientVpnClientConfiguration."""

import pathlib
import re

from conftest import assert_error, create_endpoint, describe_endpoint

# What comes before <ca> in the default endpoint's configuration ({id}: the endpoint id); the Rust
# suite checks the same file.
CONFIG_HEAD = (pathlib.Path(__file__).parent.parent / "exported-config-head.txt").read_text()


def tags(ec2, endpoint_id):
    return {t["Key"]: t["Value"] for t in describe_endpoint(ec2, endpoint_id)["Tags"]}


def test_create_and_delete_tags(ec2):
    a, b = create_endpoint(ec2), create_endpoint(ec2)
    out = ec2.create_tags(
        Resources=[a, b],
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "net"}, {"Key": "empty", "Value": ""}],
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags(ec2, a) == {"env": "prod", "team": "net", "empty": ""}
    assert tags(ec2, b) == tags(ec2, a)
    ec2.create_tags(Resources=[a], Tags=[{"Key": "env", "Value": "dev"}])
    assert tags(ec2, a)["env"] == "dev"
    ec2.delete_tags(Resources=[a], Tags=[{"Key": "env", "Value": "prod"}])
    assert "env" in tags(ec2, a), "value did not match"
    ec2.delete_tags(Resources=[a], Tags=[{"Key": "env"}, {"Key": "empty", "Value": ""}])
    assert tags(ec2, a) == {"team": "net"}
    ec2.delete_tags(Resources=[b])
    assert tags(ec2, b) == {}


def test_tag_errors(ec2, raw_ec2):
    endpoint_id = create_endpoint(ec2)
    assert_error("InvalidParameterValue", 400, ec2.create_tags, Resources=[endpoint_id], Tags=[{"Key": "aws:x", "Value": "v"}])
    assert_error("InvalidParameterValue", 400, ec2.create_tags, Resources=[endpoint_id], Tags=[{"Key": "k" * 128, "Value": "v"}])
    assert_error("MissingParameter", 400, raw_ec2.create_tags, Resources=[endpoint_id])
    assert_error("InvalidID", 400, ec2.create_tags, Resources=["vpc-12345678"], Tags=[{"Key": "k", "Value": "v"}])
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        ec2.create_tags,
        Resources=["cvpn-endpoint-00000000000000000"],
        Tags=[{"Key": "k", "Value": "v"}],
    )
    ec2.create_tags(Resources=[endpoint_id], Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert_error("TagLimitExceeded", 400, ec2.create_tags, Resources=[endpoint_id], Tags=[{"Key": "more", "Value": "v"}])


def test_exported_configuration_line_by_line(ec2):
    endpoint_id = create_endpoint(ec2)
    config = ec2.export_client_vpn_client_configuration(ClientVpnEndpointId=endpoint_id)["ClientConfiguration"]
    lines = config.split("\n")
    assert lines[-1] == "", "ends with a newline"
    lines = lines[:-1]
    start, end = lines.index("<ca>"), lines.index("</ca>")
    assert lines[:start] == CONFIG_HEAD.replace("{id}", endpoint_id).splitlines()
    pem = lines[start + 1 : end]
    assert pem[0] == "-----BEGIN CERTIFICATE-----"
    assert pem[-1] == "-----END CERTIFICATE-----"
    assert all(re.fullmatch(r"[A-Za-z0-9+/=]{1,64}", line) for line in pem[1:-1])
    assert lines[end + 1 :] == ["reneg-sec 0", "verify-x509-name server-cert-1 name"]


def test_exported_configuration_for_tcp_and_federated(ec2):
    endpoint_id = create_endpoint(
        ec2,
        TransportProtocol="tcp",
        VpnPort=1194,
        AuthenticationOptions=[
            {
                "Type": "federated-authentication",
                "FederatedAuthentication": {"SAMLProviderArn": "arn:aws:iam::123456789012:saml-provider/idp"},
            }
        ],
    )
    lines = ec2.export_client_vpn_client_configuration(ClientVpnEndpointId=endpoint_id)["ClientConfiguration"].splitlines()
    assert lines[2] == "proto tcp"
    assert lines[3] == "remote %s.prod.clientvpn.us-east-1.amazonaws.com 1194" % endpoint_id
    assert lines[-1] == "auth-federate"
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        ec2.export_client_vpn_client_configuration,
        ClientVpnEndpointId="cvpn-endpoint-00000000000000000",
    )
