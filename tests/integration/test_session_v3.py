"""Sessions on interface v3 over HTTP: the end user's id
(X-Amzn-Bedrock-AgentCore-Runtime-User-Id) is validated, a history with a
toolUse left by an iteration limit continues as valid Bedrock input, and
fields a model must not see never reach Bedrock."""

from conftest import Runtime  # noqa: F401  (fixtures live in conftest)

USER_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def test_user_id_header_accepted(runtime, fake):
    fake.script([{"text": "a"}, {"text": "b"}])
    status, _, doc = runtime.invoke({"prompt": "x", "session_id": "u-1"},
                                    headers={USER_HEADER: "user-42@corp"})
    assert status == 200, doc
    # The same session continues whoever the user header names.
    status, _, doc = runtime.invoke({"prompt": "y", "session_id": "u-1"},
                                    headers={USER_HEADER: "x" * 256})
    assert status == 200, doc
    assert len(converse_requests(fake)[1]["body"]["messages"]) == 3


def test_user_id_header_invalid_is_400(runtime, fake):
    fake.script([{"text": "never"}])
    for bad in ["", "x" * 257, "caf\u00e9".encode("utf-8")]:
        status, _, doc = runtime.invoke({"prompt": "x", "session_id": "u-2"},
                                        headers={USER_HEADER: bad})
        assert status == 400, (bad, doc)
        assert doc["error_type"] == "ValidationError"
        assert USER_HEADER in doc["error"]
    assert converse_requests(fake) == []
    status, doc = runtime.ping()
    assert status == 200 and doc["status"] == "Healthy"


def test_turns_append_and_stay_valid(start_runtime, fake):
    rt = start_runtime(MAX_ITERATIONS="1")
    loop = {"tool_use": [{"name": "calculator", "input": {"expression": "2"}}]}
    fake.script([loop, {"text": "after"}, {"text": "third"}])
    status, _, doc = rt.invoke({"prompt": "a", "session_id": "log"})
    assert status == 200 and doc["stop_reason"] == "MaxIterations", doc
    # The stored log ends with the tool results; the next prompt joins
    # them in what Bedrock sees, so roles still alternate.
    status, _, doc = rt.invoke({"prompt": "b", "session_id": "log"})
    assert status == 200 and doc["response"] == "after", doc
    status, _, doc = rt.invoke({"prompt": "c", "session_id": "log"})
    assert status == 200 and doc["response"] == "third", doc
    sent = converse_requests(fake)[2]["body"]["messages"]
    roles = [m["role"] for m in sent]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert sent[2]["content"][0]["toolResult"]["status"] == "success"
    assert sent[2]["content"][-1] == {"text": "b"}
    assert all(set(m) == {"role", "content"} for m in sent)
