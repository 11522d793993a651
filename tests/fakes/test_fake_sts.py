"""Fidelity tests of tests/fakes/fake_sts.py against an independent
oracle: botocore's own STS service model and awsQuery response parser
(Debian's python3-botocore) parse the fake's XML into the documented
shapes, and a real botocore STS client talks to the fake (signed
AssumeRole verified by the fake; unsigned AssumeRoleWithWebIdentity).
Also checks validation, scripted errors and the request log.
Run: /usr/bin/python3 -m pytest tests/fakes
"""

import http.client
import os
import sys
from datetime import datetime, timezone

import botocore.loaders
import botocore.model
import botocore.parsers
import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_sts  # noqa: E402

AKID = "AKIDSTSSOURCE0001"
SECRET = "src/Secret+Key0001EXAMPLEEXAMPLEEXAMPLE"
ROLE = "arn:aws:iam::123456789012:role/demo-role"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdHJhbmRzIn0.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def sts_model():
    loader = botocore.loaders.Loader()
    return botocore.model.ServiceModel(
        loader.load_service_model("sts", "service-2"), "sts")


def parse(model, operation, body, status=200):
    """botocore's awsQuery parser on raw bytes (the oracle)."""
    op = model.operation_model(operation)
    parser = botocore.parsers.create_parser("query")
    return parser.parse({"body": body, "headers": {}, "status_code": status},
                        op.output_shape)


@pytest.fixture
def fake():
    f = fake_sts.start_fake_sts(credentials={AKID: SECRET},
                                web_identity_tokens=[TOKEN])
    yield f
    f.stop()


def client(fake, signed=True, secret=SECRET):
    session = botocore.session.get_session()
    kw = {"region_name": "us-east-1", "endpoint_url": fake.url}
    if signed:
        kw.update(aws_access_key_id=AKID, aws_secret_access_key=secret)
    else:
        kw["config"] = Config(signature_version=UNSIGNED)
    return session.create_client("sts", **kw)


CREDS = {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s&e<c>r\"e't",
         "SessionToken": "tok/+=", "Expiration": "2026-07-15T23:28:33Z"}
EXPECTED_EXP = datetime(2026, 7, 15, 23, 28, 33, tzinfo=timezone.utc)


def test_assume_role_xml_parsed_by_botocore(sts_model):
    body = fake_sts.credentials_xml("AssumeRole", CREDS, ROLE, "sess-1",
                                    "req-1")
    out = parse(sts_model, "AssumeRole", body)
    assert out["Credentials"] == {
        "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s&e<c>r\"e't",
        "SessionToken": "tok/+=", "Expiration": EXPECTED_EXP}
    assert out["AssumedRoleUser"]["Arn"] == \
        "arn:aws:sts::123456789012:assumed-role/demo-role/sess-1"
    assert out["AssumedRoleUser"]["AssumedRoleId"].endswith(":sess-1")
    assert out["ResponseMetadata"]["RequestId"] == "req-1"


def test_web_identity_xml_parsed_by_botocore(sts_model):
    body = fake_sts.credentials_xml(
        "AssumeRoleWithWebIdentity", CREDS, ROLE, "s2", "req-2",
        web_identity={"SubjectFromWebIdentityToken": "sub",
                      "Audience": "aud", "Provider": "prov"})
    out = parse(sts_model, "AssumeRoleWithWebIdentity", body)
    assert out["Credentials"]["Expiration"] == EXPECTED_EXP
    assert out["Credentials"]["SecretAccessKey"] == "s&e<c>r\"e't"
    assert out["SubjectFromWebIdentityToken"] == "sub"
    assert out["Audience"] == "aud"
    assert out["Provider"] == "prov"
    # botocore looks for the action's own result wrapper.
    with pytest.raises(KeyError):
        parse(sts_model, "AssumeRole", body)


def test_error_xml_parsed_by_botocore(sts_model):
    body = fake_sts.error_xml("AccessDenied", "no <way> & no", "req-3", 403)
    out = parse(sts_model, "AssumeRole", body, 403)
    assert out["Error"] == {"Type": "Sender", "Code": "AccessDenied",
                            "Message": "no <way> & no"}
    assert out["ResponseMetadata"]["RequestId"] == "req-3"
    out = parse(sts_model, "AssumeRole",
                fake_sts.error_xml("InternalFailure", "x", "r", 500), 500)
    assert out["Error"]["Type"] == "Receiver"


def test_botocore_client_assume_role(fake):
    resp = client(fake).assume_role(RoleArn=ROLE, RoleSessionName="bc-1",
                                    DurationSeconds=1800,
                                    ExternalId="ext-123")
    issued = fake.issued()
    assert len(issued) == 1
    c = resp["Credentials"]
    assert c["AccessKeyId"] == issued[0]["AccessKeyId"]
    assert c["SecretAccessKey"] == issued[0]["SecretAccessKey"]
    assert c["SessionToken"] == issued[0]["SessionToken"]
    assert int(c["Expiration"].timestamp()) == issued[0]["expiration"]
    assert 1700 < issued[0]["expiration"] - datetime.now().timestamp() < 1900
    req = fake.requests()[0]
    assert req["signature_valid"] is True
    assert req["signed_by"] == AKID
    assert req["params"] == {"Action": "AssumeRole", "Version": "2011-06-15",
                             "RoleArn": ROLE, "RoleSessionName": "bc-1",
                             "DurationSeconds": "1800",
                             "ExternalId": "ext-123"}


def test_botocore_client_wrong_secret_rejected(fake):
    with pytest.raises(ClientError) as exc:
        client(fake, secret="wrong" + SECRET).assume_role(
            RoleArn=ROLE, RoleSessionName="bc-2")
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert fake.issued() == []


def test_botocore_client_web_identity(fake):
    resp = client(fake, signed=False).assume_role_with_web_identity(
        RoleArn=ROLE, RoleSessionName="wi-1", WebIdentityToken=TOKEN)
    assert resp["Credentials"]["AccessKeyId"] == \
        fake.issued()[0]["AccessKeyId"]
    assert resp["SubjectFromWebIdentityToken"].startswith("system:")
    req = fake.requests()[0]
    assert req["signed"] is False
    assert req["params"]["WebIdentityToken"] == TOKEN


def test_web_identity_must_be_unsigned(fake, sts_model):
    # botocore itself never signs this call (handlers.disable_signing), so
    # sign one by hand with botocore's signer.
    body = ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
            "&RoleSessionName=wi-2&WebIdentityToken=%s" % (ROLE, TOKEN))
    req = AWSRequest(method="POST", url=fake.url + "/", data=body,
                     headers={"Content-Type":
                              "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(AKID, SECRET), "sts", "us-east-1").add_auth(req)
    status, answer = raw_post(fake, body, dict(req.headers.items()))
    assert status == 400
    err = parse(sts_model, "AssumeRole", answer, 400)["Error"]
    assert err["Code"] == "UnexpectedSignature"
    assert fake.requests()[0]["signed"] is True
    assert fake.issued() == []


def test_bad_token_and_roles(fake):
    with pytest.raises(ClientError) as exc:
        client(fake, signed=False).assume_role_with_web_identity(
            RoleArn=ROLE, RoleSessionName="wi-3", WebIdentityToken="nope-x")
    assert exc.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    fake.roles = {ROLE}
    other = "arn:aws:iam::123456789012:role/other"
    with pytest.raises(ClientError) as exc:
        client(fake).assume_role(RoleArn=other, RoleSessionName="x1")
    err = exc.value.response["Error"]
    assert err["Code"] == "AccessDenied"
    assert other in err["Message"]
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_scripted_errors(fake):
    fake.fail_next("ExpiredTokenException", action="AssumeRole")
    fake.fail_next("AccessDenied", message="custom", status=403)
    c = client(fake)
    with pytest.raises(ClientError) as exc:
        c.assume_role(RoleArn=ROLE, RoleSessionName="e1")
    assert exc.value.response["Error"]["Code"] == "ExpiredTokenException"
    with pytest.raises(ClientError) as exc:
        c.assume_role(RoleArn=ROLE, RoleSessionName="e2")
    assert exc.value.response["Error"] == {
        "Type": "Sender", "Code": "AccessDenied", "Message": "custom"}
    assert c.assume_role(RoleArn=ROLE, RoleSessionName="e3")["Credentials"]


def raw_post(fake, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_raw_envelope_checks(fake, sts_model):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = raw_post(fake, "Action=AssumeRoleWithWebIdentity&Version="
                            "2011-06-15&RoleArn=%s&RoleSessionName=raw&"
                            "WebIdentityToken=%s" % (ROLE, TOKEN), form)
    assert status == 200
    out = parse(sts_model, "AssumeRoleWithWebIdentity", body)
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    status, body = raw_post(fake, "Action=GetCallerIdentity&Version="
                            "2011-06-15", form)
    assert status == 400
    assert parse(sts_model, "AssumeRole", body, 400)["Error"]["Code"] == \
        "InvalidAction"
    status, body = raw_post(fake, '{"Action":"AssumeRole"}',
                            {"Content-Type": "application/json"})
    assert status == 400
    status, body = raw_post(fake, "Action=AssumeRoleWithWebIdentity&Version="
                            "2011-06-15&RoleArn=%s&RoleSessionName=raw"
                            % ROLE, form)
    err = parse(sts_model, "AssumeRole", body, 400)["Error"]
    assert err["Code"] == "ValidationError"
    assert "webIdentityToken" in err["Message"]
    # AssumeRole without a signature.
    status, body = raw_post(fake, "Action=AssumeRole&Version=2011-06-15&"
                            "RoleArn=%s&RoleSessionName=raw" % ROLE, form)
    assert status == 403
    assert parse(sts_model, "AssumeRole", body, 403)["Error"]["Code"] == \
        "MissingAuthenticationToken"


def test_validation(fake, sts_model):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    base = ("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"
            "WebIdentityToken=%s" % TOKEN)
    for extra, field in [("&RoleArn=%s&RoleSessionName=bad%%20name" % ROLE,
                          "roleSessionName"),
                         ("&RoleArn=%s&RoleSessionName=ok&DurationSeconds=60"
                          % ROLE, "durationSeconds"),
                         ("&RoleArn=arn:aws:iam::1:user/x&RoleSessionName=ok",
                          "roleArn"),
                         ("&RoleArn=%s" % ROLE, "roleSessionName")]:
        status, body = raw_post(fake, base + extra, form)
        assert status == 400, extra
        err = parse(sts_model, "AssumeRole", body, 400)["Error"]
        assert err["Code"] == "ValidationError"
        assert field in err["Message"]
    # botocore sends what its own validation lets through; the fake
    # refuses a session name STS would refuse.
    with pytest.raises(ClientError) as exc:
        client(fake).assume_role(RoleArn=ROLE, RoleSessionName="bad name!")
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    assert fake.issued() == []


def test_forced_credentials_and_expiration(fake, sts_model):
    fake.expiration = 1900000000
    fake.set_next_credentials("ASIAFORCED", "a&b<c", "t>k")
    status, body = raw_post(
        fake, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="
        "%s&RoleSessionName=raw&WebIdentityToken=%s" % (ROLE, TOKEN),
        {"Content-Type": "application/x-www-form-urlencoded"})
    out = parse(sts_model, "AssumeRoleWithWebIdentity", body)
    assert out["Credentials"]["SecretAccessKey"] == "a&b<c"
    assert out["Credentials"]["SessionToken"] == "t>k"
    assert out["Credentials"]["Expiration"].timestamp() == 1900000000
