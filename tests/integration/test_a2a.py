"""A2A server mode (SERVER_PROTOCOL=A2A): the real binary on loopback with
the fake Bedrock, driven by the official A2A clients (@a2a-js/sdk 1.3.0 for
A2A 1.0 and a2a-sdk-v03 = @a2a-js/sdk 0.3.14 for A2A 0.3, through
tests/fakes/js/a2a_oracle.mjs) and by raw JSON-RPC for the error codes, the
task bounds (count and TTL), background tasks, ListTasks paging and
contextId = session."""

import json
import os
import shutil
import subprocess
import time
import http.client

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JS = os.path.join(ROOT, "tests", "fakes", "js")
ORACLE = os.path.join(JS, "a2a_oracle.mjs")
V1 = {"A2A-Version": "1.0"}


def need_clients():
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    for pkg in (("@a2a-js", "sdk"), ("a2a-sdk-v03",)):
        if not os.path.isdir(os.path.join(JS, "node_modules", *pkg)):
            pytest.skip("A2A clients not installed (tests/fakes/js/"
                        "node_modules missing): run `cd tests/fakes/js && "
                        "npm ci`")


def oracle(rt, scenario):
    p = subprocess.run(["node", ORACLE, "--base",
                        "http://127.0.0.1:%d" % rt.port, "--scenario",
                        scenario], capture_output=True, text=True,
                       timeout=90, cwd=JS)
    out = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout else {}
    assert p.returncode == 0 and "error" not in out, (p.stdout, p.stderr)
    return out


def a2a(start_runtime, **env):
    env.setdefault("SERVER_PROTOCOL", "A2A")
    return start_runtime(**env)


def rpc(rt, method, params=None, headers=None, rid=1, timeout=30):
    body = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = params
    status, hdrs, data = rt.request("POST", "/", body,
                                    dict({"Content-Type": "application/json"},
                                         **(headers or {})), timeout)
    assert status == 200, (status, data)
    doc = json.loads(data)
    assert doc["jsonrpc"] == "2.0" and doc["id"] == rid, doc
    return doc


def msg10(text, context=None, **extra):
    m = {"role": "ROLE_USER", "messageId": "m-%f" % time.monotonic(),
         "parts": [{"text": text}]}
    if context:
        m["contextId"] = context
    m.update(extra)
    return m


def msg03(text, context=None):
    m = {"kind": "message", "role": "user",
         "messageId": "m-%f" % time.monotonic(),
         "parts": [{"kind": "text", "text": text}]}
    if context:
        m["contextId"] = context
    return m


def send10(rt, text, context=None, config=None):
    params = {"message": msg10(text, context)}
    if config:
        params["configuration"] = config
    doc = rpc(rt, "SendMessage", params, V1)
    assert "result" in doc, doc
    return doc["result"]["task"]


def error_code(doc):
    assert "error" in doc and "result" not in doc, doc
    return doc["error"]["code"]


def sse_events(data):
    out = []
    for block in data.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


# ---- the official clients ----------------------------------------------------

def test_official_v10_client_card_send_stream_get_list(start_runtime, fake):
    need_clients()
    rt = a2a(start_runtime)
    out = oracle(rt, "v10")
    card = out["card"]
    assert card["name"] == "strands-agent"
    assert card["capabilities"]["streaming"] is True
    iface = [i for i in card["supportedInterfaces"]
             if i["protocolVersion"] == "1.0"]
    assert iface and iface[0]["protocolBinding"] == "JSONRPC"
    assert iface[0]["url"] == "http://127.0.0.1:%d/" % rt.port
    assert sorted(s["id"] for s in card["skills"]) == ["calculator",
                                                       "current_time"]
    task = out["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    assert task["artifacts"][0]["parts"][0]["text"] == "echo: first question"
    roles = [m["role"] for m in task["history"]]
    assert roles == ["ROLE_USER", "ROLE_AGENT"]
    # the stream: the task, working, text chunks with append/lastChunk, then
    # the terminal status
    ev = out["events"]
    assert ev[0]["task"]["status"]["state"] == "TASK_STATE_SUBMITTED"
    assert ev[0]["task"]["contextId"] == task["contextId"]
    assert ev[1]["statusUpdate"]["status"]["state"] == "TASK_STATE_WORKING"
    chunks = [e["artifactUpdate"] for e in ev if "artifactUpdate" in e]
    assert "".join(c["artifact"]["parts"][0]["text"] for c in chunks) == \
        "echo: second question"
    assert not chunks[0].get("append") and all(c["append"]
                                               for c in chunks[1:])
    assert chunks[-1]["lastChunk"] and not any(c.get("lastChunk")
                                               for c in chunks[:-1])
    assert ev[-1]["statusUpdate"]["status"]["state"] == \
        "TASK_STATE_COMPLETED"
    assert out["got"] == task
    # ListTasks: both tasks of the context, newest first, no artifacts
    lst = out["list"]
    assert lst["totalSize"] == 2 and lst.get("nextPageToken", "") == ""
    assert [t["id"] for t in lst["tasks"]] == [ev[0]["task"]["id"],
                                               task["id"]]
    assert all("artifacts" not in t for t in lst["tasks"])
    # the stream's terminal status is the task's own status
    assert lst["tasks"][0]["status"] == ev[-1]["statusUpdate"]["status"]


def test_official_v10_client_cancels_a_slow_task(start_runtime, fake):
    need_clients()
    rt = a2a(start_runtime)
    fake.script([{"text": "a slow answer in many pieces",
                  "event_delay_ms": 400}])
    t0 = time.monotonic()
    out = oracle(rt, "v10-cancel")
    assert time.monotonic() - t0 < 30
    assert out["canceled"]["status"]["state"] == "TASK_STATE_CANCELED"
    assert out["events"][-1]["statusUpdate"]["status"]["state"] == \
        "TASK_STATE_CANCELED"
    assert out["got"]["status"]["state"] == "TASK_STATE_CANCELED"
    assert out["got"]["status"] == \
        out["events"][-1]["statusUpdate"]["status"]
    assert out["again"]["name"] == "JsonRpcTaskNotCancelableError"


def test_official_v03_client_send_stream_get(start_runtime, fake):
    need_clients()
    rt = a2a(start_runtime)
    out = oracle(rt, "v03")
    sent = out["sent"]["result"]
    assert sent["kind"] == "task" and sent["status"]["state"] == "completed"
    assert sent["artifacts"][0]["parts"] == [
        {"kind": "text", "text": "echo: legacy question"}]
    assert [m["role"] for m in sent["history"]] == ["user", "agent"]
    ev = out["events"]
    assert ev[0]["kind"] == "task" and ev[0]["contextId"] == sent["contextId"]
    kinds = [e["kind"] for e in ev]
    assert kinds[1] == "status-update" and kinds[-1] == "status-update"
    assert ev[-1]["status"]["state"] == "completed" and ev[-1]["final"]
    assert not any(e["final"] for e in ev[1:-1] if e["kind"] ==
                   "status-update")
    text = "".join(e["artifact"]["parts"][0]["text"] for e in ev
                   if e["kind"] == "artifact-update")
    assert text == "echo: legacy question"
    assert out["got"]["result"] == sent


def test_official_v03_client_cancels_a_slow_task(start_runtime, fake):
    need_clients()
    rt = a2a(start_runtime)
    fake.script([{"text": "a slow legacy answer", "event_delay_ms": 400}])
    out = oracle(rt, "v03-cancel")
    assert out["canceled"]["result"]["status"]["state"] == "canceled"
    assert out["events"][-1]["status"]["state"] == "canceled"
    assert out["events"][-1]["final"] is True
    assert out["again"]["error"]["code"] == -32002


# ---- the card ------------------------------------------------------------------

def test_card_names_the_agent_and_serves_both_paths(start_runtime):
    rt = a2a(start_runtime, AGENT_NAME="weather-bot",
             AGENT_DESCRIPTION="Tells the weather",
             AGENTCORE_RUNTIME_URL="https://bedrock-agentcore.us-east-1."
             "amazonaws.com/runtimes/arn%3Aaws/invocations/",
             TOOLS="")
    for path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
        status, hdrs, data = rt.request("GET", path)
        assert status == 200 and hdrs["Content-Type"] == "application/json"
        card = json.loads(data)
        assert card["name"] == "weather-bot"
        assert card["description"] == "Tells the weather"
        url = ("https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/"
               "arn%3Aaws/invocations/")
        assert card["url"] == url
        assert card["protocolVersion"] == "0.3.0"
        assert card["preferredTransport"] == "JSONRPC"
        assert {"url": url, "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0"} in card["supportedInterfaces"]
        assert "text/plain" in card["defaultInputModes"]
        # no tools: one generic skill
        assert len(card["skills"]) == 1 and card["skills"][0]["tags"]


def test_ping_and_only_a2a_paths_in_a2a_mode(start_runtime):
    rt = a2a(start_runtime)
    status, body = rt.ping()
    assert status == 200 and body["status"] in ("Healthy", "HealthyBusy")
    status, _, data = rt.request("POST", "/invocations", {"prompt": "x"})
    assert status == 404 and b"POST /" in data
    status, hdrs, _ = rt.request("GET", "/")
    assert status == 405 and "POST" in hdrs["Allow"]


# ---- JSON-RPC errors ---------------------------------------------------------

def test_json_rpc_error_codes(start_runtime):
    rt = a2a(start_runtime)
    post = {"Content-Type": "application/json"}
    status, _, data = rt.request("POST", "/", "{not json", post)
    doc = json.loads(data)
    assert status == 200 and doc["error"]["code"] == -32700
    assert doc["id"] is None
    status, _, data = rt.request("POST", "/", "[]", post)
    assert json.loads(data)["error"]["code"] == -32600
    status, _, data = rt.request("POST", "/", {"id": 7, "method": "GetTask"},
                                 post)
    doc = json.loads(data)
    assert doc["error"]["code"] == -32600 and doc["id"] == 7
    assert error_code(rpc(rt, "NoSuchMethod", {}, V1)) == -32601
    assert error_code(rpc(rt, "message/send", {"message": msg03("x")},
                          V1)) == -32601
    assert error_code(rpc(rt, "SendMessage", {"message": msg10("x")},
                          {"A2A-Version": "0.3"})) == -32601
    doc = rpc(rt, "SendMessage", {"message": msg10("x")},
              {"A2A-Version": "0.5"})
    assert error_code(doc) == -32009
    assert error_code(rpc(rt, "SendMessage", {}, V1)) == -32602
    assert error_code(rpc(rt, "SendMessage", {"message": {
        "role": "ROLE_USER", "parts": [{"text": "no id"}]}}, V1)) == -32602
    assert error_code(rpc(rt, "SendMessage", {"message": msg10(
        "x", role="ROLE_AGENT")}, V1)) == -32602
    assert error_code(rpc(rt, "SendMessage", {"message": {
        "role": "ROLE_USER", "messageId": "f", "parts": [
            {"url": "https://example.com/a.pdf",
             "mediaType": "application/pdf"}]}}, V1)) == -32005
    assert error_code(rpc(rt, "message/send", {"message": {
        "kind": "message", "role": "user", "messageId": "f", "parts": [
            {"kind": "file", "file": {"uri": "https://e/a"}}]}})) == -32005
    assert error_code(rpc(rt, "GetTask", {"id": "nope"}, V1)) == -32001
    doc = rpc(rt, "GetTask", {"id": "nope"}, V1)
    assert doc["error"]["data"][0]["reason"] == "TASK_NOT_FOUND"
    assert error_code(rpc(rt, "tasks/get", {"id": "nope"})) == -32001
    assert error_code(rpc(rt, "GetTask", {}, V1)) == -32602
    assert error_code(rpc(rt, "SubscribeToTask", {"id": "x"}, V1)) == -32004
    assert error_code(rpc(rt, "CreateTaskPushNotificationConfig", {},
                          V1)) == -32003
    assert error_code(rpc(rt, "ListTasks", {"pageSize": 500}, V1)) == -32602
    # a finished task is not cancelable, takes no more messages
    task = send10(rt, "done soon")
    assert error_code(rpc(rt, "CancelTask", {"id": task["id"]}, V1)) == -32002
    assert error_code(rpc(rt, "SendMessage", {"message": msg10(
        "more", taskId=task["id"])}, V1)) == -32004
    assert error_code(rpc(rt, "SendMessage", {"message": msg10(
        "more", taskId="unknown-task")}, V1)) == -32001


def test_data_parts_are_read_as_json_text(start_runtime, fake):
    rt = a2a(start_runtime)
    doc = rpc(rt, "SendMessage", {"message": {
        "role": "ROLE_USER", "messageId": "d1",
        "parts": [{"text": "look:"}, {"data": {"city": "Paris"}}]}}, V1)
    task = doc["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    last = fake.requests()[-1]["body"]["messages"][-1]["content"][0]["text"]
    assert last == 'look:\n{"city":"Paris"}'


# ---- tasks: bounds, TTL, background, paging, context ----------------------------

def test_task_count_is_bounded_oldest_finished_goes(start_runtime):
    rt = a2a(start_runtime, A2A_MAX_TASKS="2")
    ids = [send10(rt, "q%d" % i)["id"] for i in range(3)]
    assert error_code(rpc(rt, "GetTask", {"id": ids[0]}, V1)) == -32001
    for tid in ids[1:]:
        assert rpc(rt, "GetTask", {"id": tid}, V1)["result"]["id"] == tid


def test_running_tasks_are_never_evicted(start_runtime, fake):
    rt = a2a(start_runtime, A2A_MAX_TASKS="1")
    fake.script([{"text": "slow", "latency_ms": 3000}])
    task = send10(rt, "slow", config={"returnImmediately": True})
    assert task["status"]["state"] in ("TASK_STATE_SUBMITTED",
                                       "TASK_STATE_WORKING")
    doc = rpc(rt, "SendMessage", {"message": msg10("second")}, V1)
    assert error_code(doc) == -32603
    assert "A2A_MAX_TASKS" in doc["error"]["message"]
    canceled = rpc(rt, "CancelTask", {"id": task["id"]}, V1)["result"]
    assert canceled["status"]["state"] == "TASK_STATE_CANCELED"


def test_finished_tasks_expire(start_runtime):
    rt = a2a(start_runtime, A2A_TASK_TTL_SECONDS="1")
    task = send10(rt, "short-lived")
    assert rpc(rt, "GetTask", {"id": task["id"]}, V1)["result"]
    time.sleep(1.3)
    assert error_code(rpc(rt, "GetTask", {"id": task["id"]}, V1)) == -32001


def test_return_immediately_then_poll(start_runtime, fake):
    rt = a2a(start_runtime)
    fake.script([{"text": "background answer", "latency_ms": 600}])
    task = send10(rt, "later", config={"returnImmediately": True})
    assert task["status"]["state"] != "TASK_STATE_COMPLETED"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = rpc(rt, "GetTask", {"id": task["id"]}, V1)["result"]
        if got["status"]["state"] == "TASK_STATE_COMPLETED":
            break
        time.sleep(0.05)
    assert got["status"]["state"] == "TASK_STATE_COMPLETED"
    assert got["artifacts"][0]["parts"][0]["text"] == "background answer"
    # historyLength: 1 keeps the last message only, 0 none
    got = rpc(rt, "GetTask", {"id": task["id"], "historyLength": 1},
              V1)["result"]
    assert [m["role"] for m in got["history"]] == ["ROLE_AGENT"]
    got = rpc(rt, "GetTask", {"id": task["id"], "historyLength": 0},
              V1)["result"]
    assert "history" not in got


def test_v03_blocking_false_returns_at_once(start_runtime, fake):
    rt = a2a(start_runtime)
    fake.script([{"text": "legacy background", "latency_ms": 600}])
    doc = rpc(rt, "message/send", {"message": msg03("later"),
                                   "configuration": {"blocking": False}})
    task = doc["result"]
    assert task["kind"] == "task" and task["status"]["state"] in (
        "submitted", "working")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = rpc(rt, "tasks/get", {"id": task["id"]})["result"]
        if got["status"]["state"] == "completed":
            break
        time.sleep(0.05)
    assert got["status"]["state"] == "completed"


def test_shutdown_cancels_background_tasks(start_runtime, fake):
    rt = a2a(start_runtime, SHUTDOWN_GRACE_SECONDS="1")
    fake.script([{"text": "never", "latency_ms": 20000}])
    send10(rt, "forever", config={"returnImmediately": True})
    t0 = time.monotonic()
    assert rt.stop() == 0
    assert time.monotonic() - t0 < 15


def test_list_tasks_pages_and_filters(start_runtime):
    rt = a2a(start_runtime)
    ctx = "ctx-list"
    ids = [send10(rt, "q%d" % i, context=ctx)["id"] for i in range(3)]
    send10(rt, "elsewhere", context="other")
    page = rpc(rt, "ListTasks", {"contextId": ctx, "pageSize": 2},
               V1)["result"]
    assert page["totalSize"] == 3 and page["pageSize"] == 2
    assert [t["id"] for t in page["tasks"]] == ids[::-1][:2]
    assert page["nextPageToken"]
    page2 = rpc(rt, "ListTasks", {"contextId": ctx, "pageSize": 2,
                                  "pageToken": page["nextPageToken"]},
                V1)["result"]
    assert [t["id"] for t in page2["tasks"]] == [ids[0]]
    assert page2["nextPageToken"] == ""
    full = rpc(rt, "ListTasks", {"includeArtifacts": True,
                                 "status": "TASK_STATE_COMPLETED"},
               V1)["result"]
    assert full["totalSize"] == 4
    assert all(t["artifacts"] for t in full["tasks"])
    none = rpc(rt, "ListTasks", {"status": "TASK_STATE_WORKING"},
               V1)["result"]
    assert none["tasks"] == [] and none["totalSize"] == 0
    assert error_code(rpc(rt, "ListTasks", {"pageToken": "zz"}, V1)) == -32602
    assert error_code(rpc(rt, "ListTasks", {"status": "RUNNING"},
                          V1)) == -32602
    assert error_code(rpc(rt, "ListTasks", {},
                          {"A2A-Version": "0.3"})) == -32601  # not in 0.3
    # without a version header a 1.0 name is served as 1.0 (lenient: 0.3
    # clients never send these names)
    assert rpc(rt, "ListTasks", {})["result"]["totalSize"] == 4


def test_context_id_is_the_session(start_runtime, fake):
    rt = a2a(start_runtime)
    first = send10(rt, "my name is Ada")
    ctx = first["contextId"]
    assert ctx  # generated when absent
    second = send10(rt, "what is my name?", context=ctx)
    assert second["contextId"] == ctx and second["id"] != first["id"]
    body = fake.requests()[-1]["body"]
    texts = [b.get("text") for m in body["messages"] for b in m["content"]]
    assert texts == ["my name is Ada", "echo: my name is Ada",
                     "what is my name?"]
    # a new context starts afresh
    send10(rt, "who am I?", context="fresh-ctx")
    body = fake.requests()[-1]["body"]
    assert len(body["messages"]) == 1


def test_raw_stream_frames_are_json_rpc_responses(start_runtime, fake):
    rt = a2a(start_runtime)
    conn = http.client.HTTPConnection("127.0.0.1", rt.port, timeout=30)
    try:
        conn.request("POST", "/", json.dumps({
            "jsonrpc": "2.0", "id": "s1", "method": "SendStreamingMessage",
            "params": {"message": msg10("stream me", "ctx-stream")}}),
            dict(V1, **{"Content-Type": "application/json",
                        "Accept": "text/event-stream"}))
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "text/event-stream"
        assert resp.getheader(
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id") == "ctx-stream"
        events = sse_events(resp.read())
    finally:
        conn.close()
    assert all(e["jsonrpc"] == "2.0" and e["id"] == "s1" and "result" in e
               for e in events)
    assert events[-1]["result"]["statusUpdate"]["status"]["state"] == \
        "TASK_STATE_COMPLETED"


def test_failed_model_call_fails_the_task(start_runtime, fake):
    rt = a2a(start_runtime)
    fake.script([{"error": "ValidationException", "message": "bad input"}])
    task = send10(rt, "will fail")
    assert task["status"]["state"] == "TASK_STATE_FAILED"
    msg = task["status"]["message"]
    assert msg["role"] == "ROLE_AGENT"
    assert "ValidationException" in msg["parts"][0]["text"]
    assert "artifacts" not in task
