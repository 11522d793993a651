/* Server-Sent Event frames for /invocations streams, as pure functions
 * (no HTTP, no threads): `data: <json>\n\n` for text deltas, tool calls,
 * tool results, the final `done` and an `error`. A frame that cannot be
 * built (out of memory) is NULL, never a partial frame; the encoder then
 * sends the fixed sse_oom_frame instead.                                 */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/runner.h"

const char sse_oom_frame[] =
    "data: {\"type\":\"error\",\"error\":\"out of memory\","
    "\"error_type\":\"InternalError\"}\n\n";

/* Frames doc (stolen) as "data: <compact json>\n\n". */
static char *frame(json_t *doc, size_t *len)
{
    *len = 0;
    if (!doc) return NULL;
    size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    char *out = n ? malloc(n + 9) : NULL;
    if (out && json_dumpb(doc, out + 6, n, JSON_COMPACT) == n) {
        memcpy(out, "data: ", 6);
        memcpy(out + 6 + n, "\n\n", 3);
        *len = n + 8;
    } else {
        free(out);
        out = NULL;
    }
    json_decref(doc);
    return out;
}

/* {"type": type, "tool_use_id", k1, k2} from a toolUse or toolResult. */
static json_t *tool_event(const char *type, const json_t *data,
                          const char *k1, const char *k2)
{
    return json_pack("{s:s, s:O?, s:O?, s:O?}", "type", type, "tool_use_id",
                     json_object_get(data, "toolUseId"), k1,
                     json_object_get(data, k1), k2, json_object_get(data, k2));
}

char *sse_format_event(const runner_event *ev, size_t *len)
{
    *len = 0;
    switch (ev->type) {
    case STRANDS_EVENT_TEXT_DELTA: {
        json_t *t = json_stringn(ev->text, ev->text_len);
        return t ? frame(json_pack("{s:s, s:o}", "type", "text", "text", t),
                         len)
                 : NULL;
    }
    case STRANDS_EVENT_TOOL_START:
        return frame(tool_event("tool_use", ev->data, "name", "input"), len);
    case STRANDS_EVENT_TOOL_END:
        return frame(tool_event("tool_result", ev->data, "status", "content"),
                     len);
    default:
        return NULL;
    }
}

char *sse_format_done(const char *invocation_id, const char *session_id,
                      const strands_agent_result *r, size_t *len)
{
    return frame(
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:i, "
                  "s:O*}",
                  "type", "done", "invocation_id", invocation_id,
                  "session_id", session_id, "response",
                  r->text ? r->text : "", "stop_reason",
                  strands_stop_reason_name(r->stop_reason), "usage",
                  "input_tokens", (json_int_t)r->usage.input_tokens,
                  "output_tokens", (json_int_t)r->usage.output_tokens,
                  "total_tokens", (json_int_t)r->usage.total_tokens,
                  "iterations", r->iterations, "structured_output",
                  r->structured_output),
        len);
}

char *sse_format_error(const char *message, const char *type, size_t *len)
{
    return frame(json_pack("{s:s, s:s, s:s}", "type", "error", "error",
                           message, "error_type", type),
                 len);
}

const char *sse_final_frame(const runner_outcome *o,
                            const char *invocation_id,
                            const char *session_id, size_t *len, int *owned)
{
    char *f = NULL;
    if (o->events_lost)
        f = NULL; /* the stream has a hole: end it with an error */
    else if (o->status == STRANDS_OK)
        f = sse_format_done(invocation_id, session_id, &o->result, len);
    else
        f = sse_format_error(o->error.message, server_error_type(&o->error),
                             len);
    *owned = f != NULL;
    if (f) return f;
    *len = strlen(sse_oom_frame);
    return sse_oom_frame;
}
