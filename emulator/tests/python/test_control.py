"""The /_emulator/ control API, fault injection, and raw protocol details."""

import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ReadTimeoutError

from conftest import ACCESS_KEY, REGION, SUBNET_A, assert_error, associate, create_endpoint, endpoint_args


def endpoint_count(state):
    return sum(len(r["endpoints"]) for regions in state["accounts"].values() for r in regions.values())


def raw_post(emulator, body, authorization=True):
    req = urllib.request.Request(emulator.url + "/", data=body.encode(), method="POST")
    req.add_header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
    if authorization:
        req.add_header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/ec2/aws4_request, SignedHeaders=host, Signature=0" % (ACCESS_KEY, REGION),
        )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_healthz(emulator):
    assert emulator.get("/_emulator/healthz") == {"status": "ok"}


def test_calls_counters(emulator, ec2):
    create_endpoint(ec2)
    create_endpoint(ec2)
    ec2.describe_client_vpn_endpoints()
    emulator.post("/_emulator/faults/fail-next", {"action": "DescribeClientVpnEndpoints"})
    assert_error("InternalError", 500, ec2.describe_client_vpn_endpoints)
    assert emulator.calls() == {"CreateClientVpnEndpoint": 2, "DescribeClientVpnEndpoints": 2}
    assert emulator.post("/_emulator/calls/reset") == {}
    assert emulator.calls() == {}


def test_random_faults(emulator, ec2):
    emulator.post("/_emulator/faults", {"throttle_probability": 1.0, "actions": ["CreateClientVpnEndpoint"]})
    assert_error("RequestLimitExceeded", 503, ec2.create_client_vpn_endpoint, **endpoint_args())
    ec2.describe_client_vpn_endpoints()
    assert endpoint_count(emulator.state()) == 0
    emulator.post("/_emulator/faults", {"internal_error_probability": 1.0})
    assert_error("InternalError", 500, ec2.describe_client_vpn_endpoints)
    status, faults = emulator.control("DELETE", "/_emulator/faults")
    assert status == 200 and faults["internal_error_probability"] == 0.0
    create_endpoint(ec2)


def test_fail_next(emulator, ec2):
    emulator.post(
        "/_emulator/faults/fail-next",
        {"action": "CreateClientVpnEndpoint", "count": 2, "code": "UnauthorizedOperation", "message": "not allowed"},
    )
    for _ in range(2):
        assert assert_error("UnauthorizedOperation", 403, ec2.create_client_vpn_endpoint, **endpoint_args()) == "not allowed"
    create_endpoint(ec2)
    emulator.post("/_emulator/faults/fail-next", {"action": "DescribeClientVpnEndpoints", "code": "InvalidParameterValue"})
    assert_error("InvalidParameterValue", 400, ec2.describe_client_vpn_endpoints)


def test_fail_next_after_apply(emulator, ec2):
    emulator.post("/_emulator/faults/fail-next", {"action": "CreateClientVpnEndpoint", "after_apply": True})
    assert_error("InternalError", 500, ec2.create_client_vpn_endpoint, ClientToken="t", **endpoint_args())
    assert endpoint_count(emulator.state()) == 1
    ec2.create_client_vpn_endpoint(ClientToken="t", **endpoint_args())
    assert endpoint_count(emulator.state()) == 1


def test_latency_opens_a_crash_window(emulator):
    emulator.post("/_emulator/faults", {"latency_ms": 1500, "actions": ["CreateClientVpnEndpoint"]})
    impatient = emulator.client(read_timeout=0.3, connect_timeout=1)
    with pytest.raises(ReadTimeoutError):
        impatient.create_client_vpn_endpoint(**endpoint_args())
    assert endpoint_count(emulator.state()) == 1, "applied before the delay"
    started = time.monotonic()
    impatient.describe_client_vpn_endpoints()
    assert time.monotonic() - started < 1.0


def test_reset_and_state(emulator, ec2):
    endpoint_id = create_endpoint(ec2)
    associate(ec2, endpoint_id, SUBNET_A)
    ec2.create_tags(Resources=[endpoint_id], Tags=[{"Key": "owner", "Value": "me"}])
    state = emulator.state()
    ep = next(iter(next(iter(state["accounts"].values())).values()))["endpoints"][0]
    assert ep["clientVpnEndpointId"] == endpoint_id
    assert ep["status"] == "available"
    assert ep["tags"] == {"owner": "me"}
    assert ep["associations"][0]["targetNetworkId"] == SUBNET_A
    assert ep["routes"][0]["origin"] == "associate"
    emulator.post("/_emulator/faults", {"latency_ms": 1})
    emulator.post("/_emulator/reset")
    assert emulator.state() == {"accounts": {}}
    assert emulator.calls() == {}
    assert emulator.get("/_emulator/faults")["latency_ms"] == 0


def test_timing_api(emulator):
    timing = emulator.get("/_emulator/timing")
    assert set(timing) == {
        "association_delay_ms",
        "rule_delay_ms",
        "route_delay_ms",
        "delete_delay_ms",
        "deleted_visible_ms",
        "crl_delay_ms",
        "terminate_delay_ms",
    }
    updated = emulator.post("/_emulator/timing", {"rule_delay_ms": timing["rule_delay_ms"] + 1})
    assert updated["rule_delay_ms"] == timing["rule_delay_ms"] + 1
    assert updated["association_delay_ms"] == timing["association_delay_ms"]
    emulator.post("/_emulator/timing", timing)
    status, body = emulator.control("POST", "/_emulator/timing", {"nope": 1})
    assert status == 400 and "error" in body


def test_protocol_details(emulator):
    status, headers, body = raw_post(emulator, "Action=DescribeClientVpnEndpoints&Version=2016-11-15", authorization=False)
    assert status == 401
    assert "<Code>AuthFailure</Code>" in body
    request_id = {k.lower(): v for k, v in headers.items()}["x-amzn-requestid"]
    assert "<RequestID>%s</RequestID>" % request_id in body

    status, headers, body = raw_post(emulator, "Action=DescribeClientVpnEndpoints&Version=2016-11-15")
    assert status == 200
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "text/xml;charset=UTF-8"
    assert "<DescribeClientVpnEndpointsResponse" in body

    for body_text, code in [
        ("Action=Nope&Version=2016-11-15", "InvalidAction"),
        ("Action=DescribeClientVpnEndpoints&Version=2016-11-15&Bogus=1", "UnknownParameter"),
    ]:
        status, _, body = raw_post(emulator, body_text)
        assert status == 400 and "<Code>%s</Code>" % code in body
