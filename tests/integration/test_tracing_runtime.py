"""Tracing through the real binary: a tool-using invocation that carries a
caller traceparent is exported to the OTLP receiver (decoded with the
official OpenTelemetry JS definitions), the span tree matches Strands'
conventions, the Bedrock calls carry the chat spans' traceparent, /ping is
not traced, and a dead collector neither slows invocations nor delays
shutdown past the grace period."""

import socket
import time

import pytest

from conftest import Runtime
from test_tracing_export import Receiver, by_name, attr as typed_attr


def attr(span, key):
    """An attribute's value without its type wrapper ({"int": 3} -> 3)."""
    v = typed_attr(span, key)
    if isinstance(v, dict) and len(v) == 1:
        v = next(iter(v.values()))
    return int(v) if isinstance(v, str) and v.isdigit() else v

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def wait_spans(receiver, n, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spans = receiver.spans()
        if len(spans) >= n:
            return spans
        time.sleep(0.1)
    return receiver.spans()


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_tool_invocation_trace(receiver, fake, protocol):
    rt = Runtime({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                  "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                  "OTEL_SERVICE_NAME": "trace-e2e",
                  "OTEL_BSP_SCHEDULE_DELAY": "100"}, fake)
    try:
        fake.script([
            {"tool_use": [{"id": "tu_calc", "name": "calculator",
                           "input": {"expression": "6*7"}}]},
            {"text": "42"}])
        for _ in range(3):
            assert rt.ping()[0] == 200
        status, _, doc = rt.invoke(
            {"prompt": "6*7?", "session_id": "trace-session"},
            headers={"traceparent": "00-%s-%s-01" % (TRACE_ID, PARENT)})
        assert status == 200, doc
        spans = wait_spans(receiver, 6)
    finally:
        assert rt.stop() == 0
    names = by_name(spans)
    assert sorted(names) == ["chat", "execute_event_loop_cycle",
                             "execute_tool calculator",
                             "invoke_agent Strands Agents"], sorted(names)
    assert len(spans) == 6          # /ping is not traced
    agent = names["invoke_agent Strands Agents"][0]
    c1, c2 = names["execute_event_loop_cycle"]
    chat1, chat2 = names["chat"]
    tool = names["execute_tool calculator"][0]
    for s in spans:
        assert s["traceId"] == TRACE_ID
        assert attr(s, "session.id") == "trace-session"
        assert s["resource"]["service.name"] == "trace-e2e"
    assert agent["parentSpanId"] == PARENT
    assert c1["parentSpanId"] == c2["parentSpanId"] == agent["spanId"]
    assert chat1["parentSpanId"] == c1["spanId"]
    assert chat2["parentSpanId"] == c2["spanId"]
    assert tool["parentSpanId"] == c1["spanId"]
    assert attr(agent, "gen_ai.operation.name") == "invoke_agent"
    assert attr(agent, "gen_ai.request.model") == \
        "us.anthropic.claude-sonnet-4-20250514-v1:0"
    assert attr(agent, "gen_ai.usage.total_tokens") == \
        doc["usage"]["total_tokens"]
    assert attr(chat1, "gen_ai.usage.input_tokens") > 0
    assert attr(tool, "gen_ai.tool.name") == "calculator"
    assert attr(tool, "gen_ai.tool.call.id") == "tu_calc"
    assert attr(tool, "gen_ai.tool.status") == "success"
    # Each Bedrock call carried its chat span's traceparent.
    calls = [r for r in fake.requests() if r.get("operation") == "converse"]
    assert [r["headers"].get("traceparent") for r in calls] == \
        ["00-%s-%s-01" % (TRACE_ID, chat1["spanId"]),
         "00-%s-%s-01" % (TRACE_ID, chat2["spanId"])]
    assert all(r["signature_valid"] for r in calls)


def test_streaming_invocation_is_traced_with_xray_parent(receiver, fake):
    rt = Runtime({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":
                  receiver.url + "/v1/traces",
                  "OTEL_BSP_SCHEDULE_DELAY": "100"}, fake)
    try:
        fake.script([{"text": "streamed", "text_deltas": ["stre", "amed"]}])
        from test_streaming import SSEClient
        c = SSEClient(rt, {"prompt": "s", "stream": True},
                      headers={"X-Amzn-Trace-Id":
                               "Root=1-5759e988-bd862e3fe1be46a994272793;"
                               "Parent=53995c3f42cd8ad8;Sampled=1"})
        evs = c.events()
        c.close()
        assert evs[-1][1]["type"] == "done"
        spans = wait_spans(receiver, 3)
    finally:
        assert rt.stop() == 0
    names = by_name(spans)
    agent = names["invoke_agent Strands Agents"][0]
    assert agent["traceId"] == "5759e988bd862e3fe1be46a994272793"
    assert agent["parentSpanId"] == "53995c3f42cd8ad8"
    ttft = attr(names["chat"][0], "gen_ai.server.time_to_first_token")
    assert ttft is not None and ttft >= 0


def test_dead_collector_never_slows_or_fails(fake):
    # A listener that accepts and never answers: the worst collector.
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(64)
    url = "http://127.0.0.1:%d" % stall.getsockname()[1]
    rt = Runtime({"OTEL_EXPORTER_OTLP_ENDPOINT": url,
                  "OTEL_BSP_SCHEDULE_DELAY": "50",
                  "SHUTDOWN_GRACE_SECONDS": "2"}, fake)
    try:
        t0 = time.monotonic()
        for i in range(10):
            status, _, doc = rt.invoke({"prompt": "p%d" % i})
            assert status == 200, doc
        assert time.monotonic() - t0 < 3
        t1 = time.monotonic()
        code = rt.stop()
        assert code == 0
        assert time.monotonic() - t1 < 2 + 1.5   # within the grace period
    finally:
        stall.close()
