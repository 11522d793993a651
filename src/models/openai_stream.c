/* OpenAI Chat Completions answer assembler (see openai_stream.h). Blocks
 * are kept in arrival order; a tool call is found by its delta "index"
 * and reported (BLOCK_START) once its function name is known, with the
 * argument text buffered until then.                                    */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/buf.h"
#include "models/openai_map.h"
#include "models/openai_stream.h"
#include "net/sse_decoder.h"

#define OA_CODE "InvalidResponse"

typedef enum oa_kind { OA_TEXT = 1, OA_REASONING, OA_TOOL } oa_kind;

typedef struct oa_block {
    oa_kind kind;
    int64_t index;      /* our content-block index, -1 until started */
    int64_t call;       /* tool_calls[].index of a tool block */
    int started, stopped;
    dynbuf text;        /* text, reasoning or argument text */
    size_t reported;    /* argument bytes already reported */
    char *id, *name;    /* tool blocks */
    int bad_args;       /* arguments were not a JSON object */
} oa_block;

struct oa_stream {
    oa_event_fn *fn;
    void *user;
    const json_t *history;
    net_sse_decoder *dec;
    oa_block *blocks;
    size_t n, cap;
    size_t n_tools;
    long current;            /* block receiving deltas, -1 none */
    int64_t next_index;
    size_t used, max_bytes, max_tools, max_args;
    int saw_done, finished, sent, completion;
    char finish[sizeof ((strands_model_response *)0)->stop_reason];
    strands_usage usage;
    size_t bad_args;
    strands_error error;     /* sticky */
};

/* ---- lifetime ------------------------------------------------------------ */

static int on_sse(void *user, const net_sse_event *ev);

oa_stream *oa_stream_new(oa_event_fn *fn, void *user, const json_t *history)
{
    oa_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->dec = net_sse_decoder_new(OA_MAX_EVENT, OA_MAX_EVENT, on_sse, s);
    if (!s->dec) {
        free(s);
        return NULL;
    }
    s->fn = fn;
    s->user = user;
    s->history = history;
    s->current = -1;
    s->max_bytes = OA_DEFAULT_MAX_BYTES;
    s->max_tools = OA_DEFAULT_MAX_TOOL_CALLS;
    s->max_args = OA_DEFAULT_MAX_ARGS;
    strands_error_clear(&s->error);
    return s;
}

void oa_stream_free(oa_stream *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        dynbuf_cleanup(&s->blocks[i].text);
        free(s->blocks[i].id);
        free(s->blocks[i].name);
    }
    free(s->blocks);
    net_sse_decoder_free(s->dec);
    free(s);
}

void oa_stream_set_limits(oa_stream *s, size_t max_bytes,
                          size_t max_tool_calls, size_t max_args)
{
    if (max_bytes) s->max_bytes = max_bytes;
    if (max_tool_calls) s->max_tools = max_tool_calls;
    if (max_args) s->max_args = max_args;
}

int oa_stream_sent_anything(const oa_stream *s)
{
    return s->sent;
}

size_t oa_stream_bad_arguments(const oa_stream *s, const char **first_name)
{
    if (first_name) {
        *first_name = NULL;
        for (size_t i = 0; i < s->n; i++)
            if (s->blocks[i].bad_args) {
                *first_name = s->blocks[i].name;
                break;
            }
    }
    return s->bad_args;
}

/* ---- errors, budget, events --------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static strands_status fail(oa_stream *s, strands_status st, const char *code,
                           const char *fmt, ...)
{
    if (s->error.status != STRANDS_OK) return s->error.status;
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return strands_error_set(&s->error, st, code, "%s", msg);
}

static strands_status charge(oa_stream *s, size_t n)
{
    if (n > s->max_bytes - s->used)
        return fail(s, STRANDS_E_TOO_LARGE, NULL,
                    "OpenAI answer exceeds the %zu-byte limit", s->max_bytes);
    s->used += n;
    return STRANDS_OK;
}

static strands_status append(oa_stream *s, dynbuf *b, const char *p,
                             size_t n)
{
    strands_status st = charge(s, n);
    if (st != STRANDS_OK) return st;
    if (!b->max) dynbuf_init(b, s->max_bytes);
    if (dynbuf_append(b, p, n) != STRANDS_OK)
        return fail(s, STRANDS_E_NOMEM, NULL, "out of memory");
    return STRANDS_OK;
}

static char *dup_charged(oa_stream *s, const char *p, size_t n)
{
    if (charge(s, n + 1) != STRANDS_OK) return NULL;
    char *d = malloc(n + 1);
    if (!d) {
        fail(s, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static void emit(oa_stream *s, strands_model_stream_type type,
                 const oa_block *b, const char *data, size_t len)
{
    if (!s->fn) return;
    strands_model_stream_event ev = {type, b->index, data, len,
                                     b->kind == OA_TOOL ? b->id : NULL,
                                     b->kind == OA_TOOL ? b->name : NULL};
    s->fn(s->user, &ev);
}

/* ---- blocks -------------------------------------------------------------- */

static void stop_block(oa_stream *s, oa_block *b)
{
    if (!b->started || b->stopped) return;
    b->stopped = 1;
    emit(s, STRANDS_MODEL_STREAM_BLOCK_STOP, b, NULL, 0);
}

/* Starts block k (gives it the next index), closing the current one. */
static void start_block(oa_stream *s, long k)
{
    if (s->current >= 0 && s->current != k)
        stop_block(s, &s->blocks[s->current]);
    oa_block *b = &s->blocks[k];
    b->index = s->next_index++;
    b->started = 1;
    s->current = k;
    emit(s, STRANDS_MODEL_STREAM_BLOCK_START, b, NULL, 0);
}

static long add_block(oa_stream *s, oa_kind kind)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        oa_block *nb = realloc(s->blocks, cap * sizeof *nb);
        if (!nb) {
            fail(s, STRANDS_E_NOMEM, NULL, "out of memory");
            return -1;
        }
        s->blocks = nb;
        s->cap = cap;
    }
    oa_block *b = &s->blocks[s->n];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->index = -1;
    return (long)s->n++;
}

/* A text or reasoning delta: appended to the current block of that kind,
 * else to a new block. */
static strands_status text_delta(oa_stream *s, oa_kind kind, const char *p,
                                 size_t n)
{
    if (!n) return STRANDS_OK;
    long k = s->current;
    if (k < 0 || s->blocks[k].kind != kind || s->blocks[k].stopped) {
        k = add_block(s, kind);
        if (k < 0) return s->error.status;
        start_block(s, k);
    }
    oa_block *b = &s->blocks[k];
    if (append(s, &b->text, p, n) != STRANDS_OK) return s->error.status;
    s->sent = 1;
    emit(s, kind == OA_TEXT ? STRANDS_MODEL_STREAM_TEXT
                            : STRANDS_MODEL_STREAM_REASONING_TEXT,
         b, p, n);
    return STRANDS_OK;
}

/* True when id is used by a toolUse of the history or another call of
 * this answer. */
static int id_taken(const oa_stream *s, const char *id, const oa_block *self)
{
    for (size_t i = 0; i < s->n; i++)
        if (&s->blocks[i] != self && s->blocks[i].id &&
            !strcmp(s->blocks[i].id, id))
            return 1;
    size_t i, j;
    const json_t *msg, *block;
    json_array_foreach(s->history, i, msg) {
        json_array_foreach(json_object_get(msg, "content"), j, block) {
            const char *u = json_string_value(json_object_get(
                json_object_get(block, "toolUse"), "toolUseId"));
            if (u && !strcmp(u, id)) return 1;
        }
    }
    return 0;
}

/* Gives tool block b a unique id: the server's when it sent a free one,
 * else call_<n>_<8 hex>. */
static strands_status settle_id(oa_stream *s, oa_block *b, size_t ordinal)
{
    if (b->id && *b->id && !id_taken(s, b->id, b)) return STRANDS_OK;
    s->used -= b->id ? strlen(b->id) + 1 : 0;
    free(b->id);
    b->id = NULL;
    for (int tries = 0; tries < 16; tries++) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            r = (uint32_t)clock() ^ (uint32_t)(uintptr_t)b;
        char id[48];
        int len = snprintf(id, sizeof id, "call_%zu_%08x", ordinal,
                           (unsigned)r + (unsigned)tries);
        if (id_taken(s, id, b)) continue;
        b->id = dup_charged(s, id, (size_t)len);
        return b->id ? STRANDS_OK : s->error.status;
    }
    return fail(s, STRANDS_E_INTERNAL, NULL, "cannot make a unique tool id");
}

/* Reports the arguments of a started tool block not reported yet. */
static void report_args(oa_stream *s, oa_block *b)
{
    if (!b->started || b->reported >= b->text.len) return;
    s->sent = 1;
    emit(s, STRANDS_MODEL_STREAM_TOOL_INPUT, b, b->text.data + b->reported,
         b->text.len - b->reported);
    b->reported = b->text.len;
}

/* One tool_calls[] delta: {"index","id"?,"function":{"name"?,
 * "arguments"?}} (arguments may also be an object: some servers). */
static strands_status tool_delta(oa_stream *s, const json_t *tc,
                                 int64_t fallback_index)
{
    if (!json_is_object(tc))
        return fail(s, STRANDS_E_PARSE, OA_CODE,
                    "tool_calls entry is not an object");
    const json_t *ix = json_object_get(tc, "index");
    int64_t call = json_is_integer(ix) ? (int64_t)json_integer_value(ix)
                                       : fallback_index;
    long k = -1;
    for (size_t i = 0; i < s->n; i++)
        if (s->blocks[i].kind == OA_TOOL && s->blocks[i].call == call) {
            k = (long)i;
            break;
        }
    if (k < 0) {
        if (s->n_tools >= s->max_tools)
            return fail(s, STRANDS_E_TOO_LARGE, NULL,
                        "OpenAI answer has more than %zu tool calls",
                        s->max_tools);
        k = add_block(s, OA_TOOL);
        if (k < 0) return s->error.status;
        s->blocks[k].call = call;
        s->n_tools++;
    }
    oa_block *b = &s->blocks[k];
    const json_t *id = json_object_get(tc, "id");
    const json_t *fn = json_object_get(tc, "function");
    const json_t *name = json_object_get(fn, "name");
    const json_t *args = json_object_get(fn, "arguments");
    if (json_is_string(id) && json_string_length(id) && !b->id &&
        !b->started &&
        !(b->id = dup_charged(s, json_string_value(id),
                              json_string_length(id))))
        return s->error.status;
    if (json_is_string(name) && json_string_length(name) && !b->name &&
        !(b->name = dup_charged(s, json_string_value(name),
                                json_string_length(name))))
        return s->error.status;
    if (json_is_string(args) && json_string_length(args)) {
        size_t n = json_string_length(args);
        if (n > s->max_args - b->text.len)
            return fail(s, STRANDS_E_TOO_LARGE, NULL,
                        "tool call arguments exceed the %zu-byte limit",
                        s->max_args);
        if (append(s, &b->text, json_string_value(args), n) != STRANDS_OK)
            return s->error.status;
    } else if (json_is_object(args)) {
        char *text = json_dumps(args, JSON_COMPACT);
        if (!text) return fail(s, STRANDS_E_NOMEM, NULL, "out of memory");
        size_t n = strlen(text);
        strands_status st =
            n > s->max_args - b->text.len
                ? fail(s, STRANDS_E_TOO_LARGE, NULL,
                       "tool call arguments exceed the %zu-byte limit",
                       s->max_args)
                : append(s, &b->text, text, n);
        free(text);
        if (st != STRANDS_OK) return st;
    }
    if (!b->started && b->name) {
        size_t ordinal = 0;
        for (long i = 0; i < k; i++) ordinal += s->blocks[i].kind == OA_TOOL;
        if (settle_id(s, b, ordinal) != STRANDS_OK) return s->error.status;
        start_block(s, k);
    }
    report_args(s, b);
    return STRANDS_OK;
}

/* The delta (or, non-streamed, the message) of choice 0. */
static strands_status apply_delta(oa_stream *s, const json_t *d)
{
    if (!json_is_object(d)) return STRANDS_OK;
    static const char *const reasoning_keys[] = {"reasoning_content",
                                                 "reasoning"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *r = json_object_get(d, reasoning_keys[i]);
        if (json_is_string(r)) {
            if (text_delta(s, OA_REASONING, json_string_value(r),
                           json_string_length(r)) != STRANDS_OK)
                return s->error.status;
            break;
        }
    }
    static const char *const text_keys[] = {"content", "refusal"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *c = json_object_get(d, text_keys[i]);
        if (c && !json_is_null(c) && !json_is_string(c))
            return fail(s, STRANDS_E_PARSE, OA_CODE,
                        "delta %s is not a string", text_keys[i]);
        if (json_is_string(c) &&
            text_delta(s, OA_TEXT, json_string_value(c),
                       json_string_length(c)) != STRANDS_OK)
            return s->error.status;
    }
    const json_t *calls = json_object_get(d, "tool_calls");
    if (calls && !json_is_null(calls) && !json_is_array(calls))
        return fail(s, STRANDS_E_PARSE, OA_CODE,
                    "tool_calls is not an array");
    size_t i;
    const json_t *tc;
    json_array_foreach(calls, i, tc) {
        if (tool_delta(s, tc, (int64_t)i) != STRANDS_OK)
            return s->error.status;
    }
    return STRANDS_OK;
}

static int64_t count(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    int64_t n = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    return n < 0 ? 0 : n > INT32_MAX ? INT32_MAX : n;
}

static void apply_usage(oa_stream *s, const json_t *u)
{
    if (!json_is_object(u)) return;
    s->usage.input_tokens = count(u, "prompt_tokens");
    s->usage.output_tokens = count(u, "completion_tokens");
    s->usage.total_tokens = count(u, "total_tokens");
    if (!s->usage.total_tokens)
        s->usage.total_tokens = s->usage.input_tokens +
                                s->usage.output_tokens;
    s->usage.cache_read_input_tokens =
        count(json_object_get(u, "prompt_tokens_details"), "cached_tokens");
}

/* One chunk (or completion) object. `message_key`: "delta" or "message". */
static strands_status apply_object(oa_stream *s, const json_t *doc,
                                   const char *message_key)
{
    if (!json_is_object(doc))
        return fail(s, STRANDS_E_PARSE, OA_CODE,
                    "OpenAI %s is not a JSON object",
                    s->completion ? "answer" : "stream chunk");
    const json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        openai_error_from_json(0, doc, &s->error);
        return s->error.status;
    }
    const json_t *choices = json_object_get(doc, "choices");
    if (choices && !json_is_null(choices) && !json_is_array(choices))
        return fail(s, STRANDS_E_PARSE, OA_CODE, "choices is not an array");
    size_t i;
    const json_t *c;
    json_array_foreach(choices, i, c) {
        const json_t *ix = json_object_get(c, "index");
        if (json_is_integer(ix) && json_integer_value(ix) != 0) continue;
        if (apply_delta(s, json_object_get(c, message_key)) != STRANDS_OK)
            return s->error.status;
        const char *fr =
            json_string_value(json_object_get(c, "finish_reason"));
        if (fr) snprintf(s->finish, sizeof s->finish, "%s", fr);
    }
    apply_usage(s, json_object_get(doc, "usage"));
    return STRANDS_OK;
}

static int on_sse(void *user, const net_sse_event *ev)
{
    oa_stream *s = user;
    if (s->saw_done) return 0;            /* nothing counts after [DONE] */
    if (ev->data_len == 6 && !memcmp(ev->data, "[DONE]", 6)) {
        s->saw_done = 1;
        return 0;
    }
    json_error_t jerr;
    json_t *doc =
        json_loadb(ev->data, ev->data_len, JSON_ALLOW_NUL, &jerr);
    strands_status st;
    if (!doc)
        st = fail(s, STRANDS_E_PARSE, OA_CODE,
                  "OpenAI stream chunk is not valid JSON: %s", jerr.text);
    else if (!strcmp(ev->type, "error")) {
        openai_error_from_json(0, doc, &s->error);
        st = s->error.status;
    } else
        st = apply_object(s, doc, "delta");
    json_decref(doc);
    return st != STRANDS_OK;
}

/* ---- feed / finish ------------------------------------------------------- */

static strands_status sticky(const oa_stream *s, strands_error *err)
{
    if (err) *err = s->error;
    return s->error.status;
}

strands_status oa_stream_feed(oa_stream *s, const char *p, size_t n,
                              strands_error *err)
{
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    if (s->finished || s->completion)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "oa_stream_feed after finish");
    strands_error derr;
    strands_error_clear(&derr);
    strands_status st = net_sse_feed(s->dec, p, n, &derr);
    if (st == STRANDS_OK) return STRANDS_OK;
    if (s->error.status == STRANDS_OK) s->error = derr;
    return sticky(s, err);
}

strands_status oa_stream_apply_completion(oa_stream *s, const char *body,
                                          size_t len, strands_error *err)
{
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    if (s->finished || s->completion)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "oa_stream_apply_completion twice");
    s->completion = 1;
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        fail(s, STRANDS_E_PARSE, OA_CODE,
             "OpenAI answer is not valid JSON: %s", jerr.text);
        return sticky(s, err);
    }
    if (json_is_object(doc) && !json_is_array(json_object_get(doc, "choices"))
        && !json_object_get(doc, "error"))
        fail(s, STRANDS_E_PARSE, OA_CODE, "OpenAI answer has no choices");
    else
        apply_object(s, doc, "message");
    json_decref(doc);
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    s->saw_done = 1;
    return STRANDS_OK;
}

/* The finished content blocks, in arrival order. */
static json_t *build_content(oa_stream *s)
{
    json_t *content = json_array();
    for (size_t i = 0; content && i < s->n; i++) {
        oa_block *b = &s->blocks[i];
        json_t *block = NULL;
        if (b->kind == OA_TEXT) {
            block = json_pack("{s:s%}", "text", dynbuf_str(&b->text),
                              b->text.len);
        } else if (b->kind == OA_REASONING) {
            block = json_pack("{s:{s:{s:s%}}}", "reasoningContent",
                              "reasoningText", "text", dynbuf_str(&b->text),
                              b->text.len);
        } else {
            json_t *input =
                b->text.len ? json_loadb(b->text.data, b->text.len, 0, NULL)
                            : json_object();
            if (b->text.len && !json_is_object(input)) {
                json_decref(input);
                input = json_object();
                b->bad_args = 1;
                s->bad_args++;
            }
            block = input ? json_pack("{s:{s:s, s:s, s:o}}", "toolUse",
                                      "toolUseId", b->id, "name", b->name,
                                      "input", input)
                          : NULL;
        }
        if (json_array_append_new(content, block)) {
            json_decref(content);
            content = NULL;
        }
    }
    return content;
}

strands_status oa_stream_finish(oa_stream *s, strands_model_response *out,
                                strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (s->error.status != STRANDS_OK) return sticky(s, err);
    if (s->finished)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "oa_stream_finish called twice");
    s->finished = 1;
    if (!s->saw_done) {
        fail(s, STRANDS_E_UPSTREAM, "IncompleteStream",
             "the OpenAI-compatible stream ended before [DONE]");
        return sticky(s, err);
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->blocks[i].kind == OA_TOOL && !s->blocks[i].name) {
            fail(s, STRANDS_E_PARSE, OA_CODE,
                 "tool call %lld has no function name",
                 (long long)s->blocks[i].call);
            return sticky(s, err);
        }
    for (size_t i = 0; i < s->n; i++) stop_block(s, &s->blocks[i]);
    json_t *content = build_content(s);
    out->message = content ? json_pack("{s:s, s:o}", "role", "assistant",
                                       "content", content)
                           : NULL;
    if (!out->message) {
        fail(s, STRANDS_E_NOMEM, NULL, "out of memory");
        return sticky(s, err);
    }
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", s->finish);
    out->stop = openai_finish_reason(s->finish);
    if (s->n_tools && (!s->finish[0] || !strcmp(s->finish, "stop")))
        out->stop = STRANDS_STOP_TOOL_USE;
    out->usage = s->usage;
    return STRANDS_OK;
}
