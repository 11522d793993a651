"""The agent's bounds through the real binary on loopback against the fake
Bedrock: SESSION_MAX_HISTORY_BYTES (a clear 413, the session keeps its old
history), TOOL_RESULT_MAX_BYTES (a large tool result reaches the model
truncated with a readable marker) and TOOL_CONCURRENCY (many tool uses in
one turn, answered in order)."""

import os

from conftest import RUNTIME, Runtime


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def test_history_cap_gives_clear_413_and_keeps_history(start_runtime, fake):
    rt = start_runtime(SESSION_MAX_HISTORY_BYTES="1024")
    fake.script([{"text": "a" * 200}, {"text": "b" * 200},
                 {"text": "c" * 700}, {"text": "fresh"}])
    for prompt in ("one", "two"):
        status, _, doc = rt.invoke({"prompt": prompt, "session_id": "cap"})
        assert status == 200, doc
    status, _, doc = rt.invoke({"prompt": "three", "session_id": "cap"})
    assert status == 413, doc
    assert doc["error_type"] == "SessionHistoryTooLarge"
    assert "SESSION_MAX_HISTORY_BYTES" in doc["error"]
    # Another session is unaffected.
    status, _, doc = rt.invoke({"prompt": "hi", "session_id": "other"})
    assert status == 200 and doc["response"] == "fresh"
    # The capped session kept its two stored turns (the third was not
    # stored): its next request to the model starts from those 4 messages.
    fake.script([{"text": "x"}])
    status, _, doc = rt.invoke({"prompt": "four", "session_id": "cap"})
    msgs = converse_requests(fake)[-1]["body"]["messages"]
    assert [m["content"][0]["text"][:1] for m in msgs] == \
        ["o", "a", "t", "b", "f"]


def test_large_tool_result_is_truncated_with_marker(fake):
    binary = os.path.join(os.path.dirname(RUNTIME), "example-custom_runtime")
    rt = Runtime({"TOOL_RESULT_MAX_BYTES": "300"}, fake, binary=binary)
    try:
        fake.script([
            {"tool_use": [{"id": "t_big", "name": "reverse_text",
                           "input": {"text": "z" * 5000}},
                          {"id": "t_small", "name": "reverse_text",
                           "input": {"text": "abc"}}]},
            {"text": "ok"}])
        status, _, doc = rt.invoke({"prompt": "reverse a lot"})
        assert status == 200, doc
        results = converse_requests(fake)[1]["body"]["messages"][2]["content"]
        big = results[0]["toolResult"]
        assert big["status"] == "success"
        text = big["content"][0]["text"]
        assert len(text.encode()) <= 300
        assert text.startswith("zzzz")
        assert text.endswith("... [truncated: result was 5013 bytes, "
                             "limit 300 (TOOL_RESULT_MAX_BYTES)]")
        assert results[1]["toolResult"]["content"] == [{"text": "cba"}]
    finally:
        assert rt.stop() == 0


def test_many_tool_uses_with_small_pool_answered_in_order(start_runtime,
                                                          fake):
    rt = start_runtime(TOOL_CONCURRENCY="2")
    uses = [{"id": "t%d" % i, "name": "calculator",
             "input": {"expression": "%d*2" % i}} for i in range(12)]
    fake.script([{"tool_use": uses}, {"text": "done"}])
    status, _, doc = rt.invoke({"prompt": "twelve sums"})
    assert status == 200, doc
    results = converse_requests(fake)[1]["body"]["messages"][2]["content"]
    assert [r["toolResult"]["toolUseId"] for r in results] == \
        ["t%d" % i for i in range(12)]
    assert [r["toolResult"]["content"][0]["text"] for r in results] == \
        [str(i * 2) for i in range(12)]


def test_bad_limit_settings_fail_fast():
    import subprocess
    for var, value in (("TOOL_CONCURRENCY", "0"),
                       ("TOOL_CONCURRENCY", "5000"),
                       ("TOOL_RESULT_MAX_BYTES", "x"),
                       ("SESSION_MAX_HISTORY_BYTES", "12")):
        p = subprocess.run([RUNTIME], env={var: value}, capture_output=True,
                           timeout=10, text=True)
        assert p.returncode == 2, (var, p)
        assert var in p.stderr, (var, p.stderr)
