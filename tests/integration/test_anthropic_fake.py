"""Fidelity test of tests/fakes/fake_anthropic.py: the official
@anthropic-ai/sdk (pinned in tests/fakes/js/package.json) parses the fake's
answers, streamed (messages.stream().finalMessage()) and plain
(messages.create()), incl. parallel tool_use, thinking with signatures,
redacted thinking, usage with cache tokens and every stop reason, and turns
its errors into the SDK's typed errors. Also checks the fake's own
validation of what the runtime sends (x-api-key, anthropic-version
2023-06-01). Skips, saying so, without node or node_modules.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_anthropic_fake.py
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
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKES = os.path.join(ROOT, "tests", "fakes")
JS = os.path.join(FAKES, "js")
sys.path.insert(0, FAKES)

import fake_anthropic  # noqa: E402

KEY = fake_anthropic.DEFAULT_KEY


@pytest.fixture
def fake():
    f = fake_anthropic.start_fake_anthropic(seed=7)
    yield f
    f.stop()


@pytest.fixture(scope="module")
def oracle():
    """What the SDK saw, case by case (one node run for the module)."""
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(JS, "node_modules", "@anthropic-ai",
                                      "sdk")):
        pytest.skip("@anthropic-ai/sdk not installed (cd tests/fakes/js && "
                    "npm ci)")
    f = fake_anthropic.start_fake_anthropic(seed=11)
    try:
        p = subprocess.run(["node", "anthropic_oracle.mjs", "--url", f.url,
                            "--key", KEY], cwd=JS, capture_output=True,
                           text=True, timeout=120)
        requests = f.requests()
    finally:
        f.stop()
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), requests


def test_sdk_streams_and_plain_text(oracle):
    out, _ = oracle
    s = out["stream_text"]
    assert not s["error"], s
    assert s["content"] == [{"type": "text", "text": "Hello there, world"}]
    assert s["text"] == "Hello there, world"
    assert s["stop_reason"] == "end_turn"
    assert s["events"][0] == "message_start"
    assert s["events"][-2:] == ["message_delta", "message_stop"]
    p = out["plain_text"]
    assert not p["error"] and p["content"][0]["text"] == "Hello plain"
    c = out["stream_chunked"]
    assert c["text"] == "Zürich ☃ splits anywhere", c


def test_sdk_parses_parallel_tool_use(oracle):
    out, _ = oracle
    m = out["stream_parallel_tools"]
    assert not m["error"], m
    assert m["stop_reason"] == "tool_use"
    assert m["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_a1", "name": "get_weather",
         "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_b2", "name": "get_weather",
         "input": {"city": "Oslo", "n": [1, 2]}}]
    p = out["plain_tool"]
    assert p["content"][0]["type"] == "tool_use"
    assert p["content"][0]["input"] == {"city": "Rome"}
    assert p["content"][0]["id"].startswith("toolu_")


def test_sdk_parses_thinking_and_redacted(oracle):
    out, _ = oracle
    m = out["stream_thinking"]
    assert not m["error"], m
    assert m["content"][0] == {"type": "thinking",
                               "thinking": "Let me think about the weather.",
                               "signature": "EqQBCgIYAhIM+sig/=="}
    assert m["content"][1]["type"] == "tool_use"
    p = out["plain_thinking"]
    assert p["content"][0]["signature"] == "sig-plain"
    r = out["stream_redacted"]
    assert r["content"][0] == {"type": "redacted_thinking",
                               "data": "RVhBTVBMRS1SRURBQ1RFRA=="}


def test_sdk_usage_and_stop_reasons(oracle):
    out, _ = oracle
    u = out["stream_usage_cache"]["usage"]
    assert (u["input_tokens"], u["output_tokens"],
            u["cache_read_input_tokens"],
            u["cache_creation_input_tokens"]) == (7, 3, 1200, 55)
    for case, reason in [("stop_max_tokens", "max_tokens"),
                         ("stop_stop_sequence", "stop_sequence"),
                         ("stop_refusal", "refusal"),
                         ("stop_pause_turn", "pause_turn")]:
        assert out[case]["stop_reason"] == reason, (case, out[case])
    assert out["stop_stop_sequence"]["stop_sequence"] == "END"


def test_sdk_typed_errors(oracle):
    out, _ = oracle
    e = out["error_rate_limit"]
    assert e["name"] == "RateLimitError" and e["status"] == 429
    assert e["type"] == "rate_limit_error" and e["requestID"]
    for case in ("error_overloaded", "error_overloaded_stream"):
        e = out[case]
        assert e["name"] == "OverloadedError", e
        assert "InternalServerError" in e["classes"]   # 529 is a 5xx
        assert e["status"] == 529 and e["type"] == "overloaded_error"
    e = out["error_auth"]
    assert e["name"] == "AuthenticationError" and e["status"] == 401
    assert e["type"] == "authentication_error"
    e = out["error_bad_request"]
    assert e["name"] == "BadRequestError" and e["status"] == 400
    assert e["apiMessage"].startswith("prompt is too long")
    e = out["error_validation"]
    assert e["name"] == "BadRequestError"
    assert "at least one message" in e["apiMessage"]
    e = out["error_in_stream"]     # an `error` event inside a 200 stream
    assert e["error"] and e["status"] is None
    assert e["type"] == "overloaded_error" and e["apiMessage"] == "Overloaded"


def test_sdk_forced_tool_and_its_refusals(oracle):
    out, _ = oracle
    m = out["forced_tool"]
    assert m["stop_reason"] == "tool_use"
    assert m["content"] == [{"type": "tool_use", "id": "toolu_f1",
                             "name": "get_weather", "input": {"city": "Bern"}}]
    e = out["error_forced_with_thinking"]
    assert e["name"] == "BadRequestError" and e["status"] == 400
    assert "Thinking may not be enabled" in e["apiMessage"]
    e = out["error_forced_unknown"]
    assert e["name"] == "BadRequestError" and e["status"] == 400
    assert "nope" in e["apiMessage"]


def test_sdk_retries_on_retry_after_and_sends_tool_results(oracle):
    out, requests = oracle
    assert out["retry_after_honoured"]["text"] == "after retry"
    assert out["tool_round_trip"]["text"] == "It is sunny."
    # the SDK's own requests passed the fake's validation
    sent = [r for r in requests if r["path"] == "/v1/messages"]
    assert sent and all(r["auth"] == "bearer" for r in sent)
    assert {r["headers"]["anthropic-version"] for r in sent} == {"2026-10-21"}


# -- the fake's validation of what the runtime sends ------------------------

def post(fake, body, headers=None):
    h = {"content-type": "application/json", "x-api-key": KEY,
         "anthropic-version": "2023-06-01"}
    h.update(headers or {})
    req = urllib.request.Request(fake.url + "/v1/messages",
                                 data=json.dumps(body).encode(),
                                 headers={k: v for k, v in h.items()
                                          if v is not None},
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


BASE = {"model": "claude-x", "max_tokens": 100,
        "messages": [{"role": "user", "content": [{"type": "text",
                                                    "text": "hi"}]}]}


def test_fake_checks_headers(fake):
    status, _, body = post(fake, BASE)
    assert status == 200 and json.loads(body)["content"][0]["text"] == \
        "echo: hi"
    status, hdrs, body = post(fake, BASE, {"x-api-key": "nope"})
    assert status == 401
    assert json.loads(body)["error"]["type"] == "authentication_error"
    assert hdrs["request-id"].startswith("req_")
    status, _, body = post(fake, BASE, {"anthropic-version": None})
    assert status == 400 and b"anthropic-version" in body
    # 2026-10-21 removed the sampling knobs; 2023-06-01 takes them
    status, _, _ = post(fake, dict(BASE, temperature=0.5),
                        {"anthropic-version": "2026-10-21"})
    assert status == 400
    status, _, _ = post(fake, dict(BASE, temperature=0.5))
    assert status == 200


def test_fake_checks_tool_pairing_and_thinking(fake):
    tools = [{"name": "t", "input_schema": {"type": "object"}}]
    turn = {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]}
    answer = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1",
         "content": [{"type": "text", "text": "ok"}]}]}
    ok = dict(BASE, tools=tools, messages=BASE["messages"] + [turn, answer])
    assert post(fake, ok)[0] == 200
    # no tools defined
    status, _, body = post(fake, {k: v for k, v in ok.items()
                                  if k != "tools"})
    assert status == 400 and b"must define tools" in body
    # the tool_use left unanswered
    wrong = dict(answer, content=[dict(answer["content"][0],
                                       tool_use_id="toolu_2")])
    status, _, body = post(fake, dict(ok, messages=BASE["messages"] +
                                      [turn, wrong]))
    assert status == 400 and b"toolu_1" in body
    # a thinking block without its signature, or after the tool_use
    think = {"type": "thinking", "thinking": "hm"}
    bad = dict(turn, content=[think] + turn["content"])
    status, _, body = post(fake, dict(ok, messages=BASE["messages"] +
                                      [bad, answer]))
    assert status == 400 and b"signature" in body
    late = dict(turn, content=turn["content"] + [dict(think, signature="s")])
    status, _, _ = post(fake, dict(ok, messages=BASE["messages"] +
                                   [late, answer]))
    assert status == 400
    # tool_choice must name a defined tool
    status, _, _ = post(fake, dict(ok, tool_choice={"type": "tool",
                                                    "name": "zz"}))
    assert status == 400
    # a forced tool with thinking on is refused; auto with thinking is not
    think_on = dict(ok, max_tokens=4096, thinking={"type": "enabled",
                                                  "budget_tokens": 1024})
    for kind in ({"type": "tool", "name": ok["tools"][0]["name"]},
                 {"type": "any"}):
        status, _, body = post(fake, dict(think_on, tool_choice=kind))
        assert status == 400 and b"Thinking may not be enabled" in body
    status, _, _ = post(fake, dict(think_on, tool_choice={"type": "auto"}))
    assert status == 200


def parse_sse(data):
    events = []
    for frame in data.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_fake_stream_splits_deltas_at_random_points(fake):
    text = "The quick brown fox jumps over the lazy dog"
    pieces = set()
    for _ in range(8):
        fake.script([{"text": text, "chunking": {"min": 1, "max": 5}}])
        status, hdrs, data = post(fake, dict(BASE, stream=True))
        assert status == 200
        assert hdrs["content-type"].startswith("text/event-stream")
        events = parse_sse(data)
        deltas = [p["delta"]["text"] for t, p in events
                  if t == "content_block_delta"]
        assert "".join(deltas) == text
        pieces.add(tuple(deltas))
        assert [t for t, _ in events][:2] == ["message_start", "ping"]
    assert len(pieces) > 1          # the cut points move
