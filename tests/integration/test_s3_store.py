"""SESSION_STORE=s3://bucket/prefix through the real binary, against the
loopback S3 fake (tests/fakes/fake_s3.py, path-style, botocore's S3 SigV4
check) reached through AWS_ENDPOINT_URL_S3: a conversation survives a
restart, its objects carry Strands' S3SessionManager keys and shapes, a
concurrent writer that commits first is detected (409 SessionConflict)
and not overwritten, S3 503s after the retries answer 503
SessionStoreUnavailable and the runtime recovers by itself, two runtime
processes on one bucket never run one session at once (409 SessionBusy)
and serve its turns alternately, a session written in Strands Python's
layout is continued, and a bad bucket stops the start naming
SESSION_STORE."""

import json
import os
import sys
import urllib.request

import pytest

from conftest import ACCESS_KEY, ROOT, SECRET_KEY, SESSION_TOKEN, Runtime

sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
import fake_s3  # noqa: E402

PREFIX = "strands/sessions"
AGENT = "agents/agent_default"


@pytest.fixture
def s3():
    f = fake_s3.start_fake_s3(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)},
        region="us-east-1")
    yield f
    f.stop()


def control(s3, path, body=None):
    req = urllib.request.Request(
        s3.url + path, method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        data = r.read()
    return json.loads(data) if data else None


def obj(s3, key):
    req = urllib.request.Request(s3.url + "/__fake/object?key=bkt/" + key)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def env_for(s3, **more):
    env = {"SESSION_STORE": "s3://bkt/" + PREFIX + "/",
           "AWS_ENDPOINT_URL_S3": s3.url}
    env.update(more)
    return env


def converse_messages(fake):
    reqs = [r for r in fake.requests() if r.get("operation") == "converse"]
    return reqs[-1]["body"]["messages"]


def texts(messages):
    return [m["content"][0].get("text", next(iter(m["content"][0])))
            for m in messages]


def test_restart_continues_in_strands_layout(start_runtime, fake, s3):
    fake.script([{"text": "one"}])
    rt = start_runtime(**env_for(s3))
    status, _, doc = rt.invoke({"prompt": "first", "session_id": "s3-1"})
    assert status == 200, doc
    fake.script([{"text": "two"}])
    status, _, doc = rt.invoke({"prompt": "second", "session_id": "s3-1"})
    assert status == 200, doc
    assert rt.stop() == 0

    fake.script([{"text": "three"}])
    rt2 = start_runtime(**env_for(s3))
    status, _, doc = rt2.invoke({"prompt": "third", "session_id": "s3-1"})
    assert status == 200, doc
    sent = converse_messages(fake)
    assert texts(sent) == ["first", "one", "second", "two", "third"]
    for m in sent:
        assert "metadata" not in m

    keys = sorted(control(s3, "/__fake/objects"))
    base = "bkt/%s/session_s3-1/" % PREFIX
    assert keys == sorted(
        [base + ".claim", base + "session.json",
         base + AGENT + "/agent.json"] +
        [base + AGENT + "/messages/message_%d.json" % i for i in range(6)])
    for i in range(6):
        text = obj(s3, "%s/session_s3-1/%s/messages/message_%d.json"
                   % (PREFIX, AGENT, i))
        assert text.startswith('{\n  "message": ')   # indent 2
        doc = json.loads(text)
        assert list(doc) == ["message", "message_id", "redact_message",
                             "created_at", "updated_at"]
        assert doc["message_id"] == i
    assert json.loads(obj(
        s3, "%s/session_s3-1/%s/messages/message_5.json"
        % (PREFIX, AGENT)))["message"]["content"] == [{"text": "three"}]
    agent = json.loads(obj(s3, "%s/session_s3-1/%s/agent.json"
                           % (PREFIX, AGENT)))
    assert agent["agent_id"] == "default"
    assert agent["_strands_c"]["message_count"] == 6
    session = json.loads(obj(s3, "%s/session_s3-1/session.json" % PREFIX))
    assert session["session_id"] == "s3-1"
    assert session["session_type"] == "AGENT"
    # Every request was signed for s3 with the body hash.
    log = control(s3, "/__fake/requests")
    assert log and all(e["status"] < 400 or e["status"] in (404,)
                       for e in log)
    assert all(e["headers"].get("x-amz-content-sha256") for e in log)


def test_concurrent_writer_detected_not_overwritten(start_runtime, fake,
                                                    s3):
    fake.script([{"text": "one"}])
    rt = start_runtime(**env_for(s3))
    assert rt.invoke({"prompt": "first", "session_id": "race"})[0] == 200
    # Another instance commits a turn while ours runs: its agent.json
    # lands just before our commit.
    key = "bkt/%s/session_race/%s/agent.json" % (PREFIX, AGENT)
    theirs = json.dumps({"agent_id": "default", "state": {"by": "other"},
                         "conversation_manager_state": {},
                         "_strands_c": {"message_count": 2}}, indent=2)
    control(s3, "/__fake/hook", {"method": "PUT",
                                 "key_contains": "agent.json",
                                 "put_key": key, "put_body": theirs})
    fake.script([{"text": "two"}])
    status, _, doc = rt.invoke({"prompt": "second", "session_id": "race"})
    assert status == 409, doc
    assert doc["error_type"] == "SessionConflict", doc
    # Theirs stands; ours was not written over it.
    assert json.loads(obj(s3, key[4:]))["state"] == {"by": "other"}


def test_s3_down_then_recovers(start_runtime, fake, s3):
    rt = start_runtime(**env_for(s3, AWS_MAX_ATTEMPTS="2"))
    control(s3, "/__fake/fail", {"count": 1000, "status": 503,
                                 "code": "SlowDown"})
    fake.script([{"text": "never"}])
    status, _, doc = rt.invoke({"prompt": "hello", "session_id": "down"})
    assert status == 503, doc
    assert doc["error_type"] == "SessionStoreUnavailable", doc
    assert "SlowDown" in doc["error"]
    control(s3, "/__fake/reset", {})
    fake.script([{"text": "back"}])
    status, _, doc = rt.invoke({"prompt": "hello", "session_id": "down"})
    assert status == 200, doc
    keys = control(s3, "/__fake/objects")
    assert "bkt/%s/session_down/%s/messages/message_1.json" % (
        PREFIX, AGENT) in keys


@pytest.mark.parametrize("spec", ["s3://Bad_Bucket/x", "s3:bkt",
                                  "s3://bkt/a/../b"])
def test_bad_store_spec_stops_start(fake, s3, spec):
    with pytest.raises(RuntimeError) as e:
        Runtime({"SESSION_STORE": spec, "AWS_ENDPOINT_URL_S3": s3.url}, fake)
    assert "SESSION_STORE" in str(e.value) or "s3 store" in str(e.value)


def test_two_runtimes_one_session(start_runtime, fake, s3):
    """Two runtime processes on one bucket: while one runs a turn of a
    session (its lease object held), the other answers 409 SessionBusy;
    afterwards they serve alternating turns of it, each continuing what
    the other stored."""
    import threading
    a = start_runtime(**env_for(s3))
    b = start_runtime(**env_for(s3))
    fake.script([{"text": "slow", "latency_ms": 1500}])
    out = {}
    t = threading.Thread(target=lambda: out.update(
        r=a.invoke({"prompt": "p1", "session_id": "shared"})))
    t.start()
    # Wait until a holds the lease, then b must not run the session.
    for _ in range(200):
        if "bkt/%s/session_shared/.claim" % PREFIX in control(
                s3, "/__fake/objects"):
            break
        threading.Event().wait(0.01)
    status, _, doc = b.invoke({"prompt": "p2", "session_id": "shared"})
    assert status == 409 and doc["error_type"] == "SessionBusy", doc
    t.join(20)
    assert out["r"][0] == 200, out
    fake.script([{"text": "from b"}])
    assert b.invoke({"prompt": "p3", "session_id": "shared"})[0] == 200
    fake.script([{"text": "from a"}])
    assert a.invoke({"prompt": "p4", "session_id": "shared"})[0] == 200
    assert texts(converse_messages(fake)) == ["p1", "slow", "p3", "from b",
                                              "p4"]


def test_session_written_by_strands_python_is_continued(start_runtime,
                                                        fake, s3):
    """A session as Strands Python's S3SessionManager writes it (no
    _strands_c in agent.json, every message object is the log), put there
    by another S3 client, is continued and keeps its layout."""
    base = "bkt/%s/session_py/" % PREFIX
    ts = "2026-05-15T10:00:00.000000+00:00"
    def put(key, doc):
        control(s3, "/__fake/put", {"key": key,
                                    "body": json.dumps(doc, indent=2)})
    put(base + "session.json",
        {"session_id": "py", "session_type": "AGENT", "created_at": ts,
         "updated_at": ts})
    put(base + AGENT + "/agent.json",
        {"agent_id": "default", "state": {"city": "Paris"},
         "conversation_manager_state": {
             "__name__": "SlidingWindowConversationManager",
             "removed_message_count": 0},
         "_internal_state": {"interrupt_state": {
             "interrupts": {}, "context": {}, "activated": False},
             "model_state": {}},
         "created_at": ts, "updated_at": ts})
    for i, (role, text) in enumerate([("user", "hi from python"),
                                      ("assistant", "hello python")]):
        put(base + AGENT + "/messages/message_%d.json" % i,
            {"message": {"role": role, "content": [{"text": text}]},
             "message_id": i, "redact_message": None, "created_at": ts,
             "updated_at": ts})
    fake.script([{"text": "continued"}])
    rt = start_runtime(**env_for(s3))
    status, _, doc = rt.invoke({"prompt": "and now?", "session_id": "py"})
    assert status == 200, doc
    assert texts(converse_messages(fake)) == ["hi from python",
                                              "hello python", "and now?"]
    agent = json.loads(obj(s3, (base + AGENT + "/agent.json")[4:]))
    assert agent["state"] == {"city": "Paris"}
    assert agent["created_at"] == ts
    assert agent["_strands_c"]["message_count"] == 4
    m3 = json.loads(obj(s3, (base + AGENT + "/messages/message_3.json")[4:]))
    assert m3["message_id"] == 3
    assert m3["message"]["content"] == [{"text": "continued"}]
