"""Fidelity of tests/fakes/fake_s3.py: the official AWS JS SDK S3 client
(tests/fakes/js/s3_oracle.mjs) parses every answer of the fake (objects,
ETags, ListObjectsV2 pages, 412 PreconditionFailed, NoSuchKey, a bad
signature), and botocore's own S3 client, signing independently of the
fake's checker, is accepted. Skipped when node or tests/fakes/js/
node_modules are missing (run `npm ci` in tests/fakes/js)."""
import json
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_s3  # noqa: E402

AK, SK, TOK = "AKIDS3ORACLE", "s3/secret+KEY", "TOKEN//s3=="
JS = os.path.join(HERE, "js")


@pytest.fixture
def fake():
    f = fake_s3.start_fake_s3(credentials={AK: (SK, TOK)})
    yield f
    f.stop()


def control(fake, path, body=None):
    req = urllib.request.Request(fake.url + path, method="POST" if body
                                 is not None else "GET",
                                 data=json.dumps(body).encode()
                                 if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def test_official_js_sdk_reads_the_fake(fake):
    if not shutil.which("node") or not os.path.isdir(
            os.path.join(JS, "node_modules", "@aws-sdk", "client-s3")):
        pytest.skip("node or tests/fakes/js/node_modules missing")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK,
               AWS_SESSION_TOKEN=TOK, AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    p = subprocess.run(["node", os.path.join(JS, "s3_oracle.mjs"), fake.url,
                        "bkt"], env=env, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    md5_0 = '"ef841c0373917565d1fd2336727fd510"'  # md5('{"message": 0}')
    assert out["put_etag"] == md5_0 and out["get_etag"] == md5_0
    assert out["get_body"] == '{"message": 0}'
    assert out["head_length"] == 14
    assert out["put_again"] == {"name": "PreconditionFailed", "status": 412}
    assert out["put_if_match_wrong"] == {"name": "PreconditionFailed",
                                         "status": 412}
    assert out["put_if_match_ok"] != md5_0
    keys = [k[0] for k in out["list_keys"]]
    assert keys == sorted(keys) and len(keys) == 5
    assert keys[0].endswith("message_0.json")
    assert out["list_keys"][0][1] == out["put_if_match_ok"]
    assert out["list_pages"] == 3          # MaxKeys 2: 2 + 2 + 1
    assert out["get_missing"] == {"name": "NoSuchKey", "status": 404}
    assert out["get_deleted"] == {"name": "NoSuchKey", "status": 404}
    assert out["bad_signature"] == {"name": "SignatureDoesNotMatch",
                                    "status": 403}
    # Every request the SDK made was signed the S3 way and verified.
    log = control(fake, "/__fake/requests")
    assert log and all(e["headers"].get("x-amz-content-sha256")
                       for e in log)


def test_botocore_client_and_faults(fake):
    import botocore.session
    from botocore.config import Config
    s = botocore.session.get_session()
    c = s.create_client("s3", region_name="us-east-1",
                        endpoint_url=fake.url, aws_access_key_id=AK,
                        aws_secret_access_key=SK, aws_session_token=TOK,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"total_max_attempts": 1}))
    # A key with characters S3 must not double-encode in the signature.
    key = "p/session_a b:c/agents/agent_default/agent.json"
    c.put_object(Bucket="b", Key=key, Body=b"{}")
    assert c.get_object(Bucket="b", Key=key)["Body"].read() == b"{}"
    control(fake, "/__fake/fail", {"count": 1, "status": 503,
                                   "code": "SlowDown"})
    with pytest.raises(c.exceptions.ClientError) as e:
        c.get_object(Bucket="b", Key=key)
    assert e.value.response["Error"]["Code"] == "SlowDown"
    assert c.get_object(Bucket="b", Key=key)["Body"].read() == b"{}"
    bad = s.create_client("s3", region_name="us-east-1",
                          endpoint_url=fake.url, aws_access_key_id=AK,
                          aws_secret_access_key="nope",
                          aws_session_token=TOK,
                          config=Config(s3={"addressing_style": "path"}))
    with pytest.raises(bad.exceptions.ClientError) as e:
        bad.get_object(Bucket="b", Key=key)
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
