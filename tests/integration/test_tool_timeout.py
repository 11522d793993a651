"""Tool deadlines through the real binary (issue 9, "Timeouts that hold"):
slow_runtime's `slow_tool` runs past TOOL_TIMEOUT_SECONDS=1. Whether it
honours its cancel flag or ignores it (then it is abandoned), the model's
follow-up request carries an error toolResult "timed out after 1 s" and the
invocation answers 200 well before the tool would have ended."""

import os
import time

from conftest import RUNTIME, Runtime

SLOW_RUNTIME = os.path.join(os.path.dirname(RUNTIME), "slow_runtime")


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def run_slow(fake, honor, session):
    fake.script([{"tool_use": [{"id": "t_slow", "name": "slow_tool",
                                "input": {"ms": 4000,
                                          "honor_cancel": honor}}]},
                 {"text": "gave up waiting"}])
    rt = Runtime({"TOOL_TIMEOUT_SECONDS": "1"}, fake, binary=SLOW_RUNTIME)
    try:
        t0 = time.monotonic()
        status, _, doc = rt.invoke({"prompt": "sleep", "session_id": session})
        elapsed = time.monotonic() - t0
        assert status == 200, doc
        assert doc["response"] == "gave up waiting"
        # deadline 1 s (+ 0.2 s grace when ignored), far below the 4 s sleep
        assert elapsed < 3.0, elapsed
        reqs = converse_requests(fake)
        assert len(reqs) == 2
        tr = reqs[1]["body"]["messages"][2]["content"][0]["toolResult"]
        assert tr["toolUseId"] == "t_slow"
        assert tr["status"] == "error"
        text = tr["content"][0]["text"]
        assert "tool 'slow_tool' timed out after 1 s" in text, text
        return text, rt
    except BaseException:
        rt.stop()
        print(rt.output())
        os.unlink(rt.log.name)
        raise


def test_tool_that_honours_cancel_times_out(fake):
    text, rt = run_slow(fake, True, "to-1")
    assert "abandoned" not in text, text
    assert rt.stop() == 0, rt.output()
    os.unlink(rt.log.name)


def test_tool_that_ignores_cancel_is_abandoned(fake):
    text, rt = run_slow(fake, False, "to-2")
    try:
        assert "abandoned" in text, text
        # The runtime keeps serving while the abandoned tool still sleeps,
        # and nothing breaks when it finally returns.
        status, _ = rt.ping()
        assert status == 200
        assert "slow_tool finished" not in rt.output()
        deadline = time.monotonic() + 8
        while "slow_tool finished" not in rt.output():
            assert time.monotonic() < deadline, rt.output()
            time.sleep(0.1)
        time.sleep(0.2)
        status, _ = rt.ping()
        assert status == 200
    finally:
        code = rt.stop()
    out = rt.output()
    assert code == 0, out
    assert "Sanitizer" not in out and "runtime error:" not in out, out
    os.unlink(rt.log.name)
