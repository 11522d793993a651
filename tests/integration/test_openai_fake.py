"""Fidelity of tests/fakes/fake_openai.py: the official `openai` npm client
(7.60.0, tests/fakes/js/openai_oracle.mjs) parses the fake's answers,
streamed and not, with parallel tool calls (assembled from deltas by the
SDK's own ChatCompletionStream) and usage, and its error answers come out
as the SDK's typed errors (RateLimitError, BadRequestError with code
context_length_exceeded, AuthenticationError, APIError for an error chunk).
Also: the fake's own request validation (unanswered tool calls, a tool
message without a call) answers 400 as OpenAI does. Skipped, saying so,
when node or tests/fakes/js/node_modules is missing.
Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider
     tests/integration/test_openai_fake.py
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FAKES = os.path.join(os.path.dirname(HERE), "fakes")
JS = os.path.join(FAKES, "js")
sys.path.insert(0, FAKES)

import fake_openai  # noqa: E402

KEY = "sk-oracle-key"


@pytest.fixture
def fake():
    f = fake_openai.start_fake_openai(api_key=KEY, seed=5)
    yield f
    f.stop()


def post(fake, path, body, key=KEY):
    req = urllib.request.Request(
        fake.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_official_client_parses_the_fake(fake):
    if not shutil.which("node") or not os.path.isdir(
            os.path.join(JS, "node_modules", "openai")):
        pytest.skip("node or tests/fakes/js/node_modules/openai missing "
                    "(run `npm ci` in tests/fakes/js)")
    calls = [{"id": "call_p1", "name": "calc", "arguments": {"x": 1}},
             {"id": "call_p2", "name": "calc", "arguments": {"x": 2}}]
    fake.script([
        {"text": "plain answer", "usage": {"prompt_tokens": 11,
                                           "completion_tokens": 2,
                                           "total_tokens": 13}},
        {"text": "a streamed answer in many small pieces",
         "cached_tokens": 3},
        {"tool_calls": calls},
        {"text": "calling", "tool_calls": [
            {"id": "call_s1", "name": "calc", "arguments": {"x": 10}},
            {"id": "call_s2", "name": "calc",
             "arguments": {"x": 20, "nested": {"deep": [1, 2, "three"]}}}]},
        {"error": {"status": 429, "type": "requests",
                   "code": "rate_limit_exceeded",
                   "message": "Rate limit reached"}, "retry_after": "7"},
        {"error": {"status": 400, "type": "invalid_request_error",
                   "code": "context_length_exceeded", "param": "messages",
                   "message": "This model's maximum context length is "
                              "8192 tokens."}},
        # (the 401 needs no step: the wrong key is refused first)
        {"text": "doomed", "stream_error": {"type": "server_error",
                                            "code": "overloaded",
                                            "message": "overloaded"},
         "after_chunks": 2},
        {"tool_calls": [{"id": "call_f1", "name": "calc",
                         "arguments": {"x": 5}}]},
        # (the unknown forced function needs no step: refused first)
    ])
    p = subprocess.run(["node", os.path.join(JS, "openai_oracle.mjs"),
                        fake.url + "/v1", KEY], cwd=JS, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    assert out["plain"]["content"] == "plain answer"
    assert out["plain"]["finish"] == "stop"
    assert out["plain"]["object"] == "chat.completion"
    assert out["plain"]["usage"]["total_tokens"] == 13
    st = out["streamed"]
    assert st["text"] == "a streamed answer in many small pieces"
    assert st["chunks"] > 5 and st["finish"] == "stop"
    assert st["usage"]["prompt_tokens_details"]["cached_tokens"] == 3
    assert out["tools"]["finish"] == "tool_calls"
    assert out["tools"]["calls"] == [
        {"id": "call_p1", "name": "calc", "args": {"x": 1}},
        {"id": "call_p2", "name": "calc", "args": {"x": 2}}]
    stt = out["streamTools"]
    assert stt["finish"] == "tool_calls" and stt["content"] == "calling"
    assert stt["calls"] == [
        {"id": "call_s1", "name": "calc", "args": {"x": 10}},
        {"id": "call_s2", "name": "calc",
         "args": {"x": 20, "nested": {"deep": [1, 2, "three"]}}}]
    assert stt["usage"]["total_tokens"] > 0
    assert out["rateLimit"]["ctor"] == "RateLimitError"
    assert out["rateLimit"]["status"] == 429
    assert out["rateLimit"]["code"] == "rate_limit_exceeded"
    assert out["rateLimit"]["retryAfter"] == "7"
    assert out["overflow"]["ctor"] == "BadRequestError"
    assert out["overflow"]["code"] == "context_length_exceeded"
    assert out["auth"]["ctor"] == "AuthenticationError"
    assert out["auth"]["code"] == "invalid_api_key"
    assert out["streamError"]["ctor"] == "APIError"
    assert "overloaded" in out["streamError"]["message"]
    assert out["forced"] == {"finish": "tool_calls", "calls": [
        {"id": "call_f1", "name": "calc", "args": {"x": 5}}]}
    assert out["forcedUnknown"]["ctor"] == "BadRequestError"
    assert out["forcedUnknown"]["status"] == 400
    assert "'nope' is not one of the functions" in \
        out["forcedUnknown"]["message"]
    # What the SDK sent is what the fake recorded.
    reqs = fake.requests()
    assert reqs[1]["body"]["stream"] is True
    assert reqs[1]["body"]["stream_options"] == {"include_usage": True}
    assert reqs[0]["headers"]["authorization"] == "Bearer " + KEY
    # The SDK's forced choice is the wire form the runtime sends.
    assert reqs[-2]["body"]["tool_choice"] == {
        "type": "function", "function": {"name": "calc"}}


def test_fake_validates_tool_pairing(fake):
    call = {"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{}"}}
    base = [{"role": "user", "content": "x"},
            {"role": "assistant", "content": None, "tool_calls": [call]}]
    status, body = post(fake, "/v1/chat/completions",
                        {"model": "m", "messages": base})
    assert status == 400 and "tool_call_id" in body
    status, body = post(fake, "/v1/chat/completions", {
        "model": "m", "messages": [{"role": "user", "content": "x"},
                                   {"role": "tool", "tool_call_id": "zz",
                                    "content": "r"}]})
    assert status == 400 and "preceeding message with 'tool_calls'" in body
    status, body = post(fake, "/v1/chat/completions", {
        "model": "m", "messages": base + [
            {"role": "tool", "tool_call_id": "c1", "content": "r"}]})
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: x"
    status, body = post(fake, "/v1/chat/completions",
                        {"model": "m", "messages": [{"role": "user",
                                                     "content": "x"}],
                         "stream_options": {"include_usage": True}})
    assert status == 400
    # A forced function must be one of "tools", and needs "tools".
    tools = [{"type": "function", "function": {"name": "f",
                                               "parameters": {}}}]
    one = [{"role": "user", "content": "x"}]
    status, body = post(fake, "/v1/chat/completions", {
        "model": "m", "messages": one, "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "g"}}})
    assert status == 400 and "'g' is not one of the functions" in body
    status, body = post(fake, "/v1/chat/completions", {
        "model": "m", "messages": one,
        "tool_choice": {"type": "function", "function": {"name": "f"}}})
    assert status == 400 and "only allowed when 'tools'" in body
    status, body = post(fake, "/v1/chat/completions", {
        "model": "m", "messages": one, "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "f"}}})
    assert status == 200, body
    status, body = post(fake, "/v1/chat/completions",
                        {"model": "m", "messages": []}, key="sk-bad")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "invalid_api_key"
