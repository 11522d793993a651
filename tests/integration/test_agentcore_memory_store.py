"""SESSION_STORE=agentcore-memory://<memoryId> through the real binary
against the fake AgentCore Memory data plane (tests/fakes/
fake_agentcore_memory.py, SigV4 checked with botocore): turns survive a
restart, the end user's id becomes the actorId, the events are exactly
what Strands' AgentCoreMemorySessionManager writes (checked here with
Python's json.dumps and through the official JS SDK), a session Strands
wrote is continued, and a store that is down answers 503 then recovers."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, ROOT

import fake_agentcore_memory

MEMORY = "mem-123-a1b2c3d4e5"
USER_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
JS_DIR = os.path.join(ROOT, "tests", "fakes", "js")


@pytest.fixture
def memory():
    f = fake_agentcore_memory.start_fake_agentcore_memory(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)},
        region="us-east-1", memories=[MEMORY])
    yield f
    f.stop()


def start(start_runtime, memory, **env):
    env.setdefault("SESSION_STORE", "agentcore-memory://" + MEMORY)
    env.setdefault("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", memory.url)
    return start_runtime(**env)


def converse_bodies(fake):
    return [r["body"] for r in fake.requests()
            if r.get("operation") == "converse"]


def texts(messages):
    return [b["text"] for m in messages for b in m["content"] if "text" in b]


def session_events(memory, actor, session):
    return [e for e in memory.events(MEMORY)
            if e["actorId"] == actor and e["sessionId"] == session]


def test_turns_survive_restart(start_runtime, fake, memory):
    fake.script([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    rt = start(start_runtime, memory)
    for prompt, want in (("first", "one"), ("second", "two")):
        status, _, doc = rt.invoke({"prompt": prompt, "session_id": "conv-1"})
        assert status == 200 and doc["response"] == want, doc
    assert texts(converse_bodies(fake)[1]["messages"]) == [
        "first", "one", "second"]
    assert rt.stop() == 0
    # A new process knows nothing but what AgentCore Memory holds.
    rt2 = start(start_runtime, memory)
    status, _, doc = rt2.invoke({"prompt": "third", "session_id": "conv-1"})
    assert status == 200 and doc["response"] == "three", doc
    assert texts(converse_bodies(fake)[2]["messages"]) == [
        "first", "one", "second", "two", "third"]
    events = session_events(memory, "default", "conv-1")
    kinds = [(e.get("metadata") or {}).get("stateType", {})
             .get("stringValue", "MESSAGE") for e in events]
    # Strands' session record once, then per turn: messages, agent state.
    assert kinds == ["SESSION", "MESSAGE", "MESSAGE", "AGENT", "MESSAGE",
                     "MESSAGE", "AGENT", "MESSAGE", "MESSAGE", "AGENT"]
    # Every call was signed for bedrock-agentcore and checked.
    reqs = memory.requests()
    assert reqs and all(r["signature_valid"] for r in reqs)
    assert all("/bedrock-agentcore/aws4_request" in
               r["headers"]["authorization"] for r in reqs)


def test_user_id_header_is_the_actor(start_runtime, fake, memory):
    fake.script([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    rt = start(start_runtime, memory, MEMORY_ACTOR_ID="service-actor")
    status, _, _ = rt.invoke({"prompt": "x", "session_id": "u-1"},
                             headers={USER_HEADER: "user-7"})
    assert status == 200
    status, _, _ = rt.invoke({"prompt": "y", "session_id": "u-1"})
    assert status == 200
    assert len(session_events(memory, "user-7", "u-1")) == 4
    assert len(session_events(memory, "service-actor", "u-1")) == 4
    # Each actor has its own conversation in the same session id.
    assert texts(converse_bodies(fake)[1]["messages"]) == ["y"]
    status, _, _ = rt.invoke({"prompt": "z", "session_id": "u-1"},
                             headers={USER_HEADER: "user-7"})
    assert status == 200
    assert texts(converse_bodies(fake)[2]["messages"]) == ["x", "a", "z"]
    # A user id AgentCore Memory cannot take is a clear 400.
    status, _, doc = rt.invoke({"prompt": "x", "session_id": "u-1"},
                               headers={USER_HEADER: "user@corp"})
    assert status == 400 and "actor id" in doc["error"], doc


def strands_message_text(message, created_at):
    """What AgentCoreMemoryConverter.message_to_payload puts in the text:
    json.dumps(SessionMessage(message, 0, ...).to_dict())."""
    return json.dumps({"message": message, "message_id": 0,
                       "redact_message": None, "created_at": created_at,
                       "updated_at": created_at})


def check_strands_shapes(events):
    for e in events:
        md = e.get("metadata") or {}
        state = md.get("stateType", {}).get("stringValue")
        item = e["payload"][0]
        if state == "SESSION":
            doc = json.loads(item["blob"])
            assert list(doc) == ["session_id", "session_type", "created_at",
                                 "updated_at"]
            assert item["blob"] == json.dumps(doc)
        elif state == "AGENT":
            doc = json.loads(item["blob"])
            assert md["agentId"] == {"stringValue": "default"}
            assert list(doc)[0] == "agent_id" and doc["agent_id"] == "default"
            assert list(doc)[-2:] == ["created_at", "updated_at"]
            assert "state" in doc and "conversation_manager_state" in doc
            assert item["blob"] == json.dumps(doc)
        elif "conversational" in item:
            conv = item["conversational"]
            doc = json.loads(conv["content"]["text"])
            assert conv["role"] == doc["message"]["role"].upper()
            assert conv["content"]["text"] == strands_message_text(
                doc["message"], doc["created_at"])
        else:
            text, role = json.loads(item["blob"])
            doc = json.loads(text)
            assert role == doc["message"]["role"]
            assert len(text) + len(role) >= 100000
            assert text == strands_message_text(doc["message"],
                                                doc["created_at"])
            assert item["blob"] == json.dumps([text, role])


def test_events_are_what_strands_writes(start_runtime, fake, memory):
    big = "w\u00e9" * 60000   # 120,000 characters: a blob, as in Strands
    fake.script([{"text": big}, {"text": "small"}])
    rt = start(start_runtime, memory)
    for prompt in ("caf\u00e9 \u2014 \U0001F389", "again"):
        status, _, doc = rt.invoke({"prompt": prompt, "session_id": "shape"})
        assert status == 200, doc
    events = session_events(memory, "default", "shape")
    assert len(events) == 7
    check_strands_shapes(events)
    assert "blob" in events[2]["payload"][0]
    assert "conversational" in events[1]["payload"][0]
    # The same events through the official JS SDK (ListEvents paginator).
    node = shutil.which("node")
    if node is None or not os.path.isdir(os.path.join(
            JS_DIR, "node_modules", "@aws-sdk", "client-bedrock-agentcore")):
        pytest.skip("node / @aws-sdk/client-bedrock-agentcore not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    proc = subprocess.run(
        [node, "agentcore_memory_oracle.mjs", "list", "--endpoint",
         memory.url, "--akid", ACCESS_KEY, "--secret", SECRET_KEY,
         "--token", SESSION_TOKEN, "--memory", MEMORY, "--actor", "default", "--session", "shape"],
        cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)["events"]
    # Newest first, as the service lists them (Strands reverses them).
    seen.reverse()
    assert [e["eventId"] for e in seen] == [e["eventId"] for e in events]
    assert [e["payload"] for e in seen] == [e["payload"] for e in events]
    stamps = [e["eventTimestamp"] for e in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    check_strands_shapes(seen)


def test_continues_a_session_strands_wrote(start_runtime, fake, memory):
    """Events as AgentCoreMemorySessionManager writes them (no turn tags)."""
    t = 1767225600.0
    at = "2026-01-01T00:00:00.000100+00:00"

    def put(payload, metadata=None):
        nonlocal t
        t += 0.001
        req = {"actorId": "default", "sessionId": "from-py",
               "eventTimestamp": t, "payload": payload}
        if metadata:
            req["metadata"] = metadata
        memory._create(MEMORY, req)

    put([{"blob": json.dumps({"session_id": "from-py",
                              "session_type": "AGENT", "created_at": at,
                              "updated_at": at})}],
        {"stateType": {"stringValue": "SESSION"}})
    agent = {"agent_id": "default", "state": {"city": "Paris"},
             "conversation_manager_state": {
                 "__name__": "SlidingWindowConversationManager",
                 "removed_message_count": 0, "model_call_count": 1},
             "_internal_state": {}, "created_at": at, "updated_at": at}
    put([{"blob": json.dumps(agent)}],
        {"stateType": {"stringValue": "AGENT"},
         "agentId": {"stringValue": "default"}})
    for role, text in (("user", "hello from python"),
                       ("assistant", "hi, python here")):
        msg = {"role": role, "content": [{"text": text}]}
        put([{"conversational": {"content": {
            "text": strands_message_text(msg, at)}, "role": role.upper()}}])
    put([{"blob": json.dumps(agent)}],
        {"stateType": {"stringValue": "AGENT"},
         "agentId": {"stringValue": "default"}})
    fake.script([{"text": "continued"}])
    rt = start(start_runtime, memory)
    status, _, doc = rt.invoke({"prompt": "and now C", "session_id":
                                "from-py"})
    assert status == 200 and doc["response"] == "continued", doc
    assert texts(converse_bodies(fake)[0]["messages"]) == [
        "hello from python", "hi, python here", "and now C"]
    events = session_events(memory, "default", "from-py")
    new = events[5:]
    assert len(new) == 3      # no second session record; 2 messages, agent
    check_strands_shapes(new)
    last = json.loads(new[-1]["payload"][0]["blob"])
    # Strands' agent fields are kept, created_at included.
    assert last["created_at"] == at
    assert last["_internal_state"] == {}


def test_store_down_is_503_then_recovers(start_runtime, fake, memory):
    fake.script([{"text": "never"}, {"text": "back"}])
    rt = start(start_runtime, memory, AWS_MAX_ATTEMPTS="2")
    memory.fail(operation="*", code="ThrottlingException", status=429,
                count=-1)
    status, _, doc = rt.invoke({"prompt": "x", "session_id": "down"})
    assert status == 503, doc
    assert doc["error_type"] == "SessionStoreUnavailable"
    assert "ThrottlingException" in doc["error"]
    assert converse_bodies(fake) == []
    with memory._lock:
        memory._fail.clear()
    status, _, doc = rt.invoke({"prompt": "y", "session_id": "down"})
    assert status == 200 and doc["response"] == "never", doc
    status, doc = rt.ping()
    assert status == 200


def test_bad_memory_id_stops_start(tmp_path):
    from conftest import Runtime
    with pytest.raises(RuntimeError) as exc:
        Runtime({"SESSION_STORE": "agentcore-memory://mem-123"})
    assert "memory id" in str(exc.value)


def test_bedrock_secret_keys_are_not_used_for_memory(start_runtime, memory):
    """With BEDROCK_CREDENTIALS_SECRET the secret's keys sign Bedrock calls
    only; AgentCore Memory is signed with the default chain (here the
    environment keys; the execution role on AgentCore)."""
    import fake_aws
    bedrock_akid, bedrock_secret = "AKIDFROMSECRETACM0001", "acm/Secret+KEY0001"
    sm = fake_aws.start_fake_secrets_manager(
        credentials={ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)},
        secrets={"acm/bedrock": json.dumps({
            "AWS_ACCESS_KEY_ID": bedrock_akid,
            "AWS_SECRET_ACCESS_KEY": bedrock_secret})})
    bedrock = fake_aws.start_fake_bedrock(
        credentials={bedrock_akid: bedrock_secret})
    try:
        bedrock.script([{"text": "signed apart"}])
        rt = start(start_runtime, memory, fake_server=bedrock,
                   BEDROCK_CREDENTIALS_SECRET="acm/bedrock",
                   AWS_ENDPOINT_URL_SECRETS_MANAGER=sm.url)
        status, _, doc = rt.invoke({"prompt": "x", "session_id": "sec"})
        assert status == 200 and doc["response"] == "signed apart", doc
        reqs = memory.requests()
        assert reqs and all(r["signature_valid"] for r in reqs)
        assert all("Credential=%s/" % ACCESS_KEY in
                   r["headers"]["authorization"] for r in reqs)
        rt.stop()
    finally:
        bedrock.stop()
        sm.stop()
