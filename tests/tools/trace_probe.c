/* Test driver for the tracer: builds it from the process environment
 * (OTEL_*), feeds the event sequence of one invocation with two cycles and
 * two tools (the second tool's TOOL_END first, the first tool failing),
 * ends the trace, shuts the tracer down and prints one JSON line:
 *   {"root_traceparent", "model_traceparents": [..], "exported",
 *    "dropped", "failed"}, or {"tracing":"off"}, or {"error": ...} (exit 2).
 * Used by tests/integration/test_tracing_export.py.
 *   trace_probe [--traceparent V] [--xray V] [--session ID] [--fail]
 * --fail ends the invocation with an error instead of EndTurn.          */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "strands/telemetry.h"

static strands_event_sink sink;
static const char *session = "probe-session-0001";

static void emit(strands_event *ev, int cycle)
{
    ev->session_id = session;
    ev->invocation_id = "probe-invocation";
    ev->cycle = cycle;
    sink.fn(sink.user, ev);
}

static void simple(strands_event_type type, int cycle)
{
    strands_event ev = {.type = type};
    emit(&ev, cycle);
}

/* MODEL_START; returns the traceparent the tracer wrote (static copy). */
static void model_call(int cycle, const strands_usage *u, const char *stop,
                       char tp[64])
{
    strands_event start = {.type = STRANDS_EVENT_MODEL_START,
                           .traceparent = tp, .traceparent_size = 64};
    tp[0] = '\0';
    emit(&start, cycle);
    strands_event delta = {.type = STRANDS_EVENT_TEXT_DELTA, .text = "Hi",
                           .text_len = 2};
    emit(&delta, cycle);
    json_t *msg = json_pack("{s:s, s:[{s:s}]}", "role", "assistant",
                            "content", "text", "Hi");
    strands_event end = {.type = STRANDS_EVENT_MODEL_END, .data = msg,
                         .usage = u, .stop_reason = stop,
                         .duration_ms = 12};
    emit(&end, cycle);
    json_decref(msg);
}

static void tool_event(strands_event_type type, const char *id,
                       const char *name, const char *status,
                       const char *text, const strands_error *error)
{
    json_t *data =
        type == STRANDS_EVENT_TOOL_START
            ? json_pack("{s:s, s:s, s:{}}", "toolUseId", id, "name", name,
                        "input")
            : json_pack("{s:s, s:s, s:[{s:s}]}", "toolUseId", id, "status",
                        status, "content", "text", text);
    strands_event ev = {.type = type, .name = name, .data = data,
                        .error = error, .duration_ms = 3};
    emit(&ev, 1);
    json_decref(data);
}

int main(int argc, char **argv)
{
    const char *traceparent = NULL, *xray = NULL;
    int fail = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--traceparent") && i + 1 < argc)
            traceparent = argv[++i];
        else if (!strcmp(argv[i], "--xray") && i + 1 < argc)
            xray = argv[++i];
        else if (!strcmp(argv[i], "--session") && i + 1 < argc)
            session = argv[++i];
        else if (!strcmp(argv[i], "--fail"))
            fail = 1;
    }
    strands_error err;
    strands_tracer *t = strands_tracer_from_env(NULL, NULL, &err);
    if (!t) {
        if (err.status != STRANDS_OK) {
            json_t *o = json_pack("{s:s}", "error", err.message);
            json_dumpf(o, stdout, JSON_COMPACT);
            json_decref(o);
            putchar('\n');
            return 2;
        }
        puts("{\"tracing\":\"off\"}");
        return 0;
    }
    strands_invocation_trace *it = strands_trace_begin(
        t, traceparent, xray, session, "probe-agent", "us.test.model-v1:0");
    sink = strands_trace_sink(it);
    char root[64], tp1[64], tp2[64] = "";
    strands_trace_traceparent(it, root, sizeof root);

    json_t *prompt = json_pack("[{s:s}]", "text", "What is 6*7?");
    strands_event start = {.type = STRANDS_EVENT_INVOCATION_START,
                           .data = prompt};
    emit(&start, 0);
    simple(STRANDS_EVENT_CYCLE_START, 1);
    strands_usage u1 = {10, 5, 15, 0, 0}, u2 = {20, 7, 27, 0, 0},
                  total = {30, 12, 42, 0, 0};
    model_call(1, &u1, "tool_use", tp1);
    tool_event(STRANDS_EVENT_TOOL_START, "tooluse_a", "calculator", NULL,
               NULL, NULL);
    tool_event(STRANDS_EVENT_TOOL_START, "tooluse_b", "current_time", NULL,
               NULL, NULL);
    tool_event(STRANDS_EVENT_TOOL_END, "tooluse_b", "current_time",
               "success", "2026-01-01T00:00:00Z", NULL);
    strands_error tool_err;
    strands_error_set(&tool_err, STRANDS_E_TOOL, NULL, "division by zero");
    tool_event(STRANDS_EVENT_TOOL_END, "tooluse_a", "calculator", "error",
               "Error: division by zero", &tool_err);
    simple(STRANDS_EVENT_CYCLE_END, 1);
    strands_error inv_err;
    strands_error_set(&inv_err, STRANDS_E_UPSTREAM, "ThrottlingException",
                      "Too many requests");
    if (!fail) {
        simple(STRANDS_EVENT_CYCLE_START, 2);
        model_call(2, &u2, "end_turn", tp2);
        simple(STRANDS_EVENT_CYCLE_END, 2);
    }
    strands_event end = {.type = STRANDS_EVENT_INVOCATION_END,
                         .usage = &total,
                         .stop_reason = fail ? NULL : "EndTurn",
                         .error = fail ? &inv_err : NULL,
                         .duration_ms = 40};
    emit(&end, 0);
    json_decref(prompt);
    strands_trace_end(it);

    strands_tracer_shutdown(t, 5000);
    strands_tracer_stats st;
    strands_tracer_get_stats(t, &st);
    json_t *out = json_pack(
        "{s:s, s:[s, s], s:I, s:I, s:I, s:s}", "root_traceparent", root,
        "model_traceparents", tp1, tp2, "exported", (json_int_t)st.exported,
        "dropped", (json_int_t)st.dropped, "failed", (json_int_t)st.failed,
        "endpoint", strands_tracer_endpoint(t));
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    strands_tracer_free(t);
    return 0;
}
