/* ConverseStream assembler (see converse_stream.h): event-stream messages
 * from es_decoder are dispatched by :message-type / :event-type, content
 * blocks are kept per contentBlockIndex and finalised at contentBlockStop,
 * and the assistant message is built at finish. Memory is bounded by a byte
 * budget and a block count.                                              */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/eventstream.h"
#include "core/buf.h"
#include "models/converse.h"
#include "models/converse_stream.h"
#include "net/base64.h"

#define CS_CODE "InvalidResponse"   /* err->code for protocol errors */

typedef enum cs_kind { CS_TEXT = 1, CS_TOOL, CS_REASONING } cs_kind;

/* One content block, keyed by its contentBlockIndex. */
typedef struct cs_block {
    int64_t index;
    cs_kind kind;
    int stopped;
    dynbuf text;       /* text, tool input JSON text or reasoning text */
    dynbuf signature;  /* reasoning signature */
    dynbuf redacted;   /* decoded redactedContent bytes */
    char *tool_id, *tool_name;
    json_t *final;          /* the finished content block; NULL if dropped */
} cs_block;

struct cs_assembler {
    es_decoder *dec;
    cs_callbacks cb;
    cs_block *blocks;
    size_t n_blocks, cap_blocks;
    size_t used, max_bytes, max_blocks;
    char *role;             /* from messageStart, NULL until then */
    int saw_stop, saw_metadata, sent, finished;
    char stop_reason[sizeof ((strands_model_response *)0)->stop_reason];
    strands_usage usage;
    int64_t latency_ms;
    strands_error error;    /* sticky: error.status != OK once failed */
};

/* ---- lifetime ------------------------------------------------------------ */

cs_assembler *cs_assembler_new(const cs_callbacks *cb)
{
    cs_assembler *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->dec = es_decoder_new();
    if (!a->dec) {
        free(a);
        return NULL;
    }
    if (cb) a->cb = *cb;
    a->max_bytes = CS_DEFAULT_MAX_BYTES;
    a->max_blocks = CS_DEFAULT_MAX_BLOCKS;
    strands_error_clear(&a->error);
    return a;
}

static void block_release(cs_block *b)
{
    dynbuf_cleanup(&b->text);
    dynbuf_cleanup(&b->signature);
    dynbuf_cleanup(&b->redacted);
    free(b->tool_id);
    free(b->tool_name);
    b->tool_id = b->tool_name = NULL;
}

void cs_assembler_free(cs_assembler *a)
{
    if (!a) return;
    for (size_t k = 0; k < a->n_blocks; k++) {
        block_release(&a->blocks[k]);
        json_decref(a->blocks[k].final);
    }
    free(a->blocks);
    free(a->role);
    es_decoder_free(a->dec);
    free(a);
}

void cs_assembler_set_limits(cs_assembler *a, size_t max_bytes,
                             size_t max_blocks)
{
    if (max_bytes) a->max_bytes = max_bytes;
    if (max_blocks) a->max_blocks = max_blocks;
}

int cs_assembler_sent_anything(const cs_assembler *a)
{
    return a->sent;
}

/* Reports one typed stream event (when the consumer wants them). */
static void emit(cs_assembler *a, strands_model_stream_type type,
                 int64_t index, const char *data, size_t len,
                 const char *tool_use_id, const char *tool_name)
{
    if (!a->cb.on_event) return;
    strands_model_stream_event ev = {type, index, data, len, tool_use_id,
                                     tool_name};
    a->cb.on_event(a->cb.user, &ev);
}

/* ---- errors and budget --------------------------------------------------- */

/* Records the sticky error; returns its status. */
__attribute__((format(printf, 4, 5)))
static strands_status fail(cs_assembler *a, strands_status st,
                           const char *code, const char *fmt, ...)
{
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return strands_error_set(&a->error, st, code, "%s", msg);
}

/* Charges n bytes against the message budget. */
static strands_status charge(cs_assembler *a, size_t n)
{
    if (n > a->max_bytes - a->used)
        return fail(a, STRANDS_E_TOO_LARGE, NULL,
                    "ConverseStream message exceeds the %zu-byte limit",
                    a->max_bytes);
    a->used += n;
    return STRANDS_OK;
}

/* Charges and appends; the buffers' own cap is the whole budget. */
static strands_status append(cs_assembler *a, dynbuf *b, const void *p,
                             size_t n)
{
    strands_status st = charge(a, n);
    if (st != STRANDS_OK) return st;
    if (!b->max) dynbuf_init(b, a->max_bytes);
    if (dynbuf_append(b, p, n) != STRANDS_OK)
        return fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
    return STRANDS_OK;
}

static char *dup_charged(cs_assembler *a, const char *s, size_t n)
{
    if (charge(a, n + 1) != STRANDS_OK) return NULL;
    char *d = malloc(n + 1);
    if (!d) {
        fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- base64 (redactedContent) ------------------------------------------- */

/* Decodes standard base64 (padding optional) and appends the bytes. */
static strands_status b64_append(cs_assembler *a, dynbuf *out,
                                 const char *s, size_t n)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = net_base64_decode(s, n, &bytes, &len);
    if (rc == -2) return fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
    if (rc != 0)
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "redactedContent is not valid base64");
    strands_status st = len ? append(a, out, bytes, len) : STRANDS_OK;
    free(bytes);
    return st;
}

/* Standard base64 with padding, as a new JSON string (NULL on OOM). */
static json_t *b64_json(const uint8_t *p, size_t n)
{
    size_t len = 0;
    char *s = net_base64_encode(p, n, &len);
    json_t *j = s ? json_stringn(s, len) : NULL;
    free(s);
    return j;
}

/* ---- blocks -------------------------------------------------------------- */

static cs_block *find_block(cs_assembler *a, int64_t index)
{
    for (size_t k = a->n_blocks; k > 0; k--)
        if (a->blocks[k - 1].index == index) return &a->blocks[k - 1];
    return NULL;
}

static cs_block *add_block(cs_assembler *a, int64_t index, cs_kind kind)
{
    if (a->n_blocks >= a->max_blocks) {
        fail(a, STRANDS_E_TOO_LARGE, NULL,
             "ConverseStream message has more than %zu content blocks",
             a->max_blocks);
        return NULL;
    }
    if (a->n_blocks == a->cap_blocks) {
        size_t cap = a->cap_blocks ? a->cap_blocks * 2 : 8;
        cs_block *nb = realloc(a->blocks, cap * sizeof *nb);
        if (!nb) {
            fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
            return NULL;
        }
        a->blocks = nb;
        a->cap_blocks = cap;
    }
    cs_block *b = &a->blocks[a->n_blocks++];
    memset(b, 0, sizeof *b);
    b->index = index;
    b->kind = kind;
    return b;
}

static const char *kind_name(cs_kind k)
{
    return k == CS_TEXT ? "text" : k == CS_TOOL ? "toolUse"
                                                : "reasoningContent";
}

/* The parsed tool input: a JSON object, or {} when the text is empty, not
 * JSON or not an object (e.g. cut off by max_tokens).                   */
static json_t *tool_input(const dynbuf *text)
{
    json_t *v = NULL;
    if (text->len)
        v = json_loadb(text->data, text->len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_object(v)) return v;
    json_decref(v);
    return json_object();
}

static json_t *final_tool(cs_block *b)
{
    json_t *input = tool_input(&b->text);
    if (!input) return NULL;
    return json_pack("{s:{s:s, s:s, s:o}}", "toolUse", "toolUseId",
                     b->tool_id, "name", b->tool_name, "input", input);
}

static json_t *final_reasoning(cs_block *b)
{
    if (b->text.len || b->signature.len) {
        json_t *rt = json_object();
        if (!rt ||
            json_object_set_new(rt, "text", json_stringn(dynbuf_str(
                                                     &b->text),
                                                 b->text.len)) ||
            (b->signature.len &&
             json_object_set_new(rt, "signature",
                                 json_stringn(b->signature.data,
                                              b->signature.len)))) {
            json_decref(rt);
            return NULL;
        }
        return json_pack("{s:{s:o}}", "reasoningContent", "reasoningText",
                         rt);
    }
    json_t *red = b64_json((const uint8_t *)b->redacted.data,
                           b->redacted.len);
    if (!red) return NULL;
    return json_pack("{s:{s:o}}", "reasoningContent", "redactedContent",
                     red);
}

/* Builds b->final (NULL for an empty block, which is dropped) and frees the
 * block's buffers; reports a toolUse block to on_tool_use.              */
static strands_status stop_block(cs_assembler *a, cs_block *b)
{
    b->stopped = 1;
    int empty = 0;
    if (b->kind == CS_TEXT) {
        empty = b->text.len == 0;
        if (!empty)
            b->final = json_pack("{s:s%}", "text", b->text.data, b->text.len);
    } else if (b->kind == CS_TOOL) {
        b->final = final_tool(b);
    } else {
        empty = !b->text.len && !b->signature.len && !b->redacted.len;
        if (!empty) b->final = final_reasoning(b);
    }
    block_release(b);
    if (!empty && !b->final)
        return fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
    if (b->kind == CS_TOOL) {
        a->sent = 1;
        if (a->cb.on_tool_use)
            a->cb.on_tool_use(a->cb.user, json_object_get(b->final,
                                                          "toolUse"));
    }
    return STRANDS_OK;
}

/* ---- events -------------------------------------------------------------- */

/* Reads the required contentBlockIndex (an integer >= 0). */
static strands_status block_index(cs_assembler *a, const json_t *ev,
                                  const char *event, int64_t *out)
{
    json_t *v = json_object_get(ev, "contentBlockIndex");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "%s without a valid contentBlockIndex", event);
    *out = (int64_t)json_integer_value(v);
    return STRANDS_OK;
}

static strands_status on_message_start(cs_assembler *a, const json_t *ev)
{
    json_t *role = json_object_get(ev, "role");
    if (!json_is_string(role) || a->role) return STRANDS_OK;
    a->role = dup_charged(a, json_string_value(role),
                          json_string_length(role));
    return a->role ? STRANDS_OK : a->error.status;
}

static strands_status on_block_start(cs_assembler *a, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(a, ev, "contentBlockStart", &index) != STRANDS_OK)
        return a->error.status;
    json_t *start = json_object_get(ev, "start");
    if (!json_is_object(start))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockStart %lld without start", (long long)index);
    json_t *tool = json_object_get(start, "toolUse");
    if (!tool) {                    /* other start kinds: nothing to keep */
        emit(a, STRANDS_MODEL_STREAM_BLOCK_START, index, NULL, 0, NULL, NULL);
        return STRANDS_OK;
    }
    json_t *id = json_object_get(tool, "toolUseId");
    json_t *name = json_object_get(tool, "name");
    if (!json_is_string(id) || !json_is_string(name))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockStart %lld: toolUse lacks toolUseId or name",
                    (long long)index);
    if (find_block(a, index))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockStart for block %lld, which already exists",
                    (long long)index);
    cs_block *b = add_block(a, index, CS_TOOL);
    if (!b) return a->error.status;
    b->tool_id = dup_charged(a, json_string_value(id), json_string_length(id));
    if (!b->tool_id) return a->error.status;
    b->tool_name = dup_charged(a, json_string_value(name),
                               json_string_length(name));
    if (!b->tool_name) return a->error.status;
    emit(a, STRANDS_MODEL_STREAM_BLOCK_START, index, NULL, 0, b->tool_id,
         b->tool_name);
    return STRANDS_OK;
}

/* The block a delta of `kind` goes to: existing (same kind, not stopped)
 * or new (text and reasoning blocks start with their first delta).      */
static cs_block *delta_block(cs_assembler *a, int64_t index, cs_kind kind)
{
    cs_block *b = find_block(a, index);
    if (!b) {
        if (kind == CS_TOOL) {
            fail(a, STRANDS_E_PARSE, CS_CODE,
                 "toolUse delta for block %lld without contentBlockStart",
                 (long long)index);
            return NULL;
        }
        return add_block(a, index, kind);
    }
    if (b->stopped) {
        fail(a, STRANDS_E_PARSE, CS_CODE,
             "contentBlockDelta for block %lld after its contentBlockStop",
             (long long)index);
        return NULL;
    }
    if (b->kind != kind) {
        fail(a, STRANDS_E_PARSE, CS_CODE,
             "%s delta for %s block %lld", kind_name(kind),
             kind_name(b->kind), (long long)index);
        return NULL;
    }
    return b;
}

/* Appends the string member `key` of obj (when present) to buf, then
 * reports it as a stream event of `type` (the base64 text as received
 * for redacted content).                                                */
static strands_status append_member(cs_assembler *a, dynbuf *buf,
                                    const json_t *obj, const char *key,
                                    int base64, const cs_block *b,
                                    strands_model_stream_type type)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return STRANDS_OK;
    if (!json_is_string(v))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockDelta: %s is not a string", key);
    strands_status st =
        base64 ? b64_append(a, buf, json_string_value(v),
                            json_string_length(v))
               : append(a, buf, json_string_value(v), json_string_length(v));
    if (st == STRANDS_OK && json_string_length(v))
        emit(a, type, b->index, json_string_value(v), json_string_length(v),
             b->tool_id, b->tool_name);
    return st;
}

static strands_status delta_text(cs_assembler *a, int64_t index,
                                 const json_t *text)
{
    if (!json_is_string(text))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockDelta: text is not a string");
    cs_block *b = delta_block(a, index, CS_TEXT);
    if (!b) return a->error.status;
    size_t len = json_string_length(text);
    strands_status st = append(a, &b->text, json_string_value(text), len);
    if (st != STRANDS_OK || len == 0) return st;
    a->sent = 1;
    if (a->cb.on_text) a->cb.on_text(a->cb.user, json_string_value(text), len);
    emit(a, STRANDS_MODEL_STREAM_TEXT, index, json_string_value(text), len,
         NULL, NULL);
    return STRANDS_OK;
}

static strands_status on_block_delta(cs_assembler *a, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(a, ev, "contentBlockDelta", &index) != STRANDS_OK)
        return a->error.status;
    json_t *delta = json_object_get(ev, "delta");
    if (!json_is_object(delta))
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "contentBlockDelta %lld without delta", (long long)index);
    json_t *v;
    if ((v = json_object_get(delta, "text")))
        return delta_text(a, index, v);
    if ((v = json_object_get(delta, "toolUse"))) {
        cs_block *b = delta_block(a, index, CS_TOOL);
        return b ? append_member(a, &b->text, v, "input", 0, b,
                                 STRANDS_MODEL_STREAM_TOOL_INPUT)
                 : a->error.status;
    }
    if ((v = json_object_get(delta, "reasoningContent"))) {
        cs_block *b = delta_block(a, index, CS_REASONING);
        if (!b) return a->error.status;
        if (append_member(a, &b->text, v, "text", 0, b,
                          STRANDS_MODEL_STREAM_REASONING_TEXT) ||
            append_member(a, &b->signature, v, "signature", 0, b,
                          STRANDS_MODEL_STREAM_REASONING_SIGNATURE) ||
            append_member(a, &b->redacted, v, "redactedContent", 1, b,
                          STRANDS_MODEL_STREAM_REASONING_REDACTED))
            return a->error.status;
        return STRANDS_OK;
    }
    return STRANDS_OK;   /* citation, toolResult, image, unknown: ignored */
}

static strands_status on_block_stop(cs_assembler *a, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(a, ev, "contentBlockStop", &index) != STRANDS_OK)
        return a->error.status;
    cs_block *b = find_block(a, index);
    if (!b || b->stopped) return STRANDS_OK;  /* empty or unknown block */
    /* The id and name are released by stop_block: report first. */
    emit(a, STRANDS_MODEL_STREAM_BLOCK_STOP, index, NULL, 0, b->tool_id,
         b->tool_name);
    return stop_block(a, b);
}

static strands_status on_message_stop(cs_assembler *a, const json_t *ev)
{
    const char *reason = json_string_value(json_object_get(ev, "stopReason"));
    if (!reason)
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "messageStop without stopReason");
    snprintf(a->stop_reason, sizeof a->stop_reason, "%s", reason);
    a->saw_stop = 1;
    return STRANDS_OK;
}

static strands_status on_metadata(cs_assembler *a, const json_t *ev)
{
    converse_parse_usage(json_object_get(ev, "usage"), &a->usage);
    json_t *lat = json_object_get(json_object_get(ev, "metrics"),
                                  "latencyMs");
    a->latency_ms = json_is_integer(lat) ? (int64_t)json_integer_value(lat)
                                         : 0;
    a->saw_metadata = 1;
    return STRANDS_OK;
}

typedef strands_status event_fn(cs_assembler *a, const json_t *ev);

static const struct {
    const char *name;
    event_fn *fn;
} events[] = {
    {"messageStart", on_message_start},
    {"contentBlockStart", on_block_start},
    {"contentBlockDelta", on_block_delta},
    {"contentBlockStop", on_block_stop},
    {"messageStop", on_message_stop},
    {"metadata", on_metadata},
};

static strands_status apply_event(cs_assembler *a, const es_message *m)
{
    const es_header *type = es_message_header(m, ":event-type");
    if (!type || type->type != ES_STRING)
        return fail(a, STRANDS_E_PARSE, CS_CODE,
                    "event message without a :event-type string header");
    for (size_t k = 0; k < sizeof events / sizeof events[0]; k++) {
        if (!es_header_str_eq(type, events[k].name)) continue;
        json_error_t jerr;
        json_t *ev = json_loadb(m->payload ? (const char *)m->payload : "",
                                m->payload_len, JSON_ALLOW_NUL, &jerr);
        if (!ev)
            return fail(a, STRANDS_E_PARSE, CS_CODE,
                        "%s payload is not valid JSON: %s", events[k].name,
                        jerr.text);
        if (!json_is_object(ev)) {
            json_decref(ev);
            return fail(a, STRANDS_E_PARSE, CS_CODE,
                        "%s payload is not a JSON object", events[k].name);
        }
        strands_status st = events[k].fn(a, ev);
        json_decref(ev);
        return st;
    }
    return STRANDS_OK;   /* unknown event types are ignored */
}

/* Copies a header string into code with its first letter capitalised. */
static void set_code(char *code, size_t size, const es_header *h,
                     const char *fallback)
{
    if (h && h->type == ES_STRING && h->len > 0)
        snprintf(code, size, "%.*s", (int)h->len, (const char *)h->bytes);
    else
        snprintf(code, size, "%s", fallback);
    if (code[0] >= 'a' && code[0] <= 'z') code[0] = (char)(code[0] - 32);
}

/* An exception message: the payload's "message" (or "Message"), else the
 * raw payload, else the code.                                           */
static strands_status apply_exception(cs_assembler *a, const es_message *m)
{
    char code[STRANDS_ERROR_CODE_MAX];
    set_code(code, sizeof code, es_message_header(m, ":exception-type"),
             "UnknownException");
    json_t *body = m->payload_len
                       ? json_loadb((const char *)m->payload, m->payload_len,
                                    0, NULL)
                       : NULL;
    const char *msg = json_string_value(json_object_get(body, "message"));
    if (!msg) msg = json_string_value(json_object_get(body, "Message"));
    if (msg)
        fail(a, STRANDS_E_UPSTREAM, code, "%s", msg);
    else if (m->payload_len)
        fail(a, STRANDS_E_UPSTREAM, code, "%.*s",
             m->payload_len > 400 ? 400 : (int)m->payload_len,
             (const char *)m->payload);
    else
        fail(a, STRANDS_E_UPSTREAM, code, "%s", code);
    json_decref(body);
    return STRANDS_E_UPSTREAM;
}

static strands_status apply_error(cs_assembler *a, const es_message *m)
{
    char code[STRANDS_ERROR_CODE_MAX];
    set_code(code, sizeof code, es_message_header(m, ":error-code"),
             "UnknownError");
    const es_header *h = es_message_header(m, ":error-message");
    if (h && h->type == ES_STRING && h->len > 0)
        return fail(a, STRANDS_E_UPSTREAM, code, "%.*s", (int)h->len,
                    (const char *)h->bytes);
    return fail(a, STRANDS_E_UPSTREAM, code, "%s", code);
}

/* es_decoder callback: applies one message; non-zero stops decoding. */
static int on_es_message(void *user, const es_message *m)
{
    cs_assembler *a = user;
    const es_header *mt = es_message_header(m, ":message-type");
    strands_status st;
    if (es_header_str_eq(mt, "event"))
        st = apply_event(a, m);
    else if (es_header_str_eq(mt, "exception"))
        st = apply_exception(a, m);
    else if (es_header_str_eq(mt, "error"))
        st = apply_error(a, m);
    else if (mt && mt->type == ES_STRING)
        st = fail(a, STRANDS_E_PARSE, CS_CODE, "unknown :message-type %.*s",
                  (int)mt->len, (const char *)mt->bytes);
    else
        st = fail(a, STRANDS_E_PARSE, CS_CODE,
                  "message without a :message-type string header");
    return st != STRANDS_OK;
}

/* ---- feed / finish ------------------------------------------------------- */

static strands_status sticky(const cs_assembler *a, strands_error *err)
{
    if (err) *err = a->error;
    return a->error.status;
}

strands_status cs_assembler_feed(cs_assembler *a, const uint8_t *p, size_t n,
                                 strands_error *err)
{
    if (a->error.status != STRANDS_OK) return sticky(a, err);
    if (a->finished)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "cs_assembler_feed after finish");
    strands_error derr;
    strands_error_clear(&derr);
    strands_status st = es_decoder_feed(a->dec, p, n, on_es_message, a,
                                        &derr);
    if (st == STRANDS_OK) return STRANDS_OK;
    if (a->error.status == STRANDS_OK) a->error = derr;  /* framing error */
    return sticky(a, err);
}

static int by_index(const void *x, const void *y)
{
    int64_t i = ((const cs_block *)x)->index, j = ((const cs_block *)y)->index;
    return (i > j) - (i < j);
}

/* Builds {"role","content":[...]} from the finished blocks. */
static json_t *build_message(cs_assembler *a)
{
    json_t *content = json_array();
    if (!content) return NULL;
    for (size_t k = 0; k < a->n_blocks; k++) {
        if (a->blocks[k].final &&
            json_array_append(content, a->blocks[k].final)) {
            json_decref(content);
            return NULL;
        }
    }
    return json_pack("{s:s, s:o}", "role", a->role ? a->role : "assistant",
                     "content", content);
}

strands_status cs_assembler_finish(cs_assembler *a, strands_model_response *out,
                                   strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (a->error.status != STRANDS_OK) return sticky(a, err);
    if (a->finished)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "cs_assembler_finish called twice");
    a->finished = 1;
    if (!a->saw_stop || !a->saw_metadata) {
        fail(a, STRANDS_E_PARSE, CS_CODE,
             "stream ended before messageStop/metadata");
        return sticky(a, err);
    }
    if (!es_decoder_idle(a->dec)) {
        fail(a, STRANDS_E_PARSE, CS_CODE,
             "stream ended inside an event-stream message");
        return sticky(a, err);
    }
    for (size_t k = 0; k < a->n_blocks; k++)
        if (!a->blocks[k].stopped &&
            stop_block(a, &a->blocks[k]) != STRANDS_OK)
            return sticky(a, err);
    if (a->n_blocks > 1)
        qsort(a->blocks, a->n_blocks, sizeof *a->blocks, by_index);
    out->message = build_message(a);
    if (!out->message) {
        fail(a, STRANDS_E_NOMEM, NULL, "out of memory");
        return sticky(a, err);
    }
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", a->stop_reason);
    out->stop = converse_stop_reason(a->stop_reason);
    out->usage = a->usage;
    out->latency_ms = a->latency_ms;
    return STRANDS_OK;
}
