"""Long-running (async) invocations over HTTP, against the real binary and
the fake Bedrock (model latency makes a run take 1-2 s): "async": true is
answered 202 at once; /ping says HealthyBusy while one runs, with a
timestamp that moves only when the status changes; get_invocation while
running and after; cancel_invocation (nothing of the turn stored: the next
turn's model request has no trace of the cancelled prompt); the run limit
(ASYNC_MAX_SECONDS), result expiry (ASYNC_RESULT_TTL_SECONDS), the cap
(ASYNC_MAX_INVOCATIONS: 429, then eviction of the oldest finished one), a
busy session, and SIGTERM during an async run."""

import json
import os
import signal
import time

from conftest import Runtime

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def get(rt, inv_id, **extra):
    body = {"action": "get_invocation", "invocation_id": inv_id}
    body.update(extra)
    status, hdrs, doc = rt.invoke(body)
    return status, doc


def cancel(rt, inv_id):
    status, _, doc = rt.invoke({"action": "cancel_invocation",
                                "invocation_id": inv_id})
    return status, doc


def wait_finished(rt, inv_id, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, doc = get(rt, inv_id)
        assert status == 200, doc
        if doc["status"] != "running":
            return doc
        time.sleep(0.05)
    raise AssertionError("%s still running after %s s" % (inv_id, timeout))


def wait_ping(rt, want, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, doc = rt.ping()
        assert status == 200
        if doc["status"] == want:
            return doc
        time.sleep(0.02)
    raise AssertionError("/ping never said %s" % want)


def next_second(ts):
    """Sleeps until the wall clock is past Unix second ts, so a status
    change shows as a new time_of_last_update."""
    while int(time.time()) <= ts:
        time.sleep(0.05)


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def test_async_202_ping_busy_and_result(start_runtime, fake):
    rt = start_runtime()
    _, idle = rt.ping()
    assert idle["status"] == "Healthy"
    next_second(idle["time_of_last_update"])
    fake.script([{"text": "slow answer", "latency_ms": 1500}])

    t0 = time.monotonic()
    status, hdrs, doc = rt.invoke({"prompt": "work hard", "async": True,
                                   "session_id": "as-1"})
    assert status == 202, doc
    assert time.monotonic() - t0 < 0.5
    assert set(doc) == {"invocation_id", "session_id", "status"}
    assert doc["session_id"] == "as-1" and doc["status"] == "running"
    assert hdrs[SESSION_HEADER] == "as-1"
    inv = doc["invocation_id"]

    busy = rt.ping()[1]
    assert busy["status"] == "HealthyBusy"
    assert busy["time_of_last_update"] > idle["time_of_last_update"]

    status, doc = get(rt, inv)
    assert status == 200
    assert doc["status"] == "running" and doc["session_id"] == "as-1"
    assert "response" not in doc and "finished_at" not in doc

    # A synchronous invocation of another session meanwhile (once the
    # async one has taken its scripted reply).
    fake.wait_for_requests(1)
    status, _, sync = rt.invoke({"prompt": "quick one",
                                 "session_id": "as-other"})
    assert status == 200, sync
    assert sync["response"] == "echo: quick one"

    # The status has not changed: neither has the timestamp.
    time.sleep(1.1)
    again = rt.ping()[1]
    assert again == busy

    doc = wait_finished(rt, inv)
    assert doc["status"] == "completed", doc
    assert doc["invocation_id"] == inv and doc["session_id"] == "as-1"
    assert doc["response"] == "slow answer"
    assert doc["stop_reason"] == "EndTurn"
    assert doc["iterations"] == 1
    u = doc["usage"]
    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"] > 0
    assert doc["finished_at"] >= doc["created_at"]
    assert "error" not in doc

    healthy = wait_ping(rt, "Healthy")
    assert healthy["time_of_last_update"] > busy["time_of_last_update"]
    time.sleep(1.1)
    assert rt.ping()[1] == healthy

    # The turn is in the session like any other.
    status, _, follow = rt.invoke({"prompt": "and then?",
                                   "session_id": "as-1"})
    assert status == 200
    text = json.dumps(converse_requests(fake)[-1]["body"]["messages"])
    assert "work hard" in text and "slow answer" in text


def test_cancel_stores_nothing(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "never seen", "latency_ms": 20000}])
    status, _, doc = rt.invoke({"prompt": "secret-cancelled-prompt",
                                "async": True, "session_id": "ac-1"})
    assert status == 202, doc
    inv = doc["invocation_id"]
    fake.wait_for_requests(1)
    assert rt.ping()[1]["status"] == "HealthyBusy"

    t0 = time.monotonic()
    status, doc = cancel(rt, inv)
    assert time.monotonic() - t0 < 4
    assert status == 200, doc
    assert doc["status"] == "cancelled"
    assert doc["error_type"] == "Cancelled"
    assert get(rt, inv)[1]["status"] == "cancelled"
    wait_ping(rt, "Healthy")

    status, doc = cancel(rt, inv)
    assert status == 409, doc
    assert doc["error_type"] == "InvocationNotRunning"
    assert doc["status"] == "cancelled"

    status, _, doc = rt.invoke({"prompt": "after the cancel",
                                "session_id": "ac-1"})
    assert status == 200, doc
    last = json.dumps(converse_requests(fake)[-1]["body"]["messages"])
    assert "after the cancel" in last
    assert "secret-cancelled-prompt" not in last
    assert "never seen" not in last


def test_run_limit(start_runtime, fake):
    rt = start_runtime(ASYNC_MAX_SECONDS="1")
    fake.script([{"text": "too late", "latency_ms": 8000}])
    t0 = time.monotonic()
    status, _, doc = rt.invoke({"prompt": "take forever", "async": True})
    assert status == 202, doc
    doc = wait_finished(rt, doc["invocation_id"])
    elapsed = time.monotonic() - t0
    assert doc["status"] == "failed", doc
    assert doc["error_type"] == "AsyncTimeout"
    assert "ASYNC_MAX_SECONDS (1 s)" in doc["error"]
    assert 0.9 < elapsed < 4, elapsed
    wait_ping(rt, "Healthy")


def test_result_ttl(start_runtime, fake):
    rt = start_runtime(ASYNC_RESULT_TTL_SECONDS="1")
    status, _, doc = rt.invoke({"prompt": "short", "async": True})
    assert status == 202, doc
    inv = doc["invocation_id"]
    assert wait_finished(rt, inv)["status"] == "completed"
    time.sleep(1.3)
    status, doc = get(rt, inv)
    assert status == 404, doc
    assert doc["error_type"] == "InvocationNotFound"
    status, doc = get(rt, "never-was-an-id")
    assert status == 404


def test_cap_and_eviction(start_runtime, fake):
    rt = start_runtime(ASYNC_MAX_INVOCATIONS="2")
    fake.script([{"text": "first", "latency_ms": 600},
                 {"text": "second", "latency_ms": 1500}])
    s1, _, d1 = rt.invoke({"prompt": "one", "async": True,
                           "session_id": "cap-1"})
    assert s1 == 202, d1
    fake.wait_for_requests(1)  # "one" takes the 600 ms step
    s2, _, d2 = rt.invoke({"prompt": "two", "async": True,
                           "session_id": "cap-2"})
    assert s2 == 202, d2
    s3, _, d3 = rt.invoke({"prompt": "three", "async": True,
                           "session_id": "cap-3"})
    assert s3 == 429, d3
    assert d3["error_type"] == "TooManyAsyncInvocations"
    assert "ASYNC_MAX_INVOCATIONS" in d3["error"]

    # Once "one" has finished, a new one takes its place.
    assert wait_finished(rt, d1["invocation_id"])["status"] == "completed"
    s3, _, d3 = rt.invoke({"prompt": "three", "async": True,
                           "session_id": "cap-3"})
    assert s3 == 202, d3
    assert get(rt, d1["invocation_id"])[0] == 404
    assert get(rt, d2["invocation_id"])[0] == 200
    assert wait_finished(rt, d2["invocation_id"])["response"] == "second"
    assert wait_finished(rt, d3["invocation_id"])["status"] == "completed"


def test_busy_session_and_validation(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "slow", "latency_ms": 1500}])
    status, _, doc = rt.invoke({"prompt": "hold it", "async": True,
                                "session_id": "busy-1"})
    assert status == 202, doc
    inv = doc["invocation_id"]
    status, _, doc = rt.invoke({"prompt": "again", "async": True,
                                "session_id": "busy-1"})
    assert status == 409, doc
    assert doc["error_type"] == "SessionBusy"
    status, _, doc = rt.invoke({"prompt": "sync", "session_id": "busy-1"})
    assert status == 409 and doc["error_type"] == "SessionBusy"
    # Another session's header: as good as unknown.
    status, _, doc = rt.invoke({"action": "get_invocation",
                                "invocation_id": inv},
                               headers={SESSION_HEADER: "someone-else"})
    assert status == 404, doc
    status, hdrs, doc = rt.invoke({"action": "get_invocation",
                                   "invocation_id": inv},
                                  headers={SESSION_HEADER: "busy-1"})
    assert status == 200 and hdrs[SESSION_HEADER] == "busy-1"

    status, _, doc = rt.invoke({"action": "list_everything"})
    assert status == 400
    assert "get_invocation, cancel_invocation" in doc["error"]
    status, _, doc = rt.invoke({"action": "get_invocation"})
    assert status == 400 and "invocation_id" in doc["error"]
    status, _, doc = rt.invoke({"prompt": "x", "async": "yes"})
    assert status == 400 and "'async' must be a boolean" in doc["error"]
    status, _, doc = rt.invoke({"prompt": "x", "async": True,
                                "stream": True})
    assert status == 400 and "cannot both be true" in doc["error"]
    # A request id already used by a kept async invocation.
    status, _, doc = rt.invoke(
        {"prompt": "dup", "async": True, "session_id": "busy-2"},
        headers={"X-Amzn-Bedrock-AgentCore-Runtime-Request-Id": inv})
    assert status == 409 and doc["error_type"] == "InvocationExists"
    assert wait_finished(rt, inv)["status"] == "completed"


def _stop(rt, within_s):
    t0 = time.monotonic()
    rt.proc.send_signal(signal.SIGTERM)
    rt.proc.wait(within_s + 10)
    elapsed = time.monotonic() - t0
    out = rt.output()
    os.unlink(rt.log.name)
    assert "Sanitizer" not in out, out
    assert "runtime error:" not in out, out
    assert rt.proc.returncode == 0, out
    return elapsed, out


def test_sigterm_cancels_after_the_grace_period(fake):
    """An async run longer than the grace period: it keeps running through
    it, is then cancelled, and the process exits 0."""
    fake.script([{"text": "never", "latency_ms": 30000}])
    rt = Runtime({"SHUTDOWN_GRACE_SECONDS": "2"}, fake)
    status, _, doc = rt.invoke({"prompt": "long job", "async": True,
                                "session_id": "term-1"})
    assert status == 202, doc
    fake.wait_for_requests(1)
    elapsed, out = _stop(rt, within_s=6)
    assert 1.8 < elapsed < 6, (elapsed, out)
    assert "async invocation(s) still running" in out
    assert "abandoning 1 in-flight invocation(s)" in out
    assert "shutdown complete" in out


def test_sigterm_lets_a_short_async_run_finish(fake):
    """An async run that ends within the grace period completes (its turn
    is not cut off) and the process exits as soon as it has."""
    fake.script([{"text": "just in time", "latency_ms": 1000}])
    rt = Runtime({"SHUTDOWN_GRACE_SECONDS": "10"}, fake)
    status, _, doc = rt.invoke({"prompt": "short job", "async": True,
                                "session_id": "term-2"})
    assert status == 202, doc
    fake.wait_for_requests(1)
    elapsed, out = _stop(rt, within_s=6)
    assert elapsed < 5, (elapsed, out)
    assert "Invocation completed successfully" in out
    assert "abandoning" not in out
