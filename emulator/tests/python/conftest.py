"""boto3 against a running clientvpn-emulator (started by run.sh, URL in CLIENTVPN_EMULATOR_URL).

The emulator state is reset before every test; lifecycle delays are the short ones run.sh sets
on the command line.
"""

import json
import os
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import certs

ACCESS_KEY = "AKIDTEST"
REGION = "us-east-1"
SERVER_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/server-cert-1"
CLIENT_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/client-root-1"
# Deterministic conventions (emulator/README.md): subnet-<hex> lives in vpc-<hex, last digit 0>,
# AZ = region + "abcdef"[last hex digit % 6]; the VPC CIDR is 10.<first two hex digits>.0.0/16.
SUBNET_A = "subnet-0123456789abcdef1"  # us-east-1b
SUBNET_B = "subnet-0123456789abcdef2"  # us-east-1c
SUBNET_SAME_AZ_AS_A = "subnet-0123456789abcdef7"  # us-east-1b
SUBNET_OTHER_VPC = "subnet-0223456789abcdef1"
VPC = "vpc-0123456789abcdef0"
VPC_CIDR = "10.1.0.0/16"
DEFAULT_SG = "sg-0123456789abcdef0"


def account_id(access_key):
    """FNV-1a 64 of the access key, mod 10^12, zero-padded to 12 digits."""
    h = 0xCBF29CE484222325
    for b in access_key.encode():
        h ^= b
        h = (h * 0x100000001B3) % (1 << 64)
    return "%012d" % (h % 10**12)


class Emulator:
    def __init__(self, url):
        self.url = url

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def post(self, path, body=None):
        status, data = self.control("POST", path, body)
        assert status == 200, (path, status, data)
        return data

    def get(self, path):
        status, data = self.control("GET", path)
        assert status == 200, (path, status, data)
        return data

    def state(self):
        return self.get("/_emulator/state")

    def calls(self):
        return self.get("/_emulator/calls")

    def client(self, region=REGION, access_key=ACCESS_KEY, validate=True, service="ec2", **config):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=access_key,
            aws_secret_access_key="secret",
            config=Config(
                retries={"total_max_attempts": 1},
                parameter_validation=validate,
                **config,
            ),
        )


@pytest.fixture(scope="session")
def emulator():
    url = os.environ.get("CLIENTVPN_EMULATOR_URL")
    if not url:
        pytest.exit("CLIENTVPN_EMULATOR_URL is not set; run emulator/tests/python/run.sh", 2)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return Emulator(url)


# AWS's quotas, which are also the emulator's defaults.
DEFAULT_LIMITS = {
    "endpoints_per_region": 5,
    "rules_per_endpoint": 200,
    "routes_per_association": 100,
    "concurrent_operations_per_endpoint": 10,
    "certificates_per_region": 2500,
}


@pytest.fixture(autouse=True)
def clean(emulator):
    """Fresh state, counters, faults and full request-rate buckets for every test (reset keeps
    limits, timing and settings, so restore them: the timing to what run.sh started the
    emulator with)."""
    timing = emulator.get("/_emulator/timing")
    emulator.post("/_emulator/reset")
    emulator.post("/_emulator/limits", DEFAULT_LIMITS)
    # Tests that are not about certificates use made-up ARNs; the ACM tests use `strict`.
    emulator.post("/_emulator/settings", {"permissive_certificates": True, "request_rate_limits": "aws"})
    yield
    emulator.post("/_emulator/timing", timing)


@pytest.fixture
def strict(emulator):
    """AWS's certificate checks (the emulator's default): endpoint certificates must be in ACM."""
    emulator.post("/_emulator/settings", {"permissive_certificates": False})


@pytest.fixture(scope="module")
def root():
    """The CA of a module's certificates (a module may define its own)."""
    return certs.ca("Client VPN CA")


@pytest.fixture
def ec2(emulator):
    return emulator.client()


@pytest.fixture
def acm(emulator):
    return emulator.client(service="acm")


@pytest.fixture
def raw_acm(emulator):
    """No client-side validation (botocore checks `min` lengths itself)."""
    return emulator.client(service="acm", validate=False)


@pytest.fixture
def raw_ec2(emulator):
    """No client-side validation, so the emulator's own checks are reached."""
    return emulator.client(validate=False)


def wait_until(what, probe, timeout=10.0):
    """Polls `probe` until it is truthy. The pause doubles from 10 ms up to 100 ms, so a long
    wait stays within the emulator's request-rate buckets (10 unfiltered Describe calls per
    second are sustainable)."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def error_of(call, *args, **kwargs):
    """Runs a call that must fail; returns (code, http status, message, request id)."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    resp = info.value.response
    return (
        resp["Error"]["Code"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
        resp["Error"].get("Message", ""),
        resp["ResponseMetadata"].get("RequestId", ""),
    )


def assert_error(expected_code, expected_status, call, *args, **kwargs):
    code, status, message, request_id = error_of(call, *args, **kwargs)
    assert (code, status) == (expected_code, expected_status), message
    assert len(request_id) == 36
    return message


def mutual_auth(chain_arn=CLIENT_CERT):
    return {
        "Type": "certificate-authentication",
        "MutualAuthentication": {"ClientRootCertificateChainArn": chain_arn},
    }


def import_pair(acm, pair, chain=None, **extra):
    """ImportCertificate of a `certs` key pair, with these CAs as chain; returns the ARN."""
    args = {"Certificate": pair.cert_pem(), "PrivateKey": pair.key_pem()}
    if chain is not None:
        args["CertificateChain"] = b"".join(c.cert_pem() for c in chain)
    args.update(extra)
    return acm.import_certificate(**args)["CertificateArn"]


def endpoint_args(**overrides):
    args = {
        "ClientCidrBlock": "172.16.0.0/22",
        "ServerCertificateArn": SERVER_CERT,
        "AuthenticationOptions": [mutual_auth()],
        "ConnectionLogOptions": {"Enabled": False},
    }
    args.update(overrides)
    return args


def create_endpoint(ec2, **overrides):
    return ec2.create_client_vpn_endpoint(**endpoint_args(**overrides))["ClientVpnEndpointId"]


def describe_endpoint(ec2, endpoint_id):
    endpoints = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert len(endpoints) == 1
    return endpoints[0]


def endpoint_status(ec2, endpoint_id):
    return describe_endpoint(ec2, endpoint_id)["Status"]["Code"]


def associate(ec2, endpoint_id, subnet):
    association_id = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, SubnetId=subnet
    )["AssociationId"]

    def associated():
        networks = ec2.describe_client_vpn_target_networks(
            ClientVpnEndpointId=endpoint_id, AssociationIds=[association_id]
        )["ClientVpnTargetNetworks"]
        return networks and networks[0]["Status"]["Code"] == "associated"

    wait_until("association " + association_id, associated)
    return association_id
