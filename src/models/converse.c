/* Converse request/response JSON (see converse.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "models/converse.h"

int converse_history_has_tools(const json_t *messages)
{
    size_t i, j;
    json_t *msg, *block;
    json_array_foreach(messages, i, msg) {
        json_array_foreach(json_object_get(msg, "content"), j, block) {
            if (json_object_get(block, "toolUse") ||
                json_object_get(block, "toolResult"))
                return 1;
        }
    }
    return 0;
}

static json_t *noop_tools(void)
{
    return json_pack(
        "[{s:{s:s, s:s, s:{s:{s:s, s:{}}}}}]", "toolSpec", "name", "noop",
        "description",
        "This is a placeholder tool that must be completely ignored.",
        "inputSchema", "json", "type", "object", "properties");
}

/* Appends the compact JSON of v (borrowed, only read: jansson 2.14's
 * dumper tracks loops in a side table, so a tree shared with other
 * threads is safe to dump). The size is measured first and the text
 * must match it: jansson's own json_dumps can drop a member when an
 * allocation fails inside it, and a body with a hole must never be sent. */
static strands_status append_json(dynbuf *b, const json_t *v)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
    if (!n) return STRANDS_E_NOMEM;
    char *text = malloc(n);
    if (!text) return STRANDS_E_NOMEM;
    strands_status st = json_dumpb(v, text, n, JSON_COMPACT) == n
                            ? dynbuf_append(b, text, n)
                            : STRANDS_E_NOMEM;
    free(text);
    return st;
}

static int dump_to_dynbuf(const char *p, size_t n, void *user)
{
    return dynbuf_append(user, p, n) == STRANDS_OK ? 0 : -1;
}

static const char cache_point[] = "{\"cachePoint\":{\"type\":\"default\"}}";

/* Appends a JSON array's text (given, or dumped from v) with a cachePoint
 * block added as its last element when `cache` is set.                  */
static strands_status append_array(dynbuf *b, const char *text, size_t n,
                                   const json_t *v, int cache)
{
    size_t start = b->len;
    strands_status st = text ? dynbuf_append(b, text, n) : append_json(b, v);
    if (st != STRANDS_OK || !cache) return st;
    if (b->len <= start + 1 || b->data[b->len - 1] != ']')
        return STRANDS_E_INVALID; /* not an array: never send a bad body */
    b->data[--b->len] = '\0';
    st = dynbuf_puts(b, b->len > start + 1 ? "," : "");
    if (st == STRANDS_OK) st = dynbuf_puts(b, cache_point);
    if (st == STRANDS_OK) st = dynbuf_puts(b, "]");
    return st;
}

/* The messages with a cachePoint block after the last user message's
 * content: a new array sharing every other message (they belong to this
 * call), or a new reference to `messages` when there is no user message.
 * NULL on OOM.                                                          */
static json_t *messages_with_cache_point(const json_t *messages)
{
    size_t n = json_array_size(messages), last = n;
    for (size_t i = n; i-- > 0;) {
        const char *role = json_string_value(
            json_object_get(json_array_get(messages, i), "role"));
        if (role && !strcmp(role, "user")) {
            last = i;
            break;
        }
    }
    if (last == n) return json_incref((json_t *)messages);
    json_t *out = json_array();
    json_t *content = json_array();
    json_t *msg = json_object();
    int ok = out && content && msg &&
             !json_array_extend(content, json_object_get(
                                             json_array_get(messages, last),
                                             "content")) &&
             !json_array_append_new(content,
                                    json_pack("{s:{s:s}}", "cachePoint",
                                              "type", "default")) &&
             !json_object_set_new(msg, "role", json_string("user")) &&
             !json_object_set(msg, "content", content);
    for (size_t i = 0; ok && i < n; i++)
        ok = !json_array_append(out, i == last ? msg
                                               : json_array_get(messages, i));
    json_decref(content);
    json_decref(msg);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

char *converse_build_body(const strands_model_request *req, size_t *len)
{
    return converse_build_body_ex(req, NULL, len);
}

char *converse_build_body_ex(const strands_model_request *req,
                             const converse_options *o, size_t *len)
{
    static const converse_options none = {0};
    if (!o) o = &none;
    /* What belongs to this call goes into a tree; the agent's system
     * prompt and the tool snapshot are shared by concurrent invocations,
     * so they are never referenced from it (jansson's json_incref reads
     * the count without an atomic: a data race): they are dumped in
     * place and spliced into the text.                                  */
    json_t *body = json_object();
    if (!body) return NULL;
    int ok = !json_object_set_new(
        body, "messages",
        o->cache_points ? messages_with_cache_point(req->messages)
                        : json_incref((json_t *)req->messages));
    int shared_tools = req->tools && json_array_size(req->tools);
    if (ok && !shared_tools && converse_history_has_tools(req->messages))
        ok = !json_object_set_new(body, "toolConfig",
                                  json_pack("{s:o}", "tools", noop_tools()));
    dynbuf b;
    dynbuf_init(&b, SIZE_MAX);
    /* One pass over this call's own part (the history): should jansson
     * drop a member on an allocation failure, Bedrock rejects the body
     * and the call fails cleanly; nothing is stored or shown from it.  */
    strands_status st =
        ok && json_dump_callback(body, dump_to_dynbuf, &b, JSON_COMPACT) == 0
            ? STRANDS_OK
            : STRANDS_E_NOMEM;
    json_decref(body);
    if (st == STRANDS_OK) b.data[--b.len] = '\0'; /* reopen: drop '}' */
    if (st == STRANDS_OK) {
        char mt[48];
        snprintf(mt, sizeof mt, ",\"inferenceConfig\":{\"maxTokens\":%d",
                 o->max_tokens > 0 ? o->max_tokens : req->max_tokens);
        st = dynbuf_puts(&b, mt);
        if (st == STRANDS_OK && o->inference_json && *o->inference_json) {
            st = dynbuf_puts(&b, ",");
            if (st == STRANDS_OK) st = dynbuf_puts(&b, o->inference_json);
        }
        if (st == STRANDS_OK) st = dynbuf_puts(&b, "}");
    }
    /* Text the owner serialised once is used as it is. */
    if (st == STRANDS_OK && req->system && json_array_size(req->system)) {
        st = dynbuf_puts(&b, ",\"system\":");
        if (st == STRANDS_OK)
            st = append_array(&b, req->system_json, req->system_json_len,
                              req->system, o->cache_points);
    }
    if (st == STRANDS_OK && shared_tools) {
        st = dynbuf_puts(&b, ",\"toolConfig\":{\"tools\":");
        if (st == STRANDS_OK)
            st = append_array(&b, req->tools_json, req->tools_json_len,
                              req->tools, o->cache_points);
        /* The tool the model must call (structured output). */
        if (st == STRANDS_OK && req->tool_choice) {
            json_t *choice = json_pack("{s:{s:s}}", "tool", "name",
                                       req->tool_choice);
            st = choice ? dynbuf_puts(&b, ",\"toolChoice\":")
                        : STRANDS_E_NOMEM;
            if (st == STRANDS_OK) st = append_json(&b, choice);
            json_decref(choice);
        }
        if (st == STRANDS_OK) st = dynbuf_puts(&b, "}");
    }
    if (st == STRANDS_OK && o->guardrail_json) {
        st = dynbuf_puts(&b, ",\"guardrailConfig\":");
        if (st == STRANDS_OK) st = dynbuf_puts(&b, o->guardrail_json);
    }
    const char *extra = req->tool_choice && o->extra_forced_json
                            ? o->extra_forced_json
                            : o->extra_json;
    if (st == STRANDS_OK && extra && *extra) {
        st = dynbuf_puts(&b, ",");
        if (st == STRANDS_OK) st = dynbuf_puts(&b, extra);
    }
    if (st == STRANDS_OK) st = dynbuf_puts(&b, "}");
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return NULL;
    }
    return dynbuf_take(&b, len);
}

json_t *converse_build_request(const strands_model_request *req)
{
    size_t len = 0;
    char *text = converse_build_body(req, &len);
    json_t *body = text ? json_loadb(text, len, JSON_ALLOW_NUL, NULL) : NULL;
    free(text);
    return body;
}

static int64_t int_field(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* A token count clamped to [0, INT32_MAX], so sums over an invocation
 * cannot overflow whatever the upstream sends. */
static int64_t count_field(const json_t *obj, const char *key)
{
    int64_t n = int_field(obj, key);
    return n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : n;
}

void converse_parse_usage(const json_t *usage, strands_usage *out)
{
    out->input_tokens = count_field(usage, "inputTokens");
    out->output_tokens = count_field(usage, "outputTokens");
    out->total_tokens = count_field(usage, "totalTokens");
    out->cache_read_input_tokens = count_field(usage, "cacheReadInputTokens");
    out->cache_write_input_tokens =
        count_field(usage, "cacheWriteInputTokens");
    if (!out->total_tokens)
        out->total_tokens = out->input_tokens + out->output_tokens;
}

strands_stop_reason converse_stop_reason(const char *reason)
{
    static const struct {
        const char *bedrock;
        strands_stop_reason reason;
    } map[] = {
        {"end_turn", STRANDS_STOP_END_TURN},
        {"tool_use", STRANDS_STOP_TOOL_USE},
        {"max_tokens", STRANDS_STOP_MAX_TOKENS},
        {"stop_sequence", STRANDS_STOP_STOP_SEQUENCE},
        {"guardrail_intervened", STRANDS_STOP_GUARDRAIL_INTERVENED},
        {"content_filtered", STRANDS_STOP_CONTENT_FILTERED},
    };
    for (size_t i = 0; reason && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(reason, map[i].bedrock)) return map[i].reason;
    return STRANDS_STOP_END_TURN;
}

strands_status converse_parse_response(const char *body, size_t len,
                                       strands_model_response *out,
                                       strands_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return strands_error_set(err, STRANDS_E_PARSE, "InvalidResponse",
                                 "Bedrock response is not a JSON object: %s",
                                 jerr.text);
    }
    json_t *msg = json_object_get(json_object_get(root, "output"), "message");
    json_t *content = json_object_get(msg, "content");
    const char *stop = json_string_value(json_object_get(root, "stopReason"));
    if (!json_is_array(content) || !stop) {
        json_decref(root);
        return strands_error_set(err, STRANDS_E_PARSE, "InvalidResponse",
                                 "Bedrock response lacks output.message."
                                 "content or stopReason");
    }
    out->message = json_pack("{s:s, s:O}", "role", "assistant", "content",
                             content);
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", stop);
    out->stop = converse_stop_reason(stop);
    converse_parse_usage(json_object_get(root, "usage"), &out->usage);
    out->latency_ms = int_field(json_object_get(root, "metrics"),
                                "latencyMs");
    json_decref(root);
    if (!out->message)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return STRANDS_OK;
}
