#!/usr/bin/python3
"""Loopback fake of an OpenAI-compatible Chat Completions server, for the
integration tests of MODEL_PROVIDER=openai and their fidelity test (the
official `openai` npm client parses its answers).

Owns: request validation the way OpenAI answers it (400
invalid_request_error for a malformed body, an unanswered tool call or a
tool_choice naming a function that "tools" does not declare), a
FIFO script of answers (text, tool calls, finish reasons, usage, errors with
status/body/retry-after, in-stream errors, streams without [DONE]), streamed
answers as "chat.completion.chunk" SSE events with deltas split at random
points and written in random-size pieces, and the request log.
Lifecycle, the script queue (/__fake/script), the chunked writer and the
common control routes come from fake_base; the HTTP handler and the shape
of a log entry from fake_aws._FakeBase (signature checks off).
Standard library (+ fake_aws, fake_base); run with /usr/bin/python3.
"""

import argparse
import json
import random
import signal
import string
import sys
import time
import uuid

import fake_aws
import fake_base


def _error_doc(message, etype, code=None, param=None):
    return {"error": {"message": message, "type": etype, "param": param,
                      "code": code}}


def _last_user_text(body):
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        return "".join(p.get("text", "") for p in content or []
                       if isinstance(p, dict) and p.get("type") == "text")
    return ""


def validate_request(body):
    """None, or the message OpenAI answers a malformed body with (400)."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "[] is too short - 'messages'"
    pending = []          # tool_call ids still waiting for a tool message
    for i, m in enumerate(msgs):
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ("system", "user", "assistant", "tool", "developer"):
            return "Invalid value for 'messages[%d].role'" % i
        if role != "tool" and pending:
            return ("An assistant message with 'tool_calls' must be followed "
                    "by tool messages responding to each 'tool_call_id'. The "
                    "following tool_call_ids did not have response messages: "
                    + ", ".join(pending))
        if role == "tool":
            tid = m.get("tool_call_id")
            if tid not in pending:
                return ("Invalid parameter: messages with role 'tool' must be "
                        "a response to a preceeding message with "
                        "'tool_calls'.")
            pending.remove(tid)
            if not isinstance(m.get("content"), (str, list)):
                return "Invalid type for 'messages[%d].content'" % i
        elif role == "assistant":
            calls = m.get("tool_calls") or []
            if m.get("content") is None and not calls:
                return ("Invalid value for 'content': expected a string, got "
                        "null.")
            for c in calls:
                fn = c.get("function") or {}
                if c.get("type") != "function" or not c.get("id") or \
                        not isinstance(fn.get("name"), str) or \
                        not isinstance(fn.get("arguments"), str):
                    return "Invalid 'messages[%d].tool_calls'" % i
                pending.append(c["id"])
        else:
            content = m.get("content")
            if not isinstance(content, (str, list)):
                return "Invalid type for 'messages[%d].content'" % i
            for part in content if isinstance(content, list) else []:
                if part.get("type") not in ("text", "image_url", "file"):
                    return "Invalid content part type"
                if part["type"] == "image_url" and not str(
                        part.get("image_url", {}).get("url", "")).startswith(
                            ("data:image/", "http")):
                    return "Invalid image URL"
    if pending:
        return ("An assistant message with 'tool_calls' must be followed by "
                "tool messages responding to each 'tool_call_id'.")
    for t in body.get("tools") or []:
        fn = t.get("function") or {}
        if t.get("type") != "function" or not fn.get("name"):
            return "Invalid 'tools'"
    tc = body.get("tool_choice")
    if tc is not None and not (tc in ("auto", "none", "required") or (
            isinstance(tc, dict) and tc.get("type") == "function" and
            isinstance((tc.get("function") or {}).get("name"), str))):
        return "Invalid 'tool_choice'"
    if tc is not None and not body.get("tools"):
        return ("Invalid value for 'tool_choice': 'tool_choice' is only "
                "allowed when 'tools' are specified.")
    if isinstance(tc, dict) and tc["function"]["name"] not in [
            (t.get("function") or {}).get("name") for t in body["tools"]]:
        return ("Invalid value for 'tool_choice': function '%s' is not "
                "one of the functions in 'tools'." % tc["function"]["name"])
    if "stream_options" in body and not body.get("stream"):
        return ("The 'stream_options' parameter is only allowed when "
                "'stream' is enabled.")
    return None


class FakeOpenAI(fake_base.ScriptQueue, fake_aws._FakeBase):
    """Fake OpenAI Chat Completions on 127.0.0.1 (port 0 = ephemeral).

    Script steps (FIFO; an empty script answers "echo: <last user text>"):
      {"text": "..."}                         assistant text
      {"reasoning": "..."}                    reasoning_content deltas first
      {"tool_calls": [{"name", "arguments" (object or raw string),
                       "id"?: "..." | null}]} null: the id is omitted;
                                               absent: call_<random>
      {"finish_reason": "length"}             default stop / tool_calls
      {"usage": {...}}                        override usage fields;
      {"cached_tokens": N}                    prompt_tokens_details
      {"no_usage": true}                      no usage at all
      {"error": {"status": 429, "type", "code", "message"},
       "retry_after"?: "1", "retry_after_ms"?: "50", "raw_body"?: "..."}
      {"stream_error": {...}, "after_chunks"?: N}  an error chunk mid-stream
      {"no_done": true}                       stream ends without [DONE]
      {"text_deltas": ["a", "b"]}             explicit text deltas
      {"if_body_over": N}                     only for bodies over N bytes
      {"latency_ms": N}, {"drop_connection": true}
      {"json_when_streaming": true}           ignore "stream": answer JSON
    Control API: POST /__fake/script, GET /__fake/requests,
    POST /__fake/reset, GET /__fake/health.
    """

    service = "openai"

    def __init__(self, api_key=None, seed=None, chunking=None,
                 validate=True, **kw):
        kw.setdefault("verify", False)
        super().__init__(**kw)
        self.api_key = api_key
        self.validate = validate
        self.chunking = chunking if chunking is not None else \
            {"min": 1, "max": 24, "pause_ms": 0}
        self._rng = random.Random(seed)

    # -- answers
    def _rand_id(self, prefix, n=24):
        with self._lock:
            return prefix + "".join(self._rng.choice(
                string.ascii_letters + string.digits) for _ in range(n))

    def _send_error(self, handler, entry, status, doc, headers=()):
        entry["status"] = status
        entry["error"] = (doc.get("error") or {}).get("code") or \
            (doc.get("error") or {}).get("type")
        handler.send_json(status, doc, headers=[
            ("x-request-id", "req_" + uuid.uuid4().hex), *headers])

    def _handle(self, handler, body):
        path = handler.path.split("?", 1)[0]
        entry = self._record(handler, body)
        if self.api_key is not None:
            auth = handler.headers.get("Authorization", "")
            if auth != "Bearer " + self.api_key:
                self._send_error(handler, entry, 401, _error_doc(
                    "Incorrect API key provided. You can find your API key "
                    "at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error", "invalid_api_key"))
                return
        if handler.command != "POST" or not path.endswith("/chat/completions"):
            self._send_error(handler, entry, 404, _error_doc(
                "Invalid URL (%s %s)" % (handler.command, path),
                "invalid_request_error"))
            return
        request = fake_base.json_or_none(body)
        problem = validate_request(request) if self.validate else None
        if problem:
            self._send_error(handler, entry, 400, _error_doc(
                problem, "invalid_request_error"))
            return
        step = self._next_step(len(body or b""))
        if step is None:
            step = {}
        entry["step"] = step
        if step.get("latency_ms"):
            time.sleep(step["latency_ms"] / 1000.0)
        if step.get("drop_connection"):
            entry["status"] = "dropped"
            raise fake_base.DropConnection()
        if step.get("error"):
            e = dict(step["error"])
            status = e.pop("status", 400)
            headers = []
            if step.get("retry_after") is not None:
                headers.append(("retry-after", str(step["retry_after"])))
            if step.get("retry_after_ms") is not None:
                headers.append(("retry-after-ms", str(step["retry_after_ms"])))
            if step.get("raw_body") is not None:
                entry["status"] = status
                handler.send_bytes(status, [("Content-Type", "text/plain"),
                                            *headers],
                                   step["raw_body"].encode())
                return
            doc = _error_doc(e.get("message", "error"),
                             e.get("type", "invalid_request_error"),
                             e.get("code"), e.get("param"))
            self._send_error(handler, entry, status, doc, headers)
            return
        message, finish, usage = self._reply(step, request)
        completion_id = self._rand_id("chatcmpl-", 20)
        created = int(time.time())
        if request.get("stream") and not step.get("json_when_streaming"):
            include_usage = bool((request.get("stream_options") or {})
                                 .get("include_usage"))
            self._stream(handler, entry, step, request, completion_id,
                         created, message, finish,
                         usage if include_usage else None)
            return
        doc = {"id": completion_id, "object": "chat.completion",
               "created": created, "model": request["model"],
               "system_fingerprint": "fp_fake",
               "choices": [{"index": 0, "message": message,
                            "logprobs": None, "finish_reason": finish}]}
        if usage is not None:
            doc["usage"] = usage
        entry["status"] = 200
        handler.send_json(200, doc, headers=[
            ("x-request-id", "req_" + uuid.uuid4().hex)])

    def _reply(self, step, request):
        message = {"role": "assistant", "content": None, "refusal": None}
        if step.get("reasoning") is not None:
            message["reasoning_content"] = step["reasoning"]
        calls = []
        for tc in step.get("tool_calls") or []:
            args = tc.get("arguments", {})
            if not isinstance(args, str):
                args = json.dumps(args, separators=(",", ":"))
            call = {"type": "function",
                    "function": {"name": tc["name"], "arguments": args}}
            if "id" not in tc:
                call["id"] = self._rand_id("call_")
            elif tc["id"] is not None:
                call["id"] = tc["id"]
            calls.append(call)
        if calls:
            message["tool_calls"] = calls
        if step.get("text") is not None:
            message["content"] = step["text"]
        elif not calls:
            message["content"] = "echo: " + _last_user_text(request)
        finish = step.get("finish_reason",
                          "tool_calls" if calls else "stop")
        usage = None
        if not step.get("no_usage"):
            prompt = max(1, len(json.dumps(request.get("messages"))) // 4)
            completion = max(1, len((message["content"] or "").split()) +
                             8 * len(calls))
            usage = {"prompt_tokens": prompt,
                     "completion_tokens": completion,
                     "total_tokens": prompt + completion,
                     "prompt_tokens_details": {
                         "cached_tokens": step.get("cached_tokens", 0),
                         "audio_tokens": 0},
                     "completion_tokens_details": {
                         "reasoning_tokens": 0, "audio_tokens": 0,
                         "accepted_prediction_tokens": 0,
                         "rejected_prediction_tokens": 0}}
            usage.update(step.get("usage") or {})
        return message, finish, usage

    def _split(self, text):
        pieces, pos = [], 0
        while pos < len(text):
            with self._lock:
                size = self._rng.randint(1, 8)
            pieces.append(text[pos:pos + size])
            pos += size
        return pieces

    def _chunks(self, step, request, cid, created, message, finish, usage):
        base = {"id": cid, "object": "chat.completion.chunk",
                "created": created, "model": request["model"],
                "system_fingerprint": "fp_fake"}
        with_usage = usage is not None

        def chunk(delta, finish_reason=None):
            c = dict(base)
            c["choices"] = [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish_reason}]
            if with_usage:
                c["usage"] = None
            return c

        out = [chunk({"role": "assistant", "content": "", "refusal": None})]
        if message.get("reasoning_content"):
            for piece in self._split(message["reasoning_content"]):
                out.append(chunk({"reasoning_content": piece}))
        if message.get("content"):
            pieces = step.get("text_deltas") or self._split(message["content"])
            for piece in pieces:
                out.append(chunk({"content": piece}))
        for i, call in enumerate(message.get("tool_calls") or []):
            first = {"index": i, "type": "function",
                     "function": {"name": call["function"]["name"],
                                  "arguments": ""}}
            if "id" in call:
                first["id"] = call["id"]
            out.append(chunk({"tool_calls": [first]}))
            for piece in self._split(call["function"]["arguments"]):
                out.append(chunk({"tool_calls": [
                    {"index": i, "function": {"arguments": piece}}]}))
        out.append(chunk({}, finish))
        if with_usage:
            c = dict(base)
            c["choices"] = []
            c["usage"] = usage
            out.append(c)
        return out

    def _stream(self, handler, entry, step, request, cid, created, message,
                finish, usage):
        chunks = self._chunks(step, request, cid, created, message, finish,
                              usage)
        if step.get("stream_error") is not None:
            after = step.get("after_chunks", 2)
            err = dict(step["stream_error"])
            chunks = chunks[:after] + [_error_doc(
                err.get("message", "stream error"),
                err.get("type", "server_error"), err.get("code"))]
        data = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n"
                        for c in chunks)
        if not step.get("no_done") and step.get("stream_error") is None:
            data += b"data: [DONE]\n\n"
        entry["status"] = 200
        entry["stream_chunks"] = len(chunks)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("x-request-id", "req_" + uuid.uuid4().hex)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        chunking = step.get("chunking", self.chunking)
        fake_base.send_frames(
            handler, entry, [data],
            lambda frame: fake_base.write_chunked(
                handler.wfile, frame, chunking, self._rng, self._lock),
            counter=None)


def start_fake_openai(**kw):
    return FakeOpenAI(**kw).start()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    fake = FakeOpenAI(api_key=args.api_key, seed=args.seed, port=args.port)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print(json.dumps({"url": fake.url + "/v1"}), flush=True)
    try:
        fake.serve_forever()
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
