"""Bedrock extras end to end against the fake Bedrock (whose request log is
what Bedrock received): prompt caching (PROMPT_CACHE=auto places cachePoint
blocks; cache tokens come back in usage), MODEL_PARAMS, guardrails (the
guardrailConfig sent; an intervention stops with GuardrailIntervened and
the stored user input is redacted) and reasoning (reasoningContent with its
signature sent back unchanged across a tool round; reasoning deltas as SSE
`reasoning` events)."""
import json
import os
import subprocess

import pytest

from conftest import RUNTIME, free_port
from test_streaming import SSEClient

CACHE_POINT = {"cachePoint": {"type": "default"}}


def model_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") in ("converse", "converse-stream")]


def test_prompt_cache_auto_places_cache_points(start_runtime, fake):
    rt = start_runtime(PROMPT_CACHE="auto", SYSTEM_PROMPT="Be brief.")
    fake.script([{"text": "first"},
                 {"text": "second", "usage": {"cacheReadInputTokens": 1200,
                                              "cacheWriteInputTokens": 30}}])
    status, _, doc = rt.invoke({"prompt": "one", "session_id": "cache-1"})
    assert status == 200, doc
    status, _, doc = rt.invoke({"prompt": "two", "session_id": "cache-1"})
    assert status == 200, doc
    assert doc["usage"]["cache_read_input_tokens"] == 1200
    assert doc["usage"]["cache_write_input_tokens"] == 30
    body = model_requests(fake)[1]["body"]
    assert body["system"] == [{"text": "Be brief."}, CACHE_POINT]
    tools = body["toolConfig"]["tools"]
    assert tools[-1] == CACHE_POINT
    assert all("toolSpec" in t for t in tools[:-1]) and len(tools) > 1
    msgs = body["messages"]
    # After the last user message only (the second prompt), not before.
    assert msgs[-1]["role"] == "user"
    assert msgs[-1]["content"] == [{"text": "two"}, CACHE_POINT]
    assert CACHE_POINT not in msgs[0]["content"]
    # The stored history holds no cachePoint: the third call shows it.
    fake.script([{"text": "third"}])
    status, _, doc = rt.invoke({"prompt": "three", "session_id": "cache-1"})
    msgs = model_requests(fake)[2]["body"]["messages"]
    assert sum(CACHE_POINT in m["content"] for m in msgs) == 1


def test_prompt_cache_off_by_default(runtime, fake):
    fake.script([{"text": "x"}])
    status, _, doc = runtime.invoke({"prompt": "one"})
    assert status == 200, doc
    assert "cachePoint" not in json.dumps(model_requests(fake)[0]["body"])
    assert doc["usage"]["cache_read_input_tokens"] == 0


def test_model_params_reach_the_request(start_runtime, fake):
    rt = start_runtime(MODEL_PARAMS=json.dumps({
        "temperature": 0.3, "top_p": 0.8, "stop_sequences": ["STOP"],
        "additionalModelRequestFields": {"thinking": {
            "type": "enabled", "budget_tokens": 1024}}}))
    fake.script([{"text": "ok"}])
    status, _, doc = rt.invoke({"prompt": "hi"})
    assert status == 200, doc
    body = model_requests(fake)[0]["body"]
    inf = body["inferenceConfig"]
    assert inf["temperature"] == 0.3 and inf["topP"] == 0.8
    assert inf["stopSequences"] == ["STOP"] and inf["maxTokens"] > 0
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}}


@pytest.mark.parametrize("value,why", [
    ("[1,2]", "MODEL_PARAMS"),
    ('{"temperature": "hot"}', "MODEL_PARAMS.temperature"),
    ('{"messages": []}', "MODEL_PARAMS.messages"),
])
def test_bad_model_params_fail_start(value, why):
    proc = subprocess.run([RUNTIME], env=dict(
        os.environ, MODEL_PARAMS=value, PORT=str(free_port()),
        AWS_EC2_METADATA_DISABLED="true"),
        capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2, proc.stderr
    assert why in proc.stderr, proc.stderr


def test_guardrail_config_and_redaction(start_runtime, fake):
    rt = start_runtime(GUARDRAIL_ID="gr-abc123", GUARDRAIL_VERSION="2",
                       GUARDRAIL_STREAM_MODE="async")
    fake.script([{"text": "Sorry, I cannot help with that.",
                  "stop_reason": "guardrail_intervened"},
                 {"text": "fine"}])
    status, _, doc = rt.invoke({"prompt": "my card is 4111 1111 1111 1111",
                                "session_id": "guard-1"})
    assert status == 200, doc
    assert doc["stop_reason"] == "GuardrailIntervened"
    assert doc["response"] == "Sorry, I cannot help with that."
    body = model_requests(fake)[0]["body"]
    assert body["guardrailConfig"] == {"guardrailIdentifier": "gr-abc123",
                                       "guardrailVersion": "2",
                                       "trace": "enabled"}
    # The next turn sends the stored history: the input is redacted.
    c = SSEClient(rt, {"prompt": "hello", "session_id": "guard-1",
                       "stream": True})
    c.events()
    c.close()
    reqs = model_requests(fake)
    stream_body = reqs[1]["body"]
    assert stream_body["guardrailConfig"]["streamProcessingMode"] == "async"
    first = stream_body["messages"][0]
    assert first == {"role": "user",
                     "content": [{"text": "[User input redacted.]"}]}
    assert "4111" not in json.dumps(stream_body)


def test_guardrail_redaction_can_be_turned_off(start_runtime, fake):
    rt = start_runtime(GUARDRAIL_ID="gr-1", GUARDRAIL_VERSION="DRAFT",
                       GUARDRAIL_REDACT_INPUT="false")
    fake.script([{"text": "blocked", "stop_reason": "guardrail_intervened"},
                 {"text": "ok"}])
    rt.invoke({"prompt": "keep me", "session_id": "guard-2"})
    rt.invoke({"prompt": "next", "session_id": "guard-2"})
    msgs = model_requests(fake)[1]["body"]["messages"]
    assert msgs[0]["content"] == [{"text": "keep me"}]


def test_guardrail_needs_a_version():
    proc = subprocess.run([RUNTIME], env=dict(
        os.environ, GUARDRAIL_ID="gr-1", PORT=str(free_port()),
        AWS_EC2_METADATA_DISABLED="true"),
        capture_output=True, text=True, timeout=10)
    assert proc.returncode != 0
    assert "GUARDRAIL_VERSION" in proc.stderr, proc.stderr


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_round_trip_keeps_the_signature(runtime, fake, stream):
    sig = "EqQBCkgIARABGAIiQL+/sig/with+base64==" + ("s" if stream else "j")
    fake.script([{"reasoning": "Add two and three, then check.",
                  "reasoning_signature": sig,
                  "tool_use": [{"id": "tu1", "name": "calculator",
                                "input": {"expression": "2+3"}}]},
                 {"text": "5"}])
    body = {"prompt": "2+3?", "session_id": "think-%d" % stream}
    if stream:
        body["stream"] = True
        c = SSEClient(runtime, body)
        events = [e for _, e in c.events()]
        c.close()
        reasoning = "".join(e["text"] for e in events
                            if e["type"] == "reasoning")
        assert reasoning == "Add two and three, then check."
        assert events[-1]["type"] == "done"
        kinds = [e["type"] for e in events]
        assert kinds.index("reasoning") < kinds.index("tool_use")
    else:
        status, _, doc = runtime.invoke(body)
        assert status == 200, doc
    second = model_requests(fake)[1]["body"]["messages"]
    assistant = second[-2]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"reasoningContent": {
        "reasoningText": {"text": "Add two and three, then check.",
                          "signature": sig}}}
    assert assistant["content"][1]["toolUse"]["toolUseId"] == "tu1"
