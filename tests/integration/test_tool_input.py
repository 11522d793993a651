"""Tool input validation through the real binary: the fake Bedrock asks
for a built-in tool with an input that breaks its schema; the follow-up
request carries an error toolResult naming the field and the rule, and the
model's corrected call then runs."""


def converse_requests(fake):
    return [r for r in fake.requests() if r.get("operation") == "converse"]


def test_calculator_without_expression_gets_error_result(runtime, fake):
    fake.script([
        {"tool_use": [{"id": "tooluse_bad", "name": "calculator",
                       "input": {"expr": "2+2"}}]},
        {"tool_use": [{"id": "tooluse_good", "name": "calculator",
                       "input": {"expression": "2+2"}}]},
        {"text": "4"}])
    status, _, doc = runtime.invoke({"prompt": "2+2?", "session_id": "v1"})
    assert status == 200, doc
    assert doc["response"] == "4"
    reqs = converse_requests(fake)
    assert len(reqs) == 3
    bad = reqs[1]["body"]["messages"][2]
    assert bad == {"role": "user", "content": [
        {"toolResult": {"toolUseId": "tooluse_bad", "status": "error",
                        "content": [{"text":
                            "Error: invalid input for tool 'calculator': "
                            "input.expression is required"}]}}]}
    good = reqs[2]["body"]["messages"][4]
    assert good["content"][0]["toolResult"] == {
        "toolUseId": "tooluse_good", "status": "success",
        "content": [{"text": "4"}]}


def test_wrong_type_names_field_and_rule(runtime, fake):
    fake.script([
        {"tool_use": [{"id": "t1", "name": "calculator",
                       "input": {"expression": 42}}]},
        {"text": "ok"}])
    status, _, doc = runtime.invoke({"prompt": "x", "session_id": "v2"})
    assert status == 200, doc
    tr = converse_requests(fake)[1]["body"]["messages"][2]["content"][0]
    assert tr["toolResult"]["status"] == "error"
    assert tr["toolResult"]["content"][0]["text"] == (
        "Error: invalid input for tool 'calculator': "
        "input.expression must be a string, not integer")
