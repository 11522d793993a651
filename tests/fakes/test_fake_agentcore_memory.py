"""Fidelity of tests/fakes/fake_agentcore_memory.py: requests signed by
botocore (the independent signer) for the wire rules, and the OFFICIAL
@aws-sdk/client-bedrock-agentcore (tests/fakes/js/agentcore_memory_oracle
.mjs) as the oracle of shapes, pagination and errors (skipped when node or
node_modules is missing). Run with /usr/bin/python3 -m pytest."""

import http.client
import json
import os
import shutil
import subprocess
import sys

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_agentcore_memory  # noqa: E402

JS_DIR = os.path.join(HERE, "js")
AKID = "AKIDACMFAKETEST"
SECRET = "acmFakeSecretKey0000000000000000000000"
MEMORY = "fidelity-a1b2c3d4e5"


@pytest.fixture
def fake():
    f = fake_agentcore_memory.start_fake_agentcore_memory(
        credentials={AKID: SECRET}, region="us-east-1")
    yield f
    f.stop()


def call(fake, path, body, service="bedrock-agentcore", secret=SECRET,
         sign=True):
    data = json.dumps(body).encode()
    req = AWSRequest(method="POST", url=fake.url + path, data=data,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials(AKID, secret), service,
                  "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("POST", path, body=data, headers=dict(req.headers))
        resp = conn.getresponse()
        out = json.loads(resp.read() or b"{}")
        return resp.status, resp.getheader("x-amzn-ErrorType"), out
    finally:
        conn.close()


def create(fake, text, ts, actor="u-1", session="s-1", **extra):
    body = {"actorId": actor, "sessionId": session, "eventTimestamp": ts,
            "payload": [{"conversational": {"content": {"text": text},
                                            "role": "USER"}}]}
    body.update(extra)
    return call(fake, "/memories/%s/events" % MEMORY, body)


def test_signature_is_checked(fake):
    body = {"actorId": "u", "sessionId": "s", "eventTimestamp": 1.0,
            "payload": [{"blob": "x"}]}
    path = "/memories/%s/events" % MEMORY
    assert call(fake, path, body, sign=False)[0] == 403
    status, code, _ = call(fake, path, body, service="bedrock")
    assert (status, code) == (403, "InvalidSignatureException")
    status, code, _ = call(fake, path, body, secret="wrong")
    assert (status, code) == (403, "InvalidSignatureException")
    assert call(fake, path, body)[0] == 201
    assert fake.events()[0]["payload"] == [{"blob": "x"}]


def test_encoded_actor_in_path_is_signed_and_decoded(fake):
    # ':' and '/' in the actor id travel percent-encoded in the path.
    status, _, _ = create(fake, "hi", 5.0, actor="tenant:user/1")
    assert status == 201
    status, _, out = call(fake, "/memories/%s/actor/%s/sessions/s-1"
                          % (MEMORY, "tenant%3Auser%2F1"), {})
    assert status == 200 and len(out["events"]) == 1
    assert out["events"][0]["actorId"] == "tenant:user/1"


def test_list_newest_first_with_pages_and_client_token(fake):
    for i in range(5):
        assert create(fake, "m%d" % i, 10 + i / 1000,
                      clientToken="tok-%d-0000000000000000000000000000" % i
                      )[0] == 201
    # A retried CreateEvent (same clientToken) stores nothing new.
    status, _, out = create(fake, "m0", 10,
                            clientToken="tok-0-0000000000000000000000000000")
    assert status == 201 and len(fake.events()) == 5
    texts, token, pages = [], None, 0
    while True:
        body = {"maxResults": 2}
        if token:
            body["nextToken"] = token
        status, _, out = call(fake, "/memories/%s/actor/u-1/sessions/s-1"
                              % MEMORY, body)
        assert status == 200
        texts += [e["payload"][0]["conversational"]["content"]["text"]
                  for e in out["events"]]
        pages += 1
        token = out.get("nextToken")
        if not token:
            break
    assert texts == ["m4", "m3", "m2", "m1", "m0"] and pages == 3


def test_validation(fake):
    cases = [
        ({"sessionId": "s", "eventTimestamp": 1, "payload": [{"blob": 1}]},
         "actorId"),
        ({"actorId": "u", "sessionId": "s", "payload": [{"blob": 1}]},
         "eventTimestamp"),
        ({"actorId": "u", "sessionId": "s", "eventTimestamp": 1,
          "payload": []}, "payload"),
        ({"actorId": "u", "sessionId": "s", "eventTimestamp": 1,
          "payload": [{"blob": 1, "conversational": {}}]}, "payload"),
        ({"actorId": "u", "sessionId": "s.x", "eventTimestamp": 1,
          "payload": [{"blob": 1}]}, "sessionId"),
        ({"actorId": "u", "sessionId": "s", "eventTimestamp": 1,
          "payload": [{"conversational": {"content": {"text": "x" * 100001},
                                          "role": "USER"}}]}, "payload"),
        ({"actorId": "u", "sessionId": "s", "eventTimestamp": 1,
          "payload": [{"blob": 1}],
          "metadata": {"k": {"numberValue": 1}}}, "metadata"),
    ]
    for body, field in cases:
        status, code, out = call(fake, "/memories/%s/events" % MEMORY, body)
        assert (status, code) == (400, "ValidationException"), body
        assert out["fieldList"][0]["name"] == field
    status, code, _ = call(fake, "/memories/mem-123/events",
                           {"actorId": "u", "eventTimestamp": 1,
                            "payload": [{"blob": 1}]})
    assert (status, code) == (400, "ValidationException")
    assert fake.events() == []


def test_injected_failures(fake):
    fake.fail(operation="ListEvents", count=1)
    path = "/memories/%s/actor/u/sessions/s" % MEMORY
    assert call(fake, path, {})[:2] == (429, "ThrottlingException")
    assert call(fake, path, {})[0] == 200
    fake.fail(operation="CreateEvent", code="AccessDeniedException",
              status=403, count=-1, after=1)
    assert create(fake, "a", 1)[0] == 201
    assert create(fake, "b", 2)[:2] == (403, "AccessDeniedException")
    assert create(fake, "c", 3)[0] == 403


def test_official_js_sdk_against_fake(fake):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk",
                                      "client-bedrock-agentcore")):
        pytest.skip("AWS JS SDK not installed: run `cd tests/fakes/js && "
                    "npm ci`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    proc = subprocess.run(
        [node, os.path.join(JS_DIR, "agentcore_memory_oracle.mjs"), "check",
         "--endpoint", fake.url, "--akid", AKID, "--secret", SECRET,
         "--memory", MEMORY],
        cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)

    conv = out["create_conversational"]
    assert conv["httpStatusCode"] == 201
    ev = conv["event"]
    assert ev["memoryId"] == MEMORY and ev["actorId"] == "user-1"
    assert ev["sessionId"] == "oracle-session"
    # 2026-01-02T03:04:05.678Z, kept to the millisecond.
    assert ev["eventTimestamp"] == 1767323045678
    assert ev["eventId"].startswith("0000001767323045678#")
    assert ev["payload"] == [{"conversational": {"content": {"text": "hello"},
                                                 "role": "USER"}}]
    assert ev["branch"] == {"name": "main"}
    assert ev["metadata"] == {"kind": {"stringValue": "message"}}
    assert out["create_same_token_event_id"] == ev["eventId"]
    assert out["create_blob"]["payload"] == [
        {"blob": json.dumps(["{\"message\": {}}", "user"],
                            separators=(",", ":"))}]

    paged = out["list_paged"]
    texts = [e["payload"][0].get("conversational", {}).get("content", {})
             .get("text", "<blob>") for e in paged["events"]]
    assert texts == ["m4", "m3", "m2", "m1", "m0", "<blob>", "hello"]
    assert paged["pages"] == 4
    assert [e["payload"][0]["conversational"]["content"]["text"]
            for e in out["list_filtered"]["events"]] == ["m2"]
    assert out["list_no_payloads"] == {"count": 1, "payload": [],
                                       "hasNextToken": True}
    assert out["list_unknown_session"] == 0

    for case in ("validation_empty_text", "validation_too_long",
                 "validation_bad_role", "validation_bad_actor",
                 "validation_metadata", "validation_bad_token"):
        assert out[case]["name"] == "ValidationException", case
        assert out[case]["httpStatusCode"] == 400, case
    assert (out["throttled"]["name"], out["throttled"]["httpStatusCode"]) == \
        ("ThrottlingException", 429)
    assert (out["quota"]["name"], out["quota"]["httpStatusCode"]) == \
        ("ServiceQuotaExceededException", 402)
    assert (out["server_error"]["name"], out["server_error"]["fault"]) == \
        ("ServiceException", "server")
    assert out["retried_attempts"] == 2
    assert (out["not_found"]["name"], out["not_found"]["httpStatusCode"]) == \
        ("ResourceNotFoundException", 404)
    assert out["bad_signature"]["name"] == "InvalidSignatureException"
    assert out["bad_signature"]["httpStatusCode"] == 403
