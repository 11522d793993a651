/* The streamed event objects (text deltas, tool calls, tool results, the
 * final `done` and an `error`) as pure functions (no HTTP, no threads),
 * shared by the encoders that stream them: Server-Sent Event frames
 * `data: <json>\n\n` for /invocations (here) and one WebSocket text
 * message per object for /ws (ws_invoke.c). A frame that cannot be built
 * (out of memory) is NULL, never a partial frame; the SSE encoder then
 * sends the fixed sse_oom_frame instead.                                 */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/runner.h"

const char sse_oom_frame[] = "data: " SSE_OOM_JSON "\n\n";

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

json_t *sse_event_json(const runner_event *ev)
{
    switch (ev->type) {
    case STRANDS_EVENT_TEXT_DELTA: {
        json_t *t = json_stringn(ev->text, ev->text_len);
        return t ? json_pack("{s:s, s:o}", "type", "text", "text", t) : NULL;
    }
    case STRANDS_EVENT_REASONING_DELTA: {
        json_t *t = json_stringn(ev->text, ev->text_len);
        return t ? json_pack("{s:s, s:o}", "type", "reasoning", "text", t)
                 : NULL;
    }
    case STRANDS_EVENT_TOOL_START:
        return tool_event("tool_use", ev->data, "name", "input");
    case STRANDS_EVENT_TOOL_END:
        return tool_event("tool_result", ev->data, "status", "content");
    default:
        return NULL;
    }
}

json_t *sse_done_json(const char *invocation_id, const char *session_id,
                      const strands_agent_result *r)
{
    /* The /invocations response document, with "type" first. */
    json_t *doc = json_pack("{s:s}", "type", "done");
    json_t *res = server_result_json(invocation_id, session_id, r);
    if (!doc || !res || json_object_update(doc, res)) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(res);
    return doc;
}

json_t *sse_error_json(const char *message, const char *type)
{
    return json_pack("{s:s, s:s, s:s}", "type", "error", "error", message,
                     "error_type", type);
}

json_t *sse_final_json(const runner_outcome *o, const char *invocation_id,
                       const char *session_id)
{
    if (o->events_lost) return NULL; /* the stream has a hole: end it with
                                        the out-of-memory error */
    if (o->status == STRANDS_OK)
        return sse_done_json(invocation_id, session_id, &o->result);
    return sse_error_json(o->error.message, server_error_type(&o->error));
}

char *sse_format_event(const runner_event *ev, size_t *len)
{
    *len = 0;
    return frame(sse_event_json(ev), len);
}

char *sse_format_done(const char *invocation_id, const char *session_id,
                      const strands_agent_result *r, size_t *len)
{
    return frame(sse_done_json(invocation_id, session_id, r), len);
}

char *sse_format_error(const char *message, const char *type, size_t *len)
{
    return frame(sse_error_json(message, type), len);
}

const char *sse_final_frame(const runner_outcome *o,
                            const char *invocation_id,
                            const char *session_id, size_t *len, int *owned)
{
    char *f = frame(sse_final_json(o, invocation_id, session_id), len);
    *owned = f != NULL;
    if (f) return f;
    *len = strlen(sse_oom_frame);
    return sse_oom_frame;
}
