"""SESSION_STORE=file:<dir> through the real binary: a conversation
survives a restart of the runtime, a session written by Strands Python
(tests/fixtures/strands_py_session, in FileSessionManager's exact layout)
is read, continued and written back in that layout, a Strands snapshot
session is continued in the message-log layout, two runtimes sharing one
directory never run one session at once, and a bad directory stops the
start naming SESSION_STORE."""

import json
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from conftest import ROOT, RUNTIME

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PY_AGENT = os.path.join("session_py-session-1", "agents", "agent_default")
MESSAGE_KEYS = ["message", "message_id", "redact_message", "created_at",
                "updated_at"]
AGENT_KEYS = ["agent_id", "state", "conversation_manager_state",
              "_internal_state", "created_at", "updated_at", "_strands_c"]


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def texts(messages):
    """The first text (or the block kind) of each message."""
    out = []
    for m in messages:
        block = m["content"][0]
        out.append(block.get("text", next(iter(block))))
    return out


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=lambda pairs: pairs)


def keys(path):
    return [k for k, _ in load(path)]


def as_dict(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def store_dir():
    d = tempfile.mkdtemp(prefix="strands-file-it-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_restart_mid_conversation_continues(start_runtime, fake, store_dir):
    spec = "file:" + store_dir
    fake.script([{"text": "one"}])
    rt = start_runtime(SESSION_STORE=spec)
    status, _, doc = rt.invoke({"prompt": "first", "session_id": "fs-1"})
    assert status == 200, doc
    assert rt.stop() == 0

    fake.script([{"text": "two"}])
    rt2 = start_runtime(SESSION_STORE=spec)
    status, _, doc = rt2.invoke({"prompt": "second", "session_id": "fs-1"})
    assert status == 200, doc
    reqs = converse_requests(fake)
    assert texts(reqs[-1]["body"]["messages"]) == ["first", "one", "second"]
    # What a model must not see stays on disk only.
    for m in reqs[-1]["body"]["messages"]:
        assert "metadata" not in m
    mdir = os.path.join(store_dir, "session_fs-1", "agents", "agent_default",
                        "messages")
    assert sorted(os.listdir(mdir)) == ["message_%d.json" % i
                                        for i in range(4)]
    for i in range(4):
        path = os.path.join(mdir, "message_%d.json" % i)
        assert keys(path) == MESSAGE_KEYS
        assert as_dict(path)["message_id"] == i
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(store_dir, "session_fs-1")).st_mode \
        & 0o777 == 0o700
    session = as_dict(os.path.join(store_dir, "session_fs-1",
                                   "session.json"))
    assert list(session) == ["session_id", "session_type", "created_at",
                             "updated_at"]
    assert session["session_id"] == "fs-1"
    assert session["session_type"] == "AGENT"
    # A different session id is a different conversation.
    fake.script([{"text": "alone"}])
    rt2.invoke({"prompt": "hello", "session_id": "fs-2"})
    assert texts(converse_requests(fake)[-1]["body"]["messages"]) == \
        ["hello"]


def test_tool_round_trip_survives_restart(start_runtime, fake, store_dir):
    spec = "file:" + store_dir
    fake.script([
        {"text": "Let me calculate.",
         "tool_use": [{"id": "tooluse_calc1", "name": "calculator",
                       "input": {"expression": "2+3*4"}}]},
        {"text": "14"}])
    rt = start_runtime(SESSION_STORE=spec)
    assert rt.invoke({"prompt": "2+3*4?", "session_id": "tools"})[0] == 200
    assert rt.stop() == 0
    fake.script([{"text": "yes"}])
    rt2 = start_runtime(SESSION_STORE=spec)
    assert rt2.invoke({"prompt": "sure?", "session_id": "tools"})[0] == 200
    sent = converse_requests(fake)[-1]["body"]["messages"]
    assert sent[1]["content"][1] == {"toolUse": {
        "toolUseId": "tooluse_calc1", "name": "calculator",
        "input": {"expression": "2+3*4"}}}
    assert sent[2]["content"][0]["toolResult"]["content"] == [{"text": "14"}]
    assert texts(sent)[-2:] == ["14", "sure?"]
    rec = as_dict(os.path.join(store_dir, "session_tools", "agents",
                               "agent_default", "messages",
                               "message_2.json"))
    assert rec["message"]["content"][0]["toolResult"]["toolUseId"] == \
        "tooluse_calc1"


def test_strands_python_session_read_continued_written_back(
        start_runtime, fake, store_dir):
    shutil.copytree(os.path.join(FIXTURES, "strands_py_session"), store_dir,
                    dirs_exist_ok=True)
    fake.script([{"text": "Seven."}])
    rt = start_runtime(SESSION_STORE="file:" + store_dir)
    status, _, doc = rt.invoke({"prompt": "And 3+4?",
                                "session_id": "py-session-1"})
    assert status == 200, doc
    sent = converse_requests(fake)[-1]["body"]["messages"]
    # From removed_message_count (2) on, the redaction replaces message 6,
    # metadata is stripped, and the new prompt follows.
    assert texts(sent) == ["What is 2+2?", "toolUse", "toolResult",
                           "2+2 = 4.", "[User input redacted.]",
                           "I cannot help with that.", "And 3+4?"]
    assert all("metadata" not in m for m in sent)
    assert "hunter2" not in json.dumps(sent)

    agent_dir = os.path.join(store_dir, PY_AGENT)
    mdir = os.path.join(agent_dir, "messages")
    assert sorted(os.listdir(mdir), key=lambda n: int(n[8:-5])) == \
        ["message_%d.json" % i for i in range(10)]
    # Strands Python's files are untouched.
    for i in range(8):
        name = "message_%d.json" % i
        with open(os.path.join(FIXTURES, "strands_py_session", PY_AGENT,
                               "messages", name), "rb") as a, \
                open(os.path.join(mdir, name), "rb") as b:
            assert a.read() == b.read(), name
    # Ours are in the same layout, indent 2.
    for i, (role, text) in ((8, ("user", "And 3+4?")),
                            (9, ("assistant", "Seven."))):
        path = os.path.join(mdir, "message_%d.json" % i)
        assert keys(path) == MESSAGE_KEYS
        rec = as_dict(path)
        assert rec["message_id"] == i and rec["redact_message"] is None
        assert rec["message"]["role"] == role
        assert rec["message"]["content"][0]["text"] == text
        with open(path, encoding="utf-8") as f:
            assert f.read().startswith('{\n  "message": {\n    "role": ')
    agent = as_dict(os.path.join(agent_dir, "agent.json"))
    assert list(agent) == AGENT_KEYS
    assert agent["agent_id"] == "default"
    assert agent["state"] == {"counter": 3, "name": "Zoë"}
    assert agent["conversation_manager_state"]["__name__"] == \
        "SlidingWindowConversationManager"
    assert agent["_internal_state"]["interrupt_state"]["activated"] is False
    assert agent["created_at"] == "2026-05-15T10:00:00.123456+00:00"
    assert agent["updated_at"] != agent["created_at"]
    assert agent["_strands_c"]["message_count"] == 10
    with open(os.path.join(agent_dir, "agent.json"), encoding="utf-8") as f:
        assert '"name": "Zoë"' in f.read()  # non-ASCII kept, no \\u escapes

    # What Strands Python does on restore (list_messages from
    # removed_message_count, sorted by N, redact_message when set) gives
    # the conversation including our turn.
    restored = []
    names = sorted((n for n in os.listdir(mdir)
                    if n.startswith("message_") and n.endswith(".json")),
                   key=lambda n: int(n[8:-5]))
    for name in names[agent["conversation_manager_state"]
                      ["removed_message_count"]:]:
        rec = as_dict(os.path.join(mdir, name))
        restored.append(rec["redact_message"] or rec["message"])
    assert texts(restored)[-2:] == ["And 3+4?", "Seven."]


def test_snapshot_session_continued_in_message_log_layout(
        start_runtime, fake, store_dir):
    shutil.copytree(os.path.join(FIXTURES, "strands_snapshot"), store_dir,
                    dirs_exist_ok=True)
    fake.script([{"text": "Noted."}])
    rt = start_runtime(SESSION_STORE="file:" + store_dir)
    status, _, doc = rt.invoke({"prompt": "thanks", "session_id": "snap-1"})
    assert status == 200, doc
    sent = converse_requests(fake)[-1]["body"]["messages"]
    assert texts(sent) == ["What is 2+2?", "toolUse", "toolResult",
                           "2+2 = 4.", "thanks"]
    agent_dir = os.path.join(store_dir, "session_snap-1", "agents",
                             "agent_default")
    assert sorted(os.listdir(os.path.join(agent_dir, "messages"))) == \
        ["message_%d.json" % i for i in range(6)]
    agent = as_dict(os.path.join(agent_dir, "agent.json"))
    assert agent["state"] == {"topic": "arithmetic"}
    assert agent["_strands_c"]["message_count"] == 6


def test_two_runtimes_share_a_directory(start_runtime, fake, store_dir):
    """Alternating turns of one session on two processes; a turn that
    overlaps another process's turn gets 409 SessionBusy."""
    spec = "file:" + store_dir
    a = start_runtime(SESSION_STORE=spec)
    b = start_runtime(SESSION_STORE=spec)
    fake.script([{"text": "r1"}, {"text": "r2"}, {"text": "r3"}])
    assert a.invoke({"prompt": "p1", "session_id": "shared"})[0] == 200
    assert b.invoke({"prompt": "p2", "session_id": "shared"})[0] == 200
    assert a.invoke({"prompt": "p3", "session_id": "shared"})[0] == 200
    assert texts(converse_requests(fake)[-1]["body"]["messages"]) == \
        ["p1", "r1", "p2", "r2", "p3"]

    fake.script([{"text": "slow", "latency_ms": 1500}])
    result = {}

    def first():
        result["a"] = a.invoke({"prompt": "p4", "session_id": "shared"})

    t = threading.Thread(target=first)
    t.start()
    fake.wait_for_requests(len(fake.requests()) + 1, timeout=5)
    status, _, doc = b.invoke({"prompt": "p5", "session_id": "shared"})
    t.join(10)
    assert status == 409, doc
    assert "SessionBusy" in json.dumps(doc)
    assert result["a"][0] == 200


@pytest.mark.parametrize("make_bad", ["file", "missing_arg"])
def test_bad_directory_stops_start(store_dir, make_bad):
    if make_bad == "file":
        path = os.path.join(store_dir, "plain")
        with open(path, "w") as f:
            f.write("x")
        spec = "file:" + path
    else:
        spec = "file:"
    p = subprocess.run([RUNTIME], env={"SESSION_STORE": spec,
                                       "AWS_EC2_METADATA_DISABLED": "true",
                                       "PORT": "1"},
                       capture_output=True, timeout=10, text=True)
    assert p.returncode == 2, p
    assert "SESSION_STORE" in p.stderr, p.stderr


def test_missing_directory_is_created_0700(start_runtime, fake, store_dir):
    target = os.path.join(store_dir, "a", "b")
    fake.script([{"text": "ok"}])
    rt = start_runtime(SESSION_STORE="file:" + target)
    assert rt.invoke({"prompt": "x", "session_id": "m"})[0] == 200
    assert os.stat(target).st_mode & 0o777 == 0o700
    assert os.path.exists(os.path.join(target, "session_m", "session.json"))
