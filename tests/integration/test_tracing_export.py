"""Tracing end to end, checked by an independent decoder: build/trace_probe
(tests/tools/trace_probe.c) builds the tracer from OTEL_* variables, feeds
the events of one invocation with two cycles and two tools, and shuts
down; tests/fakes/otlp_receiver.mjs receives the export and decodes it
with the official OpenTelemetry JS protobuf definitions (protobuf) or as
strict OTLP/JSON. Checked: the span tree, names, kinds, attributes and
their types, resource, status, ids, the propagated parent trace, the
traceparent handed to the model calls, headers, and the counters."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT, RUNTIME

BUILD_DIR = os.environ.get("STRANDS_BUILD_DIR", os.path.dirname(RUNTIME))
PROBE = os.path.join(BUILD_DIR, "trace_probe")
JS_DIR = os.path.join(ROOT, "tests", "fakes", "js")
RECEIVER = os.path.join(ROOT, "tests", "fakes", "otlp_receiver.mjs")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = "00-%s-%s-01" % (TRACE_ID, PARENT_ID)
XRAY = ("Root=1-5759e988-bd862e3fe1be46a994272793;"
        "Parent=53995c3f42cd8ad8;Sampled=1")


class Receiver:
    """The node OTLP receiver on an ephemeral loopback port."""

    def __init__(self, status=200):
        node = shutil.which("node")
        if node is None:
            pytest.skip("node not installed")
        if not os.path.isdir(os.path.join(
                JS_DIR, "node_modules", "@opentelemetry", "otlp-transformer")):
            pytest.skip("@opentelemetry/otlp-transformer not installed: run "
                        "`cd tests/fakes/js && npm ci`")
        fd, self.out = tempfile.mkstemp(prefix="otlp-", suffix=".jsonl")
        os.close(fd)
        self.proc = subprocess.Popen(
            [node, RECEIVER, "--out", self.out, "--status", str(status)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("receiver failed: " + self.proc.stderr.read())
        self.port = json.loads(line)["port"]
        self.url = "http://127.0.0.1:%d" % self.port

    def lines(self):
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.strip()]

    def spans(self):
        return [x for x in self.lines() if x["kind"] == "span"]

    def requests(self):
        return [x for x in self.lines() if x["kind"] == "request"]

    def errors(self):
        return [x for x in self.lines() if x["kind"] == "error"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        os.unlink(self.out)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def run_probe(env_vars, *args, expect_rc=0):
    assert os.path.exists(PROBE), "build trace_probe first (%s)" % PROBE
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(env_vars)
    p = subprocess.run([PROBE] + list(args), env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == expect_rc, p.stdout + p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def by_name(spans):
    out = {}
    for s in spans:
        out.setdefault(s["name"], []).append(s)
    for v in out.values():
        v.sort(key=lambda s: int(s["startTimeUnixNano"]))
    return out


def attr(span, key):
    return span["attributes"].get(key)


@pytest.mark.parametrize("protocol,ctype", [
    ("http/protobuf", "application/x-protobuf"),
    ("http/json", "application/json"),
])
def test_span_tree(receiver, protocol, ctype):
    out = run_probe({
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme%20corp",
        "OTEL_SERVICE_NAME": "probe-svc",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
    }, "--traceparent", TRACEPARENT)
    assert receiver.errors() == []
    assert (out["exported"], out["dropped"], out["failed"]) == (7, 0, 0)
    reqs = receiver.requests()
    assert len(reqs) >= 1
    for r in reqs:
        assert r["contentType"] == ctype
        assert r["headers"]["x-tenant"] == "acme corp"
        assert r["headers"]["user-agent"].startswith("strands-c-otlp/")
    spans = receiver.spans()
    assert len(spans) == 7
    names = by_name(spans)
    assert sorted(names) == sorted([
        "invoke_agent probe-agent", "execute_event_loop_cycle", "chat",
        "execute_tool calculator", "execute_tool current_time"])
    agent = names["invoke_agent probe-agent"][0]
    cycle1, cycle2 = names["execute_event_loop_cycle"]
    chat1, chat2 = names["chat"]
    calc = names["execute_tool calculator"][0]
    clock = names["execute_tool current_time"][0]

    for s in spans:
        assert s["traceId"] == TRACE_ID          # joined the caller's trace
        assert s["spanKind"] == 1                # SPAN_KIND_INTERNAL
        assert s["resource"]["service.name"] == "probe-svc"
        assert s["resource"]["deployment.environment"] == "test"
        assert s["resource"]["telemetry.sdk.language"] == "c"
        assert s["resource"]["telemetry.sdk.name"] == "strands-c"
        assert s["scope"]["name"] == "strands.telemetry.tracer"
        assert attr(s, "session.id") == {"string": "probe-session-0001"}
        assert int(s["startTimeUnixNano"]) <= int(s["endTimeUnixNano"])
        assert s["flags"] & 0x1 and s["flags"] & 0x100
        assert len(s["spanId"]) == 16 and s["spanId"] != "0" * 16
        assert "start_time" in json.dumps(s["attributes"])
    assert len({s["spanId"] for s in spans}) == 7

    # The tree.
    assert agent["parentSpanId"] == PARENT_ID
    assert agent["flags"] & 0x200                # parent is remote
    assert cycle1["parentSpanId"] == agent["spanId"]
    assert cycle2["parentSpanId"] == agent["spanId"]
    assert chat1["parentSpanId"] == cycle1["spanId"]
    assert chat2["parentSpanId"] == cycle2["spanId"]
    assert calc["parentSpanId"] == cycle1["spanId"]
    assert clock["parentSpanId"] == cycle1["spanId"]
    assert (attr(cycle2, "event_loop.parent_cycle_id")
            == attr(cycle1, "event_loop.cycle_id"))

    # Attributes and their types.
    assert attr(agent, "gen_ai.operation.name") == {"string": "invoke_agent"}
    assert attr(agent, "gen_ai.system") == {"string": "strands-agents"}
    assert attr(agent, "gen_ai.agent.name") == {"string": "probe-agent"}
    assert attr(agent, "gen_ai.request.model") == {
        "string": "us.test.model-v1:0"}
    assert attr(agent, "gen_ai.usage.input_tokens") == {"int": "30"}
    assert attr(agent, "gen_ai.usage.output_tokens") == {"int": "12"}
    assert attr(agent, "gen_ai.usage.total_tokens") == {"int": "42"}
    assert agent["status"] == {"code": 1, "message": ""}
    assert attr(chat1, "gen_ai.operation.name") == {"string": "chat"}
    assert attr(chat1, "gen_ai.usage.input_tokens") == {"int": "10"}
    assert attr(chat1, "gen_ai.usage.output_tokens") == {"int": "5"}
    assert attr(chat1, "gen_ai.usage.total_tokens") == {"int": "15"}
    assert attr(chat1, "gen_ai.server.request.duration") == {"int": "12"}
    assert "int" in attr(chat1, "gen_ai.server.time_to_first_token")
    assert attr(chat1, "gen_ai.response.finish_reasons") == {
        "array": [{"string": "tool_use"}]}
    assert attr(chat2, "gen_ai.response.finish_reasons") == {
        "array": [{"string": "end_turn"}]}
    assert attr(calc, "gen_ai.operation.name") == {"string": "execute_tool"}
    assert attr(calc, "gen_ai.tool.name") == {"string": "calculator"}
    assert attr(calc, "gen_ai.tool.call.id") == {"string": "tooluse_a"}
    assert attr(calc, "gen_ai.tool.status") == {"string": "error"}
    assert calc["status"] == {"code": 2, "message": "division by zero"}
    assert attr(clock, "gen_ai.tool.call.id") == {"string": "tooluse_b"}
    assert attr(clock, "gen_ai.tool.status") == {"string": "success"}
    assert clock["status"]["code"] == 1

    # What the model calls carried, and what the root reports.
    assert out["model_traceparents"] == [
        "00-%s-%s-01" % (TRACE_ID, chat1["spanId"]),
        "00-%s-%s-01" % (TRACE_ID, chat2["spanId"])]
    assert out["root_traceparent"] == "00-%s-%s-01" % (TRACE_ID,
                                                       agent["spanId"])


def test_xray_parent(receiver):
    out = run_probe({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":
                     receiver.url + "/v1/traces"}, "--xray", XRAY)
    assert out["exported"] == 7
    spans = receiver.spans()
    assert {s["traceId"] for s in spans} == {
        "5759e988bd862e3fe1be46a994272793"}
    agent = by_name(spans)["invoke_agent probe-agent"][0]
    assert agent["parentSpanId"] == "53995c3f42cd8ad8"
    # Both headers: traceparent wins.
    out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
                    "--xray", XRAY, "--traceparent", TRACEPARENT)
    assert out["root_traceparent"].startswith("00-" + TRACE_ID)


def test_new_trace_and_failure(receiver):
    out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url + "/",
                     "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "--fail")
    assert out["exported"] == 5
    spans = receiver.spans()
    names = by_name(spans)
    agent = names["invoke_agent probe-agent"][0]
    assert agent["parentSpanId"] == ""           # a new root
    assert not agent["flags"] & 0x200
    assert agent["status"] == {"code": 2, "message": "Too many requests"}
    assert len({s["traceId"] for s in spans}) == 1
    assert out["root_traceparent"] == "00-%s-%s-01" % (agent["traceId"],
                                                       agent["spanId"])


def test_collector_error_counts_failed():
    r = Receiver(status=503)
    try:
        out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": r.url})
        assert (out["exported"], out["failed"]) == (0, 7)
        assert len(r.spans()) == 7                   # it was delivered
    finally:
        r.stop()


def test_unsampled_sends_nothing(receiver):
    out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                     "OTEL_TRACES_SAMPLER": "always_off"})
    assert (out["exported"], out["dropped"], out["failed"]) == (0, 0, 0)
    assert receiver.lines() == []
    # The model calls still carry the trace, marked not sampled.
    for tp in out["model_traceparents"]:
        assert tp.endswith("-00") and len(tp) == 55
        assert tp[3:35] == out["root_traceparent"][3:35]


def test_config_errors_exit_2():
    out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                     "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, expect_rc=2)
    assert out["error"].startswith("OTEL_EXPORTER_OTLP_PROTOCOL: grpc")
    out = run_probe({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                     "OTEL_TRACES_SAMPLER": "traceidratio",
                     "OTEL_TRACES_SAMPLER_ARG": "2"}, expect_rc=2)
    assert out["error"].startswith("OTEL_TRACES_SAMPLER_ARG:")
    assert run_probe({}) == {"tracing": "off"}
