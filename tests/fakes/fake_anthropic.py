#!/usr/bin/python3
"""Loopback fake of the Anthropic Messages API (POST /v1/messages) for
integration tests: streamed (SSE) and plain JSON answers, tool use,
extended thinking with signatures, redacted thinking, usage with cache
tokens, every stop reason, HTTP and in-stream errors.

Owns: Anthropic-like request validation (headers, body, tool pairing,
thinking signatures, a forced tool_choice naming a declared tool and not
combined with thinking), what a script step answers, the SSE encoder with
deltas split at random points, the fields of a request-log entry, and the
CLI entry point. The HTTP server, lifecycle, FIFO script and /__fake/*
control API, the chunked writer and the stream loop come from fake_base.
Standard library only.
Its answers are checked against the official @anthropic-ai/sdk by
tests/integration/test_anthropic_fake.py.
"""

import argparse
import json
import random
import sys
import time
import uuid

import fake_base

DEFAULT_KEY = "sk-ant-test-0123456789"

# The HTTP status of each error type (Anthropic's errors page).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# What the runtime sends, and what @anthropic-ai/sdk 1.x sends (that
# version no longer takes temperature, top_p or top_k).
API_VERSIONS = ("2023-06-01", "2026-10-21")

STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use",
                "pause_turn", "refusal")

CONTENT_TYPES = ("text", "image", "document", "tool_use", "tool_result",
                 "thinking", "redacted_thinking")


class ValidationError(Exception):
    pass


# --------------------------------------------------------------------------
# Request validation (what the real API refuses with invalid_request_error)
# --------------------------------------------------------------------------

def _check_block(block, where, role):
    if not isinstance(block, dict) or block.get("type") not in CONTENT_TYPES:
        raise ValidationError("%s: unknown content block type %r"
                              % (where, block.get("type")
                                 if isinstance(block, dict) else block))
    kind = block["type"]
    if kind == "text" and not (isinstance(block.get("text"), str)
                               and block["text"]):
        raise ValidationError("%s: text content blocks must be non-empty"
                              % where)
    if kind in ("image", "document"):
        src = block.get("source")
        if not isinstance(src, dict) or src.get("type") not in (
                "base64", "text", "url"):
            raise ValidationError("%s.source: bad source" % where)
        if not isinstance(src.get("data", src.get("url")), str):
            raise ValidationError("%s.source.data: Field required" % where)
    if kind == "tool_use":
        if role != "assistant":
            raise ValidationError("%s: tool_use only in assistant turns"
                                  % where)
        if not isinstance(block.get("id"), str) or \
                not isinstance(block.get("name"), str) or \
                not isinstance(block.get("input"), dict):
            raise ValidationError("%s: tool_use needs id, name, input"
                                  % where)
    if kind == "tool_result":
        if role != "user":
            raise ValidationError("%s: tool_result only in user turns"
                                  % where)
        if not isinstance(block.get("tool_use_id"), str):
            raise ValidationError("%s.tool_use_id: Field required" % where)
        content = block.get("content", "")
        if isinstance(content, list):
            for j, c in enumerate(content):
                _check_block(c, "%s.content.%d" % (where, j), "tool_result")
        elif not isinstance(content, str):
            raise ValidationError("%s.content: bad type" % where)
    if kind == "thinking":
        if not isinstance(block.get("thinking"), str) or \
                not isinstance(block.get("signature"), str) or \
                not block["signature"]:
            raise ValidationError("%s.signature: Field required" % where)
    if kind == "redacted_thinking" and not isinstance(block.get("data"), str):
        raise ValidationError("%s.data: Field required" % where)


def validate_request(body, headers):
    """None when the request is acceptable, else the error message."""
    try:
        _validate(body, headers)
    except ValidationError as exc:
        return str(exc)
    return None


def _validate(body, headers):
    version = headers.get("anthropic-version")
    if version not in API_VERSIONS:
        raise ValidationError("anthropic-version: header is required "
                              "(one of %s)" % ", ".join(API_VERSIONS))
    if not isinstance(body, dict):
        raise ValidationError("body: must be a JSON object")
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise ValidationError("%s: Field required" % name)
    if version != "2023-06-01":
        for name in ("temperature", "top_p", "top_k"):
            if name in body:
                raise ValidationError("%s: not supported with API version "
                                      "%s" % (name, version))
    if not isinstance(body["model"], str) or not body["model"]:
        raise ValidationError("model: must be a non-empty string")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        raise ValidationError("max_tokens: must be an integer >= 1")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise ValidationError("messages: at least one message is required")
    if messages[0].get("role") != "user":
        raise ValidationError("messages: first message must use the "
                              "\"user\" role")
    tools = body.get("tools")
    names = set()
    if tools is not None:
        if not isinstance(tools, list):
            raise ValidationError("tools: must be a list")
        for i, t in enumerate(tools):
            if not isinstance(t, dict) or not isinstance(t.get("name"), str) \
                    or not isinstance(t.get("input_schema"), dict):
                raise ValidationError("tools.%d: needs name and input_schema"
                                      % i)
            names.add(t["name"])
    uses_tools = False
    pending = None          # tool_use ids the next user turn must answer
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("user", "assistant"):
            raise ValidationError("messages.%d.role: must be user or "
                                  "assistant" % i)
        content = msg.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}] if content else []
        if not isinstance(content, list) or not content:
            raise ValidationError("messages.%d: all messages must have "
                                  "non-empty content" % i)
        for j, block in enumerate(content):
            _check_block(block, "messages.%d.content.%d" % (i, j), role)
        kinds = [b["type"] for b in content]
        if "tool_use" in kinds or "tool_result" in kinds:
            uses_tools = True
        if role == "user" and pending is not None:
            answered = [b["tool_use_id"] for b in content
                        if b["type"] == "tool_result"]
            missing = [p for p in pending if p not in answered]
            if missing:
                raise ValidationError(
                    "messages.%d: `tool_use` ids were found without "
                    "`tool_result` blocks immediately after: %s"
                    % (i, ", ".join(missing)))
            pending = None
        if role == "assistant":
            ids = [b["id"] for b in content if b["type"] == "tool_use"]
            pending = ids or None
            if "thinking" in kinds or "redacted_thinking" in kinds:
                first_tool = kinds.index("tool_use") if ids else len(kinds)
                last_think = max(k for k, t in enumerate(kinds)
                                 if t in ("thinking", "redacted_thinking"))
                if last_think > first_tool:
                    raise ValidationError(
                        "messages.%d: thinking blocks must come before "
                        "tool_use blocks" % i)
    if uses_tools and not names:
        raise ValidationError("Requests which include `tool_use` or "
                              "`tool_result` blocks must define tools.")
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in (
                "auto", "any", "tool", "none"):
            raise ValidationError("tool_choice: bad type")
        if choice["type"] == "tool" and choice.get("name") not in names:
            raise ValidationError("tool_choice.name: no tool named %r"
                                  % choice.get("name"))
    system = body.get("system")
    if system is not None and not isinstance(system, (str, list)):
        raise ValidationError("system: must be a string or a list")
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in (
                "enabled", "disabled"):
            raise ValidationError("thinking: bad type")
        if thinking["type"] == "enabled" and not (
                isinstance(thinking.get("budget_tokens"), int)
                and 1024 <= thinking["budget_tokens"] < body["max_tokens"]):
            raise ValidationError("thinking.budget_tokens: must be >= 1024 "
                                  "and less than max_tokens")
        if thinking["type"] == "enabled" and isinstance(choice, dict) and \
                choice.get("type") in ("any", "tool"):
            raise ValidationError("Thinking may not be enabled when "
                                  "tool_choice forces tool use.")


def _last_user_text(body):
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        for block in content or []:
            if block.get("type") == "text":
                return block["text"]
    return ""


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------

def build_message(step, body, rng):
    """The answer of a step as a Messages "message" object."""
    content = []
    if step.get("redacted_thinking") is not None:
        content.append({"type": "redacted_thinking",
                        "data": step["redacted_thinking"]})
    if step.get("thinking") is not None:
        content.append({"type": "thinking", "thinking": step["thinking"],
                        "signature": step.get("signature",
                                              "sig-" + uuid.uuid4().hex)})
    tools = step.get("tool_use") or []
    text = step.get("text")
    if text is None and not tools and not content:
        text = "echo: " + _last_user_text(body)
    if text:
        content.append({"type": "text", "text": text})
    for t in tools:
        content.append({"type": "tool_use",
                        "id": t.get("id") or "toolu_" + uuid.uuid4().hex[:24],
                        "name": t["name"], "input": t.get("input", {})})
    stop = step.get("stop_reason", "tool_use" if tools else "end_turn")
    usage = {"input_tokens": max(1, len(json.dumps(body)) // 4),
             "output_tokens": max(1, len((text or "").split())
                                  + 10 * len(tools)),
             "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0}
    usage.update(step.get("usage") or {})
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message",
            "role": "assistant", "model": body.get("model", ""),
            "content": content, "stop_reason": stop,
            "stop_sequence": step.get("stop_sequence"),
            "usage": usage}


def _split(text, rng, explicit=None):
    """text in 1..4 pieces cut at random points (explicit: as given)."""
    if explicit is not None:
        return list(explicit)
    if len(text) < 2:
        return [text]
    cuts = sorted(rng.sample(range(1, len(text)),
                             min(len(text) - 1, rng.randint(0, 3))))
    return [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]


def stream_events(message, rng, step):
    """The SSE events (type, payload) that stream `message`."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    start["usage"] = dict(message["usage"], output_tokens=1)
    events = [("message_start", {"type": "message_start", "message": start})]
    if step.get("ping", True):
        events.append(("ping", {"type": "ping"}))
    for i, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            first = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece}
                      for piece in _split(block["text"], rng,
                                          step.get("text_deltas"))]
        elif kind == "tool_use":
            first = {"type": "tool_use", "id": block["id"],
                     "name": block["name"], "input": {}}
            raw = json.dumps(block["input"], separators=(",", ":"))
            deltas = [{"type": "input_json_delta", "partial_json": piece}
                      for piece in [""] + _split(raw, rng)]
        elif kind == "thinking":
            first = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": piece}
                      for piece in _split(block["thinking"], rng)]
            deltas.append({"type": "signature_delta",
                           "signature": block["signature"]})
        else:   # redacted_thinking: whole at the start, no deltas
            first = dict(block)
            deltas = []
        events.append(("content_block_start",
                       {"type": "content_block_start", "index": i,
                        "content_block": first}))
        for d in deltas:
            events.append(("content_block_delta",
                           {"type": "content_block_delta", "index": i,
                            "delta": d}))
        events.append(("content_block_stop",
                       {"type": "content_block_stop", "index": i}))
    events.append(("message_delta",
                   {"type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"],
                              "stop_sequence": message["stop_sequence"]},
                    "usage": {"output_tokens":
                              message["usage"]["output_tokens"]}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def sse_frame(event, payload):
    return ("event: %s\ndata: %s\n\n"
            % (event, json.dumps(payload, separators=(",", ":")))).encode()


def error_doc(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message},
            "request_id": "req_" + uuid.uuid4().hex[:24]}


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

class _Handler(fake_base.Handler):
    server_version = "fake-anthropic"


class FakeAnthropic(fake_base.ScriptQueue, fake_base.FakeServer):
    """Fake Anthropic Messages API on 127.0.0.1 (port 0 = ephemeral).

    Script steps (consumed FIFO by streamed and plain requests alike):
      {"text": "..."}                        end_turn answer
      {"tool_use": [{"name", "input"?, "id"?}], "text"?}  stop tool_use
                                             (several = parallel calls)
      {"thinking": "...", "signature"?: "..."}  a thinking block first
      {"redacted_thinking": "<data>"}        a redacted_thinking block
      {"stop_reason": "max_tokens", "stop_sequence"?: "..."}  override
      {"usage": {...}}                       override usage members
      {"error": "overloaded_error", "status"?: 529, "message"?,
       "retry_after"?: seconds, "retry_after_ms"?: ms}   HTTP error
      {"stream_error": "overloaded_error", "message"?,
       "after_events"?: N}                   in-stream error event after
                                             N events (default 1)
      {"if_body_over": N, ...}               this step only for a request
                                             body over N bytes (skipped
                                             otherwise)
      {"latency_ms": N}                      delay before answering
      {"drop_connection": true}              close without answering
      {"drop_after_events": N}               cut the stream after N events
      {"event_delay_ms": N}                  pause between events
      {"chunking": {"min", "max", "pause_ms"}}  write the SSE body in
                                             random-sized pieces
      {"text_deltas": ["a", "b"]}            explicit text deltas
      {"ping": false}                        no ping event
      {"json_answer": true}                  answer application/json even
                                             to a streamed request
    An empty script answers "echo: <last user text>".
    Requests need an API key (x-api-key, or Authorization: Bearer; one of
    api_keys, none = any), anthropic-version 2023-06-01 or 2026-10-21, and
    a body the real API would take.
    Control API: POST /__fake/script, GET /__fake/requests,
    POST /__fake/reset, GET /__fake/health. Each logged request: seq,
    method, path, headers (lowercase names), body, body_text (raw),
    status, error, step, events_sent.
    """

    service = "anthropic"

    def __init__(self, api_keys=(DEFAULT_KEY,), seed=None, chunking=None,
                 host="127.0.0.1", port=0, log_limit=10000):
        self.api_keys = set(api_keys or ())
        self.chunking = chunking
        self._rng = random.Random(seed)
        super().__init__(host=host, port=port, log_limit=log_limit,
                         handler_class=_Handler)

    def _crash_doc(self, exc):
        return error_doc("api_error", "fake_anthropic: %r" % (exc,))

    def _record(self, handler, path, body):
        parsed = fake_base.json_or_none(body)
        headers = {}
        for name, value in handler.headers.items():
            headers[name.lower()] = value
        entry = {"method": handler.command, "path": path, "headers": headers,
                 "body": parsed, "body_text": body.decode("utf-8", "replace"),
                 "status": None, "error": None, "step": None,
                 "events_sent": None, "auth": None}
        return self._log(entry)

    # -- requests
    def _error(self, handler, entry, kind, message, status=None, headers=()):
        status = status or ERROR_STATUS.get(kind, 400)
        entry["status"] = status
        entry["error"] = kind
        doc = error_doc(kind, message)
        handler.send_json(status, doc, headers=[
            ("request-id", doc["request_id"]), *headers])

    def _handle(self, handler, body):
        path = handler.path.split("?", 1)[0]
        entry = self._record(handler, path, body)
        if path != "/v1/messages" or handler.command != "POST":
            self._error(handler, entry, "not_found_error", "Not Found")
            return
        # x-api-key (2023-06-01 clients), or Authorization: Bearer (the
        # 1.x SDK sends its API key that way).
        key = handler.headers.get("x-api-key")
        auth = handler.headers.get("authorization") or ""
        if key is None and auth.startswith("Bearer "):
            key = auth[len("Bearer "):]
        entry["auth"] = "x-api-key" if handler.headers.get("x-api-key") \
            else "bearer" if auth else None
        if self.api_keys and key not in self.api_keys:
            self._error(handler, entry, "authentication_error",
                        "invalid x-api-key")
            return
        request = fake_base.json_or_none(body)
        problem = validate_request(request, {k.lower(): v for k, v in
                                             handler.headers.items()})
        if problem:
            self._error(handler, entry, "invalid_request_error", problem)
            return
        step = self._next_step(len(body)) or {}
        entry["step"] = step
        if step.get("latency_ms"):
            time.sleep(step["latency_ms"] / 1000.0)
        if step.get("drop_connection"):
            entry["status"] = "dropped"
            raise fake_base.DropConnection()
        if step.get("error"):
            extra = []
            if step.get("retry_after") is not None:
                extra.append(("retry-after", str(step["retry_after"])))
            if step.get("retry_after_ms") is not None:
                extra.append(("retry-after-ms", str(step["retry_after_ms"])))
            self._error(handler, entry, step["error"],
                        step.get("message", step["error"]),
                        status=step.get("status"), headers=extra)
            return
        with self._lock:
            message = build_message(step, request, self._rng)
        if not request.get("stream") or step.get("json_answer"):
            entry["status"] = 200
            handler.send_json(200, message, headers=[
                ("request-id", "req_" + uuid.uuid4().hex[:24])])
            return
        self._stream(handler, entry, step, message)

    def _stream(self, handler, entry, step, message):
        with self._lock:
            events = stream_events(message, self._rng, step)
        if step.get("stream_error"):
            after = step.get("after_events", 1)
            events = events[:after] + [("error", error_doc(
                step["stream_error"],
                step.get("message", "Overloaded")))]
        frames = [sse_frame(t, p) for t, p in events]
        keep = step.get("drop_after_events")
        total = sum(len(f) for f in frames)
        if keep is not None:
            frames = frames[:keep]
        entry["status"] = 200
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("request-id", "req_" + uuid.uuid4().hex[:24])
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunking = step.get("chunking", self.chunking)
        fake_base.send_frames(
            handler, entry, frames,
            lambda frame: fake_base.write_chunked(
                handler.wfile, frame, chunking, self._rng, self._lock),
            event_delay_ms=step.get("event_delay_ms", 0),
            cut=keep is not None)


def start_fake_anthropic(**kw):
    """Start a FakeAnthropic in a background thread; the returned object
    has .url .port .script(steps) .requests() .reset() .stop()."""
    return FakeAnthropic(**kw).start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", action="append", default=[],
                        help="accepted x-api-key (default: %s)" % DEFAULT_KEY)
    parser.add_argument("--any-key", action="store_true",
                        help="accept any x-api-key")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    keys = () if args.any_key else (args.api_key or [DEFAULT_KEY])
    fake = FakeAnthropic(api_keys=keys, seed=args.seed, port=args.port)
    fake_base.serve_until_signal(fake._httpd, {"port": fake.port})
    fake._httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
