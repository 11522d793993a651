"""MCP servers as tool sources, through the real binary (issue 9): MCP_CONFIG
names servers; the fake Bedrock asks for their tools; the follow-up request
carries the mapped toolResult. Servers: tests/fakes/fake_mcp.py (scriptable,
checked against the official SDK by test_mcp_fakes.py) over stdio and
Streamable HTTP, in the legacy and the stateless 2026-07-28 eras, and the
reference server @modelcontextprotocol/server-everything (stdio and HTTP).
Covers: a round trip, result mapping, name mapping, a hung call hitting its
timeout (the server gets notifications/cancelled), a server killed mid-call
(error result, restart, success), a server that never starts (runtime stays
healthy), list_changed, stderr to the debug log, a 404 for an expired
session (initialize again), and SIGTERM leaving no child process."""

import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import RUNTIME, Runtime, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
FAKES = os.path.join(HERE, "..", "fakes")
FAKE_MCP = os.path.join(FAKES, "fake_mcp.py")
JS = os.path.join(FAKES, "js")
EVERYTHING = os.path.join(JS, "node_modules", "@modelcontextprotocol",
                          "server-everything", "dist", "index.js")
PY = "/usr/bin/python3"


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def tool_names(req):
    return [t["toolSpec"]["name"]
            for t in req["body"].get("toolConfig", {}).get("tools", [])]


def tool_result(req, index=0):
    """The index-th toolResult of the last user message of a request."""
    msgs = req["body"]["messages"]
    return msgs[-1]["content"][index]["toolResult"]


def read_log(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def pids(path):
    return [e["pid"] for e in read_log(path) if e.get("event") == "start"]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


class Mcp:
    """An MCP_CONFIG file plus the fake servers' log files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="strands-mcp-")
        self.servers = {}

    def log(self, name):
        return os.path.join(self.dir, name + ".log")

    def stdio(self, name, *args, **extra):
        entry = {"command": PY,
                 "args": [FAKE_MCP, "--log", self.log(name)] + list(args)}
        entry.update(extra)
        self.servers[name] = entry
        return self

    def add(self, name, entry):
        self.servers[name] = entry
        return self

    def write(self):
        path = os.path.join(self.dir, "mcp.json")
        with open(path, "w") as f:
            json.dump({"mcpServers": self.servers}, f)
        return path


@pytest.fixture
def mcp():
    return Mcp()


def start(fake, mcp, **env):
    env.setdefault("LOG_LEVEL", "debug")
    env["MCP_CONFIG"] = mcp.write()
    return Runtime(env, fake)


def stop(rt):
    code = rt.stop()
    out = rt.output()
    os.unlink(rt.log.name)
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                "ThreadSanitizer"):
        assert bad not in out, out
    assert code == 0, out
    return out


@pytest.fixture
def runtimes():
    started = []
    yield started
    for rt in started:
        stop(rt)


def wait_output(rt, text, timeout=10):
    """The runtime's output once it holds `text` (log lines are written by
    a background thread, so they may trail the HTTP answer)."""
    deadline = time.monotonic() + timeout
    out = rt.output()
    while text not in out and time.monotonic() < deadline:
        time.sleep(0.05)
        out = rt.output()
    assert text in out, out
    return out


def invoke_tool(rt, fake, name, tool_input, session, then="done"):
    fake.reset()
    fake.script([{"tool_use": [{"id": "tu1", "name": name,
                                "input": tool_input}]},
                 {"text": then}])
    status, _, doc = rt.invoke({"prompt": "use the tool",
                                "session_id": session}, timeout=60)
    assert status == 200, doc
    reqs = converse_requests(fake)
    assert len(reqs) == 2, reqs
    return reqs


# ---- fake_mcp.py over stdio -------------------------------------------------

@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_stdio_round_trip(fake, mcp, runtimes, era):
    mcp.stdio("fake", "--era", era)
    rt = start(fake, mcp)
    runtimes.append(rt)
    reqs = invoke_tool(rt, fake, "fake_echo", {"message": "hello mcp"},
                       "mcp-rt-" + era)
    names = tool_names(reqs[0])
    # The built-ins and the server's tools, prefixed "fake_".
    assert "calculator" in names and "fake_echo" in names, names
    assert "fake_add" in names and "fake_slow" in names, names
    tr = tool_result(reqs[1])
    assert tr == {"toolUseId": "tu1", "status": "success",
                  "content": [{"text": "hello mcp"}]}
    requests = [e for e in read_log(mcp.log("fake"))
                if e.get("event") == "request"]
    methods = [e["method"] for e in requests]
    assert "tools/call" in methods
    if era == "modern":
        assert "initialize" not in methods
        call = [e for e in requests if e["method"] == "tools/call"][0]
        meta = call["params"]["_meta"]
        assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    else:
        assert "initialize" in methods


def test_result_mapping(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy")
    rt = start(fake, mcp)
    runtimes.append(rt)
    tr = tool_result(invoke_tool(rt, fake, "fake_add", {"a": 2, "b": 40},
                                 "map-1")[1])
    assert tr["status"] == "success"
    assert {"text": "42"} in tr["content"]
    assert {"json": {"sum": 42}} in tr["content"]

    tr = tool_result(invoke_tool(rt, fake, "fake_image", {}, "map-2")[1])
    img = [c for c in tr["content"] if "image" in c]
    assert img and img[0]["image"]["format"] == "png"
    assert img[0]["image"]["source"]["bytes"]

    tr = tool_result(invoke_tool(rt, fake, "fake_resource", {}, "map-3")[1])
    assert any("text" in c for c in tr["content"]), tr
    docs = [c for c in tr["content"] if "document" in c]
    assert docs and docs[0]["document"]["format"] == "pdf", tr

    tr = tool_result(invoke_tool(rt, fake, "fake_fail",
                                 {"message": "it broke"}, "map-4")[1])
    assert tr["status"] == "error"
    assert "it broke" in tr["content"][0]["text"]


def test_name_mapping(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy", prefix="x_")
    rt = start(fake, mcp)
    runtimes.append(rt)
    fake.script([{"text": "hi"}])
    rt.invoke({"prompt": "list", "session_id": "names"})
    names = tool_names(converse_requests(fake)[0])
    import re
    for n in names:
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n), n
    dotted = [n for n in names if n.startswith("x_name_with_dots")]
    assert len(dotted) == 1, names
    long = [n for n in names if len(n) == 64]
    assert long, names
    # The mapped name reaches the right tool (it echoes its own name).
    tr = tool_result(invoke_tool(rt, fake, dotted[0], {}, "names-2")[1])
    assert tr["status"] == "success", tr
    assert "name.with.dots" in tr["content"][0]["text"], tr


def test_allow_and_deny(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy", allow=["echo", "add", "fail"],
              deny=["fail"])
    rt = start(fake, mcp)
    runtimes.append(rt)
    fake.script([{"text": "hi"}])
    rt.invoke({"prompt": "list", "session_id": "allow"})
    names = [n for n in tool_names(converse_requests(fake)[0])
             if n.startswith("fake_")]
    assert sorted(names) == ["fake_add", "fake_echo"], names


def test_hung_call_times_out_and_server_is_told(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy", timeout_seconds=1)
    rt = start(fake, mcp)
    runtimes.append(rt)
    t0 = time.monotonic()
    reqs = invoke_tool(rt, fake, "fake_hang", {}, "hang-1")
    assert time.monotonic() - t0 < 5
    tr = tool_result(reqs[1])
    assert tr["status"] == "error"
    assert "timed out after 1 s" in tr["content"][0]["text"], tr
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(e.get("event") == "cancel" for e in read_log(mcp.log("fake"))):
            break
        time.sleep(0.05)
    assert any(e.get("event") == "cancel" for e in read_log(mcp.log("fake")))
    # The server still answers afterwards.
    tr = tool_result(invoke_tool(rt, fake, "fake_echo", {"message": "ok"},
                                 "hang-2")[1])
    assert tr["status"] == "success"


def test_client_hangup_cancels_the_mcp_call(fake, mcp, runtimes):
    """A client that goes away cancels the invocation, and with it the MCP
    call in flight: the server gets notifications/cancelled."""
    import socket
    mcp.stdio("fake", "--era", "legacy")
    rt = start(fake, mcp)
    runtimes.append(rt)
    fake.script([{"tool_use": [{"id": "tu1", "name": "fake_slow",
                                "input": {"ms": 20000}}]},
                 {"text": "never"}])
    body = json.dumps({"prompt": "go", "session_id": "hangup"}).encode()
    s = socket.create_connection(("127.0.0.1", rt.port), timeout=5)
    s.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
            e.get("method") == "tools/call"
            for e in read_log(mcp.log("fake"))):
        time.sleep(0.05)
    s.close()
    while time.monotonic() < deadline and not any(
            e.get("event") == "cancel" for e in read_log(mcp.log("fake"))):
        time.sleep(0.05)
    assert any(e.get("event") == "cancel"
               for e in read_log(mcp.log("fake"))), read_log(mcp.log("fake"))


def test_server_killed_mid_call_restarts(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy")
    rt = start(fake, mcp)
    runtimes.append(rt)
    first = invoke_tool(rt, fake, "fake_echo", {"message": "a"}, "kill-0")
    assert tool_result(first[1])["status"] == "success"
    pid = pids(mcp.log("fake"))[-1]
    fake.reset()
    fake.script([{"tool_use": [{"id": "tu1", "name": "fake_slow",
                                "input": {"ms": 5000}}]},
                 {"text": "done"}])
    import threading
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "go", "session_id": "kill-1"},
                               timeout=30)
    killer.join()
    assert status == 200, doc
    assert time.monotonic() - t0 < 4
    tr = tool_result(converse_requests(fake)[1])
    assert tr["status"] == "error"
    assert "killed by signal 9" in tr["content"][0]["text"], tr
    # Restarted with backoff (1 s), then calls work again.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(pids(mcp.log("fake"))) < 2:
        time.sleep(0.1)
    assert len(pids(mcp.log("fake"))) == 2
    ok = None
    while time.monotonic() < deadline:
        ok = tool_result(invoke_tool(rt, fake, "fake_echo",
                                     {"message": "back"}, "kill-2")[1])
        if ok["status"] == "success":
            break
        assert "not available" in ok["content"][0]["text"], ok
        time.sleep(0.2)
    assert ok["status"] == "success", ok
    assert not alive(pid)
    wait_output(rt, "killed by signal 9; restarting in 1 s")


def test_server_that_fails_to_start(fake, mcp, runtimes):
    mcp.stdio("bad", "--crash-on-start")
    mcp.stdio("good", "--era", "legacy")
    rt = start(fake, mcp)
    runtimes.append(rt)
    assert rt.ping()[0] == 200
    reqs = invoke_tool(rt, fake, "good_echo", {"message": "fine"}, "bad-1")
    assert tool_result(reqs[1])["status"] == "success"
    assert "good_echo" in tool_names(reqs[0])
    wait_output(rt, "mcp server 'bad' failed to start")
    assert rt.ping()[0] == 200


def test_list_changed_updates_tools(fake, mcp, runtimes):
    mcp.stdio("fake", "--era", "legacy")
    rt = start(fake, mcp)
    runtimes.append(rt)
    reqs = invoke_tool(rt, fake, "fake_toggle", {}, "lc-1")
    assert "fake_toggled_tool" not in tool_names(reqs[0])
    deadline = time.monotonic() + 5
    names = []
    while time.monotonic() < deadline:
        fake.reset()
        fake.script([{"text": "hi"}])
        rt.invoke({"prompt": "x", "session_id": "lc-2"})
        names = tool_names(converse_requests(fake)[0])
        if "fake_toggled_tool" in names:
            break
        time.sleep(0.1)
    assert "fake_toggled_tool" in names, names


def test_stderr_goes_to_debug_log(fake, mcp, runtimes):
    scen = os.path.join(mcp.dir, "scen.json")
    with open(scen, "w") as f:
        json.dump({"stderr_lines": ["hello from the server's stderr"]}, f)
    mcp.stdio("fake", "--era", "legacy", "--scenario", scen)
    rt = start(fake, mcp)
    runtimes.append(rt)
    invoke_tool(rt, fake, "fake_echo", {"message": "x"}, "stderr-1")
    wait_output(rt, "mcp server 'fake' stderr: hello from the server's stderr")


def test_sigterm_leaves_no_child(fake, mcp):
    mcp.stdio("fake", "--era", "legacy", "--ignore-sigterm", "--ignore-eof")
    rt = start(fake, mcp)
    invoke_tool(rt, fake, "fake_echo", {"message": "x"}, "term-1")
    pid = pids(mcp.log("fake"))[-1]
    assert alive(pid)
    stop(rt)
    assert not alive(pid)


def test_bad_mcp_config_fails_start(fake, mcp):
    path = os.path.join(mcp.dir, "bad.json")
    with open(path, "w") as f:
        f.write('{"mcpServers": {"x": {"command": 42}}}')
    env = {"MCP_CONFIG": path}
    proc = subprocess.run([RUNTIME], env=dict(
        os.environ, **env, PORT=str(free_port()),
        AWS_EC2_METADATA_DISABLED="true"),
        capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2
    assert "MCP_CONFIG" in proc.stderr and "command" in proc.stderr, \
        proc.stderr


# ---- Streamable HTTP --------------------------------------------------------

def start_http_fake(mcp, name, *args):
    proc = subprocess.Popen([PY, FAKE_MCP, "--http", "0", "--log",
                             mcp.log(name)] + list(args),
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert "listening on" in line, line
    url = line.strip().split("listening on ")[1]
    return proc, url


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_http_round_trip(fake, mcp, runtimes, era):
    proc, url = start_http_fake(mcp, "web", "--era", era)
    try:
        mcp.add("web", {"url": url, "headers": {"X-Test": "${MCP_TEST_HDR}"}})
        rt = start(fake, mcp, MCP_TEST_HDR="from-env")
        runtimes.append(rt)
        reqs = invoke_tool(rt, fake, "web_echo", {"message": "over http"},
                           "http-" + era)
        tr = tool_result(reqs[1])
        assert tr == {"toolUseId": "tu1", "status": "success",
                      "content": [{"text": "over http"}]}, tr
        calls = [e for e in read_log(mcp.log("web"))
                 if e.get("event") == "request"
                 and e.get("method") == "tools/call"]
        assert calls
        hdrs = {k.lower(): v for k, v in calls[-1]["headers"].items()}
        assert hdrs.get("x-test") == "from-env"
        if era == "modern":
            assert hdrs.get("mcp-method") == "tools/call"
            assert hdrs.get("mcp-name") == "echo"
            assert hdrs.get("mcp-protocol-version") == "2026-07-28"
            assert "mcp-session-id" not in hdrs
        else:
            assert hdrs.get("mcp-session-id")
            assert hdrs.get("mcp-protocol-version") in ("2025-11-25",
                                                        "2025-06-18")
    finally:
        proc.terminate()
        proc.wait(5)


def test_http_expired_session_initializes_again(fake, mcp, runtimes):
    proc, url = start_http_fake(mcp, "web", "--era", "legacy")
    try:
        mcp.add("web", {"url": url})
        rt = start(fake, mcp)
        runtimes.append(rt)
        invoke_tool(rt, fake, "web_echo", {"message": "1"}, "exp-1")
        import urllib.request
        base = url.rsplit("/mcp", 1)[0]
        urllib.request.urlopen(urllib.request.Request(
            base + "/__fake/expire-sessions", data=b"", method="POST"),
            timeout=5).read()
        tr = tool_result(invoke_tool(rt, fake, "web_echo", {"message": "2"},
                                     "exp-2")[1])
        assert tr["status"] == "success", tr
        inits = [e for e in read_log(mcp.log("web"))
                 if e.get("event") == "request"
                 and e.get("method") == "initialize"]
        assert len(inits) == 2
    finally:
        proc.terminate()
        proc.wait(5)


# ---- the reference server ---------------------------------------------------

def need_everything():
    if not os.path.exists(EVERYTHING):
        pytest.skip("server-everything not installed (cd tests/fakes/js && "
                    "npm ci)")


def test_server_everything_stdio(fake, mcp, runtimes):
    need_everything()
    mcp.add("ev", {"command": "node", "args": [EVERYTHING, "stdio"]})
    rt = start(fake, mcp)
    runtimes.append(rt)
    reqs = invoke_tool(rt, fake, "ev_echo", {"message": "reference"},
                       "ev-stdio")
    tr = tool_result(reqs[1])
    assert tr["status"] == "success", tr
    assert "reference" in tr["content"][0]["text"], tr


def test_server_everything_http(fake, mcp, runtimes):
    need_everything()
    import sys
    sys.path.insert(0, FAKES)
    import mcp_servers
    with mcp_servers.start_everything_http() as srv:
        mcp.add("ev", {"url": srv.url})
        rt = start(fake, mcp)
        runtimes.append(rt)
        tr = tool_result(invoke_tool(rt, fake, "ev_echo",
                                     {"message": "over streamable http"},
                                     "ev-http")[1])
        assert tr["status"] == "success", tr
        assert "over streamable http" in tr["content"][0]["text"], tr
        tr = tool_result(invoke_tool(rt, fake, "ev_get-tiny-image", {},
                                     "ev-http-2")[1])
        assert any("image" in c for c in tr["content"]), tr


# ---- AgentCore Gateway (SigV4) and OAuth client credentials ------------------

def start_gateway():
    from conftest import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN
    proc = subprocess.Popen(
        [PY, os.path.join(FAKES, "fake_gateway.py"), "--access-key",
         ACCESS_KEY, "--secret-key", SECRET_KEY, "--session-token",
         SESSION_TOKEN], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if proc.poll() == 3:
        pytest.skip("botocore is not available to fake_gateway.py")
    assert line.startswith("http://"), line
    return proc, line


def test_gateway_sigv4_round_trip(fake, mcp, runtimes):
    proc, base = start_gateway()
    try:
        mcp.add("gw", {"url": base + "/mcp", "auth": {"type": "sigv4"}})
        rt = start(fake, mcp)
        runtimes.append(rt)
        reqs = invoke_tool(rt, fake, "gw_calc___add", {"a": 2, "b": 3},
                           "gw-1")
        assert "gw_greeter___hello" in tool_names(reqs[0])
        tr = tool_result(reqs[1])
        assert tr["status"] == "success", tr
        assert {"text": "5"} in tr["content"], tr
        import urllib.request
        log = json.loads(urllib.request.urlopen(
            base + "/__fake/requests", timeout=5).read())
        posts = [e for e in log if e.get("method") == "POST"]
        assert posts and all(e.get("status") != 403 for e in posts), log
        assert all(e.get("auth_error") is None for e in posts), log
    finally:
        proc.terminate()
        proc.wait(5)


def test_gateway_refuses_wrong_credentials(fake, mcp, runtimes):
    proc, base = start_gateway()
    try:
        mcp.add("gw", {"url": base + "/mcp", "auth": {"type": "sigv4"}})
        rt = start(fake, mcp, AWS_SECRET_ACCESS_KEY="wrong/secret/key")
        runtimes.append(rt)
        fake.script([{"text": "hi"}])
        status, _, _ = rt.invoke({"prompt": "x", "session_id": "gw-bad"})
        assert status in (200, 502, 503)
        out = wait_output(rt, "mcp server 'gw' failed to start")
        assert "403" in out, out
        assert "wrong/secret/key" not in out
        assert rt.ping()[0] == 200
    finally:
        proc.terminate()
        proc.wait(5)


class _TokenHandler:
    pass


def start_token_endpoint(client_id, secret, token, expires_in=3600):
    import base64
    import http.server
    import threading
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode()
            auth = self.headers.get("Authorization", "")
            seen.append({"auth": auth, "body": body})
            want = "Basic " + base64.b64encode(
                ("%s:%s" % (client_id, secret)).encode()).decode()
            if auth != want or "grant_type=client_credentials" not in body:
                data = b'{"error":"invalid_client"}'
                self.send_response(401)
            else:
                data = json.dumps({"access_token": token,
                                   "token_type": "Bearer",
                                   "expires_in": expires_in}).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, "http://127.0.0.1:%d/token" % srv.server_address[1], seen


def test_oauth_client_credentials(fake, mcp, runtimes):
    srv, token_url, seen = start_token_endpoint("agent-1", "s3cr3t-oauth",
                                                "tok-abc123")
    scen = os.path.join(mcp.dir, "scen.json")
    with open(scen, "w") as f:
        json.dump({"require_headers":
                   {"Authorization": "Bearer tok-abc123"}}, f)
    proc, url = start_http_fake(mcp, "web", "--era", "legacy",
                                "--scenario", scen)
    try:
        mcp.add("web", {"url": url, "auth": {
            "type": "oauth2_client_credentials", "token_url": token_url,
            "client_id": "agent-1", "client_secret": "${OAUTH_SECRET}",
            "scopes": ["tools/read", "tools/call"]}})
        rt = start(fake, mcp, OAUTH_SECRET="s3cr3t-oauth")
        runtimes.append(rt)
        for i in range(2):
            tr = tool_result(invoke_tool(rt, fake, "web_echo",
                                         {"message": "o%d" % i},
                                         "oauth-%d" % i)[1])
            assert tr["status"] == "success", tr
        assert len(seen) == 1, seen  # fetched once, then cached
        assert "scope=tools%2Fread+tools%2Fcall" in seen[0]["body"] or \
            "scope=tools%2Fread%20tools%2Fcall" in seen[0]["body"], seen
        out = rt.output()
        assert "tok-abc123" not in out and "s3cr3t-oauth" not in out
    finally:
        proc.terminate()
        proc.wait(5)
        srv.shutdown()


def test_server_everything_http_restarted_under_us(fake, mcp, runtimes):
    """The reference server forgets its sessions when it restarts and
    answers the old id with 400 "No valid session ID" (not 404): the
    client initializes again and the call succeeds."""
    need_everything()
    import sys
    sys.path.insert(0, FAKES)
    import mcp_servers
    port = mcp_servers.free_port()
    srv = mcp_servers.start_everything_http(port=port)
    try:
        mcp.add("ev", {"url": srv.url})
        rt = start(fake, mcp)
        runtimes.append(rt)
        tr = tool_result(invoke_tool(rt, fake, "ev_echo", {"message": "one"},
                                     "ev-r1")[1])
        assert tr["status"] == "success", tr
        srv.stop()
        srv = mcp_servers.start_everything_http(port=port)
        tr = tool_result(invoke_tool(rt, fake, "ev_echo", {"message": "two"},
                                     "ev-r2")[1])
        assert tr["status"] == "success", tr
        assert "two" in tr["content"][0]["text"], tr
    finally:
        srv.stop()


# ---- the caller's headers reach tools: forward_headers ---------------------

@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_forward_headers_pass_caller_identity(fake, mcp, runtimes, era):
    """An HTTP server entry's forward_headers passes the named request
    headers of the invocation (identity and custom ones) on with each
    tools/call; headers not listed, or not sent, are not; no value is
    ever logged (the runtime runs at LOG_LEVEL=debug)."""
    proc, url = start_http_fake(mcp, "gw", "--era", era)
    try:
        mcp.add("gw", {"url": url, "forward_headers": [
            "Authorization", "WorkloadAccessToken",
            "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant",
            "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Absent"]})
        rt = start(fake, mcp)
        runtimes.append(rt)
        fake.reset()
        fake.script([{"tool_use": [{"id": "tu1", "name": "gw_echo",
                                    "input": {"message": "hi"}}]},
                     {"text": "done"}])
        secret_jwt = "Bearer eyJhbGciOiJub25lIn0.secret-jwt-value"
        secret_wat = "wat-secret-value-123"
        status, _, doc = rt.invoke(
            {"prompt": "use the tool", "session_id": "fwd-" + era},
            headers={"Authorization": secret_jwt,
                     "WorkloadAccessToken": secret_wat,
                     "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant": "t-42",
                     "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Other": "no",
                     "X-Not-Forwarded": "no"},
            timeout=60)
        assert status == 200, doc
        calls = [e for e in read_log(mcp.log("gw"))
                 if e.get("event") == "request"
                 and e.get("method") == "tools/call"]
        assert calls
        hdrs = {k.lower(): v for k, v in calls[-1]["headers"].items()}
        assert hdrs.get("authorization") == secret_jwt
        assert hdrs.get("workloadaccesstoken") == secret_wat
        assert hdrs.get(
            "x-amzn-bedrock-agentcore-runtime-custom-tenant") == "t-42"
        assert "x-amzn-bedrock-agentcore-runtime-custom-other" not in hdrs
        assert "x-amzn-bedrock-agentcore-runtime-custom-absent" not in hdrs
        assert "x-not-forwarded" not in hdrs
        # Only tools/call carries them, not the list or the handshake.
        others = [e for e in read_log(mcp.log("gw"))
                  if e.get("event") == "request"
                  and e.get("method") != "tools/call"]
        for e in others:
            low = {k.lower() for k in e.get("headers", {})}
            assert "authorization" not in low, e
        out = wait_output(rt, '"status":200')
        for secret in ("secret-jwt-value", secret_wat):
            assert secret not in out
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.parametrize("entry,why", [
    ({"command": "true", "forward_headers": ["Authorization"]},
     "forward_headers"),
    ({"url": "http://127.0.0.1:1/mcp", "forward_headers": ["Bad Name"]},
     "forward_headers[0]"),
    ({"url": "http://127.0.0.1:1/mcp", "forward_headers": ["Mcp-Session-Id"]},
     "forward_headers[0]"),
])
def test_forward_headers_checked_at_start(mcp, entry, why):
    mcp.add("x", entry)
    proc = subprocess.run([RUNTIME], env=dict(
        os.environ, MCP_CONFIG=mcp.write(), PORT=str(free_port()),
        AWS_EC2_METADATA_DISABLED="true"),
        capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2, proc.stderr
    assert "mcpServers.x." + why in proc.stderr, proc.stderr
