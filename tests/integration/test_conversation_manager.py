"""Conversation managers and context-overflow recovery through the real
binary (issue 10): Bedrock's overflow error -> the reduced retry succeeds;
three reductions that do not help -> 400 ContextWindowOverflow; a single
2 MB tool result is cut, not fatal; a long tool-heavy conversation under
WINDOW_SIZE=6 keeps working; the summarizing manager makes its summary call
without tools. Every request the fake Bedrock recorded is checked for pair
validity (first message a user question, roles alternate, each toolUse
answered in the next message, no orphan toolResult)."""

import json
import os
import subprocess

from conftest import RUNTIME, Runtime

SLOW_RUNTIME = os.path.join(os.path.dirname(RUNTIME), "slow_runtime")
TOO_LONG = "Input is too long for requested model."


def converse_requests(fake):
    return [r for r in fake.requests()
            if r.get("operation") in ("converse", "converse-stream")]


def ids(msg, kind):
    return [b[kind]["toolUseId"] for b in msg["content"] if kind in b]


def assert_pairs_valid(messages):
    """The history Bedrock requires, checked independently of the C code."""
    assert messages, "empty history"
    assert messages[0]["role"] == "user", messages[0]
    assert not ids(messages[0], "toolResult"), messages[0]
    for i, m in enumerate(messages):
        assert m["role"] == ("user" if i % 2 == 0 else "assistant"), i
        assert m["content"], i
        if m["role"] == "user":
            assert not ids(m, "toolUse"), i
        else:
            assert not ids(m, "toolResult"), i
        results = ids(m, "toolResult")
        if results:
            prev = ids(messages[i - 1], "toolUse")
            assert sorted(results) == sorted(prev), (i, results, prev)
        uses = ids(m, "toolUse")
        if uses:
            assert i + 1 < len(messages), "unanswered toolUse at the end"
            got = ids(messages[i + 1], "toolResult")
            assert sorted(got) == sorted(uses), (i, uses, got)


def assert_all_sent_valid(fake):
    reqs = converse_requests(fake)
    assert reqs
    for r in reqs:
        assert_pairs_valid(r["body"]["messages"])
    return reqs


def texts(msg):
    return [b["text"] for b in msg["content"] if "text" in b]


def test_overflow_then_reduced_retry_succeeds(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "a%d" % i} for i in range(4)])
    for i in range(4):
        status, _, doc = rt.invoke({"prompt": "q%d" % i, "session_id": "ov"})
        assert status == 200, doc
    fake.reset()
    fake.script([{"error": "ValidationException", "message": TOO_LONG},
                 {"text": "fits now"}])
    status, _, doc = rt.invoke({"prompt": "q4", "session_id": "ov"})
    assert status == 200, doc
    assert doc["response"] == "fits now"
    reqs = assert_all_sent_valid(fake)
    assert len(reqs) == 2
    first, retry = (r["body"]["messages"] for r in reqs)
    assert len(first) == 9
    # Strands' trim on overflow: from index 2 on (the oldest pair goes).
    assert len(retry) == 7
    assert retry == first[2:]
    assert texts(retry[-1]) == ["q4"]
    # The next turn starts where the reduction left the history.
    fake.reset()
    fake.script([{"text": "next"}])
    status, _, doc = rt.invoke({"prompt": "q5", "session_id": "ov"})
    assert status == 200, doc
    sent = assert_all_sent_valid(fake)[0]["body"]["messages"]
    assert texts(sent[0]) == ["q1"] and texts(sent[-1]) == ["q5"]
    assert len(sent) == 9


def test_overflow_streaming_retry(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "a0"}])
    status, _, doc = rt.invoke({"prompt": "q0", "session_id": "ovs"})
    assert status == 200, doc
    fake.script([{"error": "ValidationException",
                  "message": "prompt is too long: 250000 tokens > 200000 "
                             "maximum"},
                 {"text": "streamed"}])
    status, _, data = rt.request("POST", "/invocations",
                                 {"prompt": "q1", "session_id": "ovs",
                                  "stream": True})
    assert status == 200
    body = data.decode()
    assert "streamed" in body
    assert "ContextWindowOverflow" not in body
    assert_all_sent_valid(fake)


def test_overflow_three_reductions_then_400(start_runtime, fake):
    rt = start_runtime()
    fake.script([{"text": "a%d" % i} for i in range(6)])
    for i in range(6):
        status, _, doc = rt.invoke({"prompt": "q%d" % i, "session_id": "no"})
        assert status == 200, doc
    fake.reset()
    fake.script([{"error": "ValidationException",
                  "message": "input length and `max_tokens` exceed context "
                             "limit: 180000 + 4096 > 200000"}] * 4
                + [{"text": "never"}])
    status, _, doc = rt.invoke({"prompt": "q6", "session_id": "no"})
    assert status == 400, doc
    assert doc["error_type"] == "ContextWindowOverflow", doc
    assert "after 3 reductions" in doc["error"], doc
    reqs = assert_all_sent_valid(fake)
    assert len(reqs) == 4
    sizes = [len(r["body"]["messages"]) for r in reqs]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    # Nothing of the failed turn was stored: the session goes on as before.
    fake.reset()
    fake.script([{"text": "back"}])
    status, _, doc = rt.invoke({"prompt": "q7", "session_id": "no"})
    assert status == 200 and doc["response"] == "back", doc
    sent = converse_requests(fake)[0]["body"]["messages"]
    assert all(texts(m) != ["q6"] for m in sent)
    assert len(sent) == 13


def test_overflow_with_manager_none_is_400(start_runtime, fake):
    rt = start_runtime(CONVERSATION_MANAGER="none")
    fake.script([{"error": "ValidationException", "message": TOO_LONG},
                 {"text": "never"}])
    status, _, doc = rt.invoke({"prompt": "q", "session_id": "nn"})
    assert status == 400, doc
    assert doc["error_type"] == "ContextWindowOverflow", doc
    assert len(converse_requests(fake)) == 1


def test_single_2mb_tool_result_is_truncated(fake):
    size = 2 * 1024 * 1024
    fake.script([{"tool_use": [{"id": "t_big", "name": "big_tool",
                                "input": {"chars": size}}]},
                 # Bedrock refuses any request that still holds it ...
                 {"error": "ValidationException", "message": TOO_LONG,
                  "if_body_over": 1000000},
                 # ... and answers once it is cut.
                 {"text": "read it"}])
    rt = Runtime({"TOOL_RESULT_MAX_BYTES": str(4 * size)}, fake,
                 binary=SLOW_RUNTIME)
    try:
        status, _, doc = rt.invoke({"prompt": "read", "session_id": "big"})
        assert status == 200, doc
        assert doc["response"] == "read it"
        reqs = assert_all_sent_valid(fake)
        assert len(reqs) == 3
        assert len(reqs[1]["body_text"] if "body_text" in reqs[1]
                   else json.dumps(reqs[1]["body"])) > size
        last = reqs[2]["body"]["messages"]
        tr = last[2]["content"][0]["toolResult"]
        assert tr["toolUseId"] == "t_big"
        text = tr["content"][0]["text"]
        assert text.startswith("B") and text.endswith("E")
        assert "... [truncated: %d chars removed] ..." % (size - 400) in text
        assert len(text) < 600
        assert len(json.dumps(reqs[2]["body"])) < 10000
        # The next turn: the stored log still holds the full result, so it
        # is cut again when the model refuses it, and the session goes on.
        fake.reset()
        fake.script([{"error": "ValidationException", "message": TOO_LONG,
                      "if_body_over": 1000000},
                     {"text": "still fine"}])
        status, _, doc = rt.invoke({"prompt": "more", "session_id": "big"})
        assert status == 200 and doc["response"] == "still fine", doc
        assert_all_sent_valid(fake)
    finally:
        code = rt.stop()
        out = rt.output()
        os.unlink(rt.log.name)
        assert "ERROR: AddressSanitizer" not in out, out
        assert "LeakSanitizer" not in out, out
        assert code == 0, out


def test_long_conversation_small_window(start_runtime, fake):
    rt = start_runtime(WINDOW_SIZE="6")
    turns = 10
    steps = []
    for i in range(turns):
        steps.append({"tool_use": [{"id": "c%d" % i, "name": "calculator",
                                    "input": {"expression": "%d+1" % i}}]})
        steps.append({"text": "r%d" % i})
    fake.script(steps)
    for i in range(turns):
        status, _, doc = rt.invoke({"prompt": "p%d" % i, "session_id": "w6"})
        assert status == 200, doc
        assert doc["response"] == "r%d" % i
    reqs = assert_all_sent_valid(fake)
    assert len(reqs) == 2 * turns
    for r in reqs:
        assert len(r["body"]["messages"]) <= 7
    # The last request ends with the newest turn, whole and in order.
    last = reqs[-1]["body"]["messages"]
    assert texts(last[-3]) == ["p9"]
    assert ids(last[-2], "toolUse") == ["c9"]
    assert ids(last[-1], "toolResult") == ["c9"]


def test_summarizing_manager(start_runtime, fake):
    rt = start_runtime(CONVERSATION_MANAGER="summarizing", WINDOW_SIZE="4",
                       SUMMARY_PRESERVE_RECENT="2", SUMMARY_RATIO="0.5")
    calc = {"tool_use": [{"id": "k1", "name": "calculator",
                          "input": {"expression": "6*7"}}]}
    fake.script([calc, {"text": "a0"}, {"text": "SUMMARY-1"},
                 {"text": "a1"}])
    status, _, doc = rt.invoke({"prompt": "q0", "session_id": "sum"})
    assert status == 200 and doc["response"] == "a0", doc
    status, _, doc = rt.invoke({"prompt": "q1", "session_id": "sum"})
    assert status == 200 and doc["response"] == "a1", doc
    reqs = assert_all_sent_valid(fake)
    assert len(reqs) == 4
    summary_call = reqs[2]["body"]
    assert "toolConfig" not in summary_call
    assert summary_call["system"][0]["text"].startswith(
        "You summarize conversations.")
    msgs = summary_call["messages"]
    assert texts(msgs[-1])[-1] == "Please summarize this conversation."
    dumped = json.dumps(msgs)
    assert "toolUse" not in dumped and "[tool call calculator" in dumped
    answer = reqs[3]["body"]["messages"]
    assert answer[0] == {"role": "user", "content": [{"text": "SUMMARY-1"}]}
    assert texts(answer[-1]) == ["q1"]
    assert "toolConfig" in reqs[3]["body"]


def test_bad_settings_fail_fast():
    for var, value in (("CONVERSATION_MANAGER", "fifo"),
                       ("WINDOW_SIZE", "0"),
                       ("SUMMARY_RATIO", "lots"),
                       ("SUMMARY_RATIO", "1.5"),
                       ("SUMMARY_PRESERVE_RECENT", "-1")):
        p = subprocess.run([RUNTIME], env={var: value}, capture_output=True,
                           timeout=10, text=True)
        assert p.returncode == 2, (var, p)
        assert var in p.stderr, (var, p.stderr)
