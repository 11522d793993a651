/* Incremental SSE decoding: bytes -> lines (CR, LF, CRLF) -> fields ->
 * events, with a line cap, an event cap and a sticky error.            */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "net/sse_decoder.h"

struct net_sse_decoder {
    net_sse_event_fn *fn;
    void *user;
    size_t max_line, max_event;
    dynbuf line;     /* partial line carried across chunks */
    dynbuf data;     /* data of the event being built */
    dynbuf type;     /* its event type ("" = message) */
    dynbuf id;       /* last event id; persists */
    long retry_ms;
    int skip_lf;          /* the previous chunk ended with CR */
    int bom_checked;      /* the stream start has been examined */
    unsigned char bom[3]; /* bytes held while checking for a BOM */
    size_t n_bom;
    strands_status failed;
    strands_error fail_err;
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

net_sse_decoder *net_sse_decoder_new(size_t max_line, size_t max_event,
                                     net_sse_event_fn *fn, void *user)
{
    net_sse_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->fn = fn;
    d->user = user;
    d->max_line = max_line ? max_line : NET_SSE_DEFAULT_MAX_LINE;
    d->max_event = max_event ? max_event : NET_SSE_DEFAULT_MAX_EVENT;
    dynbuf_init(&d->line, d->max_line);
    dynbuf_init(&d->data, d->max_event);
    dynbuf_init(&d->type, d->max_event);
    dynbuf_init(&d->id, d->max_line);
    d->retry_ms = -1;
    return d;
}

void net_sse_decoder_free(net_sse_decoder *d)
{
    if (!d) return;
    dynbuf_cleanup(&d->line);
    dynbuf_cleanup(&d->data);
    dynbuf_cleanup(&d->type);
    dynbuf_cleanup(&d->id);
    free(d);
}

/* Records the sticky error (once) and returns its status. */
static strands_status fail(net_sse_decoder *d, strands_status st,
                           const char *what)
{
    if (d->failed) return d->failed;
    d->failed = st;
    if (st == STRANDS_E_TOO_LARGE && !strcmp(what, "line"))
        strands_error_set(&d->fail_err, st, "SseLineTooLong",
                          "SSE line longer than %zu bytes", d->max_line);
    else if (st == STRANDS_E_TOO_LARGE)
        strands_error_set(&d->fail_err, st, "SseEventTooLarge",
                          "SSE event larger than %zu bytes", d->max_event);
    else if (st == STRANDS_E_CANCELLED)
        strands_error_set(&d->fail_err, st, "Cancelled",
                          "SSE decoding stopped by the event callback");
    else
        strands_error_set(&d->fail_err, st, NULL,
                          "out of memory decoding SSE");
    return st;
}

static strands_status report(net_sse_decoder *d, strands_error *err)
{
    if (err && d->failed) *err = d->fail_err;
    return d->failed;
}

/* The event buffers' combined size, checked against max_event. */
static strands_status add_to_event(net_sse_decoder *d, dynbuf *b,
                                   const char *p, size_t n)
{
    size_t other = b == &d->data ? d->type.len : d->data.len;
    if (n > d->max_event || b->len + other > d->max_event - n)
        return fail(d, STRANDS_E_TOO_LARGE, "event");
    strands_status st = dynbuf_append(b, p, n);
    return st == STRANDS_OK ? st : fail(d, st, "event");
}

static strands_status dispatch(net_sse_decoder *d)
{
    if (d->data.len == 0) {
        dynbuf_cleanup(&d->type);
        return STRANDS_OK;
    }
    d->data.len--; /* the "\n" after the last data line */
    d->data.data[d->data.len] = '\0';
    net_sse_event ev = {
        .type = d->type.len ? dynbuf_str(&d->type) : "message",
        .data = dynbuf_str(&d->data),
        .data_len = d->data.len,
        .id = dynbuf_str(&d->id),
        .retry_ms = d->retry_ms,
    };
    int stop = d->fn ? d->fn(d->user, &ev) : 0;
    dynbuf_cleanup(&d->data);
    dynbuf_cleanup(&d->type);
    return stop ? fail(d, STRANDS_E_CANCELLED, "") : STRANDS_OK;
}

static int field_is(const char *f, size_t n, const char *name)
{
    return strlen(name) == n && !memcmp(f, name, n);
}

/* One complete line (without its end). */
static strands_status process_line(net_sse_decoder *d, const char *p,
                                   size_t n)
{
    if (n == 0) return dispatch(d);
    if (p[0] == ':') return STRANDS_OK; /* comment */
    const char *colon = memchr(p, ':', n);
    size_t flen = colon ? (size_t)(colon - p) : n;
    const char *v = colon ? colon + 1 : p + n;
    size_t vlen = (size_t)(p + n - v);
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (field_is(p, flen, "data")) {
        strands_status st = add_to_event(d, &d->data, v, vlen);
        return st == STRANDS_OK ? add_to_event(d, &d->data, "\n", 1) : st;
    }
    if (field_is(p, flen, "event")) {
        /* A type is handed out as a C string: one holding NUL can't be. */
        if (memchr(v, '\0', vlen)) return STRANDS_OK;
        dynbuf_cleanup(&d->type);
        return add_to_event(d, &d->type, v, vlen);
    }
    if (field_is(p, flen, "id")) {
        if (memchr(v, '\0', vlen)) return STRANDS_OK;
        dynbuf_cleanup(&d->id);
        strands_status st = dynbuf_append(&d->id, v, vlen);
        return st == STRANDS_OK ? st : fail(d, st, "line");
    }
    if (field_is(p, flen, "retry")) {
        long ms = 0;
        if (vlen == 0 || vlen > 12) return STRANDS_OK;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9') return STRANDS_OK;
            ms = ms * 10 + (v[i] - '0');
        }
        d->retry_ms = ms;
    }
    return STRANDS_OK; /* unknown field: ignored */
}

/* Splits bytes (the BOM already handled) into lines. */
static strands_status feed_lines(net_sse_decoder *d, const char *p, size_t n)
{
    size_t i = 0;
    if (d->skip_lf && n) {
        d->skip_lf = 0;
        if (p[0] == '\n') i = 1;
    }
    while (i < n && !d->failed) {
        size_t start = i;
        while (i < n && p[i] != '\n' && p[i] != '\r') i++;
        size_t len = i - start;
        if (d->line.len + len > d->max_line || len > d->max_line)
            return fail(d, STRANDS_E_TOO_LARGE, "line");
        if (i == n) { /* no line end yet: keep the partial line */
            strands_status st = dynbuf_append(&d->line, p + start, len);
            return st == STRANDS_OK ? st : fail(d, st, "line");
        }
        /* A line end at p[i]; a CR may be followed by an LF (maybe in
         * the next chunk). */
        if (p[i] == '\r') {
            if (i + 1 < n && p[i + 1] == '\n') i++;
            else if (i + 1 == n) d->skip_lf = 1;
        }
        i++;
        strands_status st;
        if (d->line.len) {
            st = dynbuf_append(&d->line, p + start, len);
            if (st != STRANDS_OK) return fail(d, st, "line");
            /* Copy out: process_line may reuse nothing of d->line, but
             * keep the buffer stable while it runs. */
            dynbuf whole = d->line;
            dynbuf_init(&d->line, d->max_line);
            st = process_line(d, whole.data, whole.len);
            dynbuf_cleanup(&whole);
        } else {
            st = process_line(d, p + start, len);
        }
        if (st != STRANDS_OK) return st;
    }
    return d->failed;
}

strands_status net_sse_feed(net_sse_decoder *d, const void *data, size_t n,
                            strands_error *err)
{
    const char *p = data;
    if (d->failed) return report(d, err);
    if (!d->bom_checked) {
        /* Hold up to three bytes until they are known not to be a BOM. */
        while (n && d->n_bom < 3 && (unsigned char)*p == BOM[d->n_bom]) {
            d->bom[d->n_bom++] = (unsigned char)*p++;
            n--;
        }
        if (d->n_bom < 3 && n == 0) return STRANDS_OK; /* undecided */
        d->bom_checked = 1;
        if (d->n_bom < 3 && d->n_bom > 0 &&
            feed_lines(d, (const char *)d->bom, d->n_bom) != STRANDS_OK)
            return report(d, err);
        d->n_bom = 0;
    }
    if (feed_lines(d, p, n) != STRANDS_OK) return report(d, err);
    return STRANDS_OK;
}

strands_status net_sse_finish(net_sse_decoder *d, strands_error *err)
{
    strands_status st = report(d, err);
    dynbuf_cleanup(&d->line);
    dynbuf_cleanup(&d->data);
    dynbuf_cleanup(&d->type);
    d->skip_lf = 0;
    d->bom_checked = 0;
    d->n_bom = 0;
    return st;
}

const char *net_sse_last_event_id(const net_sse_decoder *d)
{
    return dynbuf_str(&d->id);
}

long net_sse_retry_ms(const net_sse_decoder *d)
{
    return d->retry_ms;
}
