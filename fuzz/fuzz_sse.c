/* libFuzzer target for the incremental SSE decoder (src/net/sse_decoder.c):
 * the input is decoded whole, split in two at a position taken from the
 * input, and byte by byte (small inputs); all three must give the same
 * events and status. A second pass with tiny caps must end in OK or a
 * clean E_TOO_LARGE. Never crash, leak, hang or read out of bounds.    */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/sse_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(void *user, const net_sse_event *ev)
{
    dynbuf *t = user;
    if (ev->data[ev->data_len] != '\0' || !ev->type[0]) abort();
    if (dynbuf_printf(t, "%s|%s|%ld|%zu:", ev->type, ev->id,
                           ev->retry_ms, ev->data_len) != STRANDS_OK ||
        dynbuf_append(t, ev->data, ev->data_len) != STRANDS_OK)
        abort();
    return 0;
}

/* Decodes in chunks of `step` (0: two chunks split at `at`). */
static strands_status run(const uint8_t *p, size_t n, size_t step,
                          size_t at, size_t max_line, size_t max_event,
                          dynbuf *t)
{
    dynbuf_init(t, 64u << 20);
    net_sse_decoder *d = net_sse_decoder_new(max_line, max_event, on_event,
                                             t);
    if (!d) abort();
    strands_error err;
    strands_status st = STRANDS_OK;
    if (step) {
        for (size_t i = 0; i < n && st == STRANDS_OK; i += step)
            st = net_sse_feed(d, p + i, n - i < step ? n - i : step, &err);
    } else {
        st = net_sse_feed(d, p, at, &err);
        if (st == STRANDS_OK) st = net_sse_feed(d, p + at, n - at, &err);
    }
    strands_status fin = net_sse_finish(d, &err);
    if (fin != st) abort(); /* finish reports the sticky error */
    net_sse_decoder_free(d);
    return st;
}

static int same(const dynbuf *a, const dynbuf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dynbuf whole, split, bytes;
    strands_status a = run(data, size, size ? size : 1, 0, 0, 0, &whole);
    size_t at = size ? (size_t)data[0] * 7919u % (size + 1) : 0;
    strands_status b = run(data, size, 0, at, 0, 0, &split);
    if (a != b || !same(&whole, &split)) abort();
    if (size <= 4096) {
        strands_status c = run(data, size, 1, 0, 0, 0, &bytes);
        if (a != c || !same(&whole, &bytes)) abort();
        dynbuf_cleanup(&bytes);
    }
    dynbuf_cleanup(&whole);
    dynbuf_cleanup(&split);
    strands_status small = run(data, size, 3, 0, 8, 16, &whole);
    if (small != STRANDS_OK && small != STRANDS_E_TOO_LARGE) abort();
    dynbuf_cleanup(&whole);
    return 0;
}
