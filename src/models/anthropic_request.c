/* Converse-shaped model request -> Anthropic Messages request body (see
 * anthropic.h). The history is mapped into a tree of our own; the shared
 * system prompt and tool list are read only: the system text is copied
 * and the tools are written as text beside the tree.                    */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "models/anthropic.h"
#include "models/converse.h"
#include "net/base64.h"

/* ---- content blocks ------------------------------------------------------ */

static strands_status append_json(dynbuf *b, const json_t *v);

static strands_status nomem(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

/* True when p[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points over U+10FFFF), so a failed json_stringn means OOM.     */
static int utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1
                              : (c & 0xf0) == 0xe0 ? 2
                              : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (k == 4 || k > n - i - 1) return 0;  /* bad lead, or cut off */
        uint32_t cp = k == 0 ? c : c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A JSON string of decoded base64 text: E_INVALID (`what` names it) when
 * s is not base64 of UTF-8, E_NOMEM; *out a new reference on OK.       */
static strands_status text_of_base64(const char *s, size_t n,
                                     const char *what, json_t **out,
                                     strands_error *err)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    int rc = net_base64_decode(s, n, &raw, &len);
    if (rc == -2) return nomem(err);
    if (rc != 0 || !utf8_valid(raw, len)) {
        free(raw);
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s is not base64 of UTF-8 text", what);
    }
    *out = json_stringn_nocheck((const char *)raw, len);
    free(raw);
    return *out ? STRANDS_OK : nomem(err);
}

/* {type:"base64", media_type, data} with data copied from a JSON string. */
static json_t *base64_source(const char *media_type, const json_t *data)
{
    return json_pack("{s:s, s:s, s:s%}", "type", "base64", "media_type",
                     media_type, "data", json_string_value(data),
                     json_string_length(data));
}

/* The base64 bytes of a Converse image/document source (source.bytes). */
static const json_t *source_bytes(const json_t *v)
{
    const json_t *b = json_object_get(json_object_get(v, "source"), "bytes");
    return json_is_string(b) ? b : NULL;
}

static strands_status map_image(const json_t *img, json_t **out,
                                strands_error *err)
{
    static const char *const formats[] = {"png", "jpeg", "gif", "webp"};
    const char *fmt = json_string_value(json_object_get(img, "format"));
    const json_t *bytes = source_bytes(img);
    if (fmt && !strcmp(fmt, "jpg")) fmt = "jpeg";
    int known = 0;
    for (size_t i = 0; fmt && i < sizeof formats / sizeof *formats; i++)
        known |= !strcmp(fmt, formats[i]);
    if (!known || !bytes)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "image: the Anthropic API takes png, jpeg, "
                                 "gif or webp images with base64 "
                                 "source.bytes");
    char media[32];
    snprintf(media, sizeof media, "image/%s", fmt);
    json_t *src = base64_source(media, bytes);
    *out = src ? json_pack("{s:s, s:o}", "type", "image", "source", src)
               : NULL;
    return *out ? STRANDS_OK : nomem(err);
}

/* PDF goes as base64; txt, md, csv and html as plain text (decoded). */
static strands_status map_document(const json_t *doc, json_t **out,
                                   strands_error *err)
{
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    const char *name = json_string_value(json_object_get(doc, "name"));
    const json_t *bytes = source_bytes(doc);
    const json_t *text = json_object_get(json_object_get(doc, "source"),
                                         "text");
    json_t *src = NULL;
    if (fmt && !strcmp(fmt, "pdf") && bytes) {
        src = base64_source("application/pdf", bytes);
        if (!src) return nomem(err);
    } else if (fmt && (!strcmp(fmt, "txt") || !strcmp(fmt, "md") ||
                       !strcmp(fmt, "csv") || !strcmp(fmt, "html")) &&
               (bytes || json_is_string(text))) {
        json_t *data = NULL;
        if (bytes) {
            char what[160];
            snprintf(what, sizeof what, "document '%.100s': source.bytes",
                     name ? name : "");
            strands_status st = text_of_base64(json_string_value(bytes),
                                               json_string_length(bytes),
                                               what, &data, err);
            if (st != STRANDS_OK) return st;
        } else {
            data = json_copy((json_t *)text);
            if (!data) return nomem(err);
        }
        src = json_pack("{s:s, s:s, s:o}", "type", "text", "media_type",
                        "text/plain", "data", data);
        if (!src) return nomem(err);
    } else {
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "document '%.100s': the Anthropic API takes "
                                 "pdf, txt, md, csv or html documents with "
                                 "base64 source.bytes (not '%.16s')",
                                 name ? name : "", fmt ? fmt : "");
    }
    *out = json_pack("{s:s, s:o}", "type", "document", "source", src);
    if (*out && name && json_object_set_new(*out, "title", json_string(name))) {
        json_decref(*out);
        *out = NULL;
    }
    return *out ? STRANDS_OK : nomem(err);
}

static strands_status map_tool_use(const json_t *tu, json_t **out,
                                   strands_error *err)
{
    const json_t *id = json_object_get(tu, "toolUseId");
    const json_t *name = json_object_get(tu, "name");
    json_t *input = json_object_get(tu, "input");
    if (!json_is_string(id) || !json_is_string(name))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "toolUse block without toolUseId or name");
    *out = json_pack("{s:s, s:s%, s:s%}", "type", "tool_use", "id",
                     json_string_value(id), json_string_length(id), "name",
                     json_string_value(name), json_string_length(name));
    if (!*out) return nomem(err);
    /* The history's own input, referenced as Bedrock's body references the
     * whole history; not an object (a cut-off call): {}.               */
    if (json_object_set_new(*out, "input", json_is_object(input)
                                               ? json_incref(input)
                                               : json_object())) {
        json_decref(*out);
        *out = NULL;
        return nomem(err);
    }
    return STRANDS_OK;
}

static strands_status map_content(const json_t *content, json_t **out,
                                  int in_tool_result, strands_error *err);

static strands_status map_tool_result(const json_t *tr, json_t **out,
                                      strands_error *err)
{
    const json_t *id = json_object_get(tr, "toolUseId");
    if (!json_is_string(id))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "toolResult block without toolUseId");
    const char *status = json_string_value(json_object_get(tr, "status"));
    json_t *content = NULL;
    strands_status st = map_content(json_object_get(tr, "content"), &content,
                                    1, err);
    if (st != STRANDS_OK) return st;
    *out = json_pack("{s:s, s:s%}", "type", "tool_result", "tool_use_id",
                     json_string_value(id), json_string_length(id));
    int bad = !*out;
    if (!bad && json_array_size(content))
        bad = json_object_set(*out, "content", content);
    if (!bad && status && !strcmp(status, "error"))
        bad = json_object_set_new(*out, "is_error", json_true());
    json_decref(content);
    if (bad) {
        json_decref(*out);
        *out = NULL;
        return nomem(err);
    }
    return STRANDS_OK;
}

/* reasoningText {text, signature} -> thinking (dropped without a
 * signature: the API refuses an unsigned thinking block); redactedContent
 * (base64 of the data string) -> redacted_thinking with that string.   */
static strands_status map_reasoning(const json_t *rc, json_t **out,
                                    strands_error *err)
{
    const json_t *rt = json_object_get(rc, "reasoningText");
    const json_t *red = json_object_get(rc, "redactedContent");
    *out = NULL;
    if (json_is_object(rt)) {
        const json_t *text = json_object_get(rt, "text");
        const json_t *sig = json_object_get(rt, "signature");
        if (!json_is_string(sig) || !json_string_length(sig))
            return STRANDS_OK;
        *out = json_pack("{s:s, s:s%, s:s%}", "type", "thinking", "thinking",
                         json_is_string(text) ? json_string_value(text) : "",
                         json_is_string(text) ? json_string_length(text) : 0,
                         "signature", json_string_value(sig),
                         json_string_length(sig));
        return *out ? STRANDS_OK : nomem(err);
    }
    if (json_is_string(red)) {
        json_t *data = NULL;
        strands_status st = text_of_base64(
            json_string_value(red), json_string_length(red),
            "reasoningContent.redactedContent", &data, err);
        if (st != STRANDS_OK) return st;
        *out = json_pack("{s:s, s:o}", "type", "redacted_thinking", "data",
                         data);
        return *out ? STRANDS_OK : nomem(err);
    }
    return STRANDS_OK;  /* nothing we can send back */
}

/* Marks the last block of arr (if any) as a cache breakpoint. */
static strands_status cache_point(json_t *arr, strands_error *err)
{
    size_t n = json_array_size(arr);
    if (!n) return STRANDS_OK;
    if (json_object_set_new(json_array_get(arr, n - 1), "cache_control",
                            json_pack("{s:s}", "type", "ephemeral")))
        return nomem(err);
    return STRANDS_OK;
}

static strands_status map_block(const json_t *b, json_t **out,
                                int in_tool_result, strands_error *err)
{
    json_t *v;
    *out = NULL;
    if ((v = json_object_get(b, "text"))) {
        if (!json_is_string(v))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "text block is not a string");
        if (!json_string_length(v)) return STRANDS_OK; /* API refuses "" */
        *out = json_pack("{s:s, s:s%}", "type", "text", "text",
                         json_string_value(v), json_string_length(v));
        return *out ? STRANDS_OK : nomem(err);
    }
    if (in_tool_result && (v = json_object_get(b, "json"))) {
        dynbuf t;
        dynbuf_init(&t, SIZE_MAX);
        *out = append_json(&t, v) == STRANDS_OK
                   ? json_pack("{s:s, s:s%}", "type", "text", "text",
                               t.data, t.len)
                   : NULL;
        dynbuf_cleanup(&t);
        return *out ? STRANDS_OK : nomem(err);
    }
    if ((v = json_object_get(b, "image"))) return map_image(v, out, err);
    if ((v = json_object_get(b, "document"))) return map_document(v, out, err);
    if (!in_tool_result) {
        if ((v = json_object_get(b, "toolUse")))
            return map_tool_use(v, out, err);
        if ((v = json_object_get(b, "toolResult")))
            return map_tool_result(v, out, err);
        if ((v = json_object_get(b, "reasoningContent")))
            return map_reasoning(v, out, err);
    }
    if (json_object_get(b, "guardContent")) return STRANDS_OK; /* Bedrock */
    const char *key = json_is_object(b) && json_object_size(b)
                          ? json_object_iter_key(json_object_iter(
                                (json_t *)b))
                          : "";
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "content block '%.40s' is not supported by the "
                             "Anthropic provider", key);
}

/* A Converse content array -> a Messages content array (new reference). */
static strands_status map_content(const json_t *content, json_t **out,
                                  int in_tool_result, strands_error *err)
{
    *out = json_array();
    if (!*out) return nomem(err);
    size_t i;
    json_t *b;
    json_array_foreach(content, i, b) {
        strands_status st = STRANDS_OK;
        json_t *m = NULL;
        if (json_object_get(b, "cachePoint"))
            st = cache_point(*out, err);
        else if ((st = map_block(b, &m, in_tool_result, err)) == STRANDS_OK &&
                 m && json_array_append_new(*out, m))
            st = nomem(err);
        if (st != STRANDS_OK) {
            json_decref(*out);
            *out = NULL;
            return st;
        }
    }
    return STRANDS_OK;
}

static strands_status map_messages(const json_t *messages, json_t **out,
                                   strands_error *err)
{
    *out = json_array();
    if (!*out) return nomem(err);
    size_t i;
    json_t *msg;
    json_array_foreach(messages, i, msg) {
        const char *role = json_string_value(json_object_get(msg, "role"));
        if (!role || (strcmp(role, "user") && strcmp(role, "assistant"))) {
            json_decref(*out);
            *out = NULL;
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message %zu: role must be user or "
                                     "assistant", i);
        }
        json_t *content = NULL;
        strands_status st = map_content(json_object_get(msg, "content"),
                                        &content, 0, err);
        if (st != STRANDS_OK) {
            json_decref(*out);
            *out = NULL;
            return st;
        }
        if (!json_array_size(content)) {  /* the API refuses it: skip */
            json_decref(content);
            continue;
        }
        if (json_array_append_new(*out, json_pack("{s:s, s:o}", "role", role,
                                                  "content", content))) {
            json_decref(*out);
            *out = NULL;
            return nomem(err);
        }
    }
    return STRANDS_OK;
}

/* SystemContentBlocks -> [{type:text, text, cache_control?}] (copies). */
static strands_status map_system(const json_t *system, json_t **out,
                                 strands_error *err)
{
    *out = json_array();
    if (!*out) return nomem(err);
    size_t i;
    json_t *b, *t;
    json_array_foreach(system, i, b) {
        strands_status st = STRANDS_OK;
        if (json_object_get(b, "cachePoint"))
            st = cache_point(*out, err);
        else if (json_is_string(t = json_object_get(b, "text")) &&
                 json_string_length(t) &&
                 json_array_append_new(*out,
                                       json_pack("{s:s, s:s%}", "type",
                                                 "text", "text",
                                                 json_string_value(t),
                                                 json_string_length(t))))
            st = nomem(err);
        if (st != STRANDS_OK) {
            json_decref(*out);
            *out = NULL;
            return st;
        }
    }
    return STRANDS_OK;
}

/* ---- text splicing ------------------------------------------------------- */

/* Appends the compact JSON of v (only read; see converse.c: a tree shared
 * with other threads is safe to dump). The size is measured first so a
 * value jansson could not dump whole is never sent.                    */
static strands_status append_json(dynbuf *b, const json_t *v)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!n) return STRANDS_E_NOMEM;
    char *text = malloc(n);
    if (!text) return STRANDS_E_NOMEM;
    strands_status st =
        json_dumpb(v, text, n, JSON_COMPACT | JSON_ENCODE_ANY) == n
            ? dynbuf_append(b, text, n)
            : STRANDS_E_NOMEM;
    free(text);
    return st;
}

/* json_dump_callback's sink. jansson 2.14 ignores a failed write of an
 * object key and goes on, so a failure is made sticky here and checked
 * after the dump: a body with a hole is never sent.                   */
typedef struct dump_sink {
    dynbuf *b;
    int failed;
} dump_sink;

static int dump_to_dynbuf(const char *p, size_t n, void *user)
{
    dump_sink *d = user;
    if (!d->failed && dynbuf_append(d->b, p, n) != STRANDS_OK) d->failed = 1;
    return d->failed ? -1 : 0;
}

/* toolConfig.tools -> ,"tools":[{name, description, input_schema}, ...],
 * a cachePoint entry marking the tool before it.                       */
static strands_status append_tools(dynbuf *b, const json_t *tools,
                                   strands_error *err)
{
    strands_status st = dynbuf_puts(b, ",\"tools\":[");
    int open = 0;     /* a tool object is written but not yet closed */
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        if (st != STRANDS_OK) break;
        if (json_object_get(t, "cachePoint")) {
            if (open) {
                st = dynbuf_puts(b, ",\"cache_control\":{\"type\":"
                                    "\"ephemeral\"}}");
                open = 0;
            }
            continue;
        }
        const json_t *spec = json_object_get(t, "toolSpec");
        const json_t *name = json_object_get(spec, "name");
        const json_t *desc = json_object_get(spec, "description");
        const json_t *schema = json_object_get(
            json_object_get(spec, "inputSchema"), "json");
        if (!json_is_string(name))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "tool %zu has no toolSpec.name", i);
        if (open) st = dynbuf_puts(b, "},");
        else if (b->data[b->len - 1] != '[') st = dynbuf_puts(b, ",");
        if (st == STRANDS_OK) st = dynbuf_puts(b, "{\"name\":");
        if (st == STRANDS_OK) st = append_json(b, name);
        if (st == STRANDS_OK && json_is_string(desc) &&
            json_string_length(desc)) {
            st = dynbuf_puts(b, ",\"description\":");
            if (st == STRANDS_OK) st = append_json(b, desc);
        }
        if (st == STRANDS_OK) st = dynbuf_puts(b, ",\"input_schema\":");
        if (st == STRANDS_OK)
            st = json_is_object(schema)
                     ? append_json(b, schema)
                     : dynbuf_puts(b, "{\"type\":\"object\"}");
        open = 1;
    }
    if (st == STRANDS_OK && open) st = dynbuf_puts(b, "}");
    if (st == STRANDS_OK) st = dynbuf_puts(b, "]");
    return st == STRANDS_OK ? st : nomem(err);
}

static const char NOOP_TOOL[] =
    ",\"tools\":[{\"name\":\"noop\",\"description\":\"This is a placeholder "
    "tool that must be completely ignored.\",\"input_schema\":{\"type\":"
    "\"object\",\"properties\":{}}}]";

char *anthropic_build_body(const strands_model_request *req,
                           const char *model_id, const char *params,
                           size_t *len, strands_error *err)
{
    json_t *messages = NULL, *system = NULL;
    if (map_messages(req->messages, &messages, err) != STRANDS_OK)
        return NULL;
    if (req->system && map_system(req->system, &system, err) != STRANDS_OK) {
        json_decref(messages);
        return NULL;
    }
    json_t *body = json_pack("{s:s, s:i, s:b, s:o}", "model", model_id,
                             "max_tokens", req->max_tokens > 0
                                               ? req->max_tokens : 1,
                             "stream", 1, "messages", messages);
    int ok = body != NULL;
    if (ok && json_array_size(system))
        ok = !json_object_set(body, "system", system);
    json_decref(system);
    if (ok && req->tool_choice)
        ok = !json_object_set_new(body, "tool_choice",
                                  json_pack("{s:s, s:s}", "type", "tool",
                                            "name", req->tool_choice));
    dynbuf b;
    dynbuf_init(&b, SIZE_MAX);
    dump_sink sink = {&b, 0};
    strands_status st = ok && json_dump_callback(body, dump_to_dynbuf, &sink,
                                                 JSON_COMPACT) == 0 &&
                                !sink.failed
                            ? STRANDS_OK
                            : STRANDS_E_NOMEM;
    json_decref(body);
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        nomem(err);
        return NULL;
    }
    b.data[--b.len] = '\0'; /* reopen: drop '}' */
    if (req->tools && json_array_size(req->tools))
        st = append_tools(&b, req->tools, err);
    else if (converse_history_has_tools(req->messages) &&
             dynbuf_puts(&b, NOOP_TOOL) != STRANDS_OK)
        st = nomem(err);
    if (st == STRANDS_OK && params && *params &&
        (dynbuf_puts(&b, ",") != STRANDS_OK ||
         dynbuf_puts(&b, params) != STRANDS_OK))
        st = nomem(err);
    if (st == STRANDS_OK && dynbuf_puts(&b, "}") != STRANDS_OK)
        st = nomem(err);
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return NULL;
    }
    char *text = dynbuf_take(&b, len);
    if (!text) nomem(err);
    return text;
}

json_t *anthropic_build_request(const strands_model_request *req,
                                const char *model_id, const char *params,
                                strands_error *err)
{
    size_t len = 0;
    char *text = anthropic_build_body(req, model_id, params, &len, err);
    if (!text) return NULL;
    json_t *body = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    free(text);
    if (!body) nomem(err);
    return body;
}
