#!/usr/bin/python3
"""Loopback fakes of AWS Bedrock Runtime (Converse, ConverseStream) and
Secrets Manager (GetSecretValue) for integration tests and benchmarks.

Owns: an event-stream encoder/decoder, a SigV4 verifier built on botocore's
SigV4Auth, _FakeBase (what the AWS fakes add to fake_base.FakeServer: the
SigV4 / API-key check and the AWS-shaped request log), what a script step of
Bedrock answers, Bedrock-like request validation, and the CLI entry point.
The HTTP server, lifecycle, FIFO script and /__fake/* control API, the
chunked writer and the stream loop come from fake_base.
Standard library + botocore only; run with /usr/bin/python3.
"""

import argparse
import base64
import hashlib
import hmac
import json
import random
import re
import struct
import sys
import time
import uuid
import zlib
from datetime import datetime, timezone
from urllib.parse import quote, unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

import fake_base

# The AWS documentation's example key pair; the default credentials.
EXAMPLE_ACCESS_KEY = "AKIDEXAMPLE"
EXAMPLE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

BEDROCK_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
CORAL_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.coral.service/"

# HTTP status of each Bedrock Runtime error code (reference section 1.6).
BEDROCK_ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ModelStreamErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you "
    "provided. Check your AWS Secret Access Key and signing method. Consult "
    "the service documentation for details.")
MSG_INVALID_TOKEN = "The security token included in the request is invalid."

# --------------------------------------------------------------------------
# Event-stream framing (application/vnd.amazon.eventstream)
# --------------------------------------------------------------------------

_HEADER_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _encode_header(name, htype, value):
    raw_name = name.encode("utf-8")
    if not 1 <= len(raw_name) <= 255:
        raise ValueError("event-stream header name must be 1..255 bytes")
    out = bytes([len(raw_name)]) + raw_name + bytes([htype])
    if htype in (0, 1):
        return out
    if htype in _HEADER_FIXED:
        return out + struct.pack(_HEADER_FIXED[htype], value)
    if htype in (6, 7):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if len(data) > 32767:
            raise ValueError("event-stream header value too long")
        return out + struct.pack(">H", len(data)) + data
    if htype == 9:
        data = value.bytes if isinstance(value, uuid.UUID) else bytes(value)
        if len(data) != 16:
            raise ValueError("UUID header needs 16 bytes")
        return out + data
    raise ValueError("unknown event-stream header type %r" % (htype,))


def encode_message(headers, payload):
    """One event-stream message. headers: list of (name, value) for string
    headers (type 7) or (name, type, value) for any type; payload: bytes/str.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    raw_headers = b""
    for header in headers:
        if len(header) == 2:
            raw_headers += _encode_header(header[0], 7, header[1])
        else:
            raw_headers += _encode_header(*header)
    total = 16 + len(raw_headers) + len(payload)
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def _decode_headers(raw):
    headers, pos = [], 0
    while pos < len(raw):
        nlen = raw[pos]
        name = raw[pos + 1:pos + 1 + nlen].decode("utf-8")
        pos += 1 + nlen
        htype = raw[pos]
        pos += 1
        if htype in (0, 1):
            value = htype == 0
        elif htype in _HEADER_FIXED:
            fmt = _HEADER_FIXED[htype]
            size = struct.calcsize(fmt)
            value = struct.unpack(fmt, raw[pos:pos + size])[0]
            pos += size
        elif htype in (6, 7):
            (vlen,) = struct.unpack(">H", raw[pos:pos + 2])
            value = raw[pos + 2:pos + 2 + vlen]
            if htype == 7:
                value = value.decode("utf-8")
            pos += 2 + vlen
        elif htype == 9:
            value = raw[pos:pos + 16]
            pos += 16
        else:
            raise ValueError("unknown header type %d" % htype)
        if pos > len(raw):
            raise ValueError("header overruns the header block")
        headers.append((name, htype, value))
    return headers


def decode_stream(data):
    """Split a complete event-stream body into messages; each is a dict with
    'headers' {name: value} and 'payload' bytes. Raises ValueError on any
    CRC or length error (a truncated tail is an error too)."""
    messages, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 16:
            raise ValueError("truncated prelude at %d" % pos)
        total, hlen, pcrc = struct.unpack(">III", data[pos:pos + 12])
        if zlib.crc32(data[pos:pos + 8]) != pcrc:
            raise ValueError("prelude checksum mismatch at %d" % pos)
        if total < 16 + hlen or pos + total > len(data):
            raise ValueError("bad message length at %d" % pos)
        frame = data[pos:pos + total]
        (mcrc,) = struct.unpack(">I", frame[-4:])
        if zlib.crc32(frame[:-4]) != mcrc:
            raise ValueError("message checksum mismatch at %d" % pos)
        headers = _decode_headers(frame[12:12 + hlen])
        messages.append({"headers": {n: v for n, _, v in headers},
                         "payload": frame[12 + hlen:-4]})
        pos += total
    return messages


# --------------------------------------------------------------------------
# SigV4 verification (botocore does the canonicalization and the HMACs)
# --------------------------------------------------------------------------

class _ReceivedRequestSigner(SigV4Auth):
    """SigV4Auth whose header selection is exactly the headers we hand it:
    the caller passes only the headers the client listed in SignedHeaders, so
    botocore's own exclusion list (user-agent, expect) must not drop any."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class SigV4Result:
    """Outcome of verify_sigv4: ok, error code/message for the client, and
    botocore's canonical request / string to sign / signature."""

    def __init__(self, ok, code=None, message=None):
        self.ok = ok
        self.code = code
        self.message = message
        self.access_key = None
        self.region = None
        self.service = None
        self.canonical_request = None
        self.string_to_sign = None
        self.signature = None
        self.authorization = None


def _fail(code, message):
    return SigV4Result(False, code, message)


def _parse_authorization(value):
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    fields = {}
    for part in value[len("AWS4-HMAC-SHA256 "):].split(","):
        key, _, val = part.strip().partition("=")
        fields[key] = val
    return fields


def _header_values(headers, lname):
    return [v for n, v in headers if n.lower() == lname]


def verify_sigv4(method, raw_target, headers, body, credentials, service,
                 region=None, now=None, max_skew_s=900):
    """Verify the SigV4 Authorization header of a received request.

    raw_target: the request target exactly as sent (path already
    percent-encoded, optional '?query'); headers: list of (name, value) in
    received order; body: bytes; credentials: {access_key: (secret, token or
    None)}; service: expected signing name; region: expected region or None
    for any; now: epoch seconds for the clock-skew check, None to skip it.
    """
    auth = _header_values(headers, "authorization")
    if not auth:
        return _fail("MissingAuthenticationTokenException",
                     "Missing Authentication Token")
    fields = _parse_authorization(auth[0])
    if fields is None:
        return _fail("IncompleteSignatureException",
                     "Authorization header requires the AWS4-HMAC-SHA256 "
                     "algorithm.")
    for need in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(need):
            return _fail("IncompleteSignatureException",
                         "Authorization header requires '%s' parameter." % need)
    scope = fields["Credential"].split("/")
    if len(scope) != 5:
        return _fail("IncompleteSignatureException",
                     "Credential must have exactly 5 slash-delimited elements")
    akid, date, scope_region, scope_service, terminator = scope
    if akid not in credentials:
        return _fail("UnrecognizedClientException", MSG_INVALID_TOKEN)
    secret, token = credentials[akid]
    amz_date = _header_values(headers, "x-amz-date")
    if not amz_date:
        return _fail("IncompleteSignatureException",
                     "Authorization header requires existence of either a "
                     "'X-Amz-Date' or a 'Date' header.")
    amz_date = amz_date[0].strip()
    if terminator != "aws4_request":
        return _fail("InvalidSignatureException",
                     "Credential should be scoped with a valid terminator: "
                     "'aws4_request', not '%s'." % terminator)
    if scope_service != service:
        return _fail("InvalidSignatureException",
                     "Credential should be scoped to correct service: '%s'."
                     % service)
    if region is not None and scope_region != region:
        return _fail("InvalidSignatureException",
                     "Credential should be scoped to a valid region.")
    if date != amz_date[:8]:
        return _fail("InvalidSignatureException",
                     "Date in Credential scope does not match YYYYMMDD from "
                     "ISO-8601 version of date from HTTP: '%s' != '%s'"
                     % (date, amz_date[:8]))
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return _fail("IncompleteSignatureException",
                     "Date must be in ISO-8601 'basic format'.")
    if now is not None:
        epoch = signed_at.replace(tzinfo=timezone.utc).timestamp()
        if abs(now - epoch) > max_skew_s:
            return _fail("InvalidSignatureException",
                         "Signature expired: %s is now earlier or later than "
                         "the server time (%d s allowed)."
                         % (amz_date, max_skew_s))
    sent_token = _header_values(headers, "x-amz-security-token")
    if (sent_token[0] if sent_token else None) != token:
        return _fail("UnrecognizedClientException", MSG_INVALID_TOKEN)
    content_sha = _header_values(headers, "x-amz-content-sha256")
    if content_sha and content_sha[0] != hashlib.sha256(body).hexdigest():
        return _fail("InvalidSignatureException",
                     "The provided 'x-amz-content-sha256' header does not "
                     "match what was computed.")

    signed_names = fields["SignedHeaders"].split(";")
    if "host" not in signed_names:
        return _fail("InvalidSignatureException",
                     "'Host' must be a 'SignedHeader' in the AWS "
                     "Authorization.")
    host = _header_values(headers, "host")
    if not host:
        return _fail("InvalidSignatureException", MSG_SIGNATURE_MISMATCH)
    # The path goes to botocore exactly as it was sent: botocore URI-encodes
    # it once more, which gives the double-encoded canonical URI
    # (%3A -> %253A) that AWS computes for non-S3 services.
    request = AWSRequest(method=method, url="http://%s%s" % (host[0],
                                                             raw_target),
                         data=body)
    for name, value in headers:
        if name.lower() in signed_names:
            request.headers[name] = value
    missing = [n for n in signed_names if n not in
               {k.lower() for k in request.headers.keys()}]
    if missing:
        return _fail("InvalidSignatureException", MSG_SIGNATURE_MISMATCH)
    request.context["timestamp"] = amz_date
    signer = _ReceivedRequestSigner(Credentials(akid, secret, token),
                                    scope_service, scope_region)
    result = SigV4Result(True)
    result.access_key = akid
    result.region = scope_region
    result.service = scope_service
    result.canonical_request = signer.canonical_request(request)
    result.string_to_sign = signer.string_to_sign(request,
                                                  result.canonical_request)
    result.signature = signer.signature(result.string_to_sign, request)
    result.authorization = (
        "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s"
        % (signer.scope(request),
           signer.signed_headers(signer.headers_to_sign(request)),
           result.signature))
    if not hmac.compare_digest(result.signature, fields["Signature"]):
        result.ok = False
        result.code = "InvalidSignatureException"
        result.message = MSG_SIGNATURE_MISMATCH
    return result


# --------------------------------------------------------------------------
# Bedrock request validation (the cheap checks Bedrock itself makes)
# --------------------------------------------------------------------------

_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _validate_inference(cfg):
    if not isinstance(cfg, dict):
        return "inferenceConfig must be an object"
    max_tokens = cfg.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int)
                                   or max_tokens < 1):
        return ("1 validation error detected: Value '%s' at "
                "'inferenceConfig.maxTokens' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1"
                % (max_tokens,))
    for key in ("temperature", "topP"):
        val = cfg.get(key)
        if val is not None and (not isinstance(val, (int, float))
                                or not 0 <= val <= 1):
            return ("1 validation error detected: Value '%s' at "
                    "'inferenceConfig.%s' failed to satisfy constraint: "
                    "Member must have value between 0 and 1" % (val, key))
    return None


def _validate_tool_config(cfg):
    tools = cfg.get("tools") if isinstance(cfg, dict) else None
    if not isinstance(tools, list) or not tools:
        return ("1 validation error detected: Value at 'toolConfig.tools' "
                "failed to satisfy constraint: Member must have length "
                "greater than or equal to 1")
    for i, tool in enumerate(tools):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if spec is None:
            continue
        if not _TOOL_NAME_RE.match(str(spec.get("name", ""))):
            return ("1 validation error detected: Value at "
                    "'toolConfig.tools.%d.member.toolSpec.name' failed to "
                    "satisfy constraint: Member must satisfy regular "
                    "expression pattern: [a-zA-Z0-9_-]+" % (i + 1))
        if not isinstance(spec.get("inputSchema"), dict):
            return ("1 validation error detected: Value null at "
                    "'toolConfig.tools.%d.member.toolSpec.inputSchema' "
                    "failed to satisfy constraint: Member must not be null"
                    % (i + 1))
    # toolChoice: exactly one of auto {}, any {}, tool {"name"}; a named
    # tool must be one of the tools (structured output forces one).
    if "toolChoice" in cfg:
        choice = cfg["toolChoice"]
        if not isinstance(choice, dict) or len(choice) != 1 or \
                next(iter(choice)) not in ("auto", "any", "tool"):
            return ("1 validation error detected: Value at "
                    "'toolConfig.toolChoice' failed to satisfy constraint: "
                    "exactly one of auto, any, tool must be set")
        tool = choice.get("tool")
        if tool is not None:
            names = [t.get("toolSpec", {}).get("name") for t in tools
                     if isinstance(t, dict)]
            if not isinstance(tool, dict) or tool.get("name") not in names:
                return ("The tool named in toolConfig.toolChoice is not in "
                        "toolConfig.tools.")
    return None


def _check_block(block, where):
    if not isinstance(block, dict) or len(block) != 1:
        return ("1 validation error detected: Value at '%s' failed to "
                "satisfy constraint: exactly one member of the ContentBlock "
                "union must be set" % where)
    if "text" in block and not str(block["text"]).strip():
        return ("The text field in the ContentBlock object at %s is blank. "
                "Add text to the text field, and try again." % where)
    if "toolUse" in block:
        use = block["toolUse"]
        if not isinstance(use, dict) or not use.get("toolUseId") \
                or not use.get("name") or "input" not in use:
            return ("1 validation error detected: toolUse at %s needs "
                    "toolUseId, name and input" % where)
    if "toolResult" in block:
        res = block["toolResult"]
        if not isinstance(res, dict) or not res.get("toolUseId") \
                or not isinstance(res.get("content"), list):
            return ("1 validation error detected: toolResult at %s needs "
                    "toolUseId and content" % where)
    return None


def _ids(message, kind):
    return [b[kind]["toolUseId"] for b in message["content"]
            if isinstance(b, dict) and kind in b]


def _validate_messages(messages):
    if not isinstance(messages, list) or not messages:
        return ("A conversation must start with a user message. Try again "
                "with a conversation that starts with a user message.")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user",
                                                                "assistant"):
            return ("1 validation error detected: Value at 'messages.%d."
                    "member.role' failed to satisfy constraint: Member must "
                    "satisfy enum value set: [user, assistant]" % (i + 1))
        content = msg.get("content")
        if not isinstance(content, list) or not content:
            return ("The content field in the Message object at messages.%d "
                    "is empty. Add a ContentBlock object to the content "
                    "field and try again." % i)
        for j, block in enumerate(content):
            err = _check_block(block, "messages.%d.content.%d" % (i, j))
            if err:
                return err
        if i == 0 and msg["role"] != "user":
            return ("A conversation must start with a user message. Try "
                    "again with a conversation that starts with a user "
                    "message.")
        if i > 0 and msg["role"] == messages[i - 1]["role"]:
            return ("A conversation must alternate between user and "
                    "assistant roles. Make sure the conversation alternates "
                    "between user and assistant roles and try again.")
    return None


def _validate_tool_pairing(messages):
    for i, msg in enumerate(messages):
        uses = _ids(msg, "toolUse")
        results = _ids(msg, "toolResult")
        prev_uses = _ids(messages[i - 1], "toolUse") if i > 0 else []
        if results and (msg["role"] != "user"
                        or not set(results) <= set(prev_uses)):
            return ("The number of toolResult blocks at messages.%d.content "
                    "exceeds the number of toolUse blocks of previous turn."
                    % i)
        if uses:
            following = messages[i + 1] if i + 1 < len(messages) else None
            got = set(_ids(following, "toolResult")) if following else set()
            lacking = [u for u in uses if u not in got]
            if lacking:
                return ("Expected toolResult blocks at messages.%d.content "
                        "for the following Ids: %s"
                        % (i + 1, ", ".join(lacking)))
    return None


def validate_converse_request(body):
    """Return None if a Converse/ConverseStream body passes the checks Bedrock
    makes cheaply, else the ValidationException message."""
    if not isinstance(body, dict):
        return "Malformed input request, please reformat your input and try again."
    err = _validate_messages(body.get("messages"))
    if err:
        return err
    messages = body["messages"]
    for i, block in enumerate(body.get("system") or []):
        if isinstance(block, dict) and "text" in block \
                and not str(block["text"]).strip():
            return ("The text field in the SystemContentBlock object at "
                    "system.%d is blank. Add text to the text field, and try "
                    "again." % i)
    if "inferenceConfig" in body:
        err = _validate_inference(body["inferenceConfig"])
        if err:
            return err
    has_tools = any(_ids(m, "toolUse") or _ids(m, "toolResult")
                    for m in messages)
    if "toolConfig" in body:
        err = _validate_tool_config(body["toolConfig"])
        if err:
            return err
        # Claude on Bedrock: no forced tool with extended thinking on.
        choice = body["toolConfig"].get("toolChoice") or {}
        amrf = body.get("additionalModelRequestFields")
        thinking = amrf.get("thinking") if isinstance(amrf, dict) else None
        if ("tool" in choice or "any" in choice) and \
                isinstance(thinking, dict) and \
                thinking.get("type") == "enabled":
            return ("The model returned the following errors: Thinking may "
                    "not be enabled when tool_choice forces tool use.")
    elif has_tools:
        return ("The toolConfig field must be defined when using toolUse and "
                "toolResult content blocks.")
    return _validate_tool_pairing(messages)


# --------------------------------------------------------------------------
# Turning a script step into a Converse reply
# --------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _last_user_text(body):
    messages = body.get("messages") if isinstance(body, dict) else None
    for msg in reversed(messages or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return "".join(b.get("text", "") for b in msg.get("content", [])
                           if isinstance(b, dict) and
                           isinstance(b.get("text"), str))
    return ""


def _count_input_tokens(body):
    text = json.dumps(body.get("messages", [])) if isinstance(body, dict) else ""
    return max(1, len(text) // 4)


class Reply:
    """A successful model reply: content blocks, stop reason, usage."""

    def __init__(self, content, stop_reason, usage, extra=None):
        self.content = content
        self.stop_reason = stop_reason
        self.usage = usage
        self.extra = extra or {}


def build_reply(step, body, rng):
    """Reply for a non-error step (see FakeBedrock for the step keys)."""
    content = []
    if step.get("reasoning") is not None:
        content.append({"reasoningContent": {"reasoningText": {
            "text": step["reasoning"],
            "signature": step.get("reasoning_signature", "sig-" + "x" * 16)}}})
    if step.get("text") is not None:
        content.append({"text": step["text"]})
    for use in step.get("tool_use") or []:
        tool_id = use.get("id") or "tooluse_" + "".join(
            rng.choice(_ALNUM) for _ in range(22))
        content.append({"toolUse": {"toolUseId": tool_id, "name": use["name"],
                                    "input": use.get("input", {})}})
    if not content:
        content.append({"text": "echo: " + _last_user_text(body)})
    default_stop = "tool_use" if step.get("tool_use") else "end_turn"
    stop = step.get("stop_reason", default_stop)
    out_words = sum(len(str(b.get("text", "")).split()) for b in content)
    out_words += 8 * len(step.get("tool_use") or [])
    usage = {"inputTokens": _count_input_tokens(body),
             "outputTokens": max(1, out_words)}
    usage.update(step.get("usage") or {})
    usage.setdefault("totalTokens",
                     usage["inputTokens"] + usage["outputTokens"])
    return Reply(content, stop, usage, step.get("response_extra"))


def converse_json(reply, latency_ms):
    out = {"output": {"message": {"role": "assistant",
                                  "content": reply.content}},
           "stopReason": reply.stop_reason,
           "usage": reply.usage,
           "metrics": {"latencyMs": int(latency_ms)}}
    out.update(reply.extra)
    return out


def _split_text(text, rng, explicit=None):
    if explicit is not None:
        return list(explicit)
    pieces = re.findall(r"\s*\S+|\s+$", text)
    return pieces or [text]


def _split_json(text, rng):
    pieces, pos = [""], 0
    while pos < len(text):
        size = rng.randint(1, 12)
        pieces.append(text[pos:pos + size])
        pos += size
    return pieces


def stream_events(reply, latency_ms, rng, text_deltas=None):
    """The ConverseStream events (event-type, payload dict) for a reply."""
    events = [("messageStart", {"role": "assistant"})]
    for index, block in enumerate(reply.content):
        if "text" in block:
            for piece in _split_text(block["text"], rng, text_deltas):
                events.append(("contentBlockDelta", {
                    "contentBlockIndex": index, "delta": {"text": piece}}))
        elif "toolUse" in block:
            use = block["toolUse"]
            events.append(("contentBlockStart", {
                "contentBlockIndex": index,
                "start": {"toolUse": {"toolUseId": use["toolUseId"],
                                      "name": use["name"]}}}))
            raw = json.dumps(use["input"], ensure_ascii=False,
                             separators=(",", ":"))
            for piece in _split_json(raw, rng):
                events.append(("contentBlockDelta", {
                    "contentBlockIndex": index,
                    "delta": {"toolUse": {"input": piece}}}))
        elif "reasoningContent" in block:
            rtext = block["reasoningContent"]["reasoningText"]
            for piece in _split_text(rtext["text"], rng):
                events.append(("contentBlockDelta", {
                    "contentBlockIndex": index,
                    "delta": {"reasoningContent": {"text": piece}}}))
            events.append(("contentBlockDelta", {
                "contentBlockIndex": index,
                "delta": {"reasoningContent": {
                    "signature": rtext["signature"]}}}))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
    events.append(("messageStop", {"stopReason": reply.stop_reason}))
    events.append(("metadata", {"usage": reply.usage,
                                "metrics": {"latencyMs": int(latency_ms)}}))
    return events


def event_frame(event_type, payload, rng=None):
    """Encode one event; with rng, add Bedrock's random "p" padding."""
    if rng is not None:
        payload = dict(payload)
        payload["p"] = _ALNUM[:rng.randint(1, len(_ALNUM))]
    return encode_message([(":event-type", event_type),
                           (":content-type", "application/json"),
                           (":message-type", "event")],
                          json.dumps(payload, separators=(",", ":")))


def exception_frame(exception_type, message, extra=None):
    payload = {"message": message}
    payload.update(extra or {})
    return encode_message([(":exception-type", exception_type),
                           (":content-type", "application/json"),
                           (":message-type", "exception")],
                          json.dumps(payload, separators=(",", ":")))


# --------------------------------------------------------------------------
# HTTP plumbing shared by the AWS fakes (the rest is fake_base's)
# --------------------------------------------------------------------------

_DropConnection = fake_base.DropConnection


class _Handler(fake_base.Handler):
    """fake_base.Handler with AWS's bare "Server" header and PUT/DELETE."""

    server_version = "Server"

    def version_string(self):
        return self.server_version

    do_PUT = do_DELETE = fake_base.Handler._dispatch


class _FakeBase(fake_base.FakeServer):
    """A fake_base.FakeServer that authenticates requests the AWS way
    (SigV4 or a Bedrock API key) and logs AWS-shaped entries."""

    service = ""

    def __init__(self, credentials=None, bearer_keys=(), verify=True,
                 region=None, max_skew_s=900, host="127.0.0.1", port=0,
                 log_limit=10000):
        self.credentials = _normalize_credentials(credentials)
        self.bearer_keys = set(bearer_keys or ())
        self.verify = verify
        self.region = region
        self.max_skew_s = max_skew_s
        super().__init__(host=host, port=port, log_limit=log_limit,
                         handler_class=_Handler)

    def _crash_doc(self, exc):
        return {"message": "fake_aws: %r" % (exc,)}

    def _record(self, handler, body, **fields):
        parsed = fake_base.json_or_none(body)
        headers = {}
        for name, value in handler.headers.items():
            lname = name.lower()
            headers[lname] = (headers[lname] + "," + value
                              if lname in headers else value)
        entry = {"method": handler.command, "path": handler.path,
                 "headers": headers, "body": parsed, "status": None,
                 "error": None, "auth_error": None, "step": None,
                 "stream_events": None, "events_sent": None}
        if parsed is None and body:
            entry["body_text"] = body.decode("utf-8", "replace")
        entry.update(fields)
        return self._log(entry)

    def _check_auth(self, handler, body, entry):
        """_authenticate, noted in the log entry (signature_valid when
        verify is on, auth_error when denied); returns what it returned."""
        denied = self._authenticate(handler, body)
        if self.verify:
            entry["signature_valid"] = denied is None
        if denied:
            entry["auth_error"] = denied[0]
        return denied

    def _authenticate(self, handler, body):
        """None if the request may proceed, else (code, message)."""
        if not self.verify:
            return None
        headers = list(handler.headers.items())
        auth = _header_values(headers, "authorization")
        if auth and auth[0].startswith("Bearer "):
            if auth[0][len("Bearer "):].strip() in self.bearer_keys:
                return None
            return ("UnrecognizedClientException", MSG_INVALID_TOKEN)
        result = verify_sigv4(handler.command, handler.path, headers, body,
                              self.credentials, self.service,
                              region=self.region,
                              now=None if self.max_skew_s is None
                              else time.time(),
                              max_skew_s=self.max_skew_s)
        return None if result.ok else (result.code, result.message)


def _normalize_credentials(credentials):
    if credentials is None:
        credentials = {EXAMPLE_ACCESS_KEY: EXAMPLE_SECRET_KEY}
    out = {}
    for akid, value in dict(credentials).items():
        if isinstance(value, (tuple, list)):
            out[akid] = (value[0], value[1] if len(value) > 1 else None)
        else:
            out[akid] = (value, None)
    return out


# --------------------------------------------------------------------------
# Bedrock Runtime fake
# --------------------------------------------------------------------------

_MODEL_PATH_RE = re.compile(r"^/model/([^/?]+)/(converse|converse-stream)$")


class FakeBedrock(fake_base.ScriptQueue, _FakeBase):
    """Fake Bedrock Runtime on 127.0.0.1 (port 0 = ephemeral).

    Script steps (consumed FIFO by converse and converse-stream alike):
      {"text": "..."}                          end_turn answer
      {"tool_use": [{"name", "input", "id"?}], "text"?}  stop_reason tool_use
      {"reasoning": "...", "reasoning_signature"?: "..."}  reasoning block
      {"stop_reason": "max_tokens", ...}       override the stop reason
      {"usage": {...}}                         override usage fields
      {"error": "ThrottlingException", "status"?: 429, "message"?: "...",
       "error_fields"?: {...}}                 Bedrock error (status from the
                                               code when not given)
      {"if_body_over": N, ...}                 this step only for a request
                                               body over N bytes; a smaller
                                               request skips it (e.g. an
                                               overflow error for a history
                                               that is still too long)
      {"latency_ms": N}                        delay before answering
      {"drop_connection": true}                close without answering
      stream only: {"stream_exception": "throttlingException",
                    "message"?, "after_events"?: N}  in-stream exception
                   {"drop_after_events": N}    cut the body after N events
                   {"event_delay_ms": N}       pause between events
                   {"stall_ms": N, "stall_after_events"?: K}  go silent for
                                               N ms after K events (default 1)
      converse only: {"stall_ms": N}           send the headers and half the
                                               body, then go silent for N ms
                   {"chunking": {"min", "max", "pause_ms"}}  random writes
                   {"text_deltas": ["a", "b"]} explicit text deltas
                   {"pad": false}              no "p" padding
      {"response_extra": {...}}                extra top-level reply fields
      {"error_type_header": "..."}             exact x-amzn-ErrorType value
    An empty script answers "echo: <last user text>" after latency_ms.
    Control API (unsigned): POST /__fake/script (JSON list of steps),
    GET /__fake/requests, POST /__fake/reset, GET /__fake/health.
    Each logged request: seq, method, path (as sent), headers (lowercase
    names), body (parsed JSON or None; body_text if not JSON), model_id
    (decoded), operation, path_canonical (label encoded like the SDKs),
    signature_valid (None with verify=False), auth_error, status (int or
    "dropped"), error, step, stream_events.
    """

    service = "bedrock"

    def __init__(self, latency_ms=0, seed=None, chunking=None, pad=True,
                 validate=True, **kw):
        super().__init__(**kw)
        self.latency_ms = latency_ms
        self.chunking = chunking
        self.pad = pad
        self.validate = validate
        self._rng = random.Random(seed)

    # -- errors
    def _send_error(self, handler, entry, code, message, status=None,
                    header=None, extra=None):
        status = status or BEDROCK_ERROR_STATUS.get(code, 400)
        entry["status"] = status
        entry["error"] = code
        payload = {"message": message}
        payload.update(extra or {})
        handler.send_json(status, payload, headers=[
            ("x-amzn-RequestId", str(uuid.uuid4())),
            ("x-amzn-ErrorType", header or code + BEDROCK_ERROR_SUFFIX)])

    # -- requests
    def _handle(self, handler, body):
        target = handler.path
        match = _MODEL_PATH_RE.match(target.split("?", 1)[0])
        model_raw = match.group(1) if match else None
        model_id = unquote(model_raw) if match else None
        entry = self._record(
            handler, body, model_id=model_id,
            operation=match.group(2) if match else None,
            path_canonical=(model_raw == quote(model_id, safe="-._~"))
            if match else None,
            signature_valid=None)
        denied = self._check_auth(handler, body, entry)
        if denied:
            self._send_error(handler, entry, denied[0], denied[1],
                             status=403,
                             header=denied[0] + CORAL_ERROR_SUFFIX)
            return
        if not match or handler.command != "POST":
            self._send_error(handler, entry, "UnknownOperationException",
                             "Unknown operation", status=404,
                             header="UnknownOperationException")
            return
        request = fake_base.json_or_none(body)
        problem = None
        if self.validate:
            if not 1 <= len(model_id) <= 2048:
                problem = ("1 validation error detected: Value at 'modelId' "
                           "failed to satisfy constraint: Member must have "
                           "length between 1 and 2048")
            else:
                problem = validate_converse_request(request)
        if problem:
            self._send_error(handler, entry, "ValidationException", problem)
            return
        step = self._next_step(len(body or b""))
        started = time.monotonic()
        if step is None:
            step = {"latency_ms": self.latency_ms}
        entry["step"] = step
        delay = step.get("latency_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        if step.get("drop_connection"):
            entry["status"] = "dropped"
            raise _DropConnection()
        if step.get("error"):
            code = step["error"]
            self._send_error(handler, entry, code,
                             step.get("message", code),
                             status=step.get("status"),
                             header=step.get("error_type_header"),
                             extra=step.get("error_fields"))
            return
        with self._lock:
            reply = build_reply(step, request, self._rng)
        latency = max(delay, (time.monotonic() - started) * 1000.0)
        if entry["operation"] == "converse" and step.get("stall_ms"):
            self._send_stalled_json(handler, entry, step,
                                    converse_json(reply, latency))
        elif entry["operation"] == "converse":
            entry["status"] = 200
            handler.send_json(200, converse_json(reply, latency), headers=[
                ("x-amzn-RequestId", str(uuid.uuid4()))])
        else:
            self._send_stream(handler, entry, step, reply, latency)

    def _stream_frames(self, step, reply, latency):
        with self._lock:
            pad_rng = self._rng if step.get("pad", self.pad) else None
            events = stream_events(reply, latency, self._rng,
                                   step.get("text_deltas"))
            frames = [event_frame(t, p, pad_rng) for t, p in events]
        if step.get("stream_exception"):
            after = step.get("after_events", min(2, len(frames)))
            frames = frames[:after] + [exception_frame(
                step["stream_exception"],
                step.get("message", "Too many tokens, please wait before "
                         "trying again."),
                step.get("error_fields"))]
        return frames

    def _send_stalled_json(self, handler, entry, step, doc):
        """A 200 answer whose body stops half way for stall_ms."""
        data = json.dumps(doc).encode()
        entry["status"] = 200
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        half = len(data) // 2
        try:
            handler.wfile.write(data[:half])
            handler.wfile.flush()
            time.sleep(step["stall_ms"] / 1000.0)
            handler.wfile.write(data[half:])
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            entry["status"] = "client_closed"
            raise _DropConnection()

    def _send_stream(self, handler, entry, step, reply, latency):
        frames = self._stream_frames(step, reply, latency)
        total = sum(len(f) for f in frames)
        keep = step.get("drop_after_events")
        if keep is not None:
            frames = frames[:keep]
        entry["status"] = 200
        entry["stream_events"] = len(frames)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.amazon.eventstream")
        handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunking = step.get("chunking", self.chunking)
        fake_base.send_frames(
            handler, entry, frames,
            lambda frame: fake_base.write_chunked(
                handler.wfile, frame, chunking, self._rng, self._lock,
                default_pause_ms=1),
            event_delay_ms=step.get("event_delay_ms", 0),
            stall_ms=step.get("stall_ms", 0),
            stall_after_events=step.get("stall_after_events", 1),
            cut=keep is not None)


# --------------------------------------------------------------------------
# Secrets Manager fake
# --------------------------------------------------------------------------

class FakeSecretsManager(_FakeBase):
    """Fake Secrets Manager (awsJson1.1 GetSecretValue only).

    secrets: {name: "string"} or {name: {"SecretString"|"SecretBinary"
    (bytes), "VersionId"?, "ARN"?, "error"?: code, "message"?}}.
    Lookup by name or ARN; VersionStage other than AWSCURRENT is not found.
    """

    service = "secretsmanager"

    def __init__(self, secrets=None, account="123456789012", **kw):
        super().__init__(**kw)
        self.account = account
        self._secrets = {}
        for name, value in (secrets or {}).items():
            self.set_secret(name, value)

    def set_secret(self, name, value):
        if not isinstance(value, dict):
            value = {"SecretString": value}
        value = dict(value)
        suffix = hashlib.sha1(name.encode()).hexdigest()[:6]
        value.setdefault("ARN", "arn:aws:secretsmanager:%s:%s:secret:%s-%s"
                         % (self.region or "us-east-1", self.account, name,
                            suffix))
        value.setdefault("VersionId", str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                     value["ARN"])))
        with self._lock:
            self._secrets[name] = value

    def _control(self, handler, path, body):
        if path == "/__fake/secrets" and handler.command == "POST":
            try:
                secrets = json.loads(body)
                for name, value in secrets.items():
                    self.set_secret(name, value)
            except (ValueError, AttributeError) as exc:
                handler.send_json(400, {"message": str(exc)})
                return
            handler.send_json(200, {"ok": True})
        else:
            self._control_common(handler, path, body)

    def _error(self, handler, entry, code, message, status=400):
        entry["status"] = status
        entry["error"] = code
        handler.send_json(status, {"__type": code, "Message": message},
                          headers=[("x-amzn-RequestId", str(uuid.uuid4()))],
                          content_type="application/x-amz-json-1.1")

    def _find(self, secret_id):
        with self._lock:
            if secret_id in self._secrets:
                return secret_id, self._secrets[secret_id]
            for name, value in self._secrets.items():
                if value["ARN"] == secret_id:
                    return name, value
        return None, None

    def _handle(self, handler, body):
        target = handler.headers.get("X-Amz-Target", "")
        entry = self._record(handler, body, target=target,
                             signature_valid=None)
        denied = self._check_auth(handler, body, entry)
        if denied:
            # awsJson services answer authentication failures with 400.
            entry["status"] = 400
            entry["error"] = denied[0]
            handler.send_json(400, {"__type": denied[0],
                                    "message": denied[1]},
                              headers=[("x-amzn-RequestId",
                                        str(uuid.uuid4()))],
                              content_type="application/x-amz-json-1.1")
            return
        if handler.command != "POST" or \
                handler.path.split("?", 1)[0] != "/" or \
                target != "secretsmanager.GetSecretValue":
            self._error(handler, entry, "UnknownOperationException",
                        "Unknown operation %s" % target)
            return
        try:
            request = json.loads(body)
            secret_id = request["SecretId"]
        except (ValueError, KeyError, TypeError):
            self._error(handler, entry, "InvalidParameterException",
                        "You must provide a SecretId.")
            return
        name, secret = self._find(secret_id)
        stage = request.get("VersionStage", "AWSCURRENT")
        if secret is None:
            self._error(handler, entry, "ResourceNotFoundException",
                        "Secrets Manager can't find the specified secret.")
            return
        if secret.get("error"):
            self._error(handler, entry, secret["error"],
                        secret.get("message", secret["error"]),
                        secret.get("status", 400))
            return
        if stage != "AWSCURRENT" or request.get("VersionId") not in (
                None, secret["VersionId"]):
            self._error(handler, entry, "ResourceNotFoundException",
                        "Secrets Manager can't find the specified secret "
                        "value for staging label: %s" % stage)
            return
        out = {"ARN": secret["ARN"], "Name": name,
               "VersionId": secret["VersionId"],
               "VersionStages": ["AWSCURRENT"],
               "CreatedDate": secret.get("CreatedDate", 1523477145.713)}
        if "SecretBinary" in secret:
            raw = secret["SecretBinary"]
            out["SecretBinary"] = (base64.b64encode(raw).decode()
                                   if isinstance(raw, bytes) else raw)
        else:
            out["SecretString"] = secret.get("SecretString", "")
        entry["status"] = 200
        handler.send_json(200, out, headers=[("x-amzn-RequestId",
                                              str(uuid.uuid4()))],
                          content_type="application/x-amz-json-1.1")


# --------------------------------------------------------------------------
# Helpers for pytest fixtures, and the CLI
# --------------------------------------------------------------------------

def start_fake_bedrock(**kw):
    """Start a FakeBedrock in a background thread; the returned object has
    .url .port .script(steps) .requests() .reset() .stop()."""
    return FakeBedrock(**kw).start()


def start_fake_secrets_manager(**kw):
    return FakeSecretsManager(**kw).start()


def _parse_chunking(text):
    if not text:
        return None
    parts = text.split(":")
    parts += ["1", "64", "1"][len(parts):]
    return {"min": int(parts[0]), "max": int(parts[1]),
            "pause_ms": float(parts[2])}


def _cli_credentials(args):
    creds = {}
    if len(args.access_key) != len(args.secret_key):
        sys.exit("--access-key and --secret-key must come in pairs")
    for akid, secret in zip(args.access_key, args.secret_key):
        creds[akid] = (secret, None)
    for spec in args.credentials:
        parts = spec.split(":", 2)
        if len(parts) < 2:
            sys.exit("--credentials wants AKID:SECRET[:TOKEN]")
        creds[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    return creds or None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secrets-port", type=int, default=None,
                        help="also serve Secrets Manager on this port (0 = "
                             "ephemeral)")
    parser.add_argument("--secret", action="append", default=[],
                        metavar="NAME=VALUE", help="a Secrets Manager secret")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--access-key", action="append", default=[])
    parser.add_argument("--secret-key", action="append", default=[])
    parser.add_argument("--credentials", action="append", default=[],
                        metavar="AKID:SECRET[:TOKEN]")
    parser.add_argument("--bearer-key", action="append", default=[])
    parser.add_argument("--region", default=None)
    parser.add_argument("--no-verify", action="store_true",
                        help="skip signature checks (pure throughput runs)")
    parser.add_argument("--max-skew-s", type=float, default=900,
                        help="allowed X-Amz-Date skew; negative = unchecked")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--chunking", default=None, metavar="MIN:MAX:PAUSE_MS",
                        help="write stream bodies in random-sized pieces")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-limit", type=int, default=10000,
                        help="keep only the newest N requests in the log")
    args = parser.parse_args(argv)

    common = {"credentials": _cli_credentials(args),
              "bearer_keys": args.bearer_key, "verify": not args.no_verify,
              "region": args.region, "log_limit": args.log_limit,
              "max_skew_s": None if args.max_skew_s < 0 else args.max_skew_s}
    bedrock = FakeBedrock(port=args.port, latency_ms=args.latency_ms,
                          seed=args.seed, chunking=_parse_chunking(args.chunking),
                          validate=not args.no_validate, **common)
    secrets = None
    if args.secrets_port is not None or args.secret:
        values = dict(s.split("=", 1) for s in args.secret)
        secrets = FakeSecretsManager(port=args.secrets_port or 0,
                                     secrets=values, **common).start()
    ready = {"port": bedrock.port}
    if secrets is not None:
        ready["secrets_port"] = secrets.port
    fake_base.serve_until_signal(bedrock._httpd, ready)
    if secrets is not None:
        secrets.stop()
    bedrock._httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
