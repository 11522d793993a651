#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_eventstream.c into
fuzz/corpus/eventstream/: small event-stream frames, valid and broken, each
prefixed with the split-point byte the fuzz target reads first. An encoder
written independently of src/aws/eventstream.c (stdlib only); the replay
test checks that the C encoder reproduces every valid frame byte for byte.
Usage: python3 fuzz/gen_eventstream_corpus.py"""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "corpus", "eventstream")


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def header(name, typ, value=b""):
    n = name.encode()
    return bytes([len(n)]) + n + bytes([typ]) + value


def s(name, text):   # type 7 string
    v = text.encode()
    return header(name, 7, struct.pack(">H", len(v)) + v)


def frame(headers=b"", payload=b"", total=None, hlen=None,
          bad_prelude=False, bad_message=False):
    hlen = len(headers) if hlen is None else hlen
    total = 16 + len(headers) + len(payload) if total is None else total
    pre = struct.pack(">II", total, hlen)
    pre += struct.pack(">I", crc(pre) ^ (1 if bad_prelude else 0))
    body = pre + headers + payload
    return body + struct.pack(">I", crc(body) ^ (1 if bad_message else 0))


def event(kind, payload):
    return frame(s(":event-type", kind) + s(":content-type", "application/json")
                 + s(":message-type", "event"), payload.encode())


ALL_TYPES = (header("t", 0) + header("f", 1) + header("y", 2, b"\xcf")
             + header("h", 3, struct.pack(">h", -2)) + header("i", 4, struct.pack(">i", 40972))
             + header("l", 5, struct.pack(">q", -42)) + header("b", 6, b"\x00\x03\x00\xff\x01")
             + s("s", "str") + header("ts", 8, struct.pack(">q", 8675309))
             + header("u", 9, bytes(range(16))))

SEEDS = {
    "empty": frame(),
    "payload_only": frame(payload=b'{"foo":"bar"}'),
    "all_types": frame(ALL_TYPES, b"{}"),
    "converse_text": event("messageStart", '{"role":"assistant"}')
    + event("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abc"}')
    + event("messageStop", '{"stopReason":"end_turn"}'),
    "exception": frame(s(":exception-type", "throttlingException")
                       + s(":content-type", "application/json")
                       + s(":message-type", "exception"), b'{"message":"slow down"}'),
    "bad_prelude_crc": frame(s("k", "v"), b"x", bad_prelude=True),
    "bad_message_crc": frame(s("k", "v"), b"x", bad_message=True),
    "unknown_type": frame(header("k", 10), b"x"),
    "name_len_zero": frame(b"\x00\x07\x00\x00", b"x"),
    "value_too_long": frame(header("k", 7, b"\x80\x00"), b"x"),
    "value_cut_off": frame(header("k", 6, b"\x00\x09abc"), b""),
    "headers_len_too_big": frame(s("k", "v"), b"x", hlen=200),
    "total_too_small": frame(total=12),
    "truncated": event("messageStart", '{"role":"assistant"}')[:50],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for i, (name, data) in enumerate(sorted(SEEDS.items())):
        split = (i * 37 + 11) % 256          # vary the split point
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([split]) + data)


if __name__ == "__main__":
    main()
