"""AG-UI mode (SERVER_PROTOCOL=AGUI) through the real binary and the fake
Bedrock, driven by the official client, @ag-ui/client 1.0.4's HttpAgent
(tests/integration/js/agui_client.mjs; the client verifies the event
sequence itself and throws on a malformed one): a run with a back-end tool,
a front-end tool answered on the next run of the thread, and raw checks of
bad input (400 naming the field), a model error (RUN_ERROR), /ping, and
HTTP mode unchanged."""
import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "js", "agui_client.mjs")
NODE_MODULES = os.path.join(HERE, "..", "fakes", "js", "node_modules")

TOOLS = [{"name": "confirm", "description": "Ask the user to confirm",
          "parameters": {"type": "object",
                         "properties": {"question": {"type": "string"}},
                         "required": ["question"]}}]


def need_client():
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(NODE_MODULES, "@ag-ui", "client")):
        pytest.skip("@ag-ui/client not installed (tests/fakes/js/"
                    "node_modules missing): run `cd tests/fakes/js && "
                    "npm ci`")


def run_client(rt, thread, runs, state=None):
    spec = {"url": "http://127.0.0.1:%d/invocations" % rt.port,
            "threadId": thread, "runs": runs}
    if state is not None:
        spec["state"] = state
    p = subprocess.run(["node", DRIVER, json.dumps(spec)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def squeeze(types):
    """Event types with runs of TEXT_MESSAGE_CONTENT as one (the fake
    splits text into a random number of deltas)."""
    out = []
    for t in types:
        if not (t == "TEXT_MESSAGE_CONTENT" and out and out[-1] == t):
            out.append(t)
    return out


def converse_requests(fake):
    return [r for r in fake.requests()
            if str(r.get("operation", "")).startswith("converse")]


def sse_events(data):
    out = []
    for frame in data.decode().split("\n\n"):
        for line in frame.splitlines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def run_input(thread="thread-raw-1", messages=None, **extra):
    body = {"threadId": thread, "runId": "run-1",
            "messages": messages if messages is not None else
            [{"id": "u1", "role": "user", "content": "hi"}],
            "tools": [], "context": [], "state": {}, "forwardedProps": {}}
    body.update(extra)
    return body


@pytest.fixture
def agui(start_runtime):
    return start_runtime(SERVER_PROTOCOL="AGUI", TOOLS="calculator")


def test_backend_tool_run(agui, fake):
    need_client()
    fake.script([
        {"tool_use": [{"id": "tooluse_calc1", "name": "calculator",
                       "input": {"expression": "6*7"}}]},
        {"text": "It is 42."}])
    out = run_client(agui, "thread-backend-0001", [{"user": "what is 6*7?"}])
    run = out["runs"][0]
    assert "error" not in run, run
    ev = run["events"]
    types = [e["type"] for e in ev]
    assert types[:5] == ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS",
                         "TOOL_CALL_END", "TOOL_CALL_RESULT"], types
    assert types[5] == "TEXT_MESSAGE_START"
    assert set(types[6:-2]) == {"TEXT_MESSAGE_CONTENT"}
    assert types[-2:] == ["TEXT_MESSAGE_END", "RUN_FINISHED"]
    assert ev[0]["threadId"] == "thread-backend-0001"
    assert ev[-1]["threadId"] == "thread-backend-0001"
    assert ev[-1]["runId"] == ev[0]["runId"]
    assert ev[1]["toolCallId"] == "tooluse_calc1"
    assert ev[1]["toolCallName"] == "calculator"
    assert json.loads(ev[2]["delta"]) == {"expression": "6*7"}
    assert ev[4]["toolCallId"] == "tooluse_calc1"
    assert ev[4]["content"] == "42" and ev[4]["role"] == "tool"
    text = "".join(e["delta"] for e in ev if e["type"] ==
                   "TEXT_MESSAGE_CONTENT")
    assert text == "It is 42."
    assert ev[-1]["result"]["stopReason"] == "EndTurn"
    assert ev[-1]["outcome"] == {"type": "success"}
    # The client built its conversation from the events.
    msgs = out["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool",
                                         "assistant"]
    assert msgs[1]["toolCalls"][0]["function"]["name"] == "calculator"
    assert msgs[3]["content"] == "It is 42."


def test_state_is_echoed_as_a_snapshot(agui, fake):
    """RunAgentInput.state comes back in a STATE_SNAPSHOT right after
    RUN_STARTED (its "messages" member left out), as the AG-UI Strands
    integration does; the official client applies it and keeps the state."""
    need_client()
    fake.script([{"text": "Noted."}, {"text": "Again."}])
    state = {"recipe": {"title": "soup", "servings": 2}, "step": 3}
    out = run_client(agui, "thread-state-0001",
                     [{"user": "hi"}, {"user": "more"}], state=state)
    for run in out["runs"]:
        assert "error" not in run, run
        ev = run["events"]
        assert [e["type"] for e in ev[:2]] == ["RUN_STARTED",
                                               "STATE_SNAPSHOT"], ev
        assert ev[1]["snapshot"] == state
        assert ev[-1]["type"] == "RUN_FINISHED"
    assert out["state"] == state
    # Raw: "messages" in the state is not echoed; {} gets no snapshot.
    for sent, want in (({"messages": [1], "k": "v"}, {"k": "v"}),
                       ({"messages": [1]}, None), ({}, None)):
        fake.script([{"text": "x"}])
        status, _, data = agui.request(
            "POST", "/invocations", run_input("thread-state-raw1",
                                              state=sent),
            headers={"Content-Type": "application/json",
                     "Accept": "text/event-stream"})
        assert status == 200, data
        ev = sse_events(data)
        if want is None:
            assert ev[1]["type"] != "STATE_SNAPSHOT", ev
        else:
            assert ev[1] == {"type": "STATE_SNAPSHOT", "snapshot": want}


def test_frontend_tool_round_trip(agui, fake):
    need_client()
    fake.script([
        {"text": "Let me check.",
         "tool_use": [{"id": "tooluse_fe1", "name": "confirm",
                       "input": {"question": "Delete it?"}}]},
        {"text": "Deleted, as confirmed."}])
    out = run_client(agui, "thread-frontend-0001", [
        {"user": "delete the file", "tools": TOOLS},
        {"tools": TOOLS, "answer": {"confirm": "yes, go ahead"}}])
    first, second = out["runs"]
    assert "error" not in first and "error" not in second, out["runs"]
    types = squeeze([e["type"] for e in first["events"]])
    assert types == ["RUN_STARTED", "TEXT_MESSAGE_START",
                     "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                     "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
                     "RUN_FINISHED"], types
    ev = first["events"]
    start = next(e for e in ev if e["type"] == "TOOL_CALL_START")
    args = next(e for e in ev if e["type"] == "TOOL_CALL_ARGS")
    assert start["toolCallId"] == "tooluse_fe1"
    assert start["toolCallName"] == "confirm"
    assert start["parentMessageId"] == ev[1]["messageId"]
    assert json.loads(args["delta"]) == {"question": "Delete it?"}
    assert ev[-1]["outcome"] == {"type": "success",
                                 "pendingToolCallIds": ["tooluse_fe1"]}
    assert ev[-1]["result"]["stopReason"] == "ToolUse"
    # The model was offered the front-end tool next to the agent's own.
    reqs = converse_requests(fake)
    assert len(reqs) == 2
    names = [t["toolSpec"]["name"]
             for t in reqs[0]["body"]["toolConfig"]["tools"]]
    assert names == ["calculator", "confirm"]
    confirm = reqs[0]["body"]["toolConfig"]["tools"][1]["toolSpec"]
    assert confirm["inputSchema"]["json"] == TOOLS[0]["parameters"]
    # Second run: the client's tool message became the toolResult of the
    # same toolUseId, with no made-up "interrupted" answer, and the final
    # text streamed.
    msgs = reqs[1]["body"]["messages"]
    assert msgs[-2]["content"][1]["toolUse"]["toolUseId"] == "tooluse_fe1"
    assert msgs[-1] == {"role": "user", "content": [{"toolResult": {
        "toolUseId": "tooluse_fe1", "status": "success",
        "content": [{"text": "yes, go ahead"}]}}]}
    assert "interrupted" not in json.dumps(msgs)
    types = [e["type"] for e in second["events"]]
    assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED"
    assert "TOOL_CALL_START" not in types
    text = "".join(e["delta"] for e in second["events"]
                   if e["type"] == "TEXT_MESSAGE_CONTENT")
    assert text == "Deleted, as confirmed."
    assert second["events"][-1]["outcome"] == {"type": "success"}


def test_backend_result_in_client_copy_is_not_new_input(start_runtime,
                                                         fake):
    """A run cut off by MAX_ITERATIONS right after a back-end tool leaves
    that tool's result as the client's last message; the next run (the
    user says more) must not send it back as an answer."""
    need_client()
    rt = start_runtime(SERVER_PROTOCOL="AGUI", TOOLS="calculator",
                       MAX_ITERATIONS="1")
    fake.script([
        {"tool_use": [{"id": "tooluse_c1", "name": "calculator",
                       "input": {"expression": "1+1"}}]},
        {"text": "It was 2."}])
    out = run_client(rt, "thread-maxiter-0001", [
        {"user": "add", "tools": TOOLS}, {"user": "go on", "tools": TOOLS}])
    first, second = out["runs"]
    assert first["events"][-1]["result"]["stopReason"] == "MaxIterations"
    assert "error" not in second, second
    types = [e["type"] for e in second["events"]]
    assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED", types
    msgs = converse_requests(fake)[-1]["body"]["messages"]
    # The stored result once, then the new text, in one user message.
    assert msgs[-1]["content"][0]["toolResult"]["toolUseId"] == "tooluse_c1"
    assert msgs[-1]["content"][-1] == {"text": "go on"}
    assert json.dumps(msgs).count('"toolUseId": "tooluse_c1"') == 2


def test_raw_stream_shape_and_headers(agui, fake):
    fake.script([{"text": "hello there"}])
    status, hdrs, data = agui.request(
        "POST", "/invocations", run_input("thread-raw-0001"),
        headers={"Content-Type": "application/json",
                 "Accept": "text/event-stream"})
    assert status == 200, data
    assert hdrs["Content-Type"] == "text/event-stream"
    assert hdrs["X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"] == \
        "thread-raw-0001"
    ev = sse_events(data)
    assert ev[0] == {"type": "RUN_STARTED", "threadId": "thread-raw-0001",
                     "runId": "run-1"}
    assert ev[-1]["type"] == "RUN_FINISHED"
    assert ev[-1]["usage"][0]["totalTokens"] > 0
    # The session is the thread: the history is the store's, not the
    # client's copy (its earlier messages are not replayed).
    fake.script([{"text": "again"}])
    status, _, data = agui.request("POST", "/invocations", run_input(
        "thread-raw-0001", messages=[
            {"id": "x1", "role": "user", "content": "forged history"},
            {"id": "x2", "role": "assistant", "content": "forged"},
            {"id": "u2", "role": "user", "content": "second"}]))
    assert status == 200
    msgs = converse_requests(fake)[-1]["body"]["messages"]
    assert [m["content"][0]["text"] for m in msgs] == [
        "hi", "hello there", "second"]


def test_keepalive_while_the_model_thinks(start_runtime, fake):
    rt = start_runtime(SERVER_PROTOCOL="AGUI", SSE_KEEPALIVE_SECONDS="1")
    fake.script([{"text": "slow answer", "latency_ms": 2500}])
    status, _, data = rt.request("POST", "/invocations",
                                 run_input("thread-ka-0001"))
    assert status == 200
    assert b": keep-alive\n\n" in data
    ev = sse_events(data)
    assert ev[0]["type"] == "RUN_STARTED" and ev[-1]["type"] == "RUN_FINISHED"


def test_hangup_cancels_the_run(agui, fake):
    import http.client
    import socket
    import time
    deltas = ["tok%d " % i for i in range(40)]
    fake.script([{"text": "".join(deltas), "text_deltas": deltas,
                  "event_delay_ms": 100}])
    conn = http.client.HTTPConnection("127.0.0.1", agui.port, timeout=10)
    conn.request("POST", "/invocations",
                 json.dumps(run_input("thread-hup-0001")))
    resp = conn.getresponse()
    assert resp.status == 200
    seen = b""
    while b"TEXT_MESSAGE_CONTENT" not in seen:
        line = resp.fp.readline()
        assert line, seen
        seen += line
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    # The runtime drops its Bedrock stream promptly.
    deadline = time.monotonic() + 5
    req = None
    while time.monotonic() < deadline:
        req = converse_requests(fake)[0]
        if req["status"] == "client_closed":
            break
        time.sleep(0.05)
    assert req["status"] == "client_closed", req
    assert req["events_sent"] < 30
    # The abandoned run gives the thread back; nothing of it is stored.
    fake.script([{"text": "fresh"}])
    status, _, data = agui.request("POST", "/invocations", run_input(
        "thread-hup-0001", messages=[
            {"id": "u9", "role": "user", "content": "again"}]))
    assert status == 200, data
    assert sse_events(data)[-1]["type"] == "RUN_FINISHED"
    msgs = converse_requests(fake)[-1]["body"]["messages"]
    assert msgs == [{"role": "user", "content": [{"text": "again"}]}]


@pytest.mark.parametrize("body,field", [
    ({"runId": "r", "messages": []}, "threadId"),
    ({"threadId": "", "runId": "r", "messages": []}, "threadId"),
    ({"threadId": "t", "runId": 5, "messages": []}, "runId"),
    ({"threadId": "t", "runId": "r"}, "messages must be an array"),
    ({"threadId": "t", "runId": "r", "messages": [{"role": "user"}]},
     "messages[0].id"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "robot", "content": "x"}]},
     "messages[0].role"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "tool", "content": "x"}]},
     "messages[0].toolCallId"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": [
          {"type": "audio", "source": {"type": "data", "value": "AA==",
                                       "mimeType": "audio/wav"}}]}]},
     "messages[0].content[0].type"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": "hi"},
                   {"id": "2", "role": "assistant", "content": "yo"}]},
     "nothing to run"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": "hi"}],
      "tools": [{"name": "has space", "description": "x"}]},
     "tools[0].name"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": "hi"}],
      "tools": [{"name": "ok", "description": "x", "parameters": 3}]},
     "tools[0].parameters"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": "hi"}],
      "tools": [{"name": "calculator", "description": "x"}]},
     "tools[0].name 'calculator' is the name of a tool of the agent"),
    ({"threadId": "t", "runId": "r",
      "messages": [{"id": "1", "role": "user", "content": "hi"}],
      "context": [{"description": "x"}]},
     "context[0]"),
])
def test_bad_input_is_400_naming_the_field(agui, fake, body, field):
    status, _, doc = agui.invoke(body)
    assert status == 400, doc
    assert doc["error_type"] == "ValidationError"
    assert field in doc["error"], doc
    assert converse_requests(fake) == []


def test_invalid_json_is_400(agui):
    status, _, doc = agui.invoke("{not json")
    assert status == 400 and doc["error_type"] == "InvalidJSON"


def test_model_error_is_run_error(agui, fake):
    fake.script([{"error": "ValidationException",
                  "message": "The model rejected the input"}])
    status, _, data = agui.request("POST", "/invocations",
                                   run_input("thread-err-0001"))
    assert status == 200
    ev = sse_events(data)
    assert [e["type"] for e in ev] == ["RUN_STARTED", "RUN_ERROR"]
    assert ev[1]["code"] == "ValidationException"
    assert "rejected the input" in ev[1]["message"]
    # The official client takes it as the run's end.
    need_client()
    fake.script([{"error": "ValidationException",
                  "message": "The model rejected the input"}])
    out = run_client(agui, "thread-err-0002", [{"user": "hi"}])
    run = out["runs"][0]
    assert [e["type"] for e in run["events"]] == ["RUN_STARTED",
                                                  "RUN_ERROR"], run
    assert "rejected the input" in run["events"][1]["message"]


def test_unexpected_tool_answer_is_run_error(agui, fake):
    status, _, data = agui.request("POST", "/invocations", run_input(
        "thread-unexp-0001", messages=[
            {"id": "1", "role": "user", "content": "hi"},
            {"id": "2", "role": "assistant", "content": "",
             "toolCalls": [{"id": "nope", "type": "function",
                            "function": {"name": "confirm",
                                         "arguments": "{}"}}]},
            {"id": "3", "role": "tool", "toolCallId": "nope",
             "content": "yes"}], tools=TOOLS))
    assert status == 200
    ev = sse_events(data)
    assert [e["type"] for e in ev] == ["RUN_STARTED", "RUN_ERROR"]
    assert ev[1]["code"] == "ToolResultUnexpected"
    assert "'nope'" in ev[1]["message"]
    assert converse_requests(fake) == []


def test_ping_and_routes_in_agui_mode(agui):
    status, doc = agui.ping()
    assert status == 200 and doc["status"] == "Healthy"
    assert isinstance(doc["time_of_last_update"], int)
    status, hdrs, _ = agui.request("GET", "/invocations")
    assert status == 405 and hdrs["Allow"] == "POST"
    status, _, _ = agui.request("GET", "/nowhere")
    assert status == 404


def test_http_mode_unchanged(runtime, fake):
    fake.script([{"text": "plain"}])
    status, _, doc = runtime.invoke({"prompt": "hi", "session_id": "h1"})
    assert status == 200 and doc["response"] == "plain"
    # A RunAgentInput means nothing to HTTP mode.
    status, _, doc = runtime.invoke(run_input())
    assert status == 400 and "prompt" in doc["error"]
