"""Client certificate revocation lists and client connections with boto3; simulated clients
connect through POST /_emulator/connections with certificates made by `cryptography`."""

import re

import pytest

import certs
from conftest import ACCESS_KEY, REGION, SUBNET_A, account_id
from conftest import assert_error, associate, endpoint_args, import_pair, mutual_auth, wait_until

pytestmark = pytest.mark.usefixtures("strict")

CONNECTION_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@pytest.fixture(scope="module")
def server(root):
    return certs.leaf(root, "vpn.example.com", sans=("vpn.example.com",))


class Vpn:
    """An available endpoint whose server certificate (issued by `root`, imported with it as
    chain) is also the client root chain: AWS's same-CA shortcut."""

    def __init__(self, emulator, ec2, acm, root, server):
        self.emulator, self.ec2, self.root = emulator, ec2, root
        self.server_arn = import_pair(acm, server, chain=[root])
        self.id = self.create([mutual_auth(self.server_arn)])
        associate(ec2, self.id, SUBNET_A)

    def create(self, auth):
        args = endpoint_args(ServerCertificateArn=self.server_arn, AuthenticationOptions=auth)
        return self.ec2.create_client_vpn_endpoint(**args)["ClientVpnEndpointId"]

    def connect(self, pair, endpoint_id=None, chain=(), **extra):
        body = {
            "clientVpnEndpointId": endpoint_id or self.id,
            "certificate": (pair.cert_pem() + b"".join(c.cert_pem() for c in chain)).decode(),
            "privateKey": pair.key_pem().decode(),
            **extra,
        }
        return self.emulator.control("POST", "/_emulator/connections", body)

    def connected(self, pair, **kwargs):
        status, body = self.connect(pair, **kwargs)
        assert status == 200, body
        return body

    def refused(self, pair, **kwargs):
        status, body = self.connect(pair, **kwargs)
        assert status == 403, body
        assert body["refused"] is True and body["message"]
        return body["reason"]

    def import_crl(self, pem):
        out = self.ec2.import_client_vpn_client_certificate_revocation_list(
            ClientVpnEndpointId=self.id, CertificateRevocationList=pem.decode()
        )
        assert out["Return"] is True

    def export_crl(self):
        out = self.ec2.export_client_vpn_client_certificate_revocation_list(ClientVpnEndpointId=self.id)
        out.pop("ResponseMetadata")
        return out

    def wait_crl_active(self):
        wait_until("CRL active", lambda: self.export_crl().get("Status") == {"Code": "active"})

    def connections(self, **kwargs):
        return self.ec2.describe_client_vpn_connections(ClientVpnEndpointId=self.id, **kwargs)["Connections"]


@pytest.fixture
def vpn(emulator, ec2, acm, root, server):
    return Vpn(emulator, ec2, acm, root, server)


def test_crl_round_trip_goes_pending_then_active(emulator, vpn, root):
    assert vpn.export_crl() == {}, "nothing before an import"
    emulator.post("/_emulator/timing", {"crl_delay_ms": 1000})
    pem = certs.crl(root, [7, 8])
    vpn.import_crl(pem)
    assert vpn.export_crl() == {"CertificateRevocationList": pem.decode(), "Status": {"Code": "pending"}}
    vpn.wait_crl_active()
    assert vpn.export_crl()["CertificateRevocationList"] == pem.decode()

    replacement = certs.crl(root, [9])
    vpn.import_crl(replacement)
    assert vpn.export_crl() == {"CertificateRevocationList": replacement.decode(), "Status": {"Code": "pending"}}
    endpoint = emulator.state()["accounts"][account_id(ACCESS_KEY)][REGION]["endpoints"][0]
    assert endpoint["crl"]["status"] == "pending"
    assert endpoint["crl"]["revocationList"]["entries"] == 1

    args = dict(ClientVpnEndpointId=vpn.id, CertificateRevocationList=pem.decode())
    assert_error("DryRunOperation", 412, vpn.ec2.import_client_vpn_client_certificate_revocation_list, DryRun=True, **args)
    assert vpn.export_crl()["CertificateRevocationList"] == replacement.decode()
    unknown = "cvpn-endpoint-00000000000000000"
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        vpn.ec2.import_client_vpn_client_certificate_revocation_list,
        **dict(args, ClientVpnEndpointId=unknown),
    )
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        vpn.ec2.export_client_vpn_client_certificate_revocation_list,
        ClientVpnEndpointId=unknown,
    )


def test_malformed_foreign_and_oversized_crls_are_refused(vpn, root):
    def refused(pem, code="InvalidParameterValue"):
        return assert_error(
            code,
            400,
            vpn.ec2.import_client_vpn_client_certificate_revocation_list,
            ClientVpnEndpointId=vpn.id,
            CertificateRevocationList=pem,
        )

    refused("not a CRL")
    refused("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
    refused(root.cert_pem().decode())
    other = certs.ca("Another CA", issuer=root)  # issued by root, but not in the client root chain
    refused(certs.crl(other, [1]).decode())
    message = refused(certs.crl(root, range(1, 20_002)).decode(), "ClientVpnCertificateRevocationListLimitExceeded")
    assert "20001" in message
    assert vpn.export_crl() == {}
    vpn.import_crl(certs.crl(root, range(1, 20_001)))
    vpn.wait_crl_active()
    assert vpn.refused(certs.client(root, "c", serial=20_000)) == "certificate-revoked"
    vpn.connected(certs.client(root, "c", serial=20_001))


def test_clients_are_accepted_and_refused_for_each_reason(vpn, root):
    alice = vpn.connected(certs.client(root, "alice"))
    assert re.fullmatch(r"cvpn-connection-[0-9a-f]{17}", alice["connectionId"])
    assert alice == {
        "connectionId": alice["connectionId"],
        "clientVpnEndpointId": vpn.id,
        "commonName": "alice",
        "clientIp": "172.16.0.2",
        "status": "active",
    }
    assert vpn.connected(certs.client(root, "bob"))["clientIp"] == "172.16.0.3"

    intermediate = certs.ca("Issuing CA", issuer=root)
    carol = certs.client(intermediate, "carol")
    assert vpn.connected(carol, chain=[intermediate])["commonName"] == "carol"
    assert vpn.refused(carol) == "untrusted-certificate", "intermediate not presented"

    mismatched = certs.Pair(certs.client(root, "mallory").cert, certs.client(root, "mallory").key)
    assert vpn.refused(mismatched) == "key-mismatch"
    assert vpn.refused(certs.client(certs.ca("Stranger CA", issuer=certs.ca("Stranger root")), "eve")) == "untrusted-certificate"
    expired = certs.client(root, "old", not_before=certs.NOW - 30 * certs.DAY, not_after=certs.NOW - certs.DAY)
    assert vpn.refused(expired) == "certificate-expired"
    future = certs.client(root, "new", not_before=certs.NOW + certs.DAY, not_after=certs.NOW + 30 * certs.DAY)
    assert vpn.refused(future) == "certificate-not-yet-valid"
    anonymous = certs.client(root, subject=certs.x509.Name([]))
    assert vpn.refused(anonymous) == "no-common-name"

    dave = certs.client(root, "dave")
    idle = vpn.create([mutual_auth(vpn.server_arn)])
    assert vpn.refused(dave, endpoint_id=idle) == "endpoint-not-available"
    directory = vpn.create([{"Type": "directory-service-authentication", "ActiveDirectory": {"DirectoryId": "d-1234567890"}}])
    assert vpn.refused(dave, endpoint_id=directory) == "not-mutual-authentication"

    assert vpn.connect(dave, endpoint_id="cvpn-endpoint-00000000000000000")[0] == 404
    assert vpn.connect(dave, region="eu-west-1")[0] == 404
    assert vpn.connect(dave, account="000000000000")[0] == 404
    assert vpn.connected(dave, region=REGION, account=account_id(ACCESS_KEY))["commonName"] == "dave"
    status, body = vpn.emulator.control(
        "POST", "/_emulator/connections", {"clientVpnEndpointId": vpn.id, "certificate": "x", "privateKey": "y"}
    )
    assert status == 400 and body["error"]
    status, _ = vpn.emulator.control("POST", "/_emulator/connections", {"clientVpnEndpointId": vpn.id, "cert": "x"})
    assert status == 400

    # Refused attempts are not listed.
    assert [c["CommonName"] for c in vpn.connections()] == ["alice", "bob", "carol", "dave"]


def test_crl_import_resets_sessions_and_applies_once_active(emulator, vpn, root):
    alice = certs.client(root, "alice")
    bob = certs.client(root, "bob")
    vpn.connected(alice)
    vpn.connected(bob)
    emulator.post("/_emulator/timing", {"crl_delay_ms": 1500})
    vpn.import_crl(certs.crl(root, [bob.cert.serial_number]))
    listed = vpn.connections()
    assert [c["Status"] for c in listed] == [{"Code": "terminated"}] * 2, "ended sessions stay listed"
    assert all(CONNECTION_TIME.fullmatch(c["ConnectionEndTime"]) for c in listed)
    # Until the new list is active the previous one (none) applies.
    vpn.connected(bob)
    vpn.wait_crl_active()
    assert vpn.refused(bob) == "certificate-revoked"
    vpn.connected(alice)
    active = [c["CommonName"] for c in vpn.connections() if c["Status"]["Code"] == "active"]
    assert active == ["bob", "alice"]


def test_an_expired_crl_refuses_everyone(vpn, root):
    alice = certs.client(root, "alice")
    vpn.import_crl(certs.crl(root, [], last_update=certs.NOW - 10 * certs.DAY, next_update=certs.NOW - certs.DAY))
    vpn.wait_crl_active()
    assert vpn.refused(alice) == "crl-expired"
    vpn.import_crl(certs.crl(root, []))
    vpn.wait_crl_active()
    vpn.connected(alice)


def test_describe_pages_filters_and_validates(vpn, root, raw_ec2):
    ids = [vpn.connected(certs.client(root, "user-%d" % n))["connectionId"] for n in range(7)]
    page = vpn.ec2.describe_client_vpn_connections(ClientVpnEndpointId=vpn.id, MaxResults=5)
    assert len(page["Connections"]) == 5 and page["NextToken"]
    rest = vpn.ec2.describe_client_vpn_connections(ClientVpnEndpointId=vpn.id, MaxResults=5, NextToken=page["NextToken"])
    assert "NextToken" not in rest
    paginator = vpn.ec2.get_paginator("describe_client_vpn_connections")
    listed = [c for p in paginator.paginate(ClientVpnEndpointId=vpn.id, PaginationConfig={"PageSize": 5}) for c in p["Connections"]]
    assert [c["ConnectionId"] for c in listed] == ids
    assert [c["ConnectionId"] for c in page["Connections"] + rest["Connections"]] == ids

    first = listed[0]
    assert CONNECTION_TIME.fullmatch(first["Timestamp"])
    assert CONNECTION_TIME.fullmatch(first["ConnectionEstablishedTime"])
    assert first == {
        "ClientVpnEndpointId": vpn.id,
        "Timestamp": first["Timestamp"],
        "ConnectionId": ids[0],
        "ConnectionEstablishedTime": first["ConnectionEstablishedTime"],
        "IngressBytes": "0",
        "EgressBytes": "0",
        "IngressPackets": "0",
        "EgressPackets": "0",
        "ClientIp": "172.16.0.2",
        "CommonName": "user-0",
        "Status": {"Code": "active"},
    }

    by_id = vpn.connections(Filters=[{"Name": "connection-id", "Values": [ids[3]]}])
    assert [c["CommonName"] for c in by_id] == ["user-3"]
    assert vpn.connections(Filters=[{"Name": "username", "Values": ["*"]}]) == []
    for bad in (
        dict(Filters=[{"Name": "common-name", "Values": ["user-1"]}]),
        dict(MaxResults=4),
        dict(MaxResults=1001),
    ):
        assert_error("InvalidParameterValue", 400, raw_ec2.describe_client_vpn_connections, ClientVpnEndpointId=vpn.id, **bad)
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        vpn.ec2.describe_client_vpn_connections,
        ClientVpnEndpointId="cvpn-endpoint-00000000000000000",
    )
    assert_error("DryRunOperation", 412, vpn.ec2.describe_client_vpn_connections, ClientVpnEndpointId=vpn.id, DryRun=True)


def test_terminate_by_id_keeps_the_session_listed(vpn, root):
    alice = vpn.connected(certs.client(root, "alice"))["connectionId"]
    terminate = vpn.ec2.terminate_client_vpn_connections
    assert_error("DryRunOperation", 412, terminate, ClientVpnEndpointId=vpn.id, ConnectionId=alice, DryRun=True)
    assert vpn.connections()[0]["Status"] == {"Code": "active"}

    out = terminate(ClientVpnEndpointId=vpn.id, ConnectionId=alice)
    out.pop("ResponseMetadata")
    assert out == {
        "ClientVpnEndpointId": vpn.id,
        "ConnectionStatuses": [
            {"ConnectionId": alice, "PreviousStatus": {"Code": "active"}, "CurrentStatus": {"Code": "terminating"}}
        ],
    }
    ended = wait_until("terminated", lambda: [c for c in vpn.connections() if c["Status"]["Code"] == "terminated"])
    assert CONNECTION_TIME.fullmatch(ended[0]["ConnectionEndTime"])
    again = terminate(ClientVpnEndpointId=vpn.id, ConnectionId=alice)["ConnectionStatuses"][0]
    assert (again["PreviousStatus"], again["CurrentStatus"]) == ({"Code": "terminated"}, {"Code": "terminated"})
    assert vpn.connected(certs.client(root, "bob"))["clientIp"] == "172.16.0.2", "the address is free again"

    assert_error(
        "InvalidClientVpnConnection.IdNotFound",
        400,
        terminate,
        ClientVpnEndpointId=vpn.id,
        ConnectionId="cvpn-connection-00000000000000000",
    )
    assert_error("InvalidClientVpnConnection.UserNotFound", 400, terminate, ClientVpnEndpointId=vpn.id, Username="alice")
    assert_error("MissingParameter", 400, terminate, ClientVpnEndpointId=vpn.id)
    assert_error(
        "InvalidClientVpnEndpointId.NotFound",
        400,
        terminate,
        ClientVpnEndpointId="cvpn-endpoint-00000000000000000",
        ConnectionId=alice,
    )


def test_mutual_and_directory_authentication_records_the_username(vpn, root):
    both = vpn.create(
        [mutual_auth(vpn.server_arn), {"Type": "directory-service-authentication", "ActiveDirectory": {"DirectoryId": "d-1234567890"}}]
    )
    associate(vpn.ec2, both, SUBNET_A)
    laptop = certs.client(root, "laptop-1")
    assert vpn.refused(laptop, endpoint_id=both) == "username-required"
    for _ in range(2):
        assert vpn.connected(laptop, endpoint_id=both, username="jdoe")["username"] == "jdoe"
    listed = vpn.ec2.describe_client_vpn_connections(
        ClientVpnEndpointId=both, Filters=[{"Name": "username", "Values": ["jdoe"]}]
    )["Connections"]
    assert [c["Username"] for c in listed] == ["jdoe", "jdoe"]
    out = vpn.ec2.terminate_client_vpn_connections(ClientVpnEndpointId=both, Username="jdoe")
    assert out["Username"] == "jdoe"
    assert [s["CurrentStatus"] for s in out["ConnectionStatuses"]] == [{"Code": "terminating"}] * 2
    assert_error(
        "InvalidClientVpnConnection.UserNotFound", 400, vpn.ec2.terminate_client_vpn_connections, ClientVpnEndpointId=both, Username="jdoe"
    )
    assert vpn.connect(laptop, username="jdoe")[0] == 400, "no user authentication on this endpoint"


def test_endpoint_changes_and_deletion_end_sessions(emulator, vpn, root):
    vpn.connected(certs.client(root, "alice"))
    vpn.ec2.modify_client_vpn_endpoint(ClientVpnEndpointId=vpn.id, SplitTunnel=True)
    assert vpn.connections()[0]["Status"] == {"Code": "terminated"}, "split-tunnel change resets sessions"

    vpn.import_crl(certs.crl(root, [1]))
    association = vpn.ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=vpn.id)["ClientVpnTargetNetworks"][0]
    bob = vpn.connected(certs.client(root, "bob"))["connectionId"]
    vpn.ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=vpn.id, AssociationId=association["AssociationId"])
    wait_until(
        "sessions end with the last association",
        lambda: [c for c in vpn.connections() if c["ConnectionId"] == bob and c["Status"]["Code"] == "terminated"],
    )
    wait_until(
        "no association left",
        lambda: not vpn.ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=vpn.id)["ClientVpnTargetNetworks"],
    )
    vpn.ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=vpn.id)
    endpoint = emulator.state()["accounts"][account_id(ACCESS_KEY)][REGION]["endpoints"][0]
    assert (endpoint["status"], endpoint["connections"], endpoint["crl"]) == ("deleting", [], None)


def test_faults_and_counters_cover_the_new_actions(emulator, vpn, root):
    emulator.post("/_emulator/faults/fail-next", {"action": "TerminateClientVpnConnections", "code": "RequestLimitExceeded"})
    assert_error(
        "RequestLimitExceeded", 503, vpn.ec2.terminate_client_vpn_connections, ClientVpnEndpointId=vpn.id, Username="x"
    )
    emulator.post("/_emulator/faults", {"throttle_probability": 1.0, "actions": ["ExportClientVpnClientCertificateRevocationList"]})
    assert_error("RequestLimitExceeded", 503, vpn.ec2.export_client_vpn_client_certificate_revocation_list, ClientVpnEndpointId=vpn.id)
    calls = emulator.calls()
    assert calls["TerminateClientVpnConnections"] == 1
    assert calls["ExportClientVpnClientCertificateRevocationList"] == 1
