"""Start and stop the MCP servers the MCP client's tests talk to: the
reference server @modelcontextprotocol/server-everything (pinned in
js/package.json, installed by `npm ci` in tests/fakes/js) over stdio and
Streamable HTTP, and tests/fakes/fake_mcp.py. Standard library only.

How server-everything 2026.8.31 starts (see MCP_NOTES.md for what it answers):
  stdio:  node tests/fakes/js/node_modules/@modelcontextprotocol/
               server-everything/dist/index.js stdio
          (same as tests/fakes/js/node_modules/.bin/mcp-server-everything
          stdio; "stdio" is also the default). Writes one line
          "Starting default (STDIO) server..." to stderr; exits 0 when its
          stdin closes.
  HTTP:   PORT=<port> node --require tests/fakes/js/loopback_listen.cjs
               .../server-everything/dist/index.js streamableHttp
          Port from the PORT environment variable (default 3001; no flag);
          endpoint path /mcp (POST, GET for the session's SSE stream,
          DELETE to end the session). On its own it listens on every
          interface; the loopback_listen.cjs preload makes it 127.0.0.1 only.
          Ready when "MCP Streamable HTTP Server listening on port <port>"
          is on stderr (the port then accepts connections); it logs to
          stdout too. Stop it with SIGINT or SIGTERM.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

from fake_mcp import read_log  # noqa: F401  (re-exported for tests)

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")
NODE_MODULES = os.path.join(JS_DIR, "node_modules")
EVERYTHING_JS = os.path.join(NODE_MODULES, "@modelcontextprotocol",
                             "server-everything", "dist", "index.js")
LOOPBACK_PRELOAD = os.path.join(JS_DIR, "loopback_listen.cjs")
ORACLE = os.path.join(JS_DIR, "mcp_oracle.mjs")
FAKE_MCP = os.path.join(HERE, "fake_mcp.py")
PYTHON = "/usr/bin/python3"

# The tools server-everything 2026.8.31 lists to a client that declares no
# capabilities, in its order, all on one page (no nextCursor). The last one
# is registered only after notifications/initialized (the server then sends
# notifications/tools/list_changed).
EVERYTHING_TOOLS = [
    "echo", "get-annotated-message", "get-env", "get-resource-links",
    "get-resource-reference", "get-structured-content", "get-sum",
    "get-tiny-image", "gzip-file-as-resource", "toggle-simulated-logging",
    "toggle-subscriber-updates", "trigger-long-running-operation",
    "simulate-research-query",
]


def node():
    """The node binary, or None."""
    return shutil.which("node")


def everything_missing():
    """Why server-everything cannot run here (a skip message), or None."""
    if node() is None:
        return "node not installed"
    if not os.path.isfile(EVERYTHING_JS):
        return ("@modelcontextprotocol/server-everything not installed: run "
                "`cd tests/fakes/js && npm ci`")
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def everything_stdio_argv():
    """argv that starts server-everything over stdio."""
    return [node() or "node", EVERYTHING_JS, "stdio"]


def everything_http_argv():
    """argv that starts server-everything over Streamable HTTP on
    127.0.0.1 (the port comes from the PORT environment variable)."""
    return [node() or "node", "--require", LOOPBACK_PRELOAD, EVERYTHING_JS,
            "streamableHttp"]


def fake_mcp_argv(*args):
    """argv that starts fake_mcp.py with the given options."""
    return [PYTHON, FAKE_MCP] + [str(a) for a in args]


class HttpServer:
    """A running HTTP MCP server process; url is its MCP endpoint."""

    def __init__(self, proc, url, log_path=None):
        self.proc, self.url, self.log_path = proc, url, log_path
        self.base = url[:-len("/mcp")]

    def stop(self):
        stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def stop(proc, timeout=5):
    """SIGTERM, then SIGKILL after timeout; always reaps."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    for f in (proc.stdout, proc.stderr, proc.stdin):
        if f is not None:
            f.close()


def _wait_port(proc, port, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on %d in time" % port)


def start_everything_http(port=None, timeout=20):
    """Starts server-everything over Streamable HTTP on 127.0.0.1."""
    port = port or free_port()
    env = dict(os.environ, PORT=str(port))
    proc = subprocess.Popen(everything_http_argv(), env=env,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_port(proc, port, time.monotonic() + timeout)
    except Exception:
        stop(proc)
        raise
    return HttpServer(proc, "http://127.0.0.1:%d/mcp" % port)


def start_fake_http(*args, log_path=None, timeout=10):
    """Starts fake_mcp.py --http 0 with the given extra options; reads
    the URL from its first stdout line."""
    argv = fake_mcp_argv("--http", "0", *args)
    if log_path:
        argv += ["--log", log_path]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline and not line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    if "listening on " not in line:
        stop(proc)
        raise RuntimeError("fake_mcp did not start: %r" % line)
    return HttpServer(proc, line.split("listening on ", 1)[1].strip(),
                      log_path)


def run_oracle(*args, timeout=120):
    """Runs js/mcp_oracle.mjs; returns (exit code, parsed JSON, stderr)."""
    res = subprocess.run([node() or "node", ORACLE] + list(args), cwd=JS_DIR,
                         capture_output=True, text=True, timeout=timeout)
    try:
        out = json.loads(res.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        out = {"ok": False, "raw": res.stdout}
    return res.returncode, out, res.stderr
