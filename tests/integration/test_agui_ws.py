"""AG-UI over WebSocket /ws (SERVER_PROTOCOL=AGUI) through the real binary
and the fake Bedrock, driven by the official `ws` npm client (the scripted
client of test_websocket.py, tests/integration/js/ws_client.mjs): one
RunAgentInput JSON text message in, one AG-UI event per text message out
(the same objects as the SSE stream of POST /invocations), close 1003 on
bad input, RUN_ERROR SessionBusy for a run sent while one runs, a client
that drops cancels its run, and SIGTERM closes 1001 after the run."""
import json
import signal
import time

import pytest

from test_agui import TOOLS, converse_requests, run_input, squeeze
from test_websocket import Client, need_node, run  # noqa: F401 (fixture)


@pytest.fixture
def agui(start_runtime):
    return start_runtime(SERVER_PROTOCOL="AGUI", TOOLS="calculator")


def events(c):
    return [m for m in c.messages() if isinstance(m, dict)]


def test_backend_tool_run_over_ws(agui, fake):
    fake.script([
        {"tool_use": [{"id": "tooluse_ws1", "name": "calculator",
                       "input": {"expression": "6*7"}}]},
        {"text": "It is 42."}])
    c = run(agui, [{"send": run_input("thread-ws-backend-01",
                                      [{"id": "u1", "role": "user",
                                        "content": "what is 6*7?"}],
                                      runId="run-ws-1")},
                   {"wait": "RUN_FINISHED"}])
    ev = events(c)
    assert all(not r.get("binary") for r in c.records
               if r["kind"] == "message")
    types = squeeze([e["type"] for e in ev])
    assert types == ["RUN_STARTED", "TOOL_CALL_START", "TOOL_CALL_ARGS",
                     "TOOL_CALL_END", "TOOL_CALL_RESULT",
                     "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT",
                     "TEXT_MESSAGE_END", "RUN_FINISHED"], types
    assert ev[0] == {"type": "RUN_STARTED",
                     "threadId": "thread-ws-backend-01", "runId": "run-ws-1"}
    assert ev[1]["toolCallId"] == "tooluse_ws1"
    assert ev[1]["toolCallName"] == "calculator"
    assert json.loads(ev[2]["delta"]) == {"expression": "6*7"}
    assert ev[4]["toolCallId"] == "tooluse_ws1" and ev[4]["content"] == "42"
    text = "".join(e["delta"] for e in ev
                   if e["type"] == "TEXT_MESSAGE_CONTENT")
    assert text == "It is 42."
    assert ev[-1]["threadId"] == "thread-ws-backend-01"
    assert ev[-1]["runId"] == "run-ws-1"
    assert ev[-1]["outcome"] == {"type": "success"}
    assert c.close()["code"] == 1000  # the client closed, not the server


def test_state_snapshot_over_ws(agui, fake):
    fake.script([{"text": "Noted."}])
    c = run(agui, [{"send": run_input("thread-ws-state-01",
                                      state={"cart": ["tea"], "messages": []},
                                      runId="run-ws-s")},
                   {"wait": "RUN_FINISHED"}])
    ev = events(c)
    assert [e["type"] for e in ev[:2]] == ["RUN_STARTED", "STATE_SNAPSHOT"]
    assert ev[1]["snapshot"] == {"cart": ["tea"]}
    assert ev[-1]["type"] == "RUN_FINISHED"


def test_frontend_tool_round_trip_on_one_connection(agui, fake):
    fake.script([
        {"text": "Let me check.",
         "tool_use": [{"id": "tooluse_wsfe1", "name": "confirm",
                       "input": {"question": "Delete it?"}}]},
        {"text": "Deleted, as confirmed."}])
    user = {"id": "u1", "role": "user", "content": "delete the file"}
    answer = [user,
              {"id": "a1", "role": "assistant", "content": "Let me check.",
               "toolCalls": [{"id": "tooluse_wsfe1", "type": "function",
                              "function": {"name": "confirm",
                                           "arguments": json.dumps(
                                               {"question": "Delete it?"})}}]},
              {"id": "t1", "role": "tool", "toolCallId": "tooluse_wsfe1",
               "content": "yes, go ahead"}]
    thread = "thread-ws-frontend-01"
    c = run(agui, [
        {"send": run_input(thread, [user], runId="r1", tools=TOOLS)},
        {"wait": "RUN_FINISHED"},
        {"send": run_input(thread, answer, runId="r2", tools=TOOLS)},
        {"wait": "RUN_FINISHED", "n": 2}])
    ev = events(c)
    cut = next(i for i, e in enumerate(ev) if e["type"] == "RUN_FINISHED")
    first, second = ev[:cut + 1], ev[cut + 1:]
    assert squeeze([e["type"] for e in first]) == [
        "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END", "TOOL_CALL_START", "TOOL_CALL_ARGS",
        "TOOL_CALL_END", "RUN_FINISHED"]
    assert first[-1]["outcome"] == {"type": "success",
                                    "pendingToolCallIds": ["tooluse_wsfe1"]}
    assert second[0]["type"] == "RUN_STARTED" and second[0]["runId"] == "r2"
    assert second[-1]["type"] == "RUN_FINISHED"
    assert second[-1]["outcome"] == {"type": "success"}
    assert "".join(e["delta"] for e in second
                   if e["type"] == "TEXT_MESSAGE_CONTENT") == \
        "Deleted, as confirmed."
    reqs = converse_requests(fake)
    assert len(reqs) == 2
    msgs = reqs[1]["body"]["messages"]
    assert msgs[-2]["content"][1]["toolUse"]["toolUseId"] == "tooluse_wsfe1"
    assert msgs[-1] == {"role": "user", "content": [{"toolResult": {
        "toolUseId": "tooluse_wsfe1", "status": "success",
        "content": [{"text": "yes, go ahead"}]}}]}


@pytest.mark.parametrize("message,reason", [
    ({"threadId": "t-1", "messages": []}, "runId"),
    ({"runId": "r", "messages": []}, "threadId"),
    (run_input("t-ws-clash", tools=[{"name": "calculator",
                                     "description": "x",
                                     "parameters": {"type": "object"}}]),
     "tools[0].name"),
])
def test_bad_run_agent_input_closes_1003(agui, fake, message, reason):
    c = run(agui, [{"send": message}, {"wait_close": True}])
    close = c.close()
    assert close["code"] == 1003, c.records
    assert reason in close["reason"], close
    assert not events(c)
    assert not converse_requests(fake)


def test_non_json_closes_1003(agui):
    c = run(agui, [{"send_text": "hello?"}, {"wait_close": True}])
    assert c.close()["code"] == 1003
    assert "JSON" in c.close()["reason"]


def test_run_while_running_is_run_error_session_busy(agui, fake):
    fake.script([{"text": "slow one two three",
                  "text_deltas": ["slow ", "one ", "two ", "three"],
                  "event_delay_ms": 300}])
    c = run(agui, [
        {"send": run_input("thread-ws-busy-01", runId="r1")},
        {"wait": "TEXT_MESSAGE_CONTENT"},
        {"send": run_input("thread-ws-busy-01", runId="r2")},
        {"wait": "RUN_ERROR"},
        {"wait": "RUN_FINISHED"}])
    ev = events(c)
    err = next(e for e in ev if e["type"] == "RUN_ERROR")
    assert err["code"] == "SessionBusy", err
    fin = ev[-1]
    assert fin["type"] == "RUN_FINISHED" and fin["runId"] == "r1"
    assert ev.index(err) < ev.index(fin)
    assert [e["type"] for e in ev].count("RUN_STARTED") == 1
    assert len(converse_requests(fake)) == 1


def test_model_error_is_run_error(agui, fake):
    fake.script([{"error": "ValidationException",
                  "message": "The model rejected the input"}])
    c = run(agui, [{"send": run_input("thread-ws-err-01")},
                   {"wait": "RUN_ERROR"}])
    ev = events(c)
    assert [e["type"] for e in ev] == ["RUN_STARTED", "RUN_ERROR"], ev
    assert ev[1]["code"] == "ValidationException"
    assert "rejected the input" in ev[1]["message"]


def test_disconnect_mid_run_cancels(agui, fake):
    fake.script([{"text": "a b c d e f",
                  "text_deltas": ["a ", "b ", "c ", "d ", "e ", "f"],
                  "event_delay_ms": 500}])
    c = run(agui, [{"send": run_input("thread-ws-drop-01")},
                   {"wait": "TEXT_MESSAGE_CONTENT"}, {"terminate": True}])
    assert c.close()["code"] == 1006
    deadline = time.monotonic() + 10
    failed = []
    while time.monotonic() < deadline and not failed:
        failed = [l for l in agui.log_lines()
                  if "Invocation failed" in l.get("message", "")]
        time.sleep(0.05)
    assert failed and "Cancelled" in failed[0]["message"], agui.log_lines()
    # The thread is free again at once.
    fake.script([{"text": "again"}])
    c = run(agui, [{"send": run_input("thread-ws-drop-01")},
                   {"wait": "RUN_FINISHED"}])
    assert events(c)[-1]["type"] == "RUN_FINISHED"


def test_sigterm_closes_1001_after_running_run(start_runtime, fake):
    rt = start_runtime(SERVER_PROTOCOL="AGUI", SHUTDOWN_GRACE_SECONDS="20")
    fake.script([{"text": "finishing during shutdown",
                  "text_deltas": ["finishing ", "during ", "shutdown"],
                  "event_delay_ms": 500}])
    c = Client(rt, [{"send": run_input("thread-ws-term-01")},
                    {"wait_close": True}])
    c.wait_for(lambda r: r["kind"] == "message" and
               r["data"]["type"] == "TEXT_MESSAGE_CONTENT")
    rt.proc.send_signal(signal.SIGTERM)
    c.finish()
    ev = events(c)
    assert ev[-1]["type"] == "RUN_FINISHED", ev
    assert c.close()["code"] == 1001
    assert rt.proc.wait(20) == 0
