/* net/sse_decoder: the WHATWG rules one by one (fields, comments, BOM,
 * CR / LF / CRLF, joined data lines, id persistence, retry digits only,
 * empty-data and unterminated events), a rich stream fed whole, split at
 * EVERY byte position and fed byte by byte giving identical events, and
 * the caps (line, event) and callback stop as clear sticky errors.      */
#include "test.h"
#include "core/buf.h"
#include "net/sse_decoder.h"

/* Events as a transcript: "type|id|retry|<len>:data\n" per event. */
typedef struct rec {
    dynbuf t;
    int stop_after;  /* 0: never stop */
    int n;
} rec;

static int on_event(void *user, const net_sse_event *ev)
{
    rec *r = user;
    r->n++;
    if (dynbuf_printf(&r->t, "%s|%s|%ld|%zu:", ev->type, ev->id,
                           ev->retry_ms, ev->data_len) != STRANDS_OK ||
        dynbuf_append(&r->t, ev->data, ev->data_len) != STRANDS_OK ||
        dynbuf_puts(&r->t, "\n") != STRANDS_OK)
        abort();
    if (ev->data[ev->data_len] != '\0') abort();
    return r->stop_after && r->n >= r->stop_after;
}

/* Decodes s (n bytes) in chunks of `step` bytes (0: one chunk split at
 * `at`); returns the transcript (caller frees) and the final status. */
static char *decode(const char *s, size_t n, size_t step, size_t at,
                    strands_status *st_out)
{
    rec r = {.stop_after = 0};
    dynbuf_init(&r.t, 1 << 20);
    net_sse_decoder *d = net_sse_decoder_new(0, 0, on_event, &r);
    strands_error err;
    strands_status st = STRANDS_OK;
    if (step) {
        for (size_t i = 0; i < n && st == STRANDS_OK; i += step)
            st = net_sse_feed(d, s + i, n - i < step ? n - i : step, &err);
    } else {
        st = net_sse_feed(d, s, at, &err);
        if (st == STRANDS_OK) st = net_sse_feed(d, s + at, n - at, &err);
    }
    strands_status fin = net_sse_finish(d, &err);
    if (st == STRANDS_OK) st = fin;
    net_sse_decoder_free(d);
    *st_out = st;
    if (!r.t.data && dynbuf_puts(&r.t, "") != STRANDS_OK) abort();
    return dynbuf_take(&r.t, NULL);
}

static void expect(const char *stream, const char *want)
{
    strands_status st;
    char *got = decode(stream, strlen(stream), strlen(stream) + 1, 0, &st);
    CHECK_INT(st, STRANDS_OK);
    CHECK_STR(got, want);
    free(got);
}

static void test_fields(void)
{
    expect("data: hello\n\n", "message||-1|5:hello\n");
    /* Only one leading space is dropped; no space is fine too. */
    expect("data:  two\n\ndata:x\n\n",
           "message||-1|4: two\nmessage||-1|1:x\n");
    /* Multi-line data joined with \n; event type; comments ignored. */
    expect(": comment\nevent: update\ndata: a\n: more\ndata: b\n\n",
           "update||-1|3:a\nb\n");
    /* The type resets after dispatch; id persists. */
    expect("id: 7\nevent: x\ndata: 1\n\ndata: 2\n\n",
           "x|7|-1|1:1\nmessage|7|-1|1:2\n");
    /* A field without a colon has an empty value: "data" alone is an
     * event with empty data; "id" alone clears the id. */
    expect("id: 5\ndata\n\nid\ndata: z\n\n",
           "message|5|-1|0:\nmessage||-1|1:z\n");
    /* retry: digits only; unknown fields ignored. */
    expect("retry: 3000\nfoo: bar\ndata: r\n\nretry: 12a\ndata: s\n\n",
           "message||3000|1:r\nmessage||3000|1:s\n");
    /* No data: nothing dispatched (event field alone). */
    expect("event: ping\n\n\n\n", "");
    /* Unterminated event at the end: discarded. */
    expect("data: complete\n\ndata: cut off\n", "message||-1|8:complete\n");
    /* An id holding NUL is ignored. */
    char nul[] = "id: 1\n\ndata: q\n\nid: a\0b\ndata: w\n\n";
    strands_status st;
    char *got = decode(nul, sizeof nul - 1, 100, 0, &st);
    CHECK_STR(got, "message|1|-1|1:q\nmessage|1|-1|1:w\n");
    free(got);
    /* So is an event type holding NUL (types are C strings). */
    char nt[] = "event: a\0b\ndata: t\n\n";
    got = decode(nt, sizeof nt - 1, 100, 0, &st);
    CHECK_STR(got, "message||-1|1:t\n");
    free(got);
    /* Data may hold a NUL byte; data_len says how much. */
    char dn[] = "data: a\0b\n\n";
    got = decode(dn, sizeof dn - 1, 100, 0, &st);
    CHECK_MEM(got, 18, "message||-1|3:a\0b\n", 18);
    free(got);
}

static void test_line_endings_and_bom(void)
{
    expect("data: a\r\rdata: b\r\n\r\ndata: c\n\n",
           "message||-1|1:a\nmessage||-1|1:b\nmessage||-1|1:c\n");
    expect("\xEF\xBB\xBF" "data: bom\n\n", "message||-1|3:bom\n");
    /* Only ONE leading BOM is dropped; a second is part of the name. */
    expect("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n",
           "message||-1|1:y\n");
    /* A partial BOM is ordinary text (here an unknown field). */
    expect("\xEF\xBB" "data: x\n\ndata: y\n\n", "message||-1|1:y\n");
}

static const char rich[] =
    "\xEF\xBB\xBF: opening comment\r\n"
    "retry: 2500\r\n"
    "id: first\r\n"
    "event: start\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "data: line one\r"
    "data: line two\r"
    "\r"
    "event: delta\n"
    "data:no-space\n"
    "data:  two spaces\n"
    "id: 42\n"
    "\n"
    "ignored-field: 1\n"
    "data\n"
    "\n"
    ":keep-alive\n\n"
    "event: end\r\ndata: \xE2\x9C\x93 done\r\n\r\n"
    "data: tail never dispatched";

static const char rich_events[] =
    "start|first|2500|7:{\"a\":1}\n"
    "message|first|2500|17:line one\nline two\n"
    "delta|42|2500|20:no-space\n two spaces\n"
    "message|42|2500|0:\n"
    "end|42|2500|8:\xE2\x9C\x93 done\n";

static void test_split_at_every_byte(void)
{
    size_t n = sizeof rich - 1;
    strands_status st;
    char *whole = decode(rich, n, n, 0, &st);
    CHECK_INT(st, STRANDS_OK);
    CHECK_STR(whole, rich_events);
    for (size_t at = 0; at <= n; at++) {
        char *got = decode(rich, n, 0, at, &st);
        CHECK_INT(st, STRANDS_OK);
        if (strcmp(got, whole)) FAIL_AT("split at %zu differs:\n%s", at, got);
        free(got);
    }
    for (size_t step = 1; step <= 7; step++) {
        char *got = decode(rich, n, step, 0, &st);
        if (strcmp(got, whole))
            FAIL_AT("chunks of %zu differ:\n%s", step, got);
        free(got);
    }
    free(whole);
}

static void test_caps(void)
{
    rec r = {.stop_after = 0};
    dynbuf_init(&r.t, 1 << 20);
    net_sse_decoder *d = net_sse_decoder_new(16, 32, on_event, &r);
    strands_error err;
    /* A line of exactly 16 bytes is fine, fed in pieces. */
    CHECK_INT(net_sse_feed(d, "data: 0123", 10, &err), STRANDS_OK);
    CHECK_INT(net_sse_feed(d, "456789\n\n", 8, &err), STRANDS_OK);
    CHECK_INT(r.n, 1);
    /* 17 bytes is not, even before its end arrives. */
    CHECK_INT(net_sse_feed(d, "data: 01234", 11, &err), STRANDS_OK);
    CHECK_INT(net_sse_feed(d, "567890", 6, &err), STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SseLineTooLong");
    CHECK_STR(err.message, "SSE line longer than 16 bytes");
    /* Sticky. */
    CHECK_INT(net_sse_feed(d, "\n\n", 2, &err), STRANDS_E_TOO_LARGE);
    CHECK_INT(net_sse_finish(d, &err), STRANDS_E_TOO_LARGE);
    net_sse_decoder_free(d);

    /* Short lines, but too much data for one event. */
    d = net_sse_decoder_new(16, 32, on_event, &r);
    strands_status st = STRANDS_OK;
    for (int i = 0; i < 10 && st == STRANDS_OK; i++)
        st = net_sse_feed(d, "data: 12345678\n", 15, &err);
    CHECK_INT(st, STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SseEventTooLarge");
    CHECK_STR(err.message, "SSE event larger than 32 bytes");
    CHECK_INT(r.n, 1);  /* nothing more was dispatched */
    net_sse_decoder_free(d);
    dynbuf_cleanup(&r.t);
}

static void test_callback_stop(void)
{
    rec r = {.stop_after = 2};
    dynbuf_init(&r.t, 1 << 20);
    net_sse_decoder *d = net_sse_decoder_new(0, 0, on_event, &r);
    strands_error err;
    const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    CHECK_INT(net_sse_feed(d, s, strlen(s), &err), STRANDS_E_CANCELLED);
    CHECK_INT(r.n, 2);
    CHECK_INT(net_sse_feed(d, s, strlen(s), &err), STRANDS_E_CANCELLED);
    CHECK_INT(r.n, 2);
    net_sse_decoder_free(d);
    dynbuf_cleanup(&r.t);
}

static void test_reconnect_keeps_id_and_retry(void)
{
    rec r = {.stop_after = 0};
    dynbuf_init(&r.t, 1 << 20);
    net_sse_decoder *d = net_sse_decoder_new(0, 0, on_event, &r);
    strands_error err;
    const char *a = "retry: 10\nid: 9\ndata: x\n\ndata: half";
    CHECK_INT(net_sse_feed(d, a, strlen(a), &err), STRANDS_OK);
    CHECK_INT(net_sse_finish(d, &err), STRANDS_OK);
    CHECK_STR(net_sse_last_event_id(d), "9");
    CHECK_INT(net_sse_retry_ms(d), 10);
    const char *b = "data: y\n\n";
    CHECK_INT(net_sse_feed(d, b, strlen(b), &err), STRANDS_OK);
    CHECK_STR(dynbuf_str(&r.t),
              "message|9|10|1:x\nmessage|9|10|1:y\n");
    net_sse_decoder_free(d);
    dynbuf_cleanup(&r.t);
}

int main(void)
{
    RUN(test_fields);
    RUN(test_line_endings_and_bom);
    RUN(test_split_at_every_byte);
    RUN(test_caps);
    RUN(test_callback_stop);
    RUN(test_reconnect_keeps_id_and_retry);
    return test_report();
}
