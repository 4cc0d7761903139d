"""AWS's request-rate token buckets, on by default: one per account, region and action; an empty
bucket is RequestLimitExceeded (503) for EC2 and ThrottlingException (400) for ACM. The buckets
refill while a test runs, so success counts are bounded by capacity + rate x elapsed time.
The `clean` fixture's reset gives every test full buckets."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import create_endpoint

DESCRIBE = "DescribeClientVpnEndpoints"


def until_refused(call):
    """Calls `call(i)` as fast as possible until it raises ClientError; returns the successes
    before it, the elapsed seconds and the error's response."""
    started = time.monotonic()
    for successes in range(2000):
        try:
            call(successes)
        except ClientError as err:
            return successes, time.monotonic() - started, err.response
    pytest.fail("2000 calls in a row were not throttled")


def assert_bucket(successes, elapsed, capacity, rate):
    assert capacity <= successes <= capacity + rate * elapsed + 1, (successes, elapsed)


def assert_throttled(response):
    assert response["Error"]["Code"] == "RequestLimitExceeded"
    assert response["Error"]["Message"] == "Request limit exceeded."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503


def rate_limited(emulator):
    return emulator.get("/_emulator/calls/rate-limited")


def test_describe_bucket_drains_and_other_actions_keep_theirs(emulator, ec2):
    endpoint_id = create_endpoint(ec2)
    successes, elapsed, refusal = until_refused(lambda _: ec2.describe_client_vpn_endpoints(MaxResults=5))
    assert_throttled(refusal)
    assert_bucket(successes, elapsed, 100, 20)
    # Right away: other actions, the unfiltered class of the same action, other regions and
    # accounts all have full buckets.
    ec2.describe_client_vpn_routes(ClientVpnEndpointId=endpoint_id)
    ec2.describe_client_vpn_endpoints()
    emulator.client(region="eu-west-1").describe_client_vpn_endpoints(MaxResults=5)
    emulator.client(access_key="AKIDOTHER").describe_client_vpn_endpoints(MaxResults=5)
    calls = emulator.calls()
    assert calls[DESCRIBE] == successes + 1 + 3, "refused requests are calls too"
    assert rate_limited(emulator) == {DESCRIBE: 1}


def test_unfiltered_unpaginated_describes_have_the_smaller_bucket(emulator, ec2):
    successes, elapsed, refusal = until_refused(lambda _: ec2.describe_client_vpn_endpoints())
    assert_throttled(refusal)
    assert_bucket(successes, elapsed, 50, 10)
    ec2.describe_client_vpn_endpoints(Filters=[{"Name": "transport-protocol", "Values": ["udp"]}])


def test_refused_mutations_change_nothing(emulator, ec2):
    endpoint_id = create_endpoint(ec2)

    def tag(i):
        ec2.create_tags(Resources=[endpoint_id], Tags=[{"Key": "round", "Value": str(i)}])

    successes, elapsed, refusal = until_refused(tag)
    assert_throttled(refusal)
    assert_bucket(successes, elapsed, 200, 5)
    endpoint = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])["ClientVpnEndpoints"][0]
    assert endpoint["Tags"] == [{"Key": "round", "Value": str(successes - 1)}]
    assert rate_limited(emulator) == {"CreateTags": 1}


def test_acm_buckets(emulator, acm, ec2):
    successes, elapsed, refusal = until_refused(lambda _: acm.list_certificates())
    assert_bucket(successes, elapsed, 10, 10)
    assert refusal["Error"]["Code"] == "ThrottlingException"
    assert refusal["Error"]["Message"] == "Rate exceeded"
    assert refusal["ResponseMetadata"]["HTTPStatusCode"] == 400
    ec2.describe_client_vpn_endpoints()
    assert rate_limited(emulator) == {"ListCertificates": 1}


def test_off_at_run_time(emulator, ec2):
    assert emulator.get("/_emulator/settings")["request_rate_limits"] == "aws"
    until_refused(lambda _: ec2.describe_client_vpn_endpoints())
    assert emulator.post("/_emulator/settings", {"request_rate_limits": "off"})["request_rate_limits"] == "off"
    for _ in range(80):
        ec2.describe_client_vpn_endpoints()
    assert rate_limited(emulator) == {DESCRIBE: 1}
    status, body = emulator.control("POST", "/_emulator/settings", {"request_rate_limits": "sometimes"})
    assert status == 400 and "error" in body
    emulator.post("/_emulator/settings", {"request_rate_limits": "aws"})
    until_refused(lambda _: ec2.describe_client_vpn_endpoints())


def test_counters_reset_and_random_faults_are_apart(emulator, ec2):
    until_refused(lambda _: ec2.describe_client_vpn_endpoints())
    assert rate_limited(emulator) == {DESCRIBE: 1}
    assert emulator.post("/_emulator/calls/reset") == {}
    assert rate_limited(emulator) == {}
    # A random throttling fault looks the same to the client but is not a bucket refusal.
    emulator.post("/_emulator/faults", {"throttle_probability": 1.0, "actions": ["DescribeClientVpnRoutes"]})
    with pytest.raises(ClientError) as info:
        ec2.describe_client_vpn_routes(ClientVpnEndpointId="cvpn-endpoint-00000000000000000")
    assert_throttled(info.value.response)
    assert rate_limited(emulator) == {}
    assert emulator.calls() == {"DescribeClientVpnRoutes": 1}
    # A reset refills every bucket.
    emulator.post("/_emulator/reset")
    successes, elapsed, _ = until_refused(lambda _: ec2.describe_client_vpn_endpoints())
    assert_bucket(successes, elapsed, 50, 10)
