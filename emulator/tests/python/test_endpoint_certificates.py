"""EC2 Client VPN and ACM together: endpoint certificates must be imported (the default)."""

import pytest

import certs
from conftest import ACCESS_KEY, REGION, SUBNET_A, account_id
from conftest import assert_error, associate, endpoint_args, endpoint_status, import_pair, mutual_auth, wait_until

pytestmark = pytest.mark.usefixtures("strict")


@pytest.fixture(scope="module")
def server(root):
    return certs.leaf(root, "server.vpn.internal", sans=("server.vpn.internal",))


def test_default_is_strict(emulator, ec2):
    emulator.post("/_emulator/reset")
    # run.sh starts the emulator without --permissive-certificates; reset keeps settings.
    assert emulator.get("/_emulator/settings") == {"permissive_certificates": False, "request_rate_limits": "aws"}


def test_unknown_certificates_are_refused(emulator, ec2, acm, root, server):
    server_arn = import_pair(acm, server, chain=[root])
    fake = "arn:aws:acm:%s:%s:certificate/11111111-2222-4333-8444-555555555555" % (REGION, account_id(ACCESS_KEY))
    message = assert_error(
        "InvalidParameterValue", 400, ec2.create_client_vpn_endpoint, **endpoint_args(ServerCertificateArn=fake)
    )
    assert message == "Certificate %s does not exist" % fake
    message = assert_error(
        "InvalidParameterValue",
        400,
        ec2.create_client_vpn_endpoint,
        **endpoint_args(ServerCertificateArn=server_arn, AuthenticationOptions=[mutual_auth(fake)]),
    )
    assert fake in message
    # DryRun validates the certificates too.
    assert_error(
        "InvalidParameterValue", 400, ec2.create_client_vpn_endpoint, DryRun=True, **endpoint_args(ServerCertificateArn=fake)
    )
    # Another region's or account's ACM does not count.
    west = emulator.client(service="acm", region="us-west-2")
    west_arn = import_pair(west, server)
    assert_error(
        "InvalidParameterValue", 400, ec2.create_client_vpn_endpoint, **endpoint_args(ServerCertificateArn=west_arn)
    )
    # Permissive mode accepts any well-formed ARN again.
    emulator.post("/_emulator/settings", {"permissive_certificates": True})
    ec2.create_client_vpn_endpoint(**endpoint_args(ServerCertificateArn=fake, AuthenticationOptions=[mutual_auth(fake)]))


def test_server_certificate_needs_a_domain(ec2, acm, root):
    bare = certs.leaf(root, "server", sans=())
    arn = import_pair(acm, bare, chain=[root])
    message = assert_error(
        "InvalidParameterValue",
        400,
        ec2.create_client_vpn_endpoint,
        **endpoint_args(ServerCertificateArn=arn, AuthenticationOptions=[mutual_auth(arn)]),
    )
    assert message == "Certificate %s does not have a domain" % arn


def test_in_use_certificates_cannot_be_deleted(emulator, ec2, acm, root, server):
    server_arn = import_pair(acm, server, chain=[root])
    client_root = certs.leaf(root, "clients.vpn.internal", sans=("clients.vpn.internal",), server=False)
    root_arn = import_pair(acm, client_root, chain=[root])
    endpoint_id = ec2.create_client_vpn_endpoint(
        **endpoint_args(ServerCertificateArn=server_arn, AuthenticationOptions=[mutual_auth(root_arn)])
    )["ClientVpnEndpointId"]
    endpoint_arn = "arn:aws:ec2:%s:%s:client-vpn-endpoint/%s" % (REGION, account_id(ACCESS_KEY), endpoint_id)
    for arn in (server_arn, root_arn):
        assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [endpoint_arn]
        message = assert_error("ResourceInUseException", 400, acm.delete_certificate, CertificateArn=arn)
        assert message == "Certificate %s in account %s is in use." % (arn, account_id(ACCESS_KEY))
    listed = acm.list_certificates()["CertificateSummaryList"]
    assert [c["InUse"] for c in listed] == [True, True]

    # Modify to another certificate frees the first one; the root chain stays in use.
    other = certs.leaf(root, "other.vpn.internal", sans=("other.vpn.internal",), fresh_key=True)
    other_arn = import_pair(acm, other, chain=[root])
    fake = server_arn[:-4] + "0000"
    message = assert_error(
        "InvalidParameterValue", 400, ec2.modify_client_vpn_endpoint, ClientVpnEndpointId=endpoint_id, ServerCertificateArn=fake
    )
    assert message == "Certificate %s does not exist" % fake
    ec2.modify_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id, ServerCertificateArn=other_arn)
    acm.delete_certificate(CertificateArn=server_arn)

    # Re-import keeps the ARN and the association with the endpoint.
    renewed = certs.leaf(root, "other.vpn.internal", sans=("other.vpn.internal",), fresh_key=True)
    acm.import_certificate(
        CertificateArn=other_arn, Certificate=renewed.cert_pem(), PrivateKey=renewed.key_pem(), CertificateChain=root.cert_pem()
    )
    assert acm.describe_certificate(CertificateArn=other_arn)["Certificate"]["InUseBy"] == [endpoint_arn]

    # Deleting the endpoint: still in use while `deleting`, free once `deleted`.
    ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id)
    wait_until("endpoint deleted", lambda: endpoint_status(ec2, endpoint_id) == "deleted")
    acm.delete_certificate(CertificateArn=other_arn)
    acm.delete_certificate(CertificateArn=root_arn)


def test_export_carries_the_imported_chain(ec2, acm, root, server):
    server_arn = import_pair(acm, server, chain=[root])
    endpoint_id = ec2.create_client_vpn_endpoint(
        **endpoint_args(ServerCertificateArn=server_arn, AuthenticationOptions=[mutual_auth(server_arn)])
    )["ClientVpnEndpointId"]
    associate(ec2, endpoint_id, SUBNET_A)
    config = ec2.export_client_vpn_client_configuration(ClientVpnEndpointId=endpoint_id)["ClientConfiguration"]
    lines = config.splitlines()
    ca = "\n".join(lines[lines.index("<ca>") + 1 : lines.index("</ca>")]) + "\n"
    assert ca == root.cert_pem().decode()
    assert "verify-x509-name server.vpn.internal name" in lines
