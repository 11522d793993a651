#!/usr/bin/python3
"""The plumbing the loopback fakes in tests/fakes share (standard library
only; run with /usr/bin/python3).

Owns: the HTTP/1.1 handler and threaded server a JSON fake runs on (body
reading with chunked uploads, one-write answers, dropping a connection,
routing /__fake/* to the control API, a 500 for a fake that crashes), the
server lifecycle (start, serve, stop, tracked connections), the request log
and the common control routes (/__fake/requests, reset, health), the FIFO
script of steps with /__fake/script, the writer that cuts a streamed body
into random-sized pieces, the loop that sends a streamed answer frame by
frame (pauses, a stall, client_closed / dropped bookkeeping), and the CLI
loop that serves until SIGTERM or SIGINT.

What each fake says on the wire (status codes, error documents, headers,
log entry fields, defaults) stays in the fake: it passes it in or
overrides the method named here.
"""

import collections
import http.server
import json
import signal
import socket
import sys
import threading
import time
import traceback


class DropConnection(Exception):
    """Raised by a fake's request handler to close the connection without
    (more of) an answer; Handler shuts the socket down."""


def drop_connection(handler):
    """Close a handler's connection at once (no answer, or a cut one)."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def json_or_none(body):
    """The JSON document in body (bytes), None when empty or not JSON."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


# --------------------------------------------------------------------------
# HTTP handler and server
# --------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 handler of a fake (`self.server.fake`): reads the body
    (Content-Length or chunked), sends /__fake/* paths to
    fake._control(handler, path, body) and every other request to
    fake._handle(handler, body). DropConnection closes the socket, a client
    that went away is let go, any other exception answers 500 with
    fake._crash_doc(exc) so a malformed step never hangs a client.
    GET and POST only; a fake that takes more methods subclasses this."""

    protocol_version = "HTTP/1.1"
    timeout = 120

    def log_message(self, fmt, *args):  # silence per-request logging
        pass

    def setup(self):
        super().setup()
        # Small writes (headers, stream frames) must leave at once, not wait
        # for the client's delayed ACK (Nagle): 40 ms per request otherwise.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_bytes(self, status, headers, body):
        """Status line, headers (list of (name, value)), Content-Length
        and body, all in one write."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        # Head and body in one write (what end_headers + write would split).
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def send_json(self, status, obj, headers=(),
                  content_type="application/json"):
        """obj as a JSON answer; headers go after Content-Type."""
        body = json.dumps(obj).encode("utf-8")
        self.send_bytes(status, [("Content-Type", content_type),
                                 *headers], body)

    def drop(self):
        """Close the connection at once (no answer, or a cut one)."""
        drop_connection(self)

    def _dispatch(self):
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        fake = self.server.fake
        if path.startswith("/__fake/"):
            fake._control(self, path, body)
            return
        try:
            fake._handle(self, body)
        except DropConnection:
            self.drop()
        except (ConnectionError, socket.timeout):
            self.close_connection = True
        except Exception as exc:  # a malformed step must not hang clients
            traceback.print_exc(file=sys.stderr)
            try:
                self.send_json(500, fake._crash_doc(exc))
            except OSError:
                pass
            self.close_connection = True

    do_POST = do_GET = _dispatch


class Server(http.server.ThreadingHTTPServer):
    """Threaded server of a fake: daemon threads, address reuse, and a
    listen backlog for many clients connecting at once."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


# --------------------------------------------------------------------------
# Lifecycle, request log, control API
# --------------------------------------------------------------------------

class LoopbackServer:
    """Lifecycle of one fake: the server on host:port (0 = ephemeral),
    .port .url, start() in a background thread, serve_forever() on the
    calling thread, stop() (also shuts down connections still open), and a
    context manager. `self._lock` guards the fake's state; handlers that
    call _track have their connections closed by stop()."""

    def __init__(self, host="127.0.0.1", port=0, handler_class=Handler,
                 server_class=Server):
        self._lock = threading.Lock()
        self._conns = set()
        self._httpd = server_class((host, port), handler_class)
        self._httpd.fake = self
        self._thread = None

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        host = self._httpd.server_address[0]
        if ":" in host:
            host = "[%s]" % host
        return "http://%s:%d" % (host, self.port)

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _track(self, conn, add):
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)


class FakeServer(LoopbackServer):
    """A LoopbackServer with a request log: only the newest log_limit
    entries are kept (long benchmarks), "seq" counts from 1 since start or
    reset. The fake builds each entry (its own fields) and hands it to
    _log. Control API: GET /__fake/requests, POST /__fake/reset,
    GET /__fake/health ({"ok": true, "service": <service>}); anything else
    under /__fake/ is 404 {"message": "unknown control path"}."""

    service = ""

    def __init__(self, host="127.0.0.1", port=0, log_limit=10000, **kw):
        super().__init__(host=host, port=port, **kw)
        self._requests = collections.deque(maxlen=log_limit)
        self._seq = 0

    def requests(self):
        """A deep copy of the log, oldest first."""
        with self._lock:
            return json.loads(json.dumps(list(self._requests)))

    def wait_for_requests(self, count, timeout=5.0):
        """The log once it holds count entries, or when timeout runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._requests) >= count:
                    break
            time.sleep(0.01)
        return self.requests()

    def reset(self):
        with self._lock:
            self._requests.clear()
            self._seq = 0

    def _log(self, entry):
        """Number entry ("seq") and append it to the log; returns it. Every
        key should exist before this, so handler threads only replace
        values and requests() never sees a dict grow."""
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._requests.append(entry)
        return entry

    def _crash_doc(self, exc):
        """The body of the 500 a crashing handler answers with."""
        return {"message": "%s: %r" % (self.service or "fake", exc)}

    def _control(self, handler, path, body):
        self._control_common(handler, path, body)

    def _control_common(self, handler, path, body):
        if path == "/__fake/requests":
            handler.send_json(200, self.requests())
        elif path == "/__fake/reset":
            self.reset()
            handler.send_json(200, {"ok": True})
        elif path == "/__fake/health":
            handler.send_json(200, {"ok": True, "service": self.service})
        else:
            handler.send_json(404, {"message": "unknown control path"})


class ScriptQueue:
    """Mixin for a FakeServer whose answers follow a FIFO script of steps
    (dicts): script(steps), pending_steps(), reset() also empties the
    script, _next_step(body_len) pops the next step, skipping those with
    "if_body_over": N when the request body is not over N bytes. Control:
    POST /__fake/script with a JSON step, list of steps, or
    {"steps": [...]} answers {"queued": N}, or 400 {"message"}."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._script = []

    def script(self, steps):
        """Queue one step (dict) or a list of steps; ValueError if malformed."""
        if isinstance(steps, dict):
            steps = [steps]
        if not all(isinstance(step, dict) for step in steps):
            raise ValueError("each step must be a JSON object")
        with self._lock:
            self._script.extend(steps)

    def pending_steps(self):
        with self._lock:
            return len(self._script)

    def reset(self):
        super().reset()
        with self._lock:
            self._script.clear()

    def _next_step(self, body_len):
        """The next step for a request body of body_len bytes, or None."""
        with self._lock:
            while self._script:
                step = self._script.pop(0)
                over = step.get("if_body_over")
                if over is None or body_len > over:
                    return step
            return None

    def _control(self, handler, path, body):
        if path == "/__fake/script" and handler.command == "POST":
            try:
                steps = json.loads(body)
                if isinstance(steps, dict):
                    steps = steps.get("steps", [steps])
                if not isinstance(steps, list):
                    raise ValueError("steps must be a list")
                self.script(steps)
            except ValueError as exc:
                handler.send_json(400, {"message": str(exc)})
                return
            handler.send_json(200, {"queued": self.pending_steps()})
        else:
            super()._control(handler, path, body)


# --------------------------------------------------------------------------
# Streamed answers
# --------------------------------------------------------------------------

def write_chunked(wfile, data, chunking, rng, lock, default_pause_ms=0):
    """Write data to wfile; with chunking {"min", "max", "pause_ms"} (a
    step's or the fake's) in pieces of random size min..max (defaults 1,
    64) drawn from the fake's seeded rng under its lock, each flushed and
    followed by a pause_ms sleep (default: the fake's default_pause_ms).
    Without chunking, one write."""
    if not chunking:
        wfile.write(data)
        return
    low = max(1, int(chunking.get("min", 1)))
    high = max(low, int(chunking.get("max", 64)))
    pause = chunking.get("pause_ms", default_pause_ms) / 1000.0
    pos = 0
    while pos < len(data):
        with lock:
            size = rng.randint(low, high)
        wfile.write(data[pos:pos + size])
        wfile.flush()
        pos += size
        if pause:
            time.sleep(pause)


def send_frames(handler, entry, frames, write, event_delay_ms=0, stall_ms=0,
                stall_after_events=1, cut=False, counter="events_sent"):
    """Send the frames (bytes) of a streamed answer whose head is already
    sent: write(frame) each, event_delay_ms between them, and once, before
    frame stall_after_events, silence for stall_ms (entry["stalled_after"]).
    entry[counter] counts the frames sent (counter None: not counted). A
    client gone mid-stream sets entry["status"] = "client_closed"; cut
    (the frames were cut short on purpose) sets "dropped"; both raise
    DropConnection."""
    pause = event_delay_ms / 1000.0
    stall = stall_ms / 1000.0
    try:
        for i, frame in enumerate(frames):
            if i and pause:
                handler.wfile.flush()
                time.sleep(pause)
            if stall and i == stall_after_events:
                handler.wfile.flush()
                entry["stalled_after"] = i
                time.sleep(stall)
            write(frame)
            if counter is not None:
                entry[counter] = i + 1
        handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        # The client went away mid-stream (a cancelled invocation).
        entry["status"] = "client_closed"
        raise DropConnection()
    if cut:
        entry["status"] = "dropped"
        raise DropConnection()


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def serve_until_signal(httpd, ready, poll_interval=0.2):
    """Print `ready` as one JSON line on stdout, then serve httpd on this
    thread until SIGTERM or SIGINT (which shut it down once, from another
    thread). The caller closes the server afterwards."""
    stopping = threading.Event()

    def on_signal(_signum, _frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(json.dumps(ready), flush=True)
    httpd.serve_forever(poll_interval=poll_interval)
