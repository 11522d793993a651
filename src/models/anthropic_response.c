/* Anthropic Messages answers -> ours (see anthropic.h): content blocks to
 * Converse blocks, stop reasons, usage, a non-streamed message, and error
 * bodies (HTTP and in-stream) to strands_error.                         */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/anthropic.h"
#include "net/base64.h"

strands_stop_reason anthropic_stop_reason(const char *reason)
{
    static const struct {
        const char *name;
        strands_stop_reason reason;
    } map[] = {
        {"end_turn", STRANDS_STOP_END_TURN},
        {"tool_use", STRANDS_STOP_TOOL_USE},
        {"max_tokens", STRANDS_STOP_MAX_TOKENS},
        {"model_context_window_exceeded", STRANDS_STOP_MAX_TOKENS},
        {"stop_sequence", STRANDS_STOP_STOP_SEQUENCE},
        {"refusal", STRANDS_STOP_CONTENT_FILTERED},
        {"pause_turn", STRANDS_STOP_END_TURN},
    };
    for (size_t i = 0; reason && i < sizeof map / sizeof *map; i++)
        if (!strcmp(reason, map[i].name)) return map[i].reason;
    return STRANDS_STOP_END_TURN;
}

/* Sets *dst from obj[key] when it is an integer (clamped 0..INT32_MAX). */
static void count(const json_t *obj, const char *key, int64_t *dst)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) return;
    json_int_t n = json_integer_value(v);
    *dst = n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : (int64_t)n;
}

void anthropic_parse_usage(const json_t *usage, strands_usage *out)
{
    if (!json_is_object(usage)) return;
    count(usage, "input_tokens", &out->input_tokens);
    count(usage, "output_tokens", &out->output_tokens);
    count(usage, "cache_read_input_tokens", &out->cache_read_input_tokens);
    count(usage, "cache_creation_input_tokens",
          &out->cache_write_input_tokens);
    out->total_tokens = out->input_tokens + out->output_tokens +
                        out->cache_read_input_tokens +
                        out->cache_write_input_tokens;
}

static strands_status bad(strands_error *err, const char *what)
{
    return strands_error_set(err, STRANDS_E_PARSE, ANTHROPIC_BAD_RESPONSE,
                             "Anthropic answer: %s", what);
}

static strands_status nomem(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

strands_status anthropic_block_to_converse(const json_t *block, json_t **out,
                                           strands_error *err)
{
    *out = NULL;
    const char *type = json_string_value(json_object_get(block, "type"));
    if (!type) return bad(err, "a content block without a type");
    if (!strcmp(type, "text")) {
        json_t *t = json_object_get(block, "text");
        if (!json_is_string(t)) return bad(err, "a text block without text");
        if (!json_string_length(t)) return STRANDS_OK;
        *out = json_pack("{s:s%}", "text", json_string_value(t),
                         json_string_length(t));
    } else if (!strcmp(type, "tool_use")) {
        json_t *id = json_object_get(block, "id");
        json_t *name = json_object_get(block, "name");
        json_t *input = json_object_get(block, "input");
        if (!json_is_string(id) || !json_is_string(name))
            return bad(err, "a tool_use block without id or name");
        *out = json_pack("{s:{s:s%, s:s%, s:o}}", "toolUse", "toolUseId",
                         json_string_value(id), json_string_length(id),
                         "name", json_string_value(name),
                         json_string_length(name), "input",
                         json_is_object(input) ? json_deep_copy(input)
                                               : json_object());
    } else if (!strcmp(type, "thinking")) {
        json_t *t = json_object_get(block, "thinking");
        json_t *sig = json_object_get(block, "signature");
        if (!json_is_string(t)) return bad(err, "a thinking block without "
                                                "thinking");
        json_t *rt = json_pack("{s:s%}", "text", json_string_value(t),
                               json_string_length(t));
        if (rt && json_is_string(sig) && json_string_length(sig) &&
            json_object_set_new(rt, "signature",
                                json_stringn(json_string_value(sig),
                                             json_string_length(sig)))) {
            json_decref(rt);
            rt = NULL;
        }
        *out = rt ? json_pack("{s:{s:o}}", "reasoningContent",
                              "reasoningText", rt)
                  : NULL;
    } else if (!strcmp(type, "redacted_thinking")) {
        json_t *d = json_object_get(block, "data");
        if (!json_is_string(d))
            return bad(err, "a redacted_thinking block without data");
        char *b64 = net_base64_encode(json_string_value(d),
                                      json_string_length(d), NULL);
        *out = b64 ? json_pack("{s:{s:s}}", "reasoningContent",
                               "redactedContent", b64)
                   : NULL;
        free(b64);
    } else {
        return STRANDS_OK; /* server tools, citations, ...: not ours */
    }
    return *out ? STRANDS_OK : nomem(err);
}

/* Converts a Messages content array into {"role":"assistant",...}. */
static strands_status build_message(const json_t *content, json_t **out,
                                    strands_error *err)
{
    json_t *blocks = json_array();
    if (!blocks) return nomem(err);
    size_t i;
    json_t *b;
    json_array_foreach(content, i, b) {
        json_t *c = NULL;
        strands_status st = anthropic_block_to_converse(b, &c, err);
        if (st == STRANDS_OK && c && json_array_append_new(blocks, c))
            st = nomem(err);
        if (st != STRANDS_OK) {
            json_decref(blocks);
            return st;
        }
    }
    *out = json_pack("{s:s, s:o}", "role", "assistant", "content", blocks);
    return *out ? STRANDS_OK : nomem(err);
}

strands_status anthropic_parse_message(const char *body, size_t len,
                                       strands_model_response *out,
                                       strands_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return strands_error_set(err, STRANDS_E_PARSE, ANTHROPIC_BAD_RESPONSE,
                                 "Anthropic answer is not a JSON object: %s",
                                 root ? "" : je.text);
    }
    json_t *content = json_object_get(root, "content");
    json_t *stop = json_object_get(root, "stop_reason");
    strands_status st;
    if (!json_is_array(content) || !(json_is_string(stop) || json_is_null(stop)))
        st = bad(err, "no content array or stop_reason");
    else
        st = build_message(content, &out->message, err);
    if (st == STRANDS_OK) {
        const char *reason = json_string_value(stop);
        snprintf(out->stop_reason, sizeof out->stop_reason, "%s",
                 reason ? reason : "");
        out->stop = anthropic_stop_reason(reason);
        anthropic_parse_usage(json_object_get(root, "usage"), &out->usage);
    }
    json_decref(root);
    return st;
}

/* The type Anthropic documents for an HTTP status (errors page). */
static const char *type_for_status(long status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 500: return "api_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return NULL;
    }
}

/* Keeps [A-Za-z0-9_.-] of s (a code goes into JSON and logs). */
static void copy_code(char *dst, size_t size, const char *s)
{
    size_t n = 0;
    for (; s && *s && n + 1 < size; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-')
            dst[n++] = *s;
    dst[n] = '\0';
}

/* err from {"error":{"type","message"}} (obj may be NULL); status 0: an
 * in-stream error event. */
static strands_status from_error_object(const json_t *obj, long status,
                                        strands_error *err)
{
    const json_t *e = json_object_get(obj, "error");
    char code[STRANDS_ERROR_CODE_MAX] = "";
    copy_code(code, sizeof code,
              json_string_value(json_object_get(e, "type")));
    if (!code[0] && type_for_status(status))
        snprintf(code, sizeof code, "%s", type_for_status(status));
    if (!code[0] && status) snprintf(code, sizeof code, "HttpError%ld", status);
    if (!code[0]) snprintf(code, sizeof code, "api_error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    strands_status st;
    if ((status == 0 || status == 400 || status == 413) &&
        strands_model_overflow_message(msg))
        st = strands_error_set(err, STRANDS_E_INVALID,
                               STRANDS_ERROR_CONTEXT_OVERFLOW,
                               "Anthropic %s: %.900s", code, msg);
    else if (status)
        st = strands_error_set(err, STRANDS_E_UPSTREAM, code,
                               "Anthropic error %ld %s: %.900s", status, code,
                               msg ? msg : "(no message)");
    else
        st = strands_error_set(err, STRANDS_E_UPSTREAM, code,
                               "Anthropic stream error %s: %.900s", code,
                               msg ? msg : "(no message)");
    if (err) err->http_status = (int)status;
    return st;
}

strands_status anthropic_error_from_response(long status, const char *body,
                                             size_t len, strands_error *err)
{
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    strands_status st = from_error_object(root, status, err);
    json_decref(root);
    return st;
}

strands_status anthropic_error_from_event(const json_t *ev,
                                          strands_error *err)
{
    return from_error_object(ev, 0, err);
}
