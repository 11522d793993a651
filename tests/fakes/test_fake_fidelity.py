"""Fidelity tests of tests/fakes/fake_aws.py against independent oracles:
the shared SigV4 vectors (signed by @smithy/signature-v4), the shared
event-stream vectors (aws-sdk-go, @smithy/eventstream-codec), botocore's
signer, and the official AWS JS SDK (js/sdk_oracle.mjs). Also checks that
scripted steps, validation and the control API behave as documented.
Run: /usr/bin/python3 -m pytest tests/fakes
"""

import base64
import glob
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_aws  # noqa: E402

SHARED = os.environ.get("STRANDS_SHARED_DIR",
                        os.path.join(HERE, "..", "..", "..", "shared"))
TESTDATA = os.path.join(SHARED, "testdata")
AKID = fake_aws.EXAMPLE_ACCESS_KEY
SECRET = fake_aws.EXAMPLE_SECRET_KEY
MODEL_ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
             "us.anthropic.claude-3-5-sonnet-20240620-v1:0")
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
TOOLS = {"tools": [{"toolSpec": {"name": "get_weather",
                                 "inputSchema": {"json": {"type": "object"}}}}]}


def need_shared(*parts):
    path = os.path.join(TESTDATA, *parts)
    if not os.path.exists(path):
        pytest.skip("shared test data not found at %s (set STRANDS_SHARED_DIR)"
                    % path)
    return path


def read_bytes(path):
    with open(path, "rb") as fh:
        return fh.read()


def read_text(path):
    return read_bytes(path).decode("utf-8")


# --------------------------------------------------------------------------
# helpers: signing with botocore and talking HTTP
# --------------------------------------------------------------------------

def model_path(model_id, op="converse"):
    return "/model/%s/%s" % (fake_aws.quote(model_id, safe="-._~"), op)


def sign(port, path, body, akid=AKID, secret=SECRET, token=None,
         service="bedrock", region="us-east-1", extra=None, when=None):
    """Headers of a POST signed by botocore's SigV4Auth (path as on the wire)."""
    request = AWSRequest(method="POST",
                         url="http://127.0.0.1:%d%s" % (port, path),
                         data=body)
    request.headers["Host"] = "127.0.0.1:%d" % port
    request.headers["Content-Type"] = "application/json"
    for name, value in (extra or {}).items():
        del request.headers[name]  # HTTPHeaders would append a duplicate
        request.headers[name] = value
    signer = SigV4Auth(Credentials(akid, secret, token), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.datetime") as fake_dt:
            fake_dt.datetime.utcnow.return_value = when
            signer.add_auth(request)
    return dict(request.headers.items())


def send(port, path, body, headers, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, \
            resp.read()
    finally:
        if own:
            conn.close()


def call(fake, body, model_id=MODEL_ID, op="converse", conn=None, **kw):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = model_path(model_id, op)
    return send(fake.port, path, raw, sign(fake.port, path, raw, **kw),
                conn=conn)


def user(text):
    return {"messages": [{"role": "user", "content": [{"text": text}]}]}


def stream_events(raw):
    out = []
    for msg in fake_aws.decode_stream(raw):
        payload = json.loads(msg["payload"])
        kind = msg["headers"].get(":event-type") or \
            msg["headers"].get(":exception-type")
        out.append((msg["headers"][":message-type"], kind, payload))
    return out


@pytest.fixture
def bedrock():
    fake = fake_aws.start_fake_bedrock(
        credentials={AKID: SECRET, "ASIATEMPEXAMPLE": ("tmpsecret", "tok-1")},
        bearer_keys=["bedrock-api-key-1"], seed=7)
    yield fake
    fake.stop()


@pytest.fixture
def secrets():
    fake = fake_aws.start_fake_secrets_manager(
        secrets={"strands/test": '{"user":"u","password":"p"}',
                 "bin": {"SecretBinary": b"\x00\x01\xff"}})
    yield fake
    fake.stop()


# --------------------------------------------------------------------------
# SigV4: the shared vectors through the fake's own verification path
# --------------------------------------------------------------------------

def parse_req(text):
    """Parse an aws4_testsuite-style .req into (method, target, headers,
    body); folded header lines join the previous value with a space."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    method, target, _ = lines[0].split(" ", 2) if lines[0].count(" ") >= 2 \
        else (lines[0].split(" ")[0], lines[0].split(" ")[1], "")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, target, headers, body.encode("utf-8")


def token_from_creq(creq):
    for line in creq.split("\n"):
        if line.startswith("x-amz-security-token:"):
            return line.split(":", 1)[1]
    return None


GENERATED = ["bedrock-converse-model-id",
             "bedrock-converse-stream-arn-session-token",
             "secretsmanager-get-secret-value"]


def load_generated(case):
    base = os.path.join(need_shared("sigv4", "generated", case), case)
    req = read_text(base + ".sreq")
    creq = read_text(base + ".creq")
    sts = read_text(base + ".sts")
    authz = read_text(base + ".authz")
    service = sts.split("\n")[2].split("/")[2]
    method, target, headers, body = parse_req(req)
    creds = {AKID: (SECRET, token_from_creq(creq))}
    return method, target, headers, body, creds, service, creq, sts, authz


@pytest.mark.parametrize("case", GENERATED)
def test_sigv4_generated_vector_accepted_exactly(case):
    method, target, headers, body, creds, service, creq, sts, authz = \
        load_generated(case)
    result = fake_aws.verify_sigv4(method, target, headers, body, creds,
                                   service)
    assert result.canonical_request == creq
    assert result.string_to_sign == sts
    assert result.authorization == authz
    assert result.ok, result.message


@pytest.mark.parametrize("case", GENERATED)
@pytest.mark.parametrize("tamper", ["body", "header", "secret", "path",
                                    "token"])
def test_sigv4_generated_vector_tampered_rejected(case, tamper):
    method, target, headers, body, creds, service, _, _, _ = \
        load_generated(case)
    if tamper == "body":
        body = body.replace(b"}", b" }", 1)
    elif tamper == "header":
        headers = [(n, v + ";charset=utf-8" if n.lower() == "content-type"
                    else v) for n, v in headers]
    elif tamper == "secret":
        creds = {AKID: ("wrong" + SECRET, creds[AKID][1])}
    elif tamper == "path":
        # the decoded form of the path is NOT what was signed
        target = fake_aws.unquote(target) if "%" in target else target + "x"
    elif tamper == "token":
        creds = {AKID: (SECRET, "other-token")}
    result = fake_aws.verify_sigv4(method, target, headers, body, creds,
                                   service)
    assert not result.ok
    expected = "UnrecognizedClientException" if tamper == "token" \
        else "InvalidSignatureException"
    assert result.code == expected


V4_SUITE_SKIP = {
    "get-utf8": "raw UTF-8 path: the suite means it unencoded, the fake "
                "sees wire paths (double-encoded by the non-S3 rule)",
    "get-space-normalized": "raw space in the path, same reason",
}


def v4_suite_cases():
    root = os.path.join(TESTDATA, "sigv4", "aws-signing-test-suite", "v4")
    return sorted(os.path.basename(p) for p in glob.glob(root + "/*"))


@pytest.mark.parametrize("case", v4_suite_cases() or ["<absent>"])
def test_sigv4_official_suite_through_verifier(case):
    folder = need_shared("sigv4", "aws-signing-test-suite", "v4", case)
    with open(os.path.join(folder, "context.json")) as fh:
        ctx = json.load(fh)
    if not ctx.get("normalize", True) or ctx.get("sign_body"):
        pytest.skip("unnormalized / sign_body cases do not apply to non-S3 "
                    "services")
    if case in V4_SUITE_SKIP:
        pytest.skip(V4_SUITE_SKIP[case])
    method, target, headers, body = parse_req(
        read_text(os.path.join(folder, "request.txt")))
    target = fake_aws.quote(target, safe="/?&=%-._~")
    creq = read_text(os.path.join(folder, "header-canonical-request.txt"))
    signature = read_text(os.path.join(folder, "header-signature.txt")).strip()
    cred = ctx["credentials"]
    token = cred.get("token")
    headers.append(("X-Amz-Date", "20150830T123600Z"))
    if token:
        headers.append(("X-Amz-Security-Token", token))
    signed = creq.split("\n")[-2]
    headers.append(("Authorization",
                    "AWS4-HMAC-SHA256 Credential=%s/20150830/%s/%s/"
                    "aws4_request, SignedHeaders=%s, Signature=%s"
                    % (cred["access_key_id"], ctx["region"], ctx["service"],
                       signed, signature)))
    creds = {cred["access_key_id"]: (cred["secret_access_key"], token)}
    result = fake_aws.verify_sigv4(method, target, headers, body, creds,
                                   ctx["service"])
    assert result.canonical_request == creq
    assert result.signature == signature
    assert result.ok


# --------------------------------------------------------------------------
# SigV4 against the running fake
# --------------------------------------------------------------------------

def test_botocore_signed_request_accepted(bedrock):
    bedrock.script([{"text": "hi"}])
    status, headers, body = call(bedrock, user("Hello"), model_id=MODEL_ARN)
    assert status == 200, body
    (req,) = bedrock.requests()
    assert req["signature_valid"] is True
    assert req["model_id"] == MODEL_ARN
    assert req["path"].startswith("/model/arn%3Aaws%3Abedrock%3Aus-east-1")
    assert "%2Fus.anthropic" in req["path"]
    assert req["path_canonical"] is True
    assert req["operation"] == "converse"
    assert req["body"] == user("Hello")


def test_unencoded_colon_in_path_is_flagged_not_canonical(bedrock):
    path = "/model/%s/converse" % MODEL_ID
    raw = json.dumps(user("x")).encode()
    status, _, _ = send(bedrock.port, path, raw, sign(bedrock.port, path, raw))
    assert status == 200
    assert bedrock.requests()[0]["path_canonical"] is False


def test_session_token_credentials(bedrock):
    status, _, _ = call(bedrock, user("x"), akid="ASIATEMPEXAMPLE",
                        secret="tmpsecret", token="tok-1")
    assert status == 200
    status, headers, body = call(bedrock, user("x"), akid="ASIATEMPEXAMPLE",
                                 secret="tmpsecret", token="tok-2")
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("UnrecognizedClientException")


def assert_denied(status, headers, body, code):
    assert status == 403
    assert headers["x-amzn-errortype"].split(":")[0] == code
    assert headers["content-type"] == "application/json"
    assert "x-amzn-requestid" in headers
    assert set(json.loads(body)) == {"message"}


@pytest.mark.parametrize("tamper", ["body", "signed_header", "wrong_secret",
                                    "unknown_key", "no_auth", "content_sha",
                                    "wrong_service", "stale_date",
                                    "bad_bearer"])
def test_tampered_requests_rejected(bedrock, tamper):
    bedrock.script([{"text": "must not be consumed"}])
    path = model_path(MODEL_ID)
    raw = json.dumps(user("Hello")).encode()
    kw, code = {}, "InvalidSignatureException"
    if tamper == "wrong_secret":
        kw["secret"] = SECRET + "x"
    elif tamper == "unknown_key":
        kw["akid"], code = "AKIDUNKNOWN", "UnrecognizedClientException"
    elif tamper == "content_sha":
        kw["extra"] = {"X-Amz-Content-SHA256": hashlib.sha256(b"x").hexdigest()}
    elif tamper == "wrong_service":
        kw["service"] = "bedrock-runtime"
    elif tamper == "stale_date":
        kw["when"] = datetime(2015, 8, 30, 12, 36, 0)
    headers = sign(bedrock.port, path, raw, **kw)
    if tamper == "body":
        raw = raw.replace(b"Hello", b"Hellp")
    elif tamper == "signed_header":
        headers["Content-Type"] = "application/x-amz-json-1.1"
    elif tamper == "no_auth":
        del headers["Authorization"]
        code = "MissingAuthenticationTokenException"
    elif tamper == "bad_bearer":
        headers = {"Authorization": "Bearer not-a-key",
                   "Content-Type": "application/json"}
        code = "UnrecognizedClientException"
    status, rheaders, body = send(bedrock.port, path, raw, headers)
    assert_denied(status, rheaders, body, code)
    (req,) = bedrock.requests()
    assert req["signature_valid"] is False
    assert req["auth_error"] == code
    assert bedrock.pending_steps() == 1


def test_bearer_key_accepted(bedrock):
    path = model_path(MODEL_ID)
    status, _, body = send(bedrock.port, path, json.dumps(user("b")).encode(),
                           {"Authorization": "Bearer bedrock-api-key-1",
                            "Content-Type": "application/json"})
    assert status == 200, body
    assert bedrock.requests()[0]["signature_valid"] is True


def test_no_verify_mode_records_none():
    fake = fake_aws.start_fake_bedrock(verify=False)
    try:
        status, _, _ = send(fake.port, model_path(MODEL_ID),
                            json.dumps(user("x")).encode(), {})
        assert status == 200
        assert fake.requests()[0]["signature_valid"] is None
    finally:
        fake.stop()


# --------------------------------------------------------------------------
# Event-stream encoder against the shared vectors
# --------------------------------------------------------------------------

def converse_stream_cases():
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(
        os.path.join(TESTDATA, "eventstream", "converse-stream", "*.json")))


@pytest.mark.parametrize("case", converse_stream_cases() or ["<absent>"])
def test_encoder_reproduces_converse_stream_fixture(case):
    folder = need_shared("eventstream", "converse-stream")
    with open(os.path.join(folder, case + ".json")) as fh:
        spec = json.load(fh)
    expected = read_bytes(os.path.join(folder, case + ".bin"))
    got = b""
    for msg in spec["messages"]:
        assert len(got) == msg["offset"]
        frame = fake_aws.encode_message(
            [(h["name"], h["type"], h["value"]) for h in msg["headers"]],
            msg["payload"])
        assert len(frame) == msg["total_length"]
        got += frame
    assert got == expected
    decoded = fake_aws.decode_stream(expected)
    assert [m["payload"].decode() for m in decoded] == \
        [m["payload"] for m in spec["messages"]]


def go_cases(kind):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(
        TESTDATA, "eventstream", "aws-sdk-go", "encoded", kind, "*")))


def go_header_value(header):
    value = header["value"]
    if header["type"] in (6, 7, 9):
        value = base64.b64decode(value)
    return value


@pytest.mark.parametrize("case", go_cases("positive") or ["<absent>"])
def test_encoder_reproduces_aws_sdk_go_vectors(case):
    root = need_shared("eventstream", "aws-sdk-go")
    expected = read_bytes(os.path.join(root, "encoded", "positive", case))
    with open(os.path.join(root, "decoded", "positive", case)) as fh:
        spec = json.load(fh)
    frame = fake_aws.encode_message(
        [(h["name"], h["type"], go_header_value(h)) for h in spec["headers"]],
        base64.b64decode(spec["payload"]))
    assert frame == expected


@pytest.mark.parametrize("case", go_cases("negative") or ["<absent>"])
def test_decoder_rejects_aws_sdk_go_negative_vectors(case):
    root = need_shared("eventstream", "aws-sdk-go")
    with pytest.raises(ValueError):
        fake_aws.decode_stream(read_bytes(
            os.path.join(root, "encoded", "negative", case)))


# --------------------------------------------------------------------------
# Scripted steps
# --------------------------------------------------------------------------

def test_text_step_is_a_real_converse_response(bedrock):
    bedrock.script([{"text": "Hi there!"}])
    status, headers, body = call(bedrock, user("Hello"))
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert len(headers["x-amzn-requestid"]) == 36
    out = json.loads(body)
    assert out["output"]["message"] == {
        "role": "assistant", "content": [{"text": "Hi there!"}]}
    assert out["stopReason"] == "end_turn"
    usage = out["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert isinstance(out["metrics"]["latencyMs"], int)


def test_tool_use_step(bedrock):
    bedrock.script([{"text": "Checking", "tool_use": [
        {"name": "get_weather", "input": {"city": "Paris"}, "id": "tu_1"},
        {"name": "get_time", "input": {}}]}])
    status, _, body = call(bedrock, user("Weather?"))
    out = json.loads(body)
    assert status == 200
    assert out["stopReason"] == "tool_use"
    content = out["output"]["message"]["content"]
    assert content[0] == {"text": "Checking"}
    assert content[1]["toolUse"] == {"toolUseId": "tu_1",
                                     "name": "get_weather",
                                     "input": {"city": "Paris"}}
    generated = content[2]["toolUse"]["toolUseId"]
    assert generated.startswith("tooluse_") and len(generated) == 30


def test_stop_reason_usage_and_extra(bedrock):
    bedrock.script([{"text": "trunc", "stop_reason": "max_tokens",
                     "usage": {"inputTokens": 10, "outputTokens": 1,
                               "cacheReadInputTokens": 4},
                     "response_extra": {"additionalModelResponseFields": {}}}])
    out = json.loads(call(bedrock, user("x"))[2])
    assert out["stopReason"] == "max_tokens"
    assert out["usage"] == {"inputTokens": 10, "outputTokens": 1,
                            "cacheReadInputTokens": 4, "totalTokens": 11}
    assert out["additionalModelResponseFields"] == {}


@pytest.mark.parametrize("code,status", [("ThrottlingException", 429),
                                         ("ModelTimeoutException", 408),
                                         ("InternalServerException", 500),
                                         ("ServiceUnavailableException", 503)])
def test_error_step(bedrock, code, status):
    bedrock.script([{"error": code, "message": "boom"}])
    rstatus, headers, body = call(bedrock, user("x"))
    assert rstatus == status
    assert headers["x-amzn-errortype"] == code + fake_aws.BEDROCK_ERROR_SUFFIX
    assert json.loads(body) == {"message": "boom"}


def test_error_step_explicit_status_and_header(bedrock):
    bedrock.script([{"error": "ThrottlingException", "status": 400,
                     "message": "m", "error_type_header": "ThrottlingException"}])
    status, headers, _ = call(bedrock, user("x"))
    assert status == 400
    assert headers["x-amzn-errortype"] == "ThrottlingException"


def test_latency_step(bedrock):
    bedrock.script([{"text": "slow", "latency_ms": 150}])
    start = time.monotonic()
    out = json.loads(call(bedrock, user("x"))[2])
    assert time.monotonic() - start >= 0.15
    assert out["metrics"]["latencyMs"] >= 150


def test_drop_connection_then_retry_succeeds(bedrock):
    bedrock.script([{"drop_connection": True}, {"text": "second try"}])
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        call(bedrock, user("x"))
    status, _, body = call(bedrock, user("x"))
    assert status == 200
    assert json.loads(body)["output"]["message"]["content"][0]["text"] == \
        "second try"
    assert [r["status"] for r in bedrock.requests()] == ["dropped", 200]


def test_empty_script_echoes_last_user_text(bedrock):
    body = {"messages": [
        {"role": "user", "content": [{"text": "first"}]},
        {"role": "assistant", "content": [{"text": "ok"}]},
        {"role": "user", "content": [{"text": "second"}]}]}
    out = json.loads(call(bedrock, body)[2])
    assert out["output"]["message"]["content"] == [{"text": "echo: second"}]
    assert out["stopReason"] == "end_turn"


def test_script_is_fifo_across_operations_and_keep_alive(bedrock):
    bedrock.script([{"text": "one"}, {"text": "two words"}])
    bedrock.script({"text": "three"})
    conn = http.client.HTTPConnection("127.0.0.1", bedrock.port, timeout=10)
    try:
        first = json.loads(call(bedrock, user("a"), conn=conn)[2])
        status, headers, raw = call(bedrock, user("b"), op="converse-stream",
                                    conn=conn)
        third = json.loads(call(bedrock, user("c"), conn=conn)[2])
        sock = conn.sock
        fourth = json.loads(call(bedrock, user("d"), conn=conn)[2])
        assert conn.sock is sock  # the same TCP connection throughout
    finally:
        conn.close()
    assert first["output"]["message"]["content"][0]["text"] == "one"
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    text = "".join(p["delta"]["text"] for _, k, p in stream_events(raw)
                   if k == "contentBlockDelta")
    assert text == "two words"
    assert third["output"]["message"]["content"][0]["text"] == "three"
    assert fourth["output"]["message"]["content"][0]["text"] == "echo: d"


# --------------------------------------------------------------------------
# ConverseStream
# --------------------------------------------------------------------------

def test_stream_text_events(bedrock):
    bedrock.script([{"text": "Hello streaming world", "usage":
                     {"inputTokens": 5, "outputTokens": 3}}])
    status, headers, raw = call(bedrock, user("x"), op="converse-stream")
    assert status == 200
    assert int(headers["content-length"]) == len(raw)
    events = stream_events(raw)
    kinds = [k for _, k, _ in events]
    assert kinds == ["messageStart", "contentBlockDelta", "contentBlockDelta",
                     "contentBlockDelta", "contentBlockStop", "messageStop",
                     "metadata"]
    assert all(m == "event" for m, _, _ in events)
    assert all("p" in p for _, _, p in events)  # Bedrock-style padding
    assert [p["delta"]["text"] for _, k, p in events
            if k == "contentBlockDelta"] == ["Hello", " streaming", " world"]
    assert events[5][2]["stopReason"] == "end_turn"
    assert events[6][2]["usage"] == {"inputTokens": 5, "outputTokens": 3,
                                     "totalTokens": 8}
    assert "latencyMs" in events[6][2]["metrics"]


def test_stream_tool_use_input_fragments(bedrock):
    tool_input = {"city": "Paris", "when": ["today", "tomorrow"], "n": 3,
                  "note": "é世"}
    bedrock.script([{"text": "Let me check.", "tool_use": [
        {"name": "get_weather", "input": tool_input, "id": "tu_9"}],
        "pad": False}])
    raw = call(bedrock, user("x"), op="converse-stream")[2]
    events = stream_events(raw)
    starts = [p for _, k, p in events if k == "contentBlockStart"]
    assert starts == [{"contentBlockIndex": 1, "start": {"toolUse": {
        "toolUseId": "tu_9", "name": "get_weather"}}}]
    fragments = [p["delta"]["toolUse"]["input"] for _, k, p in events
                 if k == "contentBlockDelta" and p["contentBlockIndex"] == 1]
    assert len(fragments) > 2 and fragments[0] == ""
    assert json.loads("".join(fragments)) == tool_input
    stops = [p["contentBlockIndex"] for _, k, p in events
             if k == "contentBlockStop"]
    assert stops == [0, 1]
    assert events[-2][2] == {"stopReason": "tool_use"}
    assert all("p" not in p for _, _, p in events)


def test_stream_in_stream_exception(bedrock):
    bedrock.script([{"text": "Partial answer here",
                     "stream_exception": "throttlingException",
                     "message": "Too many tokens", "after_events": 2}])
    raw = call(bedrock, user("x"), op="converse-stream")[2]
    events = stream_events(raw)
    assert [k for _, k, _ in events] == ["messageStart", "contentBlockDelta",
                                         "throttlingException"]
    assert events[-1][0] == "exception"
    assert events[-1][2] == {"message": "Too many tokens"}
    last = fake_aws.decode_stream(raw)[-1]["headers"]
    assert last[":content-type"] == "application/json"


def test_stream_error_before_200(bedrock):
    bedrock.script([{"error": "ModelNotReadyException", "message": "warming"}])
    status, headers, body = call(bedrock, user("x"), op="converse-stream")
    assert status == 429
    assert headers["content-type"] == "application/json"
    assert headers["x-amzn-errortype"].startswith("ModelNotReadyException")


def test_stream_chunked_writes_and_event_delay(bedrock):
    bedrock.script([{"text": "a b c d e f g", "event_delay_ms": 5,
                     "chunking": {"min": 1, "max": 5, "pause_ms": 0.5}}])
    path = model_path(MODEL_ID, "converse-stream")
    raw_body = json.dumps(user("x")).encode()
    conn = http.client.HTTPConnection("127.0.0.1", bedrock.port, timeout=10)
    try:
        conn.request("POST", path, body=raw_body,
                     headers=sign(bedrock.port, path, raw_body))
        resp = conn.getresponse()
        reads = []
        while True:
            piece = resp.read1(4096)
            if not piece:
                break
            reads.append(piece)
    finally:
        conn.close()
    raw = b"".join(reads)
    assert len(reads) > 10  # arrived in many small pieces
    text = "".join(p["delta"]["text"] for _, k, p in stream_events(raw)
                   if k == "contentBlockDelta")
    assert text == "a b c d e f g"


def test_stream_drop_after_events_truncates(bedrock):
    bedrock.script([{"text": "one two three", "drop_after_events": 2}])
    with pytest.raises(http.client.IncompleteRead):
        call(bedrock, user("x"), op="converse-stream")
    assert bedrock.requests()[0]["status"] == "dropped"


def test_reasoning_step(bedrock):
    bedrock.script([{"reasoning": "think hard", "text": "done"},
                    {"reasoning": "think hard", "text": "done"}])
    out = json.loads(call(bedrock, user("x"))[2])
    assert out["output"]["message"]["content"][0]["reasoningContent"][
        "reasoningText"]["text"] == "think hard"
    events = stream_events(call(bedrock, user("x"), op="converse-stream")[2])
    deltas = [p["delta"] for _, k, p in events if k == "contentBlockDelta"]
    assert {"reasoningContent": {"text": "think"}} in deltas
    assert any("signature" in d.get("reasoningContent", {}) for d in deltas)


# --------------------------------------------------------------------------
# Validation like Bedrock
# --------------------------------------------------------------------------

TOOL_USE_TURN = {"role": "assistant", "content": [
    {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}]}
TOOL_RESULT_TURN = {"role": "user", "content": [
    {"toolResult": {"toolUseId": "t1", "content": [{"text": "18C"}]}}]}
Q = {"role": "user", "content": [{"text": "q"}]}
A = {"role": "assistant", "content": [{"text": "a"}]}

INVALID = {
    "non_json": b"{not json",
    "missing_messages": {"inferenceConfig": {"maxTokens": 5}},
    "empty_messages": {"messages": []},
    "starts_with_assistant": {"messages": [A, Q]},
    "not_alternating": {"messages": [Q, Q]},
    "bad_role": {"messages": [{"role": "system", "content": [{"text": "x"}]}]},
    "blank_text": {"messages": [{"role": "user", "content": [{"text": " "}]}]},
    "tool_use_without_result": {"messages": [Q, TOOL_USE_TURN, Q],
                                "toolConfig": TOOLS},
    "tool_use_last": {"messages": [Q, TOOL_USE_TURN], "toolConfig": TOOLS},
    "result_without_use": {"messages": [Q, A, TOOL_RESULT_TURN],
                           "toolConfig": TOOLS},
    "result_id_mismatch": {"messages": [Q, TOOL_USE_TURN, {
        "role": "user", "content": [{"toolResult": {
            "toolUseId": "t2", "content": [{"text": "x"}]}}]}],
        "toolConfig": TOOLS},
    "tools_without_tool_config": {"messages": [Q, TOOL_USE_TURN,
                                               TOOL_RESULT_TURN]},
    "max_tokens_zero": {"messages": [Q], "inferenceConfig": {"maxTokens": 0}},
    "temperature_high": {"messages": [Q],
                         "inferenceConfig": {"temperature": 1.5}},
    "empty_tools": {"messages": [Q], "toolConfig": {"tools": []}},
    "two_member_block": {"messages": [{"role": "user", "content": [
        {"text": "a", "image": {}}]}]},
    # Claude refuses a forced tool with extended thinking on.
    "forced_tool_with_thinking": {
        "messages": [Q], "toolConfig": dict(TOOLS, toolChoice={
            "tool": {"name": TOOLS["tools"][0]["toolSpec"]["name"]}}),
        "additionalModelRequestFields": {"thinking": {
            "type": "enabled", "budget_tokens": 1024}}},
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_validation_exception(bedrock, case):
    bedrock.script([{"text": "must not be consumed"}])
    for op in ("converse", "converse-stream"):
        status, headers, body = call(bedrock, INVALID[case], op=op)
        assert status == 400, (case, body)
        assert headers["x-amzn-errortype"].split(":")[0] == \
            "ValidationException"
        assert list(json.loads(body)) == ["message"]
    assert bedrock.pending_steps() == 1
    assert all(r["error"] == "ValidationException" for r in bedrock.requests())


def test_forced_tool_without_thinking_accepted(bedrock):
    body = dict(INVALID["forced_tool_with_thinking"])
    body["additionalModelRequestFields"] = {"top_k": 5}
    status, _, resp = call(bedrock, body)
    assert status == 200, resp
    body["additionalModelRequestFields"] = {"thinking": {"type": "enabled",
                                                         "budget_tokens": 1024}}
    body["toolConfig"] = dict(TOOLS, toolChoice={"auto": {}})
    status, _, resp = call(bedrock, body)
    assert status == 200, resp


def test_valid_tool_round_trip_accepted(bedrock):
    body = {"messages": [Q, TOOL_USE_TURN, TOOL_RESULT_TURN, A, Q],
            "toolConfig": TOOLS, "inferenceConfig": {"maxTokens": 1},
            "system": [{"text": "sys"}]}
    status, _, resp = call(bedrock, body)
    assert status == 200, resp


# --------------------------------------------------------------------------
# Control HTTP API and CLI
# --------------------------------------------------------------------------

def http_json(url, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data,
                                 method="GET" if data is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_control_api(bedrock):
    assert http_json(bedrock.url + "/__fake/script",
                     [{"text": "via http"}, {"error": "ThrottlingException"}]
                     ) == {"queued": 2}
    assert json.loads(call(bedrock, user("x"))[2])["output"]["message"][
        "content"][0]["text"] == "via http"
    assert call(bedrock, user("x"))[0] == 429
    listed = http_json(bedrock.url + "/__fake/requests")
    assert [r["status"] for r in listed] == [200, 429]
    assert listed[0]["signature_valid"] is True
    assert listed[0]["headers"]["content-type"] == "application/json"
    assert listed[0]["body"] == user("x")
    http_json(bedrock.url + "/__fake/script", [{"text": "pending"}])
    assert http_json(bedrock.url + "/__fake/reset", {}) == {"ok": True}
    assert http_json(bedrock.url + "/__fake/requests") == []
    assert bedrock.pending_steps() == 0


def test_cli_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "fake_aws.py"), "--port", "0",
         "--latency-ms", "30", "--access-key", "AKIDCLI", "--secret-key",
         "clisecret", "--access-key", AKID, "--secret-key", SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        port = ready["port"]
        path = model_path(MODEL_ID)
        raw = json.dumps(user("cli")).encode()
        start = time.monotonic()
        status, _, body = send(port, path, raw, sign(
            port, path, raw, akid="AKIDCLI", secret="clisecret"))
        assert status == 200
        assert time.monotonic() - start >= 0.03
        assert "echo: cli" in body.decode()
        status, _, _ = send(port, path, raw, sign(port, path, raw))
        assert status == 200
        status, _, _ = send(port, path, raw, sign(port, path, raw,
                                                  secret="nope"))
        assert status == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_cli_no_verify():
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "fake_aws.py"), "--port", "0",
         "--no-verify"], stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(proc.stdout.readline())["port"]
        status, _, _ = send(port, model_path(MODEL_ID),
                            json.dumps(user("x")).encode(), {})
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# --------------------------------------------------------------------------
# Secrets Manager
# --------------------------------------------------------------------------

def sm_call(fake, payload, target="secretsmanager.GetSecretValue", **kw):
    raw = json.dumps(payload).encode()
    extra = {"X-Amz-Target": target,
             "Content-Type": "application/x-amz-json-1.1"}
    headers = sign(fake.port, "/", raw, service=kw.pop("service",
                                                       "secretsmanager"),
                   extra=extra, **kw)
    status, rheaders, body = send(fake.port, "/", raw, headers)
    return status, rheaders, json.loads(body)


def test_secrets_manager_get_secret_value(secrets):
    status, headers, out = sm_call(secrets, {"SecretId": "strands/test"})
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert out["SecretString"] == '{"user":"u","password":"p"}'
    assert out["Name"] == "strands/test"
    assert out["ARN"].startswith("arn:aws:secretsmanager:us-east-1:")
    assert out["VersionStages"] == ["AWSCURRENT"]
    by_arn = sm_call(secrets, {"SecretId": out["ARN"]})[2]
    assert by_arn["Name"] == "strands/test"
    binary = sm_call(secrets, {"SecretId": "bin"})[2]
    assert base64.b64decode(binary["SecretBinary"]) == b"\x00\x01\xff"
    assert all(r["signature_valid"] for r in secrets.requests())


def test_secrets_manager_errors(secrets):
    status, _, out = sm_call(secrets, {"SecretId": "nope"})
    assert status == 400
    assert out["__type"] == "ResourceNotFoundException"
    assert "Message" in out
    status, _, out = sm_call(secrets, {"SecretId": "strands/test",
                                       "VersionStage": "AWSPREVIOUS"})
    assert (status, out["__type"]) == (400, "ResourceNotFoundException")
    status, _, out = sm_call(secrets, {"SecretId": "strands/test"},
                             service="bedrock")
    assert (status, out["__type"]) == (400, "InvalidSignatureException")
    status, _, out = sm_call(secrets, {"SecretId": "x"},
                             target="secretsmanager.ListSecrets")
    assert (status, out["__type"]) == (400, "UnknownOperationException")


# --------------------------------------------------------------------------
# The official AWS JS SDK as an oracle
# --------------------------------------------------------------------------

JS_DIR = os.path.join(HERE, "js")


def test_official_js_sdk_against_fake():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk",
                                      "client-bedrock-runtime")):
        pytest.skip("AWS JS SDK not installed: run `cd tests/fakes/js && "
                    "npm ci`")
    bedrock = fake_aws.start_fake_bedrock(
        credentials={AKID: SECRET, "ASIATEMPEXAMPLE": ("tmpsecret", "tok-js")},
        bearer_keys=["bedrock-api-key-js"])
    secrets = fake_aws.start_fake_secrets_manager(
        secrets={"strands/test": "s3cr3t-value"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        proc = subprocess.run(
            [node, os.path.join(JS_DIR, "sdk_oracle.mjs"),
             "--bedrock", bedrock.url, "--secrets", secrets.url,
             "--akid", AKID, "--secret", SECRET,
             "--temp-akid", "ASIATEMPEXAMPLE", "--temp-secret", "tmpsecret",
             "--temp-token", "tok-js", "--bearer", "bedrock-api-key-js",
             "--secret-name", "strands/test"],
            cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        brequests = bedrock.requests()
        srequests = secrets.requests()
    finally:
        bedrock.stop()
        secrets.stop()

    assert out["converse_text"]["text"] == "Hello from the fake"
    assert out["converse_text"]["stopReason"] == "end_turn"
    assert out["converse_text"]["usage"] == {
        "inputTokens": 7, "outputTokens": 4, "totalTokens": 11}
    assert out["converse_text"]["requestId"]
    tool = out["converse_tool"]
    assert tool["stopReason"] == "tool_use"
    assert tool["blockKinds"] == ["text", "toolUse"]
    assert tool["toolUse"] == {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                               "name": "get_weather",
                               "input": {"city": "Paris", "days": [1, 2],
                                         "unit": "°C"}}
    assert out["converse_tool_roundtrip"]["text"] == "It is 18 degrees."
    for case, name, code in [("validation_error", "ValidationException", 400),
                             ("throttling", "ThrottlingException", 429),
                             ("stream_http_error", "ValidationException", 400)]:
        assert out[case]["name"] == name, out[case]
        assert out[case]["httpStatusCode"] == code
    assert "alternate" in out["validation_error"]["message"]

    text = out["stream_text"]
    assert text["text"] == "Hello streaming world, héllo 世界"
    assert text["events"][0] == "messageStart"
    assert text["events"][-3:] == ["contentBlockStop", "messageStop",
                                   "metadata"]
    assert "contentBlockDelta" in text["events"]
    assert text["stopReason"] == "end_turn" and text["error"] is None
    assert text["usage"]["totalTokens"] == \
        text["usage"]["inputTokens"] + text["usage"]["outputTokens"]
    stool = out["stream_tool"]
    assert stool["error"] is None and stool["stopReason"] == "tool_use"
    assert stool["text"] == "Checking."
    assert "contentBlockStart" in stool["events"]
    assert stool["tools"] == [{"toolUseId": "tooluse_stream1",
                               "name": "get_weather",
                               "input": {"city": "Paris",
                                         "nested": {"list": [1, "two",
                                                             None]}}}]
    sexc = out["stream_exception"]
    assert sexc["events"] == ["messageStart", "contentBlockDelta",
                              "contentBlockDelta"]
    assert sexc["error"]["name"] == "ThrottlingException"
    assert sexc["error"]["message"] == \
        "Too many tokens, please wait before trying again."
    assert out["session_token"]["text"] == "temporary credentials ok"
    assert out["bearer"]["text"] == "bearer ok"
    assert out["secret_ok"]["SecretString"] == "s3cr3t-value"
    assert out["secret_ok"]["createdIsDate"] is True
    assert out["secret_missing"]["name"] == "ResourceNotFoundException"
    assert out["secret_missing"]["httpStatusCode"] == 400

    # The SDK signs with @smithy/signature-v4: a second, independent signer
    # that the fake's botocore-based verifier must accept every time.
    assert len(brequests) == 11 and len(srequests) == 2
    for req in brequests + srequests:
        assert req["signature_valid"] is True, req
    sigv4 = [r for r in brequests
             if r["headers"]["authorization"].startswith("AWS4-HMAC-SHA256")]
    assert len(sigv4) == 10
    assert all("x-amz-content-sha256" in r["headers"] for r in sigv4)
    assert brequests[-1]["headers"]["authorization"] == \
        "Bearer bedrock-api-key-js"
    assert brequests[-2]["headers"]["x-amz-security-token"] == "tok-js"
    arn_reqs = [r for r in brequests if r["model_id"] == MODEL_ARN]
    assert arn_reqs and all(r["path_canonical"] for r in arn_reqs)
    assert all("%3A" in r["path"] and "%2F" in r["path"] for r in arn_reqs)
    assert srequests[0]["headers"]["x-amz-target"] == \
        "secretsmanager.GetSecretValue"


def test_malformed_steps_are_refused_or_answered_500(bedrock):
    req = urllib.request.Request(bedrock.url + "/__fake/script",
                                 data=b'["not a step"]', method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 400
    bedrock.script([{"tool_use": [{"input": {}}]}])  # no tool name
    status, _, body = call(bedrock, user("x"))
    assert status == 500 and b"fake_aws" in body


def test_log_limit_keeps_newest_and_skew_check_can_be_disabled():
    fake = fake_aws.start_fake_bedrock(log_limit=2, max_skew_s=None)
    try:
        when = datetime(2015, 8, 30, 12, 36, 0)
        for text in ("a", "b", "c"):
            assert call(fake, user(text), when=when)[0] == 200
        log = fake.requests()
        assert [r["seq"] for r in log] == [2, 3]
        assert [r["body"] for r in log] == [user("b"), user("c")]
    finally:
        fake.stop()
