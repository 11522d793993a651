/* libFuzzer target for the ConverseStream assembler
 * (src/models/converse_stream.c). Byte 0 picks a split point; byte 1 holds
 * flags: bit 0 set = the rest is a raw response body, clear = the rest is
 * '\n'-separated records (kind letter + payload, see build_records) that
 * are encoded into valid frames, so mutations reach the event logic; bit 1
 * = tiny limits. The body is fed whole, in two chunks and (when small) one
 * byte at a time: all runs must agree, and a finished message must be
 * consistent with what the callbacks reported. Must never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/eventstream.h"
#include "core/buf.h"
#include "models/converse_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- building a body from records --------------------------------------- */

static es_header hdr(const char *name, const char *value, size_t len)
{
    es_header h = {name, strlen(name), ES_STRING, 0, (const uint8_t *)value,
                   len};
    return h;
}

static void put(dynbuf *b, const es_header *h, size_t n,
                const uint8_t *payload, size_t len, int cut)
{
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if (es_encode(h, n, payload, len, &enc, &enc_len) != STRANDS_OK) return;
    if (dynbuf_append(b, enc, cut ? enc_len / 2 : enc_len) != STRANDS_OK)
        abort();
    free(enc);
}

/* One record: kind letter, then the payload up to the newline.
 *   S B D E M T  messageStart, contentBlockStart, contentBlockDelta,
 *                contentBlockStop, messageStop, metadata events
 *   U            an unknown event type
 *   X Y V        throttling / modelStreamError / validation exceptions
 *   R            error frame: ":error-code" = payload up to the first space,
 *                ":error-message" = the rest
 *   N            a frame without :message-type
 *   C            the first half of a contentBlockDelta frame (truncation) */
static void put_record(dynbuf *b, uint8_t kind, const uint8_t *p,
                       size_t len)
{
    static const char *const names[] = {
        "S", "messageStart", "B", "contentBlockStart",
        "D", "contentBlockDelta", "E", "contentBlockStop",
        "M", "messageStop", "T", "metadata", "U", "unknownEvent",
        "C", "contentBlockDelta"};
    static const char *const exceptions[] = {
        "X", "throttlingException", "Y", "modelStreamErrorException",
        "V", "validationException"};
    es_header h[3];
    if (len > ES_MAX_HEADER_VALUE_LEN) len = ES_MAX_HEADER_VALUE_LEN;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k += 2) {
        if (names[k][0] != kind) continue;
        h[0] = hdr(":event-type", names[k + 1], strlen(names[k + 1]));
        h[1] = hdr(":content-type", "application/json", 16);
        h[2] = hdr(":message-type", "event", 5);
        put(b, h, 3, p, len, kind == 'C');
        return;
    }
    for (size_t k = 0; k < sizeof exceptions / sizeof exceptions[0]; k += 2) {
        if (exceptions[k][0] != kind) continue;
        h[0] = hdr(":exception-type", exceptions[k + 1],
                   strlen(exceptions[k + 1]));
        h[1] = hdr(":message-type", "exception", 9);
        put(b, h, 2, p, len, 0);
        return;
    }
    if (kind == 'R') {
        const uint8_t *sp = memchr(p, ' ', len);
        size_t code_len = sp ? (size_t)(sp - p) : len;
        h[0] = hdr(":message-type", "error", 5);
        h[1] = hdr(":error-code", (const char *)p, code_len);
        h[2] = hdr(":error-message", sp ? (const char *)sp + 1 : "",
                   sp ? len - code_len - 1 : 0);
        put(b, h, 3, NULL, 0, 0);
    } else if (kind == 'N') {
        h[0] = hdr(":content-type", "application/json", 16);
        put(b, h, 1, p, len, 0);
    }
}

static void build_records(dynbuf *b, const uint8_t *in, size_t len)
{
    while (len > 0) {
        const uint8_t *nl = memchr(in, '\n', len);
        size_t line = nl ? (size_t)(nl - in) : len;
        if (line > 0) put_record(b, in[0], in + 1, line - 1);
        if (!nl) break;
        in += line + 1;
        len -= line + 1;
    }
}

/* ---- running ------------------------------------------------------------- */

typedef struct outcome {
    strands_status feed, finish;
    strands_error feed_err, finish_err;
    char *message;          /* compact JSON dump of the message, or NULL */
    char stop[48];
    strands_usage usage;
    int64_t latency;
    dynbuf text;       /* text deltas, concatenated */
    dynbuf tools;      /* dumps of the on_tool_use arguments */
    size_t n_tools;
    int sent;
} outcome;

static void on_text(void *user, const char *text, size_t len)
{
    outcome *o = user;
    if (len == 0) abort();           /* empty deltas are not reported */
    if (dynbuf_append(&o->text, text, len) != STRANDS_OK) abort();
}

static void on_tool_use(void *user, const json_t *tool_use)
{
    outcome *o = user;
    if (!json_is_string(json_object_get(tool_use, "toolUseId")) ||
        !json_is_string(json_object_get(tool_use, "name")) ||
        !json_is_object(json_object_get(tool_use, "input")))
        abort();
    char *d = json_dumps(tool_use, JSON_COMPACT | JSON_SORT_KEYS);
    if (!d || dynbuf_puts(&o->tools, d) != STRANDS_OK ||
        dynbuf_puts(&o->tools, "\n") != STRANDS_OK)
        abort();
    free(d);
    o->n_tools++;
}

/* Sum of text block lengths and toolUse count of a finished message; aborts
 * when a content block is not one of the shapes the assembler builds.   */
static void content_stats(const json_t *msg, size_t *text, size_t *tools)
{
    *text = *tools = 0;
    if (!json_is_string(json_object_get(msg, "role"))) abort();
    json_t *content = json_object_get(msg, "content"), *b, *v;
    size_t i;
    if (!json_is_array(content)) abort();
    json_array_foreach(content, i, b) {
        if (json_object_size(b) != 1) abort();
        if ((v = json_object_get(b, "text"))) {
            if (!json_is_string(v) || json_string_length(v) == 0) abort();
            *text += json_string_length(v);
        } else if ((v = json_object_get(b, "toolUse"))) {
            if (!json_is_object(json_object_get(v, "input"))) abort();
            (*tools)++;
        } else if (!json_object_get(b, "reasoningContent")) {
            abort();
        }
    }
}

static void run(const uint8_t *in, size_t len, size_t first, size_t step,
                int tiny, outcome *o)
{
    memset(o, 0, sizeof *o);
    dynbuf_init(&o->text, SIZE_MAX / 2);
    dynbuf_init(&o->tools, SIZE_MAX / 2);
    cs_callbacks cb = {on_text, on_tool_use, o, NULL};
    cs_assembler *a = cs_assembler_new(&cb);
    if (!a) abort();
    if (tiny) cs_assembler_set_limits(a, 64, 3);
    size_t off = 0, n = first;
    while (o->feed == STRANDS_OK && off < len) {
        if (n > len - off) n = len - off;
        o->feed = cs_assembler_feed(a, in + off, n, &o->feed_err);
        off += n;
        n = step;
    }
    strands_model_response resp;
    o->finish = cs_assembler_finish(a, &resp, &o->finish_err);
    o->sent = cs_assembler_sent_anything(a);
    cs_assembler_free(a);
    if (o->feed != STRANDS_OK &&
        (o->finish != o->feed ||
         strcmp(o->finish_err.message, o->feed_err.message) != 0))
        abort();                     /* errors are sticky */
    if (o->finish != STRANDS_OK) {
        if (resp.message) abort();
        return;
    }
    size_t text, tools;
    content_stats(resp.message, &text, &tools);
    if (text != o->text.len || tools != o->n_tools) abort();
    if (o->sent != (o->text.len > 0 || o->n_tools > 0)) abort();
    o->message = json_dumps(resp.message, JSON_COMPACT | JSON_SORT_KEYS);
    if (!o->message) abort();
    memcpy(o->stop, resp.stop_reason, sizeof o->stop);
    o->usage = resp.usage;
    o->latency = resp.latency_ms;
    strands_model_response_cleanup(&resp);
}

static void outcome_cleanup(outcome *o)
{
    free(o->message);
    dynbuf_cleanup(&o->text);
    dynbuf_cleanup(&o->tools);
}

static int err_eq(const strands_error *x, const strands_error *y)
{
    return x->status == y->status && !strcmp(x->code, y->code) &&
           !strcmp(x->message, y->message);
}

static void same(const outcome *x, const outcome *y)
{
    if (x->feed != y->feed || x->finish != y->finish ||
        (x->feed != STRANDS_OK && !err_eq(&x->feed_err, &y->feed_err)) ||
        (x->finish != STRANDS_OK && !err_eq(&x->finish_err, &y->finish_err)) ||
        (!x->message) != (!y->message) ||
        (x->message && strcmp(x->message, y->message) != 0) ||
        strcmp(x->stop, y->stop) != 0 ||
        x->usage.input_tokens != y->usage.input_tokens ||
        x->usage.output_tokens != y->usage.output_tokens ||
        x->usage.total_tokens != y->usage.total_tokens ||
        x->latency != y->latency || x->sent != y->sent ||
        x->text.len != y->text.len || x->n_tools != y->n_tools ||
        memcmp(dynbuf_str(&x->text), dynbuf_str(&y->text),
               x->text.len) != 0 ||
        strcmp(dynbuf_str(&x->tools), dynbuf_str(&y->tools)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    int raw = data[1] & 1, tiny = (data[1] & 2) != 0;
    dynbuf body;
    dynbuf_init(&body, 64u * 1024 * 1024);
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    if (!raw) {
        build_records(&body, in, len);
        in = (const uint8_t *)body.data;
        len = body.len;
    }
    size_t split = len * data[0] / 255;
    outcome whole, two, bytes;
    run(in, len, len, len, tiny, &whole);
    run(in, len, split, len, tiny, &two);
    same(&whole, &two);
    outcome_cleanup(&two);
    if (len <= 8192) {
        run(in, len, 1, 1, tiny, &bytes);
        same(&whole, &bytes);
        outcome_cleanup(&bytes);
    }
    outcome_cleanup(&whole);
    dynbuf_cleanup(&body);
    return 0;
}
