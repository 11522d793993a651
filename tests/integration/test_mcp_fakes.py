"""Fidelity of the MCP test servers (tests/fakes/fake_mcp.py and the pinned
reference server @modelcontextprotocol/server-everything):

- the official MCP TypeScript SDK client (tests/fakes/js/mcp_oracle.mjs)
  against fake_mcp.py in the legacy era over stdio and Streamable HTTP, and
  against server-everything started exactly as tests/fakes/mcp_servers.py
  documents (skipped when tests/fakes/js/node_modules is missing);
- the modern (2026-07-28) and dual-era behaviour of fake_mcp.py checked with
  raw JSON-RPC against the 2026-07-28 specification (basic/versioning.mdx,
  server/discover.mdx, basic/transports/stdio.mdx and streamable-http.mdx,
  basic/patterns/cancellation.mdx, schema/2026-07-28/schema.ts);
- the failure switches the MCP client's tests rely on (crash on start, slow
  start, exit after N requests, die mid-call, expired sessions).
Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider
     tests/integration/test_mcp_fakes.py
"""

import base64
import http.client
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import fake_mcp  # noqa: E402
import mcp_servers as ms  # noqa: E402

MODERN = "2026-07-28"
META_V = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
SPEC_REPO = "/work/.mirror/modelcontextprotocol+modelcontextprotocol/repo"


def meta(version=MODERN):
    return {META_V: version, META_CAPS: {},
            "io.modelcontextprotocol/clientInfo": {"name": "pytest",
                                                   "version": "0"}}


@pytest.fixture
def log_path():
    fd, path = tempfile.mkstemp(prefix="fake-mcp-", suffix=".jsonl")
    os.close(fd)
    yield path
    os.unlink(path)


def need_sdk():
    if ms.node() is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(ms.NODE_MODULES, "@modelcontextprotocol",
                                      "sdk")):
        pytest.skip("MCP SDK not installed (tests/fakes/js/node_modules "
                    "missing): run `cd tests/fakes/js && npm ci`")


def failed_checks(out):
    return [c for c in out.get("checks", []) if not c["ok"]] or out


# ------------------------------------------------------------ raw clients

class StdioPeer:
    """fake_mcp.py over stdio, spoken to line by line."""

    def __init__(self, *args, log=None):
        argv = ms.fake_mcp_argv(*args)
        if log:
            argv += ["--log", log]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = b""

    def send(self, msg):
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()

    def recv(self, timeout=5.0):
        """The next message, or None at the deadline / EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, rid, method, params=None, timeout=5.0):
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            m = self.recv(timeout)
            if m is None or m.get("id") == rid:
                return m

    def close(self):
        ms.stop(self.proc)


@pytest.fixture
def stdio_peer():
    peers = []

    def start(*args, log=None):
        p = StdioPeer(*args, log=log)
        peers.append(p)
        return p
    yield start
    for p in peers:
        p.close()


def post(url, body, headers=None, timeout=10):
    """POST JSON to url; returns (status, headers dict, parsed body or the
    JSON-RPC messages of an SSE reply, as a list)."""
    u = url.split("//", 1)[1]
    hostport, path = u.split("/", 1)
    host, port = hostport.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    h = {"Content-Type": "application/json",
         "Accept": "application/json, text/event-stream"}
    h.update(headers or {})
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        conn.request("POST", "/" + path, data, h)
        resp = conn.getresponse()
        raw = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()    # on a timeout too: that is how a client cancels
    ctype = hdrs.get("content-type", "")
    if ctype.startswith("text/event-stream"):
        msgs = []
        for event in raw.decode().split("\n\n"):
            data = [ln[5:].lstrip() for ln in event.split("\n")
                    if ln.startswith("data:")]
            if data and "".join(data):
                msgs.append(json.loads("\n".join(data)))
        return resp.status, hdrs, msgs
    if ctype.startswith("application/json") and raw:
        return resp.status, hdrs, json.loads(raw)
    return resp.status, hdrs, raw


def one(body):
    """The JSON-RPC response of a post() result (JSON or SSE)."""
    if isinstance(body, list):
        replies = [m for m in body if "id" in m]
        assert len(replies) == 1, body
        return replies[0]
    return body


def modern_headers(method, name=None, version=MODERN):
    h = {"MCP-Protocol-Version": version, "Mcp-Method": method}
    if name is not None:
        h["Mcp-Name"] = name
    return h


def rpc(rid, method, params=None):
    m = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        m["params"] = params
    return m


# ------------------------------------------------------------ SDK oracle

@pytest.mark.parametrize("era", ["legacy", "dual"])
def test_sdk_client_against_fake_stdio(log_path, era):
    """The SDK speaks 2025-11-25: a legacy client, which a dual-era server
    must serve too (versioning.mdx, Compatibility Matrix)."""
    need_sdk()
    code, out, err = ms.run_oracle(
        "--kind", "fake", "--stdio",
        json.dumps(ms.fake_mcp_argv("--era", era, "--log", log_path)))
    assert code == 0, (failed_checks(out), err)
    assert out["pages"] > 1
    assert out["stderr"][0].startswith("fake_mcp: starting")
    events = ms.read_log(log_path)
    init = [e for e in events if e["event"] == "request"
            and e["method"] == "initialize"]
    assert init and init[0]["params"]["protocolVersion"] == "2025-11-25"
    assert any(e["event"] == "notification"
               and e["method"] == "notifications/initialized"
               for e in events)
    cancels = [e for e in events if e["event"] == "cancel"]
    assert cancels and cancels[0]["via"] == "notification" \
        and cancels[0]["pending"]
    assert any(e["event"] == "reply_dropped" for e in events)
    assert any(e["event"] == "list_changed" and e["sent_to"] == ["stdout"]
               for e in events)


@pytest.mark.parametrize("era,reply", [("legacy", "sse"), ("legacy", "json"),
                                       ("dual", "sse")])
def test_sdk_client_against_fake_http(log_path, era, reply):
    need_sdk()
    with ms.start_fake_http("--era", era, "--http-reply", reply,
                            log_path=log_path) as srv:
        code, out, err = ms.run_oracle("--kind", "fake", "--http", srv.url,
                                       "--state", srv.base + "/__fake/state")
    assert code == 0, (failed_checks(out), err)
    assert out["protocolVersion"] == "2025-11-25"
    sid = out["sessionId"]
    events = ms.read_log(log_path)
    minted = [e for e in events if e["event"] == "session_minted"]
    assert [e["session"] for e in minted] == [sid]
    later = [e for e in events if e["event"] == "request"
             and e["method"] != "initialize"]
    assert later and all(e["headers"].get("mcp-session-id") == sid
                         and e["headers"].get("mcp-protocol-version")
                         == "2025-11-25" for e in later)
    assert any(e["event"] == "cancel" and e["via"] == "notification"
               for e in events)
    assert any(e["event"] == "list_changed" and e["sent_to"]
               == ["get:%s" % sid] for e in events)
    assert any(e["event"] == "session_deleted" for e in events)


def test_sdk_client_against_everything_stdio():
    need_sdk()
    why = ms.everything_missing()
    if why:
        pytest.skip(why)
    code, out, err = ms.run_oracle(
        "--kind", "everything", "--stdio",
        json.dumps(ms.everything_stdio_argv()))
    assert code == 0, (failed_checks(out), err)
    assert out["tools"] == ms.EVERYTHING_TOOLS
    assert out["pages"] == 1
    assert out["stderr"] == ["Starting default (STDIO) server..."]


def test_sdk_client_against_everything_http():
    need_sdk()
    why = ms.everything_missing()
    if why:
        pytest.skip(why)
    with ms.start_everything_http() as srv:
        code, out, err = ms.run_oracle("--kind", "everything",
                                       "--http", srv.url)
    assert code == 0, (failed_checks(out), err)
    assert out["protocolVersion"] == "2025-11-25"
    assert out["tools"] == ms.EVERYTHING_TOOLS


def test_everything_version_answers_as_documented():
    """What MCP_NOTES.md says server-everything answers to initialize and
    server/discover over stdio."""
    why = ms.everything_missing()
    if why:
        pytest.skip(why)
    for asked, got in (("2025-06-18", "2025-06-18"),
                       ("2025-11-25", "2025-11-25"), (MODERN, "2025-11-25")):
        p = subprocess.Popen(ms.everything_stdio_argv(),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        peer = StdioPeer.__new__(StdioPeer)
        peer.proc, peer.buf = p, b""
        try:
            d = peer.request(0, "server/discover", {"_meta": meta()},
                             timeout=15)
            assert d["error"]["code"] == -32601
            r = peer.request(1, "initialize", {
                "protocolVersion": asked, "capabilities": {},
                "clientInfo": {"name": "pytest", "version": "0"}})
            assert r["result"]["protocolVersion"] == got
        finally:
            peer.close()


# ------------------------------------------------------------ modern, stdio

def test_modern_stdio_discover_and_version_errors(stdio_peer, log_path):
    p = stdio_peer("--era", "modern", log=log_path)
    d = p.request(1, "server/discover", {"_meta": meta()})["result"]
    # server/discover.mdx: DiscoverResult; schema.ts: CacheableResult and
    # Result.resultType are required; serverInfo SHOULD be in _meta.
    assert d["supportedVersions"] == [MODERN]
    assert d["resultType"] == "complete"
    assert isinstance(d["capabilities"], dict)
    assert isinstance(d["ttlMs"], int) and d["cacheScope"] in ("public",
                                                              "private")
    assert d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"]
    # versioning.mdx: unsupported version -> -32022 with supported/requested
    e = p.request(2, "tools/list", {"_meta": meta("1900-01-01")})["error"]
    assert e["code"] == -32022
    assert e["data"] == {"supported": [MODERN], "requested": "1900-01-01"}
    # no initialize in a modern-only server; the error names the versions
    e = p.request(3, "initialize", {"protocolVersion": "2025-11-25",
                                    "capabilities": {},
                                    "clientInfo": {"name": "x",
                                                   "version": "0"}})["error"]
    assert e["code"] == -32601 and MODERN in e["message"]
    # ping is removed in 2026-07-28 (changelog)
    assert p.request(4, "ping", {"_meta": meta()})["error"]["code"] == -32601
    # the protocol version is required on every request
    assert p.request(5, "tools/list", {})["error"]["code"] == -32602


def test_modern_stdio_tools_results_and_pagination(stdio_peer):
    p = stdio_peer("--era", "modern", "--page-size", "5")
    names, cursor, pages = [], None, 0
    while True:
        params = {"_meta": meta()}
        if cursor:
            params["cursor"] = cursor
        r = p.request(10 + pages, "tools/list", params)["result"]
        pages += 1
        assert r["resultType"] == "complete"
        assert "ttlMs" in r and "cacheScope" in r
        names += [t["name"] for t in r["tools"]]
        cursor = r.get("nextCursor")
        if not cursor:
            break
    assert pages == 4 and len(names) == 20
    assert "echo" in names and fake_mcp.LONG_NAME in names
    assert "routed" in names and "bad_header_tool" in names
    bad = p.request(30, "tools/list", {"_meta": meta(), "cursor": "nope"})
    assert bad["error"]["code"] == -32602
    r = p.request(31, "tools/call", {"_meta": meta(), "name": "add",
                                     "arguments": {"a": 1, "b": 2}})["result"]
    assert r["resultType"] == "complete" and r["structuredContent"] == {
        "sum": 3}
    r = p.request(32, "tools/call", {"_meta": meta(), "name": "fail",
                                     "arguments": {}})["result"]
    assert r["isError"] is True and r["resultType"] == "complete"
    e = p.request(33, "tools/call", {"_meta": meta(), "name": "nope",
                                     "arguments": {}})["error"]
    assert e["code"] == -32602


def test_modern_stdio_listen_and_cancel(stdio_peer, log_path):
    p = stdio_peer("--era", "modern", log=log_path)
    # subscriptions/listen: acknowledged first, then list_changed, both
    # tagged with the listen request's id (schema.ts).
    p.send(rpc("L1", "subscriptions/listen",
               {"_meta": meta(), "notifications": {"toolsListChanged": True}}))
    ack = p.recv()
    assert ack["method"] == "notifications/subscriptions/acknowledged"
    assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] \
        == "L1"
    r = p.request(2, "tools/call", {"_meta": meta(), "name": "toggle",
                                    "arguments": {}})
    assert r["result"]["content"][0]["text"] == "toggled_tool added"
    # the notification came before the reply; request() skipped it, so
    # check the log and the list instead
    lst = p.request(3, "tools/list", {"_meta": meta()})
    assert lst["result"]["nextCursor"]
    ev = [e for e in ms.read_log(log_path) if e["event"] == "list_changed"]
    assert ev and ev[0]["sent_to"] == ['listen:"L1"']
    # stdio cancellation: notifications/cancelled drops the reply
    p.send(rpc(4, "tools/call", {"_meta": meta(), "name": "slow",
                                 "arguments": {"ms": 3000}}))
    time.sleep(0.2)
    p.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 4, "reason": "test"}})
    assert p.recv(timeout=1.0) is None
    events = ms.read_log(log_path)
    assert any(e["event"] == "cancel" and e["request_id"] == 4
               and e["via"] == "notification" and e["pending"]
               for e in events)


def test_dual_stdio_serves_both_eras(stdio_peer):
    p = stdio_peer("--era", "dual")
    d = p.request(1, "server/discover", {"_meta": meta()})["result"]
    assert d["supportedVersions"] == [MODERN]
    r = p.request(2, "initialize", {"protocolVersion": "2025-06-18",
                                    "capabilities": {},
                                    "clientInfo": {"name": "x",
                                                   "version": "0"}})
    assert r["result"]["protocolVersion"] == "2025-06-18"
    assert "resultType" not in r["result"]
    legacy = p.request(3, "tools/call", {"name": "echo",
                                         "arguments": {"message": "a"}})
    assert legacy["result"] == {"content": [{"type": "text", "text": "a"}]}
    modern = p.request(4, "tools/call", {"_meta": meta(), "name": "echo",
                                         "arguments": {"message": "b"}})
    assert modern["result"]["resultType"] == "complete"


# ------------------------------------------------------------ legacy, stdio

def test_legacy_stdio_handshake_rules(stdio_peer):
    p = stdio_peer("--era", "legacy")
    # stdio.mdx Backward Compatibility: a legacy server answers the modern
    # probe with an error (here -32601) before initialize.
    assert p.request(1, "server/discover", {"_meta": meta()})["error"][
        "code"] == -32601
    assert p.request(2, "tools/list", {})["error"]["code"] == -32600
    r = p.request(3, "initialize", {"protocolVersion": "2024-11-05",
                                    "capabilities": {},
                                    "clientInfo": {"name": "x",
                                                   "version": "0"}})
    assert r["result"]["protocolVersion"] == "2025-11-25"
    r = p.request(4, "tools/list", {})["result"]
    assert len(r["tools"]) == 4 and r["nextCursor"]
    assert "resultType" not in r
    names = []
    for i in range(10):
        names += [t["name"] for t in r["tools"]]
        if not r.get("nextCursor"):
            break
        r = p.request(5 + i, "tools/list", {"cursor": r["nextCursor"]})[
            "result"]
    # x-mcp-header tools exist only in the modern and dual eras
    assert len(names) == 18 and "routed" not in names


@pytest.mark.parametrize("reply,code", [("invalid_params", -32602),
                                        ("silent", None)])
def test_legacy_stdio_discover_reply_variants(stdio_peer, tmp_path, reply,
                                              code):
    sc = tmp_path / "sc.json"
    sc.write_text(json.dumps({"discover_reply": reply}))
    p = stdio_peer("--era", "legacy", "--scenario", str(sc))
    r = p.request(1, "server/discover", {"_meta": meta()}, timeout=1.0)
    if code is None:
        assert r is None
    else:
        assert r["error"]["code"] == code


# ------------------------------------------------------------ modern, HTTP

def test_modern_http_validation(log_path):
    with ms.start_fake_http("--era", "modern", log_path=log_path) as srv:
        u = srv.url
        st, h, body = post(u, rpc(1, "server/discover", {"_meta": meta()}),
                           modern_headers("server/discover"))
        assert st == 200 and h["content-type"] == "text/event-stream"
        assert "mcp-session-id" not in h
        d = one(body)["result"]
        assert d["supportedVersions"] == [MODERN]
        assert d["resultType"] == "complete"
        # Server Validation: missing / mismatched headers -> 400 -32020
        cases = [
            ({"Mcp-Method": "tools/list"}, "tools/list", None),
            (modern_headers("tools/list", version="2025-11-25"),
             "tools/list", None),
            (modern_headers("tools/call"), "tools/list", None),
            (modern_headers("tools/call"), "tools/call", "echo"),
            (modern_headers("tools/call", name="add"), "tools/call", "echo"),
        ]
        for i, (hdrs, method, name) in enumerate(cases):
            params = {"_meta": meta()}
            if name:
                params.update(name=name, arguments={"message": "x"})
            st, h, body = post(u, rpc(10 + i, method, params), hdrs)
            assert st == 400, (i, st, body)
            assert body["error"]["code"] == -32020, (i, body)
            assert body["id"] == 10 + i
        # Mcp-Name in the Base64 sentinel form is decoded before comparing
        enc = "=?base64?%s?=" % base64.b64encode(
            "caf\u00e9".encode()).decode()
        st, _, body = post(u, rpc(20, "tools/call", {
            "_meta": meta(), "name": "caf\u00e9", "arguments": {}}),
            modern_headers("tools/call", name=enc))
        assert st == 200 and one(body)["result"]["content"][0]["text"] == \
            "caf\u00e9"
        # unsupported version -> 400 with the JSON-RPC error body
        st, _, body = post(u, rpc(21, "tools/list",
                                  {"_meta": meta("1900-01-01")}),
                           modern_headers("tools/list", version="1900-01-01"))
        assert st == 400 and body["error"]["code"] == -32022
        assert body["error"]["data"]["supported"] == [MODERN]
        # unknown method -> 404 with -32601
        st, _, body = post(u, rpc(22, "ping", {"_meta": meta()}),
                           modern_headers("ping"))
        assert st == 404 and body["error"]["code"] == -32601
        # a legacy initialize is refused; the error names the versions
        st, _, body = post(u, rpc(23, "initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}))
        assert st == 400 and MODERN in body["error"]["message"]
        # Mcp-Session-Id is ignored, never minted or echoed
        st, h, body = post(u, rpc(24, "tools/call", {
            "_meta": meta(), "name": "echo", "arguments": {"message": "s"}}),
            dict(modern_headers("tools/call", name="echo"),
                 **{"Mcp-Session-Id": "stale"}))
        assert st == 200 and "mcp-session-id" not in h
        assert one(body)["result"]["resultType"] == "complete"
        # GET and DELETE are gone in 2026-07-28 -> 405
        for verb in ("GET", "DELETE"):
            c = http.client.HTTPConnection("127.0.0.1",
                                           int(u.split(":")[2].split("/")[0]))
            c.request(verb, "/mcp", headers={"Accept": "text/event-stream"})
            r = c.getresponse()
            r.read()
            c.close()
            assert r.status == 405, verb
    events = ms.read_log(log_path)
    hdr = [e for e in events if e["event"] == "request" and e["id"] == 24]
    assert hdr[0]["headers"]["mcp-name"] == "echo"


def test_modern_http_param_headers():
    """streamable-http.mdx, Custom Headers from Tool Parameters: the values
    of x-mcp-header parameters must be mirrored into Mcp-Param-{Name}."""
    with ms.start_fake_http("--era", "modern") as srv:
        def call(rid, args, extra):
            h = modern_headers("tools/call", name="routed")
            h.update(extra)
            return post(srv.url, rpc(rid, "tools/call", {
                "_meta": meta(), "name": "routed", "arguments": args}), h)
        region = "eu-west-1"
        full = {"region": region, "shard": 42, "opts": {"dry": False},
                "query": "q"}
        good = {"Mcp-Param-Region": region, "Mcp-Param-Shard": "42.0",
                "Mcp-Param-Dry-Run": "false"}
        st, _, body = call(1, full, good)
        assert st == 200 and one(body)["result"]["structuredContent"] == full
        # absent argument -> no header expected
        st, _, _ = call(2, {"region": region, "query": "q"},
                        {"Mcp-Param-Region": region})
        assert st == 200
        # non-ASCII value in the Base64 sentinel form
        enc = "=?base64?%s?=" % base64.b64encode(
            "région".encode()).decode()
        st, _, _ = call(3, {"region": "région", "query": "q"},
                        {"Mcp-Param-Region": enc})
        assert st == 200
        bad = [dict(good, **{"Mcp-Param-Shard": "43"}),
               {k: v for k, v in good.items() if k != "Mcp-Param-Dry-Run"},
               dict(good, **{"Mcp-Param-Dry-Run": "False"}),
               {k: v for k, v in good.items() if k != "Mcp-Param-Region"}]
        for i, hdrs in enumerate(bad):
            st, _, body = call(10 + i, full, hdrs)
            assert st == 400 and body["error"]["code"] == -32020, (i, body)


def test_modern_http_listen_stream():
    """subscriptions/listen over HTTP: an SSE stream that stays open and
    carries the acknowledgement, then list_changed, both tagged."""
    with ms.start_fake_http("--era", "modern") as srv:
        port = int(srv.url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/mcp", json.dumps(rpc(
            "sub", "subscriptions/listen",
            {"_meta": meta(), "notifications": {"toolsListChanged": True}})),
            dict(modern_headers("subscriptions/listen"),
                 **{"Content-Type": "application/json",
                    "Accept": "application/json, text/event-stream"}))
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "text/event-stream"

        def next_message():
            data = []
            while True:
                line = resp.fp.readline().decode()
                if not line:
                    return None
                line = line.rstrip("\r\n")
                if line.startswith("data:") and line[5:].strip():
                    data.append(line[5:].strip())
                elif line == "" and data:
                    return json.loads("".join(data))
        ack = next_message()
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        st, _, body = post(srv.url, rpc(2, "tools/call", {
            "_meta": meta(), "name": "toggle", "arguments": {}}),
            modern_headers("tools/call", name="toggle"))
        assert st == 200
        note = next_message()
        assert note["method"] == "notifications/tools/list_changed"
        assert note["params"]["_meta"][
            "io.modelcontextprotocol/subscriptionId"] == "sub"
        conn.close()


def test_modern_http_json_reply_and_disconnect_cancels(log_path):
    with ms.start_fake_http("--era", "modern", "--http-reply", "json",
                            log_path=log_path) as srv:
        st, h, body = post(srv.url, rpc(1, "tools/list", {"_meta": meta()}),
                           modern_headers("tools/list"))
        assert st == 200 and h["content-type"] == "application/json"
        assert body["result"]["resultType"] == "complete"
        # streamable-http.mdx Cancellation: closing the response stream
        # cancels the request.
        with pytest.raises((TimeoutError, OSError)):
            post(srv.url, rpc(2, "tools/call", {
                "_meta": meta(), "name": "slow", "arguments": {"ms": 5000}}),
                modern_headers("tools/call", name="slow"), timeout=0.5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(e["event"] == "reply_dropped"
                   for e in ms.read_log(log_path)):
                break
            time.sleep(0.05)
    events = ms.read_log(log_path)
    assert any(e["event"] == "cancel" and e["request_id"] == 2
               and e["via"] == "disconnect" for e in events)
    assert any(e["event"] == "reply_dropped" and e["id"] == 2
               for e in events)


def test_dual_http_sessions_and_stateless(log_path):
    with ms.start_fake_http("--era", "dual", log_path=log_path) as srv:
        st, h, body = post(srv.url, rpc(1, "initialize", {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}))
        assert st == 200
        sid = h["mcp-session-id"]
        assert one(body)["result"]["protocolVersion"] == "2025-06-18"
        st, h, body = post(srv.url, rpc(2, "tools/list", {}),
                           {"Mcp-Session-Id": sid,
                            "MCP-Protocol-Version": "2025-06-18"})
        assert st == 200 and "resultType" not in one(body)["result"]
        st, h, body = post(srv.url, rpc(3, "tools/list", {"_meta": meta()}),
                           modern_headers("tools/list"))
        assert st == 200 and one(body)["result"]["resultType"] == "complete"
        assert "mcp-session-id" not in h


# ------------------------------------------------------------ legacy, HTTP

def test_legacy_http_sessions(log_path):
    with ms.start_fake_http("--era", "legacy", log_path=log_path) as srv:
        init = rpc(1, "initialize", {"protocolVersion": "2025-11-25",
                                     "capabilities": {},
                                     "clientInfo": {"name": "x",
                                                    "version": "0"}})
        st, h, _ = post(srv.url, init)
        sid = h["mcp-session-id"]
        # no session -> 400; unknown session -> 404
        st, _, _ = post(srv.url, rpc(2, "tools/list", {}))
        assert st == 400
        st, _, body = post(srv.url, rpc(3, "tools/list", {}),
                           {"Mcp-Session-Id": "unknown"})
        assert st == 404
        st, _, body = post(srv.url, rpc(4, "tools/list", {}),
                           {"Mcp-Session-Id": sid})
        assert st == 200 and one(body)["result"]["tools"]
        # a session the server forgot -> 404; a new initialize works
        st, _, _ = post(srv.base + "/__fake/expire-sessions", {})
        assert st == 200
        st, _, _ = post(srv.url, rpc(5, "tools/list", {}),
                        {"Mcp-Session-Id": sid})
        assert st == 404
        st, h, _ = post(srv.url, init)
        assert st == 200 and h["mcp-session-id"] != sid
        # Accept must list both types; a wrong version header is refused
        st, _, _ = post(srv.url, init, {"Accept": "application/json"})
        assert st == 406
        st, _, _ = post(srv.url, rpc(6, "tools/list", {}),
                        {"Mcp-Session-Id": h["mcp-session-id"],
                         "MCP-Protocol-Version": "1900-01-01"})
        assert st == 400


def test_require_headers_scenario(tmp_path):
    sc = tmp_path / "sc.json"
    sc.write_text(json.dumps({"require_headers": {
        "Authorization": "Bearer t0k3n"}}))
    with ms.start_fake_http("--scenario", str(sc)) as srv:
        init = rpc(1, "initialize", {"protocolVersion": "2025-11-25",
                                     "capabilities": {},
                                     "clientInfo": {"name": "x",
                                                    "version": "0"}})
        st, h, _ = post(srv.url, init)
        assert st == 401 and "www-authenticate" in h
        st, _, _ = post(srv.url, init, {"Authorization": "Bearer t0k3n"})
        assert st == 200


# ------------------------------------------------------------ switches

def test_crash_on_start_and_start_delay():
    r = subprocess.run(ms.fake_mcp_argv("--crash-on-start"),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "crashing on start" in r.stderr
    p = StdioPeer("--start-delay-ms", "800")
    try:
        t0 = time.monotonic()
        r = p.request(1, "initialize", {"protocolVersion": "2025-11-25",
                                        "capabilities": {},
                                        "clientInfo": {"name": "x",
                                                       "version": "0"}})
        assert r["result"] and time.monotonic() - t0 >= 0.7
    finally:
        p.close()


def test_exit_after_requests_and_die(stdio_peer, log_path):
    init = {"protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}
    p = stdio_peer("--exit-after-requests", "2", log=log_path)
    assert p.request(1, "initialize", init)["result"]
    assert p.request(2, "tools/list", {})["result"]
    assert p.proc.wait(5) == 0
    p = stdio_peer(log=log_path)
    assert p.request(1, "initialize", init)["result"]
    assert p.request(2, "tools/call", {"name": "die", "arguments": {}}) is None
    assert p.proc.wait(5) == 7
    reasons = [e["reason"] for e in ms.read_log(log_path)
               if e["event"] == "exit"]
    assert reasons == ["exit-after-requests", "die"]


def test_stdin_eof_exit_and_ignore_eof(stdio_peer):
    p = stdio_peer()
    p.proc.stdin.close()
    assert p.proc.wait(5) == 0
    q = stdio_peer("--ignore-eof")
    q.proc.stdin.close()
    with pytest.raises(subprocess.TimeoutExpired):
        q.proc.wait(0.5)


def test_progress_over_sse_and_misc_tools(log_path):
    with ms.start_fake_http("--era", "legacy", log_path=log_path) as srv:
        st, h, _ = post(srv.url, rpc(1, "initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}))
        sh = {"Mcp-Session-Id": h["mcp-session-id"]}
        st, _, msgs = post(srv.url, rpc(2, "tools/call", {
            "name": "progress", "arguments": {"steps": 3},
            "_meta": {"progressToken": "tok"}}), sh)
        assert st == 200
        assert [m["params"]["progress"] for m in msgs[:-1]] == [1, 2, 3]
        assert all(m["params"]["progressToken"] == "tok" for m in msgs[:-1])
        assert msgs[-1]["id"] == 2 and "result" in msgs[-1]
        st, _, msgs = post(srv.url, rpc(3, "tools/call", {
            "name": "big", "arguments": {"bytes": 300000}}), sh)
        assert len(one(msgs)["result"]["content"][0]["text"]) == 300000


def test_freeze_ignore_sigterm_and_env(stdio_peer, log_path, tmp_path):
    init = {"protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "0"}}
    p = stdio_peer("--ignore-sigterm", log=log_path)
    assert p.request(1, "initialize", init)["result"]
    env = p.request(2, "tools/call", {"name": "env", "arguments": {}})
    assert env["result"]["structuredContent"]["PATH"]
    p.send(rpc(3, "tools/call", {"name": "freeze", "arguments": {}}))
    assert p.request(4, "ping", {}, timeout=0.5) is None
    p.proc.terminate()
    with pytest.raises(subprocess.TimeoutExpired):
        p.proc.wait(0.5)
    p.proc.kill()
    p.proc.wait(5)
    events = ms.read_log(log_path)
    assert any(e["event"] == "signal" and e["ignored"] for e in events)
    assert any(e["event"] == "reply_dropped" and e["id"] == 4
               and e["why"] == "frozen" for e in events)
    # a scenario: canned result, delay, removed tools, stderr lines
    sc = tmp_path / "sc.json"
    sc.write_text(json.dumps({
        "stderr_lines": ["custom stderr line"], "remove_tools": ["die"],
        "page_size": 0,
        "extra_tools": [{"name": "canned", "inputSchema": {"type": "object"},
                         "delay_ms": 200,
                         "result": {"content": [{"type": "text",
                                                 "text": "canned!"}]}}]}))
    q = stdio_peer("--scenario", str(sc))
    assert q.request(1, "initialize", init)["result"]
    names = [t["name"] for t in q.request(2, "tools/list", {})["result"][
        "tools"]]
    assert "canned" in names and "die" not in names and len(names) == 18
    t0 = time.monotonic()
    r = q.request(3, "tools/call", {"name": "canned", "arguments": {}})
    assert r["result"]["content"][0]["text"] == "canned!"
    assert time.monotonic() - t0 >= 0.2
    q.proc.stdin.close()
    q.proc.wait(5)
    assert q.proc.stderr.read().decode() == "custom stderr line\n"


def test_error_codes_match_spec_schema():
    """fake_mcp's modern error codes are the ones schema.ts defines."""
    try:
        src = subprocess.run(
            ["git", "-C", SPEC_REPO, "show", "HEAD:schema/2026-07-28/"
             "schema.ts"], capture_output=True, text=True, timeout=30,
            check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("MCP specification mirror not available at " + SPEC_REPO)
    consts = dict(re.findall(r"export const (\w+) = (-?\d+);", src))
    assert int(consts["HEADER_MISMATCH"]) == fake_mcp.HEADER_MISMATCH
    assert int(consts["UNSUPPORTED_PROTOCOL_VERSION"]) == \
        fake_mcp.UNSUPPORTED_PROTOCOL_VERSION
    assert int(consts["METHOD_NOT_FOUND"]) == fake_mcp.METHOD_NOT_FOUND
    assert int(consts["INVALID_PARAMS"]) == fake_mcp.INVALID_PARAMS
    assert '"io.modelcontextprotocol/protocolVersion"' in src
    assert 'method: "server/discover"' in src
