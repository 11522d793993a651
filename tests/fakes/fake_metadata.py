#!/usr/bin/python3
"""Loopback fakes of the two AWS metadata credential services, for tests.

Owns: FakeContainerCredentials (the ECS / EKS Pod Identity credentials
endpoint: GET with an Authorization token, JSON answer) and FakeIMDS (EC2
instance metadata / AgentCore MMDS: PUT /latest/api/token, then
GET .../iam/security-credentials/[role] with the session token), both
recording every request. Failure modes: HTTP errors, bad JSON, a
non-Success Code, wrong tokens, and a bounded "hang" that never answers.
The server lifecycle comes from fake_base. Standard library only; run with
/usr/bin/python3.
"""

import copy
import http.server
import json
import secrets
import socket
import threading
from datetime import datetime, timedelta, timezone

import fake_base

TOKEN_PATH = "/latest/api/token"
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
MAX_HANG_S = 30.0


def iso8601(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_credentials(prefix="ASIAFAKEMETADATA", hours=6):
    """A fresh credentials document (random secret and token) expiring in
    `hours`, as both services return it."""
    exp = datetime.now(timezone.utc).replace(microsecond=0) + \
        timedelta(hours=hours)
    return {
        "AccessKeyId": (prefix + secrets.token_hex(4).upper())[:20],
        "SecretAccessKey": secrets.token_urlsafe(30),
        "Token": "IQoJb3JpZ2luX2Vj" + secrets.token_urlsafe(96),
        "Expiration": iso8601(exp),
    }


def expiration_epoch(doc):
    return int(datetime.strptime(doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


class Request:
    """One recorded request: method, path (with query), lower-cased headers
    (a dict: name -> value) and body bytes."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def __repr__(self):
        return "Request(%s %s %s)" % (self.method, self.path,
                                      sorted(self.headers))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.request_record = req = Request(self.command, self.path,
                                            headers, body)
        fake = self.server.fake
        fake._record(req)
        try:
            fake._handle(self, req)
        except (ConnectionError, socket.timeout):
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = _dispatch

    def send_response(self, code, message=None):
        hook = self.server.fake.before_answer
        req = getattr(self, "request_record", None)
        if hook is not None and req is not None:
            hook(req)
        super().send_response(code, message)

    def send_text(self, status, text, content_type="text/plain"):
        data = text.encode("utf-8") if isinstance(text, str) else text
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        self.send_text(status, json.dumps(obj), "application/json")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _MetadataFake(fake_base.LoopbackServer):
    """Lifecycle (fake_base) and request log shared by both fakes.
    `before_answer`, when set, is called with each Request once the fake
    has decided its answer and just before sending it, so whatever it
    changes (files, settings) is in place for the client's next request."""

    def __init__(self, host="127.0.0.1", port=0, hang_s=5.0):
        self.hang_s = min(float(hang_s), MAX_HANG_S)
        self.before_answer = None
        self._requests = []
        self._released = threading.Event()
        super().__init__(host=host, port=port, handler_class=_Handler,
                         server_class=_Server6 if ":" in host else _Server)

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def reset_requests(self):
        with self._lock:
            self._requests.clear()

    def stop(self):
        self._released.set()  # ends any hang at once
        super().stop()

    def _record(self, req):
        with self._lock:
            self._requests.append(req)

    def _hang(self, handler):
        """Never answers: waits at most hang_s (or until stop), then drops
        the connection without a response."""
        self._released.wait(self.hang_s)
        fake_base.drop_connection(handler)


class FakeContainerCredentials(_MetadataFake):
    """The container credentials endpoint (ECS agent, EKS Pod Identity
    agent). GET <path> answers the credentials JSON when the Authorization
    header equals `token` (any or none accepted when token is None).

    mode: "ok" | "error" (HTTP `status`, JSON error body) | "bad_json" |
    "hang". A wrong or missing token gets 401 like the EKS agent's
    AccessDeniedException. `account_id` adds "AccountId" to the answer.
    """

    def __init__(self, token=None, credentials=None, path="/v1/credentials",
                 mode="ok", status=500, account_id=None, **kw):
        super().__init__(**kw)
        self.token = token
        self.credentials = credentials or make_credentials("ASIACONTAINER")
        self.path = path
        self.mode = mode
        self.status = status
        self.account_id = account_id

    @property
    def full_uri(self):
        return self.url + self.path

    def _handle(self, h, req):
        if req.method != "GET" or req.path != self.path:
            h.send_json(404, {"Code": "NotFound",
                              "Message": "no such credentials path"})
            return
        if self.token is not None and \
                req.headers.get("authorization") != self.token:
            h.send_json(401, {"Code": "AccessDeniedException",
                              "Message": "invalid authorization token"})
            return
        if self.mode == "hang":
            self._hang(h)
        elif self.mode == "error":
            h.send_json(self.status, {"Code": "InternalError",
                                      "Message": "fake failure"})
        elif self.mode == "bad_json":
            h.send_text(200, '{"AccessKeyId": "%s", "SecretAccess'
                        % self.credentials["AccessKeyId"],
                        "application/json")
        else:
            doc = copy.deepcopy(self.credentials)
            if self.account_id is not None:
                doc["AccountId"] = self.account_id
            h.send_json(200, doc)


class FakeIMDS(_MetadataFake):
    """EC2 instance metadata (and AgentCore's MMDS), IMDSv2 by default.

    PUT /latest/api/token needs x-aws-ec2-metadata-token-ttl-seconds in
    1..21600 (else 400) and answers a fresh random session token (kept in
    `issued_tokens`). GETs need a valid x-aws-ec2-metadata-token (else 401)
    unless v1_allowed, in which case a missing token is accepted too.

    token_status: answer the token PUT with this HTTP status instead (e.g.
    403/404/405: "no IMDSv2", 500). role: the role name (None: 404, no role
    attached). code: the credentials document's "Code". role_status /
    creds_status: HTTP status for those GETs instead. hang: None, "token",
    "role" or "credentials": that step never answers (bounded by hang_s).
    """

    def __init__(self, role="strands-test-role", credentials=None,
                 code="Success", v1_allowed=False, token_status=None,
                 role_status=None, creds_status=None, hang=None, **kw):
        super().__init__(**kw)
        self.role = role
        self.credentials = credentials or make_credentials("ASIAIMDS")
        self.code = code
        self.v1_allowed = v1_allowed
        self.token_status = token_status
        self.role_status = role_status
        self.creds_status = creds_status
        self.hang = hang
        self.issued_tokens = []

    def _token_ok(self, req):
        tok = req.headers.get(TOKEN_HEADER)
        if tok is None:
            return self.v1_allowed
        with self._lock:
            return tok in self.issued_tokens

    def _handle(self, h, req):
        path = req.path.split("?", 1)[0]
        if path == TOKEN_PATH:
            self._token(h, req)
        elif req.method != "GET":
            h.send_text(405, "Method Not Allowed")
        elif not path.startswith(ROLE_PATH):
            h.send_text(404, "Not Found")
        elif not self._token_ok(req):
            h.send_text(401, "Unauthorized")
        elif path == ROLE_PATH:
            self._role(h)
        else:
            self._creds(h, path[len(ROLE_PATH):])

    def _token(self, h, req):
        if req.method != "PUT":
            h.send_text(405, "Method Not Allowed")
            return
        if self.hang == "token":
            self._hang(h)
            return
        if self.token_status is not None:
            h.send_text(self.token_status, "Forbidden")
            return
        ttl = req.headers.get(TTL_HEADER, "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            h.send_text(400, "Bad Request")
            return
        tok = "AQAEA" + secrets.token_urlsafe(40)
        with self._lock:
            self.issued_tokens.append(tok)
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header(TTL_HEADER, ttl)
        h.send_header("Content-Length", str(len(tok)))
        h.end_headers()
        h.wfile.write(tok.encode("ascii"))

    def _role(self, h):
        if self.hang == "role":
            self._hang(h)
        elif self.role_status is not None:
            h.send_text(self.role_status, "error")
        elif self.role is None:
            h.send_text(404, "Not Found")
        else:
            h.send_text(200, self.role)

    def _creds(self, h, role):
        if self.hang == "credentials":
            self._hang(h)
        elif self.creds_status is not None:
            h.send_text(self.creds_status, "error")
        elif self.role is None or role != self.role:
            h.send_text(404, "Not Found")
        elif self.code != "Success":
            h.send_json(200, {"Code": self.code,
                              "Message": "fake: the role cannot be assumed",
                              "LastUpdated": iso8601(datetime.now(
                                  timezone.utc))})
        else:
            doc = {"Code": "Success",
                   "LastUpdated": iso8601(datetime.now(timezone.utc)),
                   "Type": "AWS-HMAC"}
            doc.update(self.credentials)
            h.send_json(200, doc)


def closed_port():
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
