#!/usr/bin/python3
"""Loopback fake of an AgentCore Gateway MCP endpoint with IAM (SigV4) auth.

Every request must carry a SigV4 signature for service "bedrock-agentcore"
(configurable) that botocore, recomputing it from the received request and
the known test credentials (fake_aws.verify_sigv4, Debian's botocore), finds
equal; otherwise 403 with an AWS-style error (x-amzn-ErrorType). Behind the
signature check it speaks a minimal MCP over Streamable HTTP in the legacy
(initialize) era: initialize (mints an Mcp-Session-Id), notifications (202),
ping, tools/list, tools/call (answered as SSE when the client accepts it),
DELETE of a session; a request with an unknown session id gets 404, one
without the negotiated MCP-Protocol-Version gets 400. Tools are named the
way Gateway names them: "<target>___<tool>".

Control: GET /__fake/requests (the log), /__fake/reset, /__fake/health,
POST /__fake/expire_sessions (forget every session).
Prints its base URL on the first stdout line. Exit status 3 when botocore
is not importable (callers skip). Standard library + botocore; run with
/usr/bin/python3.
"""

import argparse
import json
import os
import signal
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import fake_aws  # noqa: E402  (imports botocore)
except ImportError as exc:  # pragma: no cover - depends on the host
    print("fake_gateway: botocore is not available: %s" % exc,
          file=sys.stderr)
    sys.exit(3)

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")

TOOLS = [
    {"name": "calc___add",
     "description": "Adds two integers.",
     "inputSchema": {"type": "object",
                     "properties": {"a": {"type": "integer"},
                                    "b": {"type": "integer"}},
                     "required": ["a", "b"]}},
    {"name": "greeter___hello",
     "description": "Greets someone.",
     "inputSchema": {"type": "object",
                     "properties": {"name": {"type": "string"}},
                     "required": ["name"]}},
]


def _rpc_error(msg_id, code, message):
    return {"jsonrpc": "2.0", "id": msg_id,
            "error": {"code": code, "message": message}}


class FakeGateway(fake_aws._FakeBase):
    """The fake; credentials as fake_aws takes them ({akid: secret} or
    {akid: (secret, token)}), region the expected signing region."""

    service = "bedrock-agentcore"

    def __init__(self, service=None, **kw):
        super().__init__(**kw)
        if service:
            self.service = service
        self._sessions = {}  # id -> negotiated protocol version

    def _control(self, handler, path, body):
        if path == "/__fake/expire_sessions":
            with self._lock:
                self._sessions.clear()
            handler.send_json(200, {"ok": True})
        else:
            self._control_common(handler, path, body)

    def _reply(self, handler, entry, status, obj, headers=()):
        entry["status"] = status
        handler.send_json(status, obj, headers=headers)

    def _handle(self, handler, body):
        entry = self._record(handler, body)
        denied = self._authenticate(handler, body)
        if denied is not None:
            code, message = denied
            entry["auth_error"] = code
            entry["status"] = 403
            handler.send_json(403, {"message": message},
                              headers=[("x-amzn-ErrorType", code)])
            return
        sid = handler.headers.get("Mcp-Session-Id")
        if handler.command == "DELETE":
            with self._lock:
                known = self._sessions.pop(sid, None) is not None
            entry["status"] = 200 if known else 404
            handler.send_bytes(entry["status"], [], b"")
            return
        if handler.command != "POST":
            entry["status"] = 405
            handler.send_bytes(405, [("Allow", "POST, DELETE")], b"")
            return
        accept = handler.headers.get("Accept", "")
        if ("application/json" not in accept
                or "text/event-stream" not in accept):
            self._reply(handler, entry, 406, _rpc_error(
                None, -32000, "Not Acceptable: the client must accept "
                "application/json and text/event-stream"))
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self._reply(handler, entry, 400,
                        _rpc_error(None, -32700, "Parse error"))
            return
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            self._reply(handler, entry, 400,
                        _rpc_error(None, -32600, "Invalid Request"))
            return
        method, msg_id = msg.get("method"), msg.get("id")
        if method == "initialize":
            want = (msg.get("params") or {}).get("protocolVersion")
            version = want if want in SUPPORTED_VERSIONS \
                else SUPPORTED_VERSIONS[0]
            new_sid = uuid.uuid4().hex
            with self._lock:
                self._sessions[new_sid] = version
            self._reply(handler, entry, 200, {
                "jsonrpc": "2.0", "id": msg_id,
                "result": {"protocolVersion": version,
                           "capabilities": {"tools": {"listChanged": False}},
                           "serverInfo": {"name": "fake-agentcore-gateway",
                                          "version": "1.0.0"}}},
                headers=[("Mcp-Session-Id", new_sid)])
            return
        if not sid:
            self._reply(handler, entry, 400, _rpc_error(
                None, -32000, "Bad Request: Mcp-Session-Id header is "
                "required"))
            return
        with self._lock:
            version = self._sessions.get(sid)
        if version is None:
            self._reply(handler, entry, 404,
                        _rpc_error(None, -32001, "Session not found"))
            return
        if handler.headers.get("MCP-Protocol-Version") != version:
            self._reply(handler, entry, 400, _rpc_error(
                None, -32000, "Bad Request: MCP-Protocol-Version must be "
                "%s" % version))
            return
        if msg_id is None:  # a notification
            entry["status"] = 202
            handler.send_bytes(202, [], b"")
            return
        result, error = self._call(method, msg.get("params") or {})
        reply = ({"jsonrpc": "2.0", "id": msg_id, "result": result}
                 if error is None else _rpc_error(msg_id, *error))
        if method == "tools/call":  # streamed, as Gateway may
            entry["status"] = 200
            data = ("event: message\ndata: %s\n\n" % json.dumps(reply))
            handler.send_bytes(200, [("Content-Type", "text/event-stream"),
                                     ("Cache-Control", "no-cache")],
                               data.encode("utf-8"))
            return
        self._reply(handler, entry, 200, reply)

    def _call(self, method, params):
        if method == "ping":
            return {}, None
        if method == "tools/list":
            return {"tools": TOOLS}, None
        if method == "tools/call":
            name, args = params.get("name"), params.get("arguments") or {}
            if name == "calc___add":
                try:
                    total = int(args["a"]) + int(args["b"])
                except (KeyError, TypeError, ValueError):
                    return {"content": [{"type": "text",
                                         "text": "a and b must be integers"}],
                            "isError": True}, None
                return {"content": [{"type": "text", "text": str(total)}],
                        "structuredContent": {"sum": total}}, None
            if name == "greeter___hello":
                return {"content": [{"type": "text", "text": "Hello, %s!"
                                     % args.get("name", "world")}]}, None
            return None, (-32602, "Unknown tool: %s" % name)
        return None, (-32601, "Method not found: %s" % method)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", default=fake_aws.EXAMPLE_ACCESS_KEY)
    ap.add_argument("--secret-key", default=fake_aws.EXAMPLE_SECRET_KEY)
    ap.add_argument("--session-token", default=None)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--service", default=None)
    args = ap.parse_args(argv)
    fake = FakeGateway(
        service=args.service, region=args.region, port=args.port,
        credentials={args.access_key: (args.secret_key, args.session_token)})
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    while not stop.wait(0.2):
        if os.getppid() == 1:  # the test that started us is gone
            break
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
