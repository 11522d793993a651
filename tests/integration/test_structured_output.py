"""Structured output through the real binary ("output_schema" in an
/invocations body): the model answers, then is forced to call the
structured_output tool whose input schema is the caller's schema. Valid at
once, valid after one correction (the follow-up request carries the error
toolResult naming the violation), invalid twice (422
StructuredOutputInvalid), a bad schema (400 before any model call), the
SSE done event after a tool round trip, and the next turn on the session.

The provider is a parameter: each entry of PROVIDERS is an adapter that
starts the runtime against that provider's fake (Bedrock with and without
Claude's extended thinking in MODEL_PARAMS, OpenAI with
streamed and with plain JSON answers (OPENAI_STREAM=false), Anthropic with
and without extended thinking in MODEL_PARAMS), scripts neutral steps and
reads the recorded requests in a neutral shape, checking on the way the
provider's own wire form of the forced choice and of the correction's
error result."""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fakes"))

import fake_anthropic  # noqa: E402
import fake_openai  # noqa: E402

SCHEMA = {"type": "object",
          "properties": {"name": {"type": "string"},
                         "age": {"type": "integer", "minimum": 0}},
          "required": ["name", "age"], "additionalProperties": False}


class BedrockAdapter:
    """Neutral steps and requests over the fake Bedrock (Converse and
    ConverseStream)."""

    name = "bedrock"
    env = {}

    def __init__(self, fake, start_runtime):
        self.fake = fake
        self.start_runtime = start_runtime

    def stop(self):
        pass

    def start(self, **env):
        return self.start_runtime(**dict(self.env, **env))

    def script(self, steps):
        """steps: {"text": str} or {"tool_use": [{"id","name","input"}]}."""
        self.fake.script(steps)

    def requests(self):
        """Model requests in order, each {"operation", "tool_choice" (name
        or None), "tools" ({name: input schema}), "messages" (Converse
        shape), "error_results" (texts of the error toolResults in the
        last message)}."""
        out = []
        for r in self.fake.requests():
            if r.get("operation") not in ("converse", "converse-stream"):
                continue
            body = r["body"] or {}
            cfg = body.get("toolConfig") or {}
            choice = (cfg.get("toolChoice") or {}).get("tool")
            thinking = (body.get("additionalModelRequestFields") or {}) \
                .get("thinking")
            if choice:
                # Bedrock's form; and no thinking with it (Claude refuses).
                assert cfg["toolChoice"] == {"tool": {"name": choice["name"]}}
                assert thinking is None, body
            elif self.env.get("MODEL_PARAMS"):
                assert thinking["type"] == "enabled", body
            tools = {t["toolSpec"]["name"]: t["toolSpec"]["inputSchema"]["json"]
                     for t in cfg.get("tools", []) if "toolSpec" in t}
            last = (body.get("messages") or [{}])[-1]
            errors = [b["toolResult"]["content"][0]["text"]
                      for b in last.get("content", [])
                      if "toolResult" in b and
                      b["toolResult"].get("status") == "error"]
            out.append({"operation": r["operation"],
                        "stream": r["operation"] == "converse-stream",
                        "tool_choice": choice["name"] if choice else None,
                        "tools": tools, "messages": body.get("messages"),
                        "error_results": errors})
        return out


class BedrockThinkingAdapter(BedrockAdapter):
    """Claude extended thinking on through MODEL_PARAMS
    additionalModelRequestFields: the forced calls go without it."""

    name = "bedrock-thinking"
    env = {"MODEL_PARAMS": json.dumps({"additionalModelRequestFields": {
        "thinking": {"type": "enabled", "budget_tokens": 1024}}})}


def _turns(messages):
    """Chat messages as Converse-like turns: consecutive non-assistant
    messages (OpenAI's one "tool" message per result and a user message
    after them) are one user turn, as Converse carries them."""
    turns = []
    for m in messages:
        role = "assistant" if m["role"] == "assistant" else "user"
        if turns and role == "user" and turns[-1]["role"] == "user":
            turns[-1]["parts"].append(m)
        else:
            turns.append({"role": role, "parts": [m]})
    return turns


class OpenAIAdapter:
    """The same over the fake OpenAI Chat Completions server: streamed
    answers (stream: true, deltas split at random points)."""

    name = "openai"
    key = "sk-strands-so-test-0123456789"
    env = {}

    def __init__(self, fake, start_runtime):
        self.fake = fake_openai.start_fake_openai(api_key=self.key, seed=3)
        self.start_runtime = start_runtime

    def stop(self):
        self.fake.stop()

    def start(self, **env):
        base = {"MODEL_PROVIDER": "openai", "MODEL_ID": "gpt-test",
                "OPENAI_BASE_URL": self.fake.url + "/v1",
                "OPENAI_API_KEY": self.key, "TOOLS": "calculator"}
        base.update(self.env)
        base.update(env)
        return self.start_runtime(fake_server=None, **base)

    def script(self, steps):
        out = []
        for s in steps:
            step = {}
            if "text" in s:
                step["text"] = s["text"]
            if "tool_use" in s:
                step["tool_calls"] = [{"id": t["id"], "name": t["name"],
                                       "arguments": t["input"]}
                                      for t in s["tool_use"]]
            out.append(step)
        self.fake.script(out)

    def requests(self):
        out = []
        for r in self.fake.requests():
            if not r["path"].endswith("/chat/completions"):
                continue
            body = r["body"] or {}
            tc = body.get("tool_choice")
            if tc is not None:
                # OpenAI's form of a forced function, nothing else.
                assert set(tc) == {"type", "function"}, tc
                assert tc["type"] == "function" and \
                    set(tc["function"]) == {"name"}, tc
            tools = {t["function"]["name"]: t["function"]["parameters"]
                     for t in body.get("tools", [])}
            msgs = [m for m in body.get("messages", [])
                    if m["role"] != "system"]
            turns = _turns(msgs)
            last = turns[-1]["parts"] if turns else []
            # OpenAI has no error flag on a tool result: the correction is
            # a "tool" message answering the forced call, with the text.
            errors = [m["content"] for m in last if m["role"] == "tool"]
            out.append({"operation": "chat",
                        "stream": bool(body.get("stream")),
                        "tool_choice": tc["function"]["name"] if tc else None,
                        "tools": tools, "messages": turns,
                        "error_results": errors})
        return out


class OpenAIPlainAdapter(OpenAIAdapter):
    """OPENAI_STREAM=false: plain chat.completion JSON answers."""

    name = "openai-nostream"
    env = {"OPENAI_STREAM": "false"}


class AnthropicAdapter:
    """The same over the fake Anthropic Messages API (streamed answers)."""

    name = "anthropic"
    env = {}

    def __init__(self, fake, start_runtime):
        self.fake = fake_anthropic.start_fake_anthropic(seed=3)
        self.start_runtime = start_runtime

    def stop(self):
        self.fake.stop()

    def start(self, **env):
        base = {"MODEL_PROVIDER": "anthropic",
                "MODEL_ID": "claude-sonnet-4-20250514",
                "ANTHROPIC_BASE_URL": self.fake.url,
                "ANTHROPIC_API_KEY": fake_anthropic.DEFAULT_KEY,
                "TOOLS": "calculator"}
        base.update(self.env)
        base.update(env)
        return self.start_runtime(fake_server=None, **base)

    def script(self, steps):
        out = []
        for s in steps:
            step = dict(s)
            if self.env.get("MODEL_PARAMS") and not any(
                    t["name"] == "structured_output"
                    for t in s.get("tool_use", [])):
                # Thinking on: the unforced answers think first.
                step["thinking"] = "Let me think about it."
            out.append(step)
        self.fake.script(out)

    def requests(self):
        out = []
        for r in self.fake.requests():
            if r["path"] != "/v1/messages":
                continue
            body = r["body"] or {}
            tc = body.get("tool_choice")
            if tc is not None:
                # Anthropic's form of a forced tool; and no thinking with
                # it (the API refuses that pair).
                assert set(tc) == {"type", "name"} and tc["type"] == "tool", tc
                assert "thinking" not in body, body
            elif self.env.get("MODEL_PARAMS"):
                assert body["thinking"]["type"] == "enabled", body
            tools = {t["name"]: t["input_schema"]
                     for t in body.get("tools", [])}
            msgs = body.get("messages") or []
            last = msgs[-1]["content"] if msgs else []
            errors = []
            for b in last if isinstance(last, list) else []:
                if b.get("type") == "tool_result" and b.get("is_error"):
                    c = b.get("content")
                    errors.append(c if isinstance(c, str) else
                                  "".join(x.get("text", "") for x in c))
            out.append({"operation": "messages",
                        "stream": bool(body.get("stream")),
                        "tool_choice": tc["name"] if tc else None,
                        "tools": tools, "messages": msgs,
                        "error_results": errors})
        return out


class AnthropicThinkingAdapter(AnthropicAdapter):
    """Extended thinking on in MODEL_PARAMS: the forced calls go without
    it, the others with it."""

    name = "anthropic-thinking"
    env = {"MODEL_PARAMS": json.dumps(
        {"thinking": {"type": "enabled", "budget_tokens": 1024}})}


PROVIDERS = {a.name: a for a in (BedrockAdapter, BedrockThinkingAdapter,
                                 OpenAIAdapter,
                                 OpenAIPlainAdapter, AnthropicAdapter,
                                 AnthropicThinkingAdapter)}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request, fake, start_runtime):
    adapter = PROVIDERS[request.param](fake, start_runtime)
    yield adapter
    adapter.stop()


def forced(input, id="so1", name="structured_output"):
    return {"tool_use": [{"id": id, "name": name, "input": input}]}


def sse_events(rt, body):
    status, hdrs, data = rt.request("POST", "/invocations", body)
    assert status == 200, data
    assert hdrs.get("Content-Type", "").startswith("text/event-stream")
    return [json.loads(line[6:]) for line in data.decode().split("\n")
            if line.startswith("data: ")]


def test_valid_first_try(provider):
    rt = provider.start()
    provider.script([{"text": "Ada Lovelace is 36."},
                     forced({"name": "Ada Lovelace", "age": 36})])
    status, _, doc = rt.invoke({"prompt": "Who?", "session_id": "so-1",
                                "output_schema": SCHEMA})
    assert status == 200, doc
    assert doc["structured_output"] == {"name": "Ada Lovelace", "age": 36}
    assert doc["response"] == "Ada Lovelace is 36."
    assert doc["stop_reason"] == "EndTurn"
    assert doc["iterations"] == 2
    reqs = provider.requests()
    assert len(reqs) == 2
    assert reqs[0]["tool_choice"] is None
    assert "structured_output" not in reqs[0]["tools"]
    assert reqs[1]["tool_choice"] == "structured_output"
    assert reqs[1]["tools"]["structured_output"] == SCHEMA
    # The registry's tools are still declared next to it.
    assert "calculator" in reqs[1]["tools"]
    # The forced request is the history plus the instruction.
    assert len(reqs[1]["messages"]) == 3
    assert "structured_output" in json.dumps(reqs[1]["messages"][2])
    # Usage covers both calls.
    assert doc["usage"]["total_tokens"] > 0


def test_valid_after_one_correction(provider):
    rt = provider.start()
    provider.script([{"text": "Ada is 36."},
                     forced({"name": "Ada", "age": "thirty-six"}),
                     forced({"name": "Ada", "age": 36}, id="so2")])
    status, _, doc = rt.invoke({"prompt": "Who?", "session_id": "so-2",
                                "output_schema": SCHEMA})
    assert status == 200, doc
    assert doc["structured_output"] == {"name": "Ada", "age": 36}
    assert doc["iterations"] == 3
    reqs = provider.requests()
    assert len(reqs) == 3
    assert reqs[2]["tool_choice"] == "structured_output"
    errors = reqs[2]["error_results"]
    assert len(errors) == 1
    assert "input.age must be an integer, not string" in errors[0]


def test_invalid_twice_is_422(provider):
    rt = provider.start()
    provider.script([{"text": "Ada."},
                     forced({"name": "Ada"}),
                     forced({"name": "Ada", "age": -3}, id="so2")])
    status, hdrs, doc = rt.invoke({"prompt": "Who?", "session_id": "so-3",
                                   "output_schema": SCHEMA})
    assert status == 422, doc
    assert doc["error_type"] == "StructuredOutputInvalid"
    assert "output.age must be at least 0" in doc["error"]
    assert "output.age is required" in doc["error"]
    assert len(provider.requests()) == 3
    # Nothing of the failed turn is stored: a new turn starts clean.
    provider.script([{"text": "fresh"}])
    status, _, doc = rt.invoke({"prompt": "again", "session_id": "so-3"})
    assert status == 200, doc
    assert len(provider.requests()[-1]["messages"]) == 1


@pytest.mark.parametrize("schema, words", [
    ("object", "output_schema must be a JSON Schema object"),
    ({"type": "array", "items": {"type": "string"}}, '"type" is "object"'),
    ({"type": "object", "properties": {"a": {"type": "text"}}},
     "output_schema.properties.a.type must be one of"),
    ({"type": "object", "properties": {"a": {"type": "string",
                                             "pattern": "(unclosed"}}},
     "output_schema.properties.a.pattern is not a valid"),
])
def test_bad_schema_is_400(provider, schema, words):
    rt = provider.start()
    status, _, doc = rt.invoke({"prompt": "Who?", "output_schema": schema})
    assert status == 400, doc
    assert doc["error_type"] == "ValidationError"
    assert words in doc["error"]
    assert provider.requests() == []


def test_sse_done_carries_structured_output(provider):
    rt = provider.start()
    provider.script([
        {"tool_use": [{"id": "calc1", "name": "calculator",
                       "input": {"expression": "6*7"}}]},
        {"text": "It is 42."},
        {"text": "Here it is:", "tool_use": [{
            "id": "so1", "name": "structured_output",
            "input": {"name": "answer", "age": 42}}]}])
    events = sse_events(rt, {"prompt": "6*7?", "session_id": "so-4",
                             "stream": True, "output_schema": SCHEMA})
    types = [e["type"] for e in events]
    assert types.count("done") == 1 and types[-1] == "done"
    assert "tool_use" in types and "tool_result" in types
    done = events[-1]
    assert done["structured_output"] == {"name": "answer", "age": 42}
    assert done["response"] == "It is 42."
    assert done["iterations"] == 3
    # The forced call's own text is not streamed as answer text.
    text = "".join(e["text"] for e in events if e["type"] == "text")
    assert text == "It is 42."
    reqs = provider.requests()
    assert len(reqs) == 3
    assert all(r["stream"] for r in reqs) or \
        provider.name == "openai-nostream"
    assert reqs[2]["tool_choice"] == "structured_output"
    # The forced request carries the whole turn, tool round trip included.
    assert len(reqs[2]["messages"]) == 5


def test_next_turn_on_the_session(provider):
    rt = provider.start()
    provider.script([{"text": "Ada is 36."},
                     forced({"name": "Ada", "age": "x"}),
                     forced({"name": "Ada", "age": 36}, id="so2"),
                     {"text": "Still Ada."},
                     {"text": "Ada is 37 now."},
                     forced({"name": "Ada", "age": 37}, id="so3")])
    status, _, doc = rt.invoke({"prompt": "Who?", "session_id": "so-5",
                                "output_schema": SCHEMA})
    assert status == 200, doc
    # A plain turn: the stored history holds the question and the answer,
    # nothing of the forced exchange; the provider accepts it.
    status, _, doc = rt.invoke({"prompt": "And now?", "session_id": "so-5"})
    assert status == 200, doc
    assert doc["response"] == "Still Ada."
    assert "structured_output" not in doc
    reqs = provider.requests()
    assert len(reqs[3]["messages"]) == 3
    assert reqs[3]["tool_choice"] is None
    # And a structured turn again on the same session.
    status, _, doc = rt.invoke({"prompt": "Birthday?", "session_id": "so-5",
                                "output_schema": SCHEMA})
    assert status == 200, doc
    assert doc["structured_output"] == {"name": "Ada", "age": 37}
    assert len(provider.requests()[5]["messages"]) == 7


def sse_answer(rt, body):
    """(status, events) of a streamed /invocations request, whatever the
    status (a failure before any output is a plain JSON error)."""
    status, hdrs, data = rt.request("POST", "/invocations", body)
    if not hdrs.get("Content-Type", "").startswith("text/event-stream"):
        return status, json.loads(data)
    return status, [json.loads(line[6:]) for line in data.decode().split("\n")
                    if line.startswith("data: ")]


def test_sse_valid_after_one_correction(provider):
    rt = provider.start()
    provider.script([{"text": "Ada is 36."},
                     forced({"name": "Ada", "age": "thirty-six"}),
                     forced({"name": "Ada", "age": 36}, id="so2")])
    status, events = sse_answer(rt, {"prompt": "Who?", "session_id": "so-6",
                                     "stream": True, "output_schema": SCHEMA})
    assert status == 200, events
    done = events[-1]
    assert done["type"] == "done", events
    assert done["structured_output"] == {"name": "Ada", "age": 36}
    assert done["iterations"] == 3
    assert "".join(e["text"] for e in events if e["type"] == "text") == \
        "Ada is 36."
    reqs = provider.requests()
    assert len(reqs) == 3
    assert [r["tool_choice"] for r in reqs] == \
        [None, "structured_output", "structured_output"]
    assert "input.age must be an integer, not string" in \
        reqs[2]["error_results"][0]


def test_sse_invalid_twice_ends_with_422_error(provider):
    rt = provider.start()
    provider.script([{"text": "Ada."},
                     forced({"name": "Ada"}),
                     forced({"age": -3}, id="so2")])
    status, events = sse_answer(rt, {"prompt": "Who?", "session_id": "so-7",
                                     "stream": True, "output_schema": SCHEMA})
    # The answer text was streamed already: the stream ends with an error
    # event carrying the 422's error type.
    assert status == 200, events
    assert [e["type"] for e in events].count("done") == 0
    err = events[-1]
    assert err["type"] == "error", events
    assert err["error_type"] == "StructuredOutputInvalid"
    assert "output.name is required" in err["error"]
    assert len(provider.requests()) == 3
