/* OpenAI Chat Completions request mapping and error reading (see
 * openai_map.h). Every JSON value this builds is its own: the shared
 * system prompt, tool snapshot and MODEL_PARAMS are copied, never
 * referenced (jansson reference counts are not atomic).                 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "models/openai_map.h"

/* Keys of the body the runtime sets itself. */
static const char *const reserved[] = {"model", "messages", "stream",
                                       "stream_options", "tools",
                                       "tool_choice", NULL};

strands_status openai_params_check(const json_t *params, strands_error *err)
{
    if (!params) return STRANDS_OK;
    if (!json_is_object(params))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MODEL_PARAMS: not a JSON object");
    for (const char *const *k = reserved; *k; k++)
        if (json_object_get(params, *k))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "MODEL_PARAMS: '%s' is set by the "
                                     "runtime and cannot be overridden",
                                     *k);
    const json_t *stop = json_object_get(params, "stop_sequences");
    size_t i;
    const json_t *v;
    if (stop && !json_is_array(stop))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MODEL_PARAMS: 'stop_sequences' must be "
                                 "an array of strings");
    json_array_foreach(stop, i, v) {
        if (!json_is_string(v))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "MODEL_PARAMS: 'stop_sequences' must "
                                     "be an array of strings");
    }
    return STRANDS_OK;
}

/* ---- content ------------------------------------------------------------ */

/* "data:<mime>;base64,<b64>" from a Converse image/document source (its
 * "bytes" member is already base64 text in our JSON). NULL when the block
 * has no bytes or on OOM. */
static json_t *data_url(const char *mime, const json_t *source)
{
    const json_t *bytes = json_object_get(source, "bytes");
    if (!json_is_string(bytes)) return NULL;
    dynbuf b;
    dynbuf_init(&b, SIZE_MAX);
    if (dynbuf_printf(&b, "data:%s;base64,", mime) != STRANDS_OK ||
        dynbuf_append(&b, json_string_value(bytes),
                      json_string_length(bytes)) != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return NULL;
    }
    json_t *s = json_stringn(b.data, b.len);
    dynbuf_cleanup(&b);
    return s;
}

static void image_mime(const char *format, char *out, size_t outsz)
{
    if (!format || !*format) format = "png";
    if (!strcasecmp(format, "jpg")) format = "jpeg";
    snprintf(out, outsz, "image/%.32s", format);
}

/* {"type":"image_url","image_url":{"url":data URL}}; NULL when the block
 * carries no bytes (then skipped) — *oom tells the two apart. */
static json_t *image_part(const json_t *image, int *oom)
{
    char mime[48];
    image_mime(json_string_value(json_object_get(image, "format")), mime,
               sizeof mime);
    if (!json_is_string(json_object_get(json_object_get(image, "source"),
                                        "bytes")))
        return NULL;
    json_t *url = data_url(mime, json_object_get(image, "source"));
    json_t *part = url ? json_pack("{s:s, s:{s:o}}", "type", "image_url",
                                   "image_url", "url", url)
                       : NULL;
    if (!part) *oom = 1;
    return part;
}

static const char *doc_mime(const char *format)
{
    static const struct { const char *fmt, *mime; } map[] = {
        {"pdf", "application/pdf"}, {"csv", "text/csv"},
        {"txt", "text/plain"},      {"md", "text/markdown"},
        {"html", "text/html"},      {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document"},
        {"xls", "application/vnd.ms-excel"},
        {"xlsx", "application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet"},
    };
    for (size_t i = 0; format && i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(format, map[i].fmt)) return map[i].mime;
    return "application/octet-stream";
}

/* {"type":"file","file":{"file_data":data URL,"filename":name}}. */
static json_t *document_part(const json_t *doc, int *oom)
{
    const char *name = json_string_value(json_object_get(doc, "name"));
    if (!json_is_string(json_object_get(json_object_get(doc, "source"),
                                        "bytes")))
        return NULL;
    json_t *url = data_url(
        doc_mime(json_string_value(json_object_get(doc, "format"))),
        json_object_get(doc, "source"));
    json_t *part = url ? json_pack("{s:s, s:{s:o, s:s}}", "type", "file",
                                   "file", "file_data", url, "filename",
                                   name ? name : "document")
                       : NULL;
    if (!part) *oom = 1;
    return part;
}

/* Appends the OpenAI part for one user content block (text, image,
 * document; others are not sent). 0, or -1 on OOM. */
static int add_user_part(json_t *parts, const json_t *block)
{
    int oom = 0;
    json_t *part = NULL, *v;
    if ((v = json_object_get(block, "text")) && json_is_string(v))
        part = json_pack("{s:s, s:O}", "type", "text", "text", v);
    else if ((v = json_object_get(block, "image")))
        part = image_part(v, &oom);
    else if ((v = json_object_get(block, "document")))
        part = document_part(v, &oom);
    else
        return 0;
    if (oom || (part == NULL && json_object_get(block, "text"))) return -1;
    if (!part) return 0;
    return json_array_append_new(parts, part);
}

/* The text of a tool result ("text" joined with "\n", "json" compact),
 * its images appended as parts to `images`. NULL on OOM. */
static json_t *tool_result_text(const json_t *content, json_t *images)
{
    dynbuf b;
    dynbuf_init(&b, SIZE_MAX);
    size_t i;
    const json_t *block, *v;
    int first = 1;
    strands_status st = STRANDS_OK;
    json_array_foreach(content, i, block) {
        if (st != STRANDS_OK) break;
        if ((v = json_object_get(block, "image"))) {
            if (add_user_part(images, block)) st = STRANDS_E_NOMEM;
            continue;
        }
        char *dumped = NULL;
        const char *text = NULL;
        size_t len = 0;
        if ((v = json_object_get(block, "text")) && json_is_string(v)) {
            text = json_string_value(v);
            len = json_string_length(v);
        } else if ((v = json_object_get(block, "json"))) {
            dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!dumped) {
                st = STRANDS_E_NOMEM;
                break;
            }
            text = dumped;
            len = strlen(dumped);
        } else if ((v = json_object_get(block, "document"))) {
            if (add_user_part(images, block)) st = STRANDS_E_NOMEM;
            continue;
        } else {
            continue;
        }
        if (!first) st = dynbuf_puts(&b, "\n");
        if (st == STRANDS_OK && len) st = dynbuf_append(&b, text, len);
        first = 0;
        free(dumped);
    }
    json_t *s = st == STRANDS_OK
                    ? json_stringn(b.data ? b.data : "", b.len)
                    : NULL;
    dynbuf_cleanup(&b);
    return s;
}

/* A user message: its tool results as "tool" messages, then one user
 * message with the rest (plus images from the tool results). */
static int add_user(json_t *out, const json_t *content)
{
    json_t *parts = json_array();
    if (!parts) return -1;
    size_t i;
    const json_t *block, *tr;
    int rc = 0;
    json_array_foreach(content, i, block) {
        if ((tr = json_object_get(block, "toolResult"))) {
            const char *id =
                json_string_value(json_object_get(tr, "toolUseId"));
            json_t *text = tool_result_text(json_object_get(tr, "content"),
                                            parts);
            json_t *msg = text ? json_pack("{s:s, s:s, s:o}", "role", "tool",
                                           "tool_call_id", id ? id : "",
                                           "content", text)
                               : NULL;
            if (!msg || json_array_append_new(out, msg)) rc = -1;
        }
    }
    json_array_foreach(content, i, block) {
        if (rc) break;
        if (!json_object_get(block, "toolResult") &&
            add_user_part(parts, block))
            rc = -1;
    }
    if (rc || json_array_size(parts) == 0) {
        json_decref(parts);
        return rc;
    }
    json_t *msg;
    const json_t *only = json_array_get(parts, 0);
    if (json_array_size(parts) == 1 &&
        !strcmp(json_string_value(json_object_get(only, "type")), "text"))
        msg = json_pack("{s:s, s:O}", "role", "user", "content",
                        json_object_get(only, "text"));
    else
        msg = json_pack("{s:s, s:O}", "role", "user", "content", parts);
    json_decref(parts);
    return msg ? json_array_append_new(out, msg) : -1;
}

/* {"id","type":"function","function":{"name","arguments":<json text>}}. */
static json_t *tool_call(const json_t *use)
{
    const json_t *input = json_object_get(use, "input");
    char *args = input ? json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY)
                       : strdup("{}");
    if (!args) return NULL;
    const char *id = json_string_value(json_object_get(use, "toolUseId"));
    const char *name = json_string_value(json_object_get(use, "name"));
    json_t *call = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id ? id : "",
                             "type", "function", "function", "name",
                             name ? name : "", "arguments", args);
    free(args);
    return call;
}

/* An assistant message: text joined as "content", toolUse blocks as
 * "tool_calls" (content null then, when there is no text). */
static int add_assistant(json_t *out, const json_t *content)
{
    dynbuf text;
    dynbuf_init(&text, SIZE_MAX);
    json_t *calls = json_array();
    int rc = calls ? 0 : -1, any_text = 0;
    size_t i;
    const json_t *block, *v;
    json_array_foreach(content, i, block) {
        if (rc) break;
        if ((v = json_object_get(block, "text")) && json_is_string(v)) {
            if (json_string_length(v) &&
                dynbuf_append(&text, json_string_value(v),
                              json_string_length(v)) != STRANDS_OK)
                rc = -1;
            any_text = 1;
        } else if ((v = json_object_get(block, "toolUse"))) {
            if (json_array_append_new(calls, tool_call(v))) rc = -1;
        }
    }
    json_t *msg = NULL;
    if (!rc && (any_text || json_array_size(calls))) {
        json_t *c = text.len || !json_array_size(calls)
                        ? json_stringn(text.data ? text.data : "", text.len)
                        : json_null();
        msg = c ? json_pack("{s:s, s:o}", "role", "assistant", "content", c)
                : NULL;
        if (!msg ||
            (json_array_size(calls) &&
             json_object_set(msg, "tool_calls", calls)) ||
            json_array_append(out, msg))
            rc = -1;
    }
    json_decref(msg);
    json_decref(calls);
    dynbuf_cleanup(&text);
    return rc;
}

static json_t *build_messages(const strands_model_request *req)
{
    json_t *out = json_array();
    if (!out) return NULL;
    size_t i;
    const json_t *block, *msg;
    json_array_foreach(req->system, i, block) {
        const json_t *t = json_object_get(block, "text");
        if (!json_is_string(t)) continue;   /* cachePoint, guardContent */
        if (json_array_append_new(out, json_pack("{s:s, s:s%}", "role",
                                                 "system", "content",
                                                 json_string_value(t),
                                                 json_string_length(t))))
            goto oom;
    }
    json_array_foreach(req->messages, i, msg) {
        const char *role = json_string_value(json_object_get(msg, "role"));
        const json_t *content = json_object_get(msg, "content");
        int rc = role && !strcmp(role, "assistant")
                     ? add_assistant(out, content)
                     : add_user(out, content);
        if (rc) goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}

/* {"type":"function","function":{"name","description","parameters"}}
 * per toolSpec, copied out of the shared snapshot. */
static json_t *build_tools(const json_t *tools)
{
    json_t *out = json_array();
    if (!out) return NULL;
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t) {
        const json_t *spec = json_object_get(t, "toolSpec");
        const char *name = json_string_value(json_object_get(spec, "name"));
        if (!name) continue;
        const json_t *schema =
            json_object_get(json_object_get(spec, "inputSchema"), "json");
        json_t *params = schema ? json_deep_copy(schema)
                                : json_pack("{s:s, s:{}}", "type", "object",
                                            "properties");
        json_t *fn = params ? json_pack("{s:s, s:o}", "name", name,
                                        "parameters", params)
                            : NULL;
        const char *desc =
            json_string_value(json_object_get(spec, "description"));
        if (fn && desc &&
            json_object_set_new(fn, "description", json_string(desc))) {
            json_decref(fn);
            fn = NULL;
        }
        json_t *entry = fn ? json_pack("{s:s, s:o}", "type", "function",
                                       "function", fn)
                           : NULL;
        if (json_array_append_new(out, entry)) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* MODEL_PARAMS into the body: stop_sequences -> stop, the rest as is. */
static int apply_params(json_t *body, const json_t *params)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v) {
        const char *k = !strcmp(key, "stop_sequences") ? "stop" : key;
        if (json_object_set_new(body, k, json_deep_copy(v))) return -1;
    }
    return 0;
}

json_t *openai_build_request(const strands_model_request *req,
                             const openai_body_opts *opts)
{
    json_t *body = json_object();
    if (!body) return NULL;
    if (json_object_set_new(body, "model", json_string(opts->model)) ||
        json_object_set_new(body, "messages", build_messages(req)))
        goto oom;
    if (req->tools && json_array_size(req->tools) &&
        json_object_set_new(body, "tools", build_tools(req->tools)))
        goto oom;
    if (req->tool_choice &&
        json_object_set_new(body, "tool_choice",
                            json_pack("{s:s, s:{s:s}}", "type", "function",
                                      "function", "name", req->tool_choice)))
        goto oom;
    if (opts->params && apply_params(body, opts->params)) goto oom;
    if (!json_object_get(body, "max_tokens") &&
        !json_object_get(body, "max_completion_tokens") &&
        json_object_set_new(body, "max_tokens",
                            json_integer(req->max_tokens)))
        goto oom;
    if (opts->stream &&
        (json_object_set_new(body, "stream", json_true()) ||
         json_object_set_new(body, "stream_options",
                             json_pack("{s:b}", "include_usage", 1))))
        goto oom;
    return body;
oom:
    json_decref(body);
    return NULL;
}

char *openai_build_body(const strands_model_request *req,
                        const openai_body_opts *opts, size_t *len)
{
    json_t *body = openai_build_request(req, opts);
    if (!body) return NULL;
    /* Measured first and checked after: jansson can drop a member when an
     * allocation fails inside the dumper, and such a body is never sent. */
    size_t n = json_dumpb(body, NULL, 0, JSON_COMPACT);
    char *text = n ? malloc(n + 1) : NULL;
    if (text && json_dumpb(body, text, n, JSON_COMPACT) != n) {
        free(text);
        text = NULL;
    }
    json_decref(body);
    if (!text) return NULL;
    text[n] = '\0';
    if (len) *len = n;
    return text;
}

strands_stop_reason openai_finish_reason(const char *reason)
{
    static const struct {
        const char *name;
        strands_stop_reason stop;
    } map[] = {
        {"stop", STRANDS_STOP_END_TURN},
        {"length", STRANDS_STOP_MAX_TOKENS},
        {"tool_calls", STRANDS_STOP_TOOL_USE},
        {"function_call", STRANDS_STOP_TOOL_USE},
        {"content_filter", STRANDS_STOP_CONTENT_FILTERED},
    };
    for (size_t i = 0; reason && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(reason, map[i].name)) return map[i].stop;
    return STRANDS_STOP_END_TURN;
}

int openai_overflow(const char *code, const char *message)
{
    static const char *const known[] = {
        "maximum context length", "context length", "context_length_exceeded",
        "context window", NULL};
    if (code && !strcmp(code, "context_length_exceeded")) return 1;
    if (!message) return 0;
    for (const char *const *k = known; *k; k++)
        if (strcasestr(message, *k)) return 1;
    return strands_model_overflow_message(message);
}

/* A string member, or a number member as text (some servers send numeric
 * codes), into out; 0 when neither. */
static int member_text(const json_t *obj, const char *key, char *out,
                       size_t outsz)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && json_string_length(v)) {
        snprintf(out, outsz, "%s", json_string_value(v));
        return 1;
    }
    if (json_is_integer(v)) {
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
        return 1;
    }
    return 0;
}

strands_status openai_error_from_json(long status, const json_t *doc,
                                      strands_error *err)
{
    const json_t *e = json_object_get(doc, "error");
    if (!e) e = doc;
    char code[STRANDS_ERROR_CODE_MAX] = "";
    const char *message = NULL;
    if (json_is_string(e)) {
        message = json_string_value(e);
    } else {
        if (!member_text(e, "code", code, sizeof code))
            member_text(e, "type", code, sizeof code);
        message = json_string_value(json_object_get(e, "message"));
    }
    if (!code[0])
        snprintf(code, sizeof code, status ? "HTTP%ld" : "StreamError",
                 status);
    strands_status st;
    if (openai_overflow(code, message))
        st = strands_error_set(err, STRANDS_E_INVALID,
                               STRANDS_ERROR_CONTEXT_OVERFLOW,
                               "OpenAI-compatible server: %.900s",
                               message ? message : code);
    else if (status)
        st = strands_error_set(err, STRANDS_E_UPSTREAM, code,
                               "OpenAI-compatible server answered HTTP %ld: "
                               "%.900s", status, message ? message : code);
    else
        st = strands_error_set(err, STRANDS_E_UPSTREAM, code,
                               "OpenAI-compatible server: %.900s",
                               message ? message : code);
    if (err) err->http_status = (int)status;
    return st;
}

strands_status openai_error_from_body(long status, const char *body,
                                      size_t len, strands_error *err)
{
    json_t *doc = len ? json_loadb(body, len, JSON_ALLOW_NUL, NULL) : NULL;
    strands_status st;
    if (json_is_object(doc)) {
        st = openai_error_from_json(status, doc, err);
    } else {
        char code[32];
        snprintf(code, sizeof code, "HTTP%ld", status);
        /* Not JSON: the start of the body, printable bytes only. */
        char text[201];
        size_t n = 0;
        for (size_t i = 0; i < len && n < sizeof text - 1; i++)
            text[n++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : ' ';
        text[n] = '\0';
        st = strands_error_set(err, STRANDS_E_UPSTREAM, code,
                               "OpenAI-compatible server answered HTTP %ld%s"
                               "%s", status, n ? ": " : "", text);
        if (err) err->http_status = (int)status;
    }
    json_decref(doc);
    return st;
}
