"""Fake AgentCore Memory data plane (CreateEvent, ListEvents) on loopback.

Speaks the restJson1 wire protocol of the bedrock-agentcore data plane:
  POST /memories/{memoryId}/events                          CreateEvent (201)
  POST /memories/{memoryId}/actor/{actorId}/sessions/{sid}  ListEvents  (200)
Validates like the service documents (required fields, id patterns,
payload shapes, conversational text <= 100,000 characters, <= 15 metadata
entries, maxResults 1..100), honours clientToken (a retried CreateEvent
returns the first event), lists newest first with opaque nextToken
pagination and eventMetadata filters, and checks SigV4 (service
"bedrock-agentcore") independently with botocore (fake_aws.verify_sigv4).

Control API (unsigned):
  POST /__fake/fail    {"operation": "CreateEvent"|"ListEvents"|"*",
                        "code": "ThrottlingException", "status": 429,
                        "count": N, "after": K}  -- the K+1th..K+Nth matching
                        calls fail with that error (count -1 = until reset);
                        {"clear": true} drops every injected failure
  POST /__fake/memories ["mem-..."]  -- only these memories exist (404
                        ResourceNotFoundException for others); [] = any
  GET  /__fake/events  -- every stored event, oldest first
  GET  /__fake/requests, POST /__fake/reset, GET /__fake/health
CLI: python3 fake_agentcore_memory.py [--port N] prints {"port": N}.
"""

import argparse
import base64
import json
import os
import re
import sys
import uuid
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fake_aws  # noqa: E402
import fake_base  # noqa: E402

MEMORY_ID_RE = re.compile(
    r"^(arn:(aws|aws-cn|aws-us-gov):bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:"
    r"memory/)?[a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10}$")
ACTOR_ID_RE = re.compile(
    r"^[a-zA-Z0-9][a-zA-Z0-9-_/]*(?::[a-zA-Z0-9-_/]+)*[a-zA-Z0-9-_/]*$")
SESSION_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]*$")
METADATA_KEY_RE = re.compile(r"^[a-zA-Z0-9\s._:/=+@-]*$")
ROLES = ("ASSISTANT", "USER", "TOOL", "OTHER")
CONVERSATIONAL_MAX = 100000
CREATE_RE = re.compile(r"^/memories/([^/]+)/events$")
LIST_RE = re.compile(r"^/memories/([^/]+)/actor/([^/]+)/sessions/([^/]+)$")


class _Invalid(Exception):
    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _check_id(value, name, pattern, lo, hi):
    if not isinstance(value, str):
        raise _Invalid("%s is required and must be a string" % name, name)
    if not lo <= len(value) <= hi:
        raise _Invalid("%s must be %d..%d characters" % (name, lo, hi), name)
    if not pattern.match(value):
        raise _Invalid("%s does not match the pattern %s"
                       % (name, pattern.pattern), name)


def _check_payload(payload):
    if not isinstance(payload, list) or not 1 <= len(payload) <= 100:
        raise _Invalid("payload must be a list of 1..100 items", "payload")
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or len(item) != 1 or \
                next(iter(item)) not in ("conversational", "blob"):
            raise _Invalid("payload[%d] must set exactly one of "
                           "conversational, blob" % i, "payload")
        if "conversational" in item:
            conv = item["conversational"]
            if not isinstance(conv, dict):
                raise _Invalid("payload[%d].conversational must be an "
                               "object" % i, "payload")
            content = conv.get("content")
            if not isinstance(content, dict) or \
                    not isinstance(content.get("text"), str):
                raise _Invalid("payload[%d].conversational.content.text is "
                               "required" % i, "payload")
            if not 1 <= len(content["text"]) <= CONVERSATIONAL_MAX:
                raise _Invalid("payload[%d].conversational.content.text must "
                               "be 1..%d characters" % (i, CONVERSATIONAL_MAX),
                               "payload")
            if conv.get("role") not in ROLES:
                raise _Invalid("payload[%d].conversational.role must be one "
                               "of %s" % (i, ", ".join(ROLES)), "payload")


def _check_metadata(md):
    if md is None:
        return
    if not isinstance(md, dict) or len(md) > 15:
        raise _Invalid("metadata must be a map of at most 15 entries",
                       "metadata")
    for key, value in md.items():
        if not 1 <= len(key) <= 128 or not METADATA_KEY_RE.match(key):
            raise _Invalid("metadata key %r is not valid" % key, "metadata")
        if not isinstance(value, dict) or list(value) != ["stringValue"] or \
                not isinstance(value["stringValue"], str):
            raise _Invalid("metadata[%r] must be {stringValue: string}" % key,
                           "metadata")


def _matches(event, filters):
    md = event.get("metadata") or {}
    for f in filters:
        key = (f.get("left") or {}).get("metadataKey")
        op = f.get("operator")
        if op == "EXISTS":
            ok = key in md
        elif op == "NOT_EXISTS":
            ok = key not in md
        else:
            want = ((f.get("right") or {}).get("metadataValue") or {}) \
                .get("stringValue")
            ok = key in md and md[key].get("stringValue") == want
        if not ok:
            return False
    return True


class FakeAgentCoreMemory(fake_aws._FakeBase):
    service = "bedrock-agentcore"

    def __init__(self, memories=(), **kw):
        super().__init__(**kw)
        self._memories = set(memories)
        self._events = []          # oldest first (insertion)
        self._tokens = {}          # (memoryId, clientToken) -> event
        self._page_tokens = {}     # nextToken -> (query key, offset)
        self._fail = []            # injected failures

    # -- Python API
    def events(self, memory_id=None):
        with self._lock:
            return json.loads(json.dumps(
                [e for e in self._events
                 if memory_id is None or e["memoryId"] == memory_id]))

    def fail(self, operation="*", code="ThrottlingException", status=429,
             count=1, after=0, message=None):
        with self._lock:
            self._fail.append({"operation": operation, "code": code,
                               "status": status, "count": count,
                               "after": after,
                               "message": message or "Rate exceeded"})

    def reset(self):
        super().reset()
        with self._lock:
            self._events.clear()
            self._tokens.clear()
            self._page_tokens.clear()
            self._fail.clear()

    # -- control API
    def _control(self, handler, path, body):
        try:
            doc = json.loads(body) if body else None
        except ValueError as exc:
            handler.send_json(400, {"message": str(exc)})
            return
        if path == "/__fake/fail" and handler.command == "POST":
            if doc.get("clear"):
                with self._lock:
                    self._fail.clear()
            else:
                self.fail(**doc)
            handler.send_json(200, {"ok": True})
        elif path == "/__fake/memories" and handler.command == "POST":
            with self._lock:
                self._memories = set(doc or ())
            handler.send_json(200, {"ok": True})
        elif path == "/__fake/events":
            handler.send_json(200, self.events())
        else:
            self._control_common(handler, path, body)

    # -- errors
    def _error(self, handler, entry, code, message, status=400, extra=None):
        entry["status"] = status
        entry["error"] = code
        body = {"message": message}
        body.update(extra or {})
        handler.send_json(status, body,
                          headers=[("x-amzn-ErrorType", code),
                                   ("x-amzn-RequestId", str(uuid.uuid4()))])

    def _injected(self, operation):
        with self._lock:
            for f in self._fail:
                if f["operation"] not in ("*", operation) or f["count"] == 0:
                    continue
                if f["after"] > 0:
                    f["after"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                return f
        return None

    # -- requests
    def _handle(self, handler, body):
        raw_path = handler.path.split("?", 1)[0]
        m_create = CREATE_RE.match(raw_path) if handler.command == "POST" \
            else None
        m_list = LIST_RE.match(raw_path) if handler.command == "POST" \
            else None
        operation = "CreateEvent" if m_create else \
            "ListEvents" if m_list else None
        entry = self._record(handler, body, operation=operation,
                             signature_valid=None)
        denied = self._check_auth(handler, body, entry)
        if denied:
            self._error(handler, entry, denied[0], denied[1], 403)
            return
        if operation is None:
            self._error(handler, entry, "UnknownOperationException",
                        "no operation at %s %s" % (handler.command, raw_path),
                        404)
            return
        injected = self._injected(operation)
        if injected:
            self._error(handler, entry, injected["code"], injected["message"],
                        injected["status"])
            return
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError("body is not an object")
        except ValueError:
            self._error(handler, entry, "SerializationException",
                        "request body is not a JSON object", 400)
            return
        groups = (m_create or m_list).groups()
        memory_id = unquote(groups[0])
        try:
            _check_id(memory_id, "memoryId", MEMORY_ID_RE, 12, 200)
            if operation == "CreateEvent":
                out, status = self._create(memory_id, request), 201
            else:
                out, status = self._list(memory_id, unquote(groups[1]),
                                         unquote(groups[2]), request), 200
        except _Invalid as exc:
            self._error(handler, entry, "ValidationException", str(exc), 400,
                        {"reason": "FIELD_VALIDATION_FAILED",
                         "fieldList": [{"name": exc.field or "body",
                                        "message": str(exc)}]})
            return
        except LookupError as exc:
            self._error(handler, entry, "ResourceNotFoundException",
                        str(exc.args[0]), 404)
            return
        entry["status"] = status
        handler.send_json(status, out,
                          headers=[("x-amzn-RequestId", str(uuid.uuid4()))])

    def _known(self, memory_id):
        with self._lock:
            if self._memories and memory_id not in self._memories:
                raise LookupError("Memory %s not found" % memory_id)

    def _create(self, memory_id, req):
        self._known(memory_id)
        _check_id(req.get("actorId"), "actorId", ACTOR_ID_RE, 1, 255)
        if req.get("sessionId") is not None:
            _check_id(req["sessionId"], "sessionId", SESSION_ID_RE, 1, 100)
        ts = req.get("eventTimestamp")
        if not isinstance(ts, (int, float)) or isinstance(ts, bool):
            raise _Invalid("eventTimestamp is required (epoch seconds)",
                           "eventTimestamp")
        _check_payload(req.get("payload"))
        _check_metadata(req.get("metadata"))
        token = req.get("clientToken")
        if token is not None and (not isinstance(token, str) or
                                  not 1 <= len(token) <= 256):
            raise _Invalid("clientToken must be 1..256 characters",
                           "clientToken")
        branch = req.get("branch") or {"name": "main"}
        with self._lock:
            if token is not None and (memory_id, token) in self._tokens:
                return {"event": self._tokens[(memory_id, token)]}
            ms = int(round(ts * 1000))
            event = {"memoryId": memory_id, "actorId": req["actorId"],
                     "sessionId": req.get("sessionId"),
                     "eventId": "%019d#%s" % (ms, uuid.uuid4().hex[:8]),
                     "eventTimestamp": ms / 1000.0,
                     "payload": req["payload"], "branch": branch}
            if req.get("metadata"):
                event["metadata"] = req["metadata"]
            self._events.append(event)
            if token is not None:
                self._tokens[(memory_id, token)] = event
            return {"event": json.loads(json.dumps(event))}

    def _list(self, memory_id, actor_id, session_id, req):
        self._known(memory_id)
        _check_id(actor_id, "actorId", ACTOR_ID_RE, 1, 255)
        _check_id(session_id, "sessionId", SESSION_ID_RE, 1, 100)
        max_results = req.get("maxResults", 20)
        if not isinstance(max_results, int) or not 1 <= max_results <= 100:
            raise _Invalid("maxResults must be 1..100", "maxResults")
        include = req.get("includePayloads", True)
        filters = (req.get("filter") or {}).get("eventMetadata") or []
        key = json.dumps([memory_id, actor_id, session_id, filters])
        offset = 0
        with self._lock:
            if req.get("nextToken") is not None:
                saved = self._page_tokens.get(req["nextToken"])
                if saved is None or saved[0] != key:
                    raise _Invalid("nextToken is not valid", "nextToken")
                offset = saved[1]
            matching = [e for e in self._events
                        if e["memoryId"] == memory_id and
                        e["actorId"] == actor_id and
                        e["sessionId"] == session_id and
                        _matches(e, filters)]
            # Newest first, as the service lists them.
            matching.sort(key=lambda e: (e["eventTimestamp"], e["eventId"]),
                          reverse=True)
            page = matching[offset:offset + max_results]
            out = {"events": []}
            for e in page:
                e = json.loads(json.dumps(e))
                if not include:
                    e["payload"] = []
                out["events"].append(e)
            if offset + max_results < len(matching):
                token = base64.urlsafe_b64encode(os.urandom(24)).decode()
                self._page_tokens[token] = (key, offset + max_results)
                out["nextToken"] = token
        return out


def start_fake_agentcore_memory(**kw):
    return FakeAgentCoreMemory(**kw).start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--credentials", action="append", default=[],
                        metavar="AKID:SECRET[:TOKEN]")
    parser.add_argument("--region", default=None)
    parser.add_argument("--memory", action="append", default=[])
    args = parser.parse_args(argv)
    creds = None
    if args.credentials:
        creds = {}
        for c in args.credentials:
            parts = c.split(":")
            creds[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    fake = FakeAgentCoreMemory(port=args.port, credentials=creds,
                               region=args.region, memories=args.memory)
    fake_base.serve_until_signal(fake._httpd, {"port": fake.port})
    fake._httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
