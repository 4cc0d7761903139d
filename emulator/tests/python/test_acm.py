"""ACM (AWS JSON 1.1) with boto3: every certificate action, its shapes and its errors."""

import datetime

import pytest

import certs
from conftest import ACCESS_KEY, REGION, account_id, assert_error, import_pair

ACCOUNT = account_id(ACCESS_KEY)


@pytest.fixture(scope="module")
def root():
    return certs.ca("Test Root CA", org="Example Org")


@pytest.fixture(scope="module")
def server(root):
    return certs.leaf(root, "vpn.example.com", sans=("vpn.example.com", "alt.example.com"))


def material(pair):
    """The ImportCertificate arguments of a certificate and its key."""
    return {"Certificate": pair.cert_pem(), "PrivateKey": pair.key_pem()}


def describe(acm, arn):
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]


def test_import_and_describe(acm, root, server):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    arn = import_pair(acm, server, chain=[root])
    prefix = "arn:aws:acm:%s:%s:certificate/" % (REGION, ACCOUNT)
    assert arn.startswith(prefix)
    uuid = arn[len(prefix):]
    assert len(uuid) == 36 and uuid[14] == "4", uuid
    got = describe(acm, arn)
    imported_at = got.pop("ImportedAt")
    assert before - datetime.timedelta(seconds=2) <= imported_at
    assert got == {
        "CertificateArn": arn,
        "DomainName": "vpn.example.com",
        "SubjectAlternativeNames": ["vpn.example.com", "alt.example.com"],
        "Serial": certs.colon_hex(server.serial()),
        "Subject": "CN=vpn.example.com",
        "Issuer": "Example Org",
        "Status": "ISSUED",
        "NotBefore": server.cert.not_valid_before_utc,
        "NotAfter": server.cert.not_valid_after_utc,
        "KeyAlgorithm": "RSA-2048",
        "SignatureAlgorithm": "SHA256WITHRSA",
        "InUseBy": [],
        "Type": "IMPORTED",
        "RenewalEligibility": "INELIGIBLE",
        "KeyUsages": [{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}],
        "ExtendedKeyUsages": [{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}],
        "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"},
    } | ({"CertificateKeyPairOrigin": "CUSTOMER_PROVIDED"} if "CertificateKeyPairOrigin" in got else {})


def test_get_certificate_returns_pem(acm, root, server):
    arn = import_pair(acm, server, chain=[root])
    got = acm.get_certificate(CertificateArn=arn)
    assert got["Certificate"] == server.cert_pem().decode()
    assert got["CertificateChain"] == root.cert_pem().decode()
    alone = import_pair(acm, server)
    assert "CertificateChain" not in acm.get_certificate(CertificateArn=alone)


def test_key_formats_and_algorithms(acm, root):
    traditional = certs.leaf(root, "rsa.example.com", sans=("rsa.example.com",))
    arn = acm.import_certificate(Certificate=traditional.cert_pem(), PrivateKey=traditional.key_pem("traditional"))[
        "CertificateArn"
    ]
    assert describe(acm, arn)["KeyAlgorithm"] == "RSA-2048"
    for kind, algorithm in [("p256", "EC-prime256v1"), ("p384", "EC-secp384r1"), ("rsa4096", "RSA-4096")]:
        pair = certs.leaf(root, kind + ".example.com", sans=(kind + ".example.com",), kind=kind)
        for fmt in ("pkcs8", "traditional"):
            arn = acm.import_certificate(Certificate=pair.cert_pem(), PrivateKey=pair.key_pem(fmt))["CertificateArn"]
            assert describe(acm, arn)["KeyAlgorithm"] == algorithm


def validation(acm, message_part, **args):
    message = assert_error("ValidationException", 400, acm.import_certificate, **args)
    assert message_part in message, message
    return message


def test_import_rejects_bad_material(acm, root, server):
    key = server.key_pem()
    validation(acm, "Unable to parse certificate", Certificate=server.cert_der(), PrivateKey=key)
    validation(acm, "Unable to parse certificate", Certificate=b"-----BEGIN CERTIFICATE-----\nnope\n", PrivateKey=key)
    validation(
        acm,
        "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
        Certificate=server.cert_pem() + root.cert_pem(),
        PrivateKey=key,
    )
    other = certs.leaf(root, "other.example.com", sans=("other.example.com",), fresh_key=True)
    validation(acm, "does not match", Certificate=server.cert_pem(), PrivateKey=other.key_pem())
    validation(
        acm, "The private key is not supported.", Certificate=server.cert_pem(), PrivateKey=server.key_pem(password=b"pw")
    )
    validation(acm, "The private key is not supported.", Certificate=server.cert_pem(), PrivateKey=b"garbage")
    ed = certs.leaf(root, "ed.example.com", sans=("ed.example.com",), kind="ed25519")
    validation(acm, "The private key is not supported.", **material(ed))
    big = certs.leaf(root, "big.example.com", sans=("big.example.com",), kind="rsa8192")
    # An RSA 8192 key is already longer than the model's 5120 bytes.
    validation(acm, "Member must have length less than or equal to 5120", **material(big))
    expired = certs.leaf(
        root, "old.example.com", not_before=certs.NOW - 30 * certs.DAY, not_after=certs.NOW - certs.DAY
    )
    validation(acm, "expired", **material(expired))
    future = certs.leaf(root, "new.example.com", not_before=certs.NOW + 10 * certs.DAY)
    validation(acm, "not yet valid", **material(future))


def test_import_checks_the_chain(acm, root, server):
    intermediate = certs.ca("Intermediate CA", issuer=root)
    leaf = certs.leaf(intermediate, "deep.example.com", sans=("deep.example.com",))
    arn = import_pair(acm, leaf, chain=[intermediate, root])
    assert describe(acm, arn)["Issuer"] == "Intermediate CA"
    wrong_order = root.cert_pem() + intermediate.cert_pem()
    order = validation(acm, "Unable to validate certificate chain.", CertificateChain=wrong_order, **material(leaf))
    assert order.endswith("The index within the chain of the invalid certificate is: 0")
    stranger = certs.ca("Unrelated CA", kind="p256")
    for chain, message in [
        (stranger.cert_pem(), "Could not validate the certificate with the certificate chain."),
        (b"not pem", "The certificate chain provided is not in a valid PEM format."),
    ]:
        validation(acm, message, CertificateChain=chain, **material(server))


def test_reimport_keeps_the_arn(acm, root, server):
    arn = import_pair(acm, server, chain=[root], Tags=[{"Key": "owner", "Value": "ops"}])
    first = describe(acm, arn)
    renewed = certs.leaf(root, "vpn.example.com", sans=("vpn.example.com", "new.example.com"), fresh_key=True)
    assert import_pair(acm, renewed, chain=[root], CertificateArn=arn) == arn
    second = describe(acm, arn)
    assert second["Serial"] == certs.colon_hex(renewed.serial()) != first["Serial"]
    assert second["SubjectAlternativeNames"] == ["vpn.example.com", "new.example.com"]
    assert second["ImportedAt"] >= first["ImportedAt"]
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "owner", "Value": "ops"}]
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [arn]

    tagged = {"CertificateArn": arn, "Tags": [{"Key": "a", "Value": "b"}]}
    message = assert_error("ValidationException", 400, acm.import_certificate, **tagged, **material(renewed))
    assert message == "Tagging is not permitted on re-import."
    ec = certs.leaf(root, "vpn.example.com", kind="p256")
    message = validation(acm, "key type and size", CertificateArn=arn, **material(ec))
    no_ku = certs.leaf(root, "vpn.example.com", key_usage=False, fresh_key=True)
    validation(acm, "Key Usage", CertificateArn=arn, **material(no_ku))
    unknown = arn[:-12] + "000000000000"
    assert_error("ResourceNotFoundException", 400, acm.import_certificate, CertificateArn=unknown, **material(renewed))


def test_list_filters_and_pages(acm, root):
    arns = []
    for i in range(5):
        pair = certs.leaf(root, "h%d.example.com" % i, sans=("h%d.example.com" % i,))
        arns.append(import_pair(acm, pair))
    ec = certs.leaf(root, "ec.example.com", sans=("ec.example.com",), kind="p256")
    ec_arn = import_pair(acm, ec)
    nodomain = certs.leaf(root, "nodomain", sans=())
    nodomain_arn = import_pair(acm, nodomain)
    assert "DomainName" not in describe(acm, nodomain_arn)

    # Default filter: RSA 1024/2048 with a domain only.
    listed = acm.list_certificates()["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in listed] == arns
    summary = listed[0]
    summary.pop("ImportedAt")
    assert summary == {
        "CertificateArn": arns[0],
        "DomainName": "h0.example.com",
        "SubjectAlternativeNameSummaries": ["h0.example.com"],
        "HasAdditionalSubjectAlternativeNames": False,
        "Status": "ISSUED",
        "Type": "IMPORTED",
        "KeyAlgorithm": "RSA-2048",
        "KeyUsages": ["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"],
        "ExtendedKeyUsages": ["TLS_WEB_SERVER_AUTHENTICATION"],
        "InUse": False,
        "RenewalEligibility": "INELIGIBLE",
        "NotBefore": summary["NotBefore"],
        "NotAfter": summary["NotAfter"],
    } | ({"CertificateKeyPairOrigin": "CUSTOMER_PROVIDED"} if "CertificateKeyPairOrigin" in summary else {})
    every = acm.list_certificates(Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]})["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in every] == arns + [ec_arn, nodomain_arn]
    assert acm.list_certificates(CertificateStatuses=["EXPIRED"])["CertificateSummaryList"] == []
    client_only = acm.list_certificates(Includes={"extendedKeyUsage": ["TLS_WEB_CLIENT_AUTHENTICATION"]})
    assert client_only["CertificateSummaryList"] == []

    first = acm.list_certificates(MaxItems=2)
    assert [c["CertificateArn"] for c in first["CertificateSummaryList"]] == arns[:2]
    second = acm.list_certificates(MaxItems=2, NextToken=first["NextToken"])
    assert [c["CertificateArn"] for c in second["CertificateSummaryList"]] == arns[2:4]
    pages = list(acm.get_paginator("list_certificates").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["CertificateSummaryList"]) for p in pages] == [2, 2, 1]
    assert "NextToken" not in pages[-1]
    newest_first = acm.list_certificates(SortBy="CREATED_AT", SortOrder="DESCENDING")["CertificateSummaryList"]
    assert [c["CertificateArn"] for c in newest_first] == arns[::-1]


def test_list_errors(acm, raw_acm):
    assert_error("InvalidArgsException", 400, acm.list_certificates, NextToken="garbage")
    assert_error("InvalidArgsException", 400, acm.list_certificates, SortBy="CREATED_AT")
    for bad in (0, 1001):
        assert_error("ValidationException", 400, raw_acm.list_certificates, MaxItems=bad)
    assert_error("ValidationException", 400, raw_acm.list_certificates, CertificateStatuses=["NOPE"])
    assert_error("ValidationException", 400, raw_acm.list_certificates, Includes={"keyTypes": ["RSA_8192"]})


def test_arn_errors(emulator, acm, raw_acm, server):
    arn = import_pair(acm, server)
    message = assert_error("InvalidArnException", 400, acm.describe_certificate, CertificateArn="arn:aws:s3:::bucket/key-x")
    assert "arn:aws:s3:::bucket/key-x" in message
    assert_error("ValidationException", 400, raw_acm.describe_certificate, CertificateArn="short")
    assert_error("ValidationException", 400, raw_acm.describe_certificate)
    missing = arn[:-4] + "0000"
    for call in (
        acm.describe_certificate,
        acm.get_certificate,
        acm.delete_certificate,
        acm.list_tags_for_certificate,
    ):
        message = assert_error("ResourceNotFoundException", 400, call, CertificateArn=missing)
        assert message == "Could not find certificate %s." % missing
    # Per account and region.
    west = emulator.client(service="acm", region="us-west-2")
    assert_error("ResourceNotFoundException", 400, west.describe_certificate, CertificateArn=arn)
    other = emulator.client(service="acm", access_key="AKIDOTHER")
    assert_error("ResourceNotFoundException", 400, other.get_certificate, CertificateArn=arn)
    assert west.list_certificates()["CertificateSummaryList"] == []


def test_tags(acm, raw_acm, server):
    arn = import_pair(acm, server, Tags=[{"Key": "a", "Value": "1"}, {"Key": "flag"}])
    tags = lambda: acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]  # noqa: E731
    assert tags() == [{"Key": "a", "Value": "1"}, {"Key": "flag"}]
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "x"}])
    assert tags() == [{"Key": "a", "Value": "2"}, {"Key": "b", "Value": "x"}, {"Key": "flag"}]
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "nope"}, {"Key": "b"}])
    assert tags() == [{"Key": "a", "Value": "2"}, {"Key": "flag"}]
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "a", "Value": "2"}])
    assert tags() == [{"Key": "flag"}]

    assert_error("InvalidTagException", 400, acm.add_tags_to_certificate, CertificateArn=arn, Tags=[{"Key": "aws:x", "Value": "v"}])
    assert_error("InvalidTagException", 400, acm.remove_tags_from_certificate, CertificateArn=arn, Tags=[{"Key": "aws:x"}])
    many = [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]
    assert_error("TooManyTagsException", 400, acm.add_tags_to_certificate, CertificateArn=arn, Tags=many)
    acm.add_tags_to_certificate(CertificateArn=arn, Tags=many[:49])
    assert len(tags()) == 50
    assert_error("ValidationException", 400, raw_acm.add_tags_to_certificate, CertificateArn=arn, Tags=[{"Key": "bad#key"}])
    assert_error("ValidationException", 400, raw_acm.add_tags_to_certificate, CertificateArn=arn, Tags=[])
    assert_error("ValidationException", 400, raw_acm.add_tags_to_certificate, CertificateArn=arn)
    too_many = many + [{"Key": "one-more"}]
    assert_error("TooManyTagsException", 400, acm.import_certificate, Tags=too_many, **material(server))


def test_delete_and_quota(emulator, acm, server):
    arn = import_pair(acm, server)
    acm.delete_certificate(CertificateArn=arn)
    assert_error("ResourceNotFoundException", 400, acm.describe_certificate, CertificateArn=arn)
    emulator.post("/_emulator/limits", {"certificates_per_region": 1})
    import_pair(acm, server)
    message = assert_error("LimitExceededException", 400, acm.import_certificate, **material(server))
    assert message.startswith("You have reached the maximum number of certificates.")


def test_protocol_errors(emulator):
    import json
    import urllib.request

    def post(headers, body=b"{}"):
        req = urllib.request.Request(emulator.url + "/", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), json.loads(err.read())

    auth = "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/acm/aws4_request, SignedHeaders=host, Signature=0" % (
        ACCESS_KEY,
        REGION,
    )
    base = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.ListCertificates"}
    status, headers, body = post(base | {"Authorization": auth})
    assert (status, body) == (200, {"CertificateSummaryList": []})
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-requestid"]) == 36
    assert post(base)[0::2] == (400, {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    ec2_scoped = auth.replace("/acm/", "/ec2/")
    assert post(base | {"Authorization": ec2_scoped})[2]["__type"] == "InvalidSignatureException"
    unknown = base | {"Authorization": auth, "X-Amz-Target": "CertificateManager.RequestCertificate"}
    assert post(unknown)[2]["__type"] == "UnknownOperationException"
    assert post(base | {"Authorization": auth}, b"[1")[2]["__type"] == "SerializationException"


def test_faults_apply_to_acm_actions(emulator, acm):
    emulator.post("/_emulator/faults/fail-next", {"action": "ListCertificates", "code": "ThrottlingException"})
    assert_error("ThrottlingException", 400, acm.list_certificates)
    emulator.post("/_emulator/faults/fail-next", {"action": "ListCertificates"})
    assert_error("InternalError", 500, acm.list_certificates)  # the default fail-next code
    assert emulator.calls()["ListCertificates"] == 2
