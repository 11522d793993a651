/* The AG-UI event encoder (see agui.h): runner events and the outcome of
 * one run become AG-UI event objects with the camelCase fields
 * @ag-ui/core defines. The state machine keeps the stream well formed
 * for a verifying client: a text message is open only between its START
 * and END, never across a tool call; tool calls are START, ARGS, END in
 * a row; nothing follows RUN_FINISHED or RUN_ERROR. Assistant message ids
 * are fresh UUIDs; tool call ids are the model's toolUseIds (the client
 * answers a front-end call with it). Text after a tool result, or a tool
 * call after one, belongs to a new assistant message.                  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"
#include "strands/util.h"

const char agui_oom_frame[] = "data: " AGUI_OOM_JSON "\n\n";

void agui_encoder_init(agui_encoder *e, const char *thread_id,
                       const char *run_id)
{
    memset(e, 0, sizeof *e);
    snprintf(e->thread_id, sizeof e->thread_id, "%s",
             thread_id ? thread_id : "");
    snprintf(e->run_id, sizeof e->run_id, "%s", run_id ? run_id : "");
}

/* Appends ev (stolen); -1 when it is NULL (OOM) or cannot be added. */
static int add(json_t *out, json_t *ev)
{
    return ev && !json_array_append_new(out, ev) ? 0 : -1;
}

/* The current assistant message id, made new when there is none or a
 * tool result came since. */
static const char *message_id(agui_encoder *e)
{
    if (!e->message_id[0] || e->after_result) {
        strands_uuid4(e->message_id);
        e->after_result = 0;
    }
    return e->message_id;
}

static int close_text(agui_encoder *e, json_t *out)
{
    if (!e->text_open) return 0;
    e->text_open = 0;
    return add(out, json_pack("{s:s, s:s}", "type", "TEXT_MESSAGE_END",
                              "messageId", e->message_id));
}

int agui_encode_start(agui_encoder *e, const json_t *state, json_t *out)
{
    if (add(out, json_pack("{s:s, s:s, s:s}", "type", "RUN_STARTED",
                           "threadId", e->thread_id, "runId", e->run_id)))
        return -1;
    if (!state) return 0;
    json_t *snap;
    if (json_is_object(state)) {
        /* its members but "messages", shared (json_copy would drop a
         * member it cannot add without saying so) */
        snap = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)state, k, v) {
            if (!snap) break;
            if (strcmp(k, "messages") && json_object_set(snap, k, v)) {
                json_decref(snap);
                snap = NULL;
            }
        }
        /* {} says nothing the client does not know: no snapshot */
        if (snap && !json_object_size(snap)) {
            json_decref(snap);
            return 0;
        }
    } else {
        snap = json_incref((json_t *)state);
    }
    if (!snap) return -1;
    return add(out, json_pack("{s:s, s:o}", "type", "STATE_SNAPSHOT",
                              "snapshot", snap));
}

static int text(agui_encoder *e, const char *s, size_t n, json_t *out)
{
    if (!n || e->ended) return 0; /* an empty delta says nothing */
    if (!e->text_open) {
        const char *id = message_id(e);
        if (add(out, json_pack("{s:s, s:s, s:s}", "type",
                               "TEXT_MESSAGE_START", "messageId", id, "role",
                               "assistant")))
            return -1;
        e->text_open = 1;
    }
    e->any_text = 1;
    json_t *delta = json_stringn(s, n);
    if (!delta) return -1; /* not valid UTF-8 cannot come from a model */
    return add(out, json_pack("{s:s, s:s, s:o}", "type",
                              "TEXT_MESSAGE_CONTENT", "messageId",
                              e->message_id, "delta", delta));
}

/* TOOL_CALL_START, ARGS (when the input is not empty), END of a toolUse
 * object {"toolUseId","name","input"}. */
static int tool_call(agui_encoder *e, const json_t *use, json_t *out)
{
    const char *id = json_string_value(json_object_get(use, "toolUseId"));
    const char *name = json_string_value(json_object_get(use, "name"));
    if (close_text(e, out)) return -1;
    const char *parent = message_id(e);
    if (add(out, json_pack("{s:s, s:s, s:s, s:s}", "type", "TOOL_CALL_START",
                           "toolCallId", id ? id : "", "toolCallName",
                           name ? name : "", "parentMessageId", parent)))
        return -1;
    json_t *input = json_object_get(use, "input");
    char *args = input ? json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY)
                       : strdup("{}");
    if (!args) return -1;
    int rc = add(out, json_pack("{s:s, s:s, s:s}", "type", "TOOL_CALL_ARGS",
                                "toolCallId", id ? id : "", "delta", args));
    free(args);
    if (rc) return -1;
    return add(out, json_pack("{s:s, s:s}", "type", "TOOL_CALL_END",
                              "toolCallId", id ? id : ""));
}

/* The text of a toolResult's content blocks: text blocks joined by
 * newlines; a JSON block as its JSON text; other blocks are named. */
static char *result_text(const json_t *content)
{
    json_t *parts = json_array();
    size_t i, total = 0;
    json_t *b;
    json_array_foreach(content, i, b) {
        json_t *t = json_object_get(b, "text");
        json_t *piece = NULL;
        if (json_is_string(t)) {
            piece = json_incref(t);
        } else if (json_object_get(b, "json")) {
            char *s = json_dumps(json_object_get(b, "json"),
                                 JSON_COMPACT | JSON_ENCODE_ANY);
            piece = s ? json_string(s) : NULL;
            free(s);
        } else {
            const char *key = json_object_iter_key(json_object_iter(
                (json_t *)b));
            char buf[80];
            snprintf(buf, sizeof buf, "[%.60s]", key ? key : "block");
            piece = json_string(buf);
        }
        /* append_new takes piece even when it fails */
        if (!parts || !piece || json_array_append_new(parts, piece)) {
            if (!parts) json_decref(piece);
            json_decref(parts);
            return NULL;
        }
        total += json_string_length(piece) + 1;
    }
    char *s = parts ? malloc(total + 1) : NULL;
    if (!s) {
        json_decref(parts);
        return NULL;
    }
    size_t off = 0;
    json_array_foreach(parts, i, b) {
        if (i) s[off++] = '\n';
        memcpy(s + off, json_string_value(b), json_string_length(b));
        off += json_string_length(b);
    }
    s[off] = '\0';
    json_decref(parts);
    return s;
}

static int tool_result(agui_encoder *e, const json_t *result, json_t *out)
{
    const char *id = json_string_value(json_object_get(result, "toolUseId"));
    char *content = result_text(json_object_get(result, "content"));
    if (!content) return -1;
    char mid[37];
    strands_uuid4(mid);
    int rc = add(out, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type",
                                "TOOL_CALL_RESULT", "messageId", mid,
                                "toolCallId", id ? id : "", "content",
                                content, "role", "tool"));
    free(content);
    e->after_result = 1;
    return rc;
}

int agui_encode_event(agui_encoder *e, const runner_event *ev, json_t *out)
{
    if (e->ended) return 0;
    switch (ev->type) {
    case STRANDS_EVENT_TEXT_DELTA:
        return text(e, ev->text, ev->text_len, out);
    case STRANDS_EVENT_TOOL_START:
        return tool_call(e, ev->data, out);
    case STRANDS_EVENT_TOOL_END:
        return tool_result(e, ev->data, out);
    default:
        return 0;
    }
}

int agui_encode_error(agui_encoder *e, const char *message, const char *code,
                      json_t *out)
{
    if (e->ended) return 0;
    if (close_text(e, out)) return -1;
    e->ended = 1;
    return add(out, json_pack("{s:s, s:s, s:s}", "type", "RUN_ERROR",
                              "message", message ? message : "",
                              "code", code ? code : "InternalError"));
}

/* RUN_FINISHED of a successful run. */
static json_t *finished(agui_encoder *e, const strands_agent_result *r)
{
    json_t *pending = json_array();
    size_t i;
    json_t *call;
    json_array_foreach(r->client_tool_calls, i, call) {
        json_t *id = json_object_get(call, "toolUseId");
        if (pending && json_is_string(id) &&
            json_array_append(pending, id)) {
            json_decref(pending);
            pending = NULL;
        }
    }
    if (!pending) return NULL;
    json_t *outcome = json_pack("{s:s}", "type", "success");
    if (outcome && json_array_size(pending) &&
        json_object_set(outcome, "pendingToolCallIds", pending)) {
        json_decref(outcome);
        outcome = NULL;
    }
    json_decref(pending);
    json_t *usage = json_pack(
        "{s:I, s:I, s:I}", "inputTokens", (json_int_t)r->usage.input_tokens,
        "outputTokens", (json_int_t)r->usage.output_tokens, "totalTokens",
        (json_int_t)r->usage.total_tokens);
    if (usage && r->usage.cache_read_input_tokens &&
        json_object_set_new(usage, "cachedInputTokens",
                            json_integer(r->usage.cache_read_input_tokens))) {
        json_decref(usage);
        usage = NULL;
    }
    if (usage && r->usage.cache_write_input_tokens &&
        json_object_set_new(usage, "cacheWriteInputTokens",
                            json_integer(r->usage.cache_write_input_tokens))) {
        json_decref(usage);
        usage = NULL;
    }
    if (!outcome || !usage) {
        json_decref(outcome);
        json_decref(usage);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:i}, s:o, s:[o]}", "type",
                     "RUN_FINISHED", "threadId", e->thread_id, "runId",
                     e->run_id, "result", "stopReason",
                     strands_stop_reason_name(r->stop_reason), "iterations",
                     r->iterations, "outcome", outcome, "usage", usage);
}

int agui_encode_finish(agui_encoder *e, const runner_outcome *o, json_t *out)
{
    if (e->ended) return 0;
    if (o->status != STRANDS_OK)
        return agui_encode_error(e, o->error.message,
                                 server_error_type(&o->error), out);
    const strands_agent_result *r = &o->result;
    /* A model that did not stream: its answer as one message. */
    if (!e->any_text && r->text && *r->text &&
        text(e, r->text, strlen(r->text), out))
        return -1;
    if (close_text(e, out)) return -1;
    size_t i;
    json_t *call;
    json_array_foreach(r->client_tool_calls, i, call) {
        if (tool_call(e, call, out)) return -1;
    }
    e->ended = 1;
    return add(out, finished(e, r));
}

char *agui_sse_frames(const json_t *events, size_t *len)
{
    *len = 0;
    size_t total = 0, i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        size_t n = json_dumpb(ev, NULL, 0, JSON_COMPACT);
        if (!n) return NULL;
        total += n + 8;
    }
    char *out = total ? malloc(total + 1) : NULL;
    if (!out) return NULL;
    size_t off = 0;
    json_array_foreach(events, i, ev) {
        memcpy(out + off, "data: ", 6);
        off += 6;
        size_t n = json_dumpb(ev, out + off, total - off, JSON_COMPACT);
        /* measured above; a second dump that differs is an OOM inside */
        if (!n || off + n + 2 > total) {
            free(out);
            return NULL;
        }
        off += n;
        memcpy(out + off, "\n\n", 2);
        off += 2;
    }
    out[off] = '\0';
    *len = off;
    return out;
}
