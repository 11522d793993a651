"""The http_request built-in through the real binary (issue 9): the fake
Bedrock asks for http_request against loopback HTTP servers started here,
and the toolResult is read back from the model's next request. Covers the
SSRF refusals (every literal spelling of a loopback address, a name that
resolves to loopback, a redirect to a refused address), HTTP_REQUEST_ALLOW
(IPs, CIDRs, names), the answer's shape (status, headers, text or base64
body), the size and time caps, and start-up validation."""

import base64
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import RUNTIME

RELEASE = threading.Event()  # lets stalled handlers go at teardown


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="text/plain; charset=utf-8",
              headers=(), length=True):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        self.server.hits.append(self.path)
        url = urlparse(self.path)
        q = parse_qs(url.query)
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        if url.path == "/text":
            self._send(200, "héllo wörld".encode(),
                       headers=[("X-Test", "one"), ("X-Test", "two")])
        elif url.path == "/bin":
            self._send(200, bytes(range(256)), "application/octet-stream")
        elif url.path == "/echo":
            self._send(201, json.dumps({
                "method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": data.decode()}).encode(), "application/json")
        elif url.path == "/redirect":
            self._send(int(q.get("code", ["302"])[0]), b"",
                       headers=[("Location", q["to"][0])])
        elif url.path == "/loop":
            n = int(q.get("n", ["0"])[0])
            self._send(302, b"", headers=[("Location",
                                           "/loop?n=%d" % (n + 1))])
        elif url.path == "/size":
            self._send(200, b"x" * int(q["n"][0]),
                       length=q.get("cl", ["1"])[0] == "1")
        elif url.path == "/stall":
            RELEASE.wait(10)  # bounded
            self._send(200, b"late")
        else:
            self._send(404, b"no such path")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle


def start_server(host):
    srv = ThreadingHTTPServer((host, 0), Handler)
    srv.daemon_threads = True
    srv.hits = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture
def servers():
    RELEASE.clear()
    a = start_server("127.0.0.1")
    b = start_server("127.0.0.2")
    yield a, b
    RELEASE.set()
    for s in (a, b):
        s.shutdown()
        s.server_close()


def base(srv):
    host, port = srv.server_address[:2]
    return "http://%s:%d" % (host, port)


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


SESSIONS = iter(range(10 ** 6))


def call(rt, fake, inputs):
    """Runs one http_request per input (one model turn); returns the
    toolResults in order."""
    fake.script([{"tool_use": [{"id": "t%d" % i, "name": "http_request",
                                "input": inp}
                               for i, inp in enumerate(inputs)]},
                 {"text": "done"}])
    status, _, doc = rt.invoke({"prompt": "fetch",
                                "session_id": "h%d" % next(SESSIONS)},
                               timeout=60)
    assert status == 200, doc
    msgs = converse_requests(fake)[-1]["body"]["messages"]
    results = [c["toolResult"] for c in msgs[2]["content"]]
    assert [r["toolUseId"] for r in results] == \
        ["t%d" % i for i in range(len(inputs))]
    return results


def ok_json(result):
    assert result["status"] == "success", result
    return result["content"][0]["json"]


def err_text(result):
    assert result["status"] == "error", result
    return result["content"][0]["text"]


# ---- (a) refusals without HTTP_REQUEST_ALLOW --------------------------------

def test_loopback_in_every_spelling_is_refused(start_runtime, fake, servers):
    a, _ = servers
    port = a.server_address[1]
    rt = start_runtime(TOOLS="http_request")
    cases = [
        ("http://127.0.0.1:%d/text", "127.0.0.1 is loopback"),
        ("http://localhost:%d/text", "is loopback"),
        ("http://2130706433:%d/text", "127.0.0.1 is loopback"),
        ("http://0x7f000001:%d/text", "127.0.0.1 is loopback"),
        ("http://0177.0.0.1:%d/text", "127.0.0.1 is loopback"),
        ("http://127.1:%d/text", "127.0.0.1 is loopback"),
        ("http://[::1]:%d/text", "::1 is loopback"),
        ("http://[::ffff:127.0.0.1]:%d/text",
         "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"),
        ("http://0.0.0.0:%d/text", "0.0.0.0 is unspecified"),
    ]
    results = call(rt, fake, [{"url": u % port} for u, _ in cases])
    for (url, why), res in zip(cases, results):
        text = err_text(res)
        assert text.startswith("Error: refused: "), (url, text)
        assert why in text, (url, text)
        assert text.endswith(
            "; add it to HTTP_REQUEST_ALLOW to allow it"), (url, text)
    # Refused before connecting: the server never saw a request.
    assert a.hits == []


def test_metadata_and_private_addresses_are_refused(start_runtime, fake):
    rt = start_runtime(TOOLS="http_request")
    cases = [
        ("http://169.254.169.254/latest/meta-data/",
         "169.254.169.254 is cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/",
         "fd00:ec2::254 is cloud metadata"),
        ("http://10.1.2.3/", "10.1.2.3 is private"),
        ("http://[64:ff9b::7f00:1]/", "is loopback (NAT64 127.0.0.1)"),
        ("http://[2002:a00:1::]/", "is private (6to4 10.0.0.1)"),
    ]
    results = call(rt, fake, [{"url": u} for u, _ in cases])
    for (url, why), res in zip(cases, results):
        assert why in err_text(res), (url, res)


# ---- (b) allowed with HTTP_REQUEST_ALLOW ----------------------------------

def test_allowed_ip_answers_status_headers_and_body(start_runtime, fake,
                                                    servers):
    a, _ = servers
    rt = start_runtime(TOOLS="calculator,http_request",
                       HTTP_REQUEST_ALLOW="127.0.0.1")
    r_text, r_bin, r_echo, r_head, r_404 = call(rt, fake, [
        {"url": base(a) + "/text"},
        {"url": base(a) + "/bin"},
        {"method": "PUT", "url": base(a) + "/echo",
         "headers": {"X-Custom": "v1", "Content-Type": "text/plain"},
         "body": "payload ✓"},
        {"method": "HEAD", "url": base(a) + "/text"},
        {"url": base(a) + "/nope"},
    ])
    doc = ok_json(r_text)
    assert doc["status"] == 200
    assert doc["body"] == "héllo wörld"
    assert doc["body_encoding"] == "text"
    assert doc["body_bytes"] == len("héllo wörld".encode())
    assert doc["headers"]["x-test"] == "one, two"
    assert doc["headers"]["content-type"] == "text/plain; charset=utf-8"
    assert doc["url"] == base(a) + "/text"
    assert doc["redirects"] == 0

    doc = ok_json(r_bin)
    assert doc["body_encoding"] == "base64"
    assert base64.b64decode(doc["body"]) == bytes(range(256))
    assert doc["body_bytes"] == 256

    doc = ok_json(r_echo)
    assert doc["status"] == 201
    echo = json.loads(doc["body"])
    assert echo["method"] == "PUT"
    assert echo["body"] == "payload ✓"
    assert echo["headers"]["x-custom"] == "v1"
    assert echo["headers"]["content-type"] == "text/plain"

    doc = ok_json(r_head)
    assert doc["status"] == 200 and doc["body"] == ""

    assert ok_json(r_404)["status"] == 404


def test_allow_by_cidr_and_by_host_name(start_runtime, fake, servers):
    a, _ = servers
    port = a.server_address[1]
    rt = start_runtime(TOOLS="http_request",
                       HTTP_REQUEST_ALLOW=" LocalHost , 127.0.0.0/30")
    by_name, by_cidr, short, refused = call(rt, fake, [
        {"url": "http://localhost:%d/text" % port},
        {"url": "http://127.0.0.1:%d/text" % port},
        {"url": "http://127.1:%d/text" % port},
        {"url": "http://127.0.0.4:%d/text" % port},
    ])
    assert ok_json(by_name)["body"] == "héllo wörld"
    assert ok_json(by_cidr)["status"] == 200
    assert ok_json(short)["status"] == 200
    assert "127.0.0.4 is loopback" in err_text(refused)


def test_bad_input_is_an_error_result(start_runtime, fake, servers):
    a, _ = servers
    rt = start_runtime(TOOLS="http_request",
                       HTTP_REQUEST_ALLOW="127.0.0.1")
    crlf, scheme, relative = call(rt, fake, [
        {"url": base(a) + "/echo", "headers": {"X-A": "a\r\nX-B: b"}},
        {"url": "file:///etc/passwd"},
        {"url": "/just/a/path"},
    ])
    assert "header 'X-A' contains CR, LF or NUL" in err_text(crlf)
    assert "http:// or https://" in err_text(scheme) or \
        "not a valid absolute URL" in err_text(scheme)
    assert "not a valid absolute URL" in err_text(relative)
    assert a.hits == []


# ---- (c) redirects ---------------------------------------------------------

def test_redirect_to_a_refused_address_is_refused(start_runtime, fake,
                                                  servers):
    a, b = servers
    rt = start_runtime(TOOLS="http_request",
                       HTTP_REQUEST_ALLOW="127.0.0.1")
    to_b, to_a, to_file = call(rt, fake, [
        {"url": base(a) + "/redirect?to=" + base(b) + "/text"},
        {"url": base(a) + "/redirect?code=307&to=/text"},
        {"url": base(a) + "/redirect?to=file:///etc/passwd"},
    ])
    text = err_text(to_b)
    assert "refused: 127.0.0.2 is loopback" in text, text
    assert b.hits == []  # the redirect target never saw a request
    doc = ok_json(to_a)
    assert doc["redirects"] == 1 and doc["body"] == "héllo wörld"
    assert doc["url"] == base(a) + "/text"
    assert "redirect location" in err_text(to_file)


def test_redirects_are_bounded_and_drop_credentials_across_origins(
        start_runtime, fake, servers):
    a, b = servers
    rt = start_runtime(TOOLS="http_request",
                       HTTP_REQUEST_ALLOW="127.0.0.0/8")
    cross, too_many, post303 = call(rt, fake, [
        {"url": base(a) + "/redirect?to=" + base(b) + "/echo",
         "headers": {"Authorization": "Bearer sekrit", "X-Keep": "k"}},
        {"url": base(a) + "/loop"},
        {"method": "POST", "url": base(a) + "/redirect?code=303&to=/echo",
         "body": "gone"},
    ])
    echo = json.loads(ok_json(cross)["body"])
    assert echo["headers"]["x-keep"] == "k"
    assert "authorization" not in echo["headers"]
    assert "too many redirects (maximum 5)" in err_text(too_many)
    assert len([h for h in a.hits if h.startswith("/loop")]) == 6
    echo = json.loads(ok_json(post303)["body"])
    assert echo["method"] == "GET" and echo["body"] == ""


# ---- (d) size cap ------------------------------------------------------------

def test_response_size_cap(start_runtime, fake, servers):
    a, _ = servers
    rt = start_runtime(TOOLS="http_request", HTTP_REQUEST_ALLOW="127.0.0.1",
                       HTTP_REQUEST_MAX_BYTES="1000")
    exact, over_cl, over_stream = call(rt, fake, [
        {"url": base(a) + "/size?n=1000"},
        {"url": base(a) + "/size?n=5000"},
        {"url": base(a) + "/size?n=200000&cl=0"},
    ])
    assert ok_json(exact)["body_bytes"] == 1000
    for r in (over_cl, over_stream):
        assert "response body larger than 1000 bytes " \
            "(HTTP_REQUEST_MAX_BYTES)" in err_text(r)


# ---- (e) time cap ------------------------------------------------------------

def test_stalling_server_hits_the_time_cap(start_runtime, fake, servers):
    a, _ = servers
    rt = start_runtime(TOOLS="http_request", HTTP_REQUEST_ALLOW="127.0.0.1",
                       HTTP_REQUEST_TIMEOUT_SECONDS="1")
    t0 = time.monotonic()
    (res,) = call(rt, fake, [{"url": base(a) + "/stall"}])
    assert time.monotonic() - t0 < 4
    assert "request timed out after 1 s (HTTP_REQUEST_TIMEOUT_SECONDS)" \
        in err_text(res)


def test_tool_deadline_caps_the_request(start_runtime, fake, servers):
    a, _ = servers
    rt = start_runtime(TOOLS="http_request", HTTP_REQUEST_ALLOW="127.0.0.1",
                       HTTP_REQUEST_TIMEOUT_SECONDS="30",
                       TOOL_TIMEOUT_SECONDS="1")
    t0 = time.monotonic()
    (res,) = call(rt, fake, [{"url": base(a) + "/stall"}])
    assert time.monotonic() - t0 < 4
    text = err_text(res)
    assert "timed out after 1 s" in text, text
    # It stopped by itself at the deadline: it was not abandoned.
    assert "abandoned" not in text, text


# ---- (f) start-up validation -------------------------------------------------

@pytest.mark.parametrize("value,why", [
    ("127.0.0.1,10.0.0.1/8", "bad entry '10.0.0.1/8': address has bits set "
                             "beyond the prefix length"),
    ("0177.0.0.1", "bad entry '0177.0.0.1': not a valid IP address"),
    ("10.0.0.0/33", "bad entry '10.0.0.0/33': prefix length must be 0..32"),
    ("exa mple.com", "bad entry 'exa mple.com'"),
])
def test_bad_allow_list_fails_start_up(value, why):
    p = subprocess.run([RUNTIME], env={"HTTP_REQUEST_ALLOW": value,
                                       "AWS_EC2_METADATA_DISABLED": "true",
                                       "PORT": "1"},
                       capture_output=True, timeout=10, text=True)
    assert p.returncode == 2, p
    assert p.stderr.startswith("strands-runtime: configuration error: "
                               "HTTP_REQUEST_ALLOW: "), p.stderr
    assert why in p.stderr, p.stderr
