/* libFuzzer target for the Streamable HTTP reply parser
 * (src/mcp/http_reply.c). The first input byte picks the mode: bit 0 set
 * = an SSE body (text/event-stream), clear = a JSON body; bit 1 = wait for
 * the response with id 1 (the stream is not read past it); bit 2 = a tiny
 * message cap (64 bytes). The rest is the body. It is parsed whole, split
 * in two at a position taken from the input, and byte by byte (small
 * inputs): all must deliver the same messages and end in the same status,
 * which must be OK, E_PARSE or E_TOO_LARGE. Never crash, leak or hang. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mcp/http_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_message(void *user, json_t *msg)
{
    dynbuf *t = user;
    if (!json_is_object(msg)) abort();
    char *s = json_dumps(msg, JSON_SORT_KEYS | JSON_COMPACT);
    if (!s || dynbuf_puts(t, s) != STRANDS_OK ||
        dynbuf_puts(t, "\n") != STRANDS_OK)
        abort();
    free(s);
    json_decref(msg); /* ours */
}

/* Parses p[0..n) in chunks of `step` (0: two chunks split at `at`). */
static strands_status run(int sse, const json_t *want, size_t cap,
                          const uint8_t *p, size_t n, size_t step,
                          size_t at, dynbuf *t)
{
    dynbuf_init(t, 256u << 20);
    mcp_http_reply r;
    strands_error err;
    if (mcp_http_reply_init(&r, sse ? "text/event-stream; charset=utf-8"
                                    : "application/json",
                            cap, want, on_message, t, &err) != STRANDS_OK)
        abort();
    strands_status st = STRANDS_OK;
    if (step) {
        for (size_t i = 0; i < n && st == STRANDS_OK; i += step)
            st = mcp_http_reply_feed(&r, p + i, n - i < step ? n - i : step,
                                     &err);
    } else {
        st = mcp_http_reply_feed(&r, p, at, &err);
        if (st == STRANDS_OK)
            st = mcp_http_reply_feed(&r, p + at, n - at, &err);
    }
    if (st == STRANDS_OK) st = mcp_http_reply_finish(&r, &err);
    if (st != STRANDS_OK && st != STRANDS_E_PARSE && st != STRANDS_E_TOO_LARGE)
        abort();
    if (st != STRANDS_OK && err.status != st) abort();
    mcp_http_reply_cleanup(&r);
    return st;
}

static int same(const dynbuf *a, const dynbuf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int sse = data[0] & 1;
    json_t *want = (data[0] & 2) ? json_integer(1) : NULL;
    size_t cap = (data[0] & 4) ? 64 : 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    dynbuf whole, split, bytes;
    strands_status a = run(sse, want, cap, p, n, n ? n : 1, 0, &whole);
    size_t at = n ? (size_t)data[0] * 7919u % (n + 1) : 0;
    strands_status b = run(sse, want, cap, p, n, 0, at, &split);
    if (a != b || !same(&whole, &split)) abort();
    if (n <= 4096) {
        strands_status c = run(sse, want, cap, p, n, 1, 0, &bytes);
        if (a != c || !same(&whole, &bytes)) abort();
        dynbuf_cleanup(&bytes);
    }
    dynbuf_cleanup(&whole);
    dynbuf_cleanup(&split);
    json_decref(want);
    return 0;
}
