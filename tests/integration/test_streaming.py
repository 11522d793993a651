"""Streaming end to end: POST /invocations as Server-Sent Events, fed by
ConverseStream from the fake Bedrock (real event-stream frames, split at
random byte boundaries with pauses)."""

import json
import socket
import threading
import time

from conftest import Runtime

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def stream_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") == "converse-stream"]


class SSEClient:
    """Reads an SSE response line by line with arrival times."""

    def __init__(self, rt, body, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", rt.port),
                                             timeout=30)
        data = json.dumps(body).encode()
        head = ["POST /invocations HTTP/1.1", "Host: 127.0.0.1",
                "Content-Type: application/json",
                "Content-Length: %d" % len(data)]
        for k, v in (headers or {}).items():
            head.append("%s: %s" % (k, v))
        self.t0 = time.monotonic()
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        self.f = self.sock.makefile("rb")
        status = self.f.readline().decode()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            if not line:
                break
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self._buf = b""

    def _more(self):
        if not self.chunked:
            n = int(self.headers.get("content-length", "0"))
            data = self.f.read(n) if n else b""
            return data or None
        size = self.f.readline()
        if not size:
            return None
        n = int(size.strip(), 16)
        if n == 0:
            self.f.readline()
            return None
        data = self.f.read(n)
        self.f.readline()
        return data

    def lines(self):
        """Yields (seconds since the request, line) until the end."""
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                yield time.monotonic() - self.t0, line.decode()
            data = self._more()
            if data is None:
                if self._buf:
                    yield time.monotonic() - self.t0, self._buf.decode()
                return
            self._buf += data

    def events(self):
        out = []
        for t, line in self.lines():
            if line.startswith("data: "):
                out.append((t, json.loads(line[6:])))
        return out

    def close(self):
        self.f.close()
        self.sock.close()


def test_stream_text_live_and_done_once(runtime, fake):
    fake.script([{"text": "Streaming works from end to end.",
                  "text_deltas": ["Streaming ", "works ", "from ", "end ",
                                  "to ", "end."],
                  "event_delay_ms": 150,
                  "chunking": {"min": 1, "max": 7, "pause_ms": 1}}])
    c = SSEClient(runtime, {"prompt": "stream please", "stream": True,
                            "session_id": "st-1"})
    assert c.status == 200
    assert c.headers["content-type"].startswith("text/event-stream")
    assert c.headers["cache-control"] == "no-cache"
    assert c.headers[SESSION_HEADER.lower()] == "st-1"
    evs = c.events()
    c.close()
    types = [e["type"] for _, e in evs]
    assert types.count("done") == 1 and types[-1] == "done"
    texts = [e for _, e in evs if e["type"] == "text"]
    assert "".join(e["text"] for e in texts) == \
        "Streaming works from end to end."
    assert len(texts) == 6
    done = evs[-1][1]
    assert done["response"] == "Streaming works from end to end."
    assert done["stop_reason"] == "EndTurn" and done["iterations"] == 1
    assert done["session_id"] == "st-1" and done["invocation_id"]
    assert done["usage"]["total_tokens"] > 0
    # The first text left long before the fake finished (5 x 150 ms pauses).
    first_t = next(t for t, e in evs if e["type"] == "text")
    assert first_t < evs[-1][0] - 0.45, (first_t, evs[-1][0])
    reqs = stream_requests(fake)
    assert len(reqs) == 1 and reqs[0]["signature_valid"] is True
    assert reqs[0]["path"].endswith("/converse-stream")


def test_accept_header_selects_streaming(runtime, fake):
    fake.script([{"text": "via accept"}, {"text": "json please"}])
    c = SSEClient(runtime, {"prompt": "x"},
                  headers={"Accept": "text/event-stream, */*"})
    evs = c.events()
    c.close()
    assert evs[-1][1]["type"] == "done"
    status, hdrs, doc = runtime.invoke({"prompt": "y", "stream": False},
                                       headers={"Accept": "text/event-stream"})
    assert status == 200 and doc["response"] == "json please"
    assert hdrs["Content-Type"] == "application/json"


def test_tool_round_trip_in_one_stream(runtime, fake):
    fake.script([
        {"text": "Computing.",
         "tool_use": [{"id": "tu_1", "name": "calculator",
                       "input": {"expression": "2+3*4"}}],
         "chunking": {"min": 1, "max": 5, "pause_ms": 0}},
        {"text": "The answer is 14."}])
    c = SSEClient(runtime, {"prompt": "2+3*4?", "stream": True})
    evs = [e for _, e in c.events()]
    c.close()
    types = [e["type"] for e in evs]
    assert types == ["text", "tool_use", "tool_result"] + \
        ["text"] * (len(types) - 4) + ["done"], types
    assert evs[1] == {"type": "tool_use", "tool_use_id": "tu_1",
                      "name": "calculator", "input": {"expression": "2+3*4"}}
    assert evs[2] == {"type": "tool_result", "tool_use_id": "tu_1",
                      "status": "success", "content": [{"text": "14"}]}
    assert "".join(e["text"] for e in evs if e["type"] == "text") == \
        "Computing.The answer is 14."
    assert evs[-1]["iterations"] == 2
    assert evs[-1]["response"] == "The answer is 14."
    second = stream_requests(fake)[1]["body"]["messages"]
    assert second[1]["content"][1]["toolUse"]["input"] == \
        {"expression": "2+3*4"}


def test_in_stream_throttle_before_output_is_retried(runtime, fake):
    fake.script([{"text": "never", "stream_exception": "throttlingException",
                  "after_events": 1},
                 {"text": "second try"}])
    c = SSEClient(runtime, {"prompt": "x", "stream": True})
    evs = [e for _, e in c.events()]
    c.close()
    assert evs[-1]["type"] == "done" and evs[-1]["response"] == "second try"
    assert "never" not in json.dumps(evs)
    assert len(stream_requests(fake)) == 2


def test_in_stream_error_after_output_ends_stream(runtime, fake):
    fake.script([{"text": "partial output here",
                  "text_deltas": ["partial ", "output ", "here"],
                  "stream_exception": "modelStreamErrorException",
                  "message": "The model stream failed.", "after_events": 3}])
    c = SSEClient(runtime, {"prompt": "x", "stream": True,
                            "session_id": "st-err"})
    evs = [e for _, e in c.events()]
    c.close()
    assert evs[-1] == {"type": "error",
                       "error": evs[-1]["error"],
                       "error_type": "ModelStreamErrorException"}
    assert "The model stream failed." in evs[-1]["error"]
    assert [e["type"] for e in evs].count("error") == 1
    assert "done" not in [e["type"] for e in evs]
    assert len(stream_requests(fake)) == 1     # output was sent: no retry
    # Nothing was saved for the failed turn: the session is still valid.
    fake.script([{"text": "fine"}])
    status, _, doc = runtime.invoke({"prompt": "again", "session_id": "st-err"})
    assert status == 200, doc
    msgs = [r for r in fake.requests()
            if r.get("operation") == "converse"][0]["body"]["messages"]
    assert len(msgs) == 1


def test_keepalive_comments_during_silence(start_runtime, fake):
    rt = start_runtime(SSE_KEEPALIVE_SECONDS="1")
    fake.script([{"text": "after a pause", "latency_ms": 2600}])
    c = SSEClient(rt, {"prompt": "slow", "stream": True})
    lines = [l for _, l in c.lines()]
    c.close()
    assert lines.count(": keep-alive") >= 2, lines
    data = [json.loads(l[6:]) for l in lines if l.startswith("data: ")]
    assert data[-1]["type"] == "done"


def test_client_disconnect_cancels_upstream(runtime, fake):
    deltas = ["tok%d " % i for i in range(40)]
    fake.script([{"text": "".join(deltas), "text_deltas": deltas,
                  "event_delay_ms": 100}])
    c = SSEClient(runtime, {"prompt": "long", "stream": True,
                            "session_id": "gone"})
    for _, line in c.lines():
        if line.startswith("data: "):
            break
    t0 = time.monotonic()
    c.close()
    # The runtime drops its Bedrock connection promptly: the fake's next
    # writes fail.
    deadline = time.monotonic() + 5
    req = None
    while time.monotonic() < deadline:
        req = stream_requests(fake)[0]
        if req["status"] == "client_closed":
            break
        time.sleep(0.05)
    assert req["status"] == "client_closed", req
    assert req["events_sent"] < 30
    assert time.monotonic() - t0 < 3
    # The session holds no half turn and is free again.
    fake.script([{"text": "next"}])
    status, _, doc = runtime.invoke({"prompt": "after", "session_id": "gone"})
    assert status == 200, doc
    msgs = [r for r in fake.requests()
            if r.get("operation") == "converse"][0]["body"]["messages"]
    assert len(msgs) == 1


def test_busy_session_is_409_before_streaming(runtime, fake):
    fake.script([{"text": "slow", "latency_ms": 800}])
    res = {}
    t = threading.Thread(target=lambda: res.update(
        r=runtime.invoke({"prompt": "a", "session_id": "b1"})))
    t.start()
    fake.wait_for_requests(1)
    c = SSEClient(runtime, {"prompt": "b", "session_id": "b1",
                            "stream": True})
    assert c.status == 409
    assert c.headers["content-type"] == "application/json"
    c.close()
    t.join()
    assert res["r"][0] == 200


def test_many_streams_and_a_ping(runtime, fake):
    fake.latency_ms = 200
    out = {}

    def one(i):
        c = SSEClient(runtime, {"prompt": "p%d" % i, "stream": True,
                                "session_id": "m%d" % i})
        out[i] = [e for _, e in c.events()]
        c.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i in range(10):
        assert out[i][-1]["type"] == "done"
        assert out[i][-1]["response"] == "echo: p%d" % i
    assert runtime.ping()[0] == 200
