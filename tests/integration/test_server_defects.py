"""Server defects of issue 8, each through the real binary on loopback
(raw sockets where an HTTP client cannot send the bytes):
 4  a stalled stdout does not stall /ping or invocations; a client that
    stops reading its stream does not slow another invocation
 5  a global budget on request-body bytes held at once (503 ServerBusy)
 7  a session id with a control character is a clean 400 (no over-read)
 8  debug request logs show header values only for harmless headers
 9  Content-Length with Transfer-Encoding: 400 and the connection closed
10  stream must be a boolean; content blocks checked; blank prompts; bad
    request-id headers replaced
11  a retry right after a dropped stream is served, not 409"""

import base64
import fcntl
import http.client
import json
import os
import re
import socket
import termios
import threading
import time

from conftest import Runtime
from test_streaming import SSEClient

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
REQUEST_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                     r"-[0-9a-f]{12}$")


def raw_exchange(rt, data, timeout=5):
    """Sends raw bytes, reads until the server closes (or timeout);
    returns (bytes read, closed by server)."""
    s = socket.create_connection(("127.0.0.1", rt.port), timeout=timeout)
    s.sendall(data)
    out = b""
    closed = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    finally:
        s.close()
    return out, closed


def raw_post(rt, body, extra_headers=b""):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    return (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n" +
            extra_headers + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def status_and_json(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), json.loads(body) if body else None


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") in
            ("converse", "converse-stream")]


# -- defect 7: session-id check ----------------------------------------------

def test_session_id_with_control_character_is_400(runtime, fake):
    for sid in ["a\nb", "a\n", "\n", "x\x01", "\x7f", "ok\ttab"]:
        status, _, doc = runtime.invoke({"prompt": "hi", "session_id": sid})
        assert status == 400, (sid, doc)
        assert doc["error_type"] == "ValidationError"
        assert "session id" in doc["error"]
    # The header path runs the same check (raw: \x01 in a header value).
    raw, _ = raw_exchange(runtime, raw_post(
        runtime, {"prompt": "hi"},
        SESSION_HEADER.encode() + b": a\x01b\r\n"))
    assert raw.startswith(b"HTTP/1.1 400"), raw
    assert converse_requests(fake) == []
    # A long, valid id still works; 257 bytes does not.
    fake.script([{"text": "ok"}])
    status, hdrs, doc = runtime.invoke({"prompt": "hi",
                                        "session_id": "s" * 256})
    assert status == 200, doc
    status, _, doc = runtime.invoke({"prompt": "hi", "session_id": "s" * 257})
    assert status == 400, doc


# -- defect 8: header masking at debug level --------------------------------

def test_debug_log_shows_only_harmless_header_values(start_runtime, fake):
    rt = start_runtime(LOG_LEVEL="debug")
    secrets = {
        "X-Amzn-Bedrock-AgentCore-Runtime-Workload-AccessToken":
            "wat-secret-0001",
        "X-Api-Key": "apikey-secret-0002",
        "X-Custom-Thing": "custom-secret-0003",
        "Authorization": "Bearer auth-secret-0004",
        "Cookie": "session=cookie-secret-0005",
    }
    fake.script([{"text": "ok"}])
    headers = dict(secrets)
    headers["User-Agent"] = "visible-agent/1.0"
    headers["Content-Type"] = "application/json"
    headers[SESSION_HEADER] = "visible-session"
    headers["traceparent"] = \
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    status, _, doc = rt.invoke({"prompt": "hi"}, headers=headers)
    assert status == 200, doc
    rt.stop()
    out = rt.output()
    for value in secrets.values():
        assert value.split()[-1].split("=")[-1] not in out, value
    line = [l for l in rt.log_lines()
            if l.get("logger") == "strands.server.request" and
            l.get("path") == "/invocations"][0]
    logged = {k.lower(): v for k, v in line["headers"].items()}
    for name in secrets:
        assert logged[name.lower()] == "***", (name, logged)
    assert logged["user-agent"] == "visible-agent/1.0"
    assert logged[SESSION_HEADER.lower()] == "visible-session"
    assert logged["traceparent"].startswith("00-0af7651916cd43dd")
    assert logged["content-type"] == "application/json"


# -- defect 9: request smuggling shape ---------------------------------------

def test_content_length_with_chunked_is_400_and_closed(runtime, fake):
    body = json.dumps({"prompt": "first"}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    smuggled_body = json.dumps({"prompt": "smuggled",
                                "session_id": "smuggled"}).encode()
    smuggled = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Length: %d\r\n\r\n" % len(smuggled_body) +
                smuggled_body)
    req = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\n"
           b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
           % len(chunked)) + chunked + smuggled
    raw, closed = raw_exchange(runtime, req)
    assert closed, raw
    assert raw.count(b"HTTP/1.1 ") == 1, raw
    status, head, doc = status_and_json(raw)
    assert status == 400 and doc["error_type"] == "BadRequest", raw
    assert "connection: close" in head.lower()
    time.sleep(0.3)
    assert converse_requests(fake) == []   # neither request reached Bedrock
    # Transfer-Encoding before Content-Length: the same.
    req2 = (b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n"
            % len(chunked)) + chunked + smuggled
    raw, closed = raw_exchange(runtime, req2)
    assert closed and raw.count(b"HTTP/1.1 ") == 1, raw
    assert raw.startswith(b"HTTP/1.1 400"), raw
    time.sleep(0.3)
    assert converse_requests(fake) == []
    # Plain chunked bodies are still served.
    fake.script([{"text": "chunked ok"}])
    raw, _ = raw_exchange(runtime, b"POST /invocations HTTP/1.1\r\n"
                          b"Host: 127.0.0.1\r\nConnection: close\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
    assert raw.startswith(b"HTTP/1.1 200"), raw
    assert b"chunked ok" in raw


# -- defect 10: validation gaps ----------------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()


def test_stream_must_be_boolean(runtime, fake):
    for value in ["yes", 1, 0, None, {}, []]:
        status, _, doc = runtime.invoke({"prompt": "hi", "stream": value})
        assert status == 400, (value, doc)
        assert doc["error_type"] == "ValidationError"
        assert "'stream' must be a boolean" in doc["error"]
    assert converse_requests(fake) == []


def test_content_blocks_are_checked(runtime, fake):
    cases = [
        ({"image": {"format": "bmp", "source": {"bytes": PNG}}},
         "prompt[1].image.format"),
        ({"image": {"source": {"bytes": PNG}}}, "prompt[1].image.format"),
        ({"image": {"format": "png", "source": {"bytes": "not base64!"}}},
         "prompt[1].image.source.bytes"),
        ({"image": {"format": "png", "source": {"bytes": "QQ"}}},
         "prompt[1].image.source.bytes"),
        ({"image": {"format": "png", "source": {"bytes": ""}}},
         "prompt[1].image.source.bytes"),
        ({"image": {"format": "png"}}, "prompt[1].image.source.bytes"),
        ({"image": "png"}, "prompt[1].image"),
        ({"document": {"format": "pdf", "source": {"bytes": PNG}}},
         "prompt[1].document.name"),
        ({"document": {"name": "d", "format": "exe",
                       "source": {"bytes": PNG}}},
         "prompt[1].document.format"),
        ({"document": {"name": "d", "format": "txt",
                       "source": {"bytes": "aGk=x"}}},
         "prompt[1].document.source.bytes"),
        ({"text": "   \n\t "}, "prompt[1].text"),
        ({"sound": {}}, "prompt[1]: unsupported content block 'sound'"),
    ]
    for block, where in cases:
        status, _, doc = runtime.invoke({"prompt": [{"text": "look"}, block]})
        assert status == 400, (block, doc)
        assert doc["error_type"] == "ValidationError"
        assert where in doc["error"], (block, doc)
    for prompt in ["", "   ", "\n\t  \r\n"]:
        status, _, doc = runtime.invoke({"prompt": prompt})
        assert status == 400, (prompt, doc)
        assert "prompt" in doc["error"]
    assert converse_requests(fake) == []
    # Well-formed blocks pass through to Bedrock.
    fake.script([{"text": "seen"}])
    status, _, doc = runtime.invoke({"prompt": [
        {"text": "look"},
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"document": {"name": "notes", "format": "md",
                      "source": {"bytes": base64.b64encode(b"# hi").decode()}}},
    ]})
    assert status == 200, doc
    sent = converse_requests(fake)[0]["body"]["messages"][0]["content"]
    assert [list(b)[0] for b in sent] == ["text", "image", "document"]


def test_bad_request_id_header_is_replaced(runtime, fake):
    fake.script([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    status, _, doc = runtime.invoke({"prompt": "hi"},
                                    headers={REQUEST_HEADER: "my-req-1"})
    assert status == 200 and doc["invocation_id"] == "my-req-1"
    status, _, doc = runtime.invoke({"prompt": "hi"},
                                    headers={REQUEST_HEADER: "r" * 129})
    assert status == 200 and UUID_RE.match(doc["invocation_id"]), doc
    raw, _ = raw_exchange(runtime, raw_post(
        runtime, {"prompt": "hi"}, REQUEST_HEADER.encode() + b": ab\x01cd\r\n"))
    status, _, doc = status_and_json(raw)
    assert status == 200 and UUID_RE.match(doc["invocation_id"]), raw


# -- defect 5: global request-body budget ------------------------------------

def test_request_body_budget_gives_503_server_busy(start_runtime, fake):
    rt = start_runtime(MAX_INFLIGHT_BODY_BYTES="100000")
    pad = "x" * 80000
    held = json.dumps({"prompt": "held", "pad": pad}).encode()
    # Connection A sends all but the last 10 bytes of an 80 kB body and
    # waits: its bytes stay held.
    a = socket.create_connection(("127.0.0.1", rt.port), timeout=10)
    a.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(held) +
              held[:-10])
    time.sleep(0.5)
    # B's 30 kB would take the total over 100 kB.
    other = {"prompt": "other", "pad": "y" * 30000}
    status, hdrs, doc = rt.invoke(other)
    assert status == 503, doc
    assert doc["error_type"] == "ServerBusy"
    assert "MAX_INFLIGHT_BODY_BYTES" in doc["error"]
    assert hdrs.get("Retry-After") == "1"
    assert rt.ping()[0] == 200
    # A finishes: it is served, and its bytes are given back.
    fake.script([{"text": "held ok"}, {"text": "other ok"}])
    a.sendall(held[-10:])
    out = b""
    while True:
        d = a.recv(65536)
        if not d:
            break
        out += d
    a.close()
    status, _, doc = status_and_json(out)
    assert status == 200 and doc["response"] == "held ok", out
    status, _, doc = rt.invoke(other)
    assert status == 200 and doc["response"] == "other ok", doc


# -- defect 4: nothing waits on stdout or on another invocation's client ----

def test_ping_and_invocations_answer_while_stdout_is_stalled(fake):
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)      # F_SETPIPE_SZ: a small pipe fills fast
    rt = Runtime({"LOG_LEVEL": "debug"}, fake, stdout=w)
    os.close(w)
    try:
        # Fill the pipe: every request writes a debug log line.
        conn = http.client.HTTPConnection("127.0.0.1", rt.port, timeout=5)
        deadline = time.monotonic() + 10
        last, same = -1, 0
        while time.monotonic() < deadline and same < 10:
            conn.request("GET", "/ping")
            conn.getresponse().read()
            time.sleep(0.01)
            pending = int.from_bytes(
                fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0"), "little")
            same = same + 1 if pending == last else 0
            last = pending
        # Full: the writer is stuck on a line that no longer fits.
        assert same >= 10 and pending > 4096 - 1024, pending
        # Nobody reads stdout: /ping on the same keep-alive connection and
        # an invocation must still answer at once.
        for _ in range(20):
            t0 = time.monotonic()
            conn.request("GET", "/ping")
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            assert time.monotonic() - t0 < 0.5
        conn.close()
        fake.script([{"text": "still answering"}])
        t0 = time.monotonic()
        status, _, doc = rt.invoke({"prompt": "hi"}, timeout=5)
        assert status == 200 and doc["response"] == "still answering"
        assert time.monotonic() - t0 < 2
    finally:
        # Read stdout again: queued lines (and a count of dropped ones, if
        # any) come out, and the runtime can exit cleanly.
        got = []
        reader = threading.Thread(target=lambda: got.append(
            b"".join(iter(lambda: os.read(r, 65536), b""))))
        reader.start()
        code = rt.stop()
        reader.join(10)
        os.close(r)
        err = rt.output()
        os.unlink(rt.log.name)
    assert code == 0, err
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    lines = got[0].decode().splitlines()
    assert any('"message":"shutdown complete"' in l for l in lines)
    assert all(json.loads(l) for l in lines)


def test_stalled_stream_client_does_not_slow_another(runtime, fake):
    deltas = ["%04d" % i + "z" * 496 for i in range(3000)]  # 1.5 MB
    fake.script([{"text": "".join(deltas), "text_deltas": deltas,
                  "pad": False}])
    body = json.dumps({"prompt": "big", "stream": True,
                       "session_id": "stalled"}).encode()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", runtime.port))
    s.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    try:
        fake.wait_for_requests(1)
        time.sleep(1.0)         # the stalled stream fills every buffer
        for i in range(3):
            fake.script([{"text": "quick %d" % i}])
            t0 = time.monotonic()
            status, _, doc = runtime.invoke({"prompt": "q",
                                             "session_id": "quick%d" % i},
                                            timeout=5)
            assert status == 200 and doc["response"] == "quick %d" % i, doc
            assert time.monotonic() - t0 < 1.5
            t0 = time.monotonic()
            assert runtime.ping()[0] == 200
            assert time.monotonic() - t0 < 0.5
    finally:
        s.close()


# -- defect 11: a dropped stream gives its session back promptly -------------

def test_retry_right_after_dropped_stream_succeeds(runtime, fake):
    deltas = ["part%d " % i for i in range(30)]
    fake.script([{"text": "".join(deltas), "text_deltas": deltas,
                  "event_delay_ms": 900},
                 {"text": "retried"}])
    c = SSEClient(runtime, {"prompt": "long", "stream": True,
                            "session_id": "drop-retry"})
    for _, line in c.lines():
        if line.startswith("data: "):
            break
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    time.sleep(0.1)
    t0 = time.monotonic()
    status, _, doc = runtime.invoke({"prompt": "again",
                                     "session_id": "drop-retry"}, timeout=10)
    assert status == 200, doc
    assert doc["response"] == "retried"
    assert time.monotonic() - t0 < 3


def test_json_client_hangup_cancels_and_frees_the_session(runtime, fake):
    fake.script([{"text": "too late", "latency_ms": 4000},
                 {"text": "retried"}])
    body = json.dumps({"prompt": "slow", "session_id": "json-drop"}).encode()
    s = socket.create_connection(("127.0.0.1", runtime.port), timeout=5)
    s.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    fake.wait_for_requests(1)
    s.close()
    time.sleep(0.1)
    t0 = time.monotonic()
    status, _, doc = runtime.invoke({"prompt": "again",
                                     "session_id": "json-drop"}, timeout=10)
    assert status == 200 and doc["response"] == "retried", doc
    # The abandoned call was dropped (not waited out for 4 s).
    assert time.monotonic() - t0 < 3
    lines = runtime.log_lines()
    assert any(l.get("logger") == "strands.metrics" and
               l.get("outcome") == "Cancelled" for l in lines), lines
