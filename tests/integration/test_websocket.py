"""WebSocket /ws end to end: the real binary on loopback against the fake
Bedrock, driven by the official `ws` npm client (tests/integration/js/
ws_client.mjs, a scripted client that prints what happens as JSON lines).
Covers streamed events and `done`, the session id by header and by query
parameter, prompts in sequence on one connection (the second sees the
first's history), SessionBusy, cancel (nothing of it stored), ping/pong,
the 1003/1009 closes, bad upgrades, SIGTERM (1001 after the running prompt
finishes) and a client that drops mid-prompt."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
CLIENT = os.path.join(ROOT, "tests", "integration", "js", "ws_client.mjs")
NODE_MODULES = os.path.join(ROOT, "tests", "fakes", "js", "node_modules")


def node():
    return shutil.which("node")


@pytest.fixture(autouse=True)
def need_node():
    if node() is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(NODE_MODULES, "ws")):
        pytest.skip("the ws package is not installed (tests/fakes/js/"
                    "node_modules; run npm ci there)")


class Client:
    """One run of the scripted ws client; records are read as they come."""

    def __init__(self, rt, steps, headers=None, query="", timeout_ms=30000):
        plan = {"url": "ws://127.0.0.1:%d/ws%s" % (rt.port, query),
                "headers": headers or {}, "steps": steps,
                "timeout_ms": timeout_ms}
        self.proc = subprocess.Popen([node(), CLIENT, json.dumps(plan)],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.records = []

    def next(self):
        line = self.proc.stdout.readline()
        if not line:
            return None
        rec = json.loads(line)
        self.records.append(rec)
        return rec

    def wait_for(self, pred):
        while True:
            rec = self.next()
            assert rec is not None, (self.records, self.stderr())
            if pred(rec):
                return rec

    def finish(self, timeout=40):
        while self.next() is not None:
            pass
        self.proc.wait(timeout)
        end = self.records[-1] if self.records else {}
        assert end.get("kind") == "end", (self.records, self.stderr())
        assert end.get("ok"), (self.records, self.stderr())
        return self

    def stderr(self):
        return self.proc.stderr.read().decode() if self.proc.stderr else ""

    def messages(self):
        return [r["data"] for r in self.records if r["kind"] == "message"]

    def close(self):
        return next((r for r in self.records if r["kind"] == "close"), None)


def run(rt, steps, **kw):
    return Client(rt, steps, **kw).finish()


def user_texts(req):
    out = []
    for m in req["body"]["messages"]:
        for b in m["content"]:
            if "text" in b:
                out.append((m["role"], b["text"]))
    return out


def stream_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") == "converse-stream"]


def test_prompt_streams_events_and_done(runtime, fake):
    fake.script([{"text": "Hello over a socket.",
                  "text_deltas": ["Hello ", "over ", "a ", "socket."],
                  "event_delay_ms": 50}])
    c = run(runtime, [{"send": {"prompt": "hi"}}, {"wait": "done"}])
    opened = c.records[0]
    assert opened["kind"] == "open"
    sid = opened["headers"][SESSION_HEADER.lower()]
    assert len(sid) == 36  # no session given: a new UUID
    msgs = c.messages()
    texts = [m for m in msgs if m["type"] == "text"]
    assert [m["text"] for m in texts] == ["Hello ", "over ", "a ", "socket."]
    done = msgs[-1]
    assert done["type"] == "done" and done["response"] == \
        "Hello over a socket."
    assert done["session_id"] == sid and done["invocation_id"]
    assert done["stop_reason"] == "EndTurn"
    assert done["usage"]["total_tokens"] > 0
    assert c.close()["code"] == 1000
    assert len(stream_requests(fake)) == 1


def test_session_from_header_and_query(runtime, fake):
    c = run(runtime, [{"send": {"prompt": "a"}}, {"wait": "done"}],
            headers={SESSION_HEADER: "ws-header-session"})
    assert c.records[0]["headers"][SESSION_HEADER.lower()] == \
        "ws-header-session"
    assert c.messages()[-1]["session_id"] == "ws-header-session"
    c = run(runtime, [{"send": {"prompt": "b"}}, {"wait": "done"}],
            query="?%s=ws-query-session" % SESSION_HEADER)
    assert c.messages()[-1]["session_id"] == "ws-query-session"
    # A body session_id overrides the connection's for that prompt.
    c = run(runtime, [{"send": {"prompt": "c", "session_id": "ws-body"}},
                      {"wait": "done"}],
            headers={SESSION_HEADER: "ws-header-session"})
    assert c.messages()[-1]["session_id"] == "ws-body"


def test_prompts_in_sequence_share_history(runtime, fake):
    fake.script([{"text": "First answer."}, {"text": "Second answer."}])
    c = run(runtime, [{"send": {"prompt": "first question"}},
                      {"wait": "done"},
                      {"send": {"prompt": "second question"}},
                      {"wait": "done", "n": 2}],
            headers={SESSION_HEADER: "ws-seq-session"})
    dones = [m for m in c.messages() if m["type"] == "done"]
    assert [d["response"] for d in dones] == ["First answer.",
                                              "Second answer."]
    assert dones[0]["invocation_id"] != dones[1]["invocation_id"]
    reqs = stream_requests(fake)
    assert len(reqs) == 2
    assert user_texts(reqs[1]) == [("user", "first question"),
                                   ("assistant", "First answer."),
                                   ("user", "second question")]
    assert not any(m["type"] == "error" for m in c.messages())


def test_busy_while_running_then_first_completes(runtime, fake):
    fake.script([{"text": "slow one two three",
                  "text_deltas": ["slow ", "one ", "two ", "three"],
                  "event_delay_ms": 300}])
    c = run(runtime, [{"send": {"prompt": "slow"}},
                      {"wait": "text"},
                      {"send": {"prompt": "meanwhile"}},
                      {"wait": "error"},
                      {"wait": "done"}])
    msgs = c.messages()
    err = next(m for m in msgs if m["type"] == "error")
    assert err["error_type"] == "SessionBusy"
    done = msgs[-1]
    assert done["type"] == "done" and done["response"] == \
        "slow one two three"
    assert msgs.index(err) < msgs.index(done)
    assert len(stream_requests(fake)) == 1


def test_cancel_stores_nothing(start_runtime, fake, tmp_path):
    rt = start_runtime(SESSION_STORE="file://%s" % tmp_path)
    fake.script([{"text": "never finished " * 4,
                  "text_deltas": ["never ", "finished ", "at ", "all"],
                  "event_delay_ms": 400},
                 {"text": "After the cancel."}])
    c = run(rt, [{"send": {"prompt": "to be cancelled"}},
                 {"wait": "text"},
                 {"send": {"action": "cancel"}},
                 {"wait": "error"},
                 {"send": {"prompt": "next one"}},
                 {"wait": "done"}],
            headers={SESSION_HEADER: "ws-cancel-session"})
    msgs = c.messages()
    err = next(m for m in msgs if m["type"] == "error")
    assert err["error_type"] == "Cancelled", msgs
    done = msgs[-1]
    assert done["type"] == "done" and done["response"] == "After the cancel."
    # The second model request carries nothing of the cancelled turn.
    reqs = stream_requests(fake)
    assert user_texts(reqs[-1]) == [("user", "next one")], user_texts(reqs[-1])


def test_cancel_with_nothing_running(runtime):
    c = run(runtime, [{"send": {"action": "cancel"}}, {"wait": "error"}])
    assert c.messages()[0]["error_type"] == "NotRunning"


def test_invalid_messages_get_error_events(runtime, fake):
    c = run(runtime, [{"send": {"no_prompt": 1}}, {"wait": "error"},
                      {"send": {"action": "explode"}},
                      {"wait": "error", "n": 2},
                      {"send": {"prompt": "still open"}}, {"wait": "done"}])
    msgs = c.messages()
    assert msgs[0]["error_type"] == "ValidationError"
    assert "prompt" in msgs[0]["error"]
    assert msgs[1]["error_type"] == "ValidationError"
    assert msgs[-1]["type"] == "done"


def test_ping_is_answered(runtime):
    c = run(runtime, [{"ping": "are-you-there"}])
    pongs = [r for r in c.records if r["kind"] == "pong"]
    assert pongs and pongs[0]["data"] == "are-you-there"


def test_binary_frame_closes_1003(runtime):
    c = run(runtime, [{"send_binary": "{\"prompt\":\"hi\"}"},
                      {"wait_close": True}])
    assert c.close()["code"] == 1003


def test_non_json_closes_1003(runtime):
    c = run(runtime, [{"send_text": "this is not json"}, {"wait_close": True}])
    assert c.close()["code"] == 1003
    assert "JSON" in c.close()["reason"]


def test_oversized_message_closes_1009(start_runtime):
    rt = start_runtime(WS_MAX_MESSAGE_BYTES="4096")
    c = run(rt, [{"send_size": 4097}, {"wait_close": True}])
    assert c.close()["code"] == 1009
    # Right at the limit is a message (not JSON: 1003, not 1009).
    c = run(rt, [{"send_size": 4096}, {"wait_close": True}])
    assert c.close()["code"] == 1003


def raw_upgrade(rt, headers, path="/ws"):
    s = socket.create_connection(("127.0.0.1", rt.port), timeout=10)
    head = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1"]
    head += ["%s: %s" % kv for kv in headers.items()]
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.decode("utf-8", "replace")


GOOD = {"Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13"}


def test_bad_upgrades_get_json_errors(runtime):
    status, text = raw_upgrade(runtime, GOOD)
    assert status == 101
    # RFC 6455 section 1.3's example key and accept value.
    assert "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in text
    head = {k.strip().lower(): v.strip() for k, v in
            (l.split(":", 1) for l in text.split("\r\n")[1:] if ":" in l)}
    assert head["upgrade"].lower() == "websocket"
    assert head["connection"].lower() == "upgrade"
    status, text = raw_upgrade(runtime, {})
    assert status == 426 and "UpgradeRequired" in text
    status, text = raw_upgrade(runtime, dict(GOOD, **{
        "Sec-WebSocket-Version": "8"}))
    assert status == 426 and "Sec-WebSocket-Version: 13" in text
    status, text = raw_upgrade(runtime, dict(GOOD, **{
        "Sec-WebSocket-Key": "short"}))
    assert status == 400 and "Sec-WebSocket-Key" in text
    status, text = raw_upgrade(runtime, dict(GOOD, **{
        SESSION_HEADER: "bad\x01id"}))
    assert status == 400 and "ValidationError" in text
    status, _, body = runtime.request("POST", "/ws", body="{}")
    assert status == 405


def test_sigterm_closes_1001_after_running_prompt(start_runtime, fake):
    rt = start_runtime(SHUTDOWN_GRACE_SECONDS="20")
    fake.script([{"text": "finishing during shutdown",
                  "text_deltas": ["finishing ", "during ", "shutdown"],
                  "event_delay_ms": 500}])
    c = Client(rt, [{"send": {"prompt": "long"}}, {"wait_close": True}])
    c.wait_for(lambda r: r["kind"] == "message" and r["data"]["type"] ==
               "text")
    t0 = time.monotonic()
    rt.proc.send_signal(signal.SIGTERM)
    c.finish()
    msgs = c.messages()
    assert msgs[-1]["type"] == "done", msgs
    assert msgs[-1]["response"] == "finishing during shutdown"
    assert c.close()["code"] == 1001
    assert rt.proc.wait(20) == 0
    assert time.monotonic() - t0 < 15


def test_idle_connection_closes_1001_on_sigterm(start_runtime):
    rt = start_runtime()
    c = Client(rt, [{"mark": "open"}, {"wait_close": True}])
    c.wait_for(lambda r: r["kind"] == "mark")
    t0 = time.monotonic()
    rt.proc.send_signal(signal.SIGTERM)
    c.finish()
    assert c.close()["code"] == 1001
    assert rt.proc.wait(20) == 0
    assert time.monotonic() - t0 < 5


def test_disconnect_mid_prompt_cancels(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "a b c d e f",
                  "text_deltas": ["a ", "b ", "c ", "d ", "e ", "f"],
                  "event_delay_ms": 500}])
    c = run(rt, [{"send": {"prompt": "drop me"}}, {"wait": "text"},
                 {"terminate": True}],
            headers={SESSION_HEADER: "ws-drop-session"})
    assert c.close()["code"] == 1006
    # The invocation is cancelled: it ends long before the fake's 2.5 s.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = rt.log_lines()
        if any("Invocation failed" in l.get("message", "") for l in lines) \
                and any(l.get("message", "").startswith("WebSocket closed")
                        for l in lines):
            break
        time.sleep(0.05)
    lines = rt.log_lines()
    failed = [l for l in lines if "Invocation failed" in l.get("message", "")]
    assert failed and "Cancelled" in failed[0]["message"], lines
    # The session is free again at once.
    c = run(rt, [{"send": {"prompt": "again"}}, {"wait": "done"}],
            headers={SESSION_HEADER: "ws-drop-session"})
    assert c.messages()[-1]["type"] == "done"
    # The runtime exits cleanly (the start_runtime fixture checks code 0
    # and no sanitizer report after SIGTERM).


def test_not_served_in_mcp_mode(start_runtime):
    rt = start_runtime(SERVER_PROTOCOL="MCP")
    status, text = raw_upgrade(rt, GOOD)
    assert status == 404


def test_client_that_does_not_read_is_closed(start_runtime, fake):
    """The runtime's outgoing queue for a connection is capped (8 MiB): a
    client that stops reading while a long answer streams is closed (1008,
    with a log line) and its prompt cancelled, instead of the queue
    growing with the answer."""
    rt = start_runtime()
    chunk = "y" * 65536
    n = 640  # 40 MiB: more than the cap plus both loopback socket buffers
    fake.script([{"text": chunk * n, "text_deltas": [chunk] * n}])
    c = Client(rt, [{"send": {"prompt": "a very long answer"}},
                    {"wait": "text"}, {"pause_reading": True},
                    {"sleep_ms": 100000}], timeout_ms=120000)
    c.wait_for(lambda r: r["kind"] == "message")
    deadline = time.monotonic() + 90
    warned = []
    while time.monotonic() < deadline and not warned:
        warned = [l for l in rt.log_lines()
                  if "not reading" in l.get("message", "")]
        time.sleep(0.2)
    assert warned, rt.output()[-3000:]
    assert "1008" in warned[0]["message"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(l.get("message", "").startswith("WebSocket closed")
               for l in rt.log_lines()):
            break
        time.sleep(0.1)
    lines = rt.log_lines()
    assert any(l.get("message", "").startswith("WebSocket closed")
               for l in lines), lines[-10:]
    failed = [l for l in lines if "Invocation failed" in l.get("message", "")]
    assert failed and "Cancelled" in failed[0]["message"], lines[-10:]
    c.proc.kill()
    c.proc.wait()
