#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_converse_stream.c into
fuzz/corpus/converse_stream/. Each seed is [split byte][flags byte][body]:
flags bit 0 = raw event-stream body (encoded here with the stdlib, written
independently of src/aws/eventstream.c), clear = '\\n'-separated records
(kind letter + JSON payload) that the fuzz target encodes itself; bit 1 =
tiny limits. Small hand-written streams, not the shared fixtures.
Usage: python3 fuzz/gen_converse_stream_corpus.py"""
import json
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "corpus", "converse_stream")


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def hstr(name, text):
    n, v = name.encode(), text.encode()
    return bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v


def frame(headers, payload):
    pre = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    pre += struct.pack(">I", crc(pre))
    body = pre + headers + payload
    return body + struct.pack(">I", crc(body))


def event(kind, obj):
    payload = obj if isinstance(obj, bytes) else json.dumps(
        obj, separators=(",", ":")).encode()
    return frame(hstr(":event-type", kind)
                 + hstr(":content-type", "application/json")
                 + hstr(":message-type", "event"), payload)


def exception(kind, obj):
    return frame(hstr(":exception-type", kind)
                 + hstr(":message-type", "exception"),
                 json.dumps(obj).encode())


def delta(i, d):
    return {"contentBlockIndex": i, "delta": d}


START = {"role": "assistant"}
STOP = {"stopReason": "end_turn"}
META = {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
        "metrics": {"latencyMs": 7}}
TOOL = {"contentBlockIndex": 1,
        "start": {"toolUse": {"toolUseId": "t1", "name": "calc"}}}

RAW = {
    "raw_text": [event("messageStart", dict(START, p="abc")),
                 event("contentBlockDelta", delta(0, {"text": "Hi"})),
                 event("contentBlockStop", {"contentBlockIndex": 0}),
                 event("messageStop", STOP), event("metadata", META)],
    "raw_tool": [event("messageStart", START),
                 event("contentBlockStart", TOOL),
                 event("contentBlockDelta",
                       delta(1, {"toolUse": {"input": "{\"x\":"}})),
                 event("contentBlockDelta",
                       delta(1, {"toolUse": {"input": "1}"}})),
                 event("contentBlockStop", {"contentBlockIndex": 1}),
                 event("messageStop", {"stopReason": "tool_use"}),
                 event("metadata", META)],
    "raw_throttle": [event("messageStart", START),
                     event("contentBlockDelta", delta(0, {"text": "Pa"})),
                     exception("throttlingException",
                               {"message": "Too many requests"})],
    "raw_error_frame": [frame(hstr(":message-type", "error")
                              + hstr(":error-code", "InternalFailure")
                              + hstr(":error-message", "boom"), b"")],
    "raw_truncated": [event("messageStart", START)[:40]],
}


def rec(kind, obj):
    if isinstance(obj, (bytes, str)):
        payload = obj.encode() if isinstance(obj, str) else obj
    else:
        payload = json.dumps(obj, separators=(",", ":")).encode()
    return kind.encode() + payload


RECORDS = {
    "rec_text": [rec("S", START), rec("D", delta(0, {"text": "Hello"})),
                 rec("D", delta(0, {"text": " w\u00e9\u4e16"})),
                 rec("E", {"contentBlockIndex": 0}), rec("M", STOP),
                 rec("T", META)],
    "rec_tools": [rec("S", START), rec("B", TOOL),
                  rec("B", dict(TOOL, contentBlockIndex=2)),
                  rec("D", delta(2, {"toolUse": {"input": "{\"a\""}})),
                  rec("D", delta(1, {"toolUse": {"input": "[1"}})),
                  rec("D", delta(2, {"toolUse": {"input": ":true}"}})),
                  rec("E", {"contentBlockIndex": 2}),
                  rec("E", {"contentBlockIndex": 1}),
                  rec("M", {"stopReason": "max_tokens"}), rec("T", META)],
    "rec_reasoning": [rec("S", START),
                      rec("D", delta(0, {"reasoningContent": {"text": "hm"}})),
                      rec("D", delta(0, {"reasoningContent":
                                         {"signature": "c2ln"}})),
                      rec("E", {"contentBlockIndex": 0}),
                      rec("D", delta(1, {"reasoningContent":
                                         {"redactedContent": "AAEC"}})),
                      rec("D", delta(1, {"reasoningContent":
                                         {"redactedContent": "/w=="}})),
                      rec("D", delta(2, {"text": "ok"})),
                      rec("M", STOP), rec("T", META)],
    "rec_unknown": [rec("S", START), rec("U", "not json"),
                    rec("D", delta(0, {"citation": {"title": "t"}})),
                    rec("D", delta(0, {"image": {}})),
                    rec("E", {"contentBlockIndex": 5}),
                    rec("M", {"stopReason": "new_reason", "p": "x"}),
                    rec("T", {"usage": {}, "metrics": {}})],
    "rec_exceptions": [rec("S", START), rec("Y", {
        "message": "Model stream error", "originalStatusCode": 500})],
    "rec_validation": [rec("V", {"Message": "bad"})],
    "rec_error": [rec("D", delta(0, {"text": "x"})),
                  rec("R", "ServiceUnavailable try again")],
    "rec_no_type": [rec("N", {"role": "assistant"})],
    "rec_cut": [rec("S", START), rec("C", delta(0, {"text": "cut"}))],
    "rec_bad": [rec("D", {"contentBlockIndex": -1, "delta": {}}),
                rec("D", delta(0, {"toolUse": {"input": "{}"}}))],
}

# Seeds run with the tiny limits (64 bytes, 3 blocks).
TINY = {
    "tiny_blocks": [rec("D", delta(i, {"text": "x"})) for i in range(5)],
    "tiny_bytes": [rec("D", delta(0, {"text": "y" * 70}))],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    for name, frames in RAW.items():
        seeds[name] = (1, b"".join(frames))
    for name, recs in RECORDS.items():
        seeds[name] = (0, b"\n".join(recs))
    for name, recs in TINY.items():
        seeds[name] = (2, b"\n".join(recs))
    for i, (name, (flags, body)) in enumerate(sorted(seeds.items())):
        split = (i * 37 + 11) % 256          # vary the split point
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([split, flags]) + body)


if __name__ == "__main__":
    main()
