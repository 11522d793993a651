"""MODEL_PROVIDER=openai end to end: the real strands-runtime binary on
loopback against tests/fakes/fake_openai.py (an OpenAI-compatible Chat
Completions server whose streamed answers split deltas and bytes at random
points). Plain answers (JSON and SSE), the tool round trip with the exact
follow-up request, parallel tool calls, usage, every finish_reason, tool-call
ids made unique, retries (429 with retry-after, 500), context overflow ->
reduced retry, 401 -> 502, OPENAI_STREAM=false, MODEL_PARAMS, no key in any
log line, bad settings.
Run: STRANDS_RUNTIME=$PWD/build/strands-runtime /usr/bin/python3 -m pytest
     -q -p no:cacheprovider tests/integration/test_openai_provider.py
"""

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fakes"))

import fake_openai  # noqa: E402
from conftest import RUNTIME  # noqa: E402

KEY = "sk-strands-test-SECRETKEY-0123456789abcdef"


@pytest.fixture
def oai():
    f = fake_openai.start_fake_openai(api_key=KEY, seed=7)
    yield f
    f.stop()


@pytest.fixture
def start_oai(start_runtime, oai):
    def _start(**env):
        base = {"MODEL_PROVIDER": "openai", "MODEL_ID": "gpt-test",
                "OPENAI_BASE_URL": oai.url + "/v1", "OPENAI_API_KEY": KEY,
                "TOOLS": "calculator"}
        base.update(env)
        return start_runtime(fake_server=None, **base)
    return _start


def chat_requests(fake):
    return [r for r in fake.requests()
            if r["path"].endswith("/chat/completions")]


def sse_invoke(rt, body, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", rt.port, timeout=timeout)
    try:
        conn.request("POST", "/invocations", body=json.dumps(body),
                     headers={"Content-Type": "application/json",
                              "Accept": "text/event-stream"})
        resp = conn.getresponse()
        data = resp.read().decode()
    finally:
        conn.close()
    events = [json.loads(line[6:]) for line in data.splitlines()
              if line.startswith("data: ")]
    return resp.status, events


def test_plain_answer_json_and_sse(start_oai, oai):
    rt = start_oai()
    oai.script([{"text": "Hello from the fake OpenAI server."}])
    status, _, doc = rt.invoke({"prompt": "hi"})
    assert status == 200, doc
    assert doc["response"] == "Hello from the fake OpenAI server."
    assert doc["stop_reason"] == "EndTurn"
    [req] = chat_requests(oai)
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer " + KEY
    body = req["body"]
    assert body["model"] == "gpt-test"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 4096
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "calculator"
    assert "tool_choice" not in body
    # Usage from the final include_usage chunk.
    assert doc["usage"]["input_tokens"] > 0
    assert doc["usage"]["total_tokens"] == (doc["usage"]["input_tokens"] +
                                            doc["usage"]["output_tokens"])

    oai.reset()
    text = "Streaming through SSE, split at random points, arrives whole."
    oai.script([{"text": text}])
    status, events = sse_invoke(rt, {"prompt": "stream please"})
    assert status == 200
    deltas = [e["text"] for e in events if e.get("type") == "text"]
    assert len(deltas) > 3, events          # really streamed in pieces
    assert "".join(deltas) == text
    done = events[-1]
    assert done["type"] == "done" and done["response"] == text


def test_system_prompt_first(start_oai, oai):
    rt = start_oai(SYSTEM_PROMPT="You are terse.")
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 200, doc
    msgs = chat_requests(oai)[0]["body"]["messages"]
    assert msgs[0] == {"role": "system", "content": "You are terse."}
    assert msgs[1] == {"role": "user", "content": "x"}


def test_tool_round_trip_exact_follow_up(start_oai, oai):
    rt = start_oai()
    oai.script([{"text": "Let me compute.",
                 "tool_calls": [{"id": "call_abc123", "name": "calculator",
                                 "arguments": {"expression": "6*7"}}]},
                {"text": "It is 42."}])
    status, _, doc = rt.invoke({"prompt": "what is 6*7?"})
    assert status == 200, doc
    assert doc["response"] == "It is 42."
    first, follow = chat_requests(oai)
    assert follow["body"]["messages"] == [
        {"role": "user", "content": "what is 6*7?"},
        {"role": "assistant", "content": "Let me compute.",
         "tool_calls": [{"id": "call_abc123", "type": "function",
                         "function": {"name": "calculator",
                                      "arguments": '{"expression":"6*7"}'}}]},
        {"role": "tool", "tool_call_id": "call_abc123", "content": "42"},
    ]
    assert follow["body"]["tools"] == first["body"]["tools"]


def test_parallel_tool_calls(start_oai, oai):
    rt = start_oai()
    oai.script([{"tool_calls": [
        {"id": "call_1", "name": "calculator",
         "arguments": {"expression": "1+1"}},
        {"id": "call_2", "name": "calculator",
         "arguments": {"expression": "2+2"}},
        {"id": "call_3", "name": "calculator",
         "arguments": {"expression": "3+3"}}]},
        {"text": "2, 4 and 6"}])
    status, _, doc = rt.invoke({"prompt": "three sums"})
    assert status == 200, doc
    msgs = chat_requests(oai)[1]["body"]["messages"]
    assert msgs[1]["content"] is None
    assert [c["id"] for c in msgs[1]["tool_calls"]] == [
        "call_1", "call_2", "call_3"]
    tools = msgs[2:]
    assert [(m["role"], m["tool_call_id"], m["content"]) for m in tools] == [
        ("tool", "call_1", "2"), ("tool", "call_2", "4"),
        ("tool", "call_3", "6")]


def test_missing_and_duplicate_ids_made_unique(start_oai, oai):
    rt = start_oai()
    oai.script([{"tool_calls": [
        {"id": None, "name": "calculator", "arguments": {"expression": "1"}},
        {"id": "dup", "name": "calculator", "arguments": {"expression": "2"}},
        {"id": "dup", "name": "calculator", "arguments": {"expression": "3"}}]},
        {"text": "ok"}])
    status, _, doc = rt.invoke({"prompt": "ids"})
    assert status == 200, doc
    msgs = chat_requests(oai)[1]["body"]["messages"]
    ids = [c["id"] for c in msgs[1]["tool_calls"]]
    assert len(set(ids)) == 3, ids
    assert ids[1] == "dup"
    assert ids[0].startswith("call_0_") and ids[2].startswith("call_2_")
    # Each result answers its own call (the fake rejects anything else).
    assert [(m["tool_call_id"], m["content"]) for m in msgs[2:]] == [
        (ids[0], "1"), (ids[1], "2"), (ids[2], "3")]


def test_id_reused_from_history_is_replaced(start_oai, oai):
    rt = start_oai()
    oai.script([{"tool_calls": [{"id": "call_0", "name": "calculator",
                                 "arguments": {"expression": "1"}}]},
                {"tool_calls": [{"id": "call_0", "name": "calculator",
                                 "arguments": {"expression": "2"}}]},
                {"text": "done"}])
    status, _, doc = rt.invoke({"prompt": "twice"})
    assert status == 200, doc
    msgs = chat_requests(oai)[2]["body"]["messages"]
    ids = [c["id"] for m in msgs for c in m.get("tool_calls") or []]
    assert ids[0] == "call_0" and ids[1] != "call_0", ids


@pytest.mark.parametrize("finish,stop", [
    ("stop", "EndTurn"), ("length", "MaxTokens"),
    ("content_filter", "ContentFiltered"), ("weird_new_reason", "EndTurn")])
def test_finish_reasons(start_oai, oai, finish, stop):
    rt = start_oai()
    oai.script([{"text": "t", "finish_reason": finish}])
    status, _, doc = rt.invoke({"prompt": "f"})
    assert status == 200, doc
    assert doc["stop_reason"] == stop


@pytest.mark.parametrize("finish", ["tool_calls", "function_call", "stop"])
def test_tool_finish_reasons(start_oai, oai, finish):
    rt = start_oai()
    oai.script([{"tool_calls": [{"name": "calculator",
                                 "arguments": {"expression": "2"}}],
                 "finish_reason": finish}, {"text": "after tool"}])
    status, _, doc = rt.invoke({"prompt": "f"})
    assert status == 200, doc
    assert doc["response"] == "after tool"
    assert len(chat_requests(oai)) == 2


def test_usage_and_cached_tokens(start_oai, oai):
    rt = start_oai()
    oai.script([{"text": "u", "usage": {"prompt_tokens": 1200,
                                        "completion_tokens": 34,
                                        "total_tokens": 1234},
                 "cached_tokens": 1000}])
    status, _, doc = rt.invoke({"prompt": "usage"})
    assert status == 200, doc
    # prompt_tokens_details.cached_tokens are cache reads.
    assert doc["usage"] == {"input_tokens": 1200, "output_tokens": 34,
                            "total_tokens": 1234,
                            "cache_read_input_tokens": 1000,
                            "cache_write_input_tokens": 0}


def test_429_retry_after_then_success(start_oai, oai):
    rt = start_oai()
    oai.script([{"error": {"status": 429, "type": "requests",
                           "code": "rate_limit_exceeded",
                           "message": "Rate limit reached"},
                 "retry_after": "1"},
                {"text": "after the wait"}])
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "r"})
    took = time.monotonic() - t0
    assert status == 200, doc
    assert doc["response"] == "after the wait"
    assert len(chat_requests(oai)) == 2
    assert took >= 0.9, took          # retry-after: 1 was honoured


def test_retry_after_ms_and_500(start_oai, oai):
    rt = start_oai()
    oai.script([{"error": {"status": 500, "type": "server_error",
                           "message": "boom"}, "retry_after_ms": "10"},
                {"error": {"status": 503, "type": "server_error",
                           "message": "overloaded"}, "retry_after_ms": "10"},
                {"text": "third time"}])
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "r"})
    assert status == 200, doc
    assert doc["response"] == "third time"
    assert len(chat_requests(oai)) == 3
    assert time.monotonic() - t0 < 2.0


def test_429_exhausted_is_502(start_oai, oai):
    rt = start_oai(OPENAI_MAX_ATTEMPTS="2")
    oai.script([{"error": {"status": 429, "type": "requests",
                           "code": "rate_limit_exceeded",
                           "message": "slow down"}, "retry_after_ms": "5"}] * 2)
    status, _, doc = rt.invoke({"prompt": "r"})
    assert status == 502, doc
    assert doc["error_type"] == "rate_limit_exceeded"
    assert len(chat_requests(oai)) == 2


def test_context_overflow_reduces_and_retries(start_oai, oai):
    rt = start_oai()
    for i in range(4):
        oai.script([{"text": "a%d" % i}])
        status, _, doc = rt.invoke({"prompt": "q%d" % i, "session_id": "ov"})
        assert status == 200, doc
    oai.reset()
    oai.script([{"error": {"status": 400, "type": "invalid_request_error",
                           "code": "context_length_exceeded",
                           "param": "messages",
                           "message": "This model's maximum context length "
                                      "is 8192 tokens."}},
                {"text": "fits now"}])
    status, _, doc = rt.invoke({"prompt": "q4", "session_id": "ov"})
    assert status == 200, doc
    assert doc["response"] == "fits now"
    first, retry = (r["body"]["messages"] for r in chat_requests(oai))
    assert len(retry) < len(first)
    assert retry[-1] == {"role": "user", "content": "q4"}


def test_401_is_502_with_error_type(start_oai, oai):
    rt = start_oai(OPENAI_API_KEY="sk-wrong-key")
    status, _, doc = rt.invoke({"prompt": "auth"})
    assert status == 502, doc
    assert doc["error_type"] == "invalid_api_key"
    assert "Incorrect API key" in doc["error"]
    assert len(chat_requests(oai)) == 1        # not retried


def test_other_4xx_error_type(start_oai, oai):
    rt = start_oai()
    oai.script([{"error": {"status": 404, "type": "invalid_request_error",
                           "code": "model_not_found",
                           "message": "The model does not exist"}}])
    status, _, doc = rt.invoke({"prompt": "m"})
    assert status == 502, doc
    assert doc["error_type"] == "model_not_found"


def test_stream_error_chunk_and_missing_done(start_oai, oai):
    rt = start_oai()
    oai.script([{"text": "partial answer", "stream_error": {
        "type": "server_error", "code": "overloaded",
        "message": "the engine is overloaded"}, "after_chunks": 3}])
    status, _, doc = rt.invoke({"prompt": "e"})
    assert status == 502, doc
    assert doc["error_type"] == "overloaded"
    assert len(chat_requests(oai)) == 1        # output was forwarded
    oai.script([{"text": "cut short", "no_done": True}])
    status, _, doc = rt.invoke({"prompt": "e2"})
    assert status == 502, doc
    assert doc["error_type"] == "IncompleteStream"


def test_stream_false_path(start_oai, oai):
    rt = start_oai(OPENAI_STREAM="false")
    oai.script([{"tool_calls": [{"id": "call_x", "name": "calculator",
                                 "arguments": {"expression": "5*5"}}]},
                {"text": "25 it is", "usage": {"prompt_tokens": 10,
                                               "completion_tokens": 3,
                                               "total_tokens": 13}}])
    status, _, doc = rt.invoke({"prompt": "5*5"})
    assert status == 200, doc
    assert doc["response"] == "25 it is"
    reqs = chat_requests(oai)
    for r in reqs:
        assert "stream" not in r["body"] and "stream_options" not in r["body"]
    assert reqs[1]["body"]["messages"][2] == {
        "role": "tool", "tool_call_id": "call_x", "content": "25"}
    # An SSE client still gets the text (at once).
    oai.script([{"text": "whole text"}])
    status, events = sse_invoke(rt, {"prompt": "sse"})
    assert status == 200
    assert "".join(e["text"] for e in events if e.get("type") == "text") == \
        "whole text"


def test_server_ignoring_stream_answers_json(start_oai, oai):
    rt = start_oai()
    oai.script([{"text": "json anyway", "json_when_streaming": True}])
    status, _, doc = rt.invoke({"prompt": "j"})
    assert status == 200, doc
    assert doc["response"] == "json anyway"


def test_model_params_passed_through(start_oai, oai):
    params = {"temperature": 0.25, "top_p": 0.9, "stop_sequences": ["END"],
              "max_tokens": 77, "seed": 11, "frequency_penalty": 0.5,
              "response_format": {"type": "text"}}
    rt = start_oai(MODEL_PARAMS=json.dumps(params))
    status, _, doc = rt.invoke({"prompt": "p"})
    assert status == 200, doc
    body = chat_requests(oai)[0]["body"]
    assert body["temperature"] == 0.25 and body["top_p"] == 0.9
    assert body["stop"] == ["END"] and "stop_sequences" not in body
    assert body["max_tokens"] == 77 and body["seed"] == 11
    assert body["frequency_penalty"] == 0.5
    assert body["response_format"] == {"type": "text"}


def test_max_completion_tokens_replaces_max_tokens(start_oai, oai):
    rt = start_oai(MODEL_PARAMS='{"max_completion_tokens": 99}')
    status, _, doc = rt.invoke({"prompt": "p"})
    assert status == 200, doc
    body = chat_requests(oai)[0]["body"]
    assert body["max_completion_tokens"] == 99 and "max_tokens" not in body


def test_no_api_key_in_any_log_line(start_oai, oai):
    rt = start_oai(LOG_LEVEL="debug")
    oai.script([{"tool_calls": [{"name": "calculator",
                                 "arguments": {"expression": "1"}}]},
                {"text": "fine"}])
    status, _, doc = rt.invoke({"prompt": "log"})
    assert status == 200, doc
    # A server that quotes the key in its error: cut out of the answer.
    oai.script([{"error": {"status": 403, "type": "permission_error",
                           "message": "key %s may not use gpt-test" % KEY}}])
    status, _, doc = rt.invoke({"prompt": "echoed"})
    assert status == 502, doc
    assert KEY not in json.dumps(doc) and "key *** may not" in doc["error"]
    bad = start_oai(LOG_LEVEL="debug", OPENAI_API_KEY=KEY + "x")
    status, _, doc = bad.invoke({"prompt": "log"})
    assert status == 502
    for r in (rt, bad):
        out = r.output()
        assert "DEBUG" in out
        assert KEY not in out and "SECRETKEY" not in out


def test_concurrent_invocations(start_oai, oai):
    """One model object serves parallel invocations (TSan checks the
    shared system prompt, tool specs and MODEL_PARAMS are only read)."""
    import threading
    rt = start_oai(SYSTEM_PROMPT="sys", MODEL_PARAMS='{"temperature": 0.1}')
    oai.script([{"tool_calls": [{"name": "calculator",
                                 "arguments": {"expression": "%d*2" % i}}]}
                for i in range(6)])
    results = []

    def one(i):
        results.append(rt.invoke({"prompt": "p%d" % i,
                                  "session_id": "conc-%d" % i}))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 6
    for status, _, doc in results:
        assert status == 200, doc
    assert len(chat_requests(oai)) == 12


def test_without_api_key_no_authorization(start_runtime):
    f = fake_openai.start_fake_openai(seed=3)
    try:
        rt = start_runtime(fake_server=None, MODEL_PROVIDER="openai",
                           MODEL_ID="llama3.2",
                           OPENAI_BASE_URL=f.url + "/v1/")
        status, _, doc = rt.invoke({"prompt": "local"})
        assert status == 200, doc
        assert doc["response"] == "echo: local"
        [req] = f.requests()
        assert "authorization" not in req["headers"]
        assert req["path"] == "/v1/chat/completions"   # one slash
    finally:
        f.stop()


def run_binary(env, timeout=10):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_EC2_METADATA_DISABLED": "true", "PORT": "1",
            "BIND_ADDRESS": "127.0.0.1", "MODEL_PROVIDER": "openai",
            "HOME": "/nonexistent"}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if name in os.environ:
            base[name] = os.environ[name]
    base.update(env)
    return subprocess.run([RUNTIME], env=base, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "not a url",
                                 "https://user:pw@example.com/v1",
                                 "http://127.0.0.1:0/v1",
                                 "https://api.example.com/v1?x=1"])
def test_bad_base_url_exits_2(url):
    p = run_binary({"OPENAI_BASE_URL": url})
    assert p.returncode == 2, p.stderr
    assert "OPENAI_BASE_URL" in p.stderr
    assert "pw" not in p.stderr


def test_key_over_plain_http_to_remote_host_refused():
    p = run_binary({"OPENAI_BASE_URL": "http://192.0.2.10:11434/v1",
                    "OPENAI_API_KEY": KEY})
    assert p.returncode != 0
    assert "OPENAI_BASE_URL" in p.stderr and "clear text" in p.stderr
    assert KEY not in p.stderr


def test_bad_stream_setting_and_reserved_param():
    p = run_binary({"OPENAI_STREAM": "maybe"})
    assert p.returncode == 2 and "OPENAI_STREAM" in p.stderr
    p = run_binary({"MODEL_PARAMS": '{"messages": []}'})
    assert p.returncode != 0 and "MODEL_PARAMS" in p.stderr


def test_help_lists_openai():
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0
    out = p.stdout + p.stderr
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_STREAM",
                 "OPENAI_MAX_ATTEMPTS"):
        assert name in out


def test_client_disconnect_cancels_the_model_call(start_oai, oai):
    from test_streaming import SSEClient
    rt = start_oai()
    text = " ".join("tok%d" % i for i in range(150))
    oai.script([{"text": text,
                 "chunking": {"min": 1, "max": 4, "pause_ms": 15}}])
    c = SSEClient(rt, {"prompt": "long", "stream": True,
                       "session_id": "gone"})
    for _, line in c.lines():
        if line.startswith("data: "):
            break
    t0 = time.monotonic()
    c.close()
    deadline = time.monotonic() + 5
    req = None
    while time.monotonic() < deadline:
        req = chat_requests(oai)[0]
        if req["status"] == "client_closed":
            break
        time.sleep(0.05)
    assert req["status"] == "client_closed", req
    assert time.monotonic() - t0 < 3
    oai.script([{"text": "next"}])
    status, _, doc = rt.invoke({"prompt": "after", "session_id": "gone"})
    assert status == 200, doc
    assert doc["response"] == "next"
