/* The one Server-Sent Events body every streaming encoder uses (the
 * /invocations SSE stream, MCP's invoke_agent progress, A2A streaming,
 * AG-UI): libmicrohttpd's content reader pops the runner's events, hands
 * each to the encoder, which appends its frames, sends them, writes a
 * `: keep-alive` comment after the keep-alive interval of silence, and
 * notices a client that hangs up (the socket is watched while waiting),
 * which cancels the invocation. The encoder says what the events become
 * (sse_pump_ops); the pump owns the flow and the end of the runner.    */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/runner.h"
#include "strands/clock.h"

/* Frames waiting to be sent, at most (an encoder that appends more ends
 * the stream: it is a bug or a hostile model output). */
#define SSE_PUMP_MAX_BYTES ((size_t)64 << 20)

typedef struct sse_pump {
    runner *r;
    int fd;                     /* the connection's socket, -1 if unknown */
    long keepalive_ms;
    int64_t last_output_ms;
    const sse_pump_ops *ops;
    void *user;
    dynbuf out;                 /* frames not yet handed out */
    size_t off;
    int ended;                  /* the last frame is in `out` */
} sse_pump;

/* Hands out the next bytes of `out`; 0 when there are none. */
static size_t drain(sse_pump *p, char *buf, size_t max)
{
    size_t n = p->out.len - p->off;
    if (!n) return 0;
    if (n > max) n = max;
    memcpy(buf, p->out.data + p->off, n);
    p->off += n;
    if (p->off == p->out.len) { /* all sent: start over (and shrink) */
        dynbuf_cleanup(&p->out);
        dynbuf_init(&p->out, SSE_PUMP_MAX_BYTES);
        p->off = 0;
    }
    p->last_output_ms = strands_clock_mono_ms();
    return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_pump *p = cls;
    for (;;) {
        size_t n = drain(p, buf, max);
        if (n) return (ssize_t)n;
        if (p->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        int64_t left = p->keepalive_ms -
                       (strands_clock_mono_ms() - p->last_output_ms);
        if (left <= 0) {
            static const char ka[] = ": keep-alive\n\n";
            n = sizeof ka - 1 < max ? sizeof ka - 1 : max;
            memcpy(buf, ka, n);
            p->last_output_ms = strands_clock_mono_ms();
            return (ssize_t)n;
        }
        runner_event *ev = NULL;
        int rc = 0;
        switch (runner_next(p->r, (long)left, p->fd, &ev)) {
        case RUNNER_EVENT:
            rc = p->ops->event(p->user, ev, &p->out);
            runner_event_free(ev);
            break;
        case RUNNER_END:
            rc = p->ops->end(p->user, p->r, &p->out);
            if (rc == 0) rc = 1;
            break;
        case RUNNER_HANGUP:
            runner_cancel(p->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        default:
            break; /* timeout: a keep-alive is due */
        }
        if (rc > 0) p->ended = 1; /* what is in `out` is the last */
        if (rc < 0) {
            runner_cancel(p->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
}

/* The response is gone (sent, or the connection closed). */
static void reader_free(void *cls)
{
    sse_pump *p = cls;
    if (p->ops->free) p->ops->free(p->user, p->r);
    runner_release(p->r);
    dynbuf_cleanup(&p->out);
    free(p);
}

int sse_pump_wait_started(handler_ctx *h, runner *r, enum MHD_Result *ret)
{
    /* Wait for the first event, so a failure before it (busy session,
     * no credentials) still gets its own HTTP status. */
    runner_wait w = runner_wait_started(r, -1, h->fd);
    if (w == RUNNER_HANGUP) {
        runner_release(r);
        *ret = MHD_NO;
        return 0;
    }
    const runner_outcome *o = runner_get_outcome(r);
    if (w == RUNNER_END && o && o->status != STRANDS_OK && !o->started) {
        *ret = server_send_agent_error(h->conn, h->req, &o->error);
        runner_release(r);
        return 0;
    }
    return 1;
}

int sse_pump_frame(dynbuf *out, const char *prefix, json_t *doc)
{
    size_t len = 0;
    char *text = server_json_text(doc, &len);
    json_decref(doc);
    if (!text) return -1;
    int ok = dynbuf_puts(out, prefix) == STRANDS_OK &&
             dynbuf_append(out, text, len) == STRANDS_OK &&
             dynbuf_puts(out, "\n\n") == STRANDS_OK;
    free(text);
    return ok ? 0 : -1;
}

enum MHD_Result sse_pump_start(handler_ctx *h, runner *r,
                               const sse_pump_ops *ops, void *user,
                               const char *hname, const char *hvalue,
                               dynbuf *preface)
{
    sse_pump *p = calloc(1, sizeof *p);
    if (!p) {
        if (preface) dynbuf_cleanup(preface);
        if (ops->free) ops->free(user, r);
        runner_release(r);
        return server_send_error(h->conn, h->req, 500, "InternalError",
                                 "out of memory");
    }
    p->r = r;
    p->fd = h->fd;
    p->keepalive_ms = h->limits->sse_keepalive_s * 1000L;
    p->last_output_ms = strands_clock_mono_ms();
    p->ops = ops;
    p->user = user;
    dynbuf_init(&p->out, SSE_PUMP_MAX_BYTES);
    if (preface) { /* the frames that open the stream, moved in */
        p->out = *preface;
        p->out.max = SSE_PUMP_MAX_BYTES;
        dynbuf_init(preface, 0);
    }
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, reader, p, reader_free);
    if (!resp) {
        reader_free(p);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    if (hname && hvalue) MHD_add_response_header(resp, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(h->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    h->req->status = 200;
    return ret;
}
