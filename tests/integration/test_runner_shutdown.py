"""Defect 2 (issue 8): shutdown joins every invocation thread before it
frees the server, agent, store and model. Runs tests/tools/slow_runtime.c
(the stock runtime plus `slow_tool`, a C tool that sleeps) against the fake
Bedrock, sends SIGTERM while a streaming invocation is inside the tool, and
checks the exit code, the time it took, the order of the last log lines
and that no sanitizer report was written."""

import json
import os
import signal
import time

from conftest import RUNTIME, Runtime
from test_streaming import SSEClient

SLOW_RUNTIME = os.path.join(os.path.dirname(RUNTIME), "slow_runtime")


def start(fake, grace):
    return Runtime({"SHUTDOWN_GRACE_SECONDS": str(grace)}, fake,
                   binary=SLOW_RUNTIME)


def wait_for_tool_use(client):
    for _, line in client.lines():
        if line.startswith("data: ") and \
                json.loads(line[6:])["type"] == "tool_use":
            return
    raise AssertionError("the stream ended before the tool call")


def stop_and_check(rt, client, within_s):
    t0 = time.monotonic()
    rt.proc.send_signal(signal.SIGTERM)
    # Keep reading so the runtime is never held up by this client.
    try:
        for _ in client.lines():
            pass
    except OSError:
        pass
    client.close()
    rt.proc.wait(within_s + 5)
    elapsed = time.monotonic() - t0
    out = rt.output()
    os.unlink(rt.log.name)
    assert "Sanitizer" not in out, out
    assert "runtime error:" not in out, out
    assert rt.proc.returncode == 0, out
    assert elapsed < within_s, (elapsed, out)
    lines = []
    for line in out.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return [(l.get("logger"), l.get("message", "")) for l in lines], out


def index_of(messages, pred):
    for i, m in enumerate(messages):
        if pred(m):
            return i
    return -1


def test_sigterm_while_tool_runs_cancels_and_exits_0(fake):
    """A tool that honours cancellation: the grace period runs out, the
    invocation is cancelled, its thread ends, the process exits 0."""
    fake.script([{"tool_use": [{"id": "t1", "name": "slow_tool",
                                "input": {"ms": 30000,
                                          "honor_cancel": True}}]},
                 {"text": "never"}])
    rt = start(fake, grace=1)
    c = SSEClient(rt, {"prompt": "sleep", "stream": True,
                       "session_id": "sd-1"})
    wait_for_tool_use(c)
    msgs, out = stop_and_check(rt, c, within_s=4)
    done = index_of(msgs, lambda m: m[1].startswith("shutdown complete"))
    tool = index_of(msgs, lambda m: m[0] == "strands.test")
    metric = index_of(msgs, lambda m: m[0] == "strands.metrics")
    assert done >= 0 and 0 <= tool < done and 0 <= metric < done, out


def test_sigterm_joins_a_tool_that_ignores_cancel(fake):
    """A tool that keeps running 3 s after it is cancelled (beyond the
    post-cancel wait): shutdown waits for its thread instead of freeing
    the agent under it. Without the join the process reports "shutdown
    complete" (and frees everything) while the tool still runs."""
    fake.script([{"tool_use": [{"id": "t1", "name": "slow_tool",
                                "input": {"ms": 4500,
                                          "honor_cancel": False}}]},
                 {"text": "late"}])
    rt = start(fake, grace=1)
    c = SSEClient(rt, {"prompt": "sleep", "stream": True,
                       "session_id": "sd-2"})
    wait_for_tool_use(c)
    msgs, out = stop_and_check(rt, c, within_s=9)
    done = index_of(msgs, lambda m: m[1].startswith("shutdown complete"))
    tool = index_of(msgs, lambda m: m[0] == "strands.test")
    metric = index_of(msgs, lambda m: m[0] == "strands.metrics")
    assert done >= 0, out
    assert 0 <= tool < done, out
    assert 0 <= metric < done, out
