#!/usr/bin/python3
"""Scriptable fake MCP server for the MCP client's tests.

Owns: a JSON-RPC 2.0 MCP server over stdio (newline-delimited messages on
stdin/stdout) or Streamable HTTP (127.0.0.1 only, endpoint /mcp), in one of
three eras, with a fixed set of test tools, a JSON-lines event log that tests
read to assert what the client sent, and failure switches (slow start, crash
on start, exit after N requests, ignore EOF / SIGTERM). Standard library
only; run with /usr/bin/python3. Its fidelity to the official SDK is checked
by tests/integration/test_mcp_fakes.py (js/mcp_oracle.mjs); behaviour the
reference server @modelcontextprotocol/server-everything also has is noted in
tests/fakes/MCP_NOTES.md.

Usage:
  fake_mcp.py [--http PORT] [--era legacy|modern|dual] [--scenario FILE]
              [--log FILE] [--page-size N] [--http-reply sse|json]
              [--start-delay-ms N] [--exit-after-requests N]
              [--crash-on-start] [--ignore-eof] [--ignore-sigterm]
  --http 0 picks a free port; the first stdout line is then
  "fake_mcp listening on http://127.0.0.1:PORT/mcp".

Eras (MCP_NOTES.md has the details and the spec sections they follow):
  legacy  2025-06-18 / 2025-11-25: `initialize` handshake (the version asked
          for when it is one of those, else 2025-11-25); before it, unknown
          methods (server/discover too) get -32601, tools/list and
          tools/call -32600; ping is always answered.
          HTTP: Mcp-Session-Id minted by initialize and required afterwards;
          unknown id -> 404; DELETE ends a session; GET opens the session's
          notification stream.
  modern  2026-07-28 stateless: every request carries
          _meta["io.modelcontextprotocol/protocolVersion"]; unsupported ->
          -32022 with data.supported/requested (HTTP 400); server/discover;
          no initialize/ping (-32601, HTTP 404); every result has
          resultType "complete" (tools/list also ttlMs + cacheScope). HTTP:
          MCP-Protocol-Version, Mcp-Method, Mcp-Name (tools/call; base64
          sentinel decoded) must be present and match the body, else 400
          -32020; GET/DELETE -> 405; Mcp-Session-Id ignored; closing the
          response stream cancels the call. notifications/tools/list_changed
          only on a subscriptions/listen stream.
  dual    both: a request with the modern _meta version is served modern,
          `initialize` (and, on HTTP, a request with Mcp-Session-Id) legacy.

Tools (default set; --scenario can replace or extend it):
  echo {message}      text = message
  add {a,b}           text "<sum>" + structuredContent {"sum": a+b}
  image               one image block, image/png (a 1x1 PNG)
  resource            embedded text/plain resource + embedded application/pdf blob
  fail {message?}     isError true
  slow {ms=2000}      sleeps; a cancel (notifications/cancelled, or on HTTP a
                      closed response stream) drops the reply; log: "cancel"
                      and "reply_dropped"
  hang                never answers (a cancel is still logged)
  die                 the process exits (code 7) mid-call, no reply
  freeze              the server stops answering anything from now on
  toggle              adds / removes the tool "toggled_tool" and emits
                      notifications/tools/list_changed before its reply
  progress {steps=3}  notifications/progress (if a progressToken was sent),
                      then a text reply
  env                 structuredContent = the server's environment
  big {bytes}         one text block of that many "x"
  spam_stderr {bytes} writes that many bytes to stderr, then replies
  name.with.dots, name/with/slashes, café, and an 80-character name: echo
  their own name (tool-name mapping tests)
  modern/dual eras also: routed {region, shard, opts.dry, query} (x-mcp-header
  parameters; HTTP checks the Mcp-Param-* headers) and bad_header_tool (an
  invalid x-mcp-header a client on HTTP must drop)
  Unknown tool -> JSON-RPC error -32602; bad arguments -> isError result.
  tools/list is paginated: pages of --page-size (default 4) with nextCursor.

Log (--log FILE, JSON lines, appended; a restarted server appends to the
same file): {"event": "start"|"request"|"notification"|"response"|"cancel"|
"reply_dropped"|"http"|"exit"|..., "pid": N, "t": epoch seconds, ...};
requests carry method, id, params and (HTTP) all request headers.
read_log(path) parses it.

HTTP control endpoints (tests only): POST /__fake/expire-sessions forgets
every legacy session (the next request with its id gets 404); GET
/__fake/state returns sessions, pending calls and tool names.

Scenario file (JSON object, every key optional): page_size, http_reply,
stderr_lines [str], legacy_versions [str], modern_versions [str],
discover_reply "method_not_found"|"invalid_params"|"silent" (legacy era,
server/discover before initialize), server_info {name, version},
instructions, require_headers {name: value} (HTTP: 401 unless every one is
present and equal), remove_tools [name], extra_tools [tool] and tools [tool]
(replaces the set). A scenario tool is an MCP Tool object plus "behaviour"
(one of the tool names above, e.g. "echo" or "slow") or "result" (a canned
CallToolResult returned as is), and optional "delay_ms".
"""

import argparse
import base64
import copy
import http.server
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import uuid
import zlib

LEGACY_VERSIONS = ["2025-11-25", "2025-06-18"]
MODERN_VERSIONS = ["2026-07-28"]
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUB_ID = "io.modelcontextprotocol/subscriptionId"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022

MAX_BODY = 4 << 20
LONG_NAME = "long_tool_name_" + "x" * 65  # 80 characters
assert len(LONG_NAME) == 80


def _png_1x1():
    """A valid 1x1 red RGB PNG, built with zlib."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


PNG_B64 = base64.b64encode(_png_1x1()).decode()
PDF_BYTES = (b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
             b"2 0 obj <</Type/Pages/Kids[]/Count 0>> endobj\ntrailer "
             b"<</Root 1 0 R>>\n%%EOF\n")
PDF_B64 = base64.b64encode(PDF_BYTES).decode()
README_TEXT = "fake_mcp embedded resource: plain text\nsecond line\n"


def _obj(props=None, required=None, additional=False):
    schema = {"type": "object", "properties": props or {}}
    if required:
        schema["required"] = required
    if additional is not None:
        schema["additionalProperties"] = additional
    return schema


def default_tools():
    """The default tool set: MCP Tool objects plus a "behaviour" key."""
    tools = [
        {"name": "echo", "description": "Returns its message as text.",
         "inputSchema": _obj({"message": {"type": "string"}}, ["message"]),
         "behaviour": "echo"},
        {"name": "add", "description": "Adds two numbers.",
         "inputSchema": _obj({"a": {"type": "number"},
                              "b": {"type": "number"}}, ["a", "b"]),
         "outputSchema": _obj({"sum": {"type": "number"}}, ["sum"], None),
         "behaviour": "add"},
        {"name": "image", "description": "Returns a 1x1 PNG image.",
         "inputSchema": _obj(), "behaviour": "image"},
        {"name": "resource",
         "description": "Returns an embedded text resource and a PDF blob.",
         "inputSchema": _obj(), "behaviour": "resource"},
        {"name": "fail", "description": "Always fails (isError).",
         "inputSchema": _obj({"message": {"type": "string"}}),
         "behaviour": "fail"},
        {"name": "slow", "description": "Sleeps ms milliseconds.",
         "inputSchema": _obj({"ms": {"type": "integer", "minimum": 0}}),
         "behaviour": "slow"},
        {"name": "hang", "description": "Never answers.",
         "inputSchema": _obj(), "behaviour": "hang"},
        {"name": "die", "description": "The server exits mid-call.",
         "inputSchema": _obj(), "behaviour": "die"},
        {"name": "freeze", "description": "The server stops answering.",
         "inputSchema": _obj(), "behaviour": "freeze"},
        {"name": "toggle",
         "description": "Adds or removes toggled_tool (list_changed).",
         "inputSchema": _obj(), "behaviour": "toggle"},
        {"name": "progress", "description": "Sends progress notifications.",
         "inputSchema": _obj({"steps": {"type": "integer", "minimum": 0,
                                        "maximum": 100}}),
         "behaviour": "progress"},
        {"name": "env", "description": "Returns the server's environment.",
         "inputSchema": _obj(), "behaviour": "env"},
        {"name": "big", "description": "Returns bytes characters of text.",
         "inputSchema": _obj({"bytes": {"type": "integer", "minimum": 0}},
                             ["bytes"]),
         "behaviour": "big"},
        {"name": "spam_stderr", "description": "Writes bytes to stderr.",
         "inputSchema": _obj({"bytes": {"type": "integer", "minimum": 0}},
                             ["bytes"]),
         "behaviour": "spam_stderr"},
    ]
    for name in ("name.with.dots", "name/with/slashes", "caf\u00e9",
                 LONG_NAME):
        tools.append({"name": name, "description": "Returns its own name.",
                      "inputSchema": _obj(), "behaviour": "own_name"})
    return tools


# 2026-07-28 x-mcp-header tools (modern and dual eras only): "routed" mirrors
# three parameters into Mcp-Param-* headers (one nested); the annotation of
# "bad_header_tool" is invalid (a number parameter), so an HTTP client must
# leave that tool out of its list (server/tools.mdx, x-mcp-header).
HEADER_TOOLS = [
    {"name": "routed",
     "description": "Echoes its arguments; region, shard and opts.dry are "
                    "mirrored into Mcp-Param-* headers.",
     "inputSchema": {
         "type": "object",
         "properties": {
             "region": {"type": "string", "x-mcp-header": "Region"},
             "shard": {"type": "integer", "x-mcp-header": "Shard"},
             "opts": {"type": "object", "properties": {
                 "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"}}},
             "query": {"type": "string"}},
         "required": ["region", "query"]},
     "behaviour": "args"},
    {"name": "bad_header_tool",
     "description": "Invalid x-mcp-header (on a number): clients on HTTP "
                    "must exclude this tool.",
     "inputSchema": {"type": "object", "properties": {
         "ratio": {"type": "number", "x-mcp-header": "Ratio"}}},
     "behaviour": "own_name"},
]


def header_params(schema, path=()):
    """[(path, header name, type)] of the x-mcp-header annotations reachable
    through a chain of "properties" keys, valid ones only."""
    out = []
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return out
    for key, sub in props.items():
        if not isinstance(sub, dict):
            continue
        name = sub.get("x-mcp-header")
        if (isinstance(name, str) and name
                and sub.get("type") in ("string", "integer", "boolean")):
            out.append((path + (key,), name, sub["type"]))
        out += header_params(sub, path + (key,))
    return out


TOGGLED_TOOL = {"name": "toggled_tool",
                "description": "Present after an odd number of toggles.",
                "inputSchema": _obj(), "behaviour": "own_name"}


class RpcError(Exception):
    """A JSON-RPC error reply; status is the HTTP status to use."""

    def __init__(self, code, message, data=None, status=200):
        super().__init__(message)
        self.code, self.message, self.data, self.status = (code, message,
                                                           data, status)

    def body(self, rid):
        err = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return {"jsonrpc": "2.0", "id": rid, "error": err}


class Call:
    """One in-flight request: its cancel flag, and a way to send
    request-related notifications (progress) on its channel."""

    def __init__(self, rid, notify, disconnected=None):
        self.rid = rid
        self.cancelled = threading.Event()
        self.cancel_via = None
        self._notify = notify
        self._disconnected = disconnected
        self.on_disconnect = None

    def wait(self, seconds):
        """Sleeps up to seconds; True if cancelled meanwhile."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return self.cancelled.is_set()
            if self.cancelled.wait(min(left, 0.02)):
                return True
            if self._disconnected is not None and self._disconnected():
                self.cancel_via = "disconnect"
                self.cancelled.set()
                if self.on_disconnect is not None:
                    self.on_disconnect(self.rid)
                return True

    def notify(self, msg):
        if self._notify is not None:
            self._notify(msg)


class Stream:
    """A notification channel (legacy GET stream, modern listen stream or
    stdio subscription): a queue a writer thread drains."""

    def __init__(self, kind, sub_id=None, session=None):
        self.kind, self.sub_id, self.session = kind, sub_id, session
        self.items = []
        self.cond = threading.Condition()
        self.closed = False

    def put(self, msg):
        with self.cond:
            self.items.append(msg)
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def get(self, timeout):
        with self.cond:
            if not self.items and not self.closed:
                self.cond.wait(timeout)
            if self.items:
                return self.items.pop(0)
            return None


class FakeMcp:
    """Protocol state shared by both transports."""

    def __init__(self, args, scenario):
        self.args = args
        self.sc = scenario
        self.lock = threading.RLock()
        self.log_fd = None
        if args.log:
            self.log_fd = os.open(args.log, os.O_WRONLY | os.O_CREAT
                                  | os.O_APPEND, 0o644)
        self.era = args.era
        self.page_size = int(scenario.get("page_size", args.page_size))
        self.http_reply = scenario.get("http_reply", args.http_reply)
        self.legacy_versions = list(scenario.get("legacy_versions",
                                                 LEGACY_VERSIONS))
        self.modern_versions = list(scenario.get("modern_versions",
                                                 MODERN_VERSIONS))
        self.discover_reply = scenario.get("discover_reply",
                                           "method_not_found")
        self.server_info = scenario.get("server_info",
                                        {"name": "fake-mcp",
                                         "version": "1.0.0"})
        self.instructions = scenario.get(
            "instructions", "Test server of strands-c (tests/fakes).")
        self.require_headers = scenario.get("require_headers", {})
        if "tools" in scenario:
            tools = copy.deepcopy(scenario["tools"])
        else:
            tools = default_tools()
        tools += copy.deepcopy(scenario.get("extra_tools", []))
        removed = set(scenario.get("remove_tools", []))
        if "tools" not in scenario and args.era != "legacy":
            tools += copy.deepcopy(HEADER_TOOLS)
        self.tools = [t for t in tools if t["name"] not in removed]
        self.toggled = False
        self.frozen = False
        self.requests_seen = 0
        self.stdio_initialized = None      # negotiated legacy version
        self.sessions = {}                 # id -> {"version", "streams"}
        self.pending = {}                  # key -> Call
        self.streams = []                  # open notification Streams
        self.write_stdout = None           # set by the stdio transport

    # ---- log ----
    def log(self, event, **fields):
        if self.log_fd is None:
            return
        rec = {"event": event, "pid": os.getpid(),
               "t": round(time.time(), 4)}
        rec.update(fields)
        line = json.dumps(rec, ensure_ascii=False, default=str) + "\n"
        os.write(self.log_fd, line.encode())

    # ---- tools ----
    def tool_list(self):
        tools = list(self.tools)
        if self.toggled:
            tools.append(TOGGLED_TOOL)
        return tools

    def find_tool(self, name):
        for t in self.tool_list():
            if t["name"] == name:
                return t
        return None

    @staticmethod
    def public_tool(t):
        return {k: v for k, v in t.items()
                if k not in ("behaviour", "result", "delay_ms")}

    def list_tools(self, params, modern):
        tools = self.tool_list()
        start = 0
        cursor = params.get("cursor")
        if cursor is not None:
            try:
                start = int(base64.b64decode(cursor, validate=True)
                            .decode().split(":", 1)[1])
                if not 0 <= start <= len(tools):
                    raise ValueError
            except (ValueError, IndexError, UnicodeDecodeError):
                raise RpcError(INVALID_PARAMS, "Invalid cursor")
        size = self.page_size if self.page_size > 0 else len(tools) or 1
        page = tools[start:start + size]
        result = {"tools": [self.public_tool(t) for t in page]}
        if start + size < len(tools):
            result["nextCursor"] = base64.b64encode(
                ("offset:%d" % (start + size)).encode()).decode()
        if modern:
            result["ttlMs"] = 0
            result["cacheScope"] = "public"
        return result

    def call_tool(self, params, call, ctx):
        name = params.get("name")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "tools/call: params.name missing")
        tool = self.find_tool(name)
        if tool is None:
            raise RpcError(INVALID_PARAMS, "Unknown tool: %s" % name)
        args = params.get("arguments") or {}
        if not isinstance(args, dict):
            return self.tool_error("arguments must be an object")
        if tool.get("delay_ms"):
            if call.wait(tool["delay_ms"] / 1000.0):
                return None
        if "result" in tool:
            return copy.deepcopy(tool["result"])
        return self.run_behaviour(tool.get("behaviour", "own_name"), tool,
                                  args, params, call, ctx)

    @staticmethod
    def text(s):
        return {"content": [{"type": "text", "text": s}]}

    def tool_error(self, msg):
        return {"content": [{"type": "text", "text": msg}], "isError": True}

    def run_behaviour(self, kind, tool, args, params, call, ctx):
        if kind == "echo":
            msg = args.get("message")
            if not isinstance(msg, str):
                return self.tool_error("echo: 'message' must be a string")
            return self.text(msg)
        if kind == "add":
            a, b = args.get("a"), args.get("b")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in (a, b)):
                return self.tool_error("add: 'a' and 'b' must be numbers")
            s = a + b
            return {"content": [{"type": "text", "text": json.dumps(s)}],
                    "structuredContent": {"sum": s}}
        if kind == "image":
            return {"content": [{"type": "image", "data": PNG_B64,
                                 "mimeType": "image/png"}]}
        if kind == "resource":
            return {"content": [
                {"type": "resource",
                 "resource": {"uri": "fake://docs/readme.txt",
                              "mimeType": "text/plain", "text": README_TEXT}},
                {"type": "resource",
                 "resource": {"uri": "fake://docs/report.pdf",
                              "mimeType": "application/pdf",
                              "blob": PDF_B64}}]}
        if kind == "fail":
            return self.tool_error(args.get("message") or
                                   "fail: this tool always fails")
        if kind == "slow":
            ms = args.get("ms", 2000)
            if not isinstance(ms, int) or ms < 0:
                return self.tool_error("slow: 'ms' must be an integer >= 0")
            if call.wait(ms / 1000.0):
                return None
            return self.text("slept %d ms" % ms)
        if kind == "hang":
            while not call.wait(3600):
                pass
            return None
        if kind == "die":
            self.log("exit", reason="die")
            os._exit(7)
        if kind == "freeze":
            self.frozen = True
            self.log("frozen")
            while not call.wait(3600):
                pass
            return None
        if kind == "toggle":
            with self.lock:
                self.toggled = not self.toggled
                now = self.toggled
            self.emit_list_changed(ctx)
            return self.text("toggled_tool %s" % ("added" if now
                                                  else "removed"))
        if kind == "progress":
            steps = args.get("steps", 3)
            if not isinstance(steps, int) or not 0 <= steps <= 100:
                return self.tool_error("progress: 'steps' must be 0..100")
            token = (params.get("_meta") or {}).get("progressToken")
            for i in range(1, steps + 1):
                if call.wait(0.05):
                    return None
                if token is not None:
                    call.notify({"jsonrpc": "2.0",
                                 "method": "notifications/progress",
                                 "params": {"progressToken": token,
                                            "progress": i, "total": steps}})
            return self.text("progress done: %d steps" % steps)
        if kind == "args":
            return {"content": [{"type": "text", "text": json.dumps(args)}],
                    "structuredContent": args}
        if kind == "env":
            env = dict(os.environ)
            return {"content": [{"type": "text", "text": json.dumps(env)}],
                    "structuredContent": env}
        if kind == "big":
            n = args.get("bytes")
            if not isinstance(n, int) or not 0 <= n <= (64 << 20):
                return self.tool_error("big: 'bytes' must be 0..64Mi")
            return self.text("x" * n)
        if kind == "spam_stderr":
            n = args.get("bytes")
            if not isinstance(n, int) or not 0 <= n <= (64 << 20):
                return self.tool_error("spam_stderr: 'bytes' must be 0..64Mi")
            line = b"fake_mcp stderr spam " + b"e" * 58 + b"\n"
            left = n
            while left > 0:
                chunk = line[:left]
                os.write(2, chunk)
                left -= len(chunk)
            return self.text("wrote %d bytes to stderr" % n)
        return self.text(tool["name"])       # own_name

    # ---- notifications out ----
    def emit_list_changed(self, ctx):
        note = {"jsonrpc": "2.0",
                "method": "notifications/tools/list_changed"}
        sent = []
        with self.lock:
            streams = list(self.streams)
            legacy_stdio = (ctx["transport"] == "stdio"
                            and self.stdio_initialized is not None)
        if legacy_stdio:
            self.write_stdout(note)
            sent.append("stdout")
        for s in streams:
            if s.kind == "listen":
                m = copy.deepcopy(note)
                m["params"] = {"_meta": {META_SUB_ID: s.sub_id}}
                if ctx["transport"] == "stdio":
                    self.write_stdout(m)
                else:
                    s.put(m)
                sent.append("listen:%s" % json.dumps(s.sub_id))
            elif s.kind == "get":
                s.put(note)
                sent.append("get:%s" % s.session)
        self.log("list_changed", sent_to=sent, toggled=self.toggled)

    # ---- dispatch ----
    def is_modern_request(self, msg, headers):
        if self.era == "modern":
            return True
        if self.era == "legacy":
            return False
        params = msg.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        if isinstance(meta, dict) and META_VERSION in meta:
            return True
        if headers is not None:
            if msg.get("method") == "initialize":
                return False
            if headers.get("mcp-session-id"):
                return False
            hv = headers.get("mcp-protocol-version")
            return hv is not None and hv not in self.legacy_versions
        return False

    def modern_result(self, result):
        result = dict(result)
        result["resultType"] = "complete"
        meta = dict(result.get("_meta") or {})
        meta[META_SERVER_INFO] = self.server_info
        result["_meta"] = meta
        return result

    def check_modern_meta(self, method, params):
        """Stdio and HTTP: the per-request _meta rules of 2026-07-28."""
        meta = params.get("_meta") if isinstance(params, dict) else None
        version = meta.get(META_VERSION) if isinstance(meta, dict) else None
        if method == "initialize" and version is None:
            raise RpcError(METHOD_NOT_FOUND,
                           "initialize is not supported: this server speaks "
                           "the stateless protocol versions %s"
                           % ", ".join(self.modern_versions),
                           {"supported": self.modern_versions}, status=404)
        if not isinstance(version, str):
            raise RpcError(INVALID_PARAMS,
                           "missing _meta[\"%s\"]" % META_VERSION)
        if version not in self.modern_versions:
            raise RpcError(UNSUPPORTED_PROTOCOL_VERSION,
                           "Unsupported protocol version",
                           {"supported": self.modern_versions,
                            "requested": version}, status=400)
        if not isinstance(meta.get(META_CAPS), dict):
            raise RpcError(INVALID_PARAMS,
                           "missing _meta[\"%s\"]" % META_CAPS)

    def handle_modern(self, msg, call, ctx):
        method = msg.get("method")
        params = msg.get("params") if isinstance(msg.get("params"),
                                                 dict) else {}
        self.check_modern_meta(method, params)
        if method == "server/discover":
            return self.modern_result({
                "supportedVersions": self.modern_versions,
                "capabilities": {"tools": {"listChanged": True}},
                "instructions": self.instructions,
                "ttlMs": 0, "cacheScope": "public"})
        if method == "tools/list":
            return self.modern_result(self.list_tools(params, True))
        if method == "tools/call":
            r = self.call_tool(params, call, ctx)
            return None if r is None else self.modern_result(r)
        if method == "subscriptions/listen":
            return self.listen(msg, params, call, ctx)
        raise RpcError(METHOD_NOT_FOUND, "Method not found: %s" % method,
                       status=404)

    def listen(self, msg, params, call, ctx):
        wanted = params.get("notifications")
        if not isinstance(wanted, dict):
            raise RpcError(INVALID_PARAMS,
                           "subscriptions/listen: notifications missing")
        agreed = {}
        if wanted.get("toolsListChanged") is True:
            agreed["toolsListChanged"] = True
        stream = Stream("listen", sub_id=msg.get("id"))
        ack = {"jsonrpc": "2.0",
               "method": "notifications/subscriptions/acknowledged",
               "params": {"_meta": {META_SUB_ID: msg.get("id")},
                          "notifications": agreed}}
        # Registered before the acknowledgement goes out, so a client that
        # acts on the acknowledgement cannot miss a notification.
        if agreed:
            with self.lock:
                self.streams.append(stream)
        call.notify(ack)
        ctx["stream"] = stream
        try:
            while not call.wait(0.05):
                if ctx["transport"] == "http":
                    m = stream.get(0)
                    while m is not None:
                        call.notify(m)
                        m = stream.get(0)
        finally:
            with self.lock:
                if stream in self.streams:
                    self.streams.remove(stream)
        return None

    def handle_legacy(self, msg, call, ctx):
        method = msg.get("method")
        params = msg.get("params") if isinstance(msg.get("params"),
                                                 dict) else {}
        if method == "initialize":
            asked = params.get("protocolVersion")
            version = (asked if asked in self.legacy_versions
                       else self.legacy_versions[0])
            ctx["negotiated"] = version
            return {"protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": True}},
                    "serverInfo": self.server_info,
                    "instructions": self.instructions}
        initialized = (ctx.get("session") is not None
                       if ctx["transport"] == "http"
                       else self.stdio_initialized is not None)
        known = ("ping", "tools/list", "tools/call")
        if method == "ping":             # allowed before initialize too
            return {}
        if not initialized:
            if method == "server/discover":
                if self.discover_reply == "silent":
                    return None
                if self.discover_reply == "invalid_params":
                    raise RpcError(INVALID_PARAMS,
                                   "Invalid params (not initialized)")
                raise RpcError(METHOD_NOT_FOUND, "Method not found")
            if method not in known:
                raise RpcError(METHOD_NOT_FOUND, "Method not found")
            raise RpcError(INVALID_REQUEST, "Server not initialized")
        if method == "tools/list":
            return self.list_tools(params, False)
        if method == "tools/call":
            return self.call_tool(params, call, ctx)
        raise RpcError(METHOD_NOT_FOUND, "Method not found")

    def cancel(self, key, rid, reason, via):
        with self.lock:
            call = self.pending.get(key)
        self.log("cancel", request_id=rid, reason=reason, via=via,
                 pending=call is not None)
        if call is not None:
            call.cancel_via = via
            call.cancelled.set()

    def count_request(self):
        with self.lock:
            self.requests_seen += 1
            return self.requests_seen

    def maybe_exit_after(self, n):
        limit = self.args.exit_after_requests
        if limit and n >= limit:
            self.log("exit", reason="exit-after-requests", requests=n)
            os._exit(0)


# ---------------------------------------------------------------- stdio

def run_stdio(srv):
    out_lock = threading.Lock()

    def write(msg):
        data = (json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
                + "\n").encode()
        with out_lock:
            try:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            except (BrokenPipeError, ValueError):
                srv.log("exit", reason="stdout closed")
                os._exit(0)

    srv.write_stdout = write
    ctx_base = {"transport": "stdio"}

    def handle(msg):
        rid = msg.get("id")
        method = msg.get("method")
        key = json.dumps(rid)
        call = Call(rid, write)
        ctx = dict(ctx_base)
        with srv.lock:
            srv.pending[key] = call
        try:
            if srv.is_modern_request(msg, None):
                result = srv.handle_modern(msg, call, ctx)
            else:
                result = srv.handle_legacy(msg, call, ctx)
                if method == "initialize":
                    srv.stdio_initialized = ctx["negotiated"]
            reply = (None if result is None else
                     {"jsonrpc": "2.0", "id": rid, "result": result})
        except RpcError as e:
            reply = e.body(rid)
        finally:
            with srv.lock:
                srv.pending.pop(key, None)
        if srv.frozen:
            srv.log("reply_dropped", id=rid, why="frozen")
            return
        if reply is None:
            srv.log("reply_dropped", id=rid, why=call.cancel_via
                    or "no reply")
            return
        write(reply)
        srv.log("response", id=rid, method=method,
                error=reply.get("error"))
        srv.maybe_exit_after(n_of[key])

    n_of = {}
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            srv.log("exit", reason="stdin EOF")
            if srv.args.ignore_eof:
                while True:
                    time.sleep(3600)
            os._exit(0)
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
            if not isinstance(msg, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as e:
            srv.log("parse_error", line=line[:200].decode("utf-8", "replace"),
                    error=str(e))
            write({"jsonrpc": "2.0", "id": None,
                   "error": {"code": PARSE_ERROR, "message": "Parse error"}})
            continue
        method = msg.get("method")
        if "id" not in msg:
            params = msg.get("params") or {}
            srv.log("notification", method=method, params=params)
            if method == "notifications/cancelled":
                srv.cancel(json.dumps(params.get("requestId")),
                           params.get("requestId"), params.get("reason"),
                           "notification")
            elif method == "notifications/initialized":
                pass
            continue
        if method is None:
            srv.log("response_from_client", msg=msg)
            continue
        n = srv.count_request()
        srv.log("request", method=method, id=msg.get("id"),
                params=msg.get("params"), n=n)
        if srv.frozen:
            srv.log("reply_dropped", id=msg.get("id"), why="frozen")
            continue
        n_of[json.dumps(msg.get("id"))] = n
        if method in ("tools/call", "subscriptions/listen"):
            threading.Thread(target=handle, args=(msg,), daemon=True).start()
        else:
            handle(msg)


# ---------------------------------------------------------------- HTTP

def b64_sentinel_decode(value):
    if value.startswith("=?base64?") and value.endswith("?="):
        try:
            return base64.b64decode(value[9:-2], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    return value


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake_mcp/1.0"
    srv = None                               # FakeMcp, set by run_http

    def log_message(self, fmt, *args):       # quiet: use the event log
        pass

    # ---- helpers ----
    def lower_headers(self):
        return {k.lower(): v for k, v in self.headers.items()}

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_empty(self, status, extra=None):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def start_sse(self, extra=None):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.sse_open = True

    def sse_raw(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def sse_preamble(self, era):
        """Legacy: a priming event (an id, empty data), as the SDK sends
        with an event store (2025-11-25); modern: a comment line, which
        2026-07-28 suggests as keep-alive. Clients must skip both."""
        if era == "legacy":
            self.sse_raw("id: %s\ndata: \n\n" % uuid.uuid4().hex)
        else:
            self.sse_raw(":\n\n")

    def sse_event(self, msg):
        self.sse_raw("event: message\ndata: %s\n\n"
                     % json.dumps(msg, ensure_ascii=False))

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def peer_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def log_http(self, status, **kw):
        self.srv.log("http", http_method=self.command, path=self.path,
                     status=status, **kw)

    def check_common(self, hdrs, need_post_accept):
        origin = hdrs.get("origin")
        if origin is not None and not (
                origin.startswith("http://127.0.0.1")
                or origin.startswith("http://localhost")):
            self.log_http(403, why="origin")
            self.send_json(403, {"jsonrpc": "2.0", "error": {
                "code": -32000, "message": "Forbidden: invalid Origin"}})
            return False
        for name, value in self.srv.require_headers.items():
            if hdrs.get(name.lower()) != value:
                self.log_http(401, why="require_headers", header=name)
                self.send_json(401, {"jsonrpc": "2.0", "error": {
                    "code": -32000, "message": "Unauthorized"}},
                    {"WWW-Authenticate": 'Bearer realm="fake_mcp"'})
                return False
        if need_post_accept:
            accept = hdrs.get("accept", "")
            if ("application/json" not in accept
                    or "text/event-stream" not in accept):
                self.log_http(406, why="accept")
                self.send_json(406, {"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32000, "message": "Not Acceptable: Accept must "
                    "list application/json and text/event-stream"}})
                return False
        return True

    # ---- control ----
    def control(self):
        srv = self.srv
        if self.command == "POST" and self.path == "/__fake/expire-sessions":
            with srv.lock:
                gone = list(srv.sessions)
                for sid in gone:
                    for s in srv.sessions[sid]["streams"]:
                        s.close()
                srv.sessions.clear()
            srv.log("sessions_expired", sessions=gone)
            self.send_json(200, {"expired": gone})
            return
        if self.command == "GET" and self.path == "/__fake/state":
            with srv.lock:
                state = {"sessions": list(srv.sessions),
                         "pending": list(srv.pending),
                         "tools": [t["name"] for t in srv.tool_list()],
                         "requests": srv.requests_seen,
                         "streams": len(srv.streams)}
            self.send_json(200, state)
            return
        self.send_json(404, {"error": "unknown control path"})

    # ---- verbs ----
    def do_GET(self):
        if self.path.startswith("/__fake/"):
            return self.control()
        srv = self.srv
        hdrs = self.lower_headers()
        srv.log("http", http_method="GET", path=self.path, headers=hdrs)
        if self.path.split("?")[0] != "/mcp":
            return self.send_json(404, {"error": "not found"})
        sid = hdrs.get("mcp-session-id")
        if srv.era == "modern" or (srv.era == "dual" and not sid):
            self.log_http(405)
            return self.send_empty(405, {"Allow": "POST"})
        if not self.check_common(hdrs, False):
            return
        if "text/event-stream" not in hdrs.get("accept", ""):
            self.log_http(406)
            return self.send_empty(406)
        if not sid:
            self.log_http(400, why="no session")
            return self.send_json(400, {"jsonrpc": "2.0", "id": None,
                                        "error": {"code": -32000,
                                                  "message": "Bad Request: "
                                                  "Mcp-Session-Id required"}})
        with srv.lock:
            session = srv.sessions.get(sid)
            if session is not None:
                stream = Stream("get", session=sid)
                session["streams"].append(stream)
                srv.streams.append(stream)
        if session is None:
            self.log_http(404, why="unknown session")
            return self.send_json(404, {"jsonrpc": "2.0", "id": None,
                                        "error": {"code": -32001,
                                                  "message": "Session not "
                                                  "found"}})
        self.close_connection = True
        self.start_sse({"Mcp-Session-Id": sid})
        srv.log("get_stream_open", session=sid)
        try:
            while not stream.closed and not self.peer_gone():
                m = stream.get(0.05)
                if m is not None:
                    self.sse_event(m)
            if stream.closed:
                self.end_sse()
        except OSError:
            pass
        finally:
            with srv.lock:
                if stream in srv.streams:
                    srv.streams.remove(stream)
                if session and stream in session["streams"]:
                    session["streams"].remove(stream)
            srv.log("get_stream_closed", session=sid)

    def do_DELETE(self):
        srv = self.srv
        hdrs = self.lower_headers()
        srv.log("http", http_method="DELETE", path=self.path, headers=hdrs)
        sid = hdrs.get("mcp-session-id")
        if srv.era == "modern" or (srv.era == "dual" and not sid):
            self.log_http(405)
            return self.send_empty(405, {"Allow": "POST"})
        if not self.check_common(hdrs, False):
            return
        with srv.lock:
            session = srv.sessions.pop(sid, None) if sid else None
        if session is None:
            self.log_http(404 if sid else 400)
            return self.send_empty(404 if sid else 400)
        for s in session["streams"]:
            s.close()
        srv.log("session_deleted", session=sid)
        self.send_empty(200)

    def do_POST(self):
        if self.path.startswith("/__fake/"):
            return self.control()
        srv = self.srv
        hdrs = self.lower_headers()
        if self.path.split("?")[0] != "/mcp":
            srv.log("http", http_method="POST", path=self.path, headers=hdrs,
                    status=404)
            return self.send_json(404, {"error": "not found"})
        try:
            length = int(hdrs.get("content-length", "-1"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            srv.log("http", http_method="POST", path=self.path, headers=hdrs,
                    status=413 if length > MAX_BODY else 411)
            self.close_connection = True
            return self.send_empty(413 if length > MAX_BODY else 411)
        raw = self.rfile.read(length)
        if not self.check_common(hdrs, True):
            srv.log("http", http_method="POST", path=self.path, headers=hdrs,
                    body=raw.decode("utf-8", "replace"))
            return
        if not hdrs.get("content-type", "").startswith("application/json"):
            srv.log("http", http_method="POST", path=self.path, headers=hdrs,
                    status=415)
            return self.send_empty(415)
        try:
            msg = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            srv.log("parse_error", headers=hdrs,
                    body=raw[:200].decode("utf-8", "replace"))
            return self.send_json(400, {"jsonrpc": "2.0", "id": None,
                                        "error": {"code": PARSE_ERROR,
                                                  "message": "Parse error"}})
        if not isinstance(msg, dict):
            srv.log("http", http_method="POST", headers=hdrs, status=400,
                    why="batch or non-object body")
            return self.send_json(400, {"jsonrpc": "2.0", "id": None,
                                        "error": {"code": INVALID_REQUEST,
                                                  "message": "Invalid "
                                                  "Request: one JSON-RPC "
                                                  "object per POST"}})
        method = msg.get("method")
        is_request = "id" in msg and method is not None
        modern = srv.is_modern_request(msg, hdrs)
        if not is_request:
            srv.log("notification" if method else "response_from_client",
                    method=method, params=msg.get("params"), headers=hdrs,
                    era="modern" if modern else "legacy")
            return self.post_notification(msg, hdrs, modern)
        n = srv.count_request()
        srv.log("request", method=method, id=msg.get("id"),
                params=msg.get("params"), headers=hdrs, n=n,
                era="modern" if modern else "legacy")
        if srv.frozen:
            srv.log("reply_dropped", id=msg.get("id"), why="frozen")
            self.close_connection = True
            while not self.peer_gone():
                time.sleep(0.05)
            return
        if modern:
            self.post_modern(msg, hdrs)
        else:
            self.post_legacy(msg, hdrs)
        srv.maybe_exit_after(n)

    def post_notification(self, msg, hdrs, modern):
        srv = self.srv
        params = msg.get("params") or {}
        if not modern:
            sid = hdrs.get("mcp-session-id")
            if sid is None:
                return self.send_json(400, {"jsonrpc": "2.0", "error": {
                    "code": -32000,
                    "message": "Bad Request: Mcp-Session-Id required"}})
            with srv.lock:
                known = sid in srv.sessions
            if not known:
                return self.send_json(404, {"jsonrpc": "2.0", "error": {
                    "code": -32001, "message": "Session not found"}})
            if msg.get("method") == "notifications/cancelled":
                srv.cancel((sid, json.dumps(params.get("requestId"))),
                           params.get("requestId"), params.get("reason"),
                           "notification")
        elif msg.get("method") == "notifications/cancelled":
            srv.cancel(("modern", json.dumps(params.get("requestId"))),
                       params.get("requestId"), params.get("reason"),
                       "notification")
        self.send_empty(202)

    def header_checks(self, msg, hdrs):
        """The 2026-07-28 Server Validation rules (400 -32020)."""
        params = msg.get("params") if isinstance(msg.get("params"),
                                                 dict) else {}
        meta = params.get("_meta") if isinstance(params.get("_meta"),
                                                 dict) else {}
        hv = hdrs.get("mcp-protocol-version")
        if hv is None:
            raise RpcError(HEADER_MISMATCH, "Header mismatch: "
                           "MCP-Protocol-Version header missing", status=400)
        bv = meta.get(META_VERSION)
        if bv is not None and hv != bv:
            raise RpcError(HEADER_MISMATCH, "Header mismatch: "
                           "MCP-Protocol-Version header value '%s' does not "
                           "match body value '%s'" % (hv, bv), status=400)
        mh = hdrs.get("mcp-method")
        if mh is None:
            raise RpcError(HEADER_MISMATCH, "Header mismatch: Mcp-Method "
                           "header missing", status=400)
        if mh != msg.get("method"):
            raise RpcError(HEADER_MISMATCH, "Header mismatch: Mcp-Method "
                           "header value '%s' does not match body value "
                           "'%s'" % (mh, msg.get("method")), status=400)
        field = {"tools/call": "name", "prompts/get": "name",
                 "resources/read": "uri"}.get(msg.get("method"))
        if field is not None:
            nh = hdrs.get("mcp-name")
            if nh is None:
                raise RpcError(HEADER_MISMATCH, "Header mismatch: Mcp-Name "
                               "header missing", status=400)
            decoded = b64_sentinel_decode(nh)
            if decoded is None or decoded != params.get(field):
                raise RpcError(HEADER_MISMATCH, "Header mismatch: Mcp-Name "
                               "header value '%s' does not match body value "
                               "'%s'" % (nh, params.get(field)), status=400)
        if msg.get("method") == "tools/call":
            self.param_header_checks(params, hdrs)
        if bv is None and msg.get("method") != "initialize":
            raise RpcError(HEADER_MISMATCH, "Header mismatch: body has no "
                           "_meta[\"%s\"] to match MCP-Protocol-Version"
                           % META_VERSION, status=400)

    def param_header_checks(self, params, hdrs):
        """Mcp-Param-{Name} headers of x-mcp-header parameters: present when
        the argument is, equal to it after Base64-sentinel decoding
        (integers compared numerically), else 400 -32020."""
        tool = self.srv.find_tool(params.get("name"))
        if tool is None:
            return
        args = params.get("arguments")
        for path, name, typ in header_params(tool.get("inputSchema")):
            value = args
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            header = hdrs.get("mcp-param-" + name.lower())
            if value is None:
                continue
            label = "Mcp-Param-" + name
            if header is None:
                raise RpcError(HEADER_MISMATCH, "Header mismatch: %s header "
                               "missing" % label, status=400)
            if any(not (c == "\t" or 0x20 <= ord(c) <= 0x7E)
                   for c in header):
                raise RpcError(HEADER_MISMATCH, "Header mismatch: %s has "
                               "invalid characters" % label, status=400)
            decoded = b64_sentinel_decode(header)
            if typ == "boolean":
                ok = decoded == ("true" if value is True else "false")
            elif typ == "integer":
                try:
                    ok = float(decoded) == value
                except (TypeError, ValueError):
                    ok = False
            else:
                ok = decoded == value
            if not ok:
                raise RpcError(HEADER_MISMATCH, "Header mismatch: %s header "
                               "value '%s' does not match body value %s"
                               % (label, header, json.dumps(value)),
                               status=400)

    def run_call(self, msg, key, ctx, handler, extra):
        """Runs handler on this thread, streaming SSE or answering JSON;
        a closed connection or notifications/cancelled cancels it."""
        srv = self.srv
        rid = msg.get("id")
        use_sse = srv.http_reply == "sse" or msg.get("method") == \
            "subscriptions/listen"
        self.sse_open = False
        notify_lock = threading.Lock()

        def notify(m):
            with notify_lock:
                if not use_sse:
                    srv.log("notification_dropped", reason="json reply mode",
                            msg=m)
                    return
                try:
                    if not self.sse_open:
                        self.start_sse(extra)
                        self.sse_preamble(ctx["era"])
                    self.sse_event(m)
                except OSError:
                    call.cancelled.set()

        call = Call(rid, notify, self.peer_gone)
        call.on_disconnect = lambda r: srv.log(
            "cancel", request_id=r, reason="client closed the connection",
            via="disconnect", pending=True)
        with srv.lock:
            srv.pending[key] = call
        status = 200
        try:
            result = handler(msg, call, ctx)
            body = (None if result is None else
                    {"jsonrpc": "2.0", "id": rid, "result": result})
        except RpcError as e:
            body, status = e.body(rid), e.status
        finally:
            with srv.lock:
                srv.pending.pop(key, None)
        if ctx.get("mint_session"):
            sid = uuid.uuid4().hex
            with srv.lock:
                srv.sessions[sid] = {"version": ctx["negotiated"],
                                     "streams": []}
            extra = dict(extra, **{"Mcp-Session-Id": sid})
            srv.log("session_minted", session=sid,
                    version=ctx["negotiated"])
        try:
            if body is None:
                srv.log("reply_dropped", id=rid,
                        why=call.cancel_via or "no reply")
                self.close_connection = True
                if self.sse_open:
                    self.end_sse()
                return
            if self.sse_open:
                with notify_lock:
                    self.sse_event(body)
                    self.end_sse()
            elif use_sse and status == 200:
                self.start_sse(extra)
                self.sse_preamble(ctx["era"])
                self.sse_event(body)
                self.end_sse()
            else:
                self.send_json(status, body, extra)
            srv.log("response", id=rid, method=msg.get("method"),
                    status=status, error=body.get("error"),
                    sse=self.sse_open or (use_sse and status == 200))
        except OSError as e:
            srv.log("write_failed", id=rid, error=str(e))
            self.close_connection = True

    def post_modern(self, msg, hdrs):
        srv = self.srv
        try:
            self.header_checks(msg, hdrs)
        except RpcError as e:
            if msg.get("method") == "initialize":
                e.message += (" (initialize is not supported: this server "
                              "speaks only protocol versions %s)"
                              % ", ".join(srv.modern_versions))
                e.data = {"supported": srv.modern_versions}
            srv.log("response", id=msg.get("id"), method=msg.get("method"),
                    status=e.status, error=e.body(None)["error"])
            return self.send_json(e.status, e.body(msg.get("id")))
        ctx = {"transport": "http", "era": "modern"}
        key = ("modern", json.dumps(msg.get("id")))
        self.run_call(msg, key, ctx, srv.handle_modern, {})

    def post_legacy(self, msg, hdrs):
        srv = self.srv
        rid = msg.get("id")
        sid = hdrs.get("mcp-session-id")
        ctx = {"transport": "http", "era": "legacy"}
        extra = {}
        if msg.get("method") == "initialize":
            ctx["mint_session"] = True
        else:
            if not sid:
                srv.log("response", id=rid, status=400, why="no session")
                return self.send_json(400, {
                    "jsonrpc": "2.0", "id": rid, "error": {
                        "code": -32000, "message":
                        "Bad Request: Mcp-Session-Id header is required"}})
            with srv.lock:
                session = srv.sessions.get(sid)
            if session is None:
                srv.log("response", id=rid, status=404,
                        why="unknown session")
                return self.send_json(404, {
                    "jsonrpc": "2.0", "id": rid, "error": {
                        "code": -32001, "message": "Session not found"}})
            hv = hdrs.get("mcp-protocol-version")
            if hv is not None and hv not in srv.legacy_versions:
                srv.log("response", id=rid, status=400,
                        why="bad MCP-Protocol-Version")
                return self.send_json(400, {
                    "jsonrpc": "2.0", "id": rid, "error": {
                        "code": -32000, "message":
                        "Bad Request: Unsupported protocol version: %s "
                        "(supported versions: %s)"
                        % (hv, ", ".join(srv.legacy_versions))}})
            ctx["session"] = sid
            extra["Mcp-Session-Id"] = sid
        key = (sid or "", json.dumps(rid))
        self.run_call(msg, key, ctx, srv.handle_legacy, extra)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def run_http(srv, port):
    handler = type("BoundHandler", (Handler,), {"srv": srv})
    httpd = Server(("127.0.0.1", port), handler)
    actual = httpd.server_address[1]
    srv.log("listening", port=actual)
    print("fake_mcp listening on http://127.0.0.1:%d/mcp" % actual,
          flush=True)
    httpd.serve_forever(poll_interval=0.1)


# ---------------------------------------------------------------- helpers

def read_log(path):
    """The events of a --log file, oldest first (missing file: [])."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="fake_mcp.py",
        description="Scriptable fake MCP server (stdio or Streamable HTTP).")
    p.add_argument("--http", type=int, metavar="PORT",
                   help="serve Streamable HTTP on 127.0.0.1:PORT/mcp "
                   "(0: pick a free port) instead of stdio")
    p.add_argument("--era", choices=("legacy", "modern", "dual"),
                   default="legacy")
    p.add_argument("--scenario", metavar="FILE")
    p.add_argument("--log", metavar="FILE")
    p.add_argument("--page-size", type=int, default=4)
    p.add_argument("--http-reply", choices=("sse", "json"), default="sse")
    p.add_argument("--start-delay-ms", type=int, default=0)
    p.add_argument("--exit-after-requests", type=int, default=0)
    p.add_argument("--crash-on-start", action="store_true")
    p.add_argument("--ignore-eof", action="store_true",
                   help="keep running when stdin closes")
    p.add_argument("--ignore-sigterm", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    scenario = {}
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as f:
            scenario = json.load(f)
    srv = FakeMcp(args, scenario)
    transport = "http" if args.http is not None else "stdio"
    srv.log("start", era=args.era, transport=transport, argv=sys.argv[1:],
            ppid=os.getppid(), pgid=os.getpgid(0))

    def on_term(signum, _frame):
        if args.ignore_sigterm:
            srv.log("signal", signal=signum, ignored=True)
            return
        srv.log("exit", reason="signal %d" % signum)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    if args.crash_on_start:
        sys.stderr.write("fake_mcp: crashing on start (--crash-on-start)\n")
        sys.stderr.flush()
        srv.log("exit", reason="crash-on-start")
        os._exit(1)
    for line in scenario.get("stderr_lines", [
            "fake_mcp: starting pid=%d era=%s transport=%s"
            % (os.getpid(), args.era, transport),
            "fake_mcp: this line goes to stderr (debug log test)"]):
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    if args.start_delay_ms > 0:
        time.sleep(args.start_delay_ms / 1000.0)
    if transport == "http":
        run_http(srv, args.http)
    else:
        run_stdio(srv)


if __name__ == "__main__":
    main()
