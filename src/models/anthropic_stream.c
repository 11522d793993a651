/* Anthropic Messages stream assembler (see anthropic.h): SSE events from
 * net/sse_decoder are dispatched by their JSON "type"; content blocks are
 * kept per index in Messages terms and converted to Converse blocks
 * (anthropic_block_to_converse) when they stop; the assistant message is
 * built at finish. Memory is bounded by a byte budget and a block count. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "models/anthropic.h"
#include "net/base64.h"
#include "net/sse_decoder.h"

typedef enum blk_kind {
    K_TEXT = 1, K_TOOL, K_THINKING, K_REDACTED,
    K_OTHER            /* a block type we do not use: deltas ignored */
} blk_kind;

typedef struct blk {
    int64_t index;
    blk_kind kind;
    int stopped, announced;
    dynbuf text;       /* text, tool input JSON text, thinking, or the
                          redacted data */
    dynbuf sig;        /* thinking signature */
    char *id, *name;   /* tool_use */
    json_t *start_input; /* a non-empty input given at content_block_start */
    json_t *final;     /* the Converse block once stopped; NULL: dropped */
} blk;

struct anthropic_stream {
    net_sse_decoder *dec;
    void (*on_event)(void *user, const strands_model_stream_event *ev);
    void *user;
    blk *blocks;
    size_t n_blocks, cap_blocks;
    size_t used, max_bytes, max_blocks;
    int saw_start, saw_stop, sent, finished;
    char stop_reason[sizeof ((strands_model_response *)0)->stop_reason];
    strands_usage usage;
    strands_error error;  /* sticky once status != OK */
};

/* ---- errors, budget, events ------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static strands_status fail(anthropic_stream *s, strands_status st,
                           const char *fmt, ...)
{
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return strands_error_set(&s->error, st,
                             st == STRANDS_E_PARSE ? ANTHROPIC_BAD_RESPONSE
                                                   : NULL,
                             "%s", msg);
}

static strands_status oom(anthropic_stream *s)
{
    return fail(s, STRANDS_E_NOMEM, "out of memory");
}

static strands_status charge(anthropic_stream *s, size_t n)
{
    if (n > s->max_bytes - s->used)
        return fail(s, STRANDS_E_TOO_LARGE,
                    "Anthropic message exceeds the %zu-byte limit",
                    s->max_bytes);
    s->used += n;
    return STRANDS_OK;
}

static strands_status append(anthropic_stream *s, dynbuf *b, const char *p,
                             size_t n)
{
    strands_status st = charge(s, n);
    if (st != STRANDS_OK) return st;
    if (!b->max) dynbuf_init(b, s->max_bytes);
    if (dynbuf_append(b, p, n) != STRANDS_OK) return oom(s);
    return STRANDS_OK;
}

static char *dup_charged(anthropic_stream *s, const json_t *str)
{
    size_t n = json_string_length(str);
    if (charge(s, n + 1) != STRANDS_OK) return NULL;
    char *d = malloc(n + 1);
    if (!d) {
        oom(s);
        return NULL;
    }
    memcpy(d, json_string_value(str), n);
    d[n] = '\0';
    return d;
}

static void emit_raw(anthropic_stream *s, strands_model_stream_type type,
                     const blk *b, const char *data, size_t len)
{
    if (!s->on_event) return;
    strands_model_stream_event ev = {type, b->index, data, len, b->id,
                                     b->name};
    s->sent = 1;
    s->on_event(s->user, &ev);
}

/* Reports the block's start once, before anything else of it. */
static void announce(anthropic_stream *s, blk *b)
{
    if (b->announced || b->kind == K_OTHER) return;
    b->announced = 1;
    emit_raw(s, STRANDS_MODEL_STREAM_BLOCK_START, b, NULL, 0);
}

static void emit(anthropic_stream *s, strands_model_stream_type type, blk *b,
                 const char *data, size_t len)
{
    if (!len) return;
    announce(s, b);
    emit_raw(s, type, b, data, len);
}

/* ---- lifetime ---------------------------------------------------------- */

static int on_sse(void *user, const net_sse_event *ev);

anthropic_stream *anthropic_stream_new(
    void (*on_event)(void *user, const strands_model_stream_event *ev),
    void *user)
{
    anthropic_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->dec = net_sse_decoder_new(ANTHROPIC_STREAM_MAX_EVENT,
                                 ANTHROPIC_STREAM_MAX_EVENT, on_sse, s);
    if (!s->dec) {
        free(s);
        return NULL;
    }
    s->on_event = on_event;
    s->user = user;
    s->max_bytes = ANTHROPIC_STREAM_MAX_BYTES;
    s->max_blocks = ANTHROPIC_STREAM_MAX_BLOCKS;
    strands_error_clear(&s->error);
    return s;
}

static void blk_release(blk *b)
{
    dynbuf_cleanup(&b->text);
    dynbuf_cleanup(&b->sig);
    free(b->id);
    free(b->name);
    json_decref(b->start_input);
    b->id = b->name = NULL;
    b->start_input = NULL;
}

void anthropic_stream_free(anthropic_stream *s)
{
    if (!s) return;
    for (size_t k = 0; k < s->n_blocks; k++) {
        blk_release(&s->blocks[k]);
        json_decref(s->blocks[k].final);
    }
    free(s->blocks);
    net_sse_decoder_free(s->dec);
    free(s);
}

void anthropic_stream_set_limits(anthropic_stream *s, size_t max_bytes,
                                 size_t max_blocks)
{
    if (max_bytes) s->max_bytes = max_bytes;
    if (max_blocks) s->max_blocks = max_blocks;
}

int anthropic_stream_sent_anything(const anthropic_stream *s)
{
    return s->sent;
}

/* ---- blocks ------------------------------------------------------------ */

static blk *find_block(anthropic_stream *s, int64_t index)
{
    for (size_t k = s->n_blocks; k > 0; k--)
        if (s->blocks[k - 1].index == index) return &s->blocks[k - 1];
    return NULL;
}

static blk *add_block(anthropic_stream *s, int64_t index, blk_kind kind)
{
    if (s->n_blocks >= s->max_blocks) {
        fail(s, STRANDS_E_TOO_LARGE,
             "Anthropic message has more than %zu content blocks",
             s->max_blocks);
        return NULL;
    }
    if (s->n_blocks == s->cap_blocks) {
        size_t cap = s->cap_blocks ? s->cap_blocks * 2 : 8;
        blk *nb = realloc(s->blocks, cap * sizeof *nb);
        if (!nb) {
            oom(s);
            return NULL;
        }
        s->blocks = nb;
        s->cap_blocks = cap;
    }
    blk *b = &s->blocks[s->n_blocks++];
    memset(b, 0, sizeof *b);
    b->index = index;
    b->kind = kind;
    return b;
}

/* The parsed tool input: the streamed JSON text when any (an object; {}
 * when it is not one, e.g. cut off by max_tokens), else the start's. */
static json_t *tool_input(blk *b)
{
    if (!b->text.len)
        return b->start_input ? json_incref(b->start_input) : json_object();
    json_t *v = json_loadb(b->text.data, b->text.len,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_object(v)) return v;
    json_decref(v);
    return json_object();
}

static json_t *str_of(const dynbuf *d)
{
    return json_stringn(dynbuf_str(d), d->len);
}

/* The block in Messages terms, as a non-streamed answer would carry it. */
static json_t *messages_block(blk *b)
{
    switch (b->kind) {
    case K_TEXT:
        return json_pack("{s:s, s:o}", "type", "text", "text",
                         str_of(&b->text));
    case K_TOOL:
        return json_pack("{s:s, s:s, s:s, s:o}", "type", "tool_use", "id",
                         b->id, "name", b->name, "input", tool_input(b));
    case K_THINKING:
        return json_pack("{s:s, s:o, s:o}", "type", "thinking", "thinking",
                         str_of(&b->text), "signature", str_of(&b->sig));
    case K_REDACTED:
        return json_pack("{s:s, s:o}", "type", "redacted_thinking", "data",
                         str_of(&b->text));
    case K_OTHER:
        break;
    }
    return NULL;
}

static strands_status stop_block(anthropic_stream *s, blk *b)
{
    b->stopped = 1;
    if (b->kind == K_OTHER) {
        blk_release(b);
        return STRANDS_OK;
    }
    json_t *mb = messages_block(b);
    strands_error e;
    strands_status st = mb ? anthropic_block_to_converse(mb, &b->final, &e)
                           : STRANDS_E_NOMEM;
    json_decref(mb);
    blk_release(b);
    if (st == STRANDS_E_NOMEM) return oom(s);
    if (st != STRANDS_OK) {
        s->error = e;
        return st;
    }
    return STRANDS_OK;
}

/* ---- events ------------------------------------------------------------ */

static strands_status block_index(anthropic_stream *s, const json_t *ev,
                                  const char *what, int64_t *out)
{
    json_t *v = json_object_get(ev, "index");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(s, STRANDS_E_PARSE,
                    "%s without a valid index (an integer >= 0)", what);
    *out = (int64_t)json_integer_value(v);
    return STRANDS_OK;
}

/* Appends the string member `key` of obj to buf and reports it. */
static strands_status take_string(anthropic_stream *s, blk *b, dynbuf *buf,
                                  const json_t *obj, const char *key,
                                  strands_model_stream_type type,
                                  int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required) return STRANDS_OK;
    if (!json_is_string(v))
        return fail(s, STRANDS_E_PARSE, "block %lld: '%s' is not a string",
                    (long long)b->index, key);
    strands_status st = append(s, buf, json_string_value(v),
                               json_string_length(v));
    if (st == STRANDS_OK)
        emit(s, type, b, json_string_value(v), json_string_length(v));
    return st;
}

static strands_status on_message_start(anthropic_stream *s, const json_t *ev)
{
    json_t *msg = json_object_get(ev, "message");
    if (!json_is_object(msg))
        return fail(s, STRANDS_E_PARSE, "message_start without a message");
    s->saw_start = 1;
    anthropic_parse_usage(json_object_get(msg, "usage"), &s->usage);
    return STRANDS_OK;
}

static strands_status start_redacted(anthropic_stream *s, blk *b,
                                     const json_t *cb)
{
    json_t *d = json_object_get(cb, "data");
    if (!json_is_string(d))
        return fail(s, STRANDS_E_PARSE,
                    "block %lld: redacted_thinking without data",
                    (long long)b->index);
    strands_status st = append(s, &b->text, json_string_value(d),
                               json_string_length(d));
    if (st != STRANDS_OK || !s->on_event || !json_string_length(d))
        return st;
    size_t n = 0;
    char *b64 = net_base64_encode(json_string_value(d),
                                  json_string_length(d), &n);
    if (!b64) return oom(s);
    emit(s, STRANDS_MODEL_STREAM_REASONING_REDACTED, b, b64, n);
    free(b64);
    return STRANDS_OK;
}

static strands_status on_block_start(anthropic_stream *s, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(s, ev, "content_block_start", &index) != STRANDS_OK)
        return s->error.status;
    json_t *cb = json_object_get(ev, "content_block");
    const char *type = json_string_value(json_object_get(cb, "type"));
    if (!type)
        return fail(s, STRANDS_E_PARSE,
                    "content_block_start %lld without a content_block type",
                    (long long)index);
    if (find_block(s, index))
        return fail(s, STRANDS_E_PARSE,
                    "content_block_start for block %lld, which already "
                    "exists", (long long)index);
    blk_kind kind = !strcmp(type, "text")                ? K_TEXT
                    : !strcmp(type, "tool_use")          ? K_TOOL
                    : !strcmp(type, "thinking")          ? K_THINKING
                    : !strcmp(type, "redacted_thinking") ? K_REDACTED
                                                         : K_OTHER;
    blk *b = add_block(s, index, kind);
    if (!b) return s->error.status;
    switch (kind) {
    case K_TEXT:
        return take_string(s, b, &b->text, cb, "text",
                           STRANDS_MODEL_STREAM_TEXT, 0);
    case K_THINKING:
        if (take_string(s, b, &b->text, cb, "thinking",
                        STRANDS_MODEL_STREAM_REASONING_TEXT, 0) != STRANDS_OK)
            return s->error.status;
        return take_string(s, b, &b->sig, cb, "signature",
                           STRANDS_MODEL_STREAM_REASONING_SIGNATURE, 0);
    case K_REDACTED:
        return start_redacted(s, b, cb);
    case K_TOOL: {
        json_t *id = json_object_get(cb, "id");
        json_t *name = json_object_get(cb, "name");
        json_t *input = json_object_get(cb, "input");
        if (!json_is_string(id) || !json_is_string(name))
            return fail(s, STRANDS_E_PARSE,
                        "block %lld: tool_use without id or name",
                        (long long)index);
        if (!(b->id = dup_charged(s, id)) ||
            !(b->name = dup_charged(s, name)))
            return s->error.status;
        if (!json_is_object(input) || !json_object_size(input))
            return STRANDS_OK;
        /* The event's own tree (not shared): kept by reference, charged
         * by its size as text.                                          */
        if (charge(s, json_dumpb(input, NULL, 0, JSON_COMPACT)) !=
            STRANDS_OK)
            return s->error.status;
        b->start_input = json_incref(input);
        return STRANDS_OK;
    }
    case K_OTHER:
        break;
    }
    return STRANDS_OK;
}

static strands_status on_block_delta(anthropic_stream *s, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(s, ev, "content_block_delta", &index) != STRANDS_OK)
        return s->error.status;
    json_t *delta = json_object_get(ev, "delta");
    const char *type = json_string_value(json_object_get(delta, "type"));
    if (!type)
        return fail(s, STRANDS_E_PARSE,
                    "content_block_delta %lld without a delta type",
                    (long long)index);
    blk *b = find_block(s, index);
    if (!b)
        return fail(s, STRANDS_E_PARSE,
                    "content_block_delta for block %lld without "
                    "content_block_start", (long long)index);
    if (b->stopped)
        return fail(s, STRANDS_E_PARSE,
                    "content_block_delta for block %lld after its "
                    "content_block_stop", (long long)index);
    if (b->kind == K_OTHER) return STRANDS_OK;
    static const struct {
        const char *type;
        blk_kind kind;
        const char *key;
        int sig;
        strands_model_stream_type ev;
    } deltas[] = {
        {"text_delta", K_TEXT, "text", 0, STRANDS_MODEL_STREAM_TEXT},
        {"input_json_delta", K_TOOL, "partial_json", 0,
         STRANDS_MODEL_STREAM_TOOL_INPUT},
        {"thinking_delta", K_THINKING, "thinking", 0,
         STRANDS_MODEL_STREAM_REASONING_TEXT},
        {"signature_delta", K_THINKING, "signature", 1,
         STRANDS_MODEL_STREAM_REASONING_SIGNATURE},
    };
    for (size_t i = 0; i < sizeof deltas / sizeof *deltas; i++) {
        if (strcmp(type, deltas[i].type)) continue;
        if (b->kind != deltas[i].kind)
            return fail(s, STRANDS_E_PARSE, "%s for block %lld of another "
                        "kind", type, (long long)index);
        return take_string(s, b, deltas[i].sig ? &b->sig : &b->text, delta,
                           deltas[i].key, deltas[i].ev, 1);
    }
    return STRANDS_OK; /* citations_delta and newer kinds: not kept */
}

static strands_status on_block_stop(anthropic_stream *s, const json_t *ev)
{
    int64_t index = 0;
    if (block_index(s, ev, "content_block_stop", &index) != STRANDS_OK)
        return s->error.status;
    blk *b = find_block(s, index);
    if (!b || b->stopped) return STRANDS_OK;
    if (b->kind != K_OTHER) {
        announce(s, b);
        emit_raw(s, STRANDS_MODEL_STREAM_BLOCK_STOP, b, NULL, 0);
    }
    return stop_block(s, b);
}

static strands_status on_message_delta(anthropic_stream *s, const json_t *ev)
{
    json_t *reason = json_object_get(json_object_get(ev, "delta"),
                                     "stop_reason");
    if (json_is_string(reason))
        snprintf(s->stop_reason, sizeof s->stop_reason, "%s",
                 json_string_value(reason));
    anthropic_parse_usage(json_object_get(ev, "usage"), &s->usage);
    return STRANDS_OK;
}

static strands_status on_message_stop(anthropic_stream *s, const json_t *ev)
{
    (void)ev;
    s->saw_stop = 1;
    return STRANDS_OK;
}

static strands_status on_error(anthropic_stream *s, const json_t *ev)
{
    return anthropic_error_from_event(ev, &s->error);
}

typedef strands_status event_fn(anthropic_stream *s, const json_t *ev);

static const struct {
    const char *name;
    event_fn *fn;
} events[] = {
    {"message_start", on_message_start},
    {"content_block_start", on_block_start},
    {"content_block_delta", on_block_delta},
    {"content_block_stop", on_block_stop},
    {"message_delta", on_message_delta},
    {"message_stop", on_message_stop},
    {"error", on_error},
};

/* SSE callback: one event; non-zero stops decoding (sticky error set). */
static int on_sse(void *user, const net_sse_event *sev)
{
    anthropic_stream *s = user;
    if (s->saw_stop) return 0;    /* nothing counts after message_stop */
    json_error_t je;
    json_t *ev = json_loadb(sev->data, sev->data_len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(ev)) {
        json_decref(ev);
        fail(s, STRANDS_E_PARSE, "SSE event '%.40s' is not a JSON object%s%s",
             sev->type, ev ? "" : ": ", ev ? "" : je.text);
        return 1;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (!type) type = sev->type;
    strands_status st = STRANDS_OK;
    for (size_t k = 0; k < sizeof events / sizeof *events; k++)
        if (!strcmp(type, events[k].name)) {
            st = events[k].fn(s, ev);
            break;
        }
    json_decref(ev);          /* ping and unknown types are ignored */
    return st != STRANDS_OK;
}

/* ---- feed / finish ----------------------------------------------------- */

static strands_status sticky(const anthropic_stream *s, strands_error *err)
{
    if (err) *err = s->error;
    return s->error.status;
}

strands_status anthropic_stream_feed(anthropic_stream *s, const char *p,
                                     size_t n, strands_error *err)
{
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    if (s->finished)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "anthropic_stream_feed after finish");
    strands_error derr;
    strands_error_clear(&derr);
    strands_status st = net_sse_feed(s->dec, p, n, &derr);
    if (st == STRANDS_OK) return STRANDS_OK;
    if (s->error.status == STRANDS_OK) s->error = derr; /* decoder's own */
    return sticky(s, err);
}

static int by_index(const void *x, const void *y)
{
    int64_t i = ((const blk *)x)->index, j = ((const blk *)y)->index;
    return (i > j) - (i < j);
}

strands_status anthropic_stream_finish(anthropic_stream *s,
                                       strands_model_response *out,
                                       strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    if (s->finished)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "anthropic_stream_finish called twice");
    s->finished = 1;
    if (!s->saw_start || !s->saw_stop) {
        fail(s, STRANDS_E_PARSE, "Anthropic stream ended before %s",
             s->saw_start ? "message_stop" : "message_start");
        return sticky(s, err);
    }
    for (size_t k = 0; k < s->n_blocks; k++)
        if (!s->blocks[k].stopped &&
            stop_block(s, &s->blocks[k]) != STRANDS_OK)
            return sticky(s, err);
    if (s->n_blocks > 1)
        qsort(s->blocks, s->n_blocks, sizeof *s->blocks, by_index);
    json_t *content = json_array();
    for (size_t k = 0; content && k < s->n_blocks; k++)
        if (s->blocks[k].final &&
            json_array_append(content, s->blocks[k].final)) {
            json_decref(content);
            content = NULL;
        }
    out->message = content ? json_pack("{s:s, s:o}", "role", "assistant",
                                       "content", content)
                           : NULL;
    if (!out->message) {
        oom(s);
        return sticky(s, err);
    }
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", s->stop_reason);
    out->stop = anthropic_stop_reason(s->stop_reason);
    out->usage = s->usage;
    return STRANDS_OK;
}
