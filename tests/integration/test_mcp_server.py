"""SERVER_PROTOCOL=MCP: the real binary as an MCP server on POST /mcp, with
the fake Bedrock behind it.

- the official MCP TypeScript SDK (@modelcontextprotocol/sdk 1.32.2, pinned
  in tests/fakes/js) Client + StreamableHTTPClientTransport
  (tests/integration/js/mcp_server_client.mjs): initialize, tools/list,
  tools/call invoke_agent (text + structuredContent), a call with a
  progress handler (the text deltas), and a served registry tool
  (MCP_SERVE_TOOLS=true);
- the MCP Inspector CLI (@modelcontextprotocol/inspector-cli 1.0.3):
  tools/list and tools/call invoke_agent;
- raw HTTP for what the SDK (a legacy-era client) does not exercise: the
  2026-07-28 rules (server/discover, the MCP-Protocol-Version / Mcp-Method
  / Mcp-Name headers, -32020, -32022, resultType), JSON-RPC errors, 405,
  202, the session headers, Accept (JSON, SSE, 406).
The node parts skip, saying so, when node or tests/fakes/js/node_modules is
missing. Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider
     tests/integration/test_mcp_server.py
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NODE_MODULES = os.path.join(ROOT, "tests", "fakes", "js", "node_modules")
CLIENT_JS = os.path.join(HERE, "js", "mcp_server_client.mjs")
INSPECTOR = os.path.join(NODE_MODULES, "@modelcontextprotocol",
                         "inspector-cli", "build", "cli.js")

MODERN = "2026-07-28"
META_V = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def need_node():
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    if not os.path.isdir(os.path.join(NODE_MODULES, "@modelcontextprotocol",
                                      "sdk")):
        pytest.skip("MCP SDK not installed (tests/fakes/js/node_modules "
                    "missing): run `cd tests/fakes/js && npm ci`")


@pytest.fixture
def mcp_runtime(start_runtime):
    def _start(**env):
        env.setdefault("SERVER_PROTOCOL", "MCP")
        env.setdefault("AGENT_NAME", "mcp-test-agent")
        return start_runtime(**env)
    return _start


def sdk_client(rt, steps):
    url = "http://127.0.0.1:%d/mcp" % rt.port
    env = dict(os.environ, STRANDS_NODE_MODULES=NODE_MODULES)
    p = subprocess.run(["node", CLIENT_JS, url, json.dumps(steps)],
                       capture_output=True, text=True, env=env, timeout=90)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert "error" not in out, out
    return out


def inspector(rt, *args):
    url = "http://127.0.0.1:%d/mcp" % rt.port
    # inspector-cli 1.0.3 looks for its package.json relative to the
    # working directory ("../package.json"): run it from node_modules.
    p = subprocess.run(["node", INSPECTOR, "--cli", url, "--transport",
                        "http"] + list(args), capture_output=True, text=True,
                       cwd=NODE_MODULES, timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def meta(version=MODERN, **extra):
    m = {META_V: version, META_CAPS: {},
         "io.modelcontextprotocol/clientInfo": {"name": "pytest",
                                                "version": "0"}}
    m.update(extra)
    return m


def post(rt, msg, headers=None, accept="application/json, "
                                        "text/event-stream"):
    h = {"Content-Type": "application/json"}
    if accept is not None:
        h["Accept"] = accept
    h.update(headers or {})
    body = msg if isinstance(msg, (str, bytes)) else json.dumps(msg)
    status, hdrs, data = rt.request("POST", "/mcp", body, h, timeout=60)
    return status, {k.lower(): v for k, v in hdrs.items()}, data


def post_json(rt, msg, headers=None, accept="application/json, "
                                             "text/event-stream"):
    status, hdrs, data = post(rt, msg, headers, accept)
    assert hdrs.get("content-type", "").startswith("application/json"), \
        (status, hdrs, data)
    return status, hdrs, json.loads(data)


def modern(rt, method, params=None, name=None, headers=None, rid=1,
           accept="application/json, text/event-stream"):
    params = dict(params or {})
    params.setdefault("_meta", meta())
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if name is not None:
        h["Mcp-Name"] = name
    h.update(headers or {})
    return post_json(rt, {"jsonrpc": "2.0", "id": rid, "method": method,
                          "params": params}, h, accept)


def sse_messages(data):
    """The JSON-RPC messages of an SSE body (data: lines)."""
    out = []
    for event in data.decode().split("\n\n"):
        lines = [ln[6:] for ln in event.split("\n") if ln.startswith("data: ")]
        if lines:
            out.append(json.loads("\n".join(lines)))
    return out


def converse_prompts(fake):
    out = []
    for r in fake.requests():
        if r.get("operation") in ("converse", "converse-stream"):
            msg = r["body"]["messages"][-1]
            out.append(msg["content"][0].get("text"))
    return out


# ------------------------------------------------------- the official SDK

def test_sdk_client_initialize_list_call_and_progress(mcp_runtime, fake):
    need_node()
    rt = mcp_runtime()
    fake.script([{"text": "hello there"},
                 {"text": "streamed answer",
                  "text_deltas": ["stre", "amed ", "answer"]}])
    out = sdk_client(rt, [
        {"list": True},
        {"call": "invoke_agent",
         "arguments": {"prompt": "hi", "session_id": "sdk-s1"}},
        {"call": "invoke_agent", "arguments": {"prompt": "stream please"},
         "progress": True},
        {"call": "calculator", "arguments": {"expression": "6*7"}}])
    assert out["serverVersion"]["name"] == "mcp-test-agent"
    assert out["protocolVersion"] == "2025-11-25"
    assert out["sessionId"]  # minted on initialize, sent back after
    tools, plain, streamed, calc = out["steps"]
    assert [t["name"] for t in tools] == ["invoke_agent"]
    assert tools[0]["inputSchema"]["required"] == ["prompt"]
    res = plain["result"]
    assert res["isError"] is False
    assert res["content"] == [{"type": "text", "text": "hello there"}]
    sc = res["structuredContent"]
    assert sc["response"] == "hello there"
    assert sc["session_id"] == "sdk-s1"
    assert sc["stop_reason"] == "EndTurn" and sc["iterations"] == 1
    assert set(sc["usage"]) == {"input_tokens", "output_tokens",
                                "total_tokens", "cache_read_input_tokens",
                                "cache_write_input_tokens"}
    # The progress handler got each text delta, progress increasing.
    prog = streamed["progress"]
    assert [p["message"] for p in prog] == ["stre", "amed ", "answer"]
    assert [p["progress"] for p in prog] == [1, 2, 3]
    sres = streamed["result"]
    assert sres["structuredContent"]["response"] == "streamed answer"
    # No session_id argument: the Mcp-Session-Id minted at initialize.
    assert sres["structuredContent"]["session_id"] == out["sessionId"]
    # MCP_SERVE_TOOLS is off: calculator is not offered.
    assert "Unknown tool: calculator" in calc["error"]
    assert converse_prompts(fake) == ["hi", "stream please"]


def test_sdk_client_serves_registry_tools(mcp_runtime, fake):
    need_node()
    rt = mcp_runtime(MCP_SERVE_TOOLS="true", TOOLS="calculator")
    out = sdk_client(rt, [
        {"list": True},
        {"call": "calculator", "arguments": {"expression": "6*7"}},
        {"call": "calculator", "arguments": {"expr": "1"}}])
    tools, calc, bad = out["steps"]
    names = [t["name"] for t in tools]
    assert names == ["invoke_agent", "calculator"]
    assert tools[1]["inputSchema"]["required"] == ["expression"]
    assert calc["result"] == {"content": [{"type": "text", "text": "42"}],
                              "isError": False}
    assert bad["result"]["isError"] is True
    assert "input.expression is required" in \
        bad["result"]["content"][0]["text"]
    assert converse_prompts(fake) == []  # no model call for a tool


def test_inspector_cli_lists_and_calls(mcp_runtime, fake):
    need_node()
    if not os.path.isfile(INSPECTOR):
        pytest.skip("@modelcontextprotocol/inspector-cli not installed")
    rt = mcp_runtime()
    listed = inspector(rt, "--method", "tools/list")
    assert [t["name"] for t in listed["tools"]] == ["invoke_agent"]
    fake.script([{"text": "hello from the inspector"}])
    called = inspector(rt, "--method", "tools/call", "--tool-name",
                       "invoke_agent", "--tool-arg", "prompt=hi there",
                       "--tool-arg", "session_id=insp-1")
    assert called["content"] == [{"type": "text",
                                  "text": "hello from the inspector"}]
    assert called["structuredContent"]["session_id"] == "insp-1"
    assert converse_prompts(fake) == ["hi there"]


# ------------------------------------------------ 2026-07-28 (raw HTTP)

def test_modern_discover(mcp_runtime):
    rt = mcp_runtime(AGENT_DESCRIPTION="answers questions")
    status, hdrs, doc = modern(rt, "server/discover", rid="d-1")
    assert status == 200, doc
    r = doc["result"]
    assert doc["id"] == "d-1"
    assert r["resultType"] == "complete"
    assert r["supportedVersions"] == [MODERN, "2025-11-25", "2025-06-18"]
    assert "tools" in r["capabilities"]
    assert r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == \
        "mcp-test-agent"
    assert r["instructions"] == "answers questions"
    assert "mcp-session-id" not in hdrs  # no sessions in 2026-07-28


def test_modern_list_and_call(mcp_runtime, fake):
    rt = mcp_runtime()
    status, _, doc = modern(rt, "tools/list")
    assert status == 200, doc
    r = doc["result"]
    assert r["resultType"] == "complete"
    assert r["cacheScope"] in ("public", "private") and r["ttlMs"] >= 0
    assert [t["name"] for t in r["tools"]] == ["invoke_agent"]
    fake.script([{"text": "modern answer"}])
    status, _, doc = modern(rt, "tools/call",
                            {"name": "invoke_agent",
                             "arguments": {"prompt": "hello",
                                           "session_id": "m-1"}},
                            name="invoke_agent", rid=7)
    assert status == 200, doc
    r = doc["result"]
    assert doc["id"] == 7
    assert r["resultType"] == "complete"
    assert r["content"] == [{"type": "text", "text": "modern answer"}]
    assert r["structuredContent"]["session_id"] == "m-1"
    assert r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == \
        "mcp-test-agent"


def test_modern_base64_name_header(mcp_runtime, fake):
    rt = mcp_runtime()
    fake.script([{"text": "ok"}])
    enc = "=?base64?%s?=" % base64.b64encode(b"invoke_agent").decode()
    status, _, doc = modern(rt, "tools/call",
                            {"name": "invoke_agent",
                             "arguments": {"prompt": "x"}}, name=enc)
    assert status == 200, doc
    assert doc["result"]["content"][0]["text"] == "ok"


@pytest.mark.parametrize("headers,what", [
    ({"Mcp-Method": "tools/list"}, "Mcp-Method"),
    ({"Mcp-Name": "calculator"}, "Mcp-Name"),
    ({"Mcp-Name": None}, "Mcp-Name"),
    ({"Mcp-Method": None}, "Mcp-Method"),
    ({"MCP-Protocol-Version": "2025-11-25"}, "MCP-Protocol-Version"),
    ({"MCP-Protocol-Version": None}, "MCP-Protocol-Version"),
])
def test_modern_header_mismatch(mcp_runtime, fake, headers, what):
    rt = mcp_runtime()
    h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
         "Mcp-Name": "invoke_agent"}
    for k, v in headers.items():
        if v is None:
            h.pop(k)
        else:
            h[k] = v
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "invoke_agent", "arguments": {"prompt": "x"},
                   "_meta": meta()}}, h)
    assert status == 400, doc
    assert doc["id"] == 3
    assert doc["error"]["code"] == -32020
    assert what in doc["error"]["message"]
    assert converse_prompts(fake) == []  # nothing ran


def test_unsupported_version(mcp_runtime):
    rt = mcp_runtime()
    # Modern: _meta and header agree on a version we do not speak.
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": {"_meta": meta("1900-01-01")}},
        {"MCP-Protocol-Version": "1900-01-01", "Mcp-Method": "tools/list"})
    assert status == 400
    err = doc["error"]
    assert err["code"] == -32022
    assert err["data"] == {"supported": [MODERN, "2025-11-25", "2025-06-18"],
                           "requested": "1900-01-01"}
    # Legacy: an unknown MCP-Protocol-Version header.
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 2,
                                    "method": "tools/list"},
                               {"MCP-Protocol-Version": "2024-01-01"})
    assert status == 400 and doc["error"]["code"] == -32022
    # 2026-07-28 without _meta is a malformed modern request.
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 3,
                                    "method": "tools/list"},
                               {"MCP-Protocol-Version": MODERN,
                                "Mcp-Method": "tools/list"})
    assert status == 400 and doc["error"]["code"] == -32602


def test_modern_unknown_method_and_no_ping(mcp_runtime):
    rt = mcp_runtime()
    for method in ("resources/list", "ping"):
        status, _, doc = modern(rt, method)
        assert status == 404, doc
        assert doc["error"]["code"] == -32601


# --------------------------------------------------- JSON-RPC and HTTP

def test_get_and_delete_are_405(mcp_runtime):
    rt = mcp_runtime()
    for method in ("GET", "DELETE"):
        status, hdrs, _ = rt.request(method, "/mcp",
                                     headers={"Accept": "text/event-stream"})
        assert status == 405
        assert hdrs.get("Allow") == "POST"
    # /invocations is not served in MCP mode; /ping is.
    status, _, _ = rt.request("POST", "/invocations", {"prompt": "x"})
    assert status == 404
    assert rt.ping()[0] == 200


def test_jsonrpc_errors(mcp_runtime):
    rt = mcp_runtime()
    status, _, doc = post_json(rt, '{"jsonrpc": "2.0", "id": 1, "method"')
    assert status == 400 and doc["error"]["code"] == -32700
    assert doc["id"] is None
    status, _, doc = post_json(rt, [{"jsonrpc": "2.0", "id": 1,
                                     "method": "ping"}])
    assert status == 400 and doc["error"]["code"] == -32600
    assert "batch" in doc["error"]["message"]
    for bad in ({"jsonrpc": "1.0", "id": 1, "method": "ping"},
                {"jsonrpc": "2.0", "id": None, "method": "ping"},
                {"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
                {"jsonrpc": "2.0", "id": 1, "method": 7},
                {"jsonrpc": "2.0", "id": 1}, 42):
        status, _, doc = post_json(rt, bad)
        assert status == 400 and doc["error"]["code"] == -32600, bad
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 9,
                                    "method": "ping", "params": [1]})
    assert status == 400 and doc["error"]["code"] == -32602
    assert doc["id"] == 9
    # Legacy: an unknown method is a JSON-RPC error in a 200 answer.
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": "u",
                                    "method": "prompts/list"})
    assert status == 200 and doc["error"]["code"] == -32601
    assert doc["id"] == "u"
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 2,
                                    "method": "tools/call",
                                    "params": {"name": "nope"}})
    assert status == 200 and doc["error"]["code"] == -32602
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 2,
                                    "method": "tools/call",
                                    "params": {"name": "invoke_agent",
                                               "arguments": "x"}})
    assert status == 200 and doc["error"]["code"] == -32602
    status, _, doc = post_json(rt, {"jsonrpc": "2.0", "id": 5,
                                    "method": "ping"})
    assert status == 200 and doc == {"jsonrpc": "2.0", "id": 5, "result": {}}


def test_notifications_and_responses_get_202(mcp_runtime):
    rt = mcp_runtime()
    for msg in ({"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "method": "notifications/cancelled",
                 "params": {"requestId": 1}},
                {"jsonrpc": "2.0", "id": 4, "result": {}},
                {"jsonrpc": "2.0", "id": 4,
                 "error": {"code": -1, "message": "x"}}):
        status, _, data = post(rt, msg)
        assert status == 202 and data == b"", msg


def test_initialize_negotiates_and_mints_session(mcp_runtime):
    rt = mcp_runtime(AGENT_NAME="negotiator")

    def init(version, headers=None):
        return post_json(rt, {"jsonrpc": "2.0", "id": 0,
                              "method": "initialize",
                              "params": {"protocolVersion": version,
                                         "capabilities": {},
                                         "clientInfo": {"name": "t",
                                                        "version": "1"}}},
                         headers)

    status, hdrs, doc = init("2025-06-18")
    assert status == 200
    assert doc["result"]["protocolVersion"] == "2025-06-18"
    assert doc["result"]["serverInfo"]["name"] == "negotiator"
    assert doc["result"]["capabilities"]["tools"] == {"listChanged": False}
    assert len(hdrs["mcp-session-id"]) == 36
    status, _, doc = init("2024-11-05")
    assert doc["result"]["protocolVersion"] == "2025-11-25"
    status, _, doc = init(MODERN)
    assert doc["result"]["protocolVersion"] == "2025-11-25"
    # A client's own session id is kept (echoed), never rejected.
    status, hdrs, doc = init("2025-11-25", {"Mcp-Session-Id": "mine-1"})
    assert status == 200 and hdrs["mcp-session-id"] == "mine-1"


def test_session_headers(mcp_runtime, fake):
    rt = mcp_runtime()
    fake.script([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "invoke_agent", "arguments": {"prompt": "p"}}}
    # A session id the server never issued: accepted, echoed, used.
    status, hdrs, doc = post_json(rt, call, {"Mcp-Session-Id": "unknown-9",
                                             "MCP-Protocol-Version":
                                                 "2025-11-25"})
    assert status == 200, doc
    assert hdrs["mcp-session-id"] == "unknown-9"
    assert doc["result"]["structuredContent"]["session_id"] == "unknown-9"
    # The AgentCore session header wins over Mcp-Session-Id.
    status, hdrs, doc = post_json(rt, call, {"Mcp-Session-Id": "unknown-9",
                                             SESSION_HEADER: "ac-sess-1"})
    assert doc["result"]["structuredContent"]["session_id"] == "ac-sess-1"
    # And the tool's own argument wins over both.
    call["params"]["arguments"]["session_id"] = "arg-sess"
    status, hdrs, doc = post_json(rt, call, {SESSION_HEADER: "ac-sess-1"})
    assert doc["result"]["structuredContent"]["session_id"] == "arg-sess"


def test_accept_json_sse_and_406(mcp_runtime, fake):
    rt = mcp_runtime()
    call = {"jsonrpc": "2.0", "id": 11, "method": "tools/call",
            "params": {"name": "invoke_agent",
                       "arguments": {"prompt": "p", "session_id": "acc"},
                       "_meta": {"progressToken": "tok-1"}}}
    # A progress token, but the client takes only JSON: one JSON answer.
    fake.script([{"text": "json answer", "text_deltas": ["json ", "answer"]}])
    status, hdrs, doc = post_json(rt, call, accept="application/json")
    assert status == 200
    assert doc["result"]["content"][0]["text"] == "json answer"
    # Both accepted and a progress token: SSE, progress then the answer.
    fake.script([{"text": "sse answer", "text_deltas": ["sse ", "answer"]}])
    status, hdrs, data = post(rt, call)
    assert status == 200
    assert hdrs["content-type"].startswith("text/event-stream")
    msgs = sse_messages(data)
    assert [m.get("method") for m in msgs] == [
        "notifications/progress", "notifications/progress", None]
    assert [m["params"]["message"] for m in msgs[:2]] == ["sse ", "answer"]
    assert all(m["params"]["progressToken"] == "tok-1" for m in msgs[:2])
    assert msgs[2]["id"] == 11
    assert msgs[2]["result"]["content"][0]["text"] == "sse answer"
    # SSE only: the answer as one event.
    status, hdrs, data = post(rt, {"jsonrpc": "2.0", "id": 12,
                                   "method": "ping"},
                              accept="text/event-stream")
    assert status == 200
    assert hdrs["content-type"].startswith("text/event-stream")
    assert sse_messages(data) == [{"jsonrpc": "2.0", "id": 12, "result": {}}]
    # Neither: 406.
    status, _, data = post(rt, {"jsonrpc": "2.0", "id": 13, "method": "ping"},
                           accept="text/html")
    assert status == 406
    assert json.loads(data)["error"]["code"] == -32600
    # q=0 takes a type back.
    status, _, data = post(rt, {"jsonrpc": "2.0", "id": 14, "method": "ping"},
                           accept="application/json;q=0, text/plain")
    assert status == 406


def test_failed_invocation_is_tool_error(mcp_runtime, fake):
    rt = mcp_runtime()
    fake.script([{"error": "ValidationException",
                  "message": "bad model input"}])
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "invoke_agent", "arguments": {"prompt": "p"}}})
    assert status == 200, doc
    r = doc["result"]
    assert r["isError"] is True
    assert "structuredContent" not in r
    assert r["content"][0]["text"].startswith("ValidationException: ")
    assert "bad model input" in r["content"][0]["text"]
    # Bad arguments are a tool error too, naming the field.
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "invoke_agent", "arguments": {"prompt": "  "}}})
    assert doc["result"]["isError"] is True
    assert "prompt" in doc["result"]["content"][0]["text"]


def test_body_limit(mcp_runtime):
    rt = mcp_runtime(MAX_BODY_BYTES="1024")
    status, _, _ = post(rt, {"jsonrpc": "2.0", "id": 1, "method": "ping",
                             "params": {"pad": "x" * 2000}})
    assert status == 413


def raw_post(rt, msg, accept="application/json, text/event-stream"):
    body = json.dumps(msg).encode()
    s = socket.create_connection(("127.0.0.1", rt.port), timeout=10)
    s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\nAccept: " +
              accept.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
              + body)
    return s


def stream_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") == "converse-stream"]


def test_closing_the_sse_stream_cancels(mcp_runtime, fake):
    rt = mcp_runtime()
    deltas = ["tok%d " % i for i in range(40)]
    fake.script([{"text": "".join(deltas), "text_deltas": deltas,
                  "event_delay_ms": 100}])
    s = raw_post(rt, {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "invoke_agent",
                                 "arguments": {"prompt": "long",
                                               "session_id": "drop-sse"},
                                 "_meta": {"progressToken": 1}}})
    got = b""
    while b"notifications/progress" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    assert b"text/event-stream" in got
    t0 = time.monotonic()
    s.close()
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
    # The session is free again and holds no half turn.
    fake.script([{"text": "next"}])
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "invoke_agent",
                   "arguments": {"prompt": "after",
                                 "session_id": "drop-sse"}}})
    assert doc["result"]["content"][0]["text"] == "next", doc
    conv = [r for r in fake.requests() if r.get("operation") == "converse"]
    assert len(conv[0]["body"]["messages"]) == 1


def test_json_client_hangup_cancels(mcp_runtime, fake):
    rt = mcp_runtime()
    fake.script([{"text": "too late", "latency_ms": 4000},
                 {"text": "retried"}])
    s = raw_post(rt, {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "invoke_agent",
                                 "arguments": {"prompt": "slow",
                                               "session_id": "drop-json"}}},
                 accept="application/json")
    fake.wait_for_requests(1)
    s.close()
    time.sleep(0.1)
    t0 = time.monotonic()
    status, _, doc = post_json(rt, {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "invoke_agent",
                   "arguments": {"prompt": "again",
                                 "session_id": "drop-json"}}})
    assert doc["result"]["content"][0]["text"] == "retried", doc
    assert time.monotonic() - t0 < 3
    assert any(l.get("logger") == "strands.metrics" and
               l.get("outcome") == "Cancelled" for l in rt.log_lines())


def test_draining_answers_503(mcp_runtime, fake):
    rt = mcp_runtime(SHUTDOWN_GRACE_SECONDS="5")
    fake.script([{"text": "finished", "latency_ms": 1500}])
    res = {}
    t = threading.Thread(target=lambda: res.update(r=post_json(rt, {
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "invoke_agent", "arguments": {"prompt": "p"}}})))
    t.start()
    fake.wait_for_requests(1)
    # A kept-alive connection opened before SIGTERM gets 503 after it.
    conn = http.client.HTTPConnection("127.0.0.1", rt.port, timeout=10)
    conn.request("GET", "/ping")
    conn.getresponse().read()
    rt.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    conn.request("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": 2,
                                             "method": "ping"}),
                 {"Content-Type": "application/json"})
    assert conn.getresponse().status == 503
    conn.close()
    t.join(10)
    # The call in flight finished (drained), not cut off.
    status, _, doc = res["r"]
    assert status == 200 and \
        doc["result"]["content"][0]["text"] == "finished", doc
    assert rt.proc.wait(10) == 0


def test_our_own_mcp_client_speaks_2026_07_28_to_it(mcp_runtime, fake,
                                                    start_runtime):
    """A second runtime (HTTP mode) lists this one in MCP_CONFIG: its MCP
    client negotiates the modern era (server/discover) and its agent calls
    invoke_agent and a served tool through the mirrored headers."""
    import fake_aws
    from conftest import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN
    inner_fake = fake_aws.start_fake_bedrock(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)})
    try:
        inner = start_runtime(fake_server=inner_fake, SERVER_PROTOCOL="MCP",
                              MCP_SERVE_TOOLS="true", TOOLS="calculator")
        inner_fake.script([{"text": "inner answer"}])
        cfg = os.path.join(tempfile.mkdtemp(prefix="strands-mcp-"),
                           "mcp.json")
        with open(cfg, "w") as f:
            json.dump({"mcpServers": {"inner": {
                "url": "http://127.0.0.1:%d/mcp" % inner.port}}}, f)
        outer = start_runtime(MCP_CONFIG=cfg, LOG_LEVEL="debug")
        fake.script([
            {"tool_use": [{"id": "t1", "name": "inner_invoke_agent",
                           "input": {"prompt": "inner question",
                                     "session_id": "nested-1"}}]},
            {"tool_use": [{"id": "t2", "name": "inner_calculator",
                           "input": {"expression": "6*7"}}]},
            {"text": "outer done"}])
        status, _, doc = outer.invoke({"prompt": "ask the inner agent",
                                       "session_id": "outer-1"}, timeout=60)
        assert status == 200 and doc["response"] == "outer done", doc
        reqs = [r for r in fake.requests()
                if r.get("operation") == "converse"]
        first = reqs[1]["body"]["messages"][2]["content"][0]["toolResult"]
        assert first["status"] == "success", first
        assert "inner answer" in json.dumps(first["content"])
        second = reqs[2]["body"]["messages"][4]["content"][0]["toolResult"]
        assert second["status"] == "success", second
        assert "42" in json.dumps(second["content"])
        assert converse_prompts(inner_fake) == ["inner question"]
        assert "protocol 2026-07-28" in outer.output(), outer.output()
    finally:
        inner_fake.stop()
