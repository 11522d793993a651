"""MODEL_PROVIDER=anthropic end to end: the real binary against the loopback
fake Anthropic Messages API (tests/fakes/fake_anthropic.py): plain answers
(JSON and SSE), tool round trips with the exact follow-up request, parallel
tool calls, thinking kept byte-exact across a tool round, streaming split
at random points, usage, every stop reason, retries (overloaded_error, 429
with retry-after), context overflow -> reduced retry, auth error -> 502,
MODEL_PARAMS, no key in the logs, and start-up checks."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import RUNTIME
from test_streaming import SSEClient

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fakes"))

import fake_anthropic  # noqa: E402

KEY = fake_anthropic.DEFAULT_KEY
MODEL = "claude-sonnet-4-20250514"
# A signature with every base64 character class and a non-ASCII tail: it
# must come back byte for byte.
SIGNATURE = "EqQBCkYIBRgCKkD+/z9=ab\u00e9\u2603END"


@pytest.fixture
def anth():
    f = fake_anthropic.start_fake_anthropic(seed=5)
    yield f
    f.stop()


@pytest.fixture
def start(start_runtime, anth):
    def _start(**env):
        base = {"MODEL_PROVIDER": "anthropic", "MODEL_ID": MODEL,
                "ANTHROPIC_BASE_URL": anth.url, "ANTHROPIC_API_KEY": KEY,
                "TOOLS": "calculator"}
        base.update(env)
        return start_runtime(fake_server=None, **base)
    return _start


def calls(fake):
    return [r for r in fake.requests() if r["path"] == "/v1/messages"]


def test_plain_answer_json(start, anth):
    rt = start(SYSTEM_PROMPT="Be brief.")
    anth.script([{"text": "Hello from Claude",
                  "usage": {"input_tokens": 11, "output_tokens": 4}}])
    status, _, doc = rt.invoke({"prompt": "hi there"})
    assert status == 200, doc
    assert doc["response"] == "Hello from Claude"
    assert doc["stop_reason"] == "EndTurn"
    assert doc["usage"] == {"input_tokens": 11, "output_tokens": 4,
                            "total_tokens": 15,
                            "cache_read_input_tokens": 0,
                            "cache_write_input_tokens": 0}
    (req,) = calls(anth)
    assert req["method"] == "POST" and req["status"] == 200
    h = req["headers"]
    assert h["x-api-key"] == KEY and "authorization" not in h
    assert h["anthropic-version"] == "2023-06-01"
    assert h["content-type"] == "application/json"
    assert req["body"] == {
        "model": MODEL, "max_tokens": 4096, "stream": True,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi there"}]}],
        "system": [{"type": "text", "text": "Be brief."}],
        "tools": req["body"]["tools"]}
    assert [t["name"] for t in req["body"]["tools"]] == ["calculator"]
    assert req["body"]["tools"][0]["input_schema"]["type"] == "object"


def test_plain_answer_sse_split_at_random_points(start, anth):
    rt = start(TOOLS="")
    text = "Streaming Z\u00fcrich \u2603 answers, split anywhere."
    anth.script([{"text": text, "text_deltas": ["Streaming Z\u00fc",
                                                "rich \u2603 ans",
                                                "wers, split anywhere."],
                  "chunking": {"min": 1, "max": 3}}])
    c = SSEClient(rt, {"prompt": "stream", "stream": True})
    assert c.status == 200
    evs = [e for _, e in c.events()]
    c.close()
    texts = [e["text"] for e in evs if e["type"] == "text"]
    assert "".join(texts) == text and len(texts) == 3
    assert evs[-1]["type"] == "done" and evs[-1]["response"] == text
    assert calls(anth)[0]["body"]["stream"] is True
    assert "tools" not in calls(anth)[0]["body"]


def test_tool_round_trip_exact_follow_up(start, anth):
    rt = start()
    anth.script([{"text": "Let me compute.",
                  "tool_use": [{"name": "calculator", "id": "toolu_calc_1",
                                "input": {"expression": "6*7"}}]},
                 {"text": "It is 42."}])
    status, _, doc = rt.invoke({"prompt": "6 times 7?"})
    assert status == 200, doc
    assert doc["response"] == "It is 42." and doc["iterations"] == 2
    first, second = calls(anth)
    assert second["body"]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "6 times 7?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me compute."},
            {"type": "tool_use", "id": "toolu_calc_1", "name": "calculator",
             "input": {"expression": "6*7"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_calc_1",
             "content": [{"type": "text", "text": "42"}]}]}]
    assert second["body"]["tools"] == first["body"]["tools"]


def test_parallel_tool_calls(start, anth):
    rt = start()
    anth.script([{"tool_use": [
        {"name": "calculator", "id": "toolu_a", "input": {"expression": "1+1"}},
        {"name": "calculator", "id": "toolu_b", "input": {"expression": "2+2"}},
        {"name": "calculator", "id": "toolu_c", "input": {"expression": "1/"}}],
        "chunking": {"min": 1, "max": 4}},
        {"text": "2, 4 and an error."}])
    status, _, doc = rt.invoke({"prompt": "three sums"})
    assert status == 200, doc
    second = calls(anth)[1]["body"]["messages"]
    uses = [b for b in second[1]["content"] if b["type"] == "tool_use"]
    assert [u["id"] for u in uses] == ["toolu_a", "toolu_b", "toolu_c"]
    results = second[2]["content"]
    assert [r["tool_use_id"] for r in results] == ["toolu_a", "toolu_b",
                                                  "toolu_c"]
    assert results[0]["content"] == [{"type": "text", "text": "2"}]
    assert results[1]["content"] == [{"type": "text", "text": "4"}]
    assert results[2].get("is_error") is True
    assert "is_error" not in results[0]


def test_thinking_round_trip_signature_byte_exact(start, anth):
    params = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    rt = start(MODEL_PARAMS=json.dumps(params))
    anth.script([{"thinking": "I should use the calculator.",
                  "signature": SIGNATURE, "redacted_thinking": "R3dA+ct/=",
                  "tool_use": [{"name": "calculator", "id": "toolu_t",
                                "input": {"expression": "2^10"}}],
                  "chunking": {"min": 1, "max": 5}},
                 {"thinking": "Done.", "signature": "sig2", "text": "1024"}])
    c = SSEClient(rt, {"prompt": "2 to the 10th?", "stream": True})
    evs = [e for _, e in c.events()]
    c.close()
    assert evs[-1]["type"] == "done" and evs[-1]["response"] == "1024"
    first, second = calls(anth)
    assert first["body"]["thinking"] == params["thinking"]
    turn = second["body"]["messages"][1]
    assert turn["role"] == "assistant"
    assert turn["content"][:2] == [
        {"type": "redacted_thinking", "data": "R3dA+ct/="},
        {"type": "thinking", "thinking": "I should use the calculator.",
         "signature": SIGNATURE}]
    assert turn["content"][2]["type"] == "tool_use"
    # byte-identical on the wire, not just equal after JSON decoding
    sent = json.dumps(SIGNATURE)[1:-1]
    raw = second["body_text"]
    assert SIGNATURE in raw or sent in raw
    # the same session keeps the thinking for the next invocation too
    anth.script([{"text": "again"}])
    sid = evs[-1]["session_id"]
    status, _, doc = rt.invoke({"prompt": "and now?", "session_id": sid})
    assert status == 200, doc
    history = calls(anth)[2]["body"]["messages"]
    assert history[1]["content"][1]["signature"] == SIGNATURE
    assert history[3]["content"][0] == {"type": "thinking",
                                        "thinking": "Done.",
                                        "signature": "sig2"}


def test_concurrent_invocations(start, anth):
    """One model serves many invocations at once (shared connection pool,
    MODEL_PARAMS text, tool list): run it under TSan too."""
    import threading
    rt = start(MODEL_PARAMS='{"temperature":0.5}')
    n = 12
    anth.script([{"tool_use": [{"name": "calculator",
                                "input": {"expression": "%d+1" % i}}],
                  "chunking": {"min": 1, "max": 9}} for i in range(n)] +
                [{"text": "done"} for _ in range(n)])
    results = [None] * n

    def one(i):
        results[i] = rt.invoke({"prompt": "p%d" % i, "stream": i % 2 == 0},
                               timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert all(r is not None and r[0] == 200 for r in results), results
    got = calls(anth)
    assert len(got) == 2 * n
    assert all(r["body"]["temperature"] == 0.5 for r in got)


def test_usage_with_cache_tokens(start, anth):
    rt = start()
    anth.script([{"text": "cached", "usage": {
        "input_tokens": 7, "output_tokens": 3,
        "cache_read_input_tokens": 1200, "cache_creation_input_tokens": 55}}])
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 200
    assert doc["usage"]["input_tokens"] == 7
    assert doc["usage"]["output_tokens"] == 3
    assert doc["usage"]["total_tokens"] == 7 + 3 + 1200 + 55
    assert doc["usage"]["cache_read_input_tokens"] == 1200
    assert doc["usage"]["cache_write_input_tokens"] == 55


@pytest.mark.parametrize("reason,expected", [
    ("end_turn", "EndTurn"), ("max_tokens", "MaxTokens"),
    ("stop_sequence", "StopSequence"), ("refusal", "ContentFiltered"),
    ("pause_turn", "EndTurn")])
def test_every_stop_reason(start, anth, reason, expected):
    rt = start(TOOLS="")
    anth.script([{"text": "partial answer", "stop_reason": reason}])
    status, _, doc = rt.invoke({"prompt": "go"})
    assert status == 200, doc
    assert doc["stop_reason"] == expected
    assert len(calls(anth)) == 1


def test_overloaded_error_retried(start, anth):
    rt = start(TOOLS="")
    anth.script([{"error": "overloaded_error", "message": "Overloaded"},
                 {"stream_error": "overloaded_error", "after_events": 2},
                 {"text": "third time lucky"}])
    status, _, doc = rt.invoke({"prompt": "x"}, timeout=60)
    assert status == 200, doc
    assert doc["response"] == "third time lucky"
    got = calls(anth)
    assert [r["status"] for r in got] == [529, 200, 200]
    assert got[0]["body"] == got[1]["body"] == got[2]["body"]


def test_overloaded_mid_stream_not_retried_after_output(start, anth):
    """Text already sent to an SSE client is never sent twice: an error
    after output ends the stream with an error event instead."""
    rt = start(TOOLS="")
    anth.script([{"text": "first words then", "stream_error":
                  "overloaded_error", "after_events": 5}, {"text": "unused"}])
    c = SSEClient(rt, {"prompt": "x", "stream": True})
    evs = [e for _, e in c.events()]
    c.close()
    assert evs[-1]["type"] == "error", evs
    assert evs[-1]["error_type"] == "overloaded_error"
    assert len(calls(anth)) == 1


def test_rate_limit_retry_after(start, anth):
    rt = start(TOOLS="")
    anth.script([{"error": "rate_limit_error", "retry_after": 1},
                 {"text": "ok"}])
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "x"}, timeout=60)
    took = time.monotonic() - t0
    assert status == 200 and doc["response"] == "ok", doc
    assert took >= 0.95, took       # waited as the server asked
    assert [r["status"] for r in calls(anth)] == [429, 200]
    # retry-after-ms (Anthropic's own header) wins over retry-after
    anth.reset()
    anth.script([{"error": "rate_limit_error", "retry_after": 30,
                  "retry_after_ms": 100}, {"text": "quick"}])
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "y"}, timeout=60)
    assert status == 200 and doc["response"] == "quick"
    assert time.monotonic() - t0 < 5


def test_context_overflow_reduced_retry(start, anth):
    rt = start(TOOLS="")
    sid = "overflow-session-0123456789-abcdefghij"
    for i in range(3):
        anth.script([{"text": "answer %d" % i}])
        status, _, _ = rt.invoke({"prompt": "question %d" % i,
                                  "session_id": sid})
        assert status == 200
    anth.reset()
    anth.script([{"error": "invalid_request_error",
                  "message": "prompt is too long: 210000 tokens > 200000 "
                             "maximum"},
                 {"text": "fits now"}])
    status, _, doc = rt.invoke({"prompt": "question 3", "session_id": sid})
    assert status == 200, doc
    assert doc["response"] == "fits now"
    first, second = calls(anth)
    assert first["status"] == 400
    assert len(second["body_text"]) < len(first["body_text"])
    assert len(second["body"]["messages"]) < len(first["body"]["messages"])
    assert second["body"]["messages"][-1]["content"][0]["text"] == \
        "question 3"


def test_auth_error_is_502_with_its_type(start, anth):
    rt = start(ANTHROPIC_API_KEY="sk-ant-wrong-key", TOOLS="")
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 502, doc
    assert doc["error_type"] == "authentication_error"
    assert "invalid x-api-key" in doc["error"]
    assert len(calls(anth)) == 1       # a 401 is not retried


def test_bad_request_is_502_not_retried(start, anth):
    rt = start(TOOLS="")
    anth.script([{"error": "invalid_request_error",
                  "message": "max_tokens: too large"}])
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 502 and doc["error_type"] == "invalid_request_error"
    assert len(calls(anth)) == 1


def test_model_params_passed(start, anth):
    params = {"temperature": 0.25, "top_k": 5, "stop_sequences": ["END"],
              "metadata": {"user_id": "u-1"}}
    rt = start(TOOLS="", MODEL_PARAMS=json.dumps(params))
    anth.script([{"text": "x"}])
    assert rt.invoke({"prompt": "p"})[0] == 200
    body = calls(anth)[0]["body"]
    for k, v in params.items():
        assert body[k] == v, k


def test_no_key_in_logs_at_debug(start, anth):
    rt = start(LOG_LEVEL="debug")
    anth.script([{"tool_use": [{"name": "calculator",
                                "input": {"expression": "1+1"}}]},
                 {"text": "two"},
                 {"error": "overloaded_error"}, {"error": "overloaded_error"},
                 {"error": "overloaded_error"}])
    assert rt.invoke({"prompt": "1+1"})[0] == 200
    assert rt.invoke({"prompt": "fail"}, timeout=60)[0] == 502
    c = SSEClient(rt, {"prompt": "stream", "stream": True})
    c.events()
    c.close()
    out = rt.output()
    assert "DEBUG" in out
    assert KEY not in out and KEY[:12] not in out
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True,
                       env={"ANTHROPIC_API_KEY": KEY})
    assert "ANTHROPIC_API_KEY" in p.stdout and KEY not in p.stdout


def run_config(**env):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "MODEL_PROVIDER": "anthropic", "MODEL_ID": MODEL,
            "ANTHROPIC_API_KEY": KEY, "PORT": "1",
            "AWS_EC2_METADATA_DISABLED": "true"}
    base.update(env)
    return subprocess.run([RUNTIME], env={k: v for k, v in base.items()
                                          if v is not None},
                          capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("env,fragment", [
    ({"ANTHROPIC_BASE_URL": "http://api.example.com"}, "ANTHROPIC_BASE_URL"),
    ({"ANTHROPIC_BASE_URL": "ftp://127.0.0.1"}, "ANTHROPIC_BASE_URL"),
    ({"ANTHROPIC_BASE_URL": "https://h/?x=1"}, "ANTHROPIC_BASE_URL"),
    ({"ANTHROPIC_API_KEY": None}, "ANTHROPIC_API_KEY"),
    ({"MODEL_ID": None}, "Bedrock model id"),
    ({"MODEL_PARAMS": "{\"messages\":[]}"}, "MODEL_PARAMS"),
    ({"MODEL_PARAMS": "{\"thinking\":{\"type\":\"enabled\","
                      "\"budget_tokens\":8192}}"}, "below MAX_TOKENS"),
])
def test_bad_configuration_exits_2(env, fragment):
    p = run_config(**env)
    assert p.returncode == 2, p
    assert fragment in p.stderr, p.stderr
    assert KEY not in p.stderr


def test_help_lists_the_provider():
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True)
    assert 'Model provider "anthropic" (MODEL_PROVIDER=anthropic)' in p.stdout
    assert "ANTHROPIC_BASE_URL" in p.stdout
    assert "https://api.anthropic.com" in p.stdout
