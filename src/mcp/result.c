/* MCP tools/call results -> Converse toolResult content blocks (see
 * mcp/result.h). Each MCP content item becomes exactly one block, in
 * order; what Converse cannot carry (audio, unknown types, bad base64,
 * media over Bedrock's size limits) becomes a short text note, so nothing
 * is dropped without a trace. Notes quote URIs and MIME types only as
 * bounded printable text.                                               */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/text.h"
#include "mcp/result.h"
#include "net/base64.h"

/* Bedrock's limits for one image / one document (decoded bytes). */
#define IMAGE_MAX_BYTES 3750000u
#define DOCUMENT_MAX_BYTES 4500000u
#define NAME_MAX_LEN 64          /* document name, bytes */
#define SHOW_MAX 200             /* bytes of a URI or MIME type in a note */
#define TEXT_MAX ((size_t)1 << 30)

typedef struct conv {
    json_t *out;        /* the content array being built */
    json_t *names;      /* document names used so far (a set) */
} conv;

/* ---- small helpers ----------------------------------------------------- */

/* The largest n' <= n such that s[0..n') ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) return n;          /* no lead byte found: leave it */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3
                : lead >= 0xC0 ? 2 : 1;
    return back + 1 >= want ? n : i - 1;
}

/* Appends s for a note: printable ASCII as is, other bytes '?', at most
 * SHOW_MAX bytes then "...".                                         */
static strands_status put_shown(dynbuf *b, const char *s)
{
    char tmp[SHOW_MAX + 8];
    size_t n = core_text_shown(tmp, sizeof tmp, s, SHOW_MAX, NULL);
    return dynbuf_append(b, tmp, n);
}

/* Appends {"text": s} (s is stolen, may be NULL after an OOM). */
static strands_status add_text_json(conv *c, json_t *s)
{
    json_t *blk = s ? json_object() : NULL;
    if (!blk) {
        json_decref(s);
        return STRANDS_E_NOMEM;
    }
    if (json_object_set_new(blk, "text", s)) {
        json_decref(blk);
        return STRANDS_E_NOMEM;
    }
    return json_array_append_new(c->out, blk) ? STRANDS_E_NOMEM : STRANDS_OK;
}

/* Appends {"text": <b>} and resets b. */
static strands_status add_text_buf(conv *c, dynbuf *b)
{
    json_t *s = json_stringn(dynbuf_str(b), b->len);
    dynbuf_cleanup(b);
    return add_text_json(c, s);
}

/* Appends a text note "[<kind>[ (<mime>)][, N bytes], <tail>]". */
static strands_status add_note(conv *c, const char *kind, const char *mime,
                               long long bytes, const char *tail)
{
    dynbuf b;
    dynbuf_init(&b, TEXT_MAX);
    strands_status st = dynbuf_printf(&b, "[%s", kind);
    if (st == STRANDS_OK && mime && *mime) {
        st = dynbuf_puts(&b, " (");
        if (st == STRANDS_OK) st = put_shown(&b, mime);
        if (st == STRANDS_OK) st = dynbuf_puts(&b, ")");
    }
    if (st == STRANDS_OK && bytes >= 0)
        st = dynbuf_printf(&b, ", %lld bytes", bytes);
    if (st == STRANDS_OK) st = dynbuf_printf(&b, ", %s]", tail);
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return st;
    }
    return add_text_buf(c, &b);
}

/* Compares a MIME type (parameters and case ignored) with want. */
static int mime_is(const char *mime, const char *want)
{
    size_t n = strcspn(mime, "; \t");
    return strlen(want) == n && !strncasecmp(mime, want, n);
}

static const char *image_format(const char *mime)
{
    static const char *const map[][2] = {
        {"image/png", "png"},   {"image/jpeg", "jpeg"}, {"image/jpg", "jpeg"},
        {"image/gif", "gif"},   {"image/webp", "webp"}};
    if (!mime) return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (mime_is(mime, map[i][0])) return map[i][1];
    return NULL;
}

/* The Converse document format for a MIME type, or by the URI's file
 * extension when the type is missing or generic.                       */
static const char *document_format(const char *mime, const char *uri)
{
    static const char *const by_mime[][2] = {
        {"application/pdf", "pdf"},
        {"text/csv", "csv"},
        {"application/msword", "doc"},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml."
         "document", "docx"},
        {"application/vnd.ms-excel", "xls"},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "xlsx"},
        {"text/html", "html"},
        {"text/plain", "txt"},
        {"text/markdown", "md"},
        {"text/x-markdown", "md"}};
    static const char *const by_ext[][2] = {
        {"pdf", "pdf"},   {"csv", "csv"},   {"doc", "doc"},
        {"docx", "docx"}, {"xls", "xls"},   {"xlsx", "xlsx"},
        {"html", "html"}, {"htm", "html"},  {"txt", "txt"},
        {"md", "md"},     {"markdown", "md"}};
    if (mime && *mime && !mime_is(mime, "application/octet-stream")) {
        for (size_t i = 0; i < sizeof by_mime / sizeof by_mime[0]; i++)
            if (mime_is(mime, by_mime[i][0])) return by_mime[i][1];
        return NULL;
    }
    if (!uri) return NULL;
    size_t end = strcspn(uri, "?#");
    size_t dot = end, slash = 0;
    for (size_t i = 0; i < end; i++) {
        if (uri[i] == '/') slash = i + 1;
        if (uri[i] == '.') dot = i;
    }
    if (dot == end || dot < slash) return NULL;
    size_t n = end - dot - 1;
    for (size_t i = 0; i < sizeof by_ext / sizeof by_ext[0]; i++)
        if (strlen(by_ext[i][0]) == n &&
            !strncasecmp(uri + dot + 1, by_ext[i][0], n))
            return by_ext[i][1];
    return NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* A Converse document name from the URI's last path segment, without
 * its extension: %XX decoded; letters, digits, '-', '(', ')', '[' and
 * ']' kept; '_', '.' and whitespace become one space; all else dropped;
 * at most NAME_MAX_LEN bytes; "document" when nothing is left.        */
static void document_name(const char *uri, char out[NAME_MAX_LEN + 1])
{
    size_t end = uri ? strcspn(uri, "?#") : 0, start = 0, o = 0;
    for (size_t i = 0; i < end; i++)
        if (uri[i] == '/') start = i + 1;
    size_t stop = end;
    for (size_t i = start; i < end; i++)
        if (uri[i] == '.') stop = i;
    if (stop == start) stop = end;   /* ".hidden": keep it whole */
    int space = 0;
    for (size_t i = start; i < stop && o < NAME_MAX_LEN; i++) {
        char ch = uri[i];
        if (ch == '%' && i + 2 < stop && hexval(uri[i + 1]) >= 0 &&
            hexval(uri[i + 2]) >= 0) {
            ch = (char)(hexval(uri[i + 1]) * 16 + hexval(uri[i + 2]));
            i += 2;
        }
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '(' ||
            ch == ')' || ch == '[' || ch == ']') {
            if (space && o > 0 && o + 1 < NAME_MAX_LEN) out[o++] = ' ';
            space = 0;
            out[o++] = ch;
        } else if (ch == '_' || ch == '.' || ch == ' ' || ch == '\t') {
            space = 1;
        }
    }
    out[o] = '\0';
    if (o == 0) snprintf(out, NAME_MAX_LEN + 1, "document");
}

/* Makes name unique among the result's documents (" (2)", " (3)"...)
 * and records it. 0 ok, -1 OOM.                                       */
static int unique_name(conv *c, char name[NAME_MAX_LEN + 1])
{
    if (!c->names && !(c->names = json_object())) return -1;
    char base[NAME_MAX_LEN + 1];
    memcpy(base, name, NAME_MAX_LEN + 1);
    for (unsigned k = 2; json_object_get(c->names, name); k++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, " (%u)", k);
        size_t bl = strlen(base);
        if (bl + (size_t)sl > NAME_MAX_LEN) bl = NAME_MAX_LEN - (size_t)sl;
        while (bl > 0 && base[bl - 1] == ' ') bl--;
        memcpy(name, base, bl);
        memcpy(name + bl, suffix, (size_t)sl + 1);
    }
    return json_object_set_new(c->names, name, json_true()) ? -1 : 0;
}

/* {"<key>": {"format", ["name",] "source": {"bytes": data}}} */
static strands_status add_media(conv *c, const char *key, const char *format,
                                const char *name, const char *data)
{
    json_t *inner = json_pack("{s:s, s:{s:s}}", "format", format, "source",
                              "bytes", data);
    if (inner && name &&
        json_object_set_new(inner, "name", json_string(name))) {
        json_decref(inner);
        inner = NULL;
    }
    json_t *blk = json_object();
    if (!inner || !blk || json_object_set_new(blk, key, inner)) {
        if (!blk) json_decref(inner);
        json_decref(blk);
        return STRANDS_E_NOMEM;
    }
    if (json_array_append_new(c->out, blk)) return STRANDS_E_NOMEM;
    return STRANDS_OK;
}

/* ---- one content item per type -------------------------------------- */

/* image / audio: {"data": base64, "mimeType"}. */
static strands_status add_image_or_audio(conv *c, const json_t *item,
                                         const char *type)
{
    const char *mime = json_string_value(json_object_get(item, "mimeType"));
    const json_t *d = json_object_get(item, "data");
    size_t bytes = 0;
    char kind[32];
    snprintf(kind, sizeof kind, "%s content", type);
    if (!json_is_string(d) ||
        !net_base64_check(json_string_value(d), json_string_length(d),
                          &bytes))
        return add_note(c, kind, mime, -1,
                        "its data is not valid base64, not shown");
    const char *format = !strcmp(type, "image") ? image_format(mime) : NULL;
    if (!format)
        return add_note(c, kind, mime, (long long)bytes, "not shown");
    if (bytes > IMAGE_MAX_BYTES)
        return add_note(c, kind, mime, (long long)bytes,
                        "over Bedrock's 3.75 MB image limit, not shown");
    return add_media(c, "image", format, NULL, json_string_value(d));
}

/* resource: {"resource": {"uri", "mimeType"?, "text" | "blob"}}. */
static strands_status add_resource(conv *c, const json_t *item)
{
    const json_t *r = json_object_get(item, "resource");
    if (!json_is_object(r))
        return add_note(c, "resource content", NULL, -1,
                        "without a resource object, not shown");
    const char *uri = json_string_value(json_object_get(r, "uri"));
    const char *mime = json_string_value(json_object_get(r, "mimeType"));
    const json_t *text = json_object_get(r, "text");
    const json_t *blob = json_object_get(r, "blob");
    dynbuf b;
    dynbuf_init(&b, TEXT_MAX);
    strands_status st = STRANDS_OK;
    if (json_is_string(text)) {
        if (uri) {
            st = dynbuf_puts(&b, "[resource ");
            if (st == STRANDS_OK) st = put_shown(&b, uri);
            if (st == STRANDS_OK) st = dynbuf_puts(&b, "]\n");
        }
        if (st == STRANDS_OK)
            st = dynbuf_append(&b, json_string_value(text),
                               json_string_length(text));
        if (st != STRANDS_OK) {
            dynbuf_cleanup(&b);
            return st;
        }
        return add_text_buf(c, &b);
    }
    if (uri) {
        st = dynbuf_puts(&b, "resource ");
        if (st == STRANDS_OK) st = put_shown(&b, uri);
    } else {
        st = dynbuf_puts(&b, "resource");
    }
    char *kind = st == STRANDS_OK ? dynbuf_take(&b, NULL) : NULL;
    dynbuf_cleanup(&b);
    if (!kind) return STRANDS_E_NOMEM;
    size_t bytes = 0;
    if (!json_is_string(blob)) {
        st = add_note(c, kind, mime, -1, "with neither text nor blob");
    } else if (!net_base64_check(json_string_value(blob),
                                 json_string_length(blob), &bytes)) {
        st = add_note(c, kind, mime, -1,
                      "its blob is not valid base64, not shown");
    } else {
        const char *img = image_format(mime);
        const char *doc = img ? NULL : document_format(mime, uri);
        if (img && bytes > IMAGE_MAX_BYTES) {
            st = add_note(c, kind, mime, (long long)bytes,
                          "over Bedrock's 3.75 MB image limit, not shown");
        } else if (img) {
            st = add_media(c, "image", img, NULL, json_string_value(blob));
        } else if (doc && bytes > DOCUMENT_MAX_BYTES) {
            st = add_note(c, kind, mime, (long long)bytes,
                          "over Bedrock's 4.5 MB document limit, not shown");
        } else if (doc) {
            char name[NAME_MAX_LEN + 1];
            document_name(uri, name);
            st = unique_name(c, name) ? STRANDS_E_NOMEM
                                      : add_media(c, "document", doc, name,
                                                  json_string_value(blob));
        } else {
            st = add_note(c, kind, mime, (long long)bytes,
                          "binary data, not shown");
        }
    }
    free(kind);
    return st;
}

/* resource_link: {"uri", "name", "title"?, "description"?, "mimeType"?} */
static strands_status add_resource_link(conv *c, const json_t *item)
{
    const char *uri = json_string_value(json_object_get(item, "uri"));
    const char *name = json_string_value(json_object_get(item, "name"));
    const char *mime = json_string_value(json_object_get(item, "mimeType"));
    const json_t *desc = json_object_get(item, "description");
    dynbuf b;
    dynbuf_init(&b, TEXT_MAX);
    strands_status st = dynbuf_puts(&b, "resource: ");
    if (st == STRANDS_OK) st = put_shown(&b, uri ? uri : "(no uri)");
    if (st == STRANDS_OK && (name || mime)) {
        st = dynbuf_puts(&b, " (");
        if (st == STRANDS_OK && name) st = dynbuf_puts(&b, "name: ");
        if (st == STRANDS_OK && name) st = put_shown(&b, name);
        if (st == STRANDS_OK && name && mime) st = dynbuf_puts(&b, ", ");
        if (st == STRANDS_OK && mime) st = dynbuf_puts(&b, "type: ");
        if (st == STRANDS_OK && mime) st = put_shown(&b, mime);
        if (st == STRANDS_OK) st = dynbuf_puts(&b, ")");
    }
    if (st == STRANDS_OK && json_is_string(desc) && json_string_length(desc)) {
        st = dynbuf_puts(&b, "\n");
        if (st == STRANDS_OK)
            st = dynbuf_append(&b, json_string_value(desc),
                               json_string_length(desc));
    }
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return st;
    }
    return add_text_buf(c, &b);
}

static strands_status add_item(conv *c, const json_t *item, size_t i)
{
    char kind[64];
    if (!json_is_object(item)) {
        snprintf(kind, sizeof kind, "content item %zu", i);
        return add_note(c, kind, NULL, -1, "not an object, not shown");
    }
    const char *type = json_string_value(json_object_get(item, "type"));
    if (!type) {
        snprintf(kind, sizeof kind, "content item %zu", i);
        return add_note(c, kind, NULL, -1, "without a type, not shown");
    }
    if (!strcmp(type, "text")) {
        const json_t *t = json_object_get(item, "text");
        if (!json_is_string(t))
            return add_note(c, "text content", NULL, -1,
                            "without a text string, not shown");
        return add_text_json(c, json_stringn(json_string_value(t),
                                             json_string_length(t)));
    }
    if (!strcmp(type, "image") || !strcmp(type, "audio"))
        return add_image_or_audio(c, item, type);
    if (!strcmp(type, "resource")) return add_resource(c, item);
    if (!strcmp(type, "resource_link")) return add_resource_link(c, item);
    dynbuf b;
    dynbuf_init(&b, TEXT_MAX);
    strands_status st = dynbuf_puts(&b, "content of type '");
    if (st == STRANDS_OK) st = put_shown(&b, type);
    if (st == STRANDS_OK) st = dynbuf_puts(&b, "'");
    if (st != STRANDS_OK) {
        dynbuf_cleanup(&b);
        return st;
    }
    st = add_note(c, dynbuf_str(&b), NULL, -1, "not supported, not shown");
    dynbuf_cleanup(&b);
    return st;
}

strands_status mcp_result_to_content(const json_t *result,
                                     json_t **content_out, int *is_error,
                                     strands_error *err)
{
    *content_out = NULL;
    *is_error = 0;
    if (!json_is_object(result))
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "MCP tools/call result is not an object");
    const json_t *content = json_object_get(result, "content");
    if (content && !json_is_array(content))
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "MCP tools/call result: \"content\" is not "
                                 "an array");
    conv c = {json_array(), NULL};
    strands_status st = c.out ? STRANDS_OK : STRANDS_E_NOMEM;
    for (size_t i = 0; st == STRANDS_OK && i < json_array_size(content); i++)
        st = add_item(&c, json_array_get(content, i), i);
    const json_t *sc = json_object_get(result, "structuredContent");
    if (st == STRANDS_OK && sc && !json_is_null(sc)) {
        json_t *copy = json_deep_copy(sc);
        json_t *blk = json_object();
        if (!copy || !blk || json_object_set_new(blk, "json", copy)) {
            if (!blk) json_decref(copy);
            json_decref(blk);
            st = STRANDS_E_NOMEM;
        } else if (json_array_append_new(c.out, blk)) {
            st = STRANDS_E_NOMEM;
        }
    }
    if (st == STRANDS_OK && json_array_size(c.out) == 0) {
        st = add_text_json(&c, json_string(""));
    }
    json_decref(c.names);
    if (st != STRANDS_OK) {
        json_decref(c.out);
        return strands_error_set(err, st, NULL,
                                 "MCP tools/call result: %s",
                                 strands_strerror(st));
    }
    *is_error = json_is_true(json_object_get(result, "isError"));
    *content_out = c.out;
    return STRANDS_OK;
}

/* ---- error text --------------------------------------------------------- */

typedef struct tbuf {
    char *out;
    size_t cap, len;
    int full;
} tbuf;

static void tput(tbuf *t, const char *s, size_t n)
{
    if (t->full) return;
    size_t room = t->cap - 1 - t->len;
    if (n > room) {
        n = utf8_cut(s, room);
        t->full = 1;
    }
    memcpy(t->out + t->len, s, n);
    t->len += n;
    t->out[t->len] = '\0';
}

void mcp_result_error_text(const json_t *content, char *out, size_t cap)
{
    if (!out || cap == 0) return;
    out[0] = '\0';
    tbuf t = {out, cap, 0, 0};
    for (size_t i = 0; i < json_array_size(content) && !t.full; i++) {
        const json_t *b = json_array_get(content, i);
        const json_t *v;
        if (t.len) tput(&t, "\n", 1);
        if ((v = json_object_get(b, "text")) && json_is_string(v)) {
            tput(&t, json_string_value(v), json_string_length(v));
        } else if ((v = json_object_get(b, "document"))) {
            const char *name = json_string_value(json_object_get(v, "name"));
            tput(&t, "[document", 9);
            if (name) {
                tput(&t, " ", 1);
                tput(&t, name, strlen(name));
            }
            tput(&t, "]", 1);
        } else if (json_object_get(b, "image")) {
            tput(&t, "[image]", 7);
        } else if ((v = json_object_get(b, "json"))) {
            tput(&t, "[json] ", 7);
            char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (dump) tput(&t, dump, strlen(dump));
            free(dump);
        } else {
            tput(&t, "[content]", 9);
        }
    }
}
