"""Model timeouts end to end (issue 8, defect 1): Bedrock calls have a
connect timeout and a READ timeout that bounds the silence between bytes
(MODEL_READ_TIMEOUT_SECONDS), not the whole call. A long stream that keeps
sending succeeds; a stall is retried while nothing reached the client, and
after the last attempt the invocation fails with error_type ModelTimeout
(504 for JSON, an SSE error event when streaming). The real binary runs on
loopback against the fake Bedrock (tests/fakes/fake_aws.py: stall_ms,
event_delay_ms, latency_ms)."""

import subprocess
import time

from conftest import RUNTIME
from test_streaming import SSEClient, stream_requests


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def test_long_stream_that_keeps_sending_succeeds(start_runtime, fake):
    # ~8.5 s of stream, an event every 0.5 s, read timeout 2 s: no cut.
    words = ["w%02d " % i for i in range(14)]
    fake.script([{"text": "".join(words), "text_deltas": words,
                  "event_delay_ms": 500}])
    rt = start_runtime(MODEL_READ_TIMEOUT_SECONDS="2", AWS_MAX_ATTEMPTS="1")
    c = SSEClient(rt, {"prompt": "long", "stream": True})
    evs = c.events()
    c.close()
    assert evs[-1][1]["type"] == "done", evs[-1]
    assert evs[-1][1]["response"] == "".join(words)
    assert evs[-1][0] > 7.0          # it really lasted longer than 3 x 2 s
    assert len(stream_requests(fake)) == 1


def test_stream_stall_after_output_is_sse_model_timeout(start_runtime, fake):
    # Two text deltas reach the client, then 4 s of silence: not retried
    # (output already sent), one error event of type ModelTimeout.
    fake.script([{"text": "one two three", "text_deltas": ["one ", "two ",
                                                            "three"],
                  "stall_ms": 4000, "stall_after_events": 3}])
    rt = start_runtime(MODEL_READ_TIMEOUT_SECONDS="2")
    c = SSEClient(rt, {"prompt": "x", "stream": True})
    evs = c.events()
    c.close()
    types = [e["type"] for _, e in evs]
    assert "done" not in types
    assert types.count("error") == 1 and types[-1] == "error", types
    t_err, err = evs[-1]
    assert err["error_type"] == "ModelTimeout", err
    assert t_err < 4.0               # before the stall would have ended
    assert len(stream_requests(fake)) == 1


def test_stream_stall_before_output_is_retried(start_runtime, fake):
    # Only messageStart arrived before the stall: nothing reached the
    # client, so the read timeout is retried like a connection error.
    fake.script([{"text": "never", "stall_ms": 4000,
                  "stall_after_events": 1},
                 {"text": "second try"}])
    rt = start_runtime(MODEL_READ_TIMEOUT_SECONDS="1")
    c = SSEClient(rt, {"prompt": "x", "stream": True})
    evs = [e for _, e in c.events()]
    c.close()
    assert evs[-1]["type"] == "done" and evs[-1]["response"] == "second try"
    assert "never" not in str(evs)
    assert len(stream_requests(fake)) == 2


def test_json_stall_mid_body_is_504_model_timeout(start_runtime, fake):
    fake.script([{"text": "stalls", "stall_ms": 4000}] * 2)
    rt = start_runtime(MODEL_READ_TIMEOUT_SECONDS="1", AWS_MAX_ATTEMPTS="2")
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 504, doc
    assert doc["error_type"] == "ModelTimeout", doc
    assert time.monotonic() - t0 < 7.5
    assert len(converse_requests(fake)) == 2       # AWS_MAX_ATTEMPTS


def test_json_delayed_answer_fails_after_all_attempts(start_runtime, fake):
    fake.script([{"text": "late", "latency_ms": 3000}] * 3)
    rt = start_runtime(MODEL_READ_TIMEOUT_SECONDS="1", AWS_MAX_ATTEMPTS="3")
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 504, doc
    assert doc["error_type"] == "ModelTimeout", doc
    assert len(converse_requests(fake)) == 3       # AWS_MAX_ATTEMPTS


def test_timeout_settings_in_help_and_validated():
    out = subprocess.run([RUNTIME, "--help"], capture_output=True,
                         text=True, timeout=10)
    assert "MODEL_READ_TIMEOUT_SECONDS" in out.stdout
    assert "MODEL_CONNECT_TIMEOUT_SECONDS" in out.stdout
    bad = subprocess.run([RUNTIME], capture_output=True, text=True,
                         timeout=10,
                         env={"MODEL_READ_TIMEOUT_SECONDS": "0",
                              "AWS_EC2_METADATA_DISABLED": "true"})
    assert bad.returncode == 2
    assert "MODEL_READ_TIMEOUT_SECONDS" in bad.stdout + bad.stderr
