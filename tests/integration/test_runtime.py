"""End-to-end tests of strands-runtime on loopback against the fake
Bedrock, which verifies every SigV4 signature with botocore."""

import json
import signal
import threading
import time
import uuid

from conftest import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, Runtime

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def assert_healthy(rt):
    status, doc = rt.ping()
    assert status == 200 and doc["status"] == "Healthy"


# -- /ping ----------------------------------------------------------------

def test_ping_shape_and_stable_timestamp(runtime):
    status, doc = runtime.ping()
    assert status == 200
    assert set(doc) == {"status", "time_of_last_update"}
    assert doc["status"] == "Healthy"
    assert isinstance(doc["time_of_last_update"], int)
    assert abs(doc["time_of_last_update"] - time.time()) < 60
    time.sleep(1.1)
    assert runtime.ping()[1]["time_of_last_update"] == \
        doc["time_of_last_update"]


# -- plain answer -----------------------------------------------------------

def test_plain_answer_signed_request(start_runtime, fake):
    rt = start_runtime(SYSTEM_PROMPT="Be brief.", MAX_TOKENS="321")
    fake.script([{"text": "Hello from Bedrock"}])
    status, hdrs, doc = rt.invoke({"prompt": "Hi", "session_id": "sess-a"})
    assert status == 200, doc
    assert doc["response"] == "Hello from Bedrock"
    assert doc["stop_reason"] == "EndTurn"
    assert doc["session_id"] == "sess-a"
    assert hdrs[SESSION_HEADER] == "sess-a"
    assert doc["iterations"] == 1
    u = doc["usage"]
    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"] > 0
    uuid.UUID(doc["invocation_id"])
    reqs = converse_requests(fake)
    assert len(reqs) == 1
    r = reqs[0]
    assert r["signature_valid"] is True
    assert r["model_id"] == MODEL
    assert r["path"] == \
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"
    assert r["headers"]["x-amz-security-token"] == SESSION_TOKEN
    assert "x-amz-security-token" in r["headers"]["authorization"]
    body = r["body"]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "Hi"}]}]
    assert body["system"] == [{"text": "Be brief."}]
    assert body["inferenceConfig"] == {"maxTokens": 321}
    names = [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]]
    assert names == ["calculator", "current_time"]


def test_arn_model_id_is_encoded(start_runtime, fake):
    arn = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
           "us.anthropic.claude-3-5-sonnet-20240620-v1:0")
    rt = start_runtime(MODEL_ID=arn, TOOLS="")
    fake.script([{"text": "ok"}])
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 200, doc
    r = converse_requests(fake)[0]
    assert r["signature_valid"] is True
    assert r["model_id"] == arn
    assert "%2F" in r["path"] and "%3A" in r["path"]
    assert "toolConfig" not in r["body"]


def test_prompt_as_content_blocks(runtime, fake):
    fake.script([{"text": "seen"}])
    blocks = [{"text": "Describe"},
              {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}]
    status, _, doc = runtime.invoke({"prompt": blocks, "extra": {"x": 1}})
    assert status == 200, doc
    assert converse_requests(fake)[0]["body"]["messages"][0]["content"] == \
        blocks


def test_body_parsed_whatever_content_type(runtime, fake):
    fake.script([{"text": "fine"}])
    status, _, doc = runtime.invoke('{"prompt": "plain"}',
                                    headers={"Content-Type": "text/plain"})
    assert status == 200 and doc["response"] == "fine"


# -- tools ---------------------------------------------------------------------

def test_calculator_round_trip_exact_follow_up(runtime, fake):
    fake.script([
        {"text": "Let me calculate.",
         "tool_use": [{"id": "tooluse_calc1", "name": "calculator",
                       "input": {"expression": "2+3*4"}}]},
        {"text": "2+3*4 = 14"}])
    status, _, doc = runtime.invoke({"prompt": "What is 2+3*4?",
                                     "session_id": "calc"})
    assert status == 200, doc
    assert doc["response"] == "2+3*4 = 14"
    assert doc["iterations"] == 2
    reqs = converse_requests(fake)
    assert len(reqs) == 2 and all(r["signature_valid"] for r in reqs)
    msgs = reqs[1]["body"]["messages"]
    assert len(msgs) == 3
    assert msgs[0] == {"role": "user",
                       "content": [{"text": "What is 2+3*4?"}]}
    assert msgs[1] == {"role": "assistant", "content": [
        {"text": "Let me calculate."},
        {"toolUse": {"toolUseId": "tooluse_calc1", "name": "calculator",
                     "input": {"expression": "2+3*4"}}}]}
    assert msgs[2] == {"role": "user", "content": [
        {"toolResult": {"toolUseId": "tooluse_calc1", "status": "success",
                        "content": [{"text": "14"}]}}]}
    assert "toolConfig" in reqs[1]["body"]
    # Usage is summed over both model calls.
    total = sum(r["step"] is not None for r in reqs)
    assert total == 2
    assert doc["usage"]["total_tokens"] == \
        doc["usage"]["input_tokens"] + doc["usage"]["output_tokens"]


def test_two_tools_in_one_turn_answered_in_order(runtime, fake):
    fake.script([
        {"tool_use": [
            {"id": "t_a", "name": "calculator", "input": {"expression": "1+1"}},
            {"id": "t_b", "name": "current_time", "input": {}}]},
        {"text": "done"}])
    status, _, doc = runtime.invoke({"prompt": "two"})
    assert status == 200, doc
    results = converse_requests(fake)[1]["body"]["messages"][2]["content"]
    assert [r["toolResult"]["toolUseId"] for r in results] == ["t_a", "t_b"]
    assert results[0]["toolResult"]["content"] == [{"text": "2"}]
    assert results[1]["toolResult"]["status"] == "success"


def test_unknown_tool_gets_error_result(runtime, fake):
    fake.script([
        {"tool_use": [{"id": "t_x", "name": "teleport", "input": {}}]},
        {"text": "I cannot teleport."}])
    status, _, doc = runtime.invoke({"prompt": "beam me up"})
    assert status == 200, doc
    tr = converse_requests(fake)[1]["body"]["messages"][2]["content"][0]
    assert tr["toolResult"]["status"] == "error"
    assert tr["toolResult"]["content"] == [{"text": "Unknown tool: teleport"}]


def test_max_iterations_leaves_valid_history(start_runtime, fake):
    rt = start_runtime(MAX_ITERATIONS="2")
    loop = {"tool_use": [{"name": "calculator", "input": {"expression": "1"}}]}
    fake.script([loop, loop, {"text": "resumed"}])
    status, _, doc = rt.invoke({"prompt": "loop", "session_id": "mi"})
    assert status == 200, doc
    assert doc["stop_reason"] == "MaxIterations"
    assert doc["iterations"] == 2
    assert len(converse_requests(fake)) == 2
    # The next turn is accepted by the fake's Bedrock-like validation.
    status, _, doc = rt.invoke({"prompt": "go on", "session_id": "mi"})
    assert status == 200, doc
    assert doc["response"] == "resumed"
    last = converse_requests(fake)[2]["body"]["messages"]
    assert len(last) == 5 and last[-1]["role"] == "user"


def test_max_tokens_returns_text_and_keeps_history_valid(runtime, fake):
    fake.script([
        {"text": "Partial answer", "stop_reason": "max_tokens",
         "tool_use": [{"name": "calculator", "input": {"expression": "9"}}]},
        {"text": "next"}])
    status, _, doc = runtime.invoke({"prompt": "long", "session_id": "mt"})
    assert status == 200, doc
    assert doc["stop_reason"] == "MaxTokens"
    assert doc["response"].startswith("Partial answer")
    assert len(converse_requests(fake)) == 1  # the cut tool was not run
    status, _, doc = runtime.invoke({"prompt": "again", "session_id": "mt"})
    assert status == 200, doc
    sent = converse_requests(fake)[1]["body"]["messages"]
    assert not any("toolUse" in b for m in sent for b in m["content"])


def test_other_stop_reasons_are_mapped(runtime, fake):
    for raw, mapped in [("stop_sequence", "StopSequence"),
                        ("guardrail_intervened", "GuardrailIntervened"),
                        ("content_filtered", "ContentFiltered")]:
        fake.script([{"text": "x", "stop_reason": raw}])
        status, _, doc = runtime.invoke({"prompt": "p"})
        assert status == 200 and doc["stop_reason"] == mapped, doc


# -- sessions -------------------------------------------------------------------

def test_session_continuity_and_isolation(runtime, fake):
    fake.script([{"text": "one"}, {"text": "two"}, {"text": "other"}])
    runtime.invoke({"prompt": "first", "session_id": "s-1"})
    runtime.invoke({"prompt": "second", "session_id": "s-1"})
    runtime.invoke({"prompt": "alone", "session_id": "s-2"})
    reqs = converse_requests(fake)
    assert [m["content"][0]["text"] for m in reqs[1]["body"]["messages"]] == \
        ["first", "one", "second"]
    assert [m["content"][0]["text"] for m in reqs[2]["body"]["messages"]] == \
        ["alone"]


def test_header_session_id_used_and_echoed(runtime, fake):
    fake.script([{"text": "a"}, {"text": "b"}])
    sid = "hdr-session-0123456789-0123456789-abc"
    status, hdrs, doc = runtime.invoke({"prompt": "x"},
                                       headers={SESSION_HEADER: sid})
    assert status == 200 and doc["session_id"] == sid
    assert hdrs[SESSION_HEADER] == sid
    runtime.invoke({"prompt": "y"}, headers={SESSION_HEADER.lower(): sid})
    assert len(converse_requests(fake)[1]["body"]["messages"]) == 3


def test_body_session_id_beats_header_and_new_ids_are_uuids(runtime, fake):
    fake.script([{"text": "a"}, {"text": "b"}])
    _, hdrs, doc = runtime.invoke({"prompt": "x", "session_id": "body-id"},
                                  headers={SESSION_HEADER: "header-id"})
    assert doc["session_id"] == "body-id"
    _, hdrs, doc = runtime.invoke({"prompt": "x"})
    uuid.UUID(doc["session_id"])
    assert hdrs[SESSION_HEADER] == doc["session_id"]


# -- errors ---------------------------------------------------------------------

def test_client_errors_then_healthy(start_runtime, fake):
    rt = start_runtime(MAX_BODY_BYTES="2048")
    cases = [
        ("POST", "/invocations", "{not json", 400, "InvalidJSON"),
        ("POST", "/invocations", "", 400, "InvalidJSON"),
        ("POST", "/invocations", {"nope": 1}, 400, "ValidationError"),
        ("POST", "/invocations", {"prompt": 42}, 400, "ValidationError"),
        ("POST", "/invocations", {"prompt": ""}, 400, "ValidationError"),
        ("POST", "/invocations", {"prompt": []}, 400, "ValidationError"),
        ("POST", "/invocations", {"prompt": [{"bogus": 1}]}, 400,
         "ValidationError"),
        ("POST", "/invocations", {"prompt": "x", "session_id": 5}, 400,
         "ValidationError"),
        ("POST", "/invocations", {"prompt": "x" * 5000}, 413,
         "PayloadTooLarge"),
        ("GET", "/nowhere", None, 404, "NotFound"),
        ("GET", "/invocations", None, 405, "MethodNotAllowed"),
        ("DELETE", "/ping", None, 405, "MethodNotAllowed"),
    ]
    for method, path, body, want, etype in cases:
        status, hdrs, data = rt.request(method, path, body)
        assert status == want, (method, path, body, status, data)
        doc = json.loads(data)
        assert doc["error_type"] == etype and doc["error"], doc
        assert hdrs["Content-Type"] == "application/json"
        assert_healthy(rt)
    assert converse_requests(fake) == []


def test_validation_exception_is_502_not_retried(runtime, fake):
    fake.script([{"error": "ValidationException",
                  "message": "The model returned an error."}])
    status, _, doc = runtime.invoke({"prompt": "x"})
    assert status == 502
    assert doc["error_type"] == "ValidationException"
    assert "The model returned an error." in doc["error"]
    assert len(converse_requests(fake)) == 1
    assert_healthy(runtime)


def test_throttling_retried_then_success(runtime, fake):
    fake.script([{"error": "ThrottlingException", "message": "slow down"},
                 {"text": "after throttle"}])
    status, _, doc = runtime.invoke({"prompt": "x"})
    assert status == 200, doc
    assert doc["response"] == "after throttle"
    reqs = converse_requests(fake)
    assert [r["status"] for r in reqs] == [429, 200]
    assert all(r["signature_valid"] for r in reqs)


def test_server_error_and_dropped_connection_retried(runtime, fake):
    fake.script([{"error": "InternalServerException"},
                 {"drop_connection": True},
                 {"text": "third time lucky"}])
    status, _, doc = runtime.invoke({"prompt": "x"})
    assert status == 200, doc
    assert len(converse_requests(fake)) == 3


def test_retries_exhausted_gives_502(start_runtime, fake):
    rt = start_runtime(AWS_MAX_ATTEMPTS="2")
    fake.script([{"error": "ServiceUnavailableException"}] * 2)
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 502
    assert doc["error_type"] == "ServiceUnavailableException"
    assert len(converse_requests(fake)) == 2
    assert_healthy(rt)


def test_concurrent_same_session_is_409(runtime, fake):
    fake.script([{"text": "slow", "latency_ms": 800}])
    results = {}

    def first():
        results["first"] = runtime.invoke({"prompt": "a", "session_id": "busy"})

    t = threading.Thread(target=first)
    t.start()
    fake.wait_for_requests(1)
    status, _, doc = runtime.invoke({"prompt": "b", "session_id": "busy"})
    t.join()
    assert status == 409 and doc["error_type"] == "SessionBusy", doc
    assert results["first"][0] == 200
    assert_healthy(runtime)


def test_no_credentials_is_503_with_guidance(start_runtime, fake):
    rt = start_runtime(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                       AWS_SESSION_TOKEN=None)
    assert_healthy(rt)
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 503
    assert "AWS_ACCESS_KEY_ID" in doc["error"]
    assert doc["error_type"] == "NoCredentialsError"
    assert converse_requests(fake) == []
    assert_healthy(rt)


def test_wrong_secret_is_rejected_by_fake_as_502(start_runtime, fake):
    rt = start_runtime(AWS_SECRET_ACCESS_KEY="not-the-right-secret")
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 502
    assert doc["error_type"] in ("InvalidSignatureException",
                                 "SignatureDoesNotMatch")
    assert converse_requests(fake)[0]["signature_valid"] is False


# -- concurrency and shutdown -------------------------------------------------

def test_concurrent_invocations_do_not_block_each_other(runtime, fake):
    fake.latency_ms = 300
    n = 20
    out = [None] * n

    def call(i):
        out[i] = runtime.invoke({"prompt": "p%d" % i, "session_id": "c%d" % i})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # /ping stays fast while every invocation waits on the model.
    time.sleep(0.1)
    p0 = time.monotonic()
    assert_healthy(runtime)
    assert time.monotonic() - p0 < 0.2
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    assert all(o[0] == 200 for o in out), out
    assert [o[2]["response"] for o in out] == \
        ["echo: p%d" % i for i in range(n)]
    assert took < 2.5, "20 x 300 ms took %.2fs" % took


def test_sigterm_finishes_in_flight_then_exits_0(start_runtime, fake):
    rt = start_runtime(SHUTDOWN_GRACE_SECONDS="5")
    fake.script([{"text": "finished", "latency_ms": 700}])
    res = {}
    t = threading.Thread(target=lambda: res.update(r=rt.invoke({"prompt": "x"})))
    t.start()
    fake.wait_for_requests(1)
    rt.proc.send_signal(signal.SIGTERM)
    t.join()
    assert res["r"][0] == 200 and res["r"][2]["response"] == "finished"
    assert rt.proc.wait(10) == 0
    assert "shutdown complete" in rt.output()


def test_sigterm_abandons_after_grace(start_runtime, fake):
    rt = start_runtime(SHUTDOWN_GRACE_SECONDS="1")
    fake.script([{"text": "too late", "latency_ms": 8000}])
    res = {}
    t = threading.Thread(target=lambda: res.update(r=rt.invoke({"prompt": "x"})))
    t.start()
    fake.wait_for_requests(1)
    t0 = time.monotonic()
    rt.proc.send_signal(signal.SIGINT)
    assert rt.proc.wait(10) == 0
    assert time.monotonic() - t0 < 4
    t.join()
    assert res["r"][0] == 503


def test_config_errors_fail_fast_with_variable_name(fake):
    import subprocess
    from conftest import RUNTIME
    for var, value in [("PORT", "abc"), ("MAX_ITERATIONS", "0"),
                       ("LOG_LEVEL", "chatty"), ("TOOLS", "calculator,nope"),
                       ("AWS_ENDPOINT_URL", "http://example.com"),
                       ("MODEL_PROVIDER", "nope"), ("SESSION_STORE", "nope"),
                       ("SESSION_STORE", "mongodb://localhost:27017")]:
        p = subprocess.run([RUNTIME], env={var: value}, capture_output=True,
                           timeout=10, text=True)
        assert p.returncode == 2, (var, p)
        assert var in p.stderr, (var, p.stderr)
        assert p.stderr.startswith(
            "strands-runtime: configuration error: " + var + ":"), p.stderr


def test_unknown_provider_or_store_lists_registered_names():
    import subprocess
    from conftest import RUNTIME
    p = subprocess.run([RUNTIME], env={"MODEL_PROVIDER": "nope"},
                       capture_output=True, timeout=10, text=True)
    assert p.returncode == 2
    assert "MODEL_PROVIDER: unknown model provider 'nope' " \
        "(registered: bedrock,openai,anthropic)" in p.stderr
    p = subprocess.run([RUNTIME], env={"SESSION_STORE": "nope"},
                       capture_output=True, timeout=10, text=True)
    assert p.returncode == 2
    # memory first, then every other shipped store
    assert "SESSION_STORE: unknown session store 'nope' " \
        "(registered: memory,file,redis,rediss,s3,agentcore-memory)" in p.stderr
    # a known store with an argument it does not take fails at start-up
    p = subprocess.run([RUNTIME], env={"SESSION_STORE": "memory:/x",
                                       "AWS_EC2_METADATA_DISABLED": "true",
                                       "PORT": "1"},
                       capture_output=True, timeout=10, text=True)
    assert p.returncode == 2 and "SESSION_STORE" in p.stderr, p


def test_explicit_defaults_for_provider_and_store(start_runtime, fake):
    rt = start_runtime(MODEL_PROVIDER="bedrock", SESSION_STORE="memory",
                       TOOLS="")
    fake.script([{"text": "ok"}])
    status, _, doc = rt.invoke({"prompt": "x"})
    assert status == 200 and doc["response"] == "ok"
    assert len(converse_requests(fake)) == 1


def test_help_and_version():
    import subprocess
    from conftest import RUNTIME
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True)
    assert p.returncode == 0
    for var in ["PORT", "MODEL_ID", "AWS_REGION", "MAX_TOKENS",
                "MAX_ITERATIONS", "SYSTEM_PROMPT", "TOOLS",
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "LOG_LEVEL",
                "SHUTDOWN_GRACE_SECONDS", "MAX_BODY_BYTES",
                "AWS_MAX_ATTEMPTS", "MODEL_PROVIDER", "SESSION_STORE",
                "SESSION_MAX_COUNT", "AWS_BEARER_TOKEN_BEDROCK"]:
        assert var in p.stdout, var
    # grouped by module; the shipped entries are listed by name
    for heading in ["Runtime:", "HTTP server:", "Agent:", "AWS:",
                    'Model provider "bedrock" (MODEL_PROVIDER=bedrock)',
                    'Session store "memory" (SESSION_STORE=memory)',
                    'Tool source "builtin"']:
        assert heading in p.stdout, heading
    p = subprocess.run([RUNTIME, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("strands-runtime ")
    p = subprocess.run([RUNTIME, "--bogus"], capture_output=True, text=True)
    assert p.returncode == 2 and "--bogus" in p.stderr


# -- logs -------------------------------------------------------------------------

def test_logs_are_json_and_never_hold_secrets(start_runtime, fake):
    rt = start_runtime(LOG_LEVEL="debug")
    fake.script([{"text": "ok"}])
    secret_header_values = {
        "Authorization": "Bearer caller-jwt-SECRETVALUE-1",
        "X-Amz-Security-Token": "caller-token-SECRETVALUE-2",
        "Cookie": "session=SECRETVALUE-3",
        "WorkloadAccessToken": "wat-SECRETVALUE-4",
    }
    status, _, doc = rt.invoke({"prompt": "hello logs", "session_id": "logs"},
                               headers=secret_header_values)
    assert status == 200, doc
    rt.stop()
    out = rt.output()
    for secret in [SECRET_KEY, SESSION_TOKEN, "SECRETVALUE"]:
        assert secret not in out, secret
    lines = rt.log_lines()
    assert all("raw" not in l for l in lines), out
    for l in lines:
        assert {"timestamp", "level", "message", "logger"} <= set(l)
    reqlog = [l for l in lines if l.get("logger") == "strands.server.request"
              and l.get("path") == "/invocations"]
    assert reqlog and reqlog[0]["status"] == 200
    assert reqlog[0]["method"] == "POST" and reqlog[0]["sessionId"] == "logs"
    assert reqlog[0]["headers"]["Authorization"] == "***"
    assert "hello logs" in reqlog[0]["body"]
    assert isinstance(reqlog[0]["duration_ms"], int)


# -- a user's own runtime: its own tool source and model provider ----------
# (examples/custom_runtime.c registers a tool source with reverse_text and a
# model provider "echo" with its own setting ECHO_PREFIX)

def custom_binary():
    import os
    from conftest import RUNTIME
    return os.path.join(os.path.dirname(RUNTIME), "example-custom_runtime")


def test_custom_runtime_example_runs_its_c_tool(fake):
    rt = Runtime({}, fake, binary=custom_binary())
    try:
        fake.script([
            {"tool_use": [{"id": "t_rev", "name": "reverse_text",
                           "input": {"text": "stressed"}}]},
            {"text": "desserts"}])
        status, _, doc = rt.invoke({"prompt": "reverse stressed"})
        assert status == 200, doc
        first, second = converse_requests(fake)
        names = [t["toolSpec"]["name"]
                 for t in first["body"]["toolConfig"]["tools"]]
        # the built-in source comes first, then the binary's own
        assert names == ["calculator", "current_time", "reverse_text"]
        tr = second["body"]["messages"][2]["content"][0]["toolResult"]
        assert tr == {"toolUseId": "t_rev", "status": "success",
                      "content": [{"text": "desserts"}]}
    finally:
        assert rt.stop() == 0


def test_custom_runtime_selects_its_own_provider_by_name(fake):
    rt = Runtime({"MODEL_PROVIDER": "echo", "ECHO_PREFIX": "you said: ",
                  "TOOLS": ""}, fake, binary=custom_binary())
    try:
        status, _, doc = rt.invoke({"prompt": "hello there",
                                    "session_id": "echo-1"})
        assert status == 200, doc
        assert doc["response"] == "you said: hello there"
        assert doc["stop_reason"] == "EndTurn"
        # sessions still work: the store is the default one
        status, _, doc = rt.invoke({"prompt": "again",
                                    "session_id": "echo-1"})
        assert status == 200 and doc["response"] == "you said: again"
        # streaming goes through the same provider
        status, _, data = rt.request(
            "POST", "/invocations",
            {"prompt": "streamed", "stream": True},
            {"Accept": "text/event-stream"})
        assert status == 200
        assert "you said: streamed" in data.decode()
        # Bedrock was never called
        assert not [r for r in fake.requests() if r.get("operation") in
                    ("converse", "converse-stream")]
    finally:
        assert rt.stop() == 0
    starts = [l for l in rt.log_lines() if "listening on" in
              l.get("message", "")]
    assert starts and "model provider echo" in starts[0]["message"]


def test_custom_runtime_help_lists_its_provider_rows():
    import subprocess
    p = subprocess.run([custom_binary(), "--help"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p
    out = p.stdout
    at = out.index('Model provider "echo" (MODEL_PROVIDER=echo)')
    assert "ECHO_PREFIX" in out[at:]
    assert 'Tool source "example"' in out
    assert out.index('Tool source "builtin"') < \
        out.index('Tool source "example"')
    # and its rows are validated like the library's
    p = subprocess.run([custom_binary()], capture_output=True, text=True,
                       timeout=10, env={"MODEL_PROVIDER": "nope"})
    assert p.returncode == 2
    assert "MODEL_PROVIDER" in p.stderr and "bedrock,openai,anthropic,echo" in p.stderr


def test_stock_runtime_rejects_the_examples_provider():
    import subprocess
    from conftest import RUNTIME
    p = subprocess.run([RUNTIME], env={"MODEL_PROVIDER": "echo"},
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2, p
    assert p.stderr.startswith("strands-runtime: configuration error: "
                               "MODEL_PROVIDER:"), p.stderr
    assert "registered: bedrock,openai" in p.stderr
    p = subprocess.run([RUNTIME, "--help"], capture_output=True, text=True)
    assert "ECHO_PREFIX" not in p.stdout


# -- container health check and metrics log line (issue 5) -------------------

def test_healthcheck_flag(start_runtime, fake):
    import subprocess
    from conftest import RUNTIME, free_port
    rt = start_runtime()
    p = subprocess.run([RUNTIME, "--healthcheck"], env={"PORT": str(rt.port)},
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p
    assert "healthy" in p.stdout
    dead = free_port()
    t0 = time.monotonic()
    p = subprocess.run([RUNTIME, "--healthcheck"], env={"PORT": str(dead)},
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "cannot connect" in p.stderr
    assert time.monotonic() - t0 < 4
    p = subprocess.run([RUNTIME, "--healthcheck"], env={"PORT": "x"},
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "PORT" in p.stderr


def test_one_metrics_line_per_invocation(runtime, fake):
    fake.script([
        {"tool_use": [{"name": "calculator", "input": {"expression": "1/0"}},
                      {"name": "calculator", "input": {"expression": "1+1"}}]},
        {"text": "done"},
        {"error": "ValidationException"}])
    assert runtime.invoke({"prompt": "a", "session_id": "m1"})[0] == 200
    assert runtime.invoke({"prompt": "b", "session_id": "m2"})[0] == 502
    runtime.stop()
    lines = [l for l in runtime.log_lines()
             if l.get("logger") == "strands.metrics"]
    assert len(lines) == 2, lines
    ok, bad = lines
    assert ok["metric"] == "invocation" and ok["sessionId"] == "m1"
    assert ok["model_calls"] == 2 and ok["tool_calls"] == 2
    assert ok["tool_errors"] == 1 and ok["success"] is True
    assert ok["outcome"] == "EndTurn" and ok["total_tokens"] > 0
    assert isinstance(ok["duration_ms"], int) and ok["stream"] is False
    assert bad["outcome"] == "ValidationException"
    assert bad["success"] is False and bad["model_errors"] == 1
