/* Metrics in logs: an event sink that counts model and tool calls of one
 * invocation and writes ONE JSON log line at its end (duration, calls,
 * tokens, outcome), so CloudWatch Logs Insights can chart invocations
 * without a collector.                                                  */
#include <string.h>

#include "server/internal.h"
#include "strands/log.h"

static void on_event(void *user, const strands_event *ev)
{
    invocation_metrics *m = user;
    switch (ev->type) {
    case STRANDS_EVENT_MODEL_END:
        m->model_calls++;
        if (ev->error) m->model_errors++;
        break;
    case STRANDS_EVENT_TOOL_END: {
        m->tool_calls++;
        const char *status =
            json_string_value(json_object_get(ev->data, "status"));
        if (status && strcmp(status, "success")) m->tool_errors++;
        break;
    }
    case STRANDS_EVENT_INVOCATION_END: {
        const strands_usage *u = ev->usage;
        const char *outcome = ev->error ? server_error_type(ev->error)
                                        : ev->stop_reason;
        json_t *fields = json_pack(
            "{s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:s, s:b, s:b}",
            "metric", "invocation", "duration_ms", (json_int_t)ev->duration_ms,
            "model_calls", m->model_calls, "model_errors", m->model_errors,
            "tool_calls", m->tool_calls, "tool_errors", m->tool_errors,
            "input_tokens", (json_int_t)(u ? u->input_tokens : 0),
            "output_tokens", (json_int_t)(u ? u->output_tokens : 0),
            "total_tokens", (json_int_t)(u ? u->total_tokens : 0), "outcome",
            outcome ? outcome : "unknown", "success", ev->error == NULL,
            "stream", m->stream);
        strands_log(STRANDS_LOG_INFO, "strands.metrics", ev->invocation_id,
                    ev->session_id, fields, "invocation %s in %lld ms",
                    outcome ? outcome : "unknown",
                    (long long)ev->duration_ms);
        json_decref(fields);
        break;
    }
    default:
        break;
    }
}

strands_event_sink invocation_metrics_sink(invocation_metrics *m, int stream)
{
    memset(m, 0, sizeof *m);
    m->stream = stream;
    strands_event_sink sink = {on_event, m};
    return sink;
}
